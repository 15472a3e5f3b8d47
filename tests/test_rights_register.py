"""The delivery register: which deliveries held a patient, as keyed hashes, beside the delivery log."""

from __future__ import annotations

import pandas as pd
import pytest
from helpers import write_research_extract, write_spec

from opr_analysis.errors import UsageError
from opr_analysis.extracts import deliver
from opr_analysis.extracts.delivery import LOG_FIELDS
from opr_analysis.rights.register import (
    PATIENTS_NAME,
    REGISTER_NAME,
    check_register,
    deliveries_of,
    read_register,
    sync_register,
)

SMALL = {"enrolments": ["patients.sex", "enrolment_year"]}


@pytest.fixture(scope="module")
def extract(tmp_path_factory):
    return write_research_extract(tmp_path_factory.mktemp("extract") / "ex", n=30)


@pytest.fixture
def keys(tmp_path):
    return tmp_path / "keys"


def _deliver(tmp_path, extract, keys, name, **spec):
    path = write_spec(tmp_path / f"{name}.yaml", project=name, variables=SMALL, formats=["csv"], **spec)
    return deliver(path, extract, tmp_path / "out" / name, key_dir=keys, docs=False)


def test_each_delivery_records_exactly_its_patients(tmp_path, extract, keys):
    men = _deliver(tmp_path, extract, keys, "bare-menn", inclusion={"sex": ["M"]}, purpose="Et formål for menn.")
    everyone = _deliver(tmp_path, extract, keys, "alle")
    log = tmp_path / "delivery-log.csv"
    found = deliveries_of(["PAS-00003", "PAS-00001", "PAS-99999"], log, keys)
    held = found.groupby("patient_id")["project"].apply(sorted).to_dict()
    assert held == {"PAS-00003": ["alle", "bare-menn"], "PAS-00001": ["alle"]}  # PAS-00003 is a man, 00001 not
    assert set(found["status"]) == {"med"}
    row = found[(found["patient_id"] == "PAS-00003") & (found["project"] == "bare-menn")].iloc[0]
    assert (row["recipient"], row["institution"], row["purpose"]) == ("Test Forsker", "UiO", "Et formål for menn.")
    assert row["manifest_sha256"] == men.manifest_sha256 and row["folder"] == str(tmp_path / "out" / "bare-menn")
    assert found[found["project"] == "alle"]["purpose"].iloc[0] == "Svarer pasientene på baseline?"  # the question
    register = pd.read_csv(tmp_path / REGISTER_NAME, dtype=str)
    assert register["patients"].astype(int).tolist() == [men.patients, everyone.patients]
    patients = pd.read_csv(tmp_path / PATIENTS_NAME, dtype=str)
    assert len(patients) == men.patients + everyone.patients
    # neither the plain ids nor the projects' pseudonyms are in the register
    text = (tmp_path / REGISTER_NAME).read_text() + (tmp_path / PATIENTS_NAME).read_text()
    pids = set(pd.read_csv(everyone.folder / "enrolments.csv")["pid"])
    assert "PAS-" not in text and not any(p in text for p in pids)


def test_the_same_delivery_twice_writes_its_hashes_once(tmp_path, extract, keys):
    a = _deliver(tmp_path, extract, keys, "alle")
    b = deliver(tmp_path / "alle.yaml", extract, tmp_path / "out" / "igjen", key_dir=keys, docs=False)
    assert a.manifest_sha256 == b.manifest_sha256
    assert len(read_register(tmp_path / "delivery-log.csv")) == 2
    assert len(pd.read_csv(tmp_path / PATIENTS_NAME)) == a.patients
    found = deliveries_of(["PAS-00001"], tmp_path / "delivery-log.csv", keys)
    assert found["folder"].tolist() == [str(a.folder), str(b.folder)]


def _old_log(path, lines=2):
    rows = [
        [f"2023-0{i + 1}-01T10:00:00+01:00", f"gammelt-{i}", "enrolments:age_band", 10 + i, 11 + i, f"{i:064x}", f"/ut/{i}"]
        for i in range(lines)
    ]  # fmt: skip
    pd.DataFrame(rows, columns=list(LOG_FIELDS)).to_csv(path, index=False, lineterminator="\n")
    return path.read_bytes()


def test_the_old_delivery_log_is_migrated_without_losing_a_line(tmp_path, extract, keys):
    log = tmp_path / "delivery-log.csv"
    before = _old_log(log)
    assert sync_register(log) == 2
    assert sync_register(log) == 0  # once
    new = _deliver(tmp_path, extract, keys, "ny")
    assert log.read_bytes().startswith(before)  # the log is only appended to
    assert len(pd.read_csv(log)) == 3
    register = read_register(log)
    assert register["project"].tolist() == ["gammelt-0", "gammelt-1", "ny"]
    assert register["patient_hashes"].tolist() == ["nei", "nei", "ja"]
    assert register["source"].tolist() == ["delivery-log.csv linje 2", "delivery-log.csv linje 3", "opr extract"]
    # an old delivery may have held anyone: «ukjent», never left out
    found = deliveries_of(["PAS-00001"], log, keys)
    assert found[["project", "status"]].values.tolist() == [
        ["gammelt-0", "ukjent"],
        ["gammelt-1", "ukjent"],
        ["ny", "med"],
    ]
    assert found["manifest_sha256"].iloc[2] == new.manifest_sha256


def test_a_register_searched_with_another_key_says_unknown(tmp_path, extract, keys, monkeypatch):
    _deliver(tmp_path, extract, keys, "alle")
    monkeypatch.setenv("OPR_REGISTER_KEY", "en-helt-annen-registernokkel-" + "q" * 30)
    found = deliveries_of(["PAS-00001"], tmp_path / "delivery-log.csv", keys)
    assert found["status"].tolist() == ["ukjent"]


def test_a_file_that_is_not_the_register_is_refused(tmp_path, extract, keys):
    (tmp_path / REGISTER_NAME).write_text("mine,notater\n1,2\n")
    with pytest.raises(UsageError, match="ikke opr sitt leveranseregister"):
        check_register(tmp_path / "delivery-log.csv")
    spec = write_spec(tmp_path / "s.yaml", variables=SMALL, formats=["csv"])
    with pytest.raises(UsageError, match="ikke opr sitt leveranseregister"):
        deliver(spec, extract, tmp_path / "out", key_dir=keys, docs=False)
    assert not (tmp_path / "out").exists()
