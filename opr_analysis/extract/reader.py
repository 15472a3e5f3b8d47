"""Reading and validating a registry extract: :func:`load_extract`.

The run is the contract's: table-level problems (a missing table or column,
an unreadable file, a national identity number anywhere) stop it with
:class:`~opr_analysis.errors.ExtractError`; row-level problems (wrong type,
unknown code, impossible date, negative duration, duplicate id, broken
reference — for a follow-up also an anchor of the wrong kind, or an anchor that
belongs to another patient than the follow-up's ``patient_id``, contract v1.1)
send the row to quarantine with a reason, and the counts reconcile:
rows read = rows used + rows quarantined, per table.

Decisions beyond the contract's words:

- A date or datetime after the run date (today, Oslo) is quarantined: nothing
  in a registry extract can have happened yet.
- A five-digit number in a date column is quarantined with a message saying it
  looks like an Excel date serial (the column was exported as numbers).
- A blank boolean flag is unknown, never an error (the contract: an unknown flag
  excludes nobody), although the flag columns are not marked optional.
- A CSV that is not UTF-8 is read as Windows-1252 (a superset of Latin-1's
  printable characters) with a note in the summary; UTF-16 with a byte-order mark
  is read as such with a note; a file that is neither stops the run with a
  message naming the encodings. Text is never silently mis-decoded.
- A whole row written twice is a duplicate id: both copies are quarantined.
- A file with only its header row is an empty table, with a note in the summary.
- A national identity number in any form :mod:`opr_analysis.safety.nin`
  knows stops the run: with separators, full-width digits or zero-width
  characters, or with its leading zero lost (``1017012343``, ``1017012343.0``,
  ``1.017012343E+09``) in any column of any format. Messages show it masked.

Units (contract v1.1, issue 16):

- An absent ``units`` table is not listed in the summary (a v1 extract reads and
  reports exactly as before). Where ``units`` is present, a missing ``unit_id``
  column in referrals, enrolments, baseline_responses, short_forms or treatments
  stops the run (a required column), and a blank ``unit_id`` there is quarantined.
- A ``unit_id`` given while ``units`` is absent is a broken reference (quarantined).
- A follow-up's ``unit_id``, where given, must equal its anchor's; otherwise the
  row is quarantined (only checked where the anchor itself is usable).

Implants (contract v1.2, issue 27):

- ``explanted_date`` before ``implanted_date``; an ``explant_reason`` without an
  ``explanted_date``, or an ``explanted_date`` without a reason: quarantined.
- ``treatment_id`` must be a usable ``scs`` treatment (one that does not exist or is
  quarantined is a broken reference, as everywhere) of the same patient (a treatment of
  another patient is quarantined like a follow-up sent to someone else's anchor).
- A ``unit_id`` given with a treatment must agree with the treatment's (as a follow-up's
  with its anchor's).
- One device, (``manufacturer``, ``serial_number``) compared by
  :mod:`opr_analysis.implants.matching` (trimmed, NFKC, case-folded), sits in one body at a
  time: every row whose period ``[implanted_date, explanted_date)`` (open while not
  explanted) overlaps another row's of the same device is quarantined, in two patients or in
  the same patient twice. A device explanted and implanted again on the same day does not
  overlap. Overlaps are looked for among every row with a readable key and period, quarantined
  for another reason or not: a conflict in the source is a conflict.

Examples
--------
>>> from opr_analysis import load_extract                      # doctest: +SKIP
>>> reg = load_extract("data/synthetic")                        # doctest: +SKIP
>>> reg.referrals.dtypes["assessed_date"]                       # doctest: +SKIP
dtype('<M8[ns]')
>>> print(reg.report.summary_text())                            # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ExtractError, IdentifiableDataError, UsageError
from ..paths import resolve_extract
from ..safety.nin import has_nin, mask_nin, nin_cells
from . import codebook, needs, schemas
from .parsing import EXPECTED, PARSERS
from .sources import RawTable, SourceFile, find_table_file, read_table
from .validation import Problem, TableSummary, ValidationReport

# Which table each follow-up kind's anchor_id points into.
ANCHOR_TABLE = {
    "rf_3m": ("treatments", "rf"),
    "rf_6m": ("treatments", "rf"),
    "rf_12m": ("treatments", "rf"),
    "scs_3m": ("treatments", "scs"),
    "scs_6m": ("treatments", "scs"),
    "scs_12m": ("treatments", "scs"),
    "avsluttet_12m": ("enrolments", None),
}

# --- v1.1 units (issue 16) ---
UNIT_COLUMN = "unit_id"
# Tables whose unit_id is required once the extract has a units table (contract v1.1).
UNIT_REQUIRED = ("referrals", "enrolments", "baseline_responses", "short_forms", "treatments")
UNIT_BLANK_REASON = "mangler enhet (unit_id er påkrevd når uttrekket har tabellen units)"
UNIT_MISMATCH_REASON = "oppgir en annen enhet enn behandlingen/innskrivingen den følger opp"
# --- end v1.1 units ---


class Tables(dict):
    """A registry's tables by name. A table the command did not read (:mod:`.needs`) is not here, and
    asking for it raises :class:`~opr_analysis.extract.needs.TableNotRead` rather than giving nothing."""

    def __init__(self, tables=(), not_read=()):
        super().__init__(tables)
        self.not_read = frozenset(not_read)

    def __getitem__(self, name):
        if name in self.not_read:
            raise needs.TableNotRead(name)
        return super().__getitem__(name)

    def get(self, name, default=None):
        if name in self.not_read:
            raise needs.TableNotRead(name)
        return super().get(name, default)


@dataclass
class Registry:
    """A validated extract: one typed DataFrame per table plus the validation report.

    Tables are attributes too (``reg.referrals``). Each frame is indexed by
    ``row``, the row's 1-based data row in its source file. An optional table
    that was absent is an empty frame with the codebook's columns. A table the
    command did not read (``load_extract(tables=…)``) is not there at all: asking
    for it raises :class:`~opr_analysis.extract.needs.TableNotRead`.
    """

    path: Path
    tables: dict[str, pd.DataFrame]
    report: ValidationReport
    sources: dict[str, SourceFile] = field(default_factory=dict)
    _memo: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self):
        # The report says which tables were not read; the tables refuse them (also after dict(reg.tables)).
        not_read = [s.table for s in self.report.summaries.values() if not s.read]
        self.tables = Tables(self.tables, not_read)

    def memo(self, key, compute):
        """``compute()`` once per registry and ``key``: for costly derived frames (PROM scores)
        that several statistics share. Treat the tables as read-only once loaded."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def __getattr__(self, name: str) -> pd.DataFrame:
        tables = self.__dict__.get("tables", {})
        if name in tables or name in getattr(tables, "not_read", ()):
            return tables[name]
        raise AttributeError(name)

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.tables[name]

    def input_hashes(self) -> dict[str, str]:
        """SHA-256 of every input file, by file name (for manifests)."""
        return {s.path.name: s.sha256 for s in self.sources.values()}


