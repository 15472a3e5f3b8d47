"""Issue 12.1: identity numbers written the way people (and spreadsheets) write them are found,
stop the input, never reach an output or a message; digests and tokens do not alarm."""

import hashlib
import uuid

import pandas as pd
import pytest
from helpers import rows, write_base_extract

from opr_analysis import IdentifiableDataError, scan_outputs
from opr_analysis.cli import main
from opr_analysis.extract.validation import ValidationReport
from opr_analysis.safety.nin import find_nins, is_valid_nin, make_valid_nin, mask_nin
from opr_analysis.safety.privacy import scanned_file

NIN = make_valid_nin("010170")  # born on the 1st: loses its leading zero as a number
WIDE = str.maketrans("0123456789", "０１２３４５６７８９")

DISGUISES = {
    "dot": lambda n: f"{n[:6]}.{n[6:]}",
    "hyphen": lambda n: f"{n[:6]}-{n[6:]}",
    "no-break space": lambda n: f"{n[:6]}\u00a0{n[6:]}",
    "two spaces": lambda n: f"{n[:6]}  {n[6:]}",
    "tab": lambda n: f"{n[:6]}\t{n[6:]}",
    "spaced hyphen": lambda n: f"{n[:6]} - {n[6:]}",
    "full-width digits": lambda n: n.translate(WIDE),
    "zero-width space": lambda n: f"{n[:4]}\u200b{n[4:]}",
    "lost leading zero": lambda n: n[1:],
    "lost zero as float": lambda n: f"{n[1:]}.0",
    "lost zero in E-notation": lambda n: f"{n[1]}.{n[2:]}E+09",
    "slash": lambda n: f"{n[:6]}/{n[6:]}",
    # Issue 23: the birth-date part written as a date.
    "date with dots": lambda n: f"{n[:2]}.{n[2:4]}.{n[4:6]} {n[6:]}",
    "date with hyphens, four-digit year": lambda n: f"{n[:2]}-{n[2:4]}-19{n[4:6]} {n[6:]}",
    "short date and slash": lambda n: f"{int(n[:2])}.{int(n[2:4])}.{n[4:6]}/{n[6:]}",
    "date with slashes and spaces": lambda n: f"{n[:2]}/{n[2:4]}/19{n[4:6]}  -  {n[6:]}",
    "date with spaces only": lambda n: f"{n[:2]} {n[2:4]} {n[4:6]} {n[6:]}",
    "ISO date": lambda n: f"19{n[4:6]}-{n[2:4]}-{n[:2]} {n[6:]}",
    "date with mixed separators": lambda n: f"{n[:2]}.{n[2:4]}-{n[4:6]}.{n[6:]}",
    "date in full-width digits and dashes": lambda n: f"{n[:2]}\u2013{n[2:4]}\u2013{n[4:6]}\u00a0{n[6:]}".translate(
        WIDE
    ),
    "date with a zero-width space": lambda n: f"{n[:2]}.\u200b{n[2:4]}.{n[4:6]} {n[6:]}",
}


@pytest.mark.parametrize("disguise", DISGUISES, ids=list(DISGUISES))
def test_each_disguise_is_found_and_masked(disguise):
    text = f"pasient {DISGUISES[disguise](NIN)} ringte"
    assert find_nins(text) == [NIN]
    masked = mask_nin(text)
    assert find_nins(masked) == [] and NIN[6:] not in masked and masked.startswith("pasient 01*")


def test_a_date_form_counts_only_when_its_four_digit_year_is_the_number_s():
    """The individual digits give the century: 01.01.2070 followed by these digits is not this number,
    and a date that continues a longer date or number is not read as one."""
    d, m, y, p = NIN[:2], NIN[2:4], NIN[4:6], NIN[6:]
    assert find_nins(f"{d}.{m}.19{y} {p}") == [NIN]
    for text in (f"{d}.{m}.20{y} {p}", f"20{y}-{m}-{d} {p}", f"2024-{d}.{m}.{y} {p}", f"1{d}.{m}.{y} {p}",
                 f"{d}.{m}.{y} {p}7", f"{d}.{m}.{y} {p}.5"):  # fmt: skip
        assert find_nins(text) == [], text


