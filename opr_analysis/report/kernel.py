"""The Jupyter kernel that executes the report and documentation notebooks.

:class:`RunKernelManager` is what papermill (via nbclient) starts the kernel
with:

- **IPC transport** in a private temporary folder (socket files and the
  connection file), instead of TCP ports on localhost: no other user on the
  machine can connect to the kernel, ipykernel does not print its «running over
  TCP without encryption» warning, and concurrent runs never share a port or a
  connection file.
- **Termination**: SIGTERM or SIGINT during execution shuts the kernel down at
  once and is recorded in ``stopped_by``; :func:`execute_notebook` then raises
  :class:`~opr_analysis.errors.Terminated` (or ``KeyboardInterrupt``) so the
  caller's clean-up runs and nothing half-made is kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import tempfile
from collections.abc import Iterator

from jupyter_client.manager import AsyncKernelManager

from ..errors import Terminated

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)

__all__ = ["RunKernelManager", "kernel_manager_class", "restored_signal_handlers", "raise_if_stopped"]


class RunKernelManager(AsyncKernelManager):
    """An async kernel manager on IPC sockets in a private folder; records a stop signal."""

    created: list = []  # each class made by kernel_manager_class() gets its own list

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.private_dir = tempfile.mkdtemp(prefix="opr-kernel-")
        self.transport = "ipc"
        self.ip = os.path.join(self.private_dir, "s")
        self.connection_file = os.path.join(self.private_dir, "kernel.json")
        self.stopped_by: int | None = None
        type(self).created.append(self)

    async def start_kernel(self, **kwargs):
        await super().start_kernel(**kwargs)
        # nbclient's own handlers only shut the kernel down; ours also records the signal.
        with contextlib.suppress(RuntimeError, ValueError, NotImplementedError):
            loop = asyncio.get_running_loop()
            for sig in STOP_SIGNALS:
                loop.add_signal_handler(sig, self._stop, sig)

    def _stop(self, signum: int) -> None:
        self.stopped_by = signum
        asyncio.ensure_future(self.shutdown_kernel(now=True))

    def remove_private_dir(self) -> None:
        shutil.rmtree(self.private_dir, ignore_errors=True)


def kernel_manager_class() -> type[RunKernelManager]:
    """A fresh subclass whose ``created`` list holds the managers of one execution."""
    return type("RunKernelManager", (RunKernelManager,), {"created": []})


@contextlib.contextmanager
def restored_signal_handlers() -> Iterator[None]:
    """Put back the Python handlers of SIGTERM/SIGINT that asyncio resets after execution."""
    try:
        saved = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}
    except ValueError:  # pragma: no cover - not the main thread
        saved = {}
    try:
        yield
    finally:
        for sig, handler in saved.items():
            with contextlib.suppress(ValueError, TypeError):
                signal.signal(sig, handler)


def raise_if_stopped(km_class: type[RunKernelManager]) -> None:
    """Raise the interruption a manager of ``km_class`` recorded, and remove their folders."""
    stopped = [km.stopped_by for km in km_class.created if km.stopped_by]
    for km in km_class.created:
        km.remove_private_dir()
    if stopped:
        if stopped[0] == signal.SIGINT:
            raise KeyboardInterrupt
        raise Terminated(stopped[0])
