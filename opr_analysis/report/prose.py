"""Sentences for the report's prose, built from the package's statistics.

Examples
--------
>>> import pandas as pd
>>> f = pd.DataFrame({"year": [2021, 2022, 2023, 2024], "k": [300, 400, 500, 600], "n": [1000] * 4})
>>> trend_sentence(f, "k", "n", "x", "Andelen avviste", last_year=2024).replace("\\u00a0", " ")
'Andelen avviste økte fra 2021 til 2024 (oddsratio per år 1,52; 95 % KI 1,47–1,56; p < 0,001; kvasibinomisk logistisk regresjon på år, t-fordeling med 2 frihetsgrader).'
>>> trend_sentence(f, "k", "n", "x", "Andelen avviste", last_year=2023)
'Andelen avviste: 3 år (2021–2023) er for få til å skille en trend fra vanlig variasjon mellom årene, så det er ikke gjort noen trendtest.'
"""

from __future__ import annotations

import re

import pandas as pd

from ..formatting import CI_LABEL, MISSING, fmt_int, fmt_interval, fmt_num, fmt_p, fmt_pct, fmt_pct_interval, fmt_trend
from ..stats.trends import POOR_FIT_DISPERSION, series_test, too_few_years, trend_test
from .prom_tables import improvement_hidden
from .suppression import DEFAULT_MIN_CELL, SUPPRESSED, suppression_method_text


def cell_value(frame: pd.DataFrame, col: str, **keys):
    """The single value of ``col`` in the row matching ``keys`` (compared as text); NA when there is none.

    >>> cell_value(pd.DataFrame({"year": [2023, 2024], "n": [5, 7]}), "n", year=2024)
    np.int64(7)
    """
    rows = frame
    for k, v in keys.items():
        rows = rows[rows[k].astype(str) == str(v)]
    return rows[col].iloc[0] if len(rows) else pd.NA


def referrals_paragraph(assessed: pd.DataFrame, year: int) -> str:
    """The referrals chapter's paragraph from ``referrals_assessed`` (seed table 10), with the trend sentence."""
    n, rejected, share = (cell_value(assessed, c, year=year) for c in ("assessed", "rejected", "rejected_share"))
    prev = cell_value(assessed, "assessed", year=year - 1)
    return (
        f"I {year} ble {fmt_int(n)} henvisninger vurdert ved avdelingen"
        + (f", mot {fmt_int(prev)} året før" if not pd.isna(prev) else "")
        + f". Av disse ble {fmt_int(rejected)} ({fmt_pct(share)}) avvist (@tbl-henvisninger). "
        "Fordelingen på helseregion står i @tbl-region og @fig-region."
        + " "
        + trend_sentence(
            assessed, "rejected", "assessed", "rejected_share", "Andelen avviste henvisninger", year,
            series="rejected_share",
        )
    )  # fmt: skip


def baseline_paragraph(
    baseline: pd.DataFrame, patient_level: pd.DataFrame, year: int, shown: pd.DataFrame | None = None
) -> str:
    """The baseline chapter's paragraph from ``baseline_response`` (seed table 12) and the per-enrolment rate.

    ``shown``: the per-enrolment table as published (:meth:`~.publication.Publication.published`); a share it
    hides («–», small numbers) is not quoted.
    """
    forms, enrolled, share = (
        cell_value(baseline, c, year=year) for c in ("baseline_responses", "enrolments", "response_share")
    )
    pl_share = cell_value(patient_level if shown is None else shown, "response_share", year=year)
    per_enrolment = (
        "Regnet per innskriving er andelen med minst ett baselinesvar skjult fordi tallene er små"
        if isinstance(pl_share, str)
        else f"Regnet per innskriving hadde {fmt_pct(pl_share)} minst ett baselinesvar"
    )
    total_forms = int(baseline["baseline_responses"].sum())
    return (
        f"I {year} kom det inn {fmt_int(forms)} baselineskjemaer, mot {fmt_int(enrolled)} innskrivinger med rett til "
        f"helsehjelp ({fmt_pct(share)}, @tbl-baseline). {per_enrolment} (@tbl-baseline-pasient). Totalt har registeret {fmt_int(total_forms)} baselinesvar i dagens "
        "løsning. @Fig-baseline viser andelene med konfidensintervall. "
        + trend_sentence(
            patient_level, "enrolments_with_baseline", "enrolments", "response_share",
            "Andelen innskrivinger med baselinesvar", year, series="baseline_response_share_patient_level",
        )
    )  # fmt: skip


def completion_paragraph(completion: pd.DataFrame) -> str:
    """The completion-time paragraph from ``completion_time`` (seed table 14): quartiles and median in minutes.

    >>> t = pd.DataFrame({"period": ["alle"], "q1_ms": [600_000.0], "median_ms": [1_000_000.0], "q3_ms": [1_500_000.0]})
    >>> completion_paragraph(t)[:62]
    'Halvparten av pasientene bruker mellom 10 og 25 minutter på ba'
    """
    q1, med, q3 = (cell_value(completion, c, period="alle") for c in ("q1_ms", "median_ms", "q3_ms"))
    return (
        f"Halvparten av pasientene bruker mellom {fmt_int(q1 // 60000)} og {fmt_int(q3 // 60000)} minutter på "
        f"baselineskjemaet; medianen er {fmt_int(med // 60000)} minutter (@tbl-tidsbruk). Noen få bruker flere timer, "
        "så tallene er gitt som median og kvartiler, og tidsaksen i @fig-tidsbruk er logaritmisk."
    )


