from __future__ import annotations

import hashlib
from pathlib import Path

from builders import gzip_bytes, tar_bytes, write, zip_bytes
from catalog_helpers import by_purl, entry, exam, run_cataloger
from finalexam.catalog.python import PythonCataloger, _pyc_version
from finalexam.model import Confidence, Relationship

METADATA = """Metadata-Version: 2.1
Name: Demo_App
Version: 2.0.1
Summary: A demo application
Author: Jane Doe
Author-email: Jane Doe <jane@example.org>
License: MIT
Classifier: License :: OSI Approved :: MIT License
Requires-Dist: requests (>=2.0)
Requires-Dist: colorama ; sys_platform == "win32"
Requires-Dist: pytest ; extra == "test"

Long description.
"""

VENDOR_TXT = "requests==2.31.0\nurllib3==1.26.17  # pinned\nsix==1.16.0\n"


def vendored_wheel() -> bytes:
    record = "\n".join(
        [
            "demo_app/__init__.py,sha256=x,1",
            "demo_app/_vendor/vendor.txt,sha256=x,1",
            "demo_app/_vendor/requests/__version__.py,sha256=x,1",
            "demo_app-2.0.1.dist-info/METADATA,,",
            "demo_app-2.0.1.dist-info/RECORD,,",
        ]
    )
    return zip_bytes(
        {
            "demo_app/__init__.py": "",
            "demo_app/_vendor/vendor.txt": VENDOR_TXT,
            "demo_app/_vendor/requests/__init__.py": "from .__version__ import __version__\n",
            "demo_app/_vendor/requests/__version__.py": '__title__ = "requests"\n'
            '__version__ = "2.31.0"\n',
            "demo_app/_vendor/attr/__init__.py": '__version__ = "23.1.0"\n',
            "demo_app-2.0.1.dist-info/METADATA": METADATA,
            "demo_app-2.0.1.dist-info/RECORD": record,
        }
    )


def test_wheel_with_vendored_libraries(tmp_path: Path) -> None:
    data = vendored_wheel()
    wheel = write(tmp_path / "demo_app-2.0.1-py3-none-any.whl", data)
    components = by_purl(exam(wheel).components)
    app = components["pkg:pypi/demo-app@2.0.1"]
    assert app.confidence is Confidence.HIGH
    assert app.licenses == ("MIT",)
    assert app.supplier == "Jane Doe"
    assert ("SHA-256", hashlib.sha256(data).hexdigest()) in app.hashes
    depends = {d.target: d for d in app.dependencies if d.kind is Relationship.DEPENDS_ON}
    assert set(depends) == {"pkg:pypi/requests", "pkg:pypi/colorama"}  # extras are optional
    assert depends["pkg:pypi/requests"].requirement == ">=2.0"
    contains = {d.target for d in app.dependencies if d.kind is Relationship.CONTAINS}
    assert "pkg:pypi/requests@2.31.0" in contains and "pkg:pypi/six@1.16.0" in contains

    requests = components["pkg:pypi/requests@2.31.0"]
    # Seen in vendor.txt and in its own __version__.py: one component, both locations.
    assert {str(loc).rsplit("!/", 1)[1] for loc in requests.locations} == {
        "demo_app/_vendor/vendor.txt",
        "demo_app/_vendor/requests/__version__.py",
    }
    assert requests.confidence is Confidence.MEDIUM
    attrs = components["pkg:pypi/attrs@23.1.0"]  # module "attr" is the "attrs" project
    assert attrs.confidence is Confidence.LOW
    assert "pkg:pypi/urllib3@1.26.17" in components


def test_egg_info_and_sdist_pkg_info(tmp_path: Path) -> None:
    pkg_info = "Metadata-Version: 1.2\nName: legacy\nVersion: 0.9\nLicense: BSD-3-Clause\n"
    sdist = gzip_bytes(
        tar_bytes(
            {
                "legacy-0.9/PKG-INFO": pkg_info,
                "legacy-0.9/legacy.egg-info/PKG-INFO": pkg_info,
                "legacy-0.9/setup.py": "",
            }
        )
    )
    target = write(tmp_path / "legacy-0.9.tar.gz", sdist)
    components = by_purl(exam(target).components)
    legacy = components["pkg:pypi/legacy@0.9"]
    assert legacy.licenses == ("BSD-3-Clause",)
    assert len(legacy.locations) == 2
    assert set(legacy.found_by) == {"python-egg-info", "python-sdist"}
    assert not legacy.declared  # the egg-info copy describes the code that is there


def test_pep440_versions_merge_and_unknown_license_is_dropped() -> None:
    cataloger = PythonCataloger()
    components = run_cataloger(
        cataloger,
        [
            entry(
                "x.zip!/a/_vendor/vendor.txt",
                "certifi==2023.07.22\nnot a requirement line\nloose>=1\n",
            ),
            entry("x.zip!/a/_vendor/certifi/__init__.py", '__version__ = "2023.07.22"\n'),
            entry(
                "x.zip!/b-1.0.dist-info/METADATA",
                "Name: b\nVersion: 1.0\nLicense: Some custom terms\n",
            ),
        ],
    )
    found = by_purl(components)
    assert set(found) == {"pkg:pypi/certifi@2023.7.22", "pkg:pypi/b@1.0"}
    assert found["pkg:pypi/b@1.0"].licenses == ()


def test_pyc_only_distribution() -> None:
    # A compiled module: marshalled constants, "__version__" as a name, "3.4.1" as a short
    # ASCII constant (type 'z' + one-byte length).
    pyc = b"\xa7\r\r\n" + b"\x00" * 12 + b"\xe3...\xda\x0b__version__z\x053.4.1N"
    assert _pyc_version(pyc) == "3.4.1"
    components = run_cataloger(
        PythonCataloger(),
        [
            entry("app.zip!/secretlib/__init__.pyc", pyc),
            entry("app.zip!/secretlib/sub/__init__.pyc", b"\x00"),
            entry("app.zip!/withsrc/__init__.pyc", pyc),
            entry("app.zip!/withsrc/__init__.py", "__version__ = '1'\n"),
        ],
    )
    assert [(c.name, c.version, c.confidence) for c in components] == [
        ("secretlib", "3.4.1", Confidence.LOW)
    ]


def test_broken_metadata_is_skipped_not_fatal() -> None:
    components = run_cataloger(
        PythonCataloger(),
        [
            entry("x.whl!/x-1.dist-info/METADATA", b"\xff\xfe garbage \x00\x00"),
            entry("x.whl!/x-1.dist-info/RECORD", b'"unterminated,\n'),
        ],
    )
    assert components == []


def test_vendored_dist_info_is_contained_by_its_host() -> None:
    record = "setuptools/_vendor/packaging-24.0.dist-info/METADATA,,\nsetuptools/__init__.py,,\n"
    components = by_purl(
        run_cataloger(
            PythonCataloger(),
            [
                entry(
                    "s.whl!/setuptools-70.0.0.dist-info/METADATA",
                    "Name: setuptools\nVersion: 70.0.0\n",
                ),
                entry("s.whl!/setuptools-70.0.0.dist-info/RECORD", record),
                entry(
                    "s.whl!/setuptools/_vendor/packaging-24.0.dist-info/METADATA",
                    "Name: packaging\nVersion: 24.0\n",
                ),
            ],
        )
    )
    host = components["pkg:pypi/setuptools@70.0.0"]
    assert [(d.target, d.kind) for d in host.dependencies] == [
        ("pkg:pypi/packaging@24.0", Relationship.CONTAINS)
    ]
    assert components["pkg:pypi/packaging@24.0"].confidence is Confidence.HIGH
