"""Distribution version orderings checked against the distributions' own tools.

Random versions in each scheme's alphabet (epochs, ``~``, ``^``, ``+debNuM``, ``.elN_M``
releases...) are compared pairwise by ``dpkg --compare-versions`` and by rpm's own
``rpm.vercmp`` (through ``rpm --eval``), and by our schemes; every answer must agree.
"""

from __future__ import annotations

import itertools
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from finalexam.vuln.versions import compare
from finalexam.vuln.versions.dpkg import DpkgScheme
from finalexam.vuln.versions.rpm import RpmScheme

DPKG = shutil.which("dpkg")
RPM = shutil.which("rpm")


def _piece(alphabet: str, max_size: int = 5) -> st.SearchStrategy[str]:
    return st.text(alphabet, min_size=1, max_size=max_size)


def _version(
    upstream: st.SearchStrategy[str], revision: st.SearchStrategy[str]
) -> st.SearchStrategy[str]:
    epoch = st.sampled_from(["", "", "", "1:", "2:", "0:"])
    release = st.one_of(st.just(""), revision.map(lambda text: f"-{text}"))
    # Upstream versions start with a digit (dpkg requires it; rpm does not care).
    head = st.integers(0, 12).map(str)
    return st.tuples(epoch, head, upstream, release).map("".join)


# Realistic pieces mixed with random runs of the characters that matter.
debian_upstream = st.one_of(
    st.sampled_from(["", ".0", ".1", ".10", "~rc1", "~", "+dfsg", "+b1", "a", ".0~beta2"]),
    _piece("0123456789.+~ab"),
)
debian_revision = st.one_of(
    st.sampled_from(
        ["1", "2", "1+deb12u1", "1+deb10u3", "1~deb11u1", "0ubuntu1", "0ubuntu0.22.04.1"]
    ),
    _piece("0123456789.+~abdeu"),
)
rpm_upstream = st.one_of(
    st.sampled_from(["", ".0", ".1", ".10", "~rc1", "^git1", "a", "_1", ".0.1"]),
    _piece("0123456789.~^_a+"),
)
rpm_release = st.one_of(
    st.sampled_from(["1.el9", "25.el9_3", "2.el8_10", "1.module+el9.3.0+1+abc", "3.fc39"]),
    _piece("0123456789.~^_elm"),
)

SAMPLES = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _pairs(versions: list[str]) -> list[tuple[str, str]]:
    return list(itertools.combinations(dict.fromkeys(versions), 2))


def _dpkg_answers(pairs: list[tuple[str, str]]) -> list[int]:
    script = (
        'while read -r a b; do if dpkg --compare-versions "$a" lt "$b"; then echo -1; '
        'elif dpkg --compare-versions "$a" eq "$b"; then echo 0; else echo 1; fi; done'
    )
    lines = "".join(f"{a} {b}\n" for a, b in pairs)
    done = subprocess.run(
        ["bash", "-c", script], input=lines, capture_output=True, text=True, check=True
    )
    return [int(word) for word in done.stdout.split()]


def _rpm_answers(pairs: list[tuple[str, str]], workdir: Path) -> list[int]:
    listing = workdir / "pairs.txt"
    listing.write_text("".join(f"{a} {b}\n" for a, b in pairs))
    lua = (
        f'%{{lua: for line in io.lines("{listing}") do '
        'local a, b = line:match("^(%S+) (%S+)$"); print(rpm.vercmp(a, b) .. "\\n") end}'
    )
    done = subprocess.run(["rpm", "--eval", lua], capture_output=True, text=True, check=True)
    return [int(word) for word in done.stdout.split()]


@pytest.mark.skipif(DPKG is None, reason="dpkg not installed")
@SAMPLES
@given(versions=st.lists(_version(debian_upstream, debian_revision), min_size=8, max_size=10))
def test_dpkg_order_matches_dpkg(versions: list[str]) -> None:
    pairs = _pairs(versions)
    scheme = DpkgScheme()
    expected = _dpkg_answers(pairs)
    assert len(expected) == len(pairs)
    for (left, right), answer in zip(pairs, expected, strict=True):
        assert compare(scheme, left, right) == answer, (left, right)


@pytest.mark.skipif(RPM is None, reason="rpm not installed (.ci/system-packages)")
@SAMPLES
@given(versions=st.lists(_version(rpm_upstream, rpm_release), min_size=25, max_size=30))
def test_rpm_order_matches_rpm_vercmp(
    versions: list[str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    pairs = _pairs(versions)
    scheme = RpmScheme()
    expected = _rpm_answers(pairs, tmp_path_factory.mktemp("rpm"))
    assert len(expected) == len(pairs)
    for (left, right), answer in zip(pairs, expected, strict=True):
        assert compare(scheme, left, right) == answer, (left, right)


@pytest.mark.skipif(DPKG is None or RPM is None, reason="dpkg or rpm not installed")
@pytest.mark.parametrize(
    ("scheme", "left", "right"),
    [
        # Security updates of a stable release sort between the release and the next upload.
        ("dpkg", "1.1.1n-0+deb10u3", "1.1.1n-0+deb10u4"),
        ("dpkg", "1.1.1n-0+deb10u6", "1.1.1n-1"),
        ("dpkg", "3.0.11-1~deb12u2", "3.0.11-1"),
        ("dpkg", "1:1.2.13.dfsg-1", "1.3-1"),
        ("dpkg", "2.36-9+deb12u4", "2.36-9+deb12u10"),
        ("dpkg", "3.0.2-0ubuntu1.10", "3.0.2-0ubuntu1.9"),
        ("dpkg", "7.0.33-0ubuntu0.16.04.16+esm1", "7.0.33-0ubuntu0.16.04.16"),
        ("rpm", "1:3.0.7-25.el9_3", "1:3.0.7-24.el9"),
        ("rpm", "0:8.7p1-38.el9_4.1", "8.7p1-38.el9_4"),
        ("rpm", "3.0.7-25.el9_3", "1:3.0.1-1.el9"),
        ("rpm", "1.20.10-1.module+el9.3.0+111+aaaaaaaa", "1.20.10-1.module+el9.2.0+9+bbbb"),
        ("rpm", "1.0", "1.0-1"),
    ],
)
def test_distribution_examples_match_the_tools(
    scheme: str, left: str, right: str, tmp_path: Path
) -> None:
    if scheme == "dpkg":
        answer = _dpkg_answers([(left, right)])[0]
        assert compare(DpkgScheme(), left, right) == answer
    else:
        answer = _rpm_answers([(left, right)], tmp_path)[0]
        assert compare(RpmScheme(), left, right) == answer
