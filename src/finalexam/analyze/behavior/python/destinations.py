"""Where a connection goes.

A library that opens what its caller names (``def load(fname): urlopen(fname)``) reached at
import with a file name is not a beacon; malware names its host itself: a literal, a module
constant, a decoded literal. A destination is LITERAL, UNKNOWN, or the parameters of the
enclosing function it is built from (then the callers decide)."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable
from dataclasses import replace

from finalexam.analyze.behavior.facts import IMPORT, Fact
from finalexam.analyze.behavior.python.promotion import top_level
from finalexam.analyze.behavior.python.syntax import (
    FUNCTIONS,
    Function,
    children,
    is_self_attribute,
    walk,
)
from finalexam.analyze.behavior.python.vocabulary import DECODING, ENCODED_URL, SENDERS

_Kind = str | frozenset[str]


LITERAL = "literal"


UNKNOWN = "unknown"


CONNECTS = re.compile(SENDERS.pattern + r"|^socket\.create_connection$")


_DESTINATION_KEYWORDS = ("url", "fullurl", "host", "address")


# a URL, an IPv4 address, host:port or a host under a common top-level domain (a bare
# "name.ext" is as likely a file name)
_ENDPOINT = re.compile(
    r"://|^\d{1,3}(\.\d{1,3}){3}(:\d+)?/?$|^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+:\d+/?$"
    r"|^([A-Za-z0-9-]+\.)+(com|net|org|io|ru|cn|info|xyz|top|me|cc|tk|co|biz|online|site|"
    r"dev|app|club|pw|su|ws|cloud|link|live|shop|store|tech|example|invalid)$"
)


_SCOPE_STATEMENTS = (*FUNCTIONS, ast.Lambda, ast.ClassDef)


# a path relative to a client's base URL: a first segment that is no host (no dot, no colon)
_API_PATH = re.compile(r"^/?[A-Za-z0-9_-]+/[\w{}./-]*$")


def _names_endpoint(text: str) -> bool:
    """A literal that names a host or URL itself (or hides one in base64)."""
    return bool(_ENDPOINT.search(text) or ENCODED_URL.match(text))


# this machine: a scheme, user info and port may come with it
_LOOPBACK = re.compile(
    r"^(?:[a-z][a-z0-9+.-]*://)?(?:[^@/\s]*@)?"
    r"(?:localhost|127(?:\.\d{1,3}){3}|\[::1\]|::1)(?::\d*)?(?:/|$)",
    re.IGNORECASE,
)


def goes_to_loopback(node: ast.Call, name: str) -> bool:
    """A connection to this machine, named by a literal that starts with the host: scons'
    ninja daemon client asks ``HTTPConnection("127.0.0.1", port)`` of the build server it
    started. Nothing leaves the machine; a host chosen at run time is not this."""
    if name.rsplit(".", 1)[-1].startswith("send"):
        return False  # socket.send(data): the argument is what is sent
    target = destination_argument(node, name)
    whole = True
    if isinstance(target, ast.Tuple) and target.elts:
        target = target.elts[0]  # socket.create_connection(("127.0.0.1", port))
    if isinstance(target, ast.JoinedStr) and target.values:
        # f"http://127.0.0.1:{port}/x": the host must end inside the literal part, or
        # f"http://127.0.0.1{suffix}" could be 127.0.0.1.example.net
        target, whole = target.values[0], False
    if not isinstance(target, ast.Constant) or not isinstance(target.value, str):
        return False
    found = _LOOPBACK.match(target.value)
    return found is not None and (whole or found.end() < len(target.value) or found[0][-1] in ":/")


def destination_argument(node: ast.Call, name: str) -> ast.expr | None:
    for keyword in node.keywords:
        if keyword.arg in _DESTINATION_KEYWORDS:
            return keyword.value
    if name.endswith(".request") and len(node.args) >= 2:
        return node.args[1]  # requests.request(method, url)
    return node.args[0] if node.args else None


# a constructor's parameter, as a field that holds it is known by: ``__init__.host``
CONSTRUCTOR = "__init__."


def _init_of(owner: ast.ClassDef) -> Function | None:
    return next((m for m in owner.body if isinstance(m, FUNCTIONS) and m.name == "__init__"), None)


def _from_constructor(kind: _Kind | None) -> _Kind | None:
    if isinstance(kind, frozenset):
        return frozenset(
            name if name.startswith(CONSTRUCTOR) else CONSTRUCTOR + name for name in kind
        )
    return kind


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
    todo = list(children(root))
    while todo:
        node = todo.pop()
        if isinstance(node, _SCOPE_STATEMENTS):
            continue
        found.append(node)
        todo.extend(children(node))
    return sorted(found, key=lambda n: (getattr(n, "lineno", 0), getattr(n, "col_offset", 0)))


class Destinations:
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
        self.scopes: dict[tuple[int, bool], dict[str, _Kind]] = {}
        self.tree: ast.Module | None = None
        self._classes: dict[int, ast.ClassDef] | None = None  # method -> its class
        self._fields: dict[int, dict[str, _Kind]] = {}  # class -> self.<field> -> kind

    def origin(
        self, kind: frozenset[str], function: Function
    ) -> tuple[Function, frozenset[str]] | None:
        """Whose parameters a destination is built from: the function's own, or (for fields
        the constructor sets from its parameters: ``self._host = host``) the class's
        ``__init__``. None when it mixes both, which no caller alone decides."""
        fields = {name for name in kind if name.startswith(CONSTRUCTOR)}
        if not fields:
            return function, kind
        if fields != kind:
            return None
        constructor = self._constructor(function)
        if constructor is None:
            return None
        return constructor, frozenset(name.removeprefix(CONSTRUCTOR) for name in kind)

    def _class_of(self, function: Function) -> ast.ClassDef | None:
        if self._classes is None:
            tree = self.tree
            self._classes = (
                {}
                if tree is None
                else {
                    id(method): node
                    for node in walk(tree)
                    if isinstance(node, ast.ClassDef)
                    for method in node.body
                    if isinstance(method, FUNCTIONS)
                }
            )
        return self._classes.get(id(function))

    def _constructor(self, function: Function) -> Function | None:
        owner = self._class_of(function)
        return None if owner is None else _init_of(owner)

    def _field_kinds(self, owner: ast.ClassDef, constructor: Function) -> dict[str, _Kind]:
        """``self.<field>`` -> kind for the fields the constructor sets: from its parameters
        (``__init__.host``), a literal, or unknown. A field any other method also sets is
        unknown: it no longer holds only what the constructor was handed."""
        fields = self._fields.get(id(owner))
        if fields is not None:
            return fields
        fields = self._fields[id(owner)] = {}
        scope = self._names(constructor, with_fields=False)
        for method in owner.body:
            if not isinstance(method, FUNCTIONS):
                continue
            for node in _own_nodes(method):
                pairs: list[tuple[ast.AST, ast.AST | None]] = []
                if isinstance(node, ast.Assign):
                    pairs = [(target, node.value) for target in node.targets]
                elif isinstance(node, ast.AnnAssign | ast.AugAssign):
                    pairs = [(node.target, node.value)]
                for target, value in pairs:
                    for part in walk(target):
                        if is_self_attribute(part):
                            kind: _Kind | None = UNKNOWN
                            if method is constructor and value is not None:
                                kind = _from_constructor(self._kind(value, scope))
                            name = f"self.{part.attr}"
                            fields[name] = _join([fields.get(name), kind]) or UNKNOWN
        return fields

    def of(self, node: ast.AST, function: Function | None) -> _Kind:
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

    def _scope(self, function: Function) -> dict[str, _Kind]:
        """The function's names: its parameters and locals, and in a method the fields its
        class's constructor sets (``self._host``), which its locals may be built from."""
        return self._names(function, with_fields=True)

    def _names(self, function: Function, *, with_fields: bool) -> dict[str, _Kind]:
        key = (id(function), with_fields)
        scope = self.scopes.get(key)
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
        self.scopes[key] = scope
        if isinstance(function, ast.Lambda):
            return scope
        owner = self._class_of(function) if with_fields else None
        constructor = None if owner is None else _init_of(owner)
        if constructor is not None and positional and positional[0].arg == "self":
            assert owner is not None
            scope.update(self._field_kinds(owner, constructor))
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
                for name in walk(target):
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
            if is_self_attribute(node):
                field = scope.get(f"self.{node.attr}")
                if field is not None:
                    return field  # set by the constructor (a method's scope holds them)
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
            decodes = bool(DECODING.search(name)) or (
                isinstance(node.func, ast.Name) and node.func.id in self.wrappers
            )
            parts: list[ast.AST] = [*node.args, *(k.value for k in node.keywords)]
            if decodes and any(isinstance(n, ast.Constant) for p in parts for n in walk(p)):
                return LITERAL  # a decoded literal
            if isinstance(node.func, ast.Attribute) and not self.is_module(node.func.value):
                parts.append(node.func.value)  # p.strip(), "{}/x".format(p)
            return _join(self._kind(part, scope) for part in parts)
        if isinstance(node, _SCOPE_STATEMENTS):
            return UNKNOWN
        return _join(self._kind(child, scope) for child in children(node))

    def is_module(self, node: ast.AST) -> bool:
        while isinstance(node, ast.Attribute):
            node = node.value
        return isinstance(node, ast.Name) and node.id in self.aliases


