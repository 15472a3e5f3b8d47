"""Quality indicators: definitions, exact per-unit values, funnel limits, the national delivery file."""

import numpy as np
import pandas as pd
import pytest
from helpers import make_extract
from scipy import stats

from opr_analysis import load_extract
from opr_analysis.errors import UsageError
from opr_analysis.indicators import indicator_results, load_definitions
from opr_analysis.indicators.compute import aggregate
from opr_analysis.indicators.delivery import (
    COLUMNS,
    DeliveryCheckError,
    check_delivery,
    delivery_frame,
    delivery_problems,
)
from opr_analysis.indicators.funnel import funnel_limits
from opr_analysis.indicators.output import write_indicators

UNITS = [
    dict(unit_id="A", name="Klinikk A", orgnr="993467049", health_region="sor_ost"),
    dict(unit_id="B", name="Klinikk B", orgnr="983975240", health_region="vest"),
]
AS_OF = "2022-12-31"


@pytest.fixture
def reg(tmp_path):
    # A: waits 10, 61 days and one still waiting since 2022-01-03 (> 60 days by AS_OF); B: waits 60, 30 days
    return make_extract(
        tmp_path,
        units=UNITS,
        enrolments=[
            dict(enrolment_id="E1", patient_id="P1", unit_id="A", granted_date="2022-01-03",
                 first_consultation_date="2022-01-13"),
            dict(enrolment_id="E2", patient_id="P2", unit_id="A", granted_date="2022-01-03",
                 first_consultation_date="2022-03-05"),
            dict(enrolment_id="E3", patient_id="P3", unit_id="A", granted_date="2022-01-03"),
            dict(enrolment_id="E4", patient_id="P4", unit_id="B", granted_date="2022-02-01",
                 first_consultation_date="2022-04-02"),
            dict(enrolment_id="E5", patient_id="P5", unit_id="B", granted_date="2022-02-01",
                 first_consultation_date="2022-03-03"),
        ],
        baseline_responses=[
            dict(patient_id="P1", unit_id="A", submitted_at="2022-01-10T10:00:00"),  # before consultation
            dict(patient_id="P2", unit_id="A", submitted_at="2022-03-10T10:00:00"),  # after: does not count
            dict(patient_id="P4", unit_id="B", submitted_at="2022-02-02T10:00:00"),
        ],
        treatments=[
            dict(treatment_id="T1", patient_id="P1", unit_id="A", kind="rf", date="2022-01-20"),
            dict(treatment_id="T2", patient_id="P4", unit_id="B", kind="rf", date="2022-02-10"),
        ],
        followups=[
            dict(patient_id="P1", kind="rf_3m", anchor_id="T1", sent_date="2022-04-20",
                 responded_at="2022-04-25T09:00:00"),
            dict(patient_id="P1", kind="rf_3m", anchor_id="T1", sent_date="2022-05-20"),  # second dispatch
            dict(patient_id="P4", kind="rf_3m", anchor_id="T2", sent_date="2022-05-10"),
        ],
    )  # fmt: skip


def _get(res, unit, ind, year=2022):
    row = res[(res["unit_id"] == unit) & (res["ind_id"] == ind) & (res["year"] == year)]
    assert len(row) == 1
    return row.iloc[0]


def test_exact_values_per_unit_and_total(reg):
    res = indicator_results(reg, as_of=AS_OF)
    expect = {  # (unit, indicator): (numerator, denominator)
        ("A", "opr_ventetid_60d"): (1, 3),
        ("B", "opr_ventetid_60d"): (2, 2),
        ("alle", "opr_ventetid_60d"): (3, 5),
        ("A", "opr_baseline"): (1, 3),
        ("B", "opr_baseline"): (1, 2),
        ("A", "opr_oppf_rf_3m"): (1, 1),
        ("B", "opr_oppf_rf_3m"): (0, 1),
        ("alle", "opr_oppf_rf_3m"): (1, 2),
    }
    for (unit, ind), (num, den) in expect.items():
        row = _get(res, unit, ind)
        assert (row["numerator"], row["denominator"]) == (num, den), (unit, ind)
        assert row["value"] == pytest.approx(num / den)
        assert row["level"] == "too_few"  # every denominator is under the minimum of 10
    # Kaplan–Meier: A waited 10 and 61 days, E3 still waiting (censored at 362 days): S = 2/3, then 1/3 at 61
    med = _get(res, "A", "opr_ventetid_median")
    assert med["value"] == 61.0 and med["denominator"] == 3
    # B: 30 and 60 days, S = 1/2 at 30, 0 at 60; statsmodels (like SAS) takes the first day S < 1/2
    assert _get(res, "B", "opr_ventetid_median")["value"] == 60.0
    low, high = _get(res, "alle", "opr_ventetid_60d")[["ci_low", "ci_high"]]
    assert (round(low, 4), round(high, 4)) == (0.2307, 0.8824)  # Wilson 3/5
    # years run from first_year to the last year with cases: no 12-month follow-ups, no rows
    assert not (res["ind_id"] == "opr_nrs30_12m").any()


