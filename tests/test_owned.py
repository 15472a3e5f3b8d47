"""Owned outputs (opr_analysis.safety.owned): nothing a user had is replaced, one writer at a time.

Every case of issue 11 that once deleted a user's files now stops before any work
with exit status 2 and one Norwegian line naming the folder and what is in the way.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import write_base_extract

from opr_analysis import cli
from opr_analysis.errors import UsageError
from opr_analysis.report.pipeline import ROOT
from opr_analysis.safety.atomic import OLD_INFIX, TMP_INFIX
from opr_analysis.safety.owned import MARKER, clean_leftovers, output_lock, owned_dir, protected_folders, write_marker


def _tree(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _run(capsys, *argv) -> tuple[int, str]:
    status = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, err


@pytest.fixture
def lock_dir(tmp_path, monkeypatch):
    folder = tmp_path / "locks"
    monkeypatch.setenv("OPR_LOCK_DIR", str(folder))
    return folder


# --- refusals before any work -----------------------------------------------------------------


def test_tables_into_the_extract_folder_is_refused_and_the_extract_kept(tmp_path, capsys):
    extract = write_base_extract(tmp_path)
    before = _tree(extract)
    status, err = _run(capsys, "tables", extract, "--out", extract, "--as-of", "2025-03-01")
    assert status == 2
    assert err == (
        f"opr tables: «{extract}» er uttrekksmappen ({extract.resolve()}); opr skriver aldri over den, "
        "velg en egen mappe for resultatet\n"
    )
    assert _tree(extract) == before


def test_validate_quarantine_into_the_extract_or_above_it_is_refused(tmp_path, capsys):
    extract = write_base_extract(tmp_path)
    before = _tree(tmp_path)
    for target in (extract, tmp_path):
        status, err = _run(capsys, "validate", extract, "--quarantine", target)
        assert status == 2 and len(err.splitlines()) == 1 and "uttrekksmappen" in err
        assert ("ligger over" in err) == (target == tmp_path)
    assert _tree(tmp_path) == before


def test_working_folder_home_and_repository_root_are_never_targets(tmp_path, capsys, monkeypatch):
    extract = write_base_extract(tmp_path / "x")
    work = tmp_path / "work"
    work.mkdir()
    (work / "mine.txt").write_text("mitt")
    monkeypatch.chdir(work)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for target, label in ((".", "arbeidsmappen"), (home, "hjemmemappen"), (ROOT, "prosjektmappen")):
        status, err = _run(capsys, "tables", extract, "--out", target)
        assert status == 2 and label in err and len(err.splitlines()) == 1, err
    assert (work / "mine.txt").read_text() == "mitt"


def test_a_folder_with_the_users_files_is_refused_naming_them(tmp_path, capsys):
    extract = write_base_extract(tmp_path)
    out = tmp_path / "mine"
    out.mkdir()
    for name in ("a.txt", "b.txt"):
        (out / name).write_text(name)
    status, err = _run(capsys, "tables", extract, "--out", out)
    assert status == 2
    assert err == (
        f"opr tables: mappen «{out}» finnes og er ikke skrevet av opr (inneholder a.txt, b.txt); "
        "opr erstatter bare mapper den har skrevet selv, velg en ny eller tom mappe\n"
    )
    assert sorted(p.name for p in out.iterdir()) == ["a.txt", "b.txt"]


def test_a_regular_file_given_as_a_folder_is_refused(tmp_path, capsys):
    extract = write_base_extract(tmp_path)
    notes = tmp_path / "notes.txt"
    notes.write_text("viktig\n")
    status, err = _run(capsys, "tables", extract, "--out", notes)
    assert (
        status == 2
        and err == f"opr tables: «{notes}» er en fil, ikke en mappe; opr skriver ikke over den, oppgi en mappe\n"
    )
    assert notes.read_text() == "viktig\n"


def test_the_key_store_is_never_a_delivery_folder(tmp_path, capsys, monkeypatch):
    from helpers import write_research_extract, write_spec

    for var in list(os.environ):
        if var.startswith("OPR_EXTRACT_KEY"):
            monkeypatch.delenv(var)
    extract = write_research_extract(tmp_path / "ex")
    keys = tmp_path / "keys"
    keys.mkdir()
    (keys / "annet.key").write_bytes(b"k" * 32)
    spec = write_spec(tmp_path / "s.yaml", formats=["csv"])
    status, err = _run(capsys, "extract", spec, "--extract", extract, "--out", keys, "--key-dir", keys, "--no-docs")
    assert status == 2 and "er nøkkellageret" in err and len(err.splitlines()) == 1
    assert [p.name for p in keys.iterdir()] == ["annet.key"]


def test_another_commands_output_and_a_file_added_to_an_owned_folder_are_refused(tmp_path, capsys):
    extract = write_base_extract(tmp_path)
    out = tmp_path / "res"
    assert _run(capsys, "tables", extract, "--out", out, "--as-of", "2025-03-01")[0] == 0
    status, err = _run(capsys, "validate", extract, "--quarantine", out)
    assert status == 2 and "er skrevet av «opr tables», ikke av «opr validate»" in err
    (out / "min-analyse.R").write_text("# mitt\n")
    status, err = _run(capsys, "tables", extract, "--out", out, "--as-of", "2025-03-01")
    assert status == 2 and "inneholder noe opr ikke har skrevet der (min-analyse.R)" in err
    (out / "min-analyse.R").unlink()
    assert _run(capsys, "tables", extract, "--out", out, "--as-of", "2025-03-01")[0] == 0


def test_symbolic_link_targets_are_refused(tmp_path, capsys):
    extract = write_base_extract(tmp_path)
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real)
    status, err = _run(capsys, "tables", extract, "--out", link)
    assert status == 2 and "symbolsk lenke" in err and link.is_symlink()


def test_file_targets_replace_only_their_own_kind(tmp_path, capsys):
    extract = write_base_extract(tmp_path)
    notes = tmp_path / "notes.md"
    notes.write_text("# Mine notater\n")
    status, err = _run(capsys, "codebook", "--out", notes)
    assert status == 2 and "er ikke skrevet av opr" in err and notes.read_text() == "# Mine notater\n"
    status, err = _run(capsys, "followups", extract, "--as-of", "2025-03-01", "--out", notes)
    assert status == 2 and notes.read_text() == "# Mine notater\n"
    book, audit = tmp_path / "kodebok.md", tmp_path / "f.csv"
    for _ in range(2):  # a file opr wrote is replaced on the next run
        assert _run(capsys, "codebook", "--out", book)[0] == 0
        assert _run(capsys, "followups", extract, "--as-of", "2025-03-01", "--out", audit)[0] == 0
    status, err = _run(capsys, "followups", extract, "--as-of", "2025-03-01", "--out", book)
    assert status == 2  # a codebook is not an audit


def test_synth_never_replaces_a_real_extract(tmp_path, capsys):
    extract = write_base_extract(tmp_path)  # table files only, not written by opr synth
    before = _tree(extract)
    status, err = _run(capsys, "synth", "--out", extract, "--scale", "0.05", "--years", "2023")
    assert status == 2 and "er ikke skrevet av opr" in err
    assert _tree(extract) == before


def test_report_into_the_extract_is_refused_before_reading_it(tmp_path, capsys):
    extract = write_base_extract(tmp_path)
    started = time.perf_counter()
    status, err = _run(capsys, "report", "--extract", extract, "--out", extract, "--formats", "html")
    assert status == 2 and "er uttrekksmappen" in err and "Traceback" not in err
    assert time.perf_counter() - started < 10  # no notebook was started


# --- locks, leftovers, signals ----------------------------------------------------------------


def test_a_locked_target_waits_then_refuses(tmp_path, lock_dir, monkeypatch, capsys):
    import threading

    monkeypatch.setenv("OPR_LOCK_TIMEOUT", "0.2")
    target = tmp_path / "out"
    held, done = threading.Event(), threading.Event()

    def other_run():  # another run (the lock is re-entrant only within one thread)
        with output_lock(target):
            held.set()
            done.wait(10)

    other = threading.Thread(target=other_run)
    other.start()
    held.wait(10)
    try:
        with pytest.raises(UsageError, match=f"en annen opr-kjøring skriver fortsatt til «{target.resolve()}»"):
            with owned_dir(target, "tables"):
                pass
    finally:
        done.set()
        other.join()
    assert "venter" in capsys.readouterr().err
    assert not target.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["locks"]
    with owned_dir(target, "tables") as tmp:  # the lock is free again
        (tmp / "a.csv").write_text("1\n")
    assert (target / "a.csv").read_text() == "1\n"


def test_sigkill_leftovers_are_cleaned_and_an_interrupted_swap_is_undone(tmp_path, lock_dir):
    target = tmp_path / "out"
    with owned_dir(target, "tables") as tmp:
        (tmp / "a.csv").write_text("forrige\n")
    # As SIGKILL can leave them: a half-written temporary, and the swap cut between its two renames.
    half = tmp_path / f".out{TMP_INFIX}abc123"
    half.mkdir()
    (half / "a.csv").write_text("halv")
    aside = tmp_path / f".out{OLD_INFIX}def456"
    aside.mkdir()
    os.rename(target, aside / "out")
    (tmp_path / "mine.txt").write_text("mitt")  # not ours: never touched
    done = clean_leftovers(target)
    assert sorted(p.name for p in done) == sorted([half.name, aside.name])
    assert (target / "a.csv").read_text() == "forrige\n"  # the previous output is back
    assert sorted(p.name for p in tmp_path.iterdir()) == ["locks", "mine.txt", "out"]


def _tables_cmd(extract: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "opr_analysis", "tables", str(extract), "--out", str(out), "--as-of", "2025-03-01"]


def _env(**extra) -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT), **extra}


def test_concurrent_runs_on_one_target_all_succeed_one_after_another(tmp_path, lock_dir, capsys):
    """Four processes on one target: three wait their turn (this ran with two processes as well;
    four covers it), and the result equals a single run's."""
    runs = 4
    extract = write_base_extract(tmp_path / "x")
    parent = tmp_path / "site"
    parent.mkdir()
    out = parent / "tabeller"
    procs = [
        subprocess.Popen(
            _tables_cmd(extract, out), env=_env(), text=True, stderr=subprocess.PIPE, stdout=subprocess.PIPE
        )
        for _ in range(runs)
    ]
    results = [(p.wait(timeout=300), p.communicate()[1]) for p in procs]
    assert [s for s, _ in results] == [0] * runs, [e for _, e in results]
    assert all("uventet feil" not in e and "Traceback" not in e for _, e in results)
    assert [p.name for p in parent.iterdir()] == ["tabeller"]  # no .*-old-* or temporary left
    single = tmp_path / "single"
    assert _run(capsys, *_tables_cmd(extract, single)[3:])[0] == 0  # the same command, in this process
    assert _tree(out) == _tree(single)


