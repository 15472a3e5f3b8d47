"""Units (contract v1.1): reader rules, the one-unit default, per-unit restriction, synth --units."""

import filecmp

import pandas as pd
import pytest
from helpers import make_extract

from opr_analysis import ExtractError, load_extract
from opr_analysis.extract.units import OWN_UNIT, for_unit, row_units, unit_table
from opr_analysis.stats import write_tables
from opr_analysis.synth.registry import synthesize
from opr_analysis.synth.registry import write_tables as write_synth
from opr_analysis.synth.units import synthesize_units

UNITS = [
    dict(unit_id="A", name="Klinikk A", orgnr="993467049", health_region="sor_ost"),
    dict(unit_id="B", name="Klinikk B", orgnr="983975240", health_region="vest"),
]


def _quarantined(reg, table):
    return reg.report.quarantine[table].set_index("row")["quarantine_reason"].to_dict()


def test_no_units_is_one_unit_the_registrys_own(tmp_path):
    reg = make_extract(tmp_path, enrolments=[dict(patient_id="P1")])
    assert unit_table(reg).to_dict("records") == [OWN_UNIT]
    assert row_units(reg, "enrolments").tolist() == ["ous"]
    assert "units" not in reg.report.summary_text()  # a v1 extract's summary is as before


def test_unit_rules_quarantine(tmp_path):
    reg = make_extract(
        tmp_path,
        units=UNITS + [dict(unit_id="C", name="Klinikk C", orgnr="123456789", health_region="nord")],
        enrolments=[
            dict(enrolment_id="E1", patient_id="P1", unit_id="A", closed_date="2022-01-10"),
            dict(enrolment_id="E2", patient_id="P2", unit_id=""),  # blank where units exist
            dict(enrolment_id="E3", patient_id="P3", unit_id="X"),  # no such unit
        ],
        treatments=[dict(treatment_id="T1", patient_id="P1", unit_id="B")],
        followups=[
            dict(followup_id="F1", patient_id="P1", kind="rf_3m", anchor_id="T1", unit_id="B"),
            dict(followup_id="F2", patient_id="P1", kind="rf_6m", anchor_id="T1", unit_id="A"),  # disagrees
            dict(followup_id="F3", patient_id="P1", kind="avsluttet_12m", anchor_id="E1", sent_date="2023-01-20"),
        ],
    )
    assert "organisasjonsnummer" in _quarantined(reg, "units")[3]  # bad check digit
    q = _quarantined(reg, "enrolments")
    assert set(q) == {2, 3}
    assert "påkrevd når uttrekket har tabellen units" in q[2]
    assert "finnes ikke i units" in q[3]
    assert set(_quarantined(reg, "followups")) == {2}
    assert "annen enhet" in _quarantined(reg, "followups")[2]
    # a follow-up belongs to its anchor's unit
    assert dict(zip(reg.followups["followup_id"], row_units(reg, "followups"))) == {"F1": "B", "F3": "A"}


def test_missing_unit_column_with_units_stops(tmp_path):
    make_extract(tmp_path, units=UNITS, enrolments=[dict(patient_id="P1", unit_id="A")])
    ref = pd.read_csv(tmp_path / "referrals.csv").drop(columns="unit_id")
    ref.to_csv(tmp_path / "referrals.csv", index=False)
    with pytest.raises(ExtractError, match="referrals.csv: mangler kolonne «unit_id»"):
        load_extract(tmp_path)


def test_unit_id_without_units_is_broken_reference(tmp_path):
    reg = make_extract(tmp_path, enrolments=[dict(patient_id="P1", unit_id="A")])
    assert "tabellen units finnes ikke" in _quarantined(reg, "enrolments")[1]


