"""Fixtures every test gets, and the check that the suite leaves the repository as it found it.

Hermetic tests (issue 22): no test writes outside pytest's temporary folders.

- ``_private_state`` (autouse, every test): the key store (``OPR_KEY_DIR``), and with it the
  delivery log (``delivery-log.csv`` next to the key store, :func:`opr_analysis.extracts.delivery.default_log`),
  and the lock folder (``OPR_LOCK_DIR``) point into a fresh temporary folder of the test; keys from
  the user's environment (``OPR_EXTRACT_KEY*``, ``OPR_REGISTER_KEY``) are removed. The folder is a sibling of
  ``tmp_path``, not inside it: opr refuses to write into a folder that holds the key store, and
  many tests write their output straight into ``tmp_path``. The ``opr_store`` fixture names it.
- ``_session_temp`` (autouse, once per worker): ``TMPDIR`` and :data:`tempfile.tempdir` point
  under pytest's base temporary folder, so scratch folders of the code under test and of the
  processes it starts (notebook kernels, an example delivery) are removed with pytest's own.
- hypothesis keeps no example database, and its caches go to a temporary folder of the process,
  removed when it ends (by default it writes ``.hypothesis/`` into the repository).
- ``pytest_sessionstart``/``pytest_sessionfinish``: every file of the repository (outside
  ``.git``, ``.venv`` and caches) is listed with its size and modification time before the run;
  a run that added, removed or changed one fails and names it.

Speed (``make test`` within 5 minutes on 2 cores): what several tests need is built once per
test run and shared by both xdist workers (:func:`shared_folder`: the first worker builds under a
file lock, the other waits and reuses). ``synthetic_extract`` is the synthetic registry of the
end-to-end tests; ``synthetic_reg`` is it loaded (once per worker). ``make test`` hands out whole
files (``--dist loadfile``), so a module fixture is built by one worker, and the slow files first
(:func:`pytest_collection_modifyitems`).
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from filelock import FileLock
from hypothesis import settings
from hypothesis.configuration import set_hypothesis_home_dir

# Test helpers (helpers, broken_corpus) live beside the tests.
sys.path.insert(0, str(Path(__file__).parent))

from helpers import write_base_extract  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

settings.register_profile("opr", database=None)
settings.load_profile("opr")
# Hypothesis caches what it learns about the code (e.g. its constants) under .hypothesis/ of the working
# folder, and it does so while tests are collected, before any fixture runs: a folder of this process.
_HYPOTHESIS_HOME = tempfile.mkdtemp(prefix="opr-tests-hypothesis-")
set_hypothesis_home_dir(_HYPOTHESIS_HOME)
atexit.register(shutil.rmtree, _HYPOTHESIS_HOME, ignore_errors=True)


@dataclass(frozen=True)
class OprStore:
    """Where a test's key store, delivery log and locks live (see the module docstring)."""

    keys: Path
    log: Path
    locks: Path


@pytest.fixture(scope="session", autouse=True)
def _session_temp(tmp_path_factory):
    """Temporary files of the code under test (and of its child processes) under pytest's base folder."""
    folder = tmp_path_factory.getbasetemp() / "tmp"
    folder.mkdir(exist_ok=True)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TMPDIR", str(folder))
        mp.setattr(tempfile, "tempdir", str(folder))
        yield folder


@pytest.fixture(autouse=True)
def _private_state(tmp_path_factory, monkeypatch) -> OprStore:
    store = tmp_path_factory.mktemp("opr-store")
    for var in list(os.environ):
        if var.startswith(("OPR_EXTRACT_KEY", "OPR_REGISTER_KEY")):  # and the delivery register's (issue 26)
            monkeypatch.delenv(var)
    monkeypatch.setenv("OPR_KEY_DIR", str(store / "keys"))
    monkeypatch.setenv("OPR_LOCK_DIR", str(store / "locks"))
    return OprStore(keys=store / "keys", log=store / "delivery-log.csv", locks=store / "locks")


@pytest.fixture
def opr_store(_private_state) -> OprStore:
    """The key store, delivery log and lock folder this test's runs use by default."""
    return _private_state


