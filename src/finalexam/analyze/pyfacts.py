"""Facts about Python source from its syntax tree: what is called, with which strings, and when.

Nothing is imported or executed. Calls are resolved through import aliases
(``import subprocess as sp``; ``from os import system as s``), dynamic imports
(``__import__('os').system``, ``importlib.import_module('os')``) and ``getattr`` with a
constant or folded attribute name (``getattr(os, 'sys' + 'tem')``). An evaluation whose input
comes from a decoder (directly or through one assignment) is recorded as
``exec<-base64.b64decode``.

Each fact carries its *context*: ``install`` (setup.py, or a setuptools command override),
``import`` (module level: runs as soon as the module is imported) or ``runtime`` (inside a
function that someone has to call).
"""

from __future__ import annotations

import ast
import base64
import binascii
import bisect
import codecs
import contextlib
import itertools
import re
import sys
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any, TypeGuard

from finalexam.model import IssueKind

INSTALL = "install"
IMPORT = "import"
RUNTIME = "runtime"

EVALUATORS = frozenset({"exec", "eval", "compile", "builtins.exec", "builtins.eval"})
DECODERS = (
    "base64.",
    "binascii.",
    "codecs.decode",
    "zlib.decompress",
    "gzip.decompress",
    "bz2.decompress",
    "lzma.decompress",
    "marshal.loads",
    "pickle.loads",
    "bytes.fromhex",
    "*.decrypt",
    "*.decrypt_and_verify",
    "xor",
    "*.fromhex",
    "*.b64decode",
    "*.decompress",
    "*.urlopen",
    "requests.get",
    "urllib.request.",
    "subprocess.getoutput",
    "subprocess.check_output",
    "os.popen",
)
# Sources whose values must not leave the machine, and the calls that send data out.
ENV_WHOLE = "os.environ"
_ENV_SINGLE_KEY = frozenset({"get", "setdefault", "pop", "__getitem__", "__contains__"})
_RECON = frozenset(
    {
        "socket.gethostname",
        "socket.getfqdn",
        "getpass.getuser",
        "os.getlogin",
        "platform.node",
        "os.uname",
        "uuid.getnode",
    }
)
SECRET_NAME = re.compile(
    r"(?i)^_*(\w*_)?(private_?key|priv_?key|mnem(onic)?|seed_?phrase|recovery_?phrase)s?$"
)
# A cloud access-key pair (key id and secret), which SDKs only ever use to sign requests: sent
# together as they are, they leave the machine. OAuth client id/secret pairs are sent by
# design and are not named here; nor is a secret alone (a job's secrets, a captcha secret).
ACCESS_SECRET_NAME = re.compile(
    r"(?i)^_*(aws_|access_?key_?|access_|ak_?)?secret(_?access)?(_?key)?$"
)
ACCESS_ID_NAME = re.compile(r"(?i)^_*(aws_)?(ak|access_?key(_?id)?)$")
_SENDERS = re.compile(
    r"^(requests|httpx|aiohttp|urllib\.request|urllib2|http\.client|httplib|smtplib|ftplib|"
    r"telebot|discord_webhook|dhooks)\.\w+(\.\w+)*$"
    r"|^[\w*.]*\.(urlopen|urlretrieve|post|put|request|send|sendall|sendto|send_message|sendMessage|"
    r"send_document|sendDocument|execute_webhook)$"
    r"|^[\w.]*(urlopen|urlretrieve)$"
)
# calls that turn key material into something meant to be shared: signatures, tokens,
# derived public keys and addresses, hashes
_PROTECTS = re.compile(
    r"(?i)(^|[._])(sign\w*|jwt\.encode|encode_jwt|hmac\w*|hash\w*|digest|sha\d+|md5|"
    r"encrypt\w*|derive\w*|public_?key\w*|from_key|from_private_key|from_mnemonic|"
    r"from_seed|load_pem_private_key|to_address|address\w*|hexdigest)$|^(hmac|hashlib)\.\w+$"
)
_ENCODED_URL = re.compile(r"^(aHR0cDovL|aHR0cHM6Ly)[A-Za-z0-9+/=_-]{4,}$")
_URL_IN = re.compile(r"https?://[\w.-]+")
_CODE_LIKE = re.compile(r"(^|;|\n)\s*(import \w|from [\w.]+ import )")
_SPAWNERS = re.compile(r"^(os\.(system|popen|exec\w*|spawn\w*|startfile)|subprocess\.\w+)$")
# setuptools/distutils commands whose override runs code at build or install time.
_COMMAND_BASES = frozenset(
    {
        "install",
        "develop",
        "egg_info",
        "build",
        "build_py",
        "build_ext",
        "sdist",
        "bdist_egg",
        "bdist_wheel",
        "install_lib",
        "install_scripts",
        "easy_install",
    }
)
# The commands pip's install runs after the build: code there acts on the user's machine, not
# on the build tree (compilers and code generators belong in build/build_ext/build_py).
_INSTALL_PHASE = frozenset(
    {
        "install",
        "develop",
        "egg_info",
        "bdist_egg",
        "install_lib",
        "install_scripts",
        "easy_install",
    }
)


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
class PyFacts:
    facts: list[Fact] = field(default_factory=list)
    line_context: dict[int, str] = field(default_factory=dict)
    command_overrides: list[tuple[str, int]] = field(default_factory=list)  # (class, line)
    # (module, function) an install-phase command override calls: code of the package itself
    # that runs at install time, read again as such once its file is known
    hook_calls: set[tuple[str, str]] = field(default_factory=set)
    parsed: bool = True

    def context_of(self, line: int, default: str) -> str:
        return self.line_context.get(line, default)


def fold(node: ast.AST | None) -> str | None:
    """The constant string an expression always evaluates to, when that can be known."""
    if node is None:
        return None
    if isinstance(node, ast.Constant):
        if isinstance(node.value, str):
            return node.value
        if isinstance(node.value, bytes):
            return node.value.decode("latin-1")
        return None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = fold(node.left), fold(node.right)
        return left + right if left is not None and right is not None else None
    if isinstance(node, ast.JoinedStr):
        parts = [fold(v) if not isinstance(v, ast.FormattedValue) else None for v in node.values]
        return "".join(p for p in parts if p is not None) if all(parts) else None
    if isinstance(node, ast.Call):
        func = node.func
        # "".join(["sys", "tem"]) and "metsys"[::-1] style folding of literal pieces
        if isinstance(func, ast.Attribute) and func.attr == "join" and len(node.args) == 1:
            sep = fold(func.value)
            arg = node.args[0]
            if sep is not None and isinstance(arg, ast.List | ast.Tuple):
                items = [fold(item) for item in arg.elts]
                if all(item is not None for item in items):
                    return sep.join(item for item in items if item is not None)
        if (
            isinstance(func, ast.Attribute)
            and func.attr == "decode"
            and isinstance(func.value, ast.Constant)
            and isinstance(func.value.value, bytes)
        ):
            # b'\x85\xa5\x81\x93'.decode('cp1026') is "eval": names spelled in EBCDIC etc.
            codec = fold(node.args[0]) if node.args else "utf-8"
            return _text_decode(func.value.value, codec) if codec is not None else None
        if isinstance(func, ast.Name) and func.id == "chr" and len(node.args) == 1:
            arg = node.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, int):
                return chr(arg.value) if 0 <= arg.value < 0x110000 else None
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice):
        base = fold(node.value)
        step = node.slice.step
        reverse = (
            isinstance(step, ast.UnaryOp)
            and isinstance(step.op, ast.USub)
            and isinstance(step.operand, ast.Constant)
            and step.operand.value == 1
        )
        if base is not None and reverse and node.slice.lower is None:
            return base[::-1]
    return None


_CODEC_NAME = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


def _text_decode(data: bytes, codec: str) -> str | None:
    """``data.decode(codec)`` for a standard text encoding; None for anything else."""
    if not _CODEC_NAME.match(codec):
        return None
    try:
        if not getattr(codecs.lookup(codec), "_is_text_encoding", True):
            return None  # bytes-to-bytes codecs (zlib, base64) are decoders, not spellings
        return data.decode(codec)
    except (LookupError, UnicodeError, ValueError):
        return None


