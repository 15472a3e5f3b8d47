"""Test helpers, one module: extracts built by hand and read through the real reader.

Three builders, from the smallest:

- :func:`make_extract` writes only the rows a test names (defaults fill the
  other columns) and returns the loaded :class:`~opr_analysis.Registry`: for
  statistics with exact expected numbers.
  ``reg = make_extract(tmp_path, referrals=[dict(assessed_date="2021-03-01", decision="rett")])``
- :func:`write_base_extract` writes a small valid extract (:data:`BASE`, text
  cells) in any format, separator and encoding the contract allows, with
  per-table overrides, and returns its folder: for the reader and the CLI.
- :func:`write_research_extract` writes a fixed synthetic extract of ``n``
  patients with ids a byte scan can find, and :func:`write_spec` a research
  spec: for research deliveries.

And :func:`run_notebook` executes a notebook of ``notebooks/`` with papermill.
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
import io
from pathlib import Path

import pandas as pd
import yaml

from opr_analysis import codebook, load_extract

# --- make_extract: tiny registries for statistics ------------------------------------------

# Values used for a required column a test leaves out.
DEFAULTS = {
    "patients": {"birth_year": 1970, "sex": "K", "interpreter_needed": "false",
                 "cognitive_impairment": "false", "research_participant": "false"},
    "referrals": {"patient_id": "P0", "assessed_date": "2021-01-01", "decision": "rett"},
    "enrolments": {"patient_id": "P1", "granted_date": "2021-01-01"},
    "baseline_responses": {"patient_id": "P1", "submitted_at": "2021-01-01T12:00:00", "duration_ms": 1000},
    "short_forms": {"patient_id": "P1", "date": "2021-01-01"},
    "treatments": {"patient_id": "P1", "kind": "rf", "date": "2021-06-01"},
    "followups": {"patient_id": "P1", "kind": "rf_3m", "sent_date": "2021-09-01"},
    "implants": {"patient_id": "P1", "component": "generator", "manufacturer": "Nordstim", "model": "Vega R",
                 "implanted_date": "2022-03-01"},  # v1.2 implants (issue 27); serial_number is the test's to give
}  # fmt: skip

ID_PREFIX = {"referrals": "R", "enrolments": "E", "baseline_responses": "B", "short_forms": "S",
             "treatments": "T", "followups": "F", "patients": "P", "implants": "I"}  # fmt: skip


def _frame(table: str, rows) -> pd.DataFrame:
    spec = codebook.load().tables[table]
    cols = list(spec.columns)
    frame = pd.DataFrame(rows) if not isinstance(rows, pd.DataFrame) else rows.copy()
    for col in frame.columns:  # whole numbers padded with NaN became floats: write them as integers
        if pd.api.types.is_float_dtype(frame[col]) and (frame[col].dropna() % 1 == 0).all():
            frame[col] = frame[col].astype("Int64")
    idc = spec.id_column
    for col in cols:
        values = frame[col] if col in frame else pd.Series([None] * len(frame), index=frame.index, dtype=object)
        if col == idc and table in ID_PREFIX:
            numbered = pd.Series([f"{ID_PREFIX[table]}{i + 1}" for i in range(len(frame))], index=frame.index)
            values = values.fillna(numbered)
        elif col in DEFAULTS.get(table, {}):
            values = values.fillna(DEFAULTS[table][col])
        frame[col] = values.astype(object).where(values.notna(), "")
    extra = [c for c in frame.columns if c not in cols]
    return frame[cols + extra]


def make_extract(folder: Path, patients=None, **tables) -> opr_analysis.Registry:  # noqa: F821
    """Write the given tables (lists of dicts or DataFrames) as CSV into ``folder`` and load it.

    Left-out columns get defaults (ids numbered R1, E1 …); left-out required
    tables are written header-only; if ``patients`` is not given, every
    patient_id used by another table gets a default adult patient.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    cb = codebook.load()
    frames = {name: _frame(name, rows) for name, rows in tables.items()}
    if patients is None:
        ids = set()
        for name, frame in frames.items():
            if name != "referrals" and "patient_id" in frame:
                ids |= set(frame["patient_id"])
        patients = [{"patient_id": i} for i in sorted(ids)]
    frames["patients"] = _frame("patients", patients)
    for name, spec in cb.tables.items():
        if name not in frames and spec.required:
            frames[name] = _frame(name, [])
    for name, frame in frames.items():
        frame.to_csv(folder / f"{name}.csv", index=False)
    return load_extract(folder)


