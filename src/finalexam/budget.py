"""Bounded time per file and plug-in.

Two mechanisms, because Python cannot pre-empt native code in-thread:

- ``time_budget`` interrupts pure-Python work and ``re`` matching (the interpreter and the
  regex engine both check for signals): a CPU-time timer (``ITIMER_PROF``) raises
  ``BudgetExceeded`` where the work stands. CPU time, not wall time, so a loaded machine does
  not turn a normal file into a timeout. It needs the main thread of its process (signals are
  delivered there); ``FileAnalysis`` moves the work to a worker process otherwise.
- ``Supervisor`` runs native code that never returns to the interpreter while it works (LIEF
  on a hostile binary, CPython's own parser on pathological source) in a child process with a
  CPU-time limit (and a wall-clock one for a child that hangs idle) and a memory limit; the
  child is killed and replaced when it overruns, and a crash there is an exception here,
  never the end of the exam.

Where neither is possible (a thread other than the main one of a daemonic process, such as a
Dask worker's task), the work runs to its end and is then judged against the budget: the
report is the same, but a hang is not cut short there. Batch exams avoid it: each runs in a
process of its own (``store.batch.examine_isolated``), on Dask workers too.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from finalexam.lifetime import die_with_parent

DEFAULT_TIME_BUDGET = 10.0  # seconds of CPU one plug-in may spend on one file
# The budget grows with the file past this size: reading is linear work, and the budget is
# there to stop work that is not (CUDA's 51 MB static objects of 44,836 sections take LIEF
# 9 to 17 CPU s to parse).
BUDGET_BYTES = 16 * 1024**2
# Address space a supervised call may add to the child, beyond 8 bytes per input byte.
CHILD_MEMORY = 2 * 1024**3
# A supervised child that neither answers nor uses CPU (blocked, swapping) is stopped after
# this many times its CPU budget in wall time.
WALL_FACTOR = 10

T = TypeVar("T")


def file_budget(seconds: float, size: int) -> float:
    """CPU seconds a plug-in may spend on a file of ``size`` bytes: ``seconds`` for every
    ``BUDGET_BYTES`` (at least once); 0 stays 0 (no limit)."""
    return seconds * max(1.0, size / BUDGET_BYTES)


class BudgetExceeded(BaseException):
    """The time budget ran out. A BaseException, like KeyboardInterrupt, so that a plug-in's
    own ``except Exception`` cannot swallow it and carry on."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"over its {seconds:g} s time budget")
        self.seconds = seconds


class WorkerCrashed(Exception):
    """A supervised child process died (a native crash, or killed for its memory)."""


def enforceable() -> bool:
    """Whether ``time_budget`` can interrupt work in the calling thread."""
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


def can_supervise() -> bool:
    """Whether this process may start child processes (a daemonic one, such as a Dask
    worker's, may not: native code then runs in-process, without the child's protection)."""
    return not multiprocessing.current_process().daemon


_armed: list[float] = []  # the budgets running in the main thread, innermost last
_previous_handler: Any = None


def _expire(signum: int, frame: object) -> None:
    if _armed:
        raise BudgetExceeded(_armed[-1])
    if callable(_previous_handler):  # a SIGPROF user from before (a sampling profiler)
        _previous_handler(signum, frame)


