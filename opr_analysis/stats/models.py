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
  :mod:`opr_analysis.stats.scoring`; HSCL-10: 8 of 10 items, a local rule);
  if missingness depends on the outcome, estimates are biased.
  ``n`` in the output is the number of rows used.
- **Linearity on the logit scale** for continuous terms (age per 10 years,
  NRS per point): a log-odds change per unit, constant across the range.
- **No unmeasured confounding** for a causal reading — the models describe
  association. The non-response model tells whom the answers under-represent;
  it does not say why.
- **Enough events per term** (rule of thumb ≥ 10): small registries or years
  give wide intervals or, with separation, no fit (an :class:`OprError`).

Guards per level (default models)
---------------------------------
An odds ratio of a category is shown only where every level of its term has
at least ``max(min_cell, MIN_LEVEL_EVENTS)`` (default max(5, 10) = 10) events
and as many non-events among the complete cases (stability, and no small
cell is disclosed). Otherwise (:func:`guard_terms`): due years are merged
with their neighbours (consecutive years until each group passes, e.g.
«2021–2022»); other non-reference levels that fall short are merged into one
level «øvrige» when at least two fall short and the merged level passes;
else the term is left out. Each
merge or omission is a Norwegian sentence in ``model.attrs["guard_notes"]``
that the report prints. Pooled models enter the due year as a category
(reference: the first year of the window), so a change in response between
years is not read as an effect of case mix.

Window
------
``window`` (first, last due year, :func:`~opr_analysis.stats.proms.outcome_window`)
restricts the data to follow-ups due in those years and on or before the
as-of date; sends and answers after the as-of date are censored by the
follow-up audit.

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
from .proms import _pair, _sent_followups, baseline_scores, in_window, paired_outcomes

__all__ = [
    "MODEL_COLUMNS",
    "NONRESPONSE_FORMULA",
    "PROGNOSTIC_FORMULA",
    "TERM_LABELS",
    "tidy_logit",
    "guard_terms",
    "guard_notes",
    "MIN_LEVEL_EVENTS",
    "NONRESPONSE_TERMS",
    "PROGNOSTIC_TERMS",
    "nonresponse_data",
    "nonresponse_model",
    "prognostic_data",
    "prognostic_model",
]

MODEL_COLUMNS = ["term", "label", "estimate", "std_error", "odds_ratio", "ci_low", "ci_high", "p_value", "n", "events"]

#: Terms of the default non-response model (did the patient answer a follow-up sent as owed?).
NONRESPONSE_TERMS = [
    "age_10", "C(sex, Treatment('K'))", "nrs_avg", "hscl10_case", "C(treatment, Treatment('rf'))", "C(year)",
]  # fmt: skip

#: Terms of the default prognostic model (≥ 30 % NRS reduction at 12 months).
PROGNOSTIC_TERMS = [
    "age_10", "C(sex, Treatment('K'))", "nrs_avg", "hscl10_case", "long_duration",
    "C(treatment, Treatment('rf'))", "C(year)",
]  # fmt: skip

#: Default non-response model as one formula (before guards).
NONRESPONSE_FORMULA = "responded ~ " + " + ".join(NONRESPONSE_TERMS)

#: Default prognostic model as one formula (before guards).
PROGNOSTIC_FORMULA = "nrs_improved_30 ~ " + " + ".join(PROGNOSTIC_TERMS)

#: Events and non-events every level of a categorical term needs at least (with min_cell if larger).
MIN_LEVEL_EVENTS = 10
DEFAULT_MIN_CELL = 5

#: Categorical term -> (column, reference level or None for the first, Norwegian name).
_CATEGORICAL = {
    "C(sex, Treatment('K'))": ("sex", "K", "Kjønn"),
    "hscl10_case": ("hscl10_case", False, "HSCL-10 ≥ 1,85 ved baseline"),
    "long_duration": ("long_duration", False, "Smerter i mer enn 2 år"),
    "C(treatment, Treatment('rf'))": ("treatment", "rf", "Behandling"),
    "C(year)": ("year", None, "Forfallsår"),
}
_CONTINUOUS = {"age_10": "age_10", "nrs_avg": "nrs_avg"}
MERGED_LEVEL = "øvrige"

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
    f"C(treatment, Treatment('rf'))[T.{MERGED_LEVEL}]": "Øvrige behandlinger, slått sammen (mot RF)",
}


