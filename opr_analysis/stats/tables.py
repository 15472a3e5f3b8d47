"""The contract's machine-readable report tables: :func:`report_tables`, :func:`write_tables`.

File names and leading columns are binding (data contract, "Machine-readable
report tables"); extra columns (confidence limits, H:M:S, denominators) follow
the named ones. Quality tables are written as extra ``quality_*.csv`` files.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..safety.atomic import atomic_dir
from .baseline import baseline_response, baseline_response_patient_level, legacy_baseline_response
from .completion import completion_time
from .followup import followup_response, followup_totals
from .quality import quality_tables
from .referrals import referrals_assessed, referrals_by_region
from .short_forms import short_form_reasons
from .trends import trend_tests

# The contract's column lists, in order.
CONTRACT_COLUMNS: dict[str, list[str]] = {
    "referrals_assessed": ["year", "assessed", "rejected", "rejected_share"],
    "referrals_by_region": ["year", "decision", "region", "n", "share"],
    "baseline_response": ["year", "enrolments", "baseline_responses", "response_share"],
    "legacy_baseline_response": ["year", "baseline_responses", "new_patients", "response_share"],
    "completion_time": ["period", "n", "min_ms", "q1_ms", "median_ms", "q3_ms", "max_ms"],
    "short_form_reasons": ["year", "reason", "n"],
    "followup_response": [
        "year", "kind", "owed", "sent", "sent_owed", "not_sent", "sent_not_owed", "responded", "response_share",
    ],
}  # fmt: skip


def report_tables(reg, as_of=None) -> dict[str, pd.DataFrame]:
    """The seven contract tables, keyed by CSV name without ``.csv``."""
    return {
        "referrals_assessed": referrals_assessed(reg),
        "referrals_by_region": referrals_by_region(reg),
        "baseline_response": baseline_response(reg),
        "legacy_baseline_response": legacy_baseline_response(reg),
        "completion_time": completion_time(reg),
        "short_form_reasons": short_form_reasons(reg),
        "followup_response": followup_response(reg, as_of=as_of),
    }


def extra_tables(reg) -> dict[str, pd.DataFrame]:
    """Tables beyond the contract: patient-level baseline rate, trend tests, data quality."""
    return {
        "baseline_response_patient_level": baseline_response_patient_level(reg),
        "trend_tests": trend_tests(reg),
        **quality_tables(reg),
    }


def check_contract_columns(name: str, frame: pd.DataFrame) -> None:
    """Raise AssertionError unless ``frame`` starts with the contract's columns for ``name``."""
    want = CONTRACT_COLUMNS[name]
    got = list(frame.columns[: len(want)])
    if got != want:
        raise AssertionError(f"{name}: columns {got} != contract {want}")


def published_tables(reg, as_of=None, extras: bool = True) -> dict[str, pd.DataFrame]:
    """Every table ``opr tables`` writes (name -> frame), in its order; the Excel workbook uses it too."""
    tables = report_tables(reg, as_of=as_of)
    for name, frame in tables.items():
        check_contract_columns(name, frame)
    if extras:
        tables["followup_response_totals"] = followup_totals(tables["followup_response"])
        tables.update(extra_tables(reg))
    return tables


def write_tables(reg, out_dir, as_of=None, extras: bool = True) -> list[Path]:
    """Write the contract tables (and, with ``extras``, the extra tables) as CSV into ``out_dir``.

    The folder is written to a temporary folder and moved into place as a
    whole. CSV: UTF-8, ``,``, ``.`` decimal mark, blank for undefined values.
    """
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tables = published_tables(reg, as_of=as_of, extras=extras)
    with atomic_dir(out_dir) as tmp:
        for name, frame in tables.items():
            frame.to_csv(tmp / f"{name}.csv", index=False, encoding="utf-8", na_rep="")
    return [out_dir / f"{name}.csv" for name in tables]
