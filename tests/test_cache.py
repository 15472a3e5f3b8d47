"""The validated-extract cache (extract/cache.py, issue 29): a cached load is the cold load, and any change
to what the load depends on reads the files again."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from helpers import write_base_extract

import opr_analysis
from opr_analysis.cli import main
from opr_analysis.errors import IdentifiableDataError
from opr_analysis.extract import cache, codebook, reader
from opr_analysis.extract.reader import load_extract
from opr_analysis.safety.nin import make_valid_nin
from opr_analysis.safety.owned import MARKER

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    """The cache switched on, in a folder of this test's own."""
    folder = tmp_path / "cache"
    monkeypatch.delenv("OPR_CACHE")
    monkeypatch.setenv("OPR_CACHE_DIR", str(folder))
    return folder


@pytest.fixture
def fresh_fingerprint():
    cache.fingerprint.cache_clear()
    yield
    cache.fingerprint.cache_clear()


def assert_same_registry(cold, warm, tables=None):
    """Every table (dtypes, index and categories included), the report and the sources are the same."""
    names = list(cold.tables) if tables is None else tables
    assert set(warm.tables) == set(cold.tables)
    for name in names:
        a, b = cold.tables[name], warm.tables[name]
        pd.testing.assert_frame_equal(a, b, check_exact=True, check_index_type=True, check_column_type=True)
        assert list(a.dtypes) == list(b.dtypes), name
        assert type(a.index) is type(b.index), name
    assert warm.report.summaries == cold.report.summaries
    assert warm.report.problems == cold.report.problems
    assert set(warm.report.quarantine) == set(cold.report.quarantine)
    for name, q in cold.report.quarantine.items():
        pd.testing.assert_frame_equal(q, warm.report.quarantine[name], check_exact=True, check_column_type=True)
        # object cells keep their kind of blank (None, NaN), so quarantine files are written the same
        assert [type(v) for v in q.to_numpy().ravel()] == [
            type(v) for v in warm.report.quarantine[name].to_numpy().ravel()
        ]
    assert warm.sources == cold.sources
    lines = warm.report.summary_text().splitlines()
    assert [line for line in lines if "hentet fra hurtiglageret" not in line] == cold.report.summary_text().splitlines()


def _loads(folder, **kw):
    """(cold without cache, first load with cache, second load with cache)."""
    cold = load_extract(folder, cache=False, **kw)
    first = load_extract(folder, **kw)
    second = load_extract(folder, **kw)
    return cold, first, second


def test_a_cached_load_equals_the_cold_load(cache_dir, tmp_path):
    folder = write_base_extract(tmp_path)
    cold, first, second = _loads(folder)
    assert first.report.cache_note is None and second.report.cache_note.startswith("tabellene er hentet")
    assert_same_registry(cold, first)
    assert_same_registry(cold, second)
    entries = [p for p in cache_dir.iterdir() if p.is_dir()]
    assert len(entries) == len(cold.sources)  # one entry per table read


def test_cached_loads_of_the_broken_corpus_equal_the_cold_ones(cache_dir, hand_corpus):
    """Quarantined rows, ragged rows, notes, other encodings and formats: every loadable case, whole and for
    the tables the follow-up audit reads; a case that stops the run stops it the same way with the cache on.
    The corpus over the hand-made extract (tests/conftest.py's ``hand_corpus``, shared with
    tests/test_broken_corpus.py; the cache lies in this test's own folder)."""
    loadable = 0
    for case in hand_corpus:
        if case.status != 0:
            with pytest.raises(Exception) as cold_error:
                load_extract(case.folder, cache=False)
            with pytest.raises(type(cold_error.value)) as warm_error:
                load_extract(case.folder)
            assert str(warm_error.value) == str(cold_error.value), case.name
            continue
        loadable += 1
        first = load_extract(case.folder)  # read and validated, then written to the cache
        second = load_extract(case.folder)
        assert first.report.cache_note is None and second.report.cache_note, case.name
        assert_same_registry(first, second)
        part = load_extract(case.folder, ["followups"])  # the audit's tables, from the entries the whole load wrote
        assert part.report.cache_note, case.name
        for name in part.tables:
            pd.testing.assert_frame_equal(first.tables[name], part.tables[name], check_exact=True)
            assert part.report.summaries.get(name) == first.report.summaries.get(name)
    assert loadable >= 15


