"""Follow-up audit (seed §4.4 and the data contract's follow-up rule).

Owed follow-ups
---------------
RF and SCS procedures are followed up 3, 6 and 12 months after the procedure
date, enrolments 12 months after ``closed_date``; adding months clips to the
month's last day (31 August + 6 months = 28/29 February). Every procedure and
every closed enrolment gives candidate follow-ups; each candidate gets every
exclusion that applies, in this fixed order (the first is the primary
``exclusion``):

=================== ============================================================
``for_oppstart``    procedure before 2021-06-01 / closed before 2021-12-01
``under_18``        due year − birth year < 18 (age by birth year)
``kognitiv_svikt``  cognitive_impairment is true
``tolk``            interpreter_needed is true
``forskning``       research_participant is true
``reservert``       reserved on or before the due date: ``reserved_date`` or a ``reservasjon``
                    request, the earlier (:func:`opr_analysis.rights.reservation_dates`)
``ikke_forfalt``    due date after the as-of date (not yet owed)
=================== ============================================================

A blank (unknown) flag excludes nobody. A candidate with no exclusion is owed.

Sent follow-ups are matched to candidates by (anchor_id, kind); the year of a
sent row is the year of its candidate's due date. For an owed candidate the
earliest sent row (by sent_date, then followup_id) is ``sent_owed``; every other
sent row, and every row sent for a candidate that is not owed, is
``sent_not_owed``. A sent row whose anchor does not exist (or is of the wrong
kind) is a broken reference: :func:`~opr_analysis.load_extract` quarantines it
(the validation summary counts it), so it is counted nowhere here; given
directly, such a row appears in the audit with status ``ukjent_anker`` and no
year, and :func:`followup_response` leaves it out. A row whose ``patient_id`` is
not its anchor's patient is a broken reference too (quarantined by the reader).

Censoring at the as-of date
---------------------------
Everything is seen as it stood at the end of the as-of day: a row sent after
it is not in the audit, an answer after it counts as no answer, and a due date
after it is not yet owed (``ikke_forfalt``).

Settled follow-ups (one rule, :func:`settled_at`)
-------------------------------------------------
An owed follow-up is *settled* at the as-of date when its response window of
:data:`AWAITING_DAYS` days has run out: it was sent at least that many days
before the as-of date, or, if it was never sent, it fell due at least that many
days before. Whether it was answered does not enter the rule: a rule that drops
only the recent *unanswered* sends (the rule before issue 24) keeps the recent
answered ones and biases the share up, and one that counts every recent send as
unanswered biases it down. Every share of the last year is computed over
settled follow-ups only, with the same function, wherever it is shown: the
follow-up table (``settled``, ``response_share_settled``, ``owed_settled``,
``owed_answered_share``), the row-level audit (``settled``, ``awaiting``), the
quality indicators (:func:`opr_analysis.indicators.statistics.followup_answered`),
the non-response model, and the experiment, whose window is its own
``answered_within_days`` (:mod:`opr_analysis.experiment.analyse`). With an
as-of date at least the window after the end of a year, every follow-up due in
that year and sent by then is settled.

``awaiting`` counts follow-ups sent as owed whose window is still open
(sent fewer than :data:`AWAITING_DAYS` days before the as-of date), answered or
not: ``sent_owed = awaiting + settled``.

Response shares
---------------
Two shares answer two questions, and each is named for it:

- ``response_share_settled`` = responded_settled / settled: of the settled
  questionnaires *sent* as owed, the share answered (by the as-of date). This
  is the patients' response share, the one the follow-up table shows.
- ``owed_answered_share`` = responded_settled / owed_settled: of the settled
  follow-ups *owed*, sent or not, the share answered. This measures the whole
  process, sending and answering (a unit that fails to send scores lower), and
  is what the quality indicators «Svar på oppfølging» report.

The contract's ``response_share`` = responded / sent (all sent rows) and
``response_share_owed`` = responded_owed / sent_owed (one row per owed
follow-up, every answer by the as-of date) are kept as defined; answers to rows
sent without being owed are ``responded_not_owed``, reported apart.

One computation
---------------
The rule is computed once, as arrays (``_rule``: candidates, each sent row's
candidate by Arrow hash lookups per source table, the earliest send per pair),
and :func:`followup_candidates`, :func:`followup_audit` and
:func:`followup_response` all read it. The response table sums those arrays
per due year and kind; only when two candidates share (anchor_id, kind)
(possible in frames given directly, never after the reader) does it sum the
row-level audit instead, which counts such a pair's owed follow-up once. The
audit's order is a sort on integer keys (ids by their UTF-8 bytes, i.e. as
Python compares text), blanks last.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..extract import codebook
from ..rights.reservation import reservation_dates
from .calendar import calendar_years, shifted_months, year_numbers
from .derived import age_at
from .shares import add_share, count_grid, year_range

RF_SCS_START = pd.Timestamp("2021-06-01")
CLOSED_START = pd.Timestamp("2021-12-01")
MONTHS = {"3m": 3, "6m": 6, "12m": 12}

#: The response window: an owed follow-up is settled once it was sent (or, never sent, fell due) at least this many
#: days before the as-of date (:func:`settled_at`).
AWAITING_DAYS = 30

EXCLUSIONS = {
    "for_oppstart": "før oppstart av oppfølging (prosedyre før 1.6.2021 / avsluttet før 1.12.2021)",
    "under_18": "under 18 år (etter fødselsår) i forfallsåret",
    "kognitiv_svikt": "kognitiv svikt",
    "tolk": "behov for tolk",
    "forskning": "deltar i forskningsprosjekt",
    "reservert": "reservert på eller før forfallsdato",
    "ikke_forfalt": "ikke forfalt ennå (forfallsdato etter kjøringsdato)",
}

STATUSES = {
    "sendt": "skyldig og sendt",
    "ikke_sendt": "skyldig, men ikke sendt",
    "sendt_ikke_skyldig": "sendt, men ikke skyldig (unntatt, ikke forfalt, eller sendt mer enn én gang)",
    "unntatt": "ikke skyldig, ikke sendt",
    "ukjent_anker": "sendt, men behandlingen/innskrivingen finnes ikke",
}

AUDIT_COLUMNS = [
    "patient_id", "kind", "anchor_id", "anchor_date", "due_date", "year", "owed", "exclusion", "exclusions",
    "followup_id", "sent_date", "sent", "sent_owed", "sent_not_owed", "responded_at", "responded", "status",
    "awaiting", "settled",
]  # fmt: skip


def _as_of(as_of) -> pd.Timestamp:
    return pd.Timestamp.today().normalize() if as_of is None else pd.Timestamp(as_of).normalize()


def settled_at(due_date, sent_date, as_of, window_days: int = AWAITING_DAYS) -> np.ndarray:
    """Whether each owed follow-up is settled at the end of the as-of day (module docstring): sent at least
    ``window_days`` days before ``as_of``, or, where ``sent_date`` is blank (never sent), due at least that long
    before. Blank dates are never settled. The one rule for every follow-up share of the package.

    >>> settled_at(["2025-01-10", "2025-01-10", "2025-01-30", "2025-02-01"],
    ...            ["2025-01-30", "2025-01-31", None, None], "2025-03-01").tolist()
    [True, False, True, False]
    """
    start = _dates(sent_date)
    start = np.where(np.isnat(start), _dates(due_date), start)
    cut = np.datetime64(_as_of(as_of) - pd.Timedelta(days=int(window_days)), "ns")
    return ~np.isnat(start) & (start <= cut)


def _dates(values) -> np.ndarray:
    """Dates (datetime64, text or None) as a datetime64[ns] array, NaT for blanks."""
    arr = np.asarray(values)
    if not np.issubdtype(arr.dtype, np.datetime64):
        arr = pd.to_datetime(pd.Series(arr, dtype=object)).to_numpy(dtype="datetime64[ns]")
    return arr.astype("datetime64[ns]")


def first_whole_due_year(kind: str) -> int:
    """The first calendar year whose every day can be a due date of ``kind``: follow-up started with
    procedures from :data:`RF_SCS_START` and enrolments closed from :data:`CLOSED_START`, so the first year
    with due dates is partial unless the first due date is 1 January.

    >>> [first_whole_due_year(k) for k in ("rf_3m", "rf_6m", "rf_12m", "avsluttet_12m")]
    [2022, 2022, 2023, 2023]
    """
    start = CLOSED_START if kind.startswith("avsluttet") else RF_SCS_START
    first_due = start + pd.DateOffset(months=MONTHS[kind.rsplit("_", 1)[1]])
    return first_due.year if (first_due.month, first_due.day) == (1, 1) else first_due.year + 1


def followup_kinds() -> list[str]:
    """The follow-up kinds in codebook order."""
    return list(codebook.load().tables["followups"].columns["kind"].codes)


def followup_candidates(reg, as_of=None) -> pd.DataFrame:
    """Every follow-up the rule gives, owed or not: one row per (anchor_id, kind).

    Columns: patient_id, kind, anchor_id, anchor_date, due_date, year, owed,
    exclusion (primary, NA if owed), exclusions (all, ``;``-separated).
    """
    c = _candidate_rule(reg, _as_of(as_of))
    return pd.DataFrame(
        {
            **_candidate_text(c),
            "anchor_date": c.anchor_date,
            "due_date": c.due,
            "year": calendar_years(c.due),
            "owed": c.owed,
            "exclusions": _exclusion_text(c.excl, ";"),
            "exclusion": _exclusion_text(c.excl, None),
        }
    )[["patient_id", "kind", "anchor_id", "anchor_date", "due_date", "year", "owed", "exclusion", "exclusions"]]


def _candidate_text(c) -> dict[str, pd.Series]:
    """patient_id, kind and anchor_id of the candidates, with the dtypes pandas infers from Python strings.

    That is ``str`` when every kind has candidates and each block has an id; otherwise pandas gives the
    columns ``object``, so they are built as before from one object array per kind (small extracts only).
    """
    parts = [(first + i * len(ids), len(ids)) for first, names, ids in c.sources for i in range(len(names))]
    text = pd.StringDtype("pyarrow", na_value=np.nan)
    if all(n and c.patient.slice(a, n).null_count < n and c.anchor.slice(a, n).null_count < n for a, n in parts):
        return {
            "patient_id": _pandas_strings(c.patient, text),
            "kind": pd.Series(np.asarray(_KINDS, dtype=object)[c.kind], dtype=text),
            "anchor_id": _pandas_strings(c.anchor, text),
        }

    def objects(arr, a, n):
        return _pandas_strings(arr.slice(a, n), pd.StringDtype()).astype(object).to_numpy()

    frames = [
        pd.DataFrame(
            {
                "patient_id": objects(c.patient, a, n),
                "kind": _KINDS[k],
                "anchor_id": objects(c.anchor, a, n),
            }
        )
        for (a, n), k in zip(parts, range(len(_KINDS)), strict=True)
    ]
    return {k: v.reset_index(drop=True) for k, v in pd.concat(frames, ignore_index=True).items()}


#: Candidate kinds in the order candidates are listed (rf procedures per kind, then scs, then closed enrolments).
_KINDS = ("rf_3m", "rf_6m", "rf_12m", "scs_3m", "scs_6m", "scs_12m", "avsluttet_12m")
_NAT = np.datetime64("NaT", "ns")


@dataclass
class _Candidates:
    """Every candidate of the rule as arrays (one entry per candidate, in listing order)."""

    kind: np.ndarray  # index into _KINDS
    patient: pa.ChunkedArray  # large_string
    anchor: pa.ChunkedArray  # large_string
    anchor_date: np.ndarray  # datetime64[ns]
    due: np.ndarray  # datetime64[ns]
    excl: np.ndarray  # bit i set = the i-th of EXCLUSIONS applies
    sources: list  # (first candidate, kinds, anchor ids) per source table selection

    @property
    def owed(self) -> np.ndarray:
        return self.excl == 0


def _candidate_rule(reg, as_of: pd.Timestamp) -> _Candidates:
    """The follow-up rule over every procedure and closed enrolment (module docstring), as arrays."""
    t, e = reg.treatments, reg.enrolments
    closed = e[e["closed_date"].notna()]
    selections = [(t[t["kind"] == proc], "treatment_id", "date", proc) for proc in ("rf", "scs")]
    selections.append((closed, "enrolment_id", "closed_date", "avsluttet"))
    kinds, patients, anchors, anchor_dates, dues, excls, sources = [], [], [], [], [], [], []
    pats = [_arrow(sel["patient_id"]) for sel, *_ in selections]
    # --- patients' rights (issue 26): a reservasjon request acts as reserved_date, the earlier applies;
    # the date comes from opr_analysis.rights.reservation_dates (contract v1.2) ---
    reserving = reg.patients.assign(reserved_date=reservation_dates(reg))
    # --- end patients' rights ---
    # Each anchor's patient row (the first with its id), one Arrow hash lookup for all sources.
    at = _positions(pa.chunked_array([c for p in pats for c in p.chunks], pa.large_string()), reserving["patient_id"])
    pat_all = _patient_columns(reserving, at)
    first, row = 0, 0
    for (sel, id_col, date_col, prefix), pat_ids in zip(selections, pats, strict=True):
        ids = _arrow(sel[id_col])
        dates = sel[date_col].astype("datetime64[ns]").to_numpy()
        start = CLOSED_START if prefix == "avsluttet" else RF_SCS_START
        pat = {k: v[row : row + len(sel)] for k, v in pat_all.items()}
        row += len(sel)
        names = [k for k in _KINDS if k.startswith(prefix + "_")]
        sources.append((first, names, ids))
        dues_of = shifted_months(dates, [MONTHS[name.rsplit("_", 1)[1]] for name in names])
        for name, due in zip(names, dues_of, strict=True):
            kinds.append(np.full(len(sel), _KINDS.index(name), dtype=np.int64))
            patients.extend(pat_ids.chunks)
            anchors.extend(ids.chunks)
            anchor_dates.append(dates)
            dues.append(due)
            excls.append(_exclusion_bits(dates, due, start, pat, as_of))
            first += len(sel)
    return _Candidates(
        kind=np.concatenate(kinds),
        patient=pa.chunked_array(patients, pa.large_string()),
        anchor=pa.chunked_array(anchors, pa.large_string()),
        anchor_date=np.concatenate(anchor_dates),
        due=np.concatenate(dues),
        excl=np.concatenate(excls),
        sources=sources,
    )


def _patient_columns(patients: pd.DataFrame, at: np.ndarray) -> dict[str, np.ndarray]:
    """The patient attributes the exclusions need, at positions ``at`` (blank where -1)."""
    known = at >= 0
    at = np.maximum(at, 0) if len(patients) else np.zeros(len(at), dtype=np.int64)

    def take(values, blank):
        return np.where(known, values[at], blank) if len(values) else np.full(len(at), blank)

    birth = patients["birth_year"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    out = {"birth_year": take(birth, np.nan)}
    for col in ("cognitive_impairment", "interpreter_needed", "research_participant"):
        out[col] = take(pd.array(patients[col], dtype="boolean").to_numpy(dtype=bool, na_value=False), False)
    out["reserved_date"] = take(patients["reserved_date"].astype("datetime64[ns]").to_numpy(), _NAT)
    return out


def _exclusion_bits(anchor_date, due, start, pat, as_of) -> np.ndarray:
    """Per candidate, the exclusions that apply as bits in EXCLUSIONS order (a blank never excludes)."""
    age = age_at(pd.Series(due), pat["birth_year"]).to_numpy(dtype=float, na_value=np.nan)
    with np.errstate(invalid="ignore"):
        under_18 = age < 18  # NaN (unknown) compares False
    flags = [
        anchor_date < np.datetime64(start, "ns"),  # NaT compares False
        under_18,
        pat["cognitive_impairment"],
        pat["interpreter_needed"],
        pat["research_participant"],
        pat["reserved_date"] <= due,
        due > np.datetime64(as_of, "ns"),
    ]
    bits = np.zeros(len(due), dtype=np.int64)
    for i, flag in enumerate(flags):
        bits |= flag.astype(np.int64) << i
    return bits


def _exclusion_lookup(sep) -> list:
    """Text for each bit pattern: all names joined by ``sep`` ("" for none), or the first name (NA for none)."""
    names = list(EXCLUSIONS)
    out = []
    for bits in range(1 << len(names)):
        on = [n for i, n in enumerate(names) if bits >> i & 1]
        out.append((sep.join(on) if sep is not None else on[0]) if on else ("" if sep is not None else None))
    return out


def _exclusion_text(bits: np.ndarray, sep, unknown: np.ndarray | None = None) -> pd.Series:
    """``exclusions`` (sep ";") or ``exclusion`` (sep None) per candidate, NA where ``unknown``."""
    lookup = pa.array(_exclusion_lookup(sep) + [None], pa.large_string())
    at = bits if unknown is None else np.where(unknown, len(lookup) - 1, bits)
    return _pandas_strings(pa.chunked_array([lookup.take(pa.array(at))]), pd.StringDtype())


def _arrow(s: pd.Series) -> pa.ChunkedArray:
    """A text column as an Arrow large_string chunked array."""
    arr = pa.array(s.astype("string").array)
    chunks = arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]
    return pa.chunked_array([pc.cast(c, pa.large_string()) for c in chunks], pa.large_string())


def _pandas_strings(arr: pa.ChunkedArray, dtype) -> pd.Series:
    return pd.Series(pd.arrays.ArrowStringArray(arr, dtype=dtype))


def _positions(keys: pa.ChunkedArray, ids: pd.Series) -> np.ndarray:
    """For each key, the position of the first equal id (-1 when none), by Arrow's hash lookup."""
    if not len(ids):
        return np.full(len(keys), -1, dtype=np.int64)
    where = pc.index_in(keys, value_set=_arrow(ids))
    return pc.fill_null(where, -1).to_numpy(zero_copy_only=False).astype(np.int64)


