"""Seed tables 10 and 11: counting rules and an extract rebuilt from the seed's own rows."""

import math

import pandas as pd
import pytest
from helpers import make_extract

from opr_analysis import referrals_assessed, referrals_by_region

# Seed table 11 rows: (decision, year) -> lokal, nasjonal, regional, «annet» og blanke
SEED_11 = {
    ("rett", 2021): (618, 122, 834, 34),
    ("rett", 2022): (561, 136, 818, 27),
    ("rett", 2023): (450, 96, 514, 67),
    ("avvist", 2021): (319, 61, 310, 1),
    ("avvist", 2022): (330, 75, 391, 1),
    ("avvist", 2023): (429, 73, 447, 2),
}
# Seed's printed region shares (per cent, one decimal): lokal, nasjonal, regional
SEED_11_PCT = {
    ("rett", 2021): (39.3, 7.8, 53.0),
    ("rett", 2022): (37.0, 9.0, 54.0),
    ("rett", 2023): (42.5, 9.1, 48.5),
    ("avvist", 2021): (46.2, 8.8, 44.9),
    ("avvist", 2022): (41.5, 9.4, 49.1),
    ("avvist", 2023): (45.2, 7.7, 47.1),
}
# Seed table 10: assessed, rejected (assessed = rett + avvist + videresendt)
SEED_10 = {2021: (2299, 691), 2022: (2339, 797), 2023: (2080, 951)}


def _seed_rows():
    rows = []
    for (decision, year), (lok, nas, reg, other) in SEED_11.items():
        date = f"{year}-06-15"
        rows += [dict(assessed_date=date, decision=decision, region="lokal")] * lok
        rows += [dict(assessed_date=date, decision=decision, region="nasjonal")] * nas
        rows += [dict(assessed_date=date, decision=decision, region="regional")] * reg
        blanks = other // 2
        rows += [dict(assessed_date=date, decision=decision, region="annet")] * (other - blanks)
        rows += [dict(assessed_date=date, decision=decision, region="")] * blanks
    for year, (assessed, _) in SEED_10.items():
        forwarded = assessed - sum(sum(SEED_11[(d, year)]) for d in ("rett", "avvist"))
        rows += [dict(assessed_date=f"{year}-03-01", decision="videresendt", region="lokal")] * forwarded
        # not assessed referrals: never counted anywhere
        rows += [dict(assessed_date=f"{year}-03-01", decision="apen_retur", region="lokal")] * 7
        rows += [dict(assessed_date=f"{year}-03-01", decision="foresporsel", region="")] * 5
    return rows


@pytest.fixture(scope="module")
def seed_reg(tmp_path_factory):
    return make_extract(tmp_path_factory.mktemp("seed"), referrals=_seed_rows())


def test_seed_table_10(seed_reg):
    t = referrals_assessed(seed_reg).set_index("year")
    assert list(t.index) == [2021, 2022, 2023]
    for year, (assessed, rejected) in SEED_10.items():
        assert t.at[year, "assessed"] == assessed
        assert t.at[year, "rejected"] == rejected
        assert t.at[year, "rejected_share"] == pytest.approx(rejected / assessed)
    # the seed prints whole per cents: 30 %, 34 %, 46 %
    assert [round(100 * s) for s in t["rejected_share"]] == [30, 34, 46]
    assert (t["rejected_share_ci_low"] < t["rejected_share"]).all()
    assert (t["rejected_share"] < t["rejected_share_ci_high"]).all()


def test_seed_table_11(seed_reg):
    t = referrals_by_region(seed_reg).set_index(["decision", "year", "region"]).sort_index()
    for (decision, year), (lok, nas, reg, other) in SEED_11.items():
        g = t.loc[(decision, year)]
        assert g.loc[["lokal", "nasjonal", "regional", "annet_blank"], "n"].tolist() == [lok, nas, reg, other]
        pct = [round(100 * g.at[r, "share"], 1) for r in ("lokal", "nasjonal", "regional")]
        assert pct == list(SEED_11_PCT[(decision, year)])
        assert g.loc[["lokal", "nasjonal", "regional"], "share"].sum() == pytest.approx(1.0)
        assert math.isnan(g.at["annet_blank", "share"])
    totals = t.groupby(level=["decision", "year"])["n"].sum()
    # the seed printed 1 515 for 2022; its own rows add up to 1 542
    assert totals[("rett", 2022)] == 1542
    assert totals[("rett", 2021)] == 1608 and totals[("rett", 2023)] == 1127
    assert [totals[("avvist", y)] for y in (2021, 2022, 2023)] == [691, 797, 951]


