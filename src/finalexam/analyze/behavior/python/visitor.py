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
import contextlib
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any, TypeGuard

from finalexam.analyze.behavior.facts import IMPORT, INSTALL, RUNTIME, Fact, Facts
from finalexam.analyze.behavior.python.commands import (
    ARCHIVE_SUFFIXES,
    BUILD_TOOLS,
    COMMAND_SEPARATORS,
    EXECUTABLE_FILE,
    INTERACTIVE_FLAGS,
    INTERPRETERS,
    OUTSIDE_INSTALL_TREE,
    PIP_INSTALL,
    PYTHON_INLINE,
    SHELLS,
    WINDOWS_PROGRAM,
    command_template,
    known_path,
    program_name,
    runs_its_arguments,
)
from finalexam.analyze.behavior.python.declarations import (
    IDENTITY,
    declarations,
    function_bodies,
    names_read,
)
from finalexam.analyze.behavior.python.decoding import (
    BYTE_DECODERS,
    MAX_DECODED,
    MAX_NESTING,
    decoder_functions,
    fold,
    static_decode,
)
from finalexam.analyze.behavior.python.destinations import (
    CONNECTS,
    Destinations,
    destination_argument,
    goes_to_loopback,
    mark_caller_supplied,
    mark_sent_where_asked,
    to_configured_server,
)
from finalexam.analyze.behavior.python.environments import (
    Consumed,
    consumed_arguments,
    environment_consumers,
)
from finalexam.analyze.behavior.python.messages import (
    MESSAGE,
    RECIPE,
    is_container_recipe,
    is_prose,
    message_constants,
    own_functions,
    telling,
)
from finalexam.analyze.behavior.python.promotion import is_main_guard, promote_called_functions
from finalexam.analyze.behavior.python.replies import PAYLOAD, library_roots, service_reply
from finalexam.analyze.behavior.python.syntax import (
    FUNCTIONS,
    Function,
    is_self_attribute,
    walk,
)
from finalexam.analyze.behavior.python.tables import COMPARED, membership_constants
from finalexam.analyze.behavior.python.vocabulary import (
    ACCESS_ID_NAME,
    ACCESS_SECRET_NAME,
    BUILTIN_CALLABLES,
    CODE_LIKE,
    COMMAND_BASES,
    COPIERS,
    DECODING,
    DIRECTORY_MAKERS,
    DOWNLOADERS,
    ENCODED_URL,
    ENV_SINGLE_KEY,
    ENV_WHOLE,
    EVALUATORS,
    INSTALL_PHASE,
    PATH_JOINERS,
    PROTECTS,
    RECON,
    SECRET_NAME,
    SENDERS,
    SPAWNERS,
    URL_IN,
    is_decoder,
)

# HTTP client and session classes, and the settings of theirs that go out with every request
CLIENT_CLASSES = frozenset({"Client", "AsyncClient", "Session", "ClientSession"})
CLIENT_SENDS = frozenset({"headers", "auth", "params", "cookies", "base_url", "data", "json"})
HTTP_VALUES = frozenset({"URL", "Headers", "Timeout", "Limits", "Cookies", "QueryParams"})

UNAME = frozenset({"platform.uname", "os.uname"})
# the fields of uname that describe the system, not the machine's name (node, nodename)
OS_FIELDS = frozenset({"system", "sysname", "release", "version", "machine", "processor"})

_VISITORS: dict[type[ast.AST], Callable[[Any, Any], Any]] = {}


_KEY_MATERIAL = frozenset({"secret", "access-secret"})
# A client's methods that hand back what it was built with, not a reply of its service
_GIVES_KEYS = re.compile(r"(?i)credential|secret|key|token|password|auth|signer")
# What builds a service's client: boto3.client("s3", aws_secret_access_key=...), Session()
_CLIENT_FACTORIES = frozenset({"client", "resource", *CLIENT_CLASSES})
# JavaScript engines whose contexts reach nothing of the machine: no files, network, processes
_ISOLATED_ENGINES = frozenset(
    {"py_mini_racer.MiniRacer", "py_mini_racer.py_mini_racer.MiniRacer", "quickjs.Context"}
)
# An object's fields that say where it connects: reading one reads none of what the object
# was built with (boto 2.49: ``self.host = self.provider.host``, a Provider built with keys)
_LOCATION_FIELDS = frozenset(
    {"host", "hostname", "port", "netloc", "endpoint", "endpoint_url", "url", "base_url",
     "region", "region_name", "scheme", "domain", "address"}
)  # fmt: skip
# name lookups that are network access unless they only resolve the host's own name
_RESOLVERS = frozenset({"socket.getaddrinfo", "socket.gethostbyname_ex"})
# The machine's name as the domain of a fixed mailbox, kept under a name that says it is an
# address: luigi's DEFAULT_CLIENT_EMAIL = "luigi-client@%s" % socket.gethostname(), the sender
# a mailer defaults to. The user's name beside it, or any other use, is still recon.
_HOST_NAMERS = frozenset({"socket.gethostname", "socket.getfqdn", "platform.node"})
_MAILBOX = re.compile(r"[A-Za-z0-9][\w.+-]*@(?:%s)?\Z")
_ADDRESS_NAME = re.compile(r"(?i)e?mail|sender|from_?addr|reply_?to")
# how a mailbox's literal ends before the host is put in: "name@%s" % host, "name@" + host
_MAILBOX_ENDINGS: dict[type[ast.operator], str] = {ast.Mod: "@%s", ast.Add: "@"}


def _mailbox_hosts(value: ast.expr) -> Iterator[ast.Call]:
    """The calls that give the domain of a literal mailbox: ``"name@%s" % call()``,
    ``"name@" + call()``, ``f"name@{call()}"``."""
    for node in walk(value):
        if isinstance(node, ast.BinOp):
            head, host = node.left, node.right
            ending = _MAILBOX_ENDINGS.get(type(node.op))
        elif (
            isinstance(node, ast.JoinedStr)
            and len(node.values) == 2
            and isinstance(node.values[1], ast.FormattedValue)
        ):
            head, host, ending = node.values[0], node.values[1].value, "@"
        else:
            continue
        if (
            ending is not None
            and isinstance(head, ast.Constant)
            and isinstance(head.value, str)
            and head.value.endswith(ending)
            and _MAILBOX.match(head.value)
            and isinstance(host, ast.Call)
        ):
            yield host


