"""How far two floating-point computations of the same formula may differ: tolerances from error analysis.

Every numeric comparison in the tests goes through :func:`assert_close` with a bound computed here
from the inputs of the comparison. No tolerance is a constant read off one machine's output.

The rule
--------
Let ``u = eps / 2`` be the unit roundoff of the dtype (``eps = torch.finfo(dtype).eps``: 1.2e-7 in
float32, 2.2e-16 in float64). Every basic operation is correctly rounded: ``fl(a ∘ b) = (a ∘ b)(1 + δ)``
with ``|δ| ≤ u``. Two implementations of one formula (ours and captum's, a batched matmul and a
single-row one, AVX-512 and AVX2 kernels, 1 and 2 threads) differ in the order and grouping of
those operations, never in the exact value they approximate. So

    |ours − reference| ≤ E_ours + E_reference,

where ``E`` bounds one implementation's distance from the exact value, whatever order it uses.
:func:`assert_close` takes ``E_ours`` and (by default the same) ``E_reference``. ``E`` always has the
form ``c · eps · (condition factor)``, with the factor computed from the inputs:

* **Dot products and matmuls** (:func:`affine_error`, with or without biases). Any summation order of
  ``Σ_k a_k b_k`` (pairwise, blocked, with or without FMA, split across threads) gives
  ``|fl(Σ a_k b_k) − Σ a_k b_k| ≤ γ_n Σ |a_k b_k|`` with ``γ_n = n u / (1 − n u)`` (Higham, *Accuracy
  and Stability of Numerical Algorithms*, 2nd ed., §3.1). The condition factor is ``n Σ|a_k b_k|``,
  not ``|Σ a_k b_k|``: when the terms cancel, the error stays at the size of the terms. A bias adds
  one term per bias vector.
* **Sums** (:func:`sum_error`), e.g. completeness ``Σ_i φ_i = f(x) − f(x_b)``: ``γ_n Σ|φ_i|`` for the
  summation, plus the errors the terms already carry.
* **Elementwise functions** (:func:`activation_error`): σ and tanh from any library we compare with
  are accurate to a few ulps (SLEEF's ``u10`` kernels behind ATen: 1 ulp; ``1 / (1 + e^{−z})``: three
  roundings on top of ``exp``); we allow ``ACT_ULPS = 4`` ulps, ``≤ 4 eps |act(z)|``. An error ``e_z``
  of the argument adds ``(|act'(z)| + A2 e_z) e_z`` (Taylor with ``A2 = sup |act''|``).
* **Quotients** (LRP, DeepLift): a quotient ``q = n / d`` of two computed numbers has relative error
  ``e_n / |n| + e_d / |d| + u``. The amplification is ``|numerator| / |denominator|``:
  for LRP ``R_oi = act(z_o) W_oi x_i / d_o`` the error of ``d_o`` is ``γ_n Σ_k |W_ok x_k|``, so the
  factor is ``Σ_k |W_ok x_k| / |d_o|`` (:func:`dense_lrp_error`). DeepLift's rescale multiplier
  ``m = (act(z) − act(z_b)) / (z − z_b)`` divides two differences that cancel; the roundings of
  ``act`` are amplified by ``(|act(z)| + |act(z_b)|) / |z − z_b|``, while an error of ``z`` itself
  only moves an endpoint of the secant (numerator and denominator share the computed ``z``), which
  changes ``m`` by at most ``A2 e_z``. The contributions multiply by ``|W||Δx|``
  (:func:`rescale_error`, :func:`dense_deeplift_error`). Where
  ``|z − z_b|`` is small an implementation may switch to a derivative ``act'(ξ)`` at some ``ξ``
  between ``z_b`` and ``z`` (captum below 1e-10, shap below 1e-6; ours never needs to: it uses
  the tanh identity, accurate to a few eps at every distance, see ``lstm_teach.activations``); that
  differs from the secant by at most ``A2 |z − z_b|``. Between the two implementations' switches
  either branch may be taken, and the larger bound applies (``switch``).
* **Compositions** (:func:`lstm_forward_error`, :func:`lstm_deeplift_error`, :func:`lstm_lrp_error`,
  :func:`time_step_shapley_error`). A running error bound (Wilkinson): each quantity carries
  ``(value, error)`` and every operation maps the errors of its arguments to the error of its result
  by the rules above. Through the recurrence the local errors of each step travel with the product
  of the step Jacobians, ``Σ_s |J_t ⋯ J_{s+1}| ℓ_s`` (:func:`propagate`): the product contracts as
  the LSTM does, where a product of absolute values would grow geometrically over a long sequence.
  A backward sweep (DeepLift's multipliers, LRP's relevances) is a sum over paths of products of
  local factors; it is bounded by the same sweep run on absolute values, ``P`` (the sum of
  ``|path|``), with the error ``E`` carried alongside (:class:`_Paths`): a factor ``(|m|, e_m)``
  gives ``(P |m|, E (|m| + e_m) + P e_m + u P |m|)``, a denominator ``(d, e_d)`` divides by
  ``|d| − e_d`` where it can be off, and a matmul with ``|W|`` adds ``γ_n P |W|``. The same machinery
  bounds a deliberate change instead of rounding: another ε of the LRP ε-rule is a ``shift`` of
  every denominator.
* **Shapley values** (:func:`shapley_error`): the weights of one player's column sum to 1 over the
  coalitions with it and to −1 over those without, so the error of the game's values counts twice.

The forward and rescale bounds are first order: the neglected terms are ``O((κ u)²)``, far below the
bound as long as ``κ u ≪ 1``; where ``κ u`` approaches 1 the bound exceeds the quantity itself and the
comparison checks nothing — the honest answer for an ill-conditioned quantity (float32 on saturated
gates, say), while the float64 runs of the same checks stay sharp. Exact comparisons (``torch.equal``)
stay only where both sides run the same operations on the same operands (same function, same
shapes), or where every intermediate is exactly representable; the test says which.

The API: ``assert_close(ours, reference, error, reference_error=None)`` and ``assert_not_above``;
``eps``, ``gamma``; ``affine_error``, ``sum_error``, ``activation_error``, ``rescale_error``;
``dense_lrp_error``, ``dense_deeplift_error``, ``dense_change_error``, ``gate_lrp_error``,
``gate_deeplift_error``; ``product_rule_error``, ``shapley_error``, ``shapley_values_error``;
``lstm_forward_error``, ``lstm_score_error``, ``lstm_deeplift_error``, ``lstm_lrp_error``,
``time_step_shapley_error``. Every ``*_error`` returns ``E`` for one implementation, in float64,
with the shape of the quantity it bounds (or one that broadcasts to it).
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import torch

ACT_ULPS = 4
"""ulps allowed for one evaluation of σ or tanh (see the module docstring)."""

A2 = {"tanh": 4 / (3 * math.sqrt(3)), "sigmoid": 1 / (6 * math.sqrt(3)), "identity": 0.0}
"""sup |act''|: tanh'' peaks at 4/(3√3) ≈ 0.770, σ'' at 1/(6√3) ≈ 0.096."""

SWITCH = {"captum": 1e-10, "shap": 1e-6}
"""|z − z_b| below which captum's DeepLift and shap's DeepExplainer use the gradient at the input
instead of the secant, read from captum 0.9.0 and shap 0.51.0. Ours needs no switch (the tanh identity of
``lstm_teach.activations`` is accurate to a few eps at every distance); the bounds below treat it as the plain
quotient that switches to a derivative at ``sqrt(eps)``, whose error bound is the larger one."""

_ACT = {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "identity": lambda z: z}


def eps(dtype) -> float:
    """Machine epsilon of ``dtype`` (the spacing of floats at 1; twice the unit roundoff ``u``)."""
    return torch.finfo(dtype).eps


def gamma(n, dtype) -> float:
    """``γ_n = n u / (1 − n u)``: relative error bound of a sum or dot product of ``n`` terms."""
    nu = n * eps(dtype) / 2
    assert nu < 1, f"γ_{n} is undefined in {dtype}"
    return nu / (1 - nu)


def _as_double(t) -> torch.Tensor:
    """A detached float64 copy of a tensor, array or number."""
    return t.detach().double() if isinstance(t, torch.Tensor) else torch.as_tensor(np.asarray(t), dtype=torch.float64)


def _abs(t) -> torch.Tensor:
    return _as_double(t).abs()


def assert_close(ours, reference, error, reference_error=None, what="") -> None:
    """``|ours − reference| ≤ error + reference_error`` elementwise (``reference_error`` defaults to
    ``error``: both sides compute the same formula; pass 0 for an exact reference).

    Shapes must agree; NaN fails. The message names the worst element, its difference and its bound.
    """
    ours, reference = _as_double(ours), _as_double(reference)
    assert ours.shape == reference.shape, f"{what} shapes differ: {tuple(ours.shape)} vs {tuple(reference.shape)}"
    bound = torch.as_tensor(error, dtype=torch.float64) + torch.as_tensor(
        error if reference_error is None else reference_error, dtype=torch.float64)
    bound = bound.expand_as(ours) if bound.dim() <= ours.dim() else bound
    assert bound.shape == ours.shape, f"{what} bound shape {tuple(bound.shape)} vs {tuple(ours.shape)}"
    diff = (ours - reference).abs()
    bad = ~(diff <= bound)
    if bad.any():
        excess = torch.where(bad, diff - bound, torch.zeros_like(diff)).nan_to_num(nan=math.inf)
        k = np.unravel_index(int(excess.argmax()), tuple(ours.shape)) if ours.dim() else ()
        raise AssertionError(
            f"{what} {int(bad.sum())} of {ours.numel()} elements differ by more than their bound; at {tuple(k)}: "
            f"ours {ours[k].item():.17g}, reference {reference[k].item():.17g}, |difference| "
            f"{diff[k].item():.3e} > bound {bound[k].item():.3e}"
        )


def assert_not_above(value, limit, error, limit_error=None, what="") -> None:
    """``value ≤ limit + error + limit_error`` elementwise (``limit_error`` defaults to ``error``): a
    one-sided claim between two computed quantities, up to their rounding."""
    value, limit = _as_double(value), _as_double(limit)
    slack = torch.as_tensor(error, dtype=torch.float64) + torch.as_tensor(
        error if limit_error is None else limit_error, dtype=torch.float64)
    bad = ~(value <= limit + slack)
    assert not bad.any(), f"{what} {int(bad.sum())} elements exceed their limit by more than rounding: max excess " \
                          f"{(value - limit - slack).max().item():.3e}"


# --- sums and products ---------------------------------------------------------------------------


def affine_error(x, weight, *biases, dtype=None) -> torch.Tensor:
    """``E`` of ``z = x @ W.T + b_1 + … + b_k`` (``(..., O)``): ``γ_{I+k} (|x| @ |W|.T + Σ|b_j|)``."""
    x_abs, w_abs = _abs(x), _abs(weight)
    magnitude = x_abs @ w_abs.T + sum(_abs(b) for b in biases if b is not None)
    k = sum(b is not None for b in biases)
    return gamma(w_abs.shape[1] + k, dtype or _dtype(x, weight)) * magnitude


def sum_error(terms, dim, terms_error=0.0, dtype=None) -> torch.Tensor:
    """``E`` of ``terms.sum(dim)`` when each term already carries ``terms_error``:
    ``Σ terms_error + γ_n Σ |terms|``."""
    dtype = dtype or _dtype(terms)
    terms = _abs(terms)
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    n = math.prod(terms.shape[d] for d in dims)
    carried = torch.as_tensor(terms_error, dtype=torch.float64).expand_as(terms).sum(dims)
    return carried + gamma(max(n, 1), dtype) * terms.sum(dims)


def _dtype(*tensors):
    """The dtype the computation ran in: the least precise floating dtype among the arguments."""
    dtypes = [t.dtype for t in tensors if isinstance(t, torch.Tensor) and t.is_floating_point()]
    return max(dtypes, key=lambda d: torch.finfo(d).eps) if dtypes else torch.float64


# --- activations and the rescale multiplier ------------------------------------------------------


def _grad(name, z):
    if name == "identity":
        return torch.ones_like(z)
    a = _ACT[name](z)
    return 1 - a * a if name == "tanh" else a * (1 - a)


def activation_error(name, z, z_error, dtype) -> torch.Tensor:
    """``E`` of ``act(z)`` when ``z`` carries ``z_error``: ``(|act'(z)| + A2 e_z) e_z + ACT_ULPS eps |act(z)|``
    (identity: the error of ``z`` itself)."""
    z = _as_double(z)
    if name == "identity":
        return torch.as_tensor(z_error, dtype=torch.float64).expand_as(z).clone()
    value = _ACT[name](z).abs()
    return (_grad(name, z).abs() + A2[name] * z_error) * z_error + ACT_ULPS * eps(dtype) * value


def rescale_error(name, z, z_b, z_error, z_b_error, dtype, switch=None):
    """DeepLift's rescale multiplier ``m = (act(z) − act(z_b)) / (z − z_b)`` and its ``E``.

    Every implementation forms the secant between the pre-activations ``ẑ``, ``ẑ_b`` it computed:
    numerator and denominator share them. So an error of ``ẑ`` moves an endpoint of the secant, and
    ``|∂m/∂z| = |act'(z) − m| / |Δz|``, which is at most ``A2`` (``m = act'(η)`` for some ``η``
    between the endpoints) and at most ``(|act'(z)| + |m|) / |Δz|`` (small for saturated endpoints far
    apart): the propagated part is that slope times ``e_z`` (and likewise for ``z_b``), not divided
    by ``Δz``. Only the roundings of this
    node are: ``act`` twice (``ACT_ULPS eps (|act(z)| + |act(z_b)|)``), the two subtractions and the
    division, ``(ACT_ULPS eps (|a| + |a_b|) + u |Δa|) / |Δz| + 2u |m|`` — the amplification
    ``|act| / |z − z_b|`` of a quotient of two differences.

    A derivative ``act'(ξ)`` at any ``ξ`` between the endpoints differs from the secant by at most
    ``A2 |Δz|``; with its evaluation: ``A2 (|Δz| + e_z + e_zb) + 2 ACT_ULPS eps``. Ours is bounded as
    if it switched from the derivative to the secant at ``|Δz| = sqrt(eps)`` (its actual error, a few eps
    at every distance, is below both); ``switch`` is where the reference does
    (``SWITCH``; default: ours). Below both switches the derivative bound applies, above both the
    secant bound, in between the larger of the two.

    Returns ``(m, E_m)`` in float64, the broadcast shape of ``z`` and ``z_b``.
    """
    z, z_b = _as_double(z), _as_double(z_b)
    ours = math.sqrt(eps(dtype))
    low, high = sorted((ours, ours if switch is None else switch))
    u = eps(dtype) / 2
    dz = z - z_b
    a, a_b = _ACT[name](z), _ACT[name](z_b)
    nonzero = dz != 0
    m = torch.where(nonzero, (a - a_b) / torch.where(nonzero, dz, torch.ones_like(dz)), _grad(name, z))
    ulps = ACT_ULPS * eps(dtype) if name != "identity" else 0.0
    gap = dz.abs().clamp_min(torch.finfo(torch.float64).tiny)
    slope = torch.minimum((_grad(name, z).abs() + m.abs()) / gap, torch.full_like(gap, A2[name]))
    slope_b = torch.minimum((_grad(name, z_b).abs() + m.abs()) / gap, torch.full_like(gap, A2[name]))
    local = (ulps * (a.abs() + a_b.abs()) + u * (a - a_b).abs()) / gap
    secant = slope * z_error + slope_b * z_b_error + local + 2 * u * m.abs()
    derivative = A2[name] * (dz.abs() + z_error + z_b_error) + 2 * ulps
    either = torch.maximum(secant, derivative)
    return m, torch.where(dz.abs() >= high, secant, torch.where(dz.abs() < low, derivative, either))


# --- one dense layer (chapter 1) and one gate (chapter 3) ----------------------------------------


def _biases(bias):
    return tuple(bias) if isinstance(bias, (tuple, list)) else (bias,)


def _stabilised(d, d_error, eps_rule, dtype):
    """``d + ε sign(d)`` and its ``E``; a ``d`` within its error of 0 may take either sign (adds 2ε)."""
    d_eps = d + eps_rule * torch.where(d >= 0, 1.0, -1.0).double()
    flip = (d.abs() <= d_error) & (eps_rule > 0)
    return d_eps, d_error + eps(dtype) / 2 * d_eps.abs() + 2 * eps_rule * flip


def dense_lrp_error(x, weight, bias=None, activation="tanh", adjusted=False, eps_rule=0.0, shift=0.0) -> torch.Tensor:
    """``E`` of ``dense_lrp``: ``R_oi = act(z_o) W_oi x_i / d_o``, shape ``(..., O, I)``.

    ``E = |W_oi x_i| E_act / |d_ε| + |R_oi| (E_dε / |d_ε| + 3u)``: the activation's error passes
    through the ratio, the denominator's relative error ``E_dε / |d_ε|`` (with ``E_d = γ_n Σ_k|W_ok x_k|``,
    plus the biases in ``d = z``) multiplies the whole contribution. ``bias``: a tensor, or a tuple of
    tensors that the computation adds (a gate's ``b_i* + b_h*``). ``shift``: a deliberate change of
    every denominator, added to its error (bounds the effect of another ``eps``, to first order).
    """
    dtype = _dtype(x, weight)
    x, weight = _as_double(x), _as_double(weight)
    biases = [None if b is None else _as_double(b) for b in _biases(bias)]
    wx = x @ weight.T
    z = wx + sum(b for b in biases if b is not None)
    e_z = affine_error(x, weight, *biases, dtype=dtype)
    d, e_d = (wx, affine_error(x, weight, dtype=dtype)) if adjusted else (z, e_z)
    d_eps, e_deps = _stabilised(d, e_d + shift, eps_rule, dtype)
    d_abs = d_eps.abs().clamp_min(torch.finfo(torch.float64).tiny).unsqueeze(-1)
    terms = (weight * x.unsqueeze(-2)).abs()
    e_act = activation_error(activation, z, e_z, dtype).unsqueeze(-1)
    value = _ACT[activation](z).abs().unsqueeze(-1) * terms / d_abs
    return terms * e_act / d_abs + value * (e_deps.unsqueeze(-1) / d_abs + 1.5 * eps(dtype))


def _at_input_and_baseline(x, weight, bias, baseline):
    """The layer at ``x`` and at the baseline (zeros when None): a namespace with the computation's
    dtype, float64 ``x``, ``weight``, ``baseline``, the pre-activations ``z``, ``z_b`` and their
    errors ``e_z``, ``e_zb``."""
    dtype = _dtype(x, weight)
    x, weight = _as_double(x), _as_double(weight)
    baseline = torch.zeros_like(x) if baseline is None else _as_double(baseline).expand_as(x)
    biases = [None if b is None else _as_double(b) for b in _biases(bias)]
    total_bias = sum(b for b in biases if b is not None)
    return SimpleNamespace(
        dtype=dtype, x=x, weight=weight, baseline=baseline,
        z=x @ weight.T + total_bias, z_b=baseline @ weight.T + total_bias,
        e_z=affine_error(x, weight, *biases, dtype=dtype), e_zb=affine_error(baseline, weight, *biases, dtype=dtype),
    )


def dense_change_error(x, weight, bias=None, baseline=None, activation="tanh") -> torch.Tensor:
    """``E`` of ``act(W x + b) − act(W x_b + b)``, ``(..., O)``: both activations' errors and the subtraction."""
    at = _at_input_and_baseline(x, weight, bias, baseline)
    change = (_ACT[activation](at.z) - _ACT[activation](at.z_b)).abs()
    return (activation_error(activation, at.z, at.e_z, at.dtype) + activation_error(activation, at.z_b, at.e_zb, at.dtype)
            + eps(at.dtype) / 2 * change)


def dense_deeplift_error(x, weight, bias=None, baseline=None, activation="tanh", switch=None) -> torch.Tensor:
    """``E`` of ``dense_deeplift``: ``C_oi = m_o W_oi (x − x_b)_i``, shape ``(..., O, I)``:
    ``|W_oi Δx_i| (E_m + 3u |m_o|)`` with ``E_m`` from :func:`rescale_error`.
    ``bias`` as in :func:`dense_lrp_error`; ``baseline`` broadcastable to ``x`` (zeros when None)."""
    at = _at_input_and_baseline(x, weight, bias, baseline)
    m, e_m = rescale_error(activation, at.z, at.z_b, at.e_z, at.e_zb, at.dtype, switch)
    terms = (at.weight * (at.x - at.baseline).unsqueeze(-2)).abs()
    return terms * (e_m + 1.5 * eps(at.dtype) * m.abs()).unsqueeze(-1)


def _gate_parts(x_t, h_prev, weights, gate):
    """``[x_t; h_prev]``, ``[W_i* | W_h*]`` and ``(b_i*, b_h*)`` from the seed's names."""
    w = torch.cat([getattr(weights, f"W_i{gate}"), getattr(weights, f"W_h{gate}")], dim=1)
    return torch.cat([x_t, h_prev], -1), w, (getattr(weights, f"b_i{gate}"), getattr(weights, f"b_h{gate}"))


_GATE_ACT = {"i": "sigmoid", "f": "sigmoid", "g": "tanh", "o": "sigmoid"}


def _split(error, weights):
    return error.split([weights.input_size, weights.hidden_size], dim=-1)


def gate_lrp_error(x_t, h_prev, weights, gate, adjusted=False, eps_rule=0.0):
    """``(E_x, E_h)`` of ``gate_lrp``: the dense bound on ``[x_t; h_{t-1}]`` with both biases."""
    both, w, biases = _gate_parts(x_t, h_prev, weights, gate)
    return _split(dense_lrp_error(both, w, biases, _GATE_ACT[gate], adjusted, eps_rule), weights)


def gate_deeplift_error(x_t, h_prev, weights, gate, x_baseline, h_baseline, switch=None):
    """``(E_x, E_h)`` of ``gate_deeplift``, baselines broadcast to ``x_t`` and ``h_prev``."""
    both, w, biases = _gate_parts(x_t, h_prev, weights, gate)
    base = torch.cat([torch.as_tensor(x_baseline).expand_as(x_t), torch.as_tensor(h_baseline).expand_as(h_prev)], -1)
    return _split(dense_deeplift_error(both, w, biases, base, _GATE_ACT[gate], switch), weights)


# --- products and Shapley values (chapter 4) -------------------------------------------------------


def product_rule_error(rule, a, b, a_baseline, b_baseline):
    """``(E_a, E_b)`` of a product rule's split of ``a b`` (see ``lstm_teach.products``):
    ``φ_a = k(b, b_0) (a − a_0)`` with ``k`` the partner at the input, the baseline or their mean.
    One subtraction, at most one addition and halving, one product: ``2 eps |k|_max |Δa|`` with
    ``|k|_max`` = ``|b|``, ``|b_0|`` or ``(|b| + |b_0|) / 2``."""
    dtype = _dtype(*(t for t in (a, b, a_baseline, b_baseline) if isinstance(t, torch.Tensor)))
    a, b, a0, b0 = (_as_double(t) for t in (a, b, a_baseline, b_baseline))
    k = {"input": lambda v, v0: v.abs(), "baseline": lambda v, v0: v0.abs().expand_as(v),
         "shapley": lambda v, v0: (v.abs() + v0.abs()) / 2}[rule]
    return 2 * eps(dtype) * k(b, b0) * (a - a0).abs(), 2 * eps(dtype) * k(a, a0) * (b - b0).abs()


def coalitions(n) -> torch.Tensor:
    """All ``2^n`` coalitions of ``n`` players as a boolean mask ``(2^n, n)`` (row ``k``: the bits of ``k``)."""
    return ((torch.arange(2 ** n).unsqueeze(1) >> torch.arange(n)) & 1).bool()


def shapley_error(values_error, values, dtype) -> torch.Tensor:
    """``E`` of exact Shapley values ``φ = v @ K`` over ``n`` players from coalition values ``v``
    (``(..., 2^n)``) that carry ``values_error``: the weights of one player's column of ``K`` are
    ``+w`` (coalitions with it) and ``−w`` (without), each group summing to 1 in magnitude, so
    ``E_φ ≤ 2 max_S E_v(S) + γ_{2^n} · 2 max_S |v(S)|`` (``K`` itself is correctly rounded:
    ``s! (n − s − 1)! / n!`` is one division of exact integers). Returns ``(..., 1)``, for every player."""
    values = _abs(values)
    carried = torch.as_tensor(values_error, dtype=torch.float64).expand_as(values)
    return (2 * carried.amax(-1) + 2 * gamma(values.shape[-1], dtype) * values.amax(-1)).unsqueeze(-1)


def shapley_values_error(game, game_error, x, baseline) -> torch.Tensor:
    """``E`` of ``shapley_values(game, x, baseline)``, ``(..., 1)``: the game and its error bound
    ``game_error`` (both map ``(..., n)`` to ``(...)``) on every coalition, through :func:`shapley_error`."""
    x = torch.as_tensor(x)
    baseline = torch.as_tensor(baseline).expand_as(x)
    played = torch.where(coalitions(x.shape[-1]), x.unsqueeze(-2), baseline.unsqueeze(-2))
    with torch.no_grad():
        return shapley_error(game_error(played), game(played), x.dtype)


# --- the LSTM (chapters 2, 5, 6) ----------------------------------------------------------------------


def lstm_forward_error(x, weights, h0=None, c0=None):
    """The trace of eq. 1–6 and a first-order bound ``E`` on the error of every quantity in it.

    Local errors of step ``t`` (exact ``h_{t-1}``, ``c_{t-1}``): ``E_z = γ_{I+H+2} (|W_ih||x_t| +
    |W_hh||h_{t-1}| + |b_ih| + |b_hh|)``; each gate by :func:`activation_error`; ``c_t = f c_{t-1} + i g``
    (two products and a sum: ``eps (|f c_{t-1}| + |i g|)``, plus ``|c_{t-1}| E_f + |i| E_g + |g| E_i``);
    ``tanh(c_t)`` by :func:`activation_error`; ``h_t = o tanh(c_t)`` (one product). The local errors
    ``ℓ_s`` of the state ``y_s = (h_s, c_s)`` travel on with the step Jacobians (:func:`propagate`).
    ``E_z``, the gates and ``tanh(c_t)`` then follow from ``E_h(t-1)`` and ``E_c(t)`` by the local rules.

    Returns a namespace with the float64 trace (``z``, ``i``, ``f``, ``g``, ``o``, ``c``, ``tanh_c``,
    ``h``, ``h_prev``, ``c_prev``: ``(B, T, ·)``) and the bounds ``e_z``, ``e_i`` … ``e_h``, ``e_c_prev``
    (same shapes; the initial states count as exact).
    """
    from lstm_teach import lstm_forward

    dtype = weights.weight_ih.dtype
    trace = lstm_forward(x, weights, h0, c0)
    tr = SimpleNamespace(**{k: _as_double(getattr(trace, k)) for k in ("z", "i", "f", "g", "o", "c", "h", "h_prev", "c_prev")})
    tr.tanh_c = torch.tanh(tr.c)
    w_hh = _abs(weights.weight_hh)
    magnitude = _abs(x) @ _abs(weights.weight_ih).T + tr.h_prev.abs() @ w_hh.T + _abs(weights.bias_ih) + _abs(weights.bias_hh)
    local_z = gamma(x.shape[-1] + w_hh.shape[1] + 2, dtype) * magnitude
    local_c, _, local_h = _cell_errors(tr, _gate_errors(tr, local_z, dtype), 0.0, dtype)
    e_h, e_c = propagate(_step_jacobians(tr, _as_double(weights.weight_hh)), torch.cat([local_h, local_c], -1)).chunk(2, -1)
    tr.e_z = local_z + torch.cat([torch.zeros_like(e_h[:, :1]), e_h[:, :-1]], 1) @ w_hh.T
    tr.e_i, tr.e_f, tr.e_g, tr.e_o = _gate_errors(tr, tr.e_z, dtype)
    tr.e_c, tr.e_tanh_c, tr.e_h = _cell_errors(tr, (tr.e_i, tr.e_f, tr.e_g, tr.e_o), None, dtype, e_c)
    tr.e_c_prev = torch.cat([torch.zeros_like(e_c[:, :1]), e_c[:, :-1]], 1)
    return tr


def _gate_errors(tr, e_z, dtype):
    return [activation_error(_GATE_ACT[q], z, e, dtype) for q, z, e in zip("ifgo", tr.z.chunk(4, -1), e_z.chunk(4, -1))]


def _cell_errors(tr, e_gates, e_c_prev, dtype, e_c=None):
    """``(E_c, E_tanh(c), E_h)`` of eq. 4 and 6 from the gates' errors and ``E_c(t-1)`` (or given ``E_c``)."""
    u = eps(dtype) / 2
    i, f, g, o, c_prev = (v.abs() for v in (tr.i, tr.f, tr.g, tr.o, tr.c_prev))
    e_i, e_f, e_g, e_o = e_gates
    if e_c is None:
        e_c = f * e_c_prev + c_prev * e_f + i * e_g + g * e_i + 2 * u * (f * c_prev + i * g)
    e_tanh_c = activation_error("tanh", tr.c, e_c, dtype)
    return e_c, e_tanh_c, o * e_tanh_c + tr.tanh_c.abs() * e_o + u * tr.h.abs()


def _step_jacobians(tr, w_hh):
    """``J_t = ∂(h_t, c_t) / ∂(h_{t-1}, c_{t-1})`` of eq. 1–6, ``(B, T, 2H, 2H)``."""
    slopes = [_grad(_GATE_ACT[q], z).unsqueeze(-1) for q, z in zip("ifgo", tr.z.chunk(4, -1))]
    d_i, d_f, d_g, d_o = (s * w for s, w in zip(slopes, w_hh.chunk(4, 0)))       # ∂gate / ∂h_{t-1}
    i, f, g, o, c_prev, tanh_c = (v.unsqueeze(-1) for v in (tr.i, tr.f, tr.g, tr.o, tr.c_prev, tr.tanh_c))
    dc_dh = c_prev * d_f + g * d_i + i * d_g
    dc_dc = torch.diag_embed(tr.f)
    through_c = o * (1 - tanh_c ** 2)
    dh_dh = through_c * dc_dh + tanh_c * d_o
    return torch.cat([torch.cat([dh_dh, through_c * dc_dc], -1), torch.cat([dc_dh, dc_dc], -1)], -2)


def propagate(jacobians, local, drop=2.0 ** -40, window=64):
    """First-order error of a recurrence ``y_t = Φ_t(y_{t-1})`` with local errors ``ℓ_t``:
    ``E_y(t) = Σ_{s ≤ t} |J_t ⋯ J_{s+1}| ℓ_s``.

    The absolute value of the *product* contracts as the recurrence does; the product of absolute
    values (a plain running bound) can grow geometrically over hundreds of steps. A source whose
    product has fallen below ``drop``, or that is more than ``window`` steps old (cost: the products
    are kept per source), moves into a remainder carried on with ``|J_t|`` (a majorant).
    ``jacobians`` ``(B, T, N, N)`` (``J_0`` unused), ``local`` ``(B, T, N)``; returns ``(B, T, N)``.
    """
    batch, steps, size = local.shape
    products = local.new_zeros(0, batch, size, size)
    sources = local.new_zeros(0, batch, size, 1)
    remainder = local.new_zeros(batch, size, 1)
    eye = torch.eye(size, dtype=local.dtype).expand(1, batch, size, size)
    out = []
    for t in range(steps):
        if t > 0:
            step = jacobians[:, t]
            products, remainder = step @ products, step.abs() @ remainder
            gone = products.abs().flatten(1).amax(1) < drop
            gone[:-window] = True
            remainder = remainder + (products[gone].abs() @ sources[gone]).sum(0)
            products, sources = products[~gone], sources[~gone]
        products = torch.cat([products, eye])
        sources = torch.cat([sources, local[:, t, :, None].unsqueeze(0)])
        out.append((products.abs() @ sources).sum(0) + remainder)
    return torch.cat(out, -1).transpose(1, 2)


# --- backward sweeps through the LSTM: sums over paths, bounded on absolute values -------------------


class _Paths:
    """A backward quantity as ``P`` (the sum of ``|path|`` over all paths that reach it) and ``E``
    (the bound on its error), both float64 ``(B, n)``; ``u`` is the unit roundoff of the computation."""

    def __init__(self, P, E, u):
        self.P, self.E, self.u = P, E, u

    def times(self, value, error=0.0):
        """Multiplied by a local factor ``value`` that carries ``error``:
        ``|a b − â b̂| ≤ |a| e_b + (|b| + e_b) e_a``, plus the product's rounding."""
        value = value.abs()
        return _Paths(self.P * value, self.E * (value + error) + self.P * error + self.u * self.P * value, self.u)

    def over(self, d, d_error):
        """Divided by a denominator ``d`` that carries ``d_error``: ``|1/d̂ − 1/d| ≤ e / (|d| (|d| − e))``
        (no bound once ``e ≥ |d|``). A denominator that is exactly 0 without error passes nothing in
        every implementation (the ε-rule's zero case), so neither does the bound."""
        exact_zero = (d == 0) & (torch.as_tensor(d_error) == 0)
        d = d.abs().clamp_min(torch.finfo(torch.float64).tiny)
        margin = (d - d_error).clamp_min(torch.finfo(torch.float64).tiny)
        P = torch.where(exact_zero, 0.0, self.P / d)
        E = torch.where(exact_zero, 0.0, self.E / margin + self.P * d_error / (d * margin) + self.u * P)
        return _Paths(P, E, self.u)

    def plus(self, other):
        P = self.P + other.P
        return _Paths(P, self.E + other.E + self.u * P, self.u)

    def matmul(self, weight):
        """``· @ W`` for a ``(n, m)`` weight: ``γ_n`` on the absolute sums."""
        weight = weight.abs()
        P = self.P @ weight
        n = weight.shape[0]
        return _Paths(P, self.E @ weight + n * self.u / (1 - n * self.u) * P, self.u)


def _target_rows(target, batch):
    if target is None:
        return torch.zeros(batch, dtype=torch.long)
    return torch.as_tensor(target).expand(batch) if torch.as_tensor(target).dim() == 0 else torch.as_tensor(target)


def _head_error(model, forward, rows):
    """``|f(x)|`` and ``E_f`` of the head's score ``w · h_T + b`` for the target rows."""
    w, b = _as_double(model.head.weight)[rows], _as_double(model.head.bias)[rows]
    h = forward.h[:, -1]
    dtype = model.head.weight.dtype
    score = (w * h).sum(-1) + b
    error = (w.abs() * forward.e_h[:, -1]).sum(-1) + gamma(h.shape[-1] + 1, dtype) * ((w * h).abs().sum(-1) + b.abs())
    return score, error


def _coefficient(rule, value, value_b, error, error_b, u):
    """A product rule's coefficient of the partner factor and its ``E`` (see ``lstm_teach.products``)."""
    if rule == "input":
        return value, error
    if rule == "baseline":
        return value_b, error_b
    k = (value + value_b) / 2
    return k, (error + error_b) / 2 + u * k.abs()


def lstm_deeplift_error(model, x, baseline=None, target=None, rule="shapley", switch=None):
    """Bounds for ``LSTMDeepLift(model, rule).attribute(x, baseline, target)``: a namespace with
    ``attributions`` ``(B, T, I)``, ``delta`` ``(B,)`` (the convergence delta) and ``multipliers``
    ``(B, T, I)`` (of ``m_x``; with ``baseline = x`` these bound the gradient of the score).

    The multipliers are a backward sweep from the head's row ``w`` through the local factors of every
    step: the rescale multipliers of the four gates and of ``tanh(c_t)`` (:func:`rescale_error`, from
    the forward bounds of input and baseline, :func:`lstm_forward_error`) and the product rules'
    coefficients (the partner factor at the input, the baseline, or their mean, with its forward
    error). The sweep is bounded on absolute values (:class:`_Paths`); the attributions are
    ``m_x ⊙ (x − x_b)``. The delta ``Σ attributions − (f(x) − f(x_b))`` adds the summation
    (``γ_{TI}``) and both scores' errors.
    """
    dtype = model.lstm.weight_ih_l0.dtype
    u = eps(dtype) / 2
    from lstm_teach import LSTMWeights

    weights = LSTMWeights.from_torch(model.lstm)
    baseline = torch.zeros_like(x) if baseline is None else baseline.expand_as(x)
    fx, fb = lstm_forward_error(x, weights), lstm_forward_error(baseline, weights)
    rows = _target_rows(target, x.shape[0])

    def multiplier(name, value, value_b, error, error_b):
        m, e_m = rescale_error(name, value, value_b, error, error_b, dtype, switch)
        return m, e_m

    def k(name):
        return _coefficient(rule, getattr(fx, name), getattr(fb, name), getattr(fx, "e_" + name), getattr(fb, "e_" + name), u)

    gates = [multiplier(_GATE_ACT[q], z, z_b, e, e_b) for q, z, z_b, e, e_b in
             zip("ifgo", fx.z.chunk(4, -1), fb.z.chunk(4, -1), fx.e_z.chunk(4, -1), fb.e_z.chunk(4, -1))]
    m_tc = multiplier("tanh", fx.c, fb.c, fx.e_c, fb.e_c)
    k_tc, k_o, k_cprev, k_f, k_g, k_i = (k(name) for name in ("tanh_c", "o", "c_prev", "f", "g", "i"))
    w_head = _as_double(model.head.weight)[rows]
    h = _Paths(w_head.abs(), torch.zeros_like(w_head), u)
    c = _Paths(torch.zeros_like(w_head), torch.zeros_like(w_head), u)
    w_ih, w_hh = _as_double(weights.weight_ih), _as_double(weights.weight_hh)
    steps = x.shape[1]
    m_x = [None] * steps
    for t in reversed(range(steps)):
        at = lambda pair: (pair[0][:, t], pair[1][:, t])                   # noqa: E731
        o_path, tc_path = h.times(*at(k_tc)), h.times(*at(k_o))
        c = c.plus(tc_path.times(*at(m_tc)))
        partners = {"i": k_g, "f": k_cprev, "g": k_i, "o": None}
        z_paths = []
        for q, gate in zip("ifgo", gates):
            into = o_path if q == "o" else c.times(*at(partners[q]))
            z_paths.append(into.times(*at(gate)))
        z = _Paths(torch.cat([p.P for p in z_paths], -1), torch.cat([p.E for p in z_paths], -1), u)
        m_x[t] = z.matmul(w_ih)
        h = z.matmul(w_hh)
        c = c.times(*at(k_f))
    dx = (_as_double(x) - _as_double(baseline)).abs()
    multipliers = torch.stack([p.E for p in m_x], 1)
    P = torch.stack([p.P for p in m_x], 1) * dx
    E = multipliers * dx + 2 * u * P
    score, e_score = _head_error(model, fx, rows)
    score_b, e_score_b = _head_error(model, fb, rows)
    delta = sum_error(P, (1, 2), E, dtype) + e_score + e_score_b + u * (score - score_b).abs()
    return SimpleNamespace(attributions=E, delta=delta, multipliers=multipliers)


def lstm_lrp_error(model, x, target=None, eps_rule=1e-3, shift=0.0):
    """Bounds for ``LSTMLRP(model, eps_rule).attribute(x, target)``: a namespace with ``relevance``
    ``(B, T, I)``, ``total`` ``(B,)`` (of the relevance's sum) and ``paths`` ``(B, T, I)``, the sum of
    ``|path|`` (a majorant of ``|relevance|`` itself).

    Every ε-rule share is a ratio ``numerator / (d + ε sign d)``: the head (``h_T w / score``), the
    cell state (``f c_{t-1} / c_t`` and ``i g / c_t``) and the candidate's pre-activation
    (``x W / z_g``, ``h_{t-1} W / z_g``). Each denominator carries its forward error
    (:func:`lstm_forward_error`) plus ``shift`` (a deliberate change of every denominator, e.g. to
    bound the effect of changing ε); a denominator within its error of 0 may flip the sign of ``ε``
    (adds ``2ε``). The relevance is bounded on absolute values along every path (:class:`_Paths`).
    """
    from lstm_teach import LSTMWeights

    dtype = model.lstm.weight_ih_l0.dtype
    u = eps(dtype) / 2
    weights = LSTMWeights.from_torch(model.lstm)
    fx = lstm_forward_error(x, weights)
    rows = _target_rows(target, x.shape[0])
    score, e_score = _head_error(model, fx, rows)

    def denominator(d, d_error):
        return _stabilised(d, d_error + shift, eps_rule, dtype)

    w_head = _as_double(model.head.weight)[rows]
    h_last = fx.h[:, -1]
    start = _Paths(score.abs().unsqueeze(-1).expand_as(w_head), e_score.unsqueeze(-1).expand_as(w_head), u)
    h = start.over(*(v.unsqueeze(-1) for v in denominator(score, e_score))).times(h_last * w_head, w_head.abs() * fx.e_h[:, -1])
    c = _Paths(torch.zeros_like(h.P), torch.zeros_like(h.P), u)
    _, _, w_g, _ = _as_double(weights.weight_ih).chunk(4, 0)
    _, _, w_hg, _ = _as_double(weights.weight_hh).chunk(4, 0)
    z_g, e_z_g = fx.z.chunk(4, -1)[2], fx.e_z.chunk(4, -1)[2]
    out = [None] * x.shape[1]
    xs = _as_double(x)
    for t in reversed(range(x.shape[1])):
        c = c.plus(h)                                                           # signal-take-all at o_t
        ratio = c.over(*denominator(fx.c[:, t], fx.e_c[:, t]))
        i, f, g, c_prev = fx.i[:, t], fx.f[:, t], fx.g[:, t], fx.c_prev[:, t]
        into_g = ratio.times(i * g, i.abs() * fx.e_g[:, t] + g.abs() * fx.e_i[:, t] + u * (i * g).abs())
        c = ratio.times(f * c_prev, f.abs() * fx.e_c_prev[:, t] + c_prev.abs() * fx.e_f[:, t] + u * (f * c_prev).abs())
        per_z = into_g.over(*denominator(z_g[:, t], e_z_g[:, t]))
        out[t] = per_z.matmul(w_g).times(xs[:, t])
        h = per_z.matmul(w_hg).times(fx.h_prev[:, t], fx.e_h.new_zeros(()) if t == 0 else fx.e_h[:, t - 1])
    P = torch.stack([p.P for p in out], 1)
    E = torch.stack([p.E for p in out], 1)
    return SimpleNamespace(relevance=E, total=sum_error(P, (1, 2), E, dtype), paths=P)


def lstm_score_error(model, x, target=None):
    """The head's score ``f(x)`` for the target rows ``(B,)`` and its ``E`` (via :func:`lstm_forward_error`)."""
    from lstm_teach import LSTMWeights

    return _head_error(model, lstm_forward_error(x, LSTMWeights.from_torch(model.lstm)), _target_rows(target, x.shape[0]))


def time_step_shapley_error(model, x, baseline=None, target=None):
    """``E`` of ``TimeStepShapley(model).attribute(x, baseline, target)``, ``(B, 1)`` (every step):
    the ``2^T`` coalition sequences' scores with their forward bounds, through :func:`shapley_error`."""
    batch, steps, _ = x.shape
    baseline = torch.zeros_like(x) if baseline is None else baseline.expand_as(x)
    played = torch.where(coalitions(steps)[None, :, :, None], x[:, None], baseline[:, None])   # (B, 2^T, T, I)
    rows = _target_rows(target, batch).repeat_interleave(2 ** steps)
    score, error = lstm_score_error(model, played.flatten(0, 1), rows)
    return shapley_error(error.view(batch, -1), score.view(batch, -1), x.dtype)


# --- whole recurrent models ------------------------------------------------------------------------


def recurrent_error(model, steps: int, *magnitudes) -> torch.Tensor:
    """``E`` of any quantity computed through a whole :class:`~lstm_teach.models.RecurrentModel` (any number of
    layers and directions, an MLP head, LSTM or GRU), where the running bounds above would need a separate
    derivation for every member of the family: a coarser bound that holds for all of them.

    Every number the engine computes is a sum of products along paths through at most ``steps · layers ·
    directions`` cells; along a path each cell contributes a matrix product of ``G·H + I`` terms and a few
    dozen elementwise operations (the gates, the cell state, the rescale multipliers from the tanh identity,
    accurate to a few ulps: tests/test_engine.py). By the γ_n bound each operation adds a relative error of
    at most ``u``, so a quantity whose terms have magnitudes ``Σ|t_k|`` is off by at most
    ``γ_ops Σ|t_k| ≤ 4 · eps · ops · Σ|t_k|`` with ``ops = steps · layers · directions · (G·H + I + 8)``, the
    length of the longest chain of accumulations (the factor 4 for the few roundings per operation).
    ``magnitudes``: the sizes of the terms that cancel in the result (e.g. ``Σ|attributions|``, ``|f(x)|``,
    ``|f(x_b)|``), each (B,) or a scalar.
    """
    rnn = model.recurrent
    gates = rnn.weight_hh_l0.shape[0]
    directions = 2 if rnn.bidirectional else 1
    ops = steps * rnn.num_layers * directions * (gates + rnn.input_size + 8)
    return 4 * eps(rnn.weight_ih_l0.dtype) * ops * sum(
        m.double() if isinstance(m, torch.Tensor) else float(m) for m in magnitudes)
