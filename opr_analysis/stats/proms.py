"""Questionnaire scores per response, baseline paired with follow-up, outcomes and «Table 1».

Every function takes a loaded :class:`~opr_analysis.Registry` and returns a
tidy DataFrame; the item answers come from the optional ``baseline_answers``
and ``followup_answers`` tables and are scored with
:func:`~opr_analysis.score_all` (an extract without them gives NA scores).

Pairing rule (baseline ↔ follow-up)
-----------------------------------
A follow-up belongs to a treatment episode. Its **anchor date** is the
procedure date (``rf_*``/``scs_*``: the treatment in ``anchor_id``) or the
closing date of the enrolment (``avsluttet_12m``: the enrolment in
``anchor_id``). Its **episode** is that enrolment (``avsluttet_12m``) or the
patient's most recent enrolment granted on or before the procedure date
(``rf_*``/``scs_*``). Each baseline belongs to an enrolment as
:func:`~opr_analysis.baseline_links` defines (the patient's most recent
enrolment granted on or before the submission date). The follow-up is paired
with the **latest baseline of its episode submitted on or before the anchor
date** (calendar dates) and **at most** :data:`PAIRING_MAX_DAYS` **(365) days
before it** (a local rule: an older baseline no longer describes the state
before this treatment). ``days_from_baseline`` (anchor date − baseline date)
is in the paired data. A follow-up with no such baseline is unpaired: its
baseline columns are NA and ``paired`` is False. A baseline from an earlier
episode is never used — the state before *this* treatment is what a change
score needs.

Where one (anchor, kind) was answered more than once (a questionnaire sent
twice), only the first answer (by ``responded_at``) has ``first_answer``
True; the outcome tables count only those.

Window
------
The outcome tables and the models take a ``window``: a (first, last) pair of
due years, tied to the report year (:func:`outcome_window`: the years the
report shows, by default the three years up to and including the report
year). Only follow-ups due in the window, on or before the as-of date, enter.
Sends and answers after the as-of date are not seen at all (the follow-up
audit censors them), so re-running a report for a past year with the same
as-of date gives the same numbers. ``window=None`` keeps every due year
(up to the as-of date).

Indicators
----------
- ``nrs_improved_30``: average pain (``nrs_avg``) fell by at least 30 % from
  a non-zero baseline, ``(baseline − follow-up) ≥ 0.3 × baseline``
  (Farrar et al. 2001); NA where the baseline is 0 or either value is missing.
- ``pgic_improved``: PGIC 1 or 2, «svært mye» or «mye bedre» (Farrar et al.
  2001); needs no baseline, so it is counted over every answered follow-up.

Examples
--------
>>> reg = load_extract("data/synthetic")                      # doctest: +SKIP
>>> improvement_rates(reg).head()                              # doctest: +SKIP
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pandas as pd
from statsmodels.stats.weightstats import DescrStatsW

from ..extract import codebook
from ..extract.needs import reads
from .baseline import baseline_links
from .derived import age_at
from .followup import followup_audit, followup_kinds
from .linking import day as _day
from .linking import enrolment_of
from .scoring import answers_to_wide, score_all
from .shares import add_share, aggregate_share, quartile_summary

__all__ = [
    "CHANGE_SCORES",
    "TREATMENTS",
    "INDICATORS",
    "baseline_scores",
    "followup_scores",
    "paired_outcomes",
    "improvement_rates",
    "outcome_window",
    "unscored_counts",
    "in_window",
    "PAIRING_MAX_DAYS",
    "change_summary",
    "baseline_profile",
    "NRS_IMPROVEMENT_SHARE",
    "reduced_by_share",
]

#: Treatment kinds (prefix of the follow-up kind) -> Norwegian label.
TREATMENTS = {"rf": "Radiofrekvensbehandling", "scs": "Ryggmargsstimulator", "avsluttet": "Avsluttet behandling"}

#: Outcome indicators -> Norwegian label.
INDICATORS = {
    "nrs_improved_30": "≥ 30 % lavere gjennomsnittlig smerte (NRS)",
    "pgic_improved": "Mye eller svært mye bedre (PGIC)",
}

#: Scores with a change score (follow-up − baseline) in :func:`paired_outcomes`.
#: For every one except the EQ-5D index and VAS, a negative change is an improvement.
CHANGE_SCORES = (
    "nrs_avg",
    "nrs_worst",
    "bpi_interference",
    "eq5d_index",
    "eq5d_vas",
    "eq5d_lss",
    "hscl10_mean",
    "pcs_total",
    "isi_total",
    "odi_percent",
)

_DEMOGRAPHICS = ("education", "work_status", "sick_leave", "pain_duration")

#: Local pairing rule: the paired baseline lies at most this many days before the anchor date.
PAIRING_MAX_DAYS = 365


def _scored_table(reg, table: str, id_column: str) -> pd.DataFrame:
    """score_all of a whole answer table, indexed by ``id_column`` (computed once per registry)."""
    answers = reg.tables.get(table)
    if answers is None or answers.empty:
        wide = pd.DataFrame(index=pd.Index([], name=id_column))
    else:
        long = answers.assign(**{id_column: answers[id_column].astype(object)})
        wide = answers_to_wide(long, id_column)
    scored = score_all(wide)
    demo = wide.reindex(columns=list(_DEMOGRAPHICS)) if table == "baseline_answers" else None
    out = scored if demo is None else pd.concat([scored, demo], axis=1)
    out["n_items"] = wide.notna().sum(axis=1).astype("int64")
    return out


def _scores(reg, table: str, id_column: str, ids: pd.Series) -> pd.DataFrame:
    """score_all of an answer table, one row per id in ``ids`` (NA scores where unanswered)."""
    scored = _memo(reg, ("scores", table), lambda: _scored_table(reg, table, id_column))
    out = scored.reindex(pd.Index(ids.astype(object).to_numpy(), name=id_column))
    out["n_items"] = out["n_items"].fillna(0).astype("int64")
    return out.reset_index(drop=True)


def _memo(reg, key, compute):
    # A Registry caches; a stand-in object (tests, notebooks) just computes.
    return reg.memo(key, compute) if hasattr(type(reg), "memo") else compute()


def _patients(reg) -> pd.DataFrame:
    p = reg.patients.drop_duplicates("patient_id")
    return p.set_index(p["patient_id"].astype(object))[["birth_year", "sex"]]


@reads(baseline_links, "patients", "baseline_answers")
def baseline_scores(reg) -> pd.DataFrame:
    """One row per baseline response with every score.

    Columns: response_id, patient_id, submitted_at, submitted_date, year,
    enrolment_id (the enrolment it belongs to, :func:`baseline_links`), age
    (submission year − birth year), sex, the :func:`score_all` columns,
    education, work_status, sick_leave, pain_duration (item codes, floats) and
    n_items (items answered; 0 = no item answers in the extract).
    """
    links = baseline_links(reg)
    pat = _patients(reg).reindex(links["patient_id"])
    out = pd.DataFrame(
        {
            "response_id": links["response_id"].astype("string"),
            "patient_id": links["patient_id"].astype("string"),
            "submitted_at": links["submitted_at"],
            "submitted_date": links["submitted_date"],
            "year": links["submitted_at"].dt.year.astype("Int64"),
            "enrolment_id": links["enrolment_id"].astype("string"),
            "age": age_at(links["submitted_at"], pat["birth_year"]).to_numpy(),
            "sex": pat["sex"].astype("string").to_numpy(),
        }
    )
    out["age"] = out["age"].astype("Float64")
    scores = _scores(reg, "baseline_answers", "response_id", links["response_id"])
    return pd.concat([out, scores], axis=1)


def _sent_followups(reg, as_of=None) -> pd.DataFrame:
    """Every sent follow-up with its due date, anchor date, episode and age (audit rows)."""
    audit = followup_audit(reg, as_of)
    sent = audit[audit["sent"] & (audit["status"] != "ukjent_anker")].copy()
    sent["treatment"] = sent["kind"].astype(str).str.split("_").str[0].astype("string")
    sent["months"] = sent["kind"].astype(str).str.extract(r"_(\d+)m$")[0].astype("Int64")
    pat = _patients(reg).reindex(sent["patient_id"].astype(object))
    sent["age"] = age_at(sent["due_date"], pat["birth_year"]).array
    sent["sex"] = pat["sex"].astype("string").to_numpy()
    sent["episode_id"] = _episodes(reg, sent)
    return sent.reset_index(drop=True)


def _episodes(reg, sent: pd.DataFrame) -> pd.Series:
    """The enrolment a follow-up belongs to (module docstring)."""
    rows = pd.DataFrame(
        {
            "patient_id": pd.Series(sent["patient_id"].to_numpy(), dtype=object),
            "anchor_date": _day(sent["anchor_date"]).to_numpy(),
        }
    )
    procedure = sent["kind"].astype(str).str.startswith(("rf_", "scs_")).to_numpy()
    episode = pd.Series(sent["anchor_id"].astype(object).to_numpy(), index=rows.index, dtype=object)
    linked = enrolment_of(reg.enrolments, rows["patient_id"], rows["anchor_date"])
    episode[procedure] = linked[procedure].astype(object).where(linked[procedure].notna(), pd.NA)
    return episode.astype("string").to_numpy()


def _pair(reg, sent: pd.DataFrame, base: pd.DataFrame) -> pd.DataFrame:
    """Attach the paired baseline's response_id and date to each sent follow-up."""
    b = base.loc[base["enrolment_id"].notna(), ["response_id", "enrolment_id", "submitted_date"]]
    b = b.rename(
        columns={"enrolment_id": "episode_id", "response_id": "baseline_response_id", "submitted_date": "baseline_date"}
    )
    b["episode_id"] = pd.Series(b["episode_id"].to_numpy(), index=b.index, dtype=object)
    b = b.sort_values(["baseline_date", "baseline_response_id"])
    left = pd.DataFrame(
        {
            "pos": np.arange(len(sent)),
            "episode_id": pd.Series(sent["episode_id"].to_numpy(), dtype=object),
            "anchor_day": _day(sent["anchor_date"]).to_numpy(),
        }
    )
    ok = left["episode_id"].notna() & left["anchor_day"].notna()
    out = pd.DataFrame(
        {
            "baseline_response_id": pd.array([pd.NA] * len(sent), dtype="string"),
            "baseline_date": pd.Series(pd.NaT, index=range(len(sent)), dtype="datetime64[ns]"),
        }
    )
    if ok.any() and len(b):
        m = pd.merge_asof(
            left[ok].sort_values("anchor_day"),
            b,
            left_on="anchor_day",
            right_on="baseline_date",
            by="episode_id",
            direction="backward",
            tolerance=pd.Timedelta(days=PAIRING_MAX_DAYS),
        )
        out.loc[m["pos"].to_numpy(), "baseline_response_id"] = m["baseline_response_id"].astype("string").to_numpy()
        out.loc[m["pos"].to_numpy(), "baseline_date"] = m["baseline_date"].to_numpy()
    return out


