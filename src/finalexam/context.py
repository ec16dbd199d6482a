"""Where a file sits in a release, decided once for every analyzer and for the policy.

A finding keeps its evidence wherever it is; its *context* decides whether it blocks. A file
is ``shipped`` unless its folder or name says it is a test, documentation, an example or a
helper script of the source tree, and even then it is shipped when shipped code imports or
runs it: an import (``from .tools import x``, ``import pkg.tests.helpers``), a module or
path named in a string (``importlib.import_module("pkg.docs.x")``, ``exec(open(
"scripts/x.py").read())``, ``"postinstall": "node scripts/x.js"``), an entry point
(``pkg.tools.cli:main``), or package.json ``main``/``bin``/``exports``/``scripts``. Reached
files pass it on: what they import is reached too. Moving a payload into ``tools/`` and
importing it therefore demotes nothing.

References are gathered during the walk (``References.observe``); ``resolve`` then gives
each location its context.
"""

from __future__ import annotations

import ast
import hashlib
import hmac
import posixpath
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources

from finalexam.formats import jsonsafe
from finalexam.model import Blob, FileContext, FileEntry, Finding, FindingKind, Location

# Folder names (matched on each folder of the path, also with a prefix: unit-tests,
# my_examples) and what they hold.
_FOLDERS: tuple[tuple[FileContext, str], ...] = (
    (
        FileContext.TEST,
        r"tests?|testing|unittests?|spec|specs|__tests__|__mocks__|e2e|fixtures?|__fixtures__"
        r"|testdata|test_data|testsuite|self_?tests?",  # pycryptodomex ships Cryptodome/SelfTest
    ),
    (FileContext.DOCS, r"docs?|documentation"),
    (FileContext.EXAMPLE, r"examples?|samples?|demos?"),
    (FileContext.TOOLING, r"scripts|tools|ci|benchmarks?|\.github"),
)
_FOLDER_PATTERNS = tuple(
    (context, re.compile(rf"^(?:.*[\s_.-])?(?:{words})$")) for context, words in _FOLDERS
)
_TEST_FILE = re.compile(
    r"^(?:test_.*\.py|.*_(?:unit)?test\.(?:py|go|js|ts|c|cc|cpp|cxx)"
    r"|.*\.(?:spec|test)\.[cm]?[jt]sx?|conftest\.py"
    r"|tests?(?:[-_][\w-]*)?\.py"  # jwcrypto/tests.py, tests-cookbook.py; limnoria's GPG/test.py
    r"|test[\w-]*\.(?:sh|bash|sql)"  # coturn's testmongosetup.sh, testsqldbsetup.sql
    r"|.*[-_]tests\.[a-z]+"  # privoxy's regression-tests.action
    r"|.*_temporarykey\.pfx"  # Visual Studio's key for signing local test packages (cmake)
    r")$"
)
# jsonparse's bench.js, a benchmarks.py: a benchmark by name, as under benchmarks/
_BENCHMARK_FILE = re.compile(r"^bench(?:mark)?s?(?:[-_.][\w-]*)?\.(?:[cm]?js|ts|py)$")
# botocore's examples-1.json, a package's sample.env: examples by name
_EXAMPLE_FILE = re.compile(r"^(?:examples?|samples?)(?:[-_.][^/]*)?$")
# Message catalogues by folder (axe-core's locales/nb.json, rkhunter's db/i18n/tr); code there
# (moment's locale/*.js) stays shipped: a library may load it by a name built at run time
_CATALOGUE_FOLDER = re.compile(r"(?:^|/)(?:i18n|l10n|locales?|translations)/")
# A translation file of any kind, code included, by its locale's name in a folder of
# translations (postfixadmin's languages/cs.lang, adminer's lang/pt-br.inc.php, zoneminder's
# lang/pt_br.php), or any file in a locale's folder there (roundcube's localization/br/)
_LOCALE = r"[a-z]{2,3}(?:[_-](?:[a-z]{2}|[a-z]{4}|\d{3}))?"
_TRANSLATION_FILE = re.compile(
    r"(?:^|/)(?:i18n|l10n|locales?|translations?|langs?|languages?|locali[sz]ations?)/"
    rf"(?:{_LOCALE}(?:\.[a-z]{{2,5}}){{1,2}}|{_LOCALE}/[^/]+)\Z"
)


def _message_catalogue(path: str) -> bool:
    lowered = path.lower()
    return bool(_CATALOGUE_FOLDER.search(lowered)) and not lowered.endswith(_CATALOGUE_CODE)


def translation_file(path: str) -> bool:
    """A file of one language's words for the user interface, whatever its format: its
    entries are labels (``'Password' => 'Heslo'``), which a library loads by locale."""
    lowered = path.lower()
    return bool(_TRANSLATION_FILE.search(lowered) or _MESSAGES_FILE.search(lowered))


# A message bundle in one language: h2's _text_cs.prop, LocalStrings_fr.properties
# (ISO 639-1 codes; those spelled as common English words, such as "as", "be", "my", "or"
# and "to", are left out)
_LANGUAGES = (
    "af|ar|az|bg|bn|br|bs|ca|cs|cy|da|de|el|en|eo|es|et|eu|fa|fi|fr|fy|ga|gd|gl|gu|he|hi|hr"
    "|hu|hy|ia|id|in|is|it|ja|ka|kk|km|kn|ko|ku|ky|la|lb|lt|lv|mk|ml|mn|mr|ms|mt|nb|ne|nl|nn"
    "|no|oc|pa|pl|ps|pt|ro|ru|si|sk|sl|sq|sr|sv|sw|ta|te|tg|th|tk|tl|tr|tt|ug|uk|ur|uz|vi|wa"
    "|xh|yi|zh|zu"
)
# A translation in a folder of messages, named for a language alone (the folder name is
# common for code too): ejabberd's priv/msgs/ca.msg ({"Password","Contrasenya"}.)
_MESSAGES_FILE = re.compile(
    rf"(?:^|/)(?:msgs?|messages)/(?:{_LANGUAGES})(?:[_-][a-z]{{2}})?\.[a-z]{{2,5}}\Z"
)
_MESSAGE_BUNDLE = re.compile(rf"^[\w-]*_(?:{_LANGUAGES})(?:_[A-Za-z]{{2}})?\.(?:prop|properties)$")
_DOC_FILE = re.compile(
    r"^(?:readme|changelog|changes|history|news|authors|contributing)(?:\.[a-z]+)?$"
    r"|\.(?:md|markdown|rst|adoc|txt)$"
)
# Text files that name configuration, not prose, although they end in .txt.
_CONFIG_TXT = frozenset(
    {"entry_points.txt", "top_level.txt", "requires.txt", "dependency_links.txt", "cmakelists.txt"}
)
# Files an installer runs whatever folder they are in.
INSTALL_FILES = frozenset(
    {"setup.py", "extconf.rb", "binding.gyp", "install.rb", "mkrf_conf.rb", "package.json"}
)