def test_d_h_and_synthetic_numbers():
    d_number = make_valid_nin("410170")  # day + 40
    h_number = make_valid_nin("014170")  # month + 40
    synthetic = make_valid_nin("018170")  # month + 80 (Skatteetaten's test numbers)
    assert [find_nins(f"x {n} y") for n in (d_number, h_number, synthetic)] == [[d_number], [h_number], [synthetic]]


def _with_check_digits(date_part: str, individual_from: int) -> str:
    """Eleven digits with valid check digits (whatever the date part says), by stdnum's arithmetic."""
    from stdnum.no import fodselsnummer as f

    for individual in range(individual_from, 1000):
        base = f"{date_part}{individual:03d}"
        k1 = f.calc_check_digit1(base)
        k2 = f.calc_check_digit2(base + k1)
        if len(k1) == 1 and len(k2) == 1:
            return base + k1 + k2
    raise AssertionError(date_part)


def test_birth_date_must_be_possible():
    # Valid check digits, but day 32, month 13 or a birth in 2030: ordinary numbers, not identity numbers.
    for date_part, individual in (("320170", 100), ("011370", 100), ("010130", 900)):
        number = _with_check_digits(date_part, individual)
        assert not is_valid_nin(number) and find_nins(f"nr {number}") == []
    assert is_valid_nin(_with_check_digits("010170", 100))


def _digest_holding(number: str) -> str:
    """A 64-character hex string with ``number`` inside between hex letters (as a SHA-256 digest may be)."""
    head = hashlib.sha256(b"x").hexdigest()
    return ("ab" + head[:20] + "c" + number + "d" + head[20:])[:64]


def test_digests_uuids_and_tokens_do_not_alarm():
    digest = _digest_holding(NIN)
    assert NIN in digest and find_nins(digest) == []
    token = uuid.UUID(int=0).hex[:1] + "-".join([]) + f"{uuid.uuid4()}"
    assert find_nins(token) == []
    assert find_nins(f"sha256: {digest}\n") == []
    assert find_nins("p=0." + NIN) == []  # a decimal fraction
    # A person writing an id next to letters is still found.
    assert find_nins(f"fnr{NIN}") == [NIN]


def test_manifest_of_digests_scans_clean(tmp_path):
    (tmp_path / "manifest.json").write_text(
        '{"files": {' + ", ".join(f'"f{i}.csv": "{_digest_holding(NIN)}"' for i in range(3)) + "}}"
    )
    scan_outputs(tmp_path)


# --- the input ----------------------------------------------------------------------------------


def _validate(folder, tmp_path, capsys):
    q = tmp_path / "q"
    status = main(["validate", str(folder), "--quarantine", str(q)])
    out = capsys.readouterr()
    return status, out.out + out.err, q


@pytest.mark.parametrize("disguise", DISGUISES, ids=list(DISGUISES))
def test_each_disguise_stops_the_input(tmp_path, capsys, disguise):
    records = rows("enrolments")
    records[0]["diagnosis"] = f"ringt {DISGUISES[disguise](NIN)}"
    status, out, q = _validate(write_base_extract(tmp_path, enrolments=records), tmp_path, capsys)
    assert status == 1 and "fødselsnummer" in out and "enrolments.csv, rad 1, kolonne «diagnosis»" in out
    assert find_nins(out) == [] and NIN[1:] not in out and not q.exists()


def test_lost_zero_in_a_csv_number_column_stops_the_input(tmp_path, capsys):
    records = rows("baseline_responses")
    records[0]["duration_ms"] = NIN[1:]
    status, out, q = _validate(write_base_extract(tmp_path, baseline_responses=records), tmp_path, capsys)
    assert status == 1 and "kolonne «duration_ms»" in out and NIN[1:] not in out and not q.exists()


