"""How a device's text (manufacturer, model, serial number, lot) is compared: one rule everywhere.

Rule: two texts match when they are equal after

1. Unicode NFKC normalisation: full-width letters and digits (``ＡＢ１２``), ligatures and
   compatibility characters become their plain forms, and a no-break space becomes a space
   (a notice copied from a PDF or a web page often carries them);
2. removing invisible format characters (zero-width space and joiners, soft hyphen, byte-order
   mark: Unicode category Cf), which a copy from a PDF leaves inside a value;
3. trimming surrounding whitespace;
4. Unicode case folding (``str.casefold``: ``ß`` folds to ``ss``, ``İ`` and ``I`` both to ``i``).

Nothing else: inner spaces, hyphens, leading zeros and look-alike letters (``O``/``0``) are kept,
so ``NKA 123`` and ``NKA123`` are different serial numbers. A recall must never silently add or
drop a patient, so there is no fuzzy matching; a serial number of a notice that matches nobody is
reported instead, for the clinic to check for a typo.

>>> normalise_text("  ＮＫＡ１２３\\u200b ")
'nka123'
>>> normalise_text("Straße") == normalise_text("STRASSE")
True
>>> normalise_text("NKA 123") == normalise_text("NKA123")
False
"""

from __future__ import annotations

import unicodedata

__all__ = ["MAX_TEXT_CHARS", "normalise_text", "normalise", "device_key", "text_problem"]

#: The longest manufacturer, model, lot or serial number a search accepts (labels are far shorter).
MAX_TEXT_CHARS = 200

# The separator of the (manufacturer, serial) key: a control character no normalised text holds.
_SEP = "\x1f"


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be a manufacturer, model, lot or serial number to search for (None: it can).

    >>> text_problem("NSM123"), text_problem("  "), text_problem("a\\x00b")
    (None, 'er blank', 'inneholder et kontrolltegn')
    """
    if normalise_text(value) is None:
        return "er blank"
    if any(unicodedata.category(ch) == "Cc" for ch in value.strip()):
        return "inneholder et kontrolltegn"
    if len(value) > MAX_TEXT_CHARS:
        return f"er lengre enn {MAX_TEXT_CHARS} tegn"
    return None


def normalise_text(value: str | None) -> str | None:
    """One text under the matching rule (module docstring); None and blanks give None."""
    if value is None or (not isinstance(value, str) and _missing(value)):
        return None
    text = unicodedata.normalize("NFKC", str(value))
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    text = text.strip().casefold()
    return text or None


def _missing(value) -> bool:
    """NaN or pandas' NA (without importing pandas: this module is read when the command line starts)."""
    try:
        return bool(value != value)
    except TypeError:  # pd.NA: its comparisons are NA, which has no truth value
        return True


def normalise(values):
    """:func:`normalise_text` of every value (index kept; blanks missing).

    Printable ASCII (nearly every serial number) is trimmed of spaces and lower-cased in Arrow, which
    is what the rule does to it; any other value goes through :func:`normalise_text`, once per distinct value.
    """
    import pandas as pd

    text = values.astype("string[pyarrow]")
    plain = text.str.fullmatch(r"[\x20-\x7e]*").fillna(True).to_numpy(dtype=bool)
    out = text.str.strip(" ").str.lower()
    if not plain.all():
        other = text[~plain]
        mapping = {u: normalise_text(u) for u in pd.unique(other.dropna())}
        out[~plain] = other.map(mapping, na_action="ignore").astype("string[pyarrow]")
    return out.mask(out == "").astype("string[pyarrow]")


def device_key(manufacturer, serial):
    """The key that names one device: normalised manufacturer and serial number (missing if either is)."""
    key = normalise(manufacturer) + _SEP + normalise(serial)
    return key.astype("string")
