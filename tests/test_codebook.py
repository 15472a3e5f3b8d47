"""The codebook: structure, consistency with the data contract, generated docs."""

from pathlib import Path

import pytest

from opr_analysis.extract import codebook
from opr_analysis.extract.codebook_doc import codebook_markdown
from opr_analysis.extract.schemas import schema_for

ROOT = Path(__file__).resolve().parents[1]

# The data contract's required tables and columns, in order (binding names).
CONTRACT = {
    "patients": [
        "patient_id",
        "birth_year",
        "sex",
        "interpreter_needed",
        "cognitive_impairment",
        "research_participant",
        "reserved_date",
    ],
    "referrals": ["referral_id", "patient_id", "assessed_date", "decision", "region"],
    "enrolments": [
        "enrolment_id",
        "patient_id",
        "granted_date",
        "first_consultation_date",
        "closed_date",
        "dips_closed_date",
    ],
    "baseline_responses": ["response_id", "patient_id", "submitted_at", "duration_ms"],
    "short_forms": ["short_form_id", "patient_id", "date", "reason"],
    "treatments": ["treatment_id", "patient_id", "kind", "date"],
    "followups": ["followup_id", "patient_id", "kind", "anchor_id", "sent_date", "responded_at"],
}


def test_contract_tables_and_columns_present_in_order():
    cb = codebook.load()
    for table, cols in CONTRACT.items():
        assert cb.tables[table].required
        assert cb.tables[table].required_columns == cols


def test_contract_codes():
    cb = codebook.load()
    assert list(cb.column("referrals", "decision").codes) == [
        "rett",
        "avvist",
        "videresendt",
        "apen_retur",
        "foresporsel",
    ]
    assert list(cb.column("followups", "kind").codes) == [
        "rf_3m",
        "rf_6m",
        "rf_12m",
        "scs_3m",
        "scs_6m",
        "scs_12m",
        "avsluttet_12m",
    ]
    assert list(cb.column("patients", "sex").codes) == ["K", "M"]
    assert cb.column("short_forms", "reason").optional


def test_legacy_is_optional():
    assert not codebook.load().tables["legacy_v1"].required


def test_every_label_is_present():
    cb = codebook.load()
    for t in cb.tables.values():
        for c in t.columns.values():
            assert c.label and c.description, f"{t.name}.{c.name}"


def test_bad_codebook_is_rejected():
    raw = {
        "version": 1,
        "contract": "x",
        "tables": {
            "a": {
                "label": "A",
                "description": "d",
                "columns": {"x": {"type": "date", "label": "x", "description": "d", "references": "nowhere.id"}},
            }
        },
    }
    with pytest.raises(ValueError, match="references unknown"):
        codebook.from_dict(raw)
    raw["tables"]["a"]["columns"]["x"] = {"type": "timestamp", "label": "x", "description": "d"}
    with pytest.raises(ValueError, match="unknown type"):
        codebook.from_dict(raw)


def test_schema_is_derived_from_codebook():
    cb = codebook.load()
    for name, table in cb.tables.items():
        schema = schema_for(name)
        assert list(schema.columns) == list(table.columns)
        for cname, col in table.columns.items():
            assert schema.columns[cname].nullable == col.optional
            assert schema.columns[cname].unique == col.unique


def test_docs_codebook_is_current():
    """docs/codebook.md is generated; regenerate with `make docs` when this fails."""
    assert (ROOT / "docs" / "codebook.md").read_text(encoding="utf-8") == codebook_markdown()
