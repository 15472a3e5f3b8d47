import pandas as pd

from opr_analysis.report.prose import trend_sentence


def _frame(k):
    return pd.DataFrame({"year": [2021, 2022, 2023, 2024], "k": k, "n": [1000] * 4})


def test_rising_falling_and_flat_trends_are_worded_by_significance():
    assert " økte fra 2021 til 2023 " in trend_sentence(_frame([300, 400, 500, 900]), "k", "n", "x", "Andelen", 2023)
    assert " falt fra 2021 til 2024 " in trend_sentence(_frame([500, 400, 300, 200]), "k", "n", "x", "Andelen", 2024)
    flat = trend_sentence(_frame([300, 301, 299, 300]), "k", "n", "x", "Andelen", 2024)
    assert "endret seg ikke sikkert" in flat and "p = 0," in flat


def test_years_after_the_report_year_are_left_out():
    # A jump in 2024 must not count in a 2023 report.
    text = trend_sentence(_frame([300, 300, 300, 900]), "k", "n", "x", "Andelen", 2023)
    assert "endret seg ikke sikkert" in text and "til 2023" in text


def test_single_year_gives_no_sentence():
    assert trend_sentence(_frame([300, 400, 500, 600]), "k", "n", "x", "Andelen", 2021) == ""