def baseline_profile_paragraph(profile: pd.DataFrame, profile_cells: pd.DataFrame, year: int) -> str:
    """The PROM chapter's opening paragraph: responses by sex, mean age and pain, HSCL-10 caseness.

    ``profile`` is :func:`opr_analysis.stats.proms.baseline_profile`, ``profile_cells`` the
    (suppressed) display cells of the report's table, so the text shows what the table shows.
    """
    if ("responses", "") not in profile_cells.index:
        return f"Det kom ikke inn noen baselineskjemaer i {year}."
    resp = profile_cells.loc[("responses", "")]
    first = (
        f"I {year} kom det inn {resp['alle']} baselineskjemaer, {resp['K']} fra kvinner og {resp['M']} "
        "fra menn (@tbl-prom-baseline)."
    )
    age = cell_value(profile, "mean", year=year, sex="alle", variable="age")
    nrs = cell_value(profile, "mean", year=year, sex="alle", variable="nrs_avg")
    hscl = profile_cells["alle"].get(("hscl10_case", "True"), MISSING)
    if profile_cells.loc[("age", ""), "alle"] == MISSING or hscl == MISSING or hscl.startswith(SUPPRESSED):
        return first  # a hidden count is not quoted (the table shows «×»)
    return first + (
        f" Gjennomsnittsalderen var {fmt_num(age, 0)} år, og gjennomsnittlig smerte siste uke var "
        f"{fmt_num(nrs)} på en skala fra 0 til 10. Av dem som svarte på HSCL-10, hadde {hscl} et "
        "psykisk symptomtrykk over grenseverdien 1,85."
    )


def trend_sentence(
    frame: pd.DataFrame,
    successes: str,
    trials: str,
    share: str,
    subject: str,
    last_year: int,
    series: str | None = None,
) -> str:
    """One sentence on the trend of ``successes / trials`` over the years up to ``last_year``.

    The test is :func:`~opr_analysis.stats.trends.trend_test` (quasi-binomial
    logistic regression on year, limits and p value from t with ``years − 2``
    degrees of freedom); with ``series`` the series' configured first year
    applies (:data:`~opr_analysis.stats.trends.SERIES`) and left-out years are
    named with the reason. The sentence follows the numbers:

    - fewer than :data:`~opr_analysis.stats.trends.MIN_TREND_DF` residual degrees
      of freedom (three years or less): one sentence saying the years are too few
      to tell a trend from year-to-year variation, with no p value and no claim;
    - otherwise a rise or fall only when the t-based 95 % interval of the odds
      ratio excludes 1, else «endret seg ikke sikkert»; a dispersion above
      :data:`~opr_analysis.stats.trends.POOR_FIT_DISPERSION` is stated as poor fit.

    Empty when the test cannot be made (fewer than two years, or no variation).
    """
    f = frame[frame["year"].astype(int) <= int(last_year)]
    test = (series_test(f, successes, trials, series) if series else trend_test(f, successes, trials, share)).iloc[0]
    if pd.isna(test["odds_ratio_per_year"]):
        return ""
    span = f"{int(test['first_year'])}–{int(test['last_year'])}"
    if too_few_years(test):
        out = (
            f"{subject}: {fmt_int(test['years'])} år ({span}) er for få til å skille en trend fra vanlig variasjon "
            "mellom årene, så det er ikke gjort noen trendtest."
        )
    elif pd.isna(test["p_value"]):
        return ""
    else:
        low, high = test["odds_ratio_ci_low"], test["odds_ratio_ci_high"]
        if low > 1:
            word = "økte"
        elif high < 1:
            word = "falt"
        else:
            word = "endret seg ikke sikkert"
        method = f"kvasibinomisk logistisk regresjon på år, t-fordeling med {fmt_int(test['df_resid'])} frihetsgrader"
        out = (
            f"{subject} {word} fra {int(test['first_year'])} til {int(test['last_year'])} "
            f"({fmt_trend(test)}; {method})."
        )
        dispersion = test["dispersion"]
        if pd.notna(dispersion) and dispersion > POOR_FIT_DISPERSION:
            out += (
                f" Årstallene varierer langt mer enn en jevn trend tilsier (spredningsmål χ²/df = "
                f"{fmt_num(dispersion, 1)}): modellen passer dårlig, og intervallet og p-verdien er gjort bredere "
                "for å ta høyde for det."
            )
    earlier = sorted(int(y) for y in frame.loc[frame["year"].astype(int) < int(test["first_year"]), "year"].unique())
    if series and earlier and test["start_reason"]:
        years = ", ".join(str(y) for y in earlier)
        out += f" {years} er ikke med{'' if too_few_years(test) else ' i testen'}: {test['start_reason']}."
    return out


