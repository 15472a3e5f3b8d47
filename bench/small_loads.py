"""Cold loads of small extracts: what the test suite and every command pay per ``load_extract``.

The test suite loads tiny extracts about a thousand times (cache off); on them the cost is the
reader's fixed per-table overhead, not rows. Times N cold loads (``cache=False``) of each of:
the hand-made base extract of ``tests/helpers.write_base_extract``, and the synthetic extract at
scale 0.05 (seed 2024, years 2020-2025, CSV) in both dialects, as ``tests/test_broken_corpus.py``
builds it. Reports the median wall and CPU seconds per load (CPU: this process, all threads;
the files are read in a background thread), and the least CPU of any load: on a shared machine
the least disturbed load compares versions best.

    .venv/bin/python bench/small_loads.py [--loads 20] [--profile base]

Not a test: numbers depend on the machine's load.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def extracts(root: Path) -> dict[str, Path]:
    sys.path.insert(0, str(ROOT / "tests"))
    from helpers import write_base_extract

    from opr_analysis.synth.registry import write_synthetic

    out = {"base": write_base_extract(root, name="base")}
    for dialect in ("iso", "norsk"):
        out[f"synth-{dialect}"] = write_synthetic(
            root / f"synth-{dialect}", seed=2024, scale=0.05, years=(2020, 2025), fmt="csv", dialect=dialect
        )
    return out


def time_loads(folder: Path, loads: int) -> tuple[float, float, float]:
    from opr_analysis import load_extract

    load_extract(folder, cache=False)  # warm: imports, codebook, pandera schemas
    wall, cpu = [], []
    for _ in range(loads):
        w, c = time.perf_counter(), time.process_time()
        load_extract(folder, cache=False)
        wall.append(time.perf_counter() - w)
        cpu.append(time.process_time() - c)
    return statistics.median(wall), statistics.median(cpu), min(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=20, help="timed loads per extract (default 20)")
    parser.add_argument("--profile", choices=("base", "synth-iso", "synth-norsk"), help="cProfile one extract")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folders = extracts(Path(tmp))
        if args.profile:
            import cProfile
            import pstats

            from opr_analysis import load_extract

            load_extract(folders[args.profile], cache=False)
            prof = cProfile.Profile()
            prof.enable()
            for _ in range(args.loads):
                load_extract(folders[args.profile], cache=False)
            prof.disable()
            pstats.Stats(prof).sort_stats("cumulative").print_stats(45)
            return
        print(f"{'extract':<12} {'wall s/load':>12} {'CPU s/load':>12} {'least CPU':>10}  (median of {args.loads})")
        for name, folder in folders.items():
            wall, cpu, least = time_loads(folder, args.loads)
            print(f"{name:<12} {wall:>12.4f} {cpu:>12.4f} {least:>10.4f}")


if __name__ == "__main__":
    main()
