"""The arguments of ``%%track``, parsed once into a plain request object."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import Any

from IPython.core.error import UsageError


@dataclass(frozen=True)
class TrackRequest:
    """What the user asked for on the ``%%track`` line."""

    name: str | None = None
    experiment: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    params: tuple[str, ...] = ()
    no_outputs: bool = False
    quiet: bool = False
    sweeps: tuple[str, ...] = ()


def request_from_args(args: argparse.Namespace) -> TrackRequest:
    """A TrackRequest from the parsed magic arguments (UsageError for malformed tags/params)."""
    tags: dict[str, str] = {}
    for item in args.tag or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"%%track: a tag must look like key=value, got {item!r}")
        tags[key.strip()] = value.strip()
    params: list[str] = []
    for item in args.params or []:
        for name in item.split(","):
            name = name.strip()
            if not name:
                continue
            if not name.isidentifier():
                raise UsageError(f"%%track: --params takes variable names, got {name!r}")
            params.append(name)
    name = " ".join(args.name) if args.name else None
    return TrackRequest(
        name=name or None,
        experiment=args.experiment,
        tags=tags,
        params=tuple(params),
        no_outputs=bool(args.no_outputs),
        quiet=bool(args.quiet),
        sweeps=tuple(args.sweep or ()),
    )


def first_line_magic(raw_cell: str, magic: str = "track") -> tuple[str, str] | None:
    """``(argument line, body)`` if the cell starts with ``%%<magic>`` (after blank lines), else None."""
    stripped = raw_cell.lstrip("\n\r")
    first, _, body = stripped.partition("\n")
    head = f"%%{magic}"
    if not first.startswith(head):
        return None
    rest = first[len(head) :]
    if rest and not rest[0].isspace():
        return None  # %%trackers, %%track? (help) ...
    return rest.strip(), body


def track_line_index(lines: list[str], magic: str = "track") -> tuple[int, str] | None:
    """Index and argument line of a ``%%<magic>`` line among the cell's leading cell-magic lines.

    ``%%time`` / ``%%capture x`` may come first: every leading line that starts with ``%%`` is a cell
    magic applied to the rest of the cell, so ``%%track`` may stand at any of those positions.
    """
    head = f"%%{magic}"
    for i, line in enumerate(lines):
        text = line.strip()
        if not text and all(not earlier.strip() for earlier in lines[:i]):
            continue  # leading blank lines
        if not text.startswith("%%"):
            return None
        if text.startswith(head) and (len(text) == len(head) or text[len(head)].isspace()):
            return i, text[len(head) :].strip()
    return None


def describe_args(args: Any) -> str:
    """A short description of parsed magic arguments, for messages."""
    return " ".join(f"{k}={v!r}" for k, v in vars(args).items() if v)
