"""Scanning written output for identifiable data before it is moved into place.

Commands that write files derived from an extract (``opr report``, ``opr extract``)
write into a temporary folder, call :func:`scan_outputs` on it, and only then
move it into place. The scan looks in every file for

- a national identity number in any of the forms :mod:`opr_analysis.safety.nin`
  knows (separators, full-width digits, zero-width characters, a lost leading
  zero, float and E-notation renderings; never a digit run inside a digest), and
- when ``original_ids`` is given (research extracts, whose patient ids are
  replaced by new pseudonyms), any of the extract's original patient ids as a
  whole token (``P0001`` matches in ``P0001,`` but not in ``P00012``).

Tabular binaries (``.parquet``, ``.sav``, ``.dta``) are read with
pandas/pyreadstat/pyarrow and scanned as text (cells, column names, labels,
Parquet schema and field metadata); workbooks (``.xlsx``) and Office documents
(``.docx``, ``.odt``, ``.pptx``) as the text of every XML part (so every sheet,
sheet names, comments, headers/footers and document properties); XML/HTML
character references are decoded as well; every other file (CSV, HTML, notebooks, Markdown, ...) as text. PDF
pages are compressed and cannot be scanned cheaply: a report's PDF is rendered
from the executed notebook in the same output folder, which is scanned. A hit
raises :class:`~opr_analysis.errors.IdentifiableDataError` naming the file,
never the value. A numeric id matches a number equal to it anywhere in the
output: a false alarm stops the run, which is the safe side.

Examples
--------
>>> import tempfile, pathlib
>>> out = pathlib.Path(tempfile.mkdtemp())
>>> _ = (out / "table.csv").write_text("patient,n\\nNY0001,3\\n")
>>> scan_outputs(out, original_ids=["P0001"])
>>> scan_outputs(out, original_ids=["NY0001"])
Traceback (most recent call last):
...
opr_analysis.errors.IdentifiableDataError: table.csv inneholder en pasient-ID fra det opprinnelige uttrekket; ingenting er levert
"""

from __future__ import annotations

import html
import io
import os
import re
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from ..errors import IdentifiableDataError
from .atomic import atomic_dir, atomic_file
from .nin import has_nin, may_hold_nin

# A token is a maximal run of letters, digits, "_" and "-"; ids are matched as whole tokens.
_TOKEN = re.compile(r"[\w-]+")
_SIMPLE_ID = re.compile(r"[\w-]+")
TABULAR = (".parquet", ".sav", ".dta")
# Office documents are zip files of XML: scanned as the text of their XML parts.
ZIPPED_XML = (".docx", ".odt", ".pptx")
_TAG = re.compile(r"<[^>]+>")
_ATTRIBUTE = re.compile(r'=\s*"([^"]*)"')


def file_text(path: Path, suffix: str | None = None) -> str:
    """What a file holds, as text to scan (tabular binaries read as tables); ``suffix`` overrides the path's."""
    suffix = (suffix or path.suffix).lower()
    if suffix in TABULAR:
        return "\n".join(frame_text(frame) for frame in _read_tabular(path, suffix))
    if suffix in ZIPPED_XML or suffix == ".xlsx":
        return zipped_xml_text(path, suffix)
    return path.read_bytes().decode("utf-8", errors="replace")


def zipped_xml_text(path: Path, suffix: str | None = None) -> str:
    """The text of every XML part of a zipped document or workbook, tags removed.

    Word splits a paragraph into runs (``<w:t>123</w:t><w:t>45</w:t>``);
    removing the tags joins them again, so a number split over runs is found.
    A workbook's parts are its sheets (cells, headers/footers), shared strings,
    sheet names, comments and document properties; there each tag becomes a
    line break, so that neighbouring cells never run together into one number.
    """
    with zipfile.ZipFile(path) as zf:
        names = [n for n in sorted(zf.namelist()) if n.endswith((".xml", ".rels", ".vml"))]
        parts = [zf.read(n).decode("utf-8", errors="replace") for n in names]
    join = "\n" if (suffix or path.suffix).lower() == ".xlsx" else ""
    # Attribute values too: a sheet's name is one (<sheet name="..."/>).
    attributes = [value for part in parts for value in _ATTRIBUTE.findall(part)]
    return "\n".join([*(_TAG.sub(join, part) for part in parts), *attributes])


def parquet_metadata_text(path: Path) -> str:
    """A Parquet file's schema and field metadata (key = value lines), decoded as text."""
    import pyarrow.parquet as pq

    schema = pq.read_schema(path)
    meta = [schema.metadata, *(f.metadata for f in schema)]
    return "\n".join(
        f"{k.decode('utf-8', 'replace')}={v.decode('utf-8', 'replace')}" for m in meta for k, v in (m or {}).items()
    )


