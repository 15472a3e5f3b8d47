"""The parsed columns have the codebook's dtypes by construction, so pandera need not check them.

``schemas.failures`` validates the values only (``schemas._value_schema``: the schema without its
dtypes, and without the columns that have nothing else to check); these tests fail if a parser, or the filling of an absent optional column, ever gave
another dtype than ``schemas.DTYPES`` says, or if the validated schema lost anything else.
"""

import pytest
from helpers import answer_rows, make_extract, write_base_extract

from opr_analysis import load_extract
from opr_analysis.extract import codebook, schemas


@pytest.fixture
def parsed(monkeypatch):
    """Every frame the reader hands to pandera, by table (the last one seen)."""
    seen = {}
    original = schemas.failures

    def spy(table, frame):
        seen[table] = frame
        return original(table, frame)

    monkeypatch.setattr(schemas, "failures", spy)
    return seen


def _assert_codebook_dtypes(frames: dict) -> set[str]:
    """Each frame's columns are the codebook's, with its dtypes as pandera checks them (what it no longer
    checks on every load); the codebook types seen."""
    import pandera.pandas as pa

    cb = codebook.load()
    types = set()
    for table, frame in frames.items():
        spec = cb.tables[table]
        assert list(frame.columns) == list(spec.columns), table
        for name, col in spec.columns.items():
            assert str(frame[name].dtype) == schemas.DTYPES[col.type], (table, name, col.type, frame[name].dtype)
            types.add(col.type)
        dtypes_only = pa.DataFrameSchema(
            {name: pa.Column(col.dtype, nullable=True) for name, col in schemas.schema_for(table).columns.items()}
        )
        dtypes_only.validate(frame, lazy=True)  # raises SchemaErrors naming the column of a wrong dtype
    return types


def test_parsed_columns_have_the_codebook_dtypes(tmp_path, parsed):
    units = [dict(unit_id="A", name="Klinikk A", orgnr="993467049", health_region="sor_ost")]
    make_extract(
        tmp_path / "all",
        units=units,
        referrals=[dict(patient_id="P1", unit_id="A"), dict(patient_id="P2", unit_id="A", decision="tull")],
        enrolments=[dict(patient_id="P1", unit_id="A", closed_date="2022-01-10", granted_date="30.02.2021")],
        baseline_responses=[dict(patient_id="P1", unit_id="A", submitted_at="2021-03-01T10:00:00+01:00")],
        baseline_answers=answer_rows("response_id", {"B1": {"nrs_avg": 5, "nrs_worst": 11}}),
        treatments=[dict(patient_id="P1", unit_id="A", date="")],
        followups=[dict(patient_id="P1", unit_id="A", anchor_id="T1", answered_at="x")],
        legacy_v1=[dict(year="2019", baseline_responses="410", new_patients="")],
        allocations=[dict(experiment_id="X1", patient_id="P1", arm="a", allocated_date="2022-01-01")],
        rights_requests=[dict(request_id="K1", patient_id="P1", kind="innsyn", received_date="2023-01-01")],
        implants=[dict(patient_id="P1", treatment_id="T1", serial_number="S1", unit_id="A")],
    )
    covered = _assert_codebook_dtypes(parsed)
    parsed.clear()
    # The base extract leaves the optional columns out (unit_id, diagnosis, variant): filled, not parsed.
    load_extract(write_base_extract(tmp_path))
    covered |= _assert_codebook_dtypes(parsed)
    assert covered == set(schemas.DTYPES)


def test_the_validated_schema_is_the_codebook_schema_without_dtypes():
    for table in codebook.load().tables:
        full, values = schemas.schema_for(table), schemas._value_schema(table)
        checked = [n for n, c in full.columns.items() if c.checks or c.unique or not c.nullable]
        assert list(values.columns) == checked  # a column left out has nothing to check
        assert [c.name for c in values.checks] == [c.name for c in full.checks]
        for name in checked:
            col, other = full.columns[name], values.columns[name]
            assert other.dtype is None
            assert (other.nullable, other.unique, other.required, other.report_duplicates) == (
                col.nullable, col.unique, col.required, col.report_duplicates
            )  # fmt: skip
            assert [(c.name, c.statistics) for c in other.checks] == [(c.name, c.statistics) for c in col.checks]
