"""Patient profiles (issue 28) on a hand-made extract: scores, percentiles, MCID flags, the clinic day,
privacy (nothing of another patient) and the erasure gate, with exact expected values.

The extract (:func:`clinic_registry`):

- PX1 (K, born 1970; unit A): enrolment EX1 granted 01.03.2023, first consultation 20.03.2023,
  full baseline 10.03.2023 (BPI 3 of 7 items, HSCL-10 9 of 10), RF 03.04.2023, follow-up
  rf_3m answered 06.07.2023 with planted changes, rf_6m sent and not answered.
- QY2 (K, born 1971; unit A): first consultation the same day; values of her own.
- WZ3 (M; unit B): first consultation the same day; baseline after it, and a short form.
- VV4 (K): reserved from 01.05.2022; an earlier enrolment, the current one's first consultation
  is the next day.
- UU5 (K, born 1966): first consultation the same day, erased from 01.06.2023.
- R01–R22 (K, born 1965, baselines in 2022): the hand-worked reference group of PX1; NRS
  average 2 ×5, 4 ×5, 6 ×4, 8 ×8 (R01 also answered in 2021: NRS 10, not counted, only the
  latest counts); EQ VAS from only 19 of them. Distractors that must not count: a man, a woman
  aged 32, a woman answering in 2023, the erased UU5.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest
from helpers import answer_rows, make_extract

from opr_analysis import cli, codebook
from opr_analysis.formatting import NBSP
from opr_analysis.profile import ErasedPatientError, clinic_enrolments, patient_enrolment, patient_profile
from opr_analysis.profile import profile_context as _context
from opr_analysis.profile.cells import baseline_cells, caveat_cells, change_tables, timeline_cells
from opr_analysis.profile.definitions import SCORES, mcid_reached
from opr_analysis.profile.reference import age_band, percentile, reference_summary
from opr_analysis.stats import proms
from opr_analysis.stats.scoring import ISI_CATEGORIES, ODI_CATEGORIES, answers_to_wide, score_all

AS_OF = "2023-12-31"
DAY = "2023-03-20"
UNITS = [
    dict(unit_id="A", name="Klinikk A", orgnr="993467049", health_region="sor_ost"),
    dict(unit_id="B", name="Klinikk B", orgnr="983975240", health_region="vest"),
]

PX_BASELINE = {
    "nrs_avg": 6, "nrs_worst": 8,
    "bpi_general_activity": 5, "bpi_mood": 4, "bpi_walking": 6,
    "eq5d_mo": 2, "eq5d_sc": 1, "eq5d_ua": 3, "eq5d_pd": 4, "eq5d_ad": 2, "eq5d_vas": 40,
    **{f"hscl_{i:02d}": 2 for i in range(1, 10)},
    **{f"pcs_{i:02d}": v for i, v in enumerate([3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2], start=1)},
    **dict(zip(["isi_onset", "isi_maintenance", "isi_early_waking", "isi_satisfaction", "isi_interference",
                "isi_noticeable", "isi_distress"], [3, 3, 3, 3, 3, 3, 2])),
    **dict(zip(["odi_pain", "odi_personal_care", "odi_lifting", "odi_walking", "odi_sitting", "odi_standing",
                "odi_sleeping", "odi_sex_life", "odi_social_life", "odi_travelling"], [3, 3, 3, 3, 3, 2, 2, 2, 2, 2])),
    "pain_duration": 5, "work_status": 1, "sick_leave": 1, "education": 3, "loc_lower_back": 1, "loc_leg": 1,
}  # fmt: skip
PX_FOLLOWUP = {
    "nrs_avg": 4, "nrs_worst": 6,
    **{c: 3 for c in ["bpi_general_activity", "bpi_mood", "bpi_walking", "bpi_work", "bpi_relations", "bpi_sleep",
                      "bpi_enjoyment"]},
    "eq5d_mo": 1, "eq5d_sc": 1, "eq5d_ua": 2, "eq5d_pd": 3, "eq5d_ad": 1, "eq5d_vas": 55,
    **{f"hscl_{i:02d}": v for i, v in enumerate([2, 2, 2, 2, 1, 1, 1, 1, 1, 1], start=1)},
    **{f"pcs_{i:02d}": v for i, v in enumerate([2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0], start=1)},
    **dict(zip(["isi_onset", "isi_maintenance", "isi_early_waking", "isi_satisfaction", "isi_interference",
                "isi_noticeable", "isi_distress"], [3, 2, 2, 2, 2, 2, 2])),
    **dict(zip(["odi_pain", "odi_personal_care", "odi_lifting", "odi_walking", "odi_sitting", "odi_standing",
                "odi_sleeping", "odi_sex_life", "odi_social_life", "odi_travelling"], [2] * 10)),
    "pgic": 2,
}  # fmt: skip
QY_BASELINE = {"nrs_avg": 3, "nrs_worst": 9, "eq5d_vas": 97, "isi_onset": 1}
REFERENCE_NRS = [2] * 5 + [4] * 5 + [6] * 4 + [8] * 8
HAS_RIGHTS_TABLE = "rights_requests" in codebook.load().tables
needs_rights_table = pytest.mark.skipif(
    not HAS_RIGHTS_TABLE, reason="the reader reads rights_requests once issue 26 (i26-rights) is on main"
)


def clinic_registry(folder, with_qy: bool = True):
    """The extract of the module docstring (``with_qy=False``: without patient QY2)."""
    ref_ids = [f"R{i:02d}" for i in range(1, 23)]
    patients = [
        {"patient_id": "PX1", "sex": "K", "birth_year": 1970},
        {"patient_id": "QY2", "sex": "K", "birth_year": 1971},
        {"patient_id": "WZ3", "sex": "M", "birth_year": 1980},
        {"patient_id": "VV4", "sex": "K", "birth_year": 1990, "reserved_date": "2022-05-01"},
        {"patient_id": "UU5", "sex": "K", "birth_year": 1966},
        {"patient_id": "MX6", "sex": "M", "birth_year": 1965},
        {"patient_id": "FY7", "sex": "K", "birth_year": 1990},
        {"patient_id": "FS8", "sex": "K", "birth_year": 1965},
    ] + [{"patient_id": r, "sex": "K", "birth_year": 1965} for r in ref_ids]
    enrolments = [
        {"enrolment_id": "EX1", "patient_id": "PX1", "granted_date": "2023-03-01", "first_consultation_date": DAY,
         "diagnosis": "<b>M54.5</b>", "unit_id": "A"},
        {"enrolment_id": "EY2", "patient_id": "QY2", "granted_date": "2023-02-14", "first_consultation_date": DAY,
         "unit_id": "A"},
        {"enrolment_id": "EZ3", "patient_id": "WZ3", "granted_date": "2023-03-02", "first_consultation_date": DAY,
         "unit_id": "B"},
        {"enrolment_id": "EV4a", "patient_id": "VV4", "granted_date": "2022-01-10",
         "first_consultation_date": "2022-02-01", "closed_date": "2022-06-01", "unit_id": "A"},
        {"enrolment_id": "EV4b", "patient_id": "VV4", "granted_date": "2023-03-01",
         "first_consultation_date": "2023-03-21", "unit_id": "A"},
        {"enrolment_id": "EU5", "patient_id": "UU5", "granted_date": "2023-03-05", "first_consultation_date": DAY,
         "unit_id": "A"},
    ]  # fmt: skip
    baselines = [
        {"response_id": "BX1", "patient_id": "PX1", "submitted_at": "2023-03-10T09:00:00"},
        {"response_id": "BY2", "patient_id": "QY2", "submitted_at": "2023-03-02T11:00:00"},
        {"response_id": "BZ3", "patient_id": "WZ3", "submitted_at": "2023-03-25T11:00:00"},
        {"response_id": "BV4", "patient_id": "VV4", "submitted_at": "2022-01-20T11:00:00"},
        {"response_id": "BU5", "patient_id": "UU5", "submitted_at": "2022-03-01T11:00:00"},
        {"response_id": "BM6", "patient_id": "MX6", "submitted_at": "2022-03-01T11:00:00"},
        {"response_id": "BF7", "patient_id": "FY7", "submitted_at": "2022-03-01T11:00:00"},
        {"response_id": "BS8", "patient_id": "FS8", "submitted_at": "2023-01-15T11:00:00"},
        {"response_id": "BR01old", "patient_id": "R01", "submitted_at": "2021-06-01T11:00:00"},
    ] + [
        {"response_id": f"B{r}", "patient_id": r, "submitted_at": f"2022-02-{i + 1:02d}T10:00:00"}
        for i, r in enumerate(ref_ids)
    ]
    answers = {"BX1": PX_BASELINE, "BY2": QY_BASELINE, "BZ3": {"nrs_avg": 7}, "BV4": {"nrs_avg": 5},
               "BU5": {"nrs_avg": 0}, "BM6": {"nrs_avg": 0}, "BF7": {"nrs_avg": 0}, "BS8": {"nrs_avg": 0},
               "BR01old": {"nrs_avg": 10}}  # fmt: skip
    for i, (r, v) in enumerate(zip(ref_ids, REFERENCE_NRS, strict=True)):
        answers[f"B{r}"] = {"nrs_avg": v, **({"eq5d_vas": 50} if i < 19 else {})}
    rights = {}
    if HAS_RIGHTS_TABLE:  # contract v1.2, read by the reader once issue 26 is on main
        rights["rights_requests"] = [
            {"request_id": "K1", "patient_id": "UU5", "kind": "sletting", "received_date": "2023-05-20",
             "effective_date": "2023-06-01", "closed_date": "2023-05-30"},
            {"request_id": "K2", "patient_id": "VV4", "kind": "reservasjon", "received_date": "2022-04-20",
             "effective_date": "2022-05-01"},
        ]  # fmt: skip
    if not with_qy:
        patients = [p for p in patients if p["patient_id"] != "QY2"]
        enrolments = [e for e in enrolments if e["patient_id"] != "QY2"]
        baselines = [b for b in baselines if b["patient_id"] != "QY2"]
        answers.pop("BY2")
    return make_extract(
        folder,
        patients=patients,
        units=UNITS,
        referrals=[{"patient_id": "PX1", "unit_id": "A"}],
        enrolments=enrolments,
        baseline_responses=[{**b, "unit_id": "A"} for b in baselines],
        baseline_answers=answer_rows("response_id", answers),
        short_forms=[{"short_form_id": "SZ3", "patient_id": "WZ3", "date": DAY, "reason": "glemt", "unit_id": "B"}],
        treatments=[{"treatment_id": "TX1", "patient_id": "PX1", "kind": "rf", "date": "2023-04-03", "unit_id": "A"}],
        followups=[
            {
                "followup_id": "FX1",
                "patient_id": "PX1",
                "kind": "rf_3m",
                "anchor_id": "TX1",
                "sent_date": "2023-07-03",
                "responded_at": "2023-07-06T12:00:00",
            },
            {"followup_id": "FX2", "patient_id": "PX1", "kind": "rf_6m", "anchor_id": "TX1", "sent_date": "2023-10-03"},
        ],  # fmt: skip
        followup_answers=answer_rows("followup_id", {"FX1": PX_FOLLOWUP}),
        **rights,
    )


def with_erasure(reg):
    """The registry with UU5's erasure (contract v1.2 ``rights_requests``) effective 01.06.2023."""
    reg.tables["rights_requests"] = pd.DataFrame(
        {
            "request_id": ["K1", "K2"],
            "patient_id": ["UU5", "VV4"],
            "kind": ["sletting", "reservasjon"],
            "received_date": pd.to_datetime(["2023-05-20", "2022-04-20"]),
            "effective_date": pd.to_datetime(["2023-06-01", "2022-05-01"]),
            "closed_date": pd.to_datetime(["2023-05-30", None]),
        }
    )
    return reg


