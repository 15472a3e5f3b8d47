"""Analysing a response-rate experiment: one outcome per randomised patient, intention to treat.

Unit of analysis
----------------
Patients were randomised, so the patient is the unit of analysis: each
randomised patient gives one outcome. (Counting every follow-up of a patient
as an independent unit, the rule before issue 24, treated 828 follow-ups of
702 patients as independent and made the interval too narrow.)

Allocations are seen as they stood at the as-of date: an allocation dated
after it has not been made yet and is not counted.

The patient's outcome follow-up (:func:`index_followups`)
---------------------------------------------------------
The *index follow-up* is the follow-up that made the patient eligible: the
earliest (due date, then kind order) follow-up of the spec's kinds due in the
window that was owed at allocation, as :mod:`.allocate` chose it. Eligibility
is **not** re-evaluated after randomisation: exclusions that can only arise
later (a reservation dated after the allocation date, «not yet due», a
patient flag set since) do not remove the patient or change the follow-up; only
the fixed ones do (before the start of follow-up, under 18 by due year, a
reservation dated on or before the allocation date). A follow-up that is no
longer owed is then usually not sent, and counts as not answered (ITT). A
patient whose index follow-up is no longer in the extract (the treatment or
enrolment was removed) is shown in the flow with that reason.

Primary outcome and maturity
----------------------------
``answered``: the index follow-up was sent (its first send) and answered on or
before ``answered_within_days`` calendar days after the sent date. The outcome
is known once the follow-up is *settled* with the outcome's own window
(:func:`opr_analysis.stats.followup.settled_at` with ``answered_within_days``):
sent at least that many days before the as-of date, or, never sent, due at least
that long before. Maturity thus runs from the sent date, as the outcome does
(the rule before issue 24 measured it from the due date while the outcome ran
from the sent date, and dropped late sends silently).

Flow (CONSORT, :func:`consort_flow`)
------------------------------------
Every patient randomised by the as-of date appears, per arm: randomised =
erased at their own request + outcome not known yet (window still open) +
index follow-up not found + analysed as randomised. An erased patient
(contract v1.2) is in no table any more (:mod:`opr_analysis.rights.erasure`);
the flow counts them as «slettet» from the allocation kept in memory, so
intention to treat accounts for them instead of dropping them silently. Among the analysed: no longer owed after randomisation
(counted as not answered), sent, sent in the allocated variant, answered.

Analyses
--------
- ITT (:func:`arm_shares`, :func:`compare_arms`): analysed patients in the arm
  they were allocated to, whatever was sent. Wilson intervals per arm; the
  difference kort − full with Newcombe's hybrid score interval (Newcombe 1998,
  method 10); the risk ratio kort/full with a log interval; statsmodels, at
  level 1 − α. One outcome per patient: the patients are independent.
- Adjusted model (:func:`adjusted_model`): logistic regression of the same
  patient-level outcome on the arm and the spec's stratification factors, *as
  recorded at allocation* (the ``stratum`` column of ``allocations``, split in
  the spec's order); strata recomputed at analysis can differ (a birthday, a
  corrected treatment), and the randomisation was balanced within the recorded
  ones. A row without a recorded stratum (an extract from before the column)
  gets it recomputed from the index follow-up, and the result says so. One row
  per patient: model-based standard errors (no clustering left to adjust for).
- Per protocol: analysed patients whose index follow-up was sent in the
  allocated variant (``variant``; blank = ``full``).
- Secondary outcomes: ``complete_primary_proms`` (answered within the days,
  with a complete EQ-5D-5L profile and a PGIC answer) and the time to answer
  (days from sending to answering, among answered index follow-ups).
- Sensitivity, every follow-up (:func:`all_followups`): every follow-up of the
  chosen kinds due in the window of the analysed patients (same eligibility
  rule, settled), the difference kort − full from a linear probability model
  with standard errors clustered on the patient (statsmodels OLS,
  ``cov_type="cluster"``): the interval of the earlier per-follow-up analysis,
  adjusted for the clustering.

Interim or final (:func:`recruitment`)
--------------------------------------
The planned size is the plan's (:func:`opr_analysis.experiment.plan.make_plan`)
as it would have been made on the window's first due date. The look is
*final* once the window has closed and every randomised patient's outcome is
known (or their follow-up is gone); otherwise it is an *interim* look. The
experiment has no stopping rule, so an interim look is descriptive only: the
text states the planned size and how far recruitment and follow-up have come,
and draws no conclusion. A final look with fewer patients than planned says the
experiment has less power than planned. The conclusion claims a difference
only in a final look, and only when the interval excludes zero.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..formatting import fmt_int, fmt_num, fmt_pct
from ..safety.markup import escape
from .allocate import add_strata
from .spec import ARMS, ExperimentSpec

FACTOR_LABELS = {"kind": "oppfølgingstype", "treatment": "behandling", "age_band": "aldersgruppe", "sex": "kjønn"}
#: The flow's steps (patients). The first is the sum of the next three; the indented ones count analysed patients.
FLOW_STEPS = {
    "allocated": "Randomisert",
    "erased": "Slettet etter krav fra pasienten (utenfor analysen)",  # contract v1.2, issue 26
    "not_known": "Utfallet ikke kjent ennå (svarfristen er ikke ute)",
    "not_found": "Oppfølgingen finnes ikke lenger i uttrekket",
    "analysed": "Analysert i gruppen de ble trukket til (ITT)",
    "no_longer_owed": "– ikke lenger skyldig etter randomiseringen (regnet som ikke besvart)",
    "sent": "– sendt",
    "sent_as_allocated": "– sendt som randomisert",
    "answered": "– besvart innen fristen",
}
#: The steps that add up to «allocated»: every randomised patient is in exactly one.
FLOW_PARTS = ("erased", "not_known", "not_found", "analysed")
#: Exclusions that are facts at allocation time (they never arise later).
FIXED_EXCLUSIONS = ("for_oppstart", "under_18")


def allocations_of(reg, spec: ExperimentSpec, as_of=None) -> pd.DataFrame:
    """The extract's allocations of this experiment made by the as-of date: patient_id, arm, allocated_date,
    stratum (as recorded; NA where the extract has no stratum)."""
    table = reg.tables.get("allocations")
    columns = {"patient_id": str, "arm": str, "allocated_date": "datetime64[ns]", "stratum": "string"}
    if table is None or table.empty:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in columns.items()})
    t = table[table["experiment_id"].astype(str) == spec.id]
    if as_of is not None:
        t = t[t["allocated_date"].isna() | (t["allocated_date"] <= pd.Timestamp(as_of))]
    stratum = t["stratum"].astype("string") if "stratum" in t else pd.Series(pd.NA, index=t.index, dtype="string")
    return pd.DataFrame(
        {
            "patient_id": t["patient_id"].astype(str).to_numpy(),
            "arm": t["arm"].astype(str).to_numpy(),
            "allocated_date": t["allocated_date"].astype("datetime64[ns]").to_numpy(),
            "stratum": stratum.replace("", pd.NA).to_numpy(),
        }
    )


def _eligible_at_allocation(cand: pd.DataFrame, reg, allocated: pd.Series) -> pd.Series:
    """Candidates that were owed (but for «not yet due») at their patient's allocation date (module docstring)."""
    excl = cand["exclusions"].fillna("").astype(str).str.split(";")
    fixed = excl.map(lambda names: any(n in FIXED_EXCLUSIONS for n in names))
    from ..rights.reservation import reservation_dates  # a reservasjon request counts as reserved_date (v1.2)

    pat = reg.patients.assign(reserved_date=reservation_dates(reg)).drop_duplicates("patient_id")
    reserved = (
        cand["patient_id"]
        .astype(str)
        .map(pd.Series(pat["reserved_date"].to_numpy(), index=pat["patient_id"].astype(str)))
    )
    reserved_before = reserved.notna() & (reserved <= allocated) & (reserved <= cand["due_date"])
    return ~fixed & ~reserved_before.fillna(False).astype(bool)


