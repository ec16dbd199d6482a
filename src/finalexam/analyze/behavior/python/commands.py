"""Command templating: the command line or path an expression builds, unknown parts as
``{}`` (``f"curl {url} | sh"`` -> ``curl {} | sh``), and the programs such commands run."""

from __future__ import annotations

import ast
import re

from finalexam.analyze.behavior.python.decoding import fold

PIP_INSTALL = re.compile(r"(^|[\s/\\\"'])pip[0-9.]*(\.exe)?\s+install\b|-m\s+pip\s+install\b")


PYTHON_INLINE = re.compile(r"^(python[0-9.]*|pythonw)(\.exe)?\s+-c\s")


EXECUTABLE_FILE = re.compile(r"\.(exe|scr|bat|cmd|ps1|vbs|hta|jar|py|pyw|sh)[\"']?$", re.IGNORECASE)


SHELLS = frozenset(
    {"sh", "bash", "zsh", "dash", "ksh", "cmd", "cmd.exe", "powershell", "powershell.exe", "pwsh"}
)


INTERACTIVE_FLAGS = frozenset({"-i", "-l", "--login", "-", "-nologo", "-noprofile", "/k", "/q"})


ARCHIVE_SUFFIXES = frozenset({"zip", "egg", "whl", "pyz", "jar", "par"})


WINDOWS_PROGRAM = re.compile(r"\.(exe|scr|vbs|hta)[\"']?$", re.IGNORECASE)


# Programs an install command may legitimately start: compilers, build systems, VCS, and
# Apple's toolchain queries (pyobjc's egg_info records the SDK and macOS version it built for
# with xcrun and sw_vers)
BUILD_TOOLS = frozenset(
    {
        "cmake", "make", "gmake", "nmake", "ninja", "meson", "msbuild", "xcodebuild", "gcc",
        "g++", "cc", "c++", "clang", "clang++", "cl", "ld", "ar", "ranlib", "strip", "lipo",
        "install_name_tool", "patchelf", "pkg-config", "git", "hg", "svn", "npm", "npx", "yarn",
        "pnpm", "node", "cargo", "rustc", "go", "javac", "mvn", "gradle", "ant", "cython",
        "swig", "protoc", "autoreconf", "autoconf", "automake", "configure", "./configure",
        "sphinx-build", "ldconfig", "xcrun", "xcode-select", "sw_vers", "dsymutil",
    }
)  # fmt: skip


# Home, profile and system folders: outside the tree an install writes to.
OUTSIDE_INSTALL_TREE = re.compile(
    r"(?i)^(~|[a-z]:[\\/]|%(appdata|localappdata|userprofile|programdata|temp)%)|"
    r"[\\/](users|home|desktop|documents|appdata|startup|etc|usr|library)[\\/]"
)


def program_name(command: str) -> str:
    words = command.split()
    return words[0].strip("\"'").replace("\\", "/").rsplit("/", 1)[-1].lower() if words else ""


COMMAND_SEPARATORS = re.compile(r"&&|\|\||[;|&\n]")


# Programs that run the file they are given: `python p`, `sh p`, `msiexec /i p`.
INTERPRETERS = frozenset(
    {"python", "python3", "pythonw", "sh", "bash", "zsh", "dash", "powershell", "pwsh", "cmd",
     "node", "perl", "ruby", "wscript", "cscript", "mshta", "rundll32", "msiexec", "start"}
)  # fmt: skip


# Programs (and shell builtins) that start the command they are given: `nohup ./x &`
WRAPPERS = frozenset({"sudo", "nohup", "setsid", "exec", "nice", "env", "busybox", "command"})
# Programs that run what their arguments name or hold: data in their arguments may be code
RUNS_ITS_ARGUMENTS = INTERPRETERS | SHELLS | WRAPPERS | frozenset(
    {"xargs", "doas", "su", "runuser", "timeout", "ionice",
     "chroot", "ssh", "osascript", "java", "awk", "gawk", "find", "watch",
     "expect", "tclsh", "lua", "php", "deno", "bun", "wsl", "schtasks", "at", "crontab",
     "systemd-run", "open", "xdg-open", "explorer", "regsvr32", "certutil", "bitsadmin"}
)  # fmt: skip
_VERSIONED = re.compile(r"^(python|pythonw|perl|ruby|node|php|lua|tclsh)[\d.]*(\.exe)?$")


def runs_its_arguments(program: str) -> bool:
    """Whether a program named in an argument vector runs code its arguments carry."""
    name = program.replace("\\", "/").rsplit("/", 1)[-1].lower()
    return name.removesuffix(".exe") in RUNS_ITS_ARGUMENTS or bool(_VERSIONED.match(name))


def known_path(template: str) -> bool:
    """A path template with a literal name in it (``/tmp/u``, ``{}/update.bin``), not a bare
    unknown."""
    return len(template.replace("{}", "").strip("/\\. ")) >= 2


def command_template(node: ast.AST, names: dict[str, str] | None = None) -> str | None:
    """A string expression with its unknown parts as ``{}`` (f-strings, formatting, path
    joins); variables holding a known template are substituted."""
    text = fold(node)
    if text is not None:
        return text
    if isinstance(node, ast.JoinedStr):
        return "".join(
            str(v.value)
            if isinstance(v, ast.Constant)
            else (command_template(v.value, names) or "{}")
            if isinstance(v, ast.FormattedValue)
            else "{}"
            for v in node.values
        )
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return (command_template(node.left, names) or "{}") + (
            command_template(node.right, names) or "{}"
        )
    if isinstance(node, ast.Name) and names is not None and node.id in names:
        return names[node.id]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if node.func.attr == "format":
            return command_template(node.func.value, names)
        if node.func.attr == "join" and isinstance(node.func.value, ast.Attribute | ast.Name):
            owner = node.func.value
            if (isinstance(owner, ast.Attribute) and owner.attr == "path") or (
                isinstance(owner, ast.Name) and owner.id in ("path", "posixpath", "ntpath")
            ):
                return "/".join(command_template(arg, names) or "{}" for arg in node.args)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "str":
        return command_template(node.args[0], names) if node.args else None
    if isinstance(node, ast.Name | ast.Attribute | ast.Subscript | ast.Call):
        return "{}"
    return None
