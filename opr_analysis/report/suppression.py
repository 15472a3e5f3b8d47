"""Small-number suppression that cannot be undone, for tables about patients.

Rule (documented in the report's method section and the delivery README):

* **Primary**: a count ``n`` with ``0 < n < min_cell`` is hidden. Zeros are
  shown: an empty cell reveals nobody.
* **One symbol**: every hidden count shows :data:`SUPPRESSED` («×»), whatever
  its size, so the symbol itself says nothing about the value (two symbols,
  «<5» and «×», told a reader 1–4 versus 5 or more, and that was enough to
  solve some tables). A share whose numerator or denominator is hidden is
  hidden too («–»).
* **Secondary, among displayed cells**: counts are tied together by sums
  (parts add up to a total; a column of rows to a total row; a
  distribution to its published total). A table may also hold parts that are
  never displayed (``not_improved = n − improved``); they are unknowns to a
  reader, but a small one must be protected too. Whenever a group of cells
  would let a reader pin a hidden (or undisplayed small) count down, the
  smallest non-zero count *that is displayed* in that group is hidden too.
* **Audit**: after that, :func:`intervals` computes, for every hidden cell and
  every undisplayed small cell, the range of values it can take given every
  shown cell and every sum (linear programming with HiGHS, the solver behind
  ``scipy.optimize.linprog``, one model kept per cluster of unknown cells;
  a hidden displayed cell is at least 1 because zeros are shown, an
  undisplayed one at least 0). A range narrower than ``min_cell`` (upper −
  lower < ``min_cell``) opens the sum that pins a weak cell down most tightly
  (fewest other unknowns) by hiding its smallest displayed count, and the audit
  runs again, until every range is wide enough. A cell that the public counts
  (another table shows them exactly) and the zeros alone pin down cannot be
  protected by hiding anything: it is left as it is (:func:`pinned_cells`).

Administrative counts (referrals, forms per enrolment, reasons, data quality) are not suppressed.

**Which tables, which sums.** Every published table declares its class in
:mod:`opr_analysis.stats.table_registry`: a
:class:`~opr_analysis.stats.table_registry.PatientCounts` table names its
counts, the sums within a row, the margins that are published (by this table or
by another, e.g. a sum over years shown by the trend tests) and the columns
another table shows exactly (known to every reader: never hidden, and no help
in protecting anything). :func:`publish` turns a table's tidy frame into what
every publication shows (the report's table, the workbook's sheet, a unit's
report): hidden counts «×», hidden shares and their limits «–». The report and
the workbook both take their cells from it, so they cannot disagree.

**Published together.** A reader holds every table of a publication, and often
several publications: :func:`hidden_together` suppresses declared tables as one
audit. A margin one table declares as published by another patient-count table
is tied to that table's cells; a :class:`Link` ties two counts that are the same
number (an indicator and the table cell counting the same cases); with
``sums=(total, parts)`` every count of one scope (the whole registry) is the sum
of the same count of the others (its units), so a hidden count of a unit is not
the total minus the other units. :func:`hidden_tables` does it for the tables of
one publication (:class:`Hidden` per table: what :func:`publish` and
:func:`published_margins` then show); :mod:`.unit_disclosure` for every report
of a multi-unit extract.

Front ends sharing the rule: :func:`hidden_cells` (a tidy frame and its
declaration), :func:`hidden_together`, and :func:`suppress` for a long frame (one count per
row, groups given by key columns, each group's sum published) and
:func:`suppress_wide` for a wide frame (several counts per row, with per-row
partitions such as ``owed = sent_owed + not_sent``; there the total is a member
of its group). Inside :func:`recorded_tables` every table passed through any of
them is recorded with its sums, so a test can audit every table a report builds.

Examples
--------
>>> import pandas as pd
>>> t = pd.DataFrame({"year": [2024] * 3, "kind": ["a", "b", "c"], "n": [3, 10, 20]})
>>> suppress(t, "n", groups=[["year"]]).tolist()
[True, True, False]
"""

from __future__ import annotations

import contextlib
import heapq
from collections.abc import Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..formatting import MISSING, fmt_int

DEFAULT_MIN_CELL = 5
SUPPRESSED = "×"  # every hidden count, small or not
SECONDARY = SUPPRESSED  # the name earlier code used for the second symbol; there is only one now

__all__ = [
    "DEFAULT_MIN_CELL",
    "SUPPRESSED",
    "SECONDARY",
    "SuppressedTable",
    "intervals",
    "recoverable_cells",
    "pinned_cells",
    "recorded_tables",
    "suppression_note",
    "suppression_method_text",
    "small_share",
    "suppress",
    "suppress_wide",
    "suppressed_label",
    "display_counts",
    "display_hidden",
    "display_value",
    "hidden_cells",
    "publish",
    "published_margins",
    "Hidden",
    "Link",
    "Together",
    "hidden_together",
    "hidden_tables",
    "restored_hidden",
]


def suppressed_label(min_cell: int = DEFAULT_MIN_CELL) -> str:
    """What a hidden count shows: always :data:`SUPPRESSED` (``min_cell`` kept for callers)."""
    return SUPPRESSED


@dataclass
class SuppressedTable:
    """A table as a reader sees it: every count, which are displayed and hidden, and the sums tying them.

    ``groups``: each a list of ``(cell, coefficient)`` and a constant: ``sum(coef * value) == constant``
    is public knowledge (a shown total is a member with coefficient −1 and constant 0; a
    distribution whose total is published elsewhere has constant = that total).
    """

    values: pd.Series
    displayed: pd.Series
    hidden: pd.Series
    groups: list[tuple[list[tuple[Hashable, float]], float]]
    min_cell: int
    fixed: pd.Series | None = None  # cells another published table shows exactly: never hidden
    free: pd.Series | None = None  # undisplayed cells nobody needs protected (see :class:`Link`, ``at_most``)


_RECORDS: list[SuppressedTable] | None = None


@contextlib.contextmanager
def recorded_tables() -> Iterator[list[SuppressedTable]]:
    """Collect every table suppressed inside the block (for audits in tests)."""
    global _RECORDS
    saved, _RECORDS = _RECORDS, []
    try:
        yield _RECORDS
    finally:
        _RECORDS = saved


def _primary(values: pd.Series, min_cell: int) -> pd.Series:
    counts = pd.to_numeric(values, errors="coerce").astype("Float64")
    return ((counts > 0) & (counts < min_cell)).fillna(False).astype(bool)


def _numbers(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values, errors="coerce").astype(float).fillna(0.0)


def _arrays(table: SuppressedTable):
    """The table as plain arrays (pandas lookups in the audit's loops are far too slow)."""
    labels = list(table.values.index)
    pos = {c: i for i, c in enumerate(labels)}
    values = _numbers(table.values).to_numpy(dtype=float)
    displayed = table.displayed.reindex(table.values.index).to_numpy(dtype=bool)
    if table.fixed is not None:  # a cell shown exactly elsewhere cannot be hidden: it counts as displayed here
        displayed = displayed | table.fixed.reindex(table.values.index).fillna(False).to_numpy(dtype=bool)
    groups = [([(pos[c], float(k)) for c, k in members], float(constant)) for members, constant in table.groups]
    return labels, pos, values, displayed, groups


