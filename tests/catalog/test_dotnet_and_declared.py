from __future__ import annotations

import json
from pathlib import Path

from builders import gzip_bytes, tar_bytes, write
from catalog_helpers import by_purl, entry, exam, run_cataloger
from finalexam.catalog.conda import CondaCataloger
from finalexam.catalog.declared import DeclaredCataloger
from finalexam.catalog.dotnet import DotnetCataloger

DEPS_JSON = {
    "runtimeTarget": {"name": ".NETCoreApp,Version=v8.0"},
    "targets": {
        ".NETCoreApp,Version=v8.0": {
            "MyApp/1.0.0": {"dependencies": {"Newtonsoft.Json": "13.0.3"}},
            "Newtonsoft.Json/13.0.3": {"runtime": {"lib/net6.0/Newtonsoft.Json.dll": {}}},
        }
    },
    "libraries": {
        "MyApp/1.0.0": {"type": "project", "serviceable": False, "sha512": ""},
        "Newtonsoft.Json/13.0.3": {
            "type": "package",
            "sha512": "sha512-HrC5BXdl00IP9zeV+0Z848QWPAoCr9P3bDEZguI+gkLcBKAOxix/"
            "tLEAAHC+UvDNPv4a2d18lOReHMOagPa+zQ==",
        },
        "Microsoft.NETCore.App.Ref/8.0.0": {"type": "referenceassembly"},
    },
}

NUSPEC = """<?xml version="1.0" encoding="utf-8"?>
<package xmlns="http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd">
  <metadata>
    <id>Serilog</id>
    <version>3.1.1</version>
    <authors>Serilog Contributors</authors>
    <license type="expression">Apache-2.0</license>
    <dependencies>
      <group targetFramework="net7.0">
        <dependency id="System.Diagnostics.DiagnosticSource" version="7.0.2" />
      </group>
    </dependencies>
  </metadata>
</package>
"""


def test_deps_json_and_nuspec() -> None:
    nupkg = entry("serilog.3.1.1.nupkg", b"PK\x03\x04")
    components = by_purl(
        run_cataloger(
            DotnetCataloger(),
            [
                entry("app.zip!/MyApp.deps.json", json.dumps(DEPS_JSON)),
                nupkg,
                entry("serilog.3.1.1.nupkg!/Serilog.nuspec", NUSPEC),
            ],
        )
    )
    assert set(components) == {
        "pkg:nuget/MyApp@1.0.0",
        "pkg:nuget/Newtonsoft.Json@13.0.3",
        "pkg:nuget/Serilog@3.1.1",
    }
    newtonsoft = components["pkg:nuget/Newtonsoft.Json@13.0.3"]
    assert newtonsoft.hashes[0][0] == "SHA-512"
    app = components["pkg:nuget/MyApp@1.0.0"]
    assert [d.target for d in app.dependencies] == ["pkg:nuget/Newtonsoft.Json@13.0.3"]
    serilog = components["pkg:nuget/Serilog@3.1.1"]
    assert serilog.licenses == ("Apache-2.0",)
    assert serilog.supplier == "Serilog Contributors"
    assert ("SHA-256", nupkg.sha256) in serilog.hashes


GEMSPEC = """# -*- encoding: utf-8 -*-
# stub: rake 13.0.6 ruby lib

Gem::Specification.new do |s|
  s.name = "rake".freeze
  s.version = "13.0.6"
  s.authors = ["Hiroshi SHIBATA".freeze, "Eric Hodel".freeze]
  s.licenses = ["MIT".freeze]
  s.add_runtime_dependency(%q<json>.freeze, [">= 0"])
end
"""

COMPOSER = {
    "packages": [
        {
            "name": "monolog/monolog",
            "version": "3.5.0",
            "license": ["MIT"],
            "require": {"php": ">=8.1", "psr/log": "^2.0 || ^3.0"},
            "dist": {"shasum": "0123456789abcdef0123456789abcdef01234567"},
        },
        {"name": "broken"},
    ]
}

CARGO_LOCK = """version = 3

[[package]]
name = "app"
version = "0.1.0"
dependencies = ["serde 1.0.190"]

[[package]]
name = "serde"
version = "1.0.190"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "91d3c334ca1ee894a2c6f6ad698fe8c435b76d504b13d436f0685d648d6d96f7"
"""

GO_MOD = """module example.com/app

go 1.21

require github.com/spf13/cobra v1.8.0

require (
\tgithub.com/inconshreveable/mousetrap v1.1.0 // indirect
\tgolang.org/x/sys v0.15.0 // indirect
)

replace example.com/old => ./old
"""

GO_SUM = """github.com/spf13/cobra v1.8.0 h1:7aJaZx1B85qltLMc546zn58BxxfZdR/W22ej9CFoEf0=
github.com/spf13/cobra v1.8.0/go.mod h1:WXLWApfZ71AjXPya3WOlMsY9yMs7YeiHhFVlvLyhcho=
"""