class Collector(ast.NodeVisitor):
    def visit(self, node: ast.AST) -> Any:
        # ``NodeVisitor.visit`` builds the method name and looks it up for every node; the
        # method is looked up once per node class here. Same methods, same order, and the
        # same two frames per level (``visit``, then the method), so the recursion limit
        # stops the same files.
        kind = node.__class__
        method = _VISITORS.get(kind)
        if method is None:
            found: Callable[[Any, Any], Any] = getattr(
                Collector, "visit_" + kind.__name__, Collector.generic_visit
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
        environment_consumers: dict[str, Consumed] | None = None,
        declared: dict[int, frozenset[str]] | None = None,
    ) -> None:
        self.nesting = nesting
        # module-level assignments only functions read (declarations.py): their collecting
        # facts are library code; (fact indices moved, names bound) to undo if import reads them
        self.declared = declared or {}
        self.declared_facts: list[tuple[list[int], frozenset[str]]] = []
        # functions of this file that only hand a parameter to a child as its environment
        self.environment_consumers = environment_consumers or {}
        self.hook_functions = hook_functions
        self.in_hook = 0  # inside an install-phase command override (or a function it calls)
        self.install_file = install_file
        self.aliases: dict[str, str] = {}
        self.assigned: dict[str, set[str]] = {}  # variable -> calls that produced it
        self.libraries: set[str] = set()  # third-party libraries imported (replies.py)
        self.classes: list[ast.ClassDef] = []  # the classes being read, innermost last
        self.result = Facts()
        self.stack: list[str] = []  # contexts of enclosing function/class scopes
        # functions of this file that return decoded data: name -> (decoders, byte decoder)
        self.wrappers = wrappers or {}
        self.templates: dict[str, str] = {}  # variable -> the string it holds, unknowns as {}
        self.vectors: dict[str, ast.List | ast.Tuple] = {}  # variable -> the list it was given
        self.open_files: dict[str, str] = {}  # file object variable -> path template
        self.opened_names: dict[str, str] = {}  # file object variable -> its path's variable
        # (function, variable) holding a path that received downloaded bytes, and the
        # functions of this file that return such a path (a dropper split across functions)
        self.download_path_names: set[tuple[str, str]] = set()
        self.download_returners: set[str] = set()
        self.sums: dict[int, str | None] = {}  # what each `+` node folds to (decoding.fold)
        self.quoting = 0  # inside a literal only ever quoted in a message (_prose_only)
        self.prose_only: dict[int, frozenset[str]] = {}  # function -> names only quoted
        self.telling: list[bool] = []  # per enclosing call: do its arguments go to a message
        self.raised: ast.AST | None = None  # the exception a `raise` builds
        self.own_functions: frozenset[str] = frozenset()  # defined in this file
        self.message_constants: frozenset[str] = frozenset()  # module prose only ever told
        self.inert_span: tuple[int, int, int, int] | None = None  # the last call made inert
        self.membership_constants: frozenset[str] = frozenset()  # tables only tested with in
        self.comparing = 0  # inside the value of such a table
        self.mailbox_hosts: set[int] = set()  # calls that name a sender address's domain
        self.downloaded: set[str] = set()  # path templates that received downloaded bytes
        self.declaring = 0  # inside decorator expressions
        self.functions: list[Function] = []  # enclosing function (and lambda) nodes
        self.destinations = Destinations(self.resolve, self.aliases, self.wrappers)
        # connections whose destination is built from parameters only: (fact index, function)
        self.parameter_destinations: list[tuple[int, Function, frozenset[str]]] = []
        # identity sent to such a destination, from any function: (fact index, function)
        self.identity_destinations: list[tuple[int, Function, frozenset[str]]] = []

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
        outer = dict(self.assigned)
        for statement in node.body:
            self.visit(statement)
        self._forget_locals(node, outer)
        self.functions.pop()
        self.in_hook -= hook
        self.stack.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def _forget_locals(self, node: Function, outer: dict[str, set[str]]) -> None:
        """A function's local names end with it: what ``params`` holds in one method is not
        what another method's ``params`` holds (hvac builds ``params`` in each of its API
        methods, one of them from the keys its caller configures). Names the function
        declares ``global`` or ``nonlocal`` and object state (``self.x``) outlive it."""
        kept = {
            name
            for inner in walk(node)
            if isinstance(inner, ast.Global | ast.Nonlocal)
            for name in inner.names
        }
        for name in [n for n in self.assigned if not n.startswith("self.") and n not in kept]:
            if name in outer:
                self.assigned[name] = outer[name]
            else:
                del self.assigned[name]

    def visit_If(self, node: ast.If) -> None:
        if not (is_main_guard(node) and self.context == IMPORT):
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
        is_command = any(base.rsplit(".", 1)[-1] in COMMAND_BASES for base in bases if base)
        hook = any(base.rsplit(".", 1)[-1] in INSTALL_PHASE for base in bases if base)
        if is_command:
            self.result.command_overrides.append((node.name, node.lineno))
            self._mark_lines(node, INSTALL)
            self.stack.append(INSTALL)
        for base in node.bases:
            self.visit(base)
        self.in_hook += hook
        self.classes.append(node)
        for statement in node.body:
            self.visit(statement)
        self.classes.pop()
        self.in_hook -= hook
        if is_command:
            self.stack.pop()

    # -- names ------------------------------------------------------------------------------
    def visit_Import(self, node: ast.Import) -> None:
        self.libraries |= library_roots(node)
        for alias in node.names:
            if alias.asname:
                self.aliases[alias.asname] = alias.name
            else:
                head = alias.name.split(".", 1)[0]
                self.aliases.setdefault(head, head)
            self._add("import", alias.name, node.lineno)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        self.libraries |= library_roots(node)
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
            if func in ("eval", "builtins.eval") and first in BUILTIN_CALLABLES:
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
        if kind == "string" and self.comparing:
            kind = COMPARED  # a member of a table the program only tests membership in
        elif kind == "string" and self._telling(value):
            kind = MESSAGE  # told to the user (messages.py)
        elif kind == "string" and is_container_recipe(value):
            kind = RECIPE
        self.result.facts.append(Fact(kind, value, line, context))

    def _own_method_that_evaluates_nothing(self, node: ast.Call) -> bool:
        """``self.exec(...)`` calling the class's own ``exec`` method, which runs no Python
        (inspect_ai's sandbox runs a command in its container): not the builtin."""
        func = node.func
        if not is_self_attribute(func) or not self.classes:
            return False
        methods = [
            m for m in self.classes[-1].body if isinstance(m, FUNCTIONS) and m.name == func.attr
        ]
        return bool(methods) and not any(
            isinstance(inner, ast.Call)
            and isinstance(inner.func, ast.Name)
            and inner.func.id in ("exec", "eval", "compile", "__import__")
            for method in methods
            for inner in walk(method)
        )

    def _in_isolated_engine(self, node: ast.Call) -> bool:
        """``ctx.eval(...)`` on a JavaScript engine built without access to the machine (V8
        through mini-racer, QuickJS): the script runs in an isolate with no files, network or
        processes (datahub's Power BI parser evaluates its bundled grammar in MiniRacer)."""
        if not isinstance(node.func, ast.Attribute):
            return False
        producers = self._object_producers(node.func.value)
        return bool(producers) and producers <= _ISOLATED_ENGINES

    def _starts_a_child(self, node: ast.Call) -> bool:
        """A method of another library that starts a process with the environment it is
        given (``kernel_manager.start_kernel(..., env=env)``). A function of this file by
        that name is read for what it does instead (environments.py)."""
        name = self.resolve(node.func) or ""
        last = name.rsplit(".", 1)[-1]
        return bool(_CHILD_STARTERS.search(name)) and last not in self.own_functions

    def _is_client(self, node: ast.AST) -> bool:
        """A service client the file built itself: a name or field assigned from a client
        factory (``boto3.client``, ``boto3.resource``, ``requests.Session``)."""
        return any(
            "." in p and p.rsplit(".", 1)[-1] in _CLIENT_FACTORIES
            for p in self._object_producers(node)
        )

    def _object_producers(self, node: ast.AST) -> set[str]:
        """What built the object a name or ``self`` field holds (nothing for other nodes)."""
        if isinstance(node, ast.Name):
            return self.assigned.get(node.id, set())
        if is_self_attribute(node):
            return self.assigned.get(f"self.{node.attr}", set())
        return set()

    def _producers(self, node: ast.AST) -> set[str]:
        """Calls (and variables fed by calls) anywhere inside an expression, plus the sources
        that must not leave the machine: the whole environment (``os.environ``), host and
        user identity (``recon:``) and variables named like key material (``secret``)."""
        found: set[str] = set()
        single_key: set[int] = set()  # os.environ['X'], os.environ.get('X'): one setting
        nodes = list(walk(node))
        for inner in nodes:
            if isinstance(inner, ast.Subscript) or (
                isinstance(inner, ast.Attribute) and inner.attr in ENV_SINGLE_KEY
            ):
                single_key.add(id(inner.value))
        protected: set[int] = set()  # key material used to sign or derive stays local
        given_to_child: set[int] = set()  # the environment a local spawner hands to a child
        located: set[int] = set()  # provider.host: where it connects, not what it holds
        replied: set[int] = set()  # transcribe.get_job(...): the service's reply, not its keys
        for inner in nodes:
            if isinstance(inner, ast.Attribute) and inner.attr.lower() in _LOCATION_FIELDS:
                located |= {id(n) for n in walk(inner.value) if not isinstance(n, ast.Call)}
            host = _whole_host(inner)
            if host is not None and self._names_a_host(host):
                # "https://{}/api/{}".format(self._hostname, path) (cfengine's nova_api):
                # a URL to the machine's own name goes to it; its name is sent nowhere
                located |= {id(n) for n in walk(host)}
            if (
                isinstance(inner, ast.Call)
                and isinstance(inner.func, ast.Attribute)
                and not _GIVES_KEYS.search(inner.func.attr)
                and self._is_client(inner.func.value)
            ):
                replied |= {id(n) for n in walk(inner.func.value)}
            if isinstance(inner, ast.Call) and PROTECTS.search(self.resolve(inner.func) or ""):
                protected |= {id(n) for n in walk(inner) if n is not inner}
            if isinstance(inner, ast.Call):
                for argument in consumed_arguments(inner, self.environment_consumers):
                    given_to_child |= {id(n) for n in walk(argument)}
                if _spawns(self.resolve(inner.func)) or self._starts_a_child(inner):
                    # Popen(cmd, env=os.environ): the child gets it; its output does not
                    for keyword in inner.keywords:
                        if keyword.arg == "env":
                            given_to_child |= {id(n) for n in walk(keyword.value)}
        os_only: set[int] = set()  # platform.uname().system: the call and its name
        for inner in nodes:
            if _os_field_of(inner, self.resolve):
                assert isinstance(inner, ast.Attribute | ast.Subscript)
                assert isinstance(inner.value, ast.Call)
                os_only |= {id(inner.value), id(inner.value.func)}
            elif isinstance(inner, ast.Call) and id(inner) in self.mailbox_hosts:
                os_only |= {id(inner), id(inner.func)}  # a sender address's domain
        for inner in nodes:
            if isinstance(inner, ast.Call) and id(inner) not in os_only | located:
                name = self.resolve(inner.func)
                if name:
                    found.add(name)
                    data = inner.args[0] if inner.args else None
                    if DECODING.search(name) and not service_reply(
                        data, self.assigned, self.libraries
                    ):
                        found.add(PAYLOAD)
                    wrapped = self._wrapper_of(inner.func)
                    if wrapped is not None:
                        found |= {*wrapped[0], PAYLOAD}
            elif isinstance(inner, ast.Name | ast.Attribute) and id(inner) not in os_only:
                if id(inner) in given_to_child or id(inner) in located:
                    continue
                carried: set[str] = set()
                if isinstance(inner, ast.Name) and inner.id in self.assigned:
                    carried = self.assigned[inner.id]
                elif is_self_attribute(inner):
                    carried = self.assigned.get(f"self.{inner.attr}", set())
                if id(inner) in replied:
                    carried = carried - _KEY_MATERIAL - {"access-key-id"}
                if id(inner) in protected:
                    # key material a local name carries into a signature stays local
                    # (simple_salesforce: key = privatekey; jwt.encode(payload, key))
                    carried = carried - _KEY_MATERIAL
                found |= carried
                identifier = inner.id if isinstance(inner, ast.Name) else inner.attr
                if SECRET_NAME.match(identifier) and id(inner) not in protected:
                    found.add("secret")
                elif ACCESS_SECRET_NAME.match(identifier) and id(inner) not in protected:
                    found.add("access-secret")
                elif ACCESS_ID_NAME.match(identifier):
                    found.add("access-key-id")
                name = self.resolve(inner)
                if name == ENV_WHOLE and id(inner) not in single_key | given_to_child:
                    found.add(ENV_WHOLE)
                elif name in RECON:
                    found.add(f"recon:{name}")
            elif isinstance(inner, ast.BinOp) and isinstance(inner.op, ast.BitXor):
                found.add("xor")
        for name in list(found):
            if name.startswith(ENV_WHOLE + ".") and name.count(".") == 2:
                if name.rsplit(".", 1)[-1] not in ENV_SINGLE_KEY:
                    found.add(ENV_WHOLE)  # os.environ.items(), .copy(), .__str__()
            elif name in RECON:
                found.add(f"recon:{name}")
        return found

    def _names_a_host(self, host: ast.expr) -> bool:
        """The expression is a host name as such: the machine's own name (a recon call),
        maybe through a variable or attribute, or a name the caller hands in, never joined
        with text. ``gethostname() + ".evil.example"`` names a host that learns ours."""
        if isinstance(host, ast.Call):
            return self._plain_host(host)
        target = _assigned_name(host)
        if target is None or self.destinations.tree is None:
            return False
        values = [
            node.value
            for node in walk(self.destinations.tree)
            if isinstance(node, ast.Assign)
            and any(_assigned_name(t) == target for t in node.targets)
        ]
        return bool(values) and all(self._plain_host(value) for value in values)

    def _plain_host(self, value: ast.expr) -> bool:
        """Only names, recon calls and ``str()`` of them, joined by ``or``: no literal text."""
        for node in walk(value):
            if isinstance(node, ast.Constant) and node.value is not None:
                return False
            if isinstance(node, ast.BinOp | ast.JoinedStr | ast.Subscript):
                return False
            if isinstance(node, ast.Call):
                called = self.resolve(node.func) or ""
                if called not in RECON and called != "str":
                    return False
        return True

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

    def _spawned_producers(self, node: ast.Call) -> set[str]:
        """Where what a spawn runs comes from. An argument vector that starts with a fixed
        program which runs nothing it is given (``["aircrack-ng", "-w", wl, "-b", net]``:
        aircrack-ng's dcrack takes the network to crack from its server's JSON) passes data,
        not code: only the program's own name counts then."""
        first = node.args[0] if node.args else None
        if isinstance(first, ast.Name):
            first = self.vectors.get(first.id, first)
        while isinstance(first, ast.BinOp) and isinstance(first.op, ast.Add):
            # [b'git', b'update-ref', ref, hexlify(sha)] + oldarg (bup): the vector's program
            # is the first word of its leftmost list
            first = first.left
            if isinstance(first, ast.Name):
                first = self.vectors.get(first.id, first)
        shell = any(
            k.arg == "shell" and not (isinstance(k.value, ast.Constant) and not k.value.value)
            for k in node.keywords
        )
        if isinstance(first, ast.List | ast.Tuple) and first.elts and not shell:
            program = command_template(first.elts[0], self.templates)
            if program and "{}" not in program and not runs_its_arguments(program):
                return self._producers(first.elts[0])
        return self._argument_producers(node)

    def _argument_producers(self, node: ast.Call) -> set[str]:
        found: set[str] = set()
        for argument in [*node.args, *(k.value for k in node.keywords)]:
            found |= self._producers(argument)
        return found

    def visit_Assign(self, node: ast.Assign) -> None:
        start = len(self.result.facts)
        target = node.targets[0] if len(node.targets) == 1 else None
        compared = (
            not self.functions
            and isinstance(target, ast.Name)
            and target.id in self.membership_constants
        )
        self.comparing += compared  # a table only tested with `in` (tables.py)
        try:
            self._assign(node)
        finally:
            self.comparing -= compared
        self._declaration(node, start)

    def visit_Attribute(self, node: ast.Attribute | ast.Subscript) -> None:
        uname = _os_field_of(node, self.resolve)
        if uname is None:
            self.generic_visit(node)
            return
        # platform.uname().system names the operating system, as platform.system() does:
        # it identifies no host and no user (asyncpg picks its socket code by it)
        self._add("call", f"{uname}().{_os_field_name(node)}", node.lineno)
        assert isinstance(node.value, ast.Call)
        for argument in [*node.value.args, *node.value.keywords]:
            self.visit(argument)

    visit_Subscript = visit_Attribute

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        start = len(self.result.facts)
        self.generic_visit(node)
        self._declaration(node, start)

    def _declaration(self, node: ast.Assign | ast.AnnAssign, start: int) -> None:
        """The strings and identity look-ups of a value only functions read (the facts from
        ``start`` on) are library code."""
        names = self.declared.get(id(node))
        if self.context != IMPORT or names is None:
            return
        moved = []
        facts = self.result.facts
        for index in range(start, len(facts)):
            fact = facts[index]
            if fact.context == IMPORT and (
                fact.kind == "string" or (fact.kind == "call" and fact.value in IDENTITY)
            ):
                facts[index] = replace(fact, context=RUNTIME)
                moved.append(index)
        if moved:
            self.declared_facts.append((moved, names))

    def _assign(self, node: ast.Assign) -> None:
        target = node.targets[0] if len(node.targets) == 1 else None
        if isinstance(target, ast.Name) and _ADDRESS_NAME.search(target.id):
            self.mailbox_hosts.update(id(call) for call in _mailbox_hosts(node.value))
        name = _quoted_text(node)
        if name is not None and (
            name in self._prose_only(self.functions[-1])
            if self.functions
            else name in self.message_constants
        ):
            # command = "curl ... | sh", then f"Install uv with:\n    {command}\n(see ...)"
            # (opik's setup hint), or a module's message constant only its exception carries
            # (dlt): a command named to the user, never run
            self.quoting += 1
            try:
                self._assign_value(node)
            finally:
                self.quoting -= 1
            return
        self._assign_value(node)

    def _prose_only(self, function: Function) -> frozenset[str]:
        names = self.prose_only.get(id(function))
        if names is None:
            names = self.prose_only[id(function)] = _names_only_quoted_in_prose(function)
        return names

    def _assign_value(self, node: ast.Assign) -> None:
        constant = node.value
        if (
            self.context == IMPORT
            and isinstance(constant, ast.Constant)
            and isinstance(constant.value, str)
        ):
            # a module-level constant is a declaration, not an action taken at import
            kind = MESSAGE if self.quoting else "string"
            self.result.facts.append(Fact(kind, constant.value, node.lineno, RUNTIME))
            if self.quoting:
                self._told(constant, constant.value)
            self._encoded_url(constant.value, node.lineno)
            for target in node.targets:
                self.visit(target)
            return
        if len(node.targets) == 1 and isinstance(node.targets[0], ast.Tuple):
            pairs = node.targets[0].elts
            values = node.value.elts if isinstance(node.value, ast.Tuple) else []
            for target, value in zip(pairs, values, strict=False):
                alias = self.resolve(value) if isinstance(target, ast.Name) else None
                if isinstance(target, ast.Name) and alias and alias in BUILTIN_CALLABLES:
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
            if producers and is_self_attribute(target):
                # `self.host = socket.gethostname()` is read back as `self.host` elsewhere
                self.assigned[f"self.{target.attr}"] = producers
            if isinstance(target, ast.Name):
                if producers:
                    self.assigned[target.id] = producers
                # `run = os.system` makes `run(...)` a call to os.system
                alias = self.resolve(node.value)
                simple = isinstance(node.value, ast.Name | ast.Attribute | ast.Call)
                if simple and alias and ("." in alias or alias in BUILTIN_CALLABLES or imported):
                    self.aliases[target.id] = alias
                template = command_template(node.value, self.templates)
                downloaded = self._downloaded_path_of(node.value)
                if downloaded is not None:
                    template = downloaded
                    self.downloaded.add(downloaded)
                if template and template != "{}":
                    self.templates[target.id] = template
                if isinstance(node.value, ast.List | ast.Tuple):
                    self.vectors[target.id] = node.value
                else:
                    self.vectors.pop(target.id, None)
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
        path = command_template(call.args[0], self.templates) if call.args else None
        self.open_files[name] = path or ""
        if call.args and isinstance(call.args[0], ast.Name):
            self.opened_names[name] = call.args[0].id
        else:
            self.opened_names.pop(name, None)

    def visit_Return(self, node: ast.Return) -> None:
        """A function returning the path it wrote downloaded bytes to: what its callers
        start from that path is a download run, as within one function."""
        value = node.value
        function = self._function_name()
        if (
            function
            and isinstance(value, ast.Name)
            and (function, value.id) in self.download_path_names
        ):
            self.download_returners.add(function)
        self.generic_visit(node)

    def _function_name(self) -> str | None:
        """The name of the innermost function being read (None at module level, in a
        lambda)."""
        if not self.functions or isinstance(self.functions[-1], ast.Lambda):
            return None
        return self.functions[-1].name

    def _downloaded_path_of(self, call: ast.expr) -> str | None:
        """The template standing for the path an own function returned after writing
        downloaded bytes to it (``path = fetch_tool()``)."""
        if (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Name)
            and call.func.id in self.download_returners
        ):
            return "{download:" + call.func.id + "}"
        return None

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
            for target in walk(node.target):
                if isinstance(target, ast.Name):
                    self.assigned[target.id] = self.assigned.get(target.id, set()) | producers
        self.generic_visit(node)

    visit_AsyncFor = visit_For

    def visit_Call(self, node: ast.Call) -> None:
        name = self.resolve(node.func)
        # the call's own state: what it builds from its arguments (a command line) is told
        # to the user only if the call itself tells (messages.py)
        inside = bool(self.telling and self.telling[-1])
        self.telling.append(telling(name, node is self.raised, inside, self.own_functions))
        try:
            self._call(node, name)
        finally:
            self.telling.pop()

    def _call(self, node: ast.Call, name: str | None) -> None:
        if name in _HOST_NAMERS and id(node) in self.mailbox_hosts:
            name = f"{name}:mailbox-domain"  # a sender's address (no recon rule)
        elif name in _RESOLVERS and node.args and self._own_host_name(node.args[0], node.lineno):
            name = f"{name}:own-name"  # resolves only what it already knows (no network rule)
        elif name and CONNECTS.match(name) and goes_to_loopback(node, name):
            name = f"{name}:loopback"  # talks to this machine (no network rule)
        elif name == "os.dup2" and node.args and self._null_device(node.args[0]):
            # stdio sent to the null device: a daemon detaching from its terminal (sshuttle's
            # daemonize), nothing connected; the raw reverse-shell pattern passes over it
            name = "os.dup2:null-device"
            self._inert(node)
        if name:
            self._add("call", name, node.lineno)
            if CONNECTS.match(name):
                if self._user_setting(destination_argument(node, name)):
                    # the user's own setting is the whole destination: azureml-mlflow fetches
                    # cloud metadata from $ARM_CLOUD_METADATA_URL at import, only when set
                    self.result.facts[-1] = replace(self.result.facts[-1], caller_supplied=True)
                elif self.functions:
                    self._destination(node, name, self.parameter_destinations)
            if name == "getattr":
                target = self.resolve(node)  # getattr(requests, 'g' + 'et'): the function taken
                if target and "." in target and not target.startswith("*"):
                    self._add("call", target, node.lineno)
            if name == "*.decode" and node.args:
                spelled = fold(node)  # text spelled in another encoding, read as it runs
                if spelled:
                    self._add("string", spelled, node.lineno)
            evaluates = (
                name in EVALUATORS or name.endswith((".exec", ".eval")) or name == "Function"
            )
            if (
                evaluates
                and not self._own_method_that_evaluates_nothing(node)
                and not self._in_isolated_engine(node)
            ):
                for producer in sorted(self._argument_producers(node)):
                    if is_decoder(producer):
                        self._add("call", f"{name.rsplit('.', 1)[-1]}<-{producer}", node.lineno)
        if name and SPAWNERS.match(name):
            for producer in sorted(self._spawned_producers(node)):
                if is_decoder(producer) and not SPAWNERS.match(producer):
                    self._add("call", f"{name}<-{producer}", node.lineno)
        if name and is_decoder(name) and self.nesting < MAX_NESTING:
            self._decoded(node)
        wrapped = self._wrapper_of(node.func)
        if wrapped is not None and wrapped[1] and node.args and self.nesting < MAX_NESTING:
            self._decoded_by_wrapper(node, wrapped[1])
        if name and SENDERS.match(name):
            self._sent(node, name)
        if name:
            self._dropped(node, name)
        if name and name.endswith("zipimporter") and node.args:
            path = command_template(node.args[0], self.templates) or ""
            suffix = path.rsplit("/", 1)[-1].rpartition(".")[2].lower() if "." in path else ""
            if suffix and suffix not in ARCHIVE_SUFFIXES and suffix != "{}":
                self._add("call", "zipimport<-disguised-file", node.lineno)
        if _spawns(name):
            self._argv(node, spawns=bool(SPAWNERS.match(name)) or name.endswith("Popen"))
            self._runs_download(node)
        if name in PATH_JOINERS:
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

    def _telling(self, text: str) -> bool:
        return self.quoting > 0 or bool(self.telling and self.telling[-1] and is_prose(text))

    def _null_device(self, argument: ast.expr) -> bool:
        """``os.open(os.devnull, ...)`` itself, or ``f.fileno()`` / ``f`` where the enclosing
        function (or the module) binds ``f`` to a file opened on the null device only."""
        if self._opens_null_device(argument):
            return True
        if (
            isinstance(argument, ast.Call)
            and isinstance(argument.func, ast.Attribute)
            and argument.func.attr == "fileno"
        ):
            argument = argument.func.value
        if not isinstance(argument, ast.Name):
            return False
        scope = self.functions[-1] if self.functions else self.destinations.tree
        if scope is None:
            return False
        bound = [
            value
            for node in walk(scope)
            for target, value in _bindings(node)
            if isinstance(target, ast.Name) and target.id == argument.id
        ]
        return bool(bound) and all(self._opens_null_device(value) for value in bound)

    def _opens_null_device(self, node: ast.expr | None) -> bool:
        """``open(os.devnull, ...)``, ``os.open("/dev/null", ...)`` and the like, through
        aliases (``from os import devnull``)."""
        if (
            not (isinstance(node, ast.Call) and node.args)
            or self.resolve(node.func) not in _OPENERS
        ):
            return False
        path = node.args[0]
        if isinstance(path, ast.Constant):
            return path.value == "/dev/null"
        return self.resolve(path) == "os.devnull"

    def _inert(self, node: ast.expr) -> None:
        """A call the raw patterns pass over, as they pass over text told to the user. Calls a
        few lines apart make one span: a pattern reads ``dup2(f, 0) ... dup2(f, 1)`` as one."""
        if node.end_lineno is None or node.end_col_offset is None:
            return
        span = (node.lineno, node.col_offset, node.end_lineno, node.end_col_offset)
        last = self.inert_span
        told = self.result.told
        if (
            last is not None
            and told
            and told[-1] == last
            and 0 <= node.lineno - last[2] <= _INERT_GAP
        ):
            span = (last[0], last[1], span[2], span[3])
            told.pop()
        told.append(span)
        self.inert_span = span

    def _told(self, node: ast.expr, text: str) -> None:
        """Where a literal told to the user (or a container recipe) sits, for the raw
        patterns to pass over."""
        said = self._telling(text) or is_container_recipe(text)
        if said and node.end_lineno is not None and node.end_col_offset is not None:
            span = (node.lineno, node.col_offset, node.end_lineno, node.end_col_offset)
            self.result.told.append(span)

    def visit_Raise(self, node: ast.Raise) -> None:
        self.raised = node.exc
        self.generic_visit(node)

    def _in_install_hook(self, node: ast.Call, name: str) -> None:
        """What an install-phase command does beyond installing files: the package's own
        functions it calls, connections it opens, and directories or files it creates in the
        user's or the system's folders."""
        if "." in name and not name.startswith("*"):
            module, function = name.rsplit(".", 1)
            self.result.hook_calls.add((module, function))
        if SENDERS.match(name) or name.startswith(("socket.", "http.client.")):
            self._add("call", "network:install-hook", node.lineno)
        target: ast.AST | None = None
        if name in DIRECTORY_MAKERS or (name == "open" and _opens_for_writing(node)):
            target = node.args[0] if node.args else None
        elif name in COPIERS and len(node.args) >= 2:
            target = node.args[1]
        path = command_template(target, self.templates) if target is not None else None
        if path and OUTSIDE_INSTALL_TREE.search(path):
            self._add("call", "write:outside-install-tree", node.lineno)

    def _destination(
        self,
        node: ast.Call,
        name: str,
        into: list[tuple[int, Function, frozenset[str]]],
    ) -> None:
        """Remember that the last fact went to a destination built from the enclosing
        function's parameters only: whether its callers chose it is known once they are
        (``python_facts``)."""
        target = destination_argument(node, name)
        if target is None:
            return
        kind = self.destinations.of(target, self.functions[-1])
        if isinstance(kind, frozenset):
            origin = self.destinations.origin(kind, self.functions[-1])
            if origin is not None:  # the function's parameters, or its constructor's
                into.append((len(self.result.facts) - 1, *origin))

    def _user_setting(self, argument: ast.expr | None) -> bool:
        """One environment variable read with no fallback (``os.getenv('URL')``,
        ``os.environ['URL']``, ``os.environ.get('URL')``): a destination only the user
        chooses. A fallback (``os.getenv('URL', 'https://...')``) is the package's choice."""
        if isinstance(argument, ast.Subscript):
            return self.resolve(argument.value) == "os.environ" and isinstance(
                argument.slice, ast.Constant
            )
        if not isinstance(argument, ast.Call) or argument.keywords or len(argument.args) != 1:
            return False
        return self.resolve(argument.func) in ("os.getenv", "os.environ.get") and isinstance(
            argument.args[0], ast.Constant
        )

    def _own_host_name(self, argument: ast.expr, line: int) -> bool:
        """A name resolved as the machine's own host name, never composed
        with a domain: borg 1.2.4 resolves ``socket.gethostname()`` into its fully qualified
        name for lock ids. ``getaddrinfo(f"{host}.evil.example")`` or a name assigned from
        anything else (another variable, a constant) is still a lookup that goes out."""
        if not isinstance(argument, ast.Name):
            return False
        variable = argument.id
        scope: ast.AST | None = self.functions[-1] if self.functions else self.destinations.tree
        if scope is None:
            return False
        own = False
        for node in walk(scope):
            if not isinstance(node, ast.Assign) or node.lineno >= line:
                continue
            if not any(isinstance(t, ast.Name) and t.id == variable for t in node.targets):
                continue
            for inner in walk(node.value):
                if isinstance(inner, ast.Constant) and not isinstance(inner.value, int | None):
                    return False
                if isinstance(inner, ast.Call):
                    called = self.resolve(inner.func) or ""
                    on_itself = (
                        isinstance(inner.func, ast.Attribute)
                        and isinstance(inner.func.value, ast.Name)
                        and inner.func.value.id == variable
                    )
                    if called not in RECON and not on_itself:
                        return False
                    own = own or called in RECON
                if isinstance(inner, ast.Name) and inner.id not in (variable, *self.aliases):
                    return False
        return own

    def _sent(self, node: ast.Call, name: str) -> None:
        """Data that must not leave the machine handed to a call that sends it."""
        built = name.rsplit(".", 1)[-1]
        if built in HTTP_VALUES:
            return  # httpx.URL(...), httpx.Headers(...): a value is built, nothing is sent
        if built in CLIENT_CLASSES:
            # a client being built sends only what it is told to put on every request: its
            # event hooks, transport and timeouts configure it (cohere's AwsClient hands the
            # user's AWS keys to the hook that signs each request with them)
            sent = [*node.args, *(k.value for k in node.keywords if k.arg in CLIENT_SENDS)]
            producers = set().union(*(self._producers(argument) for argument in sent))
        else:
            producers = self._argument_producers(node)
        if ENV_WHOLE in producers:
            self._add("call", f"network<-{ENV_WHOLE}", node.lineno)
        if any(p.startswith("recon:") for p in producers):
            self._add("call", "network<-recon", node.lineno)
            # identity sent where the caller asks (mark_sent_where_asked); a socket's
            # send(data) names no destination, its socket does
            socket_send = name.endswith((".send", ".sendall")) and len(node.args) < 2
            if self.functions and not socket_send:
                self._destination(node, name, self.identity_destinations)
        if self._configures_its_server(node, name):
            return
        if {"access-secret", "access-key-id"} <= producers:
            self._add("call", "network<-access-secret", node.lineno)
        if "secret" in producers:
            self._add("call", "network<-secret", node.lineno)

    def _configures_its_server(self, node: ast.Call, name: str) -> bool:
        """Keys the caller hands in, sent as an API path through a client object, go to the
        server the user configured that client with (hvac, the Vault client, configures
        Vault's AWS and SSH engines with the keys its caller passes): every key-named value
        the function reads is one of its parameters and the request names no host."""
        if not self.functions or isinstance(self.functions[-1], ast.Lambda):
            return False
        function = self.functions[-1]
        arguments = function.args
        parameters = {
            a.arg for a in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
        }
        keys_read = False
        for inner in walk(function):
            if isinstance(inner, ast.Name | ast.Attribute):
                identifier = inner.id if isinstance(inner, ast.Name) else inner.attr
                keyed = SECRET_NAME.match(identifier) or ACCESS_SECRET_NAME.match(identifier)
                handed = (
                    isinstance(inner, ast.Name)
                    and inner.id in parameters
                    and not isinstance(inner.ctx, ast.Store)  # private_key = open(...).read()
                )
                if keyed and not handed:
                    return False
                keys_read = keys_read or bool(keyed)
        return keys_read and to_configured_server(node, name, self.destinations, function)

    def _argv(self, node: ast.Call, spawns: bool) -> None:
        """``Popen(['powershell', '-w', 'hidden', ...])`` read as the command line it runs."""
        first = node.args[0] if node.args else None
        command = command_template(first, self.templates) if first is not None else None
        if isinstance(first, ast.List | ast.Tuple) and len(first.elts) >= 1:
            parts = [command_template(element, self.templates) for element in first.elts]
            command = " ".join(w if w is not None else "{}" for w in parts)
            if sum(1 for word in parts if word and word != "{}") >= 2:
                self._add("string", command, node.lineno)
        if not command:
            return
        if spawns and self.in_hook and program_name(command) not in BUILD_TOOLS:
            self._add("call", "spawn:install-hook", node.lineno)
        if PIP_INSTALL.search(command):
            self._add("call", "spawn:pip-install", node.lineno)
        if PYTHON_INLINE.search(command):
            self._add("call", "spawn:python-inline", node.lineno)
        words = command.split() or [""]
        if WINDOWS_PROGRAM.search(words[0]):
            self._add("call", "spawn:windows-program", node.lineno)
        program = words[0].replace("\\", "/").rsplit("/", 1)[-1].lower()
        if program in SHELLS and all(w.lower() in INTERACTIVE_FLAGS for w in words[1:]):
            self._add("call", "spawn:interactive-shell", node.lineno)

    def _runs_download(self, node: ast.Call) -> None:
        """A file written from the network, then started: ``urlretrieve(url, p)`` or
        ``open(p, 'wb').write(requests.get(url).content)``, then ``Popen([p])``,
        ``os.system(f'chmod +x {p} && {p}')`` or ``os.startfile(p)``, whatever the host."""
        if not self.downloaded or not node.args:
            return
        first = node.args[0]
        parts = first.elts if isinstance(first, ast.List | ast.Tuple) else [first]
        command = " ".join(command_template(part, self.templates) or "{}" for part in parts)
        for index, segment in enumerate(COMMAND_SEPARATORS.split(command)):
            words = segment.split()
            if not words:
                continue
            program = words[0].replace("\\", "/").rsplit("/", 1)[-1].lower()
            interpreted = program.removesuffix(".exe") in INTERPRETERS or (
                index == 0 and self.resolve(parts[0]) == "sys.executable"  # this interpreter
            )
            started = words[1:] if interpreted else words[:1]
            if any(path in word for path in self.downloaded for word in started):
                self._add("call", "run<-download", node.lineno)
                return

    def _dropped(self, node: ast.Call, name: str) -> None:
        """Downloaded or decoded bytes written to an executable or script file: a dropper."""
        path: str | None = None
        variable: str | None = None  # the variable holding the path, when there is one
        data: list[ast.AST] = []
        if name.endswith("urlretrieve") and len(node.args) >= 2:
            path, sources = command_template(node.args[1], self.templates), {"download"}
            if isinstance(node.args[1], ast.Name):
                variable = node.args[1].id
        else:
            func = node.func
            if not (isinstance(func, ast.Attribute) and func.attr in ("write", "writelines")):
                return
            target = func.value
            if isinstance(target, ast.Name) and target.id in self.open_files:
                path = self.open_files[target.id]
                variable = self.opened_names.get(target.id)
            elif isinstance(target, ast.Call) and self.resolve(target.func) == "open":
                path = command_template(target.args[0], self.templates) if target.args else None
                if target.args and isinstance(target.args[0], ast.Name):
                    variable = target.args[0].id
            data = list(node.args)
            sources = set()
            for argument in data:
                for producer in self._producers(argument):
                    if SENDERS.match(producer) or producer.startswith(DOWNLOADERS):
                        sources.add("download")
                    elif producer == PAYLOAD:
                        sources.add("decoded")
        if path and "download" in sources and known_path(path):
            self.downloaded.add(path)
        function = self._function_name()
        if variable and "download" in sources and function:
            self.download_path_names.add((function, variable))
        if path and EXECUTABLE_FILE.search(path):
            for source in sorted(sources):
                self._add("call", f"drop-executable<-{source}", node.lineno)

    def _decoded_by_wrapper(self, node: ast.Call, decoder: str) -> None:
        literal = fold(node.args[0])
        if literal is None:
            return
        try:
            data = BYTE_DECODERS[decoder](literal.encode("latin-1", "replace"))[:MAX_DECODED]
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
        if head.startswith(("http://", "https://")) or (len(head) < 200 and URL_IN.search(head)):
            self._add("call", "decoded-url", line)  # an endpoint hidden behind an encoding
        inner = python_facts(text, install_file=self.install_file, _nesting=self.nesting + 1)
        if inner.parsed:
            context = self.context
            for fact in inner.facts:
                self.result.facts.append(Fact(fact.kind, fact.value, line, context))

    def visit_Expr(self, node: ast.Expr) -> None:
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            # a docstring or bare string says nothing about behaviour, and the raw patterns
            # pass over it (faiss documents its datasets with "wget https://...")
            value = node.value
            if value.end_lineno is not None and value.end_col_offset is not None:
                span = (value.lineno, value.col_offset, value.end_lineno, value.end_col_offset)
                self.result.told.append(span)
            return
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str | bytes) and len(node.value) > 2:
            text = node.value if isinstance(node.value, str) else node.value.decode("latin-1")
            self._add("string", text, node.lineno)
            self._told(node, text)
            self._encoded_url(text, node.lineno)
            if CODE_LIKE.search(text) and self.nesting < MAX_NESTING:
                self._embedded(text, node.lineno)

    def _encoded_url(self, text: str, line: int) -> None:
        """A base64 literal that spells a URL is an endpoint someone chose to hide."""
        if not ENCODED_URL.match(text) or self.nesting >= MAX_NESTING:
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
        folded = fold(node, self.sums)
        if folded is not None:
            self._add("string", folded, node.lineno)
            self._told(node, folded)
            return
        self.generic_visit(node)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        pieces = [v.value for v in node.values if isinstance(v, ast.Constant)]
        text = "{}".join(str(p) for p in pieces)
        if len(text) > 2:
            self._add("string", text, node.lineno)
            self._told(node, text)
        self.generic_visit(node)


