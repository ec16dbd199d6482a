"""Behaviour deltas: what the new release can do that the old one could not."""

from __future__ import annotations

import fnmatch
import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from finalexam.analyze.indicators.categories import is_reference_host
from finalexam.catalog.support import versionless
from finalexam.context import References, resolve
from finalexam.diffing.content import endpoints, host_of, is_code, line_delta, strip_comments
from finalexam.diffing.files import FileDelta
from finalexam.diffing.inventory import COMPILED_TYPES, Inventory
from finalexam.diffing.manifests import Manifest, npm_hook_files
from finalexam.diffing.model import Change
from finalexam.diffing.rules import categories_in, code_rules
from finalexam.diffing.versions import compare
from finalexam.model import (
    ARCHIVE_SEPARATOR,
    Component,
    FileContext,
    Finding,
    FindingKind,
    Indicator,
    Location,
    Report,
    Severity,
)
from finalexam.vuln.purl import parse_purl

_NETWORK_CAPABILITY = re.compile(
    r"network|socket|http|dns|internet|url|download|upload|connect|c2|beacon|tcp|udp|winhttp|"
    r"wininet|ssl|tls",
    re.IGNORECASE,
)
_RATED = frozenset(s.value for s in Severity.rated())
# a signature blob or alignment padding may move a little between honest builds
_OVERLAY_SLACK = 4096
_RISKY_CAPABILITY = re.compile(
    r"inject|persist|execut|spawn|process|shell|anti-?(?:debug|vm|analysis)|keylog|screenshot|"
    r"credential|encrypt|ransom|registry|service|privilege",
    re.IGNORECASE,
)
_RELRO_ORDER = ("none", "partial", "full")
# Where code is read rather than run (finalexam.context decides, as for the exam's findings);
# tooling stays out: install scripts live in scripts/ and tools/.
_NOT_RUN = frozenset({FileContext.TEST, FileContext.EXAMPLE, FileContext.DOCS})


def host_allowed(host: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(host, p.lower()) for p in patterns)


