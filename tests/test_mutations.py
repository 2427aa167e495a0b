"""Deliberate errors must fail the same checks that pass on the package: the tolerances of
``tests/tolerance.py`` are tight enough to catch real mistakes.

The pattern
-----------
1. A *check* is a function ``check_<what>(implementation, *case)`` in the test module of that
   feature. It takes the implementation under test (a public function of the package, or a
   function that builds public objects such as ``LSTMWeights``) as its first argument, compares
   it with an independent reference through :func:`tolerance.assert_close`, and raises
   ``AssertionError`` when they disagree. The feature's tests call it with the package's function.
2. Here a *mutation* breaks one thing, in one of two ways:
   * a wrapper that passes mutated inputs through the public API (``drop_bias`` below), handed to
     the check as the implementation; or
   * ``monkeypatch`` on a public function or method that the implementation uses inside
     (:func:`patch_everywhere` also replaces the copies that other modules imported by name),
     after which the check is called with the package's own function.
3. ``assert_fails(check, ...)`` asserts that the check now raises, from a comparison with its
   error bound. Each mutation is run on a case
   where the error matters (a bias present, a baseline that is not zero, an asymmetric game).

To add a mutation for another part of the package (the recurrent engine, say): write its check as
``check_x(implementation, ...)``, call it from that part's tests, and add a test here that applies
the mutation and calls ``assert_fails(check_x, ...)`` with the same case.
"""

import sys

import pytest
import torch

import lstm_teach
from lstm_teach import LSTMWeights
from lstm_teach.activations import rescale_multiplier
from lstm_teach.epsilon import epsilon_rule
from lstm_teach.products import product_coefficient
from lstm_teach.shapley import shapley_matrix
from test_dense import check_deeplift_matches_captum, check_lrp_tanh_matches_captum
from test_gates import check_gate_deeplift_matches_captum, check_gate_lrp_definition
from test_lstm import check_forward_matches_nn_lstm
from test_shapley import (
    check_product_rule_matches_library, check_shapley_product_is_the_two_player_game,
    check_shapley_values_equal_shap_exact,
)

pytestmark = pytest.mark.filterwarnings("ignore")

F64 = torch.float64


def patch_everywhere(monkeypatch, original, replacement):
    """Replace the function ``original`` by ``replacement`` in every ``lstm_teach`` module that holds
    it (its own module, and those that imported it by name)."""
    for name, module in list(sys.modules.items()):
        if name == "lstm_teach" or name.startswith("lstm_teach."):
            for attribute, value in list(vars(module).items()):
                if value is original:
                    monkeypatch.setattr(module, attribute, replacement)


def assert_fails(check, *case):
    """The check raises, and from a comparison with its error bound (not from anything else)."""
    with pytest.raises(AssertionError, match="differ by more than their bound"):
        check(*case)


# --- a dropped bias in a denominator ---------------------------------------------------------------


def test_lrp_denominator_without_the_bias_fails(monkeypatch):
    """ε-rule shares divided by W x (the terms' sum) where eq. 10 divides by z = W x + b."""
    def without_bias(terms, d, relevance, eps):
        return epsilon_rule(terms, terms.sum(-1), relevance, eps)

    patch_everywhere(monkeypatch, epsilon_rule, without_bias)
    assert_fails(check_lrp_tanh_matches_captum, lstm_teach.dense_lrp, (5, 4), True, F64)
    assert_fails(check_lrp_tanh_matches_captum, lstm_teach.dense_lrp, (8, 3), True, torch.float32)
    assert_fails(check_gate_lrp_definition, lstm_teach.gate_lrp, "f", False, 3, 4, 5, 0)


def test_deeplift_without_the_bias_fails():
    """The layer's bias left out: act is evaluated at W x and W x_b instead of W x + b and W x_b + b."""
    def drop_bias(x, weight, bias=None, baseline=None, activation="tanh"):
        return lstm_teach.dense_deeplift(x, weight, None, baseline, activation)

    for activation in ("tanh", "sigmoid"):
        for dtype in (F64, torch.float32):
            assert_fails(check_deeplift_matches_captum, drop_bias, (5, 4), activation, True, "random", dtype)


def test_deeplift_denominator_of_the_seed_fails(monkeypatch):
    """Seed eq. 12: the change divided by z instead of z − z_b (right only for a zero baseline)."""
    def over_z(act, z, z_b):
        return (act.fn(z) - act.fn(z_b)) / z

    patch_everywhere(monkeypatch, rescale_multiplier, over_z)
    assert_fails(check_deeplift_matches_captum, lstm_teach.dense_deeplift, (5, 4), "tanh", True, "random", F64)
    assert_fails(check_deeplift_matches_captum, lstm_teach.dense_deeplift, (8, 3), "sigmoid", False, "random", torch.float32)


