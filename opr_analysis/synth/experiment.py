"""A synthetic response-rate experiment on a synthetic registry (``opr synth --experiment SPEC``).

:func:`experiment_generators` gives the generators that :func:`~opr_analysis.synth.registry.synthesize`
runs after the core tables:

1. allocate every eligible patient with the real allocation code
   (:func:`opr_analysis.experiment.allocate`), dated 14 days before the
   patient's index follow-up was due, and write ``allocations``;
2. mark the follow-ups of allocated patients due in the window with the
   variant sent: the allocated arm, with 3 % sent the other variant by mistake;
3. plant the effect on the intention-to-treat scale: among the owed, sent
   follow-ups of ``kort`` patients, answers within the outcome's days are
   added (or, for a negative effect, removed) with the probability that makes
   the expected ITT difference kort − full equal ``effect``;
4. the questionnaire answers (as without an experiment), then the items a
   short questionnaire does not ask are dropped (``kort``: EQ-5D-5L and PGIC).

Follow-ups outside the experiment are unchanged.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

#: Share of follow-ups sent in the other variant than allocated (a realistic office slip).
MISMATCH = 0.03
#: The instruments of the short questionnaire.
SHORT_INSTRUMENTS = ("eq5d5l", "pgic")


def experiment_generators(spec, effect: float, answers: bool = True) -> list:
    """The generators that add the experiment of ``spec`` with a planted ITT ``effect`` (kort − full)."""
    from .answers import synth_answers

    def experiment_allocations(registry, rng):
        return _allocate_and_plant(registry, rng, spec, effect)

    def experiment_short_answers(registry, rng):
        return _trim_short(registry)

    return [experiment_allocations, *([synth_answers, experiment_short_answers] if answers else [])]


def synthetic_seed(spec) -> int:
    """The allocation seed of a synthetic experiment: public and fixed by the experiment id.

    A real experiment's seed is secret and lives in the key store
    (:mod:`opr_analysis.experiment.seed`); a synthetic one has nothing to conceal, and taking
    it from the id leaves the synthetic registry's random stream as it was.
    """
    import zlib

    return zlib.crc32(f"opr synthetic experiment {spec.id}".encode())


def _view(registry):
    return SimpleNamespace(tables=registry.tables, **registry.tables)


def _allocate_and_plant(registry, rng, spec, effect: float) -> dict[str, pd.DataFrame]:
    from ..experiment.allocate import allocate, eligible_patients

    view = _view(registry)
    elig = eligible_patients(view, spec)
    rows = allocate(spec, view, None, spec.window[0], seed=synthetic_seed(spec))
    when = elig.set_index("patient_id")["due_date"].reindex(rows["patient_id"]) - pd.Timedelta(days=14)
    allocations = pd.DataFrame(
        {
            "experiment_id": pd.array(rows["experiment_id"], dtype="string"),
            "patient_id": pd.array(rows["patient_id"], dtype="string"),
            "arm": pd.array(rows["arm"], dtype="string"),
            "allocated_date": pd.to_datetime(when.to_numpy()).astype("datetime64[ns]"),
            "stratum": pd.array(rows["stratum"], dtype="string"),
        }
    )
    fu = registry.tables["followups"].copy()
    arm = fu["patient_id"].astype(str).map(rows.set_index("patient_id")["arm"])
    units = _units(view, spec, fu, arm)
    variant = arm.where(units["in_window"])
    flip = variant.notna() & (rng.random(len(fu)) < MISMATCH)
    variant[flip] = variant[flip].map({"full": "kort", "kort": "full"})
    fu["variant"] = pd.array(variant.to_numpy(dtype=object), dtype="string")
    fu["responded_at"] = _plant(fu, units, arm, spec, effect, rng, registry.extract_end)
    return {"allocations": allocations, "followups": fu}


def _units(view, spec, fu: pd.DataFrame, arm: pd.Series) -> pd.DataFrame:
    """Per follow-up row: in_window (allocated patient, chosen kind, due in window) and sent_owed."""
    from ..stats.followup import followup_audit

    first, last = (pd.Timestamp(d) for d in spec.window)
    audit = followup_audit(view, as_of=pd.Timestamp(spec.window[1]))
    a = audit[audit["sent"]].set_index(audit.loc[audit["sent"], "followup_id"].astype(str))
    a = a.reindex(fu["followup_id"].astype(str))
    in_window = (
        arm.notna().to_numpy()
        & fu["kind"].astype(str).isin(list(spec.kinds)).to_numpy()
        & a["due_date"].between(first, last).to_numpy()
    )
    return pd.DataFrame(
        {"in_window": in_window, "sent_owed": a["sent_owed"].fillna(False).astype(bool).to_numpy()}, index=fu.index
    )


def _plant(fu, units, arm, spec, effect, rng, end) -> pd.Series:
    days = spec.answered_within_days
    sent = fu["sent_date"]
    answered = (fu["responded_at"].dt.normalize() - sent).dt.days.le(days).fillna(False).to_numpy(dtype=bool)
    pool = units["in_window"].to_numpy() & units["sent_owed"].to_numpy()
    # owed follow-ups that were sent: the share answered gives the probability that plants `effect`
    share = answered[pool].mean() if pool.any() else 0.0
    kort = pool & (arm == "kort").to_numpy()
    out = fu["responded_at"].copy()
    if effect > 0 and share < 1:
        q = min(1.0, effect / (1 - share))
        add = kort & ~answered & (rng.random(len(fu)) < q)
        lag = np.minimum(np.round(rng.gamma(1.5, 4.0, len(fu))), days - 1).astype("int64") + 1
        at = sent + pd.to_timedelta(lag, unit="D") + pd.to_timedelta(rng.integers(8 * 3600, 22 * 3600, len(fu)), "s")
        add &= (at <= pd.Timestamp(end) + pd.Timedelta(days=1)).to_numpy()
        out[add] = at[add]
    elif effect < 0 and share > 0:
        q = min(1.0, -effect / share)
        drop = kort & answered & (rng.random(len(fu)) < q)
        out[drop] = pd.NaT
    return out


def _trim_short(registry) -> dict[str, pd.DataFrame]:
    from ..extract import codebook

    answers = registry.tables.get("followup_answers")
    fu = registry.tables["followups"]
    if answers is None or "variant" not in fu:
        return {}
    short = set(fu.loc[fu["variant"].astype("string").eq("kort").fillna(False), "followup_id"].astype(str))
    items = {code for name in SHORT_INSTRUMENTS for code in codebook.load().instruments[name].items}
    keep = ~answers["followup_id"].astype(str).isin(short) | answers["item"].astype(str).isin(items)
    return {"followup_answers": answers[keep].reset_index(drop=True)}
