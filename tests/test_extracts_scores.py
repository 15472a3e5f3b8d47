"""Scored PROM variables in research extracts: the same numbers as opr_analysis.stats.scoring, labelled."""

import pandas as pd
import pyreadstat
import pytest
from helpers import write_spec

from opr_analysis import answers_to_wide, load_extract, score_all
from opr_analysis.extracts import deliver
from opr_analysis.stats.scoring import ISI_CATEGORIES, SCORE_LABELS
from opr_analysis.synth.registry import write_synthetic


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    return write_synthetic(tmp_path_factory.mktemp("syn") / "ex", scale=0.1)


def test_every_score_column_has_a_norwegian_label():
    assert list(SCORE_LABELS) == list(score_all(pd.DataFrame(index=pd.RangeIndex(0))).columns)


def test_delivered_scores_equal_the_scoring_module(tmp_path, synthetic, monkeypatch, opr_store):
    monkeypatch.setenv("OPR_EXTRACT_KEY", "k" * 40)
    spec = write_spec(
        tmp_path / "s.yaml",
        variables={"enrolments": ["patients.sex"], "baseline_responses": ["nrs_avg", "isi_total", "isi_category"]},
        formats=["csv", "sav"],
        disclosure={"k": 2, "on_violation": "generalise"},
    )
    d = deliver(spec, synthetic, tmp_path / "out", docs=False)
    # the default delivery log is the test's own (tests/conftest.py), never the repository's
    assert pd.read_csv(opr_store.log)["folder"].tolist() == [str(d.folder)]
    got = pd.read_csv(d.folder / "baseline_responses.csv")
    reg = load_extract(synthetic)
    answers = reg.baseline_answers.assign(response_id=reg.baseline_answers["response_id"].astype(object))
    expected = score_all(answers_to_wide(answers, "response_id"))
    # Same multiset of scores (ids are pseudonymised, so compare distributions exactly).
    for col in ("nrs_avg", "isi_total"):
        assert sorted(got[col].dropna()) == sorted(expected[col].dropna().astype(float))
    assert set(got["isi_category"].dropna()) <= set(ISI_CATEGORIES)
    _, meta = pyreadstat.read_sav(str(d.folder / "baseline_responses.sav"))
    assert meta.column_names_to_labels["isi_total"] == SCORE_LABELS["isi_total"]
    assert set(meta.variable_value_labels["isi_category"].values()) == set(ISI_CATEGORIES.values())
