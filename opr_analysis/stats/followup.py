"""Follow-up audit (seed §4.4 and the data contract's follow-up rule).

Owed follow-ups
---------------
RF and SCS procedures are followed up 3, 6 and 12 months after the procedure
date, enrolments 12 months after ``closed_date``; adding months clips to the
month's last day (31 August + 6 months = 28/29 February). Every procedure and
every closed enrolment gives candidate follow-ups; each candidate gets every
exclusion that applies, in this fixed order (the first is the primary
``exclusion``):

=================== ============================================================
``for_oppstart``    procedure before 2021-06-01 / closed before 2021-12-01
``under_18``        due year − birth year < 18 (age by birth year)
``kognitiv_svikt``  cognitive_impairment is true
``tolk``            interpreter_needed is true
``forskning``       research_participant is true
``reservert``       reserved_date on or before the due date
``ikke_forfalt``    due date after the as-of date (not yet owed)
=================== ============================================================

A blank (unknown) flag excludes nobody. A candidate with no exclusion is owed.

Sent follow-ups are matched to candidates by (anchor_id, kind); the year of a
sent row is the year of its candidate's due date. For an owed candidate the
earliest sent row (by sent_date, then followup_id) is ``sent_owed``; every other
sent row, and every row sent for a candidate that is not owed, is
``sent_not_owed``. A sent row whose anchor does not exist (or is of the wrong
kind) is a broken reference: :func:`~opr_analysis.load_extract` quarantines it
(the validation summary counts it), so it is counted nowhere here; given
directly, such a row appears in the audit with status ``ukjent_anker`` and no
year, and :func:`followup_response` leaves it out. A row whose ``patient_id`` is
not its anchor's patient is a broken reference too (quarantined by the reader).

Censoring at the as-of date
---------------------------
Everything is seen as it stood at the end of the as-of day: a row sent after
it is not in the audit, an answer after it counts as no answer, and a due date
after it is not yet owed (``ikke_forfalt``). A follow-up sent as owed fewer than
:data:`AWAITING_DAYS` days before the as-of date and not answered is
``awaiting`` (still within the answering period): it is not counted as
unanswered, so the response share over settled sends leaves it out.

Response shares
---------------
``response_share`` = responded / sent (all sent rows, the contract's
definition). ``responded_owed`` counts answers among ``sent_owed`` rows (one
per owed follow-up) and ``response_share_owed`` = responded_owed / sent_owed;
answers to rows sent without being owed are ``responded_not_owed``, reported
apart. ``response_share_settled`` = responded_owed / (sent_owed − awaiting) is
the share the report shows, with the denominator ``settled`` beside it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..extract import codebook
from .derived import age_at
from .shares import add_share, count_grid, year_range

RF_SCS_START = pd.Timestamp("2021-06-01")
CLOSED_START = pd.Timestamp("2021-12-01")
MONTHS = {"3m": 3, "6m": 6, "12m": 12}

#: A follow-up sent fewer than this many days before the as-of date, not yet answered, is still awaiting an answer.
AWAITING_DAYS = 30

EXCLUSIONS = {
    "for_oppstart": "før oppstart av oppfølging (prosedyre før 1.6.2021 / avsluttet før 1.12.2021)",
    "under_18": "under 18 år (etter fødselsår) i forfallsåret",
    "kognitiv_svikt": "kognitiv svikt",
    "tolk": "behov for tolk",
    "forskning": "deltar i forskningsprosjekt",
    "reservert": "reservert på eller før forfallsdato",
    "ikke_forfalt": "ikke forfalt ennå (forfallsdato etter kjøringsdato)",
}

STATUSES = {
    "sendt": "skyldig og sendt",
    "ikke_sendt": "skyldig, men ikke sendt",
    "sendt_ikke_skyldig": "sendt, men ikke skyldig (unntatt, ikke forfalt, eller sendt mer enn én gang)",
    "unntatt": "ikke skyldig, ikke sendt",
    "ukjent_anker": "sendt, men behandlingen/innskrivingen finnes ikke",
}

AUDIT_COLUMNS = [
    "patient_id", "kind", "anchor_id", "anchor_date", "due_date", "year", "owed", "exclusion", "exclusions",
    "followup_id", "sent_date", "sent", "sent_owed", "sent_not_owed", "responded_at", "responded", "status",
    "awaiting",
]  # fmt: skip


def _as_of(as_of) -> pd.Timestamp:
    return pd.Timestamp.today().normalize() if as_of is None else pd.Timestamp(as_of).normalize()


def followup_kinds() -> list[str]:
    """The follow-up kinds in codebook order."""
    return list(codebook.load().tables["followups"].columns["kind"].codes)


def followup_candidates(reg, as_of=None) -> pd.DataFrame:
    """Every follow-up the rule gives, owed or not: one row per (anchor_id, kind).

    Columns: patient_id, kind, anchor_id, anchor_date, due_date, year, owed,
    exclusion (primary, NA if owed), exclusions (all, ``;``-separated).
    """
    as_of = _as_of(as_of)
    t, e = reg.treatments, reg.enrolments
    parts = []
    for proc in ("rf", "scs"):
        sel = t[t["kind"] == proc]
        for suffix, months in MONTHS.items():
            parts.append(
                _candidates(
                    sel["treatment_id"], sel["patient_id"], sel["date"], f"{proc}_{suffix}", months, RF_SCS_START
                )
            )
    closed = e[e["closed_date"].notna()]
    parts.append(
        _candidates(
            closed["enrolment_id"], closed["patient_id"], closed["closed_date"], "avsluttet_12m", 12, CLOSED_START
        )
    )
    cand = pd.concat(parts, ignore_index=True)
    # Each candidate's patient row (the first with its id), by Arrow's hash lookup.
    at = _positions(cand["patient_id"], reg.patients["patient_id"])
    pat = {c: _take(reg.patients[c], at) for c in _PATIENT_FLAGS}
    due = cand["due_date"]
    flags = {
        "for_oppstart": cand["anchor_date"] < cand["start"],
        "under_18": age_at(due, pat["birth_year"]).to_numpy() < 18,
        "kognitiv_svikt": pat["cognitive_impairment"].to_numpy(),
        "tolk": pat["interpreter_needed"].to_numpy(),
        "forskning": pat["research_participant"].to_numpy(),
        "reservert": (pat["reserved_date"].to_numpy() <= due.to_numpy()) & pat["reserved_date"].notna().to_numpy(),
        "ikke_forfalt": due > as_of,
    }
    flags = pd.DataFrame(
        {k: pd.array(v, dtype="boolean").fillna(False).astype(bool) for k, v in flags.items()}, index=cand.index
    )
    cand["exclusions"] = _joined_flags(flags)
    cand["exclusion"] = _first_flag(flags)
    cand["owed"] = ~flags.any(axis=1)
    cand["year"] = cand["due_date"].dt.year.astype("Int64")
    return cand[
        ["patient_id", "kind", "anchor_id", "anchor_date", "due_date", "year", "owed", "exclusion", "exclusions"]
    ]


_PATIENT_FLAGS = ("birth_year", "cognitive_impairment", "interpreter_needed", "research_participant", "reserved_date")


def _positions(keys: pd.Series, ids: pd.Series) -> np.ndarray:
    """For each key, the position of the first equal non-missing id (-1 when none)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    def arrow(v):
        return pc.cast(pa.array(v.astype("string").array), pa.large_string())

    if not len(ids):
        return np.full(len(keys), -1, dtype=np.int64)
    where = pc.index_in(arrow(keys), value_set=arrow(ids))
    return pc.fill_null(where, -1).to_numpy(zero_copy_only=False).astype(np.int64)