@dataclass
class _Sent:
    """The follow-ups sent on or before the as-of day, matched to their candidates."""

    rows: pd.DataFrame  # the followups rows themselves
    cand_at: np.ndarray  # the candidate each matches (-1 = unknown anchor)
    kind_code: np.ndarray  # code of the row's own kind in kind_names (-1 = blank)
    kind_names: list
    first: np.ndarray  # the earliest sent row of its (anchor_id, kind)
    answered: np.ndarray  # answered on or before the as-of day


def _match_sent(reg, cand: _Candidates, as_of: pd.Timestamp) -> _Sent:
    """Match each sent row to its candidate by (anchor_id, kind) and mark the earliest per pair."""
    f = reg.followups
    f = f[f["sent_date"].astype("datetime64[ns]") <= as_of]  # not yet sent on the as-of day
    kind = f["kind"]
    if isinstance(kind.dtype, pd.CategoricalDtype):
        codes, names = kind.cat.codes.to_numpy().astype(np.int64), list(kind.cat.categories)
    else:
        codes, names = pd.factorize(kind)
        codes, names = codes.astype(np.int64), list(names)
    names = [str(n) for n in names]
    kind_at = np.array([_KINDS.index(n) if n in _KINDS else -1 for n in names] + [-1], dtype=np.int64)[codes]
    anchor = _arrow(f["anchor_id"])
    null_key = anchor.is_null().to_numpy(zero_copy_only=False) | (codes < 0)
    cand_at = np.full(len(f), -1, dtype=np.int64)
    for first, kinds, ids in cand.sources:
        in_source = np.isin(kind_at, [_KINDS.index(k) for k in kinds]) & ~null_key
        rows = np.flatnonzero(in_source)
        if not len(rows) or not len(ids):
            continue
        found = pc.fill_null(pc.index_in(anchor.take(pa.array(rows)), value_set=ids), -1)
        found = found.to_numpy(zero_copy_only=False).astype(np.int64)
        offset = first + (kind_at[rows] - _KINDS.index(kinds[0])) * len(ids)
        cand_at[rows] = np.where(found >= 0, offset + found, -1)
    blank_anchor = np.flatnonzero(cand.anchor.is_null().to_numpy(zero_copy_only=False))
    if null_key.any() and len(blank_anchor):  # a blank key matches the first candidate with a blank key
        cand_at[null_key] = blank_anchor[0]
    # Earliest per (anchor_id, kind) by sent_date, then followup_id (blank last), then extract order.
    group = cand_at.copy()
    matched = cand_at >= 0
    odd = np.flatnonzero(null_key & matched)
    if len(odd):  # blank keys matched a blank-anchored candidate (frames given directly): group by own values
        pairs = zip(anchor.take(pa.array(odd)).to_pylist(), codes[odd].tolist(), strict=True)
        seen = {}
        group[odd] = [len(cand.kind) + seen.setdefault(pair, len(seen)) for pair in pairs]
    first = np.ones(len(f), dtype=bool)
    shared = np.zeros(len(f), dtype=bool)  # rows sharing their pair with another matched row
    shared[matched] = np.bincount(group[matched])[group[matched]] > 1
    if shared.any():
        at = np.flatnonzero(shared)
        sub = pd.DataFrame(
            {
                "group": group[at],
                "sent": f["sent_date"].astype("datetime64[ns]").to_numpy()[at],
                "id": f["followup_id"].iloc[at].astype(object).to_numpy(),
                "at": at,
            }
        ).sort_values(["group", "sent", "id", "at"], kind="stable", na_position="last")
        first[sub["at"].to_numpy()] = ~sub.duplicated("group").to_numpy()
    answered = _answered_by_as_of(f["responded_at"], as_of).to_numpy()
    return _Sent(f, cand_at, codes, names, first, answered)


