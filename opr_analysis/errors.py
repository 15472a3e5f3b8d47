"""Exceptions that end a command with one clear message (never a traceback)."""

from __future__ import annotations


class OprError(Exception):
    """Base class: the message is for the user, in plain words; exit status 1."""

    exit_status = 1


class ExtractError(OprError):
    """The extract cannot be used (missing table or column, unreadable file)."""


class IdentifiableDataError(ExtractError):
    """The extract holds a national identity number; nothing derived may be written."""


class UsageError(OprError):
    """The command was called wrongly (bad option value, bad spec file)."""

    exit_status = 2


class Terminated(KeyboardInterrupt):
    """The run was stopped by a signal (SIGTERM, SIGHUP); raised so that clean-up code runs.

    A ``KeyboardInterrupt`` subclass, so ``except Exception`` does not swallow
    it; ``opr`` ends with status 128 + the signal number.
    """

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum
