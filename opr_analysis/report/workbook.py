"""The report's tables as one Excel workbook for the registry's staff (``arsrapport-YYYY-tabeller.xlsx``).

Rules:

- One sheet per table of ``opr tables``
  (:func:`opr_analysis.stats.export.published_tables`), in that order, named in Norwegian (:data:`SHEETS`). Row lists about single
  patients (a ``patient_id`` column) are left out, as in the report.
- Row 1 holds Norwegian column headings (:func:`heading`); the rows below are
  the tidy rows of the CSV, unchanged: numbers are numbers, with Norwegian
  display formats (whole numbers with thousands separator, shares as
  percentages with one decimal, other decimals with two); Excel shows them with
  the reader's own separators (space and comma in Norwegian Excel).
- Cells the report hides are hidden here too, with the report's symbols: in
  the patient-level baseline rate a count below ``min_cell`` shows «<5», a
  count hidden because a sum would reveal it «×», and the share and its
  interval «–» (:mod:`.suppression`). Columns that only compare with the seed
  report (``seed_response_share``, ``difference``) are left out there, since
  they would give the hidden share away. The patients' rights tables hide their cells by the rule of
  their report tables (:data:`opr_analysis.report.rights_tables.WORKBOOK_SHEETS`).
- The file is byte-identical for the same tables (fixed zip times and dates,
  :func:`opr_analysis.extracts.writers.normalise_zip`).
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import pandas as pd

from ..formatting import MISSING
from .gt_tables import COLUMN_LABELS
from .rights_tables import WORKBOOK_SHEETS as RIGHTS_SHEETS
from .suppression import SECONDARY, suppress_wide, suppressed_label

__all__ = ["SHEETS", "heading", "workbook_frames", "write_workbook"]

SHEETS = {
    "referrals_assessed": "Henvisninger vurdert",
    "referrals_by_region": "Henvisninger per region",
    "baseline_response": "Baselinesvar",
    "legacy_baseline_response": "OPRv1 baselinesvar",
    "completion_time": "Tidsbruk baseline",
    "short_form_reasons": "Kortversjon årsaker",
    "followup_response": "Oppfølgingsskjemaer",
    "followup_response_totals": "Oppfølgingsskjemaer i alt",
    "baseline_response_patient_level": "Baselinesvar per innskriving",
    "trend_tests": "Trendtester",
    "quality_closed_in_dips": "Avsluttet i DIPS",
    "quality_missing": "Blanke felt",
    "quality_multiple_enrolments": "Flere innskrivinger",
    "quality_multiple_baselines": "Flere baselineskjemaer",
    "quality_baseline_after_consultation": "Baseline etter konsultasjon",
    "rights_requests": "Krav fra pasienter",
    "rights_reservation_share": "Reservert eller slettet",
}
LABELS = {
    **COLUMN_LABELS,
    "assessed": "Vurdert",
    "rejected": "Avvist",
    "rejected_share": "Andel avvist",
    "decision": "Vedtak",
    "region": "Helseregion",
    "n": "Antall",
    "share": "Andel",
    "denominator": "Nevner",
    "response_share": "Svarandel",
    "new_patients": "Nye pasienter (DIPS)",
    "period": "Periode",
    "min_ms": "Minste tid (ms)",
    "q1_ms": "1. kvartil (ms)",
    "median_ms": "Median (ms)",
    "q3_ms": "3. kvartil (ms)",
    "max_ms": "Lengste tid (ms)",
    "min_hms": "Minste tid",
    "q1_hms": "1. kvartil",
    "median_hms": "Median",
    "q3_hms": "3. kvartil",
    "max_hms": "Lengste tid",
    "reason": "Årsak",
    "kind": "Type oppfølging",
    "owed": "Skyldige",
    "sent": "Sendt",
    "sent_owed": "Sendt av skyldige",
    "not_sent": "Ikke sendt",
    "sent_not_owed": "Sendt, ikke skyldige",
    "responded": "Besvart",
    "enrolments_with_baseline": "Innskrivinger med baselinesvar",
    "indicator": "Indikator",
    "first_year": "Første år",
    "last_year": "Siste år",
    "years": "Antall år",
    "trials": "Antall",
    "successes": "Antall med utfallet",
    "odds_ratio_per_year": "Oddsratio per år",
    "odds_ratio": "Oddsratio",
    "p_value": "p-verdi",
    "method": "Metode",
}
SEED_ONLY = ("seed_response_share", "difference")
INT_FORMAT, SHARE_FORMAT, DECIMAL_FORMAT = "#,##0", "0.0 %", "#,##0.00"


def heading(column: str) -> str:
    """The Norwegian heading of a tidy column.

    >>> heading("rejected_share_ci_low"), heading("owed")
    ('Andel avvist, nedre grense 95 % KI', 'Skyldige')
    """
    for suffix, text in (("_ci_low", "nedre grense 95 % KI"), ("_ci_high", "øvre grense 95 % KI")):
        if column.endswith(suffix):
            return f"{heading(column.removesuffix(suffix))}, {text}"
    return LABELS.get(column, column.replace("_", " ").capitalize())


def _patient_level(frame: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    """The patient-level baseline rate with the report's hidden cells as symbols (object columns)."""
    f = frame.drop(columns=[c for c in SEED_ONLY if c in frame.columns]).astype(object)
    wide = frame.assign(without=frame["enrolments"] - frame["enrolments_with_baseline"])
    hidden = suppress_wide(wide, [("enrolments", ["enrolments_with_baseline", "without"])], min_cell)
    for col in ("enrolments", "enrolments_with_baseline"):
        small = frame[col] < min_cell
        f.loc[hidden[col], col] = [suppressed_label(min_cell) if s else SECONDARY for s in small[hidden[col]]]
    share_hidden = hidden["enrolments_with_baseline"]
    for col in ("response_share", "response_share_ci_low", "response_share_ci_high"):
        f.loc[share_hidden, col] = MISSING
    return f


