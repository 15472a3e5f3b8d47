"""PROM chapter tables from tiny hand-made frames: exact cells, suppression at the boundary."""

import pandas as pd
import pytest

from opr_analysis.report import prom_tables as pt

NB = "\u00a0"
COLS = ["K", "M", "alle"]


def _profile(responses, age=None, education=None, year="2024"):
    """A baseline_profile-like frame: responses {sex: n}, age {sex: (n, mean, sd)},
    education {sex: [count level 1, count level 2]} (n = their sum)."""
    rows = []
    for sex, n in responses.items():
        rows.append({"year": year, "sex": sex, "variable": "responses", "label": "Antall besvarelser", "n": n})
    for sex, (n, mean, sd) in (age or {}).items():
        rows.append(
            {
                "year": year,
                "sex": sex,
                "variable": "age",
                "label": "Alder (år)",
                "n": n,
                "missing": 0,
                "mean": mean,
                "sd": sd,
                "median": mean,
                "q1": mean - 10,
                "q3": mean + 10,
            }
        )
    for sex, counts in (education or {}).items():
        for level, (code, lab) in enumerate([("1", "Grunnskole"), ("2", "Videregående skole")]):
            rows.append(
                {
                    "year": year,
                    "sex": sex,
                    "variable": "education",
                    "label": "Utdanning",
                    "level": code,
                    "level_label": lab,
                    "n": sum(counts),
                    "missing": 0,
                    "count": counts[level],
                    "share": counts[level] / sum(counts) if sum(counts) else None,
                }
            )
    return pd.DataFrame(rows)


def _cells(profile, variable, min_cell=5):
    c = pt.baseline_profile_cells(profile, 2024, min_cell)
    return c[c["variable"] == variable][COLS].values.tolist()


def test_profile_layout_and_formats():
    p = _profile(
        {"K": 30, "M": 25, "alle": 55},
        age={"K": (30, 51.84, 15.0), "M": (25, 48.0, 14.26), "alle": (55, 50.1, 14.7)},
        education={"K": [10, 20], "M": [5, 20], "alle": [15, 40]},
    )
    c = pt.baseline_profile_cells(p, 2024)
    assert c.columns.tolist() == ["variable", "level", "group", "label", "K", "M", "alle"]
    assert c["label"].tolist() == [
        "Antall besvarelser",
        "Alder (år), gjennomsnitt (SD)",
        "Grunnskole",
        "Videregående skole",
    ]
    assert _cells(p, "responses") == [["30", "25", "55"]]
    assert _cells(p, "age") == [["51,8 (15,0)", "48,0 (14,3)", "50,1 (14,7)"]]
    assert _cells(p, "education") == [
        [f"10 (33,3{NB}%)", f"5 (20,0{NB}%)", f"15 (27,3{NB}%)"],
        [f"20 (66,7{NB}%)", f"20 (80,0{NB}%)", f"40 (72,7{NB}%)"],
    ]
    assert pt.baseline_profile_cells(p, 2023).empty  # no responses that year


def test_profile_median_variables_show_quartiles():
    p = _profile({"alle": 40})
    p = pd.concat(
        [
            p,
            pd.DataFrame(
                [
                    {
                        "year": "2024",
                        "sex": "alle",
                        "variable": "eq5d_index",
                        "label": "EQ-5D-5L indeks",
                        "n": 40,
                        "median": 0.4,
                        "q1": -0.031,
                        "q3": 0.75,
                    }
                ]
            ),
        ]
    )
    c = pt.baseline_profile_cells(p, 2024).set_index("variable")
    assert c.loc["eq5d_index", "label"] == "EQ-5D-5L indeks, median (kvartiler)"
    assert c.loc["eq5d_index", "alle"] == "0,40 (−0,03 til 0,75)"  # a negative quartile: no dash beside a minus


def test_profile_category_count_4_is_hidden_with_secondary_suppression_and_5_is_not():
    small = _profile({"K": 23, "M": 22, "alle": 45}, education={"K": [4, 19], "M": [10, 12], "alle": [14, 31]})
    # K: 4 hidden; its column sum (n = 23) would reveal it, so 19 goes too; across the row
    # (K + M = alle) each hidden K count takes the smallest other count, M's.
    assert _cells(small, "education") == [["×", "×", f"14 (31,1{NB}%)"], ["×", "×", f"31 (68,9{NB}%)"]]
    ok = _profile({"K": 24, "M": 22, "alle": 46}, education={"K": [5, 19], "M": [10, 12], "alle": [15, 31]})
    assert _cells(ok, "education")[0] == [f"5 (20,8{NB}%)", f"10 (45,5{NB}%)", f"15 (32,6{NB}%)"]


def test_profile_zero_counts_are_shown_and_hide_nothing():
    p = _profile({"K": 20, "M": 22, "alle": 42}, education={"K": [0, 20], "M": [10, 12], "alle": [10, 32]})
    assert _cells(p, "education")[0] == [f"0 (0,0{NB}%)", f"10 (45,5{NB}%)", f"10 (23,8{NB}%)"]


def test_profile_small_column_shows_only_its_count():
    p = _profile(
        {"K": 4, "M": 30, "alle": 34},
        age={"K": (4, 50.0, 3.0), "M": (30, 48.0, 14.0), "alle": (34, 48.2, 13.5)},
        education={"K": [1, 3], "M": [10, 20], "alle": [11, 23]},
    )
    assert _cells(p, "responses") == [["×", "×", "34"]]  # M would reveal K by subtraction from Alle
    assert _cells(p, "age") == [["–", "48,0 (14,0)", "48,2 (13,5)"]]
    assert [row[0] for row in _cells(p, "education")] == ["–", "–"]
    assert _cells(p, "education")[0][1:] == ["×", f"11 (32,4{NB}%)"]