def followup_sentence(cells: pd.DataFrame, year: int, as_of, totals: pd.DataFrame | None = None) -> str:
    """The follow-up audit of ``year`` in words, from the «Alle typer» row of
    :func:`~opr_analysis.report.gt_tables.followup_response_cells` (so every number is in the table).

    The share is the patients' response share: of the questionnaires sent as owed
    whose response window has run out (:func:`~opr_analysis.stats.followup.settled_at`),
    the share answered. With ``totals`` (the published ``followup_response_totals``:
    :meth:`~.publication.Publication.published`) a second sentence names the other share
    plainly: of every owed follow-up whose window has run out, sent or not, the share
    answered, which is what the quality indicators report.

    The counts are patient counts: a clause whose number is hidden («×», «–») is left
    out, and the sentence says that hidden numbers are left out, so it never quotes a
    hidden count.

    >>> c = pd.DataFrame({"kind": ["alle"], "owed": ["233"], "sent_owed": ["220"], "not_sent": ["13"],
    ...     "awaiting": ["12"], "settled": ["208"], "responded_settled": ["72"], "response_share": ["34,6 %"],
    ...     "response_share_ci": ["28,5–41,3 %"], "sent_not_owed": ["9"], "responded_not_owed": ["4"]})
    >>> print(followup_sentence(c, 2024, pd.Timestamp("2025-03-01")).replace("\\u00a0", " "))
    For 2024 var 233 oppfølgingsskjemaer skyldige per 01.03.2025; 220 av dem ble sendt og 13 ble ikke sendt. 12 ble sendt mindre enn 30 dager før skjæringsdatoen; svarfristen er ikke ute, så de er ikke med i svarandelen ennå. Av de 208 som ble sendt tidligere, ble 72 besvart: en svarandel blant de sendte skjemaene på 34,6 % (95 % KI 28,5–41,3 %). 9 skjemaer ble sendt uten å være skyldige (sendt på nytt, til unntatte pasienter eller før forfall); 4 av dem ble besvart, og de er ikke med i svarandelen.
    >>> c[["not_sent", "sent_owed", "sent_not_owed", "responded_not_owed"]] = "×"
    >>> print(followup_sentence(c, 2024, pd.Timestamp("2025-03-01")).replace("\\u00a0", " "))
    For 2024 var 233 oppfølgingsskjemaer skyldige per 01.03.2025. 12 ble sendt mindre enn 30 dager før skjæringsdatoen; svarfristen er ikke ute, så de er ikke med i svarandelen ennå. Av de 208 som ble sendt tidligere, ble 72 besvart: en svarandel blant de sendte skjemaene på 34,6 % (95 % KI 28,5–41,3 %). Tall som er skjult i tabellen fordi de er små eller ville avsløre et lite tall, er utelatt her.
    """
    from ..stats.followup import AWAITING_DAYS

    r = cells.set_index("kind").loc["alle"]
    hidden = {c for c, v in r.items() if v in (SUPPRESSED, MISSING)}
    some_hidden = SUPPRESSED in set(r)  # a share reads «–» also when nothing is settled; only «×» hides a count

    def shown(*cols: str) -> bool:
        return not hidden.intersection(cols)

    out = []
    if shown("owed"):
        first = f"For {year} var {r['owed']} oppfølgingsskjemaer skyldige per {pd.Timestamp(as_of):%d.%m.%Y}"
        if shown("sent_owed", "not_sent"):
            first += f"; {r['sent_owed']} av dem ble sendt og {r['not_sent']} ble ikke sendt"
        out.append(first + ".")
    waiting = shown("awaiting") and r["awaiting"] != "0"
    if waiting:
        out.append(
            f"{r['awaiting']} ble sendt mindre enn {AWAITING_DAYS} dager før skjæringsdatoen; svarfristen er ikke "
            "ute, så de er ikke med i svarandelen ennå."
        )
    if shown("settled", "responded_settled", "response_share", "response_share_ci"):
        whom = f"Av de {r['settled']} som ble sendt tidligere, ble" if waiting else "Av de sendte ble"
        if not waiting and not shown("awaiting"):
            whom = f"Av de {r['settled']} som ble sendt og har utløpt svarfrist, ble"
        out.append(
            f"{whom} {r['responded_settled']} besvart: en svarandel blant de sendte skjemaene på "
            f"{r['response_share']} (95\u00a0% KI {r['response_share_ci']})."
        )
    if totals is not None:
        t = totals[totals["year"].astype(int) == int(year)]
        values = t[["responded_settled", "owed_settled", "owed_answered_share"]].iloc[0] if len(t) else None
        if values is not None and not any(isinstance(v, str) for v in values) and int(values["owed_settled"]):
            out.append(
                f"Regnet av alle skyldige oppfølginger med utløpt svarfrist, også de som ikke ble sendt, ble "
                f"{fmt_int(values['responded_settled'])} av {fmt_int(values['owed_settled'])} besvart "
                f"({fmt_pct(values['owed_answered_share'])}); denne andelen måler både utsending og svar, og er den "
                "kvalitetsindikatorene for svar på oppfølging bruker."
            )
        some_hidden |= values is not None and any(isinstance(v, str) and v == SUPPRESSED for v in values)
    if shown("sent_not_owed", "responded_not_owed") and r["sent_not_owed"] != "0":
        out.append(
            f"{r['sent_not_owed']} skjemaer ble sendt uten å være skyldige (sendt på nytt, til unntatte pasienter "
            f"eller før forfall); {r['responded_not_owed']} av dem ble besvart, og de er ikke med i svarandelen."
        )
    if some_hidden:
        out.append("Tall som er skjult i tabellen fordi de er små eller ville avsløre et lite tall, er utelatt her.")
    return " ".join(out)


def _kind_phrase(kind: str) -> str:
    """«12 måneder etter radiofrekvensbehandling» for ``rf_12m``."""
    treatment, _, months = str(kind).partition("_")
    what = {
        "rf": "radiofrekvensbehandling",
        "scs": "innsetting av ryggmargsstimulator",
        "avsluttet": "avsluttet behandling",
    }.get(treatment, treatment)
    return f"{months.removesuffix('m')} måneder etter {what}"