# The documentation trees of an operating system (manual and info pages, /usr/share/doc).
_SYSTEM_DOCS = re.compile(
    r"(?:^|/)usr/(?:share|local/share)/(?:doc|man|info|help|gtk-doc)/|(?:^|/)man/man[1-9n]\w*/"
)
_WHEEL_SCRIPTS = re.compile(r"(?:^|/)[^/]+\.data/scripts/")

# Folders where a package carries other projects' code: shared libraries bundled by wheel
# repair tools (numpy.libs, .dylibs), vendored copies (pip/_vendor), npm dependencies.
_VENDOR_FOLDER = re.compile(
    r"^(?:[^/]*\.libs|\.dylibs|_vendor|vendor|vendored|third_party|thirdparty|3rdparty"
    r"|node_modules)$"
)
# In a container image: the distribution's own trees (what its package manager installed).
_DISTRIBUTION_TREE = re.compile(r"^\.?/?(?:usr/(?!local/)|bin/|sbin/|lib/|lib32/|lib64/|etc/|var/)")
# Code that runs when the package is used: findings here can block a release.
RUNS = (FileContext.SHIPPED, FileContext.VENDORED)


# A Java archive inside the artifact: a dependency a Java build produced and the package
# bundles whole (Spark's deps/jars, JNA and snappy-java with their native libraries for every
# platform). An operating-system package's own jars are its build, not a bundle.
_JAVA_ARCHIVE = re.compile(r"\.(?:jar|war|ear|aar)$", re.IGNORECASE)
_OS_PACKAGE = re.compile(r"\.(?:deb|udeb|rpm|apk)$", re.IGNORECASE)


def vendored(location: Location, image: bool) -> bool:
    """Shipped code another project built: bundled libraries, vendored copies, the contents
    of bundled Java archives, and the operating-system files of a container image."""
    steps = location.chain[1:]
    if image and steps and _DISTRIBUTION_TREE.match(steps[0]):
        return True
    if not _OS_PACKAGE.search(location.chain[0]) and any(
        _JAVA_ARCHIVE.search(step) for step in steps[:-1]
    ):
        return True
    return any(_VENDOR_FOLDER.match(f) for step in steps for f in step.lower().split("/")[:-1])


# npm installs a package without its lock files (only npm-shrinkwrap.json counts): in an npm
# tarball they describe the author's development tree, not what runs.
_NPM_DEV_LOCK = re.compile(r"^package/(?:package-lock\.json|yarn\.lock|pnpm-lock\.yaml)$")


def path_context(location: Location | str) -> FileContext:
    """The context a file's folders and name give it, before any reference is considered.

    Every member path of the chain counts (a jar under ``tests/`` is test material as a
    whole), the artifact's own name does not.
    """
    chain = (location,) if isinstance(location, str) else location.chain[1:] or location.chain
    name = chain[-1].rsplit("/", 1)[-1].lower()
    if name in INSTALL_FILES or name.endswith(".pth"):
        return FileContext.SHIPPED
    if _NPM_DEV_LOCK.match(chain[-1]):
        return FileContext.TOOLING
    for step in chain:
        folders = step.lower().split("/")[:-1]
        if _SYSTEM_DOCS.search(step.lower()):
            return FileContext.DOCS
        if _WHEEL_SCRIPTS.search(step.lower()):
            continue  # a wheel's scripts are installed as commands
        for folder in folders:
            for context, pattern in _FOLDER_PATTERNS:
                if pattern.match(folder):
                    return context
    if _MESSAGE_BUNDLE.match(chain[-1].rsplit("/", 1)[-1]) or _message_catalogue(chain[-1]):
        return FileContext.DOCS
    if _TEST_FILE.match(name):
        return FileContext.TEST
    if _EXAMPLE_FILE.match(name):
        return FileContext.EXAMPLE
    if _BENCHMARK_FILE.match(name):
        return FileContext.TOOLING
    if _DOC_FILE.search(name) and name not in _CONFIG_TXT:
        return FileContext.DOCS
    return FileContext.SHIPPED


# --- references: what shipped code imports or runs ----------------------------------------

_CODE_SUFFIXES = (".py", ".pyw", ".js", ".mjs", ".cjs", ".ts", ".sh", ".ps1", ".rb", ".pl")
_CATALOGUE_CODE = (*_CODE_SUFFIXES, ".pm", ".php", ".inc", ".lua")  # code in a catalogue folder
_PY_IMPORT = re.compile(r"^[ \t]*import[ \t]+([\w. \t,]+)", re.MULTILINE)
_PY_FROM = re.compile(
    r"^[ \t]*from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]+(\([^)]*\)|[^\n#;]*)", re.MULTILINE
)
_JS_MODULE = re.compile(
    r"""(?:require|import)\s*\(\s*["'`]([^"'`\n]+)["'`]\s*\)"""
    r"""|(?:^|[;\s])(?:import|export)\s[^;'"`]*?from\s*["']([^"'\n]+)["']"""
    r"""|(?:^|[;\s])import\s*["']([^"'\n]+)["']""",
    re.MULTILINE,
)
_STRING = re.compile(r"""(["'`])([^"'`\n\\]{1,300})\1""")
# Python has no backtick strings: ``conf.py`` in a docstring is reStructuredText, not a path
_PY_STRING = re.compile(r"""(["'])([^"'\n\\]{1,300})\1""")
_DOTTED = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")
# ``name = pkg.cli:main`` (entry_points.txt, setup.cfg, pyproject.toml, setup.py strings)
_ENTRY_POINT = re.compile(r"=\s*[\"']?([A-Za-z_][\w.]*)\s*:\s*[A-Za-z_][\w.]*")
_ENTRY_POINT_STRING = re.compile(r"\s*(?:[\w.-]+\s*=\s*)?([A-Za-z_][\w.]*):[A-Za-z_][\w.]*\s*")
_PATH_TOKEN = re.compile(r"[\w.@-]*/[\w./@-]+|[\w.@-]+\.(?:py|js|mjs|cjs|sh|ps1|ts)\b")
_SOURCE_SUFFIXES = (".py", ".pyw", ".js", ".mjs", ".cjs", ".ts", ".sh", ".json", ".toml")
_SOURCE_NAMES = frozenset({"entry_points.txt", "setup.cfg"})
MAX_SOURCE_BYTES = 2 * 1024 * 1024


