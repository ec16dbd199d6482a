"""The generic-secret filter: is a named value a credential, and how sure is that?

Candidates come from the filtered rules (``filter = "generic"``): a value beside a name that
says password, secret, token or key, in any syntax. Two steps decide:

1. **Drops** that need no weighing: names in which no word is a keyword (``passthrough``,
   ``keyboard``, ``author``), message constants (``LABEL_PASSWORD``), public keys, very
   short values, sentences and labels, words in non-Latin letters, template variables and
   environment lookups (``${DB_PASS}``, ``{{ token }}``, ``%s``, ``process.env.X``), masks
   (``********``), known placeholders (``changeme``, ``<password>``, ``your-token``) and
   published documentation values.
2. **A score** between 0 and 1 from the features of ``features``: a small ensemble of
   gradient-boosted decision trees (``rules/secrets/model/generic-filter.json``), trained on
   labelled repositories (see docs/secrets.md and bench/secrets/train.py) and evaluated here
   in pure Python. Its thresholds turn the score into a confidence: ``high`` and ``medium``
   are reported as secrets that block a release when shipped, ``low`` ones are reported only.
"""

from __future__ import annotations

import base64
import itertools
import json
import math
import re
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

from finalexam.analyze.secrets.features import (
    CODE_EXT,
    DESCRIBING,
    FEATURES,
    NOT_CREDENTIAL_QUALIFIERS,
    TYPE_NAMES,
    GenericCandidate,
    dictionary_share,
    features,
    file_extension,
    is_message_name,
    key_kind,
    name_words,
    names_kind,
)
from finalexam.analyze.secrets.validate import (
    LEET,
    WELL_KNOWN_EXAMPLES,
    has_character_class,
    is_code_reference,
    is_placeholder,
    is_private_key_der,
    is_public_key_der,
)
from finalexam.context import path_context, translation_file
from finalexam.model import Confidence, FileContext

MODEL_PATH = (
    Path(__file__).resolve().parents[2] / "rules" / "secrets" / "model" / "generic-filter.json"
)
MIN_LENGTH = 4
# Digests of empty input (MD5, SHA-1, SHA-256): a checksum of nothing, never a credential.
_EMPTY_DIGESTS = frozenset(
    {
        "d41d8cd98f00b204e9800998ecf8427e",
        "da39a3ee5e6b4b0d3255bfef95601890afd80709",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    }
)
# Words separated by blanks, as in a sentence or a label: "Forgot your password?", "Mr. Smith".
_PROSE = re.compile(r"[A-Za-z][a-z]*\.?(?: [A-Za-z0-9]+)+[.!?:]?\Z")
# Values that say what they are and are never credentials: a date or timestamp, a key's
# fingerprint (1f:51:ae:...), a type (Optional[str], List<String>, SecureString).
_DATE = re.compile(r"\d{4}-\d\d-\d\d(?:[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:?\d\d)?)?\Z")
_FINGERPRINT = re.compile(r"(?:[0-9A-Fa-f]{2}:){7,}[0-9A-Fa-f]{2}\Z")
_VERSION_SPEC = re.compile(r"[~^<>=!]{0,2}v?\d+(?:\.(?:\d+|x|\*))+(?:[-+.][\w.]*)?\Z")
# A variable or class named after what it holds (my_credentials, AsyncCredentials, secret-token).
_NAMED_AFTER = re.compile(
    r"(?i)[A-Za-z_.\-]*(?:password|passwd|secret|token|credential|creds)[A-Za-z_.\-]*\Z"
)
# A digest named as one (root_password_sha2, GRAYLOG_SHA256_PASSWORD, password_hash): what a
# system stores to check a password, not the password.
_DIGEST_WORDS = frozenset(
    ["sha", "sha1", "sha2", "sha256", "sha512", "md5", "hash", "hashed", "digest", "bcrypt"]
)
_HEX_DIGEST = re.compile(r"[0-9a-fA-F]{32,128}\Z")
# An OpenPGP key's id or fingerprint (8, 16 or 40 hex digits, as gpg prints them) under a name
# that says whose signing key it is: Apache's <commons.releaseManagerKey> (the release
# manager's key, published on the KEYS page), gpg.keyname, signer_key. Public by design.
_OPENPGP_KEY_ID = re.compile(r"(?:0x)?(?:[0-9A-Fa-f]{8}|[0-9A-Fa-f]{16}|[0-9A-Fa-f]{40})\Z")
_OPENPGP_WORDS = frozenset(["gpg", "pgp", "openpgp", "signer", "keyname"])
# A XAML resource key (<SolidColorBrush x:Key="AccentBrush">): a name, never a credential.
_XAML_KEY = re.compile(r"\bx:Key\s*=")
_TYPE_EXPRESSION = re.compile(r"[A-Z]?[A-Za-z_][\w.]*(?:\[[\w.,\[\] |]*\]|<[\w.,<> ]*>)\Z")
# A method that transforms or looks up a value: password.encode("utf-8"), os.environ.get(
# "TOKEN"), key.split(":"). The literal is its argument, not the value of the name.
_TRANSFORM_METHOD = re.compile(
    r"\.(?:(?:en|de)code|format|join|split|r?split|[lr]?strip|replace|startswith|endswith|find"
    r"|removeprefix|removesuffix|r?partition"
    r"|index|count|get|pop|setdefault|equals?|contains|includes|indexOf|hash|update|digest"
    r"|getenv|getProperty|getString|getSecret|get_secret"
    r"|compile|match|fullmatch|search|sub|subn|findall|finditer)\([^\S\n]*\Z"
)
# The same in languages of plain functions (PHP, C, Perl): $cp1252Password = iconv('UTF-8', ...),
# $res[$key] = preg_replace('!^...!m', ...) (mediawiki): the literal is what the function reads.
_TRANSFORM_FUNCTION = re.compile(
    r"(?<![\w$>.])(?:preg_[a-z_]+|str_[a-z_]+|mb_[a-z_]+|iconv|sprintf|printf|implode|explode"
    r"|strtr|substr|trim|[lr]trim|hash|hash_hmac|base64_encode|urlencode|rawurlencode"
    r"|htmlspecialchars|json_encode|strcmp|strncmp|strcasecmp|strstr|strchr|strrchr|strlen"
    r"|strcpy|strncpy|strcat|strncat|split|join)\([^\S\n]*\Z"
)

# A module a program loads: shelljs's `var _pwd = require('./pwd')`, import('./token.js'),
# importlib.import_module("app.secrets"): the literal is the module's path, not the value
_MODULE_LOADER = re.compile(
    r"(?<![\w$])(?:require|import|__import__|import_module|require_once|include_once|include)"
    r"\([^\S\n]*\Z"
)


class ModelError(ValueError):
    """A filter model file that cannot be used."""


@dataclass(frozen=True)
class Tree:
    """One regression tree as parallel arrays: node i tests feature[i] <= threshold[i] and
    goes to left[i] or right[i]; a leaf has left[i] == -1 and holds value[i]."""

    feature: tuple[int, ...]
    threshold: tuple[float, ...]
    left: tuple[int, ...]
    right: tuple[int, ...]
    value: tuple[float, ...]

    def predict(self, row: list[float]) -> float:
        node = 0
        while self.left[node] != -1:
            node = (
                self.left[node]
                if row[self.feature[node]] <= self.threshold[node]
                else self.right[node]
            )
        return self.value[node]


@dataclass(frozen=True)
class Model:
    """Gradient-boosted trees on log-odds, with the thresholds chosen at training time."""

    base: float
    rate: float
    trees: tuple[Tree, ...]
    thresholds: dict[str, float]  # low, medium, high: the least score of each confidence

    def score(self, row: list[float]) -> float:
        total = self.base + self.rate * sum(tree.predict(row) for tree in self.trees)
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, total))))


