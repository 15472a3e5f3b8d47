"""Analysing a response-rate experiment (intention to treat, with a per-protocol sensitivity).

Rules:

- Units: every follow-up of the chosen kinds, due in the window and owed, of
  a patient allocated in the experiment (one patient may give several), once
  ``answered_within_days`` days have passed since its due date by the as-of
  date (so that its outcome can be known). The arm is the allocated one
  (intention to treat, ITT).
- Primary outcome ``answered``: the owed follow-up was sent (``sent_owed``)
  and answered on or before ``answered_within_days`` calendar days after the
  sent date. A follow-up never sent counts as not answered (ITT).
- Per protocol: only follow-ups sent in the allocated variant (``variant``;
  blank = ``full``).
- Shares per arm with Wilson intervals; the difference kort − full with
  Newcombe's hybrid score interval (Newcombe 1998, method 10); the risk ratio
  kort/full with a log interval; all from statsmodels, at level 1 − α.
- Adjusted model: logistic regression of ``answered`` on the arm and the
  spec's stratification factors (per follow-up), standard errors clustered on
  the patient (statsmodels GLM, ``cov_type="cluster"``).
- Secondary outcomes: ``complete_primary_proms`` (answered within the days and
  both a complete EQ-5D-5L profile and a PGIC answer) and the time to answer
  (days from sending to answering, among answered follow-ups).
- The conclusion claims a difference only when the interval excludes zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..formatting import fmt_int, fmt_num, fmt_pct
from ..safety.markup import escape
from .allocate import add_strata
from .plan import owed_units
from .spec import ARMS, ExperimentSpec

FACTOR_LABELS = {"kind": "oppfølgingstype", "treatment": "behandling", "age_band": "aldersgruppe", "sex": "kjønn"}
FLOW_STEPS = {
    "allocated": "Randomisert (pasienter)",
    "patients_owed": "Pasienter med skyldig oppfølging i vinduet",
    "owed": "Skyldige oppfølginger",
    "sent": "Sendt",
    "sent_as_allocated": "Sendt som randomisert",
    "answered": "Besvart innen fristen",
}


def allocations_of(reg, spec: ExperimentSpec) -> pd.DataFrame:
    """The extract's allocations of this experiment (patient_id, arm, allocated_date)."""
    table = reg.tables.get("allocations")
    if table is None or table.empty:
        return pd.DataFrame({"patient_id": pd.Series(dtype=str), "arm": pd.Series(dtype=str)})
    t = table[table["experiment_id"].astype(str) == spec.id]
    return pd.DataFrame(
        {
            "patient_id": t["patient_id"].astype(str).to_numpy(),
            "arm": t["arm"].astype(str).to_numpy(),
            "allocated_date": t["allocated_date"].to_numpy(),
        }
    )


def experiment_units(reg, spec: ExperimentSpec, as_of) -> pd.DataFrame:
    """One row per unit (module docstring): the audit's columns plus arm, variant,
    sent_as_allocated, answered, days_to_answer, complete_primary_proms and the stratum factors."""
    from ..stats.followup import followup_audit

    alloc = allocations_of(reg, spec)
    units = owed_units(followup_audit(reg, as_of), spec)
    first, last = (pd.Timestamp(d) for d in spec.window)
    followed = units["due_date"] <= pd.Timestamp(as_of) - pd.Timedelta(days=spec.answered_within_days)
    units = units[units["due_date"].between(first, last) & followed].copy()
    units["patient_id"] = units["patient_id"].astype(str)
    units = units.merge(alloc[["patient_id", "arm"]], on="patient_id", how="inner")
    fu = reg.followups
    variant = pd.Series(
        fu["variant"].astype("string").fillna("full").to_numpy(), index=fu["followup_id"].astype(str).to_numpy()
    )
    variant = variant[~variant.index.duplicated()]
    units["variant"] = units["followup_id"].astype("string").map(variant).where(units["sent_owed"])
    units["sent_as_allocated"] = units["sent_owed"] & (units["variant"] == units["arm"]).fillna(False).astype(bool)
    units["complete_primary_proms"] = units["answered"] & _complete_primary(reg, units["followup_id"])
    units["kind"] = units["kind"].astype(str)
    return add_strata(units, reg, spec).sort_values(["due_date", "patient_id", "kind"]).reset_index(drop=True)


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


