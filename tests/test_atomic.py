"""Outputs appear whole or not at all: atomic_dir, atomic_file, replace_dir, SIGTERM, re-runs."""

import os
import signal
import subprocess
import sys

import pytest
from helpers import write_base_extract

from opr_analysis import cli
from opr_analysis.commands import codebook as codebook_command
from opr_analysis.report.pipeline import ROOT
from opr_analysis.safety.atomic import atomic_dir, atomic_file, replace_dir


def _tree(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_failed_block_leaves_previous_folder_and_no_temporary(tmp_path):
    target = tmp_path / "out"
    with atomic_dir(target) as tmp:
        (tmp / "a.csv").write_text("1\n")
    with pytest.raises(ValueError):
        with atomic_dir(target) as tmp:
            (tmp / "a.csv").write_text("2\n")
            (tmp / "b.csv").write_text("halv")
            raise ValueError("stopp")
    assert _tree(target) == {"a.csv": b"1\n"}
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_check_that_raises_stops_the_move(tmp_path):
    target = tmp_path / "out"
    target.mkdir()
    (target / "old.txt").write_text("gammel")

    def check(folder):
        if (folder / "new.txt").read_text() == "ikke ok":
            raise RuntimeError("nei")

    with pytest.raises(RuntimeError):
        with atomic_dir(target, check=check) as tmp:
            (tmp / "new.txt").write_text("ikke ok")
    assert _tree(target) == {"old.txt": b"gammel"}
    with atomic_dir(target, check=check) as tmp:
        (tmp / "new.txt").write_text("ok")
    assert _tree(target) == {"new.txt": b"ok"}
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_replace_dir_puts_the_old_folder_back_when_the_move_fails(tmp_path, monkeypatch):
    target, new = tmp_path / "out", tmp_path / "new"
    target.mkdir()
    (target / "old.txt").write_text("gammel")
    new.mkdir()
    real_rename = os.rename

    def rename(src, dst):
        if str(src) == str(new):
            raise OSError("disk full")
        real_rename(src, dst)

    monkeypatch.setattr(os, "rename", rename)
    with pytest.raises(OSError, match="disk full"):
        replace_dir(new, target)
    assert _tree(target) == {"old.txt": b"gammel"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new", "out"]


def test_atomic_file_replaces_whole_or_not_at_all(tmp_path):
    path = tmp_path / "liste.csv"
    path.write_text("gammel\n")
    with pytest.raises(KeyboardInterrupt):
        with atomic_file(path) as tmp:
            tmp.write_text("halv")
            raise KeyboardInterrupt
    assert path.read_text() == "gammel\n" and [p.name for p in tmp_path.iterdir()] == ["liste.csv"]
    with atomic_file(path) as tmp:
        tmp.write_text("ny\n")
    assert path.read_text() == "ny\n" and [p.name for p in tmp_path.iterdir()] == ["liste.csv"]
    assert path.stat().st_mode & 0o777 == 0o666 & ~_umask()


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_sigterm_inside_a_command_cleans_up_and_exits_143(tmp_path, monkeypatch, capsys):
    out = tmp_path / "codebook.md"
    out.write_text("forrige\n")

    def run(args):
        with atomic_file(args.out) as tmp:
            tmp.write_text("halvferdig")
            os.kill(os.getpid(), signal.SIGTERM)
            for _ in range(1000):  # the handler raises at the next bytecode
                pass
        return 0

    monkeypatch.setattr(codebook_command, "run", run)
    before = signal.getsignal(signal.SIGTERM)
    status = cli.main(["codebook", "--out", str(out)])
    assert status == 128 + signal.SIGTERM
    assert capsys.readouterr().err == "opr codebook: avbrutt (SIGTERM); ingen halvferdige filer er lagt igjen\n"
    assert out.read_text() == "forrige\n" and [p.name for p in tmp_path.iterdir()] == ["codebook.md"]
    assert signal.getsignal(signal.SIGTERM) is before  # the handler is the command's only


def test_opr_tables_twice_gives_identical_bytes(tmp_path):
    extract = write_base_extract(tmp_path / "ex")
    for name in ("a", "b"):
        subprocess.run(
            [
                sys.executable,
                "-m",
                "opr_analysis",
                "tables",
                str(extract),
                "--out",
                str(tmp_path / name),
                "--as-of",
                "2025-03-01",
            ],
            check=True,
            capture_output=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
    a, b = _tree(tmp_path / "a"), _tree(tmp_path / "b")
    assert len(a) >= 8 and a == b and ".opr-output" in a  # the ownership marker is deterministic too
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b", "ex"]


def test_opr_followups_and_codebook_write_through_a_temporary_file(tmp_path):
    extract = write_base_extract(tmp_path / "ex")
    out = tmp_path / "res"
    assert cli.main(["followups", str(extract), "--as-of", "2025-03-01", "--out", str(out / "f.csv")]) == 0
    assert cli.main(["codebook", "--out", str(out / "codebook.md")]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["codebook.md", "f.csv"]  # file targets: no marker file
    assert (out / "f.csv").read_text(encoding="utf-8").startswith("patient_id,")
    assert (out / "codebook.md").read_text(encoding="utf-8").startswith("#")