@contextmanager
def time_budget(seconds: float) -> Iterator[None]:
    """Raise BudgetExceeded inside the block after ``seconds`` of CPU time (0: no limit).

    Called once per file and plug-in: the handler is installed once, and arming costs two
    ``setitimer`` calls."""
    global _previous_handler
    if seconds <= 0:
        yield
        return
    if not enforceable():
        # No signal reaches this thread: the work cannot be stopped, but its result is judged
        # as if it had been, so the report is the one the main thread would give.
        started = time.thread_time()
        yield
        if time.thread_time() - started > seconds:
            raise BudgetExceeded(seconds)
        return
    if signal.getsignal(signal.SIGPROF) is not _expire:
        _previous_handler = signal.signal(signal.SIGPROF, _expire)
    outer_delay, _ = signal.setitimer(signal.ITIMER_PROF, seconds)
    started = time.process_time() if outer_delay > 0 else 0.0
    _armed.append(seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        _armed.pop()
        if outer_delay > 0:  # an enclosing budget goes on with what it had left
            used = time.process_time() - started
            signal.setitimer(signal.ITIMER_PROF, max(outer_delay - used, 0.001))


def _serve(connection: Connection) -> None:
    """The child's loop: run each call it is sent, send back its result or its exception."""
    die_with_parent()  # the parent decides when this ends, and its end is this one's
    page = os.sysconf("SC_PAGE_SIZE")
    while True:
        try:
            function, args, allowance = connection.recv()
        except (EOFError, OSError):
            return  # the parent is gone
        with open("/proc/self/statm") as statm:
            used = int(statm.read().split()[0]) * page
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        soft = used + allowance
        resource.setrlimit(resource.RLIMIT_AS, (soft if hard < 0 else min(soft, hard), hard))
        try:
            reply: tuple[bool, Any] = (True, function(*args))
        except BaseException as error:  # everything goes back to the parent
            reply = (False, error)
        finally:
            resource.setrlimit(resource.RLIMIT_AS, (hard, hard))
        try:
            connection.send(reply)
        except Exception as error:  # an unpicklable result or exception
            connection.send((False, RuntimeError(f"{type(error).__name__}: {error}")))


class Supervisor:
    """A long-lived child process for native code, replaced whenever a call overruns or dies.

    One per process that needs it (see ``supervisor()``); calls are sequential.
    """

    def __init__(self) -> None:
        self._process: multiprocessing.process.BaseProcess | None = None
        self._connection: Connection | None = None

    def call(self, function: Callable[..., T], *args: Any, timeout: float) -> T:
        """``function(*args)`` in the child: its result, or its exception re-raised here;
        BudgetExceeded after ``timeout`` seconds of the child's CPU time, WorkerCrashed if it
        dies."""
        if not can_supervise():
            return function(*args)
        connection = self._start()
        size = sum(len(a) for a in args if isinstance(a, bytes | bytearray))
        try:
            connection.send((function, args, CHILD_MEMORY + 8 * size))
            if timeout > 0 and not self._answered(connection, timeout):
                self.stop()
                raise BudgetExceeded(timeout)
            ok, value = connection.recv()
        except (EOFError, OSError, BrokenPipeError):
            raise WorkerCrashed(self._reap()) from None
        if ok:
            return value  # type: ignore[no-any-return]
        if isinstance(value, MemoryError):
            self.stop()  # a child that ran out of memory is not trusted with the next call
            raise WorkerCrashed("out of its memory limit") from None
        raise value

    def _answered(self, connection: Connection, timeout: float) -> bool:
        """Whether the child answers within ``timeout`` seconds of its own CPU time, like the
        in-process budget: a loaded machine must not turn a normal binary into a gap. A child
        that hangs without using CPU is stopped after ``WALL_FACTOR`` times that in wall time;
        where its CPU time cannot be read, the limit is wall time."""
        pid = self._process.pid if self._process is not None else None
        base = _cpu_seconds(pid)
        started = time.monotonic()
        while not connection.poll(0.05 if base is None else min(0.1, timeout)):
            wall = time.monotonic() - started
            if base is None:
                if wall >= timeout:
                    return False
                continue
            used = _cpu_seconds(pid)
            if used is None or used - base >= timeout or wall >= timeout * WALL_FACTOR:
                return connection.poll(0)
        return True

    def _start(self) -> Connection:
        if self._process is not None and self._process.is_alive() and self._connection:
            return self._connection
        self.stop()
        # fork is cheap and inherits loaded modules; with other threads about, forkserver
        # avoids forking a process whose locks another thread may hold
        method = "fork" if threading.active_count() == 1 else "forkserver"
        context: Any = multiprocessing.get_context(method)
        pipe: tuple[Connection, Connection] = context.Pipe()
        parent, child = pipe
        process = context.Process(target=_serve, args=(child,), daemon=True)
        process.start()
        child.close()
        self._process, self._connection = process, parent
        return parent

    def _reap(self) -> str:
        process = self._process
        self.stop()
        code = process.exitcode if process is not None else None
        if code is not None and code < 0:
            try:
                return f"worker killed by {signal.Signals(-code).name}"
            except ValueError:
                return f"worker killed by signal {-code}"
        return f"worker exited with status {code}"

    def stop(self) -> None:
        process, connection = self._process, self._connection
        self._process = self._connection = None
        if connection is not None:
            connection.close()
        if process is not None:
            if process.is_alive():
                process.kill()
            process.join(5)


def _cpu_seconds(pid: int | None) -> float | None:
    """CPU time (user + system) a live child has used, from /proc; None where unreadable."""
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            # fields after the command name, which is in parentheses and may hold spaces
            fields = stat.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / _TICKS


_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_supervisors: dict[int, Supervisor] = {}


def supervisor() -> Supervisor:
    """This process's supervisor (a forked worker process gets its own)."""
    pid = os.getpid()
    if pid not in _supervisors:
        _supervisors.clear()
        _supervisors[pid] = Supervisor()
    return _supervisors[pid]