def answer_rows(id_column: str, answers: dict[str, dict[str, float]]) -> list[dict]:
    """Long-format answer rows (``id_column``, item, value) for ``baseline_answers``/``followup_answers``
    from ``{response_id: {item: value}}``."""
    return [{id_column: i, "item": item, "value": v} for i, items in answers.items() for item, v in items.items()]


# --- write_base_extract: a valid extract in any format, for the reader and the CLI ----------

# Four patients, every required table with a few valid rows, and the optional legacy_v1.
BASE: dict[str, list[dict[str, str]]] = {
    "patients": [
        {
            "patient_id": "P001",
            "birth_year": "1960",
            "sex": "K",
            "interpreter_needed": "nei",
            "cognitive_impairment": "nei",
            "research_participant": "nei",
            "reserved_date": "",
        },
        {
            "patient_id": "P002",
            "birth_year": "1975",
            "sex": "M",
            "interpreter_needed": "false",
            "cognitive_impairment": "0",
            "research_participant": "FALSE",
            "reserved_date": "",
        },
        {
            "patient_id": "P003",
            "birth_year": "1990",
            "sex": "K",
            "interpreter_needed": "Ja",
            "cognitive_impairment": "nei",
            "research_participant": "nei",
            "reserved_date": "2024-03-01",
        },
        {
            "patient_id": "P004",
            "birth_year": "2001",
            "sex": "M",
            "interpreter_needed": "",
            "cognitive_impairment": "",
            "research_participant": "",
            "reserved_date": "",
        },
    ],
    "referrals": [
        {
            "referral_id": "R01",
            "patient_id": "P001",
            "assessed_date": "2022-01-10",
            "decision": "rett",
            "region": "lokal",
        },
        {
            "referral_id": "R02",
            "patient_id": "P002",
            "assessed_date": "2022-02-11",
            "decision": "rett",
            "region": "regional",
        },
        {
            "referral_id": "R03",
            "patient_id": "X999",
            "assessed_date": "2022-03-12",
            "decision": "avvist",
            "region": "nasjonal",
        },
        {"referral_id": "R04", "patient_id": "P003", "assessed_date": "2023-04-13", "decision": "rett", "region": ""},
        {
            "referral_id": "R05",
            "patient_id": "P004",
            "assessed_date": "2023-05-14",
            "decision": "videresendt",
            "region": "annet",
        },
    ],
    "enrolments": [
        {
            "enrolment_id": "E01",
            "patient_id": "P001",
            "granted_date": "2022-01-20",
            "first_consultation_date": "2022-02-01",
            "closed_date": "2022-06-30",
            "dips_closed_date": "2022-06-30",
        },
        {
            "enrolment_id": "E02",
            "patient_id": "P002",
            "granted_date": "2022-02-20",
            "first_consultation_date": "2022-03-01",
            "closed_date": "",
            "dips_closed_date": "",
        },
        {
            "enrolment_id": "E03",
            "patient_id": "P003",
            "granted_date": "2023-04-20",
            "first_consultation_date": "",
            "closed_date": "",
            "dips_closed_date": "",
        },
    ],
    "baseline_responses": [
        {"response_id": "B01", "patient_id": "P001", "submitted_at": "2022-01-25T10:15:00", "duration_ms": "1200000"},
        {"response_id": "B02", "patient_id": "P002", "submitted_at": "2022-02-25 08:00:30", "duration_ms": "900000"},
        {"response_id": "B03", "patient_id": "P003", "submitted_at": "2023-04-25T12:00:00+02:00", "duration_ms": "0"},
    ],
    "short_forms": [
        {"short_form_id": "S01", "patient_id": "P002", "date": "2022-03-01", "reason": "glemt"},
        {"short_form_id": "S02", "patient_id": "P004", "date": "2023-06-01", "reason": ""},
    ],
    "treatments": [
        {"treatment_id": "T01", "patient_id": "P001", "kind": "rf", "date": "2022-03-15"},
        {"treatment_id": "T02", "patient_id": "P002", "kind": "scs", "date": "2022-04-15"},
    ],
    "followups": [
        {
            "followup_id": "F01",
            "patient_id": "P001",
            "kind": "rf_3m",
            "anchor_id": "T01",
            "sent_date": "2022-06-15",
            "responded_at": "2022-06-20T09:00:00",
        },
        {
            "followup_id": "F02",
            "patient_id": "P002",
            "kind": "scs_6m",
            "anchor_id": "T02",
            "sent_date": "2022-10-15",
            "responded_at": "",
        },
        {
            "followup_id": "F03",
            "patient_id": "P001",
            "kind": "avsluttet_12m",
            "anchor_id": "E01",
            "sent_date": "2023-06-30",
            "responded_at": "",
        },
    ],
    "legacy_v1": [
        {"year": "2019", "baseline_responses": "410", "new_patients": "980"},
        {"year": "2020", "baseline_responses": "380", "new_patients": ""},
    ],
}


