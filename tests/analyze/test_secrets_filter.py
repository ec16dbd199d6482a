"""The generic-secret filter: its drops, its features, its model file and what findings carry."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from finalexam.analyze.secrets.analyzer import SecretsAnalyzer
from finalexam.analyze.secrets.features import (
    FEATURES,
    GenericCandidate,
    dictionary,
    dictionary_share,
    features,
    key_kind,
)
from finalexam.analyze.secrets.filter import (
    MODEL_PATH,
    ModelError,
    decide,
    default_model,
    dropped,
    load_model,
)
from finalexam.analyze.secrets.scan import scan_bytes
from finalexam.config import Config
from finalexam.model import Confidence, FileContext


def candidate(
    key: str, value: str, line: str | None = None, path: str = "app/settings.py"
) -> GenericCandidate:
    return GenericCandidate(
        rule_id="generic-quoted-assignment",
        key=key,
        value=value,
        line=line if line is not None else f'{key} = "{value}"',
        path=path,
        op="=",
    )


def test_every_feature_is_named_and_the_model_was_trained_on_them() -> None:
    assert len(features(candidate("db_password", "Vq8kLm2xR4"))) == len(FEATURES)
    model = default_model()
    assert model.trees and 0 < model.thresholds["low"] <= model.thresholds["medium"]
    assert model.thresholds["medium"] <= model.thresholds["high"] < 1
    assert MODEL_PATH.stat().st_size < 64 * 1024


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("db_password", "${DB_PASSWORD}"),
        ("db_password", "********"),
        ("db_password", "changeme"),
        ("db_password", "abc"),
        ("FORGOT_PASSWORD", "Forgot your password?"),
        ("LABEL_PASSWORD", "Salasana"),
        ("password_label", "Пароль"),
        ("passthroughBehavior", "when_no_match"),
        ("keyboard", "Qw8vLz2xKm"),
        ("publicKey", "MIGfMA0GCSqGSIb3DQEBAQUAA4GN"),
        ("token", "d41d8cd98f00b204e9800998ecf8427e"),
    ],
)
def test_values_and_names_that_are_never_credentials_are_dropped(key: str, value: str) -> None:
    assert dropped(candidate(key, value))
    assert decide(candidate(key, value)) is None


def test_key_kinds_take_whole_words() -> None:
    assert key_kind(["db", "password"]) == "password"
    assert key_kind(["client", "secret"]) == "secret"
    assert key_kind(["apikey"]) == "key"
    assert key_kind(["passport"]) == key_kind(["author"]) == key_kind(["tokenizer"]) == ""
    assert key_kind(["scheme"], "generic-url-userinfo") == "password"


def test_random_values_under_credential_names_score_above_words_and_identifiers() -> None:
    real = decide(candidate("db_password", "Vq8#kLm2!xR4"))
    assert real is not None and real[0] in (Confidence.HIGH, Confidence.MEDIUM)
    identifier = decide(
        candidate("password", "request.form.password", 'password = "request.form.password"')
    )
    assert identifier is None or identifier[1] < real[1]


def test_findings_of_filtered_rules_carry_name_score_and_every_line() -> None:
    text = b'DB_PASSWORD = "Vq8kLm2xR4zT"\nother = 1\nbackup_password = "Vq8kLm2xR4zT"\n'
    (hit,) = [h for h in scan_bytes(text, "app/settings.py", binary=False) if h.rule.filter]
    assert hit.lines == (1, 3) and hit.occurrences == 2 and hit.name == "DB_PASSWORD"
    assert hit.score is not None and 0 < hit.score <= 1


def test_filtered_rules_do_not_read_strings_of_binaries() -> None:
    blob = b"\x7fELF\x00\x00" + b'db_password = "Vq8kLm2xR4zT"\x00' * 3
    assert [h for h in scan_bytes(blob, "bin/app", binary=True, kind="elf") if h.rule.filter] == []


def test_the_analyzer_reports_the_filter_evidence(tmp_path: Path) -> None:
    from finalexam.model import FileEntry, FileType, Location

    data = b'SMTP_PASSWORD = "Vq8kLm2xR4zT"\n'
    entry = FileEntry(
        Location(("app.zip", "app/settings.py")),
        len(data),
        "0" * 64,
        "0" * 40,
        FileType.TEXT,
        _loader=lambda: data,
    )
    (finding,) = SecretsAnalyzer(Config()).analyze(entry).findings
    details = finding.evidence.details
    assert details["name"] == "SMTP_PASSWORD" and details["lines"] == [1]
    assert "Vq8kLm2xR4zT" not in json.dumps(details)


def test_a_model_file_that_does_not_fit_is_refused(tmp_path: Path) -> None:
    data = json.loads(MODEL_PATH.read_text())
    bad = tmp_path / "model.json"
    bad.write_text(json.dumps({**data, "features": data["features"][:-1]}))
    with pytest.raises(ModelError, match="other features"):
        load_model(bad)
    tree = data["trees"][0]
    bad.write_text(json.dumps({**data, "trees": [{**tree, "left": [5000, *tree["left"][1:]]}]}))
    with pytest.raises(ModelError, match="outside the tree"):
        load_model(bad)
    bad.write_text("{")
    with pytest.raises(ModelError, match=r"model\.json"):
        load_model(bad)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        # tokens and keys that are no credentials: pagination, idempotency, database and map keys
        ("NextToken", "AQICAHjK9mW2xZ7vQp"),
        ("ClientRequestToken", "Kq7vLz2xT9mW4pR8"),
        ("primary_key", "Kq7vLz2xT9mW4pR8"),
        ("cacheKey", "Kq7vLz2xT9mW4pR8"),
        # a last word that describes the credential rather than holds it
        ("KeyFingerprint", "Kq7vLz2xT9mW4pR8"),
        ("PasswordLastUsed", "Kq7vLz2xT9mW4pR8"),
        # values that say what they are
        ("token_expiry", "2024-05-01T10:00:00Z"),
        ("ssh_key", "1f:51:ae:28:bf:89:e9:d8:1f:25:5d:37:2d:7d:b8:ca"),
        ("password", "Optional[str]"),
        ("credentials", "my_credentials"),
        ("password_sha256", "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"),
        ("passPerPreset", "overEvery"),
        # a keyword that qualifies another word: a lexer's token types, a token's attribute
        ("TOKEN_FLOORDIV", "floordiv"),
        ("token.content", "Kq7vLz2xT9mW4pR8"),
        ("Token.String.Symbol", "noinherit"),
        ("Token.String", "ansi_greenb"),
        ("Token.Name.Variable", "ansi_default"),
        ("settings_key", "websearch_interception_params"),
        ("max_tokens", "4096"),
        # a constant's name, a dotted setting, a fraction, a call
        ("feature_key", "_TRACER_PROVIDER"),
        ("_args_key", "animation.ffmpeg_args"),
        ("output_cost_per_token", "3.311e-06"),
        ("deployment_credentials", "registry().credentials(id)"),
    ],
)
def test_names_and_values_of_other_things_are_dropped(key: str, value: str) -> None:
    assert dropped(candidate(key, value))


def test_words_ending_in_pass_name_no_password() -> None:
    assert key_kind(["bypass"]) == key_kind(["pass", "fds"]) == ""
    assert key_kind(["mysqlrootpwd"]) == key_kind(["pass", "2"]) == "password"


def test_unquoted_values_in_programs_are_expressions() -> None:
    line = "password = request.form_value"
    unquoted = GenericCandidate(
        rule_id="generic-unquoted-assignment",
        key="password",
        value="request.form_value",
        line=line,
        path="app/views.py",
        op="=",
    )
    assert dropped(unquoted)
    configured = {**unquoted.__dict__, "path": "deploy/app.env", "value": "Tq7vX2mKp9Lz"}
    assert dropped(GenericCandidate(**{**configured, "path": "app/views.py"}))
    assert not dropped(GenericCandidate(**configured))


def test_low_scored_candidates_are_reported_only_when_asked_for() -> None:
    # a credential's name, a value that reads as a word and a digit: the filter scores it low
    text = b'password = "letmein2"\n'
    model = default_model()
    found = decide(candidate("password", "letmein2"))
    assert found is not None and found[1] < model.thresholds["medium"]
    assert [h for h in scan_bytes(text, "app/settings.py", binary=False) if h.rule.filter] == []
    (hit,) = [
        h
        for h in scan_bytes(text, "app/settings.py", binary=False, candidates=True)
        if h.rule.filter
    ]
    assert hit.confidence is Confidence.LOW


def test_basic_credentials_count_when_they_decode_to_a_user_and_a_password() -> None:
    def found(text: bytes) -> list[str]:
        hits = scan_bytes(text, "tests/test_client.py", binary=False)
        return [h.rule.id for h in hits if h.rule.filter]

    # base64 of "svc:Zq7vLx2Km9" and of "user:password" (a placeholder)
    assert found(b'expected = b"Basic c3ZjOlpxN3ZMeDJLbTk="\n') == ["generic-basic-credentials"]
    assert found(b'expected = "Basic dXNlcjpwYXNzd29yZA=="\n') == []
    assert found(b'label = "Basic QXV0aGVudGljYXRpb25TZXR0aW5ncw=="\n') == []


def test_names_qualified_by_the_value_they_hold_still_count() -> None:
    for key in ("tokenValue", "password2", "passwordRepeat", "DB_PASSWORD_PROD", "apiKeyV2"):
        assert not dropped(candidate(key, "Kq7vLz2xT9mW4pR8")), key


@pytest.mark.parametrize(
    ("line", "path"),
    [
        ("        valid_token=validated,", "proxy/auth.py"),
        ('    api_key=_str_param(params, "api_key"),', "llms/utils.py"),
        ('_RFC9110_TOKEN = re.compile(r"^[!#$%&*+.^_|~0-9A-Za-z]+$")', "shared/inbound.py"),
        ('"description": "Remove an element identified by `parent`.",', "documents/ai.v1.json"),
        ("        result = _add_factorial_tokens('factorial2', result)", "parsing/parser.py"),
        ("        while not current_token == 'rbracket' and index < 3:", "jmespath/parser.py"),
        ('        token = state.push("html_inline", "", 0)', "rules_inline/html.py"),
        ('LABELER_CONTEXT_KEY = create_key("otel_labeler")', "labeler/__init__.py"),
        ('        password = human_quote(self.password, "#/:?@[]")', "yarl/_url.py"),
        ("image:: https://codecov.io/gh/o/p/graph/badge.svg?token=Pk8G9gg3y9", "README"),
        ('{"names":["PluginPass","Kq7vLz2xT9mW4"]}', "lib/plugin-pass.js.map"),
    ],
)
def test_arguments_patterns_and_prose_in_programs_are_no_candidates(line: str, path: str) -> None:
    hits = scan_bytes(line.encode() + b"\n", path, binary=False, candidates=True)
    assert [h.rule.id for h in hits] == []


def test_query_parameters_and_quoted_sql_passwords_in_programs_still_count() -> None:
    query = b'url = "https://api.internal/v1/items?client_secret=Xk29fLq7ZmW3&page=2"\n'
    sql = b"cursor.execute(\"ALTER USER 'app'@'%' IDENTIFIED BY 'Wz8qLm3vX7'\")\n"
    for text in (query, sql):
        (hit,) = scan_bytes(text, "app/db.py", binary=False)
        assert hit.rule.filter and hit.confidence is not Confidence.LOW


def test_an_option_name_handed_to_a_key_constructor_is_a_name() -> None:
    """meson's ``OptionKey('b_thinlto_cache_dir')`` (vendored in numpy's sdist)."""
    option = GenericCandidate(
        rule_id="generic-call-argument",
        key="OptionKey",
        value="b_thinlto_cache_dir",
        line="        OptionKey('b_thinlto_cache_dir'),",
        path="vendored-meson/meson/mesonbuild/compilers/compilers.py",
        call="OptionKey",
    )
    assert dropped(option)
    assert not dropped(replace(option, value="Vq8kLm2xR4zT"))


def test_a_negated_command_line_flag_takes_no_value() -> None:
    """systemd's ``systemctl --no-ask-password daemon-reload``: the next word is a command."""
    for value in ("daemon-reload", "--no-block"):
        flag = GenericCandidate(
            rule_id="generic-cli-option",
            key="--no-ask-password",
            value=value,
            line=f"systemctl --no-ask-password {value}",
            path="lib/lsb/init-functions.d/40-systemd",
        )
        assert dropped(flag)


def _analyze(path: str, data: bytes) -> list[object]:
    from finalexam.model import FileEntry, FileType, Location

    entry = FileEntry(
        Location(("app.zip", path)), len(data), "0" * 64, "0" * 40, FileType.TEXT,
        _loader=lambda: data,
    )  # fmt: skip
    return list(SecretsAnalyzer(Config()).analyze(entry).findings)


def test_salts_and_nonces_are_reported_at_low_severity() -> None:
    """RFC 5802's example nonces in passlib's SCRAM handler travel in the clear by design:
    reported, never a leaked credential; a password beside them keeps its severity."""
    from finalexam.model import Finding, Severity

    found = _analyze(
        "passlib/handlers/scram.py",
        b'client_nonce = "fyko+d2lbbFgONRv9qkxdawL"\nSMTP_PASSWORD = "Vq8kLm2xR4zT"\n',
    )
    severity = {f.evidence.details["name"]: f.severity for f in found if isinstance(f, Finding)}
    assert severity["SMTP_PASSWORD"] is Severity.HIGH
    assert severity["client_nonce"] is Severity.LOW


def test_a_published_constant_under_a_credential_name_is_well_known() -> None:
    """The Cisco "type 7" XOR key is in every implementation (passlib's handler): the
    generic rules give it the context of published material, as the provider rules do."""
    from finalexam.model import FileContext, Finding

    found = _analyze(
        "passlib/handlers/cisco.py",
        b'_key = "dsfd;kfoA,.iyewrkldJKDHSUBsgvca69834ncxv9873254k;fg87"\n',
    )
    contexts = [f.context for f in found if isinstance(f, Finding)]
    assert contexts == [FileContext.WELL_KNOWN]


