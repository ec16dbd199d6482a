"""Facts about JavaScript and TypeScript source from its tree-sitter syntax tree.

Nothing is run. Calls are resolved through module aliases (``const cp = require('child_process')``,
destructuring, ``import``, interop wrappers such as ``__toESM(require('os'))``,
``process.mainModule.require``), member and constant subscript access
(``require('\\x76\\x6d')['runInThisContext']``); string concatenations, template strings,
``path.join`` and the user's folders (``os.homedir()``, ``process.env.APPDATA``) fold into the
path or command a call receives. Each evaluation, spawn, network call or file write carries
where its input came from (``eval<-Buffer.from``, ``eval<-request``, ``network<-process.env``),
a write or deletion the folder it aims at (``write>~/Desktop/x.txt``), a spawn its command
(``spawn>curl ... | sh``).

Context: top-level code (and what an immediately invoked function or a function called from
top level does) runs at ``import``; the body of any other function at ``runtime``; everything
at ``install`` in a file an npm install script runs.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from tree_sitter import Node, Query, QueryCursor, Tree

from finalexam.analyze.behavior.facts import IMPORT, INSTALL, RUNTIME, Fact, Facts
from finalexam.analyze.behavior.javascript import vocabulary as v
from finalexam.analyze.behavior.javascript.parse import parse
from finalexam.analyze.behavior.javascript.strings import (
    BASE64_TEXT,
    char_codes,
    decode,
    obfuscator_decode,
    unescape,
)
from finalexam.analyze.behavior.python.messages import is_prose

MAX_NESTING = 2  # code in strings in code in strings: read this deep
MAX_VALUE = 2048  # folded strings are cut here
MAX_PRODUCER_NODES = 400  # nodes of one expression searched for where its data comes from
UNKNOWN = "*"
# data fetched from a URL the caller names (a loader's request): no rule reads it as code
ASKED_NETWORK = "network:asked"
_URL_BUILDERS = frozenset({"URL", "encodeURIComponent", "encodeURI", "String"})
_MODULE_SUFFIXES = (".js", ".mjs", ".cjs")
FUNCTIONS = frozenset(
    {
        "function_declaration",
        "function_expression",
        "arrow_function",
        "method_definition",
        "generator_function_declaration",
        "generator_function",
    }
)
_QUERY_TEXT = "(pair value: [(string) (template_string)]) @pair\n" + "\n".join(
    f"({kind}) @{kind}"
    for kind in (
        "call_expression",
        "new_expression",
        "variable_declarator",
        "assignment_expression",
        "augmented_assignment_expression",
        "import_statement",
        "string",
        "template_string",
        "binary_expression",
        "if_statement",
        "while_statement",
        "for_statement",
        "do_statement",
        "array",
        "comment",
        *sorted(FUNCTIONS),
    )
)
# strings worth reading as code: they load modules or evaluate
CODE_LIKE = re.compile(
    r"\brequire\s*\(|\beval\s*\(|child_process|\bnew\s+Function\s*\(|\bimport\s*\("
)


_QUERIES: dict[str, Query] = {}
_SOURCE: list[bytes] = [b""]  # the bytes being read (a tree parsed from a callback has none)


def text_of(node: Node | None) -> str:
    if node is None:
        return ""
    return _SOURCE[-1][node.start_byte : node.end_byte].decode("utf-8", "replace")


def _captures(tree: Tree, dialect: str) -> tuple[list[Node], list[Node]]:
    """Every node of interest and every function, each in source order (an outer node
    before the ones inside it): one query, run in native code."""
    query = _QUERIES.get(dialect)
    if query is None:
        query = _QUERIES[dialect] = Query(tree.language, _QUERY_TEXT)
    nodes: list[Node] = []
    functions: list[Node] = []
    for kind, found in QueryCursor(query).captures(tree.root_node).items():
        (functions if kind in FUNCTIONS else nodes).extend(found)
    nodes.sort(key=lambda n: (n.start_byte, -n.end_byte))
    functions.sort(key=lambda n: (n.start_byte, -n.end_byte))
    return nodes, functions


def _unparen(node: Node | None) -> Node | None:
    while node is not None and node.type in ("parenthesized_expression", "non_null_expression"):
        inner = [c for c in node.named_children if c.type != "comment"]
        node = inner[-1] if inner else None
    if node is not None and node.type == "sequence_expression":  # (0, eval)(x)
        inner = node.named_children
        return _unparen(inner[-1]) if inner else None
    if node is not None and node.type in ("as_expression", "satisfies_expression"):
        return _unparen(node.named_children[0] if node.named_children else None)
    return node


def _arguments(call: Node) -> list[Node]:
    args = call.child_by_field_name("arguments")
    if args is None or args.type != "arguments":
        return []
    return [a for a in args.named_children if a.type != "comment"]


def _is_iife(function: Node) -> bool:
    """``(function () { ... })()`` / ``(() => {...})()`` / ``!function(){}()``: runs now."""
    parent = function.parent
    while parent is not None and parent.type in ("parenthesized_expression", "unary_expression"):
        function, parent = parent, parent.parent
    if parent is None:
        return False
    if parent.type == "call_expression" and parent.child_by_field_name("function") == function:
        return True
    # (function(){}).call(this) / .apply(...)
    if parent.type == "member_expression" and parent.parent is not None:
        prop = parent.child_by_field_name("property")
        return parent.parent.type == "call_expression" and text_of(prop) in ("call", "apply")
    return False


def _function_name(function: Node) -> str | None:
    name = function.child_by_field_name("name")
    if name is not None:
        return text_of(name)
    parent = function.parent
    if parent is not None and parent.type == "variable_declarator":
        target = parent.child_by_field_name("name")
        return text_of(target) if target is not None and target.type == "identifier" else None
    if parent is not None and parent.type == "assignment_expression":
        target = parent.child_by_field_name("left")
        return text_of(target) if target is not None else None
    return None


def _parameters(function: Node) -> list[str]:
    params = function.child_by_field_name("parameters") or function.child_by_field_name("parameter")
    if params is None:
        return []
    if params.type == "identifier":
        return [text_of(params)]
    names = []
    for param in params.named_children:
        target = param.child_by_field_name("pattern") or param
        if target.type == "assignment_pattern":
            target = target.child_by_field_name("left") or target
        names.append(text_of(target) if target.type == "identifier" else "")
    return names


@dataclass
class _Scopes:
    """Which byte ranges are bodies of functions someone has to call (runtime code)."""

    starts: list[int] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)
    lines: list[tuple[int, int]] = field(default_factory=list)  # first and last line

    @classmethod
    def of(cls, functions: Iterable[Node]) -> _Scopes:
        scopes = cls()
        last_end = -1
        for function in functions:  # sorted: outer first
            if function.start_byte < last_end:
                continue
            scopes.starts.append(function.start_byte)
            scopes.ends.append(function.end_byte)
            scopes.lines.append((function.start_point[0] + 1, function.end_point[0] + 1))
            last_end = function.end_byte
        return scopes

    def runtime(self, offset: int) -> bool:
        index = bisect.bisect_right(self.starts, offset) - 1
        return index >= 0 and offset < self.ends[index]

    def add(self, start: int, end: int) -> None:
        """One more range judged as runtime code (outside every range there is)."""
        index = bisect.bisect_right(self.starts, start)
        self.starts.insert(index, start)
        self.ends.insert(index, end)


@dataclass
class _Sink:
    """A function of the file that writes to, deletes or runs one of its parameters."""

    index: int
    action: str  # write | delete | spawn


class Reader:
    def __init__(self, source: bytes, install_file: bool, nesting: int) -> None:
        self.source = source
        self.install_file = install_file
        self.nesting = nesting
        self.result = Facts()
        # (scope, local name) -> dotted module path; scopes as for ``labels``
        self.aliases: dict[tuple[int, str], str] = {}
        self.modules: set[str] = set()  # modules the file loads
        self.values: dict[str, Node] = {}  # local name -> the expression it was given
        # (scope, local name) -> where its data came from. The scope is the function that
        # declares the name (0: the file), so that minified code, which reuses ``e`` and
        # ``t`` in every function, does not lend one function's data to another's.
        self.labels: dict[tuple[int, str], set[str]] = {}
        # Functions by source order (index + 1; 0 is the file): byte ranges, the function
        # each is nested in, the names each declares, and where a name used in one is bound.
        self._fn_starts: list[int] = []
        self._fn_ends: list[int] = []
        self._fn_parent: list[int] = []
        self._declared: dict[int, set[str]] = {}
        self._bindings: dict[tuple[int, str], int] = {}
        self.sinks: dict[str, list[_Sink]] = {}
        # (scope, name) -> zone | language it was read from, bound like ``labels``: a
        # minified bundle's ``s`` holding the language in one function is not the ``s`` of
        # every other (jupyterlab's jlab_core bundle)
        self.gate_names: dict[tuple[int, str], str] = {}
        self.scopes = _Scopes()
        self._folding: set[int] = set()
        self._names: dict[int, str | None] = {}
        self.bound = False  # every alias of the file is known
        self._host_tables: dict[tuple[int, int], bool] = {}
        self.shown: set[tuple[int, int]] = set()  # literals a page shows (_on_pair)
        self._nodes: list[Node] = []
        self._functions: list[Node] = []
        self._called_with_urls: set[str] | None = None  # functions a call hands a literal URL
        # expression -> (sources it names, bound names it reads): see ``_sources``
        self._source_parts: dict[int, tuple[frozenset[str], tuple[tuple[int, str], ...]]] = {}

    # -- context ----------------------------------------------------------------------------

    def context(self, node: Node) -> str:
        if self.install_file:
            return INSTALL
        return RUNTIME if self.scopes.runtime(node.start_byte) else IMPORT

    def add(self, kind: str, value: str, node: Node, context: str | None = None) -> None:
        line = node.start_point[0] + 1
        self.result.facts.append(Fact(kind, value, line, context or self.context(node)))

    # -- the whole file ---------------------------------------------------------------------

    def read(self, tree: Tree, dialect: str) -> None:
        nodes, functions = _captures(tree, dialect)
        named: dict[str, Node] = {}
        for function in functions:
            name = _function_name(function)
            if name:
                named.setdefault(name, function)
        self._declare(nodes, functions)
        self._nodes, self._functions = nodes, functions
        for node in nodes:  # aliases and values first: code may use a name above its line
            if node.type in ("variable_declarator", "assignment_expression"):
                self._bind(node)
            elif node.type == "import_statement":
                self._import(node)
        self.bound = True
        # functions called from top level run at import (one level, as for Python)
        outer = _Scopes.of(f for f in functions if not _is_iife(f))
        promoted: set[int] = set()
        for node in nodes:
            if node.type == "call_expression" and not outer.runtime(node.start_byte):
                callee = _unparen(node.child_by_field_name("function"))
                if callee is not None and callee.type == "identifier":
                    called = named.get(text_of(callee))
                    if called is not None:
                        promoted.add(called.id)
        self.scopes = _Scopes.of(f for f in functions if not _is_iife(f) and f.id not in promoted)
        for start, end in list(self._declarations(nodes)):
            self.scopes.add(start, end)
        for node in nodes:
            if node.type == "call_expression":
                self._function_sink(node)
        for rounds in range(2):  # where data comes from, through assignments in any order
            if rounds and not self.labels:
                break
            for node in nodes:
                if node.type in (
                    "variable_declarator",
                    "assignment_expression",
                    "augmented_assignment_expression",
                ):
                    self._label(node)
                elif node.type == "call_expression":
                    self._label_callbacks(node)
        for node in nodes:
            handler = getattr(self, f"_on_{node.type}", None)
            if handler is not None:
                handler(node)
            elif node.type == "comment":
                # a comment runs nothing: playwright's bundled ip-address library documents
                # "as returned by Node's `os.networkInterfaces()`" (the raw patterns skip it)
                (row, column), (end_row, end_column) = node.start_point, node.end_point
                self.result.told.append((row + 1, column, end_row + 1, end_column))
        if not self.install_file:
            for first, last in self.scopes.lines:  # lines wholly inside a function body
                for line in range(first + 1, last):
                    self.result.line_context[line] = RUNTIME
            self.result.runtime_spans = self._character_spans()

    def _declarations(self, nodes: list[Node]) -> Iterator[tuple[int, int]]:
        """Module-level names given who or where the machine is (``ifaces =
        os.networkInterfaces()``) that only function bodies read: a declaration, judged
        where it is used, as for Python (declarations.py). storybook's dev server reads its
        own addresses to print the URL it listens on. A read at module level keeps it there."""
        for node in nodes:
            if node.type != "variable_declarator" or self.scopes.runtime(node.start_byte):
                continue
            target, value = node.child_by_field_name("name"), node.child_by_field_name("value")
            value = _unparen(value)
            if target is None or target.type != "identifier" or value is None:
                continue
            if value.type != "call_expression" or self.call_name(value) not in v.RECON:
                continue
            name = re.escape(text_of(target).encode())
            reads = re.finditer(rb"(?<![\w$.])" + name + rb"(?![\w$])", self.source)
            if all(
                self.scopes.runtime(read.start())
                for read in reads
                if read.start() != target.start_byte
            ):
                yield node.start_byte, node.end_byte

    def _character_spans(self) -> list[tuple[int, int]]:
        """The runtime scopes' byte ranges as character offsets of the text the engine
        matches, counted in one pass (the scopes are in order and do not overlap)."""
        spans: list[tuple[int, int]] = []
        at_byte = at_char = 0
        for start, end in zip(self.scopes.starts, self.scopes.ends, strict=True):
            at_char += len(self.source[at_byte:start].decode("utf-8", "surrogatepass"))
            begin = at_char
            at_char += len(self.source[start:end].decode("utf-8", "surrogatepass"))
            at_byte = end
            spans.append((begin, at_char))
        return spans

    # -- names ------------------------------------------------------------------------------

    def module_of(self, node: Node | None) -> str | None:
        """The module a ``require('x')`` / interop-wrapped require / ``import('x')`` loads."""
        node = _unparen(node)
        if node is None or node.type not in ("call_expression", "await_expression"):
            return None
        if node.type == "await_expression":
            return self.module_of(node.named_children[0] if node.named_children else None)
        callee = _unparen(node.child_by_field_name("function"))
        args = _arguments(node)
        if callee is None or not args:
            return None
        if callee.type == "import":
            name = self.constant(args[0])
            return _module(name) if name else None
        callee_name = self.resolve(callee)
        if callee_name is not None and v.is_interop_wrapper(callee_name):
            return self.module_of(args[0])
        if callee_name in v.REQUIRE_NAMES or (
            callee_name is not None and callee_name.endswith((".require", "._load"))
        ):
            name = self.constant(args[0])
            return _module(name) if name else None
        return None

    def resolve(self, node: Node | None, depth: int = 0) -> str | None:
        """The dotted name an expression stands for: ``child_process.exec`` for ``cp.exec``."""
        node = _unparen(node)
        if node is None or depth > 12:
            return None
        if node.id in self._names:
            return self._names[node.id]
        name = self._resolve(node, depth)
        if self.bound:  # names are final once every alias is known
            self._names[node.id] = name
        return name

    def _resolve(self, node: Node, depth: int) -> str | None:
        kind = node.type
        if kind == "identifier":
            name = text_of(node)
            return self.aliases.get(self._key(name, node), name)
        if kind in ("this", "super"):
            return kind
        if kind == "member_expression":
            base = self.resolve(node.child_by_field_name("object"), depth + 1)
            prop = node.child_by_field_name("property")
            if base is None or prop is None:
                return None
            return _join(base, text_of(prop))
        if kind == "subscript_expression":
            base = self.resolve(node.child_by_field_name("object"), depth + 1)
            index = self.constant(node.child_by_field_name("index"))
            if base is None or not index or not re.fullmatch(r"[\w$]+", index):
                return None
            return _join(base, index)
        if kind in ("call_expression", "await_expression"):
            return self.module_of(node)
        return None

    def call_name(self, call: Node) -> str | None:
        callee = call.child_by_field_name("function") or call.child_by_field_name("constructor")
        name = self.resolve(callee)
        if name is None:
            return None
        for prefix in v.GLOBAL_OBJECTS:
            if name.startswith(prefix):
                name = name[len(prefix) :]
        return name

    def _bind(self, node: Node) -> None:
        left = node.child_by_field_name("name") or node.child_by_field_name("left")
        right = _unparen(node.child_by_field_name("value") or node.child_by_field_name("right"))
        if left is None or right is None:
            return
        source = self.module_of(right)
        if source is None and right.type in ("member_expression", "subscript_expression"):
            base = self.resolve(right)  # const exec = cp.exec; const x = require('y').z
            if base is not None and "." in base and base.split(".", 1)[0] in self.modules:
                source = base
        if source is None and right.type == "identifier":
            name = self.resolve(right)
            if name in v.REQUIRE_NAMES or name in v.EVALUATORS:
                source = name
        if source is not None:
            self.modules.add(source.split(".", 1)[0])
        if left.type == "identifier":
            name = text_of(left)
            if source is not None:
                self.aliases[self._key(name, left)] = source
            else:
                self.values.setdefault(name, right)
                kind = _gate_kind(text_of(right)[:400])
                if kind is not None:
                    self.gate_names[self._key(name, left)] = kind
        elif left.type == "object_pattern" and source is not None:
            for item in left.named_children:
                if item.type == "shorthand_property_identifier_pattern":
                    self.aliases[self._key(text_of(item), item)] = f"{source}.{text_of(item)}"
                elif item.type == "pair_pattern":
                    key = item.child_by_field_name("key")
                    value = item.child_by_field_name("value")
                    if key is not None and value is not None and value.type == "identifier":
                        self.aliases[self._key(text_of(value), value)] = (
                            f"{source}.{text_of(key).strip(chr(39) + chr(34))}"
                        )
        elif left.type in ("member_expression", "subscript_expression"):
            target = self.resolve(left)
            if target is not None and source is None:
                self.values.setdefault(target, right)

    def _import(self, node: Node) -> None:
        source = node.child_by_field_name("source")
        module = _module(self.constant(source) or "") if source is not None else ""
        if not module:
            return
        self.modules.add(module)
        self.add("call", f"import {module}", node)
        clause = next((c for c in node.named_children if c.type == "import_clause"), None)
        if clause is None:
            return
        for part in clause.named_children:
            if part.type == "identifier":  # import fs from 'fs'
                self.aliases[(0, text_of(part))] = module
            elif part.type == "namespace_import":
                names = [c for c in part.named_children if c.type == "identifier"]
                if names:
                    self.aliases[(0, text_of(names[0]))] = module
            elif part.type == "named_imports":
                for spec in part.named_children:
                    if spec.type != "import_specifier":
                        continue
                    name = spec.child_by_field_name("name")
                    alias = spec.child_by_field_name("alias") or name
                    if name is not None and alias is not None:
                        self.aliases[(0, text_of(alias))] = f"{module}.{text_of(name)}"

    # -- values -----------------------------------------------------------------------------

    def constant(self, node: Node | None) -> str | None:
        """The string an expression always is, when nothing in it is unknown."""
        value = self.value(node)
        return value if value is not None and UNKNOWN not in value else None

    def value(self, node: Node | None, depth: int = 0) -> str | None:
        """The string an expression evaluates to, ``*`` for the parts that cannot be known,
        the user's home folder as ``~``; None when nothing of it is known."""
        node = _unparen(node)
        if node is None or depth > 16:
            return None
        kind = node.type
        if kind == "string":
            return unescape(text_of(node)[1:-1])[:MAX_VALUE]
        if kind == "template_string":
            parts = []
            for child in node.named_children:
                if child.type == "string_fragment":
                    parts.append(text_of(child))
                elif child.type == "escape_sequence":
                    parts.append(unescape(text_of(child)))
                elif child.type == "template_substitution":
                    inner = child.named_children[0] if child.named_children else None
                    parts.append(_known(self.value(inner, depth + 1)))
            return "".join(parts)[:MAX_VALUE]
        if kind == "binary_expression":
            if text_of(node.child_by_field_name("operator")) != "+":
                return None
            left = self.value(node.child_by_field_name("left"), depth + 1)
            right = self.value(node.child_by_field_name("right"), depth + 1)
            if left is None and right is None:
                return None
            return (_known(left) + _known(right))[:MAX_VALUE]
        if kind == "identifier":
            name = text_of(node)
            alias = self.aliases.get(self._key(name, node))
            if alias is not None:
                return v.FOLDER_CALLS.get(alias)  # `${homedir}`
            if name == "__dirname":
                return "."
            bound = self.values.get(name)
            if bound is not None and bound.id not in self._folding:
                self._folding.add(bound.id)
                try:
                    return self.value(bound, depth + 1)
                finally:
                    self._folding.discard(bound.id)
            return None
        if kind in ("member_expression", "subscript_expression"):
            dotted = self.resolve(node)
            if dotted is None:
                return None
            name = dotted
            if name.startswith("process.env."):
                return v.HOME_VARIABLES.get(name.rsplit(".", 1)[1])
            if name in v.FOLDER_CALLS:
                return v.FOLDER_CALLS[name]
            if name.endswith((".homedir", ".userInfo().homedir")):
                return "~"
            return None
        if kind == "call_expression":
            return self._call_value(node, depth)
        return None

    def _call_value(self, node: Node, depth: int) -> str | None:
        name = self.call_name(node)
        args = _arguments(node)
        if name in v.FOLDER_CALLS:
            return v.FOLDER_CALLS[name]
        if name in v.PATH_JOINERS and args:
            parts = [_known(self.value(a, depth + 1)) for a in args]
            return "/".join(p.strip("/\\") if i else p.rstrip("/\\") for i, p in enumerate(parts))
        if name == "String.fromCharCode":
            numbers = [_integer(a) for a in args]
            return (
                char_codes([n for n in numbers if n is not None]) if None not in numbers else None
            )
        if name in ("atob", "Buffer.from") and args:
            encoding = (
                "base64" if name == "atob" else self.constant(args[1]) if len(args) > 1 else None
            )
            data = self.constant(args[0])
            if data is not None and encoding in ("base64", "base64url", "hex"):
                return decode(data, encoding)
            return None
        callee = _unparen(node.child_by_field_name("function"))
        if callee is not None and callee.type == "member_expression":
            method = text_of(callee.child_by_field_name("property"))
            target = callee.child_by_field_name("object")
            if method == "toString" or method == "trim":
                return self.value(target, depth + 1)
            if method == "concat":  # "".concat(a, b): what compilers make of `${a}${b}`
                pieces = [self.value(p, depth + 1) for p in (target, *args)]
                if all(p is None for p in pieces):
                    return None
                return "".join(_known(p) for p in pieces)[:MAX_VALUE]
            if method == "join" and _unparen(target) is not None:
                array = _unparen(target)
                if array is not None and array.type == "array":
                    sep = self.constant(args[0]) if args else ","
                    items = [self.value(i, depth + 1) for i in array.named_children]
                    return (sep or "").join(_known(i) for i in items)[:MAX_VALUE]
            if method == "reverse" or method == "split":
                return None
        return None

    # -- where data comes from --------------------------------------------------------------

    def producers(self, node: Node | None) -> set[str]:
        """Labels of the sources an expression's data comes from (decoders, decryption, the
        network, an HTTP request, the environment, system details)."""
        if node is None:
            return set()
        sources, names = self._sources(node)
        found = set(sources)
        for key in names:
            found |= self.labels.get(key, set())
        return found

    def _sources(self, node: Node) -> tuple[frozenset[str], tuple[tuple[int, str], ...]]:
        """What an expression's data comes from, in two parts: the sources it names itself
        (calls, ``process.env``, request headers), and the bound names it reads, whose labels
        are looked up at each use. Both are fixed once every alias is known, so each
        expression is walked once, however many rounds of labelling read it."""
        cached = self._source_parts.get(node.id)
        if cached is not None:
            return cached
        found: set[str] = set()
        names: list[tuple[int, str]] = []
        stack = [node]
        seen = 0
        while stack and seen < MAX_PRODUCER_NODES:
            current = stack.pop()
            seen += 1
            kind = current.type
            if kind in FUNCTIONS:
                continue  # a function's body is not this expression's data
            if kind == "identifier":
                names.append(self._key(text_of(current), current))
                continue
            if kind in ("member_expression", "subscript_expression"):
                name = self.resolve(current)
                if name is not None:
                    names.append(self._key(name, current))
                    parent = current.parent
                    whole = parent is None or parent.type not in (
                        "member_expression",
                        "subscript_expression",
                    )
                    if name == "process.env" and whole:
                        found.add("process.env")
                prop = current.child_by_field_name("property")
                if (
                    prop is not None
                    and text_of(prop) in ("headers", "cookies", "rawHeaders")
                    and not _names_configuration(current.child_by_field_name("object"))
                ):
                    found.add("request")
            elif kind in ("call_expression", "new_expression"):
                found |= self._call_label(current)
            stack.extend(current.named_children)
        parts = (frozenset(found), tuple(dict.fromkeys(names)))
        if self.bound:
            self._source_parts[node.id] = parts
        return parts

    def _call_label(self, node: Node) -> set[str]:
        name = self.call_name(node)
        if name is None:
            return set()
        if name == "Buffer.from":
            args = _arguments(node)
            encoding = self.constant(args[1]) if len(args) > 1 else None
            return {"Buffer.from"} if encoding in ("base64", "base64url", "hex") else set()
        if name in v.DECODERS:
            return {name}
        if name.startswith(v.DECIPHERS):
            return {"decipher"}
        if name in v.NETWORK_CALLS:
            return {ASKED_NETWORK} if self._fetches_what_it_is_asked(node) else {"network"}
        if name in v.RECON:
            return {"recon"}
        if name.startswith(("zlib.inflate", "zlib.gunzip", "zlib.brotliDecompress")):
            return {"zlib"}
        if name.startswith(("fs.readFile", "fs.promises.readFile")):
            return {"file"} if self._names_a_file(node) else set()
        return set()

    def _fetches_what_it_is_asked(self, node: Node) -> bool:
        """A request for a URL made of the enclosing function's parameters only, a function no
        call in the file hands a literal URL: Module Federation's ``loadModule(url)`` (in
        jupyterlab's galata bundle) fetches and runs the module its caller names, as a
        loader does. ``run('https://...')`` calling the same function still counts."""
        args = _arguments(node)
        scope = self._innermost(node)
        if not args or scope == 0:
            return False
        function = self._functions[scope - 1]
        parameters = {p for p in _parameters(function) if p}
        used = False
        for inner in _descendants(args[0], "string", "template_string", "identifier"):
            if inner.type in ("string", "template_string") and "://" in text_of(inner):
                return False
            if inner.type == "identifier":
                if text_of(inner) not in parameters and text_of(inner) not in _URL_BUILDERS:
                    return False
                used = used or text_of(inner) in parameters
        name = _function_name(function)
        return used and name is not None and name not in self._url_callees()

    def _url_callees(self) -> set[str]:
        """Names of the functions some call in the file hands a literal URL."""
        if self._called_with_urls is None:
            self._called_with_urls = set()
            for node in self._nodes:
                if node.type != "call_expression":
                    continue
                callee = _unparen(node.child_by_field_name("function"))
                if callee is not None and callee.type == "member_expression":
                    callee = callee.child_by_field_name("property")
                if callee is None or not any(
                    a.type in ("string", "template_string") and "//" in text_of(a)
                    for a in _arguments(node)
                ):
                    continue
                self._called_with_urls.add(text_of(callee))
        return self._called_with_urls

    def _names_a_file(self, node: Node) -> bool:
        """A read of a file the package names (``__dirname + '/data.txt'``), not of one its
        caller hands over: Next.js's manifest loader and edge sandbox read whatever path they
        are given and run it, as every module loader does."""
        args = _arguments(node)
        path = self.value(args[0]) if args else None
        if path is not None and path.endswith(_MODULE_SUFFIXES):
            # esbuild's wasm launcher runs its own wasm_exec_node.js through Function(): a
            # module of the package, read as text, is examined as code on its own
            return False
        return path is not None and path.strip(UNKNOWN + "/") != ""

    def _declare(self, nodes: list[Node], functions: list[Node]) -> None:
        """The names each function declares (its parameters and its variables), and the
        nesting of functions, from their byte ranges (``functions`` is in source order)."""
        self._fn_starts = [f.start_byte for f in functions]
        self._fn_ends = [f.end_byte for f in functions]
        stack: list[int] = []
        for index, function in enumerate(functions):
            while stack and self._fn_ends[stack[-1]] < function.end_byte:
                stack.pop()
            self._fn_parent.append(stack[-1] if stack else -1)
            stack.append(index)
            self._declared[index + 1] = {p for p in _parameters(function) if p}
        for node in nodes:
            if node.type != "variable_declarator":
                continue
            target = node.child_by_field_name("name")
            if target is not None and target.type == "identifier":
                scope = self._innermost(node)
                if scope:
                    self._declared[scope].add(text_of(target))

    def _innermost(self, node: Node) -> int:
        """The innermost function holding ``node``, as its index + 1 (0: none, the file)."""
        index = bisect.bisect_right(self._fn_starts, node.start_byte) - 1
        while index >= 0 and (
            self._fn_ends[index] < node.end_byte or self._fn_starts[index] == node.start_byte
        ):
            index = self._fn_parent[index]  # a sibling that ended before, or the node itself
        return index + 1

    def _function_scope(self, function: Node) -> int:
        """The scope a function's parameters are declared in: the function itself."""
        index = bisect.bisect_left(self._fn_starts, function.start_byte)
        while index < len(self._fn_starts) and self._fn_starts[index] == function.start_byte:
            if self._fn_ends[index] == function.end_byte:
                return index + 1
            index += 1
        return 0

    def _key(self, name: str, node: Node) -> tuple[int, str]:
        """Where ``name``, used at ``node``, is bound: the innermost enclosing function that
        declares its first part, else the file (0)."""
        base = name.split(".", 1)[0]
        innermost = self._innermost(node)
        bound = self._bindings.get((innermost, base))
        if bound is None:
            bound, scope = 0, innermost
            while scope:
                if base in self._declared[scope]:
                    bound = scope
                    break
                scope = self._fn_parent[scope - 1] + 1
            self._bindings[(innermost, base)] = bound
        return bound, name

    def _label(self, node: Node) -> None:
        left = node.child_by_field_name("name") or node.child_by_field_name("left")
        right = node.child_by_field_name("value") or node.child_by_field_name("right")
        if left is None or right is None:
            return
        labels = self.producers(right)
        if not labels:
            return
        target: Node | None = left
        while target is not None and target.type == "subscript_expression":
            target = target.child_by_field_name("object")  # log[i] = v: log holds v
        name = self.resolve(target) if target is not None else None
        if name is not None and target is not None and target.type != "object_pattern":
            self.labels.setdefault(self._key(name, target), set()).update(labels)

    def _label_callbacks(self, node: Node) -> None:
        """Parameters of a callback get the labels of what it is called on or by:
        ``https.get(url, res => ...)``, ``JSON.stringify(req.headers).replace(r, (m, v) => {})``
        """
        callbacks = [arg for arg in _arguments(node) if arg.type in FUNCTIONS]
        if not callbacks:
            return  # most calls: nothing to label, so the callee's data is not looked up
        callee = _unparen(node.child_by_field_name("function"))
        labels = self._call_label(node)
        if callee is not None and callee.type == "member_expression":
            labels = labels | self.producers(callee.child_by_field_name("object"))
        if not labels:
            return
        for arg in callbacks:
            for param in _parameters(arg):
                if param:
                    key = (self._function_scope(arg), param)
                    self.labels.setdefault(key, set()).update(labels)

    def _function_sink(self, call: Node) -> None:
        """A write, deletion or spawn of a parameter: calls of the function do it to their
        argument (``function deliver(path, text) { fs.writeFile(path, text) }``)."""
        callee = self.call_name(call)
        action = _action(callee)
        if action is None:
            return
        args = _arguments(call)
        index = 1 if callee in v.TWO_PATH else 0
        if len(args) <= index or args[index].type != "identifier":
            return
        function = call.parent
        while function is not None and function.type not in FUNCTIONS:
            function = function.parent
        name = _function_name(function) if function is not None else None
        if function is None or not name:
            return
        params = _parameters(function)
        param = text_of(args[index])
        if param in params:
            self.sinks.setdefault(name, []).append(_Sink(params.index(param), action))

    # -- per node ---------------------------------------------------------------------------

    def _on_string(self, node: Node) -> None:
        parent = node.parent
        if parent is not None and parent.type == "binary_expression":
            return  # the folded concatenation is the fact
        if _refused(node):
            return
        if (node.start_byte, node.end_byte) in self.shown:
            return
        text = unescape(text_of(node)[1:-1])
        if _BARE_HOST.match(text) and self._host_table(node.parent):
            return
        if len(text) > 2:
            self.add("string", text, node)
            self._embedded(text, node)

    def _host_table(self, array: Node | None) -> bool:
        """A long array of bare host names is a table of domains, not hosts the code reaches:
        psl 1.15.0 ships the Public Suffix List (``"ap.ngrok.io"``, ``"duckdns.org"`` among
        9,700 suffixes). A short list of hosts (a C2 fallback list) stays a list of hosts."""
        if array is None or array.type != "array":
            return False
        key = (array.start_byte, array.end_byte)
        known = self._host_tables.get(key)
        if known is None:
            items = array.named_children
            hosts = sum(
                1
                for item in items
                if item.type == "string" and _BARE_HOST.match(text_of(item)[1:-1])
            )
            known = len(items) >= _HOST_TABLE_SIZE and hosts >= 0.95 * len(items)
            self._host_tables[key] = known
        return known

    def _on_template_string(self, node: Node) -> None:
        if (node.start_byte, node.end_byte) in self.shown:
            return
        text = self.value(node)
        if text and len(text) > 2:
            self.add("string", text, node)

    def _on_pair(self, node: Node) -> None:
        """A sentence a page shows: the text of a rendered element (compiled JSX's
        ``children``) or of a label, title or tooltip. arize-phoenix's settings page explains
        "Uses boto3 default credential chain: ... or ~/.aws/credentials." A path in it is
        read by the user, not opened; its span is told, as a comment's is. (The pair comes
        before its literal: the literal's handler then passes over it.)"""
        key = node.child_by_field_name("key")
        value = node.child_by_field_name("value")
        if key is None or value is None or not v.SHOWN_KEY.match(text_of(key)):
            return
        literal = value.type == "string"
        text = unescape(text_of(value)[1:-1]) if literal else (self.value(value) or "")
        if not is_prose(text):
            return
        self.shown.add((value.start_byte, value.end_byte))
        (row, column), (end_row, end_column) = value.start_point, value.end_point
        self.result.told.append((row + 1, column, end_row + 1, end_column))

    def _on_binary_expression(self, node: Node) -> None:
        parent = node.parent
        if parent is not None and parent.type == "binary_expression":
            return
        if text_of(node.child_by_field_name("operator")) != "+":
            return
        text = self.value(node)
        if text and len(text.replace(UNKNOWN, "")) > 2:
            self.add("string", text, node)

    def _on_array(self, node: Node) -> None:
        """A javascript-obfuscator string table: the decoded strings are the file's strings."""
        items = node.named_children
        if len(items) < 5 or not all(i.type == "string" for i in items[:50]):
            return
        parent = node.parent
        name = ""
        if parent is not None and parent.type == "variable_declarator":
            name = text_of(parent.child_by_field_name("name"))
        values = [unescape(text_of(i)[1:-1]) for i in items]
        encoded = sum(1 for t in values if BASE64_TEXT.fullmatch(t))
        if not name.startswith("_0x") and encoded < 0.8 * len(values):
            return
        for text in values:
            decoded = obfuscator_decode(text)
            if decoded and len(decoded) > 2:
                self.add("string", decoded, node)

    def _on_new_expression(self, node: Node) -> None:
        self._on_call_expression(node)

    def _on_call_expression(self, node: Node) -> None:
        name = self.call_name(node)
        args = _arguments(node)
        module = self.module_of(node) if node.type == "call_expression" else None
        if module is not None:
            self.add("call", f"import {module}", node)
        if name is None:
            return
        self.add("call", name, node)
        if name in v.EVALUATORS or name.endswith("._compile"):
            self._evaluated(node, name, args)
        if name in v.SPAWNERS:
            self._spawned(node, name, args)
        action = _action(name)
        if action in ("write", "delete"):
            index = 1 if name in v.TWO_PATH else 0
            if len(args) > index:
                self.add("call", f"{action}>{self.value(args[index]) or UNKNOWN}", node)
        for sink in self.sinks.get(name, ()):
            if len(args) > sink.index:
                target = self.value(args[sink.index]) or UNKNOWN
                self.add("call", f"{sink.action}>{target}", node)
        if name in v.NETWORK_CALLS or self._on_connection(node, name):
            labels = set().union(*(self.producers(a) for a in args)) if args else set()
            for label in sorted(labels - {"network", "request"}):
                self.add("call", f"network<-{label}", node)
        if name in v.DNS_CALLS and args:
            host = self.value(args[0])
            if host and UNKNOWN in host and re.search(r"\.[a-z0-9-]+\.[a-z]{2,}$", host, re.I):
                self.add("call", f"dns>{host}", node)
        decoded = self._call_value(node, 0) if name in v.DECODERS | {"Buffer.from"} else None
        if decoded and len(decoded) > 2:
            self.add("string", decoded, node)
            self._embedded(decoded, node)

    def _on_connection(self, node: Node, name: str) -> bool:
        """``req.write(data)`` / ``req.end(data)`` / ``ws.send(data)`` on a connection."""
        if not name.endswith((".send", ".write", ".end")):
            return False
        callee = _unparen(node.child_by_field_name("function"))
        target = callee.child_by_field_name("object") if callee is not None else None
        return bool({"network", ASKED_NETWORK} & self.producers(target))

    def _evaluated(self, node: Node, name: str, args: list[Node]) -> None:
        if not args:
            return
        if name in v.STRING_EVALUATORS:
            first = _unparen(args[0])
            if first is None or first.type in FUNCTIONS or first.type == "identifier":
                return
            args = args[:1]  # the delay and the callback's arguments are not code
        labels: set[str] = set()
        for arg in args:
            labels |= self._evaluated_labels(arg, name)
        for label in sorted(labels - {ASKED_NETWORK}):
            self.add("call", f"eval<-{label}", node)
        text = self.constant(args[-1])
        if text:
            self._embedded(text, node)

    def _evaluated_labels(self, arg: Node, evaluator: str) -> set[str]:
        """Where the code an evaluator runs comes from. A call handed to setTimeout is
        usually a factory returning a function (MathJax's ``setTimeout(Callback([...]))``):
        what its arguments carry is not what it returns, so only a decoding call, or a call
        on decoded data (``Buffer.from(x, 'base64').toString()``), counts there."""
        call = _unparen(arg)
        if evaluator not in v.STRING_EVALUATORS or call is None or call.type != "call_expression":
            return self.producers(arg)
        callee = _unparen(call.child_by_field_name("function"))
        target = callee.child_by_field_name("object") if callee is not None else None
        return self._call_label(call) | (self.producers(target) if target is not None else set())

    def _spawned(self, node: Node, name: str, args: list[Node]) -> None:
        if not args:
            return
        command = self.value(args[0]) or UNKNOWN
        if len(args) > 1 and _unparen(args[1]) is not None:
            second = _unparen(args[1])
            if second is not None and second.type == "array":
                command += " " + " ".join(self.value(a) or UNKNOWN for a in second.named_children)
        self.add("call", f"spawn>{command}", node)
        if command != UNKNOWN:
            self.add("string", command, node)
        labels: set[str] = set()
        for arg in args:
            labels |= self.producers(arg)
        for label in sorted(labels - {ASKED_NETWORK}):
            self.add("call", f"spawn<-{label}", node)

    def _on_if_statement(self, node: Node) -> None:
        """Code that runs only for some countries, languages or time zones."""
        condition = node.child_by_field_name("condition")
        if condition is None:
            return
        gate = _gate_kind(
            text_of(condition)[:2000],
            lambda word: self.gate_names.get(self._key(word, condition)),
        )
        if gate is None:
            return
        self.add("call", f"gate:{gate}", node)
        body = node.child_by_field_name("consequence")
        ends = body is not None and _exits(body)
        scope: list[Node] = []
        if ends:  # if (!russian) return; ...the rest runs only for the chosen ones
            sibling = node.next_named_sibling
            while sibling is not None:
                scope.append(sibling)
                sibling = sibling.next_named_sibling
        elif body is not None:
            scope.append(body)
        for part in scope:
            for call in _descendants(part, "call_expression"):
                name = self.call_name(call)
                if name in v.OUTPUT_CALLS and gate == "zone":
                    self.add("call", "gated:message", call)
                elif name in v.OPENERS:
                    self.add("call", "gated:open", call)
                elif name in v.NETWORK_CALLS:
                    self.add("call", "gated:network", call)
                elif _action(name) is not None:
                    self.add("call", f"gated:{_action(name)}", call)

    def _on_while_statement(self, node: Node) -> None:
        self._loop(node)

    def _on_do_statement(self, node: Node) -> None:
        self._loop(node)

    def _on_for_statement(self, node: Node) -> None:
        self._loop(node)

    def _loop(self, node: Node) -> None:
        """A loop at import time that nothing ends: the package hangs whoever loads it. One
        that awaits gives the event loop back on every turn: a poll, as Firefox's about:webrtc
        refreshes its page with ``while (true) { await ...; await setTimeout ... }``."""
        if self.context(node) == RUNTIME:
            return
        condition = node.child_by_field_name("condition")
        text = re.sub(r"[\s();]", "", text_of(condition)) if condition is not None else ""
        endless = text in ("", "true", "1", "!0", "!![]") or bool(re.search(r"<Infinity$", text))
        body = node.child_by_field_name("body")
        if not endless or body is None:
            return
        if any(True for _ in _descendants(body, *_LOOP_EXITS)):
            return
        self.add("call", "loop:endless", node)

    def _embedded(self, text: str, node: Node) -> None:
        """JavaScript carried in a string (evaluated, decoded, written out) is read too."""
        if self.nesting >= MAX_NESTING or len(text) < 8 or not CODE_LIKE.search(text):
            return
        if len(_CONTROL.findall(text)) * 100 > len(text):
            return  # binary data (pdf.js's sandbox holds QuickJS's wasm so), no source text
        inner = javascript_facts(text, install_file=self.install_file, _nesting=self.nesting + 1)
        context = self.context(node)
        for fact in inner.facts:
            self.add(fact.kind, fact.value, node, context)


