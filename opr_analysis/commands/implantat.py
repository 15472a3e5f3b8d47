"""``opr implantat søk EXTRACT --out DIR [filters]``: the recall list for a field safety notice.

Every argument is checked before the extract is read (dates, filters, the serial-number file,
the target folder); the list is written by :mod:`opr_analysis.implants.output` and the command
prints counts only, never an id.
"""

from __future__ import annotations

import argparse

from ._dates import add_no_cache, parse_date
from ._options import path_arg

COMPONENTS = ("generator", "elektrode", "annet")  # the codebook's codes (a test keeps them in step)


def text_arg(text: str) -> str:
    """An argparse type: a manufacturer, model, lot or serial number to search for (not blank, no control
    characters, at most :data:`~opr_analysis.implants.matching.MAX_TEXT_CHARS` characters)."""
    from ..implants.matching import text_problem
    from ..safety.nin import mask_nin

    problem = text_problem(text)
    if problem:
        raise argparse.ArgumentTypeError(f"«{mask_nin(text[:40])}» {problem}")
    return text


text_arg.__name__ = "tekst"


def register(sub) -> None:
    p = sub.add_parser(
        "implantat",
        help="søk i implantatregisteret: hvem har fortsatt en tilbakekalt komponent",
        description="Implantatregisteret (datakontrakt v1.2, tabellen implants). «søk» lager listen klinikken "
        "trenger samme dag som en produsent sender et sikkerhetsvarsel (field safety notice).",
    )
    actions = p.add_subparsers(dest="action", metavar="HANDLING", required=True, title="handlinger")
    s = actions.add_parser(
        "søk",
        aliases=["sok"],
        help="lag tilbakekallingslisten (CSV og Excel) for et sikkerhetsvarsel",
        description="Finn alle pasienter som fortsatt har en komponent som varselet gjelder, per --as-of "
        "(standard i dag), med enhet, komponent, produsent, modell, serienummer, parti, implantasjonsdato og "
        "om pasienten har reservert seg eller krevd sletting (de skal likevel kontaktes). Egne lister: "
        "komponenter som allerede er fjernet (dato og årsak), rader i karantene som samsvarer, og serienumre "
        "i varselet som ikke traff noen. Tekst sammenlignes eksakt etter at mellomrom foran og bak er fjernet, "
        "Unicode er normalisert (NFKC) og store og små bokstaver er likestilt; ingen omtrentlig treff. Flere "
        "verdier av samme filter er alternativer; ulike filtre må alle stemme. Listen inneholder pasient-ID-er "
        "og skrives bare til en egen mappe (aldri i en rapport- eller utleveringsmappe); kommandoen skriver "
        "bare antall på skjermen.",
    )
    s.add_argument("extract", type=path_arg, metavar="UTTREKK", help="mappen med uttrekkets tabellfiler")
    s.add_argument("--out", type=path_arg, required=True, metavar="MAPPE", help="mappen listen skrives til")
    s.add_argument(
        "--manufacturer", action="append", type=text_arg, default=[], metavar="PRODUSENT", help="produsenten"
    )
    s.add_argument(
        "--model", action="append", type=text_arg, default=[], metavar="MODELL", help="modellen (kan gjentas)"
    )
    s.add_argument(
        "--lot", action="append", type=text_arg, default=[], metavar="PARTI", help="produksjonspartiet (kan gjentas)"
    )
    s.add_argument(
        "--serial",
        action="extend",
        nargs="+",
        type=text_arg,
        default=[],
        metavar="SERIENR",
        help="ett eller flere serienumre (kan gjentas)",
    )
    s.add_argument(
        "--serial-file",
        action="append",
        type=path_arg,
        default=[],
        metavar="FIL",
        help="fil med serienumrene fra varselet: ett per linje, en CSV-kolonne eller en Excel-kolonne "
        "(overskriften «Serial number» eller «Serienummer» finnes selv; ellers --serial-column)",
    )
    s.add_argument("--serial-column", type=text_arg, metavar="NAVN", help="kolonnen med serienumre i --serial-file")
    s.add_argument("--component", action="append", default=[], choices=COMPONENTS, help="komponenten (kan gjentas)")
    s.add_argument("--implanted-from", metavar="DATO", help="implantert denne dagen eller senere")
    s.add_argument("--implanted-to", metavar="DATO", help="implantert denne dagen eller tidligere")
    s.add_argument(
        "--as-of",
        metavar="DATO",
        help="dagen listen gjelder: komponenter fjernet senere regnes som på plass (ÅÅÅÅ-MM-DD eller "
        "DD.MM.ÅÅÅÅ; standard: i dag)",
    )
    add_no_cache(s)
    s.set_defaults(func=run)


def _query(args):
    """The recall query from the arguments (every value checked; the serial files read)."""
    import pandas as pd

    from ..implants.notice import read_serials
    from ..implants.recall import RecallQuery

    def day(option: str, text: str | None):
        return None if text is None else pd.Timestamp(parse_date(text, option))

    serials = list(args.serial)
    for path in args.serial_file:
        serials += read_serials(path, args.serial_column)
    if args.serial_column and not args.serial_file:
        from ..errors import UsageError

        raise UsageError("--serial-column gjelder bare sammen med --serial-file")
    query = RecallQuery(
        manufacturers=tuple(args.manufacturer),
        models=tuple(args.model),
        lots=tuple(args.lot),
        serials=tuple(serials),
        components=tuple(dict.fromkeys(args.component)),
        implanted_from=day("--implanted-from", args.implanted_from),
        implanted_to=day("--implanted-to", args.implanted_to),
    )
    query.check()
    return query


def run(args) -> int:
    import sys
    import time

    from ..extract.reader import load_extract
    from ..implants.output import check_target, write_recall
    from ..implants.recall import recall
    from ._dates import as_of_date

    start = time.perf_counter()
    as_of = as_of_date(args.as_of)
    query = _query(args)
    check_target(args.out, args.extract)
    from ..extract.needs import tables_read_by

    # Only the tables the recall reads (and those they refer to): not the questionnaire answers, which at
    # national size are tens of millions of rows the list never looks at.
    reg = load_extract(args.extract, tables_read_by(recall))
    # The per-table counts only: a problem line would show cell values, and this list is about patients.
    print(reg.report.summary_text(max_problems=0), file=sys.stderr)
    result = recall(reg, query, as_of)
    written = write_recall(result, args.out, args.extract)
    for line in result.summary_lines():
        print(line)
    names = ", ".join(p.name for p in written)
    print(f"Listen ligger i {args.out}: {names} ({time.perf_counter() - start:.1f} s).")
    return 0
