"""Requests handled on time, the reservation/erasure share, and a reservation in the follow-up rule."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import make_extract

from opr_analysis import compute_tables
from opr_analysis.report.prose import erasure_sentence, reservation_share_sentence, rights_requests_paragraph
from opr_analysis.report.publication import Publication
from opr_analysis.report.rights_tables import rights_requests_cells
from opr_analysis.stats.followup import followup_candidates
from opr_analysis.stats.rights_requests import rights_requests_handling, rights_reservation_share

AS_OF = "2024-03-31"


def _q(rid, pid, kind, received, closed="", effective=""):
    return dict(request_id=rid, patient_id=pid, kind=kind, received_date=received, closed_date=closed,
                effective_date=effective)  # fmt: skip


@pytest.fixture
def reg(tmp_path):
    requests = [
        _q("Q1", "P1", "innsyn", "2024-01-01", "2024-01-20"),  # 19 days: in time
        _q("Q2", "P1", "innsyn", "2024-01-10", "2024-02-15"),  # 36 days: late
        _q("Q3", "P2", "retting", "2024-02-01", "2024-03-02"),  # 30 days (leap February): in time
        _q("Q4", "P2", "reservasjon", "2024-02-10", effective="2024-02-10"),  # open 50 days at as-of: past 30
        _q("Q5", "P4", "sletting", "2024-03-20", effective="2024-03-20"),  # open 11 days: still within
        _q("Q6", "P3", "innsyn", "2024-03-01", "2024-04-05"),  # closed after as-of: open 30 days, within
        _q("Q7", "P3", "innsyn", "2023-12-15", "2024-01-05"),  # 2023, 21 days
        _q("Q8", "P3", "innsyn", "2024-04-02"),  # received after as-of: not counted
        _q("Q9", "P5", "reservasjon", "2024-03-30", effective="2024-04-01"),  # reserved only after as-of
    ]
    return make_extract(
        tmp_path,
        patients=[dict(patient_id="P1", reserved_date="2023-01-01"), dict(patient_id="P2"), dict(patient_id="P3"),
                  dict(patient_id="P4"), dict(patient_id="P5")],
        enrolments=[dict(patient_id="P1", granted_date="2022-02-01"), dict(patient_id="P2", granted_date="2022-05-01"),
                    dict(patient_id="P3", granted_date="2022-06-01"), dict(patient_id="P3", granted_date="2023-06-01"),
                    dict(patient_id="P4", granted_date="2023-01-05"), dict(patient_id="P5", granted_date="2023-02-01")],
        rights_requests=requests,
    )  # fmt: skip


def test_the_thirty_day_share_on_a_hand_worked_example(reg):
    t = rights_requests_handling(reg, as_of=AS_OF).set_index(["year", "kind"])
    cols = ["received", "closed", "open", "closed_within_30", "open_past_30", "deadline_known"]
    assert t.loc[(2024, "innsyn"), cols].tolist() == [3, 2, 1, 1, 0, 2]
    assert t.loc[(2024, "retting"), cols].tolist() == [1, 1, 0, 1, 0, 1]
    assert t.loc[(2024, "sletting"), cols].tolist() == [1, 0, 1, 0, 0, 0]  # an erased patient's request counts
    assert t.loc[(2024, "reservasjon"), cols].tolist() == [2, 0, 2, 0, 1, 1]
    assert t.loc[(2024, "alle"), cols].tolist() == [7, 3, 4, 2, 1, 4]
    assert t.loc[(2023, "innsyn"), cols].tolist() == [1, 1, 0, 1, 0, 1]
    assert t.loc[(2023, "retting"), cols].tolist() == [0] * 6  # every year and kind, zeros included
    assert t.loc[(2024, "innsyn"), "median_days"] == 27.5  # (19 + 36) / 2
    assert t.loc[(2024, "alle"), "median_days"] == 30.0  # 19, 30, 36
    assert np.isnan(t.loc[(2024, "sletting"), "median_days"])
    share = t.loc[(2024, "alle")]
    assert share["closed_within_30_share"] == 0.5
    assert share["closed_within_30_share_ci_low"] == pytest.approx(
        0.15, abs=1e-3
    )  # Wilson 2/4 by hand with z = 1,96: 0,15–0,85
    assert share["closed_within_30_share_ci_high"] == pytest.approx(0.85, abs=1e-3)
    assert np.isnan(t.loc[(2024, "sletting"), "closed_within_30_share"])  # 0/0
    assert sorted(set(t.index.get_level_values("year"))) == [2023, 2024]


def test_the_reservation_and_erasure_share_per_year_of_first_enrolment(reg):
    t = rights_reservation_share(reg, as_of=AS_OF).set_index("year")
    cols = ["patients", "reserved", "erased", "reserved_or_erased"]
    assert t.loc[2022, cols].tolist() == [3, 2, 0, 2]  # P1 by reserved_date, P2 by request; P3 not
    assert t.loc[2023, cols].tolist() == [2, 0, 1, 1]  # P4 erased (and gone from the tables); P5 only after as-of
    assert t.loc[2022, "reserved_or_erased_share"] == pytest.approx(2 / 3)
    assert "P4" not in set(reg.patients["patient_id"])


def test_opr_tables_computes_them(reg):
    tables = compute_tables(reg, as_of=pd.Timestamp(AS_OF), names=["rights_requests", "rights_reservation_share"])
    assert list(tables) == ["rights_requests", "rights_reservation_share"]


def test_request_cells_and_paragraph_are_exact(reg):
    """The requests are the registry's case handling: declared administrative, shown exactly."""
    t = rights_requests_handling(reg, as_of=AS_OF)
    cells = rights_requests_cells(t, 2024).set_index("kind")
    assert cells.loc["alle", ["received", "closed", "median_days", "open_past_30"]].tolist() == ["7", "3", "30", "1"]
    assert cells.loc["alle", "within_30"].replace("\u00a0", " ") == "50,0 %"
    assert cells.loc["innsyn", "median_days"] == "28"  # 27.5 rounded half to even
    assert cells.loc["sletting", ["received", "median_days", "within_30"]].tolist() == ["1", "–", "–"]
    text = rights_requests_paragraph(cells.reset_index(), 2024, AS_OF)
    assert text.startswith("I 2024 mottok registeret 7 krav fra pasienter: 3 om innsyn, 1 om retting, 1 om sletting")
    assert "Per 31.03.2024 var 1 krav fra året fortsatt ubesvart mer enn 30 dager" in text


