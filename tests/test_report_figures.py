"""Figures from stand-in tidy frames: they build, draw, and label axes the Norwegian way."""

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402
import pytest  # noqa: E402

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


@pytest.fixture(scope="module")
def figures_registry(tmp_path_factory):
    """A small synthetic registry with three units and questionnaire answers (every report figure has data)."""
    import opr_analysis
    from opr_analysis.synth.registry import write_tables
    from opr_analysis.synth.units import synthesize_units

    folder = tmp_path_factory.mktemp("figures") / "extract"
    write_tables(synthesize_units(3, seed=5, scale=0.3, years=(2021, 2024)), folder)
    return opr_analysis.load_extract(folder)


def _report_figures(reg) -> dict:
    """Every figure of the report (and of a unit report) as the notebook makes it."""
    import datetime as dt

    import opr_analysis
    from opr_analysis import proms
    from opr_analysis.report import indicator_report, prom_figures
    from opr_analysis.report.suppression import small_share

    as_of = dt.date(2025, 3, 1)
    t = opr_analysis.compute_tables(reg, as_of=as_of)
    fu, patient_level = t["followup_response"], t["baseline_response_patient_level"]
    rates = proms.improvement_rates(reg, as_of=as_of, window=(2022, 2024))
    plots = {
        "region": figures.referrals_by_region_figure(t["referrals_by_region"], last_year=2024),
        "baseline": figures.share_figure(
            patient_level,
            "response_share",
            hidden=small_share(patient_level, "enrolments_with_baseline", "enrolments", 5),
            last_year=2024,
        ),
        "completion": figures.completion_time_figure(reg.baseline_responses, t["completion_time"], "alle"),
        "followup": figures.share_figure(
            fu, "response_share_settled", colour="kind", colour_labels=figures.followup_kind_labels(), last_year=2024
        ),
        "improvement": prom_figures.improvement_figure(rates[rates["n"] > 0]),
    }
    view = indicator_report.unit_view(reg, as_of=as_of)
    unit = indicator_report.unit_view(reg, "u2", as_of=as_of)
    plots |= {
        "funnel": indicator_report.funnel_figure(view, 2024, 1),
        "trend": indicator_report.trend_figure(view, 1, last_year=2024),
        "unit funnel": indicator_report.funnel_figure(unit, 2024, 1),
        "unit trend": indicator_report.trend_figure(unit, 1, last_year=2024),
    }
    return plots


@pytest.mark.slow
def test_every_report_figure_fits_its_size_without_clipped_or_overlapping_text(figures_registry):
    """Legends, panel titles and labels stay inside the figure and apart at the size the report prints it
    (Figur 4's legend was cut at «… avsluttet beha», the funnel's panel titles overlapped and were clipped,
    the trend figure's row titles ran off the right edge)."""
    from helpers import figure_text_problems

    from opr_analysis.report.display import figure_size
    from opr_analysis.report.theme import FIGURE_SIZE, MAX_FIGURE_HEIGHT

    plots = _report_figures(figures_registry)
    assert all(p is not None for p in plots.values())
    for name, plot in plots.items():
        width, height = figure_size(plot)
        assert width == FIGURE_SIZE[0] and height <= MAX_FIGURE_HEIGHT, name
        assert figure_text_problems(plot) == [], name
    # the 8 share indicators: 4 rows of two panels, taller than a one-panel figure
    assert figure_size(plots["funnel"])[1] > 2 * FIGURE_SIZE[1]
    years = plots["trend"].data["year"]
    assert years.max() == 2024  # the trend stops at the report year


def test_legend_columns_and_wrapped_panel_titles_fit_the_width():
    from opr_analysis.report.theme import FIGURE_SIZE, legend_columns, text_width, wrap_labels

    labels = ["RF, 3 måneder", "SCS, 12 måneder", "12 måneder etter avsluttet behandling"]
    ncol = legend_columns(labels)
    assert ncol * (0.35 + text_width(labels[-1])) <= FIGURE_SIZE[0] < (ncol + 1) * (0.35 + text_width(labels[-1]))
    wrapped = wrap_labels(20)("Svar på oppfølging 12 måneder etter avsluttet behandling").split("\n")
    assert len(wrapped) == 3 and max(map(len, wrapped)) <= 20
