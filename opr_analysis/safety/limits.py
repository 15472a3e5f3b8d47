"""Limits that keep hostile or unlucky input files from taking a run down.

- **YAML** (every file a user hands the program: research-extract specs,
  indicator definitions, experiment specs, the report's glossary): read with
  :func:`load_yaml_file`/:func:`load_yaml`, the one guarded loader.
  At most :data:`MAX_YAML_BYTES`; UTF-8 only (a BOM is allowed; a file saved
  as Windows-1252 or UTF-16 is refused with a message naming the file and the
  first bad byte); anchors and aliases (``&name``/``*name``, the "billion
  laughs" expansion) are refused before anything is expanded; nesting deeper
  than :data:`MAX_YAML_DEPTH` and a key given twice in one mapping are
  refused; and the file may hold no national identity number, in any form
  :mod:`.nin` knows, anywhere (a value, a key or a comment). Every refusal is a
  :class:`~opr_analysis.errors.UsageError` (exit status 2) naming the file and
  the line, in well under a second. What the file *means* is checked next by
  the file kind's schema (:mod:`.schema`).
- **XLSX** (extract tables): before anything is decompressed, the zip's
  central directory is checked (:func:`check_xlsx`): declared uncompressed
  size at most :data:`MAX_XLSX_UNCOMPRESSED` in all, and no member above 1 MiB
  expanding more than :data:`MAX_XLSX_RATIO` times (real sheets expand about
  10 times). Python's ``zipfile`` never inflates a member beyond its declared
  size, so a lying header cannot get round the check.
- **Ids in file names** (``--unit``, whose id names the per-unit report's
  files): :data:`FILE_NAME_ID`, letters, digits, ``_`` and ``-`` only, so an
  id such as ``x/../../../pwned`` can never leave the output folder.
- **Cells**: a cell of more than :data:`MAX_CELL_CHARS` characters stops the
  read with a message naming file, row and column (in
  :mod:`opr_analysis.extract.sources`); shorter cells, megabytes long, are read.

>>> load_yaml(b"a: [1, 2]", "spec.yaml")
{'a': [1, 2]}
>>> load_yaml(b"a: &x [1]\\nb: *x", "spec.yaml")
Traceback (most recent call last):
...
opr_analysis.errors.UsageError: spec.yaml, linje 1: YAML-ankre og -aliaser (&navn, *navn) er ikke tillatt; skriv verdiene ut
>>> load_yaml("tittel: Søvn".encode("cp1252"), "spec.yaml")
Traceback (most recent call last):
...
opr_analysis.errors.UsageError: spec.yaml er ikke lagret som UTF-8 (byte 0xf8 på linje 1 kan ikke leses); den ser ut som Windows-1252 (Latin-1). Åpne filen og lagre den som UTF-8
"""

from __future__ import annotations

import datetime
import io
import os
import re
import zipfile
from pathlib import Path

import yaml

from ..errors import ExtractError, UsageError

__all__ = [
    "MIN_YEAR",
    "MAX_YEAR",
    "MIN_DATE",
    "MAX_DATE",
    "FILE_NAME_ID",
    "MAX_YAML_BYTES",
    "MAX_YAML_DEPTH",
    "MAX_XLSX_UNCOMPRESSED",
    "MAX_XLSX_RATIO",
    "MAX_CELL_CHARS",
    "load_yaml",
    "load_yaml_file",
    "read_yaml_bytes",
    "check_yaml_file",
    "check_xlsx",
]

#: The range of every year and date a user gives (an option such as ``--as-of``, a spec's window or period,
#: a definition's first year): the registry's data begin in 2015 (OPRv1); anything far outside is a typo,
#: and pandas' timestamps end in 2262 (``--as-of 9999-12-31`` would overflow deep in a computation).
MIN_YEAR, MAX_YEAR = 1990, 2100
MIN_DATE, MAX_DATE = datetime.date(MIN_YEAR, 1, 1), datetime.date(MAX_YEAR, 12, 31)
MAX_YAML_BYTES = 256 * 1024
#: An id that becomes part of a file name.
FILE_NAME_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
MAX_YAML_DEPTH = 20  # a spec nests four levels; the parser's recursion would give out near 300
MAX_XLSX_UNCOMPRESSED = 1024**3  # 1 GiB in all: far above a full Excel sheet of extract rows
MAX_XLSX_RATIO = 100
_RATIO_FROM = 1024**2  # small members (styles, themes) may compress very well; they cannot grow large
MAX_CELL_CHARS = 8 * 1024**2

