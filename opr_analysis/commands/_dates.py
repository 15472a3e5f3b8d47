"""Checking the options shared by commands: ``--as-of``, output targets, the delivery register's files.

Every value is checked before any work starts; a bad one raises
:class:`~opr_analysis.errors.UsageError` (exit status 2, one Norwegian line).
"""

from __future__ import annotations

import datetime as dt

from ..errors import UsageError

DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y")


def parse_date(text: str, option: str = "--as-of") -> dt.date:
    """``YYYY-MM-DD`` or ``DD.MM.YYYY`` (both everywhere) as a date between
    :data:`~opr_analysis.safety.limits.MIN_DATE` and :data:`~opr_analysis.safety.limits.MAX_DATE`;
    anything else, the empty text included, is a :class:`UsageError`.

    >>> parse_date("31.12.2024"), parse_date(" 2024-12-31 ")
    (datetime.date(2024, 12, 31), datetime.date(2024, 12, 31))
    >>> parse_date("")
    Traceback (most recent call last):
    ...
    opr_analysis.errors.UsageError: --as-of «» er ikke en dato (skriv ÅÅÅÅ-MM-DD eller DD.MM.ÅÅÅÅ)
    """
    from ..safety.limits import MAX_DATE, MIN_DATE

    for fmt in DATE_FORMATS:
        try:
            value = dt.datetime.strptime(str(text).strip(), fmt).date()
        except ValueError:
            continue
        if not MIN_DATE <= value <= MAX_DATE:
            raise UsageError(f"{option} «{text}» ligger utenfor {MIN_DATE:%d.%m.%Y}–{MAX_DATE:%d.%m.%Y}")
        return value
    raise UsageError(f"{option} «{text}» er ikke en dato (skriv ÅÅÅÅ-MM-DD eller DD.MM.ÅÅÅÅ)")


def as_of_date(text: str | None):
    """``--as-of`` as a pandas Timestamp (see :func:`parse_date`); None gives today.

    >>> as_of_date("31.12.2023")
    Timestamp('2023-12-31 00:00:00')
    """
    import pandas as pd  # here, not at module level: `opr --help` must not load pandas

    if text is None:
        return pd.Timestamp.today().normalize()
    return pd.Timestamp(parse_date(text))


def add_as_of(parser) -> None:
    """The ``--as-of DATE`` option of the commands that apply the follow-up rule."""
    parser.add_argument(
        "--as-of",
        metavar="DATO",
        help="oppfølginger med frist etter denne datoen er ennå ikke skyldige "
        "(ÅÅÅÅ-MM-DD eller DD.MM.ÅÅÅÅ; standard: i dag)",
    )


def load_with_summary(path):
    """Load an extract and print its validation summary (read/used/quarantined) to stderr."""
    import sys

    from ..extract.reader import load_extract

    reg = load_extract(path)
    print(reg.report.summary_text(), file=sys.stderr)
    return reg


def add_register_options(parser) -> None:
    """``--log`` and ``--key-dir`` of the commands that read the delivery register (``opr innsyn``, ``opr sletting``)."""
    from ._options import path_arg

    parser.add_argument(
        "--log",
        type=path_arg,
        metavar="FIL",
        help="leveranseloggen; registeret ligger ved siden av den (standard: delivery-log.csv ved siden av "
        "nøkkellageret)",
    )
    parser.add_argument(
        "--key-dir", type=path_arg, metavar="MAPPE", help="nøkkellageret (standard: $OPR_KEY_DIR eller keys/)"
    )


def check_register_options(args, out):
    """The delivery log and key store of ``args`` (``--log``, ``--key-dir``) checked before any work, for a
    command writing ``out``: a key store that is a folder outside the extract and the output, a log that is
    the delivery log (or absent) outside every folder opr replaces, and register files that are the
    register's. Returns the log's path."""
    from pathlib import Path

    from ..extracts.delivery import check_log, default_log
    from ..rights.register import check_register
    from ..safety.owned import check_key_store

    check_key_store(args.key_dir, [args.extract], [out])
    log = args.log or default_log(args.key_dir)
    parent = next((d for d in Path(log).parents if d.exists()), None)
    if parent is not None and not parent.is_dir():
        raise UsageError(f"leveranseloggen «{log}» ligger under «{parent}», som er en fil; oppgi en fil i en mappe")
    check_log(log, out)
    check_register(log)
    return log
