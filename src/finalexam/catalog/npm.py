"""npm: every package.json (installed), and lock files (declared): npm v1-v3, yarn, pnpm."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from typing import Any

import yaml
from packageurl import PackageURL

from finalexam.catalog.support import licenses_of, purl, read_text
from finalexam.formats import jsonsafe, yamlsafe
from finalexam.model import Component, Confidence, Dependency, FileEntry, Location

NAME = "npm"
_LOCKS = ("package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml")
_MAX_JSON = 64 * 1024 * 1024
_HASH_NAMES = {"sha512": "SHA-512", "sha384": "SHA-384", "sha256": "SHA-256", "sha1": "SHA-1"}


def npm_purl(name: str, version: str | None) -> str:
    namespace, _, bare = name.rpartition("/")
    return purl("npm", bare, version, namespace=namespace or None)


def is_package_root(path: str) -> bool:
    """Inside node_modules only ``node_modules/NAME/package.json`` (or ``@scope/NAME``) is a
    package; deeper ones are sub-path markers or test fixtures."""
    if "node_modules/" not in path:
        return True
    tail = path.rsplit("node_modules/", 1)[1].split("/")
    return len(tail) == 2 or (len(tail) == 3 and tail[0].startswith("@"))


def _valid_name(name: object) -> bool:
    return (
        isinstance(name, str)
        and 0 < len(name) <= 214
        and re.fullmatch(r"(@[a-z0-9][\w.~-]*/)?[a-z0-9_.~-][\w.~-]*", name, re.IGNORECASE)
        is not None
    )


def integrity_hashes(integrity: object) -> tuple[tuple[str, str], ...]:
    """Subresource-integrity strings (``sha512-BASE64``) as (algorithm, hex) pairs."""
    if not isinstance(integrity, str):
        return ()
    out: list[tuple[str, str]] = []
    for part in integrity.split():
        algorithm, _, encoded = part.partition("-")
        name = _HASH_NAMES.get(algorithm.lower())
        if name is None:
            continue
        try:
            out.append((name, base64.b64decode(encoded, validate=True).hex()))
        except (binascii.Error, ValueError):
            continue
    return tuple(sorted(out))


def _license_texts(document: Mapping[str, Any]) -> list[str | None]:
    texts: list[str | None] = []
    value = document.get("license")
    if isinstance(value, str):
        texts.append(value)
    elif isinstance(value, Mapping) and isinstance(value.get("type"), str):
        texts.append(value["type"])
    legacy = document.get("licenses")
    if isinstance(legacy, list):
        for item in legacy:
            if isinstance(item, Mapping) and isinstance(item.get("type"), str):
                texts.append(item["type"])
            elif isinstance(item, str):
                texts.append(item)
    return texts


def _person(value: object) -> str | None:
    if isinstance(value, Mapping):
        name = value.get("name")
        return name.strip() if isinstance(name, str) and name.strip() else None
    if isinstance(value, str) and value.strip():
        return value.split("<")[0].split("(")[0].strip() or None
    return None


def _range_dependencies(document: Mapping[str, Any]) -> tuple[Dependency, ...]:
    deps: dict[str, Dependency] = {}
    for key in ("dependencies", "optionalDependencies"):
        table = document.get(key)
        if not isinstance(table, Mapping):
            continue
        for name, requirement in table.items():
            if _valid_name(name):
                target = npm_purl(name, None)
                text = requirement if isinstance(requirement, str) else None
                deps.setdefault(target, Dependency(target=target, requirement=text))
    return tuple(sorted(deps.values(), key=lambda d: d.target))


class NpmCataloger:
    name = NAME
    version = "1.0"
    requires: tuple[str, ...] = ()
    wants = ("package.json", *_LOCKS, "*.tgz")

    def __init__(self) -> None:
        self.tarballs: dict[Location, tuple[str, str]] = {}
        self.packages: list[Component] = []

    def accepts(self, entry: FileEntry) -> bool:
        name = entry.name
        if name == "package.json" or name in _LOCKS:
            return entry.size <= _MAX_JSON
        return name.endswith(".tgz") and entry.depth == 0

    def catalog(self, entry: FileEntry) -> Iterable[Component]:
        name = entry.name
        if name.endswith(".tgz"):
            self.tarballs[entry.location] = (entry.sha256, entry.sha1)
            return ()
        text = read_text(entry, _MAX_JSON)
        if name == "package.json":
            if not is_package_root(entry.path):
                return ()
            component = _package_json(entry.location, text)
            if component is not None:
                self.packages.append(component)
            return ()
        if name == "yarn.lock":
            return list(_yarn_lock(entry.location, text))
        if name == "pnpm-lock.yaml":
            return list(_pnpm_lock(entry.location, text))
        return list(_package_lock(entry.location, text))

    def finish(self) -> Iterable[Component]:
        installed = {
            _package_dir(c.locations[0]): c for c in self.packages if c.locations and c.version
        }
        out: list[Component] = []
        for component in self.packages:
            location = component.locations[0]
            tarball = location.parent
            if (
                tarball is not None
                and tarball in self.tarballs
                and location.path == "package/package.json"
            ):
                sha256, sha1 = self.tarballs[tarball]
                component = replace(component, hashes=(("SHA-1", sha1), ("SHA-256", sha256)))
            out.append(_resolve_installed(component, installed))
        return out


def _package_dir(location: Location) -> tuple[tuple[str, ...], str]:
    """(archive chain, directory) of a package.json: the key node's resolution walks."""
    directory = location.path.rpartition("/")[0]
    return location.chain[:-1], directory


