"""The implant register (contract v1.2): the reader's quarantine rules, with a hand-made register."""

from __future__ import annotations

import re

import pandas as pd
from helpers import make_extract

from opr_analysis.implants.matching import device_key, normalise, normalise_text

UNITS = [
    dict(unit_id="A", name="Klinikk A", orgnr="993467049", health_region="sor_ost"),
    dict(unit_id="B", name="Klinikk B", orgnr="983975240", health_region="vest"),
]


def _quarantined(reg, table="implants") -> dict[int, str]:
    return reg.report.quarantine[table].set_index("row")["quarantine_reason"].to_dict()


def _imp(**kw) -> dict:
    row = dict(patient_id="P1", treatment_id="T1", manufacturer="Nordstim", model="Vega R")
    row.update(kw)
    return row


TREATMENTS = [
    dict(treatment_id="T1", patient_id="P1", kind="scs", date="2022-01-01"),
    dict(treatment_id="T2", patient_id="P1", kind="rf", date="2022-01-01"),
    dict(treatment_id="T3", patient_id="P2", kind="scs", date="2022-01-01"),
    dict(treatment_id="T4", patient_id="P3", kind="scs", date="2022-13-01"),  # unreadable date: quarantined
    dict(treatment_id="T5", patient_id="P3", kind="scs", date="2022-01-01"),
]

REGISTER = [
    _imp(serial_number="S001"),  # 1 fine
    _imp(serial_number="S002", explanted_date="2022-02-01", explant_reason="annet"),  # 2 explanted before implanted
    _imp(serial_number="S003", explant_reason="infeksjon"),  # 3 reason without removal
    _imp(serial_number="S004", explanted_date="2022-05-01"),  # 4 removal without reason
    _imp(serial_number="S005", treatment_id="T2"),  # 5 an RF treatment
    _imp(serial_number="S006", treatment_id="T9"),  # 6 no such treatment
    _imp(serial_number="S007", patient_id="P3", treatment_id="T4"),  # 7 a quarantined treatment
    _imp(serial_number="S008", treatment_id="T3"),  # 8 another patient's treatment
    _imp(serial_number="X100", implanted_date="2022-01-01"),  # 9 the same device ...
    _imp(serial_number=" x100 ", manufacturer="NORDSTIM", patient_id="P2", treatment_id="T3",
         implanted_date="2023-01-01"),  # 10 ... in another patient while still in the first
    _imp(serial_number="Y1", patient_id="P3", treatment_id="T5", implanted_date="2022-01-01",
         explanted_date="2022-06-01", explant_reason="lommesmerte"),  # 11 the same patient twice ...
    _imp(serial_number="Y1", patient_id="P3", treatment_id="T5", implanted_date="2022-05-01"),  # 12 ... overlapping
    _imp(serial_number="Z1", implanted_date="2022-01-01", explanted_date="2022-06-01",
         explant_reason="lommesmerte"),  # 13 revised pocket: out ...
    _imp(serial_number="Z1", implanted_date="2022-06-01"),  # 14 ... and in again the same day: no overlap
    _imp(serial_number="X100", manufacturer="Fjordtech", patient_id="P3", treatment_id="T5",
         implanted_date="2022-01-01"),  # 15 another manufacturer's X100: another device
    _imp(serial_number="S016", treatment_id=""),  # 16 no treatment: allowed
]  # fmt: skip


def test_quarantine_rules_hold(tmp_path):
    reg = make_extract(tmp_path, treatments=TREATMENTS, implants=REGISTER)
    q = _quarantined(reg)
    assert set(q) == set(range(2, 13))
    assert "explanted_date" in q[2] and "før implantert dato" in q[2]
    assert "explanted_date) er blank" in q[3]
    assert "årsak (explant_reason) mangler" in q[4]
    assert "RF-behandling, ikke en SCS-behandling" in q[5]
    assert "finnes ikke i treatments" in q[6]
    assert "satt i karantene" in q[7]
    assert "ikke pasienten SCS-behandlingen i treatment_id tilhører" in q[8]
    assert "rad 10 (hos en annen pasient)" in q[9] and "rad 9 (hos en annen pasient)" in q[10]
    assert "rad 12 (hos samme pasient)" in q[11] and "rad 11 (hos samme pasient)" in q[12]
    summary = reg.report.summaries["implants"]
    assert (summary.rows_read, summary.rows_used, summary.rows_quarantined) == (16, 5, 11)
    assert reg.implants["serial_number"].tolist() == ["S001", "Z1", "Z1", "X100", "S016"]
    assert str(reg.implants["component"].dtype) == "category"


def test_quarantine_file_has_every_row_with_its_reason(tmp_path):
    reg = make_extract(tmp_path / "x", treatments=TREATMENTS, implants=REGISTER)
    written = reg.report.write_quarantine(tmp_path / "q", extract=tmp_path / "x")
    frame = pd.read_csv(tmp_path / "q" / "implants.csv", dtype=str, keep_default_na=False)
    assert tmp_path / "q" / "implants.csv" in written
    assert frame["row"].astype(int).tolist() == list(range(2, 13))
    assert frame.loc[frame["row"] == "10", "serial_number"].item() == "x100"  # the cell as read (trimmed)


