"""The recall list: who still carries a component a field safety notice names (``opr implantat søk``).

Counting rules and decisions:

- **What matches.** A component matches when it passes every filter given (manufacturer,
  model, lot, serial number, component, implanted between two dates); several values of one
  filter are alternatives (several lots, the serial numbers of a notice). Texts are compared by
  the one matching rule of :mod:`.matching` (trimmed, NFKC, case-folded; no fuzzy matching).
  At least one of manufacturer, model, lot and serial number must be given: a list of every
  patient with a generator is not a recall.
- **Carriers** are the patients of the matching components implanted on or before the as-of
  date and not explanted on or before it: they carry the component at the as-of date, as far
  as the registry knows. **Removed** are the matching components explanted on or before the
  as-of date, with the date and the reason.
- **Quarantined rows are not silently dropped.** A row the reader could not use (say, one
  device registered in two patients at once) may still be a carrier: every quarantined row whose
  cells match the device filters is listed apart, with the reason, for the clinic to check by
  hand. A date filter leaves such a row out only when its date can be read and falls outside.
- **Unit**: the component's ``unit_id``, else its treatment's, else the registry's own unit (an
  extract without units); blank where an extract with units gives neither.
- **Reserved or erased patients are listed like everyone else**, marked: a reservation
  (``patients.reserved_date``, or a ``reservasjon`` in ``rights_requests``) is against
  questionnaires, and an erasure request (``sletting``) governs the registry's use of data; a
  patient who carries a recalled device must still be contacted (patient safety). The list
  says so in the row and the command says how many. Where the reader leaves erased patients out
  of the registry (contract v1.2, issue 26), it keeps their rows in memory
  (``reg.report.erasure.removed``) and the recall takes their implants, patient and treatment
  rows from there (:func:`with_erased`): this list is the one output that must still name them.
- **Serial numbers of the notice that matched nobody** are listed, each with whether the
  register has it at all (then with other characteristics: another manufacturer, a component
  outside the period, …), so the clinic can look for a typo in the notice or the register.

The list holds patient ids by design; :mod:`.output` decides where it may be written.

>>> q = RecallQuery(manufacturers=("Nordstim Medical",), lots=("VP-2203A",))
>>> q.describe()[:2]
[('Produsent', 'Nordstim Medical'), ('Parti (lot)', 'VP-2203A')]
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import UsageError
from ..extract import codebook
from ..extract.needs import reads
from .matching import normalise, normalise_text

__all__ = ["RecallQuery", "RecallResult", "recall", "rights_status", "with_erased", "ROW_COLUMNS", "REMOVED_COLUMNS"]

#: The columns of the carriers' list (CSV names; the workbook shows the codebook's labels).
ROW_COLUMNS = [
    "patient_id", "unit_id", "unit_name", "component", "manufacturer", "model", "serial_number", "lot",
    "implanted_date", "treatment_id", "implant_id", "reserved_from", "erased_from", "contact_note",
]  # fmt: skip
#: The removed components' list: the carriers' columns plus when and why the component came out.
REMOVED_COLUMNS = [*ROW_COLUMNS[:9], "explanted_date", "explant_reason", *ROW_COLUMNS[9:]]
CONTACT_RESERVED = "Har reservert seg mot spørreskjema fra {date}; skal likevel kontaktes om dette implantatet."
CONTACT_ERASED = (
    "Har krevd sletting fra {date}; skal likevel kontaktes om dette implantatet (pasientsikkerhet). "
    "Opplysningene brukes bare til denne kontakten."
)
_TEXT_FILTERS = (("manufacturer", "manufacturers"), ("model", "models"), ("lot", "lots"), ("serial_number", "serials"))


@dataclass(frozen=True)
class RecallQuery:
    """What a notice names. Empty filters are not applied; dates are inclusive."""

    manufacturers: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    lots: tuple[str, ...] = ()
    serials: tuple[str, ...] = ()
    components: tuple[str, ...] = ()
    implanted_from: pd.Timestamp | None = None
    implanted_to: pd.Timestamp | None = None

    def check(self) -> None:
        """:class:`UsageError` for a query that is not a recall (no device filter, impossible period, unknown code)."""
        if not (self.manufacturers or self.models or self.lots or self.serials):
            raise UsageError(
                "oppgi minst én av --manufacturer, --model, --lot, --serial eller --serial-file "
                "(et søk uten dem er ikke en tilbakekalling)"
            )
        for name, values in zip(("--manufacturer", "--model", "--lot", "--serial"),
                                (self.manufacturers, self.models, self.lots, self.serials), strict=True):  # fmt: skip
            blank = [v for v in values if normalise_text(v) is None]
            if blank:
                raise UsageError(f"{name} er blank; oppgi en verdi")
        codes = codebook.load().column("implants", "component").codes
        unknown = [c for c in self.components if c not in codes]
        if unknown:
            raise UsageError(f"--component «{unknown[0]}» er ikke en komponent (velg blant {', '.join(codes)})")
        if (
            self.implanted_from is not None
            and self.implanted_to is not None
            and self.implanted_from > self.implanted_to
        ):
            raise UsageError(
                f"--implanted-from {self.implanted_from:%Y-%m-%d} ligger etter --implanted-to {self.implanted_to:%Y-%m-%d}"
            )

    def describe(self) -> list[tuple[str, str]]:
        """The query as (what, value) lines in Norwegian, for the list's cover sheet."""
        lines = [("Produsent", v) for v in self.manufacturers]
        lines += [("Modell", v) for v in self.models] + [("Parti (lot)", v) for v in self.lots]
        if self.serials:
            lines.append(("Serienumre", f"{len(self.serials)} oppgitt"))
        codes = codebook.load().column("implants", "component").codes
        lines += [("Komponent", codes[c]) for c in self.components]
        if self.implanted_from is not None:
            lines.append(("Implantert fra og med", f"{self.implanted_from:%d.%m.%Y}"))
        if self.implanted_to is not None:
            lines.append(("Implantert til og med", f"{self.implanted_to:%d.%m.%Y}"))
        return lines


