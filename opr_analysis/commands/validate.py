"""``opr validate EXTRACT --quarantine DIR``: check an extract, compute nothing."""

from __future__ import annotations

from ._options import path_arg


def register(sub) -> None:
    p = sub.add_parser(
        "validate",
        help="kontroller et uttrekk og skriv radene som er satt i karantene",
        description="Les og kontroller hver tabell i et registeruttrekk mot kodeboken. "
        "Avslutningskode 0: kan brukes (rader kan være satt i karantene); 1: kan ikke brukes "
        "(en påkrevd tabell eller kolonne mangler, en fil kan ikke leses, et fødselsnummer); "
        "2: feil bruk.",
    )
    p.add_argument("extract", type=path_arg, metavar="UTTREKK", help="mappen med uttrekkets tabellfiler")
    p.add_argument(
        "--quarantine",
        type=path_arg,
        metavar="MAPPE",
        help="mappe for <tabell>.csv med radene i karantene (med row og quarantine_reason); "
        "erstattes som helhet, og bare hvis opr validate har skrevet den",
    )
    p.set_defaults(func=run)


def run(args) -> int:
    from ..extract.reader import load_extract

    if args.quarantine is not None:
        from ..safety.owned import check_dir_target, protected_folders

        check_dir_target(args.quarantine, "validate", protected_folders([args.extract]))
    reg = load_extract(args.extract)
    print(reg.report.summary_text())
    if args.quarantine is not None:
        written = reg.report.write_quarantine(args.quarantine, extract=args.extract)
        if written:
            print(f"Karantenefiler: {', '.join(str(p) for p in written)}")
    n = reg.report.rows_quarantined
    print("Uttrekket kan brukes." + (f" {n} rader er satt i karantene." if n else " Ingen rader i karantene."))
    return 0
