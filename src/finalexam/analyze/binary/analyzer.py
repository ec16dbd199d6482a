"""Compiled binaries (ELF, PE, Mach-O): what each is, how it is hardened, whether it is signed,
whether it hides something, and what it is able to do.

One ``binaries`` entry per binary (stable keys, see docs/binaries.md) and ``kind: binary``
findings calibrated so that ordinary distribution binaries stay below the default ``high`` gate:
only a signature that no longer matches its file is high.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from finalexam.analyze.base import Analysis, ExamState
from finalexam.analyze.binary import capabilities, packers, traits, upx, upx_pe
from finalexam.analyze.binary.facts.common import (
    BinaryFacts,
    BrokenBinary,
    HeaderOnly,
    NotABinary,
    insecure_search_path,
)
from finalexam.analyze.binary.facts.parse import binary_format, examine
from finalexam.analyze.indicators.categories import classify
from finalexam.analyze.indicators.extract import extract
from finalexam.budget import WorkerCrashed, file_budget, supervisor
from finalexam.config import Config
from finalexam.context import is_script_launcher
from finalexam.model import (
    Confidence,
    Evidence,
    FileContext,
    FileEntry,
    FileType,
    Finding,
    FindingKind,
    Indicator,
    Issue,
    IssueKind,
    Location,
    Severity,
)

# The generic rules tooling reads capability rules through these two names.
RULES_DIR = capabilities.RULES_DIR
example_matches = capabilities.example_matches

NAME = "binary"
MAX_BINARY_SIZE = 512 * 1024 * 1024
_BINARY_TYPES = (FileType.ELF, FileType.PE, FileType.MACHO)


class BinaryAnalyzer:
    name = NAME
    version = "1.0"
    requires: tuple[str, ...] = ()
    wants = ("elf", "pe", "macho", "archive")  # archives when self-extracting

    def __init__(self, config: Config) -> None:
        self.config = config
        self.rules = capabilities.load_rules()

    def accepts(self, entry: FileEntry) -> bool:
        if entry.file_type in _BINARY_TYPES:
            return True
        # A self-extracting archive is sniffed as an archive but is still a binary.
        return entry.file_type is FileType.ARCHIVE and binary_format(bytes(entry.data[:4])) in (
            "elf",
            "pe",
        )

    def analyze(self, entry: FileEntry) -> Analysis:
        location = entry.location
        if entry.size > MAX_BINARY_SIZE:
            return _issue(
                location,
                f"larger than {MAX_BINARY_SIZE} bytes: binary not examined",
                IssueKind.LIMIT,
            )
        data = bytes(entry.data)
        budget = file_budget(self.config.time_budget, entry.size)
        try:
            # LIEF is native code: it parses in a child process that a crash, a hang or a
            # runaway allocation can take down without taking the exam with it
            facts = supervisor().call(examine, data, timeout=budget)
        except NotABinary:
            return Analysis()
        except HeaderOnly as error:
            return _issue(location, f"{error}: read as data only", IssueKind.NOTE)
        except BrokenBinary as error:
            return _issue(location, f"corrupt binary: {error}", IssueKind.CORRUPT)
        except WorkerCrashed as error:
            message = f"binary parser crashed, binary not examined: {error}"
            return _issue(location, message, IssueKind.PLUGIN_FAILED)
        except Exception as error:  # LIEF raises its own errors on hostile headers
            message = f"corrupt binary: {type(error).__name__}: {error}"
            return _issue(location, message, IssueKind.CORRUPT)
        unpacked = unpack(data, facts, budget)
        return describe(facts, data, location, self.rules, unpacked)

    def finish(self, state: ExamState) -> Analysis:
        return Analysis()


@dataclass(frozen=True)
class Unpacked:
    """A packed program's original code, unpacked statically: its facts are what the
    capability rules read."""

    facts: BinaryFacts
    data: bytes
    header: upx.Header | upx_pe.Header
    partial: str | None = None  # what is missing when the container was cut short

    def summary(self) -> dict[str, Any]:
        out = {
            "packer": "upx",
            "method": upx.METHODS.get(self.header.method, str(self.header.method)),
            "size": len(self.data),
            "type": self.facts.type,
            "interpreter": self.facts.interpreter,
            "libraries": self.facts.libraries,
            "imports": sorted(self.facts.imports),
        }
        if self.partial is not None:
            out["partial"] = self.partial
        return out


@dataclass(frozen=True)
class UnpackFailed:
    """Why a packed program could not be unpacked, and the kind of gap that leaves: its
    packed code was not examined, so the exam cannot pass on it (see IssueKind)."""

    reason: str
    kind: IssueKind

    @classmethod
    def of(cls, error: Exception) -> UnpackFailed:
        if isinstance(error, upx.UnsupportedMethod):
            return cls(str(error), IssueKind.UNSUPPORTED)
        if isinstance(error, upx.UnpackLimit):
            return cls(str(error), IssueKind.LIMIT)
        if isinstance(error, upx.UnpackError):
            return cls(str(error), IssueKind.CORRUPT)
        if isinstance(error, (NotABinary, BrokenBinary)):
            return cls(f"the unpacked program does not parse: {error}", IssueKind.CORRUPT)
        if isinstance(error, WorkerCrashed):
            return cls(f"unpacking stopped: {error}", IssueKind.PLUGIN_FAILED)
        # the budget, or LIEF on a hostile unpacked header
        return cls(f"unpacking stopped: {type(error).__name__}: {error}", IssueKind.PLUGIN_FAILED)


def upx_header(data: bytes, facts: BinaryFacts) -> upx.Header | upx_pe.Header | None:
    """UPX's header, in the place UPX puts it for this format (ELF and PE)."""
    if facts.format == "elf":
        return upx.header(data)
    if facts.format == "pe":
        return upx_pe.header(data)
    return None


