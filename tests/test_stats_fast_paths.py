"""The integer fast paths of the statistics agree with the pandas group-by / merge formulations
they replaced (issue 15), on tricky input: ties, NA keys and dates, keys outside the grid,
events before any enrolment, unknown patients, several enrolments per patient and year."""

import numpy as np
import pandas as pd
import pytest
from helpers import make_extract

from opr_analysis.stats import linking, memo, referrals, shares
from opr_analysis.stats.baseline import _enrolment_counts, _enrolment_rows, _link_flags, baseline_links
from opr_analysis.stats.quality import quality_multiple_enrolments


def merge_enrolment_of(enrolments, patient_ids, dates):
    """The merge_asof formulation of :func:`linking.enrolment_of` (before issue 15)."""
    index = pd.Series(patient_ids).index
    out = pd.Series(pd.NA, index=range(len(index)), dtype="string")
    left = pd.DataFrame(
        {
            "patient_id": pd.Series(patient_ids).astype(object).to_numpy(),
            "day": linking.day(dates).to_numpy(),
            "pos": np.arange(len(index)),
        }
    )
    left = left[left["day"].notna() & left["patient_id"].notna()].sort_values("day", kind="stable")
    right = pd.DataFrame(
        {
            "patient_id": enrolments["patient_id"].astype(object).to_numpy(),
            "granted": linking.day(enrolments["granted_date"]).to_numpy(),
            "enrolment_id": enrolments["enrolment_id"].astype(object).to_numpy(),
        }
    )
    right = right[right["granted"].notna()].sort_values(["granted", "enrolment_id"], kind="stable")
    if len(left) and len(right):
        linked = pd.merge_asof(left, right, left_on="day", right_on="granted", by="patient_id", direction="backward")
        out.iloc[linked["pos"].to_numpy()] = linked["enrolment_id"].to_numpy()
    out.index = index
    return out


def groupby_count_grid(rows, grid, sums):
    """The group-by formulation of :func:`shares.count_grid` (before issue 15)."""
    index = shares.full_grid(grid)
    keys = list(grid)
    keyed = rows.assign(**{k: rows[k].astype(object) for k in keys if not pd.api.types.is_integer_dtype(rows[k])})
    counts = (
        keyed.groupby(keys, observed=True, dropna=True)[list(sums.values())]
        .sum()
        .set_axis(list(sums), axis=1)
        .reindex(index, fill_value=0)
    )
    counts = counts.astype("int64").reset_index()
    if "year" in counts:
        counts["year"] = counts["year"].astype("int64")
    return counts


def random_days(rng, n, na=0.1):
    days = pd.Series(pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 60, n), unit="D"))
    days = days + pd.to_timedelta(rng.integers(0, 86_400, n), unit="s")
    return days.mask(rng.random(n) < na)


@pytest.mark.parametrize("seed", range(8))
def test_enrolment_of_agrees_with_merge_asof(seed):
    rng = np.random.default_rng(seed)
    n_e, n_ev = int(rng.integers(0, 40)), int(rng.integers(0, 80))
    patients = np.array([f"P{i}" for i in range(6)], dtype=object)
    enrolments = pd.DataFrame(
        {
            # ids in random order, so ties on one day are not in id order
            "enrolment_id": pd.array(rng.permutation([f"E{i:02d}" for i in range(n_e)]), dtype="string"),
            "patient_id": pd.array(np.where(rng.random(n_e) < 0.1, None, rng.choice(patients, n_e)), dtype="string"),
            # few distinct days: many ties of one patient on one day
            "granted_date": pd.Series(pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 8, n_e) * 7, "D")),
        }
    )
    enrolments["granted_date"] = enrolments["granted_date"].mask(rng.random(n_e) < 0.1)
    # P9 has no enrolment at all
    pids = pd.Series(np.where(rng.random(n_ev) < 0.1, None, rng.choice([*patients, "P9"], n_ev)), dtype="string")
    pids.index = pd.RangeIndex(1, n_ev + 1, name="row")
    dates = random_days(rng, n_ev)
    got = linking.enrolment_of(enrolments, pids, dates)
    want = merge_enrolment_of(enrolments, pids, dates)
    pd.testing.assert_series_equal(got, want)


