"""Every argument is checked before work starts: one Norwegian line, exit status 2, no notebook.

Also: argparse's own texts (usage, headings, errors) and opr's help texts are in Bokmål, and
the Make targets write to folders that cannot replace each other.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from helpers import write_base_extract

from opr_analysis import cli
from opr_analysis.commands._dates import parse_date
from opr_analysis.errors import UsageError
from opr_analysis.report.pipeline import ROOT


def _run(capsys, *argv) -> tuple[int, str]:
    status = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, err


def _one_line(err: str) -> str:
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


# --- dates ------------------------------------------------------------------------------------


def test_both_date_forms_everywhere_and_nothing_else():
    assert parse_date("31.12.2024") == parse_date("2024-12-31")
    for bad in ("", "  ", "2024-02-30", "31/12/2024", "i går"):
        with pytest.raises(UsageError, match="er ikke en dato"):
            parse_date(bad)


@pytest.mark.parametrize("command", ["tables", "followups", "report"])
@pytest.mark.parametrize("value", ["", "2024-13-01", "1.1.24"])
def test_bad_as_of_is_refused_by_every_command(tmp_path, capsys, command, value):
    extract = write_base_extract(tmp_path)
    out = tmp_path / ("out.csv" if command == "followups" else "out")
    argv = (
        ["report", "--extract", extract, "--out", out, "--formats", "html"]
        if command == "report"
        else [command, extract, "--out", out]
    )
    status, err = _run(capsys, *argv, "--as-of", value)
    assert status == 2
    assert _one_line(err) == f"opr {command}: --as-of «{value}» er ikke en dato (skriv ÅÅÅÅ-MM-DD eller DD.MM.ÅÅÅÅ)\n"
    assert not out.exists()


def test_norwegian_date_is_accepted_by_tables_and_report(tmp_path, capsys):
    extract = write_base_extract(tmp_path)
    assert _run(capsys, "tables", extract, "--out", tmp_path / "t", "--as-of", "01.03.2025")[0] == 0
    # The report parses it and goes on to the year check (which this year fails): the date was fine.
    status, err = _run(capsys, "report", "--extract", extract, "--out", tmp_path / "r", "--as-of", "01.03.2025",
                       "--year", "2000")  # fmt: skip
    assert status == 2 and "--year 2000" in _one_line(err)


# --- report parameters ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--year", "2000"],
            "--year 2000 ligger utenfor årene uttrekket dekker (2022–2023); velg et år fra 2023 til 2023",
        ),
        (["--year", "1900"], "argumentet --year: «1900» ligger utenfor 1990–2100"),
        (["--year", "2022"], "--year 2022 er det første året i uttrekket; rapporten sammenligner med årene før"),
        (["--year", "2030"], "rapportåret 2030 ligger etter datoen for kjøringen (2025-03-01)"),
        (["--years-shown", "0"], "argumentet --years-shown: «0» ligger utenfor 1–10"),
        (["--min-cell", "0"], "argumentet --min-cell: «0» ligger utenfor 1–100"),
        (["--texts", "finnes-ikke"], "fant ikke tekstmappen"),
        (["--year", "x"], "feil: argumentet --year: «x» er ikke et årstall (se «opr report --help»)"),
        (["--unit", "x/../../../pwned"], "argumentet --unit: «x/../../../pwned» er ikke en gyldig enhets-ID"),
    ],
)
def test_report_arguments_are_checked_before_any_notebook_runs(tmp_path, capsys, monkeypatch, args, message):
    import papermill

    def no_notebook(*a, **k):
        raise AssertionError("a notebook was started")

    monkeypatch.setattr(papermill, "execute_notebook", no_notebook)
    extract = write_base_extract(tmp_path)
    out = tmp_path / "rapport"
    argv = ["report", "--extract", extract, "--out", out, "--as-of", "2025-03-01", "--formats", "html", *args]
    try:
        status, err = _run(capsys, *argv)
    except SystemExit as exc:  # argparse's own errors
        status, err = exc.code, capsys.readouterr().err
    assert status == 2
    assert message in _one_line(err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["extract"]  # nothing written, no temporary


# --- opr pasient (issue 28) -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--konsultasjonsdato", "31/12/2024"],
            "--konsultasjonsdato «31/12/2024» er ikke en dato (skriv ÅÅÅÅ-MM-DD eller DD.MM.ÅÅÅÅ)",
        ),
        (["--konsultasjonsdato", ""], "--konsultasjonsdato «» er ikke en dato"),
        (
            ["P001", "--konsultasjonsdato", "2022-02-01"],
            "oppgi enten en PASIENT-ID eller --konsultasjonsdato DATO (ikke begge, ikke ingen)",
        ),
        ([], "oppgi enten en PASIENT-ID eller --konsultasjonsdato DATO (ikke begge, ikke ingen)"),
        (["P001", "--as-of", "1.1.24"], "--as-of «1.1.24» er ikke en dato (skriv ÅÅÅÅ-MM-DD eller DD.MM.ÅÅÅÅ)"),
        ([" "], "PASIENT-ID kan ikke være tom"),
        (["X999"], "pasient-ID «X999» finnes ikke i uttrekket (tabellen patients)"),
        (["P001", "--enhet", "ous"], "--enhet gjelder bare sammen med --konsultasjonsdato"),
        (["--konsultasjonsdato", "2022-02-01", "--enhet", "Z"], "ukjent enhet «Z»; enhetene i uttrekket er: ous"),
    ],
)
def test_pasient_arguments_are_checked_before_anything_is_written(tmp_path, capsys, args, message):
    extract = write_base_extract(tmp_path)
    as_of = [] if "--as-of" in args else ["--as-of", "2025-03-01"]
    status, err = _run(capsys, "pasient", *args, "--extract", extract, "--out", tmp_path / "profiler", *as_of)
    assert status == 2
    assert message in _one_line(err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["extract"]  # nothing written, no temporary


def test_pasient_output_folder_is_never_the_extract_or_inside_another_output(tmp_path, capsys):
    extract = write_base_extract(tmp_path)
    status, err = _run(capsys, "pasient", "P001", "--extract", extract, "--out", extract)
    assert status == 2 and "er uttrekksmappen" in _one_line(err)
    assert _run(capsys, "tables", extract, "--out", tmp_path / "tabeller", "--as-of", "2025-03-01")[0] == 0
    for out, words in [
        (tmp_path / "tabeller", "skrevet av «opr tables»"),
        (tmp_path / "tabeller" / "p", "ligger inne i"),
    ]:
        status, err = _run(capsys, "pasient", "P001", "--extract", extract, "--out", out)
        assert status == 2 and words in _one_line(err)
    assert not (tmp_path / "tabeller" / "p").exists()


# --- argparse in Bokmål -----------------------------------------------------------------------


def _argparse_error(capsys, *argv) -> str:
    with pytest.raises(SystemExit) as exc:
        cli.main(list(argv))
    assert exc.value.code == 2
    return _one_line(capsys.readouterr().err)


def test_argparse_errors_are_in_bokmal(capsys):
    assert _argparse_error(capsys, "synth", "--out", "x", "--format", "sav") == (
        "opr synth: feil: argumentet --format: ugyldig valg: 'sav' (velg blant 'csv', 'parquet', 'xlsx') "
        "(se «opr synth --help»)\n"
    )
    assert _argparse_error(capsys, "validate", "x", "--bogus") == (
        "opr: feil: ukjente argumenter: --bogus (se «opr --help»)\n"
    )
    assert _argparse_error(capsys, "tables") == (
        "opr tables: feil: disse argumentene mangler: UTTREKK, --out (se «opr tables --help»)\n"
    )
    assert "ugyldig valg: 'rapport'" in _argparse_error(capsys, "rapport")
    assert "ventet én verdi" in _argparse_error(capsys, "tables", "x", "--out")


@pytest.mark.parametrize("command", [None, *cli.COMMANDS])
def test_help_texts_are_in_bokmal(capsys, command):
    with pytest.raises(SystemExit) as exc:
        cli.main([command, "--help"] if command else ["--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    assert text.startswith("bruk: opr")
    assert "\nvalg:\n" in text and "vis denne hjelpeteksten og avslutt" in text
    english = re.compile(r"\b(usage|options|show this help|the following|default|folder|file to write)\b")
    assert not english.search(text), english.search(text)


# --- Make targets -----------------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_report_and_extract_example_write_to_separate_folders():
    done = subprocess.run(
        ["make", "-n", "-s", "report", "extract-example"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    report = Path(re.search(r"opr report .*--out (\S+)", done.stdout)[1])
    delivery = Path(re.search(r"opr extract .*--out (\S+)", done.stdout)[1])
    assert report not in delivery.parents and delivery not in report.parents and report != delivery
    assert "--log" not in done.stdout  # the delivery log: its default, next to the key store (git-ignored)
    ignored = (ROOT / ".gitignore").read_text().split()
    assert "/keys/" in ignored and "/delivery-log.csv" in ignored


# --- every option of every command: a bad value never gives «uventet feil» (issue 23) -----------------
#
# The parsers are enumerated from argparse itself: a new option without bad values listed in BAD (or
# in FLAGS, for options that take no value) fails test_every_option_has_bad_values. Each bad value is
# run through the real command line on a tiny extract; the run must stop with a Norwegian message
# (never «uventet feil», never a traceback), exit 2 for a value that is wrong in itself (USAGE) and
# 1 or 2 otherwise, and leave nothing behind in the test's folder.

#: Placeholders (in «»), filled per test: files and folders that are wrong where a value is expected.
NOT_A_PATH = ["", "a\0b", "x" * 300]
MISSING = "«missing»"
BAD_OUT_FOLDER = [*NOT_A_PATH, "«foreign»", "«a file»", "«extract»", "«under a file»", "."]
BAD_IN_FOLDER = [*NOT_A_PATH, MISSING, "«a file»"]
BAD_OUT_FILE = [*NOT_A_PATH, "«foreign file»", "«a folder»", "«extract»", "«under a file»"]
BAD_DATES = ["", "2024-13-01", "1.1.24", "9999-12-31", "0001-01-01", "31.12.1989"]
HOSTILE_YAML = [MISSING, "«a folder»", "«cp1252»", "«billion laughs»", "«deep»", "«twice»", "«nin»", "«big»"]
BAD = {
    ("validate", "extract"): BAD_IN_FOLDER,
    ("validate", "quarantine"): BAD_OUT_FOLDER,
    ("codebook", "out"): BAD_OUT_FILE,
    ("tables", "extract"): BAD_IN_FOLDER,
    ("tables", "out"): BAD_OUT_FOLDER,
    ("tables", "as_of"): BAD_DATES,
    ("indicators", "extract"): BAD_IN_FOLDER,
    ("indicators", "out"): BAD_OUT_FOLDER,
    ("indicators", "definitions"): [*NOT_A_PATH, *HOSTILE_YAML, "«definitions misspelt»", "«definitions values»"],
    ("indicators", "as_of"): BAD_DATES,
    ("followups", "extract"): BAD_IN_FOLDER,
    ("followups", "out"): BAD_OUT_FILE,
    ("followups", "as_of"): BAD_DATES,
    ("synth", "out"): BAD_OUT_FOLDER,
    ("synth", "seed"): ["x", "-1", "1.5", str(2**63), "1" * 40],
    ("synth", "scale"): ["x", "0", "-1", "1e-9", "nan", "inf", "1000", "1e400"],
    ("synth", "years"): ["x", "2025-2020", "1800-1801", "1999-2020", "2000-2200", "20202-20203", ""],
    ("synth", "fmt"): ["sav", ""],
    ("synth", "dialect"): ["svensk", ""],
    ("synth", "experiment"): [*NOT_A_PATH, *HOSTILE_YAML, "«experiment misspelt»", "«experiment values»"],
    ("synth", "effect"): ["x", "nan", "inf", "-inf", "2", "-1.5"],
    ("synth", "units"): ["x", "0", "-3", "1000000", "2.5", "«units times scale»"],
    ("report", "extract"): BAD_IN_FOLDER,
    ("report", "year"): ["x", "1900", "99999999999999999999", "2000", "2030", "2022"],
    ("report", "as_of"): BAD_DATES,
    ("report", "formats"): ["rtf", "", ",", "html,exe"],
    ("report", "out"): BAD_OUT_FOLDER,
    ("report", "min_cell"): ["x", "0", "-5", "101", "1e3"],
    ("report", "years_shown"): ["x", "0", "11", "-1"],
    ("report", "texts"): [*NOT_A_PATH, MISSING, "«a file»"],
    ("report", "unit"): ["x/../../../pwned", "../x", "", "a b", "«unknown unit»", "<img src=x onerror=alert(1)>"],
    ("extract", "spec"): [*NOT_A_PATH, *HOSTILE_YAML, "«spec misspelt»", "«spec values»"],
    ("extract", "extract"): BAD_IN_FOLDER,
    ("extract", "out"): BAD_OUT_FOLDER,
    ("extract", "log"): [*NOT_A_PATH, "«a folder»", "«extract»"],
    ("extract", "key_dir"): [*NOT_A_PATH, "«a file»", "«extract»"],
}
for _step in ("plan", "allocate", "analyse"):
    BAD[(f"experiment {_step}", "spec")] = [*NOT_A_PATH, *HOSTILE_YAML, "«experiment misspelt»", "«experiment values»"]
    BAD[(f"experiment {_step}", "extract")] = BAD_IN_FOLDER
    BAD[(f"experiment {_step}", "out")] = BAD_OUT_FOLDER
    BAD[(f"experiment {_step}", "as_of")] = BAD_DATES
BAD[("experiment allocate", "key_dir")] = [*NOT_A_PATH, "«a file»", "«extract»"]
# patients' rights (issue 26): the access answer and the erasure notices
BAD_LOG = [*NOT_A_PATH, "«a folder»", "«extract»", "«foreign file»", "«under a file»"]
for _command in ("innsyn", "sletting"):
    BAD[(_command, "extract")] = BAD_IN_FOLDER
    BAD[(_command, "out")] = [*BAD_OUT_FOLDER, "«report folder»", "«in a report folder»"]
    BAD[(_command, "log")] = BAD_LOG
    BAD[(_command, "key_dir")] = [*NOT_A_PATH, "«a file»", "«extract»"]
BAD[("innsyn", "patient_id")] = ["", " ", "«nin id»", "finnes-ikke", "x" * 300]
BAD[("innsyn", "texts")] = [*NOT_A_PATH, MISSING, "«a file»"]
# the clinician's patient profile (issue 28)
BAD[("pasient", "patient")] = ["", " ", "«nin id»", "finnes-ikke", "x" * 300, "<img src=x onerror=alert(1)>"]
BAD[("pasient", "konsultasjonsdato")] = BAD_DATES
BAD[("pasient", "extract")] = BAD_IN_FOLDER
BAD[("pasient", "out")] = [*BAD_OUT_FOLDER, "«report folder»", "«in a report folder»"]
BAD[("pasient", "enhet")] = ["x/../../../pwned", "", "a b", "«unknown unit»", "<img src=x onerror=alert(1)>"]
BAD[("pasient", "as_of")] = BAD_DATES
# The recall list (issue 27); «sok» is the same command as «søk».
BAD_TEXT = ["", "   ", "a\x01b", "x" * 201]
for _name in ("implantat søk", "implantat sok"):
    BAD[(_name, "extract")] = BAD_IN_FOLDER
    BAD[(_name, "out")] = [*BAD_OUT_FOLDER, "«inside a report»"]
    BAD[(_name, "manufacturer")] = BAD_TEXT
    BAD[(_name, "model")] = BAD_TEXT
    BAD[(_name, "lot")] = BAD_TEXT
    BAD[(_name, "serial")] = BAD_TEXT
    BAD[(_name, "serial_file")] = [*NOT_A_PATH, MISSING, "«a folder»", "«big»", "«a file with control characters»"]
    BAD[(_name, "serial_column")] = ["", "SN"]  # without --serial-file it has nothing to name
    BAD[(_name, "component")] = ["batteri", ""]
    BAD[(_name, "implanted_from")] = BAD_DATES
    BAD[(_name, "implanted_to")] = [*BAD_DATES, "2000-01-01"]  # before --implanted-from in VALID
    BAD[(_name, "as_of")] = BAD_DATES
#: Options that take no value (nothing can be wrong with them).
FLAGS = {("synth", "answers"), ("report", "include_proms"), ("extract", "no_docs")}
#: Bad values that may exit 1 rather than 2: the extract or a file cannot be read (not a wrong argument as such).
NOT_USAGE = {MISSING, "«a file»"}

#: A valid run of each command, as (positional dests, {dest: value}); bad values replace one of them.
VALID = {
    "validate": (["extract"], {"extract": "«extract»", "quarantine": "«new»"}),
    "codebook": ([], {"out": "«new».md"}),
    "tables": (["extract"], {"extract": "«extract»", "out": "«new»", "as_of": "2025-03-01"}),
    "indicators": (["extract"], {"extract": "«extract»", "out": "«new»", "as_of": "2025-03-01"}),
    "followups": (["extract"], {"extract": "«extract»", "out": "«new».csv", "as_of": "2025-03-01"}),
    "synth": ([], {"out": "«new»", "scale": "0.01"}),
    "report": ([], {"extract": "«extract»", "out": "«new»", "as_of": "2025-03-01", "formats": "html"}),
    "extract": (["spec"], {"spec": "«spec»", "extract": "«extract»", "out": "«new»", "key_dir": "«keys»"}),
    "innsyn": (["patient_id"], {"patient_id": "P001", "extract": "«extract»", "out": "«new»", "key_dir": "«keys»"}),
    "sletting": ([], {"extract": "«extract»", "out": "«new»", "key_dir": "«keys»"}),
    "pasient": (["patient"], {"patient": "P001", "extract": "«extract»", "out": "«new»", "as_of": "2025-03-01"}),
    **{
        f"experiment {step}": (
            ["spec"],
            {"spec": "«experiment»", "extract": "«extract»", "out": "«new»", "as_of": "2025-03-01"},
        )
        for step in ("plan", "allocate", "analyse")
    },
    **{
        name: (
            ["extract"],
            {
                "extract": "«extract»",
                "out": "«new»",
                "lot": "VP-2203A",
                "as_of": "2025-03-01",
                "implanted_from": "2021-01-01",
            },
        )
        for name in ("implantat søk", "implantat sok")
    },  # fmt: skip
}


def _subparsers(parser) -> dict[str, object]:
    """Every command (``experiment allocate`` for nested ones) and its parser."""
    import argparse

    found = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                nested = _subparsers(sub)
                found.update({f"{name} {k}": v for k, v in nested.items()} if nested else {name: sub})
    return found


def _options(sub) -> dict[str, object]:
    import argparse

    skip = (argparse._HelpAction, argparse._SubParsersAction, argparse._VersionAction)
    return {a.dest: a for a in sub._actions if not isinstance(a, skip)}


PARSERS = _subparsers(cli.build_parser())


def test_every_option_has_bad_values():
    """A new option (or command) must come with its bad values here."""
    every = {(command, dest) for command, sub in PARSERS.items() for dest in _options(sub)}
    assert every - set(BAD) - FLAGS == set(), "options without bad values in BAD"
    assert set(BAD) | FLAGS <= every, "BAD names options that do not exist"
    assert set(VALID) == set(PARSERS)
    for command, dest in FLAGS:
        assert _options(PARSERS[command])[dest].nargs == 0


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory) -> dict[str, Path]:
    """The valid inputs and the wrong things a value may point at (shared, never changed by a run)."""
    from helpers import BASE_SPEC

    from opr_analysis.safety.nin import make_valid_nin

    base = tmp_path_factory.mktemp("argumenter")
    f = {"extract": write_base_extract(base), "base": base}
    (base / "en-fil.txt").write_text("x\n")
    f["a file"] = base / "en-fil.txt"
    f["a folder"] = base / "en-mappe"
    f["a folder"].mkdir()
    f["foreign"] = base / "fremmed"
    f["foreign"].mkdir()
    (f["foreign"] / "notater.txt").write_text("mine\n")
    f["foreign file"] = base / "fremmed.csv"
    f["foreign file"].write_text("mitt,eget\n1,2\n")
    f["under a file"] = f["a file"] / "under"
    yaml_files = {
        "cp1252": "title: Søvn og smerte\n".encode("cp1252"),
        "billion laughs": (
            "\n".join(
                ['a: &a ["lol","lol","lol"]'] + [f"{c}: &{c} [*{p},*{p},*{p}]" for p, c in zip("abcdefg", "bcdefgh")]
            )
        ).encode(),
        "deep": b"a: " + b"[" * 5000 + b"]" * 5000,
        "twice": b"id: a\nid: b\n",
        "nin": f"id: e-{make_valid_nin('010170')[:6]}-{make_valid_nin('010170')[6:]}\n".encode(),
        "big": b"# " + b"x" * 300_000 + b"\n",
        "spec misspelt": yaml.safe_dump({**BASE_SPEC, "formatz": ["csv"]}).encode(),
        "spec values": yaml.safe_dump(
            {**BASE_SPEC, "period": {"from": "0001-01-01"}, "disclosure": {"k": -5}}
        ).encode(),
        "experiment misspelt": (EXPERIMENT + "parms: {a: 1}\n").encode(),
        "experiment values": (
            EXPERIMENT.replace("block_sizes: [2, 4]", "block_sizes: [1000000000]").replace("kinds: [rf_3m]", "kinds: 5")
            + "first_year: -100000000\n"
        ).encode(),
        "definitions misspelt": DEFINITION.replace("params:", "parms:").encode(),
        "definitions values": DEFINITION.replace("green: 0.9", "green: høy")
        .replace("min_denominator: 5", "min_denominator: -5")
        .replace("days: 30", "dager: 30")
        .encode(),
        "spec": yaml.safe_dump({**BASE_SPEC, "formats": ["csv"]}).encode(),
        "experiment": EXPERIMENT.encode(),
    }
    for name, data in yaml_files.items():
        f[name] = base / f"{name.replace(' ', '-')}.yaml"
        f[name].write_bytes(data)
    f["keys"] = base / "nokler"
    from opr_analysis.safety.owned import owned_dir

    with owned_dir(base / "rapport", "report") as tmp:  # an opr report folder: no access answer may go there
        (tmp / "arsrapport.html").write_text("x\n")
    f["report folder"] = base / "rapport"
    f["in a report folder"] = base / "rapport" / "innsyn"
    f["inside a report"] = base / "rapport" / "tilbakekalling"  # a report folder (its marker) holds it
    f["a file with control characters"] = base / "serienumre.txt"
    f["a file with control characters"].write_bytes(b"NSM1\nNSM\x072\n")
    return f


EXPERIMENT = """id: kort-test
question: Svarer flere med kort skjema?
window: {first_due: 2025-01-01, last_due: 2025-06-30}
kinds: [rf_3m]
block_sizes: [2, 4]
minimal_difference: 0.1
"""
DEFINITION = """indicators:
  - id: ny
    title: T
    short: s
    long: l
    type: share
    statistic: waiting_within
    params: {days: 30}
    direction: higher
    green: 0.9
    yellow: 0.7
    min_denominator: 5
    first_year: 2022
