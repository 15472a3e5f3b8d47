"""No output holds a patient erased at their own request: by id, by pseudonym, or as a count that could only
include them. Each output is made from an extract with the patient (and their sletting request) and from the
same extract without them; the two must agree, except where the contract wants the erasure counted."""

from __future__ import annotations

import re
import shutil

import pandas as pd
import pytest
from helpers import make_extract, write_research_extract, write_spec

from opr_analysis import cli
from opr_analysis.experiment.allocate import allocate, arm_sequence
from opr_analysis.experiment.analyse import analyse
from opr_analysis.experiment.spec import parse_spec
from opr_analysis.extracts.pseudonyms import project_key, pseudonym

GONE = "PAS-00008"  # has an SCS treatment and a follow-up
AS_OF = "2024-12-31"
#: Outputs that count requests (the registry's record of what it handled) or erased patients by design.
COUNTED = {"rights_requests.csv", "rights_reservation_share.csv"}


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """(with, without): the same extract with PAS-00008, their erasure request and a quarantined row of theirs,
    and without any of it."""
    base = tmp_path_factory.mktemp("pair")
    with_ = write_research_extract(base / "med", n=30)
    requests = [
        dict(request_id="K1", patient_id="PAS-00002", kind="innsyn", received_date="2024-02-01", effective_date="",
             closed_date="2024-02-10"),
        dict(request_id="K2", patient_id=GONE, kind="sletting", received_date="2024-03-01",
             effective_date="2024-03-05", closed_date="2024-03-05"),
    ]  # fmt: skip
    pd.DataFrame(requests).to_csv(with_ / "rights_requests.csv", index=False)
    ref = pd.read_csv(with_ / "referrals.csv", dtype=str, keep_default_na=False)
    bad = ref[ref["patient_id"].isin([GONE, "PAS-00003"])].head(2).assign(decision="ukjent")
    bad["referral_id"] = bad["referral_id"] + "-X"
    pd.concat([ref, bad]).to_csv(with_ / "referrals.csv", index=False)
    without = base / "uten"
    shutil.copytree(with_, without)
    for path in without.glob("*.csv"):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        frame[frame["patient_id"] != GONE].to_csv(path, index=False)
    return with_, without


def _opr(*argv) -> None:
    assert cli.main([str(a) for a in argv]) == 0


