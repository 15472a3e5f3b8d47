"""The report's tables as one Excel workbook for the registry's staff (``arsrapport-YYYY-tabeller.xlsx``).

Everything comes from the table declarations (:mod:`opr_analysis.stats.table_registry`):

- One sheet per published table of ``opr tables``
  (:func:`opr_analysis.stats.export.published_tables`), in that order, named by
  the declaration's ``sheet`` (readable Norwegian, at most 31 characters). Row
  lists about single patients (:class:`~opr_analysis.stats.table_registry.StaffList`)
  are left out, as in the report.
- Row 1 holds the declared Norwegian headings (:meth:`Table.heading
  <opr_analysis.stats.table_registry.Table.heading>`); the rows below are the
  tidy rows of the CSV with coded values in words (the declared labels, as the
  report shows them). Numbers are numbers, with Norwegian display formats by the
  declared unit (counts: whole numbers with thousands separator; shares:
  percentages with one decimal; others: as the values need); Excel shows them
  with the reader's own separators (space and comma in Norwegian Excel).
- Cells are those every publication shows (:func:`~.suppression.publish`):
  in a patient-count table a hidden count shows «×» and a hidden share or limit
  «–», exactly as in the report (the patient-count tables suppressed together,
  :func:`~.suppression.hidden_tables`, or the report's ``masks`` when given);
  columns kept for the CSV only (the seed comparison, which would give a hidden
  share away) are left out.
- A unit's workbook (``opr report --unit``) is computed from that unit's rows, and
  hides what that unit's report hides (:mod:`.unit_disclosure`: with several
  units, every unit's publications and the whole registry's are suppressed
  together).
- The file is byte-identical for the same tables (fixed zip times and dates,
  :func:`opr_analysis.extracts.writers.normalise_zip`).
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import pandas as pd

from ..stats.table_registry import COUNT, SHARE, get, missing_declarations
from .publication import labelled
from .suppression import Hidden, hidden_tables, publish

__all__ = ["heading", "sheet_name", "workbook_frames", "write_workbook"]

INT_FORMAT, SHARE_FORMAT, DECIMAL_FORMAT = "#,##0", "0.0 %", "#,##0.00"


def heading(table: str, column: str) -> str:
    """The Norwegian heading of ``column`` of the published table ``table`` (its declaration).

    >>> heading("referrals_assessed", "rejected_share_ci_low"), heading("followup_response", "owed")
    ('Andel avvist, nedre grense 95 % KI', 'Skyldige')
    """
    return get(table).heading(column)


def sheet_name(table: str) -> str:
    """The sheet of ``table`` (its declaration; ValueError naming what is missing when it has none)."""
    t = get(table)
    if not t.sheet:
        raise ValueError("; ".join(missing_declarations(t)) or f"{table}: no workbook sheet")
    return t.sheet


def workbook_frames(
    tables: dict[str, pd.DataFrame], min_cell: int = 5, masks: dict[str, Hidden] | None = None
) -> dict[str, pd.DataFrame]:
    """table name -> the frame its sheet shows: published cells, coded values in words (module docstring).
    ``masks``: the report's hidden cells (:attr:`~.publication.Publication.masks`); default: ``tables``'
    patient-count tables suppressed together."""
    if masks is None:
        masks = hidden_tables(tables, min_cell) if min_cell > 1 else {}
    frames = {}
    for name, frame in tables.items():
        table = get(name)
        if not table.published:
            continue
        missing = missing_declarations(table, list(frame.columns))
        if missing:
            raise ValueError("; ".join(missing))
        frames[name] = labelled(table, publish(table, frame, min_cell, masks.get(name))).reset_index(drop=True)
    return frames


def _format(unit: str, values: pd.Series) -> str | None:
    if unit == SHARE:
        return SHARE_FORMAT
    if unit == COUNT:
        return INT_FORMAT
    numbers = pd.to_numeric(values, errors="coerce").dropna()
    if not unit or numbers.empty:
        return None  # years, odds ratios, p-values: as they are
    return INT_FORMAT if (numbers == numbers.round()).all() else DECIMAL_FORMAT


def _cell(value):
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def write_workbook(
    tables: dict[str, pd.DataFrame],
    path: str | Path,
    min_cell: int = 5,
    title: str = "",
    masks: dict[str, Hidden] | None = None,
) -> Path:
    """Write the workbook (see module docstring) and return its path."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    from ..extracts.writers import FIXED_TIME, normalise_zip

    wb = Workbook()
    wb.remove(wb.active)
    for name, frame in workbook_frames(tables, min_cell, masks).items():
        table = get(name)
        ws = wb.create_sheet(sheet_name(name))
        headings = [table.heading(c) for c in frame.columns]
        ws.append(headings)
        for cell in ws[1]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for row in frame.itertuples(index=False):
            ws.append([_cell(v) for v in row])
        for j, col in enumerate(frame.columns, start=1):
            fmt = _format(table.column(col).unit, frame[col])
            letter = ws.cell(row=1, column=j).column_letter
            ws.column_dimensions[letter].width = max(10, min(40, len(headings[j - 1]) + 2))
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