def load_extract(
    path: str | os.PathLike, tables: Iterable[str] | None = None, *, cache: bool | None = None
) -> Registry:
    """Read, type and validate the extract in folder ``path``.

    ``tables``: the extract tables the caller's statistics read (:func:`.needs.tables_read_by`);
    those and the tables they refer to are read and validated, no other (the summary says which
    were not read). None, the default: every table.

    ``cache``: reuse (and write) the validated-extract cache (:mod:`.cache`); None, the default,
    uses it unless ``$OPR_CACHE`` is ``0``. A cached table equals the one validation gives.

    Last step (contract v1.2, issue 26): patients erased at their own request
    are left out of every table and of the quarantine
    (:func:`opr_analysis.rights.without_erased`); ``report.erasure`` says how
    many rows left and why. Every command and notebook reads an extract here, so
    no output can hold them.

    Raises :class:`ExtractError` when the extract cannot be used and
    :class:`IdentifiableDataError` when it holds a national identity number.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise ExtractError(f"fant ikke uttrekksmappen «{folder}»")
    cb = codebook.load()
    wanted = needs.closure(cb, tables)
    from .cache import Store

    store, why_not = Store.open(folder, cache)
    reg = _load_cached(folder, cb, wanted, store) if store is not None else None
    if reg is None:
        reg = _load_validated(folder, cb, wanted, store)
    if why_not:
        reg.report.cache_note = f"hurtiglageret brukes ikke: {why_not}"
    # --- v1.2 patients' rights (issue 26): erased patients leave here, so every output is without them.
    # After the cache: what it holds is the validated files; the erasure is judged on each run's date. ---
    from ..rights.erasure import without_erased

    return without_erased(reg)
    # --- end v1.2 patients' rights ---


def _load_validated(folder: Path, cb: codebook.Codebook, wanted: tuple[str, ...], store) -> Registry:
    """Read and validate the ``wanted`` tables (the cold path); write them to the cache ``store`` if any."""
    tomorrow = _tomorrow()
    report = ValidationReport()
    parsed: dict[str, pd.DataFrame] = {}
    bad: dict[str, pd.DataFrame] = {}
    tables: dict[str, pd.DataFrame] = {}
    windows: dict[str, tuple] = {}
    reading = _Reading(folder, cb, wanted)
    raws = reading.raws
    for name, spec in cb.tables.items():
        raw = reading.take(name)
        if reading.stopping:  # the run stops (identity number, unusable file) once every file is read
            continue
        if name not in wanted:
            _not_read(name, spec, folder, report)
            continue
        if raw is None:
            parsed[name] = _empty_frame(spec)
            bad[name] = _no_problems()
            tables[name] = _finish_table(name, spec, parsed[name], bad[name], raw, report)
            continue
        frame, problems = _parse_and_check(raw, spec, tomorrow)
        windows[name] = _date_window(frame, spec, tomorrow)
        found = [problems, _reference_problems(frame, raw, spec, parsed, bad, raws)]
        if name == "followups":
            found.append(_anchor_problems(frame, raw, parsed, bad))
        # Response-rate experiments (contract v1.1, issue 18)
        if name == "allocations":
            found.append(_allocation_problems(frame, raw))
        # --- v1.2 patients' rights requests (issue 26) ---
        if name == "rights_requests":
            found.append(_rights_request_problems(frame, raw))
        # --- end v1.2 patients' rights requests ---
        found.append(_unit_problems(name, frame, raw, parsed, bad, raws))
        if name == "implants":  # v1.2 implants (issue 27)
            found.append(_implant_problems(frame, raw, parsed, bad))
        problems = _joined(found)
        parsed[name], bad[name] = frame, problems
        tables[name] = _finish_table(name, spec, frame, problems, raw, report)
        # The text cells are done with (the quarantine has its rows): free them before the next table.
        raw.cells = raw.cells.iloc[:0]
    reading.stop_if_unusable()
    sources = {n: r.source for n, r in raws.items() if n in wanted}
    reg = Registry(path=folder, tables=tables, report=report, sources=sources)
    if store is not None and _tomorrow() == tomorrow:  # a run across midnight judged dates by two days
        _write_cache(store, cb, reg, windows)  # before the erasure: it depends on the run date
    return reg


def open_extract(path: str | os.PathLike = "data/synthetic") -> Registry:
    """:func:`load_extract` of the folder ``path`` names, resolved as notebooks give it
    (absolute, from the working directory, or from the project folder:
    :func:`opr_analysis.paths.resolve_extract`); a clear message if it is not there."""
    folder = resolve_extract(path)
    if not folder.is_dir():
        raise UsageError(
            f"Fant ikke uttrekket {folder}. Skriv det syntetiske registeret med «make data» "
            f"(eller «opr synth --out data/synthetic») i prosjektmappen, eller oppgi en annen sti."
        )
    return load_extract(folder)


# --- the validated-extract cache (issue 29; extract/cache.py) ---------------------------------------


def _load_cached(folder: Path, cb: codebook.Codebook, wanted: tuple[str, ...], store) -> Registry | None:
    """The ``wanted`` tables from the cache, or None when any of them has no valid entry.

    Whatever would stop the run (a missing table, two files for one table, an identity number in a
    file name) also sends it to the cold path, which stops it with the usual message.
    """
    from .cache import table_key

    try:
        files = {name: find_table_file(folder, name) for name in cb.tables}
        if any(spec.required and files[n] is None for n, spec in cb.tables.items()) or _name_hits(folder):
            return None
        present = [n for n in wanted if files[n] is not None]
        hashes = {n: (files[n].name, store.file_hash(files[n])) for n in present}
    except (ExtractError, OSError):
        return None
    entries = {}
    for name in present:
        key = table_key(cb, name, {t: hashes.get(t) for t in needs.closure(cb, [name], always=False)})
        entry = store.read(name, key)
        if entry is None or not _window_holds(entry.info.get("window")):
            store.save_hashes()
            return None
        entries[name] = entry
    store.save_hashes()
    report = ValidationReport()
    tables, sources = {}, {}
    for name, spec in cb.tables.items():
        if name not in wanted:
            _not_read(name, spec, folder, report)
        elif files[name] is None:
            tables[name] = _finish_table(name, spec, _empty_frame(spec), _no_problems(), None, report)
        else:
            file, info = files[name], entries[name].info
            src, counts = info["source"], info["summary"]
            sources[name] = SourceFile(
                name, file, hashes[name][1], src["format"], src["encoding"], src["separator"], list(src["notes"])
            )
            report.summaries[name] = TableSummary(
                name, file.name, counts["rows_read"], counts["rows_used"], counts["rows_quarantined"],
                notes=list(counts["notes"]),
            )  # fmt: skip
            p = entries[name].problems
            report.problems.extend(
                Problem(name, file.name, int(row), str(column), str(value), str(reason))
                for row, column, value, reason in zip(p["row"], p["column"], p["value"], p["reason"], strict=True)
            )
            report.quarantine[name] = entries[name].quarantine
            tables[name] = entries[name].frame
    report.cache_note = (
        f"tabellene er hentet fra hurtiglageret ({store.root}): de samme filene er lest og kontrollert før; "
        "--no-cache leser og kontrollerer dem på nytt"
    )
    return Registry(path=folder, tables=tables, report=report, sources=sources)


def _write_cache(store, cb: codebook.Codebook, reg: Registry, windows: dict[str, tuple]) -> None:
    """One cache entry per table read (never raises: a table that cannot be stored exactly is skipped)."""
    from .cache import Entry, table_key

    hashes = {n: (s.path.name, s.sha256) for n, s in reg.sources.items()}
    problems: dict[str, list[Problem]] = {}
    for p in reg.report.problems:
        problems.setdefault(p.table, []).append(p)
    for name, source in reg.sources.items():
        if source.stat is not None:
            store.remember(source.path, source.stat, source.sha256, source.read_at)
        key = table_key(cb, name, {t: hashes.get(t) for t in needs.closure(cb, [name], always=False)})
        summary = reg.report.summaries[name]
        rows = problems.get(name, [])
        info = {
            "file": source.path.name,
            "source": {"format": source.format, "encoding": source.encoding, "separator": source.separator,
                       "notes": list(source.notes)},
            "summary": {"rows_read": summary.rows_read, "rows_used": summary.rows_used,
                        "rows_quarantined": summary.rows_quarantined, "notes": list(summary.notes)},
            "window": list(windows.get(name, (None, None))),
        }  # fmt: skip
        frame = pd.DataFrame(
            {
                "row": np.array([p.row for p in rows], dtype="int64"),
                "column": np.array([p.column for p in rows], dtype=object),
                "value": np.array([p.value for p in rows], dtype=object),
                "reason": np.array([p.reason for p in rows], dtype=object),
            }
        )
        store.write(Entry(name, reg.tables[name], reg.report.quarantine[name], frame, info), key)
    store.save_hashes()
    store.prune()


def _date_window(frame: pd.DataFrame, spec: codebook.Table, tomorrow: pd.Timestamp) -> tuple[int | None, int | None]:
    """The latest date before ``tomorrow`` and the earliest from it on (nanoseconds; None: none), over the
    table's date and datetime columns: a cached table is valid while the run date keeps them on the same side."""
    past, future = None, None
    edge = tomorrow.value
    for name, col in spec.columns.items():
        if col.type not in ("date", "datetime") or name not in frame:
            continue
        values = frame[name].to_numpy().view("int64")
        values = values[values != np.iinfo(np.int64).min]  # NaT
        before, after = values[values < edge], values[values >= edge]
        if before.size:
            past = int(before.max()) if past is None else max(past, int(before.max()))
        if after.size:
            future = int(after.min()) if future is None else min(future, int(after.min()))
    return past, future


