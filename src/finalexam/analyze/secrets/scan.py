"""From a file's bytes to assessed secrets: which document to scan, and which matches to keep.

False-positive discipline lives here: well-known example keys, placeholders, template
variables, hashes, UUIDs, base64 images and lock-file integrity strings are dropped; checksums
raise or lower confidence. What the surrounding text says a value is (a docstring, a data URI,
usage text, a key published as test material) becomes the hit's context
(``finalexam.context``): reported, but not blocking.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from fnmatch import fnmatch

from finalexam.analyze.secrets.engine import Candidate, Engine, default_engine, rule_by_id
from finalexam.analyze.secrets.extract import decode_text, derived_document
from finalexam.analyze.secrets.features import GenericCandidate
from finalexam.analyze.secrets.filter import decide
from finalexam.analyze.secrets.rules import SecretRule
from finalexam.analyze.secrets.validate import (
    EXPIRED,
    VALIDATORS,
    WELL_KNOWN_EXAMPLES,
    has_character_class,
    is_base64_image,
    is_code_reference,
    is_placeholder,
    looks_like_hash_or_id,
)
from finalexam.context import Material, line_around, published_key
from finalexam.entropy import shannon_entropy
from finalexam.model import Blob, Confidence, FileContext
from finalexam.testcerts import paired_in

_LOCK_FILES = (
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "poetry.lock",
    "Pipfile.lock",
    "Cargo.lock",
    "go.sum",
    "composer.lock",
    "Gemfile.lock",
    "uv.lock",
    "pdm.lock",
)
# Assigned values that read as identifiers, names or timestamps are not secrets: NextMarker,
# 0002_alter_user_email, v4-unsigned-body, ./data, _reset_token, 2016-03-01T12:00:07Z.
_IDENTIFIER_LIKE = re.compile(
    r"[A-Za-z]+(?:[._-][A-Za-z]+)*[._-]?\Z"
    r"|(?:[a-z]+\d*|\d+|[A-Z][a-z]+|[A-Z]+\d{0,2})"
    r"(?:[_\-./:()]+(?:[a-z]+\d*|\d+|[A-Z][a-z]+|[A-Z]+\d{0,2}))+"
    r"[)]?\Z"
    r"|[._/]|\d{4}-\d\d-\d\d[T ]\d\d:\d\d"
)
_TRAILING_DIGITS = re.compile(r"\d+\Z")
# Three or more capitalised words, letters only: a class's name, which a provider's token of
# random letters and digits is not (cloudflare's CloudflaredResourceWithStreamingResponse)
_CLASS_NAME = re.compile(r"(?:[A-Z][a-z]{2,}){3,}\Z")
_INDEX = re.compile(r"\[(?:-?\d+|\*)\]")  # Jobs[-1].JobId: a path into an API response
_URN = re.compile(r"urn:[a-z0-9][a-z0-9-]{0,31}:", re.IGNORECASE)


def _names_something(secret: str) -> bool:
    """Identifiers, field paths (botocore's paginators), code references (IPython's magic
    table), URNs (OAuth token types) and regular expressions (a tokenizer's TOKEN pattern)
    name things; secrets do not."""
    return bool(
        _IDENTIFIER_LIKE.match(_INDEX.sub("", secret))
        or is_code_reference(secret)
        or _URN.match(secret)
        or has_character_class(secret)
    )


def _names_a_field(key: str, secret: str) -> bool:
    """``'password1', 'password2'``: the value is the key's own word, numbered: field names
    listed side by side (Django's user-creation form), not a password."""
    words = re.findall(r"[A-Za-z]+\d*", key)
    if not words:
        return False
    stem = _TRAILING_DIGITS.sub("", words[-1]).lower()
    return len(stem) >= 3 and _TRAILING_DIGITS.sub("", secret).lower() == stem


def _is_key_block(secret: str) -> bool:
    # Long random base64 trips word lists by chance: key blocks rely on their parser instead.
    return "-----BEGIN " in secret or secret.startswith("PuTTY-User-Key-File-")


@dataclass(frozen=True)
class SecretHit:
    rule: SecretRule
    secret: str
    confidence: Confidence
    validation: str  # valid, invalid, unchecked
    entropy: float
    line: int | None
    offset: int | None
    source: str
    encoding: str
    occurrences: int = 1
    lines: tuple[int, ...] = ()  # every line it occurs on (text), when more than one
    score: float | None = None  # the generic filter's score (filtered rules only)
    name: str = ""  # the name the value is assigned to (filtered rules only)
    context: FileContext | None = None  # what the content says it is (None: its location)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.secret.encode("utf-8", "surrogateescape")).hexdigest()


def _path_allowed(rule: SecretRule, path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    if rule.generic and name in _LOCK_FILES:
        return False
    if rule.include and not any(fnmatch(path, g) or fnmatch(name, g) for g in rule.include):
        return False
    return not any(fnmatch(path, g) or fnmatch(name, g) for g in rule.exclude)


def _allowed_here(path: str) -> Callable[[SecretRule], bool]:
    """Rules whose path filters let them report in ``path`` (the others need not run)."""
    return lambda rule: _path_allowed(rule, path)


def assess(rule: SecretRule, secret: str, path: str) -> tuple[Confidence, str, float] | None:
    """Confidence, validation state and entropy of a candidate, or None to drop it."""
    if secret in WELL_KNOWN_EXAMPLES:
        return None
    if not _is_key_block(secret) and is_placeholder(secret):
        return None
    if _CLASS_NAME.match(secret):
        return None  # CloudflaredResourceWithStreamingResponse: a name listed after the word
    if any(pattern.search(secret) for pattern in rule.allowlist):
        return None
    if rule.generic and (
        looks_like_hash_or_id(secret) or is_base64_image(secret) or _names_something(secret)
    ):
        return None
    entropy = shannon_entropy(secret)
    if entropy < rule.min_entropy:
        return None
    confidence = rule.confidence
    validation = "unchecked"
    if rule.validator is not None:
        verdict = VALIDATORS[rule.validator](secret)
        if verdict is True and rule.validator in EXPIRED and EXPIRED[rule.validator](secret):
            validation, confidence = "expired", Confidence.LOW
        elif verdict is True:
            validation, confidence = "valid", Confidence.HIGH
        elif verdict is False:
            if rule.drop_invalid:
                return None
            validation, confidence = "invalid", Confidence.LOW
    return confidence, validation, round(entropy, 2)


def _user_is_password(candidate: Candidate, material: Material) -> bool:
    """A connection URI whose password is its user name (postgres://loader:loader@localhost in
    dlt's templates, guest:guest): a stock account, as the generic rules hold for user:user."""
    before = bytes(material.document[candidate.match_start : candidate.start])
    return before.endswith(b"/" + bytes(candidate.secret) + b":")


_COMMAND_LINE_RULES = frozenset({"mysql-cli-password", "generic-cli-user-password"})
_COMMAND_REACH = 400  # the rest of the command line read after the password
_COMMAND_WORD = re.compile(rb"[^\s\"'`;|&<>()]+")


def _repeats_its_command(candidate: Candidate, material: Material) -> bool:
    """A command line whose password repeats another of its words, the user or the database
    (``mysqldump -u root -pdatahub datahub`` in datahub's quickstart, ``mysql -u root
    -proot``): a stock account named in the command, as user:user is in a URI."""
    head = bytes(material.document[candidate.match_start : candidate.start])
    tail = bytes(material.document[candidate.end : candidate.end + _COMMAND_REACH])
    rest = head + b" " + tail.split(b"\n", 1)[0]  # a minified file is one long line
    secret = bytes(candidate.secret)
    return any(
        word.split(b"=")[-1].lstrip(b"-").lower() == secret.lower()
        for word in _COMMAND_WORD.findall(rest)
    )


# A table of what to type into each kind of HTML input (wapiti's crawler fills forms with
# {"checkbox": "default", "email": ..., "password": "Letm3in_", "tel": ...}): its password
# entry is the value typed into password fields, for an input type, not a credential
_PASSWORD_INPUT_KEY = re.compile(rb"[\"']password[\"'][ \t]*(?::|=>|,)[ \t]*[\"']?\Z")
_INPUT_TYPE_KEY = re.compile(
    rb"[\"'](checkbox|color|date|datetime-local|email|hidden|month|number|radio|range|search"
    rb"|submit|tel|text|time|url|week)[\"'][ \t]*(?::|=>|,)"
)
_FORM_REACH = 600  # bytes read each side of the entry for the table's other input types


def _fills_a_form(candidate: Candidate, material: Material) -> bool:
    named = bytes(material.document[candidate.match_start : candidate.start])
    if not _PASSWORD_INPUT_KEY.search(named):
        return False
    low = max(0, candidate.match_start - _FORM_REACH)
    around = bytes(material.document[low : candidate.end + _FORM_REACH])
    return len(set(_INPUT_TYPE_KEY.findall(around))) >= 4


def _keep(
    hits: dict[tuple[str, str], SecretHit],
    candidate: Candidate,
    material: Material,
    path: str,
    line: int | None,
    offset: int | None,
    source: str,
    encoding: str,
) -> None:
    if not _path_allowed(candidate.rule, path):
        return
    secret = candidate.secret.decode("utf-8", "replace")
    if candidate.rule.generic:
        named = bytes(material.document[candidate.match_start : candidate.start])
        if _names_a_field(named.decode("utf-8", "replace"), secret):
            return
    if candidate.rule.family == "uri" and _user_is_password(candidate, material):
        return
    if candidate.rule.id in _COMMAND_LINE_RULES and _repeats_its_command(candidate, material):
        return
    key = (candidate.rule.id, secret)
    current = hits.get(key)
    if current is not None:
        hits[key] = SecretHit(**{**current.__dict__, "occurrences": current.occurrences + 1})
        return
    verdict = assess(candidate.rule, secret, path)
    if verdict is None:
        return
    confidence, validation, entropy = verdict
    hit = SecretHit(
        candidate.rule, secret, confidence, validation, entropy, line, offset, source, encoding
    )
    context = (
        published_key(hit.sha256)
        or material.context_at(candidate.match_start, candidate.start)
        or _test_key(material, secret, candidate.start)
    )
    hits[key] = replace(hit, context=context) if context else hit


# The name a value is assigned to, right before it: TEST_RSA_PRIVATE_KEY = """,
# "dummy_key": ", SAMPLE_KEY = (\n    "
_ASSIGNED_NAME = re.compile(
    rb"([A-Za-z_][\w-]*)[\"']?[ \t]*[:=][\s(]*(?:[rbuRBU]{0,2}(?:\"\"\"|'''|[\"'`]))?\Z"
)
_NAME_WORD = re.compile(rb"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")
_TEST_WORDS = frozenset({b"test", b"tests", b"testing", b"dummy", b"fake", b"mock", b"sample"})


def _test_key(material: Material, secret: str, start: int) -> FileContext | None:
    """A private key beside its own certificate for reserved names only, or assigned to a
    name that calls it test material (datahub's ``TEST_RSA_PRIVATE_KEY``, generated for its
    replay tests), is test material."""
    if not secret.startswith("-----BEGIN"):
        return None
    before = bytes(material.document[max(0, start - 200) : start])
    named = _ASSIGNED_NAME.search(before)
    if named and any(w.lower() in _TEST_WORDS for w in _NAME_WORD.findall(named.group(1))):
        return FileContext.TEST
    return FileContext.TEST if paired_in(bytes(material.document), secret) else None


# A line longer than this is cut around the value for the filter's line features.
_LINE_REACH = 2048


def _line_at(document: Blob | bytearray, start: int, end: int) -> str:
    return line_around(document, start, end, _LINE_REACH).decode("utf-8", "replace").rstrip("\r")


def generic_candidate(
    candidate: Candidate, document: Blob | bytearray, path: str
) -> GenericCandidate:
    """What the filter weighs of a filtered rule's match: name, value, line, file."""
    parts = {name: value.decode("utf-8", "replace") for name, value in candidate.parts}
    return GenericCandidate(
        rule_id=candidate.rule.id,
        key=parts.get("key", ""),
        value=candidate.secret.decode("utf-8", "replace"),
        line=_line_at(document, candidate.start, candidate.end),
        path=path,
        op=parts.get("op", ""),
        call=parts.get("call", ""),
        user=parts.get("user", ""),
    )


# A word a file gives as the value of many names: duckdb's keyword table files "password",
# "passing" and 150 other keywords as "unreserved". A credential is one name's value.
_LABEL = re.compile(r"[A-Za-z][A-Za-z_-]{3,40}\Z")
_LABEL_USES = 8


def _category_label(document: Blob | bytearray, secret: str) -> bool:
    """The value is a word the same file quotes as a value at least ``_LABEL_USES`` times."""
    if not _LABEL.match(secret):
        return False
    uses = 0
    for quote in (b'"', b"'"):
        needle = quote + secret.encode() + quote
        at = document.find(needle)
        while at >= 0 and uses < _LABEL_USES:
            uses += 1
            at = document.find(needle, at + len(needle))
    return uses >= _LABEL_USES


def _names_a_key(document: Blob | bytearray, secret: str, start: int) -> bool:
    """The value is a key of a mapping in the same file: anycrc's alias table maps
    'CRC16-BUYPASS' to 'CRC16-UMTS', a model it defines as 'CRC16-UMTS': model(...). A
    password is no other entry's name."""
    if len(secret) > _KEY_NAME_MAX or "\n" in secret:
        return False
    pattern = re.compile(rb"""["']""" + re.escape(secret.encode()) + rb"""["'][ \t]*(?::|=>)""")
    return any(found.start() + 1 != start for found in pattern.finditer(document))


_KEY_NAME_MAX = 64
# The user set on a line just above, in the same kind of setting: redmine's ci.rake sets
# dev_conf['username'] = 'jenkins', then dev_conf['password'] = 'jenkins'
_USER_SETTING = re.compile(
    rb"""(?i)(?<![a-z])(?:user(?:_?name)?|login|uid)["'\]]{0,2}[ \t]*(?:=>|[:=])[ \t]*"""
    rb"""["']([^"'\n]{1,64})["']"""
)
_USER_REACH = 3  # lines above the password's


_NEAR_BYTES = 1024  # read each side of a match for the lines around it


def _lines_before(candidate: Candidate, material: Material, count: int) -> list[bytes]:
    """The ``count`` lines above the match, and its own line up to it."""
    begin = max(0, candidate.match_start - _NEAR_BYTES)
    return bytes(material.document[begin : candidate.match_start]).split(b"\n")[-count - 1 :]


def _lines_after(candidate: Candidate, material: Material, count: int) -> list[bytes]:
    """The match's own line after it, and the ``count`` lines below."""
    after = bytes(material.document[candidate.end : candidate.end + _NEAR_BYTES])
    return after.split(b"\n")[: count + 1]


def _user_named_alike(candidate: Candidate, material: Material) -> bool:
    """A password equal to the user set beside it (jenkins/jenkins): a stock account, as
    user:user is in a URI."""
    secret = bytes(candidate.secret).lower()
    return any(
        found.group(1).lower() == secret
        for line in _lines_before(candidate, material, _USER_REACH)
        for found in _USER_SETTING.finditer(line)
    )


# An OpenPGP key's fingerprint or long id beside the keyring it is read from:
# popularity-contest's default.conf names the key it encrypts reports to popcon.debian.org
# with (POPCONKEY="B8D3...", under KEYRING=".../debian-popcon.gpg"): a public key's name
_OPENPGP_ID = re.compile(r"(?:0x)?(?:[0-9A-Fa-f]{16}|[0-9A-Fa-f]{40})\Z")
_KEYRING_WORD = re.compile(rb"(?i)\.gpg\b|\bgpg\b|\bpgp\b|keyring|keyserver")
_KEYRING_REACH = 3  # lines each side


def _beside_a_keyring(candidate: Candidate, material: Material) -> bool:
    near = _lines_before(candidate, material, _KEYRING_REACH)
    near += _lines_after(candidate, material, _KEYRING_REACH)
    return any(_KEYRING_WORD.search(line) for line in near)


def _keep_generic(
    hits: dict[tuple[str, str], SecretHit],
    candidate: Candidate,
    material: Material,
    path: str,
    line: int,
    encoding: str,
    candidates: bool,
) -> None:
    """A filtered rule's candidate: one finding per value, whichever rules found it. Values
    the filter scores low are candidates, kept only when asked for (``candidates``)."""
    secret = candidate.secret.decode("utf-8", "replace")
    key = ("generic", secret)
    current = hits.get(key)
    if current is not None:
        if line not in current.lines:
            hits[key] = SecretHit(
                **{
                    **current.__dict__,
                    "occurrences": current.occurrences + 1,
                    "lines": (*current.lines, line),
                }
            )
        return
    generic = generic_candidate(candidate, material.document, path)
    verdict = decide(generic)
    if verdict is None or (verdict[0] is Confidence.LOW and not candidates):
        return
    if _category_label(material.document, secret) or _fills_a_form(candidate, material):
        return
    if _names_a_key(material.document, secret, candidate.start):
        return
    if _user_named_alike(candidate, material):
        return
    if _OPENPGP_ID.match(secret) and _beside_a_keyring(candidate, material):
        return
    confidence, score = verdict
    hit = SecretHit(
        candidate.rule,
        secret,
        confidence,
        "unchecked",
        round(shannon_entropy(secret), 2),
        line,
        None,
        "text",
        encoding,
        lines=(line,),
        score=round(score, 3),
        name=generic.key,
    )
    # the same rule as for provider keys: a published constant is no one's secret
    context = published_key(hit.sha256) or material.context_at(
        candidate.match_start, candidate.start
    )
    hits[key] = replace(hit, context=context) if context else hit


def _prefer_specific(hits: dict[tuple[str, str], SecretHit]) -> list[SecretHit]:
    """A provider rule's finding makes a generic rule's finding of the same value redundant."""
    specific = [h.secret for h in hits.values() if not h.rule.generic]
    return [
        hit
        for hit in hits.values()
        if not hit.rule.generic or not any(hit.secret in s or s in hit.secret for s in specific)
    ]


# A script without an extension names its language on its first line: the generic filter
# reads it as that language's source (pykerberos' bin/ftp-gss, a Python script, has
# `passwd = acct = ''`: a name, as in any .py file)
_SHEBANG = re.compile(rb"#![ \t]*(?:/usr)?(?:/local)?/bin/(?:env[ \t]+)?([a-z]+)")
_SCRIPT_EXTENSIONS = {
    "python": ".py", "python3": ".py", "perl": ".pl", "ruby": ".rb", "node": ".js",
    "php": ".php", "sh": ".sh", "bash": ".sh", "dash": ".sh", "zsh": ".sh", "ksh": ".sh",
}  # fmt: skip


def _as_script(path: str, document: Blob | bytearray) -> str:
    """``path`` with the extension of its shebang's language, when it has none."""
    if "." in path.rsplit("/", 1)[-1]:
        return path
    found = _SHEBANG.match(bytes(document[:128]))
    extension = _SCRIPT_EXTENSIONS.get(found.group(1).decode()) if found else None
    return path + extension if extension else path


def scan_text(data: Blob, path: str, engine: Engine, candidates: bool = False) -> list[SecretHit]:
    document, encoding = decode_text(data)
    material = Material(document, path)
    script = _as_script(path, document)
    hits: dict[tuple[str, str], SecretHit] = {}
    line, counted = 1, 0
    for candidate in engine.scan(document, allowed=_allowed_here(path)):
        # Candidates arrive in position order, so lines are counted once, forward.
        line += bytes(document[counted : candidate.start]).count(b"\n")
        counted = max(counted, candidate.start)
        if candidate.rule.filter:
            if _path_allowed(candidate.rule, path):
                _keep_generic(hits, candidate, material, script, line, encoding, candidates)
        else:
            _keep(hits, candidate, material, path, line, None, "text", encoding)
    return sorted(_prefer_specific(hits), key=lambda h: (h.line or 0, h.rule.id, h.sha256))


def scan_binary(data: Blob, path: str, kind: str, engine: Engine) -> list[SecretHit]:
    hits: dict[tuple[str, str], SecretHit] = {}
    derived = derived_document(data, kind)
    material = Material(data, path)
    exact: set[tuple[str, int]] = set()  # (rule, file offset) found in a structured string
    strings = Material(derived.data, path)
    # Structured constants first: their boundaries are exact, while a raw run may run on into
    # a neighbouring length byte or type code that happens to be printable.
    in_path = _allowed_here(path)

    def allowed(rule: SecretRule) -> bool:  # filtered rules weigh lines of text only
        return not rule.filter and in_path(rule)

    for candidate in engine.scan(bytes(derived.data), allowed=allowed):
        offset, source = derived.locate(candidate.start)
        encoding = "utf-16le" if source == "binary-utf16le" else "ascii"
        exact.add((candidate.rule.id, offset))
        _keep(hits, candidate, strings, path, None, offset, source, encoding)
    for candidate in engine.scan(data, allowed=allowed):
        if (candidate.rule.id, candidate.start) in exact:
            continue
        _keep(hits, candidate, material, path, None, candidate.start, "binary-ascii", "ascii")
    return sorted(_prefer_specific(hits), key=lambda h: (h.offset or 0, h.rule.id, h.sha256))


def scan_bytes(
    data: Blob,
    path: str,
    *,
    binary: bool,
    kind: str = "data",
    engine: Engine | None = None,
    candidates: bool = False,
) -> list[SecretHit]:
    """Assessed secrets of one file; ``candidates`` keeps the generic values scored low."""
    engine = engine or default_engine()
    if binary:
        return scan_binary(data, path, kind, engine)
    return scan_text(data, path, engine, candidates)


def example_path(rule: SecretRule) -> str:
    """A path that satisfies the rule's path filters, for scanning its examples."""
    if rule.example_path:
        return rule.example_path
    if rule.include:
        return "app/" + rule.include[0].replace("*", "app")
    return "app/settings.txt"


def example_matches(rule_id: str, example: str) -> bool:
    """Does ``example``, scanned as a file, yield a finding of rule ``rule_id``?"""
    rule = rule_by_id(rule_id)
    data = example.encode(rule.example_encoding)
    hits = scan_bytes(data, example_path(rule), binary=False)
    return any(hit.rule.id == rule_id for hit in hits)
