"""Response-rate experiments (data contract v1.1): spec, plan, allocation and analysis.

- :mod:`.spec`: the reviewed YAML spec (:func:`load_spec`).
- :mod:`.plan`: sample size and months of follow-up flow needed (:func:`make_plan`).
- :mod:`.allocate`: the concealed, reproducible allocation list (:func:`allocate`).
- :mod:`.analyse`: CONSORT flow, ITT and per-protocol shares, adjusted model (:func:`analyse`).
"""

from .allocate import allocate, arm_sequence, eligible_patients
from .analyse import analyse, result_markdown
from .plan import make_plan, plan_markdown, sample_size
from .spec import ExperimentSpec, load_spec, parse_spec

__all__ = [
    "ExperimentSpec",
    "allocate",
    "analyse",
    "arm_sequence",
    "eligible_patients",
    "load_spec",
    "make_plan",
    "parse_spec",
    "plan_markdown",
    "result_markdown",
    "sample_size",
]
