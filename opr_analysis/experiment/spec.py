"""The experiment spec: one reviewed YAML file per response-rate experiment.

An experiment (data contract v1.1, «Response-rate experiments») randomises
patients owed a follow-up between the full questionnaire package (``full``)
and the short one (``kort``: EQ-5D and PGIC). The spec states everything that
must be fixed before the first patient is allocated; :func:`load_spec` reads
it through the guarded YAML loader (:mod:`opr_analysis.safety.limits`) and
validates it against one schema (:class:`ExperimentSpecFile`, pydantic; see
:mod:`opr_analysis.safety.schema`), raising
:class:`~opr_analysis.errors.UsageError` that lists every problem at once, in
Norwegian, like the research-extract specs. A misspelt or unknown key is an
error, every number has a range (``block_sizes`` at most
:data:`MAX_BLOCK_SIZE`, ``age_bands`` 0–120, dates 1990–2100) and a date holding
a time is refused.

**The allocation seed is not in the spec.** A committed spec is read by many;
with its seed anyone could compute every future assignment and the
allocation would no longer be concealed. ``opr experiment allocate`` draws the
seed once, at the first allocation, and keeps it in the project's key store
beside the pseudonym keys (:mod:`.seed`). A spec that still holds ``seed:`` is
refused with a message saying where the seed belongs.

Example (see ``reports/experiments/examples/`` for a complete file)::

    id: kort-skjema-2025
    title: Kort eller fullt oppfølgingsskjema 2025   # the report's heading (optional)
    question: Svarer flere pasienter når oppfølgingsskjemaet er kort?
    arms: {full: 1, kort: 1}          # allocation ratio
    window: {first_due: 2025-01-01, last_due: 2025-06-30}
    kinds: [rf_3m, rf_6m, rf_12m, scs_3m, scs_6m, scs_12m]
    strata: [treatment, age_band]     # kind, treatment, age_band, sex
    age_bands: [18, 50, 65]           # lower bounds of the bands
    block_sizes: [2, 4, 6]            # multiples of the ratio's sum
    primary_outcome: {answered_within_days: 30}
    secondary_outcomes: [complete_primary_proms, time_to_answer]
    minimal_difference: 0.08          # absolute, kort minus full
    power: 0.8
    alpha: 0.05

>>> spec = parse_spec({"id": "e1", "question": "Q?", "window": {"first_due": "2025-01-01",
...     "last_due": "2025-03-31"}, "minimal_difference": 0.1})
>>> spec.ratio, spec.block_sizes, spec.answered_within_days, spec.window_months
({'full': 1, 'kort': 1}, (2, 4, 6), 30, 3)
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import ValidationInfo, field_validator

from ..safety.schema import SLUG, Field, Listed, NonEmptyText, PlainDate, Slug, UserModel, opr_error, validate

ARMS = ("full", "kort")
STRATA = ("kind", "treatment", "age_band", "sex")
SECONDARY = ("complete_primary_proms", "time_to_answer")
EXPERIMENT_ID = SLUG  # (kept for callers of the earlier API)
MAX_BLOCK_SIZE = 60
MAX_RATIO = 10


class _Arms(UserModel):
    full: int = Field(1, ge=1, le=MAX_RATIO)
    kort: int = Field(1, ge=1, le=MAX_RATIO)


class _Window(UserModel):
    first_due: PlainDate
    last_due: PlainDate

    @field_validator("last_due")
    @classmethod
    def _ordered(cls, last: dt.date, info: ValidationInfo) -> dt.date:
        first = info.data.get("first_due")
        if first is not None and first > last:
            raise opr_error(f"first_due ({first}) ligger etter last_due ({last})")
        return last


class _Outcome(UserModel):
    answered_within_days: int = Field(ge=1, le=365)


class ExperimentSpecFile(UserModel):
    """The schema of an experiment spec file (the module docstring gives the meaning of each key)."""

    id: Slug
    title: NonEmptyText | None = None
    question: NonEmptyText
    arms: _Arms = _Arms()
    window: _Window
    kinds: Annotated[list[str], Listed, Field(min_length=1, max_length=20)] | None = None
    strata: Annotated[list[Literal[STRATA]], Listed, Field(max_length=4)] = ["treatment", "age_band"]
    age_bands: Annotated[list[Annotated[int, Field(ge=0, le=120)]], Field(min_length=1, max_length=10)] = [18, 50, 65]
    block_sizes: Annotated[list[Annotated[int, Field(ge=1, le=MAX_BLOCK_SIZE)]], Field(min_length=1, max_length=10)] = [
        2,
        4,
        6,
    ]
    seed: Any = Field(None, json_schema_extra={"refused": True})  # the seed lives in the key store (module docstring)
    primary_outcome: _Outcome = _Outcome(answered_within_days=30)
    secondary_outcomes: Annotated[list[Literal[SECONDARY]], Listed, Field(max_length=2)] = list(SECONDARY)
    minimal_difference: float = Field(gt=0, lt=1)
    baseline_share: float | None = Field(None, gt=0, lt=1)
    power: float = Field(0.8, gt=0.5, lt=1)
    alpha: float = Field(0.05, gt=0, lt=0.5)
    recent_years: int = Field(2, ge=1, le=10)

    @field_validator("kinds")
    @classmethod
    def _kinds(cls, kinds: list[str] | None) -> list[str] | None:
        from ..stats.followup import followup_kinds

        bad = [k for k in kinds or [] if k not in followup_kinds()]
        if bad:
            raise opr_error(f"ukjent oppfølgingstype {', '.join(bad)}; ventet noen av {', '.join(followup_kinds())}")
        return kinds

    @field_validator("strata")
    @classmethod
    def _strata(cls, strata: list[str]) -> list[str]:
        if len(set(strata)) != len(strata):
            raise opr_error("en faktor står flere ganger")
        return strata

    @field_validator("age_bands")
    @classmethod
    def _bands(cls, bands: list[int]) -> list[int]:
        if bands != sorted(set(bands)):
            raise opr_error("ventet stigende heltall (nedre grenser), f.eks. [18, 50, 65]")
        return bands

    @field_validator("block_sizes")
    @classmethod
    def _blocks(cls, sizes: list[int], info: ValidationInfo) -> list[int]:
        arms = info.data.get("arms")
        step = arms.full + arms.kort if arms is not None else 2
        if any(b % step for b in sizes):
            raise opr_error(f"ventet positive multipler av summen av forholdet ({step})")
        return sizes

    @field_validator("seed")
    @classmethod
    def _no_seed(cls, value):
        raise opr_error(
            "randomiseringsfrøet skal ikke stå i spesifikasjonen (da kan fremtidige tildelinger regnes ut); "
            "fjern linjen. «opr experiment allocate» trekker frøet selv og lagrer det i nøkkellageret"
        )

    @field_validator("baseline_share")
    @classmethod
    def _base(cls, base: float | None, info: ValidationInfo) -> float | None:
        diff = info.data.get("minimal_difference")
        if base is not None and diff is not None and base + diff >= 1:
            raise opr_error(f"baseline_share + minimal_difference = {base + diff:g}: må være under 1")
        return base


@dataclass(frozen=True)
class ExperimentSpec:
    """A validated experiment spec (see the module docstring)."""

    id: str
    question: str
    window: tuple[dt.date, dt.date]
    minimal_difference: float
    ratio: dict[str, int] = field(default_factory=lambda: {"full": 1, "kort": 1})
    kinds: tuple[str, ...] = ()
    strata: tuple[str, ...] = ("treatment", "age_band")
    age_bands: tuple[int, ...] = (18, 50, 65)
    block_sizes: tuple[int, ...] = (2, 4, 6)
    answered_within_days: int = 30
    secondary_outcomes: tuple[str, ...] = SECONDARY
    baseline_share: float | None = None  # None: the audit's recent response share
    power: float = 0.8
    alpha: float = 0.05
    recent_years: int = 2
    title: str | None = None  # the report's heading for the experiment; None: what is compared and the window
    source_bytes: bytes = field(default=b"", compare=False, repr=False)

    @property
    def window_months(self) -> int:
        """Calendar months the window touches (first to last due month, inclusive)."""
        a, b = self.window
        return (b.year - a.year) * 12 + b.month - a.month + 1

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.source_bytes).hexdigest()


def load_spec(path: str | Path) -> ExperimentSpec:
    """Read and validate a spec file (guarded loader, then the schema); :class:`UsageError` lists every problem."""
    from ..safety.limits import load_yaml_file

    raw, data = load_yaml_file(path, "eksperimentfilen")
    return parse_spec(raw, source_bytes=data, name=Path(path).name)


def parse_spec(raw, source_bytes: bytes = b"", name: str = "eksperimentet") -> ExperimentSpec:
    """Validate the parsed YAML structure ``raw`` against :class:`ExperimentSpecFile` (see :func:`load_spec`)."""
    from ..stats.followup import followup_kinds

    f = validate(ExperimentSpecFile, raw, name)
    return ExperimentSpec(
        id=f.id,
        question=" ".join(f.question.split()),
        title=" ".join(f.title.split()) if f.title else None,
        window=(f.window.first_due, f.window.last_due),
        minimal_difference=float(f.minimal_difference),
        ratio={"full": f.arms.full, "kort": f.arms.kort},
        kinds=tuple(dict.fromkeys(f.kinds if f.kinds is not None else followup_kinds())),
        strata=tuple(f.strata),
        age_bands=tuple(f.age_bands),
        block_sizes=tuple(f.block_sizes),
        answered_within_days=f.primary_outcome.answered_within_days,
        secondary_outcomes=tuple(dict.fromkeys(f.secondary_outcomes)),
        baseline_share=None if f.baseline_share is None else float(f.baseline_share),
        power=float(f.power),
        alpha=float(f.alpha),
        recent_years=f.recent_years,
        source_bytes=source_bytes,
    )
