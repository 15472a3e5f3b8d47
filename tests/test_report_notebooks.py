"""The report notebook: committed clean, Quarto config sound, and executed end to end.

The end-to-end test needs the statistics (issue 3: ``opr_analysis.report_tables``)
and the synthetic registry (issue 2: ``opr synth``); it skips with that reason
where they are not present yet.
"""

import datetime as dt
import json
import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import pandas as pd
import pytest
import yaml
from bs4 import BeautifulSoup

import opr_analysis
from opr_analysis import cli, models, proms
from opr_analysis.report import gt_tables as g
from opr_analysis.report import pipeline
from opr_analysis.report import prom_tables as pt
from opr_analysis.report.display import CSS_PX_PER_INCH
from opr_analysis.report.quarto import REMOTE_TRIGGERS, prepare_for_quarto
from opr_analysis.report.texts import load_glossary
from opr_analysis.report.theme import FIGURE_SIZE
from opr_analysis.report.typography import tie

ROOT = pipeline.ROOT
AS_OF = dt.date(2025, 3, 1)
YEAR = 2024
YEARS = g.years_window(YEAR)


def _notebooks_in_git() -> list[Path]:
    try:
        listed = subprocess.run(["git", "ls-files", "*.ipynb"], cwd=ROOT, capture_output=True, text=True, check=True)
        return [ROOT / p for p in listed.stdout.split()]
    except (OSError, subprocess.CalledProcessError):
        return sorted(ROOT.glob("notebooks/**/*.ipynb"))


def test_no_notebook_carries_outputs():
    notebooks = _notebooks_in_git()
    assert pipeline.NOTEBOOK in notebooks
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
        assert not dirty, f"{path.name}: cells {dirty} have outputs; clear them before committing"


def test_notebook_has_a_parameters_cell_with_runnable_defaults():
    nb = nbformat.read(pipeline.NOTEBOOK, as_version=4)
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1
    names = {}
    exec(params[0].source, {}, names)  # noqa: S102 - our own notebook's literal defaults
    assert names["extract"] == "../data/synthetic" and names["min_cell"] == 5
    assert {"report_year", "as_of", "years_shown", "texts_dir", "include_proms"} <= set(names)
    # a unit report's parameter is declared (papermill warned «Passed unknown parameter: unit»)
    assert names["unit"] is None
    assert (pipeline.NOTEBOOK.parent / names["texts_dir"]).resolve() == pipeline.TEXTS


def test_quarto_settings_parse_and_size_figures_like_the_notebook():
    config = yaml.safe_load(pipeline.QUARTO_SETTINGS.read_text(encoding="utf-8"))
    assert config["lang"] == "nb" and config["toc-title"] == "Innhold" and config["number-sections"] is True
    assert set(config["format"]) == {"html", "docx", "typst"} == set(pipeline.QUARTO_TO.values())
    assert config["format"]["html"]["embed-resources"] is True
    assert config["execute"]["echo"] is False and config["execute"]["enabled"] is False
    # figures: the same inches in Quarto's options and in the image outputs (report.display); the A4 text
    # width with 2,2 cm margins is 6,4 in
    assert (config["fig-width"], config["fig-height"]) == FIGURE_SIZE and FIGURE_SIZE[0] <= 6.4
    # no web fonts: Bootswatch themes such as cosmo @import Google Fonts
    assert config["format"]["html"]["theme"] == "default"
    typst = config["format"]["typst"]
    assert typst["papersize"] == "a4" and typst["margin"] == {"x": "2.2cm", "y": "2.5cm"}
    assert "#set text(hyphenate: false)" in typst["include-in-header"]["text"]
    assert "sticky: true" in typst["include-in-header"]["text"]
    # the title comes with each run's notebook: a title here would override «Årsrapport 2024 …»
    assert "title" not in config