from opr_analysis.report.pipeline import find_quarto  # noqa: E402

#: The Quarto this session may use (``QUARTO_PATH`` or ``quarto`` on PATH), found before any test hides it.
QUARTO = find_quarto()
NO_QUARTO = os.path.join(os.sep, "nonexistent", "quarto")


@pytest.fixture(scope="session", autouse=True)
def _no_quarto_unless_asked():
    """No test sees Quarto through the environment, module- and session-scoped report fixtures included:
    every report test (and each `opr report` it starts) uses the nbconvert fallback, so the fallback stays
    tested on machines that have Quarto. The tests marked ``quarto`` pass :data:`QUARTO` explicitly."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("QUARTO_PATH", NO_QUARTO)
        yield


@pytest.fixture(autouse=True)
def no_extract_cache(monkeypatch):
    """Tests read their extracts afresh: the validated-extract cache (extract/cache.py) would write beside
    each test's folder, outside its tmp_path, and a second load would not exercise the reader. The cache's
    own tests switch it on with a folder inside their tmp_path."""
    monkeypatch.setenv("OPR_CACHE", "0")


@pytest.fixture
def extract(tmp_path):
    """The valid base extract as CSV."""
    return write_base_extract(tmp_path)


# --- built once per test run, shared by every worker -----------------------------------------


def shared_folder(tmp_path_factory, name: str, build: Callable[[Path], object]) -> Path:
    """The folder ``name``, made by ``build(folder)`` once per test run and shared by all tests.

    With pytest-xdist every worker has its own base temporary folder inside the run's; the
    shared folders lie in the run's, and a file lock lets the first worker build while the other
    waits. Tests only read a shared folder (copy it to change it).
    """
    base = tmp_path_factory.getbasetemp()
    root = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "shared"
    root.mkdir(parents=True, exist_ok=True)
    folder, done = root / name, root / f"{name}.done"
    with FileLock(str(root / f"{name}.lock")):
        if not done.is_file():
            if folder.exists():  # a build that failed halfway
                shutil.rmtree(folder)
            build(folder)
            done.touch()
    return folder


def _synth(folder: Path, *args: str) -> None:
    from opr_analysis import cli

    assert cli.main(["synth", "--out", str(folder), *args]) == 0


@pytest.fixture(scope="session")
def synthetic_extract(tmp_path_factory) -> Path:
    """``opr synth --scale 0.3 --years 2021-2024``: the synthetic registry for end-to-end tests (reports,
    notebooks, audits), written once per run. Read-only."""
    return shared_folder(
        tmp_path_factory, "synthetic-0.3", lambda f: _synth(f, "--scale", "0.3", "--years", "2021-2024")
    )


@pytest.fixture(scope="session")
def synthetic_reg(synthetic_extract):
    """:func:`~opr_analysis.load_extract` of :func:`synthetic_extract`, once per worker. Read-only."""
    from opr_analysis import load_extract

    return load_extract(synthetic_extract)


@pytest.fixture(scope="session")
def hand_corpus(tmp_path_factory):
    """:func:`broken_corpus.build_corpus` over the hand-made base extract (``write_base_extract``), built once
    per run for tests/test_broken_corpus.py and tests/test_cache.py: its ``Case`` records. Read-only."""
    import pickle

    from broken_corpus import build_corpus

    def build(folder: Path) -> None:
        cases = build_corpus(write_base_extract(folder, name="base"), folder / "broken")
        (folder / "cases.pickle").write_bytes(pickle.dumps(cases))

    folder = shared_folder(tmp_path_factory, "broken-corpus-hand", build)
    return pickle.loads((folder / "cases.pickle").read_bytes())


#: The report the shared runs make: ``opr report --as-of 2025-03-01 --formats html`` (see :func:`concurrent_reports`).
REPORT_AS_OF = "2025-03-01"


def report_command(extract: Path, out: Path, *extra: str) -> list[str]:
    """``python -m opr_analysis report`` on ``extract`` into ``out`` (as of :data:`REPORT_AS_OF`, HTML only)."""
    return [sys.executable, "-m", "opr_analysis", "report", "--extract", str(extract), "--as-of", REPORT_AS_OF,
            "--formats", "html", "--out", str(out), *extra]  # fmt: skip


def notebooks_folder_state() -> dict[str, float]:
    """Every path under ``notebooks/`` (the kernels' working folder) with its modification time."""
    folder = ROOT / "notebooks"
    return {p.relative_to(folder).as_posix(): p.stat().st_mtime for p in folder.rglob("*")}


@dataclass(frozen=True)
class ConcurrentReports:
    """Two ``opr report`` processes started together (:func:`concurrent_reports`)."""

    extract: Path  # data/uttrekk: a copy of synthetic_extract; the cache lies beside it, in data/.opr-cache
    parent: Path  # holds only a/ and b/, the two runs' output folders
    results: list  # [status, stdout, stderr] per run
    before: dict  # notebooks_folder_state() before and after the runs
    after: dict


@pytest.fixture(scope="session")
def concurrent_reports(tmp_path_factory, synthetic_extract) -> ConcurrentReports:
    """Two ``opr report`` runs (:func:`report_command`) at the same time on a copy of ``synthetic_extract``, into
    different folders of one parent, once per test run. Both as a user starts them: the validated-extract
    cache on, at its default place beside the extract (no other run uses that copy); keys and locks in the
    shared folder. Read by tests/test_report_runs.py (concurrency) and tests/test_cache.py (the report and
    the cache). Read-only."""
    import subprocess

    def build(folder: Path) -> None:
        extract = folder / "data" / "uttrekk"
        shutil.copytree(synthetic_extract, extract)
        parent = folder / "runs"
        parent.mkdir()
        env = {**os.environ, "PYTHONPATH": str(ROOT), "OPR_KEY_DIR": str(folder / "keys"),
               "OPR_LOCK_DIR": str(folder / "locks")}  # fmt: skip
        for var in ("OPR_CACHE", "OPR_CACHE_DIR"):
            env.pop(var, None)
        before = notebooks_folder_state()
        procs = [
            subprocess.Popen(
                report_command(extract, parent / name),
                env=env,
                cwd=ROOT,
                text=True,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )  # fmt: skip
            for name in ("a", "b")
        ]
        results = [[p.wait(timeout=300), *p.communicate()] for p in procs]
        state = {"results": results, "before": before, "after": notebooks_folder_state()}
        (folder / "runs.json").write_text(json.dumps(state), encoding="utf-8")

    folder = shared_folder(tmp_path_factory, "concurrent-reports", build)
    state = json.loads((folder / "runs.json").read_text(encoding="utf-8"))
    return ConcurrentReports(folder / "data" / "uttrekk", folder / "runs", state["results"], state["before"],
                             state["after"])  # fmt: skip


#: Unit names a hostile registry could send (issue 23): HTML, Markdown, Quarto cross-references, maths and a
#: heading. u2's ends with a one-letter word, which the report ties to the word before it.
HOSTILE_UNIT_NAMES = {
    "ous": "<img src=x onerror=alert(1)>",
    "u2": "Klinikk [klikk](javascript:alert(2)) <svg onload=alert(2)> <javascript:alert(22)> A",
    "u3": "<iframe src=javascript:alert(3)></iframe> **fet** @fig-traktplott $x$ {year}\n# Overskrift",
}


@dataclass(frozen=True)
class UnitReport:
    """``opr report --unit u2 --formats html --as-of 2025-03-01`` of three synthetic units (:func:`unit_report`)."""

    extract: Path
    out: Path
    manifest: dict
    files: list  # the report's files as the run named them (manifest «outputs_sha256»)


@pytest.fixture(scope="session")
def unit_report(tmp_path_factory) -> UnitReport:
    """One unit's report of an extract with three units named :data:`HOSTILE_UNIT_NAMES`
    (``synthesize_units(3, seed=11, scale=0.3, years=(2021, 2024))``), once per test run: read by
    tests/test_report_units.py (the unit's numbers) and tests/test_report_hostile_names.py (no live markup).
    Read-only."""

    def build(folder: Path) -> None:
        from opr_analysis import cli
        from opr_analysis.synth.registry import write_tables
        from opr_analysis.synth.units import synthesize_units

        tables = synthesize_units(3, seed=11, scale=0.3, years=(2021, 2024))
        names = tables["units"]["unit_id"].map(HOSTILE_UNIT_NAMES)
        tables["units"] = tables["units"].assign(name=names.astype("string"))
        write_tables(tables, folder / "uttrekk")
        argv = ["report", "--extract", str(folder / "uttrekk"), "--out", str(folder / "rapport"),
                "--as-of", REPORT_AS_OF, "--formats", "html", "--unit", "u2"]  # fmt: skip
        assert cli.main(argv) == 0

    folder = shared_folder(tmp_path_factory, "unit-report-u2", build)
    manifest = json.loads((folder / "rapport" / "manifest.json").read_text(encoding="utf-8"))
    files = [folder / "rapport" / name for name in manifest["outputs_sha256"]]
    return UnitReport(folder / "uttrekk", folder / "rapport", manifest, files)


# --- order: the slow modules first ---------------------------------------------------------------


def pytest_collection_modifyitems(config, items):
    """Modules with a ``slow`` test run first, each module's tests together and in their order.

    ``make test`` hands out whole files to the two workers (``--dist loadfile``, so a module's
    fixtures are built by one worker only) in this order: the long notebook and report runs start
    first and the many quick tests fill the end, so neither worker waits for the other at the end.
    (``--dist loadgroup`` would group by ``xdist_group`` marks, but pytest-xdist 3.8 cannot rename
    pytest 9's node ids, so it silently distributed test by test.)
    """
    slow = {item.module.__name__ for item in items if item.get_closest_marker("slow") and hasattr(item, "module")}
    items.sort(key=lambda item: getattr(getattr(item, "module", None), "__name__", None) not in slow)


# --- the repository is left as it was ------------------------------------------------------

# Folders whose contents may change during a run without anything being wrong: version control,
# the environment, and the caches of Python, pytest and ruff.
_SKIP_DIRS = {".git", ".venv", "__pycache__", ".pytest_cache", ".ruff_cache"}


def repository_files(root: Path = ROOT) -> dict[str, tuple[int, int]]:
    """Every file under ``root`` (relative path -> size and modification time), caches left out."""
    out = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in _SKIP_DIRS and not d.endswith(".egg-info")]
        for name in files:
            path = Path(folder) / name
            try:
                st = path.lstat()
            except FileNotFoundError:  # removed while we walked: it will show as removed
                continue
            out[path.relative_to(root).as_posix()] = (st.st_size, st.st_mtime_ns)
    return out