def _key(path: str) -> str:
    """A file as code refers to it: no code suffix, a package's ``__init__``/``index`` as its
    folder."""
    for suffix in _CODE_SUFFIXES:
        if path.endswith(suffix):
            path = path[: -len(suffix)]
            break
    head, _, tail = path.rpartition("/")
    if tail in ("__init__", "index") and head:
        return head
    return path


@dataclass
class _Refs:
    exact: set[str] = field(default_factory=set)  # container-relative keys
    suffix: set[str] = field(default_factory=set)  # keys matched at a folder boundary


def _python_refs(text: str, folder: str, refs: _Refs) -> None:
    for match in _PY_IMPORT.finditer(text):
        for part in match.group(1).split(","):
            name = part.split()[0] if part.split() else ""
            if name:
                refs.suffix.add(name.replace(".", "/"))
    for match in _PY_FROM.finditer(text):
        module, names = match.group(1), match.group(2).strip("() \t\n")
        dots = len(module) - len(module.lstrip("."))
        base = module[dots:].replace(".", "/")
        imported = [n.split()[0] for n in names.replace("\n", " ").split(",") if n.split()]
        targets = [base] if base else []
        targets += [f"{base}/{n}" if base else n for n in imported if n != "*"]
        if dots:
            anchor = folder
            for _ in range(dots - 1):
                anchor = posixpath.dirname(anchor)
            refs.exact.update(posixpath.normpath(posixpath.join(anchor, t)) for t in targets)
        else:
            refs.suffix.update(targets)


def _javascript_refs(text: str, folder: str, refs: _Refs) -> None:
    for match in _JS_MODULE.finditer(text):
        spec = next(g for g in match.groups() if g)
        if spec.startswith("."):
            refs.exact.add(_key(posixpath.normpath(posixpath.join(folder, spec))))


def _string_refs(text: str, folder: str, refs: _Refs, strings: re.Pattern[str]) -> None:
    """Module names and paths written as strings: dynamic imports, ``exec(open(...))``,
    subprocess command lines, entry points, package.json fields."""
    for match in strings.finditer(text):
        value = match.group(2).strip()
        if "://" in value:
            continue
        entry = _ENTRY_POINT_STRING.fullmatch(value)
        if entry:
            refs.suffix.add(entry.group(1).replace(".", "/"))
        if _DOTTED.fullmatch(value):
            refs.suffix.add(value.replace(".", "/"))
        for token in _PATH_TOKEN.findall(value):
            if token.endswith("/"):
                continue  # a folder runs nothing
            if token.startswith("."):
                refs.exact.add(_key(posixpath.normpath(posixpath.join(folder, token))))
            elif token:
                refs.suffix.add(_key(posixpath.normpath(token)))


def _entry_point_refs(text: str, refs: _Refs) -> None:
    for match in _ENTRY_POINT.finditer(text):
        refs.suffix.add(match.group(1).replace(".", "/"))


# Where a project file declares entry points: whole sections (pyproject's [project.scripts],
# setup.cfg's [options.entry_points]) or keys holding an inline table or a file reference.
# Elsewhere ``name = "a:b"`` is a tool's setting (jupytext's ``build_cmd = "build:prod"``,
# an npm script the build hook runs), no module to import.
_ENTRY_POINT_SECTION = re.compile(
    r"(?:project\.(?:scripts|gui-scripts|entry-points)|tool\.poetry\.(?:scripts|plugins)"
    r"|tool\.flit\.(?:scripts|entrypoints)|options\.entry_points|entry_points)\b"
)
_ENTRY_POINT_KEY = re.compile(
    r"[ \t]*[\"']?(?:scripts|gui-scripts|entry-points|entry_points|console_scripts"
    r"|gui_scripts)[\"']?[ \t]*="
)
# a section's header in INI and TOML files: "[options.entry_points]", "[[tool.x]]"
_TEXT_SECTION_HEADER = re.compile(r"^[^\S\n]*\[\[?[^\S\n]*([^\]\n]+?)[^\S\n]*\]", re.MULTILINE)


def _entry_point_lines(text: str) -> str:
    """The lines of a project file (TOML, INI) that declare entry points."""
    kept, in_section = [], False
    for line in text.splitlines():
        header = _TEXT_SECTION_HEADER.match(line)
        if header:
            in_section = _ENTRY_POINT_SECTION.match(header.group(1).strip("\"' ")) is not None
        elif in_section or _ENTRY_POINT_KEY.match(line):
            kept.append(line)
    return "\n".join(kept)


def is_source(name: str) -> bool:
    """A file whose references decide what else runs (code, manifests, entry points)."""
    lowered = name.lower()
    return lowered.endswith(_SOURCE_SUFFIXES) or lowered in _SOURCE_NAMES