def _window_holds(window) -> bool:
    """Whether today's run date judges a cached table's dates as its own run date did (see :func:`_date_window`)."""
    if not isinstance(window, list) or len(window) != 2:
        return False
    past, future = window
    edge = _tomorrow().value
    return (past is None or past < edge) and (future is None or future >= edge)


# --- end cache ---


def _not_read(name: str, spec: codebook.Table, folder: Path, report: ValidationReport) -> None:
    """The summary line of a table the command does not read: its file, or that it is absent."""
    file = find_table_file(folder, name)  # found once already: two files for one table stopped the run
    if file is None:
        if spec.since is None:  # an absent optional table reads as absent, as when it is read
            report.summaries[name] = TableSummary(name, None)
        return
    report.summaries[name] = TableSummary(name, file.name, read=False)


class _Reading:
    """The extract's table files, read in codebook order as the validation asks for them (:meth:`take`).

    The next wanted file is read in the background while a table is validated (Arrow parses, hashes
    and scans a file without holding the GIL), and at most those two tables' text cells are held at
    once (national size: the text of all tables together was 300 MB more at the peak). Each table is
    scanned for identity numbers as it is read; an unusable file or an identity number anywhere stops
    the run (:attr:`stopping`), but only after every file has been read and scanned, so the messages,
    their order and which error wins are those of reading everything first: an identity number before
    anything else (:meth:`stop_if_unusable`). A table that is not wanted is only looked for (a missing
    required table, or two files for one table, is still fatal), not read.
    """

    def __init__(self, folder: Path, cb: codebook.Codebook, wanted: tuple[str, ...]):
        self.folder, self.cb = folder, cb
        self.raws: dict[str, RawTable] = {}
        self.fatal: list[str] = []
        self.hits: list[str] = _name_hits(folder)
        self.files: dict[str, Path | None | ExtractError] = {}
        for name in cb.tables:
            try:
                self.files[name] = find_table_file(folder, name)
            except ExtractError as exc:
                self.files[name] = exc
        self.queue = [n for n in cb.tables if n in wanted and isinstance(self.files[n], Path)]
        self.pool = ThreadPoolExecutor(max_workers=1)
        self.pending: dict[str, object] = {}
        self._ahead()

    @property
    def stopping(self) -> bool:
        return bool(self.hits or self.fatal)

    def _ahead(self) -> None:
        """Keep the next two wanted files read or being read."""
        for name in self.queue[:2]:
            if name not in self.pending:
                self.pending[name] = self.pool.submit(read_table, self.files[name], name)

    def take(self, name: str) -> RawTable | None:
        """Table ``name``'s text cells (None: absent, not wanted or unusable), its problems recorded."""
        spec, file = self.cb.tables[name], self.files[name]
        if isinstance(file, ExtractError):
            self.fatal.append(str(file))
            return None
        if file is None:
            if spec.required:
                self.fatal.append(f"tabellen «{name}» mangler (ventet {name}.csv, .parquet eller .xlsx)")
            return None
        if name not in self.pending:
            return None  # not wanted: only looked for
        self.queue.remove(name)
        read = self.pending.pop(name)
        self._ahead()
        try:
            raw = read.result()
        except ExtractError as exc:
            self.fatal.append(str(exc))
            return None
        self._check_columns(name, spec, file, raw)
        self.hits.extend(_nin_hits(raw))
        self.raws[name] = raw
        return raw

    def _check_columns(self, name: str, spec: codebook.Table, file: Path, raw: RawTable) -> None:
        missing = [c for c in spec.required_columns if c not in raw.cells.columns]
        if name in UNIT_REQUIRED and self.files.get("units") is not None and UNIT_COLUMN not in raw.cells:
            missing.append(UNIT_COLUMN)  # required once the extract has units (contract v1.1)
        if missing:
            cols = ", ".join(f"«{c}»" for c in missing)
            self.fatal.append(f"{file.name}: mangler kolonne {cols}")
        if raw.rows_read == 0:
            raw.source.notes.append("filen har bare overskriftsrad; tabellen er tom")
        unknown = [c for c in raw.cells.columns if c not in spec.columns]
        if unknown:
            raw.source.notes.append("ukjente kolonner ble ikke brukt: " + ", ".join(unknown))

    def stop_if_unusable(self) -> None:
        """Raise for an identity number anywhere, else for an unusable table; nothing when the extract is usable."""
        self.pool.shutdown()
        if self.hits:
            shown = "\n  ".join(mask_nin(h) for h in self.hits[:20])
            raise IdentifiableDataError(
                "uttrekket inneholder fødselsnummer (11 sifre med gyldige kontrollsifre og fødselsdato, "
                "også med skilletegn eller uten ledende null) og kan ikke brukes; "
                "ingenting er skrevet. Fjern dem i kildesystemet og lag uttrekket på nytt:\n  " + shown
            )
        if self.fatal:
            raise ExtractError("uttrekket kan ikke brukes:\n  " + "\n  ".join(self.fatal))


