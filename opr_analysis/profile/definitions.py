"""What a patient profile shows of each score: label, cut-off, clinically important change, scoring rule.

Everything here is a declaration; the numbers come from :mod:`opr_analysis.stats.scoring`
(scores, flags and categories) and :mod:`opr_analysis.stats.proms` (the pairing and the
≥ 30 % pain rule). Decisions beyond those modules, each with its source:

Cut-offs and categories (baseline table)
----------------------------------------
- **NRS** (average and worst pain): 0 none, 1–4 mild, 5–6 moderate, 7–10 severe —
  Serlin RC, Mendoza TR, Nakamura Y, Edwards KR, Cleeland CS. When is cancer pain mild,
  moderate or severe? Grading pain severity by its interference with function. *Pain*
  1995;61:277–284 (cut points 5 and 7, derived for worst pain and widely used for pain
  intensity in general). The only category this module computes itself
  (:func:`nrs_category`).
- **HSCL-10** ≥ 1.85 (Strand et al. 2003), **PCS** ≥ 30 (Sullivan 2009), **ISI** bands
  (Bastien et al. 2001), **ODI** bands (Fairbank & Pynsent 2000): the flags and categories
  of :func:`~opr_analysis.stats.scoring.score_all`, shown as they are.
- BPI interference, EQ-5D-5L index and EQ VAS: no published cut-off; only the percentile.

Clinically important improvement (change table, :data:`MCIDS`)
--------------------------------------------------------------
- NRS average and worst: at least 30 % lower than a non-zero baseline — Farrar JT, Young JP
  Jr, LaMoreaux L, Werth JL, Poole RM. Clinical importance of changes in chronic pain
  intensity measured on an 11-point numerical pain rating scale. *Pain* 2001;94:149–158.
  The rule is :func:`opr_analysis.stats.proms.reduced_by_share`, the outcomes chapter's
  ``nrs_improved_30``.
- PCS: at least 38 % lower — Scott W, Wideman TH, Sullivan MJL. Clinically meaningful
  scores on pain catastrophizing before and after multidisciplinary rehabilitation.
  *Clin J Pain* 2014;30:183–190 (38–44 %; the lower bound is used).
- ISI: at least 6 points lower — Yang M, Morin CM, Schaefer K, Wallenstein GV.
  Interpreting score differences in the Insomnia Severity Index: using health-related
  outcomes to define the minimally important difference. *Curr Med Res Opin*
  2009;25:2487–2494.
- ODI: at least 10 points lower — Ostelo RWJG, Deyo RA, Stratford P, et al. Interpreting
  change scores for pain and functional status in low back pain: towards international
  consensus regarding minimal important change. *Spine* 2008;33:90–94.
- PGIC «mye» or «svært mye bedre» (Farrar et al. 2001): ``pgic_improved`` of the scoring
  module.
- BPI interference, HSCL-10, EQ-5D-5L index (no estimate for the Norwegian value set) and
  EQ VAS: none is marked.

Only improvement is marked; a change in the other direction is shown as a number.

Scoring provenance (footnote, :func:`scoring_notes`)
---------------------------------------------------
One Norwegian sentence per instrument, built from the scoring module's own constants (the
minimum items, the cut-offs, the value set), so the footnote cannot drift from the scores.
The sources are those of :mod:`opr_analysis.stats.scoring` and ``instruments.yaml``:
Cleeland 2009 (BPI), EuroQol EQ-5D-5L User Guide 2019 and the Norwegian EQ-5D-5L value set
(Qual Life Res 2024, doi:10.1007/s11136-024-03837-3), Strand et al. 2003 (HSCL-10; the
8-of-10 rule is the registry's local rule), Sullivan 2009 (PCS), Bastien et al. 2001 (ISI),
Fairbank & Pynsent 2000 (ODI), Guy 1976 and Farrar et al. 2001 (PGIC).

>>> [s.column for s in SCORES][:3]
['nrs_avg', 'nrs_worst', 'bpi_interference']
>>> nrs_category(pd.Series([0, 4, 5, 7, None])).tolist()
['ingen (0)', 'mild (1–4)', 'moderat (5–6)', 'sterk (7–10)', None]
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..extract import codebook
from ..formatting import NBSP, fmt_int, fmt_num
from ..stats import scoring
from ..stats.proms import NRS_IMPROVEMENT_SHARE, PAIRING_MAX_DAYS, reduced_by_share

__all__ = [
    "INSTRUMENT_NAMES",
    "MCIDS",
    "NRS_CATEGORIES",
    "SCORES",
    "Mcid",
    "Score",
    "PAIRING_NOTE",
    "baseline_category",
    "item_rules",
    "mcid_reached",
    "nrs_category",
    "scoring_notes",
    "score",
]


@dataclass(frozen=True)
class Score:
    """A score the profile shows: its column in :func:`~opr_analysis.stats.scoring.score_all`,
    a short Norwegian label, its instrument, decimals shown, direction and range (for the figure)."""

    column: str
    label: str
    short: str
    instrument: str
    decimals: int
    higher_is_better: bool
    low: float
    high: float

    @property
    def direction(self) -> str:
        return "høy skår er bedre" if self.higher_is_better else "høy skår er verre"


#: The scores of a profile, in the order shown (the change scores of the outcomes chapter but the
#: EQ-5D-5L level sum, which clinicians do not read).
SCORES = (
    Score("nrs_avg", "Gjennomsnittlig smerte (NRS 0–10)", "Smerte, snitt (NRS)", "nrs", 0, False, 0, 10),
    Score("nrs_worst", "Verste smerte (NRS 0–10)", "Smerte, verste (NRS)", "nrs", 0, False, 0, 10),
    Score(
        "bpi_interference", "Smertens påvirkning (BPI 0–10)", "Påvirkning (BPI)", "bpi_interference", 1, False, 0, 10
    ),
    Score("eq5d_index", "Livskvalitet, EQ-5D-5L indeks", "EQ-5D-5L indeks", "eq5d5l", 3, True, -0.453, 1),
    Score("eq5d_vas", "Helsetilstand i dag (EQ VAS 0–100)", "EQ VAS", "eq5d5l", 0, True, 0, 100),
    Score("hscl10_mean", "Psykisk symptomtrykk (HSCL-10, 1–4)", "Psykisk (HSCL-10)", "hscl10", 2, False, 1, 4),
    Score("pcs_total", "Smertekatastrofering (PCS 0–52)", "Katastrofering (PCS)", "pcs", 0, False, 0, 52),
    Score("isi_total", "Søvnvansker (ISI 0–28)", "Søvn (ISI)", "isi", 0, False, 0, 28),
    Score("odi_percent", "Funksjon (ODI, % 0–100)", "Funksjon (ODI %)", "odi", 1, False, 0, 100),
)


def score(column: str) -> Score:
    """The :class:`Score` of ``column`` (KeyError when the profile does not show it)."""
    for s in SCORES:
        if s.column == column:
            return s
    raise KeyError(column)


# --------------------------------------------------------------------------- categories

#: Serlin et al. 1995 pain severity bands: (upper bound inclusive, label).
NRS_CATEGORIES = ((0, "ingen (0)"), (4, "mild (1–4)"), (6, "moderat (5–6)"), (10, "sterk (7–10)"))


def nrs_category(values: pd.Series) -> pd.Series:
    """Serlin et al. 1995 band of each NRS value (None where missing)."""
    edges = [-np.inf, *[b for b, _ in NRS_CATEGORIES]]
    cut = pd.cut(pd.to_numeric(values, errors="coerce"), bins=edges, labels=[lab for _, lab in NRS_CATEGORIES])
    return pd.Series([None if pd.isna(c) else str(c) for c in cut], index=values.index, dtype=object)


def _flag_text(flag, yes: str, no: str) -> str | None:
    return None if pd.isna(flag) else (yes if bool(flag) else no)


def baseline_category(column: str, row: pd.Series) -> str | None:
    """The published cut-off or category of score ``column`` for one scored response ``row``
    (a row of :func:`~opr_analysis.stats.proms.baseline_scores`); None where the score has none
    or is missing."""
    if pd.isna(row.get(column)):
        return None
    if column in ("nrs_avg", "nrs_worst"):
        return nrs_category(pd.Series([row[column]])).iloc[0]
    cut_hscl = fmt_num(scoring.HSCL_CASENESS_CUTOFF, 2)
    if column == "hscl10_mean":
        return _flag_text(row["hscl10_case"], f"over grensen (≥{NBSP}{cut_hscl})", f"under grensen (<{NBSP}{cut_hscl})")
    if column == "pcs_total":
        cut = fmt_int(scoring.PCS_CLINICAL_CUTOFF)
        return _flag_text(row["pcs_clinical"], f"klinisk relevant (≥{NBSP}{cut})", f"under grensen (<{NBSP}{cut})")
    if column == "isi_total":
        return None if pd.isna(row["isi_category"]) else scoring.ISI_CATEGORIES[str(row["isi_category"])]
    if column == "odi_percent":
        return None if pd.isna(row["odi_category"]) else scoring.ODI_CATEGORIES[str(row["odi_category"])]
    return None


# --------------------------------------------------------------------------- clinically important change


@dataclass(frozen=True)
class Mcid:
    """A published clinically important improvement: ``share`` (at least this share lower than a
    non-zero baseline) or ``points`` (at least this many points lower)."""

    kind: str
    threshold: float
    source: str

    @property
    def text(self) -> str:
        if self.kind == "share":
            return f"minst {fmt_int(round(100 * self.threshold))}{NBSP}% lavere"
        return f"minst {fmt_num(self.threshold, 0)} poeng lavere"


#: Score column -> its clinically important improvement (module docstring).
MCIDS = {
    "nrs_avg": Mcid("share", NRS_IMPROVEMENT_SHARE, "Farrar et al. 2001"),
    "nrs_worst": Mcid("share", NRS_IMPROVEMENT_SHARE, "Farrar et al. 2001"),
    "pcs_total": Mcid("share", 0.38, "Scott et al. 2014"),
    "isi_total": Mcid("points", 6, "Yang et al. 2009"),
    "odi_percent": Mcid("points", 10, "Ostelo et al. 2008"),
}


def mcid_reached(column: str, before: pd.Series, after: pd.Series) -> pd.Series:
    """Nullable boolean: ``after`` is a clinically important improvement on ``before`` by
    :data:`MCIDS` (NA where either is missing, or a relative rule meets a zero baseline).
    All NA for a score without a published one.

    >>> mcid_reached("odi_percent", pd.Series([40.0, 40.0]), pd.Series([30.0, 32.0])).tolist()
    [True, False]
    """
    before = pd.Series(before).astype("Float64")
    after = pd.Series(after, index=before.index).astype("Float64")
    rule = MCIDS.get(column)
    if rule is None:
        return pd.Series(pd.NA, index=before.index, dtype="boolean")
    if rule.kind == "share":
        return reduced_by_share(before, after, rule.threshold)
    known = before.notna() & after.notna()
    return ((before - after) >= rule.threshold).astype("boolean").where(known, pd.NA)


# --------------------------------------------------------------------------- scoring provenance


def _default(func, name: str):
    return inspect.signature(func).parameters[name].default


def _n_items(instrument: str) -> int:
    return len(codebook.load().instruments[instrument].items)


def scoring_notes() -> dict[str, str]:
    """Instrument -> one Norwegian sentence: its scoring rule, value set or cut-off, and source.

    Built from the scoring module's constants (minimum items, cut-offs) and the codebook's
    item counts, so that it states the rule the scores were computed by.
    """
    bpi_min = _default(scoring.score_bpi_interference, "min_items")
    odi_missing = _default(scoring.score_odi, "max_missing")
    n_bpi, n_hscl, n_pcs, n_isi, n_odi = (_n_items(i) for i in ("bpi_interference", "hscl10", "pcs", "isi", "odi"))
    share = fmt_int(round(100 * NRS_IMPROVEMENT_SHARE))
    return {
        "nrs": "NRS: enkeltspørsmål 0–10, ingen skåringsregel; kategorier etter Serlin et al. 1995 "
        f"(Pain 61:277–284); klinisk viktig bedring minst {share}{NBSP}% lavere (Farrar et al. 2001, Pain 94:149–158).",
        "bpi_interference": f"BPI smertepåvirkning: gjennomsnitt av de besvarte av {n_bpi} spørsmål når minst "
        f"{bpi_min} er besvart (Cleeland, BPI User Guide 2009).",
        "eq5d5l": "EQ-5D-5L: indeksen med det norske verdisettet (Qual Life Res 2024, doi:10.1007/s11136-024-03837-3), "
        "bare når alle fem dimensjoner er besvart; EQ VAS for seg (EuroQol, EQ-5D-5L User Guide 2019, ingen imputering).",
        "hscl10": f"HSCL-10: gjennomsnitt av de besvarte av {n_hscl} spørsmål når minst {scoring.HSCL10_MIN_ITEMS} "
        f"er besvart (registerets lokale regel; ingen publisert regel); grense ≥{NBSP}"
        f"{fmt_num(scoring.HSCL_CASENESS_CUTOFF, 2)} (Strand et al. 2003).",
        "pcs": f"PCS: summen av {n_pcs} spørsmål (0–52), bare når alle er besvart (manualen har ingen regel for "
        f"manglende svar); ≥{NBSP}{scoring.PCS_CLINICAL_CUTOFF} er klinisk relevant (Sullivan 2009); klinisk viktig "
        f"bedring minst 38{NBSP}% lavere (Scott et al. 2014).",
        "isi": f"ISI: summen av {n_isi} spørsmål (0–28), alle kreves; kategorier etter Bastien et al. 2001; klinisk "
        "viktig bedring minst 6 poeng lavere (Yang et al. 2009).",
        "odi": f"ODI: sum ÷ (5 × besvarte seksjoner) × 100 når høyst {odi_missing} av {n_odi} seksjoner mangler; "
        "kategorier etter Fairbank & Pynsent 2000; klinisk viktig bedring minst 10 poeng lavere (Ostelo et al. 2008).",
        "pgic": "PGIC: «mye» eller «svært mye bedre» regnes som klinisk viktig bedring (Farrar et al. 2001).",
    }


def item_rules() -> dict[str, tuple[int, str]]:
    """Instrument -> (items that must be answered for its score, the rule in words).

    EQ-5D-5L counts its five dimensions (the VAS is scored on its own); NRS items are
    single-item scores (each needs itself).
    """
    bpi_min = _default(scoring.score_bpi_interference, "min_items")
    n_bpi, n_pcs, n_isi, n_odi = (_n_items(i) for i in ("bpi_interference", "pcs", "isi", "odi"))
    odi_missing = _default(scoring.score_odi, "max_missing")
    dims = len(scoring.EQ5D_DIMENSIONS)
    return {
        "nrs": (1, "hvert spørsmål er sin egen skår"),
        "bpi_interference": (bpi_min, f"gjennomsnitt av de besvarte når minst {bpi_min} av {n_bpi} er besvart"),
        "eq5d5l": (dims, f"indeksen krever alle {dims} dimensjonene; EQ VAS skåres for seg"),
        "hscl10": (
            scoring.HSCL10_MIN_ITEMS,
            f"gjennomsnitt av de besvarte når minst {scoring.HSCL10_MIN_ITEMS} av {_n_items('hscl10')} er besvart, registerets lokale regel",
        ),
        "pcs": (n_pcs, f"alle {n_pcs} spørsmål kreves"),
        "isi": (n_isi, f"alle {n_isi} spørsmål kreves"),
        "odi": (n_odi - odi_missing, f"skåres når høyst {odi_missing} av {n_odi} seksjoner mangler"),
    }


#: Instrument -> its short name on the page.
INSTRUMENT_NAMES = {
    "nrs": "NRS",
    "bpi_interference": "BPI",
    "eq5d5l": "EQ-5D-5L",
    "hscl10": "HSCL-10",
    "pcs": "PCS",
    "isi": "ISI",
    "odi": "ODI",
    "pgic": "PGIC",
}

#: The pairing rule of the change table, in words (stats/proms.py).
PAIRING_NOTE = (
    "Endring regnes mot siste baseline i samme forløp, høyst "
    f"{PAIRING_MAX_DAYS} dager før behandlingen (samme regel som årsrapportens resultatkapittel)."
)
