"""The sandbox that student code runs in while nbgrader grades it, built from OS primitives.

nbgrader runs a submission in a Jupyter kernel. The kit replaces that kernel by a launcher (the
``cs231kit-sandbox`` kernel spec, see :mod:`cs231kit.grading.sandbox_kernel`) that starts the real
kernel with:

- resource limits: address space (memory), CPU time, file size, number of processes (an
  ``RLIMIT_NPROC`` for ordinary users; root is exempt from it, so for root a ``pids`` cgroup);
- a wall-clock limit for the whole notebook (nbgrader only has one per cell);
- where the kernel allows user namespaces: its own PID namespace (every process the student
  started dies with the kernel), no network (a namespace with no interface up; kernel and grader
  talk over Unix sockets), and a read-only world (:mod:`cs231kit.grading.sandbox_world`): the
  whole filesystem read-only but the kernel's working copy, a private ``/tmp`` and ``$HOME``; the
  gradebook, the sources, the other submissions and the grader's scratch space hidden; student
  code unprivileged (``nobody`` when the grader is root) and without any capability.

What this machine allows is probed once, by running a probe in the sandbox and observing what it
can do, and reported (:func:`probe_isolation`, :func:`describe_isolation`): a grading report says
in one line which protections were missing, and ``cs231kit grade --require-isolation`` refuses to
grade without all of them.
"""

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from pathlib import Path

from .sandbox_start import ENVIRONMENT_VARIABLE

KERNEL_NAME = "cs231kit-sandbox"
KERNEL_MANAGER = "cs231kit.grading.sandbox_manager.SandboxKernelManager"
"""Stops the sandboxed kernel through its launcher, without ipykernel's graceful exit (named, not imported:
the launcher imports this module and must start fast)."""
PIDS_CGROUP_ROOTS = ("/sys/fs/cgroup/pids", "/sys/fs/cgroup")
UNIX_SOCKET_PATH_MAX = 107
SANDBOXED_ENVIRONMENT = {
    "TMPDIR": "/tmp",
    # ipykernel would take its parent, the init (PID 1), for a dead one and quit; "1" turns its parent
    # polling off (the namespace ends with the launcher anyway) and keeps it quiet.
    "JPY_PARENT_PID": "1",
}
"""Variables of every sandboxed process with namespaces (besides its home's), the same in every sandbox."""
INHERITED_VARIABLES = ("PATH", "HOME", "TMPDIR", "LANG", "LANGUAGE", "TZ")
"""Of the grader's own environment, what sandboxed processes keep (with every ``LC_*`` and what grading
sets, :func:`sandboxed_environment`): an instructor's tokens and keys never reach student code."""


@dataclass(frozen=True)
class Limits:
    """Resource limits of one graded notebook (set them in ``nbgrader_config.py`` as ``c.Sandbox.<name>``).

    Attributes
    ----------
    wall_seconds : float
        Wall-clock time for the whole notebook, kernel start included.
    cpu_seconds : int
        CPU time of the kernel process (each process it starts has the same limit).
    memory_bytes : int
        Address space of each process (numpy raises ``MemoryError`` beyond it).
    file_bytes : int
        Largest file a process may write.
    processes : int
        Processes and threads the student's code may have at once.
    verify_seconds : float
        Wall-clock time of the out-of-process verification of one submission.
    tmpfs_bytes : int
        Size of the private ``/tmp`` (which holds ``$HOME``) and of ``/dev/shm``.
    """

    wall_seconds: float = 600.0
    cpu_seconds: int = 600
    memory_bytes: int = 4 * 2**30
    file_bytes: int = 64 * 2**20
    processes: int = 64
    verify_seconds: float = 120.0
    tmpfs_bytes: int = 512 * 2**20

    @classmethod
    def from_config(cls, config):
        """Limits from the ``Sandbox`` section of a traitlets config (defaults for what is unset)."""
        section = config.get("Sandbox", {}) if config is not None else {}
        return cls(**{name: section[name] for name in cls.__dataclass_fields__ if name in section})


