"""Trend test over years (binomial logistic regression on year)."""

import math

import pandas as pd
import pytest
from helpers import make_extract

from opr_analysis import trend_test, trend_tests


def test_series_exactly_on_the_curve_has_no_variance_to_test_against():
    f = pd.DataFrame({"year": [2021, 2022, 2023], "k": [30, 30, 30], "n": [100, 100, 100]})
    t = trend_test(f, "k", "n", "flat").iloc[0]
    assert t["odds_ratio_per_year"] == pytest.approx(1.0)
    assert t["dispersion"] == pytest.approx(0.0, abs=1e-12)
    assert math.isnan(t["p_value"]) and math.isnan(t["odds_ratio_ci_low"])


def test_two_years_are_the_binomial_closed_form_without_dispersion():
    # two years: the ML slope is the log odds ratio of the 2x2 table; no df left to estimate φ
    f = pd.DataFrame({"year": [2021, 2022], "k": [20, 40], "n": [100, 100]})
    t = trend_test(f, "k", "n", "rise").iloc[0]
    assert t["odds_ratio_per_year"] == pytest.approx((40 / 60) / (20 / 80))
    se = math.sqrt(1 / 20 + 1 / 80 + 1 / 40 + 1 / 60)
    assert t["odds_ratio_ci_low"] == pytest.approx(math.exp(math.log(8 / 3) - 1.959964 * se), rel=1e-5)
    assert t["p_value"] < 0.01
    assert (t["first_year"], t["last_year"], t["years"], t["trials"], t["successes"]) == (2021, 2022, 2, 200, 60)
    assert t["df_resid"] == 0 and math.isnan(t["dispersion"]) and "kvasibinomisk" not in t["method"]


def test_undefined_cases_are_blank():
    one_year = pd.DataFrame({"year": [2021, 2022], "k": [3, 0], "n": [10, 0]})
    assert math.isnan(trend_test(one_year, "k", "n", "x")["p_value"].iloc[0])  # 0/0 year dropped: one year left
    separated = pd.DataFrame({"year": [2021, 2022], "k": [0, 10], "n": [10, 10]})
    assert math.isnan(trend_test(separated, "k", "n", "x")["odds_ratio_per_year"].iloc[0])


def test_trend_tests_of_a_registry(tmp_path):
    refs = [dict(assessed_date="2021-01-01", decision="avvist")] * 2 + [
        dict(assessed_date="2021-01-01", decision="rett")
    ] * 8
    refs += [dict(assessed_date="2023-01-01", decision="avvist")] * 6 + [
        dict(assessed_date="2023-01-01", decision="rett")
    ] * 4
    reg = make_extract(tmp_path, referrals=refs)
    t = trend_tests(reg).set_index("indicator")
    assert t.at["rejected_share", "years"] == 3 - 1  # 2022 has no referrals
    # odds 2/8 -> 6/4 over two years: (1.5/0.25) ** (1/2)
    assert t.at["rejected_share", "odds_ratio_per_year"] == pytest.approx(6**0.5)
    assert math.isnan(t.at["baseline_response_share_patient_level", "p_value"])


def _hand_logit(x, k, n, steps=50):
    """Newton–Raphson for a grouped logistic regression on [1, x], written out by hand."""
    a = b = 0.0
    for _ in range(steps):
        p = [1 / (1 + math.exp(-(a + b * xi))) for xi in x]
        w = [ni * pi * (1 - pi) for ni, pi in zip(n, p)]
        g0 = sum(ki - ni * pi for ki, ni, pi in zip(k, n, p))
        g1 = sum(xi * (ki - ni * pi) for xi, ki, ni, pi in zip(x, k, n, p))
        h00, h01, h11 = sum(w), sum(wi * xi for wi, xi in zip(w, x)), sum(wi * xi * xi for wi, xi in zip(w, x))
        det = h00 * h11 - h01 * h01
        a, b = a + (h11 * g0 - h01 * g1) / det, b + (h00 * g1 - h01 * g0) / det
    p = [1 / (1 + math.exp(-(a + b * xi))) for xi in x]
    w = [ni * pi * (1 - pi) for ni, pi in zip(n, p)]
    h00, h01, h11 = sum(w), sum(wi * xi for wi, xi in zip(w, x)), sum(wi * xi * xi for wi, xi in zip(w, x))
    var_b = h00 / (h00 * h11 - h01 * h01)
    chi2 = sum((ki - ni * pi) ** 2 / (ni * pi * (1 - pi)) for ki, ni, pi in zip(k, n, p))
    return b, math.sqrt(var_b), chi2


def _t1_quantile(p):
    """Quantile of t with 1 df (the Cauchy distribution): tan(π(p − ½))."""
    return math.tan(math.pi * (p - 0.5))


def _t1_two_sided_p(t):
    return 1 - 2 / math.pi * math.atan(abs(t))


def _t4_cdf(t):
    """Closed-form CDF of t with 4 df."""
    u = t / math.sqrt(1 + t * t / 4)
    return 0.5 + 3 / 8 * u * (1 - t * t / (12 * (1 + t * t / 4)))


def _t4_quantile(p):
    lo, hi = 0.0, 50.0
    for _ in range(200):  # bisection on the closed form
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if _t4_cdf(mid) < p else (lo, mid)
    return lo


