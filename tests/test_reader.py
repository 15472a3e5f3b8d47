"""load_extract: every format variant the contract allows gives the same typed tables."""

import datetime as dt

import pandas as pd
import pytest
from helpers import BASE, rows, write_base_extract, write_table

from opr_analysis import ExtractError, load_extract
from opr_analysis.extract.codebook import load as load_codebook

N = {t: len(r) for t, r in BASE.items()}


def assert_base_content(reg):
    """The base extract's values, whatever file format carried them."""
    for table, n in N.items():
        s = reg.report.summaries[table]
        assert (s.rows_read, s.rows_used, s.rows_quarantined) == (n, n, 0), table
    p = reg.patients
    assert p["patient_id"].tolist() == ["P001", "P002", "P003", "P004"]
    assert p["interpreter_needed"].tolist()[:3] == [False, False, True]
    assert p["interpreter_needed"].isna().tolist() == [False, False, False, True]  # blank = unknown
    assert p["research_participant"].tolist()[:2] == [False, False]
    assert p["reserved_date"].iloc[2] == pd.Timestamp("2024-03-01")
    b = reg.baseline_responses
    assert b["submitted_at"].tolist() == [
        pd.Timestamp("2022-01-25 10:15:00"),
        pd.Timestamp("2022-02-25 08:00:30"),
        pd.Timestamp("2023-04-25 12:00:00"),
    ]
    assert b["duration_ms"].tolist() == [1200000, 900000, 0]
    assert reg.referrals["region"].isna().tolist() == [False, False, False, True, False]
    assert reg.legacy_v1["new_patients"].isna().tolist() == [False, True]


def test_dtypes_follow_the_api(extract):
    reg = load_extract(extract)
    assert_base_content(reg)
    r = reg.referrals
    assert r.index.name == "row" and r.index.tolist() == [1, 2, 3, 4, 5]
    assert str(r["referral_id"].dtype) == "string"
    assert str(r["assessed_date"].dtype) == "datetime64[ns]"
    assert list(r["decision"].cat.categories) == list(load_codebook().column("referrals", "decision").codes)
    assert str(reg.patients["birth_year"].dtype) == "Int64"
    assert str(reg.patients["interpreter_needed"].dtype) == "boolean"
    assert str(reg.baseline_responses["submitted_at"].dtype) == "datetime64[ns]"
    assert reg.tables["followups"] is reg.followups


@pytest.mark.parametrize("fmt", ["parquet", "xlsx"])
def test_parquet_and_xlsx(tmp_path, fmt):
    assert_base_content(load_extract(write_base_extract(tmp_path, fmt=fmt)))


@pytest.mark.parametrize("sep", [",", ";"])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig"])
def test_csv_separator_and_bom(tmp_path, sep, encoding):
    reg = load_extract(write_base_extract(tmp_path, sep=sep, encoding=encoding))
    assert_base_content(reg)
    assert reg.sources["patients"].separator == sep
    assert reg.sources["patients"].encoding == encoding


def test_xlsx_uses_first_sheet(tmp_path):
    folder = write_base_extract(tmp_path)
    (folder / "referrals.csv").unlink()
    with pd.ExcelWriter(folder / "referrals.xlsx") as xl:
        pd.DataFrame(rows("referrals")).to_excel(xl, index=False, sheet_name="uttrekk")
        pd.DataFrame({"x": ["not a referral"]}).to_excel(xl, index=False, sheet_name="notater")
    assert load_extract(folder).referrals["referral_id"].tolist() == ["R01", "R02", "R03", "R04", "R05"]


def test_xlsx_with_real_dates_and_numbers(tmp_path):
    """Excel cells typed as dates/numbers read like their text forms."""
    folder = write_base_extract(tmp_path)
    (folder / "baseline_responses.csv").unlink()
    frame = pd.DataFrame(
        {
            "response_id": ["B01", "B02", "B03"],
            "patient_id": ["P001", "P002", "P003"],
            "submitted_at": [
                dt.datetime(2022, 1, 25, 10, 15),
                dt.datetime(2022, 2, 25, 8, 0, 30),
                dt.datetime(2023, 4, 25, 12, 0),
            ],
            "duration_ms": [1200000, 900000, 0],
        }
    )
    frame.to_excel(folder / "baseline_responses.xlsx", index=False)
    assert_base_content(load_extract(folder))


