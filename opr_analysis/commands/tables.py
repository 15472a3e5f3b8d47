"""``opr tables EXTRACT --out DIR [--as-of DATE]``: write the annual report's tables as CSV."""

from __future__ import annotations

from pathlib import Path

from ._dates import add_as_of, as_of_date, load_with_summary


def register(sub) -> None:
    p = sub.add_parser(
        "tables",
        help="write the annual report's tables as CSV (data contract names and columns)",
        description="Read and check a registry extract, then write the seven report tables of the "
        "data contract (referrals_assessed.csv, referrals_by_region.csv, baseline_response.csv, "
        "legacy_baseline_response.csv, completion_time.csv, short_form_reasons.csv, "
        "followup_response.csv) plus the patient-level baseline rate, trend tests and the "
        "data-quality tables (quality_*.csv) into OUT. UTF-8, ',' separator, '.' decimal mark, "
        "shares as fractions 0-1, blank where undefined (0/0). The folder is replaced as a whole.",
    )
    p.add_argument("extract", type=Path, help="folder holding the extract's table files")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder to write the CSV files into")
    add_as_of(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from ..stats.export import write_tables

    as_of = as_of_date(args.as_of)
    reg = load_with_summary(args.extract)
    written = write_tables(reg, args.out, as_of=as_of)
    print(f"Skrev {len(written)} tabeller til {args.out} (oppfølging per {as_of:%Y-%m-%d}).")
    return 0
