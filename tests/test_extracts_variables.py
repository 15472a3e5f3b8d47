"""Derived variables, date levels, linking and the provider hook."""

import pandas as pd
import pytest
from helpers import write_research_extract

from opr_analysis import load_extract
from opr_analysis.extracts.select import base_frames
from opr_analysis.extracts.variables import (
    Settings,
    Variable,
    coarsen,
    register_provider,
    registry,
    resolve,
)
from opr_analysis.stats.derived import age_groups


def test_age_bands_top_coded_and_widths():
    # research extracts' age_band uses the one age-group rule of stats.derived
    ages = pd.Series([0, 17, 18, 79, 80, 103], dtype="Int64")
    assert age_groups(ages, 10).astype(str).tolist() == ["0–9", "10–19", "10–19", "70–79", "80+", "80+"]
    assert age_groups(ages, 20).astype(str).tolist() == ["0–19", "0–19", "0–19", "60–79", "80+", "80+"]
    # a group of its own below the minimum age (statistics), else the first group (extracts, which exclude them)
    assert age_groups(ages, 20, floor=18, below="0–17").astype(str).tolist() == [
        "0–17", "0–17", "18–39", "60–79", "80+", "80+"
    ]  # fmt: skip
    assert age_groups(ages, 20, floor=18).astype(str).tolist()[:3] == ["18–39", "18–39", "18–39"]


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        ("full", [pd.Timestamp("2022-02-28"), pd.Timestamp("2021-12-31")]),
        ("month", ["2022-02", "2021-12"]),
        ("year", [2022, 2021]),
        ("relative", [58, -1]),
    ],
)
def test_date_levels(level, expected):
    values = pd.Series(pd.to_datetime(["2022-02-28 23:59", "2021-12-31 08:00"]))
    granted = pd.Series(pd.to_datetime(["2022-01-01", "2022-01-01"]))
    assert coarsen(values, granted, Settings(dates=level)).tolist() == expected


def test_events_link_to_latest_enrolment_on_or_before(tmp_path):
    reg = load_extract(write_research_extract(tmp_path / "ex", n=14))
    f = base_frames(reg)
    enr = f["enrolments"].set_index("_enrolment_id")
    # patient 7 and 14 have two enrolments; each baseline lies after its own enrolment's grant
    for _, row in f["baseline_responses"].iterrows():
        e = enr.loc[row["_enrolment_id"]]
        later = enr[(enr["_patient_id"] == row["_patient_id"]) & (enr["_granted"] > e["_granted"])]
        assert e["_granted"] <= row["_date"]
        assert (later["_granted"] > row["_date"]).all()
    assert f["enrolments"]["_region"].astype(str).tolist().count("nan") == 0
    assert set(f["enrolments"].loc[f["enrolments"]["_patient_id"] == "PAS-00003", "_region"]) == {"lokal"}


def test_provider_hook_adds_variables(monkeypatch):
    from opr_analysis.extracts import variables

    monkeypatch.setattr(variables, "_PROVIDERS", list(variables._PROVIDERS))
    var = Variable(
        "demo_score",
        "baseline_responses",
        "demo_score",
        "Demo",
        "float",
        lambda ctx: pd.Series(1.0, index=ctx.frame.index),
    )
    register_provider(lambda: [var])
    assert ("baseline_responses", "demo_score") in registry()
    assert resolve("demo_score", "baseline_responses") is var