def _tree(data: Any) -> Tree:
    try:
        tree = Tree(
            feature=tuple(int(x) for x in data["feature"]),
            threshold=tuple(float(x) for x in data["threshold"]),
            left=tuple(int(x) for x in data["left"]),
            right=tuple(int(x) for x in data["right"]),
            value=tuple(float(x) for x in data["value"]),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise ModelError(f"bad tree: {error}") from None
    size = len(tree.feature)
    if not size or any(len(a) != size for a in (tree.threshold, tree.left, tree.right, tree.value)):
        raise ModelError("bad tree: arrays of different lengths")
    for i in range(size):
        if tree.left[i] != -1 and not (
            i < tree.left[i] < size and i < tree.right[i] < size and tree.feature[i] < len(FEATURES)
        ):
            raise ModelError("bad tree: a node points outside the tree")
    return tree


def load_model(path: Path = MODEL_PATH) -> Model:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ModelError(f"{path.name}: {error}") from None
    if list(data.get("features", [])) != list(FEATURES):
        raise ModelError(
            f"{path.name}: trained on other features than analyze/secrets/features.py has"
        )
    thresholds = {k: float(data["thresholds"][k]) for k in ("low", "medium", "high")}
    return Model(
        base=float(data["base"]),
        rate=float(data["learning_rate"]),
        trees=tuple(_tree(t) for t in data["trees"]),
        thresholds=thresholds,
    )


@cache
def default_model() -> Model:
    return load_model()


_FIELDS = re.compile(r"%[sd]|\{\w*\}")
_NEGATIONS = (["no"], ["disable"], ["disabled"], ["without"], ["skip"])
_NUL_TERMINATOR = re.compile(r"(?:\\x00|\\0{1,3})+\Z")


# Product-analytics SDKs send events with a key each client carries, which the vendors
# document as public (Amplitude's API key, Segment's and RudderStack's write keys, Mixpanel's
# project token); the vendor's secret or management keys are other names.
_ANALYTICS_VENDORS = frozenset({"amplitude", "mixpanel", "segment", "rudderstack"})
_INGESTION_KEY_WORDS = (["api", "key"], ["write", "key"], ["token"], ["project", "token"])


# The collection endpoint of Google Analytics 4's Measurement Protocol: its api_secret only
# sends events, and the SDKs and apps that report usage carry it
_INGESTION_ENDPOINT = re.compile(r"google-analytics\.com/(?:mp/|debug/mp/)?collect\b")


def _joined_at_run_time(candidate: GenericCandidate) -> bool:
    """The quoted value is joined to an expression (``'aliyun_v4' + secret``, Perl's and
    PHP's ``'CLEAR:' . $master_pass``): a part."""
    quoted = re.escape(candidate.value) + r"""["']\s*(?:\+\s*[A-Za-z_(]|\.\s*\$[A-Za-z_{])"""
    return re.search(quoted, candidate.line) is not None


def _is_ingestion_key_name(words: list[str]) -> bool:
    """AMPLITUDE_API_KEY, segmentWriteKey, MIXPANEL_TOKEN (prefect 3.9's analytics)."""
    return len(words) > 1 and words[0] in _ANALYTICS_VENDORS and words[1:] in _INGESTION_KEY_WORDS


def dropped(candidate: GenericCandidate) -> bool:
    """Candidates that are certainly not credentials: the name names none (passthrough,
    keyboard, author), a message constant (LABEL_PASSWORD), or the value is too short, a
    sentence or label, words in non-Latin letters, a placeholder or a template."""
    value = candidate.value
    terminated = _NUL_TERMINATOR.sub("", value)
    if terminated != value:  # b"1.3.6.1.5.5.7.3.1\x00": a C string, read without its NUL
        return dropped(replace(candidate, value=terminated))
    if len(value) < MIN_LENGTH or value in WELL_KNOWN_EXAMPLES or value.lower() in _EMPTY_DIGESTS:
        return True
    words = name_words(candidate.key.strip("\"'[]$@:-"))
    if not key_kind(words, candidate.rule_id) or is_message_name(words):
        return True
    if any(word.startswith("pub") for word in words) or is_public_key_der(value):
        return True  # public keys and .NET PublicKeyToken values are meant to be seen
    if _PUBLIC_KEY_WORD.search(candidate.key):
        return True  # curl's --pinnedpubkey, trustedPublicKeys: a public key inside a word
    if _is_ingestion_key_name(words):
        return True  # AMPLITUDE_API_KEY: what every client of the product sends events with
    if candidate.rule_id == "generic-basic-credentials" and not _user_and_password(value):
        return True
    if _class_member(candidate.key):
        return True  # Token.String = "ansi_green": a member of the class the keyword names
    if _names_a_type(candidate):
        return True  # "AWS::ApiGateway::ApiKey": a resource type's name, its value no key
    if candidate.rule_id == "generic-cli-option" and (words[:1] in _NEGATIONS or value[0] == "-"):
        # --no-ask-password, adduser's --disabled-password take no value: what follows is
        # the next argument (privoxy's postinst: --disabled-password privoxy)
        return True
    if candidate.rule_id not in _NAMELESS_RULES and _names_no_credential(words):
        return True
    if any(pattern.match(value) for pattern in _NOT_SECRET_VALUES):
        return True
    if _FIELDS.search(value) and _DOTTED_NAME.match(_FIELDS.sub("", value)):
        return True  # 'huey.counters.%s' % self.name: a key made from a template
    if value != value.strip() or value.lower() in _AUTH_SCHEMES or value.lower() in TYPE_NAMES:
        return True  # "Bearer " + token: a prefix to join; the scheme word alone; a type
    if value.lower() == candidate.key.strip("\"'[]$@:-").lower() or value[0] in "([{<":
        return True  # credentials=credentials; PWD=(whatever), a placeholder in brackets
    if _CODE_VALUE.match(value) or has_character_class(value) or is_code_reference(value):
        return True  # cached_credentials['key'], get_token(, a.b.mod:Class: code; [a-z]+: a pattern
    if _NAMED_AFTER.match(value):
        return True  # credentials=my_credentials, "AsyncCredentials": a name, not its value
    if _WORDS_ONLY.match(value) and dictionary_share(value) == 1.0:
        return True  # matcher, overEvery, credit_card, DashboardEntries: names made of words
    if _is_sigil_name(value):
        return True  # "?InterpolationInJSX", "$RefParser": a name of words behind a sigil
    if (candidate.op == "," or _quoted_then_comma(candidate)) and _listed_after_a_value(candidate):
        return True  # "autocomplete": "current-password", "autofocus": the name is a value
    if candidate.op == "," and _list_of_names(candidate):
        return True  # set(["connector_tokens", "connectors"]): field names side by side
    if candidate.op == ":" and _property_descriptor(candidate):
        return True  # {key:"isPerpendicularTo",value:function(e){...}}: a method's name
    if candidate.rule_id == "generic-call-argument" and (
        _READER_WORDS.intersection(words) or _first_of_names(candidate)
    ):
        return True  # read_private_key("OPENSSH"), createToken("NUMERIC", ...): names
    if candidate.rule_id == "generic-call-argument" and _SNAKE_NAME.match(value):
        return True  # OptionKey("b_thinlto_cache_dir"): an option's name (meson)
    if _HEX_DIGEST.match(value) and _DIGEST_WORDS.intersection(words):
        return True
    if words == ["key"] and _XAML_KEY.search(candidate.line):
        return True
    if _OPENPGP_KEY_ID.match(value) and _names_openpgp_key(words):
        return True
    if (value.endswith((":", "=")) or _is_lookup_name(value)) and _joined_at_run_time(candidate):
        # key_secret = 'aliyun_v4' + credentials.get_secret(), $master_pass = 'CLEAR:' .
        # $master_pass (kpcli): a tag or a scheme put before it
        return True
    if _INGESTION_ENDPOINT.search(candidate.line):
        return True  # GA4's Measurement Protocol api_secret (ultralytics): it only sends events
    if key_kind(words, candidate.rule_id) == "key" and (
        _is_lookup_name(value)
        or (candidate.rule_id == "generic-call-argument" and _LOWER_WORD.match(value))
    ):
        return True  # cachedir_key = 'b_thinlto_cache', cased_key("connecttimeoutms"): names
    if candidate.call and (
        _TRANSFORM_METHOD.search(candidate.call)
        or _TRANSFORM_FUNCTION.search(candidate.call)
        or _MODULE_LOADER.search(candidate.call)
    ):
        return True
    if _interpolated(candidate):
        return True  # 'Authorization' => "sha256 $hmac" (mediawiki's shellbox): joined as it runs
    extension = file_extension(candidate.path)
    in_code = extension in CODE_EXT
    if candidate.rule_id == "generic-unquoted-assignment" and (
        in_code or (extension == "json" and _JSON_NUMBER.match(value))
    ):
        # in a program, an unquoted value is an expression (a name, a call); in JSON, a
        # number ("password": 16843100 in androguard's public.json: an attribute's id)
        return True
    if in_code and candidate.rule_id == "generic-inline-parameter" and _keyword_argument(candidate):
        return True  # valid_token=validated, api_key=params_str(params, "api_key"): the same
    if in_code and candidate.rule_id == "generic-auth-header" and _annotated_type(candidate):
        return True  # authorization: MCPAuthorizationRef (mistral-vibe): a field's type
    if _encodes_plain_json(value):
        return True  # bokeh's DEFAULT_TOKEN: base64 of {"session_id": "default"}
    if _in_a_message_table(candidate) or translation_file(candidate.path):
        # $labels['password'] = 'Ger-Tremen' (roundcube), $PALANG['password'] = 'Heslo' in
        # postfixadmin's languages/cs.lang: the word, translated
        return True
    if candidate.rule_id == "generic-call-argument" and _reports_a_check(candidate):
        return True  # $RCI->pass('DB Schema') (roundcube's installer): a check that passed
    if _abbreviates_its_name(candidate):
        return True  # "password": "PSWD" (scapy's HICP field labels): the name, shortened
    if _command_substitution(candidate):
        return True  # LOGINPASS2=`head -n1` (ecryptfs-utils): what a command prints
    if in_code and candidate.op == "," and _bare_variable(candidate):
        return True  # SigV4Auth(credentials, "sagemaker", region): arguments side by side
    if in_code and _formatted_name(candidate):
        return True  # temp_key = f".{sha256_hex}.tmp": a name made at run time
    if candidate.op == ":" and _maven_coordinate(candidate):
        return True  # io.jsonwebtoken:jjwt-impl in pyspark's LICENSE: an artifact it bundles
    if candidate.op == ":" and _ternary_branch(candidate):
        return True  # variant: "reset_password" === e ? "reset_password" : "signup"
    if candidate.rule_id == "generic-sql-password" and _closes_another_string(candidate):
        return True
    if _JOINS_TWO_STRINGS.match(value):
        return True  # " IDENTIFIED BY ".(min_version(8)?"":...) (adminer): code between strings
    if candidate.path.endswith(".map") or _PUBLISHED_TOKEN_URL.search(candidate.line):
        return True  # a source map repeats the shipped code; badge tokens, meeting links are public
    if not any(c.isalnum() for c in _FIELDS.sub("", value)):
        # "#/:?@[]\\": characters to escape; "%s://" (gsutil's config writer): a template
        return True
    if candidate.call and (
        _READER_WORDS.intersection(name_words(candidate.call)) or _first_of_names(candidate)
    ):
        return True  # KEY = create_key("otel_labeler"), token = state.push("html_inline", "", 0)
    if (
        in_code
        and (candidate.op in ("==", "!=") or _compared_with_a_name(candidate))
        and _STATE_NAME.match(value)
        and path_context(candidate.path) in (FileContext.SHIPPED, FileContext.VENDORED)
    ):
        return True  # while current_token == 'rbracket': a program compares states by name
    if in_code and candidate.op in ("==", "!=") and _ASSERTION.match(candidate.line):
        return True  # assert hexkey == 'A1:B1:C1:D1:E1' (wifite's self-test): an expected result
    if candidate.user and candidate.user.lower() == value.lower():
        return True  # admin:admin, guest:guest
    if candidate.rule_id == "generic-sql-password" and _names_the_account(candidate):
        return True  # TO 'squid'@'localhost' IDENTIFIED BY 'squid': the same, in SQL
    if value.count(" ") >= 2 or _PROSE.match(value):
        return True
    text = _CHARACTER_ESCAPE.sub(_character, value)  # \u00ed as the letter it writes
    if any(ord(c) > 127 and c.isalpha() for c in text):
        return True  # words in other scripts; Domlouvac\u00ed: a message bundle's translation
    if _CHARACTER_ESCAPES.match(value) and all(ord(c) > 127 for c in text):
        return True  # secret:"\u3299\ufe0f": an emoji table
    if _TERMINAL_SEQUENCE.match(value):
        return True  # jinxed's terminfo: 'pfkey': b'\x1bP101;...\x1b\x5c', a control sequence
    if _BYTE_ESCAPES.match(value) and is_placeholder(_byte_hex(value)):
        return True  # b"\x01\x23\x45\x67...": a test vector counting up
    if _called(candidate) or _spells_its_name(candidate) or _names_the_program(candidate):
        return True  # sanitize_id(authorization), b"L@stWr!t3T0k3n", 'monit' in monitrc
    if key_kind(words, candidate.rule_id) == "key" and _is_slug(value):
        return True  # "license_key": "agpl-3.0-openssl": a licence's id in ScanCode's index
    if _escaped_marker(candidate) or _first_word_of_label(candidate):
        return True  # "\015\001\007\011\003NSPAM" (spamassassin); "Decryption password" (h2)
    if candidate.rule_id == "generic-sql-password" and _prose_sql(candidate):
        return True  # "the cord identified by 'cord'" in absl's comments: no SQL statement
    return is_placeholder(value)


# A number as JSON writes one: a credential in a JSON document is a string
_JSON_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?\Z")
# A marker made of control characters and its name: spamassassin's Bayes database keys
# ($NSPAM_MAGIC_TOKEN = "\015\001\007\011\003NSPAM").
_ESCAPED_MARKER = re.compile(r"(?:\\(?:[0-7]{1,3}|x[0-9A-Fa-f]{2}))+([A-Za-z_]{4,})\Z")


def _escaped_marker(candidate: GenericCandidate) -> bool:
    found = _ESCAPED_MARKER.match(candidate.value)
    if found is None:
        return False
    letters = found[1].replace("_", "").lower()
    return letters in candidate.key.replace("_", "").lower()


_WORDS_TO_THE_END = re.compile(r"[^\S\n]+[A-Za-z]+(?:[^\S\n]+[A-Za-z]+)*[.:]?\s*")


def _first_word_of_label(candidate: GenericCandidate) -> bool:
    """``tools.decryptionPassword=Decryption password``: an unquoted value that words go on
    after, to the end of the line, is the first word of a label (a message bundle's text)."""
    if candidate.rule_id not in ("generic-inline-parameter", "generic-unquoted-assignment"):
        return False
    if not candidate.value.isalpha():
        return False  # --auth-token=Hq3vZ8kLw2 push: a drawn value, then the next argument
    at = candidate.line.find(candidate.value)
    after = candidate.line[at + len(candidate.value) :] if at >= 0 else ""
    return _WORDS_TO_THE_END.fullmatch(after) is not None


# A verb that opens an SQL statement setting a password, or the account it is set for
_SQL_STATEMENT = re.compile(r"(?i)\b(?:create|alter|grant|connect|set|exec(?:ute)?)\b|@")
_SENTENCE = re.compile(r"\b[A-Za-z]+ [A-Za-z]+ [A-Za-z]+\b")  # three words in a row
_SQL_PASSWORD_KEY = re.compile(
    r"(?i)\b(?:identified\s+by|(?:with|login|user|role)\s+(?:encrypted\s+)?password)\b"
)


def _prose_sql(candidate: GenericCandidate) -> bool:
    """``IDENTIFIED BY`` or ``WITH PASSWORD`` after words that open no SQL statement is
    English: "columns identified by colUsed" (SQLite), "The global admin user 'bayaz' with
    password 'magi'" (coturn's schema notes): words in a row, no SQL verb. A statement
    broken over lines starts its line with the keyword; monit's `allow admin:x  # with
    password 'x'` is no sentence."""
    at = _SQL_PASSWORD_KEY.search(candidate.line)
    if at is None:
        return False
    before = candidate.line[: at.start()]
    return _SENTENCE.search(before) is not None and _SQL_STATEMENT.search(before) is None


# Code rather than a literal: identifiers opening calls or subscripts (str(json[, get_token(),
# or a lambda (password=lambda: sslpassword, asyncpg): an expression that computes the value.
_CODE_VALUE = re.compile(r"(?:[A-Za-z_$][\w$.]*[(\[])+\Z|lambda:\Z")
_WORDS_ONLY = re.compile(r"[A-Za-z][A-Za-z_.\-]*\Z")
# Verbs of calls that look a credential up, check it or make something of it rather than
# set it: get_token("name"), _add_factorial_tokens('factorial2', result).
_READER_WORDS = frozenset(
    [
        "add",
        "append",
        "insert",
        "create",
        "make",
        "generate",
        "build",
        "process",
        "handle",
        "convert",
        "format",
        "print",
        "log",
        "count",
        "split",
        "join",
        "tokenize",
        "get",
        "read",
        "load",
        "parse",
        "find",
        "lookup",
        "fetch",
        "open",
        "has",
        "is",
        "check",
        "validate",
        "verify",
        "remove",
        "delete",
        "clear",
    ]
)
# the scheme words, and the names of authentication methods and providers: chpass="ldap"
# (sssd's generate-config picks the provider that changes passwords)
_AUTH_SCHEMES = frozenset(
    ["basic", "bearer", "digest", "negotiate", "ntlm", "token", "apikey", "oauth",
     "ldap", "ldaps", "krb5", "kerberos", "gssapi", "sasl", "pam", "radius", "tacacs",
     "saml", "oidc", "openid", "oauth2", "ntlmv2"]
)  # fmt: skip
# A constant's name (GCM_TRACE_MSAUTH, _TRACER_PROVIDER) or a dotted setting or module path
# (mlflow.autologging, animation.ffmpeg_args): what a program refers to, not a secret.
_CONSTANT_NAME = re.compile(r"_?[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\Z")
# "torch.rendezvous." + run_id, "hive.kerberos-authentication" (a Hive client property)
_DOTTED_NAME = re.compile(r"[a-z_]+(?:-[a-z_]+)*(?:\.[a-z_]+(?:-[a-z_]+)*)+\.?\Z")
# JOSE algorithm identifiers (RFC 7518): what a JWT or a JWE is made with, never a secret
# (authlib's id_token_encrypted_response_enc = "A128CBC-HS256")
_JOSE_ALGORITHM = re.compile(
    r"(?:A(?:128|192|256)(?:CBC-HS(?:256|384|512)|GCM(?:KW)?|KW)|RSA-OAEP(?:-256)?|RSA1_5"
    r"|ECDH-ES(?:\+A(?:128|192|256)KW)?|PBES2-HS(?:256|384|512)\+A(?:128|192|256)KW"
    r"|[HRPE]S(?:256|384|512)|EdDSA)\Z"
)
# A number with a fraction (3.311e-06: a price per token) or a call (registry().credentials(id)).
_FRACTION = re.compile(r"[-+]?\d*\.\d+(?:[eE][-+]?\d+)?\Z")
_CALL_CHAIN = re.compile(r"[A-Za-z_][\w.]*\([^()]*\)(?:\.[A-Za-z_][\w.]*\([^()]*\))*\Z")
_ASSERTION = re.compile(r"[^\S\n]*assert\b")  # Python's assert statement
# A name in lower-case letters a program compares a state or a type with ('colon', 'rbracket').
# "rbracket", "proxy-revalidate", and a storage scheme's prefix ("keyring:", gajim's "winvault:")
_STATE_NAME = re.compile(r"[a-z][a-z_]*(?:-[a-z_]+)*:?\Z")
# A status badge's image URL (codecov.io/.../graph/badge.svg?token=...): a read-only token
# its service publishes to be pasted into READMEs.
# A meeting link's passcode (zoom.us/j/952...?pwd=...) is published with the link so that
# anyone may join (jupyterlab's README invites to its community call).
_PUBLISHED_TOKEN_URL = re.compile(r"/badge\.svg\?token=|/graphs?/badge\b|\bzoom\.us/j/\d+\?pwd=")
# Minified code compares a member with a literal (withCredentials=e.credentials==="include",
# plotly): the "value" is an expression.
_COMPARED_MEMBER = re.compile(r"[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+[=!]==?\Z")
# An npm package or one of its exports (@jupyterlab/apputils:ISanitizer): a webpack share
# table or a dependency-injection token names modules by it.
_NPM_SCOPED_NAME = re.compile(r"@[a-z0-9][a-z0-9._-]*/[a-z0-9][a-z0-9._-]*(?::[A-Za-z][\w.-]*)?\Z")
_NOT_SECRET_VALUES = (
    _JOSE_ALGORITHM,
    _DATE,
    _FINGERPRINT,
    _TYPE_EXPRESSION,
    _VERSION_SPEC,
    _CONSTANT_NAME,
    _DOTTED_NAME,
    _FRACTION,
    _CALL_CHAIN,
    _COMPARED_MEMBER,
    _NPM_SCOPED_NAME,
    # names and options, never credentials: a Django migration (its app's dependencies name it),
    # a qualified function (Perl, Ruby, C++: vault_lookup::lookup), a command-line option
    # handed on (exiftool's push @nextPass, '-geotag'), a folder a path is built under.
    re.compile(r"\d{4}_[a-z0-9_]+\Z"),
    re.compile(r"[A-Za-z_]\w*(?:::[A-Za-z_]\w*)+\Z"),
    # a compiler's or a tool's option, with a number or a word (TBB's DSE_KEY =
    # -flifetime-dse=1, in prophet's bundled Stan)
    re.compile(r"--?[a-z][a-z0-9]*(?:-[a-z0-9]+)*(?:=(?:\d{1,6}|[a-z]{1,12}))?\Z"),
    re.compile(r"[a-z_][a-z0-9_.-]*/\Z"),
    re.compile(r"\.?\$[A-Za-z_]\w*[{\[]?\Z"),  # "--password=".$opt{'password'}: Perl code
    re.compile(r"[a-z][\w-]*\[[\w-]+=[^\]]*\]\Z"),  # auth = "pam[gid-min=1000]": a method
    re.compile(r"__[a-z]+(?:_[a-z]+)*__\Z"),  # stream_key == b"__redelivery__": a dunder name
    # $token = preg_replace('/([WPN])\+\:/u', ...) (dokuwiki): a delimited regular expression
    re.compile(r"/[^/]*[()\[\]\\+*?|^$][^/]*/[imsxuU]{0,5}\Z"),
    # $password = sprintf('%04d', $r % 10000) (amavisd-new): a format for a drawn number
    re.compile(r"%[-+ 0#]*\d*(?:\.\d+)?[diouxXeEfgGs]\Z"),
    # "GoogleAdsCredentials": ".google_ads" (airbyte-api's lazy imports): a relative module
    re.compile(r"\.{1,2}[a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)*\Z"),
    # wp_nonce_field('filesystem-credentials', '_fs_nonce'): a private field's name
    re.compile(r"_[a-z][a-z0-9]*(?:_[a-z0-9]+)+\Z"),
    re.compile(r"\^.*[()+*?%\\].*\$\Z"),  # key:match("^(%S+)%s+(.+)$"): an anchored pattern
    re.compile(r"(?:pk_(?:live|test)_|phc_)[0-9A-Za-z]{16,}\Z"),  # publishable client keys
    # LIBKEY="lib/x86_64-linux-gnu/libkeyutils.so.1" (chkrootkit): a lower-case file path
    re.compile(r"/?(?:[a-z0-9_.+-]+/)+[a-z0-9_+-]+(?:\.[a-z0-9]+)+\Z"),
    # OCF_RESKEY_ctl_default="/usr/sbin/rabbitmqctl": an absolute lower-case path, two deep;
    # under the home directory too (skypilot: credentials_path = '~/.aws/credentials')
    re.compile(r"(?:~|\$HOME)?/[a-z0-9_.+-]+(?:/[a-z0-9_.+-]+)+/?\Z"),
    # $passwd = "anonymous@" (debmirror), "anonymous\@$domain" (inxi): the password of
    # anonymous FTP is by convention an e-mail address or its start (RFC 1635), no secret
    re.compile(r"(?i)anonymous\\?@\S*\Z"),
    re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*[_-]\Z"),  # "auto_v1_" (svix): a prefix to join
    re.compile(r"[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+=\Z"),  # e.Semicolon=: an assignment
    # USERNAME_PASSWORD = b"\x02": a protocol byte; SMB2_CREATE_TIMEWARP_TOKEN =
    # b"\x54\x57\x72\x70": a tag of printable letters ("TWrp") spelled in hex
    re.compile(r"(?:\\x[0-9A-Fa-f]{2}){1,2}\Z"),
    re.compile(r"(?:\\x(?:[2-6][0-9A-Fa-f]|7[0-9A-Ea-e])){3,8}\Z"),
    # passwd="crypt3", passwd="sha512" (tiger's password-file checks): a hash scheme's name
    re.compile(
        r"(?i)(?:md5|sha-?(?:1|224|256|384|512)|s?crypt\d?|bcrypt|blowfish|yescrypt"
        r"|argon2(?:i|d|id)?|pbkdf2(?:[_-]sha\d+)?|nthash)\Z"
    ),
    # OSS4-HMAC-SHA256, ECDHE-RSA-AES128-GCM-SHA256, and in lower case 'deri-hmac-sha256 id='
    # + key (ccxt's Deribit signing): an algorithm's or a scheme's name, hyphenated, one case
    re.compile(
        r"(?=[A-Z0-9-]+\Z|[a-z0-9-]+\Z)(?=[A-Za-z0-9]+-)(?i:(?:[a-z0-9]+-)*(?:hmac|sha\d*|rsa"
        r"|ecdsa|ecdhe|aes\d*|gcm|cbc|md5|chacha20|poly1305|ed25519)(?:-[a-z0-9]+)*)\Z"
    ),
    # "token": "0x680dee9e..." (ccxt's sample replies): an Ethereum address, public by design
    # (a private key is 64 hex digits)
    re.compile(r"0x[0-9a-fA-F]{40}\Z"),
    # iconv('UTF-8', 'WINDOWS-1252//TRANSLIT', ...): a character set's name
    re.compile(
        r"(?i)(?:utf-?(?:8|16|32)(?:[bl]e)?|ucs-?[24]|us-ascii|ascii|latin-?\d|iso-?8859-\d{1,2}"
        r"|windows-12[5-9]\d|cp\d{3,4}|koi8-[ru]|euc-(?:jp|kr|cn)|shift_jis|gb(?:k|2312|18030)"
        r"|big5)(?://[a-z]+)*\Z"
    ),
    # bindKey("Ctrl-\\|Ctrl-P", ...) (ace, in mediawiki): a key binding, held keys and a key
    re.compile(r"(?:(?:Ctrl|Control|Alt|Shift|Cmd|Command|Meta|Option|Super|Mod)[-+])+\S{1,12}\Z"),
    # 'bp_token' => '**unsaved**' (mediawiki): a word between doubled marks is a sentinel
    re.compile(r"([*%#=~+-])\1+[A-Za-z][A-Za-z _-]*\1{2,}\Z"),
    # ElantpIapPassword = 0x1EA5 (fwupd's device quirks): a 16-bit number written in hex is a
    # device's protocol constant, in every copy of the file, not a secret anyone drew
    re.compile(r"0[xX][0-9A-Fa-f]{1,4}\Z"),
    # content_type_token == b'\\fromhtml1' (RTFDE): an RTF or TeX control word, a backslash
    # (escaped in the source) and lower-case letters with an optional numeric parameter
    re.compile(r"\\{1,2}[a-z]{2,32}-?\d{0,6}\Z"),
)
# Words after the keyword that still name the credential itself: tokenValue, password2,
# passwordRepeat, PASSWORD_PROD. Any other word makes the keyword a qualifier of something
# else: TOKEN_FLOORDIV, token.content, Token.String.Symbol, KeyType.Scope, auth_app.
_HOLDING_WORDS = frozenset(
    [
        "value",
        "val",
        "str",
        "string",
        "text",
        "txt",
        "code",
        "repeat",
        "repeated",
        "confirm",
        "confirmation",
        "again",
        "old",
        "new",
        "current",
        "prev",
        "previous",
        "plain",
        "raw",
        "b64",
        "base64",
        "hex",
        "bytes",
        "enc",
        "encrypted",
        "env",
        "prod",
        "production",
        "dev",
        "development",
        "staging",
        "stage",
        "test",
        "qa",
        "local",
        "default",
        "admin",
        "root",
    ]
)
_NUMBERED = re.compile(r"v?\d+\Z")
# Rules whose name part is a syntax word (a URL scheme, IDENTIFIED BY), not a name.
_NAMELESS_RULES = frozenset(
    {
        "generic-url-userinfo",
        "generic-cli-user-password",
        "generic-securestring",
        "generic-sql-password",
        "generic-basic-credentials",
    }
)


def _user_and_password(value: str) -> bool:
    """Whether a Basic credential decodes to printable ``user:password`` with a password that
    is no placeholder (``dXNlcjpwYXNzd29yZA==`` is user:password)."""
    try:
        text = base64.b64decode(value, validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return False
    _, colon, password = text.partition(":")
    return bool(colon and password) and text.isprintable() and not is_placeholder(password)


def _listed_after_a_value(candidate: GenericCandidate) -> bool:
    """``"name", "value"`` read from a list where the "name" is itself a value (``"autocomplete":
    "current-password", "autofocus"``) or an item in the middle of a list (a source map's
    ``"names": [..., "passPerPreset", "options", ...]``), or a path (``'/etc/passwd', 'utf8'``):
    the pair is a misreading."""
    key = candidate.key.strip("\"'`")
    at = candidate.line.find(key)
    if candidate.line[at - 2 : at] in (" :", "(:", ",:", "\t:"):
        return False  # set :db_password, "..." (a Ruby symbol names the value that follows)
    before = candidate.line[:at].rstrip(" \t\"'`") if at > 0 else ""
    return before.endswith((":", "=", "=>", ",", "/", "\\"))


def _quoted_then_comma(candidate: GenericCandidate) -> bool:
    """A rule without an ``op`` part (an HTTP header's) that read ``"NAME","value"``: two
    quoted strings side by side, as a list holds them (monaco's SQL keyword table:
    ``"AUTHORIZATION","AUTOINCREMENT"``)."""
    if candidate.op:
        return False
    pair = (
        re.escape(candidate.key)
        + r"[\"'`][^\S\n]{0,3},[^\S\n]{0,3}[\"'`]"
        + re.escape(candidate.value)
    )
    return re.search(pair, candidate.line) is not None


def _list_of_names(candidate: GenericCandidate) -> bool:
    """``["connector_tokens", "connectors"]``: the first strings of a list, both lower-case
    identifiers, are names (mistralai's nullable fields); a pair of a name and a credential
    (``[("X-Api-Token", "Zq8v...")]``) opens with a parenthesis or holds no identifier."""
    key = candidate.key.strip("\"'`")
    at = candidate.line.find(key)
    before = candidate.line[:at].rstrip(" \t\"'`") if at > 0 else ""
    if _SQL_VALUE_LIST.search(before):
        # src_auth enum('password','kerberos_v5',...) (postfixadmin): a column's allowed values
        return bool(_SQL_VALUE.match(candidate.value))
    return (
        before.endswith("[")
        and bool(_LOOKUP_NAME.match(key))
        and bool(_STATE_NAME.match(candidate.value))
    )


_SQL_VALUE_LIST = re.compile(r"(?i)\b(?:enum|in)[^\S\n]*\([^\S\n]*\Z")
_SQL_VALUE = re.compile(r"[a-z][a-z0-9_-]{0,40}\Z")


# Babel's and TypeScript's class helpers describe each method as {key:"name",value:function}
# (or get:/set:), in every transpiled bundle.
_DESCRIPTOR_NEXT = re.compile(r"[\"'`][^\S\n]{0,2},[^\S\n]{0,2}(?:value|get|set)[^\S\n]{0,2}:")


def _property_descriptor(candidate: GenericCandidate) -> bool:
    """``{key:"isPerpendicularTo",value:function(e){...}}``: the key of a property
    descriptor is the name of the method or accessor it defines."""
    if candidate.key.strip("\"'`") != "key" or not _VARIABLE.match(candidate.value):
        return False
    return any(
        _DESCRIPTOR_NEXT.match(candidate.line, found.end() + len(candidate.value))
        for found in re.finditer(r"[\"'`](?=" + re.escape(candidate.value) + ")", candidate.line)
    )


# "--pinnedpubkey", "trustedPublicKeys": a public key named inside a word
_PUBLIC_KEY_WORD = re.compile(r"(?i)pub(?:lic)?_?key")
_CHARACTER_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})")


