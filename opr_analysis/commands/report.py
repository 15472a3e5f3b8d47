"""``opr report --extract DIR --year Y [--formats html,docx,pdf] [--out DIR]``: the annual report."""

from __future__ import annotations

import argparse
from pathlib import Path

from ._options import bounded_int, path_arg, unit_id, year_arg

# Mirrors opr_analysis.report.pipeline.FORMATS (a test checks that they agree); not imported from there so
# that `opr --help` does not load the report's dependencies.
FORMATS = ("html", "docx", "pdf")


def register(sub) -> None:
    p = sub.add_parser(
        "report",
        help="lag årsrapporten fra et uttrekk (HTML, DOCX, PDF)",
        description="Kontroller uttrekket, kjør rapportnotatboken med papermill (lagres i UT/build/ som "
        "revisjonsspor) og lag rapporten med Quarto (HTML, DOCX, PDF via Typst). Uten Quarto blir den "
        "kjørte notatboken én selvstendig HTML-fil (nbconvert). UT/manifest.json viser parametrene, "
        "sjekksummer for alle inndata, radtall, versjoner og tidsbruk. UT erstattes først når kjøringen "
        "er ferdig, og bare hvis opr report har skrevet den; et uttrekk med feil stopper kjøringen uten "
        "at noe skrives. Alle argumenter kontrolleres før arbeidet starter.",
    )
    p.add_argument(
        "--extract",
        type=path_arg,
        default=Path("data/synthetic"),
        metavar="MAPPE",
        help="mappen med uttrekkets tabellfiler (standard: data/synthetic)",
    )
    p.add_argument(
        "--year",
        type=year_arg(),
        default=None,
        metavar="ÅR",
        help="rapportåret, etter uttrekkets første år (standard: siste hele kalenderår før --as-of, "
        "eller siste år med henvisninger hvis det er tidligere)",
    )
    p.add_argument(
        "--as-of",
        default=None,
        metavar="DATO",
        help="datoen kjøringen gjelder for skyldige oppfølginger (ÅÅÅÅ-MM-DD eller DD.MM.ÅÅÅÅ; standard: i dag)",
    )
    p.add_argument(
        "--formats",
        type=_formats,
        default=None,
        metavar="LISTE",
        help="kommaseparerte formater blant html,docx,pdf (standard: alle tre med Quarto, html uten)",
    )
    p.add_argument(
        "--out",
        type=path_arg,
        default=Path("_output/report"),
        metavar="MAPPE",
        help="mappen rapporten skrives til; erstattes som helhet når kjøringen er ferdig, og bare hvis "
        "opr report har skrevet den (standard: _output/report)",
    )
    p.add_argument(
        "--min-cell",
        type=bounded_int(1, 100),
        default=5,
        metavar="N",
        help="skjul pasienttall under N (1–100) i tabeller over pasientenes kjennetegn og utfall "
        "(standard: 5; 1 viser alt)",
    )
    p.add_argument(
        "--years-shown",
        type=bounded_int(1, 10),
        default=3,
        metavar="N",
        help="år som vises side om side i tabell 10–12 og 15, 1–10 (standard: 3)",
    )
    p.add_argument(
        "--texts",
        type=path_arg,
        default=None,
        metavar="MAPPE",
        help="mappen med rapportens redigerbare tekster (standard: reports/ i denne kopien)",
    )
    p.add_argument(
        "--no-proms",
        dest="include_proms",
        action="store_false",
        help="utelat kapitlet om pasientrapporterte utfall (PROM); det hoppes også over, med én setning, "
        "når uttrekket ikke har skjemasvar",
    )
    p.add_argument(
        "--unit",
        type=unit_id,
        default=None,
        metavar="ID",
        help="lag rapporten for én enhet (en unit_id i uttrekkets units-tabell: bokstaver, sifre, _ og -): "
        "enhetens egne tall, med hele registeret ved siden av i kapitlet om kvalitetsindikatorer",
    )
    p.set_defaults(func=run)


def _formats(text: str) -> list[str]:
    formats = [f.strip().lower() for f in text.split(",") if f.strip()]
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise argparse.ArgumentTypeError(
            f"ukjent format {', '.join(unknown) or '(tomt)'}; velg blant {', '.join(FORMATS)}, skilt med komma"
        )
    return formats


def run(args) -> int:
    from ..report.pipeline import run_report
    from ._dates import parse_date

    as_of = parse_date(args.as_of) if args.as_of is not None else None
    run_report(
        args.extract,
        year=args.year,
        as_of=as_of,
        formats=args.formats,
        out=args.out,
        min_cell=args.min_cell,
        years_shown=args.years_shown,
        texts_dir=args.texts,
        include_proms=args.include_proms,
        unit=args.unit,
    )
    return 0
