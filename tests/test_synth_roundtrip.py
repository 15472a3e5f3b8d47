"""Round trip: synthetic extract -> opr validate -> load_extract with exact row counts."""

import importlib.util

import pandas as pd
import pytest

from opr_analysis import load_extract
from opr_analysis.cli import main

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("opr_analysis.synth.registry") is None,
    reason="opr_analysis.synth.registry (write_synthetic) is on another branch; runs once merged",
)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_synthetic_extract_round_trip(tmp_path, capsys, fmt):
    from opr_analysis.synth.registry import write_synthetic

    folder = write_synthetic(tmp_path / "syn", seed=2024, scale=1.0, years=(2020, 2025), fmt=fmt)
    status = main(["validate", str(folder), "--quarantine", str(tmp_path / "q")])
    out = capsys.readouterr().out
    assert status == 0 and "Ingen rader i karantene" in out
    reg = load_extract(folder)
    for path in sorted(folder.glob(f"*.{fmt}")):  # the table files (not opr's ownership marker)
        table = path.stem
        written = pd.read_csv(path, dtype=str, keep_default_na=False) if fmt == "csv" else pd.read_parquet(path)
        s = reg.report.summaries[table]
        # rows of patients erased at their own request (contract v1.2) are read and left out
        assert (s.rows_read, s.rows_used + s.rows_erased, s.rows_quarantined) == (len(written), len(written), 0), table
        id_col = reg.tables[table].columns[0]
        kept = written[id_col].astype(str)
        if table in reg.report.erasure.removed:
            kept = kept[~kept.isin(set(reg.report.erasure.removed[table][id_col].astype(str)))]
        assert reg.tables[table][id_col].astype(str).tolist() == kept.tolist(), table
