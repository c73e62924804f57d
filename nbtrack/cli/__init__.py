"""The ``nbtrack`` command line: list, show, export and delete runs; collect garbage; check the store.

``main(argv)`` parses the arguments and runs one command. Exit status: 0 ok, 1 when nbtrack reports an
error (printed as ``nbtrack: error: <message>`` without a traceback), 2 for usage errors, 130 after
Ctrl-C and 141 when the reader of standard output went away (``nbtrack ls | head -1``).

Modules: :mod:`.parser` (argparse), :mod:`.commands` (ls, show, export, rm, gc), :mod:`.doctor`,
:mod:`.render` (text formatting). Importing this package loads neither pandas nor SQLAlchemy.
"""

from __future__ import annotations

import os
import sys

from nbtrack.errors import NbtrackError

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a writer killed by a closed pipe


def main(argv: list[str] | None = None) -> int:
    """Run the ``nbtrack`` command with ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    from nbtrack.cli.parser import build_parser

    _forgive_unencodable(sys.stdout)
    _forgive_unencodable(sys.stderr)
    try:
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # argparse: usage error (2), or --help/--version (0)
            sys.stdout.flush()
            return exc.code if isinstance(exc.code, int) else EXIT_USAGE
        if args.command is None:
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        status: int = args.handler(args, sys.stdout)
        sys.stdout.flush()
        return status
    except NbtrackError as exc:
        sys.stderr.write(f"nbtrack: error: {exc}\n")
        return EXIT_ERROR
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _discard_stdout()
        return EXIT_BROKEN_PIPE


def _forgive_unencodable(stream: object) -> None:
    # A run name the terminal's encoding cannot show must not crash the command.
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None:
        reconfigure(errors="replace")


def _discard_stdout() -> None:
    # Python flushes stdout again at exit; point it at /dev/null so that flush cannot fail too.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass  # stdout without a file descriptor (e.g. captured by a test): nothing left to flush


if __name__ == "__main__":
    sys.exit(main())