def test_an_openpgp_key_id_of_a_release_manager_or_signer_is_public() -> None:
    """Apache commons POMs name the release manager's OpenPGP key
    (``<commons.releaseManagerKey>``): a public key id, as is ``gpg.keyname``. The same hex
    under another key name, or a longer hex under the same name, is still a candidate."""
    for key in ("commons.releaseManagerKey", "gpg.keyname", "signer_key"):
        for value in ("86FDC7E2A11262CB", "5ECBB314", "B6E73D84EA4FCC47166087253FAAD2CD5ECBB314"):
            assert dropped(candidate(key, value, path="META-INF/maven/x/pom.xml"))
    assert not dropped(candidate("upload_key", "86fdc7e2a11262cb", path="app/settings.py"))
    assert not dropped(candidate("gpg.key", "86fdc7e2a11262cb9f3a", path="app/settings.py"))


def test_a_lookup_key_named_by_a_snake_case_identifier_is_a_name() -> None:
    """vendored meson's ``cachedir_key = 'b_thinlto_cache'`` (numpy's sdist)."""
    assert dropped(candidate("cachedir_key", "b_thinlto_cache", path="mesonbuild/compilers.py"))
    assert not dropped(candidate("cachedir_key", "b7thinLto_cache9x", path="mesonbuild/c.py"))
    assert not dropped(candidate("cache_password", "b_thinlto_cache", path="mesonbuild/c.py"))


def test_a_lexer_state_behind_a_sigil_is_a_name() -> None:
    """js-tokens' ``lastSignificantToken = "?InterpolationInJSX"``."""
    assert dropped(candidate("lastSignificantToken", "?InterpolationInJSX", path="index.js"))
    assert dropped(candidate("nextToken", "$NoSubstitutionTemplate", path="index.js"))
    assert not dropped(candidate("authToken", "?Xq7vLzT9mW", path="index.js"))
    assert not dropped(candidate("authToken", "?Pq7JSX", path="index.js"))


def test_askpass_and_embedding_layers_name_no_credential() -> None:
    """openssh-client's apport hook lists ``'ssh-askpass', 'libpam-ssh'``; transformers' plans
    name the ``embed_tokens`` layer."""
    assert key_kind(["ssh", "askpass"]) == ""
    assert dropped(candidate("embed_tokens", "replicate", path="models/x/configuration_x.py"))
    assert not dropped(candidate("access_tokens", "Vq8kLm2xR4zT", path="models/x/config.py"))


@pytest.mark.parametrize(
    ("rule", "key", "op", "value", "line", "path"),
    [
        # litellm: a regular expression's class escapes
        ("inline-parameter", "Credential", "=", r"Bearer\s+([^/\s",
         r'm = re.search(r"Credential=Bearer\s+([^/\s,]+)", k)', "proxy/auth.py"),
        # litellm: a variable handed to a call beside a string
        ("quoted-assignment", "credentials", ",", "sagemaker",
         'sigv4 = SigV4Auth(credentials, "sagemaker", region)', "llms/handler.py"),
        # sglang: keyword arguments whose value is a variable or an expression
        ("inline-parameter", "HAS_PASS", "=", "rotary_dim",
         "            HAS_PASS=rotary_dim < head_dim,", "ops/rope.py"),
        ("inline-parameter", "cache_tokens", "=", "cache_n",
         "    forward_batch, output, kwargs, cache_tokens=cache_n", "layers/attn.py"),
        # sglang: an f-string's fields make the value
        ("quoted-assignment", "temp_key", "=", ".{sha256_hex}.tmp",
         '    temp_key = f".{sha256_hex}.tmp"', "jit/cache.py"),
        # a Next.js chunk: the first branch of a conditional
        ("quoted-assignment", "reset_password", ":", "signup",
         'O,{variant:"reset_password"===e?"reset_password":"signup"})', "chunks/0.js"),
    ],
)  # fmt: skip
def test_code_that_only_looks_like_a_name_and_its_value_is_dropped(
    rule: str, key: str, op: str, value: str, line: str, path: str
) -> None:
    found = GenericCandidate(
        rule_id=f"generic-{rule}", key=key, value=value, line=line, path=path, op=op
    )
    assert dropped(found)


def test_real_values_beside_those_shapes_still_count() -> None:
    for found in (
        candidate("db_password", "Xq7vLzT9mW", 'db_password = f"Xq7vLzT9mW{suffix}"', "app/db.py"),
        replace(candidate("password", "hunter2x9Q", 'a = ("password", "hunter2x9Q")'), op=","),
        replace(candidate("db_pass", "hunter2x9Q", 'set :db_pass, "hunter2x9Q"', "d.rb"), op=","),
        replace(
            candidate("Password", "Wz8qLm3vX7", 'DSN = "Server=db; Password=Wz8qLm3vX7;"'),
            rule_id="generic-inline-parameter",
        ),
    ):
        assert not dropped(found), found


def test_a_tab_or_route_name_under_a_key_is_a_name() -> None:
    """litellm's admin panel: ``{key: "hashicorp-vault", label: "Hashicorp Vault"}``."""
    assert dropped(candidate("key", "hashicorp-vault", '{key:"hashicorp-vault",label:"H"}'))
    assert not dropped(candidate("key", "key-3ax6xnjp29jd6fds4gc373sgvjxteol0"))
    assert not dropped(candidate("api_key", "sk-Fn8Ej39NxjAXrvpUGKghGw"))


def test_an_example_named_in_prose_and_an_f_string_call_are_no_leaks() -> None:
    """litellm: ``description="... Example key='d5345c...'"`` names an example (reported as
    well-known material); ``f"postgresql://{user}:{quote(password)}@{host}"`` is a template."""
    from finalexam.model import Finding

    example = b"d = (\n    \"logs. Example key='d5345c0ecc68ae6295c69f91926b2bd379e2'\"\n)\n"
    template = b'url = f"postgresql://{user_p}:{quote(password)}@{host}:{port}/{name_p}"\n'
    found = [f for f in _analyze("proxy/api.py", example + template) if isinstance(f, Finding)]
    assert [(f.rule_id, str(f.context)) for f in found] == [
        ("generic-quoted-assignment", "well-known")
    ]
    # the same value assigned in code, with no example named before it, is a finding
    (real,) = _analyze("proxy/endpoints.py", b"key = 'd5345c0ecc68ae6295c69f91926b2bd379e2'\n")
    assert isinstance(real, Finding) and real.context is None


def test_layer_tags_and_base64_of_a_test_phrase_are_no_credentials() -> None:
    """sglang: ``key = "_q_lora_e8m0_idx"`` names a tensor; its tensorcast daemon's sample
    config sets ``secret: "c2dsYW5n..."``, base64 of ``sglang-tensorcast-local-test-key``."""
    assert dropped(candidate("key", "_q_lora_e8m0_idx", path="srt/models/deepseek_v4.py"))
    assert not dropped(candidate("key", "live_x9f8d7s6a5df0a9e", path="app/keys.py"))
    sample = candidate("secret", "c2dsYW5nLXRlbnNvcmNhc3QtbG9jYWwtdGVzdC1rZXk=", path="c.yaml")
    assert dropped(sample)
    # base64 of random bytes, or of a phrase that is no placeholder, still counts
    assert not dropped(candidate("secret", "q8Jv2mXk9LpR3tWz7NcY5bHd0aFe", path="c.yaml"))
    assert not dropped(candidate("secret", "c3VwZXItc3Ryb25nLXBhc3MtMjAyNg==", path="c.yaml"))


@pytest.mark.parametrize(
    ("key", "value", "line", "path"),
    [
        # authlib: a JOSE encryption algorithm (RFC 7518)
        ("id_token_encrypted_response_enc", "A128CBC-HS256",
         'self.setdefault("id_token_encrypted_response_enc", "A128CBC-HS256")', "oidc/claims.py"),
        # loguru: a date format's tokens, a regular expression of counted repetitions
        ("tokens", "H{1,2}|h{1,2}|m{1,2}|s{1,2}|S+|YYYY|YY|M{1,4}",
         'tokens = r"H{1,2}|h{1,2}|m{1,2}|s{1,2}|S+|YYYY|YY|M{1,4}"', "loguru/_datetime.py"),
        # loguru's README: a value typed by counting up
        ("WEBHOOK_TOKEN", "abc123def456", 'WEBHOOK_TOKEN = "abc123def456"', "README.md"),
        # torch: an f-string names a matrix entry
        ("vkey", "ortho_UBUmI_rerr[{i}, {j}]", 'vkey = f"ortho_UBUmI_rerr[{i}, {j}]"', "lob.py"),
        ("self._key", "torch.rendezvous.", 'self._key = "torch.rendezvous." + run_id', "c10d.py"),
        # cfn-lint: schema hashes by CloudFormation resource type
        ("ApiKey", "b899a0d240b53d9d",
         '"AWS::ApiGateway::ApiKey": "b899a0d240b53d9d",', "providers/us-east-1.json"),
        # vite: a dunder name
        ("ssrModuleExportsKey", "__vite_ssr_exports__",
         'const ssrModuleExportsKey = "__vite_ssr_exports__",', "dist/node/module-runner.js"),
    ],
)  # fmt: skip
def test_algorithms_patterns_counted_examples_and_type_names_are_dropped(
    key: str, value: str, line: str, path: str
) -> None:
    assert dropped(candidate(key, value, line, path))


def test_values_of_those_shapes_that_are_credentials_still_count() -> None:
    for found in (
        candidate("enc_key", "A128CBC-HS256-Xq7vLzT9mW", path="app/jwe.py"),
        candidate("WEBHOOK_TOKEN", "abc123def457xq", path="app/hooks.py"),
        candidate("WEBHOOK_TOKEN", "kq7123def456", path="app/hooks.py"),
        candidate("self._key", "Xq7vLzT9mW.", path="app/c.py"),
        candidate("ApiKey", "b899a0d240b53d9d", 'Config::ApiKey = "b899a0d240b53d9d";', "a.cc"),
        candidate("api_key", "__Xq7vLzT9mW4pR__", path="app/keys.js"),
    ):
        assert not dropped(found), found


def _read_as(data: bytes) -> dict[str, Any]:
    """How the analyzer reads a file: a Java class by its constants, anything else as text."""
    if data.startswith(b"\xca\xfe\xba\xbe"):
        return {"binary": True, "kind": "java-class"}
    return {"binary": False}


def _blocking(path: str, data: bytes) -> list[tuple[str, str]]:
    """The findings a release would be failed for: rule and value, outside well-known material."""
    return [
        (hit.rule.id, hit.secret)
        for hit in scan_bytes(data, path, **_read_as(data))
        if hit.confidence is not Confidence.LOW and hit.context is None
    ]


def test_a_mysql_option_inside_a_word_is_no_password_option() -> None:
    """caddy's control file (golang-github-go-sql-driver-mysql, then golang-protobuf: '-p'
    inside a package name) and mariadb-admin's help strings ('mysql threads ... [new-password]')
    name no password; a -p option after a blank still does."""
    control = (
        b"Built-Using: golang-github-go-sql-driver-mysql (= 1.5.0-2), "
        b"golang-github-golang-protobuf-1-3 (= 1.3.5-4)\n"
    )
    strings = b"  kill id,id,...\tKill mysql threads\n\0\0\0\0\0  password [new-password]\n"
    assert _blocking("control", control) == []
    assert _blocking("usr/bin/mariadb-admin", strings.replace(b"\n\0\0\0\0\0", b"\0" * 5)) == []
    real = b"mysql -u app -h db.internal -pVq8kLm2xR4zT shop\n"
    assert _blocking("deploy/backup.sh", real) == [("mysql-cli-password", "Vq8kLm2xR4zT")]


def test_an_sql_password_that_names_its_own_account_is_a_default() -> None:
    """squid's log_db_daemon documents GRANT ... TO 'squid'@'localhost' IDENTIFIED BY 'squid'."""
    grant = b"  GRANT INSERT,SELECT,CREATE ON squid_log.* TO 'squid'@'localhost' IDENTIFIED BY "
    assert _blocking("usr/lib/squid/log_db_daemon", grant + b"'squid';\n") == []
    assert _blocking("db/init.sql", b"CREATE USER scott IDENTIFIED BY scott;\n") == []
    real = grant + b"'Wz8qLm3vX7';\n"
    assert _blocking("usr/lib/squid/log_db_daemon", real) == [
        ("generic-sql-password", "Wz8qLm3vX7")
    ]


