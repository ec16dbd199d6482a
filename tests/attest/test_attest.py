"""Round trip and tampering: ``scan --attest`` then ``verify``, through the CLI and the library."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from finalexam import scan
from finalexam.attest import make_bundle, verify, verify_digest
from finalexam.attest.envelope import sign_statement
from finalexam.attest.keys import signer_for
from finalexam.cli import main
from finalexam.config import Config
from finalexam.errors import UsageError

APP = "app-1.0-py3-none-any.whl"
LEAKY = "leaky-1.0-py3-none-any.whl"


def keys(area: Path, name: str = "exam-key", key_type: str = "ed25519") -> tuple[Path, Path]:
    assert main(["key", "generate", "--out", str(area / name), "--type", key_type]) == 0
    return area / name, area / f"{name}.pub"


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def statements(path: Path) -> list[dict[str, Any]]:
    out = []
    for item in lines(path):
        envelope = item.get("dsseEnvelope", item)
        out.append(json.loads(base64.b64decode(envelope["payload"])))
    return out


def attest(
    area: Path, artifact: str, key: Path, *extra: str, expect: int = 0, name: str = ""
) -> Path:
    out = area / (name or f"{artifact}.intoto.jsonl")
    code = main(["scan", artifact, "--attest", str(out), "--key", str(key), "-o", "json=r.json",
                 *extra])  # fmt: skip
    assert code == expect
    return out


def run_verify(artifact: str, attestation: Path, public: Path, *extra: str) -> int:
    return main(["verify", artifact, "--attestation", str(attestation), "--key", str(public),
                 *extra])  # fmt: skip


@pytest.mark.parametrize("key_type", ["ed25519", "ecdsa-p256"])
@pytest.mark.parametrize("attest_format", ["intoto-jsonl", "sigstore-bundle"])
def test_round_trip(
    area: Path, capsys: pytest.CaptureFixture[str], key_type: str, attest_format: str
) -> None:
    private, public = keys(area, key_type=key_type)
    out = attest(area, APP, private, "--attest-format", attest_format)
    assert run_verify(APP, out, public, "--policy", "release", "--max-age", "30d") == 0
    said = capsys.readouterr().out
    assert f"verified: {APP}" in said and "PASSED under policy release" in said
    first = lines(out)[0]
    if attest_format == "sigstore-bundle":
        assert first["mediaType"] == "application/vnd.dev.sigstore.bundle.v0.3+json"
        assert first["verificationMaterial"]["publicKey"]["hint"]
    else:
        assert first["payloadType"] == "application/vnd.in-toto+json"
        assert set(first) == {"payload", "payloadType", "signatures"}


def test_statements_say_what_was_examined(area: Path) -> None:
    private, _ = keys(area)
    out = attest(area, APP, private, "--attest-sbom", "--resource-uri", "https://x.test/app.whl")
    sha256 = hashlib.sha256((area / APP).read_bytes()).hexdigest()
    vsa, exam, sbom = statements(out)
    for statement in (vsa, exam, sbom):
        assert statement["_type"] == "https://in-toto.io/Statement/v1"
        assert statement["subject"] == [{"name": APP, "digest": {"sha256": sha256}}]
    assert vsa["predicateType"] == "https://slsa.dev/verification_summary/v1"
    predicate = vsa["predicate"]
    assert predicate["verifier"] == {
        "id": "https://finalexam.dev/verifier",
        "version": {"finalexam": exam["predicate"]["tool"]["version"]},
    }
    assert predicate["resourceUri"] == "https://x.test/app.whl"
    assert predicate["policy"]["uri"] == "https://finalexam.dev/policy/release"
    assert predicate["verificationResult"] == "PASSED"
    assert predicate["verifiedLevels"] == ["FINALEXAM_EXAM_PASSED"]
    assert datetime.fromisoformat(predicate["timeVerified"].replace("Z", "+00:00"))
    facts = exam["predicate"]
    assert exam["predicateType"] == "https://finalexam.dev/attestation/exam/v1"
    # The report digest is the digest of the JSON report written in the same run.
    assert (
        facts["report"]["digest"]["sha256"]
        == hashlib.sha256((area / "r.json").read_bytes()).hexdigest()
    )
    assert facts["policy"]["digest"] == predicate["policy"]["digest"]
    assert facts["verdict"] == "PASSED" and facts["complete"] is True
    assert facts["vulnerabilityDb"]["status"] == "ok" and facts["vulnerabilityDb"]["records"] == 1
    assert {"secrets", "behavior"} <= {r["name"] for r in facts["ruleSets"]}
    assert all(len(r["digest"]["sha256"]) == 64 and r["files"] > 0 for r in facts["ruleSets"])
    assert sbom["predicateType"] == "https://cyclonedx.org/bom"
    assert sbom["predicate"]["bomFormat"] == "CycloneDX"


def test_failed_exam_attests_failed_and_never_verifies(
    area: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    private, public = keys(area)
    out = attest(area, LEAKY, private, expect=1)
    vsa, exam = statements(out)
    assert vsa["predicate"]["verificationResult"] == "FAILED"
    assert vsa["predicate"]["verifiedLevels"] == ["FAILED"]
    assert exam["predicate"]["findings"]["bySeverity"] == {"critical": 1}
    assert exam["predicate"]["policy"]["violations"] == ["secrets"]
    capsys.readouterr()
    assert run_verify(LEAKY, out, public) == 1
    err = capsys.readouterr().err
    assert "verdict: the exam did not pass: FAILED: secrets" in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_incomplete_exam_is_never_attested_as_passed(
    area: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    private, public = keys(area)
    out = attest(area, APP, private, "--max-files", "1", expect=3)
    vsa, exam = statements(out)
    assert vsa["predicate"]["verificationResult"] == "FAILED"
    assert exam["predicate"]["verdict"] == "INCOMPLETE"
    assert exam["predicate"]["complete"] is False
    assert run_verify(APP, out, public) == 1
    assert "verdict: the exam did not pass: INCOMPLETE" in capsys.readouterr().err


def test_waivers_are_recorded(area: Path) -> None:
    private, public = keys(area)
    attest(area, LEAKY, private, expect=1)
    report = json.loads((area / "r.json").read_text())
    fingerprint = report["findings"][0]["fingerprint"]
    (area / "waivers.toml").write_text(
        f'[[waivers]]\nfingerprint = "{fingerprint}"\nreason = "test key, revoked"\n'
        'approved_by = "security@example.com"\n'
    )
    out = attest(area, LEAKY, private, "--waivers", "waivers.toml")
    exam = statements(out)[1]["predicate"]
    assert exam["waivers"]["applied"] == 1
    waived = exam["waivers"]["findings"][0]
    assert waived["fingerprint"] == fingerprint
    assert waived["waiver"]["reason"] == "test key, revoked"
    # Waivers do not change the policy: the digest is that of plain `release`.
    assert run_verify(LEAKY, out, public, "--policy", "release") == 0


# --- tampering -------------------------------------------------------------------------------


@pytest.fixture
def attested(area: Path) -> tuple[Path, Path, Path]:
    private, public = keys(area)
    return private, public, attest(area, APP, private)


def failures(area: Path, attestation: Path | bytes, public: Path, **options: Any) -> list[str]:
    data = attestation if isinstance(attestation, bytes) else attestation.read_bytes()
    result = verify(area / APP, data, public, **options)
    return [str(f) for f in result.failures]


def test_one_byte_of_the_artifact(
    area: Path, attested: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, public, out = attested
    data = bytearray((area / APP).read_bytes())
    data[len(data) // 2] ^= 0x01
    (area / APP).write_bytes(bytes(data))
    capsys.readouterr()
    assert run_verify(APP, out, public) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1
    assert "subject: the artifact's sha256" in err[0] and "lines 1, 2" in err[0]
    assert "the file differs from what was examined" in err[0]


def _replace_field(line: dict[str, Any], key: str, value: str) -> dict[str, Any]:
    envelope = line.get("dsseEnvelope", line)
    envelope[key] = value
    return line


def test_one_byte_of_the_signature(area: Path, attested: tuple[Path, Path, Path]) -> None:
    _, public, out = attested
    first, second = lines(out)
    raw = bytearray(base64.b64decode(first["signatures"][0]["sig"]))
    raw[5] ^= 0x01
    first["signatures"][0]["sig"] = base64.b64encode(bytes(raw)).decode()
    data = (json.dumps(first) + "\n" + json.dumps(second) + "\n").encode()
    assert failures(area, data, public) == [
        f"signature: line 1: no valid signature by key {failures_key(public)} "
        "(wrong key, or the envelope was altered)"
    ]


def failures_key(public: Path) -> str:
    from finalexam.attest.keys import load_public_key, verification_key

    return verification_key(load_public_key(public)).keyid[:12] + "…"


@pytest.mark.parametrize("field", ["payload", "predicate"])
def test_one_byte_of_the_payload(area: Path, attested: tuple[Path, Path, Path], field: str) -> None:
    _, public, out = attested
    first, second = lines(out)
    payload = base64.b64decode(first["payload"])
    if field == "payload":
        changed = payload.replace(b'"PASSED"', b'"PASSEE"', 1)
    else:  # a meaningful change: the policy digest claimed
        changed = payload.replace(b'"sha256":"', b'"sha256":"0', 1)
    assert changed != payload
    first["payload"] = base64.b64encode(changed).decode()
    data = (json.dumps(first) + "\n" + json.dumps(second) + "\n").encode()
    assert [f.split(":")[0] for f in failures(area, data, public)] == ["signature"]


def test_predicate_re_signed_with_another_key(
    area: Path, attested: tuple[Path, Path, Path]
) -> None:
    """A forged statement (FAILED turned PASSED) signed with the forger's own key."""
    _, public, out = attested
    statement = statements(out)[0]
    statement["predicate"]["verificationResult"] = "PASSED"
    forged = sign_statement(statement, signer_for(ed25519.Ed25519PrivateKey.generate()))
    data = (json.dumps(forged) + "\n" + json.dumps(lines(out)[1]) + "\n").encode()
    assert [f.split(":")[0] for f in failures(area, data, public)] == ["signature"]


