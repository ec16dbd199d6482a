"""Facts of compiled Python (``.pyc``), read as its string constants, never unmarshalled."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable

from finalexam.analyze.behavior.facts import RUNTIME, Fact, Facts
from finalexam.analyze.behavior.python.vocabulary import CODE_LIKE, DECODING
from finalexam.analyze.secrets.extract import pyc_constants

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


_COMPILED_MODULES = frozenset(
    {
        "os", "subprocess", "socket", "requests", "urllib", "base64", "zlib", "marshal",
        "ctypes", "shutil", "platform", "getpass", "httpx", "ftplib", "smtplib", "winreg",
    }
)  # fmt: skip


def compiled_facts(constants: Iterable[str]) -> Facts:
    """Facts of compiled code (a .pyc read as its string constants, never unmarshalled): every
    constant is a string fact; a module name followed by an attribute name (the order of a
    code object's ``co_names``) stands for a call of it, and an evaluator named in the same
    file as a decoder stands for ``exec<-decoder``. Nothing is known about when it runs, so
    everything is library (runtime) code."""
    facts = Facts()
    names: list[str] = []
    for text in constants:
        if _IDENTIFIER.match(text):
            names.append(text)
        elif len(text) > 2:
            facts.facts.append(Fact("string", text, 1, RUNTIME))
            for match in CODE_LIKE.finditer(text[:4096]):
                facts.facts.append(Fact("string", match.group(0), 1, RUNTIME))
    calls: set[str] = set()
    for module, attribute in itertools.pairwise(names):
        if module in _COMPILED_MODULES and not attribute[0].isupper():
            calls.add(f"{module}.{attribute}")
    evaluators = {n for n in names if n in ("exec", "eval", "compile")}
    decoders = sorted(c for c in calls if DECODING.search(c))
    for evaluator in sorted(evaluators):
        calls.add(evaluator)
        for decoder in decoders:
            calls.add(f"{evaluator}<-{decoder}")
    facts.facts.extend(Fact("call", call, 1, RUNTIME) for call in sorted(calls))
    return facts


# marshal short-ascii strings (type code z/Z, with or without FLAG_REF): the names a code
# object uses (``os``, ``system``, ``exec``), too short for the secrets extractor
_PYC_NAME = re.compile(rb"[zZ\xfa\xda]([\x02-\x07])")
_NAME_BYTES = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*")


def _pyc_names(data: bytes) -> list[tuple[int, str]]:
    names = []
    for match in _PYC_NAME.finditer(data, 16):
        start = match.end()
        text = data[start : start + match.group(1)[0]]
        if _NAME_BYTES.fullmatch(text):
            names.append((start, text.decode("ascii")))
    return names


def pyc_strings(data: bytes) -> list[str]:
    """The string constants and short names of a ``.pyc``, in file order."""
    found = [(o, t.decode("utf-8", "replace")) for o, t in pyc_constants(data)]
    return [text for _, text in sorted(found + _pyc_names(data))]