def _label(term: str) -> str:
    """Norwegian label of a term: :data:`TERM_LABELS`, else «Forfallsår 2024 (mot 2023)» for years."""
    if term in TERM_LABELS:
        return TERM_LABELS[term]
    if term.startswith("C(year)[T."):
        return f"Forfallsår {term[len('C(year)[T.') : -1]}"
    return term


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
    out.insert(1, "label", out["term"].map(_label))
    is_year = out["term"].str.startswith("C(year)[T.")
    if is_year.any():  # the reference year (or merged years) of C(year) in the labels
        first_year = str(frame.loc[model.data.row_labels, "year"].astype(str).min())
        out.loc[is_year, "label"] = out.loc[is_year, "label"] + f" (mot {first_year})"
    out["n"] = int(fit.nobs)
    out["events"] = int(model.endog.sum())
    return out[MODEL_COLUMNS]


def _term_columns(terms: list[str]) -> list[str]:
    return [_CATEGORICAL[t][0] if t in _CATEGORICAL else _CONTINUOUS.get(t, t) for t in terms]


def guard_terms(
    data: pd.DataFrame, outcome: str, terms: list[str], min_cell: int = DEFAULT_MIN_CELL
) -> tuple[list[str], pd.DataFrame, list[str]]:
    """Apply the per-level guard (module docstring) to the complete cases of ``terms``.

    Returns the terms kept, the data (complete cases, merged levels written
    into the columns) and the Norwegian notes on what was merged or left out.
    A term left out no longer restricts the complete cases.

    >>> d = pd.DataFrame({"y": [1, 0] * 40 + [1] * 3 + [0] * 3, "sex": ["K"] * 78 + ["M"] * 8})
    >>> terms, _, notes = guard_terms(d, "y", ["C(sex, Treatment('K'))"])
    >>> terms, notes[0]
    ([], 'Kjønn er utelatt fra modellen: minst én gruppe har færre enn 10 svar med eller uten utfallet.')
    """
    need = max(int(min_cell), MIN_LEVEL_EVENTS)
    kept, notes = list(terms), []
    data = data.copy()
    changed = True
    while changed:  # dropping a term can add complete cases, so check again until stable
        changed = False
        cols = _term_columns(kept)
        complete = data.dropna(subset=[outcome, *cols]) if cols else data.dropna(subset=[outcome])
        y = pd.to_numeric(complete[outcome].astype("Float64"), errors="coerce").astype(float)
        for term in kept:
            if term not in _CATEGORICAL:
                continue
            col, ref, name = _CATEGORICAL[term]
            level = complete[col].astype(object)
            if ref is None and len(level):
                ref = level.min()
            counts = pd.DataFrame({"level": level, "y": y}).groupby("level")["y"].agg(["sum", "count"])
            short = counts[(counts["sum"] < need) | (counts["count"] - counts["sum"] < need)].index.tolist()
            if not short:
                continue
            if col == "year":
                merged_years = _merge_years(counts, need)
                if merged_years is not None:
                    data[col] = data[col].map(merged_years).where(data[col].notna(), None).astype(object)
                    joined = sorted({v for k, v in merged_years.items() if str(k) != v})
                    notes.append(
                        f"{name}: årene {', '.join(joined)} er slått sammen fordi hvert år for seg hadde færre enn "
                        f"{need} svar med eller uten utfallet."
                    )
                    changed = True
                    break
                kept.remove(term)
                notes.append(
                    f"{name} er utelatt fra modellen: for få svar med eller uten utfallet til å sammenligne år."
                )
                changed = True
                break
            others = [lv for lv in short if lv != ref]
            # by membership, not .loc: the levels of a yes/no term are booleans, which .loc reads as a mask
            merged = counts[counts.index.isin(others)].sum() if others else None
            if ref not in short and len(others) >= 2 and min(merged["sum"], merged["count"] - merged["sum"]) >= need:
                if col == "year":  # year levels become labels so that «øvrige» can sit among them
                    data[col] = data[col].astype("Int64").astype(str).where(data[col].notna(), None)
                    others = [str(v) for v in others]
                data[col] = data[col].astype(object).where(~data[col].astype(object).isin(others), MERGED_LEVEL)
                listed = ", ".join(str(v) for v in others[:-1]) + f" og {others[-1]}"
                notes.append(
                    f"{name}: gruppene {listed} er slått sammen til «{MERGED_LEVEL}» fordi hver av dem hadde "
                    f"færre enn {need} svar med eller uten utfallet."
                )
                changed = True
                break
            kept.remove(term)
            notes.append(
                f"{name} er utelatt fra modellen: minst én gruppe har færre enn {need} svar med eller uten utfallet."
            )
            changed = True
            break
    cols = _term_columns(kept)
    complete = data.dropna(subset=[outcome, *cols])
    return kept, complete, notes


