"""Catalogers, one module per ecosystem, registered here explicitly."""

from __future__ import annotations

from collections.abc import Callable

from finalexam.catalog import dotnet_pe, golang, jsbundle, native, rust
from finalexam.catalog.apk import ApkCataloger
from finalexam.catalog.base import Cataloger
from finalexam.catalog.conda import CondaCataloger
from finalexam.catalog.declared import DeclaredCataloger
from finalexam.catalog.dotnet import DotnetCataloger
from finalexam.catalog.dpkg import DpkgCataloger
from finalexam.catalog.java import JavaCataloger
from finalexam.catalog.npm import NpmCataloger
from finalexam.catalog.python import PythonCataloger
from finalexam.catalog.rpm import RpmCataloger
from finalexam.catalog.sbom_input import SbomInputCataloger

CATALOGERS: tuple[Callable[[], Cataloger], ...] = (
    PythonCataloger,
    NpmCataloger,
    JavaCataloger,
    DotnetCataloger,
    DpkgCataloger,
    ApkCataloger,
    RpmCataloger,
    DeclaredCataloger,
    CondaCataloger,
    SbomInputCataloger,
    dotnet_pe.make,
    golang.make,
    jsbundle.make,
    native.make,
    rust.make,
)
