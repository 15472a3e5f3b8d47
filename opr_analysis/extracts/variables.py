"""Deliverable variables: codebook columns and a registry of derived variables.

A spec names variables per *level* (one output file per level):

==================  ==========================================  =============================
level               one row per                                  key columns (always present)
==================  ==========================================  =============================
enrolments          enrolment (patients joined)                  pid, enrolment_seq
treatments          treatment linked to a delivered enrolment    pid, enrolment_seq, treatment_no
followups           follow-up linked to a delivered enrolment    pid, enrolment_seq, followup_no
baseline_responses  baseline linked to a delivered enrolment     pid, enrolment_seq, response_no
implants            implanted component linked to a delivered    pid, enrolment_seq, implant_no
                    enrolment (contract v1.2)
==================  ==========================================  =============================

A variable is either a codebook column ``table.column`` of a table of that
level (``patients.sex``, ``treatments.kind``; a bare ``sex`` works when it is
unambiguous) or a derived variable from :func:`registry` (``age_band``,
``has_baseline``, ...). Ids and birth year never leave: the key columns are
pseudonyms and renumberings, and age replaces birth year.

Linking rule (the same as the annual report's patient-level baseline rate):
an event (treatment, baseline) belongs to the patient's most recent enrolment
granted on or before the event's date; a follow-up belongs to its anchor's
enrolment, and an implanted component to its SCS treatment's (one without a treatment by its
implant date). Events before any enrolment of their patient are not delivered.

Plug-in: further variables (the PROM scores) come from *providers*,
functions returning :class:`Variable` objects; :func:`register_provider` adds
one, and the scores of ``opr_analysis.stats.scoring`` are registered automatically
when that module is importable.

Disclosure classes: every variable is classified once (:func:`classify`) as a
direct identifier (never delivered), a quasi-identifier, sensitive or other.
Quasi-identifiers: every date (any level, any precision except days relative
to the patient's own enrolment), age, sex, region, municipality, enrolment
year and every derived band. A spec may add quasi-identifiers, never remove
these. Judgements that a variable type is *not* identifying are stated in
:data:`NOT_IDENTIFYING` and printed in the delivery's codebook and README. A codebook
column may declare its class (``disclosure:`` in ``codebook.yaml``): a ``direct_identifier``
(an implant's serial number and lot: they name one device, and so its carrier) is refused by
name, like the ids.

>>> resolve("sex", "enrolments").name
'patients.sex'
>>> resolve("age_band", "enrolments").kind
'code'
>>> classify(resolve("enrolments.closed_date", "enrolments"))
'quasi_identifier'
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from ..errors import UsageError
from ..extract import codebook
from ..stats.derived import age_groups, days_between

LEVEL_TABLES = {
    "enrolments": ("patients", "enrolments"),
    "treatments": ("treatments",),
    "followups": ("followups",),
    "baseline_responses": ("baseline_responses",),
    "implants": ("implants",),
}
KEY_COLUMNS = {
    "enrolments": ("pid", "enrolment_seq"),
    "treatments": ("pid", "enrolment_seq", "treatment_no"),
    "followups": ("pid", "enrolment_seq", "followup_no"),
    "baseline_responses": ("pid", "enrolment_seq", "response_no"),
    "implants": ("pid", "enrolment_seq", "implant_no"),
}
NEVER = {"patients.birth_year": "fødselsår utleveres ikke; bruk age_at_enrolment eller age_band"}
DISCLOSURE_CLASSES = ("direct_identifier", "quasi_identifier", "sensitive", "other")
QI_ROLES = ("age", "sex", "region", "year", "date")
# Codebook columns that describe where a person lives or who they are, whatever their type.
QI_COLUMNS = {"sex", "region", "municipality", "kommune", "birth_year", "postal_code", "postnummer", "country"}
# Variable types judged not identifying, with the reason (printed in the delivery's codebook and README).
NOT_IDENTIFYING = {
    "days": "teller dager fra pasientens egen innskriving (rett til helsehjelp); uten innskrivingsdatoen, som "
    "utleveres høyst som år, plasserer den ingen hendelse i kalenderen",
    "count": "antall hendelser (skjema, behandlinger) per innskriving; små og vanlige tall som ikke skiller "
    "pasienter fra hverandre utenom de kvasi-identifiserende variablene",
    "flag": "ja/nei om forløpet (behandling, svar, avslutning); beskriver forløpet, ikke personen",
    "code": "kode for hendelsen (type behandling eller oppfølging); beskriver forløpet, ikke personen",
}
BOOL_CODES = {"1": "Ja", "0": "Nei"}


@dataclass(frozen=True)
class Settings:
    """Generalisation state of a delivery (changed by the disclosure ladder)."""

    dates: str = "year"
    age_band_width: int = 5
    year_as_period: bool = False
    drop_region: bool = False
    age_as_band: bool = False  # age_at_enrolment delivered as age_band
    age_floor: int = 0  # the spec's minimum age: the first age band starts there
    period_label: str = ""


@dataclass
class Context:
    """What a variable's ``compute`` sees: the level's base frame, registry and settings."""

    frame: pd.DataFrame
    reg: object
    settings: Settings
    cache: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Variable:
    """One deliverable variable.

    ``kind``: code | bool | int | float | date | string. ``role`` marks a
    quasi-identifier (age, sex, region, year). ``compute(ctx)`` returns a
    Series aligned to ``ctx.frame``; date variables return datetimes that the
    delivery coarsens to the spec's date level.
    """

    name: str
    level: str
    column: str
    label: str
    kind: str
    compute: Callable[[Context], pd.Series]
    codes: dict[str, str] = field(default_factory=dict)
    role: str | None = None
    description: str = ""
    disclosure: str | None = None  # one of DISCLOSURE_CLASSES; None: decided by :func:`classify`


def classify(var: Variable, settings: Settings | None = None) -> str:
    """The variable's disclosure class (see the module docstring), as delivered under ``settings``."""
    if var.disclosure:
        return var.disclosure
    column = var.name.split(".")[-1]
    if var.role in QI_ROLES or column in QI_COLUMNS or column.endswith("_band"):
        return "quasi_identifier"
    if var.kind == "date":
        relative = settings is not None and settings.dates == "relative"
        return "other" if relative else "quasi_identifier"
    if var.kind == "string":  # free text may describe the person
        return "sensitive"
    if var.name.startswith("patients."):  # the person's own flags (interpreter, cognitive impairment, ...)
        return "sensitive"
    if var.description.startswith("Score computed"):
        return "sensitive"  # health information
    return "other"


