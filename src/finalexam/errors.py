"""One error hierarchy; each error knows its exit code and prints as one line."""

from __future__ import annotations

from finalexam.model import IssueKind


class FinalexamError(Exception):
    """Base of every error the tool reports to a person."""

    exit_code = 3

    def __init__(self, message: str, *, path: str | None = None) -> None:
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)


class UsageError(FinalexamError):
    """Bad command line, missing input, unknown option: exit 2."""

    exit_code = 2


class ConfigError(UsageError):
    """Invalid configuration or policy file: exit 2."""


class InputError(UsageError):
    """The target cannot be read at all: exit 2."""


class ExamError(FinalexamError):
    """The exam could not complete: exit 3."""

    exit_code = 3


class LimitExceeded(Exception):
    """An unpacking limit was hit; recorded as an Issue, never fatal on its own."""

    kind = IssueKind.LIMIT


class ScratchFull(LimitExceeded):
    """The scratch space (TMPDIR) ran out while a member was spilled there."""

    kind = IssueKind.RESOURCE


class ContainerLimitExceeded(LimitExceeded):
    """A limit of a whole container (a decompression bomb): the rest of it is not examined."""


class CorruptInput(Exception):
    """A member cannot be parsed; recorded as an Issue on its location.

    ``kind`` says why it could not be read when that is not plain corruption (an unsupported
    codec, encryption).
    """

    def __init__(self, message: str, kind: IssueKind = IssueKind.CORRUPT) -> None:
        super().__init__(message)
        self.kind = kind


class UnsafeDocument(Exception):
    """A metadata document the exam refuses to parse (an alias or entity bomb, a DTD): the
    plug-in reading it records that the document was not examined."""