def test_concurrent_runs_without_waiting_refuse_cleanly(tmp_path, lock_dir):
    extract = write_base_extract(tmp_path / "x")
    parent = tmp_path / "site"
    parent.mkdir()
    procs = [
        subprocess.Popen(
            _tables_cmd(extract, parent / "tabeller"),
            env=_env(OPR_LOCK_TIMEOUT="0"),
            text=True,
            stderr=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        for _ in range(4)
    ]
    results = [(p.wait(timeout=300), p.communicate()[1]) for p in procs]
    assert {s for s, _ in results} <= {0, 2} and 0 in {s for s, _ in results}
    for status, err in results:
        if status == 2:
            assert "en annen opr-kjøring skriver fortsatt til" in err.splitlines()[-1]
    assert [p.name for p in parent.iterdir()] == ["tabeller"]


HOLDER = """
import sys, time
from pathlib import Path
from opr_analysis.cli import _terminate_by_exception
from opr_analysis.errors import Terminated
from opr_analysis.safety.owned import owned_dir
try:
    with _terminate_by_exception():
        with owned_dir(Path(sys.argv[1]), "tables") as tmp:
            (tmp / "a.csv").write_text("ny, halvferdig")
            print("klar", flush=True)
            time.sleep(60)
except Terminated as exc:
    sys.exit(128 + exc.signum)
"""


def _holder(target: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(target)], env=_env(), text=True, stdout=subprocess.PIPE)
    assert proc.stdout.readline().strip() == "klar"
    return proc


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_a_signalled_writer_leaves_the_previous_output(tmp_path, lock_dir, sig):
    target = tmp_path / "out"
    with owned_dir(target, "tables") as tmp:
        (tmp / "a.csv").write_text("forrige\n")
    proc = _holder(target)
    proc.send_signal(sig)
    status = proc.wait(timeout=30)
    assert (target / "a.csv").read_text() == "forrige\n"
    left = sorted(p.name for p in tmp_path.iterdir())
    if sig == signal.SIGTERM:
        assert status == 128 + signal.SIGTERM and left == ["locks", "out"]
    else:
        assert status == -signal.SIGKILL and any(TMP_INFIX in n for n in left)  # what SIGKILL can leave
    with owned_dir(target, "tables") as tmp:  # the next run: the lock is free, leftovers go
        (tmp / "a.csv").write_text("ny\n")
    assert (target / "a.csv").read_text() == "ny\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["locks", "out"]


