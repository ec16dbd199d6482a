"""File contents a diff needs: captured during the exam, tokenized, compared line by line.

Reports keep no bytes, so when two artifacts are diffed a small extra analyzer keeps the text
of source and manifest files (bounded per file and in total) for the comparison.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from finalexam.analyze.base import Analysis, Carried, ExamState
from finalexam.config import Config
from finalexam.model import FileEntry, FileType

MAX_FILE_BYTES = 1024 * 1024
MAX_TOTAL_BYTES = 256 * 1024 * 1024

C_LIKE = frozenset(
    {
        "js",
        "mjs",
        "cjs",
        "jsx",
        "ts",
        "tsx",
        "java",
        "c",
        "h",
        "cc",
        "cpp",
        "hpp",
        "go",
        "rs",
        "cs",
        "kt",
        "scala",
        "swift",
        "php",
        "css",
        "scss",
        "dart",
    }
)
HASH_COMMENT = frozenset({"py", "pyi", "pth", "sh", "bash", "rb", "pl", "ps1", "r", "cfg", "toml"})
CODE_SUFFIXES = C_LIKE | HASH_COMMENT | frozenset({"bat", "cmd", "vbs", "lua", "coffee"})
DOC_SUFFIXES = frozenset({"md", "rst", "txt", "html", "htm", "adoc", "markdown", "1", "tex"})
_DOC_NAMES = frozenset(
    {
        "license",
        "licence",
        "copying",
        "notice",
        "authors",
        "changelog",
        "changes",
        "history",
        "readme",
        "contributors",
        "security",
    }
)
_CAPTURED_TYPES = frozenset({FileType.SCRIPT, FileType.TEXT, FileType.JSON, FileType.XML})


def suffix(path: str) -> str:
    name = path.rsplit("/", 1)[-1].lower()
    return name.rsplit(".", 1)[-1] if "." in name else ""


def is_code(path: str) -> bool:
    return suffix(path) in CODE_SUFFIXES


def is_doc(path: str) -> bool:
    name = path.rsplit("/", 1)[-1].lower()
    stem = name.split(".", 1)[0]
    return suffix(path) in DOC_SUFFIXES or stem in _DOC_NAMES


@dataclass
class ContentStore:
    """Bytes of text-like files by sha256, filled while an exam walks an artifact."""

    blobs: dict[str, bytes] = field(default_factory=dict)
    total: int = 0
    truncated: bool = False

    def text(self, sha256: str) -> str | None:
        data = self.blobs.get(sha256)
        return None if data is None else data.decode("utf-8", "replace")


class ContentCapture:
    """An analyzer that finds nothing: it keeps small text files for the diff.

    Per-file analysis may run in worker processes, so the bytes travel back as carried
    results and reach the store in ``finish`` (in walk order: the same store for any --jobs).
    """

    name = "diff-content"
    version = "1.0"
    requires: tuple[str, ...] = ()
    wants = ("text and code files, for the baseline diff",)
    always_runs = True  # the diff needs it whatever plug-ins ``only`` picks

    def __init__(self, store: ContentStore) -> None:
        self.store = store

    def accepts(self, entry: FileEntry) -> bool:
        if entry.size > MAX_FILE_BYTES:
            return False
        return entry.file_type in _CAPTURED_TYPES or is_code(entry.path)

    def analyze(self, entry: FileEntry) -> Analysis:
        data = bytes(entry.data)
        if b"\x00" in data[:8192]:
            return Analysis()
        # the digest alone always arrives: a missing blob then says the budget ran out
        captured = Carried(self.name, (entry.sha256, data), len(data), MAX_TOTAL_BYTES)
        return Analysis(carried=[Carried(self.name, entry.sha256), captured])

    def finish(self, state: ExamState) -> Analysis:
        wanted: set[str] = set()
        for item in state.carried_by(self.name):
            if isinstance(item, str):
                wanted.add(item)
            elif item[0] not in self.store.blobs:
                self.store.blobs[item[0]] = item[1]
                self.store.total += len(item[1])
        self.store.truncated = self.store.truncated or not wanted <= set(self.store.blobs)
        return Analysis()


def capture_factory(store: ContentStore) -> Callable[[Config], ContentCapture]:
    def make(config: Config) -> ContentCapture:
        return ContentCapture(store)

    return make


# -- tokens -----------------------------------------------------------------------------

_STRINGS = (
    r'(?P<str>"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\''
    r"|`(?:\\.|[^`\\])*`)"
)
_TAIL = r"|(?P<ident>[A-Za-z_$][\w$]*)|(?P<num>\d[\w.]*)|(?P<op>\S)"
_LEXERS = {
    "c": re.compile(_STRINGS + r"|(?P<comment>//[^\n]*|/\*[\s\S]*?\*/)" + _TAIL),
    "hash": re.compile(_STRINGS + r"|(?P<comment>#[^\n]*)" + _TAIL),
    "plain": re.compile(r"(?P<word>\S+)"),
}
# Strings are matched only so that comment markers inside them are not taken for comments.
_COMMENT_SCANNERS = {
    "c": re.compile(_STRINGS + r"|(?P<comment>//[^\n]*|/\*[\s\S]*?\*/)"),
    "hash": re.compile(_STRINGS + r"|(?P<comment>#[^\n]*)"),
}
_BINDING = re.compile(r"\b(?:var|let|const|function|def|class|as|for)\s+\(?\s*([A-Za-z_$][\w$]*)")
_PARAMS = re.compile(r"(?:\bfunction\b[^(\n]*|\bdef\s+\w+\s*|\blambda\b)\(([^)]*)\)")
_ARROW_PARAMS = re.compile(r"\(([^()]*)\)\s*=>")
_NAME = re.compile(r"[A-Za-z_$][\w$]*")


def language(path: str) -> str:
    ext = suffix(path)
    if ext in C_LIKE:
        return "c"
    if ext in HASH_COMMENT:
        return "hash"
    return "plain"


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    line: int


def tokens(text: str, lang: str) -> list[Token]:
    out: list[Token] = []
    line = 1
    last = 0
    for match in _LEXERS[lang].finditer(text):
        line += text.count("\n", last, match.start())
        last = match.start()
        kind = match.lastgroup or "op"
        if kind != "comment":
            out.append(Token(kind, match.group(), line))
    return out


def bound_names(text: str) -> set[str]:
    """Names the file itself binds (locals, parameters, definitions): safe to rename."""
    names = set(_BINDING.findall(text))
    for pattern in (_PARAMS, _ARROW_PARAMS):
        for params in pattern.findall(text):
            for part in params.split(","):
                found = _NAME.match(part.strip().lstrip("*"))
                if found:
                    names.add(found.group())
    return names - {"self", "cls", "this", "function", "def", "var", "let", "const"}


def normalized_stream(
    text: str, lang: str, renamable: set[str], optional_semicolons: bool = False
) -> list[str]:
    """Token stream with comments and layout dropped and local names numbered in order."""
    canonical: dict[str, str] = {}
    out: list[str] = []
    for match in _LEXERS[lang].finditer(text):
        kind, value = match.lastgroup, match.group()
        if kind == "comment":
            continue
        if kind == "ident" and value in renamable and (not out or out[-1] != "."):
            out.append(canonical.setdefault(value, f"${len(canonical)}"))
        elif kind == "str" and value[:1] in "\"'" and not value.startswith(('"""', "'''")):
            out.append("'" + value[1:-1].replace("\\'", "'").replace('\\"', '"') + "'")
        elif optional_semicolons and value == ";":
            continue  # JavaScript inserts them: their presence is style
        elif value in ")]}" and out and out[-1] == ",":
            out[-1] = value  # a trailing comma is style
        else:
            out.append(value)
    return out


