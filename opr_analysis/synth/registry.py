"""A calibrated synthetic registry extract (no real patients).

:func:`synthesize` draws a whole registry extract in the shape of the data
contract (``codebook.yaml``): referrals, patients, enrolments, baseline
responses, short forms, treatments, follow-ups, the OPRv1 aggregates and the
implant register of the SCS treatments (:mod:`.implants`, its own random stream). The
volumes and shares resemble the registry's 2023 annual report (the seed
report): about 2 200 assessed referrals a year, a rejected share rising from
30 % to 46 %, about 900 baseline responses a year, a median completion time
near 31 minutes, and follow-up dispatch with realistic errors (a few owed
questionnaires not sent, a few sent to excluded patients, a few duplicates).

Everything is drawn with vectorised numpy/pandas from one seed, so the same
``seed``, ``scale`` and ``years`` give the same tables, and
:func:`write_synthetic` gives the same bytes.

Per-patient hidden variables (``latent``: severity, engagement, improvement)
are kept beside the tables and never written; later generators (for example
the questionnaire answers) use them through the ``generators`` hook.

Examples
--------
>>> reg = synthesize(seed=1, scale=0.1, years=(2021, 2022))
>>> [t for t in ["referrals", "enrolments", "followups"] if t in reg.tables]
['referrals', 'enrolments', 'followups']
>>> reg.tables["patients"]["patient_id"].str.startswith("P").all()
np.True_
>>> {"patient_id", "severity"} <= set(reg.latent.columns)
True
"""

from __future__ import annotations

import io
import os
import re
import zipfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import UsageError
from ..extract import codebook
from ..safety.owned import owned_dir
from .values import dates as _dates
from .values import ids as _ids
from .values import stamps as _stamps

FORMATS = ("csv", "parquet", "xlsx")
#: CSV dialects: ``iso`` (``,``, ISO dates, ``true``/``false``, LF) and ``norsk``, the shape the
#: registry's systems export (``;``, a UTF-8 byte-order mark, ``31.12.2023``,
#: ``31.12.2023 14:05:09``, ``ja``/``nei``, decimal comma, CRLF). Both are the data contract's.
DIALECTS = ("iso", "norsk")
DEFAULT_SEED = 2024
DEFAULT_YEARS = (2020, 2025)

#: The new questionnaire solution (Nettskjema) starts here; earlier baselines were in Infopad.
NEW_SOLUTION_START = "2020-12-01"
#: Follow-up rule of the contract (seed §4.4).
PROCEDURE_FOLLOWUP_FROM = "2021-06-01"
CLOSED_FOLLOWUP_FROM = "2021-12-01"

# Calibration targets from the seed report (tables 10-15); other years use the defaults.
_ASSESSED = {2021: 2299, 2022: 2339, 2023: 2080}
_ASSESSED_DEFAULT = 2200
# per enrolment; double baselines and re-enrolled patients add a few percent on top
_BASELINE_SHARE = {2021: 0.68, 2022: 0.60, 2023: 0.87}
_BASELINE_SHARE_DEFAULT = 0.78
_SHORT_FORMS = {2021: 44, 2022: 20, 2023: 20}
_SHORT_FORMS_DEFAULT = 30
_LEGACY = {  # seed table 13: baseline answers in Infopad, new patients per DIPS
    2015: (168, None),
    2016: (866, 1046),
    2017: (877, 1015),
    2018: (934, 1054),
    2019: (874, 935),
    2020: (701, 821),
}
_FORWARDED_SHARE = 0.012
_NOT_ASSESSED_SHARE = 0.035  # apen_retur + foresporsel rows, relative to assessed
_ENROLMENTS_TARGET = 1150
_REGIONS = ("lokal", "regional", "nasjonal")
_REGION_P = {"rett": (0.40, 0.52, 0.08), "avvist": (0.44, 0.47, 0.09)}
_SHORT_FORM_REASONS = {  # seed table 15, 2021-2023 summed; "" = blank cell
    "ingen_enhet": 27,
    "teknisk_innlogging": 22,
    "teknisk_eget_utstyr": 10,
    "misforstatt": 6,
    "onsket_ikke": 3,
    "kunne_ikke_svare_selv": 3,
    "mangler_id": 2,
    "glemt": 4,
    "annet": 3,
    "": 4,
}
_DIAGNOSES = {
    "M54.5": 22,
    "M79.7": 14,
    "G89.2": 12,
    "M54.4": 9,
    "G50.0": 5,
    "M54.1": 7,
    "R52.2": 8,
    "G56.0": 4,
    "M25.5": 5,
    "G44.2": 4,
}
_DIAGNOSIS_BLANK = 0.10
# Share of blank (unknown) patient flags; a blank flag excludes nobody from follow-up.
_BOOL_BLANK = 0.003

#: Extra generators called by :func:`synthesize` (after the core tables) unless a
#: ``generators`` argument is given. Each is ``fn(registry, rng) -> dict[str, DataFrame]``.
#: The questionnaire answers (``opr_analysis.synth.answers``) are added by
#: :func:`default_generators`.
GENERATORS: list[Callable[[SyntheticRegistry, np.random.Generator], dict[str, pd.DataFrame]]] = []