def improvement_sentence(
    rates: pd.DataFrame,
    kind: str = "rf_12m",
    indicator: str = "nrs_improved_30",
    min_cell: int = DEFAULT_MIN_CELL,
    hidden: pd.DataFrame | None = None,
) -> str:
    """One sentence on the share improved at one follow-up, from :func:`~opr_analysis.stats.proms.improvement_rates`.

    Suppressed like the table (:func:`~.prom_tables.improvement_hidden`, with ``hidden`` for every report of
    a multi-unit extract): when the table hides the share, the sentence says there are too few answers.

    >>> r = pd.DataFrame({"kind": ["rf_12m"], "indicator": ["nrs_improved_30"], "n": [132], "improved": [82],
    ...                   "share": [0.621], "share_ci_low": [0.536], "share_ci_high": [0.699]})
    >>> improvement_sentence(r).replace("\\u00a0", " ")
    'Av 132 svar 12 måneder etter radiofrekvensbehandling fra pasienter med smerte ved baseline, viste 82 (62,1 %; 95 % KI 53,6–69,9 %) minst 30 % lavere gjennomsnittlig smerte enn før behandlingen.'
    """
    # n counts answers (first answer per treatment and follow-up), not patients: one patient can
    # answer after two treatments, so the sentence says «svar».
    clause, verb, outcome = {
        "nrs_improved_30": (
            " fra pasienter med smerte ved baseline,",
            "viste",
            "minst 30\u00a0% lavere gjennomsnittlig smerte enn før behandlingen",
        ),
        "pgic_improved": (",", "oppga", "at pasienten var «mye» eller «svært mye» bedre"),
    }[indicator]
    rates = rates.reset_index(drop=True)
    at = rates.index[(rates["kind"].astype(str) == kind) & (rates["indicator"].astype(str) == indicator)]
    row = rates.loc[at]
    when = _kind_phrase(kind)
    if row.empty or pd.isna(row["n"].iloc[0]) or int(row["n"].iloc[0]) == 0:
        return f"Registeret har ennå ingen svar {when} som kan brukes til dette."
    if bool(improvement_hidden(rates, min_cell, hidden).loc[at[0], "share"]):
        return f"Det er for få svar {when} til å vise andelen som ble bedre."
    r = row.iloc[0]
    share = f"{fmt_pct(r['share'])}; {CI_LABEL} {fmt_pct_interval(r['share_ci_low'], r['share_ci_high'])}"
    return f"Av {fmt_int(r['n'])} svar {when}{clause} {verb} {fmt_int(r['improved'])} ({share}) {outcome}."


def _term_phrase(label: str) -> str:
    """«Alder (per 10 år)» -> «alder, per 10 år»; acronyms keep their capitals."""
    m = re.fullmatch(r"(.*) \((.*)\)", label)
    text = f"{m[1]}, {m[2]}" if m else label
    return text[0].lower() + text[1:] if len(text) > 1 and text[1].islower() else text


def nonresponse_sentence(model: pd.DataFrame, alpha: float = 0.05) -> str:
    """Which baseline characteristics go with answering follow-ups less (or more) often.

    ``model``: :func:`~opr_analysis.stats.models.nonresponse_model` (the caller checks
    that it may be shown). A term is named when its p value is below ``alpha``;
    odds ratio below 1 = answers less often.

    >>> m = pd.DataFrame({"term": ["Intercept", "age_10", "nrs_avg", "sex"],
    ...     "label": ["Konstantledd", "Alder (per 10 år)", "NRS (per poeng)", "Mann (mot kvinne)"],
    ...     "odds_ratio": [0.2, 1.38, 0.89, 1.09], "ci_low": [0.1, 1.28, 0.85, 0.89],
    ...     "ci_high": [0.3, 1.48, 0.92, 1.34], "p_value": [0.0, 1e-17, 1e-10, 0.42]})
    >>> nonresponse_sentence(m).replace("\\u00a0", " ")
    'Sjeldnere svar på oppfølgingen hang sammen med NRS, per poeng (oddsratio 0,89; 95 % KI 0,85–0,92; p < 0,001). Oftere svar hang sammen med alder, per 10 år (oddsratio 1,38; 95 % KI 1,28–1,48; p < 0,001). Resultatene ved oppfølging sier derfor mindre om de gruppene som svarer sjeldnere.'
    """
    m = model[model["term"] != "Intercept"]
    sig = m[m["p_value"] < alpha]

    def listing(rows: pd.DataFrame) -> str:
        parts = [
            f"{_term_phrase(r['label'])} (oddsratio {fmt_num(r['odds_ratio'], 2)}; {CI_LABEL} "
            f"{fmt_interval(r['ci_low'], r['ci_high'], 2)}; {fmt_p(r['p_value'])})"
            for _, r in rows.iterrows()
        ]
        return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " og " + parts[-1]

    less, more = sig[sig["odds_ratio"] < 1], sig[sig["odds_ratio"] > 1]
    if less.empty and more.empty:
        return (
            "Ingen av kjennetegnene i modellen hadde en sikker sammenheng med om pasientene svarte på "
            "oppfølgingen (p ≥ 0,05 for alle)."
        )
    out = []
    if not less.empty:
        out.append(f"Sjeldnere svar på oppfølgingen hang sammen med {listing(less)}.")
    if not more.empty:
        out.append(f"{'Oftere svar' if out else 'Oftere svar på oppfølgingen'} hang sammen med {listing(more)}.")
    if not less.empty:
        out.append("Resultatene ved oppfølging sier derfor mindre om de gruppene som svarer sjeldnere.")
    return " ".join(out)


