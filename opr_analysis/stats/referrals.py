"""Referrals assessed and rejected (seed table 10), by health region (table 11), and by sex and age group.

Counting rules (data contract): ``apen_retur`` and ``foresporsel`` are not
assessed referrals and are left out of every count; assessed = ``rett``,
``avvist`` and ``videresendt``. The year of a referral is the year of
``assessed_date``. Region shares are computed over ``lokal``, ``regional`` and
``nasjonal`` only; ``annet`` and blank are one line, ``annet_blank``, outside
the denominator (its share is blank).

Referrals by sex and age group (:func:`referrals_by_sex_age`) count the
referrals granted the right to health care (``rett``, the first block of table
11, so a year's total is that block's total). Sex and birth year come from
``patients``; a referral's patient need not be there (data contract: rejected
patients are never enrolled), and then both are ``ukjent``. Age is the assessed
year minus the birth year (:func:`.derived.age_at`), grouped by
:func:`.derived.age_groups`: ten years from 18, ``0–17`` apart, ``80+`` at the top.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..extract.needs import reads
from .derived import age_at, age_groups
from .memo import shared, year_of, years
from .shares import add_share, aggregate_share, count_grid, year_range

ASSESSED_DECISIONS = ("rett", "avvist", "videresendt")
REGION_DECISIONS = ("rett", "avvist")
SHARE_REGIONS = ("lokal", "regional", "nasjonal")
REGIONS = (*SHARE_REGIONS, "annet_blank")
UNKNOWN = "ukjent"
SEXES = ("K", "M")
#: Age groups of the breakdowns by age: width, first age, and the label of the children's group.
AGE_WIDTH, AGE_FLOOR, AGE_BELOW = 10, 18, "0–17"


@reads("referrals")
def assessed_referrals(reg) -> pd.DataFrame:
    """Per-row flags of assessed referrals: year, decision, assessed (1), rejected (0/1)."""
    return shared(reg, "assessed_referrals", ("referrals",), _assessed_referrals)


def _assessed_referrals(reg) -> pd.DataFrame:
    r = reg.referrals
    r = r[r["decision"].isin(ASSESSED_DECISIONS)]
    return pd.DataFrame(
        {
            "year": r["assessed_date"].dt.year.astype("int64"),
            "decision": r["decision"].astype(object),
            "region": r["region"].astype(object),
            "assessed": 1,
            "rejected": (r["decision"] == "avvist").astype("int64"),
        },
        index=r.index,
    )


@reads("referrals")
def referrals_assessed(reg) -> pd.DataFrame:
    """Seed table 10: year, assessed, rejected, rejected_share (+ 95 % Wilson limits).

    >>> referrals_assessed(reg)  # doctest: +SKIP
       year  assessed  rejected  rejected_share  rejected_share_ci_low  rejected_share_ci_high
    0  2021      2299       691        0.300565  ...
    """
    return shared(reg, "referrals_assessed", ("referrals",), _referrals_assessed)


def _assessed_flags(reg) -> pd.DataFrame:
    """:func:`assessed_referrals` with decision and region in their loaded dtype (category codes
    count without converting each row to text)."""
    return shared(reg, "assessed_flags", ("referrals",), _compute_assessed_flags)


def _compute_assessed_flags(reg) -> pd.DataFrame:
    r = reg.referrals
    assessed = r["decision"].isin(ASSESSED_DECISIONS).to_numpy()
    decision = r["decision"].array[assessed]
    return pd.DataFrame(
        {
            "year": _assessed_years(reg, assessed),
            "decision": decision,
            "region": r["region"].array[assessed],
            "assessed": 1,
            "rejected": np.asarray(decision == "avvist", dtype=bool),
        }
    )


def _assessed_years(reg, assessed: np.ndarray) -> np.ndarray:
    """Year of the assessed referrals. From the memo's year of every referral (quality_missing
    counts those too) unless a referral has no assessed_date (only assessed ones need one)."""
    dates = reg.referrals["assessed_date"]
    if dates.isna().any():
        return years(dates[assessed]).to_numpy()
    return year_of(reg, "referrals", "assessed_date").to_numpy()[assessed]


def _referrals_assessed(reg) -> pd.DataFrame:
    rows = _assessed_flags(reg)
    return aggregate_share(rows, ["year"], "rejected", "assessed", "rejected_share", {"year": year_range(rows["year"])})


@reads("referrals")
def referrals_by_region(reg) -> pd.DataFrame:
    """Seed table 11: year, decision (rett/avvist), region, n, share (+ limits).

    ``share`` = n / (lokal + regional + nasjonal) of the same year and decision;
    blank for ``annet_blank`` and for a 0/0 group. The decision's total is
    the sum of ``n`` over all four regions.
    """
    rows = _assessed_flags(reg)
    # rows of other decisions fall outside the grid (count_grid leaves them out)
    years = rows["year"][rows["decision"].isin(REGION_DECISIONS).to_numpy()]
    rows = rows.assign(region=_region_lines(rows["region"]), n=1)
    grid = {"year": year_range(years), "decision": list(REGION_DECISIONS), "region": list(REGIONS)}
    out = count_grid(rows, grid, {"n": "n"})
    in_share = out["region"].isin(SHARE_REGIONS)
    out["denominator"] = out["n"].where(in_share, 0).groupby([out["year"], out["decision"]]).transform("sum")
    out = add_share(out, "share", "n", "denominator")
    for col in ("share", "share_ci_low", "share_ci_high"):
        out.loc[~in_share, col] = float("nan")
    return out[["year", "decision", "region", "n", "share", "share_ci_low", "share_ci_high", "denominator"]]


def _first_rows(ids: pd.Series, among: pd.Series) -> np.ndarray:
    """Each id's first row position in ``among`` (-1 where absent; a missing id matches nothing), by Arrow's hash lookup."""
    import pyarrow as pa
    import pyarrow.compute as pc

    def text(s: pd.Series):
        return pa.array(s.astype("string").array).cast(pa.large_string())

    if not len(among):
        return np.full(len(ids), -1, dtype=np.int64)
    where = pc.index_in(text(ids), value_set=text(among), skip_nulls=True)
    return pc.fill_null(where, -1).to_numpy(zero_copy_only=False).astype(np.int64)


def _of_patient(values: np.ndarray, at: np.ndarray, missing) -> np.ndarray:
    """``values`` (one per patient row) at each row position ``at``; ``missing`` where ``at`` is -1."""
    if not len(values):
        return np.full(len(at), missing)
    return np.where(at >= 0, values[np.maximum(at, 0)], missing)


def _level_codes(values: pd.Series, levels: list[str]) -> np.ndarray:
    """Each value's position in ``levels`` (-1 where blank or not a level), through a categorical's codes."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        at = np.append(pd.Index(levels).get_indexer(values.cat.categories.astype(object)), -1)
        return at[values.cat.codes.to_numpy()]
    return pd.Index(levels).get_indexer(values.astype(object))


