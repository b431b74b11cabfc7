"""The kernel launcher of the ``cs231kit-sandbox`` kernel spec (run as ``python -m`` by Jupyter).

Outside (the process Jupyter starts): applies the resource limits, starts the real kernel (through
``unshare`` when the plan says so), enforces the notebook's wall-clock limit, records why it
ended a kernel early, and removes the pids cgroup. Inside the namespaces (``--inside``): hides the
course's private paths under empty tmpfs mounts, then becomes the IPython kernel.

``--module NAME`` runs another Python module the same way instead of the kernel (the grader's
out-of-process verification, :mod:`cs231kit.grading.verify_child`).

Every process the student starts is in the kernel's PID namespace (or, without namespaces, its
process group and cgroup) and dies with it.
"""

import ctypes
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from .sandbox import SandboxPlan, remove_cgroup

MS_BIND, MS_MOVE, MS_REC, MS_NOSUID, MS_NODEV = 4096, 8192, 16384, 2, 4
PR_SET_PDEATHSIG, MNT_DETACH = 1, 2
WALL_CLOCK_EXIT_CODE = 124


KERNEL_MODULE = "ipykernel_launcher"


def main(argv=None):
    """Entry point: ``-m cs231kit.grading.sandbox_kernel [--inside] [--module NAME] <arguments>``."""
    argv = sys.argv[1:] if argv is None else list(argv)
    plan = SandboxPlan.from_environment()
    inside = argv[:1] == ["--inside"]
    argv = argv[1:] if inside else argv
    module, argv = (argv[1], argv[2:]) if argv[:1] == ["--module"] else (KERNEL_MODULE, argv)
    if inside:
        try:
            hide_paths(plan.hidden)
        except OSError as error:  # the grader's problem, not the student's: say so
            _record_ending(plan, "sandbox error", f"the sandbox could not hide the course files: {error}")
            return 1
        code = run_as_init([sys.executable, "-m", module, *argv])
        _record_abnormal_exit(plan, code)
        return code
    return run_kernel(plan, module, argv)


def run_as_init(command):
    """Be the PID namespace's init: start ``command``, reap every orphan, return its exit code.

    The kernel is not made init itself because init ignores signals it has no handler for, such
    as the ``SIGXCPU`` of the CPU-time limit.
    """
    # ipykernel would take its parent, this init (PID 1), for a dead one and quit; "1" turns its
    # parent polling off (the namespace ends with the launcher anyway) and keeps it quiet.
    os.environ["JPY_PARENT_PID"] = "1"
    kernel = os.fork()
    if kernel == 0:
        os.execv(command[0], command)
    while True:
        pid, status = os.wait()
        if pid == kernel:
            return os.waitstatus_to_exitcode(status)


def run_kernel(plan, module, args):
    """Start the sandboxed kernel (or ``module``), wait for it within the wall-clock limit, return its exit code."""
    limits = plan.limits
    cgroup = _make_pids_cgroup(plan, limits["processes"])
    workdir = working_copy(os.getcwd(), plan.work_parent)
    # Without namespaces the kernel gets its own process group, so that all of it can be killed.
    child = subprocess.Popen(kernel_command(plan, module, args), start_new_session=not plan.namespaces, cwd=workdir,
                             preexec_fn=lambda: _limit_child(limits, cgroup))
    _forward_termination(child, plan)
    try:
        code = child.wait(timeout=limits["wall_seconds"])
    except subprocess.TimeoutExpired:
        _record_ending(plan, "wall clock", f"the notebook ran longer than its {limits['wall_seconds']:g} s limit")
        code = WALL_CLOCK_EXIT_CODE
    else:
        if not plan.namespaces:  # with namespaces, the init inside records it (unshare hides the signal)
            _record_abnormal_exit(plan, code)
    finally:
        _kill_everything(child, plan)
        remove_cgroup(cgroup)
        shutil.rmtree(workdir, ignore_errors=True)
    return code