def test_root_quarto_project_reads_the_report_settings_and_repeats_none():
    """The design card's _quarto.yml at the root: the report's settings come from the package's file only."""
    project = yaml.safe_load((ROOT / "_quarto.yml").read_text(encoding="utf-8"))
    assert set(project) == {"project", "metadata-files"}
    assert [ROOT / f for f in project["metadata-files"]] == [pipeline.QUARTO_SETTINGS]
    assert project["project"]["render"] == ["arsrapport.ipynb"] and project["project"]["output-dir"] == "_output/quarto"
    pre = ROOT / project["project"]["pre-render"]
    assert pre.is_file() and "quarto_project" in pre.read_text(encoding="utf-8")
    # the notebook the pre-render step writes is never committed
    ignored = subprocess.run(["git", "check-ignore", "-q", "arsrapport.ipynb"], cwd=ROOT).returncode
    assert ignored in (0, 128)  # 128: not a git checkout (an unpacked sdist)


def test_report_texts_start_their_headings_below_the_chapter():
    for path in sorted(pipeline.TEXTS.glob("*.md")):
        if path.name == "README.md":
            continue
        levels = [len(m) for m in re.findall(r"^(#+) ", path.read_text(encoding="utf-8"), re.M)]
        assert all(lv >= 2 for lv in levels), f"{path.name}: a text has no first-level heading"
        steps = [b - a for a, b in zip([1, *levels], levels, strict=False)]
        assert all(step <= 1 for step in steps), f"{path.name}: heading levels jump ({levels})"


def _needs_stats_and_synth():
    if not hasattr(opr_analysis, "report_tables"):
        pytest.skip("opr_analysis.report_tables (issue 3 statistics) is not on this branch yet; runs after the merge")
    if "synth" not in cli.COMMANDS or "tables" not in cli.COMMANDS:
        pytest.skip("opr synth / opr tables (issues 2 and 3) are not on this branch yet; runs after the merge")


@pytest.fixture(scope="module")
def small_extract(synthetic_extract):
    """tests/conftest.py's synthetic registry (scale 0.3, 2021-2024): the one `report_run` was made from."""
    _needs_stats_and_synth()
    return synthetic_extract


@pytest.fixture(scope="module")
def report_run(concurrent_reports) -> pipeline.ReportRun:
    """The whole registry's report of `small_extract` as a user makes it: ``python -m opr_analysis report
    --as-of 2025-03-01 --formats html`` (without Quarto: the nbconvert fallback), one of the two runs of
    tests/conftest.py's ``concurrent_reports`` (on a byte-identical copy of the extract), read from its folder.
    The run without Quarto asked for a PDF is tested on its own (test_prom_chapter_is_skipped_...)."""
    status, _, stderr = concurrent_reports.results[0]
    assert status == 0, stderr
    out = concurrent_reports.parent / "a"
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    files = [out / name for name in manifest["outputs_sha256"]]
    assert [p.name for p in files] == [f"arsrapport-{YEAR}.html", f"arsrapport-{YEAR}-tabeller.xlsx"]
    return pipeline.ReportRun(out, files, manifest, manifest["renderer"]["name"], manifest["timings_seconds"])


@pytest.fixture(scope="module")
def contract_tables(small_extract, tmp_path_factory):
    folder = tmp_path_factory.mktemp("tables")
    assert cli.main(["tables", str(small_extract), "--out", str(folder), "--as-of", AS_OF.isoformat()]) == 0
    return {p.stem: pd.read_csv(p) for p in folder.glob("*.csv")}


def _html_rows(soup: BeautifulSoup, table_id: str) -> list[list[str]]:
    div = soup.find(id=f"opr-{table_id}")
    assert div is not None, f"table {table_id} missing from the report"
    rows = []
    for tr in div.select("tbody tr"):
        if "gt_group_heading_row" in (tr.get("class") or []):
            continue
        rows.append([cell.get_text() for cell in tr.find_all(["th", "td"])])
    return rows


KEYS = ("group", "kind", "variable", "level", "indicator", "score", "term")


def _expected(cells: pd.DataFrame) -> list[list[str]]:
    # the report shows the cells with no-break typography (report.typography)
    return cells.drop(columns=[c for c in KEYS if c in cells.columns]).astype(str).map(tie).values.tolist()


