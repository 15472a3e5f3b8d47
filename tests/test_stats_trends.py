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
