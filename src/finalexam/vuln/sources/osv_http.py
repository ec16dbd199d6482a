"""An OSV export zip over HTTP(S): OSV's public bucket, or a mirror laid out the same way.

The server's validators (ETag, Last-Modified) are sent back on the next update, so an
export that did not change is not downloaded again (HTTP 304).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from finalexam.vuln.sources.base import Fetched, SourceError, Validators
from finalexam.vuln.sources.osv_zip import zip_members
from finalexam.vuln.versions import DEFAULT_ECOSYSTEMS

OSV_BUCKET = "https://osv-vulnerabilities.storage.googleapis.com"
_DOWNLOAD_TIMEOUT = 60


def default_sources(mirror: str | None = None) -> list[str]:
    """One ``all.zip`` per ecosystem in DEFAULT_ECOSYSTEMS (the one list of what is fetched),
    from OSV's public bucket or a mirror laid out the same way."""
    base = (mirror or OSV_BUCKET).rstrip("/")
    return [f"{base}/{quote(ecosystem)}/all.zip" for ecosystem in DEFAULT_ECOSYSTEMS]


def _download(url: str, directory: Path, previous: Validators) -> tuple[Path, Validators] | None:
    """Fetch ``url`` into a file in ``directory``; None when the server says not modified."""
    request = urllib.request.Request(url, headers={"User-Agent": "finalexam"})
    if previous.etag:
        request.add_header("If-None-Match", previous.etag)
    if previous.last_modified:
        request.add_header("If-Modified-Since", previous.last_modified)
    fd, name = tempfile.mkstemp(prefix=".download-", suffix=".zip", dir=directory)
    target = Path(name)
    try:
        with (
            os.fdopen(fd, "wb") as out,
            urllib.request.urlopen(request, timeout=_DOWNLOAD_TIMEOUT) as response,
        ):
            shutil.copyfileobj(response, out, 1024 * 1024)
            headers = response.headers
    except urllib.error.HTTPError as error:
        target.unlink(missing_ok=True)
        if error.code == 304:
            return None
        raise SourceError(f"download failed: HTTP {error.code} {error.reason}", path=url) from None
    except (urllib.error.URLError, OSError, TimeoutError) as error:
        target.unlink(missing_ok=True)
        reason = getattr(error, "reason", error)
        raise SourceError(f"cannot download: {reason}", path=url) from None
    return target, Validators(headers.get("ETag"), headers.get("Last-Modified"))


@dataclass(frozen=True)
class OsvDownload:
    kind = "OSV export zip over HTTP(S)"
    location: str

    @staticmethod
    def accepts(location: str) -> bool:
        return urllib.parse.urlsplit(location).scheme in ("http", "https")

    @contextlib.contextmanager
    def fetch(self, workdir: Path, previous: Validators) -> Iterator[Fetched | None]:
        downloaded = _download(self.location, workdir, previous)
        if downloaded is None:
            yield None
            return
        path, validators = downloaded
        try:
            yield Fetched(zip_members(path, self.location), validators)
        finally:
            with contextlib.suppress(OSError):
                path.unlink()
