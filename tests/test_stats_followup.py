"""Follow-up audit: every rule of the contract on its boundary."""

import dataclasses

import pandas as pd
import pytest
from helpers import make_extract

from opr_analysis import followup_audit, followup_candidates, followup_response

AS_OF = "2025-12-31"


def _cand(reg, as_of=AS_OF):
    return followup_candidates(reg, as_of=as_of).set_index(["anchor_id", "kind"])


def test_due_dates_clip_to_month_end(tmp_path):
    reg = make_extract(
        tmp_path,
        treatments=[
            dict(treatment_id="T1", date="2021-08-31", kind="rf"),
            dict(treatment_id="T2", date="2023-08-31", kind="scs"),
        ],
    )
    c = _cand(reg)
    assert c.at[("T1", "rf_6m"), "due_date"] == pd.Timestamp("2022-02-28")
    assert c.at[("T2", "scs_6m"), "due_date"] == pd.Timestamp("2024-02-29")  # leap year
    assert c.at[("T1", "rf_3m"), "due_date"] == pd.Timestamp("2021-11-30")
    assert c.at[("T1", "rf_12m"), "due_date"] == pd.Timestamp("2022-08-31")
    assert c.at[("T1", "rf_6m"), "year"] == 2022
    assert len(c) == 6  # three kinds per procedure, no SCS kinds on RF


def test_start_of_follow_up_boundaries(tmp_path):
    reg = make_extract(
        tmp_path,
        treatments=[dict(treatment_id="T1", date="2021-05-31"), dict(treatment_id="T2", date="2021-06-01")],
        enrolments=[
            dict(enrolment_id="E1", granted_date="2020-01-01", closed_date="2021-11-30"),
            dict(enrolment_id="E2", granted_date="2020-01-01", closed_date="2021-12-01"),
            dict(enrolment_id="E3", granted_date="2020-01-01"),  # still open: nothing owed
        ],
    )
    c = _cand(reg)
    assert c.at[("T1", "rf_3m"), "exclusion"] == "for_oppstart" and not c.at[("T1", "rf_3m"), "owed"]
    assert c.at[("T2", "rf_3m"), "owed"] and pd.isna(c.at[("T2", "rf_3m"), "exclusion"])
    assert c.at[("E1", "avsluttet_12m"), "exclusion"] == "for_oppstart"
    assert c.at[("E2", "avsluttet_12m"), "owed"]
    assert c.at[("E2", "avsluttet_12m"), "due_date"] == pd.Timestamp("2022-12-01")
    assert "E3" not in c.index.get_level_values("anchor_id")


def test_age_by_birth_year_in_due_year(tmp_path):
    reg = make_extract(
        tmp_path,
        patients=[dict(patient_id="P1", birth_year=2004), dict(patient_id="P2", birth_year=2005)],
        treatments=[
            dict(treatment_id="T1", patient_id="P1", date="2021-10-01"),  # 3 m due 2022-01-01: 2022-2004 = 18
            dict(treatment_id="T2", patient_id="P2", date="2021-10-01"),  # 2022-2005 = 17
        ],
    )
    c = _cand(reg)
    assert c.at[("T1", "rf_3m"), "owed"]
    assert c.at[("T2", "rf_3m"), "exclusion"] == "under_18"
    # the 12-month follow-up of T2 is due 2022-10-01: still 17 by birth year
    assert c.at[("T2", "rf_12m"), "exclusion"] == "under_18"


def test_reservation_on_the_due_date_excludes(tmp_path):
    reg = make_extract(
        tmp_path,
        patients=[
            dict(patient_id="P1", reserved_date="2022-01-01"),
            dict(patient_id="P2", reserved_date="2022-01-02"),
        ],
        treatments=[
            dict(treatment_id="T1", patient_id="P1", date="2021-10-01"),
            dict(treatment_id="T2", patient_id="P2", date="2021-10-01"),
        ],
    )
    c = _cand(reg)
    assert c.at[("T1", "rf_3m"), "exclusion"] == "reservert"  # reserved on the due date
    assert c.at[("T2", "rf_3m"), "owed"]  # reserved the day after
    assert c.at[("T2", "rf_6m"), "exclusion"] == "reservert"


