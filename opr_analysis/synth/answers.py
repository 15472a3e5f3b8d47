"""Synthetic item-level questionnaire answers for a synthetic registry.

A latent-severity model makes the answers hang together the way real ones
do: each patient's ``severity`` (about N(0, 1), from the synthetic registry's
``latent`` table) drives one factor per instrument, and each item is that
factor plus item noise, mapped onto the item's range. Worse pain, more
interference, worse sleep (ISI), more catastrophising (PCS), more distress
(HSCL-10) and more disability (ODI) therefore go together, and EQ-5D levels
rise and the EQ VAS falls with them.

At follow-up a patient's severity moves by an improvement that depends on
the treatment (``rf_*``, ``scs_*``, ``avsluttet_12m``) and on the baseline
severity (more room to improve); the PGIC follows the improvement, so some
patients improve by 30 % or more on the NRS and call themselves much
improved. About 3 % of items are left unanswered. Everything is vectorised.

Examples
--------
>>> from types import SimpleNamespace
>>> import numpy as np, pandas as pd
>>> reg = SimpleNamespace(
...     tables={"baseline_responses": pd.DataFrame({"response_id": ["r1"], "patient_id": ["p1"]}),
...             "followups": pd.DataFrame({"followup_id": ["f1"], "patient_id": ["p1"],
...                                        "kind": ["rf_3m"], "responded_at": [None]})},
...     latent=pd.DataFrame({"patient_id": ["p1"], "severity": [0.0]}))
>>> out = synth_answers(reg, np.random.default_rng(0))
>>> sorted(out), len(out["followup_answers"])
(['baseline_answers', 'followup_answers'], 0)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import expit, ndtr

from ..extract import codebook
from ..stats.scoring import wide_to_answers

__all__ = ["synth_answers", "ITEM_NONRESPONSE"]

#: Probability that a single item is left unanswered.
ITEM_NONRESPONSE = 0.03

# instrument -> (loading of the instrument factor on severity, item loading on the factor,
#                default shift on the probit scale: higher = worse answers on average)
_MODEL = {
    "nrs": (0.85, 0.9, 0.15),
    "bpi_interference": (0.8, 0.85, 0.1),
    "eq5d5l": (0.75, 0.75, -0.1),
    "hscl10": (0.6, 0.75, -0.55),
    "pcs": (0.65, 0.8, -0.25),
    "isi": (0.6, 0.8, 0.0),
    "odi": (0.75, 0.8, -0.3),
}
# item-specific shifts where one item differs clearly from its instrument's mean
_ITEM_SHIFT = {"eq5d_sc": -0.9, "eq5d_pd": 0.7, "eq5d_ad": -0.2, "odi_sex_life": 0.2, "pcs_08": 0.6}

# mean latent improvement at follow-up by treatment (probit units of severity)
_IMPROVEMENT = {"rf": 0.55, "scs": 0.8, "avsluttet": 0.3}


def _to_range(z: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Map probit-scale values onto the integer range lo..hi (monotone, inclusive)."""
    k = hi - lo + 1
    return lo + np.minimum(np.floor(ndtr(z) * k), k - 1)


def _severity(ids: pd.Series, latent: pd.Series, rng: np.random.Generator) -> np.ndarray:
    s = ids.map(latent).to_numpy(dtype=float, copy=True)
    missing = np.isnan(s)
    s[missing] = rng.standard_normal(missing.sum())
    return s


