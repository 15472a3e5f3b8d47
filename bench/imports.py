"""What each command imports, and what each import costs: ``python -X importtime`` of a real run.

For each command line below, one fresh process runs it with ``-X importtime``; the self time of
every module imported is summed by top-level package (``opr_analysis`` by subpackage), and the
process's own CPU time is measured alongside (``os.wait4``); of the repeats, the run with the median
total import time is shown. Prints a Markdown table per command
(the bench README quotes it) and, with ``--json``, writes the numbers.

Import times are wall times of the import statements in a process that does nothing else at that
moment; on a shared machine they stretch with the load, so read them beside the CPU column and
compare packages within one run.

Usage::

    python bench/imports.py EXTRACT_DIR [--repeats 3] [--json imports.json]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AS_OF = "2025-12-31"


def commands(extract: str, out: Path) -> dict[str, tuple[list[str], dict]]:
    """name -> (command line after ``python -X importtime -m opr_analysis``, environment changes)."""
    cold = {"OPR_CACHE": "0"}
    cached = {"OPR_CACHE_DIR": str(out / "cache")}
    return {
        "opr --help": (["--help"], cold),
        "opr validate (cold)": (["validate", extract], cold),
        "opr followups (cold)": (["followups", extract, "--out", str(out / "f.csv"), "--as-of", AS_OF], cold),
        "opr followups (cache)": (["followups", extract, "--out", str(out / "f.csv"), "--as-of", AS_OF], cached),
        "opr tables (cold)": (["tables", extract, "--out", str(out / "t"), "--as-of", AS_OF], cold),
        "opr tables (cache)": (["tables", extract, "--out", str(out / "t"), "--as-of", AS_OF], cached),
    }


def run(args: list[str], env: dict) -> tuple[dict[str, float], float]:
    """Seconds of import self time by package, and the process's CPU seconds."""
    full = {**os.environ, **env}
    if "OPR_CACHE_DIR" in env:
        full.pop("OPR_CACHE", None)
    proc = subprocess.Popen(
        [sys.executable, "-X", "importtime", "-m", "opr_analysis", *args],
        cwd=ROOT,
        env=full,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"failed: {args}\n{err[-2000:]}")
    return by_package(err), usage.ru_utime + usage.ru_stime


def by_package(importtime: str) -> dict[str, float]:
    """Self time (s) per top-level package from ``-X importtime`` output; opr_analysis by subpackage."""
    out: collections.Counter = collections.Counter()
    for line in importtime.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _, name = line.split(":", 1)[1].split("|")
        parts = name.strip().split(".")
        key = ".".join(parts[:2]) if parts[0] == "opr_analysis" and len(parts) > 1 else parts[0]
        out[key] += int(self_us) / 1e6
    return dict(out)


def table(name: str, runs: list[tuple[dict, float]], shown: int = 12) -> str:
    """One Markdown row: the run with the median total import time, its packages largest first."""
    times, _ = sorted(runs, key=lambda r: sum(r[0].values()))[len(runs) // 2]
    cpu = statistics.median(c for _, c in runs)
    top = collections.Counter(times).most_common(shown)
    rest = sum(times.values()) - sum(v for _, v in top)
    cells = ", ".join(f"{k} {v:.2f}" for k, v in top) + f", other {rest:.2f}"
    return f"| {name} | {cpu:.2f} s | {sum(times.values()):.2f} s | {cells} |"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("extract")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="opr-imports-") as scratch:
        out = Path(scratch)
        todo = commands(str(Path(args.extract).resolve()), out)
        run(*todo["opr tables (cache)"])  # fills the cache for the cached runs
        results = {name: [] for name in todo}
        for _ in range(args.repeats):  # round by round, as bench/run.py does
            for name, (cmd, env) in todo.items():
                results[name].append(run(cmd, env))
    print("| command | CPU (whole run) | imports | by package (s, self time, median) |")
    print("|---|---:|---:|---|")
    for name, runs in results.items():
        print(table(name, runs))
    if args.json:
        args.json.write_text(json.dumps({k: [{"imports": t, "cpu_s": c} for t, c in v] for k, v in results.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
