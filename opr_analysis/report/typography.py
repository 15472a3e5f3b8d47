"""Norwegian typography for the rendered report: what must not break across lines stays together.

Applied by the pipeline to the executed notebook's text (Markdown cells,
Markdown/HTML outputs and ``#| …-cap`` captions; alt texts are read aloud, not
broken into lines) before
rendering, so Quarto and the fallback page get the same text:

- a number and its unit: ``39,3 %``, ``12 måneder``, ``95 % KI`` join with
  U+00A0 NO-BREAK SPACE (``% KI`` too, so «95 % KI» never splits);
- an interval: the en dash between two numbers gets U+2060 WORD JOINER on both
  sides (``27,0–39,0 %`` would otherwise break after the dash), and spaces
  around such a dash become no-break spaces.

Only text between digits and these units is touched; thousands separators are
already no-break spaces (:mod:`opr_analysis.formatting`).

A title keeps a short last word on the line before it (:func:`tie_title`:
«… – Smerteklinikk A» never ends with «A» alone on a line).

>>> tie("95 % KI 27,0–39,0 % etter 12 måneder")
'95\\xa0%\\xa0KI 27,0\\u2060–\\u206039,0\\xa0% etter 12\\xa0måneder'
"""

from __future__ import annotations

import re

__all__ = ["NBSP", "WORD_JOINER", "tie", "tie_notebook", "tie_title"]

NBSP = "\u00a0"
WORD_JOINER = "\u2060"
UNITS = r"%|‰|år|måneder|måned|mnd\.?|uker|uke|dager|døgn|timer|minutter|min|sekunder|sek|s|kg|cm"
_UNIT = re.compile(rf"(?<=\d)[ \u202f](?=(?:{UNITS})(?![\wæøåÆØÅ]))")
_PCT_KI = re.compile(r"%[ ](?=KI\b)")
_DASH = re.compile(r"(?<=\d)[ \u00a0]?[\u2060]?–[\u2060]?[ \u00a0]?(?=[−-]?\d)")
_CAPTION_LINE = re.compile(r"^(#\|\s*(?:tbl|fig)-(?:cap|alt):.*)$", re.M)


def tie(text: str) -> str:
    """``text`` with no-break spaces and word joiners where a line must not break."""
    text = _UNIT.sub(NBSP, text)
    text = _PCT_KI.sub("%" + NBSP, text)
    return _DASH.sub(f"{WORD_JOINER}–{WORD_JOINER}", text)


def tie_title(title: str) -> str:
    """``title`` with its last word joined to the one before by a no-break space when it is two
    characters or shorter.

    >>> tie_title("Årsrapport 2024 – Smerteklinikk A"), tie_title("Årsrapport 2024 – Oslo universitetssykehus")
    ('Årsrapport 2024 – Smerteklinikk\xa0A', 'Årsrapport 2024 – Oslo universitetssykehus')
    """
    head, sep, last = title.rstrip().rpartition(" ")
    return f"{head}{NBSP}{last}" if sep and len(last) <= 2 else title


def tie_notebook(nb) -> None:
    """Apply :func:`tie` to every reader-facing text of an executed notebook, in place."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = tie(cell.source)
            continue
        if cell.cell_type != "code":
            continue
        cell.source = _CAPTION_LINE.sub(lambda m: tie(m.group(1)), cell.source)
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            for mime in ("text/markdown", "text/html"):
                if mime in data:
                    data[mime] = tie(data[mime] if isinstance(data[mime], str) else "".join(data[mime]))