def _character(found: re.Match[str]) -> str:
    return chr(int(found.group(1), 16))


# A slug's part: a word in one case (or capitalised), or a year or version number.
_SLUG_PART = re.compile(r"(?:[a-z]{2,}|[A-Z][a-z]+|[A-Z]{2,})\d*\Z|\d{1,4}(?:\.\d+)*\Z")


def _is_slug(value: str) -> bool:
    """A slug: a word, then words, years and versions (a licence, a product, a citation:
    adcolony-tos-2022, amplication-ee-2022, agpl-3.0-openssl, Mulero-JPCRD-2012): a name to
    look something up by. A generated key mixes letters and digits, or cases, inside its
    parts."""
    parts = value.split("-")
    return (
        len(parts) >= 2
        and re.fullmatch(r"[a-z]{3,}|[A-Z][a-z]{2,}", parts[0]) is not None
        and all(_SLUG_PART.match(part) for part in parts[1:])
    )


def _called(candidate: GenericCandidate) -> bool:
    """``authorization=sanitize_id(authorization)``: the value is a function the line calls."""
    if not _VARIABLE.match(candidate.value):
        return False
    return re.search(re.escape(candidate.value) + r"\(", candidate.line) is not None and (
        re.search(r"[\"'`]" + re.escape(candidate.value) + r"[\"'`]", candidate.line) is None
    )