def _name_hits(folder: Path) -> list[str]:
    """Every file name in the extract's folder holding an identity number (a table file's name is
    fixed, but others lie beside it)."""
    return [f"filnavnet «{p.name}»" for p in sorted(folder.iterdir()) if has_nin(p.name)]


def _nin_hits(raw: RawTable) -> list[str]:
    """Where one table's file holds an identity number: header, cells (five per column), ragged rows, container."""
    hits = []
    if any(has_nin(str(c)) for c in raw.cells.columns):
        hits.append(f"{raw.source.path.name}, overskriftsraden")
    for col in raw.cells.columns if raw.maybe_nin else ():
        mask = nin_cells(raw.cells[col])
        for row in raw.cells.index[mask][:5]:
            hits.append(f"{raw.source.path.name}, rad {row}, kolonne «{col}» («{mask_nin(raw.cells.at[row, col])}»)")
    for row, cells in raw.ragged.items():
        if nin_cells(pd.Series(cells, dtype="string")).any():
            hits.append(f"{raw.source.path.name}, rad {row}")
    if raw.source.format in ("xlsx", "parquet") and _container_has_nin(raw.source.path):
        hits.append(
            f"{raw.source.path.name}, utenfor tabellen (andre ark, arknavn, kommentarer, topp-/bunntekst, "
            "dokumentegenskaper eller metadata)"
        )
    return hits


def _container_has_nin(path: Path) -> bool:
    """An identity number anywhere in a workbook's parts or a Parquet file's metadata (not only the cells read)."""
    from ..safety.privacy import parquet_metadata_text, zipped_xml_text

    # The cells were checked already; here only what the table reader does not see.
    text = zipped_xml_text(path) if path.suffix.lower() == ".xlsx" else parquet_metadata_text(path)
    return has_nin(text)


# Problems are frames of (row, column, value, reason), in the order they are found (a row's problems are
# listed in that order). Most checks find nothing on most tables: the empty frame is built once, and
# _joined concatenates only the frames that hold something (building and concatenating empty frames
# was a fifth of a small extract's load).
_EMPTY_PROBLEMS: list[pd.DataFrame] = []


def _no_problems() -> pd.DataFrame:
    if not _EMPTY_PROBLEMS:
        _EMPTY_PROBLEMS.append(
            pd.DataFrame({"row": pd.Series(dtype="int64"), "column": "", "value": "", "reason": ""}).iloc[:0]
        )
    return _EMPTY_PROBLEMS[0].copy(deep=False)  # a new frame (copy on write): callers may change theirs


def _joined(found: list[pd.DataFrame]) -> pd.DataFrame:
    """The problem frames one after the other (the index is not used)."""
    found = [f for f in found if len(f)]
    if len(found) > 1:
        return pd.concat(found, ignore_index=True)
    return found[0] if found else _no_problems()


def _problems(rows, column: str, values, reason) -> pd.DataFrame:
    rows = np.asarray(rows, dtype="int64")
    if not len(rows):
        return _no_problems()
    return pd.DataFrame(
        {
            "row": rows,
            "column": column,
            "value": np.asarray(values, dtype=object) if len(rows) else [],
            "reason": reason if isinstance(reason, str) else np.asarray(reason, dtype=object),
        }
    )


