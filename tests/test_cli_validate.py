"""`opr validate`: exit status, quarantine files and messages for each kind of bad input."""

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from helpers import BASE, rows, write_base_extract, write_table

from opr_analysis.cli import main
from opr_analysis.safety.nin import make_valid_nin
from opr_analysis.safety.owned import MARKER

REPO = Path(__file__).resolve().parents[1]


def validate(folder, tmp_path, capsys):
    """Run `opr validate` in-process: (exit status, stdout + stderr, quarantine folder)."""
    q = tmp_path / "karantene"
    status = main(["validate", str(folder), "--quarantine", str(q)])
    out, err = capsys.readouterr()
    return status, out + err, q


def files(q: Path) -> list[Path]:
    """The quarantine folder's files, without opr's ownership marker."""
    return [p for p in q.iterdir() if p.name != MARKER]


def quarantine(q: Path, table: str) -> pd.DataFrame:
    return pd.read_csv(q / f"{table}.csv", dtype=str, keep_default_na=False)


def with_changes(table, index, **cells):
    out = rows(table)
    out[index].update(cells)
    return {table: out}


FUTURE = (dt.date.today() + dt.timedelta(days=400)).isoformat()

# name, overrides, table, expected quarantined rows, column, value, reason fragment
ROW_CASES = [
    (
        "wrong type int",
        with_changes("baseline_responses", 0, duration_ms="12 min"),
        "baseline_responses",
        [1],
        "duration_ms",
        "12 min",
        "er ikke et heltall",
    ),
    (
        "wrong type bool",
        with_changes("patients", 3, interpreter_needed="kanskje"),
        "patients",
        [4],
        "interpreter_needed",
        "kanskje",
        "er ikke ja/nei",
    ),
    (
        "wrong type datetime",
        with_changes("baseline_responses", 1, submitted_at="25.02.2022 kl 8"),
        "baseline_responses",
        [2],
        "submitted_at",
        "25.02.2022 kl 8",
        "er ikke et tidspunkt",
    ),
    (
        "unknown code",
        with_changes("referrals", 0, decision="godkjent"),
        "referrals",
        [1],
        "decision",
        "godkjent",
        "ukjent kode (gyldige koder: rett, avvist",
    ),
    ("code in wrong case", with_changes("patients", 3, sex="k"), "patients", [4], "sex", "k", "ukjent kode"),
    (
        "blank required cell",
        with_changes("referrals", 2, assessed_date=""),
        "referrals",
        [3],
        "assessed_date",
        "",
        "mangler verdi",
    ),
    (
        "impossible ISO date",
        with_changes("referrals", 3, assessed_date="2023-02-29"),
        "referrals",
        [4],
        "assessed_date",
        "2023-02-29",
        "datoen finnes ikke",
    ),
    (
        "impossible Norwegian date",
        with_changes("treatments", 1, date="31.04.2022"),
        "treatments",
        [2],
        "date",
        "31.04.2022",
        "datoen finnes ikke",
    ),
    (
        "impossible clock time",
        with_changes("baseline_responses", 2, submitted_at="2023-04-25T24:30:00"),
        "baseline_responses",
        [3],
        "submitted_at",
        "2023-04-25T24:30:00",
        "klokkeslettet finnes ikke",
    ),
    (
        "negative duration",
        with_changes("baseline_responses", 1, duration_ms="-5"),
        "baseline_responses",
        [2],
        "duration_ms",
        "-5",
        "er mindre enn laveste tillatte verdi (0)",
    ),
    (
        "excel serial",
        with_changes("referrals", 1, assessed_date="44603"),
        "referrals",
        [2],
        "assessed_date",
        "44603",
        "ser ut som et Excel-datotall",
    ),
    (
        "future date",
        with_changes("short_forms", 1, date=FUTURE),
        "short_forms",
        [2],
        "date",
        FUTURE,
        "etter dagens dato",
    ),
    (
        "duplicate id",
        with_changes("referrals", 1, referral_id="R01"),
        "referrals",
        [1, 2],
        "referral_id",
        "R01",
        "samme ID står på flere rader (1, 2)",
    ),
    (
        "broken reference",
        with_changes("short_forms", 0, patient_id="P999"),
        "short_forms",
        [1],
        "patient_id",
        "P999",
        "finnes ikke i patients",
    ),
    (
        "anchor missing",
        with_changes("followups", 0, anchor_id="T77"),
        "followups",
        [1],
        "anchor_id",
        "T77",
        "behandlingen finnes ikke i treatments",
    ),
    (
        "anchor wrong kind",
        with_changes("followups", 1, anchor_id="T01"),
        "followups",
        [2],
        "anchor_id",
        "T01",
        "er en RF-behandling, men oppfølgingstypen er scs_6m",
    ),
    (
        "avsluttet_12m on open enrolment",
        with_changes("followups", 2, anchor_id="E02"),
        "followups",
        [3],
        "anchor_id",
        "E02",
        "innskrivingen er ikke avsluttet",
    ),
    (
        "avsluttet_12m on a treatment",
        with_changes("followups", 2, anchor_id="T01"),
        "followups",
        [3],
        "anchor_id",
        "T01",
        "innskrivingen finnes ikke i enrolments",
    ),
]