def _counting_validations(monkeypatch) -> list:
    calls = []
    original = reader._load_validated

    def spy(*args, **kw):
        calls.append(args[2])
        return original(*args, **kw)

    monkeypatch.setattr(reader, "_load_validated", spy)
    return calls


def test_a_changed_byte_in_any_input_file_reads_that_table_again(cache_dir, tmp_path, monkeypatch):
    folder = write_base_extract(tmp_path)
    load_extract(folder)
    calls = _counting_validations(monkeypatch)
    for path in sorted(folder.iterdir()):
        data = bytearray(path.read_bytes())
        before = path.stat()
        i = data.rindex(b"1") if b"1" in data else len(data) - 2  # a digit of an id, date or count
        data[i : i + 1] = b"2"
        path.write_bytes(bytes(data))
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # same size and mtime: only ctime tells
        reg = load_extract(folder)
        assert reg.report.cache_note is None, path.name  # validated again, not taken from the cache
        assert load_extract(folder).report.cache_note, path.name  # and cached again
    assert len(calls) == len(list(folder.iterdir()))


def test_a_change_to_a_table_reads_it_and_what_refers_to_it_but_not_others(cache_dir, tmp_path, monkeypatch):
    folder = write_base_extract(tmp_path)
    load_extract(folder)
    path = folder / "legacy_v1.csv"
    path.write_bytes(path.read_bytes().replace(b"410", b"411"))
    # legacy_v1 refers to nothing and nothing refers to it: the follow-up audit's tables stay cached
    assert load_extract(folder, ["followups"]).report.cache_note
    assert load_extract(folder).report.cache_note is None
    path = folder / "patients.csv"
    path.write_bytes(path.read_bytes() + path.read_bytes().splitlines(keepends=True)[-1].replace(b"P0", b"P9"))
    assert load_extract(folder, ["followups"]).report.cache_note is None  # follow-ups refer to patients


def test_a_changed_codebook_or_package_version_reads_the_files_again(
    cache_dir, tmp_path, monkeypatch, fresh_fingerprint
):
    folder = write_base_extract(tmp_path)
    load_extract(folder)
    assert load_extract(folder).report.cache_note
    monkeypatch.setattr(opr_analysis, "__version__", opr_analysis.__version__ + ".post1")
    cache.fingerprint.cache_clear()
    assert load_extract(folder).report.cache_note is None
    assert load_extract(folder).report.cache_note

    cb = codebook.load()
    patients = cb.tables["patients"]
    sex = patients.columns["sex"]
    changed = codebook.Codebook(
        cb.version, cb.contract,
        {**cb.tables, "patients": codebook.Table(
            patients.name, patients.label, patients.description, patients.required,
            {**patients.columns, "sex": codebook.Column(**{**sex.__dict__, "codes": {"K": "Kvinne"}})},
        )},
        cb.instruments, cb.extra,
    )  # fmt: skip
    monkeypatch.setattr(codebook, "load", lambda: changed)
    assert load_extract(folder).report.cache_note is None  # read and validated again under the changed codebook
    assert load_extract(folder).report.cache_note


def test_the_fingerprint_covers_the_readers_source(tmp_path):
    package = tmp_path / "opr_analysis"
    for sub in ("extract", "safety"):
        shutil.copytree(Path(opr_analysis.__file__).parent / sub, package / sub)
    before = cache.source_fingerprint(package, "1")
    rules = package / "extract" / "reader.py"
    rules.write_text(rules.read_text(encoding="utf-8") + "\n# a new reader rule\n", encoding="utf-8")
    assert cache.source_fingerprint(package, "1") != before
    assert cache.source_fingerprint(package, "2") != cache.source_fingerprint(package, "1")


