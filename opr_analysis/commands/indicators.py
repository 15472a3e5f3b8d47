"""``opr indicators EXTRACT --out DIR [--as-of DATE] [--definitions FILE]``: quality indicators per unit."""

from __future__ import annotations

from ._dates import add_as_of, as_of_date, load_with_summary
from ._options import path_arg


def register(sub) -> None:
    p = sub.add_parser(
        "indicators",
        help="kvalitetsindikatorer per enhet og år, og leveransefilen til den nasjonale resultattjenesten",
        description="Les og kontroller et registeruttrekk, regn ut hver kvalitetsindikator "
        "(indicators.yaml) per enhet, år og for hele registeret, og skriv indikatorer.csv "
        "(teller, nevner, verdi, 95 %% Wilson-grenser, måloppnåelse) og nasjonal_leveranse.csv "
        "(context, year, orgnr, ind_id, var, denominator), kontrollert slik resultattjenesten kontrollerer "
        "en opplasting før noe skrives. Mappen erstattes som helhet. Små tall: nasjonal_leveranse.csv har "
        "tellerne og nevnerne uendret, også små (2 av 3); filen er ingen publikasjon, men registerets "
        "overføring til resultattjenesten, som selv skjuler små tall og for lite datagrunnlag i alt den viser. "
        "Den lastes bare opp der og skal aldri publiseres eller deles som den er.",
    )
    p.add_argument("extract", type=path_arg, help="mappen med uttrekkets tabellfiler")
    p.add_argument("--out", type=path_arg, required=True, metavar="MAPPE", help="mappen de to CSV-filene skrives til")
    p.add_argument(
        "--definitions",
        type=path_arg,
        metavar="FIL",
        help="registerets egen indikatorfil (YAML): oppføringer erstatter pakkens med samme id, eller legges til",
    )
    add_as_of(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from ..indicators import load_definitions
    from ..indicators.output import write_indicators
    from ..safety.owned import check_dir_target, protected_folders

    as_of = as_of_date(args.as_of)
    load_definitions(args.definitions)  # a bad definitions file or --out is refused before the extract is read
    check_dir_target(args.out, "indicators", protected_folders([args.extract]))
    reg = load_with_summary(args.extract)
    written = write_indicators(reg, args.out, as_of=as_of, definitions_file=args.definitions)
    print(f"Skrev {', '.join(p.name for p in written)} til {args.out} (oppfølging per {as_of:%Y-%m-%d}).")
    print(
        "Merk: nasjonal_leveranse.csv har små tall uskjult; den skal bare lastes opp til resultattjenesten "
        "(som skjuler små tall selv), aldri publiseres eller deles som den er."
    )
    return 0