def test_patient_flags_and_blank_flags(tmp_path):
    reg = make_extract(
        tmp_path,
        patients=[
            dict(patient_id="P1", cognitive_impairment="ja"),
            dict(patient_id="P2", interpreter_needed="1"),
            dict(patient_id="P3", research_participant="TRUE"),
            dict(patient_id="P4"),
            dict(patient_id="P5", birth_year=2010, interpreter_needed="true", reserved_date="2021-01-01"),
        ],
        treatments=[dict(treatment_id=f"T{i}", patient_id=f"P{i}", date="2021-10-01") for i in range(1, 6)],
    )
    # The reader quarantines a blank flag (the codebook does not mark them optional); given
    # directly, an unknown (NA) flag must exclude nobody, as the contract says.
    patients = reg.patients.copy()
    p4 = patients["patient_id"] == "P4"
    for col in ("cognitive_impairment", "interpreter_needed", "research_participant"):
        patients.loc[p4, col] = pd.NA
    c = _cand(dataclasses.replace(reg, tables={**reg.tables, "patients": patients}))
    assert c.at[("T1", "rf_3m"), "exclusion"] == "kognitiv_svikt"
    assert c.at[("T2", "rf_3m"), "exclusion"] == "tolk"
    assert c.at[("T3", "rf_3m"), "exclusion"] == "forskning"
    assert c.at[("T4", "rf_3m"), "owed"]  # unknown flags exclude nobody
    # several exclusions: all listed in the fixed order, the first is primary
    assert c.at[("T5", "rf_3m"), "exclusions"] == "under_18;tolk;reservert"
    assert c.at[("T5", "rf_3m"), "exclusion"] == "under_18"


def test_not_yet_due_after_as_of(tmp_path):
    reg = make_extract(tmp_path, treatments=[dict(treatment_id="T1", date="2021-10-01")])
    c = _cand(reg, as_of="2022-01-01")  # rf_3m due 2022-01-01: owed on its due date
    assert c.at[("T1", "rf_3m"), "owed"]
    assert c.at[("T1", "rf_6m"), "exclusion"] == "ikke_forfalt"


def _sent_reg(tmp_path):
    return make_extract(
        tmp_path,
        patients=[dict(patient_id="P1"), dict(patient_id="P2", cognitive_impairment="true")],
        treatments=[
            dict(treatment_id="T1", patient_id="P1", kind="rf", date="2021-10-01"),
            dict(treatment_id="T2", patient_id="P2", kind="scs", date="2021-10-01"),
        ],
        enrolments=[dict(enrolment_id="E1", patient_id="P1", granted_date="2020-01-01", closed_date="2022-03-15")],
        followups=[
            # owed rf_3m sent twice: the earliest is sent_owed, the other sent_not_owed
            dict(followup_id="F2", patient_id="P1", kind="rf_3m", anchor_id="T1", sent_date="2022-01-10",
                 responded_at="2022-01-12T10:00:00"),
            dict(followup_id="F1", patient_id="P1", kind="rf_3m", anchor_id="T1", sent_date="2022-01-02"),
            # sent to an excluded patient
            dict(followup_id="F3", patient_id="P2", kind="scs_3m", anchor_id="T2", sent_date="2022-01-02",
                 responded_at="2022-01-05 09:00"),
            # owed, sent, answered
            dict(followup_id="F4", patient_id="P1", kind="avsluttet_12m", anchor_id="E1", sent_date="2023-03-15",
                 responded_at="2023-03-20T10:00:00"),
            # broken references: quarantined by the reader, counted nowhere
            dict(followup_id="F5", patient_id="P1", kind="rf_6m", anchor_id="T99", sent_date="2022-04-01",
                 responded_at="2022-04-02T10:00:00"),
            dict(followup_id="F6", patient_id="P2", kind="rf_6m", anchor_id="T2", sent_date="2022-04-01"),
            # sent to P2 for P1's treatment: someone else's anchor, a broken reference
            dict(followup_id="F7", patient_id="P2", kind="rf_12m", anchor_id="T1", sent_date="2022-10-01",
                 responded_at="2022-10-02T10:00:00"),
        ],
    )  # fmt: skip


