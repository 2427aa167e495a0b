"""lstm_teach: every formula of the notebook series on relevance propagation through recurrent networks.

Chapter 1, dense layers: :func:`dense_lrp`, :func:`dense_deeplift`.
Chapter 2, the LSTM from its equations: :class:`LSTMWeights`, :func:`lstm_forward`, :func:`lstm_step`.
Chapter 3, relevance through one gate: :func:`gate_lrp`, :func:`gate_deeplift`.
Chapter 4, Shapley values: :func:`shapley_values`, :func:`shapley_product`.
Chapters 5–6, whole-sequence attribution: :class:`LSTMDeepLift`, :class:`LSTMLRP`,
:class:`TimeStepShapley` explain :class:`LSTMClassifier` and any :class:`LSTMModel` (a user's own
``nn.Embedding``, stacked and bidirectional ``nn.LSTM``, MLP head, per-step outputs, padded batches);
:class:`UnrolledModel` (``UnrolledLSTM``) is the same model built from modules, for captum and shap.
Chapter 10, the GRU: :class:`GRUWeights`, :func:`gru_forward`, :class:`GRUModel`; the explainers take it
as they are, and read as well under their neutral names :class:`RecurrentDeepLift` and :class:`RecurrentLRP`.
"""

from .activations import get_activation, rescale_multiplier
from .deeplift import LSTMDeepLift, RecurrentDeepLift
from .dense import dense_deeplift, dense_lrp
from .gates import gate_deeplift, gate_lrp
from .gru import GRU_GATES, GRUTrace, GRUWeights, gru_forward
from .lrp import LSTMLRP, RecurrentLRP
from .lstm import ALIASES, GATES, LSTMTrace, LSTMWeights, lstm_forward, lstm_step
from .models import GRUModel, LSTMClassifier, LSTMModel
from .products import PRODUCT_RULES, product_coefficient, shapley_product
from .shapley import shapley_values
from .teach.counter import COUNTER_SYMBOLS, counter_gru, counter_inputs, counter_lstm
from .teach.report import agreement, check_answer
from .timesteps import TimeStepShapley
from .unrolled import UnrolledLSTM, UnrolledModel

__all__ = [
    "ALIASES", "GATES", "GRU_GATES", "PRODUCT_RULES",
    "GRUModel", "GRUTrace", "GRUWeights", "LSTMClassifier", "LSTMDeepLift", "LSTMLRP", "LSTMModel", "LSTMTrace",
    "LSTMWeights", "RecurrentDeepLift", "RecurrentLRP", "TimeStepShapley", "UnrolledLSTM", "UnrolledModel",
    "agreement", "check_answer",
    "dense_deeplift", "dense_lrp", "gate_deeplift", "gate_lrp", "get_activation", "gru_forward", "lstm_forward",
    "lstm_step", "product_coefficient", "rescale_multiplier", "shapley_product", "shapley_values",
    "COUNTER_SYMBOLS", "counter_gru", "counter_inputs", "counter_lstm",
]