def test_declared_ecosystems() -> None:
    components_all = run_cataloger(
        DeclaredCataloger(),
        [
            entry("img.tar!/usr/lib/ruby/gems/3.1.0/specifications/rake-13.0.6.gemspec", GEMSPEC),
            entry("app.zip!/vendor/composer/installed.json", json.dumps(COMPOSER)),
            entry("app.zip!/Cargo.lock", CARGO_LOCK),
            entry("src.tar!/app/go.mod", GO_MOD),
            entry("src.tar!/app/go.sum", GO_SUM),
        ],
    )
    components = by_purl(c for c in components_all if c.version)
    assert set(components) == {
        "pkg:gem/rake@13.0.6",
        "pkg:composer/monolog/monolog@3.5.0",
        "pkg:cargo/serde@1.0.190",
        "pkg:golang/github.com/spf13/cobra@v1.8.0",
        "pkg:golang/github.com/inconshreveable/mousetrap@v1.1.0",
        "pkg:golang/golang.org/x/sys@v0.15.0",
    }
    rake = components["pkg:gem/rake@13.0.6"]
    assert rake.licenses == ("MIT",) and not rake.declared
    assert [d.target for d in rake.dependencies] == ["pkg:gem/json"]
    monolog = components["pkg:composer/monolog/monolog@3.5.0"]
    assert [d.target for d in monolog.dependencies] == ["pkg:composer/psr/log"]
    assert components["pkg:cargo/serde@1.0.190"].hashes[0][0] == "SHA-256"
    main = next(c for c in components_all if c.name == "example.com/app")
    assert main.version is None and main.purl == "pkg:golang/example.com/app"
    assert [d.target for d in main.dependencies] == ["pkg:golang/github.com/spf13/cobra@v1.8.0"]
    cobra = components["pkg:golang/github.com/spf13/cobra@v1.8.0"]
    assert cobra.declared
    assert any("h1:7aJaZx1B" in text for text in cobra.evidence)


def test_gemspec_is_never_evaluated() -> None:
    hostile = 'Gem::Specification.new do |s|\n  s.name = `id`\n  s.version = "1.0"\nend\n'
    assert run_cataloger(DeclaredCataloger(), [entry("x.zip!/evil.gemspec", hostile)]) == []


GEM_METADATA = """--- !ruby/object:Gem::Specification
name: rack
version: !ruby/object:Gem::Version
  version: 3.0.8
platform: ruby
authors:
- Leah Neukirchen
dependencies:
- !ruby/object:Gem::Dependency
  name: minitest
  requirement: !ruby/object:Gem::Requirement
    requirements:
    - - "~>"
      - !ruby/object:Gem::Version
        version: '5.0'
  type: :development
- !ruby/object:Gem::Dependency
  name: webrick
  type: :runtime
licenses:
- MIT
"""


def test_gem_file_metadata(tmp_path: Path) -> None:
    gem = tar_bytes(
        {"metadata.gz": gzip_bytes(GEM_METADATA.encode()), "data.tar.gz": gzip_bytes(b"")}
    )
    report = exam(write(tmp_path / "rack-3.0.8.gem", gem))
    components = by_purl(report.components)
    assert set(components) == {"pkg:gem/rack@3.0.8"}
    rack = components["pkg:gem/rack@3.0.8"]
    assert rack.licenses == ("MIT",)
    assert [d.target for d in rack.dependencies] == ["pkg:gem/webrick"]  # not development
    assert rack.supplier == "Leah Neukirchen"


def test_conda_meta_record() -> None:
    record = {
        "name": "numpy",
        "version": "1.26.4",
        "build": "py311h64a7726_0",
        "channel": "https://conda.anaconda.org/conda-forge/linux-64",
        "subdir": "linux-64",
        "license": "BSD-3-Clause",
        "sha256": "3f4365e11b28e244c95ba8579942b0802761ba7bb31c026f50d1a9ea9c728149",
        "depends": ["python >=3.11,<3.12.0a0", "libblas >=3.9.0,<4.0a0"],
    }
    components = run_cataloger(
        CondaCataloger(),
        [
            entry(
                "img.tar!/opt/conda/conda-meta/numpy-1.26.4-py311h64a7726_0.json",
                json.dumps(record),
            )
        ],
    )
    assert [c.purl for c in components] == [
        "pkg:conda/numpy@1.26.4?build=py311h64a7726_0&channel=conda-forge&subdir=linux-64"
    ]
    numpy = components[0]
    assert numpy.licenses == ("BSD-3-Clause",)
    assert [d.target for d in numpy.dependencies] == ["pkg:conda/libblas", "pkg:conda/python"]
