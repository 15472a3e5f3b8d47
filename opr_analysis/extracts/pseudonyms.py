"""Keyed pseudonyms: HMAC-SHA256 with a secret key per project.

The master key comes from, in order: the environment variable
``OPR_EXTRACT_KEY_<PROJECT>`` (project id upper-cased, ``-`` -> ``_``), the
generic ``OPR_EXTRACT_KEY``, or the key store: ``$OPR_KEY_DIR/<project>.key``
(default ``keys/`` at the repository root, git-ignored), created with 32
random bytes and mode 0600 on the project's first delivery (one line on
stderr says where it is and that losing it changes every pseudonym of the
project). The key itself is never printed, logged or written anywhere else; a
run only states where it came from.

Whatever the source, the key used is the project's own: HMAC-SHA256 of the
project id under the master key (:func:`derive_project_key`), so two projects
under one master key (the generic ``OPR_EXTRACT_KEY``, or a key file copied
between projects) share no pseudonym. Same project + master key + extract
gives the same pseudonyms.

>>> pseudonym(b"k" * 32, "patient", "P-1")
'vcg6rrui4yhgtnf5'
>>> pseudonym(b"k" * 32, "patient", "P-1") != pseudonym(b"x" * 32, "patient", "P-1")
True
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
import stat
import sys
from pathlib import Path

import pandas as pd

from ..errors import OprError, UsageError
from ..paths import default_key_store

PSEUDONYM_CHARS = 16
MIN_ENV_KEY = 32


def env_var(project: str) -> str:
    """The project's key variable: ``OPR_EXTRACT_KEY_SOVN_2024`` for ``sovn-2024``."""
    return "OPR_EXTRACT_KEY_" + re.sub(r"[^A-Z0-9]", "_", project.upper())


def default_key_dir() -> Path:
    """``$OPR_KEY_DIR``, else ``keys/`` beside the package's source checkout
    (:func:`opr_analysis.paths.default_key_store`, the folder no command may write over)."""
    store = default_key_store()
    if store is None:
        raise UsageError("fant ikke nøkkellageret; sett OPR_KEY_DIR til en mappe bare du har tilgang til")
    return store


def project_key(project: str, key_dir: Path | None = None, create: bool = True) -> tuple[bytes, str] | None:
    """The project's secret key and a description of its source (never the key).

    ``create=False`` (finding a patient's pseudonym for an erasure notice, issue 26): None instead of
    a new key when the project has none, since a new key would give other pseudonyms."""
    found = _environment_key((env_var(project), "OPR_EXTRACT_KEY"), project)
    if found:
        return found
    folder = Path(key_dir) if key_dir else default_key_dir()
    path = folder / f"{project}.key"
    if not create and not path.exists():
        return None
    notice = (
        f"Ny nøkkel for prosjektet «{project}» er lagret i {path}; går den tapt, "
        "får hver pasient i prosjektet et nytt pseudonym."
    )
    return derive_project_key(_stored_key(path, notice), project), f"nøkkellager ({path.name})"


def _environment_key(variables, info: str) -> tuple[bytes, str] | None:
    """The key derived for ``info`` from the first of ``variables`` that is set, and its source."""
    for var in variables:
        value = os.environ.get(var)
        if value:
            if len(value) < MIN_ENV_KEY:
                raise UsageError(f"nøkkelen i {var} er for kort (minst {MIN_ENV_KEY} tegn)")
            return derive_project_key(value.encode("utf-8"), info), f"miljøvariabel {var}"
    return None