# P004 has a short form, which goes with it.
ALSO = {
    "wrong type bool": {"short_forms"},
    "code in wrong case": {"short_forms"},
    "impossible Norwegian date": {"followups"},
}  # F02 is anchored on T02


@pytest.mark.parametrize(
    "name, overrides, table, qrows, column, value, reason", ROW_CASES, ids=[c[0] for c in ROW_CASES]
)
def test_row_level_problem_is_quarantined(tmp_path, capsys, name, overrides, table, qrows, column, value, reason):
    status, out, q = validate(write_base_extract(tmp_path, **overrides), tmp_path, capsys)
    assert status == 0
    n = len(BASE[table])
    assert f"{n:>9} {n - len(qrows):>9} {len(qrows):>10}" in out  # read, used, quarantined
    frame = quarantine(q, table)
    assert frame["row"].astype(int).tolist() == qrows
    for r in frame.itertuples():
        assert f"kolonne «{column}», verdi «{value}»" in r.quarantine_reason
        assert reason in r.quarantine_reason
    assert f"{table}.csv, rad {qrows[0]}: kolonne «{column}», verdi «{value}»" in out
    also = ALSO.get(name, set())  # tables quarantined by the cascade through this row
    assert sorted(p.name for p in files(q)) == sorted({f"{table}.csv", *(f"{t}.csv" for t in also)})
    assert "Traceback" not in out


def test_cascade_through_quarantined_parent(tmp_path, capsys):
    """P002 unusable: everything that refers to it, and the follow-up anchored on its treatment, goes too."""
    status, out, q = validate(
        write_base_extract(tmp_path, **with_changes("patients", 1, birth_year="nitten")), tmp_path, capsys
    )
    assert status == 0
    expected = {
        "patients": [2],
        "enrolments": [2],
        "baseline_responses": [2],
        "short_forms": [1],
        "treatments": [2],
        "followups": [2],
    }
    assert sorted(p.stem for p in files(q)) == sorted(expected)
    for table, qrows in expected.items():
        assert quarantine(q, table)["row"].astype(int).tolist() == qrows, table
    assert (
        "kolonne «birth_year», verdi «nitten»: er ikke et heltall" in quarantine(q, "patients")["quarantine_reason"][0]
    )
    assert (
        "kolonne «patient_id», verdi «P002»: viser til en rad i patients som er satt i karantene"
        in quarantine(q, "treatments")["quarantine_reason"][0]
    )
    fu = quarantine(q, "followups")["quarantine_reason"][0]
    assert "kolonne «anchor_id», verdi «T02»: viser til en behandling i karantene" in fu
    assert "referrals" not in {p.stem for p in q.iterdir()}  # referrals need not match patients
    assert "Uttrekket kan brukes. 6 rader er satt i karantene." in out