def unpack(data: bytes, facts: BinaryFacts, timeout: float) -> Unpacked | UnpackFailed | None:
    """A UPX-packed ELF or PE unpacked statically in the child (``upx``, ``upx_pe``): the
    unpacked program, or why it could not be unpacked; None when the file is not UPX-packed."""
    found = upx_header(data, facts)
    if found is None:
        return None
    reader = upx.examine_unpacked if isinstance(found, upx.Header) else upx_pe.examine_unpacked
    try:
        unpacked, unpacking = supervisor().call(reader, data, timeout=timeout)
    except Exception as error:
        return UnpackFailed.of(error)
    return Unpacked(unpacked, unpacking.image, found, unpacking.partial)


def _issue(location: Location, message: str, kind: IssueKind) -> Analysis:
    return Analysis(issues=[Issue("analyze", location, message, kind, NAME)])


def describe(
    facts: BinaryFacts,
    data: bytes,
    location: Location,
    rules: tuple[capabilities.CapabilityRule, ...],
    unpacked: Unpacked | UnpackFailed | None = None,
) -> Analysis:
    packer = packers.packer(facts, data)
    overlay = packers.overlay(facts, data)
    embedded = packers.embedded_executables(data)
    header = upx_header(data, facts)
    if packer is not None and header is not None:
        packer["evidence"].append(header.describe())
        if isinstance(unpacked, UnpackFailed):
            packer["unpack_error"] = unpacked.reason
    code_facts, code_data = facts, data
    if isinstance(unpacked, Unpacked):
        # the rules read the original program; the entry says so, with its offsets
        code_facts, code_data = unpacked.facts, unpacked.data
        if packer is not None:
            packer["unpacked"] = unpacked.summary()
    observed = capabilities.observe(
        code_facts, code_data, rules, location.chain[-1], packer is not None
    )
    matched = capabilities.assess(observed, rules)
    entry: dict[str, Any] = {
        "location": str(location),
        "format": facts.format,
        "arch": facts.arch,
        "type": facts.type,
        "bits": facts.bits,
        "hardening": dict(sorted(facts.hardening.items())),
        "packer": packer,
        "capabilities": [_capability_entry(match) for match in matched],
        "libraries": facts.libraries,
        "imports": sorted(facts.imports),
        "exports": len(facts.exports),
        "sections": [s.as_dict() for s in facts.sections],
        "debug_info": facts.debug_info,
    }
    optional = {
        "entrypoint": facts.entrypoint,
        "interpreter": facts.interpreter,
        "rpath": facts.rpath,
        "runpath": facts.runpath,
        "build_id": facts.build_id,
        "signature": facts.signature,
        "overlay": overlay,
        "embedded": embedded,
        "arches": facts.arches if len(facts.arches) > 1 else None,
        "syscalls": [site.as_dict() for _, site in sorted(code_facts.syscalls.items())],
        "resolved": [found.as_dict() for _, found in sorted(code_facts.resolved.items())],
        "raw_sockets": [call.as_dict() for call in traits.raw_socket_calls(code_facts)],
        "fetch_runs": [run.as_dict() for run in code_facts.fetch_runs],
        "xor_strings": [run.as_dict() for run in observed.xor_runs],
        "details": facts.details,
    }
    entry.update({key: value for key, value in optional.items() if value})
    hardening = _hardening_findings(facts, location)
    findings = list(hardening)
    findings += _signature_findings(facts, location)
    if facts.format == "pe" and is_script_launcher(data):
        # the launcher pip or setuptools writes for every console script: build-tool output,
        # unsigned in every Python environment; reported, not the package's own binary
        findings = [
            replace(f, context=FileContext.LAUNCHER)
            if f.rule_id == "binary.unsigned-windows-executable" or f in hardening
            else f
            for f in findings
        ]
    findings += _hiding_findings(packer, overlay, embedded, location)
    findings += [
        _capability_finding(match, location)
        for match in matched
        if match.severity is not Severity.INFO
    ]
    # endpoints in XOR-hidden text join the report's indicators, as those in plain strings do
    indicators = [
        Indicator(item.kind, item.value, classify(item.kind, item.value), (location,))
        for run in observed.xor_runs
        for item in extract(run.data, text=True)
    ]
    return Analysis(
        findings=findings,
        binaries=[entry],
        indicators=indicators,
        issues=_unexamined_code(packer, unpacked, facts.format, location),
    )