def test_wrong_key(
    area: Path, attested: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, _, out = attested
    _, other = keys(area, "other-key")
    capsys.readouterr()
    assert run_verify(APP, out, other) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "signature: lines 1, 2: no valid signature by key" in err[0]


def test_wrong_policy(
    area: Path, attested: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, public, out = attested
    capsys.readouterr()
    assert run_verify(APP, out, public, "--policy", "intake") == 1
    err = capsys.readouterr().err
    assert "policy: attested under policy 'https://finalexam.dev/policy/release', expected " \
        "'https://finalexam.dev/policy/intake'" in err  # fmt: skip
    # Same name, other rules: a policy file called "release" that blocks more.
    (area / "release.toml").write_text('name = "release"\nfail_on = "low"\n')
    assert run_verify(APP, out, public, "--policy", "release.toml") == 1
    err = capsys.readouterr().err
    assert "policy: policy release differs: attested digest" in err
    # --fail-on changes the effective policy too, and must be given to verify as to scan.
    out = attest(area, APP, attested[0], "--fail-on", "low")
    assert run_verify(APP, out, public, "--policy", "release") == 1
    assert run_verify(APP, out, public, "--policy", "release", "--fail-on", "low") == 0


def test_stale_and_future(area: Path, capsys: pytest.CaptureFixture[str]) -> None:
    private, public = keys(area)
    old = attest(area, APP, private, "--timestamp", "2020-01-01T00:00:00Z", name="old.jsonl")
    assert statements(old)[0]["predicate"]["timeVerified"] == "2020-01-01T00:00:00Z"
    assert run_verify(APP, old, public) == 0  # no --max-age: any age
    capsys.readouterr()
    assert run_verify(APP, old, public, "--max-age", "30d") == 1
    err = capsys.readouterr().err
    assert "age: examined" in err and "(2020-01-01T00:00:00Z), older than the 30.0 days" in err
    future = attest(area, APP, private, "--timestamp", "2999-01-01T00:00:00Z")
    assert run_verify(APP, future, public) == 1
    assert "age: examined in the future" in capsys.readouterr().err
    # The library takes the verifier's clock as an argument.
    data = old.read_bytes()
    then = datetime(2020, 1, 20, tzinfo=UTC)
    assert verify(area / APP, data, public, max_age=timedelta(days=30), now=then).ok


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "format: empty: no statements"),
        (b"\x00\x01garbage\xff\n", "format: line 1: not JSON (truncated or corrupted?)"),
        (b"[1, 2]\n", "format: line 1: not a DSSE envelope or Sigstore bundle"),
        (b'{"payload": 1}\n', "format: line 1: not a DSSE envelope"),
        (b'{"payload": "e30=", "payloadType": "text/plain", "signatures": []}\n',
         "format: line 1: payload type 'text/plain' is not application/vnd.in-toto+json"),
        (b'{"payload": "!!", "payloadType": "x", "signatures": [{"keyid": "k", "sig": "%"}]}\n',
         "format: line 1: bad DSSE envelope"),
    ],
)  # fmt: skip
def test_garbage_attestations(
    area: Path, attested: tuple[Path, Path, Path], content: bytes, message: str
) -> None:
    _, public, _ = attested
    found = failures(area, content, public)
    assert len(found) == 1 and found[0].startswith(message)


