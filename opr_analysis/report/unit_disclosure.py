"""Every publication of an extract with several units, suppressed together (issue 23).

A registry with several units publishes the whole registry's report and workbook and one report and
workbook per unit (``opr report --unit``); one reader can hold them all. So their patient counts are
suppressed as one (:func:`~.suppression.hidden_together`), and a count is hidden in every place it
appears:

- **Tables.** Every declared patient-count table (:mod:`opr_analysis.stats.table_registry`) of the
  whole registry and of each unit (computed from the unit's rows, as the unit's report and workbook
  are). Each count of the whole registry is the sum of the same count of the units, and that sum is
  part of the audit: a unit's hidden count cannot be found as the registry's minus the other units'.
- **Indicators.** The share indicators of the indicator chapter (:mod:`.indicator_report`): numerator
  and denominator per unit and year, and the registry's, tied the same way (with «not in the
  numerator», the rest of the denominator nobody sees, protected when small). The table shows the
  share, the funnel plot the share against the denominator and the trend figure the share per year,
  so numerator and denominator both count as shown, for every unit and year. The response shown
  under an outcome indicator (:data:`~opr_analysis.indicators.statistics.RESPONSE_OF`) is one more
  share of the same kind, keyed :func:`response_key`.
- **Ties between them.** An indicator that counts the cases of a published table
  (:data:`opr_analysis.indicators.statistics.PUBLISHED_AS`: follow-up forms answered of those sent as
  owed = the follow-up table's cells; baseline before the first consultation = the baseline table per
  enrolment) is the same number as that table's cells, in every scope.

- **The PROM chapter's improvement table** (:func:`~.prom_tables.improvement_cells`, its sentence and
  figure): answers and improved per indicator and follow-up kind, computed from each scope's rows for
  the report's window, are suppressed the same way by :func:`improvement_disclosure` (the registry the
  sum of its units). Nothing ties them to the tables above, so a separate audit hides exactly what one
  audit of everything would.
- **The rest of the PROM chapter**, each the same way: the baseline profile of the report year
  (:func:`profile_disclosure`: each level of each categorical variable by sex, a variable's n per sex at
  most the forms, those of all sexes public through the administrative baseline table), the change table's
  pairs (:func:`change_disclosure`; a hidden row shows no means) and the non-response model's follow-ups
  and answers (:func:`model_disclosure`; a report that hides them describes the model without them).

A median or mean of the chapter is not a count; one computed over fewer than ``min_cell`` cases is
hidden (it would describe a handful of patients). With one unit, nothing here applies: the report is
the registry's, suppressed on its own (:func:`~.suppression.hidden_tables`).

The result, :class:`Disclosure`, is the same for every report of the extract: the whole registry's
report and each unit's take their cells from it (:meth:`Disclosure.masks`, :meth:`Disclosure.hidden_indicators`),
and so does each workbook.
"""

from __future__ import annotations

import inspect
from collections.abc import Hashable
from dataclasses import dataclass

import pandas as pd

from ..extract.units import for_unit, unit_table
from ..indicators.compute import TOTAL
from ..indicators.statistics import PUBLISHED_AS, RESPONSE_OF, STATISTICS
from ..stats.export import compute_tables
from ..stats.proms import PROFILE_CATEGORICAL
from ..stats.table_registry import TABLES, Margin, PatientCounts
from .prom_tables import CHANGE_TABLE_SCORES, N_LEVEL, PROFILE_SKIP, RESPONSES, SEX_COLUMNS, profile_counts
from .suppression import DEFAULT_MIN_CELL, Hidden, Link, hidden_together

__all__ = [
    "CHANGE",
    "IMPROVEMENT",
    "INDICATORS",
    "PROFILE",
    "PROFILE_RESPONSES",
    "Disclosure",
    "change_disclosure",
    "model_disclosure",
    "disclose",
    "improvement_disclosure",
    "indicator_counts",
    "indicator_links",
    "profile_disclosure",
    "response_key",
]

#: The name of the indicator results among the audit's tables.
INDICATOR_TABLE = "indicators"
#: The share indicators as counts: numerator and denominator per indicator and year (one scope = one unit,
#: or the registry); what is not in the numerator is the rest nobody sees.
INDICATORS = PatientCounts(
    counts=("numerator", "denominator"),
    parts=(("denominator", ("numerator", "not_numerator")),),
    keys=("ind_id", "year"),
)