def test_duplicate_header_message_does_not_echo_the_number(tmp_path, capsys):
    folder = write_base_extract(tmp_path)
    path = folder / "treatments.csv"
    lines = path.read_text().splitlines()
    lines[0] += f",{NIN},{NIN}"
    path.write_text("\n".join([lines[0], *(line + ",," for line in lines[1:])]) + "\n")
    status, out, _ = _validate(folder, tmp_path, capsys)
    assert status == 1 and "står flere ganger" in out and NIN not in out and NIN[6:] not in out


# --- the outputs --------------------------------------------------------------------------------


@pytest.mark.parametrize("disguise", DISGUISES, ids=list(DISGUISES))
def test_each_disguise_in_an_output_stops_the_write(tmp_path, disguise):
    (tmp_path / "a.csv").write_text(f"id,note\n1,{DISGUISES[disguise](NIN)}\n", encoding="utf-8")
    with pytest.raises(IdentifiableDataError, match="a.csv inneholder et fødselsnummer"):
        scan_outputs(tmp_path)


def test_quarantine_files_are_scanned(tmp_path):
    report = ValidationReport()
    report.quarantine["enrolments"] = pd.DataFrame({"diagnosis": [f"{NIN[:6]}.{NIN[6:]}"], "row": [1]})
    with pytest.raises(IdentifiableDataError):
        report.write_quarantine(tmp_path / "karantene")
    assert not (tmp_path / "karantene").exists()


def test_single_file_outputs_are_scanned(tmp_path):
    target = tmp_path / "oppfolging.csv"
    with pytest.raises(IdentifiableDataError, match="oppfolging.csv"):
        with scanned_file(target) as tmp:
            tmp.write_text(f"patient_id\n{NIN[1:]}\n")
    assert not target.exists() and list(tmp_path.iterdir()) == []


def _workbook(path, where):
    from openpyxl import Workbook
    from openpyxl.comments import Comment

    wb = Workbook()
    ws = wb.active
    ws.append(["n", "k"])
    ws.append([3, "ok"])
    if where == "comment":
        ws["A2"].comment = Comment(f"fnr {NIN}", "x")
    elif where == "header":
        ws.oddHeader.center.text = f"pasient {NIN}"
    elif where == "footer":
        ws.oddFooter.left.text = f"pasient {NIN[:6]}-{NIN[6:]}"
    elif where == "properties":
        wb.properties.title = f"liste {NIN}"
    elif where == "sheet name":
        ws.title = NIN[:6] + " " + NIN[6:]
    elif where == "second sheet":
        wb.create_sheet("skjult").append([int(NIN)])
    wb.save(path)


@pytest.mark.parametrize("where", ["comment", "header", "footer", "properties", "sheet name", "second sheet"])
def test_xlsx_every_part_is_scanned(tmp_path, where):
    _workbook(tmp_path / "t.xlsx", where)
    with pytest.raises(IdentifiableDataError, match="t.xlsx"):
        scan_outputs(tmp_path)


def test_parquet_schema_metadata_is_scanned(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"n": [1, 2]}).replace_schema_metadata({"kilde": f"fnr {NIN}"})
    pq.write_table(table, tmp_path / "t.parquet")
    with pytest.raises(IdentifiableDataError, match="t.parquet"):
        scan_outputs(tmp_path)


def test_csv_neighbours_do_not_hide_a_number():
    assert find_nins(f"1,{NIN[1:]},5\n2,{NIN[:6]}.{NIN[6:]},7") == [NIN, NIN]


@pytest.mark.parametrize("where", ["comment", "second sheet", "properties"])
def test_xlsx_input_with_a_number_outside_the_first_sheet_stops(tmp_path, capsys, where):
    from openpyxl import load_workbook
    from openpyxl.comments import Comment

    folder = write_base_extract(tmp_path)
    frame = pd.read_csv(folder / "treatments.csv", dtype=str, keep_default_na=False)
    (folder / "treatments.csv").unlink()
    frame.to_excel(folder / "treatments.xlsx", index=False)
    wb = load_workbook(folder / "treatments.xlsx")
    if where == "comment":
        wb.active["A2"].comment = Comment(f"fnr {NIN}", "x")
    elif where == "second sheet":
        wb.create_sheet("notater").append([f"{NIN[:6]} {NIN[6:]}"])
    else:
        wb.properties.subject = NIN
    wb.save(folder / "treatments.xlsx")
    status, out, q = _validate(folder, tmp_path, capsys)
    assert status == 1 and "treatments.xlsx, utenfor tabellen" in out and NIN not in out and not q.exists()


