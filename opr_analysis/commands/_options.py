"""Argument types with bounds, shared by the commands: every value is checked when it is parsed.

A value outside its range is refused by argparse before anything runs, with
one Norwegian line and exit status 2 (``opr synth: feil: argumentet --scale:
…``). The bounds are what the program can honour, not what looks plausible:

- numbers: finite, within a stated range (``--scale`` 0,01–200: below it the
  smallest units get no patients at all; ``--units`` 1–20 and units × scale at
  most 200, national size twice over; ``--min-cell`` 1–100, ``--years-shown``
  1–10, ``--effect`` −1–1, ``--seed`` 0–2⁶³−1);
- years: four digits within :data:`~opr_analysis.safety.limits.MIN_YEAR` –
  :data:`~opr_analysis.safety.limits.MAX_YEAR` (dates: :mod:`._dates`);
- paths: not empty, no NUL character, no name longer than the file system
  allows (a path with a NUL would otherwise fail deep inside a run);
- a unit id, used in file names (``arsrapport-2024-<unit>.html``): letters,
  digits, ``_`` and ``-`` only, so ``--unit x/../../../pwned`` cannot leave
  the output folder.

No module here imports pandas: ``opr --help`` stays fast.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

__all__ = ["bounded_float", "bounded_int", "path_arg", "unit_id", "year_arg", "MAX_PATH_CHARS"]

MAX_PATH_CHARS = 4096
MAX_NAME_BYTES = 255


def _number_text(value: float) -> str:
    return f"{value:g}".replace(".", ",") if isinstance(value, float) else str(value)


def bounded_int(low: int, high: int, what: str = "et heltall"):
    """An argparse type: an integer within [low, high]."""

    def parse(text: str) -> int:
        try:
            value = int(str(text).strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"«{text}» er ikke {what}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"«{text}» ligger utenfor {_number_text(low)}–{_number_text(high)}")
        return value

    parse.__name__ = "heltall"
    return parse


def bounded_float(low: float, high: float, low_open: bool = False):
    """An argparse type: a finite decimal number within [low, high] (``(low, high]`` with ``low_open``).

    A decimal comma is accepted (``0,5``)."""

    def parse(text: str) -> float:
        try:
            value = float(str(text).strip().replace(",", "."))
        except ValueError:
            raise argparse.ArgumentTypeError(f"«{text}» er ikke et tall (skriv for eksempel 0.5)") from None
        inside = (low < value if low_open else low <= value) and value <= high
        if not math.isfinite(value) or not inside:
            left = "over" if low_open else "fra"
            raise argparse.ArgumentTypeError(
                f"«{text}» må være et tall {left} {_number_text(low)} til og med {_number_text(high)}"
            )
        return value

    parse.__name__ = "tall"
    return parse


def year_arg(low: int | None = None, high: int | None = None):
    """An argparse type: a four-digit year within the program's range (or [low, high])."""
    from ..safety.limits import MAX_YEAR, MIN_YEAR

    return bounded_int(MIN_YEAR if low is None else low, MAX_YEAR if high is None else high, "et årstall")


def path_arg(text: str) -> Path:
    """An argparse type: a path that can name a file at all (module docstring)."""
    if not str(text).strip():
        raise argparse.ArgumentTypeError("stien er tom")
    if "\0" in text:
        raise argparse.ArgumentTypeError("stien inneholder et NUL-tegn")
    if len(text) > MAX_PATH_CHARS or any(len(part.encode("utf-8")) > MAX_NAME_BYTES for part in Path(text).parts):
        raise argparse.ArgumentTypeError("stien er for lang (et navn kan ha høyst 255 byte)")
    return Path(text)


path_arg.__name__ = "sti"


def unit_id(text: str) -> str:
    """An argparse type: a unit id that is safe in a file name (module docstring)."""
    from ..safety.limits import FILE_NAME_ID
    from ..safety.nin import mask_nin

    if not FILE_NAME_ID.match(str(text)):
        raise argparse.ArgumentTypeError(
            f"«{mask_nin(text)}» er ikke en gyldig enhets-ID (bruk 1–64 tegn: bokstavene a–z og A–Z, sifre, "
            "_ og -; den blir en del av filnavnet)"
        )
    return str(text)


unit_id.__name__ = "enhets-ID"
