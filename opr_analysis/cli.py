"""The ``opr`` command line.

Each subcommand lives in ``opr_analysis.commands.<name>`` and provides
``register(subparsers)`` (which sets ``func``) and ``run(args) -> int``.
Errors derived from :class:`~opr_analysis.errors.OprError` end the command with
their message and exit status, never with a traceback; so does an
:class:`OSError` (a full disk, a folder without access: one Norwegian sentence
from :func:`opr_analysis.safety.oserror.describe`, exit status 1). SIGTERM and SIGHUP
raise :class:`~opr_analysis.errors.Terminated` inside the command, so its
clean-up runs (temporary output removed, earlier output left as it was); the
command then ends with status 128 + the signal number.

Everything a command prints (to stdout or stderr, messages and tables alike)
passes through :func:`~opr_analysis.safety.nin.mask_nin`: a national identity
number in a header, a file name or a value is shown masked, never echoed.
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
    "experiment",
    "innsyn",
    "sletting",
    "pasient",
    "implantat",
]


# argparse's own texts (usage, headings, errors) in Bokmål: argparse looks ``_``/``ngettext``
# up as module globals when it needs a text, so they are swapped while opr builds and parses.
BOKMAL = {
    "usage: ": "bruk: ",
    "positional arguments": "posisjonelle argumenter",
    "options": "valg",
    "show this help message and exit": "vis denne hjelpeteksten og avslutt",
    "argument %(argument_name)s: %(message)s": "argumentet %(argument_name)s: %(message)s",
    "unrecognized arguments: %s": "ukjente argumenter: %s",
    "the following arguments are required: %s": "disse argumentene mangler: %s",
    "invalid choice: %(value)r (choose from %(choices)s)": "ugyldig valg: %(value)r (velg blant %(choices)s)",
    "invalid %(type)s value: %(value)r": "ugyldig verdi for %(type)s: %(value)r",
    "expected one argument": "ventet én verdi",
    "expected at most one argument": "ventet høyst én verdi",
    "expected at least one argument": "ventet minst én verdi",
    "expected %s argument": "ventet %s verdi",
    "expected %s arguments": "ventet %s verdier",
    "ambiguous option: %(option)s could match %(matches)s": "tvetydig valg: %(option)s kan bety %(matches)s",
    "not allowed with argument %s": "ikke tillatt sammen med argumentet %s",
    "ignored explicit argument %r": "ignorerte argumentet %r",
    "one of the arguments %s is required": "ett av argumentene %s må oppgis",
    "unexpected option string: %s": "uventet valg: %s",
    "unknown parser %(parser_name)r (choices: %(choices)s)": "ukjent kommando %(parser_name)r (velg blant %(choices)s)",
    "%(prog)s: error: %(message)s\n": "%(prog)s: feil: %(message)s\n",
}


def _bokmal(text):
    return BOKMAL.get(text, text)


def _bokmal_n(singular, plural, n):
    return _bokmal(singular if n == 1 else plural)


@contextlib.contextmanager
def _argparse_in_bokmal() -> Iterator[None]:
    saved = argparse._, argparse.ngettext
    argparse._, argparse.ngettext = _bokmal, _bokmal_n
    try:
        yield
    finally:
        argparse._, argparse.ngettext = saved


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one Norwegian line (exit status 2), like opr's own."""

    def error(self, message):
        self.exit(2, f"{self.prog}: feil: {message} (se «{self.prog} --help»)\n")


def build_parser() -> argparse.ArgumentParser:
    with _argparse_in_bokmal():
        parser = _Parser(
            prog="opr",
            description="OUS smerteregister (OPR): kontroller uttrekk, beregn årsrapportens tabeller, "
            "lag rapporten og lever forskningsuttrekk.",
        )
        parser.add_argument(
            "--version", action="version", version=f"%(prog)s {_version()}", help="vis versjonen og avslutt"
        )
        sub = parser.add_subparsers(dest="command", metavar="KOMMANDO", required=True, title="kommandoer")
        for name in COMMANDS:
            importlib.import_module(f"opr_analysis.commands.{name}").register(sub)
    return parser


def _version() -> str:
    from . import __version__

    return __version__


class _MaskingStream:
    """A text stream that masks identity numbers in everything written through it."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text: str) -> int:
        from .safety.nin import mask_nin

        self._stream.write(mask_nin(text))
        return len(text)

    def __getattr__(self, name):
        return getattr(self._stream, name)


@contextlib.contextmanager
def _masked_output() -> Iterator[None]:
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _MaskingStream(sys.stdout), _MaskingStream(sys.stderr)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


def prefer_jemalloc() -> None:
    """Let Arrow allocate with jemalloc unless the user chose a pool (``ARROW_DEFAULT_MEMORY_POOL``).

    Arrow's default pool (mimalloc) keeps freed pages: a national-size ``opr tables`` peaked
    at about 950 MB with it and about 830 MB with jemalloc, in the same time (bench, issue 15).
    Arrow reads the variable once, when pyarrow loads, so this runs before any command imports
    it. jemalloc is not built into pyarrow on Windows; there the default stays.
    """
    if sys.platform != "win32":
        os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "jemalloc")


def main(argv: list[str] | None = None) -> int:
    prefer_jemalloc()
    parser = build_parser()
    with _argparse_in_bokmal():
        args = parser.parse_args(argv)
    with _masked_output():
        return _run(args)


def _run(args) -> int:
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
    except OSError as exc:  # the system refused (a full disk, no access): plain words, not «uventet feil»
        if os.environ.get("OPR_DEBUG"):
            raise
        from .safety.oserror import describe

        print(f"opr {args.command}: {describe(exc)}", file=sys.stderr)
        return 1
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
