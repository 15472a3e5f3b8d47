"""The synthetic registry: extracts made to the contract, for tests, demos and the benchmark.

:mod:`.registry` writes the clinician tables (``opr synth``), calibrated to the
2023 annual report; :mod:`.answers` adds item-level questionnaire answers
from a latent-severity model.
"""

from .answers import synth_answers
from .registry import SyntheticRegistry, synthesize, write_synthetic, write_tables

__all__ = ["SyntheticRegistry", "synth_answers", "synthesize", "write_synthetic", "write_tables"]