MAX_DECODED = 1024 * 1024
MAX_NESTING = 3
_BYTE_DECODERS: dict[str, Callable[[bytes], bytes]] = {
    "b64decode": base64.b64decode,
    "urlsafe_b64decode": base64.urlsafe_b64decode,
    "b32decode": base64.b32decode,
    "b16decode": base64.b16decode,
    "b85decode": base64.b85decode,
    "a85decode": base64.a85decode,
    "decodebytes": base64.decodebytes,
    "unhexlify": binascii.unhexlify,
    "a2b_hex": binascii.a2b_hex,
    "a2b_base64": binascii.a2b_base64,
    "fromhex": lambda data: bytes.fromhex(data.decode("latin-1")),
}
_DECOMPRESSORS = {"zlib": zlib.MAX_WBITS, "gzip": 16 + zlib.MAX_WBITS}


def _inflate(data: bytes, wbits: int) -> bytes:
    inflater = zlib.decompressobj(wbits)
    return inflater.decompress(data, MAX_DECODED)  # bounded: no decompression bombs


def static_decode(node: ast.AST, resolve: Callable[[ast.AST], str | None]) -> bytes | None:
    """The bytes a decoding expression yields from literals, computed without running code:
    base64/base32/base85/hex, zlib/gzip, rot13, reversal, ``.decode()``, nested."""
    text = fold(node)
    if text is not None:
        return text.encode("latin-1", "replace")
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice):
        inner = static_decode(node.value, resolve)
        step = node.slice.step
        if inner is not None and isinstance(step, ast.UnaryOp) and node.slice.lower is None:
            return inner[::-1]
        return None
    if not isinstance(node, ast.Call) or not node.args:
        bare_method = (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("decode", "encode")
        )
        if bare_method:
            assert isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            return static_decode(node.func.value, resolve)
        return None
    name = resolve(node.func) or ""
    last = name.rsplit(".", 1)[-1]
    if (
        last in ("decode", "encode")
        and isinstance(node.func, ast.Attribute)
        and not name.startswith("codecs")
    ):
        return static_decode(node.func.value, resolve)
    data = static_decode(node.args[0], resolve)
    if data is None or len(data) > 8 * MAX_DECODED:
        return None
    try:
        if last in _BYTE_DECODERS:
            decoded: bytes = _BYTE_DECODERS[last](data)
            return decoded[:MAX_DECODED]
        if last == "decompress":
            module = name.split(".", 1)[0]
            if module == "bz2":
                return None
            return _inflate(data, _DECOMPRESSORS.get(module, zlib.MAX_WBITS))
        if name == "codecs.decode" and len(node.args) > 1:
            codec = (fold(node.args[1]) or "").replace("_", "").lower()
            if codec == "rot13":
                return codecs.decode(data.decode("latin-1"), "rot13").encode("latin-1", "replace")
            if codec in ("hex", "base64"):
                raw = codecs.decode(data, codec)
                return raw[:MAX_DECODED] if isinstance(raw, bytes) else None
    except (ValueError, TypeError, zlib.error, binascii.Error, LookupError, UnicodeError):
        return None
    return None


def _children(node: ast.AST) -> Iterator[ast.AST]:
    """``ast.iter_child_nodes``, without its generator of (name, value) pairs."""
    for name in node._fields:
        value = getattr(node, name, None)
        if isinstance(value, ast.AST):
            yield value
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, ast.AST):
                    yield item


def _walk(node: ast.AST) -> Iterator[ast.AST]:
    """``ast.walk`` (the same nodes in the same breadth-first order), faster."""
    todo = deque([node])
    while todo:
        node = todo.popleft()
        todo.extend(_children(node))
        yield node


_VISITORS: dict[type[ast.AST], Callable[[Any, Any], Any]] = {}


