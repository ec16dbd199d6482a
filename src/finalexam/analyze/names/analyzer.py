"""The name plug-in: declared names and dependencies checked against popular names, URL
dependencies, dependency-confusion versions, top-level packages that shadow popular ones."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from finalexam.analyze.base import Analysis, Carried, ExamState
from finalexam.analyze.names import NAME
from finalexam.analyze.names.similarity import (
    MISSPELLED,
    Squat,
    check_name,
    normalize,
    popular,
    severity_of,
    typing_slip,
)
from finalexam.catalog.manifests import (
    GITHUB_SHORT,
    METADATA_NAME,
    METADATA_VERSION,
    REQUIRES_URL,
    URL_SPEC,
    requires_txt,
    setup_py_requires,
)
from finalexam.catalog.ownership import installed_by
from finalexam.config import Config
from finalexam.context import path_context
from finalexam.formats import jsonsafe
from finalexam.model import (
    Component,
    Confidence,
    Evidence,
    FileContext,
    FileEntry,
    Finding,
    FindingKind,
    Issue,
    IssueKind,
    Location,
    Severity,
)
from finalexam.requirements import CATALOGERS
from finalexam.vuln.purl import ecosystem_for_purl, parse_purl

MAX_BYTES = 4 * 1024 * 1024


def _confusion_version(version: str) -> bool:
    """Versions like 99.0.0 or 9999.1: how dependency-confusion probes outbid internal ones."""
    head = version.split(".", 1)[0]
    if not head.isdigit():
        return False
    major = int(head)
    return major >= 99 and not 1990 <= major <= 2100 and not 19900101 <= major <= 21001231


@dataclass(frozen=True)
class _Declared:
    name: str
    ecosystem: str
    location: Location
    version: str | None


@dataclass(frozen=True)
class _TopLevel:
    """An import package a Python distribution installs at the top level."""

    package: str
    location: Location


@dataclass(frozen=True)
class _Subject:
    """A name to check: a package's own or one it depends on, and the OS package that
    installed it, if one did."""

    name: str
    ecosystem: str
    location: Location | None
    version: str | None
    is_dependency: bool
    installer: Component | None = None


@dataclass
class TyposquatAnalyzer:
    """Names declared in one file are checked against the whole exam in ``finish``: they
    travel there as carried results (per-file analysis may run in another process)."""

    config: Config
    name: str = NAME
    version = "1.0"
    wants = ("package.json", "PKG-INFO", "METADATA", "requires.txt", "setup.py", "__init__.py")
    requires: tuple[str, ...] = (CATALOGERS,)  # every component's name is checked in finish

    def accepts(self, entry: FileEntry) -> bool:
        name = entry.name
        if name == "package.json":
            return "node_modules/" not in entry.path
        if name == "requires.txt":
            return (
                entry.path.rsplit("/", 2)[-2].endswith(".egg-info") and entry.path.count("/") <= 3
            )
        if name == "setup.py":
            return entry.path.count("/") <= 1
        if name == "__init__.py":
            return _top_level_package(entry.path) is not None
        return name in ("PKG-INFO", "METADATA") and entry.path.count("/") <= 2

    def analyze(self, entry: FileEntry) -> Analysis:
        if entry.size > MAX_BYTES:  # no real manifest is this big: said, not skipped in silence
            message = f"{NAME} did not examine this file: larger than {MAX_BYTES} bytes"
            issue = Issue("analyze", entry.location, message, IssueKind.LIMIT, NAME)
            return Analysis(issues=[issue])
        text = entry.text()
        if entry.name == "package.json":
            return self._package_json(entry.location, text)
        if entry.name == "requires.txt":
            return self._dependencies(entry.location, requires_txt(text))
        if entry.name == "setup.py":
            return self._dependencies(entry.location, setup_py_requires(text))
        if entry.name == "__init__.py":
            package = _top_level_package(entry.path)
            if package is None:
                return Analysis()
            return Analysis(carried=[Carried(NAME, _TopLevel(package, entry.location))])
        return self._python_metadata(entry.location, text)

    def _dependencies(self, location: Location, names: Iterable[str]) -> Analysis:
        """Declared dependencies (egg-info requires.txt, setup.py install_requires) checked
        for typosquats right away: the catalogers only read Requires-Dist."""
        analysis = Analysis()
        for dependency in sorted(set(names)):
            squat = check_name(dependency, "PyPI")
            if squat is not None:
                analysis.findings.append(_squat_finding(squat, "PyPI", location, True))
        return analysis

    def _python_metadata(self, location: Location, text: str) -> Analysis:
        analysis = Analysis()
        head = text.split("\n\n", 1)[0]
        name = METADATA_NAME.search(head)
        version = METADATA_VERSION.search(head)
        if name:
            declared = _Declared(
                name.group(1), "PyPI", location, version.group(1) if version else None
            )
            analysis.carried.append(Carried(NAME, declared))
        for match in REQUIRES_URL.finditer(head):
            analysis.findings.append(
                _dependency_by_url(location, match.group(1), match.group(2), head, match.start())
            )
        return analysis

    def _package_json(self, location: Location, text: str) -> Analysis:
        analysis = Analysis()
        document = jsonsafe.loads_object(text)
        if document is None:
            return analysis
        name = document.get("name")
        version = document.get("version")
        if isinstance(name, str):
            declared = _Declared(
                name, "npm", location, version if isinstance(version, str) else None
            )
            analysis.carried.append(Carried(NAME, declared))
        for section in ("dependencies", "optionalDependencies", "peerDependencies"):
            deps = document.get(section)
            if not isinstance(deps, dict):
                continue
            for dep, spec in sorted(deps.items()):
                if not isinstance(spec, str):
                    continue
                if URL_SPEC.match(spec) or (GITHUB_SHORT.match(spec) and "/" in spec):
                    offset = text.find(f'"{dep}"')
                    analysis.findings.append(
                        _dependency_by_url(location, dep, spec, text, max(offset, 0))
                    )
        return analysis

    def finish(self, state: ExamState) -> Analysis:
        analysis = Analysis()
        seen: set[tuple[str, str]] = set()
        carried = state.carried_by(NAME)
        all_declared = [c for c in carried if isinstance(c, _Declared)]
        subjects = [
            _Subject(d.name, d.ecosystem, d.location, d.version, False) for d in all_declared
        ]
        installers = installed_by(state.components)
        for component in state.components:
            if component.locations and all(
                path_context(where) is not FileContext.SHIPPED for where in component.locations
            ):
                continue  # fixtures of a test suite are not what the package ships
            if component.ecosystem in ("PyPI", "npm"):
                where = component.locations[0] if component.locations else None
                installer = installers.get(component.purl or "")
                subjects.append(
                    _Subject(
                        component.name, component.ecosystem, where, component.version, False,
                        installer,
                    )
                )  # fmt: skip
                for dependency in component.dependencies:
                    target = dependency.target
                    if target.startswith("pkg:"):
                        # Requires-Dist and package.json dependencies arrive as package URLs
                        purl = parse_purl(target)
                        if purl is None or ecosystem_for_purl(purl) != component.ecosystem:
                            continue
                        target = (
                            f"@{purl.namespace.lstrip('@')}/{purl.name}"
                            if purl.namespace
                            else purl.name
                        )
                    subjects.append(
                        _Subject(target, component.ecosystem, where, None, True, installer)
                    )
        # a Python project's own JavaScript front-end is named after the project (shap 0.54's
        # javascript/package.json is "shapjs"): that name was chosen on PyPI, not copied on npm
        python_names = {normalize(d.name, "PyPI") for d in all_declared if d.ecosystem == "PyPI"}
        for subject in subjects:
            name, ecosystem, location, version = (
                subject.name, subject.ecosystem, subject.location, subject.version
            )  # fmt: skip
            key = (normalize(name, ecosystem), ecosystem)
            if key in seen:
                continue
            own_name = not subject.is_dependency
            if ecosystem == "npm" and own_name and _front_end_of(name, python_names):
                continue
            seen.add(key)
            squat = check_name(name, ecosystem)
            if squat is not None:
                finding = _squat_finding(squat, ecosystem, location, subject.is_dependency)
                if subject.installer is not None:
                    finding = _installed_by_os(finding, subject.installer)
                analysis.findings.append(finding)
            if version and own_name and _confusion_version(version):
                analysis.findings.append(
                    Finding(
                        kind=FindingKind.BEHAVIOR,
                        rule_id="dependency-confusion-version",
                        severity=Severity.MEDIUM,
                        title="Version number made to outbid an internal package",
                        message=f"{name} {version}: versions like 99.0.0 or 999.0.0 are how "
                        "dependency-confusion packages win over private ones",
                        location=location,
                        found_by=NAME,
                        confidence=Confidence.MEDIUM,
                        evidence=Evidence(snippet=f"{name}=={version}"),
                        fingerprint_key=name,
                    )
                )
        top_level = [c for c in carried if isinstance(c, _TopLevel)]
        analysis.findings.extend(_shadowing(all_declared, top_level))
        return analysis


_JS_AFFIX = re.compile(r"^js-|-?js$")


def _front_end_of(npm_name: str, python_names: set[str]) -> bool:
    """The npm name is a Python project's own, bare or with a ``js`` affix (``shapjs``)."""
    name = normalize(npm_name, "PyPI")
    return name in python_names or _JS_AFFIX.sub("", name) in python_names


