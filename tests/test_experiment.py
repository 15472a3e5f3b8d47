"""Response-rate experiments: spec validation, power, allocation (balance, blocks, determinism,
stable extension), analysis on hand-made extracts, and Newcombe's published example."""

from __future__ import annotations

import math
from argparse import Namespace
from pathlib import Path

import pandas as pd
import pytest
from helpers import make_extract
from scipy.stats import norm

from opr_analysis.errors import UsageError
from opr_analysis.experiment import allocate, analyse, parse_spec, sample_size
from opr_analysis.experiment.allocate import arm_sequence, blocks, eligible_patients, list_bytes
from opr_analysis.experiment.analyse import arm_shares, compare_arms

SEED = 11  # the allocation seed (a real experiment's is drawn once and kept in the key store)
BASE = {
    "id": "kort-test",
    "question": "Svarer flere med kort skjema?",
    "window": {"first_due": "2025-01-01", "last_due": "2025-06-30"},
    "kinds": ["rf_3m"],
    "strata": ["treatment", "age_band"],
    "age_bands": [18, 65],
    "block_sizes": [2, 4, 6],
    "primary_outcome": {"answered_within_days": 30},
    "minimal_difference": 0.1,
}


def spec(**changes):
    return parse_spec({**BASE, **changes})


# --------------------------------------------------------------------------- spec


def test_spec_lists_every_error_at_once():
    raw = {
        **BASE,
        "id": "Ugyldig ID",
        "question": "",
        "window": {"first_due": "2025-07-01", "last_due": "2025-01-01"},
        "kinds": ["rf_9m"],
        "block_sizes": [3],
        "seed": -1,
        "minimal_difference": 1.5,
        "colour": "blå",
    }
    with pytest.raises(UsageError) as err:
        parse_spec(raw, name="x.yaml")
    text = str(err.value)
    for part in ("id «Ugyldig ID»", "question: mangler", "first_due (2025-07-01) ligger etter", "rf_9m",
                 "block_sizes [3]", "seed «-1»", "minimal_difference «1.5»", "colour: ukjent nøkkel"):  # fmt: skip
        assert part in text, part


def test_spec_block_sizes_follow_the_ratio():
    with pytest.raises(UsageError, match=r"multipler av summen av forholdet \(3\)"):
        spec(arms={"full": 1, "kort": 2}, block_sizes=[3, 4])
    assert spec(arms={"full": 1, "kort": 2}, block_sizes=[3, 6]).ratio == {"full": 1, "kort": 2}


# --------------------------------------------------------------------------- power


@pytest.mark.parametrize("k", [1, 2])
def test_sample_size_matches_hand_computation(k):
    """n_full = (z_{1-α/2} + z_{1-β})² (1 + 1/k) / h², h = 2 asin √p₂ − 2 asin √p₁ (Cohen 1988, ch. 6)."""
    p1, d, alpha, power = 0.35, 0.10, 0.05, 0.8
    h = 2 * math.asin(math.sqrt(p1 + d)) - 2 * math.asin(math.sqrt(p1))
    n1 = (norm.ppf(1 - alpha / 2) + norm.ppf(power)) ** 2 * (1 + 1 / k) / h**2
    s = sample_size(p1, d, alpha, power, {"full": 1, "kort": k})
    assert s.effect_size == pytest.approx(h)
    assert s.n_full == math.ceil(n1)
    assert s.n_kort == math.ceil(math.ceil(n1) * k)
    if k == 1:  # Cohen's table 6.4.1: h = 0.20 needs 392 per group; here h = 0.2045
        assert 370 < s.n_full < 392


# --------------------------------------------------------------------------- allocation


