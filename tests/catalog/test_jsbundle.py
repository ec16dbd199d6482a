from __future__ import annotations

from pathlib import Path

import pytest

from builders import write, zip_bytes
from finalexam.catalog import CATALOGERS
from finalexam.catalog.fingerprint import Rule, Scanner, hyperscan, load_rules
from finalexam.catalog.jsbundle import make
from finalexam.config import Config
from finalexam.exam import run_exam

RULES = load_rules("jsbundle")
ENGINES = ["re", *(["hyperscan"] if hyperscan is not None else [])]


@pytest.fixture(scope="module", params=ENGINES)
def scanner(request: pytest.FixtureRequest) -> Scanner:
    return Scanner(RULES, use_hyperscan=request.param == "hyperscan")


def test_registered_and_enough_libraries() -> None:
    assert make in CATALOGERS
    assert len(RULES) >= 15


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_rule_examples(rule: Rule, scanner: Scanner) -> None:
    for text, version in rule.match_examples:
        hits = {(h.rule.id, h.version) for h in scanner.scan(text.encode())}
        assert (rule.id, version) in hits, f"{rule.id} should find {version} in {text!r}"
    for text in rule.benign_examples:
        assert rule.id not in {h.rule.id for h in scanner.scan(text.encode())}, text
    assert rule.ecosystem == "npm" and rule.purl.startswith("pkg:npm/")


def _minified_jquery(version: str) -> str:
    body = (
        '!function(e,t){"use strict";"object"==typeof module&&"object"==typeof module.exports'
        '?module.exports=e.document?t(e,!0):function(e){if(!e.document)throw new Error("jQuery '
        'requires a window with a document");return t(e)}:t(e)}("undefined"!=typeof window?'
        f'window:this,function(C,e){{"use strict";var t="{version}",l=/HTML$/i,'
        "ce=function(e,t){return new ce.fn.init(e,t)};ce.fn=ce.prototype={jquery:t}});"
    )
    banner = f"/*! jQuery v{version} | (c) OpenJS Foundation and other contributors"
    return banner + " | jquery.org/license */\n" + body * 20


def test_minified_jquery_inside_a_wheel_is_an_npm_component(tmp_path: Path) -> None:
    wheel = write(
        tmp_path / "dash-1.0-py3-none-any.whl",
        zip_bytes(
            {
                "dash/static/jquery.min.js": _minified_jquery("3.4.1"),
                "dash/static/app.js": "const version = '3.4.1'; // jQuery v3 compatible\n",
                "dash/__init__.py": "# jQuery v3.4.1 mentioned in a comment of a .py file\n",
            }
        ),
    )
    report = run_exam(wheel, Config(), catalogers=[make])
    assert [(c.name, c.version, c.purl) for c in report.components] == [
        ("jquery", "3.4.1", "pkg:npm/jquery@3.4.1")
    ]
    (jquery,) = report.components
    assert jquery.ecosystem == "npm"
    assert [str(loc) for loc in jquery.locations] == [f"{wheel.name}!/dash/static/jquery.min.js"]
    assert jquery.cpe == "cpe:2.3:a:jquery:jquery:3.4.1:*:*:*:*:*:*:*"
    assert any("jQuery v3.4.1" in e for e in jquery.evidence)


def test_bundle_with_several_libraries(tmp_path: Path) -> None:
    bundle = (
        "/*! For license information please see main.js.LICENSE.txt */\n"
        + _minified_jquery("1.12.4")
        + "\n/*!\n  * Bootstrap v4.6.2 (https://getbootstrap.com/)\n  */\n"
        + "/*! @license DOMPurify 2.4.7 | (c) Cure53 */ var x=1;"
    )
    path = write(tmp_path / "main.3f2a.js", bundle.encode())
    found = {(c.name, c.version) for c in run_exam(path, Config(), catalogers=[make]).components}
    assert found == {("jquery", "1.12.4"), ("bootstrap", "4.6.2"), ("dompurify", "2.4.7")}