@reads(followup_audit, "patients", "followup_answers")
def followup_scores(reg, as_of=None) -> pd.DataFrame:
    """One row per answered follow-up with every score.

    Columns: followup_id, patient_id, kind, treatment (``rf``/``scs``/
    ``avsluttet``), months (3/6/12), anchor_id, anchor_date, episode_id,
    due_date, year (due year), sent_date, responded_at, owed, status (from
    :func:`followup_audit`), age (due year − birth year), sex, first_answer,
    the :func:`score_all` columns and n_items. Follow-ups whose anchor does
    not exist are left out (the reader quarantines them).
    """
    sent = _sent_followups(reg, as_of)
    answered = sent[sent["responded"]].sort_values(["responded_at", "followup_id"], kind="stable")
    answered["first_answer"] = ~answered.duplicated(["anchor_id", "kind"])
    answered = answered.sort_values(["due_date", "followup_id"], kind="stable").reset_index(drop=True)
    cols = [
        "followup_id",
        "patient_id",
        "kind",
        "treatment",
        "months",
        "anchor_id",
        "anchor_date",
        "episode_id",
        "due_date",
        "year",
        "sent_date",
        "responded_at",
        "owed",
        "status",
        "age",
        "sex",
        "first_answer",
    ]
    scores = _scores(reg, "followup_answers", "followup_id", answered["followup_id"])
    return pd.concat([answered[cols], scores], axis=1)