# characters no source text holds (tabs and line ends aside)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


# a host name or suffix as a table of domains lists it (``*.compute.amazonaws.com``,
# ``!city.kawasaki.jp``): labels and dots only, no scheme, path, port or user
_BARE_HOST = re.compile(r"^[!*]?(?:\*\.)?[\w-]+(?:\.[\w-]+)*$")
_HOST_TABLE_SIZE = 200


# what ends a loop, or hands control back on each turn (await, yield)
_LOOP_EXITS = (
    "break_statement", "return_statement", "throw_statement", "await_expression",
    "yield_expression",
)  # fmt: skip
# keys of the lists a tool keeps away from: files it refuses to serve, watch or pack
_REFUSING_KEY = re.compile(r"(?i)^[\"']?(deny|ignored?|excluded?|exclusions|blocked|forbidden)")


def _refused(string: Node) -> bool:
    """An element of a list under a refusing key: vite's dev server denies ``fs.deny:
    [".env", "*.{crt,pem,key}", ".npmrc"]``, names of files it will not touch."""
    array = string.parent
    pair = array.parent if array is not None and array.type == "array" else None
    key = pair.child_by_field_name("key") if pair is not None and pair.type == "pair" else None
    return key is not None and bool(_REFUSING_KEY.match(text_of(key)))