def _spells_its_name(candidate: GenericCandidate) -> bool:
    """``_LAST_WRITE_TOKEN = b"L@stWr!t3T0k3n"``: the value spells its own name (in digits
    and symbols for letters), a marker the code looks for, not a secret."""
    letters = re.sub(r"[^a-z]", "", candidate.value.lower().translate(LEET))
    name = re.sub(r"[^a-z]", "", candidate.key.lower())
    return len(letters) >= 8 and letters == name


def _names_the_program(candidate: GenericCandidate) -> bool:
    """monit's monitrc documents ``user 'admin' with password 'monit'``: a default named
    after the program the file configures (its folder or file name)."""
    value = candidate.value.lower()
    if not (value.isalpha() and len(value) >= 4):
        return False
    parts = re.split(r"[/._-]", candidate.path.lower())
    return any(part == value or part == value + "rc" for part in parts)


# A terminal control sequence: it opens with an escaped ESC (\x1b, \033, \e, \u001b); no
# credential holds a control character
_TERMINAL_SEQUENCE = re.compile(r"(?:\\x1[bB]|\\0?33|\\e|\\u001[bB]|\\E)")
# A value made of escapes only: \xNN bytes or \uNNNN characters, not both.
_BYTE_ESCAPES = re.compile(r"(?:\\x[0-9A-Fa-f]{2})+\Z")
_CHARACTER_ESCAPES = re.compile(r"(?:\\u[0-9A-Fa-f]{4})+\Z")