def _joined_flags(flags: pd.DataFrame) -> pd.Series:
    """Per row, the names of the true flags in column order joined by ``;`` ("" when none)."""
    joined = np.full(len(flags), "", dtype=object)
    for name in flags.columns:
        on = flags[name].to_numpy()
        joined[on] = joined[on] + np.where(joined[on] == "", name, ";" + name)
    return pd.Series(joined, index=flags.index, dtype="string")


def _first_flag(flags: pd.DataFrame) -> pd.Series:
    """Per row, the name of the first true flag (NA when none)."""
    values = flags.to_numpy()
    first = np.asarray(flags.columns, dtype=object)[values.argmax(axis=1)] if len(flags) else np.array([], dtype=object)
    return pd.Series(first, index=flags.index, dtype="string").where(values.any(axis=1))


def _candidates(ids, patients, dates, kind, months, start) -> pd.DataFrame:
    dates = dates.astype("datetime64[ns]")
    return pd.DataFrame(
        {
            "patient_id": patients.astype(object).to_numpy(),
            "kind": kind,
            "anchor_id": ids.astype(object).to_numpy(),
            "anchor_date": dates.to_numpy(),
            "due_date": (dates + pd.DateOffset(months=months)).astype("datetime64[ns]").to_numpy(),
            "start": start,
        }
    )


