"""Quality indicators with target levels (issue 16): definitions as data, per-unit results,
funnel-plot limits and the national results portal's delivery file.

- :mod:`.definitions`: ``indicators.yaml`` (package) + a registry's override file.
- :mod:`.statistics`: one row-level function per statistic (numerator/denominator flags).
- :mod:`.compute`: results per unit, year and indicator with Wilson limits and target level.
- :mod:`.funnel`: funnel-plot control limits, plain and overdispersion-adjusted.
- :mod:`.delivery`: the portal's CSV and the checks that mirror its upload checks.
"""
# ruff: noqa: F401  (re-exports)

from .compute import LEVELS, TOTAL, indicator_results, indicator_rows
from .definitions import Indicator, load_definitions
