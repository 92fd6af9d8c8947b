"""``python -m pytest_spectron serve``: the fake on a loopback port, for clients in any language.

With ``--upstream URL`` it is a fault-injecting proxy in front of a real Spectron instead.

Here the command line is parsed; ``_serve`` runs the command. Only the standard library is
imported up front; the fake, the service and the server are imported when ``serve`` runs, so
``--help`` stays quick.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from pytest_spectron._shared._version import __version__

if TYPE_CHECKING:
    from pytest_spectron.testing.faults._fault import Fault

__all__ = ["main"]

PROG = "python -m pytest_spectron"

SERVE_DESCRIPTION = """\
Serve the stateful Spectron fake over HTTP/1.1 until interrupted (Ctrl-C or SIGTERM, exit 0).

The first line of stdout is the base URL, e.g. http://127.0.0.1:8765 (with --prefix /spectron,
http://127.0.0.1:8765/spectron); point any Spectron client at it. Every context id is served;
any non-empty bearer key is accepted unless --api-key says otherwise. Admin endpoints, for test
code in any language:

  GET    /__spectron/journal   every attempt: operation, method, path, outcome, fault applied
  GET    /__spectron/faults    the active faults
  POST   /__spectron/faults    add faults: {"spec": "state=503x2"} or a list of them
  DELETE /__spectron/faults    remove every fault
  POST   /__spectron/reset     forget state, faults and journal

The admin endpoints take no credentials: they refuse (403) requests whose Host header is not a
loopback name or the bound address, or that carry a web page's Origin from beyond this machine.

With --upstream URL it is a proxy in front of a real Spectron instead of the fake: each attempt
meets the faults as above, and every attempt no fault takes is forwarded to URL (Authorization
included) with its answer relayed as it arrives, event streams frame by frame. Paths no Spectron
operation matches are forwarded too. The journal records every attempt; POST /__spectron/reset
leaves the upstream's state alone. An upstream that is down answers 502, one silent for
--upstream-timeout seconds 504."""

SERVE_EXAMPLES = """\
examples:
  python -m pytest_spectron serve
  python -m pytest_spectron serve --port 8765 --context notes --api-key sk-test
  python -m pytest_spectron serve --port 0 --fault state=503x2 --fault remember=connect,ok
  python -m pytest_spectron serve --prefix /spectron
  python -m pytest_spectron serve --idle-timeout 0 --max-connections 1024
  python -m pytest_spectron serve --upstream https://spectron.example.com --fault chat=503"""

# The server's defaults, repeated so that --help imports nothing; a test keeps them equal.
DEFAULT_IDLE_TIMEOUT = 30.0
DEFAULT_MAX_CONNECTIONS = 256
DEFAULT_CLIENT_TIMEOUT = 30.0
DEFAULT_JOURNAL_LIMIT = 100_000
# The fake's (pytest_spectron.testing.fake._context.RECORD_LIMIT), likewise.
DEFAULT_RECORD_LIMIT = 10_000
# The live mode's default (pytest_spectron.plugin._settings.DEFAULT_UPSTREAM_TIMEOUT), likewise.
DEFAULT_UPSTREAM_TIMEOUT = 30.0
# The fake's error formats (pytest_spectron.testing.http._problems.ERROR_FORMATS), likewise.
ERROR_FORMATS = ("json", "problem", "legacy")
# The fake's (pytest_spectron.testing.fake._store.PROCESSING_STAGE_SECONDS), likewise.
DEFAULT_PROCESSING_SECONDS = 1.0
# The fake's stream formats (pytest_spectron.testing.fake._render.STREAM_FORMATS), likewise.
STREAM_FORMATS = ("spectron", "token", "done_flag")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); returns the exit status."""
    parser = _parser()
    arguments = parser.parse_args(argv)
    if arguments.command is None:
        parser.error("a command is needed: serve (see --help)")  # usage, an error: line, exit 2
    from pytest_spectron.testing._serve import serve

    return serve(arguments, parser)


class _CommandParser(argparse.ArgumentParser):
    """A command's parser whose closing help text is built only when help is asked for."""

    closing_help: Callable[[], str] | None = None

    def format_help(self) -> str:
        text = super().format_help()
        return text if self.closing_help is None else f"{text}\n{self.closing_help()}\n"