def test_clean_extract(extract, tmp_path, capsys):
    status, out, q = validate(extract, tmp_path, capsys)
    assert status == 0
    assert "Ingen rader i karantene" in out
    assert q.is_dir() and files(q) == [] and (q / MARKER).is_file()


def test_stale_quarantine_files_are_replaced(tmp_path, capsys):
    status, out, q = validate(
        write_base_extract(tmp_path, **with_changes("patients", 1, birth_year="x")), tmp_path, capsys
    )
    assert status == 0 and len(files(q)) > 1
    status, out, q = validate(
        write_base_extract(tmp_path, **with_changes("referrals", 0, decision="x")), tmp_path, capsys
    )
    assert status == 0 and sorted(p.name for p in files(q)) == ["referrals.csv"]


def test_a_quarantine_folder_opr_did_not_write_is_refused(tmp_path, capsys):
    q = tmp_path / "karantene"
    q.mkdir()
    (q / "mine.csv").write_text("x\n")
    status, out, _ = validate(
        write_base_extract(tmp_path, **with_changes("referrals", 0, decision="x")), tmp_path, capsys
    )
    assert status == 2
    assert out == (
        f"opr validate: mappen «{q}» finnes og er ikke skrevet av opr (inneholder mine.csv); "
        "opr erstatter bare mapper den har skrevet selv, velg en ny eller tom mappe\n"
    )
    assert [p.name for p in q.iterdir()] == ["mine.csv"]


def test_missing_optional_table_is_fine(tmp_path, capsys):
    status, out, q = validate(write_base_extract(tmp_path, drop=("legacy_v1",)), tmp_path, capsys)
    assert status == 0
    assert "legacy_v1" in out and "(finnes ikke, valgfri)" in out


def _two_files(folder):
    write_table(folder, "treatments", rows("treatments"), fmt="xlsx")


def _unreadable(folder):
    (folder / "treatments.csv").unlink()
    (folder / "treatments.parquet").write_bytes(b"PAR1 this is not really parquet")


def _missing_column(folder):
    write_table(folder, "referrals", [{k: v for k, v in r.items() if k != "decision"} for r in rows("referrals")])


def _empty_file(folder):
    (folder / "short_forms.csv").write_bytes(b"")


FATAL_CASES = [
    (
        "missing required table",
        lambda f: (f / "referrals.csv").unlink(),
        "tabellen «referrals» mangler (ventet referrals.csv, .parquet eller .xlsx)",
    ),
    ("missing column", _missing_column, "referrals.csv: mangler kolonne «decision»"),
    (
        "two files for one table",
        _two_files,
        "tabellen «treatments» finnes i flere filer (treatments.csv og treatments.xlsx)",
    ),
    ("unreadable file", _unreadable, "treatments.parquet: filen kan ikke leses som en tabell"),
    ("empty file", _empty_file, "short_forms.csv: filen er tom"),
]


@pytest.mark.parametrize("name, damage, message", FATAL_CASES, ids=[c[0] for c in FATAL_CASES])
def test_unusable_extract_exits_1(tmp_path, capsys, name, damage, message):
    folder = write_base_extract(tmp_path)
    damage(folder)
    status, out, q = validate(folder, tmp_path, capsys)
    assert status == 1
    assert message in out
    assert out.startswith("opr validate: uttrekket kan ikke brukes")
    assert not q.exists()
    assert "Traceback" not in out


NIN_PLACES = [
    ("patients", 0, "patient_id", "{nin}"),
    ("referrals", 2, "patient_id", "{nin}"),
    ("referrals", 1, "region", "{nin}"),
    ("baseline_responses", 0, "duration_ms", "{nin}"),
    ("followups", 1, "responded_at", "{d} {rest}"),  # written DDMMYY NNNNN
    ("enrolments", 0, "diagnosis", "ringt pasient {nin} om timen"),  # free text
    ("treatments", 0, "kommentar", "fnr {nin}"),  # a column the codebook does not know
]