def test_gate_without_the_recurrent_bias_fails(monkeypatch):
    """Seed eq. 14's error: the gate's bias is b_i* alone, b_h* dropped (LSTMWeights.gate_layer)."""
    def gate_layer(self, gate):
        weight, _ = original(self, gate)
        return weight, getattr(self, f"b_i{lstm_teach.lstm.canonical_gate(gate)}")

    original = LSTMWeights.gate_layer
    monkeypatch.setattr(LSTMWeights, "gate_layer", gate_layer)
    for gate in lstm_teach.GATES:
        assert_fails(check_gate_deeplift_matches_captum, lstm_teach.gate_deeplift, F64, gate, 3, 4, 5, 0)
    assert_fails(check_gate_lrp_definition, lstm_teach.gate_lrp, "i", False, 3, 4, 5, 0)


# --- swapped gates ---------------------------------------------------------------------------------


def test_gate_layer_with_swapped_rows_fails(monkeypatch):
    """gate_layer reads the forget gate's rows for the input gate and the other way round."""
    def gate_layer(self, gate):
        letter = lstm_teach.lstm.canonical_gate(gate)
        return original(self, {"i": "f", "f": "i"}.get(letter, letter))

    original = LSTMWeights.gate_layer
    monkeypatch.setattr(LSTMWeights, "gate_layer", gate_layer)
    for gate in ("i", "f"):
        assert_fails(check_gate_deeplift_matches_captum, lstm_teach.gate_deeplift, F64, gate, 3, 4, 5, 0)
        assert_fails(check_gate_deeplift_matches_captum, lstm_teach.gate_deeplift, torch.float32, gate, 2, 6, 4, 3)


@pytest.mark.parametrize("first, second", [("i", "f"), ("f", "g"), ("g", "o")])
def test_weights_read_in_the_wrong_gate_order_fail(first, second):
    """LSTMWeights built from nn.LSTM with two gate blocks exchanged (another gate order than i, f, g, o)."""
    def swapped_from_torch(module):
        weights = LSTMWeights.from_torch(module)
        order = list(lstm_teach.GATES)
        j, k = order.index(first), order.index(second)
        order[j], order[k] = order[k], order[j]
        rows = torch.cat([torch.arange(weights.hidden_size) + lstm_teach.GATES.index(g) * weights.hidden_size
                          for g in order])
        return LSTMWeights(*(getattr(weights, name)[rows] for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")))

    for dtype in (F64, torch.float32):
        assert_fails(check_forward_matches_nn_lstm, swapped_from_torch, dtype, 7, 3, 4, 5, 1, "given")


# --- a wrong product rule --------------------------------------------------------------------------


def partner_swapped(rule, other, other_baseline):
    """The input and baseline rules take each other's partner."""
    swapped = {"input": "baseline", "baseline": "input"}.get(rule, rule)
    return product_coefficient(swapped, other, other_baseline)


def partner_at_input(rule, other, other_baseline):
    """The Shapley rule takes the partner at the input (captum's rule) instead of the mean."""
    return product_coefficient("input" if rule == "shapley" else rule, other, other_baseline)


def test_product_rules_with_the_wrong_partner_fail(monkeypatch):
    patch_everywhere(monkeypatch, product_coefficient, partner_swapped)
    assert_fails(check_product_rule_matches_library, lstm_teach.products.product_coefficient, "input", 0)
    assert_fails(check_product_rule_matches_library, lstm_teach.products.product_coefficient, "baseline", 10)


def test_shapley_product_with_the_partner_at_the_input_fails(monkeypatch):
    patch_everywhere(monkeypatch, product_coefficient, partner_at_input)
    for seed in (0, 10, 20):
        assert_fails(check_shapley_product_is_the_two_player_game, lstm_teach.shapley_product, seed)


# --- Shapley weights -------------------------------------------------------------------------------


def test_shapley_values_with_players_mixed_up_fail(monkeypatch):
    """The weight matrix's columns rolled by one: every player gets its neighbour's value."""
    def rolled(n, dtype=torch.float64, device=None):
        return shapley_matrix(n, dtype, device).roll(1, dims=1)

    patch_everywhere(monkeypatch, shapley_matrix, rolled)
    for name in ("linear", "mlp", "product"):
        assert_fails(check_shapley_values_equal_shap_exact, lstm_teach.shapley_values, name, 4)
