"""What the behaviour engine reads from a source file, whatever its language: facts.

A language's reader (``python/``; ``javascript/`` next) turns one source text into ``Facts``:
every call it resolved (``kind == "call"``, a dotted name such as ``subprocess.run``, or
``exec<-base64.b64decode`` for an evaluation fed by a decoder) and every string literal
(``kind == "string"``), each with its line and its *context*: ``install`` (runs when the
package is installed), ``import`` (module level: runs as soon as the module is loaded) or
``runtime`` (inside a function someone has to call). ``line_context`` gives the context of any
line, for the rules that match raw text. The engine (``engine.py``) matches behaviour rules
against these facts; nothing here is language specific.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Protocol

INSTALL = "install"
IMPORT = "import"
RUNTIME = "runtime"


@dataclass(frozen=True)
class Fact:
    kind: str  # call | string
    value: str
    line: int
    context: str
    # a connection made at import whose destination only the caller chooses: a parameter of
    # the enclosing function that no import-time caller fills with a literal URL or host
    caller_supplied: bool = False


@dataclass
class Facts:
    """Everything a reader learnt from one source. ``parsed`` is False when the source could
    not be read (a syntax error, past the time budget): the engine then matches the raw text."""

    facts: list[Fact] = field(default_factory=list)
    line_context: dict[int, str] = field(default_factory=dict)
    # install hooks the package declares in code: (class, line) of each command override
    # (setuptools' ``cmdclass``), read as install-time code
    command_overrides: list[tuple[str, int]] = field(default_factory=list)
    # (module, function) an install hook calls: code of the package itself that runs at
    # install time, read again as such once its file is known
    hook_calls: set[tuple[str, str]] = field(default_factory=set)
    parsed: bool = True
    # where literals told to the user sit: (line, column, end line, end column), columns in
    # UTF-8 bytes as Python's ast gives them; raw patterns do not match inside them
    told: list[tuple[int, int, int, int]] = field(default_factory=list)
    # character spans (start, end), in order, of function bodies someone has to call: in a
    # minified bundle one line holds import-time and runtime code, so a raw pattern's
    # context is read at its offset
    runtime_spans: list[tuple[int, int]] = field(default_factory=list)

    def as_program(self) -> Facts:
        """The facts of a module that only runs as a program (a package's ``__main__.py``,
        run by ``python -m``; ``import package`` never loads it): its module level is the
        body of a command someone has to run, as under ``if __name__ == "__main__":``."""
        return replace(
            self,
            facts=[replace(f, context=RUNTIME) if f.context == IMPORT else f for f in self.facts],
            line_context={
                line: RUNTIME if context == IMPORT else context
                for line, context in self.line_context.items()
            },
        )

    def context_of(self, line: int, default: str, offset: int | None = None) -> str:
        if offset is not None and self.runtime_spans:
            index = bisect.bisect_right(self.runtime_spans, (offset, math.inf)) - 1
            if index >= 0 and offset < self.runtime_spans[index][1]:
                return RUNTIME
        return self.line_context.get(line, default)


class FactsReader(Protocol):
    """A language's reader: the facts of one source text. ``install_file``: the whole file
    runs at install time (``setup.py``), so every fact's context is ``install``."""

    def __call__(self, source: str, *, install_file: bool = False) -> Facts: ...


def iter_calls(facts: Facts) -> Iterator[Fact]:
    return (f for f in facts.facts if f.kind == "call")
