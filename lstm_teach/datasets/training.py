"""Training the case study's regressor, and its saved weights (chapter 8).

:func:`train_regressor` fits an :class:`LSTMClassifier` with one output (here a regressor) by
full-batch Adam on the mean squared error. Every source of run-to-run variation is fixed:

* the initial weights come from ``torch.manual_seed(seed)`` inside a forked random state (the
  caller's random state is left as it was);
* full batch: no shuffling, so no sampling randomness;
* one thread (``torch.set_num_threads(1)``, restored afterwards): the order of every floating-point
  sum is then fixed, so the same settings give the same weights, bit for bit, on a given machine.

Across machines (other CPUs pick other kernels, so other rounding) bitwise equality cannot be
promised, and training amplifies rounding: in float32 we measured that a relative change of 1e-6
in the initial weights moves the trained weights by 2e-5 after 250 Adam steps (by 1e-2 after 300,
once the loss starts to oscillate). So the case study trains in float64, where rounding is ~1e-16 and
stays far below 1e-6 after that amplification, and saves the result rounded to float32: retraining
on another machine should then differ from the saved weights by at most one float32 rounding step
(≤ 1e-6; on the machine that made them, retraining reproduces them bit for bit).

The trained weights live in ``lstm_teach/datasets/weights/sunspots_lstm.safetensors`` (no pickle): the
tensors of the model's ``state_dict``, and in the file's metadata (JSON strings) the
hyperparameters and the loss history, so the notebook can plot the training without training.
Regenerate them with ``python -m lstm_teach.datasets.training``.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path

import torch

from .sunspots import sunspot_windows
from ..models import LSTMClassifier
from ..teach.extras import extra

__all__ = [
    "SUNSPOT_HYPERPARAMETERS", "WEIGHTS_PATH", "load_sunspot_model", "load_training_record", "one_thread",
    "save_model", "save_sunspot_model", "train_regressor", "train_sunspot_model",
]

WEIGHTS_PATH = Path(__file__).resolve().parent / "weights" / "sunspots_lstm.safetensors"
"""Where the case study's trained weights are saved (package data)."""

SUNSPOT_HYPERPARAMETERS = {
    "window": 12, "split_year": 1950, "hidden_size": 8, "epochs": 250, "lr": 0.01, "seed": 0,
    "train_dtype": "float64", "saved_dtype": "float32",
}
"""The settings of the saved model: data (window T, first held-out year), training, and dtypes
(trained in float64 for reproducibility, saved and used in float32)."""


