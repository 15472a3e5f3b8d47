"""Selection: the base frames of every level, and which enrolments a spec includes.

:func:`base_frames` links the extract's tables (see the linking rule in
:mod:`opr_analysis.extracts.variables`) into one internal frame per level,
still holding original ids in ``_``-prefixed columns; nothing here leaves the
process. :func:`select_enrolments` applies the spec's inclusion criteria in a
fixed order and records how many enrolments remain after each, so the
delivery can show the flow, and so a criterion that selects nobody is named.
"""

from __future__ import annotations

import pandas as pd

from ..errors import UsageError
from ..stats.derived import age_at
from ..stats.linking import day as _day
from ..stats.linking import enrolment_of
from .spec import Spec


def _obj(s: pd.Series) -> pd.Series:
    return s.astype(object).where(s.notna(), None)


def link_to_enrolment(events: pd.DataFrame, date_col: str, enrol: pd.DataFrame) -> pd.Series:
    """Enrolment id of each event: the patient's latest enrolment granted on or before the event date.

    ``events`` needs ``_patient_id`` and ``date_col``; ``enrol`` needs
    ``_patient_id``, ``_enrolment_id``, ``_granted``. NA where none.
    """
    linked = enrolment_of(
        pd.DataFrame(
            {
                "enrolment_id": enrol["_enrolment_id"],
                "patient_id": enrol["_patient_id"],
                "granted_date": enrol["_granted"],
            }
        ),
        events["_patient_id"],
        events[date_col],
    )
    return linked.astype(object).where(linked.notna(), pd.NA)


def base_frames(reg) -> dict[str, pd.DataFrame]:
    """One internal frame per level with codebook columns as ``table.column`` and link columns."""
    p, e = reg.patients, reg.enrolments
    pat = pd.DataFrame({f"patients.{c}": p[c].to_numpy() for c in p.columns})
    pat["_patient_id"] = _obj(p["patient_id"]).to_numpy()
    enr = pd.DataFrame({f"enrolments.{c}": e[c].to_numpy() for c in e.columns})
    enr["_patient_id"] = _obj(e["patient_id"]).to_numpy()
    enr["_enrolment_id"] = _obj(e["enrolment_id"]).to_numpy()
    enr["_granted"] = _day(enr["enrolments.granted_date"])
    enr["_first"] = _day(enr["enrolments.first_consultation_date"])
    enr["_closed"] = _day(enr["enrolments.closed_date"])
    enr = enr.merge(pat, on="_patient_id", how="left", validate="many_to_one")
    enr["_age"] = age_at(enr["_granted"], enr["patients.birth_year"]).astype("Int64")
    enr = enr.sort_values(["_patient_id", "_granted", "_enrolment_id"], kind="stable").reset_index(drop=True)
    enr["_seq"] = enr.groupby("_patient_id").cumcount() + 1
    enr["_region"] = _regions(reg, enr)

    trt = _events(reg.treatments, "treatments", "treatment_id", "date", enr)
    bl = _events(reg.baseline_responses, "baseline_responses", "response_id", "submitted_at", enr)

    f = reg.followups
    fu = pd.DataFrame({f"followups.{c}": f[c].to_numpy() for c in f.columns})
    fu["_patient_id"] = _obj(f["patient_id"]).to_numpy()
    fu["_followup_id"] = _obj(f["followup_id"]).to_numpy()
    fu["_date"] = _day(fu["followups.sent_date"])
    anchor = _obj(f["anchor_id"]).to_numpy()
    by_treatment = dict(zip(trt["_treatment_id"], trt["_enrolment_id"], strict=True))
    kind = fu["followups.kind"].astype(object).to_numpy()
    fu["_anchor_id"] = anchor
    fu["_enrolment_id"] = [
        a if k == "avsluttet_12m" else by_treatment.get(a) for a, k in zip(anchor, kind, strict=True)
    ]

    s = reg.short_forms
    sf = pd.DataFrame({"_patient_id": _obj(s["patient_id"]).to_numpy(), "_date": _day(s["date"])})
    sf["_enrolment_id"] = link_to_enrolment(sf, "_date", enr).to_numpy()

    first = enr.set_index("_enrolment_id")["_first"]
    bl_first = bl["_enrolment_id"].map(first)
    bl["_before_fc"] = (bl["_enrolment_id"].notna() & (bl_first.isna() | (bl["_date"] <= bl_first))).astype("boolean")

    def per_enrolment(frame: pd.DataFrame, mask=None) -> pd.Series:
        f2 = frame if mask is None else frame[mask]
        return enr["_enrolment_id"].map(f2.groupby("_enrolment_id").size()).fillna(0).astype("Int64")

    enr["_has_baseline"] = (per_enrolment(bl, bl["_before_fc"].fillna(False).astype(bool)) > 0).astype("boolean")
    tk = trt["treatments.kind"].astype(object)
    enr["_n_rf"] = per_enrolment(trt, tk == "rf")
    enr["_n_scs"] = per_enrolment(trt, tk == "scs")
    enr["_n_fu_sent"] = per_enrolment(fu)
    enr["_n_fu_resp"] = per_enrolment(fu, fu["followups.responded_at"].notna())
    enr["_n_short"] = per_enrolment(sf)
    imp = _implants(reg, trt, enr)  # contract v1.2 (issue 27)
    return {"enrolments": enr, "treatments": trt, "followups": fu, "baseline_responses": bl, "_short_forms": sf,
            "implants": imp}  # fmt: skip