@pytest.mark.parametrize(
    ("path", "text"),
    [
        # selenium's generated CDP bindings, asyncpg: a keyword argument computed by code
        ("selenium/webdriver/common/devtools/v155/fetch.py",
         "            password=str(json['password']) if 'password' in json else None,"),
        ("selenium/webdriver/common/devtools/v155/network.py",
         "            include_credentials=bool(json['includeCredentials']),"),
        ("asyncpg/connect_utils.py",
         "                    sslcert, keyfile=sslkey, password=lambda: sslpassword"),
        # plotly's bundle: a member compared with a literal
        ("plotly/package_data/plotly.min.js",
         'n.withCredentials=e.credentials==="include",n.onerror=()=>{i(Error(n.status))}'),
        # jupyterlab's webpack share table and its service tokens: npm packages by name
        ("jupyterlab/static/main.efd36b46f3b45eb8.js",
         '{shareScope:"default",shareKey:"@jupyterlab/mermaid-extension",import:"x"}'),
        ("jupyterlab/static/jlab_core.8811dd2733d03721.js",
         'eD=new M.Token("@jupyterlab/apputils:ISanitizer","A service for sanitizing HTML")'),
        # jupyterlab's README: the community call's meeting link
        ("jupyterlab-4.6.6.dist-info/METADATA",
         "- Where: [`jovyan` Zoom](https://zoom.us/j/95228013874?pwd=Ep7HIk8t9JP6VToxt1Wj4P7K5PshC0.1)"),
        # sqlglot, redshift_connector: templates of a keyword and a field
        ("sqlglot/generator.py",
         '            credentials = f"CREDENTIALS {credentials}" if credentials else ""'),
        ("redshift_connector/plugin/browser_azure_oauth2_credentials_provider.py",
         '            Names.SCOPE.value: "openid {}".format(self.scope),'),
        # mysql-connector's README: "secret" spelled with digits
        ("mysql_connector_python-26.10.0.dist-info/METADATA", '        password="s3cre3t!")'),
        # pymongo: option names handed to the function that spells them as the user did
        ("pymongo/asynchronous/mongo_client.py",
         '                        keyword_opts.cased_key("connecttimeoutms"), timeout'),
        # modal's help text: documented token shapes that count up
        ("modal/cli/workspace.py", "Authorization: Bearer wk-123.ws-456"),
        # pyspark's LICENSE lists the artifacts it bundles by Maven coordinates
        ("pyspark-4.3.0/LICENSE", "io.jsonwebtoken:jjwt-impl"),
        # ray's default configuration: its documented default Redis password, a round number
        ("ray.default.conf", '    password: "5241590000000000"'),
    ],
)  # fmt: skip
def test_code_names_and_published_values_of_honest_releases_are_no_secrets(
    path: str, text: str
) -> None:
    assert _blocking(path, text.encode() + b"\n") == []


@pytest.mark.parametrize(
    ("path", "text", "value"),
    [
        ("app/client.py", '            password="Xq7vLz2T9mWk", timeout=3,', "Xq7vLz2T9mWk"),
        ("app/bundle.js", 'n.withCredentials="Xq7vLz2T9mWk",n.onerror=f', "Xq7vLz2T9mWk"),
        ("app/bundle.js", 'config={shareKey:"@Xq7vLz2T9mWk/a8Rt"}', "@Xq7vLz2T9mWk/a8Rt"),
        ("README.md", "[call](https://meet.example.net/j/9522?pwd=Ep7HIk8t9JP6VToxt1Wj4P7K5PshC0.1)",
         "Ep7HIk8t9JP6VToxt1Wj4P7K5PshC0.1"),
        ("app/sql.py", '    credentials = f"Xq7vLz2T9mWk" if credentials else ""', "Xq7vLz2T9mWk"),
        ("app/db.py", '        password="s3cre3t!Xq7vLz")', "s3cre3t!Xq7vLz"),
        ("app/mongo.py", '    builder.withApiToken("c9Vq2LmZx7Kw4RtP")', "c9Vq2LmZx7Kw4RtP"),
        ("app/api.py", "Authorization: Bearer wk-193.ws-452", "wk-193.ws-452"),
        ("app.conf", '    password: "5241590093700412"', "5241590093700412"),
        ("app/application.yml", "db.token: Xq7vLz2T9mWk", "Xq7vLz2T9mWk"),
    ],
)  # fmt: skip
def test_credentials_of_those_shapes_still_count(path: str, text: str, value: str) -> None:
    assert [v for _, v in _blocking(path, text.encode() + b"\n")] == [value]


def test_a_public_key_in_der_is_no_secret_and_a_private_one_is() -> None:
    """pnpm vendors npm's registry signing keys ("key": "MFkwEwYHKoZIzj0CAQYI..."), public
    by design; the private key of the same curve under the same name is a leak."""
    import base64

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    private = ec.generate_private_key(ec.SECP256R1())
    public = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    secret = private.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path = "dist/node_modules/get-pnpm/lib/npmSigningKeys.js"
    line = '        "key": "{}"\n'
    assert _blocking(path, line.format(base64.b64encode(public).decode()).encode()) == []
    leaked = base64.b64encode(secret).decode()
    assert [v for _, v in _blocking(path, line.format(leaked).encode())] == [leaked]


def test_values_in_an_api_descriptions_examples_and_after_e_g_are_examples() -> None:
    """ghapi's OpenAPI table ('body_examples': {... 'access_token': '...'}) and kombu's
    comment (# e.g. sqla+mysql://root:masterkey@localhost/) give examples; the same values
    outside them are findings."""
    spec = (
        b"          'body_examples': {'default': {'summary': '', 'value': "
        b"{'access_token': 'e72e16c7e42f292c6912e7710c838347ae178b4a'}}},\n"
    )
    comment = b"    # e.g. sqla+mysql://root:masterkey@localhost/\n"
    found = [(f.rule_id, str(f.context)) for f in _analyze("ghapi/gh_spec.py", spec)]
    assert found == [("generic-quoted-assignment", "well-known")]
    found = [(f.rule_id, str(f.context)) for f in _analyze("kombu/connection.py", comment)]
    assert found == [("mysql-uri-password", "well-known")]
    plain = b"          'value': {'access_token': 'e72e16c7e42f292c6912e7710c838347ae178b4a'},\n"
    assert [f.context for f in _analyze("ghapi/gh_spec.py", plain)] == [None]
    url = b"    url = 'sqla+mysql://root:masterkey@localhost/'\n"
    assert [f.context for f in _analyze("kombu/connection.py", url)] == [None]


def test_a_token_nested_under_an_examples_key_is_an_example() -> None:
    """ghapi's OpenAPI table pretty-prints GitHub's documented OIDC token a few lines below
    'body_examples'; a token beside that block, not inside it, is a finding."""
    import base64

    def part(data: dict[str, str]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    token = ".".join(
        [part({"typ": "JWT", "alg": "RS256"}), part({"sub": "repo:o/r:environment:Production"}),
         "Xq7vLz2T9mWkR4pDj8Hs3NbYc6Fa0GeUt5Ko1Mi"]
    )  # fmt: skip
    example = (
        "          'body_examples': {'default': {'summary': '',\n"
        "                                        'value': {'environment': 'github-pages',\n"
        f"                                                  'oidc_token': '{token}'}}}}}}}},\n"
    )
    beside = f"          'body_examples': {{}},\n          'oidc_token': '{token}',\n"
    found = [f for f in _analyze("ghapi/gh_spec.py", example.encode()) if f.rule_id == "jwt"]
    assert [str(f.context) for f in found] == ["well-known"]
    found = [f for f in _analyze("ghapi/gh_spec.py", beside.encode()) if f.rule_id == "jwt"]
    assert [f.context for f in found] == [None]


def test_render_passes_and_namespaced_state_keys_are_names() -> None:
    """plotly's renderer sets and compares a render pass (i.currentPass="translucent",
    currentPass==="opaque"); jupyterlab keys its state database by "docmanager:recents"."""
    renderer = b'i.currentPass="translucent";let u=!1;if(t.currentPass==="opaque")return;\n'
    passes = b'for(i.currentPass="opaque",i.currentLayer=0;;)f(i);i.currentPass="translucent";\n'
    state = b'!function(e){e.stateDBKey="docmanager:recents"}(o||(o={}))\n'
    assert _blocking("plotly/package_data/plotly.min.js", renderer) == []
    assert _blocking("plotly/package_data/plotly.min.js", passes) == []
    # set twice and never compared: a value, not a state's name (an English word such as
    # "translucent" would be a name by the dictionary alone)
    twice = b'i.currentPass="tqzvkxwplm";f(i);i.currentPass="tqzvkxwplm";\n'
    assert [v for _, v in _blocking("app/bundle.js", twice)] == ["tqzvkxwplm"]
    assert _blocking("jupyterlab/static/jlab_core.js", state) == []
    assert [v for _, v in _blocking("app/bundle.js", b'i.currentPass="Xq7vLz2T9mWk";\n')] == [
        "Xq7vLz2T9mWk"
    ]
    real = b'!function(e){e.apiKey="k8Xq7vLz2T:9mWkR4pDj"}(o||(o={}))\n'
    assert [v for _, v in _blocking("app/bundle.js", real)] == ["k8Xq7vLz2T:9mWkR4pDj"]


def test_a_basic_header_a_class_builds_is_no_credential(tmp_path: Path) -> None:
    """httpclient's BasicScheme, jsch's ProxyHTTP and commons-net's FTPHTTPClient (pyspark's
    jars) keep "Authorization: Basic " and append the encoded credentials at run time: the
    next constant is a class name. A class that keeps the whole header still leaks it."""
    from builders import java_class

    built = java_class(
        tmp_path / "built",
        "BasicScheme",
        ["Authorization", ": Basic ", "org/apache/http/message/BufferedHeader"],
    )
    assert _blocking("org/apache/http/impl/auth/BasicScheme.class", built) == []
    kept = java_class(
        tmp_path / "kept", "Client", ["Authorization: Basic c3ZjOjZYMkNFMEdXenErQnBybXc="]
    )
    assert _blocking("com/example/Client.class", kept) == [
        ("http-basic-auth-header", "c3ZjOjZYMkNFMEdXenErQnBybXc=")
    ]


def test_a_key_among_a_librarys_unit_test_assertions_is_test_material(tmp_path: Path) -> None:
    """librdkafka compiles its unit tests into the library confluent-kafka ships: the RSA key
    its JWT test signs with sits among "RDUT: FAIL: ... assert failed: ..." messages. The
    same key in a program without them still blocks."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from binbuild import compile_c
    from finalexam.analyze.secrets.scan import scan_bytes

    pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    literal = "".join(f'"{line}\\n"\n' for line in pem.splitlines())

    def program(before: str) -> bytes:
        source = (
            "#include <stdio.h>\n"
            f"int main(int argc, char **argv) {{\n    if (argc > 3) puts({before!r});\n"
            f"    const char *key = {literal};\n"
            "    puts(argc > 2 ? key : argv[0]);\n    return 0;\n}\n"
        ).replace("'", '"')
        name = "ut" if "assert" in before else "plain"
        return compile_c(tmp_path, name, ["-O0"], source).read_bytes()

    def contexts(data: bytes) -> list[object]:
        return [hit.context for hit in scan_bytes(data, "librdkafka.so.1", binary=True)]

    tested = program("RDUT: FAIL: %s:%d: %s: assert failed: payload == NULL: ")
    assert contexts(tested) == [FileContext.WELL_KNOWN]
    assert contexts(program("Connecting to %s:%d")) == [None]


@pytest.mark.parametrize(
    ("path", "text"),
    [
        # mistralai's generated models: the nullable fields listed by name
        ("mistralai/client/models/conversationusageinfo.py",
         '        nullable_fields = set(["connector_tokens", "connectors"])'),
        # pyiceberg: the name of a Hive client property
        ("pyiceberg/catalog/hive.py", 'HIVE_KERBEROS_AUTH = "hive.kerberos-authentication"'),
        # reportlab's cipher test vector, written as escaped bytes
        ("reportlab/lib/arciv.py", "        'key': b\"\\x01\\x23\\x45\\x67\\x89\\xab\\xcd\\xef\","),
        # statsmodels: a parameter's name made by an f-string
        ("statsmodels/tsa/statespace/structural.py",
         '                cov_key = f"freq_seasonal_var_{ix!r}"'),
        # cuda-bindings' Cython declarations: a field and its C type
        ("cuda/bindings/driver.pxd", "        p2pToken : unsigned long long"),
        # mlflow's bundle: Babel's class helper, showdown's emoji table, monaco's SQL keywords
        ("mlflow/server/js/build/static/js/2777.chunk.js",
         '}},{key:"isPerpendicularTo",value:function(e){var t=this.dot(e);return t}}'),
        ("mlflow/server/js/build/static/js/6507.chunk.js",
         'seat:"\\ud83d\\udcba",secret:"\\u3299\\ufe0f",see_no_evil:"\\ud83d\\ude48"'),
        ("mlflow/server/js/build/static/js/6741.chunk.js",
         '"ASSERTION","AT","ATTACH","AUTHORIZATION","AUTOINCREMENT","AVG","BACKUP"'),
        # openconnect's CSD scripts: curl pins the server's public key
        ("usr/libexec/openconnect/csd-post.sh",
         'PINNEDPUBKEY="${CSD_SHA256:+"-k --pinnedpubkey sha256//$CSD_SHA256"}"'),
    ],
)  # fmt: skip
def test_names_vectors_and_tables_of_blind_part_3_are_no_secrets(path: str, text: str) -> None:
    assert _blocking(path, text.encode() + b"\n") == []


@pytest.mark.parametrize(
    ("path", "text", "value"),
    [
        ("app/client.py", '    headers = [("X-Api-Token", "Zq8vLx2KmT7wP4rY9sN3")]',
         "Zq8vLx2KmT7wP4rY9sN3"),
        ("app/settings.py", 'HIVE_AUTH_TOKEN = "hive.Kx9vQ2mLz7Rt"', "hive.Kx9vQ2mLz7Rt"),
        ("app/cipher.py", "        'key': b\"\\x8f\\x1c\\x5a\\xe3\\x07\\xd9\\x6b\\x42\",",
         "\\x8f\\x1c\\x5a\\xe3\\x07\\xd9\\x6b\\x42"),
        ("app/keys.py", '                cov_key = f"Xq7vLz2T9mWkR4pN"', "Xq7vLz2T9mWkR4pN"),
        ("app/bundle.js", '{key:"Zq8vLx2KmT7wP4rY9sN3",label:"prod"}', "Zq8vLx2KmT7wP4rY9sN3"),
        ("app/bundle.js", 'headers.set("Authorization","Zq8vLx2KmT7wP4rY9sN3")',
         "Zq8vLx2KmT7wP4rY9sN3"),
        ("deploy/fetch.sh", 'curl --api-key Zq8vLx2KmT7wP4rY9sN3 https://api.internal/',
         "Zq8vLx2KmT7wP4rY9sN3"),
    ],
)  # fmt: skip
def test_credentials_beside_the_shapes_of_blind_part_3_still_count(
    path: str, text: str, value: str
) -> None:
    assert [v for _, v in _blocking(path, text.encode() + b"\n")] == [value]


def test_a_word_a_file_gives_as_many_names_value_is_a_category() -> None:
    """duckdb's keyword table files 150 keywords as "unreserved", "password" among them; a
    password given once in a file of the same shape still counts."""
    table = "".join(f'    "{word}": "unreserved",\n' for word in ["abort", "absolute", "access",
        "action", "add", "admin", "after", "aggregate", "also"])  # fmt: skip
    honest = f'KEYWORDS = {{\n{table}    "password": "unreserved",\n}}\n'
    assert _blocking("duckdb/_sql_keywords.py", honest.encode()) == []
    real = honest.replace('"password": "unreserved"', '"password": "Wz8qLmvXtrRk"')
    assert [v for _, v in _blocking("app/settings.py", real.encode())] == ["Wz8qLmvXtrRk"]


def _jwt(claims: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        raw = json.dumps(value, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    header = part({"alg": "HS256", "typ": "JWT", "kid": "abcedfg"})
    return f"{header}.{part(claims)}.bT5oY8K-rS2gQ7Awc40844bK3zhzBhZb7sputErqQHY"


def test_a_signed_token_that_has_expired_is_reported_without_blocking() -> None:
    """librdkafka's OAUTHBEARER unit tests (in confluent-kafka's wheel) carry an HS256 token
    that expired in September 2021; the same token expiring in 2100 is a credential."""
    expired = _jwt({"iat": 1632375320, "sub": "svc-ingest", "exp": 1632375620})
    live = _jwt({"iat": 1632375320, "sub": "svc-ingest", "exp": 4102444800})
    library = b"\0\0" + expired.encode() + b"\0rdkafka_sasl_oauthbearer\0"
    hits = scan_bytes(library, "confluent_kafka.libs/librdkafka.so.1", binary=True, kind="elf")
    assert [(h.rule.id, h.confidence, h.validation) for h in hits] == [
        ("jwt", Confidence.LOW, "expired")
    ]
    text = f'token = "{live}"\n'.encode()
    assert _blocking("app/client.py", text) == [("jwt", live)]
    assert _blocking("app/client.py", text.replace(live.encode(), expired.encode())) == []


@pytest.mark.parametrize(
    ("path", "text"),
    [
        # djangorestframework: a migration's dependency names the previous migration
        ("rest_framework/authtoken/migrations/0003_tokenproxy.py",
         "        ('authtoken', '0002_auto_20160226_1747'),"),
        # license_expression: ScanCode's licence index, keyed by licence ids
        ("license_expression/data/scancode-licensedb-index.json",
         '    "license_key": "amplication-ee-2022",'),
        # posthog's sanitiser explains itself with the joke password
        ("posthog/mcp/_sanitization.py",
         "# closing a sentence: `?password=hunter2!!!` ends in the password itself."),
        # stripe: the value is a function the line calls
        ("stripe/issuing/_authorization.py", "    authorization=sanitize_id(authorization)"),
        # wandb: a marker that spells its own name
        ("wandb/sdk/lib/redirect.py", '_LAST_WRITE_TOKEN = b"L@stWr!t3T0k3n"'),
        # duplicity's and GNU parallel's help: the URL grammar's optional parts
        ("usr/lib/python3/dist-packages/duplicity/commandline.py",
         "# ftp://user[:password]@other.host[:port]/some_dir"),
        ("usr/bin/sql", "# sql:mysql://[[user][:password]@][host][:port]/[database[?sql query]]"),
        ("usr/bin/sql",
         """my $password = defined($opt{'password'}) ? "--password=".$opt{'password'} : "";"""),
        # exiftool hands an option on; puppet names a function and quotes a classic example
        ("usr/bin/exiftool", "            push @nextPass, '-geotag', $trkfile;"),
        ("usr/lib/ruby/vendor_ruby/puppet/functions/find_template.rb",
         "#   'password' => Deferred('vault_lookup::lookup',"),
        ("usr/lib/ruby/vendor_ruby/puppet/ssl/ssl_provider.rb",
         "#   ssl_context = provider.load_context(password: 'opensesame')"),
        # monit's configuration documents its default
        ("etc/monit/monitrc",
         "#    allow admin:monit      # require user 'admin' with password 'monit'"),
        # tomcat's message bundles: translations written as \u escapes
        ("org/apache/catalina/authenticator/LocalStrings_cs.properties",
         "spnegoAuthenticator.authHeaderNoToken=Domlouvac\\u00ed autoriza\\u010dn\\u00ed"
         " hlavi\\u010dka zaslan\\u00e1 klientem neobsahuje token"),
        # ansible's lookup plug-in builds a path under a folder
        ("ansible/plugins/lookup/password.py",
         "    x = lookup('ansible.builtin.password', 'credentials/' + client + '/pw')"),
    ],
)  # fmt: skip
def test_names_markers_and_grammars_of_blind_part_4_are_no_secrets(path: str, text: str) -> None:
    assert _blocking(path, text.encode() + b"\n") == []


@pytest.mark.parametrize(
    ("path", "text", "value"),
    [
        ("app/migrations.py", "        ('authtoken', 'k8Vq2LmZx7Kw4RtP'),", "k8Vq2LmZx7Kw4RtP"),
        ("app/licences.json", '"license_key": "Q7vLzT9-mWk4Rt8-Xp2L",', "Q7vLzT9-mWk4Rt8-Xp2L"),
        ("app/settings.py", 'DB_PASSWORD = "hunter2Xq7vLz"', "hunter2Xq7vLz"),
        ("app/client.py", '    authorization = "Zq8vLx2KmT7wP4rY9sN3"', "Zq8vLx2KmT7wP4rY9sN3"),
        ("app/marker.py", '_LAST_WRITE_TOKEN = b"Kx9$vQ2!mLz7Rt"', "Kx9$vQ2!mLz7Rt"),
        ("deploy/sync.sh", "lftp ftp://deploy:Wz8qLm3vX7@ftp.internal/site", "Wz8qLm3vX7"),
        ("etc/monit/monitrc", "allow admin:Wz8qLmvXrk  # with password 'Wz8qLmvXrk'", "Wz8qLmvXrk"),
        ("app/LocalStrings.properties", "app.token=Wz8qLm3vX7Kp", "Wz8qLm3vX7Kp"),
    ],
)  # fmt: skip
def test_credentials_beside_the_shapes_of_blind_part_4_still_count(
    path: str, text: str, value: str
) -> None:
    assert value in [v for _, v in _blocking(path, text.encode() + b"\n")]


def test_a_readme_in_core_metadata_a_declaration_file_and_examples_constants_are_docs() -> None:
    """pyotp's and sshtunnel's READMEs are the bodies of their METADATA; octokit's types
    document GitHub's API in a .d.ts; every Ansible plug-in keeps its EXAMPLES in a string."""
    headers = b"Metadata-Version: 2.1\nName: pyotp\nVersion: 2.12.1\n"
    readme = b"    totp = pyotp.TOTP(secret='JBSWY3DPEHPK3PXPJBSWY3DP')\n"
    assert _blocking("pyotp-2.12.1.dist-info/METADATA", headers + b"\n" + readme) == []
    assert _blocking("app/settings.py", readme) != []  # the same line in code still counts
    doc = b' * key = Base64.decode64("+ZYvJDZMHUfBkJdyq5Zm9SKqeuBQ4sj+6sfjlH4CgG0=")\n'
    assert _blocking("package/types.d.ts", doc) == []
    assert _blocking("package/index.js", doc) != []
    examples = b"EXAMPLES = r'''\n  tomcat3 = { mysecret = \"03#pa33w0rd\" }\n'''\n"
    assert _blocking("ansible/plugins/inventory/toml.py", examples) == []
    assert _blocking("ansible/plugins/inventory/toml.py", examples.replace(b"EXAMPLES", b"CONF"))


