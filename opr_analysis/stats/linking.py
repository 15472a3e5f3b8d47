"""The one rule that ties an event to an enrolment.

An event (a baseline response, a procedure, a short form) belongs to the
patient's latest enrolment granted on or before the event's day. An event
before any enrolment of the patient belongs to none. The statistics, the PROM
pairing and research extracts all use :func:`enrolment_of`, so they agree.

Examples
--------
>>> import pandas as pd
>>> enrolments = pd.DataFrame({"enrolment_id": ["E1", "E2"], "patient_id": ["P1", "P1"],
...                            "granted_date": pd.to_datetime(["2022-01-10", "2023-03-01"])})
>>> days = pd.Series(pd.to_datetime(["2022-01-09 08:00", "2022-01-10 23:59", "2023-05-05 10:00", "2023-05-05 10:00"]))
>>> enrolment_of(enrolments, pd.Series(["P1", "P1", "P1", "P2"]), days).tolist()
[<NA>, 'E1', 'E2', <NA>]
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa


def day(s: pd.Series) -> pd.Series:
    """Datetimes truncated to their day (``datetime64[ns]``): the unit every linking rule compares."""
    return pd.Series(s).dt.normalize().astype("datetime64[ns]")


def enrolment_of(enrolments: pd.DataFrame, patient_ids: pd.Series, dates: pd.Series) -> pd.Series:
    """Enrolment id of each event (``patient_ids[i]`` on ``dates[i]``); NA where none.

    ``enrolments`` needs ``enrolment_id``, ``patient_id`` and ``granted_date``.
    Ties (two grants on one day) go to the larger enrolment id, so the result
    never depends on row order. The result is indexed like ``patient_ids``.
    """
    index = pd.Series(patient_ids).index
    pos = _enrolment_positions(enrolments, dates, *patient_codes(enrolments["patient_id"], patient_ids))
    ids = pd.array(enrolments["enrolment_id"].array, dtype="string")
    out = pd.Series(ids.take(pos, allow_fill=True), dtype="string")
    out.index = index
    return out


def patient_codes(*ids) -> list[np.ndarray]:
    """One integer code per distinct id across all the given id columns (-1 for NA), one array each.

    Arrow-backed text ids are hashed by Arrow in one pass; anything else as Python objects,
    matched by equality as a pandas merge would."""
    series = [pd.Series(i) for i in ids]
    if all(isinstance(s.array, pd.arrays.ArrowStringArray) for s in series):
        chunks = [c.cast(pa.large_string()) for s in series for c in s.array.__arrow_array__().chunks]
        codes = pa.chunked_array(chunks, type=pa.large_string()).dictionary_encode().combine_chunks().indices
        codes = codes.cast(pa.int64()).fill_null(-1).to_numpy()
    else:
        codes = pd.factorize(np.concatenate([s.astype(object).to_numpy() for s in series]))[0].astype("int64")
    return np.split(codes, np.cumsum([len(s) for s in series])[:-1])


def _enrolment_positions(enrolments: pd.DataFrame, dates, e_codes: np.ndarray, ev_codes: np.ndarray) -> np.ndarray:
    """Row position in ``enrolments`` of each event's enrolment (:func:`enrolment_of`); -1 where none.

    ``e_codes`` and ``ev_codes`` are the patients of the enrolments and of the events as
    :func:`patient_codes`. The linking is a search in sorted integer keys: each enrolment
    is the key ``(patient, granted day)``, and an event's enrolment is the last key at or
    before ``(patient, event day)``, when it is the same patient's.
    """
    n = len(ev_codes)
    e_day = _day_numbers(enrolments["granted_date"])
    ev_day = _day_numbers(dates)
    e_ok = (e_codes >= 0) & (e_day != _NAT)
    ev_ok = (ev_codes >= 0) & (ev_day != _NAT)
    out = np.full(n, -1, dtype="int64")
    if not e_ok.any() or not ev_ok.any():
        return out
    rows = np.flatnonzero(e_ok)
    lo = min(e_day[e_ok].min(), ev_day[ev_ok].min())
    span = max(e_day[e_ok].max(), ev_day[ev_ok].max()) - lo + 1
    keys = e_codes[rows] * span + (e_day[rows] - lo)
    order = np.argsort(keys)  # not stable: equal keys are ordered by enrolment id just below
    rows, keys = rows[order], keys[order]
    _larger_id_last(rows, keys, enrolments["enrolment_id"])
    ev_codes = ev_codes[ev_ok]
    ev_keys = ev_codes * span + (ev_day[ev_ok] - lo)
    # searching sorted needles walks the keys once; random needles miss the cache at scale 100
    by_key = np.argsort(ev_keys)
    at = np.empty(len(ev_keys), dtype="int64")
    at[by_key] = np.searchsorted(keys, ev_keys[by_key], side="right") - 1
    found = at >= 0
    found[found] = e_codes[rows[at[found]]] == ev_codes[found]
    linked = np.full(len(ev_codes), -1, dtype="int64")
    linked[found] = rows[at[found]]
    out[ev_ok] = linked
    return out


_NAT = np.iinfo("int64").min
_DAY_NS = 86_400_000_000_000


def _day_numbers(dates) -> np.ndarray:
    """Whole days since 1970 of each datetime (its :func:`day`); ``_NAT`` where missing."""
    dates = pd.Series(dates)
    if dates.dtype == "datetime64[ns]":  # floor division is the day's midnight, as normalize()
        ns = dates.to_numpy().view("int64")
    else:
        ns = day(dates).to_numpy().view("int64")
    return np.where(ns == _NAT, _NAT, ns // _DAY_NS)


def _larger_id_last(rows: np.ndarray, keys: np.ndarray, ids: pd.Series) -> None:
    """Within runs of equal keys (two grants of one patient on one day), order ``rows`` by
    enrolment id, in place, so the search's last match is the larger id."""
    tie = np.zeros(len(keys), dtype=bool)
    same = keys[1:] == keys[:-1]
    tie[1:] |= same
    tie[:-1] |= same
    if not tie.any():
        return
    at = np.flatnonzero(tie)
    tied = pd.Series(ids).iloc[rows[at]].astype(object).to_numpy()
    by_id = np.argsort(tied, kind="stable")
    by_key = np.argsort(keys[at][by_id], kind="stable")
    rows[at] = rows[at][by_id][by_key]