def test_zero_over_zero_is_na_and_every_unit_gets_a_row():
    ind = load_definitions()["opr_baseline"]
    rows = pd.DataFrame({"unit_id": ["A", "A"], "year": [2022, 2023], "denominator": [1, 1], "numerator": [1, 0],
                         "value": [np.nan, np.nan]})  # fmt: skip
    out = aggregate(ind, rows, ["A", "B"]).set_index(["unit_id", "year"])
    assert out.loc[("B", 2022), "denominator"] == 0 and np.isnan(out.loc[("B", 2022), "value"])
    assert np.isnan(out.loc[("B", 2022), "ci_low"])
    assert out.loc[("A", 2021), "denominator"] == 0  # first_year 2021 onwards
    assert out.loc[("alle", 2023), ["numerator", "denominator"]].tolist() == [0, 1]


def test_levels_follow_direction_and_minimum():
    defs = load_definitions()
    share, median = defs["opr_ventetid_60d"], defs["opr_ventetid_median"]
    assert share.level(0.80, 10) == "green" and share.level(0.79, 10) == "yellow" and share.level(0.5, 10) == "red"
    assert share.level(0.95, 9) == "too_few" and share.level(float("nan"), 0) == "too_few"
    assert median.level(42, 10) == "green" and median.level(60, 10) == "yellow" and median.level(66, 10) == "red"


def test_override_file_replaces_and_adds(tmp_path):
    f = tmp_path / "mine.yaml"
    f.write_text(
        "indicators:\n"
        "  - {id: opr_baseline, title: T, short: s, long: l, type: share, statistic: baseline_before_consultation,"
        " direction: higher, green: 0.9, yellow: 0.7, min_denominator: 5, first_year: 2022}\n"
        "  - {id: ny, title: T, short: s, long: l, type: share, statistic: waiting_within, params: {days: 30},"
        " direction: higher, green: 0.9, yellow: 0.7, min_denominator: 5, first_year: 2022}\n",
        encoding="utf-8",
    )
    defs = load_definitions(f)
    assert defs["opr_baseline"].green == 0.9 and defs["ny"].params == {"days": 30}
    f.write_text(f.read_text().replace("green: 0.9, yellow: 0.7, min_denominator: 5, first_year: 2022}\n  -", "green: 0.5, yellow: 0.7, min_denominator: 5, first_year: 2022}\n  -", 1))  # fmt: skip
    with pytest.raises(UsageError, match="grønt nivå"):
        load_definitions(f)


def _exact_limit(p0, n, q):
    """Spiegelhalter's (2005) interpolated binomial quantile, by hand from the binomial probabilities."""
    from math import comb

    cdf, total = [], 0.0
    for k in range(n + 1):
        total += comb(n, k) * p0**k * (1 - p0) ** (n - k)
        cdf.append(total)
    r = next(k for k in range(n + 1) if cdf[k] >= q)
    below = cdf[r - 1] if r else 0.0
    return (r - (cdf[r] - q) / (cdf[r] - below)) / n


def test_funnel_limits_plain_are_exact_binomial_by_hand():
    fl = funnel_limits([50, 45, 55], [100, 100, 100], winsorise=0)
    assert fl.target == pytest.approx(0.5) and not fl.adjusted
    for level, q in ((0.95, 0.025), (0.998, 0.001)):
        low, high = fl.limits([100, 7], level)  # clipped to 0–1 (at n = 7 the 99.8 % limits fall outside)
        assert low == pytest.approx([max(0, _exact_limit(0.5, n, q)) for n in (100, 7)], abs=1e-12)
        assert high == pytest.approx([min(1, _exact_limit(0.5, n, 1 - q)) for n in (100, 7)], abs=1e-12)
    assert "eksakte binomiske" in fl.description


