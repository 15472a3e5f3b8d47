"""The report's quality-indicator chapter and the per-unit report (issue 16).

- :func:`unit_view`: the registry as the report shows it: the whole extract, or
  one unit's part of it (``opr report --unit ID``), plus the indicator results
  of the whole extract (so a unit's numbers always have the registry total beside them).
- :func:`indicator_cells` / :func:`indicator_table`: one row per indicator, a
  column per unit and «Hele registeret»; each value carries its target level as
  a symbol (▲ high, ■ moderate, ▼ low, – too few cases) and a background colour,
  so the table reads in black and white too.
- :func:`funnel_figure`: per share indicator, units' shares against their
  denominators with 95 % and 99,8 % limits around the registry mean
  (:mod:`opr_analysis.indicators.funnel`; the facet title says «justert» where
  the limits were widened for overdispersion).
- :func:`trend_figure`: small multiples, one panel per indicator, share per year,
  one line per unit and one for the whole registry.

Both figures are the text width wide, two panels side by side with their titles
wrapped to fit, and as tall as their rows of panels need
(:mod:`opr_analysis.report.theme`).

Small numbers follow the report's rule (:mod:`.suppression`), for every report of
the extract at once (:mod:`.unit_disclosure`, :meth:`UnitView.disclosure`): the
numerator and denominator of each unit-year are patient counts, tied to the
registry total (the sum of the units) and to the tables that count the same
cases (the follow-up table, the baseline table per enrolment). A hidden value
shows «×» in the table and is left out of the funnel plot and the trend figure;
the funnel plot's axis reaches only as far as the points it shows, and an
indicator whose registry total is hidden gets no funnel. The registry mean and
the limits are computed from every unit. The chapter is shown only when the
extract has more than one unit, or for a unit report (a one-unit extract's report
is unchanged).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from great_tables import GT, loc, style
from plotnine import (
    aes,
    facet_wrap,
    geom_hline,
    geom_line,
    geom_point,
    ggplot,
    guide_legend,
    guides,
    labs,
    scale_color_manual,
    scale_linetype_manual,
    scale_shape_manual,
    scale_x_continuous,
    scale_y_continuous,
    theme,
)

from ..extract.units import for_unit, unit_table
from ..formatting import MISSING, fmt_int, fmt_num, fmt_pct
from ..indicators import LEVELS, TOTAL, indicator_results, load_definitions
from ..indicators.compute import TOTAL_NAME, start_year
from ..indicators.funnel import LEVELS as FUNNEL_LEVELS
from ..indicators.funnel import funnel_limits
from ..safety.markup import escape
from .suppression import DEFAULT_MIN_CELL, suppressed_label
from .theme import FIGURE_SIZE, PALETTE, label_pct, legend_columns, theme_opr, wrap_labels
from .unit_disclosure import (
    change_disclosure,
    disclose,
    improvement_disclosure,
    model_disclosure,
    profile_disclosure,
    response_key,
)

#: Background colours of the target levels (light, so black text stays readable).
LEVEL_COLOURS = {"green": "#cfe8d5", "yellow": "#fbeec1", "red": "#f4c7c3", "too_few": "#ffffff"}
STUB = "Indikator"


@dataclass
class UnitView:
    """What the report shows: ``reg`` (one unit's part, or all), the units, the indicator results."""

    reg_all: object
    reg: object
    unit: str | None
    units: pd.DataFrame
    results: pd.DataFrame
    definitions: dict
    as_of: object = None
    # The view this one was narrowed from (:func:`select`, which keeps the unit). The *_hidden methods return
    # the source's entry for the source's unit, so a view narrowed to another unit must not name a source.
    source: UnitView | None = None
    _disclosures: dict = field(default_factory=dict, repr=False)

    def disclosure(self, min_cell: int = DEFAULT_MIN_CELL):
        """What every report of the extract hides (:func:`.unit_disclosure.disclose`), computed once per
        ``min_cell`` from the whole extract and every indicator, whatever this view shows."""
        if self.source is not None:
            return self.source.disclosure(min_cell)
        if min_cell not in self._disclosures:
            self._disclosures[min_cell] = disclose(self.reg_all, self.as_of, self.results, self.definitions, min_cell)
        return self._disclosures[min_cell]

    def improvement_hidden(self, min_cell: int = DEFAULT_MIN_CELL, window: tuple[int, int] | None = None):
        """The improvement table's hidden ``n`` and ``improved`` for this view's report, every report of the
        extract suppressed together (:func:`.unit_disclosure.improvement_disclosure`); None with one unit."""
        if self.source is not None:
            return self.source.improvement_hidden(min_cell, window)
        key = ("improvement", min_cell, window)
        if key not in self._disclosures:
            self._disclosures[key] = improvement_disclosure(self.reg_all, self.as_of, window, min_cell)
        return self._disclosures[key].get(self.unit)

    def change_hidden(self, min_cell: int = DEFAULT_MIN_CELL, window: tuple[int, int] | None = None):
        """The change table's hidden rows for this view's report, every report of the extract suppressed together
        (:func:`.unit_disclosure.change_disclosure`); None with one unit."""
        if self.source is not None:
            return self.source.change_hidden(min_cell, window)
        key = ("change", min_cell, window)
        if key not in self._disclosures:
            self._disclosures[key] = change_disclosure(self.reg_all, self.as_of, window, min_cell)
        return self._disclosures[key].get(self.unit)

    def model_counts_hidden(self, min_cell: int = DEFAULT_MIN_CELL, window: tuple[int, int] | None = None) -> bool:
        """Whether this view's report hides the non-response model's counts, every report of the extract
        suppressed together (:func:`.unit_disclosure.model_disclosure`); False with one unit."""
        if self.source is not None:
            return self.source.model_counts_hidden(min_cell, window)
        key = ("model", min_cell, window)
        if key not in self._disclosures:
            self._disclosures[key] = model_disclosure(self.reg_all, self.as_of, window, min_cell)
        return self._disclosures[key].get(self.unit, False)

    def profile_hidden(self, year: int, min_cell: int = DEFAULT_MIN_CELL):
        """The baseline profile's hidden counts of ``year`` for this view's report, every report of the extract
        suppressed together (:func:`.unit_disclosure.profile_disclosure`); None with one unit."""
        if self.source is not None:
            return self.source.profile_hidden(year, min_cell)
        key = ("profile", min_cell, int(year))
        if key not in self._disclosures:
            self._disclosures[key] = profile_disclosure(self.reg_all, year, min_cell)
        return self._disclosures[key].get(self.unit)

    def hidden(self, min_cell: int = DEFAULT_MIN_CELL) -> set:
        """``(unit_id, year, ind_id)`` of the values every report hides."""
        return self.disclosure(min_cell).hidden_indicators()

    @property
    def show(self) -> bool:
        """The indicator chapter is shown for a unit report or an extract with several units."""
        return self.unit is not None or len(self.units) > 1

    @property
    def shown_units(self) -> list[str]:
        return [self.unit] if self.unit else self.units["unit_id"].tolist()

    @property
    def unit_name(self) -> str | None:
        if not self.unit:
            return None
        return str(self.units.set_index("unit_id").at[self.unit, "name"])


def unit_view(reg, unit: str | None = None, as_of=None, definitions_file=None) -> UnitView:
    """The report's view of ``reg`` (module docstring); ``unit`` None = the whole registry."""
    units = unit_table(reg)
    defs = load_definitions(definitions_file)
    multi = unit is not None or len(units) > 1
    results = indicator_results(reg, as_of=as_of, definitions=defs) if multi else pd.DataFrame()
    shown = for_unit(reg, unit) if unit else reg
    return UnitView(reg, shown, unit, units, results, defs, as_of)


def _value_text(ind, value: float) -> str:
    if value != value:
        return MISSING
    return fmt_pct(value) if ind.type == "share" else f"{fmt_num(value, 0 if ind.type == 'median' else 1)} dager"


def _target_text(ind) -> str:
    sign = "≥" if ind.direction == "higher" else "≤"
    fmt = (lambda v: fmt_pct(v, 0)) if ind.type == "share" else (lambda v: f"{fmt_num(v, 0)} dager")
    return f"grønn {sign} {fmt(ind.green)}, gul {sign} {fmt(ind.yellow)}"


def indicator_cells(view: UnitView, year: int, min_cell: int = DEFAULT_MIN_CELL) -> pd.DataFrame:
    """One row per indicator with a result in ``year``: stub, target, per unit «value symbol», the total.

    Hidden values (:meth:`UnitView.hidden`) read «×»; the level of each shown cell is in
    the column ``level:<unit>`` (used for the colours, not displayed), the denominator in ``n:<unit>``
    (not displayed; «×» where hidden).
    """
    hidden = view.hidden(min_cell)
    r = view.results
    r = r[r["year"] == year] if len(r) else r
    names = dict(zip(view.units["unit_id"], view.units["name"]))
    cols = [*view.shown_units, TOTAL]
    rows = []
    for ind in view.definitions.values():
        sub = r[r["ind_id"] == ind.id].set_index("unit_id") if len(r) else pd.DataFrame()
        if sub.empty:
            continue
        row = {STUB: ind.title, "Mål": _target_text(ind)}
        for unit in cols:
            rec = sub.loc[unit]
            label = names.get(unit, TOTAL_NAME)
            if (unit, int(year), ind.id) in hidden:
                row[label], row[f"level:{label}"] = suppressed_label(min_cell), "too_few"
                row[f"n:{label}"] = suppressed_label(min_cell)
            else:
                text = _value_text(ind, rec["value"])
                row[label] = f"{text} {LEVELS[rec['level']][1]}" if text != MISSING else MISSING
                row[f"level:{label}"] = rec["level"]
                row[f"n:{label}"] = fmt_int(int(rec["denominator"]))
        rows.append(row)
        if sub["response_denominator"].notna().any():
            rows.append(_response_row(ind, sub, cols, names, min_cell, hidden, year))
    return pd.DataFrame(rows)


def _response_row(ind, sub: pd.DataFrame, cols: list[str], names: dict, min_cell: int, hidden: set, year) -> dict:
    """The row under an outcome indicator: the share of owed follow-ups answered, per unit (no target level)."""
    row = {STUB: f"– besvart av skyldige oppfølginger ({ind.params.get('months', 12)} mnd.)", "Mål": ""}
    for unit in cols:
        rec = sub.loc[unit]
        label = names.get(unit, TOTAL_NAME)
        if (unit, int(year), response_key(ind.id)) in hidden:
            row[label] = suppressed_label(min_cell)
            row[f"level:{label}"], row[f"n:{label}"] = "response", suppressed_label(min_cell)
            continue
        if pd.isna(rec["response_denominator"]) or not int(rec["response_denominator"]):
            row[label] = MISSING
        else:
            row[label] = fmt_pct(rec["response_share"])
        row[f"level:{label}"] = "response"
        row[f"n:{label}"] = "" if pd.isna(rec["response_denominator"]) else fmt_int(int(rec["response_denominator"]))
    return row


def indicator_table(view: UnitView, year: int, min_cell: int = DEFAULT_MIN_CELL) -> GT:
    """The great-tables table of :func:`indicator_cells`, with level colours and a legend."""
    cells = indicator_cells(view, year, min_cell)
    shown = [c for c in cells.columns if c != STUB and not c.startswith(("level:", "n:"))]
    table = GT(cells[[STUB, *shown]], rowname_col=STUB, id="opr-indikatorer").cols_align("right", columns=shown[1:])
    for col in shown[1:]:
        for level, colour in LEVEL_COLOURS.items():
            rows = cells.index[cells[f"level:{col}"] == level].tolist()
            if rows and level != "too_few":
                table = table.tab_style(style.fill(color=colour), loc.body(columns=col, rows=rows))
    legend = "; ".join(f"{sym} {text.lower()}" for text, sym in LEVELS.values())
    mins = sorted({d.min_denominator for d in view.definitions.values()})
    note = (
        f"Kilde: OUS smerteregister. Måloppnåelse: {legend} (færre enn {', '.join(map(str, mins))} i nevneren). "
        f"Fargen gjentar symbolet. {suppressed_label(min_cell)}: skjult fordi tallet ville vise færre enn "
        f"{min_cell} pasienter."
    )
    if (cells.filter(like="level:") == "response").any().any():
        note += (
            " Under hver utfallsindikator står andelen av de skyldige oppfølgingene (sendt eller ikke, svarfristen "
            "ute) som ble besvart: utfallet gjelder bare dem som svarte, og er ikke justert for forskjeller i "
            "pasientsammensetning mellom enhetene."
        )
    return table.tab_source_note(note).tab_options(table_font_size="90%", quarto_disable_processing=False)


def definitions_markdown(view: UnitView) -> str:
    """Each indicator's Norwegian definition, direction, target levels and minimum denominator."""
    lines = []
    for ind in view.definitions.values():
        better = "høyere er bedre" if ind.direction == "higher" else "lavere er bedre"
        lines.append(  # a registry's own definitions file is data: quoted through the one escaping function
            f"- **{escape(ind.title)}** ({escape(ind.id)}). {escape(ind.long)} Målnivå: {_target_text(ind)} ({better}); "
            f"minst {ind.min_denominator} i nevneren; gjelder fra {start_year(ind)} (første hele år av datakilden)."
        )
    return "\n".join(lines)


def _share_ids(view: UnitView) -> list[str]:
    return [i for i, d in view.definitions.items() if d.type == "share"]


def funnel_data(view: UnitView, year: int, min_cell: int = DEFAULT_MIN_CELL):
    """(points, limits, descriptions) for every share indicator in ``year`` (module docstring).

    The points are the units whose value every report shows (:meth:`UnitView.hidden`); the limits are
    drawn to 10 % beyond the largest denominator shown, so the axis gives no hidden denominator away; an
    indicator with no point shown, or whose registry total is hidden, has no funnel.
    """
    r = view.results
    r = r[(r["year"] == year) & (r["unit_id"] != TOTAL) & r["ind_id"].isin(_share_ids(view))]
    hidden = view.hidden(min_cell)
    points, curves, notes = [], [], {}
    for ind_id, g in r.groupby("ind_id", sort=False):
        g = g[g["denominator"] > 0]
        keep = g[[(u, int(year), ind_id) not in hidden for u in g["unit_id"]]]
        if keep.empty or (TOTAL, int(year), ind_id) in hidden:
            continue
        fl = funnel_limits(g["numerator"].astype(float), g["denominator"].astype(float))
        title = view.definitions[ind_id].title + (" (justert)" if fl.adjusted else "")
        notes[ind_id] = fl.description
        c = fl.curve(float(keep["denominator"].max()) * 1.1).assign(indikator=title, target=fl.target)
        curves.append(c)
        points.append(keep.assign(indikator=title, share=keep["value"].astype(float)))
    if not curves:
        return pd.DataFrame(), pd.DataFrame(), notes
    return pd.concat(points, ignore_index=True), pd.concat(curves, ignore_index=True), notes


#: Panels per row in the indicator figures, the characters a panel title wraps at, and the height per row.
PANEL_COLUMNS = 2
PANEL_TITLE_CHARS = 36
PANEL_HEIGHT = 1.9  # inches, with its (two-line) title and axis


def _panel_layout(n_panels: int) -> theme:
    """Size (inches) for ``n_panels`` panels in rows of :data:`PANEL_COLUMNS`, legend below, with a gap
    between rows so a panel's title never touches the axis labels of the panel above."""
    rows = -(-n_panels // PANEL_COLUMNS)
    height = PANEL_HEIGHT * rows + 1.1
    return theme(figure_size=(FIGURE_SIZE[0], height), panel_spacing_y=0.3 / height)


def funnel_figure(view: UnitView, year: int, min_cell: int = DEFAULT_MIN_CELL) -> ggplot | None:
    """Funnel plots, one facet per share indicator with results in ``year``; None when there is none."""
    points, curves, _ = funnel_data(view, year, min_cell)
    if curves.empty:
        return None
    every = unit_table(view.reg_all)  # every unit is drawn: the limits are about all of them
    names = dict(zip(every["unit_id"], every["name"]))
    points = points.assign(enhet=points["unit_id"].map(names))
    long = pd.concat([curves.assign(limit=curves["low"], side="low"), curves.assign(limit=curves["high"], side="high")])
    long["grense"] = np.where(long["level"] == FUNNEL_LEVELS[0], "95 %", "99,8 %")
    long["group"] = long["grense"] + long["side"]
    means = curves.drop_duplicates("indikator")[["indikator", "target"]]
    return (
        ggplot()
        + geom_line(long, aes("n", "limit", linetype="grense", group="group"), color="#4d4d4d")
        + geom_hline(means, aes(yintercept="target"), color="#000000", size=0.4)
        + geom_point(points, aes("denominator", "share", shape="enhet"), size=2.4, fill="#0072B2")
        + facet_wrap("indikator", scales="free_x", ncol=PANEL_COLUMNS, labeller=wrap_labels(PANEL_TITLE_CHARS))
        + scale_y_continuous(labels=label_pct(), limits=(0, 1))
        + scale_linetype_manual(values={"95 %": "dashed", "99,8 %": "dotted"})
        + scale_shape_manual(values=["o", "s", "^", "D", "v", "P", "X", "*"] * 4)
        + guides(shape=guide_legend(ncol=legend_columns(points["enhet"].dropna().unique())))
        + labs(x="Antall i nevneren", y="Andel")
        + theme_opr(base_size=9)
        + _panel_layout(curves["indikator"].nunique())
    )


def funnel_caption(view: UnitView, year: int, min_cell: int = DEFAULT_MIN_CELL) -> str:
    """Which limits each facet draws, for the text under the figure."""
    _, _, notes = funnel_data(view, year, min_cell)
    if not notes:
        return ""
    adjusted = [view.definitions[i].title for i, n in notes.items() if "justert for" in n]
    base = (
        f"Traktplott for {year}: hver enhets andel mot antallet i nevneren. Den heltrukne linjen er "
        "registersnittet; stiplet og prikket linje er 95 % og 99,8 % kontrollgrenser (eksakte binomiske grenser, "
        "Spiegelhalter 2005)."
    )
    if adjusted:
        base += (
            " Der enhetene varierer mer enn tilfeldighet tilsier, er grensene utvidet med Spiegelhalters additive "
            "tilfeldige effekter (overdispersjon), merket «justert»: " + ", ".join(map(escape, adjusted)) + "."
        )
    else:
        base += " Ingen indikator viste overdispersjon, så grensene er ikke justert."
    return base + (
        " Enheter med skjulte tall (færre enn "
        f"{min_cell} i teller eller resten av nevneren, eller tall som ellers ville avsløre et skjult tall) er "
        "ikke tegnet, og aksen går ikke lenger enn til den største nevneren som vises."
    )


def trend_figure(
    view: UnitView, min_cell: int = DEFAULT_MIN_CELL, indicators: list[str] | None = None, last_year: int | None = None
):
    """Small multiples: share per year through ``last_year``, one panel per indicator, a line per unit
    and one for the whole registry (black)."""
    r = view.results
    ids = indicators or _share_ids(view)
    r = r[r["ind_id"].isin(ids) & r["unit_id"].isin([*view.shown_units, TOTAL]) & (r["denominator"] > 0)]
    if last_year is not None:
        r = r[r["year"] <= int(last_year)]
    hidden = view.hidden(min_cell)
    r = r[[(u, int(y), i) not in hidden for u, y, i in zip(r["unit_id"], r["year"], r["ind_id"], strict=True)]]
    if r.empty:
        return None
    names = {**dict(zip(view.units["unit_id"], view.units["name"])), TOTAL: TOTAL_NAME}
    order = [names[u] for u in [*view.shown_units, TOTAL]]
    titles = [view.definitions[i].title for i in ids]
    data = r.assign(
        enhet=pd.Categorical(r["unit_id"].map(names), categories=order),
        indikator=pd.Categorical(r["ind_id"].map(lambda i: view.definitions[i].title), categories=titles),
        year=r["year"].astype(int),
        share=r["value"].astype(float),
    )
    # a line needs two years; a panel with one shows its point alone (and plotnine stays quiet)
    lines = data[data.groupby(["enhet", "indikator"], observed=True)["year"].transform("size") > 1]
    years = sorted(data["year"].unique())
    colours = {name: PALETTE[i % (len(PALETTE) - 1)] for i, name in enumerate(order[:-1])} | {order[-1]: "#000000"}
    return (
        ggplot(data, aes("year", "share", color="enhet"))
        + geom_line(lines)
        + geom_point(size=1.5)
        + facet_wrap("indikator", ncol=PANEL_COLUMNS, labeller=wrap_labels(PANEL_TITLE_CHARS))
        + scale_y_continuous(labels=label_pct(), limits=(0, 1))
        + scale_x_continuous(breaks=years, labels=[str(y) for y in years])
        + scale_color_manual(values=colours)
        + guides(color=guide_legend(ncol=legend_columns(order)))
        + labs(x="År", y="Andel")
        + theme_opr(base_size=9)
        + _panel_layout(data["indikator"].nunique())
    )


def chapter_markdown(view: UnitView, year: int) -> str:
    """The chapter's heading, what it shows, and every indicator's definition."""
    who = (
        f"Kapitlet viser tallene for {escape(view.unit_name)} med hele registeret ved siden av."
        if view.unit
        else f"Kapitlet sammenligner registerets {len(view.units)} enheter."
    )
    return (
        "# Kvalitetsindikatorer\n\n"
        f"{who} Hver indikator har et målnivå (grønn, gul, rød) og et minste antall i nevneren; under det "
        f"står «for lite datagrunnlag». Tallene for {year} står i @tbl-indikatorer; @fig-traktplott viser hvor "
        "mye enhetene skiller seg fra registersnittet når tilfeldig variasjon er tatt med, og "
        "@fig-indikatortrend viser utviklingen per enhet. Indikatorene og målnivåene er definert i "
        "indicators.yaml og leveres til den nasjonale resultatportalen med `opr indicators`.\n\n"
        "Definisjoner:\n\n" + definitions_markdown(view)
    )


def _parse_years(years) -> list[int] | None:
    if years is None or years == "":
        return None
    if isinstance(years, str):
        first, _, last = years.partition("-")
        return list(range(int(first), int(last or first) + 1))
    return [int(y) for y in years]


def select(view: UnitView, units=None, years=None, indicators=None) -> UnitView:
    """The view narrowed to some units (ids, or a comma-separated string), years ("2022-2024" or a list)
    and indicator ids (for the council's notebook); None keeps everything. The registry total stays."""
    if isinstance(units, str):
        units = [u.strip() for u in units.split(",") if u.strip()]
    if isinstance(indicators, str):
        indicators = [indicators]
    unknown = sorted(set(units or []) - set(view.units["unit_id"])) + sorted(
        set(indicators or []) - set(view.definitions)
    )
    if unknown:
        from ..errors import UsageError

        raise UsageError(f"ukjent enhet eller indikator: {', '.join(unknown)}")
    r = view.results
    keep_years = _parse_years(years)
    if keep_years is not None:
        r = r[r["year"].isin(keep_years)]
    if indicators:
        r = r[r["ind_id"].isin(indicators)]
    # the units in the order asked for (the notebook's «first chosen unit»)
    shown_units = view.units if not units else view.units.set_index("unit_id").loc[units].reset_index()
    defs = {k: v for k, v in view.definitions.items() if not indicators or k in indicators}
    return UnitView(
        view.reg_all, view.reg, view.unit, shown_units.reset_index(drop=True), r, defs, view.as_of, view.source or view
    )