def working_copy(folder, parent):
    """A fresh copy of ``folder`` (the submission's files, as nbgrader laid them out) inside ``parent``."""
    workdir = Path(tempfile.mkdtemp(prefix="work-", dir=parent))
    shutil.copytree(folder, workdir, dirs_exist_ok=True, symlinks=True)
    return str(workdir)


def kernel_command(plan, module, args):
    """The command that runs ``python -m module args``, inside fresh namespaces when the plan allows them."""
    if not plan.namespaces:
        return [sys.executable, "-m", module, *args]
    return ["unshare", "--user", "--map-root-user", "--pid", "--fork", "--kill-child", "--mount", "--net",
            "--mount-proc", sys.executable, "-m", __spec__.name, "--inside", "--module", module, *args]


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


def _forward_termination(child, plan):
    """When Jupyter asks the launcher to stop, stop the kernel and everything it started."""
    def stop(signum, frame):
        _kill_everything(child, plan)
        sys.exit(128 + signum)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # interrupts reach the kernel as messages


def _kill_everything(child, plan):
    """Kill the kernel and what it started: its PID namespace dies with it, else its process group."""
    if plan.namespaces:
        _signal(child.pid, signal.SIGKILL)
    else:
        try:
            os.killpg(child.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    child.wait()


def _signal(pid, signum):
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


def _record_abnormal_exit(plan, code):
    """Record a kernel killed by a signal (SIGXCPU of the CPU limit, SIGKILL...) so the grader can explain it."""
    if code >= 0:
        return
    name = signal.Signals(-code).name
    reason = {"SIGXCPU": f"the notebook used more than {plan.limits['cpu_seconds']} s of CPU time",
              "SIGXFSZ": f"the notebook wrote a file larger than {plan.limits['file_bytes']} bytes"}
    _record_ending(plan, name, reason.get(name, f"the kernel was killed by {name}"))


def _record_ending(plan, kind, reason):
    """Write ``{"kind", "reason"}`` into the plan's status folder (one file per launcher)."""
    path = Path(plan.status_dir) / f"{os.getpid()}.json"
    path.write_text(json.dumps({"kind": kind, "reason": reason}))


def hide_paths(hidden):
    """Mount an empty tmpfs over each hidden path, keeping the listed paths inside it visible.

    Runs inside the new mount namespace, so the grader's view of the files is unchanged.

    Parameters
    ----------
    hidden : list of [str, list of str]
        ``[path, [visible path inside it, ...]]`` pairs.
    """
    staging = Path(tempfile.mkdtemp(prefix="cs231kit-keep-"))  # outside every hidden path
    _mount("tmpfs", str(staging), "tmpfs", MS_NOSUID | MS_NODEV)
    for n, (path, visible) in enumerate(hidden):
        kept = [_stage(Path(v), staging / f"{n}-{i}") for i, v in enumerate(visible) if Path(v).exists()]
        if Path(path).is_dir():
            _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV)
        else:
            _mount("/dev/null", path, None, MS_BIND)
        for original, staged in kept:
            _restore(staged, original)
    _libc().umount2(str(staging).encode(), MNT_DETACH)
    staging.rmdir()


def _stage(original, staged):
    """Bind ``original`` to a staging place before its parent is hidden."""
    staged.mkdir() if original.is_dir() else staged.touch()
    _mount(str(original), str(staged), None, MS_BIND | MS_REC)
    return original, staged


def _restore(staged, original):
    """Move a staged mount back to its original path inside the fresh tmpfs."""
    original.parent.mkdir(parents=True, exist_ok=True)
    original.mkdir() if staged.is_dir() else original.touch()
    _mount(str(staged), str(original), None, MS_MOVE)


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def _mount(source, target, fstype, flags):
    """mount(2); raises OSError with the paths on failure."""
    encode = (lambda s: s.encode() if s is not None else None)
    if _libc().mount(encode(source), encode(target), encode(fstype), ctypes.c_ulong(flags), None) != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"mount {source} on {target}: {os.strerror(error)}")


if __name__ == "__main__":
    sys.exit(main())