# Methods of other libraries that start a process with the environment they are given:
# asyncio's subprocess functions, Jupyter's kernel managers (panel starts a kernel with
# env={**os.environ}), pexpect
_CHILD_STARTERS = re.compile(
    r"(?:^|\.)(?:create_subprocess_(?:exec|shell)|start_(?:new_)?kernel|launch_kernel|spawnu?)\Z"
)


def _spawns(name: str | None) -> TypeGuard[str]:
    """A call that starts a program: a spawner, or a ``Popen``/``run``/``call`` of any module."""
    return bool(name and (SPAWNERS.match(name) or name.endswith(("Popen", ".run", ".call"))))


_OPENERS = frozenset({"open", "os.open", "io.open"})
_INERT_GAP = 3  # lines between inert calls read as one span


def _bindings(node: ast.AST) -> list[tuple[ast.expr, ast.expr | None]]:
    """The (target, value) pairs a statement binds: assignments and ``with ... as``."""
    if isinstance(node, ast.Assign):
        return [(target, node.value) for target in node.targets]
    if isinstance(node, ast.AnnAssign | ast.AugAssign | ast.NamedExpr):
        return [(node.target, node.value)]
    if isinstance(node, ast.With | ast.AsyncWith):
        return [(i.optional_vars, i.context_expr) for i in node.items if i.optional_vars]
    return []


