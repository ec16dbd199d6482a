"""Every scheme: one long sorted list → all pairwise comparisons, equal spellings, properties."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from finalexam.vuln.versions import ECOSYSTEMS, InvalidVersion, VersionScheme, compare
from finalexam.vuln.versions.apk import ApkScheme
from finalexam.vuln.versions.dpkg import DpkgScheme
from finalexam.vuln.versions.golang import GoScheme
from finalexam.vuln.versions.maven import MavenScheme
from finalexam.vuln.versions.nuget import NugetScheme
from finalexam.vuln.versions.pypi import Pep440Scheme, normalize_name
from finalexam.vuln.versions.rpm import RpmScheme
from finalexam.vuln.versions.rubygems import RubyGemsScheme
from finalexam.vuln.versions.semver import SemverScheme

ORDERED: dict[str, tuple[VersionScheme, list[str]]] = {
    "semver": (
        SemverScheme(),
        [
            "0.0.0-0",
            "0.0.0",
            "0.0.1",
            "0.1.0",
            "1.0.0-0",
            "1.0.0-0.0",
            "1.0.0-1",
            "1.0.0-2",
            "1.0.0-10",
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "1.0.1",
            "1.1.0-alpha",
            "1.1.0",
            "1.2.3",
            "1.10.0",
            "2.0.0-x-y",
            "2.0.0",
            "10.0.0",
        ],
    ),
    "pep440": (
        Pep440Scheme(),
        [
            "0.9",
            "1.0.dev0",
            "1.0a1.dev1",
            "1.0a1",
            "1.0a2",
            "1.0b1",
            "1.0rc1",
            "1.0",
            "1.0+local",
            "1.0.post0.dev1",
            "1.0.post1",
            "1.0.1",
            "1.1",
            "2.31.0",
            "1!0.1",
        ],
    ),
    "go": (
        GoScheme(),
        [
            "v0.0.0-20190101000000-abcdefabcdef",
            "v0.0.0-20220101120000-abcdefabcdef",
            "v0.0.1",
            "v0.3.7",
            "v0.3.8",
            "v1.0.0-rc.1",
            "v1.0.0",
            "v1.2.4-0.20230101000000-abcdefabcdef",
            "v1.2.4",
            "v2.0.0+incompatible",
            "v2.1.0",
            "go2.2rc1",
            "go2.2",
            "go2.2.1",
        ],
    ),
    "maven-qualifiers": (
        MavenScheme(),
        [
            "1-alpha2snapshot",
            "1-alpha2",
            "1-alpha-123",
            "1-beta-2",
            "1-beta123",
            "1-m2",
            "1-m11",
            "1-rc",
            "1-cr2",
            "1-rc123",
            "1-SNAPSHOT",
            "1",
            "1-sp",
            "1-sp2",
            "1-sp123",
            "1-abc",
            "1-def",
            "1-pom-1",
            "1-1-snapshot",
            "1-1",
            "1-2",
            "1-123",
        ],
    ),
    "maven-numbers": (
        MavenScheme(),
        [
            "2.0",
            "2.0.a",
            "2-1",
            "2.0.2",
            "2.0.123",
            "2.1.0",
            "2.1-a",
            "2.1b",
            "2.1-c",
            "2.1-1",
            "2.1.0.1",
            "2.2",
            "2.123",
            "5.2.19.RELEASE",
            "5.2.20.RELEASE",
            "11.a2",
            "11.a11",
            "11.b2",
            "11.b11",
            "11.m2",
            "11.m11",
            "11",
            "11.a",
            "11b",
            "11c",
            "11m",
        ],
    ),
    "nuget": (
        NugetScheme(),
        [
            "0.9.9",
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-Beta",
            "1.0.0-rc.1",
            "1.0.0",
            "1.0.0.1",
            "1.0.1",
            "1.1",
            "12.0.3",
            "13.0.1",
        ],
    ),
    "rubygems": (
        RubyGemsScheme(),
        [
            "0.9",
            "1.0.a",
            "1.0.a.1",
            "1.0.b1",
            "1.0.rc1",
            "1.0",
            "1.0.1",
            "1.1",
            "1.10",
            "2.0.0.pre",
            "2.0.0",
        ],
    ),
    "dpkg": (
        DpkgScheme(),
        [
            "1.0~~",
            "1.0~~a",
            "1.0~",
            "1.0~rc1",
            "1.0",
            "1.0-1",
            "1.0-1ubuntu1",
            "1.0-2",
            "1.0a",
            "1.0+b1",
            "1.0.1",
            "1.2",
            "1.10",
            "1:0.9",
            "2:0.1",
        ],
    ),
    "rpm": (
        RpmScheme(),
        [
            "1.0~rc1",
            "1.0",
            "1.0^git1",
            "1.0a",
            "1.0.1",
            "1.1",
            "1.10",
            "2",
            "1:0.1",
        ],
    ),
    "rpm-release": (
        RpmScheme(),
        # A version without a release sorts before the same version with one (rpm.vercmp).
        ["1.0", "1.0-1.el8", "1.0-2.el8", "1.0-10.el8", "1.1-1.el8", "1:1.0-1.el8"],
    ),
    "apk": (
        ApkScheme(),
        [
            "1.0_alpha1",
            "1.0_beta2",
            "1.0_pre1",
            "1.0_rc1",
            "1.0",
            "1.0-r1",
            "1.0_p1",
            "1.0a",
            "1.0.1",
            "1.2",
            "1.10",
        ],
    ),
    # apk-tools' own rules: a pre-release suffix chain, leading-zero components compared as
    # text, a revision below a post-release suffix, big snapshot dates, hashes and letters.
    "apk-rules": (
        ApkScheme(),
        [
            "0.1.0_alpha_pre2",
            "0.1.0_alpha",
            "0.1.0_alpha2",
            "0.1.0",
            "1.0",
            "1.0-r0",
            "1.0-r1",
            "1.0~0a1b-r1",
            "1.0_p1",
            "1.0_p1-r2",
            "1.0a",
            "1.00",
            "1.01",
            "1.010",
            "1.05",
            "1.1",
            "1.1.1",
            "1.2_rc1",
            "1.2",
            "1.10",
            "2.0_pre20191002222144",
            "2.0_pre20210530193627",
            "2.0",
            "006",
            "20050718-r1",
        ],
    ),
}

EQUAL: dict[str, tuple[VersionScheme, list[tuple[str, str]]]] = {
    "semver": (SemverScheme(), [("1.0.0+build.1", "1.0.0"), ("v1.2.3", "1.2.3"), ("1.2", "1.2.0")]),
    "pep440": (
        Pep440Scheme(),
        [("1.0", "1.0.0"), ("1.0RC1", "1.0rc1"), ("1.0-post1", "1.0.post1")],
    ),
    "go": (
        GoScheme(),
        [("v1.2.3+incompatible", "1.2.3"), ("go1.20", "1.20.0"), ("v0.3.7", "0.3.7")],
    ),
    "maven": (
        MavenScheme(),
        [
            ("1", "1.0.0"),
            ("1-ga", "1"),
            ("1-final", "1"),
            ("1.0.0.RELEASE", "1.0.0"),
            ("1-cr1", "1-rc1"),
            ("1a1", "1-alpha-1"),
            ("1.0-SNAPSHOT", "1-snapshot"),
        ],
    ),
    "nuget": (
        NugetScheme(),
        [("1.0", "1.0.0.0"), ("1.0.0-ALPHA", "1.0.0-alpha"), ("1.0+x", "1.0")],
    ),
    "rubygems": (RubyGemsScheme(), [("1.0", "1"), ("1.0.0", "1")]),
    "dpkg": (DpkgScheme(), [("0:1.0", "1.0"), ("1.0-01", "1.0-1"), ("1.00", "1.0")]),
    "rpm": (RpmScheme(), [("0:1.0-1", "1.0-1"), ("1.0-5", "1.0-5"), ("1.0", "1_0")]),
    "apk": (ApkScheme(), [("1.0-r0", "1.0-r0"), ("1.0_p01-r1", "1.0_p1-r001")]),
}


@pytest.mark.parametrize("name", sorted(ORDERED))
def test_sorted_list_all_pairs(name: str) -> None:
    scheme, versions = ORDERED[name]
    for (i, left), (j, right) in itertools.product(enumerate(versions), repeat=2):
        expected = (i > j) - (i < j)
        assert compare(scheme, left, right) == expected, (left, right)


@pytest.mark.parametrize("name", sorted(EQUAL))
def test_equal_spellings(name: str) -> None:
    scheme, pairs = EQUAL[name]
    for left, right in pairs:
        assert compare(scheme, left, right) == 0, (left, right)
        assert compare(scheme, right, left) == 0, (left, right)


@pytest.mark.parametrize(
    ("scheme", "text"),
    [
        (SemverScheme(), "not-a-version"),
        (Pep440Scheme(), "1.0-garbage-text"),
        (DpkgScheme(), "abc"),
        (NugetScheme(), "1.0.0.0.0"),
        (ApkScheme(), "1.0_unknown"),
        (ApkScheme(), "1.0bc"),
        (ApkScheme(), "1.0-r1.2"),
        (ApkScheme(), "1.2a3"),
        (RpmScheme(), "1.0 1"),
        (RubyGemsScheme(), "@"),
        (MavenScheme(), ""),
    ],
)
def test_invalid_versions_raise(scheme: VersionScheme, text: str) -> None:
    with pytest.raises(InvalidVersion):
        scheme.key(text)


def test_every_scheme_module_is_registered() -> None:
    from pathlib import Path

    import finalexam.vuln.versions as package

    modules = {p.stem for p in Path(package.__file__).parent.glob("*.py")} - {"__init__", "base"}
    registered = {type(e.scheme).__module__.rsplit(".", 1)[-1] for e in ECOSYSTEMS.values()}
    # semver is registered through npm/crates.io; every other module has its ecosystem.
    assert modules == registered


def test_pep503_names() -> None:
    assert normalize_name("PyYAML") == "pyyaml"
    assert normalize_name("zope.interface") == normalize_name("Zope_Interface") == "zope-interface"


# -- properties ------------------------------------------------------------------------

numbers = st.integers(min_value=0, max_value=30)
core = st.tuples(numbers, numbers, numbers).map(lambda t: ".".join(map(str, t)))
prerelease = st.lists(
    st.one_of(numbers.map(str), st.sampled_from(["alpha", "beta", "rc", "x-y"])),
    min_size=1,
    max_size=3,
).map(".".join)
semver_text = st.tuples(core, st.one_of(st.none(), prerelease)).map(
    lambda t: t[0] + (f"-{t[1]}" if t[1] else "")
)
dotted = st.lists(st.integers(0, 12).map(str), min_size=1, max_size=3).map(".".join)
word = st.sampled_from(["", "a", "b", "rc", "alpha", "x"])


def _joined(*parts: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.tuples(*parts).map("".join)


debian_text = _joined(
    st.sampled_from(["", "1:", "2:"]),
    dotted,
    st.sampled_from(["", "~rc1", "~", "+b1", "a", ".0"]),
    st.sampled_from(["", "-1", "-0ubuntu1", "-2~bpo1"]),
)
rpm_text = _joined(dotted, st.sampled_from(["", "~rc1", "^git1", "a", ".0", "_1"]))
maven_text = _joined(
    dotted, st.sampled_from(["", "-alpha", "-beta-1", "-rc1", "-SNAPSHOT", "-sp", "-1", ".x"])
)
gem_text = _joined(dotted, st.sampled_from(["", ".a", ".b1", ".pre", ".rc2", ".0"]))
apk_text = _joined(
    dotted,
    st.sampled_from(["", "a", "c"]),
    st.sampled_from(["", "_alpha", "_rc2", "_p1", "_git"]),
    st.sampled_from(["", "-r0", "-r3"]),
)

SCHEME_TEXT = [
    (SemverScheme(), semver_text),
    (DpkgScheme(), debian_text),
    (RpmScheme(), rpm_text),
    (MavenScheme(), maven_text),
    (RubyGemsScheme(), gem_text),
    (ApkScheme(), apk_text),
    (NugetScheme(), semver_text),
]


@pytest.mark.parametrize(("scheme", "strategy"), SCHEME_TEXT, ids=lambda x: getattr(x, "name", ""))
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_total_order_properties(
    scheme: VersionScheme, strategy: st.SearchStrategy[str], data: st.DataObject
) -> None:
    a, b, c = (data.draw(strategy) for _ in range(3))
    assert compare(scheme, a, a) == 0
    assert compare(scheme, a, b) == -compare(scheme, b, a)
    low, mid, high = sorted((a, b, c), key=scheme.key)
    assert compare(scheme, low, mid) <= 0
    assert compare(scheme, mid, high) <= 0
    assert compare(scheme, low, high) <= 0


@settings(max_examples=60, deadline=None)
@given(version=core, pre=prerelease)
def test_semver_prerelease_sorts_before_release(version: str, pre: str) -> None:
    scheme = SemverScheme()
    assert compare(scheme, f"{version}-{pre}", version) < 0
    assert compare(scheme, f"{version}+build.5", version) == 0


@settings(max_examples=60, deadline=None)
@given(version=debian_text)
def test_dpkg_tilde_sorts_before_everything(version: str) -> None:
    scheme = DpkgScheme()
    base = version.split("-")[0] if "-" in version else version
    assert compare(scheme, f"{base}~rc1", base) < 0
    assert compare(scheme, base, f"{base}+deb1") < 0


@settings(max_examples=60, deadline=None)
@given(version=dotted)
def test_rpm_tilde_and_caret(version: str) -> None:
    scheme = RpmScheme()
    assert compare(scheme, f"{version}~rc1", version) < 0
    assert compare(scheme, version, f"{version}^git1") < 0


@settings(max_examples=60, deadline=None)
@given(version=dotted.map(lambda v: f"1{v}"))
def test_maven_snapshot_and_trailing_zeros(version: str) -> None:
    scheme = MavenScheme()
    assert compare(scheme, f"{version}-SNAPSHOT", version) < 0
    assert compare(scheme, f"{version}.0", version) == 0


@settings(max_examples=60, deadline=None)
@given(major=numbers, minor=numbers, patch=numbers, stamp=st.integers(2019_0101, 2025_1231))
def test_go_pseudo_version_between_neighbours(
    major: int, minor: int, patch: int, stamp: int
) -> None:
    scheme = GoScheme()
    pseudo = f"v{major}.{minor}.{patch + 1}-0.{stamp}000000-abcdefabcdef"
    assert compare(scheme, f"v{major}.{minor}.{patch}", pseudo) < 0
    assert compare(scheme, pseudo, f"v{major}.{minor}.{patch + 1}") < 0
