"""The contract's report tables: names, column lists, CSV blanks, CLI, and the synthetic extract."""

import importlib.util

import pandas as pd
import pytest
from helpers import make_extract

from opr_analysis import CONTRACT_COLUMNS, UsageError, cli, report_tables, write_tables

CONTRACT_FILES = {
    "referrals_assessed.csv", "referrals_by_region.csv", "baseline_response.csv",
    "legacy_baseline_response.csv", "completion_time.csv", "short_form_reasons.csv", "followup_response.csv",
}  # fmt: skip


@pytest.fixture()
def reg(tmp_path):
    return make_extract(
        tmp_path / "extract",
        referrals=[dict(assessed_date="2021-01-01", decision="rett", region="lokal"),
                   dict(assessed_date="2023-01-01", decision="avvist", region="")],
        enrolments=[dict(patient_id="P1", granted_date="2021-01-05", closed_date="2022-01-01")],
        baseline_responses=[dict(patient_id="P1", submitted_at="2021-01-10T10:00:00", duration_ms=16085636)],
        treatments=[dict(patient_id="P1", date="2022-01-01")],
        followups=[dict(patient_id="P1", anchor_id="T1", kind="rf_3m", sent_date="2022-04-01")],
    )  # fmt: skip


def _check_contract(folder):
    names = {p.name for p in folder.glob("*.csv")}
    assert CONTRACT_FILES <= names
    for name, cols in CONTRACT_COLUMNS.items():
        header = pd.read_csv(folder / f"{name}.csv", nrows=0).columns.tolist()
        assert header[: len(cols)] == cols, name


def test_write_tables_contract_columns_and_blanks(reg, tmp_path):
    from opr_analysis.safety.owned import owned_dir

    out = tmp_path / "out"
    (out).mkdir()
    (out / "notes.csv").write_text("x\n")  # a folder opr did not write is never replaced
    with pytest.raises(UsageError):
        write_tables(reg, out, as_of="2023-12-31")
    assert (out / "notes.csv").read_text() == "x\n"
    out = tmp_path / "fresh"
    with owned_dir(out, "tables") as tmp:  # an earlier opr tables run
        (tmp / "stale.csv").write_text("x\n")  # a file from an earlier run must not survive
    write_tables(reg, out, as_of="2023-12-31")
    _check_contract(out)
    assert not (out / "stale.csv").exists()
    text = (out / "referrals_assessed.csv").read_text().splitlines()
    assert text[2] == "2022,0,0,,,"  # 0/0 is blank
    region = pd.read_csv(out / "referrals_by_region.csv")
    assert region.loc[region["region"] == "annet_blank", "share"].isna().all()
    ct = pd.read_csv(out / "completion_time.csv", dtype={"period": str})
    assert ct["period"].tolist() == ["2021", "alle"] and ct["max_hms"].tolist() == ["04:28:05"] * 2


def test_report_tables_keys(reg):
    tables = report_tables(reg, as_of="2023-12-31")
    assert set(tables) == {n.removesuffix(".csv") for n in CONTRACT_FILES}
    fr = tables["followup_response"].set_index(["year", "kind"])
    assert fr.loc[(2022, "rf_3m"), ["owed", "sent", "sent_owed"]].tolist() == [1, 1, 1]  # due 2022-04-01


def test_cli_tables_and_followups(reg, tmp_path, capsys):
    out = tmp_path / "cli"
    assert cli.main(["tables", str(reg.path), "--out", str(out), "--as-of", "31.12.2023"]) == 0
    _check_contract(out)
    err = capsys.readouterr().err
    assert "referrals" in err and "Karantene" in err  # the validation summary is shown
    f = tmp_path / "f" / "followups.csv"
    assert cli.main(["followups", str(reg.path), "--out", str(f), "--as-of", "2023-12-31"]) == 0
    audit = pd.read_csv(f)
    assert audit.loc[audit["kind"] == "rf_3m", "status"].tolist() == ["sendt"]
    assert audit.loc[audit["kind"] == "avsluttet_12m", "status"].tolist() == ["ikke_sendt"]
    assert cli.main(["followups", str(reg.path), "--out", str(f), "--as-of", "i går"]) == 2


@pytest.mark.slow
def test_tables_on_the_default_synthetic_extract(tmp_path):
    if importlib.util.find_spec("opr_analysis.synth.registry") is None:
        pytest.skip("opr_analysis.synth.registry is not on this branch yet (opr synth lives on another branch)")
    from opr_analysis.synth.registry import write_synthetic

    write_synthetic(tmp_path / "synthetic", seed=2024, scale=1.0, years=(2020, 2025), fmt="csv")
    # (how fast: make bench, never a timed test)
    assert (
        cli.main(["tables", str(tmp_path / "synthetic"), "--out", str(tmp_path / "out"), "--as-of", "2025-12-31"]) == 0
    )
    _check_contract(tmp_path / "out")
    region = pd.read_csv(tmp_path / "out" / "referrals_by_region.csv")
    years = sorted(region["year"].unique())
    assert len(region) == len(years) * 2 * 4 and years == list(range(years[0], years[-1] + 1))
