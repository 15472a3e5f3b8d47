"""Synthetic patients' rights requests: realistic rates, deterministic per seed, both dialects."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from opr_analysis import load_extract
from opr_analysis.synth.registry import synthesize, write_tables
from opr_analysis.synth.rights import synth_rights_requests


@pytest.fixture(scope="module")
def syn():
    return synthesize(seed=5, scale=1.0, years=(2020, 2025), generators=[synth_rights_requests])


def test_rates_are_a_few_per_thousand_patients_a_year_mostly_reservations(syn):
    r = syn.tables["rights_requests"]
    patient_years = len(syn.tables["patients"]) * 3  # patients stay about half of the six years on average
    per_thousand = 1000 * len(r) / patient_years
    assert 2 <= per_thousand <= 15, per_thousand
    kinds = r["kind"].value_counts()
    assert kinds.idxmax() == "reservasjon" and kinds["reservasjon"] > len(r) / 2
    assert set(kinds.index) == {"innsyn", "retting", "sletting", "reservasjon"}


def test_rows_obey_the_contract_rules(syn):
    r = syn.tables["rights_requests"]
    assert r["request_id"].is_unique
    closed = r["closed_date"].notna()
    assert (r.loc[closed, "closed_date"] >= r.loc[closed, "received_date"]).all()
    assert r.loc[r["kind"].isin(["sletting", "reservasjon"]), "effective_date"].notna().all()
    assert (r[["received_date", "effective_date", "closed_date"]].max().max()) <= syn.extract_end
    assert 0 < (~closed).sum() < len(r)  # some still open at the end of the extract
    days = (r.loc[closed, "closed_date"] - r.loc[closed, "received_date"]).dt.days
    assert 0 < (days > 30).mean() < 0.3


def test_reservations_are_the_reserved_dates_so_no_follow_up_changes(syn):
    r = syn.tables["rights_requests"]
    res = r[r["kind"] == "reservasjon"].set_index("patient_id")["effective_date"]
    p = syn.tables["patients"].set_index("patient_id")["reserved_date"]
    assert set(res.index) == set(p.dropna().index)
    assert (res == p.reindex(res.index)).all()


def test_same_seed_same_rows_other_seed_other_rows():
    a = synthesize(seed=9, scale=0.3, years=(2022, 2024), generators=[synth_rights_requests])
    b = synthesize(seed=9, scale=0.3, years=(2022, 2024), generators=[synth_rights_requests])
    c = synthesize(seed=10, scale=0.3, years=(2022, 2024), generators=[synth_rights_requests])
    pd.testing.assert_frame_equal(a.tables["rights_requests"], b.tables["rights_requests"])
    assert not a.tables["rights_requests"].equals(c.tables["rights_requests"])


@pytest.mark.parametrize("dialect", ["iso", "norsk"])
def test_both_dialects_read_back_without_quarantine(tmp_path, syn, dialect):
    folder = write_tables(syn.tables, tmp_path / dialect, "csv", dialect)
    text = (folder / "rights_requests.csv").read_text(encoding="utf-8-sig")
    assert (";" in text.splitlines()[0]) == (dialect == "norsk")
    reg = load_extract(folder)
    s = reg.report.summaries["rights_requests"]
    assert (s.rows_read, s.rows_used, s.rows_quarantined) == (len(syn.tables["rights_requests"]),) * 2 + (0,)
    got = reg.rights_requests.sort_values("request_id")["received_date"].to_numpy()
    want = syn.tables["rights_requests"].sort_values("request_id")["received_date"].to_numpy()
    assert np.array_equal(got.astype("datetime64[D]"), want.astype("datetime64[D]"))
    erased = syn.tables["rights_requests"].query("kind == 'sletting'")["patient_id"]
    assert reg.report.erasure.patients.tolist() == sorted(set(erased))
