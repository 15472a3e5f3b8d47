"""The ``opr`` command line.

Each subcommand lives in ``opr_analysis.commands.<name>`` and provides
``register(subparsers)`` (which sets ``func``) and ``run(args) -> int``.
Errors derived from :class:`~opr_analysis.errors.OprError` end the command with
their message and exit status, never with a traceback. SIGTERM and SIGHUP
raise :class:`~opr_analysis.errors.Terminated` inside the command, so its
clean-up runs (temporary output removed, earlier output left as it was); the
command then ends with status 128 + the signal number.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import signal
import sys
from collections.abc import Iterator

from .errors import OprError, Terminated

# Imported lazily so that `opr --help` and light commands start fast.
COMMANDS = [
    "validate",
    "codebook",
    "tables",
    "indicators",
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
        with _terminate_by_exception():
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
    except Terminated as exc:
        name = signal.Signals(exc.signum).name
        print(f"opr {args.command}: avbrutt ({name}); ingen halvferdige filer er lagt igjen", file=sys.stderr)
        return 128 + exc.signum
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


@contextlib.contextmanager
def _terminate_by_exception() -> Iterator[None]:
    """While the command runs, SIGTERM/SIGHUP raise :class:`Terminated` (main thread only)."""

    def handler(signum, frame):
        raise Terminated(signum)

    saved = {}
    for sig in (signal.SIGTERM, signal.SIGHUP):
        try:
            saved[sig] = signal.signal(sig, handler)
        except ValueError:  # not the main thread: leave signals alone
            break
    try:
        yield
    finally:
        for sig, old in saved.items():
            signal.signal(sig, old)


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that Python's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout is not a real file (tests)
        pass


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
