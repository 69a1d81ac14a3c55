"""Ctrl-C during headless training: finish the step in progress, then stop and save.

A ``KeyboardInterrupt`` raised in the middle of a meta-training step leaves the weights,
the optimiser, the episode sampler and the random state out of step with one another: a
run saved then and resumed would quietly train differently from one never interrupted.
So the first Ctrl-C only asks the loop to stop at the next step boundary; a second one
stops at once, and the run folder keeps its last save.
"""

from __future__ import annotations

import signal
import sys
import threading
from types import FrameType, TracebackType


class GracefulStop:
    """Context manager: ``requested`` turns True at the first Ctrl-C (SIGINT)."""

    def __init__(self, message: str = "stopping after this step; Ctrl-C again to stop at once"):
        self.message = message
        self.requested = False
        self._previous: object = None

    def __enter__(self) -> GracefulStop:
        if threading.current_thread() is threading.main_thread():  # signals reach only it
            self._previous = signal.signal(signal.SIGINT, self._on_interrupt)
        return self

    def _on_interrupt(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        print(f"\n{self.message}", file=sys.stderr, flush=True)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)  # type: ignore[arg-type]
