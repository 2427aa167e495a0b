"""Sampled time-step Shapley values (TimeStepShapley with n_permutations): exactly efficient, unbiased
and converging to the exact values, with the sequences of an ordering sharing their states."""

from __future__ import annotations

import pytest
import torch

import lstm_teach as lt
from family import F64, Member, assert_within, build, embedded, inputs_for, ragged_lengths, random_members, \
    rounding_bound, score, targets_for
from lstm_teach.network import Network
from lstm_teach.timesteps import antithetic_orderings

MEMBERS = random_members(8, seed=29) + [Member(layers=2, tokens=True), Member(kind="GRU", bidirectional=True)]


@pytest.mark.parametrize("member", MEMBERS, ids=str)
def test_every_sampled_estimate_is_exactly_efficient(member):
    model = build(member)
    x, ref = inputs_for(model, 3, 16)
    lengths = ragged_lengths(3, 16)
    target = targets_for(model, lengths)
    values = lt.TimeStepShapley(model).attribute(x, ref, target=target, lengths=lengths, n_permutations=6, seed=0)
    f_x = score(model, embedded(model, x), target, lengths)
    f_ref = score(model, embedded(model, ref), target, lengths)
    assert_within(values.sum(1), f_x - f_ref, rounding_bound(model, 16, 4 * (f_x.abs() + f_ref.abs() + values.abs().sum(1))))
    assert (values[torch.arange(16) >= lengths.unsqueeze(1)] == 0).all()


@pytest.mark.parametrize("member", MEMBERS[::2] + [Member(hidden=8, scale=2.0)], ids=str)
def test_estimates_converge_to_the_exact_values_within_four_standard_errors(member):
    model = build(member)
    x, ref = inputs_for(model, 2, 9, seed=4)
    target = targets_for(model, torch.full((2,), 9))
    explainer = lt.TimeStepShapley(model)
    exact = explainer.attribute(x, ref, target=target)
    estimate, std = explainer.attribute(x, ref, target=target, n_permutations=600, seed=1, return_std=True)
    tie = rounding_bound(model, 9, exact.abs().sum(1, keepdim=True) + 1.0)        # dummy steps: std = 0
    assert ((estimate - exact).abs() <= 4 * std + tie).all()
    assert (std <= exact.abs().sum(1, keepdim=True)).all()


@pytest.mark.parametrize("member", [Member(layers=3, hidden=3), Member(kind="GRU", layers=2, tokens=True, readout="all"),
                                    Member(head="mlp", scale=2.0)], ids=str)
def test_shared_states_give_the_scores_of_the_models_own_forward(member):
    """The sequences of every ordering, grown as splitting groups, against the model's forward on each."""
    model = build(member)
    x, ref = inputs_for(model, 2, 7)
    x_e, ref_e = embedded(model, x), embedded(model, ref)
    explainer = lt.TimeStepShapley(model, chunk_size=40)
    target = torch.tensor([1, 0]) if member.readout == "last" else torch.tensor([0, 1])
    ranks = antithetic_orderings(7, 10, torch.Generator().manual_seed(3))
    shared = explainer._segments(Network.of(model), x_e, ref_e, target, ranks)
    masks = (ranks.unsqueeze(1) < torch.arange(8).view(1, -1, 1)).flatten(0, 1)
    step = None if member.readout == "last" else torch.full((2,), 6)
    direct = explainer._evaluate(x_e, ref_e, step, target, masks).view(2, 10, 8)
    assert_within(shared, direct, rounding_bound(model, 7, direct.abs().max()))


def test_orderings_are_independent_antithetic_pairs():
    ranks = antithetic_orderings(5, 20, torch.Generator().manual_seed(0))
    assert ranks.shape == (20, 5)
    assert (ranks.sort(1).values == torch.arange(5)).all()                        # every row an ordering
    assert torch.equal(ranks[1::2], 4 - ranks[0::2])                              # each with its reverse
    assert len({tuple(r) for r in ranks[0::2].tolist()}) > 5                      # drawn, not rotated


def test_sampling_is_reproducible_with_a_seed_and_works_beyond_twenty_steps():
    model = build(Member(layers=2, hidden=3))
    x, ref = inputs_for(model, 1, 50)
    explainer = lt.TimeStepShapley(model)
    first = explainer.attribute(x, ref, target=1, n_permutations=8, seed=5)
    assert torch.equal(first, explainer.attribute(x, ref, target=1, n_permutations=8, seed=5))
    assert not torch.equal(first, explainer.attribute(x, ref, target=1, n_permutations=8, seed=6))
    values, std = explainer.attribute(x, ref, target=1, return_std=True, n_permutations=8, seed=5)
    assert values.shape == std.shape == (1, 50)
    _, exact_std = lt.TimeStepShapley(build(Member())).attribute(*inputs_for(build(Member()), 1, 4), target=0, return_std=True)
    assert (exact_std == 0).all()


@pytest.mark.parametrize("bad", [0, 3, -2, 2.0, True, "8"])
def test_n_permutations_must_be_an_even_int(bad):
    model = build(Member())
    with pytest.raises(ValueError, match=r"n_permutations must be None \(exact\) or an even int >= 2"):
        lt.TimeStepShapley(model).attribute(*inputs_for(model, 1, 4), target=0, n_permutations=bad)


def test_exact_values_beyond_twenty_steps_are_refused_pointing_to_sampling():
    model = build(Member())
    with pytest.raises(ValueError, match=r"pass n_permutations to sample instead.*2\^21"):
        lt.TimeStepShapley(model).attribute(*inputs_for(model, 1, 21), target=0)