def _os_field_of(node: ast.AST, resolve: Callable[[ast.AST], str | None]) -> str | None:
    """``platform.uname`` or ``os.uname`` when ``node`` reads only the operating system's
    name, release or machine from its result (``platform.uname().system``, or by position:
    scapy 2.8 picks its timestamp code by ``os.uname()[4]``), or a locale function when it
    reads only the encoding (gsutil picks its console code page by
    ``locale.getdefaultlocale()[1]``: no language, no country)."""
    shape = _os_field_name(node)
    if not shape:
        return None
    assert isinstance(node, ast.Attribute | ast.Subscript)
    call = node.value
    if not isinstance(call, ast.Call):
        return None
    name = resolve(call.func)
    if name in UNAME and shape in OS_FIELDS:
        return name
    return name if name in _LOCALE_READERS and shape == _LOCALE_ENCODING else None


# uname's fields by position (os.uname and platform.uname agree); 1 is the host's name
_UNAME_POSITIONS = {0: "system", 2: "release", 3: "version", 4: "machine", 5: "processor"}
# (language, encoding) is what these return; the language names a country
_LOCALE_READERS = frozenset({"locale.getdefaultlocale", "locale.getlocale"})
_LOCALE_ENCODING = "encoding"


# a URL template whose host is one whole field: "https://{}/api", "https://{host}:8443/"
_URL_HOST_FIELD = re.compile(r"[a-z][a-z0-9+.-]*://\{(\w*)\}(?:[:/?#]|\Z)")
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*://\Z")


