"""Which rows of an extract belong to given patients: one rule, for erasure and for access.

A row belongs to a patient when its ``patient_id`` is theirs (every table that has
the column, whether or not the codebook makes it a reference: a referral's patient
need not be in ``patients``), or when it refers to a row that belongs to them
(codebook ``references``, and a follow-up's ``anchor_id``, which names a treatment
or an enrolment): the answers of their questionnaires, say. Tables are visited in
codebook order, which is the order of their references, so a table added later
(``implants``) is covered without code here.

>>> import pandas as pd
>>> from opr_analysis.extract import codebook
>>> cb = codebook.load()
>>> gone = {}
>>> rows_of("baseline_responses", pd.DataFrame({"response_id": ["B1", "B2"], "patient_id": ["P1", "P2"]}),
...         cb.tables["baseline_responses"], {"P2"}, gone).tolist()
[False, True]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..extract import codebook

#: References the codebook does not declare: a follow-up's anchor is a treatment or an enrolment.
IMPLIED_REFERENCES = {("followups", "anchor_id"): ("treatments", "enrolments")}


def rows_of(
    name: str, frame: pd.DataFrame, spec, ids: set[str], gone: dict[str, set[str]], raw: bool = False
) -> np.ndarray:
    """Which rows of table ``name`` belong to the patients ``ids``.

    ``gone``: the ids of rows of earlier tables that belong to them (table -> ids); this call adds
    ``name``'s. ``raw``: the frame holds cells as written (quarantine), compared after trimming.
    """

    def text(col: str) -> pd.Series:
        values = frame[col].astype("string")
        return values.str.strip() if raw else values

    hit = np.zeros(len(frame), dtype=bool)
    if "patient_id" in frame:
        hit |= text("patient_id").isin(ids).fillna(False).to_numpy(dtype=bool)
    for col in spec.columns.values():
        if col.name not in frame:
            continue
        targets = IMPLIED_REFERENCES.get((name, col.name))
        if targets is None and col.reference_table and col.reference_table != "patients":
            ref = codebook.load().tables[col.reference_table]
            targets = (col.reference_table,) if ref.id_column == col.reference_column else ()
        for target in targets or ():
            if gone.get(target):
                hit |= text(col.name).isin(gone[target]).fillna(False).to_numpy(dtype=bool)
    return hit


def row_ids(frame: pd.DataFrame, spec, hit: np.ndarray, raw: bool = False) -> set[str]:
    """The ids (the table's unique column) of the rows ``hit``."""
    if not spec.id_column or spec.id_column not in frame or not hit.any():
        return set()
    values = frame.loc[hit, spec.id_column].dropna().astype(str)
    return set(values.str.strip() if raw else values)


def patient_rows(tables: dict[str, pd.DataFrame], ids, skip=()) -> dict[str, np.ndarray]:
    """For every codebook table in ``tables`` (but ``skip``), which rows belong to the patients ``ids``."""
    cb = codebook.load()
    ids = {str(i) for i in ids}
    gone: dict[str, set[str]] = {}
    out = {}
    for name, spec in cb.tables.items():
        if name not in tables or name in skip:
            continue
        out[name] = rows_of(name, tables[name], spec, ids, gone)
        gone[name] = row_ids(tables[name], spec, out[name])
    return out
