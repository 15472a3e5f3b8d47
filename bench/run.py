"""Performance benchmark of opr-analysis, from registry size to national size.

Each step runs in its own fresh process (``python -m opr_analysis ...``) and is
measured by this script with ``os.wait4``: wall time, CPU time (user + system)
and peak resident memory (``ru_maxrss`` of that process tree's largest process;
a notebook kernel started by the step counts as one of its processes). Nothing
else is timed, so each measurement is of that step only. The repeats run round by round (every
step once, then again), so load from other users hits ``opr tables`` and the floor alike.

Steps, per CSV dialect (``opr synth --dialect``: ``iso`` and ``norsk``, the shape the registry's
systems export: ``;``, BOM, ``31.12.2023 14:05:09``, ``ja``/``nei``, CRLF) and per scale of the
synthetic registry (``opr synth --scale``); the floor runs on the same files in the same run:

===================  ============================================================
``startup``          ``opr --help`` (import cost every command pays)
``synth``            ``opr synth --no-answers`` (writes the extract the others read)
``validate``         ``opr validate`` (read, type and check the extract)
``tables``           ``opr tables`` (validate + all report tables incl. extras)
``followups``        ``opr followups`` (the row-level follow-up audit)
``duckdb_floor``     ``bench/duckdb_reference.py`` (the seven tables by hand-written SQL)
``tables_answers``   ``opr tables`` on an extract that also holds the questionnaire
                     answers (scales up to 10: at 100 they are ~40 M rows)
``report``           ``opr report --formats html`` (scales up to 10; skipped until merged)
``extract``          ``opr extract`` of the first example spec (scales up to 10)
``recall``           ``opr implantat søk``: the recall list of one model of one
                     manufacturer (thousands of carriers at scale 100), CSV and
                     Excel (issue 27: it must answer in seconds at national size)
===================  ============================================================

The benchmark extract holds every table ``opr tables`` uses and no
questionnaire answers (optional in the contract, unused by the report tables);
``tables_answers`` shows what reading them adds.

Usage::

    python bench/run.py                      # both dialects, scales 1,10,100, 3 runs each
    python bench/run.py --quick              # both dialects, scales 1,10, 1 run each
    python bench/run.py --scales 1,10 --repeats 5 --dialects norsk
    python bench/run.py --steps validate,tables,duckdb_floor   # the steps the targets are about

Writes ``bench/results.json`` (every run; per dialect the ratios ``opr tables`` / floor and
the targets of issue 15 with measured values), ``bench/scaling.png`` and the table between the
``bench`` markers in the Performance section of ``docs/architecture.md``; generated data goes to ``bench/runs/``
(git-ignored).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
AS_OF = "2025-12-31"
OPR = [sys.executable, "-m", "opr_analysis"]
# step -> largest scale it runs at. A national-size research extract is dominated by openpyxl
# writing its Excel files (minutes), which says nothing about this code.
SMALL_ONLY = {"report": 10, "tables_answers": 10, "extract": 10, "synth_units": 10, "tables_units": 10,
              "indicators_units": 10}  # fmt: skip
UNITS = 5  # units in the multi-unit extract (issue 16)


def measure(cmd: list[str], log: Path) -> dict:
    """Run ``cmd`` in a fresh process; its wall time, CPU time, peak memory and exit status."""
    with open(log, "ab") as out:
        out.write(("$ " + " ".join(map(str, cmd)) + "\n").encode())
        out.flush()
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {
        "wall_s": round(wall, 3),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
        "peak_mb": round(usage.ru_maxrss / 1024, 1),  # Linux: KiB
        "rc": proc.returncode,
    }


def available_commands() -> set[str]:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from opr_analysis import cli  # light: command modules import their work lazily

    return set(cli.COMMANDS)


def extract_spec() -> Path | None:
    specs = sorted((ROOT / "reports" / "extracts" / "examples").glob("*.yaml"))
    return specs[0] if specs else None


DIALECTS = ("iso", "norsk")


def _tag(scale: float, dialect: str) -> str:
    return f"{dialect}_s{scale:g}"


def step_commands(scale: float, runs: Path, commands: set[str], dialect: str = "iso") -> dict[str, list[str] | str]:
    """Each step's command line, or the reason it is skipped."""
    tag = _tag(scale, dialect)
    data, ans, out = runs / f"extract_{tag}", runs / f"extract_answers_{tag}", runs / f"out_{tag}"
    units = runs / f"extract_units_{tag}"
    steps: dict[str, list[str] | str] = {
        "startup": [*OPR, "--help"],
        "synth": [*OPR, "synth", "--out", str(data), "--scale", f"{scale:g}", "--no-answers", "--dialect", dialect],
        "validate": [*OPR, "validate", str(data)],
        "tables": [*OPR, "tables", str(data), "--out", str(out / "tables"), "--as-of", AS_OF],
        "followups": [*OPR, "followups", str(data), "--as-of", AS_OF, "--out", str(out / "followups.csv")],
        "duckdb_floor": [sys.executable, str(HERE / "duckdb_reference.py"), str(data), "--out",
                         str(out / "duckdb"), "--as-of", AS_OF],
        "tables_answers": [*OPR, "tables", str(ans), "--out", str(out / "tables_answers"), "--as-of", AS_OF],
        "report": [*OPR, "report", "--extract", str(data), "--out", str(out / "report"), "--formats", "html"],
        "extract": "",
        # the multi-unit extract (issue 16): five units of different sizes and performance
        "synth_units": [*OPR, "synth", "--out", str(units), "--scale", f"{scale:g}", "--units", str(UNITS),
                        "--no-answers", "--dialect", dialect],
        "tables_units": [*OPR, "tables", str(units), "--out", str(out / "tables_units"), "--as-of", AS_OF],
        "indicators_units": [*OPR, "indicators", str(units), "--out", str(out / "indicators_units"), "--as-of",
                             AS_OF],
        # issue 27: a field safety notice for one model; the list goes to its own folder
        "recall": [*OPR, "implantat", "søk", str(data), "--manufacturer", "Nordstim Medical", "--model", "Vega P",
                   "--as-of", AS_OF, "--out", str(out / "recall")],
    }  # fmt: skip
    spec = extract_spec()
    if "extract" not in commands:
        steps["extract"] = "skipped: command not available"
    elif spec is None:
        steps["extract"] = "skipped: no spec in reports/extracts/examples/"
    else:
        steps["extract"] = [*OPR, "extract", str(spec), "--extract", str(data), "--out", str(out / "extract")]
    if "report" not in commands:
        steps["report"] = "skipped: command not available"
    if "implantat" not in commands:
        steps["recall"] = "skipped: command not available"
    if "indicators" not in commands:
        for step in ("synth_units", "tables_units", "indicators_units"):
            steps[step] = "skipped: command not available"
    for step, largest in SMALL_ONLY.items():
        if scale > largest and not isinstance(steps[step], str):
            steps[step] = f"skipped: only run at scales up to {largest}"
    return steps


