"""Report tables from stand-in tidy frames with the API.md columns (no statistics here)."""

import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from opr_analysis.formatting import fmt_num, fmt_pct
from opr_analysis.report import gt_tables as g

NB = "\u00a0"


def _t10():
    return pd.DataFrame(
        {
            "year": [2021, 2022, 2023],
            "assessed": [2299, 2339, 2080],
            "rejected": [691, 797, 951],
            "rejected_share": [691 / 2299, 797 / 2339, 951 / 2080],
            "rejected_share_ci_low": [0.282, 0.322, 0.436],
            "rejected_share_ci_high": [0.320, 0.360, 0.479],
        }
    )


def test_years_window():
    assert g.years_window(2024) == [2022, 2023, 2024]
    assert g.years_window(2024, 2) == [2023, 2024]


def test_table_10_cells_norwegian():
    cells = g.referrals_assessed_cells(_t10(), [2021, 2022, 2023])
    assert cells.columns.tolist() == ["label", "2021", "2022", "2023"]
    assert cells.loc[0, "2021"] == f"2{NB}299"
    assert cells.loc[1, "2023"] == f"951 (45,7{NB}%)"
    assert cells.loc[2, "2021"] == f"28,2–32,0{NB}%"


def test_table_10_missing_year_is_a_dash():
    cells = g.referrals_assessed_cells(_t10(), [2020, 2021])
    assert cells.loc[0, "2020"] == "–"


def test_table_10_html_has_id_source_and_formatting():
    html = g.referrals_assessed_table(_t10(), [2021, 2022, 2023]).as_raw_html()
    assert 'id="opr-referrals_assessed"' in html
    assert "henvisningslogg fra DIPS" in html
    assert f"797 (34,1{NB}%)" in html


def _t11():
    rows = []
    data = {
        "rett": {"lokal": 618, "nasjonal": 122, "regional": 834, "annet_blank": 34},
        "avvist": {"lokal": 319, "nasjonal": 61, "regional": 310, "annet_blank": 1},
    }
    for decision, by_region in data.items():
        known = sum(v for k, v in by_region.items() if k != "annet_blank")
        for region, n in by_region.items():
            rows.append(
                {
                    "year": 2021,
                    "decision": decision,
                    "region": region,
                    "n": n,
                    "share": pd.NA if region == "annet_blank" else n / known,
                    "share_ci_low": pd.NA,
                    "share_ci_high": pd.NA,
                }
            )
    return pd.DataFrame(rows)


def test_table_11_other_and_blank_apart_and_totals():
    cells = g.referrals_by_region_cells(_t11(), [2021])
    rett = cells[cells["group"] == "Henvisninger gitt behandlingsrett"].set_index("label")
    assert rett.loc["Lokal", "2021_n"] == "618"
    assert rett.loc["Lokal", "2021_share"] == f"39,3{NB}%"  # the seed's 39,3 %
    assert rett.loc["Sum lokal, nasjonal og regional", "2021_n"] == f"1{NB}574"
    assert rett.loc["«Annet» og blanke celler", "2021_n"] == "34"
    assert rett.loc["«Annet» og blanke celler", "2021_share"] == ""
    assert rett.loc["Totalt", "2021_n"] == f"1{NB}608"
    avvist = cells[cells["group"] == "Avviste henvisninger"].set_index("label")
    assert avvist.loc["Totalt", "2021_n"] == "691"
    html = g.referrals_by_region_table(_t11(), [2021]).as_raw_html()
    assert "Henvisninger gitt behandlingsrett" in html and "Avviste henvisninger" in html


def test_table_14_hms_per_period():
    t14 = pd.DataFrame(
        {
            "period": ["2023", "alle"],
            "n": [925, 2578],
            "min_ms": [446387, 446387],
            "q1_ms": [1364144, 1364144],
            "median_ms": [1889351, 1889351],
            "q3_ms": [2733331, 2733331],
            "max_ms": [16085636, 16085636],
        }
    )
    cells = g.completion_time_cells(t14, [2022, 2023])  # 2022 absent: left out
    assert cells["label"].tolist() == ["2023", "Alle år"]
    assert cells.loc[1, ["n", "min_ms", "median_ms", "max_ms"]].tolist() == [
        f"2{NB}578",
        "00:07:26",
        "00:31:29",
        "04:28:05",
    ]


