"""``opr report`` as a process: concurrent runs, identical re-runs, SIGTERM halfway, planted identity number.

Each run is a real ``python -m opr_analysis report`` subprocess on a small
synthetic extract, so the signal handling, the papermill kernel and the
temporary-folder swap are exercised exactly as a user meets them.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import nbformat
import psutil
import pytest
from conftest import report_command

from opr_analysis.report.pipeline import NOTEBOOK, ROOT, TEXTS
from opr_analysis.safety.nin import make_valid_nin
from opr_analysis.safety.owned import write_marker

pytestmark = pytest.mark.slow


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


#: One stderr line that is benign and not ours: jupyter_client interrupts the kernel (SIGINT) before every
#: shutdown, and ipykernel logs it when the signal lands while it is idle; it depends on timing (seen under load).
BENIGN = "[IPKernelApp] ERROR | KeyboardInterrupt caught in kernel."


def _ours(stderr: str) -> str:
    """``stderr`` without the benign kernel line."""
    return "".join(line for line in stderr.splitlines(keepends=True) if line.strip() != BENIGN)


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def data_view(snapshot: dict[str, bytes]) -> dict[str, object]:
    """What a report run computed, without what legitimately differs between runs.

    The HTML and every CSV (quarantine) compare byte for byte; the executed
    notebook compares by its cells' sources and outputs (papermill's timing
    metadata dropped, and the ``text/plain`` fallback of rich outputs, a Python
    repr with memory addresses and set order, never shown); the manifest without
    its time stamp and timings.
    """
    view: dict[str, object] = {}
    for name, data in snapshot.items():
        if name.endswith(".ipynb"):
            nb = nbformat.reads(data.decode("utf-8"), as_version=4)
            for cell in nb.cells:
                for out in cell.get("outputs", []):
                    data = out.get("data", {})
                    if len(data) > 1:
                        data.pop("text/plain", None)
            view[name] = [(c.cell_type, c.source, c.get("outputs", [])) for c in nb.cells]
        elif name == "manifest.json":
            manifest = json.loads(data)
            for key in ("created", "timings_seconds"):
                manifest.pop(key)
            view[name] = manifest
        else:
            view[name] = data
    return view


@pytest.fixture(scope="module")
def extract(synthetic_extract):
    """The run's shared synthetic registry (tests/conftest.py: ``opr synth --scale 0.3 --years 2021-2024``)."""
    return synthetic_extract


def test_two_concurrent_runs_both_succeed_with_identical_data(concurrent_reports):
    """The two runs of tests/conftest.py's ``concurrent_reports``: started together, into different folders of
    one parent (the extract cache on, as a user runs them; tests/test_cache.py reads the same runs)."""
    parent, results = concurrent_reports.parent, concurrent_reports.results
    before, after = concurrent_reports.before, concurrent_reports.after
    for status, stdout, stderr in results:
        assert status == 0, stderr
        # No kernel warnings: one line per step on stdout, nothing else (but the benign kernel line, _ours).
        assert _ours(stderr) == ""
        # validate, placeholder warning, execute, «Quarto finnes ikke», render, workbook, summary
        lines = stdout.strip().splitlines()
        assert len(lines) == 7 and lines[1].startswith("Advarsel:") and lines[5].startswith("Skrev tabellene")
    assert sorted(p.name for p in parent.iterdir()) == ["a", "b"]  # no temporary folder left
    a, b = _snapshot(parent / "a"), _snapshot(parent / "b")
    assert {"arsrapport-2024.html", "manifest.json", f"build/{NOTEBOOK.name}"} <= set(a)
    view_a, view_b = data_view(a), data_view(b)
    assert view_a["manifest.json"]["parameters"] == view_b["manifest.json"]["parameters"]
    assert [n for n in view_a if view_a[n] != view_b.get(n)] == []
    assert a["arsrapport-2024.html"] == b["arsrapport-2024.html"]
    assert after == before  # the kernel's working folder notebooks/ is not written to


def _kernel_children(pid: int) -> list[psutil.Process]:
    try:
        return [c for c in psutil.Process(pid).children(recursive=True) if "ipykernel" in " ".join(c.cmdline())]
    except psutil.NoSuchProcess:
        return []


def _wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")


def _previous_report(folder: Path) -> Path:
    """An earlier run's output (its content does not matter: it must survive byte for byte)."""
    (folder / "build").mkdir(parents=True)
    (folder / "arsrapport-2024.html").write_text("<html><body>Forrige rapport</body></html>\n", encoding="utf-8")
    (folder / "manifest.json").write_text('{"created": "2025-01-01T00:00:00+01:00"}\n', encoding="utf-8")
    (folder / "build" / NOTEBOOK.name).write_text("{}\n", encoding="utf-8")
    write_marker(folder, "report")  # as opr report marks its output
    return folder


