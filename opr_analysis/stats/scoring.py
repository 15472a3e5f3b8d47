"""Scoring of the questionnaire instruments (PROMs) defined in ``instruments.yaml``.

Every ``score_<instrument>`` function takes a *wide* frame (one row per
questionnaire response, item codes as columns, NaN for an unanswered item;
absent item columns count as unanswered) and returns a frame with the same
index holding that instrument's score columns. Scores that the instrument's
missing-item rule does not allow are NaN (categories and flags: NA).

Missing-item rules (each function's docstring gives the source):

============  =================================================================
instrument    rule implemented
============  =================================================================
NRS           single items; no rule needed.
BPI           interference = mean of answered items if >= 4 of 7 answered
              (Cleeland, BPI User Guide).
EQ-5D-5L      profile, level sum score and index only for complete profiles;
              VAS on its own (EQ-5D-5L User Guide: no imputation). Norwegian
              value set from eq5dsuite-value-sets NO.csv at commit 2f1a31cf
              (the earlier 3604fbbe has the state digits reversed; see
              opr_analysis/data/eq5d5l_value_set_no.csv).
HSCL-10       no published rule (Strand et al. 2003 give none); LOCAL RULE:
              mean of the answered items when at least 8 of 10 are answered
              (HSCL10_MIN_ITEMS; the report states it and how many are unscored).
PCS           no missing-item rule in the PCS manual; total and each subscale
              only when all their items are answered.
ISI           no missing-item rule (Bastien et al. 2001); all 7 items required.
ODI           Fairbank & Pynsent 2000: with a missed section the index is
              total / (5 x sections answered) x 100, as the paper shows for one
              missed section; more than one missed section: no index.
PGIC          single item.
============  =================================================================

Examples
--------
>>> import pandas as pd
>>> wide = pd.DataFrame({"isi_onset": [3], "isi_maintenance": [3], "isi_early_waking": [2],
...                      "isi_satisfaction": [3], "isi_interference": [2],
...                      "isi_noticeable": [1], "isi_distress": [1]})
>>> scores = score_isi(wide)
>>> scores["isi_total"].tolist(), scores["isi_category"].tolist()
([15.0], ['moderat'])
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import OprError
from ..extract import codebook

__all__ = [
    "ISI_CATEGORIES",
    "ODI_CATEGORIES",
    "EQ5D_DIMENSIONS",
    "answers_to_wide",
    "wide_to_answers",
    "load_eq5d5l_value_set",
    "eq5d5l_index",
    "score_nrs",
    "score_bpi_interference",
    "score_eq5d5l",
    "score_hscl10",
    "score_pcs",
    "score_isi",
    "score_odi",
    "score_pgic",
    "score_all",
]

#: ISI severity bands (Bastien et al. 2001): code -> Norwegian label.
ISI_CATEGORIES = {
    "ingen": "Ingen klinisk betydningsfull insomni (0–7)",
    "subklinisk": "Subklinisk insomni (8–14)",
    "moderat": "Moderat klinisk insomni (15–21)",
    "alvorlig": "Alvorlig klinisk insomni (22–28)",
}
_ISI_EDGES = [-np.inf, 7, 14, 21, 28]

#: ODI disability bands (Fairbank & Pynsent 2000): code -> Norwegian label.
ODI_CATEGORIES = {
    "minimal": "Minimal funksjonsnedsettelse (0–20 %)",
    "moderat": "Moderat funksjonsnedsettelse (21–40 %)",
    "alvorlig": "Alvorlig funksjonsnedsettelse (41–60 %)",
    "invalidiserende": "Invalidiserende (61–80 %)",
    "sengeliggende": "Sengeliggende eller overdriver (81–100 %)",
}
_ODI_EDGES = [-np.inf, 20, 40, 60, 80, np.inf]

#: Every column of :func:`score_all` -> Norwegian label (research-extract codebooks, SPSS/Stata labels).
SCORE_LABELS = {
    "nrs_avg": "Gjennomsnittlig smerte siste uke (NRS 0–10)",
    "nrs_worst": "Verste smerte siste uke (NRS 0–10)",
    "bpi_interference": "Smertens påvirkning (BPI, gjennomsnitt 0–10)",
    "eq5d_profile": "EQ-5D-5L helseprofil (fem sifre)",
    "eq5d_lss": "EQ-5D-5L nivåsum (5–25)",
    "eq5d_vas": "EQ VAS (0–100)",
    "eq5d_index": "EQ-5D-5L indeks (norsk verdisett)",
    "hscl10_mean": "HSCL-10 gjennomsnitt (1–4)",
    "hscl10_case": "HSCL-10 ≥ 1,85 (psykisk symptomtrykk)",
    "pcs_total": "Smertekatastrofering, PCS total (0–52)",
    "pcs_rumination": "PCS grubling (0–16)",
    "pcs_magnification": "PCS forstørring (0–12)",
    "pcs_helplessness": "PCS hjelpeløshet (0–24)",
    "pcs_clinical": "PCS ≥ 30 (klinisk katastrofering)",
    "isi_total": "Søvnvansker, ISI total (0–28)",
    "isi_category": "Søvnvansker (ISI), kategori",
    "odi_percent": "Oswestry funksjonsindeks (%)",
    "odi_category": "Funksjonsnedsettelse (ODI), kategori",
    "pgic": "Pasientens vurdering av endring (PGIC 1–7)",
    "pgic_improved": "PGIC «mye» eller «svært mye» bedre",
}

#: EQ-5D-5L dimension item codes in profile order (MO, SC, UA, PD, AD).
EQ5D_DIMENSIONS = ("eq5d_mo", "eq5d_sc", "eq5d_ua", "eq5d_pd", "eq5d_ad")

PCS_SUBSCALES = {
    "pcs_rumination": ("pcs_08", "pcs_09", "pcs_10", "pcs_11"),
    "pcs_magnification": ("pcs_06", "pcs_07", "pcs_13"),
    "pcs_helplessness": ("pcs_01", "pcs_02", "pcs_03", "pcs_04", "pcs_05", "pcs_12"),
}
PCS_CLINICAL_CUTOFF = 30
HSCL_CASENESS_CUTOFF = 1.85
_EPS = 1e-9  # float tolerance at cut-offs of means


def _items(instrument: str) -> list[str]:
    return list(codebook.load().instruments[instrument].items)


def _block(wide: pd.DataFrame, codes: list[str] | tuple[str, ...]) -> pd.DataFrame:
    """The item columns ``codes`` as floats (absent columns all NaN), range-checked."""
    block = wide.reindex(columns=list(codes)).apply(pd.to_numeric, errors="coerce").astype(float)
    items = codebook.load().items
    for code in codes:
        item = items.get(code)
        if item is None:
            continue
        col = block[code]
        bad = col.notna() & ((col < item.min) | (col > item.max))
        if bad.any():
            raise OprError(
                f"Svar på {code} ({item.label}) utenfor gyldig område {item.min:g}–{item.max:g}: "
                f"{col[bad].iloc[0]:g} (rad {bad.idxmax()!r})."
            )
    return block


def _sum_if_complete(block: pd.DataFrame) -> pd.Series:
    return block.sum(axis=1, min_count=1).where(block.notna().all(axis=1))


def _flag(condition: pd.Series, known: pd.Series) -> pd.Series:
    """A nullable boolean: ``condition`` where ``known``, NA elsewhere."""
    return condition.astype("boolean").where(known, pd.NA)


def _category(values: pd.Series, edges: list[float], codes: dict[str, str]) -> pd.Series:
    return pd.cut(values, bins=edges, labels=list(codes), right=True).astype(
        pd.CategoricalDtype(list(codes), ordered=True)
    )


# --------------------------------------------------------------------------- long <-> wide


def answers_to_wide(answers_long: pd.DataFrame, id_column: str) -> pd.DataFrame:
    """Long answer table (``id_column``, ``item``, ``value``) to one row per id.

    Columns are item codes (codebook order first, unknown codes after), values
    floats, NaN where an item has no answer row. Two answers to one item for
    one id are a data error.

    >>> long = pd.DataFrame({"response_id": ["r1", "r1", "r2"],
    ...                      "item": ["nrs_avg", "nrs_worst", "nrs_avg"], "value": [5, 8, 3]})
    >>> answers_to_wide(long, "response_id").to_dict("index")
    {'r1': {'nrs_avg': 5.0, 'nrs_worst': 8.0}, 'r2': {'nrs_avg': 3.0, 'nrs_worst': nan}}
    """
    ids, id_uniques = pd.factorize(answers_long[id_column], sort=False)
    known = list(codebook.load().items)
    present = pd.unique(answers_long["item"])
    order = [c for c in known if c in set(present)] + sorted(set(present) - set(known))
    item_pos = pd.Index(order).get_indexer(answers_long["item"])
    key = ids.astype(np.int64) * len(order) + item_pos
    dup = pd.Series(key).duplicated(keep=False).to_numpy()
    if dup.any():
        first = answers_long.loc[dup].iloc[0]
        raise OprError(
            f"Flere svar på samme spørsmål: {id_column} {first[id_column]!r}, "
            f"spørsmål {first['item']!r} ({int(dup.sum())} rader)."
        )
    values = np.full((len(id_uniques), len(order)), np.nan)
    values[ids, item_pos] = pd.to_numeric(answers_long["value"], errors="coerce").to_numpy(float)
    return pd.DataFrame(values, index=pd.Index(id_uniques, name=id_column), columns=order)


def wide_to_answers(wide: pd.DataFrame, id_column: str) -> pd.DataFrame:
    """Inverse of :func:`answers_to_wide`: one row per answered item (NaN dropped).

    >>> wide = pd.DataFrame({"nrs_avg": [5.0, 3.0], "nrs_worst": [8.0, None]},
    ...                     index=pd.Index(["r1", "r2"], name="response_id"))
    >>> wide_to_answers(wide, "response_id")
      response_id       item  value
    0          r1    nrs_avg    5.0
    1          r1  nrs_worst    8.0
    2          r2    nrs_avg    3.0
    """
    values = wide.to_numpy(dtype=float)
    keep = ~np.isnan(values)
    rows, cols = np.nonzero(keep)
    return pd.DataFrame(
        {
            id_column: wide.index.to_numpy()[rows],
            "item": wide.columns.to_numpy()[cols],
            "value": values[rows, cols],
        }
    )


# --------------------------------------------------------------------------- instruments


def score_nrs(wide: pd.DataFrame) -> pd.DataFrame:
    """Pain intensity NRS 0–10: average and worst pain, passed through (single items).

    A ≥30 % reduction from baseline is a clinically important change
    (Farrar et al. 2001, Pain 94:149–158); the change itself is computed where
    baseline and follow-up are paired, not here.
    """
    return _block(wide, _items("nrs"))


def score_bpi_interference(wide: pd.DataFrame, min_items: int = 4) -> pd.DataFrame:
    """BPI pain interference: mean of the 7 interference items (0–10).

    Source: Cleeland CS, *The Brief Pain Inventory User Guide* (2009): the
    interference score is the mean of the seven items and may be used when at
    least 4 of the 7 (more than 50 %) are answered; the mean is over the
    answered items. With 3 or fewer answered the score is NaN.

    >>> w = pd.DataFrame({"bpi_general_activity": [6], "bpi_mood": [4], "bpi_walking": [5],
    ...                   "bpi_work": [7]})
    >>> float(score_bpi_interference(w).loc[0, "bpi_interference"])
    5.5
    """
    block = _block(wide, _items("bpi_interference"))
    n = block.notna().sum(axis=1)
    return pd.DataFrame({"bpi_interference": block.mean(axis=1).where(n >= min_items)}, index=wide.index)


@lru_cache(maxsize=1)
def _packaged_value_set() -> pd.DataFrame:
    path = resources.files("opr_analysis").joinpath("data/eq5d5l_value_set_no.csv")
    with resources.as_file(path) as p:
        return _read_value_set(p)


def _read_value_set(path: str | Path) -> pd.DataFrame:
    return pd.read_csv(path, comment="#")


def load_eq5d5l_value_set(path: str | Path | None = None) -> pd.DataFrame:
    """An EQ-5D-5L value set as a table.

    Without ``path``: the packaged Norwegian value set
    (``opr_analysis/data/eq5d5l_value_set_no.csv``; Qual Life Res 2024,
    doi:10.1007/s11136-024-03837-3, taken from the eq5dsuite value-set data at
    commit 2f1a31cf; an earlier commit, 3604fbbe, has the state digits reversed
    — its 11112 is 21111's value — see the file header). With ``path``: a CSV (``#`` lines are comments) in
    either form

    - ``dimension, level, decrement`` (dimensions ``mo sc ua pd ad``, levels 1–5;
      index = 1 − sum of the five decrements: additive value sets only), or
    - ``state, value`` (one row per five-digit profile, e.g. ``11223``).

    >>> vs = load_eq5d5l_value_set()
    >>> sorted(vs["dimension"].unique())
    ['ad', 'mo', 'pd', 'sc', 'ua']
    """
    return _packaged_value_set().copy() if path is None else _read_value_set(path)


def _check_value_set(value_set: pd.DataFrame) -> str:
    cols = set(value_set.columns)
    if {"dimension", "level", "decrement"} <= cols:
        got = set(zip(value_set["dimension"].str.lower(), value_set["level"].astype(int)))
        want = {(d, lvl) for d in ("mo", "sc", "ua", "pd", "ad") for lvl in range(1, 6)}
        if not want <= got:
            missing = sorted(want - got)[:3]
            raise OprError(f"EQ-5D-5L-verdisettet mangler dimensjon/nivå, f.eks. {missing}.")
        return "decrements"
    if {"state", "value"} <= cols:
        return "states"
    raise OprError(
        "EQ-5D-5L-verdisettet må ha kolonnene dimension, level, decrement "
        "eller state, value; registeret må levere et slikt verdisett."
    )


def eq5d5l_index(wide: pd.DataFrame, value_set: pd.DataFrame | None = None) -> pd.Series:
    """EQ-5D-5L index value from a value-set table (NaN for incomplete profiles).

    ``value_set`` defaults to the packaged Norwegian value set
    (:func:`load_eq5d5l_value_set`). A profile with any dimension missing gets
    no index (EQ-5D-5L User Guide: no imputation). A profile absent from a
    ``state, value`` table is NaN.

    >>> w = pd.DataFrame({"eq5d_mo": [1, 5], "eq5d_sc": [1, 5], "eq5d_ua": [1, 5],
    ...                   "eq5d_pd": [1, 5], "eq5d_ad": [1, 5]})
    >>> eq5d5l_index(w).round(3).tolist()
    [1.0, -0.453]
    """
    vs = _packaged_value_set() if value_set is None else value_set
    kind = _check_value_set(vs)
    block = _block(wide, EQ5D_DIMENSIONS)
    complete = block.notna().all(axis=1)
    if kind == "decrements":
        table = vs.assign(dimension=vs["dimension"].str.lower(), level=vs["level"].astype(int))
        total = pd.Series(0.0, index=wide.index)
        for code in EQ5D_DIMENSIONS:
            dec = table.loc[table["dimension"] == code.removeprefix("eq5d_")].set_index("level")["decrement"]
            total = total + block[code].map(dec)
        index = 1.0 - total
    else:
        lookup = vs.assign(state=vs["state"].astype(str)).set_index("state")["value"].astype(float)
        index = _profile(block).map(lookup)
    return index.where(complete).astype(float).rename("eq5d_index")


def _profile(block: pd.DataFrame) -> pd.Series:
    complete = block.notna().all(axis=1)
    digits = block.fillna(0).astype(int).astype(str)
    profile = digits[list(EQ5D_DIMENSIONS)].agg("".join, axis=1) if len(block) else pd.Series(dtype=object)
    return profile.where(complete).astype("string")


def score_eq5d5l(wide: pd.DataFrame, value_set: pd.DataFrame | None = None) -> pd.DataFrame:
    """EQ-5D-5L: profile, level sum score, VAS and index.

    Source: EuroQol Research Foundation, *EQ-5D-5L User Guide* (v3.0, 2019).
    Columns:

    - ``eq5d_profile``: five-digit health state in MO-SC-UA-PD-AD order, e.g.
      ``"11223"``; NA if any dimension is missing (the guide codes a missing
      answer 9 and allows no index for such a profile; we leave it NA).
    - ``eq5d_lss``: level sum score, the sum of the five levels (5–25), also
      called the "misery index" (Devlin, Parkin & Janssen, *Methods for
      Analysing and Reporting EQ-5D Data*, 2020); complete profiles only.
    - ``eq5d_vas``: EQ VAS 0–100, independent of the profile.
    - ``eq5d_index``: value-set index (:func:`eq5d5l_index`).

    >>> w = pd.DataFrame({"eq5d_mo": [1], "eq5d_sc": [1], "eq5d_ua": [2],
    ...                   "eq5d_pd": [2], "eq5d_ad": [3], "eq5d_vas": [70]})
    >>> s = score_eq5d5l(w)
    >>> s["eq5d_profile"].tolist(), s["eq5d_lss"].tolist(), s["eq5d_vas"].tolist()
    (['11223'], [9.0], [70.0])
    """
    block = _block(wide, EQ5D_DIMENSIONS)
    return pd.DataFrame(
        {
            "eq5d_profile": _profile(block),
            "eq5d_lss": _sum_if_complete(block),
            "eq5d_vas": _block(wide, ["eq5d_vas"])["eq5d_vas"],
            "eq5d_index": eq5d5l_index(wide, value_set),
        },
        index=wide.index,
    )


#: Local rule (no published one): HSCL-10 is scored when at least this many of its 10 items are answered.
HSCL10_MIN_ITEMS = 8


def score_hscl10(wide: pd.DataFrame, min_items: int = HSCL10_MIN_ITEMS) -> pd.DataFrame:
    """HSCL-10 psychological distress: mean item score (1–4) and caseness.

    Source: Strand BH, Dalgard OS, Tambs K, Rognerud M. Measuring the mental
    health status of the Norwegian population: a comparison of the
    instruments SCL-25, SCL-10, SCL-5 and MHI-5. *Nord J Psychiatry*
    2003;57:113–118. Caseness: mean **≥ 1.85** ("1,85 eller høyere", as the
    Norwegian summaries of Strand et al. state it).

    Missing items: Strand et al. publish no rule. The registry's local rule
    (:data:`HSCL10_MIN_ITEMS`): the mean of the answered items when at least 8
    of 10 are answered, else no score — stated as a local rule wherever the
    score is shown. Requiring all 10 left about a quarter of baselines
    unscored, which also drove the models' complete-case loss.

    >>> w = pd.DataFrame({f"hscl_{i:02d}": [2] for i in range(1, 11)})
    >>> s = score_hscl10(w)
    >>> s["hscl10_mean"].tolist(), s["hscl10_case"].tolist()
    ([2.0], [True])
    """
    block = _block(wide, _items("hscl10"))
    n = block.notna().sum(axis=1)
    mean = block.mean(axis=1).where(n >= min_items)
    return pd.DataFrame(
        {"hscl10_mean": mean, "hscl10_case": _flag(mean >= HSCL_CASENESS_CUTOFF - _EPS, mean.notna())},
        index=wide.index,
    )


def score_pcs(wide: pd.DataFrame) -> pd.DataFrame:
    """Pain Catastrophizing Scale: total (0–52), subscales and clinical flag.

    Source: Sullivan MJL, Bishop SR, Pivik J. The Pain Catastrophizing Scale:
    development and validation. *Psychol Assess* 1995;7:524–532; Sullivan
    MJL, *The Pain Catastrophizing Scale User Manual* (2009). Subscales are
    sums: rumination items 8–11 (0–16), magnification 6, 7, 13 (0–12),
    helplessness 1–5 and 12 (0–24). ``pcs_clinical``: total **≥ 30**, the
    manual's "clinically relevant level of catastrophizing" (about the 75th
    percentile of chronic pain patients).

    Missing items: the manual gives no prorating rule, so the total needs all
    13 items and each subscale all of its items (no imputation).

    >>> w = pd.DataFrame({f"pcs_{i:02d}": [2] for i in range(1, 14)})
    >>> s = score_pcs(w)
    >>> s["pcs_total"].tolist(), s["pcs_rumination"].tolist(), s["pcs_clinical"].tolist()
    ([26.0], [8.0], [False])
    """
    block = _block(wide, _items("pcs"))
    out = pd.DataFrame({"pcs_total": _sum_if_complete(block)}, index=wide.index)
    for name, codes in PCS_SUBSCALES.items():
        out[name] = _sum_if_complete(block[list(codes)])
    out["pcs_clinical"] = _flag(out["pcs_total"] >= PCS_CLINICAL_CUTOFF, out["pcs_total"].notna())
    return out


def score_isi(wide: pd.DataFrame) -> pd.DataFrame:
    """Insomnia Severity Index: total (0–28) and severity band.

    Source: Bastien CH, Vallières A, Morin CM. Validation of the Insomnia
    Severity Index as an outcome measure for insomnia research. *Sleep Med*
    2001;2:297–307. Bands (:data:`ISI_CATEGORIES`): 0–7 ``ingen`` (no
    clinically significant insomnia), 8–14 ``subklinisk`` (subthreshold),
    15–21 ``moderat``, 22–28 ``alvorlig`` (severe).

    Missing items: the paper gives no rule; the total needs all 7 items.
    """
    block = _block(wide, _items("isi"))
    total = _sum_if_complete(block)
    return pd.DataFrame(
        {"isi_total": total, "isi_category": _category(total, _ISI_EDGES, ISI_CATEGORIES)},
        index=wide.index,
    )


def score_odi(wide: pd.DataFrame, max_missing: int = 1) -> pd.DataFrame:
    """Oswestry Disability Index (per cent, 0–100) and disability band.

    Source: Fairbank JCT, Pynsent PB. The Oswestry Disability Index.
    *Spine* 2000;25:2940–2953. Index = total score / (5 × sections
    answered) × 100. The paper gives this adjustment for a section that is
    missed or not applicable (example 16/45 × 100 = 35.6 %); we apply it for
    up to ``max_missing`` = 1 missed section and give no index with more.

    Bands (:data:`ODI_CATEGORIES`, Fairbank & Pynsent 2000): 0–20 minimal,
    21–40 moderate, 41–60 severe, 61–80 crippled, 81–100 bed-bound or
    exaggerating. Non-integer indices (after a missed section) fall in the band
    whose upper bound they do not exceed: 20.0 is minimal, 22.2 moderate.

    >>> w = pd.DataFrame({c: [2] for c in ["odi_pain", "odi_personal_care", "odi_lifting",
    ...     "odi_walking", "odi_sitting", "odi_standing", "odi_sleeping", "odi_social_life",
    ...     "odi_travelling"]})
    >>> s = score_odi(w)
    >>> s["odi_percent"].tolist(), s["odi_category"].tolist()
    ([40.0], ['moderat'])
    """
    block = _block(wide, _items("odi"))
    n = block.notna().sum(axis=1)
    ok = (n >= block.shape[1] - max_missing) & (n > 0)
    percent = (block.sum(axis=1) * 100 / (5 * n.where(ok))).where(ok)
    return pd.DataFrame(
        {"odi_percent": percent, "odi_category": _category(percent, _ODI_EDGES, ODI_CATEGORIES)},
        index=wide.index,
    )


def score_pgic(wide: pd.DataFrame) -> pd.DataFrame:
    """Patient Global Impression of Change (1–7) and improvement flag.

    Coding convention (see ``instruments.yaml``): 1 = very much improved,
    2 = much improved, 3 = minimally improved, 4 = no change, 5 = minimally
    worse, 6 = much worse, 7 = very much worse — the CGI-Improvement ordering
    (Guy 1976) as used for the PGIC by Farrar et al. 2001 (Pain 94:149–158).
    ``pgic_improved``: 1 or 2 ("much" or "very much improved"), Farrar's
    clinically important improvement. Single item, no missing rule.

    >>> score_pgic(pd.DataFrame({"pgic": [2, 3, None]}))["pgic_improved"].tolist()
    [True, False, <NA>]
    """
    value = _block(wide, ["pgic"])["pgic"]
    return pd.DataFrame({"pgic": value, "pgic_improved": _flag(value <= 2, value.notna())}, index=wide.index)


def score_all(wide: pd.DataFrame, value_set: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every instrument's scores side by side (demographic items are not scored).

    >>> score_all(pd.DataFrame({"nrs_avg": [4]})).shape[1] > 10
    True
    """
    parts = [
        score_nrs(wide),
        score_bpi_interference(wide),
        score_eq5d5l(wide, value_set),
        score_hscl10(wide),
        score_pcs(wide),
        score_isi(wide),
        score_odi(wide),
        score_pgic(wide),
    ]
    return pd.concat(parts, axis=1)
