"""The recall list (opr implantat søk): exactly the planted carriers, and where the list may go."""

from __future__ import annotations

import json

import openpyxl
import pandas as pd
import pytest
from helpers import make_extract

from opr_analysis import cli
from opr_analysis.commands import implantat
from opr_analysis.errors import UsageError
from opr_analysis.extract import codebook
from opr_analysis.implants.notice import read_serials
from opr_analysis.implants.output import FILES
from opr_analysis.implants.recall import RecallQuery, recall

AS_OF = pd.Timestamp("2024-12-31")
LOT = "VP-2203A"
NS = "Nordstim Medical"


def _imp(patient, serial, **kw) -> dict:
    row = dict(patient_id=patient, treatment_id="", component="generator", manufacturer=NS, model="Vega P",
               serial_number=serial, lot=LOT, implanted_date="2022-04-01")  # fmt: skip
    row.update(kw)
    return row


REGISTER = [
    _imp("P1", "NSM001"),  # carrier
    _imp("P2", "NSM002", explanted_date="2023-05-01", explant_reason="batteri"),  # removed ...
    _imp("P2", "NSM010", lot="VP-2305B", implanted_date="2023-05-01"),  # ... its successor is of another lot
    _imp("P3", "NSM004", manufacturer=" NORDSTIM MEDICAL ", lot="  vp-2203a "),  # carrier, written differently
    _imp("P4", "NSM005", manufacturer="Fjordtech Neuro"),  # another maker's lot of the same name
    _imp("P5", "NSM006", explanted_date="2024-06-01", explant_reason="infeksjon"),  # removed
    _imp("P5", "NSM007", explanted_date="2025-06-01", explant_reason="manglende_effekt"),  # out after as-of: carrier
    _imp("P6", "NSM008", explanted_date="2022-09-01", explant_reason="lommesmerte"),  # revised pocket: removed ...
    _imp("P6", "NSM008", implanted_date="2022-09-01"),  # ... and the same device back in: carrier (reused serial)
    _imp("P7", "NSM009"),  # one device in two patients at once: both quarantined
    _imp("P8", "nsm009", implanted_date="2023-01-01"),
    _imp("P9", "NSM011", component="elektrode", model="Linea 8"),  # carrier who has reserved
    _imp("P10", "NSM012", implanted_date="2025-03-01"),  # implanted after the as-of date
    _imp("P11", "NSM001", manufacturer="Fjordtech Neuro", lot="F-1"),  # another maker's NSM001 (reused serial)
]
PATIENTS = [dict(patient_id=f"P{i}") for i in range(1, 12)]
PATIENTS[8]["reserved_date"] = "2023-02-01"


@pytest.fixture(scope="module")
def register(tmp_path_factory):
    folder = tmp_path_factory.mktemp("register") / "extract"
    return make_extract(folder, patients=PATIENTS, implants=REGISTER)


def _ids(frame) -> list[tuple[str, str]]:
    return sorted(zip(frame["patient_id"].astype(str), frame["serial_number"].astype(str), strict=True))


def test_recall_by_manufacturer_and_lot_holds_exactly_the_planted_carriers(register):
    r = recall(register, RecallQuery(manufacturers=("nordstim medical",), lots=(LOT,)), AS_OF)
    assert _ids(r.carriers) == [("P1", "NSM001"), ("P3", "NSM004"), ("P5", "NSM007"), ("P6", "NSM008"),
                                ("P9", "NSM011")]  # fmt: skip
    assert _ids(r.removed) == [("P2", "NSM002"), ("P5", "NSM006"), ("P6", "NSM008")]
    assert dict(zip(r.removed["patient_id"], r.removed["explant_reason"].astype(str), strict=False)) == {
        "P2": "batteri", "P5": "infeksjon", "P6": "lommesmerte"}  # fmt: skip
    assert sorted(r.quarantined["patient_id"]) == ["P7", "P8"]  # matched, but not usable: listed apart
    assert "overlappende periode" in r.quarantined["quarantine_reason"].iloc[0]
    # the reserved carrier is listed, marked, with the note that she must be contacted anyway
    p9 = r.carriers.set_index("patient_id").loc["P9"]
    assert p9["reserved_from"] == pd.Timestamp("2023-02-01") and "skal likevel kontaktes" in p9["contact_note"]
    assert r.carriers.set_index("patient_id").loc["P1", "contact_note"] == ""
    assert set(r.carriers["unit_id"]) == {"ous"}  # an extract without units is the registry's own unit
    assert r.counts() == {"carrier_components": 5, "carriers": 5, "carriers_reserved": 1, "carriers_erased": 0,
                          "removed_components": 3, "removed_patients": 3, "quarantined_rows": 2,
                          "notice_serials": 0, "unmatched_serials": 0}  # fmt: skip