def _window_candidates(reg, spec: ExperimentSpec, alloc: pd.DataFrame, as_of) -> pd.DataFrame:
    """Follow-ups of the chosen kinds due in the window of allocated patients, eligible at allocation, with the
    allocation's arm and date; sorted by patient, due date and kind order."""
    from ..stats.followup import followup_candidates, followup_kinds

    first, last = (pd.Timestamp(d) for d in spec.window)
    cand = followup_candidates(reg, as_of)
    cand = cand[cand["kind"].isin(list(spec.kinds)) & cand["due_date"].between(first, last)].copy()
    cand["patient_id"] = cand["patient_id"].astype(str)
    cand["kind"] = cand["kind"].astype(str)
    cand = cand.merge(alloc[["patient_id", "arm", "allocated_date"]], on="patient_id", how="inner")
    cand = cand[_eligible_at_allocation(cand, reg, cand["allocated_date"]).to_numpy()]
    order = {k: i for i, k in enumerate(followup_kinds())}
    cand["_k"] = cand["kind"].map(order)
    return cand.sort_values(["patient_id", "due_date", "_k"], kind="stable").drop(columns="_k")


def _with_sends(reg, rows: pd.DataFrame, spec: ExperimentSpec, as_of) -> pd.DataFrame:
    """Add the first send of each (anchor_id, kind) and the outcome columns (module docstring)."""
    from ..stats.followup import followup_audit, settled_at

    audit = followup_audit(reg, as_of)
    sent = audit[audit["sent"] & audit["anchor_id"].notna()].sort_values(["sent_date", "followup_id"], kind="stable")
    sent = sent.drop_duplicates(["anchor_id", "kind"])[
        ["anchor_id", "kind", "followup_id", "sent_date", "responded_at"]
    ]
    sent = sent.assign(anchor_id=sent["anchor_id"].astype(str), kind=sent["kind"].astype(str))
    out = rows.merge(sent, on=["anchor_id", "kind"], how="left")
    out["sent"] = out["sent_date"].notna()
    days = (out["responded_at"].dt.normalize() - out["sent_date"]).dt.days
    out["days_to_answer"] = days.astype("Float64")
    out["answered"] = (out["sent"] & (days <= spec.answered_within_days)).fillna(False).astype(bool)
    due = out["due_date"].astype("datetime64[ns]")
    out["known"] = settled_at(due, out["sent_date"].astype("datetime64[ns]"), as_of, spec.answered_within_days)
    fu = reg.followups
    variant = pd.Series(
        fu["variant"].astype("string").fillna("full").to_numpy() if "variant" in fu else "full",
        index=fu["followup_id"].astype(str).to_numpy(),
    )
    variant = variant[~variant.index.duplicated()]
    out["variant"] = out["followup_id"].astype("string").map(variant).where(out["sent"])
    out["sent_as_allocated"] = out["sent"] & (out["variant"] == out["arm"]).fillna(False).astype(bool)
    return out


