"""The CSV fast path (Arrow columns kept as Arrow strings): stripping skipped only where nothing
can be stripped, and the identity-number prefilter run once over the file's bytes."""

from pathlib import Path

import pandas as pd

from opr_analysis.extract.sources import read_table
from opr_analysis.safety.nin import make_valid_nin


def test_csv_cells_stripped_as_pandas_strips_them(tmp_path):
    """The reader skips stripping a column whose cells all start and end with printable ASCII;
    every other column is stripped, so cells come out as ``str.strip`` on Arrow strings gives them."""
    cells = ["a", " b", "c ", "\u00a0d\u00a0", "\u3000e", "f\u2009", "\tg", "h\x1f", "x y", "", "\u00e6", "\u00e6 "]
    rows = "\n".join(f"R{i},{c},plain" for i, c in enumerate(cells))
    path = Path(tmp_path) / "t.csv"
    path.write_text("id,text,other\n" + rows + "\n", encoding="utf-8")
    raw = read_table(path, "t")
    expected = pd.Series(cells, dtype="string").str.strip().tolist()
    assert raw.cells["text"].tolist() == expected
    assert raw.cells["other"].tolist() == ["plain"] * len(cells)
    assert str(raw.cells["text"].dtype) == "string"


def test_prefilter_over_the_file_flags_every_form_a_cell_can_hide(tmp_path):
    nin = make_valid_nin("010190")
    plain = "id;when;n\r\nR1;31.12.2023 14:05:09;12345\r\nR2;2023-12-31T14:05;1,5\r\n"
    path = Path(tmp_path) / "t.csv"
    path.write_bytes(b"\xef\xbb\xbf" + plain.encode())
    assert read_table(path, "t").maybe_nin is False
    forms = (nin, nin[1:], f"{nin[:6]} {nin[6:]}", f"{nin[:6]}.{nin[6:]}", "1.017012343E+09", "\u00a0", "\uff11")
    for disguise in forms:  # the last two: a no-break space and a full-width digit, parts of disguised numbers
        path.write_text(plain + f'R3;"x {disguise} y";1\r\n', encoding="utf-8")
        assert read_table(path, "t").maybe_nin is True, disguise
    # Norwegian letters alone are no part of a number: the file needs no cell-by-cell scan
    path.write_text(plain + 'R3;"Smerteklinikken på Ullevål, «ærlig»";1\r\n', encoding="utf-8")
    assert read_table(path, "t").maybe_nin is False
