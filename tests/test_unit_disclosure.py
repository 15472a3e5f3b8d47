"""Issue 23 (class 3) and the follow-up decision of issue 22, tested as an attacker would: a unit's small count
must not be readable from any table, figure, sentence or workbook of any report of the extract (the whole
registry's and each unit's), nor by subtracting the other units from the registry's total, nor through the
indicator chapter. Every report of a multi-unit extract is suppressed together
(opr_analysis.report.unit_disclosure); the LP audit covers every table and every plotted value."""

import dataclasses
import datetime as dt
import re

import numpy as np
import openpyxl
import pandas as pd
import pytest
from helpers import answer_rows, make_extract, profile_attack

import opr_analysis
from opr_analysis.indicators.statistics import PUBLISHED_AS
from opr_analysis.report import figures
from opr_analysis.report import indicator_report as ir
from opr_analysis.report import suppression as sup
from opr_analysis.report.gt_tables import years_window
from opr_analysis.report.pipeline import write_report_workbook
from opr_analysis.report.prose import followup_sentence
from opr_analysis.report.publication import Publication, labelled
from opr_analysis.report.suppression import SUPPRESSED, publish, recorded_tables, recoverable_cells
from opr_analysis.report.unit_disclosure import INDICATOR_TABLE, response_key
from opr_analysis.report.workbook import workbook_frames
from opr_analysis.stats.export import compute_tables, published_tables
from opr_analysis.stats.table_registry import TABLES, PatientCounts, get

AS_OF = dt.date(2025, 3, 1)
YEAR = 2024
UNITS = [
    dict(unit_id="A", name="Klinikk A", orgnr="993467049", health_region="sor_ost"),
    dict(unit_id="B", name="Klinikk B", orgnr="983975240", health_region="vest"),
    dict(unit_id="C", name="Klinikk C", orgnr="974631407", health_region="nord"),
]
#: RF treatments on 10 January 2024 per unit, and how many answered their 3-month follow-up (sent on the due
#: day). Unit C has 3: every count about it is 1–4.
SIZES = {"A": (12, 6), "B": (12, 7), "C": (3, 2)}
RF3 = "Svar på oppfølging 3 måneder etter RF"


@pytest.fixture(scope="module")
def three(tmp_path_factory):
    treatments, followups, enrolments = [], [], []
    n = 0
    for unit, (k, answered) in SIZES.items():
        for i in range(k):
            n += 1
            treatments.append(
                dict(treatment_id=f"T{n}", patient_id=f"P{n}", unit_id=unit, kind="rf", date="2024-01-10")
            )
            followups.append(dict(patient_id=f"P{n}", kind="rf_3m", anchor_id=f"T{n}", sent_date="2024-04-10",
                                  responded_at="2024-04-20T10:00:00" if i < answered else None))  # fmt: skip
            enrolments.append(dict(patient_id=f"P{n}", unit_id=unit, granted_date="2024-01-03",
                                   first_consultation_date="2024-01-20"))  # fmt: skip
    return make_extract(
        tmp_path_factory.mktemp("three"), units=UNITS, treatments=treatments, followups=followups,
        enrolments=enrolments,
    )  # fmt: skip


@pytest.fixture(scope="module")
def family(three):
    """The whole registry's view of ``three`` and the tables its disclosure (min_cell 5, every report of the
    extract suppressed together) suppressed: computed once, here, for every test of the module."""
    view = ir.unit_view(three, as_of=AS_OF)
    with recorded_tables() as recorded:
        view.disclosure(5)
    return view, recorded


@pytest.fixture(scope="module")
def reports(three, family, tmp_path_factory):
    """Every publication of the extract, as a reader gets them: the whole registry's report and each unit's
    (tables, sentence, figure data, indicator chapter) and their workbooks, read back.

    The disclosure is every report of the extract suppressed together, the same linear programs whatever the
    unit: computed once, by the whole registry's view, and shared by the units' views (``source``, as
    :func:`~.indicator_report.select` narrows a view; each is ``unit_view(three, unit)``'s view otherwise).
    C's workbook computes its hidden cells itself (``write_report_workbook`` without a hand-over, as
    ``opr report`` does when the kernel's cells are not usable): that it hides exactly what C's report hides is
    a point of the tests below. The other workbooks take their report's cells as ``opr report`` does
    (report/handover.py)."""
    from opr_analysis.report.handover import FILE_NAME, HandOver

    folder = tmp_path_factory.mktemp("workbooks")
    whole = family[0]
    out = {}
    for unit in (None, "A", "B", "C"):
        view = (
            whole
            if unit is None
            else dataclasses.replace(whole, reg=opr_analysis.for_unit(three, unit), unit=unit, source=whole)
        )
        tables = compute_tables(view.reg, as_of=AS_OF)  # as the notebook: the unit's own tables
        pub = Publication(tables, YEAR, years_window(YEAR), 5, AS_OF, view.disclosure(5).masks(unit))
        handover = None
        if unit != "C":
            handover = HandOver(folder / str(unit) / FILE_NAME, 5, unit)
            assert pub.hand_over(handover.path, handover.token, unit)
        path = write_report_workbook(three, AS_OF, folder / f"{unit}.xlsx", 5, "Årsrapport", unit, handover)
        assert handover is None or handover.used
        out[unit] = dict(view=view, tables=tables, pub=pub, workbook=openpyxl.load_workbook(path))
    return out


