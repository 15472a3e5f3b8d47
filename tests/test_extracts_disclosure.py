"""k-anonymity, the generalisation ladder and small cells."""

import pandas as pd

from opr_analysis.extracts.disclosure import generalise, hidden_counts, k_violations
from opr_analysis.extracts.variables import Settings


def test_k_violations_count_distinct_patients_not_rows():
    f = pd.DataFrame(
        {
            "pid": ["a", "a", "a", "b", "c", "d"],
            "sex": ["K", "K", "K", "K", "M", "M"],
            "region": ["lokal"] * 4 + [None, None],
        }
    )
    bad = k_violations(f, ["sex", "region"], k=2)
    # K/lokal has 4 rows but only 2 patients -> passes; M/blank has 2 patients -> passes at k=2
    assert bad.empty
    bad = k_violations(f, ["sex", "region"], k=3)
    assert bad.to_dict("records") == [
        {"sex": "K", "region": "lokal", "patients": 2},
        {"sex": "M", "region": "(blank)", "patients": 2},
    ]


def test_ladder_steps_only_touch_declared_roles():
    s = Settings(dates="full", age_band_width=5)
    assert generalise(s, "age_band_10", {"sex"}) is None
    s10 = generalise(s, "age_band_10", {"age"})
    assert (s10.age_band_width, s10.age_as_band) == (10, True)
    assert generalise(s10, "dates_month", {"year"}).dates == "month"
    assert generalise(Settings(dates="relative"), "dates_year", {"year"}) is None
    p = generalise(s, "year_to_period", {"year"})
    assert p.year_as_period and p.dates == "year"
    assert generalise(s, "drop_region", {"region"}).drop_region


def test_small_cells_hidden_with_secondary_suppression():
    assert hidden_counts(pd.Series([3, 40, 12]), 5).tolist() == [True, False, True]
    assert hidden_counts(pd.Series([3, 4, 40]), 5).tolist() == [True, True, False]
    assert hidden_counts(pd.Series([0, 40, 12]), 5).tolist() == [False, False, False]
