"""Catalogers, one module per ecosystem, registered here explicitly."""

from __future__ import annotations

from collections.abc import Callable

from finalexam.catalog import dotnet_pe, golang, jsbundle, native, rust
from finalexam.catalog.base import Cataloger
from finalexam.catalog.sbom_input import SbomInputCataloger

CATALOGERS: tuple[Callable[[], Cataloger], ...] = (
    SbomInputCataloger,
    dotnet_pe.make,
    golang.make,
    jsbundle.make,
    native.make,
    rust.make,
)