def test_for_unit_restricts_every_table(tmp_path):
    reg = make_extract(
        tmp_path,
        units=UNITS,
        referrals=[dict(unit_id="A"), dict(unit_id="B")],
        enrolments=[dict(patient_id="P1", unit_id="A"), dict(patient_id="P2", unit_id="B")],
        treatments=[dict(treatment_id="T1", patient_id="P2", unit_id="B")],
        followups=[dict(patient_id="P2", kind="rf_3m", anchor_id="T1")],
        baseline_responses=[dict(patient_id="P1", unit_id="A")],
        short_forms=[dict(patient_id="P2", unit_id="B")],
    )
    b = for_unit(reg, "B")
    assert b.referrals["referral_id"].tolist() == ["R2"]
    assert b.enrolments["enrolment_id"].tolist() == ["E2"]
    assert len(b.baseline_responses) == 0 and len(b.short_forms) == 1 and len(b.followups) == 1
    assert b.patients["patient_id"].tolist() == ["P2"]
    # made once per registry and unit, so what is computed per registry (its memo) is shared
    assert for_unit(reg, "B") is b and for_unit(reg, "A") is not b
    b.memo("k", lambda: 1)
    assert for_unit(reg, "B").memo("k", lambda: 2) == 1
    # a registry whose table was replaced gets a unit registry of the new rows
    reg.tables["referrals"] = reg.referrals.iloc[:1]
    fresh = for_unit(reg, "B")
    assert fresh is not b and len(fresh.referrals) == 0 and fresh.memo("k", lambda: 2) == 2


def test_one_unit_table_gives_identical_outputs(tmp_path):
    """Adding a units table with one unit (and unit_id everywhere) changes no report table."""
    tables = synthesize(seed=5, scale=0.1, years=(2021, 2023), generators=[]).tables
    write_synth(tables, tmp_path / "v1")
    one = dict(tables)
    one["units"] = pd.DataFrame([OWN_UNIT]).astype("string")
    for name in ("referrals", "enrolments", "baseline_responses", "short_forms", "treatments"):
        one[name] = tables[name].assign(unit_id="ous")
    write_synth(one, tmp_path / "v11")
    write_tables(load_extract(tmp_path / "v1"), tmp_path / "out1", as_of="2024-06-30")
    write_tables(load_extract(tmp_path / "v11"), tmp_path / "out2", as_of="2024-06-30")
    files = sorted(p.name for p in (tmp_path / "out1").iterdir())
    match, mismatch, errors = filecmp.cmpfiles(tmp_path / "out1", tmp_path / "out2", files, shallow=False)
    assert mismatch == [] and errors == [] and len(match) == len(files) > 10


def test_synth_units_differ_in_size_and_performance(tmp_path):
    tables = synthesize_units(3, seed=7, scale=0.3, years=(2021, 2024), generators=[])
    write_synth(tables, tmp_path / "x")
    reg = load_extract(tmp_path / "x")
    assert reg.report.rows_quarantined == 0
    assert unit_table(reg)["unit_id"].tolist() == ["ous", "u2", "u3"]
    sizes = row_units(reg, "enrolments").value_counts()
    assert sizes["ous"] > sizes["u2"] > sizes["u3"]
    e = reg.enrolments.assign(unit=row_units(reg, "enrolments").to_numpy())
    wait = (e["first_consultation_date"] - e["granted_date"]).dt.days.groupby(e["unit"]).median()
    assert wait["u2"] > wait["ous"] + 10 > wait["u3"] + 10  # profile: +25 and -10 days
    # patient ids never shared between units
    assert reg.patients["patient_id"].is_unique


def test_cli_synth_units_validate_and_indicators(tmp_path, capsys):
    from opr_analysis import cli

    extract = tmp_path / "multi"
    assert cli.main(["synth", "--out", str(extract), "--units", "3", "--scale", "0.1", "--years", "2022-2023",
                     "--no-answers"]) == 0  # fmt: skip
    assert (extract / "units.csv").read_text().splitlines()[0] == "unit_id,name,orgnr,health_region"
    enr = pd.read_csv(extract / "enrolments.csv", dtype=str)
    enr.loc[0, "unit_id"] = "nope"
    enr.to_csv(extract / "enrolments.csv", index=False)
    assert cli.main(["validate", str(extract), "--quarantine", str(tmp_path / "q")]) == 0
    q = pd.read_csv(tmp_path / "q" / "enrolments.csv", dtype=str)
    assert q["row"].tolist()[0] == "1" and "finnes ikke i units" in q["quarantine_reason"].iloc[0]
    out = tmp_path / "ind"
    assert cli.main(["indicators", str(extract), "--out", str(out), "--as-of", "2024-06-30"]) == 0
    delivery = pd.read_csv(out / "nasjonal_leveranse.csv", dtype={"orgnr": str})
    assert set(delivery["orgnr"]) == set(pd.read_csv(extract / "units.csv", dtype=str)["orgnr"])
    with pytest.raises(SystemExit) as exc:
        cli.main(["synth", "--out", str(tmp_path / "x"), "--units", "0"])
    assert exc.value.code == 2
