"""The report's tables and sentences from their declarations (:mod:`opr_analysis.stats.table_registry`).

Every table of the report is displayed by one generic call in the notebook,
``pub.table("<name>")``, and its sentence by ``pub.sentence("<name>")``, where
``pub`` is a :class:`Publication` of the run's tables, years and ``min_cell``.
``make docs`` writes those cells, with the declared Quarto label and caption,
into ``notebooks/annual_report.ipynb`` (:func:`sync_notebook`): a new declared
table gets its cells after the cell its declaration names (``after``).

Rules:

- A table's **builder** is the declared ``"module.function"`` of
  :mod:`opr_analysis.report` (its ``*_cells`` twin is the same name ending in
  ``_cells``), or the default :func:`declared_table` / :func:`declared_cells`.
  A builder gets the tidy frame first, then what its parameters ask for by name:
  ``year``, ``years``, ``min_cell``, ``as_of``, ``name``, ``hidden``.
- ``min_cell`` is the run's for a patient-count table and 0 for an
  administrative one: the declaration decides what is suppressed, never a cell
  of the notebook.
- The patient-count tables of one publication are **suppressed together**
  (:func:`~.suppression.hidden_tables`: a sum one table shows is tied to the
  other's cells, e.g. the follow-up table's line «Alle typer»); a unit's report
  and the whole registry's are suppressed together with every other unit's
  (:mod:`.unit_disclosure`); :attr:`Publication.masks` (table name ->
  :class:`~.suppression.Hidden`) carries the result to every table, sentence and
  figure, and builders get it as ``hidden``; the workbook takes the same.
- The **default presentation** shows the published frame
  (:func:`~.suppression.publish`: hidden counts «×», hidden shares «–») with
  the declared headings and code labels, for the declared years; or, with a
  ``pivot``, a cross table of the report year with a total line and column
  («Alle») for each margin the table declares (a total nobody declared is never
  shown, so the audit knows every sum a reader sees).
- A **sentence** is a template in the declaration (:func:`fill_sentence`:
  ``{row|column}`` of the displayed cells, ``{year}``), or a function of
  :mod:`.prose` when it needs more; a function gets the displayed cells
  (``cells``) of its table, so every number it quotes is in the table; only an
  administrative table's sentence may ask for the tidy ``frame`` instead.
- Code **labels** (:func:`labelled`) are the declared ones, for the default
  table and the workbook alike.
"""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from great_tables import GT

from ..extract import codebook
from ..formatting import fmt_int
from ..stats.table_registry import TABLES, Table, get
from .gt_tables import STUB, generic_cells, generic_table, house_table
from .suppression import (
    DEFAULT_MIN_CELL,
    Hidden,
    display_value,
    hidden_tables,
    publish,
    published_margins,
    suppression_note,
)

__all__ = [
    "Publication",
    "builder",
    "cells_function",
    "declared_cells",
    "declared_table",
    "effective_min_cell",
    "fill_sentence",
    "is_template",
    "labelled",
    "notebook_cells",
    "pivot_cells",
    "sentence_function",
    "sync_notebook",
    "TOTAL",
]

TOTAL = "Alle"
#: Metadata key of the notebook cells :func:`sync_notebook` writes.
CELL_KEY = "opr_table"


def _resolve(ref):
    if callable(ref):
        return ref
    module, name = ref.rsplit(".", 1)
    return getattr(importlib.import_module(f"{__package__}.{module}"), name)


def builder(table: Table):
    """The function that builds the table's ``GT`` (the declared one, or :func:`declared_table`)."""
    return _resolve(table.report.builder) if table.report.builder else None


def cells_function(table: Table):
    """The ``*_cells`` twin of the table's builder (None for the default, :func:`declared_cells`)."""
    ref = table.report.builder
    if not ref:
        return None
    if callable(ref):
        return getattr(inspect.getmodule(ref), ref.__name__.removesuffix("_table") + "_cells")
    return _resolve(ref.removesuffix("_table") + "_cells")