def test_sent_matching_and_counts(tmp_path):
    reg = _sent_reg(tmp_path)
    assert reg.report.summaries["followups"].rows_quarantined == 3
    q = reg.report.quarantine["followups"].set_index("followup_id")
    assert set(q.index) == {"F5", "F6", "F7"}
    assert "P1" in q.at["F7", "quarantine_reason"] and "patient_id" in q.at["F7", "quarantine_reason"]
    audit = followup_audit(reg, as_of="2023-06-30").set_index("followup_id", drop=False)
    assert audit.at["F1", "status"] == "sendt" and audit.at["F1", "sent_owed"]
    assert audit.at["F2", "status"] == "sendt_ikke_skyldig" and audit.at["F2", "sent_not_owed"]
    assert audit.at["F3", "status"] == "sendt_ikke_skyldig" and audit.at["F3", "exclusion"] == "kognitiv_svikt"
    assert audit.at["F4", "status"] == "sendt" and audit.at["F4", "year"] == 2023
    assert not {"F5", "F6", "F7"} & set(audit.index)
    t = followup_response(reg, as_of="2023-06-30").set_index(["year", "kind"])
    assert t.index.get_level_values("year").unique().tolist() == [2022, 2023]
    assert len(t) == 2 * 7
    rf3 = t.loc[(2022, "rf_3m")]
    assert rf3[["owed", "sent", "sent_owed", "not_sent", "sent_not_owed", "responded"]].tolist() == [1, 2, 1, 0, 1, 1]
    assert rf3["response_share"] == pytest.approx(0.5)
    # the answer went to the duplicate send (not owed): the owed follow-up is unanswered
    assert rf3[["responded_owed", "responded_not_owed", "response_share_owed"]].tolist() == [0, 1, 0.0]
    rf6 = t.loc[(2022, "rf_6m")]  # owed (T1 due 2022-04-01), not sent; F5 counted nowhere
    assert rf6[["owed", "sent", "sent_owed", "not_sent", "sent_not_owed", "responded"]].tolist() == [1, 0, 0, 1, 0, 0]
    assert pd.isna(rf6["response_share"])
    scs3 = t.loc[(2022, "scs_3m")]
    assert scs3[["owed", "sent", "sent_not_owed", "responded"]].tolist() == [0, 1, 1, 1]
    av = t.loc[(2023, "avsluttet_12m")]
    assert av[["owed", "sent", "sent_owed", "responded", "response_share"]].tolist() == [1, 1, 1, 1, 1.0]
    assert av[["responded_owed", "response_share_owed", "settled", "response_share_settled"]].tolist() == [1, 1, 1, 1]
    rf12 = t.loc[(2022, "rf_12m")]  # T1's 12-month follow-up owed, F7 (someone else's) counted nowhere
    assert rf12[["owed", "sent", "responded"]].tolist() == [1, 0, 0]
    # totals reconcile: every usable sent row counted once
    assert t["sent"].sum() == 4 and t["responded"].sum() == 3


def test_audit_of_a_frame_with_an_unknown_anchor(tmp_path):
    """Given directly (not through the reader), a sent row with no anchor is listed but never counted."""
    reg = _sent_reg(tmp_path)
    extra = reg.followups.iloc[:1].copy()
    extra["followup_id"] = "F9"
    extra["anchor_id"] = "T404"
    extra.index = [999]
    raw = dataclasses.replace(reg, tables={**reg.tables, "followups": pd.concat([reg.followups, extra])})
    audit = followup_audit(raw, as_of="2023-06-30").set_index("followup_id", drop=False)
    assert audit.at["F9", "status"] == "ukjent_anker" and pd.isna(audit.at["F9", "year"])
    before = followup_response(reg, as_of="2023-06-30")
    after = followup_response(raw, as_of="2023-06-30")
    pd.testing.assert_frame_equal(before, after)


