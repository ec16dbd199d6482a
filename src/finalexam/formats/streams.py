"""The one base of the forward-reading streams the readers hand out."""

from __future__ import annotations

import io
from typing import Any

from finalexam.model import IssueKind


class ReadStream(io.RawIOBase):
    """A readable stream defined by ``read(size)`` alone; ``problem`` says what went wrong
    while reading (truncation, corruption, a bad checksum) without losing what was read, and
    ``problem_kind`` whether that left something unexamined (NOTE when it did not)."""

    problem: str | None = None
    problem_kind: IssueKind = IssueKind.CORRUPT

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def read(self, size: int | None = -1) -> bytes:
        raise NotImplementedError
