"""Hostile files are refused quickly (opr_analysis.safety.limits and the CSV/XLSX reader)."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile

import pytest
from helpers import write_base_extract

from opr_analysis import load_extract
from opr_analysis.errors import ExtractError, UsageError
from opr_analysis.extract.sources import read_table
from opr_analysis.report.pipeline import ROOT
from opr_analysis.safety import limits

BILLION_LAUGHS = "\n".join(
    ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)}]" for i in range(8)]
    + ["project: *i"]
)


def test_billion_laughs_spec_is_refused_before_any_work(tmp_path):
    """Refused at its first anchor, before any expansion and before pandas is even imported."""
    spec = tmp_path / "bombe.yaml"
    spec.write_text(BILLION_LAUGHS, encoding="utf-8")
    assert spec.stat().st_size < 1024
    probe = (
        "import sys; from opr_analysis.cli import main; "
        f"rc = main(['extract', {str(spec)!r}, '--extract', {str(tmp_path)!r}, '--out', {str(tmp_path / 'ut')!r}]); "
        "print('pandas' in sys.modules); sys.exit(rc)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True
    )
    assert done.returncode == 2 and done.stdout == "False\n"
    assert done.stderr == (
        "opr extract: bombe.yaml, linje 1: YAML-ankre og -aliaser (&navn, *navn) er ikke tillatt; skriv verdiene ut\n"
    )
    assert not (tmp_path / "ut").exists()


def test_large_and_deeply_nested_yaml_is_refused():
    with pytest.raises(UsageError, match="større enn grensen på 262 144 byte"):
        limits.load_yaml(b"a: " + b"x" * limits.MAX_YAML_BYTES, "stor.yaml")
    with pytest.raises(UsageError, match="nestet for dypt|ikke gyldig YAML"):
        limits.load_yaml(b"[" * 100_000, "dyp.yaml")
    assert limits.load_yaml("project: søvn\nvariables: {enrolments: [age_band]}".encode(), "ok.yaml") == {
        "project": "søvn",
        "variables": {"enrolments": ["age_band"]},
    }


def _zip(path, members: dict[str, bytes]):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def test_zip_bomb_is_refused_before_anything_is_inflated(tmp_path, monkeypatch):
    bomb = _zip(tmp_path / "treatments.xlsx", {"xl/worksheets/sheet1.xml": b"\0" * (32 * 1024**2)})
    assert bomb.stat().st_size < 100_000

    def inflate(*a, **k):
        raise AssertionError("the sheet was opened")

    monkeypatch.setattr("pandas.read_excel", inflate)
    with pytest.raises(ExtractError, match=r"delen «xl/worksheets/sheet1.xml» pakkes ut \d[\d ]* ganger"):
        read_table(bomb, "treatments")
    monkeypatch.setattr(limits, "MAX_XLSX_UNCOMPRESSED", 1024**2)  # the total, checked first
    with pytest.raises(ExtractError, match="pakkes ut til 32 MiB, mer enn grensen på 1 MiB"):
        read_table(bomb, "treatments")


def test_a_real_excel_sheet_passes_the_check(tmp_path):
    extract = write_base_extract(tmp_path, fmt="xlsx")
    assert load_extract(extract).report.rows_quarantined == 0


def _referrals(extract, edit):
    path = extract / "referrals.csv"
    lines = path.read_text(encoding="utf-8").split("\n")
    edit(lines)
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def test_a_quoted_line_break_in_a_code_column_stops_the_read(tmp_path):
    extract = write_base_extract(tmp_path)

    def edit(lines):  # valid CSV quoting, but a code has no line breaks: a row would hide in it
        lines[1] = lines[1].replace(",rett,", ',"rett\nR99,P001,2022-01-11,rett",')

    path = _referrals(extract, edit)
    with pytest.raises(
        ExtractError, match="rad 1: et felt i anførselstegn går over linjene 2–3, og kolonne «decision»"
    ):
        read_table(path, "referrals")


def test_line_breaks_in_free_text_are_read_and_rows_equal_records(tmp_path):
    extract = write_base_extract(tmp_path)
    path = extract / "enrolments.csv"
    lines = path.read_text(encoding="utf-8").rstrip("\n").split("\n")
    lines[0] += ",diagnosis"
    lines[1] += ',"Ryggsmerte,\nutstråling til ben"'
    lines[2:] = [line + ",M54.5" for line in lines[2:]]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    raw = read_table(path, "enrolments")
    assert raw.rows_read == len(lines) - 1  # data records; the free-text line break is one row
    assert raw.cells.loc[1, "diagnosis"] == "Ryggsmerte,\nutstråling til ben"


def test_well_formed_file_rows_read_equal_physical_data_lines(tmp_path):
    extract = write_base_extract(tmp_path)
    path = _referrals(extract, lambda lines: lines.__setitem__(2, lines[2].replace(",rett,", ',"rett",')))
    physical = len(path.read_text(encoding="utf-8").strip("\n").split("\n")) - 1
    assert read_table(path, "referrals").rows_read == physical
