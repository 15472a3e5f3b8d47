"""Completion time (seed table 14) and short-version reasons (table 15)."""

import pandas as pd
import pytest
from helpers import make_extract

from opr_analysis import completion_time, format_hms, short_form_reasons


@pytest.mark.parametrize(
    "ms, text",
    [(16_085_636, "04:28:05"), (446_387, "00:07:26"), (1_364_144, "00:22:44"), (1_889_351, "00:31:29"),
     (2_733_331, "00:45:33"), (59_999, "00:00:59"), (999.9, "00:00:00"), (0, "00:00:00"),
     (360_000_000, "100:00:00")],
)  # fmt: skip
def test_format_hms_truncates(ms, text):
    assert format_hms(ms) == text


def test_format_hms_missing():
    assert format_hms(float("nan"), missing=None) is None and format_hms(pd.NA, missing=None) is None
    assert format_hms(float("nan")) == "–"  # the report's dash for an undefined cell


def test_quartiles_linear_interpolation(tmp_path):
    durations = {2021: [1000, 2000, 3000, 4000], 2023: [10_000, 20_000, 30_000, 40_000, 100_000]}
    rows = [dict(submitted_at=f"{y}-05-01T10:00:00", duration_ms=d) for y, ds in durations.items() for d in ds]
    reg = make_extract(tmp_path, baseline_responses=rows)
    t = completion_time(reg).set_index("period")
    assert list(t.index) == ["2021", "2022", "2023", "alle"]
    assert t.loc["2021", ["n", "min_ms", "q1_ms", "median_ms", "q3_ms", "max_ms"]].tolist() == [
        4,
        1000,
        1750,
        2500,
        3250,
        4000,
    ]
    assert t.loc["2023", ["q1_ms", "median_ms", "q3_ms"]].tolist() == [20_000, 30_000, 40_000]
    assert t.at["2022", "n"] == 0 and pd.isna(t.at["2022", "median_ms"]) and pd.isna(t.at["2022", "median_hms"])
    # all years: 9 values 1000 ... 100000, type-7 quartiles at positions 2 and 6 (0-based)
    assert t.loc["alle", ["n", "q1_ms", "median_ms", "q3_ms"]].tolist() == [9, 3000, 10_000, 30_000]
    assert t.at["2021", "q1_hms"] == "00:00:01"  # 1750 ms truncated
    assert t.at["alle", "max_hms"] == "00:01:40"


def test_short_form_reasons_every_year_and_code(tmp_path):
    reg = make_extract(
        tmp_path,
        short_forms=[
            dict(date="2021-03-01", reason="glemt"),
            dict(date="2021-04-01", reason="glemt"),
            dict(date="2021-04-01", reason=""),
            dict(date="2021-04-01", reason="annet"),
            dict(date="2023-01-01", reason="mangler_id"),
        ],
    )
    t = short_form_reasons(reg)
    assert len(t) == 3 * 9
    assert t["year"].unique().tolist() == [2021, 2022, 2023]
    assert t["reason"].iloc[:9].tolist()[0] == "ingen_enhet" and t["reason"].iloc[8] == "annet"
    n = t.set_index(["year", "reason"])["n"]
    assert n[(2021, "glemt")] == 2
    assert n[(2021, "annet")] == 2  # blank counted as annet
    assert n[(2023, "mangler_id")] == 1
    assert n.loc[2022].sum() == 0
    assert n.sum() == 5
