"""The diff on Reports built in code: every producer's output shape, no artifact needed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from finalexam.diffing.engine import diff_reports
from finalexam.diffing.model import ReleaseDiff
from finalexam.diffing.versions import bump, compare
from finalexam.model import (
    Artifact,
    Component,
    Dependency,
    Evidence,
    FileRecord,
    FileType,
    Finding,
    FindingKind,
    Indicator,
    Location,
    Report,
    Severity,
    short_hash,
)


def report(
    name: str,
    *,
    files: Mapping[str, str] | None = None,
    binaries: Sequence[Mapping[str, Any]] = (),
    findings: Sequence[Finding] = (),
    components: Sequence[Component] = (),
    indicators: Sequence[Indicator] = (),
    version: str | None = None,
) -> Report:
    records = tuple(
        FileRecord(
            Location((name, path)),
            len(sha),
            sha.ljust(64, "0"),
            "",
            FileType.ELF if path.endswith((".so", ".dll")) else FileType.SCRIPT,
        )
        for path, sha in (files or {}).items()
    )
    return Report(
        artifact=Artifact(name, name, short_hash(name, repr(files), length=64), 1, "zip", version),
        tool_version="0",
        files=records,
        components=tuple(components),
        findings=tuple(findings),
        indicators=tuple(indicators),
        binaries=tuple(binaries),
    )


def kinds(diff: ReleaseDiff) -> dict[str, Severity]:
    out: dict[str, Severity] = {}
    for change in diff.changes:
        out[change.kind] = max(
            out.get(change.kind, Severity.INFO), change.severity, key=lambda s: s.rank
        )
    return out


def binary(name: str, **fields: Any) -> dict[str, Any]:
    return {"location": f"{name}!/bin/agent.dll", "format": "pe", **fields}


def test_identical_reports_have_no_risk() -> None:
    files = {"a.py": "1", "b.py": "2"}
    diff = diff_reports(report("x-1.0.zip", files=files), report("x-1.1.zip", files=files))
    assert diff.risk == "none" and not diff.flagged
    assert diff.stats["files_unchanged"] == 2


def test_signed_dll_gains_networking_and_loses_signature() -> None:
    old = report(
        "agent-1.0.zip",
        binaries=[
            binary(
                "agent-1.0.zip",
                signature={"signed": True, "signer": "Vendor Inc"},
                hardening={"nx": True, "relro": "full", "canary": True},
                capabilities=[{"name": "read file", "evidence": "ReadFile"}],
            )
        ],
    )
    new = report(
        "agent-1.1.zip",
        binaries=[
            binary(
                "agent-1.1.zip",
                signature={"signed": False},
                hardening={"nx": False, "relro": "partial", "canary": True},
                capabilities=[
                    {"name": "read file"},
                    {"name": "send HTTP request", "evidence": "WinHttpOpen"},
                ],
            )
        ],
    )
    diff = diff_reports(old, new)
    found = kinds(diff)
    assert found["signature-removed"] is Severity.HIGH
    assert found["capability-added"] is Severity.HIGH
    assert found["hardening-regressed"] is Severity.MEDIUM
    assert {c.evidence["property"] for c in diff.changes if c.kind == "hardening-regressed"} == {
        "nx",
        "relro",
    }
    assert all(c.location == "bin/agent.dll" for c in diff.changes if c.kind != "file-added")
    assert diff.risk == "high" and diff.flagged


def test_signer_change_is_high() -> None:
    old = report("a-1.zip", binaries=[binary("a-1.zip", signature={"signer": "Vendor Inc"})])
    new = report("a-2.zip", binaries=[binary("a-2.zip", signature={"signer": "Someone Else"})])
    assert kinds(diff_reports(old, new))["signer-changed"] is Severity.HIGH


def test_new_and_fixed_vulnerabilities_new_secret_new_behaviour() -> None:
    def vuln(rule: str, version: str, severity: Severity) -> Finding:
        return Finding(
            FindingKind.VULNERABILITY,
            rule,
            severity,
            rule,
            "m",
            None,
            "osv",
            component=f"pkg:pypi/lib@{version}",
        )

    secret = Finding(
        FindingKind.SECRET,
        "secret.token",
        Severity.HIGH,
        "token",
        "m",
        Location(("x-2.zip", "conf.py")),
        "secrets",
        evidence=Evidence(snippet="ghp_****"),
    )
    hook = Finding(
        FindingKind.BEHAVIOR,
        "behavior.download-exec",
        Severity.MEDIUM,
        "dl+exec",
        "m",
        Location(("x-2.zip", "setup.py")),
        "behavior",
    )
    old = report(
        "x-1.zip",
        findings=[vuln("GHSA-old", "1", Severity.HIGH), vuln("GHSA-kept", "1", Severity.LOW)],
    )
    new = report(
        "x-2.zip",
        findings=[
            vuln("GHSA-kept", "2", Severity.LOW),
            vuln("GHSA-new", "2", Severity.CRITICAL),
            secret,
            hook,
        ],
    )
    found = kinds(diff_reports(old, new))
    assert found["vulnerability-added"] is Severity.CRITICAL
    assert found["vulnerability-fixed"] is Severity.INFO
    assert found["secret-added"] is Severity.HIGH
    assert found["behavior-added"] is Severity.MEDIUM
    diff = diff_reports(old, new)
    assert [c.title for c in diff.changes if c.kind == "vulnerability-added"] == ["GHSA-new"]


def test_same_finding_at_same_relative_place_is_not_new() -> None:
    def at(name: str) -> Finding:
        return Finding(
            FindingKind.BEHAVIOR,
            "behavior.x",
            Severity.HIGH,
            "t",
            "m",
            Location((name, "lib/a.js")),
            "behavior",
        )

    assert (
        diff_reports(
            report("a-1.tgz", findings=[at("a-1.tgz")]), report("a-2.tgz", findings=[at("a-2.tgz")])
        ).risk
        == "none"
    )


def test_components_versions_and_dependencies() -> None:
    def comp(name: str, version: str, eco: str = "PyPI", deps: Sequence[str] = ()) -> Component:
        return Component(
            name,
            version,
            eco,
            purl=f"pkg:{eco.lower()}/{name}@{version}",
            locations=(Location(("app.whl", "app-1.dist-info/METADATA")),),
            dependencies=tuple(Dependency(d) for d in deps),
        )

    old = report(
        "app-1.0.0.whl",
        components=[
            comp("app", "1.0.0", deps=["requests"]),
            comp("six", "1.9"),
            comp("left", "2.0.0", "npm"),
        ],
    )
    new = report(
        "app-1.0.1.whl",
        components=[
            comp("app", "1.0.1", deps=["requests", "evil"]),
            comp("six", "1.10"),
            comp("left", "1.9.0", "npm"),
            comp("extra", "1.0"),
        ],
    )
    diff = diff_reports(old, new)
    by_kind = {c.kind: c for c in diff.changes}
    assert "1.9 → 1.10" in by_kind["component-upgraded"].title or any(
        c.kind == "component-upgraded" and "six" in c.title for c in diff.changes
    )
    assert by_kind["component-downgraded"].severity is Severity.LOW
    assert by_kind["component-added"].severity is Severity.INFO
    added = [c for c in diff.changes if c.kind == "dependency-added"]
    assert [c.evidence["dependency"] for c in added] == ["evil"]
    assert added[0].severity is Severity.MEDIUM  # a patch release that gains a dependency
    assert diff.old_version == "1.0.0" and diff.new_version == "1.0.1"


def test_endpoint_severity_depends_on_where_it_appears() -> None:
    def ind(value: str, path: str, name: str) -> Indicator:
        return Indicator("url", value, "network", (Location((name, path)),))

    old = report("w-1.zip", indicators=[ind("https://api.vendor.io/v1", "w/client.py", "w-1.zip")])
    new = report(
        "w-2.zip",
        indicators=[
            ind("https://api.vendor.io/v2", "w/client.py", "w-2.zip"),  # same host: not new
            ind("https://collect.evil.io/x", "w/telemetry.py", "w-2.zip"),
            ind("https://blog.somewhere.org/post", "README.md", "w-2.zip"),
            ind("https://github.com/x/y/issues/1", "w/util.py", "w-2.zip"),
            ind("http://10.0.0.5/", "w/dev.py", "w-2.zip"),
        ],
    )
    diff = diff_reports(old, new)
    hosts = {c.evidence["host"]: c.severity for c in diff.changes if c.kind == "endpoint-added"}
    assert hosts == {
        "collect.evil.io": Severity.MEDIUM,
        "blog.somewhere.org": Severity.INFO,
        "github.com": Severity.INFO,
        "10.0.0.5": Severity.INFO,
    }
    allowed = diff_reports(old, new, endpoint_allowlist=["*.evil.io"])
    assert allowed.risk == "none"


def test_version_unchanged_while_code_changed() -> None:
    old = report("tool-2.0.zip", files={"tool/main.py": "aa", "lib/x.so": "bb"}, version="2.0")
    new = report("tool-2.0.zip", files={"tool/main.py": "ab", "lib/x.so": "bb"}, version="2.0")
    diff = diff_reports(old, new)
    change = next(c for c in diff.changes if c.kind == "version-unchanged-code-changed")
    assert change.severity is Severity.HIGH and change.evidence["files"] == ["tool/main.py"]


def test_files_moved_and_renamed_with_version_and_notes_without_inventory() -> None:
    old = report("p-1.0.whl", files={"p/a.py": "11", "p-1.0.dist-info/METADATA": "m1"})
    new = report("p-1.1.whl", files={"p/sub/a.py": "11", "p-1.1.dist-info/METADATA": "m2"})
    diff = diff_reports(old, new)
    assert diff.stats["files_moved"] == 1 and diff.stats["files_modified"] == 1
    moved = next(c for c in diff.changes if c.kind == "file-moved")
    assert moved.location == "p/sub/a.py" and moved.evidence["from"] == "p/a.py"
    bare = diff_reports(report("p-1.0.whl"), report("p-1.1.whl"))
    assert any("no file inventory" in note for note in bare.notes)


def test_version_comparison() -> None:
    assert compare("1.9", "1.10", "PyPI") == 1
    assert compare("2.0.0rc1", "2.0.0", "PyPI") == 1
    assert compare("1.10.0", "1.9.0", "npm") == -1
    assert compare("1.0.0-beta", "1.0.0", "npm") == 1
    assert bump("1.4.0", "1.4.44-liberty-2") == "patch"
    assert bump("5.5.3", "6.6.6") == "major"
    assert bump("1.2", "1.2") == "none"
    assert bump(None, "1") == "unknown"


def test_reports_without_inventory_align_versioned_top_directory() -> None:
    def at(name: str, version: str) -> Finding:
        return Finding(
            FindingKind.BEHAVIOR,
            "behavior.x",
            Severity.HIGH,
            "t",
            "m",
            Location((name, f"s-{version}/setup.py")),
            "behavior",
        )

    old = report(
        "s-1.0.tar.gz",
        findings=[at("s-1.0.tar.gz", "1.0")],
        indicators=[
            Indicator("url", "https://a.io", "n", (Location(("s-1.0.tar.gz", "s-1.0/a.py")),))
        ],
    )
    new = report(
        "s-1.1.tar.gz",
        findings=[at("s-1.1.tar.gz", "1.1")],
        indicators=[
            Indicator("url", "https://a.io", "n", (Location(("s-1.1.tar.gz", "s-1.1/a.py")),))
        ],
    )
    assert diff_reports(old, new).risk == "none"


def test_endpoint_only_in_tests_examples_or_docs_is_low() -> None:
    """Where code sits is decided by finalexam.context, as for every finding of the exam."""

    def ind(value: str, path: str) -> Indicator:
        return Indicator("url", value, "network", (Location(("w-2.zip", path)),))

    old = report("w-1.zip", files={"w/client.py": "aa"})
    new = report(
        "w-2.zip",
        indicators=[
            ind("https://a.evil.io/", "w/tests/test_net.py"),
            ind("https://b.evil.io/", "w/examples/demo.py"),
            ind("https://c.evil.io/", "w/test_client.py"),  # a test by its name
            ind("https://d.evil.io/", "w/unit-tests/helpers.py"),
            ind("https://e.evil.io/", "w/tests/setup.py"),  # an installer runs wherever it is
            ind("https://f.evil.io/", "w/scripts/postinstall.js"),  # tooling may be a hook
            ind("https://g.evil.io/", "w/client.py"),
        ],
    )
    hosts = {
        c.evidence["host"]: (c.severity, c.evidence["reason"])
        for c in diff_reports(old, new).changes
        if c.kind == "endpoint-added"
    }
    low = (Severity.LOW, "in tests or examples only")
    medium = (Severity.MEDIUM, "in code")
    assert hosts == {
        "a.evil.io": low,
        "b.evil.io": low,
        "c.evil.io": low,
        "d.evil.io": low,
        "e.evil.io": medium,
        "f.evil.io": medium,
        "g.evil.io": medium,
    }


def test_dependency_purls_name_scoped_packages_as_their_manifests_do() -> None:
    """``pkg:npm/%40scope/name`` is ``@scope/name``, read by the package-url library."""

    def app(version: str, deps: Sequence[str]) -> Component:
        return Component(
            "app",
            version,
            "npm",
            purl=f"pkg:npm/app@{version}",
            locations=(Location(("app.tgz", "package/package.json")),),
            dependencies=tuple(Dependency(d) for d in deps),
        )

    old = report("app-1.0.0.tgz", components=[app("1.0.0", ["pkg:npm/%40types/node@20.1.0"])])
    new = report(
        "app-1.0.1.tgz",
        components=[app("1.0.1", ["pkg:npm/%40types/node@20.2.0", "pkg:npm/%40evil/loader@1.0.0"])],
    )
    added = [
        c.evidence["dependency"]
        for c in diff_reports(old, new).changes
        if c.kind == "dependency-added"
    ]
    assert added == ["@evil/loader"]