def method_rules(as_of, window: tuple[int, int], hscl: dict[str, int] | None = None, year: int | None = None) -> str:
    """The report's method section: every counting and statistical rule the numbers follow, as Markdown bullets.

    Built from the package's constants, so the text cannot drift from the code. ``hscl``:
    :func:`~opr_analysis.stats.proms.unscored_counts` for the report year.

    >>> text = method_rules(pd.Timestamp("2026-02-01"), (2023, 2025), {"answered": 200, "unscored": 12}, 2025)
    >>> "01.02.2026" in text and "2023–2025" in text and "12 av 200" in text
    True
    """
    from ..stats.followup import AWAITING_DAYS
    from ..stats.models import MIN_LEVEL_EVENTS
    from ..stats.proms import PAIRING_MAX_DAYS
    from ..stats.scoring import HSCL10_MIN_ITEMS
    from ..stats.trends import MIN_TREND_DF, POOR_FIT_DISPERSION, SERIES

    as_of = pd.Timestamp(as_of)
    first = {
        "rejected_share": "andelen avviste henvisninger",
        "baseline_response_share_patient_level": "andelen innskrivinger med baselinesvar",
    }
    starts = "; ".join(
        f"{first.get(name, name)}: fra {start if start else 'første år i dataene'} ({reason})"
        for name, (start, reason) in SERIES.items()
    )
    window_text = f"{window[0]}–{window[1]}" if window[0] != window[1] else f"{window[0]}"
    hscl_text = ""
    if hscl is not None and hscl.get("answered"):
        hscl_text = (
            f" I {year} fikk {fmt_int(hscl['unscored'])} av {fmt_int(hscl['answered'])} baselinesvar ingen "
            "HSCL-10-skår etter denne regelen."
        )
    rules = [
        f"**Skjæringsdato.** Alt er regnet slik registeret så ut ved utgangen av {as_of:%d.%m.%Y}: skjemaer "
        "sendt eller besvart senere er ikke med, og oppfølginger med forfallsdato senere er ikke skyldige ennå.",
        "**Svarandel på oppfølging.** En skyldig oppfølging er avgjort når svarfristen på "
        f"{AWAITING_DAYS} dager er ute: den ble sendt minst {AWAITING_DAYS} dager før skjæringsdatoen, eller, "
        "om den aldri ble sendt, forfalt minst så lenge før. Om den er besvart, spiller ingen rolle for regelen, "
        "så andelen blir ikke skjev av at noen svarer raskt. Svarandelen i tabellen er besvart delt på avgjorte "
        "skjemaer sendt som skyldige (første utsending per skyldig oppfølging): andelen av de sendte som ble "
        "besvart. Kvalitetsindikatorene deler i stedet på alle avgjorte skyldige oppfølginger, også de som ikke "
        "ble sendt, og måler dermed både utsending og svar. Nevneren står i tabellen. Skjemaer sendt uten å være "
        "skyldige og svarene på dem vises for seg og er ikke med i andelen.",
        "**Konfidensintervaller** (Wilson, 95 %) vises bare for andeler der telleren er en del av nevneren. "
        "Forholdstall som baselineskjemaer per innskriving kan overstige 100 % og vises uten intervall.",
        "**Trendtester.** Kvasibinomisk logistisk regresjon på år: spredningen mellom årene (Pearsons χ²/df) "
        "anslås fra dataene, standardfeilen ganges med √(χ²/df), og intervall og p-verdi bygger på "
        "t-fordelingen med antall år − 2 frihetsgrader (som R gjør for kvasibinomiske modeller), fordi "
        f"spredningen anslås fra bare noen få årstall. Med færre enn {fmt_int(MIN_TREND_DF + 2)} år kan en trend "
        "ikke skilles fra vanlig variasjon mellom årene; da oppgis ingen test. Over "
        f"{fmt_num(POOR_FIT_DISPERSION, 0)} i spredningsmål sier teksten at modellen passer dårlig. En økning "
        "eller nedgang nevnes bare når intervallet for oddsratioen ikke omfatter 1. "
        f"Hver serie starter i første hele år av datakilden: {starts}.",
        f"**Utfall og modeller** gjelder oppfølginger med forfallsår {window_text}. Oppfølgingen pares med "
        f"siste baselinesvar i samme behandlingsforløp, sendt inn før behandlingen og høyst {PAIRING_MAX_DAYS} "
        "dager før (lokal regel). Bare første svar på hver oppfølging telles; tallene er svar, ikke pasienter.",
        f"**HSCL-10** skåres når minst {HSCL10_MIN_ITEMS} av 10 spørsmål er besvart (gjennomsnitt av de besvarte; "
        "lokal regel, siden ingen publisert regel finnes)." + hscl_text,
        "**Regresjonsmodeller.** Logistisk regresjon med standardfeil justert for at samme pasient kan ha "
        "flere oppfølginger, og med forfallsår som forklaringsvariabel. En kategori vises bare når hver gruppe "
        f"har minst {MIN_LEVEL_EVENTS} med og {MIN_LEVEL_EVENTS} uten utfallet (og minst prikkegrensen); ellers "
        "slås små grupper sammen eller variabelen utelates, og teksten sier hva som er gjort.",
        "**Oppfølging på feil pasient.** Et oppfølgingsskjema registrert på en annen pasient enn den "
        "behandlingen eller innskrivingen det følger opp tilhører, settes i karantene og telles ikke "
        "(se kapitlet om datakvalitet).",
        "**EQ-5D-5L-indeksen** bruker det norske verdisettet (Quality of Life Research 2024) fra "
        "eq5dsuite-value-sets, den rettede versjonen av filen.",
    ]
    return "\n".join(f"- {r}" for r in rules)


def foreign_anchor_sentence(count: int) -> str:
    """The data-quality chapter's line on follow-ups registered on the wrong patient.

    >>> foreign_anchor_sentence(3)
    '3 oppfølgingsskjemaer var registrert på en annen pasient enn den behandlingen eller innskrivingen de følger opp, tilhører. De er satt i karantene og er ikke med i noen tall.'
    >>> foreign_anchor_sentence(0)[:5]
    'Ingen'
    """
    if count == 0:
        return (
            "Ingen oppfølgingsskjemaer var registrert på en annen pasient enn den behandlingen eller "
            "innskrivingen de følger opp, tilhører."
        )
    return (
        f"{fmt_int(count)} oppfølgingsskjema{'er' if count != 1 else ''} var registrert på en annen pasient enn den "
        "behandlingen eller innskrivingen de følger opp, tilhører. De er satt i karantene og er ikke med i noen tall."
    )