def _same(a, b) -> bool:
    """A workbook cell read back and the published value: both blank, the same number, or the same text."""
    blank = lambda v: v is None or (isinstance(v, float) and np.isnan(v))  # noqa: E731
    if blank(a) or blank(b):
        return blank(a) and blank(b)
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return a == pytest.approx(b)


def _sheet(workbook, table: str) -> pd.DataFrame:
    rows = list(workbook[get(table).sheet].iter_rows(values_only=True))
    return pd.DataFrame(rows[1:], columns=rows[0])


def _workbook_cell(report, column: str, kind="RF, 3 måneder", year=YEAR):
    frame = _sheet(report["workbook"], "followup_response")
    t = get("followup_response")
    row = frame[(frame[t.heading("year")] == year) & (frame[t.heading("kind")] == kind)]
    return row[t.heading(column)].iloc[0]


def test_a_units_small_follow_up_count_is_hidden_in_its_report_sentence_figure_and_workbook(reports):
    c = reports["C"]
    rf = c["pub"].cells("followup_response").set_index("kind").loc["rf_3m"]
    # 3 owed, 3 sent, 2 answered: each 1–4, each «×»; the share with them
    assert (rf["owed"], rf["sent_owed"], rf["settled"], rf["responded_settled"]) == (SUPPRESSED,) * 4
    assert rf["response_share"] == rf["response_share_ci"] == "–"
    for column in ("owed", "sent_owed", "settled", "responded_settled", "owed_settled", "responded_owed"):
        assert _workbook_cell(c, column) == SUPPRESSED, column
    # the sentence quotes no hidden count: every count of «Alle typer» is hidden or zero
    sentence = followup_sentence(
        c["pub"].cells("followup_response"), YEAR, AS_OF, c["pub"].published("followup_response_totals")
    )
    assert sentence == "Tall som er skjult i tabellen fordi de er små eller ville avsløre et lite tall, er utelatt her."
    # the figure of response shares leaves the hidden share out
    fu = c["tables"]["followup_response"]
    plot = figures.share_figure(
        fu,
        "response_share_settled",
        colour="kind",
        hidden=c["pub"].hidden("followup_response", "response_share_settled"),
    )
    assert not ((plot.data["year"] == YEAR) & (plot.data["kind"].astype(str) == "rf_3m")).any()
    # the indicator table of C's report and of the whole registry
    for unit in ("C", None):
        row = ir.indicator_cells(reports[unit]["view"], YEAR).set_index("Indikator").loc[RF3]
        assert row["Klinikk C"] == SUPPRESSED and row["n:Klinikk C"] == SUPPRESSED


def test_the_registry_total_minus_the_other_units_gives_no_hidden_count(reports):
    """The attack of the issue: the registry's count minus every other unit's. In the workbooks (all counts of
    the follow-up table) and the indicator chapter (funnel plot: denominator and share of every unit shown)."""
    t = get("followup_response")
    attacked = 0
    for column in (c for c in t.suppression.counts):
        c_value = _workbook_cell(reports["C"], column)
        if c_value == SUPPRESSED:
            attacked += 1
            others = [_workbook_cell(reports[u], column) for u in (None, "A", "B")]
            assert SUPPRESSED in others, column  # else C = registry − A − B
    assert attacked >= 5
    view = reports[None]["view"]
    points, _, _ = ir.funnel_data(view, YEAR)
    rf3 = points[points["indikator"].str.startswith(RF3)]
    assert "C" not in set(rf3["unit_id"])
    shown = {u: (d, s) for u, d, s in zip(rf3["unit_id"], rf3["denominator"], rf3["share"], strict=True)}
    # the registry's denominator and numerator are in its follow-up table (owed settled, answered): with A and B
    # both plotted, C would be the difference
    registry = reports[None]["pub"].published("followup_response").set_index(["year", "kind"]).loc[(YEAR, "rf_3m")]
    assert len(shown) < 2 or SUPPRESSED in (registry["owed_settled"], registry["responded_settled"])
    # the trend figure leaves C's hidden year out, and so does every report's
    for unit in (None, "C"):
        plot = ir.trend_figure(reports[unit]["view"])
        data = plot.data if plot is not None else pd.DataFrame(columns=["unit_id", "year", "ind_id"])
        assert not ((data["unit_id"] == "C") & (data["year"] == YEAR) & (data["ind_id"] == "opr_oppf_rf_3m")).any()


