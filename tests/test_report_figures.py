"""Figures from stand-in tidy frames: they build, draw, and label axes the Norwegian way."""

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402

from opr_analysis.report import figures, theme  # noqa: E402


def test_axis_labels_use_decimal_comma():
    assert theme.label_num(1)([0.5, 12.25]) == ["0,5", "12,2"]
    assert theme.label_pct()([0.25, 1.0]) == ["25\u00a0%", "100\u00a0%"]
    assert theme.label_int()([1200.0]) == ["1\u00a0200"]


def test_completion_time_marks_the_quartiles():
    responses = pd.DataFrame(
        {
            "submitted_at": pd.to_datetime(["2023-01-05", "2023-03-01", "2024-02-02"]),
            "duration_ms": pd.array([600_000, 1_800_000, 3_600_000], dtype="Int64"),
        }
    )
    completion = pd.DataFrame(
        {
            "period": ["2023", "alle"],
            "n": [2, 3],
            "min_ms": [600_000] * 2,
            "q1_ms": [900_000, 1_200_000],
            "median_ms": [1_200_000, 1_800_000],
            "q3_ms": [1_500_000, 2_700_000],
            "max_ms": [1_800_000, 3_600_000],
        }
    )
    p = figures.completion_time_figure(responses, completion, "alle")
    vline = next(layer for layer in p.layers if type(layer.geom).__name__ == "geom_vline")
    assert vline.geom.data["minutes"].tolist() == [20.0, 30.0, 45.0]
    # the quartiles are named with their times in the legend, never as labels that could overlap
    assert vline.geom.data["quartile"].astype(str).tolist() == [
        "1. kvartil: 00:20:00",
        "Median: 00:30:00",
        "3. kvartil: 00:45:00",
    ]
    assert not [layer for layer in p.layers if type(layer.geom).__name__ in ("geom_text", "geom_label")]
    p2023 = figures.completion_time_figure(responses, completion, "2023")
    assert len(p2023.data) == 2
    p.draw()


def test_region_figure_through_report_year():
    rows = [
        {"year": y, "decision": d, "region": r, "n": 10 * y % 7 + 1, "share": 0.3}
        for y in (2021, 2022, 2023)
        for d in ("rett", "avvist")
        for r in ("lokal", "regional", "nasjonal", "annet_blank")
    ]
    p = figures.referrals_by_region_figure(pd.DataFrame(rows), last_year=2022)
    assert sorted(p.data["year"].unique()) == [2021, 2022]
    assert set(p.data["region"].astype(str)) == {"Lokal", "Regional", "Nasjonal", "«Annet» og blanke"}
    p.draw()


def test_share_figure_drops_hidden_and_undefined_rows():
    fu = pd.DataFrame(
        {
            "year": [2022, 2022, 2023, 2023],
            "kind": ["rf_3m", "scs_3m", "rf_3m", "scs_3m"],
            "response_share": [0.4, 0.5, pd.NA, 0.3],
            "response_share_ci_low": [0.3, 0.2, pd.NA, 0.1],
            "response_share_ci_high": [0.5, 0.8, pd.NA, 0.6],
        }
    )
    hidden = pd.Series([False, True, False, False])
    p = figures.share_figure(
        fu, "response_share", colour="kind", colour_labels=figures.followup_kind_labels(), hidden=hidden
    )
    assert p.data["kind"].astype(str).tolist() == ["RF, 3 måneder", "SCS, 3 måneder"]
    assert p.data["year"].tolist() == [2022, 2023]
    p.draw()