def test_parquet_with_typed_and_zoned_columns(tmp_path):
    folder = write_base_extract(tmp_path)
    (folder / "baseline_responses.csv").unlink()
    pd.DataFrame(
        {
            "response_id": ["B01", "B02", "B03"],
            "patient_id": ["P001", "P002", "P003"],
            "submitted_at": pd.to_datetime(
                ["2022-01-25T09:15:00Z", "2022-02-25T07:00:30Z", "2023-04-25T10:00:00Z"]
            ),  # UTC: Oslo is +1 in winter, +2 in summer
            "duration_ms": pd.array([1200000, 900000, 0], dtype="int64"),
        }
    ).to_parquet(folder / "baseline_responses.parquet")
    assert_base_content(load_extract(folder))


def test_whitespace_and_case_variants(tmp_path):
    pat = rows("patients")
    pat[0].update(patient_id="  P001 ", interpreter_needed=" NEI ", sex=" K")
    ref = rows("referrals")
    ref[0].update(decision=" rett ", assessed_date=" 10.01.2022 ", patient_id="P001 ")
    reg = load_extract(write_base_extract(tmp_path, patients=pat, referrals=ref))
    assert_base_content(reg)
    assert reg.referrals["assessed_date"].iloc[0] == pd.Timestamp("2022-01-10")


def test_mixed_formats_in_one_extract(tmp_path):
    folder = write_base_extract(tmp_path, sep=";")
    (folder / "treatments.csv").unlink()
    write_table(folder, "treatments", rows("treatments"), fmt="parquet")
    (folder / "followups.csv").unlink()
    write_table(folder, "followups", rows("followups"), fmt="xlsx")
    assert_base_content(load_extract(folder))


def test_optional_table_absent_is_an_empty_frame(tmp_path):
    reg = load_extract(write_base_extract(tmp_path, drop=("legacy_v1",)))
    assert len(reg.legacy_v1) == 0
    assert list(reg.legacy_v1.columns) == ["year", "baseline_responses", "new_patients"]
    assert reg.report.summaries["legacy_v1"].file is None
    assert "(finnes ikke, valgfri)" in reg.report.summary_text()


def test_optional_extension_column_absent_and_present(tmp_path):
    enr = rows("enrolments")
    assert (
        "diagnosis" not in load_extract(write_base_extract(tmp_path, name="a")).enrolments.columns
        or load_extract(write_base_extract(tmp_path, name="a")).enrolments["diagnosis"].isna().all()
    )
    for r in enr:
        r["diagnosis"] = "M54.5"
    reg = load_extract(write_base_extract(tmp_path, name="b", enrolments=enr))
    assert reg.enrolments["diagnosis"].tolist() == ["M54.5"] * 3


def test_unknown_column_is_noted_not_used(tmp_path):
    ref = [dict(r, kommentar="ok") for r in rows("referrals")]
    reg = load_extract(write_base_extract(tmp_path, referrals=ref))
    assert "kommentar" not in reg.referrals.columns
    assert "ukjente kolonner ble ikke brukt: kommentar" in reg.report.summary_text()


def test_counts_reconcile_and_quarantine_keeps_original_cells(tmp_path):
    ref = rows("referrals")
    ref[1]["decision"] = "Rett"  # codes match exactly
    ref[3]["assessed_date"] = "2023-02-29"
    reg = load_extract(write_base_extract(tmp_path, referrals=ref))
    s = reg.report.summaries["referrals"]
    assert (s.rows_read, s.rows_used, s.rows_quarantined) == (5, 3, 2)
    q = reg.report.quarantine["referrals"]
    assert q["row"].tolist() == [2, 4]
    assert q["decision"].tolist() == ["Rett", "rett"]
    assert q["assessed_date"].tolist() == ["2022-02-11", "2023-02-29"]
    assert reg.referrals.index.tolist() == [1, 3, 5]
    counts = reg.report.counts().set_index("table")
    assert (counts["rows_read"] == counts["rows_used"] + counts["rows_quarantined"]).all()


def test_input_hashes_and_files_untouched(extract):
    import hashlib

    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in extract.iterdir()}
    reg = load_extract(extract)
    assert reg.input_hashes() == before
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in extract.iterdir()} == before


def test_missing_folder(tmp_path):
    with pytest.raises(ExtractError, match="fant ikke uttrekksmappen"):
        load_extract(tmp_path / "nope")


def test_header_only_table_is_empty_with_a_note(tmp_path):
    reg = load_extract(write_base_extract(tmp_path, short_forms=[]))
    assert len(reg.short_forms) == 0
    assert "short_forms.csv: filen har bare overskriftsrad" in reg.report.summary_text()


