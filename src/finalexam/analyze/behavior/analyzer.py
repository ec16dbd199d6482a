"""Behaviour analyzer: what a package's code does at install, import and run time.

Per file, the rules in ``rules/behavior/`` give capability hits (can spawn a process, open a
socket, read files, evaluate code) and threat hits (reaches for SSH keys, browser profiles,
Discord tokens; downloads and executes; persists; ...). A threat forms a *risk* when the same
file also has one of the capabilities the rule ``needs`` (or needs none): that is the finding,
with a score. A threat without its capability stays ``low``; capabilities alone are ``info`` and
are only reported where code runs unasked (install hooks, ``.pth`` files, npm install scripts).

Install-time code is setup.py (all of it), setuptools command overrides anywhere, ``.pth``
lines that ``import``, gem ``extconf.rb``, ``binding.gyp`` and npm ``preinstall``/``install``/
``postinstall``/``prepare`` scripts together with the files they run (resolved in ``finish``).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from finalexam.analyze.base import Analysis, Carried, ExamState
from finalexam.analyze.behavior import NAME, obfuscation
from finalexam.analyze.behavior.engine import Hit, example_matches, rule_hits
from finalexam.analyze.behavior.facts import IMPORT, INSTALL, RUNTIME, Facts
from finalexam.analyze.behavior.javascript.bounded import bounded_javascript_facts
from finalexam.analyze.behavior.javascript.sources import html_scripts, inline_scripts
from finalexam.analyze.behavior.languages import SOURCE_NAMES, language_of
from finalexam.analyze.behavior.python.bounded import bounded_python_facts
from finalexam.analyze.behavior.python.compiled import compiled_facts, pyc_strings
from finalexam.analyze.behavior.rules import RULES_DIR, BehaviorRule, load_rules, rule_patterns
from finalexam.analyze.behavior.services import as_browsers_own, without_own_service
from finalexam.analyze.indicators.categories import classify
from finalexam.analyze.indicators.extract import extract
from finalexam.config import Config
from finalexam.context import json_strings
from finalexam.formats import jsonsafe
from finalexam.model import (
    Confidence,
    Evidence,
    FileEntry,
    FileType,
    Finding,
    FindingKind,
    Issue,
    IssueKind,
    Location,
    Severity,
)

__all__ = ["RULES_DIR", "BehaviorAnalyzer", "assess", "example_matches", "rule_patterns"]

# Bigger files are not read (an Issue says so); up to it the time budget bounds the work.
MAX_BYTES = 64 * 1024 * 1024
KEEP_FOR_INSTALL_BYTES = 512 * 1024  # small scripts kept until finish() knows install targets
NPM_INSTALL_SCRIPTS = ("preinstall", "install", "postinstall", "prepare", "prepublish")
HTML_SUFFIXES = (".html", ".htm", ".xhtml")  # read through their inline <script> elements
INSTALL_FILES = frozenset({"setup.py", "extconf.rb", "binding.gyp", "install.rb", "mkrf_conf.rb"})
# Endpoint categories that explain install-time network access (a registry download).
EXPLAINED = frozenset({"registry", "source-hosting", "docs", "well-known", "example", "loopback"})
_CONTEXT_RANK = {RUNTIME: 0, IMPORT: 1, INSTALL: 2}
_SEVERITY_SCORE = {
    Severity.INFO: 5,
    Severity.LOW: 20,
    Severity.MEDIUM: 45,
    Severity.HIGH: 70,
    Severity.CRITICAL: 90,
}
_LANG_OF_COMMAND = {
    "node": ("javascript", (".js", ".mjs", ".cjs")),
    "sh": ("shell", (".sh",)),
    "bash": ("shell", (".sh",)),
    "python": ("python", (".py",)),
    "python3": ("python", (".py",)),
}


def _min_severity(a: Severity, b: Severity) -> Severity:
    return a if a.rank <= b.rank else b


def endpoints_explained(text: str, language: str) -> bool:
    """Whether the file names URLs and every one is a registry, docs or well-known host (for
    JavaScript also a forge: npm installers fetch prebuilt binaries from release pages; a
    setup.py has no such need)."""
    explained = EXPLAINED if language == "javascript" else EXPLAINED - {"source-hosting"}
    found = [
        f for f in extract(text.encode("utf-8", "surrogatepass"), text=False) if f.kind == "url"
    ]
    return bool(found) and all(classify("url", f.value) in explained for f in found)


def assess(
    location: Location,
    hits: Sequence[Hit],
    *,
    fingerprint_key: str = "",
    origin: str = "",
    explained: bool = False,
) -> list[Finding]:
    """Turn one file's rule hits into findings: risks for threats, info for capabilities."""
    capabilities: dict[str, Hit] = {}
    for hit in hits:
        if hit.rule.kind == "capability" and hit.rule.capability:
            capabilities.setdefault(hit.rule.capability, hit)
    threats: dict[str, list[Hit]] = {}
    for hit in hits:
        if hit.rule.kind == "threat":
            threats.setdefault(hit.rule.id, []).append(hit)

    rated: list[tuple[BehaviorRule, Hit, Severity, bool, list[str]]] = []
    for group in threats.values():
        rule = group[0].rule
        best = max(group, key=lambda h: (_CONTEXT_RANK[h.context], -h.line))
        severity = rule.severity if best.context in (INSTALL, IMPORT) else rule.runtime_severity
        if explained and rule.explained_severity is not None:
            severity = _min_severity(severity, rule.explained_severity)
        enablers = sorted(n for n in rule.needs if n in capabilities)
        formed = not rule.needs or bool(enablers)
        if not formed:
            severity = _min_severity(severity, Severity.LOW)
        rated.append((rule, best, severity, formed, enablers))

    formed_count = sum(1 for r in rated if r[3])
    findings: list[Finding] = []
    for rule, best, severity, formed, enablers in rated:
        group = threats[rule.id]
        score = _SEVERITY_SCORE[severity]
        if formed:
            score += 5 * (formed_count - 1) + (5 if best.context == INSTALL else 0)
        score = min(score, 100)
        if not formed:
            confidence = Confidence.LOW
        elif best.context in (INSTALL, IMPORT) or severity is Severity.CRITICAL:
            confidence = Confidence.HIGH
        else:
            confidence = Confidence.MEDIUM
        kind = (
            FindingKind.MALICIOUS
            if severity is Severity.CRITICAL and confidence is Confidence.HIGH
            else FindingKind.BEHAVIOR
        )
        where = {INSTALL: "install-time", IMPORT: "import-time", RUNTIME: "library"}[best.context]
        because = (
            f"; with {', '.join(enablers)} capability in the same file"
            if enablers
            else ("" if formed else f"; no {'/'.join(rule.needs)} capability in the same file")
        )
        findings.append(
            Finding(
                kind=kind,
                rule_id=rule.id,
                severity=severity,
                title=rule.title,
                message=f"{rule.title} in {where} code{because}{origin}",
                location=location,
                found_by=NAME,
                confidence=confidence,
                evidence=Evidence(
                    snippet=best.snippet,
                    line=best.line,
                    details={
                        "rule_kind": "threat",
                        "context": best.context,
                        "risk": formed,
                        "score": score,
                        "capabilities": sorted(capabilities),
                        "lines": sorted({h.line for h in group})[:20],
                    },
                ),
                fingerprint_key=fingerprint_key,
            )
        )
    for capability in sorted(capabilities):
        install_hits = [h for h in hits if h.rule.capability == capability and h.context == INSTALL]
        if not install_hits:
            continue
        first = install_hits[0]
        findings.append(
            Finding(
                kind=FindingKind.BEHAVIOR,
                rule_id=first.rule.id,
                severity=Severity.INFO,
                title=first.rule.title + " at install time",
                message=f"{first.rule.title} in install-time code{origin}",
                location=location,
                found_by=NAME,
                confidence=Confidence.HIGH,
                evidence=Evidence(
                    snippet=first.snippet,
                    line=first.line,
                    details={
                        "rule_kind": "capability",
                        "context": INSTALL,
                        "capability": capability,
                    },
                ),
                fingerprint_key=fingerprint_key,
            )
        )
    return findings


