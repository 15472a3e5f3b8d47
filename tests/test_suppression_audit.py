"""Issue 12.4: suppression nobody can undo. An attacker who knows every shown cell and every sum
tries to recover hidden counts: by brute force on small tables, and by linear programming on
every suppressed table the annual report builds from the synthetic registry."""

import datetime as dt
import itertools

import pandas as pd
import pytest

from opr_analysis.report.suppression import (
    SUPPRESSED,
    display_counts,
    intervals,
    recorded_tables,
    recoverable_cells,
    suppress,
    suppress_wide,
)


def _improvement(n, improved, min_cell=5):
    f = pd.DataFrame({"n": [n], "improved": [improved]})
    f["not_improved"] = f["n"] - f["improved"]
    return suppress_wide(f, [("n", ["improved", "not_improved"])], min_cell, displayed=["n", "improved"])


def test_issue_example_improved_5_of_6_cannot_be_recovered():
    # Before: «6 | × | – | –» with × meaning ≥ 5 gave improved = 5, not improved = 1 exactly.
    hidden = _improvement(6, 5)
    shown = display_counts(pd.Series([6, 5]), hidden.loc[0, ["n", "improved"]].reset_index(drop=True))
    assert shown.tolist() == ["6", SUPPRESSED]
    # The attacker: improved + not_improved = 6, improved ≥ 1 (zeros are shown), not_improved ≥ 0.
    possible = [i for i in range(1, 7) if 6 - i >= 0]
    assert max(possible) - min(possible) >= 5
    assert 1 in possible and 5 in possible  # the truth is among several


def test_issue_example_column_of_56_cannot_be_recovered():
    # Before: 56 = «<5», «×», 50 gave 1 and 5.
    t = pd.DataFrame({"n": [1, 5, 50]})
    hidden = suppress(t, "n", groups=[[]])
    assert hidden.all()


def _brute_force_ranges(values, hidden, total, lower=1):
    """Every integer vector for the hidden cells consistent with the shown cells and the published total."""
    known = sum(v for v, h in zip(values, hidden, strict=True) if not h)
    k = sum(hidden)
    rest = total - known
    ranges = [set() for _ in range(k)]
    for combo in itertools.product(range(lower, rest + 1), repeat=k):
        if sum(combo) == rest:
            for i, v in enumerate(combo):
                ranges[i].add(v)
    return [(min(r), max(r)) for r in ranges]


@pytest.mark.parametrize("min_cell", [5, 10])
@pytest.mark.parametrize(
    "values",
    [[1, 5, 50], [2, 3, 50], [4, 0, 9, 30], [3, 3, 3, 40], [7, 1, 12], [0, 2, 0, 6], [9, 11, 1, 1], [6, 6, 6]],
)
def test_brute_force_attacker_recovers_no_hidden_count_of_a_distribution(values, min_cell):
    t = pd.DataFrame({"n": values})
    hidden = suppress(t, "n", groups=[[]], min_cell=min_cell).tolist()
    assert all(h for v, h in zip(values, hidden, strict=True) if 0 < v < min_cell)  # every small count hidden
    protectable = sum(values) - sum(v > 0 for v in values) >= min_cell
    if protectable and any(hidden):
        for low, high in _brute_force_ranges(values, hidden, sum(values)):
            assert high - low >= min_cell
    if not protectable:  # the published total is too small: a delivery's codebook shows no distribution
        from opr_analysis.extracts.disclosure import hidden_counts

        assert hidden_counts(pd.Series(values), min_cell) is None


@pytest.mark.parametrize("n, improved", [(n, i) for n in range(0, 16) for i in range(0, n + 1)])
def test_brute_force_attacker_on_every_small_improvement_row(n, improved):
    hidden = _improvement(n, improved).iloc[0]
    n_shown, i_shown = not hidden["n"], not hidden["improved"]
    # What the reader sees: n and improved unless hidden; hidden displayed counts are ≥ 1.
    candidates = [
        (nn, ii)
        for nn in ([n] if n_shown else range(1, 40))
        for ii in ([improved] if i_shown else range(1, nn + 1))
        if ii <= nn
    ]
    for pos, truth in ((0, n), (1, improved), (None, n - improved)):
        if truth == 0 or truth >= 5:
            continue  # only small counts (1..4) must not be pinned down
        seen = {c[pos] if pos is not None else c[0] - c[1] for c in candidates}
        assert max(seen) - min(seen) >= 5, (n, improved, pos)


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    from opr_analysis.extract.reader import load_extract
    from opr_analysis.synth.registry import synthesize, write_tables

    folder = write_tables(synthesize().tables, tmp_path_factory.mktemp("synth") / "synthetic")
    return load_extract(folder)


