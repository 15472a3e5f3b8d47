"""A corpus of broken extracts, one defect each, built from any valid base extract.

``build_corpus(base, out)`` reads every table of the extract in ``base`` (any
format), writes one copy per defect under ``out/<case>/`` (as UTF-8 CSV unless
the defect is about the file itself; as ``;``-separated UTF-8 with a BOM and CRLF when
the base is in ``opr synth --dialect norsk``) and returns :class:`Case` records holding
what ``opr validate`` must answer: exit status, a fragment of its message and
the number of quarantined rows per table (the base's own quarantine plus the
damaged rows and everything that refers to them). Works on the hand-built test
extract and on ``write_synthetic(..., scale=0.05)`` output alike.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from opr_analysis import codebook, load_extract
from opr_analysis.extract.reader import ANCHOR_TABLE
from opr_analysis.extract.sources import find_table_file, read_table
from opr_analysis.safety.nin import make_valid_nin


@dataclass
class Case:
    name: str
    folder: Path
    status: int
    message: str
    # Quarantined rows per table after the defect (None: the run must stop).
    quarantined: dict[str, int] | None
    notes: dict = field(default_factory=dict)


class Base:
    """The base extract's tables as text frames (index = source row) and its validation."""

    def __init__(self, folder: Path):
        self.cb = codebook.load()
        self.reg = load_extract(folder)
        self.frames: dict[str, pd.DataFrame] = {}
        for name in self.cb.tables:
            path = find_table_file(folder, name)
            if path is not None:
                self.frames[name] = read_table(path, name).cells.astype(object)
        self.quarantined = {t: set(q["row"].astype(int)) for t, q in self.reg.report.quarantine.items()}
        # The base's CSV dialect (opr synth --dialect norsk: ";", BOM, CRLF); the copies keep it.
        self.norsk = any(src.separator == ";" for src in self.reg.sources.values())
        self._texts: dict[tuple[str, bool], str] = {}

    def csv_text(self, table: str, frame: pd.DataFrame, norsk: bool) -> str:
        """``frame`` as :func:`_write` writes it; a copy equal to the base's table is rendered once (most cases
        change one table and copy the others unchanged)."""
        same = table in self.frames and frame.equals(self.frames[table])
        if not same:
            return _csv_text(frame, norsk)
        key = (table, norsk)
        if key not in self._texts:
            self._texts[key] = _csv_text(self.frames[table], norsk)
        return self._texts[key]

    def usable(self, table: str) -> pd.DataFrame:
        f = self.frames[table]
        return f[~f.index.isin(self.quarantined.get(table, set()))]

    def dependants(self, table: str, rows: set[int]) -> dict[str, set[int]]:
        """Rows of other tables that refer (directly or through others) to ``rows`` of ``table``."""
        out: dict[str, set[int]] = {table: set(rows)}
        todo = [table]
        while todo:
            t = todo.pop()
            id_col = self.cb.tables[t].id_column
            if id_col is None:
                continue
            ids = set(self.frames[t].loc[sorted(out[t]), id_col])
            for name, spec in self.cb.tables.items():
                if name not in self.frames:
                    continue
                f = self.frames[name]
                hit = pd.Series(False, index=f.index)
                for col in spec.columns.values():
                    if col.references == f"{t}.{id_col}" and col.name in f:
                        hit |= f[col.name].isin(ids)
                if name == "followups" and t in ("treatments", "enrolments"):
                    kinds = [k for k, (tt, _) in ANCHOR_TABLE.items() if tt == t]
                    hit |= f["kind"].isin(kinds) & f["anchor_id"].isin(ids)
                new = set(f.index[hit]) - out.get(name, set())
                if new:
                    out.setdefault(name, set()).update(new)
                    todo.append(name)
        return out

    def expected(
        self,
        damaged: dict[str, set[int]] | None = None,
        shift: dict[str, int] | None = None,
        tables: set[str] | None = None,
    ) -> dict[str, int]:
        """Quarantine counts per table after damaging ``damaged`` rows (cascade included)."""
        q = {t: set(r) for t, r in self.quarantined.items()}
        for table, rows in (damaged or {}).items():
            for t, r in self.dependants(table, rows).items():
                q.setdefault(t, set()).update(r)
        counts = {t: len(r) for t, r in q.items() if t in self.frames}
        for t, n in (shift or {}).items():
            counts[t] = counts.get(t, 0) + n
        keep = tables if tables is not None else set(self.frames)
        return {t: n for t, n in counts.items() if n and t in keep}


def to_csv(frame: pd.DataFrame, sep: str = ",", quoting=csv.QUOTE_MINIMAL, eol: str = "\n") -> str:
    buf = io.StringIO(newline="")
    w = csv.writer(buf, delimiter=sep, lineterminator=eol, quoting=quoting)
    w.writerow(list(frame.columns))
    w.writerows(frame.astype(str).itertuples(index=False))
    return buf.getvalue()


