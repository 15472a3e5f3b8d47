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