def test_every_printed_line_is_masked(tmp_path, capsys):
    status, out, _ = _validate(tmp_path / f"uttrekk-{NIN}", tmp_path, capsys)
    assert status == 1 and "fant ikke uttrekksmappen" in out and NIN not in out and "01*********" in out


def test_parquet_input_metadata_is_checked(tmp_path, capsys):
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = write_base_extract(tmp_path)
    frame = pd.read_csv(folder / "treatments.csv", dtype=str, keep_default_na=False)
    (folder / "treatments.csv").unlink()
    table = pa.Table.from_pandas(frame, preserve_index=False)
    pq.write_table(
        table.replace_schema_metadata({**table.schema.metadata, "kilde": NIN}), folder / "treatments.parquet"
    )
    status, out, q = _validate(folder, tmp_path, capsys)
    assert status == 1 and "treatments.parquet, utenfor tabellen" in out and NIN not in out


def test_a_file_name_in_the_extract_folder_stops(tmp_path, capsys):
    folder = write_base_extract(tmp_path)
    (folder / f"notat {NIN[:6]}-{NIN[6:]}.txt").write_text("x")
    status, out, q = _validate(folder, tmp_path, capsys)
    assert status == 1 and "filnavnet «notat 01*********.txt»" in out and NIN[6:] not in out and not q.exists()


@pytest.mark.parametrize("disguise", DISGUISES, ids=list(DISGUISES))
def test_the_whole_file_prefilter_lets_every_disguise_through(disguise):
    """may_hold_nin is what lets the reader and the output scan skip a clean file: it must never miss."""
    from opr_analysis.safety.nin import may_hold_nin

    text = f"id;dato;notat\r\n7;31.12.2023;{DISGUISES[disguise](NIN)}\r\n"
    assert may_hold_nin(text) and may_hold_nin(text.encode("utf-8"))


def test_a_large_clean_output_is_passed_and_one_number_in_it_is_still_found(tmp_path):
    from opr_analysis.safety.nin import may_hold_nin

    lines = [f"P{i:07d},2024-01-{1 + i % 28:02d},{i % 97}" for i in range(50_000)]
    clean = "patient_id,dato,antall\n" + "\n".join(lines) + "\n"
    assert not may_hold_nin(clean)
    (tmp_path / "a.csv").write_text(clean, encoding="utf-8")
    scan_outputs(tmp_path)  # clean: no error
    (tmp_path / "a.csv").write_text(clean + f"P9,{NIN[:6]} {NIN[6:]},1\n", encoding="utf-8")
    with pytest.raises(IdentifiableDataError, match="a.csv inneholder et fødselsnummer"):
        scan_outputs(tmp_path)


def test_every_written_date_form_is_found_and_passes_the_prefilter():
    """Day and month with one or two digits, a two- or four-digit year, either order, every separator
    (ASCII and Unicode dashes, spaces around them, spaces alone): found, and through the native prefilter."""
    import itertools

    from opr_analysis.safety.nin import may_hold_nin

    seps = [".", "-", "/", " ", " . ", "\u2013", " \u2212 "]
    tails = [" ", "/", "-", ".", "  -  ", "\t", "\u00a0"]
    checked = 0
    for nin in (NIN, make_valid_nin("410170")):  # an ordinary number and a D-number (day + 40)
        d, m, yy, p = nin[:2], nin[2:4], nin[4:6], nin[6:]
        days, months = {d, str(int(d))}, {m, str(int(m))}
        for day, month, year, s1, s2, tail in itertools.product(days, months, [yy, "19" + yy], seps, seps, tails):
            forms = [f"{day}{s1}{month}{s2}{year}{tail}{p}"]
            if len(year) == 4:
                forms.append(f"{year}{s1}{month}{s2}{day}{tail}{p}")
            for form in forms:
                for text in (form, f"Klinikk {form},7", form.translate(WIDE)):
                    assert find_nins(text) == [nin], text
                    assert may_hold_nin(text), text
                    checked += 1
    assert checked > 10_000