class _Collector(ast.NodeVisitor):
    def visit(self, node: ast.AST) -> Any:
        # ``NodeVisitor.visit`` builds the method name and looks it up for every node; the
        # method is looked up once per node class here. Same methods, same order, and the
        # same two frames per level (``visit``, then the method), so the recursion limit
        # stops the same files.
        kind = node.__class__
        method = _VISITORS.get(kind)
        if method is None:
            found: Callable[[Any, Any], Any] = getattr(
                _Collector, "visit_" + kind.__name__, _Collector.generic_visit
            )
            method = _VISITORS[kind] = found
        return method(self, node)

    def generic_visit(self, node: ast.AST) -> None:
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.AST):
                        self.visit(item)
            elif isinstance(value, ast.AST):
                self.visit(value)

    def __init__(
        self,
        install_file: bool,
        nesting: int = 0,
        wrappers: dict[str, tuple[set[str], str | None]] | None = None,
        hook_functions: frozenset[str] = frozenset(),
    ) -> None:
        self.nesting = nesting
        self.hook_functions = hook_functions
        self.in_hook = 0  # inside an install-phase command override (or a function it calls)
        self.install_file = install_file
        self.aliases: dict[str, str] = {}
        self.assigned: dict[str, set[str]] = {}  # variable -> calls that produced it
        self.result = PyFacts()
        self.stack: list[str] = []  # contexts of enclosing function/class scopes
        # functions of this file that return decoded data: name -> (decoders, byte decoder)
        self.wrappers = wrappers or {}
        self.templates: dict[str, str] = {}  # variable -> the string it holds, unknowns as {}
        self.open_files: dict[str, str] = {}  # file object variable -> path template
        self.downloaded: set[str] = set()  # path templates that received downloaded bytes
        self.declaring = 0  # inside decorator expressions
        self.functions: list[_Function] = []  # enclosing function (and lambda) nodes
        self.destinations = _Destinations(self.resolve, self.aliases, self.wrappers)
        # connections whose destination is built from parameters only: (fact index, function)
        self.parameter_destinations: list[tuple[int, _Function, frozenset[str]]] = []

    @property
    def context(self) -> str:
        if self.install_file:
            return INSTALL
        if INSTALL in self.stack:
            return INSTALL
        return RUNTIME if self.stack and self.stack[-1] == RUNTIME else IMPORT

    # -- scopes ---------------------------------------------------------------------------
    def _mark_lines(self, node: ast.AST, context: str) -> None:
        start = getattr(node, "lineno", None)
        end = getattr(node, "end_lineno", None) or start
        if start is None or end is None:
            return
        for line in range(start, end + 1):
            current = self.result.line_context.get(line)
            if current is None or current == IMPORT or context == INSTALL:
                self.result.line_context[line] = context

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self._decorators(node.decorator_list)
        # default values configure the function (a host name, a path): library code, not an
        # action taken on import
        self.stack.append(INSTALL if self.context == INSTALL else RUNTIME)
        for default in node.args.defaults + [d for d in node.args.kw_defaults if d is not None]:
            self.visit(default)
        self.stack.pop()
        hook = not self.stack and node.name in self.hook_functions
        scope = INSTALL if self.context == INSTALL or hook else RUNTIME
        self._mark_lines(node, scope)
        positional = node.args.posonlyargs + node.args.args
        for argument, default in zip(positional[::-1], node.args.defaults[::-1], strict=False):
            text = fold(default)
            if text:
                self.templates[argument.arg] = text  # def save(name="payload.py")
        self.stack.append(scope)
        self.in_hook += hook
        self.functions.append(node)
        for statement in node.body:
            self.visit(statement)
        self.functions.pop()
        self.in_hook -= hook
        self.stack.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_If(self, node: ast.If) -> None:
        if not (_is_main_guard(node) and self.context == IMPORT):
            self.generic_visit(node)
            return
        # `if __name__ == "__main__":` runs when the file is executed, never on import
        self.visit(node.test)
        for statement in node.body:
            self._mark_lines(statement, RUNTIME)
        self.stack.append(RUNTIME)
        for statement in node.body:
            self.visit(statement)
        self.stack.pop()
        for statement in node.orelse:
            self.visit(statement)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        scope = INSTALL if self.context == INSTALL else RUNTIME
        self.stack.append(scope)
        self.functions.append(node)
        self.visit(node.body)
        self.functions.pop()
        self.stack.pop()

    def _decorators(self, decorators: list[ast.expr]) -> None:
        # strings in decorator arguments (help texts, examples, routes) configure; the
        # calls there still run at import
        self.declaring += 1
        try:
            for decorator in decorators:
                self.visit(decorator)
        finally:
            self.declaring -= 1

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._decorators(node.decorator_list)
        bases = {self.resolve(base) or "" for base in node.bases}
        is_command = any(base.rsplit(".", 1)[-1] in _COMMAND_BASES for base in bases if base)
        hook = any(base.rsplit(".", 1)[-1] in _INSTALL_PHASE for base in bases if base)
        if is_command:
            self.result.command_overrides.append((node.name, node.lineno))
            self._mark_lines(node, INSTALL)
            self.stack.append(INSTALL)
        for base in node.bases:
            self.visit(base)
        self.in_hook += hook
        for statement in node.body:
            self.visit(statement)
        self.in_hook -= hook
        if is_command:
            self.stack.pop()

    # -- names ------------------------------------------------------------------------------
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.asname:
                self.aliases[alias.asname] = alias.name
            else:
                head = alias.name.split(".", 1)[0]
                self.aliases.setdefault(head, head)
            self._add("import", alias.name, node.lineno)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        for alias in node.names:
            self.aliases[alias.asname or alias.name] = f"{module}.{alias.name}".lstrip(".")
            self._add("import", f"{module}.{alias.name}".lstrip("."), node.lineno)

    def resolve(self, node: ast.AST) -> str | None:
        """Dotted name an expression refers to, through aliases and dynamic lookups."""
        name = self._resolve(node)
        if name and name.startswith(("builtins.", "__builtins__.")):
            return name.split(".", 1)[1]
        return name

    def _resolve(self, node: ast.AST) -> str | None:
        if isinstance(node, ast.Name):
            return self.aliases.get(node.id, node.id)
        if isinstance(node, ast.Attribute):
            base = self.resolve(node.value)
            return f"{base}.{node.attr}" if base else f"*.{node.attr}"
        if isinstance(node, ast.Call):
            func = self.resolve(node.func)
            first = fold(node.args[0]) if node.args else None
            if func in ("__import__", "importlib.import_module", "builtins.__import__"):
                return first
            if func in ("eval", "builtins.eval") and first in _BUILTIN_CALLABLES:
                return first  # eval("eval"), eval("\x65\x78\x65\x63"): a builtin by name
            if func == "getattr" and len(node.args) >= 2:
                attr = fold(node.args[1])
                base = self.resolve(node.args[0])
                if attr is not None:
                    return f"{base or '*'}.{attr}"
            if func in ("globals", "locals", "vars"):
                return ""
            return None
        if isinstance(node, ast.Subscript):
            key = fold(node.slice)
            base = self.resolve(node.value)
            if key is not None and base is not None:
                # __builtins__['exec'], globals()['eval'], sys.modules['os']
                if base in ("", "__builtins__", "builtins"):
                    return key
                if base == "sys.modules":
                    return key
                return f"{base}.{key}"
        return None

    # -- facts ------------------------------------------------------------------------------
    def _add(self, kind: str, value: str, line: int) -> None:
        context = RUNTIME if kind == "string" and self.declaring else self.context
        self.result.facts.append(Fact(kind, value, line, context))

    def _producers(self, node: ast.AST) -> set[str]:
        """Calls (and variables fed by calls) anywhere inside an expression, plus the sources
        that must not leave the machine: the whole environment (``os.environ``), host and
        user identity (``recon:``) and variables named like key material (``secret``)."""
        found: set[str] = set()
        single_key: set[int] = set()  # os.environ['X'], os.environ.get('X'): one setting
        nodes = list(_walk(node))
        for inner in nodes:
            if isinstance(inner, ast.Subscript) or (
                isinstance(inner, ast.Attribute) and inner.attr in _ENV_SINGLE_KEY
            ):
                single_key.add(id(inner.value))
        protected: set[int] = set()  # key material used to sign or derive stays local
        for inner in nodes:
            if isinstance(inner, ast.Call) and _PROTECTS.search(self.resolve(inner.func) or ""):
                protected |= {id(n) for n in _walk(inner) if n is not inner}
        for inner in nodes:
            if isinstance(inner, ast.Call):
                name = self.resolve(inner.func)
                if name:
                    found.add(name)
                    wrapped = self._wrapper_of(inner.func)
                    if wrapped is not None:
                        found |= wrapped[0]
            elif isinstance(inner, ast.Name | ast.Attribute):
                if isinstance(inner, ast.Name) and inner.id in self.assigned:
                    found |= self.assigned[inner.id]
                elif _is_self_attribute(inner):
                    found |= self.assigned.get(f"self.{inner.attr}", set())
                identifier = inner.id if isinstance(inner, ast.Name) else inner.attr
                if SECRET_NAME.match(identifier) and id(inner) not in protected:
                    found.add("secret")
                elif ACCESS_SECRET_NAME.match(identifier) and id(inner) not in protected:
                    found.add("access-secret")
                elif ACCESS_ID_NAME.match(identifier):
                    found.add("access-key-id")
                name = self.resolve(inner)
                if name == ENV_WHOLE and id(inner) not in single_key:
                    found.add(ENV_WHOLE)
                elif name in _RECON:
                    found.add(f"recon:{name}")
            elif isinstance(inner, ast.BinOp) and isinstance(inner.op, ast.BitXor):
                found.add("xor")
        for name in list(found):
            if name.startswith(ENV_WHOLE + ".") and name.count(".") == 2:
                if name.rsplit(".", 1)[-1] not in _ENV_SINGLE_KEY:
                    found.add(ENV_WHOLE)  # os.environ.items(), .copy(), .__str__()
            elif name in _RECON:
                found.add(f"recon:{name}")
        return found

    def _wrapper_of(self, func: ast.AST) -> tuple[set[str], str | None] | None:
        """A decoding function of this file called by name or as ``self.name``."""
        if isinstance(func, ast.Name) and func.id not in self.aliases:
            return self.wrappers.get(func.id)
        if (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id in ("self", "cls")
        ):
            return self.wrappers.get(func.attr)
        return None

    def _argument_producers(self, node: ast.Call) -> set[str]:
        found: set[str] = set()
        for argument in [*node.args, *(k.value for k in node.keywords)]:
            found |= self._producers(argument)
        return found

    def visit_Assign(self, node: ast.Assign) -> None:
        constant = node.value
        if (
            self.context == IMPORT
            and isinstance(constant, ast.Constant)
            and isinstance(constant.value, str)
        ):
            # a module-level constant is a declaration, not an action taken at import
            self.result.facts.append(Fact("string", constant.value, node.lineno, RUNTIME))
            self._encoded_url(constant.value, node.lineno)
            for target in node.targets:
                self.visit(target)
            return
        if len(node.targets) == 1 and isinstance(node.targets[0], ast.Tuple):
            pairs = node.targets[0].elts
            values = node.value.elts if isinstance(node.value, ast.Tuple) else []
            for target, value in zip(pairs, values, strict=False):
                alias = self.resolve(value) if isinstance(target, ast.Name) else None
                if isinstance(target, ast.Name) and alias and alias in _BUILTIN_CALLABLES:
                    self.aliases[target.id] = alias  # run, s = exec, str
        if self.context == IMPORT and _is_literal(node.value):
            self.declaring += 1  # a module-level f-string constant is a declaration too
            try:
                self.generic_visit(node)
            finally:
                self.declaring -= 1
            return
        producers = self._producers(node.value)
        imported = isinstance(node.value, ast.Call) and self.resolve(node.value.func) in (
            "__import__",
            "importlib.import_module",
        )
        for target in node.targets:
            if producers and _is_self_attribute(target):
                # `self.host = socket.gethostname()` is read back as `self.host` elsewhere
                self.assigned[f"self.{target.attr}"] = producers
            if isinstance(target, ast.Name):
                if producers:
                    self.assigned[target.id] = producers
                # `run = os.system` makes `run(...)` a call to os.system
                alias = self.resolve(node.value)
                simple = isinstance(node.value, ast.Name | ast.Attribute | ast.Call)
                if simple and alias and ("." in alias or alias in _BUILTIN_CALLABLES or imported):
                    self.aliases[target.id] = alias
                template = _template(node.value, self.templates)
                if template and template != "{}":
                    self.templates[target.id] = template
                if isinstance(node.value, ast.Call) and self.resolve(node.value.func) == "open":
                    self._opened(target.id, node.value)
        self.generic_visit(node)

    def visit_With(self, node: ast.With | ast.AsyncWith) -> None:
        for item in node.items:
            call = item.context_expr
            target = item.optional_vars
            if (
                isinstance(call, ast.Call)
                and isinstance(target, ast.Name)
                and self.resolve(call.func) == "open"
            ):
                self._opened(target.id, call)
        self.generic_visit(node)

    visit_AsyncWith = visit_With

    def _opened(self, name: str, call: ast.Call) -> None:
        path = _template(call.args[0], self.templates) if call.args else None
        self.open_files[name] = path or ""

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        # `payload += chr(ord(c) ^ k)` in a loop: the variable carries what feeds it
        if isinstance(node.target, ast.Name):
            producers = self._producers(node.value)
            if producers:
                self.assigned[node.target.id] = self.assigned.get(node.target.id, set()) | producers
        self.generic_visit(node)

    def visit_For(self, node: ast.For | ast.AsyncFor) -> None:
        producers = self._producers(node.iter)
        if producers:
            for target in _walk(node.target):
                if isinstance(target, ast.Name):
                    self.assigned[target.id] = self.assigned.get(target.id, set()) | producers
        self.generic_visit(node)

    visit_AsyncFor = visit_For

    def visit_Call(self, node: ast.Call) -> None:
        name = self.resolve(node.func)
        if name:
            self._add("call", name, node.lineno)
            if self.functions and _CONNECTS.match(name):
                self._destination(node, name)
            if name == "getattr":
                target = self.resolve(node)  # getattr(requests, 'g' + 'et'): the function taken
                if target and "." in target and not target.startswith("*"):
                    self._add("call", target, node.lineno)
            if name == "*.decode" and node.args:
                spelled = fold(node)  # text spelled in another encoding, read as it runs
                if spelled:
                    self._add("string", spelled, node.lineno)
            if name in EVALUATORS or name.endswith((".exec", ".eval")) or name == "Function":
                for producer in sorted(self._argument_producers(node)):
                    if _is_decoder(producer):
                        self._add("call", f"{name.rsplit('.', 1)[-1]}<-{producer}", node.lineno)
        if name and _SPAWNERS.match(name):
            for producer in sorted(self._argument_producers(node)):
                if _is_decoder(producer) and not _SPAWNERS.match(producer):
                    self._add("call", f"{name}<-{producer}", node.lineno)
        if name and _is_decoder(name) and self.nesting < MAX_NESTING:
            self._decoded(node)
        wrapped = self._wrapper_of(node.func)
        if wrapped is not None and wrapped[1] and node.args and self.nesting < MAX_NESTING:
            self._decoded_by_wrapper(node, wrapped[1])
        if name and _SENDERS.match(name):
            self._sent(node, name)
        if name:
            self._dropped(node, name)
        if name and name.endswith("zipimporter") and node.args:
            path = _template(node.args[0], self.templates) or ""
            suffix = path.rsplit("/", 1)[-1].rpartition(".")[2].lower() if "." in path else ""
            if suffix and suffix not in _ARCHIVE_SUFFIXES and suffix != "{}":
                self._add("call", "zipimport<-disguised-file", node.lineno)
        if name and (_SPAWNERS.match(name) or name.endswith(("Popen", ".run", ".call"))):
            self._argv(node, spawns=bool(_SPAWNERS.match(name)) or name.endswith("Popen"))
            self._runs_download(node)
        if name in _PATH_JOINERS:
            parts = [fold(arg) for arg in node.args]
            if sum(1 for part in parts if part) >= 2:
                self._add(
                    "string", "/".join(p if p is not None else "*" for p in parts), node.lineno
                )
        if name and self.in_hook:
            self._in_install_hook(node, name)
        if name and name.endswith("setup") and any(k.arg == "cmdclass" for k in node.keywords):
            self._add("call", "setup(cmdclass)", node.lineno)
        self.generic_visit(node)

    def _in_install_hook(self, node: ast.Call, name: str) -> None:
        """What an install-phase command does beyond installing files: the package's own
        functions it calls, connections it opens, and directories or files it creates in the
        user's or the system's folders."""
        if "." in name and not name.startswith("*"):
            module, function = name.rsplit(".", 1)
            self.result.hook_calls.add((module, function))
        if _SENDERS.match(name) or name.startswith(("socket.", "http.client.")):
            self._add("call", "network:install-hook", node.lineno)
        target: ast.AST | None = None
        if name in _DIRECTORY_MAKERS or (name == "open" and _opens_for_writing(node)):
            target = node.args[0] if node.args else None
        elif name in _COPIERS and len(node.args) >= 2:
            target = node.args[1]
        path = _template(target, self.templates) if target is not None else None
        if path and _OUTSIDE_INSTALL_TREE.search(path):
            self._add("call", "write:outside-install-tree", node.lineno)

    def _destination(self, node: ast.Call, name: str) -> None:
        """Remember a connection whose destination is built from parameters only: whether it
        is caller-supplied is known once the import-time callers are (``python_facts``)."""
        target = _destination_argument(node, name)
        if target is None:
            return
        kind = self.destinations.of(target, self.functions[-1])
        if isinstance(kind, frozenset):
            index = len(self.result.facts) - 1
            self.parameter_destinations.append((index, self.functions[-1], kind))

    def _sent(self, node: ast.Call, name: str) -> None:
        """Data that must not leave the machine handed to a call that sends it."""
        producers = self._argument_producers(node)
        if ENV_WHOLE in producers:
            self._add("call", f"network<-{ENV_WHOLE}", node.lineno)
        if any(p.startswith("recon:") for p in producers):
            self._add("call", "network<-recon", node.lineno)
        if {"access-secret", "access-key-id"} <= producers:
            self._add("call", "network<-access-secret", node.lineno)
        if "secret" in producers:
            self._add("call", "network<-secret", node.lineno)

    def _argv(self, node: ast.Call, spawns: bool) -> None:
        """``Popen(['powershell', '-w', 'hidden', ...])`` read as the command line it runs."""
        first = node.args[0] if node.args else None
        command = _template(first, self.templates) if first is not None else None
        if isinstance(first, ast.List | ast.Tuple) and len(first.elts) >= 1:
            parts = [_template(element, self.templates) for element in first.elts]
            command = " ".join(w if w is not None else "{}" for w in parts)
            if sum(1 for word in parts if word and word != "{}") >= 2:
                self._add("string", command, node.lineno)
        if not command:
            return
        if spawns and self.in_hook and _program(command) not in _BUILD_TOOLS:
            self._add("call", "spawn:install-hook", node.lineno)
        if _PIP_INSTALL.search(command):
            self._add("call", "spawn:pip-install", node.lineno)
        if _PYTHON_INLINE.search(command):
            self._add("call", "spawn:python-inline", node.lineno)
        words = command.split() or [""]
        if _WINDOWS_PROGRAM.search(words[0]):
            self._add("call", "spawn:windows-program", node.lineno)
        program = words[0].replace("\\", "/").rsplit("/", 1)[-1].lower()
        if program in _SHELLS and all(w.lower() in _INTERACTIVE_FLAGS for w in words[1:]):
            self._add("call", "spawn:interactive-shell", node.lineno)

    def _runs_download(self, node: ast.Call) -> None:
        """A file written from the network, then started: ``urlretrieve(url, p)`` or
        ``open(p, 'wb').write(requests.get(url).content)``, then ``Popen([p])``,
        ``os.system(f'chmod +x {p} && {p}')`` or ``os.startfile(p)``, whatever the host."""
        if not self.downloaded or not node.args:
            return
        first = node.args[0]
        parts = first.elts if isinstance(first, ast.List | ast.Tuple) else [first]
        command = " ".join(_template(part, self.templates) or "{}" for part in parts)
        for segment in _COMMAND_SEPARATORS.split(command):
            words = segment.split()
            if not words:
                continue
            program = words[0].replace("\\", "/").rsplit("/", 1)[-1].lower()
            started = words[1:] if program.removesuffix(".exe") in _INTERPRETERS else words[:1]
            if any(path in word for path in self.downloaded for word in started):
                self._add("call", "run<-download", node.lineno)
                return

    def _dropped(self, node: ast.Call, name: str) -> None:
        """Downloaded or decoded bytes written to an executable or script file: a dropper."""
        path: str | None = None
        data: list[ast.AST] = []
        if name.endswith("urlretrieve") and len(node.args) >= 2:
            path, sources = _template(node.args[1], self.templates), {"download"}
        else:
            func = node.func
            if not (isinstance(func, ast.Attribute) and func.attr in ("write", "writelines")):
                return
            target = func.value
            if isinstance(target, ast.Name) and target.id in self.open_files:
                path = self.open_files[target.id]
            elif isinstance(target, ast.Call) and self.resolve(target.func) == "open":
                path = _template(target.args[0], self.templates) if target.args else None
            data = list(node.args)
            sources = set()
            for argument in data:
                for producer in self._producers(argument):
                    if _SENDERS.match(producer) or producer.startswith(_DOWNLOADERS):
                        sources.add("download")
                    elif _DECODING.search(producer):
                        sources.add("decoded")
        if path and "download" in sources and _known_path(path):
            self.downloaded.add(path)
        if path and _EXECUTABLE_FILE.search(path):
            for source in sorted(sources):
                self._add("call", f"drop-executable<-{source}", node.lineno)

    def _decoded_by_wrapper(self, node: ast.Call, decoder: str) -> None:
        literal = fold(node.args[0])
        if literal is None:
            return
        try:
            data = _BYTE_DECODERS[decoder](literal.encode("latin-1", "replace"))[:MAX_DECODED]
        except (ValueError, TypeError, binascii.Error):
            return
        self._read_decoded(data, node.lineno)

    def _decoded(self, node: ast.Call) -> None:
        """Literal payloads behind a decoder are decoded and read as well (never run)."""
        data = static_decode(node, self.resolve)
        if data is not None and fold(node) is None:
            self._read_decoded(data, node.lineno)

    def _read_decoded(self, data: bytes, line: int) -> None:
        if not data or len(data) < 4:
            return
        text = data.decode("utf-8", "replace")
        self._add("string", text, line)
        head = text.lstrip()
        if head.startswith(("http://", "https://")) or (len(head) < 200 and _URL_IN.search(head)):
            self._add("call", "decoded-url", line)  # an endpoint hidden behind an encoding
        inner = python_facts(text, install_file=self.install_file, _nesting=self.nesting + 1)
        if inner.parsed:
            context = self.context
            for fact in inner.facts:
                self.result.facts.append(Fact(fact.kind, fact.value, line, context))

    def visit_Expr(self, node: ast.Expr) -> None:
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            return  # a docstring or bare string says nothing about behaviour
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str | bytes) and len(node.value) > 2:
            text = node.value if isinstance(node.value, str) else node.value.decode("latin-1")
            self._add("string", text, node.lineno)
            self._encoded_url(text, node.lineno)
            if _CODE_LIKE.search(text) and self.nesting < MAX_NESTING:
                self._embedded(text, node.lineno)

    def _encoded_url(self, text: str, line: int) -> None:
        """A base64 literal that spells a URL is an endpoint someone chose to hide."""
        if not _ENCODED_URL.match(text) or self.nesting >= MAX_NESTING:
            return
        try:
            decoded = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_")
        except (ValueError, binascii.Error):
            return
        self._read_decoded(decoded, line)

    def _embedded(self, text: str, line: int) -> None:
        """Python source carried in a string (written to a file, passed to ``-c``) is read."""
        inner = python_facts(text, install_file=self.install_file, _nesting=self.nesting + 1)
        if inner.parsed:
            context = self.context
            for fact in inner.facts:
                if fact.kind == "call":
                    self.result.facts.append(Fact(fact.kind, fact.value, line, context))

    def visit_BinOp(self, node: ast.BinOp) -> None:
        folded = fold(node)
        if folded is not None:
            self._add("string", folded, node.lineno)
            return
        self.generic_visit(node)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        pieces = [v.value for v in node.values if isinstance(v, ast.Constant)]
        text = "{}".join(str(p) for p in pieces)
        if len(text) > 2:
            self._add("string", text, node.lineno)
        self.generic_visit(node)