#: The PROM chapter's improvement table as counts: answers (``n``) and improved per indicator and follow-up
#: kind; the answers not improved are the rest nobody sees.
IMPROVEMENT = PatientCounts(
    counts=("n", "improved"), parts=(("n", ("improved", "not_improved")),), keys=("indicator", "kind")
)
#: The improvement table's name among the audit's tables.
IMPROVEMENT_TABLE = "prom_improvement"

#: The PROM chapter's baseline profile as counts (:func:`~.prom_tables.profile_counts`): each level of each
#: categorical variable per sex; «alle» = Kvinner + Menn + unknown sex (the rest nobody sees); a variable's levels
#: add up to its n per sex (those who answered it; published as count / share), which is at most the responses
#: (:class:`~.suppression.Link` ``at_most``: those who did not answer the question are shown by each report as
#: responses − n wherever both are shown, so that difference is not protected, as in one report alone).
PROFILE = PatientCounts(
    counts=tuple(SEX_COLUMNS), parts=(("alle", ("K", "M", "ukjent")),), margins=(Margin(by=("variable",)),),
    keys=("variable", "level"),
)  # fmt: skip
#: The profile's responses per sex, the same way. Those of all sexes are the year's baseline forms, which the
#: administrative baseline table («baseline_response») shows exactly: known to every reader (never hidden, no
#: help in protecting anything).
PROFILE_RESPONSES = PatientCounts(
    counts=tuple(SEX_COLUMNS), parts=(("alle", ("K", "M", "ukjent")),), public=(("alle", "baseline_response"),),
    keys=("variable", "level"),
)  # fmt: skip
#: The PROM chapter's change table as counts: the pairs (``n``) per score and follow-up kind.
CHANGE = PatientCounts(counts=("n",), keys=("score", "kind"))
#: The non-response model's counts, quoted by its table note and paragraph: follow-ups in the model (``n``) and
#: answered (``events``); the unanswered are the rest nobody sees.
MODEL = PatientCounts(counts=("n", "events"), parts=(("n", ("events", "not_events")),), keys=())
MODEL_TABLE = "prom_nonresponse"
#: The change table's name among the audit's tables.
CHANGE_TABLE = "prom_change"
#: The baseline profile's names among the audit's tables.
PROFILE_TABLE, PROFILE_RESPONSES_TABLE = "prom_baseline_profile", "prom_baseline_responses"


@dataclass
class Disclosure:
    """What every publication of the extract hides (module docstring).

    ``tables[scope][name]``: the :class:`~.suppression.Hidden` of each patient-count table, scope ``None``
    for the whole registry and the unit id for a unit; ``indicators``: one row per unit (and
    :data:`~opr_analysis.indicators.compute.TOTAL`), year and indicator, ``hidden`` true where the chapter
    hides the value; ``untied``: declared ties the data did not satisfy (left out of the audit).
    """

    min_cell: int
    tables: dict
    indicators: pd.DataFrame
    untied: list

    def masks(self, unit: str | None = None) -> dict[str, Hidden]:
        """The hidden cells of the tables of the report of ``unit`` (None: the whole registry), for
        :class:`~.publication.Publication` and the workbook."""
        return dict(self.tables.get(unit, {}))

    def hidden_indicators(self) -> set[tuple[Hashable, int, str]]:
        """``(unit_id, year, ind_id)`` of every hidden indicator value."""
        h = self.indicators[self.indicators["hidden"]]
        return set(zip(h["unit_id"], h["year"].astype(int), h["ind_id"], strict=True))


def response_key(ind_id: str) -> str:
    """The key of the response shown under an outcome indicator, among the indicators' values."""
    return f"{ind_id}/svar"


def _params(ind, statistic: str | None = None) -> dict:
    """The indicator's parameters with the statistic's defaults filled in."""
    func = STATISTICS.get(statistic or ind.statistic) or RESPONSE_OF.get(ind.statistic)
    defaults = {}
    if func is not None:
        defaults = {
            p.name: p.default
            for p in inspect.signature(func).parameters.values()
            if p.default is not inspect.Parameter.empty
        }
    return {**defaults, **ind.params}