"""


def _fill(value: str, fixtures: dict, case: Path) -> str:
    if value == "«new»" or value.startswith("«new»."):
        return str(case / ("ut" + value[len("«new»") :]))
    if value == MISSING:
        return str(case / "finnes-ikke")
    if value == "«unknown unit»":
        return "finnes-ikke"
    if value == "«units times scale»":
        return "20"
    if value == "«nin id»":  # built at run time, never stored
        from opr_analysis.safety.nin import make_valid_nin

        return make_valid_nin("010170")
    if value.startswith("«") and value.endswith("»"):
        return str(fixtures[value[1:-1]])
    return value


def _tree(folder: Path) -> set:
    return {(p.relative_to(folder).as_posix(), p.stat().st_mtime_ns if p.is_file() else 0) for p in folder.rglob("*")}


CASES = [(command, dest, value) for (command, dest), values in BAD.items() for value in values]


@pytest.mark.parametrize(("command", "dest", "value"), CASES, ids=[f"{c}-{d}-{v!r}"[:80] for c, d, v in CASES])
def test_a_bad_value_of_any_option_is_refused_clearly(fixtures, tmp_path, monkeypatch, capsys, command, dest, value):
    import papermill

    def no_notebook(*a, **k):
        raise AssertionError("a notebook was started")

    monkeypatch.setattr(papermill, "execute_notebook", no_notebook)
    monkeypatch.setenv("OPR_KEY_DIR", str(tmp_path / "nokkellager"))
    monkeypatch.setenv("OPR_LOCK_DIR", str(tmp_path / "laaser"))
    monkeypatch.chdir(tmp_path)
    positional, values = VALID[command]
    values = {**values, dest: value}
    if value == "«units times scale»":
        values["scale"] = "50"
    options = _options(PARSERS[command])
    argv = command.split()
    argv += [_fill(values[d], fixtures, tmp_path) for d in positional]
    for d, v in values.items():
        if d not in positional:
            argv += [options[d].option_strings[0], _fill(v, fixtures, tmp_path)]
    before_fixtures, before_case = _tree(fixtures["base"]), _tree(tmp_path)
    try:
        status = cli.main(argv)
    except SystemExit as exc:  # argparse refuses the value itself
        status = exc.code
    err = capsys.readouterr().err
    assert status in ((2,) if value not in NOT_USAGE else (1, 2)), err
    assert any(line.startswith(f"opr {command.split()[0]}") for line in err.splitlines()), err
    assert "uventet feil" not in err and "Traceback" not in err, err
    assert _tree(fixtures["base"]) == before_fixtures  # nothing written, nothing replaced
    assert {p for p, _ in _tree(tmp_path) - before_case} <= {"laaser"} | {
        p for p, _ in _tree(tmp_path) if p.startswith("laaser/")
    }
