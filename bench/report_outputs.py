"""Run ``opr report`` and ``opr tables`` on fixed extracts, time them, and compare two such runs.

A change meant to make a report cheaper must not change what the report shows. ``run`` writes, for
each extract, the report (HTML, nbconvert fallback unless ``QUARTO_PATH`` is set), its workbook and
``opr tables``'s CSVs into one folder, with the CPU seconds of each ``opr report`` process (the
notebook kernel included: the kernel is its child) in ``times.json``. ``compare`` reads two such
folders and reports every difference:

- the HTML with each embedded image replaced by a digest of its decoded pixels (so a PNG written
  differently but showing the same pixels is the same) and the run's own timestamps and temporary
  paths blanked; any remaining difference is shown as a diff of the page's text and markup;
- the workbook, sheet by sheet and cell by cell (value and number format);
- ``opr tables``'s files, byte for byte.

Usage (from the repository root; the extracts are written once into ``data/``)::

    python bench/report_outputs.py run /tmp/before [--repeats 2]
    python bench/report_outputs.py run /tmp/after [--repeats 2]
    python bench/report_outputs.py compare /tmp/before /tmp/after

``--opr`` picks another checkout's ``opr`` (e.g. ``/work/main/.venv/bin/opr``) so that both sides
run from one place. Not a test and not part of ``make bench``.
"""

from __future__ import annotations

import argparse
import base64
import difflib
import hashlib
import io
import json
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AS_OF = "2025-06-30"
# name -> opr synth arguments: a one-unit extract and one with two units (the indicator chapter).
EXTRACTS = {
    "one-unit": ["--scale", "0.2", "--years", "2021-2024", "--seed", "7"],
    "two-units": ["--scale", "0.2", "--years", "2021-2024", "--seed", "7", "--units", "2"],
}


def ensure_extracts(opr: str) -> dict[str, Path]:
    paths = {}
    for name, args in EXTRACTS.items():
        path = ROOT / "data" / f"bench-report-{name}"
        if not (path / "patients.csv").is_file():
            subprocess.run([opr, "synth", *args, "--out", str(path)], check=True, stdout=subprocess.DEVNULL)
        paths[name] = path
    return paths


def cpu_of(cmd: list[str]) -> tuple[float, float]:
    """(CPU seconds of ``cmd`` and its children, wall seconds)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return round(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime, 2), round(wall, 2)


def run(dest: Path, opr: str, repeats: int) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    times: dict[str, list] = {}
    for name, extract in ensure_extracts(opr).items():
        # One run fills the validated-extract cache, so that every timed run reads it the same way.
        subprocess.run([opr, "validate", str(extract)], cwd=ROOT, capture_output=True, check=False)
        for i in range(repeats):
            out = dest / name
            cmd = [opr, "report", "--extract", str(extract), "--out", str(out), "--formats", "html", "--as-of", AS_OF]
            cpu, wall = cpu_of(cmd)
            times.setdefault(name, []).append({"cpu_s": cpu, "wall_s": wall})
            print(f"{name} run {i + 1}: {cpu} s CPU, {wall} s wall", flush=True)
        subprocess.run(
            [opr, "tables", str(extract), "--out", str(dest / f"{name}-tables"), "--as-of", AS_OF],
            check=True,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
    (dest / "times.json").write_text(json.dumps(times, indent=2) + "\n")


# --- comparing -------------------------------------------------------------------------------

_IMG = re.compile(r"data:image/(png|jpeg|svg\+xml);base64,([A-Za-z0-9+/=\s]+)")
_VOLATILE = [
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d)?"), "<TIMESTAMP>"),
    (re.compile(r"/tmp/[^\s\"'<>]*"), "<TMP>"),
    (re.compile(r"\d+(,\d+)? s\b"), "<SECONDS>"),
]


def _pixels(kind: str, b64: str) -> str:
    raw = base64.b64decode(re.sub(r"\s", "", b64))
    if kind == "png":
        from PIL import Image

        img = Image.open(io.BytesIO(raw))
        raw = f"{img.mode}{img.size}".encode() + img.tobytes()
    return f"<IMAGE {kind} {hashlib.sha256(raw).hexdigest()[:16]}>"


def normalised_html(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    text = _IMG.sub(lambda m: _pixels(m.group(1), m.group(2)), text)
    for pattern, repl in _VOLATILE:
        text = pattern.sub(repl, text)
    return text


def _cells(path: Path) -> dict[str, list[tuple]]:
    from openpyxl import load_workbook

    wb = load_workbook(path)
    return {
        ws.title: [
            (c.coordinate, c.value, c.number_format) for row in ws.iter_rows() for c in row if c.value is not None
        ]
        for ws in wb.worksheets
    }


def compare(a: Path, b: Path) -> int:
    problems = 0
    for name in EXTRACTS:
        ra, rb = a / name, b / name
        for html in sorted(ra.glob("*.html")):
            ta, tb = normalised_html(html), normalised_html(rb / html.name)
            if ta != tb:
                problems += 1
                diff = difflib.unified_diff(
                    ta.replace(">", ">\n").splitlines(), tb.replace(">", ">\n").splitlines(), lineterm="", n=1
                )
                print(f"{name}/{html.name}: differs\n" + "\n".join(list(diff)[:80]))
            else:
                print(f"{name}/{html.name}: same ({len(ta)} characters, {ta.count('<IMAGE')} images)")
        for xlsx in sorted(ra.glob("*.xlsx")):
            ca, cb = _cells(xlsx), _cells(rb / xlsx.name)
            if ca != cb:
                problems += 1
                print(f"{name}/{xlsx.name}: differs; sheets {list(ca)} vs {list(cb)}")
                for sheet in ca:
                    if ca[sheet] != cb.get(sheet):
                        print(f"  sheet {sheet}: {set(ca[sheet]) ^ set(cb.get(sheet, []))}")
            else:
                print(f"{name}/{xlsx.name}: same ({len(ca)} sheets, {sum(map(len, ca.values()))} cells)")
        ta, tb = a / f"{name}-tables", b / f"{name}-tables"
        files = sorted(p.name for p in ta.iterdir() if not p.name.startswith("."))
        if files != sorted(p.name for p in tb.iterdir() if not p.name.startswith(".")):
            problems += 1
            print(f"{name}-tables: other files")
        differ = [f for f in files if (ta / f).read_bytes() != (tb / f).read_bytes()]
        if differ:
            problems += 1
        print(f"{name}-tables: {len(files) - len(differ)} of {len(files)} files byte-identical {differ or ''}")
    for side in (a, b):
        if (side / "times.json").is_file():
            print(side, json.loads((side / "times.json").read_text()))
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run")
    r.add_argument("dest", type=Path)
    r.add_argument("--opr", default=str(Path(sys.executable).with_name("opr")))
    r.add_argument("--repeats", type=int, default=1)
    c = sub.add_parser("compare")
    c.add_argument("a", type=Path)
    c.add_argument("b", type=Path)
    args = parser.parse_args(argv)
    if args.command == "run":
        os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
        run(args.dest, args.opr, args.repeats)
        return 0
    return compare(args.a, args.b)


if __name__ == "__main__":
    sys.exit(main())