@dataclass
class _Rule:
    """Candidates and sent follow-ups with what the audit derives per sent row (one computation for all outputs)."""

    cand: _Candidates
    sent: _Sent
    sent_owed: np.ndarray
    responded: np.ndarray
    awaiting: np.ndarray  # per sent row: sent as owed, window still open (answered or not)
    settled: np.ndarray  # per sent row: sent as owed and settled (:func:`settled_at`)
    cand_settled: np.ndarray  # per candidate: owed and settled (by its first send, or its due date if unsent)


def _rule(reg, as_of: pd.Timestamp) -> _Rule:
    cand = _candidate_rule(reg, as_of)
    sent = _match_sent(reg, cand, as_of)
    known = sent.cand_at >= 0
    owed = np.where(known, cand.owed[np.maximum(sent.cand_at, 0)], False) if len(cand.kind) else known
    sent_owed = owed & sent.first
    responded = sent.answered
    sent_dates = sent.rows["sent_date"].astype("datetime64[ns]").to_numpy()
    # The one rule, per owed candidate: its first send (sent_owed) if any, else its due date.
    first_sent = np.full(len(cand.kind), _NAT, dtype="datetime64[ns]")
    first_sent[sent.cand_at[sent_owed]] = sent_dates[sent_owed]
    cand_settled = cand.owed & settled_at(cand.due, first_sent, as_of)
    settled = sent_owed & _at(cand_settled, sent.cand_at, False)
    return _Rule(cand, sent, sent_owed, responded, sent_owed & ~settled, settled, cand_settled)