def _whole_host(node: ast.AST) -> ast.expr | None:
    """The expression that fills the whole host of a URL template built by ``str.format``
    or an f-string, if the node is one."""
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "format"
        and isinstance(node.func.value, ast.Constant)
        and isinstance(node.func.value.value, str)
    ):
        field = _URL_HOST_FIELD.match(node.func.value.value)
        if field is None:
            return None
        if field.group(1) in ("", "0"):
            return node.args[0] if node.args else None
        return next((k.value for k in node.keywords if k.arg == field.group(1)), None)
    if isinstance(node, ast.JoinedStr) and len(node.values) >= 2:
        scheme, host, *rest = node.values
        after = rest[0] if rest else None
        if (
            isinstance(scheme, ast.Constant)
            and isinstance(scheme.value, str)
            and _SCHEME.match(scheme.value)
            and isinstance(host, ast.FormattedValue)
            and (
                after is None
                or (
                    isinstance(after, ast.Constant)
                    and isinstance(after.value, str)
                    and after.value[:1] in (":", "/", "?", "#")
                )
            )
        ):
            return host.value
    return None


def _assigned_name(node: ast.AST) -> str | None:
    """``host`` or ``self.host``, as assignments to it are matched."""
    if isinstance(node, ast.Name):
        return node.id
    if is_self_attribute(node):
        assert isinstance(node, ast.Attribute)
        return f"self.{node.attr}"
    return None


