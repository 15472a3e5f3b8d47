"""The delivery log's columns: one row per research delivery (``delivery-log.csv``).

In a module of its own because two writers read it: :mod:`.delivery`, which appends to the
log, and :mod:`opr_analysis.rights.register`, which follows it with the patients each delivery
held. Neither may import the other's module for it (that would be an import cycle).
"""

LOG_FIELDS = ("delivered_at", "project", "variables", "patients", "enrolments", "manifest_sha256", "folder")
