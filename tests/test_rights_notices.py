"""opr sletting: for every erasure request, exactly the deliveries that included the patient."""

from __future__ import annotations

import pandas as pd
import pytest
from helpers import make_extract

from opr_analysis import cli
from opr_analysis.extracts.delivery import LOG_FIELDS
from opr_analysis.extracts.pseudonyms import project_key, pseudonym
from opr_analysis.rights.notices import erasure_notices
from opr_analysis.rights.register import delivery_entry, record_delivery


class _Spec:
    research_question, purpose = "Hva?", ""
    recipient = {"name": "Forsker", "institution": "UiO"}

    def __init__(self, project):
        self.project, self.title = project, f"Prosjekt {project}"


def _erasure(rid, pid, effective="2024-03-01"):
    return dict(request_id=rid, patient_id=pid, kind="sletting", received_date="2024-02-20", effective_date=effective)


@pytest.fixture
def setting(tmp_path):
    keys, log = tmp_path / "keys", tmp_path / "delivery-log.csv"
    # an old delivery, made before the register: only in the log
    old = ["2022-05-01T10:00:00+02:00", "gammelt", "enrolments:sex", 3, 3, "0" * 64, "/ut/gammelt"]
    pd.DataFrame([old], columns=list(LOG_FIELDS)).to_csv(log, index=False, lineterminator="\n")
    project_key("prosjekt-a", keys)  # prosjekt-b's key is gone from the store by the time of the erasure
    record_delivery(log, delivery_entry(_Spec("prosjekt-a"), {"patients": 2}, "a" * 64, "/ut/a", "2023-01-01T09:00:00+01:00"),
                    ["PA", "PB"], keys)  # fmt: skip
    record_delivery(log, delivery_entry(_Spec("prosjekt-b"), {"patients": 2}, "b" * 64, "/ut/b", "2023-06-01T09:00:00+02:00"),
                    ["PB", "PC"], keys)  # fmt: skip
    return keys, log


def test_every_delivery_that_held_the_patient_is_listed_and_no_other(tmp_path, setting):
    keys, log = setting
    reg = make_extract(
        tmp_path / "x",
        enrolments=[dict(patient_id=p) for p in ("PA", "PB", "PC")],
        rights_requests=[_erasure("Q1", "PB"), _erasure("Q2", "PC", "2024-03-05"),
                         dict(request_id="Q3", patient_id="PA", kind="innsyn", received_date="2024-02-01")],
    )  # fmt: skip
    notices = erasure_notices(reg, log, keys)
    got = notices[["request_id", "project", "status"]].values.tolist()
    assert got == [
        ["Q1", "gammelt", "ukjent"], ["Q1", "prosjekt-a", "med"], ["Q1", "prosjekt-b", "med"],
        ["Q2", "gammelt", "ukjent"], ["Q2", "prosjekt-b", "med"],
    ]  # fmt: skip
    key = project_key("prosjekt-a", keys, create=False)[0]
    a = notices[(notices["request_id"] == "Q1") & (notices["project"] == "prosjekt-a")].iloc[0]
    assert a["pseudonym"] == pseudonym(key, "patient", "PB") and a["manifest_sha256"] == "a" * 64
    assert (a["recipient"], a["institution"], a["delivered_at"]) == ("Forsker", "UiO", "2023-01-01T09:00:00+01:00")
    assert set(notices.loc[notices["project"] == "prosjekt-b", "pseudonym"]) == {""}  # no key, no guess
    assert not (keys / "prosjekt-b.key").exists()  # looking never makes a key
    assert "patient_id" not in notices and "PB" not in notices.to_csv()


def test_opr_sletting_writes_the_list_into_its_own_folder_and_prints_counts(tmp_path, setting, capsys):
    keys, log = setting
    make_extract(tmp_path / "x", enrolments=[dict(patient_id=p) for p in ("PA", "PB")],
                 rights_requests=[_erasure("Q1", "PB")])  # fmt: skip
    out = tmp_path / "sletting"
    argv = ["sletting", "--extract", tmp_path / "x", "--out", out, "--log", log, "--key-dir", keys]
    assert cli.main([str(a) for a in argv]) == 0
    stdout = capsys.readouterr().out
    assert "1 slettekrav gjelder. 2 leveranser inneholdt en pasient med slettekrav (2 krav–leveranse-par); 1 " in stdout
    assert "PB" not in stdout
    assert sorted(p.name for p in out.iterdir()) == [".opr-output", "README.md", "sletting.csv"]
    listed = pd.read_csv(out / "sletting.csv", dtype=str, keep_default_na=False)
    assert listed["project"].tolist() == ["gammelt", "prosjekt-a", "prosjekt-b"]
    assert "PB" not in (out / "sletting.csv").read_text() + (out / "README.md").read_text()
    # again into the same folder: replaced; into the extract or a report folder: refused before any work
    assert cli.main([str(a) for a in argv]) == 0
    capsys.readouterr()
    from opr_analysis.safety.owned import owned_dir

    with owned_dir(tmp_path / "rapport", "report") as tmp:
        (tmp / "arsrapport.html").write_text("x")
    for bad in (tmp_path / "x", tmp_path / "rapport" / "sletting", tmp_path / "rapport"):
        status = cli.main([str(a) for a in [*argv[:3], "--out", bad, *argv[5:]]])
        err = capsys.readouterr().err
        assert status == 2 and len(err.splitlines()) == 1 and "uventet" not in err, err
    assert sorted(p.name for p in (tmp_path / "rapport").iterdir()) == [".opr-output", "arsrapport.html"]


def test_no_requests_no_notices(tmp_path, setting, capsys):
    keys, log = setting
    reg = make_extract(tmp_path / "x", enrolments=[dict(patient_id="PA")])
    assert erasure_notices(reg, log, keys).empty
