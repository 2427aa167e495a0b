"""Exact Shapley values (seed eq. 18) and the three product rules (eq. 19–22), checked against shap and captum.

References: ``shap.explainers.Exact`` with one background row (the baseline) enumerates the same
game as :func:`shapley_values`; captum's ``DeepLift`` and shap's ``DeepExplainer`` on a module that
multiplies its two inputs give the ``"input"`` and ``"baseline"`` product rules.
"""

from math import factorial

import warnings

import numpy as np
import pytest
import torch
from captum.attr import DeepLift
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

with warnings.catch_warnings():  # shap's import warns about matplotlib deprecations
    warnings.simplefilter("ignore")
    import shap

import lstm_teach
from lstm_teach import PRODUCT_RULES, product_coefficient, shapley_product, shapley_values
from lstm_teach.shapley import MAX_PLAYERS, coalitions, shapley_matrix
from tolerance import (
    activation_error, affine_error, assert_close, eps, gamma, product_rule_error, shapley_values_error, sum_error,
)

# captum and shap announce version and hook details as warnings; they say nothing about the results.
pytestmark = pytest.mark.filterwarnings("ignore")


def randn(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


# --- games: each maps (..., n) to (...), in float64, with a bound on its rounding error ----------


def linear_game(n):
    w = randn(n, seed=100 + n)
    return (lambda X: X @ w + 0.3), (lambda X: affine_error(X, w[None], torch.tensor([0.3]))[..., 0])


def product_game(n):
    """All players multiplied together, plus a pairwise term: every coalition size matters."""
    def error(X):   # n − 1 products, one more, one sum: each term within γ_n of its size, plus the sum
        return gamma(n + 1, X.dtype) * (X.abs().prod(-1) + (X[..., 0] * X[..., -1]).abs())
    return (lambda X: X.prod(-1) + X[..., 0] * X[..., -1]), error


def mlp_game(n):
    torch.manual_seed(n)
    mlp = nn.Sequential(nn.Linear(n, 6), nn.Tanh(), nn.Linear(6, 1)).double()
    first, last = mlp[0], mlp[2]

    def error(X):   # the hidden layer's error passes through tanh and the last layer's |weights|
        z = first(X)
        e_hidden = activation_error("tanh", z, affine_error(X, first.weight, first.bias), X.dtype)
        hidden = torch.tanh(z)
        return (e_hidden @ last.weight.detach().abs().T + affine_error(hidden, last.weight, last.bias))[..., 0]
    return (lambda X: mlp(X).squeeze(-1)), error


def max_game(n):
    return (lambda X: X.max(-1).values), (lambda X: torch.zeros(X.shape[:-1], dtype=torch.float64))  # exact


GAMES = {"linear": linear_game, "product": product_game, "mlp": mlp_game, "max": max_game}


def shap_exact(game, x, baseline):
    """shap's exact explainer, the baseline as its one background row; x (..., n) flattened for shap."""
    n = x.shape[-1]

    def f(X):
        with torch.no_grad():
            return game(torch.from_numpy(X)).numpy()

    masker = shap.maskers.Independent(baseline.reshape(1, n).numpy(), max_samples=1)
    values = shap.explainers.Exact(f, masker)(x.reshape(-1, n).numpy(), silent=True).values
    return torch.from_numpy(values).reshape(x.shape)


# --- shapley_values against shap -------------------------------------------------------------


def check_shapley_values_equal_shap_exact(shapley_values, name, n):
    """``shapley_values`` (the implementation under test) against shap's Exact explainer."""
    game, game_error = GAMES[name](n)
    x = randn(2, 3, n, seed=n)                     # batched: (..., n)
    baseline = randn(n, seed=50 + n)
    with torch.no_grad():
        ours = shapley_values(game, x, baseline)
    assert ours.shape == x.shape and ours.dtype == torch.float64
    assert_close(ours, shap_exact(game, x, baseline), shapley_values_error(game, game_error, x, baseline))


@pytest.mark.parametrize("name", sorted(GAMES))
@pytest.mark.parametrize("n", range(1, 9))
def test_shapley_values_equal_shap_exact(name, n):
    check_shapley_values_equal_shap_exact(lstm_teach.shapley_values, name, n)


@pytest.mark.parametrize("name", sorted(GAMES))
@pytest.mark.parametrize("n", [1, 3, 7])
def test_efficiency(name, n):
    game, game_error = GAMES[name](n)
    x, baseline = randn(5, n, seed=1), randn(5, n, seed=2)    # one baseline per row
    with torch.no_grad():
        phi = shapley_values(game, x, baseline)
        error = sum_error(phi, -1, shapley_values_error(game, game_error, x, baseline))
        change = game(x) - game(baseline)
        change_error = game_error(x) + game_error(baseline) + eps(x.dtype) / 2 * change.abs()
        assert_close(phi.sum(-1), change, error, change_error)


@pytest.mark.parametrize("n", [2, 4, 6])
def test_symmetry(n):
    """Players 0 and 1 enter the game only through their sum; with equal values and baselines
    they get equal shares."""
    w = randn(n, seed=3)
    game = lambda X: torch.tanh(X[..., 0] + X[..., 1]) * (X[..., 2:] @ w[2:] + 1) + X.prod(-1)

    def game_error(X):   # tanh of a rounded sum, times an affine term, plus a product of n numbers
        s = X[..., 0] + X[..., 1]
        t, rest = torch.tanh(s), X[..., 2:] @ w[2:] + 1
        e_t = activation_error("tanh", s, eps(X.dtype) / 2 * s.abs(), X.dtype)
        e_rest = affine_error(X[..., 2:], w[None, 2:], torch.ones(1, dtype=X.dtype))[..., 0]
        return t.abs() * e_rest + rest.abs() * e_t + gamma(n + 1, X.dtype) * ((t * rest).abs() + X.abs().prod(-1))

    x, baseline = randn(4, n, seed=4), randn(n, seed=5)
    x[:, 1] = x[:, 0]
    baseline[1] = baseline[0]
    phi = shapley_values(game, x, baseline)
    assert_close(phi[:, 0], phi[:, 1], shapley_values_error(game, game_error, x, baseline)[:, 0])


@pytest.mark.parametrize("n", [2, 5, 8])
@pytest.mark.parametrize("dummy", [0, -1])
def test_dummy_player_gets_nothing(n, dummy):
    keep = [j for j in range(n) if j != dummy % n]
    game = lambda X: torch.sin(X[..., keep]).prod(-1) + X[..., keep].sum(-1) ** 2
    x, baseline = randn(3, n, seed=6), randn(n, seed=7)
    phi = shapley_values(game, x, baseline)
    # the game never reads the dummy: v(S ∪ {dummy}) and v(S) are the same bits, and only the
    # summation of v @ K rounds (no error from the game itself)
    no_game_error = lambda X: torch.zeros(X.shape[:-1], dtype=torch.float64)
    assert_close(phi[:, dummy], torch.zeros(3, dtype=phi.dtype), shapley_values_error(game, no_game_error, x, baseline)[:, 0], 0.0)


def test_baseline_equal_to_input_gives_zeros():
    x = randn(2, 4, seed=8)
    game = lambda X: X.prod(-1)
    phi = shapley_values(game, x, x)
    # every coalition plays x: equal values, only the summation of v @ K rounds
    no_game_error = lambda X: torch.zeros(X.shape[:-1], dtype=torch.float64)
    assert_close(phi, torch.zeros_like(x), shapley_values_error(game, no_game_error, x, x), 0.0)


def test_float32_stays_float32():
    x = randn(3, 4, seed=9).float()
    phi = shapley_values(lambda X: X.prod(-1), x, torch.zeros(4))
    assert phi.dtype == torch.float32


# --- the coalition enumeration ---------------------------------------------------------------


@pytest.mark.parametrize("n", range(1, 9))
def test_coalitions_are_the_bits_of_the_row_index(n):
    masks = coalitions(n)
    assert masks.shape == (2**n, n) and masks.dtype == torch.bool
    index = (masks.long() * 2 ** torch.arange(n)).sum(1)
    assert torch.equal(index, torch.arange(2**n))


@pytest.mark.parametrize("n", range(1, 9))
def test_shapley_matrix_weights(n):
    """K[S, j] = |S ∖ j|! (n − |S ∖ j| − 1)! / n!, positive for members, negative for the others.
    Each column sums to 0 (a constant game gives nothing); each row sums to 0 except the empty
    coalition (−1) and the full one (+1): efficiency."""
    K = shapley_matrix(n)
    masks = coalitions(n)
    size = masks.sum(1)
    for row in range(2**n):
        for j in range(n):
            s = int(size[row]) - int(masks[row, j])
            weight = factorial(s) * factorial(n - s - 1) / factorial(n)   # one correctly rounded division:
            assert K[row, j] == (weight if masks[row, j] else -weight)      # the same bits
    assert_close(K.sum(0), torch.zeros(n, dtype=K.dtype), sum_error(K, 0), 0.0)
    rows = torch.zeros(2**n, dtype=K.dtype)
    rows[0], rows[-1] = -1, 1
    assert_close(K.sum(1), rows, sum_error(K, 1), 0.0)


# --- refusals --------------------------------------------------------------------------------


def test_refuses_more_than_twenty_players_stating_the_cost():
    n = MAX_PLAYERS + 1
    with pytest.raises(ValueError, match=r"at most 20.*2\^21 = 2,097,152 evaluations"):
        shapley_values(lambda X: X.sum(-1), torch.zeros(n, dtype=torch.float64), None)


@pytest.mark.parametrize("bad_game, got", [
    (lambda X: X, r"\(8, 3\)"),                        # forgot to reduce the players
    (lambda X: X.sum(-1, keepdim=True), r"\(8, 1\)"),
    (lambda X: X.sum(-1).numpy(), "ndarray"),          # not a tensor
])
def test_wrong_shape_from_f_is_a_clear_error(bad_game, got):
    with pytest.raises(ValueError, match=r"f must map a batch \(8, 3\) to \(8,\), got " + got):
        shapley_values(bad_game, torch.ones(3, dtype=torch.float64), None)


def test_wrong_inputs_are_refused():
    with pytest.raises(TypeError, match="x must be a torch.Tensor"):
        shapley_values(lambda X: X.sum(-1), [1.0, 2.0], None)
    with pytest.raises(ValueError, match="baseline must have shape broadcastable"):
        shapley_values(lambda X: X.sum(-1), torch.ones(3, dtype=torch.float64), torch.ones(2, dtype=torch.float64))
    with pytest.raises(ValueError, match="product_rule must be one of"):
        product_coefficient("gradient", torch.ones(1), torch.ones(1))


# --- the product of two inputs ---------------------------------------------------------------


class Product(nn.Module):
    """``forward(a, b) = a * b``, elementwise: the smallest module with a product of two inputs."""

    def forward(self, a, b):
        return a * b


def product_case(seed, batch=4, size=3):
    a, b = randn(batch, size, seed=seed), randn(batch, size, seed=seed + 1)
    a0, b0 = randn(1, size, seed=seed + 2), randn(1, size, seed=seed + 3)   # one baseline row
    return a, b, a0, b0


def rule_split(rule, a, b, a0, b0, coefficient=product_coefficient):
    """``(φ_a, φ_b)`` of ``a b`` under ``rule``, from ``coefficient`` (the package's product_coefficient)."""
    return coefficient(rule, b, b0) * (a - a0), coefficient(rule, a, a0) * (b - b0)


def product_game_error(X):
    """``E`` of ``X[..., 0] * X[..., 1]``: one rounding."""
    return eps(X.dtype) / 2 * (X[..., 0] * X[..., 1]).abs()


def change_error(a, b, a0, b0):
    """``E`` of ``a b − a_0 b_0``: two products and a subtraction."""
    return eps(a.dtype) * ((a * b).abs() + (a0 * b0).abs())


def check_shapley_product_is_the_two_player_game(shapley_product, seed):
    """``shapley_product`` (the implementation under test) against the enumerated game and shap's
    Exact explainer, and its efficiency."""
    a, b, a0, b0 = product_case(seed)
    phi_a, phi_b = shapley_product(a, b, a0, b0)
    e_a, e_b = product_rule_error("shapley", a, b, a0, b0)
    game = lambda X: X[..., 0] * X[..., 1]
    x = torch.stack([a, b], -1)                                             # (B, H, 2)
    baseline = torch.stack([a0, b0], -1).expand_as(x)
    phi = shapley_values(game, x, baseline)
    enumerated = shapley_values_error(game, product_game_error, x, baseline)[..., 0]
    assert_close(phi_a, phi[..., 0], e_a, enumerated)
    assert_close(phi_b, phi[..., 1], e_b, enumerated)
    for j in range(a.shape[1]):                                             # shap: one unit at a time
        reference = shap_exact(game, x[:, j], baseline[0, j])
        assert_close(torch.stack([phi_a[:, j], phi_b[:, j]], -1), reference,
                     torch.stack([e_a[:, j], e_b[:, j]], -1), enumerated[:, j, None])
    assert_close(phi_a + phi_b, a * b - a0 * b0, e_a + e_b + eps(a.dtype) / 2 * (phi_a + phi_b).abs(), change_error(a, b, a0, b0))


@pytest.mark.parametrize("seed", [0, 10, 20])
def test_shapley_product_is_the_two_player_game(seed):
    check_shapley_product_is_the_two_player_game(lstm_teach.shapley_product, seed)


def captum_split(a, b, a0, b0):
    """captum's DeepLift on a module that multiplies its two inputs, one output unit at a time."""
    explainer = DeepLift(Product())
    columns = [explainer.attribute((a, b), baselines=(a0.expand_as(a), b0.expand_as(b)), target=j)
               for j in range(a.shape[1])]                                  # output j lives in column j
    return tuple(torch.stack([attr[k][:, j] for j, attr in enumerate(columns)], 1).detach() for k in range(2))


def shap_split(a, b, a0, b0):
    """shap's DeepExplainer on the same module: each output unit's attribution to its own inputs."""
    values = shap.DeepExplainer(Product(), [a0, b0]).shap_values([a, b], check_additivity=False)
    return tuple(torch.from_numpy(np.diagonal(v, axis1=1, axis2=2).copy()) for v in values)


LIBRARY_RULES = {"input": captum_split, "baseline": shap_split}
"""captum's DeepLift takes the gradient at the input, shap's DeepExplainer the gradient at the baseline."""


def check_product_rule_matches_library(product_coefficient, rule, seed):
    """The split of ``rule`` built on ``product_coefficient`` (the implementation under test) against
    the library that implements it, and the rule's expression itself."""
    a, b, a0, b0 = product_case(seed)
    theirs_a, theirs_b = LIBRARY_RULES[rule](a, b, a0, b0)
    phi_a, phi_b = rule_split(rule, a, b, a0, b0, product_coefficient)
    e_a, e_b = product_rule_error(rule, a, b, a0, b0)
    assert_close(phi_a, theirs_a, e_a)
    assert_close(phi_b, theirs_b, e_b)
    partner = b if rule == "input" else b0
    assert torch.equal(phi_a, partner * (a - a0))     # the rule is this expression, operation for operation


@pytest.mark.parametrize("rule", sorted(LIBRARY_RULES))
@pytest.mark.parametrize("seed", [0, 10, 20])
def test_product_rule_matches_library(rule, seed):
    check_product_rule_matches_library(lstm_teach.product_coefficient, rule, seed)


@pytest.mark.parametrize("seed", [0, 10, 20])
def test_shapley_rule_is_the_average_and_the_others_miss_by_da_db(seed):
    a, b, a0, b0 = product_case(seed)
    split = {rule: rule_split(rule, a, b, a0, b0) for rule in PRODUCT_RULES}
    errors = {rule: product_rule_error(rule, a, b, a0, b0) for rule in PRODUCT_RULES}
    u = eps(a.dtype) / 2
    for k in range(2):
        average = (split["input"][k] + split["baseline"][k]) / 2
        average_error = (errors["input"][k] + errors["baseline"][k]) / 2 + u * average.abs()
        assert_close(split["shapley"][k], average, errors["shapley"][k], average_error)
        assert torch.equal(split["shapley"][k], shapley_product(a, b, a0, b0)[k])   # the same expression
    change, second_order = a * b - a0 * b0, (a - a0) * (b - b0)
    total = {rule: sum(split[rule]) for rule in PRODUCT_RULES}
    total_error = {rule: sum(errors[rule]) + u * sum(v.abs() for v in split[rule]) for rule in PRODUCT_RULES}
    second_order_error = 1.5 * eps(a.dtype) * second_order.abs()
    e_change = change_error(a, b, a0, b0)
    assert_close(total["shapley"], change, total_error["shapley"], e_change)
    assert_close(total["input"] - change, second_order, total_error["input"] + e_change + u * (total["input"] - change).abs(), second_order_error)
    assert_close(total["baseline"] - change, -second_order, total_error["baseline"] + e_change + u * (total["baseline"] - change).abs(), second_order_error)


def test_shapley_product_broadcasts():
    a, b = randn(2, 1, 3, seed=30), randn(4, 3, seed=31)
    zero, one = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    phi_a, phi_b = shapley_product(a, b, zero, 1.0)
    assert phi_a.shape == phi_b.shape == (2, 4, 3)
    e_a, e_b = product_rule_error("shapley", a, b, zero, one)
    assert_close(phi_a + phi_b, a * b, e_a + e_b + eps(a.dtype) / 2 * (phi_a + phi_b).abs(), eps(a.dtype) / 2 * (a * b).abs())


# --- property: efficiency on random linear + product games ----------------------------------

finite = st.floats(-3, 3, allow_nan=False, allow_infinity=False)


@settings(deadline=None, max_examples=40)
@given(data=st.data(), n=st.integers(1, 6))
def test_efficiency_on_random_linear_plus_product_games(data, n):
    weights = torch.tensor(data.draw(st.lists(finite, min_size=n, max_size=n)), dtype=torch.float64)
    pairs = data.draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1), finite), max_size=4))
    scale = data.draw(finite)
    x = torch.tensor(data.draw(st.lists(finite, min_size=n, max_size=n)), dtype=torch.float64)
    baseline = torch.tensor(data.draw(st.lists(finite, min_size=n, max_size=n)), dtype=torch.float64)

    def game(X):
        value = X @ weights + scale * X.prod(-1)
        for j, k, c in pairs:
            value = value + c * X[..., j] * X[..., k]
        return value

    def game_error(X):   # each term within γ_n of its size, then a sum of n + 1 + len(pairs) terms
        magnitude = X.abs() @ weights.abs() + abs(scale) * X.abs().prod(-1)
        for j, k, c in pairs:
            magnitude = magnitude + abs(c) * (X[..., j] * X[..., k]).abs()
        return gamma(2 * n + len(pairs) + 2, X.dtype) * magnitude

    phi = shapley_values(game, x, baseline)
    change = game(x) - game(baseline)
    assert_close(phi.sum(), change, sum_error(phi, -1, shapley_values_error(game, game_error, x, baseline)),
                 game_error(x) + game_error(baseline) + eps(x.dtype) / 2 * change.abs())
