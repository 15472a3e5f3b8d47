"""The report's hidden cells, handed from the notebook's kernel to the ``opr report`` process.

``opr report`` writes the Excel workbook after the notebook has run, and the workbook must hide exactly
what the report hides. Those cells come from one suppression of every report of the extract
(:mod:`.unit_disclosure`; with one unit, the report's own tables suppressed together), whose linear
programs cost seconds: computed in the kernel for the report, and once more in ``opr report`` for the
workbook, they were the largest part of a unit report's workbook step. So the kernel writes the
:attr:`~.publication.Publication.masks` it used into a file, and ``opr report`` builds the workbook from
them (:meth:`HandOver.masks`).

Decisions:

- **Only a file this run wrote.** ``opr report`` draws a random token for each run (:class:`HandOver`) and
  passes it, with the file's path inside the run's own new ``build/`` folder, as notebook parameters
  (``handover_file``, ``handover_token``); the kernel writes the token into the file. A file that is absent,
  unreadable, a symbolic link, of another format, with another token, ``min_cell`` or unit, or whose tables
  do not have exactly the rows, columns and total lines of the workbook's tables, is not used: ``opr report``
  then computes the hidden cells itself, as before (the manifest says which: ``workbook_hidden_cells``).
- **JSON, not pickle.** The file holds only names, row positions, column names, the keys of total lines
  and yes/no flags, so plain JSON carries it exactly, and reading it runs no code (a pickle would run
  whatever a crafted file asks for).
- **No counts.** The file says which cells are hidden, never their values: the total lines' values are
  taken again from the workbook's own frames (:func:`~.suppression.restored_hidden`). It lives in the
  run's temporary folder and is removed once read, so the published ``build/`` folder is as before.
- Run without ``opr report`` (JupyterLab, the Quarto project), the notebook gets no ``handover_file`` and
  writes nothing.
"""

from __future__ import annotations

import hmac
import json
import os
import secrets
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..safety.atomic import atomic_file
from .suppression import Hidden, restored_hidden

__all__ = ["FILE_NAME", "FORMAT", "HandOver", "write_hidden"]

#: The hand-over file's name in the run's ``build/`` folder.
FILE_NAME = "skjulte-celler.json"
#: The format tag in the file (its version: a file of another version is not used).
FORMAT = "opr-hidden-cells/1"


def _encoded(masks: Mapping[str, Hidden]) -> dict:
    out = {}
    for name, hidden in masks.items():
        cells = hidden.cells
        out[name] = {
            "index": cells.index.tolist(),
            "columns": cells.columns.tolist(),
            "hidden": {c: [int(i) for i in cells[c].to_numpy(dtype=bool).nonzero()[0]] for c in cells.columns},
            "margins": [
                [int(m), list(key), col, bool(h)]
                for m, key, col, h in zip(
                    *(hidden.margins[c] for c in ("margin", "key", "column", "hidden")), strict=True
                )
            ],
        }
    return out


def write_hidden(path: str | os.PathLike, token: str, masks: Mapping[str, Hidden], min_cell: int, unit) -> bool:
    """Write the report's hidden cells ``masks`` (table name -> :class:`~.suppression.Hidden`) for ``opr report``
    (module docstring). False, and nothing written, when they cannot be written exactly as JSON (a key of a
    total line that is no plain value): ``opr report`` then computes them itself."""
    document = {"format": FORMAT, "token": str(token), "min_cell": int(min_cell), "unit": unit}
    try:
        document["tables"] = _encoded(masks)
        text = json.dumps(document, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):
        return False
    with atomic_file(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return True


def _restored(entry: dict, table, frame: pd.DataFrame) -> Hidden | None:
    """The table's :class:`~.suppression.Hidden` from its entry, or None unless the entry describes exactly
    ``frame``'s rows and columns and the table's own total lines."""
    columns = list(frame.columns)
    if entry.get("index") != frame.index.tolist() or entry.get("columns") != columns:
        return None
    hidden = np.zeros((len(frame), len(columns)), dtype=bool)
    for col, rows in entry.get("hidden", {}).items():
        if col not in columns or not all(isinstance(r, int) and 0 <= r < len(frame) for r in rows):
            return None
        hidden[rows, columns.index(col)] = True
    cells = pd.DataFrame(hidden, index=frame.index, columns=frame.columns)
    flags = {(m, tuple(key), col): h for m, key, col, h in entry.get("margins", [])}
    try:
        return restored_hidden(table, frame, cells, flags)
    except (KeyError, ValueError):
        return None


@dataclass
class HandOver:
    """One ``opr report`` run's hand-over: the file the kernel writes (``path``, in the run's own ``build/``
    folder), the run's random ``token``, and the ``min_cell`` and ``unit`` of the run. ``used``: whether
    :meth:`masks` found the file good."""

    path: Path
    min_cell: int
    unit: Hashable | None = None
    token: str = field(default_factory=lambda: secrets.token_hex(16))
    used: bool = False

    def parameters(self) -> dict:
        """The notebook parameters that ask the kernel to write the file."""
        return {"handover_file": str(self.path), "handover_token": self.token}

    def _document(self) -> dict | None:
        try:
            if self.path.is_symlink() or not self.path.is_file():
                return None
            document = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError):
            return None
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            return None
        if not hmac.compare_digest(str(document.get("token", "")), self.token):
            return None
        if document.get("min_cell") != self.min_cell or document.get("unit") != self.unit:
            return None
        return document if isinstance(document.get("tables"), dict) else None

    def masks(self, tables: Mapping[str, pd.DataFrame]) -> dict[str, Hidden] | None:
        """The report's hidden cells for ``tables`` (the workbook's frames, by name), or None when the file is
        not this run's or does not fit them (module docstring). The file is removed either way."""
        from ..stats.table_registry import get

        document = self._document()
        self.path.unlink(missing_ok=True)
        if document is None:
            return None
        entries = document["tables"]
        patient = {n for n in tables if _patient_counts(n)}
        if set(entries) != patient:
            return None
        out = {}
        for name in patient:
            hidden = _restored(entries[name], get(name), tables[name]) if isinstance(entries[name], dict) else None
            if hidden is None:
                return None
            out[name] = hidden
        self.used = True
        return out


def _patient_counts(name: str) -> bool:
    from ..stats.table_registry import get

    try:
        return get(name).patient_counts
    except KeyError:
        return False