def _region_lines(region: pd.Series) -> pd.Series:
    """The region's line in table 11: itself when one of SHARE_REGIONS, else ``annet_blank``."""
    if isinstance(region.dtype, pd.CategoricalDtype):
        # map the categories, then each row through its code (a blank region has code -1)
        lines = [c if c in SHARE_REGIONS else "annet_blank" for c in region.cat.categories]
        at = pd.Index(REGIONS).get_indexer(lines + ["annet_blank"])
        codes = region.cat.codes.to_numpy()
        return pd.Series(pd.Categorical.from_codes(at[codes], categories=list(REGIONS)), index=region.index)
    region = region.astype(object)
    return region.where(region.isin(SHARE_REGIONS), "annet_blank").fillna("annet_blank")


@reads("referrals", "patients")
def referrals_by_sex_age(reg) -> pd.DataFrame:
    """Referrals granted the right to health care per year, by sex and age group: year, sex, age_group, n.

    Every year × sex (``K``, ``M``) × age group is a row, zeros included; the level
    ``ukjent`` of ``sex`` and of ``age_group`` is added when some referral's patient is not
    in ``patients`` (module docstring). Years are those of table 11.
    """
    r = reg.referrals
    granted = r[(r["decision"] == "rett").to_numpy()]
    # Each referral's patient: its first row in patients (-1: not there), looked up in Arrow rather than
    # through Python objects (at national size the object maps took 3 s and 300 MB).
    at = _first_rows(granted["patient_id"], reg.patients["patient_id"])
    known = at >= 0
    levels = [*SEXES, UNKNOWN]
    sex = _of_patient(_level_codes(reg.patients["sex"], levels), at, levels.index(UNKNOWN))
    birth = _of_patient(reg.patients["birth_year"].astype("Float64").to_numpy(dtype=float, na_value=np.nan), at, np.nan)
    groups = age_groups(age_at(granted["assessed_date"], birth), AGE_WIDTH, AGE_FLOOR, AGE_BELOW)
    unknown = [UNKNOWN] if (~known).any() or groups.isna().any() else []
    # Keys as categoricals of the grid's levels: count_grid reads their codes (a known patient's blank sex
    # is outside them and not counted, as the group-by left it out).
    rows = pd.DataFrame(
        {
            "year": granted["assessed_date"].dt.year.astype("int64").to_numpy(),
            "sex": pd.Categorical.from_codes(sex, categories=levels),
            "age_group": groups.cat.add_categories([UNKNOWN]).fillna(UNKNOWN).array,
            "n": 1,
        }
    )
    flags = _assessed_flags(reg)
    region_years = flags["year"][flags["decision"].isin(REGION_DECISIONS).to_numpy()]
    grid = {
        "year": year_range(region_years),
        "sex": [*SEXES, *unknown],
        "age_group": [*groups.cat.categories, *unknown],
    }
    return count_grid(rows, grid, {"n": "n"})