def _resolve_installed(
    component: Component, installed: Mapping[tuple[tuple[str, ...], str], Component]
) -> Component:
    """Point each declared dependency at the copy node would load: the nearest
    ``node_modules/NAME`` walking up from the package's own directory."""
    chain, directory = _package_dir(component.locations[0])
    resolved = []
    for dependency in component.dependencies:
        name = _purl_name(dependency.target)
        base, found = directory, None
        while found is None:
            prefix = f"{base}/" if base else ""
            found = installed.get((chain, f"{prefix}node_modules/{name}"))
            if found is not None or not base:
                break
            cut = base.rfind("/node_modules/")
            base = base[:cut] if cut >= 0 else ""
        if found is not None and found.purl:
            dependency = replace(dependency, target=found.purl)
        resolved.append(dependency)
    return replace(component, dependencies=tuple(resolved))


def _purl_name(target: str) -> str:
    """``pkg:npm/%40scope/name`` -> ``@scope/name``."""
    parsed = PackageURL.from_string(target)
    return f"{parsed.namespace}/{parsed.name}" if parsed.namespace else parsed.name


def _load_json(text: str) -> Any:
    try:
        return jsonsafe.loads(text)
    except ValueError:
        return None


def _package_json(location: Location, text: str) -> Component | None:
    document = _load_json(text)
    if not isinstance(document, Mapping):
        return None
    name, version = document.get("name"), document.get("version")
    if not _valid_name(name) or not isinstance(version, str) or not version.strip():
        return None
    assert isinstance(name, str)
    version = version.strip()
    description = document.get("description")
    return Component(
        name=name,
        version=version,
        ecosystem="npm",
        purl=npm_purl(name, version),
        licenses=licenses_of(*_license_texts(document)),
        locations=(location,),
        found_by=(f"{NAME}-package-json",),
        confidence=Confidence.HIGH,
        evidence=(f'{location}: "name": "{name}", "version": "{version}"',),
        supplier=_person(document.get("author")),
        description=description[:300] if isinstance(description, str) else None,
        dependencies=_range_dependencies(document),
    )


def _declared(
    location: Location,
    name: str,
    version: str,
    how: str,
    *,
    integrity: object = None,
    licenses: tuple[str, ...] = (),
    dependencies: Iterable[Dependency] = (),
) -> Component:
    return Component(
        name=name,
        version=version,
        ecosystem="npm",
        purl=npm_purl(name, version),
        licenses=licenses,
        hashes=integrity_hashes(integrity),
        locations=(location,),
        found_by=(f"{NAME}-{how}",),
        confidence=Confidence.HIGH,
        evidence=(f"{location}: {name}@{version}",),
        dependencies=tuple(sorted(set(dependencies), key=lambda d: d.target)),
        declared=True,
    )


# -- package-lock.json / npm-shrinkwrap.json --------------------------------------------------


def _package_lock(location: Location, text: str) -> Iterator[Component]:
    document = _load_json(text)
    if not isinstance(document, Mapping):
        return
    packages = document.get("packages")
    if isinstance(packages, Mapping):  # lockfile v2 and v3
        yield from _lock_packages(location, packages)
    elif isinstance(document.get("dependencies"), Mapping):  # lockfile v1
        yield from _lock_v1(location, document["dependencies"], ())


def _name_from_path(path: str) -> str:
    return path.rsplit("node_modules/", 1)[-1]


