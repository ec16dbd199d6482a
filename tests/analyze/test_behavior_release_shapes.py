"""Shapes of honest popular releases that behaviour rules misread (a byte order mark, a
service's reply decoded, a word list, a message to the user), each beside the malicious shape
of the same kind, which still blocks."""

from __future__ import annotations

from pathlib import Path

from blocking import high
from builders import write, zip_bytes
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
