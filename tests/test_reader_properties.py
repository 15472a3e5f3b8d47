"""Issue 8.2: property-based tests of the reader (hypothesis)."""

import hashlib
import tempfile
from pathlib import Path

import pytest
from helpers import BASE, rows, write_base_extract
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opr_analysis import ExtractError, load_extract

TABLES = list(BASE)
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def hashes(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def check_counts(reg) -> None:
    for table, s in reg.report.summaries.items():
        if s.file is None:
            continue
        assert s.rows_read == s.rows_used + s.rows_quarantined, table
        used = set(reg.tables[table].index)
        q = reg.report.quarantine[table]
        qrows = set(q["row"]) if len(q) else set()
        assert used.isdisjoint(qrows), table
        assert len(used | qrows) == s.rows_read, table
        assert len(q) == s.rows_quarantined, table


def load_or_extract_error(folder: Path):
    """Either a registry or the validator's own error; anything else fails the test."""
    try:
        return load_extract(folder)
    except ExtractError:
        return None


cell_text = st.text(max_size=40) | st.sampled_from(
    [
        "",
        " ",
        "ja",
        "1",
        "2023-02-29",
        "45000",
        '"',
        ";",
        ",",
        "\n",
        "\r\n",
        "\x00",
        "-1",
        "P001",
        "T01",
        "E01",
        "  rett  ",
    ]
)


@SETTINGS
@given(
    table=st.sampled_from(TABLES),
    column_pick=st.integers(min_value=0, max_value=20),
    row_pick=st.integers(min_value=0, max_value=20),
    text=cell_text,
    fmt=st.sampled_from(["csv", "parquet"]),
    sep=st.sampled_from([",", ";"]),
)
@pytest.mark.slow
def test_any_cell_text_gives_a_registry_or_an_extract_error(table, column_pick, row_pick, text, fmt, sep):
    records = rows(table)
    columns = list(records[0]) + ["fritekst"]
    column = columns[column_pick % len(columns)]
    for r in records:
        r.setdefault("fritekst", "")
    records[row_pick % len(records)][column] = text
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_base_extract(Path(tmp), fmt=fmt, sep=sep, **{table: records})
        before = hashes(folder)
        reg = load_or_extract_error(folder)
        assert hashes(folder) == before
        if reg is not None:
            check_counts(reg)


def _row_strategy(table: str):
    base = BASE[table]
    cols = list(base[0])
    values = {c: st.sampled_from(sorted({r[c] for r in base} | {""})) | cell_text for c in cols}
    return st.fixed_dictionaries(values)


extract_strategy = st.fixed_dictionaries({t: st.lists(_row_strategy(t), max_size=4) for t in TABLES})


@SETTINGS
@given(tables=extract_strategy, fmt=st.sampled_from(["csv", "parquet"]))
@pytest.mark.slow
def test_rows_read_equal_used_plus_quarantined(tables, fmt):
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_base_extract(Path(tmp), fmt=fmt, **tables)
        before = hashes(folder)
        reg = load_or_extract_error(folder)
        assert hashes(folder) == before
        if reg is not None:
            check_counts(reg)
            for table, records in tables.items():
                assert reg.report.summaries[table].rows_read == len(records), table


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table=st.sampled_from(TABLES), column_pick=st.integers(min_value=0, max_value=20), text=cell_text)
def test_any_header_text_gives_a_registry_or_an_extract_error(table, column_pick, text):
    records = rows(table)
    old = list(records[0])[column_pick % len(records[0])]
    renamed = [{(text if k == old else k): v for k, v in r.items()} for r in records]
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_base_extract(Path(tmp), **{table: renamed})
        before = hashes(folder)
        reg = load_or_extract_error(folder)
        assert hashes(folder) == before
        if reg is not None:
            check_counts(reg)
