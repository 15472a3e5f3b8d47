"""Small-number suppression for tables about patients' characteristics or outcomes.

Rule (documented in the report's method section):

* **Primary**: a count ``n`` with ``0 < n < min_cell`` is hidden and shown as
  ``<5`` (for the default ``min_cell`` 5). Zeros are shown: an empty cell
  reveals nobody.
* **Secondary**: published counts are tied together by sums (parts add up to
  a shown total). In every such group a single hidden cell could be recovered
  by subtraction, so whenever a group holds exactly one hidden cell, the
  smallest other non-zero cell of the group is hidden too. Groups may overlap
  (rows and columns of a two-way table, or several sums in one row); the rule
  is repeated until no group has exactly one hidden cell. A cell hidden this
  way is not small, so it shows «×» rather than «<5».
* A share whose numerator is hidden is hidden too (shown as «–»).

Administrative counts (referrals, forms, reasons) are not suppressed.

Two front ends share one rule: :func:`suppress` for a long frame (one count per
row, groups given by key columns) and :func:`suppress_wide` for a wide frame
(several counts per row, with per-row partitions such as
``owed = sent_owed + not_sent``; there the total is a member of its group).

Examples
--------
>>> import pandas as pd
>>> t = pd.DataFrame({"year": [2024] * 3, "kind": ["a", "b", "c"], "n": [3, 10, 20]})
>>> suppress(t, "n", groups=[["year"]]).tolist()
[True, True, False]
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

import pandas as pd

from ..formatting import MISSING, fmt_int

DEFAULT_MIN_CELL = 5
SECONDARY = "×"  # a count of min_cell or more, hidden so that a sum cannot reveal a small one

__all__ = [
    "DEFAULT_MIN_CELL",
    "SECONDARY",
    "suppression_note",
    "small_share",
    "suppress",
    "suppress_wide",
    "suppressed_label",
    "display_counts",
    "display_hidden",
]


def suppressed_label(min_cell: int = DEFAULT_MIN_CELL) -> str:
    """What a hidden count shows: ``<5`` for ``min_cell=5``."""
    return f"<{min_cell}"


def _primary(values: pd.Series, min_cell: int) -> pd.Series:
    counts = pd.to_numeric(values, errors="coerce").astype("Float64")
    return ((counts > 0) & (counts < min_cell)).fillna(False).astype(bool)


def _secondary(values: pd.Series, hidden: pd.Series, groups: list[list[Hashable]]) -> pd.Series:
    """Hide more cells until no group of cells holds exactly one hidden cell."""
    counts = pd.to_numeric(values, errors="coerce").astype("Float64")
    hidden = hidden.copy()
    changed = True
    while changed:
        changed = False
        for cells in groups:
            if int(hidden.loc[cells].sum()) != 1:
                continue
            sub = counts.loc[cells]
            candidates = sub[~hidden.loc[cells] & (sub > 0).fillna(False)]
            if candidates.empty:
                continue
            hidden.loc[candidates.astype(float).idxmin()] = True
            changed = True
    return hidden


def suppress(
    frame: pd.DataFrame,
    value: str,
    groups: Sequence[Sequence[str]] = (),
    min_cell: int = DEFAULT_MIN_CELL,
) -> pd.Series:
    """Boolean mask (aligned to ``frame``) of the counts in column ``value`` to hide.

    ``groups`` lists groupings (each a list of key columns) whose cells add up
    to a published total; ``[]`` as a grouping means "all rows form one group".
    With ``min_cell <= 1`` nothing is hidden.

    >>> t = pd.DataFrame({"g": ["x", "x", "x", "y", "y"], "n": [2, 0, 7, 9, 12]})
    >>> suppress(t, "n", groups=[["g"]]).tolist()   # 0 is not hidden; 7 is the next smallest
    [True, False, True, False, False]
    """
    if min_cell <= 1:
        return pd.Series(False, index=frame.index)
    hidden = _primary(frame[value], min_cell)
    cell_groups = []
    for by in groups:
        if by:
            keys = list(by) if len(by) > 1 else by[0]
            cell_groups += [list(ix) for ix in frame.groupby(keys, observed=True, dropna=False).groups.values()]
        else:
            cell_groups.append(list(frame.index))
    return _secondary(frame[value], hidden, cell_groups)


def suppress_wide(
    frame: pd.DataFrame,
    partitions: Sequence[tuple[str, Sequence[str]]] | Mapping[str, Sequence[str]],
    min_cell: int = DEFAULT_MIN_CELL,
    extra_columns: Sequence[str] = (),
    total_row: Hashable | None = None,
) -> pd.DataFrame:
    """Boolean frame (same index; one column per count column) of counts to hide.

    ``partitions`` pairs a total column with the columns that add up to it in
    each row, e.g. ``[("owed", ["sent_owed", "not_sent"])]`` (a dict works when
    every total has one partition); the total belongs to the group. A part that is not shown (such as "sent but not answered") may be
    given as a column too; it takes part in the rule and is simply not displayed.
    ``total_row`` names a row that holds the column sums of the other rows; each
    column is then a group too.

    >>> t = pd.DataFrame({"sent": [20, 40], "responded": [17, 2], "no_answer": [3, 38]})
    >>> m = suppress_wide(t, {"sent": ["responded", "no_answer"]})
    >>> m["responded"].tolist(), m["no_answer"].tolist()
    ([True, True], [True, True])
    """
    pairs = list(partitions.items()) if isinstance(partitions, Mapping) else [(t, list(p)) for t, p in partitions]
    columns = list(dict.fromkeys([*(t for t, _ in pairs), *(c for _, p in pairs for c in p), *extra_columns]))
    if min_cell <= 1:
        return pd.DataFrame(False, index=frame.index, columns=columns)
    long = frame[columns].stack(future_stack=True)
    hidden = _primary(long, min_cell)
    groups = [[(row, total), *[(row, part) for part in parts]] for row in frame.index for total, parts in pairs]
    if total_row is not None:
        rows = [r for r in frame.index if r != total_row]
        groups += [[(total_row, col), *[(r, col) for r in rows]] for col in columns]
    hidden = _secondary(long, hidden, groups)
    return hidden.unstack()[columns].astype(bool)


def display_counts(counts: pd.Series, hidden: pd.Series | None = None, min_cell: int = DEFAULT_MIN_CELL) -> pd.Series:
    """Counts as Norwegian text: a count below ``min_cell`` shows ``<min_cell``; a larger
    count hidden by secondary suppression shows :data:`SECONDARY` («×»).

    >>> display_counts(pd.Series([3, 38, 1200]), pd.Series([True, True, False])).str.replace("\\u00a0", " ").tolist()
    ['<5', '×', '1 200']
    """
    if hidden is None:
        hidden = pd.Series(False, index=counts.index)
    label = suppressed_label(min_cell)
    return pd.Series(
        [(label if v < min_cell else SECONDARY) if h else fmt_int(v) for v, h in zip(counts, hidden, strict=True)],
        index=counts.index,
        dtype=object,
    )


def display_hidden(text: pd.Series, hidden: pd.Series) -> pd.Series:
    """Replace already formatted values (shares, intervals) by «–» where hidden."""
    return text.where(~hidden.astype(bool), MISSING)


def suppression_note(min_cell: int = DEFAULT_MIN_CELL) -> str:
    """The source-note sentence that explains «<5» and «×»."""
    return (
        f"Antall under {min_cell} vises som «{suppressed_label(min_cell)}»; «{SECONDARY}» er et større tall som er "
        "skjult for at en sum ikke skal avsløre et lite tall."
    )


def small_share(frame: pd.DataFrame, numerator: str, denominator: str, min_cell: int = DEFAULT_MIN_CELL) -> pd.Series:
    """Rows whose share would reveal a small count: numerator or ``denominator - numerator``
    between 1 and ``min_cell - 1`` (for figures of shares about patients).

    >>> t = pd.DataFrame({"responded": [3, 20, 20], "sent": [40, 22, 60]})
    >>> small_share(t, "responded", "sent").tolist()
    [True, True, False]
    """
    num = pd.to_numeric(frame[numerator], errors="coerce").astype("Float64")
    rest = pd.to_numeric(frame[denominator], errors="coerce").astype("Float64") - num
    small = lambda s: (s > 0) & (s < min_cell)  # noqa: E731
    return (small(num) | small(rest)).fillna(False).astype(bool)