def _implants(reg, trt: pd.DataFrame, enr: pd.DataFrame) -> pd.DataFrame:
    """Implanted components: their SCS treatment's enrolment, else the enrolment of their implant date."""
    out = _events(reg.implants, "implants", "implant_id", "implanted_date", enr)
    by_treatment = pd.Series(trt["_enrolment_id"].to_numpy(), index=trt["_treatment_id"].to_numpy(), dtype=object)
    out["_treatment_id"] = _obj(reg.implants["treatment_id"]).to_numpy()
    linked = out["_treatment_id"].map(by_treatment)
    out["_enrolment_id"] = linked.where(out["_treatment_id"].notna(), out["_enrolment_id"])
    return out


def _events(t: pd.DataFrame, table: str, id_col: str, date_col: str, enr: pd.DataFrame) -> pd.DataFrame:
    """An event table as ``table.column`` columns plus ids, day and linked enrolment."""
    out = pd.DataFrame({f"{table}.{c}": t[c].to_numpy() for c in t.columns})
    out["_patient_id"] = _obj(t["patient_id"]).to_numpy()
    out[f"_{id_col}"] = _obj(t[id_col]).to_numpy()
    out["_date"] = _day(out[f"{table}.{date_col}"])
    out["_enrolment_id"] = link_to_enrolment(out, "_date", enr).to_numpy()
    return out


def _regions(reg, enr: pd.DataFrame) -> pd.Series:
    """Region of the latest ``rett`` referral assessed 0–365 days before granted_date (NA if none)."""
    r = reg.referrals
    ref = pd.DataFrame(
        {"_patient_id": _obj(r["patient_id"]), "_assessed": _day(r["assessed_date"]), "_region": _obj(r["region"])}
    )
    ref = ref[(r["decision"].astype(object) == "rett").to_numpy()].dropna(subset=["_assessed"])
    ref = ref.assign(_patient_id=ref["_patient_id"].astype(object))
    left = pd.DataFrame(
        {"_patient_id": enr["_patient_id"].astype(object), "_granted": enr["_granted"], "_pos": range(len(enr))}
    )
    linked = pd.merge_asof(
        left.sort_values("_granted"),
        ref.sort_values("_assessed"),
        left_on="_granted",
        right_on="_assessed",
        by="_patient_id",
        direction="backward",
        tolerance=pd.Timedelta(days=365),
    )
    out = pd.Series(pd.NA, index=range(len(enr)), dtype=object)
    out[linked["_pos"].to_numpy()] = linked["_region"].to_numpy()
    codes = list(reg.referrals["region"].cat.categories)
    return pd.Series(pd.Categorical(out.where(out.notna(), None), categories=codes), index=enr.index)


def select_enrolments(enr: pd.DataFrame, frames: dict[str, pd.DataFrame], spec: Spec) -> tuple[pd.Series, list]:
    """Boolean mask of included enrolments and the flow ``[(criterion, remaining), ...]``.

    Raises :class:`UsageError` naming the criterion after which no enrolment remains.
    """
    inc = spec.inclusion
    keep = pd.Series(True, index=enr.index)
    flow = [("alle innskrivinger i uttrekket", int(keep.sum()))]

    def step(label: str, mask: pd.Series) -> None:
        nonlocal keep
        keep = keep & mask.fillna(False).astype(bool)
        flow.append((label, int(keep.sum())))

    start, end = spec.period
    if start:
        step(f"rett til helsehjelp fra {start}", enr["_granted"] >= pd.Timestamp(start))
    if end:
        step(f"rett til helsehjelp til og med {end}", enr["_granted"] <= pd.Timestamp(end))
    if inc.enrolment_years:
        lo, hi = inc.enrolment_years
        step(f"innskrivingsår {lo}–{hi}", enr["_granted"].dt.year.between(lo, hi))
    if inc.age:
        lo, hi = inc.age
        age = enr["_age"].astype("Float64")
        mask = pd.Series(True, index=enr.index, dtype="boolean")
        if lo is not None:
            mask &= age >= lo
        if hi is not None:
            mask &= age <= hi
        step(f"alder ved innskriving {'' if lo is None else lo}–{'' if hi is None else hi}", mask)
    if inc.sex:
        step(f"kjønn {', '.join(inc.sex)}", enr["patients.sex"].astype(object).isin(inc.sex))
    if inc.first_enrolment_only:
        step("bare første innskriving per pasient", enr["_seq"] == 1)
    if inc.has_baseline is not None:
        step("har baseline" if inc.has_baseline else "har ikke baseline", enr["_has_baseline"] == inc.has_baseline)
    if inc.treatment_kinds:
        t = frames["treatments"]
        ids = set(t.loc[t["treatments.kind"].astype(object).isin(inc.treatment_kinds), "_enrolment_id"].dropna())
        step(f"behandling {', '.join(inc.treatment_kinds)}", enr["_enrolment_id"].isin(ids))
    if inc.followup_kinds or inc.followup_responded is not None:
        f = frames["followups"]
        m = pd.Series(True, index=f.index)
        if inc.followup_kinds:
            m &= f["followups.kind"].astype(object).isin(inc.followup_kinds)
        if inc.followup_responded:
            m &= f["followups.responded_at"].notna()
        ids = set(f.loc[m, "_enrolment_id"].dropna())
        what = ", ".join(inc.followup_kinds or ("alle typer",))
        label = f"oppfølging {what}" + (" besvart" if inc.followup_responded else " sendt")
        step(label, enr["_enrolment_id"].isin(ids))
    if not keep.any():
        empty_at = next(label for label, n in flow if n == 0)
        shown = "\n  ".join(f"{label}: {n}" for label, n in flow)
        raise UsageError(
            f"inklusjonskriteriene velger ingen innskrivinger (ingen igjen etter «{empty_at}»). "
            f"Antall igjen etter hvert kriterium:\n  {shown}"
        )
    return keep, flow