def test_the_declared_labels_are_the_codebooks():
    from opr_analysis import codebook
    from opr_analysis.stats.table_registry import REQUEST_KINDS

    assert {k: v for k, v in REQUEST_KINDS.items() if k != "alle"} == codebook.load().column(
        "rights_requests", "kind"
    ).codes


def test_reservation_share_is_suppressed_by_its_declaration(reg):
    tables = compute_tables(reg, as_of=pd.Timestamp(AS_OF), names=["rights_requests", "rights_reservation_share"])
    exact = Publication(tables, 2023, [2022, 2023], min_cell=1, as_of=pd.Timestamp(AS_OF))
    cells = exact.cells("rights_reservation_share").set_index("year")
    assert cells.loc["2022", ["patients", "reserved", "erased", "reserved_or_erased"]].tolist() == ["3", "2", "0", "2"]
    assert "gjelder det 2 (66,7" in reservation_share_sentence(cells.reset_index(), 2022).replace("\u00a0", " ")
    hidden = Publication(tables, 2023, [2022, 2023], min_cell=5, as_of=pd.Timestamp(AS_OF))
    cells = hidden.cells("rights_reservation_share").set_index("year")
    assert cells.loc["2022", ["reserved", "erased", "reserved_or_erased", "reserved_or_erased_share"]].tolist() == [
        "×", "0", "×", "–",
    ]  # fmt: skip
    assert "for lite til å vises" in reservation_share_sentence(cells.reset_index(), 2022)


def test_erasure_sentence_follows_the_small_number_rule():
    assert erasure_sentence(4, 5).startswith("Færre enn 5 pasienter")
    assert erasure_sentence(4, 1).startswith("4 pasienter")
    assert erasure_sentence(0, 5) == ""


def test_a_reservation_removes_exactly_the_follow_ups_due_on_or_after_it(tmp_path):
    """RF on 10.01.2022: due 10.04, 10.07 and 10.01.2023. The earlier of request and reserved_date applies."""
    reg = make_extract(
        tmp_path,
        patients=[dict(patient_id="P1", reserved_date="2022-12-01"), dict(patient_id="P2", reserved_date="2022-05-01"),
                  dict(patient_id="P3")],
        treatments=[dict(patient_id=p, date="2022-01-10") for p in ("P1", "P2", "P3")],
        rights_requests=[_q("Q1", "P1", "reservasjon", "2022-07-01", effective="2022-07-10"),
                         _q("Q2", "P2", "reservasjon", "2022-11-20", effective="2022-12-01")],
    )  # fmt: skip
    c = followup_candidates(reg, as_of="2024-01-01")
    got = {(r.patient_id, r.kind): (r.owed, r.exclusion) for r in c.itertuples()}
    nan = got[("P1", "rf_3m")][1]
    assert got[("P1", "rf_3m")] == (True, nan)  # due before the request's effective date
    assert got[("P1", "rf_6m")] == (False, "reservert")  # due on it
    assert got[("P1", "rf_12m")] == (False, "reservert")
    assert got[("P2", "rf_3m")] == (True, nan) and got[("P2", "rf_6m")] == (False, "reservert")  # reserved_date earlier
    assert all(got[("P3", k)][0] for k in ("rf_3m", "rf_6m", "rf_12m"))


def test_the_workbook_shows_requests_exactly_and_hides_small_reservation_counts(reg, tmp_path):
    import openpyxl

    from opr_analysis.report.workbook import write_workbook

    tables = compute_tables(reg, as_of=pd.Timestamp(AS_OF), names=["rights_requests", "rights_reservation_share"])
    wb = openpyxl.load_workbook(write_workbook(tables, tmp_path / "t.xlsx", min_cell=5))
    rows = {(r[0], r[1]): r for r in wb["Krav fra pasienter"].iter_rows(min_row=2, values_only=True)}
    assert rows[(2024, "Sletting")][2] == 1 and rows[(2024, "Alle krav")][2] == 7
    share = list(wb["Reservert eller slettet"].iter_rows(min_row=2, values_only=True))
    assert [r[2:5] for r in share] == [("×", 0, "×"), (0, "×", "×")]  # reserved, erased, either: small
