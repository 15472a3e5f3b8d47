import pandas as pd

from opr_analysis.report.prose import trend_sentence


def _frame(k):
    return pd.DataFrame({"year": list(range(2021, 2021 + len(k))), "k": k, "n": [1000] * len(k)})


def test_rising_falling_and_flat_trends_are_worded_by_significance():
    rise = trend_sentence(_frame([300, 400, 500, 600, 900]), "k", "n", "x", "Andelen", 2024)
    assert " økte fra 2021 til 2024 " in rise and "t-fordeling med 2 frihetsgrader" in rise
    assert " falt fra 2021 til 2024 " in trend_sentence(_frame([500, 400, 300, 200]), "k", "n", "x", "Andelen", 2024)
    flat = trend_sentence(_frame([300, 301, 299, 300]), "k", "n", "x", "Andelen", 2024)
    assert "endret seg ikke sikkert" in flat and "p = 0," in flat


def test_three_years_are_too_few_for_a_test_and_the_sentence_says_so_without_p():
    # the seed's rejected share 2021–2023: with normal quantiles p = 0.00016 and «økte»; on t(1) p = 0.17
    f = pd.DataFrame({"year": [2021, 2022, 2023], "k": [691, 797, 951], "n": [2299, 2339, 2080]})
    text = trend_sentence(f, "k", "n", "x", "Andelen avviste henvisninger", 2023)
    assert text == (
        "Andelen avviste henvisninger: 3 år (2021–2023) er for få til å skille en trend fra vanlig variasjon "
        "mellom årene, så det er ikke gjort noen trendtest."
    )
    # a fourth year gives 2 degrees of freedom: the sentence then follows the t-based numbers
    four = pd.concat([f, pd.DataFrame({"year": [2024], "k": [1050], "n": [2100]})])
    text4 = trend_sentence(four, "k", "n", "x", "Andelen", 2024)
    assert "p = " in text4 or "p < " in text4


def test_years_after_the_report_year_are_left_out():
    # A jump in 2025 must not count in a 2024 report.
    text = trend_sentence(_frame([300, 300, 302, 300, 900]), "k", "n", "x", "Andelen", 2024)
    assert "endret seg ikke sikkert" in text and "til 2024" in text


def test_overdispersed_rise_is_not_called_a_rise_and_poor_fit_is_stated():
    # Rising on average, but the years jump around: binomially p < 0.05, quasi-binomially the interval covers 1.
    f = pd.DataFrame({"year": [2021, 2022, 2023, 2024], "k": [300, 600, 350, 650], "n": [1000] * 4})
    text = trend_sentence(f, "k", "n", "x", "Andelen", 2024)
    assert "økte" not in text and "endret seg ikke sikkert" in text
    assert "passer dårlig" in text and "kvasibinomisk" in text


def test_configured_series_leaves_out_the_partial_first_year_and_says_why():
    f = pd.DataFrame(
        {"year": [2020, 2021, 2022, 2023, 2024], "k": [11, 600, 610, 590, 605], "n": [100, 1000, 1000, 1000, 1000]}
    )
    text = trend_sentence(
        f, "k", "n", "response_share", "Andelen", 2024, series="baseline_response_share_patient_level"
    )
    assert "fra 2021 til 2024" in text and "2020 er ikke med i testen" in text and "desember 2020" in text
    assert "økte" not in text
    # with 2020 the test would span the partial year (and find the fit poor)
    assert "fra 2020 til 2024" in trend_sentence(f, "k", "n", "response_share", "Andelen", 2024)
    # up to 2023 the series has three whole years: too few, and still says why 2020 is out
    short = trend_sentence(
        f, "k", "n", "response_share", "Andelen", 2023, series="baseline_response_share_patient_level"
    )
    assert "3 år (2021–2023) er for få" in short and "2020 er ikke med: " in short


def test_single_year_gives_no_sentence():
    assert trend_sentence(_frame([300, 400, 500, 600]), "k", "n", "x", "Andelen", 2021) == ""


# --- PROM chapter -------------------------------------------------------------------------------

from opr_analysis.report.prose import improvement_sentence, nonresponse_sentence  # noqa: E402

NB = "\u00a0"