def test_recall_by_serial_numbers_reports_those_matching_nobody(register, tmp_path):
    notice = tmp_path / "varsel.csv"
    notice.write_bytes("\ufeffSerial number\r\nNSM001\r\n nsm008 \r\nNSM005\r\nNSM999\r\nNSM001\r\n".encode())
    serials = read_serials(notice)
    r = recall(register, RecallQuery(manufacturers=(NS,), serials=tuple(serials)), AS_OF)
    assert _ids(r.carriers) == [("P1", "NSM001"), ("P6", "NSM008")]  # not Fjordtech's NSM001
    assert _ids(r.removed) == [("P6", "NSM008")]
    assert r.unmatched.to_dict("records") == [
        {"serial_number": "NSM005", "note": "finnes i registeret, men med andre kjennetegn enn søket (produsent, "
                                            "modell, parti, komponent eller periode)"},
        {"serial_number": "NSM999", "note": "finnes ikke i implantatregisteret"},
    ]  # fmt: skip
    assert r.notice_serials == 4
    # without a manufacturer the serial is searched at every maker, and the command says so
    r = recall(register, RecallQuery(serials=("NSM001",)), AS_OF)
    assert _ids(r.carriers) == [("P1", "NSM001"), ("P11", "NSM001")]
    assert any("alle produsenter" in line for line in r.summary_lines())


def test_component_and_period_filters(register):
    q = RecallQuery(manufacturers=(NS,), lots=(LOT,), components=("elektrode",))
    assert _ids(recall(register, q, AS_OF).carriers) == [("P9", "NSM011")]
    q = RecallQuery(
        manufacturers=(NS,), implanted_from=pd.Timestamp("2022-09-01"), implanted_to=pd.Timestamp("2023-06-30")
    )
    r = recall(register, q, AS_OF)
    assert _ids(r.carriers) == [("P2", "NSM010"), ("P6", "NSM008")]
    assert sorted(r.quarantined["patient_id"]) == ["P8"]  # P7's row was implanted before the period
    # an earlier as-of: what was still in then
    r = recall(register, RecallQuery(manufacturers=(NS,), lots=(LOT,)), pd.Timestamp("2023-01-31"))
    assert ("P2", "NSM002") in _ids(r.carriers) and ("P5", "NSM006") in _ids(r.carriers)


def test_erased_patient_from_rights_requests_is_still_listed(tmp_path):
    reg = make_extract(tmp_path / "x", patients=PATIENTS, implants=REGISTER[:1])
    rights = pd.DataFrame({"kind": ["sletting", "reservasjon"], "patient_id": ["P1", "P1"],
                           "effective_date": pd.to_datetime(["2024-03-01", "2024-01-15"])})  # fmt: skip
    reg.tables["rights_requests"] = rights  # read generically when the table is there (contract v1.2)
    r = recall(reg, RecallQuery(lots=(LOT,)), AS_OF)
    row = r.carriers.iloc[0]
    assert (row["reserved_from"], row["erased_from"]) == (pd.Timestamp("2024-01-15"), pd.Timestamp("2024-03-01"))
    assert "reservert" in row["contact_note"] and "krevd sletting" in row["contact_note"]
    assert r.counts()["carriers_erased"] == 1


