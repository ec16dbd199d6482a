"""The diff reads JavaScript behaviour through the same facts as the scan: a bundled payload
is high, the same behaviour moved to another file and reformatted is not, an emptied package
is sabotage."""

from __future__ import annotations

from pathlib import Path

from pkgbuild import npm_tarball, package_json

from finalexam import diff
from finalexam.model import Severity

LIBRARY = """'use strict';
function serve(path, handler) { return { path, handler }; }
module.exports = { serve };
"""
# what an esbuild bundle of a protest dependency looks like inside the package's .cjs entry
BUNDLED_PAYLOAD = """
var __toModule = (m) => m;
var import_fs = __toModule(require("fs"));
var import_os = __toModule(require("os"));
var desk = "".concat(import_os.homedir, "/Desktop/");
function leaveNote(path2, message) {
  import_fs.default.writeFile(path2, message, function(err) {});
}
leaveNote("".concat(desk).concat("A-NOTE.txt"), "text");
"""
PAYLOAD_MOVED = """import fs from 'fs';
import { homedir } from 'os';

const desk = `${homedir}/Desktop/`;

function leaveNote(target, text) {
    fs.writeFile(target, text, () => {});
}

leaveNote(`${desk}A-NOTE.txt`, 'text');
"""


def _release(tmp_path: Path, version: str, files: dict[str, str]) -> Path:
    members = {"package.json": package_json(version), **files}
    return npm_tarball(tmp_path / f"ipc-{version}.tgz", members)


def _changes(result: object) -> list[tuple[str, str, str | None]]:
    return [(c.kind, c.severity.value, c.location) for c in result.changes]  # type: ignore[attr-defined]


def test_a_payload_bundled_into_the_cjs_entry_makes_the_diff_high(tmp_path: Path) -> None:
    old = _release(tmp_path, "10.1.0", {"ipc.cjs": LIBRARY})
    new = _release(tmp_path, "11.1.0", {"ipc.cjs": LIBRARY + BUNDLED_PAYLOAD})
    result = diff(old, new)
    assert result.risk == "high", _changes(result)
    [added] = [c for c in result.changes if c.evidence.get("rule_id") == "thr-writes-user-folders"]
    assert added.severity is Severity.HIGH and added.location == "ipc.cjs"
    assert added.evidence["line"] == 12


def test_the_same_behaviour_moved_and_reformatted_does_not_raise_the_risk(
    tmp_path: Path,
) -> None:
    old = _release(tmp_path, "1.0.0", {"ipc.cjs": LIBRARY + BUNDLED_PAYLOAD})
    new = _release(tmp_path, "1.0.1", {"ipc.cjs": LIBRARY, "lib/note.mjs": PAYLOAD_MOVED})
    result = diff(old, new)
    [moved] = [
        c
        for c in result.changes
        if c.evidence.get("rule_id") == "thr-writes-user-folders" and c.location == "lib/note.mjs"
    ]
    assert moved.severity is Severity.LOW and moved.evidence["in_old_release"]
    assert result.risk not in ("high", "critical"), _changes(result)


def test_an_emptied_package_is_sabotage(tmp_path: Path) -> None:
    code = {f"lib/part{i}.js": f"module.exports = {i};\n" for i in range(3)}
    old = _release(
        tmp_path, "5.5.3", {"index.js": "module.exports = require('./lib/part0');\n", **code}
    )
    new = _release(tmp_path, "6.6.6", {"Readme.md": "# gone\n"})
    result = diff(old, new)
    [emptied] = [c for c in result.changes if c.kind == "package-emptied"]
    assert emptied.severity is Severity.HIGH
    assert result.risk == "high"