def method_paragraph(report, as_of, min_cell: int, include_proms: bool) -> str:
    """The method section's counting rules: as-of date, rows read/used/quarantined, years, intervals,
    suppression and, with the PROM chapter, its suppression and model rules. ``report`` is the
    extract's :class:`~opr_analysis.extract.validation.ValidationReport`."""
    from ..rights.erasure import report_rows

    # Rows of patients erased at their own request are not counted here (contract v1.2; they are counted
    # once, as patients, in the data-quality chapter).
    read, used, quarantined = report_rows(report)
    text = (
        f"Tallene er regnet ut fra registeruttrekket med datoen {as_of:%d.%m.%Y} som skjæringsdato. "
        f"Uttrekket hadde {fmt_int(read)} rader; {fmt_int(used)} ble brukt og "
        f"{fmt_int(quarantined)} ble satt i "
        "karantene fordi de ikke kunne brukes (se kapitlet om datakvalitet). "
        "Et år regnes etter datoen henvisningen ble vurdert, innskrivingen fikk rett til helsehjelp, "
        "skjemaet ble sendt inn eller oppfølgingen forfalt. "
        "Andeler vises med 95 % konfidensintervall (KI) etter Wilsons metode; kvartiler er regnet med lineær "
        "interpolasjon. Tabellene viser rapportåret og de to foregående årene side om side.\n\n"
        + suppression_method_text(min_cell)
    )
    if not include_proms:
        return text
    return text + (
        "\n\n**Pasientrapporterte utfall (PROM).** I tabellen over pasientenes kjennetegn prikkes hver kategori "
        "både innenfor kolonnen (kategoriene summerer seg til antallet som svarte) og på tvers av kjønn (kvinner og "
        "menn summerer seg til alle); gjennomsnitt og median vises bare når minst "
        f"{min_cell} har svart, og en kolonne med færre enn {min_cell} besvarelser viser bare antallet. Andelen "
        "bedret skjules når antallet bedret eller ikke bedret er under "
        f"{min_cell}, og endringsskårer vises ikke for færre enn {min_cell} par. "
        "Analysen av hvem som svarer på oppfølgingen, er en logistisk regresjon. Den forutsetter at sammenhengen "
        "med alder og smerte er lineær på logit-skala, bruker bare oppfølginger der alle variablene er utfylt, "
        "og justerer standardfeilene for at samme pasient kan ha flere oppfølginger. Den beskriver sammenhenger, "
        "ikke årsaker, og vises bare når det er minst 10 besvarte og 10 ubesvarte oppfølginger per "
        "forklaringsvariabel."
    )


def outcomes_paragraph(
    rates: pd.DataFrame, window: tuple[int, int], as_of, min_cell: int, hidden: pd.DataFrame | None = None
) -> str:
    """The opening of «Utfall ved oppfølging»: the window, «svar» not «pasienter», the improvement rules
    and the 12-month RF results (:func:`improvement_sentence`; ``hidden`` as there)."""
    return (
        "## Utfall ved oppfølging\n\n"
        f"Tallene gjelder oppfølginger med forfallsår {window[0]}–{window[1]}, med svar til og med "
        f"{as_of:%d.%m.%Y}: ett år alene gir for få svar per type oppfølging til sikre andeler. Tallene er "
        "svar, ikke pasienter: en pasient kan svare etter flere behandlinger. Et svar regnes som en klinisk "
        "viktig bedring når gjennomsnittlig smerte (NRS) er minst 30 % lavere enn ved baseline i samme "
        "behandlingsforløp, eller når pasienten selv oppgir å være «mye» eller «svært mye» bedre (PGIC). "
        + improvement_sentence(rates, "rf_12m", "nrs_improved_30", min_cell, hidden)
        + " "
        + improvement_sentence(rates, "rf_12m", "pgic_improved", min_cell, hidden)
        + " "
        "@Tbl-prom-bedring og @fig-prom-bedring viser andelene for alle typer oppfølging, og @tbl-prom-endring "
        "viser hvordan gjennomsnittsskårene endret seg fra baseline til oppfølging."
    )


def nonresponse_paragraph(
    nonresponse, window: tuple[int, int], show_model: bool, failed: bool, counts_hidden: bool = False
) -> str:
    """«Hvem svarer på oppfølgingen?»: the model's basis and result with its guard notes, or why it is not shown.

    ``counts_hidden``: the model's follow-ups and answers are hidden (every report of a multi-unit extract
    suppressed together, :func:`~opr_analysis.report.unit_disclosure.model_disclosure`): the basis is described
    without them."""
    if show_model:
        from ..stats.models import guard_notes

        n_model, events = int(nonresponse["n"].iloc[0]), int(nonresponse["events"].iloc[0])
        counts = (
            f"{fmt_int(n_model)} oppfølginger sendt til pasienter som hadde fylt ut baselineskjemaet i samme "
            f"behandlingsforløp, med alle variablene i modellen utfylt; {fmt_int(events)} "
            f"({fmt_pct(events / n_model)}) av dem ble besvart."
        )
        if counts_hidden:
            counts = (
                "oppfølginger sendt til pasienter som hadde fylt ut baselineskjemaet i samme behandlingsforløp, med "
                "alle variablene i modellen utfylt; antallene er skjult fordi de sammen med de andre enhetenes "
                "rapporter ville avsløre et lite tall."
            )
        body = (
            "En logistisk regresjon viser hvilke kjennetegn ved baseline som henger sammen med å svare på "
            "oppfølgingen (@tbl-prom-frafall, @fig-prom-frafall). Den bygger på "
            + counts
            + f" Oppfølgingene har forfallsår {window[0]}–{window[1]}. "
            + nonresponse_sentence(nonresponse)
            + "".join(" " + note for note in guard_notes(nonresponse))
        )
    elif failed:
        body = "Modellen for hvem som svarer på oppfølgingen, kunne ikke tilpasses på dette uttrekket."
    else:
        body = (
            "Det er for få besvarte eller ubesvarte oppfølginger med baselinesvar til å vise en modell for "
            "hvem som svarer (det trengs minst 10 av hvert per forklaringsvariabel)."
        )
    return "## Hvem svarer på oppfølgingen?\n\n" + body


# --- patients' rights (contract v1.2, issue 26) -----------------------------------------------


