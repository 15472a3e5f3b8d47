"""Reporting units (clinics) of an extract: contract v1.1, section «Units».

Rules
-----
- An extract without a ``units`` table is one unit, the registry's own
  (:data:`OWN_UNIT`: Oslo universitetssykehus HF); every row belongs to it.
- Otherwise each row of referrals, enrolments, baseline_responses, short_forms
  and treatments carries its ``unit_id`` (the reader quarantines a blank one).
- A follow-up belongs to the unit of its anchor: the treatment (``rf_*``,
  ``scs_*``) or the enrolment (``avsluttet_12m``) in ``anchor_id``. The reader
  has already quarantined a follow-up whose own ``unit_id`` disagrees.
- Questionnaire answers belong to their response's or follow-up's unit.
- :func:`for_unit` gives the registry restricted to one unit: the unit's rows
  of every table, its patients (those its rows refer to), no OPRv1 aggregates
  (``legacy_v1`` is the registry's own history, not a unit's). An implanted
  component (contract v1.2) belongs to its own ``unit_id``, else to its treatment's unit.

Examples
--------
>>> reg = load_extract("data/synthetic")                       # doctest: +SKIP
>>> unit_table(reg)["unit_id"].tolist()                        # doctest: +SKIP
['ous']
"""

from __future__ import annotations

import operator

import pandas as pd

UNIT_COLUMN = "unit_id"
UNIT_COLUMNS = ["unit_id", "name", "orgnr", "health_region"]

#: The registry's own unit: the whole extract when it has no ``units`` table.
OWN_UNIT = {
    "unit_id": "ous",
    "name": "Oslo universitetssykehus",
    "orgnr": "993467049",  # Oslo universitetssykehus HF
    "health_region": "sor_ost",
}

# Tables that carry unit_id directly.
DIRECT = ("referrals", "enrolments", "baseline_responses", "short_forms", "treatments")


def has_units(reg) -> bool:
    """True when the extract has a non-empty ``units`` table (contract v1.1)."""
    units = reg.tables.get("units")
    return units is not None and len(units) > 0


def unit_table(reg) -> pd.DataFrame:
    """unit_id, name, orgnr, health_region: the extract's units, or :data:`OWN_UNIT` alone."""
    if not has_units(reg):
        return pd.DataFrame([OWN_UNIT], columns=UNIT_COLUMNS)
    u = reg.tables["units"]
    return pd.DataFrame({c: u[c].astype(object).to_numpy() for c in UNIT_COLUMNS})


def _fill(values: pd.Series) -> pd.Series:
    return values.astype(object).where(values.notna(), OWN_UNIT["unit_id"])


def row_units(reg, table: str) -> pd.Series:
    """The unit of every row of ``table`` (index aligned); the own unit where there are no units."""
    frame = reg.tables[table]
    if table in DIRECT:
        if not has_units(reg):
            return pd.Series(OWN_UNIT["unit_id"], index=frame.index, dtype=object)
        return _fill(frame[UNIT_COLUMN])
    if table == "followups":
        return anchor_units(reg, frame["anchor_id"], frame["kind"])
    raise ValueError(f"{table} has no unit")


def anchor_units(reg, anchor_id: pd.Series, kind: pd.Series) -> pd.Series:
    """The unit of each follow-up (anchor, kind): its treatment's or its enrolment's unit."""
    if not has_units(reg):
        return pd.Series(OWN_UNIT["unit_id"], index=anchor_id.index, dtype=object)
    t, e = reg.treatments, reg.enrolments
    t_unit = pd.Series(t[UNIT_COLUMN].astype(object).to_numpy(), index=t["treatment_id"].astype(object).to_numpy())
    e_unit = pd.Series(e[UNIT_COLUMN].astype(object).to_numpy(), index=e["enrolment_id"].astype(object).to_numpy())
    on_enrolment = kind.astype(str).str.startswith("avsluttet").to_numpy()
    ids = anchor_id.astype(object)
    out = ids.map(t_unit).astype(object)
    out[on_enrolment] = ids[on_enrolment].map(e_unit).astype(object)
    return out