@pytest.mark.parametrize(
    ("path", "text"),
    [
        # inspircd's example config: a run of the keyboard's digits
        ("etc/inspircd/inspircd.conf", '<power diepass="3456" restartpass="7890">'),
        # lftp's import script: a sed expression over FTP URLs
        ("usr/share/lftp/import-netscape",
         "u=`echo $line | sed -e 's|\\(ftp://[^:]*\\):[^@]*@|\\1|'`"),
        # ocserv: an authentication method with its options
        ("etc/ocserv/ocserv.conf", '#auth = "pam[gid-min=1000]"'),
        # prosody: a Lua pattern matched by a method call
        ("usr/lib/prosody/modules/mod_http.lua",
         '        local method, path = key:match("^(%S+)%s+(.+)$");'),
        # rspamd: the public keys of its fuzzy storage and of its rule updates
        ("etc/rspamd/modules.d/fuzzy_check.conf",
         'encryption_key = "icy63itbhhni8bq15ntp5n5symuixf73s1kpjh6skaq4e7nx5fiy";'),
        ("etc/rspamd/modules.d/rspamd_update.conf",
         'key = "qxuogdh5eghytji1utkkte1dn3n81c3y5twe61uzoddzwqzuxxyb";'),
        # oletools: the passwords Office encrypts files with for everyone ([MS-OFFCRYPTO])
        ("oletools/crypto.py", "EXCEL_TRANSPARENT_PASSWORD = 'VelvetSweatshop'"),
        ("oletools/crypto.py", "POWERPOINT_TRANSPARENT_PASSWORD = '/01Hannes Ruescher/01'"),
        # spamassassin: Bayes database markers, control characters then their name
        ("usr/share/perl5/Mail/SpamAssassin/BayesStore/DBM.pm",
         '$DB_VERSION_MAGIC_TOKEN\t\t= "\\015\\001\\007\\011\\003DBVERSION";'),
        # sqlmap: a printf template
        ("usr/share/sqlmap/plugins/generic/users.py",
         'password = "0x%s" % encodeHex(password, binary=False).upper()'),
        # oscrypto: an OID as a C string
        ("oscrypto/_win/_crypt32.py",
         'PKIX_KP_SERVER_AUTH = buffer_from_bytes(b"1.3.6.1.5.5.7.3.1\\x00")'),
        # pipenv writes a .netrc from a template
        ("pipenv/utils/internet.py",
         '            f"machine {host}\\n  login {username}\\n  password {password}\\n"'),
        # privoxy's postinst: adduser's flag takes no value
        ("control/postinst",
         "    adduser --system --home /etc/privoxy --no-create-home \\\n"
         "\t    --ingroup nogroup --disabled-password privoxy"),
        # blind part 6: chkrootkit names a library's path, huey builds keys from a template,
        # socksio names a protocol byte, svix a token's prefix, axe-core a method, and
        # css-tokenizer's bundle assigns an enum member
        ("usr/sbin/chkrootkit", 'LIBKEY="lib/x86_64-linux-gnu/libkeyutils.so.1"'),
        ("huey/storage.py", "        self.counter_key = 'huey.counters.%s' % self.name"),
        ("socksio/socks5.py", '    USERNAME_PASSWORD = b"\\x02"'),
        ("svix/autoconfig.py", '_AUTOCONFIG_TOKEN_PREFIX_V1 = "auto_v1_"'),
        ("package/axe.js", "      key: 'serializeCoords',"),
        ("package/dist/index.mjs",
         'var t;!function(e){e.Comment="comment-token",e.Semicolon="semicolon-token"}(t||(t={}));'),
        # pydocket compares a stream key with a dunder name
        ("docket/worker.py", '        is_redelivery = stream_key == b"__redelivery__"'),
        # browser-use: PostHog's project key, written into every web page that reports
        ("browser_use/telemetry/service.py",
         "POSTHOG_PROJECT_API_KEY = 'phc_F8JMNjW1i2KbGUTaW1unnDdLSPCoyc52SGRU0JecaUh'"),
        # h2's message bundle; absl's and SQLite's comments say "identified by" in English
        ("org/h2/server/web/res/_text_en.prop", "tools.decryptionPassword=Decryption password"),
        ("absl/strings/internal/cordz_info.h",
         "  // Maybe sample the cord identified by 'cord' for method 'method'."),
        ("sqlite3.h", '** contain the same values for all columns identified by "colUsed", all'),
        ("usr/share/coturn/schema.userdb.redis",
         "  * The global admin user 'bayaz' with password 'magi';"),
    ],
)  # fmt: skip
def test_patterns_markers_and_public_keys_of_blind_part_5_are_no_secrets(
    path: str, text: str
) -> None:
    assert _blocking(path, text.encode() + b"\n") == []


