"""Names the JavaScript reader knows: Node.js modules and functions by what they do."""

from __future__ import annotations

import re

# require('x') wrapped by a bundler's or compiler's interop helper is still module x
INTEROP_WRAPPERS = frozenset(
    {
        "__toESM",
        "__importDefault",
        "__importStar",
        "_interopRequireDefault",
        "_interopRequireWildcard",
        "__webpack_require__.n",
        "tslib.__importDefault",
        "tslib.__importStar",
    }
)
_HELPER = re.compile(r"(?:\w+\.)?_{1,2}(?:to|import|interop)\w*")


def is_interop_wrapper(name: str) -> bool:
    """A bundler's or compiler's helper around require (``__toModule``, ``__importStar``)."""
    return name in INTEROP_WRAPPERS or _HELPER.fullmatch(name) is not None


# ways to reach require itself: process.mainModule.require('child_process')
REQUIRE_NAMES = frozenset(
    {
        "require",
        "module.require",
        "process.mainModule.require",
        "global.process.mainModule.require",
        "process.mainModule.constructor._load",
        "module.constructor._load",
        "Module._load",
        "createRequire",
        "module.createRequire",
    }
)
GLOBAL_OBJECTS = ("globalThis.", "global.", "window.", "self.")

# code evaluation: the argument runs as JavaScript
EVALUATORS = frozenset(
    {
        "eval",
        "Function",
        "vm.runInThisContext",
        "vm.runInNewContext",
        "vm.runInContext",
        "vm.Script",
        "vm.compileFunction",
        "vm.SourceTextModule",
        "module._compile",
        "Module._compile",
        "Module.prototype._compile",
        "setTimeout",
        "setInterval",
    }
)
# evaluators only when handed a string (setTimeout(fn) is ordinary)
STRING_EVALUATORS = frozenset({"setTimeout", "setInterval"})

SPAWNERS = frozenset(
    f"child_process.{name}"
    for name in (
        "exec",
        "execSync",
        "execFile",
        "execFileSync",
        "spawn",
        "spawnSync",
        "fork",
    )
) | frozenset({"execa", "execa.command", "execa.sync", "shelljs.exec", "cross-spawn"})

_FS = ("fs.", "fs.promises.", "fs/promises.", "fs-extra.", "graceful-fs.")
_WRITE = (
    "writeFile",
    "writeFileSync",
    "appendFile",
    "appendFileSync",
    "createWriteStream",
    "copyFile",
    "copyFileSync",
    "cp",
    "cpSync",
    "mkdir",
    "mkdirSync",
    "symlink",
    "symlinkSync",
    "outputFile",
    "outputFileSync",
    "ensureDir",
    "ensureDirSync",
    "copy",
    "copySync",
)
_DELETE = (
    "rm",
    "rmSync",
    "rmdir",
    "rmdirSync",
    "unlink",
    "unlinkSync",
    "remove",
    "removeSync",
    "emptyDir",
    "emptyDirSync",
)
WRITERS = frozenset(prefix + name for prefix in _FS for name in _WRITE)
DELETERS = frozenset(prefix + name for prefix in _FS for name in _DELETE) | frozenset(
    {"rimraf", "rimraf.sync", "del", "del.sync", "shelljs.rm"}
)
# of a copy, the destination is the second argument
TWO_PATH = frozenset(
    n for n in WRITERS if n.rsplit(".", 1)[-1].startswith(("copy", "cp", "symlink"))
)

NETWORK_CALLS = frozenset(
    {
        "http.request",
        "http.get",
        "https.request",
        "https.get",
        "fetch",
        "axios",
        "axios.get",
        "axios.post",
        "axios.request",
        "request",
        "request.get",
        "request.post",
        "got",
        "got.get",
        "got.post",
        "needle",
        "needle.post",
        "node-fetch",
        "XMLHttpRequest",
        "net.connect",
        "net.createConnection",
        "tls.connect",
        "dgram.createSocket",
        "WebSocket",
        "ws",
        "navigator.sendBeacon",
    }
)
DNS_CALLS = frozenset(
    {
        "dns.lookup",
        "dns.resolve",
        "dns.resolve4",
        "dns.resolve6",
        "dns.resolveTxt",
        "dns.resolveCname",
        "dns.promises.lookup",
        "dns.promises.resolve",
        "dns.promises.resolveTxt",
    }
)
DECODERS = frozenset({"atob", "String.fromCharCode", "unescape", "decodeURIComponent"})
DECIPHERS = ("crypto.createDecipher", "crypto.createDecipheriv", "crypto.privateDecrypt")
# who and where the machine is (not which platform: installers pick binaries by that)
RECON = frozenset({"os.hostname", "os.userInfo", "os.networkInterfaces"})
# request objects of Express/Koa/http servers: data an outside client chose
REQUEST_PARTS = frozenset({"headers", "cookies", "body", "query", "params", "rawHeaders"})

# environment variables that name the user's home or profile folders
HOME_VARIABLES = {
    "HOME": "~",
    "USERPROFILE": "~",
    "HOMEPATH": "~",
    "APPDATA": "~/AppData/Roaming",
    "LOCALAPPDATA": "~/AppData/Local",
}
FOLDER_CALLS = {"os.homedir": "~", "os.tmpdir": "/tmp", "process.cwd": ".", "os.tmpDir": "/tmp"}
PATH_JOINERS = frozenset({"path.join", "path.resolve", "path.posix.join", "path.win32.join"})
# conditions that choose victims by where they are: the time zone or a geolocation lookup
# (protestware's choice; a message by language alone is ordinary localisation) ...
ZONE_READS = re.compile(
    r"resolvedOptions\(\)\s*\.\s*timeZone|\bgetTimezoneOffset\s*\(|process\.env\.TZ\b"
    r"|\bcountry_?[cC]ode\b|\bgeoip\b|ip-api\.com|ipinfo\.io|ipapi\.co"
)
# ... or the language, which gates a harmful action as well as a zone does
LANGUAGE_READS = re.compile(
    r"resolvedOptions\(\)\s*\.\s*locale|process\.env\.(LANG|LC_ALL|LC_MESSAGES|LANGUAGE)\b"
    r"|\bnavigator\.(language|languages)\b|\bos-locale\b"
)
OUTPUT_CALLS = frozenset(
    {"console.log", "console.warn", "console.error", "console.info", "process.stdout.write"}
)
OPENERS = frozenset(
    {"open", "opn", "child_process.exec", "child_process.execSync", "child_process.spawn"}
)


# Properties whose text a page shows: a rendered element's children (compiled JSX), its labels
# and tips. arize-phoenix's settings page explains "Uses boto3 default credential chain: ...
# or ~/.aws/credentials.": a path in such a sentence is read by the user, not opened.
SHOWN_KEYS = "children|title|subtitle|label|placeholder|description|tooltip|helperText|caption"
SHOWN_KEY = re.compile(rf"[\"']?(?:{SHOWN_KEYS})[\"']?\Z")
# the same read from text (a bundle over the parser's size): the key, then a plain literal
SHOWN_TEXT = re.compile(
    rf"(?<![\w$.])(?:{SHOWN_KEYS})[\"']?[^\S\n]*:\s*(?P<literal>\"(?:[^\"\\\n]|\\.)*\""
    r"|'(?:[^'\\\n]|\\.)*'|`(?:[^`\\$]|\\.|\$(?!\{))*`)"
)