def _pth_code(text: str) -> str:
    """The lines of a .pth file that Python executes at every start (those that import)."""
    return "\n".join(line for line in text.splitlines() if line.startswith(("import ", "import\t")))


@dataclass
class _NpmScripts:
    location: Location
    scripts: dict[str, str]
    main: str = "index.js"  # what `node .` runs


@dataclass(frozen=True)
class _Manifest:
    """An npm package.json: a package whose files finish() looks at."""

    location: Location
    entry_point: str | None = None  # the main, exports or bin file it names, if any


@dataclass(frozen=True)
class _HookCalls:
    """Functions of the package that setup.py's install commands call (module, function)."""

    setup_py: Location
    calls: frozenset[tuple[str, str]]


@dataclass(frozen=True)
class _Pending:
    """A package-scope threat whose capability was not in its own file."""

    package: tuple[str, ...]
    location: Location
    hit: Hit
    lines: tuple[int, ...]


@dataclass(frozen=True)
class _Capabilities:
    """Capabilities one file of a package showed (for risks formed across its files)."""

    package: tuple[str, ...]
    names: frozenset[str]


@dataclass(frozen=True)
class _Kept:
    """A small script kept until finish() knows which files npm install hooks run."""

    location: Location
    text: str
    language: str


def _package_notes(location: Location, hits: Sequence[Hit]) -> list[Carried]:
    package = package_of(location)
    found = frozenset(
        h.rule.capability for h in hits if h.rule.kind == "capability" and h.rule.capability
    )
    notes = [Carried(NAME, _Capabilities(package, found))] if found else []
    notes += [
        Carried(NAME, _Pending(package, location, hit, lines))
        for hit, lines in unformed_package_threats(hits)
    ]
    return notes