def prepare_answers_extract(scale: float, runs: Path, log: Path, dialect: str = "iso") -> None:
    """The extract with questionnaire answers (for ``tables_answers``), made once, not timed."""
    target = runs / f"extract_answers_{_tag(scale, dialect)}"
    if not (target / "patients.csv").exists():
        r = measure([*OPR, "synth", "--out", str(target), "--scale", f"{scale:g}", "--dialect", dialect], log)
        if r["rc"]:
            raise SystemExit(f"synth with answers failed at scale {scale:g}; see {log}")


def summarise(runs: list[dict]) -> dict:
    ok = [r for r in runs if r["rc"] == 0]
    if not ok:
        return {"status": "failed", "runs": runs}
    walls, cpus, peaks = ([r[k] for r in ok] for k in ("wall_s", "cpu_s", "peak_mb"))
    return {
        "status": "ok" if len(ok) == len(runs) else "some runs failed",
        "runs": runs,
        "wall_s": {"median": statistics.median(walls), "min": min(walls), "max": max(walls)},
        "cpu_s": {"median": statistics.median(cpus), "min": min(cpus), "max": max(cpus)},
        "peak_mb": {"median": statistics.median(peaks), "min": min(peaks), "max": max(peaks)},
    }


def machine_info() -> dict:
    def read(path, prefix):
        try:
            for line in Path(path).read_text().splitlines():
                if line.startswith(prefix):
                    return line.split(":", 1)[1].strip()
        except OSError:
            return None

    from importlib import metadata

    versions = {}
    for pkg in ("pandas", "numpy", "pyarrow", "pandera", "statsmodels", "duckdb", "plotnine", "papermill"):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None
    mem_kb = read("/proc/meminfo", "MemTotal")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "opr_analysis"], cwd=ROOT, capture_output=True, text=True
    )
    return {
        "cpu": read("/proc/cpuinfo", "model name") or platform.processor(),
        "cores": os.cpu_count(),
        "memory_gb": round(int(mem_kb.split()[0]) / 1024**2, 1) if mem_kb else None,
        "os": platform.platform(),
        "python": platform.python_version(),
        "packages": versions,
        "git_commit": commit.stdout.strip() or None,
        "package_modified": bool(dirty.stdout.strip()),
        "load_average_at_start": os.getloadavg(),
    }


