"""The benchmark harness (bench/run.py): repeats interleave, targets are judged on the numbers given."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench" / "run.py"


def _bench():
    spec = importlib.util.spec_from_file_location("bench_run", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_rounds_interleave_steps_and_keep_each_steps_runs(tmp_path):
    bench = _bench()
    log = tmp_path / "bench.log"
    commands = {name: [sys.executable, "-c", f"print('{name}')"] for name in ("synth", "tables", "duckdb_floor")}
    measured = bench.rounds(commands, repeats=2, log=log)
    assert {k: len(v) for k, v in measured.items()} == {"synth": 2, "tables": 2, "duckdb_floor": 2}
    assert all(
        run["rc"] == 0 and run["wall_s"] >= 0 and run["peak_mb"] > 0 for runs in measured.values() for run in runs
    )
    printed = [line for line in log.read_text().splitlines() if not line.startswith("$")]
    assert printed == ["synth", "tables", "duckdb_floor", "synth", "tables", "duckdb_floor"]


def test_targets_are_judged_on_medians_and_unmeasured_ones_say_so():
    bench = _bench()

    def step(wall, peak=100.0):
        return {"wall_s": {"median": wall}, "cpu_s": {"median": wall}, "peak_mb": {"median": peak}}

    results = {
        "1": {"tables": step(1.4), "validate": step(1.2), "duckdb_floor": step(0.5)},
        "10": {"tables": step(3.0), "duckdb_floor": step(1.0)},
        "100": {"tables": step(9.0, peak=1100.0), "duckdb_floor": step(3.1)},
    }
    d = bench.derived(results, [1.0, 10.0, 100.0])
    t = d["targets"]
    assert d["tables_over_duckdb_floor"]["100"] == 2.9
    assert t["tables_over_floor_at_100"]["met"] is True
    assert t["tables_peak_mb_at_100"] == {"target": 1024.0, "measured": 1100.0, "met": False}
    assert t["tables_wall_s_at_1"]["met"] is True and t["validate_wall_s_at_1"]["met"] is False
    assert t["growth_10_to_100"]["measured"] == 3.0
    assert bench.derived({"1": {"tables": step(1.0)}}, [1.0])["targets"]["tables_over_floor_at_100"]["met"] is None