def test_not_assessed_decisions_are_left_out(tmp_path):
    reg = make_extract(
        tmp_path,
        referrals=[
            dict(assessed_date="2020-05-01", decision="apen_retur"),
            dict(assessed_date="2021-05-01", decision="rett"),
            dict(assessed_date="2021-05-01", decision="videresendt"),
            dict(assessed_date="2021-05-01", decision="foresporsel"),
            dict(assessed_date="2023-01-01", decision="avvist"),
            dict(assessed_date="2024-01-01", decision="foresporsel"),
        ],
    )
    t = referrals_assessed(reg)
    # years run over the assessed referrals only, gaps included
    assert t["year"].tolist() == [2021, 2022, 2023]
    assert t["assessed"].tolist() == [2, 0, 1]
    assert t["rejected"].tolist() == [0, 0, 1]
    assert t["rejected_share"].iloc[0] == 0.0
    assert pd.isna(t["rejected_share"].iloc[1])  # 0/0 is blank
    assert pd.isna(t["rejected_share_ci_low"].iloc[1])


def test_region_denominator_excludes_annet_and_blank(tmp_path):
    reg = make_extract(
        tmp_path,
        referrals=[
            dict(assessed_date="2021-01-01", decision="rett", region="lokal"),
            dict(assessed_date="2021-01-01", decision="rett", region="regional"),
            dict(assessed_date="2021-01-01", decision="rett", region="regional"),
            dict(assessed_date="2021-01-01", decision="rett", region="annet"),
            dict(assessed_date="2021-01-01", decision="rett", region=""),
            dict(assessed_date="2021-01-01", decision="avvist", region=""),
            dict(assessed_date="2021-01-01", decision="videresendt", region="lokal"),
        ],
    )
    t = referrals_by_region(reg).set_index(["decision", "region"])
    assert len(t) == 8  # one year x two decisions x four regions
    assert t.at[("rett", "lokal"), "share"] == pytest.approx(1 / 3)
    assert t.at[("rett", "regional"), "share"] == pytest.approx(2 / 3)
    assert t.at[("rett", "nasjonal"), "share"] == 0.0
    assert t.at[("rett", "annet_blank"), "n"] == 2
    assert pd.isna(t.at[("rett", "annet_blank"), "share"])
    # rejected: only a blank region, so every share is 0/0 -> blank
    assert t.at[("avvist", "annet_blank"), "n"] == 1
    assert t.loc["avvist", "share"].isna().all()
    assert t.loc["avvist", "n"].sum() == 1


def test_referrals_by_sex_age_counts_granted_referrals_with_unknown_patients_apart(tmp_path):
    from opr_analysis import referrals_by_sex_age

    reg = make_extract(
        tmp_path,
        patients=[dict(patient_id="P1", birth_year=1980, sex="K"), dict(patient_id="P2", birth_year=2010, sex="M"),
                  dict(patient_id="P3", birth_year=1940, sex="K")],
        referrals=[
            dict(patient_id="P1", assessed_date="2024-03-01", decision="rett"),  # K, 44: 40–49
            dict(patient_id="P2", assessed_date="2024-05-01", decision="rett"),  # M, 14: 0–17
            dict(patient_id="P3", assessed_date="2024-06-01", decision="rett"),  # K, 84: 80+
            dict(patient_id="PX", assessed_date="2024-07-01", decision="rett"),  # not in patients: ukjent
            dict(patient_id="P1", assessed_date="2024-08-01", decision="avvist"),  # not granted
            dict(patient_id="P1", assessed_date="2023-02-01", decision="rett"),  # K, 43, in 2023
        ],
    )  # fmt: skip
    t = referrals_by_sex_age(reg)
    groups = ["0–17", "18–29", "30–39", "40–49", "50–59", "60–69", "70–79", "80+", "ukjent"]
    assert t["age_group"].drop_duplicates().tolist() == groups
    assert t["sex"].drop_duplicates().tolist() == ["K", "M", "ukjent"]
    assert len(t) == 2 * 3 * 9  # every year × sex × age group, zeros included
    n = t.set_index(["year", "sex", "age_group"])["n"]
    assert n[n > 0].to_dict() == {
        (2023, "K", "40–49"): 1,
        (2024, "K", "40–49"): 1,
        (2024, "K", "80+"): 1,
        (2024, "M", "0–17"): 1,
        (2024, "ukjent", "ukjent"): 1,
    }
    # a year's total is table 11's total of referrals granted the right to health care (a declared margin)
    region = referrals_by_region(reg)
    assert (
        t.groupby("year")["n"].sum().tolist()
        == region[region["decision"] == "rett"].groupby("year")["n"].sum().tolist()
    )