def test_patients_the_reader_erased_are_still_reached(tmp_path):
    """Where the reader leaves erased patients out (contract v1.2, issue 26) and keeps their rows in
    ``report.erasure.removed``, the recall puts them back: the clinic must contact them."""
    from types import SimpleNamespace

    reg = make_extract(tmp_path / "x", patients=PATIENTS, implants=REGISTER)
    gone = {name: reg.tables[name][reg.tables[name]["patient_id"] == "P3"] for name in ("patients", "implants")}
    for name, rows in gone.items():
        reg.tables[name] = reg.tables[name].drop(index=rows.index)
    reg.report.erasure = SimpleNamespace(removed=gone)
    reg.tables["rights_requests"] = pd.DataFrame(
        {"kind": ["sletting"], "patient_id": ["P3"], "effective_date": pd.to_datetime(["2024-05-02"])}
    )
    r = recall(reg, RecallQuery(manufacturers=(NS,), lots=(LOT,)), AS_OF)
    p3 = r.carriers.set_index("patient_id").loc["P3"]
    assert p3["erased_from"] == pd.Timestamp("2024-05-02") and "krevd sletting" in p3["contact_note"]
    assert len(r.carriers) == 5 and r.counts()["carriers_erased"] == 1


def test_query_checks():
    with pytest.raises(UsageError, match="oppgi minst én av --manufacturer"):
        RecallQuery(components=("generator",)).check()
    with pytest.raises(UsageError, match="--lot er blank"):
        RecallQuery(lots=("  ",)).check()
    with pytest.raises(UsageError, match="ligger etter --implanted-to"):
        RecallQuery(
            lots=("x",), implanted_from=pd.Timestamp("2024-01-02"), implanted_to=pd.Timestamp("2024-01-01")
        ).check()
    assert implantat.COMPONENTS == tuple(codebook.load().column("implants", "component").codes)


def test_notice_files_in_their_shapes(tmp_path):
    plain = tmp_path / "a.txt"
    plain.write_bytes(b"NSM1\r\n\r\n NSM2\r\nNSM1\r\n")
    assert read_serials(plain) == ["NSM1", " NSM2"]
    latin = tmp_path / "b.csv"
    latin.write_bytes("Modell;Serienr.;Lot\nVega;NSMØ1;A\n".encode("cp1252"))
    assert read_serials(latin) == ["NSMØ1"]
    wide = tmp_path / "c.csv"
    wide.write_text("model,device id,lot\nVega,NSM3,A\n", encoding="utf-8")
    with pytest.raises(UsageError, match="oppgi kolonnen med --serial-column"):
        read_serials(wide)
    assert read_serials(wide, "Device ID") == ["NSM3"]
    book = tmp_path / "d.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["Model", "Serial No."])
    wb.active.append(["Vega", 1234567.0])
    wb.active.append(["Vega", "NSM4"])
    wb.save(book)
    assert read_serials(book) == ["1234567", "NSM4"]
    empty = tmp_path / "e.txt"
    empty.write_text("\n\n")
    with pytest.raises(UsageError, match="ingen serienumre"):
        read_serials(empty)


# --- the command ---------------------------------------------------------------------------


def _run(capsys, *argv):
    status = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture
def extract(tmp_path):
    folder = tmp_path / "extract"
    make_extract(folder, patients=PATIENTS, implants=REGISTER)
    return folder


