"""The delivery register: which research deliveries held which patients («who got my data»).

GDPR art. 15(1)(c) gives a patient the right to know the recipients of their
data, and an erasure must reach every delivery that held them, whenever it was
made. The delivery log (``delivery-log.csv``, :mod:`opr_analysis.extracts.delivery`)
says what was delivered to whom, not who was in it; the register adds that,
without keeping the delivered files and without a readable id.

Files (beside the delivery log, so wherever ``--log`` puts it; never inside a
folder a run replaces):

``delivery-register.csv``
    one line per delivery: :data:`REGISTER_FIELDS` (time, project, title,
    purpose, recipient, institution, patients, manifest SHA-256, folder, whether
    the patients were registered, the key's fingerprint, where the line came from).
``delivery-register-patients.csv``
    one line per patient and delivery: the manifest SHA-256 and the patient's
    keyed hash: HMAC-SHA256 of the patient id under the registry-level key of
    the key store (:func:`opr_analysis.extracts.pseudonyms.register_key`), never
    a project pseudonym and never the plain id. Two deliveries with byte-identical
    manifests hold the same patients; their hashes are written once.

Both are append-only: lines are added under the register's lock
(:func:`opr_analysis.safety.owned.output_lock`), never rewritten; a file whose first
line is not the register's header is refused.

Migration of the delivery log
-----------------------------
Deliveries made before the register existed are only in the log. On every use
(:func:`sync_register`) each log line that has no register line (matched by
time, project and manifest) is added, with ``patient_hashes = nei`` and
``source = delivery-log.csv linje N``; the log itself is never changed, so no
line is lost. Such a delivery may or may not have held a patient: outputs say
so («ukjent») instead of leaving it out.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from ..errors import UsageError

REGISTER_NAME = "delivery-register.csv"
PATIENTS_NAME = "delivery-register-patients.csv"
REGISTER_FIELDS = (
    "delivered_at", "project", "title", "purpose", "recipient", "institution", "patients", "manifest_sha256",
    "folder", "patient_hashes", "key_id", "source",
)  # fmt: skip
PATIENT_FIELDS = ("manifest_sha256", "patient_hash")
YES, NO = "ja", "nei"
#: What a delivery's status for one patient can be (outputs say «ukjent» for deliveries without hashes).
STATUS = {"med": "var med i leveransen", "ukjent": "ukjent: leveransen er fra før leveranseregisteret"}


def register_paths(log_path) -> tuple[Path, Path]:
    """The register's two files beside the delivery log ``log_path``."""
    log_path = Path(log_path)
    return log_path.with_name(REGISTER_NAME), log_path.with_name(PATIENTS_NAME)


def check_register(log_path) -> None:
    """Refuse register files that are not the register's (they would be appended to)."""
    for path, fields in zip(register_paths(log_path), (REGISTER_FIELDS, PATIENT_FIELDS), strict=True):
        if path.is_dir():
            raise UsageError(f"«{path}» er en mappe; leveranseregisteret må være en fil")
        if path.is_file() and path.stat().st_size:
            with open(path, encoding="utf-8", errors="replace") as fh:
                first = fh.readline().rstrip("\r\n")
            if first != ",".join(fields):
                raise UsageError(
                    f"«{path}» er ikke opr sitt leveranseregister (første linje er en annen); opr legger ikke til i den"
                )


def delivery_entry(spec, counts: dict, manifest_sha: str, folder, when: str) -> dict:
    """The register line of a delivery made from ``spec`` (patient_hashes and key_id are set when recorded)."""
    recipient = spec.recipient or {}
    return {
        "delivered_at": when,
        "project": spec.project,
        "title": spec.title,
        "purpose": getattr(spec, "purpose", "") or spec.research_question,
        "recipient": " ".join(str(recipient.get("name") or "").split()),
        "institution": " ".join(str(recipient.get("institution") or "").split()),
        "patients": counts["patients"],
        "manifest_sha256": manifest_sha,
        "folder": str(folder),
        "source": "opr extract",
    }


def _append(path: Path, fields, rows) -> None:
    if not rows:  # a look-up that finds nothing to add writes nothing
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        if fh.tell() == 0:
            w.writerow(fields)
        w.writerows(rows)


def _read(path: Path, fields) -> pd.DataFrame:
    if not path.is_file() or not path.stat().st_size:
        return pd.DataFrame(columns=list(fields), dtype=object)
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")


