"""A synthetic multi-unit registry (contract v1.1 «Units»): ``opr synth --units N``.

Unit 1 is the registry's own (:data:`~opr_analysis.extract.units.OWN_UNIT`,
drawn exactly as a one-unit extract with the same seed and scale, ids
unchanged). Units 2..N are drawn as separate registries with their own seed
(``seed + 1000·k``) and a smaller size, their ids prefixed ``U<k>`` so that no
id is shared, and with a **performance profile** that makes comparisons
meaningful: a share of their baselines left out (lower baseline response), a
share of their answered follow-ups left unanswered (lower follow-up response),
a shift of first consultations (longer or shorter waits) and a shift in the
mean improvement after treatment (better or worse outcomes, PGIC and NRS).
The profiles cycle through :data:`PROFILES`; names and organisation numbers are
fictitious (valid check digits, python-stdnum). Only unit 1 has the OPRv1
aggregates (``legacy_v1``). ``unit_id`` is written in every table the contract
requires it in; follow-ups leave it blank (they belong to their anchor's unit).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from ..extract.units import OWN_UNIT, UNIT_COLUMN
from .registry import DEFAULT_SEED, DEFAULT_YEARS, _generator_rng, default_generators, synthesize

#: (relative size, baseline share left out, answered follow-ups left unanswered, wait shift in days,
#: improvement shift in probit units of severity) of units 2, 3, ...; cycled.
#: At most this many units (``opr synth --units``).
MAX_UNITS = 20
PROFILES = (
    (0.45, 0.25, 0.00, 25, 0.35),
    (0.30, 0.00, 0.40, -10, -0.45),
    (0.20, 0.10, 0.15, 50, 0.00),
    (0.60, 0.00, 0.00, 0, 0.15),
    (0.15, 0.35, 0.25, 30, -0.25),
)
_REGIONS = ("sor_ost", "vest", "midt", "nord")
_ID_COLUMNS = ("patient_id", "referral_id", "enrolment_id", "response_id", "short_form_id", "treatment_id",
               "followup_id", "anchor_id", "request_id", "implant_id")  # fmt: skip


def _orgnr(k: int) -> str:
    """A fictitious organisation number with a valid check digit (the first that python-stdnum accepts)."""
    from stdnum.no import orgnr

    stem = f"9{k:07d}"[:8]
    for check in "0123456789":
        if orgnr.is_valid(stem + check):
            return stem + check
    return _orgnr(k + 1)  # modulus 11 leaves no valid digit for some stems


def units_frame(n: int) -> pd.DataFrame:
    """The units table of an ``n``-unit synthetic registry."""
    rows = [OWN_UNIT]
    for k in range(2, n + 1):
        rows.append(
            {
                "unit_id": f"u{k}",
                "name": f"Smerteklinikk {chr(ord('A') + k - 2)}" if k <= 27 else f"Smerteklinikk {k}",
                "orgnr": _orgnr(k * 7919),
                "health_region": _REGIONS[(k - 1) % len(_REGIONS)],
            }
        )
    return pd.DataFrame(rows).astype("string")


def _prefix(tables: dict[str, pd.DataFrame], prefix: str) -> None:
    for df in tables.values():
        for col in _ID_COLUMNS:
            if col in df:
                df[col] = (prefix + df[col].astype("string")).astype("string")


def _apply_profile(tables, rng, drop_base: float, drop_resp: float, wait_shift: int) -> None:
    b = tables["baseline_responses"]
    keep = rng.random(len(b)) >= drop_base
    tables["baseline_responses"] = b[keep].reset_index(drop=True)
    if "baseline_answers" in tables:
        ba = tables["baseline_answers"]
        tables["baseline_answers"] = ba[ba["response_id"].isin(b["response_id"][keep])].reset_index(drop=True)
    f = tables["followups"].copy()
    lost = f["responded_at"].notna().to_numpy() & (rng.random(len(f)) < drop_resp)
    f.loc[lost, "responded_at"] = pd.NaT
    tables["followups"] = f
    if "followup_answers" in tables:
        fa = tables["followup_answers"]
        tables["followup_answers"] = fa[~fa["followup_id"].isin(f["followup_id"][lost])].reset_index(drop=True)
    e = tables["enrolments"].copy()
    fc = e["first_consultation_date"] + pd.Timedelta(days=wait_shift)
    fc = fc.where(fc >= e["granted_date"], e["granted_date"])
    limit = e["closed_date"].fillna(pd.Timestamp.max.normalize())
    e["first_consultation_date"] = fc.where(fc <= limit, limit).where(e["first_consultation_date"].notna())
    tables["enrolments"] = e


def synthesize_units(
    n_units: int,
    seed: int = DEFAULT_SEED,
    scale: float = 1.0,
    years: tuple[int, int] = DEFAULT_YEARS,
    generators: Sequence[Callable] | None = None,
) -> dict[str, pd.DataFrame]:
    """The tables of an ``n_units``-unit synthetic extract (module docstring).

    Bounds: 1 to :data:`MAX_UNITS` units, ``scale`` from ``MIN_SCALE`` and ``n_units × scale`` at most
    ``MAX_SCALE`` (:mod:`.registry`); :class:`~opr_analysis.errors.UsageError` otherwise.
    """
    from ..errors import UsageError
    from .registry import MAX_SCALE, MIN_SCALE, check_args

    if not isinstance(n_units, int) or isinstance(n_units, bool) or not 1 <= n_units <= MAX_UNITS:
        raise UsageError(f"antall enheter må være et heltall fra 1 til {MAX_UNITS}, ikke {n_units!r}")
    check_args(seed, scale, years, min_scale=MIN_SCALE)
    if n_units * scale > MAX_SCALE:
        raise UsageError(f"{n_units} enheter med skala {scale:g} er mer enn grensen på {MAX_SCALE:g} i alt")
    gens = default_generators() if generators is None else list(generators)
    units = units_frame(n_units)
    parts: list[dict[str, pd.DataFrame]] = []
    for k, unit_id in enumerate(units["unit_id"], start=1):
        if k == 1:
            tables = dict(synthesize(seed=seed, scale=scale, years=years, generators=gens).tables)
        else:
            size, drop_base, drop_resp, wait, better = PROFILES[(k - 2) % len(PROFILES)]
            useed = seed + 1000 * k
            reg = synthesize(seed=useed, scale=scale * size, years=years, generators=[])
            reg.extra["improvement_shift"] = better
            for fn in gens:
                reg.tables.update(fn(reg, _generator_rng(useed, fn)))
            tables = dict(reg.tables)
            tables.pop("legacy_v1", None)
            _prefix(tables, f"U{k}")
            _apply_profile(tables, np.random.default_rng(useed + 1), drop_base, drop_resp, wait)
        for name in ("referrals", "enrolments", "baseline_responses", "short_forms", "treatments", "implants"):
            if name in tables:  # implants (contract v1.2, issue 27): the optional unit_id given too
                tables[name] = tables[name].assign(**{UNIT_COLUMN: pd.array([unit_id] * len(tables[name]), "string")})
        parts.append(tables)
    out = {"units": units}
    for name in parts[0]:
        out[name] = pd.concat([p[name] for p in parts if name in p], ignore_index=True)
    if "implants" in out:
        out["implants"] = _distinct_devices(out["implants"])
    return out


# --- v1.2 implants (issue 27) ---
def _distinct_devices(implants: pd.DataFrame) -> pd.DataFrame:
    """Each unit draws its serial numbers with its own seed, so two units may draw one device; a later
    unit's copy gets a suffix (``-2``), as one device is in one body at a time (contract v1.2)."""
    key = implants["manufacturer"].astype(str) + "\x1f" + implants["serial_number"].astype(str)
    first_unit = implants.groupby(key, sort=False)[UNIT_COLUMN].transform("first")
    clash = (implants[UNIT_COLUMN] != first_unit).to_numpy(dtype=bool)
    if clash.any():
        implants = implants.copy()
        implants.loc[clash, "serial_number"] = implants.loc[clash, "serial_number"] + "-2"
    return implants


# --- end v1.2 implants ---