@pytest.mark.parametrize(
    ("path", "text", "value"),
    [
        ("etc/app.conf", 'restartpass="Kq7391"', "Kq7391"),
        ("deploy/sync.sh", "lftp ftp://deploy:Wz8[qLm3vX7@ftp.internal/site", "Wz8[qLm3vX7"),
        ("etc/ocserv/ocserv.conf", 'auth_token = "pam7Wq8vLz2xT9"', "pam7Wq8vLz2xT9"),
        ("etc/rspamd/local.d/fuzzy_check.conf",
         'encryption_key = "k3yq7tbhhni8bq15ntp5n5symuixf73s1kpjh6skaq4e7nx5fiz";',
         "k3yq7tbhhni8bq15ntp5n5symuixf73s1kpjh6skaq4e7nx5fiz"),
        ("app/marker.py", 'DB_TOKEN = "\\015\\001Kq7vLzT9mW"', "\\015\\001Kq7vLzT9mW"),
        ("app/keys.py", 'api_key = "__Xq7vLzT9mW4pR__"', "__Xq7vLzT9mW4pR__"),
        ("app/telemetry.py", "POSTHOG_PERSONAL_API_KEY = 'phx_F8JMNjW1i2KbGUTaW1unnDdLSPCoyc52'",
         "phx_F8JMNjW1i2KbGUTaW1unnDdLSPCoyc52"),
        ("app/settings.properties", "db.password=Wz8qLm3vX7Kp", "Wz8qLm3vX7Kp"),
        ("app/keys.py", 'API_KEY = "Kq7vLz/T9mW4pR/x8Lz2"', "Kq7vLz/T9mW4pR/x8Lz2"),
        ("app/keys.py", 'API_KEY = "\\x8f\\x02\\x7a\\x11Kq7vLzT9"', "\\x8f\\x02\\x7a\\x11Kq7vLzT9"),
        ("app/keys.js", "      key: 'Kq7vLzT9mW4pRx8L',", "Kq7vLzT9mW4pRx8L"),
        ("deploy/run.sh", "tool --disabled-users --password Wz8qLm3vX7Kp", "Wz8qLm3vX7Kp"),
        ("db/init.sql", "CREATE USER app\n    IDENTIFIED BY 'Wz8qLm3vX7';", "Wz8qLm3vX7"),
        ("db/roles.sql", "CREATE ROLE app WITH LOGIN PASSWORD 'Wz8qLm3vX7';", "Wz8qLm3vX7"),
        ("db/roles.sql", "CREATE ROLE app\n  WITH PASSWORD 'Wz8qLm3vX7';", "Wz8qLm3vX7"),
        ("db/grant.sql", "GRANT ALL ON db.* TO 'app'@'%' IDENTIFIED BY 'Wz8qLm3vX7';",
         "Wz8qLm3vX7"),
    ],
)  # fmt: skip
def test_credentials_beside_the_shapes_of_blind_part_5_still_count(
    path: str, text: str, value: str
) -> None:
    assert value in [v for _, v in _blocking(path, text.encode() + b"\n")]


def test_a_fenced_block_in_a_comment_documents_an_exchange() -> None:
    """looker_sdk's generated methods show the login exchange in Markdown inside comments."""
    comment = (
        b"    # API requests, like this:\n"
        b"    # ```\n"
        b"    # Authorization: token 4QDkCyCtZzYgj4C2p2cj3csJH7zqS5RzKs2kTnG4\n"
        b"    # ```\n"
    )
    assert _blocking("looker_sdk/sdk/api40/methods.py", comment) == []
    # after the block closes, or in a comment with no block, the same header counts
    closed = comment + b"    # Authorization: token 4QDkCyCtZzYgj4C2p2cj3csJH7zqS5RzKs2kTnG5\n"
    assert [v for _, v in _blocking("looker_sdk/sdk/api40/methods.py", closed)] == [
        "4QDkCyCtZzYgj4C2p2cj3csJH7zqS5RzKs2kTnG5"
    ]


def test_ordinary_english_words_are_in_the_dictionary() -> None:
    """streamlit's deck.gl bundle renders ``pass: `collision` `` and pyright registers
    ``ServiceKey("CancellationProvider")``: ordinary words the first 10,600-word dictionary
    lacked, so those values read as random letters."""
    words = dictionary()
    assert {"collision", "cancellation", "provider", "authentication"} <= words
    assert dictionary_share("CancellationProvider") == dictionary_share("collision") == 1.0
    assert dictionary_share("qzvkxwpt") == dictionary_share("Xq7vLzTmWkPr") == 0.0


@pytest.mark.parametrize(
    ("path", "line", "secret"),
    [
        ("streamlit/static/static/js/DeckGlJsonChart.Bk-DBRSw.js",
         "this.render({...t,scissorRect:r,target:e,pass:`VALUE`})}getLayerParameters(e,t,n){",
         "k7Qz9vXw2mTr"),
        ("pyright/dist/dist/pyright-internal.js",
         'r.commandService=new i.ServiceKey("CommandService"),'
         'r.cancellationProvider=new i.ServiceKey("VALUE"),r.x=1',
         None),
        ("pyright/dist/dist/pyright-internal.js",
         'r.cancellationProvider=new i.ServicePassword("VALUE"),r.x=1',
         "c9Vq2LmZx7Kw4RtP"),
    ],
)  # fmt: skip
def test_a_value_made_of_words_is_a_name_and_a_random_one_in_its_place_a_secret(
    path: str, line: str, secret: str | None
) -> None:
    """The words of the honest releases are no credentials; the same assignment or call
    with random characters in their place is still reported."""
    for words in ("collision", "CancellationProvider"):
        assert _blocking(path, line.replace("VALUE", words).encode() + b"\n") == []
    if secret is not None:
        found = _blocking(path, line.replace("VALUE", secret).encode() + b"\n")
        assert [value for _, value in found] == [secret]
    random_line = line.replace("VALUE", "c9Vq2LmZx7Kw4RtP")
    random_value = candidate("i.ServiceKey", "c9Vq2LmZx7Kw4RtP", random_line, path)
    assert not dropped(random_value)  # weighed by the model, never dropped as words


def test_a_key_in_the_test_runners_section_of_a_project_file_is_test_material() -> None:
    """prefect 3.9's pyproject.toml gives its test server an encryption key in
    ``[tool.pytest.ini_options] env``; the same line in a section the package reads counts."""
    line = b'    "PREFECT_SERVER_ENCRYPTION_KEY=Rw3pP0nFbLnvKQjMh6XLZ0y5zY1kQ4kZfNvT8mVJ0hE=",\n'
    tested = b'[project]\nname = "x"\n\n[tool.pytest.ini_options]\nenv = [\n' + line + b"]\n"
    assert _blocking("prefect-3.9.1/pyproject.toml", tested) == []
    assert _blocking("setup.cfg", tested.replace(b"tool.pytest.ini_options", b"tool:pytest")) == []
    served = tested.replace(b"tool.pytest.ini_options", b"tool.myapp.server")
    assert [v for _, v in _blocking("prefect-3.9.1/pyproject.toml", served)] == [
        "Rw3pP0nFbLnvKQjMh6XLZ0y5zY1kQ4kZfNvT8mVJ0hE="
    ]


def test_a_product_analytics_ingestion_key_is_public_by_design() -> None:
    """prefect 3.9 sends usage events with ``AMPLITUDE_API_KEY``, a key Amplitude documents as
    public (every client carries it); its secret key is another name and still counts."""
    public = b'AMPLITUDE_API_KEY = "c97dd2acbf306ab7bf54aca0aeb7ffa1"\n'
    assert _blocking("prefect/_internal/analytics/_config.py", public) == []
    secret = public.replace(b"API_KEY", b"SECRET_KEY")
    assert [v for _, v in _blocking("prefect/_internal/analytics/_config.py", secret)] == [
        "c97dd2acbf306ab7bf54aca0aeb7ffa1"
    ]


def test_an_examples_heading_in_a_one_line_help_text_marks_its_examples() -> None:
    """wfuzz 3.1's usage is one literal with \\n escapes: "Examples:\\n\\twfuzz ... pass=FUZ2Z".
    Without the heading, or on a line of its own outside it, the same parameter counts."""
    banner = (
        b'examples_banner = """Examples:\\n\\twfuzz -z file,p.txt http://h/l?user=FUZZ&pass=FUZ2Z'
    )
    assert _blocking("wfuzz/ui/console/common.py", banner + b' -c\\n"""\n') == []
    plain = banner.replace(b"Examples:", b"Usage").replace(b"FUZ2Z", b"Vq8kLm2xR4")
    assert [v for _, v in _blocking("wfuzz/ui/console/common.py", plain + b' -c\\n"""\n')] == [
        "Vq8kLm2xR4"
    ]


def test_an_absolute_lower_case_path_is_no_credential() -> None:
    """rabbitmq-server's OCF agent: OCF_RESKEY_ctl_default="/usr/sbin/rabbitmqctl"."""
    line = b'OCF_RESKEY_ctl_default="/usr/sbin/rabbitmqctl"\n'
    assert _blocking("usr/lib/ocf/resource.d/rabbitmq/rabbitmq-server", line) == []
    real = line.replace(b"/usr/sbin/rabbitmqctl", b"Vq8kLm2xR4zT/7")
    assert [v for _, v in _blocking("usr/lib/ocf/resource.d/rabbitmq/server", real)] == [
        "Vq8kLm2xR4zT/7"
    ]


@pytest.mark.parametrize(
    ("path", "text"),
    [
        # smbprotocol: a create context's tag in bytes, a KDF's label beside the key variable
        ("smbprotocol/create_contexts.py", 'SMB2_CREATE_TIMEWARP_TOKEN = b"\\x54\\x57\\x72\\x70"'),
        ("smbprotocol/session.py",
         '        self.signing_key = self._smb3kdf(self.session_key, b"SMB2AESCMAC\\x00", b"x")'),
        # oss2: a signature scheme's name, and a tag joined to the secret at run time
        ("oss2/auth.py",
         "        authorization = 'OSS4-HMAC-SHA256 Credential={0}, Signature={1}'.format(c, s)"),
        ("oss2/auth.py", "    key_secret = 'aliyun_v4'+credentials.get_access_key_secret()"),
        # pyinstaller: a folder joined to a path attribute
        ("PyInstaller/hooks/rthooks/pyi_rth_gstreamer.py",
         "paths = [sys._MEIPASS, os.path.join(sys._MEIPASS, 'gst_plugins')]"),
        # pytorch-lightning: a name and its index
        ("pytorch_lightning/strategies/fsdp.py", '            optim_key = f"optimizer_{idx}"'),
        # prophet's bundled TBB sets a compiler option
        ("stan_math/lib/tbb_2020.3/build/linux.gcc.inc", "    DSE_KEY = -flifetime-dse=1"),
        # tiger's password-file checks name the hash scheme
        ("usr/lib/tiger/systems/Linux/2/gen_passwd_sets", '    passwd="sha512"'),
        # ultralytics: GA4's Measurement Protocol only takes events
        ("ultralytics/utils/events.py",
         '    url = "https://www.google-analytics.com/mp/collect?measurement_id=G-X8NCJYTQXM'
         '&api_secret=QLQrATrNSwGRFRLE-cbHJw"'),
    ],
)  # fmt: skip
def test_tags_schemes_and_parts_of_blind_part_8_are_no_secrets(path: str, text: str) -> None:
    assert _blocking(path, text.encode() + b"\n") == []


@pytest.mark.parametrize(
    ("path", "text", "value"),
    [
        ("app/keys.py", 'API_TOKEN = b"\\x54\\x57\\x72\\x70\\x11\\x8f\\x02\\x7a\\x33"',
         "\\x54\\x57\\x72\\x70\\x11\\x8f\\x02\\x7a\\x33"),
        ("app/auth.py", "    key_secret = 'Kq7vLzT9mW4pR' + suffix", "Kq7vLzT9mW4pR"),
        ("etc/app.sh", '    passwd="sha512Kq7vLzT9"', "sha512Kq7vLzT9"),
        ("build/deploy.inc", "    DB_KEY = --password=Kq7vLzT9mW4p", "Kq7vLzT9mW4p"),
        ("app/auth.py", "    optim_key = f\"Kq7vLzT9mW4pR_{idx}\"", "Kq7vLzT9mW4pR_{idx}"),
        ("app/report.py",
         '    url = "https://api.example.net/collect?id=7&api_secret=QLQrATrNSwGRFRLE-cbHJw"',
         "QLQrATrNSwGRFRLE-cbHJw"),
    ],
)  # fmt: skip
def test_credentials_beside_the_shapes_of_blind_part_8_still_count(
    path: str, text: str, value: str
) -> None:
    assert value in [v for _, v in _blocking(path, text.encode() + b"\n")]


_SCAPY_KEY = "5e9255c907b2f7e969ddad816eabbec8f1f7a387c7194ecc98b827bdc9421c2b"


@pytest.mark.parametrize(
    ("path", "text"),
    [
        # ecryptfs-utils: the passphrase read again, what `head -n1` prints
        ("usr/bin/ecryptfs-setup-private", "\t\t\tLOGINPASS2=`head -n1`"),
        # mistral-vibe: fields and parameters annotated with their types
        ("vibe/app_server/_session_backend_port.py", "    authorization: MCPAuthorizationRef"),
        ("vibe/_mcp_runtime.py",
         "        self, server: ResolvedMCPServerConfig, authorization: MCPAuthorizationSnapshot"),
        # cloudflare: class names imported after the word
        ("cloudflare/resources/zero_trust/tunnels/__init__.py",
         "from .cloudflared import (\n    AsyncCloudflaredResourceWithRawResponse,\n"
         "    CloudflaredResourceWithStreamingResponse,\n)"),
        # scapy: an example in a class's docstring, in a file with Windows line ends
        ("scapy/layers/spnego.py",
         'class SPNEGOSSP(SSP):\r\n    """\r\n    Example::\r\n\r\n        KEY=Key(\r\n'
         f'            key=hex_bytes("{_SCAPY_KEY}")'
         '\r\n        )\r\n    """\r\n'),
        # scapy: a protocol field's label, the name shortened
        ("scapy/contrib/hicp.py", '    "new_password": "New password",\n    "password": "PSWD",'),
        # SpeechRecognition: the speech API key its public source uses when none is given
        ("speech_recognition/recognizers/google.py",
         '        key = "AIzaSyBOti4mM-6x9WDnZIjIeyEU21OpBXqWBgw"'),
    ],
)  # fmt: skip
def test_commands_types_class_names_and_docs_of_blind_part_9_are_no_secrets(
    path: str, text: str
) -> None:
    assert _blocking(path, text.encode() + b"\n") == []