TARGETS = {
    "tables_over_floor_at_100": 3.0,  # opr tables wall / DuckDB floor wall, scale 100, medians
    "tables_peak_mb_at_100": 1024.0,
    "tables_wall_s_at_1": 1.5,
    "validate_wall_s_at_1": 1.0,
    "growth_10_to_100": 10.0,  # tables, wall
    "recall_wall_s_at_100": 10.0,  # opr implantat søk at national size (issue 27), wall, extract read included
}


def targets(d: dict, results: dict) -> dict:
    """Each target (issue 15; the recall of issue 27) with the measured value and whether it is met (None: not measured)."""

    def med(scale, step, metric="wall_s"):
        return results.get(scale, {}).get(step, {}).get(metric, {}).get("median")

    measured = {
        "tables_over_floor_at_100": d["tables_over_duckdb_floor"].get("100"),
        "tables_peak_mb_at_100": med("100", "tables", "peak_mb"),
        "tables_wall_s_at_1": med("1", "tables"),
        "validate_wall_s_at_1": med("1", "validate"),
        "growth_10_to_100": d["time_growth"].get("100/10", {}).get("tables"),
        "recall_wall_s_at_100": med("100", "recall"),
    }
    return {
        k: {"target": TARGETS[k], "measured": v, "met": None if v is None else bool(v <= TARGETS[k])}
        for k, v in measured.items()
    }


def derived(results: dict, scales: list[float]) -> dict:
    """Ratios the issue asks for: tables / DuckDB floor per scale; cost growth between scales."""

    def median(scale, step, metric="wall_s"):
        s = results.get(f"{scale:g}", {}).get(step, {})
        return s.get(metric, {}).get("median")

    floor, floor_cpu = {}, {}
    for scale in scales:
        t, d = median(scale, "tables"), median(scale, "duckdb_floor")
        floor[f"{scale:g}"] = round(t / d, 2) if t and d else None
        t, d = median(scale, "tables", "cpu_s"), median(scale, "duckdb_floor", "cpu_s")
        floor_cpu[f"{scale:g}"] = round(t / d, 2) if t and d else None
    growth = {}
    for a, b in zip(scales, scales[1:]):
        growth[f"{b:g}/{a:g}"] = {
            step: round(median(b, step) / median(a, step), 2)
            for step in results.get(f"{b:g}", {})
            if median(a, step) and median(b, step)
        }
    out = {"tables_over_duckdb_floor": floor, "tables_over_duckdb_floor_cpu": floor_cpu, "time_growth": growth}
    out["targets"] = targets(out, results)
    return out


def plot(results: dict, path: Path) -> None:
    """Log-log time and peak memory against scale, one line per step (plotnine)."""
    import pandas as pd
    from plotnine import (
        aes,
        facet_wrap,
        geom_errorbar,
        geom_line,
        geom_point,
        ggplot,
        labs,
        scale_x_log10,
        scale_y_log10,
        theme,
        theme_bw,
    )  # fmt: skip

    rows = []
    for dialect, by_scale in results.items():
        for scale, steps in by_scale.items():
            for step, s in steps.items():
                if "wall_s" not in s or step == "startup":
                    continue
                for metric, label in (("wall_s", "tid (s)"), ("peak_mb", "maks minne (MB)")):
                    m = s[metric]
                    rows.append({"scale": float(scale), "step": step, "dialect": dialect, "metric": label, **m})
    frame = pd.DataFrame(rows)
    if frame.empty:
        return
    fig = (
        ggplot(frame, aes("scale", "median", colour="step", linetype="dialect"))
        + geom_line()
        + geom_point()
        + geom_errorbar(aes(ymin="min", ymax="max"), width=0.05)
        + scale_x_log10()
        + scale_y_log10()
        + facet_wrap("metric", scales="free_y")
        + labs(x="skala (1 = OUS, 100 = nasjonalt)", y="median (min–maks)", colour="steg", linetype="dialekt",
               title="Kostnad mot registerstørrelse (log–log)")
        + theme_bw()
        + theme(figure_size=(10, 4.5))
    )  # fmt: skip
    fig.save(path, dpi=110, verbose=False)


