"""Issue 23: a full disk ends a run with «disken er full» naming the folder; nothing is left behind and
the earlier output is untouched. The disk is «filled» by making the write itself fail with ENOSPC."""

from __future__ import annotations

import errno
from pathlib import Path

import pandas as pd
import pytest
from helpers import write_base_extract

from opr_analysis.cli import main
from opr_analysis.safety.oserror import describe


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _fill_disk_on(monkeypatch, owner, method: str):
    """Make ``owner.method`` write a little and then fail as a full disk does."""
    real = getattr(owner, method)

    def full(self, *args, **kwargs):
        target = args[0] if args else kwargs.get("path_or_buf", self)
        real(self, *args, **kwargs)  # some bytes reach the disk first, as they would
        raise OSError(errno.ENOSPC, "No space left on device", str(target))

    monkeypatch.setattr(owner, method, full)


@pytest.mark.parametrize("command", ["tables", "followups"])
def test_full_disk_says_so_and_leaves_nothing(tmp_path, capsys, monkeypatch, command):
    extract = write_base_extract(tmp_path)
    results = tmp_path / "resultater"
    out = results / ("oppfolging.csv" if command == "followups" else "tabeller")
    argv = [command, str(extract), "--out", str(out), "--as-of", "2025-03-01"]
    assert main(argv) == 0
    before = _tree(results)
    capsys.readouterr()
    _fill_disk_on(monkeypatch, pd.DataFrame, "to_csv")
    assert main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err == (
        f"opr {command}: disken er full: kunne ikke skrive i mappen «{results.resolve()}»; ingenting er lagt igjen, "
        "og det som lå der fra før, er urørt. Frigjør plass og kjør igjen"
    )
    assert _tree(results) == before  # the earlier output as it was, no temporary left beside it
    assert sorted(p.name for p in results.iterdir()) == [out.name]


SPEC = """id: kort-test
question: Svarer flere med kort skjema?
window: {first_due: 2025-01-01, last_due: 2025-06-30}
kinds: [rf_3m]
minimal_difference: 0.1
"""


def test_full_disk_during_allocation_keeps_the_earlier_list(tmp_path, capsys, monkeypatch):
    from helpers import make_extract

    patients = [{"patient_id": f"P{i}", "birth_year": 1970} for i in range(8)]
    treatments = [{"treatment_id": f"T{i}", "patient_id": f"P{i}", "date": f"2024-10-{i + 1:02d}"} for i in range(8)]
    make_extract(tmp_path / "uttrekk", patients=patients, treatments=treatments)
    (tmp_path / "spec.yaml").write_text(SPEC, encoding="utf-8")
    out = tmp_path / "liste"
    argv = ["experiment", "allocate", str(tmp_path / "spec.yaml"), "--extract", str(tmp_path / "uttrekk"),
            "--out", str(out), "--key-dir", str(tmp_path / "nokler"), "--as-of", "2024-12-01"]  # fmt: skip
    assert main(argv) == 0
    before = _tree(out)
    capsys.readouterr()
    _fill_disk_on(monkeypatch, Path, "write_bytes")
    assert main([*argv[:-1], "2024-12-15"]) == 1
    err = capsys.readouterr().err
    assert f"disken er full: kunne ikke skrive i mappen «{tmp_path.resolve()}»" in err
    assert _tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["liste", "nokler", "spec.yaml", "uttrekk"]


def test_describe_other_refusals_in_plain_words():
    assert describe(PermissionError(errno.EACCES, "Permission denied", "/srv/ut")) == (
        "filsystemet avviste «/srv/ut»: du har ikke tilgang"
    )
    assert describe(OSError(errno.EROFS, "Read-only file system", "/mnt/cd/x")) == (
        "filsystemet avviste «/mnt/cd/x»: filsystemet er skrivebeskyttet"
    )