def _byte_hex(value: str) -> str:
    """The hex of a literal made of ``\\xNN`` escapes only (``\\x01\\x23`` reads 0123)."""
    return "".join(value[i + 2 : i + 4].lower() for i in range(0, len(value), 4))


def _keyword_argument(candidate: GenericCandidate) -> bool:
    """``name=value,`` or ``name=value)`` after a blank, ``(`` or ``,``: an argument in a call,
    not a query parameter (``?token=``, ``&key=``) or a connection string (``;Password=``).
    A bare name as the value may also end the line or go on into an expression
    (``cache_tokens=cache_n``, ``HAS_PASS=rotary_dim < head_dim,``): it is a variable."""
    at = candidate.line.find(f"{candidate.key}={candidate.value}")
    if at < 0:
        return False
    before = candidate.line[at - 1 : at] if at else " "
    after = candidate.line[at + len(candidate.key) + 1 + len(candidate.value) :].lstrip()
    if not (before.isspace() or before in "(,"):
        return False
    if after[:1] in (",", ")"):
        return True
    if after[:1] == ";" and _INDEXED.match(candidate.value):
        return True  # password=argv[i+1]; (zlib's minizip): a statement reading a variable
    return bool(_VARIABLE.match(candidate.value)) and (not after or after[:1] in _OPERATORS)


