"""A real browser on the student's JupyterLab: headless Chromium drives the published repository.

The course is published (``cs231kit publish``) into a scratch folder, with a ``completed/`` copy of
every release whose solution cells hold the solutions (no hidden tests). JupyterLab runs from the
test environment on 127.0.0.1 with the published lab settings (``jupyter-config/``) on
``JUPYTER_CONFIG_PATH``, so the lab is what a student who installed the published repository sees.
Playwright drives Debian's ``chromium`` (``.ci/run`` installs it; ``playwright install`` would
download a browser of its own, which this project cannot). Each release notebook and each completed
one is opened and run with Run All; the notebook model after the run is read from the page.

Screenshots are kept in ``$TMPDIR/cs231kit-browser-artifacts/`` (printed at the end of each test).
"""

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
from notebook_cells import REPO, nbgrader, read_notebook

from cs231kit.grading.session import list_assignments
from cs231kit.grading.simulate import fill_in_solutions
from cs231kit.publish import publish

# One worker runs them all (-n 2 --dist loadgroup): one published tree, one lab, one browser.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("browser")]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(tempfile.gettempdir()) / "cs231kit-browser-artifacts"
ASSIGNMENTS = list_assignments(REPO)
RUN_SECONDS = 900
"""Longest wait for Run All on one notebook (a loaded CI machine; a notebook takes seconds to a minute)."""
INSTRUCTOR_COMMANDS = ("nbgrader:open-formgrader", "nbgrader:open-formgrader-local", "nbgrader:open-create-assignment",
                       "nbgrader:open-assignment-list", "nbgrader:open-course-list")
STUB_NAME = re.compile(r"^\s*def (\w+)\(|^\s*#?\s*(\w+)\s*=", re.M)
WARNING = re.compile(r"\w*Warning\b")
READ_NOTEBOOK_JS = "() => window.jupyterapp.shell.currentWidget.content.model.toJSON()"
BUSY_JS = """() => {
    const panel = window.jupyterapp.shell.currentWidget;
    const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
    const prompts = [...panel.node.querySelectorAll('.jp-InputPrompt')].map(p => p.textContent);
    return !kernel || kernel.status !== 'idle' || prompts.some(p => p.includes('*'));
}"""


def _chromium_missing():
    """Why no browser test can run here, or None."""
    if not Path(CHROMIUM).is_file():
        return f"no Chromium at {CHROMIUM} (.ci/run installs Debian's chromium package with apt-get)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright Python package is not installed (test extra)"
    return None


if _chromium_missing():
    pytest.skip(_chromium_missing(), allow_module_level=True)

from playwright.sync_api import sync_playwright  # noqa: E402


def completed_notebook(assignment):
    """The release of ``assignment`` with its solution cells filled in (hidden tests stay out)."""
    release = nbformat.read(REPO / "notebooks" / assignment / f"{assignment}.ipynb", as_version=4)
    source = nbformat.read(REPO / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
    return fill_in_solutions(release, source)


def first_stub(release):
    """``(cell index, name)`` of the release's first code stub: the function it defines, else the first
    name it asks for (``# svm_loss_min = ...``)."""
    for index, cell in enumerate(release["cells"]):
        if cell["cell_type"] == "code" and nbgrader(cell).get("solution") and "NotImplementedError" in cell["source"]:
            match = STUB_NAME.search(cell["source"])
            return index, next(g for g in match.groups() if g)
    raise AssertionError("the release has no stub")


def visible_test_cells(release):
    """Indices of the test cells that print ``visible tests passed``."""
    return [i for i, cell in enumerate(release["cells"])
            if nbgrader(cell).get("grade") and not nbgrader(cell).get("solution")
            and "visible tests passed" in cell["source"]]


def cell_text(cell):
    """Everything a code cell printed or raised, as one string."""
    parts = []
    for output in cell.get("outputs", []):
        if output["output_type"] == "error":
            parts.append("\n".join(output["traceback"]))
        elif output["output_type"] == "stream":
            parts.append("".join(output["text"]))
        else:
            parts.append("".join(output.get("data", {}).get("text/plain", "")))
    return re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(parts))


def first_error(notebook):
    """``(cell index, error output)`` of the first cell that raised, or None."""
    for index, cell in enumerate(notebook["cells"]):
        for output in cell.get("outputs", []):
            if output["output_type"] == "error":
                return index, output
    return None