def followup_audit(reg, as_of=None) -> pd.DataFrame:
    """Row-level audit: every candidate follow-up (owed or not) joined to what was sent.

    One row per candidate not sent, and one row per sent follow-up (a candidate
    sent twice gives two rows). Columns: ``AUDIT_COLUMNS``; ``status`` is one of
    ``STATUSES``. ``settled`` (:func:`settled_at`) is true on the one row of each
    owed follow-up (its first send, or its unsent candidate row) once its
    response window has run out; ``awaiting`` marks first sends whose window is
    still open, answered or not. This is what ``opr followups`` writes.
    """
    as_of = _as_of(as_of)
    r = _rule(reg, as_of)
    c, s = r.cand, r.sent
    n_sent = len(s.rows)
    # Rows: every sent row (its candidate's columns, blank when its anchor is unknown), then
    # every candidate not sent; the sort below fixes their order.
    unsent = np.ones(len(c.kind), dtype=bool)
    unsent[s.cand_at[s.cand_at >= 0]] = False
    unsent = np.flatnonzero(unsent)
    cand_at = np.concatenate([s.cand_at, unsent])
    sent_at = np.concatenate([np.arange(n_sent), np.full(len(unsent), -1)])
    # A sent row's own patient_id, kind and anchor_id (its candidate's, when known).
    kind_names = s.kind_names + list(_KINDS)
    kind_code = np.concatenate([s.kind_code, len(s.kind_names) + c.kind[unsent]])
    patient = pa.chunked_array(_arrow(s.rows["patient_id"]).chunks + c.patient.take(unsent).chunks, pa.large_string())
    anchor = pa.chunked_array(_arrow(s.rows["anchor_id"]).chunks + c.anchor.take(unsent).chunks, pa.large_string())
    fid = _arrow(s.rows["followup_id"])
    sent_dates = s.rows["sent_date"].astype("datetime64[ns]").to_numpy()
    due = _at(c.due, cand_at, _NAT)
    order = _audit_order(due, patient, kind_code, kind_names, anchor, _at(sent_dates, sent_at, _NAT), fid, n_sent)
    cand_at, sent_at, kind_code = cand_at[order], sent_at[order], kind_code[order]
    known, sent = cand_at >= 0, sent_at >= 0
    owed = known & _at(c.owed, cand_at, False)
    sent_owed = _at(r.sent_owed, sent_at, False)
    excl = _at(c.excl, cand_at, 0)
    responded = _at(r.responded, sent_at, False)
    # Codes in STATUSES order: ukjent_anker, sendt, sendt_ikke_skyldig, ikke_sendt, else unntatt.
    status = np.select([~known & sent, sent_owed, sent, owed], [4, 0, 2, 1], default=3)
    order_pa = pa.array(order)
    names = pa.array(kind_names + [None], pa.large_string())
    out = pd.DataFrame(
        {
            "patient_id": _pandas_strings(patient.take(order_pa), pd.StringDtype()),
            "kind": _pandas_strings(
                pa.chunked_array([names.take(pa.array(np.where(kind_code < 0, len(kind_names), kind_code)))]),
                pd.StringDtype(),
            ),
            "anchor_id": _pandas_strings(anchor.take(order_pa), pd.StringDtype()),
            "anchor_date": _at(c.anchor_date, cand_at, _NAT),
            "due_date": due[order],
            "year": calendar_years(due[order]),
            "owed": owed,
            "exclusion": _exclusion_text(excl, None, ~known),
            "exclusions": _exclusion_text(excl, ";", ~known),
            "followup_id": _pandas_strings(_take_or_null(fid, sent_at), pd.StringDtype()),
            "sent_date": _at(sent_dates, sent_at, _NAT),
            "sent": sent,
            "sent_owed": sent_owed,
            "sent_not_owed": sent & ~sent_owed,
            "responded_at": _take(s.rows["responded_at"], sent_at).where(pd.Series(responded)),
            "responded": responded,
            "status": _pandas_strings(
                pa.chunked_array([pa.array(list(STATUSES), pa.large_string()).take(pa.array(status))]),
                pd.StringDtype(),
            ),
            "awaiting": _at(r.awaiting, sent_at, False),
            "settled": np.where(sent, _at(r.settled, sent_at, False), _at(r.cand_settled, cand_at, False)),
        }
    )
    return out[AUDIT_COLUMNS]


