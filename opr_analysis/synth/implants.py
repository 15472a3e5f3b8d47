"""A synthetic implant register (contract v1.2, «Implants») for the synthetic registry's SCS treatments.

:func:`synth_implants` is called by :func:`~opr_analysis.synth.registry.synthesize` after the core
tables, with its own random stream (``_generator_rng``), so every other table is drawn exactly as
without it (their files are byte-identical). It draws, per SCS treatment (one *system*, implanted
on the treatment's date):

- one generator and one electrode (35 %) or two (65 %), and in 8 % an extension lead
  (``annet``), all from one manufacturer. The manufacturers, models and their serial and lot
  formats are **fictitious** (:data:`CATALOGUE`): four makers, rechargeable and primary-cell
  generators, percutaneous and paddle electrodes; the market shares drift over the years.
- serial numbers unique per manufacturer (prefix + 7 digits: never long enough to look like an
  identity number), and lots named by model, month of manufacture (20–240 days before the
  implant) and batch letter (``VR-2103B``), so a lot is shared by a handful of patients.
- explants at rates of the kind the literature on spinal cord stimulation reports:

  ========================  ================================================================
  infection                 3,5 % of systems, 1–13 weeks after implant: the whole system out
  lead migration            8 % of electrodes in the first year: that lead out, a new one in
                            the same day
  pocket pain               3,5 % of generators, 2–30 months: 60 % revised (the same
                            generator put back the same day, a new row with the same serial),
                            40 % the whole system out
  battery                   primary cells after about 4 years (rechargeable about 9,5):
                            the generator out, a new generator of the same model in
  lack of effect            about 2,5 % a year from three months on, more for patients who
                            improve less (the registry's hidden ``improvement``): system out
  other                     0,6 % a year: the whole system out
  ========================  ================================================================

The first event that ends the system (infection, lack of effect, other, pocket pain without
revision) removes every component still in; events after it are void, and so is anything after
the extract's end (a component still in at the end has a blank ``explanted_date``). ``unit_id``
is left out (the optional column): the units generator adds it.

>>> from opr_analysis.synth.registry import synthesize
>>> reg = synthesize(seed=1, scale=0.3, years=(2021, 2023), generators=[])
>>> imp = reg.tables["implants"]
>>> set(imp["component"]) <= {"generator", "elektrode", "annet"}
True
>>> bool((imp["explanted_date"].notna() == imp["explant_reason"].notna()).all())
True
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Fictitious manufacturers: serial prefix, market weight in 2020 and its drift per year, and the
#: models by component: (model, code used in lots, rechargeable, weight within the component).
CATALOGUE = {
    "Nordstim Medical": {
        "serial": "NSM",
        "weight": (0.45, -0.02),
        "generator": [("Vega R", "VR", True, 0.6), ("Vega P", "VP", False, 0.4)],
        "elektrode": [("Linea 8", "L8", None, 0.85), ("Paddle 16", "P16", None, 0.15)],
        "annet": [("Forlengelse 60 cm", "EX", None, 1.0)],
    },
    "Fjordtech Neuro": {
        "serial": "FJT",
        "weight": (0.25, 0.0),
        "generator": [("Fjord IPG 32", "F32", True, 1.0)],
        "elektrode": [("Fjord Lead 8", "FL8", None, 1.0)],
        "annet": [("Fjord Extension", "FEX", None, 1.0)],
    },
    "Aurora Neuromodulation": {
        "serial": "AUR",
        "weight": (0.18, 0.025),
        "generator": [("Aurora One", "A1", False, 0.5), ("Aurora Flex", "AF", True, 0.5)],
        "elektrode": [("Aurora Octa", "OC", None, 1.0)],
        "annet": [("Aurora Adapter", "AD", None, 1.0)],
    },
    "Polar Devices": {
        "serial": "PDV",
        "weight": (0.12, -0.005),
        "generator": [("Polar Pulse", "PP", False, 1.0)],
        "elektrode": [("Polar Lead", "PL", None, 1.0)],
        "annet": [("Polar Anchor", "PA", None, 1.0)],
    },
}

P_TWO_LEADS = 0.65
P_EXTENSION = 0.08
P_INFECTION = 0.035
P_MIGRATION = 0.08
P_POCKET = 0.035
P_POCKET_REVISED = 0.60
LACK_OF_EFFECT_PER_YEAR = 0.025
OTHER_PER_YEAR = 0.006
BATTERY_YEARS = {True: (9.5, 1.2), False: (4.2, 0.8)}  # rechargeable: mean and sd of depletion time

COLUMNS = ["implant_id", "patient_id", "treatment_id", "component", "manufacturer", "model", "serial_number", "lot",
           "implanted_date", "explanted_date", "explant_reason"]  # fmt: skip


class _Serials:
    """Serial numbers unique per manufacturer: prefix + 7 digits, drawn without replacement."""

    def __init__(self, rng: np.random.Generator, counts: dict[str, int]):
        self.pool = {
            maker: list(rng.choice(9_000_000, size=n, replace=False) + 1_000_000) for maker, n in counts.items()
        }

    def next(self, maker: str) -> str:
        return f"{CATALOGUE[maker]['serial']}{self.pool[maker].pop()}"


def _choose(options: list, u: np.ndarray) -> np.ndarray:
    """The option index each uniform draw in ``u`` falls on, by the options' weights (last tuple element)."""
    weights = np.array([o[-1] for o in options], dtype=float)
    return np.minimum(np.searchsorted(np.cumsum(weights / weights.sum()), u, side="right"), len(options) - 1)


