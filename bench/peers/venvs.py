"""Each peer tracker in its own virtualenv under ``bench/peers/.venvs/<peer>/`` (git-ignored).

A venv is made with this interpreter's ``python -m venv`` and filled with ``pip install`` from the
package index; one that already imports the peer (and its extras) is reused as it is. Workload (h)
also needs ``ipykernel`` in it (:func:`install_kernel`), added on first use.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENVS = HERE / ".venvs"


@dataclass(frozen=True)
class Peer:
    """A tracker to compare with: its pip requirements and the module users import."""

    name: str
    requirements: tuple[str, ...]
    module: str
    extra_imports: tuple[str, ...] = field(default=())

    @property
    def python(self) -> Path:
        return VENVS / self.name / "bin" / "python"

    @property
    def distribution(self) -> str:
        return self.requirements[0]


PEERS = {
    p.name: p
    for p in (
        Peer("mlflow", ("mlflow",), "mlflow", ("pandas",)),
        Peer("wandb", ("wandb",), "wandb"),
        Peer("aim", ("aim", "pandas"), "aim", ("pandas",)),
        Peer("sacred", ("sacred",), "sacred"),
        Peer("dvclive", ("dvclive",), "dvclive"),
        Peer("trackio", ("trackio",), "trackio"),
        Peer("exptrack", ("exptrack", "pandas"), "exptrack", ("pandas",)),
    )
}


def ready(peer: Peer) -> bool:
    """Whether the peer's venv exists and imports what its workloads need."""
    if not peer.python.exists():
        return False
    imports = ", ".join((peer.module, *peer.extra_imports))
    probe = subprocess.run([str(peer.python), "-c", f"import {imports}"], capture_output=True, timeout=300)
    return probe.returncode == 0


def install(peer: Peer, timeout_s: float = 1800) -> str | None:
    """Make (or reuse) the peer's venv; None when it is ready, else why it is not installable."""
    if ready(peer):
        return None
    VENVS.mkdir(exist_ok=True)
    base = getattr(sys, "_base_executable", sys.executable)
    steps = [
        [base, "-m", "venv", str(VENVS / peer.name)],
        [str(peer.python), "-m", "pip", "install", "-q", *peer.requirements],
    ]
    for cmd in steps:
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
        except subprocess.TimeoutExpired:
            return f"`{' '.join(cmd[-3:])}` took over {timeout_s:.0f} s"
        if proc.returncode:
            lines = [
                ln for ln in proc.stderr.splitlines() if ln.startswith("ERROR")
            ] or proc.stderr.splitlines()
            return (lines[-1] if lines else f"exit code {proc.returncode}").strip()[:200]
    return None if ready(peer) else f"installed, but `import {peer.module}` fails"


def install_kernel(peer: Peer, timeout_s: float = 900) -> str | None:
    """Add ``ipykernel`` to the peer's venv (workload (h) runs its kernels); None when ready, else why not."""
    probe = [str(peer.python), "-c", "import ipykernel"]
    if subprocess.run(probe, capture_output=True, timeout=300).returncode == 0:
        return None
    cmd = [str(peer.python), "-m", "pip", "install", "-q", "ipykernel"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return f"`pip install ipykernel` took over {timeout_s:.0f} s"
    if proc.returncode:
        lines = proc.stderr.strip().splitlines()
        return (lines[-1] if lines else f"exit code {proc.returncode}").strip()[:200]
    return None


def version(peer: Peer) -> str:
    """The installed version of the peer's distribution."""
    code = f"import importlib.metadata as m; print(m.version({peer.distribution!r}))"
    proc = subprocess.run([str(peer.python), "-c", code], capture_output=True, text=True)
    return proc.stdout.strip() or "?"