def warning_boxes(notebook):
    """``(cell index, text)`` of stderr output that carries a Python warning (a pink box in the lab)."""
    return [(i, "".join(o["text"])) for i, cell in enumerate(notebook["cells"]) for o in cell.get("outputs", [])
            if o["output_type"] == "stream" and o["name"] == "stderr" and WARNING.search("".join(o["text"]))]


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _lab_environment(home, config_path):
    """The lab's environment: a private home and settings, the student's lab settings if given."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "MPLBACKEND", "CS231KIT"))}
    environment.update(HOME=str(home), JUPYTER_CONFIG_DIR=str(home / ".jupyter"), CS231KIT_DATA=str(home / "no-cache"),
                       JUPYTERLAB_SETTINGS_DIR=str(home / "lab-settings"), JUPYTER_RUNTIME_DIR=str(home / "runtime"))
    if config_path:
        environment["JUPYTER_CONFIG_PATH"] = str(config_path)
    settings = home / "lab-settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    # Every cell in the page (no virtual scrolling), so screenshots and prompts cover the whole notebook.
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    return environment


class Lab:
    """A JupyterLab server on 127.0.0.1 serving ``root``; stopped with :meth:`stop`."""

    def __init__(self, root, home, config_path=None):
        self.port, self.token = _free_port(), os.urandom(12).hex()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(home / "lab.log", "w")
        command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ServerApp.ip=127.0.0.1",
                   f"--port={self.port}", f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={root}",
                   "--LabApp.expose_app_in_browser=True", "--ServerApp.port_retries=0"]
        self.process = subprocess.Popen(command, cwd=root, env=_lab_environment(home, config_path),
                                        stdout=self.log, stderr=subprocess.STDOUT)
        self._wait_until_up()

    def _wait_until_up(self, seconds=120):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"JupyterLab exited: see {self.log.name}"
            try:
                urllib.request.urlopen(f"{self.url}/api/status?token={self.token}", timeout=5)
                return
            except OSError:
                time.sleep(0.5)
        raise TimeoutError(f"JupyterLab did not answer within {seconds} s: see {self.log.name}")

    def status(self, path):
        """HTTP status of ``GET path`` on the server (authenticated)."""
        try:
            return urllib.request.urlopen(f"{self.url}{path}?token={self.token}", timeout=30).status
        except urllib.error.HTTPError as error:
            return error.code

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


@pytest.fixture(scope="module")
def student_repo(tmp_path_factory):
    """The published course, plus ``completed/<a>/<a>.ipynb`` (releases with their solutions)."""
    tree = publish(REPO, tmp_path_factory.mktemp("browser") / "student-repo").destination
    for assignment in ASSIGNMENTS:
        folder = tree / "completed" / assignment
        folder.mkdir(parents=True)
        nbformat.write(completed_notebook(assignment), folder / f"{assignment}.ipynb")
    return tree


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def student_lab(student_repo, tmp_path_factory):
    lab = Lab(student_repo, tmp_path_factory.mktemp("student-home"), student_repo / "jupyter-config")
    yield lab
    lab.stop()


@contextlib.contextmanager
def notebook_page(browser, lab, path, name):
    """A page showing the notebook at ``path`` (relative to the lab's root) with its kernel ready.

    On leaving, pass or fail, the page is saved as ``ARTIFACTS/name.png`` and the kernel shut down.
    """
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        # A workspace of its own, reset: otherwise the lab reopens the notebooks of the previous page.
        page.goto(f"{lab.url}/lab/workspaces/{name}/tree/{path}?token={lab.token}&reset")
        page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
                               " && window.jupyterapp.shell.currentWidget.sessionContext.isReady", timeout=180_000)
        yield page
    finally:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
        print(f"screenshot: {ARTIFACTS / name}.png")
        page.evaluate("() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
                      " if (w && w.sessionContext) { w.sessionContext.shutdown(); } }")
        page.close()


def run_all(page):
    """Run > Run All Cells, then wait until the kernel is idle with no cell queued; return the notebook."""
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
    deadline = time.monotonic() + RUN_SECONDS
    idle_since = None
    while time.monotonic() < deadline:
        busy = page.evaluate(BUSY_JS)
        idle_since = None if busy else (idle_since or time.monotonic())
        if idle_since and time.monotonic() - idle_since > 3:
            return page.evaluate(READ_NOTEBOOK_JS)
        time.sleep(0.5)
    raise TimeoutError(f"Run All did not finish within {RUN_SECONDS} s")


def scroll_to(page, cell_index):
    """Scroll the notebook so that the end of cell ``cell_index`` (its error, its figure) is in view."""
    page.evaluate("i => window.jupyterapp.shell.currentWidget.content.widgets[i].node.scrollIntoView({block: 'end'})",
                  cell_index)
    time.sleep(1)


def instructor_tools(page):
    """``(menu bar labels, side panel labels, instructor commands registered)`` of the open lab."""
    menus = [label.strip() for label in page.locator(".lm-MenuBar-itemLabel").all_inner_texts()]
    side_panels = " ".join(page.locator(".jp-SideBar").all_inner_texts())
    commands = page.evaluate(f"() => {json.dumps(INSTRUCTOR_COMMANDS)}.filter(c => window.jupyterapp.commands.hasCommand(c))")
    return menus, side_panels, commands


def test_student_lab_has_no_instructor_tool_and_keeps_validate(browser, student_lab, student_repo):
    with notebook_page(browser, student_lab, f"notebooks/{ASSIGNMENTS[0]}/{ASSIGNMENTS[0]}.ipynb", "student-lab") as page:
        menus, side_panels, commands = instructor_tools(page)
        validate_buttons = page.locator(".jp-NotebookPanel-toolbar").get_by_text("Validate").count()
        open_panels = page.evaluate("() => [...window.jupyterapp.shell.widgets('main')].length")
    assert "File" in menus and "Nbgrader" not in menus
    assert "Create Assignment" not in side_panels
    assert commands == []
    assert validate_buttons == 1 and open_panels == 1
    assert [student_lab.status(path) for path in ("/formgrader", "/assignments", "/courses")] == [404, 404, 404]
    assert not list(student_repo.rglob("gradebook.db"))


def test_instructor_lab_keeps_its_tools(browser, student_repo, tmp_path):
    lab = Lab(student_repo, tmp_path)  # the same tree without the student's lab settings
    try:
        with notebook_page(browser, lab, f"notebooks/{ASSIGNMENTS[0]}/{ASSIGNMENTS[0]}.ipynb", "instructor-lab") as page:
            menus, side_panels, commands = instructor_tools(page)
    finally:
        lab.stop()
    assert "Nbgrader" in menus and "Create Assignment" in side_panels and set(commands) == set(INSTRUCTOR_COMMANDS)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_runs_until_the_first_stub(browser, student_lab, student_repo, assignment):
    release = read_notebook(student_repo / "notebooks" / assignment / f"{assignment}.ipynb")
    stub_index, name = first_stub(release)
    with notebook_page(browser, student_lab, f"notebooks/{assignment}/{assignment}.ipynb", f"release-{assignment}") as page:
        notebook = run_all(page)
        failure = first_error(notebook)
        if failure:
            scroll_to(page, failure[0])
    assert failure, "Run All on the release stops at the first stub"
    index, error = failure
    assert error["ename"] == "NotImplementedError" and index >= stub_index
    assert name in error["evalue"], f"the message names {name}: {error['evalue']!r}"
    assert warning_boxes(notebook) == []


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_completed_notebook_passes_its_visible_tests_and_draws_its_figures(browser, student_lab, student_repo,
                                                                           assignment):
    release = read_notebook(student_repo / "notebooks" / assignment / f"{assignment}.ipynb")
    with notebook_page(browser, student_lab, f"completed/{assignment}/{assignment}.ipynb",
                       f"completed-{assignment}") as page:
        notebook = run_all(page)
        widths = page.evaluate("() => [...window.jupyterapp.shell.currentWidget.node"
                               ".querySelectorAll('.jp-RenderedImage img')].map(img => img.naturalWidth)")
        figure_cells = [i for i, cell in enumerate(notebook["cells"])
                        if any("image/png" in o.get("data", {}) for o in cell.get("outputs", []))]
        if figure_cells:
            scroll_to(page, figure_cells[-1])
    assert first_error(notebook) is None
    tests = visible_test_cells(release)
    assert tests
    for index in tests:
        assert "visible tests passed" in cell_text(notebook["cells"][index]), release["cells"][index]["id"]
    figures = sum("image/png" in o.get("data", {}) for cell in notebook["cells"] for o in cell.get("outputs", []))
    assert figure_cells and len(widths) == figures and all(width > 0 for width in widths)
    assert warning_boxes(notebook) == []


def test_validate_button_checks_a_completed_notebook(browser, student_lab):
    assignment = "gradcheck" if "gradcheck" in ASSIGNMENTS else ASSIGNMENTS[0]  # the quickest to run
    with notebook_page(browser, student_lab, f"completed/{assignment}/{assignment}.ipynb", f"validate-{assignment}") as page:
        page.locator(".jp-NotebookPanel-toolbar").get_by_text("Validate").click()
        result = page.wait_for_selector(".jp-Dialog .validation-success, .jp-Dialog .validation-failed, .jp-Dialog pre",
                                        timeout=RUN_SECONDS * 1000)
        text = result.inner_text()
    assert "Success! Your notebook passes all the tests." in text
