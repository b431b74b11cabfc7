"""The kernel manager of sandboxed kernels: it stops a kernel through its launcher, at once.

jupyter_client stops a kernel gracefully: it interrupts it, asks it to shut down, and polls every
0.1 s until it has: about 0.4 s per notebook, most of it ipykernel's own exit. A graded kernel's
state is thrown away anyway, so :class:`SandboxKernelManager` sends SIGTERM to the kernel's process
group instead. The launcher (:mod:`cs231kit.grading.sandbox_kernel`) catches it, kills the kernel's
PID namespace (or process group) and still removes the kernel's working copy and cgroup before it
exits: about 0.05 s. Only an ordinary shutdown is shortened; a restart is jupyter_client's own.

Its clients (:class:`SandboxKernelClient`) take a new kernel for ready when its start is over, without
jupyter_client's last 0.2 s of listening for more start-up messages.
"""

import time
from queue import Empty

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from jupyter_client.utils import ensure_async
from traitlets import DottedObjectName, Type

EXIT_POLL_SECONDS = 0.01
"""How often to check whether the launcher has exited."""
IOPUB_CHECK_SECONDS = 0.05
"""How long to wait on IOPub for the idle status that follows a kernel_info reply before asking again (a status
sent before the IOPub socket was connected is lost; one that comes late is still taken on the next round)."""


class SandboxKernelClient(AsyncKernelClient):
    """An ``AsyncKernelClient`` for which a new kernel is ready once it has answered, not 0.2 s later.

    jupyter_client's ``wait_for_ready`` ends by flushing IOPub until no message came for 0.2 s: idle
    time in every graded submission. This client flushes it up to the kernel's idle status after its
    kernel_info reply, the last message the kernel's start produces.
    """

    async def _async_wait_for_ready(self, timeout=None):
        deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
        requests, answer = set(), None
        while True:
            requests.add(self.kernel_info())
            try:
                reply = await ensure_async(self.shell_channel.get_msg(timeout=1))
            except Empty:
                reply = None
            if reply is not None and reply["msg_type"] == "kernel_info_reply":
                answer = reply
            # Until its IOPub socket is connected, the kernel's status messages are lost: then ask again.
            if answer is not None and await self._idle_after(requests):
                self._handle_kernel_info_reply(answer)
                return
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout:g} seconds")

    wait_for_ready = _async_wait_for_ready

    async def _idle_after(self, requests):
        """Read IOPub up to the kernel's idle status after one of ``requests`` (message ids); False if none came
        within :data:`IOPUB_CHECK_SECONDS`."""
        deadline = time.monotonic() + IOPUB_CHECK_SECONDS
        while (left := deadline - time.monotonic()) > 0:
            try:
                message = await ensure_async(self.iopub_channel.get_msg(timeout=left))
            except Empty:
                return False
            if message["msg_type"] == "status" and message["content"].get("execution_state") == "idle" \
                    and message["parent_header"].get("msg_id") in requests:
                return True
        return False


class SandboxKernelManager(AsyncKernelManager):
    """An ``AsyncKernelManager`` whose shutdown is SIGTERM to the sandbox launcher (see the module docstring),
    and whose clients are :class:`SandboxKernelClient`."""

    client_class = DottedObjectName("cs231kit.grading.sandbox_manager.SandboxKernelClient")
    client_factory = Type(klass=SandboxKernelClient)

    async def _async_shutdown_kernel(self, now=False, restart=False):
        if restart or not self.owns_kernel or not self.has_kernel:
            return await super()._async_shutdown_kernel(now=now, restart=restart)
        self.shutting_down = True  # as jupyter_client: keeps the restarter from reviving the kernel
        self.stop_restarter()
        await self._async_send_kernel_sigterm()
        # Waits for the launcher's exit; SIGKILL (jupyter_client's fallback) only if it hangs.
        await self._async_finish_shutdown(pollinterval=EXIT_POLL_SECONDS)
        await self._async_cleanup_resources()

    shutdown_kernel = _async_shutdown_kernel
