"""The models of chapter 9, trained on :mod:`.text`'s sentences, and a bag-of-words baseline.

* The sentence classifier, a model of the kind users have:

      nn.Embedding(V, E, padding_idx=0) → nn.LSTM(E, H, num_layers=2, bidirectional=True)
      → nn.Sequential(Linear(2H, H), ReLU, Linear(H, 1))

  wrapped as ``LSTMModel(lstm, head, embedding)`` (``readout="last"``). Its one output is the logit
  of "positive"; the predicted label is ``logit > 0``. Trained on padded minibatches with
  ``lengths`` by Adam on the binary cross-entropy.
* The tagger (section 5): ``nn.Embedding(V, E, padding_idx=0) → nn.LSTM(E, H, bidirectional=True)
  → nn.Linear(2H, 3)`` with ``readout="all"``: at every step the logits of the token's tag
  (:data:`.text.TAGS`), trained by the cross-entropy over the valid steps.
* The baseline: logistic regression on the word counts (:class:`BagOfWords`). It sees which words
  occur, not their order, so it cannot tell ``not good`` from ``good``; its test accuracy is
  the floor the LSTM must clear.

Reproducibility follows :mod:`.training`: initial weights drawn in float64 from
``torch.manual_seed(seed)`` in a forked random state, the minibatch order from a
``torch.Generator`` seeded with ``seed``, one thread, float64 training, weights saved rounded to
float32. ``padding_idx=0`` keeps the pad row of
the embedding at exactly zero through training, so a padded or deleted word enters the LSTM as the
zero vector.

The weights live in ``lstm_teach/datasets/weights/sentiment_lstm.safetensors`` and
``sentiment_tagger.safetensors``, with the hyperparameters, the vocabulary and the history in
their metadata. Regenerate them with ``python -m lstm_teach.datasets.text_training``.
"""

from __future__ import annotations

from contextlib import contextmanager
from inspect import signature
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from ..models import LSTMModel
from ..teach.extras import extra
from .text import TAG_PAD, TAGS, SentimentData, TextSplit, sentiment_data, sentiment_vocabulary
from .training import load_training_record, one_thread, save_model

__all__ = [
    "CLASSIFIER_HYPERPARAMETERS", "CLASSIFIER_PATH", "TAGGER_HYPERPARAMETERS", "TAGGER_PATH", "BagOfWords",
    "accuracy", "build_classifier", "build_tagger", "default_dtype", "fit_bag_of_words", "load_classifier", "load_tagger",
    "tag_accuracy", "train_classifier", "train_tagger", "train_text_model",
]

WEIGHTS = Path(__file__).resolve().parent / "weights"
CLASSIFIER_PATH = WEIGHTS / "sentiment_lstm.safetensors"
TAGGER_PATH = WEIGHTS / "sentiment_tagger.safetensors"

DATA = {"n_train": 12000, "n_test": 1000, "data_seed": 0}
CLASSIFIER_HYPERPARAMETERS = {
    **DATA, "embedding_size": 16, "hidden_size": 16, "num_layers": 2, "bidirectional": True,
    "head_hidden": 16, "epochs": 10, "batch_size": 50, "lr": 0.003, "seed": 0,
    "train_dtype": "float64", "saved_dtype": "float32",
}
"""The saved sentence classifier: data, sizes (E, H, layers, head width), training."""
TAGGER_HYPERPARAMETERS = {
    **DATA, "embedding_size": 8, "hidden_size": 8, "num_layers": 1, "bidirectional": True,
    "epochs": 2, "batch_size": 50, "lr": 0.03, "seed": 0, "train_dtype": "float64", "saved_dtype": "float32",
}
"""The saved tagger."""


def build_classifier(vocabulary_size: int, embedding_size: int, hidden_size: int, num_layers: int,
                     bidirectional: bool, head_hidden: int) -> LSTMModel:
    """The sentence classifier (module docstring), with PyTorch's default initialisation."""
    width = hidden_size * (2 if bidirectional else 1)
    return LSTMModel(
        nn.LSTM(embedding_size, hidden_size, num_layers=num_layers, bidirectional=bidirectional, batch_first=True),
        nn.Sequential(nn.Linear(width, head_hidden), nn.ReLU(), nn.Linear(head_hidden, 1)),
        nn.Embedding(vocabulary_size, embedding_size, padding_idx=0),
    )


def build_tagger(vocabulary_size: int, embedding_size: int, hidden_size: int, num_layers: int,
                 bidirectional: bool) -> LSTMModel:
    """The per-step tagger (module docstring), ``readout="all"``, one logit per tag."""
    width = hidden_size * (2 if bidirectional else 1)
    return LSTMModel(
        nn.LSTM(embedding_size, hidden_size, num_layers=num_layers, bidirectional=bidirectional, batch_first=True),
        nn.Linear(width, len(TAGS)), nn.Embedding(vocabulary_size, embedding_size, padding_idx=0), readout="all",
    )


