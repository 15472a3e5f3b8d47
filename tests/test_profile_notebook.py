"""The patient-profile notebook runs under papermill for a chosen patient, and shows what the package computes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from opr_analysis import load_extract, write_synthetic
from opr_analysis.profile import patient_enrolment, patient_profile, profile_context
from opr_analysis.profile.cells import change_tables
from opr_analysis.stats import proms

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "patient_profile.ipynb"
AS_OF = "2025-06-30"

pytestmark = [pytest.mark.slow]


def test_parameters_cell_names_the_patient_and_defaults_to_the_synthetic_registry():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    first = next(c for c in nb.cells if c.cell_type == "code")
    assert "parameters" in first.metadata.get("tags", [])
    assert 'extract = "data/synthetic"' in first.source and "patient_id = " in first.source


def test_notebook_shows_the_profile_of_the_patient_it_is_given(tmp_path):
    extract = write_synthetic(tmp_path / "extract", scale=0.2)
    reg = load_extract(extract)
    paired = proms.paired_outcomes(reg, AS_OF)
    patient = str(paired.loc[paired["paired"], "patient_id"].iloc[0])
    out = tmp_path / "patient_profile.ipynb"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    cmd = [sys.executable, "-m", "papermill", "-k", "python3", "--log-level", "WARNING", str(NOTEBOOK), str(out),
           "-p", "extract", str(extract), "-p", "patient_id", patient, "-p", "as_of", AS_OF]  # fmt: skip
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    ctx = profile_context(reg, AS_OF)
    p = patient_profile(ctx, patient_enrolment(ctx, patient))
    nb = nbformat.read(out, as_version=4)
    key = next(c for c in nb.cells if "key" in c.metadata.get("tags", []))
    assert int(key.outputs[0]["data"]["text/plain"]) == p.scores.set_index("column").at["nrs_avg", "reference_n"]
    html = "".join(o.get("data", {}).get("text/html", "") for c in nb.cells for o in c.get("outputs", []))
    assert patient in html and change_tables(p)[0]["header"][-1] in html
    assert any("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", []))
