"""The validated-extract cache: a second read of an unchanged extract skips reading and validating it.

What is kept
------------
After :func:`~opr_analysis.load_extract` has read and validated a table, its usable rows (the typed
frame), its quarantined rows and its problems are written as Arrow IPC files, with its summary counts,
notes and source file description in a small JSON file: one *entry* per table. The next load of an
unchanged extract memory-maps the entries instead of reading the files: no CSV parse, no pandera,
no identity-number scan (a file holding one stopped the first load, so it has no entry).

Erasure at the patient's request is not in the entries: the reader applies it after reading them,
judged against that day, so an erasure takes effect on the next load however old the entry.

When an entry is used (the key)
-------------------------------
A table's entry is used only when its key matches. The key is the SHA-256 of

- the SHA-256 and name of the table's file and of every file its rows are checked against
  (:func:`opr_analysis.extract.needs.closure`: the tables it refers to, recursively), and which of
  those tables are absent;
- the codebook as loaded (tables, columns, types, codes, instruments);
- the *fingerprint* of what types and checks the cells: the package version, the source of the
  reader (every ``.py`` and ``.yaml`` file of ``opr_analysis/extract`` and ``opr_analysis/safety``,
  ``codebook.yaml`` among them), the versions of Python, pandas, numpy, pyarrow, pandera and
  python-stdnum, and the entry format.

So a changed byte in any file a table depends on, a changed codebook or reader rule, or another
package version gives another key, and the table is read and validated again. A file's SHA-256 is
computed again unless its device, inode, size, modification time and change time are those
recorded when it was last hashed, and it had not been modified in the two seconds before that
(the change time cannot be set back by a user; the two seconds cover file systems whose clock
ticks coarsely). A table is also read again when the run date has moved past a date in it that
was still in the future (the reader quarantines future dates): each entry records the dates on
either side of its run date.

Where it lives
--------------
``$OPR_CACHE_DIR`` if set, else ``.opr-cache`` beside the extract folder (``data/.opr-cache`` for
``data/synthetic``). Never inside the repository (except its git-ignored ``data/`` folder), nor
inside a folder another ``opr`` command wrote (a report, a research delivery, tables): then no
cache is used and the summary says why. The folder is opr's own (marker :data:`MARKER` of
:mod:`opr_analysis.safety.owned`, command ``cache``): created mode 0700, files 0600; a folder of
that name that opr did not make is never written to. opr replaces an extract folder's older
entries of a table when it writes a new one, drops entries of extract folders that no longer
exist, and may delete the whole folder; deleting it by hand is always safe.

Switching it off
----------------
``--no-cache`` on every command that reads an extract, ``load_extract(..., cache=False)``, or
``OPR_CACHE=0`` in the environment (the report's notebook kernel inherits it).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import secrets
import shutil
import sys
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

FOLDER = ".opr-cache"
ENV_OFF = "OPR_CACHE"
ENV_DIR = "OPR_CACHE_DIR"
OFF_VALUES = ("0", "off", "nei", "no", "false", "av")
FORMAT = 1  # bump when the entry layout changes
COMMAND = "cache"  # the owned-folder marker's command
RACY_SECONDS = 2.0  # a file modified this close to its hashing is hashed again next time
HASHES = "hashes.json"
ENTRY = "entry.json"
FRAMES = ("table", "quarantine", "problems")
FILE_MODE, DIR_MODE = 0o600, 0o700


def enabled(flag: bool | None = None) -> bool:
    """Whether to use the cache: ``flag`` when given, else not when ``$OPR_CACHE`` says off."""
    if flag is not None:
        return bool(flag)
    return os.environ.get(ENV_OFF, "").strip().lower() not in OFF_VALUES


# --- where ---------------------------------------------------------------------------------------


def location(extract: Path) -> tuple[Path | None, str | None]:
    """The cache folder for ``extract`` and None, or None and the reason (Norwegian) it cannot have one."""
    from ..paths import is_repo_root, repo_root, source_checkout
    from ..safety.owned import MARKER

    chosen = os.environ.get(ENV_DIR, "").strip()
    root = Path(chosen).expanduser() if chosen else Path(extract).resolve().parent / FOLDER
    root = root.resolve()
    for repo in {repo_root(), source_checkout()}:
        if (
            repo is not None
            and is_repo_root(repo)
            and root.is_relative_to(repo)
            and not root.is_relative_to(repo / "data")
        ):
            return None, f"{root} ligger i prosjektmappen (repository), der opr aldri legger data"
    for folder in root.parents:
        info = _marker(folder / MARKER)
        if info is not None and info.get("command") != COMMAND:
            return None, f"{root} ligger i en mappe skrevet av «opr {info.get('command')}» ({folder})"
    if root.exists():
        if not root.is_dir() or root.is_symlink():
            return None, f"{root} finnes og er ikke en mappe"
        info = _marker(root / MARKER)
        if (info is None or info.get("command") != COMMAND) and any(root.iterdir()):
            return None, f"{root} finnes og er ikke laget av opr"
    return root, None


def _marker(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("written_by") == "opr" else None


# --- the key ---------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def fingerprint() -> str:
    """SHA-256 of what types and checks the cells (module docstring), once per process."""
    from .. import __version__

    return source_fingerprint(Path(__file__).resolve().parents[1], __version__)


def source_fingerprint(package: Path, version: str) -> str:
    """SHA-256 of the package ``version``, the reader's sources under ``package`` and the library versions."""
    from importlib import metadata

    h = hashlib.sha256(f"opr-extract-cache {FORMAT} {version} {sys.version}\n".encode())
    for dist in ("pandas", "numpy", "pyarrow", "pandera", "python-stdnum"):
        try:
            installed = metadata.version(dist)
        except metadata.PackageNotFoundError:
            installed = "-"
        h.update(f"{dist} {installed}\n".encode())
    for sub in ("extract", "safety"):
        for path in sorted((package / sub).iterdir()):
            if path.suffix in (".py", ".yaml"):
                h.update(f"{sub}/{path.name}\n".encode())
                h.update(path.read_bytes())
    return h.hexdigest()