def test_every_publication_shows_exactly_the_cells_the_audit_counts_as_shown(reports, three):
    """What the LP audit assumes shown is what is shown: each report's table cells and each workbook's sheets
    are the declared tables published with the disclosure's hidden cells (and the default, a unit's tables
    suppressed on their own, would differ: C's tables alone hide less than the whole family does)."""
    disclosure = reports[None]["view"].disclosure(5)
    for unit, report in reports.items():
        masks = disclosure.masks(unit)
        tables = published_tables(report["view"].reg, as_of=AS_OF)
        frames = workbook_frames(tables, 5, masks)
        for t in (t for t in TABLES if t.patient_counts):
            sheet = _sheet(report["workbook"], t.name)
            want = labelled(t, publish(t, tables[t.name], 5, masks[t.name]))
            assert sheet.shape == want.shape, (unit, t.name)
            for got, row in zip(sheet.itertuples(index=False), want.itertuples(index=False), strict=True):
                assert all(_same(a, b) for a, b in zip(got, row, strict=True)), (unit, t.name, got, row)
            assert frames[t.name].shape == want.shape
    alone = publish("followup_response", reports["A"]["tables"]["followup_response"], 5)
    family = reports["A"]["pub"].published("followup_response")
    assert (family == SUPPRESSED).sum().sum() > (alone == SUPPRESSED).sum().sum()  # A hides more with C beside it


def test_no_hidden_count_of_the_family_is_recoverable(family):
    """The LP audit over every report at once: every table of the registry and of each unit, the indicators
    (table, funnel and trend points) and the ties between them; every hidden count ranges over ≥ min_cell."""
    whole, recorded_5 = family
    for min_cell in (5, 10):
        if min_cell == 5:  # the disclosure every report of the module shows, and the tables it suppressed
            d, recorded = whole.disclosure(5), recorded_5
        else:  # a view of its own (no disclosure computed yet), sharing the extract's indicator results
            view = ir.UnitView(whole.reg_all, whole.reg, None, whole.units, whole.results, whole.definitions, AS_OF)
            with recorded_tables() as recorded:
                d = view.disclosure(min_cell)
        assert d.untied == []
        hidden = sum(int(t.hidden.sum()) for t in recorded)
        assert hidden > 10
        pinned = []
        for table in recorded:
            assert recoverable_cells(table) == []
            iv = sup.intervals(table).drop(index=sup.pinned_cells(table))
            assert ((iv["high"] - iv["low"]) >= min_cell).all()
            pinned += sup.pinned_cells(table)
        # What no hiding can protect: C's 3 enrolments are public (the administrative baseline table shows them
        # exactly) and none had a baseline (zeros are shown), so «3 without» follows, in the table and in the
        # indicator (0 of 3); nothing else.
        assert sorted(c[1:2] + c[-1:] for c in pinned) == [
            ("baseline_response_patient_level", "enrolments_without_baseline"),
            (INDICATOR_TABLE, "not_numerator"),
        ]
        assert all(c[0] == "C" for c in pinned)
        # the planted counts are among the audited, hidden: C's 2 answered, in C's table and as the indicator's
        # numerator (and each is tied to the registry's count through the sum over units)
        cells = {c: (t.values[c], t.hidden[c]) for t in recorded for c in t.values.index if c[0] == "C"}
        answered = [v for c, v in cells.items() if c[1:2] == ("followup_response",) and c[-1] == "responded_settled"]
        numerator = [v for c, v in cells.items() if c[1:2] == (INDICATOR_TABLE,) and c[-1] == "numerator"]
        assert (2.0, True) in answered and (2.0, True) in numerator


def test_indicators_count_what_their_tables_count(tmp_path_factory):
    """PUBLISHED_AS ties an indicator to table cells; the tie is only an identity if the numbers agree, for every
    unit and year (a synthetic 3-unit extract): otherwise the audit would miss a sum a reader can use."""
    from opr_analysis.report.unit_disclosure import indicator_counts, indicator_links
    from opr_analysis.synth.registry import write_tables
    from opr_analysis.synth.units import synthesize_units

    folder = tmp_path_factory.mktemp("synthunits") / "extract"
    write_tables(synthesize_units(3, seed=11, scale=0.3, years=(2021, 2024)), folder)
    reg = opr_analysis.load_extract(folder)
    view = ir.unit_view(reg, as_of=AS_OF)
    links = indicator_links(view.definitions)
    assert {lk.b[0] for lk in links} == {t for t, *_ in PUBLISHED_AS.values()}
    checked = 0
    for unit in [None, *view.units["unit_id"]]:
        frame = indicator_counts(view.results, unit or "alle", view.definitions)
        tables = compute_tables(view.reg_all if unit is None else opr_analysis.for_unit(reg, unit), AS_OF)
        for link in links:
            mine = frame.query(link.a[1]).groupby("year")[link.a[2]].sum()
            other = tables[link.b[0]]
            other = (other.query(link.b[1]) if link.b[1] else other).groupby("year")[link.b[2]].sum()
            common = mine.index.intersection(other.index)
            assert len(common) and (mine[common] == other[common]).all(), (unit, link)
            checked += len(common)
    assert checked > 100
    assert any(response_key("") in lk.a[1] for lk in links)  # the response under an outcome indicator too


