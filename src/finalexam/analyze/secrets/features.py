"""Features of a generic secret candidate: its name, its value, its line and its file.

A candidate of a filtered rule (``filter = "generic"``) is a value assigned to, passed to or
set under a name that says password, secret, token or key. Whether it is a credential is
decided from numbers computed here, by ``filter``. Every feature is cheap (linear in
the value and the line) and explainable; ``FEATURES`` names them in order.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from finalexam.analyze.secrets.validate import (
    WELL_KNOWN_EXAMPLES,
    is_placeholder,
)
from finalexam.context import path_context
from finalexam.entropy import shannon_entropy
from finalexam.model import FileContext

# The words a name is made of: db_password -> db, password; clientSecret -> client, secret.
_NAME_WORDS = re.compile(r"[A-Z]{2,}(?=[A-Z][a-z]|\d|\b|_)|[A-Z]?[a-z]+|[A-Z]+|\d+")
# Keyword families, by the words of the name they are made of.
# A word names a kind when it is the keyword or ends with it (dbpassword, apikey), not when
# the keyword is part of another word (passthrough, passport, keyboard, author, tokenizer).
KINDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("password", re.compile(r"pass(?:word|wd|phrase|code)?s?$|pwd$|^psw$|^pw$|password|passwd")),
    ("secret", re.compile(r"secrets?$|^secret")),
    ("token", re.compile(r"tokens?$|^tkn$")),
    ("key", re.compile(r"keys?$")),
    ("auth", re.compile(r"^o?auth(?:orization|code|key|token)?$")),
    ("credential", re.compile(r"^creds?$|^credentials?$")),
    ("salt", re.compile(r"^salt$|^nonce$")),
    ("otp", re.compile(r"^[ht]?otp(?:secret|seed|key)?$")),
)
# Rules whose "key" is not a name: what they find is a password or an authorization.
RULE_KIND = {
    "generic-url-userinfo": "password",
    "generic-cli-user-password": "password",
    "generic-securestring": "password",
    "generic-sql-password": "password",
    "generic-basic-credentials": "password",
}
# First words of message constants and UI strings: LABEL_PASSWORD, TITLE_FORGOT_PASSWORD.
_MESSAGE_WORDS = frozenset(
    [
        "label",
        "lbl",
        "title",
        "msg",
        "message",
        "messages",
        "error",
        "err",
        "text",
        "txt",
        "tooltip",
        "hint",
        "button",
        "btn",
        "mandatory",
        "invalid",
        "placeholder",
        "show",
        "hide",
        "forgot",
        "caption",
        "description",
        "desc",
        "help",
        "info",
        "notice",
        "warning",
        "prompt",
        "heading",
        "subtitle",
    ]
)
# Last words of a name that describe the credential rather than hold it: password_length,
# token_url, api_key_id, secretName, auth_type.
DESCRIBING = frozenset(
    [
        "id",
        "ids",
        "name",
        "names",
        "type",
        "types",
        "url",
        "uri",
        "urls",
        "path",
        "paths",
        "file",
        "files",
        "dir",
        "folder",
        "length",
        "len",
        "size",
        "label",
        "hint",
        "field",
        "fields",
        "input",
        "policy",
        "placeholder",
        "expires",
        "expiry",
        "expiration",
        "endpoint",
        "header",
        "headers",
        "prefix",
        "suffix",
        "format",
        "pattern",
        "regex",
        "mode",
        "method",
        "count",
        "max",
        "min",
        "enabled",
        "enable",
        "required",
        "error",
        "errors",
        "message",
        "msg",
        "text",
        "title",
        "description",
        "template",
        "view",
        "form",
        "page",
        "button",
        "link",
        "route",
        "reset",
        "strength",
        "validator",
        "validation",
        "valid",
        "invalid",
        "changed",
        "change",
        "key_id",
        "kid",
        "env",
        "var",
        "variable",
        "param",
        "parameter",
        "column",
        "attribute",
        "attr",
        "option",
        "options",
        "setting",
        "settings",
        "location",
        "provider",
        "service",
        "store",
        "storage",
        "manager",
        "handler",
        "helper",
        "class",
        "schema",
        "spec",
        "version",
        "timeout",
        "ttl",
        "lifetime",
        "duration",
        "age",
        "hash",
        "hashed",
        "digest",
        "encrypted",
        "md5",
        "sha",
        "sha1",
        "sha256",
        "bcrypt",
        "algorithm",
        "alg",
        "algo",
        "cipher",
        "scheme",
        "kind",
        "status",
        "state",
        "flag",
        "flags",
        "check",
        "checker",
        "verify",
        "verified",
        "verifier",
        "request",
        "response",
        "callback",
        "event",
        "events",
        "action",
        "actions",
        "index",
        "idx",
        "ref",
        "refs",
        "reference",
        "map",
        "list",
        "set",
        "dict",
        "len_",
        "bits",
        "bytes",
        "rotation",
        "used",
        "usage",
        "source",
        "from",
        "to",
        "visible",
        "visibility",
        "show",
        "hide",
        "hidden",
        "toggle",
        "icon",
        "mask",
        "masked",
        "confirmation",
        "remember",
        "forgot",
        "lost",
        "rules",
        "rule",
        "policy",
        "policies",
        "level",
        "color",
        "colour",
        "fingerprint",
        "thumbprint",
        "arn",
        "alias",
        "last",
        "spec",
        "specs",
        "date",
        "time",
        "timestamp",
        "created",
        "updated",
        "comment",
        "keyword",
        "literal",
        "operator",
        "punctuation",
        "whitespace",
    ]
)
# Words right before the keyword that name a kind of token or key that is no credential:
# pagination and idempotency tokens (NextToken, ClientRequestToken, ChangeToken), the keys of
# a database, a cache or a map (primary_key, sort_key, result_key, cacheKey).
NOT_CREDENTIAL_QUALIFIERS = {
    # tallies of a test run: evergreen's num_pass, avg_duration_pass (the passes counted)
    "password": frozenset(["num", "total", "count", "avg", "mean", "duration", "rate"]),
    "token": frozenset(
        [
            # quantities (max_tokens, cost_per_token) and the special tokens of a tokenizer
            "per",
            "max",
            "min",
            "num",
            "total",
            "search",
            "special",
            "pad",
            "eos",
            "bos",
            "unk",
            "sep",
            "cls",
            "mask",
            "start",
            "end",
            "stop",
            "next",
            "continuation",
            "page",
            "pagination",
            "paging",
            "cursor",
            "marker",
            "change",
            "action",
            "cancellation",
            "cancel",
            "sync",
            "output",
            "input",
            "result",
            "resumption",
            "sequence",
            "idempotency",
            "idempotent",
            "lexer",
            "parser",
            "syntax",
            # a model's layers: embed_tokens (transformers' tensor-parallel plans)
            "embed",
            "embedding",
            "embeddings",
        ]
    ),
    "key": frozenset(
        [
            # the name of a setting, field or header (settings_key, tag.key, header_key)
            "settings",
            "setting",
            "config",
            "field",
            "param",
            "params",
            "attr",
            "attribute",
            "feature",
            "tag",
            "label",
            "header",
            "metadata",
            "meta",
            "search",
            "primary",
            "foreign",
            "sort",
            "partition",
            "range",
            "cache",
            "result",
            "limit",
            "lookup",
            "dict",
            "map",
            "object",
            "row",
            "column",
            "composite",
            "unique",
            "index",
            "group",
            "route",
            "list",
            "item",
            "query",
            "element",
            "translation",
            "message",
            "hot",
            "shortcut",
            "s3",
            "sorting",
            "join",
            "idempotency",
        ]
    ),
}
# Words in a name that say the value is not a real one.
_FAKE_NAME = re.compile(r"test|fake|dummy|example|sample|mock|invalid|wrong|bad|incorrect|public")
TYPE_NAMES = frozenset(
    [
        "str",
        "string",
        "int",
        "integer",
        "bool",
        "boolean",
        "number",
        "float",
        "double",
        "any",
        "object",
        "none",
        "null",
        "nil",
        "undefined",
        "true",
        "false",
        "void",
        "char",
        "byte",
        "bytes",
        "long",
        "short",
        "list",
        "dict",
        "array",
        "optional",
        "unknown",
        "securestring",
        "secretstr",
        "date",
        "datetime",
    ]
)
# Letters of common words that make up non-random values (and placeholders in prose).
_COMMON_WORDS = frozenset(
    [
        "password",
        "passwd",
        "pass",
        "secret",
        "token",
        "key",
        "auth",
        "admin",
        "user",
        "users",
        "root",
        "test",
        "demo",
        "example",
        "sample",
        "default",
        "local",
        "localhost",
        "dev",
        "prod",
        "production",
        "staging",
        "value",
        "values",
        "string",
        "name",
        "names",
        "hello",
        "world",
        "foo",
        "bar",
        "baz",
        "qux",
        "app",
        "application",
        "api",
        "client",
        "server",
        "service",
        "access",
        "refresh",
        "private",
        "public",
        "master",
        "account",
        "login",
        "logout",
        "session",
        "cookie",
        "code",
        "data",
        "database",
        "db",
        "mysql",
        "postgres",
        "redis",
        "mongo",
        "email",
        "mail",
        "smtp",
        "the",
        "and",
        "for",
        "with",
        "your",
        "you",
        "our",
        "new",
        "old",
        "change",
        "changeme",
        "reset",
        "confirm",
        "current",
        "enter",
        "type",
        "here",
        "this",
        "that",
        "not",
        "none",
        "null",
        "true",
        "false",
        "yes",
        "set",
        "get",
        "put",
        "post",
        "delete",
        "update",
        "create",
        "read",
        "write",
        "web",
        "site",
        "home",
        "page",
        "guest",
        "letmein",
        "welcome",
        "qwerty",
        "dragon",
        "monkey",
        "shadow",
        "sunshine",
        "super",
        "secure",
        "simple",
        "my",
        "mine",
        "some",
        "any",
        "all",
        "id",
        "ids",
        "key",
        "keys",
        "word",
        "words",
        "text",
        "field",
        "form",
        "input",
        "output",
        "file",
        "path",
        "url",
        "uri",
        "http",
        "https",
        "www",
        "com",
        "org",
        "net",
        "org",
        "config",
        "setting",
        "settings",
        "env",
    ]
)
_HEX = re.compile(r"[0-9a-fA-F]+\Z")
_BASE64ISH = re.compile(r"[A-Za-z0-9+/=_\-]+\Z")
_BASE32 = re.compile(r"[A-Z2-7]+=*\Z")
_UUID = re.compile(
    r"\{?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}?\Z"
)
_IDENTIFIER = re.compile(r"[A-Za-z_$][\w$]*(?:(?:\.|::|->)[A-Za-z_$][\w$]*)*(?:\(\)?|\[)?\Z")
_SNAKE_OR_CAMEL = re.compile(
    r"[a-z]+(?:[_\-.][a-z0-9]+)+\Z|[a-z]+(?:[A-Z][a-z0-9]+)+\Z|[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\Z"
    r"|(?:[A-Z][a-z]{2,}){2,}[A-Z]?[a-z]*\Z"
)
_TEMPLATE = re.compile(
    r"\$\{|\$\(|\{\{|\}\}|#\{|%\(|%[sdrvq]\b|\{[\w.]*\}|<[\w\- ]+>|^\$\w|^%\w+%$|^@\w+@$|^:\w"
)
_PATHLIKE = re.compile(r"^(?:[A-Za-z]:)?[\\/~.]|[\\/][\w.\-]+[\\/]")
_URLLIKE = re.compile(r"^[a-z][a-z0-9+.\-]*://|^www\.", re.I)
_EMAILLIKE = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", re.I)
_FILENAME = re.compile(
    r"\.(?:json|txt|pem|key|crt|cer|der|p12|pfx|jks|yaml|yml|py|js|ts|html|xml|cfg|conf|ini|properties|env|sh|log|png|jpg|svg)$",
    re.I,
)
_VERSIONLIKE = re.compile(r"^v?\d+(?:\.\d+)+(?:[-+.]\w+)*$|^\d{4}-\d\d-\d\d")
_MASKED = re.compile(r"^[*xX•.#?_\-]{3,}$|\*{3,}|x{4,}|X{4,}")
_SEQUENCES = ("0123456789", "abcdefghijklmnopqrstuvwxyz", "qwertyuiop", "asdfghjkl")
_COMMENT = re.compile(r"^\s*(?:#|//|/\*|\*|<!--|--|;|rem\b|')", re.I)
_ASSERTION = re.compile(
    r"assert|expect|should|\.equals?\(|\.to(?:Be|Equal)|\bverify\(|\bcheck", re.I
)
_GETTER_CALL = re.compile(
    r"get|env|prompt|input|ask|read|load|fetch|lookup|gettext|translate|^_$|^t$|^__$|i18n|trans|"
    r"lang|label|format|encode|hash|crypt|digest|sign|join|path|url|require|resolve|config|setting",
    re.I,
)
_LOCALE_PATH = re.compile(
    r"(?:^|/)(?:locales?|i18n|l10n|lang|langs|languages|translations?|messages)(?:/|$)"
    r"|(?:^|/)[a-z]{2}(?:[_-][A-Za-z]{2,4})?\.(?:json|ya?ml|po|properties|strings|resx|xlf)$"
)
CODE_EXT = frozenset(
    [
        "py",
        "pyw",
        "pyi",
        "pyx",
        "pxd",
        "pxi",
        "map",
        "js",
        "mjs",
        "cjs",
        "jsx",
        "ts",
        "tsx",
        "java",
        "kt",
        "kts",
        "scala",
        "groovy",
        "cs",
        "vb",
        "fs",
        "go",
        "php",
        "rb",
        "swift",
        "m",
        "c",
        "h",
        "cc",
        "cpp",
        "hpp",
        "rs",
        "dart",
        "lua",
        "pl",
        "pm",
        "r",
        "jl",
        "ex",
        "exs",
        "erl",
        "clj",
        "coffee",
        "vue",
        "svelte",
    ]
)
_CONFIG_EXT = frozenset(
    [
        "yml",
        "yaml",
        "json",
        "toml",
        "ini",
        "cfg",
        "conf",
        "config",
        "properties",
        "env",
        "envrc",
        "xml",
        "plist",
        "tf",
        "tfvars",
        "hcl",
        "gradle",
        "sbt",
        "pom",
        "npmrc",
        "pypirc",
        "netrc",
        "htpasswd",
        "service",
        "dockerfile",
    ]
)
_DOC_EXT = frozenset(
    [
        "md",
        "markdown",
        "rst",
        "txt",
        "adoc",
        "asciidoc",
        "html",
        "htm",
        "tex",
        "org",
        "wiki",
        "textile",
    ]
)
_SCRIPT_EXT = frozenset(["sh", "bash", "zsh", "ksh", "bat", "cmd", "ps1", "psm1", "fish"])
_CONTEXTS = (FileContext.TEST, FileContext.DOCS, FileContext.EXAMPLE, FileContext.TOOLING)
# The syntax a rule reads, in families: a feature per rule would learn rare syntaxes (an XML
# attribute pair seen once in training) from a handful of examples.
SYNTAX = {
    "generic-quoted-assignment": "quoted",
    "generic-xml-element": "quoted",
    "generic-xml-key-value": "quoted",
    "generic-unquoted-assignment": "unquoted",
    "generic-env-list": "unquoted",
    "generic-inline-parameter": "parameter",
    "generic-cli-option": "parameter",
    "generic-call-argument": "call",
    "generic-url-userinfo": "embedded",
    "generic-cli-user-password": "embedded",
    "generic-securestring": "embedded",
    "generic-sql-password": "embedded",
    "generic-auth-header": "header",
    "generic-basic-credentials": "header",
}
_SYNTAXES = ("quoted", "unquoted", "parameter", "call", "embedded", "header")
_OPS = ("=", ":", "==", "!=", ",", "=>", ":=")


def name_words(name: str) -> list[str]:
    return [word.lower() for word in _NAME_WORDS.findall(name)]


def word_cover(value: str) -> float:
    """Fraction of the value's letters inside common words of three letters or more."""
    lowered = value.lower()
    letters = sum(c.isalpha() for c in lowered)
    if not letters:
        return 0.0
    covered = [False] * len(lowered)
    for size in range(min(len(lowered), 11), 2, -1):
        for start in range(len(lowered) - size + 1):
            if not covered[start] and lowered[start : start + size] in _COMMON_WORDS:
                for i in range(start, start + size):
                    covered[i] = True
    return sum(1 for i, c in enumerate(lowered) if covered[i] and c.isalpha()) / letters