def _gate_kind(text: str, held: Callable[[str], str | None] = lambda _: None) -> str | None:
    """Whether a condition reads the time zone or geolocation (``zone``) or the language
    (``language``), directly or through a variable that holds it (``held``)."""
    if v.ZONE_READS.search(text):
        return "zone"
    if v.LANGUAGE_READS.search(text):
        return "language"
    found = None
    for word in set(re.findall(r"(?<![\w$.])[A-Za-z_$][\w$]*", text)):
        kind = held(word)
        if kind == "zone":
            return kind
        found = found or kind
    return found


def _known(value: str | None) -> str:
    return UNKNOWN if value is None else value


def _descendants(node: Node, *kinds: str) -> Iterator[Node]:
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type in kinds:
            yield current
        stack.extend(reversed(current.named_children))


def _exits(body: Node) -> bool:
    kinds = {c.type for c in body.named_children} if body.type == "statement_block" else {body.type}
    text = text_of(body)
    return bool(kinds & {"return_statement", "throw_statement"}) or "process.exit" in text


def _action(name: str | None) -> str | None:
    if name is None:
        return None
    if name in v.WRITERS:
        return "write"
    if name in v.DELETERS:
        return "delete"
    if name in v.SPAWNERS:
        return "spawn"
    return None


def _module(name: str) -> str:
    return name[5:] if name.startswith("node:") else name