def not_identifying_reason(var: Variable, settings: Settings | None = None) -> str:
    """Why a variable classified "other" is judged not identifying ("" for the other classes)."""
    if classify(var, settings) != "other":
        return ""
    if var.kind == "date" or var.name.startswith("days_"):
        return NOT_IDENTIFYING["days"]
    if var.kind == "bool":
        return NOT_IDENTIFYING["flag"]
    if var.kind == "code":
        return NOT_IDENTIFYING["code"]
    return NOT_IDENTIFYING["count"]


# --------------------------------------------------------------------------- derived variables


def _age_band(ctx: Context) -> pd.Series:
    return age_groups(ctx.frame["_age"], ctx.settings.age_band_width, ctx.settings.age_floor)


def _year(ctx: Context) -> pd.Series:
    year = ctx.frame["_granted"].dt.year.astype("Int64")
    if ctx.settings.year_as_period:
        return pd.Series(pd.Categorical([ctx.settings.period_label] * len(year)), index=year.index)
    return year


def _region(ctx: Context) -> pd.Series:
    if ctx.settings.drop_region:
        return pd.Series(pd.NA, index=ctx.frame.index, dtype="string")
    return ctx.frame["_region"]


def _col(name: str) -> Callable[[Context], pd.Series]:
    return lambda ctx: ctx.frame[name]


_REGION_CODES = codebook.load().column("referrals", "region").codes