# Protection: (what it gives, what is missing without it), in the order reports list them.
PROTECTIONS = {
    "namespaces": ("own PID namespace, no network, course files hidden",
                   "no user namespaces (network not cut off, course files not hidden, "
                   "stray processes killed by process group only)"),
    "read_only_world": ("read-only world but a private scratch folder, /tmp and $HOME",
                        "filesystem writable (the Python installation, the course tree, $HOME and /tmp)"),
    "unprivileged_user": ("unprivileged user", "student code runs as root"),
    "no_capabilities": ("no capabilities", "student code keeps capabilities"),
    "process_limit": ("process limit", "root without a writable pids cgroup: number of processes not limited"),
}
PROBE_MODULE = "cs231kit.grading.sandbox_world"
FORKSERVER_MODULE = "cs231kit.grading.sandbox_forkserver"
START_MODULE = "cs231kit.grading.sandbox_start"
FORKSERVER_BACKLOG = 16


@lru_cache(maxsize=None)
def probe_isolation():
    """Return which protections of :data:`PROTECTIONS` the sandbox has on this machine, as ``{name: bool}``.

    A probe runs in the sandbox (in namespaces if they can be made, else without) and reports
    what it can do: write the installation, its uid outside, its capabilities. ``process_limit``:
    the number of processes can be limited (``RLIMIT_NPROC`` for non-root users, a writable
    ``pids`` cgroup for root).
    """
    process_limit = os.geteuid() != 0 or _pids_cgroup_root() is not None
    for namespaces in (True, False) if sys.platform == "linux" else (False,):
        observed = _observe_protections(namespaces)
        if observed is not None:
            return {"namespaces": namespaces, **observed, "process_limit": process_limit}
    return {**dict.fromkeys(PROTECTIONS, False), "process_limit": process_limit}


def missing_protections(isolation):
    """Names of the protections of :data:`PROTECTIONS` that ``isolation`` lacks."""
    return [name for name in PROTECTIONS if not isolation.get(name)]


def describe_isolation(isolation):
    """One line for reports: what the sandbox enforced and which protections this machine did not allow."""
    missing = missing_protections(isolation)
    enforced = [PROTECTIONS[name][0] for name in PROTECTIONS if name not in missing]
    line = "sandbox: " + ", ".join(["memory, CPU-time, file-size and wall-clock limits", *enforced])
    return line + ("; MISSING: " + "; ".join(PROTECTIONS[name][1] for name in missing) if missing else "")


def _observe_protections(namespaces):
    """What the probe module reports from inside the sandbox (``{protection: bool}``), or None if it did not run."""
    with tempfile.TemporaryDirectory(prefix="cs231kit-probe-") as scratch:
        scratch = Path(scratch)
        for name in ("cwd", "out", "status", "work"):
            (scratch / name).mkdir()
        plan = SandboxPlan(asdict(Limits(wall_seconds=30)), [[str(scratch), []]], [], [str(scratch / "out")],
                           namespaces, None, "", str(scratch / "status"), str(scratch / "work"),
                           environment=sandboxed_environment(os.environ, {}))
        code = launch(plan, PROBE_MODULE, [scratch / "out" / "report.json"], scratch / "cwd", subprocess.DEVNULL)
        try:
            return json.loads((scratch / "out" / "report.json").read_text()) if code == 0 else None
        except (OSError, ValueError):
            return None


def launch(plan, module, args, cwd, stderr):
    """Run ``python -m module *args`` through the sandbox launcher with ``plan``; return its exit code.

    The launcher runs with ``-I``: nothing in ``cwd`` (the student's folder) is imported before the
    sandbox exists.
    """
    command = [sys.executable, "-I", "-m", START_MODULE, "--module", module, *map(str, args)]
    return subprocess.run(command, cwd=cwd, env={**os.environ, **plan.to_environment()},
                          stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr).returncode


@lru_cache(maxsize=None)
def _pids_cgroup_root():
    """A cgroup folder with the ``pids`` controller in which this process may create children, or None."""
    for root in PIDS_CGROUP_ROOTS:
        probe = Path(root) / f"cs231kit-probe-{os.getpid()}"
        try:
            probe.mkdir()
        except OSError:
            continue
        usable = (probe / "pids.max").exists()
        probe.rmdir()
        if usable:
            return root
    return None


