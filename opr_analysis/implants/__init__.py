"""The implant register (data contract v1.2, «Implants»): tracing the devices implanted at the department.

:mod:`.matching` is the one rule by which a manufacturer, model, serial number
or lot written in the register is compared with one written in a manufacturer's
field safety notice (and by which the reader tells that one device sits in two
bodies); :mod:`.notice` reads the serial numbers a notice lists; :mod:`.recall`
finds every patient who still carries a matching component (``opr implantat
søk``); :mod:`.output` writes that list for the clinic, only where it may go.

The statistics of the report's implant chapter are in :mod:`opr_analysis.stats.implants`.
Modules are imported on use.
"""
