from __future__ import annotations

from pathlib import Path

import pytest
from ctoolchain import GCC, HAVE_STATIC_ZLIB, compile_c, zlib_header_version

from finalexam.catalog import CATALOGERS
from finalexam.catalog.fingerprint import Rule, Scanner, hyperscan, load_rules
from finalexam.catalog.native import make
from finalexam.config import Config
from finalexam.exam import run_exam
from finalexam.model import Confidence

RULES = load_rules("native")
ENGINES = ["re", *(["hyperscan"] if hyperscan is not None else [])]


@pytest.fixture(scope="module", params=ENGINES)
def scanner(request: pytest.FixtureRequest) -> Scanner:
    built = Scanner(RULES, use_hyperscan=request.param == "hyperscan")
    assert built.engine == request.param
    return built


def test_registered_and_enough_libraries() -> None:
    assert make in CATALOGERS
    assert len(RULES) >= 20
    assert len({rule.id for rule in RULES}) == len(RULES)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_rule_examples(rule: Rule, scanner: Scanner) -> None:
    for text, version in rule.match_examples:
        hits = {(h.rule.id, h.version) for h in scanner.scan(text.encode("latin-1"))}
        assert (rule.id, version) in hits, f"{rule.id} should find {version} in {text!r}"
    for text in rule.benign_examples:
        hits = {h.rule.id for h in scanner.scan(text.encode("latin-1"))}
        assert rule.id not in hits, f"{rule.id} should not match {text!r}"
    assert rule.purl.startswith("pkg:generic/")
    assert rule.cpe is None or rule.cpe.startswith("cpe:2.3:a:")


def test_a_low_confidence_rule_with_two_versions_names_neither(scanner: Scanner) -> None:
    text = b"Frame requires too much memory for decoding\x001.5.4\x00 \x001.4.9\x00"
    assert not [h for h in scanner.scan(text) if h.rule.id == "zstd"]


def test_versions_inside_longer_numbers_are_not_taken(scanner: Scanner) -> None:
    assert scanner.scan(b"OpenSSL 3.0.1234567 is not a date") == []


needs_gcc = pytest.mark.skipif(GCC is None, reason="gcc not installed")


@needs_gcc
@pytest.mark.skipif(not HAVE_STATIC_ZLIB, reason="zlib1g-dev not installed")
def test_statically_linked_zlib_is_found(tmp_path: Path) -> None:
    program = compile_c(
        tmp_path,
        "squeeze",
        "#include <zlib.h>\n#include <stdio.h>\n"
        "int main(void) { unsigned char out[64]; uLongf n = sizeof out;\n"
        '  return compress(out, &n, (const Bytef *)"hello", 5) != Z_OK; }\n',
        "-static",
        "-lz",
    )
    report = run_exam(program, Config(), catalogers=[make])
    zlib = next(c for c in report.components if c.name == "zlib")
    version = zlib_header_version()
    assert zlib.version == version
    assert zlib.purl == f"pkg:generic/zlib@{version}"
    assert zlib.cpe == f"cpe:2.3:a:zlib:zlib:{version}:*:*:*:*:*:*:*"
    assert zlib.ecosystem == "generic" and zlib.confidence == Confidence.HIGH
    assert zlib.locations and str(zlib.locations[0]) == program.name
    assert any("deflate" in e or "inflate" in e for e in zlib.evidence)


@needs_gcc
def test_needed_library_becomes_a_dependency_edge(tmp_path: Path) -> None:
    root = tmp_path / "app"
    compile_c(
        root,
        "libinner.so.1",
        'const char inner_banner[] = "OpenSSL 3.0.13 30 Jan 2024";\n',
        "-shared",
        "-fPIC",
        "-Wl,-soname,libinner.so.1",
    )
    compile_c(
        root,
        "libouter.so",
        'extern const char inner_banner[];\nconst char outer_agent[] = "libcurl/8.4.0";\n'
        "const char *pick(void) { return inner_banner; }\n",
        "-shared",
        "-fPIC",
        f"-L{root}",
        "-l:libinner.so.1",
        "-Wl,-soname,libouter.so",
    )
    (root / "libinner.so.1.c").unlink()
    (root / "libouter.so.c").unlink()
    report = run_exam(root, Config(), catalogers=[make])
    by_name = {c.name: c for c in report.components}
    curl, openssl = by_name["curl"], by_name["openssl"]
    assert curl.version == "8.4.0" and openssl.version == "3.0.13"
    assert [d.target for d in curl.dependencies] == ["pkg:generic/openssl@3.0.13"]
    assert any("NEEDED libinner.so.1" in e for e in curl.evidence)
    assert any("SONAME libinner.so.1" in e for e in openssl.evidence)
    assert not openssl.dependencies


@needs_gcc
def test_library_bundled_by_a_wheel_repair_tool_is_named_by_its_file(tmp_path: Path) -> None:
    libs = tmp_path / "wheel" / "pkg.libs"
    compile_c(libs, "libgfortran-040039e1.so.5.0.0", "int f(void) { return 1; }\n", "-shared")
    compile_c(
        libs,
        "libpng16-36a62686.so.16.40.0",
        'const char b[] = "libpng version 1.6.40";\n',
        "-shared",
    )
    compile_c(
        libs,
        "libfreetype-2f4dfa15.so.6.20.1",
        'const char b[] = "1.0.8, 13-Jul-2019\\0bzip2/libbzip2: internal error";\n',
        "-shared",
    )
    for source in libs.glob("*.c"):
        source.unlink()
    report = run_exam(tmp_path / "wheel", Config(), catalogers=[make])
    found = {(c.name, c.version, c.confidence) for c in report.components}
    assert found == {
        ("libgfortran", None, Confidence.LOW),
        ("libpng", "1.6.40", Confidence.HIGH),  # the banner names it; no second, file-named one
        ("libfreetype", None, Confidence.LOW),  # holds a static bzip2, still named itself
        ("bzip2", "1.0.8", Confidence.HIGH),
    }


def test_literal_anchor_gates_the_re_engine() -> None:
    from finalexam.catalog.fingerprint import literal_anchor

    assert literal_anchor(rb"(?:de|in)flate (?P<version>1\.\d+) Copyright \d{4}") == b" Copyright "
    assert literal_anchor(rb"[^0-9](?P<version>\d+)\x00") == b"\x00"
    assert literal_anchor(rb"\d+") == b""


def test_the_strongest_pattern_wins_for_one_version(scanner: Scanner) -> None:
    text = b"lzma_stream_decoder\x005.4.1\x00 xz (XZ Utils) 5.4.1"
    (hit,) = [h for h in scanner.scan(text) if h.rule.id == "xz"]
    assert hit.confidence == Confidence.HIGH and not hit.gated