def test_funnel_axis_reaches_only_the_points_shown(family, monkeypatch):
    """A hidden unit's denominator is not readable from where the control limits end."""
    view = family[0]  # the whole registry's view of `three`; its hidden values are replaced below
    r = view.results
    ind = "opr_ventetid_60d"
    largest = r[(r["year"] == YEAR) & (r["ind_id"] == ind) & (r["unit_id"] != "alle")].sort_values("denominator")
    big = largest["unit_id"].iloc[-1]
    hidden = {(big, YEAR, ind)}
    monkeypatch.setattr(type(view), "hidden", lambda self, min_cell=5: hidden)
    points, curves, _ = ir.funnel_data(view, YEAR)
    assert big not in set(points.loc[points["ind_id"] == ind, "unit_id"])
    top = float(largest["denominator"].iloc[:-1].max())
    title = view.definitions[ind].title
    assert top <= curves.loc[curves["indikator"].str.startswith(title), "n"].max() <= top * 1.1
    hidden.add(("alle", YEAR, ind))  # no funnel at all when the registry total is hidden (the mean would show it)
    points, curves, _ = ir.funnel_data(view, YEAR)
    assert not curves["indikator"].str.startswith(title).any()


def test_follow_up_counts_are_patient_counts_in_the_registrys_report(tmp_path):
    """Issue 22's decision: one registry (no units), 3 RF treatments with a 3-month follow-up: the report's
    table, its sentence, the figure and the workbook hide the same cells; opr tables stays exact."""
    reg = make_extract(
        tmp_path / "x",
        treatments=[dict(treatment_id=f"T{i}", patient_id=f"P{i}", kind="rf", date="2024-01-10") for i in range(3)],
        followups=[dict(patient_id=f"P{i}", kind="rf_3m", anchor_id=f"T{i}", sent_date="2024-04-10",
                        responded_at="2024-04-20T10:00:00" if i else None) for i in range(3)],
    )  # fmt: skip
    tables = published_tables(reg, as_of=AS_OF)
    assert tables["followup_response"].query("year == 2024 and kind == 'rf_3m'")["owed"].tolist() == [3]  # exact
    pub = Publication(tables, YEAR, years_window(YEAR), 5, AS_OF)
    cells = pub.cells("followup_response").set_index("kind")
    assert cells.loc["rf_3m", "owed"] == cells.loc["alle", "owed"] == SUPPRESSED
    sheet = workbook_frames(tables, 5)["followup_response"]
    assert (sheet.loc[sheet["year"] == YEAR, "owed"] == SUPPRESSED).any()
    assert "sent" not in sheet.columns and "response_share" not in sheet.columns  # mixes owed and unowed sends
    sentence = followup_sentence(pub.cells("followup_response"), YEAR, AS_OF, pub.published("followup_response_totals"))
    assert not re.search(r"\b[1-4]\b", sentence.replace(str(YEAR), "").replace("01.03.2025", ""))
    assert pub.hidden("followup_response", "response_share_settled")[tables["followup_response"]["year"] == YEAR].any()
    with pytest.raises(ValueError, match="other rows"):  # hidden cells computed for other rows are refused
        publish("followup_response", tables["followup_response"].iloc[1:], 5, pub.masks["followup_response"])


@pytest.mark.parametrize("seed", range(6))
def test_highs_kept_between_objectives_agrees_with_linprog(seed, monkeypatch):
    """The audit's ranges from one HiGHS model per cluster (warm starts) equal scipy's linprog, one call each."""
    rng = np.random.default_rng(seed)
    values = pd.DataFrame(rng.integers(0, 9, size=(4, 5)) * rng.integers(0, 2, size=(4, 5)))
    values["total"] = values.sum(axis=1)
    values.loc["total"] = values.sum()
    frame = values.reset_index(drop=True)
    parts = {"total": [c for c in frame.columns if c != "total"]}
    tables = []
    with recorded_tables() as recorded:
        sup.suppress_wide(frame, parts, 5, total_row=len(frame) - 1)
    tables += recorded
    assert tables
    for table in tables:
        fast = sup.intervals(table)
        monkeypatch.setattr(sup, "_highs_module", lambda: None)
        slow = sup.intervals(table)
        monkeypatch.undo()
        pd.testing.assert_frame_equal(fast, slow, atol=1e-6)


