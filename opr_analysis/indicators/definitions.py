"""Indicator definitions as data: ``indicators.yaml`` in this package, overridable per registry.

:func:`load_definitions` reads the package's file and, if given, a registry's
own YAML file of the same shape (``opr indicators --definitions FILE``): an
entry with a known ``id`` replaces the package's entry, a new ``id`` is
appended. The registry's file goes through the guarded YAML loader
(:mod:`opr_analysis.safety.limits`: no anchors, no deep nesting, UTF-8, no
identity numbers) and both files through one schema
(:class:`DefinitionsFile`, pydantic; :mod:`opr_analysis.safety.schema`), so a
typo fails when the file is read, never in the middle of a report and never
silently:

- an unknown key is an error naming the nearest known one (``parms:`` →
  «mente du params?»): otherwise the default parameters would be used and
  60-day numbers published under a 30-day indicator's id;
- ``params`` must be parameters of the entry's ``statistic``, with values in
  range (``days`` 1–3650, ``months`` 3, 6 or 12, ``kind`` a follow-up kind);
- known type, statistic and direction; thresholds numbers (``green: høy`` is
  refused) in the right order for the direction, within 0–1 for a share;
- ``min_denominator`` at least 1 (a negative one would drop the «for lite
  datagrunnlag» flag), ``first_year`` within 1990–2100; ids unique.

>>> defs = load_definitions()
>>> defs["opr_baseline"].type, defs["opr_baseline"].direction
('share', 'higher')
"""

from __future__ import annotations

import inspect
import os
import re
from dataclasses import dataclass, field
from importlib import resources
from typing import Annotated, Any, Literal

from pydantic import ValidationInfo, field_validator

from ..safety.schema import Field, NonEmptyText, UserModel, Year, nearest, opr_error, validate

TYPES = ("share", "mean", "median")
DIRECTIONS = ("higher", "lower")
INDICATOR_ID = re.compile(r"^[a-z0-9][a-z0-9_]{1,63}$")
#: Largest threshold of a mean or median indicator (days): ten years.
MAX_THRESHOLD = 3650
MAX_MIN_DENOMINATOR = 100_000


def _followup_kinds() -> list[str]:
    from ..stats.followup import followup_kinds

    return followup_kinds()


#: The statistics' parameters a definitions file may set: name -> (what is expected, check).
PARAMETERS = {
    "days": ("et heltall 1–3650 (dager)", lambda v: _whole(v) and 1 <= v <= 3650),
    "months": ("3, 6 eller 12 (måneder)", lambda v: _whole(v) and v in (3, 6, 12)),
    "kind": ("en oppfølgingstype", lambda v: isinstance(v, str) and v in _followup_kinds()),
}