def table_key(cb, table: str, inputs: dict[str, tuple[str, str] | None]) -> str:
    """The key of ``table``'s entry under codebook ``cb`` (as loaded, so a codebook changed at run time counts
    too): ``inputs`` maps each table of its closure to (file name, SHA-256), or None when absent."""
    body = {"table": table, "inputs": {t: list(v) if v else None for t, v in sorted(inputs.items())}}
    text = "\n".join([fingerprint(), repr(cb), json.dumps(body, sort_keys=True, ensure_ascii=False)])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def folder_id(extract: Path) -> str:
    """A short id of the extract folder (its absolute path), prefixed to its entries' names."""
    return hashlib.sha256(str(Path(extract).resolve()).encode("utf-8")).hexdigest()[:12]


# --- entries ---------------------------------------------------------------------------------------


@dataclass
class Entry:
    """One table as validated: what :func:`~opr_analysis.load_extract` needs to rebuild it."""

    table: str
    frame: object  # pandas.DataFrame: the usable rows
    quarantine: object  # pandas.DataFrame
    problems: object  # pandas.DataFrame: row, column, value, reason
    info: dict  # file, source, summary, window


class Store:
    """The cache folder of one extract (see the module docstring)."""

    def __init__(self, root: Path, extract: Path):
        self.root = root
        self.extract = Path(extract)
        self.prefix = folder_id(extract)
        self._hashes: dict | None = None
        self._hashes_changed = False

    @classmethod
    def open(cls, extract: Path, flag: bool | None) -> tuple[Store | None, str | None]:
        """The store for ``extract``, or None and why not (None, None when switched off)."""
        if not enabled(flag):
            return None, None
        root, why = location(extract)
        return (cls(root, extract), None) if root is not None else (None, why)

    # -- file hashes with the stat shortcut --

    def _load_hashes(self) -> dict:
        if self._hashes is None:
            try:
                data = json.loads((self.root / HASHES).read_text(encoding="utf-8"))
                self._hashes = data if isinstance(data, dict) else {}
            except (OSError, ValueError):
                self._hashes = {}
        return self._hashes

    def file_hash(self, path: Path) -> str:
        """SHA-256 of ``path``, from the record when its stat shows it unchanged (module docstring)."""
        stamp = stat_stamp(path.stat())
        known = self._load_hashes().get(str(path.resolve()))
        if isinstance(known, dict) and known.get("stat") == list(stamp) and known.get("trusted"):
            return known["sha256"]
        started = time.time_ns()
        digest = _sha256(path)
        if stat_stamp(path.stat()) == stamp:  # not changed while it was read
            self.remember(path, stamp, digest, started)
        return digest

    def remember(self, path: Path, stamp: tuple, sha256: str, read_at: int) -> None:
        """Record ``path``'s SHA-256 as of its stat ``stamp`` (taken before it was read at ``read_at``, ns)."""
        trusted = read_at - max(stamp[3], stamp[4]) > RACY_SECONDS * 1e9
        self._load_hashes()[str(Path(path).resolve())] = {"stat": list(stamp), "sha256": sha256, "trusted": trusted}
        self._hashes_changed = True

    def save_hashes(self) -> None:
        if self._hashes_changed and self._prepare():
            known = {p: v for p, v in self._load_hashes().items() if Path(p).exists()}
            _write_bytes(self.root / HASHES, json.dumps(known, indent=0).encode("utf-8"))
            self._hashes_changed = False

    # -- entries --

    def entry_dir(self, table: str, key: str) -> Path:
        return self.root / f"{self.prefix}-{table}-{key[:32]}"

    def read(self, table: str, key: str) -> Entry | None:
        """The entry of ``table`` under ``key``, or None (absent, unreadable or another key)."""
        folder = self.entry_dir(table, key)
        try:
            info = json.loads((folder / ENTRY).read_text(encoding="utf-8"))
            if info.get("key") != key or info.get("format") != FORMAT:
                return None
            frames = [_read_frame(folder / f"{name}.arrow") for name in FRAMES]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return Entry(table, *frames, info)

    def write(self, entry: Entry, key: str) -> None:
        """Write ``entry`` under ``key`` (atomically: a whole folder renamed into place), replacing the
        older entries of this table from this extract folder. Never raises: a cache is optional."""
        try:
            if not self._prepare():
                return
            final = self.entry_dir(entry.table, key)
            if (final / ENTRY).is_file():
                return
            tmp = self.root / f".tmp-{secrets.token_hex(8)}"
            tmp.mkdir(mode=DIR_MODE)
            try:
                for name, frame in zip(FRAMES, (entry.frame, entry.quarantine, entry.problems), strict=True):
                    _write_frame(tmp / f"{name}.arrow", frame)
                info = {**entry.info, "format": FORMAT, "key": key, "table": entry.table,
                        "extract": str(self.extract.resolve()),
                        "created": dt.datetime.now().astimezone().isoformat(timespec="seconds")}  # fmt: skip
                _write_bytes(tmp / ENTRY, json.dumps(info, ensure_ascii=False, indent=1).encode("utf-8"))
                os.rename(tmp, final)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
            for old in self.root.glob(f"{self.prefix}-{entry.table}-*"):
                if old != final and _is_entry(old):
                    shutil.rmtree(old, ignore_errors=True)
        except Exception:  # noqa: BLE001 (a cache that cannot be written is no cache: the load goes on)
            return

    def _prepare(self) -> bool:
        """Create the folder (0700) with opr's marker; False when that is not possible."""
        from ..safety.owned import MARKER

        try:
            if not (self.root / MARKER).is_file():
                self.root.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
                body = {"written_by": "opr", "command": COMMAND, "entries": []}
                _write_bytes(self.root / MARKER, (json.dumps(body, ensure_ascii=False, indent=1) + "\n").encode())
            return True
        except OSError:
            return False

    def prune(self) -> None:
        """Drop entries whose extract folder no longer exists, and temporary folders over an hour old."""
        try:
            for path in self.root.iterdir():
                if path.name.startswith(".tmp-") and time.time() - path.stat().st_mtime > 3600:
                    shutil.rmtree(path, ignore_errors=True)
                elif _is_entry(path):
                    try:
                        extract = json.loads((path / ENTRY).read_text(encoding="utf-8")).get("extract")
                    except (OSError, ValueError):
                        continue
                    if extract and not Path(extract).is_dir():
                        shutil.rmtree(path, ignore_errors=True)
        except OSError:
            return