def _files(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_tables_indicators_followups_and_quarantine_are_as_without_the_patient(pair, tmp_path, capsys):
    with_, without = pair
    for name, extract in (("med", with_), ("uten", without)):
        _opr("tables", extract, "--out", tmp_path / name / "tables", "--as-of", AS_OF)
        _opr("indicators", extract, "--out", tmp_path / name / "indicators", "--as-of", AS_OF)
        _opr("followups", extract, "--out", tmp_path / name / "followups.csv", "--as-of", AS_OF)
        _opr("validate", extract, "--quarantine", tmp_path / name / "karantene")
    capsys.readouterr()
    a, b = _files(tmp_path / "med"), _files(tmp_path / "uten")
    assert sorted(a) == sorted(b)
    differ = sorted(n for n in a if a[n] != b[n])
    assert differ == ["karantene/referrals.csv", "tables/rights_requests.csv", "tables/rights_reservation_share.csv"]
    assert b"PAS-00008" not in b"".join(a.values())
    # the quarantine holds the other patient's bad row, not the erased patient's; only its `row` differs, which
    # points into each input file (the erased patient's rows come before it in one file and not in the other)
    qa, qb = (pd.read_csv(tmp_path / n / "karantene" / "referrals.csv") for n in ("med", "uten"))
    assert qa["patient_id"].tolist() == ["PAS-00003"]
    assert qa.drop(columns="row").equals(qb.drop(columns="row")) and (qa["row"] > qb["row"]).all()
    # where the erasure is counted by design: the sletting request, and the erased patient in their cohort
    req = pd.read_csv(tmp_path / "med" / "tables" / "rights_requests.csv").set_index(["year", "kind"])
    assert req.loc[(2024, "sletting"), "received"] == 1
    share = pd.read_csv(tmp_path / "med" / "tables" / "rights_reservation_share.csv")
    assert share["erased"].sum() == 1


def test_a_research_delivery_is_as_without_the_patient(pair, tmp_path):
    with_, without = pair
    keys = tmp_path / "keys"
    spec = write_spec(tmp_path / "s.yaml", formats=["csv"])
    _opr("extract", spec, "--extract", with_, "--out", tmp_path / "med", "--key-dir", keys, "--no-docs")
    _opr("extract", spec, "--extract", without, "--out", tmp_path / "uten", "--key-dir", keys, "--no-docs")
    a, b = _files(tmp_path / "med"), _files(tmp_path / "uten")
    data = [n for n in a if n.endswith(".csv")]
    assert data and all(a[n] == b[n] for n in data)
    blob = b"".join(a.values())
    key = project_key("test-prosjekt", keys, create=False)[0]
    assert GONE.encode() not in blob and pseudonym(key, "patient", GONE).encode() not in blob
    from opr_analysis.rights import deliveries_of

    found = deliveries_of([GONE, "PAS-00001"], tmp_path / "delivery-log.csv", keys)
    assert found["patient_id"].tolist() == ["PAS-00001", "PAS-00001"]  # in both deliveries; the erased one in none


@pytest.mark.slow
def test_the_report_is_as_without_the_patient_but_for_the_one_count(pair, tmp_path, capsys):
    with_, without = pair
    for name, extract in (("med", with_), ("uten", without)):
        _opr("report", "--extract", extract, "--out", tmp_path / name, "--year", "2023", "--as-of", AS_OF,
             "--formats", "html", "--no-proms")  # fmt: skip
    capsys.readouterr()
    a = (tmp_path / "med" / "arsrapport-2023.html").read_text(encoding="utf-8")
    b = (tmp_path / "uten" / "arsrapport-2023.html").read_text(encoding="utf-8")
    sentence = re.compile(r"<p>Færre enn 5 pasienter er slettet etter krav fra pasienten\..*?</p>\s*", re.S)
    assert len(sentence.findall(a)) == 1 and not sentence.findall(b)
    # «Pasientenes rettigheter» counts the requests and the erased patients' cohort by design: compared apart
    section = re.compile(r"Pasientenes rettigheter</h2>.*?(?=<h1)", re.S)
    (ra,), (rb,) = section.findall(a), section.findall(b)
    assert "Sletting" in ra and ra != rb
    assert section.sub("", sentence.sub("", a)) == section.sub("", b)
    assert GONE not in "".join(p.read_text(errors="replace") for p in (tmp_path / "med").rglob("*") if p.is_file())
    qa, qb = (pd.read_csv(tmp_path / n / "karantene" / "referrals.csv") for n in ("med", "uten"))
    assert qa.drop(columns="row").equals(qb.drop(columns="row"))  # `row` points into each input file
    import openpyxl

    wa, wb = (openpyxl.load_workbook(tmp_path / n / "arsrapport-2023-tabeller.xlsx") for n in ("med", "uten"))
    assert wa.sheetnames == wb.sheetnames
    for sheet in wa.sheetnames:
        same = list(wa[sheet].values) == list(wb[sheet].values)
        assert same == (sheet not in ("Krav fra pasienter", "Reservert eller slettet")), sheet
    assert "PAS-00008" not in str([list(wa[s].values) for s in wa.sheetnames])


# --- experiments: ITT reports the erased patient as «slettet»; the allocation keeps their place ----------

SPEC = {
    "id": "kort-test", "question": "Gir kort skjema flere svar?", "minimal_difference": 0.1,
    "window": {"first_due": "2025-01-01", "last_due": "2025-06-30"}, "kinds": ["rf_3m"], "strata": ["kind"],
    "primary_outcome": {"answered_within_days": 28},
}  # fmt: skip
SEED = 1  # the allocation seed (kept in the key store in a real experiment)


def _experiment(folder, erase: bool, drop: bool):
    pids = [f"P{i:04d}" for i in range(6)]
    treatments = [dict(treatment_id=f"T{i:04d}", patient_id=p, date=f"2024-10-0{i + 1}") for i, p in enumerate(pids)]
    followups = [
        dict(patient_id=p, kind="rf_3m", anchor_id=f"T{i:04d}", sent_date=f"2025-01-0{i + 1}",
             responded_at=f"2025-01-1{i}T10:00:00" if i % 2 else "")
        for i, p in enumerate(pids)
    ]  # fmt: skip
    alloc = [dict(experiment_id="kort-test", patient_id=p, arm="full" if i % 2 else "kort",
                  allocated_date="2024-12-01", stratum="rf_3m") for i, p in enumerate(pids[:4])]  # fmt: skip
    requests = [dict(request_id="K1", patient_id="P0001", kind="sletting", received_date="2025-02-01",
                     effective_date="2025-02-01")] if erase else []  # fmt: skip

    def keep(rows):
        return [r for r in rows if not (drop and r["patient_id"] == "P0001")]

    tables = dict(treatments=keep(treatments), followups=keep(followups), allocations=keep(alloc))
    if requests:
        tables["rights_requests"] = requests
    return make_extract(folder, **tables)


def test_experiment_flow_reports_the_erased_patient_and_nothing_else_changes(tmp_path):
    spec = parse_spec(SPEC)
    erased = analyse(_experiment(tmp_path / "a", erase=True, drop=False), spec, "2025-12-31")
    never = analyse(_experiment(tmp_path / "b", erase=False, drop=True), spec, "2025-12-31")
    flow = erased.flow.set_index("step")
    assert flow.index.tolist()[:2] == ["allocated", "erased"]
    assert flow.loc["erased", ["full", "kort"]].tolist() == [1, 0]  # P0001 was in «full»
    assert flow.loc["allocated", ["full", "kort"]].tolist() == [2, 2]  # randomised: still counted
    rest = never.flow.set_index("step")
    assert rest.loc["allocated", ["full", "kort"]].tolist() == [1, 2]
    assert rest.loc["erased", ["full", "kort"]].tolist() == [0, 0]
    assert flow.drop(index=["allocated", "erased"]).equals(rest.drop(index=["allocated", "erased"]))
    parts = ["erased", "not_known", "not_found", "analysed"]
    assert (flow.loc[parts, ["full", "kort"]].sum() == flow.loc["allocated", ["full", "kort"]]).all()
    pd.testing.assert_frame_equal(erased.itt, never.itt)
    assert "P0001" not in set(erased.units["patient_id"])


def test_allocation_drops_the_erased_patient_but_keeps_their_place(tmp_path):
    spec = parse_spec(SPEC)
    reg = _experiment(tmp_path / "a", erase=True, drop=False)
    kept = _experiment(tmp_path / "b", erase=False, drop=False)
    rows = allocate(spec, reg, None, "2025-01-01", seed=SEED)
    same = allocate(spec, kept, None, "2025-01-01", seed=SEED)
    assert "P0001" not in set(rows["patient_id"]) and "P0001" in set(same["patient_id"])
    # the new patients (P0004, P0005) get the arms they would have had with P0001 still listed
    new = ["P0004", "P0005"]
    # seed 1: places 5 and 6 of the stratum's sequence differ from places 4 and 5, so a lost place would show
    assert rows.set_index("patient_id").loc[new, "arm"].tolist() == arm_sequence(spec, "rf_3m", 6, SEED)[4:6]
    assert arm_sequence(spec, "rf_3m", 6, SEED)[4:6] != arm_sequence(spec, "rf_3m", 6, SEED)[3:5]
    pd.testing.assert_frame_equal(
        rows[rows["patient_id"].isin(new)].reset_index(drop=True),
        same[same["patient_id"].isin(new)].reset_index(drop=True),
    )
