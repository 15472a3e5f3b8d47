"""The per-unit report, the indicator chapter and the council's unit-comparison notebook (issue 16)."""

import dataclasses
import datetime as dt

import nbformat
import pandas as pd
import pytest
from bs4 import BeautifulSoup
from helpers import make_extract, run_notebook

from opr_analysis import load_extract
from opr_analysis.indicators import indicator_results
from opr_analysis.report import indicator_report as ir
from opr_analysis.report import pipeline

ROOT = pipeline.ROOT
AS_OF = dt.date(2025, 3, 1)
YEAR = 2024

UNITS = [
    dict(unit_id="A", name="Klinikk A", orgnr="993467049", health_region="sor_ost"),
    dict(unit_id="B", name="Klinikk B", orgnr="983975240", health_region="vest"),
]


def test_one_unit_template_leaves_out_exactly_the_units_cells(tmp_path):
    copy = pipeline.without_tagged_cells(pipeline.NOTEBOOK, tmp_path, pipeline.UNITS_TAG)
    full = nbformat.read(pipeline.NOTEBOOK, as_version=4)
    kept = nbformat.read(copy, as_version=4)
    tagged = [c for c in full.cells if pipeline.UNITS_TAG in c.metadata.get("tags", [])]
    assert len(tagged) >= 5
    others = [c for c in full.cells if pipeline.UNITS_TAG not in c.metadata.get("tags", [])]
    assert [(c.id, c.source) for c in kept.cells] == [(c.id, c.source) for c in others]
    # a notebook without such cells is used as it is
    assert pipeline.without_tagged_cells(copy, tmp_path / "again", pipeline.UNITS_TAG) == copy


def test_indicator_cells_symbols_small_numbers_and_total(tmp_path):
    enrol = [dict(patient_id=f"P{i}", unit_id="A" if i < 6 else "B", granted_date="2022-01-03",
                  first_consultation_date="2022-01-20" if i % 2 else "2022-05-20") for i in range(1, 16)]  # fmt: skip
    reg = make_extract(tmp_path, units=UNITS, enrolments=enrol)
    view = ir.unit_view(reg, as_of="2022-12-31")
    assert view.show and view.shown_units == ["A", "B"]
    cells = ir.indicator_cells(view, 2022, min_cell=5).set_index("Indikator")
    row = cells.loc["Førstekonsultasjon innen 60 dager"]
    # A: 3 of 5 within 60 days (3 and 2 under min_cell: hidden); B: 5 of 10 = 50 %. The registry's 8 of 15
    # minus B's 5 of 10 would give A's 3 of 5: B is hidden too (its counts are the smaller), the total shown.
    assert row["Klinikk A"] == "×" and row["level:Klinikk A"] == "too_few"  # one symbol for every hidden count
    assert row["Klinikk B"] == "×" and row["n:Klinikk B"] == "×"
    assert row["Hele registeret"] == "53,3\u00a0% ▼" and row["n:Hele registeret"] == "15"
    assert ir.indicator_cells(view, 2022, min_cell=1).set_index("Indikator").loc[row.name, "Klinikk B"] == (
        "50,0\u00a0% ▼"  # red: under yellow 60 %
    )
    shown = ir.indicator_cells(view, 2022, min_cell=1).set_index("Indikator").loc["Førstekonsultasjon innen 60 dager"]
    assert shown["Klinikk A"] == "60,0\u00a0% –"  # 5 cases: under the minimum of 10, «for lite datagrunnlag»
    unit = ir.unit_view(reg, "B", as_of="2022-12-31")
    # B's view, sharing the disclosure the whole registry's view computed above (the same for every report of
    # the extract), so its linear programs do not run again
    shared = dataclasses.replace(unit, source=view)
    assert list(ir.indicator_cells(shared, 2022).filter(like="level:").columns) == [
        "level:Klinikk B",
        "level:Hele registeret",
    ]
    assert len(unit.reg.enrolments) == 10


