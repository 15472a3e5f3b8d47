"""Erasure at the patient's request: who is left out of every output (contract v1.2).

The rule
--------
A ``sletting`` request of ``rights_requests`` whose ``effective_date`` is on or
before the day an output is made takes its patient out of every output made
from the extract: ``opr tables``, the report, ``opr indicators``, research
deliveries (``opr extract``), experiments, quarantine files, notebooks.
:func:`erasure_requests` holds the rule; :func:`erased_patients` gives the
patients it erases; :func:`without_erased` applies it, once, as the last step
of :func:`~opr_analysis.load_extract`, so that no command or notebook can read
an extract without it.

Which date
----------
An erasure is compared with **the day the output is made** (the run date,
Europe/Oslo), never with ``--as-of``: ``--as-of`` dates the follow-up rule
(what was owed and answered by then), while the contract leaves the patient out
of every output made from the effective date on. A report for 2023 made today
omits a patient erased last week. The reader quarantines dates after the run
date, so in practice every usable ``sletting`` row is in force; the ``on``
argument exists for the API and for tests.

What leaves
-----------
Generic, from the codebook, so a table added later (``implants``) is covered
without code here:

- every row whose ``patient_id`` is an erased patient's, in every table that
  has the column (a referral's patient need not be in ``patients``; it leaves
  all the same);
- every row that refers (codebook ``references``, and a follow-up's
  ``anchor_id``) to a row that left: the questionnaire answers of their
  responses and follow-ups, say (:mod:`.linkage`, the rule access uses too);
- the same rows of the quarantine (raw cells, compared after trimming), any
  quarantined row whose reason names an erased patient, and the problems
  listed for them (the validation summary prints them).

What stays: the ``rights_requests`` rows. They are the registry's record that it
handled the request (GDPR art. 5(2) and 12) and what applies the erasure again
to every later extract. No output writes them with a patient id except the
registry's own list of recipients to notify (``opr sletting``); the report shows
counts only.

Counted once
------------
``reg.report.erasure`` (:class:`Erasure`) holds the requests in force, the
erased patients and, per table, how many rows left; each table's summary has
``rows_erased`` (read = used + quarantined + erased). The report counts the
erased patients once, as «slettet etter krav fra pasienten», under the
small-number rule; the rows removed are held in memory (``Erasure.removed``)
for the few places that must account for them without naming anyone (the
experiment's CONSORT flow, the allocation sequence) and are never written.

Examples
--------
>>> reg = load_extract("data/synthetic")                     # doctest: +SKIP
>>> reg.report.erasure.patients.size                          # doctest: +SKIP
2
>>> "P0000042" in set(reg.patients["patient_id"])            # doctest: +SKIP
False
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..extract import codebook
from .linkage import row_ids, rows_of

#: Tables the erasure leaves as they are (module docstring: the request log is the registry's record).
KEPT_TABLES = ("rights_requests",)
#: Columns of a request as :func:`erasure_requests` gives them.
REQUEST_COLUMNS = ["request_id", "patient_id", "kind", "received_date", "effective_date", "closed_date"]
ERASED_LABEL = "slettet etter krav fra pasienten"


@dataclass(frozen=True)
class Erasure:
    """The erasure applied to one registry (see the module docstring).

    ``requests``: the ``sletting`` requests in force (:data:`REQUEST_COLUMNS`); ``patients``: the
    erased patient ids; ``rows``: rows left out per table (usable and quarantined); ``removed``: the
    usable rows left out, per table, in memory only (never written: they name the patients).
    """

    on: pd.Timestamp
    requests: pd.DataFrame
    patients: pd.Index
    rows: dict[str, int] = field(default_factory=dict)
    removed: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)
    kept: dict[str, int] = field(default_factory=dict)  # rows of erased patients kept (their requests), per table

    @property
    def rows_total(self) -> int:
        return int(sum(self.rows.values()))

    def summary_line(self) -> str:
        """The line under the validation summary (counts, never ids)."""
        n = len(self.patients)
        rows = f"{self.rows_total:,}".replace(",", " ")
        return (
            f"Slettet etter krav fra pasienten: {n} pasient{'er' if n != 1 else ''}; "
            f"{rows} rader er holdt utenfor alle tabeller, rapporter og leveranser."
        )


def _day(on) -> pd.Timestamp:
    """``on`` as a day; None is today in Oslo (the day the output is made)."""
    if on is None:
        return pd.Timestamp.now(tz="Europe/Oslo").tz_localize(None).normalize()
    return pd.Timestamp(on).normalize()


def erasure_requests(reg, on=None) -> pd.DataFrame:
    """The ``sletting`` requests in force on ``on`` (default: the day the output is made).

    A request is in force from its ``effective_date`` (the reader quarantines a ``sletting``
    without one). Sorted by effective date and request id; columns :data:`REQUEST_COLUMNS`.
    """
    table = reg.tables.get("rights_requests")
    if table is None or table.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in REQUEST_COLUMNS})
    day = _day(on)
    kind = table["kind"].astype("string")
    effective = table["effective_date"]
    sel = table[((kind == "sletting") & effective.notna() & (effective <= day)).fillna(False).to_numpy(dtype=bool)]
    out = sel[REQUEST_COLUMNS].assign(patient_id=sel["patient_id"].astype(str), kind=kind[sel.index].astype(str))
    return out.sort_values(["effective_date", "request_id"], kind="stable").reset_index(drop=True)


def erased_patients(reg, on=None) -> pd.Index:
    """The patients erased on ``on`` (default: the day the output is made): the one decision of who is out.

    Sorted, unique patient ids (text). See :func:`erasure_requests` for the rule.
    """
    return _patient_index(erasure_requests(reg, on))


def _patient_index(requests: pd.DataFrame) -> pd.Index:
    return pd.Index(sorted(set(requests["patient_id"])), dtype=object, name="patient_id")


def without_erased(reg, on=None):
    """``reg`` without the patients :func:`erased_patients` names (a new Registry; ``reg`` is untouched).

    Applied once, by :func:`~opr_analysis.load_extract`; calling it again changes nothing. Without
    erased patients the registry itself is returned.
    """
    report = reg.report
    if getattr(report, "erasure", None) is not None:
        return reg  # applied already
    day = _day(on)
    requests = erasure_requests(reg, day)
    ids = _patient_index(requests)
    if not len(ids):
        return reg
    cb = codebook.load()
    id_set = set(ids)
    names = re.compile(r"(?<![\w-])(?:" + "|".join(re.escape(i) for i in ids) + r")(?![\w-])")
    gone: dict[str, set[str]] = {}
    tables, removed, rows, kept = {}, {}, {}, {}
    quarantine = dict(report.quarantine)
    summaries = dict(report.summaries)
    dropped_q: dict[str, set[int]] = {}
    for name, frame in reg.tables.items():
        spec = cb.tables.get(name)
        if spec is None or name in KEPT_TABLES:
            tables[name] = frame
            if spec is not None and "patient_id" in frame:
                kept[name] = int(frame["patient_id"].astype("string").isin(id_set).fillna(False).sum())
            continue
        leave = rows_of(name, frame, spec, id_set, gone)
        q = quarantine.get(name)
        q_leave = np.zeros(0, dtype=bool)
        if q is not None and len(q):
            q_leave = rows_of(name, q, spec, id_set, gone, raw=True)
            if "quarantine_reason" in q:
                q_leave |= q["quarantine_reason"].astype(str).str.contains(names).to_numpy(dtype=bool)
        gone[name] = row_ids(frame, spec, leave) | (row_ids(q, spec, q_leave, raw=True) if len(q_leave) else set())
        n_q = int(q_leave.sum())
        if not leave.any() and not n_q:
            tables[name] = frame
            continue
        tables[name] = frame[~leave]
        removed[name] = frame[leave]
        rows[name] = int(leave.sum()) + n_q
        if n_q:
            dropped_q[name] = set(q.loc[q_leave, "row"].astype(int))
            quarantine[name] = q[~q_leave].reset_index(drop=True)
        if name in summaries:
            s = summaries[name]
            summaries[name] = dataclasses.replace(
                s,
                rows_used=s.rows_used - int(leave.sum()),
                rows_quarantined=s.rows_quarantined - n_q,
                rows_erased=s.rows_erased + rows[name],
            )
    erasure = Erasure(on=day, requests=requests, patients=ids, rows=rows, removed=removed, kept=kept)
    problems = [p for p in report.problems if p.row not in dropped_q.get(p.table, ())]
    new_report = dataclasses.replace(
        report, summaries=summaries, problems=problems, quarantine=quarantine, erasure=erasure
    )
    return dataclasses.replace(reg, tables=tables, report=new_report, _memo={})


def erased_count(reg) -> int:
    """How many patients the registry ``reg`` left out at their own request (0 when none): the one count
    the report shows, under the small-number rule (:func:`opr_analysis.report.prose.erasure_sentence`)."""
    erasure = getattr(getattr(reg, "report", None), "erasure", None)
    return 0 if erasure is None else len(erasure.patients)


def rows_without_erased(report) -> pd.DataFrame:
    """Rows per table as the report accounts for them: table, rows_read, rows_used, rows_quarantined, as if
    the erased patients had never been in the extract: their rows are out of ``rows_read`` too, and so are
    their requests (kept in ``rights_requests`` as the registry's record). They are counted once, as
    patients (module docstring; :func:`erased_count`)."""
    counts = report.counts()
    erased = counts.pop("rows_erased") if "rows_erased" in counts else 0
    erasure = getattr(report, "erasure", None)
    kept = counts["table"].map(erasure.kept if erasure is not None else {}).fillna(0).astype("int64")
    counts["rows_read"] = counts["rows_read"] - erased - kept
    counts["rows_used"] = counts["rows_used"] - kept
    return counts[["table", "rows_read", "rows_used", "rows_quarantined"]]


def report_rows(report) -> tuple[int, int, int]:
    """Rows read, used and quarantined over all tables as the report accounts for them
    (:func:`rows_without_erased`); a report without an erasure is taken as it is."""
    erasure = getattr(report, "erasure", None)
    kept = sum(erasure.kept.values()) if erasure is not None else 0
    read = report.rows_read - getattr(report, "rows_erased", 0) - kept
    return read, report.rows_used - kept, report.rows_quarantined
