"""The tampering pairs are what they claim: the tampered build gained the constructor, IFUNC,
imports, strings, sections and signature changes; the honest next build gained none of them.

Checked with independent tools (binutils, osslsigncode, dpkg-deb), so the pairs can serve as
ground truth for the release diff of compiled code and for bench/binaries.
"""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import subprocess
import tarfile
import zipfile
from base64 import urlsafe_b64encode
from collections.abc import Callable
from pathlib import Path

import pytest

from tamper_pairs import C2_HOST, TamperPair, Unavailable, c_pairs, go_pairs, pe_pairs, rust_pairs
from tamper_pairs import wheel_pairs as build_wheel_pairs


def _built(builder: Callable[[Path], list[TamperPair]], path: Path) -> dict[str, TamperPair]:
    try:
        return {p.name: p for p in builder(path)}
    except Unavailable as missing:
        pytest.skip(str(missing))


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (see .ci/system-packages)")
    return path


def _output(*args: str) -> str:
    return subprocess.run(args, capture_output=True, text=True, check=False).stdout


def _member(package: Path, name: str, tmp_path: Path) -> Path:
    """One file out of a .deb (dpkg-deb), a wheel or zip, or a tarball."""
    out = tmp_path / hashlib.sha256(f"{package}:{name}".encode()).hexdigest()[:16]
    if package.suffix == ".deb":
        data = subprocess.run(
            [_tool("dpkg-deb"), "--fsys-tarfile", str(package)], capture_output=True, check=True
        ).stdout
        with tarfile.open(fileobj=io.BytesIO(data)) as archive:
            handle = archive.extractfile(f"./{name}")
            assert handle is not None
            out.write_bytes(handle.read())
    elif package.suffix in (".whl", ".zip"):
        with zipfile.ZipFile(package) as archive:
            out.write_bytes(archive.read(name))
    else:
        with tarfile.open(package) as archive:
            handle = archive.extractfile(name)
            assert handle is not None
            out.write_bytes(handle.read())
    return out


def _old_binary(pair: TamperPair) -> str:
    return pair.binary.replace("1.2.4", "1.2.3")


def _undefined(library: Path) -> set[str]:
    table = _output(_tool("readelf"), "--dyn-syms", "-W", str(library))
    return {m.group(1).split("@")[0] for m in re.finditer(r" UND (\S+)", table)}


def _init_array_size(library: Path) -> int:
    sections = _output(_tool("readelf"), "-S", "-W", str(library))
    found = re.search(r"\.init_array\s+\S+\s+\S+\s+\S+\s+(\S+)", sections)
    return int(found.group(1), 16) if found else 0


@pytest.fixture(scope="module")
def c_built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, TamperPair]:
    return _built(c_pairs, tmp_path_factory.mktemp("c-pairs"))


def test_debian_packages_carry_the_versioned_library_and_its_soname_link(
    c_built: dict[str, TamperPair],
) -> None:
    pair = c_built["c-ctor-socket"]
    listing = _output(_tool("dpkg-deb"), "--contents", str(pair.new))
    assert "./usr/lib/x86_64-linux-gnu/libtinyz.so.1.2.4" in listing
    assert "libtinyz.so.1 -> libtinyz.so.1.2.4" in listing
    assert "Version: 1.2.3-1" in _output("dpkg-deb", "--info", str(pair.old))
    assert "Version: 1.2.4-1" in _output("dpkg-deb", "--info", str(pair.new))


def test_honest_next_build_gains_no_imports_and_no_constructor(
    c_built: dict[str, TamperPair], tmp_path: Path
) -> None:
    pair = c_built["c-version-bump"]
    old = _member(pair.old, _old_binary(pair), tmp_path)
    new = _member(pair.new, pair.binary, tmp_path)
    assert not pair.malicious
    assert _undefined(new) <= _undefined(old)
    assert _init_array_size(new) == _init_array_size(old)
    assert b"1.2.4" in new.read_bytes() and b"1.2.3" in old.read_bytes()