def test_sigterm_during_notebook_execution_keeps_previous_output(extract, tmp_path):
    parent = tmp_path / "site"
    _previous_report(parent / "out")
    previous = _snapshot(parent / "out")
    proc = subprocess.Popen(
        report_command(extract, parent / "out"),
        env=_env(),
        cwd=ROOT,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        # the temporary folder (papermill writes the executed notebook into build/ only when it is done)
        _wait_for(lambda: list(parent.glob(".out.opr-tmp-*")), 60, "the temporary folder")
        kernels = _wait_for(lambda: _kernel_children(proc.pid), 60, "the notebook kernel")
        connection = [a for a in kernels[0].cmdline() if a.endswith("kernel.json")]
        kernel_dir = Path(connection[0]).parent  # ... -f <private folder>/kernel.json
        assert kernel_dir.name.startswith("opr-kernel-")
        time.sleep(1.0)  # the first cells are running
        assert proc.poll() is None, "the run ended before it could be stopped"
        proc.send_signal(signal.SIGTERM)
        status = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    _, stderr = proc.communicate()
    assert status == 128 + signal.SIGTERM, stderr
    assert stderr.strip().splitlines()[-1] == "opr report: avbrutt (SIGTERM); ingen halvferdige filer er lagt igjen"
    assert "Traceback" not in stderr
    assert _snapshot(parent / "out") == previous  # byte for byte
    assert [p.name for p in parent.iterdir()] == ["out"]  # no partial output, no temporary folder
    psutil.wait_procs(kernels, timeout=10)
    assert not any(k.is_running() for k in kernels)
    assert not kernel_dir.exists()


def test_identity_number_in_a_report_text_stops_the_run(extract, tmp_path):
    texts = tmp_path / "texts"
    shutil.copytree(TEXTS, texts, ignore=shutil.ignore_patterns("extracts"))
    nin = make_valid_nin("010190")
    with open(texts / "forord.md", "a", encoding="utf-8") as fh:
        fh.write(f"\nKontakt pasient {nin} for spørsmål.\n")
    parent = tmp_path / "site"
    _previous_report(parent / "out")
    previous = _snapshot(parent / "out")
    done = subprocess.run(
        # without the PROM chapter (a sixth less work): the number is planted in the foreword
        report_command(extract, parent / "out", "--texts", str(texts), "--no-proms"),
        env=_env(),
        cwd=ROOT,
        text=True,
        capture_output=True,
        timeout=300,
    )
    assert done.returncode == 1
    stderr = _ours(done.stderr)
    assert stderr.startswith("opr report: ")
    # found in the text itself, before the notebook runs, and the file named
    assert "forord.md inneholder et fødselsnummer; ingenting er levert" in stderr
    assert "Kjørte notatboken" not in done.stdout + done.stderr
    assert nin not in done.stderr + done.stdout
    assert _snapshot(parent / "out") == previous
    assert [p.name for p in parent.iterdir()] == ["out"]


def test_identity_number_the_notebook_writes_stops_the_run(extract, tmp_path, monkeypatch):
    """What the texts cannot show: a number that appears only in the executed notebook (the data put it on a
    page). The finished report is scanned before it replaces the previous one. The kernel is replaced by a
    notebook written directly (in-process, no kernel): the scan, not the notebook, is under test."""
    from opr_analysis import IdentifiableDataError
    from opr_analysis.report import pipeline

    nin = make_valid_nin("010190")

    def executed_with_a_number(reg, plan, executed, handover=None):  # no kernel, so no hand-over file either
        executed.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(f"Pasient {nin}")]), executed)

    monkeypatch.setattr(pipeline, "execute_report", executed_with_a_number)
    parent = tmp_path / "site"
    _previous_report(parent / "out")
    previous = _snapshot(parent / "out")
    with pytest.raises(IdentifiableDataError, match="inneholder et fødselsnummer; ingenting er levert") as err:
        pipeline.run_report(extract, as_of=None, formats=["html"], out=parent / "out", log=lambda s: None)
    assert f"build/{NOTEBOOK.name}" in str(err.value) or ".html" in str(err.value)
    assert nin not in str(err.value)
    assert _snapshot(parent / "out") == previous
    assert [p.name for p in parent.iterdir()] == ["out"]
