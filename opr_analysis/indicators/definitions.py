"""Indicator definitions as data: ``indicators.yaml`` in this package, overridable per registry.

:func:`load_definitions` reads the package's file and, if given, a registry's
own YAML file of the same shape: an entry with a known ``id`` replaces the
package's entry, a new ``id`` is appended. Every entry is checked (known type,
statistic and direction; thresholds in the right order for the direction;
a share's thresholds within 0-1) so a typo fails when the file is read, not
in the middle of a report.

>>> defs = load_definitions()
>>> defs["opr_baseline"].type, defs["opr_baseline"].direction
('share', 'higher')
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import yaml

from ..errors import UsageError

TYPES = ("share", "mean", "median")
DIRECTIONS = ("higher", "lower")
KEYS = ("id", "title", "short", "long", "type", "statistic", "direction", "green", "yellow", "min_denominator",
        "first_year")  # fmt: skip


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


def _indicator(raw: dict, source: str) -> Indicator:
    missing = [k for k in KEYS if k not in raw]
    where = f"{source}: indikator «{raw.get('id', '?')}»"
    if missing:
        raise UsageError(f"{where} mangler {', '.join(missing)}")
    from .statistics import STATISTICS

    if raw["type"] not in TYPES:
        raise UsageError(f"{where}: ukjent type «{raw['type']}» (gyldige: {', '.join(TYPES)})")
    if raw["statistic"] not in STATISTICS:
        raise UsageError(f"{where}: ukjent statistikk «{raw['statistic']}» (gyldige: {', '.join(STATISTICS)})")
    if raw["direction"] not in DIRECTIONS:
        raise UsageError(f"{where}: retning må være higher eller lower, ikke «{raw['direction']}»")
    green, yellow = float(raw["green"]), float(raw["yellow"])
    if (raw["direction"] == "higher" and green < yellow) or (raw["direction"] == "lower" and green > yellow):
        raise UsageError(f"{where}: grønt nivå ({green:g}) må være bedre enn gult ({yellow:g})")
    if raw["type"] == "share" and not (0 <= yellow <= 1 and 0 <= green <= 1):
        raise UsageError(f"{where}: målnivåene for en andel må ligge mellom 0 og 1")
    return Indicator(
        id=str(raw["id"]),
        title=str(raw["title"]),
        short=str(raw["short"]),
        long=str(raw["long"]),
        type=raw["type"],
        statistic=raw["statistic"],
        direction=raw["direction"],
        green=green,
        yellow=yellow,
        min_denominator=int(raw["min_denominator"]),
        first_year=int(raw["first_year"]),
        params=dict(raw.get("params") or {}),
        unit=str(raw.get("unit", "share" if raw["type"] == "share" else "")),
    )


def _entries(text: str, source: str) -> list[Indicator]:
    raw = yaml.safe_load(text) or {}
    entries = [_indicator(r, source) for r in raw.get("indicators") or []]
    ids = [i.id for i in entries]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise UsageError(f"{source}: indikator-ID brukt flere ganger: {', '.join(dup)}")
    return entries


def load_definitions(override: str | os.PathLike | None = None) -> dict[str, Indicator]:
    """The package's indicators by id, with a registry's own file (``override``) applied."""
    text = resources.files("opr_analysis.indicators").joinpath("indicators.yaml").read_text(encoding="utf-8")
    out = {i.id: i for i in _entries(text, "indicators.yaml")}
    if override is not None:
        path = Path(override)
        if not path.is_file():
            raise UsageError(f"fant ikke indikatorfilen «{path}»")
        for ind in _entries(path.read_text(encoding="utf-8"), path.name):
            out[ind.id] = ind
    return out