def test_a_date_that_has_come_is_judged_again(cache_dir, tmp_path, monkeypatch):
    """A date after the run date is quarantined; once the run date has passed it, the cached verdict is stale."""
    from helpers import rows

    short = rows("short_forms")
    short[0]["date"] = "2031-01-01"
    folder = write_base_extract(tmp_path, short_forms=short)
    first = load_extract(folder)
    assert first.report.summaries["short_forms"].rows_quarantined == 1
    assert load_extract(folder).report.cache_note
    monkeypatch.setattr(reader, "_tomorrow", lambda: pd.Timestamp("2031-01-02"))
    later = load_extract(folder)
    assert later.report.cache_note is None
    assert later.report.summaries["short_forms"].rows_quarantined == 0


def test_an_extract_with_an_identity_number_is_never_cached(cache_dir, tmp_path):
    from helpers import rows

    patients = rows("patients")
    patients[0]["patient_id"] = make_valid_nin("150385")
    folder = write_base_extract(tmp_path, patients=patients)
    with pytest.raises(IdentifiableDataError):
        load_extract(folder)
    assert not cache_dir.exists() or not any(p for p in cache_dir.iterdir() if p.is_dir())


def test_an_identity_number_in_a_file_name_stops_a_cached_load_too(cache_dir, tmp_path):
    folder = write_base_extract(tmp_path)
    load_extract(folder)
    (folder / f"notat-{make_valid_nin('150385')}.txt").write_text("x")
    with pytest.raises(IdentifiableDataError):
        load_extract(folder)


def test_files_are_private_and_the_folder_is_opr_s(cache_dir, tmp_path):
    folder = write_base_extract(tmp_path)
    load_extract(folder)
    assert stat.S_IMODE(cache_dir.stat().st_mode) == 0o700
    marker = json.loads((cache_dir / MARKER).read_text(encoding="utf-8"))
    assert marker["written_by"] == "opr" and marker["command"] == "cache"
    files = [p for p in cache_dir.rglob("*") if p.is_file()]
    assert files and all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in files)
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o700 for p in cache_dir.rglob("*") if p.is_dir())


def test_the_default_place_is_beside_the_extract_and_never_in_the_repository(tmp_path, monkeypatch):
    monkeypatch.delenv("OPR_CACHE_DIR", raising=False)
    assert cache.location(tmp_path / "uttrekk") == ((tmp_path / cache.FOLDER).resolve(), None)
    assert cache.location(ROOT / "data" / "synthetic") == ((ROOT / "data" / cache.FOLDER).resolve(), None)
    for inside in (ROOT / "tests" / "uttrekk", ROOT / "uttrekk"):
        where, why = cache.location(inside)
        assert where is None and "prosjektmappen" in why
    monkeypatch.setenv("OPR_CACHE_DIR", str(ROOT / "notebooks" / ".opr-cache"))
    assert cache.location(tmp_path / "uttrekk")[0] is None


def test_never_inside_a_folder_another_command_wrote_or_someone_else_s(tmp_path, monkeypatch):
    monkeypatch.delenv("OPR_CACHE_DIR", raising=False)
    report = tmp_path / "rapport"
    (report / "karantene").mkdir(parents=True)
    (report / MARKER).write_text(json.dumps({"written_by": "opr", "command": "report", "entries": []}))
    where, why = cache.location(report / "karantene")
    assert where is None and "opr report" in why
    theirs = tmp_path / "mine" / cache.FOLDER
    theirs.mkdir(parents=True)
    (theirs / "notater.txt").write_text("mitt")
    where, why = cache.location(tmp_path / "mine" / "uttrekk")
    assert where is None and "ikke laget av opr" in why


