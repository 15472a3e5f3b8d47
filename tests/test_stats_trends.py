"""Trend test over years (binomial logistic regression on year)."""

import math

import pandas as pd
import pytest
from helpers import make_extract

from opr_analysis import trend_test, trend_tests


def test_flat_series_has_odds_ratio_one():
    f = pd.DataFrame({"year": [2021, 2022, 2023], "k": [30, 30, 30], "n": [100, 100, 100]})
    t = trend_test(f, "k", "n", "flat").iloc[0]
    assert t["odds_ratio_per_year"] == pytest.approx(1.0)
    assert t["p_value"] == pytest.approx(1.0)
    assert t["odds_ratio_ci_low"] < 1 < t["odds_ratio_ci_high"]


def test_rising_series_is_significant_and_matches_closed_form():
    # two years: the ML slope is the log odds ratio of the 2x2 table
    f = pd.DataFrame({"year": [2021, 2022], "k": [20, 40], "n": [100, 100]})
    t = trend_test(f, "k", "n", "rise").iloc[0]
    assert t["odds_ratio_per_year"] == pytest.approx((40 / 60) / (20 / 80))
    se = math.sqrt(1 / 20 + 1 / 80 + 1 / 40 + 1 / 60)
    assert t["odds_ratio_ci_low"] == pytest.approx(math.exp(math.log(8 / 3) - 1.959964 * se), rel=1e-5)
    assert t["p_value"] < 0.01
    assert (t["first_year"], t["last_year"], t["years"], t["trials"], t["successes"]) == (2021, 2022, 2, 200, 60)


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


def test_overdispersed_three_year_series_scales_the_standard_error_by_hand():
    k, n = [10, 40, 30], [100, 100, 100]
    f = pd.DataFrame({"year": [2021, 2022, 2023], "k": k, "n": n})
    t = trend_test(f, "k", "n", "x").iloc[0]
    b, se, chi2 = _hand_logit([0, 1, 2], k, n)
    phi = chi2 / (3 - 2)
    assert phi > 10  # the middle year is far off the line
    assert t["dispersion"] == pytest.approx(phi, rel=1e-6)
    se_q = se * math.sqrt(phi)
    assert t["odds_ratio_per_year"] == pytest.approx(math.exp(b), rel=1e-6)
    assert t["odds_ratio_ci_low"] == pytest.approx(math.exp(b - 1.959964 * se_q), rel=1e-5)
    assert t["odds_ratio_ci_high"] == pytest.approx(math.exp(b + 1.959964 * se_q), rel=1e-5)
    z = abs(b) / se_q
    assert t["p_value"] == pytest.approx(math.erfc(z / math.sqrt(2)), rel=1e-5)
    assert t["p_value"] > 0.05 and t["odds_ratio_ci_low"] < 1  # unscaled, this would be "significant"
    assert 2 * (1 - 0.5 * math.erfc(-(abs(b) / se) / math.sqrt(2))) < 0.05
    assert "kvasibinomisk" in t["method"]


def test_underdispersed_series_keeps_the_binomial_standard_error():
    k, n = [10, 20, 30], [100, 100, 100]
    t = trend_test(pd.DataFrame({"year": [2021, 2022, 2023], "k": k, "n": n}), "k", "n", "x").iloc[0]
    b, se, chi2 = _hand_logit([0, 1, 2], k, n)
    assert t["dispersion"] == pytest.approx(chi2, rel=1e-6) and chi2 < 1
    assert t["odds_ratio_ci_low"] == pytest.approx(math.exp(b - 1.959964 * se), rel=1e-5)
    assert "kvasibinomisk" not in t["method"]


def test_two_years_have_no_dispersion():
    t = trend_test(pd.DataFrame({"year": [2021, 2022], "k": [20, 40], "n": [100, 100]}), "k", "n", "x").iloc[0]
    assert math.isnan(t["dispersion"])


def test_baseline_series_starts_in_2021_with_its_reason(tmp_path):
    from opr_analysis.stats.trends import SERIES, series_test

    f = pd.DataFrame({"year": [2020, 2021, 2022, 2023], "k": [1, 60, 62, 64], "n": [10, 100, 100, 100]})
    t = series_test(f, "k", "n", "baseline_response_share_patient_level").iloc[0]
    assert (t["first_year"], t["years"], t["trials"]) == (2021, 3, 300)
    assert "desember 2020" in t["start_reason"]
    assert SERIES["baseline_response_share_patient_level"][0] == 2021
    with_2020 = trend_test(f, "k", "n", "x").iloc[0]
    assert with_2020["odds_ratio_per_year"] > t["odds_ratio_per_year"]  # the partial year inflates the trend
