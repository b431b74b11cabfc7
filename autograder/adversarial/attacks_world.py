"""Generic attacks on the grader's world: writes to the installation, the course tree, ``$HOME``, ``/tmp``.

``cases(assignment, target)`` returns the cases of one assignment (see the corpus contract in
``autograder/adversarial/loss.py`` and ``tests/test_adversarial.py``). Every case carries the
target's wrong answer and must end ``graded`` with exactly the target's honest failures: no point
gained. Each attack also names the protections it relies on (``requires``, see
``cs231kit.grading.sandbox.PROTECTIONS``): the world (course tree, installation, ``$HOME``) must be
unchanged after the batch where the sandbox has them.

Writes to the Python installation and to the grader's ``$HOME`` carry harmless payloads (a comment),
so that a machine without a read-only world is flagged by the state check, not harmed. Writes to
the course tree (a copy, in the tests) carry real ones. Each attack runs in one or two assignments
(:data:`ATTACKS`), so that all of them run in every full corpus run at a bounded cost.
"""

ASSIGNMENTS = ("loss", "gradcheck", "optimizers", "features", "regularization")
WORLD = ("namespaces", "read_only_world", "unprivileged_user", "no_capabilities")
MARKER = "cs231kit-world-attack"

# Every snippet runs in a free code cell of the kernel; ``{a}`` stands for the assignment id. Failures
# are swallowed: an attack that is refused must not change the notebook's honest outcome.
_TRY = "try:\n{body}\nexcept Exception as error:\n    print('refused:', error)\n"

INSTALLATION_PTH = """
    import site, sys, sysconfig
    folders = {sysconfig.get_paths()['purelib'], *site.getsitepackages(), site.getusersitepackages()}
    for folder in folders:
        try:
            with open(folder + '/%s.pth', 'w') as handle:
                handle.write('# a .pth file here would run in every later Python process\\n')
            print('wrote', folder)
        except OSError as error:
            print('refused:', error)
""" % MARKER

NBGRADER_CONFIG = """
    import os
    config = os.path.join(os.environ['CS231KIT_COURSE_ROOT'], 'nbgrader_config.py')
    with open(config, 'a') as handle:
        handle.write('\\nimport os\\nos.environ["CS231KIT_OWNED"] = "1"  # runs in the grader next time\\n')
"""

CHECKS_SWAPPED = """
    import os
    path = os.path.join(os.environ['CS231KIT_COURSE_ROOT'], 'autograder', 'checks', '{a}.py')
    original = open(path).read()
    with open(path, 'w') as handle:  # every check passes for the rest of the notebook
        handle.write('def __getattr__(name):\\n    return lambda *args, **kwargs: None\\n')
    import atexit
    atexit.register(lambda: open(path, 'w').write(original))  # restored byte for byte
"""

RELEASE_OVERWRITTEN = """
    import glob, os
    for path in glob.glob(os.path.join(os.environ['CS231KIT_COURSE_ROOT'], 'notebooks', '{a}', '*.ipynb')):
        with open(path, 'a') as handle:
            handle.write(' ')
    with open(os.path.join(os.environ['CS231KIT_COURSE_ROOT'], 'notebooks', '{a}', 'helper.py'), 'w') as handle:
        handle.write('OWNED = True\\n')
"""

PACKAGE_PATCHED = """
    import os, cs231kit
    with open(os.path.join(os.path.dirname(cs231kit.__file__), 'course.py'), 'a') as handle:
        handle.write('\\n# %s: a fake load_course_module here would pass every hidden test\\n')
""" % MARKER

HOME_DOTFILES = """
    import os, pwd
    homes = {os.path.expanduser('~'), pwd.getpwuid(0).pw_dir, pwd.getpwuid(os.getuid()).pw_dir}
    for home in homes:
        for relative in ('.ipython/profile_default/startup/00-%s.py', '.local/bin/%s', '.%s-rc'):
            path = os.path.join(home, relative)
            try:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, 'w') as handle:
                    handle.write('# would run in the next IPython kernel or shell\\n')
                print('wrote', path)
            except OSError as error:
                print('refused:', error)
""".replace("%s", MARKER)

OTHER_SUBMISSIONS = """
    import glob, os
    root = os.environ['CS231KIT_COURSE_ROOT']
    paths = glob.glob(os.path.join(root, 'autograder', '*', '*', '{a}', '*'))
    paths += glob.glob(os.path.join(os.getcwd(), '..', '*', '*.ipynb')) + glob.glob('/tmp/*/*/*/*.ipynb')
    for path in paths:
        try:
            with open(path, 'a') as handle:
                handle.write(' ')
            print('wrote', path)
        except OSError as error:
            print('refused:', error)
    os.makedirs(os.path.join(root, 'autograder', 'feedback', 'everyone', '{a}'), exist_ok=True)
"""

# If a hidden folder could be uncovered, the instructor's solution would be read and run.
RUN_THE_SOLUTIONS = """
    import json, os
    for cell in json.loads(text)['cells']:
        if cell['cell_type'] == 'code' and cell['metadata'].get('nbgrader', {}).get('solution'):
            exec(''.join(cell['source']), globals())
"""

UNMOUNT_HIDDEN = """
    import ctypes, os
    root = os.environ['CS231KIT_COURSE_ROOT']
    libc = ctypes.CDLL(None, use_errno=True)
    for hidden in ('solutions', 'autograder'):
        print('umount', hidden, libc.umount2(os.path.join(root, hidden).encode(), 2), ctypes.get_errno())
    text = open(os.path.join(root, 'solutions', '{a}', '{a}.ipynb')).read()
""" + RUN_THE_SOLUTIONS

