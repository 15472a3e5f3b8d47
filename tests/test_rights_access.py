"""The answer to an access request (opr innsyn): every row of the patient, nothing of anyone else."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest
from helpers import make_extract

from opr_analysis import cli
from opr_analysis.rights.access import patient_access
from opr_analysis.rights.register import delivery_entry, record_delivery
from opr_analysis.safety.nin import make_valid_nin
from opr_analysis.safety.owned import owned_dir

UNIT = {"unit_id": "ous", "name": "Oslo universitetssykehus", "orgnr": "993467049", "health_region": "sor_ost"}


class _Spec:  # what delivery_entry reads from a delivery spec
    project, title, research_question = "felles-prosjekt", "Felles prosjekt", "Hva?"
    purpose = "Forstå langvarig smerte."
    recipient = {"name": "Forsker", "institution": "Universitetet i Oslo"}


@pytest.fixture
def two(tmp_path):
    """PA and PB share a referral date, a unit and a project."""
    same = dict(assessed_date="2023-03-01", unit_id="ous")
    folder = tmp_path / "extract"
    make_extract(
        folder,
        patients=[dict(patient_id="PA", birth_year=1961), dict(patient_id="PB", birth_year=1972)],
        units=[UNIT],
        referrals=[dict(referral_id="RA", patient_id="PA", **same), dict(referral_id="RB", patient_id="PB", **same)],
        enrolments=[
            dict(enrolment_id="EA", patient_id="PA", granted_date="2023-03-10", unit_id="ous",
                 diagnosis="<b>M54.5</b> | $x$"),
            dict(enrolment_id="EB", patient_id="PB", granted_date="2023-03-10", unit_id="ous"),
        ],
        baseline_responses=[
            dict(response_id="BA", patient_id="PA", submitted_at="2023-03-09T10:00:00", unit_id="ous"),
            dict(response_id="BB", patient_id="PB", submitted_at="2023-03-09T10:00:00", unit_id="ous"),
        ],
        baseline_answers=[
            dict(response_id="BA", item="nrs_avg", value=6), dict(response_id="BA", item="nrs_worst", value=8),
            dict(response_id="BA", item="eq5d_mo", value=2), dict(response_id="BB", item="nrs_avg", value=3),
        ],
        treatments=[dict(treatment_id="TA", patient_id="PA", date="2023-06-01", unit_id="ous")],
        followups=[dict(followup_id="FA", patient_id="PA", kind="rf_3m", anchor_id="TA", sent_date="2023-09-01",
                        responded_at="2023-09-05T12:00:00")],
        followup_answers=[dict(followup_id="FA", item="pgic", value=6)],
        rights_requests=[dict(request_id="QA", patient_id="PA", kind="innsyn", received_date="2024-02-01")],
    )  # fmt: skip
    log = tmp_path / "delivery-log.csv"
    keys = tmp_path / "keys"
    record_delivery(log, delivery_entry(_Spec, {"patients": 2}, "a" * 64, "/ut/felles", "2024-01-15T10:00:00+01:00"),
                    ["PA", "PB"], keys)  # fmt: skip
    return folder, log, keys


def _run(capsys, *argv):
    status = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_the_answer_holds_every_row_of_the_patient_and_none_of_another(two, tmp_path, capsys):
    folder, log, keys = two
    out = tmp_path / "innsyn-PA"
    status, stdout, err = _run(
        capsys, "innsyn", "PA", "--extract", folder, "--out", out, "--log", log, "--key-dir", keys
    )
    assert status == 0, err
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert {"innsyn.html", "innsyn.json", "tabeller/referrals.csv", "tabeller/skjemasvar.csv"} <= set(files)
    text = "".join(p.read_text(encoding="utf-8") for p in out.rglob("*") if p.is_file())
    for own in ("PA", "RA", "EA", "BA", "TA", "FA", "QA"):
        assert own in text, own
    for other in ("PB", "RB", "EB", "BB"):
        assert other not in text.replace("PBI", ""), other
    bundle = json.loads((out / "innsyn.json").read_text(encoding="utf-8"))
    rows = {name: len(t["rader"]) for name, t in bundle["tabeller"].items()}
    assert rows == {"patients": 1, "referrals": 1, "enrolments": 1, "baseline_responses": 1, "treatments": 1,
                    "followups": 1, "rights_requests": 1}  # fmt: skip
    assert len(bundle["skjemasvar"]) == 4  # three baseline answers and one follow-up answer, all PA's
    assert [s["value"] for s in bundle["skårer"] if s["score"] == "nrs_avg"] == [6.0]
    assert bundle["tabeller"]["patients"]["rader"][0]["birth_year"] == 1961
    assert [d["project"] for d in bundle["leveranser"]] == ["felles-prosjekt"]
    html = (out / "innsyn.html").read_text(encoding="utf-8")
    # labels from the codebook and instruments, values as the patient reads them, the shared unit by name
    assert "Gitt rett til helsehjelp" in html and "Gjennomsnittlig smerte siste uke" in html
    assert "Litt problemer" in html and "Forstå langvarig smerte." in html and "Universitetet i Oslo" in html
    assert "01.03.2023" in html and "Oslo universitetssykehus (ous)" in html
    # data are text, never markup
    assert "<b>M54.5</b>" not in html and "&lt;b&gt;M54.5&lt;/b&gt; | $x$" in html
    assert "(7 rader, 4 skjemasvar, 1 leveranse)" in stdout


def test_a_patient_in_no_delivery_and_an_erased_patient(two, tmp_path):
    folder, log, keys = two
    from opr_analysis import load_extract

    reg = load_extract(folder)
    other = patient_access(reg, "PA", tmp_path / "ingen" / "delivery-log.csv", keys)
    assert other.deliveries.empty and other.erased_from is None
    # PB erased: the answer says so and still names the project that got PB's data before
    pd.DataFrame(
        [dict(request_id="QB", patient_id="PB", kind="sletting", received_date="2024-02-01",
              effective_date="2024-02-03", closed_date="", )]
    ).to_csv(folder / "rights_requests.csv", index=False)  # fmt: skip
    reg = load_extract(folder)
    answer = patient_access(reg, "PB", log, keys)
    assert answer.erased_from == pd.Timestamp("2024-02-03")
    assert list(answer.tables) == ["rights_requests"]
    assert answer.deliveries["project"].tolist() == ["felles-prosjekt"]


@pytest.mark.parametrize(
    ("patient", "message"),
    [
        ("", "PASIENT_ID er tom"),
        ("NIN", "ser ut som et fødselsnummer"),
        ("PX", "uttrekket har ingen opplysninger om pasient-ID «PX»"),
    ],
)
def test_bad_patient_ids_are_refused_with_one_line(two, tmp_path, capsys, patient, message):
    folder, log, keys = two
    patient = make_valid_nin("010190") if patient == "NIN" else patient
    out = tmp_path / "svar"
    status, _, err = _run(capsys, "innsyn", patient, "--extract", folder, "--out", out, "--log", log, "--key-dir", keys)
    last = err.splitlines()[-1]
    assert status == 2 and last.startswith("opr innsyn: ") and message in last and "uventet" not in err
    if patient not in ("", "PX"):  # an identity number is refused before the extract is read, and never echoed
        assert len(err.splitlines()) == 1 and patient not in err
    assert not out.exists()


def test_the_answer_never_goes_into_a_report_or_delivery_folder(two, tmp_path, capsys):
    folder, log, keys = two
    with owned_dir(tmp_path / "rapport", "report") as tmp:
        (tmp / "arsrapport.html").write_text("x")
    for out in (tmp_path / "rapport" / "innsyn", tmp_path / "rapport", folder):
        status, _, err = _run(
            capsys, "innsyn", "PA", "--extract", folder, "--out", out, "--log", log, "--key-dir", keys
        )
        assert status == 2 and len(err.splitlines()) == 1, err
    assert sorted(p.name for p in (tmp_path / "rapport").iterdir()) == [".opr-output", "arsrapport.html"]


QUARTO = os.environ.get("QUARTO_PATH") or str(Path.home() / ".local" / "opr-quarto" / "bin" / "quarto")


@pytest.mark.slow
@pytest.mark.quarto
@pytest.mark.skipif(not Path(QUARTO).is_file(), reason="Quarto is not installed (QUARTO_PATH or ~/.local/opr-quarto)")
def test_with_quarto_the_answer_is_also_a_pdf_of_the_same_text(two, tmp_path, capsys, monkeypatch):
    from pypdf import PdfReader

    folder, log, keys = two
    monkeypatch.setenv("QUARTO_PATH", QUARTO)
    out = tmp_path / "svar"
    status, _, err = _run(capsys, "innsyn", "PA", "--extract", folder, "--out", out, "--log", log, "--key-dir", keys)
    assert status == 0, err
    text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(out / "innsyn.pdf").pages)
    words = set(text.split())
    assert {"RA", "EA", "BA", "TA", "FA", "QA"} <= words and "Dine rettigheter" in text  # table cells wrap
    assert not {"PB", "RB", "EB", "BB"} & words