def index_followups(reg, spec: ExperimentSpec, as_of) -> pd.DataFrame:
    """One row per patient randomised by the as-of date: patient_id, arm, allocated_date, stratum (recorded),
    found, and for the index follow-up kind, anchor_id, due_date, owed (at the as-of date) (module docstring)."""
    alloc = allocations_of(reg, spec, as_of)
    cand = _window_candidates(reg, spec, alloc, as_of).drop_duplicates("patient_id")
    cand = cand[["patient_id", "kind", "anchor_id", "due_date", "owed"]].assign(
        anchor_id=lambda f: f["anchor_id"].astype(str)
    )
    out = alloc.merge(cand, on="patient_id", how="left")
    out["found"] = out["kind"].notna()
    out["owed"] = out["owed"].astype("boolean").fillna(False).astype(bool)
    return out


def experiment_units(reg, spec: ExperimentSpec, as_of) -> pd.DataFrame:
    """One row per patient randomised by the as-of date (module docstring): :func:`index_followups` plus
    followup_id, sent_date, responded_at, sent, answered, days_to_answer, known, variant, sent_as_allocated,
    complete_primary_proms, status (``analysed``, ``not_known``, ``not_found``), strata_recorded and the
    stratification factors (as recorded at allocation)."""
    as_of = pd.Timestamp(as_of).normalize()
    rows = _with_sends(reg, index_followups(reg, spec, as_of), spec, as_of)
    rows["known"] = rows["known"] & rows["found"]
    rows["status"] = np.select([~rows["found"], ~rows["known"]], ["not_found", "not_known"], default="analysed")
    rows["complete_primary_proms"] = rows["answered"] & _complete_primary(reg, rows["followup_id"])
    rows = _recorded_strata(rows, reg, spec)
    return rows.sort_values(["allocated_date", "patient_id"], kind="stable").reset_index(drop=True)


def _recorded_strata(rows: pd.DataFrame, reg, spec: ExperimentSpec) -> pd.DataFrame:
    """The stratification factors as recorded at allocation (``stratum`` split in the spec's order); recomputed
    from the index follow-up where the allocation has none (``strata_recorded`` False)."""
    rows = rows.copy()
    recorded = rows["stratum"].notna() & (rows["stratum"].astype("string").str.count(r"\|") == len(spec.strata) - 1)
    rows["strata_recorded"] = recorded.fillna(False).astype(bool) & bool(spec.strata)
    parts = rows["stratum"].astype("string").str.split("|", expand=True) if len(rows) else pd.DataFrame()
    computed = add_strata(
        rows.assign(kind=rows["kind"].fillna("ukjent_0m"), due_date=rows["due_date"]), reg, spec
    ).set_index(rows.index)
    for i, f in enumerate(spec.strata):
        mine = parts[i] if i in parts else pd.Series(pd.NA, index=rows.index, dtype="string")
        rows[f] = mine.where(rows["strata_recorded"], computed[f].astype("string")).fillna("ukjent").astype(str)
    return rows


