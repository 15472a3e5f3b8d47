"""The erasure notices: for every erasure request, every delivery that included the patient.

The contract: every research delivery that included an erased patient must be
found, whenever it was made, so that its recipient can be told.
:func:`erasure_notices` joins the erasure requests in force
(:func:`~opr_analysis.rights.erasure_requests`) with the delivery register
(:func:`~opr_analysis.rights.register.deliveries_of`): one row per request and
delivery, with what the registry needs to write to the recipient: project,
title, recipient, institution, time of delivery, manifest SHA-256, folder and the
patient's pseudonym in that project (the only name the recipient knows them
by; blank when the project's key is no longer in the key store).

A delivery made before the register existed has no patient list: it is listed
for every request with status ``ukjent`` (it may have held the patient; the
recipient can look for the pseudonym). Rows never hold the patient id; the
request id links them to the registry's own case.
"""

from __future__ import annotations

import pandas as pd

from .erasure import erasure_requests
from .register import STATUS, deliveries_of

NOTICE_COLUMNS = [
    "request_id", "received_date", "effective_date", "closed_date", "status", "project", "title", "recipient",
    "institution", "delivered_at", "manifest_sha256", "folder", "pseudonym",
]  # fmt: skip


def erasure_notices(reg, log_path, key_dir=None, on=None) -> pd.DataFrame:
    """One row per (erasure request, delivery that held or may have held its patient): :data:`NOTICE_COLUMNS`.

    Ordered by request (effective date, id), then time of delivery.
    """
    from ..extracts.pseudonyms import project_key, pseudonym

    requests = erasure_requests(reg, on)
    found = deliveries_of(sorted(set(requests["patient_id"])), log_path, key_dir)
    if requests.empty or found.empty:
        return pd.DataFrame(columns=NOTICE_COLUMNS, dtype=object)
    rows = requests.merge(found, on="patient_id", how="inner")
    keys = {p: project_key(p, key_dir, create=False) for p in rows["project"].unique()}
    rows["pseudonym"] = [
        pseudonym(keys[proj][0], "patient", pid) if keys.get(proj) else ""
        for proj, pid in zip(rows["project"], rows["patient_id"], strict=True)
    ]
    for col in ("received_date", "effective_date", "closed_date"):
        rows[col] = pd.to_datetime(rows[col]).dt.strftime("%Y-%m-%d").fillna("")
    return rows.sort_values(["effective_date", "request_id", "delivered_at"], kind="stable")[
        NOTICE_COLUMNS
    ].reset_index(drop=True)


def notices_readme(notices: pd.DataFrame, requests: int, made: str) -> str:
    """README.md of the notices folder: what the list is for, its counts (never ids) and the columns."""
    known = notices[notices["status"] == "med"]
    unknown = notices[notices["status"] == "ukjent"]
    lines = [
        "# Slettekrav og leveranser som må varsles",
        "",
        f"Laget {made} av `opr sletting`. Listen er til registerets eget bruk: den sier hvilke mottakere av "
        "forskningsuttrekk som må få beskjed om å slette opplysninger om pasienter som har krevd sletting "
        "(personvernforordningen art. 17 og 19).",
        "",
        f"- Slettekrav som gjelder: {requests}",
        f"- Leveranser som inneholdt en pasient med slettekrav: {known['manifest_sha256'].nunique()} "
        f"({len(known)} krav–leveranse-par)",
        f"- Leveranser uten pasientliste (fra før leveranseregisteret; kan ha inneholdt pasienten): "
        f"{unknown['manifest_sha256'].nunique()}",
        "",
        "`sletting.csv` har én rad per slettekrav og leveranse:",
        "",
        "| kolonne | betydning |",
        "|---|---|",
        "| `request_id` | kravet i `rights_requests` (saken i registeret) |",
        "| `received_date`, `effective_date`, `closed_date` | mottatt, gjelder fra, besvart/utført |",
        f"| `status` | `med`: {STATUS['med']}; `ukjent`: {STATUS['ukjent']} |",
        "| `project`, `title`, `recipient`, `institution` | prosjektet og mottakeren som skal varsles |",
        "| `delivered_at`, `manifest_sha256`, `folder` | leveransen (tidspunkt, manifestets SHA-256, mappen) |",
        "| `pseudonym` | pasientens pseudonym i prosjektet, det eneste mottakeren kjenner pasienten ved "
        "(blank når prosjektets nøkkel ikke finnes i nøkkellageret) |",
        "",
        "Be mottakeren slette radene med pseudonymet i alle filer fra leveransen og bekrefte det skriftlig. "
        "For leveranser med status `ukjent` kan mottakeren lete etter pseudonymet; finnes det ikke, var "
        "pasienten ikke med.",
        "",
    ]
    return "\n".join(lines)
