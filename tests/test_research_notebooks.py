"""The researcher notebooks execute under papermill on a small synthetic extract, and the key
number each shows equals the package function's result."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from opr_analysis import load_extract, models, proms, write_synthetic

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ["baseline_profile", "outcomes", "nonresponse", "prognostic_factors", "implants"]
AS_OF = "2025-12-31"

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("research_notebooks")]


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """Write a scale-0.2 extract and run the notebooks in parallel (one kernel each)."""
    tmp = tmp_path_factory.mktemp("research_nb")
    extract = write_synthetic(tmp / "extract", scale=0.2)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    runs = {}
    for name in NOTEBOOKS:
        out = tmp / f"{name}.ipynb"
        cmd = [sys.executable, "-m", "papermill", "-k", "python3", "--log-level", "WARNING",
               str(ROOT / "notebooks" / f"{name}.ipynb"), str(out), "-p", "extract", str(extract),
               "-p", "as_of", AS_OF]  # fmt: skip
        runs[name] = (out, subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT))
    results = {}
    for name, (out, proc) in runs.items():
        log, _ = proc.communicate(timeout=300)
        results[name] = (proc.returncode, log.decode(errors="replace"), out)
    return load_extract(extract), results


def _key(path: Path):
    nb = nbformat.read(path, as_version=4)
    cells = [c for c in nb.cells if "key" in c.metadata.get("tags", [])]
    assert len(cells) == 1
    return int(cells[0].outputs[0]["data"]["text/plain"])


def _ran(executed, name) -> Path:
    code, log, out = executed[1][name]
    assert code == 0, log[-3000:]
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
    out = tmp_path / "research_extract.ipynb"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    cmd = [sys.executable, "-m", "papermill", "-k", "python3", "--log-level", "WARNING",
           str(ROOT / "notebooks" / "research_extract.ipynb"), str(out), "-p", "example_extract", str(extract)]  # fmt: skip
    done = subprocess.run(cmd, cwd=ROOT / "notebooks", env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    nb = nbformat.read(out, as_version=4)
    html = "".join(o.get("data", {}).get("text/html", "") for c in nb.cells for o in c.get("outputs", []))
    assert "Kodebok" in html or "kodebok" in html
    assert "K (1) = Kvinne" in html  # numeric codes beside the labels
    assert "\u00a0%" in html and not re.search(r">0\.\d{3,}<", html)  # shares as Norwegian percentages
    assert "e+0" not in html  # no scientific notation