def test_the_reports_copy_of_the_quarantine_holds_no_identifier(tmp_path):
    reg = make_extract(tmp_path / "x", treatments=TREATMENTS, implants=REGISTER)
    reg.report.write_quarantine(tmp_path / "q", extract=tmp_path / "x", hide_identifiers=True)
    text = (tmp_path / "q" / "implants.csv").read_text(encoding="utf-8")
    frame = pd.read_csv(tmp_path / "q" / "implants.csv", dtype=str, keep_default_na=False)
    assert frame["row"].astype(int).tolist() == list(range(2, 13))  # the staff can still find each row
    assert set(frame["serial_number"]) == set(frame["patient_id"]) == {"(skjult)"}
    assert (
        "kolonne «serial_number», verdi «(skjult)»: samme produsent"
        in frame.set_index("row").at["9", "quarantine_reason"]
    )
    tokens = set(re.findall(r"[\w-]+", text))
    secrets = {r["serial_number"].strip() for r in REGISTER} | {"P1", "P2", "P3", "T1", "T2", "T3", "T4", "T9"}
    assert not tokens & secrets, tokens & secrets


def test_overlap_checks_every_row_of_a_device(tmp_path):
    # Three rows of one device: the first and last do not overlap, the middle overlaps both.
    reg = make_extract(
        tmp_path,
        treatments=TREATMENTS,
        implants=[
            _imp(serial_number="K1", implanted_date="2022-01-01", explanted_date="2022-03-01", explant_reason="annet"),
            _imp(serial_number="K1", patient_id="P2", treatment_id="T3", implanted_date="2022-02-01",
                 explanted_date="2022-05-01", explant_reason="annet"),
            _imp(serial_number="K1", implanted_date="2022-05-01"),
            _imp(serial_number="K2", implanted_date="2022-01-01", explanted_date="2022-01-01", explant_reason="annet"),
            _imp(serial_number="K2", patient_id="P2", treatment_id="T3", implanted_date="2022-01-01"),
        ],
    )  # fmt: skip
    q = _quarantined(reg)
    assert set(q) == {1, 2}  # the third starts the day the second ends; K2's first period is empty
    assert "rad 2 " in q[1] and "rad 1 " in q[2]


def test_explant_rules_do_not_double_report_an_unreadable_cell(tmp_path):
    reg = make_extract(
        tmp_path,
        treatments=TREATMENTS,
        implants=[
            _imp(serial_number="A1", explanted_date="31/12/2022", explant_reason="infeksjon"),
            _imp(serial_number="A2", explanted_date="2022-06-01", explant_reason="løsnet"),
        ],
    )
    q = _quarantined(reg)
    assert set(q) == {1, 2}
    assert "er ikke en dato" in q[1] and "explanted_date) er blank" not in q[1]
    assert "ukjent kode" in q[2] and "mangler" not in q[2]


def test_units_as_in_v11(tmp_path):
    reg = make_extract(
        tmp_path,
        units=UNITS,
        treatments=[dict(treatment_id="T1", patient_id="P1", kind="scs", unit_id="A")],
        implants=[
            _imp(serial_number="U1", unit_id="A"),
            _imp(serial_number="U2", unit_id="B"),  # disagrees with its treatment
            _imp(serial_number="U3", unit_id="", treatment_id=""),  # unit unknown: kept (a recall needs it)
            _imp(serial_number="U4", unit_id="C", treatment_id=""),  # no such unit
        ],
    )
    q = _quarantined(reg)
    assert set(q) == {2, 4}
    assert "annen enhet enn SCS-behandlingen" in q[2]
    assert "finnes ikke i units" in q[4]


def test_absent_register_is_quiet(tmp_path):
    reg = make_extract(tmp_path, treatments=TREATMENTS[:1])
    assert "implants" not in reg.report.summary_text()
    assert reg.implants.empty and list(reg.implants.columns)[:2] == ["implant_id", "patient_id"]


def test_matching_rule():
    assert normalise_text("\u00a0NKA\u200b123 ") == "nka123"
    assert normalise_text("ＮＫＡ１２３") == "nka123"
    assert normalise_text("Straße") == normalise_text("STRASSE") == "strasse"
    assert normalise_text("NKA 123") != normalise_text("NKA123")  # inner spaces are kept
    assert normalise_text("O123") != normalise_text("0123")  # no look-alike folding
    assert normalise_text("   ") is None and normalise_text(None) is None
    s = pd.Series(["A", None, "a "], index=[5, 6, 7])
    assert normalise(s).tolist() == ["a", pd.NA, "a"] and list(normalise(s).index) == [5, 6, 7]
    keys = device_key(pd.Series(["M", "m", None]), pd.Series(["S1", " s1", "S1"]))
    assert keys[0] == keys[1] and pd.isna(keys[2])