def is_template(sentence) -> bool:
    """Whether a declared sentence is a template (text with ``{…}`` fields) rather than a function."""
    return isinstance(sentence, str) and "{" in sentence


def sentence_function(table: Table):
    """The declared sentence function (None for none, or for a template: :func:`fill_sentence`)."""
    ref = table.report.sentence
    return _resolve(ref) if ref and not is_template(ref) else None


_FIELD = re.compile(r"\{([^{}|]+)(?:\|([^{}]+))?\}")


def fill_sentence(template: str, cells: pd.DataFrame, values: dict) -> str:
    """A declared sentence template filled in: ``{row|column}`` is the displayed cell in the row whose first
    column reads ``row`` (a hidden count stays «×»), ``{year}`` (or another run value) the value.

    >>> c = pd.DataFrame({"label": ["0–17", "Alle"], "Kvinner": ["×", "628"], "Alle": ["11", "1 165"]})
    >>> fill_sentence("I {year}: {Alle|Alle}, {Alle|Kvinner} kvinner, {0–17|Kvinner} barn.", c, {"year": 2025})
    'I 2025: 1 165, 628 kvinner, × barn.'
    """
    rows = cells.set_index(cells.columns[0])

    def field(m: re.Match) -> str:
        row, column = m.group(1), m.group(2)
        if column is None:
            return str(values[row])
        return str(rows.at[row, column])

    return _FIELD.sub(field, template)


def effective_min_cell(table: Table, min_cell: int) -> int:
    """``min_cell`` for a patient-count table, 0 (nothing hidden) for any other."""
    return min_cell if table.patient_counts else 0


# --- labels ----------------------------------------------------------------------------------


def _code_labels(ref, frame: pd.DataFrame, column: str) -> list:
    values = frame[column]
    if isinstance(ref, str) and ref == "codebook:tables":
        tables = codebook.load().tables
        return [tables[v].label if v in tables else v for v in values]
    if isinstance(ref, str) and ref == "codebook:columns":
        cb = codebook.load()
        out = []
        for t, c in zip(frame["table"], values, strict=True):
            try:
                out.append(cb.column(t, c).label)
            except KeyError:
                out.append(c)
        return out
    if isinstance(ref, str):
        table, col = ref.removeprefix("codebook:").split(".")
        ref = codebook.load().column(table, col).codes
    return [ref.get(v, v) if isinstance(v, str) else v for v in values]