def rows(table: str) -> list[dict[str, str]]:
    """A fresh copy of the base rows of ``table`` (safe to modify)."""
    return copy.deepcopy(BASE[table])


def csv_bytes(
    records: list[dict[str, str]], sep: str = ",", encoding: str = "utf-8", header: list[str] | None = None
) -> bytes:
    """Rows as CSV bytes (``encoding="utf-8-sig"`` writes a BOM)."""
    header = header or list(records[0])
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, delimiter=sep, lineterminator="\r\n")  # quotes any \r or \n in a cell
    writer.writerow(header)
    for r in records:
        writer.writerow([r.get(c, "") for c in header])
    return buf.getvalue().encode(encoding)


def write_table(
    folder: Path,
    table: str,
    records,
    fmt: str = "csv",
    sep: str = ",",
    encoding: str = "utf-8",
    header: list[str] | None = None,
) -> Path:
    """Write one table's rows (list of dicts or DataFrame) as ``<table>.<fmt>``."""
    folder.mkdir(parents=True, exist_ok=True)
    if isinstance(records, pd.DataFrame):
        frame = records
    else:
        frame = pd.DataFrame(records, columns=header or (list(records[0]) if records else None), dtype="string")
    path = folder / f"{table}.{fmt}"
    if fmt == "csv":
        if isinstance(records, pd.DataFrame):
            path.write_text(frame.to_csv(index=False, sep=sep), encoding=encoding)
        else:
            hdr = header or (list(records[0]) if records else [])
            path.write_bytes(
                csv_bytes(records, sep, encoding, hdr) if records else (sep.join(hdr) + "\n").encode(encoding)
            )
    elif fmt == "parquet":
        frame.to_parquet(path, index=False)
    elif fmt == "xlsx":
        frame.to_excel(path, index=False, sheet_name="data")
    else:
        raise ValueError(fmt)
    return path


def write_base_extract(
    tmp_path: Path,
    fmt: str = "csv",
    sep: str = ",",
    encoding: str = "utf-8",
    drop: tuple[str, ...] = (),
    name: str = "extract",
    **overrides,
) -> Path:
    """Write the base extract (with ``overrides`` per table) and return its folder."""
    folder = Path(tmp_path) / name
    folder.mkdir(parents=True, exist_ok=True)
    for table in BASE:
        if table in drop:
            continue
        records = overrides.get(table, rows(table))
        write_table(
            folder,
            table,
            records,
            fmt=fmt,
            sep=sep,
            encoding=encoding,
            header=list(BASE[table][0]) if not isinstance(records, pd.DataFrame) and not records else None,
        )
    return folder


# --- write_research_extract / write_spec: research deliveries -------------------------------

REGIONS = ("lokal", "regional", "nasjonal")


