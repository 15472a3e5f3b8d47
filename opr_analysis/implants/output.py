"""Writing the recall list for the clinic: CSV and a workbook, only where a list of patients may go.

The folder (``--out``) holds

==============================  ===============================================================
``tilbakekalling.xlsx``         the list for the clinic: a cover sheet (the search, the as-of
                                date, the counts, what to do with reserved and erased
                                patients), then «Bærere», «Fjernet», «Karantene» and, when
                                serial numbers were searched, «Serienumre uten treff»;
                                Norwegian headings and labels, dates as dates
``baerere.csv``                 carriers (codebook column names and codes, ISO dates)
``fjernet.csv``                 matching components already removed, with date and reason
``karantene.csv``               quarantined rows that match, as written, with the reason
``serienumre-uten-treff.csv``   the notice's serial numbers that matched nothing (with serials)
``sok.txt``                     the search and the counts, as the command printed them
==============================  ===============================================================

Rules: the list holds patient ids by design, so it is written only into a folder this command
owns (:func:`~opr_analysis.safety.owned.owned_dir`: a new or empty folder, or its own earlier
list), never inside another opr output (a report, tables, a research delivery: a folder any of
whose parents carries opr's marker), never into or inside the extract folder; it is scanned for
identity numbers like every output before it is moved into place, and the folder is readable by
its owner only (0700).
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from ..extract import codebook
from .recall import RecallResult

__all__ = ["COMMAND", "FILES", "check_target", "write_recall", "HEADINGS"]

COMMAND = "implantat søk"
FILES = {
    "carriers": "baerere.csv",
    "removed": "fjernet.csv",
    "quarantined": "karantene.csv",
    "unmatched": "serienumre-uten-treff.csv",
    "workbook": "tilbakekalling.xlsx",
    "summary": "sok.txt",
}
#: Workbook headings of the columns that are not the implant table's own (those use the codebook's labels).
HEADINGS = {
    "unit_name": "Enhet",
    "reserved_from": "Reservert fra",
    "erased_from": "Krevd sletting fra",
    "contact_note": "Merknad",
    "row": "Rad i implants-filen",
    "quarantine_reason": "Årsak til karantene",
    "note": "Merknad",
}
CONTACT_TEXT = (
    "Alle pasientene i «Bærere» skal kontaktes, også de som har reservert seg mot spørreskjema eller krevd "
    "sletting: kontakten gjelder pasientsikkerhet, ikke registerets bruk av opplysningene."
)


def heading(column: str) -> str:
    """The Norwegian heading of a list column.

    >>> heading("serial_number"), heading("contact_note")
    ('Serienummer', 'Merknad')
    """
    cols = codebook.load().tables["implants"].columns
    return HEADINGS.get(column) or (cols[column].label if column in cols else column)


def check_target(out, extract) -> None:
    """:class:`UsageError` unless the list may be written to ``out`` (module docstring); call before any work."""
    from ..safety.owned import check_dir_target, check_not_inside_outputs, protected_folders

    protect = protected_folders([extract])
    check_not_inside_outputs(out, COMMAND, [("uttrekksmappen", Path(extract))])
    check_dir_target(out, COMMAND, protect)


def _labelled(frame: pd.DataFrame) -> pd.DataFrame:
    """Codes as their Norwegian labels, for the workbook."""
    cb = codebook.load()
    out = frame.copy()
    for column in ("component", "explant_reason"):
        if column in out:
            codes = cb.column("implants", column).codes
            out[column] = out[column].astype(object).map(lambda v, codes=codes: codes.get(str(v).strip(), v))
    return out


def _csv(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, index=False, encoding="utf-8", na_rep="", date_format="%Y-%m-%d")


def _sheet(wb, title: str, frame: pd.DataFrame) -> None:
    """One list as a sheet of a write-only workbook (fast for national-size lists): bold wrapped
    headings, dates as dates (DD.MM.YYYY), frozen heading row and a filter."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(title)
    for j, column in enumerate(frame.columns, start=1):
        wide = column in ("contact_note", "quarantine_reason", "note")
        ws.column_dimensions[get_column_letter(j)].width = 60 if wide else 18
    ws.freeze_panes = "A2"
    if len(frame):
        ws.auto_filter.ref = f"A1:{get_column_letter(len(frame.columns))}{len(frame) + 1}"
    head = []
    for column in frame.columns:
        cell = WriteOnlyCell(ws, value=heading(column))
        cell.font, cell.alignment = Font(bold=True), Alignment(wrap_text=True, vertical="top")
        head.append(cell)
    ws.append(head)
    dates = [column.endswith(("_date", "_from")) for column in frame.columns]
    for row in frame.itertuples(index=False):
        values = []
        for v, is_date in zip(row, dates, strict=True):
            if pd.isna(v):
                values.append(None)
            elif is_date and isinstance(v, pd.Timestamp):
                cell = WriteOnlyCell(ws, value=v.to_pydatetime())
                cell.number_format = "DD.MM.YYYY"
                values.append(cell)
            else:
                values.append(v)
        ws.append(values)


def _workbook(result: RecallResult, lines: list[str], path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    cover = wb.create_sheet("Les meg")
    cover.column_dimensions["A"].width = 30
    cover.column_dimensions["B"].width = 40
    title = WriteOnlyCell(cover, value="Tilbakekalling av implantater: pasienter som har komponenten")
    title.font = Font(bold=True, size=13)
    day = WriteOnlyCell(cover, value=result.as_of.to_pydatetime())
    day.number_format = "DD.MM.YYYY"
    cover.append([title])
    cover.append([])
    cover.append(["Per dato", day])
    for what, value in result.query.describe():
        cover.append([what, value])
    cover.append([])
    for line in [*lines, "", CONTACT_TEXT]:
        cover.append([line])
    _sheet(wb, "Bærere", _labelled(result.carriers))
    _sheet(wb, "Fjernet", _labelled(result.removed))
    _sheet(wb, "Karantene", result.quarantined)
    if result.query.serials:
        _sheet(wb, "Serienumre uten treff", result.unmatched)
    wb.properties.creator = "OUS smerteregister (opr implantat søk)"
    buf = io.BytesIO()
    wb.save(buf)
    path.write_bytes(buf.getvalue())


def write_recall(result: RecallResult, out, extract) -> list[Path]:
    """Write the list into the folder ``out`` (module docstring); returns the files written."""
    from ..safety.owned import owned_dir, protected_folders
    from ..safety.privacy import scan_outputs

    out = Path(out)
    check_target(out, extract)
    lines = result.summary_lines()

    def finish(tmp: Path) -> None:
        scan_outputs(tmp)  # identity numbers; the patient ids are the list's purpose
        tmp.chmod(0o700)
        for p in tmp.iterdir():
            p.chmod(0o600)

    with owned_dir(out, COMMAND, check=finish, protect=protected_folders([extract])) as tmp:
        _csv(result.carriers, tmp / FILES["carriers"])
        _csv(result.removed, tmp / FILES["removed"])
        _csv(result.quarantined, tmp / FILES["quarantined"])
        if result.query.serials:
            _csv(result.unmatched, tmp / FILES["unmatched"])
        _workbook(result, lines, tmp / FILES["workbook"])
        described = [f"{what}: {value}" for what, value in result.query.describe()]
        text = [f"opr {COMMAND}, per {result.as_of:%d.%m.%Y}", *described, "", *lines, "", CONTACT_TEXT]
        (tmp / FILES["summary"]).write_text("\n".join(text) + "\n", encoding="utf-8")
    return sorted(p for p in out.iterdir() if not p.name.startswith("."))