WORDS_PATH = Path(__file__).resolve().parents[2] / "rules" / "secrets" / "model" / "words.txt"
LONGEST_WORD = 16  # letters of the longest dictionary word (authentication, configuration)
COMMON_SIZE = 20  # SCOWL sizes 10 and 20: the words everyone writes
# Runs of letters of one case pattern: overEvery -> over, Every; DashboardEntries -> ...
_LETTER_RUNS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")


@cache
def _words_by_size() -> dict[int, frozenset[str]]:
    """SCOWL size -> the words it adds (``## size N`` sections of words.txt)."""
    sections: dict[int, list[str]] = {}
    level = 0
    for line in WORDS_PATH.read_text(encoding="utf-8").splitlines():
        if line.startswith("## size "):
            level = int(line.removeprefix("## size "))
        elif line and not line.startswith("#"):
            sections.setdefault(level, []).append(line)
    return {size: frozenset(words) for size, words in sections.items()}


@cache
def dictionary() -> frozenset[str]:
    """About 61,000 English words (SCOWL up to size 50, bench/secrets/words.py), 3 to
    ``LONGEST_WORD`` letters: a value made of them alone is a name, not a secret."""
    return frozenset().union(*_words_by_size().values())


@cache
def common_words() -> frozenset[str]:
    """The 10,638 common words of them (SCOWL sizes 10 and 20, up to 12 letters: the words
    the model was trained with): a real password is often built of those (Summer2024!,
    hunter2), rarely of the rest."""
    sizes = _words_by_size().items()
    return frozenset(
        word for size, words in sizes if size <= COMMON_SIZE for word in words if len(word) <= 12
    )