def _call_arguments(
    call: ast.Call, function: Function, class_of: dict[int, str], any_receiver: bool = False
) -> tuple[list[ast.expr], dict[str | None, ast.expr]] | None:
    """The arguments ``call`` hands to ``function`` (directly, as a constructor, or through a
    runner such as ``Thread(target=f, args=(...))``), or None when it does not call it.
    ``any_receiver``: a method call on any object (``client.send(...)``) may be a call of it."""
    if isinstance(function, ast.Lambda):
        return None
    name = class_of.get(id(function), function.name)
    func = call.func
    callee = func.id if isinstance(func, ast.Name) else None
    if (
        isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Name)
        and func.value.id in ("self", "cls")
    ) or (any_receiver and isinstance(func, ast.Attribute)):
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
    function: Function,
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


def mark_caller_supplied(
    tree: ast.Module,
    facts: list[Fact],
    parameter_destinations: list[tuple[int, Function, frozenset[str]]],
    destinations: Destinations,
    reached: list[Function],
) -> None:
    """Import-time connections to a parameter stay evidence only when some import-time caller
    (transitively) passes a literal-derived destination for it: ``parameter_destinations``
    are (index in ``facts``, function, parameters) of connections whose destination is built
    from the function's parameters only."""
    pending = [(i, f, p) for i, f, p in parameter_destinations if facts[i].context == IMPORT]
    if not pending:
        return
    sites: list[tuple[ast.Call, Function | None]] = [
        (node, None)
        for statement in top_level(tree)
        for node in walk(statement)
        if isinstance(node, ast.Call)
    ]
    for function in reached:
        sites += [(n, function) for n in walk(function) if isinstance(n, ast.Call)]
    reaches = _LiteralReach(tree, sites, destinations, any_receiver=False)
    for index, function, parameters in pending:
        if not reaches(function, parameters):
            facts[index] = replace(facts[index], caller_supplied=True)


