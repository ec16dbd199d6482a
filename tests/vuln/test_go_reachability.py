"""Go advisories against the functions real Go binaries link (their pclntab name table)."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest

from binbuild import build_go
from conftest import require_shared
from finalexam.analyze.vulnerabilities import VulnerabilityAnalyzer
from finalexam.config import Config
from finalexam.exam import CATALOGERS, run_exam
from finalexam.formats.gopclntab import go_symbols, split_name
from finalexam.model import Finding, Severity
from finalexam.vuln.update import update_database

GO = shutil.which("go")
needs_go = pytest.mark.skipif(GO is None, reason="go not installed (.ci/system-packages)")

# Real GO- records for the standard library of Debian's go1.19.8: the first lists functions
# of html/template, the second of net/http.
TEMPLATE_ADVISORY, HTTP_ADVISORY = "GO-2023-1751", "GO-2023-1878"

PROGRAMS = {
    "template": (
        'package main\n\nimport (\n\t"html/template"\n\t"os"\n)\n\n'
        'func main() {\n\tt := template.Must(template.New("x").Parse("{{.}}"))\n'
        '\t_ = t.Execute(os.Stdout, "hi")\n}\n'
    ),
    "hello": 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("hello") }\n',
}


@pytest.fixture(scope="module")
def binaries(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    if GO is None:
        pytest.skip("go not installed")
    root = tmp_path_factory.mktemp("go")
    built: dict[str, Path] = {}
    for name, source in PROGRAMS.items():
        for flavour, flags in (("", ()), ("-stripped", ("-ldflags=-s -w",))):
            built[f"{name}{flavour}"] = build_go(root, name, source, flags, f"{name}{flavour}")
    # The same program with its pclntab header broken: the functions cannot be known.
    data = bytearray(built["hello"].read_bytes())
    for magic in (b"\xf0\xff\xff\xff\x00\x00", b"\xf1\xff\xff\xff\x00\x00"):
        at = data.find(magic)
        while at >= 0:
            data[at : at + 4] = b"\x00\x00\x00\x00"
            at = data.find(magic, at + 1)
    garbled = root / "hello-garbled"
    garbled.write_bytes(bytes(data))
    built["hello-garbled"] = garbled
    return built


@pytest.fixture(scope="module")
def go_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    records = tmp_path_factory.mktemp("go-records")
    with zipfile.ZipFile(require_shared() / "Go" / "all.zip") as archive:
        for record_id in (TEMPLATE_ADVISORY, HTTP_ADVISORY):
            (records / f"{record_id}.json").write_bytes(archive.read(f"{record_id}.json"))
    path = tmp_path_factory.mktemp("go-db") / "osv.sqlite3"
    update_database(path, [str(records)])
    return path


def stdlib_findings(binary: Path, db: Path) -> dict[str, Finding]:
    report = run_exam(
        binary, Config(db=str(db)), catalogers=CATALOGERS, analyzers=(VulnerabilityAnalyzer,)
    )
    stdlib = next(c for c in report.components if c.name == "stdlib")
    assert stdlib.version == "1.19.8", "the tests' advisories are chosen for Debian's go1.19.8"
    return {f.rule_id: f for f in report.findings if f.component == stdlib.purl}


@needs_go
@pytest.mark.parametrize("name", ["template", "template-stripped"])
def test_linked_functions_are_reachable_others_are_not(
    name: str, binaries: dict[str, Path], go_db: Path
) -> None:
    findings = stdlib_findings(binaries[name], go_db)
    template = findings[TEMPLATE_ADVISORY]
    reach = template.evidence.details["reachability"]
    assert reach["reachable"] == "reachable"
    assert "html/template.Template.Execute" in reach["symbols"]
    assert template.severity is Severity.UNKNOWN  # GO- records carry no rating
    http = findings[HTTP_ADVISORY]  # the program links no HTTP client
    assert http.evidence.details["reachability"]["reachable"] == "not-reachable"
    assert "net/http.Client.Do" in http.evidence.details["reachability"]["symbols"]
    assert http.severity is Severity.LOW
    assert http.evidence.details["severity_if_reachable"] == "unknown"
    assert http.title.startswith("not reachable: ")
    assert http.fixed  # still reported with its fix


@needs_go
def test_unreachable_advisories_do_not_block(binaries: dict[str, Path], go_db: Path) -> None:
    findings = stdlib_findings(binaries["hello"], go_db)
    assert {f.evidence.details["reachability"]["reachable"] for f in findings.values()} == {
        "not-reachable"
    }
    assert {f.severity for f in findings.values()} == {Severity.LOW}
    report = run_exam(
        binaries["hello"],
        Config(db=str(go_db)),
        catalogers=CATALOGERS,
        analyzers=(VulnerabilityAnalyzer,),
    )
    assert report.verdict is not None
    assert not any("vulnerability" in v.rule for v in report.verdict.violations)


@needs_go
def test_unknown_symbols_keep_the_advisory(binaries: dict[str, Path], go_db: Path) -> None:
    assert go_symbols(binaries["hello-garbled"].read_bytes()) is None
    findings = stdlib_findings(binaries["hello-garbled"], go_db)
    assert set(findings) == {TEMPLATE_ADVISORY, HTTP_ADVISORY}
    for finding in findings.values():
        assert finding.evidence.details["reachability"]["reachable"] == "unknown"
        assert finding.severity is Severity.UNKNOWN
        assert not finding.title.startswith("not reachable")


@needs_go
def test_symbol_table_of_a_real_binary(binaries: dict[str, Path]) -> None:
    symbols = go_symbols(binaries["template-stripped"].read_bytes())
    assert symbols is not None
    assert symbols.has("html/template", "Template.Execute")
    assert symbols.has("main", "main")
    assert "net/http" not in symbols.packages


@pytest.mark.parametrize(
    ("function", "expected"),
    [
        ("net/http.(*Server).Serve", ("net/http", "Server.Serve")),
        ("net/http.Get", ("net/http", "Get")),
        ("gopkg.in/yaml%2ev2.Unmarshal", ("gopkg.in/yaml.v2", "Unmarshal")),
        ("example.com/m/p.Map[...]", ("example.com/m/p", "Map")),
        ("example.com/m/p.(*Tree[go.shape.int]).Insert", ("example.com/m/p", "Tree.Insert")),
        ("math/big.nat.divRecursiveStep", ("math/big", "nat.divRecursiveStep")),
        ("main.main", ("main", "main")),
        ("type:.eq.[2]interface {}", None),
        ("go:buildid", None),
    ],
)
def test_function_names(function: str, expected: tuple[str, str] | None) -> None:
    assert split_name(function) == expected


def test_advisory_imports_as_published() -> None:
    with zipfile.ZipFile(require_shared() / "Go" / "all.zip") as archive:
        record = json.loads(archive.read(f"{HTTP_ADVISORY}.json"))
    (affected,) = [a for a in record["affected"] if a["package"]["name"] == "stdlib"]
    imports = affected["ecosystem_specific"]["imports"]
    assert imports[0]["path"] == "net/http" and "Client.Do" in imports[0]["symbols"]
