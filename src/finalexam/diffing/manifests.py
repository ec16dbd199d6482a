"""Package manifests read from captured content: version, dependencies, install hooks."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.parser import HeaderParser

from finalexam.formats import jsonsafe

NPM_INSTALL_HOOKS = (
    "preinstall",
    "install",
    "postinstall",
    "preuninstall",
    "uninstall",
    "postuninstall",
)
_REQ_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


@dataclass(frozen=True)
class Manifest:
    path: str
    ecosystem: str
    name: str | None
    version: str | None
    dependencies: Mapping[str, str] = field(default_factory=dict)  # name → requirement
    hooks: Mapping[str, str] = field(default_factory=dict)  # hook → command


def normalize_name(name: str, ecosystem: str) -> str:
    if ecosystem == "PyPI":
        return re.sub(r"[-_.]+", "-", name).lower()
    return name.lower()


def parse_package_json(path: str, text: str) -> Manifest | None:
    data = jsonsafe.loads_object(text)
    if data is None:
        return None
    deps: dict[str, str] = {}
    for key in ("dependencies", "optionalDependencies"):
        section = data.get(key)
        if isinstance(section, dict):
            deps.update({str(k): str(v) for k, v in section.items()})
    scripts = data.get("scripts")
    hooks = {
        hook: str(scripts[hook])
        for hook in NPM_INSTALL_HOOKS
        if isinstance(scripts, dict) and hook in scripts
    }
    name, version = data.get("name"), data.get("version")
    return Manifest(
        path=path,
        ecosystem="npm",
        name=name if isinstance(name, str) else None,
        version=version if isinstance(version, str) else None,
        dependencies=deps,
        hooks=hooks,
    )


def parse_core_metadata(path: str, text: str) -> Manifest | None:
    headers = HeaderParser().parsestr(text.split("\n\n", 1)[0] + "\n")
    name, version = headers.get("Name"), headers.get("Version")
    if not name:
        return None
    deps: dict[str, str] = {}
    for requirement in headers.get_all("Requires-Dist") or []:
        found = _REQ_NAME.match(requirement)
        if found and "extra ==" not in requirement.replace("extra==", "extra =="):
            deps[normalize_name(found.group(1), "PyPI")] = requirement.strip()
    return Manifest(path=path, ecosystem="PyPI", name=name, version=version, dependencies=deps)


def is_manifest_path(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    if name == "package.json":
        return "node_modules/" not in path and path.count("/") <= 1
    return name in ("METADATA", "PKG-INFO") and path.count("/") <= 1


def parse_manifest(path: str, text: str) -> Manifest | None:
    name = path.rsplit("/", 1)[-1]
    if name == "package.json":
        return parse_package_json(path, text)
    return parse_core_metadata(path, text)


def top_manifests(texts: Mapping[str, str]) -> list[Manifest]:
    """The release's own manifests (not those of bundled dependencies), shallowest first."""
    found = []
    for path in sorted(texts, key=lambda p: (p.count("/"), p)):
        if "!/" in path or not is_manifest_path(path):
            continue
        manifest = parse_manifest(path, texts[path])
        if manifest is not None:
            found.append(manifest)
    return found


def npm_hook_files(command: str, manifest_path: str) -> list[str]:
    """Files a hook command runs (``node lib/x.js`` → ``<dir>/lib/x.js``)."""
    base = manifest_path.rsplit("/", 1)[0] + "/" if "/" in manifest_path else ""
    out = []
    for word in re.split(r"[\s;&|]+", command):
        word = word.strip("'\"")
        if re.search(r"\.(?:c?js|mjs|sh|py|ps1|bat|cmd)$", word) and "://" not in word:
            out.append(base + word.removeprefix("./"))
    return out
