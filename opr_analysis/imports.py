"""Importing large third-party packages without optional extras they load at import and opr never uses.

Each such extra costs every command that imports the package, whether it uses it or not:

- ``hypothesis``, which pandera loads for its data-synthesis strategies (validation never uses them):
  about a third of pandera's start-up, 0.15 s;
- ``rfc3987_syntax``, which jsonschema (through ``nbformat``) loads to check the ``iri`` string format:
  it compiles 38 grammars at import, about 1.4 s of every report run and of every notebook kernel that
  imports the report pipeline. No notebook schema uses that format, and nbformat checks no formats.
  The other string-format checkers jsonschema loads when installed (:data:`NBFORMAT_UNUSED`: ``arrow``
  through ``isoduration``, ``idna``, ``webcolors`` …) cost another 0.08 s of each of those processes.

:func:`without` imports as if the extras were not installed, unless something has loaded them already
(tests load hypothesis); they stay importable afterwards.

>>> import sys
>>> with without("json"):  # loaded already: nothing is hidden
...     import json
>>> "json" in sys.modules
True
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

#: Packages jsonschema loads only to check string formats (``jsonschema._format``), hidden while nbformat is
#: imported: no notebook schema uses a string format and nbformat checks none.
NBFORMAT_UNUSED = (
    "rfc3987_syntax",
    "rfc3987",
    "rfc3986_validator",
    "rfc3339_validator",
    "fqdn",
    "idna",
    "isoduration",
    "jsonpointer",
    "uri_template",
    "webcolors",
)


@contextmanager
def without(*names: str) -> Iterator[None]:
    """Inside the block, ``import name`` raises ImportError for each optional package not loaded yet."""
    hidden = [n for n in names if n not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # the import system's "not installed"
    try:
        yield
    finally:
        for name in hidden:
            if sys.modules.get(name, 0) is None:
                del sys.modules[name]