def test_table_15_reason_order_other_last_and_total():
    t15 = pd.DataFrame(
        {"year": [2021] * 3 + [2022] * 3, "reason": ["glemt", "annet", "ingen_enhet"] * 2, "n": [2, 0, 11, 0, 5, 7]}
    )
    cells = g.short_form_reasons_cells(t15, [2021, 2022]).set_index("label")
    assert cells.index[-2:].tolist() == ["Annet/tomme celler", "Totalt"]
    assert cells.index[0] == "Pasienten har ikke PC/mobil/nettbrett tilgjengelig"
    assert cells.loc["Totalt"].tolist() == ["13", "12"]
    assert cells.loc["Har ikke elektronisk ID", "2021"] == "–"  # code absent from the frame


def _fu():
    """A follow-up table as ``stats.followup.followup_response`` returns it (derived columns by its rule)."""
    from opr_analysis.stats.followup import RESPONSE_COUNTS, response_columns

    return response_columns(_fu_counts()[["year", "kind", *RESPONSE_COUNTS]], ["year", "kind"])


def _fu_counts():
    return pd.DataFrame(
        {
            "year": [2024, 2024, 2023],
            "kind": ["rf_3m", "scs_3m", "rf_3m"],
            "owed": [192, 41, 10],
            "sent": [189, 40, 10],
            "sent_owed": [182, 38, 10],
            "not_sent": [10, 3, 0],
            "sent_not_owed": [7, 2, 0],
            "responded": [65, 11, 3],
            "response_share": [65 / 189, 11 / 40, 0.3],
            "response_share_ci_low": [0.28, 0.161, 0.1],
            "response_share_ci_high": [0.414, 0.428, 0.6],
            "responded_owed": [62, 10, 3],
            "awaiting": [12, 0, 0],
            "responded_settled": [58, 10, 3],
            "owed_settled": [176, 41, 10],
        }
    )


def test_followup_cells_suppress_small_counts_and_their_partners():
    from opr_analysis.report.suppression import recorded_tables, recoverable_cells

    with recorded_tables() as recorded:
        cells = g.followup_response_cells(_fu(), 2024, min_cell=5).set_index("kind")
    assert recorded and all(recoverable_cells(t) == [] for t in recorded)  # no hidden count can be recomputed
    assert cells.index.tolist() == ["rf_3m", "scs_3m", "alle"]
    scs = cells.loc["scs_3m"]
    # one symbol for every hidden count
    assert (scs["not_sent"], scs["sent_not_owed"], scs["responded_not_owed"]) == ("×", "×", "×")
    assert scs["sent_owed"] == "×"  # owed 41 = 38 + 3 would reveal the 3
    assert scs["owed"] == "41" and scs["awaiting"] == "0"
    # settled = sent_owed − awaiting would reveal the hidden sent_owed, and answered + unanswered the settled
    assert scs["settled"] == "×" and scs["response_share"] == "–"
    # the total row's not_sent (13) would reveal scs's 3 given rf's 10: rf's 10 is hidden too
    assert cells.loc["rf_3m", "not_sent"] == "×"
    assert cells.loc["alle", "owed"] == "233"
    assert cells.loc["alle", "label"] == "Alle typer"


def test_followup_without_suppression_shows_everything():
    cells = g.followup_response_cells(_fu(), 2024, min_cell=1).set_index("kind")
    assert cells.loc["scs_3m", "not_sent"] == "3"
    assert cells.loc["alle", "not_sent"] == "13"


def test_followup_share_divides_by_the_denominator_in_its_own_row():
    cells = g.followup_response_cells(_fu(), 2024, min_cell=0).set_index("kind")
    rf = cells.loc["rf_3m"]
    # 182 sent as owed, 12 within their response window (4 of them already answered): 170 settled, 58 answered
    assert (rf["sent_owed"], rf["awaiting"], rf["settled"], rf["responded_settled"]) == ("182", "12", "170", "58")
    assert rf["response_share"] == fmt_pct(58 / 170)
    # answers to the 7 unowed sends are apart and not in the share
    assert (rf["sent_not_owed"], rf["responded_not_owed"]) == ("7", "3")