@pytest.mark.parametrize("min_cell", [5, 10])
def test_no_table_of_the_synthetic_report_has_a_recoverable_cell(synthetic, min_cell):
    import opr_analysis
    from opr_analysis import proms
    from opr_analysis.report import gt_tables, prom_tables
    from opr_analysis.report.pipeline import default_report_year

    reg = synthetic
    as_of = dt.date(2026, 1, 31)
    year = default_report_year(reg, as_of)
    years = gt_tables.years_window(year, 3)
    tables = opr_analysis.report_tables(reg, as_of=as_of)
    profile = proms.baseline_profile(reg, by=("year", "sex"))
    with recorded_tables() as recorded:
        gt_tables.baseline_patient_level_cells(opr_analysis.baseline_response_patient_level(reg), years, min_cell)
        for y in years:  # the report shows this table unsuppressed (administrative); audited anyway
            gt_tables.followup_response_cells(tables["followup_response"], y, min_cell)
            prom_tables.baseline_profile_cells(profile, y, min_cell)
        prom_tables.improvement_cells(proms.improvement_rates(reg, as_of=as_of), min_cell)
    assert len(recorded) > 10
    assert sum(int(t.hidden.sum()) for t in recorded) > 0  # the audit had something to check
    for table in recorded:
        assert recoverable_cells(table) == []
        small = [c for c in table.values.index if 0 < float(table.values[c]) < min_cell and table.displayed[c]]
        assert table.hidden[small].all()
        iv = intervals(table)
        assert ((iv["high"] - iv["low"]) >= min_cell).all()


@pytest.fixture(scope="module")
def synthetic_units(unit_report):
    """Three synthetic units (``synthesize_units(3, seed=11, scale=0.3, years=(2021, 2024))``): the extract of
    tests/conftest.py's ``unit_report``, whose u2 report is one of the publications audited here."""
    from opr_analysis.extract.reader import load_extract

    return load_extract(unit_report.extract)


#: The as-of date of the audits of the declared tables and of the units' reports.
AS_OF = dt.date(2025, 3, 1)


@pytest.fixture(scope="module")
def units_view(synthetic_units):
    """The whole registry's report view of the three units (``indicator_report.unit_view``): its indicator
    results are computed once for the module. Tests that compute a disclosure make a view of their own from
    its parts (:func:`_fresh_view`), so each computes (and records) its suppression itself."""
    from opr_analysis.report import indicator_report as ir

    return ir.unit_view(synthetic_units, as_of=AS_OF)


def _fresh_view(view, reg=None, unit=None):
    """``indicator_report.unit_view(view.reg_all, unit)``'s view without computing the indicator results again
    (``reg``: the unit's registry): nothing computed in it yet."""
    from opr_analysis.report import indicator_report as ir

    reg = view.reg_all if reg is None else reg
    return ir.UnitView(view.reg_all, reg, unit, view.units, view.results, view.definitions, view.as_of)


@pytest.fixture(scope="module")
def unit_regs(synthetic_units):
    """Each report's registry of the three units, as ``indicator_report.unit_view(synthetic_units, unit).reg``
    makes it: None the whole registry's (``synthetic_units`` itself), else the unit's (``for_unit``). Made once
    for the module, so the PROM scores a registry memoises are computed once per report, not once per test.
    Read-only."""
    from opr_analysis import for_unit, unit_table

    units = unit_table(synthetic_units)["unit_id"].tolist()
    return {unit: for_unit(synthetic_units, unit) if unit else synthetic_units for unit in [None, *units]}


@pytest.fixture(scope="module")
def published_of(synthetic, unit_regs):
    """``published_of(key)``: ``published_tables(reg, as_of=AS_OF)`` of the synthetic registry (key ``"synthetic"``)
    or of one report's registry of the three units (a key of ``unit_regs``). They do not depend on ``min_cell``:
    each is computed once for the module, and every call gets its own copies of the frames."""
    from opr_analysis.stats.export import published_tables

    computed = {}

    def get(key):
        if key not in computed:
            computed[key] = published_tables(synthetic if key == "synthetic" else unit_regs[key], as_of=AS_OF)
        return {name: frame.copy() for name, frame in computed[key].items()}

    return get