_BUILTIN_CALLABLES = EVALUATORS | {"__import__", "getattr", "open"}
_PATH_JOINERS = frozenset({"os.path.join", "posixpath.join", "pathlib.Path", "pathlib.PurePath"})
# decode-direction calls (not encoders) that make a function of the file a decoder
_DECODING = re.compile(
    r"(^|\.)(b64decode|urlsafe_b64decode|b32decode|b16decode|b85decode|a85decode|decodebytes|"
    r"unhexlify|a2b_\w+|fromhex|decompress|decrypt\w*)$|^(marshal\.loads|codecs\.decode)$"
)


_PIP_INSTALL = re.compile(r"(^|[\s/\\\"'])pip[0-9.]*(\.exe)?\s+install\b|-m\s+pip\s+install\b")


_PYTHON_INLINE = re.compile(r"^(python[0-9.]*|pythonw)(\.exe)?\s+-c\s")
_EXECUTABLE_FILE = re.compile(
    r"\.(exe|scr|bat|cmd|ps1|vbs|hta|jar|py|pyw|sh)[\"']?$", re.IGNORECASE
)
_SHELLS = frozenset(
    {"sh", "bash", "zsh", "dash", "ksh", "cmd", "cmd.exe", "powershell", "powershell.exe", "pwsh"}
)
_INTERACTIVE_FLAGS = frozenset({"-i", "-l", "--login", "-", "-nologo", "-noprofile", "/k", "/q"})
_ARCHIVE_SUFFIXES = frozenset({"zip", "egg", "whl", "pyz", "jar", "par"})
_WINDOWS_PROGRAM = re.compile(r"\.(exe|scr|vbs|hta)[\"']?$", re.IGNORECASE)
_DOWNLOADERS = ("requests.", "urllib", "httpx.", "aiohttp.", "*.urlopen", "*.read")
# Programs an install command may legitimately start: compilers, build systems, VCS.
_BUILD_TOOLS = frozenset(
    {
        "cmake", "make", "gmake", "nmake", "ninja", "meson", "msbuild", "xcodebuild", "gcc",
        "g++", "cc", "c++", "clang", "clang++", "cl", "ld", "ar", "ranlib", "strip", "lipo",
        "install_name_tool", "patchelf", "pkg-config", "git", "hg", "svn", "npm", "npx", "yarn",
        "pnpm", "node", "cargo", "rustc", "go", "javac", "mvn", "gradle", "ant", "cython",
        "swig", "protoc", "autoreconf", "autoconf", "automake", "configure", "./configure",
        "sphinx-build", "ldconfig",
    }
)  # fmt: skip
_DIRECTORY_MAKERS = frozenset({"os.mkdir", "os.makedirs"})
_COPIERS = frozenset(  # (source, destination): the destination is what lands outside
    {
        "shutil.copy", "shutil.copy2", "shutil.copyfile", "shutil.copytree", "shutil.move",
        "os.rename", "os.replace",
    }
)  # fmt: skip
# Home, profile and system folders: outside the tree an install writes to.
_OUTSIDE_INSTALL_TREE = re.compile(
    r"(?i)^(~|[a-z]:[\\/]|%(appdata|localappdata|userprofile|programdata|temp)%)|"
    r"[\\/](users|home|desktop|documents|appdata|startup|etc|usr|library)[\\/]"
)