def _at(values: np.ndarray, at: np.ndarray, blank) -> np.ndarray:
    """``values`` at positions ``at``, ``blank`` where ``at`` is -1."""
    if not len(values):
        return np.full(len(at), blank, dtype=values.dtype)
    return np.where(at >= 0, values[np.maximum(at, 0)], blank)


def _take_or_null(arr: pa.ChunkedArray, at: np.ndarray) -> pa.ChunkedArray:
    """Arrow ``arr`` at positions ``at``, null where ``at`` is -1."""
    return arr.take(pa.array(at, mask=at < 0))


def _audit_order(due, patient, kind_code, kind_names, anchor, sent_date, fid, n_sent) -> np.ndarray:
    """The audit's row order: due_date, patient_id, kind, anchor_id, sent_date, followup_id, then row order.

    Blanks last in every key; text in code-point order (as Python compares str). The same order as a
    stable sort by (anchor_id, kind, sent_date, followup_id) followed by one by the first five keys.
    """
    n = len(due)
    ranks = {name: i for i, name in enumerate(sorted(set(kind_names)))}  # equal names share a rank
    kind_rank = np.array([ranks[name] for name in kind_names] + [len(ranks)], dtype=np.int64)
    kind_key = kind_rank[np.where(kind_code < 0, len(kind_names), kind_code)]
    due_key, pat_key = _time_key(due), _text_key(patient)
    order = np.lexsort((pat_key, due_key))
    # Only rows tied on (due_date, patient_id) need the remaining keys.
    d, p = due_key[order], pat_key[order]
    tie = np.zeros(n, dtype=bool)
    same = (d[1:] == d[:-1]) & (p[1:] == p[:-1])
    tie[1:] |= same
    tie[:-1] |= same
    if tie.any():
        at = np.flatnonzero(tie)
        run = np.cumsum(~np.concatenate([[False], same]))[at]
        rows = order[at]
        # Text keys of these rows only (keys compare within one call); only sent rows have a followup_id.
        fid_key = np.full(len(rows), np.iinfo(np.uint64).max, dtype=np.uint64)
        sent = rows < n_sent
        fid_key[sent] = _text_key(fid.take(pa.array(rows[sent])))
        anchor_key = _text_key(anchor.take(pa.array(rows)))
        keys = (fid_key, _time_key(sent_date[rows]), anchor_key, kind_key[rows], run)
        order[at] = rows[np.lexsort(keys)]
    return order


