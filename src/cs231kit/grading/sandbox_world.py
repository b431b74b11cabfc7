"""The read-only world of the grading sandbox: mounts and privileges inside its namespaces.

Student code (a notebook's kernel, the out-of-process verification) sees the whole filesystem
read-only. It may write only its scratch folders and a private ``/tmp`` (holding its ``$HOME``)
and ``/dev/shm``: fresh tmpfs mounts that vanish with it. Hidden paths (the course's private
files, the grader's scratch space, the grader's home) are covered by empty read-only tmpfs
mounts, with the paths the code needs inside them bound back read-only.

The launcher (:mod:`cs231kit.grading.sandbox_kernel`) computes a :class:`World` outside the
namespaces (:func:`plan_world`); inside them, as the namespace's root, it applies it
(:func:`enter_world`) and drops every privilege (:func:`drop_privileges`) in the process that
then becomes the student's code. Mounts made in a namespace can be undone by a process with
capabilities in it, so student code keeps none: it runs as ``nobody`` where the grader is root,
with an empty capability bounding set, ``SECBIT_NOROOT`` locked and ``no_new_privs``.

Run as a module (``python -m cs231kit.grading.sandbox_world REPORT``), it writes what the code it
runs can do, as observed from inside: the probe of :func:`cs231kit.grading.sandbox.probe_isolation`.
"""

import ctypes
import errno
import json
import os
import stat
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

SANDBOX_USER = 65534  # nobody / nogroup: the uid and gid student code runs as when the grader is root
PRIVATE_TMP, PRIVATE_SHM = "/tmp", "/dev/shm"
PRIVATE_HOME = "/tmp/home"

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT = 1, 2, 4, 8, 32
MS_NOSYMFOLLOW, MS_NOATIME, MS_NODIRATIME, MS_BIND, MS_REC = 256, 1024, 2048, 4096, 16384
MS_PRIVATE, MS_RELATIME, MS_STRICTATIME = 1 << 18, 1 << 21, 1 << 24
# Per-mount options that a read-only remount must keep (locked ones cannot be cleared in a user namespace).
KEPT_MOUNT_OPTIONS = {"nosuid": MS_NOSUID, "nodev": MS_NODEV, "noexec": MS_NOEXEC, "nosymfollow": MS_NOSYMFOLLOW,
                      "noatime": MS_NOATIME, "nodiratime": MS_NODIRATIME, "relatime": MS_RELATIME}
PR_CAPBSET_DROP, PR_SET_SECUREBITS, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 24, 28, 38, 47, 4
# SECBIT_NOROOT (+ locked), SECBIT_NO_SETUID_FIXUP locked off, SECBIT_KEEP_CAPS locked off,
# SECBIT_NO_CAP_AMBIENT_RAISE (+ locked): uid 0 gains nothing at exec, a uid change drops everything.
LOCKED_SECUREBITS = 0x01 | 0x02 | 0x08 | 0x20 | 0x40 | 0x80
LINUX_CAPABILITY_VERSION_3 = 0x20080522


@dataclass(frozen=True)
class World:
    """What the sandboxed code sees, computed outside its namespaces.

    Attributes
    ----------
    covers : tuple of (str, tuple of str)
        Paths covered by an empty tmpfs (parents first), each with the paths inside it bound back.
    writable : tuple of str
        Folders the code may write (besides the private ``/tmp`` and ``/dev/shm``).
    tmpfs_bytes : int
        Size of the private ``/tmp`` and ``/dev/shm``.
    user : int or None
        The uid and gid the code runs as inside; None: the namespace's root, which is the grader's
        own unprivileged uid outside.
    home_files : tuple of (str, bytes)
        Files to put into the private home (relative path, contents): caches the grader built,
        such as matplotlib's font list, so that no sandbox spends seconds rebuilding them.
    """

    covers: tuple
    writable: tuple
    tmpfs_bytes: int
    user: int | None
    home_files: tuple = ()