def _parse_and_check(raw: RawTable, spec: codebook.Table, tomorrow: pd.Timestamp) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One table's typed frame and its problems; a date or time from ``tomorrow`` (:func:`_tomorrow`, taken once
    per load, so every table of a run is judged by the same run date) is in the future."""
    cells = raw.cells
    frame = {}
    found = [_ragged_problems(raw)]
    unparsed = {}
    for name, col in spec.columns.items():
        if name not in cells.columns:  # an optional extension column
            frame[name] = pd.Series(pd.NA, index=cells.index, dtype=schemas.DTYPES[col.type])
            continue
        values, bad = PARSERS[col.type](cells[name])
        frame[name] = values
        unparsed[name] = bad
        if bad.any():
            found.append(_problems(cells.index[bad], name, cells[name][bad], _type_reason(col, cells[name][bad])))
        if col.type in ("date", "datetime"):
            future = values >= tomorrow
            if future.any():
                found.append(_problems(cells.index[future], name, cells[name][future], FUTURE_REASON))
    frame = pd.DataFrame(frame, index=cells.index)
    cases = schemas.failures(spec.name, frame)
    for (column, check), group in cases.groupby(["column", "check"], sort=False):
        rows = group["row"].to_numpy()
        if column in unparsed:  # already reported as unparseable; its blank is not a second problem
            rows = rows[~unparsed[column].reindex(rows).fillna(False).to_numpy(dtype=bool)]
        if len(rows):
            found.append(_schema_problems(column, check, rows, cells, spec, frame))
    return frame, _joined(found)


def _ragged_problems(raw: RawTable) -> pd.DataFrame:
    rows, reasons = [], []
    for row, cells in raw.ragged.items():
        rows.append(row)
        reasons.append(
            f"raden har {len(cells)} felt, men overskriften har {raw.header_width} "
            "(avkortet rad, eller skilletegn inne i en verdi uten anførselstegn)"
        )
    return _problems(rows, "", [""] * len(rows), reasons)


def _tomorrow() -> pd.Timestamp:
    """Midnight starting tomorrow, Oslo wall clock: the first instant after the run date."""
    return pd.Timestamp.now(tz="Europe/Oslo").tz_localize(None).normalize() + pd.Timedelta(days=1)


# Dates after the run date cannot be in a registry extract (nothing has happened yet).
FUTURE_REASON = "datoen ligger etter dagens dato; et uttrekk kan ikke ha hendelser fram i tid"


def _type_reason(col: codebook.Column, values: pd.Series) -> list[str]:
    if col.type in ("date", "datetime"):
        shaped = (
            values.str.fullmatch(
                r"([0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{1,2}\.[0-9]{1,2}\.[0-9]{4})([T ][0-9]{1,2}[:.][0-9]{2}([:.][0-9]{2})?.*)?"
            )
            .fillna(False)
            .astype(bool)
        )
        # Excel stores a date as days since 1899-12-30 (2020 is about 43 800-46 000).
        serial = values.str.fullmatch(r"[0-9]{5}([.,][0-9]+)?").fillna(False).astype(bool)
        return np.select(
            [shaped, serial],
            [
                "datoen eller klokkeslettet finnes ikke" if col.type == "datetime" else "datoen finnes ikke",
                f"ser ut som et Excel-datotall (dager siden 30.12.1899), ikke {EXPECTED[col.type]}; "
                "formater kolonnen som dato før eksport",
            ],
            f"er ikke {EXPECTED[col.type]}",
        ).tolist()
    return [f"er ikke {EXPECTED[col.type]}"] * len(values)


def _schema_problems(
    column: str, check: str, rows, cells: pd.DataFrame, spec: codebook.Table, frame: pd.DataFrame
) -> pd.DataFrame:
    """Problems for every row failing one pandera check of one column (vectorised)."""
    col = spec.columns[column]
    values = cells.loc[rows, column].to_numpy(dtype=object) if column in cells.columns else [""] * len(rows)
    if check == "not_nullable":
        reason = "mangler verdi (feltet kan ikke være blankt)"
    elif check == "unique":
        reason = _duplicate_reasons(pd.Series(values, index=rows))
    elif check == "isin" and col.type == "code":
        reason = "ukjent kode (gyldige koder: " + ", ".join(col.codes) + ")"
    elif check == "isin":
        reason = "ukjent spørsmålskode (se codebook/instruments)"
    elif check == "orgnr":
        reason = "er ikke et gyldig organisasjonsnummer (9 sifre med riktig kontrollsiffer)"
    elif check == "greater_than_or_equal_to":
        reason = f"er mindre enn laveste tillatte verdi ({col.min:g})"
    elif check == "less_than_or_equal_to":
        reason = f"er større enn høyeste tillatte verdi ({col.max:g})"
    elif check == "item_range":
        items = codebook.load().items
        reason = [
            f"ligger utenfor svarskalaen til «{code}» (hele tall {items[code].min:g}–{items[code].max:g})"
            for code in frame.loc[rows, "item"].astype(str)
        ]
    else:
        reason = f"bryter regelen «{check}»"
    return _problems(rows, column, values, reason)


def _duplicate_reasons(values: pd.Series, shown: int = 10) -> list[str]:
    """ "Same id on rows 1, 2": every row holding the value, the first ``shown`` of them listed."""
    groups = pd.Series(values.index, index=values.to_numpy()).groupby(level=0, sort=False).agg(list)
    text = {
        v: ", ".join(map(str, rows[:shown])) + (f" og {len(rows) - shown} til" if len(rows) > shown else "")
        for v, rows in groups.items()
    }
    return [f"samme ID står på flere rader ({text[v]}); ingen av dem kan brukes" for v in values]


def _usable_ids(table: str, column: str, parsed, bad) -> pd.Series:
    frame = parsed[table]
    return frame.loc[~frame.index.isin(bad[table]["row"]), column]


def _reference_problems(frame, raw, spec, parsed, bad, raws) -> pd.DataFrame:
    found = []
    for name, col in spec.columns.items():
        if not col.references or name not in raw.cells.columns:
            continue
        rt, rc = col.reference_table, col.reference_column
        values = frame[name]
        known = _positions(values, _usable_ids(rt, rc, parsed, bad)) >= 0
        broken = values.notna() & ~pd.Series(known, index=values.index)
        if not broken.any():
            continue
        exists = _positions(values[broken], parsed[rt][rc]) >= 0
        reasons = np.where(
            exists,
            f"viser til en rad i {rt} som er satt i karantene",
            f"finnes ikke i {rt}" if rt in raws else f"tabellen {rt} finnes ikke i uttrekket",
        )
        found.append(_problems(frame.index[broken], name, raw.cells[name][broken], reasons))
    return _joined(found)


def _positions(keys: pd.Series, ids: pd.Series) -> np.ndarray:
    """For each key, the position in ``ids`` of the first equal id (-1 when none; a missing key or id
    never matches), by Arrow's hash lookup. Positions count every row of ``ids``, missing or not, so
    callers take the matched row's other columns with them."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from .parsing import _arrow

    if not len(ids):
        return np.full(len(keys), -1, dtype=np.int64)
    where = pc.index_in(
        pc.cast(_arrow(keys), pa.large_string()),
        value_set=pc.cast(_arrow(ids), pa.large_string()),
        skip_nulls=True,  # not dropna(): that would shift the positions after a missing id
    )
    return pc.fill_null(where, -1).to_numpy(zero_copy_only=False).astype(np.int64)