def _join(base: str, prop: str) -> str:
    if prop == "default":  # esbuild/babel interop: import_fs.default.writeFile is fs.writeFile
        return base
    if prop == "promises" and base == "fs":
        return "fs.promises"
    return f"{base}.{prop}"


def _integer(node: Node | None) -> int | None:
    node = _unparen(node)
    if node is None or node.type != "number":
        return None
    text = text_of(node).lower()
    try:
        return int(text, 16) if text.startswith("0x") else int(text)
    except ValueError:
        return None


def javascript_facts(
    source: str, *, install_file: bool = False, dialect: str = "javascript", _nesting: int = 0
) -> Facts:
    """Facts of one JavaScript or TypeScript source (``dialect``: the grammar to try first,
    from the file name). tree-sitter recovers from syntax errors, so every source gives
    facts; the intact parts of a broken one are read."""
    data = source.encode("utf-8", "surrogatepass")
    tree, dialect = parse(data, dialect)
    reader = Reader(data, install_file, _nesting)
    _SOURCE.append(data)
    try:
        reader.read(tree, dialect)
    finally:
        _SOURCE.pop()
    unique = dict.fromkeys(reader.result.facts)  # the same fact reached twice counts once
    reader.result.facts = list(unique)
    return reader.result


# Objects that hold a caller's settings: sentry-cli's execute(args, ..., config) turns
# config.headers into --header options of its own program; a request's headers come from
# a request object (req.headers), not from the options a function is called with
_CONFIGURATION_NAMES = frozenset(
    {"config", "configuration", "options", "opts", "settings", "cfg", "conf", "defaults"}
)


def _names_configuration(node: Node | None) -> bool:
    if node is None:
        return False
    name = text_of(node).rsplit(".", 1)[-1]
    return name.lstrip("_$") in _CONFIGURATION_NAMES