def test_a_refused_place_reads_the_files_and_says_why(tmp_path, monkeypatch):
    monkeypatch.delenv("OPR_CACHE")
    monkeypatch.setenv("OPR_CACHE_DIR", str(ROOT / "tests" / ".opr-cache"))
    folder = write_base_extract(tmp_path)
    reg = load_extract(folder)
    assert "hurtiglageret brukes ikke" in reg.report.summary_text()
    assert not (ROOT / "tests" / ".opr-cache").exists()


def test_older_entries_of_a_table_are_replaced(cache_dir, tmp_path):
    folder = write_base_extract(tmp_path)
    load_extract(folder)
    before = {p.name for p in cache_dir.iterdir() if p.is_dir()}
    path = folder / "legacy_v1.csv"
    path.write_bytes(path.read_bytes().replace(b"410", b"411"))
    load_extract(folder)
    after = {p.name for p in cache_dir.iterdir() if p.is_dir()}
    assert len(after) == len(before) and len(after - before) == 1 and "legacy_v1" in (after - before).pop()


def _cli(*args) -> int:
    return main([str(a) for a in args])


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_outputs_are_byte_identical_with_and_without_the_cache(cache_dir, tmp_path, capsys):
    from opr_analysis.synth.registry import write_synthetic

    folder = tmp_path / "uttrekk"
    write_synthetic(folder, seed=7, scale=0.03, years=(2021, 2025), fmt="csv", dialect="norsk")
    out = {}
    for run in ("uten", "forste", "andre"):
        flag = ["--no-cache"] if run == "uten" else []
        base = tmp_path / run
        cached = []
        for command, target in (("tables", "tabeller"), ("followups", "oppfolging.csv"), ("indicators", "indikatorer")):
            assert _cli(command, folder, "--out", base / target, "--as-of", "2025-12-31", *flag) == 0
            cached.append("hentet fra hurtiglageret" in capsys.readouterr().err)
        # the first run with the cache validates for opr tables; the tables' entries serve the follow-ups
        assert cached == {"uten": [False] * 3, "forste": [False, True, False], "andre": [True] * 3}[run]
        out[run] = (_files(base / "tabeller"), _files(base / "indikatorer"), (base / "oppfolging.csv").read_bytes())
        if run == "uten":
            assert not cache_dir.exists()  # --no-cache writes nothing either
    assert out["uten"] == out["forste"] == out["andre"]
    assert len(out["uten"][0]) > 10


def test_followups_on_a_cached_extract_imports_neither_pandera_nor_statsmodels(cache_dir, tmp_path):
    """Fresh interpreters: the first run validates (pandera); the second reads the cache and needs neither
    pandera nor the statistics libraries the follow-up audit does not use."""
    folder = write_base_extract(tmp_path)
    heavy = ["pandera", "statsmodels", "scipy", "pydantic"]
    probe = (
        "import json, sys\nfrom opr_analysis.cli import main\n"
        f"rc = main(['followups', {str(folder)!r}, '--out', {str(tmp_path / 'f.csv')!r}, '--as-of', '2024-12-31'])\n"
        f"print(json.dumps([rc, [m for m in {heavy!r} if m in sys.modules]]))"
    )
    env = {**os.environ, "OPR_CACHE_DIR": str(cache_dir)}
    env.pop("OPR_CACHE", None)

    def run():
        done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr

    (rc, loaded), _ = run()
    assert rc == 0 and "pandera" in loaded
    (rc, loaded), err = run()
    assert rc == 0 and loaded == [] and "hentet fra hurtiglageret" in err


def _cache_files(folder: Path) -> list[str]:
    return [
        str(p) for p in folder.rglob("*") if p.suffix == ".arrow" or cache.FOLDER in p.parts or p.name == "hashes.json"
    ]


