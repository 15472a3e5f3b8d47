"""The registry codebook: tables, columns, types, codes and labels.

Everything that needs to know the shape of an extract (the reader, the pandera
schemas, ``docs/codebook.md``, research-extract labels) asks this module; the
definitions themselves live in ``codebook.yaml`` beside it.

Examples
--------
>>> from opr_analysis import codebook
>>> cb = codebook.load()
>>> cb.tables["referrals"].columns["decision"].codes["avvist"]
'Avvist'
>>> cb.tables["patients"].id_column
'patient_id'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import yaml

TYPES = ("id", "string", "text", "int", "float", "bool", "date", "datetime", "code", "item", "orgnr")
#: Disclosure classes a column may declare (``disclosure:``); the research extract's classes
#: (:data:`opr_analysis.extracts.variables.DISCLOSURE_CLASSES`). A ``direct_identifier`` is never
#: delivered nor shown in a report (serial numbers and lots of implants, issue 27).
DISCLOSURE = ("direct_identifier", "quasi_identifier", "sensitive", "other")


@dataclass(frozen=True)
class Column:
    """One column of an extract table."""

    name: str
    type: str
    label: str
    description: str
    optional: bool = False
    codes: dict[str, str] = field(default_factory=dict)
    blank_label: str | None = None
    min: float | None = None
    max: float | None = None
    unique: bool = False
    references: str | None = None
    extension: bool = False
    since: str | None = None  # contract version that added the column ("1.1"); None = v1
    disclosure: str | None = None  # one of DISCLOSURE; None: the research extract classifies by type

    @property
    def direct_identifier(self) -> bool:
        """An id column or a column declared ``disclosure: direct_identifier``: never delivered or published."""
        return self.type == "id" or self.disclosure == "direct_identifier"

    @property
    def reference_table(self) -> str | None:
        return self.references.split(".")[0] if self.references else None

    @property
    def reference_column(self) -> str | None:
        return self.references.split(".")[1] if self.references else None


@dataclass(frozen=True)
class Table:
    """One table of an extract: its columns in file order."""

    name: str
    label: str
    description: str
    required: bool
    columns: dict[str, Column]
    since: str | None = None  # contract version that added the table ("1.1"); None = v1

    @property
    def id_column(self) -> str | None:
        """The column that identifies a row (``unique: true``), if any."""
        for col in self.columns.values():
            if col.unique:
                return col.name
        return None

    @property
    def required_columns(self) -> list[str]:
        """Columns that must be present in the file (extensions may be absent)."""
        return [c.name for c in self.columns.values() if not c.extension]


@dataclass(frozen=True)
class Item:
    """One questionnaire item: its code, instrument and valid range."""

    code: str
    instrument: str
    label: str
    min: float
    max: float
    codes: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Instrument:
    """A questionnaire instrument (PROM) and its items."""

    name: str
    label: str
    description: str
    source: str
    questionnaires: tuple[str, ...]
    items: dict[str, Item]


@dataclass(frozen=True)
class Codebook:
    """All tables of the extract, in dependency order."""

    version: int
    contract: str
    tables: dict[str, Table]
    instruments: dict[str, Instrument] = field(default_factory=dict)
    extra: dict = field(default_factory=dict)

    @property
    def items(self) -> dict[str, Item]:
        """Every questionnaire item by its code, across instruments."""
        return {code: item for ins in self.instruments.values() for code, item in ins.items.items()}

    def column(self, table: str, column: str) -> Column:
        return self.tables[table].columns[column]

    def code_label(self, table: str, column: str, code: str) -> str:
        """Norwegian label of a code (``blank_label`` for a blank)."""
        col = self.column(table, column)
        if code is None or code == "":
            return col.blank_label or ""
        return col.codes[code]


def _column(name: str, spec: dict) -> Column:
    if spec.get("type") not in TYPES:
        raise ValueError(f"codebook: column {name!r} has unknown type {spec.get('type')!r}")
    codes = {str(k): str(v) for k, v in (spec.get("codes") or {}).items()}
    if spec.get("disclosure") not in (None, *DISCLOSURE):
        raise ValueError(f"codebook: column {name!r} has unknown disclosure class {spec.get('disclosure')!r}")
    return Column(
        name=name,
        type=spec["type"],
        label=spec["label"],
        description=spec["description"],
        optional=bool(spec.get("optional", False)),
        codes=codes,
        blank_label=spec.get("blank_label"),
        min=spec.get("min"),
        max=spec.get("max"),
        unique=bool(spec.get("unique", False)),
        references=spec.get("references"),
        extension=bool(spec.get("extension", False)),
        since=spec.get("since"),
        disclosure=spec.get("disclosure"),
    )


def _instrument(name: str, spec: dict) -> Instrument:
    items = {
        code: Item(
            code=code,
            instrument=name,
            label=ispec["label"],
            min=ispec["min"],
            max=ispec["max"],
            codes={int(k): str(v) for k, v in (ispec.get("codes") or {}).items()},
        )
        for code, ispec in spec["items"].items()
    }
    return Instrument(
        name=name,
        label=spec["label"],
        description=spec["description"],
        source=spec.get("source", ""),
        questionnaires=tuple(spec.get("questionnaires", ("baseline", "followup"))),
        items=items,
    )


def from_dict(raw: dict, instruments: dict | None = None) -> Codebook:
    """Build a :class:`Codebook` from its YAML structure (validated)."""
    tables = {}
    for tname, tspec in raw["tables"].items():
        cols = {cname: _column(cname, cspec) for cname, cspec in tspec["columns"].items()}
        tables[tname] = Table(
            name=tname,
            label=tspec["label"],
            description=tspec["description"],
            required=bool(tspec.get("required", True)),
            columns=cols,
            since=tspec.get("since"),
        )
    for t in tables.values():
        for c in t.columns.values():
            if c.references:
                rt, rc = c.reference_table, c.reference_column
                if rt not in tables or rc not in tables[rt].columns:
                    raise ValueError(f"codebook: {t.name}.{c.name} references unknown {c.references}")
    ins = {n: _instrument(n, spec) for n, spec in ((instruments or {}).get("instruments") or {}).items()}
    seen: dict[str, str] = {}
    for i in ins.values():
        for code in i.items:
            if code in seen:
                raise ValueError(f"codebook: item {code!r} is in both {seen[code]} and {i.name}")
            seen[code] = i.name
    extra = {k: v for k, v in raw.items() if k not in ("version", "contract", "tables")}
    return Codebook(version=raw["version"], contract=raw["contract"], tables=tables, instruments=ins, extra=extra)


@lru_cache(maxsize=1)
def load() -> Codebook:
    """The package's codebook (parsed once per process)."""
    pkg = resources.files("opr_analysis.extract")
    # libyaml's safe loader when present: the pure-Python one costs every command 0.1 s.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    raw = yaml.load(pkg.joinpath("codebook.yaml").read_text(encoding="utf-8"), Loader=loader)
    instruments = yaml.load(pkg.joinpath("instruments.yaml").read_text(encoding="utf-8"), Loader=loader)
    return from_dict(raw, instruments)
