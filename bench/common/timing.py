"""Running a tool under a time limit and measuring it fairly on a shared, busy machine.

Wall-clock time on a loaded 2-core machine mostly measures the other jobs; the CPU seconds
the tool and its children used (user + system, from ``wait4``) do not, so benchmarks report
both. On a timeout the whole process group is killed, not only the direct child.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Timed:
    returncode: int | None  # None: killed at the time limit
    stdout: str
    stderr: str
    wall: float
    cpu: float  # user + system seconds of the process and its children


def run_timed(args: Sequence[str], timeout: float, env: Mapping[str, str] | None = None) -> Timed:
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(
            list(args), stdout=out, stderr=err, env=dict(env) if env is not None else None,
            start_new_session=True,
        )  # fmt: skip
        deadline = start + timeout
        returncode: int | None = None
        usage = None
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                returncode = os.waitstatus_to_exitcode(status)
                break
            if time.perf_counter() > deadline:
                os.killpg(process.pid, signal.SIGKILL)
                _, _, usage = os.wait4(process.pid, 0)
                break
            time.sleep(0.02)
        process.returncode = returncode if returncode is not None else -9  # reaped above
        wall = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        return Timed(
            returncode,
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
            round(wall, 3),
            round(usage.ru_utime + usage.ru_stime, 3) if usage else 0.0,
        )