def test_command_writes_the_list_and_prints_counts_only(tmp_path, capsys, extract):
    notice = tmp_path / "varsel.txt"
    notice.write_text("NSM001\nNSM999\n", encoding="utf-8")
    out = tmp_path / "tilbakekalling"
    status, stdout, stderr = _run(capsys, "implantat", "søk", extract, "--manufacturer", NS, "--lot", LOT,
                                  "--serial-file", notice, "--serial", "NSM008", "--as-of", "31.12.2024", "--out", out)  # fmt: skip
    assert status == 0, stderr
    assert "2 pasienter har fortsatt 2 av de søkte komponentene per 31.12.2024" in stdout  # P1 and P6
    assert "2 rader i karantene" not in stdout  # P7's and P8's serials are not in the notice
    assert "1 serienummer av 3 i søket traff ingen komponent" in stdout
    printed = stdout + stderr
    # it reads what the recall declares (issue 29), never the questionnaire answers or the referrals
    lines = {line.split()[0]: line for line in stderr.splitlines() if line.strip()}
    assert "ikke lest" in lines["referrals"] and "ikke lest" not in lines["implants"]
    for token in [*(f"P{i}" for i in range(1, 12)), "NSM0", "nsm0", "NSM9"]:
        assert token not in printed, token
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted([".opr-output", *(FILES[k] for k in ("carriers", "removed", "quarantined", "unmatched",
                                                                  "workbook", "summary"))])  # fmt: skip
    carriers = pd.read_csv(out / FILES["carriers"], dtype=str, keep_default_na=False)
    assert _ids(carriers) == [("P1", "NSM001"), ("P6", "NSM008")]
    assert carriers["implanted_date"].tolist() == ["2022-04-01", "2022-09-01"]
    sheet = openpyxl.load_workbook(out / FILES["workbook"])["Bærere"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:5] == ("Pasient-ID", "Enhets-ID", "Enhet", "Komponent", "Produsent")
    assert [r[0] for r in rows[1:]] == ["P1", "P6"] and rows[1][3] == "Generator (pulsgenerator)"
    assert (out.stat().st_mode & 0o777) == 0o700
    # a second run replaces its own list; the alias «sok» works
    status, _, _ = _run(capsys, "implantat", "sok", extract, "--lot", LOT, "--as-of", "2024-12-31", "--out", out)
    assert status == 0 and not (out / FILES["unmatched"]).exists()


@pytest.mark.parametrize("owner", ["report", "extract", "tables"])
def test_never_written_into_a_report_or_delivery_folder(tmp_path, capsys, extract, owner):
    published = tmp_path / "publisert"
    published.mkdir()
    (published / ".opr-output").write_text(json.dumps({"written_by": "opr", "command": owner, "entries": []}))
    for out in (published, published / "tilbakekalling", published / "a" / "b"):
        status, stdout, stderr = _run(capsys, "implantat", "søk", extract, "--lot", LOT, "--out", out)
        assert status == 2, (out, stderr)
        assert f"opr {owner}" in stderr and len(stderr.splitlines()) == 1
    assert sorted(p.name for p in published.iterdir()) == [".opr-output"]


def test_refusals_before_any_work(tmp_path, capsys, extract):
    cases = [
        (["--out", tmp_path / "o"], "oppgi minst én av --manufacturer"),
        (["--lot", LOT, "--out", tmp_path / "o", "--implanted-from", "1.1.24"], "--implanted-from «1.1.24» er ikke"),
        (["--lot", LOT, "--out", tmp_path / "o", "--as-of", "i dag"], "--as-of «i dag» er ikke en dato"),
        (["--lot", LOT, "--out", extract / "liste"], "ligger i uttrekksmappen"),
        (["--lot", LOT, "--out", tmp_path], "ligger over uttrekksmappen"),
        (["--serial-file", tmp_path / "mangler.txt", "--out", tmp_path / "o"], "fant ikke filen med serienumre"),
        (["--lot", LOT, "--serial-column", "SN", "--out", tmp_path / "o"], "--serial-column gjelder bare"),
    ]
    for args, message in cases:
        status, _, stderr = _run(capsys, "implantat", "søk", extract, *args)
        assert status == 2 and message in stderr and len(stderr.splitlines()) == 1, (args, stderr)
    assert not (tmp_path / "o").exists() and not (extract / "liste").exists()
    with pytest.raises(SystemExit) as exc:
        cli.main(["implantat", "søk", str(extract), "--lot", LOT, "--component", "batteri", "--out", "o"])
    assert exc.value.code == 2


def test_extract_without_register_is_told(tmp_path, capsys):
    folder = tmp_path / "extract"
    make_extract(folder, enrolments=[dict(patient_id="P1")])
    status, _, stderr = _run(capsys, "implantat", "søk", folder, "--lot", LOT, "--out", tmp_path / "o")
    assert status == 2 and "har ikke implantatregisteret" in stderr
    assert not (tmp_path / "o").exists()
