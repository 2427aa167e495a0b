"""The light install: the wheel, installed without extras next to torch and numpy only, explains a
small LSTM; the teaching widgets say which extra they need.

One fresh virtual environment per test session (module fixture), in the test's temporary
directory: the project's wheel (``pip wheel --no-deps``, built with the setuptools of the running
environment, so nothing is fetched for the build), then ``torch`` and ``numpy`` at the versions of
constraints.txt — pip takes torch from the local CPU wheel where pip's configuration offers one
(``find-links``), exactly as ``make`` does, and reuses its cache — then the wheel without extras.
``--no-compile`` leaves torch's thousands of modules uncompiled (Python compiles what it imports):
about 50 s for the whole module on this machine instead of 2.5 minutes.
"""

import json
import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WEIGHTS = "lstm_teach/datasets/weights/sunspots_lstm.safetensors"


def run(*command, **kwargs):
    """Run a command; on failure show its output."""
    result = subprocess.run([str(c) for c in command], capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{' '.join(map(str, command))} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def light(tmp_path_factory):
    """``(python, wheel)``: the interpreter of a fresh venv holding torch, numpy and the project's wheel."""
    where = tmp_path_factory.mktemp("light")
    environment = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1")
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
        "--wheel-dir", where / "dist", ROOT, env=environment)
    (wheel,) = (where / "dist").glob("lstm_teach-*.whl")
    venv.create(where / "venv", with_pip=False)
    python = where / "venv" / "bin" / "python"
    pip = [sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-compile",
           "-c", ROOT / "constraints.txt"]
    run(*pip, "torch", "numpy", env=environment)
    run(*pip, wheel, env=environment)
    return python, wheel


SCRIPT = """
import json
from importlib import metadata

import torch

import lstm_teach
from tolerance import assert_close, lstm_deeplift_error, lstm_score_error, sum_error, time_step_shapley_error

report = {"installed": sorted(d.metadata["Name"].lower() for d in metadata.distributions())}

# the three explainers on a small seeded LSTM: DeepLift complete and TimeStepShapley efficient,
# within their rounding bounds; LRP finite
torch.manual_seed(0)
model = lstm_teach.LSTMClassifier(3, 5, 2).double()
x = torch.randn(4, 6, 3, dtype=torch.float64)
baseline = torch.randn(6, 3, dtype=torch.float64)
target = torch.tensor([0, 1, 1, 0])
full = baseline.expand_as(x)
attributions, delta = lstm_teach.LSTMDeepLift(model).attribute(x, baseline, target, return_convergence_delta=True)
assert attributions.shape == (4, 6, 3)
assert_close(delta, torch.zeros(4, dtype=torch.float64), lstm_deeplift_error(model, x, full, target).delta, 0.0)
relevance = lstm_teach.LSTMLRP(model).attribute(x, target)
assert relevance.shape == (4, 6, 3) and torch.isfinite(relevance).all()
values = lstm_teach.TimeStepShapley(model).attribute(x, baseline, target)
with torch.no_grad():
    change = model(x).gather(1, target[:, None])[:, 0] - model(full).gather(1, target[:, None])[:, 0]
scores_error = lstm_score_error(model, x, target)[1] + lstm_score_error(model, full, target)[1]
assert_close(values.sum(1), change, sum_error(values, 1, time_step_shapley_error(model, x, full, target)), scores_error)
report["explained"] = True

# what needs the notebook stack says so: the widgets at import, the case study when it reads
report["missing"] = []
try:
    import lstm_teach.teach.widgets
except ImportError as error:
    report["missing"].append(str(error))
from lstm_teach.datasets.sunspots import load_sunspots
from lstm_teach.datasets.training import load_sunspot_model
for load in (load_sunspots, load_sunspot_model):
    try:
        load()
    except ImportError as error:
        report["missing"].append(str(error))
print(json.dumps(report))
"""


@pytest.fixture(scope="module")
def report(light):
    """What the script above found in the light environment (it runs once: one import of torch)."""
    python, _ = light
    return json.loads(run(python, "-c", SCRIPT, cwd=ROOT / "tests").splitlines()[-1])


def test_the_wheel_ships_the_weights(light):
    _, wheel = light
    assert WEIGHTS in zipfile.ZipFile(wheel).namelist()


def test_only_torch_and_numpy_and_their_dependencies_are_installed(report):
    assert {"torch", "numpy", "lstm_teach"} <= set(report["installed"])
    heavy = {"captum", "shap", "matplotlib", "ipywidgets", "jupyterlab", "statsmodels", "pytest", "safetensors"}
    assert heavy.isdisjoint(report["installed"])


def test_three_explainers_on_a_small_lstm(report):
    """LSTMDeepLift is complete (within its rounding bound), LSTMLRP runs, TimeStepShapley is efficient."""
    assert report["explained"]


def test_the_notebook_helpers_name_the_extra_they_need(report):
    """The widgets fail at import, the case study's data and weights when they are read."""
    missing = report["missing"]
    assert len(missing) == 3 and all("pip install 'lstm_teach[notebooks]'" in line for line in missing)
    assert "lstm_teach.teach.widgets" in missing[0] and "statsmodels" in missing[1] and "safetensors" in missing[2]