def test_enrolment_of_ties_go_to_the_larger_id_in_any_row_order():
    enrolments = pd.DataFrame(
        {
            "enrolment_id": ["E10", "E9", "E2"],
            "patient_id": ["P1", "P1", "P1"],
            "granted_date": pd.to_datetime(["2022-01-10", "2022-01-10", "2022-01-01"]),
        }
    )
    dates = pd.Series(pd.to_datetime(["2022-01-10 08:00", "2022-01-05 00:00", "2021-12-31 00:00"]))
    for order in ([0, 1, 2], [2, 1, 0], [1, 2, 0]):
        got = linking.enrolment_of(enrolments.iloc[order], pd.Series(["P1"] * 3), dates)
        # "E9" > "E10" as text: the larger id is the later one in text order
        assert got.tolist() == ["E9", "E2", pd.NA]


@pytest.mark.parametrize("seed", range(6))
def test_count_grid_agrees_with_groupby(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 200))
    rows = pd.DataFrame(
        {
            "year": rng.integers(2019, 2025, n),  # 2019 and 2024 fall outside the grid
            "decision": pd.Categorical(rng.choice(["rett", "avvist", None], n), categories=["rett", "avvist", "x"]),
            "region": pd.array(rng.choice(["lokal", "regional", "annet", None], n), dtype="string"),
            "n": 1,
            "flag": rng.random(n) < 0.3,
            "k": rng.integers(0, 5, n),
        }
    )
    grid = {
        "year": [2020, 2021, 2022, 2023],
        "decision": ["rett", "avvist"],
        "region": ["lokal", "regional", "nasjonal"],
    }
    sums = {"n": "n", "flagged": "flag", "total": "k"}
    pd.testing.assert_frame_equal(shares.count_grid(rows, grid, sums), groupby_count_grid(rows, grid, sums))
    one = {"year": grid["year"]}
    pd.testing.assert_frame_equal(shares.count_grid(rows, one, sums), groupby_count_grid(rows, one, sums))


def test_count_grid_nullable_keys_and_columns():
    rows = pd.DataFrame(
        {
            "year": pd.array([2021, None, 2022, 2022], dtype="Int64"),
            "n": pd.array([1, 1, None, 1], dtype="Int64"),  # nullable: the group-by path
            "m": [1, 1, 1, 1],
        }
    )
    grid = {"year": [2021, 2022]}
    got = shares.count_grid(rows, grid, {"n": "n", "m": "m"})
    assert got.to_dict("list") == {"year": [2021, 2022], "n": [1, 1], "m": [1, 2]}
    pd.testing.assert_frame_equal(shares.count_grid(rows, grid, {"m": "m"}), groupby_count_grid(rows, grid, {"m": "m"}))


@pytest.fixture()
def reg(tmp_path):
    return make_extract(
        tmp_path,
        enrolments=[
            # P1: two grants on one day (the larger id gets the answers) and a third later that year
            dict(enrolment_id="E1", patient_id="P1", granted_date="2021-02-01", first_consultation_date="2021-03-01"),
            dict(enrolment_id="E2", patient_id="P1", granted_date="2021-02-01"),
            dict(enrolment_id="E3", patient_id="P1", granted_date="2021-09-01", first_consultation_date="2021-09-10"),
            dict(enrolment_id="E4", patient_id="P2", granted_date="2022-01-10", first_consultation_date="2022-01-20"),
        ],
        baseline_responses=[
            dict(response_id="B1", patient_id="P1", submitted_at="2021-02-01T09:00:00"),
            dict(response_id="B2", patient_id="P1", submitted_at="2021-02-20T09:00:00"),
            dict(response_id="B3", patient_id="P1", submitted_at="2021-09-11T08:00:00"),  # after E3's consultation
            dict(response_id="B4", patient_id="P2", submitted_at="2021-12-20T10:00:00"),  # before any enrolment
            dict(response_id="B5", patient_id="P2", submitted_at="2022-01-20T23:00:00"),  # on the consultation day
        ],
    )