#: Farrar et al. 2001: pain at least this share lower than a non-zero baseline is a clinically important improvement.
NRS_IMPROVEMENT_SHARE = 0.3


def reduced_by_share(before: pd.Series, after: pd.Series, share: float = NRS_IMPROVEMENT_SHARE) -> pd.Series:
    """True where ``after`` is at least ``share`` lower than a non-zero ``before``: ``(before − after) ≥ share × before``.

    Nullable boolean; NA where the baseline is 0 or either value is missing. The
    rule of ``nrs_improved_30`` (module docstring); the patient profile applies
    it to other relative thresholds as well.

    >>> reduced_by_share(pd.Series([10.0, 10.0, 0.0, None]), pd.Series([7.0, 8.0, 0.0, 3.0])).tolist()
    [True, False, <NA>, <NA>]
    """
    b = pd.Series(before).astype("Float64")
    a = pd.Series(after).astype("Float64")
    known = b.notna() & a.notna() & (b > 0)
    return ((b - a) >= share * b).astype("boolean").where(known, pd.NA)


def _nrs_improved_30(before: pd.Series, after: pd.Series) -> pd.Series:
    return reduced_by_share(before, after, NRS_IMPROVEMENT_SHARE)


@reads(baseline_scores, followup_scores)
def paired_outcomes(reg, as_of=None) -> pd.DataFrame:
    """Each answered follow-up with its paired baseline (module docstring) and change scores.

    Columns: the :func:`followup_scores` key columns, paired (bool),
    baseline_response_id, baseline_date, days_from_baseline (anchor date −
    baseline date), for each score S in :data:`CHANGE_SCORES` ``S_baseline``,
    ``S_followup`` and ``S_change`` (follow-up − baseline), baseline covariates
    (``age``, ``sex``, ``hscl10_case``, ``pcs_clinical``, ``pain_duration``,
    ``education``, ``work_status``, ``sick_leave`` of the baseline),
    pgic, pgic_improved, nrs_improved_30.

    Computed once per registry and as-of day (the report's outcome tables and
    both models share it); each call gets its own copy.
    """
    key = ("paired_outcomes", None if as_of is None else pd.Timestamp(as_of).normalize())
    return _memo(reg, key, lambda: _paired_outcomes(reg, as_of)).copy()