def package_of(location: Location) -> tuple[str, ...]:
    """The artifact a file belongs to: its location without the path inside the archive."""
    return tuple(location.chain[:-1]) or tuple(location.chain)


def unformed_package_threats(hits: Sequence[Hit]) -> list[tuple[Hit, tuple[int, ...]]]:
    """Package-scope threats of one file that no capability of the same file enables."""
    capabilities = {h.rule.capability for h in hits if h.rule.kind == "capability"}
    grouped: dict[str, list[Hit]] = {}
    for hit in hits:
        if hit.rule.kind == "threat" and hit.rule.package_scope and hit.rule.needs:
            grouped.setdefault(hit.rule.id, []).append(hit)
    found = []
    for group in grouped.values():
        if not any(need in capabilities for need in group[0].rule.needs):
            best = max(group, key=lambda h: (_CONTEXT_RANK[h.context], -h.line))
            found.append((best, tuple(sorted({h.line for h in group})[:20])))
    return found


def package_findings(
    pending: Iterable[_Pending], capabilities: dict[tuple[str, ...], set[str]]
) -> list[Finding]:
    """Risks formed across files: the threat in one file, its capability in another."""
    findings: list[Finding] = []
    for item in pending:
        rule = item.hit.rule
        enablers = sorted(n for n in rule.needs if n in capabilities.get(item.package, set()))
        if not enablers:
            continue
        severity = rule.runtime_severity
        findings.append(
            Finding(
                kind=FindingKind.BEHAVIOR,
                rule_id=rule.id,
                severity=severity,
                title=rule.title,
                message=f"{rule.title}; with {', '.join(enablers)} capability in another file "
                "of the same package",
                location=item.location,
                found_by=NAME,
                confidence=Confidence.MEDIUM,
                evidence=Evidence(
                    snippet=item.hit.snippet,
                    line=item.hit.line,
                    details={
                        "rule_kind": "threat",
                        "context": item.hit.context,
                        "risk": True,
                        "scope": "package",
                        "score": _SEVERITY_SCORE[severity],
                        "capabilities": enablers,
                        "lines": list(item.lines),
                    },
                ),
                fingerprint_key="package",
            )
        )
    return findings


