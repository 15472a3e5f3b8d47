"""The synthetic implant register (opr_analysis.synth.implants): shape, realism, its own random stream."""

from __future__ import annotations

import pandas as pd
import pytest

from opr_analysis.extract.reader import load_extract
from opr_analysis.synth import implants as synth_implants_module
from opr_analysis.synth.registry import synthesize, write_tables
from opr_analysis.synth.units import synthesize_units


@pytest.fixture(scope="module")
def full():
    return synthesize(seed=3, scale=1, generators=[])


def test_one_system_per_scs_treatment(full):
    t, imp = full.tables["treatments"], full.tables["implants"]
    scs = t[t["kind"] == "scs"].set_index("treatment_id")
    assert set(imp["treatment_id"]) == set(scs.index)
    first = imp.groupby("treatment_id")["implanted_date"].min()
    assert (first == scs.loc[first.index, "date"]).all()  # implanted on the treatment's date
    # at the start: one generator, one or two electrodes, sometimes an extension; one manufacturer
    at_start = imp[imp["implanted_date"] == imp["treatment_id"].map(scs["date"])]
    counts = at_start.groupby(["treatment_id", "component"]).size().unstack(fill_value=0)
    assert (counts["generator"] == 1).all()
    assert set(counts["elektrode"]) == {1, 2}
    assert 0 < counts["annet"].mean() < 0.2
    assert (imp.groupby("treatment_id")["manufacturer"].nunique() == 1).all()
    assert imp["patient_id"].equals(imp["treatment_id"].map(scs["patient_id"]))


def test_explants_at_realistic_times(full):
    imp = full.tables["implants"]
    out = imp[imp["explanted_date"].notna()]
    days = (out["explanted_date"] - out["implanted_date"]).dt.days
    reason = out["explant_reason"]
    assert set(reason) == {"infeksjon", "elektrodevandring", "batteri", "lommesmerte", "manglende_effekt", "annet"}
    assert days[reason == "infeksjon"].between(7, 91).all()  # early
    assert days[reason == "elektrodevandring"].between(5, 365).all()  # in the first year
    assert (out.loc[reason == "elektrodevandring", "component"] == "elektrode").all()
    system_start = out["treatment_id"].map(imp.groupby("treatment_id")["implanted_date"].min())
    assert (out.loc[reason == "batteri", "explanted_date"] - system_start[reason == "batteri"]).dt.days.min() >= 730
    assert (out.loc[reason == "batteri", "component"] == "generator").all()
    # every battery replacement brings a new generator the same day, in the same system
    new = imp.set_index(["treatment_id", "implanted_date"]).index
    swapped = out[reason == "batteri"].set_index(["treatment_id", "explanted_date"]).index
    assert swapped.isin(new).all()
    # shares: lack of effect is the commonest reason for a whole system, infection a few percent
    systems = imp["treatment_id"].nunique()
    infected = out.loc[reason == "infeksjon", "treatment_id"].nunique() / systems
    assert 0.01 < infected < 0.08
    assert (out["explanted_date"] <= full.extract_end).all()


def test_pocket_revision_reuses_the_serial_without_overlap(full):
    imp = full.tables["implants"]
    twice = imp[imp.duplicated(["manufacturer", "serial_number"], keep=False)]
    assert len(twice) > 0
    for _, rows in twice.sort_values("implanted_date").groupby(["manufacturer", "serial_number"]):
        assert rows["patient_id"].nunique() == 1
        assert rows["explant_reason"].iloc[0] == "lommesmerte"
        assert rows["implanted_date"].iloc[1] == rows["explanted_date"].iloc[0]


def test_serials_and_lots_do_not_look_like_identity_numbers(full):
    imp = full.tables["implants"]
    for col in ("serial_number", "lot"):
        assert not imp[col].str.contains(r"\d{8}").any()
    assert imp["lot"].str.fullmatch(r"[A-Z0-9]+-\d{4}[ABC]").all()
    assert imp.groupby("lot").size().max() > 1  # a lot is shared


def test_own_stream_leaves_every_other_table_as_before(monkeypatch):
    with_implants = synthesize(seed=5, scale=0.2, generators=[])
    monkeypatch.setattr(synth_implants_module, "synth_implants", lambda reg, rng: {})
    without = synthesize(seed=5, scale=0.2, generators=[])
    assert "implants" not in without.tables
    for name, frame in without.tables.items():
        pd.testing.assert_frame_equal(frame, with_implants.tables[name])


def test_deterministic_and_read_without_quarantine_in_both_dialects(tmp_path):
    a = synthesize(seed=9, scale=0.3, generators=[]).tables["implants"]
    b = synthesize(seed=9, scale=0.3, generators=[]).tables["implants"]
    c = synthesize(seed=10, scale=0.3, generators=[]).tables["implants"]
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)
    tables = synthesize(seed=9, scale=0.3, generators=[]).tables
    for dialect in ("iso", "norsk"):
        reg = load_extract(write_tables(tables, tmp_path / dialect, "csv", dialect))
        s = reg.report.summaries["implants"]
        assert (s.rows_read, s.rows_used) == (len(a), len(a))
        assert reg.implants["explanted_date"].notna().sum() == a["explanted_date"].notna().sum()


def test_units_share_no_device(tmp_path):
    tables = synthesize_units(3, seed=4, scale=0.3, generators=[])
    imp = tables["implants"]
    assert set(imp["unit_id"]) == set(tables["units"]["unit_id"])
    reg = load_extract(write_tables(tables, tmp_path / "u", "csv"))
    assert reg.report.summaries["implants"].rows_quarantined == 0
    assert reg.implants["implant_id"].is_unique
