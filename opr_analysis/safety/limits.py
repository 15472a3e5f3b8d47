"""Limits that keep hostile or unlucky input files from taking a run down.

- **YAML** (research-extract specs): at most :data:`MAX_YAML_BYTES`; anchors
  and aliases (``&name``/``*name``, the "billion laughs" expansion) are
  refused; nesting deep enough to exhaust the parser's recursion is refused.
  :func:`load_yaml` refuses in well under a second with a
  :class:`~opr_analysis.errors.UsageError` (exit status 2).
- **XLSX** (extract tables): before anything is decompressed, the zip's
  central directory is checked (:func:`check_xlsx`): declared uncompressed
  size at most :data:`MAX_XLSX_UNCOMPRESSED` in all, and no member above 1 MiB
  expanding more than :data:`MAX_XLSX_RATIO` times (real sheets expand about
  10 times). Python's ``zipfile`` never inflates a member beyond its declared
  size, so a lying header cannot get round the check.
- **Cells**: a cell of more than :data:`MAX_CELL_CHARS` characters stops the
  read with a message naming file, row and column (in
  :mod:`opr_analysis.extract.sources`); shorter cells, megabytes long, are read.

>>> load_yaml(b"a: [1, 2]", "spec.yaml")
{'a': [1, 2]}
>>> load_yaml(b"a: &x [1]\\nb: *x", "spec.yaml")
Traceback (most recent call last):
...
opr_analysis.errors.UsageError: spec.yaml, linje 1: YAML-ankre og -aliaser (&navn, *navn) er ikke tillatt; skriv verdiene ut
"""

from __future__ import annotations

import io
import zipfile

import yaml

from ..errors import ExtractError, UsageError

__all__ = [
    "MAX_YAML_BYTES",
    "MAX_XLSX_UNCOMPRESSED",
    "MAX_XLSX_RATIO",
    "MAX_CELL_CHARS",
    "load_yaml",
    "check_yaml_file",
    "check_xlsx",
]

MAX_YAML_BYTES = 256 * 1024
MAX_XLSX_UNCOMPRESSED = 1024**3  # 1 GiB in all: far above a full Excel sheet of extract rows
MAX_XLSX_RATIO = 100
_RATIO_FROM = 1024**2  # small members (styles, themes) may compress very well; they cannot grow large
MAX_CELL_CHARS = 8 * 1024**2


class _Refused(Exception):
    def __init__(self, line: int):
        self.line = line


class _NoAnchorLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing anchors and aliases at the composer (before any expansion)."""

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise _Refused(event.start_mark.line + 1)
        return super().compose_node(parent, index)


def load_yaml(data: bytes, name: str):
    """Parse a small YAML document from a user (see module docstring); :class:`UsageError` if refused."""
    if len(data) > MAX_YAML_BYTES:
        raise UsageError(
            f"{name}: filen er større enn grensen på {_n(MAX_YAML_BYTES)} byte (en spesifikasjon er noen få kB)"
        )
    try:
        return yaml.load(data.decode("utf-8"), Loader=_NoAnchorLoader)  # noqa: S506 (a SafeLoader subclass)
    except _Refused as exc:
        raise UsageError(
            f"{name}, linje {exc.line}: YAML-ankre og -aliaser (&navn, *navn) er ikke tillatt; skriv verdiene ut"
        ) from None
    except RecursionError:
        raise UsageError(f"{name}: YAML-strukturen er nestet for dypt") from None
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise UsageError(f"{name}: ikke gyldig YAML (UTF-8): {exc}") from None


def check_yaml_file(path) -> None:
    """Refuse a hostile YAML file (see :func:`load_yaml`) before any heavy import or other work.

    A missing file is left for the caller to report.
    """
    from pathlib import Path

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