def _is_self_attribute(node: ast.AST) -> TypeGuard[ast.Attribute]:
    return (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "self"
    )


def _program(command: str) -> str:
    words = command.split()
    return words[0].strip("\"'").replace("\\", "/").rsplit("/", 1)[-1].lower() if words else ""


def _opens_for_writing(node: ast.Call) -> bool:
    mode = node.args[1] if len(node.args) >= 2 else None
    mode = next((k.value for k in node.keywords if k.arg == "mode"), mode)
    text = fold(mode) if mode is not None else None
    return text is not None and any(c in text for c in "wax")


_COMMAND_SEPARATORS = re.compile(r"&&|\|\||[;|&\n]")
# Programs that run the file they are given: `python p`, `sh p`, `msiexec /i p`.
_INTERPRETERS = frozenset(
    {"python", "python3", "pythonw", "sh", "bash", "zsh", "dash", "powershell", "pwsh", "cmd",
     "node", "perl", "ruby", "wscript", "cscript", "mshta", "rundll32", "msiexec", "start"}
)  # fmt: skip


def _known_path(template: str) -> bool:
    """A path template with a literal name in it (``/tmp/u``, ``{}/update.bin``), not a bare
    unknown."""
    return len(template.replace("{}", "").strip("/\\. ")) >= 2


