"""The summary line is published like display(raw=True), skipping ipykernel's stream flush only when
both streams have nothing waiting (so printed text always comes first)."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from nbtrack.capture.showing import show_bundle


class _Publisher:
    def __init__(self) -> None:
        self.events: list[str] = []

    def _flush_streams(self) -> None:
        self.events.append("flush")

    def publish(self, data: dict[str, str], metadata: dict[str, Any] | None = None) -> None:
        self._flush_streams()
        self.events.append(f"publish {data['text/plain']}")


class _Stream:
    def __init__(self, pending: bool) -> None:
        self._flush_pending = pending
        self._subprocess_flush_pending = False

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


class _Shell:
    def __init__(self) -> None:
        self.display_pub = _Publisher()


BUNDLE = {"text/plain": "run #1", "text/html": "<div>run #1</div>"}


def test_idle_kernel_streams_are_not_flushed_and_the_publisher_is_left_as_it_was(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shell = _Shell()
    monkeypatch.setattr(sys, "stdout", _Stream(pending=False))
    monkeypatch.setattr(sys, "stderr", _Stream(pending=False))
    show_bundle(shell, BUNDLE, {"nbtrack": {"summary": True}})
    assert shell.display_pub.events == ["publish run #1"]
    assert "_flush_streams" not in shell.display_pub.__dict__
    shell.display_pub.publish(BUNDLE)  # later displays flush as before
    assert shell.display_pub.events[-2:] == ["flush", "publish run #1"]


@pytest.mark.parametrize("busy", ["stdout", "stderr"])
def test_text_waiting_in_a_stream_is_flushed_first(monkeypatch: pytest.MonkeyPatch, busy: str) -> None:
    shell = _Shell()
    shown: list[Any] = []
    monkeypatch.setattr(sys, "stdout", _Stream(pending=busy == "stdout"))
    monkeypatch.setattr(sys, "stderr", _Stream(pending=busy == "stderr"))
    monkeypatch.setattr("IPython.display.display", lambda *a, **k: shown.append((a, k)))
    show_bundle(shell, BUNDLE, {"nbtrack": {"summary": True}})
    assert shell.display_pub.events == []
    assert shown == [((BUNDLE,), {"raw": True, "metadata": {"nbtrack": {"summary": True}}})]


def test_streams_that_are_not_ipykernels_use_plain_display(monkeypatch: pytest.MonkeyPatch) -> None:
    shown: list[Any] = []
    monkeypatch.setattr("IPython.display.display", lambda *a, **k: shown.append(a))
    show_bundle(_Shell(), BUNDLE, {})  # pytest's captured streams have no _flush_pending
    assert shown == [(BUNDLE,)]
