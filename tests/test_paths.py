from __future__ import annotations

from pathlib import Path

import pytest

from opr_analysis import UsageError, open_extract, repo_root, resolve_extract

ROOT = Path(__file__).resolve().parents[1]


def test_relative_extract_resolves_from_notebooks_folder(monkeypatch):
    monkeypatch.chdir(ROOT / "notebooks")
    assert repo_root() == ROOT
    assert resolve_extract("data/synthetic") == ROOT / "data" / "synthetic"


def test_path_existing_from_working_directory_or_absolute_is_kept(tmp_path, monkeypatch):
    (tmp_path / "mine").mkdir()
    monkeypatch.chdir(tmp_path)
    assert resolve_extract("mine") == Path("mine")
    assert resolve_extract(tmp_path / "x") == tmp_path / "x"


def test_missing_extract_is_a_clear_error(tmp_path):
    with pytest.raises(UsageError, match="make data"):
        open_extract(tmp_path / "nothing")