_VARIABLE = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*\Z")  # credentials, self.session_key
# a variable subscripted or called: argv[i+1], opts.get(k)
_INDEXED = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*(?:\[[^\]\n]*\]|\([^()\n]*\))+\Z")
_OPERATORS = "<>+-*/%=!&|^"


def _bare_variable(candidate: GenericCandidate) -> bool:
    """``f(credentials, "sagemaker")``: the keyword is a variable handed to a call beside a
    string, not a quoted name or a symbol (``("password", "x")``, ``set :password, "x"``)."""
    at = _pair_start(candidate)
    if at < 0 or not _VARIABLE.match(candidate.key):
        return False
    return candidate.line[at - 1 : at] not in ("'", '"', "`", ":", "[")


_FORMAT_FIELD = re.compile(r"\{[^{}]*\}")
# torch's f"ortho_UBUmI_rerr[{i}, {j}]": a name and the subscripts its fields fill in
_SUBSCRIPTED_NAME = re.compile(r"[A-Za-z_][\w.]*(?:\[[, ]*\])+\Z")


def _formatted_name(candidate: GenericCandidate) -> bool:
    """A Python f-string or ``str.format`` template whose fields make the value: what is left
    besides them (``.``, ``.tmp``) is too short to be a credential of its own, a name and its
    subscripts, or words before a field (sqlglot's f"CREDENTIALS {credentials}", redshift's
    "openid {}".format(scope))."""
    value = candidate.value
    literals = [f"{prefix}{quote}{value}" for prefix in ("f", "rf", "fr") for quote in "\"'"]
    literals += [f"{quote}{value}{quote}.format(" for quote in "\"'"]
    if "{" not in value or not any(literal in candidate.line for literal in literals):
        return False
    rest = _FORMAT_FIELD.sub("", value)
    return (
        len(rest) < 8
        or bool(_SUBSCRIPTED_NAME.match(rest) or _WORDS_BEFORE_FIELD.match(value))
        or bool(_LOOKUP_NAME.match(rest.strip("_")))  # statsmodels' f"freq_seasonal_var_{ix!r}"
        or bool(_LOWER_WORD.fullmatch(rest.strip("_")))  # lightning's f"optimizer_{idx}"
        or bool(_FIELD_PAIRS.fullmatch(rest))  # sacrebleu's f'origlang={origlang}'
    )


# name=value pairs whose every value is a field: f"user={user}&lang={lang}" leaves "user=&lang="
_FIELD_PAIRS = re.compile(r"(?:[&;, ]?[A-Za-z_][\w.-]*=)+")


# Words and blanks, then the fields: "CREDENTIALS {credentials}", "openid {}".
_WORDS_BEFORE_FIELD = re.compile(r"[A-Za-z]+(?: [A-Za-z]+)* (?:\{[^{}]*\} ?)+\Z")


def _pair_start(candidate: GenericCandidate) -> int:
    """Where the name of the matched pair starts in its line (the name may occur before)."""
    pair = re.compile(
        re.escape(candidate.key)
        + r"[\"'`\]]{0,2}\s*"
        + re.escape(candidate.op)
        + r"\s*[\w.(]*[\"'`]?"
        + re.escape(candidate.value)
    )
    found = pair.search(candidate.line)
    return found.start() if found else candidate.line.find(candidate.key)