_DERIVED: list[Variable] = [
    Variable(
        "age_at_enrolment",
        "enrolments",
        "age_at_enrolment",
        "Alder ved innskriving (år, ut fra fødselsår)",
        "int",
        _col("_age"),
        role="age",
        description="Enrolment year minus birth year.",
    ),
    Variable(
        "age_band",
        "enrolments",
        "age_band",
        "Aldersgruppe ved innskriving",
        "code",
        _age_band,
        role="age",
        description="Age at enrolment in bands of disclosure.age_band_width years; 80+ top band.",
    ),
    Variable(
        "enrolment_year",
        "enrolments",
        "enrolment_year",
        "Innskrivingsår (rett til helsehjelp)",
        "int",
        _year,
        role="year",
        description="Year of granted_date (or the whole period after generalisation).",
    ),
    Variable(
        "region",
        "enrolments",
        "region",
        "Helseregion (fra siste henvisning med rett før innskriving)",
        "code",
        _region,
        codes=dict(_REGION_CODES),
        role="region",
        description="Region of the patient's latest referral with decision rett assessed on or before "
        "granted_date (at most 365 days before); blank when none.",
    ),
    Variable(
        "has_baseline",
        "enrolments",
        "has_baseline",
        "Har baselinebesvarelse før førstekonsultasjon",
        "bool",
        _col("_has_baseline"),
        description="A baseline linked to the enrolment was submitted on or before the first consultation "
        "(any linked baseline when there is no first consultation yet).",
    ),
    Variable(
        "days_to_first_consultation",
        "enrolments",
        "days_to_first_consultation",
        "Dager fra rett til helsehjelp til førstekonsultasjon",
        "int",
        lambda c: days_between(c.frame["_first"], c.frame["_granted"]),
    ),
    Variable(
        "days_to_closed",
        "enrolments",
        "days_to_closed",
        "Dager fra rett til helsehjelp til avslutning",
        "int",
        lambda c: days_between(c.frame["_closed"], c.frame["_granted"]),
    ),
    Variable(
        "closed_in_registry",
        "enrolments",
        "closed_in_registry",
        "Avsluttet i registeret",
        "bool",
        lambda c: c.frame["_closed"].notna().astype("boolean"),
    ),
    Variable(
        "treated_rf",
        "enrolments",
        "treated_rf",
        "Fikk radiofrekvensbehandling (RF)",
        "bool",
        lambda c: (c.frame["_n_rf"] > 0).astype("boolean"),
    ),
    Variable(
        "treated_scs",
        "enrolments",
        "treated_scs",
        "Fikk ryggmargsstimulator (SCS)",
        "bool",
        lambda c: (c.frame["_n_scs"] > 0).astype("boolean"),
    ),
    Variable(
        "n_followups_sent",
        "enrolments",
        "n_followups_sent",
        "Antall oppfølgingsskjema sendt",
        "int",
        _col("_n_fu_sent"),
    ),
    Variable(
        "n_followups_responded",
        "enrolments",
        "n_followups_responded",
        "Antall oppfølgingsskjema besvart",
        "int",
        _col("_n_fu_resp"),
    ),
    Variable(
        "short_form_given",
        "enrolments",
        "short_form_given",
        "Fikk kortversjon av baseline",
        "bool",
        lambda c: (c.frame["_n_short"] > 0).astype("boolean"),
    ),
    Variable(
        "responded",
        "followups",
        "responded",
        "Besvart",
        "bool",
        lambda c: c.frame["followups.responded_at"].notna().astype("boolean"),
    ),
    Variable(
        "treatment_no",
        "followups",
        "treatment_no",
        "Behandlingsnummer (treatment_no i behandlingsfilen) som skjemaet følger opp",
        "int",
        _col("_treatment_no"),
    ),
    Variable(
        "before_first_consultation",
        "baseline_responses",
        "before_first_consultation",
        "Besvart før (eller på dagen for) førstekonsultasjon",
        "bool",
        _col("_before_fc"),
    ),
]
# --- implants (contract v1.2, issue 27) ---
_DERIVED += [
    Variable(
        "days_to_explant",
        "implants",
        "days_to_explant",
        "Dager fra implantasjon til eksplantasjon (blank: ikke tatt ut)",
        "int",
        lambda c: days_between(c.frame["implants.explanted_date"], c.frame["implants.implanted_date"]),
        description="explanted_date minus implanted_date in days; blank while the component is in.",
    ),
    Variable(
        "treatment_no",
        "implants",
        "treatment_no",
        "Behandlingsnummer (treatment_no i behandlingsfilen) som komponenten hører til",
        "int",
        _col("_treatment_no"),
    ),
]
for _lvl in ("treatments", "followups", "baseline_responses", "implants"):
    _DERIVED.append(
        Variable(
            "days_since_enrolment",
            _lvl,
            "days_since_enrolment",
            "Dager fra rett til helsehjelp til hendelsen",
            "int",
            lambda c: days_between(c.frame["_date"], c.frame["_granted"]),
        )
    )

