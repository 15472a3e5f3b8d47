"""Indicators at the as-of date (issue 24): complete windows, Kaplan–Meier waiting time, closed
enrolments, the baseline at as-of, follow-ups divided by what was owed, whole first years, the
response share beside outcomes."""

import math

import numpy as np
import pandas as pd
import pytest
from helpers import make_extract

from opr_analysis.indicators import indicator_results, load_definitions
from opr_analysis.indicators.compute import start_year
from opr_analysis.indicators.delivery import delivery_frame
from opr_analysis.indicators.statistics import (
    baseline_before_consultation,
    first_whole_year,
    followup_answered,
    waiting_days,
    waiting_within,
)
from opr_analysis.stats.waiting import km_median, waiting_times

AS_OF = "2025-03-01"  # grants on or before 2024-12-31 have their whole 60-day window by then


@pytest.fixture(scope="module")
def waits(tmp_path_factory):
    e = [
        dict(enrolment_id="E1", granted_date="2024-12-01", first_consultation_date="2025-01-15"),  # 45 days
        dict(enrolment_id="E2", granted_date="2024-11-01"),  # still waiting: 120 days at as-of
        dict(enrolment_id="E3", granted_date="2024-12-31", first_consultation_date="2025-03-01"),  # 60, on as-of
        dict(enrolment_id="E4", granted_date="2025-01-15", first_consultation_date="2025-02-01"),  # window open
        dict(enrolment_id="E5", granted_date="2025-01-10", first_consultation_date="2025-03-05"),  # after as-of
        dict(enrolment_id="E6", granted_date="2024-10-01", closed_date="2024-12-20"),  # closed, never seen
        dict(enrolment_id="E7", granted_date="2024-12-05", first_consultation_date="2025-03-10"),  # 86 at as-of
        dict(enrolment_id="E8", granted_date="2024-09-01", first_consultation_date="2024-09-21"),  # 20 days
    ]
    for i, row in enumerate(e):
        row["patient_id"] = f"P{i + 1}"
    return make_extract(tmp_path_factory.mktemp("waits"), enrolments=e)


def _by_year(rows):
    return rows.groupby("year")[["numerator", "denominator"]].sum()


def test_waiting_statuses_at_as_of(waits):
    t = waiting_times(waits, AS_OF).set_index("enrolment_id")
    assert t["status"].to_dict() == {
        "E1": "sett", "E2": "venter", "E3": "sett", "E4": "sett", "E5": "venter",
        "E6": "avsluttet_uten_konsultasjon", "E7": "venter", "E8": "sett",
    }  # fmt: skip
    assert t.loc[["E1", "E2", "E3", "E5", "E7", "E8"], "days"].tolist() == [45, 120, 60, 50, 86, 20]
    assert not t.at["E6", "included"]


def test_share_within_60_days_counts_only_complete_windows(waits):
    got = _by_year(waiting_within(waits, AS_OF, days=60))
    # 2024: E1 (45), E3 (60) and E8 (20) within; E2 and E7 still waiting past 60 days; E6 closed: left out.
    assert got.loc[2024].tolist() == [3, 5]
    # 2025: E4 (seen after 17 days) and E5 (seen after as-of) are inside their window: no case yet.
    assert got.loc[2025].tolist() == [0, 0]
    # The rule before issue 24 gave 2024 3/6 (E6 a failure) and 2025 2/2 (E4, and E5 seen «within» 54 days
    # although after the as-of date): the last year looked perfect.


def test_kaplan_meier_median_by_hand_with_censoring():
    # 10 waits, three still waiting (censored). By hand: S(3) = 9/10, S(5) = 0.9·8/9 = 0.8 (the wait censored
    # at 5 is still at risk at 5), S(8) = 0.8·6/7 = 0.686, S(10) = 0.686·5/6 = 0.571, 12 censored,
    # S(15) = 0.571·3/4 = 0.429 < 0.5: the median is 15 days. The median of the seen waits alone is 10.
    days = [3, 5, 5, 8, 10, 12, 15, 20, 25, 40]
    seen = [1, 1, 0, 1, 1, 0, 1, 1, 0, 1]
    median, low, high = km_median(days, np.array(seen, dtype=bool))
    assert median == 15.0
    assert float(np.median([d for d, s in zip(days, seen) if s])) == 10.0
    assert low <= median <= high
    # no censoring: the first day the share still waiting falls below one half
    assert km_median([10, 20, 30, 40, 50], [True] * 5)[0] == 30.0
    # more than half still waiting: not reached
    assert math.isnan(km_median([10, 20, 30], [True, False, False])[0])


def test_waiting_median_indicator_censors_those_still_waiting(waits):
    rows = waiting_days(waits, AS_OF)
    y2024 = rows[(rows["year"] == 2024) & (rows["denominator"] == 1)]
    # included: E8 20 seen, E1 45 seen, E3 60 seen, E7 86 waiting, E2 120 waiting (E6 closed: out)
    assert sorted(zip(y2024["value"], y2024["event"])) == [(20, 1), (45, 1), (60, 1), (86, 0), (120, 0)]
    # S(20) = 4/5, S(45) = 0.8·3/4 = 0.6, S(60) = 0.6·2/3 = 0.4: median 60 (the seen waits alone: 45)
    res = indicator_results(waits, as_of=AS_OF, definitions={"m": load_definitions()["opr_ventetid_median"]})
    total = res[(res["unit_id"] == "alle") & (res["year"] == 2024)].iloc[0]
    assert total["value"] == 60.0 and total["denominator"] == 5


