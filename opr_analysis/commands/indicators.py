"""``opr indicators EXTRACT --out DIR [--as-of DATE] [--definitions FILE]``: quality indicators per unit."""

from __future__ import annotations

from pathlib import Path

from ._dates import add_as_of, add_no_cache, as_of_date, load_with_summary


def register(sub) -> None:
    p = sub.add_parser(
        "indicators",
        help="kvalitetsindikatorer per enhet og år, og leveransefilen til den nasjonale resultattjenesten",
        description="Les og kontroller et registeruttrekk, regn ut hver kvalitetsindikator "
        "(indicators.yaml) per enhet, år og for hele registeret, og skriv indikatorer.csv "
        "(teller, nevner, verdi, 95 %% Wilson-grenser, måloppnåelse) og nasjonal_leveranse.csv "
        "(context, year, orgnr, ind_id, var, denominator), kontrollert slik resultattjenesten kontrollerer "
        "en opplasting før noe skrives. Mappen erstattes som helhet.",
    )
    p.add_argument("extract", type=Path, help="mappen med uttrekkets tabellfiler")
    p.add_argument("--out", type=Path, required=True, metavar="MAPPE", help="mappen de to CSV-filene skrives til")
    p.add_argument(
        "--definitions",
        type=Path,
        metavar="FIL",
        help="registerets egen indikatorfil (YAML): oppføringer erstatter pakkens med samme id, eller legges til",
    )
    add_as_of(p)
    add_no_cache(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from ..indicators.output import tables_read, write_indicators

    as_of = as_of_date(args.as_of)
    reg = load_with_summary(args.extract, tables_read(args.definitions))
    written = write_indicators(reg, args.out, as_of=as_of, definitions_file=args.definitions)
    print(f"Skrev {', '.join(p.name for p in written)} til {args.out} (oppfølging per {as_of:%Y-%m-%d}).")
    return 0
