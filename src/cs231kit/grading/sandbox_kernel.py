"""The kernel launcher of the ``cs231kit-sandbox`` kernel spec (run by :mod:`cs231kit.grading.sandbox_start`).

Outside (the process Jupyter starts, which never imports from its working folder): applies the
resource limits, makes the kernel's working copy of its folder, starts the kernel in fresh user,
mount, PID, network and IPC namespaces when the plan says so, enforces the notebook's wall-clock
limit, records why it ended a kernel early, and removes the pids cgroup.

Inside the namespaces, three processes: the first child maps the namespace's users (its parent
writes the maps, as only a process outside may map two users), the second is the PID namespace's
init: it builds the read-only world (:mod:`cs231kit.grading.sandbox_world`), then starts the kernel
in a third process that has dropped every privilege, and reaps orphans.

``--module NAME`` runs another Python module the same way instead of the kernel (the grader's
out-of-process verification, :mod:`cs231kit.grading.verify_child`).

When the plan names a fork server (:mod:`cs231kit.grading.sandbox_forkserver`), a child of the warm
server does all of the above, and the sandboxed process runs the module in the interpreter it forked
from instead of starting a cold one.

Every process the student starts is in the kernel's PID namespace (or, without namespaces, its
process group and cgroup) and dies with it.
"""

import contextlib
import ctypes
import functools
import json
import os
import resource
import select
import shutil
import signal
import sys
import tempfile
import traceback
from pathlib import Path

from .sandbox import SANDBOXED_ENVIRONMENT, SandboxPlan, remove_cgroup
from .sandbox_start import SETUP_FAILED_EXIT_CODE
from .sandbox_world import drop_privileges, enter_world, plan_world

CLONE_NEWNS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x20000, 0x8000000, 0x10000000, 0x20000000, 0x40000000
PR_SET_PDEATHSIG = 1
WALL_CLOCK_EXIT_CODE = 124
KERNEL_MODULE = "ipykernel_launcher"
ABANDONED = "abandoned"
"""What :func:`_wait` returns when the launcher a fork server's child works for has gone."""


def main(argv=None):
    """Run the launcher cold: ``[--module NAME] <arguments>`` (see :mod:`cs231kit.grading.sandbox_start`)."""
    return run_kernel(SandboxPlan.from_environment(), *parse_arguments(sys.argv[1:] if argv is None else argv))


def parse_arguments(argv):
    """``(module, arguments)`` of a launcher's command line: the kernel's unless ``--module NAME`` comes first."""
    argv = list(argv)
    return (argv[1], argv[2:]) if argv[:1] == ["--module"] else (KERNEL_MODULE, argv)


def exec_module(module, args, workdir, environment):
    """Become ``python -I -m module *args`` in ``workdir``, with ``environment`` (and nothing of this one's)."""
    os.chdir(workdir)
    command = [sys.executable, "-I", "-m", module, *args]
    os.execve(command[0], command, environment)


def run_kernel(plan, module, args, start=exec_module, launcher=None):
    """Start the sandboxed kernel (or ``module``), wait for it within the wall-clock limit, return its exit code.

    Parameters
    ----------
    plan : SandboxPlan
    module : str
    args : list of str
    start : callable, optional
        ``start(module, args, workdir, environment)``, called in the sandboxed process once it is
        ready; never returns (default: ``execve`` a fresh interpreter).
    launcher : int, optional
        A file descriptor that becomes readable when the launcher this process works for is gone
        (a fork server's connection): then the kernel is stopped as if the launcher had been.
    """
    limits = plan.limits
    cgroup = _make_pids_cgroup(plan, limits["processes"])
    workdir = working_copy(os.getcwd(), plan.work_parent)
    connection = _connection_file(args)
    writable = [workdir, *plan.writable, *_fresh_socket_folder(connection)]
    world = plan_world(plan.hidden, [*plan.readable, *connection], writable, limits["tmpfs_bytes"],
                       _files_of(plan.home_template))
    if plan.namespaces and world.user is not None:
        _give_to(world.user, [*writable, *connection])
    reports, report_to = os.pipe()
    child = _start(plan, world, functools.partial(start, module, args), workdir, cgroup, report_to)
    os.close(report_to)
    _forward_termination(child, plan)
    try:
        code = _wait(child, limits["wall_seconds"], launcher)
        if code == ABANDONED:
            _kill_everything(child, plan)
            code = 128 + signal.SIGTERM
        elif code is None:
            _record_ending(plan, "wall clock", f"the notebook ran longer than its {limits['wall_seconds']:g} s limit")
            _kill_everything(child, plan)
            code = WALL_CLOCK_EXIT_CODE
        elif not plan.namespaces:  # with namespaces, the init inside reports it (its parents hide the signal)
            _record_abnormal_exit(plan, code)
    finally:
        if not plan.namespaces:  # its process group may outlive it; a PID namespace dies with its init
            _kill_everything(child, plan)
        remove_cgroup(cgroup)
        shutil.rmtree(workdir, ignore_errors=True)
    for line in _read_all(reports).splitlines():
        _record_ending(plan, **json.loads(line))
    return code