def _unexamined_code(
    packer: dict[str, Any] | None,
    unpacked: Unpacked | UnpackFailed | None,
    file_format: str,
    location: Location,
) -> list[Issue]:
    """Nothing unexamined may pass: a UPX-packed program whose packed code was not unpacked
    was not read (its capabilities, secrets and components are inside), a gap in the exam."""
    if packer is None or packer["name"] != "upx":
        return []
    if isinstance(unpacked, Unpacked):
        if unpacked.partial is None:
            return []
        # what decoded was examined, and its findings stand; the rest was never read
        message = (
            f"UPX-packed program is cut short ({unpacked.partial}): only the part that "
            "decoded was examined"
        )
        return [Issue("analyze", location, message, IssueKind.CORRUPT, NAME)]
    # otherwise UPX on Mach-O, big-endian ELF targets, or no readable UPX header
    failed = unpacked or UnpackFailed(
        f"UPX on this {file_format} file is detected, not unpacked", IssueKind.UNSUPPORTED
    )
    message = (
        f"UPX-packed program could not be unpacked ({failed.reason}): "
        "its packed code was not examined"
    )
    return [Issue("analyze", location, message, failed.kind, NAME)]


def _capability_entry(match: capabilities.Match) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": match.rule.id,
        "title": match.rule.title,
        "severity": match.severity.value,
        "evidence": match.evidence,
    }
    if match.offsets:
        out["offsets"] = match.offsets
    if match.disassembly:
        out["disassembly"] = match.disassembly
    if match.expected_for:
        out["expected_for"] = match.expected_for
    return out


def _capability_finding(match: capabilities.Match, location: Location) -> Finding:
    """A capability of low or medium severity is a fact about the binary; high and critical
    ones are behaviours no ordinary program of its kind shows (see docs/binaries.md)."""
    rule = match.rule
    text = _evidence_text(match.evidence)
    if match.offsets:
        text += "; at " + ", ".join(f"{item!r}@{at:#x}" for item, at in match.offsets.items())
    if match.disassembly:
        text += "; code: " + ", ".join(
            f"{name}: {code}" for name, code in match.disassembly.items()
        )
    details: dict[str, Any] = dict(match.evidence)
    if match.offsets:
        details["offsets"] = match.offsets
    if match.disassembly:
        details["disassembly"] = match.disassembly
    behaviour = match.severity.rank >= Severity.HIGH.rank
    return Finding(
        kind=FindingKind.BEHAVIOR if behaviour else FindingKind.BINARY,
        rule_id=f"capability.{rule.id}",
        severity=match.severity,
        title=rule.title,
        message=f"{rule.description} Evidence: {text}.",
        location=location,
        found_by=NAME,
        confidence=Confidence.MEDIUM,
        evidence=Evidence(
            snippet=text,
            offset=min(match.offsets.values()) if match.offsets else None,
            details=details,
        ),
    )