def test_a_weak_count_with_nothing_left_to_hide_in_its_sums_is_protected_through_the_sums_it_is_tied_to():
    """x + y = t (t public, y never shown) and y + z = u: the shown z and u give y, so x. x's own sum has
    nothing left to hide; the suppression hides z, tied to x through y, and x ranges over 1–20."""
    labels = ["x", "y", "t", "z", "u"]
    table = sup.SuppressedTable(
        values=pd.Series([2, 18, 20, 7, 25], index=labels, dtype=float),
        displayed=pd.Series([True, False, True, True, True], index=labels),
        hidden=pd.Series([True, False, False, False, False], index=labels),
        groups=[([("x", 1.0), ("y", 1.0), ("t", -1.0)], 0.0), ([("y", 1.0), ("z", 1.0), ("u", -1.0)], 0.0)],
        min_cell=5,
        fixed=pd.Series([False, False, True, False, False], index=labels),
    )
    assert recoverable_cells(table) == ["x"]
    hidden = sup._protect(table)
    assert hidden[hidden].index.tolist() == ["x", "z"]
    assert recoverable_cells(table) == [] and sup.pinned_cells(table) == []
    assert sup.intervals(table, ["x"]).loc["x"].tolist() == [1.0, 20.0]


def test_the_baseline_paragraph_quotes_no_share_the_table_hides():
    from opr_analysis.report.prose import baseline_paragraph

    baseline = pd.DataFrame({"year": [2023, 2024], "enrolments": [50, 40], "baseline_responses": [45, 50],
                             "response_share": [0.9, 1.25]})  # fmt: skip
    per_enrolment = pd.DataFrame({"year": [2023, 2024], "enrolments": [50, 40], "enrolments_with_baseline": [30, 38]})
    per_enrolment["response_share"] = per_enrolment["enrolments_with_baseline"] / per_enrolment["enrolments"]
    pub = Publication({"baseline_response_patient_level": per_enrolment}, YEAR, [2023, 2024], 5, AS_OF)
    shown = pub.published("baseline_response_patient_level")
    assert shown["response_share"].tolist()[1] == "–"  # 38 of 40: the 2 without would show
    text = baseline_paragraph(baseline, per_enrolment, YEAR, shown).replace("\u00a0", " ")
    assert "95,0 %" not in text and "skjult fordi tallene er små" in text
    assert "95,0 %" in baseline_paragraph(baseline, per_enrolment, YEAR).replace("\u00a0", " ")  # unsuppressed


def test_patients_counted_in_two_units_give_no_hidden_count_away():
    """A patient enrolled at two units is one of each unit's patients and one of the registry's: the registry
    is at most the sum of its units (no exact sum: the audit used to leave such a table out). Registry 30
    patients, 10 reserved; A 20 and 8; B 12 and 3. Two patients are in both units, one of them reserved. With
    every count but B's 3 shown, the attacker reads 20 + 12 − 30 = 2 patients counted twice, so B's reserved is
    10 − 8 plus at most 2: 2–4."""
    spec = PatientCounts(counts=("reserved",), parts=(("patients", ("reserved", "not_reserved")),))
    frame = lambda patients, reserved: pd.DataFrame({"year": [YEAR], "patients": [patients], "reserved": [reserved]})  # noqa: E731
    scopes = {None: {"t": (spec, frame(30, 10))}, "A": {"t": (spec, frame(20, 8))}, "B": {"t": (spec, frame(12, 3))}}
    with recorded_tables() as recorded:
        together = sup.hidden_together(scopes, 5, sums=(None, ["A", "B"]))
    assert together.untied == []
    assert all(recoverable_cells(t) == [] for t in recorded)
    cells = {scope: together.hidden[scope]["t"].cells.iloc[0] for scope in scopes}
    assert cells["B"]["reserved"]  # 3: hidden
    # the attack above needs the registry's and A's reserved and every unit's patients
    assert cells[None]["reserved"] or cells["A"]["reserved"] or any(c["patients"] for c in cells.values())


#: Baseline forms of 2024 per unit: education codes of the women and of the men (one form per patient).
#: C's women: 2 with primary school and 4 with upper secondary, counts 1–4 a reader must not learn; A's 6 women
#: with a long degree let the registry's report show its 19 with upper secondary.
EDUCATION = {
    "A": ([2] * 8 + [4] * 6, [3] * 7),
    "B": ([2] * 7, [3] * 6),
    "C": ([1, 1, 2, 2, 2, 2] + [3] * 7, [3] * 5),
}


