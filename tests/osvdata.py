"""Real OSV records from tests/data/osv: exports and databases built from them, and a loopback
HTTP server laid out like OSV's bucket (``/<ecosystem>/all.zip``) for first-use fetches."""

from __future__ import annotations

import http.server
import io
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

from finalexam.vuln.update import update_database
from finalexam.vuln.versions import DEFAULT_ECOSYSTEMS

RECORDS = Path(__file__).resolve().parent / "data" / "osv"


def export_zip(ecosystem: str) -> bytes:
    """``all.zip`` of one ecosystem as OSV publishes it (empty when no record is kept here)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        folder = RECORDS / ecosystem
        for record in sorted(folder.glob("*.json")) if folder.is_dir() else []:
            archive.writestr(record.name, record.read_bytes())
    return buffer.getvalue()


def build_database(path: Path) -> Path:
    update_database(path, [str(RECORDS)])
    return path


@dataclass
class Mirror:
    url: str
    requests: list[str] = field(default_factory=list)
    status: int = 200  # what every request gets (500: the mirror is down)


@contextmanager
def osv_mirror() -> Iterator[Mirror]:
    """Every ecosystem of DEFAULT_ECOSYSTEMS, served on 127.0.0.1 for as long as the block."""
    exports = {f"/{ecosystem}/all.zip": export_zip(ecosystem) for ecosystem in DEFAULT_ECOSYSTEMS}
    mirror = Mirror(url="")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = unquote(self.path)
            mirror.requests.append(path)
            body = exports.get(path)
            if mirror.status != 200 or body is None:
                self.send_error(mirror.status if mirror.status != 200 else 404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/zip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            return None

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    mirror.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield mirror
    finally:
        server.shutdown()
        server.server_close()