@dataclass
class References:
    """What every source-like file of the walk refers to, keyed by its location."""

    by_location: dict[Location, _Refs] = field(default_factory=dict)

    @staticmethod
    def wants(entry: FileEntry) -> bool:
        return entry.size <= MAX_SOURCE_BYTES and is_source(entry.name)

    @classmethod
    def of_texts(cls, texts: Mapping[Location, str]) -> References:
        """The references of files whose text is already at hand (a release diff's)."""
        return cls(
            {
                location: references_in(location.path, text)
                for location, text in texts.items()
                if len(text) <= MAX_SOURCE_BYTES and is_source(location.name)
            }
        )

    def observe(self, entry: FileEntry) -> None:
        if not self.wants(entry):
            return
        try:
            text = entry.text()
        except Exception:  # unreadable content refers to nothing; its analyzers say why
            return
        self.by_location[entry.location] = references_in(entry.path, text)


def references_in(path: str, text: str) -> _Refs:
    folder = posixpath.dirname(path)
    name = path.rsplit("/", 1)[-1].lower()
    refs = _Refs()
    if name == "package.json":
        _package_json_refs(text, folder, refs)
    elif name.endswith((".toml", ".cfg")):
        # configuration names test folders for test runners and coverage (testpaths,
        # omit), and settings of tools: only its entry points say what runs
        _entry_point_refs(_entry_point_lines(text), refs)
    elif name.endswith((".json", ".txt")):  # entry_points.txt: every section is a group
        _entry_point_refs(text, refs)
    else:
        python = name.endswith((".py", ".pyw"))
        if name == "setup.py":
            text = _what_setup_runs(text)
        if python:
            _python_refs(text, folder, refs)
        elif name.endswith((".js", ".mjs", ".cjs", ".ts")):
            _javascript_refs(text, folder, refs)
        _string_refs(text, folder, refs, _PY_STRING if python else _STRING)
    return refs


# setup() arguments that list what is installed (a package list names every test package
# too), and the commands that only run in a checkout (``setup.py test``)
_SETUP_LISTS = frozenset({"packages", "py_modules", "package_dir", "package_data", "data_files"})
_CHECKOUT_COMMANDS = frozenset({"test", "tests", "pytest"})


def _what_setup_runs(text: str) -> str:
    """setup.py without what installing it never runs: its package lists and the classes of
    its test command (pycrypto 2.6.1: ``cmdclass={'test': TestCommand}`` imports
    ``Crypto.SelfTest``, and ``packages`` lists it). A class registered for any other command
    (``install``, ``build_py``), or used elsewhere, stays; text that does not parse stays whole."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError):
        return text
    blank: list[ast.AST] = []
    test_classes: set[str] = set()
    other_uses: set[str] = set()
    registered: set[int] = set()  # the class names that are cmdclass entries
    for node in ast.walk(tree):
        pairs: list[tuple[str, ast.expr]] = []
        if isinstance(node, ast.Dict):
            pairs = [
                (k.value, v)
                for k, v in zip(node.keys, node.values, strict=True)
                if isinstance(k, ast.Constant) and isinstance(k.value, str)
            ]
        elif isinstance(node, ast.Call):
            pairs = [(k.arg, k.value) for k in node.keywords if k.arg]
        for key, value in pairs:
            if key in _SETUP_LISTS:
                blank.append(value)
            elif key == "cmdclass" and isinstance(value, ast.Dict):
                for command, cls in zip(value.keys, value.values, strict=True):
                    if isinstance(cls, ast.Name):
                        registered.add(id(cls))
                        checkout = isinstance(command, ast.Constant) and (
                            command.value in _CHECKOUT_COMMANDS
                        )
                        (test_classes if checkout else other_uses).add(cls.id)
    classes: list[ast.ClassDef] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in test_classes and id(node) not in registered:
            other_uses.add(node.id)  # TestCommand used elsewhere, say as another's base
        elif isinstance(node, ast.ClassDef):
            classes.append(node)
    blank += [node for node in classes if node.name in test_classes - other_uses]
    lines = text.encode("utf-8", "surrogateescape").splitlines(keepends=True)
    for node in blank:
        _blank_lines(lines, node)
    return b"".join(lines).decode("utf-8", "replace")


def _blank_lines(lines: list[bytes], node: ast.AST) -> None:
    """Replace a node's source with spaces, keeping the line structure (the offsets are
    UTF-8 byte offsets)."""
    first, last = getattr(node, "lineno", 0), getattr(node, "end_lineno", None)
    start, end = getattr(node, "col_offset", 0), getattr(node, "end_col_offset", None)
    if not first or last is None or end is None:
        return
    for number in range(first, last + 1):
        line = lines[number - 1]
        low = start if number == first else 0
        high = end if number == last else len(line.rstrip(b"\r\n"))
        lines[number - 1] = line[:low] + b" " * (high - low) + line[high:]


# npm runs these scripts on install; the others (test, lint, build) only in a checkout.
NPM_INSTALL_SCRIPTS = ("preinstall", "install", "postinstall", "prepare", "prepublish")


def _package_json_refs(text: str, folder: str, refs: _Refs) -> None:
    manifest = jsonsafe.loads_object(text)
    if manifest is None:
        return
    values: list[object] = [manifest.get(k) for k in ("main", "module", "browser", "bin")]
    values.append(manifest.get("exports"))
    scripts = manifest.get("scripts")
    if isinstance(scripts, dict):
        values.extend(scripts.get(k) for k in NPM_INSTALL_SCRIPTS)
    for value in json_strings(values):
        for token in _PATH_TOKEN.findall(value) or [value]:
            if not token.endswith("/"):
                refs.exact.add(_key(posixpath.normpath(posixpath.join(folder, token))))


def json_strings(value: object) -> Iterator[str]:
    """Every string in a JSON value, nested maps and lists included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from json_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from json_strings(item)


def _suffixes(key: str) -> Iterator[str]:
    parts = key.split("/")
    for start in range(len(parts)):
        yield "/".join(parts[start:])


def _nothing(location: Location) -> bool:
    return False