def test_no_cache_file_lands_in_a_research_delivery(cache_dir, tmp_path, monkeypatch):
    from helpers import write_research_extract, write_spec

    from opr_analysis.extracts import deliver

    for var in [v for v in os.environ if v.startswith("OPR_EXTRACT_KEY")]:
        monkeypatch.delenv(var)
    monkeypatch.delenv("OPR_CACHE_DIR")  # the default place: beside the extract
    extract = write_research_extract(tmp_path / "data" / "uttrekk")
    spec = write_spec(tmp_path / "s.yaml", formats=["csv"])
    first = deliver(spec, extract, tmp_path / "levering", key_dir=tmp_path / "keys", docs=False)
    assert (tmp_path / "data" / cache.FOLDER / MARKER).is_file()  # the delivery's load wrote the cache there
    second = deliver(spec, extract, tmp_path / "levering2", key_dir=tmp_path / "keys", docs=False)
    assert _cache_files(first.folder) == [] and _cache_files(second.folder) == []
    assert _files(first.folder).keys() == _files(second.folder).keys()
    assert _cache_files(extract) == []


@pytest.mark.slow
def test_the_report_reads_the_extract_once_and_writes_no_cache_file_into_the_report(concurrent_reports):
    """opr report validates (and caches) the extract; the notebook's kernel, started with the same environment,
    finds it there; nothing of the cache is in the report. The runs are tests/conftest.py's
    ``concurrent_reports`` (shared with tests/test_report_runs.py): two ``opr report`` processes on an extract
    of their own, the cache on at its default place beside it, where nothing else loads that extract."""
    extract = concurrent_reports.extract
    for status, _, stderr in concurrent_reports.results:
        assert status == 0, stderr
    root = extract.parent / cache.FOLDER
    tables = {json.loads((p / cache.ENTRY).read_text())["table"] for p in root.iterdir() if p.is_dir()}
    assert tables == {p.stem for p in extract.glob("*.csv")}
    for run in ("a", "b"):
        assert _cache_files(concurrent_reports.parent / run) == []
    # what the kernel does: load the extract from the notebooks folder, in the same environment
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for var in ("OPR_CACHE", "OPR_CACHE_DIR"):
        env.pop(var, None)
    probe = f"import opr_analysis; print(opr_analysis.load_extract({str(extract.resolve())!r}).report.cache_note)"
    done = subprocess.run(
        [sys.executable, "-c", probe], env=env, cwd=ROOT / "notebooks", capture_output=True, text=True
    )
    assert "hentet fra hurtiglageret" in done.stdout, done.stderr


@pytest.mark.slow
def test_no_cache_reaches_the_notebook_kernels_a_command_starts(tmp_path, monkeypatch):
    """--no-cache is OPR_CACHE=0 for the command's run, which the kernel of its notebook inherits (opr report,
    the delivery's documentation notebook): the kernel's load writes no cache either."""
    import nbformat

    from opr_analysis import cli
    from opr_analysis.report.pipeline import execute_notebook

    monkeypatch.delenv("OPR_CACHE")
    monkeypatch.delenv("OPR_CACHE_DIR", raising=False)
    extract = write_base_extract(tmp_path / "data")
    code = f"import opr_analysis\nreg = opr_analysis.load_extract({str(extract)!r})"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "last.ipynb")
    with cli._cache_setting(SimpleNamespace(no_cache=True)):
        execute_notebook(tmp_path / "last.ipynb", tmp_path / "kjort.ipynb", {}, cwd=tmp_path)
    assert os.environ.get("OPR_CACHE") is None  # restored after the run
    assert not (tmp_path / "data" / cache.FOLDER).exists()
    execute_notebook(tmp_path / "last.ipynb", tmp_path / "kjort.ipynb", {}, cwd=tmp_path)
    assert (tmp_path / "data" / cache.FOLDER / MARKER).is_file()  # without --no-cache the kernel writes it