def test_patient_level_suppression_hides_share_with_numerator():
    t = pd.DataFrame(
        {
            "year": [2020, 2024],
            "enrolments": [100, 50],
            "enrolments_with_baseline": [97, 30],
            "response_share": [0.97, 0.6],
            "response_share_ci_low": [0.92, 0.46],
            "response_share_ci_high": [0.99, 0.73],
        }
    )
    cells = g.baseline_patient_level_cells(t, [2020, 2024]).set_index("label")
    # 3 without a baseline answer (100 enrolments are public in table 12): 97 hidden, and the share with it
    assert cells.loc["Innskrivinger med minst ett baselinesvar"].tolist() == ["×", "30"]
    assert cells.loc["Andel med baselinesvar"].tolist() == ["–", f"60,0{NB}%"]
    assert cells.loc["Innskrivinger"].tolist() == ["100", "50"]  # shown exactly in table 12: never hidden


def test_patient_level_suppression_counts_the_trend_tests_sum_as_published():
    # The trend tests publish the sum of enrolments with a baseline answer from 2021 on (a declared margin):
    # 97 + 30 = 127 and 30 shown would give 97 (and so the 3 without) away, so 30 is hidden too.
    t = pd.DataFrame({"year": [2023, 2024], "enrolments": [100, 50], "enrolments_with_baseline": [97, 30]})
    t["response_share"] = t["enrolments_with_baseline"] / t["enrolments"]
    t["response_share_ci_low"], t["response_share_ci_high"] = t["response_share"] - 0.1, t["response_share"] + 0.01
    cells = g.baseline_patient_level_cells(t, [2023, 2024]).set_index("label")
    assert cells.loc["Innskrivinger med minst ett baselinesvar"].tolist() == ["×", "×"]


def test_quality_tables_are_shown_by_their_declaration_and_patient_rows_never():
    from opr_analysis.report.publication import Publication

    agg = pd.DataFrame(
        {
            "table": ["referrals", "referrals"],
            "column": ["region", "region"],
            "year": [2022, 2023],
            "rows": pd.array([10, 12], dtype="Int64"),
            "missing": pd.array([1, 3], dtype="Int64"),
            "missing_share": [0.1, 0.25],
            "missing_share_ci_low": [0.02, 0.09],
            "missing_share_ci_high": [0.4, 0.53],
        }
    )
    rows = pd.DataFrame({"enrolment_id": ["E1"], "patient_id": ["P1"]})
    pub = Publication({"quality_missing": agg, "quality_closed_in_dips_list": rows}, 2023, [2021, 2022, 2023])
    html = pub.table("quality_missing").as_raw_html()  # declared years="report": the report year only
    assert f"25,0{NB}%" in html and "2022" not in html and f"9,0–53,0{NB}%" in html
    assert pub.cells("quality_missing").values.tolist() == [
        ["Henvisninger", "Helseregion", "2023", "12", "3", f"25,0{NB}%", f"9,0–53,0{NB}%"]
    ]  # tables and columns by their codebook labels
    with pytest.raises(KeyError, match="not a table of the report"):
        pub.table("quality_closed_in_dips_list")


def test_followup_all_kinds_row_shows_the_overall_share_with_its_interval():
    cells = g.followup_response_cells(_fu(), 2024, min_cell=0).set_index("kind")
    alle = cells.loc["alle"]
    assert alle["owed"] == "233" and alle["responded_settled"] == "68" and alle["settled"] == "208"
    # 68 answered of 208 settled (182 + 38 − 12); Wilson limits from statsmodels
    low, high = proportion_confint(68, 208, method="wilson")
    assert alle["response_share"] == fmt_pct(68 / 208)
    assert alle["response_share_ci"] == f"{fmt_num(100 * low)}–{fmt_pct(high)}"


def test_generic_table_right_aligns_numbers_and_names_tables_in_norwegian():
    from bs4 import BeautifulSoup

    from opr_analysis.report.gt_tables import generic_table

    frame = pd.DataFrame(
        {"table": ["baseline_responses", "referrals"], "rows_read": [1200, 35], "missing_share": [0.0287, 0.5]}
    )
    soup = BeautifulSoup(generic_table(frame, "Kilde: test.", id="t").as_raw_html(), "html.parser")
    rows = soup.select("tbody tr")
    assert [r.find_all("td")[0].get_text() for r in rows] == ["Baselinebesvarelser", "Henvisninger"]
    for r in rows:
        first, *numbers = r.find_all("td")
        assert "gt_left" in first["class"] and all("gt_right" in td["class"] for td in numbers)
    assert rows[0].find_all("td")[1].get_text() == "1\u00a0200"