def workbook_frames(tables: dict[str, pd.DataFrame], min_cell: int = 5) -> dict[str, pd.DataFrame]:
    """table name -> the frame its sheet shows (hidden cells as the report's symbols)."""
    frames = {}
    for name, frame in tables.items():
        if "patient_id" in frame.columns:
            continue
        if name == "baseline_response_patient_level":
            frame = _patient_level(frame, min_cell)
        # --- patients' rights requests (issue 26): hidden as in the report, by the report's own rule ---
        if name in RIGHTS_SHEETS:
            frame = RIGHTS_SHEETS[name](frame, min_cell)
        # --- end patients' rights requests ---
        frames[name] = frame.reset_index(drop=True)
    return frames


def _format(column: str, values: pd.Series) -> str | None:
    if "share" in column.split("_"):
        return SHARE_FORMAT
    numbers = pd.to_numeric(values, errors="coerce").dropna()
    if numbers.empty:
        return None
    return INT_FORMAT if (numbers == numbers.round()).all() else DECIMAL_FORMAT


def _cell(value):
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def write_workbook(tables: dict[str, pd.DataFrame], path: str | Path, min_cell: int = 5, title: str = "") -> Path:
    """Write the workbook (see module docstring) and return its path."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    from ..extracts.writers import FIXED_TIME, normalise_zip

    wb = Workbook()
    wb.remove(wb.active)
    for name, frame in workbook_frames(tables, min_cell).items():
        ws = wb.create_sheet(SHEETS.get(name, name)[:31])
        ws.append([heading(c) for c in frame.columns])
        for cell in ws[1]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for row in frame.itertuples(index=False):
            ws.append([_cell(v) for v in row])
        for j, col in enumerate(frame.columns, start=1):
            fmt = _format(col, frame[col])
            letter = ws.cell(row=1, column=j).column_letter
            ws.column_dimensions[letter].width = max(10, min(40, len(heading(col)) + 2))
            for i in range(2, len(frame) + 2):
                cell = ws.cell(row=i, column=j)
                if isinstance(cell.value, int | float) and not isinstance(cell.value, bool):
                    if fmt:
                        cell.number_format = fmt
                elif isinstance(cell.value, str) and fmt:
                    cell.alignment = Alignment(horizontal="right")  # a hidden count sits where its number would
        ws.freeze_panes = "A2"
    wb.properties.creator = "OUS smerteregister"
    wb.properties.title = title
    wb.properties.created = FIXED_TIME
    buf = io.BytesIO()
    wb.save(buf)
    path = Path(path)
    normalise_zip(buf.getvalue(), path)
    return path