def test_blocks_are_balanced_permutations_of_varying_size():
    s = spec(arms={"full": 1, "kort": 2}, block_sizes=[3, 6])
    gen = blocks(s, "rf|18-64", SEED)
    drawn = [next(gen) for _ in range(60)]
    assert {len(b) for b in drawn} == {3, 6}
    for b in drawn:
        assert b.count("kort") == 2 * b.count("full")
    assert len({tuple(b) for b in drawn if len(b) == 3}) > 1  # permuted, not a fixed pattern
    flat = [a for b in drawn for a in b]
    assert arm_sequence(s, "rf|18-64", 50, SEED) == flat[:50]
    assert arm_sequence(s, "rf|65+", 50, SEED) != flat[:50]  # each stratum its own sequence


def _rf_patients(n: int, start: str = "2024-10-01", first: int = 0, old_every: int = 3):
    """n patients with an RF treatment each, one day apart (3-month follow-up due in the window)."""
    day = pd.Timestamp(start)
    patients, treatments = [], []
    for i in range(first, first + n):
        pid = f"P{i:04d}"
        patients.append({"patient_id": pid, "birth_year": 1940 if i % old_every == 0 else 1980})
        treatments.append(
            {"treatment_id": f"T{i:04d}", "patient_id": pid, "date": str((day + pd.Timedelta(days=i)).date())}
        )
    return patients, treatments


def test_only_patients_owed_in_window_are_eligible(tmp_path):
    patients, treatments = _rf_patients(4)
    patients[1]["cognitive_impairment"] = "true"  # excluded from follow-up
    patients[3]["birth_year"] = 1980
    treatments[2]["date"] = "2024-01-01"  # 3-month follow-up due before the window
    reg = make_extract(tmp_path, patients=patients, treatments=treatments)
    elig = eligible_patients(reg, spec())
    assert elig["patient_id"].tolist() == ["P0000", "P0003"]
    assert elig["stratum"].tolist() == ["rf|65+", "rf|18-64"]


def test_allocation_balanced_within_strata_and_reproducible(tmp_path):
    patients, treatments = _rf_patients(90)
    reg = make_extract(tmp_path, patients=patients, treatments=treatments)
    s = spec()
    rows = allocate(s, reg, None, "2024-12-01", seed=SEED)
    assert len(rows) == 90 and rows["patient_id"].is_unique
    assert set(rows["allocated_date"]) == {"2024-12-01"}
    for stratum, group in rows.groupby("stratum"):
        arms = group["arm"].tolist()
        assert arms == arm_sequence(s, stratum, len(arms), SEED)  # consumed in list order
        running = pd.Series([1 if a == "kort" else -1 for a in arms]).cumsum()
        assert running.abs().max() <= max(s.block_sizes) // 2
    again = allocate(s, reg, None, "2024-12-01", seed=SEED)
    assert list_bytes(again) == list_bytes(rows)
    other_seed = allocate(s, reg, None, "2024-12-01", seed=SEED + 1)
    assert other_seed["arm"].tolist() != rows["arm"].tolist()


def test_allocation_extends_without_changing_earlier_rows(tmp_path):
    p1, t1 = _rf_patients(30)
    first = make_extract(tmp_path / "a", patients=p1, treatments=t1)
    s = spec()
    early = allocate(s, first, None, "2024-11-01", seed=SEED)
    # later: 25 more patients, some with procedures (and so due dates) earlier than the first ones
    p2, t2 = _rf_patients(25, start="2024-09-01", first=30)
    later = make_extract(tmp_path / "b", patients=p1 + p2, treatments=t1 + t2)
    extended = allocate(s, later, early, "2024-12-01", seed=SEED)
    assert list_bytes(extended).startswith(list_bytes(early))
    assert len(extended) == 55
    assert set(extended["allocated_date"].iloc[30:]) == {"2024-12-01"}
    for stratum, group in extended.groupby("stratum"):  # new rows continue each stratum's sequence
        assert group["arm"].tolist() == arm_sequence(s, stratum, len(group), SEED)
    # nothing new: the same list
    assert list_bytes(allocate(s, later, extended, "2025-01-15", seed=SEED)) == list_bytes(extended)


