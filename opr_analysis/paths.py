"""Where things live: the project folder, an extract given by a relative path, the key store.

This module is at the bottom of the house: it imports nothing from the package, so every other
module may use it (``tests/test_import_graph.py`` keeps it so). Loading an extract is the
reader's (:func:`opr_analysis.extract.reader.open_extract` resolves its path here).

Notebooks take an extract path relative to the **repository root** (default
``"data/synthetic"``). :func:`resolve_extract` makes that path work both when
a notebook runs in JupyterLab (working directory ``notebooks/``) and when
papermill or a script runs it from the repository root:

1. an absolute path is used as it is;
2. a relative path that exists from the working directory is used as it is;
3. otherwise it is taken relative to :func:`repo_root`.

The key store of research deliveries (:func:`default_key_store`) is ``$OPR_KEY_DIR``, else
``keys/`` of the source checkout the package runs from; the delivery log lies next to it.

>>> resolve_extract("/tmp").as_posix()
'/tmp'
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["default_key_store", "is_repo_root", "repo_root", "resolve_extract", "source_checkout"]


def is_repo_root(folder: Path) -> bool:
    """Whether ``folder`` is a checkout of this project (``pyproject.toml`` and ``opr_analysis/``)."""
    return (folder / "pyproject.toml").is_file() and (folder / "opr_analysis").is_dir()


def source_checkout() -> Path | None:
    """The checkout the package is imported from (the folder above it), or None for an installed copy."""
    root = Path(__file__).resolve().parents[1]
    return root if is_repo_root(root) else None


def repo_root(start: str | os.PathLike | None = None) -> Path:
    """The nearest folder at or above ``start`` (default: the working directory) holding
    ``pyproject.toml`` and ``opr_analysis/``; failing that, the folder above the
    imported package if it is such a root; failing that, ``start`` itself.

    >>> (repo_root() / "opr_analysis").is_dir()
    True
    """
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if is_repo_root(folder):
            return folder
    return source_checkout() or here


def resolve_extract(path: str | os.PathLike) -> Path:
    """An extract folder given absolute, relative to the working directory, or relative
    to the repository root (module docstring). Does not check that it exists."""
    p = Path(path).expanduser()
    if p.is_absolute() or p.exists():
        return p
    return repo_root() / p


def default_key_store() -> Path | None:
    """``$OPR_KEY_DIR``, else ``keys/`` of the source checkout, else None (an installed package
    without ``OPR_KEY_DIR`` has no default key store).

    Research deliveries keep their keys here, and no command may write over it
    (:mod:`opr_analysis.safety.owned`).
    """
    if os.environ.get("OPR_KEY_DIR"):
        return Path(os.environ["OPR_KEY_DIR"])
    root = source_checkout()
    return root / "keys" if root is not None else None
