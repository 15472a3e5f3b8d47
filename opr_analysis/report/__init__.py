"""The annual report: tables (great-tables), figures (plotnine), small-number
suppression, the editable texts and the render pipeline.

Modules are imported on use so that ``import opr_analysis`` stays light:

>>> from opr_analysis.report import gt_tables, figures   # doctest: +SKIP
"""