@dataclass(frozen=True)
class SandboxPlan:
    """Everything the kernel launcher needs, passed to it in one environment variable.

    Attributes
    ----------
    limits : dict
        :class:`Limits` as a dict.
    hidden : list of [str, list of str]
        Folders (or files) to hide, each with the paths inside it that stay visible.
    readable : list of str
        Paths the sandboxed code must reach, read-only (the Python installation is added to them).
    writable : list of str
        Folders it may write besides its working copy (the kernel's socket folder...).
    namespaces : bool
        Use user, PID, mount and network namespaces.
    pids_cgroup_root : str or None
        Where to create the pids cgroup (root only).
    cgroup_prefix : str
        Name prefix of the cgroups of this sandbox (so that leftovers can be swept).
    status_dir : str
        Where the launcher writes why it ended a kernel (one JSON file per kernel).
    work_parent : str
        Where the launcher makes the kernel's working copy of the folder it was started in (outside
        the course tree; files the student's code writes vanish with it).
    home_template : str or None
        A folder of files the grader prepared (matplotlib's font list) that the launcher copies
        into the private ``$HOME`` of every sandbox.
    forkserver : str or None
        The Unix socket of the sandbox's fork server (:mod:`cs231kit.grading.sandbox_forkserver`),
        which starts the sandboxed process warm; None: the launcher starts it cold.
    environment : dict
        The whole environment of the sandboxed process (:func:`sandboxed_environment`), to which the
        launcher adds its private home's variables and :data:`SANDBOXED_ENVIRONMENT`.
    """

    limits: dict
    hidden: list
    readable: list
    writable: list
    namespaces: bool
    pids_cgroup_root: str | None
    cgroup_prefix: str
    status_dir: str
    work_parent: str
    home_template: str | None = None
    forkserver: str | None = None
    environment: dict = field(default_factory=dict)

    def to_environment(self):
        """``{ENVIRONMENT_VARIABLE: json}`` for the kernel's environment."""
        return {ENVIRONMENT_VARIABLE: json.dumps(asdict(self))}

    @classmethod
    def from_environment(cls, environ=os.environ):
        """The plan the grader put into the environment."""
        return cls(**json.loads(environ[ENVIRONMENT_VARIABLE]))


def sandboxed_environment(environ, own):
    """The whole environment of a sandboxed process (its launcher adds its home's variables).

    Parameters
    ----------
    environ : mapping
        The grader's environment, of which only :data:`INHERITED_VARIABLES`, every ``LC_*`` and what
        grading sets (:data:`~cs231kit.grading.session.GRADING_ENVIRONMENT` and the course's dataset,
        :func:`~cs231kit.data.dataset_environment`) are kept.
    own : dict
        The sandbox's own variables, added last.

    Returns
    -------
    dict of str
    """
    from ..data import DATA_DIR_ENV, DATASET_ENV, OFFLINE_CACHE_ENV
    from .session import GRADING_ENVIRONMENT

    granted = {*INHERITED_VARIABLES, *GRADING_ENVIRONMENT, DATASET_ENV, DATA_DIR_ENV, OFFLINE_CACHE_ENV}
    return {**{name: value for name, value in environ.items() if name in granted or name.startswith("LC_")}, **own}


def hidden_course_paths(root, keep=()):
    """Paths of the course that student code must not see, each with what stays visible inside it.

    Hidden: the sources (``solutions/``), ``.git``, and all of ``autograder/`` (gradebook, other
    submissions, feedback, reports, simulated students, and the checks with their reference
    implementations: the hidden tests the kernel runs are the verification's verdicts, see
    :mod:`cs231kit.grading.verdicts`).
    """
    root = Path(root).resolve()
    hidden = [[str(root / "solutions"), []], [str(root / ".git"), []], [str(root / "autograder"), []]]
    return [[path, visible] for path, visible in hidden if Path(path).exists()] + [list(k) for k in keep]


def verification_hidden_paths(root, keep=()):
    """What the out-of-process verification must not see: the whole course tree.

    Only the package source (``src/``, for editable installs), ``autograder/verify/``, the hidden
    inputs the probes share with the checks (``autograder/checks/cases/``) and the Python
    installation stay visible where they lie inside the course.
    """
    root = Path(root).resolve()
    candidates = [root / "src", root / "autograder" / "verify", root / "autograder" / "checks" / "cases",
                  Path(sys.prefix), Path(sys.base_prefix)]
    inside = sorted({str(Path(p).resolve()) for p in candidates if root in Path(p).resolve().parents})
    return [[str(root), [p for p in inside if Path(p).exists()]]] + [list(k) for k in keep]