def erasure_sentence(erased: int, min_cell: int = DEFAULT_MIN_CELL) -> str:
    """The data-quality chapter's one count of patients erased at their own request (small-number rule).

    >>> erasure_sentence(0)
    ''
    >>> erasure_sentence(3).startswith("Færre enn 5 pasienter er slettet etter krav fra pasienten.")
    True
    >>> erasure_sentence(12).replace("\\u00a0", " ")[:52]
    '12 pasienter er slettet etter krav fra pasienten. Ra'
    """
    if not erased:
        return ""
    count = f"Færre enn {min_cell} pasienter" if 0 < erased < min_cell else f"{fmt_int(erased)} pasienter"
    return (
        f"{count} er slettet etter krav fra pasienten. Radene deres er holdt utenfor alle tall i rapporten, også "
        "radtallene i tabellen over, og telles bare her."
    )


def rights_requests_paragraph(cells: pd.DataFrame, year: int, as_of) -> str:
    """The rights section's sentences from :func:`~opr_analysis.report.rights_tables.rights_requests_cells`
    (the cells' text, so hidden counts stay hidden: «×» reads «under {min_cell}» nowhere, it reads «×»).

    >>> c = pd.DataFrame({"kind": ["innsyn", "retting", "sletting", "reservasjon", "alle"],
    ...     "received": ["4", "0", "×", "20", "26"], "closed": ["4", "0", "×", "19", "25"],
    ...     "median_days": ["–", "–", "–", "9", "10"], "within_30": ["–", "–", "–", "90,0 %", "88,0 %"],
    ...     "within_30_ci": ["", "", "", "", "70,0–96,0 %"], "open_past_30": ["0", "0", "0", "1", "1"]})
    >>> rights_requests_paragraph(c, 2024, "2025-03-01")[:95]
    'I 2024 mottok registeret 26 krav fra pasienter: 4 om innsyn, 0 om retting, × om sletting og 20 '
    """
    rows = cells.set_index("kind")
    total = rows.loc["alle"]
    kinds = [("innsyn", "innsyn"), ("retting", "retting"), ("sletting", "sletting"), ("reservasjon", "reservasjon")]
    parts = [f"{rows.at[k, 'received']} om {word}" for k, word in kinds]
    text = f"I {year} mottok registeret {total['received']} krav fra pasienter: " + ", ".join(parts[:-1])
    text += f" og {parts[-1]} mot flere spørreskjemaer (@tbl-rettigheter)."
    if total["median_days"] != MISSING:
        text += f" Medianen fra mottak til svar var {total['median_days']} dager"
        if total["within_30"] != MISSING:
            text += (
                f", og {total['within_30']} ({CI_LABEL} {total['within_30_ci']}) ble besvart innen fristen på 30 dager"
            )
        text += "."
    open_late = total["open_past_30"]
    text += (
        f" Per {pd.Timestamp(as_of):%d.%m.%Y} var "
        + ("ingen krav fra året" if open_late == "0" else f"{open_late} krav fra året")
        + " fortsatt ubesvart mer enn 30 dager etter at de kom inn."
    )
    return text


def reservation_share_sentence(cells: pd.DataFrame, year: int) -> str:
    """The sentence beside the consent-exemption text, from the displayed cells of ``rights_reservation_share``
    (its declaration's default presentation: one row per year; hidden values stay hidden).

    >>> c = pd.DataFrame({"year": ["2024"], "patients": ["1 032"], "reserved_or_erased": ["16"],
    ...     "reserved_or_erased_share": ["1,6 %"], "reserved_or_erased_share_ci": ["1,0–2,5 %"]})
    >>> reservation_share_sentence(c, 2024).replace("\xa0", " ").endswith("gjelder det 16 (1,6 %; 95 % KI 1,0–2,5 %).")
    True
    """
    text = (
        "Registeret samler inn opplysninger uten samtykke (samtykkefritak fra 2021), så det finnes ingen "
        "samtykkeprosent å rapportere. Det dataene viser i stedet, er hvor mange som har reservert seg mot flere "
        "spørreskjemaer eller fått opplysningene slettet (@tbl-reservasjon)"
    )
    row = cells[cells["year"].astype(str) == str(year)]
    if row.empty:
        return text + "."
    r = row.iloc[0]
    if r["reserved_or_erased_share"] == MISSING:
        return (
            text
            + f": for de {r['patients']} pasientene som ble innskrevet første gang i {year}, er tallet for lite til å vises."
        )
    return (
        text + f": av de {r['patients']} pasientene som ble innskrevet første gang i {year}, gjelder det "
        f"{r['reserved_or_erased']} ({r['reserved_or_erased_share']}; {CI_LABEL} {r['reserved_or_erased_share_ci']})."
    )


# --- end patients' rights ---
# --- v1.2 implants (issue 27) -------------------------------------------------------------------
# The sentences take the displayed cells of report/implant_tables.py, so every number in the text
# is one the tables show, hidden the same way («×» and «–» are never quoted).


def _counted(text: str, one: str, many: str) -> str:
    """A displayed count with its noun; a hidden count says so instead of showing the symbol.

    >>> _counted("1", "generator", "generatorer"), _counted("×", "generator", "generatorer")
    ('1 generator', 'et lite eller skjult antall generatorer')
    """
    from .suppression import SUPPRESSED

    if text in (SUPPRESSED, MISSING, ""):
        return f"et lite eller skjult antall {many}"
    return f"{text} {one if text == '1' else many}"


def _until(year: int, as_of) -> str:
    """«31.12.2024» (the as-of date) or, without one, «utgangen av 2024»."""
    return f"{pd.Timestamp(as_of):%d.%m.%Y}" if as_of is not None else f"utgangen av {year}"