def _os_field_name(node: ast.AST) -> str | None:
    """The field a read of a call's result takes: by name, or by position (1 is the locale's
    encoding, and uname's host name, which reads no field of the system's)."""
    if isinstance(node, ast.Attribute):
        return node.attr if node.attr in OS_FIELDS else None
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
        index = node.slice.value
        if not isinstance(index, int):
            return None
        return _LOCALE_ENCODING if index == 1 else _UNAME_POSITIONS.get(index)
    return None


def _quoted_text(node: ast.Assign) -> str | None:
    """The local name a text literal is assigned to (``command = "curl ... | sh"``)."""
    target = node.targets[0] if len(node.targets) == 1 else None
    text = isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
    return target.id if isinstance(target, ast.Name) and text else None


def _names_only_quoted_in_prose(function: Function) -> frozenset[str]:
    """The names a function only ever puts into f-strings that are prose: a message quotes
    what they hold, nothing runs it."""
    uses = Counter(
        n.id for n in walk(function) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
    )
    quoted: Counter[str] = Counter()
    for node in walk(function):
        if not isinstance(node, ast.JoinedStr):
            continue
        words = " ".join(
            v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)
        )
        if is_prose(words):
            quoted.update(
                v.value.id
                for v in node.values
                if isinstance(v, ast.FormattedValue) and isinstance(v.value, ast.Name)
            )
    return frozenset(name for name, count in quoted.items() if uses[name] == count)


