"""Disclosure control: k-anonymity of the delivered patients, and small cells.

k-anonymity (:func:`joined_k_violations`): on the patient-level record a
recipient can assemble by joining every delivered file on the pseudonym,
over every quasi-identifier delivered in any file (the codebook's
classification, :func:`~opr_analysis.extracts.variables.classify`, plus any the
spec adds; a spec never removes one) at the precision delivered, every
record must be shared by at least ``k`` patients (default 5). A violating delivery is either refused with a table of the
offending combinations (counts only, never ids) or, with
``on_violation: generalise``, generalised one ladder step at a time
(``age_band_10``, ``age_band_20``, ``dates_month``, ``dates_year``,
``year_to_period``, ``dates_relative``, ``drop_region``, ``drop_rare_patients``: the
patients whose joined record is still shared by fewer than ``k`` are left out, and the
selection flow says how many enrolments that removed) until it passes; if the ladder runs out,
it is refused.

Small cells: counts in the delivery's aggregate tables (the codebook's
distributions, whose total n is published beside them) follow the annual
report's rule (:func:`opr_analysis.report.suppression.suppress`): a count
1..min_cell-1 is hidden, every hidden count shows the same «×», and more
counts are hidden until a linear-programming audit finds that no hidden count
can be narrowed to a range under ``min_cell`` from the shown counts and n.

>>> import pandas as pd
>>> f = pd.DataFrame({"pid": list("abcdef"), "sex": list("KKKKKM")})
>>> k_violations(f, ["sex"], k=5).to_dict("records")
[{'sex': 'M', 'patients': 1}]
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from ..errors import OprError
from .variables import Settings

DATE_ORDER = ("full", "month", "year")


class DisclosureError(OprError):
    """The delivery would identify patients; nothing was written."""


def k_violations(frame: pd.DataFrame, qis: list[str], k: int, id_col: str = "pid") -> pd.DataFrame:
    """Combinations of ``qis`` held by fewer than ``k`` distinct patients (NA is a value)."""
    if not qis:
        return pd.DataFrame(columns=["patients"])
    keys = frame[qis].astype(object).where(frame[qis].notna(), "(blank)")
    counts = (
        pd.concat([keys, frame[[id_col]]], axis=1)
        .groupby(qis, dropna=False, observed=True)[id_col]
        .nunique()
        .rename("patients")
        .reset_index()
    )
    bad = counts[counts["patients"] < k]
    return bad.sort_values(["patients", *qis], kind="stable").reset_index(drop=True)


def joined_k_violations(files: dict[str, tuple[pd.DataFrame, list[str]]], k: int, id_col: str = "pid") -> pd.DataFrame:
    """Patient-level k-anonymity of the record a recipient assembles by joining every file on ``id_col``.

    ``files`` maps a file name to its delivered frame and its quasi-identifier
    columns (at the precision delivered). A patient's record holds, per file,
    the set of distinct quasi-identifier combinations of the patient's rows
    (a patient with no row in a file has an empty set there). Returns one row
    per record held by fewer than ``k`` patients: per file the number of
    distinct combinations in the record, and ``patients`` (never values or ids).

    >>> e = pd.DataFrame({"pid": list("abcd"), "sex": list("KKKM")})
    >>> t = pd.DataFrame({"pid": list("abc"), "year": [2020, 2020, 2021]})
    >>> joined_k_violations({"enrolments": (e, ["sex"]), "treatments": (t, ["year"])}, k=2)["patients"].tolist()
    [1, 1]
    """
    record, sizes, n = _records(files, id_col)
    if record is None:
        return pd.DataFrame(columns=["patients"])
    weak = n < k
    out = pd.DataFrame({f"{name}: kombinasjoner": sizes[name][weak] for name in sizes})
    out["patients"] = n[weak].astype(int)
    return out.sort_values(["patients", *out.columns[:-1]], kind="stable").reset_index(drop=True)


def rare_patients(files: dict[str, tuple[pd.DataFrame, list[str]]], k: int, id_col: str = "pid") -> set:
    """Pseudonyms of the patients whose joined record (see :func:`joined_k_violations`) fewer than ``k`` share."""
    record, _, n = _records(files, id_col)
    return set() if record is None else set(n.index[n < k])


def _records(files, id_col):
    """Each patient's joined record (one column per file), per file the number of combinations, and how many
    patients share the record."""
    pids = pd.Index(sorted({p for data, _ in files.values() for p in data[id_col].dropna().unique()}), name=id_col)
    parts, sizes = {}, {}
    for name, (data, qis) in files.items():
        if not qis:
            continue
        keys = data[qis].astype(object).where(data[qis].notna(), "(blank)").astype(str)
        row_key = keys.apply(lambda r: "\x1f".join(r), axis=1) if len(keys) else pd.Series(dtype=str)
        rows = pd.DataFrame({id_col: data[id_col].to_numpy(), "key": row_key.to_numpy()}).drop_duplicates()
        rows = rows.sort_values([id_col, "key"], kind="stable")
        grouped = rows.groupby(id_col, sort=True)["key"]
        parts[name] = grouped.agg("\x1e".join).reindex(pids, fill_value="")
        sizes[name] = grouped.size().reindex(pids, fill_value=0)
    if not parts:
        return None, {}, None
    record = pd.DataFrame(parts)
    n = record.groupby(list(record.columns), sort=False)[record.columns[0]].transform("size")
    return record, sizes, n


def generalise(settings: Settings, step: str, qi_roles: set[str]) -> Settings | None:
    """``settings`` after ladder ``step``, or None when the step changes no quasi-identifier."""
    if step in ("age_band_10", "age_band_20") and "age" in qi_roles:
        width = 10 if step == "age_band_10" else 20
        if settings.age_band_width < width or not settings.age_as_band:
            return replace(settings, age_band_width=max(width, settings.age_band_width), age_as_band=True)
    if step in ("dates_month", "dates_year") and qi_roles & {"year", "date"} and settings.dates in DATE_ORDER:
        target = step.removeprefix("dates_")
        if DATE_ORDER.index(settings.dates) < DATE_ORDER.index(target):
            return replace(settings, dates=target)
    if step == "dates_relative" and "date" in qi_roles and settings.dates in DATE_ORDER:
        # Days since the patient's own enrolment: judged not identifying (variables.NOT_IDENTIFYING).
        return replace(settings, dates="relative")
    if step == "year_to_period" and "year" in qi_roles and not settings.year_as_period:
        return replace(settings, year_as_period=True, dates="year" if settings.dates in DATE_ORDER else settings.dates)
    if step == "drop_region" and "region" in qi_roles and not settings.drop_region:
        return replace(settings, drop_region=True)
    return None


STEP_TEXT = {
    "age_band_10": "alder i tiårsgrupper",
    "age_band_20": "alder i tjueårsgrupper",
    "dates_month": "datoer på månedsnivå",
    "dates_year": "datoer på årsnivå",
    "year_to_period": "innskrivingsår slått sammen til hele perioden",
    "dates_relative": "datoer som dager etter rett til helsehjelp",
    "drop_rare_patients": "pasienter med en samlet post som færre enn k deler, utelatt",
    "drop_region": "helseregion fjernet",
}


def refusal(violations: pd.DataFrame, qis: list[str], k: int, tried: list[str]) -> DisclosureError:
    """The refusal: offending combinations with their patient counts (no ids)."""
    shown = violations.head(20).to_string(index=False)
    more = f"\n  … og {len(violations) - 20} til" if len(violations) > 20 else ""
    after = f" etter generalisering ({', '.join(STEP_TEXT[s] for s in tried)})" if tried else ""
    return DisclosureError(
        f"utleveringen stoppes: {len(violations)} kombinasjon(er) av {', '.join(qis)} gjelder færre enn "
        f"k = {k} pasienter{after}. Generaliser (disclosure.on_violation: generalise), velg grovere "
        f"variabler eller færre kvasi-identifikatorer. Kombinasjoner (antall pasienter):\n"
        + "\n".join("  " + line for line in shown.splitlines())
        + more
    )


def hidden_counts(counts: pd.Series, min_cell: int) -> pd.Series | None:
    """Which counts of one variable's distribution to hide (the report's small-cell rule; the total is published).

    None when no choice of hidden counts protects them (the total is too small): then the
    distribution must not be shown at all.

    >>> hidden_counts(pd.Series([2, 0, 7, 30]), 5).tolist()
    [True, False, True, False]
    >>> hidden_counts(pd.Series([2, 0, 6]), 5) is None   # 2 + 6 = 8: each lies in 1..7
    False
    >>> hidden_counts(pd.Series([1, 3]), 5) is None
    True
    """
    from ..report.suppression import pinned_cells, recorded_tables, recoverable_cells, suppress

    frame = pd.DataFrame({"n": counts.to_numpy()})
    with recorded_tables() as recorded:
        hidden = suppress(frame, "n", groups=[[]], min_cell=min_cell)
    # pinned_cells: counts the total alone narrows (2 + 6 = 8 at min_cell 10), which no hiding protects
    if any(recoverable_cells(t) or pinned_cells(t) for t in recorded):
        return None
    return pd.Series(hidden.to_numpy(), index=counts.index)