def _time_key(dates: np.ndarray) -> np.ndarray:
    """Dates as int64 sort keys, NaT last."""
    keys = dates.astype("datetime64[ns]").view(np.int64).copy()
    keys[np.isnat(dates)] = np.iinfo(np.int64).max
    return keys


def _text_key(arr: pa.ChunkedArray) -> np.ndarray:
    """Sort keys for Arrow text: equal keys for equal text, ordered as Python orders str, nulls last.

    Texts of at most 8 UTF-8 bytes without NUL are their bytes read as one big-endian number (byte order is
    code-point order); anything else is ranked by Arrow.
    """
    arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    n = len(arr)
    if n == 0:
        return np.zeros(0, dtype=np.uint64)
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset : arr.offset + n + 1]
    data = arr.buffers()[2]
    data = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, dtype=np.uint8)
    used = data[offsets[0] : offsets[-1]]
    lengths = np.diff(offsets)
    if lengths.max(initial=0) <= 8 and not (used == 0).any():
        keys = np.zeros(n, dtype=np.uint64)
        last = max(len(data) - 1, 0)
        for j in range(8):
            byte = data[np.minimum(offsets[:-1] + j, last)] if len(data) else np.zeros(n, dtype=np.uint8)
            keys = (keys << np.uint64(8)) | np.where(j < lengths, byte, 0).astype(np.uint64)
    else:
        keys = pc.rank(arr, sort_keys="ascending", tiebreaker="dense").to_numpy().astype(np.uint64)
    keys[arr.is_null().to_numpy(zero_copy_only=False)] = np.iinfo(np.uint64).max  # 0xFF is never in UTF-8
    return keys