def default_generators() -> list[Callable]:
    """:data:`GENERATORS` plus the questionnaire-answer generator and the patients' rights requests."""
    from .answers import synth_answers
    from .rights import synth_rights_requests  # contract v1.2 (issue 26)

    return [*GENERATORS, synth_answers, synth_rights_requests]


@dataclass
class SyntheticRegistry:
    """A synthetic extract: the tables to write plus the hidden truth behind them.

    ``tables`` holds typed columns in codebook order (ids and codes as strings,
    dates as ``datetime64``, booleans as nullable ``boolean``, counts as
    ``Int64``). ``latent`` has one row per patient: ``severity`` (z, N(0, 1);
    higher = worse pain and function), ``engagement`` (z; higher = more
    willing to answer questionnaires), ``improvement`` (z; higher = better
    outcome after treatment) and ``age_at_enrolment``. ``followups_due`` is the
    generator's own view of every follow-up that came due (anchor, kind,
    due date, owed, number of rows sent) - a ground truth for audit tests.
    """

    tables: dict[str, pd.DataFrame]
    latent: pd.DataFrame
    followups_due: pd.DataFrame
    seed: int
    scale: float
    years: tuple[int, int]
    extract_end: pd.Timestamp
    extra: dict = field(default_factory=dict)


# --------------------------------------------------------------------------- helpers


def _day(s: str) -> int:
    return int(np.datetime64(s, "D").astype(np.int64))


def _add_months(days: np.ndarray, months: int) -> np.ndarray:
    """Add calendar months to day numbers, clipping to the month's last day."""
    idx = pd.DatetimeIndex(days.astype("datetime64[D]").astype("datetime64[s]"))
    shifted = idx + pd.DateOffset(months=months)
    return shifted.to_numpy().astype("datetime64[D]").astype(np.int64)


