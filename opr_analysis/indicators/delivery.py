"""The national results portal's delivery file and the checks that mirror its upload checks.

Format: one CSV per registry, columns ``context, year, orgnr, ind_id, var,
denominator`` (nothing else). ``context`` is ``caregiver`` (the treating
health trust). Rows are aggregates: per health trust (``orgnr``; units of one
trust are summed), year and share indicator, ``var`` = numerator and
``denominator`` = the count. Only share indicators are delivered (a median has
no aggregate row in this format), only whole years: from the later of the
indicator's ``first_year`` and the first whole year of its data source
(:func:`~opr_analysis.indicators.compute.start_year`; a partial first year, such
as follow-ups due from June or December only, is never delivered), and no row
whose denominator is 0 (the portal rejects them). Rows under the indicator's
``min_denominator`` are delivered: the portal applies its own copy of that
threshold (see indicators.yaml).

:func:`check_delivery` runs before anything is written: required columns only,
``context`` known, ``year``/``var``/``denominator`` natural numbers, ``orgnr``
nine digits, ``var`` ≤ ``denominator``, no zero denominator, known indicator
ids, no duplicate (context, year, orgnr, ind_id). Every failing row is named.

Small numbers (decided in issue 23): the file carries every count as it is,
``var`` 2 of ``denominator`` 3 included. It is not a publication but the
registry's transfer to the portal, which applies its own small-number and
minimum-denominator rules before anything is shown and sums trusts to regions
and the nation from exact counts (hidden cells would break those sums). The
file is uploaded to the portal only, never published or shared as it is;
``opr indicators --help``, the command's last line and the README say so.
"""

from __future__ import annotations

import pandas as pd

from ..errors import OprError
from .compute import TOTAL, start_year

COLUMNS = ["context", "year", "orgnr", "ind_id", "var", "denominator"]
CONTEXTS = ("caregiver", "resident")
FILE_NAME = "nasjonal_leveranse.csv"


class DeliveryCheckError(OprError):
    """The delivery file would be rejected by the portal; nothing is written."""


def delivery_frame(results: pd.DataFrame, definitions: dict) -> pd.DataFrame:
    """The portal rows from :func:`~opr_analysis.indicators.indicator_results`' output."""
    shares = {i for i, d in definitions.items() if d.type == "share"}
    r = results[(results["unit_id"] != TOTAL) & results["ind_id"].isin(shares)]
    first = r["ind_id"].map({i: start_year(definitions[i]) for i in shares})
    r = r[r["year"] >= first]
    out = (
        r.groupby(["year", "orgnr", "ind_id"], as_index=False, sort=True)[["numerator", "denominator"]]
        .sum()
        .rename(columns={"numerator": "var"})
    )
    out = out[out["denominator"] > 0]
    out.insert(0, "context", "caregiver")
    out = out[COLUMNS].astype({"year": "int64", "var": "int64", "denominator": "int64"})
    return out.sort_values(["ind_id", "year", "orgnr"]).reset_index(drop=True)


def _natural(s: pd.Series) -> pd.Series:
    """True where the cell is a whole number ≥ 0 (text digits or an integer)."""
    return s.astype(str).str.fullmatch(r"[0-9]+").fillna(False).astype(bool)


def delivery_problems(frame: pd.DataFrame, known_ids) -> list[str]:
    """Every reason the portal would reject ``frame`` (empty list: it passes)."""
    cols = list(frame.columns)
    if cols != COLUMNS:
        extra = [c for c in cols if c not in COLUMNS]
        missing = [c for c in COLUMNS if c not in cols]
        return [f"kolonnene skal være nøyaktig {', '.join(COLUMNS)} (mangler: {missing}, ekstra: {extra})"]
    found = []

    def flag(mask, text):
        for i in frame.index[mask.to_numpy(dtype=bool)]:
            found.append(f"rad {i + 1}: {text} ({', '.join(f'{c}={frame.at[i, c]}' for c in COLUMNS)})")

    flag(~frame["context"].isin(CONTEXTS), "context må være caregiver eller resident")
    for c in ("year", "var", "denominator"):
        flag(~_natural(frame[c]), f"{c} er ikke et naturlig tall")
    flag(~frame["orgnr"].astype(str).str.fullmatch(r"[0-9]{9}").fillna(False), "orgnr er ikke 9 sifre")
    num = {c: pd.to_numeric(frame[c], errors="coerce") for c in ("var", "denominator")}
    flag(num["denominator"] == 0, "nevneren er 0")
    flag(num["var"] > num["denominator"], "var er større enn nevneren")
    flag(~frame["ind_id"].isin(list(known_ids)), "ukjent indikator-ID")
    flag(
        frame.duplicated(["context", "year", "orgnr", "ind_id"], keep=False),
        "duplikat (samme context, år, orgnr og indikator)",
    )
    return found


def check_delivery(frame: pd.DataFrame, known_ids) -> None:
    """Raise :class:`DeliveryCheckError` naming every bad row, unless ``frame`` passes."""
    problems = delivery_problems(frame, known_ids)
    if problems:
        raise DeliveryCheckError(
            "leveransefilen til resultatportalen ville blitt avvist; ingenting er skrevet:\n  "
            + "\n  ".join(problems[:20])
            + (f"\n  … og {len(problems) - 20} til" if len(problems) > 20 else "")
        )