@pytest.mark.parametrize(
    ("name", "imports"),
    [
        ("c-ctor-socket", {"socket", "connect", "gethostname"}),
        ("c-ctor-reverse-shell", {"fork", "connect", "dup2", "execve"}),
        ("c-memfd-dropper", {"memfd_create", "fexecve", "fork"}),
        ("c-preload-persistence", {"geteuid", "fopen", "fclose"}),
    ],
)
def test_injected_constructors_add_an_init_array_entry_and_their_imports(
    c_built: dict[str, TamperPair], tmp_path: Path, name: str, imports: set[str]
) -> None:
    pair = c_built[name]
    old = _member(pair.old, _old_binary(pair), tmp_path)
    new = _member(pair.new, pair.binary, tmp_path)
    assert pair.malicious
    assert _init_array_size(new) > _init_array_size(old)
    assert imports <= _undefined(new) - _undefined(old)
    data = new.read_bytes()
    for text in pair.gained:
        if text.startswith(("/", "[")) or text == C2_HOST:
            assert text.encode() in data, text


def test_dropper_blob_is_high_entropy(c_built: dict[str, TamperPair], tmp_path: Path) -> None:
    pair = c_built["c-memfd-dropper"]
    new = _member(pair.new, pair.binary, tmp_path)
    rodata = subprocess.run(
        [_tool("objcopy"), "-O", "binary", "--only-section=.rodata", str(new), "/dev/stdout"],
        capture_output=True,
        check=True,
    ).stdout
    assert len(rodata) >= 32 * 1024
    counts = [rodata.count(bytes([b])) for b in range(256)]
    assert min(counts) > 0  # every byte value: no plain code or text looks like this


def test_ifunc_resolver_replaces_the_plain_function_like_the_xz_backdoor(
    c_built: dict[str, TamperPair], tmp_path: Path
) -> None:
    pair = c_built["c-ifunc-hook"]
    old = _member(pair.old, _old_binary(pair), tmp_path)
    new = _member(pair.new, pair.binary, tmp_path)
    symbols = _output(_tool("readelf"), "--dyn-syms", "-W", str(new))
    assert re.search(r"IFUNC\s+GLOBAL\s+DEFAULT\s+\d+\s+tinyz_crc32\b", symbols)
    assert "IFUNC" not in _output("readelf", "--dyn-syms", "-W", str(old))
    assert {"dlsym", "mprotect", "system"} <= _undefined(new) - _undefined(old)
    assert b"RSA_public_decrypt" in new.read_bytes() and b"sshd" in new.read_bytes()


