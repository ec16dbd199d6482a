"""``finalexam key generate``: a signing key pair for attestations."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from finalexam.attest import KEY_TYPES, PASSPHRASE_ENV, write_key_pair
from finalexam.attest.keys import DEFAULT_KEY_TYPE


def add_parser(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "key",
        help="create a key pair for signing attestations",
        description="Create a signing key pair: OUT (PKCS#8 PEM private key, mode 0600) and "
        f"OUT.pub (PEM public key). The private key is encrypted when {PASSPHRASE_ENV} is set. "
        "Exit codes: 0 written, 2 usage error.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    generate = actions.add_parser("generate", help="generate a new key pair")
    generate.add_argument("--out", required=True, metavar="FILE", help="private key file")
    generate.add_argument(
        "--type",
        dest="key_type",
        choices=KEY_TYPES,
        default=DEFAULT_KEY_TYPE,
        help=f"key algorithm (default {DEFAULT_KEY_TYPE})",
    )
    generate.add_argument("--force", action="store_true", help="replace existing files")
    generate.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    private, public, key_id = write_key_pair(args.out, args.key_type, force=args.force)
    sys.stdout.write(
        f"wrote {private} (private, keep it secret) and {public} (public)\nkey id: {key_id}\n"
    )
    return 0
