from __future__ import annotations

from finalexam.exam import merge_components
from finalexam.model import Component, Confidence, Dependency, Location


def make(**fields: object) -> Component:
    base: dict[str, object] = {
        "name": "requests",
        "version": "2.31.0",
        "ecosystem": "PyPI",
        "purl": "pkg:pypi/requests@2.31.0",
    }
    base.update(fields)
    return Component(**base)  # type: ignore[arg-type]


def test_duplicates_merge_keeping_every_location_and_the_best_facts() -> None:
    vendored = make(
        locations=(Location(("a.whl", "a/_vendor/vendor.txt")),),
        found_by=("python-vendored-vendor.txt",),
        confidence=Confidence.MEDIUM,
    )
    lock = make(
        locations=(Location(("a.whl", "poetry.lock")),),
        found_by=("lock",),
        declared=True,
        description="HTTP for Humans",
    )
    installed = make(
        locations=(Location(("a.whl", "requests-2.31.0.dist-info/METADATA")),),
        found_by=("python-dist-info",),
        licenses=("Apache-2.0",),
        dependencies=(Dependency("pkg:pypi/idna"),),
    )
    other = make(name="idna", version="3.4", purl="pkg:pypi/idna@3.4")
    merged = merge_components([vendored, lock, installed, other])
    assert [c.name for c in merged] == ["idna", "requests"]
    requests = merged[1]
    assert len(requests.locations) == 3
    assert requests.found_by == ("lock", "python-dist-info", "python-vendored-vendor.txt")
    assert requests.confidence is Confidence.HIGH
    assert requests.licenses == ("Apache-2.0",)
    assert requests.description == "HTTP for Humans"
    assert not requests.declared  # found installed somewhere: not merely declared
    assert requests.dependencies == (Dependency("pkg:pypi/idna"),)