def _complete_primary(reg, followup_ids: pd.Series) -> pd.Series:
    """Whether each follow-up has a complete EQ-5D-5L profile and a PGIC answer."""
    from ..stats.scoring import answers_to_wide, score_eq5d5l, score_pgic

    answers = reg.tables.get("followup_answers")
    ids = followup_ids.astype("string")
    if answers is None or answers.empty:
        return pd.Series(False, index=followup_ids.index)
    wanted = answers[answers["followup_id"].astype(str).isin(set(ids.dropna()))]
    wide = answers_to_wide(wanted.assign(followup_id=wanted["followup_id"].astype(object)), "followup_id")
    ok = score_eq5d5l(wide)["eq5d_profile"].notna() & score_pgic(wide)["pgic"].notna()
    ok.index = ok.index.astype(str)
    return pd.Series(ids.map(ok).fillna(False).astype(bool).to_numpy(), index=followup_ids.index)


# --- patients' rights (contract v1.2, issue 26) ---
def erased_allocations(reg, spec: ExperimentSpec, as_of=None) -> pd.DataFrame:
    """The allocations of this experiment (made by the as-of date) whose patient was erased at their own
    request: ``arm`` only, no patient id leaves here. The reader took them out of every table; the erasure
    keeps them in memory so that the flow can count them (module docstring)."""
    erasure = getattr(getattr(reg, "report", None), "erasure", None)
    gone = erasure.removed.get("allocations") if erasure is not None else None
    if gone is None or gone.empty:
        return pd.DataFrame({"arm": pd.Series(dtype=str)})
    gone = gone[gone["experiment_id"].astype(str) == spec.id]
    if as_of is not None:
        gone = gone[gone["allocated_date"].isna() | (gone["allocated_date"] <= pd.Timestamp(as_of))]
    return pd.DataFrame({"arm": gone["arm"].astype(str).to_numpy()})


# --- end patients' rights ---


def consort_flow(units: pd.DataFrame, erased: pd.DataFrame | None = None) -> pd.DataFrame:
    """CONSORT counts of patients per arm: step, label, full, kort (module docstring; ``FLOW_PARTS`` add up to
    ``allocated``). ``erased``: the allocations of erased patients (:func:`erased_allocations`)."""
    rows = []
    for step, label in FLOW_STEPS.items():
        row = {"step": step, "label": label}
        for arm in ARMS:
            u = units[units["arm"] == arm]
            a = u[u["status"] == "analysed"]
            gone = 0 if erased is None else int((erased["arm"] == arm).sum())
            row[arm] = {
                "allocated": len(u) + gone,
                "erased": gone,
                "not_known": int((u["status"] == "not_known").sum()),
                "not_found": int((u["status"] == "not_found").sum()),
                "analysed": len(a),
                "no_longer_owed": int((~a["owed"]).sum()),
                "sent": int(a["sent"].sum()),
                "sent_as_allocated": int(a["sent_as_allocated"].sum()),
                "answered": int(a["answered"].sum()),
            }[step]
        rows.append(row)
    return pd.DataFrame(rows)


def arm_shares(units: pd.DataFrame, outcome: str = "answered", alpha: float = 0.05) -> pd.DataFrame:
    """Per arm: arm, n, events, share, ci_low, ci_high (Wilson)."""
    from statsmodels.stats.proportion import proportion_confint

    rows = []
    for arm in ARMS:
        y = units.loc[units["arm"] == arm, outcome]
        n, k = len(y), int(y.sum())
        low, high = proportion_confint(k, n, alpha=alpha, method="wilson") if n else (np.nan, np.nan)
        rows.append({"arm": arm, "n": n, "events": k, "share": k / n if n else np.nan, "ci_low": low, "ci_high": high})
    return pd.DataFrame(rows)