def _read_tabular(path: Path, suffix: str) -> list:
    if suffix == ".parquet":
        return [pd.read_parquet(path), pd.DataFrame({"metadata": [parquet_metadata_text(path)]})]
    import pyreadstat

    reader = pyreadstat.read_sav if suffix == ".sav" else pyreadstat.read_dta
    frame, meta = reader(str(path))
    labels = pd.DataFrame(
        {
            "labels": [
                *map(str, meta.column_labels or []),
                *(f"{k}={v}" for vl in (meta.variable_value_labels or {}).values() for k, v in vl.items()),
                str(meta.file_label or ""),
            ]
        }
    )
    return [frame, labels]


def frame_text(frame: pd.DataFrame) -> str:
    """A DataFrame (header and cells) as CSV text; floats keep every digit."""
    buf = io.StringIO()
    frame.to_csv(buf, index=False)
    return buf.getvalue()


class IdMatcher:
    """Whole-token matching of many ids, prepared once and used on every file of a scan."""

    def __init__(self, ids: Iterable[str]):
        ids = {str(i).strip() for i in ids if str(i).strip()}
        self.simple = frozenset(i for i in ids if _SIMPLE_ID.fullmatch(i))
        self.other = [re.compile(rf"(?<![\w-]){re.escape(i)}(?![\w-])") for i in sorted(ids - self.simple)]

    def __call__(self, text: str) -> bool:
        if self.simple and not self.simple.isdisjoint(_TOKEN.findall(text)):
            return True
        return any(p.search(text) for p in self.other)


def find_ids(text: str, ids: Iterable[str]) -> bool:
    """True when any of ``ids`` occurs in ``text`` as a whole token."""
    return IdMatcher(ids)(text)


def scan_outputs(folder: str | os.PathLike, original_ids: Iterable[str] | None = None) -> None:
    """Raise :class:`IdentifiableDataError` if any file under ``folder`` holds identifiable data."""
    folder = Path(folder)
    has_ids = _matcher(original_ids)
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        scan_file(path, path.relative_to(folder).as_posix(), has_ids)


def _matcher(original_ids) -> IdMatcher | None:
    if original_ids is None or isinstance(original_ids, IdMatcher):
        return original_ids
    ids = {str(i) for i in original_ids if i is not None and str(i) != ""}
    return IdMatcher(ids) if ids else None


def _holds_nin(text: str) -> bool:
    """:func:`has_nin` of a whole file's text, after the native prefilter (most files fail it at once)."""
    return may_hold_nin(text) and has_nin(text)


def scan_file(path: Path, name: str, original_ids: Iterable[str] | IdMatcher | None = None) -> None:
    """Raise :class:`IdentifiableDataError` (naming ``name``, never the value) if ``path`` holds identifiable data.

    ``name`` is what the user will see, and its suffix says how to read the file.
    """
    has_ids = _matcher(original_ids)
    try:
        text = file_text(Path(path), Path(name).suffix)
    except Exception as exc:  # a file we cannot read cannot be shown to be clean
        raise IdentifiableDataError(
            f"{name} kunne ikke kontrolleres for personidentifiserende opplysninger "
            f"({type(exc).__name__}); ingenting er levert"
        ) from exc
    if _holds_nin(text) or ("&" in text and _holds_nin(html.unescape(text))):
        raise IdentifiableDataError(f"{name} inneholder et fødselsnummer; ingenting er levert")
    if has_ids is not None and has_ids(text):
        raise IdentifiableDataError(
            f"{name} inneholder en pasient-ID fra det opprinnelige uttrekket; ingenting er levert"
        )


@contextmanager
def scanned_output(target: str | os.PathLike, original_ids: Iterable[str] | None = None) -> Iterator[Path]:
    """A temporary folder to write into; scanned, then moved to ``target`` as a whole.

    On identifiable data (or any error) the temporary folder is removed and
    ``target`` is left as it was.

    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "rapport"
    >>> with scanned_output(out) as tmp:
    ...     _ = (tmp / "tabell.csv").write_text("year,n\\n2023,1574\\n")
    >>> sorted(p.name for p in out.iterdir())
    ['tabell.csv']
    """
    ids = None if original_ids is None else list(original_ids)
    with atomic_dir(target, check=lambda tmp: scan_outputs(tmp, ids)) as tmp:
        yield tmp


@contextmanager
def scanned_file(target: str | os.PathLike, original_ids: Iterable[str] | None = None) -> Iterator[Path]:
    """A temporary file to write into; scanned like :func:`scan_outputs`, then moved to ``target``.

    On identifiable data the temporary file is removed and ``target`` is left as it was.
    """
    target = Path(target)
    with atomic_file(target) as tmp:
        yield tmp
        scan_file(tmp, target.name, original_ids)