def write_research_extract(folder: Path, n: int = 60, seed_shift: int = 0) -> Path:
    """``n`` patients, one enrolment each (every 7th patient two), with referrals, baselines,
    treatments and follow-ups. Ids look like ``PAS-00001`` so that a byte scan finds them."""
    folder.mkdir(parents=True, exist_ok=True)
    pats, refs, enrs, bls, sfs, trts, fus = [], [], [], [], [], [], []
    for i in range(1, n + 1):
        pid = f"PAS-{i:05d}"
        birth = 1950 + (i * 7 + seed_shift) % 40
        pats.append([pid, birth, "K" if i % 3 else "M", "false", "false", "false", ""])
        n_enr = 2 if i % 7 == 0 else 1
        for j in range(n_enr):
            granted = dt.date(2021 + (i + j) % 3, 1 + (i * 5) % 12, 1 + i % 27)
            eid = f"INN-{i:05d}-{j}"
            refs.append([f"HEN-{i:05d}-{j}", pid, granted - dt.timedelta(days=10), "rett", REGIONS[i % 3]])
            first = granted + dt.timedelta(days=30 + i % 20)
            closed = first + dt.timedelta(days=200) if i % 2 else None
            enrs.append([eid, pid, granted, first, closed or "", "", "M54.5" if i % 4 else "G89.4"])
            if i % 5:
                bls.append([f"SVAR-{i:05d}-{j}", pid, f"{first - dt.timedelta(days=3)}T10:15:00", 1_000_000 + i])
            else:
                sfs.append([f"KORT-{i:05d}-{j}", pid, first, "glemt"])
            if i % 4 == 0:
                tid = f"BEH-{i:05d}-{j}"
                tdate = first + dt.timedelta(days=60)
                trts.append([tid, pid, "rf" if i % 8 else "scs", tdate])
                kind = "rf_3m" if i % 8 else "scs_3m"
                fus.append(
                    [
                        f"OPP-{i:05d}-{j}",
                        pid,
                        kind,
                        tid,
                        tdate + dt.timedelta(days=92),
                        f"{tdate + dt.timedelta(days=100)}T09:00:00" if i % 3 else "",
                    ]
                )
    tables = {
        "patients": (
            pats,
            [
                "patient_id",
                "birth_year",
                "sex",
                "interpreter_needed",
                "cognitive_impairment",
                "research_participant",
                "reserved_date",
            ],
        ),
        "referrals": (
            refs + [["HEN-AVVIST-1", "PAS-99999", dt.date(2022, 5, 5), "avvist", "lokal"]],
            ["referral_id", "patient_id", "assessed_date", "decision", "region"],
        ),
        "enrolments": (
            enrs,
            [
                "enrolment_id",
                "patient_id",
                "granted_date",
                "first_consultation_date",
                "closed_date",
                "dips_closed_date",
                "diagnosis",
            ],
        ),
        "baseline_responses": (bls, ["response_id", "patient_id", "submitted_at", "duration_ms"]),
        "short_forms": (sfs, ["short_form_id", "patient_id", "date", "reason"]),
        "treatments": (trts, ["treatment_id", "patient_id", "kind", "date"]),
        "followups": (fus, ["followup_id", "patient_id", "kind", "anchor_id", "sent_date", "responded_at"]),
    }
    for name, (rows, cols) in tables.items():
        pd.DataFrame(rows, columns=cols).to_csv(folder / f"{name}.csv", index=False)
    return folder


BASE_SPEC = {
    "project": "test-prosjekt",
    "title": "Testprosjekt",
    "research_question": "Svarer pasientene på baseline?",
    "recipient": {"name": "Test Forsker", "institution": "UiO"},
    "variables": {
        # Issue 12.2: k is checked on the patient-level record joined over every file; a patient with two
        # enrolments in different age bands is unique among the fixture's 60, so age is left out here.
        "enrolments": ["patients.sex", "enrolment_year", "has_baseline", "enrolments.diagnosis"],
        "treatments": ["treatments.kind", "treatments.date"],
        "followups": ["followups.kind", "responded", "treatment_no"],
        "baseline_responses": ["baseline_responses.submitted_at", "before_first_consultation"],
    },
    "dates": "month",
    "formats": ["csv", "parquet", "sav", "dta", "xlsx"],
    "disclosure": {"k": 2, "on_violation": "generalise"},
}


def write_spec(path: Path, **changes) -> Path:
    spec = {**BASE_SPEC, **changes}
    path.write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


# --- run_notebook: a notebook under papermill, as a researcher runs it --------------------------

ROOT = Path(__file__).resolve().parents[1]


def run_notebook(name: str, out: Path, cwd: Path | None = None, **parameters):
    """Execute ``notebooks/<name>.ipynb`` with papermill (kernel ``python3``, working folder ``cwd``,
    default the repository) into ``out`` and return it read back (nbformat).

    Papermill's Python API in this process, not ``python -m papermill``: the notebook still runs in
    its own kernel, without a second Python start and papermill import (about 2 s of CPU each).
    A failing cell raises papermill's error with the cell's traceback.
    """
    import nbformat
    import papermill as pm

    pm.execute_notebook(
        str(ROOT / "notebooks" / f"{name}.ipynb"),
        str(out),
        parameters=parameters,
        kernel_name="python3",
        cwd=str(cwd or ROOT),
        progress_bar=False,
        log_output=False,
        request_save_on_cell_execute=False,  # written once at the end, as opr report does (not at every cell)
    )
    return nbformat.read(out, as_version=4)