def _whole(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _statistic_parameters(statistic: str) -> dict[str, inspect.Parameter]:
    """The keyword parameters of a row-level statistic (after ``reg`` and ``as_of``)."""
    from .statistics import STATISTICS

    params = list(inspect.signature(STATISTICS[statistic]).parameters.values())[2:]
    return {p.name: p for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}


def _check_parameter(name: str, value, parameter: inspect.Parameter) -> str | None:
    """What is wrong with ``value`` for the statistic's parameter ``name`` (None: nothing)."""
    if name in PARAMETERS:
        expected, ok = PARAMETERS[name]
        if name == "kind":
            expected += f" ({', '.join(_followup_kinds())})"
        return None if ok(value) else f"«{value}» for {name}: ventet {expected}"
    default = parameter.default
    if default is not inspect.Parameter.empty and default is not None and type(value) is not type(default):
        return f"«{value}» for {name}: ventet samme type som standardverdien ({default!r})"
    return None


class IndicatorEntry(UserModel):
    """One entry of ``indicators:`` (indicators.yaml's header explains each key)."""

    id: str = Field(max_length=64)
    title: Annotated[NonEmptyText, Field(max_length=200)]
    short: NonEmptyText
    long: NonEmptyText
    type: Literal[TYPES]
    statistic: str
    params: dict[str, Any] = {}
    direction: Literal[DIRECTIONS]
    green: float = Field(ge=0, le=MAX_THRESHOLD)
    yellow: float = Field(ge=0, le=MAX_THRESHOLD)
    min_denominator: int = Field(ge=1, le=MAX_MIN_DENOMINATOR)
    first_year: Year
    unit: Literal["share", "days"] | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not INDICATOR_ID.match(value):
            raise opr_error("bruk 2–64 tegn a–z, 0–9 og understrek (det blir ind_id i leveransen)")
        return value

    @field_validator("statistic")
    @classmethod
    def _statistic(cls, value: str) -> str:
        from .statistics import STATISTICS

        if value not in STATISTICS:
            near = nearest(value, STATISTICS)
            hint = f"mente du «{near}»?; " if near else ""
            raise opr_error(f"ukjent statistikk ({hint}gyldige: {', '.join(STATISTICS)})")
        return value

    @field_validator("params")
    @classmethod
    def _params(cls, params: dict, info: ValidationInfo) -> dict:
        statistic = info.data.get("statistic")
        if statistic is None:
            return params
        known = _statistic_parameters(statistic)
        problems = []
        for name, value in params.items():
            if name not in known:
                near = nearest(name, known)
                hint = f"mente du «{near}»?; " if near else ""
                allowed = ", ".join(known) or "ingen"
                problems.append(f"ukjent parameter «{name}» for {statistic} ({hint}tillatt: {allowed})")
            else:
                problem = _check_parameter(name, value, known[name])
                if problem:
                    problems.append(problem)
        if problems:
            raise opr_error("; ".join(problems))
        return params

    @field_validator("green", "yellow")
    @classmethod
    def _share_range(cls, value: float, info: ValidationInfo) -> float:
        if info.data.get("type") == "share" and not 0 <= value <= 1:
            raise opr_error("målnivåene for en andel må ligge mellom 0 og 1 (0.8 for 80 %)")
        return value

    @field_validator("yellow")
    @classmethod
    def _order(cls, yellow: float, info: ValidationInfo) -> float:
        green, direction = info.data.get("green"), info.data.get("direction")
        if green is not None and (
            (direction == "higher" and green < yellow) or (direction == "lower" and green > yellow)
        ):
            raise opr_error(f"grønt nivå ({green:g}) må være bedre enn gult ({yellow:g}) når {direction} er bedre")
        return yellow


class DefinitionsFile(UserModel):
    """The schema of ``indicators.yaml`` and of a registry's own definitions file."""

    version: Literal[1] = 1
    indicators: list[IndicatorEntry] = Field(max_length=500)

    @field_validator("indicators")
    @classmethod
    def _unique(cls, entries: list[IndicatorEntry]) -> list[IndicatorEntry]:
        ids = [e.id for e in entries]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise opr_error(f"indikator-ID brukt flere ganger: {', '.join(dup)}")
        return entries


@dataclass(frozen=True)
class Indicator:
    """One quality indicator (see indicators.yaml for the meaning of each field)."""

    id: str
    title: str
    short: str
    long: str
    type: str
    statistic: str
    direction: str
    green: float
    yellow: float
    min_denominator: int
    first_year: int
    params: dict = field(default_factory=dict)
    unit: str = "share"

    def level(self, value: float, denominator: int) -> str:
        """``green``/``yellow``/``red``, or ``too_few`` under the minimum denominator or for NA."""
        if denominator < self.min_denominator or value != value:  # NaN: 0/0
            return "too_few"
        better = (lambda v, t: v >= t) if self.direction == "higher" else (lambda v, t: v <= t)
        if better(value, self.green):
            return "green"
        return "yellow" if better(value, self.yellow) else "red"


def _indicator(e: IndicatorEntry) -> Indicator:
    return Indicator(
        id=e.id,
        title=e.title,
        short=e.short,
        long=e.long,
        type=e.type,
        statistic=e.statistic,
        direction=e.direction,
        green=float(e.green),
        yellow=float(e.yellow),
        min_denominator=e.min_denominator,
        first_year=e.first_year,
        params=dict(e.params),
        unit=e.unit or ("share" if e.type == "share" else ""),
    )


def _entries(raw: Any, source: str) -> list[Indicator]:
    return [_indicator(e) for e in validate(DefinitionsFile, raw if raw is not None else {}, source).indicators]


def load_definitions(override: str | os.PathLike | None = None) -> dict[str, Indicator]:
    """The package's indicators by id, with a registry's own file (``override``) applied."""
    from ..safety.limits import load_yaml, load_yaml_file

    data = resources.files("opr_analysis.indicators").joinpath("indicators.yaml").read_bytes()
    out = {i.id: i for i in _entries(load_yaml(data, "indicators.yaml", package_file=True), "indicators.yaml")}
    if override is not None:
        raw, _ = load_yaml_file(override, "indikatorfilen")
        for ind in _entries(raw, os.path.basename(override)):
            out[ind.id] = ind
    return out
