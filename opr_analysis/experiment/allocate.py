"""Concealed, reproducible allocation: permuted blocks of varying size within strata.

Rules:

- Eligible: a patient with at least one follow-up of the chosen kinds due in
  the window that the contract's rule owes (every exclusion except «not yet
  due»; the allocation is made before the follow-up is due). The patient's
  *index follow-up* is the earliest such (due date, kind order); the strata
  are taken from it: ``kind``, ``treatment`` (rf/scs/avsluttet), ``age_band``
  (due year − birth year, bands from the spec's lower bounds) and ``sex``.
- Each stratum has its own arm sequence, drawn from ``(seed, experiment id,
  stratum)`` alone (the seed comes from the key store, :mod:`.seed`, never from the spec): blocks whose size is drawn from ``block_sizes``, each a
  random permutation of the arms in the spec's ratio. The sequence never
  depends on which or how many patients exist, so it can be extended.
- Patients already allocated (rows of the earlier list, and rows of the
  extract's ``allocations`` table for this experiment) keep their rows,
  unchanged and first. A stratum's earlier rows have used the first places of
  its sequence; new patients take the next places in order of (index due
  date, patient id). Same inputs → same rows → same bytes; a later run with
  more patients only appends.
- The list shows who has been allocated, never what comes next.
- An earlier list is read with the extract reader's CSV handling
  (:func:`read_list`): a list opened and re-saved by Excel (``;``, BOM, CRLF,
  Windows-1252, dates as ``01.12.2024``) reads as the list it was. Anything
  that is not the list, or not this experiment's, is refused with a message
  naming the file, row and column; nothing is written then.
- A patient erased at their own request (contract v1.2) leaves the list; the
  place they took in their stratum's sequence stays used.
"""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd

from .spec import ARMS, ExperimentSpec

LIST_COLUMNS = ["experiment_id", "patient_id", "arm", "allocated_date", "stratum"]


def age_band(age: pd.Series, bounds: tuple[int, ...]) -> pd.Series:
    """``"18-49"``, ``"50-64"``, ``"65+"`` … from the lower bounds (ages below the first: NA).

    >>> age_band(pd.Series([18, 49, 50, 80, 10]), (18, 50, 65)).tolist()
    ['18-49', '18-49', '50-64', '65+', <NA>]
    """
    labels = [f"{a}-{b - 1}" for a, b in zip(bounds, bounds[1:])] + [f"{bounds[-1]}+"]
    cut = pd.cut(age.astype("float64"), bins=[*bounds, np.inf], right=False, labels=labels)
    return cut.astype("string")


def eligible_patients(reg, spec: ExperimentSpec) -> pd.DataFrame:
    """One row per eligible patient: patient_id, due_date, kind (index follow-up), the stratum factors, stratum."""
    from ..stats.followup import followup_candidates, followup_kinds

    first, last = (pd.Timestamp(d) for d in spec.window)
    cand = followup_candidates(reg, as_of=last)
    excl = cand["exclusions"].fillna("").astype(str)
    ok = (excl == "") | (excl == "ikke_forfalt")  # owed once due
    cand = cand[ok & cand["kind"].isin(list(spec.kinds)) & cand["due_date"].between(first, last)].copy()
    order = {k: i for i, k in enumerate(followup_kinds())}
    cand["_k"] = cand["kind"].astype(str).map(order)
    cand = cand.sort_values(["patient_id", "due_date", "_k"], kind="stable").drop_duplicates("patient_id")
    out = cand[["patient_id", "due_date", "kind"]].reset_index(drop=True)
    out["patient_id"] = out["patient_id"].astype(str)
    out["kind"] = out["kind"].astype(str)
    return add_strata(out, reg, spec)


def add_strata(rows: pd.DataFrame, reg, spec: ExperimentSpec) -> pd.DataFrame:
    """Add the factors (treatment, age_band, sex) and ``stratum`` (factor values joined by ``|``)
    to rows holding patient_id, kind and due_date."""
    pat = reg.patients.drop_duplicates("patient_id")
    pat = pat.set_index(pat["patient_id"].astype(str)).reindex(rows["patient_id"].astype(str))
    rows = rows.copy()
    rows["treatment"] = rows["kind"].astype(str).str.split("_").str[0]
    age = pd.Series(rows["due_date"].dt.year.to_numpy() - pat["birth_year"].astype("float64").to_numpy())
    rows["age_band"] = age_band(age, spec.age_bands).fillna("ukjent").to_numpy()
    rows["sex"] = pat["sex"].astype("string").fillna("ukjent").to_numpy()
    parts = [rows[f].astype(str) for f in spec.strata]
    rows["stratum"] = parts[0].str.cat(parts[1:], sep="|") if parts else "alle"
    return rows


