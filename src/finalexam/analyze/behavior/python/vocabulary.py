"""The names the Python reader knows: evaluators, decoders, senders, secret-looking
variables, setuptools commands and the other call families that make a fact meaningful."""

from __future__ import annotations

import re

EVALUATORS = frozenset({"exec", "eval", "compile", "builtins.exec", "builtins.eval"})


DECODERS = (
    "base64.",
    "binascii.",
    "codecs.decode",
    "zlib.decompress",
    "gzip.decompress",
    "bz2.decompress",
    "lzma.decompress",
    "marshal.loads",
    "pickle.loads",
    "bytes.fromhex",
    "*.decrypt",
    "*.decrypt_and_verify",
    "xor",
    "*.fromhex",
    "*.b64decode",
    "*.decompress",
    "*.urlopen",
    "requests.get",
    "urllib.request.",
    "subprocess.getoutput",
    "subprocess.check_output",
    "os.popen",
)


# Sources whose values must not leave the machine, and the calls that send data out.
ENV_WHOLE = "os.environ"


ENV_SINGLE_KEY = frozenset({"get", "setdefault", "pop", "__getitem__", "__contains__"})


RECON = frozenset(
    {
        "socket.gethostname",
        "socket.getfqdn",
        "getpass.getuser",
        "os.getlogin",
        "platform.node",
        "os.uname",
        "uuid.getnode",
    }
)


SECRET_NAME = re.compile(
    r"(?i)^_*(\w*_)?(private_?key|priv_?key|mnem(onic)?|seed_?phrase|recovery_?phrase)s?$"
)


# A cloud access-key pair (key id and secret), which SDKs only ever use to sign requests: sent
# together as they are, they leave the machine. OAuth client id/secret pairs are sent by
# design and are not named here; nor is a secret alone (a job's secrets, a captcha secret).
ACCESS_SECRET_NAME = re.compile(
    r"(?i)^_*(aws_|access_?key_?|access_|ak_?)?secret(_?access)?(_?key)?$"
)


ACCESS_ID_NAME = re.compile(r"(?i)^_*(aws_)?(ak|access_?key(_?id)?)$")


SENDERS = re.compile(
    r"^(requests|httpx|aiohttp|urllib\.request|urllib2|http\.client|httplib|smtplib|ftplib|"
    r"telebot|discord_webhook|dhooks)\.\w+(\.\w+)*$"
    r"|^[\w*.]*\.(urlopen|urlretrieve|post|put|request|send|sendall|sendto|send_message|sendMessage|"
    r"send_document|sendDocument|execute_webhook)$"
    r"|^[\w.]*(urlopen|urlretrieve)$"
)


# calls that turn key material into something meant to be shared: signatures, tokens,
# derived public keys and addresses, hashes
PROTECTS = re.compile(
    r"(?i)(^|[._])(sign\w*|jwt\.encode|encode_jwt|hmac\w*|hash\w*|digest|sha\d+|md5|"
    r"encrypt\w*|derive\w*|public_?key\w*|from_key|from_private_key|from_mnemonic|"
    r"from_seed|load_pem_private_key|to_address|address\w*|hexdigest)$|^(hmac|hashlib)\.\w+$"
)


ENCODED_URL = re.compile(r"^(aHR0cDovL|aHR0cHM6Ly)[A-Za-z0-9+/=_-]{4,}$")


URL_IN = re.compile(r"https?://[\w.-]+")


CODE_LIKE = re.compile(r"(^|;|\n)\s*(import \w|from [\w.]+ import )")


SPAWNERS = re.compile(r"^(os\.(system|popen|exec\w*|spawn\w*|startfile)|subprocess\.\w+)$")


# setuptools/distutils commands whose override runs code at build or install time.
COMMAND_BASES = frozenset(
    {
        "install",
        "develop",
        "egg_info",
        "build",
        "build_py",
        "build_ext",
        "sdist",
        "bdist_egg",
        "bdist_wheel",
        "install_lib",
        "install_scripts",
        "easy_install",
    }
)


# The commands pip's install runs after the build: code there acts on the user's machine, not
# on the build tree (compilers and code generators belong in build/build_ext/build_py).
INSTALL_PHASE = frozenset(
    {
        "install",
        "develop",
        "egg_info",
        "bdist_egg",
        "install_lib",
        "install_scripts",
        "easy_install",
    }
)


BUILTIN_CALLABLES = EVALUATORS | {"__import__", "getattr", "open"}


PATH_JOINERS = frozenset({"os.path.join", "posixpath.join", "pathlib.Path", "pathlib.PurePath"})


# decode-direction calls (not encoders) that make a function of the file a decoder
DECODING = re.compile(
    r"(^|\.)(b64decode|urlsafe_b64decode|b32decode|b16decode|b85decode|a85decode|decodebytes|"
    r"unhexlify|a2b_\w+|fromhex|decompress|decrypt\w*)$|^(marshal\.loads|codecs\.decode)$"
)


# Calls whose result is bytes from the network. A bare ``.read()`` is not one: the response
# it reads is made by one of these (``urlopen(u).read()``), while ``open(p).read()`` copies a
# local file (google-cloud-aiplatform writes the user's training script into a .py it
# packages).
DOWNLOADERS = ("requests.", "urllib", "httpx.", "aiohttp.", "*.urlopen")


DIRECTORY_MAKERS = frozenset({"os.mkdir", "os.makedirs"})


COPIERS = frozenset(  # (source, destination): the destination is what lands outside
    {
        "shutil.copy", "shutil.copy2", "shutil.copyfile", "shutil.copytree", "shutil.move",
        "os.rename", "os.replace",
    }
)  # fmt: skip


def is_decoder(name: str) -> bool:
    for prefix in DECODERS:
        if prefix.startswith("*."):
            if name.endswith(prefix[1:]):
                return True
        elif name.startswith(prefix):
            return True
    return False
