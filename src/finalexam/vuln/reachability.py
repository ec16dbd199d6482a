"""Go advisories against the functions a Go binary links.

Go's advisories list, per affected package, the functions where the vulnerability lives
(``ecosystem_specific.imports[].symbols``; an import without symbols means the whole
package). A binary whose symbol table (the pclntab's name table, see
``formats/gopclntab.py``) holds none of them cannot reach the vulnerable code: the finding
stays in the report, lowered to ``low`` and marked not reachable, so it does not block. When
the table cannot be read, or a record lists no symbols, nothing is decided.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from finalexam.formats.gopclntab import GoSymbols
from finalexam.model import Location

MAX_LISTED = 20


@dataclass(frozen=True)
class Reachability:
    state: str  # reachable, not-reachable, unknown
    reason: str
    symbols: tuple[str, ...] = ()  # found (reachable) or looked for (not reachable)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"reachable": self.state, "reason": self.reason}
        if self.symbols:
            out["symbols"] = list(self.symbols[:MAX_LISTED])
        return out


def _imports(entries: Iterable[Mapping[str, Any]]) -> list[tuple[str, tuple[str, ...]]]:
    found: list[tuple[str, tuple[str, ...]]] = []
    for entry in entries:
        specific = entry.get("ecosystem_specific")
        imports = specific.get("imports") if isinstance(specific, dict) else None
        for item in imports if isinstance(imports, list) else []:
            path = item.get("path") if isinstance(item, dict) else None
            if isinstance(path, str) and path:
                symbols = item.get("symbols") if isinstance(item.get("symbols"), list) else []
                found.append((path, tuple(s for s in symbols if isinstance(s, str))))
    return found


def go_reachability(
    entries: Iterable[Mapping[str, Any]],
    locations: Iterable[Location],
    tables: Mapping[Location, GoSymbols | None],
) -> Reachability | None:
    """Whether the binaries at ``locations`` link a function the matched ``entries`` name.

    None when the entries name no package or the component was not found in a binary.
    """
    imports = _imports(entries)
    binaries = [location for location in locations if location in tables]
    if not imports or not binaries:
        return None  # no symbols to look for, or not found in a binary (a go.mod, an SBOM)
    read = [tables[location] for location in binaries]
    if any(table is None for table in read):
        return Reachability("unknown", "the binary's symbol table could not be read")
    linked = [table for table in read if table is not None]
    found: set[str] = set()
    wanted: list[str] = []
    for path, symbols in imports:
        if not symbols:
            wanted.append(f"{path} (any function)")
            if any(path in table.packages for table in linked):
                found.add(path)
            continue
        for symbol in symbols:
            wanted.append(f"{path}.{symbol}")
            if any(table.has(path, symbol) for table in linked):
                found.add(f"{path}.{symbol}")
    if found:
        return Reachability(
            "reachable", "the binary links a vulnerable function", tuple(sorted(found))
        )
    return Reachability(
        "not-reachable",
        "none of the vulnerable functions is in the binary's symbol table",
        tuple(wanted),
    )
