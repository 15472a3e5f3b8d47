"""The delivery spec: one reviewed YAML file per research delivery.

A spec names the project, its research question and what it may have
(seed §5.1.1). :func:`load_spec` reads it through the guarded YAML loader
(:mod:`opr_analysis.safety.limits`) and validates it against one schema
(:class:`ExtractSpecFile`, pydantic; :mod:`opr_analysis.safety.schema`),
raising :class:`~opr_analysis.errors.UsageError` that lists every problem at
once, in Norwegian, so the reviewer can fix the file in one go: unknown keys
(with the nearest known one), wrong types, values out of range (dates and
years 1990–2100, ages 0–120, ``k`` 2–100), unknown codes and variables.

Example (see ``reports/extracts/examples/`` for complete files)::

    project: sovn-2024
    title: Søvn og langvarig smerte
    research_question: Henger søvnvansker ved innskriving sammen med ...?
    recipient: {name: Kari Nordmann, institution: Universitetet i Oslo}
    period: {from: 2021-01-01, to: 2023-12-31}
    inclusion: {age: {min: 18}, has_baseline: true}
    variables:
      enrolments: [age_band, patients.sex, enrolment_year, has_baseline]
    dates: month
    formats: [csv, sav]

>>> spec = parse_spec({"project": "p1", "title": "T", "research_question": "Q?",
...     "recipient": {"name": "A"}, "variables": {"enrolments": ["age_band"]}})
>>> spec.dates, spec.formats, spec.disclosure.k
('year', ('csv',), 5)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BeforeValidator, ValidationInfo, field_validator

from ..errors import UsageError
from ..safety.schema import SLUG, Field, Listed, NonEmptyText, PlainDate, Slug, UserModel, Year, opr_error, validate

DATE_LEVELS = ("full", "month", "year", "relative")
FORMATS = ("csv", "parquet", "sav", "dta", "xlsx")
LEVELS = ("enrolments", "treatments", "followups", "baseline_responses", "implants")  # implants: issue 27
GENERALISATION_STEPS = (
    "age_band_10",
    "age_band_20",
    "dates_month",
    "dates_year",
    "year_to_period",
    "dates_relative",
    "drop_region",
    "drop_rare_patients",
)
DEFAULT_LADDER = (
    "age_band_10",
    "age_band_20",
    "dates_year",
    "year_to_period",
    "dates_relative",
    "drop_region",
    "drop_rare_patients",
)
PROJECT_ID = SLUG  # (kept for callers of the earlier API)


@dataclass(frozen=True)
class Disclosure:
    """k-anonymity and small-cell settings of a delivery."""

    k: int = 5
    quasi_identifiers: tuple[str, ...] | None = None  # None: the default roles present
    on_violation: str = "refuse"  # refuse | generalise
    generalise: tuple[str, ...] = DEFAULT_LADDER
    min_cell: int = 5
    age_band_width: int = 5


@dataclass(frozen=True)
class Inclusion:
    """Which enrolments are delivered (all criteria must hold)."""

    enrolment_years: tuple[int, int] | None = None
    age: tuple[int | None, int | None] | None = None
    sex: tuple[str, ...] | None = None
    treatment_kinds: tuple[str, ...] | None = None
    has_baseline: bool | None = None
    followup_kinds: tuple[str, ...] | None = None
    followup_responded: bool | None = None
    first_enrolment_only: bool = False


@dataclass(frozen=True)
class Spec:
    """A validated delivery spec (see the module docstring)."""

    project: str
    title: str
    research_question: str
    recipient: dict
    variables: dict[str, tuple[str, ...]]
    approvals: tuple[dict, ...] = ()
    agreement: str = ""
    period: tuple[dt.date | None, dt.date | None] = (None, None)
    inclusion: Inclusion = field(default_factory=Inclusion)
    dates: str = "year"
    formats: tuple[str, ...] = ("csv",)
    disclosure: Disclosure = field(default_factory=Disclosure)
    purpose: str = ""  # plain-language purpose shown to patients (access answers, issue 26); default: the question
    raw: dict = field(default_factory=dict, compare=False)
    source_bytes: bytes = field(default=b"", compare=False, repr=False)

    @property
    def all_variables(self) -> list[str]:
        return [v for level in LEVELS for v in self.variables.get(level, ())]


def _bad_codes(values: list[str], allowed, what: str) -> list[str]:
    bad = [v for v in values if v not in allowed]
    if bad:
        raise opr_error(f"ukjent {what} {bad}; ventet noen av {', '.join(allowed)}")
    return values


def _codebook_codes(table: str, column: str) -> tuple[str, ...]:
    from ..extract import codebook

    return tuple(codebook.load().column(table, column).codes)


Codes = Annotated[list[str], Listed, Field(min_length=1, max_length=50)]


class _Recipient(UserModel):
    name: NonEmptyText
    institution: str | None = None
    email: str | None = None


class _Approval(UserModel):
    kind: str = "Godkjenning"
    reference: NonEmptyText
    date: PlainDate | None = None


class _Period(UserModel):
    start: PlainDate | None = Field(None, alias="from")
    to: PlainDate | None = None

    @field_validator("to")
    @classmethod
    def _ordered(cls, end, info: ValidationInfo):
        start = info.data.get("start")
        if start and end and start > end:
            raise opr_error(f"from ({start}) ligger etter to ({end})")
        return end


class _Years(UserModel):
    start: Year = Field(alias="from")
    to: Year


class _Age(UserModel):
    min: int | None = Field(None, ge=0, le=120)
    max: int | None = Field(None, ge=0, le=120)

    @field_validator("max")
    @classmethod
    def _ordered(cls, hi, info: ValidationInfo):
        lo = info.data.get("min")
        if lo is not None and hi is not None and lo > hi:
            raise opr_error(f"min ({lo}) er større enn max ({hi})")
        return hi


def _years_mapping(value):
    """``2022``, ``[2021, 2023]`` or ``{from: 2021, to: 2023}``, all as the mapping."""
    if isinstance(value, int) and not isinstance(value, bool):
        return {"from": value, "to": value}
    if isinstance(value, list):
        if len(value) != 2:
            raise opr_error("ventet et år, [fra, til] eller {from: år, to: år}")
        return {"from": value[0], "to": value[1]}
    if value is not None and not isinstance(value, dict):
        raise opr_error("ventet et år, [fra, til] eller {from: år, to: år}")
    return value


class _Inclusion(UserModel):
    enrolment_years: Annotated[_Years | None, BeforeValidator(_years_mapping)] = None
    age: _Age | None = None
    sex: Codes | None = None
    treatment_kinds: Codes | None = None
    has_baseline: bool | None = None
    followup_kinds: Codes | None = None
    followup_responded: bool | None = None
    first_enrolment_only: bool = False

    @field_validator("enrolment_years")
    @classmethod
    def _years(cls, value):
        if value is None:
            return None
        lo, hi = value.start, value.to
        if lo > hi:
            raise opr_error(f"fra-året ({lo}) ligger etter til-året ({hi})")
        return (lo, hi)

    @field_validator("sex")
    @classmethod
    def _sex(cls, v):
        return v if v is None else _bad_codes(v, _codebook_codes("patients", "sex"), "kode")

    @field_validator("treatment_kinds")
    @classmethod
    def _treatments(cls, v):
        return v if v is None else _bad_codes(v, _codebook_codes("treatments", "kind"), "behandlingstype")

    @field_validator("followup_kinds")
    @classmethod
    def _followups(cls, v):
        return v if v is None else _bad_codes(v, _codebook_codes("followups", "kind"), "oppfølgingstype")


def _resolved(names: list[str], level: str) -> list[str]:
    """The variables' canonical names; every unknown one in one error (with suggestions)."""
    from .variables import resolve

    out, problems = [], []
    for n in names:
        try:
            out.append(resolve(str(n), level).name)
        except UsageError as exc:
            problems.append(str(exc))
    if problems:
        raise opr_error(" ".join(problems))
    dup = sorted({n for n in out if out.count(n) > 1})
    if dup:
        raise opr_error(f"{', '.join(dup)} står flere ganger")
    return list(dict.fromkeys(out))