def _merge_years(counts: pd.DataFrame, need: int) -> dict | None:
    """Consecutive years merged until each group has ``need`` events and non-events: {year: "2021–2022"}.

    None when fewer than two groups result (the year term is then left out).
    """
    groups, current, events, non_events = [], [], 0.0, 0.0
    for year in sorted(counts.index):
        current.append(year)
        events += counts.at[year, "sum"]
        non_events += counts.at[year, "count"] - counts.at[year, "sum"]
        if events >= need and non_events >= need:
            groups.append(current)
            current, events, non_events = [], 0.0, 0.0
    if current and groups:  # a short tail joins the last group
        groups[-1] = groups[-1] + current
    if len(groups) < 2:
        return None

    def name(g):
        return str(int(g[0])) if len(g) == 1 else f"{int(g[0])}–{int(g[-1])}"

    return {year: name(g) for g in groups for year in g}


def guard_notes(model: pd.DataFrame) -> list[str]:
    """The guard's sentences attached to a default model (empty when nothing was merged or left out)."""
    return list(model.attrs.get("guard_notes", []))


def _fit_guarded(data, outcome, terms, cluster, min_cell) -> pd.DataFrame:
    kept, complete, notes = guard_terms(data, outcome, terms, min_cell)
    formula = f"{outcome} ~ " + (" + ".join(kept) if kept else "1")
    out = tidy_logit(formula, complete, cluster="patient_id" if cluster else None)
    out.attrs["guard_notes"] = notes
    out.attrs["formula"] = formula
    return out


def _covariates(frame: pd.DataFrame) -> pd.DataFrame:
    frame["age_10"] = frame["age"].astype(float) / 10
    duration = frame["pain_duration"].astype(float)
    frame["long_duration"] = (duration >= 4).astype("boolean").where(duration.notna(), pd.NA)
    return frame


def nonresponse_data(reg, as_of=None, window: tuple[int, int] | None = None) -> pd.DataFrame:
    """One row per follow-up sent as owed (status ``sendt``) with its paired baseline.

    Columns: followup_id, patient_id, kind, treatment, months, year, responded
    (0/1), age (due year − birth year), age_10, sex, has_baseline, the paired
    baseline's nrs_avg, bpi_interference, hscl10_case, pcs_clinical,
    eq5d_index, odi_percent, pain_duration, long_duration. Pairing as in
    :mod:`opr_analysis.stats.proms`. ``window``: due years (module docstring).
    Only settled follow-ups are used (:func:`opr_analysis.stats.followup.settled_at`:
    sent at least the response window before the as-of date, answered or not), as
    in the follow-up table: a recent send is neither answered nor unanswered yet.
    """
    sent = _sent_followups(reg, as_of)
    sent = sent[(sent["status"] == "sendt") & sent["settled"]]
    sent = in_window(sent, window, as_of).reset_index(drop=True)
    base = baseline_scores(reg)
    pair = _pair(reg, sent, base)
    b = base.set_index(base["response_id"].astype(object)).reindex(pair["baseline_response_id"].astype(object))
    out = sent[["followup_id", "patient_id", "kind", "treatment", "months", "year", "age", "sex"]].copy()
    out["year"] = out["year"].astype("int64")
    out["responded"] = sent["responded"].astype("int64")
    out["has_baseline"] = pair["baseline_response_id"].notna().to_numpy()
    for c in ("nrs_avg", "bpi_interference", "eq5d_index", "odi_percent", "pain_duration"):
        out[c] = b[c].to_numpy(dtype=float)
    for c in ("hscl10_case", "pcs_clinical"):
        out[c] = pd.array(b[c].to_numpy(), dtype="boolean")
    return _covariates(out)