@pytest.fixture(scope="module")
def extract_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("profile") / "extract"
    clinic_registry(folder)
    return folder


@pytest.fixture(scope="module")
def reg(extract_dir):
    from opr_analysis import load_extract

    return with_erasure(load_extract(extract_dir))


@pytest.fixture(scope="module")
def ctx(reg):
    return _context(reg, AS_OF)


@pytest.fixture(scope="module")
def px(ctx):
    return patient_profile(ctx, patient_enrolment(ctx, "PX1"))


# --- scores ---------------------------------------------------------------------------------


def test_baseline_scores_are_the_scoring_modules(px):
    wide = answers_to_wide(pd.DataFrame(answer_rows("response_id", {"BX1": PX_BASELINE})), "response_id")
    expected = score_all(wide).iloc[0]
    got = px.scores.set_index("column")["value"]
    for s in SCORES:
        if pd.isna(expected[s.column]):
            assert pd.isna(got[s.column]), s.column
        else:
            assert got[s.column] == pytest.approx(float(expected[s.column]), abs=1e-12), s.column
    assert pd.isna(got["bpi_interference"])  # 3 of 7 items: no score
    assert got["hscl10_mean"] == 2.0 and got["odi_percent"] == 50.0 and got["pcs_total"] == 30.0


def test_baseline_categories_are_the_published_cut_offs(px):
    cells = {c["label"]: c for c in baseline_cells(px)}
    category = {s.column: cells[s.label]["category"] for s in SCORES}
    assert category == {
        "nrs_avg": "moderat (5–6)",
        "nrs_worst": "sterk (7–10)",
        "bpi_interference": "–",
        "eq5d_index": "–",
        "eq5d_vas": "–",
        "hscl10_mean": f"over grensen (≥{NBSP}1,85)",
        "pcs_total": f"klinisk relevant (≥{NBSP}30)",
        "isi_total": ISI_CATEGORIES["moderat"],
        "odi_percent": ODI_CATEGORIES["alvorlig"],
    }