def _classifier_loss(model, split: TextSplit) -> torch.Tensor:
    logits = model(split.ids, split.lengths)[:, 0]
    return F.binary_cross_entropy_with_logits(logits, split.labels.to(logits.dtype))


def _tagger_loss(model, split: TextSplit) -> torch.Tensor:
    logits = model(split.ids, split.lengths)
    return F.cross_entropy(logits.flatten(0, 1), split.tags[:, :logits.shape[1]].flatten(), ignore_index=TAG_PAD)


@torch.no_grad()
def accuracy(model, split: TextSplit) -> float:
    """The fraction of sentences whose predicted label (``output > 0``; ``model(ids, lengths)``
    is (B, 1)) is the true label."""
    return ((model(split.ids, split.lengths)[:, 0] > 0).long() == split.labels).double().mean().item()


@torch.no_grad()
def tag_accuracy(model, split: TextSplit) -> float:
    """The fraction of valid steps whose predicted tag (the argmax of (B, T, 3)) is the true tag."""
    predicted = model(split.ids, split.lengths).argmax(-1)
    valid = split.tags != TAG_PAD
    return (predicted[valid] == split.tags[valid]).double().mean().item()


def train_text_model(model, loss_fn, metric, data: SentimentData, epochs: int, batch_size: int, lr: float,
                     seed: int, progress: bool = True) -> dict:
    """Train ``model`` (already built, float64) by Adam on minibatches of ``data.train``.

    Each epoch visits the training sentences in an order drawn from a ``torch.Generator`` seeded
    with ``seed``, in minibatches of ``batch_size`` padded to their longest row. The learning rate
    falls linearly from ``lr`` to 0 over all the steps (measured on the classifier: test accuracy
    0.996 with the fall, against 0.991 and a test loss that creeps up without it).
    Returns the history, lists of length ``epochs + 1`` (entry ``e`` after ``e`` epochs):
    ``"train"`` and ``"test"`` (``loss_fn`` on the whole split), ``"test_accuracy"`` (``metric``).
    Runs on one thread.
    """
    from tqdm.auto import tqdm

    history = {"train": [], "test": [], "test_accuracy": []}

    def record():
        model.eval()
        with torch.no_grad():
            history["train"].append(loss_fn(model, data.train).item())
            history["test"].append(loss_fn(model, data.test).item())
        history["test_accuracy"].append(metric(model, data.test))
        model.train()

    with one_thread():
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        total = epochs * -(-len(data.train) // batch_size)
        schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1 - step / total)
        generator = torch.Generator().manual_seed(seed)
        record()
        bar = tqdm(range(epochs), desc="training", disable=not progress)
        for _ in bar:
            for batch in torch.randperm(len(data.train), generator=generator).split(batch_size):
                optimizer.zero_grad()
                loss_fn(model, data.train.subset(batch)).backward()
                optimizer.step()
                schedule.step()
            record()
            bar.set_postfix({"test": f"{history['test'][-1]:.4f}", "accuracy": f"{history['test_accuracy'][-1]:.3f}"})
        bar.close()
    return history