def nonresponse_model(
    reg,
    as_of=None,
    formula: str | None = None,
    cluster: bool = True,
    window: tuple[int, int] | None = None,
    min_cell: int = DEFAULT_MIN_CELL,
) -> pd.DataFrame:
    """Who answers follow-ups: logistic regression of ``responded`` on baseline characteristics.

    Data: :func:`nonresponse_data` (follow-ups sent as owed, each with the
    baseline of its treatment episode, due in ``window``). Default terms
    :data:`NONRESPONSE_TERMS`: age per 10 years, sex (reference: women),
    baseline average pain (NRS), HSCL-10 caseness, treatment kind (reference:
    RF) and due year, after the per-level guard (:func:`guard_terms`; its notes
    in ``attrs["guard_notes"]``). A given ``formula`` is fitted as it is, without
    guards. An odds ratio below 1 means the group answers less, so follow-up
    results under-represent it. Only follow-ups with a paired baseline enter
    (complete cases). Standard errors are cluster-robust by patient
    (``cluster=True``). Output: :func:`tidy_logit` columns. Assumptions: module docstring.
    """
    data = nonresponse_data(reg, as_of, window)
    if formula is not None:
        return tidy_logit(formula, data, cluster="patient_id" if cluster else None)
    return _fit_guarded(data, "responded", NONRESPONSE_TERMS, cluster, min_cell)


def prognostic_data(reg, as_of=None, months: int = 12, window: tuple[int, int] | None = None) -> pd.DataFrame:
    """Paired first answers at ``months`` months with baseline covariates and ``nrs_improved_30``.

    Columns: those of :func:`~opr_analysis.stats.proms.paired_outcomes`, with the
    baseline values under their plain names (``nrs_avg`` = baseline NRS) and
    age_10, long_duration (pain for more than 2 years, pain_duration 4–5).
    ``window``: due years (module docstring).
    """
    po = in_window(paired_outcomes(reg, as_of), window, as_of)
    po = po[po["first_answer"] & po["paired"] & (po["months"] == months)].copy()
    po["year"] = po["year"].astype("int64")
    for s in ("nrs_avg", "bpi_interference", "eq5d_index", "odi_percent", "pcs_total", "hscl10_mean"):
        po[s] = po[f"{s}_baseline"]
    return _covariates(po.reset_index(drop=True))


def prognostic_model(
    reg,
    as_of=None,
    formula: str | None = None,
    months: int = 12,
    cluster: bool = True,
    window: tuple[int, int] | None = None,
    min_cell: int = DEFAULT_MIN_CELL,
) -> pd.DataFrame:
    """Who improves: logistic regression of ≥ 30 % NRS reduction at ``months`` months on baseline factors.

    Data: :func:`prognostic_data` (paired first answers to 12-month follow-ups
    of every kind: ``rf_12m``, ``scs_12m``, ``avsluttet_12m``; baseline NRS
    0 or missing leaves a row out). Default terms :data:`PROGNOSTIC_TERMS`:
    age per 10 years, sex, baseline NRS, HSCL-10 caseness, pain for more than
    2 years, treatment kind (reference: RF) and due year, after the per-level
    guard (:func:`guard_terms`). Output: :func:`tidy_logit` columns.
    Assumptions: module docstring; in addition, only patients who answered
    are modelled, so the estimates hold for responders (the non-response
    model shows how they differ). Baseline NRS enters both the outcome and
    the covariates: regression to the mean makes a high baseline look
    prognostic of improvement.
    """
    data = prognostic_data(reg, as_of, months, window)
    if formula is not None:
        return tidy_logit(formula, data, cluster="patient_id" if cluster else None)
    return _fit_guarded(data, "nrs_improved_30", PROGNOSTIC_TERMS, cluster, min_cell)
