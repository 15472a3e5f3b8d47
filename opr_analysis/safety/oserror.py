"""What the operating system refused, in Norwegian: a full disk above all.

A write that fails because the disk (or the user's quota) is full raises
:class:`DiskFullError` (exit status 1) with one sentence naming the folder,
«disken er full», from the writers of :mod:`.atomic`, which have already
removed their temporary output so nothing is left behind and the earlier
output is untouched. Any other :class:`OSError` that reaches the command line
(a folder without write access, a read-only file system) is described by
:func:`describe`: the file, and what went wrong in plain words, never
«uventet feil».

>>> import errno
>>> describe(OSError(errno.ENOSPC, "No space left on device", "/data/ut/a.csv"))
'disken er full: kunne ikke skrive «/data/ut/a.csv» (i mappen «/data/ut»); frigjør plass og kjør igjen'
"""

from __future__ import annotations

import errno
from pathlib import Path

from ..errors import OprError

__all__ = ["DiskFullError", "describe", "disk_full", "is_disk_full"]

_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC), errno.EFBIG}
_PLAIN = {
    errno.EACCES: "du har ikke tilgang",
    errno.EPERM: "operasjonen er ikke tillatt",
    errno.EROFS: "filsystemet er skrivebeskyttet",
    errno.ENOENT: "finnes ikke",
    errno.ENOTDIR: "en del av stien er ikke en mappe",
    errno.EISDIR: "er en mappe",
    errno.ENAMETOOLONG: "navnet er for langt",
    errno.EMFILE: "for mange åpne filer",
    errno.EIO: "lese- eller skrivefeil på disken",
    errno.EXDEV: "kan ikke flyttes mellom to filsystemer",
}


class DiskFullError(OprError):
    """The disk or the quota is full; nothing was left behind (exit status 1)."""


def _chain(exc: BaseException):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def is_disk_full(exc: BaseException) -> bool:
    """True when ``exc`` (or what caused it) is the disk or the quota being full."""
    return any(isinstance(e, OSError) and e.errno in _FULL for e in _chain(exc))


def disk_full(folder, exc: BaseException | None = None) -> DiskFullError:
    """The error for a full disk while writing into ``folder``."""
    what = "diskkvoten er brukt opp" if exc is not None and _errno(exc) == getattr(errno, "EDQUOT", None) else ""
    text = (
        f"disken er full{f' ({what})' if what else ''}: kunne ikke skrive i mappen «{folder}»; ingenting er lagt igjen"
    )
    return DiskFullError(text + ", og det som lå der fra før, er urørt. Frigjør plass og kjør igjen")


def _errno(exc: BaseException) -> int | None:
    return next((e.errno for e in _chain(exc) if isinstance(e, OSError) and e.errno in _FULL), None)


def describe(exc: OSError) -> str:
    """One Norwegian sentence for an :class:`OSError` (see the module docstring)."""
    name = exc.filename if exc.filename is not None else ""
    where = f"«{name}»" if name else "en fil"
    if exc.errno in _FULL:
        folder = f" (i mappen «{Path(name).parent}»)" if name else ""
        return f"disken er full: kunne ikke skrive {where}{folder}; frigjør plass og kjør igjen"
    plain = _PLAIN.get(exc.errno, exc.strerror or type(exc).__name__)
    return f"filsystemet avviste {where}: {plain}"
