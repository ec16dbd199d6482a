"""Runs behaviour rules over one source text and returns the hits, each with its context."""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache

from finalexam.analyze.behavior.facts import IMPORT, INSTALL, RUNTIME, Fact, Facts
from finalexam.analyze.behavior.javascript.vocabulary import SHOWN_TEXT
from finalexam.analyze.behavior.languages import CALL_READERS, READERS, detect_language
from finalexam.analyze.behavior.python.messages import is_prose
from finalexam.analyze.behavior.python.syntax import function_lines
from finalexam.analyze.behavior.rules import BehaviorRule, rules_by_id
from finalexam.matching.prefilter import Prefilter

SNIPPET_CHARS = 160
MAX_HITS_PER_RULE = 20


@dataclass(frozen=True)
class Hit:
    rule: BehaviorRule
    line: int
    context: str  # install | import | runtime
    snippet: str


class _Lines:
    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def line_of(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset)

    def offset(self, line: int, byte_column: int) -> int:
        """The text offset of a line and a column counted in UTF-8 bytes (Python's ast)."""
        start = self.starts[line - 1] if 0 < line <= len(self.starts) else len(self.text)
        head = self.text[start : start + byte_column].encode("utf-8", "surrogatepass")
        return start + len(head[:byte_column].decode("utf-8", "ignore"))

    def snippet(self, line: int, offset: int | None = None) -> str:
        start = self.starts[line - 1] if 0 < line <= len(self.starts) else 0
        end = self.text.find("\n", start)
        raw = self.text[start : end if end >= 0 else len(self.text)]
        if len(raw) > SNIPPET_CHARS and offset is not None:
            # very long (minified) lines: show the window around the match
            column = max(0, offset - start - SNIPPET_CHARS // 3)
            raw = raw[column : column + SNIPPET_CHARS]
        return raw.strip()[:SNIPPET_CHARS]


# whole-line comments of the script languages read as text; PowerShell's <# ... #> blocks
_COMMENTS = {
    "powershell": re.compile(r"^[^\S\n]*#[^\n]*|<#.*?#>", re.MULTILINE | re.DOTALL),
    "shell": re.compile(r"^[^\S\n]*#[^\n]*", re.MULTILINE),
    "ruby": re.compile(r"^[^\S\n]*#[^\n]*|^=begin\b.*?^=end\b", re.MULTILINE | re.DOTALL),
    "batch": re.compile(r"(?i)^[^\S\n]*@?(rem\b|::)[^\n]*", re.MULTILINE),
    # JavaScript read as text (a bundle past the parser's budget): comments that open their
    # line only, since "https://..." in a string is no comment
    "javascript": re.compile(r"^[^\S\n]*(?://[^\n]*|/\*.*?\*/)", re.MULTILINE | re.DOTALL),
}


def comment_spans(text: str, language: str) -> list[tuple[int, int]]:
    """Text spans of comments, which run nothing: ansible-core's
    ConfigureRemotingForAnsible.ps1 tells in its header how to download and run it
    (``# $url = "https://.../ConfigureRemotingForAnsible.ps1"``); the same lines as code
    still match."""
    pattern = _COMMENTS.get(language)
    if pattern is None:
        return []
    spans = [match.span() for match in pattern.finditer(text)]
    if language == "javascript":
        spans += shown_text_spans(text)
    return spans


def shown_text_spans(text: str) -> list[tuple[int, int]]:
    """Sentences a page shows, found in text as the reader finds them in a tree (a rendered
    element's children, a label or a tip whose literal is prose): told, like comments."""
    return [
        found.span("literal")
        for found in SHOWN_TEXT.finditer(text)
        if is_prose(found.group("literal")[1:-1])
    ]


@functools.cache
def _literal_part(glob: str) -> str:
    return max(glob.split("*"), key=len)


@functools.cache
def _call_regex(glob: str) -> re.Pattern[str] | None:
    """Fallback for source that does not parse (Python 2): a dotted call name then ``(``."""
    if "<-" in glob or glob.startswith("import ") or glob.startswith("*"):
        return None
    body = re.escape(glob).replace(r"\*", r"[\w.]*")
    return re.compile(r"(?<![\w.])" + body + r"\s*\(")


def rule_hits(
    text: str,
    language: str,
    rules: Sequence[BehaviorRule],
    *,
    install_file: bool = False,
    default_context: str = RUNTIME,
    facts: Facts | None = None,
) -> list[Hit]:
    """Every rule hit in ``text`` read as ``language``, at most a few per rule."""
    lines = _Lines(text)
    reader = READERS.get(language)
    if reader is not None and facts is None:
        facts = reader(text, install_file=install_file)
    parsed = facts is not None and facts.parsed
    # top-level code of a language whose facts are read runs when the module is loaded
    module_context = INSTALL if install_file else (IMPORT if reader is not None else None)
    base_context = module_context or default_context

    in_functions = (
        function_lines(text) if language == "python" and not parsed and not install_file else ()
    )
    starts = [start for start, _ in in_functions]

    def context_at(line: int, offset: int | None = None) -> str:
        if facts is not None and parsed:
            return facts.context_of(line, base_context, offset)
        index = bisect.bisect_right(starts, line) - 1
        if index >= 0 and line <= in_functions[index][1]:
            return RUNTIME  # a function body of a source this interpreter cannot parse
        return base_context

    active = tuple(rule for rule in rules if rule.applies_to(language))
    index = _index(active)
    raw_hits = index.raw.candidates(text)
    literals: _Literals | None = None
    told: list[tuple[int, int]] = []  # text spans of sentences told to the user
    if facts is not None and parsed:
        literals = _Literals(facts)
        told = [
            (lines.offset(line, column), lines.offset(end_line, end_column))
            for line, column, end_line, end_column in facts.told
        ]
        string_hits = index.strings.candidates(literals.text)
    else:
        string_hits = index.strings.candidates(text)
        told = comment_spans(text, language)
    text_calls: Sequence[Fact] = ()
    call_reader = CALL_READERS.get(language)
    if call_reader is not None and any(rule.calls for rule in active):
        text_calls = call_reader(text, context_at)
    hits: list[Hit] = []
    for number, rule in enumerate(active):
        raw = [p for i, p in index.raw_of[number] if i in raw_hits]
        strings = [p for i, p in index.strings_of[number] if i in string_hits]
        hits.extend(
            _rule_hits(
                rule,
                lines,
                language,
                facts if parsed else None,
                literals,
                raw,
                strings,
                context_at,
                told,
                text_calls,
            )
        )
    return hits


@dataclass(frozen=True)
class _Index:
    raw: Prefilter
    strings: Prefilter
    raw_of: tuple[tuple[tuple[int, re.Pattern[str]], ...], ...]
    strings_of: tuple[tuple[tuple[int, re.Pattern[str]], ...], ...]


@cache
def _index(rules: tuple[BehaviorRule, ...]) -> _Index:
    """All patterns of a rule set in two prefilters (raw text and string literals)."""
    raw: list[re.Pattern[str]] = []
    strings: list[re.Pattern[str]] = []
    raw_of = []
    strings_of = []
    for rule in rules:
        raw_of.append(tuple((len(raw) + i, p) for i, p in enumerate(rule.patterns)))
        raw.extend(rule.patterns)
        strings_of.append(tuple((len(strings) + i, p) for i, p in enumerate(rule.strings)))
        strings.extend(rule.strings)
    return _Index(Prefilter(raw), Prefilter(strings), tuple(raw_of), tuple(strings_of))


class _Literals:
    """Every string literal of a Python file joined into one text, mapped back to its fact."""

    def __init__(self, facts: Facts) -> None:
        self.facts = [f for f in facts.facts if f.kind == "string"]
        self.starts: list[int] = []
        parts: list[str] = []
        offset = 0
        for fact in self.facts:
            self.starts.append(offset)
            parts.append(fact.value)
            offset += len(fact.value) + 1
        self.text = "\n".join(parts)

    def fact_at(self, offset: int) -> Fact:
        return self.facts[bisect.bisect_right(self.starts, offset) - 1]


class _Collected:
    def __init__(self, rule: BehaviorRule, lines: _Lines) -> None:
        self.rule = rule
        self.lines = lines
        self.hits: list[Hit] = []
        self.seen: set[tuple[int, str]] = set()
        self.settled = False  # a hit outside runtime code is among them

    @property
    def full(self) -> bool:
        return len(self.hits) >= MAX_HITS_PER_RULE and self.settled

    def add(self, line: int, context: str, offset: int | None = None) -> None:
        """One hit per line and context (a minified line holds both); past the cap only a
        hit in import or install code is still taken, so runtime decoys placed first do not
        hide it."""
        if (line, context) in self.seen or context not in self.rule.contexts:
            return
        if len(self.hits) >= MAX_HITS_PER_RULE and (self.settled or context == RUNTIME):
            return
        self.seen.add((line, context))
        self.settled = self.settled or context != RUNTIME
        self.hits.append(Hit(self.rule, line, context, self.lines.snippet(line, offset)))

    def scan(
        self,
        pattern: re.Pattern[str],
        context_at: Callable[[int, int | None], str],
        told: Sequence[tuple[int, int]] = (),
    ) -> None:
        for match in pattern.finditer(self.lines.text):
            if any(start <= match.start() and match.end() <= end for start, end in told):
                continue  # inside a sentence told to the user (python/messages.py)
            line = self.lines.line_of(match.start())
            self.add(line, context_at(line, match.start()), match.start())
            if self.full:
                return


def _rule_hits(
    rule: BehaviorRule,
    lines: _Lines,
    language: str,
    facts: Facts | None,
    literals: _Literals | None,
    raw: Sequence[re.Pattern[str]],
    strings: Sequence[re.Pattern[str]],
    context_at: Callable[[int, int | None], str],
    told: Sequence[tuple[int, int]],
    text_calls: Sequence[Fact] = (),
) -> list[Hit]:
    found = _Collected(rule, lines)
    if rule.min_distinct > 1:
        haystack = literals.text if literals is not None else lines.text
        distinct = sum(1 for p in strings if p.search(haystack))
        distinct += sum(1 for p in raw if p.search(lines.text))
        if distinct < rule.min_distinct:
            return []
    if facts is not None and literals is not None:
        if rule.calls:
            skip_supplied = rule.skip_caller_supplied
            for fact in facts.facts:
                skipped = skip_supplied and fact.caller_supplied
                if fact.kind == "call" and not skipped and rule.call_matches(fact.value):
                    found.add(fact.line, fact.context)
        # string rules look at literals only: comments and docstrings say nothing
        for pattern in strings:
            for match in pattern.finditer(literals.text):
                fact = literals.fact_at(match.start())
                found.add(fact.line, fact.context)
                if found.full:
                    break
    else:
        if language == "python":  # source that does not parse (Python 2): calls by their shape
            for glob in rule.calls:
                shape = _call_regex(glob)
                # the glob's longest literal part first: a shape whose name is nowhere in
                # the text is not scanned for (128 shapes over a 450 kB line cost seconds)
                if shape is not None and _literal_part(glob) in lines.text:
                    found.scan(shape, context_at)
        for fact in text_calls:  # calls a text language's reader gives (CALL_READERS)
            if rule.call_matches(fact.value):
                found.add(fact.line, fact.context)
        for pattern in strings:  # no literals to look at: the raw text stands in
            found.scan(pattern, context_at, told)
    for pattern in raw:
        found.scan(pattern, context_at, told)
    return sorted(found.hits, key=lambda h: h.line)


def example_matches(rule_id: str, example: str) -> bool:
    """Whether ``rule_id`` fires on ``example``, run through the same engine as a scan.

    The example is read as the rule's first language (Python examples go through ``ast``).
    """
    rule = rules_by_id()[rule_id]
    language = detect_language(example, rule.languages)
    install_only = rule.contexts == {"install"}
    hits = rule_hits(example, language, (rule,), install_file=install_only)
    return any(hit.rule.id == rule_id for hit in hits)
