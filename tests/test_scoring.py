"""Scoring functions against hand-worked examples, missing-item boundaries and cut-offs."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from opr_analysis.errors import OprError
from opr_analysis.extract import codebook
from opr_analysis.stats.scoring import (
    answers_to_wide,
    eq5d5l_index,
    load_eq5d5l_value_set,
    score_all,
    score_bpi_interference,
    score_eq5d5l,
    score_hscl10,
    score_isi,
    score_odi,
    score_pcs,
    score_pgic,
    wide_to_answers,
)

NAN = float("nan")
BPI = ["bpi_general_activity", "bpi_mood", "bpi_walking", "bpi_work", "bpi_relations", "bpi_sleep", "bpi_enjoyment"]
ISI = [
    "isi_onset",
    "isi_maintenance",
    "isi_early_waking",
    "isi_satisfaction",
    "isi_interference",
    "isi_noticeable",
    "isi_distress",
]
ODI = [
    "odi_pain",
    "odi_personal_care",
    "odi_lifting",
    "odi_walking",
    "odi_sitting",
    "odi_standing",
    "odi_sleeping",
    "odi_sex_life",
    "odi_social_life",
    "odi_travelling",
]
PCS = [f"pcs_{i:02d}" for i in range(1, 14)]
HSCL = [f"hscl_{i:02d}" for i in range(1, 11)]
EQ = ["eq5d_mo", "eq5d_sc", "eq5d_ua", "eq5d_pd", "eq5d_ad"]


def frame(codes, rows):
    return pd.DataFrame([list(r) for r in rows], columns=codes, dtype=float)


def same(a, b):
    return (isinstance(a, float) and math.isnan(a) and isinstance(b, float) and math.isnan(b)) or a == b


# ------------------------------------------------------------------ instruments file


def test_instrument_items_and_ranges():
    cb = codebook.load()
    assert list(cb.instruments["bpi_interference"].items) == BPI
    assert list(cb.instruments["isi"].items) == ISI
    assert list(cb.instruments["odi"].items) == ODI
    assert list(cb.instruments["pcs"].items) == PCS
    assert list(cb.instruments["hscl10"].items) == HSCL
    assert [(cb.items[c].min, cb.items[c].max) for c in EQ + ["eq5d_vas", "pgic"]] == [(1, 5)] * 5 + [(0, 100), (1, 7)]
    assert cb.instruments["pgic"].questionnaires == ("followup",)
    assert cb.instruments["demographics"].questionnaires == ("baseline",)
    assert cb.items["pgic"].codes[1] == "Svært mye bedre" and cb.items["pgic"].codes[7] == "Svært mye verre"


# ------------------------------------------------------------------ BPI


def test_bpi_four_of_seven_is_scored_three_is_not():
    wide = frame(
        BPI,
        [
            [6, 4, 5, 7, NAN, NAN, NAN],  # 4 answered: mean 22/4
            [6, 4, 5, NAN, NAN, NAN, NAN],  # 3 answered: not valid
            [1, 2, 3, 4, 5, 6, 7],  # complete: 28/7
        ],
    )
    got = score_bpi_interference(wide)["bpi_interference"].tolist()
    assert got[0] == 5.5 and math.isnan(got[1]) and got[2] == 4.0


# ------------------------------------------------------------------ ODI


def test_odi_complete_one_missing_and_two_missing():
    wide = frame(
        ODI,
        [
            [2, 2, 2, 2, 1, 1, 1, 1, 2, 2],  # 16/50 -> 32 %
            [2, 2, 2, 2, 1, 1, 1, NAN, 3, 2],  # 16/45 -> 35.56 % (Fairbank & Pynsent's example)
            [2, 2, 2, 2, 1, 1, 1, NAN, NAN, 2],  # two missed: no index
        ],
    )
    got = score_odi(wide)
    assert got["odi_percent"].iloc[0] == 32.0
    assert got["odi_percent"].iloc[1] == pytest.approx(16 / 45 * 100)
    assert math.isnan(got["odi_percent"].iloc[2])
    assert got["odi_category"].tolist()[:2] == ["moderat", "moderat"] and pd.isna(got["odi_category"].iloc[2])


@pytest.mark.parametrize(
    "total, band",
    [
        (10, "minimal"),
        (11, "moderat"),
        (20, "moderat"),
        (21, "alvorlig"),
        (30, "alvorlig"),
        (31, "invalidiserende"),
        (40, "invalidiserende"),
        (41, "sengeliggende"),
        (50, "sengeliggende"),
        (0, "minimal"),
    ],
)
def test_odi_band_boundaries(total, band):
    # total/50*100 = 2*total: 10 -> 20 % (minimal), 11 -> 22 % (moderat), 20 -> 40 %, 21 -> 42 %, ...
    items = [min(5, max(0, total - 5 * i)) for i in range(10)]
    assert sum(items) == total
    got = score_odi(frame(ODI, [items]))
    assert got["odi_percent"].iloc[0] == 2 * total
    assert got["odi_category"].iloc[0] == band


def test_odi_missed_section_exactly_on_band_edge():
    # 9 answered sections summing to 9: 9/45*100 = 20.0 exactly -> minimal
    got = score_odi(frame(ODI, [[1, 1, 1, 1, 1, 1, 1, 1, 1, NAN]]))
    assert got["odi_percent"].iloc[0] == 20.0 and got["odi_category"].iloc[0] == "minimal"


# ------------------------------------------------------------------ ISI


@pytest.mark.parametrize(
    "total, band",
    [
        (0, "ingen"),
        (7, "ingen"),
        (8, "subklinisk"),
        (14, "subklinisk"),
        (15, "moderat"),
        (21, "moderat"),
        (22, "alvorlig"),
        (28, "alvorlig"),
    ],
)
def test_isi_band_boundaries(total, band):
    items = [min(4, max(0, total - 4 * i)) for i in range(7)]
    got = score_isi(frame(ISI, [items]))
    assert got["isi_total"].iloc[0] == total and got["isi_category"].iloc[0] == band


def test_isi_needs_all_seven_items():
    got = score_isi(frame(ISI, [[4, 4, 4, 4, 4, 4, NAN]]))
    assert math.isnan(got["isi_total"].iloc[0]) and pd.isna(got["isi_category"].iloc[0])


# ------------------------------------------------------------------ PCS


def test_pcs_total_subscales_and_missing():
    row = [1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2, 3]  # items 1..13
    got = score_pcs(frame(PCS, [row]))
    assert got["pcs_total"].iloc[0] == sum(row) == 26
    assert got["pcs_rumination"].iloc[0] == 3 + 4 + 0 + 1  # items 8-11
    assert got["pcs_magnification"].iloc[0] == 1 + 2 + 3  # items 6, 7, 13
    assert got["pcs_helplessness"].iloc[0] == 1 + 2 + 3 + 4 + 0 + 2  # items 1-5, 12
    missing_rumination_item = row.copy()
    missing_rumination_item[8] = NAN  # item 9
    got = score_pcs(frame(PCS, [missing_rumination_item]))
    assert math.isnan(got["pcs_total"].iloc[0]) and math.isnan(got["pcs_rumination"].iloc[0])
    assert got["pcs_magnification"].iloc[0] == 6 and got["pcs_helplessness"].iloc[0] == 12
    assert pd.isna(got["pcs_clinical"].iloc[0])


def test_pcs_clinical_cutoff_at_30():
    r29 = [4, 4, 4, 4, 4, 4, 4, 1, 0, 0, 0, 0, 0]
    r30 = [4, 4, 4, 4, 4, 4, 4, 2, 0, 0, 0, 0, 0]
    got = score_pcs(frame(PCS, [r29, r30]))
    assert got["pcs_total"].tolist() == [29.0, 30.0]
    assert got["pcs_clinical"].tolist() == [False, True]


# ------------------------------------------------------------------ HSCL-10


def test_hscl_caseness_boundary_and_missing_rule():
    low = [2] * 8 + [1, 1]  # mean 1.8
    high = [2] * 9 + [1]  # mean 1.9
    missing = [4] * 7 + [NAN] * 3  # 7 of 10: below the local rule
    eight = [2] * 7 + [1] + [NAN] * 2  # 8 of 10: mean of the 8 answered, 15 / 8
    got = score_hscl10(frame(HSCL, [low, high, missing, eight]))
    assert got["hscl10_mean"].iloc[0] == pytest.approx(1.8) and got["hscl10_mean"].iloc[1] == pytest.approx(1.9)
    assert got["hscl10_case"].tolist()[:2] == [False, True]
    assert math.isnan(got["hscl10_mean"].iloc[2]) and pd.isna(got["hscl10_case"].iloc[2])
    assert got["hscl10_mean"].iloc[3] == pytest.approx(15 / 8) and got["hscl10_case"].iloc[3]
    # a stricter run can still ask for all 10
    strict = score_hscl10(frame(HSCL, [eight]), min_items=10)
    assert math.isnan(strict["hscl10_mean"].iloc[0])


def test_hscl_caseness_is_inclusive_at_exactly_185():
    # Integer answers never average exactly 1.85 over 10 items; fractional values test the ">=" rule.
    got = score_hscl10(frame(HSCL, [[1.85] * 10, [1.84] * 10]))
    assert got["hscl10_mean"].tolist() == pytest.approx([1.85, 1.84])
    assert got["hscl10_case"].tolist() == [True, False]


# ------------------------------------------------------------------ EQ-5D-5L

# States and values copied from MathsinHealth/eq5dsuite-value-sets EQ-5D-5L/NO.csv at commit 2f1a31cf
# (the corrected file; commit 3604fbbe has the state digits reversed)
NO_STATES = {
    "11111": 1.0,
    "11112": 0.928256,
    "12345": 0.13692,
    "24355": -0.110553,
    "43144": 0.106998,
    "35555": -0.312985,
    "52413": 0.475339,
    "55555": -0.453,
    "21111": 0.96884,
    "11223": 0.763736,
    "33333": 0.539399,
    "45512": 0.384381,
}


def test_norwegian_value_set_reproduces_source_table():
    wide = frame(EQ, [[int(d) for d in s] for s in NO_STATES])
    got = eq5d5l_index(wide)
    assert got.round(6).tolist() == pytest.approx(list(NO_STATES.values()), abs=1e-9)


def test_value_set_is_not_the_digit_reversed_version():
    # Mobility level 2 alone (21111) and anxiety/depression level 2 alone (11112) have different values.
    # The earlier upstream NO.csv (commit 3604fbbe) has them swapped: 11112 -> 0.96884, 21111 -> 0.928256.
    got = eq5d5l_index(frame(EQ, [[2, 1, 1, 1, 1], [1, 1, 1, 1, 2]]))
    assert got.round(6).tolist() == [0.96884, 0.928256]
    reversed_digits = eq5d5l_index(frame(EQ, [[1, 1, 1, 1, 2], [2, 1, 1, 1, 1]]))
    assert reversed_digits.round(6).tolist() != got.round(6).tolist()


def test_eq5d_profile_lss_vas_and_missing_dimension():
    wide = frame(EQ + ["eq5d_vas"], [[1, 1, 2, 2, 3, 70], [1, NAN, 2, 2, 3, 55], [NAN] * 5 + [NAN]])
    got = score_eq5d5l(wide)
    assert got["eq5d_profile"].iloc[0] == "11223" and pd.isna(got["eq5d_profile"].iloc[1])
    assert got["eq5d_lss"].iloc[0] == 9 and math.isnan(got["eq5d_lss"].iloc[1])
    assert got["eq5d_vas"].tolist()[:2] == [70.0, 55.0]
    assert got["eq5d_index"].iloc[0] == pytest.approx(0.763736) and math.isnan(got["eq5d_index"].iloc[1])


def test_eq5d_index_with_toy_tables():
    # TOY value sets (not real): each level above 1 costs 0.1 per level step; and a state table.
    toy = pd.DataFrame(
        [(d, lvl, 0.1 * (lvl - 1)) for d in ["mo", "sc", "ua", "pd", "ad"] for lvl in range(1, 6)],
        columns=["dimension", "level", "decrement"],
    )
    wide = frame(EQ, [[1, 1, 1, 1, 1], [2, 3, 1, 1, 5]])
    assert eq5d5l_index(wide, toy).tolist() == pytest.approx([1.0, 1 - 0.1 - 0.2 - 0.4])
    toy_states = pd.DataFrame({"state": ["11111", "23115"], "value": [1.0, 0.25]})
    assert eq5d5l_index(wide, toy_states).tolist() == [1.0, 0.25]
    with pytest.raises(OprError, match="registeret må levere"):
        eq5d5l_index(wide, pd.DataFrame({"x": [1]}))
    with pytest.raises(OprError, match="mangler"):
        eq5d5l_index(wide, toy.iloc[:-1])


def test_packaged_value_set_names_its_source():
    text = (
        pytest.importorskip("importlib.resources").files("opr_analysis") / "data/eq5d5l_value_set_no.csv"
    ).read_text()
    assert "doi:10.1007/s11136-024-03837-3" in text and "MathsinHealth/eq5dsuite-value-sets" in text
    assert len(load_eq5d5l_value_set()) == 25


# ------------------------------------------------------------------ PGIC, range check, score_all


def test_pgic_improved_flag():
    got = score_pgic(pd.DataFrame({"pgic": [1, 2, 3, 4, 7, NAN]}))
    assert got["pgic_improved"].tolist()[:5] == [True, True, False, False, False]
    assert pd.isna(got["pgic_improved"].iloc[5])


def test_out_of_range_answer_is_a_data_error():
    with pytest.raises(OprError, match="isi_onset"):
        score_isi(frame(ISI, [[5, 0, 0, 0, 0, 0, 0]]))


def test_score_all_keeps_index_and_columns():
    wide = frame(["nrs_avg", "nrs_worst"] + ISI, [[5, 8] + [2] * 7, [NAN, 3] + [0] * 7])
    wide.index = pd.Index(["a", "b"], name="response_id")
    got = score_all(wide)
    assert list(got.index) == ["a", "b"]
    assert got.loc["a", "isi_total"] == 14 and got.loc["b", "isi_category"] == "ingen"
    assert got.loc["a", "nrs_worst"] == 8 and math.isnan(got.loc["b", "nrs_avg"])
    assert math.isnan(got.loc["a", "pcs_total"]) and pd.isna(got.loc["a", "eq5d_profile"])


# ------------------------------------------------------------------ long <-> wide


def test_answers_round_trip():
    long = pd.DataFrame(
        {
            "followup_id": ["f2", "f1", "f1", "f2", "f3"],
            "item": ["pgic", "nrs_avg", "pgic", "nrs_worst", "isi_onset"],
            "value": [2.0, 6.0, 4.0, 9.0, 0.0],
        }
    )
    wide = answers_to_wide(long, "followup_id")
    assert list(wide.index) == ["f2", "f1", "f3"]
    assert list(wide.columns) == ["nrs_avg", "nrs_worst", "isi_onset", "pgic"]  # codebook order
    assert wide.loc["f1", "pgic"] == 4.0 and math.isnan(wide.loc["f3", "pgic"])
    back = wide_to_answers(wide, "followup_id")
    key = ["followup_id", "item"]
    pd.testing.assert_frame_equal(
        back.sort_values(key).reset_index(drop=True), long.sort_values(key).reset_index(drop=True)
    )


def test_answers_to_wide_rejects_duplicate_answers():
    long = pd.DataFrame({"response_id": ["r1", "r1"], "item": ["nrs_avg", "nrs_avg"], "value": [1, 2]})
    with pytest.raises(OprError, match="Flere svar"):
        answers_to_wide(long, "response_id")


def test_answers_to_wide_scales():
    rng = np.random.default_rng(1)
    n, items = 20_000, list(codebook.load().items)
    long = pd.DataFrame(
        {
            "response_id": np.repeat(np.arange(n), len(items)),
            "item": np.tile(items, n),
            "value": rng.integers(0, 2, n * len(items)).astype(float),
        }
    )
    wide = answers_to_wide(long, "response_id")
    assert wide.shape == (n, len(items)) and wide.to_numpy().sum() == long["value"].sum()