def test_followup_totals_sum_kinds_per_year_and_leave_0_of_0_blank():
    import pandas as pd

    from opr_analysis import followup_totals

    per_kind = pd.DataFrame(
        {
            "year": [2023, 2023, 2024],
            "kind": ["rf_3m", "avsluttet_12m", "rf_3m"],
            "owed": [10, 5, 0],
            "sent": [9, 6, 0],
            "sent_owed": [9, 5, 0],
            "not_sent": [1, 0, 0],
            "sent_not_owed": [0, 1, 0],
            "responded": [3, 2, 0],
            "responded_owed": [3, 1, 0],
            "awaiting": [2, 0, 0],
            "responded_settled": [2, 1, 0],
            "owed_settled": [9, 5, 0],
        }
    )
    out = followup_totals(per_kind).set_index("year")
    assert out.loc[2023, ["owed", "sent", "sent_owed", "not_sent", "sent_not_owed", "responded"]].tolist() == [
        15,
        15,
        14,
        1,
        1,
        5,
    ]
    assert out.loc[2023, "response_share"] == 5 / 15
    assert out.loc[2023, ["responded_owed", "responded_not_owed", "settled"]].tolist() == [4, 1, 12]
    assert out.loc[2023, "response_share_owed"] == 4 / 14 and out.loc[2023, "response_share_settled"] == 3 / 12
    assert out.loc[2023, "owed_answered_share"] == 3 / 14
    assert 0 < out.loc[2023, "response_share_ci_low"] < 5 / 15 < out.loc[2023, "response_share_ci_high"] < 1
    assert pd.isna(out.loc[2024, "response_share"]) and pd.isna(out.loc[2024, "response_share_ci_low"])


def test_sends_answers_and_due_dates_are_censored_at_as_of(tmp_path):
    from opr_analysis.stats.followup import AWAITING_DAYS

    reg = make_extract(
        tmp_path,
        patients=[dict(patient_id="P1")],
        treatments=[
            dict(treatment_id="T1", patient_id="P1", kind="rf", date="2023-01-15"),
            dict(treatment_id="T2", patient_id="P1", kind="rf", date="2023-03-10"),
        ],
        followups=[
            # rf_3m of T1 due 2023-04-15: sent, answered the day after the as-of date
            dict(followup_id="A", patient_id="P1", kind="rf_3m", anchor_id="T1", sent_date="2023-04-15",
                 responded_at="2023-07-01T09:00:00"),
            # rf_6m of T1 due 2023-07-15 > as-of: sent early, answered before the as-of date (not owed yet)
            dict(followup_id="B", patient_id="P1", kind="rf_6m", anchor_id="T1", sent_date="2023-06-01",
                 responded_at="2023-06-02T09:00:00"),
            # rf_3m of T2 due 2023-06-10, sent 2023-06-10: within the answering period on 2023-06-30
            dict(followup_id="C", patient_id="P1", kind="rf_3m", anchor_id="T2", sent_date="2023-06-10"),
            # sent after the as-of date: not in the audit
            dict(followup_id="D", patient_id="P1", kind="rf_12m", anchor_id="T1", sent_date="2023-07-02"),
        ],
    )  # fmt: skip
    assert AWAITING_DAYS >= 20
    audit = followup_audit(reg, as_of="2023-06-30").set_index("followup_id", drop=False)
    assert "D" not in audit.index
    assert not audit.at["A", "responded"] and pd.isna(audit.at["A", "responded_at"]) and not audit.at["A", "awaiting"]
    assert audit.at["B", "status"] == "sendt_ikke_skyldig" and audit.at["B", "exclusion"] == "ikke_forfalt"
    assert audit.at["C", "awaiting"] and not audit.at["C", "responded"]
    t = followup_response(reg, as_of="2023-06-30").set_index(["year", "kind"])
    rf3 = t.loc[(2023, "rf_3m")]
    assert rf3[["owed", "sent_owed", "responded_owed", "awaiting", "settled"]].tolist() == [2, 2, 0, 1, 1]
    assert rf3["response_share_owed"] == 0 and rf3["response_share_settled"] == 0  # 0 of 1 settled
    rf6 = t.loc[(2023, "rf_6m")]
    assert rf6[["owed", "sent", "sent_not_owed", "responded", "responded_owed"]].tolist() == [0, 1, 1, 1, 0]
    # a day later the answer to A counts; C is still awaiting
    later = followup_response(reg, as_of="2023-07-01").set_index(["year", "kind"]).loc[(2023, "rf_3m")]
    assert later[["responded_owed", "awaiting", "settled", "response_share_settled"]].tolist() == [1, 1, 1, 1.0]


