from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

sys.path.insert(0, str(Path(__file__).parent))

# A loaded CI machine must not turn slow examples into failures: no deadline, no too_slow.
settings.register_profile("finalexam", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("finalexam")


@pytest.fixture(scope="session", autouse=True)
def vulnerability_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Every exam in the suite has a usable vulnerability database (a small one, from real
    records, where a fresh machine keeps its own: the user cache directory, here one for the
    test run) and never goes to the network; tests of the database itself override both."""
    from osvdata import build_database

    run = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        run = run.parent  # one directory for the whole run, shared by the workers
    cache = run / "user-cache"
    path = cache / "finalexam" / "osv.sqlite3"
    if not path.is_file():
        build_database(path)  # atomic: workers racing here each replace it whole
    saved = {key: os.environ.get(key) for key in ("XDG_CACHE_HOME", "FINALEXAM_OFFLINE")}
    os.environ["XDG_CACHE_HOME"] = str(cache)
    os.environ["FINALEXAM_OFFLINE"] = "1"
    yield path
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
