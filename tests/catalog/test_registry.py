"""Every cataloger module, SBOM writer and the sbom command is registered explicitly."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import finalexam.catalog as catalog_package
from finalexam import cli
from finalexam.catalog import CATALOGERS
from finalexam.report import REPORTERS


def _is_cataloger(obj: object) -> bool:
    return inspect.isclass(obj) and all(
        callable(getattr(obj, method, None)) for method in ("accepts", "catalog", "finish")
    )


def test_every_cataloger_class_is_registered() -> None:
    # Registered as the class itself or as a factory function returning one.
    registered = {make if inspect.isclass(make) else type(make()) for make in CATALOGERS}
    found = []
    for module_info in pkgutil.iter_modules(catalog_package.__path__):
        if module_info.name == "base":
            continue  # the protocol itself
        module = importlib.import_module(f"finalexam.catalog.{module_info.name}")
        for _, obj in inspect.getmembers(module, _is_cataloger):
            if obj.__module__ == module.__name__:
                found.append(obj)
                assert obj in registered, f"{obj.__name__} is not in CATALOGERS"
    assert len(found) >= 9


def test_cataloger_names_are_unique_and_finish_is_safe_when_empty() -> None:
    names = [make().name for make in CATALOGERS]
    assert len(names) == len(set(names))
    for make in CATALOGERS:
        assert list(make().finish()) == []


def test_sbom_formats_and_command_registered() -> None:
    assert {"cyclonedx-json", "cyclonedx-xml", "spdx-json", "spdx-tag"} <= set(REPORTERS)
    assert "sbom" in {command.__name__.rsplit(".", 1)[-1] for command in cli.COMMANDS}
