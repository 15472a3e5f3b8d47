"""``opr extract SPEC --extract DIR --out DIR``: deliver a research extract."""

from __future__ import annotations

from ._options import path_arg


def register(sub) -> None:
    p = sub.add_parser(
        "extract",
        help="lever et forskningsuttrekk fra en godkjent spesifikasjonsfil",
        description="Lever forskningsuttrekket SPEC (YAML) beskriver: pseudonymiserte datafiler "
        "(CSV, Parquet, SPSS, Stata, Excel) med etiketter, kodebok, README, en kopi av spesifikasjonen, "
        "dokumentasjon og manifest.json med SHA-256 for hver fil. Samme spesifikasjon, nøkkel og uttrekk "
        "gir byte-identiske filer. Prosjektets nøkkel hentes fra OPR_EXTRACT_KEY_<PROSJEKT>, "
        "OPR_EXTRACT_KEY eller nøkkellageret (OPR_KEY_DIR eller keys/ i prosjektmappen; lages ved første "
        "bruk, modus 0600). Hver leveranse føres i leveranseloggen (delivery-log.csv ved siden av nøkkellageret). "
        "Avslutningskode 0: levert; 1: uttrekket kan ikke brukes eller leveransen er avvist "
        "(k-anonymitet); 2: feil i spesifikasjonen eller i argumentene.",
    )
    p.add_argument(
        "spec", type=path_arg, metavar="SPEC", help="leveransespesifikasjonen (YAML; se reports/extracts/examples/)"
    )
    p.add_argument("--extract", type=path_arg, required=True, metavar="MAPPE", help="mappen med registeruttrekket")
    p.add_argument(
        "--out",
        type=path_arg,
        required=True,
        metavar="MAPPE",
        help="leveransemappen (lages, eller erstattes som helhet hvis opr extract har skrevet den)",
    )
    p.add_argument(
        "--log",
        type=path_arg,
        metavar="FIL",
        help="leveranseloggen det legges til en linje i (standard: delivery-log.csv ved siden av nøkkellageret)",
    )
    p.add_argument(
        "--key-dir", type=path_arg, metavar="MAPPE", help="nøkkellageret (standard: $OPR_KEY_DIR eller keys/)"
    )
    p.add_argument("--no-docs", action="store_true", help="ikke kjør og lag dokumentasjonsnotatboken")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..safety.limits import check_yaml_file

    check_yaml_file(args.spec)  # a hostile spec is refused before the heavy imports and any work
    from ..safety.owned import check_key_store

    check_key_store(args.key_dir, [args.extract], [args.out])
    from ..extracts import deliver

    d = deliver(args.spec, args.extract, args.out, log=args.log, key_dir=args.key_dir, docs=not args.no_docs)
    gen = f" Generalisert: {', '.join(d.generalised)}." if d.generalised else ""
    print(f"Levert {d.enrolments} innskrivinger ({d.patients} pasienter) i {len(d.files)} filer til {d.folder}.{gen}")
    print(f"Manifest SHA-256 {d.manifest_sha256}; loggført i {d.log}.")
    return 0
