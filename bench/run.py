"""Performance benchmark of opr-analysis, from registry size to national size, on two shapes of extract.

Each step runs in its own fresh process (``python -m opr_analysis ...``) and is
measured by this script with ``os.wait4``: wall time, CPU time (user + system)
and peak resident memory (``ru_maxrss`` of that process tree's largest process;
a notebook kernel started by the step counts as one of its processes). Nothing
else is timed, so each measurement is of that step only. The repeats run round by
round (every step once, then again), and ``opr tables`` runs right before the
floor in each round, so load from other users hits both alike: the ratio is taken
per round (an A/B pair) as well as of the medians.

Shapes (``--shapes``), each at every scale of the synthetic registry (``opr synth --scale``):

=============  =======================================================================
Steps (``--steps``; the floor runs on the same files in the same run):

====================  ============================================================
``startup``           ``opr --help`` (import cost every command pays)
``synth``             writes the extract the others read (once, before the rounds)
``validate``          ``opr validate --no-cache`` (read, type and check every table)
``tables``            ``opr tables --no-cache``: cold, no cache (the targets)
``duckdb_floor``      ``bench/duckdb_reference.py`` (the seven tables by hand-written SQL)
``tables_cached``     ``opr tables`` with the validated-extract cache filled
``followups``         ``opr followups --no-cache`` (the office staff's dispatch list)
``followups_cached``  ``opr followups`` with the cache filled
``reload``            ``bench/reload.py``: ``load_extract`` again in the same process,
                      from the cache (a researcher's reload in JupyterLab)
``report``            ``opr report --formats html`` (scales up to 10), each run from an empty
                      cache: the pipeline validates, the notebook reads the cache
``extract``           ``opr extract`` of the first example spec (scales up to 10)
``recall``            ``opr implantat søk --no-cache``: the recall list of one model
                      (issue 27: it must answer in seconds at national size)
``*_units``           ``opr synth --units 5``, ``opr tables`` and ``opr indicators`` on it
                      (registry shape, scales up to 10)
====================  ============================================================

The cache lives in a temporary folder of the run (``$OPR_CACHE_DIR``; never in the repository),
removed at the end.

Usage::

    python bench/run.py                      # both shapes, scales 1,10,100, 3 runs each
    python bench/run.py --quick              # both shapes, scales 1,10, 1 run each
    python bench/run.py --scales 1,10 --repeats 5 --shapes registry
    python bench/run.py --steps tables,duckdb_floor,reload   # the steps the targets are about

Writes ``bench/results.json`` (every run; per shape the ratios ``opr tables`` / floor and the
targets of issue 29 with measured values), ``bench/scaling.png`` and the table between the
``bench`` markers in the Performance section of ``docs/architecture.md``; generated data goes to
``bench/runs/`` (git-ignored).
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
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
AS_OF = "2025-12-31"
OPR = [sys.executable, "-m", "opr_analysis"]
# step -> largest scale it runs at. A national-size research extract is dominated by openpyxl
# writing its Excel files (minutes), which says nothing about this code.
SMALL_ONLY = {"report": 10, "extract": 10, "synth_units": 10, "tables_units": 10, "indicators_units": 10}
# step -> largest scale per shape: opr validate and a reload of the whole extract read the 40 M answer rows
# of the synthetic shape at 100 (several GB).
SHAPE_LIMITS = {("synthetic", "validate"): 10, ("synthetic", "reload"): 10}
UNITS = 5  # units in the multi-unit extract (issue 16)
SHAPES = {
    "synthetic": {"dialect": "iso", "answers": True},
    "registry": {"dialect": "norsk", "answers": False},
}


def measure(cmd: list[str], log: Path, env: dict | None = None, capture: bool = False) -> dict:
    """Run ``cmd`` in a fresh process; its wall time, CPU time, peak memory and exit status (and, with
    ``capture``, the JSON its last output line holds)."""
    with open(log, "ab") as out:
        out.write(("$ " + " ".join(map(str, cmd)) + "\n").encode())
        out.flush()
        start = time.perf_counter()
        stdout = subprocess.PIPE if capture else out
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=stdout, stderr=out, env=env)
        printed = proc.stdout.read() if capture else b""
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        out.write(printed)
    proc.returncode = os.waitstatus_to_exitcode(status)
    result = {
        "wall_s": round(wall, 3),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
        "peak_mb": round(usage.ru_maxrss / 1024, 1),  # Linux: KiB
        "rc": proc.returncode,
    }
    if capture and printed.strip():
        try:
            result["printed"] = json.loads(printed.decode().strip().splitlines()[-1])
        except ValueError:
            result["rc"] = result["rc"] or 1
    return result


def available_commands() -> set[str]:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from opr_analysis import cli  # light: command modules import their work lazily

    return set(cli.COMMANDS)


def extract_spec() -> Path | None:
    specs = sorted((ROOT / "reports" / "extracts" / "examples").glob("*.yaml"))
    return specs[0] if specs else None


def _tag(scale: float, shape: str) -> str:
    return f"{shape}_s{scale:g}"


class Step(dict):
    """A measured command: ``cmd``, and optionally ``env`` (added to the run's), ``before`` (untimed, before
    each run: ``("empty", folder)``) and ``capture`` (the command prints a JSON line: bench/reload.py)."""


def step_commands(scale: float, runs: Path, commands: set[str], shape: str = "registry") -> dict[str, Step | str]:
    """Each step's command, or the reason it is skipped."""
    tag, dialect = _tag(scale, shape), SHAPES[shape]["dialect"]
    data, out, units = runs / f"extract_{tag}", runs / f"out_{tag}", runs / f"extract_units_{tag}"
    synth = [*OPR, "synth", "--out", str(data), "--scale", f"{scale:g}", "--dialect", dialect]
    if not SHAPES[shape]["answers"]:
        synth.append("--no-answers")
    tables = [*OPR, "tables", str(data), "--out", str(out / "tables"), "--as-of", AS_OF]
    followups = [*OPR, "followups", str(data), "--as-of", AS_OF, "--out", str(out / "followups.csv")]
    steps: dict[str, Step | str] = {
        "startup": Step(cmd=[*OPR, "--help"]),
        "synth": Step(cmd=synth),
        "validate": Step(cmd=[*OPR, "validate", str(data), "--no-cache"]),
        # opr tables and the floor back to back in every round: an A/B pair
        "tables": Step(cmd=[*tables, "--no-cache"]),
        "duckdb_floor": Step(cmd=[sys.executable, str(HERE / "duckdb_reference.py"), str(data), "--out",
                                  str(out / "duckdb"), "--as-of", AS_OF]),
        "tables_cached": Step(cmd=tables),
        "followups": Step(cmd=[*followups, "--no-cache"]),
        "followups_cached": Step(cmd=followups),
        "reload": Step(cmd=[sys.executable, str(HERE / "reload.py"), str(data)], capture=True),
        "report": Step(cmd=[*OPR, "report", "--extract", str(data), "--out", str(out / "report"), "--formats", "html",
                            "--as-of", AS_OF], before=("empty", "report-cache"), cache="report-cache"),
        "extract": "",
        # the multi-unit extract (issue 16): five units of different sizes and performance
        "synth_units": Step(cmd=[*OPR, "synth", "--out", str(units), "--scale", f"{scale:g}", "--units", str(UNITS),
                                 "--no-answers", "--dialect", dialect]),
        "tables_units": Step(cmd=[*OPR, "tables", str(units), "--out", str(out / "tables_units"), "--as-of", AS_OF,
                                  "--no-cache"]),
        "indicators_units": Step(cmd=[*OPR, "indicators", str(units), "--out", str(out / "indicators_units"),
                                      "--as-of", AS_OF, "--no-cache"]),
        # issue 27: a field safety notice for one model; the list goes to its own folder
        "recall": Step(cmd=[*OPR, "implantat", "søk", str(data), "--manufacturer", "Nordstim Medical", "--model",
                            "Vega P", "--as-of", AS_OF, "--out", str(out / "recall"), "--no-cache"]),
    }  # fmt: skip
    spec = extract_spec()
    if "extract" not in commands:
        steps["extract"] = "skipped: command not available"
    elif spec is None:
        steps["extract"] = "skipped: no spec in reports/extracts/examples/"
    else:
        steps["extract"] = Step(cmd=[*OPR, "extract", str(spec), "--extract", str(data), "--out", str(out / "extract")])
    if "report" not in commands:
        steps["report"] = "skipped: command not available"
    if "implantat" not in commands:
        steps["recall"] = "skipped: command not available"
    if "indicators" not in commands or shape != "registry":
        for step in ("synth_units", "tables_units", "indicators_units"):
            steps[step] = "skipped: command not available" if "indicators" not in commands else "registry shape only"
    for step, largest in SMALL_ONLY.items():
        if scale > largest and not isinstance(steps[step], str):
            steps[step] = f"skipped: only run at scales up to {largest}"
    for (limited, step), largest in SHAPE_LIMITS.items():
        if limited == shape and scale > largest and not isinstance(steps[step], str):
            steps[step] = f"skipped: only run at scales up to {largest} for this shape (every answer row is read)"
    return steps


