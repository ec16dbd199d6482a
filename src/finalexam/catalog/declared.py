"""Declared components of other ecosystems found inside artifacts.

Ruby gem specifications, Composer's ``installed.json``, ``Cargo.lock`` and ``go.mod`` /
``go.sum``: each is read as text or data (a gemspec is Ruby code: it is matched with
patterns, never evaluated).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from typing import Any

import yaml

from finalexam.catalog.support import licenses_of, purl, read_text
from finalexam.failures import Isolation
from finalexam.formats import jsonsafe, yamlsafe
from finalexam.model import Component, Confidence, Dependency, FileEntry, Location

NAME = "declared"
_MAX = 32 * 1024 * 1024


def _component(
    location: Location,
    name: str,
    version: str,
    ecosystem: str,
    package_url: str,
    how: str,
    *,
    licenses: tuple[str, ...] = (),
    hashes: tuple[tuple[str, str], ...] = (),
    dependencies: Iterable[Dependency] = (),
    declared: bool = True,
    supplier: str | None = None,
    evidence: str | None = None,
) -> Component:
    return Component(
        name=name,
        version=version,
        ecosystem=ecosystem,
        purl=package_url,
        licenses=licenses,
        hashes=hashes,
        locations=(location,),
        found_by=(how,),
        confidence=Confidence.HIGH,
        evidence=(f"{location}: {evidence or f'{name} {version}'}",),
        supplier=supplier,
        dependencies=tuple(sorted(set(dependencies), key=lambda d: d.target)),
        declared=declared,
    )


# -- Ruby ----------------------------------------------------------------------------------

_GEM_FIELD = r"""^\s*\w+\.{field}\s*=\s*(?:%q\{{|["'])([^"'}}]+)"""
_GEM_NAME = re.compile(_GEM_FIELD.format(field="name"), re.MULTILINE)
_GEM_VERSION = re.compile(_GEM_FIELD.format(field="version"), re.MULTILINE)
_GEM_LICENSES = re.compile(r"""^\s*\w+\.licenses?\s*=\s*\[?([^\n]+)""", re.MULTILINE)
_GEM_DEP = re.compile(
    r"""^\s*\w+\.add_(?:runtime_)?dependency\s*\(?\s*%q<([^>]+)>|"""
    r"""^\s*\w+\.add_(?:runtime_)?dependency\s*\(?\s*["']([^"']+)["']""",
    re.MULTILINE,
)
_GEM_AUTHORS = re.compile(r"""^\s*\w+\.authors\s*=\s*\[?\s*["']([^"']+)["']""", re.MULTILINE)


def gemspec_component(location: Location, text: str) -> Component | None:
    name_match, version_match = _GEM_NAME.search(text), _GEM_VERSION.search(text)
    if name_match is None or version_match is None:
        return None
    name, version = name_match.group(1).strip(), version_match.group(1).strip()
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", name) or not re.fullmatch(r"[0-9][\w.-]*", version):
        return None
    license_texts: list[str | None] = []
    license_match = _GEM_LICENSES.search(text)
    if license_match:
        license_texts = re.findall(r"""["']([^"']+)["']""", license_match.group(1))
    deps = []
    for match in _GEM_DEP.finditer(text):
        dep = match.group(1) or match.group(2)
        if dep:
            deps.append(Dependency(target=purl("gem", dep.strip())))
    authors = _GEM_AUTHORS.search(text)
    return _component(
        location,
        name,
        version,
        "RubyGems",
        purl("gem", name, version),
        f"{NAME}-gemspec",
        licenses=licenses_of(*license_texts),
        dependencies=deps,
        # An installed gem's specification describes installed code.
        declared="/specifications/" not in f"/{location.path}",
        supplier=authors.group(1) if authors else None,
    )


class _GemMetadataLoader(yamlsafe.BoundedLoader):
    """Safe YAML that reads Ruby object tags (``!ruby/object:Gem::Version``) as plain data."""


def _ruby_object(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(node)


_GemMetadataLoader.add_multi_constructor("!ruby/", _ruby_object)


def gem_metadata_component(location: Location, text: str) -> Component | None:
    """The YAML specification inside a ``.gem`` (``x.gem!/metadata.gz!/metadata``)."""
    try:
        document = yamlsafe.load(text, _GemMetadataLoader)
    except (yaml.YAMLError, RecursionError):
        return None
    if not isinstance(document, Mapping):
        return None
    name, version = document.get("name"), document.get("version")
    if isinstance(version, Mapping):
        version = version.get("version")
    if not isinstance(name, str) or not isinstance(version, str | int | float):
        return None
    licenses = document.get("licenses")
    deps = []
    for dep in document.get("dependencies") or []:
        if (
            isinstance(dep, Mapping)
            and isinstance(dep.get("name"), str)
            and str(dep.get("type", ":runtime")).lstrip(":") == "runtime"
        ):
            deps.append(Dependency(target=purl("gem", dep["name"])))
    authors = document.get("authors")
    return _component(
        location,
        name,
        str(version),
        "RubyGems",
        purl("gem", name, str(version)),
        f"{NAME}-gem-metadata",
        licenses=licenses_of(*(x for x in licenses or [] if isinstance(x, str))),
        dependencies=deps,
        declared=False,
        supplier=authors[0] if isinstance(authors, list) and authors else None,
    )


# -- Composer -----------------------------------------------------------------------------


def composer_components(location: Location, text: str) -> Iterator[Component]:
    try:
        document = jsonsafe.loads(text)
    except ValueError:
        return
    packages: Any = document.get("packages") if isinstance(document, Mapping) else document
    if not isinstance(packages, list):
        return
    for package in packages:
        if not isinstance(package, Mapping):
            continue
        full, version = package.get("name"), package.get("version")
        if not isinstance(full, str) or "/" not in full or not isinstance(version, str):
            continue
        vendor, _, name = full.partition("/")
        license_field = package.get("license")
        texts = license_field if isinstance(license_field, list) else [license_field]
        spdx = licenses_of(*(t for t in texts if isinstance(t, str)))
        require = package.get("require")
        deps = [
            Dependency(target=purl("composer", d.partition("/")[2], namespace=d.partition("/")[0]))
            for d in (require if isinstance(require, Mapping) else {})
            if isinstance(d, str) and "/" in d
        ]
        dist = package.get("dist")
        shasum = dist.get("shasum") if isinstance(dist, Mapping) else None
        hashes = (("SHA-1", shasum),) if isinstance(shasum, str) and len(shasum) == 40 else ()
        yield _component(
            location,
            full,
            version,
            "Packagist",
            purl("composer", name, version, namespace=vendor),
            f"{NAME}-composer",
            licenses=(" OR ".join(spdx),) if len(spdx) > 1 else spdx,
            hashes=hashes,
            dependencies=deps,
            declared=False,  # installed.json lists what vendor/ holds
        )


# -- Cargo.lock -----------------------------------------------------------------------------


def cargo_lock_components(location: Location, text: str) -> Iterator[Component]:
    try:
        document = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError):
        return
    packages = document.get("package")
    if not isinstance(packages, list):
        return
    for package in packages:
        if not isinstance(package, Mapping):
            continue
        name, version, source = package.get("name"), package.get("version"), package.get("source")
        if not isinstance(name, str) or not isinstance(version, str):
            continue
        if not isinstance(source, str) or not source.startswith("registry+"):
            continue  # workspace members and git/path crates are not registry releases
        checksum = package.get("checksum")
        hashes = (("SHA-256", checksum),) if isinstance(checksum, str) else ()
        deps = []
        for dep in package.get("dependencies") or []:
            if isinstance(dep, str):
                parts = dep.split()
                deps.append(
                    Dependency(target=purl("cargo", parts[0], parts[1] if len(parts) > 1 else None))
                )
        yield _component(
            location,
            name,
            version,
            "crates.io",
            purl("cargo", name, version),
            f"{NAME}-cargo-lock",
            hashes=hashes,
            dependencies=deps,
        )


# -- go.mod / go.sum -----------------------------------------------------------------------

_GO_REQUIRE = re.compile(r"^(?:require\s+)?([^\s()]+)\s+(v\S+)$")


def go_purl(module: str, version: str | None) -> str:
    namespace, _, name = module.rpartition("/")
    return purl("golang", name, version, namespace=namespace or None)


def go_mod_components(location: Location, text: str) -> Iterator[Component]:
    """Every required module, and the main module itself with its direct requirements as
    depends-on edges."""
    in_block = False
    main: str | None = None
    direct: list[Dependency] = []
    for raw in text.splitlines():
        code, _, comment = raw.partition("//")
        stripped = code.strip()
        indirect = comment.strip() == "indirect"
        if stripped.startswith("module ") and main is None:
            main = stripped.split(None, 1)[1].strip().strip('"') or None
            continue
        if stripped.startswith("require ("):
            in_block = True
            continue
        if in_block and stripped == ")":
            in_block = False
            continue
        if not in_block and not stripped.startswith("require "):
            continue
        match = _GO_REQUIRE.match(stripped)
        if match is None:
            continue
        module, version = match.group(1), match.group(2)
        if not indirect:
            direct.append(Dependency(target=go_purl(module, version)))
        yield _component(
            location,
            module,
            version,
            "Go",
            go_purl(module, version),
            f"{NAME}-go-mod",
            evidence=f"require {module} {version}" + (" // indirect" if indirect else ""),
        )
    if main:
        yield Component(
            name=main,
            version=None,  # a source tree's own module has no version until it is tagged
            ecosystem="Go",
            purl=go_purl(main, None),
            locations=(location,),
            found_by=(f"{NAME}-go-mod",),
            confidence=Confidence.HIGH,
            evidence=(f"{location}: module {main}",),
            dependencies=tuple(sorted(set(direct), key=lambda d: d.target)),
            declared=True,
        )


def go_sum_hashes(text: str) -> dict[tuple[str, str], str]:
    """``module version h1:...`` lines (module zips only, not ``/go.mod`` lines)."""
    sums: dict[tuple[str, str], str] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3 and not parts[1].endswith("/go.mod") and parts[2].startswith("h1:"):
            sums[(parts[0], parts[1])] = parts[2]
    return sums


class DeclaredCataloger:
    name = NAME
    version = "1.0"
    requires: tuple[str, ...] = ()
    wants = ("metadata", "*.gemspec", "*composer/installed.json", "Cargo.lock", "go.mod", "go.sum")

    def __init__(self) -> None:
        self.go_mods: list[tuple[Location, str]] = []
        self.isolation = Isolation(NAME, "catalog")
        self.go_sums: dict[Location, dict[tuple[str, str], str]] = {}

    def accepts(self, entry: FileEntry) -> bool:
        name = entry.name
        if entry.size > _MAX:
            return False
        if name == "metadata":
            parent = entry.location.parent
            return (
                parent is not None
                and parent.name == "metadata.gz"
                and parent.parent is not None
                and parent.parent.name.endswith(".gem")
            )
        if name in ("Cargo.lock", "go.mod", "go.sum", "installed.json"):
            return name != "installed.json" or entry.path.endswith("composer/installed.json")
        return name.endswith(".gemspec")

    def catalog(self, entry: FileEntry) -> Iterable[Component]:
        text, location, name = read_text(entry, _MAX), entry.location, entry.name
        if name.endswith(".gemspec"):
            component = gemspec_component(location, text)
            return [component] if component else []
        if name == "metadata":
            component = gem_metadata_component(location, text)
            return [component] if component else []
        if name == "installed.json":
            return list(composer_components(location, text))
        if name == "Cargo.lock":
            return list(cargo_lock_components(location, text))
        if name == "go.sum":
            self.go_sums[location] = go_sum_hashes(text)
        else:
            self.go_mods.append((location, text))
        return ()

    def finish(self) -> Iterable[Component]:
        out: list[Component] = []
        for location, text in self.go_mods:
            sums = self.go_sums.get(
                Location((*location.chain[:-1], location.path[: -len("go.mod")] + "go.sum"))
            )
            with self.isolation.item(str(location), location):
                for component in go_mod_components(location, text):
                    h1 = (sums or {}).get((component.name, component.version or ""))
                    if h1:
                        evidence = (*component.evidence, f"go.sum {h1}")
                        component = replace(component, evidence=evidence)
                    out.append(component)
        return out