def test_funnel_exact_limit_at_small_n_is_far_below_the_normal_one():
    # issue 24: n = 12, p0 = 0.291. F(0) = 0.709¹² = 0.0161, F(1) = 0.0956: r = 1,
    # α = (0.0956 − 0.025) / (0.0956 − 0.0161) = 0.888, limit = (1 − 0.888) / 12 = 0.9 %
    from opr_analysis.indicators.funnel import Funnel

    low, high = Funnel(0.291, float("nan"), 0.0, False, 1).limits([12], 0.95)
    assert low[0] == pytest.approx(_exact_limit(0.291, 12, 0.025), abs=1e-12)
    assert round(100 * low[0], 1) == 0.9
    normal = 0.291 - 1.959964 * np.sqrt(0.291 * 0.709 / 12)
    assert round(100 * normal, 1) == 3.4  # what the normal approximation drew
    assert high[0] == pytest.approx(_exact_limit(0.291, 12, 0.975), abs=1e-12)
    # no effect: a unit of 12 with 1 answer (8.3 %) is inside both; with 0 it is below both
    assert low[0] < 1 / 12 and low[0] > 0


def test_funnel_limits_overdispersion_adjusted_against_hand_computation():
    # p0 = 60/200 = 0.3; s² = 0.21/50 = 0.0042 per unit; shares 0.16, 0.44, 0.2, 0.4
    fl = funnel_limits([8, 22, 10, 20], [50, 50, 50, 50], winsorise=0)
    assert fl.target == pytest.approx(0.3)
    z1, z2 = -0.14 / np.sqrt(0.0042), -0.1 / np.sqrt(0.0042)
    assert (2 * z1**2 + 2 * z2**2) / 4 == pytest.approx(3.5238095)
    phi = (2 * z1**2 + 2 * z2**2) / 4
    assert fl.phi == pytest.approx(phi)
    assert 4 * phi > stats.chi2.ppf(0.95, 3) and fl.adjusted
    w = 1 / 0.0042
    tau2 = (4 * phi - 3) / (4 * w - 4 * w**2 / (4 * w))
    assert fl.tau2 == pytest.approx(tau2)
    low, high = fl.limits([50, 5000], 0.95)
    half = 1.959964 * np.sqrt(np.array([0.0042, 0.21 / 5000]) + tau2)
    assert high == pytest.approx(0.3 + half, abs=1e-6)
    assert low == pytest.approx(0.3 - half, abs=1e-6)
    # at n = 2 the additive normal limit is narrower than the exact plain one: the wider is drawn
    low2, high2 = fl.limits([2], 0.95)
    assert high2[0] == pytest.approx(max(_exact_limit(0.3, 2, 0.975), 0.3 + 1.959964 * np.sqrt(0.105 + tau2)))
    assert low2[0] == 0.0
    assert fl.tau2 == pytest.approx(0.0155333, abs=1e-7)  # (4·3.5238 − 3) / (3 / 0.0042)
    assert "justert for overdispersjon" in fl.description


def test_funnel_winsorising_pulls_in_extremes():
    plain = funnel_limits([5, 25, 10, 20, 15], [50] * 5, winsorise=0)
    wins = funnel_limits([5, 25, 10, 20, 15], [50] * 5, winsorise=0.1)
    assert wins.phi < plain.phi


GOOD = pd.DataFrame(
    {"context": ["caregiver", "caregiver"], "year": [2022, 2022], "orgnr": ["993467049", "983975240"],
     "ind_id": ["opr_baseline", "opr_baseline"], "var": [3, 0], "denominator": [5, 1]}
)  # fmt: skip


