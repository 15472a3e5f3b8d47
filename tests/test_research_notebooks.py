"""The researcher notebooks execute under papermill on a small synthetic extract, and the key
number each shows equals the package function's result."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from helpers import run_notebook

from opr_analysis import load_extract, models, proms, write_synthetic

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ["baseline_profile", "outcomes", "nonresponse", "prognostic_factors", "implants"]
AS_OF = "2025-12-31"

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("research_notebooks")]


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """Write a scale-0.2 extract and run the notebooks (one kernel each), once for the module."""
    tmp = tmp_path_factory.mktemp("research_nb")
    extract = write_synthetic(tmp / "extract", scale=0.2)
    results = {}
    for name in NOTEBOOKS:
        out = tmp / f"{name}.ipynb"
        try:
            run_notebook(name, out, extract=str(extract), as_of=AS_OF)
            results[name] = (None, out)
        except Exception as exc:  # noqa: BLE001 - reported by the notebook's own test
            results[name] = (exc, out)
    return load_extract(extract), results


def _key(path: Path):
    nb = nbformat.read(path, as_version=4)
    cells = [c for c in nb.cells if "key" in c.metadata.get("tags", [])]
    assert len(cells) == 1
    return int(cells[0].outputs[0]["data"]["text/plain"])


def _ran(executed, name) -> Path:
    error, out = executed[1][name]
    assert error is None, str(error)[-3000:]
    return out


def test_parameters_cell_defaults_to_the_synthetic_registry():
    for name in NOTEBOOKS:
        nb = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
        first = next(c for c in nb.cells if c.cell_type == "code")
        assert "parameters" in first.metadata.get("tags", []), name
        assert 'extract = "data/synthetic"' in first.source, name


def test_baseline_profile_notebook(executed):
    out = _ran(executed, "baseline_profile")
    assert _key(out) == len(proms.baseline_scores(executed[0]))


def test_outcomes_notebook(executed):
    out = _ran(executed, "outcomes")
    rates = proms.improvement_rates(executed[0], as_of=AS_OF)
    expected = rates.query("kind == 'avsluttet_12m' and indicator == 'pgic_improved'")["improved"].item()
    assert _key(out) == expected > 0


def test_nonresponse_notebook(executed):
    out = _ran(executed, "nonresponse")
    assert _key(out) == models.nonresponse_model(executed[0], as_of=AS_OF)["n"].iloc[0]


def test_prognostic_factors_notebook(executed):
    out = _ran(executed, "prognostic_factors")
    assert _key(out) == models.prognostic_model(executed[0], as_of=AS_OF)["n"].iloc[0] >= 50


def test_implants_notebook(executed):
    from opr_analysis.stats.implants import implant_systems

    out = _ran(executed, "implants")
    assert _key(out) == len(implant_systems(executed[0], AS_OF)) > 0


def test_research_extract_notebook_runs_as_shipped_on_the_example_spec(tmp_path):
    """Run by hand (no delivery folder given), it documents an example delivery of the shipped spec."""
    extract = write_synthetic(tmp_path / "extract", scale=0.5)  # k-anonymity needs enough patients
    # from notebooks/, as JupyterLab runs it
    nb = run_notebook("research_extract", tmp_path / "research_extract.ipynb", cwd=ROOT / "notebooks",
                      example_extract=str(extract))  # fmt: skip
    html = "".join(o.get("data", {}).get("text/html", "") for c in nb.cells for o in c.get("outputs", []))
    assert "Kodebok" in html or "kodebok" in html
    assert "K (1) = Kvinne" in html  # numeric codes beside the labels
    assert "\u00a0%" in html and not re.search(r">0\.\d{3,}<", html)  # shares as Norwegian percentages
    assert "e+0" not in html  # no scientific notation
