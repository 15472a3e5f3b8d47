"""Issue 8.3: output scanning; identifiable data stops the run and the file is named, not the value."""

import json

import pandas as pd
import pytest

from opr_analysis import IdentifiableDataError, scan_outputs
from opr_analysis.safety.nin import make_valid_nin
from opr_analysis.safety.privacy import find_ids

NIN = make_valid_nin("290280")


def write(folder, name, content):
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, pd.DataFrame):
        if name.endswith(".parquet"):
            content.to_parquet(path)
        elif name.endswith(".xlsx"):
            content.to_excel(path, index=False)
        elif name.endswith(".sav"):
            import pyreadstat

            pyreadstat.write_sav(content, str(path))
        elif name.endswith(".dta"):
            import pyreadstat

            pyreadstat.write_dta(content, str(path))
    else:
        path.write_text(content, encoding="utf-8")
    return path


def clean_frame():
    return pd.DataFrame({"pid": ["NY0001", "NY0002"], "n": [3, 4], "note": ["ok", "fint"]})


@pytest.mark.parametrize("name", ["t.csv", "t.parquet", "t.xlsx", "t.sav", "t.dta"])
def test_clean_output_passes(tmp_path, name):
    write(tmp_path, name, clean_frame() if not name.endswith(".csv") else clean_frame().to_csv(index=False))
    write(tmp_path, "report/index.html", "<p>1 574 henvisninger, 39,3 %</p>")
    scan_outputs(tmp_path, original_ids=["P0001", "P0002"])


@pytest.mark.parametrize(
    "name, make",
    [
        ("tables/a.csv", lambda nin: f"x,y\n1,{nin}\n"),
        ("report/index.html", lambda nin: f"<td>pasient {nin[:6]} {nin[6:]}</td>"),
        ("nb/analyse.ipynb", lambda nin: json.dumps({"cells": [{"source": [f"fnr = '{nin}'"]}]})),
        ("data.parquet", lambda nin: clean_frame().assign(note=["ok", f"fnr {nin}"])),
        ("data.xlsx", lambda nin: clean_frame().assign(n=[3, int(nin)])),
        ("data.sav", lambda nin: clean_frame().assign(note=["ok", nin])),
        ("data.dta", lambda nin: clean_frame().assign(n=[3.0, float(nin)])),
        ("lost_zero.xlsx", lambda nin: clean_frame().assign(n=[3, int(make_valid_nin("050505"))])),
    ],
)
def test_national_identity_number_in_any_output_file_stops(tmp_path, name, make):
    write(tmp_path, "ok.csv", "a\n1\n")
    write(tmp_path, name, make(NIN))
    with pytest.raises(IdentifiableDataError) as exc:
        scan_outputs(tmp_path)
    message = str(exc.value)
    assert name in message and "fødselsnummer" in message
    assert NIN not in message and NIN[6:] not in message and "fødselsnummer" in message


@pytest.mark.parametrize(
    "name, content",
    [
        ("extract/patients.csv", "pid,birth_year\nNY0001,1960\nP0002,1970\n"),
        ("extract/patients.parquet", pd.DataFrame({"pid": ["NY0001", "P0002"]})),
        ("extract/patients.sav", pd.DataFrame({"pid": ["NY0001", "P0002"]})),
        ("extract/README.md", "Pasient P0002 ble tatt ut."),
    ],
)
def test_original_patient_id_in_extract_stops(tmp_path, name, content):
    write(tmp_path, name, content)
    with pytest.raises(IdentifiableDataError) as exc:
        scan_outputs(tmp_path, original_ids=["P0001", "P0002"])
    assert name in str(exc.value) and "P0002" not in str(exc.value)
    scan_outputs(tmp_path)  # without original ids only identity numbers are looked for


def test_ids_match_whole_tokens_only():
    assert find_ids("a,P0001,b", ["P0001"])
    assert find_ids("(P0001)", ["P0001"])
    assert not find_ids("P00012 XP0001 P0001-2", ["P0001"])
    assert find_ids("id: A/17 ok", ["A/17"])
    assert not find_ids("id: A/170", ["A/17"])


def test_ten_digit_number_with_wrong_check_digits_passes(tmp_path):
    broken = NIN[:10] + str((int(NIN[10]) + 1) % 10)
    write(tmp_path, "a.csv", f"x\n{broken}\n")
    scan_outputs(tmp_path)


def test_unreadable_tabular_file_is_not_passed(tmp_path):
    (tmp_path / "broken.parquet").write_bytes(b"not parquet")
    with pytest.raises(IdentifiableDataError, match="broken.parquet kunne ikke kontrolleres"):
        scan_outputs(tmp_path)


def test_scanned_output_moves_clean_folder_into_place(tmp_path):
    from opr_analysis import scanned_output

    target = tmp_path / "out"
    target.mkdir()
    (target / "old.csv").write_text("x\n")
    with scanned_output(target, original_ids=["P0001"]) as tmp:
        (tmp / "a.csv").write_text("pid\nNY0001\n")
    assert sorted(p.name for p in target.iterdir()) == ["a.csv"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temporary folder left


@pytest.mark.parametrize("planted", ["nin", "original_id"])
def test_scanned_output_keeps_old_folder_when_identifiable(tmp_path, planted):
    from opr_analysis import scanned_output

    target = tmp_path / "out"
    target.mkdir()
    (target / "old.csv").write_text("x\n")
    with pytest.raises(IdentifiableDataError, match="a.csv"):
        with scanned_output(target, original_ids=["P0001"]) as tmp:
            (tmp / "a.csv").write_text(f"pid\n{NIN if planted == 'nin' else 'P0001'}\n")
    assert [p.name for p in target.iterdir()] == ["old.csv"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
