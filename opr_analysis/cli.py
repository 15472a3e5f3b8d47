"""The ``opr`` command line.

Each subcommand lives in ``opr_analysis.commands.<name>`` and provides
``register(subparsers)`` (which sets ``func``) and ``run(args) -> int``.
Errors derived from :class:`~opr_analysis.errors.OprError` end the command with
their message and exit status, never with a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from .errors import OprError

# Imported lazily so that `opr --help` and light commands start fast.
COMMANDS = [
    "validate",
    "codebook",
    "tables",
    "followups",
    "synth",
    "report",
    "extract",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="opr",
        description="OUS smerteregister (OPR): validate extracts, compute the annual report's "
        "tables, render the report and deliver research extracts.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(f"opr_analysis.commands.{name}").register(sub)
    return parser


def _version() -> str:
    from . import __version__

    return __version__


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status = int(args.func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
        return status
    except BrokenPipeError:
        # `opr validate X | head`: the reader has gone; stop quietly, as a SIGPIPE'd tool does.
        _silence_stdout()
        return 141
    except OprError as exc:
        print(f"opr {args.command}: {exc}", file=sys.stderr)
        return exc.exit_status
    except KeyboardInterrupt:
        print(f"opr {args.command}: avbrutt", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug, not bad input: still one line, details on request
        if os.environ.get("OPR_DEBUG"):
            raise
        print(
            f"opr {args.command}: uventet feil ({type(exc).__name__}: {exc}); "
            "kjør igjen med OPR_DEBUG=1 for detaljer og meld fra til utviklerne",
            file=sys.stderr,
        )
        return 1


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that Python's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout is not a real file (tests)
        pass


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
