"""The experiment spec: one reviewed YAML file per response-rate experiment.

An experiment (data contract v1.1, «Response-rate experiments») randomises
patients owed a follow-up between the full questionnaire package (``full``)
and the short one (``kort``: EQ-5D and PGIC). The spec states everything that
must be fixed before the first patient is allocated; :func:`load_spec` reads
and validates it and raises :class:`~opr_analysis.errors.UsageError` listing
every problem at once, in Norwegian, like the research-extract specs.

Example (see ``reports/experiments/examples/`` for a complete file)::

    id: kort-skjema-2025
    question: Svarer flere pasienter når oppfølgingsskjemaet er kort?
    arms: {full: 1, kort: 1}          # allocation ratio
    window: {first_due: 2025-01-01, last_due: 2025-06-30}
    kinds: [rf_3m, rf_6m, rf_12m, scs_3m, scs_6m, scs_12m]
    strata: [treatment, age_band]     # kind, treatment, age_band, sex
    age_bands: [18, 50, 65]           # lower bounds of the bands
    block_sizes: [2, 4, 6]            # multiples of the ratio's sum
    seed: 20250101
    primary_outcome: {answered_within_days: 30}
    secondary_outcomes: [complete_primary_proms, time_to_answer]
    minimal_difference: 0.08          # absolute, kort minus full
    power: 0.8
    alpha: 0.05

>>> spec = parse_spec({"id": "e1", "question": "Q?", "window": {"first_due": "2025-01-01",
...     "last_due": "2025-03-31"}, "seed": 1, "minimal_difference": 0.1})
>>> spec.ratio, spec.block_sizes, spec.answered_within_days, spec.window_months
({'full': 1, 'kort': 1}, (2, 4, 6), 30, 3)
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..errors import UsageError

ARMS = ("full", "kort")
STRATA = ("kind", "treatment", "age_band", "sex")
SECONDARY = ("complete_primary_proms", "time_to_answer")
EXPERIMENT_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,40}$")
TOP_KEYS = {
    "id",
    "question",
    "arms",
    "window",
    "kinds",
    "strata",
    "age_bands",
    "block_sizes",
    "seed",
    "primary_outcome",
    "secondary_outcomes",
    "minimal_difference",
    "baseline_share",
    "power",
    "alpha",
    "recent_years",
}


@dataclass(frozen=True)
class ExperimentSpec:
    """A validated experiment spec (see the module docstring)."""

    id: str
    question: str
    window: tuple[dt.date, dt.date]
    seed: int
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
    """Read and validate a spec file; :class:`UsageError` lists every problem."""
    p = Path(path)
    if not p.is_file():
        raise UsageError(f"fant ikke eksperimentfilen «{p}»")
    data = p.read_bytes()
    try:
        raw = yaml.safe_load(data.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise UsageError(f"{p.name}: ikke gyldig YAML (UTF-8): {exc}") from None
    return parse_spec(raw, source_bytes=data, name=p.name)


def parse_spec(raw, source_bytes: bytes = b"", name: str = "eksperimentet") -> ExperimentSpec:
    """Validate the parsed YAML structure ``raw`` (see :func:`load_spec`)."""
    from ..stats.followup import followup_kinds

    if not isinstance(raw, dict):
        raise UsageError(f"{name}: ventet en YAML-mapping med nøkler som id, question, window")
    errs: list[str] = []
    for k in raw:
        if k not in TOP_KEYS:
            errs.append(f"{k}: ukjent nøkkel (tillatt: {', '.join(sorted(TOP_KEYS))})")
    exp_id = str(raw.get("id") or "").strip()
    if not exp_id:
        errs.append("id: mangler (påkrevd)")
    elif not EXPERIMENT_ID.match(exp_id):
        errs.append(f"id «{exp_id}»: bruk 2–41 tegn a–z, 0–9 og bindestrek")
    question = " ".join(str(raw.get("question") or "").split())
    if not question:
        errs.append("question: mangler (påkrevd; forskningsspørsmålet i én setning)")
    ratio = _ratio(raw.get("arms", {"full": 1, "kort": 1}), errs)
    window = _window(raw.get("window"), errs)
    kinds = raw.get("kinds", followup_kinds())
    kinds = [kinds] if isinstance(kinds, str) else list(kinds or [])
    bad = [k for k in kinds if k not in followup_kinds()]
    if bad or not kinds:
        errs.append(f"kinds {bad or '[]'}: ventet noen av {', '.join(followup_kinds())}")
    strata = raw.get("strata", ["treatment", "age_band"])
    strata = [strata] if isinstance(strata, str) else list(strata or [])
    bad = [s for s in strata if s not in STRATA]
    if bad:
        errs.append(f"strata {bad}: ventet noen av {', '.join(STRATA)}")
    if len(set(strata)) != len(strata):
        errs.append("strata: en faktor står flere ganger")
    bands = raw.get("age_bands", [18, 50, 65])
    if not (isinstance(bands, list) and bands and all(_is_int(b) for b in bands) and bands == sorted(set(bands))):
        errs.append(f"age_bands {bands}: ventet stigende heltall (nedre grenser), f.eks. [18, 50, 65]")
        bands = [18, 50, 65]
    blocks = raw.get("block_sizes", [2, 4, 6])
    step = sum(ratio.values()) if ratio else 2
    if not (isinstance(blocks, list) and blocks and all(_is_int(b) and b > 0 and b % step == 0 for b in blocks)):
        errs.append(f"block_sizes {blocks}: ventet positive multipler av summen av forholdet ({step})")
        blocks = [step]
    seed = raw.get("seed")
    if not _is_int(seed) or seed < 0:
        errs.append(f"seed «{seed}»: ventet et ikke-negativt heltall (trekk det én gang, og skriv det her)")
        seed = 0
    days = _days(raw.get("primary_outcome", {"answered_within_days": 30}), errs)
    secondary = raw.get("secondary_outcomes", list(SECONDARY))
    secondary = [secondary] if isinstance(secondary, str) else list(secondary or [])
    bad = [s for s in secondary if s not in SECONDARY]
    if bad:
        errs.append(f"secondary_outcomes {bad}: ventet noen av {', '.join(SECONDARY)}")
    diff = _fraction(raw, "minimal_difference", errs, required=True, low=0.0, high=1.0)
    base = _fraction(raw, "baseline_share", errs, required=False, low=0.0, high=1.0)
    if diff and base is not None and base + diff >= 1:
        errs.append(f"baseline_share + minimal_difference = {base + diff:g}: må være under 1")
    power = _fraction(raw, "power", errs, default=0.8, low=0.5, high=1.0)
    alpha = _fraction(raw, "alpha", errs, default=0.05, low=0.0, high=0.5)
    recent = raw.get("recent_years", 2)
    if not _is_int(recent) or not 1 <= recent <= 10:
        errs.append(f"recent_years «{recent}»: ventet et heltall 1–10 (år med oppfølgingsflyt planen bygger på)")
        recent = 2
    if errs:
        raise UsageError(f"{name} har feil:\n  " + "\n  ".join(errs))
    return ExperimentSpec(
        id=exp_id,
        question=question,
        window=window,
        seed=int(seed),
        minimal_difference=float(diff),
        ratio=ratio,
        kinds=tuple(dict.fromkeys(kinds)),
        strata=tuple(strata),
        age_bands=tuple(int(b) for b in bands),
        block_sizes=tuple(int(b) for b in blocks),
        answered_within_days=days,
        secondary_outcomes=tuple(dict.fromkeys(secondary)),
        baseline_share=base,
        power=float(power),
        alpha=float(alpha),
        recent_years=int(recent),
        source_bytes=source_bytes,
    )


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _ratio(value, errs: list[str]) -> dict[str, int]:
    if not isinstance(value, dict) or set(value) != set(ARMS):
        errs.append("arms: ventet begge gruppene med forhold, f.eks. {full: 1, kort: 1}")
        return {"full": 1, "kort": 1}
    if not all(_is_int(v) and 1 <= v <= 10 for v in value.values()):
        errs.append(f"arms {value}: forholdet må være heltall 1–10")
        return {"full": 1, "kort": 1}
    return {arm: int(value[arm]) for arm in ARMS}


def _date(value, where: str, errs: list[str]) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        errs.append(f"{where} «{value}»: ventet dato som ÅÅÅÅ-MM-DD")
        return None


def _window(value, errs: list[str]) -> tuple[dt.date, dt.date]:
    fallback = (dt.date(2000, 1, 1), dt.date(2000, 1, 1))
    if not isinstance(value, dict) or set(value) != {"first_due", "last_due"}:
        errs.append("window: ventet {first_due: ÅÅÅÅ-MM-DD, last_due: ÅÅÅÅ-MM-DD} (forfallsdatoer som er med)")
        return fallback
    a = _date(value["first_due"], "window.first_due", errs)
    b = _date(value["last_due"], "window.last_due", errs)
    if a and b and a > b:
        errs.append(f"window: first_due ({a}) ligger etter last_due ({b})")
    return (a, b) if a and b else fallback


def _days(value, errs: list[str]) -> int:
    days = value.get("answered_within_days") if isinstance(value, dict) else None
    if not isinstance(value, dict) or set(value) != {"answered_within_days"} or not _is_int(days) or days < 1:
        errs.append("primary_outcome: ventet {answered_within_days: antall dager etter utsending}, f.eks. 30")
        return 30
    return days


def _fraction(raw: dict, key: str, errs: list[str], required=False, default=None, low=0.0, high=1.0):
    value = raw.get(key, default)
    if value is None:
        if required:
            errs.append(f"{key}: mangler (påkrevd; en andel mellom 0 og 1, f.eks. 0.08 for 8 prosentpoeng)")
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low < value < high:
        errs.append(f"{key} «{value}»: ventet et tall mellom {low:g} og {high:g} (ikke inkludert)")
        return None
    return float(value)
