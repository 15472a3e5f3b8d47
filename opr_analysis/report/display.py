"""How the report's figures appear in the notebook: a PNG sized in inches, with a Norwegian alt text.

Rules:

- Every figure is drawn at the size its theme asks for (``figure_size``;
  :data:`~opr_analysis.report.theme.FIGURE_SIZE` unless a figure with more
  panels asks for more height), no wider than ``FIGURE_SIZE`` (the A4 text
  width) and no taller than :data:`~opr_analysis.report.theme.MAX_FIGURE_HEIGHT`,
  and stored as a PNG at ``dpi``. The output's display metadata gives width and
  height in CSS pixels at 96 per inch, so Quarto places it at exactly that many
  inches in Typst and Word, and HTML shows it at the column width (never wider):
  text and legends fit in every format as they fit in the PNG.
  ``quarto_report.yaml``'s ``fig-width``/``fig-height`` state the default size
  (a test keeps them equal).
- The metadata carries an ``alt`` text written from the figure's own content
  (kind of marks, axes, series, panels, years), in Norwegian. nbconvert puts it
  in ``<img alt>``; the pipeline copies it to ``#| fig-alt`` for Quarto.
- No JavaScript or HTML output is produced, so Quarto adds no require.js/jQuery.

:func:`install_figure_display` registers this for every ``ggplot`` shown in
the running IPython kernel (the report notebook calls it once).

>>> import pandas as pd
>>> from plotnine import aes, geom_line, ggplot, labs
>>> df = pd.DataFrame({"year": [2022, 2023], "n": [3, 4], "region": ["Lokal", "Nasjonal"]})
>>> alt_text(ggplot(df, aes("year", "n", color="region")) + geom_line() + labs(x="År", y="Antall"))
'Linjediagram: Antall etter år, 2022–2023, én serie for hver av Lokal og Nasjonal.'
"""

from __future__ import annotations

import io

import pandas as pd

from .theme import FIGURE_SIZE, MAX_FIGURE_HEIGHT

__all__ = ["CSS_PX_PER_INCH", "alt_text", "figure_bundle", "figure_size", "install_figure_display"]

CSS_PX_PER_INCH = 96
GEOM_WORDS = {
    "geom_line": "Linjediagram",
    "geom_point": "Punktdiagram",
    "geom_errorbar": "konfidensintervaller",
    "geom_pointrange": "Punktdiagram med intervaller",
    "geom_histogram": "Histogram",
    "geom_col": "Stolpediagram",
    "geom_bar": "Stolpediagram",
    "geom_vline": "loddrette markeringer",
    "geom_hline": "vannrette markeringer",
    "geom_text": "tekst",
    "geom_step": "Trappediagram",  # a survival curve (issue 27)
}


def _join(words: list[str]) -> str:
    sep = "; " if any("," in w for w in words) else ", "  # «RF, 3 måneder; RF, 6 måneder og …»
    return words[0] if len(words) == 1 else sep.join(words[:-1]) + " og " + words[-1]


def _levels(data: pd.DataFrame, column: str | None) -> list[str]:
    if not column or not isinstance(data, pd.DataFrame) or column not in data.columns:
        return []
    values = data[column].dropna()
    cats = list(values.cat.categories) if isinstance(values.dtype, pd.CategoricalDtype) else sorted(values.unique())
    present = set(values.astype(str))
    return [str(c) for c in cats if str(c) in present]


