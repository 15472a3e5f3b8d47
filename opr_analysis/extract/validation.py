"""The validation report: what was read, used and quarantined, and why.

Messages are in Norwegian for the registry's staff; each names the file, the
row (1-based data row, header not counted), the column and the value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

SHOWN_CHARS = 200  # a longer value (a megabyte cell) is shortened in messages; the quarantine row keeps it whole


def _shown(value: str) -> str:
    value = str(value)
    return value if len(value) <= SHOWN_CHARS else f"{value[:60]}… ({len(value):,} tegn)".replace(",", " ")


# Optional tables of contract v1.1 that the per-table counts (and so the report) leave out when the
# extract does not have them, so that a v1 extract's report is unchanged (issue 18: allocations).
QUIET_WHEN_ABSENT = {"allocations"}


@dataclass(frozen=True)
class Problem:
    """One unusable cell or row."""

    table: str
    file: str
    row: int
    column: str
    value: str
    reason: str

    @property
    def quarantine_reason(self) -> str:
        """Column, value and what is wrong, as written to the quarantine file."""
        if self.column:
            return f"kolonne «{self.column}», verdi «{_shown(self.value)}»: {self.reason}"
        return self.reason

    def __str__(self) -> str:
        return f"{self.file}, rad {self.row}: {self.quarantine_reason}"


@dataclass
class TableSummary:
    """Row counts of one table; read = used + quarantined + erased always holds.

    ``rows_erased`` (contract v1.2, issue 26): rows of patients erased at their own request, left
    out of the table and of the quarantine (:func:`opr_analysis.rights.without_erased`).
    """

    table: str
    file: str | None
    rows_read: int = 0
    rows_used: int = 0
    rows_quarantined: int = 0
    notes: list[str] = field(default_factory=list)
    rows_erased: int = 0

    def as_dict(self) -> dict:
        out = {
            "table": self.table,
            "file": self.file,
            "rows_read": self.rows_read,
            "rows_used": self.rows_used,
            "rows_quarantined": self.rows_quarantined,
        }
        if self.rows_erased:
            out["rows_erased"] = self.rows_erased
        return out


@dataclass
class ValidationReport:
    """Per-table counts, every problem found, and the quarantined rows."""

    summaries: dict[str, TableSummary] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    quarantine: dict[str, pd.DataFrame] = field(default_factory=dict)
    #: The erasure applied after validation (:class:`opr_analysis.rights.Erasure`), None when none was.
    erasure: object = None

    @property
    def rows_read(self) -> int:
        """Rows read over all tables."""
        return sum(s.rows_read for s in self.summaries.values())

    @property
    def rows_used(self) -> int:
        """Rows used over all tables."""
        return sum(s.rows_used for s in self.summaries.values())

    @property
    def rows_quarantined(self) -> int:
        """Rows quarantined over all tables."""
        return sum(s.rows_quarantined for s in self.summaries.values())

    @property
    def rows_erased(self) -> int:
        """Rows of erased patients over all tables (contract v1.2)."""
        return sum(s.rows_erased for s in self.summaries.values())

    def counts(self) -> pd.DataFrame:
        """One row per table: file, rows read, used and quarantined (an absent table of
        :data:`QUIET_WHEN_ABSENT` has no row); ``rows_erased`` too when patients were erased."""
        shown = [s for s in self.summaries.values() if not (s.file is None and s.table in QUIET_WHEN_ABSENT)]
        frame = pd.DataFrame([s.as_dict() for s in shown])
        if "rows_erased" in frame:
            frame["rows_erased"] = frame["rows_erased"].fillna(0).astype("int64")
        return frame

    def summary_text(self, max_problems: int = 20) -> str:
        """The per-table summary a registry clerk reads after a run."""
        erased = self.rows_erased > 0
        lines = [
            f"{'Tabell':<20} {'Fil':<26} {'Lest':>9} {'Brukt':>9} {'Karantene':>10}"
            + (f" {'Slettet':>9}" if erased else "")
        ]
        for s in self.summaries.values():
            if s.file is None:
                lines.append(f"{s.table:<20} {'(finnes ikke, valgfri)':<26}")
                continue
            line = f"{s.table:<20} {s.file:<26} {s.rows_read:>9,} {s.rows_used:>9,} {s.rows_quarantined:>10,}"
            if erased:
                line += f" {s.rows_erased:>9,}"
            lines.append(line.replace(",", " "))
        if self.erasure is not None:
            lines.append(self.erasure.summary_line())
        for s in self.summaries.values():
            lines.extend(f"Merk: {s.file}: {note}" for note in s.notes)
        if self.problems:
            lines.append("")
            lines.append(f"Problemer ({len(self.problems)}):")
            lines.extend(f"  {p}" for p in self.problems[:max_problems])
            if len(self.problems) > max_problems:
                lines.append(f"  … og {len(self.problems) - max_problems} til (se karantenefilene)")
        return "\n".join(lines)

    def write_quarantine(self, folder: Path, extract: Path | None = None, hide_identifiers: bool = False) -> list[Path]:
        """Write ``<table>.csv`` for each table with quarantined rows, atomically.

        The folder is replaced as a whole, so no quarantine file from an
        earlier run is left behind to be mistaken for this run's; and only if
        ``opr validate`` wrote it (:mod:`opr_analysis.safety.owned`), never the
        ``extract`` folder or one above it. With ``hide_identifiers`` (the report's
        copy) every identifier is shown as «(skjult)» (:func:`without_identifiers`).
        """
        # Imported here: only a run that writes a quarantine needs them (every command loads an extract).
        from ..safety.owned import owned_dir, protected_folders
        from ..safety.privacy import scan_outputs

        folder = Path(folder)
        written = []
        # scanned for identity numbers before it is moved into place
        with owned_dir(folder, "validate", check=scan_outputs, protect=protected_folders([extract])) as tmp:
            for table, frame in self.quarantine.items():
                if len(frame):
                    frame = without_identifiers(table, frame) if hide_identifiers else frame
                    frame.to_csv(tmp / f"{table}.csv", index=False, encoding="utf-8")
                    written.append(folder / f"{table}.csv")
        return written


# --- issue 27: the report's copy of the quarantine holds no identifier ---
HIDDEN = "(skjult)"


def without_identifiers(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    """The quarantined rows of ``table`` with every identifier shown as «(skjult)»: the id columns and the
    columns the codebook classes as direct identifiers (an implant's serial number and lot), in their cells
    and where the reason quotes them. The row number and the reason stay, so the staff can find the row;
    ``opr validate --quarantine`` writes the rows whole."""
    from . import codebook

    spec = codebook.load().tables.get(table)
    columns = [c for c, col in spec.columns.items() if col.direct_identifier and c in frame] if spec else []
    out = frame.copy()
    reasons = out["quarantine_reason"].astype(str).tolist()
    for column in columns:
        values = out[column].astype("string").fillna("")
        reasons = [
            r.replace(f"«{_shown(v)}»", f"«{HIDDEN}»") if v else r
            for r, v in zip(reasons, values.tolist(), strict=True)
        ]
        out[column] = values.where(values == "", HIDDEN)
    out["quarantine_reason"] = reasons
    return out