@pytest.fixture(scope="module")
def forms(tmp_path_factory):
    patients, enrolments, responses, answers = [], [], [], {}
    for unit, by_sex in EDUCATION.items():
        for sex, codes in zip(("K", "M"), by_sex, strict=True):
            for code in codes:
                i = len(patients) + 1
                patients.append(dict(patient_id=f"P{i}", sex=sex))
                enrolments.append(dict(enrolment_id=f"E{i}", patient_id=f"P{i}", unit_id=unit,
                                       granted_date="2024-01-03"))  # fmt: skip
                responses.append(dict(response_id=f"B{i}", patient_id=f"P{i}", unit_id=unit,
                                      submitted_at="2024-01-10T10:00:00"))  # fmt: skip
                answers[f"B{i}"] = {"education": code}
    return make_extract(
        tmp_path_factory.mktemp("forms"), patients=patients, units=UNITS, enrolments=enrolments,
        baseline_responses=responses, baseline_answers=answer_rows("response_id", answers),
    )  # fmt: skip


def test_a_units_small_baseline_profile_counts_are_not_the_registry_minus_the_other_units(forms):
    """Each report alone hides C's 2 and 4 women by education, but the registry shows 19 women with upper
    secondary school and A and B show 8 and 7, so C's 4 was 19 − 8 − 7 (and C's 2 followed). Every report's
    baseline profile is suppressed together (report.unit_disclosure.profile_disclosure): no hidden count of any
    report can be narrowed below min_cell from all of them (tests/helpers.profile_attack, which also uses that a
    variable's n is at most the responses), and the table, the paragraph and the report's view agree."""
    from opr_analysis.report import prom_tables as pt
    from opr_analysis.report.prose import baseline_profile_paragraph
    from opr_analysis.report.unit_disclosure import profile_disclosure
    from opr_analysis.stats.proms import baseline_profile

    with recorded_tables() as recorded:
        hidden = profile_disclosure(forms, YEAR, 5)
    assert recorded and all(recoverable_cells(t) == [] and sup.pinned_cells(t) == [] for t in recorded)
    truth, alone, together = {}, {}, {}
    for unit in (None, "A", "B", "C"):
        profile = baseline_profile(forms if unit is None else opr_analysis.for_unit(forms, unit), by=("year", "sex"))
        truth[unit] = pt.profile_counts(profile, YEAR)
        alone[unit] = pt.baseline_profile_cells(profile, YEAR, 5).set_index(["variable", "level"])
        together[unit] = pt.baseline_profile_cells(profile, YEAR, 5, hidden[unit]).set_index(["variable", "level"])
        # the great-tables table shows the same cells
        html = pt.baseline_profile_table(profile, YEAR, 5, hidden[unit]).as_raw_html()
        assert html.count(f">{SUPPRESSED}<") == (together[unit][["K", "M", "alle"]] == SUPPRESSED).sum().sum()
        text = baseline_profile_paragraph(profile, together[unit], YEAR)
        assert f"{together[unit].loc[('responses', ''), 'K']} fra kvinner" in text, unit
    edu = [("education", "1"), ("education", "2")]
    assert truth["C"].set_index(["variable", "level"]).loc[edu, "K"].tolist() == [2, 4]
    assert alone["C"].loc[edu, "K"].tolist() == [SUPPRESSED] * 2
    assert [alone[u].loc[("education", "2"), "K"].split(" ")[0] for u in (None, "A", "B")] == ["19", "8", "7"]
    # the attacker before (11 cells pinned, measured): C's 4 as 19 − 8 − 7, then C's 2 and 7 from its n; after: none
    before = {(c[0], c[1], c[2], c[3], c[4], c[5]) for c in profile_attack(alone, truth)}
    assert {("C", "education", "1", "K", 2, 2), ("C", "education", "2", "K", 4, 4)} <= before
    assert profile_attack(together, truth) == []
    assert together["C"].loc[edu, "K"].tolist() == [SUPPRESSED] * 2
    # what each report's notebook takes (UnitView.profile_hidden), the same for every view of the extract: C's
    # view is unit_view(forms, "C")'s, narrowed from the whole registry's, whose cache it shares (as a kernel's
    # views would share it), so the views' profile disclosure is computed once, apart from the one above
    whole = ir.unit_view(forms, as_of=AS_OF)
    unit_c = dataclasses.replace(whole, reg=opr_analysis.for_unit(forms, "C"), unit="C")
    assert unit_c.profile_hidden(YEAR, 5).equals(hidden["C"])
    assert whole.profile_hidden(YEAR, 5).equals(hidden[None])