def followup_audit(reg, as_of=None) -> pd.DataFrame:
    """Row-level audit: every candidate follow-up (owed or not) joined to what was sent.

    One row per candidate not sent, and one row per sent follow-up (a candidate
    sent twice gives two rows). Columns: ``AUDIT_COLUMNS``; ``status`` is one of
    ``STATUSES``. This is what ``opr followups`` writes.
    """
    as_of = _as_of(as_of)
    cand = followup_candidates(reg, as_of)
    f = reg.followups
    f = f[f["sent_date"].astype("datetime64[ns]") <= as_of]  # not yet sent on the as-of day
    # Each sent row's candidate by (anchor_id, kind) (candidates are unique by it), looked up
    # in Arrow; the rows are every sent row (with its candidate's columns, blank when its anchor
    # is unknown) and every candidate not sent. The sort below fixes their order.
    pos = _pair_positions(f["anchor_id"], f["kind"], cand["anchor_id"], cand["kind"])
    unsent = np.ones(len(cand), dtype=bool)
    unsent[pos[pos >= 0]] = False
    cand_at = np.concatenate([pos, np.flatnonzero(unsent)])
    sent_at = np.concatenate([np.arange(len(f)), np.full(int(unsent.sum()), -1)])
    unknown = pd.Series(cand_at < 0)
    rows = pd.DataFrame(
        {
            **{c: _take(cand[c], cand_at) for c in cand.columns},
            "followup_id": _take(f["followup_id"].astype(object), sent_at),
            "sent_date": _take(f["sent_date"].astype("datetime64[ns]"), sent_at),
            "responded_at": _take(f["responded_at"], sent_at),
        }
    )
    for col in ("patient_id", "kind", "anchor_id"):  # a sent row's own values (its candidate's, when known)
        own = _take(f[col].astype(object), sent_at)
        rows[col] = own.where(sent_at >= 0, rows[col].astype(object)).astype(object)
    rows["owed"] = rows["owed"].astype("boolean").fillna(False).astype(bool)
    rows["sent"] = sent_at >= 0
    rows = rows.sort_values(["anchor_id", "kind", "sent_date", "followup_id"], kind="stable", na_position="last")
    first = ~rows.duplicated(["anchor_id", "kind"])
    rows["sent_owed"] = rows["sent"] & rows["owed"] & first
    rows["sent_not_owed"] = rows["sent"] & ~rows["sent_owed"]
    answered_by = _answered_by_as_of(rows["responded_at"], as_of)
    rows["responded_at"] = rows["responded_at"].where(answered_by)
    rows["responded"] = rows["sent"] & answered_by
    recent = rows["sent_date"] > as_of - pd.Timedelta(days=AWAITING_DAYS)
    rows["awaiting"] = (rows["sent_owed"] & ~rows["responded"] & recent.fillna(False)).astype(bool)
    status = pd.Series("unntatt", index=rows.index, dtype=object)
    status[rows["owed"] & ~rows["sent"]] = "ikke_sendt"
    status[rows["sent_owed"]] = "sendt"
    status[rows["sent_not_owed"]] = "sendt_ikke_skyldig"
    status[unknown] = "ukjent_anker"
    rows["status"] = status.astype("string")
    out = rows[AUDIT_COLUMNS].sort_values(["due_date", "patient_id", "kind", "anchor_id", "sent_date"], kind="stable")
    for col in ("patient_id", "kind", "anchor_id", "followup_id", "exclusion", "exclusions"):
        out[col] = out[col].astype("string")
    return out.reset_index(drop=True)


def _answered_by_as_of(responded_at: pd.Series, as_of: pd.Timestamp) -> pd.Series:
    """True where an answer exists and was given on or before the as-of day (local calendar date)."""
    at = pd.Series(responded_at)
    if isinstance(at.dtype, pd.DatetimeTZDtype):
        at = at.dt.tz_convert("Europe/Oslo").dt.tz_localize(None)
    day = at.dt.normalize().astype("datetime64[ns]")
    return (day.notna() & (day <= as_of)).fillna(False).astype(bool)


def _take(s: pd.Series, at: np.ndarray) -> pd.Series:
    """``s`` at positions ``at`` (fresh 0..n-1 index); missing where ``at`` is -1."""
    taken = s.iloc[np.maximum(at, 0)].reset_index(drop=True) if len(s) else pd.Series([pd.NA] * len(at), dtype=s.dtype)
    return taken.mask(pd.Series(at < 0)) if (at < 0).any() else taken


def _pair_positions(a, b, ids_a, ids_b) -> np.ndarray:
    """For each (a, b), the position of the equal (ids_a, ids_b) pair (-1 when none), by Arrow's hash lookup."""
    import pyarrow as pa
    import pyarrow.compute as pc

    def key(x, y):
        x, y = (pc.cast(pa.array(v.astype("string").array), pa.large_string()) for v in (x, y))
        return pc.binary_join_element_wise(x, y, pa.scalar("\x1f", pa.large_string()))

    if not len(ids_a):
        return np.full(len(a), -1, dtype=np.int64)
    where = pc.index_in(key(a, b), value_set=key(ids_a, ids_b))
    return pc.fill_null(where, -1).to_numpy(zero_copy_only=False).astype(np.int64)