def _template(node: ast.AST, names: dict[str, str] | None = None) -> str | None:
    """A string expression with its unknown parts as ``{}`` (f-strings, formatting, path
    joins); variables holding a known template are substituted."""
    text = fold(node)
    if text is not None:
        return text
    if isinstance(node, ast.JoinedStr):
        return "".join(
            str(v.value)
            if isinstance(v, ast.Constant)
            else (_template(v.value, names) or "{}")
            if isinstance(v, ast.FormattedValue)
            else "{}"
            for v in node.values
        )
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return (_template(node.left, names) or "{}") + (_template(node.right, names) or "{}")
    if isinstance(node, ast.Name) and names is not None and node.id in names:
        return names[node.id]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if node.func.attr == "format":
            return _template(node.func.value, names)
        if node.func.attr == "join" and isinstance(node.func.value, ast.Attribute | ast.Name):
            owner = node.func.value
            if (isinstance(owner, ast.Attribute) and owner.attr == "path") or (
                isinstance(owner, ast.Name) and owner.id in ("path", "posixpath", "ntpath")
            ):
                return "/".join(_template(arg, names) or "{}" for arg in node.args)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "str":
        return _template(node.args[0], names) if node.args else None
    if isinstance(node, ast.Name | ast.Attribute | ast.Subscript | ast.Call):
        return "{}"
    return None


def _decoder_functions(tree: ast.Module) -> dict[str, tuple[set[str], str | None]]:
    """Functions of this file that decode what they are given (``def d(s): return
    b64decode(s).decode()``, an XOR loop over ``chr(ord(c) ^ k)``): calling them is decoding.
    The byte decoder is kept when the function is a one-argument wrapper of one, so literal
    arguments can be decoded statically."""
    imports: dict[str, str] = {}
    for node in _walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                imports[alias.asname or alias.name.split(".", 1)[0]] = (
                    alias.name if alias.asname else alias.name.split(".", 1)[0]
                )
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                imports[alias.asname or alias.name] = f"{node.module or ''}.{alias.name}"

    def dotted(node: ast.AST) -> str:
        if isinstance(node, ast.Name):
            return imports.get(node.id, node.id)
        if isinstance(node, ast.Attribute):
            return f"{dotted(node.value)}.{node.attr}"
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "__import__"
            and node.args
        ):
            return fold(node.args[0]) or ""
        return ""

    found: dict[str, tuple[set[str], str | None]] = {}
    for function in _walk(tree):
        if not isinstance(function, _FUNCTIONS):
            continue
        returns = any(isinstance(n, ast.Return) and n.value is not None for n in _walk(function))
        if not returns:
            continue
        decoders: set[str] = set()
        for inner in _walk(function):
            if isinstance(inner, ast.Call):
                name = dotted(inner.func)
                if _DECODING.search(name):
                    decoders.add(name)
            elif isinstance(inner, ast.BinOp) and isinstance(inner.op, ast.BitXor):
                decoders.add("xor")
        if not decoders:
            continue
        byte_decoder = None
        if len(function.args.args) == 1:
            last = sorted(decoders)[0].rsplit(".", 1)[-1]
            byte_decoder = last if len(decoders) == 1 and last in _BYTE_DECODERS else None
        found[function.name] = (decoders, byte_decoder)
    return found


def _is_literal(node: ast.AST) -> bool:
    """Constant data: f-strings, and lists/tuples/sets/dicts of constants (``__all__``)."""
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return bool(node.elts) and all(
            isinstance(e, ast.Constant) or _is_literal(e) for e in node.elts
        )
    if isinstance(node, ast.Dict):
        items = [*node.keys, *node.values]
        return bool(items) and all(
            isinstance(e, ast.Constant) or (e is not None and _is_literal(e)) for e in items
        )
    return False


def _is_main_guard(node: ast.If) -> bool:
    """``if __name__ == "__main__":`` (either operand order)."""
    test = node.test
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1):
        return False
    if not isinstance(test.ops[0], ast.Eq):
        return False
    sides = [test.left, test.comparators[0]]
    names = [s for s in sides if isinstance(s, ast.Name) and s.id == "__name__"]
    mains = [s for s in sides if isinstance(s, ast.Constant) and s.value == "__main__"]
    return bool(names and mains)


def _is_decoder(name: str) -> bool:
    for prefix in DECODERS:
        if prefix.startswith("*."):
            if name.endswith(prefix[1:]):
                return True
        elif name.startswith(prefix):
            return True
    return False


# CPython's parser is native code the time budget cannot interrupt, and its cost is not
# always linear (one f-string with 100,000 placeholders takes seconds; 500,000 take minutes)
# nor small (an 8 MB module needs gigabytes of tree). Sources up to this size parse here,
# larger ones in the supervised child process, with a deadline and a memory limit.
IN_PROCESS_SOURCE = 256 * 1024


def bounded_python_facts(
    source: str, seconds: float, **options: Any
) -> tuple[PyFacts, tuple[IssueKind, str] | None]:
    """``python_facts`` within ``seconds`` and bounded memory: the facts, and when the source
    could not be parsed within those bounds, what kind of gap that is and why (its facts
    then say ``parsed=False``)."""
    if len(source) <= IN_PROCESS_SOURCE:
        return python_facts(source, **options), None
    from finalexam.budget import BudgetExceeded, WorkerCrashed, supervisor

    why: tuple[IssueKind, str]
    try:
        return supervisor().call(_python_facts_of, source, options, timeout=seconds), None
    except BudgetExceeded as over:
        why = (IssueKind.TIME_BUDGET, f"not parsed {over}")
    except WorkerCrashed as error:
        why = (IssueKind.RESOURCE, f"not parsed: the parser process failed ({error})")
    return PyFacts(parsed=False), why


def _python_facts_of(source: str, options: dict[str, Any]) -> PyFacts:
    return python_facts(source, **options)


