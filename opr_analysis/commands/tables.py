"""``opr tables EXTRACT --out DIR [--as-of DATE]``: write the annual report's tables as CSV."""

from __future__ import annotations

from ._dates import add_as_of, as_of_date, load_with_summary
from ._options import path_arg


def register(sub) -> None:
    p = sub.add_parser(
        "tables",
        help="skriv årsrapportens tabeller som CSV (navn og kolonner som i datakontrakten)",
        description="Les og kontroller et registeruttrekk, og skriv de sju rapporttabellene i "
        "datakontrakten (referrals_assessed.csv, referrals_by_region.csv, baseline_response.csv, "
        "legacy_baseline_response.csv, completion_time.csv, short_form_reasons.csv, "
        "followup_response.csv) pluss svarandel per pasient, trendtester og datakvalitetstabellene "
        "(quality_*.csv) til UT. UTF-8, komma som skilletegn, punktum som desimaltegn, andeler som "
        "brøk 0–1, tomt der verdien ikke er definert (0/0). Mappen erstattes som helhet, og bare "
        "hvis opr tables har skrevet den.",
    )
    p.add_argument("extract", type=path_arg, metavar="UTTREKK", help="mappen med uttrekkets tabellfiler")
    p.add_argument("--out", type=path_arg, required=True, metavar="UT", help="mappen CSV-filene skrives til")
    add_as_of(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from ..safety.owned import check_dir_target, protected_folders
    from ..stats.export import write_tables

    as_of = as_of_date(args.as_of)
    check_dir_target(args.out, "tables", protected_folders([args.extract]))
    reg = load_with_summary(args.extract)
    written = write_tables(reg, args.out, as_of=as_of)
    print(f"Skrev {len(written)} tabeller til {args.out} (oppfølging per {as_of:%Y-%m-%d}).")
    return 0