def tree_changes(before: dict, after: dict) -> list[str]:
    """Lines naming each file added, removed or changed between two :func:`repository_files`."""
    lines = [f"added: {p}" for p in sorted(after.keys() - before.keys())]
    lines += [f"removed: {p}" for p in sorted(before.keys() - after.keys())]
    lines += [f"changed: {p}" for p in sorted(before.keys() & after.keys()) if before[p] != after[p]]
    return lines


def _is_controller(config) -> bool:
    return not hasattr(config, "workerinput")  # pytest-xdist workers carry workerinput


def pytest_sessionstart(session):
    if _is_controller(session.config):
        session.config.stash[_TREE] = repository_files()


def pytest_sessionfinish(session, exitstatus):
    before = session.config.stash.get(_TREE, None)
    if before is None:
        return
    changes = tree_changes(before, repository_files())
    if changes:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        text = "\nThe test run changed the repository (tests write only into their temporary folders):\n  "
        text += "\n  ".join(changes)
        if reporter is not None:
            reporter.write_line(text, red=True)
        else:
            print(text, file=sys.stderr)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


_TREE = pytest.StashKey[dict]()


@pytest.fixture
def keys(tmp_path, monkeypatch):
    """A key store of the test's own for research deliveries, with no master key from the environment
    (the tests of deliveries pass it as ``key_dir``)."""
    for var in list(os.environ):
        if var.startswith(("OPR_EXTRACT_KEY", "OPR_REGISTER_KEY")):
            monkeypatch.delenv(var)
    return tmp_path / "keys"