def _highs_module():
    """HiGHS's Python interface: the ``highspy`` package when installed, else the copy scipy ships (the solver
    behind :func:`scipy.optimize.linprog`); None when neither can be loaded (then ``linprog`` is used)."""
    try:
        import highspy

        return highspy, highspy.Highs
    except ImportError:
        pass
    try:
        from scipy.optimize._highspy import _core

        return _core, _core._Highs
    except (ImportError, AttributeError):  # pragma: no cover - scipy moved it
        return None


class _Highs:
    """One linear program kept in HiGHS, solved for many objectives (the smallest or largest value of one
    variable after another), each from the previous basis: far cheaper than a fresh ``linprog`` call each."""

    def __init__(self, module, make, a_eq, rhs, lower):
        self.h, self.model = module, make()
        self.model.setOptionValue("output_flag", False)
        self.model.setOptionValue("presolve", "off")  # keeps the basis between objectives and clear statuses
        # Each objective starts from the last optimal basis, which stays primal feasible (only the cost changes),
        # so the primal simplex goes on from it; the dual simplex HiGHS would choose starts by repairing it. The
        # coefficients are all ±1 and the right-hand sides counts: nothing to scale. (Same ranges, so the same
        # hidden cells; the three-unit disclosure's programs take ~20 % less time.)
        self.model.setOptionValue("simplex_strategy", 4)
        self.model.setOptionValue("simplex_scale_strategy", 0)
        n = a_eq.shape[1]
        lp = module.HighsLp()
        lp.num_col_, lp.num_row_ = n, a_eq.shape[0]
        lp.col_cost_ = np.zeros(n)
        lp.col_lower_ = np.asarray(lower, dtype=float)
        lp.col_upper_ = np.full(n, np.inf)
        lp.row_lower_ = lp.row_upper_ = np.asarray(rhs, dtype=float)
        lp.a_matrix_.format_ = module.MatrixFormat.kColwise
        lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = n, a_eq.shape[0]
        lp.a_matrix_.start_ = a_eq.indptr
        lp.a_matrix_.index_ = a_eq.indices
        lp.a_matrix_.value_ = a_eq.data.astype(float)
        self.model.passModel(lp)
        self.costed: int | None = None
        self.solution: np.ndarray | None = None  # the optimal point of the last objective solved

    def extreme(self, var: int, sign: float) -> float | None:
        """max (``sign`` 1) or min (−1) of variable ``var``; inf when unbounded, None when not solved."""
        if self.costed is not None and self.costed != var:
            self.model.changeColCost(self.costed, 0.0)
        self.model.changeColCost(var, -sign)  # HiGHS minimises
        self.costed = var
        statuses = self.h.HighsModelStatus
        for _ in range(2):
            self.model.run()
            status = self.model.getModelStatus()
            if status == statuses.kOptimal:
                self.solution = np.asarray(self.model.getSolution().col_value, dtype=float)
                return -sign * self.model.getInfo().objective_function_value
            if status in (statuses.kUnbounded, statuses.kUnboundedOrInfeasible):
                self.model.clearSolver()  # a start from an unbounded ray fails: the next objective starts afresh
                return np.inf
            self.model.clearSolver()  # anything else: once more from scratch
        return None


def _solver(a_eq, rhs, lower) -> _Highs | None:
    found = _highs_module()
    if a_eq is None or found is None:
        return None
    return _Highs(*found, a_eq, rhs, lower)


def _seen_record(values) -> np.ndarray:
    """The lowest and highest value each cell took in the feasible tables found so far: at first its own."""
    return np.vstack([values, values]).astype(float)


class _Program:
    """The linear programs of one state of a table: the unknown cells (hidden or undisplayed), the sums
    with the known cells moved to the right-hand side, split into clusters no sum ties together (a cell's
    range depends on its cluster only, so each program is small)."""

    def __init__(self, values, displayed, hidden, groups, seen: np.ndarray | None = None):
        unknown = hidden | ~displayed
        # Values each unknown cell took in optimal points found so far: every such point is a feasible table,
        # so the cell's true range holds them all and a cell they already spread min_cell apart is wide with
        # no program of its own. The caller may share the record with later programs of the same table in
        # which more cells are hidden: a point stays feasible there with the newly hidden cells at their
        # true values (hiding only adds unknowns; each cell's lower bound does not depend on it).
        # ``seen``: rows low and high, one column per cell (:func:`_seen_record`).
        self.seen = _seen_record(values) if seen is None else seen
        self.order = np.flatnonzero(unknown)
        self.var = {int(c): i for i, c in enumerate(self.order)}
        self.values = values
        rows = []
        for members, constant in groups:
            coefs: dict[int, float] = {}
            b = constant
            for cell, coef in members:
                i = self.var.get(cell)
                if i is None:
                    b -= coef * values[cell]
                else:
                    coefs[i] = coefs.get(i, 0.0) + coef
            coefs = {i: k for i, k in coefs.items() if k}
            if coefs:
                rows.append((coefs, b))
        self.rows = rows
        # Zeros are shown, so a hidden displayed count is at least 1; an undisplayed one may be 0.
        self.lower = np.array([1.0 if displayed[c] and values[c] > 0 else 0.0 for c in self.order])
        parent = list(range(len(self.order)))

        def root(i):
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        for coefs, _ in rows:
            first, *rest = coefs
            for i in rest:
                parent[root(i)] = root(first)
        self.root = [root(i) for i in range(len(self.order))]
        self.members: dict[int, list[int]] = {}
        for j, r in enumerate(self.root):
            self.members.setdefault(r, []).append(j)
        self.cluster_rows: dict[int, list[int]] = {}
        for r, (coefs, _) in enumerate(rows):
            self.cluster_rows.setdefault(self.root[next(iter(coefs))], []).append(r)
        self._built: dict[int, tuple] = {}

    def _cluster(self, i: int):
        r = self.root[i]
        if r not in self._built:
            from scipy.sparse import csc_matrix

            members = self.members[r]
            local = {j: k for k, j in enumerate(members)}
            data, ri, ci, rhs = [], [], [], []
            for n, row in enumerate(self.cluster_rows.get(r, [])):
                coefs, b = self.rows[row]
                for j, k in coefs.items():
                    data.append(k)
                    ri.append(n)
                    ci.append(local[j])
                rhs.append(b)
            a_eq = csc_matrix((data, (ri, ci)), shape=(len(rhs), len(members))) if rhs else None
            lower = self.lower[members]
            self._built[r] = (local, a_eq, np.array(rhs, dtype=float), lower, _solver(a_eq, np.array(rhs), lower))
        return self._built[r]

    def cluster(self, cell: int) -> frozenset:
        """The unknown cells tied to ``cell`` (its range depends on nothing else)."""
        return frozenset(int(self.order[j]) for j in self.members[self.root[self.var[cell]]])

    def bound(self, cell: int, sign: float) -> float:
        """The largest (``sign`` 1) or smallest (−1) value ``cell`` can take."""
        i = self.var[cell]
        local, a_eq, b_eq, lower, solver = self._cluster(i)
        if a_eq is None:
            return np.inf if sign > 0 else float(self.lower[i])
        found = solver.extreme(local[i], sign) if solver is not None else None
        if found is not None and found != np.inf and solver.solution is not None:
            self._record(local, solver.solution)
        if found is None:  # no HiGHS object, or it failed: scipy's linprog
            from scipy.optimize import linprog

            c = np.zeros(len(local))
            c[local[i]] = -sign  # linprog minimises
            res = linprog(c, A_eq=a_eq, b_eq=b_eq, bounds=[(lo, None) for lo in lower], method="highs")
            if res.status == 0:
                found = float(-res.fun) if sign > 0 else float(res.fun)
            elif res.status == 3:  # unbounded
                found = np.inf
            else:  # cannot happen for a consistent table; count the cell as known
                found = float(self.values[cell])
        return -np.inf if found == np.inf and sign < 0 else found

    def _record(self, local: dict[int, int], point: np.ndarray) -> None:
        cells = self.order[np.fromiter(local.keys(), dtype=np.int64, count=len(local))]
        at = point[np.fromiter(local.values(), dtype=np.int64, count=len(local))]
        self.seen[0, cells] = np.minimum(self.seen[0, cells], at)  # a cluster's cells: each once
        self.seen[1, cells] = np.maximum(self.seen[1, cells], at)

    def range(self, cell: int) -> tuple[float, float]:
        return self.bound(cell, -1.0), self.bound(cell, 1.0)

    def wide(self, cell: int, min_cell: int) -> bool:
        """Whether ``cell`` can take values at least ``min_cell`` apart. The true value is feasible, so one
        side reaching ``min_cell`` from it is enough (one program instead of two, most of the time)."""
        value = float(self.values[cell])
        if self.seen[1, cell] - self.seen[0, cell] >= min_cell - 1e-9:
            return True
        high = self.bound(cell, 1.0)
        if high - value >= min_cell - 1e-9:
            return True
        return high - self.bound(cell, -1.0) >= min_cell - 1e-9