def indicator_links(definitions: dict) -> list[Link]:
    """The ties between share indicators and the tables counting the same cases
    (:data:`~opr_analysis.indicators.statistics.PUBLISHED_AS`), numerator and denominator."""
    out = []
    for ind in definitions.values():
        if ind.type != "share":
            continue
        response = RESPONSE_OF.get(ind.statistic)
        for key, statistic in ((ind.id, ind.statistic), (response_key(ind.id), response and response.__name__)):
            if statistic not in PUBLISHED_AS:
                continue
            table, rows, numerator, denominator = PUBLISHED_AS[statistic]
            params = _params(ind, statistic)
            where = rows(params) if callable(rows) else rows.format(**params) if rows else None
            mine = f"ind_id == {key!r}"
            out.append(Link((INDICATOR_TABLE, mine, "numerator"), (table, where, numerator)))
            out.append(Link((INDICATOR_TABLE, mine, "denominator"), (table, where, denominator)))
    return out


def _of_type(results: pd.DataFrame, definitions: dict, share: bool) -> pd.DataFrame:
    if "ind_id" not in results.columns:
        return pd.DataFrame(columns=["unit_id", "year", "ind_id", "numerator", "denominator"])
    return results[results["ind_id"].map(lambda i: i in definitions and (definitions[i].type == "share") == share)]


def indicator_counts(results: pd.DataFrame, unit, definitions: dict) -> pd.DataFrame:
    """The share indicators' counts of one unit (or the total), and the responses shown under them."""
    r = _of_type(results, definitions, share=True)
    r = r[r["unit_id"] == unit]
    frame = pd.DataFrame(
        {
            "ind_id": r["ind_id"].astype(object).to_numpy(),
            "year": r["year"].astype("int64").to_numpy(),
            "numerator": r["numerator"].fillna(0).astype("int64").to_numpy(),
            "denominator": r["denominator"].astype("int64").to_numpy(),
        }
    )
    if "response_denominator" not in r.columns:
        return frame
    r = r[r["response_denominator"].notna()]
    responses = pd.DataFrame(
        {
            "ind_id": r["ind_id"].map(response_key).astype(object).to_numpy(),
            "year": r["year"].astype("int64").to_numpy(),
            "numerator": r["response_numerator"].fillna(0).astype("int64").to_numpy(),
            "denominator": r["response_denominator"].astype("int64").to_numpy(),
        }
    )
    return pd.concat([frame, responses], ignore_index=True)


def disclose(
    reg,
    as_of,
    results: pd.DataFrame,
    definitions: dict,
    min_cell: int = DEFAULT_MIN_CELL,
    tables: dict[str, pd.DataFrame] | None = None,
) -> Disclosure:
    """The :class:`Disclosure` of every publication of ``reg`` (the whole extract) as of ``as_of``.

    ``results`` and ``definitions``: the indicator chapter's (:func:`~.indicator_report.unit_view`);
    ``tables``: the whole registry's tables when already computed (``compute_tables``)."""
    names = [t.name for t in TABLES if t.patient_counts]
    units = unit_table(reg)["unit_id"].tolist()
    whole = tables if tables is not None else compute_tables(reg, as_of, names)
    specs = {t.name: t.suppression for t in TABLES if t.patient_counts}
    scopes = {None: {n: (specs[n], whole[n]) for n in names if n in whole}}
    frames = {None: indicator_counts(results, TOTAL, definitions)}
    several = len(units) > 1
    if several:
        for unit in units:
            own = compute_tables(for_unit(reg, unit), as_of, names)
            scopes[unit] = {n: (specs[n], own[n]) for n in names}
            frames[unit] = indicator_counts(results, unit, definitions)
    if any(len(f) for f in frames.values()):
        for scope, frame in frames.items():
            scopes[scope][INDICATOR_TABLE] = (INDICATORS, frame)
    together = hidden_together(
        scopes, min_cell, indicator_links(definitions), sums=(None, units) if several else None
    )  # fmt: skip
    rows = []
    for scope, frame in frames.items():
        mask = together.hidden.get(scope, {}).get(INDICATOR_TABLE)
        off = mask.cells["numerator"] | mask.cells["denominator"] if mask is not None else False
        rows.append(frame.assign(unit_id=TOTAL if scope is None else scope, hidden=off))
    # medians and means: hidden over fewer than min_cell cases
    others = _of_type(results, definitions, share=False)
    rows.append(
        pd.DataFrame(
            {
                "unit_id": others["unit_id"].to_numpy(),
                "year": others["year"].astype("int64").to_numpy(),
                "ind_id": others["ind_id"].to_numpy(),
                "hidden": ((others["denominator"] > 0) & (others["denominator"] < min_cell)).to_numpy(dtype=bool),
            }
        )
    )
    if not several and units:  # the one unit is the registry: its values are hidden as the registry's
        rows.append(rows[0].assign(unit_id=units[0]))
    columns = ["unit_id", "year", "ind_id", "hidden"]
    indicators = pd.concat([r[columns] for r in rows if len(r)], ignore_index=True) if any(len(r) for r in rows) else (
        pd.DataFrame(columns=columns)
    )  # fmt: skip
    indicators["hidden"] = indicators["hidden"].astype(bool)
    if not several and units:
        together.hidden[units[0]] = together.hidden.get(None, {})
    tables_hidden = {
        scope: {n: h for n, h in t.items() if n != INDICATOR_TABLE} for scope, t in together.hidden.items()
    }
    return Disclosure(min_cell, tables_hidden, indicators, together.untied)