@pytest.mark.parametrize("table, index, column, template", NIN_PLACES, ids=[f"{p[0]}.{p[2]}" for p in NIN_PLACES])
def test_national_identity_number_anywhere_stops_and_writes_nothing(tmp_path, capsys, table, index, column, template):
    nin = make_valid_nin("240577")
    records = rows(table)
    for r in records:
        r.setdefault(column, "")
    records[index][column] = template.format(nin=nin, d=nin[:6], rest=nin[6:])
    status, out, q = validate(write_base_extract(tmp_path, **{table: records}), tmp_path, capsys)
    assert status == 1
    assert "fødselsnummer" in out and "ingenting er skrevet" in out
    assert f"{table}.csv, rad {index + 1}, kolonne «{column}»" in out
    assert nin not in out and nin[6:] not in out  # the number is never repeated
    assert not q.exists()


@pytest.mark.parametrize("born", ["240577", "010203"])  # the second loses its leading zero as a number
def test_nin_in_xlsx_number_cell(tmp_path, capsys, born):
    nin = make_valid_nin(born)
    folder = write_base_extract(tmp_path)
    (folder / "patients.csv").unlink()
    frame = pd.DataFrame(rows("patients"))
    frame["birth_year"] = frame["birth_year"].astype("int64")
    frame.loc[1, "birth_year"] = int(nin)
    frame.to_excel(folder / "patients.xlsx", index=False)
    status, out, q = validate(folder, tmp_path, capsys)
    assert status == 1 and "patients.xlsx, rad 2, kolonne «birth_year»" in out and not q.exists()
    assert nin.lstrip("0") not in out


def test_ten_digit_number_is_not_a_nin(tmp_path, capsys):
    """The check digits keep ordinary long numbers from stopping the run."""
    nin = make_valid_nin("240577")
    broken = nin[:10] + str((int(nin[10]) + 1) % 10)
    status, out, q = validate(
        write_base_extract(tmp_path, **with_changes("baseline_responses", 0, duration_ms=broken)), tmp_path, capsys
    )
    assert status == 0 and "Ingen rader i karantene" in out


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["validate"])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        main(["validate", "x", "--nope"])
    assert exc.value.code == 2


def test_missing_folder_exits_1(tmp_path, capsys):
    status, out, q = validate(tmp_path / "finnes-ikke", tmp_path, capsys)
    assert status == 1 and "fant ikke uttrekksmappen" in out and "Traceback" not in out


def test_subprocess_exit_status_and_output(tmp_path):
    folder = write_base_extract(tmp_path, **with_changes("referrals", 0, decision="godkjent"))
    q = tmp_path / "q"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    ok = subprocess.run(
        [sys.executable, "-m", "opr_analysis", "validate", str(folder), "--quarantine", str(q)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert ok.returncode == 0, ok.stderr
    assert "referrals.csv, rad 1: kolonne «decision», verdi «godkjent»" in ok.stdout
    assert quarantine(q, "referrals")["row"].tolist() == ["1"]
    (folder / "patients.csv").unlink()
    bad = subprocess.run(
        [sys.executable, "-m", "opr_analysis", "validate", str(folder)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert bad.returncode == 1
    assert "tabellen «patients» mangler" in bad.stderr and "Traceback" not in bad.stderr


def test_broken_pipe_is_quiet(tmp_path):
    """`opr validate X | head -1` prints no error about the closed pipe."""
    many = [dict(r, referral_id=f"R{i}", decision="x") for i, r in enumerate(rows("referrals") * 40)]
    folder = write_base_extract(tmp_path, referrals=many)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen(
        [sys.executable, "-m", "opr_analysis", "validate", str(folder)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=tmp_path,
    )
    proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.wait()
    assert "BrokenPipe" not in err and "Traceback" not in err and "uventet feil" not in err


def test_nin_as_a_column_name_stops(tmp_path, capsys):
    nin = make_valid_nin("240577")
    records = [dict(r, **{nin: ""}) for r in rows("treatments")]
    status, out, q = validate(write_base_extract(tmp_path, treatments=records), tmp_path, capsys)
    assert status == 1 and "treatments.csv, overskriftsraden" in out and nin not in out and not q.exists()