def _ranges(values, displayed, hidden, groups, cells) -> list[tuple[float, float]]:
    """(low, high) of each cell position in ``cells``, by linear programming over the unknown cells."""
    program = _Program(values, displayed, hidden, groups)
    return [program.range(cell) for cell in cells]


def _checked_positions(values, displayed, hidden, min_cell, free=None) -> list[int]:
    """Cells whose range must be wide: hidden ones, and undisplayed small ones (not ``free`` ones)."""
    small = (values > 0) & (values < min_cell)
    if free is not None:
        small &= ~free
    return [int(i) for i in np.flatnonzero(hidden | (small & ~displayed))]


def intervals(table: SuppressedTable, cells: Sequence[Hashable] | None = None) -> pd.DataFrame:
    """The range (``low``, ``high``) each of ``cells`` can take given what the table shows.

    Unknowns are the hidden cells and the undisplayed cells; every other cell is
    known exactly. Default ``cells``: the hidden cells and the undisplayed small
    ones (those :func:`recoverable_cells` checks). ``high`` is ``inf`` when
    nothing bounds the cell from above.
    """
    labels, pos, values, displayed, groups = _arrays(table)
    hidden = table.hidden.reindex(table.values.index).to_numpy(dtype=bool)
    if cells is None:
        idx = _checked_positions(values, displayed, hidden, table.min_cell, _free(table))
    else:
        idx = [pos[c] for c in cells]
    found = _ranges(values, displayed, hidden, groups, idx)
    index = pd.Index([labels[i] for i in idx], dtype=object, tupleize_cols=False)
    return pd.DataFrame(found, columns=["low", "high"], index=index, dtype=float)


def _fixed(table: SuppressedTable) -> np.ndarray:
    if table.fixed is None:
        return np.zeros(len(table.values), dtype=bool)
    return table.fixed.reindex(table.values.index).fillna(False).to_numpy(dtype=bool)


def _free(table: SuppressedTable) -> np.ndarray:
    if table.free is None:
        return np.zeros(len(table.values), dtype=bool)
    return table.free.reindex(table.values.index).fillna(False).to_numpy(dtype=bool)


def _public_program(values, displayed, fixed, groups) -> _Program:
    """The program with every count that can be hidden hidden: what the public counts (another table shows
    them exactly) and the zeros (always shown) tell a reader whatever this table hides."""
    return _Program(values, displayed, displayed & ~fixed & (values > 0), groups)


def pinned_cells(table: SuppressedTable) -> list[Hashable]:
    """Cells the public counts and zeros alone pin to a range narrower than ``min_cell`` (a unit's 3 enrolments,
    shown exactly by an administrative table, bound how many of them answered): no hiding can protect them,
    so the suppression does not try, and :func:`recoverable_cells` does not count them."""
    if table.min_cell <= 1:
        return []
    labels, _, values, displayed, groups = _arrays(table)
    hidden = table.hidden.reindex(table.values.index).to_numpy(dtype=bool)
    public = _public_program(values, displayed, _fixed(table), groups)
    cells = _checked_positions(values, displayed, hidden, table.min_cell, _free(table))
    return [labels[c] for c in cells if not public.wide(c, table.min_cell)]


def recoverable_cells(table: SuppressedTable) -> list[Hashable]:
    """Cells a reader can pin to a range narrower than ``min_cell`` (empty when the table is safe), except those
    no hiding could protect (:func:`pinned_cells`)."""
    if table.min_cell <= 1:
        return []
    labels, _, values, displayed, groups = _arrays(table)
    hidden = table.hidden.reindex(table.values.index).to_numpy(dtype=bool)
    program = _Program(values, displayed, hidden, groups)
    cells = _checked_positions(values, displayed, hidden, table.min_cell, _free(table))
    weak = [c for c in cells if not program.wide(c, table.min_cell)]
    if weak:
        public = _public_program(values, displayed, _fixed(table), groups)
        weak = [c for c in weak if public.wide(c, table.min_cell)]
    return [labels[c] for c in weak]


def _lone_unknowns(values, displayed, hidden, groups, min_cell, fixed, free) -> None:
    """The cheap first pass (no linear programming): while a sum has exactly one unknown and it must
    be protected, hide the smallest displayed count of that sum. Changes ``hidden`` in place."""
    small = (values > 0) & (values < min_cell) & ~free
    changed = True
    while changed:
        changed = False
        for members, _ in groups:
            cells = [m for m, _ in members]
            unknown = [m for m in cells if hidden[m] or not displayed[m]]
            if len(unknown) != 1 or not (hidden[unknown[0]] or small[unknown[0]]):
                continue
            options = [m for m in cells if displayed[m] and not hidden[m] and not fixed[m] and values[m] > 0]
            if options:
                hidden[min(options, key=lambda m: (values[m], m))] = True
                changed = True