def _year(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970


def _busday(days: np.ndarray) -> np.ndarray:
    """Roll day numbers forward to the next weekday (clinic days)."""
    return np.busday_offset(days.astype("datetime64[D]"), 0, roll="forward").astype(np.int64)


def _weekdays(year: int) -> np.ndarray:
    days = np.arange(_day(f"{year}-01-01"), _day(f"{year + 1}-01-01"))
    return days[np.is_busday(days.astype("datetime64[D]"))]


def _bool_with_blanks(rng: np.random.Generator, n: int, p: float, blank: float) -> pd.Series:
    values = pd.array(rng.random(n) < p, dtype="boolean")
    values[rng.random(n) < blank] = pd.NA
    return pd.Series(values)


def _choice(rng: np.random.Generator, weights: dict, n: int) -> np.ndarray:
    keys = np.array(list(weights), dtype=object)
    p = np.array(list(weights.values()), dtype=float)
    return keys[rng.choice(len(keys), size=n, p=p / p.sum())]


def _per_year(year: np.ndarray, fn: Callable[[int], float]) -> np.ndarray:
    """``fn(year)`` for every element of an int year array (one call per distinct year)."""
    uniq, inverse = np.unique(year, return_inverse=True)
    return np.array([fn(int(y)) for y in uniq], dtype=float)[inverse]


def _rejected_share(year: int) -> float:
    return float(np.clip(0.30 + 0.08 * (year - 2021), 0.305, 0.455))


# --------------------------------------------------------------------------- tables


def _referrals(rng, scale, years):
    """Referral log rows with the per-referral patient attributes."""
    parts = []
    for year in range(years[0], years[1] + 1):
        target = _ASSESSED.get(year, _ASSESSED_DEFAULT) * scale
        n_assessed = rng.poisson(target)
        n_other = rng.poisson(target * _NOT_ASSESSED_SHARE)
        rej = _rejected_share(year) + rng.normal(0, 0.005)
        decision = _choice(
            rng,
            {"rett": 1 - rej - _FORWARDED_SHARE, "avvist": rej, "videresendt": _FORWARDED_SHARE},
            n_assessed,
        )
        decision = np.concatenate([decision, _choice(rng, {"apen_retur": 1, "foresporsel": 1}, n_other)])
        weekdays = _weekdays(year)
        day = weekdays[rng.integers(0, len(weekdays), size=len(decision))]
        # region: coded part by decision, then some annet/blank
        coded = np.empty(len(decision), dtype=object)
        for dec, p in (("rett", _REGION_P["rett"]), ("other", _REGION_P["avvist"])):
            sel = decision == "rett" if dec == "rett" else decision != "rett"
            coded[sel] = np.array(_REGIONS, dtype=object)[rng.choice(3, size=int(sel.sum()), p=p)]
        other_share = np.where(decision == "rett", rng.uniform(0.02, 0.06), 0.002)
        other_share = np.where(np.isin(decision, ["apen_retur", "foresporsel"]), 0.05, other_share)
        is_other = rng.random(len(decision)) < other_share
        coded[is_other] = np.where(rng.random(int(is_other.sum())) < 0.6, "annet", "")
        parts.append(pd.DataFrame({"assessed": day, "decision": decision, "region": coded}))
    ref = pd.concat(parts, ignore_index=True)
    ref = ref.sort_values("assessed", kind="stable").reset_index(drop=True)
    n = len(ref)
    year = _year(ref["assessed"].to_numpy())
    # age at referral: adults 18-90 (mode in the fifties) plus a few 16-17-year-olds
    age = np.clip(np.round(rng.normal(52, 15, n)), 18, 90)
    minor = rng.random(n) < 0.008
    age[minor] = rng.integers(16, 18, size=int(minor.sum()))
    ref["birth_year"] = (year - age).astype(np.int64)
    ref["age"] = age.astype(np.int64)
    ref["minor"] = minor
    ref["sex"] = np.where(rng.random(n) < 0.60, "K", "M")
    # pseudonymous patient numbers in random order
    ref["patient_no"] = rng.permutation(n) + 1
    return ref


def _enrol(rng, ref, end_day):
    """Choose granted referrals that become enrolments; some patients come back."""
    year = _year(ref["assessed"].to_numpy())
    expected_rett = _per_year(
        year, lambda y: _ASSESSED.get(y, _ASSESSED_DEFAULT) * (1 - _rejected_share(y) - _FORWARDED_SHARE)
    )
    p_enrol = np.minimum(0.93, _ENROLMENTS_TARGET / expected_rett)
    granted = _busday(ref["assessed"].to_numpy() + rng.integers(1, 29, size=len(ref)))
    enrolled = (ref["decision"].to_numpy() == "rett") & (rng.random(len(ref)) < p_enrol)
    enrolled &= granted <= end_day
    ref["granted"] = np.where(enrolled, granted, -1)
    ref["enrolled"] = enrolled
    # a few percent of enrolments are a second enrolment of an earlier patient
    pos = np.flatnonzero(enrolled)
    repeat = rng.random(len(pos)) < 0.04
    repeat[0] = False
    owners = pos[~repeat]
    rep_pos = pos[repeat]
    k = np.searchsorted(owners, rep_pos)  # owners enrolled before each repeat
    n_years = max(1, int(np.ptp(_year(ref["assessed"].to_numpy()))) + 1)
    window = max(1, int(len(pos) / n_years * 1.25))  # back to about 15 months earlier
    back = rng.integers(1, np.maximum(np.minimum(k, window), 1) + 1)
    owner = owners[np.maximum(k - back, 0)]
    patient_no = ref["patient_no"].to_numpy().copy()
    patient_no[rep_pos] = patient_no[owner]
    ref["patient_no"] = patient_no
    ref["repeat"] = False
    ref.loc[rep_pos, "repeat"] = True
    ref["patient_id"] = _ids("P", len(ref))[patient_no - 1]
    return ref


def _patients(rng, ref, end_day):
    """Patients table (every enrolled patient) and their latent variables."""
    own = ref[ref["enrolled"] & ~ref["repeat"]].sort_values("patient_id").reset_index(drop=True)
    n = len(own)
    reserved = np.full(n, np.nan)
    has_res = rng.random(n) < 0.025  # those after the extract end stay blank
    res_day = own["granted"].to_numpy() + rng.integers(0, 900, size=n)
    reserved[has_res & (res_day <= end_day)] = res_day[has_res & (res_day <= end_day)]
    patients = pd.DataFrame(
        {
            "patient_id": own["patient_id"].astype("string"),
            "birth_year": pd.array(own["birth_year"], dtype="Int64"),
            "sex": own["sex"].astype("string"),
            "interpreter_needed": _bool_with_blanks(rng, n, 0.04, _BOOL_BLANK),
            "cognitive_impairment": _bool_with_blanks(rng, n, 0.02, _BOOL_BLANK),
            "research_participant": _bool_with_blanks(rng, n, 0.05, _BOOL_BLANK),
            "reserved_date": _dates(reserved),
        }
    )
    latent = pd.DataFrame(
        {
            "patient_id": own["patient_id"].to_numpy(),
            "severity": rng.normal(0, 1, n),
            "engagement": rng.normal(0, 1, n),
            "improvement": rng.normal(0, 1, n),
            "age_at_enrolment": own["age"].to_numpy(),
        }
    )
    return patients, latent


def _enrolments(rng, ref, end_day):
    enr = ref[ref["enrolled"]].sort_values(["granted", "patient_no"], kind="stable").reset_index(drop=True)
    n = len(enr)
    granted = enr["granted"].to_numpy().astype(np.int64)
    first = _busday(granted + np.round(rng.gamma(4.0, 9.0, n) + 10).astype(np.int64))  # ~2-10 weeks
    first_blank = (rng.random(n) < 0.03) | (first > end_day)
    closed = _busday(first + rng.integers(90, 548, size=n))
    closes = rng.random(n) < 0.93
    closed_blank = first_blank | ~closes | (closed > end_day)
    dips = closed + np.where(rng.random(n) < 0.06, rng.integers(-10, 15, size=n), 0)
    dips_blank = closed_blank | (dips > end_day)
    # closed in DIPS but not in the registry (a data-quality finding)
    dips_only = ~closed_blank & (rng.random(n) < 0.015)
    closed_blank = closed_blank | dips_only
    diagnosis = _choice(rng, _DIAGNOSES, n)
    diagnosis[rng.random(n) < _DIAGNOSIS_BLANK] = None
    enrolments = pd.DataFrame(
        {
            "enrolment_id": pd.array(_ids("E", n), dtype="string"),
            "patient_id": enr["patient_id"].astype("string"),
            "granted_date": _dates(granted),
            "first_consultation_date": _dates(np.where(first_blank, np.nan, first)),
            "closed_date": _dates(np.where(closed_blank, np.nan, closed)),
            "dips_closed_date": _dates(np.where(dips_blank, np.nan, dips)),
            "diagnosis": pd.array(diagnosis, dtype="string"),
        }
    )
    work = pd.DataFrame(
        {
            "granted": granted,
            "first": np.where(first_blank, -1, first),
            "minor": enr["minor"].to_numpy(),
            "patient_id": enr["patient_id"].to_numpy(),
        }
    )
    return enrolments, work


def _seconds_of_day(rng, n):
    """A time of day between 07:00 and 23:00, in seconds."""
    return rng.integers(7 * 3600, 23 * 3600, size=n)


def _durations(rng, n):
    """Completion times: lognormal around 31 min plus a small heavy tail, 7 min-4.6 h."""
    ms = rng.lognormal(np.log(1_840_000), 0.52, n)
    tail = rng.random(n) < 0.02
    ms[tail] = rng.lognormal(np.log(5_400_000), 0.6, int(tail.sum()))
    low = ms < 420_000
    ms[low] = 420_000 + rng.uniform(0, 90_000, int(low.sum()))
    return np.minimum(ms, 16_500_000 - rng.uniform(0, 900_000, n)).round().astype(np.int64)


def _baselines(rng, work, end_day):
    n = len(work)
    granted = work["granted"].to_numpy()
    first = work["first"].to_numpy()
    gyear = _year(granted)
    share = _per_year(gyear, lambda y: _BASELINE_SHARE.get(y, _BASELINE_SHARE_DEFAULT))
    answers = rng.random(n) < share
    window_end = np.where(first >= 0, first, granted + 30)
    day = granted + np.floor(rng.random(n) * (window_end - granted + 1)).astype(np.int64)
    late = (first >= 0) & (rng.random(n) < 0.05)  # a few answer after the first consultation
    day[late] = first[late] + rng.integers(1, 15, size=int(late.sum()))
    idx = np.flatnonzero(answers)
    twice = idx[rng.random(len(idx)) < 0.03]  # a few answer two baselines
    idx_all = np.concatenate([idx, twice])
    day_all = np.concatenate([day[idx], day[twice] + rng.integers(1, 21, size=len(twice))])
    secs = day_all.astype(np.int64) * 86400 + _seconds_of_day(rng, len(idx_all))
    keep = (day_all >= _day(NEW_SOLUTION_START)) & (day_all <= end_day)
    idx_all, secs = idx_all[keep], secs[keep]
    order = np.lexsort((idx_all, secs))
    idx_all, secs = idx_all[order], secs[order]
    m = len(idx_all)
    baseline = pd.DataFrame(
        {
            "response_id": pd.array(_ids("B", m), dtype="string"),
            "patient_id": pd.array(work["patient_id"].to_numpy()[idx_all], dtype="string"),
            "submitted_at": _stamps(secs),
            "duration_ms": pd.array(_durations(rng, m), dtype="Int64"),
        }
    )
    responded = np.zeros(n, dtype=bool)
    responded[idx_all] = True
    return baseline, responded


def _short_forms(rng, work, responded, scale, years, end_day):
    first = work["first"].to_numpy()
    cand = np.flatnonzero(~responded & (first >= _day(NEW_SOLUTION_START)) & (first <= end_day))
    cyear = _year(first[cand])
    rank = pd.Series(rng.random(len(cand))).groupby(cyear).rank(method="first").to_numpy()
    want = {}
    for year in range(years[0], years[1] + 1):
        lam = _SHORT_FORMS.get(year, _SHORT_FORMS_DEFAULT) * scale
        if year == 2020:
            lam = 3 * scale  # the new solution only ran in December 2020
        want[year] = rng.poisson(lam)
    take = cand[rank <= pd.Series(cyear).map(want).fillna(0).to_numpy()]
    take = take[np.lexsort((take, first[take]))]
    m = len(take)
    reason = _choice(rng, _SHORT_FORM_REASONS, m)
    reason[reason == ""] = None
    return pd.DataFrame(
        {
            "short_form_id": pd.array(_ids("S", m), dtype="string"),
            "patient_id": pd.array(work["patient_id"].to_numpy()[take], dtype="string"),
            "date": _dates(first[take]),
            "reason": pd.array(reason, dtype="string"),
        }
    )


def _treatments(rng, work, end_day):
    n = len(work)
    first = work["first"].to_numpy()
    seen = first >= 0
    p_rf = np.where(work["minor"].to_numpy(), 0.5, 0.20)
    rf = seen & (rng.random(n) < p_rf)
    rf_day = first + rng.integers(14, 200, size=n)
    rf2 = rf & (rng.random(n) < 0.10)
    rf2_day = rf_day + rng.integers(120, 365, size=n)
    scs = seen & (rng.random(n) < 0.035)
    scs_day = first + rng.integers(60, 365, size=n)
    rows = np.concatenate([np.flatnonzero(rf), np.flatnonzero(rf2), np.flatnonzero(scs)])
    day = np.concatenate([rf_day[rf], rf2_day[rf2], scs_day[scs]])
    kind = np.concatenate(
        [np.full(int(rf.sum()) + int(rf2.sum()), "rf", dtype=object), np.full(int(scs.sum()), "scs", dtype=object)]
    )
    day = _busday(day)
    keep = day <= end_day
    rows, day, kind = rows[keep], day[keep], kind[keep]
    order = np.lexsort((kind, rows, day))
    rows, day, kind = rows[order], day[order], kind[order]
    m = len(rows)
    return pd.DataFrame(
        {
            "treatment_id": pd.array(_ids("T", m), dtype="string"),
            "patient_id": pd.array(work["patient_id"].to_numpy()[rows], dtype="string"),
            "kind": pd.array(kind, dtype="string"),
            "date": _dates(day),
        }
    )


def _followups(rng, patients, latent, enrolments, treatments, end_day):
    """Due follow-ups per the contract's rule, then dispatch with realistic errors."""
    parts = []
    tr = treatments[treatments["date"] >= pd.Timestamp(PROCEDURE_FOLLOWUP_FROM)]
    tr_day = tr["date"].to_numpy().astype("datetime64[D]").astype(np.int64)
    for months in (3, 6, 12):
        parts.append(
            pd.DataFrame(
                {
                    "anchor_id": tr["treatment_id"].to_numpy(),
                    "patient_id": tr["patient_id"].to_numpy(),
                    "kind": (tr["kind"] + f"_{months}m").to_numpy(),
                    "due": _add_months(tr_day, months),
                }
            )
        )
    en = enrolments[enrolments["closed_date"] >= pd.Timestamp(CLOSED_FOLLOWUP_FROM)]
    en_day = en["closed_date"].to_numpy().astype("datetime64[D]").astype(np.int64)
    parts.append(
        pd.DataFrame(
            {
                "anchor_id": en["enrolment_id"].to_numpy(),
                "patient_id": en["patient_id"].to_numpy(),
                "kind": "avsluttet_12m",
                "due": _add_months(en_day, 12),
            }
        )
    )
    due = pd.concat(parts, ignore_index=True)
    due = due[due["due"] <= end_day].sort_values(["due", "anchor_id", "kind"]).reset_index(drop=True)
    # positions of each due row's patient in patients/latent (same order), looked up once
    pos = pd.Index(patients["patient_id"]).get_indexer(due["patient_id"])
    lat_pos = pd.Index(latent["patient_id"]).get_indexer(patients["patient_id"])[pos]
    pid = due["patient_id"].to_numpy()
    birth = patients["birth_year"].to_numpy(dtype=np.int64)[pos]
    flags = [
        patients[c].fillna(False).to_numpy(dtype=bool)[pos]
        for c in ("interpreter_needed", "cognitive_impairment", "research_participant")
    ]
    reserved = patients["reserved_date"].to_numpy().astype("datetime64[D]")[pos]
    due_day = due["due"].to_numpy()
    due_year = _year(due_day)
    is_reserved = ~np.isnat(reserved) & (reserved.astype(np.int64) <= due_day)
    owed = (due_year - birth >= 18) & ~flags[0] & ~flags[1] & ~flags[2] & ~is_reserved
    n = len(due)
    sent = np.where(owed, rng.random(n) >= 0.05, rng.random(n) < 0.15)
    dup = sent & owed & (rng.random(n) < 0.01)
    due["owed"] = owed
    due["sent"] = sent.astype(np.int64) + dup.astype(np.int64)
    first_day = due_day + rng.integers(0, 15, size=n)
    dup_day = first_day + rng.integers(1, 31, size=n)
    rows = np.concatenate([np.flatnonzero(sent), np.flatnonzero(dup)])
    sent_day = np.concatenate([first_day[sent], dup_day[dup]])
    sent_day = np.minimum(sent_day, end_day)
    # response depends on baseline characteristics: older more, severe less, women slightly more
    age = due_year[rows] - birth[rows]
    sev = latent["severity"].to_numpy()[lat_pos[rows]]
    eng = latent["engagement"].to_numpy()[lat_pos[rows]]
    female = patients["sex"].to_numpy()[pos[rows]] == "K"
    logit = -0.78 + 0.03 * (age - 55) - 0.55 * sev + 0.15 * female + 0.5 * eng
    answers = rng.random(len(rows)) < 1 / (1 + np.exp(-logit))
    resp_secs = (sent_day + np.round(rng.gamma(1.5, 7.0, len(rows))).astype(np.int64) + 1) * 86400
    resp_secs = resp_secs + _seconds_of_day(rng, len(rows))
    answers &= resp_secs < (end_day + 1) * 86400
    order = np.lexsort((due["kind"].to_numpy()[rows], due["anchor_id"].to_numpy()[rows], sent_day))
    rows, sent_day, answers, resp_secs = rows[order], sent_day[order], answers[order], resp_secs[order]
    m = len(rows)
    followups = pd.DataFrame(
        {
            "followup_id": pd.array(_ids("F", m), dtype="string"),
            "patient_id": pd.array(pid[rows], dtype="string"),
            "kind": pd.array(due["kind"].to_numpy()[rows], dtype="string"),
            "anchor_id": pd.array(due["anchor_id"].to_numpy()[rows], dtype="string"),
            "sent_date": _dates(sent_day),
            "responded_at": _stamps(np.where(answers, resp_secs, np.nan)),
        }
    )
    due["due"] = _dates(due_day)
    return followups, due


def _legacy(rng, scale):
    years = sorted(_LEGACY)
    bl = [int(round(_LEGACY[y][0] * scale * rng.lognormal(0, 0.03))) for y in years]
    new = [None if _LEGACY[y][1] is None else int(round(_LEGACY[y][1] * scale * rng.lognormal(0, 0.03))) for y in years]
    return pd.DataFrame(
        {
            "year": pd.array(years, dtype="Int64"),
            "baseline_responses": pd.array(bl, dtype="Int64"),
            "new_patients": pd.array(new, dtype="Int64"),
        }
    )


def _generator_rng(seed: int, fn: Callable) -> np.random.Generator:
    """Each extra generator gets its own stream, so adding one changes no other table."""
    name = f"{getattr(fn, '__module__', '')}.{getattr(fn, '__qualname__', repr(fn))}"
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


#: The volumes a user may ask for (``opr synth --scale``, :func:`synthesize_units`): MAX_SCALE is national
#: size (100) twice over. :func:`synthesize` itself draws down to GENERATOR_MIN_SCALE (the small units of a
#: multi-unit extract); below about 0.0001 a year gets no referral at all and the draw fails.
MIN_SCALE, MAX_SCALE = 0.01, 200.0
GENERATOR_MIN_SCALE = 0.001
#: Referral years the generator models (``opr synth --years``).
FIRST_YEAR, LAST_YEAR = 2000, 2100


def check_args(seed, scale, years, min_scale: float = GENERATOR_MIN_SCALE) -> tuple[int, float, tuple[int, int]]:
    """``(seed, scale, years)`` checked against the generator's bounds (:class:`UsageError` otherwise)."""
    if not (isinstance(scale, (int, float)) and not isinstance(scale, bool) and min_scale <= scale <= MAX_SCALE):
        raise UsageError(f"scale må være et tall fra {min_scale:g} til {MAX_SCALE:g}, ikke {scale!r}")
    y0, y1 = (int(years[0]), int(years[1]))
    if y0 > y1 or y0 < FIRST_YEAR or y1 > LAST_YEAR:
        raise UsageError(f"ugyldig årsintervall {y0}-{y1} (årene må ligge mellom {FIRST_YEAR} og {LAST_YEAR})")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise UsageError(f"frøet må være et heltall 0 eller større, ikke {seed!r}")
    return int(seed), float(scale), (y0, y1)


def synthesize(
    seed: int = DEFAULT_SEED,
    scale: float = 1.0,
    years: tuple[int, int] = DEFAULT_YEARS,
    generators: Sequence[Callable] | None = None,
) -> SyntheticRegistry:
    """Draw a synthetic registry extract.

    ``scale`` multiplies every volume (1 = the department, about 2 200 assessed
    referrals a year; 100 = national size). ``years`` is the inclusive range of
    referral years; the extract ends on 31 December of the last year.
    ``generators`` (default :func:`default_generators`) are called in order as
    ``fn(registry, rng)`` after the core tables exist; each returns a dict of
    further tables (say ``baseline_answers``) that is merged into
    ``registry.tables``.

    >>> reg = synthesize(seed=3, scale=0.05, years=(2022, 2022))
    >>> reg.extract_end
    Timestamp('2022-12-31 00:00:00')
    >>> set(reg.tables["referrals"]["decision"]) <= {"rett", "avvist", "videresendt", "apen_retur", "foresporsel"}
    True
    """
    seed, scale, years = check_args(seed, scale, years)
    rng = np.random.default_rng(seed)
    end_day = _day(f"{years[1]}-12-31")
    ref = _referrals(rng, scale, years)
    ref = _enrol(rng, ref, end_day)
    patients, latent = _patients(rng, ref, end_day)
    enrolments, work = _enrolments(rng, ref, end_day)
    baseline, responded = _baselines(rng, work, end_day)
    short_forms = _short_forms(rng, work, responded, scale, years, end_day)
    treatments = _treatments(rng, work, end_day)
    followups, due = _followups(rng, patients, latent, enrolments, treatments, end_day)
    referrals = pd.DataFrame(
        {
            "referral_id": pd.array(_ids("R", len(ref)), dtype="string"),
            "patient_id": ref["patient_id"].astype("string"),
            "assessed_date": _dates(ref["assessed"].to_numpy()),
            "decision": ref["decision"].astype("string"),
            "region": pd.array(ref["region"].replace("", None).to_numpy(), dtype="string"),
        }
    )
    tables = {
        "patients": patients,
        "referrals": referrals,
        "enrolments": enrolments,
        "baseline_responses": baseline,
        "short_forms": short_forms,
        "treatments": treatments,
        "followups": followups,
        "legacy_v1": _legacy(rng, scale),
    }
    reg = SyntheticRegistry(
        tables=tables,
        latent=latent,
        followups_due=due,
        seed=seed,
        scale=scale,
        years=years,
        extract_end=pd.Timestamp(f"{years[1]}-12-31"),
    )
    # --- v1.2 implants (issue 27): drawn from a stream of its own, so every other table is as before ---
    from .implants import synth_implants

    reg.tables.update(synth_implants(reg, _generator_rng(seed, synth_implants)))
    # --- end v1.2 implants ---
    for fn in default_generators() if generators is None else generators:
        reg.tables.update(fn(reg, _generator_rng(seed, fn)))
    return reg


# --------------------------------------------------------------------------- writing


def _column_order(name: str, df: pd.DataFrame) -> list[str]:
    table = codebook.load().tables.get(name)
    if table is None:
        return list(df.columns)
    known = [c for c in table.columns if c in df.columns]
    return known + [c for c in df.columns if c not in known]


def _is_datetime(name: str, col: str, s: pd.Series) -> bool:
    """A datetime (with time of day) column, by the codebook; else by its values."""
    table = codebook.load().tables.get(name)
    if table is not None and col in table.columns:
        return table.columns[col].type == "datetime"
    vals = s.dropna().to_numpy().astype("datetime64[s]").astype(np.int64)
    return bool((vals % 86400 != 0).any())


def _as_text(df: pd.DataFrame, name: str) -> pd.DataFrame:
    """Every column as the contract's text form: ISO dates, true/false, blank = ""."""
    out = {}
    for col in df.columns:
        s = df[col]
        if pd.api.types.is_datetime64_any_dtype(s):
            vals = s.to_numpy().astype("datetime64[s]")
            nat = np.isnat(vals)
            unit = "s" if _is_datetime(name, col, s) else "D"
            text = np.datetime_as_string(vals, unit=unit).astype(object)
            text[nat] = ""
            out[col] = text
        elif pd.api.types.is_bool_dtype(s):
            out[col] = s.map({True: "true", False: "false"}).astype(object).fillna("").to_numpy()
        else:
            out[col] = s.astype("string").fillna("").to_numpy(dtype=object)
    return pd.DataFrame(out, columns=list(df.columns))


def _arrow_table(df: pd.DataFrame, name: str, text_times: bool, dialect: str = "iso"):
    """A pyarrow table of typed columns; with ``text_times`` every column as text in ``dialect``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    norsk = dialect == "norsk"
    arrays = []
    for col in df.columns:
        s = df[col]
        if pd.api.types.is_datetime64_any_dtype(s):
            vals = s.to_numpy().astype("datetime64[s]")
            nat = np.isnat(vals)
            is_dt = _is_datetime(name, col, s)
            if text_times and norsk:
                arrays.append(_norwegian_text(np.datetime_as_string(vals, unit="s"), nat, is_dt))
            elif text_times:
                text = np.datetime_as_string(vals, unit="s" if is_dt else "D")
                arrays.append(pa.array(text, type=pa.string(), mask=nat))
            elif is_dt:
                arrays.append(pa.array(vals, type=pa.timestamp("s"), mask=nat))
            else:
                arrays.append(pa.array(vals.astype("datetime64[D]"), type=pa.date32(), mask=nat))
        elif pd.api.types.is_bool_dtype(s) and text_times and norsk:
            arrays.append(pa.array(s.map({True: "ja", False: "nei"}).astype("string"), type=pa.string()))
        elif pd.api.types.is_bool_dtype(s):
            arrays.append(pa.array(s.astype("boolean"), type=pa.bool_()))
        elif pd.api.types.is_integer_dtype(s):
            arrays.append(pa.array(s.astype("Int64"), type=pa.int64()))
        elif pd.api.types.is_float_dtype(s) and text_times and norsk:
            text = pc.cast(pa.array(s.astype("Float64"), type=pa.float64()), pa.string())
            arrays.append(pc.replace_substring(text, ".", ","))
        elif pd.api.types.is_float_dtype(s):
            arrays.append(pa.array(s.astype("Float64"), type=pa.float64()))
        else:
            arrays.append(pa.array(s.astype("string"), type=pa.string()))
    return pa.table(arrays, names=[str(c) for c in df.columns])


def _norwegian_text(iso: np.ndarray, nat: np.ndarray, with_time: bool):
    """ISO ``YYYY-MM-DDTHH:MM:SS`` strings to ``DD.MM.YYYY[ HH:MM:SS]`` (Arrow slices; strftime is slow)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pa.array(iso, type=pa.string(), mask=nat)

    def cut(start, stop):
        return pc.utf8_slice_codeunits(text, start, stop)

    parts = [cut(8, 10), cut(5, 7), cut(0, 4)]
    date = pc.binary_join_element_wise(*parts, ".")
    return pc.binary_join_element_wise(date, cut(11, 19), " ") if with_time else date


def _write_csv(df: pd.DataFrame, path: Path, name: str, dialect: str = "iso") -> None:
    """``iso``: UTF-8, ``,``, ISO dates, ``YYYY-MM-DDTHH:MM:SS``, ``true``/``false``, LF.
    ``norsk``: UTF-8 with BOM, ``;``, ``DD.MM.YYYY [HH:MM:SS]``, ``ja``/``nei``, decimal comma, CRLF.
    Blank = empty in both."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    norsk = dialect == "norsk"
    sep, eol = (";", "\r\n") if norsk else (",", "\n")
    table = _arrow_table(df, name, text_times=True, dialect=dialect)
    header = ("\ufeff" if norsk else "") + sep.join(table.column_names) + eol
    for style in ("none", "needed"):  # unquoted, unless some text needs quotes: then quote strings
        try:
            with open(path, "wb") as fh:
                fh.write(header.encode("utf-8"))
                options = pcsv.WriteOptions(include_header=False, quoting_style=style, delimiter=sep, eol=eol)
                pcsv.write_csv(table, fh, write_options=options)
            return
        except pa.ArrowInvalid:
            continue


def _write_parquet(df: pd.DataFrame, path: Path, name: str) -> None:
    import pyarrow.parquet as pq

    pq.write_table(_arrow_table(df, name, text_times=False), path, compression="zstd")


_FIXED_ZIP_TIME = (2020, 1, 1, 0, 0, 0)
_CORE_TIME = re.compile(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)")


def _write_xlsx(df: pd.DataFrame, path: Path, name: str) -> None:
    """One sheet of text cells (same text as the CSV), with fixed timestamps."""
    from openpyxl import Workbook

    if len(df) >= 1_048_576:
        raise UsageError(f"tabellen {name} har {len(df)} rader, flere enn et Excel-ark rommer; bruk csv eller parquet")
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(name[:31])
    ws.append(list(df.columns))
    for row in _as_text(df, name).itertuples(index=False, name=None):
        ws.append([v if v != "" else None for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    # make the bytes reproducible: fixed zip entry times and document timestamps
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = _CORE_TIME.sub(rb"\g<1>2020-01-01T00:00:00Z\g<3>", data)
            dst.writestr(zipfile.ZipInfo(info.filename, date_time=_FIXED_ZIP_TIME), data, zipfile.ZIP_DEFLATED)


def write_tables(
    tables: dict[str, pd.DataFrame], out: str | os.PathLike, fmt: str = "csv", dialect: str = "iso"
) -> Path:
    """Write ``tables`` as an extract folder (one file per table, codebook column order).

    ``dialect`` (CSV only): ``iso`` or ``norsk`` (see :data:`DIALECTS`).

    The files go to a temporary folder beside ``out`` that is renamed into
    place, so a reader never sees half an extract. An existing ``out`` is
    replaced only if ``opr synth`` wrote it (:mod:`opr_analysis.safety.owned`).
    """
    if fmt not in FORMATS:
        raise UsageError(f"ukjent format {fmt!r}; velg ett av {', '.join(FORMATS)}")
    if dialect not in DIALECTS:
        raise UsageError(f"ukjent dialekt {dialect!r}; velg en av {', '.join(DIALECTS)}")
    out = Path(out)
    with owned_dir(out, "synth") as tmp:
        for name, df in tables.items():
            df = df[_column_order(name, df)]
            path = tmp / f"{name}.{fmt}"
            if fmt == "csv":
                _write_csv(df, path, name, dialect)
            elif fmt == "parquet":
                _write_parquet(df, path, name)
            else:
                _write_xlsx(df, path, name)
    return out


def write_synthetic(
    out: str | os.PathLike,
    seed: int = DEFAULT_SEED,
    scale: float = 1.0,
    years: tuple[int, int] = DEFAULT_YEARS,
    fmt: str = "csv",
    generators: Sequence[Callable] | None = None,
    dialect: str = "iso",
) -> Path:
    """Draw a synthetic extract and write it to the folder ``out``; returns the folder.

    ``generators`` as for :func:`synthesize` (default: the answer generators too);
    ``dialect`` as for :func:`write_tables`.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp()) / "extract"
    >>> out = write_synthetic(d, scale=0.05, years=(2023, 2023), generators=[])
    >>> sorted(p.name for p in out.iterdir() if p.suffix == ".csv")[:2]
    ['baseline_responses.csv', 'enrolments.csv']
    """
    if fmt not in FORMATS:
        raise UsageError(f"ukjent format {fmt!r}; velg ett av {', '.join(FORMATS)}")
    reg = synthesize(seed=seed, scale=scale, years=years, generators=generators)
    return write_tables(reg.tables, out, fmt, dialect)
