import pandas as pd
import pytest

from opr_analysis.formatting import MISSING, NBSP, fmt_int, fmt_num, fmt_pct, format_hms


def test_thousands_use_no_break_space():
    assert fmt_int(1574) == f"1{NBSP}574"
    assert fmt_int(16_085_636) == f"16{NBSP}085{NBSP}636"
    assert fmt_int(999) == "999"


def test_percent_has_decimal_comma_and_no_break_space_before_sign():
    assert fmt_pct(0.393) == f"39,3{NBSP}%"
    assert fmt_pct(0.3, 0) == f"30{NBSP}%"
    assert fmt_pct(12.345) == f"1{NBSP}234,5{NBSP}%"


def test_numbers_with_decimals():
    assert fmt_num(1234.5, 2) == f"1{NBSP}234,50"
    assert fmt_num(-0.04, 1) == "0,0"  # no negative zero
    assert fmt_num(-1.25, 1) == "−1,2"  # U+2212 minus sign


@pytest.mark.parametrize("missing", [None, float("nan"), pd.NA, pd.NaT])
def test_missing_values_show_a_dash(missing):
    assert fmt_int(missing) == fmt_pct(missing) == fmt_num(missing) == format_hms(missing) == MISSING


@pytest.mark.parametrize(
    ("ms", "hms"),
    # the seed report's table 14
    [
        (446387, "00:07:26"),
        (1364144, "00:22:44"),
        (1889351, "00:31:29"),
        (2733331, "00:45:33"),
        (16085636, "04:28:05"),
        (999, "00:00:00"),
        (90_000_000, "25:00:00"),
    ],
)
def test_hms_truncates_to_whole_seconds(ms, hms):
    assert format_hms(ms) == hms
