"""Content-addressed artifact files under the artifact root, through fsspec (local, s3://, ...).

A file is stored once per content at ``<root>/<sha256[:2]>/<sha256>``; the ``artifacts`` table maps a
run's artifact names to those addresses, so identical outputs of many runs cost one copy.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import posixpath
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nbtrack.errors import StoreError

_BLOCK = 1 << 20


@dataclass(frozen=True, slots=True)
class StoredBlob:
    """Where one piece of content went."""

    sha256: str
    size: int
    uri: str


class ArtifactStore:
    """The artifact root: put content, open it again, list and delete what is stored."""

    def __init__(self, root: str) -> None:
        import fsspec

        self.root = root.rstrip("/")
        self.fs, self._base = fsspec.core.url_to_fs(self.root)
        self._local = "file" in _protocols(self.fs)

    def _path(self, sha: str) -> str:
        return posixpath.join(self._base, sha[:2], sha)

    def uri_for(self, sha: str) -> str:
        """The URI at which content with this hash lives."""
        return f"{self.root}/{sha[:2]}/{sha}"

    def put_bytes(self, data: bytes) -> StoredBlob:
        """Store bytes (once per content)."""
        sha = hashlib.sha256(data).hexdigest()
        path = self._path(sha)
        if not self.fs.exists(path):
            self.fs.makedirs(posixpath.dirname(path), exist_ok=True)
            if self._local:
                _atomic_local_write(Path(path), [data])
            else:
                self.fs.pipe_file(path, data)
        return StoredBlob(sha, len(data), self.uri_for(sha))

    def put_file(self, source: Path) -> StoredBlob:
        """Store a local file's content (hashed while streaming, copied once per content)."""
        digest = hashlib.sha256()
        size = 0
        with source.open("rb") as f:
            for block in iter(lambda: f.read(_BLOCK), b""):
                digest.update(block)
                size += len(block)
        sha = digest.hexdigest()
        path = self._path(sha)
        if not self.fs.exists(path):
            self.fs.makedirs(posixpath.dirname(path), exist_ok=True)
            if self._local:
                with source.open("rb") as f:
                    _atomic_local_write(Path(path), iter(lambda: f.read(_BLOCK), b""))
            else:
                self.fs.put_file(str(source), path)
        return StoredBlob(sha, size, self.uri_for(sha))

    def read_bytes(self, sha: str) -> bytes:
        """The content stored under ``sha``."""
        try:
            data: bytes = self.fs.cat_file(self._path(sha))
        except FileNotFoundError as exc:
            raise StoreError(f"artifact content {sha} is missing from {self.root}") from exc
        return data

    def stored_hashes(self) -> Iterator[str]:
        """Every content hash present under the root."""
        if not self.fs.exists(self._base):
            return
        for path in self.fs.find(self._base):
            name = posixpath.basename(path)
            if len(name) == 64 and posixpath.basename(posixpath.dirname(path)) == name[:2]:
                yield name

    def size_of(self, sha: str) -> int:
        """Bytes stored under ``sha``."""
        return int(self.fs.size(self._path(sha)))

    def delete(self, sha: str) -> None:
        """Remove the content stored under ``sha``."""
        self.fs.rm_file(self._path(sha))


def guess_mime(name: str) -> str:
    """The mimetype suggested by a file name, else application/octet-stream."""
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def _protocols(fs: Any) -> tuple[str, ...]:
    proto = fs.protocol
    return (proto,) if isinstance(proto, str) else tuple(proto)


def _atomic_local_write(target: Path, blocks: Any) -> None:
    """Write to a temporary file beside ``target`` and rename, so readers never see half a file."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    done = False
    try:
        with os.fdopen(fd, "wb") as f:
            for block in blocks:
                f.write(block)
        os.replace(tmp, target)
        done = True
    finally:
        if not done:
            Path(tmp).unlink(missing_ok=True)