def _paired_outcomes(reg, as_of) -> pd.DataFrame:
    fu = followup_scores(reg, as_of)
    base = baseline_scores(reg)
    pair = _pair(reg, fu, base)
    b = base.set_index(base["response_id"].astype(object)).reindex(pair["baseline_response_id"].astype(object))
    keys = [
        "followup_id",
        "patient_id",
        "kind",
        "treatment",
        "months",
        "anchor_id",
        "anchor_date",
        "episode_id",
        "due_date",
        "year",
        "responded_at",
        "first_answer",
        "age",
        "sex",
    ]
    out = fu[keys].copy()
    out["paired"] = pair["baseline_response_id"].notna().to_numpy()
    out["baseline_response_id"] = pair["baseline_response_id"].to_numpy()
    out["baseline_date"] = pair["baseline_date"].to_numpy()
    out["days_from_baseline"] = (_day(out["anchor_date"]) - out["baseline_date"]).dt.days.astype("Int64")
    for s in CHANGE_SCORES:
        before = pd.Series(b[s].to_numpy(dtype=float), index=out.index)
        after = fu[s].astype(float)
        out[f"{s}_baseline"] = before
        out[f"{s}_followup"] = after
        out[f"{s}_change"] = after - before
    for c in ("hscl10_case", "pcs_clinical"):
        out[c] = pd.array(b[c].to_numpy(), dtype="boolean")
    for c in _DEMOGRAPHICS:
        out[c] = b[c].to_numpy(dtype=float)
    out["pgic"] = fu["pgic"].astype(float)
    out["pgic_improved"] = fu["pgic_improved"].astype("boolean")
    out["nrs_improved_30"] = _nrs_improved_30(out["nrs_avg_baseline"], out["nrs_avg_followup"])
    return out


