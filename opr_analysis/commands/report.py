"""``opr report --extract DIR --year Y [--formats html,docx,pdf] [--out DIR]``: the annual report."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from ..errors import UsageError


def register(sub) -> None:
    p = sub.add_parser(
        "report",
        help="render the annual report from an extract (HTML, DOCX, PDF)",
        description="Validate the extract, execute the report notebook with papermill (kept in OUT/build/ "
        "as the audit trail) and render it with Quarto (HTML, DOCX, PDF via Typst). Without Quarto the "
        "executed notebook becomes one self-contained HTML file (nbconvert). OUT/manifest.json records "
        "parameters, input hashes, row counts, versions and timings. OUT is replaced only when the run "
        "is complete; a bad extract stops the run with nothing written.",
    )
    p.add_argument(
        "--extract",
        type=Path,
        default=Path("data/synthetic"),
        metavar="DIR",
        help="folder holding the extract's table files (default: data/synthetic)",
    )
    p.add_argument(
        "--year",
        type=int,
        default=None,
        help="report year (default: the last complete calendar year before --as-of, or the last "
        "year with referrals if that is earlier)",
    )
    p.add_argument(
        "--as-of",
        type=_date,
        default=None,
        metavar="YYYY-MM-DD",
        help="date of the run for follow-ups owed (default: today)",
    )
    p.add_argument(
        "--formats",
        type=_formats,
        default=None,
        metavar="LIST",
        help="comma-separated output formats among html,docx,pdf (default: all three with Quarto, html without)",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=Path("_output"),
        metavar="DIR",
        help="output folder, replaced as a whole when the run is complete (default: _output)",
    )
    p.add_argument(
        "--min-cell",
        type=int,
        default=5,
        metavar="N",
        help="hide patient counts below N in tables of patients' characteristics and outcomes "
        "(default: 5; 1 shows everything)",
    )
    p.add_argument(
        "--years-shown",
        type=int,
        default=3,
        metavar="N",
        help="years shown side by side in tables 10-12 and 15 (default: 3)",
    )
    p.add_argument(
        "--texts",
        type=Path,
        default=None,
        metavar="DIR",
        help="folder of the editable report texts (default: reports/ of this checkout)",
    )
    p.add_argument(
        "--no-proms",
        dest="include_proms",
        action="store_false",
        help="leave out the chapter on patient-reported outcomes (PROM); it is also skipped, with one "
        "sentence, when the extract has no questionnaire answers",
    )
    p.add_argument(
        "--unit",
        default=None,
        metavar="ID",
        help="render one unit's report (a unit_id of the extract's units table): its own numbers, with the "
        "registry total beside them in the quality-indicator chapter",
    )
    p.set_defaults(func=run)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"«{text}» er ikke en dato på formen ÅÅÅÅ-MM-DD") from exc


def _formats(text: str) -> list[str]:
    return [f.strip().lower() for f in text.split(",") if f.strip()]


def run(args) -> int:
    from ..report.pipeline import run_report

    if args.min_cell < 1:
        raise UsageError("--min-cell må være 1 eller større")
    run_report(
        args.extract,
        year=args.year,
        as_of=args.as_of,
        formats=args.formats,
        out=args.out,
        min_cell=args.min_cell,
        years_shown=args.years_shown,
        texts_dir=args.texts,
        include_proms=args.include_proms,
        unit=args.unit,
    )
    return 0