@pytest.mark.parametrize(
    ("path", "text", "value"),
    [
        ("deploy/setup.sh", "DB_PASSWORD=`Kq7vLzT9mW4p`", "Kq7vLzT9mW4p"),
        ("app/settings.py", 'DB_PASSWORD = "QWXZ"', "QWXZ"),
        ("web/login.js", "const password = `Kq7vLzT9mW4p`;", "Kq7vLzT9mW4p"),
        ("app/client.py", '    headers = "Authorization: Bearer aZk9ZmQ2vLxY7pR4tW8e"',
         "aZk9ZmQ2vLxY7pR4tW8e"),
        ("app/settings.py", '    CLOUDFLARE_API_TOKEN = "vnbyGMQJYdpR1GbrxW3sJ1EZw3C9KTkMYo9IyOLa"',
         "vnbyGMQJYdpR1GbrxW3sJ1EZw3C9KTkMYo9IyOLa"),
        ("app/geo.py", '    key = "AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvW"',
         "AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvW"),
        ("app/keys.py",
         f'class Keys:\r\n    """Keys."""\r\n    KEY = hex_bytes("{_SCAPY_KEY}")\r\n', _SCAPY_KEY),
    ],
)  # fmt: skip
def test_credentials_beside_the_shapes_of_blind_part_9_still_count(
    path: str, text: str, value: str
) -> None:
    assert value in [v for _, v in _blocking(path, text.encode() + b"\n")]


@pytest.mark.parametrize(
    ("path", "text"),
    [
        # roundcube: the word "password" in Breton, a passed installer check, a time zone
        ("usr/share/roundcube/program/localization/br/labels.inc",
         "$labels['password'] = 'Ger-Tremen';"),
        ("usr/share/roundcube/installer/test.php", "        $RCI->pass('DB Schema');"),
        ("usr/share/roundcube/program/lib/Roundcube/rcube_config.php",
         "            'Turkey' => 'Europe/Istanbul',"),
        # bokeh: base64 of {"session_id": "default"}
        ("bokeh/server/static/js/bokeh.js",
         'exports.DEFAULT_TOKEN = "eyJzZXNzaW9uX2lkIjogImRlZmF1bHQifQ";'),
        # blind part 11: kpcli puts a scheme before the password, amavisd-new draws a PIN in
        # a format, siege's configuration shows login examples in comments
        ("usr/bin/kpcli", "  $master_pass='CLEAR:' . $master_pass;"),
        ("usr/share/perl5/Amavis/Util.pm", "    $password = sprintf('%04d', $r % 10000);"),
        # dokuwiki: a delimited regular expression, a setting's type in its metadata table
        ("usr/share/dokuwiki/inc/fulltext.php",
         "            $token = preg_replace('/([WPN])\\+\\:/u', '$1-:', $token);"),
        ("lib/plugins/authldap/conf/metadata.php", "$meta['modPass']     = array('onoff');"),
        ("etc/siege/siegerc",
         "# ex: login-url = http://www.haha.com/login.php?name=homer&pass=whoohoo\n"
         "#     login-url = http://www.haha.com/login.php?name=marge&pass=ohhomie"),
        # airbyte-api: a lazy-import map from class names to relative modules
        ("airbyte_api/models/__init__.py", '    "GoogleAdsCredentials": ".google_ads",'),
        ("airbyte_api/models/__init__.py",
         '    "DestinationWeaviateModeUsernamePassword": ".destination_weaviate",'),
        # wordpress: a nonce field's name
        ("usr/share/wordpress/wp-admin/includes/file.php",
         "<?php wp_nonce_field( 'filesystem-credentials', '_fs_nonce', false, true ); ?>"),
    ],
)  # fmt: skip
def test_labels_checks_zones_and_field_names_of_blind_parts_10_and_11_are_no_secrets(
    path: str, text: str
) -> None:
    assert _blocking(path, text.encode() + b"\n") == []


@pytest.mark.parametrize(
    ("path", "text", "value"),
    [
        ("app/config.inc.php", "$config['password'] = 'Kq7vLzT9mW4p';", "Kq7vLzT9mW4p"),
        ("app/login.php", "$this->pass('Kq7vLzT9mW4p');", "Kq7vLzT9mW4p"),
        ("app/keys.php", "    'monkey_api_key' => 'Kq7vLzT9mW4pRx2',", "Kq7vLzT9mW4pRx2"),
        ("app/settings.py", 'DB_PASSWORD = "_Kq7vLzT9mW4p"', "_Kq7vLzT9mW4p"),
        ("app/settings.py", 'DB_PASSWORD = ".Kq7vLzT9mW4p"', ".Kq7vLzT9mW4p"),
        ("app/login.pl", "$pass = 'Kq7vLzT9mW4p' . $suffix;", "Kq7vLzT9mW4p"),
        ("app/auth.php", "$token = '/Kq7vLzT9mW4p/';", "/Kq7vLzT9mW4p/"),
        ("etc/app/apprc", "login-url = http://app.internal/login?name=ops&pass=Kq7vLzT9mW4p",
         "Kq7vLzT9mW4p"),
        ("app/session.js", 'const TOKEN = "eyJzZXNzaW9uX2lkIjogIktxN3ZMelQ5bVc0cFJ4MlpiOHlOIn0";',
         "eyJzZXNzaW9uX2lkIjogIktxN3ZMelQ5bVc0cFJ4MlpiOHlOIn0"),
    ],
)  # fmt: skip
def test_credentials_beside_the_shapes_of_blind_parts_10_and_11_still_count(
    path: str, text: str, value: str
) -> None:
    assert value in [v for _, v in _blocking(path, text.encode() + b"\n")]


@pytest.mark.parametrize(
    ("path", "text"),
    [
        # postfixadmin and zoneminder: translation catalogues named for their locale
        ("usr/share/postfixadmin/languages/ca.lang", "$PALANG['password'] = 'Contrasenya';"),
        ("usr/share/postfixadmin/languages/da.lang",
         "$PALANG['pFetchmail_field_src_auth']        = 'Godkendelsesmetode';"),
        ("usr/share/zoneminder/www/lang/pt_br.php", "    'Password'             => 'Senha',"),
        ("app/locales/de_DE.js", "  password: 'Kennwort',"),
        # zoneminder's bundled CakePHP: a request option shown in a doc comment
        ("usr/share/zoneminder/www/api/lib/Cake/Network/Http/HttpSocket.php",
         "/**\n * Example:\n *\n * ```\n *     'password' => 'bruce_w4yne'\n * ```\n */"),
        # zoneminder's Keekoon.pm: "eg :" before a sample camera URL
        ("usr/share/perl5/ZoneMinder/Control/Keekoon.pm",
         "#   eg : http://admin:adminpass@10.10.10.1:80"),
        # mediawiki: functions reading literals, a character set, a sentinel, a key binding, a
        # scheme beside an interpolated variable, sample queries of an API module
        ("includes/auth/LocalPasswordPrimaryAuthenticationProvider.php",
         "$cp1252Password = iconv( 'UTF-8', 'WINDOWS-1252//TRANSLIT', $req->password );"),
        ("includes/api/ApiParamInfo.php",
         "$res[$key] = preg_replace( '!^(([*#:;])[^\\n]*)\\n\\n(?=\\2)!m', \"$1\\n\","
         " $res[$key] );"),
        ("includes/user/BotPasswordStore.php", "            'bp_token' => '**unsaved**',"),
        ("resources/lib/ace/ace.js", '    bindKey: bindKey("Ctrl-\\\\|Ctrl-P", "Command-\\\\"),'),
        ("vendor/wikimedia/shellbox/src/Client.php", "    'Authorization' => \"sha256 $hmac\""),
        ("includes/api/ApiValidatePassword.php",
         "\tprotected function getExamplesMessages() {\n\t\treturn [\n"
         "\t\t\t'action=validatepassword&password=querty&user=Example'\n"
         "\t\t\t\t=> 'apihelp-validatepassword-example-2',\n\t\t];\n\t}"),
        # postfixadmin's upgrade script: a column's allowed authentication methods
        ("usr/share/postfixadmin/public/upgrade.php",
         "  src_auth enum('password','kerberos_v5','kerberos','gssapi','cram-md5','otp'),"),
        ("usr/share/postfixadmin/public/upgrade.php",
         "  CHECK (src_auth IN ('password','kerberos_v5','kerberos','gssapi','ntlm')),"),
        # fwupd's device quirks: a 16-bit protocol constant; sssd: the provider's name
        ("usr/share/fwupd/quirks.d/builtin.quirk", "ElantpIapPassword = 0x1EA5"),
        ("usr/share/sssd/generate-config", '    chpass="ldap";'),
        # dlt's template: a stock account in a commented example
        ("dlt/_workspace/_templates/sql_database_pipeline.py",
         '# destination=postgres("postgres://loader:loader@localhost:5432/dlt_data"),'),
    ],
)  # fmt: skip
def test_catalogues_doc_comments_and_literals_read_by_functions_of_blind_part_12_are_no_secrets(
    path: str, text: str
) -> None:
    assert _blocking(path, text.encode() + b"\n") == []


@pytest.mark.parametrize(
    ("path", "text", "value"),
    [
        # a catalogue's name elsewhere, a comment that is no doc comment, a glob before a key
        ("app/languages.php", "$PALANG['password'] = 'Kq7vLzT9mW4p';", "Kq7vLzT9mW4p"),
        ("app/client.js", "// password: 'Kq7vLzT9mW4p'\nconst password = 'Kq7vLzT9mW4p';",
         "Kq7vLzT9mW4p"),
        ("app/build.js", "const files = 'src/**';\nconst password = 'Kq7vLzT9mW4p';\n/* end */",
         "Kq7vLzT9mW4p"),
        ("app/auth.php", "$password = base64_decode('S3E3dkx6VDltVzRwUngyWmI4');",
         "S3E3dkx6VDltVzRwUngyWmI4"),
        ("app/auth.php", "    'Authorization' => \"Kq7vLzT9mW4pRx2 $hmac\"",
         "Kq7vLzT9mW4pRx2 $hmac"),
        ("app/device.conf", "AdminPassword = 0x1EA5C3F7", "0x1EA5C3F7"),
        ("app/db.py", "    credentials = ('password', 'Kq7vLzT9mW4p')", "Kq7vLzT9mW4p"),
        ("app/settings.py", 'DB_URL = "postgres://loader:Kq7vLzT9mW4p@db.internal:5432/app"',
         "Kq7vLzT9mW4p"),
        ("app/functions.php", "\tfunction getMessages() {\n\t\treturn [\n"
         "\t\t\t'action=login&password=Kq7vLzT9mW4p'\n\t\t];\n\t}", "Kq7vLzT9mW4p"),
    ],
)  # fmt: skip
def test_credentials_beside_the_shapes_of_blind_part_12_still_count(
    path: str, text: str, value: str
) -> None:
    assert value in [v for _, v in _blocking(path, text.encode() + b"\n")]


def test_a_sentry_key_in_an_ingest_query_is_the_public_dsn_key() -> None:
    """sentry-browser's diagnose-sdk.js posts to its ingest endpoint with ``sentry_key=`` in
    the query: the DSN's public key, of low severity, not a generic credential."""
    line = (
        b'const url = "https://o447951.ingest.sentry.io/api/4509632503087104/envelope/'
        b'?sentry_version=7&sentry_key=c1dfb07d783ad5325c245c1fd3725390&sentry_client=js";\n'
    )
    hits = scan_bytes(line, "package/build/npm/cjs/prod/diagnose-sdk.js", **_read_as(line))
    assert [(h.rule.id, h.rule.severity.value) for h in hits] == [("sentry-dsn", "low")]


def test_connection_string_parts_side_by_side_in_a_string_table_are_no_password() -> None:
    """Qt's ODBC driver (pyqt6-qt6's libqsqlodbc.so) keeps ``SERVER=``, ``;UID=`` and
    ``;PWD=`` as separate strings of its table; a whole connection string still counts."""
    table = b"\x7fELF" + bytes(64) + b"FILEDSN=\x00DRIVER=\x00SERVER=\x00;UID=\x00;PWD=\x00"
    table += b"Unable to connect\x00SET QUOTED_IDENTIFIER ON\x00"
    assert scan_bytes(table, "plugins/sqldrivers/libqsqlodbc.so", binary=True, kind="elf") == []
    whole = table + b"DRIVER={ODBC};SERVER=db.internal;UID=sa;PWD=Kq7vLzT9mW4p\x00"
    hits = scan_bytes(whole, "plugins/sqldrivers/libqsqlodbc.so", binary=True, kind="elf")
    assert [h.secret for h in hits if h.rule.id == "odbc-connection-password"] == ["Kq7vLzT9mW4p"]


@pytest.mark.parametrize(
    ("path", "text"),
    [
        # adminer: translation files named for their locale, a code suffix after it
        ("usr/share/adminer/adminer/lang/pt-br.inc.php", "\t'Password' => 'Senha',"),
        # hishel: a cache directive compared by name
        ("hishel/_core/_headers.py", '        elif token == "proxy-revalidate":'),
        # ccxt: a signing scheme joined to the key, an Ethereum address in a sample reply
        ("ccxt/deribit.py",
         "            'Authorization': 'deri-hmac-sha256 id=' + self.apiKey + ',ts=' + ts,"),
        ("ccxt/bitbns.py",
         '    #             "token":"0x680dee9edfff0c397736e10b017cf6a0aee4ba31",'),
        # adminer: the code between two strings an SQL statement is joined from
        ("usr/share/adminer/adminer.php",
         '$t = "CREATE USER $cf IDENTIFIED BY ".(min_version(8)?"":"PASSWORD ").q($Zf);'),
    ],
)  # fmt: skip
def test_catalogues_directive_names_schemes_and_addresses_of_blind_part_13_are_no_secrets(
    path: str, text: str
) -> None:
    assert _blocking(path, text.encode() + b"\n") == []