def test_baseline_indicator_respects_as_of(tmp_path):
    reg = make_extract(
        tmp_path,
        enrolments=[
            dict(enrolment_id="E1", patient_id="P1", granted_date="2025-02-01", first_consultation_date="2025-03-01"),
            dict(enrolment_id="E2", patient_id="P2", granted_date="2025-02-20"),
        ],
        baseline_responses=[dict(patient_id="P1", submitted_at="2025-02-10T10:00:00")],
    )
    assert _by_year(baseline_before_consultation(reg, "2025-02-05")).loc[2025].tolist() == [0, 1]  # E2 not granted
    assert _by_year(baseline_before_consultation(reg, "2025-02-15")).loc[2025].tolist() == [1, 1]
    assert _by_year(baseline_before_consultation(reg, "2025-12-31")).loc[2025].tolist() == [1, 2]


def _units_reg(tmp_path):
    """Two units, ten RF procedures each; A sends every 3-month follow-up and 5 are answered, B sends 5 and all
    5 are answered, one B follow-up is sent 10 days before the as-of date (not settled)."""
    units = [
        dict(unit_id="A", name="A", orgnr="993467049", health_region="sor_ost"),
        dict(unit_id="B", name="B", orgnr="983975240", health_region="vest"),
    ]
    treatments, followups = [], []
    for u in ("A", "B"):
        for i in range(10):
            tid = f"T{u}{i}"
            treatments.append(dict(treatment_id=tid, patient_id=f"P{u}{i}", unit_id=u, kind="rf", date="2024-03-01"))
            if u == "A" or i < 5:
                answered = "2024-06-10T10:00:00" if (u == "B" or i < 5) else None
                followups.append(dict(patient_id=f"P{u}{i}", kind="rf_3m", anchor_id=tid, sent_date="2024-06-01",
                                      responded_at=answered))  # fmt: skip
    treatments.append(dict(treatment_id="TB9x", patient_id="PB9x", unit_id="B", kind="rf", date="2024-09-10"))
    followups.append(dict(patient_id="PB9x", kind="rf_3m", anchor_id="TB9x", sent_date="2024-12-10"))
    return make_extract(tmp_path, units=units, treatments=treatments, followups=followups)


def test_follow_up_indicator_divides_by_owed_so_not_sending_does_not_help(tmp_path):
    reg = _units_reg(tmp_path)
    rows = followup_answered(reg, "2024-12-20", kind="rf_3m")
    got = rows.groupby("unit_id")[["numerator", "denominator"]].sum()
    # A: 5 of 10 owed answered; B: 5 answered of 10 owed (5 never sent), the 11th sent 10 days ago is not settled.
    assert got.loc["A"].tolist() == [5, 10] and got.loc["B"].tolist() == [5, 10]
    # Dividing by what was sent (the rule before issue 24) gave A 5/10 and B 5/5 (or 5/6): B looked twice as good.
    assert "sendt eller ikke" in load_definitions()["opr_oppf_rf_3m"].long


def test_partial_first_years_are_left_out_of_results_and_delivery(tmp_path):
    defs = load_definitions()
    assert {i: start_year(d) for i, d in defs.items() if i.startswith("opr_oppf")} == {
        "opr_oppf_rf_3m": 2022, "opr_oppf_rf_12m": 2023, "opr_oppf_scs_12m": 2023, "opr_oppf_avsluttet_12m": 2023,
    }  # fmt: skip
    # the yaml is never earlier than the source's first whole year
    for d in defs.values():
        whole = first_whole_year(d.statistic, d.params)
        assert whole is None or d.first_year >= whole, d.id
    # an override asking for 2022 still starts at 2023: the RF 12-month follow-ups of 2022 are due June–December
    early = {"x": pd.Series(vars(defs["opr_oppf_rf_12m"])).to_dict()}
    from opr_analysis.indicators.definitions import Indicator

    early = {"x": Indicator(**{**early["x"], "id": "x", "first_year": 2022})}
    reg = make_extract(
        tmp_path,
        treatments=[dict(treatment_id="T1", date="2021-07-01"), dict(treatment_id="T2", date="2022-02-01")],
        followups=[dict(kind="rf_12m", anchor_id="T1", sent_date="2022-07-01", responded_at="2022-07-05T10:00:00"),
                   dict(kind="rf_12m", anchor_id="T2", sent_date="2023-02-01")],
    )  # fmt: skip
    res = indicator_results(reg, as_of="2024-01-31", definitions=early)
    assert sorted(res["year"].unique()) == [2023]
    assert delivery_frame(res, early)["year"].unique().tolist() == [2023]


def test_outcome_indicators_carry_the_response_share_and_say_they_are_responder_only(tmp_path):
    defs = load_definitions()
    for i in ("opr_nrs30_12m", "opr_pgic_bedre_12m"):
        assert "Bare pasienter som svarte" in defs[i].long and "ikke justert" in defs[i].long
    reg = make_extract(
        tmp_path,
        treatments=[dict(treatment_id=f"T{i}", patient_id=f"P{i}", date="2023-03-01") for i in range(4)],
        followups=[dict(patient_id="P0", kind="rf_12m", anchor_id="T0", sent_date="2024-03-01",
                        responded_at="2024-03-05T10:00:00"),
                   dict(patient_id="P1", kind="rf_12m", anchor_id="T1", sent_date="2024-03-01")],
    )  # fmt: skip
    res = indicator_results(reg, as_of="2024-12-31", definitions={"o": defs["opr_nrs30_12m"]})
    total = res[(res["unit_id"] == "alle") & (res["year"] == 2024)].iloc[0]
    # four 12-month follow-ups owed and settled (two never sent), one answered
    assert (total["response_numerator"], total["response_denominator"]) == (1, 4)
    assert total["response_share"] == 0.25