def compare_arms(shares: pd.DataFrame, alpha: float = 0.05) -> dict:
    """kort − full (Newcombe hybrid score interval) and kort/full (log interval) from :func:`arm_shares`."""
    from statsmodels.stats.proportion import confint_proportions_2indep

    s = shares.set_index("arm")
    k1, n1, k0, n0 = (int(s.at[a, c]) for a in ("kort", "full") for c in ("events", "n"))
    out = {"difference": np.nan, "diff_low": np.nan, "diff_high": np.nan, "ratio": np.nan}
    out |= {"ratio_low": np.nan, "ratio_high": np.nan}
    if n1 and n0:
        out["difference"] = k1 / n1 - k0 / n0
        out["diff_low"], out["diff_high"] = map(
            float, confint_proportions_2indep(k1, n1, k0, n0, method="newcomb", compare="diff", alpha=alpha)
        )
        if k0 and k1:
            out["ratio"] = (k1 / n1) / (k0 / n0)
            out["ratio_low"], out["ratio_high"] = map(
                float, confint_proportions_2indep(k1, n1, k0, n0, method="log", compare="ratio", alpha=alpha)
            )
    return out


def adjusted_model(units: pd.DataFrame, spec: ExperimentSpec, outcome: str = "answered") -> dict | None:
    """Odds ratio kort vs full adjusted for the stratification factors recorded at allocation, one row per
    analysed patient (module docstring).

    Returns odds_ratio, ci_low, ci_high, p, n, patients, factors, strata_recorded (None when it cannot be fitted).
    """
    import statsmodels.formula.api as smf
    from statsmodels.genmod.families import Binomial

    data = units.assign(y=units[outcome].astype(int), kort=(units["arm"] == "kort").astype(int))
    factors = [f for f in spec.strata if data[f].nunique() > 1]
    if data["kort"].nunique() < 2 or data["y"].nunique() < 2:
        return None
    formula = "y ~ kort" + "".join(f" + C({f})" for f in factors)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fit = smf.glm(formula, data=data, family=Binomial()).fit()
        except (np.linalg.LinAlgError, ValueError, ZeroDivisionError):  # too few patients to fit
            return None
    if not (np.isfinite(fit.bse["kort"]) and fit.bse["kort"] < 10):  # separated: says nothing
        return None
    low, high = fit.conf_int(alpha=spec.alpha).loc["kort"]
    return {
        "odds_ratio": float(np.exp(fit.params["kort"])),
        "ci_low": float(np.exp(low)),
        "ci_high": float(np.exp(high)),
        "p": float(fit.pvalues["kort"]),
        "n": int(fit.nobs),
        "patients": int(data["patient_id"].nunique()),
        "factors": factors,
        "strata_recorded": bool(data["strata_recorded"].all()) if "strata_recorded" in data else False,
    }


def all_followups(reg, spec: ExperimentSpec, as_of, patients: pd.DataFrame) -> dict:
    """Sensitivity analysis over every eligible follow-up of the analysed ``patients`` (module docstring):
    n (follow-ups), patients, the shares per arm and the difference kort − full with a patient-clustered interval."""
    import statsmodels.api as sm

    as_of = pd.Timestamp(as_of).normalize()
    alloc = patients[["patient_id", "arm", "allocated_date"]]
    rows = _window_candidates(reg, spec, alloc, as_of)[["patient_id", "kind", "anchor_id", "due_date", "owed", "arm"]]
    rows = _with_sends(reg, rows.assign(anchor_id=rows["anchor_id"].astype(str)), spec, as_of)
    rows = rows[rows["known"]]
    out = {"n": len(rows), "patients": int(rows["patient_id"].nunique())}
    out |= {"difference": np.nan, "diff_low": np.nan, "diff_high": np.nan}
    out["shares"] = arm_shares(rows, alpha=spec.alpha)
    if rows["arm"].nunique() == 2 and rows["patient_id"].nunique() > 2 and rows["answered"].nunique() == 2:
        y = rows["answered"].astype(float).to_numpy()
        x = sm.add_constant((rows["arm"] == "kort").astype(float).to_numpy())
        groups = pd.factorize(rows["patient_id"])[0]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = sm.OLS(y, x).fit(cov_type="cluster", cov_kwds={"groups": groups})
            low, high = fit.conf_int(alpha=spec.alpha)[1]
        out |= {"difference": float(fit.params[1]), "diff_low": float(low), "diff_high": float(high)}
    return out