def plan_world(hidden, readable, writable, tmpfs_bytes, home_files=()):
    """The :class:`World` of one sandboxed process.

    Parameters
    ----------
    hidden : list of [str, list of str]
        Paths to hide, each with the paths inside it that stay visible.
    readable : sequence of str
        Paths the code must reach, read-only (the Python installation is added here).
    writable : sequence of str
        Folders the code may write (its working copy, the kernel's socket folder...).
    tmpfs_bytes : int
    home_files : sequence of (str, bytes), optional
        Files to put into the private home (see :class:`World`).
    """
    user = SANDBOX_USER if os.geteuid() == 0 else None
    needed = {_absolute(p) for p in [*readable, *writable, *python_paths()] + [v for _, kept in hidden for v in kept]}
    needed = {p for p in needed if os.path.exists(p)}
    home = _absolute(Path.home())  # the grader's dotfiles and credentials
    covered = {PRIVATE_TMP, PRIVATE_SHM, *(_absolute(p) for p, _ in hidden), *([home] if home != "/" else [])}
    if user is not None:  # nobody must traverse every folder above what it needs
        covered |= {str(a) for p in needed for a in Path(p).parents if a != Path("/") and not _others_traverse(a)}
    covered = {p for p in covered if os.path.exists(p) and p not in needed}  # what is needed is never covered
    covers = {path: _outermost(p for p in needed if Path(path) in Path(p).parents) for path in covered}
    ordered = sorted((p for p in covers if not _already_fresh(p, covers)), key=lambda p: len(Path(p).parts))
    return World(tuple((p, covers[p]) for p in ordered), tuple(_absolute(p) for p in writable), tmpfs_bytes, user,
                 tuple(home_files))


def python_paths():
    """Folders the Python interpreter and the installed packages are read from.

    The prefixes, the site folders and what their ``.pth`` files add (editable installs), not the
    rest of ``sys.path`` (the folder of the running script, a test runner's folders).
    """
    import site

    import cs231kit

    sites = [*site.getsitepackages(), site.getusersitepackages()]
    folders = {sys.prefix, sys.base_prefix, os.path.dirname(os.path.realpath(sys.executable)),
               str(Path(cs231kit.__file__).resolve().parents[1]), *sites}
    folders |= {line.strip() for folder in sites for pth in Path(folder).glob("*.pth") if os.path.isdir(folder)
                for line in _lines(pth) if line.strip() and not line.startswith(("#", "import"))}
    return sorted(p for p in folders if os.path.isdir(p))


def _lines(path):
    try:
        return path.read_text(errors="replace").splitlines()
    except OSError:
        return []


def _absolute(path):
    return os.path.realpath(path)


def _others_traverse(folder):
    """Whether a user who is neither owner nor group member may enter ``folder``."""
    try:
        return bool(os.stat(folder).st_mode & stat.S_IXOTH)
    except OSError:
        return False


def _outermost(paths):
    """``paths`` without those inside another one, sorted."""
    paths = sorted(set(paths))
    return tuple(p for p in paths if not any(Path(q) in Path(p).parents for q in paths))


def _already_fresh(path, covers):
    """Whether ``path`` lies in another cover and outside everything bound back there (a fresh folder already)."""
    return any(Path(outer) in Path(path).parents and not any(Path(k) == Path(path) or Path(k) in Path(path).parents
                                                               for k in kept)
               for outer, kept in covers.items())


# ------------------------------------------------------------------ inside the namespaces (as their root)


def enter_world(world):
    """Apply ``world`` to this (new) mount namespace: covers, writable folders, then read-only everything else.

    Returns
    -------
    str
        The private home folder (owned by the code's user).
    """
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    private = {PRIVATE_TMP: "mode=1777", PRIVATE_SHM: "mode=1777"}
    for path, kept in world.covers:
        options = private.get(path, "mode=755") + f",size={world.tmpfs_bytes if path in private else 2**20}"
        cover(path, kept, options)
    for folder in world.writable:
        _mount(folder, folder, None, MS_BIND)  # its own mount, left writable by make_read_only
    make_read_only(keep_writable={*private, *world.writable})
    os.mkdir(PRIVATE_HOME, 0o700)
    for relative, content in world.home_files:
        path = Path(PRIVATE_HOME, relative)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    if world.user is not None:
        for folder, names, files in os.walk(PRIVATE_HOME):
            for path in [folder, *(os.path.join(folder, n) for n in files)]:
                os.chown(path, world.user, world.user)
    return PRIVATE_HOME


def cover(path, kept, options):
    """Mount an empty tmpfs over ``path`` (``/dev/null`` over a file) and bind ``kept`` back into it.

    The kept paths are opened before they disappear under the tmpfs and bound back from their
    descriptors, so no staging folder is needed.
    """
    descriptors = [(k, os.open(k, os.O_PATH | os.O_CLOEXEC)) for k in kept]
    if os.path.isdir(path):
        _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, options)
    else:
        _mount("/dev/null", path, None, MS_BIND)
    for original, fd in descriptors:
        Path(original).parent.mkdir(parents=True, exist_ok=True)
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            os.makedirs(original, exist_ok=True)
        else:
            Path(original).touch()
        _mount(f"/proc/self/fd/{fd}", original, None, MS_BIND | MS_REC)
        os.close(fd)


