"""Issue 23 (and 24.7): the allocation step as an attacker or a busy office would run it.

- 20 runs on the same ``--out`` started at the same instant (a barrier) never lose or change an
  allocation: every written list extends the one before it, and every patient is allocated once.
- An ``allocations.csv`` opened and re-saved by Excel (``;``, BOM, CRLF, ``01.12.2024``) is read as the
  list it was; a list that is not one is refused naming file, row and column.
- The seed is not in the spec: it is drawn once into the key store (mode 0600), never written to an
  output, and a list cannot be continued with another seed.
"""

from __future__ import annotations

import importlib
import re
import threading
from argparse import Namespace
from pathlib import Path

import pandas as pd
import pytest
import yaml
from helpers import make_extract

from opr_analysis.commands import experiment as cmd
from opr_analysis.errors import UsageError
from opr_analysis.experiment import parse_spec
from opr_analysis.experiment.allocate import arm_sequence

SPEC = """id: kort-samtidig
question: Svarer flere med kort skjema?
window: {first_due: 2025-01-01, last_due: 2025-06-30}
kinds: [rf_3m]
strata: [age_band]
age_bands: [18, 65]
block_sizes: [2, 4]
minimal_difference: 0.1
"""
RUNS, SHARED, OWN = 20, 12, 6
allocation = importlib.import_module("opr_analysis.experiment.allocate")  # the module (the package exports a function)


def _patients(ids):
    patients = [{"patient_id": f"P{i:03d}", "birth_year": 1940 if i % 3 == 0 else 1980} for i in ids]
    treatments = [
        {"treatment_id": f"T{i:03d}", "patient_id": f"P{i:03d}", "date": str(pd.Timestamp("2024-10-01").date())}
        for i in ids
    ]
    return patients, treatments


def _args(spec: Path, extract: Path, out: Path, keys: Path, as_of: str = "2024-12-01") -> Namespace:
    return Namespace(step="allocate", spec=spec, extract=extract, out=out, as_of=as_of, key_dir=keys)


@pytest.fixture
def setting(tmp_path, monkeypatch):
    monkeypatch.setenv("OPR_LOCK_DIR", str(tmp_path / "laaser"))
    spec = tmp_path / "forsok.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    return spec, tmp_path / "nokler", tmp_path / "liste"


