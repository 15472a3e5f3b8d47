"""Computing and writing the published tables listed in :mod:`.table_registry`.

File names and leading columns of the seven contract tables are binding (data
contract, "Machine-readable report tables"); extra columns (confidence limits,
H:M:S, denominators) follow the named ones. CSV: UTF-8, ``,``, ``.`` decimal
mark, blank for undefined values (0/0).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..safety.owned import owned_dir, protected_folders
from ..safety.privacy import scan_outputs
from .table_registry import TABLES, get

# The contract's column lists, in order (from the table registry).
CONTRACT_COLUMNS: dict[str, list[str]] = {t.name: list(t.contract) for t in TABLES if t.contract}


def compute_tables(reg, as_of=None, names=None) -> dict[str, pd.DataFrame]:
    """Every registered table (or those in ``names``), keyed by CSV name without ``.csv``, in registry order.

    This is the report notebook's data: what the report shows is what ``opr tables`` writes.
    """
    wanted = None if names is None else set(names)
    out: dict[str, pd.DataFrame] = {}
    for table in TABLES:
        if wanted is not None and table.name not in wanted:
            continue
        func = table.resolve()
        if table.source is not None:
            source = (
                out[table.source] if table.source in out else compute_tables(reg, as_of, [table.source])[table.source]
            )
            out[table.name] = func(source)
        elif table.as_of:
            out[table.name] = func(reg, as_of=as_of)
        else:
            out[table.name] = func(reg)
    return out


def tables_read(names=None) -> frozenset[str]:
    """The extract tables the registered tables (or those in ``names``) read: the union of their statistics'
    declarations (:mod:`opr_analysis.extract.needs`); a table computed from another reads what that one reads."""
    from ..extract.needs import tables_read_by

    wanted = None if names is None else set(names)
    funcs = [
        (get(t.source) if t.source is not None else t).resolve() for t in TABLES if wanted is None or t.name in wanted
    ]
    return tables_read_by(*funcs)


def report_tables(reg, as_of=None) -> dict[str, pd.DataFrame]:
    """The seven contract tables, keyed by CSV name without ``.csv``."""
    return compute_tables(reg, as_of, [t.name for t in TABLES if t.contract])


def extra_tables(reg, as_of=None) -> dict[str, pd.DataFrame]:
    """The registered tables beyond the contract (patient-level baseline rate, trend tests, data quality, …)."""
    return {name: frame for name, frame in compute_tables(reg, as_of).items() if name not in CONTRACT_COLUMNS}


def check_contract_columns(name: str, frame: pd.DataFrame) -> None:
    """Raise AssertionError unless ``frame`` starts with the contract's columns for ``name``."""
    want = CONTRACT_COLUMNS[name]
    got = list(frame.columns[: len(want)])
    if got != want:
        raise AssertionError(f"{name}: columns {got} != contract {want}")


def published_tables(reg, as_of=None, extras: bool = True) -> dict[str, pd.DataFrame]:
    """Every table ``opr tables`` writes (name -> frame), in registry order, contract columns checked.

    The report's Excel workbook uses it too, so the workbook and the CSV files cannot disagree.
    """
    names = None if extras else [t.name for t in TABLES if t.contract]
    tables = compute_tables(reg, as_of, names)
    for name, frame in tables.items():
        if name in CONTRACT_COLUMNS:
            check_contract_columns(name, frame)
    return tables


def write_tables(reg, out_dir, as_of=None, extras: bool = True) -> list[Path]:
    """Write the contract tables (and, with ``extras``, every other registered table) as CSV into ``out_dir``.

    The folder is written to a temporary folder and moved into place as a whole,
    and only if ``opr tables`` wrote it (:mod:`opr_analysis.safety.owned`).
    """
    out_dir = Path(out_dir)
    tables = published_tables(reg, as_of, extras)
    protect = protected_folders([getattr(reg, "path", None)])
    # scanned for identity numbers before it is moved into place
    with owned_dir(out_dir, "tables", check=scan_outputs, protect=protect) as tmp:
        for name, frame in tables.items():
            frame.to_csv(tmp / f"{name}.csv", index=False, encoding="utf-8", na_rep="")
    return [out_dir / f"{name}.csv" for name in tables]