def time_to_answer(units: pd.DataFrame) -> pd.DataFrame:
    """Days from sending to answering among answered follow-ups: arm, n, q1, median, q3."""
    rows = []
    for arm in ARMS:
        d = units.loc[(units["arm"] == arm) & units["days_to_answer"].notna(), "days_to_answer"].astype(float)
        q = d.quantile([0.25, 0.5, 0.75]) if len(d) else pd.Series([np.nan] * 3, index=[0.25, 0.5, 0.75])
        rows.append({"arm": arm, "n": len(d), "q1": q[0.25], "median": q[0.5], "q3": q[0.75]})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Recruitment:
    """How far the experiment has come at the as-of date (module docstring)."""

    planned: int | None  # patients the plan asks for (None: no plan could be made)
    allocated: int  # randomised by the as-of date
    known: int  # analysed: outcome known
    window_closed: bool  # the as-of date is after the window's last due date
    final: bool  # window closed and no outcome still to come
    complete_from: str  # the first day every outcome of the window can be known (last due + the outcome's days)

    @property
    def interim(self) -> bool:
        return not self.final


def recruitment(reg, spec: ExperimentSpec, as_of, units: pd.DataFrame) -> Recruitment:
    """The recruitment status of :func:`experiment_units`' ``units`` (module docstring)."""
    from ..errors import UsageError
    from .plan import make_plan

    try:
        planned = make_plan(spec, reg, spec.window[0]).size.total
    except UsageError:
        planned = None
    as_of = pd.Timestamp(as_of).normalize()
    closed = as_of > pd.Timestamp(spec.window[1])
    complete_from = pd.Timestamp(spec.window[1]) + pd.Timedelta(days=spec.answered_within_days)
    return Recruitment(
        planned=planned,
        allocated=len(units),
        known=int((units["status"] == "analysed").sum()),
        window_closed=bool(closed),
        final=bool(closed and not (units["status"] == "not_known").any()),
        complete_from=complete_from.date().isoformat(),
    )


def _pp(value) -> str:
    return fmt_num(100 * value)


def recruitment_text(rec: Recruitment, spec: ExperimentSpec, as_of) -> str:
    """Where the experiment stands, in Norwegian: an interim look is labelled as such (module docstring)."""
    day = f"{pd.Timestamp(as_of):%d.%m.%Y}"
    planned = (
        f"{fmt_int(rec.allocated)} av {fmt_int(rec.planned)} planlagte pasienter"
        f" ({fmt_pct(rec.allocated / rec.planned, 0)})"
        if rec.planned
        else f"{fmt_int(rec.allocated)} pasienter (planlagt antall kunne ikke beregnes fra uttrekket)"
    )
    if rec.interim:
        return (
            f"**Foreløpig gjennomgang, ikke endelig resultat.** Per {day} er {planned} randomisert, og utfallet er "
            f"kjent for {fmt_int(rec.known)} av dem. "
            + (
                "Vinduet er lukket, men noen utfall er ikke kjent ennå. "
                if rec.window_closed
                else f"Rekrutteringen pågår til {spec.window[1]:%d.%m.%Y}, og alle utfall er kjent tidligst "
                f"{pd.Timestamp(rec.complete_from):%d.%m.%Y}. "
            )
            + "Forsøket har ingen regel for å stoppe tidlig, så tallene er bare beskrivende: det trekkes ingen "
            "konklusjon før forsøket er ferdig."
        )
    text = f"Forsøket er ferdig: {planned} ble randomisert, og utfallet er kjent for {fmt_int(rec.known)}."
    if rec.planned and rec.allocated < rec.planned:
        text += (
            " Færre enn planlagt ble med, så forsøket har mindre styrke enn planlagt til å oppdage en forskjell på "
            f"{_pp(spec.minimal_difference)} prosentpoeng."
        )
    return text