def test_twenty_simultaneous_runs_lose_and_change_nothing(setting, tmp_path, monkeypatch):
    """Run k sees the shared patients and its own: without the lock around read-allocate-write, one run
    overwrites another's list (its own patients vanish) and the shared ones are drawn again. The extract
    is read once; each run gets its part of it (the reader costs ~0.7 s a run and is tested elsewhere)."""
    from opr_analysis.extract.reader import Registry

    spec, keys, out = setting
    everyone = make_extract(tmp_path / "uttrekk", *_patients(range(SHARED + OWN * RUNS))[:1],
                            treatments=_patients(range(SHARED + OWN * RUNS))[1])  # fmt: skip
    parts = {}
    for k in range(RUNS):
        ids = {f"P{i:03d}" for i in [*range(SHARED), *range(SHARED + OWN * k, SHARED + OWN * (k + 1))]}
        tables = dict(everyone.tables)
        for name in ("patients", "treatments"):
            tables[name] = everyone.tables[name][everyone.tables[name]["patient_id"].isin(ids)]
        parts[str(tmp_path / f"uttrekk{k}")] = Registry(
            path=everyone.path, tables=tables, report=everyone.report, sources=everyone.sources
        )
    monkeypatch.setattr(cmd, "load_with_summary", lambda path: parts[str(path)])
    extracts = [tmp_path / f"uttrekk{k}" for k in range(RUNS)]
    written: list[bytes] = []
    real = allocation.list_bytes

    def record(rows):  # called inside the lock, once per write, in the order of the writes
        data = real(rows)
        written.append(data)
        return data

    monkeypatch.setattr(allocation, "list_bytes", record)
    barrier = threading.Barrier(RUNS)
    errors: list[BaseException] = []

    def run(k: int) -> None:
        try:
            barrier.wait()
            assert cmd.run(_args(spec, extracts[k], out, keys)) == 0
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(RUNS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(written) == RUNS
    for before, after in zip(written, written[1:], strict=False):
        assert after.startswith(before)  # every write keeps every earlier row, unchanged and first
    final = pd.read_csv(out / "allocations.csv", dtype=str)
    assert final["patient_id"].is_unique and len(final) == SHARED + OWN * RUNS
    assert (out / "allocations.csv").read_bytes() == written[-1]
    seed = int((keys / "experiment-kort-samtidig.seed").read_text())
    s = parse_spec(yaml.safe_load(SPEC))
    for stratum, group in final.groupby("stratum", sort=False):
        assert group["arm"].tolist() == arm_sequence(s, stratum, len(group), seed)
    # the seed is in the key store only: not in the list, the marker or anything else written
    assert all(str(seed) not in p.read_text(encoding="utf-8") for p in out.iterdir())


def _first_run(setting, tmp_path, n: int = 10) -> tuple[Path, Path]:
    spec, keys, out = setting
    make_extract(tmp_path / "uttrekk", *_patients(range(n))[:1], treatments=_patients(range(n))[1])
    assert cmd.run(_args(spec, tmp_path / "uttrekk", out, keys)) == 0
    return tmp_path / "uttrekk", out


def test_a_list_resaved_by_excel_is_read_as_it_was(setting, tmp_path):
    spec, keys, _ = setting
    extract, out = _first_run(setting, tmp_path)
    original = pd.read_csv(out / "allocations.csv", dtype=str)
    excel = original.assign(allocated_date=pd.to_datetime(original["allocated_date"]).dt.strftime("%d.%m.%Y"))
    text = excel.to_csv(index=False, sep=";", lineterminator="\r\n")
    (out / "allocations.csv").write_bytes(b"\xef\xbb\xbf" + text.encode("cp1252"))
    more = tmp_path / "flere"
    make_extract(more, *_patients(range(16))[:1], treatments=_patients(range(16))[1])
    assert cmd.run(_args(spec, more, out, keys, as_of="2024-12-15")) == 0
    after = pd.read_csv(out / "allocations.csv", dtype=str)
    pd.testing.assert_frame_equal(after.iloc[:10], original)  # the earlier rows as they were, ISO dates again
    assert len(after) == 16 and set(after["allocated_date"].iloc[10:]) == {"2024-12-15"}


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda f: f.drop(columns="arm"), "er ikke en randomiseringsliste fra opr (mangler kolonnene arm)"),
        (
            lambda f: f.assign(arm=["kort", "lang", *f["arm"].iloc[2:]]),
            "rad 2, kolonne «arm»: «lang» er ikke en gruppe",
        ),
        (lambda f: f.assign(allocated_date="i går"), "rad 1, kolonne «allocated_date»: «i går» er ikke en dato"),
        (lambda f: pd.concat([f, f.iloc[:1]]), "kolonne «patient_id»: «P000» står mer enn én gang"),
        (lambda f: f.assign(experiment_id="annet"), "rad 1, kolonne «experiment_id»: «annet» er ikke eksperimentet"),
    ],
)
def test_a_list_that_is_not_one_is_refused_clearly(setting, tmp_path, edit, message):
    spec, keys, _ = setting
    extract, out = _first_run(setting, tmp_path)
    broken = edit(pd.read_csv(out / "allocations.csv", dtype=str)).to_csv(index=False)
    (out / "allocations.csv").write_text(broken, encoding="utf-8")
    with pytest.raises(UsageError, match=re.escape(message)):
        cmd.run(_args(spec, extract, out, keys, as_of="2024-12-15"))
    assert (out / "allocations.csv").read_text(encoding="utf-8") == broken


def test_the_seed_lives_in_the_key_store_and_a_list_needs_the_same_one(setting, tmp_path, capsys):
    spec, keys, _ = setting
    with pytest.raises(UsageError, match="seed «20250101»: randomiseringsfrøet skal ikke stå i spesifikasjonen"):
        parse_spec({**yaml.safe_load(SPEC), "seed": 20250101}, name="forsok.yaml")
    extract, out = _first_run(setting, tmp_path)
    seed_file = keys / "experiment-kort-samtidig.seed"
    assert oct(seed_file.stat().st_mode & 0o777) == "0o600" and seed_file.read_text().strip().isdigit()
    assert "Nytt randomiseringsfrø" in capsys.readouterr().err
    seed_file.write_text(str(int(seed_file.read_text()) + 1) + "\n")  # a replaced key store
    before = (out / "allocations.csv").read_bytes()
    with pytest.raises(UsageError, match="randomiseringsfrøet i nøkkellageret er et annet"):
        cmd.run(_args(spec, extract, out, keys, as_of="2024-12-15"))
    assert (out / "allocations.csv").read_bytes() == before
