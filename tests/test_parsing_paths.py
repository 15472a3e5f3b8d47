"""The date/datetime fast path (Arrow + numpy on fixed-width cells) and the general path
(regex components) give the same values and the same bad-cell masks, cell for cell."""

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from opr_analysis.extract.parsing import general_path_only, parse_date, parse_datetime

D = st.integers(0, 99).map(lambda v: f"{v:02d}")
YEAR = st.sampled_from([0, 999, 1000, 1999, 2000, 2023, 2024, 2100, 2999, 3000, 5000, 9999]).map(lambda v: f"{v:04d}")
SEP = st.sampled_from(["T", " "])


@st.composite
def cells(draw):
    y, m, d, hh, mm, ss = draw(YEAR), draw(D), draw(D), draw(D), draw(D), draw(D)
    # Plausible values more often than not, so both valid and invalid cells are common.
    if draw(st.booleans()):
        m, d, hh, mm, ss = f"{int(m) % 13:02d}", f"{int(d) % 32:02d}", f"{int(hh) % 25:02d}", mm, f"{int(ss) % 61:02d}"
    date = draw(st.sampled_from([f"{y}-{m}-{d}", f"{d}.{m}.{y}"]))
    tail = draw(st.sampled_from(["", f"{draw(SEP)}{hh}:{mm}", f"{draw(SEP)}{hh}:{mm}:{ss}"]))
    return date + tail


def _both(parser, values):
    s = pd.Series(values, dtype="string")
    fast = parser(s)
    with general_path_only():
        general = parser(s)
    return fast, general


@settings(max_examples=25, deadline=None)
@given(st.lists(cells(), min_size=1, max_size=40))
def test_fast_and_general_paths_agree(values):
    for parser in (parse_date, parse_datetime):
        (fv, fb), (gv, gb) = _both(parser, values)
        pd.testing.assert_series_equal(fv, gv)
        pd.testing.assert_series_equal(fb, gb)


def test_known_cells_on_both_paths():
    values = ["31.12.2023 14:05:09", "29.02.2023 10:00", "2024-02-29T23:59:59", "2023-12-31 24:00", "3000-01-01", ""]
    (fv, fb), (gv, gb) = _both(parse_datetime, values)
    assert [None if pd.isna(v) else v.isoformat(sep=" ") for v in fv][:3] == [
        "2023-12-31 14:05:09",
        None,
        "2024-02-29 23:59:59",
    ]
    assert fb.tolist() == gb.tolist() == [False, True, False, True, True, False]
    pd.testing.assert_series_equal(fv, gv)


def test_byte_shapes_agree_on_look_alikes():
    """The fast path checks shapes byte by byte: cells of the right byte length that are not
    in the shape (non-ASCII digits, other separators, a clock with dots) take the general path."""
    values = [
        "2023-12-3\u00e5",  # 10 bytes, not digits
        "\uff12023-12-3",  # a full-width digit: 10 bytes
        "2023/12/31",
        "31-12-2023",
        "2023-12-31x14:05",
        "31.12.2023 14.05",
        "31.12.2023T14:05:09",
        " 2023-12-31",
        "2023-12-31",
        "01.01.1678",
        "31.12.2261 23:59:59",
        "01.01.2262",
        "",
    ]
    for parser in (parse_date, parse_datetime):
        (fv, fb), (gv, gb) = _both(parser, values)
        pd.testing.assert_series_equal(fv, gv)
        pd.testing.assert_series_equal(fb, gb)
    assert parse_date(pd.Series(values, dtype="string"))[1].tolist() == [True] * 7 + [True, False, False] + [
        True,
        True,
        False,
    ]


def test_fast_path_on_a_column_with_missing_cells_and_a_sliced_series():
    s = pd.Series(["x", "2023-01-02", pd.NA, "02.01.2023", "2023-01-02T03:04"], dtype="string").iloc[1:]
    (fv, fb), (gv, gb) = _both(parse_datetime, s)
    pd.testing.assert_series_equal(fv, gv)
    assert fv.notna().tolist() == [True, False, True, True]


def test_repeated_cells_parsed_once_give_each_cell_its_own_answer():
    """A column of few distinct cells is parsed once per distinct cell (dictionary encoding);
    every row still gets the answer its own cell has when parsed alone."""
    cells = ["2023-01-02", "31.12.2023 14:05:09", "30.02.2023", "", "x", "2023-01-02T03:04+02:00", "02.01.2023"]
    column = pd.Series(cells * 7 + [pd.NA], dtype="string", index=range(100, 150))
    for parser in (parse_date, parse_datetime):
        values, bad = parser(column)
        alone = [parser(pd.Series([c], dtype="string")) for c in cells]
        assert values.index.equals(column.index) and str(values.dtype) == "datetime64[ns]"
        for i, (v, b) in enumerate(alone * 7):
            assert (pd.isna(values.iloc[i]) and pd.isna(v.iloc[0])) or values.iloc[i] == v.iloc[0]
            assert bad.iloc[i] == b.iloc[0]
        assert pd.isna(values.iloc[-1])