# PyYAML's commonest complaints, in Norwegian (anything else is quoted as PyYAML says it).
_PROBLEMS = {
    "found character '\\t' that cannot start any token": "tabulator kan ikke brukes til innrykk; bruk mellomrom",
    "mapping values are not allowed here": "kolon på feil sted (en verdi med «: » i seg må stå i anførselstegn)",
    "found unexpected end of stream": "filen slutter midt i en verdi (et anførselstegn uten partner?)",
    "found unhashable key": "en nøkkel kan ikke være en liste eller mapping",
}


class _Refused(Exception):
    def __init__(self, line: int, why: str):
        self.line, self.why = line, why


class _GuardedLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing anchors, aliases, deep nesting and repeated keys as it composes."""

    allow_anchors = False

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):
        event = self.peek_event()
        anchored = isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None
        if anchored and not self.allow_anchors:
            raise _Refused(
                event.start_mark.line + 1, "YAML-ankre og -aliaser (&navn, *navn) er ikke tillatt; skriv verdiene ut"
            )
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                raise _Refused(
                    event.start_mark.line + 1, f"YAML-strukturen er nestet for dypt (mer enn {MAX_YAML_DEPTH} nivåer)"
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node, deep=False):
        seen = {}
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                key = key_node.value
                if key in seen:
                    raise _Refused(
                        key_node.start_mark.line + 1,
                        f"nøkkelen «{_masked(key)}» står to ganger i samme del (også på linje {seen[key]}); "
                        "bare én kan gjelde, så fjern den ene",
                    )
                seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


class _PackageLoader(_GuardedLoader):
    """For the package's own files only (never a user's): anchors allowed, every other guard kept."""

    allow_anchors = True


def _masked(text: str) -> str:
    from .nin import mask_nin

    return mask_nin(str(text))


def _decode(data: bytes, name: str) -> str:
    """UTF-8 (a BOM allowed) or a :class:`UsageError` saying what the file looks like instead."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UsageError(f"{name} er lagret som UTF-16; åpne filen og lagre den som UTF-8")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        bad = f"byte 0x{data[exc.start]:02x} på linje {line} kan ikke leses"
        try:
            data.decode("cp1252")
            looks = "; den ser ut som Windows-1252 (Latin-1)"
        except UnicodeDecodeError:
            looks = ""
        raise UsageError(f"{name} er ikke lagret som UTF-8 ({bad}){looks}. Åpne filen og lagre den som UTF-8") from None


def _check_no_nin(text: str, value, name: str) -> None:
    """Refuse a file holding an identity number: in its text (comments too) or in a parsed value."""
    from .nin import has_nin, may_hold_nin

    if may_hold_nin(text) and has_nin(text):
        line = next((i for i, ln in enumerate(text.splitlines(), 1) if has_nin(ln)), None)
        where = f", linje {line}" if line else ""
        raise UsageError(
            f"{name}{where}: filen inneholder et fødselsnummer (vist maskert: «{_masked_line(text, line)}»); "
            "en spesifikasjon skal aldri ha det. Fjern det og kjør igjen"
        )
    for path, scalar in _scalars(value, ""):
        if has_nin(str(scalar)):
            raise UsageError(
                f"{name}: verdien ved «{path or '(roten)'}» inneholder et fødselsnummer "
                f"(vist maskert: «{_masked(scalar)}»); fjern det og kjør igjen"
            )


def _masked_line(text: str, line: int | None) -> str:
    if line is None:
        return "…"
    shown = text.splitlines()[line - 1].strip()
    return _masked(shown if len(shown) <= 120 else shown[:117] + "...")


def _scalars(value, path: str):
    """(key path, scalar) of every key and leaf of a parsed document."""
    if isinstance(value, dict):
        for k, v in value.items():
            here = f"{path}.{k}" if path else str(k)
            yield here, k
            yield from _scalars(v, here)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _scalars(v, f"{path}[{i}]")
    else:
        yield path, value