def _is_local_address(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return (
        address.is_private
        or address.is_loopback
        or address.is_unspecified
        or (address.is_link_local or address.is_multicast or address.is_reserved)
    )


def release_contexts(keys: Iterable[str], texts: Mapping[str, str]) -> dict[str, FileContext]:
    """The context of each file of a release, as the exam decides it: its folders and name,
    unless shipped code imports or runs it (what the release's captured texts refer to)."""

    def location(key: str) -> Location:
        return Location(("release", *key.split(ARCHIVE_SEPARATOR)))

    references = References.of_texts({location(k): text for k, text in texts.items()})
    contexts = resolve([location(k) for k in keys], references)
    return {key: contexts.of(location(key)) for key in keys}


def endpoint_key(value: str) -> str:
    return host_of(value) if "://" in value else value.lower()


def collect_endpoints(
    report: Report, inventory: Inventory, texts: Mapping[str, str]
) -> dict[str, dict[str, tuple[str, int | None, bool]]]:
    """Endpoint host → {location key: (example value, line, in code outside comments)}."""
    found: dict[str, dict[str, tuple[str, int | None, bool]]] = {}
    for indicator in report.indicators:
        if indicator.kind not in ("url", "domain", "ip"):
            continue
        host = endpoint_key(indicator.value)
        for location in indicator.locations or ():
            key = inventory.key_of(location)
            record = inventory.files.get(key)
            code = is_code(key) or (record is not None and record.file_type in COMPILED_TYPES)
            found.setdefault(host, {}).setdefault(key, (indicator.value, None, code))
    for path, text in texts.items():
        code = is_code(path)
        scanned = strip_comments(text, path) if code else text
        for value, line in endpoints(scanned).items():
            host = endpoint_key(value)
            found.setdefault(host, {}).setdefault(path, (value, line, code))
    return found


def endpoint_changes(
    old: Mapping[str, Mapping[str, tuple[str, int | None, bool]]],
    new: Mapping[str, Mapping[str, tuple[str, int | None, bool]]],
    allowlist: Sequence[str],
    new_texts: Mapping[str, str],
) -> list[Change]:
    changes: list[Change] = []
    added = sorted(set(new) - set(old))
    contexts = release_contexts({key for host in added for key in new[host]}, new_texts)
    for host in added:
        places = new[host]
        in_code = sorted(k for k, (_, _, code) in places.items() if code)
        value, line, _ = places[in_code[0] if in_code else sorted(places)[0]]
        evidence: dict[str, Any] = {
            "endpoint": value,
            "host": host,
            "locations": sorted(places)[:20],
        }
        if line is not None:
            evidence["line"] = line
        if host_allowed(host, allowlist):
            severity, why = Severity.INFO, "allowlisted host"
        elif is_reference_host(host) or _is_local_address(host):
            severity, why = Severity.INFO, "reference or local host"
        elif not in_code:
            severity, why = Severity.INFO, "in documentation or data only"
        elif all(contexts[k] in _NOT_RUN for k in in_code):
            severity, why = Severity.LOW, "in tests or examples only"
        else:
            severity, why = Severity.MEDIUM, "in code"
        evidence["reason"] = why
        location = in_code[0] if in_code else sorted(places)[0]
        changes.append(
            Change(
                "endpoint-added",
                severity,
                f"new network endpoint {host} ({why})",
                location,
                evidence,
            )
        )
    return changes


def new_endpoint_hosts(changes: Iterable[Change]) -> list[str]:
    return [str(c.evidence["host"]) for c in changes if c.kind == "endpoint-added"]


# -- install hooks ------------------------------------------------------------------------


def hook_changes(
    old_manifests: Sequence[Manifest],
    new_manifests: Sequence[Manifest],
    old_texts: Mapping[str, str],
    new_texts: Mapping[str, str],
    delta: FileDelta,
    have_content: bool,
) -> list[Change]:
    changes: list[Change] = []
    old_hooks = {hook: (cmd, m) for m in old_manifests for hook, cmd in m.hooks.items()}
    for manifest in new_manifests:
        for hook, command in sorted(manifest.hooks.items()):
            before = old_hooks.get(hook)
            evidence = {"hook": hook, "script": command, "manifest": manifest.path}
            if before is None:
                changes.append(
                    Change(
                        "install-hook-added",
                        Severity.HIGH,
                        f"new npm {hook} script runs at install: {command[:120]}",
                        manifest.path,
                        evidence,
                    )
                )
                continue
            if before[0] != command:
                changes.append(
                    Change(
                        "install-hook-changed",
                        Severity.HIGH,
                        f"npm {hook} script changed: {command[:120]}",
                        manifest.path,
                        {**evidence, "old_script": before[0]},
                    )
                )
                continue
            for path in npm_hook_files(command, manifest.path):
                key = path
                if key in delta.substantive() or key in delta.added:
                    changes.append(
                        Change(
                            "install-hook-script-changed",
                            Severity.MEDIUM,
                            f"the file npm {hook} runs changed: {key}",
                            key,
                            evidence,
                        )
                    )
    for hook, (command, manifest) in sorted(old_hooks.items()):
        if not any(hook in m.hooks for m in new_manifests) and new_manifests:
            changes.append(
                Change(
                    "install-hook-removed",
                    Severity.INFO,
                    f"npm {hook} script removed",
                    manifest.path,
                    {"hook": hook, "script": command},
                )
            )
    if not have_content:
        return changes
    for key in sorted(set(delta.added) | set(delta.substantive())):
        name = key.rsplit("/", 1)[-1]
        if name == "binding.gyp" and "!/" not in key and key not in delta.modified:
            changes.append(
                Change(
                    "install-hook-added",
                    Severity.MEDIUM,
                    "binding.gyp added: npm runs node-gyp rebuild at install",
                    key,
                    {"hook": "node-gyp", "manifest": key},
                )
            )
        if key.endswith(".pth"):
            text = new_texts.get(key, "")
            code = [line for line in text.splitlines() if line.startswith(("import ", "import\t"))]
            if code:
                kind = "install-hook-added" if key in delta.added else "install-hook-changed"
                changes.append(
                    Change(
                        kind,
                        Severity.HIGH,
                        ".pth file runs code at every Python start-up",
                        key,
                        {"hook": "pth", "snippet": code[0][:200]},
                    )
                )
        if name == "setup.py" and "!/" not in key:
            text = new_texts.get(key, "")
            old_key = delta.moved.get(key, key)
            old_text = old_texts.get(old_key, "")
            if "cmdclass" in text and "cmdclass" not in old_text:
                changes.append(
                    Change(
                        "install-hook-added",
                        Severity.HIGH,
                        "setup.py now overrides build or install commands (cmdclass)",
                        key,
                        {"hook": "setup.py cmdclass"},
                    )
                )
    return changes


def unverified_hooks(hooked: Sequence[Manifest], delta: FileDelta) -> list[Change]:
    """Hooks of the new release when the baseline's manifest text is unknown (stored report).

    An unchanged manifest (same hash) has the same hooks; a changed one might have new ones.
    """
    changes: list[Change] = []
    for manifest in hooked:
        if manifest.path not in delta.modified and manifest.path not in delta.added:
            continue
        for hook, command in sorted(manifest.hooks.items()):
            changes.append(
                Change(
                    "install-hook-unverified",
                    Severity.MEDIUM,
                    f"npm {hook} script in a changed manifest; the baseline report has no "
                    f"contents to tell whether it is new: {command[:120]}",
                    manifest.path,
                    {"hook": hook, "script": command, "manifest": manifest.path},
                )
            )
    return changes


# -- dependencies -------------------------------------------------------------------------


def _referenced(name: str, texts: Mapping[str, str]) -> bool:
    pattern = re.compile(
        r"""(?:require\(\s*|from\s+|import\s*\(\s*|import\s+)['"]?"""
        + re.escape(name)
        + r"""(?:['"/]|\b)"""
    )
    return any(pattern.search(text) for path, text in texts.items() if is_code(path))


def dependency_changes(
    old_deps: Mapping[str, tuple[str, str]],
    new_deps: Mapping[str, tuple[str, str]],
    release_bump: str,
    new_texts: Mapping[str, str],
) -> list[Change]:
    """``*_deps``: normalized name → (requirement, ecosystem)."""
    changes: list[Change] = []
    for name in sorted(set(new_deps) - set(old_deps)):
        requirement, ecosystem = new_deps[name]
        evidence: dict[str, Any] = {
            "dependency": name,
            "requirement": requirement,
            "ecosystem": ecosystem,
            "release_bump": release_bump,
        }
        reasons = []
        if release_bump in ("patch", "none"):
            reasons.append(
                f"added in a {release_bump if release_bump != 'none' else 'same-version'} release"
            )
        if ecosystem == "npm" and new_texts and not _referenced(name, new_texts):
            reasons.append("not referenced by the package's code")
            evidence["referenced"] = False
        severity = Severity.MEDIUM if reasons else Severity.LOW
        title = f"new dependency {name} {requirement}".strip()
        if reasons:
            title += " (" + "; ".join(reasons) + ")"
        changes.append(Change("dependency-added", severity, title, None, evidence))
    for name in sorted(set(old_deps) - set(new_deps)):
        changes.append(
            Change(
                "dependency-removed",
                Severity.INFO,
                f"dependency {name} removed",
                None,
                {"dependency": name, "requirement": old_deps[name][0]},
            )
        )
    for name in sorted(set(old_deps) & set(new_deps)):
        if old_deps[name][0] != new_deps[name][0]:
            changes.append(
                Change(
                    "dependency-changed",
                    Severity.INFO,
                    f"dependency {name}: {old_deps[name][0]} → {new_deps[name][0]}",
                    None,
                    {"dependency": name, "old": old_deps[name][0], "new": new_deps[name][0]},
                )
            )
    return changes


# -- components ---------------------------------------------------------------------------


def _component_key(component: Component) -> tuple[str, str]:
    return (component.ecosystem, component.name.lower())


def component_changes(old: Sequence[Component], new: Sequence[Component]) -> list[Change]:
    def versions(components: Sequence[Component]) -> dict[tuple[str, str], set[str]]:
        out: dict[tuple[str, str], set[str]] = {}
        for c in components:
            out.setdefault(_component_key(c), set()).add(c.version or "")
        return out

    before, after = versions(old), versions(new)
    changes: list[Change] = []
    for key in sorted(set(after) - set(before)):
        changes.append(
            Change(
                "component-added",
                Severity.INFO,
                f"{key[0]} {key[1]} {', '.join(sorted(after[key]))}".strip(),
                None,
                {"ecosystem": key[0], "name": key[1], "versions": sorted(after[key])},
            )
        )
    for key in sorted(set(before) - set(after)):
        changes.append(
            Change(
                "component-removed",
                Severity.INFO,
                f"{key[0]} {key[1]}",
                None,
                {"ecosystem": key[0], "name": key[1], "versions": sorted(before[key])},
            )
        )
    for key in sorted(set(before) & set(after)):
        if before[key] == after[key]:
            continue
        old_v = max(before[key], key=lambda v: v)
        new_v = max(after[key], key=lambda v: v)
        direction = compare(old_v, new_v, key[0]) if old_v and new_v else 0
        kind = "component-downgraded" if direction < 0 else "component-upgraded"
        changes.append(
            Change(
                kind,
                Severity.LOW if direction < 0 else Severity.INFO,
                f"{key[0]} {key[1]} {old_v} → {new_v}",
                None,
                {
                    "ecosystem": key[0],
                    "name": key[1],
                    "old": sorted(before[key]),
                    "new": sorted(after[key]),
                },
            )
        )
    return changes


# -- findings -----------------------------------------------------------------------------

_FINDING_CHANGE = {
    FindingKind.VULNERABILITY: "vulnerability-added",
    FindingKind.SECRET: "secret-added",
    FindingKind.BEHAVIOR: "behavior-added",
    FindingKind.MALICIOUS: "malicious-added",
    FindingKind.BINARY: "binary-finding-added",
    FindingKind.INTEGRITY: "integrity-finding-added",
}


def _unversioned(component: str | None) -> str:
    """A finding's component without its version (a purl, or ``ecosystem/name@version``)."""
    text = component or ""
    if parse_purl(text) is None:
        return text.split("@", 1)[0].lower()
    return versionless(text).lower()


def finding_changes(
    old: Report, new: Report, old_inv: Inventory, new_inv: Inventory
) -> list[Change]:
    def key(finding: Finding, inventory: Inventory) -> tuple[str, ...]:
        if finding.kind is FindingKind.VULNERABILITY:
            return (finding.kind.value, finding.rule_id, _unversioned(finding.component))
        where = inventory.key_of(finding.location) if finding.location else ""
        return (
            finding.kind.value,
            finding.rule_id,
            where,
            _unversioned(finding.component),
            str(finding.evidence.snippet or ""),
        )

    before = {key(f, old_inv): f for f in old.findings if f.kind is not FindingKind.POLICY}
    after = {key(f, new_inv): f for f in new.findings if f.kind is not FindingKind.POLICY}
    # the strongest behaviour each rule showed in the old release: the same behaviour moved
    # to another file or reformatted is not new (its snippet or location changed, not what
    # the package does)
    behaved: dict[str, int] = {}
    for f in old.findings:
        if f.kind in (FindingKind.BEHAVIOR, FindingKind.MALICIOUS):
            behaved[f.rule_id] = max(behaved.get(f.rule_id, -1), f.severity.rank)
    changes: list[Change] = []
    for k in sorted(set(after) - set(before)):
        f = after[k]
        location = new_inv.key_of(f.location) if f.location else None
        evidence: dict[str, Any] = {
            "rule_id": f.rule_id,
            "fingerprint": f.fingerprint,
            "finding_severity": f.severity.value,
        }
        severity, title = f.severity, f.title
        behaviour = f.kind in (FindingKind.BEHAVIOR, FindingKind.MALICIOUS)
        if behaviour and behaved.get(f.rule_id, -1) >= f.severity.rank:
            severity, title = Severity.LOW, f"{f.title} (already in the old release)"
            evidence["in_old_release"] = True
        if f.evidence.snippet:
            evidence["snippet"] = f.evidence.snippet
        if f.evidence.line is not None:
            evidence["line"] = f.evidence.line
        if f.component:
            evidence["component"] = f.component
        changes.append(
            Change(
                _FINDING_CHANGE.get(f.kind, "finding-added"),
                severity,
                title,
                location,
                evidence,
            )
        )
    for k in sorted(set(before) - set(after)):
        f = before[k]
        kind = "vulnerability-fixed" if f.kind is FindingKind.VULNERABILITY else "finding-resolved"
        changes.append(
            Change(
                kind,
                Severity.INFO,
                f"{f.title}",
                old_inv.key_of(f.location) if f.location else None,
                {"rule_id": f.rule_id, "fingerprint": f.fingerprint},
            )
        )
    return changes


# -- binaries -----------------------------------------------------------------------------


def _capability_names(binary: Mapping[str, Any]) -> set[str]:
    names: set[str] = set()
    for item in binary.get("capabilities") or ():
        if isinstance(item, Mapping):
            names.add(str(item.get("name") or item.get("id") or item.get("rule") or item))
        else:
            names.add(str(item))
    return names


def _signature_identity(signature: Mapping[str, Any]) -> str | None:
    for key in ("signer", "subject", "publisher", "authority", "issuer", "team_id"):
        value = signature.get(key)
        if value:
            return str(value)
    return None


def _signed(signature: Any) -> bool:
    if not isinstance(signature, Mapping):
        return bool(signature)
    if "signed" in signature:
        return bool(signature["signed"])
    return _signature_identity(signature) is not None


def _weaker(old: Any, new: Any) -> bool:
    if isinstance(old, bool) and isinstance(new, bool):
        return old and not new
    if isinstance(old, str) and isinstance(new, str):
        a, b = old.lower(), new.lower()
        if a in _RELRO_ORDER and b in _RELRO_ORDER:
            return _RELRO_ORDER.index(b) < _RELRO_ORDER.index(a)
    return bool(old and not new and isinstance(old, bool | str))


def binary_changes(
    old: Report, new: Report, old_inv: Inventory, new_inv: Inventory, moved: Mapping[str, str]
) -> list[Change]:
    before = {old_inv.key_of(str(b.get("location", ""))): b for b in old.binaries}
    changes: list[Change] = []
    for binary in new.binaries:
        key = new_inv.key_of(str(binary.get("location", "")))
        previous = before.get(key) or before.get(moved.get(key, ""))
        if previous is None:
            continue
        old_h = previous.get("hardening") or {}
        new_h = binary.get("hardening") or {}
        if isinstance(old_h, Mapping) and isinstance(new_h, Mapping):
            for prop in sorted(old_h):
                if prop in new_h and _weaker(old_h[prop], new_h[prop]):
                    changes.append(
                        Change(
                            "hardening-regressed",
                            Severity.MEDIUM,
                            f"{prop} weakened: {old_h[prop]} → {new_h[prop]}",
                            key,
                            {"property": prop, "old": old_h[prop], "new": new_h[prop]},
                        )
                    )
        old_sig, new_sig = previous.get("signature"), binary.get("signature")
        if _signed(old_sig) and not _signed(new_sig):
            changes.append(
                Change(
                    "signature-removed",
                    Severity.HIGH,
                    "was signed, now unsigned",
                    key,
                    {"old": old_sig, "new": new_sig},
                )
            )
        elif isinstance(old_sig, Mapping) and isinstance(new_sig, Mapping) and _signed(new_sig):
            a, b = _signature_identity(old_sig), _signature_identity(new_sig)
            if a and b and a != b:
                changes.append(
                    Change(
                        "signer-changed",
                        Severity.HIGH,
                        f"signer changed: {a} → {b}",
                        key,
                        {"old": a, "new": b},
                    )
                )
            if old_sig.get("valid") is True and new_sig.get("valid") is False:
                changes.append(
                    Change(
                        "signature-invalid",
                        Severity.HIGH,
                        "signature no longer verifies",
                        key,
                        {"old": old_sig, "new": new_sig},
                    )
                )
        changes += _capability_gains(previous, binary, key)
        changes += _load_time_code_gains(previous, binary, key)
        changes += _overlay_gains(previous, binary, key)
    return changes


def _unexpected_capabilities(binary: Mapping[str, Any]) -> dict[str, str]:
    """Capability id -> its severity in the report, leaving out those ordinary for the
    binary's kind (``expected_for``)."""
    out: dict[str, str] = {}
    for item in binary.get("capabilities") or ():
        if isinstance(item, Mapping) and item.get("expected_for"):
            continue
        severity = str(item.get("severity", "info")) if isinstance(item, Mapping) else "info"
        for name in _capability_names({"capabilities": [item]}):
            out[name] = severity
    return out


def _capability_gains(
    previous: Mapping[str, Any], binary: Mapping[str, Any], key: str
) -> list[Change]:
    """What compiled code can newly do. A capability that is a finding on its own (low or
    above: persistence, evasion, credential access, kernel modules, ...) is unexpected in any
    release of a library that did not have it; facts (info) weigh by what they reach."""
    old_caps, new_caps = _unexpected_capabilities(previous), _unexpected_capabilities(binary)
    had_network = any(_NETWORK_CAPABILITY.search(c) for c in old_caps)
    changes: list[Change] = []
    for cap in sorted(set(new_caps) - set(old_caps)):
        rated = Severity.parse(new_caps[cap]) if new_caps[cap] in _RATED else Severity.INFO
        if rated.rank >= Severity.MEDIUM.rank or (
            _NETWORK_CAPABILITY.search(cap) and not had_network
        ):
            severity = Severity.HIGH
        elif (
            rated is Severity.LOW
            or _NETWORK_CAPABILITY.search(cap)
            or _RISKY_CAPABILITY.search(cap)
        ):
            severity = Severity.MEDIUM
        else:
            severity = Severity.LOW
        changes.append(
            Change(
                "capability-added",
                severity,
                f"binary gained capability: {cap}",
                key,
                {"capability": cap, "format": binary.get("format"), "rated": rated.value},
            )
        )
    return changes


def _load_time_code_gains(
    previous: Mapping[str, Any], binary: Mapping[str, Any], key: str
) -> list[Change]:
    """Code that runs as soon as the library is loaded (constructors, IFUNC resolvers): the
    way the xz backdoor and injected constructors get control without being called."""
    changes: list[Change] = []
    old_details, new_details = previous.get("details") or {}, binary.get("details") or {}
    if not isinstance(old_details, Mapping) or not isinstance(new_details, Mapping):
        return changes
    for field, what in (("constructors", "constructor(s)"), ("ifunc", "IFUNC resolver(s)")):
        before, after = int(old_details.get(field) or 0), int(new_details.get(field) or 0)
        if after > before:
            changes.append(
                Change(
                    "load-time-code-added",
                    Severity.MEDIUM,
                    f"binary gained {after - before} {what} that run at load time",
                    key,
                    {"field": field, "old": before, "new": after},
                )
            )
    return changes


def _overlay_gains(
    previous: Mapping[str, Any], binary: Mapping[str, Any], key: str
) -> list[Change]:
    """Data appended after the end of the image: outside what a signature covers on PE."""
    old, new = previous.get("overlay") or {}, binary.get("overlay") or {}
    old_size = int(old.get("size") or 0) if isinstance(old, Mapping) else 0
    new_size = int(new.get("size") or 0) if isinstance(new, Mapping) else 0
    if new_size <= old_size + _OVERLAY_SLACK:
        return []
    signed = _signed(binary.get("signature"))
    return [
        Change(
            "overlay-added",
            Severity.HIGH if signed else Severity.MEDIUM,
            f"{new_size - old_size} bytes appended after the end of the image"
            + (" (outside the signed content)" if signed else ""),
            key,
            {"old": old_size, "new": new_size, "signed": signed},
        )
    ]


# -- code capabilities in added code --------------------------------------------------------


def code_capability_changes(
    old_texts: Mapping[str, str], new_texts: Mapping[str, str], delta: FileDelta
) -> list[Change]:
    present: set[str] = set()
    every = {rule.category for rule in code_rules()}
    for path, text in old_texts.items():
        if is_code(path) and present != every:
            present.update(categories_in(strip_comments(text, path), present))

    changes: list[Change] = []
    seen: set[tuple[str, str]] = set()
    for key in sorted(set(delta.added) | set(delta.substantive())):
        if not is_code(key) or key not in new_texts:
            continue
        new_code = strip_comments(new_texts[key], key)
        if key in delta.added:
            added_text = new_code
            offsets = None
        else:
            old_key = delta.moved.get(key, key)
            old_code = strip_comments(old_texts.get(old_key, ""), old_key)
            lines = line_delta(old_code, new_code).added
            added_text = "\n".join(text for _, text in lines)
            offsets = [number for number, _ in lines]
        for category, (rule, line, snippet) in sorted(categories_in(added_text).items()):
            if (category, key) in seen:
                continue
            seen.add((category, key))
            number = offsets[line - 1] if offsets and line - 1 < len(offsets) else line
            new_to_package = category not in present
            severity = rule.severity if new_to_package else Severity.LOW
            title = f"added code {rule.title}" + (" (new to the package)" if new_to_package else "")
            changes.append(
                Change(
                    "code-capability-added",
                    severity,
                    title,
                    key,
                    {
                        "rule_id": rule.id,
                        "category": category,
                        "line": number,
                        "snippet": snippet.strip()[:200],
                        "new_to_package": new_to_package,
                    },
                )
            )
    return changes


def unique_indicators(indicators: Iterable[Indicator]) -> set[str]:
    return {endpoint_key(i.value) for i in indicators}