Names = Annotated[list[str], Listed, Field(max_length=500)]


class _Variables(UserModel):
    enrolments: Annotated[Names, Field(min_length=1)]
    treatments: Names = []
    followups: Names = []
    baseline_responses: Names = []
    implants: Names = []  # contract v1.2 (issue 27)

    @field_validator(*LEVELS)
    @classmethod
    def _resolve(cls, names: list[str], info: ValidationInfo) -> list[str]:
        return _resolved(names, info.field_name)


class _Disclosure(UserModel):
    k: int = Field(5, ge=2, le=100)
    quasi_identifiers: Names | None = None
    on_violation: Literal["refuse", "generalise", "generalize"] = "refuse"
    generalise: Annotated[list[Literal[GENERALISATION_STEPS]], Field(max_length=20)] = list(DEFAULT_LADDER)
    min_cell: int = Field(5, ge=1, le=100)
    age_band_width: Literal[5, 10, 20] = 5

    @field_validator("quasi_identifiers")
    @classmethod
    def _qis(cls, names):
        return names if names is None else _resolved(names, "enrolments")


class ExtractSpecFile(UserModel):
    """The schema of a delivery spec file (the module docstring has an example)."""

    project: Slug
    title: Annotated[NonEmptyText, Field(max_length=500)]
    research_question: NonEmptyText
    purpose: str = Field("", max_length=2_000)  # shown to patients who ask who got their data (issue 26)
    approvals: Annotated[list[_Approval], Field(max_length=20)] = []
    recipient: _Recipient
    agreement: str = Field("", max_length=10_000)
    period: _Period | None = None
    inclusion: _Inclusion = _Inclusion()
    variables: _Variables
    dates: Literal[DATE_LEVELS] = "year"
    formats: Annotated[list[str], Listed, Field(min_length=1, max_length=10)] = ["csv"]
    disclosure: _Disclosure = _Disclosure()

    @field_validator("formats")
    @classmethod
    def _formats(cls, formats: list[str]) -> list[str]:
        return _bad_codes(formats, FORMATS, "format")


