from __future__ import annotations

import pandas as pd

from opr_analysis.report import prom_figures


def test_odds_ratio_figure_leaves_out_intercept_and_keeps_table_order():
    table = pd.DataFrame(
        {
            "term": ["Intercept", "a", "b"],
            "label": ["Konstantledd", "A", "B"],
            "odds_ratio": [0.5, 1.2, 0.8],
            "ci_low": [0.4, 1.0, 0.6],
            "ci_high": [0.6, 1.4, 1.0],
        }
    )
    fig = prom_figures.odds_ratio_figure(table)
    assert list(fig.data["term"]) == ["a", "b"]
    assert list(fig.data["label"].cat.categories) == ["B", "A"]  # first term on top after coord_flip
    fig.draw()


def test_improvement_figure_drops_empty_groups_and_labels_in_norwegian():
    rates = pd.DataFrame(
        {
            "treatment": ["rf", "scs"],
            "kind": ["rf_3m", "scs_3m"],
            "indicator": ["pgic_improved"] * 2,
            "n": [4, 0],
            "improved": [2, 0],
            "share": [0.5, float("nan")],
            "share_ci_low": [0.15, float("nan")],
            "share_ci_high": [0.85, float("nan")],
        }
    )
    fig = prom_figures.improvement_figure(rates)
    assert list(fig.data["kind"]) == ["rf_3m"]
    assert list(fig.data["behandling"]) == ["Radiofrekvensbehandling"]
    fig.draw()