def _rates(n, improved):
    return pd.DataFrame(
        {
            "kind": ["rf_12m", "rf_12m"],
            "indicator": ["nrs_improved_30", "pgic_improved"],
            "n": [n, 40],
            "improved": [improved, 10],
            "share": [improved / n if n else None, 0.25],
            "share_ci_low": [0.1, 0.14],
            "share_ci_high": [0.9, 0.40],
        }
    )


def test_improvement_sentence_gives_counts_share_and_interval():
    text = improvement_sentence(_rates(50, 20))
    assert text == (
        f"Av 50 svar 12 måneder etter radiofrekvensbehandling fra pasienter med smerte ved baseline, "
        f"viste 20 (40,0{NB}%; 95{NB}% KI 10,0–90,0{NB}%) minst 30{NB}% lavere gjennomsnittlig smerte "
        "enn før behandlingen."
    )
    pgic = improvement_sentence(_rates(50, 20), indicator="pgic_improved")
    assert pgic.startswith("Av 40 svar 12 måneder etter radiofrekvensbehandling, oppga 10 (25,0")
    assert "pasienter som svarte" not in text + pgic  # n counts answers, not patients


def test_improvement_sentence_is_suppressed_like_the_table():
    # 4 not improved (46 of 50) is a small count: no share; 5 is shown.
    assert "for få svar" in improvement_sentence(_rates(50, 46))
    assert "45 (90,0" in improvement_sentence(_rates(50, 45))
    assert "for få svar" in improvement_sentence(_rates(50, 4))
    assert "ingen svar" in improvement_sentence(_rates(0, 0))
    assert "ingen svar" in improvement_sentence(_rates(50, 20), kind="scs_12m")


def _model(ors, ps):
    terms = ["Intercept", "age_10", "nrs_avg", "C(sex)[T.M]"]
    return pd.DataFrame(
        {
            "term": terms,
            "label": [
                "Konstantledd",
                "Alder (per 10 år)",
                "Gjennomsnittlig smerte ved baseline (per NRS-poeng)",
                "Mann (mot kvinne)",
            ],
            "odds_ratio": [0.2, *ors],
            "ci_low": [0.1, *[o * 0.9 for o in ors]],
            "ci_high": [0.3, *[o * 1.1 for o in ors]],
            "p_value": [0.0, *ps],
        }
    )


def test_nonresponse_sentence_names_groups_that_answer_less_and_more():
    text = nonresponse_sentence(_model([1.5, 0.8, 0.7], [0.001, 0.02, 0.3]))
    assert text.startswith(
        "Sjeldnere svar på oppfølgingen hang sammen med gjennomsnittlig smerte ved baseline, "
        "per NRS-poeng (oddsratio 0,80;"
    )
    assert "Oftere svar hang sammen med alder, per 10 år (oddsratio 1,50;" in text
    assert "mann" not in text  # p = 0,3: not named
    assert text.endswith("sier derfor mindre om de gruppene som svarer sjeldnere.")


def test_nonresponse_sentence_when_nothing_is_significant_or_only_more():
    assert nonresponse_sentence(_model([1.5, 0.8, 0.7], [0.05, 0.2, 0.3])).startswith("Ingen av kjennetegnene")
    only_more = nonresponse_sentence(_model([1.5, 0.8, 0.7], [0.01, 0.2, 0.3]))
    assert only_more.startswith("Oftere svar på oppfølgingen hang sammen med alder") and "sjeldnere" not in only_more


def test_method_rules_state_every_rule_with_the_package_constants():
    from opr_analysis.report.prose import method_rules
    from opr_analysis.stats.followup import AWAITING_DAYS
    from opr_analysis.stats.proms import PAIRING_MAX_DAYS

    text = method_rules(pd.Timestamp("2026-01-15"), (2023, 2025), {"answered": 40, "unscored": 3}, 2025)
    assert "15.01.2026" in text and "forfallsår 2023–2025" in text
    assert f"{AWAITING_DAYS} dager" in text and f"høyst {PAIRING_MAX_DAYS}" in text
    assert "minst 8 av 10" in text and "3 av 40 baselinesvar" in text
    assert "√(χ²/df)" in text and "fra 2021 (" in text and "uten intervall" in text
    assert "karantene" in text and "forfallsår som forklaringsvariabel" in text
    assert text.count("\n- ") == 8


# --- chapter paragraphs (moved out of the notebook: the notebook only displays them) ----------


