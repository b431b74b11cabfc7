"""The ``cs231kit`` command: release, publish, grade, gradescope, demo and data.

Run ``cs231kit --help`` (or ``cs231kit <command> --help``) from inside the course folder.
"""

import argparse
import os
import sys
from pathlib import Path

from .course import find_course_root


def _course(args):
    return Path(args.course_dir).resolve() if args.course_dir else find_course_root()


def cmd_release(args):
    """Generate the student release of each assignment from its source notebook."""
    from .grading.release import release_all

    for path in release_all(_course(args), args.assignments or None):
        print(f"released {path}")
    return 0


def cmd_publish(args):
    """Write or update the student repository: releases, helper package, environment, Binder, README."""
    from .publish import publish

    assignments = [a for a in (args.assignments or "").split(",") if a]
    try:
        result = publish(_course(args), args.destination, assignments or None, git=args.git, binder_repo=args.binder)
    except FileNotFoundError as error:
        print(f"nothing published: {error}", file=sys.stderr)
        return 1
    print(f"published {', '.join(result.assignments)} to {result.destination}: "
          f"{len(result.written)} file(s) written, {len(result.removed)} removed")
    if args.git:
        print(f"committed {result.commit}" if result.commit else "nothing to commit: already up to date")
    return 0


def cmd_grade(args):
    """Autograde every submission of one assignment; write grades CSV, JSON report and feedback."""
    from .grading.autograde import grade_assignment
    from .grading.reports import class_summary, class_table, write_reports
    from .grading.sandbox import describe_isolation, missing_protections, probe_isolation
    from .grading.status import Status

    root = _course(args)
    missing = missing_protections(probe_isolation())
    if args.require_isolation and missing:
        print(f"not grading: --require-isolation, and this machine's sandbox lacks: {', '.join(missing)}\n"
              f"{describe_isolation(probe_isolation())}", file=sys.stderr)
        return 2
    results = grade_assignment(root, args.assignment, students=args.student or None, feedback=not args.no_feedback,
                               jobs=args.jobs)
    print(class_table(results))
    print(class_summary(results), end="")
    print(describe_isolation(probe_isolation()))
    for path in write_reports(root, args.assignment, results):
        print(f"wrote {path}")
    ungraded = [r.student for r in results if r.score is None and r.status != Status.NOT_SUBMITTED]
    suspected = [r.student for r in results if r.status == Status.TAMPER_SUSPECTED]
    if ungraded:
        print(f"{len(ungraded)} submission(s) could not be graded and need attention: {', '.join(ungraded)}")
    if suspected:
        print(f"{len(suspected)} submission(s) to review, tamper suspected (see report.json): {', '.join(suspected)}")
    if results.world_changes:
        print(f"BATCH FLAGGED: {len(results.world_changes)} path(s) of the course tree, the Python installation or "
              f"$HOME changed while it was graded (see report.json):", *results.world_changes, sep="\n  ")
    return 1 if ungraded or suspected or results.world_changes else 0


def cmd_gradescope(args):
    """Build the Gradescope autograder zip of one assignment (setup.sh, run_autograder and the course)."""
    from .grading.gradescope import build_autograder_zip

    try:
        path = build_autograder_zip(_course(args), args.assignment, args.output)
    except FileNotFoundError as error:
        print(f"no autograder zip written: {error}", file=sys.stderr)
        return 1
    print(f"wrote {path}: upload it as the autograder of a Gradescope programming assignment")
    return 0


def cmd_demo(args):
    """Release, grade a simulated class and check that every student gets the expected score."""
    from .grading.demo import run_demo

    demos = run_demo(_course(args), workdir=args.keep, assignments=args.assignments or None)
    return 1 if any(d.mismatches for d in demos) else 0


def cmd_data(args):
    """Download CIFAR-10 into the cache (download), or report the course's dataset without downloading (info)."""
    from . import data

    if args.action == "download":
        try:
            print(f"CIFAR-10 archive verified at {data.download_cifar10()}")
        except (OSError, data.DatasetError) as error:
            print(f"CIFAR-10 could not be downloaded: {error}\n"
                  f"No archive was installed; a partial download, if any, stays in {data.data_dir()} as a .part file "
                  f"and is resumed when you run the command again.", file=sys.stderr)
            return 1
        return 0
    return _data_info(data)


def _data_info(data):
    """Print which dataset the course uses and whether it is ready; exit code 1 if it cannot be loaded."""
    setting = data.course_settings_path()
    source = (f"${data.DATASET_ENV}" if os.environ.get(data.DATASET_ENV, "").strip()
              else str(setting) if setting else f"the default (no {data.COURSE_SETTINGS_FILE} found)")
    try:
        name = data.course_dataset()
        print(f"dataset: {name} (from {source}); cache: {data.data_dir()}")
        dataset = data.load_dataset(name)
    except (ValueError, OSError, data.DatasetError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"train/val/test = {len(dataset.y_train)}/{len(dataset.y_val)}/{len(dataset.y_test)}; "
          f"classes: {', '.join(dataset.class_names)}")
    return 0


def build_parser():
    """The argument parser of the ``cs231kit`` command."""
    parser = argparse.ArgumentParser(prog="cs231kit", description=__doc__.splitlines()[0])
    parser.add_argument("--course-dir", help="course root (default: the folder above the cwd holding nbgrader_config.py)")
    commands = parser.add_subparsers(dest="command", required=True)

    release = commands.add_parser("release", help=cmd_release.__doc__)
    release.add_argument("assignments", nargs="*", help="assignment ids (default: all)")
    release.set_defaults(run=cmd_release)

    publish = commands.add_parser("publish", help=cmd_publish.__doc__)
    publish.add_argument("destination", help="folder of the student repository (created or updated in place)")
    publish.add_argument("--assignments", metavar="A,B", help="comma-separated assignments released so far (default: all)")
    publish.add_argument("--git", action="store_true", help="make it a git repository and commit the update")
    publish.add_argument("--binder", metavar="ORG/REPO", default="<org>/<repo>",
                         help="the student repository on GitHub, for the README's Binder badge")
    publish.set_defaults(run=cmd_publish)

    grade = commands.add_parser("grade", help=cmd_grade.__doc__)
    grade.add_argument("assignment")
    grade.add_argument("--student", action="append", help="grade only this student (repeatable)")
    grade.add_argument("--no-feedback", action="store_true", help="skip the feedback HTML")
    grade.add_argument("--jobs", type=int, help="submissions graded at once (default: the number of cores)")
    grade.add_argument("--require-isolation", action="store_true",
                       help="refuse to grade (exit code 2) unless the sandbox has every protection "
                            "(namespaces, read-only world, unprivileged user, no capabilities, process limit)")
    grade.set_defaults(run=cmd_grade)

    gradescope = commands.add_parser("gradescope", help=cmd_gradescope.__doc__)
    gradescope.add_argument("assignment")
    gradescope.add_argument("--output", metavar="PATH",
                            help="where to write the zip (default: autograder/gradescope/<assignment>.zip)")
    gradescope.set_defaults(run=cmd_gradescope)

    demo = commands.add_parser("demo", help=cmd_demo.__doc__)
    demo.add_argument("assignments", nargs="*", help="assignment ids (default: all with a simulated class)")
    demo.add_argument("--keep", metavar="DIR", help="build the demo course in DIR and keep it")
    demo.set_defaults(run=cmd_demo)

    data = commands.add_parser("data", help=cmd_data.__doc__)
    data.add_argument("action", choices=["download", "info"])
    data.set_defaults(run=cmd_data)
    return parser


def main(argv=None):
    """Entry point of the ``cs231kit`` console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