def for_unit(reg, unit_id: str):
    """The registry restricted to one unit (module docstring); the validation report is the whole extract's.

    Made once per registry and unit while the registry's tables and report are the same objects (a caller that
    replaces a table gets a fresh one): a report of several units asks for each unit's registry many times
    (every report's tables, the PROM chapter's suppression, the unit's own report), and sharing it shares what
    is computed once per registry (its memo: PROM scores and other derived frames). Treat it as read-only,
    as every registry."""
    from .reader import Registry

    if not isinstance(reg, Registry):
        return _for_unit(reg, unit_id)
    names, frames = tuple(reg.tables.keys()), tuple(dict.values(reg.tables))
    made = reg.__dict__.setdefault("_for_unit", {})
    hit = made.get(unit_id)
    same = hit is not None and hit[0] is reg.report and hit[1] == names and all(map(operator.is_, hit[2], frames))
    if not same:
        hit = made[unit_id] = (reg.report, names, frames, _for_unit(reg, unit_id))
    return hit[3]


def _for_unit(reg, unit_id: str):
    from .reader import Registry

    known = unit_table(reg)["unit_id"].tolist()
    if unit_id not in known:
        from ..errors import UsageError

        raise UsageError(f"ukjent enhet «{unit_id}»; enhetene i uttrekket er: {', '.join(known)}")
    tables = dict(reg.tables)
    for name in DIRECT:
        tables[name] = reg.tables[name][row_units(reg, name) == unit_id]
    fu = reg.followups
    tables["followups"] = fu[row_units(reg, "followups") == unit_id]
    ba, fa = reg.tables.get("baseline_answers"), reg.tables.get("followup_answers")
    if ba is not None:
        tables["baseline_answers"] = ba[ba["response_id"].isin(tables["baseline_responses"]["response_id"])]
    if fa is not None:
        tables["followup_answers"] = fa[fa["followup_id"].isin(tables["followups"]["followup_id"])]
    used = pd.concat(
        [tables[n]["patient_id"].astype(object) for n in ("enrolments", "baseline_responses", "short_forms")]
        + [tables[n]["patient_id"].astype(object) for n in ("treatments", "followups")]
    )
    tables["patients"] = reg.patients[reg.patients["patient_id"].isin(used)]
    imp = reg.tables.get("implants")  # v1.2 implants (issue 27): its own unit_id, else its treatment's
    if imp is not None and len(imp):
        own = imp["unit_id"].astype(object)
        mine = (own == unit_id) | (own.isna() & imp["treatment_id"].isin(tables["treatments"]["treatment_id"]))
        if not has_units(reg):
            mine = pd.Series(True, index=imp.index)
        tables["implants"] = imp[mine.to_numpy(dtype=bool)]
    if "legacy_v1" in tables:
        tables["legacy_v1"] = reg.legacy_v1.iloc[:0]
    if "units" in tables:
        tables["units"] = reg.units[reg.units["unit_id"] == unit_id]
    return Registry(path=reg.path, tables=tables, report=_unit_report(reg, unit_id), sources=reg.sources)


def _unit_report(reg, unit_id: str):
    """The validation report as it is (the whole extract's), but with the erasure narrowed to the patients
    erased from this unit's enrolments: a unit's report counts its own erased patients, not the registry's."""
    import dataclasses

    erasure = getattr(reg.report, "erasure", None)
    gone = erasure.removed.get("enrolments") if erasure is not None else None
    if gone is None or not has_units(reg) or UNIT_COLUMN not in gone:
        return reg.report
    mine = gone[(_fill(gone[UNIT_COLUMN]) == unit_id).to_numpy(dtype=bool)]
    removed = {**erasure.removed, "enrolments": mine}
    patients = erasure.patients[erasure.patients.isin(set(mine["patient_id"].astype(str)))]
    return dataclasses.replace(reg.report, erasure=dataclasses.replace(erasure, removed=removed, patients=patients))