def _protect(table: SuppressedTable) -> pd.Series:
    """Hide displayed cells until :func:`recoverable_cells` is empty."""
    labels, _, values, displayed, groups = _arrays(table)
    hidden = table.hidden.reindex(table.values.index).to_numpy(dtype=bool).copy()
    fixed = np.zeros(len(values), dtype=bool)
    if table.fixed is not None:
        fixed = table.fixed.reindex(table.values.index).fillna(False).to_numpy(dtype=bool)
        hidden &= ~fixed
    member_of: dict[int, list[int]] = {}
    for g, (members, _) in enumerate(groups):
        for cell, _coef in members:
            member_of.setdefault(cell, []).append(g)
    free = _free(table)
    _lone_unknowns(values, displayed, hidden, groups, table.min_cell, fixed, free)
    # The greedy: while some checked cell is weak (its range narrower than min_cell), open the sum that pins a
    # weak cell down most tightly (fewest other unknowns) by hiding its smallest displayed count (ties: the
    # smaller count), choosing over every weak cell. Evaluated lazily, with the same choices: hiding a cell
    # only widens ranges (a wide cell stays wide) and only makes a cell's choice worse (more unknowns, fewer
    # options), so a weak cell's earlier choice is a lower bound, and a cell is checked again (one or two
    # linear programs) only when it comes first in the queue.
    no_choice = (np.inf,)

    def choice(cell):
        unknown = hidden | ~displayed
        best = no_choice
        for g in member_of.get(cell, []):
            members = [m for m, _ in groups[g][0]]
            options = [m for m in members if displayed[m] and not hidden[m] and not fixed[m] and values[m] > 0]
            if options:
                pick = min(options, key=lambda m: (values[m], m))
                best = min(best, (sum(bool(unknown[m]) for m in members if m != cell), values[pick], pick))
        return best

    # A cell the public counts and zeros alone pin down (pinned_cells) cannot be helped: it is left as it is.
    public = _public_program(values, displayed, fixed, groups)
    wide: set[int] = set()
    queue: list = []  # (choice, cell): the choice as last computed, a lower bound of the current one
    pending = list(_checked_positions(values, displayed, hidden, table.min_cell, free))
    program = None
    seen = _seen_record(values)  # points of every program below (_Program.seen): each is feasible in the next
    while True:
        if pending:
            program = program or _Program(values, displayed, hidden, groups, seen)
            for cell in pending:
                if program.wide(cell, table.min_cell):
                    wide.add(cell)
                elif public.wide(cell, table.min_cell):
                    heapq.heappush(queue, (choice(cell), cell))
            pending = []
        if not queue:
            break
        _, cell = heapq.heappop(queue)
        program = program or _Program(values, displayed, hidden, groups, seen)
        if program.wide(cell, table.min_cell):
            wide.add(cell)
            continue
        best = choice(cell)
        if queue and best > queue[0][0]:  # another weak cell may come first now
            heapq.heappush(queue, (best, cell))
            continue
        if best == no_choice:  # nothing displayed left in its sums: the smallest shown count tied to it
            tied = public.cluster(cell)
            options = [m for m in np.flatnonzero(displayed & ~hidden & ~fixed & (values > 0)) if int(m) in tied]
            if not options:  # cannot happen for a cell the public counts leave wide; leave it
                continue
            chosen = int(min(options, key=lambda m: (values[m], m)))
        else:
            chosen = best[2]
        hidden[chosen] = True
        program = None
        heapq.heappush(queue, (best, cell))  # checked again: it may still be weak
        pending = [chosen]  # a newly hidden cell is checked too
    table.hidden = pd.Series(hidden, index=table.values.index)
    return table.hidden