# --- percentile and reference group ---------------------------------------------------------


def test_percentile_definition_on_hand_worked_numbers():
    ref = pd.Series(REFERENCE_NRS)
    # 10 below 6, 4 equal: (10 + 4/2) / 22
    assert percentile(ref, 6) == pytest.approx(100 * 12 / 22)
    assert percentile(ref, 8) == pytest.approx(100 * (14 + 4) / 22)
    assert percentile(ref, 0) == 0.0 and percentile(ref, 10) == pytest.approx(100.0)
    s = reference_summary(ref, 6)
    assert (s["n"], s["shown"], s["q1"], s["median"], s["q3"]) == (22, True, 4.0, 6.0, 8.0)
    assert reference_summary(ref[:19], 6)["shown"] is False


def test_age_bands():
    assert age_band(pd.Series([17, 18, 29, 30, 53, 57, 79, 80, None])).tolist() == [
        "under 18", "18–29", "18–29", "30–39", "50–59", "50–59", "70–79", "80+", None,
    ]  # fmt: skip


def test_percentile_among_same_sex_and_age_band_in_earlier_years(px):
    """22 reference women aged 50–59 in 2022 (latest answer each); the man, the 32-year-old, the
    2023 answer, R01's 2021 answer and the erased UU5 are not counted."""
    row = px.scores.set_index("column").loc["nrs_avg"]
    assert (px.reference_year, px.age_band, row["reference_n"]) == (2023, "50–59", 22)
    assert row["percentile"] == pytest.approx(100 * 12 / 22)
    assert (row["q1"], row["median"], row["q3"]) == (4.0, 6.0, 8.0)
    cells = {c["label"]: c for c in baseline_cells(px)}
    assert cells[SCORES[0].label] == {
        "label": "Gjennomsnittlig smerte (NRS 0–10)", "value": "6", "category": "moderat (5–6)",
        "percentile": "55", "reference": "22", "direction": "høy skår er verre",
    }  # fmt: skip


