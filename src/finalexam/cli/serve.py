"""``finalexam serve``: the portfolio's dashboard and REST API."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from finalexam.cli.common import add_store_flag, open_store
from finalexam.errors import UsageError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080


def add_parser(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "serve",
        help="serve the portfolio dashboard and REST API (127.0.0.1:8080)",
        description="Serve the dashboard and the REST API (OpenAPI at /api/openapi.json). "
        "On a loopback address local users are trusted; any other address requires API "
        "tokens (`finalexam portfolio token add`).",
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"default {DEFAULT_HOST}")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}")
    parser.add_argument(
        "--require-token",
        action="store_true",
        help="require a token on a loopback address too",
    )
    parser.add_argument(
        "--db", metavar="FILE", help="vulnerability DB used to re-decide after a waiver change"
    )
    add_store_flag(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from finalexam.vuln.store import resolve_db_path
    from finalexam.web.app import create_app
    from finalexam.web.security import Security, is_loopback

    loopback = is_loopback(args.host)
    store = open_store(args)
    if (not loopback or args.require_token) and not store.has_tokens():
        store.close()
        raise UsageError(
            f"serving on {args.host} requires API tokens: create one with "
            "`finalexam portfolio token add NAME --role admin` (loopback needs none)"
        )
    hosts: frozenset[str] = frozenset()
    if loopback:
        hosts = frozenset(
            f"{name}:{args.port}" for name in ("127.0.0.1", "localhost", "[::1]", args.host)
        )
    security = Security(require_token=not loopback or args.require_token, allowed_hosts=hosts)
    app = create_app(store, security, str(resolve_db_path(args.db)))
    print(
        f"finalexam: serving {store.description} on http://{args.host}:{args.port}/",
        file=sys.stderr,
    )
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)
    finally:
        store.close()
    return 0