@dataclass(frozen=True)
class Contexts:
    """Every location's context: its path context, unless shipped code reaches it."""

    reached: frozenset[Location]
    image: bool = False  # the artifact is a container image
    # In an image: whether the package manager's database lists the file as installed by an
    # OS package (catalog/ownership.py). Such a file is the distribution's build.
    distro_owned: Callable[[Location], bool] = _nothing
    # Public key ids of certificates for reserved test names only, and of their CAs
    # (testcerts.py): a private key that is one of them is test material wherever it sits.
    test_keys: frozenset[str] = frozenset()

    def of(self, location: Location | None) -> FileContext:
        if location is None:
            return FileContext.SHIPPED
        context = path_context(location)
        if context is FileContext.SHIPPED or self._reached(location):
            return FileContext.VENDORED if vendored(location, self.image) else FileContext.SHIPPED
        return context

    def _reached(self, location: Location) -> bool:
        # a member of a reached archive is reached, like the archive itself
        chain = location.chain
        return any(Location(chain[:n]) in self.reached for n in range(2, len(chain) + 1))

    def apply(self, findings: Iterable[Finding]) -> list[Finding]:
        return [self._decided(f) for f in findings]

    def _decided(self, finding: Finding) -> Finding:
        if finding.context is None:
            finding = replace(finding, context=self.of(finding.location))
        if (
            finding.kind is FindingKind.SECRET
            and finding.context in RUNS
            and finding.evidence.details.get("public_key_sha256") in self.test_keys
        ):
            # urllib3's dummyserver/certs: the key of a certificate for localhost only
            finding = replace(finding, context=FileContext.TEST)
        if (
            self.image
            and finding.kind is FindingKind.SECRET
            and finding.context in RUNS
            and finding.location is not None
            and self.distro_owned(finding.location)
        ):
            # A value in a file the distribution's package installed (a Maven pom's release
            # key id, an apport hook's package list) is the distribution's to answer for,
            # as its vulnerabilities are: reported, not blocking the image. Behaviour and
            # malicious findings there still block (the xz backdoor came in a distro package).
            finding = replace(finding, context=FileContext.DISTRO)
        return finding


def resolve(
    locations: Iterable[Location],
    references: References,
    image: bool = False,
    distro_owned: Callable[[Location], bool] = _nothing,
    test_keys: frozenset[str] = frozenset(),
) -> Contexts:
    """Follow references from shipped files into test, docs, example and tooling folders."""
    demoted: dict[tuple[str, ...], dict[str, list[Location]]] = {}  # container -> key -> files
    exact_index: dict[tuple[tuple[str, ...], str], list[Location]] = {}
    for location in locations:
        if path_context(location) is FileContext.SHIPPED:
            continue
        container, key = location.chain[:-1], _key(location.path)
        exact_index.setdefault((container, key), []).append(location)
        by_suffix = demoted.setdefault(container, {})
        for suffix in _suffixes(key):
            by_suffix.setdefault(suffix, []).append(location)
    if not demoted:
        return Contexts(frozenset(), image, distro_owned, test_keys)
    reached: set[Location] = set()
    queue = [loc for loc in references.by_location if path_context(loc) is FileContext.SHIPPED]
    while queue:
        source = queue.pop()
        refs = references.by_location.get(source)
        if refs is None:
            continue
        container = source.chain[:-1]
        by_suffix = demoted.get(container, {})
        targets: list[Location] = []
        for key in refs.exact:
            targets.extend(exact_index.get((container, key), ()))
        for key in refs.suffix:
            targets.extend(by_suffix.get(key, ()))
        for target in targets:
            if target not in reached:
                reached.add(target)
                queue.append(target)
    return Contexts(frozenset(reached), image, distro_owned, test_keys)


# --- build-tool output ------------------------------------------------------------------------

# Messages of the Windows script launchers Python build tools write next to every console
# script: distlib's (pip: t64.exe, w64.exe) and setuptools' (cli-64.exe, gui-64.exe).
_LAUNCHER_MARKERS = (
    (b"Unable to find an appended archive.", b"in shebang line"),
    (b"-script.py", b"Cannot find Python executable"),
    # uv's trampoline (uv-trampoline-x86_64-console.exe, which pex also ships): the Python
    # path and the script's zip are appended behind the magic numbers it names
    (b"Magic number 'UVSC' or 'UVPY' not found", b"Failed to spawn the python child process"),
)
MAX_LAUNCHER_BYTES = 1024 * 1024


def is_script_launcher(data: bytes) -> bool:
    """A script launcher a build tool generates: a small stub that runs the script or archive
    appended to it or beside it."""
    return len(data) <= MAX_LAUNCHER_BYTES and any(
        all(marker in data for marker in markers) for markers in _LAUNCHER_MARKERS
    )


# --- material: what the content around a value says it is ---------------------------------