def summarise(runs: list[dict]) -> dict:
    ok = [r for r in runs if r["rc"] == 0]
    if not ok:
        return {"status": "failed", "runs": runs}
    walls, cpus, peaks = ([r[k] for r in ok] for k in ("wall_s", "cpu_s", "peak_mb"))
    out = {
        "status": "ok" if len(ok) == len(runs) else "some runs failed",
        "runs": runs,
        "wall_s": {"median": statistics.median(walls), "min": min(walls), "max": max(walls)},
        "cpu_s": {"median": statistics.median(cpus), "min": min(cpus), "max": max(cpus)},
        "peak_mb": {"median": statistics.median(peaks), "min": min(peaks), "max": max(peaks)},
    }
    inner = [r["printed"]["reload"] for r in ok if "reload" in r.get("printed", {})]
    if inner:  # bench/reload.py: the in-process reload, median of each run's medians
        out["in_process"] = {k: round(statistics.median(x[k] for x in inner), 4) for k in ("wall_s", "cpu_s")}
    return out


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


# Issue 29's targets, judged on the registry shape (the synthetic shape is reported beside it).
TARGETS = {
    "tables_over_floor_at_100": 3.0,  # opr tables (cold, no cache) wall / DuckDB floor wall, scale 100, medians
    "tables_peak_mb_at_100": 512.0,  # opr tables, cold
    "tables_wall_s_at_1": 1.5,  # opr tables, cold
    "followups_wall_s_at_1": 1.0,  # opr followups, cold
    "reload_s_at_100": 0.3,  # load_extract from the cache, in-process (bench/reload.py)
    "report_wall_s_at_1": 10.0,  # opr report --formats html, nbconvert fallback, from an empty cache
    "recall_wall_s_at_100": 10.0,  # opr implantat søk at national size (issue 27), cold, extract read included
}