def working_copy(folder, parent):
    """A fresh copy of ``folder`` (the submission's files, as nbgrader laid them out) inside ``parent``."""
    workdir = Path(tempfile.mkdtemp(prefix="work-", dir=parent))
    shutil.copytree(folder, workdir, dirs_exist_ok=True, symlinks=True)
    return str(workdir)


def _connection_file(args):
    """The kernel's connection file (``-f PATH``), which its unprivileged user must read."""
    return [args[args.index("-f") + 1]] if "-f" in args[:-1] else []


def _fresh_socket_folder(connection):
    """The folder of the kernel's Unix sockets (none for TCP), emptied: what an earlier kernel left there goes."""
    if not connection:
        return []
    info = json.loads(Path(connection[0]).read_text())
    if info.get("transport") != "ipc":
        return []
    folder = Path(info["ip"]).parent
    for leftover in folder.iterdir():
        shutil.rmtree(leftover) if leftover.is_dir() and not leftover.is_symlink() else leftover.unlink()
    return [str(folder)]


def _files_of(folder):
    """``((relative path, bytes), ...)`` of the files in ``folder`` (none if it is None)."""
    if folder is None:
        return ()
    return tuple((str(p.relative_to(folder)), p.read_bytes()) for p in sorted(Path(folder).rglob("*")) if p.is_file())


def _give_to(user, paths):
    """Make ``user`` (uid and gid) own ``paths`` and everything in them."""
    for path in paths:
        os.chown(path, user, user, follow_symlinks=False)
        for folder, names, files in os.walk(path):
            for name in names + files:
                os.chown(os.path.join(folder, name), user, user, follow_symlinks=False)


def _start(plan, world, program, workdir, cgroup, report_to):
    """Fork the sandboxed process tree that ends in ``program(workdir, environment)``; the pid of its outermost process."""
    ready, ready_to = os.pipe()
    go, go_to = os.pipe()
    pid = os.fork()
    if pid == 0:
        _child(plan, world, program, workdir, cgroup, (ready_to, go, report_to))
    os.close(ready_to)
    os.close(go)
    if plan.namespaces and os.read(ready, 1) == b"u":
        _map_users(pid, world.user)
        os.write(go_to, b"g")
    os.close(ready)
    os.close(go_to)
    return pid


def _child(plan, world, program, workdir, cgroup, pipes):
    """The forked launcher: limits, then exec (no namespaces) or namespaces and their init. Never returns."""
    ready_to, go, report_to = pipes
    try:
        _limit_child(plan.limits, cgroup)
        if not plan.namespaces:
            os.setsid()  # its own process group, so that all of it can be killed
            program(workdir, plan.environment)
        if _libc().unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC) != 0:
            raise OSError(ctypes.get_errno(), f"unshare: {os.strerror(ctypes.get_errno())}")
        os.write(ready_to, b"u")
        if os.read(go, 1) != b"g":
            raise OSError("the launcher did not map the namespace's users")
        init = os.fork()
        if init == 0:
            os._exit(_init(world, plan, program, workdir, report_to))
        os._exit(os.waitstatus_to_exitcode(os.waitpid(init, 0)[1]) & 0xFF)
    except BaseException:
        traceback.print_exc()
        with contextlib.suppress(OSError):
            _report(report_to, "sandbox error", f"the sandbox could not start: {sys.exc_info()[1]}")
        os._exit(SETUP_FAILED_EXIT_CODE)


def _map_users(pid, user):
    """Map the namespace's root to this user and, for a root grader, ``user`` to itself."""
    uid, gid = os.geteuid(), os.getegid()
    extra = f"{user} {user} 1\n" if user is not None else ""
    if user is None:
        Path(f"/proc/{pid}/setgroups").write_text("deny")
    Path(f"/proc/{pid}/uid_map").write_text(f"0 {uid} 1\n{extra}")
    Path(f"/proc/{pid}/gid_map").write_text(f"0 {gid} 1\n{extra}")