def _opens_for_writing(node: ast.Call) -> bool:
    mode = node.args[1] if len(node.args) >= 2 else None
    mode = next((k.value for k in node.keywords if k.arg == "mode"), mode)
    text = fold(mode) if mode is not None else None
    return text is not None and any(c in text for c in "wax")


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


# PEP 695 syntax (Python 3.12) that an older interpreter's parser rejects: ``type X = ...``
# and type parameters of functions and classes (tifffile 2026 writes both); a bracket may
# hold one nested level (``[T: dict[str, int]]``)
_TYPE_PARAMETERS = r"\[(?:[^\[\]\n]|\[[^\[\]\n]*\])*\]"
_TYPE_ALIAS = re.compile(
    rf"^([ \t]*)type[ \t]+([A-Za-z_]\w*)[ \t]*(?:{_TYPE_PARAMETERS})?[ \t]*=", re.M
)
_GENERIC_DEF = re.compile(
    rf"^([ \t]*(?:async[ \t]+)?(?:def|class)[ \t]+[A-Za-z_]\w*){_TYPE_PARAMETERS}(?=[ \t]*[(:])",
    re.M,
)


def parse_source(source: str) -> ast.Module | None:
    """The syntax tree of a Python source, or None. A source written for a newer Python
    whose only new syntax is PEP 695's is read with it rewritten, line for line, into
    what this interpreter parses (an alias becomes an assignment, type parameters go)."""
    # Python reads a source that starts with a UTF-8 byte order mark (adal's modules do);
    # ast.parse of the decoded text does not: without the mark, the lines stay
    source = source.removeprefix("\ufeff")
    try:
        return ast.parse(source)
    except SyntaxError:
        older = _GENERIC_DEF.sub(r"\1", _TYPE_ALIAS.sub(r"\1\2 =", source))
        if older == source:
            return None
        try:
            return ast.parse(older)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None
    except (ValueError, RecursionError, MemoryError):
        return None


