"""Statistics: one function per published table, each a tidy DataFrame, plus their building blocks.

Registry statistics (:mod:`.referrals`, :mod:`.baseline`, :mod:`.completion`,
:mod:`.short_forms`, :mod:`.followup`, :mod:`.quality`, :mod:`.trends`, :mod:`.waiting`) and
questionnaire statistics (:mod:`.linking`, :mod:`.scoring`, :mod:`.proms`,
:mod:`.models`). The published tables are listed once, in
:mod:`.table_registry`; the public names here are derived from it and imported
on first use.

>>> from opr_analysis import stats
>>> "referrals_assessed" in stats.__all__
True
"""

from __future__ import annotations

import importlib

from .table_registry import Table, public_names


def __getattr__(name: str):
    target = public_names().get(name)
    if target is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if isinstance(target, Table):
        return target.resolve()
    return getattr(importlib.import_module(f".{target}", __name__), name)


def __dir__() -> list[str]:
    return sorted({*globals(), *public_names()})


__all__ = sorted(public_names())
