"""A tiny valid registry extract for tests, written in any format the contract allows.

``make_extract(tmp_path, **overrides)`` writes every table of :data:`BASE` (each a
list of row dicts of text cells) into ``tmp_path / "extract"``. Override a table
by passing its rows (``referrals=[...]``), drop one with ``drop=("legacy_v1",)``,
and choose the file format, separator and encoding.

Examples
--------
>>> folder = make_extract(tmp_path, referrals=rows("referrals") + [{...}])   # doctest: +SKIP
"""

from __future__ import annotations

import copy
import csv
import io
from pathlib import Path

import pandas as pd

# Four patients, every required table with a few valid rows, and the optional legacy_v1.
BASE: dict[str, list[dict[str, str]]] = {
    "patients": [
        {
            "patient_id": "P001",
            "birth_year": "1960",
            "sex": "K",
            "interpreter_needed": "nei",
            "cognitive_impairment": "nei",
            "research_participant": "nei",
            "reserved_date": "",
        },
        {
            "patient_id": "P002",
            "birth_year": "1975",
            "sex": "M",
            "interpreter_needed": "false",
            "cognitive_impairment": "0",
            "research_participant": "FALSE",
            "reserved_date": "",
        },
        {
            "patient_id": "P003",
            "birth_year": "1990",
            "sex": "K",
            "interpreter_needed": "Ja",
            "cognitive_impairment": "nei",
            "research_participant": "nei",
            "reserved_date": "2024-03-01",
        },
        {
            "patient_id": "P004",
            "birth_year": "2001",
            "sex": "M",
            "interpreter_needed": "",
            "cognitive_impairment": "",
            "research_participant": "",
            "reserved_date": "",
        },
    ],
    "referrals": [
        {
            "referral_id": "R01",
            "patient_id": "P001",
            "assessed_date": "2022-01-10",
            "decision": "rett",
            "region": "lokal",
        },
        {
            "referral_id": "R02",
            "patient_id": "P002",
            "assessed_date": "2022-02-11",
            "decision": "rett",
            "region": "regional",
        },
        {
            "referral_id": "R03",
            "patient_id": "X999",
            "assessed_date": "2022-03-12",
            "decision": "avvist",
            "region": "nasjonal",
        },
        {"referral_id": "R04", "patient_id": "P003", "assessed_date": "2023-04-13", "decision": "rett", "region": ""},
        {
            "referral_id": "R05",
            "patient_id": "P004",
            "assessed_date": "2023-05-14",
            "decision": "videresendt",
            "region": "annet",
        },
    ],
    "enrolments": [
        {
            "enrolment_id": "E01",
            "patient_id": "P001",
            "granted_date": "2022-01-20",
            "first_consultation_date": "2022-02-01",
            "closed_date": "2022-06-30",
            "dips_closed_date": "2022-06-30",
        },
        {
            "enrolment_id": "E02",
            "patient_id": "P002",
            "granted_date": "2022-02-20",
            "first_consultation_date": "2022-03-01",
            "closed_date": "",
            "dips_closed_date": "",
        },
        {
            "enrolment_id": "E03",
            "patient_id": "P003",
            "granted_date": "2023-04-20",
            "first_consultation_date": "",
            "closed_date": "",
            "dips_closed_date": "",
        },
    ],
    "baseline_responses": [
        {"response_id": "B01", "patient_id": "P001", "submitted_at": "2022-01-25T10:15:00", "duration_ms": "1200000"},
        {"response_id": "B02", "patient_id": "P002", "submitted_at": "2022-02-25 08:00:30", "duration_ms": "900000"},
        {"response_id": "B03", "patient_id": "P003", "submitted_at": "2023-04-25T12:00:00+02:00", "duration_ms": "0"},
    ],
    "short_forms": [
        {"short_form_id": "S01", "patient_id": "P002", "date": "2022-03-01", "reason": "glemt"},
        {"short_form_id": "S02", "patient_id": "P004", "date": "2023-06-01", "reason": ""},
    ],
    "treatments": [
        {"treatment_id": "T01", "patient_id": "P001", "kind": "rf", "date": "2022-03-15"},
        {"treatment_id": "T02", "patient_id": "P002", "kind": "scs", "date": "2022-04-15"},
    ],
    "followups": [
        {
            "followup_id": "F01",
            "patient_id": "P001",
            "kind": "rf_3m",
            "anchor_id": "T01",
            "sent_date": "2022-06-15",
            "responded_at": "2022-06-20T09:00:00",
        },
        {
            "followup_id": "F02",
            "patient_id": "P002",
            "kind": "scs_6m",
            "anchor_id": "T02",
            "sent_date": "2022-10-15",
            "responded_at": "",
        },
        {
            "followup_id": "F03",
            "patient_id": "P001",
            "kind": "avsluttet_12m",
            "anchor_id": "E01",
            "sent_date": "2023-06-30",
            "responded_at": "",
        },
    ],
    "legacy_v1": [
        {"year": "2019", "baseline_responses": "410", "new_patients": "980"},
        {"year": "2020", "baseline_responses": "380", "new_patients": ""},
    ],
}


def rows(table: str) -> list[dict[str, str]]:
    """A fresh copy of the base rows of ``table`` (safe to modify)."""
    return copy.deepcopy(BASE[table])


def csv_bytes(
    records: list[dict[str, str]], sep: str = ",", encoding: str = "utf-8", header: list[str] | None = None
) -> bytes:
    """Rows as CSV bytes (``encoding="utf-8-sig"`` writes a BOM)."""
    header = header or list(records[0])
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, delimiter=sep, lineterminator="\r\n")  # quotes any \r or \n in a cell
    writer.writerow(header)
    for r in records:
        writer.writerow([r.get(c, "") for c in header])
    return buf.getvalue().encode(encoding)


def write_table(
    folder: Path,
    table: str,
    records,
    fmt: str = "csv",
    sep: str = ",",
    encoding: str = "utf-8",
    header: list[str] | None = None,
) -> Path:
    """Write one table's rows (list of dicts or DataFrame) as ``<table>.<fmt>``."""
    folder.mkdir(parents=True, exist_ok=True)
    if isinstance(records, pd.DataFrame):
        frame = records
    else:
        frame = pd.DataFrame(records, columns=header or (list(records[0]) if records else None), dtype="string")
    path = folder / f"{table}.{fmt}"
    if fmt == "csv":
        if isinstance(records, pd.DataFrame):
            path.write_text(frame.to_csv(index=False, sep=sep), encoding=encoding)
        else:
            hdr = header or (list(records[0]) if records else [])
            path.write_bytes(
                csv_bytes(records, sep, encoding, hdr) if records else (sep.join(hdr) + "\n").encode(encoding)
            )
    elif fmt == "parquet":
        frame.to_parquet(path, index=False)
    elif fmt == "xlsx":
        frame.to_excel(path, index=False, sheet_name="data")
    else:
        raise ValueError(fmt)
    return path


def make_extract(
    tmp_path: Path,
    fmt: str = "csv",
    sep: str = ",",
    encoding: str = "utf-8",
    drop: tuple[str, ...] = (),
    name: str = "extract",
    **overrides,
) -> Path:
    """Write the base extract (with ``overrides`` per table) and return its folder."""
    folder = Path(tmp_path) / name
    folder.mkdir(parents=True, exist_ok=True)
    for table in BASE:
        if table in drop:
            continue
        records = overrides.get(table, rows(table))
        write_table(
            folder,
            table,
            records,
            fmt=fmt,
            sep=sep,
            encoding=encoding,
            header=list(BASE[table][0]) if not isinstance(records, pd.DataFrame) and not records else None,
        )
    return folder