def python_facts(
    source: str,
    *,
    install_file: bool = False,
    hook_functions: frozenset[str] = frozenset(),
    _nesting: int = 0,
) -> Facts:
    """Facts of one Python source; a file that does not parse gives ``parsed=False``.
    ``hook_functions``: module-level functions an install command of the package calls, read
    as install-time code."""
    tree = parse_source(source)
    if tree is None:
        return Facts(parsed=False)
    collector = Collector(
        install_file, _nesting, decoder_functions(tree), hook_functions,
        environment_consumers(tree), declarations(tree),
    )  # fmt: skip
    collector.destinations.tree = tree
    collector.own_functions = own_functions(tree)
    collector.message_constants = message_constants(tree, collector.own_functions)
    collector.membership_constants = membership_constants(tree)
    limit = sys.getrecursionlimit()
    try:
        sys.setrecursionlimit(max(limit, 5000))
        collector.visit(tree)
    except RecursionError:
        collector.result.parsed = False
    finally:
        sys.setrecursionlimit(limit)
    if collector.result.parsed and not install_file:
        reached = promote_called_functions(tree, collector.result)
        if collector.declared_facts:
            _undeclare(collector, names_read(function_bodies(reached)))
        if collector.parameter_destinations:
            # a call chain too deep to follow: the calls stay evidence
            with contextlib.suppress(RecursionError):
                mark_caller_supplied(
                    tree,
                    collector.result.facts,
                    collector.parameter_destinations,
                    collector.destinations,
                    reached,
                )
        if collector.identity_destinations:
            with contextlib.suppress(RecursionError):
                mark_sent_where_asked(
                    tree,
                    collector.result.facts,
                    collector.identity_destinations,
                    collector.destinations,
                )
    return collector.result


def _undeclare(collector: Collector, read_at_import: set[str]) -> None:
    """A declared value that a function run at import reads is import-time data again."""
    facts = collector.result.facts
    for indices, names in collector.declared_facts:
        if names & read_at_import:
            for index in indices:
                facts[index] = replace(facts[index], context=IMPORT)
