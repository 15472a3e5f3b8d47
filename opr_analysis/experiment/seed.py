"""The allocation seed of an experiment, kept in the project's key store, never in the spec.

Rules:

- The seed is 64 random bits (``secrets``), drawn once, by the experiment's
  first ``opr experiment allocate``, and written to
  ``<key store>/experiment-<id>.seed`` (mode 0600, in a folder of mode 0700),
  beside the research projects' pseudonym keys: ``$OPR_KEY_DIR`` or ``keys/``
  of the checkout (git-ignored), or ``--key-dir``. One line on stderr says
  where it is and that losing it means the list can no longer be extended.
- Whoever has the spec (committed, reviewed, shared) cannot compute the next
  assignment; whoever has the key store can, as before.
- The seed is never printed or written into an output. The allocation list's
  marker records a SHA-256 of (experiment id, seed) only, so that a later run
  with a different seed (a lost or replaced key store) is refused instead of
  silently continuing a different sequence.
- An experiment started while the seed stood in the spec keeps its sequence
  when that number is written into the seed file by hand (one line, digits).

>>> import tempfile, pathlib
>>> store = pathlib.Path(tempfile.mkdtemp())
>>> seed, where = allocation_seed("kort-2025", store)  # drawn now (one line on stderr says where)
>>> allocation_seed("kort-2025", store)[0] == seed, where, oct((store / "experiment-kort-2025.seed").stat().st_mode)
(True, 'nøkkellager (experiment-kort-2025.seed)', '0o100600')
"""

from __future__ import annotations

import hashlib
import os
import secrets
import stat
import sys
import tempfile
from pathlib import Path

from ..errors import OprError

__all__ = ["allocation_seed", "seed_fingerprint", "seed_path"]


def seed_path(experiment_id: str, key_dir: str | os.PathLike | None = None) -> Path:
    """Where the seed of ``experiment_id`` is kept."""
    from ..extracts.pseudonyms import default_key_dir

    return Path(key_dir or default_key_dir()) / f"experiment-{experiment_id}.seed"


def allocation_seed(experiment_id: str, key_dir: str | os.PathLike | None = None) -> tuple[int, str]:
    """(seed, description of its source) for ``experiment_id``; drawn and stored on first use."""
    path = seed_path(experiment_id, key_dir)
    if not path.exists():
        _draw(path, experiment_id)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise OprError(f"frøfilen {path} kan leses av andre (modus {mode:o}); kjør chmod 600 på den")
    text = path.read_text(encoding="ascii", errors="replace").strip()
    if not text.isdigit() or len(text) > 30:
        raise OprError(f"frøfilen {path} skal inneholde ett ikke-negativt heltall på én linje")
    return int(text), f"nøkkellager ({path.name})"


def _draw(path: Path, experiment_id: str) -> None:
    """Write a new seed to ``path`` unless a concurrent run got there first: the seed is written whole to a
    private file and linked into place, so a reader never sees a half-written one."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(f"{secrets.randbits(64)}\n")
        os.link(tmp, path)
    except FileExistsError:  # drawn by a concurrent run: use that one
        return
    finally:
        os.unlink(tmp)
    print(
        f"Nytt randomiseringsfrø for eksperimentet «{experiment_id}» er lagret i {path}; går det tapt, "
        "kan randomiseringslisten ikke utvides (bare den som har nøkkellageret, kan regne ut neste tildeling).",
        file=sys.stderr,
    )


def seed_fingerprint(experiment_id: str, seed: int) -> str:
    """A SHA-256 that tells whether two runs used the same seed, without revealing it."""
    return hashlib.sha256(f"opr-analysis allocation seed\x00{experiment_id}\x00{seed}".encode()).hexdigest()