def _a_program(name: str, language: str, text: str) -> bool:
    """A module that only runs as a program: a package's ``__main__.py`` (``python -m``), or
    a Python script without a module's suffix, run by its ``#!`` line (odfpy's
    ``odfimgimport``, a distribution's ``/usr/bin`` tools): no ``import`` can load it."""
    if name == "__main__.py":
        return True
    return language == "python" and text.startswith("#!") and "." not in name


@dataclass
class BehaviorAnalyzer:
    config: Config
    name: str = NAME
    version = "1.0"
    requires: tuple[str, ...] = ()
    wants = (  # scripts and sources of the languages read, install files, HTML, images
        "script",
        "pyc",
        "image",
        "package.json",
        *sorted(INSTALL_FILES),
        *(f"*{suffix}" for suffix in HTML_SUFFIXES),
        *SOURCE_NAMES,
    )
    rules: tuple[BehaviorRule, ...] = field(default_factory=load_rules)

    def accepts(self, entry: FileEntry) -> bool:
        if entry.file_type in (FileType.IMAGE, FileType.PYC, FileType.SCRIPT):
            return True
        name = entry.name.lower()
        named_as_code = (
            name == "package.json"
            or name in INSTALL_FILES
            or name.endswith((".pth", *HTML_SUFFIXES))
            or language_of(entry.path) is not None
        )
        # by its name, whatever its bytes look like: a NUL byte or a stray encoding does not
        # keep an interpreter from running a file, so it does not keep the exam from reading it
        return named_as_code and entry.file_type not in (FileType.ARCHIVE, FileType.EMPTY)

    def analyze(self, entry: FileEntry) -> Analysis:
        if entry.size > MAX_BYTES:
            message = f"behavior did not examine this file: larger than {MAX_BYTES} bytes"
            issue = Issue("analyze", entry.location, message, IssueKind.LIMIT, NAME)
            return Analysis(issues=[issue])
        if entry.file_type is FileType.IMAGE:
            return Analysis(findings=obfuscation.image_trailer(entry.location, bytes(entry.data)))
        if entry.file_type is FileType.PYC:
            return self._compiled(entry)
        name = entry.name.lower()
        text = entry.text()
        analysis = Analysis()
        if name == "package.json":
            analysis.merge(self._package_json(entry.location, text))
            return analysis
        language = language_of(entry.path, text[:200])
        if name.endswith(HTML_SUFFIXES):
            text, language = html_scripts(text), "javascript"
            if not text.strip():
                return analysis
        install_file = name in INSTALL_FILES
        if name.endswith(".pth"):
            code = _pth_code(text)
            if not code:
                return analysis
            text, language, install_file = code, "python", True
            analysis.findings.append(self._pth_finding(entry.location, code))
        if name == "binding.gyp":
            language = "any"
        if language is None:
            return analysis
        facts, why = bounded_facts(
            text, language, self.config.time_budget, install_file, entry.path
        )
        if facts is not None and not install_file and _a_program(name, language, text):
            facts = facts.as_program()
        if why is not None:
            kind, reason = why
            shown = {"python": "Python", "javascript": "JavaScript"}[language]
            message = f"behavior read this file as text only: {shown} source {reason}"
            analysis.issues.append(Issue("analyze", entry.location, message, kind, NAME))
        hits = rule_hits(
            text,
            language,
            self.rules,
            install_file=install_file,
            default_context=INSTALL if install_file else RUNTIME,
            facts=facts,
        )
        hits = without_own_service(entry.location, hits)
        explained = any(h.rule.explained_severity for h in hits) and endpoints_explained(
            text, language
        )
        found = assess(entry.location, hits, explained=explained)
        analysis.findings.extend(as_browsers_own(found))
        analysis.carried.extend(_package_notes(entry.location, hits))
        if name == "setup.py" and facts is not None and facts.command_overrides:
            analysis.findings.append(
                self._override_finding(entry.location, facts.command_overrides)
            )
            if facts.hook_calls:
                hook_calls = _HookCalls(entry.location, frozenset(facts.hook_calls))
                analysis.carried.append(Carried(NAME, hook_calls))
        # Tests, examples, docs and helper scripts keep their findings: whether one blocks is
        # the policy's decision from the file's context (finalexam.context), which also knows
        # whether shipped code imports or runs the file.
        analysis.findings.extend(obfuscation.inspect(entry.location, text, language))
        if language in ("javascript", "shell", "python") and entry.size <= KEEP_FOR_INSTALL_BYTES:
            # a script an npm install hook may run, read again as install-time code in finish()
            kept = _Kept(entry.location, text, language)
            analysis.carried.append(Carried(NAME, kept, cost=entry.size))
        return analysis

    def _compiled(self, entry: FileEntry) -> Analysis:
        """A shipped .pyc read through its string constants (never unmarshalled)."""
        constants = pyc_strings(bytes(entry.data))
        facts = compiled_facts(constants)
        text = "\n".join(constants)
        hits = rule_hits(text, "python", self.rules, facts=facts)
        analysis = Analysis(findings=assess(entry.location, hits, origin=" (compiled .pyc)"))
        analysis.carried.extend(_package_notes(entry.location, hits))
        return analysis

    def _pth_finding(self, location: Location, code: str) -> Finding:
        first = code.splitlines()[0]
        return Finding(
            kind=FindingKind.BEHAVIOR,
            rule_id="pth-executes-code",
            severity=Severity.LOW,
            title="A .pth file runs code at every Python start",
            message="Lines of this .pth file that start with 'import' are executed by site.py "
            "whenever the interpreter starts",
            location=location,
            found_by=NAME,
            confidence=Confidence.HIGH,
            evidence=Evidence(snippet=first[:160], line=1),
        )

    def _override_finding(self, location: Location, overrides: list[tuple[str, int]]) -> Finding:
        names = ", ".join(name for name, _ in overrides)
        return Finding(
            kind=FindingKind.BEHAVIOR,
            rule_id="setup-command-override",
            severity=Severity.INFO,
            title="setup.py overrides a setuptools command",
            message=f"Custom install/build commands run at install time: {names}",
            location=location,
            found_by=NAME,
            confidence=Confidence.HIGH,
            evidence=Evidence(snippet=f"class {overrides[0][0]}(...)", line=overrides[0][1]),
        )

    def _package_json(self, location: Location, text: str) -> Analysis:
        analysis = Analysis()
        document = jsonsafe.loads_object(text)
        if document is None:
            return analysis
        if isinstance(document.get("name"), str) and isinstance(document.get("version"), str):
            named = [document.get(key) for key in ("main", "exports", "bin")]
            entry = next((e for e in json_strings(named) if e.strip(" ./")), None)
            analysis.carried.append(Carried(NAME, _Manifest(location, entry)))
        scripts = document.get("scripts")
        if not isinstance(scripts, dict):
            return analysis
        install = {
            k: v for k, v in scripts.items() if k in NPM_INSTALL_SCRIPTS and isinstance(v, str)
        }
        if not install:
            return analysis
        main = document.get("main")
        main = main if isinstance(main, str) and main.strip() else "index.js"
        analysis.carried.append(Carried(NAME, _NpmScripts(location, install, main)))
        lines = text.splitlines()
        for hook, command in sorted(install.items()):
            line = next((i for i, t in enumerate(lines, 1) if f'"{hook}"' in t), 1)
            hits: list[Hit] = []
            # the command as a shell line, and the scripts it hands to node (node -e "...")
            sources = [("shell", command)]
            sources += [("javascript", script) for script in inline_scripts(command)]
            for language, source in sources:
                for hit in rule_hits(
                    source, language, self.rules, install_file=True, default_context=INSTALL
                ):
                    if all(h.rule.id != hit.rule.id for h in hits):
                        hits.append(Hit(hit.rule, line, INSTALL, f'"{hook}": {command}'[:160]))
            analysis.findings.extend(
                assess(location, hits, fingerprint_key=hook, origin=f" (npm {hook} script)")
            )
            analysis.findings.append(
                Finding(
                    kind=FindingKind.BEHAVIOR,
                    rule_id="npm-install-script",
                    severity=Severity.INFO,
                    title=f"npm {hook} script runs at install time",
                    message=f"package.json runs {command!r} when the package is installed",
                    location=location,
                    found_by=NAME,
                    confidence=Confidence.HIGH,
                    evidence=Evidence(snippet=f'"{hook}": "{command}"'[:160], line=line),
                    fingerprint_key=hook,
                )
            )
        return analysis

    def finish(self, state: ExamState) -> Analysis:
        """Re-read as install-time code the files npm install scripts run and the package
        functions setup.py's install commands call; form the risks that span files."""
        analysis = Analysis()
        carried = state.carried_by(NAME)
        kept = {k.location: k for k in carried if isinstance(k, _Kept)}
        for package in (c for c in carried if isinstance(c, _NpmScripts)):
            for hook, command in sorted(package.scripts.items()):
                for target in sorted(set(_script_targets(command))):
                    if target in (".", "./"):  # node . runs the package's main file
                        target = package.main
                    location = _sibling(package.location, target)
                    script = kept.get(location) or kept.get(
                        _sibling(package.location, target + ".js")
                    )
                    if script is None:
                        continue
                    facts, _ = bounded_facts(
                        script.text,
                        script.language,
                        self.config.time_budget,
                        True,
                        script.location.path,
                    )
                    hits = rule_hits(
                        script.text,
                        script.language,
                        self.rules,
                        install_file=True,
                        default_context=INSTALL,
                        facts=facts,
                    )
                    analysis.findings.extend(
                        _assess_kept(
                            script, hits, f"npm-{hook}", f" (run by the npm {hook} script)"
                        )
                    )
        for hooks in (c for c in carried if isinstance(c, _HookCalls)):
            analysis.findings.extend(self._hook_functions(hooks, kept))
        capabilities: dict[tuple[str, ...], set[str]] = {}
        for note in carried:
            if isinstance(note, _Capabilities):
                capabilities.setdefault(note.package, set()).update(note.names)
        pending = [c for c in carried if isinstance(c, _Pending)]
        analysis.findings.extend(as_browsers_own(package_findings(pending, capabilities)))
        for manifest in (c for c in carried if isinstance(c, _Manifest)):
            finding = _without_code(manifest, state)
            if finding is not None:
                analysis.findings.append(finding)
        return analysis

    def _hook_functions(self, hooks: _HookCalls, kept: dict[Location, _Kept]) -> list[Finding]:
        """The package's own functions that an install command calls, read as install-time
        code: ``from pkg.setup_helpers import post_install`` in setup.py moves the payload
        out of setup.py, not out of the install."""
        by_module: dict[Location, set[str]] = {}
        for module, function in sorted(hooks.calls):
            for relative in _module_files(module):
                location = _sibling(hooks.setup_py, relative)
                if location in kept:
                    by_module.setdefault(location, set()).add(function)
                    break
        findings: list[Finding] = []
        for location, functions in sorted(by_module.items(), key=lambda item: item[0].chain):
            script = kept[location]
            if script.language != "python":
                continue
            facts, _ = bounded_python_facts(
                script.text, self.config.time_budget, hook_functions=frozenset(functions)
            )
            hits = rule_hits(script.text, "python", self.rules, facts=facts)
            hits = [h for h in hits if h.context == INSTALL]
            origin = " (called by an install command of setup.py)"
            findings.extend(_assess_kept(script, hits, "setup-hook", origin))
        return findings