def _csv_text(frame: pd.DataFrame, norsk: bool) -> str:
    """UTF-8 CSV text; ``norsk`` as the base was written: ``;``, a byte-order mark, CRLF."""
    if norsk:
        return "\ufeff" + to_csv(frame, sep=";", eol="\r\n")
    return to_csv(frame)


def _write(folder: Path, frames: dict[str, pd.DataFrame], norsk: bool = False, base: Base | None = None) -> Path:
    """Each frame as ``<table>.csv`` (:func:`_csv_text`); ``base``: the extract the frames were copied from."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        text = base.csv_text(name, frame, norsk) if base is not None else _csv_text(frame, norsk)
        (folder / f"{name}.csv").write_bytes(text.encode("utf-8"))
    return folder


def build_corpus(base_folder: Path, out: Path) -> list[Case]:
    """Write one broken copy of ``base_folder`` per defect; return what validate must say."""
    b = Base(Path(base_folder))

    def write(folder, frames):
        return _write(folder, frames, b.norsk, b)

    cases: list[Case] = []

    def copy_frames():
        return {t: f.copy() for t, f in b.frames.items()}

    def cell_case(name, table, row, column, value, reason, damaged=True, extra_frames=None):
        frames = copy_frames()
        if column not in frames[table]:
            frames[table][column] = ""
        frames[table].loc[row, column] = value
        folder = write(out / name, frames)
        exp = b.expected({table: {row}} if damaged else None)
        msg = f"kolonne «{column}», verdi «{str(value).strip()}»: {reason}" if damaged else "Uttrekket kan brukes"
        cases.append(Case(name, folder, 0, msg, exp))

    ref = b.usable("referrals")
    r1, r2 = ref.index[0], ref.index[1]
    future = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    cell_case("unknown_code", "referrals", r1, "decision", "godkjent", "ukjent kode")
    cell_case("impossible_date", "referrals", r1, "assessed_date", "2023-02-29", "datoen finnes ikke")
    cell_case("excel_serial", "referrals", r1, "assessed_date", "44603", "ser ut som et Excel-datotall")
    cell_case("future_date", "referrals", r1, "assessed_date", future, "datoen ligger etter dagens dato")
    cell_case("blank_required", "referrals", r1, "decision", "", "mangler verdi")
    cell_case("whitespace_around_codes", "referrals", r1, "decision", f"  {ref.at[r1, 'decision']} ", "", damaged=False)
    br = b.usable("baseline_responses").index[0]
    cell_case("wrong_type", "baseline_responses", br, "duration_ms", "12 min", "er ikke et heltall")
    cell_case(
        "negative_duration", "baseline_responses", br, "duration_ms", "-5", "er mindre enn laveste tillatte verdi"
    )
    sf = b.usable("short_forms").index[0]
    cell_case("broken_reference", "short_forms", sf, "patient_id", "UKJENT-1", "finnes ikke i patients")

    # Cascade: the first usable patient with something that depends on it.
    pats = b.usable("patients")
    for prow in pats.index:
        deps = b.dependants("patients", {prow})
        if len(deps) > 1:
            cell_case("cascade_through_parent", "patients", prow, "birth_year", "nitten", "er ikke et heltall")
            break

    fu = b.usable("followups")
    if len(fu):
        cell_case(
            "anchor_missing",
            "followups",
            fu.index[0],
            "anchor_id",
            "UKJENT-T",
            "behandlingen finnes ikke i treatments"
            if ANCHOR_TABLE[fu.iloc[0]["kind"]][0] == "treatments"
            else "innskrivingen finnes ikke i enrolments",
        )
    tr = b.usable("treatments")
    rf_fu = fu[fu["kind"].str.startswith("rf_")]
    scs = tr[tr["kind"] == "scs"]
    if len(rf_fu) and len(scs):
        cell_case(
            "anchor_wrong_kind",
            "followups",
            rf_fu.index[0],
            "anchor_id",
            scs.iloc[0]["treatment_id"],
            "er en SCS-behandling, men oppfølgingstypen er rf_",
        )
    open_enr = b.usable("enrolments")
    open_enr = open_enr[open_enr["closed_date"] == ""]
    closed_fu = fu[fu["kind"] == "avsluttet_12m"]
    if len(open_enr) and len(closed_fu):
        cell_case(
            "avsluttet_12m_open_enrolment",
            "followups",
            closed_fu.index[0],
            "anchor_id",
            open_enr.iloc[0]["enrolment_id"],
            "innskrivingen er ikke avsluttet",
        )

    # Duplicates (referrals: nothing refers to them, so only the copies go).
    frames = copy_frames()
    frames["referrals"].loc[r2, "referral_id"] = ref.at[r1, "referral_id"]
    cases.append(
        Case(
            "duplicate_id",
            write(out / "duplicate_id", frames),
            0,
            "samme ID står på flere rader",
            b.expected({"referrals": {r1, r2}}),
        )
    )
    frames = copy_frames()
    f = frames["referrals"]
    pos = f.index.get_loc(r1)
    f = pd.concat([f.iloc[: pos + 1], f.iloc[[pos]], f.iloc[pos + 1 :]]).reset_index(drop=True)
    f.index += 1
    frames["referrals"] = f
    shifted = {r if r <= r1 else r + 1 for r in b.quarantined.get("referrals", set())} | {r1, r1 + 1}
    exp = b.expected()
    exp["referrals"] = len(shifted)
    cases.append(
        Case(
            "duplicated_whole_row",
            write(out / "duplicated_whole_row", frames),
            0,
            f"kolonne «referral_id», verdi «{ref.at[r1, 'referral_id']}»: samme ID står på flere rader",
            exp,
        )
    )

    # Table- and file-level defects.
    frames = copy_frames()
    del frames["referrals"]
    cases.append(
        Case(
            "missing_required_table",
            write(out / "missing_required_table", frames),
            1,
            "tabellen «referrals» mangler",
            None,
        )
    )
    if "legacy_v1" in b.frames:
        frames = copy_frames()
        del frames["legacy_v1"]
        cases.append(
            Case(
                "missing_optional_table",
                write(out / "missing_optional_table", frames),
                0,
                "Uttrekket kan brukes",
                b.expected(tables=set(frames)),
            )
        )
    frames = copy_frames()
    frames["referrals"] = frames["referrals"].drop(columns="decision")
    cases.append(
        Case(
            "missing_column",
            write(out / "missing_column", frames),
            1,
            "referrals.csv: mangler kolonne «decision»",
            None,
        )
    )
    folder = write(out / "two_files", copy_frames())
    b.frames["treatments"].to_excel(folder / "treatments.xlsx", index=False)
    cases.append(Case("two_files", folder, 1, "tabellen «treatments» finnes i flere filer", None))
    folder = write(out / "unreadable_file", copy_frames())
    (folder / "treatments.csv").unlink()
    (folder / "treatments.parquet").write_bytes(b"PAR1\x00garbage")
    cases.append(Case("unreadable_file", folder, 1, "treatments.parquet: filen kan ikke leses som en tabell", None))

    nin = make_valid_nin("170464")
    for name, table, column, value in [
        ("nin_in_patient_id", "referrals", "patient_id", nin),
        ("nin_in_code_column", "referrals", "region", nin),
        ("nin_in_free_text", "enrolments", "diagnosis", f"tlf fra pasient med fnr {nin[:6]} {nin[6:]}"),
        ("nin_in_unknown_column", "treatments", "notat", f"fnr:{nin}"),
    ]:
        frames = copy_frames()
        t = frames[table]
        if column not in t:
            t[column] = ""
        t.loc[t.index[-1], column] = value
        cases.append(
            Case(
                name,
                write(out / name, frames),
                1,
                f"{table}.csv, rad {t.index[-1]}, kolonne «{column}»",
                None,
                notes={"nin": nin},
            )
        )

    # Text-file defects.
    folder = write(out / "truncated_file", copy_frames())
    text = (folder / "referrals.csv").read_text(encoding="utf-8").rstrip("\n")
    head, last = text.rsplit("\n", 1)
    (folder / "referrals.csv").write_text(head + "\n" + last[: max(1, len(last) // 2)], encoding="utf-8")
    last_row = b.frames["referrals"].index[-1]
    cases.append(
        Case("truncated_file", folder, 0, f"referrals.csv, rad {last_row}:", b.expected({"referrals": {last_row}}))
    )

    frames = copy_frames()
    frames["referrals"] = frames["referrals"].iloc[:0]
    exp = b.expected()
    exp.pop("referrals", None)
    cases.append(
        Case("header_only", write(out / "header_only", frames), 0, "referrals.csv: filen har bare overskriftsrad", exp)
    )

    frames = copy_frames()
    odd = "lokal; regional, nasjonal"
    frames["referrals"].loc[r1, "region"] = odd
    folder = write(out / "separator_inside_quotes", frames)
    (folder / "referrals.csv").write_text(to_csv(frames["referrals"], sep=";", quoting=csv.QUOTE_ALL), encoding="utf-8")
    cases.append(
        Case(
            "separator_inside_quotes",
            folder,
            0,
            f"kolonne «region», verdi «{odd}»: ukjent kode",
            b.expected({"referrals": {r1}}),
        )
    )

    frames = copy_frames()
    frames["enrolments"]["diagnosis"] = "Smerte, Ørland sykehus – Æ/Å"
    folder = write(out / "windows_1252", frames)
    (folder / "enrolments.csv").write_bytes(to_csv(frames["enrolments"]).encode("cp1252"))
    cases.append(
        Case(
            "windows_1252",
            folder,
            0,
            "ble lest som Windows-1252",
            b.expected(),
            notes={"diagnosis": "Smerte, Ørland sykehus – Æ/Å"},
        )
    )

    frames = copy_frames()
    for name, spec in b.cb.tables.items():
        if name in frames:
            for col in spec.columns.values():
                if col.name == "patient_id" or col.references == "patients.patient_id":
                    f = frames[name]
                    f[col.name] = f[col.name].where(f[col.name] == "", "000" + f[col.name])
    cases.append(
        Case("leading_zero_ids", write(out / "leading_zero_ids", frames), 0, "Uttrekket kan brukes", b.expected())
    )
    cases += hostile_cases(b, out, copy_frames)
    return cases


def _quote_at(line: str, column: int, close: bool = False) -> str:
    """``line`` with a double quote opened before field ``column`` (and closed after it)."""
    fields = line.split(",")
    fields[column] = f'"{fields[column]}' + ('"' if close else "")
    return ",".join(fields)


def hostile_cases(b: Base, out: Path, copy_frames) -> list[Case]:
    """Issue 11: stray and unterminated quotes, megabyte cells, an XLSX zip bomb."""
    from opr_analysis.safety.limits import MAX_CELL_CHARS

    cases = []
    ref = b.frames["referrals"]
    decision = list(ref.columns).index("decision")
    n = len(ref)

    # A stray quote opens a field on data row 2 (line 3) that a properly quoted field on line 5
    # closes: every row keeps its width, so before issue 11 three rows silently became one.
    folder = _write(out / "stray_quote", copy_frames(), base=b)
    lines = (folder / "referrals.csv").read_text(encoding="utf-8").split("\n")
    lines[2] = _quote_at(lines[2], decision)
    lines[4] = _quote_at(lines[4], decision, close=True)
    (folder / "referrals.csv").write_text("\n".join(lines), encoding="utf-8")
    cases.append(
        Case(
            "stray_quote",
            folder,
            1,
            "referrals.csv, rad 2: et felt i anførselstegn går over linjene 3–5, og kolonne «decision» "
            "tillater ikke linjeskift",
            None,
        )
    )
    # A quote opened on the third-last data row and never closed: it would swallow the rest of the file.
    folder = _write(out / "unterminated_quote", copy_frames(), base=b)
    lines = (folder / "referrals.csv").read_text(encoding="utf-8").split("\n")
    lines[n - 2] = _quote_at(lines[n - 2], decision)
    (folder / "referrals.csv").write_text("\n".join(lines), encoding="utf-8")
    cases.append(
        Case(
            "unterminated_quote",
            folder,
            1,
            f"referrals.csv, rad {n - 2}: et felt i anførselstegn går over linjene {n - 1}–{n + 1} "
            "(til slutten av filen: anførselstegnet avsluttes aldri)",
            None,
        )
    )
    # A 2 MB free-text cell (larger than pyarrow's block) is read; one above the limit is named.
    e1 = b.usable("enrolments").index[0]
    frames = copy_frames()
    long_text = "Langvarig smerte. " * (2_000_000 // 18)
    if "diagnosis" not in frames["enrolments"]:
        frames["enrolments"]["diagnosis"] = ""
    frames["enrolments"]["diagnosis"] = frames["enrolments"]["diagnosis"].astype(object)
    frames["enrolments"].loc[e1, "diagnosis"] = long_text
    cases.append(
        Case(
            "long_cell",
            _write(out / "long_cell", frames, base=b),
            0,
            "Uttrekket kan brukes",
            b.expected(),
            notes={"diagnosis": long_text.strip()},
        )
    )
    frames = copy_frames()
    frames["enrolments"]["notat"] = ""
    frames["enrolments"].loc[e1, "notat"] = "x" * (MAX_CELL_CHARS + 1)
    cases.append(
        Case(
            "cell_too_long",
            _write(out / "cell_too_long", frames, base=b),
            1,
            f"enrolments.csv, rad {e1}, kolonne «notat»: cellen har",
            None,
        )
    )
    # A small zip bomb: 64 MiB of one byte in a 64 KiB "Excel sheet".
    folder = _write(out / "zip_bomb", copy_frames(), base=b)
    (folder / "treatments.csv").unlink()
    with zipfile.ZipFile(folder / "treatments.xlsx", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/worksheets/sheet1.xml", b"\0" * (64 * 1024**2))
    cases.append(
        Case(
            "zip_bomb",
            folder,
            1,
            "treatments.xlsx: delen «xl/worksheets/sheet1.xml» pakkes ut",
            None,
        )
    )
    return cases