def followup_response(reg, as_of=None) -> pd.DataFrame:
    """§4.4 response table, one row per due year × kind (module docstring for the rules).

    Contract columns: year, kind, owed, sent, sent_owed, not_sent,
    sent_not_owed, responded, response_share (= responded / sent),
    responded_owed, response_share_owed (= responded_owed / sent_owed). Then:
    response_share and response_share_owed limits, responded_not_owed,
    awaiting, settled (= sent_owed − awaiting), response_share_settled
    (= responded_owed / settled) with limits.

    Years are due years, from the first to the last year with a follow-up owed
    or sent; every year × kind has a row. sent = sent_owed + sent_not_owed;
    not_sent = owed − sent_owed; responded counts sent rows with a responded_at.
    """
    audit = followup_audit(reg, as_of)
    audit = audit[audit["year"].notna()]
    candidate = ~audit.duplicated(["anchor_id", "kind"])
    rows = pd.DataFrame(
        {
            "year": audit["year"].astype("int64"),
            "kind": audit["kind"].astype(object),
            "owed": (audit["owed"] & candidate).astype("int64"),
            "sent_owed": audit["sent_owed"].astype("int64"),
            "sent_not_owed": audit["sent_not_owed"].astype("int64"),
            "responded": audit["responded"].astype("int64"),
            "responded_owed": (audit["responded"] & audit["sent_owed"]).astype("int64"),
            "awaiting": audit["awaiting"].astype("int64"),
        }
    )
    active = rows[(rows["owed"] + rows["sent_owed"] + rows["sent_not_owed"]) > 0]
    grid = {"year": year_range(active["year"]), "kind": followup_kinds()}
    sums = ("owed", "sent_owed", "sent_not_owed", "responded", "responded_owed", "awaiting")
    out = count_grid(rows, grid, {c: c for c in sums})
    return response_columns(out, ["year", "kind"])


def response_columns(out: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Derived counts and shares of the response table, contract columns first."""
    out["sent"] = out["sent_owed"] + out["sent_not_owed"]
    out["not_sent"] = out["owed"] - out["sent_owed"]
    out["responded_not_owed"] = out["responded"] - out["responded_owed"]
    out["settled"] = out["sent_owed"] - out["awaiting"]
    out = add_share(out, "response_share", "responded", "sent")
    out = add_share(out, "response_share_owed", "responded_owed", "sent_owed")
    out = add_share(out, "response_share_settled", "responded_owed", "settled")
    contract = [*keys, "owed", "sent", "sent_owed", "not_sent", "sent_not_owed", "responded", "response_share"]
    contract += ["responded_owed", "response_share_owed"]
    extra = [
        "response_share_ci_low", "response_share_ci_high", "response_share_owed_ci_low", "response_share_owed_ci_high",
        "responded_not_owed", "awaiting", "settled", "response_share_settled", "response_share_settled_ci_low",
        "response_share_settled_ci_high",
    ]  # fmt: skip
    return out[contract + extra]


def followup_totals(response: pd.DataFrame) -> pd.DataFrame:
    """:func:`followup_response` summed over kinds: the same counts and shares per year.

    Takes the per-kind table so that a caller holding it does not run the audit again.

    >>> t = pd.DataFrame({"year": [2024, 2024], "kind": ["rf_3m", "scs_3m"], "owed": [10, 2], "sent": [9, 2],
    ...                   "sent_owed": [9, 2], "not_sent": [1, 0], "sent_not_owed": [0, 0], "responded": [3, 1],
    ...                   "responded_owed": [3, 1], "awaiting": [1, 0]})
    >>> followup_totals(t)[["year", "sent", "responded", "response_share", "settled"]].to_dict("records")
    [{'year': 2024, 'sent': 11, 'responded': 4, 'response_share': 0.36363636363636365, 'settled': 10}]
    """
    counts = ["owed", "sent_owed", "sent_not_owed", "responded", "responded_owed", "awaiting"]
    out = response.groupby("year", as_index=False, sort=True)[counts].sum()
    return response_columns(out, ["year"])


#: Words in the reader's quarantine reason for a follow-up sent to someone else's anchor.
FOREIGN_ANCHOR_REASON = "annen pasients forløp"


def foreign_anchor_count(reg) -> int:
    """Follow-ups quarantined because their patient_id is not their anchor's patient (counted nowhere else)."""
    q = getattr(getattr(reg, "report", None), "quarantine", {}).get("followups")
    if q is None or q.empty or "quarantine_reason" not in q:
        return 0
    return int(q["quarantine_reason"].astype(str).str.contains(FOREIGN_ANCHOR_REASON, regex=False).sum())