def _anchor_problems(frame, raw, parsed, bad) -> pd.DataFrame:
    """A follow-up's anchor must be a usable row of the table its kind points to.

    Vectorised: each follow-up's anchor is looked up (by id) among the usable
    treatments and enrolments and among all of them, so that a quarantined
    anchor is told apart from one that does not exist.
    """
    treatments, enrolments = parsed["treatments"], parsed["enrolments"]
    t_ok = treatments[~treatments.index.isin(bad["treatments"]["row"])]
    e_ok = enrolments[~enrolments.index.isin(bad["enrolments"]["row"])]
    valid = frame["kind"].notna() & frame["anchor_id"].notna() & frame["kind"].isin(list(ANCHOR_TABLE))
    fu = frame.loc[valid, ["kind", "anchor_id"]]
    if fu.empty:
        return _no_problems()
    kind = fu["kind"]
    anchor = fu["anchor_id"]
    # Each follow-up's kind as its position in ANCHOR_TABLE (every kind here is one of them).
    kind_at = _categorical(kind, list(ANCHOR_TABLE)).codes
    to_treatment = pd.Series(np.array([t == "treatments" for t, _ in ANCHOR_TABLE.values()])[kind_at], index=fu.index)
    wanted = pd.Series(np.array([w for _, w in ANCHOR_TABLE.values()], dtype=object)[kind_at], index=fu.index)
    # Lookups by id in Arrow (hash joins on Arrow strings, not Python objects); usable ids are
    # unique (duplicates are quarantined) and a lookup takes the first row holding an id.
    t_pos = _positions(anchor, t_ok["treatment_id"])
    e_pos = _positions(anchor, e_ok["enrolment_id"])
    t_kinds = t_ok["kind"].astype(object).to_numpy()
    e_closed = e_ok["closed_date"].notna().to_numpy()
    anchor_kind = pd.Series(
        np.where(t_pos >= 0, t_kinds[np.maximum(t_pos, 0)] if len(t_kinds) else None, None),
        index=fu.index,
        dtype=object,
    )
    closed = pd.Series(
        np.where(e_pos >= 0, e_closed[np.maximum(e_pos, 0)] if len(e_closed) else None, None),
        index=fu.index,
        dtype=object,
    )
    in_all_t = pd.Series(_found_in_all(anchor, t_pos, treatments["treatment_id"]), index=fu.index)
    in_all_e = pd.Series(_found_in_all(anchor, e_pos, enrolments["enrolment_id"]), index=fu.index)
    wrong = (to_treatment & anchor_kind.notna() & (anchor_kind != wanted)).to_numpy(dtype=bool)
    wrong_kind = np.full(len(fu), "", dtype=object)
    wrong_kind[wrong] = (
        "er en "
        + anchor_kind[wrong].astype(str).str.upper()
        + "-behandling, men oppfølgingstypen er "
        + kind[wrong].astype(str)
    ).to_numpy(dtype=object)
    reason = np.select(
        [
            to_treatment & anchor_kind.isna() & in_all_t,
            to_treatment & anchor_kind.isna(),
            to_treatment & (anchor_kind != wanted),
            ~to_treatment & closed.isna() & in_all_e,
            ~to_treatment & closed.isna(),
            ~to_treatment & (closed == False),  # noqa: E712 (object Series of booleans)
        ],
        [
            "viser til en behandling i karantene",
            "behandlingen finnes ikke i treatments",
            wrong_kind,
            "viser til en innskriving i karantene",
            "innskrivingen finnes ikke i enrolments",
            "innskrivingen er ikke avsluttet (closed_date er blank), så avsluttet_12m kan ikke gjelde den",
        ],
        default="",
    )
    hit = reason != ""
    rows = fu.index[hit]
    found = _problems(rows, "anchor_id", raw.cells.loc[rows, "anchor_id"].to_numpy(), reason[hit])
    owners = (t_ok["patient_id"], t_pos), (e_ok["patient_id"], e_pos)
    return _joined([found, _anchor_patient_problems(frame, fu, to_treatment, owners, raw, hit)])


def _found_in_all(keys: pd.Series, usable_pos: np.ndarray, ids: pd.Series) -> np.ndarray:
    """Whether each key is among all ``ids``: true where it is among the usable ones (a subset);
    only the others are looked up."""
    found = usable_pos >= 0
    missing = ~found
    if missing.any():
        found[missing] = _positions(keys[missing], ids) >= 0
    return found