def make_read_only(keep_writable):
    """Remount every visible mount read-only (bind remount, other options kept), except ``/proc`` and ``keep_writable``."""
    for mount_point, options in mounts():
        if mount_point in keep_writable or mount_point == "/proc" or mount_point.startswith("/proc/") or "ro" in options:
            continue
        flags = MS_REMOUNT | MS_BIND | MS_RDONLY | sum(KEPT_MOUNT_OPTIONS.get(o, 0) for o in options)
        if not {"noatime", "relatime"} & set(options):
            flags |= MS_STRICTATIME
        try:
            _mount(None, mount_point, None, flags)
        except OSError as error:
            # Covered or unreachable mounts (e.g. under a hidden folder) are out of the code's sight too.
            if error.errno not in (errno.ENOENT, errno.EINVAL, errno.EACCES):
                raise


def mounts():
    """``[(mount point, per-mount options)]`` of this mount namespace, from ``/proc/self/mountinfo``."""
    entries = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields = line.split()
        point = fields[4].encode().decode("unicode_escape")  # octal escapes such as \040 for a space
        entries.append((point, fields[5].split(",")))
    return entries


def drop_privileges(user):
    """Leave this process no way to undo the sandbox: no capabilities now or after exec, unprivileged uid.

    Parameters
    ----------
    user : int or None
        The uid and gid to become (None: stay the namespace's root, without any capability).
    """
    libc = _libc()
    for capability in range(int(Path("/proc/sys/kernel/cap_last_cap").read_text()) + 1):
        _check(libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0), "drop the capability bounding set")
    _check(libc.prctl(PR_SET_SECUREBITS, LOCKED_SECUREBITS, 0, 0, 0), "lock the securebits")
    _check(libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "clear the ambient capabilities")
    if user is not None:
        os.setgroups([])
        os.setresgid(user, user, user)
        os.setresuid(user, user, user)
    header = (ctypes.c_uint32 * 2)(LINUX_CAPABILITY_VERSION_3, 0)
    _check(libc.capset(header, (ctypes.c_uint32 * 6)()), "clear the capabilities")
    _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "set no_new_privs")


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def _check(result, what):
    if result != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"could not {what}: {os.strerror(error)}")


def _mount(source, target, fstype, flags, data=None):
    """mount(2); raises OSError with the paths on failure."""
    encode = (lambda s: s.encode() if s is not None else None)
    if _libc().mount(encode(source), encode(target), encode(fstype), ctypes.c_ulong(flags), encode(data)) != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"mount {source} on {target}: {os.strerror(error)}")


# ------------------------------------------------------------------ what the code can do, seen from inside


def observe_protections():
    """``{protection: bool}`` as this process sees them (run it in the sandbox).

    ``read_only_world``: the Python installation and the package source cannot be written, while
    the private ``/tmp`` and ``$HOME`` can. ``unprivileged_user``: this process is not root outside
    its namespace. ``no_capabilities``: no capability now or after exec, and ``no_new_privs``.
    """
    import cs231kit

    protected = {sys.prefix, sys.base_prefix, str(Path(cs231kit.__file__).parent)}
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    capabilities = [int(status[f"Cap{kind}"], 16) for kind in ("Inh", "Prm", "Eff", "Bnd", "Amb")]
    return {"read_only_world": not any(map(_can_write, protected)) and _can_write(tempfile.gettempdir())
            and _can_write(os.path.expanduser("~")),
            "unprivileged_user": _outside_uid(os.getuid()) != 0,
            "no_capabilities": not any(capabilities) and status["NoNewPrivs"].strip() == "1"}


def _can_write(folder):
    """Whether a file can be created in ``folder`` (it is removed again)."""
    try:
        fd, path = tempfile.mkstemp(prefix=".cs231kit-probe-", dir=folder)
    except OSError:
        return False
    os.close(fd)
    os.unlink(path)
    return True


def _outside_uid(uid):
    """The uid that ``uid`` of this user namespace is outside it (``/proc/self/uid_map``)."""
    for line in Path("/proc/self/uid_map").read_text().splitlines():
        inside, outside, count = map(int, line.split())
        if inside <= uid < inside + count:
            return outside + uid - inside
    return -1


if __name__ == "__main__":
    Path(sys.argv[1]).write_text(json.dumps(observe_protections()))