class KernelSandbox:
    """A private scratch space and the nbgrader configuration that makes kernels start sandboxed.

    Use as a context manager around one or more ``NbGraderAPI.autograde`` calls of one process:
    it writes the ``cs231kit-sandbox`` kernel spec, sets the kernel's environment, and yields the
    config overrides (``Execute.kernel_name`` and, with namespaces, Unix-socket transport).

    Parameters
    ----------
    root : str or Path
        Course root (its private files are hidden from the kernel).
    limits : Limits
    scratch_parent : str or Path, optional
        Where to create the scratch folder; the folder's siblings are hidden from the kernel, so
        parallel workers that share a parent cannot see each other's kernels.
    hidden : sequence of str or Path, optional
        More paths outside the course to hide (e.g. the unpacked Gradescope autograder).
    shared : sequence of str or Path, optional
        Files the grader prepared for every sandbox (the batch's dataset): visible, read-only, to
        kernels and verification children, even inside a hidden folder such as ``scratch_parent``.
    """

    def __init__(self, root, limits, scratch_parent=None, hidden=(), shared=()):
        self.root, self.limits, self.scratch_parent = Path(root), limits, scratch_parent
        self.hidden = [Path(p) for p in hidden if Path(p).exists()]
        self.shared = [str(Path(p).resolve()) for p in shared]
        self.isolation = probe_isolation()

    def __enter__(self):
        self._scratch = tempfile.TemporaryDirectory(prefix="kernel-", dir=self.scratch_parent)
        scratch = Path(self._scratch.name)
        for name in ("kernels", "runtime", "ipc", "status", "home", "work"):
            (scratch / name).mkdir()
        self.status_dir = scratch / "status"
        _write_kernel_spec(scratch / "kernels" / KERNEL_NAME)
        _copy_font_cache(scratch / "home" / "matplotlib")
        # Of the scratch space, the kernel sees its socket folder only (emptied for each kernel) and its
        # connection file: the launcher finds both in the connection file.
        private = [[str(scratch.parent if self.scratch_parent else scratch), []]]
        private += [[str(p), []] for p in [*_jupyter_runtime_dirs(), *self.hidden]]
        self._cgroups = (_pids_cgroup_root() if os.geteuid() == 0 else None, f"cs231kit-{scratch.name}-")
        # The kernel runs outside the course tree: the hidden tests find the course through this variable.
        own = {"CS231KIT_COURSE_ROOT": str(self.root.resolve()), "JUPYTER_PATH": str(scratch),
               "JUPYTER_RUNTIME_DIR": str(scratch / "runtime"), "MPLCONFIGDIR": str(scratch / "home" / "matplotlib"),
               "IPYTHONDIR": str(scratch / "home" / "ipython")}
        plan = SandboxPlan(asdict(self.limits), hidden_course_paths(self.root, private),
                           [str(self.root.resolve()), *self.shared], [],
                           self.isolation["namespaces"], *self._cgroups, str(self.status_dir), str(scratch / "work"),
                           str(scratch / "home"), environment=sandboxed_environment(os.environ, own))
        listener = _forkserver_socket(scratch / "forkserver") if plan.namespaces else None
        if listener is not None:
            plan = replace(plan, forkserver=listener.getsockname())
        self._isolated_plan = replace(plan, limits={**plan.limits, "wall_seconds": self.limits.verify_seconds},
                                      hidden=verification_hidden_paths(self.root, private), readable=self.shared,
                                      writable=[])
        self.environment = {**plan.to_environment(), **own}
        self.config = {"Execute": {"kernel_name": KERNEL_NAME, "kernel_manager_class": KERNEL_MANAGER}}
        if plan.namespaces:
            # No network in the kernel's namespace: kernel and grader talk over Unix sockets.
            self.config["KernelManager"] = {"transport": "ipc", "ip": _socket_prefix(scratch / "ipc")}
        # Started last, with the environment its sandboxed processes get (and no other: the server's first
        # environment stays in the memory they are forked from); some modules read it at import (ipykernel
        # reads JPY_PARENT_PID).
        environment = {**plan.environment, **SANDBOXED_ENVIRONMENT}
        self._forkserver = listener and _start_forkserver(listener, environment, scratch)
        return self

    def __exit__(self, *exc):
        if self._forkserver:
            self._forkserver.kill()  # its children, and with them their sandboxes, die with it
            self._forkserver.wait()
        cgroup_root, prefix = self._cgroups
        for leftover in Path(cgroup_root).glob(f"{prefix}*") if cgroup_root else ():
            remove_cgroup(leftover)  # a launcher that was killed could not remove its own
        self._scratch.cleanup()

    @property
    def scratch(self):
        """This sandbox's private scratch folder (hidden from the code it runs, but the folders it is given)."""
        return Path(self._scratch.name)

    def run_module(self, module, args, cwd):
        """Run ``python -m module *args`` under the limits, in namespaces, with the whole course hidden.

        The wall-clock limit is ``Limits.verify_seconds``; standard output is discarded. ``cwd`` is
        the only folder outside its private ``/tmp`` that the module may write (its arguments name
        files there).

        Returns
        -------
        exit_code : int
        endings : list of dict
            Why the sandbox stopped it early, if it did (see :meth:`endings`).
        stderr_tail : str
            The last 2000 characters of its standard error.
        """
        status = Path(tempfile.mkdtemp(prefix="status-", dir=self.scratch))
        plan = replace(self._isolated_plan, status_dir=str(status), writable=[str(cwd)])
        try:
            with open(status / "stderr", "w+b") as stderr:  # a file: the output may be huge
                code = launch(plan, module, args, cwd, stderr)
                stderr.seek(max(0, stderr.seek(0, os.SEEK_END) - 2000))
                tail = stderr.read().decode(errors="replace")
            return code, [json.loads(p.read_text()) for p in sorted(status.glob("*.json"))], tail
        finally:
            shutil.rmtree(status, ignore_errors=True)

    def endings(self):
        """``[{"reason": ..., ...}]``: why the launcher ended kernels early (wall clock, signals)."""
        return [json.loads(p.read_text()) for p in sorted(self.status_dir.glob("*.json"))]

    def clear_endings(self):
        """Forget the recorded endings (call before grading the next submission)."""
        for path in self.status_dir.glob("*.json"):
            path.unlink()