def _anchor_patient_problems(frame, fu, to_treatment, owners, raw, already) -> pd.DataFrame:
    """A follow-up sent to someone else's anchor: its patient_id is not the anchor's patient (contract v1.1).

    ``owners`` holds, for treatments and enrolments, the usable rows' patient_id and each
    follow-up's anchor position among those rows (-1: none), so the owner is an Arrow take.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    (t_pat, t_pos), (e_pat, e_pos) = owners
    by_t = pa.array(t_pat.astype("string").array.take(t_pos, allow_fill=True))
    by_e = pa.array(e_pat.astype("string").array.take(e_pos, allow_fill=True))
    owner_arrow = pc.if_else(pa.array(to_treatment.to_numpy(dtype=bool)), by_t, by_e)
    owner = pd.Series(pd.arrays.ArrowStringArray(owner_arrow.cast(pa.large_string())), index=fu.index)
    anchor = fu["anchor_id"]
    own = frame.loc[fu.index, "patient_id"].astype("string")
    wrong = (owner != own).fillna(False).to_numpy(dtype=bool) & ~already
    rows = fu.index[wrong]
    what = np.where(to_treatment[wrong].to_numpy(dtype=bool), "behandlingen", "innskrivingen")
    reason = (
        "er ikke pasienten som "
        + pd.Series(what, dtype=object)
        + " "
        + anchor[wrong].astype(str).to_numpy()
        + " tilhører ("
        + owner[wrong].astype(str).to_numpy()
        + "): oppfølgingen viser til en annen pasients forløp"
    )
    return _problems(rows, "patient_id", raw.cells.loc[rows, "patient_id"].to_numpy(), reason.to_numpy())


# --- Response-rate experiments (contract v1.1, issue 18) ---------------------------------------


def _allocation_problems(frame, raw) -> pd.DataFrame:
    """A patient has at most one row per experiment: every row of a repeated pair is quarantined."""
    pair = frame[["experiment_id", "patient_id"]].astype(object)
    dup = pair.notna().all(axis=1) & pair.duplicated(keep=False)
    if not dup.any():
        return _no_problems()
    rows = frame.index[dup]
    return _problems(
        rows,
        "patient_id",
        raw.cells.loc[rows, "patient_id"].to_numpy(),
        "pasienten står mer enn én gang i samme eksperiment; ingen av radene kan brukes",
    )


# --- v1.2 patients' rights requests (issue 26) ---------------------------------------------------

#: Request kinds whose effective_date is required (contract v1.2).
EFFECTIVE_REQUIRED = ("sletting", "reservasjon")


def _rights_request_problems(frame, raw) -> pd.DataFrame:
    """closed_date before received_date, and a blank effective_date on a sletting or reservasjon."""
    closed, received = frame["closed_date"], frame["received_date"]
    early = (closed.notna() & received.notna() & (closed < received)).to_numpy(dtype=bool)
    rows = frame.index[early]
    found = [
        _problems(
            rows,
            "closed_date",
            raw.cells.loc[rows, "closed_date"].to_numpy() if len(rows) else [],
            "ligger før mottaksdatoen (received_date); et krav kan ikke være besvart før det er mottatt",
        )
    ]
    kind = frame["kind"].astype("string")
    blank = (kind.isin(EFFECTIVE_REQUIRED) & frame["effective_date"].isna()).fillna(False).to_numpy(dtype=bool)
    rows = frame.index[blank]
    found.append(
        _problems(
            rows,
            "effective_date",
            [""] * len(rows),
            [f"mangler verdi; et krav om {k} må ha datoen det gjelder fra" for k in kind[blank]],
        )
    )
    return _joined(found)


# --- end v1.2 patients' rights requests ---


# --- v1.1 units (issue 16) ---
def _unit_problems(name, frame, raw, parsed, bad, raws) -> pd.DataFrame:
    """Blank unit_id where units exist; a follow-up's unit_id disagreeing with its anchor's."""
    found = []
    if UNIT_COLUMN not in raw.cells.columns:
        return _no_problems()
    units = frame[UNIT_COLUMN]
    if name in UNIT_REQUIRED and "units" in raws:
        blank = units.isna()
        found.append(_problems(frame.index[blank], UNIT_COLUMN, raw.cells[UNIT_COLUMN][blank], UNIT_BLANK_REASON))
    if name == "followups":
        anchor_unit = pd.Series(pd.NA, index=frame.index, dtype=object)
        for table, id_col in (("treatments", "treatment_id"), ("enrolments", "enrolment_id")):
            t = parsed[table]
            t = t[~t.index.isin(bad[table]["row"])]
            lookup = pd.Series(t[UNIT_COLUMN].astype(object).to_numpy(), index=t[id_col].astype(object).to_numpy())
            lookup = lookup[~lookup.index.duplicated()]
            to_table = frame["kind"].astype(object).map({k: tb == table for k, (tb, _) in ANCHOR_TABLE.items()})
            hit = to_table.fillna(False).astype(bool)
            anchor_unit[hit] = frame.loc[hit, "anchor_id"].astype(object).map(lookup)
        given = units.astype(object)
        wrong = given.notna() & anchor_unit.notna() & (given != anchor_unit)
        wrong = wrong.astype(bool)
        found.append(_problems(frame.index[wrong], UNIT_COLUMN, raw.cells[UNIT_COLUMN][wrong], UNIT_MISMATCH_REASON))
    return _joined(found)


# --- end v1.1 units ---


# --- v1.2 implants (issue 27) ------------------------------------------------------------------

IMPLANT_INVERTED_REASON = (
    "ligger før implantert dato (implanted_date); en komponent kan ikke tas ut før den er satt inn"
)
IMPLANT_REASON_WITHOUT_REMOVAL = "årsak til eksplantasjon er oppgitt, men eksplantert dato (explanted_date) er blank"
IMPLANT_REMOVAL_WITHOUT_REASON = "komponenten er eksplantert, men årsak (explant_reason) mangler; den er påkrevd"
IMPLANT_UNIT_MISMATCH = "oppgir en annen enhet enn SCS-behandlingen komponenten hører til"


def _implant_problems(frame, raw, parsed, bad) -> pd.DataFrame:
    """The implant register's own rules (module docstring): period, reason, treatment, unit, one body at a time."""
    cells = raw.cells
    implanted, explanted = frame["implanted_date"], frame["explanted_date"]
    inverted = (explanted < implanted).fillna(False).astype(bool)
    found = [
        _problems(frame.index[inverted], "explanted_date", cells["explanted_date"][inverted], IMPLANT_INVERTED_REASON)
    ]
    # Judged on the cells, so that an unreadable date or an unknown code is not a second problem.
    date_blank, reason_blank = cells["explanted_date"] == "", cells["explant_reason"] == ""
    orphan = ~reason_blank & date_blank
    found.append(_problems(frame.index[orphan], "explant_reason", cells["explant_reason"][orphan],
                           IMPLANT_REASON_WITHOUT_REMOVAL))  # fmt: skip
    missing = explanted.notna() & reason_blank
    found.append(_problems(frame.index[missing], "explant_reason", [""] * int(missing.sum()),
                           IMPLANT_REMOVAL_WITHOUT_REASON))  # fmt: skip
    found.append(_implant_treatment_problems(frame, cells, parsed, bad))
    found.append(_implant_overlap_problems(frame, cells, ~inverted))
    return _joined(found)


def _implant_treatment_problems(frame, cells, parsed, bad) -> pd.DataFrame:
    """A treatment that is not SCS, belongs to another patient, or has another unit than the implant gives."""
    treatments = parsed["treatments"]
    usable = treatments[~treatments.index.isin(bad["treatments"]["row"])]
    pos = _positions(frame["treatment_id"], usable["treatment_id"])
    if not (pos >= 0).any():
        return _no_problems()

    def of_treatment(column: str) -> pd.Series:  # the implant's treatment's value (missing where none)
        values = usable[column].astype("string").array.take(pos, allow_fill=True)
        return pd.Series(values, index=frame.index, dtype="string")

    kind, owner, unit = of_treatment("kind"), of_treatment("patient_id"), of_treatment("unit_id")
    not_scs = (kind != "scs").fillna(False).to_numpy(dtype=bool)
    reason = "-behandling, ikke en SCS-behandling; implantater hører til SCS-behandlinger"
    out = [_problems(frame.index[not_scs], "treatment_id", cells["treatment_id"][not_scs],
                     ("er en " + kind[not_scs].str.upper() + reason).to_numpy(dtype=object))]  # fmt: skip
    foreign = (owner != frame["patient_id"].astype("string")).fillna(False).to_numpy(dtype=bool) & ~not_scs
    # The reason names no other patient: the quarantine may be shown where ids are hidden (the report's copy).
    what = (
        "er ikke pasienten SCS-behandlingen i treatment_id tilhører: implantatet viser til en annen pasients behandling"
    )
    out.append(_problems(frame.index[foreign], "patient_id", cells["patient_id"][foreign], what))
    other = (unit != frame["unit_id"].astype("string")).fillna(False).to_numpy(dtype=bool) & ~not_scs & ~foreign
    given = cells["unit_id"][other] if "unit_id" in cells else [""] * int(other.sum())
    out.append(_problems(frame.index[other], "unit_id", given, IMPLANT_UNIT_MISMATCH))
    return _joined(out)


