"""The benchmark's floor (bench/duckdb_reference.py, hand-written DuckDB SQL) gives the same
numbers as ``opr tables`` (report_tables) on a small synthetic extract, in both CSV dialects
``opr synth`` writes (iso; norsk: semicolons, BOM, Norwegian dates, ja/nei, CRLF)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from opr_analysis import CONTRACT_COLUMNS, load_extract, report_tables, write_synthetic

pytest.importorskip("duckdb")

AS_OF = "2024-06-30"  # inside the data, so some follow-ups are not yet due
SHARES = {
    "rejected_share",
    "share",
    "response_share",
    "response_share_owed",
    "min_ms",
    "q1_ms",
    "median_ms",
    "q3_ms",
    "max_ms",
}


def _reference_module():
    path = Path(__file__).resolve().parents[1] / "bench" / "duckdb_reference.py"
    spec = importlib.util.spec_from_file_location("duckdb_reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module", params=["iso", "norsk"])
def both(request, tmp_path_factory):
    folder = write_synthetic(
        tmp_path_factory.mktemp("ref") / "extract", scale=0.2, seed=7, generators=[], dialect=request.param
    )
    ours = report_tables(load_extract(folder), as_of=pd.Timestamp(AS_OF))
    theirs = _reference_module().reference_tables(folder, AS_OF)
    return ours, theirs


@pytest.mark.parametrize("name", list(CONTRACT_COLUMNS))
def test_reference_equals_opr_tables(both, name):
    ours, theirs = both
    cols = CONTRACT_COLUMNS[name]
    a = ours[name][cols].reset_index(drop=True)
    b = theirs[name][cols].reset_index(drop=True)
    assert len(a) == len(b) > 0
    for col in cols:
        x, y = a[col], b[col]
        if col in SHARES:
            x = pd.to_numeric(x).astype("float64").to_numpy()
            y = pd.to_numeric(y).astype("float64").to_numpy()
            np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-12, equal_nan=True, err_msg=f"{name}.{col}")
        else:
            assert x.astype(object).where(x.notna(), None).tolist() == [
                (int(v) if isinstance(v, (int, np.integer, float)) and col != "period" else v)
                for v in y.astype(object).where(y.notna(), None).tolist()
            ], f"{name}.{col}"


def test_followup_rule_is_exercised(both):
    """The small extract has owed, sent, not-sent, sent-not-owed and not-yet-due follow-ups."""
    ours, theirs = both
    f = theirs["followup_response"]
    assert f["owed"].sum() > 0 and f["not_sent"].sum() > 0 and f["sent_not_owed"].sum() > 0
    assert f["year"].max() >= 2024 and f["sent_owed"].sum() < f["owed"].sum()