# --- a hand-made implant register (contract v1.2, issue 27) ----------------------------------
# Seven systems with known times to failure (days) at AS_OF 2024-12-31: 100 (a lead migrates),
# 200 (censored), 300 and 300 (infection; pocket pain), 400 (censored: the only component out for
# battery), 500 (lack of effect), 800 (censored; untied components of patient P7, with a battery
# change); and one implanted after the as-of date. Serial numbers S001..., lots LOT001...
def _implant(patient, treatment, day, **kw) -> dict:
    row = dict(patient_id=patient, treatment_id=treatment, component="generator", manufacturer="M", model="G",
               serial_number=f"S{len(IMPLANTS) + 1:03d}", lot=f"LOT{len(IMPLANTS) + 1:03d}",
               implanted_date=day)  # fmt: skip
    row.update(kw)
    return row


IMPLANTS: list[dict] = []
for row in [
    # S1: a lead migrates after 100 days (a failure); another component's explant after as-of is not yet
    ("P1", "T1", "2022-01-01", {}),
    (
        "P1",
        "T1",
        "2022-01-01",
        dict(component="elektrode", explanted_date="2022-04-11", explant_reason="elektrodevandring"),
    ),  # fmt: skip
    ("P1", "T1", "2022-01-01", dict(component="annet", explanted_date="2025-03-01", explant_reason="infeksjon")),
    # S2: implanted 200 days before as-of, nothing removed: censored at 200
    ("P2", "T2", "2024-06-14", {}),
    # S3, S4: infection and pocket pain after 300 days (the revised generator goes back in: still a failure)
    ("P3", "T3", "2022-01-01", dict(explanted_date="2022-10-28", explant_reason="infeksjon")),
    ("P4", "T4", "2022-01-01", dict(explanted_date="2022-10-28", explant_reason="lommesmerte")),
    ("P4", "T4", "2022-10-28", {}),
    # S5: its only component out for battery after 400 days, nothing put back: censored at 400
    ("P5", "T5", "2022-01-01", dict(explanted_date="2023-02-05", explant_reason="batteri")),
    # S6: lack of effect after 500 days
    ("P6", "T6", "2022-01-01", dict(explanted_date="2023-05-16", explant_reason="manglende_effekt")),
    # S7 (no treatment: the patient's system): a battery change is not a failure; censored at 800
    ("P7", "", "2022-10-23", dict(explanted_date="2024-01-10", explant_reason="batteri")),
    ("P7", "", "2024-01-10", dict(component="elektrode")),
    # implanted after the as-of date: not a system yet
    ("P8", "T8", "2025-02-01", {}),
]:
    IMPLANTS.append(_implant(row[0], row[1], row[2], **row[3]))
IMPLANT_TREATMENTS = [
    dict(treatment_id=f"T{i}", patient_id=f"P{i}", kind="scs", date="2022-01-01") for i in (1, 2, 3, 4, 5, 6, 8)
]


# --- figures: does every text fit? -----------------------------------------------------------