def record_delivery(log_path, entry: dict, patient_ids, key_dir=None) -> None:
    """Add one delivery and the keyed hashes of its patients, under the register's lock."""
    from ..extracts.pseudonyms import key_id, patient_hash, register_key
    from ..safety.owned import output_lock

    key, _ = register_key(key_dir)
    register, patients = register_paths(log_path)
    check_register(log_path)
    hashes = sorted({patient_hash(key, str(p)) for p in patient_ids})
    line = {**entry, "patient_hashes": YES, "key_id": key_id(key)}
    with output_lock(register):
        _sync(log_path)
        have = _read(register, REGISTER_FIELDS)
        same = (have["manifest_sha256"] == entry["manifest_sha256"]) & (have["patient_hashes"] == YES)
        if not (same & (have["key_id"] == line["key_id"])).any():  # an identical manifest holds the same patients
            _append(patients, PATIENT_FIELDS, [(entry["manifest_sha256"], h) for h in hashes])
        _append(register, REGISTER_FIELDS, [[line[f] for f in REGISTER_FIELDS]])


def sync_register(log_path) -> int:
    """Add every delivery-log line the register lacks (module docstring); returns how many were added."""
    from ..safety.owned import output_lock

    check_register(log_path)
    with output_lock(register_paths(log_path)[0]):
        return _sync(log_path)


def _sync(log_path) -> int:
    """:func:`sync_register` with the register's lock held."""
    from ..extracts.log_format import LOG_FIELDS

    log_path = Path(log_path)
    log = _read(log_path, LOG_FIELDS)
    if log.empty:
        return 0
    register = register_paths(log_path)[0]
    have = _read(register, REGISTER_FIELDS)
    seen = set(zip(have["delivered_at"], have["project"], have["manifest_sha256"], strict=True))
    rows = []
    for number, line in enumerate(log.itertuples(index=False), start=2):  # line 1 is the header
        if (line.delivered_at, line.project, line.manifest_sha256) in seen:
            continue
        rows.append(
            {
                "delivered_at": line.delivered_at,
                "project": line.project,
                "patients": line.patients,
                "manifest_sha256": line.manifest_sha256,
                "folder": line.folder,
                "patient_hashes": NO,
                "source": f"{log_path.name} linje {number}",
            }
        )
    _append(register, REGISTER_FIELDS, [[r.get(f, "") for f in REGISTER_FIELDS] for r in rows])
    return len(rows)


def read_register(log_path) -> pd.DataFrame:
    """Every delivery, the log's earlier ones included (synced first), oldest first."""
    sync_register(log_path)
    return _read(register_paths(log_path)[0], REGISTER_FIELDS)


def deliveries_of(patient_ids, log_path, key_dir=None) -> pd.DataFrame:
    """For each patient id, every delivery that held them, and every delivery that may have.

    One row per (patient_id, delivery): the register's columns plus ``status`` (:data:`STATUS`):
    ``med`` where the patient's keyed hash is in the delivery's list, ``ukjent`` for a delivery
    without a list (made before the register, or hashed with another key). A patient in no
    delivery has no ``med`` row. Holds patient ids: for the registry's own use, never published.
    """
    from ..extracts.pseudonyms import key_id, patient_hash, register_key

    columns = ["patient_id", "status", *REGISTER_FIELDS]
    register = read_register(log_path)
    ids = [str(p) for p in patient_ids]
    if register.empty or not ids:
        return pd.DataFrame(columns=columns, dtype=object)
    found = register_key(key_dir, create=False)
    fingerprint = key_id(found[0]) if found else None
    by_hash = {patient_hash(found[0], p): p for p in ids} if found else {}
    holders: dict[str, set[str]] = {}
    patients_file = register_paths(log_path)[1]
    if by_hash and patients_file.is_file():
        with open(patients_file, encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):  # streamed: the file grows with every delivery
                pid = by_hash.get(row["patient_hash"])
                if pid is not None:
                    holders.setdefault(row["manifest_sha256"], set()).add(pid)
    rows = []
    for line in register.to_dict("records"):
        searchable = line["patient_hashes"] == YES and line["key_id"] == fingerprint
        for pid in ids:
            if not searchable:
                rows.append({"patient_id": pid, "status": "ukjent", **line})
            elif pid in holders.get(line["manifest_sha256"], ()):
                rows.append({"patient_id": pid, "status": "med", **line})
    return pd.DataFrame(rows, columns=columns)
