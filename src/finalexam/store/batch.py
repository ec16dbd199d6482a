"""Many artifacts examined and stored at once: on every local core, or on a Dask cluster.

Each task examines one artifact and writes its exam to the store itself, so the store sees
concurrent writers (one transaction per exam) and nothing is funnelled through this
process. A task that fails is reported with its file and its error; the others go on.

Every exam runs in a process of its own (``examine_isolated``), started afresh for it, on
local cores and on Dask workers alike. A Dask task runs in a thread of a daemonic worker
process, where no time budget can interrupt work and no supervised child may be started for
native parsers; in a process of its own the exam has its main thread, its budgets and its
supervised parsers, as it has when run from the command line. An exam process that dies
(a native crash, the kernel's out-of-memory killer) and a Dask worker that dies are errors
of that artifact (exit 3, nothing stored), never a pass.
"""

from __future__ import annotations

import os
import pickle
import shlex
import signal
import subprocess
import sys
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from finalexam.config import Config
from finalexam.errors import FinalexamError, UsageError
from finalexam.store.records import FAILED, INCOMPLETE, PASSED

EXIT_BY_STATUS = {PASSED: 0, FAILED: 1, INCOMPLETE: 3}


@dataclass(frozen=True)
class BatchItem:
    path: str
    product: str | None = None
    version: str | None = None


@dataclass(frozen=True)
class BatchOutcome:
    item: BatchItem
    exit_code: int
    status: str | None = None
    release: str | None = None
    error: str | None = None


def read_list(path: str) -> list[BatchItem]:
    """One artifact per line: ``PATH [PRODUCT [VERSION]]`` (shell quoting, ``#`` comments);
    relative paths are relative to the list file."""
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as error:
        raise UsageError(f"cannot read the list: {error.strerror}", path=path) from None
    except UnicodeDecodeError:
        raise UsageError("the list is not UTF-8 text", path=path) from None
    items = []
    for number, line in enumerate(text.splitlines(), 1):
        try:
            fields = shlex.split(line, comments=True)
        except ValueError as error:
            raise UsageError(f"line {number}: {error}", path=path) from None
        if not fields:
            continue
        if len(fields) > 3:
            raise UsageError(f"line {number}: expected PATH [PRODUCT [VERSION]]", path=path)
        target = Path(fields[0])
        if not target.is_absolute():
            target = source.parent / target
        items.append(BatchItem(str(target), *fields[1:]))
    if not items:
        raise UsageError("the list names no artifact", path=path)
    return items


def examine_and_store(item: BatchItem, config: Config, store_url: str, source: str) -> BatchOutcome:
    """One task: examine, store, report (never raises, so one bad file cannot stop a batch)."""
    from finalexam import scan
    from finalexam.store.exams import store_exam
    from finalexam.store.store import Store

    try:
        report = scan(item.path, config)
        with Store(store_url) as store:
            stored = store_exam(store, report, config, source, item.product, item.version)
    except FinalexamError as error:
        return BatchOutcome(item, error.exit_code, error=str(error))
    except Exception as error:  # the tool failed on this one: say so, go on
        return BatchOutcome(item, 3, error=f"internal error: {type(error).__name__}: {error}")
    code = EXIT_BY_STATUS[stored.status]
    return BatchOutcome(item, code, stored.status, f"{stored.product} {stored.version}")


def examine_isolated(item: BatchItem, config: Config, store_url: str, source: str) -> BatchOutcome:
    """``examine_and_store`` in a fresh process (``python -m finalexam.store.task``, the
    artifact's path in its command line for ``ps``): its outcome, or an error if it died."""
    command = [sys.executable, "-m", "finalexam.store.task", item.path]
    task = pickle.dumps((item, config, store_url, source))
    try:
        done = subprocess.run(command, input=task, stdout=subprocess.PIPE, check=False)
    except OSError as error:
        return BatchOutcome(item, 3, error=f"cannot start the exam's process: {error.strerror}")
    if done.returncode == 0:
        try:
            outcome = pickle.loads(done.stdout)
        except Exception:  # cut short: only our own child writes here
            outcome = None
        if isinstance(outcome, BatchOutcome):
            return outcome
    return BatchOutcome(item, 3, error=f"{_ended(done.returncode)}; nothing was stored")


def _ended(code: int) -> str:
    if code < 0:
        try:
            return f"the exam's process was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"the exam's process was killed by signal {-code}"
    return f"the exam's process ended with status {code} and no result"


def run_local(
    items: Sequence[BatchItem], config: Config, store_url: str, source: str, workers: int = 0
) -> Iterator[BatchOutcome]:
    workers = min(workers or os.cpu_count() or 1, len(items))
    # threads only wait: each exam runs in its own process
    with ThreadPoolExecutor(workers) as pool:
        futures = [pool.submit(examine_isolated, i, config, store_url, source) for i in items]
        for future in as_completed(futures):
            yield future.result()


def run_dask(
    items: Sequence[BatchItem], config: Config, store_url: str, source: str, scheduler: str
) -> Iterator[BatchOutcome]:
    try:
        from distributed import Client
        from distributed import as_completed as dask_completed
    except ImportError:
        raise UsageError(
            "--scheduler needs dask.distributed: pip install 'finalexam[dask]'"
        ) from None
    try:
        client = Client(scheduler, timeout=30)  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError) as error:
        raise UsageError(f"cannot reach the Dask scheduler {scheduler}: {error}") from None
    with client:
        futures = {
            client.submit(examine_isolated, item, config, store_url, source, pure=False): item
            for item in items
        }
        for future in dask_completed(list(futures)):  # type: ignore[no-untyped-call]
            item = futures[future]
            try:
                yield future.result()
            except Exception as error:  # the worker died under it (KilledWorker), or Dask failed
                what = type(error).__name__
                yield BatchOutcome(item, 3, error=f"the Dask task failed ({what}); nothing stored")