def _evidence_text(evidence: dict[str, list[str]]) -> str:
    return "; ".join(f"{family}: {', '.join(items)}" for family, items in sorted(evidence.items()))


def _finding(
    rule: str,
    severity: Severity,
    title: str,
    message: str,
    location: Location,
    details: dict[str, Any] | None = None,
    offset: int | None = None,
) -> Finding:
    return Finding(
        kind=FindingKind.BINARY,
        rule_id=f"binary.{rule}",
        severity=severity,
        title=title,
        message=message,
        location=location,
        found_by=NAME,
        confidence=Confidence.HIGH,
        evidence=Evidence(offset=offset, details=details or {}),
    )


_NOT_LOADED = frozenset({"object", "kernel-module", "core", "none"})
_BOOT_LOADER_MODULES = (".c32", ".e32", ".e64")


def _hardening_findings(facts: BinaryFacts, location: Location) -> list[Finding]:
    if facts.type in _NOT_LOADED:  # nothing the loader maps as a program: no hardening to lack
        return []
    if facts.format == "elf" and facts.arch == "none":
        # EM_NONE: no system loader runs it. Guile's compiled .go files (lilypond's ccache)
        # are ELF containers of bytecode that Guile maps itself, with no PT_GNU_STACK
        return []
    if _uefi_image(facts):
        # grub's and shim's signed loaders: the firmware loads them, not Windows, whose
        # process mitigations (DEP, ASLR) these flags ask for
        return []
    if location.path.lower().endswith(_BOOT_LOADER_MODULES):
        # syslinux's COM32 modules (gfxboot.c32, ldlinux.e64): ELF files the boot loader
        # links and runs before any operating system, whose stack protections they never meet
        return []
    hardening = facts.hardening
    out: list[Finding] = []
    if hardening.get("nx") is False:
        out.append(
            _finding(
                "exec-stack",
                Severity.MEDIUM,
                "Executable stack",
                f"The {facts.type} asks for an executable stack (PT_GNU_STACK with PF_X, no "
                "PT_GNU_STACK, or MH_ALLOW_STACK_EXECUTION): any stack overflow becomes code "
                "execution.",
                location,
            )
        )
    if hardening.get("pie") is False and facts.type == "executable":
        out.append(
            _finding(
                "no-pie",
                Severity.LOW,
                "Not a position-independent executable",
                "The executable loads at a fixed address, so ASLR cannot move its code.",
                location,
            )
        )
    if hardening.get("relro") == "none":
        out.append(
            _finding(
                "no-relro",
                Severity.LOW,
                "No RELRO",
                "Relocations stay writable after start-up (no PT_GNU_RELRO): GOT overwrites "
                "are easy.",
                location,
            )
        )
    if hardening.get("textrel"):
        out.append(
            _finding(
                "textrel",
                Severity.LOW,
                "Text relocations",
                "The loader must write into the code segment (DT_TEXTREL): code pages become "
                "writable and shared pages are lost.",
                location,
            )
        )
    if hardening.get("rpath") == "insecure":
        paths = [p for p in facts.rpath + facts.runpath if insecure_search_path(p)]
        out.append(
            _finding(
                "insecure-rpath",
                Severity.MEDIUM,
                "Library search path an attacker may control",
                f"RPATH/RUNPATH names relative or world-writable directories: {', '.join(paths)}.",
                location,
                {"paths": paths},
            )
        )
    if facts.format == "pe" and facts.type != "dotnet-assembly":
        if hardening.get("dep") is False:
            out.append(
                _finding(
                    "no-dep",
                    Severity.MEDIUM,
                    "DEP disabled",
                    "The image is not marked NX-compatible (IMAGE_DLLCHARACTERISTICS_NX_COMPAT).",
                    location,
                )
            )
        if hardening.get("aslr") is False:
            out.append(
                _finding(
                    "no-aslr",
                    Severity.LOW,
                    "ASLR disabled",
                    "The image is not relocatable (no DYNAMIC_BASE, or relocations stripped).",
                    location,
                )
            )
    return out


def _uefi_image(facts: BinaryFacts) -> bool:
    """A PE for an EFI subsystem: a UEFI application or driver, which firmware loads."""
    return facts.format == "pe" and str(facts.details.get("subsystem", "")).startswith("efi_")