def implanted_sentence(cells: pd.DataFrame, year: int) -> str:
    """What was implanted in ``year``, from :func:`~opr_analysis.report.implant_tables.implanted_per_year_cells`.

    >>> c = pd.DataFrame({"kind": ["generator", "elektrode", "annet", "totalt"], "2024": ["40", "66", "1", "107"]})
    >>> print(implanted_sentence(c, 2024))
    I 2024 ble det satt inn 107 komponenter: 40 generatorer, 66 elektroder og 1 annen komponent (@tbl-implantater).
    """
    col = str(year)
    if col not in cells.columns:
        return f"Implantatregisteret har ingen komponenter satt inn i {year}."
    c = cells.set_index("kind")[col]
    return (
        f"I {year} ble det satt inn {_counted(c['totalt'], 'komponent', 'komponenter')}: "
        f"{_counted(c['generator'], 'generator', 'generatorer')}, {_counted(c['elektrode'], 'elektrode', 'elektroder')}"
        f" og {_counted(c['annet'], 'annen komponent', 'andre komponenter')} (@tbl-implantater)."
    )


def _displayed_count(text: str) -> int | None:
    """A displayed count as a number (None when hidden or blank): «1\u00a0200» is 1200."""
    digits = str(text).replace("\u00a0", "").replace(" ", "")
    return int(digits) if digits.isdigit() else None


def explants_sentence(cells: pd.DataFrame, year: int, as_of=None) -> str:
    """Components removed in ``year`` and in all, and the shares of all removals for infection and for pocket
    pain, from :func:`~opr_analysis.report.implant_tables.explants_by_reason_cells`. A share is quoted only
    when both its counts are displayed; it is the displayed count over the displayed total, with its 95 %
    Wilson interval (:func:`~opr_analysis.stats.shares.wilson_interval`).

    >>> c = pd.DataFrame({"kind": ["infeksjon", "lommesmerte", "totalt"], "2024": ["×", "×", "19"],
    ...     "alle": ["27", "×", "119"]})
    >>> print(explants_sentence(c, 2024, pd.Timestamp("2025-03-01")).replace("\u00a0", " "))
    I 2024 ble 19 komponenter tatt ut, og til og med 01.03.2025 er 119 tatt ut i alt (@tbl-eksplantasjoner). 27 av dem (22,7 %; 95 % KI 16,1–31,0 %) ble tatt ut på grunn av infeksjon; for smerte ved generatorlommen er tallet for lite til å vise andelen.
    """
    from ..stats.shares import wilson_interval

    c = cells.set_index("kind")
    col = str(year)
    in_year = c.loc["totalt", col] if col in c.columns else "0"
    total = _displayed_count(c.loc["totalt", "alle"])
    in_all = fmt_int(total) if total is not None else "et lite eller skjult antall"
    out = (
        f"I {year} ble {_counted(in_year, 'komponent', 'komponenter')} tatt ut, og til og med {_until(year, as_of)} "
        f"er {in_all} tatt ut i alt (@tbl-eksplantasjoner)."
    )
    if total == 0:
        return out
    parts = []
    for code, what in (("infeksjon", "infeksjon"), ("lommesmerte", "smerte ved generatorlommen")):
        n = _displayed_count(c.loc[code, "alle"]) if code in c.index else None
        if n is None or total is None:
            parts.append(f"for {what} er tallet for lite til å vise andelen")
            continue
        low, high = wilson_interval([n], [total])
        share = f"{fmt_pct(n / total)}; {CI_LABEL} {fmt_pct_interval(low[0], high[0])}"
        parts.append(f"{fmt_int(n)} av dem ({share}) ble tatt ut på grunn av {what}")
    if all("for lite" in p for p in parts):
        return out + " For infeksjon og smerte ved generatorlommen er tallene for små til å vise andelene."
    first, second = parts
    joiner = "; " if "for lite" in second else ", og "
    return f"{out} {first[0].upper()}{first[1:]}{joiner}{second}."


def implant_survival_sentence(cells: pd.DataFrame, year: int, as_of=None) -> str:
    """1- and 2-year survival of the implanted systems, from
    :func:`~opr_analysis.report.implant_tables.implant_survival_cells`.

    >>> c = pd.DataFrame({"kind": [1, 2], "systems": ["217", "217"], "survival": ["78,5 %", "–"],
    ...     "survival_ci": ["72,3–83,5 %", "–"]})
    >>> print(implant_survival_sentence(c, 2024).replace("\u00a0", " "))
    Av 217 systemer implantert til og med utgangen av 2024 var 78,5 % (95 % KI 72,3–83,5 %) uten uplanlagt eksplantasjon ett år etter implantasjonen; for to år er tallene for små til å vise andelen. Et batteribytte regnes ikke som eksplantasjon av systemet (@tbl-implantat-overlevelse, @fig-implantat-overlevelse).
    """
    if cells.empty:
        return "Implantatregisteret har ingen implanterte systemer å følge."
    c = cells.set_index("kind")
    systems = _counted(c["systems"].iloc[0], "system", "systemer")
    words = {1: "ett år", 2: "to år"}
    shown = [y for y in (1, 2) if y in c.index and c.loc[y, "survival"] not in (MISSING, "")]
    if not shown:
        return (
            f"For {systems} implantert til og med {_until(year, as_of)} er tallene for små til å vise andelen uten "
            "uplanlagt eksplantasjon etter ett og to år."
        )
    pieces = [f"{c.loc[y, 'survival']} ({CI_LABEL} {c.loc[y, 'survival_ci']})" for y in shown]
    out = f"Av {systems} implantert til og med {_until(year, as_of)} var "
    if shown == [1, 2]:
        out += f"{pieces[0]} uten uplanlagt eksplantasjon ett år etter implantasjonen og {pieces[1]} etter to år."
    else:
        y = shown[0]
        out += (
            f"{pieces[0]} uten uplanlagt eksplantasjon {words[y]} etter implantasjonen; for {words[3 - y]} er tallene "
            "for små til å vise andelen."
        )
    return out + (
        " Et batteribytte regnes ikke som eksplantasjon av systemet (@tbl-implantat-overlevelse, "
        "@fig-implantat-overlevelse)."
    )


# --- end v1.2 implants ---