def _serve_closing_help() -> str:
    from pytest_spectron.testing.faults._outcomes import SPEC_GRAMMAR

    return f"{SPEC_GRAMMAR}\n\n{SERVE_EXAMPLES}"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="pytest-spectron's command line. Run a command with --help for its options.",
    )
    parser.add_argument("--version", action="version", version=f"pytest-spectron {__version__}")
    commands = parser.add_subparsers(
        dest="command", metavar="COMMAND", title="commands", parser_class=_CommandParser
    )
    serve = commands.add_parser(
        "serve",
        help="serve the Spectron fake on a loopback port and print its URL",
        description=SERVE_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    assert isinstance(serve, _CommandParser)
    serve.closing_help = _serve_closing_help
    _add_address_options(serve)
    _add_fake_options(serve)
    _add_connection_options(serve)
    _add_upstream_options(serve)
    return parser


def _add_address_options(serve: argparse.ArgumentParser) -> None:
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: %(default)s); anything beyond loopback warns",
    )
    serve.add_argument(
        "--port",
        type=_port,
        default=0,
        help="port to listen on; 0 picks a free one (default: %(default)s)",
    )
    serve.add_argument(
        "--prefix",
        type=_prefix,
        default="",
        metavar="PATH",
        help="serve under this path prefix, as Spectron behind a gateway: --prefix /spectron "
        "answers http://127.0.0.1:PORT/spectron/api/v1/... (default: none)",
    )


def _add_fake_options(serve: argparse.ArgumentParser) -> None:
    serve.add_argument(
        "--context",
        metavar="CONTEXT",
        help="context id the startup line's example uses (default: the pytest plugin's "
        "default context); the fake serves every context",
    )
    serve.add_argument(
        "--api-key",
        action="append",
        default=[],
        metavar="KEY",
        dest="api_keys",
        help="accept only this bearer key, with every grant (repeatable); by default any "
        "non-empty key is accepted",
    )
    serve.add_argument(
        "--fault",
        action="append",
        default=[],
        type=_fault,
        metavar="OP=SPEC",
        dest="faults",
        help="inject a fault, e.g. state=503x2 fails the first two state attempts with 503 "
        "(repeatable; grammar below)",
    )
    serve.add_argument(
        "--journal-limit",
        type=_limit("attempts"),
        default=DEFAULT_JOURNAL_LIMIT,
        metavar="N",
        help="attempts the journal keeps, the oldest dropped first (GET /__spectron/journal "
        "says how many); 0 keeps all (default: %(default)s)",
    )
    serve.add_argument(
        "--record-limit",
        type=_limit("records"),
        default=DEFAULT_RECORD_LIMIT,
        metavar="N",
        help="traces, audit rows and idempotent replays the fake keeps per context, each, the "
        "oldest dropped first; 0 keeps all (default: %(default)s)",
    )
    serve.add_argument(
        "--error-format",
        choices=ERROR_FORMATS,
        default=ERROR_FORMATS[0],
        help="how error answers look: json (application/json, the document's required message "
        "plus the RFC 7807 fields), problem (the same body as application/problem+json) or "
        'legacy ({"message": ...} only) (default: %(default)s)',
    )
    serve.add_argument(
        "--processing-seconds",
        type=_seconds,
        default=DEFAULT_PROCESSING_SECONDS,
        metavar="SECONDS",
        help="virtual seconds each stage of an upload's processing takes: an upload is answered "
        "queued, then extracting, chunking, embedding and ready, its chunks searchable once "
        "ready; 0 makes uploads ready at once (default: %(default)s)",
    )
    serve.add_argument(
        "--stream-format",
        choices=STREAM_FORMATS,
        default=STREAM_FORMATS[0],
        help="how a streamed chat is framed: spectron (delta frames, then an 'event: done' frame "
        "with the whole reply, then [DONE], as Spectron sends it), token (token frames, then "
        '[DONE]) or done_flag (the last delta frame carries "done": true, then [DONE]) '
        "(default: %(default)s)",
    )