_PROVIDERS: list[Callable[[], Iterable[Variable]]] = []


def register_provider(provider: Callable[[], Iterable[Variable]]) -> None:
    """Add a source of derived variables (called whenever the registry is built).

    >>> register_provider(lambda: [])
    """
    if provider not in _PROVIDERS:
        _PROVIDERS.append(provider)


def _score_variables() -> list[Variable]:
    """PROM scores from ``opr_analysis.stats.scoring`` (if present) per questionnaire level.

    Each score column of ``score_all`` becomes a variable of the
    baseline_responses level (from baseline_answers) and of the followups level
    (from followup_answers).
    """
    try:
        from ..stats.scoring import SCORE_LABELS, answers_to_wide, score_all
    except ImportError:
        return []
    # The score columns are known without scoring anything (a test keeps SCORE_LABELS in step).
    columns = list(SCORE_LABELS)
    labels = dict(SCORE_LABELS)

    def scores(level: str, table: str, id_col: str):
        def compute(ctx: Context) -> pd.Series:
            key = ("scores", level)
            if key not in ctx.cache:
                answers = ctx.reg.tables[table]
                long = pd.DataFrame(
                    {
                        id_col: answers[id_col].astype(object),
                        "item": answers["item"].astype(object),
                        "value": answers["value"].astype(float),
                    }
                )
                ctx.cache[key] = score_all(answers_to_wide(long, id_col)) if len(long) else None
            return ctx.cache[key]

        return compute

    out = []
    for level, table, id_col in (
        ("baseline_responses", "baseline_answers", "response_id"),
        ("followups", "followup_answers", "followup_id"),
    ):
        frame_scores = scores(level, table, id_col)
        for col in columns:

            def compute(ctx: Context, col=col, frame_scores=frame_scores, id_col=id_col) -> pd.Series:
                s = frame_scores(ctx)
                ids = ctx.frame[f"_{id_col}"].astype(object)
                if s is None or col not in s:
                    return pd.Series(np.nan, index=ctx.frame.index)
                return pd.Series(s[col].reindex(ids).to_numpy(), index=ctx.frame.index)

            kind, codes = _score_kind(col)
            out.append(
                Variable(
                    col,
                    level,
                    col,
                    labels.get(col, f"Skår: {col}"),
                    kind,
                    compute,
                    codes=codes,
                    description="Score computed by opr_analysis.stats.scoring.score_all.",
                )
            )
    return out


def _score_kind(column: str) -> tuple[str, dict[str, str]]:
    """The delivery kind of a score column: flags are bool, bands are codes, the profile is text."""
    from ..stats import scoring

    if column in ("hscl10_case", "pcs_clinical", "pgic_improved"):
        return "bool", {}
    if column == "isi_category":
        return "code", dict(scoring.ISI_CATEGORIES)
    if column == "odi_category":
        return "code", dict(scoring.ODI_CATEGORIES)
    if column == "eq5d_profile":
        return "string", {}
    return "float", {}


register_provider(_score_variables)


def registry() -> dict[tuple[str, str], Variable]:
    """Every derived variable by (level, name), built-ins first, then providers."""
    out = {(v.level, v.name): v for v in _DERIVED}
    for provider in _PROVIDERS:
        for v in provider():
            out.setdefault((v.level, v.name), v)
    return out


# --------------------------------------------------------------------------- codebook variables

_KIND = {
    "string": "string",
    "text": "string",
    "orgnr": "string",
    "int": "int",
    "float": "float",
    "bool": "bool",
    "date": "date",
    "datetime": "date",
    "code": "code",
}