def test_three_year_seed_series_uses_t_with_one_degree_of_freedom_by_hand():
    # The held-out seed extract's rejected share 2021–2023 (issue 24): φ = 7.95 on 1 df.
    k, n = [691, 797, 951], [2299, 2339, 2080]
    t = trend_test(pd.DataFrame({"year": [2021, 2022, 2023], "k": k, "n": n}), "k", "n", "x").iloc[0]
    b, se, chi2 = _hand_logit([0, 1, 2], k, n)
    phi = chi2 / (3 - 2)
    se_q = se * math.sqrt(phi)
    q = _t1_quantile(0.975)
    assert q == pytest.approx(12.7062, abs=1e-4)
    assert t["dispersion"] == pytest.approx(phi, rel=1e-6) and round(phi, 2) == 7.95
    assert t["df_resid"] == 1
    assert t["odds_ratio_per_year"] == pytest.approx(math.exp(b), rel=1e-6)
    assert t["odds_ratio_ci_low"] == pytest.approx(math.exp(b - q * se_q), rel=1e-5)
    assert t["odds_ratio_ci_high"] == pytest.approx(math.exp(b + q * se_q), rel=1e-5)
    assert t["p_value"] == pytest.approx(_t1_two_sided_p(b / se_q), rel=1e-5)
    # the figures: OR 1.40, limits 0.45–4.39, p = 0.17 (normal quantiles gave 1.18–1.67, p = 0.00016)
    assert [round(t[c], 2) for c in ("odds_ratio_per_year", "odds_ratio_ci_low", "odds_ratio_ci_high", "p_value")] == [
        1.40, 0.45, 4.39, 0.17,
    ]  # fmt: skip
    assert "kvasibinomisk" in t["method"] and "t-fordelingen" in t["method"]


def test_six_year_series_uses_t_with_four_degrees_of_freedom_by_hand():
    k, n = [300, 330, 310, 360, 350, 400], [1000] * 6
    t = trend_test(pd.DataFrame({"year": range(2020, 2026), "k": k, "n": n}), "k", "n", "x").iloc[0]
    b, se, chi2 = _hand_logit(list(range(6)), k, n)
    phi = chi2 / (6 - 2)
    se_q = se * math.sqrt(phi)
    q = _t4_quantile(0.975)
    assert q == pytest.approx(2.776445, abs=1e-5)
    assert (t["df_resid"], t["years"]) == (4, 6)
    assert t["dispersion"] == pytest.approx(phi, rel=1e-6)
    assert t["odds_ratio_ci_low"] == pytest.approx(math.exp(b - q * se_q), rel=1e-5)
    assert t["odds_ratio_ci_high"] == pytest.approx(math.exp(b + q * se_q), rel=1e-5)
    assert t["p_value"] == pytest.approx(2 * (1 - _t4_cdf(abs(b) / se_q)), rel=1e-5)
    # normal quantiles would have given a smaller p: t(4) has heavier tails
    assert t["p_value"] > math.erfc(abs(b) / se_q / math.sqrt(2))


def test_underdispersed_series_uses_the_estimated_dispersion_as_r_does():
    k, n = [10, 20, 30, 40], [100] * 4
    t = trend_test(pd.DataFrame({"year": [2021, 2022, 2023, 2024], "k": k, "n": n}), "k", "n", "x").iloc[0]
    b, se, chi2 = _hand_logit([0, 1, 2, 3], k, n)
    phi = chi2 / 2
    assert phi < 1 and t["dispersion"] == pytest.approx(phi, rel=1e-6)
    q = 4.302653  # t(2) 97.5 %: sqrt(2 / (1 − (2·0.975 − 1)²) − 2) for 2 df
    assert q == pytest.approx(math.sqrt(2 / (1 - (2 * 0.975 - 1) ** 2) - 2), rel=1e-6)
    assert t["odds_ratio_ci_low"] == pytest.approx(math.exp(b - q * se * math.sqrt(phi)), rel=1e-5)


def test_no_trend_planted_is_not_found_and_a_planted_trend_is():
    # no effect: the same expected share every year, binomial noise only
    flat = trend_test(pd.DataFrame({"year": range(2020, 2026), "k": [301, 296, 305, 298, 303, 299], "n": [1000] * 6}),
                      "k", "n", "flat").iloc[0]  # fmt: skip
    assert flat["odds_ratio_ci_low"] < 1 < flat["odds_ratio_ci_high"] and flat["p_value"] > 0.5
    # planted: odds ratio 1.2 per year
    odds = [0.4 * 1.2**i for i in range(6)]
    k = [round(2000 * o / (1 + o)) for o in odds]
    rise = trend_test(pd.DataFrame({"year": range(2020, 2026), "k": k, "n": [2000] * 6}), "k", "n", "rise").iloc[0]
    assert rise["odds_ratio_per_year"] == pytest.approx(1.2, abs=0.01) and rise["odds_ratio_ci_low"] > 1


def test_baseline_series_starts_in_2021_with_its_reason(tmp_path):
    from opr_analysis.stats.trends import SERIES, series_test

    f = pd.DataFrame({"year": [2020, 2021, 2022, 2023], "k": [1, 60, 62, 64], "n": [10, 100, 100, 100]})
    t = series_test(f, "k", "n", "baseline_response_share_patient_level").iloc[0]
    assert (t["first_year"], t["years"], t["trials"]) == (2021, 3, 300)
    assert "desember 2020" in t["start_reason"]
    assert SERIES["baseline_response_share_patient_level"][0] == 2021
    with_2020 = trend_test(f, "k", "n", "x").iloc[0]
    assert with_2020["odds_ratio_per_year"] > t["odds_ratio_per_year"]  # the partial year inflates the trend
