"""A synthetic experiment (``opr synth --experiment``): the analysis finds a planted effect and
reports none when none is planted."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from opr_analysis import load_extract
from opr_analysis.experiment import analyse, load_spec
from opr_analysis.experiment.allocate import arm_sequence
from opr_analysis.extract import codebook
from opr_analysis.synth.experiment import experiment_generators, synthetic_seed
from opr_analysis.synth.registry import synthesize, write_tables

EXAMPLE = Path(__file__).resolve().parents[1] / "reports" / "experiments" / "examples" / "kort-skjema-2025.yaml"
SPEC = load_spec(EXAMPLE)
AS_OF = "2025-12-31"


def _experiment(tmp_path_factory, effect: float, answers: bool):
    reg = synthesize(seed=5, generators=experiment_generators(SPEC, effect, answers=answers))
    folder = write_tables(reg.tables, tmp_path_factory.mktemp("exp") / "data")
    return reg, load_extract(folder)


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    return _experiment(tmp_path_factory, 0.10, answers=True)


@pytest.fixture(scope="module")
def null(tmp_path_factory):
    return _experiment(tmp_path_factory, 0.0, answers=False)


def test_planted_effect_is_recovered(planted):
    _, reg = planted
    res = analyse(reg, SPEC, AS_OF)
    c = res.itt_comparison
    assert c["difference"] > 0
    assert c["diff_low"] < 0.10 < c["diff_high"]
    assert res.model["odds_ratio"] > 1
    # one outcome per randomised patient, in the model as in the primary analysis; strata as recorded
    assert res.model["patients"] == res.model["n"] == int(res.itt["n"].sum()) and res.model["strata_recorded"]
    assert res.units["patient_id"].is_unique
    # every randomised patient is in the flow; at the window's end + 6 months every outcome is known
    flow = res.flow.set_index("step")
    assert (flow.loc["allocated", ["full", "kort"]] == flow.loc["analysed", ["full", "kort"]]).all()
    assert res.recruitment.final
    every = res.secondary["all_followups"]
    assert every["n"] > every["patients"] == res.model["n"]  # several follow-ups per patient in the sensitivity
    assert "flere svar" in res.conclusion or "ingen sikker forskjell" in res.conclusion
    if c["diff_low"] > 0:
        assert "Hele intervallet ligger over null" in res.conclusion


def test_no_effect_claimed_when_none_planted(null):
    _, reg = null
    res = analyse(reg, SPEC, AS_OF)
    c = res.itt_comparison
    assert c["diff_low"] < 0 < c["diff_high"]
    assert "ingen sikker forskjell" in res.conclusion
    assert "ser ut til" not in res.conclusion


def test_interim_look_in_the_window_is_descriptive_only(planted):
    _, reg = planted
    res = analyse(reg, SPEC, "2025-06-15")
    assert res.recruitment.interim and not res.recruitment.window_closed
    flow = res.flow.set_index("step")
    for arm in ("full", "kort"):
        parts = sum(flow.at[s, arm] for s in ("not_known", "not_found", "analysed"))
        assert flow.at["allocated", arm] == parts and flow.at["not_known", arm] > 0
    assert "foreløpig gjennomgang" in res.conclusion and "ser ut til" not in res.conclusion
    # allocations dated after the as-of date are not yet made
    made = reg.allocations["allocated_date"] <= pd.Timestamp("2025-06-15")
    assert int(flow.loc["allocated", ["full", "kort"]].sum()) == int(made.sum())


def test_synthetic_allocation_follows_the_block_sequences(planted):
    synth, reg = planted
    alloc = reg.allocations
    assert len(alloc) > 300 and alloc["patient_id"].is_unique
    for stratum, group in synth.tables["allocations"].groupby("stratum", sort=False):
        assert group["arm"].astype(str).tolist() == arm_sequence(SPEC, stratum, len(group), synthetic_seed(SPEC))
    assert (alloc["allocated_date"] < pd.Timestamp(SPEC.window[1])).all()


def test_variant_mostly_as_allocated_and_short_answers_only_primary_items(planted):
    _, reg = planted
    fu = reg.followups
    arms = reg.allocations.set_index(reg.allocations["patient_id"].astype(str))["arm"].astype(str)
    marked = fu[fu["variant"].notna()]
    same = (marked["variant"].astype(str) == marked["patient_id"].astype(str).map(arms)).mean()
    assert 0.9 < same < 1.0  # a few slips, as in an office
    assert fu[fu["variant"].isna()]["patient_id"].astype(str).isin(arms.index).mean() < 1
    short = set(marked.loc[marked["variant"] == "kort", "followup_id"].astype(str))
    answers = reg.followup_answers
    items = set(answers.loc[answers["followup_id"].astype(str).isin(short), "item"].astype(str))
    cb = codebook.load()
    assert items and items <= set(cb.instruments["eq5d5l"].items) | set(cb.instruments["pgic"].items)


def test_same_seed_same_experiment():
    a = synthesize(seed=5, scale=0.3, generators=experiment_generators(SPEC, 0.1, answers=False))
    b = synthesize(seed=5, scale=0.3, generators=experiment_generators(SPEC, 0.1, answers=False))
    for name in ("allocations", "followups"):
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name])


def test_opr_synth_experiment_option(tmp_path):
    from opr_analysis.cli import main

    spec = str(EXAMPLE)
    out = tmp_path / "x"
    assert (
        main(["synth", "--experiment", spec, "--effect", "0", "--scale", "0.2", "--no-answers", "--out", str(out)]) == 0
    )
    reg = load_extract(out)
    expected = synthesize(scale=0.2, generators=experiment_generators(SPEC, 0.0, answers=False))
    assert reg.allocations["patient_id"].astype(str).tolist() == expected.tables["allocations"]["patient_id"].tolist()
    assert set(reg.followups["variant"].dropna().astype(str)) == {"full", "kort"}
    assert reg.report.rows_quarantined == 0