def _signature_findings(facts: BinaryFacts, location: Location) -> list[Finding]:
    signature = facts.signature or {}
    out: list[Finding] = []
    if facts.format == "pe" and not signature.get("signed"):
        if _uefi_image(facts):
            # refind's file-system drivers, efitools' KeyTool: firmware with Secure Boot on
            # refuses them until someone signs them with a key the machine trusts (what
            # efitools is for); Windows never runs them
            out.append(
                _finding(
                    "unsigned-uefi-image",
                    Severity.INFO,
                    "Unsigned UEFI image",
                    "The UEFI image carries no Authenticode signature: firmware with Secure "
                    "Boot on loads it only once it is signed with a key the machine trusts.",
                    location,
                )
            )
            return out
        if facts.type in ("executable", "kernel-module"):
            out.append(
                _finding(
                    "unsigned-windows-executable",
                    Severity.LOW,
                    "Unsigned Windows executable",
                    "The executable carries no Authenticode signature: receivers cannot tell "
                    "who built it or whether it was changed.",
                    location,
                )
            )
        return out
    if signature.get("kind") == "authenticode" and signature.get("signed"):
        if signature.get("digest_matches") is False:
            out.append(
                _finding(
                    "signature-mismatch",
                    Severity.HIGH,
                    "Authenticode digest does not match the file",
                    "The file was changed after it was signed: the digest the signer signed "
                    f"({signature.get('signed_digest')}) differs from the file's "
                    f"({signature.get('computed_digest')}).",
                    location,
                    {
                        "signed_digest": signature.get("signed_digest"),
                        "computed_digest": signature.get("computed_digest"),
                    },
                )
            )
        elif signature.get("signature_valid") is False:
            out.append(
                _finding(
                    "signature-invalid",
                    Severity.MEDIUM,
                    "Authenticode signature does not verify",
                    f"The PKCS#7 signature is malformed or does not verify "
                    f"({signature.get('verification', 'unknown reason')}).",
                    location,
                )
            )
    return out


def _packed_message(packer: dict[str, Any]) -> str:
    evidence = "Evidence: " + "; ".join(packer["evidence"]) + "."
    if "unpacked" in packer:
        unpacked = packer["unpacked"]
        partial = unpacked.get("partial")
        cut = f"; only in part: {partial}" if partial else ""
        return (
            f"The packed program was unpacked statically ({unpacked['method']}, "
            f"{unpacked['size']} bytes{cut}): its capabilities, system calls and resolved names "
            f"are those of the unpacked code, with offsets in the unpacked image. {evidence}"
        )
    reason = (
        f" It could not be unpacked: {packer['unpack_error']}." if "unpack_error" in packer else ""
    )
    return (
        "Packed code is unreadable to every static check (capabilities, secrets, "
        f"components) until it runs.{reason} {evidence}"
    )


def _hiding_findings(
    packer: dict[str, Any] | None,
    overlay: dict[str, Any] | None,
    embedded: list[dict[str, Any]],
    location: Location,
) -> list[Finding]:
    out: list[Finding] = []
    if packer is not None:
        name = packer["name"]
        title = (
            "Packed with UPX"
            if name == "upx"
            else ("Looks packed (unknown packer)" if name == "unknown" else f"Packed with {name}")
        )
        out.append(
            _finding(
                f"packed-{name}",
                Severity.MEDIUM,
                title,
                _packed_message(packer),
                location,
                {
                    key: value
                    for key, value in (("packer", name), *packer.items())
                    if key in ("packer", "evidence", "unpacked", "unpack_error")
                },
            )
        )
    if overlay is not None and overlay.get("kind") in ("pe", "elf"):
        out.append(
            _finding(
                "overlay-executable",
                Severity.MEDIUM,
                "Executable hidden in the overlay",
                f"An {overlay['kind'].upper()} image is appended after the end of the binary "
                f"(offset {overlay['offset']}, {overlay['size']} bytes).",
                location,
                {"overlay": overlay},
                overlay["offset"],
            )
        )
    if embedded:
        out.append(
            _finding(
                "embedded-executable",
                Severity.LOW,
                "Embedded executable",
                f"{len(embedded)} executable image(s) are embedded inside the binary's data: "
                + ", ".join(f"{e['format']} at offset {e['offset']}" for e in embedded)
                + ".",
                location,
                {"embedded": embedded},
                embedded[0]["offset"],
            )
        )
    return out
