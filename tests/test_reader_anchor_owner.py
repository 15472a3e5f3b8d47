"""A follow-up's patient_id must be its anchor's patient (contract v1.1), checked by lookups
that keep every row's own answer: the message, the rows and what is left usable."""

from tests.helpers import make_extract


def test_followup_sent_to_another_patients_anchor_is_quarantined(tmp_path):
    reg = make_extract(
        tmp_path,
        enrolments=[
            dict(enrolment_id="E1", patient_id="P1", closed_date="2021-05-01"),
            dict(enrolment_id="E2", patient_id="P2", closed_date="2021-05-01"),
        ],
        treatments=[dict(treatment_id="T1", patient_id="P1"), dict(treatment_id="T2", patient_id="P2", kind="scs")],
        followups=[
            dict(followup_id="F1", patient_id="P1", kind="rf_3m", anchor_id="T1"),
            dict(followup_id="F2", patient_id="P2", kind="rf_6m", anchor_id="T1"),
            dict(followup_id="F3", patient_id="P1", kind="scs_3m", anchor_id="T2"),
            dict(followup_id="F4", patient_id="P2", kind="avsluttet_12m", anchor_id="E1"),
            dict(followup_id="F5", patient_id="P2", kind="avsluttet_12m", anchor_id="E2"),
            dict(followup_id="F6", patient_id="P1", kind="rf_12m", anchor_id="T2"),
            dict(followup_id="F7", patient_id="P1", kind="scs_6m", anchor_id="T9"),
        ],
    )
    problems = [(p.row, p.column, p.value, p.reason) for p in reg.report.problems if p.table == "followups"]
    assert problems == [
        (2, "patient_id", "P2", "er ikke pasienten som behandlingen T1 tilhører (P1): "
         "oppfølgingen viser til en annen pasients forløp"),
        (3, "patient_id", "P1", "er ikke pasienten som behandlingen T2 tilhører (P2): "
         "oppfølgingen viser til en annen pasients forløp"),
        (4, "patient_id", "P2", "er ikke pasienten som innskrivingen E1 tilhører (P1): "
         "oppfølgingen viser til en annen pasients forløp"),
        (6, "anchor_id", "T2", "er en SCS-behandling, men oppfølgingstypen er rf_12m"),
        (7, "anchor_id", "T9", "behandlingen finnes ikke i treatments"),
    ]  # fmt: skip
    assert reg.followups["followup_id"].tolist() == ["F1", "F5"]


def test_lookup_positions_count_missing_ids_and_missing_never_match():
    """The anchor checks take the matched row's kind and patient by these positions."""
    import pandas as pd

    from opr_analysis.extract.reader import _positions

    ids = pd.Series(["T1", None, "T3", "T3"], dtype="string")
    keys = pd.Series(["T3", None, "T9", "T1"], dtype="string")
    assert _positions(keys, ids).tolist() == [2, -1, -1, 0]
    assert _positions(keys, ids.iloc[:0]).tolist() == [-1, -1, -1, -1]
