"""The cell parsers: every format the contract allows, and nothing else."""

import pandas as pd
import pytest

from opr_analysis.extract.parsing import parse_bool, parse_date, parse_datetime, parse_float, parse_int, parse_text


def S(*values):
    return pd.Series(list(values), dtype="string")


def iso(values):
    return [None if pd.isna(v) else v.isoformat(sep=" ") for v in values]


def test_dates_iso_and_norwegian():
    values, bad = parse_date(S("2023-02-28", "28.02.2023", "1.3.2024", ""))
    assert iso(values) == ["2023-02-28 00:00:00", "2023-02-28 00:00:00", "2024-03-01 00:00:00", None]
    assert bad.tolist() == [False, False, False, False]


@pytest.mark.parametrize(
    "text",
    [
        "2023-02-30",
        "31.04.2023",
        "2023-13-01",
        "2023/02/01",
        "02-28-2023",
        "45000",
        "2023-2-1",
        "tomorrow",
        "２０２３-01-01",
    ],
)
def test_dates_not_in_contract_are_bad(text):
    values, bad = parse_date(S(text))
    assert bad.tolist() == [True]
    assert values.isna().all()


def test_leap_day():
    values, bad = parse_date(S("29.02.2024", "29.02.2023"))
    assert bad.tolist() == [False, True]
    assert values.iloc[0] == pd.Timestamp("2024-02-29")


def test_datetimes_t_space_norwegian_and_seconds_optional():
    values, bad = parse_datetime(
        S("2023-05-01T10:15:30", "2023-05-01 10:15:30", "01.05.2023 10:15", "01.05.2023 10:15:30", "2023-05-01T10:15")
    )
    assert not bad.any()
    assert iso(values) == ["2023-05-01 10:15:30"] * 2 + [
        "2023-05-01 10:15:00",
        "2023-05-01 10:15:30",
        "2023-05-01 10:15:00",
    ]


def test_datetimes_with_offsets_become_oslo_wall_clock():
    values, bad = parse_datetime(
        S(
            "2023-07-01T10:00:00+02:00",
            "2023-07-01T08:00:00Z",
            "2023-01-15T08:00:00+00:00",
            "2023-12-31 23:30:00-01:00",
            "2023-07-01T10:00:00.250+0200",
        )
    )
    assert not bad.any()
    assert iso(values) == [
        "2023-07-01 10:00:00",  # summer time: +02:00 is Oslo already
        "2023-07-01 10:00:00",
        "2023-01-15 09:00:00",  # winter time: UTC+1
        "2024-01-01 01:30:00",  # the offset moves it into the next year
        "2023-07-01 10:00:00.250000",
    ]


@pytest.mark.parametrize("text", ["2023-05-01T25:00:00", "2023-05-01 10:61", "2023-02-30T10:00:00", "10:15", "x"])
def test_bad_datetimes(text):
    assert parse_datetime(S(text))[1].tolist() == [True]


def test_datetime_date_alone_is_midnight():
    values, bad = parse_datetime(S("2023-05-01", "01.05.2023"))
    assert not bad.any() and iso(values) == ["2023-05-01 00:00:00"] * 2


def test_booleans_any_case_and_blank_unknown():
    values, bad = parse_bool(S("ja", "JA", "Nei", "true", "False", "TRUE", "1", "0", "", "kanskje", "2"))
    assert values.tolist()[:8] == [True, True, False, True, False, True, True, False]
    assert values.isna().tolist()[8:] == [True, True, True]
    assert bad.tolist() == [False] * 9 + [True, True]


def test_int():
    values, bad = parse_int(S("12", "-5", "+7", "007", "", "1.5", "1e3", "12 000", "٣"))
    assert values.tolist()[:4] == [12, -5, 7, 7]
    assert bad.tolist() == [False, False, False, False, False, True, True, True, True]


def test_float_decimal_comma_and_point():
    values, bad = parse_float(S("1.5", "2,25", "-3", ".5", "", "abc", "1,2,3"))
    assert values.tolist()[:4] == [1.5, 2.25, -3.0, 0.5]
    assert bad.tolist() == [False, False, False, False, False, True, True]


def test_text_keeps_leading_zeros_and_blank_is_missing():
    values, bad = parse_text(S("000123", "", "P01"))
    assert values.tolist()[0] == "000123" and pd.isna(values.iloc[1]) and not bad.any()
    assert str(values.dtype) == "string"