def test_the_nonresponse_models_counts_are_hidden_where_they_would_give_a_units_small_count_away(three, monkeypatch):
    """The non-response model's note and paragraph quote its follow-ups and answers; the registry's are the sum
    of the units'. Here each scope's model counts its RF follow-ups (registry 27 and 15 answered; A 12/6, B 12/7,
    C 3/2): C's model is not shown (too few), but the registry's 27 − 12 − 12 would give C's 3 away, so every
    report is suppressed together (report.unit_disclosure.model_disclosure) and a report that hides them
    describes the model without them."""
    from opr_analysis.report import prom_tables as pt
    from opr_analysis.report.prose import nonresponse_paragraph
    from opr_analysis.report.unit_disclosure import model_disclosure
    from opr_analysis.stats import models

    def fake(reg, as_of=None, window=None, min_cell=5):
        fu = reg.followups
        n, events = len(fu), int(fu["responded_at"].notna().sum())
        return pd.DataFrame({"term": ["Intercept", "age_10"], "label": ["Konstantledd", "Alder (per 10 år)"],
                             "n": [n, n], "events": [events, events], "odds_ratio": [1.0, 1.2], "ci_low": [0.5, 0.9],
                             "ci_high": [2.0, 1.5], "p_value": [0.9, 0.2]})  # fmt: skip

    monkeypatch.setattr(models, "nonresponse_model", fake)
    with recorded_tables() as recorded:
        hidden = model_disclosure(three, AS_OF, (2024, 2024), 5)
    assert recorded and all(recoverable_cells(t) == [] for t in recorded)
    assert hidden["C"]  # 3 and 2: small
    assert sum(hidden[s] for s in (None, "A", "B")) >= 1  # else C's 3 = 27 − 12 − 12
    # what a reader sees: the counts of every scope that shows them; C's cannot be narrowed below 5
    shown = {s: fake(three if s is None else opr_analysis.for_unit(three, s))["n"].iloc[0] for s in hidden}
    if not hidden[None]:
        assert sum(1 for s in ("A", "B", "C") if hidden[s]) >= 2
    model = fake(three)
    for counts_hidden in (False, True):
        note = pt.nonresponse_model_table(model.assign(n=100, events=50), 5, counts_hidden).as_raw_html()
        text = nonresponse_paragraph(model.assign(n=100, events=50), (2024, 2024), True, False, counts_hidden)
        for out in (note, text):
            assert ("100 oppfølginger" in out) != counts_hidden and ("antallene er skjult" in out) == counts_hidden
    assert shown[None] == 27 and ir.unit_view(three, "C", as_of=AS_OF).model_counts_hidden(5, (2024, 2024))


# --- the hand-over: the workbook takes the report's hidden cells from the kernel (report/handover.py) -----------


def _read_back(path) -> dict[str, pd.DataFrame]:
    return pd.read_excel(path, sheet_name=None, header=None)


def _handed_over(pub, folder, report_unit, **changes):
    """The hand-over of ``report_unit``'s report run, with ``pub``'s hidden cells written as the kernel writes them;
    ``changes`` (``token``, ``unit``) alter what is written."""
    from opr_analysis.report.handover import FILE_NAME, HandOver

    handover = HandOver(folder / "build" / FILE_NAME, 5, report_unit)
    written = {"token": handover.token, "unit": report_unit, **changes}
    assert pub.hand_over(handover.path, written["token"], written["unit"])
    return handover


def _same_masks(masks, expected) -> None:
    assert masks.keys() == expected.keys()
    for name, hidden in expected.items():
        pd.testing.assert_frame_equal(masks[name].cells, hidden.cells, check_exact=True, obj=name)
        pd.testing.assert_frame_equal(masks[name].margins, hidden.margins, check_exact=True, obj=name)


def test_the_handed_over_cells_are_the_reports_to_the_last_total_line(reports, tmp_path):
    # a unit's report of the three units: C's counts hidden, suppressed with every other report's
    pub = reports["C"]["pub"]
    handover = _handed_over(pub, tmp_path, "C")
    masks = handover.masks(compute_tables(reports["C"]["view"].reg, as_of=AS_OF))
    assert handover.used and not handover.path.exists()  # read once, then removed from the run's folder
    assert sum(int(h.cells.to_numpy().sum()) for h in pub.masks.values()) >= 6
    _same_masks(masks, pub.masks)
    # a one-unit report: its own tables suppressed together, total lines hidden among them
    sexes, births = "KKMMKMKKMKMKKM", range(1950, 2004, 4)
    reg = make_extract(
        tmp_path / "one",
        patients=[dict(patient_id=f"P{i}", sex=s, birth_year=b) for i, (s, b) in enumerate(zip(sexes, births))],
        referrals=[dict(patient_id=f"P{i}", assessed_date="2024-03-10", decision="rett") for i in range(14)],
    )
    tables = compute_tables(reg, as_of=AS_OF)
    pub = Publication(tables, YEAR, years_window(YEAR), 5, AS_OF)
    handover = _handed_over(pub, tmp_path / "b", None)
    document = __import__("json").loads(handover.path.read_text(encoding="utf-8"))
    masks = handover.masks(published_tables(reg, as_of=AS_OF))
    _same_masks(masks, pub.masks)
    margins = pub.masks["referrals_by_sex_age"].margins
    assert margins["hidden"].any() and not margins["hidden"].all()
    # which cells are hidden, never a count: positions, names, the keys of total lines and yes/no
    entry = document["tables"]["referrals_by_sex_age"]
    assert set(entry) == {"index", "columns", "hidden", "margins"}
    assert {type(v) for row in entry["margins"] for v in row} == {int, list, str, bool}
    assert len(entry["margins"]) == len(margins) and all(len(row) == 4 for row in entry["margins"])


