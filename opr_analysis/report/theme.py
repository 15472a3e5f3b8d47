"""The report's plotnine house theme and Norwegian axis labels (decimal comma).

Every figure uses :func:`theme_opr` and, for its numeric axes, one of the
label functions below, so that axes read ``0,5`` / ``40 %`` / ``1 200``.

Sizes are inches. Every figure is :data:`FIGURE_SIZE` wide (the text width of
the A4 PDF and Word page is 6,4 in) and as tall as it needs, at most
:data:`MAX_FIGURE_HEIGHT`; :mod:`.display` stores it at exactly that size, so
its text has the same size in every format. Whatever must fit inside that width
is sized for it here: a legend gets as many columns as fit
(:func:`legend_columns`), facet titles wrap (:func:`wrap_labels`), facet panels
keep a gap so that the edge labels of neighbouring panels never touch.

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
FIGURE_SIZE = (6.0, 3.4)  # inches; within the A4 text width (6,4 in); quarto_report.yaml says the same
MAX_FIGURE_HEIGHT = 8.0  # a full A4 text page is about 9,7 in high; leave room for the caption
BASE_SIZE = 10
LEGEND_TEXT_SIZE = BASE_SIZE * 0.8  # theme_minimal's legend text is rel(0.8)
PANEL_SPACING = 0.25  # inches between facet panels (plotnine takes a fraction of the figure width)

__all__ = [
    "PALETTE",
    "FIGURE_SIZE",
    "MAX_FIGURE_HEIGHT",
    "theme_opr",
    "label_num",
    "label_int",
    "label_pct",
    "legend_columns",
    "text_width",
    "wrap_labels",
    "label_number",
]


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
        panel_spacing_x=PANEL_SPACING / FIGURE_SIZE[0],
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


def text_width(text: str, size: float = LEGEND_TEXT_SIZE) -> float:
    """Width of ``text`` in inches at ``size`` points (DejaVu Sans, about 0,6 em per character).

    >>> round(text_width("RF, 3 måneder", 8), 2)
    0.87
    """
    return len(text) * 0.6 * size / 72


def legend_columns(labels, width: float = FIGURE_SIZE[0], size: float = LEGEND_TEXT_SIZE) -> int:
    """How many legend columns of ``labels`` fit side by side in ``width`` inches (at least 1).

    Each entry is its key (about 0,35 in) and the widest label.

    >>> legend_columns(["RF, 3 måneder", "12 måneder etter avsluttet behandling", "SCS, 6 måneder"])
    2
    >>> legend_columns(["Lokal", "Regional", "Nasjonal"])
    3
    """
    labels = [str(label) for label in labels]
    if not labels:
        return 1
    entry = 0.35 + max(text_width(label, size) for label in labels)
    return max(1, min(len(labels), int((width - 0.2) // entry)))


def wrap_labels(width_chars: int) -> Callable[[str], str]:
    """A labeller that wraps facet titles at ``width_chars`` characters.

    >>> wrap_labels(20)("Svar på oppfølging 12 måneder etter avsluttet behandling")
    'Svar på oppfølging\\n12 måneder etter\\navsluttet behandling'
    """
    import textwrap

    return lambda text: "\n".join(textwrap.wrap(str(text), width_chars)) or str(text)