@pytest.mark.parametrize(
    ("path", "text", "value"),
    [
        ("app/lang/helpers.inc.php", "$password = 'Kq7vLzT9mW4p';", "Kq7vLzT9mW4p"),
        ("app/cache.py", '    token = "Kq7v-LzT9-mW4p"', "Kq7v-LzT9-mW4p"),
        ("app/wallet.py",
         '    private_key = "0x680dee9edfff0c397736e10b017cf6a0aee4ba31680dee9edfff0c397736e10b"',
         "0x680dee9edfff0c397736e10b017cf6a0aee4ba31680dee9edfff0c397736e10b"),
    ],
)  # fmt: skip
def test_credentials_beside_the_shapes_of_blind_part_13_still_count(
    path: str, text: str, value: str
) -> None:
    assert value in [v for _, v in _blocking(path, text.encode() + b"\n")]


def test_a_reply_documented_in_a_comment_is_documentation() -> None:
    """ccxt documents every exchange reply it parses as pretty-printed JSON in comments, tokens
    and listen keys included: the document opens on a comment line of its own."""
    reply = (
        b"        response = await self.privatePostApiV1UserDataStream(params)\n"
        b"        #\n"
        b"        #    {\n"
        b'        #        "code": 200,\n'
        b'        #        "data": {\n'
        b'        #            "listenKey": "7d1ec51340f499d85bb33b00a96ef680bda28869d5c3374a"\n'
        b"        #        }\n"
        b"        #    }\n"
        b"        #\n"
    )
    assert _blocking("ccxt/pro/bitrue.py", reply) == []
    js = reply.replace(b"#", b"//").replace(b"await self.", b"await this.")
    assert _blocking("js/src/pro/bitrue.js", js) == []
    # after the document closes, or commented-out code that opens its dict after a name,
    # the same value counts
    after = reply + b'        # listenKey = "7d1ec51340f499d85bb33b00a96ef680bda28869d5c3374b"\n'
    assert [v for _, v in _blocking("ccxt/pro/bitrue.py", after)] == [
        "7d1ec51340f499d85bb33b00a96ef680bda28869d5c3374b"
    ]
    code = (
        b"# CONFIG = {\n"
        b'#     "listenKey": "7d1ec51340f499d85bb33b00a96ef680bda28869d5c3374a",\n'
        b"# }\n"
    )
    assert [v for _, v in _blocking("app/settings.py", code)] == [
        "7d1ec51340f499d85bb33b00a96ef680bda28869d5c3374a"
    ]


@pytest.mark.parametrize(
    ("path", "text"),
    [
        # sacrebleu: a key of name=value pairs whose values are fields
        ("sacrebleu/utils.py", "            key = f'origlang={origlang}'"),
        ("app/query.py", '    token = f"user={user}&lang={lang}"'),
        # datahub's quickstart: the stock account's password is the database's name
        ("datahub/cli/docker_cli.py",
         '            f"docker exec {name}-mysql-1 mysqldump -u root -pdatahub datahub > {out}",'),
        ("deploy/backup.sh", "mysql -u root -proot shop < dump.sql"),
        ("deploy/backup.sh", "mysqldump --user=app --password=app shop > x.sql"),
    ],
)  # fmt: skip
def test_templates_and_stock_accounts_of_blind_part_14_are_no_secrets(path: str, text: str) -> None:
    assert _blocking(path, text.encode() + b"\n") == []


@pytest.mark.parametrize(
    ("path", "text", "value"),
    [
        # not an f-string: the braces are text, and the value is written out
        ("app/query.py", "            key = 'origlang=Kq7vLzT9mW4pRx8L{x}'",
         "origlang=Kq7vLzT9mW4pRx8L{x}"),
        ("deploy/backup.sh", "mysqldump -u root -pdatahub7Kq datahub > x.sql", "datahub7Kq"),
    ],
)  # fmt: skip
def test_credentials_beside_the_shapes_of_blind_part_14_still_count(
    path: str, text: str, value: str
) -> None:
    assert value in [v for _, v in _blocking(path, text.encode() + b"\n")]


def test_a_sample_displayed_in_a_comment_under_a_sentence_is_documentation() -> None:
    """autobahn's cryptosign.py shows in a comment what a key file's dict holds: an indented
    display under a sentence that ends in a colon."""
    comment = (
        b"            # now load the private or public key file - this returns a dict which\n"
        b"            # should include (for a private key):\n"
        b"            #\n"
        b"            #   private-key-ed25519: 20e8c05d0ede9506462bb049c4843032b18e8e75b31458\n"
        b"            #\n"
        b"            data = parse_keyfile(keyfile)\n"
    )
    assert _blocking("autobahn/wamp/cryptosign.py", comment) == []
    # a commented-out setting under a section's name, or the same line alone, still counts
    setting = (
        b"# database:\n#   private-key-ed25519: 20e8c05d0ede9506462bb049c4843032b18e8e75b31458\n"
    )
    alone = b"#   private-key-ed25519: 20e8c05d0ede9506462bb049c4843032b18e8e75b31458\n"
    for text in (setting, alone):
        assert [v for _, v in _blocking("app/keys.py", text)] == [
            "20e8c05d0ede9506462bb049c4843032b18e8e75b31458"
        ], text


@pytest.mark.parametrize(
    ("path", "text"),
    [
        # shelljs: a module loaded by a password-like name
        ("package/src/exec.js", "var _pwd = require('./pwd');"),
        ("app/index.mjs", "const token = await import('./token.js');"),
        ("app/plugins.py", 'secrets = importlib.import_module("app.secrets_store")'),
        # RTFDE: an RTF control word compared with the token a parser read
        ("RTFDE/deencapsulate.py", "        elif self.content_type_token == b'\\\\fromhtml1':"),
        # wifite's self-test: the result a function must give
        ("wifite/tools/aircrack.py",
         "    assert hexkey == 'A1:B1:C1:D1:E1', 'hexkey was \"%s\"' % hexkey"),
        # ejabberd: a translation in a folder of messages, named for its language
        ("usr/lib/x86_64-linux-gnu/ejabberd-23.01-1/priv/msgs/ca.msg",
         '{"Password","Contrasenya"}.'),
        ("usr/lib/x86_64-linux-gnu/ejabberd-23.01-1/priv/msgs/nl.msg",
         '{"Password","Wachtwoord"}.'),
        ("usr/lib/x86_64-linux-gnu/ejabberd-23.01-1/priv/msgs/eo.msg",
         '{"Password","Pasvorto"}.'),
    ],
)  # fmt: skip
def test_modules_control_words_expected_results_and_messages_of_blind_part_15_are_no_secrets(
    path: str, text: str
) -> None:
    assert _blocking(path, text.encode() + b"\n") == []


@pytest.mark.parametrize(
    ("path", "text", "value"),
    [
        # a value given to a function of another name is still a value
        ("app/db.js", "var db_pwd = decrypt('Kq7vLzT9mW4pRx8L');", "Kq7vLzT9mW4pRx8L"),
        # a control word with capitals and digits inside is no RTF word
        ("app/auth.py", "if token == '\\\\Kq7vLzT9mW4p':", "\\\\Kq7vLzT9mW4p"),
        # a comparison outside an assertion still counts
        ("app/auth.py", "    if api_key == 'Kq7vLzT9mW4pRx8L':", "Kq7vLzT9mW4pRx8L"),
        # a folder of messages whose file is not named for a language
        ("app/msgs/config.msg", '{"password","Kq7vLzT9mW4pRx8L"}.', "Kq7vLzT9mW4pRx8L"),
    ],
)  # fmt: skip
def test_credentials_beside_the_shapes_of_blind_part_15_still_count(
    path: str, text: str, value: str
) -> None:
    assert value in [v for _, v in _blocking(path, text.encode() + b"\n")]


def test_a_table_of_values_typed_into_each_input_type_holds_no_password() -> None:
    """wapiti's crawler fills forms from a table keyed by HTML input type; the same entry in
    a table of settings is still a password."""
    table = (
        b"defaults = {\n"
        b'    "checkbox": "default",\n'
        b'    "color": "#bada55",\n'
        b'    "date": "2019-03-03",\n'
        b'    "email": "wapiti2021@mailinator.com",\n'
        b'    "hidden": "default",\n'
        b'    "password": "Letm3in_",  # 8 characters with uppercase, digit and special char\n'
        b'    "radio": "beton",\n'
        b'    "tel": "0606060606",\n'
        b"}\n"
    )
    assert _blocking("wapitiCore/net/page.py", table) == []
    settings = (
        b"settings = {\n"
        b'    "host": "db.internal",\n'
        b'    "user": "app",\n'
        b'    "password": "Letm3in_Kq7vLz",\n'
        b'    "email": "ops@example.org",\n'
        b"}\n"
    )
    assert "Letm3in_Kq7vLz" in [v for _, v in _blocking("app/settings.py", settings)]


_MOJO_POD = (
    "package Mojo::Headers;\nuse Mojo::Base -base;\n1;\n\n=encoding utf8\n\n"
    "=head2 authorization\n\n  my $authorization = $headers->authorization;\n"
    "  $headers          = $headers->authorization('Basic Zm9vOmJhcg==');\n\n"
    '=head2 userinfo\n\n  # "sri:t3st"\n'
    "  Mojo::URL->new('https://sri:t3st@example.com/foo')->userinfo;\n"
)


@pytest.mark.parametrize(
    ("path", "text"),
    [
        # coolprop's BibTeX reader looks an entry up by its citation key
        ("CoolProp/BibtexParser.py", "    print(B.getEntry(key='Mulero-JPCRD-2012', fmt='latex'))"),
        # Mojolicious documents its methods in POD, in the module, after the code
        ("usr/share/perl5/Mojo/Headers.pm", _MOJO_POD),
        ("usr/share/perl5/Mojo/Headers.pm", _MOJO_POD + "\n=cut\n"),
        ("usr/bin/mojo", "#!/usr/bin/perl\n" + _MOJO_POD),
        # openmed (blind part 17): a prefix removed from a value
        ("openmed/core/model_integrity.py",
         '    revision_token = reproducibility_hash.removeprefix("sha256:")'),
        # prisma init's .env template (blind part 17): a value that names itself
        ("package/build/cli.js",
         'case"mysql":return`mysql://johndoe:randompassword@localhost:${r}/mydb`;'),
        # gajim (blind part 17) migrates passwords kept under a storage scheme's name
        ("usr/lib/python3/dist-packages/gajim/common/optparser.py",
         '            if password == "winvault:":'),
        # zlib's minizip (bundled by c-blosc in tables' sdist) reads the -p option
        ("c-blosc/internal-complibs/zlib-1.3.1/contrib/minizip/miniunz.c",
         "                        password=argv[i+1];"),
    ],
)  # fmt: skip
def test_citation_keys_perl_manuals_and_prefixes_of_blind_parts_16_and_17_are_no_secrets(
    path: str, text: str
) -> None:
    assert _blocking(path, text.encode() + b"\n") == []


@pytest.mark.parametrize(
    ("path", "text", "value"),
    [
        # a key mixing cases inside its parts; the same calls in code after the manual's =cut,
        # or in a file that is no Perl
        ("app/bib.py", "B.getEntry(key='MuLeRo-JpCrD-2012')", "MuLeRo-JpCrD-2012"),
        ("usr/share/perl5/Mojo/Client.pm",
         _MOJO_POD + "\n=cut\n\n$headers->authorization('Basic ZGVwbG95OktxN3ZMelQ5bVc0cA==');",
         "ZGVwbG95OktxN3ZMelQ5bVc0cA=="),
        ("usr/share/perl5/Mojo/Client.pm",
         _MOJO_POD + "\n=cut\n\nmy $url = 'https://sri:Kq7vLzT9mW4p@example.com/foo';",
         "Kq7vLzT9mW4p"),
        ("app/headers.rb", _MOJO_POD, "Zm9vOmJhcg=="),
        ("app/db.js", "const url = `mysql://johndoe:kq7vlzpwmxr@db.internal:3306/app`;",
         "kq7vlzpwmxr"),
        ("app/login.py", 'if password == "kq7vlzpwmx:x":', "kq7vlzpwmx:x"),
        # a connection string's password before its semicolon
        ("app/db.c", 'const char *dsn = "Server=db; Password=Kq7vLzT9mW4p;";', "Kq7vLzT9mW4p"),
    ],
)  # fmt: skip
def test_credentials_beside_the_shapes_of_blind_part_16_still_count(
    path: str, text: str, value: str
) -> None:
    assert value in [v for _, v in _blocking(path, text.encode() + b"\n")]


@pytest.mark.parametrize(
    ("path", "text"),
    [
        # kerberos 1.3.1's README (its PKG-INFO) and azureml-mlflow's models: the end of
        # KERBEROS_PASSWORD is no OpenStack setting
        ("kerberos-1.3.1/PKG-INFO", "        -e KERBEROS_PASSWORD=Password01 \\"),
        ("azureml/mlflow/models/_models.py",
         "        self.kerberos_password = kwargs.get('kerberos_password', None)"),
        # libwww-perl's LWP::Protocol::http and nix's manual (in libnixstore.so): values
        # that name what they stand for
        ("usr/share/perl5/LWP/Protocol/http.pm",
         '\t# export http_proxy="http://proxyuser:proxypass@proxyhost:port".'),
        # the Scalar bundle in effect 4.1.5: pt-BR's label for the password field
        ("package/dist/http-api/internal/httpApiScalar.js",
         "refresh:`Atualizar`,username:`Nome de usuário`,password:`Senha`,name:`Nome`,"),
        ("src/libstore/globals.hh",
         "    R\"(\n    machine my-machine\n    login my-username\n    password my-password\n)\""),
    ],
)  # fmt: skip
def test_the_end_of_another_word_and_values_naming_themselves_of_blind_part_18_are_no_secrets(
    path: str, text: str
) -> None:
    assert _blocking(path, text.encode() + b"\n") == []


