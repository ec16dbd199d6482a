"""Text told to a person: literals a program prints, logs, warns with or raises; and
container recipes, text a container build runs.

torch 2.14's ``__init__.py`` prints "Microsoft Visual C++ Redistributable is not installed ...
It can be downloaded at https://aka.ms/vs/17/release/vc_redist.x64.exe" when a DLL fails to
load: an address in a sentence shown to the user is advice, not one the code fetches. Such
literals are recorded as ``message`` facts, which no rule's ``strings`` read. Only prose counts
(a few words beside the address) and only a literal whose value goes to the message: an
argument of ``os.system`` or ``urlretrieve`` inside a ``print`` is no message, and a bare URL
printed stays a string.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Set

from finalexam.analyze.behavior.python.syntax import FUNCTIONS, walk
from finalexam.analyze.behavior.python.vocabulary import MESSAGE_BUILDERS, MESSAGE_SINKS

MESSAGE = "message"
_WORD = re.compile(r"(?<![\w/.:%{-])[A-Za-z][a-z]+(?![\w/:%}-])")
_URL = re.compile(r"(?<!\w)\w+://\S+")  # from a word's start: linear on a long word
_MIN_WORDS = 3


def telling(name: str | None, raised: bool, inside: bool, own: Set[str]) -> bool:
    """Whether the arguments of a call named ``name`` go to a message: a message call, the
    exception a ``raise`` builds, or a text builder inside either (``inside``). A function the
    file defines itself (``own``: ``def warn(msg): os.system(...)``) is no message call,
    whatever its name."""
    if raised:
        return True
    if name is None or name.rsplit(".", 1)[-1] in own:
        return False
    if MESSAGE_SINKS.search(name):
        return True
    return inside and bool(MESSAGE_BUILDERS.search(name))


def own_functions(tree: ast.Module) -> frozenset[str]:
    """Names of the functions and methods a module defines."""
    return frozenset(node.name for node in walk(tree) if isinstance(node, FUNCTIONS))


def _called_name(node: ast.expr) -> str | None:
    """``logger.warning`` of ``logger.warning(...)``, as written (no alias resolved)."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return ".".join([node.id, *reversed(parts)])


def message_constants(tree: ast.Module, own: Set[str]) -> frozenset[str]:
    """Module-level prose constants that are only ever told: every read of the name is inside
    a raised exception or a message call's arguments (dlt's ``_UV_MISSING_MESSAGE`` names uv's
    installer command for the user to run, and only its exception carries it). One read
    anywhere else (``os.system(HINT)``) and the constant is no message."""
    constants = {
        node.targets[0].id
        for node in tree.body
        if isinstance(node, ast.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
        and is_prose(node.value.value)
    }
    if not constants:
        return frozenset()
    reads: dict[str, int] = dict.fromkeys(constants, 0)
    told: dict[str, set[int]] = {name: set() for name in constants}
    for node in walk(tree):
        if isinstance(node, ast.Name) and node.id in constants:
            if isinstance(node.ctx, ast.Load):
                reads[node.id] += 1
            continue
        if isinstance(node, ast.Raise) and node.exc is not None:
            parts: list[ast.AST] = [node.exc]
        elif isinstance(node, ast.Call) and telling(_called_name(node.func), False, False, own):
            parts = [*node.args, *(keyword.value for keyword in node.keywords)]
        else:
            continue
        for part in parts:
            for name in walk(part):
                if isinstance(name, ast.Name) and name.id in constants:
                    told[name.id].add(id(name))
    return frozenset(name for name in constants if reads[name] and len(told[name]) == reads[name])


def is_prose(text: str) -> bool:
    """A sentence, not a value: a few words outside any address."""
    return len(_WORD.findall(_URL.sub(" ", text))) >= _MIN_WORDS


RECIPE = "recipe"  # a Dockerfile held in a literal: what an image build runs, not this program
_RECIPE_START = re.compile(r"\s*(?:FROM|ARG|#)", re.IGNORECASE)
_INSTRUCTION = re.compile(
    r"(?:ADD|ARG|CMD|COPY|ENTRYPOINT|ENV|EXPOSE|FROM|HEALTHCHECK|LABEL|MAINTAINER|ONBUILD"
    r"|RUN|SHELL|STOPSIGNAL|USER|VOLUME|WORKDIR)\s",
    re.IGNORECASE,
)


def is_container_recipe(text: str) -> bool:
    """A Dockerfile: every line an instruction (the first a ``FROM`` or ``ARG``), a comment,
    or the continuation of an instruction ended by a backslash. swesmith 0.0.9 builds its
    test images from such literals, whose ``RUN`` lines fetch toolchains with
    ``curl ... | sh``: that runs inside the image being built. A text that only starts like
    one, with shell lines of its own, is not."""
    if _RECIPE_START.match(text) is None or "\n" not in text:
        return False  # (checked first: most literals are no recipe, and big ones are not copied)
    lines = [line.strip() for line in text.splitlines()]
    instructions = 0
    continued = False
    for line in lines:
        if continued:
            continued = line.endswith("\\")
            continue
        if not line or line.startswith("#"):
            continue
        if _INSTRUCTION.match(line) is None:
            return False
        if instructions == 0 and not line.upper().startswith(("FROM", "ARG")):
            return False
        instructions += 1
        continued = line.endswith("\\")
    return instructions >= 2