def consort_flow(units: pd.DataFrame, alloc: pd.DataFrame) -> pd.DataFrame:
    """CONSORT-style counts per arm: step, label, full, kort (patients for the first two steps)."""
    rows = []
    for step, label in FLOW_STEPS.items():
        row = {"step": step, "label": label}
        for arm in ARMS:
            u = units[units["arm"] == arm]
            row[arm] = {
                "allocated": int((alloc["arm"] == arm).sum()),
                "patients_owed": int(u["patient_id"].nunique()),
                "owed": len(u),
                "sent": int(u["sent_owed"].sum()),
                "sent_as_allocated": int(u["sent_as_allocated"].sum()),
                "answered": int(u["answered"].sum()),
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
    """Odds ratio kort vs full adjusted for the stratification factors, patient-clustered SEs.

    Returns odds_ratio, ci_low, ci_high, p, n, patients, factors (None when it cannot be fitted).
    """
    import statsmodels.formula.api as smf
    from statsmodels.genmod.families import Binomial

    data = units.assign(y=units[outcome].astype(int), kort=(units["arm"] == "kort").astype(int))
    factors = [f for f in spec.strata if data[f].nunique() > 1]
    if data["kort"].nunique() < 2 or data["y"].nunique() < 2:
        return None
    formula = "y ~ kort" + "".join(f" + C({f})" for f in factors)
    groups = pd.factorize(data["patient_id"])[0]
    try:
        fit = smf.glm(formula, data=data, family=Binomial()).fit(cov_type="cluster", cov_kwds={"groups": groups})
    except (np.linalg.LinAlgError, ValueError, ZeroDivisionError):  # too few follow-ups to fit
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
    }


def time_to_answer(units: pd.DataFrame) -> pd.DataFrame:
    """Days from sending to answering among answered follow-ups: arm, n, q1, median, q3."""
    rows = []
    for arm in ARMS:
        d = units.loc[(units["arm"] == arm) & units["days_to_answer"].notna(), "days_to_answer"].astype(float)
        q = d.quantile([0.25, 0.5, 0.75]) if len(d) else pd.Series([np.nan] * 3, index=[0.25, 0.5, 0.75])
        rows.append({"arm": arm, "n": len(d), "q1": q[0.25], "median": q[0.5], "q3": q[0.75]})
    return pd.DataFrame(rows)


def _pp(value) -> str:
    return fmt_num(100 * value)


def conclusion(shares: pd.DataFrame, comp: dict, spec: ExperimentSpec) -> str:
    """A plain-language Norwegian conclusion from the interval (no effect claimed when it covers zero)."""
    level = fmt_num(100 * (1 - spec.alpha), 0)
    s = shares.set_index("arm")
    if not (s.at["full", "n"] and s.at["kort", "n"]):
        return "Eksperimentet har ennå ingen skyldige oppfølginger i begge gruppene; det er for tidlig å si noe."
    lo, hi = comp["diff_low"], comp["diff_high"]
    facts = (
        f"{fmt_pct(s.at['kort', 'share'])} svarte innen {spec.answered_within_days} dager med kort skjema, "
        f"mot {fmt_pct(s.at['full', 'share'])} med fullt skjema: en forskjell på {_pp(comp['difference'])} "
        f"prosentpoeng ({level} % konfidensintervall {_pp(lo)} til {_pp(hi)})."
    )
    if lo > 0:
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
    units: pd.DataFrame
    flow: pd.DataFrame
    itt: pd.DataFrame
    itt_comparison: dict
    model: dict | None
    per_protocol: pd.DataFrame
    pp_comparison: dict
    secondary: dict = field(default_factory=dict)
    conclusion: str = ""


def analyse(reg, spec: ExperimentSpec, as_of) -> ExperimentResult:
    """The whole analysis of ``spec`` on the extract ``reg`` as of ``as_of``."""
    as_of = pd.Timestamp(as_of).normalize()
    units = experiment_units(reg, spec, as_of)
    alloc = allocations_of(reg, spec)
    itt = arm_shares(units, alpha=spec.alpha)
    comp = compare_arms(itt, spec.alpha)
    pp = arm_shares(units[units["sent_as_allocated"]], alpha=spec.alpha)
    secondary = {}
    if "complete_primary_proms" in spec.secondary_outcomes:
        shares = arm_shares(units, "complete_primary_proms", spec.alpha)
        secondary["complete_primary_proms"] = {"shares": shares, "comparison": compare_arms(shares, spec.alpha)}
    if "time_to_answer" in spec.secondary_outcomes:
        secondary["time_to_answer"] = time_to_answer(units[units["sent_owed"]])
    return ExperimentResult(
        spec=spec,
        as_of=as_of.date().isoformat(),
        units=units,
        flow=consort_flow(units, alloc),
        itt=itt,
        itt_comparison=comp,
        model=adjusted_model(units, spec),
        per_protocol=pp,
        pp_comparison=compare_arms(pp, spec.alpha),
        secondary=secondary,
        conclusion=conclusion(itt, comp, spec),
    )


