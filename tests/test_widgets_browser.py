"""The playgrounds in a real browser: JupyterLab in headless Chromium, a click on "10 steps".

A notebook that shows both playgrounds (with the test suite's loss functions and update rules) is
opened in JupyterLab and run; the test checks that the sliders and buttons render, clicks the linear
playground's "10 steps" button, and asks the kernel for the playground's state: ten gradient steps
were taken and the figure in the page was redrawn. Screenshots go to
``$TMPDIR/cs231kit-widget-screenshots/``. Skipped without Chromium or playwright.
"""

import os
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

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(tempfile.gettempdir()) / "cs231kit-widget-screenshots"
TESTS = Path(__file__).resolve().parent
WAIT_MS = 300_000  # a loaded machine: the lab and the kernel start slowly

if not Path(CHROMIUM).is_file():
    pytest.skip(f"no Chromium at {CHROMIUM}", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")

CELLS = [
    f"""%matplotlib inline
import sys; sys.path.insert(0, {str(TESTS)!r})
from loss_fixtures import hinge_loss, softmax_loss
from cs231kit.training import sgd
from cs231kit.widgets import linear_classifier_playground, optimizer_playground
playground = linear_classifier_playground({{"softmax": softmax_loss, "SVM": hinge_loss}})""",
    '''def momentum(w, dw, state=None):
    state = {"learning_rate": 1e-2, "momentum": 0.9, **(state or {})}
    velocity = state["momentum"] * state.get("velocity", 0 * w) - state["learning_rate"] * dw
    return w + velocity, {**state, "velocity": velocity}
optimizer = optimizer_playground({"sgd": sgd, "momentum": momentum})''',
]
FIGURE_JS = "() => document.querySelector('.jp-OutputArea-output img').getAttribute('src')"
STATE_JS = """async () => {
    const notebook = window.jupyterapp.shell.currentWidget.content;
    notebook.activeCellIndex = notebook.widgets.length - 1;
    await window.jupyterapp.commands.execute('notebook:insert-cell-below');
    notebook.activeCell.model.sharedModel.setSource('print(len(playground.history), playground.W[2, 0] != 0)');
    await window.jupyterapp.commands.execute('notebook:run-cell');
}"""
LAST_OUTPUT = "JSON.stringify(window.jupyterapp.shell.currentWidget.content.model.toJSON().cells.at(-1).outputs)"


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """``(url, token)`` of a JupyterLab serving a folder with the playground notebook."""
    root, home = tmp_path_factory.mktemp("lab"), tmp_path_factory.mktemp("home")
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in CELLS])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, root / "playgrounds.ipynb")
    port, token = _free_port(), os.urandom(12).hex()
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "MPLBACKEND"))}
    environment.update(HOME=str(home), JUPYTER_CONFIG_DIR=str(home / "config"), JUPYTER_RUNTIME_DIR=str(home / "runtime"),
                       JUPYTERLAB_SETTINGS_DIR=str(home / "settings"))
    with open(home / "lab.log", "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ServerApp.ip=127.0.0.1",
             f"--port={port}", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
             "--LabApp.expose_app_in_browser=True", "--ServerApp.port_retries=0"],
            env=environment, stdout=log, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            for _ in range(240):
                try:
                    urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=5)
                    break
                except OSError:
                    time.sleep(0.5)
            yield url, token
        finally:
            process.terminate()
            process.wait(30)


def test_linear_playground_redraws_after_ten_steps_in_jupyterlab(lab):
    url, token = lab
    SCREENSHOTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1800})
            page.goto(f"{url}/lab/tree/playgrounds.ipynb?token={token}")
            page.wait_for_selector(".jp-Notebook", timeout=WAIT_MS)
            page.wait_for_function("() => window.jupyterapp.shell.currentWidget?.sessionContext?.session?.kernel",
                                   timeout=WAIT_MS)
            page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
            page.wait_for_selector("text=update rule", timeout=WAIT_MS)  # the optimizer's controls: both cells ran
            # W and b (9), reg and step size; the optimizer's learning rate, momentum and steps
            assert page.locator(".widget-slider").count() == 9 + 2 + 3
            before = page.evaluate(FIGURE_JS)
            page.get_by_role("button", name="10 steps").click()
            page.wait_for_function(f"() => document.querySelector('.jp-OutputArea-output img')"
                                   f".getAttribute('src') !== {before!r}", timeout=WAIT_MS)
            page.evaluate(STATE_JS)
            page.wait_for_function(f"() => {LAST_OUTPUT} !== '[]'", timeout=WAIT_MS)
            assert '"10 True' in page.evaluate(f"() => {LAST_OUTPUT}"), "the kernel did not take ten steps"
            page.screenshot(path=str(SCREENSHOTS / "playgrounds.png"), full_page=True)
            print(f"screenshot: {SCREENSHOTS / 'playgrounds.png'}")
        finally:
            browser.close()
