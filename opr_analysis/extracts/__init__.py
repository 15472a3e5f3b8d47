"""Research extracts: one reviewed spec file, one command, reproducible files.

``opr extract SPEC --extract DIR --out DIR`` (see :func:`deliver`). Modules:
:mod:`.spec` (the YAML spec), :mod:`.variables` (codebook and derived
variables, the provider hook for scores), :mod:`.select` (linking and
inclusion), :mod:`.pseudonyms` (HMAC-SHA256 with a key per project),
:mod:`.disclosure` (k-anonymity, small cells), :mod:`.writers` (CSV, Parquet,
SPSS, Stata, Excel, byte-identical), :mod:`.docs` (codebook, README, notebook),
:mod:`.delivery` (the whole run), :mod:`.example` (an example delivery for the notebook run by hand).
"""

from .delivery import Delivery, deliver
from .disclosure import DisclosureError, k_violations
from .pseudonyms import project_key, pseudonym
from .spec import Spec, load_spec, parse_spec
from .variables import Variable, register_provider, registry, resolve

__all__ = [
    "Delivery",
    "DisclosureError",
    "Spec",
    "Variable",
    "deliver",
    "k_violations",
    "load_spec",
    "parse_spec",
    "project_key",
    "pseudonym",
    "register_provider",
    "registry",
    "resolve",
]