def _segments(run: str, words: frozenset[str]) -> bool:
    """Whether ``run`` (lower case) is a sequence of dictionary words: overevery, autofocus."""
    reach = [True] + [False] * len(run)
    for end in range(3, len(run) + 1):
        reach[end] = any(
            reach[start] and run[start:end] in words
            for start in range(max(0, end - LONGEST_WORD), end - 2)
        )
    return reach[-1]


def dictionary_share(value: str, words: frozenset[str] | None = None) -> float:
    """Share of the value's letters in runs made of English words (of ``dictionary()`` unless
    told): 1.0 for credit_card, overEvery or DashboardEntries, near 0 for random letters (a
    real password of words scores high too: it is still reported when the rest says so)."""
    words = dictionary() if words is None else words
    letters = wordy = 0
    for run in _LETTER_RUNS.findall(value[:256]):
        letters += len(run)
        if len(run) >= 3 and _segments(run.lower(), words):
            wordy += len(run)
    return wordy / letters if letters else 0.0


def _sequential(value: str) -> bool:
    lowered = value.lower()
    return any(seq[i : i + 4] in lowered for seq in _SEQUENCES for i in range(len(seq) - 3))


@dataclass(frozen=True)
class GenericCandidate:
    """What a filtered rule found: the name, the value and where they sit."""

    rule_id: str
    key: str
    value: str
    line: str  # the whole line holding the value (at most a few KiB)
    path: str
    op: str = ""
    call: str = ""  # a call wrapping the literal: Some(, new String(, getenv(
    user: str = ""  # the user beside a password in a URL or -u user:password


