"""Build real Go programs offline: a file:// module proxy written by code, Debian's go."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

GO = shutil.which("go")

_MODULES = {
    # (path, version): {file: text}; example.com/fork declares the path it replaces.
    ("example.com/greet", "v1.2.3"): {
        "go.mod": "module example.com/greet\n\ngo 1.18\n",
        "greet.go": 'package greet\n\nfunc Hello() string { return "hello" }\n',
    },
    ("example.com/fork", "v1.0.1"): {
        "go.mod": "module example.com/old\n\ngo 1.18\n",
        "old.go": 'package old\n\nfunc Name() string { return "fork" }\n',
    },
    ("example.com/old", "v1.0.0"): {
        "go.mod": "module example.com/old\n\ngo 1.18\n",
        "old.go": 'package old\n\nfunc Name() string { return "old" }\n',
    },
}

_MAIN = """package main

import (
\t"example.com/greet"
\t"example.com/local"
\t"example.com/old"
)

func main() { println(greet.Hello(), old.Name(), local.Here()) }
"""


def _write_proxy(root: Path) -> None:
    for (path, version), files in _MODULES.items():
        directory = root / path / "@v"
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "list").open("a").write(version + "\n")
        (directory / f"{version}.info").write_text(
            f'{{"Version":"{version}","Time":"2024-01-01T00:00:00Z"}}'
        )
        (directory / f"{version}.mod").write_text(files["go.mod"])
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for name, text in files.items():
                archive.writestr(f"{path}@{version}/{name}", text)
        (directory / f"{version}.zip").write_bytes(buffer.getvalue())


def build_go_program(workdir: Path, goos: str = "linux") -> Path:
    """A program with a proxied dependency, a module replacement and a local replacement."""
    proxy, source = workdir / "proxy", workdir / "src"
    if not proxy.exists():
        _write_proxy(proxy)
        (source / "local").mkdir(parents=True)
        (source / "local" / "go.mod").write_text("module example.com/local\n\ngo 1.18\n")
        (source / "local" / "local.go").write_text(
            'package local\n\nfunc Here() string { return "here" }\n'
        )
        (source / "go.mod").write_text(
            "module example.com/app\n\ngo 1.18\n\n"
            "require (\n\texample.com/greet v1.2.3\n\texample.com/old v1.0.0\n"
            "\texample.com/local v0.0.0\n)\n\n"
            "replace example.com/old => example.com/fork v1.0.1\n\n"
            "replace example.com/local => ./local\n"
        )
        (source / "main.go").write_text(_MAIN)
    assert GO is not None
    env = {
        **os.environ,
        "GOOS": goos,
        "GOARCH": "amd64",
        "CGO_ENABLED": "0",
        "GOFLAGS": "-mod=mod",
        "GOPROXY": proxy.as_uri(),
        "GOSUMDB": "off",
        "GONOSUMDB": "*",
        "GOPATH": str(workdir / "gopath"),
        "GOTOOLCHAIN": "local",
    }
    output = workdir / f"app-{goos}"
    subprocess.run(
        [GO, "build", "-trimpath", "-o", str(output), "."],
        cwd=source,
        env=env,
        check=True,
        capture_output=True,
    )
    return output