def targets(d: dict, results: dict) -> dict:
    """Each target (issue 29; the recall of issue 27) with the measured value and whether it is met (None: not measured)."""

    def med(scale, step, metric="wall_s"):
        return results.get(scale, {}).get(step, {}).get(metric, {}).get("median")

    reload = results.get("100", {}).get("reload", {}).get("in_process", {}).get("wall_s")
    measured = {
        "tables_over_floor_at_100": d["tables_over_duckdb_floor"].get("100"),
        "tables_peak_mb_at_100": med("100", "tables", "peak_mb"),
        "tables_wall_s_at_1": med("1", "tables"),
        "followups_wall_s_at_1": med("1", "followups"),
        "reload_s_at_100": reload,
        "report_wall_s_at_1": med("1", "report"),
        "recall_wall_s_at_100": med("100", "recall"),
    }
    return {
        k: {"target": TARGETS[k], "measured": v, "met": None if v is None else bool(v <= TARGETS[k])}
        for k, v in measured.items()
    }


def pair_ratios(results: dict, scale: str, a: str = "tables", b: str = "duckdb_floor") -> dict | None:
    """``a`` / ``b`` per round (the runs taken back to back), wall and CPU: median and range."""
    ra, rb = (results.get(scale, {}).get(s, {}).get("runs", []) for s in (a, b))
    pairs = [(x, y) for x, y in zip(ra, rb, strict=False) if x["rc"] == 0 and y["rc"] == 0]
    if not pairs:
        return None
    out = {}
    for metric in ("wall_s", "cpu_s"):
        ratios = [x[metric] / y[metric] for x, y in pairs if y[metric] > 0]
        if ratios:
            out[metric] = {"median": round(statistics.median(ratios), 2), "min": round(min(ratios), 2),
                           "max": round(max(ratios), 2)}  # fmt: skip
    return out


