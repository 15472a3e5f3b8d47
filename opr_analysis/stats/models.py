"""Logistic regression models of follow-up response and of outcome (statsmodels formula API).

Both models are binomial GLMs with a logit link fitted by
:func:`statsmodels.formula.api.glm`; :func:`tidy_logit` turns a fit into a
tidy table (one row per term: log-odds estimate, odds ratio with 95 % Wald
limits, p value, n).

Assumptions (they hold for both models; say so wherever the results are shown)
------------------------------------------------------------------------------
- **Independent observations.** A patient with several follow-ups (3, 6 and
  12 months, several procedures) contributes several rows; the standard errors
  ignore that clustering unless ``cluster=True`` (cluster-robust by patient).
- **Complete cases.** Rows with any model variable missing are dropped
  (patsy's default). Scores need enough items answered (see
  :mod:`opr_analysis.stats.scoring`), so about a quarter of baselines lack an
  HSCL-10 score; if missingness depends on the outcome, estimates are biased.
  ``n`` in the output is the number of rows used.
- **Linearity on the logit scale** for continuous terms (age per 10 years,
  NRS per point): a log-odds change per unit, constant across the range.
- **No unmeasured confounding** for a causal reading — the models describe
  association. The non-response model tells whom the answers under-represent;
  it does not say why.
- **Enough events per term** (rule of thumb ≥ 10): small registries or years
  give wide intervals or, with separation, no fit (an :class:`OprError`).

What the synthetic data can and cannot show
-------------------------------------------
The synthetic registry (:mod:`opr_analysis.synth.registry`) plants response that rises
with age and engagement and falls with a latent severity, and an improvement
that depends on treatment and baseline severity. The models recover the
*direction* of such planted effects (the tests check that a planted effect is
covered by the interval); the size of any effect in synthetic output says
nothing about real patients.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import statsmodels.api as sm
import statsmodels.formula.api as smf
from statsmodels.tools.sm_exceptions import PerfectSeparationError, PerfectSeparationWarning

from ..errors import OprError
from .proms import _pair, _sent_followups, baseline_scores, paired_outcomes

__all__ = [
    "MODEL_COLUMNS",
    "NONRESPONSE_FORMULA",
    "PROGNOSTIC_FORMULA",
    "TERM_LABELS",
    "tidy_logit",
    "nonresponse_data",
    "nonresponse_model",
    "prognostic_data",
    "prognostic_model",
]

MODEL_COLUMNS = ["term", "label", "estimate", "std_error", "odds_ratio", "ci_low", "ci_high", "p_value", "n", "events"]

#: Default non-response model: did the patient answer a sent follow-up?
NONRESPONSE_FORMULA = (
    "responded ~ age_10 + C(sex, Treatment('K')) + nrs_avg + hscl10_case + C(treatment, Treatment('rf'))"
)

#: Default prognostic model: ≥ 30 % NRS reduction at 12 months.
PROGNOSTIC_FORMULA = (
    "nrs_improved_30 ~ age_10 + C(sex, Treatment('K')) + nrs_avg + hscl10_case + long_duration"
    " + C(treatment, Treatment('rf'))"
)

#: Norwegian labels of the default models' terms (for tables and figures).
TERM_LABELS = {
    "Intercept": "Konstantledd",
    "age_10": "Alder (per 10 år)",
    "C(sex, Treatment('K'))[T.M]": "Mann (mot kvinne)",
    "nrs_avg": "Gjennomsnittlig smerte ved baseline (per NRS-poeng)",
    "hscl10_case[T.True]": "HSCL-10 ≥ 1,85 ved baseline",
    "hscl10_case": "HSCL-10 ≥ 1,85 ved baseline",
    "long_duration[T.True]": "Smerter i mer enn 2 år",
    "long_duration": "Smerter i mer enn 2 år",
    "has_baseline[T.True]": "Har svart på baselineskjema",
    "C(treatment, Treatment('rf'))[T.scs]": "Ryggmargsstimulator (mot RF)",
    "C(treatment, Treatment('rf'))[T.avsluttet]": "Avsluttet behandling (mot RF)",
}


def tidy_logit(formula: str, data: pd.DataFrame, cluster: str | None = None) -> pd.DataFrame:
    """Fit a logistic regression (binomial GLM, logit link) and return a tidy table.

    The outcome must be 0/1 (or boolean). Rows with a missing model variable
    are dropped (complete cases). ``cluster`` names a column of ``data`` for
    cluster-robust standard errors (e.g. ``"patient_id"``).

    Columns (:data:`MODEL_COLUMNS`): term, label (:data:`TERM_LABELS`, else the
    term), estimate (log-odds), std_error, odds_ratio, ci_low, ci_high (95 %
    Wald limits of the odds ratio), p_value (Wald), n (rows used), events
    (rows with outcome 1).

    >>> rng = np.random.default_rng(1)
    >>> d = pd.DataFrame({"x": rng.normal(size=2000)})
    >>> d["y"] = (rng.random(2000) < 1 / (1 + np.exp(-(0.5 + 1.0 * d["x"])))).astype(int)
    >>> t = tidy_logit("y ~ x", d)
    >>> bool(t.loc[t.term == "x", "ci_low"].iloc[0] < np.exp(1.0) < t.loc[t.term == "x", "ci_high"].iloc[0])
    True
    """
    outcome = formula.split("~")[0].strip()
    frame = data.copy()
    if outcome in frame:
        frame[outcome] = pd.to_numeric(frame[outcome].astype("Float64"), errors="coerce").astype(float)
    for col in frame.columns:  # nullable booleans -> object with None, so patsy treats them as categories
        if isinstance(frame[col].dtype, pd.BooleanDtype):
            frame[col] = frame[col].astype(object).where(frame[col].notna(), None)
    model = smf.glm(formula, data=frame, family=sm.families.Binomial())
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", PerfectSeparationWarning)
            if cluster is None:
                fit = model.fit()
            else:
                groups = pd.factorize(frame.loc[model.data.row_labels, cluster])[0]
                fit = model.fit(cov_type="cluster", cov_kwds={"groups": groups})
    except (PerfectSeparationError, PerfectSeparationWarning, np.linalg.LinAlgError, ValueError) as exc:
        raise OprError(f"Modellen kunne ikke tilpasses ({formula}): {exc}") from exc
    ci = fit.conf_int(alpha=0.05)
    out = pd.DataFrame(
        {
            "term": fit.params.index.astype(str),
            "estimate": fit.params.to_numpy(),
            "std_error": fit.bse.to_numpy(),
            "odds_ratio": np.exp(fit.params.to_numpy()),
            "ci_low": np.exp(ci[0].to_numpy()),
            "ci_high": np.exp(ci[1].to_numpy()),
            "p_value": fit.pvalues.to_numpy(),
        }
    )
    out.insert(1, "label", out["term"].map(TERM_LABELS).fillna(out["term"]))
    out["n"] = int(fit.nobs)
    out["events"] = int(model.endog.sum())
    return out[MODEL_COLUMNS]


def _covariates(frame: pd.DataFrame) -> pd.DataFrame:
    frame["age_10"] = frame["age"].astype(float) / 10
    duration = frame["pain_duration"].astype(float)
    frame["long_duration"] = (duration >= 4).astype("boolean").where(duration.notna(), pd.NA)
    return frame


def nonresponse_data(reg, as_of=None) -> pd.DataFrame:
    """One row per follow-up sent as owed (status ``sendt``) with its paired baseline.

    Columns: followup_id, patient_id, kind, treatment, months, year, responded
    (0/1), age (due year − birth year), age_10, sex, has_baseline, the paired
    baseline's nrs_avg, bpi_interference, hscl10_case, pcs_clinical,
    eq5d_index, odi_percent, pain_duration, long_duration. Pairing as in
    :mod:`opr_analysis.stats.proms`.
    """
    sent = _sent_followups(reg, as_of)
    sent = sent[sent["status"] == "sendt"].reset_index(drop=True)
    base = baseline_scores(reg)
    pair = _pair(reg, sent, base)
    b = base.set_index(base["response_id"].astype(object)).reindex(pair["baseline_response_id"].astype(object))
    out = sent[["followup_id", "patient_id", "kind", "treatment", "months", "year", "age", "sex"]].copy()
    out["responded"] = sent["responded"].astype("int64")
    out["has_baseline"] = pair["baseline_response_id"].notna().to_numpy()
    for c in ("nrs_avg", "bpi_interference", "eq5d_index", "odi_percent", "pain_duration"):
        out[c] = b[c].to_numpy(dtype=float)
    for c in ("hscl10_case", "pcs_clinical"):
        out[c] = pd.array(b[c].to_numpy(), dtype="boolean")
    return _covariates(out)


def nonresponse_model(reg, as_of=None, formula: str = NONRESPONSE_FORMULA, cluster: bool = True) -> pd.DataFrame:
    """Who answers follow-ups: logistic regression of ``responded`` on baseline characteristics.

    Data: :func:`nonresponse_data` (follow-ups sent as owed, each with the
    baseline of its treatment episode). Default formula
    :data:`NONRESPONSE_FORMULA`: age per 10 years, sex (reference: women),
    baseline average pain (NRS), HSCL-10 caseness and treatment kind
    (reference: RF). An odds ratio below 1 means the group answers less, so
    follow-up results under-represent it. Only follow-ups with a paired
    baseline enter (complete cases); those without a baseline are a further
    group the answers miss (compare with ``responded ~ has_baseline``).
    Standard errors are cluster-robust by patient (``cluster=True``).
    Output: :func:`tidy_logit` columns. Assumptions: module docstring.
    """
    data = nonresponse_data(reg, as_of)
    return tidy_logit(formula, data, cluster="patient_id" if cluster else None)


def prognostic_data(reg, as_of=None, months: int = 12) -> pd.DataFrame:
    """Paired first answers at ``months`` months with baseline covariates and ``nrs_improved_30``.

    Columns: those of :func:`~opr_analysis.stats.proms.paired_outcomes`, with the
    baseline values under their plain names (``nrs_avg`` = baseline NRS) and
    age_10, long_duration (pain for more than 2 years, pain_duration 4–5).
    """
    po = paired_outcomes(reg, as_of)
    po = po[po["first_answer"] & po["paired"] & (po["months"] == months)].copy()
    for s in ("nrs_avg", "bpi_interference", "eq5d_index", "odi_percent", "pcs_total", "hscl10_mean"):
        po[s] = po[f"{s}_baseline"]
    return _covariates(po.reset_index(drop=True))


def prognostic_model(
    reg, as_of=None, formula: str = PROGNOSTIC_FORMULA, months: int = 12, cluster: bool = True
) -> pd.DataFrame:
    """Who improves: logistic regression of ≥ 30 % NRS reduction at ``months`` months on baseline factors.

    Data: :func:`prognostic_data` (paired first answers to 12-month follow-ups
    of every kind: ``rf_12m``, ``scs_12m``, ``avsluttet_12m``; baseline NRS
    0 or missing leaves a row out). Default formula
    :data:`PROGNOSTIC_FORMULA`: age per 10 years, sex, baseline NRS, HSCL-10
    caseness, pain for more than 2 years and treatment kind (reference: RF).
    Output: :func:`tidy_logit` columns. Assumptions: module docstring; in
    addition, only patients who answered are modelled, so the estimates hold
    for responders (the non-response model shows how they differ). Baseline
    NRS enters both the outcome and the covariates: regression to the mean
    makes a high baseline look prognostic of improvement.
    """
    data = prognostic_data(reg, as_of, months)
    return tidy_logit(formula, data, cluster="patient_id" if cluster else None)
