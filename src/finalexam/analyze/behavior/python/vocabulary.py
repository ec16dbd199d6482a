"""The names the Python reader knows: evaluators, decoders, senders, secret-looking
variables, setuptools commands and the other call families that make a fact meaningful.

They are data, ``rules/vocabulary/python/*.toml`` (examples, lint and docs like every rule
family); this module gives the reader each one in the shape it tests names with.
"""

from __future__ import annotations

import re

from finalexam.analyze.behavior.vocabulary import Vocabulary, VocabularyError, vocabularies

_PYTHON = vocabularies("python")


def _exact(stem: str) -> frozenset[str]:
    return _PYTHON[stem].exact


def _pattern(stem: str) -> re.Pattern[str]:
    pattern = _PYTHON[stem].pattern
    if pattern is None:
        raise VocabularyError(f"python.{stem}: expected a pattern")
    return pattern


EVALUATORS = _exact("evaluators")
DECODERS: Vocabulary = _PYTHON["decoders"]
# Sources whose values must not leave the machine, and the calls that send data out.
ENV_WHOLE = _PYTHON["environment"].only
ENV_SINGLE_KEY = _exact("environment-single-key")
RECON = _exact("recon")
SECRET_NAME = _pattern("secret-names")
ACCESS_SECRET_NAME = _pattern("access-secret-names")
ACCESS_ID_NAME = _pattern("access-id-names")
SENDERS = _pattern("senders")
PROTECTS = _pattern("protects")
ENCODED_URL = _pattern("encoded-url")
URL_IN = _pattern("url-in-text")
CODE_LIKE = _pattern("code-like")
SPAWNERS = _pattern("spawners")
COMMAND_BASES = _exact("setup-commands")
INSTALL_PHASE = _exact("install-phase-commands")
BUILTIN_CALLABLES = EVALUATORS | _exact("callable-builtins")
PATH_JOINERS = _exact("path-joiners")
DECODING = _pattern("decoding-calls")
DOWNLOADERS = _PYTHON["downloaders"].prefixes
DIRECTORY_MAKERS = _exact("directory-makers")
COPIERS = _exact("copiers")
MESSAGE_SINKS = _pattern("message-sinks")
MESSAGE_BUILDERS = _pattern("message-builders")


def is_decoder(name: str) -> bool:
    return name in DECODERS
