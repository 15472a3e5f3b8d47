"""The staff's Excel workbook: one sheet per table, Norwegian headings, numbers as numbers, hidden cells."""

import datetime as dt

import openpyxl
import pandas as pd
import pytest

from opr_analysis import cli, write_synthetic
from opr_analysis.report.workbook import SHEETS, heading, workbook_frames, write_workbook
from opr_analysis.stats.export import published_tables


def test_patient_level_rate_hides_what_the_report_hides():
    frame = pd.DataFrame(
        {
            "year": [2023, 2024],
            "enrolments": [40, 50],
            "enrolments_with_baseline": [3, 30],
            "response_share": [0.075, 0.6],
            "response_share_ci_low": [0.03, 0.46],
            "response_share_ci_high": [0.2, 0.72],
            "baseline_responses": [4, 31],
            "seed_response_share": [0.1, 0.6],
            "difference": [-0.025, 0.0],
        }
    )
    shown = workbook_frames({"baseline_response_patient_level": frame}, min_cell=5)["baseline_response_patient_level"]
    assert list(shown.columns) == list(frame.columns[:7])  # the seed comparison would give the share away
    assert shown.iloc[0].tolist() == [2023, 40, "×", "–", "–", "–", 4]  # one symbol for every hidden count
    assert shown.iloc[1].tolist() == [2024, 50, 30, 0.6, 0.46, 0.72, 31]


def test_sheets_have_norwegian_headings_and_number_formats(tmp_path):
    tables = {
        "referrals_assessed": pd.DataFrame(
            {
                "year": [2024],
                "assessed": [1574],
                "rejected": [619],
                "rejected_share": [0.393],
                "rejected_share_ci_low": [0.369],
                "rejected_share_ci_high": [0.418],
            }
        ),
        "quality_closed_in_dips_list": pd.DataFrame({"patient_id": ["P1"], "enrolment_id": ["E1"]}),
    }
    path = write_workbook(tables, tmp_path / "arsrapport-2024-tabeller.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Henvisninger vurdert"]  # row lists about single patients are left out
    ws = wb["Henvisninger vurdert"]
    assert [c.value for c in ws[1]] == [
        "År", "Vurdert", "Avvist", "Andel avvist", "Andel avvist, nedre grense 95 % KI",
        "Andel avvist, øvre grense 95 % KI",
    ]  # fmt: skip
    assert [c.value for c in ws[2]] == [2024, 1574, 619, 0.393, 0.369, 0.418]
    assert ws["B2"].number_format == "#,##0" and ws["D2"].number_format == "0.0 %"
    again = write_workbook(tables, tmp_path / "b.xlsx")
    assert path.read_bytes() == again.read_bytes()  # reproducible to the byte
    assert heading("response_share") == "Svarandel"


@pytest.mark.slow
def test_workbook_content_equals_opr_tables(tmp_path):
    reg_dir = write_synthetic(tmp_path / "x", scale=0.1)
    as_of = dt.date(2025, 3, 1)
    assert cli.main(["tables", str(reg_dir), "--out", str(tmp_path / "csv"), "--as-of", as_of.isoformat()]) == 0
    import opr_analysis

    reg = opr_analysis.load_extract(reg_dir)
    path = write_workbook(published_tables(reg, as_of=as_of), tmp_path / "t.xlsx", min_cell=1)
    wb = openpyxl.load_workbook(path)
    for name, sheet in SHEETS.items():
        csv = tmp_path / "csv" / f"{name}.csv"
        if not csv.is_file():
            continue
        expected = pd.read_csv(csv, dtype=object, keep_default_na=False)
        if "patient_id" in expected.columns:
            continue
        rows = list(wb[sheet].iter_rows(min_row=2, values_only=True))
        expected = expected.drop(columns=[c for c in ("seed_response_share", "difference") if c in expected])
        assert len(rows) == len(expected), name
        for got, want in zip(rows, expected.itertuples(index=False), strict=True):
            for g, w in zip(got, want, strict=True):
                if w == "":
                    assert g is None, name
                elif isinstance(g, int | float):
                    assert g == pytest.approx(float(w)), (name, g, w)
                else:
                    assert str(g) == w, (name, g, w)