def mark_sent_where_asked(
    tree: ast.Module,
    facts: list[Fact],
    parameter_destinations: list[tuple[int, Function, frozenset[str]]],
    destinations: Destinations,
) -> None:
    """Data sent to a destination built only from the sending function's parameters goes where
    its caller asks (ipykernel answers a usage request with the host name on the stream the
    request came in on). It stays evidence when any call in the file, from anywhere, hands
    the function (or any method of that name) a literal-derived destination."""
    if not parameter_destinations:
        return
    scopes: list[tuple[ast.AST, Function | None]] = [(tree, None)]
    for node in walk(tree):
        if isinstance(node, (*FUNCTIONS, ast.Lambda)):
            scopes.append((node, node))
        elif isinstance(node, ast.ClassDef):
            scopes.append((node, None))
    sites = [
        (node, owner)
        for scope, owner in scopes
        for node in _own_nodes(scope)
        if isinstance(node, ast.Call)
    ]
    reaches = _LiteralReach(tree, sites, destinations, any_receiver=True)
    for index, function, parameters in parameter_destinations:
        if not reaches(function, parameters):
            facts[index] = replace(facts[index], caller_supplied=True)


class _LiteralReach:
    """Whether some call site (transitively) hands a function a literal-derived value for one
    of the given parameters."""

    def __init__(
        self,
        tree: ast.Module,
        sites: list[tuple[ast.Call, Function | None]],
        destinations: Destinations,
        *,
        any_receiver: bool,
    ) -> None:
        self.sites = sites
        self.destinations = destinations
        self.any_receiver = any_receiver
        self.class_of = {
            id(method): node.name
            for node in walk(tree)
            if isinstance(node, ast.ClassDef)
            for method in node.body
            if isinstance(method, FUNCTIONS) and method.name == "__init__"
        }
        self.seen: set[tuple[int, frozenset[str]]] = set()

    def __call__(self, function: Function, parameters: frozenset[str]) -> bool:
        if (id(function), parameters) in self.seen:
            return False
        self.seen.add((id(function), parameters))
        for call, caller in self.sites:
            handed = _call_arguments(call, function, self.class_of, self.any_receiver)
            if handed is None:
                continue
            for parameter in sorted(parameters):
                for value in _bound(function, *handed, parameter):
                    kind = self.destinations.of(value, caller)
                    if kind == LITERAL:
                        return True
                    if isinstance(kind, frozenset) and caller is not None:
                        origin = self.destinations.origin(kind, caller)
                        if origin is None or self(*origin):
                            return True  # a mix no single caller decides: assume it may
        return False