def _add_connection_options(serve: argparse.ArgumentParser) -> None:
    serve.add_argument(
        "--idle-timeout",
        type=_seconds_or_never,
        default=DEFAULT_IDLE_TIMEOUT,
        metavar="SECONDS",
        help="close a connection whose client sends nothing for this long, between requests "
        "or inside one (a 408 then); 0 never does (default: %(default)g)",
    )
    serve.add_argument(
        "--max-connections",
        type=_max_connections,
        default=DEFAULT_MAX_CONNECTIONS,
        metavar="N",
        help="connections served at once; one more is answered 503 and closed "
        "(default: %(default)s)",
    )
    serve.add_argument(
        "--client-timeout",
        type=_seconds_or_never,
        default=DEFAULT_CLIENT_TIMEOUT,
        metavar="SECONDS",
        help="the read timeout your clients wait: injected latency beyond it holds the "
        "connection silent until they time out; 0 never does (default: %(default)g)",
    )


def _add_upstream_options(serve: argparse.ArgumentParser) -> None:
    serve.add_argument(
        "--upstream",
        metavar="URL",
        help="be a proxy in front of the Spectron at URL instead of serving the fake: attempts "
        "no fault takes are forwarded there",
    )
    serve.add_argument(
        "--upstream-timeout",
        type=_positive_seconds,
        default=DEFAULT_UPSTREAM_TIMEOUT,
        metavar="SECONDS",
        help="with --upstream: wait this long for it to connect and for each read, then answer "
        "504 (default: %(default)g)",
    )
    serve.add_argument(
        "--upstream-insecure",
        action="store_true",
        help="with --upstream: accept any certificate from an https upstream. DANGEROUS: "
        "anyone in between can read the API keys; trust a private CA with SSL_CERT_FILE instead",
    )


def _port(text: str) -> int:
    from pytest_spectron._shared._numbers import whole_number

    port = whole_number(text)
    if port is None or port > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0-65535)")
    return port


def _prefix(text: str) -> str:
    from pytest_spectron._shared._endpoint import check_prefix

    try:
        return check_prefix(text, argument="the prefix")
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _seconds_or_never(text: str) -> float | None:
    from pytest_spectron._shared._numbers import decimal_number

    seconds = decimal_number(text)
    if seconds is None or seconds < 0:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number of seconds (0 or more, such as 30 or 0.5; 0 for never)"
        )
    return seconds or None


def _seconds(text: str) -> float:
    from pytest_spectron._shared._numbers import decimal_number

    seconds = decimal_number(text)
    if seconds is None or seconds < 0:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number of seconds (0 or more, such as 1 or 0.5)"
        )
    return seconds


def _positive_seconds(text: str) -> float:
    from pytest_spectron._shared._numbers import decimal_number

    seconds = decimal_number(text)
    if seconds is None or seconds <= 0:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number of seconds above 0 (such as 30 or 0.5)"
        )
    return seconds


def _limit(what: str) -> Callable[[str], int | None]:
    """An option type for a count of ``what`` kept: a whole number, 0 for no limit (None)."""

    def limit(text: str) -> int | None:
        from pytest_spectron._shared._numbers import whole_number

        count = whole_number(text)
        if count is None:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number of {what} (0 for no limit)")
        return count or None

    return limit


def _max_connections(text: str) -> int:
    from pytest_spectron._shared._numbers import whole_number

    count = whole_number(text)
    if count is None or count < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of connections (1 or more)")
    return count


def _fault(text: str) -> Fault:
    from pytest_spectron.testing.faults._declare import parse_fault_spec
    from pytest_spectron.testing.faults._outcomes import FaultError

    try:
        return parse_fault_spec(text)
    except FaultError as error:  # its message ends with the grammar
        raise argparse.ArgumentTypeError(str(error)) from None