def _resolve(packages: Mapping[str, Any], path: str, name: str) -> str | None:
    """Node's lookup: the nearest node_modules/NAME walking up from the requiring package."""
    base = path
    while True:
        candidate = f"{base}/node_modules/{name}" if base else f"node_modules/{name}"
        if candidate in packages:
            return candidate
        if not base:
            return None
        cut = base.rfind("/node_modules/")
        base = base[:cut] if cut >= 0 else ""


def _lock_packages(location: Location, packages: Mapping[str, Any]) -> Iterator[Component]:
    for path, info in sorted(packages.items()):
        if not path or "node_modules/" not in path or not isinstance(info, Mapping):
            continue
        if info.get("link") or info.get("dev") or info.get("extraneous"):
            continue
        name = info.get("name") if isinstance(info.get("name"), str) else _name_from_path(path)
        version = info.get("version")
        if not _valid_name(name) or not isinstance(version, str):
            continue
        assert isinstance(name, str)
        deps: list[Dependency] = []
        for key in ("dependencies", "optionalDependencies"):
            table = info.get(key)
            if not isinstance(table, Mapping):
                continue
            for dep_name, requirement in table.items():
                resolved = _resolve(packages, path, dep_name)
                target_info = packages.get(resolved) if resolved else None
                dep_version = (
                    target_info.get("version") if isinstance(target_info, Mapping) else None
                )
                if not _valid_name(dep_name):
                    continue
                target = npm_purl(dep_name, dep_version if isinstance(dep_version, str) else None)
                text = requirement if isinstance(requirement, str) else None
                deps.append(Dependency(target=target, requirement=text))
        license_text = info.get("license")
        yield _declared(
            location,
            name,
            version,
            "package-lock",
            integrity=info.get("integrity"),
            licenses=licenses_of(license_text if isinstance(license_text, str) else None),
            dependencies=deps,
        )


def _lock_v1(
    location: Location, dependencies: Mapping[str, Any], parents: tuple[Mapping[str, Any], ...]
) -> Iterator[Component]:
    scopes = (dependencies, *parents)
    for name, info in sorted(dependencies.items()):
        if not isinstance(info, Mapping) or info.get("dev") or not _valid_name(name):
            continue
        version = info.get("version")
        if not isinstance(version, str) or version.startswith(("file:", "link:")):
            continue
        deps: list[Dependency] = []
        requires = info.get("requires")
        nested = info.get("dependencies")
        lookup = ((nested,) if isinstance(nested, Mapping) else ()) + scopes
        if isinstance(requires, Mapping):
            for dep_name, requirement in requires.items():
                if not _valid_name(dep_name):
                    continue
                found = next((s[dep_name] for s in lookup if dep_name in s), None)
                dep_version = found.get("version") if isinstance(found, Mapping) else None
                deps.append(
                    Dependency(
                        target=npm_purl(
                            dep_name, dep_version if isinstance(dep_version, str) else None
                        ),
                        requirement=requirement if isinstance(requirement, str) else None,
                    )
                )
        yield _declared(
            location,
            name,
            version,
            "package-lock",
            integrity=info.get("integrity"),
            dependencies=deps,
        )
        if isinstance(nested, Mapping) and len(parents) < 64:
            yield from _lock_v1(location, nested, scopes)


# -- yarn.lock ----------------------------------------------------------------------------


def _spec_name(spec: str) -> str:
    """``@scope/name@^1`` -> ``@scope/name``; ``name@npm:^1`` -> ``name``."""
    spec = spec.strip().strip('"')
    at = spec.find("@", 1)
    return spec[:at] if at > 0 else spec


def _yarn_v1_blocks(text: str) -> Iterator[tuple[list[str], dict[str, Any]]]:
    specs: list[str] | None = None
    fields: dict[str, Any] = {}
    section: dict[str, str] | None = None
    for raw in text.splitlines():
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        indent = len(raw) - len(raw.lstrip(" "))
        line = raw.strip()
        if indent == 0:
            if specs is not None:
                yield specs, fields
            specs = [s.strip().strip('"') for s in line.rstrip(":").split(",")]
            fields, section = {}, None
        elif indent == 2:
            key, _, value = line.partition(" ")
            key = key.rstrip(":").strip('"')
            if not value:  # a nested table such as "dependencies:"
                section = {}
                fields[key] = section
            else:
                fields[key] = value.strip().strip('"')
                section = None
        elif section is not None:
            key, _, value = line.partition(" ")
            section[key.strip('"').rstrip(":")] = value.strip().strip('"')
    if specs is not None:
        yield specs, fields


