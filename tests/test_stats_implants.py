"""Implant statistics (stats/implants.py) on a hand-made register, against hand computations."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from helpers import IMPLANT_TREATMENTS, IMPLANTS, make_extract

from opr_analysis.stats.export import compute_tables
from opr_analysis.stats.implants import (
    explant_reason_shares,
    explants_by_reason,
    implant_survival,
    implant_survival_summary,
    implant_systems,
    implanted_per_year,
    kaplan_meier,
)
from opr_analysis.stats.shares import wilson_interval

AS_OF = pd.Timestamp("2024-12-31")


@pytest.fixture(scope="module")
def reg(tmp_path_factory):
    return make_extract(tmp_path_factory.mktemp("imp"), treatments=IMPLANT_TREATMENTS, implants=IMPLANTS)


def test_systems_times_and_events(reg):
    s = implant_systems(reg, AS_OF).set_index("system")
    assert s["days"].to_dict() == {"T1": 100, "T2": 200, "T3": 300, "T4": 300, "T5": 400, "T6": 500, "pasient:P7": 800}
    assert s["event"].to_dict() == {"T1": True, "T2": False, "T3": True, "T4": True, "T5": False, "T6": True,
                                    "pasient:P7": False}  # fmt: skip
    assert s.loc["T1", "reason"] == "elektrodevandring" and s.loc["T4", "reason"] == "lommesmerte"


def _hand_km(times, events, t):
    """Kaplan–Meier, Greenwood and the log(-log) interval at day t, written out."""
    s, g = 1.0, 0.0
    for u in sorted({x for x, e in zip(times, events, strict=True) if e and x <= t}):
        n = sum(1 for x in times if x >= u)
        d = sum(1 for x, e in zip(times, events, strict=True) if e and x == u)
        s *= (n - d) / n
        g += d / (n * (n - d))
    se = s * math.sqrt(g)
    z = 1.959963984540054
    w = z * se / (s * abs(math.log(s)))
    return s, se, s ** math.exp(w), s ** math.exp(-w)


def test_kaplan_meier_equals_a_hand_computation_with_censoring(reg):
    times, events = [100, 200, 300, 300, 400, 500, 800], [1, 0, 1, 1, 0, 1, 0]
    summary = implant_survival_summary(implant_survival(reg, AS_OF)).set_index("years")
    for years, day in ((1, 365), (2, 730)):
        s, se, low, high = _hand_km(times, events, day)
        row = summary.loc[years]
        assert row["days"] == day
        assert row["survival"] == pytest.approx(s, abs=1e-12)
        assert row["survival_ci_low"] == pytest.approx(low, abs=1e-9)
        assert row["survival_ci_high"] == pytest.approx(high, abs=1e-9)
    assert summary.loc[1, "survival"] == pytest.approx(18 / 35) and summary.loc[2, "survival"] == pytest.approx(9 / 35)
    # systems = failures + censored + still followed, at each year
    assert summary[["systems", "events", "censored", "followed"]].to_dict("index") == {
        1: {"systems": 7, "events": 3, "censored": 1, "followed": 3},
        2: {"systems": 7, "events": 4, "censored": 2, "followed": 1},
    }
    curve = implant_survival(reg, AS_OF)
    assert curve["month"].tolist() == list(range(0, 27))  # month 26 = day 791, the last followed
    se_hand = _hand_km(times, events, 365)[1]
    assert curve.loc[curve["month"] == 12, "survival_se"].item() == pytest.approx(se_hand, abs=1e-12)
    assert curve.loc[0, "survival"] == 1 and np.isnan(curve.loc[0, "survival_ci_low"])


def test_kaplan_meier_edges():
    km = kaplan_meier([10, 20], [0, 0], [0, 15, 25])
    assert km["survival"].tolist()[:2] == [1.0, 1.0] and np.isnan(km["survival"].iloc[2])  # beyond the data
    km = kaplan_meier([5, 5], [1, 1], [5])
    assert km[["survival", "survival_ci_low", "followed"]].iloc[0].tolist() == [0.0, 0.0, 0]


def test_implanted_and_removed_counts(reg):
    imp = implanted_per_year(reg).set_index(["year", "component"])["n"]
    assert imp.loc[2022].to_dict() == {"generator": 7, "elektrode": 1, "annet": 1}
    assert imp.loc[2024].to_dict() == {"generator": 1, "elektrode": 1, "annet": 0}
    assert imp.loc[2025].to_dict() == {"generator": 1, "elektrode": 0, "annet": 0}
    assert imp.loc[2023].sum() == 0  # a year without implantations is in the grid
    assert 2025 not in implanted_per_year(reg, AS_OF)["year"].tolist()  # implanted after the as-of date
    ex = explants_by_reason(reg).set_index(["year", "reason"])["n"]
    assert ex.loc[2022].to_dict() == {"infeksjon": 1, "elektrodevandring": 1, "batteri": 0, "lommesmerte": 1,
                                      "manglende_effekt": 0, "annet": 0}  # fmt: skip
    assert ex.loc[2023].to_dict()["batteri"] == 1 and ex.loc[2024].sum() == 1 and ex.sum() == 7
    assert explants_by_reason(reg, AS_OF)["n"].sum() == 6  # the 2025 removal has not happened yet


def test_shares_of_every_removal(reg):
    shares = explant_reason_shares(reg, AS_OF).set_index("reason")
    assert shares["n"].to_dict() == {"infeksjon": 1, "elektrodevandring": 1, "batteri": 2, "lommesmerte": 1,
                                     "manglende_effekt": 1, "annet": 0}  # fmt: skip
    assert (shares["explants"] == 6).all()
    assert shares.loc["batteri", "share"] == pytest.approx(2 / 6)
    low, high = wilson_interval([2], [6])
    assert (shares.loc["batteri", "share_ci_low"], shares.loc["batteri", "share_ci_high"]) == (
        pytest.approx(low[0]), pytest.approx(high[0]))  # fmt: skip
    # the per-year counts add up to the all-years counts (a margin the report's audit relies on)
    by_year = explants_by_reason(reg, AS_OF).groupby("reason")["n"].sum()
    assert by_year.reindex(shares.index).tolist() == shares["n"].tolist()


def test_without_the_register_every_table_is_empty(tmp_path):
    reg = make_extract(tmp_path, enrolments=[dict(patient_id="P1")])
    tables = compute_tables(reg, AS_OF, ["implanted_per_year", "explants_by_reason", "explant_reason_shares",
                                         "implant_survival", "implant_survival_summary"])  # fmt: skip
    assert all(len(t) == 0 for t in tables.values())
    assert list(tables["implant_survival_summary"].columns)[:3] == ["years", "days", "systems"]
