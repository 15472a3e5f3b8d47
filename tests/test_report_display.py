"""Figures as the report shows them: PNG sized in inches, Norwegian alt text; typography that does not break."""

import io

import pandas as pd
from PIL import Image

from opr_analysis.report import figures
from opr_analysis.report.display import CSS_PX_PER_INCH, alt_text, figure_bundle
from opr_analysis.report.theme import FIGURE_SIZE
from opr_analysis.report.typography import tie


def _shares():
    return pd.DataFrame(
        {
            "year": [2022, 2023, 2022, 2023],
            "kind": ["rf_3m", "rf_3m", "scs_6m", "scs_6m"],
            "response_share": [0.5, 0.6, 0.4, 0.45],
            "response_share_ci_low": [0.4, 0.5, 0.3, 0.35],
            "response_share_ci_high": [0.6, 0.7, 0.5, 0.55],
        }
    )


def test_bundle_is_sized_in_inches_for_the_text_width():
    plot = figures.share_figure(_shares(), "response_share", colour="kind", y_label="Svarandel (95 % KI)")
    data, meta = figure_bundle(plot, dpi=100)
    width, height = FIGURE_SIZE
    assert meta["image/png"]["width"] == round(width * CSS_PX_PER_INCH) <= 6.3 * CSS_PX_PER_INCH
    assert meta["image/png"]["height"] == round(height * CSS_PX_PER_INCH)
    assert Image.open(io.BytesIO(data["image/png"])).size == (round(width * 100), round(height * 100))


def test_alt_text_describes_the_figure_in_norwegian():
    labels = {"rf_3m": "RF, 3 måneder", "scs_6m": "SCS, 6 måneder"}
    plot = figures.share_figure(_shares(), "response_share", colour="kind", colour_labels=labels, y_label="Svarandel")
    assert alt_text(plot) == (
        "Punktdiagram med konfidensintervaller: Svarandel etter år, 2022–2023, "
        "én serie for hver av RF, 3 måneder og SCS, 6 måneder."
    )


def test_numbers_units_and_intervals_do_not_break():
    assert tie("39,3 % (95 % KI 27,0–39,0 %)") == "39,3\u00a0% (95\u00a0%\u00a0KI 27,0\u2060–\u206039,0\u00a0%)"
    assert tie("etter 12 måneder, 3 år og 2 minutter") == "etter 12\u00a0måneder, 3\u00a0år og 2\u00a0minutter"
    assert tie("2021 – 2023") == "2021\u2060–\u20602023"
    assert tie("Tabell 3 viser 10 årsaker") == "Tabell 3 viser 10 årsaker"  # «årsaker» is not the unit «år»
