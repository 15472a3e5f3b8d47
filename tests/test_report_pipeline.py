"""The report pipeline's own logic, without executing the notebook."""

import datetime as dt
import os
from types import SimpleNamespace

import nbformat
import pandas as pd
import pytest

from opr_analysis import cli
from opr_analysis.errors import ExtractError
from opr_analysis.report import pipeline


def _reg(*dates):
    return SimpleNamespace(referrals=pd.DataFrame({"assessed_date": pd.to_datetime(list(dates))}))


def test_default_year_is_last_complete_year_or_last_year_with_data():
    assert pipeline.default_report_year(_reg("2023-05-01", "2024-12-30"), dt.date(2025, 1, 10)) == 2024
    assert pipeline.default_report_year(_reg("2023-05-01", "2024-12-30"), dt.date(2024, 12, 31)) == 2023
    assert pipeline.default_report_year(_reg("2021-05-01"), dt.date(2025, 1, 10)) == 2021


def test_quarto_path_from_environment(monkeypatch, tmp_path):
    fake = tmp_path / "quarto"
    fake.write_text("#!/bin/sh\n")
    monkeypatch.setenv("QUARTO_PATH", str(fake))
    assert pipeline.find_quarto() == str(fake)
    monkeypatch.setenv("QUARTO_PATH", str(tmp_path / "nowhere"))
    assert pipeline.find_quarto() is None


def _executed_notebook():
    nb = nbformat.v4.new_notebook()
    injected = nbformat.v4.new_code_cell("extract = 'x'")
    injected.metadata["tags"] = ["injected-parameters"]
    setup = nbformat.v4.new_code_cell("#| include: false\nimport opr_analysis")
    prose = nbformat.v4.new_markdown_cell("# Pasientdata {.unnumbered}\n\nSe @tbl-a, @fig-b og @tbl-c.")
    t1 = nbformat.v4.new_code_cell('#| label: tbl-a\n#| tbl-cap: "Første"\nt')
    t1.outputs = [nbformat.v4.new_output("display_data", data={"text/html": "<table></table>"})]
    f1 = nbformat.v4.new_code_cell('#| label: fig-b\n#| fig-cap: "Figuren"\np')
    f1.outputs = [nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgo="})]
    text = nbformat.v4.new_code_cell("Markdown(...)")
    text.outputs = [nbformat.v4.new_output("display_data", data={"text/markdown": "@Tbl-c viser mer."})]
    t2 = nbformat.v4.new_code_cell('#| label: tbl-c\n#| tbl-cap: "Andre"\nt')
    t2.outputs = [nbformat.v4.new_output("display_data", data={"text/html": "<table></table>"})]
    nb.cells = [injected, setup, prose, t1, f1, text, t2]
    return nb


def test_injected_parameters_are_hidden_for_quarto():
    nb = _executed_notebook()
    pipeline.hide_injected_parameters(nb)
    cell = nb.cells[0]
    assert "remove-cell" in cell.metadata["tags"]
    assert cell.source.startswith("#| include: false\n")


def test_quarto_compat_numbers_captions_and_references():
    nb = _executed_notebook()
    numbers = pipeline.quarto_compat(nb, "Årsrapport 2024")
    assert numbers == {"tbl-a": "1", "fig-b": "1", "tbl-c": "2"}
    sources = [c.source for c in nb.cells]
    assert sources[0] == "# Årsrapport 2024"
    assert not any("import opr_analysis" in s for s in sources)  # include: false dropped
    prose = next(c for c in nb.cells if c.cell_type == "markdown" and "Pasientdata" in c.source)
    assert prose.source == "# Pasientdata\n\nSe tabell 1, figur 1 og tabell 2."
    t1 = next(c for c in nb.cells if "tbl-a" in c.source)
    assert t1.outputs[0]["data"]["text/markdown"] == "**Tabell 1: Første**"  # above the table
    f1 = next(c for c in nb.cells if "fig-b" in c.source)
    assert f1.outputs[-1]["data"]["text/markdown"] == "**Figur 1: Figuren**"  # below the figure
    text = next(c for c in nb.cells if c.source == "Markdown(...)")
    assert text.outputs[0]["data"]["text/markdown"] == "Tabell 2 viser mer."


def test_fallback_html_hides_code_and_parameters(tmp_path):
    nb = _executed_notebook()
    nb.cells[0].outputs = []
    path = tmp_path / "executed.ipynb"
    nbformat.write(nb, path)
    html = pipeline.render_nbconvert(path, tmp_path / "r.html", "Årsrapport 2024").read_text(encoding="utf-8")
    assert "extract = " not in html and "import opr_analysis" not in html and "#| label" not in html
    assert "Tabell 1: Første" in html and '<html lang="nb">' in html
    assert 'src="http' not in html


def test_bad_extract_stops_with_validator_message_and_writes_nothing(tmp_path, capsys):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "patients.csv").write_text("patient_id,birth_year\nP1,1970\n", encoding="utf-8")
    out = tmp_path / "out"
    with pytest.raises(ExtractError):
        pipeline.run_report(bad, out=out, log=lambda s: None)
    status = cli.main(["report", "--extract", str(bad), "--out", str(out)])
    err = capsys.readouterr().err
    assert status == 1
    assert err.startswith("opr report: ") and "uttrekket kan ikke brukes" in err
    assert sorted(os.listdir(tmp_path)) == ["bad"]  # no output, no temporary folder left


def test_unknown_format_is_a_usage_error(tmp_path, capsys):
    status = cli.main(["report", "--extract", str(tmp_path), "--formats", "html,odt", "--out", str(tmp_path / "o")])
    assert status == 2
    assert "ukjent format odt" in capsys.readouterr().err
