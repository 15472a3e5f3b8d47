"""Parsing the ``--as-of`` option shared by commands."""

from __future__ import annotations

from ..errors import UsageError


def as_of_date(text: str | None):
    """``YYYY-MM-DD`` or ``DD.MM.YYYY`` as a date; None gives today.

    >>> as_of_date("31.12.2023")
    Timestamp('2023-12-31 00:00:00')
    """
    import pandas as pd  # here, not at module level: `opr --help` must not load pandas

    if text is None:
        return pd.Timestamp.today().normalize()
    for fmt in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return pd.Timestamp(pd.to_datetime(text.strip(), format=fmt))
        except (ValueError, TypeError):
            continue
    raise UsageError(f"--as-of «{text}» er ikke en dato (skriv ÅÅÅÅ-MM-DD eller DD.MM.ÅÅÅÅ)")


def add_as_of(parser) -> None:
    """The ``--as-of DATE`` option of the commands that apply the follow-up rule."""
    parser.add_argument(
        "--as-of",
        metavar="DATE",
        help="follow-ups due after this date are not yet owed (YYYY-MM-DD or DD.MM.YYYY; default: today)",
    )


def load_with_summary(path):
    """Load an extract and print its validation summary (read/used/quarantined) to stderr."""
    import sys

    from ..extract.reader import load_extract

    reg = load_extract(path)
    print(reg.report.summary_text(), file=sys.stderr)
    return reg