def conclusion(shares: pd.DataFrame, comp: dict, spec: ExperimentSpec, rec: Recruitment | None = None) -> str:
    """A plain-language Norwegian conclusion from the interval: no effect claimed when it covers zero, and none
    at all in an interim look."""
    level = fmt_num(100 * (1 - spec.alpha), 0)
    s = shares.set_index("arm")
    if not (s.at["full", "n"] and s.at["kort", "n"]):
        return "Forsøket har ennå ingen pasienter med kjent utfall i begge gruppene; det er for tidlig å si noe."
    lo, hi = comp["diff_low"], comp["diff_high"]
    facts = (
        f"{fmt_pct(s.at['kort', 'share'])} svarte innen {spec.answered_within_days} dager med kort skjema, "
        f"mot {fmt_pct(s.at['full', 'share'])} med fullt skjema: en forskjell på {_pp(comp['difference'])} "
        f"prosentpoeng ({level} % konfidensintervall {_pp(lo)} til {_pp(hi)})."
    )
    if rec is not None and rec.interim:
        verdict = (
            "Dette er en foreløpig gjennomgang med "
            + (
                f"{fmt_int(rec.known)} av {fmt_int(rec.planned)} planlagte pasienter"
                if rec.planned
                else "ufullstendig rekruttering"
            )
            + ", og forsøket har ingen regel for å stoppe tidlig: tallene er beskrivende, og det trekkes ingen "
            "konklusjon før forsøket er ferdig."
        )
    elif lo > 0:
        verdict = "Hele intervallet ligger over null: kort skjema ser ut til å gi flere svar."
        if lo >= spec.minimal_difference:
            verdict += " Økningen er minst så stor som den minste forskjellen studien skulle oppdage."
    elif hi < 0:
        verdict = "Hele intervallet ligger under null: kort skjema ser ut til å gi færre svar."
    else:
        verdict = (
            "Intervallet omfatter null, så studien viser ingen sikker forskjell: dataene er forenlige både med "
            "ingen effekt og med en forskjell innenfor intervallet."
        )
        if hi < spec.minimal_difference:
            verdict += (
                f" En økning på {_pp(spec.minimal_difference)} prosentpoeng eller mer, som studien skulle "
                "oppdage, er lite forenlig med dataene."
            )
    return f"{facts} {verdict}".replace("\u00a0", " ")


@dataclass
class ExperimentResult:
    """Everything the chapter, the notebook and ``opr experiment analyse`` show."""

    spec: ExperimentSpec
    as_of: str
    units: pd.DataFrame  # one row per randomised patient (every status)
    flow: pd.DataFrame
    itt: pd.DataFrame
    itt_comparison: dict
    model: dict | None
    per_protocol: pd.DataFrame
    pp_comparison: dict
    recruitment: Recruitment | None = None
    secondary: dict = field(default_factory=dict)
    conclusion: str = ""

    @property
    def analysed(self) -> pd.DataFrame:
        return self.units[self.units["status"] == "analysed"]


def analyse(reg, spec: ExperimentSpec, as_of) -> ExperimentResult:
    """The whole analysis of ``spec`` on the extract ``reg`` as of ``as_of``."""
    as_of = pd.Timestamp(as_of).normalize()
    units = experiment_units(reg, spec, as_of)
    analysed = units[units["status"] == "analysed"]
    itt = arm_shares(analysed, alpha=spec.alpha)
    comp = compare_arms(itt, spec.alpha)
    pp = arm_shares(analysed[analysed["sent_as_allocated"]], alpha=spec.alpha)
    rec = recruitment(reg, spec, as_of, units)
    secondary = {}
    if "complete_primary_proms" in spec.secondary_outcomes:
        shares = arm_shares(analysed, "complete_primary_proms", spec.alpha)
        secondary["complete_primary_proms"] = {"shares": shares, "comparison": compare_arms(shares, spec.alpha)}
    if "time_to_answer" in spec.secondary_outcomes:
        secondary["time_to_answer"] = time_to_answer(analysed[analysed["answered"]])
    secondary["all_followups"] = all_followups(reg, spec, as_of, analysed)
    return ExperimentResult(
        spec=spec,
        as_of=as_of.date().isoformat(),
        units=units,
        flow=consort_flow(units, erased_allocations(reg, spec, as_of)),
        itt=itt,
        itt_comparison=comp,
        model=adjusted_model(analysed, spec),
        per_protocol=pp,
        pp_comparison=compare_arms(pp, spec.alpha),
        recruitment=rec,
        secondary=secondary,
        conclusion=conclusion(itt, comp, spec, rec),
    )


def result_markdown(res: ExperimentResult) -> str:
    """The analysis as a short Norwegian report (Markdown), for ``opr experiment analyse`` and the notebook."""
    spec = res.spec
    lines = [f"**Spørsmål:** {escape(spec.question)}", ""]  # spec text: the one escaping function
    if res.recruitment is not None:
        lines += [recruitment_text(res.recruitment, spec, res.as_of), ""]
    lines += [scope_text(res), "", "| Steg (pasienter) | Fullt skjema | Kort skjema |", "|---|---:|---:|"]
    lines += [f"| {r.label} | {fmt_int(r.full)} | {fmt_int(r.kort)} |" for r in res.flow.itertuples()]
    lines += ["", f"| Svar innen {spec.answered_within_days} dager | Fullt skjema | Kort skjema |", "|---|---:|---:|"]
    lines.append(_share_row("Alle analyserte (ITT)", res.itt))
    lines.append(_share_row("Sendt som randomisert", res.per_protocol))
    if "complete_primary_proms" in res.secondary:
        lines.append(_share_row("Komplett EQ-5D og PGIC", res.secondary["complete_primary_proms"]["shares"]))
    lines += ["", *results_lines(res), "", f"**Konklusjon:** {res.conclusion}", ""]
    return "\n".join(lines).replace("\u00a0", " ")


