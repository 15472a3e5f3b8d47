"""The report's experiment chapter: absent (the report notebook itself) without allocations,
inserted before the data-quality chapter with them."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import nbformat
import pytest
from helpers import make_extract
from test_experiment import _rf_patients

from opr_analysis.experiment import chapter, load_spec
from opr_analysis.experiment.chapter import chapter_cells, report_template
from opr_analysis.report.pipeline import NOTEBOOK

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "reports" / "experiments" / "examples" / "kort-skjema-2025.yaml"


def test_without_allocations_the_report_notebook_is_used_as_is(tmp_path):
    reg = make_extract(tmp_path / "x", patients=[{"patient_id": "P1"}])
    assert report_template(NOTEBOOK, reg, tmp_path) == NOTEBOOK
    assert list(tmp_path.glob("*.ipynb")) == []


def test_with_allocations_the_chapter_is_inserted_before_data_quality(tmp_path):
    alloc = [{"experiment_id": "kort-skjema-2025", "patient_id": "P1", "arm": "kort", "allocated_date": "2024-12-01"}]
    reg = make_extract(tmp_path / "x", patients=[{"patient_id": "P1"}], allocations=alloc)
    path = report_template(NOTEBOOK, reg, tmp_path)
    assert path != NOTEBOOK and path.parent == tmp_path
    base, nb = nbformat.read(NOTEBOOK, as_version=4), nbformat.read(path, as_version=4)
    ids = [c.id for c in nb.cells]
    new = [i for i, _ in chapter_cells(reg)]
    assert new == ["opr-experiment-chapter", *(f"opr-experiment-1-{p}" for p in ("text", "flow", "shares", "results"))]
    at = ids.index(new[0])
    assert nb.cells[at + len(new)].source.startswith("# Datakvalitet")
    # every table of the chapter is a captioned, labelled cell like the rest of the report
    sources = {c.id: c.source for c in nb.cells}
    assert sources["opr-experiment-1-flow"].startswith("#| label: tbl-forsok-1-flyt\n#| tbl-cap: ")
    assert sources["opr-experiment-1-shares"].startswith("#| label: tbl-forsok-1-svar\n#| tbl-cap: ")
    kept = [c for c in nb.cells if c.id not in new]
    assert [(c.id, c.source) for c in kept] == [(c.id, c.source) for c in base.cells]


def test_chapter_analyses_experiments_with_a_spec_and_names_the_others(tmp_path):
    texts = tmp_path / "texts"
    (texts / "experiments").mkdir(parents=True)
    shutil.copy(EXAMPLE, texts / "experiments" / EXAMPLE.name)
    patients, treatments = _rf_patients(4)
    alloc = [
        {"experiment_id": "kort-skjema-2025", "patient_id": "P0000", "arm": "kort", "allocated_date": "2024-10-01"},
        {"experiment_id": "kort-skjema-2025", "patient_id": "P0001", "arm": "full", "allocated_date": "2024-10-01"},
        {"experiment_id": "ukjent-forsok", "patient_id": "P0002", "arm": "full", "allocated_date": "2024-10-01"},
    ]
    reg = make_extract(tmp_path / "x", patients=patients, treatments=treatments, allocations=alloc)
    intro = chapter.chapter_intro(reg, texts)
    assert intro.startswith("# Forsøk med kort oppfølgingsskjema") and "ukjent-forsok" in intro and "finnes" in intro
    section = chapter.section_markdown(reg, texts, "2025-12-31", "kort-skjema-2025")
    # the heading is the experiment's title, not its file name; without a title, what is compared and when
    assert section.startswith("## Kort eller fullt oppfølgingsskjema, første halvår 2025\n")
    untitled = dataclasses.replace(load_spec(EXAMPLE), title=None)
    assert chapter.experiment_title(untitled) == "Kort eller fullt oppfølgingsskjema, forfall 01.01.2025–30.06.2025"
    hostile = dataclasses.replace(untitled, title="<img src=x onerror=alert(1)>")
    assert "<img" not in chapter.experiment_title(hostile)
    assert "kort-skjema-2025" not in section.splitlines()[0]
    flow = chapter.flow_cells(chapter.result_of(reg, texts, "2025-12-31", "kort-skjema-2025"), min_cell=1)
    assert flow.set_index("step").loc["allocated", ["Fullt skjema", "Kort skjema", "I alt"]].tolist() == ["1", "1", "2"]
    # with the report's min_cell, one patient per arm is hidden, and so is every share resting on it
    hidden = chapter.flow_cells(chapter.result_of(reg, texts, "2025-12-31", "kort-skjema-2025"), min_cell=5)
    assert hidden.set_index("step").loc["allocated", "Fullt skjema"] == "×"
    shares = chapter.share_cells(chapter.result_of(reg, texts, "2025-12-31", "kort-skjema-2025"), min_cell=5)
    assert (shares["full_share"] == "–").all() and (shares["kort_share"] == "–").all()
    text = chapter.results_markdown(reg, texts, "2025-12-31", "kort-skjema-2025")
    assert "for få pasienter" in text and "Konklusjon" not in text
    assert chapter.section_markdown(reg, texts, "2025-12-31", "ukjent-forsok") == ""
    assert chapter.flow_table(reg, texts, "2025-12-31", "ukjent-forsok") is None


def test_chapter_tables_have_source_notes_and_left_aligned_labels(tmp_path):
    from bs4 import BeautifulSoup

    texts = tmp_path / "texts"
    (texts / "experiments").mkdir(parents=True)
    shutil.copy(EXAMPLE, texts / "experiments" / EXAMPLE.name)
    patients, treatments = _rf_patients(12)
    alloc = [
        {"experiment_id": "kort-skjema-2025", "patient_id": f"P{i:04d}", "arm": "kort" if i % 2 else "full",
         "allocated_date": "2024-10-01"}
        for i in range(12)
    ]  # fmt: skip
    reg = make_extract(tmp_path / "x", patients=patients, treatments=treatments, allocations=alloc)
    for table in (chapter.flow_table(reg, texts, "2025-12-31", "kort-skjema-2025", 1),
                  chapter.share_table(reg, texts, "2025-12-31", "kort-skjema-2025", 1)):  # fmt: skip
        soup = BeautifulSoup(table.as_raw_html(), "html.parser")
        assert "Kilde: OUS smerteregister" in soup.get_text()
        for row in soup.select("tbody tr"):
            first = row.find_all(["th", "td"])[0]
            assert "gt_left" in first["class"]  # labels left-aligned, never justified


@pytest.mark.slow
@pytest.mark.xdist_group("research_notebooks")
def test_response_experiment_notebook_runs_and_shows_the_package_result(tmp_path):
    """The notebook executes under papermill; its key number equals the package's."""
    from helpers import run_notebook

    from opr_analysis import load_extract
    from opr_analysis.experiment import analyse, load_spec
    from opr_analysis.synth.experiment import experiment_generators
    from opr_analysis.synth.registry import synthesize, write_tables

    spec = load_spec(EXAMPLE)
    reg = synthesize(seed=8, scale=0.3, generators=experiment_generators(spec, 0.1, answers=False))
    extract = write_tables(reg.tables, tmp_path / "extract")
    nb = run_notebook(
        "response_experiment", tmp_path / "run.ipynb", extract=str(extract), spec_path=str(EXAMPLE), as_of="2025-12-31"
    )
    key = next(c for c in nb.cells if "key" in c.metadata.get("tags", []))
    res = analyse(load_extract(extract), spec, "2025-12-31")
    expected = int(res.flow.set_index("step").loc["allocated", ["full", "kort"]].sum())
    assert int(key.outputs[0]["data"]["text/plain"]) == expected > 50