def load_spec(path: str | Path) -> Spec:
    """Read and validate a spec file (guarded loader, then the schema); :class:`UsageError` lists every problem."""
    from ..safety.limits import load_yaml_file

    raw, data = load_yaml_file(path, "spesifikasjonsfilen")
    return parse_spec(raw, source_bytes=data, name=Path(path).name)


def parse_spec(raw, source_bytes: bytes = b"", name: str = "spesifikasjonen") -> Spec:
    """Validate the parsed YAML structure ``raw`` against :class:`ExtractSpecFile` (see :func:`load_spec`)."""
    f = validate(ExtractSpecFile, raw, name)
    inc, dis = f.inclusion, f.disclosure
    period = (f.period.start, f.period.to) if f.period else (None, None)
    tupled = lambda v: None if v is None else tuple(v)  # noqa: E731
    return Spec(
        project=f.project,
        title=" ".join(f.title.split()),
        research_question=f.research_question.strip(),
        purpose=" ".join(f.purpose.split()),
        recipient=f.recipient.model_dump(exclude_none=True),
        variables={lv: tuple(names) for lv in LEVELS if (names := getattr(f.variables, lv))},
        approvals=tuple(a.model_dump(exclude_none=True) for a in f.approvals),
        agreement=" ".join(f.agreement.split()),
        period=period,
        inclusion=Inclusion(
            enrolment_years=inc.enrolment_years,
            age=(inc.age.min, inc.age.max) if inc.age and (inc.age.min, inc.age.max) != (None, None) else None,
            sex=tupled(inc.sex),
            treatment_kinds=tupled(inc.treatment_kinds),
            has_baseline=inc.has_baseline,
            followup_kinds=tupled(inc.followup_kinds),
            followup_responded=inc.followup_responded,
            first_enrolment_only=inc.first_enrolment_only,
        ),
        dates=f.dates,
        formats=tuple(dict.fromkeys(f.formats)),
        disclosure=Disclosure(
            k=dis.k,
            quasi_identifiers=tupled(dis.quasi_identifiers),
            on_violation="generalise" if dis.on_violation == "generalize" else dis.on_violation,
            generalise=tuple(dis.generalise),
            min_cell=dis.min_cell,
            age_band_width=dis.age_band_width,
        ),
        raw=raw,
        source_bytes=source_bytes,
    )
