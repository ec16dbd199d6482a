from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from builders import write, zip_bytes
from finalexam.catalog import CATALOGERS
from finalexam.catalog.dotnet_pe import clean_version, make, version_strings
from finalexam.config import Config
from finalexam.exam import run_exam
from finalexam.model import Confidence

WINDRES = shutil.which("x86_64-w64-mingw32-windres")
LD = shutil.which("x86_64-w64-mingw32-ld")
needs_mingw = pytest.mark.skipif(
    WINDRES is None or LD is None, reason="binutils-mingw-w64-x86-64 not installed"
)

RC = """1 VERSIONINFO
FILEVERSION 13,0,3,27908
PRODUCTVERSION 13,0,3,0
BEGIN
  BLOCK "StringFileInfo"
  BEGIN
    BLOCK "040904b0"
    BEGIN
      VALUE "CompanyName", "Newtonsoft"
      VALUE "FileDescription", "Json.NET"
      VALUE "FileVersion", "13.0.3.27908"
      VALUE "OriginalFilename", "Newtonsoft.Json.dll"
      VALUE "ProductName", "Json.NET"
      VALUE "ProductVersion", "13.0.3+0a2e291c0d9c0c7675d445703e51750363a549ef"
    END
  END
  BLOCK "VarFileInfo"
  BEGIN
    VALUE "Translation", 0x409, 1200
  END
END
"""


@pytest.fixture(scope="module")
def dll(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    assert WINDRES is not None and LD is not None
    work = tmp_path_factory.mktemp("pe")
    (work / "ver.rc").write_text(RC)
    subprocess.run([WINDRES, "-O", "coff", "-o", "ver.o", "ver.rc"], cwd=work, check=True)
    subprocess.run([LD, "--dll", "-e", "0", "-o", "ver.dll", "ver.o"], cwd=work, check=True)
    return (work / "ver.dll").read_bytes()


def test_registered() -> None:
    assert make in CATALOGERS


@needs_mingw
def test_version_resource_of_a_real_dll(dll: bytes, tmp_path: Path) -> None:
    assert version_strings(dll)["CompanyName"] == "Newtonsoft"
    path = write(tmp_path / "app" / "Newtonsoft.Json.dll", dll)
    (component,) = run_exam(path.parent, Config(), catalogers=[make]).components
    assert (component.name, component.version, component.ecosystem) == (
        "Json.NET",
        "13.0.3",
        "generic",
    )
    assert component.purl == "pkg:generic/Json.NET@13.0.3"
    assert component.confidence == Confidence.LOW and component.supplier == "Newtonsoft"


@needs_mingw
def test_nuget_layout_gives_a_nuget_identity(dll: bytes, tmp_path: Path) -> None:
    nupkg = write(
        tmp_path / "newtonsoft.json.13.0.3.nupkg",
        zip_bytes({"lib/net6.0/Newtonsoft.Json.dll": dll}),
    )
    (component,) = run_exam(nupkg, Config(), catalogers=[make]).components
    assert (component.name, component.version, component.ecosystem, component.purl) == (
        "newtonsoft.json",
        "13.0.3",
        "NuGet",
        "pkg:nuget/newtonsoft.json@13.0.3",
    )
    folder = write(
        tmp_path
        / "home"
        / ".nuget"
        / "packages"
        / "newtonsoft.json"
        / "13.0.3"
        / "lib"
        / "net6.0"
        / "Newtonsoft.Json.dll",
        dll,
    )
    (component,) = run_exam(folder, Config(), catalogers=[make]).components
    assert component.ecosystem == "generic"  # a lone file: its folder is not part of the exam
    root = tmp_path / "home"
    names = {c.purl for c in run_exam(root, Config(), catalogers=[make]).components}
    assert names == {"pkg:nuget/newtonsoft.json@13.0.3"}


def test_not_a_pe_or_no_resource() -> None:
    assert version_strings(b"MZ" + b"\x00" * 100) == {}
    assert version_strings(b"") == {}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("13.0.3+0a2e291c", "13.0.3"),
        ("1, 2, 3, 4", "1.2.3.4"),
        ("8.0.0-rc.1.23419.4", "8.0.0-rc.1.23419.4"),
        ("unknown", None),
        ("", None),
    ],
)
def test_clean_version(text: str, expected: str | None) -> None:
    assert clean_version(text) == expected