def test_allocations_in_the_extract_count_as_allocated(tmp_path):
    patients, treatments = _rf_patients(6)
    alloc = [{"experiment_id": "kort-test", "patient_id": "P0002", "arm": "kort", "allocated_date": "2024-10-20"}]
    reg = make_extract(tmp_path, patients=patients, treatments=treatments, allocations=alloc)
    rows = allocate(spec(), reg, None, "2024-12-01", seed=SEED)
    assert rows.iloc[0].to_dict() == {
        "experiment_id": "kort-test", "patient_id": "P0002", "arm": "kort", "allocated_date": "2024-10-20",
        "stratum": "",
    }  # fmt: skip
    assert sorted(rows["patient_id"].iloc[1:]) == ["P0000", "P0001", "P0003", "P0004", "P0005"]


def test_reader_quarantines_a_patient_allocated_twice(tmp_path):
    alloc = [
        {"experiment_id": "e1", "patient_id": "P1", "arm": "kort", "allocated_date": "2024-10-20"},
        {"experiment_id": "e1", "patient_id": "P1", "arm": "full", "allocated_date": "2024-10-21"},
        {"experiment_id": "e2", "patient_id": "P1", "arm": "full", "allocated_date": "2024-10-21"},
    ]
    reg = make_extract(tmp_path, patients=[{"patient_id": "P1"}], allocations=alloc)
    assert reg.allocations["experiment_id"].tolist() == ["e2"]
    q = reg.report.quarantine["allocations"]
    assert q["row"].tolist() == [1, 2]
    assert q["quarantine_reason"].str.contains("mer enn én gang i samme eksperiment").all()


# --------------------------------------------------------------------------- the command's folder rules


def _run(step, spec_path, extract, out, as_of="2024-12-01"):
    from opr_analysis.commands import experiment as cmd

    key_dir = Path(extract).parent / "nokler"  # hermetic: the seed's key store in the test's folder
    args = Namespace(step=step, spec=spec_path, extract=extract, out=out, as_of=as_of, key_dir=key_dir)
    return cmd.run(args)


def _spec_file(tmp_path: Path, **changes) -> Path:
    import yaml

    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump({**BASE, **changes}), encoding="utf-8")
    return path


def test_allocate_command_same_bytes_and_refuses_foreign_or_changed(tmp_path):
    patients, treatments = _rf_patients(12)
    make_extract(tmp_path / "x", patients=patients, treatments=treatments)
    spec_path = _spec_file(tmp_path)
    out = tmp_path / "liste"
    assert _run("allocate", spec_path, tmp_path / "x", out) == 0
    first = (out / "allocations.csv").read_bytes()
    assert _run("allocate", spec_path, tmp_path / "x", out, as_of="2024-12-24") == 0
    assert (out / "allocations.csv").read_bytes() == first
    foreign = tmp_path / "annet"
    foreign.mkdir()
    (foreign / "notater.txt").write_text("mine")
    with pytest.raises(UsageError, match="ikke er skrevet av"):
        _run("allocate", spec_path, tmp_path / "x", foreign)
    assert [p.name for p in foreign.iterdir()] == ["notater.txt"]
    changed = _spec_file(tmp_path, minimal_difference=0.2)
    with pytest.raises(UsageError, match="spesifikasjonen er endret"):
        _run("allocate", changed, tmp_path / "x", out)
    assert (out / "allocations.csv").read_bytes() == first


# --------------------------------------------------------------------------- analysis


def test_newcombe_interval_matches_published_example():
    """Newcombe (1998), Stat Med 17:873-890, table II example (a): 56/70 vs 48/80, method 10
    (hybrid score): 0.0524 to 0.3339. The difference itself is 0.8 - 0.6 = 0.2000 (the issue brief's
    "0.1857" does not follow from these counts)."""
    shares = pd.DataFrame({"arm": ["full", "kort"], "events": [48, 56], "n": [80, 70]})
    c = compare_arms(shares)
    assert round(c["difference"], 4) == 0.2
    assert (round(c["diff_low"], 4), round(c["diff_high"], 4)) == (0.0524, 0.3339)
    assert c["ratio"] == pytest.approx((56 / 70) / (48 / 80))
    assert c["ratio_low"] < c["ratio"] < c["ratio_high"]