def blocks(spec: ExperimentSpec, stratum: str, seed: int):
    """The blocks of ``stratum``'s sequence, endlessly: each a random permutation of the arms in
    the spec's ratio, of a size drawn from ``block_sizes``; drawn from (seed, experiment id, stratum) alone."""
    rng = np.random.default_rng([seed, zlib.crc32(f"{spec.id}|{stratum}".encode())])
    unit = [arm for arm in ARMS for _ in range(spec.ratio[arm])]
    while True:
        size = int(rng.choice(spec.block_sizes))
        block = unit * (size // len(unit))
        yield [block[i] for i in rng.permutation(len(block))]


def arm_sequence(spec: ExperimentSpec, stratum: str, length: int, seed: int) -> list[str]:
    """The first ``length`` arms of ``stratum``'s sequence (a prefix: longer calls extend shorter ones).

    >>> from opr_analysis.experiment.spec import parse_spec
    >>> s = parse_spec({"id": "e1", "question": "Q", "minimal_difference": 0.1,
    ...                 "window": {"first_due": "2025-01-01", "last_due": "2025-06-30"}})
    >>> arm_sequence(s, "rf|50-64", 6, seed=7) == arm_sequence(s, "rf|50-64", 12, seed=7)[:6]
    True
    """
    seq: list[str] = []
    for block in blocks(spec, stratum, seed):
        if len(seq) >= length:
            break
        seq.extend(block)
    return seq[:length]


def allocate(spec: ExperimentSpec, reg, existing: pd.DataFrame | None, date, *, seed: int) -> pd.DataFrame:
    """The allocation list: ``existing`` rows (unchanged, first) plus the newly eligible patients.

    ``existing``: earlier rows (``LIST_COLUMNS``, text) of this experiment.
    ``date``: the allocation date written on new rows. ``seed``: the experiment's
    allocation seed (:func:`.seed.allocation_seed`). Returns text columns ``LIST_COLUMNS``.
    """
    old = _existing(spec, reg, existing)
    # --- patients' rights (contract v1.2, issue 26): an erased patient leaves the list, but the place they
    # took in their stratum's sequence stays used, so nobody else gets their arm twice ---
    gone = _erased_rows(spec, reg, old)
    used = pd.concat([old["stratum"], gone["stratum"]]).value_counts()
    old = old[~old["patient_id"].isin(set(gone["patient_id"]))]
    # --- end patients' rights ---
    elig = eligible_patients(reg, spec)
    new = elig[~elig["patient_id"].isin(set(old["patient_id"]))]
    new = new.sort_values(["due_date", "patient_id"], kind="stable")
    arms = pd.Series(index=new.index, dtype=object)
    for stratum, group in new.groupby("stratum", sort=True):
        start = int(used.get(stratum, 0))
        arms[group.index] = arm_sequence(spec, stratum, start + len(group), seed)[start:]
    rows = pd.DataFrame(
        {
            "experiment_id": spec.id,
            "patient_id": new["patient_id"].astype(str),
            "arm": arms.astype(str),
            "allocated_date": pd.Timestamp(date).strftime("%Y-%m-%d"),
            "stratum": new["stratum"].astype(str),
        },
        columns=LIST_COLUMNS,
    )
    return pd.concat([old, rows], ignore_index=True)[LIST_COLUMNS]


def _erased_rows(spec: ExperimentSpec, reg, old: pd.DataFrame) -> pd.DataFrame:
    """patient_id and stratum of every allocation of this experiment whose patient was erased at their own
    request: rows of the earlier list, and rows the erasure took out of the extract that the list lacks."""
    from ..rights.erasure import erased_patients

    ids = set(erased_patients(reg)) if hasattr(reg, "tables") else set()
    listed = old.loc[old["patient_id"].isin(ids), ["patient_id", "stratum"]]
    erasure = getattr(getattr(reg, "report", None), "erasure", None)
    removed = erasure.removed.get("allocations") if erasure is not None else None
    if removed is not None and len(removed):
        r = removed[removed["experiment_id"].astype(str) == spec.id]
        r = pd.DataFrame(
            {
                "patient_id": r["patient_id"].astype(str).to_numpy(),
                "stratum": r["stratum"].astype("string").fillna("").to_numpy(),
            }
        )
        listed = pd.concat([listed, r[~r["patient_id"].isin(set(listed["patient_id"]))]], ignore_index=True)
    return listed.astype(str)


def _existing(spec: ExperimentSpec, reg, existing: pd.DataFrame | None) -> pd.DataFrame:
    """Earlier rows as text: the list's own first, then extract rows of patients it lacks."""
    frames = []
    if existing is not None and len(existing):
        frames.append(existing[existing["experiment_id"] == spec.id].reindex(columns=LIST_COLUMNS))
    table = reg.tables.get("allocations") if hasattr(reg, "tables") else None
    if table is not None and len(table):
        t = table[table["experiment_id"].astype(str) == spec.id]
        t = t.sort_values(["allocated_date", "patient_id"], kind="stable")
        frames.append(
            pd.DataFrame(
                {
                    "experiment_id": t["experiment_id"].astype(str).to_numpy(),
                    "patient_id": t["patient_id"].astype(str).to_numpy(),
                    "arm": t["arm"].astype(str).to_numpy(),
                    "allocated_date": t["allocated_date"].dt.strftime("%Y-%m-%d").to_numpy(),
                    "stratum": t["stratum"].astype("string").fillna("").to_numpy(),
                }
            )
        )
    if not frames:
        return pd.DataFrame(columns=LIST_COLUMNS, dtype=object)
    out = pd.concat(frames, ignore_index=True).fillna("").astype(str)
    return out.drop_duplicates("patient_id", keep="first").reset_index(drop=True)


def read_list(path, experiment_id: str | None = None) -> pd.DataFrame | None:
    """An earlier allocation list (all text, ``LIST_COLUMNS``), or None when there is none.

    Read as the extract reader reads a table (:func:`opr_analysis.extract.sources.read_table`:
    separator ``,`` or ``;``, BOM, CRLF, UTF-8 or Windows-1252), so a list re-saved by Excel
    reads as the list it was; dates written ``01.12.2024`` are read as ``2024-12-01``. A
    file that is not a list of ``experiment_id`` (missing columns, an unknown arm, a date
    that is not one, a patient twice, another experiment's rows) raises :class:`UsageError`
    naming the file, row and column.
    """
    from pathlib import Path

    from ..errors import ExtractError, UsageError
    from ..extract.sources import read_table
    from ..safety.nin import mask_nin

    path = Path(path)
    if not path.is_file():
        return None
    try:
        raw = read_table(path, "allocations")
    except ExtractError as exc:
        raise UsageError(f"randomiseringslisten kan ikke leses: {exc}") from None
    cells = raw.cells
    missing = [c for c in LIST_COLUMNS if c not in cells.columns]
    if missing or raw.ragged:
        why = f"mangler kolonnene {', '.join(missing)}" if missing else f"rad {min(raw.ragged)} har feil antall felt"
        raise UsageError(
            f"{path}: er ikke en randomiseringsliste fra opr ({why}); ingenting er endret. Legg tilbake listen "
            "slik opr skrev den"
        )
    rows = cells[LIST_COLUMNS].astype(str)

    def refuse(mask, column: str, why: str) -> None:
        if mask.any():
            row = mask[mask].index[0]
            value = mask_nin(rows.at[row, column])
            raise UsageError(f"{path}, rad {row}, kolonne «{column}»: «{value}» {why}; ingenting er endret")

    if experiment_id is not None:
        refuse(rows["experiment_id"] != experiment_id, "experiment_id", f"er ikke eksperimentet {experiment_id}")
    refuse(~rows["arm"].isin(ARMS), "arm", f"er ikke en gruppe ({', '.join(ARMS)})")
    refuse(rows["patient_id"] == "", "patient_id", "er tom")
    refuse(rows["patient_id"].duplicated(), "patient_id", "står mer enn én gang")
    dates = rows["allocated_date"].map(_iso_date)
    refuse(dates.isna(), "allocated_date", "er ikke en dato (ÅÅÅÅ-MM-DD)")
    rows["allocated_date"] = dates
    return rows.reset_index(drop=True)


def _iso_date(text: str) -> str | None:
    """``2024-12-01`` or ``01.12.2024`` (Excel's Norwegian date) as ``2024-12-01``; else None."""
    import datetime as dt

    for fmt in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return dt.datetime.strptime(text.strip(), fmt).date().isoformat()
        except ValueError:
            continue
    return None


def list_bytes(rows: pd.DataFrame) -> bytes:
    """The list as CSV bytes (UTF-8, ``,``, ``\\n``): the same rows always give the same bytes."""
    return rows[LIST_COLUMNS].to_csv(index=False, lineterminator="\n").encode("utf-8")
