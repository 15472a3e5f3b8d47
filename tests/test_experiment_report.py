"""The report's experiment chapter: absent (the report notebook itself) without allocations,
inserted before the data-quality chapter with them."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from helpers import make_extract
from test_experiment import _rf_patients

from opr_analysis.experiment.chapter import CHAPTER_CELLS, experiment_chapter, report_template
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
    new = [i for i, _ in CHAPTER_CELLS]
    at = ids.index(new[0])
    assert nb.cells[at + len(new)].source.startswith("# Datakvalitet")
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
    text = experiment_chapter(reg, texts, "2025-12-31")
    assert "## kort-skjema-2025 (forfall 01.01.2025–30.06.2025)" in text
    assert "| Randomisert (pasienter) | 1 | 1 |" in text
    assert "## ukjent-forsok" in text and "finnes ikke" in text
    assert "**Konklusjon:**" in text


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
