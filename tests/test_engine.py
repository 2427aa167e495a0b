"""The engine's own promises: its two forward paths agree, subnormals are flushed only while it runs,
and the rescale multiplier is accurate where the plain quotient is not."""

from __future__ import annotations

import pytest
import torch

import lstm_teach as lt
import lstm_teach.sweep as sweep_module
from family import F32, F64, Member, assert_within, build, inputs_for, ragged_lengths, rounding_bound, targets_for
from lstm_teach.activations import get_activation, rescale_multiplier
from lstm_teach.subnormal import flushing_subnormals

EXPLAIN = {
    "deeplift": lambda m, x, ref, target, lengths: lt.LSTMDeepLift(m).attribute(x, ref, target=target, lengths=lengths),
    "baseline": lambda m, x, ref, target, lengths: lt.LSTMDeepLift(m, "baseline").attribute(x, ref, target=target, lengths=lengths),
    "lrp": lambda m, x, ref, target, lengths: lt.LSTMLRP(m, 0.01).attribute(x, target=target, lengths=lengths),
}


@pytest.mark.parametrize("name", EXPLAIN)
@pytest.mark.parametrize("member", [
    Member(layers=2, bidirectional=True, tokens=True, head="mlp"),
    Member(kind="GRU", layers=2, bidirectional=True, readout="all", scale=2.0),
    Member(hidden=6, scale=3.0),
], ids=str)
@pytest.mark.parametrize("dtype", [F64, F32], ids=["float64", "float32"])
def test_the_fast_paths_and_the_step_by_step_reference_give_the_same_attributions(member, name, dtype, monkeypatch):
    """The fast paths (h_t from PyTorch's fused kernel, the rest recomputed; the backward sweep by per-step
    Jacobians) against the reference (the equations step by step; the sweep step by step), at several block
    sizes."""
    model = build(member, dtype)
    x, ref = inputs_for(model, 3, 9, std=2.0)
    lengths = ragged_lengths(3, 9)
    target = targets_for(model, lengths)
    results = []
    for fused_below, block, jacobian_below in ((0, 1 << 16, 0), (1 << 62, 1 << 16, 0), (0, 1, 1 << 62),
                                               (1 << 62, 7 * 64, 1 << 62)):
        block = {True: block, False: block}
        monkeypatch.setattr(sweep_module, "_FUSED_BELOW", fused_below)
        monkeypatch.setattr(sweep_module, "_BLOCK", block)
        monkeypatch.setattr(sweep_module, "_JACOBIAN_BELOW", jacobian_below)
        results.append(EXPLAIN[name](model, x, ref, target, lengths))
    scale = sum(r.abs().sum() for r in results) + 1.0
    for other in results[1:]:
        assert_within(other, results[0], rounding_bound(model, 9, scale))


@pytest.mark.parametrize("before", [False, True])
def test_subnormals_are_flushed_only_while_attributing(before, monkeypatch):
    model = build(Member(hidden=3))
    x, ref = inputs_for(model, 2, 5)
    seen = []
    original = sweep_module.sweep

    def spy(*args, **kwargs):
        seen.append(flushing_subnormals())
        return original(*args, **kwargs)

    monkeypatch.setattr("lstm_teach.network.sweep", spy)
    torch.set_flush_denormal(before)
    try:
        lt.LSTMDeepLift(model).attribute(x, ref, target=1)
        assert seen == [True]
        assert flushing_subnormals() == before
    finally:
        torch.set_flush_denormal(False)


def test_flushing_changes_nothing_measurable_on_a_long_saturated_sequence():
    """Multipliers reach the subnormal range far back in a long sequence; flushing them moves the
    attributions by less than the smallest normal float, and completeness holds."""
    model = build(Member(hidden=8, scale=2.0), F32)
    x, ref = inputs_for(model, 2, 400, std=2.0)
    with_flush, delta = lt.LSTMDeepLift(model).attribute(x, ref, target=1, return_convergence_delta=True)
    network = lt.network.Network.of(model)
    rows = lt.explainer.Explainer(model)._batch(x, ref, 1)
    m_x, score, score_ref = lt.network.multipliers(network, rows.x, rows.references(), rows.lengths, None,
                                                   rows.target, lt.rules.deeplift_rules("shapley"))
    without = m_x * (rows.x - rows.x_ref)
    tiny = torch.finfo(F32).tiny
    assert (with_flush - without).abs().max() <= 64 * tiny
    assert_within(delta, torch.zeros_like(delta), rounding_bound(model, 400, with_flush.abs().sum((1, 2)), score.abs(), score_ref.abs()))


