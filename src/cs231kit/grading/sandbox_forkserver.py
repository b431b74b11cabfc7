"""The fork server of a sandbox: sandboxed processes start from a warm interpreter, not a cold ``python -m``.

Every graded submission starts two Python processes in the sandbox, its kernel and its verification
child. Started cold, each paid about a second before the notebook's first line ran: the interpreter,
ipykernel, then the setup cell's numpy, matplotlib and cs231kit. The grader (trusted) starts one fork
server per sandbox (:class:`~cs231kit.grading.sandbox.KernelSandbox`), with the environment its
sandboxed processes get and a listening Unix socket in the sandbox's scratch folder, which no
sandboxed process can see. The server imports :data:`WARM_MODULES` once (installed code only, never
anything of a submission or of the course tree), then forks a child for each launcher that connects.

The server never reads a request: its memory holds nothing of any submission, so no kernel forked
from it can find another's data there. Its child reads the request (the launcher's standard
streams, working folder, sandbox plan and arguments) and plays the launcher's part
(:func:`~cs231kit.grading.sandbox_kernel.run_kernel`: limits, namespaces, read-only world, dropped
privileges); the sandboxed process at its end then runs the module in the interpreter it has
(:func:`run_module_here`). Before that it closes every file descriptor but its standard streams (as
``execve`` would: Python opens them all close-on-exec), makes itself dumpable again (as ``execve``
would after the change of user) and reseeds numpy's global generator, so student code finds what a
fresh ``python -I -m`` would give it, with the modules already imported. What stays shared with the
other processes forked from the server is the string hash seed.

The launcher (:mod:`cs231kit.grading.sandbox_start`) waits for the exit code on its connection; SIGTERM
to the launcher reaches the server's child, and a launcher that dies closes its connection, which stops
the sandboxed process too.

``python -I -m cs231kit.grading.sandbox_forkserver FD``, where FD is the listening socket.
"""

import atexit
import contextlib
import gc
import importlib
import json
import os
import runpy
import signal
import socket
import sys
import traceback

from .sandbox import SandboxPlan
from .sandbox_kernel import PR_SET_PDEATHSIG, _libc, parse_arguments, run_kernel
from .sandbox_start import CODE, SETUP_FAILED_EXIT_CODE, SIZE, STANDARD_STREAMS, receive_bytes

WARM_MODULES = ("ipykernel.kernelapp", "IPython.core.inputtransformer2", "matplotlib.pyplot",
                "cs231kit.grading.verify_child")
"""The kernel, and the verification child with everything it imports first: numpy, scipy and the course's
helper modules, which are what the notebooks import. Not ipykernel's debugger, which every kernel start imports
too: imported here, it changed neither the median nor the mean kernel start (0.20 s and 0.25 s, 3 x 20 starts)."""
PR_SET_DUMPABLE = 4


def main(argv=None):
    """Entry point: serve the listening socket whose descriptor is the first argument, until killed."""
    listener = socket.socket(fileno=int((sys.argv[1:] if argv is None else argv)[0]))
    _libc().prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # dies with the grader that started it
    for name in WARM_MODULES:
        importlib.import_module(name)
    # Out of the collector's sight: no collection in a child walks (and so copies) the server's objects.
    gc.collect()
    gc.freeze()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the children
    while True:
        connection, _ = listener.accept()
        if os.fork() == 0:
            listener.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            os._exit(_serve(connection))
        connection.close()


def _serve(connection):
    """The server's child: take one request, run it as the launcher would, send back its exit code."""
    code = SETUP_FAILED_EXIT_CODE
    try:
        _libc().prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        argv = _take_request(connection)
        connection.sendall(CODE.pack(os.getpid()))
        code = run_kernel(SandboxPlan.from_environment(), *parse_arguments(argv), start=run_module_here,
                          launcher=connection.fileno())
    except SystemExit as stop:  # SIGTERM, through the launcher's handler (which stopped the kernel)
        code = _exit_code(stop.code)
    except BaseException:
        traceback.print_exc()
    with contextlib.suppress(OSError):
        connection.sendall(CODE.pack(code))
    return code & 0xFF


def _take_request(connection):
    """Read a launcher's request and become it: its standard streams, folder and environment (its sandbox's plan
    only); its arguments."""
    size, streams, _, _ = socket.recv_fds(connection, SIZE.size, len(STANDARD_STREAMS))
    if len(streams) != len(STANDARD_STREAMS):
        raise OSError("the launcher did not send its standard streams")
    size += receive_bytes(connection, SIZE.size - len(size))
    request = json.loads(receive_bytes(connection, SIZE.unpack(size)[0]))
    for target, stream in zip(STANDARD_STREAMS, streams):
        os.dup2(stream, target)
        os.close(stream)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["environment"])
    return request["argv"]


def run_module_here(module, args, workdir, environment):
    """Run ``module`` as ``__main__`` in this interpreter, as ``python -I -m module *args`` would, with
    ``environment`` (and nothing of this one's); exit with its code.

    Called in the sandboxed process, after it dropped its privileges (see the module docstring).
    """
    code = 1
    try:
        os.chdir(workdir)
        os.environ.clear()
        os.environ.update(environment)
        os.closerange(max(STANDARD_STREAMS) + 1, os.sysconf("SC_OPEN_MAX"))
        _libc().prctl(PR_SET_DUMPABLE, 1)
        sys.modules["numpy"].random.seed()  # fresh entropy, as a new interpreter's import would draw
        sys.argv = [module, *args]
        runpy.run_module(module, run_name="__main__", alter_sys=True)
        code = 0
    except SystemExit as stop:
        code = _exit_code(stop.code)
    except BaseException:
        traceback.print_exc()
    finally:
        atexit._run_exitfuncs()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code & 0xFF)


def _exit_code(code):
    """The process exit code of ``sys.exit(code)``."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    with contextlib.suppress(Exception):
        print(code, file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
