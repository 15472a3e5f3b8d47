"""The report's plotnine house theme and Norwegian axis labels (decimal comma).

Every figure uses :func:`theme_opr` and, for its numeric axes, one of the
label functions below, so that axes read ``0,5`` / ``40 %`` / ``1 200``.

>>> label_pct()([0.25, 0.5]) == ["25\\u00a0%", "50\\u00a0%"]
True
>>> label_num(1)([0.5, 1.25])
['0,5', '1,2']
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from plotnine import element_blank, element_line, element_text, theme, theme_minimal

from ..formatting import fmt_int, fmt_num, fmt_pct

# Colour-blind-safe palette (Okabe–Ito), in the order series are drawn.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
FIGURE_SIZE = (6.0, 3.4)  # inches; the A4 text width of the PDF (6,3 in); _quarto.yml says the same
BASE_SIZE = 10

__all__ = ["PALETTE", "FIGURE_SIZE", "theme_opr", "label_num", "label_int", "label_pct", "label_number"]


def theme_opr(base_size: int = BASE_SIZE) -> theme:
    """The house theme: minimal, light horizontal grid, legend below."""
    return theme_minimal(base_size=base_size) + theme(
        figure_size=FIGURE_SIZE,
        panel_grid_minor=element_blank(),
        panel_grid_major_x=element_blank(),
        panel_grid_major_y=element_line(color="#d9d9d9", size=0.4),
        axis_line_x=element_line(color="#4d4d4d", size=0.5),
        axis_ticks_major_x=element_line(color="#4d4d4d"),
        legend_position="bottom",
        legend_title=element_blank(),
        strip_text=element_text(weight="bold"),
        plot_title=element_text(weight="bold", size=base_size + 1),
    )


def label_num(decimals: int = 1) -> Callable[[Sequence[float]], list[str]]:
    """Axis labels with a decimal comma and ``decimals`` decimals."""
    return lambda breaks: [fmt_num(b, decimals) for b in breaks]


def label_int() -> Callable[[Sequence[float]], list[str]]:
    """Axis labels as whole numbers with no-break-space thousands."""
    return lambda breaks: [fmt_int(round(b)) for b in breaks]


def label_pct(decimals: int = 0) -> Callable[[Sequence[float]], list[str]]:
    """Axis labels for fractions 0–1 as Norwegian percentages."""
    return lambda breaks: [fmt_pct(b, decimals) for b in breaks]


def label_number(breaks: Sequence[float]) -> list[str]:
    """Decimal-comma labels: whole numbers without decimals, others with as few as needed (max 2).

    >>> label_number([0.5, 1.0, 0.25, -0.5])
    ['0,5', '1', '0,25', '−0,5']
    """
    return [fmt_num(b, 0 if float(b).is_integer() else (1 if round(b, 1) == b else 2)) for b in breaks]
