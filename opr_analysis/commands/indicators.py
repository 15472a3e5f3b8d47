"""``opr indicators EXTRACT --out DIR [--as-of DATE] [--definitions FILE]``: quality indicators per unit."""

from __future__ import annotations

from pathlib import Path

from ._dates import add_as_of, as_of_date, load_with_summary


def register(sub) -> None:
    p = sub.add_parser(
        "indicators",
        help="quality indicators per unit and year, and the national results portal's delivery file",
        description="Read and check a registry extract, compute every quality indicator "
        "(indicators.yaml) per unit, year and for the whole registry, and write indikatorer.csv "
        "(numerator, denominator, value, 95 %% Wilson limits, target level) and "
        "nasjonal_leveranse.csv (context, year, orgnr, ind_id, var, denominator), checked as the "
        "portal checks an upload before anything is written. The folder is replaced as a whole.",
    )
    p.add_argument("extract", type=Path, help="folder holding the extract's table files")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder to write the two CSV files into")
    p.add_argument(
        "--definitions",
        type=Path,
        metavar="FILE",
        help="the registry's own indicators YAML: entries replace the package's with the same id or are added",
    )
    add_as_of(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from ..indicators.output import write_indicators

    as_of = as_of_date(args.as_of)
    reg = load_with_summary(args.extract)
    written = write_indicators(reg, args.out, as_of=as_of, definitions_file=args.definitions)
    print(f"Skrev {', '.join(p.name for p in written)} til {args.out} (oppfølging per {as_of:%Y-%m-%d}).")
    return 0
