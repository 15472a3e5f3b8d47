"""Erasure at the patient's request (contract v1.2): one function decides who is out, and the
reader applies it, so every table, the quarantine and the summary are without the patient."""

from __future__ import annotations

import pandas as pd
from helpers import make_extract

from opr_analysis.rights import erased_patients, erasure_requests, without_erased


def _erasure(request_id="Q1", patient_id="P2", effective="2024-01-05", **extra):
    return dict(
        request_id=request_id, patient_id=patient_id, kind="sletting", received_date="2024-01-01",
        effective_date=effective, **extra,
    )  # fmt: skip


def _two_patients(tmp_path, requests, **tables):
    return make_extract(
        tmp_path,
        referrals=[dict(patient_id="P1"), dict(patient_id="P2"), dict(patient_id="P2", assessed_date="2021-02-01")],
        enrolments=[dict(patient_id="P1"), dict(patient_id="P2")],
        treatments=[dict(patient_id="P1"), dict(patient_id="P2")],
        followups=[dict(patient_id="P1", anchor_id="T1"), dict(patient_id="P2", anchor_id="T2")],
        baseline_responses=[dict(patient_id="P1"), dict(patient_id="P2")],
        baseline_answers=[dict(response_id="B1", item="nrs_avg", value=5), dict(response_id="B2", item="nrs_avg", value=7)],
        rights_requests=requests,
        **tables,
    )  # fmt: skip


def test_an_erased_patient_leaves_every_table_and_is_counted_once(tmp_path):
    reg = _two_patients(tmp_path, [_erasure()])
    for name, frame in reg.tables.items():
        if "patient_id" in frame and name != "rights_requests":
            assert "P2" not in set(frame["patient_id"].astype(str)), name
    assert reg.baseline_answers["response_id"].tolist() == ["B1"]  # the answers of the erased response left too
    s = reg.report.summaries
    assert (s["referrals"].rows_read, s["referrals"].rows_used, s["referrals"].rows_erased) == (3, 1, 2)
    assert (s["baseline_answers"].rows_used, s["baseline_answers"].rows_erased) == (1, 1)
    for summary in s.values():
        assert summary.rows_read == summary.rows_used + summary.rows_quarantined + summary.rows_erased
    assert reg.report.erasure.patients.tolist() == ["P2"]
    assert reg.report.erasure.rows == {
        "patients": 1, "referrals": 2, "enrolments": 1, "baseline_responses": 1, "treatments": 1, "followups": 1,
        "baseline_answers": 1,
    }  # fmt: skip
    # the request log stays: it is the registry's record of the request
    assert reg.rights_requests["request_id"].tolist() == ["Q1"]
    text = reg.report.summary_text()
    assert "Slettet etter krav fra pasienten: 1 pasient; 8 rader" in text and "P2" not in text


def test_the_rule_compares_the_effective_date_with_the_day_the_output_is_made(tmp_path):
    reg = _two_patients(tmp_path, [_erasure(effective="2024-01-05")])
    raw = reg  # already erased by the reader (today is after 2024-01-05)
    assert erased_patients(raw).tolist() == ["P2"]
    assert erased_patients(raw, on="2024-01-04").empty
    assert erased_patients(raw, on="2024-01-05").tolist() == ["P2"]
    assert erasure_requests(raw, on="2024-01-05")["request_id"].tolist() == ["Q1"]
    assert without_erased(reg) is reg  # applied once; again changes nothing


def test_other_kinds_and_quarantined_erasures_erase_nobody(tmp_path):
    requests = [
        dict(request_id="Q1", patient_id="P2", kind="innsyn", received_date="2024-01-01"),
        dict(request_id="Q2", patient_id="P2", kind="reservasjon", received_date="2024-01-01",
             effective_date="2024-01-01"),
        _erasure("Q3", effective=""),  # no effective date: quarantined, applies to no one
    ]  # fmt: skip
    reg = _two_patients(tmp_path, requests)
    assert reg.report.erasure is None
    assert "P2" in set(reg.patients["patient_id"])
    assert reg.report.summaries["rights_requests"].rows_quarantined == 1


def test_quarantined_rows_of_an_erased_patient_leave_the_quarantine_and_the_problems(tmp_path):
    reg = make_extract(
        tmp_path,
        referrals=[dict(patient_id="P2", decision="ukjent"), dict(patient_id="P1", decision="ukjent")],
        enrolments=[dict(patient_id="P1"), dict(patient_id="P2")],
        treatments=[dict(patient_id="P2")],
        # P1's follow-up on P2's treatment: quarantined with a reason that names P2
        followups=[dict(patient_id="P1", anchor_id="T1")],
        rights_requests=[_erasure()],
    )
    q = reg.report.quarantine
    assert q["referrals"]["patient_id"].tolist() == ["P1"]
    assert q["followups"].empty  # its reason named the erased patient
    assert [(p.table, p.row) for p in reg.report.problems] == [("referrals", 2)]
    s = reg.report.summaries
    assert (s["referrals"].rows_quarantined, s["referrals"].rows_erased) == (1, 1)
    assert (s["followups"].rows_quarantined, s["followups"].rows_erased) == (0, 1)
    assert "P2" not in reg.report.summary_text()


def test_no_request_table_no_change(tmp_path):
    reg = make_extract(tmp_path, enrolments=[dict(patient_id="P1")])
    assert reg.report.erasure is None and "rights_requests" not in reg.report.summary_text()
    assert list(reg.report.counts().columns) == ["table", "file", "rows_read", "rows_used", "rows_quarantined"]
    assert isinstance(reg.rights_requests, pd.DataFrame) and reg.rights_requests.empty


def test_a_units_registry_counts_only_the_units_erased_patients(tmp_path):
    """A unit's report counts the patients erased from that unit's enrolments, not the whole registry's."""
    from opr_analysis.extract.units import for_unit
    from opr_analysis.rights import erased_count
    from opr_analysis.stats.rights_requests import rights_reservation_share

    units = [
        dict(unit_id="A", name="Klinikk A", orgnr="993467049", health_region="sor_ost"),
        dict(unit_id="B", name="Klinikk B", orgnr="983975240", health_region="vest"),
    ]
    enrolments = [
        dict(enrolment_id="E1", patient_id="P1", unit_id="A", granted_date="2022-01-03"),
        dict(enrolment_id="E2", patient_id="P2", unit_id="A", granted_date="2022-02-03"),
        dict(enrolment_id="E3", patient_id="P3", unit_id="B", granted_date="2022-03-03"),
        dict(enrolment_id="E4", patient_id="P2", unit_id="B", granted_date="2023-01-03"),  # P2 at both units
    ]
    reg = make_extract(tmp_path, units=units, enrolments=enrolments,
                       rights_requests=[_erasure("Q1", "P1"), _erasure("Q2", "P2")])  # fmt: skip
    assert erased_count(reg) == 2
    erased = {u: erased_count(for_unit(reg, u)) for u in ("A", "B")}
    assert erased == {"A": 2, "B": 1}  # P1 and P2 at A; only P2 at B
    share = {u: rights_reservation_share(for_unit(reg, u), as_of="2024-12-31") for u in ("A", "B")}
    assert share["A"].set_index("year").loc[2022, "erased"] == 2
    assert share["B"].set_index("year")["erased"].sum() == 1 and share["B"].set_index("year").loc[2023, "erased"] == 1
    assert erased_count(reg) == 2  # the whole registry's report is unchanged