def labelled(table: Table, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the codes of every column that declares labels replaced by them.

    >>> import pandas as pd
    >>> labelled(get("followup_response"), pd.DataFrame({"kind": ["rf_3m"], "owed": [4]}))["kind"].tolist()
    ['RF, 3 måneder']
    """
    out = frame.copy()
    for col in frame.columns:
        declared = table.column(col)
        if declared is not None and declared.labels is not None:
            out[col] = _code_labels(declared.labels, frame.astype({col: object}), col)
    return out


# --- the default presentation ---------------------------------------------------------------


def _totals(table: Table, frame: pd.DataFrame, by: set[str], min_cell: int, hidden: Hidden | None) -> dict | None:
    """The shown total per group of the margin by ``by`` (key tuple in the margin's ``by`` order -> a number or
    «×»), or None when the table declares no such margin (then no total is shown)."""
    margins = getattr(table.suppression, "margins", ())
    found = [(i, m) for i, m in enumerate(margins) if set(m.by) == by and m.where is None]
    if not found:
        return None
    i, margin = found[0]
    value = table.report.pivot.value
    if margin.published_by:  # public: another table shows it
        sums = frame.groupby(list(margin.by), sort=False)[value].sum() if margin.by else {(): frame[value].sum()}
        return {k if isinstance(k, tuple) else (k,): int(v) for k, v in dict(sums).items()}
    m = published_margins(table, frame, min_cell, hidden)
    m = m[(m["margin"] == i) & (m["column"] == value)]
    return dict(zip(m["key"], m["shown"], strict=True))


def pivot_cells(
    table: Table, frame: pd.DataFrame, year: int, min_cell: int = DEFAULT_MIN_CELL, hidden: Hidden | None = None
) -> pd.DataFrame:
    """The cross table of the report ``year`` (:class:`~opr_analysis.stats.table_registry.Pivot`).

    Rows: the ``rows`` column's values in the frame's order, labelled; columns: the
    ``columns`` values, labelled; cells: the published counts. A line «Alle» gives each
    column's total when the table declares the margin by (year, ``columns``), a column
    «Alle» each row's total when it declares (year, ``rows``), their corner when it
    declares (year); each total as published (:func:`~.suppression.published_margins`).
    ``hidden``: the table's cells as suppressed with the publication's other tables
    (default: the table alone, every year).
    """
    piv = table.report.pivot
    mc = effective_min_cell(table, min_cell)
    if hidden is None and mc > 1:
        hidden = hidden_tables({table.name: frame}, mc).get(table.name)
    this = (frame["year"].astype(int) == int(year)).to_numpy()
    f = frame[this]
    shown = publish(table, frame, mc, hidden)[this]
    names = labelled(table, f)
    row_codes = list(dict.fromkeys(f[piv.rows]))
    col_codes = list(dict.fromkeys(f[piv.columns]))
    row_label = dict(zip(f[piv.rows], names[piv.rows], strict=True))
    col_label = dict(zip(f[piv.columns], names[piv.columns], strict=True))
    value = {(r, c): v for r, c, v in zip(f[piv.rows], f[piv.columns], shown[piv.value], strict=True)}
    by_row = _totals(table, frame, {"year", piv.rows}, mc, hidden)
    by_col = _totals(table, frame, {"year", piv.columns}, mc, hidden)
    corner = _totals(table, frame, {"year"}, mc, hidden)
    order = {m.by: m.by for m in table.suppression.margins}

    def total(sums, code, dim):
        key = tuple(code if k == dim else int(year) for k in order[next(b for b in order if set(b) == {"year", dim})])
        return display_value(sums.get(key, 0), fmt_int)

    out = []
    for r in row_codes:
        row = {STUB: row_label[r], **{col_label[c]: display_value(value.get((r, c), 0), fmt_int) for c in col_codes}}
        if by_row is not None:
            row[TOTAL] = total(by_row, r, piv.rows)
        out.append(row)
    if by_col is not None:
        row = {STUB: TOTAL, **{col_label[c]: total(by_col, c, piv.columns) for c in col_codes}}
        if by_row is not None:
            row[TOTAL] = display_value(corner.get((int(year),), 0), fmt_int) if corner is not None else ""
        out.append(row)
    return pd.DataFrame(out)


def declared_cells(
    table: Table,
    frame: pd.DataFrame,
    years: Sequence[int] | None,
    year: int,
    min_cell: int = DEFAULT_MIN_CELL,
    hidden: Hidden | None = None,
) -> pd.DataFrame:
    """The default table's text cells: the published rows (``years``), or the cross table of ``year``."""
    if table.report.pivot is not None:
        return pivot_cells(table, frame, year, min_cell, hidden)
    return generic_cells(_default_frame(table, frame, years, min_cell, hidden), _headings(table, frame))


def _default_frame(table: Table, frame: pd.DataFrame, years, min_cell: int, hidden: Hidden | None) -> pd.DataFrame:
    # suppressed over every year (as the workbook shows them), then the years shown
    shown = publish(table, frame, effective_min_cell(table, min_cell), hidden)
    if years is not None and "year" in frame.columns:
        shown = shown[frame["year"].astype(int).isin([int(y) for y in years]).to_numpy()]
    return labelled(table, shown).reset_index(drop=True)


def _headings(table: Table, frame: pd.DataFrame) -> dict[str, str]:
    return {c: table.heading(c) for c in frame.columns if table.column(c) is not None}


def declared_table(
    table: Table,
    frame: pd.DataFrame,
    years: Sequence[int] | None,
    year: int,
    min_cell: int = DEFAULT_MIN_CELL,
    hidden: Hidden | None = None,
) -> GT:
    """The default presentation of a declared table (module docstring), HTML id ``opr-<name>``."""
    note = table.report.source
    if table.patient_counts and min_cell > 1:
        note += " " + suppression_note(min_cell)
    if table.report.pivot is None:
        cells = _default_frame(table, frame, years, min_cell, hidden)
        return generic_table(cells, note, _headings(table, frame), table.name)
    cells = pivot_cells(table, frame, year, min_cell, hidden)
    rows = table.column(table.report.pivot.rows)
    return house_table(cells, note, stubhead=rows.title, id=table.name)


# --- the notebook's view ---------------------------------------------------------------------


def _call(func, first, values: dict):
    params = list(inspect.signature(func).parameters.values())
    kwargs = {}
    for p in params[1:]:
        if p.name in values:
            kwargs[p.name] = values[p.name]
        elif p.default is inspect.Parameter.empty:
            raise TypeError(f"{func.__name__}: cannot supply parameter «{p.name}» (known: {', '.join(values)})")
    return func(first, **kwargs)


@dataclass
class Publication:
    """The run's view of every declared table: ``tables`` (``compute_tables``), the report ``year``, the
    ``years`` shown side by side, ``min_cell``, the ``as_of`` date, and ``masks``: the patient-count
    tables' hidden cells (table name -> :class:`~.suppression.Hidden`), as suppressed together with the
    other publications of the extract (a unit's report: :mod:`.unit_disclosure`); default: the
    publication's own tables suppressed together (:func:`~.suppression.hidden_tables`)."""

    tables: dict[str, pd.DataFrame]
    year: int
    years: Sequence[int]
    min_cell: int = DEFAULT_MIN_CELL
    as_of: dt.date | None = None
    masks: dict[str, Hidden] | None = None

    def _masks(self) -> dict[str, Hidden]:
        if self.masks is None:  # computed on first use
            self.masks = hidden_tables(self.tables, self.min_cell) if self.min_cell > 1 else {}
        return self.masks

    def hand_over(self, path, token: str, unit=None) -> bool:
        """Write :attr:`masks` (computed now if need be) for the workbook ``opr report`` writes after the
        notebook (:func:`~.handover.write_hidden`: the same cells, not computed twice); ``unit``: the report's."""
        from .handover import write_hidden

        return write_hidden(path, token, self._masks(), self.min_cell, unit)

    def _declared(self, name: str) -> Table:
        table = get(name)
        if not table.in_report:
            raise KeyError(f"{name} is not a table of the report: {table.report}")
        return table

    def _values(self, table: Table) -> dict:
        return {
            "year": self.year,
            "years": list(self.years),
            "min_cell": effective_min_cell(table, self.min_cell),
            "as_of": self.as_of,
            "name": table.name,
            "hidden": self._masks(),
        }

    def _years(self, table: Table) -> list[int] | None:
        return {"window": list(self.years), "report": [self.year], "all": None}[table.report.years]

    def published(self, name: str) -> pd.DataFrame:
        """The tidy table as every publication shows it (:func:`~.suppression.publish`)."""
        table = get(name)
        return publish(table, self.tables[name], effective_min_cell(table, self.min_cell), self._masks().get(name))

    def hidden(self, name: str, column: str) -> pd.Series:
        """Rows whose ``column`` is hidden in every publication (for figures of the same numbers)."""
        shown = self.published(name)[column]
        return shown.map(lambda v: isinstance(v, str)).astype(bool)

    def cells(self, name: str) -> pd.DataFrame:
        """The table's displayed cells (plain text), from its builder's ``*_cells`` twin or the default."""
        table = self._declared(name)
        frame = self.tables[name]
        func = cells_function(table)
        if func is None:
            return declared_cells(
                table, frame, self._years(table), self.year, self.min_cell, self._masks().get(name)
            )  # fmt: skip
        return _call(func, frame, self._values(table))

    def table(self, name: str) -> GT | None:
        """The table as great-tables ``GT`` (None when the statistic has no rows)."""
        table = self._declared(name)
        frame = self.tables[name]
        if frame.empty:
            return None
        func = builder(table)
        if func is None:
            return declared_table(table, frame, self._years(table), self.year, self.min_cell, self._masks().get(name))
        return _call(func, frame, self._values(table))

    def sentence(self, name: str):
        """The declared sentence as Markdown (None when the table has none or no rows)."""
        from IPython.display import Markdown

        table = self._declared(name)
        ref = table.report.sentence
        if not ref or self.tables[name].empty:
            return None
        if is_template(ref):
            return Markdown(fill_sentence(ref, self.cells(name), self._values(table)))
        func = sentence_function(table)
        first = next(iter(inspect.signature(func).parameters))
        data = self.cells(name) if first == "cells" else self.tables[name]
        return Markdown(_call(func, data, self._values(table)))


# --- the notebook's cells (make docs) --------------------------------------------------------


def notebook_cells(table: Table) -> list[tuple[str, str]]:
    """``(part, source)`` of the notebook cells that show a declared report table: its sentence, if any,
    then the table with its Quarto label and caption."""
    r = table.report
    out = []
    if r.sentence:
        out.append(("sentence", f'pub.sentence("{table.name}")'))
    caption = json.dumps(r.caption, ensure_ascii=False)
    out.append(("table", f'#| label: {r.label}\n#| tbl-cap: {caption}\npub.table("{table.name}")'))
    return out


def _anchor(cells, label: str) -> int:
    for i, cell in enumerate(cells):
        if f"#| label: {label}\n" in cell.source + "\n":
            return i
    raise ValueError(f"notebook: no cell with «#| label: {label}» to place a table after")


def synced_notebook(nb):
    """The notebook with the cells of every declared report table written from its declaration
    (module docstring); cells of tables no longer declared are removed."""
    import nbformat

    declared = {t.name: t for t in TABLES if t.in_report}
    cells = [c for c in nb.cells if CELL_KEY not in c.metadata or c.metadata[CELL_KEY].get("table") in declared]
    for table in declared.values():
        wanted = notebook_cells(table)
        have = [i for i, c in enumerate(cells) if c.metadata.get(CELL_KEY, {}).get("table") == table.name]
        kept = {cells[i].metadata[CELL_KEY].get("part"): dict(cells[i].metadata) for i in have}  # tags stay
        if have:
            at = have[0]
            for i in reversed(have):
                del cells[i]
        else:
            if not table.report.after:
                raise ValueError(f"{table.name}: no cells in the notebook and no «after» in its Report declaration")
            at = _anchor(cells, table.report.after) + 1
        new = []
        for part, source in wanted:
            cell = nbformat.v4.new_code_cell(source, metadata=kept.get(part, {}))
            cell.id = f"opr-{table.name}-{part}"[:64]
            cell.metadata[CELL_KEY] = {"table": table.name, "part": part}
            new.append(cell)
        cells[at:at] = new
    nb.cells = cells
    return nb


def sync_notebook(path: str | Path = "notebooks/annual_report.ipynb") -> bool:
    """Write the declared tables' cells into the notebook at ``path`` (``make docs``); True if it changed."""
    import nbformat

    path = Path(path)
    before = path.read_text(encoding="utf-8")
    nb = synced_notebook(nbformat.reads(before, as_version=4))
    after = nbformat.writes(nb) + "\n"
    if after != before:
        path.write_text(after, encoding="utf-8")
    return after != before