def file_extension(path: str) -> str:
    name = path.rsplit("/", 1)[-1].lower()
    if name.startswith(".env") or name.endswith(".env"):
        return "env"
    if name == "dockerfile" or name.startswith("dockerfile."):
        return "dockerfile"
    return name.rsplit(".", 1)[-1] if "." in name else ""


# Words ending in "pass" that name no password: filters, routes, passes of a compiler.
_NOT_PASSWORDS = frozenset(
    [
        "bypass",
        "compass",
        "surpass",
        "trespass",
        "overpass",
        "underpass",
        "encompass",
        "bandpass",
        "lowpass",
        "highpass",
        "allpass",
        "notchpass",
        "minipass",
        "multipass",
        "onepass",
        "twopass",
        "singlepass",
        "firstpass",
        "askpass",  # ssh-askpass, SUDO_ASKPASS: the program that asks for a password
    ]
)


# Words that end in "key" and name no key (roundcube's time zones: 'Turkey' =>
# 'Europe/Istanbul'); a passkey is one
_NOT_KEYS = frozenset(
    ["turkey", "monkey", "donkey", "hockey", "jockey", "whiskey", "lackey", "hotkey", "turnkey"]
)


def names_kind(words: list[str], index: int) -> str:
    word = words[index]
    if word in _NOT_PASSWORDS or word in _NOT_KEYS:
        return ""
    if word in ("pass", "passes") and index < len(words) - 1 and not words[index + 1].isdigit():
        return ""  # pass_fds, pass_rate, PassThrough: the verb or noun, not a password
    return next((kind for kind, pattern in KINDS if pattern.search(word)), "")


