"""Pandera schemas derived from the codebook.

A schema checks a parsed table (text columns still text, so that an unknown
code can be reported as written): non-blank where required, codes, ranges,
unique ids, and for questionnaire answers the item's own range. It never
restates the codebook; :func:`schema_for` builds it.

Examples
--------
>>> import pandas as pd
>>> frame = pd.DataFrame({"item": ["nrs_avg"], "value": [11.0]}, index=pd.Index([1], name="row"))
>>> failures("baseline_answers", frame.assign(response_id="B1").astype({"response_id": "string", "item": "string", "value": "Float64"}))[["row", "column", "check"]].to_dict("records")
[{'row': 1, 'column': 'value', 'check': 'item_range'}]
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..imports import without
from . import codebook

if TYPE_CHECKING:
    import pandera.pandas as pa


def _import_pandera():
    """pandera, without loading hypothesis for it (:mod:`opr_analysis.imports`)."""
    with without("hypothesis"):
        import pandera.backends.pandas.builtin_checks  # noqa: F401 (what the first validate would import)
        import pandera.errors
        import pandera.pandas
    return pandera.pandas, pandera.errors.SchemaErrors


@cache
def _pandera():
    """(pandera.pandas, SchemaErrors), imported on first validation: a load from the cache never needs them."""
    return _import_pandera()


DTYPES = {
    "id": "string",
    "string": "string",
    "text": "string",
    "code": "string",
    "item": "string",
    "orgnr": "string",
    "int": "Int64",
    "float": "Float64",
    "bool": "boolean",
    "date": "datetime64[ns]",
    "datetime": "datetime64[ns]",
}


def _column_schema(col: codebook.Column, items: dict) -> pa.Column:
    pa, _ = _pandera()
    checks = []
    if col.type == "code":
        checks.append(pa.Check.isin(list(col.codes), name="code"))
    if col.type == "item":
        checks.append(pa.Check.isin(list(items), name="item"))
    if col.type == "orgnr":
        checks.append(pa.Check(_valid_orgnr, element_wise=False, name="orgnr"))
    if col.min is not None:
        checks.append(pa.Check.ge(col.min, name="min"))
    if col.max is not None:
        checks.append(pa.Check.le(col.max, name="max"))
    return pa.Column(
        DTYPES[col.type],
        checks=checks,
        # A blank flag is an unknown flag (contract: it excludes nobody), never an error.
        nullable=col.optional or col.type == "bool",
        unique=col.unique,
        required=not col.extension,
        report_duplicates="all",
        name=col.name,
    )


def _valid_orgnr(values: pd.Series) -> pd.Series:
    """A Norwegian organisation number: 9 digits with a valid modulus-11 check digit (python-stdnum)."""
    from stdnum.no import orgnr

    return values.isna() | values.astype(object).map(lambda v: isinstance(v, str) and v.isdigit() and orgnr.is_valid(v))


def _item_range_check(items: dict) -> pa.Check:
    pa, _ = _pandera()
    lo = pd.Series({code: item.min for code, item in items.items()}, dtype="float64")
    hi = pd.Series({code: item.max for code, item in items.items()}, dtype="float64")

    def answer_within_item_range(frame: pd.DataFrame) -> pd.Series:
        import pyarrow as pa
        import pyarrow.compute as pc

        v = frame["value"].to_numpy(dtype="float64", na_value=np.nan)
        # Each answer's item range by Arrow's hash lookup (NaN: an unknown or blank item), not a Python map.
        at = pc.index_in(pa.array(frame["item"].astype("string").array), value_set=pa.array(list(lo.index)))
        at = pc.fill_null(at, len(lo)).to_numpy(zero_copy_only=False)
        low, high = np.append(lo.to_numpy(), np.nan)[at], np.append(hi.to_numpy(), np.nan)[at]
        with np.errstate(invalid="ignore"):
            ok = (v >= low) & (v <= high) & (np.floor(v) == v)
        # Unknown items and blanks are reported by their own column checks.
        return pd.Series(ok | np.isnan(low) | np.isnan(v), index=frame.index)

    return pa.Check(answer_within_item_range, name="item_range")


@cache
def schema_for(table: str) -> pa.DataFrameSchema:
    """The pandera schema of one codebook table."""
    pa, _ = _pandera()
    cb = codebook.load()
    spec = cb.tables[table]
    items = cb.items
    checks = [_item_range_check(items)] if any(c.type == "item" for c in spec.columns.values()) else []
    return pa.DataFrameSchema(
        {name: _column_schema(col, items) for name, col in spec.columns.items()},
        checks=checks,
        strict=False,
        coerce=False,
        name=table,
    )


@cache
def _value_schema(table: str) -> pa.DataFrameSchema:
    """:func:`schema_for` without its column dtypes: what :func:`failures` validates.

    The reader's parsers give every column its codebook dtype (``DTYPES``) by construction, and a
    dtype that does not match is a failure without a row (its failure case is the dtype's name),
    which :func:`failures` never reported; checking the dtypes cost pandera about half of a small
    table's validation (tests/test_reader_dtypes.py asserts the parsers' dtypes instead). Not
    ``ValidationDepth.DATA_ONLY``: that skips the not-nullable check too (pandera counts it as schema-level).
    A column with nothing left to check (blank allowed, not unique, no checks) is left out: every
    column is in the frame by construction, and pandera's per-column overhead is most of a small load's.
    """
    schema = schema_for(table)
    idle = [n for n, c in schema.columns.items() if c.nullable and not c.unique and not c.checks]
    return schema.update_columns({name: {"dtype": None} for name in schema.columns}).remove_columns(idle)


def failures(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Every failed check as rows of (row, column, check, value).

    ``row`` is the frame's index (the 1-based data row of the source file). The frame's dtypes are
    not checked here (:func:`_value_schema`).
    """
    _, schema_errors = _pandera()
    try:
        _value_schema(table).validate(frame, lazy=True, inplace=True)  # inplace: nothing to coerce, no copy
    except schema_errors as err:
        cases = err.failure_cases
    else:
        return pd.DataFrame(columns=["row", "column", "check", "value"])
    cases = cases[cases["index"].notna()].copy()
    wide = cases["column"].isna() | (cases["schema_context"] == "DataFrameSchema")
    # The item-range check is a whole-row check; it is about the answer's value.
    cases.loc[wide, "column"] = "value"
    cases["check"] = cases["check"].astype(str).str.replace(r"\(.*\)$", "", regex=True)
    cases.loc[cases["check"].str.contains("not_nullable"), "check"] = "not_nullable"
    cases.loc[cases["check"].str.contains("field_uniqueness"), "check"] = "unique"
    out = pd.DataFrame(
        {
            "row": cases["index"].astype("int64"),
            "column": cases["column"].astype(str),
            "check": cases["check"],
        }
    )
    return out.drop_duplicates().reset_index(drop=True)
