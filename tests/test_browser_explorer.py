"""The chapter-7 notebook in a real browser: JupyterLab on 127.0.0.1 with a token, headless
Chromium driven by Playwright. Run all cells, move a slider, check that the readout and the figure
follow and that no error shows; a screenshot goes to ``test-output/``.

Needs Debian's ``chromium`` (never a downloaded browser). Without it the test skips with a message
on a laptop and fails in CI (the ``CI`` environment variable set).
"""

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "07_interactive_explorer.ipynb"
OUTPUT = ROOT / "test-output"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.filterwarnings("ignore")


def _missing(what: str):
    message = (f"browser test needs {what}; install Debian's chromium (apt-get install chromium) "
               "and the pinned playwright package (pip install -e .)")
    if os.environ.get("CI"):
        pytest.fail(f"CI: {message}")
    pytest.skip(message)


def _chromium() -> str:
    for candidate in (os.environ.get("CHROMIUM"), shutil.which("chromium"), "/usr/bin/chromium"):
        if candidate and Path(candidate).is_file():
            return candidate
    _missing("a chromium executable")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def lab(tmp_path):
    """JupyterLab serving a copy of notebook 07 without outputs, isolated from the user's settings."""
    chromium = _chromium()
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _missing("the playwright package")
    root = tmp_path / "notebooks"
    root.mkdir()
    nb = nbformat.read(NOTEBOOK, as_version=4)
    for cell in nb.cells:                          # start from a clean page: what we see is this run's
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nb.metadata.pop("widgets", None)
    nbformat.write(nb, root / NOTEBOOK.name)
    config = tmp_path / "config"
    (config / "labconfig").mkdir(parents=True)
    # no "news from Jupyter?" pop-up over the notebook
    (config / "labconfig" / "page_config.json").write_text(json.dumps(
        {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}))
    # every cell stays in the page (no virtual scrolling), so the test can find all outputs
    tracker = tmp_path / "settings" / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True)
    tracker.write_text(json.dumps({"windowingMode": "none"}))
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(config), JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
               JUPYTER_DATA_DIR=str(tmp_path / "data"), MPLBACKEND="Agg", PYTHONWARNINGS="ignore")
    env.pop("JUPYTER_PATH", None)
    log = open(tmp_path / "lab.log", "wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={root}", f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}",
         f"--LabApp.user_settings_dir={tmp_path / 'settings'}", "--LabApp.extension_manager=readonly",
         "--allow-root"],
        stdout=log, stderr=subprocess.STDOUT, env=env, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=2):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("JupyterLab did not start:\n" + (tmp_path / "lab.log").read_text()[-3000:])
                time.sleep(0.5)
        yield {"url": f"http://127.0.0.1:{port}/lab/tree/{NOTEBOOK.name}?token={token}",
               "chromium": chromium, "log": tmp_path / "lab.log"}
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def _folded(notebook: Path) -> int:
    """How many cells of ``notebook`` JupyterLab shows with their source collapsed."""
    cells = nbformat.read(notebook, as_version=4).cells
    return sum(cell.metadata.get("jupyter", {}).get("source_hidden", False) for cell in cells)


def _readout(page, explorer: str) -> str:
    return page.locator(f".{explorer} .lstm-teach-readout").inner_text()


def _image_src(page, explorer: str) -> str:
    return page.locator(f".{explorer} img").first.get_attribute("src")


def test_explorer_in_jupyterlab(lab):
    from playwright.sync_api import expect, sync_playwright

    OUTPUT.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=lab["chromium"], args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            page.goto(lab["url"])
            page.locator(".jp-NotebookPanel").wait_for(timeout=60_000)
            kernel_idle = page.locator(".jp-StatusBar-Widget").filter(has_text="Python 3 (ipykernel) | Idle")
            expect(kernel_idle).to_have_count(1, timeout=60_000)              # kernel started and connected

            page.get_by_role("menuitem", name="Run", exact=True).click()        # Run > Run All Cells
            page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
            # the last cell has run when it shows "Correct"; then all three explorers are there
            expect(page.locator(".jp-OutputArea-output").filter(has_text="Correct (within")).to_have_count(
                3, timeout=120_000)
            expect(page.locator(".lstm-teach-readout")).to_have_count(3, timeout=30_000)
            expect(kernel_idle).to_have_count(1, timeout=60_000)

            # the exercises keep their answers out of view: checks and solutions fold their code (cell
            # metadata jupyter.source_hidden; the solutions' outputs_hidden too, which running a cell
            # undoes in JupyterLab), and a solution that has run shows its verdict and nothing else
            expect(page.locator(".jp-InputPlaceholder")).to_have_count(_folded(NOTEBOOK))
            solved = page.locator(".jp-OutputArea-output").filter(has_text="Correct (within")
            for k in range(solved.count()):
                assert solved.nth(k).inner_text().strip().splitlines() == ["Correct (within 1e-06)."]

            explorer = page.locator(".lstm-teach-linear")
            explorer.scroll_into_view_if_needed()
            assert "conserved ✓" in _readout(page, "lstm-teach-linear")
            before_text, before_src = _readout(page, "lstm-teach-linear"), _image_src(page, "lstm-teach-linear")
            width = page.locator(".lstm-teach-linear img").first.evaluate("img => img.naturalWidth")
            assert width > 0, "the explorer's figure did not render"

            # the bias slider (w1, w2, w3, b): focus its handle and step it right, as a keyboard user would
            bias = explorer.locator(".widget-slider").nth(3)
            bias_before = float(bias.locator(".widget-readout").inner_text())
            bias.locator(".noUi-handle").focus()
            for _ in range(6):
                page.keyboard.press("ArrowRight")                             # 6 steps of 0.05
            bias_after = bias_before + 0.30
            expect(bias.locator(".widget-readout")).to_have_text(f"{bias_after:.2f}", timeout=10_000)
            # the kernel coalesces the six messages: the readout may show a step in between, and must
            # settle on the last value
            final_z = f"z   = w·x + b   =  {1.4 + bias_after:+.4f}"          # w·x = 1.4 in the notebook
            deadline = time.monotonic() + 30
            while final_z not in _readout(page, "lstm-teach-linear") and time.monotonic() < deadline:
                time.sleep(0.2)
            after_text = _readout(page, "lstm-teach-linear")
            assert after_text != before_text, "the readout did not follow the slider"
            assert final_z in after_text, after_text
            assert "off by" in [line for line in after_text.splitlines() if line.startswith("LRP")][0]
            deadline = time.monotonic() + 10
            while _image_src(page, "lstm-teach-linear") == before_src and time.monotonic() < deadline:
                time.sleep(0.2)
            assert _image_src(page, "lstm-teach-linear") != before_src, "the figure was not redrawn"

            errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
            assert errors.count() == 0, errors.all_inner_texts()
            assert page.locator(".jp-OutputArea-output").filter(has_text="Traceback").count() == 0
            assert page.locator(".jp-OutputArea-output").filter(has_text="Error").count() == 0

            page.wait_for_timeout(300)
            explorer.screenshot(path=str(OUTPUT / "browser_explorer_linear.png"))
            page.screenshot(path=str(OUTPUT / "browser_explorer_page.png"))
        except Exception:
            page.screenshot(path=str(OUTPUT / "browser_explorer_failure.png"))
            print("JupyterLab log:\n" + lab["log"].read_text()[-4000:])
            raise
        finally:
            browser.close()