def test_the_prefilters_non_ascii_characters_are_every_one_a_hit_can_hold():
    """NON_ASCII_IN_HITS is every character whose NFKC form holds a character of a form (digit, separator,
    E-notation) or that `normalise` removes, computed over all of Unicode; and no NFKC form holds a line
    break, which lets a long text be searched line by line."""
    import unicodedata

    from opr_analysis.safety.nin import _INVISIBLE, NON_ASCII_IN_HITS

    in_forms = set("0123456789 \t./-,+eE\u2212") | {chr(c) for c in range(0x2010, 0x2016)}
    invisible = {chr(c) for c in _INVISIBLE}
    wanted, breaks = [], []
    for code in range(0x80, 0x110000):
        if 0xD800 <= code <= 0xDFFF:
            continue
        char = chr(code)
        nfkc = unicodedata.normalize("NFKC", char)
        if char in invisible or any(c in in_forms or c in invisible for c in nfkc):
            wanted.append(code)
        if "\n" in nfkc:
            breaks.append(code)
    listed = [code for first, last in NON_ASCII_IN_HITS for code in range(first, last + 1)]
    assert listed == wanted, unicodedata.unidata_version
    assert breaks == []


def test_norwegian_text_without_numbers_does_not_pass_the_prefilter():
    from opr_analysis.safety.nin import may_hold_nin

    text = "Smerteklinikken på Ullevål: «Søvn og smerte», ærlig talt\nÅrsrapport for Østlandet\n"
    assert not may_hold_nin(text) and not may_hold_nin(text.encode("utf-8"))
    assert may_hold_nin("Smerteklinikken på Ullevål: 1\u00a0574 henvisninger")  # a no-break space in a number


def _long_page() -> tuple[str, str]:
    """Two halves of a text just over LINEWISE_FROM: Norwegian lines with numbers, and base64 image data."""
    from opr_analysis.safety.nin import LINEWISE_FROM

    image = "iVBORw0KGgoAAAANSUhEUgAAA" * 40  # a line of base64 image data
    lines = [f"<p>Smerteklinikken på Ullevål, linje {i}: 1\u00a0574 (39,3\u00a0%)</p>" for i in range(100)]
    lines[50:50] = [image] * 5
    assert len("\n".join(lines)) > LINEWISE_FROM
    return "\n".join(lines[:52]), "\n".join(lines[52:])


@pytest.mark.parametrize("disguise", DISGUISES, ids=list(DISGUISES))
def test_a_long_text_searched_line_by_line_finds_what_the_whole_text_holds(disguise):
    """has_nin of a long text searches only the lines that pass the prefilter; it finds a number at the
    start, in the middle and at the end of a line, and in the first and the last line, as find_nins does."""
    from opr_analysis.safety.nin import has_nin

    form = DISGUISES[disguise](NIN)
    head, tail = _long_page()
    for text in (
        f"{form}\n{head}\n{tail}",
        f"{head}\n{tail}\n{form}",
        f"{head}\nfnr {form}\n{tail}",
        f"{head}\n<td>{form}</td>\n{tail}",
        f"{head}\nnotat:{form},7\n{tail}",
    ):
        assert has_nin(text) and find_nins(text) == [NIN], disguise


def test_a_long_text_without_a_number_or_with_one_split_by_a_line_break_holds_none():
    from opr_analysis.safety.nin import has_nin

    head, tail = _long_page()
    body = f"{head}\n{tail}"
    assert not has_nin(body) and find_nins(body) == []
    broken = f"{head}\n{NIN[:6]}\n{NIN[6:]}\n{tail}"  # split by a line break it is no number, in either search
    assert not has_nin(broken) and find_nins(broken) == []
