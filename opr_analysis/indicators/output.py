"""Writing the indicator results: :func:`write_indicators` (``opr indicators``).

Two files, written together through the privacy scan and moved into place as
a whole, only if ``opr indicators`` wrote it (:func:`opr_analysis.safety.owned.owned_dir`): ``indikatorer.csv``
(the tidy table of :func:`~opr_analysis.indicators.indicator_results`: every
unit, the registry total ``alle``, every year and indicator) and the portal's
``nasjonal_leveranse.csv`` (:mod:`.delivery`), which is checked before
anything is written.
"""

from __future__ import annotations

from pathlib import Path

from ..extract.needs import reads, tables_read_by
from ..safety.owned import owned_dir, protected_folders
from ..safety.privacy import scan_outputs
from .compute import indicator_results
from .definitions import load_definitions
from .delivery import FILE_NAME, check_delivery, delivery_frame
from .statistics import STATISTICS

RESULTS_FILE = "indikatorer.csv"


def tables_read(definitions_file=None) -> frozenset[str]:
    """The extract tables ``opr indicators`` reads: those of its indicators' statistics, and its own."""
    defs = load_definitions(definitions_file)
    return tables_read_by(write_indicators, *(STATISTICS[d.statistic] for d in defs.values()))


@reads("patients", "units")  # the patients' ids for the privacy scan; the units (indicator_results)
def write_indicators(reg, out_dir, as_of=None, definitions_file=None) -> list[Path]:
    """Compute, check and write both files into ``out_dir``; returns their paths."""
    defs = load_definitions(definitions_file)
    results = indicator_results(reg, as_of=as_of, definitions=defs)
    delivery = delivery_frame(results, defs)
    check_delivery(delivery, defs)
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    ids = reg.patients["patient_id"].astype(str).tolist()
    protect = protected_folders([getattr(reg, "path", None)])
    with owned_dir(out_dir, "indicators", check=lambda tmp: scan_outputs(tmp, ids), protect=protect) as tmp:
        results.to_csv(tmp / RESULTS_FILE, index=False, encoding="utf-8", na_rep="")
        delivery.to_csv(tmp / FILE_NAME, index=False, encoding="utf-8")
    return [out_dir / RESULTS_FILE, out_dir / FILE_NAME]