def test_v1_extract_counts_and_quality_do_not_mention_the_experiment_parts(tmp_path):
    from opr_analysis.stats.quality import quality_missing

    plain = make_extract(tmp_path / "a", patients=[{"patient_id": "P1"}], followups=[{"patient_id": "P1"}])
    assert "allocations" not in plain.report.counts()["table"].tolist()
    assert "variant" not in set(quality_missing(plain)["column"])
    alloc = [{"experiment_id": "e1", "patient_id": "P1", "arm": "kort", "allocated_date": "2024-12-01"}]
    with_alloc = make_extract(tmp_path / "b", patients=[{"patient_id": "P1"}], allocations=alloc)
    counts = with_alloc.report.counts().set_index("table")
    assert counts.loc["allocations", ["rows_read", "rows_used", "rows_quarantined"]].tolist() == [1, 1, 0]


@pytest.mark.slow
@pytest.mark.xdist_group("research_notebooks")
def test_report_with_an_experiment_shows_captioned_tables_and_an_interim_label(tmp_path):
    """The annual report of an extract with allocations: the chapter's heading is the experiment's title, its
    two tables are numbered «Tabell N» with source notes, and an interim look says so."""
    import datetime as dt

    from bs4 import BeautifulSoup

    from opr_analysis.experiment import load_spec
    from opr_analysis.report import pipeline
    from opr_analysis.synth.experiment import experiment_generators
    from opr_analysis.synth.registry import synthesize, write_tables

    reg = synthesize(seed=8, scale=0.3, years=(2021, 2025),
                     generators=experiment_generators(load_spec(EXAMPLE), 0.1, answers=False))  # fmt: skip
    extract = write_tables(reg.tables, tmp_path / "extract")
    texts = tmp_path / "texts"
    shutil.copytree(ROOT / "reports", texts)
    run = pipeline.run_report(
        extract, year=2024, as_of=dt.date(2025, 6, 15), formats=["html"], out=tmp_path / "o", texts_dir=texts,
        include_proms=False, log=lambda s: None,
    )  # fmt: skip
    html = next(p for p in run.files if p.suffix == ".html").read_text(encoding="utf-8")
    soup = BeautifulSoup(html, "html.parser")
    text = soup.get_text(" ").replace("\u00a0", " ").replace("\u2060", "")  # typography's no-break joins
    assert "Kort eller fullt oppfølgingsskjema, første halvår 2025" in text
    assert "Foreløpig gjennomgang, ikke endelig resultat." in text and "planlagte pasienter" in text
    captions = [c.get_text(" ").replace("\u00a0", " ") for c in soup.find_all("caption")]
    assert any("Pasientflyt i forsøket" in c and c.startswith("Tabell ") for c in captions)
    assert any("Svar innen fristen per gruppe" in c and c.startswith("Tabell ") for c in captions)
    for table_id in ("opr-experiment-flow-kort-skjema-2025", "opr-experiment-kort-skjema-2025"):
        assert "Kilde: OUS smerteregister" in soup.find(id=table_id).get_text(" ")
