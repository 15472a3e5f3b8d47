"""Issue 8.1: a corpus of broken extracts, one defect each, from a valid base extract."""

import contextlib
import importlib.util
import io
from dataclasses import dataclass

import pandas as pd
import pytest
from broken_corpus import build_corpus

from opr_analysis import load_extract
from opr_analysis.cli import main

HAS_SYNTH = importlib.util.find_spec("opr_analysis.synth.registry") is not None


def _base(kind, tmp_path_factory):
    root = tmp_path_factory.mktemp(f"corpus-{kind}")
    dialect = "norsk" if kind.endswith("norsk") else "iso"
    if not HAS_SYNTH:
        pytest.skip("opr_analysis.synth.registry is not merged into this branch yet")
    from opr_analysis.synth.registry import write_synthetic

    base = root / "base"
    write_synthetic(base, seed=2024, scale=0.05, years=(2020, 2025), fmt="csv", dialect=dialect)
    return build_corpus(base, root / "broken")


# Each corpus is built once (module scope; make test gives a whole file to one worker, and the
# xdist_group keeps a corpus's tests together under --dist loadgroup too).
@pytest.fixture(
    scope="module",
    params=[
        pytest.param(k, marks=pytest.mark.xdist_group(f"corpus-{k}")) for k in ("hand", "synthetic", "synthetic-norsk")
    ],
)
def corpus(request, tmp_path_factory):
    if request.param == "hand":  # built once per run, shared with tests/test_cache.py
        return request.getfixturevalue("hand_corpus")
    return _base(request.param, tmp_path_factory)


EXPECTED_CASES = {
    "unknown_code",
    "impossible_date",
    "excel_serial",
    "future_date",
    "blank_required",
    "whitespace_around_codes",
    "wrong_type",
    "negative_duration",
    "broken_reference",
    "cascade_through_parent",
    "anchor_missing",
    "anchor_wrong_kind",
    "avsluttet_12m_open_enrolment",
    "duplicate_id",
    "duplicated_whole_row",
    "missing_required_table",
    "missing_optional_table",
    "missing_column",
    "two_files",
    "unreadable_file",
    "nin_in_patient_id",
    "nin_in_code_column",
    "nin_in_free_text",
    "nin_in_unknown_column",
    "truncated_file",
    "header_only",
    "separator_inside_quotes",
    "windows_1252",
    "leading_zero_ids",
    "stray_quote",
    "unterminated_quote",
    "long_cell",
    "cell_too_long",
    "zip_bomb",
}


def test_every_defect_is_in_the_corpus(corpus):
    assert {c.name for c in corpus} == EXPECTED_CASES


@dataclass
class Validated:
    """One case through ``opr validate --quarantine`` as a user runs it."""

    status: int
    output: str  # standard output and error
    quarantined: dict[str, int] | None  # rows per quarantine file; None: no quarantine folder
    outcome: object  # what load_extract gave the command: the registry, or (error type, message)


@pytest.fixture(scope="module")
def validated(corpus, tmp_path_factory):
    """Each case of the corpus validated once by the command; the reader's answer is kept for the tests of
    what was read (``loaded``): the command's own ``load_extract(folder)``, the reader's default fast path.

    The validated-extract cache is off, as for every test (conftest's ``no_extract_cache``, which is
    function-scoped and so not yet set when this module fixture runs): the reader reads and checks every case,
    and writes no cache beside the corpus (the hand-made one is shared and read-only)."""
    from opr_analysis.extract import reader

    root = tmp_path_factory.mktemp("karantene")
    found = {}
    seen = []

    def load_and_keep(*args, **kwargs):
        try:
            reg = real_load(*args, **kwargs)
        except Exception as exc:
            seen.append((type(exc).__name__, str(exc)))
            raise
        seen.append(reg)
        return reg

    real_load = reader.load_extract
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(reader, "load_extract", load_and_keep)
        mp.setenv("OPR_CACHE", "0")
        for case in corpus:
            q, out, err = root / case.name, io.StringIO(), io.StringIO()
            seen.clear()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                status = main(["validate", str(case.folder), "--quarantine", str(q)])
            got = None
            if q.exists():
                got = {p.stem: len(pd.read_csv(p, dtype=str, keep_default_na=False)) for p in q.glob("*.csv")}
            assert len(seen) == 1, (case.name, seen)  # the command read the extract once
            found[case.name] = Validated(status, out.getvalue() + err.getvalue(), got, seen[0])
    return found