def test_percentile_hidden_under_20(px):
    row = px.scores.set_index("column").loc["eq5d_vas"]
    assert row["reference_n"] == 19 and not row["reference_shown"]
    cell = next(c for c in baseline_cells(px) if c["label"].startswith("Helsetilstand"))
    assert (cell["value"], cell["percentile"], cell["reference"]) == ("40", "–", "under 20")


# --- what happened since ---------------------------------------------------------------------


def test_mcid_flags_on_planted_changes(px, reg):
    ch = px.changes.set_index("column")
    assert ch["followup_id"].unique().tolist() == ["FX1"]
    flags = {c: ch.loc[c, "mcid"] for c in ch.index}
    assert flags == {
        "nrs_avg": True,  # 6 -> 4: 33 % lower (>= 30 %)
        "nrs_worst": False,  # 8 -> 6: 25 %
        "bpi_interference": None,  # no published MCID (and no baseline score)
        "eq5d_index": None,
        "eq5d_vas": None,
        "hscl10_mean": None,
        "pcs_total": True,  # 30 -> 18: 40 % lower (>= 38 %)
        "isi_total": False,  # 20 -> 15: 5 points (< 6)
        "odi_percent": True,  # 50 -> 40: 10 points (>= 10)
    }
    outcome = proms.paired_outcomes(reg, AS_OF).set_index("followup_id").loc["FX1"]
    assert bool(outcome["nrs_improved_30"]) is flags["nrs_avg"]  # the outcomes chapter's own rule
    table = change_tables(px)
    assert len(table) == 1
    rows = {r[0]: r[1:] for r in table[0]["rows"]}
    assert table[0]["header"] == ["Mål", "Baseline 10.03.2023", "RF 3 mnd 06.07.2023"]
    assert rows["Smerte, snitt (NRS)"] == ["6", f"4 (−2; −33{NBSP}%) ✓"]
    assert rows["Smerte, verste (NRS)"] == ["8", f"6 (−2; −25{NBSP}%)"]
    assert rows["Katastrofering (PCS)"] == ["30", f"18 (−12; −40{NBSP}%) ✓"]
    assert rows["Søvn (ISI)"] == ["20", "15 (−5)"]
    assert rows["Funksjon (ODI %)"] == ["50,0", "40,0 (−10,0) ✓"]
    assert rows["EQ VAS"] == ["40", "55 (+15)"]
    assert rows["Påvirkning (BPI)"] == ["–", "3,0"]
    assert rows["Endring (PGIC)"] == ["", "Mye bedre ✓"]