def _instrument_items(s: np.ndarray, questionnaire: str, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Answers to every scored instrument of ``questionnaire`` from severities ``s``."""
    cb = codebook.load()
    n = len(s)
    out: dict[str, np.ndarray] = {}
    for name, (a, c, shift) in _MODEL.items():
        ins = cb.instruments[name]
        if questionnaire not in ins.questionnaires:
            continue
        factor = a * s + np.sqrt(1 - a * a) * rng.standard_normal(n)
        for code, item in ins.items.items():
            z = c * factor + np.sqrt(1 - c * c) * rng.standard_normal(n) + _ITEM_SHIFT.get(code, shift)
            if code == "eq5d_vas":  # better health = higher VAS
                out[code] = np.clip(np.round(100 * ndtr(-(z - 0.1))), 0, 100)
            elif code == "nrs_worst":  # worst pain at least the average pain
                out[code] = np.minimum(item.max, out["nrs_avg"] + np.floor(np.abs(rng.normal(1.5, 1.0, n))))
            else:
                out[code] = _to_range(z, item.min, item.max)
    return out


def _demographics(s: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    n = len(s)
    out = {
        "education": rng.choice([1, 2, 3, 4], size=n, p=[0.2, 0.45, 0.22, 0.13]).astype(float),
        "work_status": rng.choice(np.arange(1, 9), size=n, p=[0.38, 0.05, 0.04, 0.03, 0.2, 0.18, 0.08, 0.04]).astype(
            float
        ),
        "sick_leave": (rng.random(n) < expit(-0.8 + 0.6 * s)).astype(float),
        "pain_duration": _to_range(0.35 * s + 0.9 * rng.standard_normal(n) + 0.5, 1, 5),
    }
    base = {
        "loc_head": 0.2,
        "loc_neck": 0.35,
        "loc_shoulder": 0.3,
        "loc_arm": 0.2,
        "loc_chest": 0.08,
        "loc_abdomen": 0.15,
        "loc_upper_back": 0.25,
        "loc_lower_back": 0.55,
        "loc_hip": 0.25,
        "loc_leg": 0.4,
        "loc_widespread": 0.15,
    }
    for code, p in base.items():
        logit = np.log(p / (1 - p)) + (0.8 if code == "loc_widespread" else 0.25) * s
        out[code] = (rng.random(n) < expit(logit)).astype(float)
    return out


def _long(ids: pd.Series, id_column: str, items: dict[str, np.ndarray], rng: np.random.Generator) -> pd.DataFrame:
    order = [c for c in codebook.load().items if c in items]
    values = np.column_stack([items[c] for c in order]) if order else np.empty((len(ids), 0))
    values[rng.random(values.shape) < ITEM_NONRESPONSE] = np.nan
    wide = pd.DataFrame(values, columns=order, index=pd.Index(ids.to_numpy(), name=id_column))
    return wide_to_answers(wide, id_column)


def synth_answers(registry, rng: np.random.Generator) -> dict[str, pd.DataFrame]:
    """Long-format baseline and follow-up answers for a synthetic registry.

    ``registry`` needs ``.tables["baseline_responses"]`` (``response_id``,
    ``patient_id``), ``.tables["followups"]`` (``followup_id``,
    ``patient_id``, ``kind``, ``responded_at``) and ``.latent``
    (``patient_id``, ``severity``). Only answered follow-ups (non-blank
    ``responded_at``) get answers. Returns ``{"baseline_answers": ...,
    "followup_answers": ...}`` with columns (``response_id`` | ``followup_id``,
    ``item``, ``value``), values within each item's range.
    """
    tables = registry.tables
    latent = registry.latent.drop_duplicates("patient_id").set_index("patient_id")["severity"]

    base = tables["baseline_responses"]
    s0 = _severity(base["patient_id"], latent, rng)
    base_items = _instrument_items(s0, "baseline", rng) | _demographics(s0, rng)
    baseline_answers = _long(base["response_id"], "response_id", base_items, rng)

    fu = tables["followups"]
    responded = fu["responded_at"]
    answered = fu[responded.notna() & (responded.astype(str).str.strip() != "")]
    s_before = _severity(answered["patient_id"], latent, rng)
    treatment = answered["kind"].astype(str).str.split("_").str[0]
    mu = treatment.map(_IMPROVEMENT).fillna(0.3).to_numpy(dtype=float)
    # a unit's better or worse outcomes (synth.units, issue 16); absent = 0, the registry as before
    mu = mu + getattr(registry, "extra", {}).get("improvement_shift", 0.0)
    improvement = mu + 0.25 * s_before + rng.normal(0.0, 0.8, len(answered))
    s_after = s_before - improvement
    fu_items = _instrument_items(s_after, "followup", rng)
    fu_items["pgic"] = np.clip(np.round(4 - 1.6 * improvement + rng.normal(0, 0.6, len(answered))), 1, 7)
    followup_answers = _long(answered["followup_id"], "followup_id", fu_items, rng)
    return {"baseline_answers": baseline_answers, "followup_answers": followup_answers}