def _nb(text: str) -> str:
    return text.replace("\u00a0", " ")


def test_referrals_paragraph_quotes_its_table():
    from opr_analysis.report.prose import referrals_paragraph

    t10 = pd.DataFrame(
        {"year": [2022, 2023], "assessed": [1500, 1574], "rejected": [450, 619], "rejected_share": [0.3, 619 / 1574]}
    )
    text = _nb(referrals_paragraph(t10, 2023))
    assert text.startswith(
        "I 2023 ble 1 574 henvisninger vurdert ved avdelingen, mot 1 500 året før. "
        "Av disse ble 619 (39,3 %) avvist (@tbl-henvisninger). "
        "Fordelingen på helseregion står i @tbl-region og @fig-region. "
    )
    first = _nb(referrals_paragraph(t10, 2022))
    assert first.startswith("I 2022 ble 1 500 henvisninger vurdert ved avdelingen. Av disse")  # no year before


def test_baseline_paragraph_sums_forms_and_quotes_the_per_enrolment_share():
    from opr_analysis.report.prose import baseline_paragraph

    t12 = pd.DataFrame(
        {"year": [2022, 2023], "enrolments": [1000, 1200], "baseline_responses": [700, 900],
         "response_share": [0.7, 0.75]}
    )  # fmt: skip
    pl = pd.DataFrame(
        {"year": [2022, 2023], "enrolments": [1000, 1200], "enrolments_with_baseline": [650, 840],
         "response_share": [0.65, 0.7]}
    )  # fmt: skip
    text = _nb(baseline_paragraph(t12, pl, 2023))
    assert text.startswith(
        "I 2023 kom det inn 900 baselineskjemaer, mot 1 200 innskrivinger med rett til helsehjelp "
        "(75,0 %, @tbl-baseline). Regnet per innskriving hadde 70,0 % minst ett baselinesvar "
        "(@tbl-baseline-pasient). Totalt har registeret 1 600 baselinesvar i dagens løsning."
    )


def test_completion_paragraph_truncates_to_whole_minutes():
    from opr_analysis.report.prose import completion_paragraph

    t14 = pd.DataFrame({"period": ["2023", "alle"], "q1_ms": [0, 659_999], "median_ms": [0, 1_260_000],
                        "q3_ms": [0, 2_399_999]})  # fmt: skip
    assert completion_paragraph(t14).startswith(
        "Halvparten av pasientene bruker mellom 10 og 39 minutter på baselineskjemaet; medianen er 21 minutter"
    )


def test_baseline_profile_paragraph_without_answers():
    from opr_analysis.report.prose import baseline_profile_paragraph

    empty = pd.DataFrame(columns=["alle", "K", "M"], index=pd.MultiIndex.from_tuples([], names=["variable", "level"]))
    assert baseline_profile_paragraph(pd.DataFrame(), empty, 2024) == "Det kom ikke inn noen baselineskjemaer i 2024."


def test_method_paragraph_counts_rows_and_adds_prom_rules_only_with_the_chapter():
    import datetime as dt
    from types import SimpleNamespace

    from opr_analysis.report.prose import method_paragraph

    report = SimpleNamespace(rows_read=1200, rows_used=1190, rows_quarantined=10)
    text = _nb(method_paragraph(report, dt.date(2025, 3, 1), 5, include_proms=False))
    assert text.startswith(
        "Tallene er regnet ut fra registeruttrekket med datoen 01.03.2025 som skjæringsdato. "
        "Uttrekket hadde 1 200 rader; 1 190 ble brukt og 10 ble satt i karantene"
    )
    assert "Pasientrapporterte utfall" not in text
    with_proms = _nb(method_paragraph(report, dt.date(2025, 3, 1), 5, include_proms=True))
    assert with_proms.startswith(text) and "vises bare når minst 5 har svart" in with_proms


def test_nonresponse_paragraph_says_why_no_model_is_shown():
    from opr_analysis.report.prose import nonresponse_paragraph

    failed = nonresponse_paragraph(None, (2023, 2025), show_model=False, failed=True)
    assert failed.endswith("kunne ikke tilpasses på dette uttrekket.")
    few = nonresponse_paragraph(None, (2023, 2025), show_model=False, failed=False)
    assert few.startswith("## Hvem svarer på oppfølgingen?\n\nDet er for få") and "minst 10 av hvert" in few
