"""The argparse definition of the ``nbtrack`` command: global options and one subparser per command.

Each subparser's ``handler`` default names the function in :mod:`nbtrack.cli.commands` (or
:mod:`nbtrack.cli.doctor`) that carries the command out; importing this module stays cheap.
"""

from __future__ import annotations

import argparse

from nbtrack import __version__
from nbtrack.cli import commands, doctor

FILTER_HELP = (
    "MLflow-style search filter, e.g. \"metrics.acc > 0.9 AND params.optimizer = 'adam'\" "
    "(also OR, NOT, parentheses, LIKE, IN, IS NULL)"
)
STORE_HELP = (
    "store to use: a SQLAlchemy URL or a path to a SQLite file (overrides NBTRACK_STORE and the "
    "discovered .nbtrack/nbtrack.db)"
)


def non_negative_int(text: str) -> int:
    """An argparse type: an integer >= 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or more, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The ``nbtrack`` argument parser with all its commands."""
    parser = argparse.ArgumentParser(
        prog="nbtrack",
        description="Look at, export and maintain the runs tracked by nbtrack.",
        epilog="Run 'nbtrack COMMAND --help' for the options of a command.",
    )
    parser.add_argument("--version", action="version", version=f"nbtrack {__version__}")
    parser.add_argument("--store", metavar="URL_OR_PATH", default=None, help=STORE_HELP)
    # --store is also accepted after the command; SUPPRESS keeps it from resetting the global one.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--store", metavar="URL_OR_PATH", default=argparse.SUPPRESS, help=STORE_HELP)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    ls = sub.add_parser(
        "ls",
        parents=[common],
        help="list runs as a table, newest first",
        description=(
            "List runs as a table, newest first. Besides the run attributes, the table shows\n"
            "the params, metrics and tags whose values differ between the listed runs (as\n"
            "many as fit the terminal); choose others with --columns, or show them all with\n"
            "--all-columns."
        ),
        epilog=(
            "examples:\n"
            '  nbtrack ls -f "metrics.acc > 0.9" -o "metrics.acc DESC" -n 10\n'
            "  nbtrack ls -e mnist -c params.lr,metrics.acc"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _filter_options(ls)
    ls.add_argument(
        "-o",
        "--order-by",
        action="append",
        metavar="ORDER",
        help='sort key such as "metrics.acc DESC" (repeatable; default: newest first)',
    )
    ls.add_argument(
        "-n",
        "--limit",
        type=non_negative_int,
        default=50,
        metavar="N",
        help="show at most N runs (default: 50; 0 shows all)",
    )
    shown = ls.add_mutually_exclusive_group()
    shown.add_argument(
        "-c",
        "--columns",
        metavar="COLS",
        help="comma-separated columns to show after the run attributes, e.g. "
        "params.lr,metrics.acc (a bare key like 'acc' works when unambiguous)",
    )
    shown.add_argument(
        "--all-columns",
        action="store_true",
        help="show every param, metric and tag column, even constant ones and beyond the terminal width",
    )
    ls.set_defaults(handler=commands.ls)

    show = sub.add_parser(
        "show",
        parents=[common],
        help="show everything about one run",
        description="Show one run: attributes, params, metrics (last/min/max/count), tags, notes, "
        "artifacts and, for a failed run, the traceback.",
    )
    show.add_argument("run", metavar="RUN", help="run number (12 or #12), run id or unique id prefix")
    show.add_argument("--source", action="store_true", help="also print the run's source code")
    show.set_defaults(handler=commands.show)

    export = sub.add_parser(
        "export",
        parents=[common],
        help="write runs as CSV, JSON or Parquet",
        description="Write the runs table (one row per run; params.*, metrics.* with the last "
        "value, tags.* columns) as CSV, JSON (records, ISO dates) or Parquet.",
    )
    _filter_options(export)
    export.add_argument(
        "--format",
        choices=["csv", "json", "parquet"],
        help="output format (default: from the -o suffix, else csv)",
    )
    export.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="file to write (default: standard output; Parquet needs a file)",
    )
    export.set_defaults(handler=commands.export)

    rm = sub.add_parser(
        "rm",
        parents=[common],
        help="delete runs",
        description="Delete runs and everything recorded with them. Their artifact files stay "
        "until 'nbtrack gc'. If any RUN is unknown, nothing is deleted.",
    )
    rm.add_argument("runs", nargs="+", metavar="RUN", help="run number, #number, id or id prefix")
    rm.add_argument("-n", "--dry-run", action="store_true", help="only say what would be removed")
    rm.add_argument("--force", action="store_true", help="also delete runs that are still RUNNING")
    rm.set_defaults(handler=commands.rm)

    gc = sub.add_parser(
        "gc",
        parents=[common],
        help="delete artifact files no run refers to",
        description="Delete the files under the artifact root that no run refers to any more "
        "(left behind by 'nbtrack rm'). Refuses while runs are RUNNING.",
    )
    gc.add_argument("-n", "--dry-run", action="store_true", help="only say what would be removed")
    gc.set_defaults(handler=commands.gc)

    doc = sub.add_parser(
        "doctor",
        parents=[common],
        help="check the store and say how to fix problems",
        description="Say which store nbtrack uses and why, and check it: schema revision, SQLite "
        "journal mode and integrity, runs by status, runs still RUNNING, missing and orphaned "
        "artifact files. Exits with 1 when a problem was found.",
    )
    doc.set_defaults(handler=doctor.doctor)
    return parser


def _filter_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-f", "--filter", metavar="FILTER", help=FILTER_HELP)
    parser.add_argument(
        "-e",
        "--experiment",
        action="append",
        metavar="NAME",
        help="only runs of this experiment (repeatable)",
    )