def bounded_facts(
    text: str, language: str, seconds: float, install_file: bool, path: str = ""
) -> tuple[Facts | None, tuple[IssueKind, str] | None]:
    """The facts of a source in a language with a reader, within the time budget; None for
    the other languages (read as text)."""
    if language == "python":
        return bounded_python_facts(text, seconds, install_file=install_file)
    if language == "javascript":
        return bounded_javascript_facts(text, seconds, install_file=install_file, path=path)
    return None, None


def _assess_kept(script: _Kept, hits: Sequence[Hit], key: str, origin: str) -> list[Finding]:
    """Findings of a kept file read again as install-time code."""
    explained = endpoints_explained(script.text, script.language)
    return assess(script.location, hits, fingerprint_key=key, origin=origin, explained=explained)


# what an npm package without code still ships: the manifest, docs, licences, dotfiles
_NOT_CODE = re.compile(
    r"(^|/)(\.[^/]*|[^/]*\.(md|markdown|txt|rst|yml|yaml)|(readme|license|licence|changelog|"
    r"history|authors|notice|copying)[^/]*)$",
    re.IGNORECASE,
)


def _without_code(manifest: _Manifest, state: ExamState) -> Finding | None:
    """An npm package that ships nothing but its manifest, docs and dotfiles: every dependent
    breaks on require (faker 6.6.6 removed all its code). Medium alone (npm's security holding
    packages are such shells, and the diff makes it high when the previous release had code);
    high when the manifest still names the code it no longer ships (faker's main index.js):
    a release that cannot be loaded."""
    package_json = manifest.location
    folder = package_json.path.rsplit("/", 1)[0] + "/" if "/" in package_json.path else ""
    chain = package_json.chain[:-1]
    shipped = [
        r.location.path[len(folder) :]
        for r in state.files
        if r.location.chain[:-1] == chain
        and r.location.path.startswith(folder)
        and r.location != package_json
    ]
    if any(not _NOT_CODE.search(path) for path in shipped):
        return None
    named = manifest.entry_point
    if named and _ships(state, _sibling(package_json, named)):
        # a subpath's manifest that points into the package's build (@reduxjs/toolkit's
        # query/react/package.json: "main": "../../dist/query/react/cjs/index.js"): its code
        # is the package's, shipped beside it
        return None
    return Finding(
        kind=FindingKind.BEHAVIOR,
        rule_id="sab-package-without-code",
        severity=Severity.HIGH if named else Severity.MEDIUM,
        title="Sabotage: the npm package ships no code",
        message="Besides package.json it holds only documentation and dotfiles: requiring it "
        "fails, so every package that depends on it breaks"
        + (f" (its manifest still names {named!r})" if named else ""),
        location=package_json,
        found_by=NAME,
        confidence=Confidence.HIGH if named else Confidence.MEDIUM,
        evidence=Evidence(snippet=", ".join(sorted(shipped))[:160], line=1),
    )