def test_mcid_rules_at_their_thresholds():
    before = pd.Series([10.0, 10.0, 0.0, None])
    assert mcid_reached("nrs_avg", before, pd.Series([7.0, 8.0, 0.0, 1.0])).tolist() == [True, False, pd.NA, pd.NA]
    assert mcid_reached("isi_total", pd.Series([20.0, 20.0]), pd.Series([14.0, 15.0])).tolist() == [True, False]
    assert mcid_reached("hscl10_mean", pd.Series([3.0]), pd.Series([1.0])).isna().all()


def test_timeline_treatments_and_each_followup(px):
    assert timeline_cells(px) == [
        {"date": "01.03.2023", "event": "Rett til helsehjelp", "detail": "innskriving EX1", "planned": ""},
        {"date": "10.03.2023", "event": "Baselineskjema besvart", "detail": "fullt skjema", "planned": ""},
        {"date": "20.03.2023", "event": "Førstekonsultasjon", "detail": "innskriving EX1", "planned": ""},
        {"date": "03.04.2023", "event": "Radiofrekvensbehandling (RF)", "detail": "behandling TX1", "planned": ""},
        {"date": "03.07.2023", "event": "Oppfølging RF, 3 måneder", "detail": "sendt 03.07.2023, besvart 06.07.2023",
         "planned": ""},
        {"date": "03.10.2023", "event": "Oppfølging RF, 6 måneder", "detail": "sendt 03.10.2023, ikke besvart",
         "planned": ""},
        {"date": "03.04.2024", "event": "Oppfølging RF, 12 måneder (planlagt)", "detail": "", "planned": "ja"},
    ]  # fmt: skip