@contextmanager
def default_dtype(dtype: torch.dtype):
    """Create tensors in ``dtype`` inside the block (the former default is restored afterwards).
    The models are initialised in float64 directly: drawn in float32 and converted, the initial
    weights already differ by one float32 rounding between CPU kernels (measured: the sum of the
    tagger's initial weights moves by 1e-6 from ATEN_CPU_CAPABILITY=default to avx2)."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        yield
    finally:
        torch.set_default_dtype(previous)


def _sizes(build, settings: dict) -> dict:
    """The hyperparameters that ``build`` takes (all of its arguments but the vocabulary size)."""
    return {name: settings[name] for name in list(signature(build).parameters)[1:]}


def _train(build, loss_fn, metric, settings: dict, progress: bool):
    data = sentiment_data(settings["n_train"], settings["n_test"], settings["data_seed"])
    dtype = getattr(torch, settings["train_dtype"])
    with torch.random.fork_rng(devices=[]), default_dtype(dtype):
        torch.manual_seed(settings["seed"])
        model = build(len(data.vocabulary), **_sizes(build, settings))
    history = train_text_model(model, loss_fn, metric, data, settings["epochs"], settings["batch_size"],
                               settings["lr"], settings["seed"], progress)
    return model.eval().to(getattr(torch, settings["saved_dtype"])), history, {**settings}


def train_classifier(progress: bool = True, epochs: int | None = None):
    """Train the sentence classifier with :data:`CLASSIFIER_HYPERPARAMETERS` (``epochs`` may be
    overridden). Returns ``(model, history, hyperparameters)``; trained in float64, returned in
    float32 as it is saved."""
    settings = {**CLASSIFIER_HYPERPARAMETERS, **({} if epochs is None else {"epochs": epochs})}
    return _train(build_classifier, _classifier_loss, accuracy, settings, progress)


def train_tagger(progress: bool = True, epochs: int | None = None):
    """Train the tagger with :data:`TAGGER_HYPERPARAMETERS`; as :func:`train_classifier`."""
    settings = {**TAGGER_HYPERPARAMETERS, **({} if epochs is None else {"epochs": epochs})}
    return _train(build_tagger, _tagger_loss, tag_accuracy, settings, progress)


def _load(build, path, dtype) -> LSTMModel:
    with extra("notebooks", "loading the chapter-9 models"):
        from safetensors.torch import load_file

    record = load_training_record(path)
    settings, tokens = record["hyperparameters"], record["vocabulary"]
    if tuple(tokens) != sentiment_vocabulary().tokens:
        raise ValueError(f"{path} was trained on another vocabulary than the grammar's: retrain it with "
                         "python -m lstm_teach.datasets.text_training")
    model = build(len(tokens), **_sizes(build, settings))
    model.load_state_dict(load_file(str(path)))
    return model.to(dtype).eval()


def load_classifier(path=CLASSIFIER_PATH, dtype=torch.float32) -> LSTMModel:
    """The trained sentence classifier (eval mode) from safetensors; ``dtype`` converts the saved
    float32 weights (``torch.float64`` for exact checks). Its record
    (:func:`.training.load_training_record`) holds the hyperparameters, the vocabulary and the
    history."""
    return _load(build_classifier, path, dtype)


def load_tagger(path=TAGGER_PATH, dtype=torch.float32) -> LSTMModel:
    """The trained tagger (eval mode, ``readout="all"``); as :func:`load_classifier`."""
    return _load(build_tagger, path, dtype)


# --- the baseline -----------------------------------------------------------------------------------

class BagOfWords(nn.Module):
    """Logistic regression on word counts: ``logit = Σ_w count_w · β_w + β_0`` (pad not counted).

    ``forward(ids, lengths=None)``: ids (B, T) → logits (B, 1), like the LSTM classifier.
    """

    def __init__(self, vocabulary_size: int, dtype=torch.float64):
        super().__init__()
        self.linear = nn.Linear(vocabulary_size, 1, dtype=dtype)

    def counts(self, ids: torch.Tensor) -> torch.Tensor:
        """Word counts (B, V) of ids (B, T), the pad id 0 left out."""
        counts = torch.zeros(ids.shape[0], self.linear.in_features, dtype=self.linear.weight.dtype)
        counts.scatter_add_(1, ids, torch.ones_like(ids, dtype=counts.dtype))
        counts[:, 0] = 0
        return counts

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        return self.linear(self.counts(ids))


def fit_bag_of_words(split: TextSplit, vocabulary_size: int, l2: float = 1e-3, steps: int = 200) -> BagOfWords:
    """Fit :class:`BagOfWords` to ``split`` by full-batch L-BFGS on the mean binary cross-entropy
    plus ``l2 · ‖β‖²`` (weights, not the intercept), from zero weights: deterministic, about a
    second on one core."""
    model = BagOfWords(vocabulary_size)
    nn.init.zeros_(model.linear.weight)
    nn.init.zeros_(model.linear.bias)
    counts, targets = model.counts(split.ids), split.labels.double()
    optimizer = torch.optim.LBFGS(model.parameters(), max_iter=steps, line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        loss = F.binary_cross_entropy_with_logits(model.linear(counts)[:, 0], targets)
        loss = loss + l2 * model.linear.weight.square().sum()
        loss.backward()
        return loss

    with one_thread():
        optimizer.step(closure)
    return model.eval()


def _main():
    import time

    data = sentiment_data(DATA["n_train"], DATA["n_test"], DATA["data_seed"])
    tokens = list(data.vocabulary.tokens)
    for name, train, path in (("classifier", train_classifier, CLASSIFIER_PATH), ("tagger", train_tagger, TAGGER_PATH)):
        start = time.perf_counter()
        model, history, settings = train(progress=True)
        seconds = time.perf_counter() - start
        save_model(model, history, settings, path, vocabulary=tokens)
        print(f"{name}: trained in {seconds:.1f} s; test accuracy {history['test_accuracy'][-1]:.4f}; "
              f"saved to {path} ({path.stat().st_size} bytes)")
    baseline = fit_bag_of_words(data.train, len(data.vocabulary))
    print(f"bag of words: test accuracy {accuracy(baseline, data.test):.4f}")


if __name__ == "__main__":
    _main()
