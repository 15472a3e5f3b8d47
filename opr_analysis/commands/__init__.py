"""Subcommands of the ``opr`` command line; each module has ``register`` and ``run``."""