def synth_implants(registry, rng: np.random.Generator) -> dict[str, pd.DataFrame]:
    """The ``implants`` table for ``registry``'s SCS treatments (module docstring)."""
    t = registry.tables["treatments"]
    scs = t[t["kind"].astype(str) == "scs"].reset_index(drop=True)
    end = int(np.datetime64(registry.extract_end, "D").astype(np.int64))
    n = len(scs)
    start = scs["date"].to_numpy().astype("datetime64[D]").astype(np.int64)
    year = start.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    makers = list(CATALOGUE)
    base, drift = (np.array([CATALOGUE[m]["weight"][k] for m in makers]) for k in (0, 1))
    w = np.maximum(0.02, base[None, :] + drift[None, :] * (year[:, None] - 2020))
    maker_at = (rng.random(n)[:, None] > np.cumsum(w / w.sum(axis=1, keepdims=True), axis=1)).sum(axis=1)
    gen_pick = rng.random(n)
    lead_pick = rng.random((n, 2))
    two_leads = rng.random(n) < P_TWO_LEADS
    extension = rng.random(n) < P_EXTENSION
    improvement = _per_system(registry.latent, scs["patient_id"])
    infection = np.where(rng.random(n) < P_INFECTION, rng.integers(7, 92, n), np.inf)
    rate = LACK_OF_EFFECT_PER_YEAR * np.exp(-0.6 * improvement)
    lack = 90 + rng.exponential(365.25 / rate)
    other = rng.exponential(365.25 / OTHER_PER_YEAR, n)
    pocket = np.where(rng.random(n) < P_POCKET, rng.integers(60, 913, n), np.inf)
    revised = rng.random(n) < P_POCKET_REVISED
    migration = np.where(rng.random((n, 2)) < P_MIGRATION, rng.integers(5, 366, (n, 2)), np.inf)
    battery_z = rng.normal(0, 1, n)
    serials = _Serials(rng, {m: 8 * n + 10 for m in makers})  # at most 8 components a system
    generator_of = {m: _choose(CATALOGUE[m]["generator"], gen_pick) for m in makers}
    lead_of = {m: _choose(CATALOGUE[m]["elektrode"], lead_pick) for m in makers}

    # (system, maker, component, model tuple, serial, implanted day, explanted day or None, reason or None)
    rows: list[tuple] = []
    for i in range(n):
        maker = makers[int(maker_at[i])]
        cat = CATALOGUE[maker]
        day0 = int(start[i])
        # When and why the whole system comes out (inf: not before the end of time).
        ends = {"infeksjon": infection[i], "manglende_effekt": lack[i], "annet": other[i]}
        if not revised[i]:
            ends["lommesmerte"] = pocket[i]
        reason, stop = min(ends.items(), key=lambda kv: kv[1])
        stop_day = day0 + int(stop) if np.isfinite(stop) else None
        last = stop_day if stop_day is not None else np.inf
        # The generator: a pocket revision puts the same one back the same day; a depleted battery
        # brings a new generator of the same model, which lasts as long again.
        g = cat["generator"][generator_of[maker][i]]
        mean, sd = BATTERY_YEARS[g[2]]
        life = int(365.25 * max(2.0, mean + sd * battery_z[i]))
        day, serial, deplete = day0, serials.next(maker), day0 + life
        if revised[i] and day0 + pocket[i] < min(deplete, last):
            out = day0 + int(pocket[i])
            rows.append((i, maker, "generator", g, serial, day, out, "lommesmerte"))
            day = out
        while deplete < last and deplete <= end:
            rows.append((i, maker, "generator", g, serial, day, deplete, "batteri"))
            day, serial, deplete = deplete, serials.next(maker), deplete + life
        rows.append((i, maker, "generator", g, serial, day, stop_day, reason))
        # The electrodes (a migrated lead is replaced the same day) and the extension.
        for k in range(2 if two_leads[i] else 1):
            e = cat["elektrode"][lead_of[maker][i, k]]
            lead_day, serial = day0, serials.next(maker)
            if lead_day + migration[i, k] < last:
                out = lead_day + int(migration[i, k])
                rows.append((i, maker, "elektrode", e, serial, lead_day, out, "elektrodevandring"))
                lead_day, serial = out, serials.next(maker)
            rows.append((i, maker, "elektrode", e, serial, lead_day, stop_day, reason))
        if extension[i]:
            rows.append((i, maker, "annet", cat["annet"][0], serials.next(maker), day0, stop_day, reason))
    return {"implants": _frame(rows, scs, end, rng)}