@dataclass
class RecallResult:
    """The recall list: carriers, removed components, quarantined matches and unmatched notice serials."""

    query: RecallQuery
    as_of: pd.Timestamp
    carriers: pd.DataFrame
    removed: pd.DataFrame
    quarantined: pd.DataFrame
    unmatched: pd.DataFrame
    notice_serials: int = 0
    notes: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """The numbers the command prints (never an id)."""
        c = self.carriers
        return {
            "carrier_components": len(c),
            "carriers": int(c["patient_id"].nunique()),
            "carriers_reserved": int(c.loc[c["reserved_from"].notna(), "patient_id"].nunique()),
            "carriers_erased": int(c.loc[c["erased_from"].notna(), "patient_id"].nunique()),
            "removed_components": len(self.removed),
            "removed_patients": int(self.removed["patient_id"].nunique()),
            "quarantined_rows": len(self.quarantined),
            "notice_serials": self.notice_serials,
            "unmatched_serials": len(self.unmatched),
        }

    def summary_lines(self) -> list[str]:
        """What the command prints: counts only, in Norwegian."""
        n = self.counts()
        day = f"{self.as_of:%d.%m.%Y}"
        lines = [
            f"{_n(n['carriers'], 'pasient har', 'pasienter har')} fortsatt "
            f"{_n(n['carrier_components'], 'av de søkte komponentene', 'av de søkte komponentene')} per {day}."
        ]
        if n["carriers_reserved"] or n["carriers_erased"]:
            lines.append(
                f"Av dem har {_n(n['carriers_reserved'], 'reservert seg', 'reservert seg')} og "
                f"{_n(n['carriers_erased'], 'krevd sletting', 'krevd sletting')}: de skal likevel kontaktes om "
                "implantatet (se kolonnen «Merknad»)."
            )
        lines.append(
            f"{_n(n['removed_components'], 'søkt komponent', 'søkte komponenter')} hos "
            f"{_n(n['removed_patients'], 'pasient', 'pasienter')} er allerede fjernet (egen liste, med dato og årsak)."
        )
        if n["quarantined_rows"]:
            lines.append(
                f"{_n(n['quarantined_rows'], 'rad', 'rader')} i karantene samsvarer med søket; registeret kunne ikke "
                "bruke dem, så de må sjekkes for hånd (egen liste, med årsaken)."
            )
        if self.query.serials:
            lines.append(
                f"{_n(n['unmatched_serials'], 'serienummer', 'serienumre')} av {n['notice_serials']} i søket traff "
                "ingen komponent; sjekk dem for skrivefeil (egen liste)."
            )
        return lines + self.notes


def _n(count: int, one: str, many: str) -> str:
    """``count`` with the word in singular or plural (Norwegian thousands).

    >>> _n(1, "pasient", "pasienter"), _n(1200, "pasient", "pasienter").replace("\\u00a0", " ")
    ('1 pasient', '1 200 pasienter')
    """
    from ..formatting import fmt_int

    return f"{fmt_int(count)} {one if count == 1 else many}"


def _matches(frame: pd.DataFrame, query: RecallQuery) -> pd.Series:
    """The rows whose text cells (and component) pass the query's device filters."""
    keep = pd.Series(True, index=frame.index)
    for column, attr in _TEXT_FILTERS:
        wanted = {normalise_text(v) for v in getattr(query, attr)} - {None}
        if wanted:
            keep &= normalise(frame[column]).isin(wanted).fillna(False).to_numpy(dtype=bool)
    if query.components:
        keep &= frame["component"].astype("string").str.strip().isin(query.components).fillna(False).to_numpy(bool)
    return keep


