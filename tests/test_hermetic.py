"""The test suite's own guarantees (tests/conftest.py): every test's key store, delivery log, locks
and temporary files lie in pytest's temporary folders, and a run that changes the repository fails."""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path

import pytest
from conftest import ROOT, repository_files, shared_folder, tree_changes

from opr_analysis.extracts.delivery import default_log
from opr_analysis.extracts.pseudonyms import default_key_dir
from opr_analysis.safety.owned import protected_folders


def test_key_store_delivery_log_and_locks_are_the_tests_own(opr_store, tmp_path):
    base = tmp_path.parent
    assert default_key_dir() == opr_store.keys and default_log() == opr_store.log.resolve()
    assert base in opr_store.keys.parents and ROOT not in opr_store.log.parents
    assert os.environ["OPR_LOCK_DIR"] == str(opr_store.locks)
    assert not any(k.startswith("OPR_EXTRACT_KEY") for k in os.environ)
    # outside tmp_path itself, so a test may write its output straight into tmp_path
    assert tmp_path not in opr_store.keys.parents
    assert all(tmp_path != folder for _, folder in protected_folders())


def test_temporary_files_go_under_pytests_base_folder(tmp_path_factory):
    base = tmp_path_factory.getbasetemp()
    assert Path(tempfile.gettempdir()).is_relative_to(base) and Path(os.environ["TMPDIR"]).is_relative_to(base)


def test_tree_changes_names_added_removed_and_changed_files(tmp_path):
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "b.txt").write_text("b")
    (tmp_path / ".venv").mkdir()
    before = repository_files(tmp_path)
    (tmp_path / "a.txt").write_text("aa")
    (tmp_path / "b.txt").unlink()
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.txt").write_text("c")
    (tmp_path / ".venv" / "ignored.txt").write_text("caches and the environment are left out")
    assert tree_changes(before, repository_files(tmp_path)) == ["added: sub/c.txt", "removed: b.txt", "changed: a.txt"]
    assert tree_changes(before, before) == []


def test_a_shared_folder_is_built_once_and_a_failed_build_again(tmp_path_factory):
    calls = []

    def build(folder):
        calls.append(folder)
        folder.mkdir()
        if len(calls) == 1:
            raise RuntimeError("halfway")
        (folder / "a.csv").write_text("x")

    name = f"probe-{uuid.uuid4().hex}"
    with pytest.raises(RuntimeError):
        shared_folder(tmp_path_factory, name, build)
    first = shared_folder(tmp_path_factory, name, build)
    assert shared_folder(tmp_path_factory, name, build) == first and len(calls) == 2
    assert [p.name for p in first.iterdir()] == ["a.csv"]