def python_facts(
    source: str,
    *,
    install_file: bool = False,
    hook_functions: frozenset[str] = frozenset(),
    _nesting: int = 0,
) -> PyFacts:
    """Facts of one Python source; a file that does not parse gives ``parsed=False``.
    ``hook_functions``: module-level functions an install command of the package calls, read
    as install-time code."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return PyFacts(parsed=False)
    collector = _Collector(install_file, _nesting, _decoder_functions(tree), hook_functions)
    collector.destinations.tree = tree
    limit = sys.getrecursionlimit()
    try:
        sys.setrecursionlimit(max(limit, 5000))
        collector.visit(tree)
    except RecursionError:
        collector.result.parsed = False
    finally:
        sys.setrecursionlimit(limit)
    if collector.result.parsed and not install_file:
        reached = _promote_called_functions(tree, collector.result)
        if collector.parameter_destinations:
            # a call chain too deep to follow: the calls stay evidence
            with contextlib.suppress(RecursionError):
                _mark_caller_supplied(tree, collector, reached)
    return collector.result


_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


def _executed(node: ast.AST) -> Iterator[ast.AST]:
    """The nodes of ``node`` that run when it runs: the body of a function it defines runs
    only when called (a ``def`` under a top-level ``if``, as in urllib.request); its
    decorators and defaults run at once."""
    todo = deque([node])
    while todo:
        node = todo.popleft()
        yield node
        for child in _children(node):
            if isinstance(child, _FUNCTIONS):
                todo.extend([*child.decorator_list, *child.args.defaults])
            elif not isinstance(child, ast.Lambda):
                todo.append(child)


def _references(nodes: Iterable[ast.AST]) -> set[str]:
    """Names called, or handed to a call as callbacks (``Thread(target=f)``), in ``nodes``."""
    names: set[str] = set()
    for node in nodes:
        for sub in _executed(node):
            if not isinstance(sub, ast.Call):
                continue
            if isinstance(sub.func, ast.Name):
                names.add(sub.func.id)
            elif (
                isinstance(sub.func, ast.Attribute)
                and isinstance(sub.func.value, ast.Name)
                and sub.func.value.id in ("self", "cls")
            ):
                names.add(sub.func.attr)
            # a function handed to a runner runs; handed to anything else it is only stored
            callee = sub.func.attr if isinstance(sub.func, ast.Attribute) else ""
            callee = sub.func.id if isinstance(sub.func, ast.Name) else callee
            runner = callee in _RUNNERS
            for argument in [*sub.args, *(k.value for k in sub.keywords)]:
                if isinstance(argument, ast.Name) and runner:
                    names.add(argument.id)
            for keyword in sub.keywords:
                if keyword.arg == "target" and isinstance(keyword.value, ast.Name):
                    names.add(keyword.value.id)
    return names


_RUNNERS = frozenset(
    {
        "Thread", "Process", "Timer", "register", "start_new_thread", "submit", "call_soon",
        "call_later", "create_task", "ensure_future", "run_in_executor", "apply_async", "run",
        "do", "schedule", "after", "Popen",
    }
)  # fmt: skip


def _top_level(tree: ast.Module) -> list[ast.stmt]:
    """Module-level statements that run on import (not definitions, not the main guard)."""
    return [
        stmt
        for stmt in tree.body
        if not isinstance(stmt, (*_FUNCTIONS, ast.ClassDef))
        and not (isinstance(stmt, ast.If) and _is_main_guard(stmt))
    ]


def _promote_called_functions(tree: ast.Module, result: PyFacts) -> list[_Function]:
    """Functions reached from module-level code run at import: ``def f(): ...; f()``,
    ``Thread(target=f).start()``, ``atexit.register(f)``, ``Cls()`` (its ``__init__``),
    and, transitively, what those functions call by name. Returns the functions reached."""
    defs: dict[str, list[ast.FunctionDef | ast.AsyncFunctionDef]] = {}
    inits: dict[str, list[ast.FunctionDef | ast.AsyncFunctionDef]] = {}
    for node in _walk(tree):
        if isinstance(node, _FUNCTIONS):
            if node.name != "__init__":
                defs.setdefault(node.name, []).append(node)
        elif isinstance(node, ast.ClassDef):
            inits[node.name] = [
                n for n in node.body if isinstance(n, _FUNCTIONS) and n.name == "__init__"
            ]
    if not defs and not inits:
        return []
    pending = _references(_top_level(tree))
    reached: set[str] = set()
    ranges: list[tuple[int, int]] = []
    functions: list[_Function] = []
    while pending:
        name = pending.pop()
        if name in reached:
            continue
        reached.add(name)
        for function in [*defs.get(name, ()), *inits.get(name, ())]:
            functions.append(function)
            ranges.append((function.lineno, function.end_lineno or function.lineno))
            pending |= _references(function.body) - reached
    if not ranges:
        return []

    merged: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    starts = [start for start, _ in merged]

    def promoted(line: int) -> bool:
        index = bisect.bisect_right(starts, line) - 1
        return index >= 0 and line <= merged[index][1]

    result.facts = [
        replace(f, context=IMPORT) if f.context == RUNTIME and promoted(f.line) else f
        for f in result.facts
    ]
    for line, context in list(result.line_context.items()):
        if context == RUNTIME and promoted(line):
            result.line_context[line] = IMPORT
    return functions


# -- where a connection goes ------------------------------------------------------------------
# A library that opens what its caller names (``def load(fname): urlopen(fname)``) reached at
# import with a file name is not a beacon; malware names its host itself: a literal, a module
# constant, a decoded literal. A destination is LITERAL, UNKNOWN, or the parameters of the
# enclosing function it is built from (then the callers decide).
_Function = ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
_Kind = str | frozenset[str]
LITERAL = "literal"
UNKNOWN = "unknown"
_CONNECTS = re.compile(_SENDERS.pattern + r"|^socket\.create_connection$")
_DESTINATION_KEYWORDS = ("url", "fullurl", "host", "address")
# a URL, an IPv4 address, host:port or a host under a common top-level domain (a bare
# "name.ext" is as likely a file name)
_ENDPOINT = re.compile(
    r"://|^\d{1,3}(\.\d{1,3}){3}(:\d+)?/?$|^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+:\d+/?$"
    r"|^([A-Za-z0-9-]+\.)+(com|net|org|io|ru|cn|info|xyz|top|me|cc|tk|co|biz|online|site|"
    r"dev|app|club|pw|su|ws|cloud|link|live|shop|store|tech|example|invalid)$"
)
_SCOPE_STATEMENTS = (*_FUNCTIONS, ast.Lambda, ast.ClassDef)


def _names_endpoint(text: str) -> bool:
    """A literal that names a host or URL itself (or hides one in base64)."""
    return bool(_ENDPOINT.search(text) or _ENCODED_URL.match(text))


def _destination_argument(node: ast.Call, name: str) -> ast.expr | None:
    for keyword in node.keywords:
        if keyword.arg in _DESTINATION_KEYWORDS:
            return keyword.value
    if name.endswith(".request") and len(node.args) >= 2:
        return node.args[1]  # requests.request(method, url)
    return node.args[0] if node.args else None


def _join(kinds: Iterable[_Kind | None]) -> _Kind | None:
    found = [kind for kind in kinds if kind is not None]
    if not found:
        return None
    if LITERAL in found:
        return LITERAL
    if UNKNOWN in found:
        return UNKNOWN
    return frozenset().union(*(k for k in found if isinstance(k, frozenset)))


def _own_nodes(root: ast.AST) -> list[ast.AST]:
    """Nodes of one scope in source order, without nested functions, lambdas and classes."""
    found: list[ast.AST] = []
    todo = list(_children(root))
    while todo:
        node = todo.pop()
        if isinstance(node, _SCOPE_STATEMENTS):
            continue
        found.append(node)
        todo.extend(_children(node))
    return sorted(found, key=lambda n: (getattr(n, "lineno", 0), getattr(n, "col_offset", 0)))


class _Destinations:
    """Classifies the destination of a connection: literal, unknown or parameters."""

    def __init__(
        self,
        resolve: Callable[[ast.AST], str | None],
        aliases: dict[str, str],
        wrappers: dict[str, tuple[set[str], str | None]],
    ) -> None:
        self.resolve = resolve
        self.aliases = aliases
        self.wrappers = wrappers
        self.module: dict[str, _Kind] = {}
        self.module_done = False
        self.scopes: dict[int, dict[str, _Kind]] = {}
        self.tree: ast.Module | None = None

    def of(self, node: ast.AST, function: _Function | None) -> _Kind:
        try:
            scope = self._scope(function) if function is not None else self._module()
            return self._kind(node, scope) or UNKNOWN
        except RecursionError:  # a pathologically deep expression: assume the worst
            return UNKNOWN

    def _module(self) -> dict[str, _Kind]:
        if not self.module_done and self.tree is not None:
            self.module_done = True
            self._assign_all(self.tree, self.module)
        return self.module

    def _scope(self, function: _Function) -> dict[str, _Kind]:
        scope = self.scopes.get(id(function))
        if scope is not None:
            return scope
        module = self._module()
        scope = {}
        arguments = function.args
        positional = [*arguments.posonlyargs, *arguments.args]
        defaults: list[ast.expr | None] = [None] * (len(positional) - len(arguments.defaults))
        pairs = [
            *zip(positional, [*defaults, *arguments.defaults], strict=True),
            *zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True),
            *((a, None) for a in (arguments.vararg, arguments.kwarg) if a is not None),
        ]
        for argument, default in pairs:
            if argument.arg in ("self", "cls"):
                continue  # object state is not something the caller hands in
            literal_default = default is not None and self._kind(default, module) == LITERAL
            scope[argument.arg] = LITERAL if literal_default else frozenset({argument.arg})
        self.scopes[id(function)] = scope
        if not isinstance(function, ast.Lambda):
            self._assign_all(function, scope)
        return scope

    def _assign_all(self, root: ast.AST, scope: dict[str, _Kind]) -> None:
        """Local names take the kind of what is assigned to them (all assignments joined)."""
        for node in _own_nodes(root):
            pairs: list[tuple[ast.AST, ast.AST]] = []
            if isinstance(node, ast.Assign):
                pairs = [(target, node.value) for target in node.targets]
            elif isinstance(node, ast.AnnAssign | ast.AugAssign | ast.NamedExpr) and node.value:
                pairs = [(node.target, node.value)]
            elif isinstance(node, ast.For | ast.AsyncFor):
                pairs = [(node.target, node.iter)]
            elif isinstance(node, ast.With | ast.AsyncWith):
                pairs = [(i.optional_vars, i.context_expr) for i in node.items if i.optional_vars]
            for target, value in pairs:
                kind = self._kind(value, scope) or UNKNOWN
                for name in _walk(target):
                    if isinstance(name, ast.Name):
                        scope[name.id] = _join([scope.get(name.id), kind]) or kind

    def _kind(self, node: ast.AST, scope: dict[str, _Kind]) -> _Kind | None:
        if isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, bytes):
                value = value.decode("latin-1")
            return LITERAL if isinstance(value, str) and _names_endpoint(value) else None
        if isinstance(node, ast.Name):
            kind = scope.get(node.id)
            if kind is None and scope is not self.module:
                kind = self.module.get(node.id)
            return kind if kind is not None else UNKNOWN
        if isinstance(node, ast.Attribute):
            return self._kind(node.value, scope)  # p.url is the caller's, self.url is not
        if isinstance(node, ast.Tuple) and len(node.elts) == 2:
            host, port = node.elts
            if (
                isinstance(host, ast.Constant)
                and isinstance(host.value, str)
                and host.value
                and isinstance(port, ast.Constant)
                and isinstance(port.value, int)
            ):
                return LITERAL  # a socket address: ("evil.example", 443)
        if isinstance(node, ast.Call):
            name = self.resolve(node.func) or ""
            decodes = bool(_DECODING.search(name)) or (
                isinstance(node.func, ast.Name) and node.func.id in self.wrappers
            )
            parts: list[ast.AST] = [*node.args, *(k.value for k in node.keywords)]
            if decodes and any(isinstance(n, ast.Constant) for p in parts for n in _walk(p)):
                return LITERAL  # a decoded literal
            if isinstance(node.func, ast.Attribute) and not self._is_module(node.func.value):
                parts.append(node.func.value)  # p.strip(), "{}/x".format(p)
            return _join(self._kind(part, scope) for part in parts)
        if isinstance(node, _SCOPE_STATEMENTS):
            return UNKNOWN
        return _join(self._kind(child, scope) for child in _children(node))

    def _is_module(self, node: ast.AST) -> bool:
        while isinstance(node, ast.Attribute):
            node = node.value
        return isinstance(node, ast.Name) and node.id in self.aliases


def _call_arguments(
    call: ast.Call, function: _Function, class_of: dict[int, str]
) -> tuple[list[ast.expr], dict[str | None, ast.expr]] | None:
    """The arguments ``call`` hands to ``function`` (directly, as a constructor, or through a
    runner such as ``Thread(target=f, args=(...))``), or None when it does not call it."""
    if isinstance(function, ast.Lambda):
        return None
    name = class_of.get(id(function), function.name)
    func = call.func
    callee = func.id if isinstance(func, ast.Name) else None
    if (
        isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Name)
        and func.value.id in ("self", "cls")
    ):
        callee = func.attr
    keywords = {k.arg: k.value for k in call.keywords}
    if callee == name:
        return list(call.args), keywords
    target = keywords.get("target")
    if isinstance(target, ast.Name) and target.id == name:
        handed = keywords.get("args")
        positional = list(handed.elts) if isinstance(handed, ast.Tuple | ast.List) else []
        return positional, {}
    for index, argument in enumerate(call.args):
        if isinstance(argument, ast.Name) and argument.id == name:
            return list(call.args[index + 1 :]), {}  # atexit.register(f, url)
    return None


def _bound(
    function: _Function,
    positional: list[ast.expr],
    keywords: dict[str | None, ast.expr],
    parameter: str,
) -> list[ast.expr]:
    """What a call binds to ``parameter`` (everything it passes when that cannot be told)."""
    if parameter in keywords:
        return [keywords[parameter]]
    names = [a.arg for a in [*function.args.posonlyargs, *function.args.args]]
    if names and names[0] in ("self", "cls"):
        names = names[1:]
    unpacked = None in keywords or any(isinstance(a, ast.Starred) for a in positional)
    if unpacked or parameter not in names:
        return [*positional, *(v for v in keywords.values())]
    index = names.index(parameter)
    return [positional[index]] if index < len(positional) else []


def _mark_caller_supplied(
    tree: ast.Module, collector: _Collector, reached: list[_Function]
) -> None:
    """Import-time connections to a parameter stay evidence only when some import-time caller
    (transitively) passes a literal-derived destination for it."""
    facts = collector.result.facts
    pending = [
        (i, f, p) for i, f, p in collector.parameter_destinations if facts[i].context == IMPORT
    ]
    if not pending:
        return
    destinations = collector.destinations
    class_of = {
        id(method): node.name
        for node in _walk(tree)
        if isinstance(node, ast.ClassDef)
        for method in node.body
        if isinstance(method, _FUNCTIONS) and method.name == "__init__"
    }
    sites: list[tuple[ast.Call, _Function | None]] = [
        (node, None)
        for statement in _top_level(tree)
        for node in _walk(statement)
        if isinstance(node, ast.Call)
    ]
    for function in reached:
        sites += [(n, function) for n in _walk(function) if isinstance(n, ast.Call)]
    seen: set[tuple[int, frozenset[str]]] = set()

    def literal_reaches(function: _Function, parameters: frozenset[str]) -> bool:
        if (id(function), parameters) in seen:
            return False
        seen.add((id(function), parameters))
        for call, caller in sites:
            handed = _call_arguments(call, function, class_of)
            if handed is None:
                continue
            for parameter in sorted(parameters):
                for value in _bound(function, *handed, parameter):
                    kind = destinations.of(value, caller)
                    if kind == LITERAL:
                        return True
                    if (
                        isinstance(kind, frozenset)
                        and caller is not None
                        and literal_reaches(caller, kind)
                    ):
                        return True
        return False

    for index, function, parameters in pending:
        if not literal_reaches(function, parameters):
            facts[index] = replace(facts[index], caller_supplied=True)


def iter_calls(facts: PyFacts) -> Iterator[Fact]:
    return (f for f in facts.facts if f.kind == "call")


_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_COMPILED_MODULES = frozenset(
    {
        "os", "subprocess", "socket", "requests", "urllib", "base64", "zlib", "marshal",
        "ctypes", "shutil", "platform", "getpass", "httpx", "ftplib", "smtplib", "winreg",
    }
)  # fmt: skip


def compiled_facts(constants: Iterable[str]) -> PyFacts:
    """Facts of compiled code (a .pyc read as its string constants, never unmarshalled): every
    constant is a string fact; a module name followed by an attribute name (the order of a
    code object's ``co_names``) stands for a call of it, and an evaluator named in the same
    file as a decoder stands for ``exec<-decoder``. Nothing is known about when it runs, so
    everything is library (runtime) code."""
    facts = PyFacts()
    names: list[str] = []
    for text in constants:
        if _IDENTIFIER.match(text):
            names.append(text)
        elif len(text) > 2:
            facts.facts.append(Fact("string", text, 1, RUNTIME))
            for match in _CODE_LIKE.finditer(text[:4096]):
                facts.facts.append(Fact("string", match.group(0), 1, RUNTIME))
    calls: set[str] = set()
    for module, attribute in itertools.pairwise(names):
        if module in _COMPILED_MODULES and not attribute[0].isupper():
            calls.add(f"{module}.{attribute}")
    evaluators = {n for n in names if n in ("exec", "eval", "compile")}
    decoders = sorted(c for c in calls if _DECODING.search(c))
    for evaluator in sorted(evaluators):
        calls.add(evaluator)
        for decoder in decoders:
            calls.add(f"{evaluator}<-{decoder}")
    facts.facts.extend(Fact("call", call, 1, RUNTIME) for call in sorted(calls))
    return facts
