"""Outputs that appear whole or not at all.

Every command that writes goes through one of two context managers:

- :func:`atomic_dir` for a folder: the command writes into a fresh temporary
  folder beside the target (``tempfile.mkdtemp``, so concurrent runs never
  share one), an optional ``check`` runs on it, and :func:`replace_dir` swaps
  it into place. On any error, ``KeyboardInterrupt`` or termination
  (:class:`~opr_analysis.errors.Terminated`) the temporary folder is removed
  and the earlier output is left as it was.
- :func:`atomic_file` for a single file: a temporary file in the same folder,
  moved into place with :func:`os.replace`.

A reader therefore sees either the previous output or the complete new one.
Temporaries are named ``.<name>.opr-tmp-…`` and the folder being replaced
sits at ``.<name>.opr-old-…`` for the instant of the swap; removing them runs
with termination signals held, so an ended or SIGTERM'd run leaves neither.
A run killed with SIGKILL (which no program can catch) may leave one behind,
never a partial target; :func:`opr_analysis.safety.owned.clean_leftovers`
(called by the next run on that target) removes it. A write that fails because
the disk is full ends as :class:`~opr_analysis.safety.oserror.DiskFullError`
(«disken er full», naming the folder) once the temporary output is removed.

>>> import tempfile, pathlib
>>> base = pathlib.Path(tempfile.mkdtemp())
>>> with atomic_dir(base / "tabeller") as tmp:
...     _ = (tmp / "a.csv").write_text("n\\n1\\n")
>>> [p.name for p in base.iterdir()], (base / "tabeller" / "a.csv").read_text()
(['tabeller'], 'n\\n1\\n')
>>> try:
...     with atomic_dir(base / "tabeller") as tmp:
...         _ = (tmp / "a.csv").write_text("halvferdig")
...         raise RuntimeError("stopp")
... except RuntimeError:
...     pass
>>> [p.name for p in base.iterdir()], (base / "tabeller" / "a.csv").read_text()
(['tabeller'], 'n\\n1\\n')
>>> with atomic_file(base / "liste.csv") as tmp:
...     _ = tmp.write_text("x\\n")
>>> sorted(p.name for p in base.iterdir())
['liste.csv', 'tabeller']
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .oserror import disk_full, is_disk_full

__all__ = ["atomic_dir", "atomic_file", "replace_dir", "signals_deferred", "TMP_INFIX", "OLD_INFIX"]

TMP_INFIX = ".opr-tmp-"
OLD_INFIX = ".opr-old-"

_DEFERRED = {signal.SIGTERM, signal.SIGINT, signal.SIGHUP}


def _umask_mode(mode: int) -> int:
    umask = os.umask(0)
    os.umask(umask)
    return mode & ~umask


@contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold SIGTERM/SIGINT/SIGHUP until the block is done (a no-op off the main thread)."""
    try:
        old = signal.pthread_sigmask(signal.SIG_BLOCK, _DEFERRED)
    except (AttributeError, ValueError, OSError):  # not POSIX
        yield
        return
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def replace_dir(tmp: Path, target: Path) -> None:
    """Move a completed folder into place, replacing any earlier one.

    The two renames (old target aside, new folder in) run with termination
    signals held, so a SIGTERM cannot land between them; if the second rename
    fails the old folder is put back.
    """
    tmp, target = Path(tmp), Path(target)
    with signals_deferred():
        old = None
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}{OLD_INFIX}", dir=target.parent))
            os.rename(target, old / target.name)
        try:
            os.rename(tmp, target)
        except BaseException:
            if old is not None:
                os.rename(old / target.name, target)
                old.rmdir()
            raise
        if old is not None:  # still with signals held: a SIGTERM must not leave half of it
            shutil.rmtree(old, ignore_errors=True)


@contextmanager
def atomic_dir(target: str | os.PathLike, check: Callable[[Path], None] | None = None) -> Iterator[Path]:
    """A temporary folder beside ``target``; checked, then moved into place as a whole.

    ``check(tmp)`` runs after the block and may raise to stop the move (see
    :func:`opr_analysis.safety.privacy.scanned_output`). On any exception the
    temporary folder is removed and ``target`` is left untouched.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}{TMP_INFIX}", dir=target.parent))
    try:
        tmp.chmod(_umask_mode(0o777))  # mkdtemp makes 0700; the output gets the usual mode
        yield tmp
        if check is not None:
            check(tmp)
        replace_dir(tmp, target)
    except BaseException as exc:
        with signals_deferred():
            shutil.rmtree(tmp, ignore_errors=True)
        if is_disk_full(exc):
            raise disk_full(target.parent.resolve(), exc) from exc
        raise


@contextmanager
def atomic_file(path: str | os.PathLike) -> Iterator[Path]:
    """A temporary file path in ``path``'s folder, moved to ``path`` when the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}{TMP_INFIX}", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        tmp.chmod(_umask_mode(0o666))
        yield tmp
        os.replace(tmp, path)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if is_disk_full(exc):
            raise disk_full(path.parent.resolve(), exc) from exc
        raise