def result_markdown(res: ExperimentResult) -> str:
    """The analysis as a short Norwegian report (Markdown), for ``opr experiment analyse`` and the chapter."""
    spec, c = res.spec, res.itt_comparison
    level = fmt_num(100 * (1 - spec.alpha), 0)
    cutoff = pd.Timestamp(res.as_of) - pd.Timedelta(days=spec.answered_within_days)
    lines = [
        f"**Spørsmål:** {escape(spec.question)}",  # spec text: the one escaping function
        "",
        f"Med er skyldige oppfølginger med forfall {spec.window[0]:%d.%m.%Y}–{spec.window[1]:%d.%m.%Y} og "
        f"senest {cutoff:%d.%m.%Y} ({spec.answered_within_days} dager før kjøringsdatoen "
        f"{pd.Timestamp(res.as_of):%d.%m.%Y}), så utfallet deres er kjent.",
        "",
        "| Steg | Fullt skjema | Kort skjema |",
        "|---|---:|---:|",
    ]
    lines += [f"| {r.label} | {fmt_int(r.full)} | {fmt_int(r.kort)} |" for r in res.flow.itertuples()]
    lines += ["", f"| Svar innen {spec.answered_within_days} dager | Fullt skjema | Kort skjema |", "|---|---:|---:|"]
    lines.append(_share_row("Alle randomiserte (ITT)", res.itt))
    lines.append(_share_row("Sendt som randomisert", res.per_protocol))
    if "complete_primary_proms" in res.secondary:
        lines.append(_share_row("Komplett EQ-5D og PGIC", res.secondary["complete_primary_proms"]["shares"]))
    lines += [
        "",
        f"Forskjell (kort − full): {_pp(c['difference'])} prosentpoeng ({level} % KI {_pp(c['diff_low'])} til "
        f"{_pp(c['diff_high'])}, Newcombe); relativ risiko {fmt_num(c['ratio'], 2)} "
        f"({fmt_num(c['ratio_low'], 2)} til {fmt_num(c['ratio_high'], 2)}).",
    ]
    if res.model:
        m = res.model
        adj = ", ".join(FACTOR_LABELS[f] for f in res.model["factors"]) or "ingen faktorer"
        lines.append(
            f"Justert for stratifiseringen ({adj}): oddsratio {fmt_num(m['odds_ratio'], 2)} "
            f"({fmt_num(m['ci_low'], 2)} til {fmt_num(m['ci_high'], 2)}), {fmt_int(m['n'])} oppfølginger fra "
            f"{fmt_int(m['patients'])} pasienter (robuste standardfeil per pasient)."
        )
    p = res.pp_comparison
    lines.append(
        f"Per protokoll (bare skjemaer sendt som randomisert): {_pp(p['difference'])} prosentpoeng "
        f"({_pp(p['diff_low'])} til {_pp(p['diff_high'])})."
    )
    if "time_to_answer" in res.secondary:
        t = res.secondary["time_to_answer"].set_index("arm")
        lines.append(
            "Dager fra utsending til svar, median (kvartiler): fullt skjema "
            f"{fmt_num(t.at['full', 'median'], 0)} ({fmt_num(t.at['full', 'q1'], 0)}–{fmt_num(t.at['full', 'q3'], 0)}), "
            f"kort skjema {fmt_num(t.at['kort', 'median'], 0)} ({fmt_num(t.at['kort', 'q1'], 0)}–"
            f"{fmt_num(t.at['kort', 'q3'], 0)})."
        )
    lines += ["", f"**Konklusjon:** {res.conclusion}", ""]
    return "\n".join(lines).replace("\u00a0", " ")


def _share_row(label: str, shares: pd.DataFrame) -> str:
    s = shares.set_index("arm")
    cells = [
        f"{fmt_pct(s.at[a, 'share'])} ({fmt_int(s.at[a, 'events'])}/{fmt_int(s.at[a, 'n'])}; "
        f"{fmt_pct(s.at[a, 'ci_low'])}–{fmt_pct(s.at[a, 'ci_high'])})"
        for a in ARMS
    ]
    return f"| {label} | {cells[0]} | {cells[1]} |"