def _in_period(dates: pd.Series, query: RecallQuery, unknown: bool) -> pd.Series:
    """Dates within the query's period; a missing date counts as ``unknown``."""
    keep = pd.Series(True, index=dates.index)
    if query.implanted_from is not None:
        keep &= (dates >= query.implanted_from).fillna(unknown).to_numpy(dtype=bool)
    if query.implanted_to is not None:
        keep &= (dates <= query.implanted_to).fillna(unknown).to_numpy(dtype=bool)
    return keep


def with_erased(reg, table: str) -> pd.DataFrame:
    """The usable rows of ``table``, with those of patients erased at their own request put back.

    The reader may leave erased patients out of every table and keep the rows it took out in
    ``reg.report.erasure.removed`` (contract v1.2, issue 26); a recall must still reach them.
    """
    frame = reg.tables[table]
    erasure = getattr(reg.report, "erasure", None)
    extra = (getattr(erasure, "removed", None) or {}).get(table)
    if extra is None or not len(extra):
        return frame
    return pd.concat([frame, extra[list(frame.columns)]]).sort_index(kind="stable")


def rights_status(reg, patient_ids: pd.Series, as_of) -> pd.DataFrame:
    """``reserved_from`` and ``erased_from`` of each patient (index aligned; missing: none on or before ``as_of``).

    A reservation is ``patients.reserved_date`` or the earliest ``reservasjon`` in ``rights_requests``
    (contract v1.2: the earlier applies); an erasure the earliest ``sletting``; each only from its
    effective date on or before ``as_of``. Without a ``rights_requests`` table only the reservation date counts.
    """
    as_of = pd.Timestamp(as_of)
    ids = patient_ids.astype(object)
    wanted = pd.unique(ids.dropna())  # a recall names a few thousand of the registry's patients: look up those
    p = with_erased(reg, "patients")
    p = p[p["patient_id"].isin(wanted).to_numpy(dtype=bool)]
    reserved = pd.Series(p["reserved_date"].to_numpy(), index=p["patient_id"].astype(object).to_numpy())
    erased = pd.Series(pd.NaT, index=reserved.index, dtype="datetime64[ns]")
    requests = reg.tables.get("rights_requests")
    if requests is not None and len(requests) and {"kind", "effective_date", "patient_id"} <= set(requests.columns):
        r = requests[requests["effective_date"].notna() & requests["patient_id"].isin(wanted).to_numpy(dtype=bool)]
        by_kind = r.groupby([r["kind"].astype(str), r["patient_id"].astype(object)])["effective_date"].min()
        if "reservasjon" in by_kind.index.get_level_values(0):
            reserved = pd.concat([reserved, by_kind["reservasjon"]]).groupby(level=0).min()
        if "sletting" in by_kind.index.get_level_values(0):
            erased = pd.concat([erased, by_kind["sletting"]]).groupby(level=0).min()
    reserved = reserved[~reserved.index.duplicated()]
    erased = erased[~erased.index.duplicated()]
    out = pd.DataFrame(
        {
            "reserved_from": pd.to_datetime(reserved.reindex(ids.to_numpy()).to_numpy()),
            "erased_from": pd.to_datetime(erased.reindex(ids.to_numpy()).to_numpy()),
        },
        index=patient_ids.index,
    )
    return out.where(out <= as_of)