def stat_stamp(st: os.stat_result) -> tuple[int, int, int, int, int]:
    """What must stay equal for a file's recorded SHA-256 to be reused: device, inode, size, mtime, ctime."""
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _is_entry(path: Path) -> bool:
    """An entry folder of this cache: ``<12 hex>-<table>-<32 hex>`` holding only entry files."""
    parts = path.name.split("-")
    if len(parts) < 3 or len(parts[0]) != 12 or len(parts[-1]) != 32 or not path.is_dir() or path.is_symlink():
        return False
    allowed = {ENTRY, *(f"{n}.arrow" for n in FRAMES)}
    return all(p.name in allowed for p in path.iterdir())


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 24):
            h.update(chunk)
    return h.hexdigest()


def _write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` (mode 0600) through a temporary file renamed into place."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


# --- frames as Arrow IPC, dtypes exactly -------------------------------------------------------------


class Unsupported(Exception):
    """A column the cache cannot store exactly: the table is not cached (never stored approximately)."""


META = b"opr-frame"


def _write_frame(path: Path, frame) -> None:
    import pyarrow as pa

    arrays, names, columns = [], [], []
    index = frame.index
    if type(index).__name__ == "RangeIndex":
        index_meta = {"kind": "range", "start": index.start, "stop": index.stop, "step": index.step}
    elif str(index.dtype) == "int64":
        index_meta = {"kind": "int64"}
        arrays.append(pa.array(index.to_numpy()))
        names.append("__index__")
    else:
        raise Unsupported(f"index {index.dtype}")
    index_meta["name"] = index.name
    if frame.columns.has_duplicates:
        raise Unsupported("duplicate column names")
    for i, name in enumerate(frame.columns):
        if not isinstance(name, str):
            raise Unsupported(f"column name {name!r}")
        meta, array = _encode(frame.iloc[:, i])
        missing = meta.pop("missing_array", None)
        columns.append({"name": name, **meta})
        arrays.append(array)
        names.append(f"c{i}")
        if missing is not None:
            arrays.append(missing)
            names.append(f"m{i}")
    schema_meta = {
        META: json.dumps({"index": index_meta, "columns": columns, "columns_dtype": str(frame.columns.dtype)}).encode(
            "utf-8"
        )
    }
    table = pa.Table.from_arrays(arrays, names=names).replace_schema_metadata(schema_meta)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(fd, "wb") as fh, pa.ipc.new_file(fh, table.schema) as writer:
        writer.write_table(table)


# Missing values of an object column, by kind (the value itself is stored as null).
_MISSING = {"None": 1, "nan": 2, "NA": 3}


def _encode(s) -> tuple[dict, object]:
    """A column as (metadata, Arrow array) such that :func:`_decode` gives it back with its dtype."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    dtype = s.dtype
    if isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow":
        na = "NA" if dtype.na_value is pd.NA else "nan"
        return {"kind": "string", "na": na}, pa.array(s.array).cast(pa.large_string())
    if isinstance(dtype, pd.CategoricalDtype):
        cats = list(dtype.categories)
        if not all(isinstance(c, str) for c in cats):
            raise Unsupported("categories")
        return {"kind": "category", "categories": cats, "ordered": bool(dtype.ordered)}, pa.array(
            s.cat.codes.to_numpy()
        )
    if isinstance(dtype, pd.Int64Dtype | pd.Float64Dtype | pd.BooleanDtype):
        return {"kind": "masked", "dtype": str(dtype)}, pa.array(s.array)
    if isinstance(dtype, np.dtype):
        if dtype == np.dtype("datetime64[ns]"):
            return {"kind": "datetime64[ns]"}, pa.array(s.to_numpy().view("int64"))
        if dtype.kind in "iufb":
            return {"kind": "numpy", "dtype": dtype.str}, pa.array(s.to_numpy())
        if dtype == np.dtype(object):
            return _encode_object(s)
    raise Unsupported(str(dtype))


def _encode_object(s) -> tuple[dict, object]:
    """Text with missing values: the text as Arrow strings, and which kind of missing each blank was."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    values = s.to_numpy()
    isna = pd.isna(values)
    if pd.api.types.infer_dtype(values[~isna], skipna=False) not in ("string", "empty"):
        raise Unsupported("object column that is not text")
    missing = np.zeros(len(values), dtype=np.uint8)
    for i in np.flatnonzero(isna):
        v = values[i]
        if v is None:
            missing[i] = _MISSING["None"]
        elif v is pd.NA:
            missing[i] = _MISSING["NA"]
        elif isinstance(v, float):
            missing[i] = _MISSING["nan"]
        else:
            raise Unsupported(f"missing value {v!r}")
    text = values.copy()
    text[isna] = None
    meta = {"kind": "object", "missing": bool(missing.any())}
    if meta["missing"]:
        meta["missing_array"] = pa.array(missing)
    return meta, pa.array(text, type=pa.large_string())


def _read_frame(path: Path):
    import pandas as pd
    import pyarrow as pa

    # Memory-mapped: the frames' text columns point into the file (the mapping lives as long as they do).
    table = pa.ipc.open_file(pa.memory_map(str(path), "r")).read_all()
    meta = json.loads(table.schema.metadata[META])
    index_meta = meta["index"]
    if index_meta["kind"] == "range":
        index = pd.RangeIndex(index_meta["start"], index_meta["stop"], index_meta["step"], name=index_meta["name"])
    else:
        index = pd.Index(table.column("__index__").to_numpy(), dtype="int64", name=index_meta["name"])
    data = {}
    for i, col in enumerate(meta["columns"]):
        missing = table.column(f"m{i}") if col["kind"] == "object" and col.get("missing") else None
        values = _decode(col, table.column(f"c{i}"), missing)
        # A Series with its dtype: a bare object array of text would be inferred as pandas' str dtype.
        data[col["name"]] = pd.Series(values, index=index, dtype=values.dtype, copy=False)
    names = pd.Index([c["name"] for c in meta["columns"]], dtype=meta["columns_dtype"])
    frame = pd.DataFrame(data, index=index, copy=False) if data else pd.DataFrame(index=index)
    frame.columns = names
    return frame


def _decode(col: dict, array, missing=None):
    import numpy as np
    import pandas as pd

    kind = col["kind"]
    if kind == "string":
        dtype = pd.StringDtype("pyarrow", na_value=pd.NA if col["na"] == "NA" else np.nan)
        return dtype.__from_arrow__(array)
    if kind == "category":
        codes = _numpy(array)
        return pd.Categorical.from_codes(codes, categories=col["categories"], ordered=col["ordered"])
    if kind == "masked":
        return pd.api.types.pandas_dtype(col["dtype"]).__from_arrow__(array)
    if kind == "datetime64[ns]":
        return _numpy(array).view("datetime64[ns]")
    if kind == "numpy":
        return _numpy(array).astype(np.dtype(col["dtype"]), copy=False)
    if kind == "object":
        values = _numpy(array).astype(object, copy=False)
        if missing is not None:
            kinds = _numpy(missing)
            for name, code in _MISSING.items():
                values[kinds == code] = {"None": None, "nan": np.nan, "NA": pd.NA}[name]
        return values
    raise ValueError(kind)


def _numpy(array):
    import pyarrow as pa

    if isinstance(array, pa.ChunkedArray):
        array = array.chunk(0) if array.num_chunks == 1 else array.combine_chunks()
    return array.to_numpy(zero_copy_only=False)