@pytest.mark.parametrize(
    ("path", "text", "value"),
    [
        ("deploy/openrc.sh", "export OS_PASSWORD=Kq7vLzT9mW4p", "Kq7vLzT9mW4p"),
        ("app/config.js", "const db = {user: `app`, password: `Senha7Kq9vLz`};", "Senha7Kq9vLz"),
        ("app/proxy.py", 'PROXY = "http://proxyuser:Kq7vLzT9mW4p@proxy.internal:3128"',
         "Kq7vLzT9mW4p"),
    ],
)  # fmt: skip
def test_credentials_beside_the_shapes_of_blind_part_18_still_count(
    path: str, text: str, value: str
) -> None:
    assert value in [v for _, v in _blocking(path, text.encode() + b"\n")]


_GSUTIL_TEST_KEYS = (
    "# 256-bit base64 encryption keys used for testing AES256 customer-supplied\n"
    "# encryption. These are public and open-source, so don't ever use them for\n"
    "# real data.\n"
    "TEST_ENCRYPTION_KEY1 = b'iMSM9eeXliDZHSBJZO71R98tfeW/+87VXTpk5chGd6Y='\n"
    "TEST_ENCRYPTION_KEY1_SHA256_B64 = Base64Sha256FromBase64EncryptionKey(\n"
    "    TEST_ENCRYPTION_KEY1)\n\n"
    "TEST_ENCRYPTION_KEY2 = b'4TSaQ3S4U+5oxAbByA7HgIigD51zfzGed/c03Ts2TXc='\n"
)
_GSUTIL_API_KEY = (
    "    if isinstance(self.credentials, NoOpCredentials):\n"
    "      # This API key is not secret and is used to identify gsutil during\n"
    "      # anonymous requests.\n"
    "      self.api_client.AddGlobalParam('key',\n"
    "                                     'AIzaSyDnacJHrKma0048b13sh8cgxNUwulubmJM')\n"
)
_TESTSSL_KEY_SCHEDULE = (
    '     case "$hash_fn" in\n'
    '          "-sha256") early_secret="33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a"\n'  # noqa: E501
    '                     derived_secret="c1c0c36bf8fb1d1afa949fbd360e71af69a6244a4c2eaef5bbbb6442a7277d2c"\n'  # noqa: E501
    '                     derived_secret="6f2615a108c702c5678f54fc9dbab69716c076189c48250cebeac3576c3611ba"\n'  # noqa: E501
    '          "-sha384") early_secret="7ee8206f5570023e6dc7519eb1073bc4e791ad37b5c382aa10ba18e2357e716971f9362f2c2fe2a76bfd78dfec4ea9b5"\n'  # noqa: E501
)
_REDMINE_CI = (
    "    if ENV['RUN_ON_NOT_OFFICIAL']\n"
    "      dev_conf['username'] = 'root'\n"
    "    else\n"
    "      dev_conf['username'] = 'jenkins'\n"
    "      dev_conf['password'] = 'jenkins'\n"
    "    end\n"
)


@pytest.mark.parametrize(
    ("path", "text"),
    [
        # burp's shipped client configuration: the alphabet's first eight letters
        ("etc/burp/burp.conf", "mode = client\nserver = localhost:4971\npassword = abcdefgh"),
        ("etc/burp/clientconfdir/testclient", "password = abcdefgh"),
        # redmine: a URL given to -u in reposman's help, and its CI task's stock account
        ("usr/share/redmine/extra/svn/reposman.rb", '            " -u https://example.net/svn",'),
        ("usr/share/redmine/lib/tasks/ci.rake", _REDMINE_CI),
        # testssl.sh: TLS 1.3's early and derived secrets without a PSK (RFC 8446 §7.1)
        ("usr/bin/testssl", _TESTSSL_KEY_SCHEDULE),
        # anycrc's alias table: the value is the name of a model the file defines
        ("anycrc/models.py",
         "models = {\n    'CRC16-UMTS': model(width=16, poly=0x8005),\n}\naliases = {\n"
         "    'CRC16-BUYPASS': 'CRC16-UMTS',\n}"),
        # evergreen.py's test statistics: tallies of passed tests read by attribute name
        ("evergreen/stats.py", '    num_pass = evg_attrib("num_success")'),
        ("evergreen/stats.py", '    avg_duration_pass = evg_attrib("avg_duration_success")'),
        # gsutil: keys its comments declare public, apitools' placeholder client secret, and
        # a template of its config writer
        ("gslib/tests/util.py", _GSUTIL_TEST_KEYS),
        ("gslib/kms_api.py", _GSUTIL_API_KEY),
        ("gslib/third_party/kms_apitools/cloudkms_v1_client.py",
         "  _CLIENT_ID = 'nomatter'\n  _CLIENT_SECRET = 'nomatter'"),
        ("gslib/commands/config.py",
         """        config_file.write('# %s credentials ("%s://" URIs):\\n' %"""),
    ],
)  # fmt: skip
def test_runs_aliases_tallies_and_declared_public_values_of_blind_part_19_are_no_secrets(
    path: str, text: str
) -> None:
    assert _blocking(path, text.encode() + b"\n") == []


@pytest.mark.parametrize(
    ("path", "text", "value"),
    [
        # a value that only starts like a run
        ("etc/burp/burp.conf", "password = abcdefq7Kz", "abcdefq7Kz"),
        ("deploy/upload.sh", "curl -u deploy:Wq8vLz2xK9 https://repo.internal/upload",
         "Wq8vLz2xK9"),
        # a password other than the user beside it
        ("lib/tasks/ci.rake",
         "      conf['username'] = 'jenkins'\n      conf['password'] = 'Kq7vLzT9mW4p'",
         "Kq7vLzT9mW4p"),
        # a hex secret that is no constant of the key schedule
        ("usr/bin/tool",
         'early_secret="44ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a"',
         "44ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a"),
        ("app/settings.py", 'db_pass = "Kq7vLzT9mW4p"', "Kq7vLzT9mW4p"),
        # a comment that says nothing of the key, or one beyond the reach of the value
        ("app/api.py", "# The key of the build account\nAPI_KEY = 'AIzaSyDnacJHrKma0048b13sh8cgxNUwulubmJM'",  # noqa: E501
         "AIzaSyDnacJHrKma0048b13sh8cgxNUwulubmJM"),
        ("app/api.py",
         "# This API key is not secret.\n" + "x = 1\n" * 25
         + "API_KEY = 'AIzaSyDnacJHrKma0048b13sh8cgxNUwulubmJM'",
         "AIzaSyDnacJHrKma0048b13sh8cgxNUwulubmJM"),
    ],
)  # fmt: skip
def test_credentials_beside_the_shapes_of_blind_part_19_still_count(
    path: str, text: str, value: str
) -> None:
    assert value in [v for _, v in _blocking(path, text.encode() + b"\n")]


@pytest.mark.parametrize(
    ("path", "text"),
    [
        # onionshare-cli's comment names the slot of its shutdown URL
        ("usr/lib/python3/dist-packages/onionshare_cli/web/web.py",
         "        # To stop flask, load http://shutdown:[shutdown_password]@127.0.0.1/"
         "[shutdown_password]/shutdown"),
        # redsocks' sample configuration: the word, spelled with z and a zero
        ("etc/redsocks.conf", "\tlogin = username;\n\tpassword = pazzw0rd;"),
        # jinxed's terminfo table: a terminal's control sequence under a key's name
        ("jinxed/terminfo/iris_ansi.py", "    'pfkey': b'\\x1bP101;%p1%d.y%p2%s\\x1b\\x5c',"),
    ],
)  # fmt: skip
def test_slots_disguised_words_and_control_sequences_of_blind_part_20_are_no_secrets(
    path: str, text: str
) -> None:
    assert _blocking(path, text.encode() + b"\n") == []


@pytest.mark.parametrize(
    ("path", "text", "value"),
    [
        ("app/web.py", 'URL = "http://shutdown:[Kq7vLzT9mW4p]@10.0.0.5/"', "[Kq7vLzT9mW4p]"),
        ("etc/redsocks.conf", "\tlogin = proxy;\n\tpassword = pazzw0rd7Kq;", "pazzw0rd7Kq"),
        ("jinxed/terminfo/iris_ansi.py", "    'api_key': 'Kq7vLzT9mW4pX3',", "Kq7vLzT9mW4pX3"),
    ],
)  # fmt: skip
def test_credentials_beside_the_shapes_of_blind_part_20_still_count(
    path: str, text: str, value: str
) -> None:
    assert value in [v for _, v in _blocking(path, text.encode() + b"\n")]


_POPCON = (
    "# KEYRING and POPCONKEY specify the key to use for encryption.\n"
    'KEYRING="/usr/share/popularity-contest/debian-popcon.gpg"\n'
    'POPCONKEY="B8D3FDC1B294C289271F191F1A8B7E1B00D76C2D"\n'
)


@pytest.mark.parametrize(
    ("path", "text"),
    [
        # pmacct's SQL scripts: a password that names itself
        ("usr/share/pmacct/sql/pmacct-grant-db.mysql",
         "CREATE USER 'pmacct'@'localhost' IDENTIFIED BY 'arealsmartpwd';"),
        # liquidprompt (a sourced shell library, no extension): the working directory
        ("usr/share/liquidprompt/liquidprompt", '        LP_OLD_PWD="LP:$PWD"'),
        # pykerberos' bin/ftp-gss, a Python script: a name, as in any .py file
        ("bin/ftp-gss", "#!/usr/bin/env python\nimport sys\n\n    passwd = acct = ''"),
        # popularity-contest: the OpenPGP key it encrypts reports with, beside its keyring
        ("usr/share/popularity-contest/default.conf", _POPCON),
        # ibis' BigQuery backend: a value its author allowed with a secret linter's marker
        ("ibis/backends/bigquery/__init__.py",
         'CLIENT_SECRET = "iU5ohAF2qcqrujegE3hQ1cPt"  # noqa: S105'),
        ("app/settings.py", 'API_TOKEN = "Kq7vLzT9mW4pQ2xR8sT1"  # pragma: allowlist secret'),
        # homeassistant's buienradar sensors: a sensor's key, a word and a count with its unit
        ("homeassistant/components/buienradar/sensor.py", '        key="windazimuth_1d",'),
    ],
)  # fmt: skip
def test_self_naming_values_variables_key_ids_and_allowed_values_of_blind_part_21(
    path: str, text: str
) -> None:
    assert _blocking(path, text.encode() + b"\n") == []


@pytest.mark.parametrize(
    ("path", "text", "value"),
    [
        ("usr/share/app/grant.mysql",
         "CREATE USER 'app'@'localhost' IDENTIFIED BY 'Kq7vLzT9mW4pwd';", "Kq7vLzT9mW4pwd"),
        ("usr/share/app/app", '        DB_PASSWORD="Kq7vLzT9mW4p$x"', "Kq7vLzT9mW4p$x"),
        ("bin/deploy", "#!/bin/sh\nexport DB_PASSWORD=Kq7vLzT9mW4p", "Kq7vLzT9mW4p"),
        # 40 hex digits with no keyring near
        ("etc/app.conf", 'API_KEY="B8D3FDC1B294C289271F191F1A8B7E1B00D76C2D"',
         "B8D3FDC1B294C289271F191F1A8B7E1B00D76C2D"),
        ("app/sensor.py", '        api_key="windazimuth_7d9x2kq8vlz",', "windazimuth_7d9x2kq8vlz"),
        # a noqa for another check allows nothing
        ("app/settings.py", 'API_TOKEN = "Kq7vLzT9mW4pQ2xR8sT1"  # noqa: E501',
         "Kq7vLzT9mW4pQ2xR8sT1"),
    ],
)  # fmt: skip
def test_credentials_beside_the_shapes_of_blind_part_21_still_count(
    path: str, text: str, value: str
) -> None:
    assert value in [v for _, v in _blocking(path, text.encode() + b"\n")]


@pytest.mark.parametrize(
    ("path", "text"),
    [
        # skypilot's Nebius support reads the AWS credentials file: a path under the home
        ("sky/clouds/nebius.py", "    credentials_path = os.path.expanduser('~/.aws/credentials')"),
        # anonymous FTP's password is an e-mail address or its start, by convention (RFC 1635)
        ("usr/bin/debmirror", 'our $passwd="anonymous@";'),
        ("usr/bin/inxi", '\t$pass = "anonymous\\@$domain";'),
        # androguard's table of Android attribute ids: JSON numbers
        ("androguard/core/resources/public.json", '        "password": 16843100,'),
        # ddclient's usage text: each protocol's sample configuration under a heading that
        # starts with "Example"
        ("usr/bin/ddclient",
         "Example ${program}.conf file entries:\n  ## single host update\n"
         "  protocol=freemyip,                                     \\\\\n"
         "  password=35a6b8d65c6e67c7f78cca65cd                    \\\\"),
    ],
)  # fmt: skip
def test_paths_anonymous_ftp_json_numbers_and_example_entries_of_blind_part_22(
    path: str, text: str
) -> None:
    assert _blocking(path, text.encode() + b"\n") == []


@pytest.mark.parametrize(
    ("path", "text", "value"),
    [
        ("sky/clouds/nebius.py", "    credentials = 'Kq7vLzT9mW4p/aws/Q2xR8sT1'",
         "Kq7vLzT9mW4p/aws/Q2xR8sT1"),
        ("usr/bin/mirror", 'our $passwd="Kq7vLzT9mW4p@";', "Kq7vLzT9mW4p@"),
        ("etc/app/settings.json", '        "password": "16843100Kq7vLzT9",', "16843100Kq7vLzT9"),
        ("etc/app/settings.yaml", "password: 1684310093", "1684310093"),
        ("usr/bin/ddclient",
         "Configuration entries:\n  protocol=freemyip,                   \\\\\n"
         "  password=35a6b8d65c6e67c7f78cca65cd                    \\\\",
         "35a6b8d65c6e67c7f78cca65cd"),
    ],
)  # fmt: skip
def test_credentials_beside_the_shapes_of_blind_part_22_still_count(
    path: str, text: str, value: str
) -> None:
    assert value in [v for _, v in _blocking(path, text.encode() + b"\n")]