def test_follow_up_on_someone_elses_anchor_is_counted_for_the_quality_chapter(tmp_path):
    from opr_analysis.stats.followup import foreign_anchor_count

    reg = _sent_reg(tmp_path)
    assert foreign_anchor_count(reg) == 1  # F7; F5 and F6 are other broken references


def test_text_sort_keys_order_as_python_compares_str():
    """The audit sorts ids by integer keys: equal text equal keys, code-point order, blanks last."""
    import pyarrow as pa

    from opr_analysis.stats.followup import _text_key

    short = ["T10", "T9", "", "T1", None, "Æ1", "T1", "t0", "T100000"]
    long = [*short, "T123456789", "T12345678", "Å-lang-id-0001"]
    for values in (short, long):
        keys = _text_key(pa.chunked_array([pa.array(values, pa.large_string())]))
        by_key = [values[i] for i in sorted(range(len(values)), key=lambda i: (keys[i], i))]
        text = sorted(v for v in values if v is not None)
        assert by_key == text + [None] * values.count(None)
        assert keys[values.index("T1")] == keys[len(values) - 1 - values[::-1].index("T1")]


def test_month_arithmetic_agrees_with_date_offset():
    import numpy as np

    from opr_analysis.stats.calendar import add_months as _add_months

    dates = pd.Series(
        pd.to_datetime(
            ["2023-08-31", "2024-01-31 13:45", "2023-11-30", "1969-12-31 23:59:59", "2024-02-29", None, "2021-03-01"],
            format="mixed",
        )
    )
    days = dates.dt.normalize()  # whole days take the per-day lookup
    for values in (dates, days, days.iloc[[0, 5]], days.iloc[[5]]):
        for months in (3, 6, 12):
            expected = (values + pd.DateOffset(months=months)).to_numpy()
            got = _add_months(values.to_numpy(), months)
            assert np.array_equal(got, expected, equal_nan=True)


def test_calendar_years_by_day_lookup_and_directly():
    from opr_analysis.stats.calendar import calendar_years as _years

    dates = pd.Series(pd.to_datetime(["1969-12-31 23:59", "2024-12-31 23:59:59", None, "2025-01-01"], format="mixed"))
    wide = pd.concat([dates, pd.Series(pd.to_datetime(["1700-06-01", "2250-01-01"]))], ignore_index=True)
    for values in (dates, wide, dates.iloc[[2]], dates.iloc[:0]):  # short range, over 100 000 days, NaT, none
        pd.testing.assert_series_equal(_years(values.to_numpy()), values.dt.year.astype("Int64").reset_index(drop=True))


