"""The report pipeline's own logic, without executing the notebook."""

import datetime as dt
import os
import re
from pathlib import Path
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


def _fallback_soup(tmp_path):
    from bs4 import BeautifulSoup

    nb = _executed_notebook()
    nb.cells[0].outputs = []
    pipeline.hide_injected_parameters(nb)
    path = tmp_path / "executed.ipynb"
    nbformat.write(nb, path)
    html = pipeline.render_nbconvert(path, tmp_path / "r.html", "Årsrapport 2024").read_text(encoding="utf-8")
    return html, BeautifulSoup(html, "html.parser")


def test_fallback_html_hides_code_and_parameters(tmp_path):
    html, soup = _fallback_soup(tmp_path)
    assert "extract = " not in html and "import opr_analysis" not in html and "#| label" not in html
    assert '<html lang="nb">' in html and soup.title.get_text() == "Årsrapport 2024"
    assert not re.search(r"(src|href)=[\"']https?:", html) and "@import" not in html and "<script" not in html


def test_fallback_is_a_document_with_captions_links_and_contents(tmp_path):
    html, soup = _fallback_soup(tmp_path)
    captions = [c.get_text() for c in soup.select("table > caption")]
    assert captions == ["Tabell\u00a01: Første", "Tabell\u00a02: Andre"]
    assert [t["id"] for t in soup.select("table")] == ["tbl-a", "tbl-c"]
    fig = soup.select_one("figure#fig-b")
    assert fig.img is not None and fig.figcaption.get_text() == "Figur\u00a01: Figuren"
    links = [(a["href"], a.get_text()) for a in soup.select("main a[href^='#']")]
    assert links == [
        ("#tbl-a", "tabell\u00a01"),
        ("#fig-b", "figur\u00a01"),
        ("#tbl-c", "tabell\u00a02"),
        ("#tbl-c", "Tabell\u00a02"),
    ]
    # «{.unnumbered}» leaves the heading without a number
    assert soup.select_one("main h1").get_text() == "Pasientdata" and "{.unnumbered}" not in html
    assert [a.get_text() for a in soup.select("nav#toc a")] == ["Pasientdata"]


def test_fallback_numbers_sections_and_lists_them(tmp_path):
    from bs4 import BeautifulSoup

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Ordliste {.unnumbered}"),
        nbformat.v4.new_markdown_cell("# Pasientdata\n\n## Henvisninger\n\n## Baseline"),
        nbformat.v4.new_markdown_cell("# Datakvalitet\n\n## Kontroll"),
    ]
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    soup = BeautifulSoup(pipeline.render_nbconvert(path, tmp_path / "r.html", "T").read_text(), "html.parser")
    expected = ["Ordliste", "1 Pasientdata", "1.1 Henvisninger", "1.2 Baseline", "2 Datakvalitet", "2.1 Kontroll"]
    assert [h.get_text(" ") for h in soup.select("main h1, main h2")] == expected
    assert [a.get_text() for a in soup.select("nav#toc a")] == expected
    css = soup.style.get_text()
    assert "size: A4" in css and "max-width: 46rem" in css
    assert re.search(r"caption, figcaption \{[^}]*break-after: avoid", css)
    assert re.search(r"h1, h2, h3, h4 \{[^}]*break-after: avoid", css)


def test_quarto_links_the_other_formats_as_word_and_pdf_only_when_made():
    from opr_analysis.report import quarto

    links = quarto.report_settings()["format"]["html"]["format-links"]
    # the string «html» names no other format: it only stops Quarto from adding «MS Word» and «Typst»
    assert links == ["html", {"format": "docx", "text": "Word"}, {"format": "typst", "text": "PDF"}]
    assert {quarto.QUARTO_TO["docx"], quarto.QUARTO_TO["pdf"]} == {link["format"] for link in links[1:]}


def test_run_settings_name_existing_files_by_absolute_path(tmp_path):
    from opr_analysis.errors import OprError
    from opr_analysis.report import quarto

    written = quarto.report_settings()
    settings = quarto.run_settings()
    files = quarto.settings_files(settings)
    assert {key for _, key in files} == {"path", "reference-doc"}  # the Lua filter and the Word reference
    for holder, key in files:
        assert os.path.isabs(holder[key]) and os.path.isfile(holder[key])
    assert [h[k] for h, k in quarto.settings_files(written)] == [
        os.path.relpath(h[k], quarto.PACKAGE_PARENT) for h, k in files
    ]
    with pytest.raises(OprError, match="fant ikke"):
        quarto.run_settings(written, base=tmp_path)