def alt_text(plot) -> str:
    """A Norwegian description of ``plot`` built from its layers, labels, series and data."""
    geoms = [type(layer.geom).__name__ for layer in plot.layers]
    main = [GEOM_WORDS[g] for g in geoms if g in GEOM_WORDS and GEOM_WORDS[g][0].isupper()]
    extra = [GEOM_WORDS[g] for g in geoms if g in GEOM_WORDS and GEOM_WORDS[g][0].islower() and g != "geom_text"]
    kind = main[0] if main else "Diagram"
    if extra:
        kind += " med " + _join(list(dict.fromkeys(extra)))
    labels = plot.labels
    x_label, y_label = getattr(labels, "x", None), getattr(labels, "y", None)
    text = kind + ": "
    text += f"{y_label} etter {x_label[0].lower() + x_label[1:]}" if y_label and x_label else (y_label or x_label or "")
    data = plot.data
    x_col = plot.mapping.get("x") if hasattr(plot.mapping, "get") else None
    if isinstance(x_col, str) and isinstance(data, pd.DataFrame) and x_col == "year" and len(data):
        years = sorted({int(y) for y in data["year"].dropna()})
        text += f", {years[0]}–{years[-1]}" if len(years) > 1 else f", {years[0]}"
    colour = plot.mapping.get("color") or plot.mapping.get("colour") if hasattr(plot.mapping, "get") else None
    series = _levels(data, colour if isinstance(colour, str) else None)
    if len(series) > 1:
        text += f", én serie for hver av {_join(series)}"
    facets = getattr(plot.facet, "vars", None) or ()
    panels = [lv for f in facets for lv in _levels(data, f)]
    if len(panels) > 1:
        text += f", ett panel for hver av {_join(panels)}"
    if isinstance(data, pd.DataFrame) and data.empty:
        text += " (ingen data å vise)"
    return text.rstrip(": ") + "."


def figure_size(plot) -> tuple[float, float]:
    """The size ``plot`` is stored at: its theme's ``figure_size`` within the page (module docstring).

    >>> from plotnine import ggplot, theme
    >>> from opr_analysis.report.theme import theme_opr
    >>> figure_size(ggplot() + theme_opr()), figure_size(ggplot() + theme_opr() + theme(figure_size=(8, 12)))
    ((6.0, 3.4), (6.0, 8.0))
    """
    try:
        width, height = plot.theme.getp("figure_size")
    except (AttributeError, KeyError, TypeError, ValueError):
        width, height = FIGURE_SIZE
    return min(float(width), FIGURE_SIZE[0]), min(float(height), MAX_FIGURE_HEIGHT)


def figure_bundle(plot, dpi: int = 150) -> tuple[dict, dict]:
    """The (data, metadata) display bundle of ``plot``: PNG at ``dpi``, size and alt in metadata.

    The PNG is the one ``plot.save`` writes, byte for byte, drawn once instead of twice: matplotlib's
    ``savefig`` draws a figure that has a layout engine (plotnine's) once without rendering to lay it out,
    then again to render it; the Agg canvas's ``print_png`` lays it out and renders it in one draw
    (about a third of the figure's saving time; the report draws 7 to 9 figures).
    """
    import matplotlib as mpl
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from plotnine import theme

    width, height = figure_size(plot)
    buf = io.BytesIO()
    sized = plot + theme(figure_size=(width, height), dpi=dpi)
    # plotnine's own save: the figure from save_helper, saved under the theme's rcParams
    figure = sized.save_helper(format="png", dpi=dpi, verbose=False).figure
    with mpl.rc_context(sized.theme.rcParams):
        if mpl.rcParams["savefig.bbox"] == "tight" or mpl.rcParams["savefig.transparent"]:
            figure.savefig(buf, format="png")  # what print_png alone would not do
        else:
            FigureCanvasAgg(figure).print_png(buf)
    meta = {
        "width": round(width * CSS_PX_PER_INCH),
        "height": round(height * CSS_PX_PER_INCH),
        "alt": alt_text(plot),
    }
    return {"image/png": buf.getvalue()}, {"image/png": meta}


def install_figure_display(dpi: int = 150) -> None:
    """Show every ``ggplot`` in this IPython kernel through :func:`figure_bundle`."""
    from IPython import get_ipython
    from IPython.display import display
    from plotnine import ggplot

    ip = get_ipython()
    if ip is None:
        return

    def show(plot) -> None:
        data, meta = figure_bundle(plot, dpi)
        display(data, metadata=meta, raw=True)

    ip.display_formatter.ipython_display_formatter.for_type(ggplot, show)
