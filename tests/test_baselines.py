"""Chapter 11's teaching helpers: blurred and expected baselines, rank similarity, Mahalanobis distance."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from family import F64, Member, assert_within, build, inputs_for, rounding_bound, score
from lstm_teach import LSTMDeepLift, TimeStepShapley
from lstm_teach.teach.baselines import blurred_baseline, expected_attributions
from lstm_teach.teach.distribution import mahalanobis
from lstm_teach.teach.similarity import average_ranks, rank_correlation, top_k_overlap

EPS = torch.finfo(F64).eps


# --- blurred baseline ---------------------------------------------------------------------------

def test_blur_is_the_normalised_gaussian_average():
    x = torch.randn(2, 6, 3, dtype=F64, generator=torch.Generator().manual_seed(0))
    width = 1.7
    expected = torch.empty_like(x)
    for t in range(6):                                   # the formula of the docstring, one step at a time
        w = torch.tensor([math.exp(-((t - s) ** 2) / (2 * width ** 2)) for s in range(6)], dtype=F64)
        expected[:, t] = (w[None, :, None] * x).sum(1) / w.sum()
    bound = 8 * EPS * 6 * x.abs().max()                  # six terms summed in another order
    assert (blurred_baseline(x, width) - expected).abs().max() <= bound


def test_blur_limits_and_constants():
    x = torch.randn(3, 8, 2, dtype=F64, generator=torch.Generator().manual_seed(1))
    assert torch.equal(blurred_baseline(x, 1e-3), x)     # the neighbours' weights underflow to 0
    torch.testing.assert_close(blurred_baseline(x, math.inf), x.mean(1, keepdim=True).expand_as(x), rtol=0, atol=0)
    constant = torch.full((1, 5, 1), 2.5, dtype=F64)
    assert (blurred_baseline(constant, 3.0) - 2.5).abs().max() <= 8 * EPS * 5 * 2.5


@pytest.mark.parametrize("width", [0, -1.0, True, "2"])
def test_blur_refuses_a_bad_width(width):
    with pytest.raises(ValueError, match="width"):
        blurred_baseline(torch.zeros(1, 4, 1), width)


def test_blur_refuses_a_bad_shape():
    with pytest.raises(ValueError, match=r"\(B, T, I\)"):
        blurred_baseline(torch.zeros(4, 1), 1.0)


# --- expected baseline ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def two_outputs():
    return build(Member(outputs=2), seed=3)


def test_expected_attributions_average_the_pairs(two_outputs):
    model = two_outputs
    x, _ = inputs_for(model, 3, 5, seed=4)
    background, _ = inputs_for(model, 4, 5, seed=5)
    target = torch.tensor([0, 1, 1])
    explain = LSTMDeepLift(model, "baseline").attribute
    ours = expected_attributions(explain, x, background, target=target)
    one_by_one = torch.stack([torch.stack([explain(x[i:i + 1], background[k:k + 1], target=int(target[i]))[0]
                                           for k in range(4)]).mean(0) for i in range(3)])
    assert_within(ours, one_by_one, rounding_bound(model, 5, ours.abs().amax((1, 2))))


def test_expected_attributions_of_a_complete_method_sum_to_the_mean_difference(two_outputs):
    model = two_outputs
    x, _ = inputs_for(model, 3, 5, seed=6)
    background, _ = inputs_for(model, 6, 5, seed=7)
    steps = expected_attributions(TimeStepShapley(model).attribute, x, background, target=1)
    total = score(model, x, torch.ones(3, dtype=torch.long)) - score(model, background, torch.ones(6, dtype=torch.long)).mean()
    assert_within(steps.sum(1), total, rounding_bound(model, 5, steps.abs().sum(1), total.abs()))


def test_expected_attributions_refuse_a_mismatched_background(two_outputs):
    x, _ = inputs_for(two_outputs, 2, 5)
    with pytest.raises(ValueError, match="background"):
        expected_attributions(LSTMDeepLift(two_outputs).attribute, x, x[:, :4])


# --- rank correlation and top-k overlap -------------------------------------------------------

def _spearman(a, b):
    """Spearman's rho written out: average ranks by counting, then Pearson's correlation (numpy)."""
    def ranks(v):
        return [sum(w < x for w in v) + (sum(w == x for w in v) + 1) / 2 for x in v]
    return np.corrcoef(ranks(a), ranks(b))[0, 1]


@given(st.lists(st.tuples(st.integers(-3, 3), st.integers(-3, 3)), min_size=3, max_size=12))
def test_rank_correlation_is_spearmans_rho_with_ties(pairs):
    a = torch.tensor([p[0] for p in pairs], dtype=F64)
    b = torch.tensor([p[1] for p in pairs], dtype=F64)
    ours = rank_correlation(a, b)[0].item()
    if a.unique().numel() == 1 or b.unique().numel() == 1:
        assert ours == 0.0                               # no order: defined as 0, never NaN
    else:
        assert abs(ours - _spearman(a.tolist(), b.tolist())) <= 64 * EPS


def test_ranks_average_over_ties():
    assert average_ranks(torch.tensor([3.0, 1.0, 3.0, 2.0])).tolist() == [[3.5, 1.0, 3.5, 2.0]]


def test_top_k_overlap_counts_shared_members_by_magnitude():
    a = torch.tensor([[5.0, -4.0, 0.1, 3.0], [1.0, 2.0, 3.0, 4.0]])
    b = torch.tensor([[-6.0, 0.0, 2.0, 3.5], [4.0, 3.0, 2.0, 1.0]])
    assert top_k_overlap(a, b, 2).tolist() == [0.5, 0.0]
    assert top_k_overlap(a, b, 4).tolist() == [1.0, 1.0]


def test_similarity_refuses_bad_arguments():
    with pytest.raises(ValueError, match="same shape"):
        rank_correlation(torch.zeros(2, 3), torch.zeros(2, 4))
    with pytest.raises(ValueError, match="k must"):
        top_k_overlap(torch.zeros(2, 3), torch.zeros(2, 3), 4)
    with pytest.raises(ValueError, match="n ≥ 2"):
        rank_correlation(torch.zeros(1), torch.zeros(1))


# --- Mahalanobis distance ---------------------------------------------------------------------

def test_mahalanobis_matches_the_inverse_covariance_formula():
    g = torch.Generator().manual_seed(8)
    reference = torch.randn(50, 4, 2, dtype=F64, generator=g) @ torch.randn(2, 2, dtype=F64, generator=g)
    points = torch.randn(7, 4, 2, dtype=F64, generator=g)
    flat, ref = points.flatten(1).numpy(), reference.flatten(1).numpy()
    inverse = np.linalg.inv(np.cov(ref, rowvar=False))
    centred = flat - ref.mean(0)
    expected = np.sqrt(np.einsum("ni,ij,nj->n", centred, inverse, centred))
    condition = np.linalg.cond(np.cov(ref, rowvar=False))
    np.testing.assert_allclose(mahalanobis(points, reference).numpy(), expected, rtol=64 * EPS * condition)


def test_mahalanobis_is_invariant_under_a_linear_change_of_coordinates():
    g = torch.Generator().manual_seed(9)
    reference, points = torch.randn(40, 3, dtype=F64, generator=g), torch.randn(5, 3, dtype=F64, generator=g)
    mix = torch.randn(3, 3, dtype=F64, generator=g) + 3 * torch.eye(3, dtype=F64)
    shift = torch.randn(3, dtype=F64, generator=g)
    moved = mahalanobis(points @ mix.T + shift, reference @ mix.T + shift)
    condition = torch.linalg.cond(mix).item() ** 2
    assert (moved - mahalanobis(points, reference)).abs().max() <= 256 * EPS * condition * moved.max()


def test_mahalanobis_refuses_too_few_reference_rows():
    with pytest.raises(ValueError, match="more rows than dimensions"):
        mahalanobis(torch.zeros(2, 5, dtype=F64), torch.randn(5, 5, dtype=F64))