# A Maven coordinate alone on its line: groupId:artifactId[:version].
_MAVEN_COORDINATE = re.compile(
    r"[a-z][a-z0-9_-]*(?:\.[a-z0-9_-]+)+:[a-z][a-z0-9_.-]*(?::[\w.-]+)?\Z"
)
_NOTICE_FILE = re.compile(r"(?i)(?:license|licence|notice|copying)(?:[-_.][^/]*)?\Z")


def _maven_coordinate(candidate: GenericCandidate) -> bool:
    """A license or notice file that lists the artifacts bundled by their coordinates."""
    name = candidate.path.rsplit("/", 1)[-1]
    line = candidate.line.strip(" \t-*,")
    return bool(_NOTICE_FILE.match(name) and _MAVEN_COORDINATE.match(line))


def _ternary_branch(candidate: GenericCandidate) -> bool:
    """``cond ? "reset_password" : "signup"``: the "name" is the first of two values."""
    at = _pair_start(candidate)
    before = candidate.line[:at].rstrip(" \t\"'`") if at > 0 else ""
    return before.endswith("?") and not before.endswith("??")


# what lies between a closing and an opening quote when a program joins strings: a PHP or
# Perl concatenation, or a JavaScript plus, then a call, a group or a variable
_JOINS_TWO_STRINGS = re.compile(r"[.+][^\S\n]*[($]")


def _closes_another_string(candidate: GenericCandidate) -> bool:
    """``identified by `parent`."`` in a JSON description: the quote after the value closes the
    enclosing string; a quoted SQL password opens with the same quote."""
    at = candidate.line.find(candidate.value)
    if at < 0:
        return False
    after = candidate.line[at + len(candidate.value) : at + len(candidate.value) + 1]
    return after in ("'", '"') and candidate.line[at - 1 : at] != after


# The account an SQL statement creates or grants to: 'squid'@'localhost', USER app, ROLE app.
_SQL_ACCOUNT = re.compile(
    r"[\"'`](?P<quoted>[^\"'`\s]+)[\"'`]@|(?i:\b(?:user|role)\s+(?:if\s+not\s+exists\s+)?)"
    r"[\"'`]?(?P<bare>[\w.$-]+)"
)


def _names_the_account(candidate: GenericCandidate) -> bool:
    """The password is the name of the account it is set for, as in a manual's example
    (``GRANT ... TO 'squid'@'localhost' IDENTIFIED BY 'squid'``): a default, not a secret."""
    before = candidate.line[: max(0, _pair_start(candidate))]
    value = candidate.value.lower()
    return any(
        (found["quoted"] or found["bare"] or "").lower() == value
        for found in _SQL_ACCOUNT.finditer(before)
    )


def _compared_with_a_name(candidate: GenericCandidate) -> bool:
    """The line also sets the name to, or compares it with, another lower-case literal: a
    program's states (plotly's renderer sets ``i.currentPass`` to "offscreen", "opaque" and
    "translucent" in turn, and tests ``currentPass==="opaque"``)."""
    member = re.escape(candidate.key.strip("\"'`").rsplit(".", 1)[-1])
    literals = re.findall(
        rf"\b{member}\s*(?:[!=]==?|=)\s*[\"'`]([a-z][a-z_]*)[\"'`]", candidate.line
    )
    return any(literal != candidate.value for literal in literals)


def _first_of_names(candidate: GenericCandidate) -> bool:
    """A name passed first among several arguments (``createToken('NUMERIC', pattern)``,
    ``new Credential("alice", secret)``): an identifier that names, not a credential."""
    value = candidate.value
    at = candidate.line.find(value)
    rest = candidate.line[at + len(value) + 1 :].lstrip() if at >= 0 else ""
    return rest.startswith(",") and bool(_WORDS_ONLY.match(value))


# Lower-case words joined by "_" or "-" (digits at their ends): a name a program looks a
# setting, a tab or a route up by. A generated key mixes cases and digits inside its runs.
_LOWER_WORD = re.compile(r"[a-z]{4,}\Z")
_LOOKUP_NAME = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+\Z")
# a word, a short tag, or a count with its unit (homeassistant's buienradar sensors:
# key="windazimuth_1d", the wind's direction a day ahead)
_LOOKUP_PART = re.compile(r"[a-z]+\d*\Z|[a-z][a-z0-9]{0,5}\Z|\d{1,3}[a-z]{0,2}\Z")


# lower-case words of three letters or more joined camel-case: serializeCoords, getAccessKey
_CAMEL_NAME = re.compile(r"[a-z]{3,}(?:[A-Z][a-z]{2,})+\Z")


def _is_lookup_name(value: str) -> bool:
    """``b_thinlto_cache``, ``hashicorp-vault``, ``_q_lora_e8m0_idx``, a namespaced
    ``docmanager:recents`` (jupyterlab's state database key): words (digits at their
    ends, or short tags such as ``e8m0``), one of them four letters or more."""
    value = value.strip("_")  # "__vite_ssr_exports__": a dunder name
    if _CAMEL_NAME.match(value):
        return True  # {key: 'serializeCoords', value: function ...}: axe-core's method name
    parts = re.split(r"[_:]" if "_" in value or ":" in value else "-", value)
    if len(parts) < 2 or not _LOOKUP_NAME.match(re.sub("[-:]", "_", value)):
        return False
    return all(_LOOKUP_PART.match(p) for p in parts) and any(
        p.isalpha() and len(p) >= 4 for p in parts
    )


def _names_a_type(candidate: GenericCandidate) -> bool:
    """The keyword is the last segment of a qualified type name in the line."""
    key = candidate.key.strip("\"'")
    return any(
        found.group(0).endswith("::" + key) for found in _TYPE_NAME_IN.finditer(candidate.line)
    )


# A resource type named by three or more capitalised segments (CloudFormation's
# AWS::AppSync::ApiKey, ALIYUN::ECS::KeyPair): cfn-lint's schema tables list them.
_TYPE_NAME_IN = re.compile(r"[A-Z][A-Za-z0-9]*(?:::[A-Z][A-Za-z0-9]*){2,}")
# A lower-case identifier of three or more words: a name a program looks something up by.
_SNAKE_NAME = re.compile(r"[a-z][a-z0-9]*(?:_[a-z][a-z0-9]*){2,}\Z")


def _names_openpgp_key(words: list[str]) -> bool:
    """gpg_key, signer.key, releaseManagerKey: the name of somebody's OpenPGP signing key."""
    pairs = set(itertools.pairwise(words))
    return bool(_OPENPGP_WORDS.intersection(words)) or ("release", "manager") in pairs


# A name behind one sigil (?, $, @, #, :, !): capitalised words and short acronyms.
_SIGIL_NAME = re.compile(r"[?$@#:!](?P<name>[A-Z][a-z]+(?:[A-Z][a-z]+|[A-Z]{2,5}\b)+)\Z")
_CAPITALISED = re.compile(r"[A-Z][a-z]+")


def _is_sigil_name(value: str) -> bool:
    """A token-type or state name a lexer marks with a sigil (js-tokens'
    ``"?InterpolationInJSX"``, ``"$NoSubstitutionTemplate"``): words long enough to be words
    (random letters change case every two or three characters) and no digit."""
    found = _SIGIL_NAME.match(value)
    if not found:
        return False
    words = _CAPITALISED.findall(found["name"])
    return (
        len(words) >= 2
        and sum(map(len, words)) >= 5 * len(words)
        and all(any(c in "aeiouy" for c in word.lower()) for word in words)
    )


def _class_member(key: str) -> bool:
    """``Token.String``, ``Token.Name.Variable`` (Pygments' token types): the keyword is a
    class that qualifies a member, the member names no credential."""
    segments = key.strip("\"'[]$@:-").split(".")
    if len(segments) < 2 or not segments[-1][:1].isupper() or key_kind(name_words(segments[-1])):
        return False
    keyed = [s for s in segments[:-1] if key_kind(name_words(s))]
    return bool(keyed) and all(s[:1].isupper() and s[1:2].islower() for s in keyed)