@contextmanager
def one_thread():
    """Run the block on one torch thread (the former count is restored afterwards): the order of
    every floating-point sum is then fixed, whatever the machine's core count."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def train_regressor(x, y, hidden_size=8, epochs=300, lr=0.01, seed=0, x_val=None, y_val=None, progress=True):
    """Fit an :class:`LSTMClassifier` ``(I → hidden_size → O)`` to ``y`` by full-batch Adam on the MSE.

    Args:
        x: inputs (N, T, I); y: targets (N, O); float32 or float64 (the model takes their dtype).
        hidden_size, epochs, lr: model size, number of full-batch Adam steps, learning rate.
        seed: seeds the initial weights (the caller's random state is restored afterwards).
        x_val, y_val: optional held-out data, evaluated (not trained on) at every epoch.
        progress: show a tqdm progress bar (on stderr) with the current losses.

    Returns:
        ``(model, history)``: the trained model in eval mode and a dict of loss lists of length
        ``epochs + 1``, entry ``e`` measured after ``e`` Adam steps: ``"train"`` (the MSE on
        ``x, y``) and, with ``x_val``, ``"heldout"`` (the MSE on ``x_val, y_val``).

    Runs on one thread (restored afterwards), so that the result does not depend on the
    machine's core count.
    """
    with extra("notebooks", "train_regressor"):
        from tqdm.auto import tqdm

    if x.dim() != 3 or y.dim() != 2 or x.shape[0] != y.shape[0]:
        raise ValueError(f"x must be (N, T, I) and y (N, O), got {tuple(x.shape)} and {tuple(y.shape)}")
    with one_thread():
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = LSTMClassifier(x.shape[2], hidden_size, y.shape[1]).to(dtype=x.dtype, device=x.device)
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        history = {"train": []}
        if x_val is not None:
            history["heldout"] = []

        def record(train_loss):
            history["train"].append(train_loss.item())
            if x_val is not None:
                with torch.no_grad():
                    history["heldout"].append(torch.nn.functional.mse_loss(model(x_val), y_val).item())

        bar = tqdm(range(epochs), desc="training", disable=not progress)
        for _ in bar:
            optimizer.zero_grad()
            loss = torch.nn.functional.mse_loss(model(x), y)
            record(loss)
            bar.set_postfix({name: f"{values[-1]:.4f}" for name, values in history.items()})
            loss.backward()
            optimizer.step()
        with torch.no_grad():
            record(torch.nn.functional.mse_loss(model(x), y))
        bar.close()
    return model.eval(), history


def train_sunspot_model(progress=True, epochs=None):
    """Train the case study's model with :data:`SUNSPOT_HYPERPARAMETERS` (``epochs`` may be
    overridden for a quick demo). Returns ``(model, history, hyperparameters)``; the model is
    trained in float64 and returned rounded to float32, as it is saved."""
    settings = dict(SUNSPOT_HYPERPARAMETERS)
    if epochs is not None:
        settings["epochs"] = epochs
    data = sunspot_windows(settings["window"], settings["split_year"], dtype=getattr(torch, settings["train_dtype"]))
    model, history = train_regressor(
        data.x_train, data.y_train, hidden_size=settings["hidden_size"], epochs=settings["epochs"],
        lr=settings["lr"], seed=settings["seed"], x_val=data.x_test, y_val=data.y_test, progress=progress,
    )
    return model.to(getattr(torch, settings["saved_dtype"])), history, settings


def save_sunspot_model(model, history, hyperparameters, path=WEIGHTS_PATH) -> Path:
    """:func:`save_model` to the case study's weights file."""
    return save_model(model, history, hyperparameters, path)


def save_model(model, history, hyperparameters, path, **metadata) -> Path:
    """Write the model's ``state_dict`` to a safetensors file, with the hyperparameters, the
    loss history and any ``metadata`` entries as JSON in its metadata."""
    with extra("notebooks", "save_model"):
        from safetensors.torch import save_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {name: value.detach().contiguous() for name, value in model.state_dict().items()}
    header = {"hyperparameters": json.dumps(hyperparameters), "history": json.dumps(history),
              **{key: json.dumps(value) for key, value in metadata.items()}}
    save_file(tensors, str(path), metadata=header)
    return path


def load_training_record(path=WEIGHTS_PATH) -> dict:
    """The metadata saved beside the weights: ``{"hyperparameters": dict, "history": dict of lists}``
    and any entries :func:`save_model` was given."""
    with extra("notebooks", "load_training_record"):
        from safetensors import safe_open

    with safe_open(str(path), framework="pt") as handle:
        metadata = handle.metadata()
    return {key: json.loads(value) for key, value in metadata.items()}


def load_sunspot_model(path=WEIGHTS_PATH, dtype=torch.float32) -> LSTMClassifier:
    """The trained case-study model (eval mode), read from safetensors (no pickle); ``dtype``
    converts the saved float32 weights after loading (``torch.float64`` for exact checks)."""
    with extra("notebooks", "load_sunspot_model"):
        from safetensors.torch import load_file

    settings = load_training_record(path)["hyperparameters"]
    model = LSTMClassifier(1, settings["hidden_size"], 1)
    model.load_state_dict(load_file(str(path)))
    return model.to(dtype).eval()


if __name__ == "__main__":
    import time

    start = time.perf_counter()
    trained, losses, used = train_sunspot_model(progress=True)
    seconds = time.perf_counter() - start
    saved = save_sunspot_model(trained, losses, used)
    print(f"trained in {seconds:.1f} s; final train MSE {losses['train'][-1]:.4f}, "
          f"held-out MSE {losses['heldout'][-1]:.4f}; saved to {saved}")