# Words that introduce usage text, examples and self-tests in manuals, help text and string
# tables (`age-keygen`'s usage shows a sample key after "$ age-keygen").
_EXAMPLE_MARKER = re.compile(
    rb"(?i)(?:usage:|examples?:|example::|for example|e\.g\.|sample::|\n[ \t]*\$ [a-z]|>>> "
    rb"|(?:^|[\s#;*/])ex:[ \t]"  # siegerc's comments: "# ex: login-url = ...&pass=foo"
    rb"|(?:^|[\s#;*/])eg[ \t]?:[ \t]"  # zoneminder's Keekoon.pm: "#   eg : http://admin:..."
    rb"|test[ -]vectors?|self-?tests?|known[ -]answer"
    # a library's built-in unit tests: their assertion messages sit beside their keys
    # (librdkafka's "RDUT: FAIL: ... assert failed: ..." in confluent-kafka's wheel)
    rb"|assert(?:ion)? failed)"
)
_MARKER_WINDOW = 240
# The comment heading a value's statement or block says what it is: not secret (gsutil's
# "This API key is not secret and is used to identify gsutil during anonymous requests"),
# public (its test keys' "These are public and open-source, so don't ever use them for real
# data"). Its author published the value on purpose; the finding stays in the report.
_NOT_SECRET_NOTE = re.compile(
    rb"(?i)\b(?:this|these|they|it|the)\s+(?:[\w-]+\s+){0,3}(?:is|are)\s+"
    rb"(?:not\s+(?:a\s+)?secrets?|public)\b"
    rb"|\b(?:don'?t|do\s+not|never)\s+(?:ever\s+)?use\s+(?:them|it|this|these)\s+for\s+real\b"
)
_NOTE_REACH = 20  # lines read upwards for the comment nearest above the value
# A secret linter's allowance on the value's line: the author reviewed the value and said it
# is no secret (ibis' BigQuery backend keeps its CLIENT_SECRET, the OAuth client of an
# installed application and public by Google's design, on a line whose noqa names Ruff's
# S105). Bandit and Ruff (S105-S107, nosec), detect-secrets (pragma: allowlist secret),
# gitleaks and trufflehog markers.
_ALLOWED_HERE = re.compile(
    rb"(?i)\bnoqa:[ \t]*(?:[A-Z]+\d+,[ \t]*)*S10[5-7]\b|#[ \t]*nosec\b"
    rb"|pragma:[ \t]*allowlist[ \t]+secret|gitleaks:allow|trufflehog:ignore"
)
# In code, only words right before the value on its line: an example given in prose.
# A URL's scheme may carry a driver before the match (kombu: "# e.g. sqla+mysql://root:...").
_EXAMPLE_LEAD = re.compile(rb"(?i)(?:\bexample|\be\.g\.|\bsample)[:,]?[ \t]*(?:[a-z]\w*\+)?\Z")
_LEAD_WINDOW = 40
# In code, a quoted mapping key named "examples" the value is nested under: an API
# description's sample request or response (ghapi's OpenAPI table: 'body_examples': {...}).
_EXAMPLES_KEY = re.compile(rb"""(?i)\w*examples?["']\s*:""")
# A help text's heading the lines under it are indented below (wfuzz's usage: "Examples:",
# then "\twfuzz ... ?user=FUZZ&pass=FUZ2Z"), or a heading that starts with the word (ddclient's
# "Example ${program}.conf file entries:" over each protocol's sample configuration)
_EXAMPLES_HEADING = re.compile(rb"(?i)\bexamples?\s*:\s*\Z|^\s*examples?\b[^:\n]{0,60}:\s*\Z")
# A function named for its examples the value is returned from (mediawiki's API modules:
# getExamplesMessages() maps sample queries, 'action=validatepassword&password=querty', to
# their descriptions)
_EXAMPLES_FUNCTION = re.compile(rb"(?i)\b(?:function|def|func|fun|sub)\s+\w*examples?\w*\s*\(")
# Documentation comments (/** ... */: JSDoc, PHPDoc, Javadoc, Doxygen) describe the code and
# show how to call it; their sample values are documentation, as a Python docstring's are
_DOC_COMMENT = re.compile(rb"/\*\*(?![*/])(?:[^*]|\*(?!/))*\*/")
_DOC_COMMENT_REACH = 64 * 1024  # a doc comment longer than this is no documentation
_DOC_COMMENT_SOURCES = (
    ".js", ".mjs", ".cjs", ".jsx", ".ts", ".tsx", ".php", ".inc", ".java", ".kt", ".scala",
    ".groovy", ".c", ".h", ".cc", ".cpp", ".hpp", ".cs", ".swift", ".dart", ".rs",
)  # fmt: skip
_LINE_WINDOW = 400
_NESTING_WINDOW = 4096
_DATA_URI = re.compile(rb"data:[\w.+/-]{1,80};base64,")
_BASE64_RUN = re.compile(rb"[A-Za-z0-9+/=\s\\]*\Z")
_DATA_URI_WINDOW = 256 * 1024
_TRIPLE_QUOTED = re.compile(rb'(?s)[rRuUbB]{0,2}("""|\'\'\')(.*?)\1')
# right after def/class ...:, with Windows line ends too (scapy 2.8's layers/spnego.py)
_DOCSTRING_OPENER = re.compile(rb":[ \t]*(?:#[^\n]*)?\r?\n\s*\Z")
_COMMENT_LINES = re.compile(rb"(?m)^[ \t]*#[^\n]*$")
# Module constants that hold documentation by convention (every Ansible module and plug-in
# keeps DOCUMENTATION, EXAMPLES and RETURN as YAML in such strings)
_DOC_CONSTANT = re.compile(rb"(?:^|\n)(?:DOCUMENTATION|EXAMPLES?|RETURN|USAGE)[ \t]*=[ \t]*\Z")
# Perl: modules, scripts and manuals; POD commands open a line ("=head1", "=cut")
_PERL_SOURCES = (".pm", ".pl", ".pod", ".t")
_POD_COMMAND = re.compile(rb"(?:^|\n)=[a-zA-Z]")
_SOURCE_CODE = (".py", ".pyw", ".js", ".mjs", ".cjs", ".ts", ".jsx", ".tsx", ".rb", ".go", ".java")


def _hkdf_expand_label(name: str, secret: bytes, label: bytes, size: int) -> bytes:
    """HKDF-Expand-Label of TLS 1.3 (RFC 8446 §7.1) over the hash of empty input, one block."""
    context = hashlib.new(name, b"").digest()
    info = size.to_bytes(2, "big") + bytes([len(label)]) + label + bytes([len(context)]) + context
    return hmac.new(secret, info + b"\x01", name).digest()[:size]


def _tls13_constants() -> dict[str, str]:
    """The TLS 1.3 key schedule's values without a pre-shared key: the early secret
    HKDF-Extract(0, 0) and the "derived" secret after it, for SHA-256 and SHA-384, in the RFC's
    labels and the drafts' ("TLS 1.3, derived secret"). Every implementation may hard-code
    them (testssl.sh does, under early_secret and derived_secret); RFC 8448 prints them."""
    found = {}
    for name, size in (("sha256", 32), ("sha384", 48)):
        early = hmac.new(bytes(size), bytes(size), name).digest()
        derived = [
            _hkdf_expand_label(name, early, label, size)
            for label in (b"tls13 derived", b"TLS 1.3, derived secret")
        ]
        for value in (early, *derived):
            for text in (value.hex(), value.hex().upper()):
                digest = hashlib.sha256(text.encode()).hexdigest()
                found[digest] = f"RFC 8446 §7.1: the TLS 1.3 key schedule's constants ({name})"
    return found


@cache
def _published() -> dict[str, str]:
    """sha256 of a published key -> where it is published (data/published-keys.txt), and the
    constants of a published algorithm."""
    text = resources.files("finalexam.data").joinpath("published-keys.txt").read_text("utf-8")
    found = _tls13_constants()
    for line in text.splitlines():
        digest, _, source = line.partition(" ")
        if digest and not digest.startswith("#"):
            found[digest] = source.strip()
    return found