def test_caveats_name_missing_items_and_the_rule_that_applied(px):
    assert caveat_cells(px) == [
        "Baseline (10.03.2023): BPI 3 av 7 besvart, ikke skåret (gjennomsnitt av de besvarte når minst 4 av 7 er "
        "besvart); HSCL-10 9 av 10 besvart, skåret (gjennomsnitt av de besvarte når minst 8 av 10 er besvart, "
        "registerets lokale regel)."
    ]


def test_caveats_short_form_and_baseline_after_first_consultation(ctx):
    p = patient_profile(ctx, "EZ3")
    caveats = caveat_cells(p)
    assert caveats[0] == (
        "Baseline ble besvart 25.03.2023, 5 dager etter førstekonsultasjonen (20.03.2023); skårene beskriver ikke "
        "nødvendigvis tilstanden før første møte."
    )
    assert caveats[1].startswith("Pasienten fikk kortversjonen av baselineskjemaet på poliklinikken (20.03.2023)")
    assert caveats[2].startswith("Baseline (25.03.2023): NRS: verste smerte siste uke ikke besvart; BPI ikke besvart")


def test_reserved_patient_still_gets_a_profile_of_what_she_answered(ctx):
    p = patient_profile(ctx, patient_enrolment(ctx, "VV4"))
    assert p.enrolment_id == "EV4b"  # the latest enrolment
    assert any(c.startswith("Pasienten har reservert seg mot flere spørreskjemaer fra 01.05.2022") for c in p.caveats)
    closed = [c for c in timeline_cells(p) if c["event"].startswith("Oppfølging 12 måneder etter")]
    assert closed == [
        {"date": "01.06.2023", "event": "Oppfølging 12 måneder etter avsluttet behandling",
         "detail": "ikke skyldig (reservert på eller før forfallsdato)", "planned": ""},
    ]  # fmt: skip


def test_implants_appear_in_the_timeline_when_the_extract_has_them(reg):
    """Contract v1.2 ``implants`` (optional): the patient's components, implanted and explanted, generically."""
    import dataclasses

    implants = pd.DataFrame(
        {
            "implant_id": ["I1", "I2"], "patient_id": ["PX1", "QY2"], "treatment_id": [None, None],
            "component": ["generator", "elektrode"], "manufacturer": ["Medtronic", "Abbott"],
            "model": ["Intellis", "Octrode"], "serial_number": ["SN-77", "SN-88"],
            "implanted_date": pd.to_datetime(["2023-04-03", "2023-04-05"]),
            "explanted_date": pd.to_datetime(["2023-11-01", None]), "explant_reason": ["infeksjon", None],
        }
    )  # fmt: skip
    with_implants = dataclasses.replace(reg, tables={**reg.tables, "implants": implants}, _memo={})
    p = patient_profile(_context(with_implants, AS_OF), "EX1")
    rows = [c for c in timeline_cells(p) if "plantert" in c["event"]]
    assert [(c["date"], c["detail"]) for c in rows] == [
        ("03.04.2023", "Medtronic Intellis, serienr. SN-77"), ("01.11.2023", "Medtronic Intellis – infeksjon"),
    ]  # fmt: skip
    assert rows[0]["event"].startswith("Implantert: ") and rows[1]["event"].startswith("Eksplantert: ")
    assert "SN-88" not in str(timeline_cells(p))
    assert "plantert" not in str(timeline_cells(patient_profile(_context(reg, AS_OF), "EX1")))


# --- the erasure gate ------------------------------------------------------------------------


def test_erased_patient_gets_no_profile_and_is_in_no_reference_group(ctx):
    with pytest.raises(ErasedPatientError, match="UU5 har krevd sletting"):
        patient_enrolment(ctx, "UU5")
    with pytest.raises(ErasedPatientError):
        patient_profile(ctx, "EU5")
    assert "UU5" not in set(ctx.baselines["patient_id"].astype(str))
    enrolments, erased = clinic_enrolments(ctx, DAY)
    assert (enrolments, erased) == (["EX1", "EY2", "EZ3"], 1)


