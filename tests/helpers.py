"""Tiny hand-made extracts for tests: write CSVs for every required table, then load them
through the real reader.

>>> reg = make_extract(tmp_path, referrals=[dict(assessed_date="2021-03-01", decision="rett")])  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from opr_analysis import codebook, load_extract

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
}  # fmt: skip

ID_PREFIX = {"referrals": "R", "enrolments": "E", "baseline_responses": "B", "short_forms": "S",
             "treatments": "T", "followups": "F", "patients": "P"}  # fmt: skip


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