def published_key(secret_sha256: str) -> FileContext | None:
    """A key printed in a public source (an RFC, a library's self-test) is no one's secret:
    whoever ships it ships published test material."""
    return FileContext.WELL_KNOWN if secret_sha256 in _published() else None


# project files whose sections configure tools; the test runners' sections hold test settings
_PROJECT_CONFIGS = frozenset({"pyproject.toml", "setup.cfg", "tox.ini", "pytest.ini"})
_SECTION_HEADER = re.compile(_TEXT_SECTION_HEADER.pattern.encode(), re.MULTILINE)
_TEST_RUNNER_SECTION = re.compile(
    rb"(?:tool[.:])?(?:pytest|tox|nox|testenv)\b|tool\.hatch\.envs\.(?:test|tests)\b"
)

_PROSE_WORD = re.compile(rb"(?<![\w.-])[A-Za-z]{2,}(?![\w.-])")
_BRACKETS = re.compile(rb"[{}\[\]]")
_QUOTED = re.compile(rb""""(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'""")
_COMMENT_LEAD = re.compile(rb"^(?:#+|//+|/?\*+|--|;+)[^\S\n]?")


def line_around(document: Blob | bytearray, start: int, end: int, reach: int) -> bytes:
    """The line holding ``document[start:end]``, cut at ``reach`` bytes each side (a minified
    file is one long line)."""
    head = bytes(document[max(0, start - reach) : start]).rsplit(b"\n", 1)[-1]
    tail = bytes(document[end : end + reach]).split(b"\n", 1)[0]
    return head + bytes(document[start:end]) + tail


class Material:
    """Reads what the text around a value says it is: a data URI's payload, a docstring, or
    the usage and example text of a manual or a program's help (in its string table)."""

    def __init__(self, document: Blob | bytearray, path: str) -> None:
        self.document = document
        name = path.rsplit("/", 1)[-1].lower()
        self.python = name.endswith((".py", ".pyw"))
        self.code = name.endswith(_SOURCE_CODE)
        # a TypeScript declaration file holds types and their comments, no value that runs
        self.declarations = name.endswith(".d.ts")
        # core metadata: headers, then a blank line and the project's README
        self.metadata = name == "pkg-info" or path.lower().endswith(".dist-info/metadata")
        self.project_config = name in _PROJECT_CONFIGS
        self.doc_comments = name.endswith(_DOC_COMMENT_SOURCES)
        first_line = bytes(document[:128]).split(b"\n", 1)[0]
        self.perl = name.endswith(_PERL_SOURCES) or (
            first_line.startswith(b"#!") and b"perl" in first_line
        )
        self._docstrings: list[tuple[int, int]] | None = None
        self._pod: list[tuple[int, int]] | None = None

    def context_at(self, match_start: int, start: int) -> FileContext | None:
        if self._in_data_uri(start):
            return FileContext.WELL_KNOWN
        if self.declarations:
            return FileContext.DOCS
        if self.metadata and self.document.find(b"\n\n", 0, start) >= 0:
            return FileContext.DOCS  # the long description: pyotp's README example secret
        if self.python and self._in_docstring(start):
            return FileContext.DOCS
        if self.doc_comments and self._in_doc_comment(start):
            return FileContext.DOCS
        if self.perl and self._in_pod(start):
            return FileContext.DOCS
        if self.project_config and self._in_test_runner_section(match_start):
            return FileContext.TEST
        if _NOT_SECRET_NOTE.search(b" ".join(self._comment_heading(match_start))):
            return FileContext.WELL_KNOWN
        if _ALLOWED_HERE.search(line_around(self.document, start, start, _LINE_WINDOW)):
            return FileContext.WELL_KNOWN
        if self.code:
            # "... logs. Example key='d5345c...'": prose in a string names its value an example
            line = bytes(self.document[max(0, match_start - _LEAD_WINDOW) : match_start])
            if _EXAMPLE_LEAD.search(line.rsplit(b"\n", 1)[-1]):
                return FileContext.WELL_KNOWN
            comment = self._comment_above(match_start)
            if _fenced(comment) or _in_document(comment) or _displayed(comment):
                return FileContext.DOCS
        else:
            before = bytes(self.document[max(0, match_start - _MARKER_WINDOW) : match_start])
            if _EXAMPLE_MARKER.search(before):
                return FileContext.WELL_KNOWN
        if self._under_examples_key(match_start):
            return FileContext.WELL_KNOWN
        return None

    def _under_examples_key(self, match_start: int) -> bool:
        """The value's line, or a line it is nested under (less indented, above it), holds a
        key named ``examples`` (pretty-printed data of an API description) or ends in an
        ``Examples:`` heading."""
        begin = max(0, match_start - _NESTING_WINDOW)
        lines = bytes(self.document[begin:match_start]).split(b"\n")
        if _EXAMPLES_KEY.search(lines[-1][-_LINE_WINDOW:]):
            return True  # (only near the value on a long line: minified code is one line)
        # a help text written on one line with \n escapes: "Examples:\n\twfuzz ..."
        escaped = lines[-1][-_LINE_WINDOW:].split(b"\\n")
        indented = len(escaped) > 1 and escaped[-1].startswith((b"\\t", b" ", b"\t"))
        if indented and any(_EXAMPLES_HEADING.search(segment) for segment in escaped[:-1]):
            return True
        indent = len(lines[-1]) - len(lines[-1].lstrip())
        for line in reversed(lines[1 if begin else 0 : -1]):  # the window may cut the first
            depth = len(line) - len(line.lstrip())
            if not line.strip() or depth >= indent:
                continue
            if _EXAMPLES_KEY.search(line) or _EXAMPLES_HEADING.search(line):
                return True
            if _EXAMPLES_FUNCTION.search(line):
                return True
            indent = depth
        return False

    def _in_test_runner_section(self, match_start: int) -> bool:
        """The value sits in the section of a project file that configures its test runner
        (prefect 3.9's ``[tool.pytest.ini_options] env``: the encryption key its test
        server runs with): only a test run reads it."""
        headers = _SECTION_HEADER.findall(bytes(self.document[:match_start]))
        return bool(headers) and _TEST_RUNNER_SECTION.match(headers[-1]) is not None

    def _comment_above(self, match_start: int) -> list[bytes]:
        """The comment the value sits in, read upwards: the value's own line up to the value
        first, then each comment line above it, their markers removed (empty when the value's
        line is no comment). Leading blanks stay: indentation inside a comment says what a
        line belongs to."""
        lines = bytes(self.document[max(0, match_start - _NESTING_WINDOW) : match_start])
        bodies = []
        for line in reversed(lines.split(b"\n")):
            text = line.lstrip()
            body = _COMMENT_LEAD.sub(b"", text, count=1)
            if body == text:
                break  # the comment ended
            bodies.append(body)
        return bodies

    def _comment_heading(self, match_start: int) -> list[bytes]:
        """The nearest comment above the value's line, within ``_NOTE_REACH`` lines: the note
        over the statement or the block of constants the value belongs to."""
        begin = max(0, match_start - _NESTING_WINDOW)
        lines = bytes(self.document[begin:match_start]).split(b"\n")
        bodies: list[bytes] = []
        for line in reversed(lines[1 if begin else 0 : -1][-_NOTE_REACH:]):  # the first may be cut
            text = line.strip()
            body = _COMMENT_LEAD.sub(b"", text, count=1)
            if body != text:
                bodies.append(body)
            elif bodies:
                break  # the comment ended above
        return bodies[::-1]

    def _in_data_uri(self, start: int) -> bool:
        """An image or font inlined as ``data:...;base64,`` (CSS in a jar, an HTML page)."""
        window = bytes(self.document[max(0, start - _DATA_URI_WINDOW) : start])
        at = window.rfind(b";base64,")
        if at < 0:
            return False
        head = window[max(0, at - 100) : at + 8]
        return bool(_DATA_URI.search(head)) and bool(_BASE64_RUN.match(window, at + 8))

    def _in_docstring(self, start: int) -> bool:
        if self._docstrings is None:
            self._docstrings = docstring_spans(bytes(self.document))
        return any(begin <= start < end for begin, end in self._docstrings)

    def _in_pod(self, start: int) -> bool:
        if self._pod is None:
            self._pod = pod_spans(bytes(self.document))
        return any(begin <= start < end for begin, end in self._pod)

    def _in_doc_comment(self, start: int) -> bool:
        """The value sits in a ``/** ... */`` comment (zoneminder's bundled CakePHP documents
        ``'password' => 'bruce_w4yne'`` as a request option)."""
        opened = self.document.rfind(b"/**", 0, start)
        if opened < 0:
            return False
        line_start = self.document.rfind(b"\n", 0, opened) + 1
        if bytes(self.document[line_start:opened]).strip():
            return False  # a doc comment opens its line; "src/**" in a string is a glob
        found = _DOC_COMMENT.match(bytes(self.document[opened : start + _DOC_COMMENT_REACH]))
        return found is not None and opened + found.end() > start