def _components(table: SuppressedTable) -> list[SuppressedTable]:
    """The table split into parts no sum ties together (one per year, say), each protected on its own:
    the same cells are hidden (a part's choices never change another part's ranges), with far smaller
    linear programs."""
    index = list(table.values.index)
    pos = {c: i for i, c in enumerate(index)}
    parent = list(range(len(index)))

    def root(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for members, _ in table.groups:
        first = root(pos[members[0][0]])
        for cell, _ in members[1:]:
            parent[root(pos[cell])] = first
    parts: dict[int, list[int]] = {}
    for i in range(len(index)):
        parts.setdefault(root(i), []).append(i)
    if len(parts) == 1:
        return [table]
    group_of = {}
    for members, constant in table.groups:
        group_of.setdefault(root(pos[members[0][0]]), []).append((members, constant))
    out = []
    for r, at in parts.items():
        labels = table.values.index[at]
        fixed = None if table.fixed is None else table.fixed.reindex(labels)
        free = None if table.free is None else table.free.reindex(labels)
        out.append(
            SuppressedTable(
                table.values.reindex(labels),
                table.displayed.reindex(labels),
                table.hidden.reindex(labels),
                group_of.get(r, []),
                table.min_cell,
                fixed,
                free,
            )
        )
    return out


def _run(table: SuppressedTable) -> pd.Series:
    parts = _components(table)
    hidden = pd.concat([_protect(part) for part in parts]).reindex(table.values.index) if len(parts) > 1 else None
    if hidden is None:
        hidden = _protect(table)
    table.hidden = hidden.astype(bool)
    if _RECORDS is not None:
        _RECORDS.extend(parts)
    return table.hidden


def suppress(
    frame: pd.DataFrame,
    value: str,
    groups: Sequence[Sequence[str]] = (),
    min_cell: int = DEFAULT_MIN_CELL,
    displayed: pd.Series | None = None,
) -> pd.Series:
    """Boolean mask (aligned to ``frame``) of the counts in column ``value`` to hide.

    ``groups`` lists groupings (each a list of key columns) whose cells add up
    to a published total; ``[]`` as a grouping means "all rows form one group".
    ``displayed`` (default: every row) marks the counts the table shows.
    With ``min_cell <= 1`` nothing is hidden.

    >>> t = pd.DataFrame({"g": ["x", "x", "x", "y", "y"], "n": [2, 0, 7, 9, 12]})
    >>> suppress(t, "n", groups=[["g"]]).tolist()   # 0 is not hidden; 7 is the next smallest
    [True, False, True, False, False]
    """
    if min_cell <= 1:
        return pd.Series(False, index=frame.index)
    values = frame[value]
    shown = pd.Series(True, index=frame.index) if displayed is None else displayed.reindex(frame.index).astype(bool)
    numbers = _numbers(values)
    cell_groups = []
    for by in groups:
        if by:
            index_sets = [list(ix) for ix in frame.groupby(_keys(by), observed=True, dropna=False).groups.values()]
        else:
            index_sets = [list(frame.index)]
        cell_groups += [([(i, 1.0) for i in ix], float(numbers[ix].sum())) for ix in index_sets]
    table = SuppressedTable(values, shown, _primary(values, min_cell) & shown, cell_groups, min_cell)
    return _run(table).reindex(frame.index).astype(bool)


def suppress_wide(
    frame: pd.DataFrame,
    partitions: Sequence[tuple[str, Sequence[str]]] | Mapping[str, Sequence[str]],
    min_cell: int = DEFAULT_MIN_CELL,
    extra_columns: Sequence[str] = (),
    total_row: Hashable | None = None,
    displayed: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Boolean frame (same index; one column per count column) of counts to hide.

    ``partitions`` pairs a total column with the columns that add up to it in
    each row, e.g. ``[("owed", ["sent_owed", "not_sent"])]`` (a dict works when
    every total has one partition); the total belongs to the group.
    ``displayed`` names the columns the table shows (default: every column
    except ``extra_columns``); a part that is not shown (such as "sent but not
    answered") takes part in the sums, is never chosen to be hidden, and is
    protected when small. ``total_row`` names a row that holds the column sums
    of the other rows; each column is then a group too.

    >>> t = pd.DataFrame({"sent": [20, 40], "responded": [17, 2], "no_answer": [3, 38]})
    >>> m = suppress_wide(t, {"sent": ["responded", "no_answer"]})
    >>> m["responded"].tolist(), m["no_answer"].tolist()
    ([True, True], [True, True])
    """
    pairs = list(partitions.items()) if isinstance(partitions, Mapping) else [(t, list(p)) for t, p in partitions]
    columns = list(dict.fromkeys([*(t for t, _ in pairs), *(c for _, p in pairs for c in p), *extra_columns]))
    if min_cell <= 1:
        return pd.DataFrame(False, index=frame.index, columns=columns)
    shown_cols = [c for c in columns if c not in extra_columns] if displayed is None else list(displayed)
    long = frame[columns].stack(future_stack=True)
    shown = pd.Series([col in shown_cols for _, col in long.index], index=long.index)
    groups = [
        ([((row, total), -1.0), *[((row, part), 1.0) for part in parts]], 0.0)
        for row in frame.index
        for total, parts in pairs
        if parts  # a total without parts is no sum
    ]
    if total_row is not None:
        rows = [r for r in frame.index if r != total_row]
        groups += [([((total_row, col), -1.0), *[((r, col), 1.0) for r in rows]], 0.0) for col in columns]
    table = SuppressedTable(long, shown, _primary(long, min_cell) & shown, groups, min_cell)
    hidden = _run(table)
    return hidden.unstack()[columns].reindex(frame.index).astype(bool)


@dataclass
class Hidden:
    """What the publications of one declared table hide.

    ``cells``: a boolean frame with the tidy frame's index and columns (a share and its limits are
    hidden with their numerator or denominator); ``margins``: the total lines the table shows itself
    (its margins without ``published_by``), one row per sum: ``margin`` (its position among the
    declared margins), ``key`` (the values of its ``by`` columns, a tuple), ``column``, ``value``,
    ``hidden``.
    """

    cells: pd.DataFrame
    margins: pd.DataFrame


@dataclass
class _Piece:
    """One published frame as cells of the audit: every count, the sums within it, and how to find a cell
    by its row's key values (to tie it to the same count in another frame)."""

    scope: Hashable
    name: str
    spec: object
    frame: pd.DataFrame
    rows: pd.DataFrame  # the frame with a fresh index and the remainder parts as columns
    columns: list[str]
    labels: list = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    displayed: list[bool] = field(default_factory=list)
    fixed: list[bool] = field(default_factory=list)
    groups: list = field(default_factory=list)
    own: list = field(default_factory=list)  # labels of the margins this frame shows (its total lines)
    external: list = field(default_factory=list)  # (margin, key, column, member cells, sum): published elsewhere
    by_key: dict = field(default_factory=dict)  # (row key values, column) -> label
    at: dict = field(default_factory=dict)  # label -> position

    def add(self, label, value: float, displayed: bool = True, fixed: bool = False) -> None:
        self.at[label] = len(self.labels)
        self.labels.append(label)
        self.values.append(float(value))
        self.displayed.append(displayed)
        self.fixed.append(fixed)

    def value(self, label) -> float:
        return self.values[self.at[label]]

    def cells(self, where: str | None, column: str, by: Sequence[str]) -> dict[tuple, list]:
        """Labels of ``column`` in the rows matching ``where``, grouped by the values of ``by``."""
        if column not in self.columns or self.rows.empty:
            return {}
        rows = self.rows.query(where) if where else self.rows
        if not by:
            groups = {(): list(rows.index)} if len(rows) else {}
        else:
            groups = {
                k if isinstance(k, tuple) else (k,): list(ix)
                for k, ix in rows.groupby(_keys(by), observed=True, dropna=False).groups.items()
            }
        return {_plain(k): [(self.scope, self.name, row, column) for row in ix] for k, ix in groups.items()}


def _plain(key: tuple) -> tuple:
    """Key values as plain Python values (so the same year from two frames is one key)."""
    return tuple(v.item() if hasattr(v, "item") else v for v in key)


def _patient_table(name: str) -> bool:
    from ..stats.table_registry import get

    try:
        return get(name).patient_counts
    except KeyError:
        return False


def _piece(frame: pd.DataFrame, spec, scope: Hashable = None, name: str = "") -> _Piece:
    """The cells of one published frame (module docstring): counts, parts that are not columns (the rest of
    a sum: never shown, protected when small), the table's own total lines, and the sums tying them.

    A margin published by another patient-count table is left in ``external`` (the caller ties it to that
    table's cells, or counts it as known); one published by any other table is a known constant."""
    f = frame.reset_index(drop=True)
    parts = []
    for total, members in spec.parts:
        rest = [m for m in members if m not in f.columns]
        given = [m for m in members if m in f.columns]
        if total not in f.columns or len(rest) > 1 or not given:
            continue
        if rest:
            f[rest[0]] = f[total] - f[given].sum(axis=1)
        parts.append((total, members))
    remainders = {m for _, members in parts for m in members if m not in frame.columns}
    columns = [c for c in spec.columns() if c in f.columns]
    piece = _Piece(scope, name, spec, frame, f, columns)
    if not columns or f.empty:
        return piece
    public = {c for c, _ in spec.public}
    keys = [k for k in spec.keys if k in f.columns]
    row_keys = [_plain(k) for k in f[keys].itertuples(index=False, name=None)] if keys else [()] * len(f)
    stacked = _numbers(f[columns].stack(future_stack=True))
    numbers = dict(zip(stacked.index, stacked.to_numpy(), strict=True))
    for (row, col), value in numbers.items():
        label = (scope, name, row, col)
        piece.add(label, value, displayed=col not in remainders, fixed=col in public)
        piece.by_key[(row_keys[row], col)] = label
    piece.groups += [
        ([((scope, name, row, total), -1.0), *[((scope, name, row, p), 1.0) for p in members]], 0.0)
        for row in f.index
        for total, members in parts
    ]
    totals: dict[tuple, object] = {}  # (margin, key, column) -> its cell's label, or its value when known
    for i, margin in enumerate(spec.margins):
        for col in [c for c in (margin.columns or spec.counts) if c in columns]:
            for key, cells in piece.cells(margin.where, col, margin.by).items():
                total = float(sum(numbers[(lab[2], lab[3])] for lab in cells))
                if margin.published_by and _patient_table(margin.published_by):
                    piece.external.append((margin, key, col, cells, total))
                    continue
                if margin.published_by:  # known from an administrative table: a constant
                    piece.groups.append(([(c, 1.0) for c in cells], total))
                    totals[(i, key, col)] = total
                    continue
                label = (scope, name, "margin", i, key, col)
                piece.add(label, total)
                piece.own.append(label)
                piece.by_key[(("margin", i, key), col)] = label
                totals[(i, key, col)] = label
                piece.groups.append(([(label, -1.0), *[(c, 1.0) for c in cells]], 0.0))
    piece.groups += _nested_margins(spec.margins, totals)
    return piece


def _solve(pieces: Sequence[_Piece], groups: Sequence, min_cell: int, extra: Sequence = ()) -> dict:
    """Every cell of ``pieces`` (and the ``extra`` cells: ``(label, value, displayed, fixed)``, or with a fifth
    element ``free``: an unknown nobody needs protected) suppressed together under their own sums and
    ``groups``: label -> hidden."""
    labels, values, displayed, fixed, free = [], [], [], [], []
    for p in pieces:
        labels += p.labels
        values += p.values
        displayed += p.displayed
        fixed += p.fixed
        free += [False] * len(p.labels)
    for label, value, shown, known, *rest in extra:
        labels.append(label)
        values.append(float(value))
        displayed.append(shown)
        fixed.append(known)
        free.append(bool(rest and rest[0]))
    if not labels:
        return {}
    index = pd.Index(labels, dtype=object, tupleize_cols=False)
    long = pd.Series(values, index=index, dtype=float)
    shown = pd.Series(displayed, index=index)
    known = pd.Series(fixed, index=index)
    if min_cell <= 1:
        return dict.fromkeys(labels, False)
    primary = _primary(long, min_cell) & shown & ~known
    every = [g for p in pieces for g in p.groups] + list(groups)
    loose = pd.Series(free, index=index) if any(free) else None
    hidden = _run(SuppressedTable(long, shown, primary, every, min_cell, known, loose))
    return dict(zip(labels, hidden.to_numpy(dtype=bool), strict=True))


def _hidden(piece: _Piece, flags: dict) -> Hidden:
    """The piece's cells and total lines as hidden by ``flags``."""
    frame, spec, scope, name = piece.frame, piece.spec, piece.scope, piece.name
    out = pd.DataFrame(False, index=frame.index, columns=frame.columns)
    for col in piece.columns:
        if col in out.columns:
            out[col] = [flags.get((scope, name, row, col), False) for row in range(len(frame))]
    for share, numerator, denominator in spec.shares:
        off = pd.Series(False, index=frame.index)
        for c in (numerator, denominator):
            if c in out.columns:
                off |= out[c]
        for c in (share, f"{share}_ci_low", f"{share}_ci_high"):
            if c in out.columns:
                out[c] = off
    margins = pd.DataFrame(
        [
            (i, key, col, piece.value(label), flags.get(label, False))
            for label in piece.own
            for *_, i, key, col in [label]
        ],
        columns=["margin", "key", "column", "value", "hidden"],
    )
    return Hidden(out, margins)


def _known(piece: _Piece) -> list:
    """The piece's margins published elsewhere, as known constants."""
    return [([(c, 1.0) for c in cells], total) for _, _, _, cells, total in piece.external]


def _declared(frame: pd.DataFrame, spec, min_cell: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(hidden cells of ``frame``, the table's own margins with their hidden flag): see :func:`hidden_cells`."""
    piece = _piece(frame, spec)
    hidden = _hidden(piece, _solve([piece], _known(piece), min_cell))
    return hidden.cells, hidden.margins


def _nested_margins(margins, totals: dict) -> list:
    """Sums of totals: a coarser margin (its ``by`` a subset of a finer one's, same rows) is the sum of the
    finer one's totals. The cells already imply it, but stating it lets the search for a cell to hide see
    that a total is pinned by the totals beside it (a row total of 5 by the grand total and the other rows)."""
    out = []
    for c, coarse in enumerate(margins):
        for f, fine in enumerate(margins):
            if not (set(coarse.by) < set(fine.by)) or coarse.where != fine.where or coarse.columns != fine.columns:
                continue
            at = [fine.by.index(k) for k in coarse.by]
            members: dict[tuple, list] = {}
            for (i, key, col), total in totals.items():
                if i == f:
                    members.setdefault((tuple(key[j] for j in at), col), []).append(total)
            for (key, col), parts in members.items():
                whole = totals.get((c, key, col))
                if whole is None:
                    continue
                cells = [(p, 1.0) for p in parts if not isinstance(p, float)]
                constant = -sum(p for p in parts if isinstance(p, float))
                if isinstance(whole, float):
                    constant += whole
                else:
                    cells.append((whole, -1.0))
                if cells:
                    out.append((cells, constant))
    return out


def _share_known(pieces: dict, ties: list) -> None:
    """A count tied to counts another table shows exactly (``public``) is known exactly too: mark it so
    (never hidden, no help in protecting), or the audit would try to protect what every reader knows."""
    where = {label: p for p in pieces.values() for label in p.labels}

    def known(label) -> bool:
        p = where[label]
        return p.fixed[p.at[label]]

    changed = True
    while changed:
        changed = False
        for left, right in ties:
            for one, other in ((left, right), (right, left)):
                if len(one) == 1 and not known(one[0]) and all(known(c) for c in other):
                    p = where[one[0]]
                    p.fixed[p.at[one[0]]] = True
                    changed = True


@dataclass(frozen=True)
class Link:
    """Two published counts that are the same number, in every scope: the sum of column ``a[2]`` over the
    rows of table ``a[0]`` matching ``a[1]`` (a :meth:`pandas.DataFrame.query` string, or None for every
    row) equals that of ``b``, per group of equal ``by`` values. Example: an indicator's numerator for a
    follow-up kind is the follow-up table's «answered» for that kind and year.

    With ``at_most``, ``a`` is at most ``b`` (those who answered a question, of the responses): the difference
    is an unknown of the audit (at least 0) that needs no protection, because each publication shows both
    sides where it shows them (the suppression of one report already lets a reader take one from the other)."""

    a: tuple[str, str | None, str]
    b: tuple[str, str | None, str]
    by: tuple[str, ...] = ("year",)
    at_most: bool = False


@dataclass
class Together:
    """The result of :func:`hidden_together`: ``hidden[scope][table]`` (:class:`Hidden`), and how many
    declared ties did not hold in the data (``untied``: such a pair is no sum a reader can use, so it is
    left out; a test keeps it at zero on the synthetic registry)."""

    hidden: dict
    untied: list


def _tie(total: list, members: list, lookup: dict, extra: list, groups: list, label) -> bool:
    """``Σ total cells = Σ member cells`` as a sum of the audit; a positive difference is a part nobody sees
    (``label``: protected when small). False when the members add up to more than the total (no tie)."""
    rest = sum(lookup[c] for c in total) - sum(lookup[c] for c in members)
    if rest < 0:
        return False
    cells = [*((c, -1.0) for c in total), *((c, 1.0) for c in members)]
    if rest > 0:
        extra.append((label, rest, False, False))
        cells.append((label, 1.0))
    groups.append((cells, 0.0))
    return True


def _overlap(total: list, members: list, lookup: dict, extra: list, groups: list, label) -> None:
    """``Σ total cells + overlap = Σ member cells``: the parts count some cases more than once (a patient
    enrolled at two units is one of each unit's patients and one of the registry's), so the total is at
    most their sum. The overlap is a count nobody sees (``label``: protected when small); the sum is true
    of the data, so the audit only gets stricter with it."""
    overlap = sum(lookup[c] for c in members) - sum(lookup[c] for c in total)
    extra.append((label, overlap, False, False))
    groups.append(([*((c, -1.0) for c in total), *((c, 1.0) for c in members), (label, -1.0)], 0.0))


def hidden_together(
    scopes: Mapping[Hashable, Mapping[str, tuple[object, pd.DataFrame]]],
    min_cell: int = DEFAULT_MIN_CELL,
    links: Sequence[Link] = (),
    sums: tuple[Hashable, Sequence[Hashable]] | None = None,
) -> Together:
    """Several publications suppressed as one: no hidden count can be recovered from all of them together.

    ``scopes``: scope (a report: the whole registry, one unit) -> table name -> ``(spec, frame)``, where
    ``spec`` is the table's :class:`~opr_analysis.stats.table_registry.PatientCounts`. Each frame brings
    its own sums (:func:`hidden_cells`); in addition

    - a margin one table declares as published by another patient-count table of the same scope is tied
      to that table's cells (not counted as known: the other table may hide it);
    - each :class:`Link` ties two counts of the same scope;
    - with ``sums = (total, parts)``, every count of scope ``total`` is the sum of the same count (same
      table, row key and column) in the ``parts`` scopes: the whole registry is the sum of its units, so a
      unit's hidden count cannot be found as the total minus the other units. A total larger than its
      parts leaves a rest nobody sees (protected when small); one smaller than their sum (patients counted
      in two units) an overlap nobody sees, protected the same way.

    Every count then follows the module's rule over all these sums at once (one linear program per part
    that no sum ties to another).
    """
    pieces = {
        (scope, name): _piece(frame, spec, scope, name)
        for scope, tables in scopes.items()
        for name, (spec, frame) in tables.items()
    }
    lookup = {label: value for p in pieces.values() for label, value in zip(p.labels, p.values, strict=True)}
    groups, extra, untied, ties = [], [], [], []
    for (scope, _), p in pieces.items():
        for margin, key, col, cells, total in p.external:
            other = pieces.get((scope, margin.published_by))
            found = {} if other is None else other.cells(
                margin.published_where, margin.published_column or col, margin.by
            )  # fmt: skip
            if key not in found:
                groups.append(([(c, 1.0) for c in cells], total))  # not suppressed with it: known
            elif sum(lookup[c] for c in found[key]) == total:
                groups.append(([*((c, 1.0) for c in cells), *((c, -1.0) for c in found[key])], 0.0))
            else:
                untied.append((scope, p.name, margin.published_by, key, col))
    for link in links:
        for scope in scopes:
            a, b = pieces.get((scope, link.a[0])), pieces.get((scope, link.b[0]))
            if a is None or b is None:
                continue
            left, right = a.cells(*link.a[1:], link.by), b.cells(*link.b[1:], link.by)
            for key in left.keys() & right.keys():
                rest = sum(lookup[c] for c in right[key]) - sum(lookup[c] for c in left[key])
                if rest < 0 or (rest and not link.at_most):
                    untied.append((scope, link, key))
                    continue
                cells = [*((c, 1.0) for c in left[key]), *((c, -1.0) for c in right[key])]
                if link.at_most:
                    label = ("at_most", scope, link, key)
                    extra.append((label, rest, False, False, True))
                    cells.append((label, 1.0))
                else:
                    ties.append((left[key], right[key]))
                groups.append((cells, 0.0))
    _share_known(pieces, ties)
    if sums is not None:
        total, members = sums
        for (scope, name), p in pieces.items():
            if scope != total:
                continue
            parts = [pieces[(m, name)] for m in members if (m, name) in pieces]
            for where, label in p.by_key.items():
                cells = [q.by_key[where] for q in parts if where in q.by_key]
                if not p.displayed[p.at[label]]:
                    # A rest is the sum of the parts' rests already, but an overlap of a rest is not known to be
                    # at least 0 unless it is a cell (patients counted twice, split into reserved and not).
                    if sum(lookup[c] for c in cells) > lookup[label]:
                        _overlap([label], cells, lookup, extra, groups, ("overlap", *label))
                    continue
                if not _tie([label], cells, lookup, extra, groups, ("rest", *label)):
                    _overlap([label], cells, lookup, extra, groups, ("overlap", *label))
    flags = _solve(list(pieces.values()), groups, min_cell, extra)
    hidden: dict = {}
    for (scope, name), p in pieces.items():
        hidden.setdefault(scope, {})[name] = _hidden(p, flags)
    return Together(hidden, untied)


def hidden_tables(tables: Mapping[str, pd.DataFrame], min_cell: int = DEFAULT_MIN_CELL) -> dict[str, Hidden]:
    """The declared patient-count tables of one publication (``opr tables``' frames by name), suppressed
    together (:func:`hidden_together`): table name -> :class:`Hidden`. Other tables are left out."""
    from ..stats.table_registry import get

    scope = {}
    for name, frame in tables.items():
        try:
            table = get(name)
        except KeyError:
            continue
        if table.patient_counts:
            scope[name] = (table.suppression, frame)
    return hidden_together({None: scope}, min_cell).hidden.get(None, {})


def hidden_cells(frame: pd.DataFrame, spec, min_cell: int = DEFAULT_MIN_CELL) -> pd.DataFrame:
    """Boolean frame like ``frame``: the cells a publication hides, by the table's declaration ``spec``
    (a :class:`~opr_analysis.stats.table_registry.PatientCounts`).

    Counts follow the rule of the module docstring, over the declared sums within rows
    (``parts``; a part that is not a column is the rest, never shown) and over rows
    (``margins``). A margin another table publishes is known to the reader; a margin
    this table shows (its total lines) is a cell of its own, tied to its members, and
    hidden by the same rule (:func:`published_margins`). ``public`` columns are known
    and never hidden. A share and its interval limits are hidden with its numerator or
    denominator. Declared columns missing from ``frame`` are left out. With
    ``min_cell <= 1`` nothing is hidden. (Tables published together: :func:`hidden_together`.)

    >>> from opr_analysis.stats.table_registry import Margin, PatientCounts
    >>> t = pd.DataFrame({"year": [2024] * 3, "sex": ["K", "M", "ukjent"], "n": [3, 10, 20]})
    >>> hidden_cells(t, PatientCounts(("n",), margins=(Margin(("year",), published_by="other"),)))["n"].tolist()
    [True, True, False]
    """
    return _declared(frame, spec, min_cell)[0]


def _hidden_for(table, frame: pd.DataFrame, min_cell: int, hidden: Hidden | None) -> Hidden:
    if hidden is None:
        cells, margins = _declared(frame, table.suppression, min_cell)
        return Hidden(cells, margins)
    if not hidden.cells.index.equals(frame.index):
        raise ValueError(f"{table.name}: the hidden cells were computed for other rows than these")
    return hidden


def published_margins(
    table, frame: pd.DataFrame, min_cell: int = DEFAULT_MIN_CELL, hidden: Hidden | None = None
) -> pd.DataFrame:
    """The total lines a patient-count table shows itself (its margins without ``published_by``): one row per
    sum, ``margin`` (its position among the declared margins), ``key`` (the values of its ``by`` columns, a
    tuple), ``column``, ``value``, and ``shown`` (the value, or «×» when hidden). ``hidden``: the table's
    cells as suppressed together with others (:func:`hidden_together`); default: the table on its own."""
    from ..stats.table_registry import get

    table = get(table) if isinstance(table, str) else table
    margins = _hidden_for(table, frame, min_cell, hidden).margins.copy()
    margins["shown"] = [SUPPRESSED if h else int(v) for v, h in zip(margins["value"], margins["hidden"], strict=True)]
    return margins.drop(columns="hidden")


def restored_hidden(table, frame: pd.DataFrame, cells: pd.DataFrame, margins: Mapping[tuple, bool]) -> Hidden:
    """The :class:`Hidden` of a patient-count table from a record of which cells are hidden (:mod:`.handover`):
    ``cells`` as :attr:`Hidden.cells`, ``margins`` ``(margin, key, column) -> hidden`` for each total line the
    table shows itself. Built as :func:`hidden_together` builds it, from ``frame`` (the total lines' values are
    ``frame``'s). Raises ``KeyError`` or ``ValueError`` unless ``cells`` has ``frame``'s rows and columns,
    ``margins`` names exactly the table's total lines, and the shares hidden agree with their counts."""
    from ..stats.table_registry import get

    table = get(table) if isinstance(table, str) else table
    if not (cells.index.equals(frame.index) and cells.columns.equals(frame.columns)):
        raise ValueError(f"{table.name}: the hidden cells were recorded for other rows or columns than these")
    piece = _piece(frame, table.suppression)
    own = {(i, key, col): label for label in piece.own for *_, i, key, col in [label]}
    if own.keys() != margins.keys():
        raise KeyError(f"{table.name}: the recorded total lines are not the table's")
    recorded = cells.to_numpy(dtype=bool)
    flags = {label: bool(margins[k]) for k, label in own.items()}
    for col in [c for c in piece.columns if c in cells.columns]:  # not the rest of a sum, which is never shown
        at = cells.columns.get_loc(col)
        flags.update({(None, "", row, col): bool(recorded[row, at]) for row in range(len(frame))})
    hidden = _hidden(piece, flags)
    if not np.array_equal(hidden.cells.to_numpy(dtype=bool), recorded):
        raise ValueError(f"{table.name}: the recorded hidden shares do not follow their counts")
    return hidden


def _keys(by: Sequence[str]):
    return by[0] if len(by) == 1 else list(by)


def publish(table, frame: pd.DataFrame, min_cell: int = DEFAULT_MIN_CELL, hidden: Hidden | None = None) -> pd.DataFrame:
    """The tidy ``frame`` of a published table as every publication shows it.

    ``table`` is its :class:`~opr_analysis.stats.table_registry.Table` or its name. Internal
    columns (kept for the CSV only) are left out; in a patient-count table a hidden count
    shows :data:`SUPPRESSED` («×») and a hidden share or limit :data:`MISSING` («–»), in
    columns of objects (numbers stay numbers). ``hidden``: the table's cells as suppressed
    together with the other tables of the publication (:func:`hidden_together`); default:
    the table on its own.
    """
    from ..stats.table_registry import PatientCounts, get

    table = get(table) if isinstance(table, str) else table
    keep = [c for c in frame.columns if not ((col := table.column(c)) is not None and col.internal)]
    out = frame[keep].copy()
    spec = table.suppression
    if not isinstance(spec, PatientCounts) or min_cell <= 1:
        return out
    mask = _hidden_for(table, frame, min_cell, hidden).cells
    counts = set(spec.columns())
    for c in keep:
        if mask[c].any():
            out[c] = out[c].astype(object)
            out.loc[mask[c].to_numpy(), c] = SUPPRESSED if c in counts else MISSING
    return out


def display_counts(counts: pd.Series, hidden: pd.Series | None = None, min_cell: int = DEFAULT_MIN_CELL) -> pd.Series:
    """Counts as Norwegian text; every hidden count shows :data:`SUPPRESSED` («×»), whatever its size.

    >>> display_counts(pd.Series([3, 38, 1200]), pd.Series([True, True, False])).str.replace("\\u00a0", " ").tolist()
    ['×', '×', '1 200']
    """
    if hidden is None:
        hidden = pd.Series(False, index=counts.index)
    return pd.Series(
        [SUPPRESSED if h else fmt_int(v) for v, h in zip(counts, hidden, strict=True)],
        index=counts.index,
        dtype=object,
    )


def display_value(value, fmt) -> str:
    """A published value as text: a hidden cell's symbol as it is, anything else through ``fmt``.

    >>> display_value("×", fmt_int), display_value(1200, fmt_int).replace("\u00a0", " ")
    ('×', '1 200')
    """
    return value if isinstance(value, str) and value in (SUPPRESSED, MISSING) else fmt(value)


def display_hidden(text: pd.Series, hidden: pd.Series) -> pd.Series:
    """Replace already formatted values (shares, intervals) by «–» where hidden."""
    return text.where(~hidden.astype(bool), MISSING)


def suppression_note(min_cell: int = DEFAULT_MIN_CELL) -> str:
    """The source-note sentence that explains «×»."""
    return (
        f"«{SUPPRESSED}»: antallet er skjult, fordi det er under {min_cell} eller fordi det ellers kunne regnes "
        "ut hvor mange et skjult antall er."
    )


def suppression_method_text(min_cell: int = DEFAULT_MIN_CELL) -> str:
    """The method section's paragraph on small numbers (Markdown, Bokmål)."""
    return (
        f"**Små tall.** I tabeller som beskriver pasienters kjennetegn eller utfall skjules antall mellom 1 og "
        f"{min_cell - 1}, og alle skjulte antall vises med samme tegn, «{SUPPRESSED}». Der summer og viste tall "
        "ellers ville avsløre et skjult antall, skjules også de minste viste tallene i samme sum (sekundær "
        "prikking). Hver tabell kontrolleres med lineær programmering: for hvert skjult antall regnes det ut "
        f"hvilke verdier det kan ha ut fra alt som vises, og spennet må være minst {min_cell}; ellers skjules "
        "flere tall. En andel skjules når telleren eller nevneren er skjult, og et skjult tall skjules overalt "
        "der det står: i tabellen, i teksten, i figuren og i regnearket. Oppfølgingsskjemaene telles som "
        "pasienter som har fått behandling og svart eller ikke, og prikkes på samme måte. Har registeret flere "
        "enheter, kontrolleres rapporten for hele registeret og hver enhets rapport sammen, slik at et skjult tall "
        "for én enhet ikke kan regnes ut som registerets tall minus de andre enhetenes, heller ikke fra "
        "kvalitetsindikatorene. Administrative tall – henvisninger, baselineskjemaer per innskriving, tidsbruk, "
        "årsaker og datakvalitet – vises uten prikking."
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