def test_wilson_intervals_per_arm():
    units = pd.DataFrame({"arm": ["full"] * 10 + ["kort"] * 4, "answered": [True] * 3 + [False] * 7 + [True] * 4})
    s = arm_shares(units).set_index("arm")
    # Wilson 3/10: (0.1078, 0.6032); 4/4: (0.5101, 1.0)
    assert (round(s.at["full", "ci_low"], 4), round(s.at["full", "ci_high"], 4)) == (0.1078, 0.6032)
    assert (round(s.at["kort", "ci_low"], 4), s.at["kort", "ci_high"]) == (0.5101, 1.0)


def test_flow_itt_and_per_protocol_on_a_hand_made_experiment(tmp_path):
    patients, treatments = _rf_patients(4)

    # P0000 full: sent full, answered after 10 days; P0001 full: sent kort by mistake, answered after 40 days;
    # P0002 kort: sent kort, answered after 5 days; P0003 kort: not sent.
    def fu(i, variant, answered_days):
        due = pd.Timestamp(treatments[i]["date"]) + pd.DateOffset(months=3)
        return {
            "patient_id": f"P{i:04d}", "kind": "rf_3m", "anchor_id": f"T{i:04d}", "sent_date": str(due.date()),
            "responded_at": "" if answered_days is None else f"{(due + pd.Timedelta(days=answered_days)).date()}T10:00:00",
            "variant": variant,
        }  # fmt: skip

    followups = [fu(0, "", 10), fu(1, "kort", 40), fu(2, "kort", 5)]
    alloc = [
        {"experiment_id": "kort-test", "patient_id": p, "arm": a, "allocated_date": "2024-10-01"}
        for p, a in [("P0000", "full"), ("P0001", "full"), ("P0002", "kort"), ("P0003", "kort")]
    ]
    reg = make_extract(tmp_path, patients=patients, treatments=treatments, followups=followups, allocations=alloc)
    res = analyse(reg, spec(), "2025-12-31")
    flow = res.flow.set_index("step")
    assert flow["full"].to_dict() == {"allocated": 2, "erased": 0, "not_known": 0, "not_found": 0, "analysed": 2,
                                      "no_longer_owed": 0, "sent": 2, "sent_as_allocated": 1, "answered": 1}  # fmt: skip
    assert flow["kort"].to_dict() == {"allocated": 2, "erased": 0, "not_known": 0, "not_found": 0, "analysed": 2,
                                      "no_longer_owed": 0, "sent": 1, "sent_as_allocated": 1, "answered": 1}  # fmt: skip
    itt = res.itt.set_index("arm")
    assert itt["share"].tolist() == [0.5, 0.5]
    pp = res.per_protocol.set_index("arm")
    assert pp[["events", "n"]].to_dict("index") == {"full": {"events": 1, "n": 1}, "kort": {"events": 1, "n": 1}}
    t = res.secondary["time_to_answer"].set_index("arm")
    assert t.at["full", "median"] == 10.0 and t.at["kort", "median"] == 5.0  # among answered index follow-ups
    # a patient's outcome is known once the follow-up is settled: sent (or, unsent, due) 30 days before as-of
    early = analyse(reg, spec(), "2025-02-02").flow.set_index("step")  # P0003 due 2025-01-04, never sent
    assert (early.at["analysed", "full"], early.at["analysed", "kort"], early.at["not_known", "kort"]) == (2, 1, 1)


