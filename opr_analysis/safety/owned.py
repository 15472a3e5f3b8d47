"""Owned outputs: ``opr`` replaces only what it wrote itself, one writer at a time.

Rules (every writing command goes through :func:`owned_dir` or :func:`owned_file`):

1. **Ownership.** A folder target is replaced only when it is absent, empty,
   or holds the marker file :data:`MARKER` written by the same ``opr``
   command, and nothing but the entries that marker lists (so a file a user
   put into an output folder, or another command's output nested in it, stops
   the run). A file target is replaced only when it is absent, empty, or
   starts with the line the command writes first (its *signature*: the CSV
   header, the Markdown title). A regular file given as a folder, a folder
   given as a file and a symbolic link are refused.
2. **Protected folders.** Whatever the marker, a target may never be, or lie
   above, the extract folder, the key store, the working folder, the home
   folder or the repository root (:func:`protected_folders`).
3. **One writer at a time.** A ``filelock`` lock per target (in a private
   per-user folder, so output folders are not littered with lock files): a
   second run waits up to ``$OPR_LOCK_TIMEOUT`` seconds (default 300) and then
   refuses. The lock is re-entrant within one thread, so a command that must
   read the earlier output and write the new one as one step (``opr
   experiment allocate``) holds :func:`output_lock` around both and the writer
   takes it again inside. Locks are per machine and user: two users or two machines writing
   one shared folder are not serialised (each swap is still atomic).
4. **Leftovers.** Temporary outputs are named ``.<name>.opr-tmp-…`` and the
   folder being replaced is moved to ``.<name>.opr-old-…`` for the instant of
   the swap (:mod:`.atomic`). Only SIGKILL can leave either behind; the next
   run on the same target, holding its lock, removes them, and puts the old
   folder back if the kill fell between the two renames of the swap.

Every refusal is a :class:`~opr_analysis.errors.UsageError` (exit status 2)
with one Norwegian sentence naming the target and what is in the way, raised
before any work starts: commands call :func:`check_dir_target` or
:func:`check_file_target` first, and the writers check again under the lock.

>>> import tempfile, pathlib
>>> base = pathlib.Path(tempfile.mkdtemp())
>>> with owned_dir(base / "tabeller", "tables") as tmp:
...     _ = (tmp / "a.csv").write_text("n\\n1\\n")
>>> sorted(p.name for p in (base / "tabeller").iterdir())
['.opr-output', 'a.csv']
>>> _ = (base / "tabeller" / "notat.txt").write_text("mitt")
>>> check_dir_target(base / "tabeller", "tables")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
opr_analysis.errors.UsageError: mappen «...tabeller» inneholder noe opr ikke har skrevet der (notat.txt); flytt det eller velg en annen mappe
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import UsageError
from ..paths import default_key_store, is_repo_root, repo_root, source_checkout
from .atomic import OLD_INFIX, TMP_INFIX, atomic_dir, atomic_file, signals_deferred

__all__ = [
    "MARKER",
    "check_key_store",
    "check_dir_target",
    "check_file_target",
    "check_not_inside_outputs",
    "clean_leftovers",
    "output_lock",
    "owned_dir",
    "owned_file",
    "protected_folders",
    "write_marker",
]

MARKER = ".opr-output"
DEFAULT_LOCK_TIMEOUT = 300.0
_SHOWN = 5  # entries named in a refusal


# --- protected folders -----------------------------------------------------------------------


def protected_folders(extracts: Iterable[os.PathLike | str | None] = (), key_dirs=()) -> list[tuple[str, Path]]:
    """(description, folder) pairs no output may be or contain: the extract folders given,
    the key store (``key_dirs`` and the default one), the working folder, the home folder
    and the repository root."""
    out: list[tuple[str, Path]] = []
    for e in extracts:
        if e is not None:
            out.append(("uttrekksmappen", Path(e)))
    for k in key_dirs:
        if k is not None:
            out.append(("nøkkellageret", Path(k)))
    store = default_key_store()
    if store is not None:
        out.append(("nøkkellageret", store))
    out.append(("arbeidsmappen", Path.cwd()))
    out.append(("hjemmemappen", Path.home()))
    for root in {repo_root(), source_checkout()}:
        if root is not None and is_repo_root(root):
            out.append(("prosjektmappen (repository)", root))
    return out


def _check_protected(target: Path, protect: list[tuple[str, Path]]) -> None:
    t = target.resolve()
    folders = [(label, folder.expanduser().resolve()) for label, folder in protect]
    hits = [(0, label, f) for label, f in folders if t == f] + [(1, label, f) for label, f in folders if t in f.parents]
    if hits:
        above, label, f = hits[0]  # "is" before "lies above"
        where = "ligger over" if above else "er"
        raise UsageError(
            f"«{target}» {where} {label} ({f}); opr skriver aldri over den, velg en egen mappe for resultatet"
        )


def check_key_store(key_dir, extracts: Iterable[os.PathLike | str | None] = (), outputs=()) -> None:
    """Raise :class:`UsageError` unless ``key_dir`` (None: the default) can hold keys: a folder (or
    nothing yet) that is neither in an extract folder nor in an output, where a key would travel
    with data it protects."""
    if key_dir is None:
        return
    store = Path(key_dir)
    if store.exists() and not store.is_dir():
        raise UsageError(f"nøkkellageret «{store}» er en fil, ikke en mappe; oppgi en mappe (--key-dir)")
    _check_parent(store)
    here = store.resolve()
    # (An output that *is* the key store is refused by the protected-folder rule, with its own message.)
    for label, folder in [("uttrekksmappen", e) for e in extracts if e] + [("resultatmappen", o) for o in outputs if o]:
        f = Path(folder).resolve()
        if (here == f and label == "uttrekksmappen") or f in here.parents:
            raise UsageError(
                f"nøkkellageret «{store}» ligger i {label} ({f}); da følger nøklene med dataene. "
                "Velg en egen mappe bare du har tilgang til"
            )


# --- ownership -------------------------------------------------------------------------------


def _marker(folder: Path) -> dict | None:
    try:
        data = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("written_by") == "opr" else None


def _names(names: Iterable[str]) -> str:
    names = sorted(names)
    more = f" og {len(names) - _SHOWN} til" if len(names) > _SHOWN else ""
    return ", ".join(names[:_SHOWN]) + more


def _check_not_link(target: Path) -> None:
    if target.is_symlink():
        raise UsageError(f"«{target}» er en symbolsk lenke; oppgi mappen eller filen den peker på, eller en ny sti")


def _check_parent(target: Path) -> None:
    """The nearest existing folder above ``target`` must be a folder opr may write in."""
    for parent in target.absolute().parents:
        if not parent.exists():
            continue
        if not parent.is_dir():
            raise UsageError(f"«{target}» kan ikke lages: «{parent}» er en fil, ikke en mappe")
        if not os.access(parent, os.W_OK | os.X_OK):
            raise UsageError(f"«{target}» kan ikke lages: du har ikke skrivetilgang til mappen «{parent}»")
        return


def check_dir_target(target, command: str, protect: list[tuple[str, Path]] | None = None) -> Path:
    """Raise :class:`UsageError` unless ``opr <command>`` may replace the folder ``target``."""
    target = Path(target)
    _check_protected(target, protected_folders() if protect is None else protect)
    _check_not_link(target)
    _check_parent(target)
    if not target.exists():
        return target
    if not target.is_dir():
        raise UsageError(f"«{target}» er en fil, ikke en mappe; opr skriver ikke over den, oppgi en mappe")
    entries = {p.name for p in target.iterdir()}
    if not entries:
        return target
    marker = _marker(target)
    if marker is None:
        raise UsageError(
            f"mappen «{target}» finnes og er ikke skrevet av opr (inneholder {_names(entries)}); "
            "opr erstatter bare mapper den har skrevet selv, velg en ny eller tom mappe"
        )
    if marker.get("command") != command:
        raise UsageError(
            f"mappen «{target}» er skrevet av «opr {marker.get('command')}», ikke av «opr {command}»; "
            "velg en egen mappe for dette resultatet"
        )
    foreign = entries - set(marker.get("entries", [])) - {MARKER}
    if foreign:
        raise UsageError(
            f"mappen «{target}» inneholder noe opr ikke har skrevet der ({_names(foreign)}); "
            "flytt det eller velg en annen mappe"
        )
    return target


def check_file_target(target, signature: str, protect: list[tuple[str, Path]] | None = None) -> Path:
    """Raise :class:`UsageError` unless the file ``target`` is absent, empty or starts with ``signature``."""
    target = Path(target)
    _check_protected(target, protected_folders() if protect is None else protect)
    _check_not_link(target)
    _check_parent(target)
    if not target.exists():
        return target
    if target.is_dir():
        raise UsageError(f"«{target}» er en mappe, ikke en fil; oppgi et filnavn")
    with open(target, "rb") as fh:
        head = fh.read(len(signature.encode("utf-8")) + 2)
    if head and not head.decode("utf-8", "replace").lstrip("\ufeff").startswith(signature):
        raise UsageError(
            f"filen «{target}» finnes og er ikke skrevet av opr (første linje er en annen); "
            "opr skriver ikke over den, velg et annet filnavn"
        )
    return target


# --- locks and leftovers ---------------------------------------------------------------------


def _lock_dir() -> Path:
    folder = Path(os.environ.get("OPR_LOCK_DIR") or Path(tempfile.gettempdir()) / f"opr-locks-{os.getuid()}")
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def _lock_timeout() -> float:
    try:
        return max(0.0, float(os.environ.get("OPR_LOCK_TIMEOUT", DEFAULT_LOCK_TIMEOUT)))
    except ValueError:
        raise UsageError("OPR_LOCK_TIMEOUT må være et antall sekunder") from None


@contextmanager
def output_lock(target) -> Iterator[None]:
    """Hold the lock of ``target`` (a file lock keyed by its absolute path) for the block.

    Waits up to ``$OPR_LOCK_TIMEOUT`` seconds (default 300), saying so on
    stderr, then raises :class:`UsageError`.
    """
    import hashlib

    from filelock import FileLock, Timeout

    target = Path(target).resolve()
    key = hashlib.sha256(str(target).encode("utf-8")).hexdigest()[:32]
    lock = FileLock(_lock_dir() / f"{key}.lock", is_singleton=True)  # re-entrant per thread (module docstring)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        timeout = _lock_timeout()
        print(f"En annen opr-kjøring skriver til «{target}»; venter (inntil {timeout:g} s) …", file=sys.stderr)
        try:
            lock.acquire(timeout=timeout)
        except Timeout:
            raise UsageError(
                f"en annen opr-kjøring skriver fortsatt til «{target}» etter {timeout:g} s; "
                "prøv igjen når den er ferdig (eller sett OPR_LOCK_TIMEOUT)"
            ) from None
    try:
        yield
    finally:
        lock.release()


def clean_leftovers(target) -> list[Path]:
    """Remove what a killed run on ``target`` left beside it; call with the target's lock held.

    ``.<name>.opr-tmp-…`` (a temporary output) is removed. ``.<name>.opr-old-…``
    (the previous folder, moved aside for the swap) is moved back when the
    target is missing, else removed. Returns what was removed or restored.
    """
    target = Path(target)
    parent = target.parent
    if not parent.is_dir():
        return []
    done = []
    with signals_deferred():
        for p in sorted(parent.glob(f".{target.name}{OLD_INFIX}*")):
            inner = p / target.name
            if p.is_dir() and not p.is_symlink() and {c.name for c in p.iterdir()} <= {target.name}:
                if inner.exists() and not target.exists():
                    os.rename(inner, target)
                shutil.rmtree(p)
                done.append(p)
        for p in sorted(parent.glob(f".{target.name}{TMP_INFIX}*")):
            if p.is_symlink():
                continue
            if p.is_dir():
                shutil.rmtree(p)
            else:
                p.unlink()
            done.append(p)
    return done


# --- the writers -----------------------------------------------------------------------------


def write_marker(folder: Path, command: str) -> None:
    """Mark ``folder`` as written by ``opr <command>``, listing its entries (deterministic content)."""
    entries = sorted(p.name for p in folder.iterdir() if p.name != MARKER)
    body = {"written_by": "opr", "command": command, "entries": entries}
    (folder / MARKER).write_text(json.dumps(body, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


@contextmanager
def owned_dir(
    target,
    command: str,
    check: Callable[[Path], None] | None = None,
    protect: list[tuple[str, Path]] | None = None,
) -> Iterator[Path]:
    """A temporary folder that replaces ``target`` as a whole, if ``opr <command>`` may.

    Checks ownership (:func:`check_dir_target`), takes the target's lock,
    checks again, removes a killed run's leftovers, and yields the temporary
    folder of :func:`~opr_analysis.safety.atomic.atomic_dir`. After the block
    the marker is written (listing the folder's entries), ``check(tmp)`` runs
    (e.g. the privacy scan) and the folder is swapped in.
    """
    target = Path(target)
    protect = protected_folders() if protect is None else protect
    check_dir_target(target, command, protect)
    with output_lock(target):
        check_dir_target(target, command, protect)
        clean_leftovers(target)

        def finish(tmp: Path) -> None:
            write_marker(tmp, command)
            if check is not None:
                check(tmp)

        with atomic_dir(target, check=finish) as tmp:
            yield tmp


@contextmanager
def owned_file(
    target,
    signature: str,
    protect: list[tuple[str, Path]] | None = None,
    check: Callable[[Path], None] | None = None,
) -> Iterator[Path]:
    """A temporary file that replaces ``target``, if ``target`` is absent, empty or starts
    with ``signature`` (see :func:`check_file_target`); locked like :func:`owned_dir`.
    ``check(tmp)`` (e.g. the privacy scan) runs before the file is moved into place."""
    target = Path(target)
    protect = protected_folders() if protect is None else protect
    check_file_target(target, signature, protect)
    with output_lock(target):
        check_file_target(target, signature, protect)
        clean_leftovers(target)
        with atomic_file(target) as tmp:
            yield tmp
            if check is not None:
                check(tmp)


# --- outputs about individual patients (issues 26, 27, 28) ----------------------------------


def check_not_inside_outputs(target, command: str, protect: list[tuple[str, Path]] | None = None) -> Path:
    """Raise :class:`UsageError` when ``target`` lies inside another opr output folder (a report, a
    research delivery, tables, …) or inside one of the ``protect`` folders (the extract).

    For outputs that name patients by design (``opr innsyn``, ``opr sletting``, ``opr implantat søk``,
    ``opr pasient``): they must never end up in a folder that is published or delivered. A folder
    counts as an opr output when it or any folder above it holds the marker :data:`MARKER`; the
    target itself is checked by :func:`check_dir_target` (it may be this command's own earlier output).
    """
    target = Path(target)
    resolved = target.expanduser().resolve()
    for folder in resolved.parents:
        if (folder / MARKER).is_file():  # even an unreadable marker: the folder is someone's output
            marker = _marker(folder) or {}
            raise UsageError(
                f"«{target}» ligger inne i «{folder}», som «opr {marker.get('command', '?')}» har skrevet; "
                f"«opr {command}» skriver om enkeltpasienter og legger det aldri i en rapport-, tabell- eller "
                "leveransemappe. Velg en egen mappe utenfor den"
            )
    for label, folder in protect or []:
        folder = Path(folder).expanduser().resolve()
        if folder in resolved.parents:
            raise UsageError(f"«{target}» ligger i {label} ({folder}); velg en egen mappe for resultatet")
    return target