def outcome_window(report_year: int, years: int = 3) -> tuple[int, int]:
    """The due years of the outcome tables and models: ``years`` years up to and including ``report_year``.

    >>> outcome_window(2025)
    (2023, 2025)
    """
    return int(report_year) - int(years) + 1, int(report_year)


def in_window(frame: pd.DataFrame, window: tuple[int, int] | None, as_of=None) -> pd.DataFrame:
    """Rows of ``frame`` (with ``year`` = due year and ``due_date``) due in ``window`` and on or before ``as_of``."""
    keep = pd.Series(True, index=frame.index)
    if window is not None:
        year = frame["year"].astype("Int64")
        keep &= (year >= int(window[0])) & (year <= int(window[1]))
    if as_of is not None and "due_date" in frame:
        keep &= frame["due_date"] <= pd.Timestamp(as_of).normalize()
    return frame[keep.fillna(False).astype(bool)]


def unscored_counts(reg, score: str = "hscl10_mean", year: int | None = None) -> dict[str, int]:
    """Baseline responses with item answers (``answered``) and among them those without ``score`` (``unscored``).

    ``year``: submission year (None: all). Reported with the local HSCL-10 rule (8 of 10 items).
    """
    b = baseline_scores(reg)
    if year is not None:
        b = b[b["year"] == int(year)]
    answered = b[b["n_items"] > 0]
    return {"answered": int(len(answered)), "unscored": int(answered[score].isna().sum())}


def _kind_grid() -> tuple[list[str], dict[str, str]]:
    kinds = followup_kinds()
    return kinds, {k: k.split("_")[0] for k in kinds}


def improvement_rates(reg, as_of=None, by: Sequence[str] = (), window: tuple[int, int] | None = None) -> pd.DataFrame:
    """Share clinically importantly improved, per follow-up kind and indicator, with 95 % Wilson limits.

    Columns: [``by`` keys,] treatment, kind, indicator (:data:`INDICATORS`),
    n (follow-ups where the indicator is known), improved, share,
    share_ci_low, share_ci_high. Every kind × indicator has a row (0/0: NA).
    Only the first answer per (anchor, kind) counts. ``by`` adds grouping
    columns of :func:`paired_outcomes` (say ``("year",)``; their observed
    values form the grid). ``window``: due years (module docstring).
    """
    po = in_window(paired_outcomes(reg, as_of), window, as_of)
    po = po[po["first_answer"]]
    kinds, treatment = _kind_grid()
    parts = []
    for ind in INDICATORS:
        flag = po[ind]
        rows = pd.DataFrame({k: po[k].astype(object) for k in by})
        rows["kind"] = po["kind"].astype(object)
        rows["n"] = flag.notna().astype("int64")
        rows["improved"] = flag.fillna(False).astype("int64")
        grid = {k: sorted(po[k].dropna().unique().tolist()) for k in by} | {"kind": kinds}
        agg = aggregate_share(rows, [*by, "kind"], "improved", "n", "share", grid=grid)
        agg.insert(len(by), "treatment", agg["kind"].map(treatment))
        agg.insert(len(by) + 2, "indicator", ind)
        parts.append(agg)
    out = pd.concat(parts, ignore_index=True)
    return out[[*by, "treatment", "kind", "indicator", "n", "improved", "share", "share_ci_low", "share_ci_high"]]


