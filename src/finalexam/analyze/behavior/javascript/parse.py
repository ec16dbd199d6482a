"""JavaScript and TypeScript syntax trees from tree-sitter, within the per-file time budget.

tree-sitter parses in native code, linearly (a 9 MB bundle in well under a second), and
recovers from errors instead of giving up, so minified, partial or newer-syntax files still
yield a tree. That recovery can also go exponential: 114 bytes of stray doc-comment text make
the JavaScript grammar work for minutes without reading another byte. The parser reports its
progress to a callback many times a second, so the interpreter runs often during a parse: the
CPU timer of ``finalexam.budget.time_budget`` stops any parse where it stands, and a retry
with another grammar stops once it costs far more than the first parse did.
"""

from __future__ import annotations

import time
from functools import cache

import tree_sitter_javascript
import tree_sitter_typescript
from tree_sitter import Language, Parser, Tree

from finalexam.budget import BudgetExceeded

CHUNK = 64 * 1024
# A source with syntax errors is parsed again as TypeScript only up to this size: bundles
# bigger than this are JavaScript, and three parses of them would cost three times the time.
RETRY_BYTES = 1024 * 1024
# A retry may cost this many times the CPU of the first parse, and at least RETRY_FLOOR
# seconds: the same bytes parsed linearly by another grammar cost about the same; far more
# is error recovery gone exponential, and the first tree is kept (effect's Chunk.ts, whose
# TypeScript variance annotations the TypeScript grammar does not know, read as JavaScript).
RETRY_FACTOR = 4.0
RETRY_FLOOR = 0.25


@cache
def _parser(dialect: str) -> Parser:
    if dialect == "typescript":
        language = Language(tree_sitter_typescript.language_typescript())
    elif dialect == "tsx":
        language = Language(tree_sitter_typescript.language_tsx())
    else:
        language = Language(tree_sitter_javascript.language())
    return Parser(language)


def _parse(data: bytes, dialect: str, seconds: float = 0.0) -> Tree:
    """The tree of ``data`` in ``dialect``; ValueError once ``seconds`` of CPU (0: no limit)
    are spent."""
    started = time.process_time()

    def read(offset: int, _point: tuple[int, int]) -> bytes:
        return data[offset : offset + CHUNK]

    def stop(_offset: int, _has_error: bool) -> bool:
        return seconds > 0 and time.process_time() - started > seconds

    parser = _parser(dialect)
    # A parser stopped mid-parse resumes that parse on its next call, whatever source it is
    # given: the file after an overrun got the stopped file's tree. Each parse starts anew.
    parser.reset()
    try:
        return parser.parse(read, progress_callback=stop)
    except SystemError as error:  # an exception raised in ``read``, wrapped by the binding
        cause = error.__cause__ or error.__context__
        if isinstance(cause, BudgetExceeded):
            raise cause from None
        raise


DIALECTS = ("javascript", "typescript", "tsx")


def dialect_of(path: str) -> str:
    """The grammar to try first for a file: TypeScript for .ts/.mts/.cts, TSX for .tsx."""
    name = path.lower()
    if name.endswith(".tsx"):
        return "tsx"
    return "typescript" if name.endswith((".ts", ".mts", ".cts")) else "javascript"


def parse(data: bytes, first: str = "javascript") -> tuple[Tree, str]:
    """The syntax tree of a JavaScript, JSX or TypeScript source and the grammar that read
    it: ``first`` (JavaScript, JSX included, unless the file name says TypeScript), the
    others when that leaves errors and one of them does not, the tree with errors otherwise
    (its intact parts give facts)."""
    # tree-sitter's lexers read a NUL byte as the end of the input: a bundle carrying binary
    # data in a string literal (pdf.js's sandbox holds QuickJS's wasm so) became one long
    # error, recovered from slowly. NUL is valid only inside literals and comments, so a
    # blank in its place keeps every offset and every token.
    data = data.replace(b"\x00", b" ")
    started = time.process_time()
    tree = _parse(data, first)
    if tree.root_node.has_error and len(data) <= RETRY_BYTES:
        allowed = max(RETRY_FACTOR * (time.process_time() - started), RETRY_FLOOR)
        for dialect in DIALECTS:
            if dialect == first:
                continue
            try:
                other = _parse(data, dialect, allowed)
            except ValueError:  # stopped: its error recovery went exponential
                continue
            if not other.root_node.has_error:
                return other, dialect
    return tree, first