_JS = frozenset({"js", "mjs", "cjs", "jsx", "ts", "tsx"})


def is_cosmetic(old: str, new: str, path: str) -> bool:
    """Same program after dropping layout and comments and renaming local names."""
    lang = language(path)
    if lang == "plain":
        return old.split() == new.split()
    names = bound_names(old) | bound_names(new)
    js = suffix(path) in _JS
    return normalized_stream(old, lang, names, js) == normalized_stream(new, lang, names, js)


def strip_comments(text: str, path: str) -> str:
    """Code with comments blanked (strings kept), line numbers preserved."""
    lang = language(path)
    if lang == "plain":
        return text

    def blank(match: re.Match[str]) -> str:
        if match.lastgroup == "comment":
            return re.sub(r"[^\n]", " ", match.group())
        return match.group()

    return _COMMENT_SCANNERS[lang].sub(blank, text)


@dataclass(frozen=True)
class LineDelta:
    added: tuple[tuple[int, str], ...]  # (line number in new, text)
    removed: tuple[tuple[int, str], ...]  # (line number in old, text)
    hunks: tuple[str, ...]  # "@@ -a,b +c,d @@" headers


_EXACT_LINES = 4000  # above this many lines, added/removed lines are found by set difference


def line_delta(old: str, new: str) -> LineDelta:
    """Lines added and removed (whitespace-insensitive), with hunk headers for small files."""
    old_lines = old.splitlines()
    new_lines = new.splitlines()
    old_keys = [s.strip() for s in old_lines]
    new_keys = [s.strip() for s in new_lines]
    added: list[tuple[int, str]] = []
    removed: list[tuple[int, str]] = []
    hunks: list[str] = []
    if len(old_lines) + len(new_lines) > _EXACT_LINES:
        # Big (often generated or bundled) files: an exact alignment costs quadratic time;
        # a line counts as added when the old file does not have it at all.
        old_set, new_set = set(old_keys), set(new_keys)
        added = [(i + 1, new_lines[i]) for i, k in enumerate(new_keys) if k not in old_set]
        removed = [(i + 1, old_lines[i]) for i, k in enumerate(old_keys) if k not in new_set]
        return LineDelta(tuple(added), tuple(removed), ())
    matcher = difflib.SequenceMatcher(None, old_keys, new_keys)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        hunks.append(f"@@ -{i1 + 1},{i2 - i1} +{j1 + 1},{j2 - j1} @@")
        removed.extend((i + 1, old_lines[i]) for i in range(i1, i2))
        added.extend((j + 1, new_lines[j]) for j in range(j1, j2))
    return LineDelta(tuple(added), tuple(removed), tuple(hunks))