def _yarn_lock(location: Location, text: str) -> Iterator[Component]:
    if "__metadata:" in text:
        yield from _yarn_berry(location, text)
        return
    blocks = list(_yarn_v1_blocks(text))
    by_spec: dict[str, str] = {}
    for specs, fields in blocks:
        version = fields.get("version")
        if isinstance(version, str):
            for spec in specs:
                by_spec[spec] = version
    for specs, fields in blocks:
        version = fields.get("version")
        name = _spec_name(specs[0])
        if not isinstance(version, str) or not _valid_name(name):
            continue
        deps = []
        table = fields.get("dependencies")
        if isinstance(table, dict):
            for dep_name, requirement in table.items():
                if _valid_name(dep_name):
                    resolved = by_spec.get(f"{dep_name}@{requirement}")
                    deps.append(
                        Dependency(target=npm_purl(dep_name, resolved), requirement=requirement)
                    )
        yield _declared(
            location,
            name,
            version,
            "yarn-lock",
            integrity=fields.get("integrity"),
            dependencies=deps,
        )


def _safe_yaml(text: str) -> Any:
    try:
        return yamlsafe.load(text)
    except (yaml.YAMLError, RecursionError):
        return None


def _yarn_berry(location: Location, text: str) -> Iterator[Component]:
    document = _safe_yaml(text)
    if not isinstance(document, Mapping):
        return
    # Every descriptor ("lodash@npm:^4.17.21") -> the version it resolved to.
    by_descriptor: dict[str, str] = {}
    for key, info in document.items():
        if isinstance(info, Mapping) and isinstance(info.get("version"), str | int | float):
            for descriptor in str(key).split(","):
                by_descriptor[descriptor.strip()] = str(info["version"])
    for key, info in sorted(document.items(), key=lambda kv: str(kv[0])):
        if key == "__metadata" or not isinstance(info, Mapping):
            continue
        resolution = info.get("resolution")
        version = info.get("version")
        if not isinstance(resolution, str) or not isinstance(version, str | int | float):
            continue
        name = _spec_name(resolution)
        if "@workspace:" in resolution or "@link:" in resolution or not _valid_name(name):
            continue
        deps = []
        table = info.get("dependencies")
        for dep_name, range_text in table.items() if isinstance(table, Mapping) else ():
            if _valid_name(dep_name):
                resolved = by_descriptor.get(f"{dep_name}@{range_text}")
                deps.append(
                    Dependency(target=npm_purl(dep_name, resolved), requirement=str(range_text))
                )
        yield _declared(location, name, str(version), "yarn-lock", dependencies=deps)


# -- pnpm-lock.yaml ------------------------------------------------------------------------

_PNPM_V5 = re.compile(r"^/?((?:@[^/]+/)?[^/@]+)/([^/_(]+)")
_PNPM_V6 = re.compile(r"^/?((?:@[^/]+/)?[^/@]+)@([^(/_]+)")


def _pnpm_key(key: str) -> tuple[str, str] | None:
    for pattern in (_PNPM_V6, _PNPM_V5):
        match = pattern.match(key)
        if match:
            return match.group(1), match.group(2)
    return None


def _pnpm_lock(location: Location, text: str) -> Iterator[Component]:
    document = _safe_yaml(text)
    if not isinstance(document, Mapping):
        return
    packages = document.get("packages")
    if not isinstance(packages, Mapping):
        return
    for key, info in sorted(packages.items(), key=lambda kv: str(kv[0])):
        parsed = _pnpm_key(str(key))
        if parsed is None:
            continue
        name, version = parsed
        info = info if isinstance(info, Mapping) else {}
        if info.get("dev") is True or not _valid_name(name):
            continue
        resolution = info.get("resolution")
        integrity = resolution.get("integrity") if isinstance(resolution, Mapping) else None
        deps = []
        for key_name in ("dependencies", "optionalDependencies"):
            table = info.get(key_name)
            for dep_name, dep_version in table.items() if isinstance(table, Mapping) else ():
                if _valid_name(dep_name):
                    # "4.3.4(supports-color@8.1.1)" or v5's "4.3.4_supports-color@8.1.1"
                    exact = re.split(r"[(_]", str(dep_version), maxsplit=1)[0]
                    deps.append(Dependency(target=npm_purl(dep_name, exact or None)))
        yield _declared(
            location, name, version, "pnpm-lock", integrity=integrity, dependencies=deps
        )