def _init(world, plan, program, workdir, report_to):
    """The PID namespace's init: build the world, start the unprivileged process, reap orphans; its exit code."""
    _libc().prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # and with it the whole PID namespace
    try:
        home = enter_world(world)
    except OSError as error:  # the grader's problem, not the student's: say so
        _report(report_to, "sandbox error", f"the sandbox could not build its read-only world: {error}")
        return SETUP_FAILED_EXIT_CODE
    environment = {**plan.environment, "HOME": home, "MPLCONFIGDIR": f"{home}/matplotlib",
                   "IPYTHONDIR": f"{home}/ipython", **SANDBOXED_ENVIRONMENT}
    kernel = os.fork()
    if kernel == 0:
        try:
            drop_privileges(world.user)
            program(workdir, environment)
        except BaseException as error:
            _report(report_to, "sandbox error", f"the sandbox could not drop its privileges: {error}")
            os._exit(SETUP_FAILED_EXIT_CODE)
    while True:
        pid, status = os.wait()
        if pid == kernel:
            code = os.waitstatus_to_exitcode(status)
            if code < 0:
                _report(report_to, *_signal_ending(plan.limits, -code))
            return code & 0xFF


def _limit_child(limits, cgroup):
    """In the child before exec: resource limits, cgroup, and death when the launcher dies."""
    memory, cpu = limits["memory_bytes"], limits["cpu_seconds"]
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits["file_bytes"], limits["file_bytes"]))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if os.geteuid() != 0:
        running = _processes_of_this_user()
        resource.setrlimit(resource.RLIMIT_NPROC, (running + limits["processes"],) * 2)
    if cgroup is not None:
        (cgroup / "cgroup.procs").write_text(str(os.getpid()))
    _libc().prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _processes_of_this_user():
    """Processes and threads of the current user now (RLIMIT_NPROC counts all of them)."""
    uid, count = os.getuid(), 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        except OSError:
            continue
        if int(fields.get("Uid", "-1").split()[0]) == uid:
            count += int(fields.get("Threads", "1"))
    return count


def _make_pids_cgroup(plan, processes):
    """A fresh pids cgroup allowing ``processes`` tasks, or None when the plan has no cgroup root."""
    if plan.pids_cgroup_root is None:
        return None
    cgroup = Path(tempfile.mkdtemp(prefix=plan.cgroup_prefix, dir=plan.pids_cgroup_root))
    (cgroup / "pids.max").write_text(str(processes))
    return cgroup


def _wait(pid, seconds, launcher=None):
    """The exit code of ``pid``; None if it still runs after ``seconds``; :data:`ABANDONED` if ``launcher`` became readable first."""
    handle = os.pidfd_open(pid)
    try:
        ready = select.select([handle, *([] if launcher is None else [launcher])], [], [], seconds)[0]
        if not ready:
            return None
        if handle not in ready:
            return ABANDONED
        return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    finally:
        os.close(handle)


def _forward_termination(child, plan):
    """When Jupyter asks the launcher to stop, stop the kernel and everything it started."""
    def stop(signum, frame):
        _kill_everything(child, plan)
        sys.exit(128 + signum)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # interrupts reach the kernel as messages


def _kill_everything(child, plan):
    """Kill the kernel and what it started: its PID namespace dies with it, else its process group."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(child, signal.SIGKILL) if plan.namespaces else os.killpg(child, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(child, 0)


def _signal_ending(limits, signum):
    """``(kind, reason)`` of a kernel killed by a signal (SIGXCPU of the CPU limit, SIGKILL...)."""
    name = signal.Signals(signum).name
    reasons = {"SIGXCPU": f"the notebook used more than {limits['cpu_seconds']} s of CPU time",
               "SIGXFSZ": f"the notebook wrote a file larger than {limits['file_bytes']} bytes"}
    return name, reasons.get(name, f"the kernel was killed by {name}")


def _record_abnormal_exit(plan, code):
    """Record an exit by a signal of a kernel started without namespaces (so the grader can explain it)."""
    if code < 0:
        _record_ending(plan, *_signal_ending(plan.limits, -code))


def _report(report_to, kind, reason):
    """Send ``{"kind", "reason"}`` to the launcher outside (one JSON line)."""
    os.write(report_to, (json.dumps({"kind": kind, "reason": reason}) + "\n").encode())


def _read_all(fd):
    """What is left in a pipe whose writers are gone (non-blocking), as text; closes it."""
    os.set_blocking(fd, False)
    chunks = []
    with contextlib.suppress(BlockingIOError):
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
    os.close(fd)
    return b"".join(chunks).decode(errors="replace")


def _record_ending(plan, kind, reason):
    """Write ``{"kind", "reason"}`` into the plan's status folder (one file per ending)."""
    folder = Path(plan.status_dir)
    path = folder / f"{os.getpid()}-{len(list(folder.glob(f'{os.getpid()}-*.json')))}.json"
    path.write_text(json.dumps({"kind": kind, "reason": reason}))


def _libc():
    return ctypes.CDLL(None, use_errno=True)


if __name__ == "__main__":
    sys.exit(main())