def test_link_flags_agree_with_baseline_links(reg):
    links = baseline_links(reg)
    flags = _link_flags(reg)
    ids = reg.enrolments["enrolment_id"].astype(object).to_numpy()
    by_response = dict(
        zip(reg.baseline_responses["response_id"], [ids[p] if p >= 0 else "-" for p in flags["position"]], strict=True)
    )
    assert by_response == {"B1": "E2", "B2": "E2", "B3": "E3", "B4": "-", "B5": "E4"}
    assert links["enrolment_id"].tolist()[:3] == ["E2", "E2", "E3"] and pd.isna(links["enrolment_id"][3])
    assert (
        flags["before_consultation"].tolist()
        == links["before_consultation"].tolist()
        == [True, True, False, False, True]
    )
    assert (
        flags["after_consultation"].tolist()
        == links["after_consultation"].tolist()
        == [False, False, True, False, False]
    )


def test_enrolment_counts(reg):
    rows = _enrolment_rows(reg)
    assert rows["enrolment_id"].tolist() == ["E1", "E2", "E3", "E4"]
    assert rows["with_baseline"].tolist() == [0, 1, 0, 1]
    assert rows["baselines"].tolist() == [0, 2, 1, 1]
    counts = _enrolment_counts(reg)
    pd.testing.assert_frame_equal(counts, rows[["year", "enrolments", "with_baseline", "baselines"]])


def test_multiple_enrolments_counts_patients_per_year(reg):
    out = quality_multiple_enrolments(reg)
    assert out[["year", "patients", "patients_multiple", "enrolments"]].to_dict("list") == {
        "year": [2021, 2022],
        "patients": [1, 1],
        "patients_multiple": [1, 0],
        "enrolments": [3, 1],
    }


def test_years_agree_with_dt_year():
    dates = pd.Series(
        pd.to_datetime(["1969-12-31 23:59:00", "1970-01-01 00:00:00", "2024-12-31 23:59:59", "2025-01-01 00:00:00"])
    )
    assert memo.years(dates).tolist() == dates.dt.year.astype("int64").tolist() == [1969, 1970, 2024, 2025]
    with pytest.raises(ValueError):  # a missing date raises, as dt.year.astype("int64") does
        memo.years(pd.Series(pd.to_datetime(["2024-01-01", None])))
    assert memo.years(pd.Series([2021, 2022])).tolist() == [2021, 2022]


def test_year_range_over_numpy_and_nullable_years():
    assert shares.year_range(pd.Series([2023, 2021]), pd.Series([2020.0, np.nan])) == [2020, 2021, 2022, 2023]
    assert shares.year_range(pd.Series([np.nan]), pd.Series([], dtype="int64")) == []
    assert shares.year_range(pd.Series([2022, None], dtype="Int64"), pd.Series([2024])) == [2022, 2023, 2024]


def test_quartile_summary_same_for_numeric_and_text_input():
    values = pd.Series([5, None, 1, 3, 2**40], dtype="Int64")
    as_text = pd.Series(["5", None, "1", "x", "3", str(2**40)], dtype="object")
    assert shares.quartile_summary(values) == shares.quartile_summary(as_text)
    assert shares.quartile_summary(values)["median"] == 4.0


def test_region_lines_for_categories_and_text():
    cats = pd.Series(pd.Categorical(["lokal", None, "annet", "nasjonal"], categories=["annet", "lokal", "nasjonal"]))
    want = ["lokal", "annet_blank", "annet_blank", "nasjonal"]
    assert referrals._region_lines(cats).astype(object).tolist() == want
    assert referrals._region_lines(cats.astype(object)).tolist() == want


def test_day_numbers_are_the_normalized_days():
    dates = pd.Series(pd.to_datetime(["1969-12-31 23:59:59", "1970-01-01 00:00:00", "2024-02-29 12:00:00", None]))
    got = linking._day_numbers(dates)
    want = linking.day(dates).to_numpy().view("int64") // 86_400_000_000_000
    assert got[:3].tolist() == want[:3].tolist() == [-1, 0, 19782]
    assert got[3] == linking._NAT
    assert linking._day_numbers(dates.astype("datetime64[s]")).tolist() == got.tolist()


def test_count_grid_blank_grid_level_never_matches_blank_keys():
    rows = pd.DataFrame({"region": ["lokal", None, None], "n": [1, 1, 1]})
    grid = {"region": ["lokal", None]}
    got = shares.count_grid(rows, grid, {"n": "n"})
    pd.testing.assert_frame_equal(got, groupby_count_grid(rows, grid, {"n": "n"}))
    assert got["n"].tolist() == [1, 0]
