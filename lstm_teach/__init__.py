"""lstm_teach: every formula of the notebook series on relevance propagation through an LSTM.

Chapter 1, dense layers: :func:`dense_lrp`, :func:`dense_deeplift`.
Chapter 2, the LSTM from its equations: :class:`LSTMWeights`, :func:`lstm_forward`, :func:`lstm_step`.
Chapter 3, relevance through one gate: :func:`gate_lrp`, :func:`gate_deeplift`.
Chapter 4, Shapley values: :func:`shapley_values`, :func:`shapley_product`.
Chapters 5–6, whole-sequence attribution: :class:`LSTMClassifier`, :class:`LSTMDeepLift`,
:class:`LSTMLRP`, :class:`TimeStepShapley`; :class:`UnrolledLSTM` is the same model built from
modules, for captum and shap.
"""

from .activations import get_activation, rescale_multiplier
from .deeplift import LSTMDeepLift
from .dense import dense_deeplift, dense_lrp
from .gates import gate_deeplift, gate_lrp
from .lrp import LSTMLRP
from .lstm import ALIASES, GATES, LSTMTrace, LSTMWeights, lstm_forward, lstm_step
from .models import GRUModel, LSTMClassifier, LSTMModel
from .products import PRODUCT_RULES, product_coefficient, shapley_product
from .teach.report import agreement, check_answer
from .shapley import shapley_values
from .timesteps import TimeStepShapley
from .unrolled import UnrolledLSTM
from .teach.counter import COUNTER_SYMBOLS, counter_inputs, counter_lstm

__all__ = [
    "ALIASES", "GATES", "PRODUCT_RULES",
    "GRUModel", "LSTMClassifier", "LSTMModel", "LSTMDeepLift", "LSTMLRP", "LSTMTrace", "LSTMWeights", "TimeStepShapley",
    "UnrolledLSTM", "agreement", "check_answer",
    "dense_deeplift", "dense_lrp", "gate_deeplift", "gate_lrp", "get_activation", "lstm_forward",
    "lstm_step", "product_coefficient", "rescale_multiplier", "shapley_product", "shapley_values",
    "COUNTER_SYMBOLS", "counter_inputs", "counter_lstm",
]