def key_kind(words: list[str], rule_id: str = "") -> str:
    """The keyword family of a name, by its last word that names one ("" when none does)."""
    if rule_id in RULE_KIND:
        return RULE_KIND[rule_id]
    for index in range(len(words) - 1, -1, -1):
        kind = names_kind(words, index)
        if kind:
            return kind
    return ""


def names_public_parameter(name: str) -> bool:
    """A salt or a nonce: public by design, unlike the credentials the other kinds name."""
    return key_kind(name_words(name.strip("\"'[]$@:-"))) == "salt"


def is_message_name(words: list[str]) -> bool:
    return bool(words) and words[0] in _MESSAGE_WORDS


def features(c: GenericCandidate) -> list[float]:
    """The feature vector of a candidate, in ``FEATURES`` order."""
    value = c.value
    key = c.key.strip("\"'[]$@:-")
    words = name_words(key)
    last = words[-1] if words else ""
    kind = key_kind(words, c.rule_id)
    n = len(value)
    lower = sum(ch.islower() for ch in value)
    upper = sum(ch.isupper() for ch in value)
    digit = sum(ch.isdigit() for ch in value)
    space = value.count(" ")
    non_ascii = sum(ord(ch) > 127 for ch in value)
    special = n - lower - upper - digit - space - non_ascii
    entropy = shannon_entropy(value)
    ext = file_extension(c.path)
    context = path_context(c.path)
    line = c.line
    at = line.find(value)
    after = line[at + n :].strip() if at >= 0 else ""
    before = line[:at] if at >= 0 else line
    lowered_value = value.lower()
    key_letters = "".join(words)
    value_letters = re.sub(r"[^a-z]", "", lowered_value)
    row: list[float] = [
        float(n),
        math.log2(n + 1),
        float(lower) / n if n else 0.0,
        float(upper) / n if n else 0.0,
        float(digit) / n if n else 0.0,
        float(special) / n if n else 0.0,
        float(space),
        float(non_ascii > 0),
        float((lower > 0) + (upper > 0) + (digit > 0) + (special > 0)),
        entropy,
        entropy / math.log2(n) if n > 1 else 0.0,
        float(bool(_HEX.match(value))),
        float(bool(_BASE64ISH.match(value))),
        float(bool(_BASE32.match(value)) and n >= 16),
        float(bool(_UUID.match(value))),
        float(value.isdigit()),
        float(bool(_TEMPLATE.search(value))),
        float(is_placeholder(value) or value in WELL_KNOWN_EXAMPLES),
        float(bool(_MASKED.search(value))),
        float(len(set(value)) <= max(2, n // 4)),
        float(_sequential(value)),
        float(bool(_IDENTIFIER.match(value))),
        float(bool(_SNAKE_OR_CAMEL.match(value))),
        float(bool(_PATHLIKE.search(value))),
        float(bool(_URLLIKE.search(value))),
        float(bool(_EMAILLIKE.match(value))),
        float(bool(_FILENAME.search(value))),
        float(bool(_VERSIONLIKE.match(value))),
        float(lowered_value in TYPE_NAMES),
        word_cover(value),
        dictionary_share(value, common_words()),
        float(bool(value_letters) and len(value_letters) >= 3 and value_letters in key_letters),
        float(any(len(w) >= 4 and w in lowered_value for w in words)),
        float(value.endswith(("(", ")", ";", ",")) or "(" in value),
        # the name
        float(len(key)),
        float(len(words)),
        *(float(kind == k) for k, _ in KINDS),
        float(bool(words) and any(p.search(last) for _, p in KINDS)),
        float(last in DESCRIBING),
        float(bool(_FAKE_NAME.search(key.lower()))),
        float(is_message_name(words)),
        float(key.lower() in ("key", "keys", "k")),
        float(bool(c.user)),
        # the syntax
        *(float(SYNTAX.get(c.rule_id) == syntax) for syntax in _SYNTAXES),
        *(float(c.op == op) for op in _OPS),
        float(bool(c.call)),
        float(bool(c.call) and bool(_GETTER_CALL.search(c.call))),
        # the line
        float(len(line)),
        float(bool(_COMMENT.match(line))),
        float(bool(_ASSERTION.search(line))),
        float(bool(_FAKE_NAME.search(line.lower()))),
        float(len(after)),
        float(bool(re.search(r"[A-Za-z]{3,}\s+[A-Za-z]{3,}", after))),
        float(before.count("(") > before.count(")")),
        # the file
        *(float(context == ctx) for ctx in _CONTEXTS),
        float(ext in CODE_EXT),
        float(ext in _CONFIG_EXT),
        float(ext in _DOC_EXT),
        float(ext in _SCRIPT_EXT),
        float(ext == "json"),
        float(bool(_LOCALE_PATH.search(c.path.lower()))),
    ]
    return row


FEATURES: tuple[str, ...] = (
    "value_length",
    "value_log_length",
    "value_lower_share",
    "value_upper_share",
    "value_digit_share",
    "value_special_share",
    "value_spaces",
    "value_non_ascii",
    "value_classes",
    "value_entropy",
    "value_entropy_normalised",
    "value_hex",
    "value_base64_alphabet",
    "value_base32",
    "value_uuid",
    "value_number",
    "value_template",
    "value_placeholder",
    "value_masked",
    "value_few_distinct",
    "value_sequential",
    "value_identifier",
    "value_snake_or_camel",
    "value_path",
    "value_url",
    "value_email",
    "value_filename",
    "value_version_or_date",
    "value_type_name",
    "value_word_cover",
    "value_dictionary_share",
    "value_inside_name",
    "value_has_name_word",
    "value_code_like",
    "name_length",
    "name_words",
    *(f"name_kind_{k}" for k, _ in KINDS),
    "name_ends_with_keyword",
    "name_ends_describing",
    "name_says_fake",
    "name_message_constant",
    "name_is_key",
    "has_user",
    *(f"syntax_{syntax}" for syntax in _SYNTAXES),
    *(f"op_{op}" for op in _OPS),
    "wrapped_in_call",
    "wrapped_in_getter",
    "line_length",
    "line_comment",
    "line_assertion",
    "line_says_fake",
    "after_length",
    "after_prose",
    "inside_call",
    *(f"file_{ctx.value}" for ctx in _CONTEXTS),
    "file_code",
    "file_config",
    "file_docs",
    "file_script",
    "file_json",
    "file_locale",
)