@pytest.mark.slow
def test_unit_report_renders_with_the_units_numbers(unit_report, tmp_path):
    """tests/conftest.py's `unit_report`: `opr report --unit u2` of three synthetic units (with hostile names,
    which tests/test_report_hostile_names.py checks in the same page)."""
    extract = unit_report.extract
    assert [p.name for p in unit_report.files] == [f"arsrapport-{YEAR}-u2.html", f"arsrapport-{YEAR}-u2-tabeller.xlsx"]
    assert unit_report.manifest["parameters"]["unit"] == "u2"
    # the workbook took the report's hidden cells from the kernel (report/handover.py), not computed again; the
    # hand-over file was removed, and the run's parameters in the manifest are the user's
    assert unit_report.manifest["workbook_hidden_cells"] == "notebook"
    assert [p.name for p in (unit_report.out / "build").iterdir()] == ["annual_report.ipynb"]
    # nor in the executed notebook, the audit trail (they belong to the run: a temporary path, a random token)
    executed = nbformat.read(unit_report.out / "build" / "annual_report.ipynb", as_version=4)
    injected = [c.source for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and 'unit = "u2"' in injected[0] and "handover" not in injected[0]
    assert not {"handover_file", "handover_token"} & set(unit_report.manifest["parameters"])
    assert not {"handover_file", "handover_token"} & set(executed.metadata["papermill"]["parameters"])
    soup = BeautifulSoup(unit_report.files[0].read_text(encoding="utf-8"), "html.parser")
    text = soup.get_text(" ")
    view = ir.unit_view(load_extract(extract), "u2", as_of=AS_OF)
    # the unit's one-letter last word stays with the word before it (no «A» alone on a line)
    name = view.unit_name
    assert name.endswith(" A") and f"Årsrapport {YEAR} for OUS smerteregister – {name[:-2]}\u00a0A" in text
    assert "Kvalitetsindikatorer" in text and "Kapitlet viser tallene for" in text
    assert "Traceback" not in text and "@tbl-" not in text
    # the indicator table shows exactly the package's cells: the unit, then the registry total
    cells = ir.indicator_cells(view, YEAR)

    def plain(text: str) -> str:  # the report's typography ties numbers to their units with no-break spaces
        return text.replace("\u00a0", " ")

    rows = [
        [plain(c.get_text()) for c in tr.find_all(["th", "td"])]
        for tr in soup.find(id="opr-indikatorer").select("tbody tr")
    ]
    want = cells[["Indikator", "Mål", name, "Hele registeret"]].astype(str).map(plain)
    assert rows == want.values.tolist()
    # the rest of the report is the unit's: its referrals, not the registry's
    n_unit = int((view.reg.referrals["assessed_date"].dt.year == YEAR).sum())
    n_all = int((view.reg_all.referrals["assessed_date"].dt.year == YEAR).sum())
    assert n_unit < n_all
    # the unit's workbook is computed from the unit's rows, and equals the unit's report number by number
    _unit_workbook_equals_unit_report(unit_report.files[1], soup, view.reg, view.disclosure(5).masks("u2"))
    with pytest.raises(Exception, match="ukjent enhet"):
        pipeline.run_report(extract, as_of=AS_OF, formats=["html"], out=tmp_path / "x", unit="zz")


def _unit_workbook_equals_unit_report(workbook, soup, unit_reg, masks):
    """The unit's workbook and report show the same cells: the unit's tables with the hidden cells of every
    report of the extract suppressed together (report.unit_disclosure)."""
    import openpyxl

    from opr_analysis.report.gt_tables import years_window
    from opr_analysis.report.publication import Publication, labelled
    from opr_analysis.report.suppression import publish
    from opr_analysis.report.typography import tie
    from opr_analysis.stats.export import published_tables
    from opr_analysis.stats.table_registry import TABLES

    tables = published_tables(unit_reg, as_of=AS_OF)
    wb = openpyxl.load_workbook(workbook)
    pub = Publication(tables, YEAR, years_window(YEAR), 5, AS_OF, masks)
    for t in (t for t in TABLES if t.published):
        rows = list(wb[t.sheet].iter_rows(min_row=2, values_only=True))
        want = labelled(t, publish(t, tables[t.name], 5, masks.get(t.name))).astype(object)
        assert len(rows) == len(want), t.name
        for got, row in zip(rows, want.itertuples(index=False), strict=True):
            assert [None if pd.isna(w) else w for w in row] == pytest.approx(list(got)), t.name
        if t.in_report and len(tables[t.name]):  # the report's table shows the same unit's numbers
            div = soup.find(id=f"opr-{t.name}")
            html = [
                [c.get_text() for c in tr.find_all(["th", "td"])]
                for tr in div.select("tbody tr")
                if "gt_group_heading_row" not in (tr.get("class") or [])
            ]
            cells = pub.cells(t.name)
            cells = cells.drop(columns=[c for c in ("group", "kind") if c in cells.columns])
            assert html == cells.astype(str).map(tie).values.tolist(), t.name
    # one number by hand: referrals assessed in the report year, the unit's own
    assessed = wb["Henvisninger vurdert"]
    n = next(r[1] for r in assessed.iter_rows(min_row=2, values_only=True) if r[0] == YEAR)
    r = unit_reg.referrals
    assert n == int(
        (r["decision"].isin(["rett", "avvist", "videresendt"]) & (r["assessed_date"].dt.year == YEAR)).sum()
    )


@pytest.mark.slow
def test_unit_comparison_notebook_runs_under_papermill(unit_report, tmp_path):
    """On the extract of tests/conftest.py's `unit_report`: three units, two of them compared here; their names
    hold markup, maths and a heading, and the notebook runs with them in its figures."""
    multi_extract = unit_report.extract
    nb = nbformat.read(ROOT / "notebooks" / "unit_comparison.ipynb", as_version=4)
    assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code")
    params = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    assert 'extract = "data/synthetic"' in params.source and "indicator = " in params.source
    done = run_notebook("unit_comparison", tmp_path / "uc.ipynb", extract=str(multi_extract), as_of=AS_OF.isoformat(),
                        units="u3,ous", years="2022-2024", indicator="opr_oppf_avsluttet_12m")  # fmt: skip
    key = next(c for c in done.cells if "key" in c.metadata.get("tags", []))
    res = indicator_results(load_extract(multi_extract), as_of=AS_OF)
    want = res.query("unit_id == 'u3' and year == 2024 and ind_id == 'opr_oppf_avsluttet_12m'")["numerator"].item()
    assert int(key.outputs[0]["data"]["text/plain"]) == want > 0
    assert sum("image/png" in o.get("data", {}) for c in done.cells for o in c.get("outputs", [])) >= 2