def scope_text(res: ExperimentResult) -> str:
    """Which patients and which outcome the analysis counts (one paragraph)."""
    spec = res.spec
    return (
        f"Hver randomiserte pasient teller én gang, med den første skyldige oppfølgingen med forfall "
        f"{spec.window[0]:%d.%m.%Y}–{spec.window[1]:%d.%m.%Y} (den som ga plass i forsøket). Utfallet er om den ble "
        f"besvart innen {spec.answered_within_days} dager etter utsending, og det er kjent når den ble sendt minst "
        f"{spec.answered_within_days} dager før kjøringsdatoen {pd.Timestamp(res.as_of):%d.%m.%Y} (eller, om den "
        "ikke ble sendt, forfalt så lenge før). Pasientene analyseres i gruppen de ble trukket til, også om de "
        "senere ble reservert eller fikk feil skjema."
    )


def results_lines(res: ExperimentResult) -> list[str]:
    """The comparison, the adjusted model, per protocol and the secondary analyses, one sentence each."""
    spec, c = res.spec, res.itt_comparison
    level = fmt_num(100 * (1 - spec.alpha), 0)
    lines = [
        f"Forskjell (kort − full): {_pp(c['difference'])} prosentpoeng ({level} % KI {_pp(c['diff_low'])} til "
        f"{_pp(c['diff_high'])}, Newcombe); relativ risiko {fmt_num(c['ratio'], 2)} "
        f"({fmt_num(c['ratio_low'], 2)} til {fmt_num(c['ratio_high'], 2)})."
    ]
    if res.model:
        m = res.model
        adj = ", ".join(FACTOR_LABELS[f] for f in m["factors"]) or "ingen faktorer"
        where = "slik de ble registrert ved randomiseringen" if m["strata_recorded"] else "regnet ut på nytt"
        lines.append(
            f"Justert for stratifiseringen ({adj}, {where}): oddsratio {fmt_num(m['odds_ratio'], 2)} "
            f"({fmt_num(m['ci_low'], 2)} til {fmt_num(m['ci_high'], 2)}), {fmt_int(m['patients'])} pasienter."
        )
    p = res.pp_comparison
    lines.append(
        f"Per protokoll (bare skjemaer sendt som randomisert): {_pp(p['difference'])} prosentpoeng "
        f"({_pp(p['diff_low'])} til {_pp(p['diff_high'])})."
    )
    a = res.secondary.get("all_followups")
    if a and a["n"]:
        lines.append(
            f"Alle skyldige oppfølginger i vinduet ({fmt_int(a['n'])} fra {fmt_int(a['patients'])} pasienter, "
            f"intervall justert for at samme pasient har flere): {_pp(a['difference'])} prosentpoeng "
            f"({_pp(a['diff_low'])} til {_pp(a['diff_high'])})."
        )
    if "time_to_answer" in res.secondary:
        t = res.secondary["time_to_answer"].set_index("arm")
        lines.append(
            "Dager fra utsending til svar, median (kvartiler): fullt skjema "
            f"{fmt_num(t.at['full', 'median'], 0)} ({fmt_num(t.at['full', 'q1'], 0)}–{fmt_num(t.at['full', 'q3'], 0)}), "
            f"kort skjema {fmt_num(t.at['kort', 'median'], 0)} ({fmt_num(t.at['kort', 'q1'], 0)}–"
            f"{fmt_num(t.at['kort', 'q3'], 0)})."
        )
    return lines


def _share_row(label: str, shares: pd.DataFrame) -> str:
    s = shares.set_index("arm")
    cells = [
        f"{fmt_pct(s.at[a, 'share'])} ({fmt_int(s.at[a, 'events'])}/{fmt_int(s.at[a, 'n'])}; "
        f"{fmt_pct(s.at[a, 'ci_low'])}–{fmt_pct(s.at[a, 'ci_high'])})"
        for a in ARMS
    ]
    return f"| {label} | {cells[0]} | {cells[1]} |"
