"""Implant statistics (stats/implants.py) on a hand-made register, against hand computations."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from helpers import make_extract

from opr_analysis.stats.export import compute_tables
from opr_analysis.stats.implants import (
    explants_by_reason,
    implant_survival,
    implant_survival_summary,
    implant_systems,
    implanted_per_year,
    kaplan_meier,
)

AS_OF = pd.Timestamp("2024-12-31")


def _imp(patient, treatment, day, **kw) -> dict:
    row = dict(patient_id=patient, treatment_id=treatment, component="generator", manufacturer="M", model="G",
               serial_number=f"S{len(ROWS) + 1}", implanted_date=day)  # fmt: skip
    row.update(kw)
    return row


ROWS: list[dict] = []
for row in [
    # S1: a lead migrates after 100 days (a failure); another component's explant after as-of is not yet
    ("P1", "T1", "2022-01-01", {}),
    (
        "P1",
        "T1",
        "2022-01-01",
        dict(component="elektrode", explanted_date="2022-04-11", explant_reason="elektrodevandring"),
    ),
    ("P1", "T1", "2022-01-01", dict(component="annet", explanted_date="2025-03-01", explant_reason="infeksjon")),
    # S2: implanted 200 days before as-of, nothing removed: censored at 200
    ("P2", "T2", "2024-06-14", {}),
    # S3, S4: infection and pocket pain after 300 days (the revised generator goes back in: still a failure)
    ("P3", "T3", "2022-01-01", dict(explanted_date="2022-10-28", explant_reason="infeksjon")),
    ("P4", "T4", "2022-01-01", dict(explanted_date="2022-10-28", explant_reason="lommesmerte")),
    ("P4", "T4", "2022-10-28", {}),
    # S5: its only component out for battery after 400 days, nothing put back: censored at 400
    ("P5", "T5", "2022-01-01", dict(explanted_date="2023-02-05", explant_reason="batteri")),
    # S6: lack of effect after 500 days
    ("P6", "T6", "2022-01-01", dict(explanted_date="2023-05-16", explant_reason="manglende_effekt")),
    # S7 (no treatment: the patient's system): a battery change is not a failure; censored at 800
    ("P7", "", "2022-10-23", dict(explanted_date="2024-01-10", explant_reason="batteri")),
    ("P7", "", "2024-01-10", dict(component="elektrode")),
    # implanted after the as-of date: not a system yet
    ("P8", "T8", "2025-02-01", {}),
]:
    ROWS.append(_imp(row[0], row[1], row[2], **row[3]))
TREATMENTS = [
    dict(treatment_id=f"T{i}", patient_id=f"P{i}", kind="scs", date="2022-01-01") for i in (1, 2, 3, 4, 5, 6, 8)
]


@pytest.fixture(scope="module")
def reg(tmp_path_factory):
    return make_extract(tmp_path_factory.mktemp("imp"), treatments=TREATMENTS, implants=ROWS)


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
    ex = explants_by_reason(reg).set_index(["period", "reason"])
    assert ex.loc["2022", "n"].to_dict() == {"infeksjon": 1, "elektrodevandring": 1, "batteri": 0, "lommesmerte": 1,
                                             "manglende_effekt": 0, "annet": 0}  # fmt: skip
    assert ex.loc["alle", "n"].sum() == 7 and (ex.loc["alle", "explants"] == 7).all()
    assert ex.loc[("alle", "infeksjon"), "share"] == pytest.approx(2 / 7)
    assert ex.loc[("alle", "infeksjon"), "share_ci_low"] == pytest.approx(0.0822, abs=1e-4)  # Wilson 2/7
    assert ex.loc[("2023", "batteri"), "share"] == pytest.approx(1 / 2) and ex.loc[("2024", "batteri"), "share"] == 1


def test_without_the_register_every_table_is_empty(tmp_path):
    reg = make_extract(tmp_path, enrolments=[dict(patient_id="P1")])
    tables = compute_tables(reg, AS_OF, ["implanted_per_year", "explants_by_reason", "implant_survival",
                                         "implant_survival_summary"])  # fmt: skip
    assert all(len(t) == 0 for t in tables.values())
    assert list(tables["implant_survival_summary"].columns)[:3] == ["years", "days", "systems"]