def _twice_reg(tmp_path):
    return make_extract(
        tmp_path,
        patients=[dict(patient_id="P1"), dict(patient_id="P2")],
        treatments=[
            dict(treatment_id="T1", patient_id="P1", kind="rf", date="2022-01-10"),
            dict(treatment_id="T2", patient_id="P2", kind="rf", date="2022-01-10"),
        ],
        followups=[
            # T1's rf_3m sent twice on one day: "F10" sorts before "F9" as text, so it is the owed send
            dict(followup_id="F9", patient_id="P1", kind="rf_3m", anchor_id="T1", sent_date="2022-04-10",
                 responded_at="2022-04-12T10:00:00"),
            dict(followup_id="F10", patient_id="P1", kind="rf_3m", anchor_id="T1", sent_date="2022-04-10"),
            dict(followup_id="F-long-identifier-1", patient_id="P2", kind="rf_3m", anchor_id="T2",
                 sent_date="2022-04-11", responded_at="2022-05-01T10:00:00"),
        ],
    )  # fmt: skip


def test_same_day_sends_are_ordered_by_followup_id_as_text(tmp_path):
    audit = followup_audit(_twice_reg(tmp_path), as_of="2023-06-30")
    sent = audit[audit["sent"]]
    assert sent["followup_id"].tolist() == ["F10", "F9", "F-long-identifier-1"]  # due date, patient, ..., id
    assert sent["status"].tolist() == ["sendt", "sendt_ikke_skyldig", "sendt"]
    rf3 = followup_response(_twice_reg(tmp_path / "b"), as_of="2023-06-30").set_index(["year", "kind"])
    rf3 = rf3.loc[(2022, "rf_3m")]
    assert rf3[["owed", "sent_owed", "sent_not_owed", "responded", "responded_owed"]].tolist() == [2, 2, 1, 2, 1]


def test_response_table_agrees_with_the_row_level_audit(tmp_path):
    """The array aggregation gives what summing the audit rows gives, on sends the reader would not pass too."""
    from opr_analysis.stats.followup import _response_from_audit

    reg = _sent_reg(tmp_path)
    f = reg.followups
    extra = f.iloc[[0, 0, 0, 0]].copy()
    extra["followup_id"] = ["G1", "G2", "G3", "G4"]
    extra["anchor_id"] = ["T404", pd.NA, "T1", "E1"]  # unknown, blank, a second send, a send for the enrolment
    extra["kind"] = pd.Categorical(["rf_3m", "rf_3m", "rf_6m", "avsluttet_12m"], dtype=f["kind"].dtype)
    extra["sent_date"] = pd.to_datetime(["2022-01-02", "2022-01-02", None, "2023-03-15"])
    extra.index = [901, 902, 903, 904]
    answers = pd.concat([f, extra])
    for tz in (None, "UTC"):
        responded = pd.Series(answers["responded_at"])
        if tz:  # 22:30 UTC on 2023-03-19 is 20 March in Oslo
            responded = responded.dt.tz_localize("UTC")
            responded.iloc[-1] = pd.Timestamp("2023-03-19 22:30", tz="UTC")
        raw = dataclasses.replace(reg, tables={**reg.tables, "followups": answers.assign(responded_at=responded)})
        for as_of in ("2021-01-01", "2023-03-19", "2023-06-30"):
            pd.testing.assert_frame_equal(
                followup_response(raw, as_of=as_of), _response_from_audit(followup_audit(raw, as_of=as_of))
            )


def test_a_duplicated_procedure_given_directly_counts_one_owed_follow_up(tmp_path):
    """Candidates sharing (anchor_id, kind) (only possible in frames given directly) count once, as before."""
    reg = _twice_reg(tmp_path)
    t = reg.treatments
    raw = dataclasses.replace(reg, tables={**reg.tables, "treatments": pd.concat([t, t.iloc[[0]].set_axis([9])])})
    audit = followup_audit(raw, as_of="2023-06-30")
    t1 = audit[(audit["anchor_id"] == "T1") & (audit["kind"] == "rf_3m")]
    assert t1["status"].tolist() == ["sendt", "sendt_ikke_skyldig", "ikke_sendt"]
    rf3 = followup_response(raw, as_of="2023-06-30").set_index(["year", "kind"]).loc[(2022, "rf_3m")]
    assert rf3[["owed", "sent_owed", "not_sent", "sent_not_owed"]].tolist() == [2, 2, 0, 1]