def test_erasure_takes_effect_on_its_date_whatever_the_as_of_day(reg):
    from opr_analysis.profile.gate import erased_patients

    assert erased_patients(reg, "2023-05-31") == frozenset()
    assert erased_patients(reg, "2023-06-01") == erased_patients(reg) == {"UU5"}
    assert "UU5" in _context(reg, "2023-05-31").erased  # an as-of day before it changes nothing


# --- the clinic day and privacy ----------------------------------------------------------------


def test_clinic_day_is_one_per_enrolment_with_its_first_consultation_that_day(ctx):
    assert clinic_enrolments(ctx, DAY, "A") == (["EX1", "EY2"], 1)
    assert clinic_enrolments(ctx, DAY, "B") == (["EZ3"], 0)
    assert clinic_enrolments(ctx, "2023-03-21") == (["EV4b"], 0)
    assert clinic_enrolments(ctx, "2023-03-22") == ([], 0)


def _text(html: str) -> str:
    return re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", html)


def test_no_other_patients_id_date_or_score_in_a_profile(tmp_path, extract_dir):
    """PX1 and QY2 share a day and a unit: PX1's page is the same with and without QY2 in the
    extract, and holds none of QY2's ids, dates or answers."""
    from opr_analysis import load_extract
    from opr_analysis.profile.page import profile_html
    from opr_analysis.profile.typst import profile_typst

    def page(r):
        c = _context(with_erasure(r), AS_OF)
        p = patient_profile(c, "EX1")
        return profile_html(p), profile_typst(p, False)

    alone = clinic_registry(tmp_path / "without", with_qy=False)
    both = load_extract(extract_dir)
    assert page(both) == page(alone)
    html, typ = page(both)
    tokens = set(re.findall(r"[\w.-]+", _text(html) + typ))
    assert not tokens & {"QY2", "EY2", "BY2", "14.02.2023", "02.03.2023", "97", "1971"}
    assert "PX1" in tokens and "20.03.2023" in tokens


def _run(capsys, *argv) -> tuple[int, str, str]:
    status = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_cli_one_patient_writes_one_escaped_page_into_its_own_folder(tmp_path, extract_dir, capsys, monkeypatch):
    monkeypatch.setenv("QUARTO_PATH", str(tmp_path / "no-quarto"))
    out = tmp_path / "profil"
    status, stdout, err = _run(capsys, "pasient", "PX1", "--extract", extract_dir, "--out", out, "--as-of", AS_OF)
    assert status == 0, err
    assert sorted(p.name for p in out.iterdir()) == [".opr-output", "pasientprofil-PX1.html"]
    assert "lager bare HTML (PDF krever Quarto)" in err
    assert "Profilen av pasient PX1 (HTML, data per 31.12.2023)" in stdout
    html = (out / "pasientprofil-PX1.html").read_text(encoding="utf-8")
    assert "&lt;b&gt;M54.5&lt;/b&gt;" in html and "<b>M54" not in html
    assert html.count("<img ") == 1 and 'src="data:image/png;base64,' in html and "http" not in _text(html)
    assert "QY2" not in _text(html) and "WZ3" not in _text(html)