def test_the_workbook_of_a_unit_report_uses_the_handed_over_cells_and_computes_none(
    reports, three, tmp_path, monkeypatch
):
    handover = _handed_over(reports["C"]["pub"], tmp_path, "C")

    def computed_again(*args, **kwargs):
        raise AssertionError("the disclosure was computed a second time")

    monkeypatch.setattr(ir, "unit_view", computed_again)
    monkeypatch.setattr(sup, "hidden_together", computed_again)
    path = write_report_workbook(three, AS_OF, tmp_path / "C.xlsx", 5, "Årsrapport", "C", handover)
    assert handover.used
    # the same workbook as the one computed without a hand-over (the `reports` fixture's)
    before = tmp_path / "before.xlsx"
    reports["C"]["workbook"].save(before)
    ours, theirs = _read_back(path), _read_back(before)
    assert ours.keys() == theirs.keys()
    for sheet in ours:
        pd.testing.assert_frame_equal(ours[sheet], theirs[sheet], check_exact=True, obj=sheet)


@pytest.mark.parametrize(
    "changes",
    [
        {"token": "0" * 32},  # a file of another run (a foreign or stale file at the same place)
        {"unit": "B"},  # another unit's report
        {"unit": None},  # the whole registry's
    ],
    ids=["other-token", "other-unit", "whole-registry"],
)
def test_a_foreign_or_stale_hand_over_is_not_used_and_the_workbook_computes_its_cells(
    reports, three, tmp_path, changes
):
    handover = _handed_over(reports["C"]["pub"], tmp_path, "C", **changes)
    path = write_report_workbook(three, AS_OF, tmp_path / "C.xlsx", 5, "Årsrapport", "C", handover)
    assert not handover.used and not handover.path.exists()
    assert _sheet(openpyxl.load_workbook(path), "followup_response").equals(
        _sheet(reports["C"]["workbook"], "followup_response")
    )


def test_a_hand_over_that_does_not_fit_the_workbooks_tables_is_not_used(reports, tmp_path):
    import json
    import os

    pub = reports["C"]["pub"]
    tables = compute_tables(reports["C"]["view"].reg, as_of=AS_OF)
    # fewer rows than the workbook's table
    fewer = dict(tables, followup_response=tables["followup_response"].iloc[1:])
    assert _handed_over(pub, tmp_path, "C").masks(fewer) is None
    # another min_cell; a table missing; garbage; a symbolic link to a good file; no file at all
    handover = _handed_over(pub, tmp_path, "C")
    handover.min_cell = 3
    assert handover.masks(tables) is None
    handover = _handed_over(pub, tmp_path, "C")
    document = json.loads(handover.path.read_text(encoding="utf-8"))
    del document["tables"]["followup_response"]
    handover.path.write_text(json.dumps(document), encoding="utf-8")
    assert handover.masks(tables) is None
    handover = _handed_over(pub, tmp_path, "C")
    handover.path.write_text("{not json", encoding="utf-8")
    assert handover.masks(tables) is None
    good = _handed_over(pub, tmp_path / "elsewhere", "C")
    handover = _handed_over(pub, tmp_path, "C")
    handover.path.unlink()
    os.symlink(good.path, handover.path)
    handover.token = good.token
    assert handover.masks(tables) is None and not handover.used
    assert handover.masks(tables) is None  # removed: nothing left to read


def test_with_min_cell_1_the_hand_over_is_removed_and_nothing_is_hidden(reports, three, tmp_path):
    from opr_analysis.report.handover import FILE_NAME, HandOver

    tables = compute_tables(reports["C"]["view"].reg, as_of=AS_OF)
    pub = Publication(tables, YEAR, years_window(YEAR), 1, AS_OF)
    handover = HandOver(tmp_path / "build" / FILE_NAME, 1, "C")
    assert pub.hand_over(handover.path, handover.token, "C")
    path = write_report_workbook(three, AS_OF, tmp_path / "C.xlsx", 1, "Årsrapport", "C", handover)
    assert not handover.path.exists()  # not left in the report's build/ folder
    sheets = openpyxl.load_workbook(path).worksheets
    assert not [v for sheet in sheets for row in sheet.iter_rows(values_only=True) for v in row if v == SUPPRESSED]