def test_delivery_frame_sums_units_per_trust_and_passes(reg):
    defs = load_definitions()
    res = indicator_results(reg, as_of=AS_OF, definitions=defs)
    out = delivery_frame(res, defs)
    assert list(out.columns) == COLUMNS
    base = out[out["ind_id"] == "opr_baseline"].set_index("orgnr")
    assert base.loc["993467049", ["var", "denominator"]].tolist() == [1, 3]
    assert base.loc["983975240", ["var", "denominator"]].tolist() == [1, 2]
    assert not out["ind_id"].isin(["opr_ventetid_median"]).any()  # medians are not delivered
    assert (out["denominator"] > 0).all()
    check_delivery(out, defs)  # passes


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda f: f.assign(extra=1), "kolonnene skal være"),
        (lambda f: f.drop(columns="context"), "kolonnene skal være"),
        (lambda f: f.assign(context=["caregiver", "sykehus"]), "context må være"),
        (lambda f: f.assign(var=[3, -1]), "var er ikke et naturlig tall"),
        (lambda f: f.assign(denominator=[5.5, 1]), "denominator er ikke et naturlig tall"),
        (lambda f: f.assign(var=[6, 0]), "var er større enn nevneren"),
        (lambda f: f.assign(var=[3, 0], denominator=[5, 0]), "nevneren er 0"),
        (lambda f: f.assign(ind_id=["opr_baseline", "ukjent"]), "ukjent indikator-ID"),
        (lambda f: f.assign(orgnr=["993467049", "993467049"]), "duplikat"),
        (lambda f: f.assign(orgnr=["993467049", "12345"]), "orgnr er ikke 9 sifre"),
    ],
)
def test_each_portal_check_rejects_a_bad_row(change, message):
    known = load_definitions()
    assert delivery_problems(GOOD, known) == []
    bad = change(GOOD.copy())
    with pytest.raises(DeliveryCheckError, match=message):
        check_delivery(bad, known)


def test_write_indicators_writes_both_files(reg, tmp_path):
    written = write_indicators(reg, tmp_path / "ind", as_of=AS_OF)
    assert [p.name for p in written] == ["indikatorer.csv", "nasjonal_leveranse.csv"]
    back = pd.read_csv(written[1], dtype={"orgnr": str})
    check_delivery(back, load_definitions())
    tidy = pd.read_csv(written[0])
    assert set(tidy["unit_id"]) == {"A", "B", "alle"}


def test_funnel_figure_draws_the_limits_it_computes(tmp_path):
    from opr_analysis.report import indicator_report as ir
    from opr_analysis.synth.registry import write_tables
    from opr_analysis.synth.units import synthesize_units

    write_tables(synthesize_units(4, seed=3, scale=0.2, years=(2021, 2023), generators=[]), tmp_path / "x")
    view = ir.unit_view(load_extract(tmp_path / "x"), as_of="2024-06-30")
    points, curves, notes = ir.funnel_data(view, 2023, min_cell=1)
    g = view.results.query("year == 2023 and ind_id == 'opr_baseline' and unit_id != 'alle'")
    fl = funnel_limits(g["numerator"].astype(float), g["denominator"].astype(float))
    title = view.definitions["opr_baseline"].title + (" (justert)" if fl.adjusted else "")
    c = curves[(curves["indikator"] == title) & (curves["level"] == 0.998)]
    low, high = fl.limits(c["n"], 0.998)
    assert np.allclose(c["low"], low) and np.allclose(c["high"], high)
    assert len(points[points["indikator"] == title]) == 4  # every unit drawn with min_cell 1
    assert notes["opr_baseline"] == fl.description
    ir.funnel_figure(view, 2023, min_cell=1).draw()
    ir.trend_figure(view, min_cell=1).draw()
    assert "kontrollgrenser" in ir.funnel_caption(view, 2023, min_cell=1)  # the disclosure computed above


def test_opr_indicators_never_replaces_a_folder_it_did_not_write(tmp_path):
    from opr_analysis import cli
    from opr_analysis.synth.registry import write_synthetic

    extract = tmp_path / "extract"
    write_synthetic(extract, scale=0.05, years=(2022, 2023))
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("x")
    assert cli.main(["indicators", str(extract), "--out", str(mine), "--as-of", "2024-01-31"]) == 2
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]
    assert cli.main(["indicators", str(extract), "--out", str(extract), "--as-of", "2024-01-31"]) == 2
    out = tmp_path / "out"
    assert cli.main(["indicators", str(extract), "--out", str(out), "--as-of", "2024-01-31"]) == 0
    assert cli.main(["indicators", str(extract), "--out", str(out), "--as-of", "2024-01-31"]) == 0  # its own