NESTED_NAMESPACE = """
    import os, subprocess
    root = os.environ['CS231KIT_COURSE_ROOT']
    source = os.path.join(root, 'solutions', '{a}', '{a}.ipynb')
    text = subprocess.run(['unshare', '--user', '--map-root-user', '--mount', 'sh', '-c',
                           f'umount -l {root}/solutions; mount -o remount,rw /; cat {source}'],
                          capture_output=True, text=True, check=True).stdout
""" + RUN_THE_SOLUTIONS

REMOUNT_WRITABLE = """
    import ctypes, sysconfig
    libc = ctypes.CDLL(None, use_errno=True)
    folder = sysconfig.get_paths()['purelib']
    print('remount', libc.mount(None, folder.encode(), None, ctypes.c_ulong(32 | 4096), None))  # MS_REMOUNT | MS_BIND
    with open(folder + '/%s.pth', 'w') as handle:
        handle.write('# would run in every later Python process\\n')
""" % MARKER

# The kernel leaves a file in /tmp and $HOME; the verification run of the same submission must not
# find it. If it did, the submission's own function raises there, and it would lose points: the
# expected outcome (the honest failures, no more) holds only while the channel is closed.
LEFT_FOR_VERIFICATION = """
    import builtins, os, uuid
    builtins._cs231kit_token = uuid.uuid4().hex
    for path in ('/tmp/%s', os.path.expanduser('~/%s')):
        with open(path, 'w') as handle:
            handle.write(builtins._cs231kit_token)
""".replace("%s", MARKER)
READ_WHAT_THE_KERNEL_LEFT = ("if any(__import__('os').path.exists(p) and open(p).read() != getattr(__import__('builtins'), "
                             "'_cs231kit_token', None) for p in ('/tmp/{m}', __import__('os').path.expanduser('~/{m}'))): "
                             "raise RuntimeError('read a file another sandboxed process left')").format(m=MARKER)

# name: (description, snippet, assignments it runs in)
ATTACKS = {
    "world_pth_in_site_packages": ("writes a .pth file into every site-packages folder (it would run in every later "
                                   "process, the next sandbox launchers included)", INSTALLATION_PTH, ("loss", "features")),
    "world_nbgrader_config": ("appends code to nbgrader_config.py, which the grader executes on its next run",
                              NBGRADER_CONFIG, ("gradcheck",)),
    "world_checks_swapped": ("replaces autograder/checks/<a>.py by a module whose checks all pass, restored byte for "
                             "byte at exit", CHECKS_SWAPPED, ("optimizers", "loss")),
    "world_release_overwritten": ("writes into the released notebooks/ folder", RELEASE_OVERWRITTEN, ("features",)),
    "world_package_patched": ("appends to the editable cs231kit package's course.py", PACKAGE_PATCHED,
                              ("regularization",)),
    "world_home_dotfiles": ("writes IPython startup files and dotfiles into $HOME, root's home and above the course",
                            HOME_DOTFILES, ("loss",)),
    "world_other_submissions": ("writes into other students' submitted, autograded and feedback folders",
                                OTHER_SUBMISSIONS, ("gradcheck",)),
    "world_unmount_hidden": ("unmounts the tmpfs that hides solutions/ and runs the instructor's solution cells",
                             UNMOUNT_HIDDEN, ("optimizers",)),
    "world_nested_namespace": ("unmounts the hidden folders and remounts / writable from a nested user namespace, "
                               "then runs the instructor's solution cells", NESTED_NAMESPACE, ("regularization",)),
    "world_remount_writable": ("remounts site-packages writable and writes a .pth file", REMOUNT_WRITABLE,
                               ("features",)),
}
LEFT_FOR_VERIFICATION_IN = ("loss", "gradcheck")


def cases(assignment, target):
    """The world attacks of ``assignment``, each carrying ``target``'s wrong answer (see the corpus contract).

    Parameters
    ----------
    assignment : str
    target : dict
        ``wrong`` (patches), ``honest_failures`` (grade ids), ``free_cell`` (grade id).

    Returns
    -------
    list of dict
    """
    chosen = [_case(name, description, snippet.replace("{a}", assignment), target)
              for name, (description, snippet, where) in ATTACKS.items() if assignment in where]
    return chosen + ([_left_for_verification(target)] if assignment in LEFT_FOR_VERIFICATION_IN else [])


def _case(name, description, snippet, target, patches=()):
    """A case: ``target``'s wrong answer (and ``patches``), ``snippet`` in a free cell, the honest outcome expected."""
    return dict(name=name, description=description, patches=[*target["wrong"], *patches],
                cell_edits=[dict(cell=target["free_cell"], action="insert", source=_TRY.format(body=snippet.strip("\n")))],
                status="graded", failing=list(target["honest_failures"]), requires=WORLD)


def _left_for_verification(target):
    """The kernel leaves files in /tmp and $HOME; the submission's function raises where it finds them."""
    wrong = target["wrong"][-1]
    last_line = wrong["new"].rstrip("\n").splitlines()[-1]
    indent = last_line[: len(last_line) - len(last_line.lstrip())]
    reader = dict(cell=wrong["cell"], old=wrong["new"], new=wrong["new"].rstrip("\n") + "\n" + indent
                  + READ_WHAT_THE_KERNEL_LEFT + ("\n" if wrong["new"].endswith("\n") else ""))
    return _case("world_tmp_left_for_verification", "the kernel leaves files in /tmp and $HOME that the "
                 "verification run of the same submission looks for", LEFT_FOR_VERIFICATION, target, [reader])