@pytest.mark.slow
def test_report_tables_show_exactly_what_opr_tables_computes(report_run, contract_tables):
    """Every table the declarations put in the report (stats.table_registry) shows the cells of its CSV."""
    from opr_analysis.report.publication import Publication
    from opr_analysis.report.suppression import SUPPRESSED
    from opr_analysis.stats.table_registry import TABLES, get

    soup = BeautifulSoup(report_run.files[0].read_text(encoding="utf-8"), "html.parser")
    t = contract_tables
    pub = Publication(t, YEAR, YEARS, min_cell=5, as_of=AS_OF)
    shown = [table.name for table in TABLES if table.in_report and len(t[table.name])]
    assert {"referrals_assessed", "followup_response", "referrals_by_sex_age", "quality_missing"} <= set(shown)
    for name in shown:
        assert _html_rows(soup, name) == _expected(pub.cells(name)), name
    # one number checked by hand against the tidy CSV, in Norwegian form
    assessed = int(t["referrals_assessed"].set_index("year").loc[YEAR, "assessed"])
    assert _html_rows(soup, "referrals_assessed")[0][-1] == f"{assessed:,}".replace(",", "\u00a0")
    # the follow-up audit counts patients (issue 23): every shown count is the exact one, every count of 1-4 «×»
    shown_fu = pub.cells("followup_response").set_index("kind")
    exact = g.followup_response_cells(t["followup_response"], YEAR, min_cell=0).set_index("kind")
    counts = [c for c in get("followup_response").suppression.counts if c in shown_fu.columns]
    small = 0
    for column in counts:
        for kind, value in exact[column].items():
            number = int(str(value).replace("\u00a0", ""))
            if 0 < number < 5:
                small += 1
                assert shown_fu.loc[kind, column] == SUPPRESSED, (kind, column)
            elif shown_fu.loc[kind, column] != SUPPRESSED:
                assert shown_fu.loc[kind, column] == value, (kind, column)
    assert small > 0  # the synthetic extract has small follow-up counts to hide


@pytest.mark.slow
def test_report_has_the_implant_chapter_and_no_device_identifier(report_run, small_extract):
    """The chapter «Implantater» is there (the synthetic extract has the register); no file of the report
    folder holds a serial number, a lot or a patient id of the implant register (issue 27)."""
    from opr_analysis.safety.privacy import file_text

    soup = BeautifulSoup(report_run.files[0].read_text(encoding="utf-8"), "html.parser")
    assert soup.find(id="Implantater") is not None and soup.find(id="opr-implant_survival_summary") is not None
    implants = pd.read_csv(small_extract / "implants.csv", dtype=str)
    secrets = set(implants["serial_number"]) | set(implants["lot"]) | set(implants["patient_id"])
    assert len(secrets) > 100
    for path in (p for p in report_run.out.rglob("*") if p.is_file()):
        tokens = set(re.findall(r"[\w-]+", file_text(path)))
        assert not tokens & secrets, path.name