def to_configured_server(
    call: ast.Call, name: str, destinations: Destinations, function: Function | None
) -> bool:
    """A request for an API path (``/v1/auth/aws/config``) sent through a client object goes to
    the server that client was configured with, which the user names, not the code: hvac,
    the Vault client, posts the AWS keys its caller configures to ``self._adapter``. The path
    names no host, no literal anywhere in it does, and the file never builds that client
    (``self._adapter = ...``) from an address it names itself; ``requests.post`` (a module
    function) cannot send a relative path, so it is not such a client."""
    func = call.func
    if not isinstance(func, ast.Attribute) or destinations.is_module(func.value):
        return False
    target = destination_argument(call, name)
    if target is None:
        return False
    texts = [
        n.value for n in walk(target) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    ]
    leading = _leading_text(target, function)
    if leading is None or any(_names_endpoint(t) for t in texts):
        return False
    # "/v1/auth/aws/config", or a literal path relative to the client's base URL
    # ("api/public/integrations/blob-storage": langfuse's generated client)
    relative = bool(_API_PATH.match(leading))
    if not leading.startswith("/") and not relative:
        return False
    if destinations.of(target, function) == LITERAL and not relative:
        return False
    receiver = func.value
    built = (
        receiver.attr
        if isinstance(receiver, ast.Attribute)
        else receiver.id
        if isinstance(receiver, ast.Name)
        else None
    )
    tree = destinations.tree
    if built is None or tree is None:
        return False
    for node in walk(tree):
        if not isinstance(node, ast.Assign | ast.AnnAssign) or node.value is None:
            continue
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        named = any(
            (isinstance(t, ast.Attribute) and t.attr == built)
            or (isinstance(t, ast.Name) and t.id == built)
            for target_node in targets
            for t in walk(target_node)
        )
        if named and destinations.of(node.value, None) == LITERAL:
            return False
    return True


def _leading_text(node: ast.AST, function: Function | None, depth: int = 0) -> str | None:
    """The literal text a URL expression starts with (``"/v1/" + p``, ``f"/v1/{p}"``,
    ``"/v1/{}".format(p)``, ``format_url("/v1/{p}", ...)``, a local name assigned one)."""
    if depth > 8:
        return None
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) else None
    if isinstance(node, ast.JoinedStr):
        return _leading_text(node.values[0], function, depth + 1) if node.values else None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod):
        return _leading_text(node.left, function, depth + 1)
    if isinstance(node, ast.Call):
        if isinstance(node.func, ast.Attribute) and node.func.attr == "format":
            return _leading_text(node.func.value, function, depth + 1)
        return _leading_text(node.args[0], function, depth + 1) if node.args else None
    if isinstance(node, ast.Name) and function is not None:
        assigned = [
            n.value
            for n in _own_nodes(function)
            if isinstance(n, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == node.id for t in n.targets)
        ]
        if len(assigned) == 1:
            return _leading_text(assigned[0], function, depth + 1)
    return None
