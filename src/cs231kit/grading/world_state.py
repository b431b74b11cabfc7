"""The state check around a grading batch: what student code must never change is unchanged after it.

The sandbox makes the world read-only (:mod:`cs231kit.grading.sandbox_world`); this check is the
second line: before and after a batch the grader takes a fingerprint of

- the course tree, by content (sha256), without the grader's own outputs (gradebook, autograded
  and feedback folders, reports) and bytecode caches (the grader's imports rewrite them);
- the Python installation (``sys.prefix``, ``sys.base_prefix``, the site folders), by metadata
  (type and mode, size, mtime, ctime, inode, link target): a ``.pth`` file added or a module
  replaced shows, at a fraction of the cost of hashing tens of thousands of files;
- the grader's ``$HOME``: its top-level files and the folders whose files run in later processes
  (user site-packages, IPython startup files, Jupyter and matplotlib configuration), by metadata.

Not ``/tmp``: Jupyter's connection files of every kernel, the grader's own among them, come and
go there during a batch; student code writes only a private ``/tmp`` (where namespaces exist).
Any difference flags the batch (:func:`world_changes`).
"""

import hashlib
import os
import stat
import sys
from pathlib import Path

from .sandbox_world import python_paths

GRADER_OUTPUTS = ("autograder/autograded", "autograder/feedback", "autograder/reports", "autograder/gradebook.db",
                  "autograder/gradebook.db-journal", ".git")
SKIPPED_FOLDERS = ("__pycache__",)
WATCHED_IN_HOME = (".local/lib", ".local/bin", ".ipython/profile_default/startup", ".jupyter", ".config/matplotlib",
                   ".config/ipython")


def world_fingerprint(root):
    """``{path: token}`` of the files student code must not change (see the module docstring).

    Parameters
    ----------
    root : str or Path
        Course root.
    """
    root = Path(root).resolve()
    installation = _installation(root)
    fingerprint = {}
    for folder in installation:
        fingerprint.update(_tree(folder, _metadata))
    fingerprint.update(_tree(root, _content, skip={root / p for p in GRADER_OUTPUTS} | set(installation)))
    home = Path.home()
    fingerprint.update(_top_files(home))
    for watched in WATCHED_IN_HOME:
        fingerprint.update(_tree(home / watched, _metadata))
    return fingerprint


def world_changes(before, after):
    """``["<path> (added|removed|changed)", ...]``, sorted: how two fingerprints differ."""
    changes = [f"{p} (removed)" for p in before if p not in after]
    changes += [f"{p} (added)" for p in after if p not in before]
    changes += [f"{p} (changed)" for p in before if p in after and before[p] != after[p]]
    return sorted(changes)


def _installation(root):
    """The folders of the Python installation, outermost only; those in the course but the environment are left
    to the course's content hash (an editable source, for example)."""
    prefix = Path(sys.prefix).resolve()
    folders = {Path(p).resolve() for p in (sys.prefix, sys.base_prefix, *python_paths())}
    return _outermost({f for f in folders if f == prefix or prefix in f.parents or not (f == root or root in f.parents)})


def _tree(top, token, skip=()):
    """``{path: token}`` of every entry below ``top`` (symbolic links not followed), minus ``skip``.

    A folder's token is its mode only (what it holds is listed entry by entry); a file's is
    ``token(path, lstat result)``.
    """
    found, folders, skip = {}, [str(top)], {str(p) for p in skip}
    while folders:
        for entry in _entries(folders.pop()):
            if entry.path in skip or entry.name in SKIPPED_FOLDERS:
                continue
            info = entry.stat(follow_symlinks=False)
            if stat.S_ISDIR(info.st_mode):
                found[entry.path] = ("folder", info.st_mode)
                folders.append(entry.path)
            else:
                found[entry.path] = token(entry.path, info)
    return found


def _top_files(folder):
    """``{path: metadata}`` of the entries of ``folder`` that are not folders."""
    return {e.path: _metadata(e.path, e.stat(follow_symlinks=False)) for e in _entries(folder)
            if not e.is_dir(follow_symlinks=False)}


def _entries(folder):
    try:
        with os.scandir(folder) as entries:
            return list(entries)
    except OSError:
        return []


def _metadata(path, info):
    """Type and mode, size, mtime, ctime and inode of ``path``, and its target if it is a link."""
    target = os.readlink(path) if stat.S_ISLNK(info.st_mode) else None
    return (info.st_mode, info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino, target)


def _content(path, info):
    """sha256 of a regular file's bytes (metadata of anything else)."""
    if not stat.S_ISREG(info.st_mode):
        return _metadata(path, info)
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(2**20), b""):
                digest.update(block)
    except OSError:
        return None
    return digest.hexdigest()


def _outermost(paths):
    """``paths`` without those inside another one, sorted."""
    return sorted(p for p in paths if not any(q in p.parents for q in paths))
