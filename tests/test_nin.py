"""National identity numbers: found by their check digits, anywhere in a cell, never shown."""

import pandas as pd

from opr_analysis.safety.nin import find_nins, is_valid_nin, make_valid_nin, mask_nin, nin_cells


def test_made_number_is_valid_and_one_digit_off_is_not():
    nin = make_valid_nin("150385")
    assert is_valid_nin(nin)
    broken = nin[:10] + str((int(nin[10]) + 1) % 10)
    assert not is_valid_nin(broken)
    assert not is_valid_nin(nin[:10])  # ten digits
    assert not is_valid_nin("1" * 10 + "x")


def test_found_in_free_text_with_or_without_space():
    nin = make_valid_nin("010190")
    assert find_nins(f"pasient {nin} ringte") == [nin]
    assert find_nins(f"fnr {nin[:6]} {nin[6:]}.") == [nin]
    assert find_nins(f"x{nin}9") == []  # part of a longer number


def test_full_width_digits_are_numbers_too():
    nin = make_valid_nin("010190")
    wide = "".join(chr(ord("０") + int(d)) for d in nin)
    assert find_nins(wide) == [nin]


def test_nin_cells_marks_only_valid_numbers():
    nin = make_valid_nin("311299")
    s = pd.Series(["P0001", nin, f"se {nin}", "12345678901", "", None], dtype="string")
    assert nin_cells(s).tolist() == [False, True, True, is_valid_nin("12345678901"), False, False]


def test_mask_keeps_two_digits():
    nin = make_valid_nin("010190")
    masked = mask_nin(f"a {nin} b")
    assert nin not in masked and masked == f"a {nin[:2]}{'*' * 9} b"
