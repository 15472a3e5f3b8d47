import pandas as pd

from opr_analysis.report.suppression import (
    SUPPRESSED,
    display_counts,
    small_share,
    suppress,
    suppress_wide,
)


def test_primary_hides_one_to_four_but_not_zero():
    t = pd.DataFrame({"g": ["a"] * 5, "n": [0, 1, 4, 5, 100]})
    assert suppress(t, "n").tolist() == [False, True, True, False, False]


def test_secondary_hides_next_smallest_nonzero_in_group():
    t = pd.DataFrame({"year": [1, 1, 1, 2, 2, 2], "n": [3, 0, 8, 20, 30, 40]})
    assert suppress(t, "n", groups=[["year"]]).tolist() == [True, False, True, False, False, False]


def test_two_hidden_cells_that_still_pin_each_other_take_a_third():
    # 2 + 3 = 55 − 50: each lies in 1..4, narrower than 5, so the 50 goes too.
    t = pd.DataFrame({"n": [2, 3, 50]})
    assert suppress(t, "n", groups=[[]]).tolist() == [True, True, True]
    # 2 + 30 = 82 − 50: the 2 can be anything from 1 to 31.
    t = pd.DataFrame({"n": [2, 30, 50]})
    assert suppress(t, "n", groups=[[]]).tolist() == [True, True, False]


def test_overlapping_groups_are_repeated_until_stable():
    # 2x2 table: hiding the 3 hides the 10 in its row; the 10's column then needs one more.
    t = pd.DataFrame({"row": ["r1", "r1", "r2", "r2"], "col": ["c1", "c2", "c1", "c2"], "n": [3, 10, 20, 30]})
    hidden = suppress(t, "n", groups=[["row"], ["col"]])
    assert hidden.tolist() == [True, True, True, True]


def test_min_cell_one_hides_nothing():
    t = pd.DataFrame({"n": [1, 2, 3]})
    assert not suppress(t, "n", groups=[[]], min_cell=1).any()


def test_wide_partitions_include_the_total():
    t = pd.DataFrame({"owed": [10, 3], "sent": [8, 3], "not_sent": [2, 0]}, index=["x", "y"])
    m = suppress_wide(t, {"owed": ["sent", "not_sent"]})
    # x: not_sent 2 hidden -> sent 8 hidden too; y: owed 3 and sent 3 are small themselves.
    assert m.loc["x"].tolist() == [False, True, True]
    assert m.loc["y"].tolist() == [True, True, False]


def test_wide_total_row_protects_columns():
    t = pd.DataFrame({"n": [3, 40, 50, 93], "m": [0, 0, 0, 0]}, index=["a", "b", "c", "alle"])
    m = suppress_wide(t, [("n", [])], total_row="alle", extra_columns=["m"])
    assert m["n"].tolist() == [True, True, False, False]


def test_display_uses_one_symbol_for_every_hidden_count():
    out = display_counts(pd.Series([3, 38, 1200]), pd.Series([True, True, False]), min_cell=5)
    assert out.tolist() == [SUPPRESSED, SUPPRESSED, "1\u00a0200"]
    assert display_counts(pd.Series([7]), pd.Series([True]), min_cell=10).tolist() == [SUPPRESSED]


def test_small_share_looks_at_both_sides():
    t = pd.DataFrame({"responded": [3, 20, 20, 0], "sent": [40, 22, 60, 10]})
    assert small_share(t, "responded", "sent").tolist() == [True, True, False, False]