def _codebook_variable(table: str, column: str, level: str) -> Variable:
    col = codebook.load().column(table, column)
    name = f"{table}.{column}"
    if name in NEVER:
        raise UsageError(f"«{name}»: {NEVER[name]}")
    if col.disclosure == "direct_identifier" and col.type != "id":
        raise UsageError(
            f"«{name}» er en direkte identifikator ({col.label.lower()} peker ut én bestemt enhet og dermed "
            "pasienten som har den) og utleveres aldri; bruk for eksempel produsent, modell og komponent"
        )
    if col.type in ("id", "item") or col.type not in _KIND:
        raise UsageError(
            f"«{name}» er en identifikator og utleveres aldri; filene har pseudonyme nøkler "
            f"({', '.join(KEY_COLUMNS[level])})"
        )
    role = {"patients.sex": "sex", "enrolments.granted_date": "year"}.get(name)
    return Variable(
        name,
        level,
        column,
        col.label,
        _KIND[col.type],
        _col(name),
        codes=dict(col.codes),
        role=role,
        description=col.description,
        disclosure=col.disclosure,
    )


def resolve(name: str, level: str) -> Variable:
    """The variable ``name`` of ``level``; :class:`UsageError` with suggestions if unknown.

    >>> resolve("patients.birth_year", "enrolments")
    Traceback (most recent call last):
    ...
    opr_analysis.errors.UsageError: «patients.birth_year»: fødselsår utleveres ikke; bruk age_at_enrolment eller age_band
    """
    derived = registry()
    if (level, name) in derived:
        return derived[(level, name)]
    cb = codebook.load()
    tables = LEVEL_TABLES[level]
    if "." in name:
        table, column = name.split(".", 1)
        if table in tables and column in cb.tables[table].columns:
            return _codebook_variable(table, column, level)
    else:
        hits = [t for t in tables if name in cb.tables[t].columns]
        if len(hits) == 1:
            return _codebook_variable(hits[0], name, level)
    known = [n for (lv, n) in derived if lv == level] + [f"{t}.{c}" for t in tables for c in cb.tables[t].columns]
    close = difflib.get_close_matches(name, known, n=3)
    hint = f" Mente du {' eller '.join(close)}?" if close else ""
    raise UsageError(
        f"ukjent variabel «{name}» for nivået {level}: finnes verken i kodeboken (tabell "
        f"{', '.join(tables)}) eller blant de avledede variablene.{hint}"
    )


def with_settings(var: Variable, settings: Settings) -> Variable:
    """The variable as delivered under ``settings`` (dates coarsened, labels adjusted)."""
    if var.kind != "date":
        if var.role == "year" and settings.year_as_period:
            return replace(
                var, kind="code", codes={settings.period_label: settings.period_label}, label=f"{var.label} (periode)"
            )
        return var
    level = settings.dates
    if level == "year" and var.role == "year" and settings.year_as_period:
        return replace(
            var, kind="code", codes={settings.period_label: settings.period_label}, label=f"{var.label} (periode)"
        )
    suffix = {
        "full": "",
        "month": " (måned, ÅÅÅÅ-MM)",
        "year": " (år)",
        "relative": " (dager etter rett til helsehjelp)",
    }[level]
    kind = {"full": "date", "month": "string", "year": "int", "relative": "int"}[level]
    return replace(var, kind=kind, label=var.label + suffix)


def coarsen(values: pd.Series, granted: pd.Series, settings: Settings, role: str | None = None) -> pd.Series:
    """A date/datetime column at the spec's date level.

    >>> s = pd.Series(pd.to_datetime(["2021-03-04 10:00", None]))
    >>> g = pd.Series(pd.to_datetime(["2021-03-01", "2021-01-01"]))
    >>> coarsen(s, g, Settings(dates="month")).tolist(), coarsen(s, g, Settings(dates="relative")).tolist()
    (['2021-03', <NA>], [3, <NA>])
    """
    day = values.dt.normalize()
    level = settings.dates
    if level == "full":
        return day
    if level == "month":
        return day.dt.strftime("%Y-%m").astype("string")
    if level == "year":
        if role == "year" and settings.year_as_period:
            return pd.Series(pd.Categorical([settings.period_label] * len(day)), index=day.index)
        return day.dt.year.astype("Int64")
    return days_between(day, granted.dt.normalize())
