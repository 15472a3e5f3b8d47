"""Data-quality tables."""

import pandas as pd
import pytest
from helpers import make_extract

from opr_analysis import (
    quality_baseline_after_consultation,
    quality_closed_in_dips,
    quality_closed_in_dips_list,
    quality_consultation_before_grant,
    quality_missing,
    quality_multiple_baselines,
    quality_multiple_enrolments,
    quality_tables,
)


@pytest.fixture()
def reg(tmp_path):
    return make_extract(
        tmp_path,
        referrals=[
            dict(assessed_date="2021-01-01", region="lokal"),
            dict(assessed_date="2021-01-01", region=""),
            dict(assessed_date="2021-01-01", region=""),
            dict(assessed_date="2022-01-01", region="annet"),
        ],
        enrolments=[
            dict(enrolment_id="E1", patient_id="P1", granted_date="2021-01-10", first_consultation_date="2021-02-01",
                 closed_date="2021-06-01", dips_closed_date="2021-06-01"),
            dict(enrolment_id="E2", patient_id="P1", granted_date="2021-08-01", first_consultation_date="2021-09-01",
                 dips_closed_date="2021-12-01"),
            dict(enrolment_id="E3", patient_id="P2", granted_date="2021-03-01", dips_closed_date="2021-12-01"),
            dict(enrolment_id="E4", patient_id="P3", granted_date="2022-03-01"),
        ],
        baseline_responses=[
            dict(patient_id="P1", submitted_at="2021-01-20T10:00:00"),
            dict(patient_id="P1", submitted_at="2021-01-25T10:00:00"),
            dict(patient_id="P1", submitted_at="2021-09-02T10:00:00"),  # after E2's consultation
            dict(patient_id="P3", submitted_at="2021-12-01T10:00:00"),  # before P3's enrolment
        ],
    )  # fmt: skip


def test_closed_in_dips_open_in_registry(reg):
    t = quality_closed_in_dips(reg).set_index("year")
    assert t.loc[2021, ["enrolments", "closed_in_dips", "open_in_registry"]].tolist() == [3, 3, 2]
    assert t.at[2021, "open_in_registry_share"] == pytest.approx(2 / 3)
    assert pd.isna(t.at[2022, "open_in_registry_share"])  # nothing closed in DIPS: 0/0
    assert quality_closed_in_dips_list(reg)["enrolment_id"].tolist() == ["E2", "E3"]


def test_missing_share_per_optional_field_and_year(reg):
    t = quality_missing(reg).set_index(["table", "column", "year"])
    assert t.loc[("referrals", "region", 2021), ["rows", "missing"]].tolist() == [3, 2]
    assert t.at[("referrals", "region", 2022), "missing_share"] == 0.0  # «annet» is a value, not a blank
    assert t.loc[("enrolments", "first_consultation_date", 2021), ["rows", "missing"]].tolist() == [3, 1]
    assert t.at[("enrolments", "closed_date", 2021), "missing_share"] == pytest.approx(2 / 3)
    # every optional column of a table with a year and rows; empty tables have no years
    assert set(t.index.droplevel("year")) == {
        ("referrals", "region"), ("enrolments", "first_consultation_date"), ("enrolments", "closed_date"),
        ("enrolments", "dips_closed_date"), ("enrolments", "diagnosis"),
    }  # fmt: skip


def test_multiple_enrolments(reg):
    t = quality_multiple_enrolments(reg).set_index("year")
    assert t.loc[2021, ["patients", "patients_multiple", "enrolments"]].tolist() == [2, 1, 3]
    assert t.at[2021, "multiple_share"] == 0.5
    assert t.at[2022, "multiple_share"] == 0.0


def test_multiple_baselines_and_after_consultation(reg):
    t = quality_multiple_baselines(reg).set_index("year")
    assert t.loc[2021, ["enrolments", "enrolments_multiple_baselines"]].tolist() == [3, 1]  # E1 twice
    a = quality_baseline_after_consultation(reg).set_index("year")
    assert a.loc[
        2021, ["baseline_responses", "without_enrolment", "with_enrolment", "after_consultation"]
    ].tolist() == [4, 1, 3, 1]
    assert a.at[2021, "after_consultation_share"] == pytest.approx(1 / 3)
    assert a.at[2021, "without_enrolment_share"] == 0.25


def test_quality_tables_names(reg):
    assert all(name.startswith("quality_") for name in quality_tables(reg))


def test_consultation_before_grant(tmp_path):
    reg = make_extract(
        tmp_path,
        enrolments=[
            dict(patient_id="P1", granted_date="2021-03-10", first_consultation_date="2021-03-09"),  # a day early
            dict(patient_id="P2", granted_date="2021-03-10", first_consultation_date="2021-03-10"),  # same day: fine
            dict(patient_id="P3", granted_date="2021-05-01"),  # no consultation yet: not counted
            dict(patient_id="P4", granted_date="2023-01-02", first_consultation_date="2022-12-30"),
        ],
    )  # fmt: skip
    out = quality_consultation_before_grant(reg).set_index("year")
    cols = ["enrolments", "with_consultation", "consultation_before_grant"]
    assert out.loc[2021, cols].tolist() == [3, 2, 1]
    assert out.loc[2022, cols].tolist() == [0, 0, 0]
    assert out.loc[2023, cols].tolist() == [1, 1, 1]
    assert out.loc[2021, "consultation_before_grant_share"] == 0.5
    assert pd.isna(out.loc[2022, "consultation_before_grant_share"])  # 0/0 is NA
