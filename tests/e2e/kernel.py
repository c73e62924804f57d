"""Execute notebooks in a real kernel the way JupyterLab does, without a browser.

JupyterLab starts a notebook's kernel with ``JPY_SESSION_NAME=<absolute notebook path>`` in its
environment and the notebook's folder as working directory, and every ``execute_request`` it sends
carries the cell's nbformat id as ``metadata.cellId`` (checked against a real JupyterLab 4 session).
Plain nbclient does neither, so tracked runs would have no notebook and no cell id.
:class:`LabLikeClient` adds both; :func:`execute` runs one notebook in a fresh kernel and
:func:`execute_all` runs several at once (one kernel each, a few at a time).

Environment variables starting with ``NBTRACK_`` are *not* inherited from the test process: each
execution says which store its kernel uses.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient
from nbformat import NotebookNode

#: the rest of the metadata JupyterLab 4 sends with each execute_request
LAB_REQUEST_METADATA = {"deletedCells": [], "recordTiming": False, "trusted": True}


class LabLikeClient(NotebookClient):
    """A NotebookClient whose execute requests carry ``metadata.cellId`` like JupyterLab's."""

    _cell_id: str | None = None

    async def async_start_new_kernel_client(self) -> Any:
        kc = await super().async_start_new_kernel_client()
        kc.execute = self._execute_request
        return kc

    async def async_execute_cell(
        self,
        cell: NotebookNode,
        cell_index: int,
        execution_count: int | None = None,
        store_history: bool = True,
    ) -> NotebookNode:
        self._cell_id = cell.get("id")
        return await super().async_execute_cell(cell, cell_index, execution_count, store_history)

    def _execute_request(
        self,
        code: str,
        silent: bool = False,
        store_history: bool = True,
        user_expressions: dict[str, Any] | None = None,
        allow_stdin: bool | None = None,
        stop_on_error: bool = True,
    ) -> str:
        """``KernelClient.execute`` plus the request metadata JupyterLab adds."""
        kc = self.kc
        assert kc is not None
        content = {
            "code": code,
            "silent": silent,
            "store_history": store_history,
            "user_expressions": user_expressions or {},
            "allow_stdin": kc.allow_stdin if allow_stdin is None else allow_stdin,
            "stop_on_error": stop_on_error,
        }
        metadata = {"cellId": self._cell_id, **LAB_REQUEST_METADATA}
        msg = kc.session.msg("execute_request", content, metadata=metadata)
        kc.shell_channel.send(msg)
        return str(msg["header"]["msg_id"])


@dataclass
class Job:
    """One notebook to execute: written to ``path`` first, run with ``env`` added to the environment."""

    notebook: NotebookNode
    path: Path
    env: Mapping[str, str] = field(default_factory=dict)
    timeout: int = 60
    allow_errors: bool = True
    store_widget_state: bool = True  # False: saved as JupyterLab saves by default (no widget state)


@dataclass
class Executed:
    """A notebook after execution, with the wall time its kernel took (start to shutdown)."""

    notebook: NotebookNode
    path: Path
    seconds: float


def kernel_env(notebook_path: Path, extra: Mapping[str, str]) -> dict[str, str]:
    """The environment JupyterLab would give the kernel, minus any NBTRACK_* of the test process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NBTRACK_")}
    env["JPY_SESSION_NAME"] = str(notebook_path)
    env.update(extra)
    return env


async def execute_async(job: Job) -> Executed:
    """Write ``job.notebook`` to disk, execute it in a fresh kernel, and save it with its outputs."""
    job.path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(job.notebook, job.path)
    client = LabLikeClient(
        job.notebook,
        timeout=job.timeout,
        kernel_name="python3",
        allow_errors=job.allow_errors,
        store_widget_state=job.store_widget_state,
        resources={"metadata": {"path": str(job.path.parent)}},
    )
    started = time.perf_counter()
    try:
        await client.async_execute(env=kernel_env(job.path.resolve(), job.env))
    finally:
        seconds = time.perf_counter() - started
        nbformat.write(job.notebook, job.path)  # saved with its outputs, for a look after a failure
    return Executed(job.notebook, job.path, seconds)


def execute(job: Job) -> Executed:
    """Execute one notebook (blocking)."""
    return asyncio.run(execute_async(job))


def execute_all(jobs: Sequence[Job], at_once: int = 3) -> list[Executed]:
    """Execute several notebooks, ``at_once`` kernels at a time; results in the order of ``jobs``."""

    async def main() -> list[Executed]:
        gate = asyncio.Semaphore(at_once)

        async def one(job: Job) -> Executed:
            async with gate:
                return await execute_async(job)

        return list(await asyncio.gather(*(one(job) for job in jobs)))

    return asyncio.run(main())