def _shadowing(declared: Sequence[_Declared], top_level: Sequence[_TopLevel]) -> list[Finding]:
    """A Python distribution that installs a top-level package named after one of the most
    popular *other* distributions: ``import requests`` would then run its code."""
    own = {normalize(d.name, "PyPI") for d in declared if d.ecosystem == "PyPI"}
    if not own:
        return []
    targets = {normalize(n, "PyPI"): n for n in popular("PyPI")[:SHADOW_TARGETS]}
    findings = []
    for package, location in sorted({(t.package, t.location) for t in top_level}):
        key = normalize(package, "PyPI")
        if key not in targets or key in own or any(o.startswith(key) for o in own):
            continue
        findings.append(
            Finding(
                kind=FindingKind.BEHAVIOR,
                rule_id="shadows-popular-package",
                severity=Severity.HIGH,
                title=f"Installs a top-level package named like {targets[key]!r}",
                message=f"This distribution ({', '.join(sorted(own))}) ships the import "
                f"package {package!r}, the name of the popular distribution "
                f"{targets[key]!r}: installing it replaces or hijacks that library",
                location=location,
                found_by=NAME,
                confidence=Confidence.MEDIUM,
                evidence=Evidence(snippet=location.chain[-1][-160:]),
                fingerprint_key=package,
            )
        )
    return findings