def _consort_extract(tmp_path):
    """Six patients, each with a reason to sit in a different step of the flow (as-of 2025-12-31)."""
    patients, treatments = _rf_patients(6)
    patients[1]["reserved_date"] = "2024-12-15"  # P0001: reserved after randomisation, before the due date
    treatments = [t for t in treatments if t["patient_id"] != "P0002"]  # P0002: its treatment is gone

    def fu(i, kind, sent, answered_days=None, variant=""):
        return {"patient_id": f"P{i:04d}", "kind": kind, "anchor_id": f"T{i:04d}", "sent_date": sent,
                "responded_at": "" if answered_days is None else
                f"{(pd.Timestamp(sent) + pd.Timedelta(days=answered_days)).date()}T10:00:00",
                "variant": variant}  # fmt: skip

    followups = [
        fu(0, "rf_3m", "2025-01-01", 5, "full"),  # P0000 full: answered after 5 days
        fu(3, "rf_3m", "2025-12-20", 2, "kort"),  # P0003 kort: due 2025-01-04, sent 11 days before as-of
        fu(5, "rf_3m", "2025-01-06", None, "kort"),  # P0005 kort: index follow-up not answered …
        fu(5, "rf_6m", "2025-04-06", 2, "kort"),  # … its second follow-up in the window is
    ]
    alloc = [
        {"experiment_id": "kort-test", "patient_id": p, "arm": a, "allocated_date": d, "stratum": st}
        for p, a, d, st in [
            ("P0000", "full", "2024-12-01", "rf|18-64"),  # recorded 18-64; recomputed at analysis: 65+
            ("P0001", "kort", "2024-12-01", "rf|18-64"),
            ("P0002", "full", "2024-12-01", "rf|18-64"),
            ("P0003", "kort", "2024-12-01", "rf|65+"),
            ("P0004", "full", "2026-01-05", "rf|18-64"),  # allocated after the as-of date: not yet
            ("P0005", "kort", "2024-12-01", ""),  # no recorded stratum: recomputed
        ]
    ]
    return make_extract(tmp_path, patients=patients, treatments=treatments, followups=followups, allocations=alloc)


def test_consort_flow_shows_every_randomised_patient_with_a_reason_and_adds_up(tmp_path):
    reg = _consort_extract(tmp_path)
    s = spec(kinds=["rf_3m", "rf_6m"], baseline_share=0.3)
    res = analyse(reg, s, "2025-12-31")
    flow = res.flow.set_index("step")
    assert flow["full"].to_dict() == {"allocated": 2, "erased": 0, "not_known": 0, "not_found": 1, "analysed": 1,
                                      "no_longer_owed": 0, "sent": 1, "sent_as_allocated": 1, "answered": 1}  # fmt: skip
    assert flow["kort"].to_dict() == {"allocated": 3, "erased": 0, "not_known": 1, "not_found": 0, "analysed": 2,
                                      "no_longer_owed": 1, "sent": 1, "sent_as_allocated": 1, "answered": 0}  # fmt: skip
    for arm in ("full", "kort"):  # every randomised patient is in exactly one of the four steps
        assert flow.at["allocated", arm] == sum(
            flow.at[step, arm] for step in ("erased", "not_known", "not_found", "analysed")
        )
    status = res.units.set_index("patient_id")["status"].to_dict()
    assert status == {"P0000": "analysed", "P0001": "analysed", "P0002": "not_found", "P0003": "not_known",
                      "P0005": "analysed"}  # fmt: skip
    # ITT: P0001 (reserved after randomisation) stays, not answered; P0005 counts once, by its first follow-up
    assert res.itt.set_index("arm")[["events", "n"]].to_dict("index") == {
        "full": {"events": 1, "n": 1}, "kort": {"events": 0, "n": 2},
    }  # fmt: skip
    # every follow-up (sensitivity): P0000 rf_3m + rf_6m (never sent), P0001 both, P0005 both
    assert (res.secondary["all_followups"]["n"], res.secondary["all_followups"]["patients"]) == (6, 3)
    # the outcome window runs from the sent date: a month later P0003's late send is settled, and answered
    later = analyse(reg, s, "2026-01-31").units.set_index("patient_id")
    assert later.at["P0003", "status"] == "analysed" and later.at["P0003", "answered"]