def figure_text_problems(plot) -> list[tuple]:
    """Texts of ``plot`` drawn at the size the report stores it that leave the figure or overlap.

    Each problem is ``("outside", text)`` or ``("overlap", text, text)``. Tick labels set at an
    angle are left out of the overlap check: their boxes overlap although the texts do not.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.text import Text
    from plotnine import theme

    from opr_analysis.report.display import figure_size

    fig = (plot + theme(figure_size=figure_size(plot))).draw()
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    boxes = [
        (t.get_text(), t.get_window_extent(renderer), t.get_rotation() % 90 == 0)
        for t in fig.findobj(Text)
        if t.get_visible() and t.get_text().strip()
    ]
    frame = fig.bbox
    problems = [
        ("outside", text)
        for text, b, _ in boxes
        if b.x0 < frame.x0 - 1 or b.x1 > frame.x1 + 1 or b.y0 < frame.y0 - 1 or b.y1 > frame.y1 + 1
    ]
    for i, (text_a, a, straight_a) in enumerate(boxes):
        for text_b, b, straight_b in boxes[i + 1 :]:
            if (
                straight_a
                and straight_b
                and a.x0 < b.x1 - 1
                and b.x0 < a.x1 - 1
                and a.y0 < b.y1 - 1
                and b.y0 < a.y1 - 1
            ):
                problems.append(("overlap", text_a, text_b))
    return problems


# --- profile_attack: what a reader of every report learns from the PROM baseline profile -------


def profile_attack(shown: dict, truth: dict, min_cell: int = 5) -> list[tuple]:
    """The hidden counts of the baseline profile tables of every report of an extract (``shown``: scope ->
    :func:`~opr_analysis.report.prom_tables.baseline_profile_cells` indexed by ``(variable, level)``; scope None
    is the whole registry) that a reader pins to a range narrower than ``min_cell``, as ``(scope, variable,
    level, column, low, high)``; ``truth``: scope -> :func:`~opr_analysis.report.prom_tables.profile_counts`.

    Built from the rendered text only, as a reader would: a count shown is known, «×» is at least 1, «–» (a
    column with too few responses) at least 0. What the reader knows on top: within a row Kvinner + Menn +
    unknown sex = Alle; a variable's levels add up to its n per column, known where a share of it is shown;
    that n is at most the column's responses (the rest did not answer the question); the responses of all
    sexes (the administrative baseline table shows them); each of the registry's counts is the sum of the
    units'. Ranges by the package's LP audit (:func:`~opr_analysis.report.suppression.intervals`); cells the
    public counts alone pin down (:func:`~opr_analysis.report.suppression.pinned_cells`) are left out.
    """
    from opr_analysis.report.suppression import SUPPRESSED, SuppressedTable, intervals, pinned_cells

    columns = ["K", "M", "alle"]
    values, displayed, hidden, fixed, groups = {}, {}, {}, {}, []

    def add(label, value, text=None, known=False):
        values[label] = float(value)
        token = "" if text is None else str(text).split(" ")[0]
        hidden[label] = token == SUPPRESSED
        displayed[label] = known or hidden[label] or token[:1].isdigit()  # shown, or «×»: at least 1
        fixed[label] = known

    registry = "(registeret)"  # scope None as a label (pandas would read None in a label as NaN)
    for key, counts in truth.items():
        scope, cells = registry if key is None else key, shown[key]
        for row in counts.itertuples(index=False):
            var, level = row.variable, row.level
            for c in columns:
                known = var == "responses" and c == "alle"
                add((scope, var, level, c), getattr(row, c), cells.loc[(var, level), c], known)
            add((scope, var, level, "ukjent"), row.alle - row.K - row.M)
            groups.append(([((scope, var, level, "alle"), -1.0), *[((scope, var, level, p), 1.0) for p in
                                                                     ("K", "M", "ukjent")]], 0.0))  # fmt: skip
        for var, rows in counts[counts["variable"] != "responses"].groupby("variable", sort=False):
            for c in columns:
                n = (scope, var, "n", c)
                share = any("(" in str(t) and "(–)" not in str(t) for t in cells.loc[var, c])
                values[n], displayed[n], hidden[n], fixed[n] = float(rows[c].sum()), share, False, False
                responses = float(counts.loc[counts["variable"] == "responses", c].iloc[0])
                add((scope, var, "missing", c), responses - values[n])
                groups.append(([(n, -1.0), *[((scope, var, lev, c), 1.0) for lev in rows["level"]]], 0.0))
                groups.append(([((scope, "responses", "", c), -1.0), (n, 1.0), ((scope, var, "missing", c), 1.0)],
                               0.0))  # fmt: skip
    units = [s for s in truth if s is not None]
    for label in [lab for lab in values if lab[0] == registry]:
        parts = [(u, *label[1:]) for u in units if (u, *label[1:]) in values]
        if sum(values[p] for p in parts) == values[label]:  # the registry is the sum of its units here
            groups.append(([(label, -1.0), *[(p, 1.0) for p in parts]], 0.0))
    index = pd.Index(list(values), dtype=object, tupleize_cols=False)
    table = SuppressedTable(
        pd.Series(values, index=index), pd.Series(displayed, index=index), pd.Series(hidden, index=index), groups,
        min_cell, pd.Series(fixed, index=index),
    )  # fmt: skip
    asked = [label for label in index if hidden[label]]
    ranges = intervals(table, asked).drop(index=pinned_cells(table), errors="ignore")
    narrow = ranges[ranges["high"] - ranges["low"] < min_cell]
    return [(None if label[0] == registry else label[0], *label[1:], low, high) for label, (low, high) in
            narrow.iterrows()]  # fmt: skip
