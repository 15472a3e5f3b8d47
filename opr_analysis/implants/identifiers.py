"""The device identifiers no publication may hold: the extract's serial numbers and lots.

An implant's serial number and lot are direct identifiers (codebook ``disclosure:
direct_identifier``): a serial number names one device and so its carrier, a lot a small group
of carriers. :func:`device_identifiers` gives them (usable, quarantined and erased rows alike) for
the privacy scan of outputs that must not hold them (:func:`opr_analysis.safety.privacy.scan_outputs`
with ``original_ids``): the annual report and research deliveries. A hit stops the write.

Only values with at least one letter and one digit are scanned: a purely numeric serial number
could equal a count or a year printed in a report and stop it for nothing, and a word could be a
word. Such values are kept out of publications by construction (no statistic carries them).

>>> import pandas as pd
>>> from types import SimpleNamespace
>>> imp = pd.DataFrame({"serial_number": ["NSM123", "123456", "NSM123"], "lot": ["VP-2203A", None, "A"]})
>>> sorted(device_identifiers(SimpleNamespace(tables={"implants": imp}, report=SimpleNamespace(quarantine={}))))
['NSM123', 'VP-2203A']
"""

from __future__ import annotations

import re

import pandas as pd

__all__ = ["device_identifiers"]

_MIXED = re.compile(r"(?=.*[^\W\d_])(?=.*\d)")
COLUMNS = ("serial_number", "lot")


def device_identifiers(reg) -> set[str]:
    """Serial numbers and lots of the extract (module docstring), as written (trimmed)."""
    frames = [reg.tables.get("implants"), reg.report.quarantine.get("implants")]
    erasure = getattr(reg.report, "erasure", None)
    frames.append((getattr(erasure, "removed", None) or {}).get("implants"))
    values: set[str] = set()
    for frame in frames:
        if frame is None or not len(frame):
            continue
        for column in COLUMNS:
            if column in frame:
                values.update(str(v).strip() for v in pd.unique(frame[column].dropna()))
    return {v for v in values if v and _MIXED.match(v)}