@needs_rights_table
def test_cli_clinic_day_makes_exactly_one_profile_per_enrolment_and_an_index(tmp_path, extract_dir, capsys,
                                                                             monkeypatch):  # fmt: skip
    monkeypatch.setenv("QUARTO_PATH", str(tmp_path / "no-quarto"))
    out = tmp_path / "dag"
    status, stdout, err = _run(capsys, "pasient", "--konsultasjonsdato", "20.03.2023", "--extract", extract_dir,
                               "--out", out, "--as-of", AS_OF)  # fmt: skip
    assert status == 0, err
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        ".opr-output", "klinikkdag-2023-03-20.html", "pasientprofil-PX1-EX1.html", "pasientprofil-QY2-EY2.html",
        "pasientprofil-WZ3-EZ3.html",
    ]  # fmt: skip
    # the erased UU5 is neither listed nor counted; each profile holds only its own patient
    index = (out / "klinikkdag-2023-03-20.html").read_text(encoding="utf-8")
    assert "3 innskrivinger med førstekonsultasjon 20.03.2023" in index and "UU5" not in index
    assert "Pasienter som har krevd sletting fra registeret, får ingen profil og står ikke på listen." in index
    for name, own in [("PX1-EX1", "PX1"), ("QY2-EY2", "QY2"), ("WZ3-EZ3", "WZ3")]:
        text = _text((out / f"pasientprofil-{name}.html").read_text(encoding="utf-8"))
        others = {"PX1", "QY2", "WZ3", "UU5", "VV4"} - {own}
        assert own in text and not others & set(re.findall(r"\w+", text)), name
    status, _, err = _run(capsys, "pasient", "--konsultasjonsdato", DAY, "--enhet", "A", "--extract", extract_dir,
                          "--out", out, "--as-of", AS_OF)  # fmt: skip
    assert status == 0, err
    assert sorted(p.name for p in out.glob("pasientprofil-*")) == [
        "pasientprofil-PX1-EX1.html", "pasientprofil-QY2-EY2.html",
    ]  # fmt: skip


@needs_rights_table
def test_cli_erased_patient_gets_no_profile(tmp_path, extract_dir, capsys):
    out = tmp_path / "profil"
    status, stdout, err = _run(capsys, "pasient", "UU5", "--extract", extract_dir, "--out", out, "--as-of", AS_OF)
    assert status == 1 and stdout == ""
    assert err == (
        "opr pasient: pasient UU5 har krevd sletting fra registeret; det lages ingen profil, og ingenting om "
        "pasienten er tatt med\n"
    )
    assert not out.exists()


def test_cli_refuses_a_folder_inside_another_opr_output(tmp_path, extract_dir, capsys):
    report = tmp_path / "rapport"
    report.mkdir()
    (report / ".opr-output").write_text('{"written_by": "opr", "command": "report", "entries": []}\n')
    status, _, err = _run(capsys, "pasient", "PX1", "--extract", extract_dir, "--out", report / "profiler")
    assert status == 2 and "ligger inne i" in err and len(err.splitlines()) == 1
    status, _, err = _run(capsys, "pasient", "PX1", "--extract", extract_dir, "--out", report)
    assert status == 2 and "opr report" in err
    assert sorted(p.name for p in report.iterdir()) == [".opr-output"]


@pytest.mark.slow
def test_pdf_is_a4_names_the_patient_on_every_page_and_shows_text_as_written(
    tmp_path, extract_dir, capsys, monkeypatch
):
    from conftest import QUARTO
    from pypdf import PdfReader

    if QUARTO is None:
        pytest.skip("Quarto is not installed (neither QUARTO_PATH nor quarto on PATH): profiles are HTML only")
    monkeypatch.setenv("QUARTO_PATH", QUARTO)  # the session hides Quarto from every other test
    out = tmp_path / "profil"
    status, stdout, err = _run(capsys, "pasient", "PX1", "--extract", extract_dir, "--out", out, "--as-of", AS_OF)
    assert status == 0, err
    assert "(HTML og PDF, data per 31.12.2023)" in stdout
    reader = PdfReader(out / "pasientprofil-PX1.pdf")
    assert 1 <= len(reader.pages) <= 2
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 in points
    texts = [page.extract_text() for page in reader.pages]
    assert all("Pasientprofil PX1" in t and f"side {i} av {len(texts)}" in t for i, t in enumerate(texts, start=1))
    text = " ".join(texts)
    assert "<b>M54.5</b>" in text  # shown as written, not as markup
    assert "55" in text and "Mye bedre" in text and "QY2" not in text and "WZ3" not in text