def _names_no_credential(words: list[str]) -> bool:
    """A name whose last word describes the credential (password_length, KeyFingerprint,
    PasswordLastUsed, key_id), whose keyword qualifies another word (TOKEN_FLOORDIV,
    token.content, KeyType.Scope) or is qualified as a token or key that is none (NextToken,
    ClientRequestToken, primary_key, result_key)."""
    if not words:
        return False
    if words[-1] in DESCRIBING and not names_kind(words, len(words) - 1):
        return True
    named = [index for index in range(len(words)) if names_kind(words, index)]
    last = words[-1]
    qualifies = bool(named) and named[-1] < len(words) - 1
    if qualifies and last not in _HOLDING_WORDS and not _NUMBERED.match(last):
        return True
    for index in range(len(words) - 1, 0, -1):
        kind = names_kind(words, index)
        if not kind:
            continue
        before = words[index - 1]
        if before in NOT_CREDENTIAL_QUALIFIERS.get(kind, ()):
            return True
        # AWS's ClientRequestToken: an idempotency token (an OAuth request token is secret)
        return (
            kind == "token" and before == "request" and words[index - 2 : index - 1] == ["client"]
        )
    return False


# A type's name: capitalised words, letters only (MCPAuthorizationRef)
_TYPE_NAME = re.compile(r"[A-Z][A-Za-z]*[a-z][A-Za-z]*\Z")
# The languages in which backticks quote text rather than run a command
_BACKTICK_STRINGS = frozenset({"js", "mjs", "cjs", "jsx", "ts", "tsx", "go", "md", "kt", "scala"})
_COMMAND_LINE = re.compile(r"[a-z][\w.+-]*(?:[^\S\n]+\S+)+\Z")
_ANNOTATION = re.compile(
    r"(?<![\w\-\"'])authorization[^\S\n]*:[^\S\n]*(\w+)[^\S\n]*(?:[,)=|\]]|\Z)", re.IGNORECASE
)


def _annotated_type(candidate: GenericCandidate) -> bool:
    """``authorization: MCPAuthorizationRef`` in a program: a field or parameter annotated
    with its type, unquoted and followed by nothing or the next parameter; a header written
    in code is a string (``"Authorization: Bearer ..."``)."""
    if not _TYPE_NAME.match(candidate.value):
        return False
    return any(
        found[1] == candidate.value for found in _ANNOTATION.finditer(candidate.line.rstrip())
    )


# Tables of user-facing text, indexed by the field they label: $labels['password'],
# messages["token"], $lang['password']
_MESSAGE_TABLE_ENTRY = re.compile(
    r"(?i)(?<![\w$])\$?(?:labels?|messages?|msgs?|strings?|texts?|lang|language|translations?"
    r"|i18n|l10n|captions?|titles?|hints?|tooltips?|placeholders?"
    r"|meta|metadata)"  # dokuwiki's setting descriptions: $meta['modPass'] = array('onoff')
    r"[^\S\n]*\[[^\S\n]*[\"']([^\"'\n]+)[\"'][^\S\n]*\][^\S\n]*="
)
# ->pass('DB Schema'), t.pass('parses'): a check reports that it passed
_PASSED_CHECK = re.compile(r"(?:->|\.)pass[^\S\n]*\([^\S\n]*[\"']\Z")


_JSON_BASE64 = re.compile(r"eyJ[A-Za-z0-9_-]{8,400}={0,2}\Z")  # base64 of '{"'
_PLAIN_WORD = re.compile(r"[a-z][a-z _.-]{0,30}\Z")  # lower-case words, no random letters


def _encodes_plain_json(value: str) -> bool:
    """Unsigned base64 of a JSON object whose values are words, numbers or flags: data
    anyone can read and write, with nothing secret in it (a JWT has three parts and a
    signature, and an object holding a random value still counts)."""
    if not _JSON_BASE64.match(value):
        return False
    try:
        data = json.loads(base64.urlsafe_b64decode(value.rstrip("=") + "=" * (-len(value) % 4)))
    except (ValueError, UnicodeDecodeError):
        return False
    if not isinstance(data, dict) or not data:
        return False
    return all(
        isinstance(item, bool | int | float)
        or item is None
        or (isinstance(item, str) and _PLAIN_WORD.match(item) is not None)
        for item in data.values()
    )


# Languages whose double-quoted strings put variables in as they run ("sha256 $hmac", "$1")
_INTERPOLATING = frozenset({"php", "inc", "pl", "pm", "sh", "bash", "zsh", "ksh", "rb", "kts"})
_SHORT_PREFIX = 8  # "sha256 $hmac": a scheme's name beside the value, too short to be a secret
_SHELL_VARIABLE = re.compile(r"\$\{?[A-Z_][A-Z0-9_]*\b")
_INTERPOLATION = re.compile(r"\$\{?[A-Za-z_]\w*(?:->\w+|\[[^\]\n]*\])*\}?|#\{[^}\n]*\}")


def _interpolated(candidate: GenericCandidate) -> bool:
    """A double-quoted value in a language that puts variables into such strings, with
    nothing secret left once they are taken out (a scheme word, a short prefix): the value is
    made as the program runs. A long random literal beside a variable still counts."""
    extension = file_extension(candidate.path)
    if extension not in _INTERPOLATING and not (
        extension == "" and _SHELL_VARIABLE.search(candidate.value)
    ):
        # a file without extension is most often a script: liquidprompt (sourced by bash and
        # zsh) keeps LP_OLD_PWD="LP:$PWD", the working directory; only a shell variable's
        # upper-case name counts there
        return False
    if f'"{candidate.value}"' not in candidate.line or not _INTERPOLATION.search(candidate.value):
        return False
    rest = _INTERPOLATION.sub(" ", candidate.value).split()
    return all(len(part) < _SHORT_PREFIX or _WORDS_ONLY.match(part) for part in rest)


def _in_a_message_table(candidate: GenericCandidate) -> bool:
    """The value is assigned to a message table's entry for the field: text shown beside a
    password box, in one language; a configuration's entry (``$config['password']``) counts."""
    key = candidate.key.strip("\"'[]$@:-")
    return bool(key) and any(
        found[1] == key for found in _MESSAGE_TABLE_ENTRY.finditer(candidate.line)
    )


def _reports_a_check(candidate: GenericCandidate) -> bool:
    """``->pass('DB Schema')``, ``t.pass('parses')``: a test or installer check reporting
    that it passed, with the name of the check."""
    before = candidate.line.split(candidate.value, 1)[0]
    return any(c.isspace() for c in candidate.value) and bool(_PASSED_CHECK.search(before))


def _abbreviates_its_name(candidate: GenericCandidate) -> bool:
    """A value in capitals that spells its own name shortened, its letters in order (PSWD,
    PWD, PASSWD for password): a label or column name for the field. A lower-case one
    (``db_password = "dbpass"``) may well be the password itself."""
    value = candidate.value
    if not (3 <= len(value) <= 8 and value.isalpha() and value.isascii() and value.isupper()):
        return False
    rest = iter(candidate.key.lower())
    value = value.lower()
    return all(letter in rest for letter in value)


def _command_substitution(candidate: GenericCandidate) -> bool:
    """A value between backticks that is a command line, in a language where backticks run
    it (a shell script, Perl, Ruby): the value is what the command prints at run time."""
    if file_extension(candidate.path) in _BACKTICK_STRINGS:
        return False
    return f"`{candidate.value}`" in candidate.line and bool(_COMMAND_LINE.match(candidate.value))


def score(candidate: GenericCandidate, model: Model | None = None) -> float:
    return (model or default_model()).score(features(candidate))


def decide(
    candidate: GenericCandidate, model: Model | None = None
) -> tuple[Confidence, float] | None:
    """The confidence of a candidate and its score, or None when it is not a credential."""
    if dropped(candidate):
        return None
    if is_private_key_der(candidate.value):
        return Confidence.HIGH, 1.0  # parsed as a key: the model's view of its letters is moot
    model = model or default_model()
    value = model.score(features(candidate))
    thresholds = model.thresholds
    if value >= thresholds["high"]:
        return Confidence.HIGH, value
    if value >= thresholds["medium"]:
        return Confidence.MEDIUM, value
    if value >= thresholds["low"]:
        return Confidence.LOW, value
    return None
