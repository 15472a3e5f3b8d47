"""A researcher's reload: ``load_extract`` of an extract the validated-extract cache already holds, in-process.

What JupyterLab pays for ``reg = opr.load_extract(...)`` the second time a day (issue 29): the first
load here fills the cache if it is empty and is not counted; each of the next ``--repeats`` loads is
timed (wall and CPU) and must come from the cache. Prints one JSON line for ``bench/run.py``.

Usage::

    python bench/reload.py EXTRACT_DIR [--repeats 5]
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("extract")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args(argv)
    from opr_analysis.extract.reader import load_extract

    load_extract(args.extract)  # fills the cache when it is empty
    runs = []
    for _ in range(args.repeats):
        gc.collect()
        wall, cpu = time.perf_counter(), time.process_time()
        reg = load_extract(args.extract)
        runs.append({"wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu})
        if not (reg.report.cache_note or "").startswith("tabellene er hentet fra hurtiglageret"):
            print(json.dumps({"error": f"not from the cache: {reg.report.cache_note}"}))
            return 1
        del reg
    out = {k: round(statistics.median(r[k] for r in runs), 4) for k in ("wall_s", "cpu_s")}
    print(json.dumps({"reload": out, "runs": runs}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