@pytest.mark.parametrize("min_cell", [5, 10])
def test_every_declared_table_in_every_format_has_no_recoverable_cell(
    synthetic, synthetic_units, units_view, unit_regs, published_of, min_cell
):
    """The report's tables and the workbook's sheets, all from the declarations (stats.table_registry): every
    patient-count table is suppressed and audited in each of them. With several units every report (the whole
    registry's and each unit's) and every workbook is suppressed together (report.unit_disclosure): audited
    once over all of them, and each report's cells and sheets are those the audit counted as shown."""
    from opr_analysis import unit_table
    from opr_analysis.report import gt_tables
    from opr_analysis.report.pipeline import default_report_year
    from opr_analysis.report.publication import Publication
    from opr_analysis.report.suppression import pinned_cells, publish
    from opr_analysis.report.workbook import workbook_frames
    from opr_analysis.stats.table_registry import TABLES

    as_of = AS_OF
    patient_tables = [t for t in TABLES if t.patient_counts]
    assert {t.name for t in patient_tables} >= {
        "baseline_response_patient_level", "referrals_by_sex_age", "followup_response", "followup_response_totals",
    }  # fmt: skip
    hidden = 0

    def audit(recorded, fmt):
        nonlocal hidden
        for table in recorded:
            assert recoverable_cells(table) == [], fmt
            small = [c for c in table.values.index if 0 < float(table.values[c]) < min_cell and table.displayed[c]]
            known = table.fixed if table.fixed is not None else pd.Series(False, index=table.values.index)
            assert all(table.hidden[c] or known[c] for c in small), fmt  # shown exactly elsewhere, or hidden
            hidden += int(table.hidden.sum())

    # one registry: its report and its workbook
    year = default_report_year(synthetic, as_of)
    tables = published_of("synthetic")
    pub = Publication(tables, year, gt_tables.years_window(year), min_cell, as_of)
    for fmt in ("report", "workbook"):
        with recorded_tables() as recorded:
            if fmt == "report":
                for t in (t for t in TABLES if t.in_report):
                    pub.cells(t.name)
            else:
                workbook_frames(tables, min_cell)
        assert len(recorded) >= len(patient_tables), fmt  # a part per year at least
        audit(recorded, fmt)
    # several units: every report and workbook at once
    view = _fresh_view(units_view)  # ir.unit_view(synthetic_units, as_of=as_of), its disclosure not yet computed
    assert view.as_of == as_of
    with recorded_tables() as recorded:
        disclosure = view.disclosure(min_cell)
    assert disclosure.untied == []
    audit(recorded, "units")
    assert all(pinned_cells(t) == [] for t in recorded)
    year = default_report_year(synthetic_units, as_of)
    assert list(unit_regs) == [None, *unit_table(synthetic_units)["unit_id"]]
    for unit in unit_regs:
        tables = published_of(unit)
        masks = disclosure.masks(unit)
        pub = Publication(tables, year, gt_tables.years_window(year), min_cell, as_of, masks)
        frames = workbook_frames(tables, min_cell, masks)
        for t in patient_tables:
            published = publish(t, tables[t.name], min_cell, masks[t.name])
            assert published.equals(pub.published(t.name)), (unit, t.name)
            assert (frames[t.name] == "×").sum().sum() == (published == "×").sum().sum(), (unit, t.name)
    assert hidden > 0  # the audit had something to check