SHADOW_TARGETS = 300
_LAYOUT_DIRS = frozenset({"src", "lib"})


def _top_level_package(path: str) -> str | None:
    """``pkg`` of ``pkg/__init__.py`` (wheel), ``name-1.0/pkg/__init__.py`` or
    ``name-1.0/src/pkg/__init__.py`` (sdist); None deeper down (vendored copies)."""
    parts = path.split("/")
    if len(parts) == 2:
        return parts[0]
    if len(parts) == 3 and "-" in parts[0]:
        return parts[1]
    if len(parts) == 4 and "-" in parts[0] and parts[1] in _LAYOUT_DIRS:
        return parts[2]
    return None


def _installed_by_os(finding: Finding, installer: Component) -> Finding:
    """An OS package installed the name: apt, dnf or apk installs it by the OS package's own
    name, never by this one, so a lookalike misleads no registry user. Reported with the
    distribution's context, as language advisories on what it installed are (docs/policy.md)."""
    details = {
        **finding.evidence.details,
        "installed_by": {
            "package": installer.name,
            "version": installer.version,
            "ecosystem": installer.ecosystem,
        },
    }
    return replace(
        finding,
        context=FileContext.DISTRO,
        message=f"{finding.message}; installed by the {installer.ecosystem} package "
        f"{installer.name}, which is what its users install",
        evidence=replace(finding.evidence, details=details),
    )


def _squat_finding(
    squat: Squat, ecosystem: str, location: Location | None, is_dependency: bool
) -> Finding:
    severity = severity_of(squat)
    what = "depends on" if is_dependency else "is named"
    if is_dependency and severity is Severity.HIGH:
        # a lead, not proof: honest packages depend on new names one edit from popular ones
        # (httpx2 next to httpx); the package's own name, its code or a homoglyph is the proof
        severity = Severity.MEDIUM
    if is_dependency and (squat.technique == MISSPELLED or typing_slip(squat)):
        # a misspelled popular name does not even install unless someone registered the
        # misspelling: an honest package never ships that (0 of the benign sets' dependencies)
        severity = Severity.HIGH
    return Finding(
        kind=FindingKind.BEHAVIOR,
        rule_id="typosquat-name",
        severity=severity,
        title=f"Name imitates the popular {ecosystem} package {squat.target!r}",
        message=f"The package {what} {squat.name!r}, a {squat.technique} variant of "
        f"{squat.target!r} (popularity rank {squat.rank + 1})",
        location=location,
        found_by=NAME,
        confidence=Confidence.HIGH if severity.rank >= Severity.HIGH.rank else Confidence.MEDIUM,
        evidence=Evidence(
            snippet=squat.name,
            details={"target": squat.target, "technique": squat.technique, "rank": squat.rank + 1},
        ),
        fingerprint_key=f"{ecosystem}:{squat.name}",
    )


def _dependency_by_url(location: Location, dep: str, spec: str, text: str, offset: int) -> Finding:
    return Finding(
        kind=FindingKind.BEHAVIOR,
        rule_id="dependency-by-url",
        severity=Severity.MEDIUM,
        title="Dependency fetched from a URL or git instead of the registry",
        message=f"{dep} comes from {spec}: it bypasses the registry, its pinning and its "
        "malware takedowns",
        location=location,
        found_by=NAME,
        confidence=Confidence.HIGH,
        evidence=Evidence(snippet=f"{dep} @ {spec}"[:160], line=text.count("\n", 0, offset) + 1),
        fingerprint_key=dep,
    )
