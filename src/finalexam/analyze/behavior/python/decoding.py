"""Static decoding: the constant a Python expression always evaluates to (``fold``) and the
bytes a decoding expression yields from literals (``static_decode``), computed without running
anything; functions of the file that return decoded data."""

from __future__ import annotations

import ast
import base64
import binascii
import codecs
import re
import zlib
from collections.abc import Callable

from finalexam.analyze.behavior.python.syntax import FUNCTIONS, walk
from finalexam.analyze.behavior.python.vocabulary import DECODING


def fold(node: ast.AST | None, sums: dict[int, str | None] | None = None) -> str | None:
    """The constant string an expression always evaluates to, when that can be known.

    ``sums`` remembers the result for each ``+`` node (by id, for one tree): the visitor
    folds every node of a long sum in turn, and a polynomial of thousands of terms
    (sympy's ``polys/benchmarks/bench_solvers.py``) would otherwise cost quadratic time."""
    if node is None:
        return None
    if isinstance(node, ast.Constant):
        if isinstance(node.value, str):
            return node.value
        if isinstance(node.value, bytes):
            return node.value.decode("latin-1")
        return None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        if sums is not None and id(node) in sums:
            return sums[id(node)]
        left = fold(node.left, sums)
        right = fold(node.right, sums) if left is not None else None
        result = left + right if left is not None and right is not None else None
        if sums is not None:
            sums[id(node)] = result
        return result
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


BYTE_DECODERS: dict[str, Callable[[bytes], bytes]] = {
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
        if last in BYTE_DECODERS:
            decoded: bytes = BYTE_DECODERS[last](data)
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


def decoder_functions(tree: ast.Module) -> dict[str, tuple[set[str], str | None]]:
    """Functions of this file that decode what they are given (``def d(s): return
    b64decode(s).decode()``, an XOR loop over ``chr(ord(c) ^ k)``): calling them is decoding.
    The byte decoder is kept when the function is a one-argument wrapper of one, so literal
    arguments can be decoded statically."""
    imports: dict[str, str] = {}
    for node in walk(tree):
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
    for function in walk(tree):
        if not isinstance(function, FUNCTIONS):
            continue
        returns = any(isinstance(n, ast.Return) and n.value is not None for n in walk(function))
        if not returns:
            continue
        decoders: set[str] = set()
        for inner in walk(function):
            if isinstance(inner, ast.Call):
                name = dotted(inner.func)
                if DECODING.search(name):
                    decoders.add(name)
            elif isinstance(inner, ast.BinOp) and isinstance(inner.op, ast.BitXor):
                decoders.add("xor")
        if not decoders:
            continue
        byte_decoder = None
        if len(function.args.args) == 1:
            last = sorted(decoders)[0].rsplit(".", 1)[-1]
            byte_decoder = last if len(decoders) == 1 and last in BYTE_DECODERS else None
        found[function.name] = (decoders, byte_decoder)
    return found