def change_summary(
    reg, as_of=None, scores: Sequence[str] = CHANGE_SCORES, window: tuple[int, int] | None = None
) -> pd.DataFrame:
    """Mean baseline, follow-up and change per follow-up kind and score, with a 95 % t interval.

    Columns: treatment, kind, score, n (paired first answers with both values),
    baseline_mean, followup_mean, change_mean, change_ci_low, change_ci_high
    (statsmodels ``DescrStatsW.tconfint_mean``; NA with fewer than 2). Every
    kind × score has a row. ``window``: due years (module docstring).
    """
    po = in_window(paired_outcomes(reg, as_of), window, as_of)
    po = po[po["first_answer"] & po["paired"]]
    kinds, treatment = _kind_grid()
    rows = []
    for kind in kinds:
        sel = po[po["kind"] == kind]
        for s in scores:
            both = sel[[f"{s}_baseline", f"{s}_followup", f"{s}_change"]].dropna()
            n = len(both)
            low = high = np.nan
            if n >= 2:
                low, high = DescrStatsW(both[f"{s}_change"].to_numpy()).tconfint_mean(alpha=0.05)
            rows.append(
                {
                    "treatment": treatment[kind], "kind": kind, "score": s, "n": n,
                    "baseline_mean": both[f"{s}_baseline"].mean() if n else np.nan,
                    "followup_mean": both[f"{s}_followup"].mean() if n else np.nan,
                    "change_mean": both[f"{s}_change"].mean() if n else np.nan,
                    "change_ci_low": low, "change_ci_high": high,
                }
            )  # fmt: skip
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- Table 1

#: Continuous variables of :func:`baseline_profile` -> Norwegian label.
PROFILE_CONTINUOUS = {
    "age": "Alder (år)",
    "nrs_avg": "Gjennomsnittlig smerte siste uke (NRS 0–10)",
    "nrs_worst": "Verste smerte siste uke (NRS 0–10)",
    "bpi_interference": "Smertens påvirkning (BPI 0–10)",
    "eq5d_index": "EQ-5D-5L indeks",
    "eq5d_vas": "EQ VAS (0–100)",
    "hscl10_mean": "HSCL-10 gjennomsnitt (1–4)",
    "pcs_total": "Smertekatastrofering (PCS 0–52)",
    "isi_total": "Søvnvansker (ISI 0–28)",
    "odi_percent": "Oswestry funksjonsindeks (%)",
}

#: Categorical variables of :func:`baseline_profile` -> Norwegian label.
PROFILE_CATEGORICAL = {
    "sex": "Kjønn",
    "hscl10_case": "HSCL-10 ≥ 1,85 (psykisk symptomtrykk)",
    "pcs_clinical": "PCS ≥ 30 (klinisk katastrofering)",
    "isi_category": "Søvnvansker (ISI)",
    "odi_category": "Funksjonsnedsettelse (ODI)",
    "education": "Utdanning",
    "work_status": "Arbeidssituasjon",
    "sick_leave": "Sykmeldt nå",
    "pain_duration": "Smertevarighet",
}

PROFILE_COLUMNS = [
    "variable", "label", "level", "level_label", "n", "missing", "count", "share", "share_ci_low",
    "share_ci_high", "mean", "sd", "median", "q1", "q3",
]  # fmt: skip

TOTAL = "alle"


def _levels(var: str, values: pd.Series) -> dict[str, str]:
    """Category levels (code -> label) of a profile variable, in codebook order."""
    from .scoring import ISI_CATEGORIES, ODI_CATEGORIES

    if var == "sex":
        codes = codebook.load().tables["patients"].columns["sex"].codes
        return {str(k): str(v) for k, v in codes.items()}
    if var in ("hscl10_case", "pcs_clinical"):
        return {"True": "Ja", "False": "Nei"}
    if var == "isi_category":
        return dict(ISI_CATEGORIES)
    if var == "odi_category":
        return dict(ODI_CATEGORIES)
    item = codebook.load().items[var]
    return {str(int(k)): str(v) for k, v in item.codes.items()}