def _implant_overlap_problems(frame, cells, readable_period) -> pd.DataFrame:
    """Every row of a device whose implanted period overlaps another row's of the same device."""
    from ..implants.matching import device_key

    key = device_key(frame["manufacturer"], frame["serial_number"])
    ok = key.notna() & frame["implanted_date"].notna() & readable_period
    key = key[ok]
    twice = key.duplicated(keep=False)
    if not twice.any():
        return _no_problems()
    sub = pd.DataFrame(
        {
            "key": key[twice],
            "start": frame.loc[key.index[twice], "implanted_date"],
            "end": frame.loc[key.index[twice], "explanted_date"].fillna(pd.Timestamp.max),
            "patient": frame.loc[key.index[twice], "patient_id"].astype(object),
        }
    ).sort_values(["key", "start"], kind="stable")
    partners: dict[int, list[int]] = {}
    for _, group in sub.groupby("key", sort=False):
        rows = list(group.itertuples())
        for i, a in enumerate(rows):
            for b in rows[i + 1 :]:
                if b.start >= a.end:  # half-open periods; the rows after b start later still
                    break
                partners.setdefault(a.Index, []).append(b.Index)
                partners.setdefault(b.Index, []).append(a.Index)
    rows = sorted(partners)
    patient = sub["patient"]
    reasons = []
    for row in rows:
        others = sorted(partners[row])
        who = "hos samme pasient" if all(patient[o] == patient[row] for o in others) else "hos en annen pasient"
        reasons.append(
            f"samme produsent og serienummer er implantert i en overlappende periode på rad "
            f"{', '.join(map(str, others))} ({who}); en komponent kan bare sitte i én pasient om gangen, så ingen "
            "av radene kan brukes"
        )
    return _problems(rows, "serial_number", cells.loc[rows, "serial_number"].to_numpy(), reasons)


# --- end v1.2 implants ---


# The empty frame of each table spec, built once (about 2 ms a table, and most commands meet several
# absent optional tables): a copy is handed out, so no caller shares it.
_EMPTY_FRAMES: dict[str, tuple[codebook.Table, pd.DataFrame]] = {}


def _empty_frame(spec: codebook.Table) -> pd.DataFrame:
    known = _EMPTY_FRAMES.get(spec.name)
    if known is None or known[0] is not spec:  # another codebook (a test's) may name the same table
        frame = pd.DataFrame({n: pd.Series(dtype=schemas.DTYPES[c.type]) for n, c in spec.columns.items()})
        frame.index.name = "row"
        known = _EMPTY_FRAMES[spec.name] = (spec, _categorise(frame, spec))
    return known[1].copy()


def _categorise(frame: pd.DataFrame, spec: codebook.Table) -> pd.DataFrame:
    for name, col in spec.columns.items():
        if col.type == "code":
            frame[name] = _categorical(frame[name], list(col.codes))
    return frame


def _categorical(values: pd.Series, codes: list) -> pd.Categorical:
    """``pd.Categorical(values, categories=codes)`` by Arrow's hash lookup (no Python objects);
    a value not among the codes is missing, as pandas makes it."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from .parsing import _arrow

    if not all(isinstance(c, str) for c in codes):
        return pd.Categorical(values.astype(object), categories=codes)
    found = pc.index_in(pc.cast(_arrow(values), pa.large_string()), value_set=pa.array(codes, pa.large_string()))
    return pd.Categorical.from_codes(pc.fill_null(found, -1).to_numpy(zero_copy_only=False), categories=codes)


def _finish_table(name, spec, frame, problems, raw, report) -> pd.DataFrame:
    """Record one table in the report (counts, problems, quarantine) and return its usable rows."""
    if raw is None:
        if spec.since is None:  # an absent v1.1 table leaves a v1 extract's summary as it was
            report.summaries[name] = TableSummary(name, None)
        return frame
    file = raw.source.path.name
    qrows = ()
    if len(problems):  # most tables have none: nothing to sort or list
        problems = problems.sort_values(["row"], kind="stable")
        qrows = problems["row"].unique()
        report.problems.extend(
            Problem(name, file, int(p.row), p.column, str(p.value), p.reason) for p in problems.itertuples()
        )
    report.quarantine[name] = _quarantine_frame(raw, problems, qrows)
    # Without quarantined rows the parsed frame is the table (a shallow copy: pandas copies on write).
    used = frame[~frame.index.isin(qrows)] if len(qrows) else frame.copy(deep=False)
    report.summaries[name] = TableSummary(
        name, file, raw.rows_read, len(used), raw.rows_read - len(used), notes=list(raw.source.notes)
    )
    return _categorise(used, spec)


def _quarantine_frame(raw: RawTable, problems: pd.DataFrame, qrows) -> pd.DataFrame:
    cols = list(raw.cells.columns)
    if not len(qrows):
        return pd.DataFrame(columns=[*cols, "row", "quarantine_reason"])
    reasons = (
        problems.assign(
            text=[
                Problem("", "", r, c, str(v), why).quarantine_reason
                for r, c, v, why in problems[["row", "column", "value", "reason"]].itertuples(index=False)
            ]
        )
        .groupby("row", sort=True)["text"]
        .agg("; ".join)
    )
    kept = raw.cells.loc[raw.cells.index.isin(qrows)]
    ragged = pd.DataFrame(
        [dict(zip(cols, cells)) for cells in raw.ragged.values()], index=list(raw.ragged), columns=cols
    )
    out = pd.concat([kept, ragged]).sort_index()
    out["row"] = out.index.astype("int64")
    out["quarantine_reason"] = out["row"].map(reasons)
    return out.reset_index(drop=True)