def _units(reg, frame: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """unit_id and unit name of each component: its own, else its treatment's, else the own unit
    (an extract without units is the registry's own unit: :mod:`opr_analysis.extract.units`)."""
    from ..extract.units import has_units, unit_table

    units = unit_table(reg)
    if not has_units(reg):
        unit = pd.Series(units["unit_id"].iloc[0], index=frame.index, dtype=object)
    else:
        t = with_erased(reg, "treatments")
        t = t[t["treatment_id"].isin(pd.unique(frame["treatment_id"].dropna())).to_numpy(dtype=bool)]
        by_treatment = pd.Series(t["unit_id"].astype(object).to_numpy(), index=t["treatment_id"].astype(object))
        by_treatment = by_treatment[~by_treatment.index.duplicated()]
        unit = frame["unit_id"].astype(object)
        unit = unit.where(unit.notna(), frame["treatment_id"].astype(object).map(by_treatment))
    return unit, unit.map(units.set_index("unit_id")["name"])


def _rows(reg, frame: pd.DataFrame, as_of, columns: list[str]) -> pd.DataFrame:
    """The list's rows for ``frame`` (usable implants), in unit, patient and implant order."""
    unit, name = _units(reg, frame)
    status = rights_status(reg, frame["patient_id"], as_of)
    note = pd.Series("", index=frame.index, dtype=object)
    reserved, erased = status["reserved_from"], status["erased_from"]
    note[reserved.notna()] = [CONTACT_RESERVED.format(date=f"{d:%d.%m.%Y}") for d in reserved.dropna()]
    both = erased.notna() & reserved.notna()
    note[erased.notna()] = [
        (note[i] + " " if both[i] else "") + CONTACT_ERASED.format(date=f"{d:%d.%m.%Y}")
        for i, d in erased.dropna().items()
    ]
    out = frame.assign(unit_id=unit, unit_name=name, reserved_from=reserved, erased_from=erased, contact_note=note)
    out = out.sort_values(["unit_id", "patient_id", "implanted_date", "implant_id"], kind="stable", na_position="last")
    return out[columns].reset_index(drop=True)


def _quarantined(reg, query: RecallQuery) -> pd.DataFrame:
    """The quarantined implant rows whose cells match the query (as written, with row and reason)."""
    from ..extract.parsing import parse_date

    q = reg.report.quarantine.get("implants")
    if q is None or q.empty:
        return pd.DataFrame(columns=["row", "quarantine_reason"])
    cells = q.astype("string")
    for column in ("manufacturer", "model", "lot", "serial_number", "component", "implanted_date"):
        if column not in cells:
            cells[column] = pd.Series(pd.NA, index=cells.index, dtype="string")
    keep = _matches(cells, query)
    dates, _ = parse_date(cells["implanted_date"].fillna(""))
    keep &= _in_period(dates, query, unknown=True)
    front = ["row", "quarantine_reason"]
    return q[keep.to_numpy(dtype=bool)][front + [c for c in q.columns if c not in front]].reset_index(drop=True)


def _unmatched(reg, query: RecallQuery, matched: pd.Series, quarantined: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """The notice's serial numbers (as written first) that matched no listed row, and how many distinct there are."""
    if not query.serials:
        return pd.DataFrame(columns=["serial_number", "note"]), 0
    notice = pd.Series(list(query.serials), dtype="string")
    keys = normalise(notice)
    first = pd.DataFrame({"serial_number": notice, "key": keys}).dropna().drop_duplicates("key")
    found = set(normalise(matched).dropna())
    if len(quarantined) and "serial_number" in quarantined:
        found |= set(normalise(quarantined["serial_number"]).dropna())
    missed = first[~first["key"].isin(found)]
    serials = with_erased(reg, "implants")["serial_number"]
    elsewhere = normalise(serials).isin(set(missed["key"]))
    anywhere = set(normalise(serials[elsewhere.to_numpy(dtype=bool)]).dropna())
    q = reg.report.quarantine.get("implants")
    if q is not None and "serial_number" in q:
        anywhere |= set(normalise(q["serial_number"]).dropna())
    note = np.where(
        missed["key"].isin(anywhere),
        "finnes i registeret, men med andre kjennetegn enn søket (produsent, modell, parti, komponent eller periode)",
        "finnes ikke i implantatregisteret",
    )
    return pd.DataFrame({"serial_number": missed["serial_number"].to_numpy(), "note": note}), len(first)


@reads("implants", "patients", "treatments", "units", "rights_requests")
def recall(reg, query: RecallQuery, as_of) -> RecallResult:
    """The recall list of ``query`` at ``as_of`` (module docstring) from the registry ``reg``."""
    query.check()
    if "implants" not in reg.sources:
        raise UsageError(
            "uttrekket har ikke implantatregisteret (implants.csv, .parquet eller .xlsx); "
            "uten det kan ingen tilbakekalling søkes"
        )
    as_of = pd.Timestamp(as_of).normalize()
    imp = with_erased(reg, "implants")
    hit = _matches(imp, query) & _in_period(imp["implanted_date"], query, unknown=False)
    hit &= (imp["implanted_date"] <= as_of).to_numpy(dtype=bool)
    matched = imp[hit]
    gone = (matched["explanted_date"] <= as_of).fillna(False).to_numpy(dtype=bool)
    carriers = _rows(reg, matched[~gone], as_of, ROW_COLUMNS)
    removed = _rows(reg, matched[gone], as_of, REMOVED_COLUMNS)
    quarantined = _quarantined(reg, query)
    unmatched, distinct = _unmatched(reg, query, matched["serial_number"], quarantined)
    notes = []
    if query.serials and not query.manufacturers:
        notes.append(
            "Merk: serienumrene ble søkt hos alle produsenter (ingen --manufacturer); to produsenter kan bruke "
            "samme serienummer. Sjekk produsenten i listen."
        )
    return RecallResult(query, as_of, carriers, removed, quarantined, unmatched, distinct, notes)