def _per_system(latent: pd.DataFrame, patients: pd.Series) -> np.ndarray:
    """Each system's patient's hidden ``improvement`` (0 where unknown), looked up by a hash of the few SCS patients."""
    ids = pd.Index(pd.unique(patients.astype(object)))
    at = ids.get_indexer(latent["patient_id"].astype(object))
    values = np.zeros(len(ids))
    values[at[at >= 0]] = latent["improvement"].to_numpy()[at >= 0]
    return values[ids.get_indexer(patients.astype(object))]


def _frame(rows: list[tuple], scs: pd.DataFrame, end: int, rng) -> pd.DataFrame:
    """The table: rows implanted by the extract's end, explants after it blank, lots drawn, in implant order."""
    from .values import dates as _dates
    from .values import ids as _ids

    system, maker, component, model, serial, day, out, reason = (list(c) for c in zip(*rows)) if rows else ([],) * 8
    day = np.asarray(day, dtype=np.int64)
    out = np.array([np.nan if d is None else d for d in out], dtype=float)
    gone = out <= end  # NaN compares false: still in
    # A lot is the model's code, the month of manufacture (20-240 days before the implant) and a batch letter.
    made = (day - rng.integers(20, 241, len(day))).astype("datetime64[D]")
    months = made.astype("datetime64[M]").astype(np.int64)  # since January 1970
    yymm = (months // 12 + 70) % 100 * 100 + months % 12 + 1
    month = pd.Series(yymm, dtype="int64").astype(str).str.zfill(4).to_numpy(dtype=object)
    letter = np.array(list("ABC"), dtype=object)[rng.integers(0, 3, len(day))]
    code = np.array([m[1] for m in model], dtype=object)
    system = np.asarray(system, dtype=np.int64)
    frame = pd.DataFrame(
        {
            "patient_id": scs["patient_id"].astype(object).to_numpy()[system],
            "treatment_id": scs["treatment_id"].astype(object).to_numpy()[system],
            "component": component,
            "manufacturer": maker,
            "model": [m[0] for m in model],
            "serial_number": serial,
            "lot": code + "-" + month + letter,
            "implanted_date": day,
            "explanted_date": np.where(gone, out, np.nan),
            "explant_reason": np.where(gone, np.asarray(reason, dtype=object), None),
        }
    )
    frame = frame[frame["implanted_date"] <= end]
    frame = frame.sort_values(["implanted_date", "treatment_id"], kind="stable").reset_index(drop=True)
    result = {"implant_id": pd.array(_ids("I", len(frame)), dtype="string")}
    for col in COLUMNS[1:]:
        if col.endswith("_date"):
            result[col] = _dates(frame[col].to_numpy(dtype=float))
        else:
            result[col] = pd.array(frame[col].to_numpy(dtype=object), dtype="string")
    return pd.DataFrame(result)
