// Verify a finalexam attestation (JSON Lines of DSSE envelopes or Sigstore bundles) with
// sigstore-js and a public key only: no certificate, no transparency log, offline.
// Usage: node verify.js ATTESTATION PUBLIC_KEY_PEM ARTIFACT
'use strict';
const fs = require('fs');
const crypto = require('crypto');
const { Verifier, toTrustMaterial, toSignedEntity } = require('@sigstore/verify');
const { bundleFromJSON } = require('@sigstore/bundle');

const [attestationPath, keyPath, artifactPath] = process.argv.slice(2);
const key = crypto.createPublicKey(fs.readFileSync(keyPath, 'utf8'));
const artifactSha256 = crypto.createHash('sha256').update(fs.readFileSync(artifactPath)).digest('hex');
const emptyRoot = {
  mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
  tlogs: [], certificateAuthorities: [], ctlogs: [], timestampAuthorities: [],
};
const trust = toTrustMaterial(emptyRoot, () => ({ publicKey: key, validFor: () => true }));
const verifier = new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 });

const lines = fs.readFileSync(attestationPath, 'utf8').split('\n').filter((l) => l.trim());
for (const line of lines) {
  const item = JSON.parse(line);
  // A bare DSSE envelope (in-toto JSON Lines) travels in a bundle naming the key by its id.
  const bundle = item.dsseEnvelope ? item : {
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    verificationMaterial: { publicKey: { hint: item.signatures[0].keyid }, tlogEntries: [] },
    dsseEnvelope: item,
  };
  verifier.verify(toSignedEntity(bundleFromJSON(bundle)));
  const envelope = bundle.dsseEnvelope;
  if (envelope.payloadType !== 'application/vnd.in-toto+json') throw new Error('not in-toto');
  const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8'));
  if (statement._type !== 'https://in-toto.io/Statement/v1') throw new Error('not a Statement v1');
  if (!statement.subject.some((s) => s.digest.sha256 === artifactSha256)) {
    throw new Error('subject digest does not match the artifact');
  }
  console.log(`verified ${statement.predicateType}`);
}
