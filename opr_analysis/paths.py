"""Where the project lives, so notebooks find ``data/`` from anywhere.

Notebooks take an extract path relative to the **repository root** (default
``"data/synthetic"``). :func:`resolve_extract` makes that path work both when
a notebook runs in JupyterLab (working directory ``notebooks/``) and when
papermill or a script runs it from the repository root:

1. an absolute path is used as it is;
2. a relative path that exists from the working directory is used as it is;
3. otherwise it is taken relative to :func:`repo_root`.

>>> resolve_extract("/tmp").as_posix()
'/tmp'
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import UsageError

__all__ = ["repo_root", "resolve_extract", "open_extract"]


def _is_root(folder: Path) -> bool:
    return (folder / "pyproject.toml").is_file() and (folder / "opr_analysis").is_dir()


def repo_root(start: str | os.PathLike | None = None) -> Path:
    """The nearest folder at or above ``start`` (default: the working directory) holding
    ``pyproject.toml`` and ``opr_analysis/``; failing that, the folder above the
    imported package if it is such a root; failing that, ``start`` itself.

    >>> (repo_root() / "opr_analysis").is_dir()
    True
    """
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if _is_root(folder):
            return folder
    package_parent = Path(__file__).resolve().parents[1]
    return package_parent if _is_root(package_parent) else here


def resolve_extract(path: str | os.PathLike) -> Path:
    """An extract folder given absolute, relative to the working directory, or relative
    to the repository root (module docstring). Does not check that it exists."""
    p = Path(path).expanduser()
    if p.is_absolute() or p.exists():
        return p
    return repo_root() / p


def open_extract(path: str | os.PathLike = "data/synthetic"):
    """Load the extract at ``path`` (resolved by :func:`resolve_extract`) with
    :func:`~opr_analysis.load_extract`; a clear error if it is not there."""
    from .extract.reader import load_extract

    folder = resolve_extract(path)
    if not folder.is_dir():
        raise UsageError(
            f"Fant ikke uttrekket {folder}. Skriv det syntetiske registeret med «make data» "
            f"(eller «opr synth --out data/synthetic») i prosjektmappen, eller oppgi en annen sti."
        )
    return load_extract(folder)