def test_cp1252_file_is_decoded_with_a_note(tmp_path):
    enr = [dict(r, diagnosis="Smerte i rygg, Ørland/Æsøy/Å") for r in rows("enrolments")]
    folder = write_base_extract(tmp_path, enrolments=enr)
    write_table(folder, "enrolments", enr, encoding="cp1252")
    reg = load_extract(folder)
    assert reg.enrolments["diagnosis"].tolist() == ["Smerte i rygg, Ørland/Æsøy/Å"] * 3
    assert "Windows-1252" in reg.report.summary_text()


def test_utf16_file_is_not_mojibake(tmp_path):
    folder = write_base_extract(tmp_path)
    write_table(folder, "treatments", rows("treatments"), encoding="utf-16")
    try:
        reg = load_extract(folder)
    except ExtractError as exc:
        assert "UTF-16" in str(exc)
    else:
        assert reg.treatments["treatment_id"].tolist() == ["T01", "T02"]
        assert "UTF-16" in reg.report.summary_text()


def test_followup_anchor_check_vectorised_messages(tmp_path):
    fu = rows("followups")
    fu += [
        dict(fu[0], followup_id="F04", anchor_id="T02"),
        dict(fu[0], followup_id="F05", anchor_id="T99"),
        dict(fu[2], followup_id="F06", anchor_id="E02"),
        dict(fu[2], followup_id="F07", anchor_id="T01"),
        dict(fu[1], followup_id="F08", kind="scs_12m"),
    ]
    reg = load_extract(write_base_extract(tmp_path, followups=fu))
    got = {(p.row, p.column, p.value): p.reason for p in reg.report.problems}
    assert got == {
        (4, "anchor_id", "T02"): "er en SCS-behandling, men oppfølgingstypen er rf_3m",
        (5, "anchor_id", "T99"): "behandlingen finnes ikke i treatments",
        (
            6,
            "anchor_id",
            "E02",
        ): "innskrivingen er ikke avsluttet (closed_date er blank), så avsluttet_12m kan ikke gjelde den",
        (7, "anchor_id", "T01"): "innskrivingen finnes ikke i enrolments",
    }
    assert reg.followups["followup_id"].tolist() == ["F01", "F02", "F03", "F08"]


def test_undecodable_file_names_the_encodings(tmp_path):
    folder = write_base_extract(tmp_path)
    (folder / "treatments.csv").write_bytes(b"treatment_id,patient_id,kind,date\nT01,P001,rf\x81,2022-03-15\n")
    with pytest.raises(ExtractError, match="verken UTF-8 eller Windows-1252"):
        load_extract(folder)


def test_many_copies_of_one_id_are_all_quarantined_with_a_short_message(tmp_path):
    ref = [dict(r, referral_id="R01") for r in rows("referrals") * 3]
    reg = load_extract(write_base_extract(tmp_path, referrals=ref))
    assert reg.report.summaries["referrals"].rows_quarantined == 15
    assert reg.report.problems[0].reason == (
        "samme ID står på flere rader (1, 2, 3, 4, 5, 6, 7, 8, 9, 10 og 5 til); ingen av dem kan brukes"
    )


def test_report_totals_add_up_over_tables(tmp_path):
    ref = [dict(r, referral_id="R01") for r in rows("referrals") * 2]
    rep = load_extract(write_base_extract(tmp_path, referrals=ref)).report
    counts = rep.counts()
    assert rep.rows_read == int(counts["rows_read"].sum()) > 0
    assert rep.rows_used == int(counts["rows_used"].sum())
    assert rep.rows_quarantined == int(counts["rows_quarantined"].sum()) == 10
    assert rep.rows_read == rep.rows_used + rep.rows_quarantined


def test_several_broken_files_are_all_reported_in_codebook_order(tmp_path):
    """Files are read two at a time; the problems still come in the codebook's table order."""
    from helpers import rows, write_base_extract

    from opr_analysis.errors import ExtractError

    no_decision = [{k: v for k, v in r.items() if k != "decision"} for r in rows("referrals")]
    no_kind = [{k: v for k, v in r.items() if k != "kind"} for r in rows("treatments")]
    folder = write_base_extract(tmp_path, drop=("enrolments",), referrals=no_decision, treatments=no_kind)
    (folder / "followups.csv").write_bytes(b"\xff\xfe not text")
    with pytest.raises(ExtractError) as err:
        load_extract(folder)
    message = str(err.value)
    order = [message.find(p) for p in ("referrals.csv", "«enrolments» mangler", "treatments.csv", "followups.csv")]
    assert -1 not in order and order == sorted(order), message
