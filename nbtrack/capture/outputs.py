"""Capturing what a cell shows — stdout, stderr, rich displays, its result — while still showing it.

Nothing is redirected: the streams and display publisher keep doing exactly what they did, and
nbtrack only *also* records what passes through (a ``write`` attribute set on the stream instance,
the kernel's display-publisher hook, the display hook's ``write_format_data``), size-capped. The
records become artifacts of the run: ``stdout.txt``, ``stderr.txt`` and ``outputs/NNN.<ext>`` with
their mimetypes.
"""

from __future__ import annotations

import base64
import json
import sys
from dataclasses import dataclass, field
from typing import Any

STREAM_CAP = 1 << 20  # characters kept per stream
DISPLAY_CAP = 16 << 20  # bytes kept per display output
MAX_DISPLAYS = 200

#: mimetypes worth keeping, richest first, and the file extension each is stored with
KEPT_MIMES = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/svg+xml": ".svg",
    "application/vnd.plotly.v1+json": ".plotly.json",
    "text/html": ".html",
    "text/markdown": ".md",
    "text/latex": ".tex",
    "application/json": ".json",
}
_BASE64 = {"image/png", "image/jpeg"}


@dataclass
class Captured:
    """What one cell execution showed."""

    stdout: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)
    stdout_chars: int = 0
    stderr_chars: int = 0
    displays: list[dict[str, Any]] = field(default_factory=list)
    result: dict[str, Any] | None = None
    clear_pending: bool = False  # the last output event was clear_output(wait=True)

    def artifacts(self) -> list[tuple[str, bytes, str]]:
        """(name, content, mimetype) for every captured output worth storing."""
        out: list[tuple[str, bytes, str]] = []
        for name, parts, total in (
            ("stdout.txt", self.stdout, self.stdout_chars),
            ("stderr.txt", self.stderr, self.stderr_chars),
        ):
            text = "".join(parts)
            if text:
                if total > len(text):
                    text += f"\n[nbtrack: {total - len(text)} more characters not kept]\n"
                out.append((name, text.encode("utf-8", "replace"), "text/plain"))
        for i, data in enumerate(self.displays):
            out.extend(_display_files(f"outputs/{i:03d}", data))
        if self.result is not None:
            out.extend(_display_files("outputs/result", self.result))
        return out


def _display_files(stem: str, data: dict[str, Any]) -> list[tuple[str, bytes, str]]:
    files = []
    for mime, ext in KEPT_MIMES.items():
        if mime not in data:
            continue
        content = data[mime]
        if mime in _BASE64 and isinstance(content, str):
            raw = base64.b64decode(content)
        elif isinstance(content, (bytes, bytearray)):
            raw = bytes(content)
        elif isinstance(content, str):
            raw = content.encode("utf-8", "replace")
        else:
            raw = json.dumps(content, default=str).encode()
        if len(raw) <= DISPLAY_CAP:
            files.append((f"{stem}{ext}", raw, mime))
    if not files and isinstance(data.get("text/plain"), str):
        files.append((f"{stem}.txt", data["text/plain"].encode("utf-8", "replace"), "text/plain"))
    return files


class OutputCapture:
    """Records a cell's outputs between :meth:`start` and :meth:`stop`, without changing them."""

    def __init__(self, shell: Any) -> None:
        self.shell = shell
        self.captured = Captured()
        self._undo: list[Any] = []

    def start(self) -> None:
        """Begin recording."""
        self._tee_stream("stdout")
        self._tee_stream("stderr")
        self._tee_displays()
        self._tee_result()

    def stop(self) -> Captured:
        """Stop recording and put everything back as it was."""
        while self._undo:
            self._undo.pop()()
        return self.captured

    # -- streams -------------------------------------------------------------------------------
    def _record_stream(self, name: str, text: Any) -> None:
        if not isinstance(text, str):
            return
        c = self.captured
        if text:
            c.clear_pending = False
        total = c.stdout_chars if name == "stdout" else c.stderr_chars
        room = STREAM_CAP - total
        parts = c.stdout if name == "stdout" else c.stderr
        if room > 0:
            parts.append(text[:room])
        if name == "stdout":
            c.stdout_chars += len(text)
        else:
            c.stderr_chars += len(text)

    def _tee_stream(self, name: str) -> None:
        stream = getattr(sys, name)
        original = stream.write

        def write(text: Any, *args: Any, **kwargs: Any) -> Any:
            self._record_stream(name, text)
            return original(text, *args, **kwargs)

        try:
            stream.write = write  # an instance attribute: the stream object and its type stay the same
        except (AttributeError, TypeError):
            proxy = _TeeStream(stream, lambda text: self._record_stream(name, text))
            setattr(sys, name, proxy)

            def undo_proxy() -> None:
                if getattr(sys, name) is proxy:
                    setattr(sys, name, stream)

            self._undo.append(undo_proxy)
            return

        def undo() -> None:
            if stream.__dict__.get("write") is write:
                del stream.write

        self._undo.append(undo)

    # -- rich displays -------------------------------------------------------------------------
    def _record_display(self, data: Any) -> None:
        if isinstance(data, dict) and len(self.captured.displays) < MAX_DISPLAYS:
            self.captured.displays.append(dict(data))

    def _tee_displays(self) -> None:
        pub = getattr(self.shell, "display_pub", None)
        if pub is None:
            return
        if hasattr(pub, "register_hook"):  # ipykernel: the supported way to see display messages

            def hook(msg: Any) -> Any:
                kind = msg.get("msg_type")
                if kind == "display_data":
                    self.captured.clear_pending = False
                    self._record_display(msg.get("content", {}).get("data"))
                elif kind == "clear_output":
                    self.captured.clear_pending = bool(msg.get("content", {}).get("wait"))
                return msg

            pub.register_hook(hook)
            self._undo.append(lambda: pub.unregister_hook(hook))
            return
        original = pub.publish

        def publish(data: Any, *args: Any, **kwargs: Any) -> Any:
            self._record_display(data)
            return original(data, *args, **kwargs)

        pub.publish = publish
        self._undo.append(lambda: pub.__dict__.pop("publish", None))

    def _tee_result(self) -> None:
        hook = getattr(self.shell, "displayhook", None)
        if hook is None:
            return
        original = hook.write_format_data

        def write_format_data(format_dict: Any, *args: Any, **kwargs: Any) -> Any:
            if isinstance(format_dict, dict):
                self.captured.clear_pending = False
                self.captured.result = dict(format_dict)
            return original(format_dict, *args, **kwargs)

        hook.write_format_data = write_format_data
        self._undo.append(lambda: hook.__dict__.pop("write_format_data", None))


class _TeeStream:
    """Stand-in for a stream whose ``write`` cannot be replaced (e.g. a terminal's TextIOWrapper)."""

    def __init__(self, stream: Any, record: Any) -> None:
        self._stream = stream
        self._record = record

    def write(self, text: Any) -> Any:
        self._record(text)
        return self._stream.write(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)