def derived(results: dict, scales: list[float]) -> dict:
    """Ratios the issue asks for: tables / DuckDB floor per scale (medians and per round); growth between scales."""

    def median(scale, step, metric="wall_s"):
        s = results.get(f"{scale:g}", {}).get(step, {})
        return s.get(metric, {}).get("median")

    floor, floor_cpu, pairs = {}, {}, {}
    for scale in scales:
        t, d = median(scale, "tables"), median(scale, "duckdb_floor")
        floor[f"{scale:g}"] = round(t / d, 2) if t and d else None
        t, d = median(scale, "tables", "cpu_s"), median(scale, "duckdb_floor", "cpu_s")
        floor_cpu[f"{scale:g}"] = round(t / d, 2) if t and d else None
        pairs[f"{scale:g}"] = pair_ratios(results, f"{scale:g}")
    growth = {}
    for a, b in zip(scales, scales[1:]):
        growth[f"{b:g}/{a:g}"] = {
            step: round(median(b, step) / median(a, step), 2)
            for step in results.get(f"{b:g}", {})
            if median(a, step) and median(b, step)
        }
    out = {
        "tables_over_duckdb_floor": floor,
        "tables_over_duckdb_floor_cpu": floor_cpu,
        "tables_over_duckdb_floor_pairs": pairs,
        "time_growth": growth,
    }
    out["targets"] = targets(out, results)
    return out


def plot(results: dict, path: Path) -> None:
    """Log-log time and peak memory against scale, one line per step and shape (plotnine)."""
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
    for shape, by_scale in results.items():
        for scale, steps in by_scale.items():
            for step, s in steps.items():
                if "wall_s" not in s or step in ("startup", "synth", "synth_units"):
                    continue
                for metric, label in (("wall_s", "tid (s)"), ("peak_mb", "maks minne (MB)")):
                    m = s[metric]
                    rows.append({"scale": float(scale), "step": step, "shape": shape, "metric": label, **m})
    frame = pd.DataFrame(rows)
    if frame.empty:
        return
    fig = (
        ggplot(frame, aes("scale", "median", colour="step", linetype="shape"))
        + geom_line()
        + geom_point()
        + geom_errorbar(aes(ymin="min", ymax="max"), width=0.05)
        + scale_x_log10()
        + scale_y_log10()
        + facet_wrap("metric", scales="free_y")
        + labs(x="skala (1 = OUS, 100 = nasjonalt)", y="median (min–maks)", colour="steg", linetype="uttrekk",
               title="Kostnad mot registerstørrelse (log–log)")
        + theme_bw()
        + theme(figure_size=(10, 4.5))
    )  # fmt: skip
    fig.save(path, dpi=110, verbose=False)


def _prepare(step: Step, cache_root: Path) -> None:
    """What a step needs before each run, untimed (an empty cache of its own for the report)."""
    what = step.get("before")
    if what and what[0] == "empty":
        shutil.rmtree(cache_root / what[1], ignore_errors=True)


def _env(step: Step, cache_root: Path) -> dict:
    env = {**os.environ, "OPR_CACHE_DIR": str(cache_root / step.get("cache", "shared"))}
    env.pop("OPR_CACHE", None)
    return {**env, **step.get("env", {})}


def rounds(commands: dict, repeats: int, log: Path, cache_root: Path | None = None) -> dict[str, list[dict]]:
    """Each step's ``repeats`` measurements, taken round by round (every step once per round).

    Interleaved rather than one step's runs back to back, so a busy spell on a shared machine
    slows ``opr tables`` and the floor alike and their ratio stays fair. Steps run in the given
    order within a round. A step is a command line or a :class:`Step`.
    """
    cache_root = Path(cache_root or tempfile.gettempdir())
    measured: dict[str, list[dict]] = {step: [] for step in commands}
    for _ in range(repeats):
        for name, step in commands.items():
            step = step if isinstance(step, Step) else Step(cmd=step)
            _prepare(step, cache_root)
            measured[name].append(measure(step["cmd"], log, _env(step, cache_root), step.get("capture", False)))
    return measured