def _per_unit(reg, tables: dict, min_cell: int, links=()) -> dict[Hashable, dict[str, tuple]]:
    """Tables of every report of a multi-unit extract suppressed together. ``tables``: name -> ``(spec,
    frame_of)``; per scope (None: the whole registry; a unit id) name -> ``(frame, Hidden)`` with
    ``frame = frame_of(the scope's rows)``, the registry's counts the sums of the units', ``links`` between the
    tables in every scope. Empty with one unit."""
    units = unit_table(reg)["unit_id"].tolist()
    if len(units) < 2:
        return {}
    regs = {None: reg} | {u: for_unit(reg, u) for u in units}
    scopes = {s: {name: (spec, frame_of(r)) for name, (spec, frame_of) in tables.items()} for s, r in regs.items()}
    together = hidden_together(scopes, min_cell, links, sums=(None, units))
    return {s: {name: (f, together.hidden[s][name]) for name, (_, f) in t.items()} for s, t in scopes.items()}


def improvement_disclosure(
    reg, as_of, window: tuple[int, int] | None, min_cell: int = DEFAULT_MIN_CELL
) -> dict[Hashable, pd.DataFrame]:
    """What every report of a multi-unit extract hides in the PROM chapter's improvement table: per scope
    (None: the whole registry; a unit id) a boolean frame indexed by ``(indicator, kind)`` with columns
    ``n`` and ``improved`` (:func:`~.prom_tables.improvement_cells` takes it). Empty with one unit (the
    table is then suppressed on its own)."""
    from ..stats.proms import improvement_rates

    def frame_of(r):
        return improvement_rates(r, as_of=as_of, window=window)[["indicator", "kind", "n", "improved"]]

    out = {}
    for scope, t in _per_unit(reg, {IMPROVEMENT_TABLE: (IMPROVEMENT, frame_of)}, min_cell).items():
        frame, hidden = t[IMPROVEMENT_TABLE]
        cells = hidden.cells[["n", "improved"]]
        cells.index = pd.MultiIndex.from_frame(frame[["indicator", "kind"]].astype(str))
        out[scope] = cells
    return out


