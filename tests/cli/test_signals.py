"""A signal whose exception Python drops (raised inside a destructor or an at-fork handler)
still ends the run at the next progress event: Ctrl-C as an interruption, SIGTERM as a
termination. Real signals sent to this process."""

from __future__ import annotations

import os
import signal

import pytest

from finalexam.cli import signals


def _dropped(signum: signal.Signals) -> None:
    """The signal arrives while an exception cannot get out, as in a destructor."""
    try:
        os.kill(os.getpid(), signum)
        for _ in range(1000):  # the handler runs between bytecodes
            pass
    except KeyboardInterrupt:
        pass


@pytest.mark.parametrize(
    ("signum", "raised"),
    [(signal.SIGINT, KeyboardInterrupt), (signal.SIGTERM, signals.Terminated)],
    ids=["SIGINT", "SIGTERM"],
)
def test_a_dropped_signal_still_ends_the_run(
    signum: signal.Signals, raised: type[BaseException]
) -> None:
    with signals.unwind_on_signals():
        _dropped(signum)
        with pytest.raises(raised) as stopped:
            signals.check()
    assert type(stopped.value) is raised  # Ctrl-C stays an interruption, not a termination
    signals.check()  # the request was that run's