def rounds(commands: dict[str, list[str]], repeats: int, log: Path) -> dict[str, list[dict]]:
    """Each step's ``repeats`` measurements, taken round by round (every step once per round).

    Interleaved rather than one step's runs back to back, so a busy spell on a shared machine
    slows ``opr tables`` and the floor alike and their ratio stays fair. Steps run in the given
    order within a round (``synth`` first: it writes the extract the others read).
    """
    measured: dict[str, list[dict]] = {step: [] for step in commands}
    for _ in range(repeats):
        for step, cmd in commands.items():
            measured[step].append(measure(cmd, log))
    return measured


def run_dialect(dialect, scales, repeats, runs, log, commands, only) -> dict:
    """Every step at every scale for one dialect: {scale: {step: summary}}."""
    results: dict[str, dict] = {}
    for scale in scales:
        steps = step_commands(scale, runs, commands, dialect)
        if only:
            keep = {"synth", *only.split(",")}
            if keep & {"tables_units", "indicators_units"}:
                keep.add("synth_units")
            steps = {k: v for k, v in steps.items() if k in keep}
        if "tables_answers" in steps and not isinstance(steps["tables_answers"], str):
            prepare_answers_extract(scale, runs, log, dialect)
        shutil.rmtree(runs / f"out_{_tag(scale, dialect)}", ignore_errors=True)
        results[f"{scale:g}"] = {}
        measured = rounds({k: v for k, v in steps.items() if not isinstance(v, str)}, repeats, log)
        for step, cmd in steps.items():
            label = f"{dialect:<5} scale {scale:>5g}  {step:<15}"
            if isinstance(cmd, str):
                results[f"{scale:g}"][step] = {"status": cmd}
                print(f"{label} {cmd}", flush=True)
                continue
            s = summarise(measured[step])
            results[f"{scale:g}"][step] = s
            if "wall_s" in s:
                print(
                    f"{label} {s['wall_s']['median']:8.2f} s wall "
                    f"({s['wall_s']['min']:.2f}–{s['wall_s']['max']:.2f})  {s['cpu_s']['median']:8.2f} s cpu  "
                    f"{s['peak_mb']['median']:7.0f} MB  [{s['status']}]",
                    flush=True,
                )
            else:
                print(f"{label} FAILED (see {log})", flush=True)
        t, d = (results[f"{scale:g}"].get(k, {}).get("wall_s", {}).get("median") for k in ("tables", "duckdb_floor"))
        if t and d:
            print(f"{dialect:<5} scale {scale:>5g}  opr tables / DuckDB floor = {t / d:.2f}", flush=True)
    return results


README_START, README_END = "<!-- bench:start (written by bench/run.py) -->", "<!-- bench:end -->"
STEP_LABELS = {"validate": "`opr validate`", "tables": "`opr tables`", "duckdb_floor": "DuckDB floor",
               "recall": "`opr implantat søk`"}  # fmt: skip