# -- endpoints --------------------------------------------------------------------------

_URL = re.compile(r"\b(?:https?|wss?|ftp)://[^\s'\"<>()\[\]{}`\\,;]+", re.IGNORECASE)
_IPV4 = re.compile(r"(?<=[\"'/@])(\d{1,3}(?:\.\d{1,3}){3})(?=[\"'/:])")


def host_of(url: str) -> str:
    rest = url.split("://", 1)[-1]
    host = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    host = host.rsplit("@", 1)[-1]
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    return host.split(":", 1)[0].lower().rstrip(".")


def endpoints(text: str) -> dict[str, int]:
    """URLs and IPv4 literals with the line of their first occurrence."""
    found: dict[str, int] = {}
    for pattern in (_URL, _IPV4):
        for match in pattern.finditer(text):
            value = match.group(1) if pattern is _IPV4 else match.group().rstrip(".:")
            if pattern is _IPV4 and not all(int(p) <= 255 for p in value.split(".")):
                continue
            found.setdefault(value, text.count("\n", 0, match.start()) + 1)
    return found


def first_lines(items: Iterable[tuple[int, str]], limit: int = 8) -> list[str]:
    out = []
    for number, text in items:
        out.append(f"{number}: {text.strip()[:200]}")
        if len(out) >= limit:
            break
    return out


def texts_by_path(paths: Mapping[str, str], store: ContentStore | None) -> dict[str, str]:
    """Relative path → text, for the paths whose content was captured."""
    if store is None:
        return {}
    out: dict[str, str] = {}
    for path, sha in paths.items():
        text = store.text(sha)
        if text is not None:
            out[path] = text
    return out