@pytest.mark.parametrize("name", ["tanh", "sigmoid"])
@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
def test_rescale_multiplier_is_accurate_where_the_quotient_cancels(name, dtype):
    """Against the quotient in 40-digit arithmetic (mpmath) of the same rounded inputs: within a few units
    of the dtype's eps at every distance |z − z_b| from 1 down to 0, where the plain quotient's error grows
    like eps / |z − z_b|. (The activations are rounded to eps, so the prefactor 1 − y y_b is known to a
    few eps: that is the floor.)"""
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 40
    act = get_activation(name)
    exact_fn = {"tanh": mpmath.tanh, "sigmoid": lambda v: 1 / (1 + mpmath.exp(-v))}[name]
    g = torch.Generator().manual_seed(0)
    z = (4 * torch.rand(300, generator=g, dtype=F64) - 2).to(dtype)
    z_b = (z.double() + torch.logspace(0, -12, 300, dtype=F64)).to(dtype)
    ours = rescale_multiplier(act, z, z_b).double()
    exact = []
    for a, b in zip(z.double().tolist(), z_b.double().tolist()):
        a, b = mpmath.mpf(a), mpmath.mpf(b)
        exact.append(float(mpmath.diff(exact_fn, a) if a == b else (exact_fn(a) - exact_fn(b)) / (a - b)))
    eps = torch.finfo(dtype).eps
    exact = torch.tensor(exact, dtype=F64)
    assert (ours - exact).abs().max() <= 8 * eps
    moved = z != z_b
    naive = ((act.fn(z) - act.fn(z_b)) / (z - z_b))[moved].double()
    assert (naive - exact[moved]).abs().max() > 1e3 * eps            # the plain quotient is far off


# ----------------------------------------------------------------------------- deliberate errors

from test_family import check_captum, check_complete, check_lrp, check_padding  # noqa: E402

FAMILY = Member(layers=2, bidirectional=True, tokens=True, head="mlp")


def fails(check, *case):
    """The check raises from a comparison with its bound, not from anything else."""
    with pytest.raises(AssertionError, match="differ by more than their bound|assert"):
        check(*case)


def test_the_family_checks_pass_on_the_package():
    check_complete(FAMILY)
    check_complete(Member(kind="GRU", layers=2, readout="all"))
    check_captum(FAMILY)
    check_lrp(Member(layers=2, bidirectional=True), 0.25)
    check_padding(FAMILY, "deeplift")


def test_swapped_gates_fail_completeness(monkeypatch):
    """The forward gate values with the input and forget gates swapped (eq. 1 and 2 confused)."""
    original = lt.lstm.lstm_gates

    def swapped(z, act=lt.lstm.FUNCTIONS):
        i, f, g, o = original(z, act)
        return f, i, g, o

    monkeypatch.setattr(lt.lstm, "lstm_gates", swapped)
    fails(check_complete, FAMILY)


def test_a_wrong_product_rule_fails_completeness(monkeypatch):
    """The Shapley split taking the partner at the input only (captum's rule) where it takes the mean."""
    monkeypatch.setattr(lt.rules.ShapleyProduct, "coefficient", lambda self, other, other_ref: other)
    fails(check_complete, FAMILY)
    fails(check_complete, Member(kind="GRU", layers=2, readout="all"))


def test_a_product_split_in_the_wrong_place_fails_against_captum(monkeypatch):
    """The input rule taking the partner at the baseline in the sweep."""
    monkeypatch.setattr(lt.rules.InputProduct, "coefficient", lambda self, other, other_ref: other_ref)
    fails(check_captum, FAMILY)


def test_an_lrp_without_the_epsilon_denominators_fails(monkeypatch):
    """The ε-rule's factor z / (z + ε sign z) dropped: the biases and ε no longer absorb anything."""
    monkeypatch.setattr(lt.rules.Epsilon, "__call__", lambda self, z: None)
    fails(check_lrp, Member(layers=2, bidirectional=True), 0.25)


def test_lrp_giving_the_gate_the_relevance_fails(monkeypatch):
    """Signal-take-all the wrong way round: the gate takes all, the signal nothing."""
    monkeypatch.setattr(lt.rules.SignalTakeAll, "__call__", lambda self, a, a_ref, s, s_ref: (s, torch.zeros_like(a)))
    fails(check_lrp, Member(layers=2, bidirectional=True), 0.25)


def test_a_backward_direction_that_ignores_lengths_fails_the_padding_check(monkeypatch):
    """Reversing whole rows instead of each row's valid steps."""
    monkeypatch.setattr(lt.network, "reversal",
                        lambda lengths, steps: torch.arange(steps - 1, -1, -1).unsqueeze(1).expand(steps, len(lengths)))
    fails(check_padding, FAMILY, "deeplift")