def test_profile_mean_hidden_when_fewer_than_min_cell_answered():
    p = _profile(
        {"K": 30, "M": 25, "alle": 55}, age={"K": (4, 50.0, 3.0), "M": (5, 48.0, 14.0), "alle": (9, 48.9, 10.0)}
    )
    assert _cells(p, "age") == [["–", "48,0 (14,0)", "48,9 (10,0)"]]
    assert _cells(p, "age", min_cell=1) == [["50,0 (3,0)", "48,0 (14,0)", "48,9 (10,0)"]]


def _rates(n, improved):
    return pd.DataFrame(
        {
            "treatment": "rf",
            "kind": ["rf_3m", "rf_12m"],
            "indicator": "nrs_improved_30",
            "n": [n, 40],
            "improved": [improved, 20],
            "share": [improved / n, 0.5],
            "share_ci_low": [0.05, 0.35],
            "share_ci_high": [0.6, 0.65],
        }
    )


@pytest.mark.parametrize(
    ("n", "improved", "expected"),
    [
        (20, 4, ["20", "×", "–", "–"]),  # improved small: hidden with its share
        (20, 5, ["20", "5", f"25,0{NB}%", f"5,0–60,0{NB}%"]),
        (20, 16, ["20", "×", "–", "–"]),  # 4 not improved: the share would reveal them
        (20, 15, ["20", "15", f"75,0{NB}%", f"5,0–60,0{NB}%"]),
        (3, 0, ["×", "0", "–", "–"]),  # 3 not improved: n hidden too
    ],
)
def test_improvement_cells_suppress_improved_and_not_improved(n, improved, expected):
    c = pt.improvement_cells(_rates(n, improved))
    assert c.columns.tolist() == ["indicator", "kind", "group", "label", "n", "improved", "share", "share_ci"]
    assert c.iloc[0, 4:].tolist() == expected
    assert c.iloc[1, 2:].tolist() == [
        "≥ 30 % lavere gjennomsnittlig smerte (NRS)",
        "RF, 12 måneder",
        "40",
        "20",
        f"50,0{NB}%",
        f"35,0–65,0{NB}%",
    ]


def test_change_summary_cells_hide_rows_below_min_cell():
    s = pd.DataFrame(
        {
            "treatment": "rf",
            "kind": ["rf_3m", "rf_12m", "rf_12m", "rf_6m"],
            "score": ["nrs_avg", "nrs_avg", "eq5d_index", "nrs_worst"],
            "n": [4, 5, 30, 50],
            "baseline_mean": [6.0, 6.04, 0.412, 5.0],
            "followup_mean": [4.0, 4.5, 0.55, 4.0],
            "change_mean": [-2.0, -1.54, 0.138, -1.0],
            "change_ci_low": [-3.0, -2.55, 0.05, -2.0],
            "change_ci_high": [-1.0, -0.5, 0.226, 0.0],
        }
    )
    c = pt.change_summary_cells(s)
    assert c["score"].tolist() == ["nrs_avg", "nrs_avg", "eq5d_index"]  # nrs_worst is not in the table
    assert c.iloc[0, 4:].tolist() == ["×", "–", "–", "–", "–"]
    assert c.iloc[1, 4:].tolist() == ["5", "6,0", "4,5", "−1,5", "−2,5 til −0,5"]
    assert c.iloc[2, 2:].tolist() == ["EQ-5D-5L indeks", "RF, 12 måneder", "30", "0,41", "0,55", "0,14", "0,05–0,23"]


def _model(n, events):
    return pd.DataFrame(
        {
            "term": ["Intercept", "age_10", "nrs_avg"],
            "label": ["Konstantledd", "Alder (per 10 år)", "NRS (per poeng)"],
            "estimate": [0.0, 0.3, -0.1],
            "std_error": [0.1, 0.03, 0.02],
            "odds_ratio": [1.0, 1.3456, 0.9],
            "ci_low": [0.8, 1.28, 0.854],
            "ci_high": [1.2, 1.48, 0.949],
            "p_value": [0.5, 1e-9, 0.0342],
            "n": n,
            "events": events,
        }
    )


def test_nonresponse_model_cells_and_guard():
    # 2 terms: both outcomes need at least 2 x 10 rows.
    c = pt.nonresponse_model_cells(_model(100, 20))
    assert c.values.tolist() == [
        ["age_10", "Alder (per 10 år)", "1,35", "1,28–1,48", "< 0,001"],
        ["nrs_avg", "NRS (per poeng)", "0,90", "0,85–0,95", "0,034"],
    ]
    assert pt.nonresponse_model_cells(_model(100, 19)).empty  # too few answered
    assert pt.nonresponse_model_cells(_model(100, 81)).empty  # too few unanswered
    assert not pt.nonresponse_model_cells(_model(100, 80)).empty
    assert pt.nonresponse_model_table(_model(100, 19)) is None
    assert "100 oppfølginger" in pt.nonresponse_model_table(_model(100, 80)).as_raw_html()


def test_tables_render_with_source_notes():
    p = _profile({"K": 30, "M": 25, "alle": 55}, education={"K": [10, 20], "M": [5, 20], "alle": [15, 40]})
    html = pt.baseline_profile_table(p, 2024).as_raw_html()
    assert "Kvinner" in html and "Alle" in html and "opr-prom_baseline_profile" in html and "«×»" in html
    assert "opr-prom_improvement" in pt.improvement_table(_rates(20, 5)).as_raw_html()