def _stored_key(path: Path, notice: str) -> bytes:
    """The master key in the key-store file ``path``, created (32 random bytes, mode 0600) with
    ``notice`` on stderr when it does not exist."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # created by a concurrent run: use it
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32) + "\n")
            print(notice, file=sys.stderr)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise OprError(f"nøkkelfilen {path} kan leses av andre (modus {mode:o}); kjør chmod 600 på den")
    key = path.read_text(encoding="ascii").strip()
    if len(key) < MIN_ENV_KEY:
        raise OprError(f"nøkkelfilen {path} er tom eller for kort")
    return key.encode("ascii")


# --- the delivery register's key (patients' rights, issue 26) ---------------------------------

#: The register key's file in the key store; a project id cannot start with "_", so no project shares it.
REGISTER_KEY_FILE = "_leveranseregister.key"
REGISTER_KEY_VAR = "OPR_REGISTER_KEY"


def register_key(key_dir: Path | None = None, create: bool = True) -> tuple[bytes, str] | None:
    """The registry-level key of the delivery register (who got which patients) and its source.

    From ``OPR_REGISTER_KEY``, else the generic ``OPR_EXTRACT_KEY``, else the key store's
    ``_leveranseregister.key`` (created on first use unless ``create`` is false; None then when it
    is missing). Whatever the source, the key used is derived from it for the register alone, so it
    shares nothing with any project's pseudonym key. Losing it makes the register unsearchable.
    """
    info = "\x00leveranseregister"  # never a project id (PROJECT_ID), so never a project's key
    found = _environment_key((REGISTER_KEY_VAR, "OPR_EXTRACT_KEY"), info)
    if found:
        return found
    path = (Path(key_dir) if key_dir else default_key_dir()) / REGISTER_KEY_FILE
    if not create and not path.exists():
        return None
    notice = (
        f"Ny nøkkel for leveranseregisteret er lagret i {path}; ta vare på den sammen med nøkkellageret. "
        "Går den tapt, kan registeret ikke lenger svare på hvilke leveranser en pasient var med i."
    )
    return derive_project_key(_stored_key(path, notice), info), f"nøkkellager ({path.name})"


def patient_hash(key: bytes, patient_id: str) -> str:
    """The delivery register's keyed hash of a patient id: HMAC-SHA256, 52 lower-case base32 characters.

    Never a project pseudonym (another key and another message) and never the id itself.

    >>> patient_hash(b"k" * 32, "P-1") == patient_hash(b"k" * 32, "P-1") != patient_hash(b"k" * 32, "P-2")
    True
    >>> len(patient_hash(b"k" * 32, "P-1"))
    52
    """
    digest = hmac.new(key, b"opr-analysis delivery register patient\x00" + str(patient_id).encode(), hashlib.sha256)
    return base64.b32encode(digest.digest()).decode("ascii").rstrip("=").lower()


def key_id(key: bytes) -> str:
    """A short, non-secret fingerprint of a key (which key hashed a register line)."""
    return base64.b32encode(hmac.new(key, b"key-id", hashlib.sha256).digest()).decode("ascii")[:8].lower()


# --- end delivery register's key ---


def derive_project_key(master: bytes, project: str) -> bytes:
    """The project's pseudonym key: HMAC-SHA256 of the project id under ``master``.

    A one-block HKDF-Expand (RFC 5869) with the project as its ``info``: keys of
    different projects are independent even when the master key is shared.

    >>> derive_project_key(b"m" * 32, "a") != derive_project_key(b"m" * 32, "b")
    True
    """
    info = b"opr-analysis pseudonym key\x00" + project.encode("utf-8") + b"\x01"
    return hmac.new(master, info, hashlib.sha256).digest()


def pseudonym(key: bytes, kind: str, value: str) -> str:
    """HMAC-SHA256 of ``kind:value`` as 16 lower-case base32 characters (80 bits).

    Base32 (letters and the digits 2–7) rather than hex, so that a pseudonym
    practically never holds a run of 11 digits that a scan for national
    identity numbers would flag.
    """
    digest = hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode("ascii")[:PSEUDONYM_CHARS].lower()


def pseudonymise(key: bytes, kind: str, values: pd.Series) -> pd.Series:
    """:func:`pseudonym` of every value (NA stays NA)."""
    cache: dict[str, str] = {}
    out = [None if pd.isna(v) else cache.setdefault(v, pseudonym(key, kind, str(v))) for v in values]
    return pd.Series(out, index=values.index, dtype="string")