def _as_level(var: str, values: pd.Series) -> pd.Series:
    if var in ("hscl10_case", "pcs_clinical"):
        return values.astype("boolean").map({True: "True", False: "False"}).astype(object)
    if var in _DEMOGRAPHICS:
        return values.map(lambda v: str(int(v)) if pd.notna(v) else np.nan).astype(object)
    return values.astype(object).where(values.notna(), np.nan).map(lambda v: v if pd.isna(v) else str(v))


def _profile_group(frame: pd.DataFrame) -> list[dict]:
    rows = [{"variable": "responses", "label": "Antall besvarelser", "n": len(frame)}]
    for var, label in PROFILE_CONTINUOUS.items():
        x = pd.to_numeric(frame[var], errors="coerce").astype(float).dropna()
        q = quartile_summary(x)
        rows.append(
            {
                "variable": var, "label": label, "n": len(x), "missing": len(frame) - len(x),
                "mean": x.mean() if len(x) else np.nan, "sd": x.std() if len(x) > 1 else np.nan,
                "median": q["median"], "q1": q["q1"], "q3": q["q3"],
            }
        )  # fmt: skip
    for var, label in PROFILE_CATEGORICAL.items():
        level = _as_level(var, frame[var])
        known = level.notna()
        counts = level[known].value_counts()
        for code, code_label in _levels(var, frame[var]).items():
            rows.append(
                {
                    "variable": var, "label": label, "level": code, "level_label": code_label,
                    "n": int(known.sum()), "missing": int((~known).sum()), "count": int(counts.get(code, 0)),
                }
            )  # fmt: skip
    return rows


def baseline_profile(reg, by: Sequence[str] = ("year", "sex"), margins: bool = True) -> pd.DataFrame:
    """A tidy «Table 1» of baseline responses, unsuppressed.

    One row per group × variable (× level for categories). Group keys are the
    ``by`` columns of :func:`baseline_scores` as strings; with ``margins``
    each key also takes the value ``"alle"`` (all years, both sexes, …).
    Columns after the keys: :data:`PROFILE_COLUMNS`:

    - ``variable == "responses"``: ``n`` = baseline responses in the group.
    - continuous (:data:`PROFILE_CONTINUOUS`): ``n`` answered, ``missing``,
      mean, sd, median, q1, q3 (pandas quantiles, linear interpolation).
    - categorical (:data:`PROFILE_CATEGORICAL`), one row per code in codebook
      order (zeros included): ``n`` = group responses with the variable known
      (the denominator), ``count``, ``share`` = count / n with 95 % Wilson
      limits.

    Counts are not suppressed: the report suppresses small cells from ``n``
    and ``count``. Computed once per registry and arguments (the report's table and the multi-unit
    suppression of it both ask); each caller gets its own copy.
    """
    key = ("baseline_profile", tuple(by), bool(margins))
    return _memo(reg, key, lambda: _baseline_profile(reg, by, margins)).copy()


def _baseline_profile(reg, by: Sequence[str], margins: bool) -> pd.DataFrame:
    base = baseline_scores(reg)
    by = list(by)
    keys = pd.DataFrame(
        {k: base[k].astype(object).map(lambda v: "ukjent" if pd.isna(v) else str(v)) for k in by}, index=base.index
    )
    combos = [tuple(by)]
    if margins:
        combos = [tuple(c) for r in range(len(by), -1, -1) for c in itertools.combinations(by, r)]
    parts = []
    for keep in combos:
        g = keys.assign(**{k: TOTAL for k in by if k not in keep})
        groups = base.groupby([g[k] for k in by], sort=True) if by else [((), base)]
        for key, frame in groups:
            key = key if isinstance(key, tuple) else (key,)
            for row in _profile_group(frame):
                parts.append(dict(zip(by, key)) | row)
    out = pd.DataFrame(parts).reindex(columns=[*by, *PROFILE_COLUMNS])
    for c in ("n", "missing", "count"):
        out[c] = out[c].astype("Int64")
    out = add_share(out.drop(columns=["share", "share_ci_low", "share_ci_high"]), "share", "count", "n")
    return out.reindex(columns=[*by, *PROFILE_COLUMNS]).reset_index(drop=True)
