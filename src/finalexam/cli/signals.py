"""SIGTERM and SIGHUP end a run the way Ctrl-C does: by unwinding, so the scratch space and
the worker processes go with it (the default action would end the process where it stands).

The handler raises ``Terminated`` in the main thread (``KeyboardInterrupt`` for SIGINT).
Python drops an exception raised while it runs certain callbacks (at-fork handlers,
destructors), so the request is also kept as a flag, which the progress sink checks on every
event: a dropped signal, Ctrl-C included, still ends the run at the next file.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

_requested = threading.Event()
_interrupted = threading.Event()  # the request was Ctrl-C's
_SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)


class Terminated(KeyboardInterrupt):
    """The run was asked to end by a signal (its name is the message)."""


def _terminate(signum: int, _frame: object) -> None:
    _requested.set()
    if signum == signal.SIGINT:
        _interrupted.set()
        raise KeyboardInterrupt
    raise Terminated(signal.Signals(signum).name)


def check() -> None:
    """Raise Terminated (KeyboardInterrupt for Ctrl-C) when a signal asked the run to end
    (see the module doc)."""
    if _interrupted.is_set():
        raise KeyboardInterrupt
    if _requested.is_set():
        raise Terminated("signal")


@contextlib.contextmanager
def unwind_on_signals() -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP raise Terminated and SIGINT KeyboardInterrupt
    (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _requested.clear()
    _interrupted.clear()
    saved = {signum: signal.signal(signum, _terminate) for signum in _SIGNALS}
    try:
        yield
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)
        _requested.clear()  # the request was this run's
        _interrupted.clear()
