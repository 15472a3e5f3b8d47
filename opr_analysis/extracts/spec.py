"""The delivery spec: one reviewed YAML file per research delivery.

A spec names the project, its research question and what it may have
(seed §5.1.1). :func:`load_spec` reads and validates it and raises
:class:`~opr_analysis.errors.UsageError` listing every problem at once, in
Norwegian, so the reviewer can fix the file in one go.

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
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UsageError

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
PROJECT_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,40}$")

TOP_KEYS = {
    "project",
    "title",
    "research_question",
    "approvals",
    "recipient",
    "agreement",
    "period",
    "inclusion",
    "variables",
    "dates",
    "formats",
    "disclosure",
}
INCLUSION_KEYS = {
    "enrolment_years",
    "age",
    "sex",
    "treatment_kinds",
    "has_baseline",
    "followup_kinds",
    "followup_responded",
    "first_enrolment_only",
}
DISCLOSURE_KEYS = {"k", "quasi_identifiers", "on_violation", "generalise", "min_cell", "age_band_width"}


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
    raw: dict = field(default_factory=dict, compare=False)
    source_bytes: bytes = field(default=b"", compare=False, repr=False)

    @property
    def all_variables(self) -> list[str]:
        return [v for level in LEVELS for v in self.variables.get(level, ())]


def load_spec(path: str | Path) -> Spec:
    """Read and validate a spec file; :class:`UsageError` lists every problem."""
    from ..safety.limits import MAX_YAML_BYTES, load_yaml

    p = Path(path)
    if not p.is_file():
        raise UsageError(f"fant ikke spesifikasjonsfilen «{p}»")
    with open(p, "rb") as fh:  # never more than the limit into memory
        data = fh.read(MAX_YAML_BYTES + 1)
    raw = load_yaml(data, p.name)  # size limit, no anchors/aliases (safety.limits)
    return parse_spec(raw, source_bytes=data, name=p.name)


def parse_spec(raw, source_bytes: bytes = b"", name: str = "spesifikasjonen") -> Spec:
    """Validate the parsed YAML structure ``raw`` (see :func:`load_spec`)."""
    errs: list[str] = []
    if not isinstance(raw, dict):
        raise UsageError(f"{name}: ventet en YAML-mapping med nøkler som project, title, variables")
    _unknown(raw, TOP_KEYS, "", errs)
    project = _text(raw, "project", errs, required=True)
    if project and not PROJECT_ID.match(project):
        errs.append(f"project «{project}»: bruk 2–41 tegn a–z, 0–9 og bindestrek (det blir mappenavn og nøkkelnavn)")
    title = _text(raw, "title", errs, required=True)
    question = _text(raw, "research_question", errs, required=True)
    recipient = raw.get("recipient")
    if not isinstance(recipient, dict) or not str(recipient.get("name") or "").strip():
        errs.append("recipient: mangler (ventet minst «name», gjerne «institution» og «email»)")
        recipient = {}
    approvals = raw.get("approvals") or []
    if not isinstance(approvals, list) or not all(isinstance(a, dict) and a.get("reference") for a in approvals):
        errs.append("approvals: ventet en liste av {kind: ..., reference: ...}")
        approvals = []
    agreement = " ".join(str(raw.get("agreement") or "").split())
    period = _period(raw.get("period"), errs)
    inclusion = _inclusion(raw.get("inclusion") or {}, errs)
    variables = _variables(raw.get("variables"), errs)
    dates = str(raw.get("dates", "year"))
    if dates not in DATE_LEVELS:
        errs.append(f"dates «{dates}»: ventet en av {', '.join(DATE_LEVELS)}")
    formats = raw.get("formats", ["csv"])
    if isinstance(formats, str):
        formats = [formats]
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        errs.append(f"formats {bad or '[]'}: ventet noen av {', '.join(FORMATS)}")
    disclosure = _disclosure(raw.get("disclosure") or {}, errs)
    if errs:
        raise UsageError(f"{name} har feil:\n  " + "\n  ".join(errs))
    return Spec(
        project=project,
        title=title,
        research_question=question,
        recipient=dict(recipient),
        variables=variables,
        approvals=tuple(dict(a) for a in approvals),
        agreement=agreement,
        period=period,
        inclusion=inclusion,
        dates=dates,
        formats=tuple(dict.fromkeys(formats)),
        disclosure=disclosure,
        raw=raw,
        source_bytes=source_bytes,
    )


def _unknown(d: dict, allowed: set[str], where: str, errs: list[str]) -> None:
    for k in d:
        if k not in allowed:
            errs.append(f"{where}{k}: ukjent nøkkel (tillatt: {', '.join(sorted(allowed))})")


def _text(raw: dict, key: str, errs: list[str], required: bool = False) -> str:
    value = raw.get(key)
    if value is None or not str(value).strip():
        if required:
            errs.append(f"{key}: mangler (påkrevd)")
        return ""
    return " ".join(str(value).split()) if key != "research_question" else str(value).strip()


def _date(value, where: str, errs: list[str]) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        errs.append(f"{where} «{value}»: ventet dato som ÅÅÅÅ-MM-DD")
        return None


def _period(value, errs: list[str]) -> tuple[dt.date | None, dt.date | None]:
    if value is None:
        return (None, None)
    if not isinstance(value, dict):
        errs.append("period: ventet {from: ÅÅÅÅ-MM-DD, to: ÅÅÅÅ-MM-DD}")
        return (None, None)
    _unknown(value, {"from", "to"}, "period.", errs)
    start, end = _date(value.get("from"), "period.from", errs), _date(value.get("to"), "period.to", errs)
    if start and end and start > end:
        errs.append(f"period: from ({start}) ligger etter to ({end})")
    return (start, end)


def _codes(value, allowed: tuple[str, ...], where: str, errs: list[str]) -> tuple[str, ...] | None:
    if value is None:
        return None
    values = [value] if isinstance(value, str) else list(value)
    bad = [v for v in values if v not in allowed]
    if bad or not values:
        errs.append(f"{where} {bad or '[]'}: ventet noen av {', '.join(allowed)}")
    return tuple(values)


def _inclusion(raw, errs: list[str]) -> Inclusion:
    from ..extract import codebook

    if not isinstance(raw, dict):
        errs.append("inclusion: ventet en mapping av kriterier")
        return Inclusion()
    _unknown(raw, INCLUSION_KEYS, "inclusion.", errs)
    cb = codebook.load()
    years = raw.get("enrolment_years")
    if years is not None:
        if isinstance(years, int):
            years = (years, years)
        elif isinstance(years, dict):
            years = (years.get("from"), years.get("to"))
        elif isinstance(years, list) and len(years) == 2:
            years = tuple(years)
        if not (isinstance(years, tuple) and all(isinstance(y, int) for y in years) and years[0] <= years[1]):
            errs.append("inclusion.enrolment_years: ventet et år, [fra, til] eller {from: år, to: år}")
            years = None
    age = raw.get("age")
    if age is not None:
        if not isinstance(age, dict) or set(age) - {"min", "max"} or not age:
            errs.append("inclusion.age: ventet {min: år, max: år}")
            age = None
        else:
            age = (age.get("min"), age.get("max"))
    bools = {}
    for key in ("has_baseline", "followup_responded", "first_enrolment_only"):
        v = raw.get(key)
        if v is not None and not isinstance(v, bool):
            errs.append(f"inclusion.{key}: ventet true eller false")
            v = None
        bools[key] = v
    return Inclusion(
        enrolment_years=years,
        age=age,
        sex=_codes(raw.get("sex"), tuple(cb.column("patients", "sex").codes), "inclusion.sex", errs),
        treatment_kinds=_codes(
            raw.get("treatment_kinds"), tuple(cb.column("treatments", "kind").codes), "inclusion.treatment_kinds", errs
        ),
        has_baseline=bools["has_baseline"],
        followup_kinds=_codes(
            raw.get("followup_kinds"), tuple(cb.column("followups", "kind").codes), "inclusion.followup_kinds", errs
        ),
        followup_responded=bools["followup_responded"],
        first_enrolment_only=bool(bools["first_enrolment_only"]),
    )


def _variables(raw, errs: list[str]) -> dict[str, tuple[str, ...]]:
    from .variables import resolve

    if not isinstance(raw, dict) or not raw.get("enrolments"):
        errs.append(
            "variables: ventet minst «enrolments: [...]» (én rad per innskriving), og ev. " + ", ".join(LEVELS[1:])
        )
        return {}
    out = {}
    for level, names in raw.items():
        if level not in LEVELS:
            errs.append(f"variables.{level}: ukjent nivå (tillatt: {', '.join(LEVELS)})")
            continue
        if isinstance(names, str):
            names = [names]
        resolved = []
        for n in names or []:
            try:
                resolved.append(resolve(str(n), level).name)
            except UsageError as exc:
                errs.append(f"variables.{level}: {exc}")
        dup = sorted({n for n in resolved if resolved.count(n) > 1})
        if dup:
            errs.append(f"variables.{level}: {', '.join(dup)} står flere ganger")
        out[level] = tuple(dict.fromkeys(resolved))
    return out


def _disclosure(raw, errs: list[str]) -> Disclosure:
    if not isinstance(raw, dict):
        errs.append("disclosure: ventet en mapping")
        return Disclosure()
    _unknown(raw, DISCLOSURE_KEYS, "disclosure.", errs)
    k = raw.get("k", 5)
    if not isinstance(k, int) or k < 2:
        errs.append(f"disclosure.k «{k}»: ventet et heltall ≥ 2")
        k = 5
    min_cell = raw.get("min_cell", 5)
    if not isinstance(min_cell, int) or min_cell < 1:
        errs.append(f"disclosure.min_cell «{min_cell}»: ventet et heltall ≥ 1")
        min_cell = 5
    on_violation = raw.get("on_violation", "refuse")
    if on_violation in ("generalize",):
        on_violation = "generalise"
    if on_violation not in ("refuse", "generalise"):
        errs.append(f"disclosure.on_violation «{on_violation}»: ventet refuse eller generalise")
    ladder = raw.get("generalise", list(DEFAULT_LADDER))
    bad = [s for s in ladder if s not in GENERALISATION_STEPS]
    if bad:
        errs.append(f"disclosure.generalise {bad}: ventet trinn blant {', '.join(GENERALISATION_STEPS)}")
    width = raw.get("age_band_width", 5)
    if width not in (5, 10, 20):
        errs.append(f"disclosure.age_band_width «{width}»: ventet 5, 10 eller 20")
        width = 5
    qis = raw.get("quasi_identifiers")
    if qis is not None:
        from .variables import resolve

        names = []
        for q in qis:
            try:
                names.append(resolve(str(q), "enrolments").name)
            except UsageError as exc:
                errs.append(f"disclosure.quasi_identifiers: {exc}")
        qis = tuple(names)
    return Disclosure(
        k=k,
        quasi_identifiers=qis,
        on_violation=on_violation,
        generalise=tuple(ladder),
        min_cell=min_cell,
        age_band_width=width,
    )