@pytest.mark.slow
def test_report_figures_fit_the_page_and_tables_trigger_no_remote_scripts(report_run):
    executed = nbformat.read(report_run.out / "build" / "annual_report.ipynb", as_version=4)
    images = [o for c in executed.cells if c.cell_type == "code" for o in c.outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 4
    width, height = (round(v * CSS_PX_PER_INCH) for v in FIGURE_SIZE)
    for out in images:
        meta = out["metadata"]["image/png"]
        assert (meta["width"], meta["height"]) == (width, height)
        assert meta["alt"] and "No description" not in meta["alt"] and meta["alt"].endswith(".")
    prepare_for_quarto(executed)  # what Quarto is given
    triggers = [m for c in executed.cells if c.cell_type == "code" for o in c.outputs for m in o.get("data", {})]
    assert not set(triggers) & set(REMOTE_TRIGGERS)


@pytest.mark.slow
def test_report_is_offline_norwegian_and_explains_its_abbreviations(report_run):
    html = report_run.files[0].read_text(encoding="utf-8")
    soup = BeautifulSoup(html, "html.parser")
    assert not re.search(r"""(src|href)=["']?https?:|@import|url\(["']?https?:""", html)
    assert [i["alt"] for i in soup.find_all("img") if "No description" in i.get("alt", "")] == []
    assert all(i.get("alt") for i in soup.find_all("img"))
    text = soup.select_one("main").get_text(" ")
    # no internal names: table, file or command names
    assert not re.search(r"\b[a-z]+_[a-z_]+\b|opr tables|\.csv\b", text), re.findall(r"\b[a-z]+_[a-z_]+\b", text)[:5]
    assert "95 % KI" not in text and "95\u00a0%\u00a0KI" in text
    assert not re.search(r"\d–\d", text)  # every interval's dash is joined to its numbers
    glossary = set(load_glossary(pipeline.TEXTS))
    glossary |= {w for term in glossary for w in term.split()}  # «EQ VAS» explains «EQ» too
    used = set(re.findall(r"\b[A-ZÆØÅ][A-ZÆØÅ0-9]+(?:-[A-Z0-9]+)*\b", text))
    everyday = {"ID", "PC"}  # «elektronisk ID», «PC/mobil»: ordinary Norwegian words
    missing = sorted(
        a for a in used - everyday if not any(a == g or a.startswith(f"{g}-") for g in glossary) and not a.isdigit()
    )
    assert not missing, f"abbreviations without a glossary entry: {missing}"


@pytest.mark.slow
def test_report_reads_like_a_report(report_run):
    html = report_run.files[0].read_text(encoding="utf-8")
    soup = BeautifulSoup(html, "html.parser")
    text = soup.get_text(" ")
    assert f"Årsrapport {YEAR} for OUS smerteregister" in text
    assert "Tabell\u00a01: Henvisninger vurdert" in text and "Figur\u00a01:" in text  # number tied to its word
    assert "@tbl-" not in text and "@fig-" not in text and "{.unnumbered}" not in text
    assert "injected" not in html and "extract = " not in text and "#|" not in text
    assert len(soup.find_all("img")) >= 4  # region, baseline, completion time, follow-up
    assert "Traceback" not in text and "Warning" not in text


@pytest.mark.slow
def test_manifest_and_audit_trail(report_run, small_extract):
    out = report_run.out
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["parameters"]["report_year"] == YEAR
    assert manifest["parameters"]["as_of"] == AS_OF.isoformat()
    reg = opr_analysis.load_extract(small_extract)
    assert manifest["extract"]["files_sha256"] == reg.input_hashes()
    rows = {r["table"]: r for r in manifest["extract"]["rows"]}
    # rows of patients erased at their own request (contract v1.2) are read, accounted as rows_erased
    erased = rows["referrals"].get("rows_erased", 0)
    assert rows["referrals"]["rows_read"] == len(reg.referrals) + rows["referrals"]["rows_quarantined"] + erased
    assert erased == reg.report.summaries["referrals"].rows_erased
    assert "notebooks/annual_report.ipynb" in manifest["inputs_sha256"]
    assert "reports/forord.md" in manifest["inputs_sha256"]
    assert manifest["renderer"]["name"] == report_run.renderer
    assert set(manifest["timings_seconds"]) >= {"validate", "execute", "render", "total"}
    assert manifest["package"]["version"] == opr_analysis.__version__
    assert manifest["workbook_hidden_cells"] == "notebook"  # the report's hidden cells, from the kernel
    html = out / f"arsrapport-{YEAR}.html"
    assert manifest["outputs_sha256"][html.name] == pipeline._sha256(html)
    executed = nbformat.read(out / "build" / "annual_report.ipynb", as_version=4)
    injected = [c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and "remove-cell" in injected[0].metadata["tags"]
    assert not [o for c in executed.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not [p.name for p in out.parent.iterdir() if p.name.startswith(".")]  # no temporary folder left


@pytest.mark.slow
def test_prom_chapter_shows_the_packages_numbers(report_run, small_extract):
    soup = BeautifulSoup(report_run.files[0].read_text(encoding="utf-8"), "html.parser")
    text = soup.get_text(" ")
    assert "Pasientrapporterte utfall (PROM)" in text and "Hvem svarer på oppfølgingen?" in text
    reg = opr_analysis.load_extract(small_extract)
    profile = proms.baseline_profile(reg)
    window = (YEARS[0], YEARS[-1])  # the report's outcome window: the years it shows
    rates = proms.improvement_rates(reg, as_of=AS_OF, window=window)
    changes = proms.change_summary(reg, as_of=AS_OF, window=window)
    expected = {
        "prom_baseline_profile": pt.baseline_profile_cells(profile, YEAR),
        "prom_improvement": pt.improvement_cells(rates),
        "prom_change": pt.change_summary_cells(changes),
    }
    for name, cells in expected.items():
        assert _html_rows(soup, name) == _expected(cells), name
    # two cells checked by hand against the row-level data, in Norwegian form
    base = proms.baseline_scores(reg)
    responses = int((base["year"] == YEAR).sum())
    assert responses >= 5 and _html_rows(soup, "prom_baseline_profile")[0] == [
        "Antall besvarelser",
        *[
            f"{n:,}".replace(",", "\u00a0")
            for n in (
                int(((base["year"] == YEAR) & (base["sex"] == "K")).sum()),
                int(((base["year"] == YEAR) & (base["sex"] == "M")).sum()),
                responses,
            )
        ],
    ]
    po = proms.paired_outcomes(reg, as_of=AS_OF)
    po = po[po["year"].between(*window) & (po["due_date"] <= pd.Timestamp(AS_OF))]
    rf12 = po[po["first_answer"] & (po["kind"] == "rf_12m")]["nrs_improved_30"].dropna()
    row = next(r for r in _html_rows(soup, "prom_improvement") if r[0] == tie("RF, 12 måneder"))  # NRS group first
    assert row[1] == (str(len(rf12)) if len(rf12) >= 5 else "<5")
    model = models.nonresponse_model(reg, as_of=AS_OF, window=window)
    if pt.model_is_reportable(model):
        assert _html_rows(soup, "prom_nonresponse") == _expected(pt.nonresponse_model_cells(model))
    else:
        assert soup.find(id="opr-prom_nonresponse") is None and "for få besvarte eller ubesvarte" in text


@pytest.mark.slow
def test_prom_chapter_is_skipped_with_one_sentence_without_answers(small_extract, tmp_path):
    extract = tmp_path / "uten_svar"
    shutil.copytree(small_extract, extract)
    for name in ("baseline_answers", "followup_answers"):
        for p in extract.glob(f"{name}.*"):
            p.unlink()
    # Without Quarto (conftest hides it from tests not marked quarto) a PDF cannot be made: the run writes
    # the fallback HTML, then says so and fails. Quarto's outputs are tested in test_report_quarto.py.
    out = tmp_path / "o"
    with pytest.raises(pipeline.FormatsNotMade, match="PDF ble ikke laget") as failed:
        pipeline.run_report(extract, as_of=AS_OF, formats=["html", "pdf"], out=out, log=lambda s: None)
    run = failed.value.run
    assert [p.name for p in run.files] == [f"arsrapport-{YEAR}.html", f"arsrapport-{YEAR}-tabeller.xlsx"]
    assert (out / "manifest.json").is_file() and run.manifest["formats"] == ["html", "pdf"]
    soup = BeautifulSoup(run.files[0].read_text(encoding="utf-8"), "html.parser")
    text = soup.get_text(" ")
    assert "Pasientrapporterte utfall (PROM)" in text and "Uttrekket har ingen svar på spørreskjemaene" in text
    assert not [t for t in soup.select("div[id^=opr-prom_]")] and "Hvem svarer på oppfølgingen?" not in text
    assert "Traceback" not in text