def test_adjusted_model_uses_the_strata_recorded_at_allocation(tmp_path):
    from opr_analysis.experiment.analyse import experiment_units

    units = experiment_units(_consort_extract(tmp_path), spec(kinds=["rf_3m", "rf_6m"]), "2025-12-31")
    u = units.set_index("patient_id")
    # P0000 was born 1940: 85 at the due date, but the allocation recorded 18-64, and that is what counts
    assert u.at["P0000", "age_band"] == "18-64" and u.at["P0000", "strata_recorded"]
    assert u.at["P0005", "age_band"] == "18-64" and not u.at["P0005", "strata_recorded"]  # recomputed: born 1980


def test_interim_look_is_labelled_with_planned_size_and_progress_and_claims_nothing(tmp_path):
    from opr_analysis.experiment.analyse import recruitment_text

    reg = _consort_extract(tmp_path)
    s = spec(kinds=["rf_3m", "rf_6m"], baseline_share=0.3)
    planned = sample_size(0.3, 0.1, 0.05, 0.8, {"full": 1, "kort": 1}).total
    res = analyse(reg, s, "2025-12-31")
    rec = res.recruitment
    assert (rec.planned, rec.allocated, rec.known, rec.window_closed, rec.final) == (planned, 5, 3, True, False)
    text = recruitment_text(rec, s, res.as_of).replace("\u00a0", " ")
    assert text.startswith("**Foreløpig gjennomgang, ikke endelig resultat.**")
    assert f"5 av {planned} planlagte pasienter" in text and "utfallet er kjent for 3" in text
    assert "ingen regel for å stoppe tidlig" in text
    assert "foreløpig gjennomgang" in res.conclusion
    for claim in ("ser ut til", "ingen sikker forskjell", "Hele intervallet"):
        assert claim not in res.conclusion
    # during the window
    during = analyse(reg, s, "2025-03-01").recruitment
    assert not during.window_closed and during.interim
    assert "Rekrutteringen pågår til 30.06.2025" in recruitment_text(during, s, "2025-03-01")
    # final once every outcome is known: then the interval may speak
    final = analyse(reg, s, "2026-01-31")
    assert final.recruitment.final and "Forsøket er ferdig" in recruitment_text(final.recruitment, s, final.as_of)
    assert "foreløpig" not in final.conclusion


def test_plan_counts_patients_once_per_window_length_period(tmp_path):
    from opr_analysis.experiment import make_plan

    patients = [{"patient_id": "P1", "birth_year": 1970}, {"patient_id": "P2", "birth_year": 1970}]
    treatments = [
        {"treatment_id": "T1", "patient_id": "P1", "date": "2022-11-01"},  # rf_3m 2023-02-01, rf_6m 2023-05-01
        {"treatment_id": "T2", "patient_id": "P2", "date": "2023-03-15"},  # rf_3m 2023-06-15, rf_6m 2023-09-15
    ]
    followups = [
        {"patient_id": "P1", "kind": "rf_3m", "anchor_id": "T1", "sent_date": "2023-02-01",
         "responded_at": "2023-02-10T10:00:00"},
        {"patient_id": "P2", "kind": "rf_3m", "anchor_id": "T2", "sent_date": "2023-06-15"},
    ]  # fmt: skip
    reg = make_extract(tmp_path, patients=patients, treatments=treatments, followups=followups)
    s = spec(kinds=["rf_3m", "rf_6m"])  # window of 6 months: periods Jan–Jun and Jul–Dec
    plan = make_plan(s, reg, "2025-01-01")
    flow = plan.flow.set_index("month")
    # P1 once (February: both its follow-ups fall in Jan–Jun 2023); P2 in June and again in September
    assert flow["patients"][flow["patients"] > 0].to_dict() == {"2023-02": 1, "2023-06": 1, "2023-09": 1}
    assert plan.patients_per_month == pytest.approx(3 / 24) and plan.owed_per_month == pytest.approx(4 / 24)
    # the expected share: 1 of the 4 owed follow-ups answered within 30 days
    assert plan.size.p_full == pytest.approx(0.25)
    assert plan.months_needed == math.ceil(plan.size.total / (3 / 24))