def _ships(state: ExamState, entry: Location) -> bool:
    """The file an entry point names is in the package, as named or as Node resolves it."""
    chain, path = entry.chain[:-1], entry.path
    wanted = {path, f"{path}.js", f"{path}/index.js"}
    return any(r.location.chain[:-1] == chain and r.location.path in wanted for r in state.files)


def _module_files(module: str) -> tuple[str, ...]:
    """Where the file of a dotted module name sits beside setup.py."""
    path = module.replace(".", "/")
    return tuple(
        f"{layout}{path}{suffix}" for layout in ("", "src/") for suffix in (".py", "/__init__.py")
    )


def _script_targets(command: str) -> Iterable[str]:
    """Relative files a lifecycle command runs: ``node x.js``, ``sh ./y.sh``, ``python z.py``."""
    for part in re.split(r"&&|\|\||;|\|", command):
        try:
            words = shlex.split(part)
        except ValueError:
            words = part.split()
        for index, word in enumerate(words):
            program = word.rsplit("/", 1)[-1]
            if program in _LANG_OF_COMMAND and index + 1 < len(words):
                for arg in words[index + 1 :]:
                    if arg.startswith("-"):
                        continue
                    _, suffixes = _LANG_OF_COMMAND[program]
                    yield arg if arg.endswith(suffixes) or "." in arg else arg + ".js"
                    break
            elif word.endswith((".sh", ".js")) and index == 0:
                yield word


def _sibling(package_json: Location, relative: str) -> Location:
    base = package_json.path.rsplit("/", 1)[0] if "/" in package_json.path else ""
    parts: list[str] = [p for p in base.split("/") if p]
    for piece in relative.replace("\\", "/").split("/"):
        if piece in ("", "."):
            continue
        if piece == "..":
            if parts:
                parts.pop()
            continue
        parts.append(piece)
    return Location((*package_json.chain[:-1], "/".join(parts)))