def _answered_by_as_of(responded_at: pd.Series, as_of: pd.Timestamp) -> pd.Series:
    """True where an answer exists and was given on or before the as-of day (local calendar date)."""
    at = pd.Series(responded_at)
    if isinstance(at.dtype, pd.DatetimeTZDtype):
        at = at.dt.tz_convert("Europe/Oslo").dt.tz_localize(None)
    day = at.dt.normalize().astype("datetime64[ns]")
    return (day.notna() & (day <= as_of)).fillna(False).astype(bool)


def _take(s: pd.Series, at: np.ndarray) -> pd.Series:
    """``s`` at positions ``at`` (fresh 0..n-1 index); missing where ``at`` is -1."""
    taken = s.iloc[np.maximum(at, 0)].reset_index(drop=True) if len(s) else pd.Series([pd.NA] * len(at), dtype=s.dtype)
    return taken.mask(pd.Series(at < 0)) if (at < 0).any() else taken


def followup_response(reg, as_of=None) -> pd.DataFrame:
    """§4.4 response table, one row per due year × kind (module docstring for the rules).

    Contract columns: year, kind, owed, sent, sent_owed, not_sent,
    sent_not_owed, responded, response_share (= responded / sent),
    responded_owed, response_share_owed (= responded_owed / sent_owed). Then:
    response_share and response_share_owed limits, responded_not_owed,
    awaiting (sent as owed, response window still open), settled
    (= sent_owed − awaiting), responded_settled, response_share_settled
    (= responded_settled / settled), owed_settled (owed follow-ups settled,
    sent or not), owed_answered_share (= responded_settled / owed_settled),
    each share with its Wilson limits. «Settled» is :func:`settled_at`.

    Years are due years, from the first to the last year with a follow-up owed
    or sent; every year × kind has a row. sent = sent_owed + sent_not_owed;
    not_sent = owed − sent_owed; responded counts sent rows with a responded_at.
    """
    as_of = _as_of(as_of)
    r = _rule(reg, as_of)
    if not _unique_candidates(r.cand):  # only for frames given directly: the reader quarantines duplicate ids
        return _response_from_audit(followup_audit(reg, as_of))
    # One row per (due year, kind) with at least one candidate: candidates are unique by (anchor_id, kind),
    # so each is counted once as owed, and each sent row adds to its candidate's year and kind.
    c, s = r.cand, r.sent
    dated = ~np.isnat(c.due)
    years = year_numbers(c.due)
    first_year = int(years[dated].min()) if dated.any() else 0
    cell = np.where(dated, (years - first_year) * len(_KINDS) + c.kind, -1)
    sent_cell = _at(cell, s.cand_at, -1)
    size = int(cell.max(initial=-1)) + 1

    def count(cells, flags):
        on = cells >= 0
        return np.bincount(cells[on], weights=flags[on].astype(np.int64), minlength=size).astype(np.int64)

    counts = {
        "owed": count(cell, c.owed),
        "sent_owed": count(sent_cell, r.sent_owed),
        "sent_not_owed": count(sent_cell, ~r.sent_owed),
        "responded": count(sent_cell, r.responded),
        "responded_owed": count(sent_cell, r.responded & r.sent_owed),
        "awaiting": count(sent_cell, r.awaiting),
        "responded_settled": count(sent_cell, r.responded & r.settled),
        "owed_settled": count(cell, r.cand_settled),
    }
    present = np.flatnonzero(np.bincount(cell[cell >= 0], minlength=size) > 0)
    rows = pd.DataFrame(
        {
            "year": (first_year + present // len(_KINDS)).astype("int64"),
            "kind": pd.Series(np.asarray(_KINDS, dtype=object)[present % len(_KINDS)], dtype=object),
            **{k: v[present] for k, v in counts.items()},
        }
    )
    return _response_table(rows)


def _response_from_audit(audit: pd.DataFrame) -> pd.DataFrame:
    """The response table from the row-level audit (any input, duplicate candidates included)."""
    audit = audit[audit["year"].notna()]
    candidate = ~audit.duplicated(["anchor_id", "kind"])
    rows = pd.DataFrame(
        {
            "year": audit["year"].astype("int64"),
            "kind": audit["kind"].astype(object),
            "owed": (audit["owed"] & candidate).astype("int64"),
            "sent_owed": audit["sent_owed"].astype("int64"),
            "sent_not_owed": audit["sent_not_owed"].astype("int64"),
            "responded": audit["responded"].astype("int64"),
            "responded_owed": (audit["responded"] & audit["sent_owed"]).astype("int64"),
            "awaiting": audit["awaiting"].astype("int64"),
            "responded_settled": (audit["responded"] & audit["settled"]).astype("int64"),
            "owed_settled": _first_settled(audit).astype("int64"),
        }
    )
    return _response_table(rows)


def _first_settled(audit: pd.DataFrame) -> pd.Series:
    """Settled rows of the audit, each (anchor_id, kind) once (duplicate candidates in frames given directly)."""
    settled = audit["settled"].astype(bool)
    out = pd.Series(False, index=audit.index)
    out[settled] = ~audit.loc[settled].duplicated(["anchor_id", "kind"])
    return out


def _response_table(rows: pd.DataFrame) -> pd.DataFrame:
    """Sum per-row (or per-cell) counts over the full year × kind grid and add the derived columns."""
    active = rows[(rows["owed"] + rows["sent_owed"] + rows["sent_not_owed"]) > 0]
    grid = {"year": year_range(active["year"]), "kind": followup_kinds()}
    sums = RESPONSE_COUNTS
    out = count_grid(rows, grid, {c: c for c in sums})
    return response_columns(out, ["year", "kind"])


def _unique_candidates(cand: _Candidates) -> bool:
    """True when no two candidates share (anchor_id, kind) and none has a blank anchor_id."""
    if cand.anchor.null_count:
        return False
    for _, _, ids in cand.sources:
        ids = ids.combine_chunks()
        if len(ids) > 1 and not pc.all(pc.less(ids[:-1], ids[1:])).as_py():  # sorted strictly: unique
            if pc.count_distinct(ids).as_py() != len(ids):
                return False
    return True


#: The counts the response table sums; every other column derives from them (:func:`response_columns`).
RESPONSE_COUNTS = (
    "owed", "sent_owed", "sent_not_owed", "responded", "responded_owed", "awaiting", "responded_settled",
    "owed_settled",
)  # fmt: skip


def response_columns(out: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Derived counts and shares of the response table, contract columns first (module docstring)."""
    out["sent"] = out["sent_owed"] + out["sent_not_owed"]
    out["not_sent"] = out["owed"] - out["sent_owed"]
    out["responded_not_owed"] = out["responded"] - out["responded_owed"]
    out["settled"] = out["sent_owed"] - out["awaiting"]
    out = add_share(out, "response_share", "responded", "sent")
    out = add_share(out, "response_share_owed", "responded_owed", "sent_owed")
    out = add_share(out, "response_share_settled", "responded_settled", "settled")
    out = add_share(out, "owed_answered_share", "responded_settled", "owed_settled")
    contract = [*keys, "owed", "sent", "sent_owed", "not_sent", "sent_not_owed", "responded", "response_share"]
    contract += ["responded_owed", "response_share_owed"]
    extra = [
        "response_share_ci_low", "response_share_ci_high", "response_share_owed_ci_low", "response_share_owed_ci_high",
        "responded_not_owed", "awaiting", "settled", "responded_settled", "response_share_settled",
        "response_share_settled_ci_low", "response_share_settled_ci_high", "owed_settled", "owed_answered_share",
        "owed_answered_share_ci_low", "owed_answered_share_ci_high",
    ]  # fmt: skip
    return out[contract + extra]


def followup_totals(response: pd.DataFrame) -> pd.DataFrame:
    """:func:`followup_response` summed over kinds: the same counts and shares per year.

    Takes the per-kind table so that a caller holding it does not run the audit again.

    >>> t = pd.DataFrame({"year": [2024, 2024], "kind": ["rf_3m", "scs_3m"], "owed": [10, 2], "sent": [9, 2],
    ...                   "sent_owed": [9, 2], "not_sent": [1, 0], "sent_not_owed": [0, 0], "responded": [3, 1],
    ...                   "responded_owed": [3, 1], "awaiting": [1, 0], "responded_settled": [3, 1],
    ...                   "owed_settled": [10, 2]})
    >>> followup_totals(t)[["year", "sent", "responded", "response_share", "settled"]].to_dict("records")
    [{'year': 2024, 'sent': 11, 'responded': 4, 'response_share': 0.36363636363636365, 'settled': 10}]
    """
    out = response.groupby("year", as_index=False, sort=True)[list(RESPONSE_COUNTS)].sum()
    return response_columns(out, ["year"])


#: Words in the reader's quarantine reason for a follow-up sent to someone else's anchor.
FOREIGN_ANCHOR_REASON = "annen pasients forløp"


def foreign_anchor_count(reg) -> int:
    """Follow-ups quarantined because their patient_id is not their anchor's patient (counted nowhere else)."""
    q = getattr(getattr(reg, "report", None), "quarantine", {}).get("followups")
    if q is None or q.empty or "quarantine_reason" not in q:
        return 0
    return int(q["quarantine_reason"].astype(str).str.contains(FOREIGN_ANCHOR_REASON, regex=False).sum())