def profile_disclosure(reg, year, min_cell: int = DEFAULT_MIN_CELL) -> dict[Hashable, pd.DataFrame]:
    """What every report of a multi-unit extract hides in the PROM chapter's baseline profile of ``year``:
    per scope (None: the whole registry; a unit id) a boolean frame indexed by ``(variable, level)`` with
    columns K, M, alle, each categorical variable's n at level :data:`~.prom_tables.N_LEVEL`
    (:func:`~.prom_tables.baseline_profile_cells` takes it). Counts: :data:`PROFILE`. Empty with one unit
    (the table is then suppressed on its own)."""
    from ..stats.proms import baseline_profile

    computed = {}  # one profile per scope, for both tables

    def counts(r, responses: bool) -> pd.DataFrame:
        if id(r) not in computed:
            computed[id(r)] = profile_counts(baseline_profile(r, by=("year", "sex")), year)
        frame = computed[id(r)]
        return frame[(frame["variable"] == RESPONSES) == responses]

    tables = {
        PROFILE_TABLE: (PROFILE, lambda r: counts(r, False)),
        PROFILE_RESPONSES_TABLE: (PROFILE_RESPONSES, lambda r: counts(r, True)),
    }
    columns = list(SEX_COLUMNS)
    out = {}
    links = [
        Link((PROFILE_TABLE, f"variable == {var!r}", c), (PROFILE_RESPONSES_TABLE, None, c), by=(), at_most=True)
        for var in PROFILE_CATEGORICAL
        if var not in PROFILE_SKIP
        for c in SEX_COLUMNS
    ]  # a variable's n is at most the responses: the rest did not answer it
    for scope, t in _per_unit(reg, tables, min_cell, links).items():
        parts = []
        for frame, hidden in t.values():
            parts.append(hidden.cells[columns].set_axis(pd.MultiIndex.from_frame(frame[["variable", "level"]])))
            m = hidden.margins
            if len(m):  # each variable's n
                n = m.assign(variable=m["key"].str[0], level=N_LEVEL).pivot_table(
                    index=["variable", "level"], columns="column", values="hidden", aggfunc="any"
                )  # fmt: skip
                parts.append(n.reindex(columns=columns))
        out[scope] = pd.concat(parts).fillna(True).astype(bool)
    return out


def change_disclosure(
    reg, as_of, window: tuple[int, int] | None, min_cell: int = DEFAULT_MIN_CELL
) -> dict[Hashable, pd.Series]:
    """What every report of a multi-unit extract hides in the PROM chapter's change table: per scope (None: the
    whole registry; a unit id) a boolean series indexed by ``(score, kind)``, true where the row's pairs (and so
    its means) are hidden (:func:`~.prom_tables.change_summary_cells` takes it). The registry's pairs are the
    sums of the units'. Empty with one unit (the table is then suppressed on its own)."""
    from ..stats.proms import change_summary

    def frame_of(r):
        c = change_summary(r, as_of=as_of, window=window)
        c = c[c["score"].astype(str).isin(list(CHANGE_TABLE_SCORES))]
        return pd.DataFrame({"score": c["score"].astype(str), "kind": c["kind"].astype(str), "n": c["n"]})

    out = {}
    for scope, t in _per_unit(reg, {CHANGE_TABLE: (CHANGE, frame_of)}, min_cell).items():
        frame, hidden = t[CHANGE_TABLE]
        out[scope] = pd.Series(
            hidden.cells["n"].to_numpy(dtype=bool), index=pd.MultiIndex.from_frame(frame[["score", "kind"]])
        )
    return out


def model_disclosure(
    reg, as_of, window: tuple[int, int] | None, min_cell: int = DEFAULT_MIN_CELL
) -> dict[Hashable, bool]:
    """Whether each report of a multi-unit extract hides the non-response model's counts (follow-ups and
    answered, in its table note and paragraph): per scope (None: the whole registry; a unit id). The
    registry's counts are the sums of the units' when the same follow-ups enter (a rest or an overlap
    otherwise, :func:`~.suppression.hidden_together`). A scope whose model is not shown counts as showing
    them: the audit assumes the reader knows more, never less. Empty with one unit."""
    from ..errors import OprError
    from ..stats.models import nonresponse_model

    def frame_of(r):
        try:
            m = nonresponse_model(r, as_of=as_of, window=window, min_cell=min_cell)
        except OprError:  # no model: nothing quoted
            return pd.DataFrame(columns=["n", "events"])
        return pd.DataFrame({"n": [int(m["n"].iloc[0])], "events": [int(m["events"].iloc[0])]}) if len(m) else (
            pd.DataFrame(columns=["n", "events"])
        )  # fmt: skip

    out = {}
    for scope, t in _per_unit(reg, {MODEL_TABLE: (MODEL, frame_of)}, min_cell).items():
        frame, hidden = t[MODEL_TABLE]
        out[scope] = bool(len(frame) and hidden.cells[["n", "events"]].to_numpy().any())
    return out