def test_the_prom_improvement_table_of_every_unit_report_is_suppressed_together(
    synthetic, synthetic_units, units_view, unit_regs
):
    """The PROM chapter of the whole registry's report and of each unit's: answers and improved per follow-up
    kind are counts about patients, and the registry's are the sums of the units'. Suppressed one unit at a
    time, a unit's hidden count was the registry's minus the other units' (six such cells in this extract at
    min_cell 5); suppressed together (report.unit_disclosure.improvement_disclosure) no hidden count can be
    recovered, by that subtraction or by the LP audit, and the table, its sentence and its figure agree."""
    from opr_analysis import unit_table
    from opr_analysis.report.prom_tables import improvement_cells, improvement_hidden
    from opr_analysis.report.prose import improvement_sentence
    from opr_analysis.report.unit_disclosure import improvement_disclosure
    from opr_analysis.stats.proms import improvement_rates

    as_of, window = dt.date(2025, 3, 1), (2022, 2024)
    units = unit_table(synthetic_units)["unit_id"].tolist()
    with recorded_tables() as recorded:
        hidden = improvement_disclosure(synthetic_units, as_of, window, 5)
    assert recorded and all(recoverable_cells(t) == [] for t in recorded)
    cells, alone = {}, {}
    for unit in [None, *units]:
        rates = improvement_rates(unit_regs[unit], as_of, window=window)
        cells[unit] = improvement_cells(rates, 5, hidden[unit]).set_index(["indicator", "kind"])
        alone[unit] = improvement_cells(rates, 5).set_index(["indicator", "kind"])
        # every count the table alone hides stays hidden (small counts among them)
        assert (
            ((alone[unit][["n", "improved"]] == SUPPRESSED) <= (cells[unit][["n", "improved"]] == SUPPRESSED))
            .all()
            .all()
        )
        # the sentence and the figure hide what the table hides
        drawn = ~improvement_hidden(rates, 5, hidden[unit])["share"].to_numpy() & (rates["n"] > 0).to_numpy()
        assert (drawn == (cells[unit]["share"] != "–").to_numpy()).all()
        for (indicator, kind), row in cells[unit].iterrows():
            if row["n"] not in ("0", SUPPRESSED):
                text = improvement_sentence(rates, kind, indicator, 5, hidden[unit])
                assert ("for få svar" in text) == (row["share"] == "–"), (unit, indicator, kind)

    def attack(tables):
        """Cells of one unit recovered as the registry's count minus every other unit's (all shown)."""
        found = []
        for key in tables[None].index:
            for col in ("n", "improved"):
                shown = {u: tables[u].loc[key, col] for u in tables}
                hid = [u for u in units if shown[u] == SUPPRESSED]
                if len(hid) == 1 and shown[None] != SUPPRESSED:
                    found.append((hid[0], key, col))
        return found

    assert len(attack(alone)) > 0  # what the attacker had before
    assert attack(cells) == []
    assert sum((cells[u][["n", "improved"]] == SUPPRESSED).sum().sum() for u in cells) > sum(
        (alone[u][["n", "improved"]] == SUPPRESSED).sum().sum() for u in alone
    )
    # what a unit's report takes (the notebook: unit_view.improvement_hidden); one registry keeps the table's rule
    unit_view = _fresh_view(units_view, unit_regs[units[-1]], units[-1])  # ir.unit_view(synthetic_units, units[-1])
    assert unit_view.as_of == as_of
    assert unit_view.improvement_hidden(5, window).equals(hidden[units[-1]])
    assert improvement_disclosure(synthetic, as_of, window, 5) == {}