def pod_spans(text: bytes) -> list[tuple[int, int]]:
    """Spans of Perl's POD, the manual written inside the module: from a line that opens
    with a command (``=head2``, ``=pod``) to a ``=cut`` line or the end of the file
    (Mojolicious documents ``->authorization('Basic Zm9vOmJhcg==')`` there)."""
    spans: list[tuple[int, int]] = []
    opened: int | None = None
    for match in _POD_COMMAND.finditer(text):
        at = match.start() + (text[match.start()] == 10)  # past the line end the match holds
        if text.startswith(b"=cut", at):
            if opened is not None:
                spans.append((opened, at + len(b"=cut")))
                opened = None
        elif opened is None:
            opened = match.end()
    if opened is not None:
        spans.append((opened, len(text)))
    return spans


def _fenced(comment: list[bytes]) -> bool:
    """The value sits in a Markdown code block inside a comment: the comment documents an
    exchange (looker_sdk's generated methods show ``Authorization: token 4QDk...`` between
    ``` lines, then say what to put instead)."""
    return sum(body.startswith(b"```") for body in comment) % 2 == 1


def _in_document(comment: list[bytes]) -> bool:
    """The value sits inside a pretty-printed JSON document in a comment: an API client
    documents the reply it parses (ccxt's ``#    {`` then ``#        "listenKey": "7d1e..."``
    after each request). The document opens on a line of its own, a bare ``{`` or ``[``, so
    commented-out code (``# config = {"token": ...}``) still counts."""
    open_at: list[bool] = []  # per open bracket: did it open a document of its own line
    for body in map(bytes.strip, reversed(comment)):
        for bracket in _BRACKETS.findall(_QUOTED.sub(b"", body)):
            if bracket in b"{[":
                open_at.append(body in (b"{", b"["))
            elif open_at:
                open_at.pop()
    return any(open_at)


def _displayed(comment: list[bytes]) -> bool:
    """The value sits in a comment's indented display under a sentence that ends in a colon:
    the comment shows what data looks like (autobahn: "this returns a dict which should
    include (for a private key):", then ``#   private-key-ed25519: 20e8...``). A
    commented-out setting under a section name (``# database:``) is no sentence."""
    if not comment:
        return False
    indent = _depth(comment[0])  # the value's own line, up to the value
    for body in comment[1:]:
        if body.strip() and _depth(body) < indent:
            return body.rstrip().endswith(b":") and len(_PROSE_WORD.findall(body)) >= 4
    return False


def _depth(body: bytes) -> int:
    return len(body) - len(body.lstrip())


def docstring_spans(text: bytes) -> list[tuple[int, int]]:
    """Spans of triple-quoted strings that document a module, class or function: the first
    statement of the file, or the first one after a ``def``/``class`` header."""
    spans = []
    for number, match in enumerate(_TRIPLE_QUOTED.finditer(text)):
        before = text[max(0, match.start() - 400) : match.start()]
        first = number == 0 and not _COMMENT_LINES.sub(b"", text[: match.start()]).strip()
        if first or _DOCSTRING_OPENER.search(before) or _DOC_CONSTANT.search(before):
            spans.append((match.start(2), match.end(2)))
    return spans