def run_shape(shape, scales, repeats, runs, log, commands, only, cache_root) -> dict:
    """Every step at every scale for one shape: {scale: {step: summary}}."""
    results: dict[str, dict] = {}
    for scale in scales:
        steps = step_commands(scale, runs, commands, shape)
        if only:
            keep = {"synth", *only.split(",")}
            if keep & {"tables_units", "indicators_units"}:
                keep.add("synth_units")
            steps = {k: v for k, v in steps.items() if k in keep}
        shutil.rmtree(runs / f"out_{_tag(scale, shape)}", ignore_errors=True)
        active = {k: v for k, v in steps.items() if not isinstance(v, str)}
        # The extracts are written once, before the rounds (one measurement each): files that stay the same
        # let the cached steps find their entries, as a user's unchanged extract does.
        written = {}
        for name in ("synth", "synth_units"):
            if name in active:
                written[name] = [measure(active.pop(name)["cmd"], log)]
                if written[name][0]["rc"]:
                    raise SystemExit(f"{name} failed for {shape} at scale {scale:g}; see {log}")
        time.sleep(2.5)  # older than the cache's two seconds of doubt about a just-written file's hash
        shutil.rmtree(cache_root / "shared", ignore_errors=True)
        for warm in ("tables_cached", "followups_cached"):  # untimed: fills the cache the cached steps read
            if warm in active:
                measure(active[warm]["cmd"], log, _env(active[warm], cache_root))
        measured = {**written, **rounds(active, repeats, log, cache_root)}
        results[f"{scale:g}"] = {}
        for step, cmd in steps.items():
            label = f"{shape:<9} scale {scale:>5g}  {step:<17}"
            if isinstance(cmd, str):
                results[f"{scale:g}"][step] = {"status": cmd}
                print(f"{label} {cmd}", flush=True)
                continue
            s = summarise(measured[step])
            results[f"{scale:g}"][step] = s
            if "wall_s" in s:
                inner = f"  in-process {s['in_process']['wall_s']:.3f} s" if "in_process" in s else ""
                print(
                    f"{label} {s['wall_s']['median']:8.2f} s wall "
                    f"({s['wall_s']['min']:.2f}–{s['wall_s']['max']:.2f})  {s['cpu_s']['median']:8.2f} s cpu  "
                    f"{s['peak_mb']['median']:7.0f} MB  [{s['status']}]{inner}",
                    flush=True,
                )
            else:
                print(f"{label} FAILED (see {log})", flush=True)
        t, d = (results[f"{scale:g}"].get(k, {}).get("wall_s", {}).get("median") for k in ("tables", "duckdb_floor"))
        if t and d:
            print(f"{shape:<9} scale {scale:>5g}  opr tables / DuckDB floor = {t / d:.2f}", flush=True)
    return results


README_START, README_END = "<!-- bench:start (written by bench/run.py) -->", "<!-- bench:end -->"
STEP_LABELS = {
    "validate": "`opr validate`",
    "tables": "`opr tables`",
    "duckdb_floor": "DuckDB floor",
    "tables_cached": "`opr tables`, cache filled",
    "followups": "`opr followups`",
    "followups_cached": "`opr followups`, cache filled",
    "reload": "reload from the cache",
    "report": "`opr report` (HTML)",
    "recall": "`opr implantat søk`",
}


