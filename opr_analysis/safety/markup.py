"""Data quoted into Markdown or HTML: one escaping function, :func:`escape`.

Every sentence that quotes data (a unit's name, an indicator's title or
definition, an experiment's id or question, a research spec's title) passes
the value through :func:`escape` before it is put into Markdown or HTML, so a
unit named ``<img src=x onerror=alert(1)>`` or ``[klikk](javascript:…)`` is
shown as those characters and never becomes markup, a link, a heading, a
citation (``@fig-…``) or a formula (``$…$``) in the report, whichever
renderer reads it (Quarto/pandoc, nbconvert/mistune, a browser).

Rules:

- Characters that start markup in HTML (``& < > " '``) or Markdown and
  Quarto's pandoc (``\\ ` * _ [ ] { } # ! | ~ ^ $ @``) become character
  references (``&#60;``). A reference means the same character in HTML
  and in every Markdown dialect, so one function serves both, in text and in
  attribute values. Letters, digits, ``.``, ``-``, ``(``, ``)``, ``:`` and
  ``/`` stay as they are (without ``[`` or ``<`` no link can form), so
  ordinary names and sentences read unchanged in a Markdown file.
- Line breaks and runs of white space become one space: data never starts a
  Markdown line (a heading, a list, a table row, a fenced block). A value that
  would start a list item where it is put first (``- x``, ``+ x``, ``1. x``)
  has that character escaped too.
- Tables built with great-tables escape their own cells; values there are
  not passed through here (they would be escaped twice).

>>> escape("Smerteklinikk A (Ahus)")
'Smerteklinikk A (Ahus)'
>>> escape("<img src=x onerror=alert(1)>")
'&lt;img src=x onerror=alert(1)&gt;'
>>> escape("[klikk](javascript:alert(1))")
'&#91;klikk&#93;(javascript:alert(1))'
>>> escape("1. enhet\\n# overskrift")
'1&#46; enhet &#35; overskrift'
"""

from __future__ import annotations

import re

__all__ = ["escape"]

_REFERENCES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}
_REFERENCES.update({c: f"&#{ord(c)};" for c in "\\`*_[]{}#!|~^$@"})
_TABLE = str.maketrans(_REFERENCES)
_LIST_START = re.compile(r"^([-+=]|\d+[.)])")


def escape(value) -> str:
    """``value`` as text that is shown as written in Markdown and HTML (see the module docstring)."""
    text = " ".join(str(value).split()).translate(_TABLE)
    m = _LIST_START.match(text)
    if m:
        mark = m.group(1)
        text = mark[:-1] + f"&#{ord(mark[-1])};" + text[len(mark) :]
    return text
