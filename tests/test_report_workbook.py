"""The staff's Excel workbook: a publication derived from the table declarations. Read back with openpyxl,
it shows exactly the report's cells (hidden ones as «×»/«–»), Norwegian headings and sheet names only."""

import datetime as dt
import re

import openpyxl
import pandas as pd
import pytest

from opr_analysis import cli, write_synthetic
from opr_analysis.report import gt_tables as g
from opr_analysis.report.publication import labelled
from opr_analysis.report.suppression import hidden_tables, publish
from opr_analysis.report.workbook import heading, workbook_frames, write_workbook
from opr_analysis.stats.export import published_tables
from opr_analysis.stats.table_registry import TABLES, Table, get, register, unregister

#: Words of the old English fallback headings («Responded owed», «Response share owed»).
ENGLISH = {"owed", "responded", "response", "share", "settled", "awaiting", "start", "reason", "dispersion"}


def _patient_level() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "year": [2020, 2024],
            "enrolments": [40, 50],
            "enrolments_with_baseline": [3, 30],
            "response_share": [0.075, 0.6],
            "response_share_ci_low": [0.03, 0.46],
            "response_share_ci_high": [0.2, 0.72],
            "baseline_responses": [4, 31],
            "seed_response_share": [0.1, 0.62],
            "difference": [-0.025, -0.02],
        }
    )


def test_patient_level_rate_hides_what_the_report_hides():
    frame = _patient_level()
    shown = workbook_frames({"baseline_response_patient_level": frame}, min_cell=5)["baseline_response_patient_level"]
    assert list(shown.columns) == list(frame.columns[:7])  # the seed comparison would give the share away
    assert shown.iloc[0].tolist() == [2020, 40, "×", "–", "–", "–", 4]  # enrolments: public in table 12
    assert shown.iloc[1].tolist() == [2024, 50, 30, 0.6, 0.46, 0.72, 31]
    # cell by cell the report's table: hidden in one exactly where hidden in the other
    report = g.baseline_patient_level_cells(frame, [2020, 2024], 5).set_index("label")
    assert report.loc["Innskrivinger med minst ett baselinesvar"].tolist() == ["×", "30"]
    assert report.loc["Andel med baselinesvar"].tolist()[0] == "–"


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
    assert ws["A2"].number_format == "General"  # a year is not a count: 2024, not 2 024
    again = write_workbook(tables, tmp_path / "b.xlsx")
    assert path.read_bytes() == again.read_bytes()  # reproducible to the byte
    assert heading("baseline_response", "response_share") == "Baselineskjemaer per innskriving"


def test_codes_are_shown_in_words():
    frame = pd.DataFrame({"year": [2024, 2024], "kind": ["rf_3m", "avsluttet_12m"], "owed": [4, 10]})
    shown = workbook_frames({"followup_response": frame})["followup_response"]
    assert shown["kind"].tolist() == ["RF, 3 måneder", "12 måneder etter avsluttet behandling"]


def test_a_table_without_a_sheet_or_with_an_undeclared_column_is_refused():
    register(Table("toy_undeclared", lambda reg: None, "Leketabell"))
    try:
        with pytest.raises(ValueError, match="toy_undeclared: no workbook sheet name"):
            workbook_frames({"toy_undeclared": pd.DataFrame({"year": [2024]})})
    finally:
        unregister("toy_undeclared")
    extra = pd.DataFrame({"year": [2024], "assessed": [3], "new_column": [1]})
    with pytest.raises(ValueError, match="column «new_column» has no declared heading"):
        workbook_frames({"referrals_assessed": extra})


@pytest.fixture(scope="module")
def synthetic_workbook(tmp_path_factory):
    """``opr tables`` and the workbook of one small synthetic extract (as of 2025-03-01)."""
    tmp = tmp_path_factory.mktemp("workbook")
    reg_dir = write_synthetic(tmp / "x", scale=0.1)
    as_of = dt.date(2025, 3, 1)
    assert cli.main(["tables", str(reg_dir), "--out", str(tmp / "csv"), "--as-of", as_of.isoformat()]) == 0
    import opr_analysis

    reg = opr_analysis.load_extract(reg_dir)
    path = write_workbook(published_tables(reg, as_of=as_of), tmp / "t.xlsx", min_cell=5)
    return tmp / "csv", openpyxl.load_workbook(path)


def _rows(ws) -> list[tuple]:
    return list(ws.iter_rows(min_row=2, values_only=True))


@pytest.mark.slow
def test_workbook_read_back_equals_the_published_csv_cell_by_cell(synthetic_workbook):
    csv_dir, wb = synthetic_workbook
    published = [t for t in TABLES if t.published]
    assert wb.sheetnames == [t.sheet for t in published]
    hidden_seen = 0
    csvs = {t.name: pd.read_csv(csv_dir / f"{t.name}.csv", keep_default_na=False, na_values=[""]) for t in published}
    masks = hidden_tables(csvs, 5)  # the patient tables of one publication are suppressed together
    for t in published:
        csv = csvs[t.name]
        # what every publication shows (the report's cells too)
        expected = labelled(t, publish(t, csv, 5, masks.get(t.name)))
        ws = wb[t.sheet]
        assert [c.value for c in ws[1]] == [t.heading(c) for c in expected.columns], t.name
        rows = _rows(ws)
        assert len(rows) == len(expected), t.name
        for got, want in zip(rows, expected.itertuples(index=False), strict=True):
            for col, g_, w in zip(expected.columns, got, want, strict=True):
                if isinstance(w, str):
                    assert g_ == w, (t.name, col, g_, w)
                    hidden_seen += w == "×"
                elif pd.isna(w):
                    assert g_ is None, (t.name, col, g_)
                else:
                    assert g_ == pytest.approx(float(w)), (t.name, col, g_, w)
    assert hidden_seen > 0  # the small breakdown by sex and age has hidden cells, and they read «×»


@pytest.mark.slow
def test_workbook_has_no_english_heading_no_internal_name_and_no_raw_hidden_count(synthetic_workbook):
    csv_dir, wb = synthetic_workbook
    internal = re.compile(r"^[a-z]+(_[a-z0-9]+)+$")  # rf_3m, annet_blank, rejected_share, quality_…
    for ws in wb:
        assert len(ws.title) <= 31 and "_" not in ws.title, ws.title
        for cell in ws[1]:
            words = set(re.findall(r"[a-z]+", cell.value.lower()))
            assert not words & ENGLISH and "_" not in cell.value, (ws.title, cell.value)
        for row in _rows(ws):
            assert not [v for v in row if isinstance(v, str) and internal.match(v)], (ws.title, row)
    # every count the report hides is «×» in the workbook, never its value
    table = get("referrals_by_sex_age")
    csv = pd.read_csv(csv_dir / "referrals_by_sex_age.csv")
    shown = publish(table, csv, 5)
    rows = _rows(wb[table.sheet])
    hidden = shown.index[shown["n"].astype(str) == "×"]
    assert len(hidden) > 0
    assert all(rows[i][3] == "×" for i in hidden)
    assert all(0 < csv.at[i, "n"] for i in hidden)  # zeros are shown
