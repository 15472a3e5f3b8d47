"""A date column parsed once per distinct cell (long columns) or cell by cell (below ``parsing.SMALL``)
gives the same values and bad-cell masks."""

import pandas as pd
import pytest

from opr_analysis.extract import parsing

CELLS = ["2023-01-05", "05.01.2023", "2023-02-30", "", "x", "44927", "2023-01-05T10:00:00+01:00", "1.2.2023 3.04"]


@pytest.mark.parametrize("parser", [parsing.parse_date, parsing.parse_datetime])
def test_distinct_and_direct_parsing_agree(parser, monkeypatch):
    s = pd.Series(CELLS * 300, dtype="string")  # 2 400 cells, 8 distinct: the distinct path is taken
    assert len(s) >= parsing.SMALL
    monkeypatch.setattr(parsing, "SMALL", 0)
    distinct = parser(s)
    monkeypatch.setattr(parsing, "SMALL", len(s) + 1)
    direct = parser(s)
    assert distinct[0].notna().sum() > 0 and distinct[1].sum() > 0
    pd.testing.assert_series_equal(distinct[0], direct[0], check_exact=True)
    pd.testing.assert_series_equal(distinct[1], direct[1], check_exact=True)
