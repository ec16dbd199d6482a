"""Worker processes live no longer than the exam that started them.

``die_with_parent`` runs first thing in every worker: the kernel kills the worker when its
parent ends, however it ends (SIGKILL included; ``PR_SET_PDEATHSIG`` on Linux, a watchdog
thread elsewhere). Ctrl-C reaches the whole process group: workers ignore it and let the main
process decide, and SIGTERM gets its default action back (a fork copies the CLI's handler).
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time

_PR_SET_PDEATHSIG = 1


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def die_with_parent() -> None:
    """In a worker: end when its parent process (the exam, or a fork server of the exam's
    that ends with it) ends."""
    parent = os.getppid()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    armed = False
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            armed = libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
        except (OSError, AttributeError):
            armed = False
    if not armed:
        threading.Thread(target=_watch, args=(parent,), daemon=True).start()
    if os.getppid() != parent or parent == 1:  # the parent ended before this was armed
        os._exit(1)
