"""Models recover planted effects within their confidence intervals; model functions run on a
synthetic registry and return the documented columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from opr_analysis import load_extract, models, write_synthetic
from opr_analysis.errors import OprError

AS_OF = "2025-12-31"


def _covers(table, term, log_odds):
    row = table.set_index("term").loc[term]
    return row["ci_low"] <= np.exp(log_odds) <= row["ci_high"]


def test_tidy_logit_recovers_planted_effects():
    rng = np.random.default_rng(2024)
    n = 4000
    d = pd.DataFrame({"x1": rng.normal(size=n), "x2": rng.integers(0, 2, size=n)})
    logit = -0.5 + 0.8 * d["x1"] - 0.5 * d["x2"]
    d["y"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    t = models.tidy_logit("y ~ x1 + x2", d)
    assert list(t.columns) == models.MODEL_COLUMNS
    assert _covers(t, "Intercept", -0.5) and _covers(t, "x1", 0.8) and _covers(t, "x2", -0.5)
    assert not _covers(t, "x1", 0.0)  # the effect is detected, not just covered
    assert t["n"].iloc[0] == n and t["events"].iloc[0] == d["y"].sum()
    assert (t["p_value"].between(0, 1)).all()


def test_default_nonresponse_formula_recovers_planted_effects_with_complete_cases():
    # Each 95 % interval misses its true value 1 time in 20, so with 7 terms some seeds miss one
    # (seeds 3, 7 and 11 do, by about 2.5 SE; over 20 seeds the mean estimates match the planted
    # values to 0.01). The seed is fixed, so the test is deterministic.
    rng = np.random.default_rng(2024)
    n = 5000
    d = pd.DataFrame(
        {
            "patient_id": [f"P{i // 2}" for i in range(n)],
            "age_10": rng.uniform(2, 8, n),
            "sex": rng.choice(["K", "M"], n),
            "nrs_avg": rng.integers(0, 11, n).astype(float),
            "hscl10_case": pd.array(rng.random(n) < 0.4, dtype="boolean"),
            "treatment": rng.choice(["rf", "scs", "avsluttet"], n, p=[0.4, 0.1, 0.5]),
            "year": rng.choice([2023, 2024, 2025], n),
        }
    )
    planted = {"Intercept": -1.0, "age_10": 0.3, "C(sex, Treatment('K'))[T.M]": -0.4, "nrs_avg": -0.1,
               "hscl10_case[T.True]": -0.6, "C(treatment, Treatment('rf'))[T.scs]": 0.5,
               "C(treatment, Treatment('rf'))[T.avsluttet]": 0.0, "C(year)[T.2024]": 0.0,
               "C(year)[T.2025]": 0.4}  # fmt: skip
    logit = (
        planted["Intercept"] + 0.3 * d["age_10"] - 0.4 * (d["sex"] == "M") - 0.1 * d["nrs_avg"]
        - 0.6 * d["hscl10_case"].astype(bool) + 0.5 * (d["treatment"] == "scs") + 0.4 * (d["year"] == 2025)
    )  # fmt: skip
    d["responded"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    d.loc[rng.random(n) < 0.2, "hscl10_case"] = pd.NA  # dropped as incomplete cases
    t = models.tidy_logit(models.NONRESPONSE_FORMULA, d, cluster="patient_id")
    assert set(t["term"]) == set(planted)
    for term, value in planted.items():
        assert _covers(t, term, value), term
    assert t["n"].iloc[0] == d["hscl10_case"].notna().sum()
    assert t.set_index("term").loc["age_10", "label"] == "Alder (per 10 år)"
    assert t.set_index("term").loc["C(year)[T.2025]", "label"] == "Forfallsår 2025 (mot 2023)"


def test_separation_is_a_clear_error():
    d = pd.DataFrame({"x": [0, 0, 0, 1, 1, 1], "y": [0, 0, 0, 1, 1, 1]})
    with pytest.raises(OprError, match="kunne ikke tilpasses"):
        models.tidy_logit("y ~ x", d)


@pytest.fixture(scope="module")
def reg(tmp_path_factory):
    return load_extract(write_synthetic(tmp_path_factory.mktemp("models") / "x", scale=0.2))


def test_nonresponse_model_on_synthetic_registry(reg):
    data = models.nonresponse_data(reg, as_of=AS_OF)
    assert set(data["responded"].unique()) <= {0, 1}
    t = models.nonresponse_model(reg, as_of=AS_OF)
    assert list(t.columns) == models.MODEL_COLUMNS
    used = data.dropna(subset=["age_10", "sex", "nrs_avg", "hscl10_case", "treatment"])
    assert t["n"].iloc[0] == len(used) and t["events"].iloc[0] == used["responded"].sum()
    # the generator plants +0.03 log-odds of answering per year of age, and less answering with
    # worse latent severity (baseline NRS is its proxy here)
    assert _covers(t, "age_10", 0.3)
    row = t.set_index("term")
    assert row.at["age_10", "ci_low"] > 1 and row.at["nrs_avg", "ci_high"] < 1


def test_prognostic_model_on_synthetic_registry(reg):
    data = models.prognostic_data(reg, as_of=AS_OF)
    assert set(data["kind"]) <= {"rf_12m", "scs_12m", "avsluttet_12m"} and data["paired"].all()
    t = models.prognostic_model(reg, as_of=AS_OF)
    assert list(t.columns) == models.MODEL_COLUMNS
    used = data.dropna(subset=["nrs_improved_30", "age_10", "sex", "nrs_avg", "hscl10_case", "long_duration"])
    assert t["n"].iloc[0] == len(used) and t["events"].iloc[0] == used["nrs_improved_30"].astype(int).sum()


# --- the generator's effects, planted in a large simulation ------------------------------------


# Logistic attenuation of a marginal (population-averaged) coefficient by a patient-level normal
# random effect with standard deviation sigma (Zeger, Liang & Albert 1988): 1 / sqrt(1 + c² σ²).
def _attenuation(sigma):
    c = 16 * np.sqrt(3) / (15 * np.pi)
    return 1 / np.sqrt(1 + c**2 * sigma**2)


def _generator_like(seed, patients=4000, per_patient=3, engagement_sd=0.5):
    """Follow-ups answered as synth/registry.py plants it: age +0.03/year, latent severity −0.55,
    women +0.15, patient-level engagement (sd 0.5, unobserved) +0.5 per sd."""
    rng = np.random.default_rng(seed)
    pid = np.repeat(np.arange(patients), per_patient)
    age = rng.uniform(25, 85, patients)[pid] + rng.integers(0, 2, len(pid))
    female = (rng.random(patients) < 0.6)[pid]
    severity = rng.normal(0, 1, patients)[pid]
    engagement = rng.normal(0, engagement_sd, patients)[pid]
    logit = -0.78 + 0.03 * (age - 55) - 0.55 * severity + 0.15 * female + engagement
    return pd.DataFrame(
        {
            "patient_id": pid,
            "age_10": age / 10,
            "sex": np.where(female, "K", "M"),
            "severity": severity,
            "responded": (rng.random(len(pid)) < 1 / (1 + np.exp(-logit))).astype(int),
        }
    )


def test_every_planted_response_effect_is_covered_and_has_its_sign():
    d = _generator_like(2025)
    t = models.tidy_logit("responded ~ age_10 + C(sex, Treatment('K')) + severity", d, cluster="patient_id")
    k = _attenuation(0.5)  # population-averaged targets of the conditional effects
    planted = {"age_10": 0.3 * k, "C(sex, Treatment('K'))[T.M]": -0.15 * k, "severity": -0.55 * k}
    row = t.set_index("term")
    for term, value in planted.items():
        assert _covers(t, term, value), term
        # the sign is detected: the whole interval lies on the planted side of 1
        assert (row.at[term, "ci_low"] > 1) if value > 0 else (row.at[term, "ci_high"] < 1), term


def test_clustered_data_give_robust_errors_above_naive_ones():
    # Patient-level engagement with sd 1.5 and three follow-ups each: answers of one patient hang together,
    # so a patient-level covariate (sex) carries less information than the naive errors assume.
    d = _generator_like(7, patients=3000, per_patient=3, engagement_sd=1.5)
    formula = "responded ~ age_10 + C(sex, Treatment('K')) + severity"
    naive = models.tidy_logit(formula, d).set_index("term")
    robust = models.tidy_logit(formula, d, cluster="patient_id").set_index("term")
    for term in ("C(sex, Treatment('K'))[T.M]", "severity", "age_10"):
        assert robust.at[term, "std_error"] > 1.2 * naive.at[term, "std_error"], term
    # independent rows: the two agree closely
    flat = _generator_like(7, patients=9000, per_patient=1, engagement_sd=0.0)
    n0 = models.tidy_logit(formula, flat).set_index("term")
    r0 = models.tidy_logit(formula, flat, cluster="patient_id").set_index("term")
    assert r0.at["severity", "std_error"] == pytest.approx(n0.at["severity", "std_error"], rel=0.1)


def test_planted_improvement_effects_have_their_sign():
    # synth/answers.py: improvement = by treatment (rf 0.55, scs 0.8, avsluttet 0.3) + 0.25 × severity + noise
    rng = np.random.default_rng(11)
    n = 6000
    treatment = rng.choice(["rf", "scs", "avsluttet"], n, p=[0.4, 0.2, 0.4])
    severity = rng.normal(0, 1, n)
    mu = pd.Series(treatment).map({"rf": 0.55, "scs": 0.8, "avsluttet": 0.3}).to_numpy()
    improvement = mu + 0.25 * severity + rng.normal(0, 0.8, n)
    d = pd.DataFrame({"patient_id": np.arange(n), "treatment": treatment, "severity": severity})
    d["improved"] = (improvement > 0.5).astype(int)
    t = models.tidy_logit("improved ~ severity + C(treatment, Treatment('rf'))", d).set_index("term")
    assert t.at["severity", "ci_low"] > 1
    assert t.at["C(treatment, Treatment('rf'))[T.scs]", "ci_low"] > 1
    assert t.at["C(treatment, Treatment('rf'))[T.avsluttet]", "ci_high"] < 1


# --- guards per level ---------------------------------------------------------------------------


def _levels(counts):
    """Rows from {level: (events, non-events)} for column ``g``."""
    rows = [(lv, 1) for lv, (e, _) in counts.items() for _ in range(e)]
    rows += [(lv, 0) for lv, (_, ne) in counts.items() for _ in range(ne)]
    return pd.DataFrame(rows, columns=["treatment", "y"]).assign(patient_id=lambda f: range(len(f)))


def test_guard_drops_a_binary_term_below_ten_events_and_keeps_it_at_ten():
    ok = pd.DataFrame({"y": [1] * 10 + [0] * 10 + [1] * 30 + [0] * 30, "sex": ["M"] * 20 + ["K"] * 60})
    terms, data, notes = models.guard_terms(ok, "y", ["C(sex, Treatment('K'))"])
    assert terms == ["C(sex, Treatment('K'))"] and notes == [] and len(data) == 80
    short = ok.iloc[1:]  # men: 9 events, 10 non-events
    terms, _, notes = models.guard_terms(short, "y", ["C(sex, Treatment('K'))"])
    assert terms == [] and notes == [
        "Kjønn er utelatt fra modellen: minst én gruppe har færre enn 10 svar med eller uten utfallet."
    ]
    # a min_cell above 10 raises the bar
    terms, _, notes = models.guard_terms(ok, "y", ["C(sex, Treatment('K'))"], min_cell=11)
    assert terms == [] and "færre enn 11" in notes[0]


def test_guard_drops_a_yes_no_term_whose_yes_group_is_small():
    # hscl10_case is True/False (reference False); 9 cases with the outcome among the Trues: left out, not an
    # IndexError (the boolean levels were once read by .loc as a mask; a four-unit synthetic report hit it)
    d = pd.DataFrame({"y": [1] * 9 + [0] * 20 + [1] * 30 + [0] * 30, "hscl10_case": [True] * 29 + [False] * 60})
    terms, data, notes = models.guard_terms(d, "y", ["hscl10_case"])
    assert terms == [] and len(data) == 89
    assert notes == [
        "HSCL-10 ≥ 1,85 ved baseline er utelatt fra modellen: minst én gruppe har færre enn 10 svar med eller uten "
        "utfallet."
    ]


def test_guard_merges_small_levels_or_drops_the_term():
    d = _levels({"rf": (40, 40), "scs": (6, 20), "avsluttet": (5, 20)})
    terms, data, notes = models.guard_terms(d, "y", ["C(treatment, Treatment('rf'))"])
    assert terms == ["C(treatment, Treatment('rf'))"]
    assert set(data["treatment"]) == {"rf", "øvrige"} and (data["treatment"] == "øvrige").sum() == 51
    assert notes == [
        "Behandling: gruppene scs og avsluttet er slått sammen til «øvrige» fordi hver av dem hadde færre enn 10 "
        "svar med eller uten utfallet."
    ] or notes == [
        "Behandling: gruppene avsluttet og scs er slått sammen til «øvrige» fordi hver av dem hadde færre enn 10 "
        "svar med eller uten utfallet."
    ]
    t = models.tidy_logit("y ~ " + terms[0], data).set_index("term")
    assert t.at["C(treatment, Treatment('rf'))[T.øvrige]", "label"] == "Øvrige behandlinger, slått sammen (mot RF)"
    # merged still too small (4 + 5 events): the term is left out
    small = _levels({"rf": (40, 40), "scs": (4, 20), "avsluttet": (5, 20)})
    terms, _, notes = models.guard_terms(small, "y", ["C(treatment, Treatment('rf'))"])
    assert terms == [] and notes[0].startswith("Behandling er utelatt")
    # only one small level: the term is left out (nothing to merge it with)
    one = _levels({"rf": (40, 40), "scs": (20, 20), "avsluttet": (5, 20)})
    assert models.guard_terms(one, "y", ["C(treatment, Treatment('rf'))"])[0] == []


def test_default_model_on_a_registry_reports_its_guards(reg):
    t = models.nonresponse_model(reg, as_of=AS_OF)  # every due year: the first years are small
    for note in models.guard_notes(t):
        assert "utelatt" in note or "slått sammen" in note
    shown = models.nonresponse_model(reg, as_of=AS_OF, window=(2023, 2025))
    years = models.nonresponse_data(reg, as_of=AS_OF, window=(2023, 2025))["year"]
    assert set(years) <= {2023, 2024, 2025}
    # every category level shown has at least 10 events and non-events among the rows used
    used = models.nonresponse_data(reg, as_of=AS_OF, window=(2023, 2025)).dropna(
        subset=["age_10", "sex", "nrs_avg", "hscl10_case", "treatment"]
    )
    for term in shown["term"]:
        if term.startswith("C(treatment"):
            level = term.split("[T.")[1].rstrip("]")
            sel = used[used["treatment"] == level]
            assert sel["responded"].sum() >= 10 and (1 - sel["responded"]).sum() >= 10, term


def test_guard_merges_small_years_with_their_neighbours():
    rows = {2021: (3, 4), 2022: (8, 9), 2023: (30, 30), 2024: (30, 30), 2025: (4, 30)}
    d = pd.DataFrame(
        [(y, 1) for y, (e, _) in rows.items() for _ in range(e)]
        + [(y, 0) for y, (_, n) in rows.items() for _ in range(n)],
        columns=["year", "y"],
    )
    terms, data, notes = models.guard_terms(d, "y", ["C(year)"])
    assert terms == ["C(year)"]
    # 2021 + 2022 reach 11 events and 13 non-events; 2025 (4 events) joins 2024
    assert sorted(data["year"].unique()) == ["2021–2022", "2023", "2024–2025"]
    assert notes == [
        "Forfallsår: årene 2021–2022, 2024–2025 er slått sammen fordi hvert år for seg hadde færre enn 10 svar "
        "med eller uten utfallet."
    ]
    d["patient_id"] = range(len(d))
    t = models.tidy_logit("y ~ C(year)", data).set_index("term")
    assert t.at["C(year)[T.2024–2025]", "label"] == "Forfallsår 2024–2025 (mot 2021–2022)"
    few = d[d["year"].isin([2021, 2022])]  # one group only: no comparison of years
    assert models.guard_terms(few, "y", ["C(year)"])[0] == []
