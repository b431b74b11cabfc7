"""The kernel manager of sandboxed kernels: it stops a kernel through its launcher, at once.

jupyter_client stops a kernel gracefully: it interrupts it, asks it to shut down, and polls every
0.1 s until it has: about 0.4 s per notebook, most of it ipykernel's own exit. A graded kernel's
state is thrown away anyway, so :class:`SandboxKernelManager` sends SIGTERM to the kernel's process
group instead. The launcher (:mod:`cs231kit.grading.sandbox_kernel`) catches it, kills the kernel's
PID namespace (or process group) and still removes the kernel's working copy and cgroup before it
exits: about 0.05 s. Only an ordinary shutdown is shortened; a restart is jupyter_client's own.
"""

from jupyter_client.manager import AsyncKernelManager

EXIT_POLL_SECONDS = 0.01
"""How often to check whether the launcher has exited."""


class SandboxKernelManager(AsyncKernelManager):
    """An ``AsyncKernelManager`` whose shutdown is SIGTERM to the sandbox launcher (see the module docstring)."""

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
