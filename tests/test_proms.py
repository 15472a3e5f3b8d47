"""Pairing, change scores, indicators, rates and «Table 1» on a tiny hand-made extract."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from helpers import make_extract

from opr_analysis.stats import proms

AS_OF = "2023-12-31"


def _answers(id_column, answers: dict[str, dict[str, float]]):
    return [{id_column: i, "item": item, "value": v} for i, items in answers.items() for item, v in items.items()]


@pytest.fixture(scope="module")
def reg(tmp_path_factory):
    """P1: two baselines before an RF procedure (B2 is the latest), one after it (B3, only
    before the closing date); P2: baseline NRS 0 and a follow-up answered twice; P3: the
    procedure falls in a second enrolment that has no baseline (unpaired)."""
    return make_extract(
        tmp_path_factory.mktemp("proms"),
        patients=[{"patient_id": "P1", "sex": "K"}, {"patient_id": "P2", "sex": "M", "birth_year": 1980},
                  {"patient_id": "P3", "sex": "K"}],
        enrolments=[
            {"enrolment_id": "E1", "patient_id": "P1", "granted_date": "2021-01-10",
             "first_consultation_date": "2021-02-01", "closed_date": "2021-12-15"},
            {"enrolment_id": "E2", "patient_id": "P2", "granted_date": "2021-03-01"},
            {"enrolment_id": "E3", "patient_id": "P3", "granted_date": "2021-01-05"},
            {"enrolment_id": "E4", "patient_id": "P3", "granted_date": "2021-08-01"},
        ],
        baseline_responses=[
            {"response_id": "B1", "patient_id": "P1", "submitted_at": "2021-01-20T10:00:00"},
            {"response_id": "B2", "patient_id": "P1", "submitted_at": "2021-01-25T10:00:00"},
            {"response_id": "B3", "patient_id": "P1", "submitted_at": "2021-07-01T10:00:00"},
            {"response_id": "B4", "patient_id": "P2", "submitted_at": "2021-03-05T10:00:00"},
            {"response_id": "B5", "patient_id": "P3", "submitted_at": "2021-01-06T10:00:00"},
        ],
        baseline_answers=_answers("response_id", {
            "B1": {"nrs_avg": 10, "education": 2}, "B2": {"nrs_avg": 8, "education": 3},
            "B3": {"nrs_avg": 10}, "B4": {"nrs_avg": 0, "education": 3}, "B5": {"nrs_avg": 6},
        }),
        treatments=[
            {"treatment_id": "T1", "patient_id": "P1", "kind": "rf", "date": "2021-06-01"},
            {"treatment_id": "T2", "patient_id": "P2", "kind": "rf", "date": "2021-07-01"},
            {"treatment_id": "T3", "patient_id": "P3", "kind": "rf", "date": "2021-09-01"},
        ],
        followups=[
            {"followup_id": "F1", "patient_id": "P1", "kind": "rf_3m", "anchor_id": "T1",
             "sent_date": "2021-09-01", "responded_at": "2021-09-05T12:00:00"},
            {"followup_id": "F2", "patient_id": "P1", "kind": "rf_6m", "anchor_id": "T1",
             "sent_date": "2021-12-01", "responded_at": "2021-12-03T12:00:00"},
            {"followup_id": "F3", "patient_id": "P1", "kind": "rf_12m", "anchor_id": "T1",
             "sent_date": "2022-06-01"},
            {"followup_id": "F4", "patient_id": "P1", "kind": "avsluttet_12m", "anchor_id": "E1",
             "sent_date": "2022-12-15", "responded_at": "2022-12-20T12:00:00"},
            {"followup_id": "F5", "patient_id": "P2", "kind": "rf_3m", "anchor_id": "T2",
             "sent_date": "2021-10-01", "responded_at": "2021-10-02T12:00:00"},
            {"followup_id": "F6", "patient_id": "P3", "kind": "rf_3m", "anchor_id": "T3",
             "sent_date": "2021-12-01", "responded_at": "2021-12-02T12:00:00"},
            {"followup_id": "F7", "patient_id": "P2", "kind": "rf_3m", "anchor_id": "T2",
             "sent_date": "2021-10-20", "responded_at": "2021-10-22T12:00:00"},
        ],
        followup_answers=_answers("followup_id", {
            "F1": {"nrs_avg": 5, "pgic": 2}, "F2": {"nrs_avg": 6, "pgic": 3}, "F4": {"nrs_avg": 7, "pgic": 1},
            "F5": {"nrs_avg": 2}, "F6": {"nrs_avg": 3, "pgic": 5}, "F7": {"nrs_avg": 1, "pgic": 1},
        }),
    )  # fmt: skip


@pytest.fixture(scope="module")
def paired(reg):
    return proms.paired_outcomes(reg, as_of=AS_OF).set_index("followup_id")


def test_baseline_scores_one_row_per_response_with_age_and_enrolment(reg):
    b = proms.baseline_scores(reg).set_index("response_id")
    assert list(b.index) == ["B1", "B2", "B3", "B4", "B5"]
    assert b.loc["B4", "age"] == 2021 - 1980
    assert b.loc["B5", "enrolment_id"] == "E3"
    assert b.loc["B2", "nrs_avg"] == 8 and b.loc["B2", "education"] == 3


def test_followup_scores_only_answered_with_treatment_and_first_answer(reg):
    f = proms.followup_scores(reg, as_of=AS_OF).set_index("followup_id")
    assert sorted(f.index) == ["F1", "F2", "F4", "F5", "F6", "F7"]  # F3 unanswered
    assert f.loc["F4", "treatment"] == "avsluttet" and f.loc["F4", "months"] == 12
    assert bool(f.loc["F5", "first_answer"]) and not bool(f.loc["F7", "first_answer"])
    assert f.loc["F6", "episode_id"] == "E4"


def test_pairing_takes_latest_baseline_of_the_episode_on_or_before_the_anchor(paired):
    assert paired.loc["F1", "baseline_response_id"] == "B2"  # B3 is after the procedure
    assert paired.loc["F2", "baseline_response_id"] == "B2"
    assert paired.loc["F4", "baseline_response_id"] == "B3"  # closing date 2021-12-15
    assert paired.loc["F5", "baseline_response_id"] == "B4"
    assert not paired.loc["F6", "paired"] and pd.isna(paired.loc["F6", "baseline_response_id"])  # B5 is E3's
    assert paired.loc["F1", "days_from_baseline"] == (pd.Timestamp("2021-06-01") - pd.Timestamp("2021-01-25")).days


def test_change_scores_and_30_percent_boundary(paired):
    assert paired.loc["F1", "nrs_avg_change"] == 5 - 8
    assert paired.loc["F1", "nrs_improved_30"]  # 37.5 %
    assert not paired.loc["F2", "nrs_improved_30"]  # 25 %
    assert paired.loc["F4", "nrs_improved_30"]  # 10 -> 7: exactly 30 %
    assert pd.isna(paired.loc["F5", "nrs_improved_30"])  # baseline 0
    assert pd.isna(paired.loc["F6", "nrs_improved_30"])  # no baseline
    assert math.isnan(paired.loc["F6", "nrs_avg_change"])


def test_pgic_improved_is_much_or_very_much(paired):
    assert paired.loc["F1", "pgic_improved"] and paired.loc["F4", "pgic_improved"]
    assert not paired.loc["F2", "pgic_improved"] and not paired.loc["F6", "pgic_improved"]
    assert pd.isna(paired.loc["F5", "pgic_improved"])


def test_improvement_rates_count_first_answers_with_wilson_limits(reg):
    r = proms.improvement_rates(reg, as_of=AS_OF).set_index(["kind", "indicator"])
    assert len(r) == 7 * 2  # every kind x indicator
    nrs = r.loc[("rf_3m", "nrs_improved_30")]
    assert (nrs["n"], nrs["improved"], nrs["share"]) == (1, 1, 1.0)  # F5 baseline 0, F6 unpaired, F7 not first
    pg = r.loc[("rf_3m", "pgic_improved")]
    assert (pg["n"], pg["improved"], pg["share"]) == (2, 1, 0.5)  # F1 yes, F6 no
    assert pg["share_ci_low"] == pytest.approx(0.0945, abs=1e-4)  # Wilson 1/2
    empty = r.loc[("scs_3m", "pgic_improved")]
    assert empty["n"] == 0 and pd.isna(empty["share"])
    assert r.loc[("rf_3m", "nrs_improved_30"), "treatment"] == "rf"


def test_change_summary_means_over_paired_first_answers(reg):
    c = proms.change_summary(reg, as_of=AS_OF, scores=["nrs_avg"]).set_index("kind")
    assert c.loc["rf_3m", "n"] == 2  # F1 (-3) and F5 (+2); F6 unpaired, F7 not first
    assert c.loc["rf_3m", "change_mean"] == pytest.approx(-0.5)
    assert c.loc["rf_3m", "baseline_mean"] == pytest.approx(4.0)
    assert c.loc["rf_3m", "change_ci_low"] < -0.5 < c.loc["rf_3m", "change_ci_high"]
    assert c.loc["rf_6m", "n"] == 1 and pd.isna(c.loc["rf_6m", "change_ci_low"])


def test_baseline_profile_counts_means_and_margins(reg):
    t = proms.baseline_profile(reg)
    all_ = t[(t["year"] == "alle") & (t["sex"] == "alle")].set_index(["variable", "level"], drop=False)
    assert all_.loc[all_["variable"] == "responses", "n"].item() == 5
    nrs = all_[all_["variable"] == "nrs_avg"].iloc[0]
    assert nrs["n"] == 5 and nrs["mean"] == pytest.approx(6.8) and nrs["median"] == 8
    assert nrs["q1"] == 6 and nrs["q3"] == 10
    sex = all_[all_["variable"] == "sex"].set_index("level")
    assert (sex.loc["K", "count"], sex.loc["M", "count"], sex.loc["K", "n"]) == (4, 1, 5)
    edu = all_[all_["variable"] == "education"].set_index("level")
    assert list(edu.index) == ["1", "2", "3", "4"]
    assert (edu.loc["3", "count"], edu.loc["3", "n"], edu.loc["3", "missing"]) == (2, 3, 2)
    assert edu.loc["3", "share"] == pytest.approx(2 / 3)
    hscl = all_[all_["variable"] == "hscl10_case"]
    assert (hscl["n"] == 0).all() and hscl["share"].isna().all()  # 0/0 is NA
    men = t[(t["year"] == "2021") & (t["sex"] == "M") & (t["variable"] == "responses")]
    assert men["n"].item() == 1
    assert set(t["year"]) == {"2021", "alle"} and set(t["sex"]) == {"K", "M", "alle"}


def test_paired_outcomes_is_computed_once_and_callers_get_their_own_copy(reg):
    first = proms.paired_outcomes(reg, AS_OF)
    first.loc[:, "nrs_avg_change"] = 99.0  # a caller changing its frame must not change the next one
    again = proms.paired_outcomes(reg, AS_OF)
    assert not (again["nrs_avg_change"] == 99.0).all()
    assert ("paired_outcomes", pd.Timestamp(AS_OF)) in reg._memo


def test_baseline_profile_is_computed_once_and_callers_get_their_own_copy(reg):
    first = proms.baseline_profile(reg)
    first.loc[:, "count"] = 99  # the report's table and the multi-unit suppression both ask: neither sees the other's
    again = proms.baseline_profile(reg)
    assert not (again["count"] == 99).any() and again is not first
    assert ("baseline_profile", ("year", "sex"), True) in reg._memo
    assert len(proms.baseline_profile(reg, margins=False)) < len(again)  # other arguments, another profile


def test_pairing_has_a_maximum_interval(tmp_path):
    """Baseline exactly PAIRING_MAX_DAYS before the procedure pairs; one day older does not."""
    assert proms.PAIRING_MAX_DAYS == 365
    reg = make_extract(
        tmp_path,
        patients=[{"patient_id": "P1"}, {"patient_id": "P2"}],
        enrolments=[
            {"enrolment_id": "E1", "patient_id": "P1", "granted_date": "2021-01-01"},
            {"enrolment_id": "E2", "patient_id": "P2", "granted_date": "2021-01-01"},
        ],
        baseline_responses=[
            {"response_id": "B1", "patient_id": "P1", "submitted_at": "2021-07-01T10:00:00"},
            {"response_id": "B2", "patient_id": "P2", "submitted_at": "2021-06-30T10:00:00"},
        ],
        baseline_answers=_answers("response_id", {"B1": {"nrs_avg": 8}, "B2": {"nrs_avg": 8}}),
        treatments=[
            {"treatment_id": "T1", "patient_id": "P1", "kind": "rf", "date": "2022-07-01"},
            {"treatment_id": "T2", "patient_id": "P2", "kind": "rf", "date": "2022-07-01"},
        ],
        followups=[
            {"followup_id": "F1", "patient_id": "P1", "kind": "rf_3m", "anchor_id": "T1",
             "sent_date": "2022-10-01", "responded_at": "2022-10-02T12:00:00"},
            {"followup_id": "F2", "patient_id": "P2", "kind": "rf_3m", "anchor_id": "T2",
             "sent_date": "2022-10-01", "responded_at": "2022-10-02T12:00:00"},
        ],
        followup_answers=_answers("followup_id", {"F1": {"nrs_avg": 4}, "F2": {"nrs_avg": 4}}),
    )  # fmt: skip
    p = proms.paired_outcomes(reg, as_of=AS_OF).set_index("followup_id")
    assert p.loc["F1", "paired"] and p.loc["F1", "days_from_baseline"] == 365
    assert not p.loc["F2", "paired"] and pd.isna(p.loc["F2", "days_from_baseline"])


def test_unscored_counts_count_answered_baselines_without_the_score(reg):
    # every baseline here answered items, none of them HSCL-10; 2021 has all five
    assert proms.unscored_counts(reg) == {"answered": 5, "unscored": 5}
    assert proms.unscored_counts(reg, "nrs_avg", year=2021) == {"answered": 5, "unscored": 0}
    assert proms.unscored_counts(reg, year=2020) == {"answered": 0, "unscored": 0}


def test_window_keeps_follow_ups_due_in_its_years_and_by_the_as_of_date(reg):
    # due dates: rf_3m of T1, T2, T3 in 2021 (F1, F5/F7, F6), rf_6m of T1 2021-12-01 (F2), avsluttet_12m 2022-12-15 (F4)
    assert proms.outcome_window(2022, 1) == (2022, 2022)
    r = proms.improvement_rates(reg, as_of=AS_OF, window=(2022, 2022)).set_index(["indicator", "kind"])
    assert r.at[("pgic_improved", "avsluttet_12m"), "n"] == 1 and r["n"].sum() == 2  # F4: PGIC and NRS
    r21 = proms.improvement_rates(reg, as_of=AS_OF, window=(2021, 2021)).set_index(["indicator", "kind"])
    assert r21.at[("pgic_improved", "avsluttet_12m"), "n"] == 0 and r21.at[("pgic_improved", "rf_3m"), "n"] == 2
    # an as-of date before F4's due date leaves it out even inside the window
    early = proms.improvement_rates(reg, as_of="2022-12-14", window=(2022, 2022))
    assert early["n"].sum() == 0
    c = proms.change_summary(reg, as_of=AS_OF, window=(2022, 2022)).set_index(["score", "kind"])
    assert c.at[("nrs_avg", "avsluttet_12m"), "n"] == 1 and c.loc["nrs_avg", "n"].sum() == 1