def readme_block(out: dict) -> str:
    """The README's table of the latest run: per dialect and scale, wall / CPU / peak memory of
    validate, tables and the floor, the floor ratio, and each target with its measured value."""

    def fmt(v, unit=" s", digits=2):
        return "–" if v is None else f"{v:.{digits}f}{unit}"

    m = out["machine"]
    lines = [
        f"Latest run, {out['started'][:10]} (medians of {out['repeats']}; commit `{m['git_commit']}`"
        f"{', package modified' if m['package_modified'] else ''}; {m['cpu']}, {m['cores']} cores; "
        f"load average {m['load_average_at_start'][0]:.1f} at start, {m['load_average_at_end'][0]:.1f} at end: "
        "other users' jobs ran at the same time, so wall times are noisy):",
        "",
        "| dialect | scale | step | wall | CPU | peak memory |",
        "|---|---:|---|---:|---:|---:|",
    ]
    for dialect, by_scale in out["results"].items():
        for scale, steps in by_scale.items():
            for step, label in STEP_LABELS.items():
                r = steps.get(step, {})
                if "wall_s" not in r:
                    continue
                peak = r["peak_mb"]["median"]
                lines.append(
                    f"| {dialect} | {scale} | {label} | {fmt(r['wall_s']['median'])} | {fmt(r['cpu_s']['median'])} "
                    f"| {fmt(peak, ' MB', 0)} |"
                )
    lines += ["", "| dialect | target | limit | measured | met |", "|---|---|---:|---:|---|"]
    for dialect, d in out["derived"].items():
        ratios = ", ".join(f"{k}: {fmt(v, '', 2)}" for k, v in d["tables_over_duckdb_floor"].items())
        cpu = ", ".join(f"{k}: {fmt(v, '', 2)}" for k, v in d["tables_over_duckdb_floor_cpu"].items())
        lines.append(f"| {dialect} | `opr tables` / floor, wall (CPU) by scale | | {ratios} ({cpu}) | |")
        for name, t in d["targets"].items():
            met = {True: "yes", False: "**no**", None: "not measured"}[t["met"]]
            lines.append(f"| {dialect} | {name} | {t['target']:g} | {fmt(t['measured'], '', 2)} | {met} |")
    return "\n".join(lines)


def update_readme(path: Path, block: str) -> bool:
    """Replace the text between the README's bench markers with ``block``; False when there are no markers."""
    if not path.is_file():
        return False
    text = path.read_text(encoding="utf-8")
    start, end = text.find(README_START), text.find(README_END)
    if start < 0 or end < start:
        return False
    path.write_text(text[: start + len(README_START)] + "\n" + block + "\n" + text[end:], encoding="utf-8")
    return True


def write_results(args, started, info, repeats, scales, dialects, results) -> dict:
    """results.json and the README table for what has been measured so far."""
    info = {**info, "load_average_at_end": os.getloadavg()}
    out = {
        "started": started.isoformat(timespec="seconds"),
        "finished": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "as_of": AS_OF,
        "repeats": repeats,
        "scales": scales,
        "machine": info,
        "dialects": dialects,
        "load_note": "a shared 2-core machine: other users' jobs run at the same time, so wall times are noisy; "
        "compare the CPU times and the floor ratio of the same run",
        "results": results,
        "derived": {d: derived(results[d], scales) for d in dialects},
    }
    args.results.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n")
    if args.readme is not None:
        update_readme(args.readme, readme_block(out))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scales", default="1,10,100", help="comma-separated scales (default 1,10,100)")
    ap.add_argument("--repeats", type=int, default=3, help="runs per step (default 3)")
    ap.add_argument("--quick", action="store_true", help="scales 1,10 and one run each")
    ap.add_argument("--runs-dir", type=Path, default=HERE / "runs", help="generated data (default bench/runs)")
    ap.add_argument("--results", type=Path, default=HERE / "results.json")
    ap.add_argument("--figure", type=Path, default=HERE / "scaling.png")
    ap.add_argument("--steps", help="comma-separated subset of steps (default all)")
    ap.add_argument(
        "--readme",
        type=Path,
        default=ROOT / "docs" / "architecture.md",
        help="file with the bench markers to write into",
    )
    ap.add_argument("--no-readme", dest="readme", action="store_const", const=None, help="leave the README alone")
    ap.add_argument("--dialects", default=",".join(DIALECTS), help="comma-separated CSV dialects (default iso,norsk)")
    args = ap.parse_args(argv)
    scales = [1.0, 10.0] if args.quick else [float(s) for s in args.scales.split(",")]
    repeats = 1 if args.quick else args.repeats
    runs = args.runs_dir
    runs.mkdir(parents=True, exist_ok=True)
    log = runs / "bench.log"
    log.write_text("")
    commands = available_commands()
    started = dt.datetime.now().astimezone()
    info = machine_info()
    dialects = [d for d in args.dialects.split(",") if d]
    results: dict[str, dict] = {d: {} for d in dialects}
    # Scale by scale, both dialects at each, and the results written after each: a run cut short
    # (a busy shared machine) still leaves every scale it finished in results.json and the README.
    for scale in scales:
        for dialect in dialects:
            results[dialect].update(run_dialect(dialect, [scale], repeats, runs, log, commands, args.steps))
            out = write_results(args, started, info, repeats, scales, dialects, results)
    plot(results, args.figure)
    print(json.dumps(out["derived"], indent=2))
    print(f"Wrote {args.results} and {args.figure}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