def test_the_prom_baseline_profile_of_every_unit_report_is_suppressed_together(synthetic, synthetic_units, unit_regs):
    """The PROM chapter's baseline profile (each level of each categorical variable by sex) of the whole
    registry's report and of each unit's: the registry's counts are the sums of the units'. Suppressed one
    report at a time, a reader of all four reports pinned 52 hidden unit cells of 2024 to a range under
    min_cell 5 (18 of them exactly as the registry's count minus the other units'; tests/helpers.profile_attack,
    which also knows that a variable's n is at most the responses). Suppressed together
    (report.unit_disclosure.profile_disclosure): none, and the LP audit finds nothing either."""
    from helpers import profile_attack

    from opr_analysis import unit_table
    from opr_analysis.report.prom_tables import baseline_profile_cells, profile_counts
    from opr_analysis.report.prose import baseline_profile_paragraph
    from opr_analysis.report.unit_disclosure import profile_disclosure
    from opr_analysis.stats.baseline import baseline_response
    from opr_analysis.stats.proms import baseline_profile

    year = 2024
    units = unit_table(synthetic_units)["unit_id"].tolist()
    with recorded_tables() as recorded:
        hidden = profile_disclosure(synthetic_units, year, 5)
    assert recorded and all(recoverable_cells(t) == [] for t in recorded)
    truth, alone, together = {}, {}, {}
    for unit in [None, *units]:
        reg = unit_regs[unit]
        profile = baseline_profile(reg, by=("year", "sex"))
        truth[unit] = profile_counts(profile, year)
        alone[unit] = baseline_profile_cells(profile, year, 5).set_index(["variable", "level"])
        together[unit] = baseline_profile_cells(profile, year, 5, hidden[unit]).set_index(["variable", "level"])
        # every count 1–4 is hidden
        counts = truth[unit].set_index(["variable", "level"])
        shown = together[unit].loc[counts.index, list(counts.columns)]
        small = ((counts > 0) & (counts < 5)).stack()
        assert all(shown.loc[(v, lev), c].startswith(SUPPRESSED) for v, lev, c in small[small].index), unit
        # the responses of all sexes are public (PROFILE_RESPONSES): the administrative baseline table's count
        forms = baseline_response(reg).set_index("year").loc[year, "baseline_responses"]
        assert counts.loc[("responses", ""), "alle"] == forms
        # the paragraph quotes the table's cells (a hidden count as nothing)
        text = baseline_profile_paragraph(profile, together[unit], year)
        assert f"{together[unit].loc[('responses', ''), 'K']} fra kvinner" in text
        assert "hadde ×" not in text
    # the registry's counts are the units' sums (else the attacker would have no sum to use)
    assert (truth[None].set_index(["variable", "level"]) == sum(truth[u].set_index(["variable", "level"])
                                                               for u in units)).all().all()  # fmt: skip
    assert len(profile_attack(alone, truth)) > 0  # measured before the change: 52
    assert profile_attack(together, truth) == []
    assert profile_disclosure(synthetic, year, 5) == {}  # one registry: the table's own rule


def test_the_prom_change_table_of_every_unit_report_is_suppressed_together(synthetic, synthetic_units, unit_regs):
    """The PROM chapter's change table: pairs per score and follow-up kind, the registry's the sums of the units'.
    Each report alone hid only rows under min_cell, and u3's 3 and 4 pairs (EQ-5D and ODI at RF 12 months,
    window 2022–2024) were the registry's minus the other units' (measured before the change: 2 cells).
    Suppressed together (report.unit_disclosure.change_disclosure): none, and a hidden row shows no means (the
    registry's mean is the units' means weighted by their pairs)."""
    from opr_analysis import unit_table
    from opr_analysis.report.prom_tables import change_summary_cells
    from opr_analysis.report.unit_disclosure import change_disclosure
    from opr_analysis.stats.proms import change_summary

    as_of, window = dt.date(2025, 3, 1), (2022, 2024)
    units = unit_table(synthetic_units)["unit_id"].tolist()
    with recorded_tables() as recorded:
        hidden = change_disclosure(synthetic_units, as_of, window, 5)
    assert recorded and all(recoverable_cells(t) == [] for t in recorded)
    alone, together, pairs = {}, {}, {}
    for unit in [None, *units]:
        summary = change_summary(unit_regs[unit], as_of, window=window)
        pairs[unit] = summary.set_index(["score", "kind"])["n"]
        alone[unit] = change_summary_cells(summary, 5).set_index(["score", "kind"])
        together[unit] = change_summary_cells(summary, 5, hidden[unit]).set_index(["score", "kind"])
        off = together[unit]["n"] == SUPPRESSED
        assert (together[unit].loc[off, ["baseline", "followup", "change", "change_ci"]] == "–").all().all()
        n = pairs[unit].reindex(together[unit].index)
        assert off[(n > 0) & (n < 5)].all()  # every small count hidden

    def attack(cells):
        """Pairs of one unit found as the registry's minus every other unit's (all shown)."""
        found = []
        for key in cells[None].index:
            shown = {u: cells[u].loc[key, "n"] for u in cells}
            hid = [u for u in units if shown[u] == SUPPRESSED]
            if len(hid) == 1 and shown[None] != SUPPRESSED:
                found.append((hid[0], key, int(pairs[None][key] - sum(pairs[u][key] for u in units if u != hid[0]))))
        return found

    assert len(attack(alone)) > 0  # before: [('u3', ('eq5d_index', 'rf_12m'), 3), ('u3', ('odi_percent', 'rf_12m'), 4)]
    assert attack(together) == []
    assert change_disclosure(synthetic, as_of, window, 5) == {}
