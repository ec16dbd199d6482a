"""Offline checks on secret candidates: entropy, placeholders, well-known examples, checksums.

Nothing here touches the network. A validator answers ``True`` (the format's own checksum or
structure holds), ``False`` (it does not: a typo, a doc sample, a truncated value) or ``None``
(no opinion); the engine turns that into confidence.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import re
import time
import warnings
import zlib
from collections.abc import Callable

from finalexam.formats import jsonsafe

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

Validator = Callable[[str], bool | None]


# Values published in provider documentation and tutorials: they look real and never are.
WELL_KNOWN_EXAMPLES = frozenset(
    {
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
        "AKIAI44QH8DHBEXAMPLE",
        "ASIAIOSFODNN7EXAMPLE",
        "sk_test_4eC39HqLyjWDarjtT1zdp7dc",
        "pk_test_TYooMQauvdEDq54NiTphI7jx",
        "sk_test_BQokikJOvBiI2HlWgH4olfQ2",
        "AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe",
        "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",
        "xoxb-not-a-real-token-this-will-not-work",
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
    }
)

_PLACEHOLDER_WORDS = (
    "example",
    "sample",
    "dummy",
    "placeholder",
    "changeme",
    "change_me",
    "change-me",
    "your_",
    "your-",
    "yourtoken",
    "yourkey",
    "yourpassword",
    "redacted",
    "replace",
    "insert",
    "fixme",
    "todo",
    "notreal",
    "not_real",
    "not-a-real",
    "fake",
    "test-key",
    "test_key",
    "testkey",
    "mytoken",
    "mysecret",
    "mypassword",
    "secret_here",
    "token_here",
    "key_here",
    "xxxx",
    "****",
    "...",
    "insecure",
    "<",
    ">",
    "${",
    "#{",
    "{{",
    "}}",
    "%(",
    "$(",
)
_PLACEHOLDER_EXACT = frozenset(
    {
        "password",
        "passwd",
        "opensesame",  # puppet's SSL provider doc comment
        "secret",
        "token",
        "null",
        "none",
        "nil",
        "undefined",
        "true",
        "false",
        "admin",
        "root",
        "test",
        "testing",
        "default",
        "string",
        "value",
        "required",
        "optional",
        "empty",
        "pass",
        "guest",
        "user",
        "username",
        "qwerty",
        "letmein",
        "welcome",
        "123456",
        "12345678",
        "123456789",
        "1234567890",
        "abc123",
        "p@ssw0rd",
        "passw0rd",
        "password1",
        "password123",
        "tiger",  # Oracle's demo account scott/tiger, in every database tutorial
        "hunter2",
        # words that say the value is never read: apitools' generated clients set
        # _CLIENT_SECRET = 'nomatter' (gsutil vendors four of them)
        "nomatter",
        "whatever",
        "anything",
        "irrelevant",
        "unused",
        "notused",
        "ignored",
        "dontcare",
    }
)
# The word itself in other languages: a form's label in a translation table (the Scalar
# bundle in effect 4.1.5 carries pt-BR's password:`Senha` beside every other locale's)
_PASSWORD_WORDS = frozenset(
    {
        "senha", "passwort", "kennwort", "contraseña", "contrasena", "contrasenya",
        "wachtwoord", "hasło", "haslo", "parola", "parolă", "lösenord", "losenord",
        "adgangskode", "passord", "salasana", "jelszó", "jelszo", "heslo", "geslo",
        "lozinka", "şifre", "sifre", "slaptažodis", "parole", "salasõna", "lykilorð",
        "pasahitza", "clave", "mot de passe",
    }
)  # fmt: skip
_WORDS_FOR_VALUES = _PLACEHOLDER_EXACT | _PASSWORD_WORDS  # built once, read per candidate
# A word, then the noun of what it stands for: prisma init's .env template connects as
# johndoe:randompassword, nix's manual shows a .netrc with "password my-password", LWP's
# comment a proxy at proxyuser:proxypass, pmacct's SQL scripts create a user with
# 'arealsmartpwd'; mytoken, yourpassword and the like are listed above
_NAMES_ITSELF = re.compile(r"[a-z]{2,12}[-_]?(?:password|passwd|pass|pwd|secret|token)\Z")
_SEQUENCES = ("0123456789", "abcdefghijklmnopqrstuvwxyz", "9876543210")
# A value that is one run of the alphabet, the digits or a keyboard row (burp's shipped
# client config: password = abcdefgh), as typed to fill a field, not drawn
_RUNS_TYPED = (*_SEQUENCES, "qwertyuiop", "asdfghjkl", "zxcvbnm")
_MIN_RUN = 6
_DIGIT_ROWS = ("01234567890", "09876543210")  # counting up or down, the keyboard's 0 last
_VARIABLE = re.compile(
    r"^(?:\$[A-Za-z_{(]|%[A-Za-z_]+%|process\.env|os\.environ|os\.getenv|env\(|getenv|"
    r"ENV\[|System\.getenv|settings\.|config\.|self\.|this\.|@[A-Za-z_]+@)"
)


# A value that is nothing but a template field, quotes or punctuation around it: str.format
# and Jinja ({auth_token}, {{ token }}, an f-string's {quote(password)}), printf
# (%(password)s, %s, "0x%s" % hex), <your-key>, [shutdown_password] (onionshare's comment
# shows http://shutdown:[shutdown_password]@127.0.0.1/); a line's escaped end may follow
# (pipenv writes f"...password {password}\n").
_TEMPLATE_FIELD = re.compile(
    r"""^["'`]?(?:0x|#)?(?:\{\{?\s*[\w.\[\]'"-]*(?:\([\w.\[\]'", -]*\))?\s*\}\}?|%\(\w+\)[sdr]"""
    r"""|%[sdr]|<[\w .-]+>|\[[a-z][a-z0-9]*(?:[_.-][a-z0-9]+)*\])(?:\\[nrt]|["'`,;)])*$"""
)


def is_placeholder(secret: str) -> bool:
    """Template values, doc samples and obviously made-up values."""
    if secret in WELL_KNOWN_EXAMPLES:
        return True
    lowered = secret.lower()
    if lowered.strip("\"'` ") in _WORDS_FOR_VALUES:
        return True
    if lowered.strip("\"'` []<>{}():!?.") in _PLACEHOLDER_EXACT:
        return True  # ftp://user[:password]@host: a grammar's optional part; hunter2!!! (posthog)
    if any(word in lowered for word in _PLACEHOLDER_WORDS) or _NAMES_ITSELF.match(secret):
        return True
    if _VARIABLE.match(secret) or _TEMPLATE_FIELD.match(secret):
        return True
    core = re.sub(r"^[A-Za-z]{2,8}[-_]", "", secret)  # ignore a provider prefix like ghp_
    if len(core) >= 6 and len(set(core)) <= 2:
        return True  # aaaaaa, 000000, abababab
    if is_character_table(core) or any(seq in lowered for seq in _SEQUENCES):
        return True
    if len(lowered) >= _MIN_RUN and any(lowered in run for run in _RUNS_TYPED):
        return True
    if len(secret) >= 4 and secret.isdigit() and any(secret in row for row in _DIGIT_ROWS):
        return True  # restartpass="7890" (inspircd.conf): a run of the keyboard's digits
    if has_character_class(secret):
        return True  # ftp://[^:]*):[^@]*@ in a sed expression (lftp): a pattern
    if _counted_up(lowered):
        return True  # abc123def456: a keyboard-made example
    if _ROUND_NUMBER.match(secret):
        return True  # 5241590000000000: a number ending in a run of zeros is set, not drawn (ray)
    if _spelled_with_digits(lowered):
        return True  # s3cre3t!, p@ssw0rd: the word "secret" dressed up, as in a README
    decoded = _printable_base64(secret)  # base64 of "sglang-tensorcast-local-test-key"
    if decoded is None:
        return False
    # HTTP Basic credentials are user:password (datamodel-code-generator's help shows
    # "Authorization: Basic dXNlcjpwYXNz", user:pass): the password is what is kept secret
    _, colon, password = decoded.partition(":")
    return is_placeholder(decoded) or bool(colon and password and is_placeholder(password))


_RUNS = re.compile(r"[a-z]+|[0-9]+")
_ROUND_NUMBER = re.compile(r"\d*0{8,}\Z")
# Digits and symbols written for letters (s3cre3t!, L@stWr!t3T0k3n)
LEET = str.maketrans("013457@$!z", "oieastasis")  # redsocks.conf's pazzw0rd
_LEET_WORDS = frozenset(["secret", "pasword", "paswd", "token", "mysecret", "mypasword"])
_DOUBLED = re.compile(r"(.)\1+")


def _spelled_with_digits(value: str) -> bool:
    """A placeholder word written with digits or symbols for letters (mysql-connector's README:
    password="s3cre3t!"): read back and with doubled letters made single, it is the word."""
    core = value.rstrip("!?.")
    if core.isalpha() or (not core.isalnum() and not set(core) & set("@$")):
        return False
    return _DOUBLED.sub(r"\1", core.translate(LEET)) in _LEET_WORDS


def _counted_up(value: str) -> bool:
    """Letters and digits that each count up by one (abc123def456, abcd1234), or numbers that
    count up behind short tags (modal's help: wk-123.ws-456): typed, not drawn."""
    runs = _RUNS.findall(value)
    if len(runs) < 2 or sum(map(len, runs)) < 8:
        return False
    numbers = [run for run in runs if run.isdigit()]
    tags = [run for run in runs if not run.isdigit()]
    if any(len(run) < 3 for run in runs):
        if len(numbers) < 2 or any(len(n) < 3 for n in numbers) or any(len(t) > 3 for t in tags):
            return False
        runs = numbers
    return all(all(ord(b) - ord(a) == 1 for a, b in itertools.pairwise(run)) for run in runs)


_BASE64_VALUE = re.compile(r"[A-Za-z0-9+/]{12,}={0,2}\Z")


def _printable_base64(value: str) -> str | None:
    """The text a base64 value encodes, when it is printable ASCII (a phrase, not a key)."""
    if not _BASE64_VALUE.match(value) or len(value) % 4:
        return None
    raw = _b64decode(value)
    if not raw or not all(32 <= b < 127 for b in raw):
        return None
    return raw.decode("ascii")


def is_public_key_der(value: str) -> bool:
    """A public key in base64 DER (a SubjectPublicKeyInfo: npm's registry signing keys that
    pnpm ships to verify packages): meant to be published, whatever name it sits under."""
    # every SubjectPublicKeyInfo opens with a SEQUENCE: 0x30 0x8x or 0x30 0x5x
    return value.startswith(("MI", "MF")) and _loads_as_der(value, private=False)


def is_private_key_der(value: str) -> bool:
    """A private key in base64 DER (PKCS#8, PKCS#1 or SEC1) that parses as one: a key, however
    its letters happen to score."""
    # every such key opens with a SEQUENCE of two or more length bytes
    return value.startswith("MI") and _loads_as_der(value, private=True)


def _loads_as_der(value: str, *, private: bool) -> bool:
    """Whether the base64 value is a DER key of that kind that the cryptography library loads."""
    if not _BASE64_VALUE.match(value):
        return False
    raw = _b64decode(value)
    if not raw:
        return False
    from cryptography.hazmat.primitives import serialization

    try:
        if private:
            serialization.load_der_private_key(raw, password=None)
        else:
            serialization.load_der_public_key(raw)
    except (ValueError, TypeError):
        return False
    return True


# A Python object reference (``IPython.core.magics.osm:OSMagics``, an entry point's target) or
# a dotted path of three or more identifiers (``java.lang.String``): code names a thing there.
_CODE_REFERENCE = re.compile(
    r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+:[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*\Z"
    r"|[A-Za-z_]\w*(?:\.[A-Za-z_]\w*){2,}\Z"
)


# [A-Za-z0-9]: a regular expression's character class (a tokenizer's TOKEN pattern); \s+,
# \d{4}, ([^/: a class escape with a quantifier or a negated class opening a group
# (litellm's r"Credential=Bearer\s+([^/\s,]+)"); H{1,2}|: a counted repetition in an
# alternation (loguru's date-format tokens); ]*\): a class's repetition closing an escaped
# group (lftp's sed expression ftp://[^:]*\):[^@]*@).
_CHARACTER_CLASS = re.compile(
    r"\[[^\]]*(?:a-z|A-Z|0-9)[^\]]*\]|\\[sdwSDW][+*?{]|\(\[\^|\w\{\d+,\d*\}\||\]\*\\\)"
)


def has_character_class(value: str) -> bool:
    """A regular expression: it describes values, it is not one."""
    return bool(_CHARACTER_CLASS.search(value))


def is_code_reference(value: str) -> bool:
    """A module path or an object reference in code: the name of a thing, not a secret."""
    return bool(_CODE_REFERENCE.match(value))


def is_character_table(value: str) -> bool:
    """Characters in sorted order (AAAABBBCCDDEEEEF...): a lookup table in a program's data
    (bash's character classes), never a random token."""
    if len(value) < 16:
        return False
    rising = sum(a <= b for a, b in itertools.pairwise(value))
    return rising >= 0.9 * (len(value) - 1)


_HEX_HASH = re.compile(r"^(?:[0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{56}|[0-9a-f]{64}|[0-9a-f]{128})$")
_HEX_HASH_UPPER = re.compile(r"^(?:[0-9A-F]{32}|[0-9A-F]{40}|[0-9A-F]{64}|[0-9A-F]{128})$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_INTEGRITY = re.compile(r"^(?:sha1|sha256|sha384|sha512)-[A-Za-z0-9+/]{20,}={0,2}$")
_IMAGE_MAGICS = (
    b"\x89PNG",
    b"\xff\xd8\xff",
    b"GIF8",
    b"RIFF",
    b"<svg",
    b"<?xml",
    b"\x00\x00\x01\x00",
)


def looks_like_hash_or_id(secret: str) -> bool:
    """Digests, UUIDs and integrity strings: unique but not secret (generic rules only)."""
    return bool(
        _HEX_HASH.match(secret)
        or _HEX_HASH_UPPER.match(secret)
        or _UUID.match(secret)
        or _INTEGRITY.match(secret)
    )


def is_base64_image(secret: str) -> bool:
    try:
        head = base64.b64decode(secret[:64] + "=" * (-len(secret[:64]) % 4), validate=False)
    except (binascii.Error, ValueError):
        return False
    return head.startswith(_IMAGE_MAGICS)


# --- checksums and structure -------------------------------------------------------------


def base62_encode(number: int, width: int = 6) -> str:
    digits = ""
    while number:
        number, rest = divmod(number, 62)
        digits = BASE62[rest] + digits
    return digits.rjust(width, "0")


def crc32_base62_token_valid(token: str) -> bool | None:
    """GitHub ``gh?_`` and npm ``npm_`` tokens: 30 random base62 chars + base62(CRC32)."""
    _, _, body = token.partition("_")
    if len(body) != 36:
        return None
    random_part, checksum = body[:30], body[30:]
    return base62_encode(zlib.crc32(random_part.encode("ascii", "replace"))) == checksum


def _b64decode(text: str) -> bytes | None:
    padded = text + "=" * (-len(text) % 4)
    try:
        return base64.urlsafe_b64decode(padded.replace("+", "-").replace("/", "_"))
    except (binascii.Error, ValueError):
        return None


def _json_object(raw: bytes | None) -> dict[str, object] | None:
    if raw is None:
        return None
    try:
        value = jsonsafe.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None


def jwt_valid(token: str) -> bool | None:
    parts = token.split(".")
    if len(parts) != 3:
        return False
    header = _json_object(_b64decode(parts[0]))
    payload = _json_object(_b64decode(parts[1]))
    if header is None or payload is None or "alg" not in header:
        return False
    if str(header.get("alg", "")).lower() == "none":
        return False  # unsigned: carries no authority
    return len(parts[2]) >= 16


def jwt_expired(token: str, now: float | None = None) -> bool:
    """A signed token whose ``exp`` claim has passed no longer authenticates anyone
    (librdkafka's OAUTHBEARER unit tests carry one that expired in 2021): reported, not
    blocking. A token without ``exp`` never expires."""
    parts = token.split(".")
    payload = _json_object(_b64decode(parts[1])) if len(parts) == 3 else None
    expires = payload.get("exp") if payload is not None else None
    if isinstance(expires, bool) or not isinstance(expires, int | float):
        return False
    return expires < (time.time() if now is None else now)


def pypi_macaroon_valid(token: str) -> bool | None:
    """``pypi-`` + base64url(macaroon v2): version byte 2 then a location field naming PyPI."""
    raw = _b64decode(token.removeprefix("pypi-"))
    if not raw or raw[0] != 2:
        return False
    return b"pypi.org" in raw[:64] or b"test.pypi.org" in raw[:64]


def slack_valid(token: str) -> bool | None:
    match = re.fullmatch(
        r"xox([abposr])-(\d{8,14})-(\d{8,14})(?:-(\d{8,14}))?-([A-Za-z0-9]+)", token
    )
    if match is None:
        return False
    tail = match.group(5)
    return len(tail) in (24, 32, 64) if match.group(1) in "bp" else True


def slack_webhook_valid(url: str) -> bool | None:
    return re.search(r"/T[A-Z0-9]{8,12}/B[A-Z0-9]{8,12}/[A-Za-z0-9]{24}$", url) is not None


def stripe_valid(token: str) -> bool | None:
    match = re.fullmatch(r"(sk|rk|pk|whsec)_(live|test)_([A-Za-z0-9]+)", token)
    if match is None:
        return re.fullmatch(r"whsec_[A-Za-z0-9]{32,}", token) is not None
    return len(match.group(3)) >= 24


def aws_key_id_valid(token: str) -> bool | None:
    """AWS key ids are 20 chars: a 4-letter kind prefix then base32 (A-Z, 2-7)."""
    return (
        re.fullmatch(
            r"(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA)[A-Z2-7]{16}", token
        )
        is not None
    )


def pem_private_key_valid(block: str) -> bool | None:
    """Does the PEM block load as a private key? Encrypted keys count as keys."""
    try:
        from cryptography.hazmat.primitives import serialization
        from cryptography.utils import CryptographyDeprecationWarning
    except ImportError:  # pragma: no cover - cryptography is a dependency
        return None
    # Loading a DSA key warns that DSA is deprecated: a remark about the scanned key, not
    # about this program, which must not reach the user's terminal.
    warnings.filterwarnings("ignore", category=CryptographyDeprecationWarning)
    data = block.encode("ascii", "replace")
    try:
        if b"OPENSSH PRIVATE KEY" in data:
            serialization.load_ssh_private_key(data, password=None)
        else:
            serialization.load_pem_private_key(data, password=None)
    except TypeError:
        return True  # "password was not given": an encrypted key, still a key
    except Exception:
        return False
    return True


def pgp_private_valid(block: str) -> bool | None:
    body = block.split("\n\n", 1)[-1]
    lines = [line for line in body.splitlines() if line and not line.startswith(("=", "-----"))]
    raw = _b64decode("".join(lines).replace("-", "+").replace("_", "/"))
    # OpenPGP packet header: new format tag 5 (secret key) is 0xC5, old format 0x94-0x97.
    return raw is not None and len(raw) > 0 and raw[0] in (0xC5, 0x94, 0x95, 0x96, 0x97)


def putty_valid(block: str) -> bool | None:
    return "Private-Lines:" in block and ("Private-MAC:" in block or "Private-Hash:" in block)


def gcp_service_account_valid(block: str) -> bool | None:
    return "-----BEGIN PRIVATE KEY-----" in block.replace("\\n", "\n")


VALIDATORS: dict[str, Validator] = {
    "github": crc32_base62_token_valid,
    "npm": crc32_base62_token_valid,
    "jwt": jwt_valid,
    "pypi": pypi_macaroon_valid,
    "slack": slack_valid,
    "slack-webhook": slack_webhook_valid,
    "stripe": stripe_valid,
    "aws-key-id": aws_key_id_valid,
    "pem": pem_private_key_valid,
    "pgp": pgp_private_valid,
    "putty": putty_valid,
    "gcp-service-account": gcp_service_account_valid,
}
# Checks that a well-formed credential has stopped working, by validator.
EXPIRED: dict[str, Callable[[str], bool]] = {"jwt": jwt_expired}