def test_truncated_and_missing_files(
    area: Path, attested: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, public, out = attested
    data = out.read_bytes()
    out.write_bytes(data[: len(data) - 40])
    capsys.readouterr()
    assert run_verify(APP, out, public) == 1
    err = capsys.readouterr().err
    assert "format: line 2: not JSON (truncated or corrupted?)" in err and "Traceback" not in err
    out.write_bytes(data.splitlines(keepends=True)[0])  # one statement of two left
    assert run_verify(APP, out, public) == 1
    assert "predicate: no exam statement" in capsys.readouterr().err
    for args in (
        ["verify", APP, "--attestation", "missing.jsonl", "--key", str(public)],
        ["verify", "missing.whl", "--attestation", str(out), "--key", str(public)],
        ["verify", APP, "--attestation", str(out), "--key", "missing.pub"],
        ["verify", APP, "--attestation", str(out), "--key", str(public), "--max-age", "soon"],
        ["verify", APP, "--attestation", str(out)],
        ["verify", APP, "--attestation", str(out), "--key", str(public), "--policy", "nope"],
        ["verify", APP, "--attestation", str(out), "--key", str(out)],
    ):
        assert main(args) == 2, args
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err, err


def test_scan_attest_usage_errors(area: Path, capsys: pytest.CaptureFixture[str]) -> None:
    private, public = keys(area)
    cases = [
        (["--attest", "a.jsonl"], "--attest and --key go together"),
        (["--key", str(private)], "--attest and --key go together"),
        (["--attest", "a.jsonl", "--key", str(public)], "not a PEM or OpenSSH private key"),
        (["--attest", "no-dir/a.jsonl", "--key", str(private)], "attestation directory does"),
    ]
    for extra, message in cases:
        capsys.readouterr()
        assert main(["scan", APP, *extra]) == 2
        assert message in capsys.readouterr().err
        assert not (area / "a.jsonl").exists()
    (area / "tree").mkdir()
    assert main(["scan", "tree", "--attest", "a.jsonl", "--key", str(private)]) == 2
    assert "only a file can be attested" in capsys.readouterr().err
    assert main(["scan", "gone.whl", "--attest", "a.jsonl", "--key", str(private)]) == 2
    assert "gone.whl: no such file" in capsys.readouterr().err


def test_library_api(area: Path, vuln_db: Path) -> None:
    """What the portfolio calls: make_bundle on a Report, verify_digest on stored bytes."""
    private, public = keys(area)
    config = Config(db=str(vuln_db))
    report = scan(area / APP, config)
    data = make_bundle(report, area / APP, private, config, sbom=True)
    assert len(data.splitlines()) == 3
    result = verify_digest(report.artifact.sha256, data, public)
    assert result.ok and result.verdict == "PASSED" and result.policy == "release"
    assert result.predicate_types == (
        "https://slsa.dev/verification_summary/v1",
        "https://finalexam.dev/attestation/exam/v1",
        "https://cyclonedx.org/bom",
    )
    # The report must be about this very file, under the policy the config names.
    (area / "other.whl").write_bytes(b"PK\x05\x06" + bytes(18))
    with pytest.raises(UsageError, match="sha256 differs"):
        make_bundle(report, area / "other.whl", private, config)
    with pytest.raises(UsageError, match="decided under policy 'release'"):
        make_bundle(report, area / APP, private, Config(db=str(vuln_db), policy="ci"))
    # Ed25519 signatures are deterministic: a fixed time gives the same bytes.
    moment = datetime(2025, 1, 1, tzinfo=UTC)
    assert make_bundle(report, area / APP, private, config, now=moment) == make_bundle(
        report, area / APP, private, config, now=moment
    )


def test_oversized_attestation_is_not_read(
    area: Path, attested: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, public, out = attested
    with out.open("r+b") as handle:  # sparse: no real disk used
        handle.truncate(257 * 1024 * 1024)
    capsys.readouterr()
    assert run_verify(APP, out, public) == 1
    assert "format: 269484032 bytes: not an attestation" in capsys.readouterr().err


def test_policy_digest_is_the_rules_not_where_they_were_written(tmp_path: Path) -> None:
    from finalexam.attest import policy_digest
    from finalexam.policy import load_policy

    text = 'name = "gate"\nfail_on = "high"\n[[rules]]\nid = "no-secrets"\naction = "block"\n'
    digests = []
    for folder in ("a", "b/c"):
        path = tmp_path / folder / "gate.toml"
        path.parent.mkdir(parents=True)
        path.write_text("# comment\n" * len(folder) + text)  # other lines, other paths
        digests.append(policy_digest(load_policy(Config(policy=str(path)))))
    assert digests[0] == digests[1]
    (tmp_path / "d.toml").write_text(text.replace('"high"', '"medium"'))
    assert policy_digest(load_policy(Config(policy=str(tmp_path / "d.toml")))) != digests[0]
    assert policy_digest(load_policy(Config())) != policy_digest(load_policy(Config(policy="ci")))