@pytest.mark.slow
def test_each_broken_extract(corpus, validated):
    failures = []
    for case in corpus:
        run = validated[case.name]
        status, out, got = run.status, run.output, run.quarantined
        problems = []
        if status != case.status:
            problems.append(f"status {status} != {case.status}")
        if case.message not in out:
            problems.append(f"message {case.message!r} not in output")
        if got != case.quarantined:
            problems.append(f"quarantine {got} != {case.quarantined}")
        if "Traceback" in out or "uventet feil" in out:
            problems.append("traceback/unexpected error")
        if "nin" in case.notes and (case.notes["nin"] in out or case.notes["nin"][6:] in out):
            problems.append("the identity number is shown")
        if problems:
            failures.append(f"{case.name}: " + "; ".join(problems) + "\n" + out[-800:])
    assert not failures, "\n\n".join(failures)


@pytest.fixture(scope="module")
def loaded(corpus, validated):
    """Each case of the corpus as the reader's default, fast path gave it to ``opr validate``: the registry,
    or the error that stopped it (type and message)."""
    return {case.name: validated[case.name].outcome for case in corpus}


def _registry(loaded, name):
    reg = loaded[name]
    assert not isinstance(reg, tuple), reg  # (error type, message): the case did not load
    return reg


def test_windows_1252_is_not_mojibake(corpus, loaded):
    case = next(c for c in corpus if c.name == "windows_1252")
    reg = _registry(loaded, case.name)
    assert set(reg.enrolments["diagnosis"]) == {case.notes["diagnosis"]}


def test_leading_zero_ids_survive(loaded):
    reg = _registry(loaded, "leading_zero_ids")
    assert reg.patients["patient_id"].str.startswith("000").all()
    assert reg.enrolments["patient_id"].str.startswith("000").all()
    assert str(reg.patients["patient_id"].dtype) == "string"


def test_a_megabyte_cell_is_read_whole(corpus, loaded):
    case = next(c for c in corpus if c.name == "long_cell")
    reg = _registry(loaded, case.name)
    assert case.notes["diagnosis"] in set(reg.enrolments["diagnosis"].dropna())
    assert reg.report.rows_read == _registry(loaded, "leading_zero_ids").report.rows_read


def _outcome(folder):
    """Everything validation answers: the error, or the registry (its problems, quarantine and tables)."""
    try:
        return load_extract(folder)
    except Exception as exc:  # the run stops: compare the message
        return type(exc).__name__, str(exc)


def assert_same_outcome(fast, general, name):
    """The same error, or the same problems, quarantined rows and tables (values, dtypes and index; in object
    columns the kind of blank too, None or NaN, which ``assert_frame_equal`` would take as equal)."""
    if isinstance(fast, tuple) or isinstance(general, tuple):
        assert fast == general, name
        return
    problems = [[(p.table, p.row, p.column, p.value, p.reason) for p in reg.report.problems] for reg in (fast, general)]
    assert problems[0] == problems[1], name
    quarantine = [
        {t: q.astype(str).to_dict("records") for t, q in reg.report.quarantine.items()} for reg in (fast, general)
    ]
    assert quarantine[0] == quarantine[1], name
    assert list(fast.tables) == list(general.tables), name
    for table, a in fast.tables.items():
        b = general.tables[table]
        pd.testing.assert_frame_equal(a, b, check_exact=True, obj=f"{name}: {table}")
        for column in a.select_dtypes(include="object").columns:
            assert [type(v) for v in a[column]] == [type(v) for v in b[column]], (name, table, column)


@pytest.mark.slow
def test_fast_and_general_parsing_paths_agree_on_the_corpus(corpus, loaded):
    """The reader's vectorised date/datetime fast path and its general path give identical
    answers (quarantine reasons, row numbers, values) on every broken extract."""
    from opr_analysis.extract.parsing import general_path_only

    for case in corpus:
        fast = loaded[case.name]
        with general_path_only():
            general = _outcome(case.folder)
        assert_same_outcome(fast, general, case.name)