def test_wheels_are_valid_and_the_tampered_extension_gains_the_constructor(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    built = _built(build_wheel_pairs, tmp_path_factory.mktemp("wheel-pairs"))
    for pair in built.values():
        for wheel in (pair.old, pair.new):
            with zipfile.ZipFile(wheel) as archive:
                record = archive.read(next(n for n in archive.namelist() if n.endswith("RECORD")))
                for line in record.decode().splitlines():
                    name, digest, _ = line.split(",")
                    if digest:
                        raw = hashlib.sha256(archive.read(name)).digest()
                        assert digest == "sha256=" + urlsafe_b64encode(raw).rstrip(b"=").decode()
    tampered = built["wheel-ctor-socket"]
    old = _member(tampered.old, tampered.binary, tmp_path)
    new = _member(tampered.new, tampered.binary, tmp_path)
    assert {"socket", "connect"} <= _undefined(new) - _undefined(old)
    honest = built["wheel-version-bump"]
    assert _undefined(_member(honest.new, honest.binary, tmp_path)) <= _undefined(old)


def test_go_beacon_brings_net_http_and_the_address_only_into_the_tampered_build(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    built = _built(go_pairs, tmp_path_factory.mktemp("go-pairs"))
    tampered, honest = built["go-init-beacon"], built["go-version-bump"]
    old = _member(tampered.old, tampered.binary, tmp_path).read_bytes()
    new = _member(tampered.new, tampered.binary, tmp_path).read_bytes()
    plain = _member(honest.new, honest.binary, tmp_path).read_bytes()
    url = f"http://{C2_HOST}:8080/api/v1/beacon".encode()
    assert url in new and url not in old and url not in plain
    assert b"net/http" in new and b"net/http" not in old and b"net/http" not in plain
    assert len(new) > 2 * len(old)  # the HTTP stack: a tool that grew for no reason


def test_rust_init_array_entry_is_added_only_by_the_tampered_build(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    built = _built(rust_pairs, tmp_path_factory.mktemp("rust-pairs"))
    tampered, honest = built["rust-init-array-shell"], built["rust-version-bump"]
    old = _member(tampered.old, tampered.binary, tmp_path)
    new = _member(tampered.new, tampered.binary, tmp_path)
    plain = _member(honest.new, honest.binary, tmp_path)
    assert _init_array_size(new) > _init_array_size(old) == _init_array_size(plain)
    assert f"{C2_HOST}:4444".encode() in new.read_bytes()
    assert b"/bin/sh" in new.read_bytes() and b"/bin/sh" not in plain.read_bytes()


@pytest.fixture(scope="module")
def pe_built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, TamperPair]:
    return _built(pe_pairs, tmp_path_factory.mktemp("pe-pairs"))


def _signer(exe: Path) -> str:
    """The signer's subject by osslsigncode, 'unsigned', or 'invalid': the digest does not
    match, or data follows the signature (which osslsigncode then ignores)."""
    done = subprocess.run(
        [_tool("osslsigncode"), "verify", "-in", str(exe)], capture_output=True, text=True
    )
    out = done.stdout + done.stderr
    if "MISMATCH" in out or "signature not at the end" in out:
        return "invalid"
    if "No signature found" in out:
        return "unsigned"
    subject = re.search(r"Signer #0:\s*\n\s*Subject:\s*(.+)", out)
    return subject.group(1).strip() if subject else out[-300:]


def _pe_imports(exe: Path) -> str:
    return _output(_tool("x86_64-w64-mingw32-objdump"), "-p", str(exe))


def test_signed_pe_pairs_change_signature_sections_and_imports_as_described(
    pe_built: dict[str, TamperPair], tmp_path: Path
) -> None:
    old = _member(pe_built["pe-version-bump"].old, "tinyz/tinyz.exe", tmp_path)
    assert "Tinyz Software Ltd" in _signer(old)
    honest = _member(pe_built["pe-version-bump"].new, "tinyz/tinyz.exe", tmp_path)
    assert "Tinyz Software Ltd" in _signer(honest)
    assert "wininet" not in _pe_imports(honest).lower()

    unsigned = _member(pe_built["pe-payload-unsigned"].new, "tinyz/tinyz.exe", tmp_path)
    other = _member(pe_built["pe-payload-other-signer"].new, "tinyz/tinyz.exe", tmp_path)
    assert _signer(unsigned) == "unsigned"
    assert "Tinyz Software Limited" in _signer(other)
    for exe in (unsigned, other):
        imports = _pe_imports(exe)
        assert "wininet.dll" in imports.lower()
        for name in ("InternetOpenA", "InternetOpenUrlA", "VirtualAlloc", "CreateThread"):
            assert name in imports
        headers = _output("x86_64-w64-mingw32-objdump", "-h", str(exe))
        assert ".tzdata" in headers

    overlay = _member(pe_built["pe-overlay-appended"].new, "tinyz/tinyz.exe", tmp_path)
    assert overlay.read_bytes().startswith(old.read_bytes())
    assert len(overlay.read_bytes()) - len(old.read_bytes()) > 64 * 1024
    assert _signer(overlay) == "invalid"
