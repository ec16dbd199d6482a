"""py7zr writer plumbing, imported only when a 7z archive is met (py7zr is slow to import)."""

from __future__ import annotations

import os
import tempfile
from typing import Any

import py7zr.io

from finalexam.errors import LimitExceeded


class ScratchWriter(py7zr.io.Py7zIO):
    """Receives one member's bytes into a scratch file, refusing to grow past the limit."""

    def __init__(self, path: str, limit: int, budget: list[int]) -> None:
        self.path = path
        self.handle = open(path, "wb")  # noqa: SIM115 - closed when extraction ends
        self.limit = limit
        self.budget = budget
        self.written = 0

    def write(self, s: Any) -> int:
        size = len(s)
        self.written += size
        self.budget[0] -= size
        if self.written > self.limit:
            raise LimitExceeded(f"7z member larger than max_member_size={self.limit}")
        if self.budget[0] < 0:
            raise LimitExceeded("7z archive expands past max_total_bytes")
        self.handle.write(s)
        return size

    def read(self, size: int | None = None) -> bytes:
        return b""

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.handle.seek(offset, whence)

    def flush(self) -> None:
        self.handle.flush()

    def size(self) -> int:
        return self.written


class ScratchFactory(py7zr.io.WriterFactory):
    def __init__(self, directory: str, limit: int, budget: int) -> None:
        self.directory = directory
        self.limit = limit
        self.budget = [budget]
        self.writers: dict[str, ScratchWriter] = {}

    def create(self, filename: str) -> py7zr.io.Py7zIO:
        fd, path = tempfile.mkstemp(dir=self.directory)
        os.close(fd)
        writer = ScratchWriter(path, self.limit, self.budget)
        self.writers[filename] = writer
        return writer

    def close(self) -> None:
        for writer in self.writers.values():
            writer.handle.close()

    def cleanup(self) -> None:
        for writer in self.writers.values():
            if os.path.exists(writer.path):
                os.unlink(writer.path)