def _forkserver_socket(path):
    """A listening Unix socket at ``path`` for the fork server (bound here, so no launcher can come too early)."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(_checked_socket_path(path))
    listener.listen(FORKSERVER_BACKLOG)
    return listener


def _start_forkserver(listener, environment, cwd):
    """Start the fork server on ``listener`` (then closed here); the ``Popen`` of the server."""
    with listener:
        return subprocess.Popen([sys.executable, "-I", "-m", FORKSERVER_MODULE, str(listener.fileno())],
                                env=environment, cwd=cwd, stdin=subprocess.DEVNULL, pass_fds=[listener.fileno()])


def _socket_prefix(folder):
    """The prefix of the kernel's Unix socket paths (``<prefix>-<n>``), checked against the length limit."""
    return _checked_socket_path(folder / "k", suffix_bytes=8)


def _checked_socket_path(path, suffix_bytes=0):
    """``path`` as a string, if it (with ``suffix_bytes`` more) fits a Unix socket address; else OSError with advice."""
    if len(str(path)) + suffix_bytes > UNIX_SOCKET_PATH_MAX:
        raise OSError(f"the sandbox's socket folder {path.parent} has too long a path for Unix sockets "
                      f"({UNIX_SOCKET_PATH_MAX} bytes): set TMPDIR to a shorter folder")
    return str(path)


def remove_cgroup(cgroup):
    """Kill every process left in a cgroup, then remove it (no-op for None)."""
    if cgroup is None:
        return
    for _ in range(50):
        pids = [int(p) for p in (Path(cgroup) / "cgroup.procs").read_text().split()]
        if not pids:
            break
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.02)
    with contextlib.suppress(OSError):
        Path(cgroup).rmdir()


def _jupyter_runtime_dirs():
    """The user's Jupyter runtime folder (connection files of running kernels), if it exists."""
    from jupyter_core.paths import jupyter_runtime_dir

    path = Path(jupyter_runtime_dir())
    return [path] if path.is_dir() else []


def _copy_font_cache(folder):
    """Copy matplotlib's font list, built by the grader (trusted), into ``folder``: without it, every
    kernel's fresh ``$HOME`` would rebuild it, seconds each on a loaded machine."""
    import matplotlib
    import matplotlib.font_manager  # noqa: F401 (builds the font list if the grader has none yet)

    folder.mkdir(parents=True, exist_ok=True)
    for font_list in Path(matplotlib.get_cachedir()).glob("fontlist-*.json"):
        shutil.copyfile(font_list, folder / font_list.name)


def _write_kernel_spec(folder):
    """Write the kernel spec whose command is the sandbox launcher (interrupts go as messages)."""
    folder.mkdir(parents=True)
    # -I: Jupyter starts it in the submission's folder, whose files must not be imported.
    spec = {"argv": [sys.executable, "-I", "-m", START_MODULE, "-f", "{connection_file}"],
            "display_name": "Python 3 (cs231kit sandbox)", "language": "python", "interrupt_mode": "message"}
    (folder / "kernel.json").write_text(json.dumps(spec, indent=1))