def load_yaml(data: bytes, name: str, *, package_file: bool = False):
    """Parse a small YAML document from a user (see module docstring); :class:`UsageError` if refused.

    ``package_file=True`` is for the files shipped inside the package (anchors allowed there).
    """
    if len(data) > MAX_YAML_BYTES:
        raise UsageError(
            f"{name}: filen er større enn grensen på {_n(MAX_YAML_BYTES)} byte (en spesifikasjon er noen få kB)"
        )
    text = _decode(data, name)
    loader = _PackageLoader if package_file else _GuardedLoader
    try:
        value = yaml.load(text, Loader=loader)  # noqa: S506 (a SafeLoader subclass)
    except _Refused as exc:
        raise UsageError(f"{name}, linje {exc.line}: {exc.why}") from None
    except RecursionError:
        raise UsageError(f"{name}: YAML-strukturen er nestet for dypt") from None
    except yaml.YAMLError as exc:
        raise UsageError(_syntax_message(exc, name)) from None
    if not package_file:
        _check_no_nin(text, value, name)
    return value


def _syntax_message(exc: yaml.YAMLError, name: str) -> str:
    mark = getattr(exc, "problem_mark", None)
    where = f", linje {mark.line + 1}, kolonne {mark.column + 1}" if mark is not None else ""
    problem = getattr(exc, "problem", None)
    if isinstance(exc, yaml.reader.ReaderError):
        problem = f"tegnet {exc.character!r} er ikke tillatt i en YAML-fil" if isinstance(exc.character, str) else None
    text = _PROBLEMS.get(str(problem), str(problem or exc).strip())
    return f"{name}{where}: ikke gyldig YAML: {_masked(text)}"


def read_yaml_bytes(path: str | os.PathLike, what: str) -> bytes:
    """The bytes of a user's YAML file (never more than the limit + 1 into memory).

    ``what`` names the kind of file in the message when it is missing (``eksperimentfilen``).
    """
    p = Path(path)
    if not p.exists():
        raise UsageError(f"fant ikke {what} «{p}»")
    if not p.is_file():
        raise UsageError(f"{what} «{p}» er ikke en fil")
    try:
        with open(p, "rb") as fh:
            return fh.read(MAX_YAML_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"{what} «{p}» kan ikke leses ({exc.strerror or type(exc).__name__})") from None


def load_yaml_file(path: str | os.PathLike, what: str, name: str | None = None):
    """(parsed value, bytes read) of a user's YAML file through the guarded loader (:func:`load_yaml`);
    messages call it ``name`` (default: the file's name)."""
    data = read_yaml_bytes(path, what)
    return load_yaml(data, name or Path(path).name), data


def check_yaml_file(path) -> None:
    """Refuse a hostile YAML file (see :func:`load_yaml`) before any heavy import or other work.

    A missing file is left for the caller to report.
    """
    p = Path(path)
    if p.is_file():
        with open(p, "rb") as fh:  # never more than the limit into memory
            load_yaml(fh.read(MAX_YAML_BYTES + 1), p.name)


def check_xlsx(data: bytes, name: str) -> None:
    """Raise :class:`ExtractError` for an XLSX whose declared content is too large or too compressed."""
    try:
        infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise ExtractError(f"{name}: filen kan ikke leses som en tabell (ikke en gyldig Excel-fil: {exc})") from None
    total = sum(i.file_size for i in infos)
    if total > MAX_XLSX_UNCOMPRESSED:
        raise ExtractError(
            f"{name}: Excel-filen pakkes ut til {_n(total / 1024**2)} MiB, mer enn grensen på "
            f"{_n(MAX_XLSX_UNCOMPRESSED / 1024**2)} MiB; den leses ikke (lever tabellen som CSV eller Parquet)"
        )
    for i in infos:
        if i.file_size > _RATIO_FROM and i.file_size > MAX_XLSX_RATIO * max(i.compress_size, 1):
            raise ExtractError(
                f"{name}: delen «{i.filename}» pakkes ut {_n(i.file_size / max(i.compress_size, 1))} ganger "
                f"(grensen er {MAX_XLSX_RATIO}); filen ligner en zip-bombe og leses ikke"
            )


def _n(number) -> str:
    return f"{round(number):,}".replace(",", " ")
