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
                       "--year", "1900")  # fmt: skip
    assert status == 2 and "--year 1900" in _one_line(err)


# --- report parameters ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--year", "1900"],
            "--year 1900 ligger utenfor årene uttrekket dekker (2022–2023); velg et år fra 2023 til 2023",
        ),
        (["--year", "2022"], "--year 2022 er det første året i uttrekket; rapporten sammenligner med årene før"),
        (["--year", "2030"], "rapportåret 2030 ligger etter datoen for kjøringen (2025-03-01)"),
        (["--years-shown", "0"], "--years-shown må være 1 eller større (fikk 0)"),
        (["--min-cell", "0"], "--min-cell må være 1 eller større (fikk 0)"),
        (["--texts", "finnes-ikke"], "fant ikke tekstmappen"),
        (["--year", "x"], "feil: argumentet --year: «x» er ikke et heltall (se «opr report --help»)"),
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