def test_sigterm_while_waiting_for_the_lock_ends_cleanly(tmp_path, lock_dir):
    extract = write_base_extract(tmp_path / "x")
    target = tmp_path / "out"
    holder = _holder(target)
    try:
        waiter = subprocess.Popen(_tables_cmd(extract, target), env=_env(), text=True, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        line = ""
        while "venter" not in line and time.monotonic() < deadline:
            line = waiter.stderr.readline()
        waiter.send_signal(signal.SIGTERM)
        assert waiter.wait(timeout=30) == 128 + signal.SIGTERM
        assert "Traceback" not in waiter.stderr.read()
    finally:
        holder.kill()
        holder.wait()


def test_marker_lists_the_entries_and_is_deterministic(tmp_path):
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "b.csv").write_text("1")
    (folder / "a").mkdir()
    write_marker(folder, "report")
    assert (folder / MARKER).read_text(encoding="utf-8") == (
        '{\n "written_by": "opr",\n "command": "report",\n "entries": [\n  "a",\n  "b.csv"\n ]\n}\n'
    )


def test_the_protected_key_store_is_the_one_deliveries_use(monkeypatch, tmp_path):
    from opr_analysis.extracts.pseudonyms import default_key_dir

    monkeypatch.delenv("OPR_KEY_DIR", raising=False)  # conftest points it into a temporary folder
    assert default_key_dir() == ROOT / "keys"
    assert ("nøkkellageret", ROOT / "keys") in protected_folders()
    monkeypatch.setenv("OPR_KEY_DIR", str(tmp_path / "nøkler"))
    assert default_key_dir() == tmp_path / "nøkler"
    assert ("nøkkellageret", tmp_path / "nøkler") in protected_folders()


def test_one_run_may_hold_its_target_s_lock_around_the_writer(tmp_path, lock_dir):
    """``opr experiment allocate`` reads the earlier list and writes the new one under one lock."""
    target = tmp_path / "out"
    with output_lock(target):
        with owned_dir(target, "tables") as tmp:
            (tmp / "a.csv").write_text("1\n")
    assert (target / "a.csv").read_text() == "1\n"
