"""``opr validate EXTRACT --quarantine DIR``: check an extract, compute nothing."""

from __future__ import annotations

from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser(
        "validate",
        help="check an extract and write its quarantined rows",
        description="Read and check every table of a registry extract against the codebook. "
        "Exit status 0: usable (rows may be quarantined); 1: not usable (a required table or "
        "column missing, an unreadable file, a national identity number); 2: wrong usage.",
    )
    p.add_argument("extract", type=Path, help="folder holding the extract's table files")
    p.add_argument(
        "--quarantine",
        type=Path,
        metavar="DIR",
        help="folder for <table>.csv files of quarantined rows (with row and quarantine_reason)",
    )
    p.set_defaults(func=run)


def run(args) -> int:
    from ..extract.reader import load_extract

    reg = load_extract(args.extract)
    print(reg.report.summary_text())
    if args.quarantine is not None:
        written = reg.report.write_quarantine(args.quarantine)
        if written:
            print(f"Karantenefiler: {', '.join(str(p) for p in written)}")
    n = reg.report.rows_quarantined
    print("Uttrekket kan brukes." + (f" {n} rader er satt i karantene." if n else " Ingen rader i karantene."))
    return 0
