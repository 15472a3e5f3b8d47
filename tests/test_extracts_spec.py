"""Spec validation: clear errors for everything a reviewer could get wrong."""

import pytest

from opr_analysis.errors import UsageError
from opr_analysis.extracts.spec import load_spec, parse_spec

BASE = {
    "project": "p-1",
    "title": "T",
    "research_question": "Q?",
    "recipient": {"name": "A"},
    "variables": {"enrolments": ["age_band", "sex"]},
}


def spec(**changes):
    return parse_spec({**BASE, **changes})


def test_minimal_spec_has_safe_defaults():
    s = spec()
    assert s.variables["enrolments"] == ("age_band", "patients.sex")
    assert (s.dates, s.formats, s.disclosure.k, s.disclosure.on_violation) == ("year", ("csv",), 5, "refuse")


def test_unknown_variable_is_named_with_a_suggestion():
    with pytest.raises(UsageError) as exc:
        spec(variables={"enrolments": ["age_bnad"]})
    assert "ukjent variabel «age_bnad»" in str(exc.value)
    assert "Mente du age_band" in str(exc.value)


def test_every_problem_is_listed_at_once():
    raw = {**BASE, "research_question": "", "dates": "week", "formats": ["csv", "sas"]}
    raw.pop("recipient")
    with pytest.raises(UsageError) as exc:
        parse_spec(raw)
    msg = str(exc.value)
    for part in ("research_question: mangler", "recipient: mangler", "dates «week»", "['sas']"):
        assert part in msg


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("patients.birth_year", "fødselsår utleveres ikke"),
        ("enrolments.enrolment_id", "identifikator"),
        ("patients.patient_id", "identifikator"),
    ],
)
def test_ids_and_birth_year_are_never_deliverable(name, why):
    with pytest.raises(UsageError, match=why):
        spec(variables={"enrolments": [name]})


def test_variable_of_another_level_is_unknown():
    with pytest.raises(UsageError, match="treatments.kind"):
        spec(variables={"enrolments": ["treatments.kind"]})


def test_bad_inclusion_codes_and_unknown_keys():
    with pytest.raises(UsageError) as exc:
        spec(inclusion={"sex": ["X"], "treatment_kinds": ["laser"], "colour": "red"})
    msg = str(exc.value)
    assert "inclusion.sex ['X']" in msg and "['laser']" in msg and "inclusion.colour: ukjent nøkkel" in msg


def test_load_spec_reads_yaml_and_keeps_bytes(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text(
        "project: p-1\ntitle: T\nresearch_question: Q?\nrecipient: {name: A}\n"
        "variables: {enrolments: [age_band]}\ndates: relative\n",
        encoding="utf-8",
    )
    s = load_spec(p)
    assert s.dates == "relative" and s.source_bytes == p.read_bytes()
    p.write_text("project: [unclosed", encoding="utf-8")
    with pytest.raises(UsageError, match="ikke gyldig YAML"):
        load_spec(p)
