"""An example delivery, for running the documentation notebook by hand.

``notebooks/research_extract.ipynb`` is the documentation page of a delivery: :func:`deliver`
executes it with the delivery's folder and context. Opened by hand in JupyterLab, it has neither,
and :func:`notebook_inputs` makes an example delivery (of the shipped example spec, from the
synthetic registry) in a scratch folder of its own, whose key and delivery log stay in that folder:
never the registry's key store or log.

This module sits above both :mod:`.delivery` (which renders the notebook through :mod:`.docs`) and
:mod:`.docs`, so neither imports the other's caller.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pandas as pd

from .delivery import deliver
from .disclosure import STEP_TEXT

__all__ = ["example_delivery", "notebook_inputs"]


def example_delivery(spec: str | Path, extract: str | Path, folder: str | Path) -> Path:
    """Deliver ``spec`` from ``extract`` into ``folder`` without rendering documentation.

    For running ``notebooks/research_extract.ipynb`` by hand: the key and the
    delivery log stay inside ``folder``'s parent (a scratch folder), never in
    the registry's key store or log.
    """
    folder = Path(folder)
    scratch = folder.parent
    deliver(spec, extract, folder, log=scratch / "delivery-log.csv", key_dir=scratch / "keys", docs=False)
    return folder


def notebook_inputs(
    delivery_dir, context_json: str, example_spec, example_extract
) -> tuple[Path, dict, dict, pd.DataFrame]:
    """What the documentation notebook shows: (folder, context, spec, codebook).

    ``opr extract`` passes the delivery folder and the context. Run by hand
    (``delivery_dir`` None or a folder without ``spec.yaml``), the notebook
    documents an example delivery of ``example_spec`` made in a temporary folder,
    with the context taken from that delivery's manifest.
    """
    from ..safety.limits import load_yaml_file

    folder = Path(delivery_dir) if delivery_dir else None
    ctx = json.loads(context_json or "{}")
    if folder is None or not (folder / "spec.yaml").is_file():
        notebooks = Path(__file__).resolve().parents[2] / "notebooks"
        spec_path, extract = (Path(p) if Path(p).exists() else notebooks / p for p in (example_spec, example_extract))
        scratch = Path(tempfile.mkdtemp(prefix="opr-eksempel-"))
        folder = example_delivery(spec_path, extract, scratch / "utlevering")
        ctx = {}
    if not ctx:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        disclosure = manifest["disclosure"]
        ctx = {
            "counts": manifest["counts"],
            "flow": [[s["criterion"], s["enrolments"]] for s in manifest["selection"]],
            "disclosure": {**disclosure, "generalised_text": [STEP_TEXT[g] for g in disclosure.get("generalised", [])]},
        }
    spec, _ = load_yaml_file(folder / "spec.yaml", "spesifikasjonsfilen")  # the guarded loader, as for every spec
    codebook = pd.read_csv(folder / "codebook.csv", dtype=str, keep_default_na=False)
    return folder, ctx, spec, codebook
