"""Baseline response: seed rate (table 12), patient-level window (issue 3.3), OPRv1 (table 13)."""

import pandas as pd
import pytest
from helpers import make_extract

from opr_analysis import (
    baseline_links,
    baseline_response,
    baseline_response_patient_level,
    legacy_baseline_response,
)


@pytest.fixture()
def reg(tmp_path):
    return make_extract(
        tmp_path,
        enrolments=[
            # E1: answered twice in the window (forms 2, enrolment counted once)
            dict(enrolment_id="E1", patient_id="P1", granted_date="2021-02-01", first_consultation_date="2021-03-01"),
            # E2: answers the day after the first consultation only
            dict(enrolment_id="E2", patient_id="P2", granted_date="2021-02-01", first_consultation_date="2021-03-01"),
            # E3: answered on the day of the consultation
            dict(enrolment_id="E3", patient_id="P3", granted_date="2021-05-01", first_consultation_date="2021-06-01"),
            # E4/E5: enrolled twice; the 2022 answer belongs to E5 only
            dict(enrolment_id="E4", patient_id="P4", granted_date="2021-10-01"),
            dict(enrolment_id="E5", patient_id="P4", granted_date="2022-01-10"),
            # E6: no answer
            dict(enrolment_id="E6", patient_id="P6", granted_date="2022-03-01"),
        ],
        baseline_responses=[
            dict(response_id="B1", patient_id="P1", submitted_at="2021-02-10T09:00:00"),
            dict(response_id="B2", patient_id="P1", submitted_at="2021-02-20T09:00:00"),
            dict(response_id="B3", patient_id="P2", submitted_at="2021-03-02T08:00:00"),
            dict(response_id="B4", patient_id="P3", submitted_at="2021-06-01T23:30:00"),
            dict(response_id="B5", patient_id="P4", submitted_at="2022-01-15T10:00:00"),
            # before any enrolment of P6: belongs to none
            dict(response_id="B6", patient_id="P6", submitted_at="2020-12-20T10:00:00"),
        ],
    )  # fmt: skip


def test_links_and_window(reg):
    links = baseline_links(reg).set_index("response_id")
    assert links.loc[["B1", "B2", "B3", "B4", "B5"], "enrolment_id"].tolist() == ["E1", "E1", "E2", "E3", "E5"]
    assert pd.isna(links.at["B6", "enrolment_id"])
    assert links["before_consultation"].tolist() == [True, True, False, True, True, False]
    assert links["after_consultation"].tolist() == [False, False, True, False, False, False]


def test_seed_rate_counts_forms_over_enrolments(reg):
    t = baseline_response(reg)
    assert t["year"].tolist() == [2020, 2021, 2022]  # years of both enrolments and responses
    assert t["enrolments"].tolist() == [0, 4, 2]
    assert t["baseline_responses"].tolist() == [1, 4, 1]
    assert pd.isna(t["response_share"].iloc[0])  # 1 form / 0 enrolments: blank
    assert t["response_share"].iloc[1:].tolist() == [1.0, 0.5]


def test_patient_level_rate_and_difference(reg):
    t = baseline_response_patient_level(reg).set_index("year")
    assert t.loc[2021, ["enrolments", "enrolments_with_baseline"]].tolist() == [4, 2]  # E1, E3
    assert t.loc[2022, ["enrolments", "enrolments_with_baseline"]].tolist() == [2, 1]  # E5
    assert t.at[2021, "response_share"] == 0.5
    assert t.at[2021, "seed_response_share"] == 1.0
    assert t.at[2021, "difference"] == -0.5
    assert t.at[2022, "difference"] == 0.0
    assert pd.isna(t.at[2020, "response_share"]) and t.at[2020, "baseline_responses"] == 1


def test_seed_rate_above_one_has_no_interval(tmp_path):
    reg = make_extract(
        tmp_path,
        enrolments=[dict(patient_id="P1", granted_date="2021-01-05")],
        baseline_responses=[
            dict(patient_id="P1", submitted_at="2021-01-10T10:00:00"),
            dict(patient_id="P1", submitted_at="2021-01-11T10:00:00"),
        ],
    )
    t = baseline_response(reg)
    assert t["response_share"].tolist() == [2.0]
    # a ratio, not a proportion: no interval in any year, not only where it exceeds 1
    assert not {"response_share_ci_low", "response_share_ci_high"} & set(t.columns)


def test_legacy_rates(tmp_path):
    reg = make_extract(
        tmp_path,
        legacy_v1=[
            dict(year=2015, baseline_responses=168),
            dict(year=2016, baseline_responses=866, new_patients=1046),
            dict(year=2018, baseline_responses=5, new_patients=0),
        ],
    )
    t = legacy_baseline_response(reg)
    assert t["year"].tolist() == [2015, 2016, 2017, 2018]
    assert pd.isna(t["response_share"].iloc[0])  # new_patients blank
    assert round(100 * t["response_share"].iloc[1]) == 83  # seed: 83 %
    assert pd.isna(t["baseline_responses"].iloc[2])  # a year the table lacks is unknown, not 0
    assert pd.isna(t["response_share"].iloc[3])  # 5 / 0


def test_legacy_absent_table_gives_empty_frame(tmp_path):
    reg = make_extract(tmp_path)
    t = legacy_baseline_response(reg)
    assert t.empty and list(t.columns[:4]) == ["year", "baseline_responses", "new_patients", "response_share"]