def readme_block(out: dict) -> str:
    """The README's table of the latest run: per shape and scale, wall / CPU / peak memory of each step
    the targets are about, the floor ratios, and each target with its measured value."""

    def fmt(v, unit=" s", digits=2):
        return "–" if v is None else f"{v:.{digits}f}{unit}"

    m = out["machine"]
    lines = [
        f"Latest run, {out['started'][:10]} (medians of {out['repeats']}; commit `{m['git_commit']}`"
        f"{', package modified' if m['package_modified'] else ''}; {m['cpu']}, {m['cores']} cores; "
        f"load average {m['load_average_at_start'][0]:.1f} at start, {m['load_average_at_end'][0]:.1f} at end: "
        "other users' jobs ran at the same time, so wall times are noisy). `opr tables`, `opr followups` and "
        "`opr validate` without the cache (`--no-cache`) unless the line says so; «reload» is "
        "`load_extract` in the same process (`bench/reload.py`), with the whole process in brackets:",
        "",
        "| shape | scale | step | wall | CPU | peak memory |",
        "|---|---:|---|---:|---:|---:|",
    ]
    for shape, by_scale in out["results"].items():
        for scale, steps in by_scale.items():
            for step, label in STEP_LABELS.items():
                r = steps.get(step, {})
                if "wall_s" not in r:
                    continue
                wall, cpu = fmt(r["wall_s"]["median"]), fmt(r["cpu_s"]["median"])
                if "in_process" in r:
                    wall = f"{fmt(r['in_process']['wall_s'], ' s', 3)} ({wall})"
                    cpu = f"{fmt(r['in_process']['cpu_s'], ' s', 3)} ({cpu})"
                lines.append(
                    f"| {shape} | {scale} | {label} | {wall} | {cpu} | {fmt(r['peak_mb']['median'], ' MB', 0)} |"
                )
    lines += ["", "| shape | target | limit | measured | met |", "|---|---|---:|---:|---|"]
    for shape, d in out["derived"].items():
        ratios = ", ".join(f"{k}: {fmt(v, '', 2)}" for k, v in d["tables_over_duckdb_floor"].items())
        cpu = ", ".join(f"{k}: {fmt(v, '', 2)}" for k, v in d["tables_over_duckdb_floor_cpu"].items())
        pairs = ", ".join(
            f"{k}: {fmt(v['wall_s']['median'], '', 2)}" for k, v in d["tables_over_duckdb_floor_pairs"].items() if v
        )
        lines.append(
            f"| {shape} | `opr tables` / floor by scale: medians wall (CPU); per round | | {ratios} ({cpu}); {pairs} | |"
        )
        for name, t in d["targets"].items():
            met = {True: "yes", False: "**no**", None: "not measured"}[t["met"]]
            lines.append(f"| {shape} | {name} | {t['target']:g} | {fmt(t['measured'], '', 2)} | {met} |")
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


def write_results(args, started, info, repeats, scales, shapes, results) -> dict:
    """results.json and the README table for what has been measured so far."""
    info = {**info, "load_average_at_end": os.getloadavg()}
    out = {
        "started": started.isoformat(timespec="seconds"),
        "finished": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "as_of": AS_OF,
        "repeats": repeats,
        "scales": scales,
        "machine": info,
        "shapes": {s: SHAPES[s] for s in shapes},
        "load_note": "a shared 2-core machine: other users' jobs run at the same time, so wall times are noisy; "
        "compare the CPU times and the floor ratio of the same run (per round: tables_over_duckdb_floor_pairs)",
        "results": results,
        "derived": {s: derived(results[s], scales) for s in shapes},
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
    ap.add_argument("--shapes", default=",".join(SHAPES), help="comma-separated shapes (default synthetic,registry)")
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
    shapes = [s for s in args.shapes.split(",") if s]
    unknown = [s for s in shapes if s not in SHAPES]
    if unknown:
        ap.error(f"unknown shapes: {', '.join(unknown)} (known: {', '.join(SHAPES)})")
    results: dict[str, dict] = {s: {} for s in shapes}
    cache_root = Path(tempfile.mkdtemp(prefix="opr-bench-cache-"))
    try:
        # Scale by scale, both shapes at each, and the results written after each: a run cut short
        # (a busy shared machine) still leaves every scale it finished in results.json and the README.
        for scale in scales:
            for shape in shapes:
                results[shape].update(run_shape(shape, [scale], repeats, runs, log, commands, args.steps, cache_root))
                out = write_results(args, started, info, repeats, scales, shapes, results)
    finally:
        shutil.rmtree(cache_root, ignore_errors=True)
    plot(results, args.figure)
    print(json.dumps(out["derived"], indent=2))
    print(f"Wrote {args.results} and {args.figure}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