def test_notebook_for_quarto_has_no_output_that_makes_quarto_fetch_scripts():
    from opr_analysis.report import quarto

    nb = _executed_notebook()
    nb.cells[4].outputs[0]["metadata"] = {"image/png": {"alt": "Linjediagram: Antall etter år."}}
    nb.cells[3].metadata["papermill"] = {"start_time": "2025-03-01T12:00:00"}  # would become HTML attributes
    nb.cells[3].outputs[0]["data"]["text/html"] = (
        "<div><style>\n#x table {\n  font-family: -apple-system, Arial, sans-serif;\n  color: #333;\n}\n</style>"
        "<table></table></div>"
    )
    quarto.prepare_for_quarto(nb, "Årsrapport 2024")
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs for m in quarto.REMOTE_TRIGGERS if m in o.get("data", {})]
    # the title as front matter (else Quarto takes the first heading), once however often it is prepared
    assert nb.cells[0].cell_type == "raw" and nb.cells[0].source == "---\ntitle: Årsrapport 2024\n---\n"
    quarto.prepare_for_quarto(nb, "Årsrapport 2024")
    assert [c.cell_type for c in nb.cells].count("raw") == 1
    # a unit's name from the extract is data: escaped (Quarto reads the title as Markdown), last word tied
    quarto.prepare_for_quarto(nb, "Årsrapport 2024 – *Klinikk* <b>A</b> B")
    assert nb.cells[0].source == "---\ntitle: Årsrapport 2024 – &#42;Klinikk&#42; &lt;b&gt;A&lt;/b&gt;\u00a0B\n---\n"
    table = nb.cells[4]
    assert table.outputs[0]["data"]["text/markdown"] == (
        "```{=html}\n<div><style>\n#x table {\n  color: #333;\n}\n</style><table></table></div>\n```\n"
    )  # no font list: a table takes the document's font (in the PDF an installed Arial would be embedded)
    assert table.source.startswith("#| column: page-right\n#| label: tbl-a")
    assert table.metadata == {} and nb.cells[1].metadata["tags"] == ["injected-parameters"]
    assert nb.cells[5].source.startswith('#| fig-alt: "Linjediagram: Antall etter år."\n')
    assert "#| column" not in nb.cells[5].source


def test_git_dirty_is_read_before_the_run_writes(monkeypatch, tmp_path):
    seen = []
    monkeypatch.setattr(pipeline, "_git_commit", lambda: seen.append("git") or {"git_commit": "x", "git_dirty": False})

    def stop(*a, **k):
        seen.append("load")
        raise ExtractError("stop")

    monkeypatch.setattr("opr_analysis.extract.reader.load_extract", stop)
    with pytest.raises(ExtractError):
        pipeline.run_report(tmp_path, out=tmp_path / "o", log=lambda s: None)
    assert seen == ["git", "load"]


def test_pdf_without_quarto_is_an_error_after_the_html(monkeypatch, tmp_path, capsys):
    made = {}

    def fake_run(*a, **k):
        made["formats"] = k["formats"]
        raise pipeline.FormatsNotMade("PDF ble ikke laget fordi Quarto mangler", None)

    monkeypatch.setattr(pipeline, "run_report", fake_run)
    status = cli.main(["report", "--extract", str(tmp_path), "--formats", "html,pdf", "--out", str(tmp_path / "o")])
    assert status == 1 and made["formats"] == ["html", "pdf"]
    assert "PDF ble ikke laget" in capsys.readouterr().err


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
    with pytest.raises(SystemExit) as exc:  # refused by the argument parser, before anything runs
        cli.main(["report", "--extract", str(tmp_path), "--formats", "html,odt", "--out", str(tmp_path / "o")])
    assert exc.value.code == 2
    assert "ukjent format odt" in capsys.readouterr().err


def test_plain_text_beside_a_shown_form_is_dropped_from_the_executed_notebook():
    """A DataFrame's plain repr («298664     20810») is never shown but would be published and scanned."""
    import nbformat

    from opr_analysis.report.pipeline import drop_shadowed_plain_text

    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = [
        nbformat.v4.new_output("display_data", {"text/html": "<table></table>", "text/plain": "298664     20810"}),
        nbformat.v4.new_output("execute_result", {"text/plain": "42"}, execution_count=1),
        nbformat.v4.new_output("display_data", {"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"}),
    ]
    nb = nbformat.v4.new_notebook(cells=[cell])
    drop_shadowed_plain_text(nb)
    assert [sorted(o["data"]) for o in nb.cells[0].outputs] == [["text/html"], ["text/plain"], ["image/png"]]


def test_root_pre_render_never_replaces_a_notebook_it_did_not_write(tmp_path):
    import nbformat

    from opr_analysis.errors import OprError
    from opr_analysis.report.quarto_project import pre_render

    mine = tmp_path / "arsrapport.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), mine)
    before = mine.read_bytes()
    with pytest.raises(OprError, match="er ikke skrevet av"):
        pre_render(tmp_path, log=lambda s: None)
    assert mine.read_bytes() == before


def test_settings_file_is_shipped_with_the_package():
    """A non-editable install finds the settings: they and the files they name are package data."""
    import fnmatch
    import tomllib

    from opr_analysis.report import quarto

    patterns = tomllib.loads((pipeline.ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"][
        "package-data"
    ]["opr_analysis"]
    package = pipeline.ROOT / "opr_analysis"
    files = [pipeline.QUARTO_SETTINGS, *(Path(h[k]) for h, k in quarto.settings_files(quarto.run_settings()))]
    for path in files:
        rel = path.relative_to(package).as_posix()
        assert any(fnmatch.fnmatch(rel, p) or fnmatch.fnmatch("x/" + rel, p) for p in patterns), rel
