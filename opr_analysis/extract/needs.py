"""Which extract tables a computation reads, so that a command reads and validates only those.

Declared where the reading happens, on the statistic itself::

    @reads("referrals", "patients")
    def referrals_by_sex_age(reg): ...

    @reads(referrals_assessed, baseline_response_patient_level)   # another statistic's tables
    def trend_tests(reg): ...

A declaration covers everything the function reads, through its helpers too.
:func:`tables_read_by` is the union over the statistics a command calls (``opr tables``: every
table of the table registry; ``opr followups``: the follow-up audit; ``opr indicators``: the
indicators' statistics), and :func:`closure` adds what validation needs on top: a table's rows
can only be checked against the usable rows of the tables they refer to (codebook
``references``; a follow-up's anchor in ``treatments`` or ``enrolments``), so those are read
too, recursively, plus :data:`ALWAYS`. ``None`` (no declaration) means every table:
``opr validate``, ``opr report``, research deliveries and notebooks read the whole extract.

A table the command did not read is missing from the registry, not empty: reading it raises
:class:`TableNotRead`, so a statistic whose declaration is short fails loudly instead of
counting an empty table (``tests/test_needs.py`` computes every declared statistic on the tables
it declares and compares with the whole extract).

The module imports nothing heavy (the commands ask it before loading pandas).

>>> from opr_analysis.extract import codebook
>>> closure(codebook.load(), ["followups"])
('units', 'patients', 'enrolments', 'treatments', 'followups', 'rights_requests')
>>> @reads("short_forms")
... def count_forms(reg): ...
>>> sorted(tables_read_by(count_forms, "legacy_v1"))
['legacy_v1', 'short_forms']
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

#: Tables every load reads, whatever the command needs: the patients' requests (erasure, reservation).
ALWAYS: tuple[str, ...] = ("rights_requests",)

#: Cross-table rules of the reader beyond codebook ``references`` (:mod:`.reader`): the tables a
#: table's rows are checked against.
RULE_REFERENCES: dict[str, tuple[str, ...]] = {
    "followups": ("treatments", "enrolments"),  # the anchor of each follow-up kind (reader.ANCHOR_TABLE)
}

ATTRIBUTE = "extract_tables"


class TableNotRead(KeyError):
    """A statistic read a table its command did not read (its ``@reads`` declaration is short)."""

    def __str__(self) -> str:
        return (
            f"tabellen «{self.args[0]}» ble ikke lest av denne kommandoen (statistikken som bruker den, "
            "oppgir den ikke i @reads); meld fra til utviklerne"
        )


def reads(*what: str | Callable) -> Callable:
    """Decorator: the function reads these extract tables (names, or other declared statistics)."""
    tables = tables_read_by(*what)

    def mark(func: Callable) -> Callable:
        setattr(func, ATTRIBUTE, tables)
        return func

    return mark


def tables_read_by(*computations: str | Callable) -> frozenset[str]:
    """The extract tables the given statistics (or table names) read; ValueError for an undeclared one."""
    out: set[str] = set()
    for c in computations:
        if isinstance(c, str):
            out.add(c)
            continue
        declared = getattr(c, ATTRIBUTE, None)
        if declared is None:
            name = getattr(c, "__qualname__", repr(c))
            raise ValueError(f"{name} does not declare the extract tables it reads (@reads)")
        out |= declared
    return frozenset(out)


def closure(cb, names: Iterable[str] | None, always: bool = True) -> tuple[str, ...]:
    """``names`` plus every table they refer to, recursively, plus :data:`ALWAYS` (unless ``always``
    is false: what a table's own validation depends on), in codebook order.

    ``None`` is every table of the codebook ``cb``. An unknown name is a ValueError.
    """
    if names is None:
        return tuple(cb.tables)
    todo = [*names, *(ALWAYS if always else ())]
    unknown = sorted(set(todo) - set(cb.tables))
    if unknown:
        raise ValueError(f"unknown extract tables: {', '.join(unknown)}")
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo.extend(references(cb, name))
    return tuple(t for t in cb.tables if t in seen)


def references(cb, table: str) -> tuple[str, ...]:
    """The tables ``table``'s rows are checked against (codebook references and :data:`RULE_REFERENCES`)."""
    spec = cb.tables[table]
    refs = [c.reference_table for c in spec.columns.values() if c.references]
    return tuple(dict.fromkeys([*refs, *RULE_REFERENCES.get(table, ())]))
