"""The LSTM written from its equations (seed 1 eq. 1–6) against torch.nn.LSTM and nn.LSTMCell;
weights addressed by the seed's names; the trace; the hand-set counter LSTM of chapter 2."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import lstm_teach
from lstm_teach import ALIASES, GATES, LSTMWeights, lstm_forward, lstm_step
from tolerance import activation_error, affine_error, assert_close, assert_not_above, eps, lstm_forward_error

DTYPES = [torch.float32, torch.float64]



def make_lstm(input_size, hidden_size, dtype, seed, bias=True):
    torch.manual_seed(seed)
    return nn.LSTM(input_size, hidden_size, batch_first=True, bias=bias).to(dtype)


def random_inputs(batch, steps, input_size, hidden_size, dtype, seed):
    g = torch.Generator().manual_seed(seed + 1000)
    x = torch.randn(batch, steps, input_size, generator=g, dtype=dtype)
    h0 = 0.5 * torch.randn(batch, hidden_size, generator=g, dtype=dtype)
    c0 = torch.randn(batch, hidden_size, generator=g, dtype=dtype)
    return x, h0, c0


# --------------------------------------------------------------------------- forward vs torch

def check_forward_matches_nn_lstm(weights_from_torch, dtype, steps, batch, input_size, hidden_size, seed, initial):
    """``lstm_forward`` on the weights that ``weights_from_torch`` (the implementation under test)
    reads from an ``nn.LSTM``, against that module: h at every step, c at every step (fed one step
    at a time), and the final states."""
    lstm = make_lstm(input_size, hidden_size, dtype, seed)
    x, h0, c0 = random_inputs(batch, steps, input_size, hidden_size, dtype, seed)
    weights = weights_from_torch(lstm)
    with torch.no_grad():
        if initial == "zeros":
            h0 = c0 = None
            out, (h_n, c_n) = lstm(x)
            h_state = c_state = torch.zeros(1, batch, hidden_size, dtype=dtype)
        else:
            out, (h_n, c_n) = lstm(x, (h0.unsqueeze(0), c0.unsqueeze(0)))
            h_state, c_state = h0.unsqueeze(0), c0.unsqueeze(0)
        trace = lstm_forward(x, weights, h0, c0)
        # nn.LSTM returns c only at the end: feed it one step at a time to see c_t at every step
        cells = []
        for t in range(steps):
            _, (h_state, c_state) = lstm(x[:, t:t + 1], (h_state, c_state))
            cells.append(c_state[0])
    bound = lstm_forward_error(x, LSTMWeights.from_torch(lstm), h0, c0)
    assert trace.h.dtype == out.dtype
    assert_close(trace.h, out, bound.e_h)
    assert_close(trace.c, torch.stack(cells, dim=1), bound.e_c)
    assert_close(trace.h[:, -1], h_n[0], bound.e_h[:, -1])
    assert_close(trace.c[:, -1], c_n[0], bound.e_c[:, -1])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("steps", [1, 7, 200])
@pytest.mark.parametrize("batch, input_size, hidden_size, seed", [
    (1, 1, 1, 0), (3, 4, 5, 1), (8, 6, 2, 2), (2, 2, 16, 3),
])
@pytest.mark.parametrize("initial", ["zeros", "given"])
def test_forward_matches_nn_lstm(dtype, steps, batch, input_size, hidden_size, seed, initial):
    check_forward_matches_nn_lstm(LSTMWeights.from_torch, dtype, steps, batch, input_size, hidden_size, seed, initial)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("steps", [1, 7, 200])
@pytest.mark.parametrize("batch, input_size, hidden_size, seed", [(1, 3, 2, 4), (5, 2, 7, 5)])
def test_step_matches_nn_lstm_cell(dtype, steps, batch, input_size, hidden_size, seed):
    torch.manual_seed(seed)
    cell = nn.LSTMCell(input_size, hidden_size).to(dtype)
    weights = LSTMWeights.from_torch(cell)
    x, h, c = random_inputs(batch, steps, input_size, hidden_size, dtype, seed)
    h_ref, c_ref = h, c
    whole = lstm_forward(x, weights, h, c)
    bound = lstm_forward_error(x, weights, h, c)     # any computation of the recurrence, step by step or whole
    with torch.no_grad():
        for t in range(steps):
            step = lstm_step(x[:, t], h, c, weights)
            h_ref, c_ref = cell(x[:, t], (h_ref, c_ref))
            assert step.h.shape == (batch, 1, hidden_size)
            assert_close(step.h[:, 0], h_ref, bound.e_h[:, t])
            assert_close(step.c[:, 0], c_ref, bound.e_c[:, t])
            assert_close(whole.h[:, t], h_ref, bound.e_h[:, t])
            assert_close(whole.c[:, t], c_ref, bound.e_c[:, t])
            h, c = step.h[:, 0], step.c[:, 0]


@settings(deadline=None, max_examples=25)
@given(
    batch=st.integers(1, 4), steps=st.integers(1, 12), input_size=st.integers(1, 6),
    hidden_size=st.integers(1, 6), seed=st.integers(0, 10_000), scale=st.floats(0.1, 5.0),
)
def test_forward_matches_nn_lstm_property(batch, steps, input_size, hidden_size, seed, scale):
    lstm = make_lstm(input_size, hidden_size, torch.float64, seed)
    with torch.no_grad():
        for p in lstm.parameters():
            p.mul_(scale)
    x, h0, c0 = random_inputs(batch, steps, input_size, hidden_size, torch.float64, seed)
    trace = lstm_forward(x, LSTMWeights.from_torch(lstm), h0, c0)
    with torch.no_grad():
        out, (h_n, c_n) = lstm(x, (h0.unsqueeze(0), c0.unsqueeze(0)))
    bound = lstm_forward_error(x, LSTMWeights.from_torch(lstm), h0, c0)
    assert_close(trace.h, out, bound.e_h)
    assert_close(trace.c[:, -1], c_n[0], bound.e_c[:, -1])


def test_forward_keeps_dtype_and_gives_no_grad_surprises():
    lstm = make_lstm(3, 2, torch.float64, 0)
    x, _, _ = random_inputs(2, 4, 3, 2, torch.float64, 0)
    trace = lstm_forward(x, LSTMWeights.from_torch(lstm))
    for name in ("z", "i", "f", "g", "o", "c", "h", "h0", "c0"):
        assert getattr(trace, name).dtype == torch.float64
    assert trace.z.shape == (2, 4, 8)
    assert trace.h0.shape == trace.c0.shape == (2, 2)
    assert not trace.h0.any() and not trace.c0.any()


# --------------------------------------------------------------------------- weights round trip

@pytest.mark.parametrize("kind", ["lstm", "cell"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_weights_round_trip(kind, dtype):
    torch.manual_seed(7)
    make = (lambda: nn.LSTM(3, 4, batch_first=True)) if kind == "lstm" else (lambda: nn.LSTMCell(3, 4))
    source, target = make().to(dtype), make().to(dtype)
    suffix = "_l0" if kind == "lstm" else ""
    weights = LSTMWeights.from_torch(source)
    assert weights.input_size == 3 and weights.hidden_size == 4
    returned = weights.to_torch(target)
    assert returned is target
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        assert torch.equal(getattr(target, name + suffix), getattr(source, name + suffix))
        assert torch.equal(getattr(LSTMWeights.from_torch(target), name), getattr(weights, name))
    assert not weights.weight_ih.requires_grad  # detached


def test_weights_round_trip_between_lstm_and_cell():
    """The same four tensors drive nn.LSTM and nn.LSTMCell: carry weights from one to the other."""
    lstm = make_lstm(2, 3, torch.float64, 11)
    cell = LSTMWeights.from_torch(lstm).to_torch(nn.LSTMCell(2, 3).double())
    x, h0, c0 = random_inputs(4, 5, 2, 3, torch.float64, 11)
    with torch.no_grad():
        out, _ = lstm(x, (h0.unsqueeze(0), c0.unsqueeze(0)))
        h, c = h0, c0
        for t in range(5):
            h, c = cell(x[:, t], (h, c))
    assert_close(h, out[:, -1], lstm_forward_error(x, LSTMWeights.from_torch(lstm), h0, c0).e_h[:, -1])


def test_module_without_bias_gives_zero_biases():
    lstm = make_lstm(2, 3, torch.float64, 1, bias=False)
    weights = LSTMWeights.from_torch(lstm)
    assert weights.bias_ih.shape == weights.bias_hh.shape == (12,)
    assert not weights.bias_ih.any() and not weights.bias_hh.any()
    x, _, _ = random_inputs(2, 6, 2, 3, torch.float64, 1)
    with torch.no_grad():
        out, _ = lstm(x)
    assert_close(lstm_forward(x, weights).h, out, lstm_forward_error(x, weights).e_h)


# --------------------------------------------------------------------------- the seed's names

SEED_BLOCKS = [
    (f"{kind}_{source}{gate}", full, k)
    for kind, source, full in [
        ("W", "i", "weight_ih"), ("W", "h", "weight_hh"), ("b", "i", "bias_ih"), ("b", "h", "bias_hh"),
    ]
    for k, gate in enumerate(GATES)
]


@pytest.mark.parametrize("name, full, k", SEED_BLOCKS, ids=[name for name, _, _ in SEED_BLOCKS])
def test_seed_names_address_pytorch_blocks(name, full, k):
    hidden = 3
    lstm = make_lstm(2, hidden, torch.float64, 5)
    weights = LSTMWeights.from_torch(lstm)
    block = getattr(weights, name)
    expected = getattr(lstm, full + "_l0")[k * hidden:(k + 1) * hidden]
    assert torch.equal(block, expected)


def test_named_examples_from_the_brief():
    lstm = make_lstm(4, 5, torch.float64, 9)
    w, H = LSTMWeights.from_torch(lstm), 5
    assert torch.equal(w.W_ii, lstm.weight_ih_l0[0:H])
    assert torch.equal(w.W_hf, lstm.weight_hh_l0[H:2 * H])
    assert torch.equal(w.b_ig, lstm.bias_ih_l0[2 * H:3 * H])
    assert torch.equal(w.b_ho, lstm.bias_hh_l0[3 * H:4 * H])
    assert w.W_ii.shape == (H, 4) and w.W_hf.shape == (H, H) and w.b_ig.shape == (H,)


@pytest.mark.parametrize("gate", GATES + tuple(ALIASES))
def test_gate_layer_is_the_gate_over_the_concatenation(gate):
    lstm = make_lstm(3, 4, torch.float64, 13)
    weights = LSTMWeights.from_torch(lstm)
    x, h0, c0 = random_inputs(2, 1, 3, 4, torch.float64, 13)
    trace = lstm_step(x[:, 0], h0, c0, weights)
    weight, bias = weights.gate_layer(gate)
    letter = ALIASES.get(gate, gate)
    assert weight.shape == (4, 3 + 4) and bias.shape == (4,)
    assert torch.equal(weight[:, :3], getattr(weights, f"W_i{letter}"))
    assert torch.equal(weight[:, 3:], getattr(weights, f"W_h{letter}"))
    assert torch.equal(bias, getattr(weights, f"b_i{letter}") + getattr(weights, f"b_h{letter}"))
    both = torch.cat([x[:, 0], h0], dim=-1)
    z = both @ weight.T + bias
    act = torch.tanh if letter == "g" else torch.sigmoid
    e_z = affine_error(both, weight, getattr(weights, f"b_i{letter}"), getattr(weights, f"b_h{letter}"))
    assert_close(z, getattr(trace, "z_" + letter)[:, 0], e_z)
    assert_close(act(z), getattr(trace, letter)[:, 0], activation_error("tanh" if letter == "g" else "sigmoid", z, e_z, z.dtype))


@pytest.mark.parametrize("alias, letter", sorted(ALIASES.items()))
def test_aliases(alias, letter):
    assert {"save": "i", "remember": "f", "candidate": "g", "focus": "o"}[alias] == letter
    lstm = make_lstm(2, 3, torch.float64, 17)
    weights = LSTMWeights.from_torch(lstm)
    x, h0, c0 = random_inputs(2, 5, 2, 3, torch.float64, 17)
    trace = lstm_forward(x, weights, h0, c0)
    assert getattr(trace, alias) is getattr(trace, letter)
    for a, b in zip(weights.gate_layer(alias), weights.gate_layer(letter)):
        assert torch.equal(a, b)


# --------------------------------------------------------------------------- the trace

@pytest.mark.parametrize("seed, batch, steps, input_size, hidden_size", [(0, 2, 6, 3, 4), (1, 1, 1, 1, 1), (2, 5, 9, 2, 3)])
def test_trace_quantities_follow_their_equations(seed, batch, steps, input_size, hidden_size):
    lstm = make_lstm(input_size, hidden_size, torch.float64, seed)
    w = LSTMWeights.from_torch(lstm)
    x, h0, c0 = random_inputs(batch, steps, input_size, hidden_size, torch.float64, seed)
    tr = lstm_forward(x, w, h0, c0)
    assert torch.equal(tr.h_prev[:, 0], h0) and torch.equal(tr.c_prev[:, 0], c0)
    assert torch.equal(tr.h_prev[:, 1:], tr.h[:, :-1]) and torch.equal(tr.c_prev[:, 1:], tr.c[:, :-1])
    # each equation recomputed from the trace's own inputs to it: only that step's rounding counts
    for letter in GATES:
        z = x @ getattr(w, f"W_i{letter}").T + getattr(w, f"b_i{letter}") \
            + tr.h_prev @ getattr(w, f"W_h{letter}").T + getattr(w, f"b_h{letter}")     # eq. 1, 2, 3, 5
        both = torch.cat([x, tr.h_prev], -1)
        weight = torch.cat([getattr(w, f"W_i{letter}"), getattr(w, f"W_h{letter}")], 1)
        e_z = affine_error(both, weight, getattr(w, f"b_i{letter}"), getattr(w, f"b_h{letter}"))
        assert_close(getattr(tr, "z_" + letter), z, e_z)
        act = "tanh" if letter == "g" else "sigmoid"
        assert_close(getattr(tr, letter), torch.tanh(z) if letter == "g" else torch.sigmoid(z), activation_error(act, z, e_z, z.dtype))
    assert torch.equal(torch.cat([tr.z_i, tr.z_f, tr.z_g, tr.z_o], dim=-1), tr.z)
    u = eps(x.dtype) / 2
    assert_close(tr.c, tr.f * tr.c_prev + tr.i * tr.g, 2 * u * ((tr.f * tr.c_prev).abs() + (tr.i * tr.g).abs()))  # eq. 4
    assert_close(tr.h, tr.o * torch.tanh(tr.c), tr.o.abs() * activation_error("tanh", tr.c, 0.0, x.dtype) + u * tr.h.abs())  # eq. 6
    assert ((tr.i > 0) & (tr.i < 1) & (tr.f > 0) & (tr.f < 1) & (tr.o > 0) & (tr.o < 1)).all()
    assert (tr.g.abs() < 1).all()


def test_forward_continues_where_it_stopped():
    """Splitting a sequence in two and passing the states on gives the same trace."""
    lstm = make_lstm(3, 4, torch.float64, 21)
    w = LSTMWeights.from_torch(lstm)
    x, h0, c0 = random_inputs(3, 10, 3, 4, torch.float64, 21)
    whole = lstm_forward(x, w, h0, c0)
    first = lstm_forward(x[:, :4], w, h0, c0)
    second = lstm_forward(x[:, 4:], w, first.h[:, -1], first.c[:, -1])
    bound = lstm_forward_error(x, w, h0, c0)      # both computations round the same recurrence
    assert_close(torch.cat([first.h, second.h], 1), whole.h, bound.e_h)
    assert_close(torch.cat([first.c, second.c], 1), whole.c, bound.e_c)


# --------------------------------------------------------------------------- errors

@pytest.fixture
def weights64():
    return LSTMWeights.from_torch(make_lstm(3, 2, torch.float64, 0))


@pytest.mark.parametrize("shape", [(4, 3), (2, 4, 5), (2, 0, 3), (3,), (1, 2, 3, 3)])
def test_wrong_x_shape(weights64, shape):
    with pytest.raises(ValueError, match="x must have shape"):
        lstm_forward(torch.zeros(shape, dtype=torch.float64), weights64)


@pytest.mark.parametrize("name", ["h0", "c0"])
@pytest.mark.parametrize("shape", [(2,), (3, 2), (2, 3), (1, 2, 2)])
def test_wrong_initial_state_shape(weights64, name, shape):
    x = torch.zeros(2, 4, 3, dtype=torch.float64)
    with pytest.raises(ValueError, match=f"{name} must have shape"):
        lstm_forward(x, weights64, **{name: torch.zeros(shape, dtype=torch.float64)})


def test_wrong_h_prev_shape_in_step(weights64):
    with pytest.raises(ValueError, match="h0 must have shape"):
        lstm_step(torch.zeros(2, 3, dtype=torch.float64), torch.zeros(2, 5, dtype=torch.float64),
                  torch.zeros(2, 2, dtype=torch.float64), weights64)


def test_dtype_mismatch(weights64):
    with pytest.raises(TypeError, match="x must have the dtype"):
        lstm_forward(torch.zeros(2, 4, 3), weights64)
    x = torch.zeros(2, 4, 3, dtype=torch.float64)
    with pytest.raises(TypeError, match="h0 must have the dtype"):
        lstm_forward(x, weights64, h0=torch.zeros(2, 2))
    with pytest.raises(TypeError, match="c0 must have the dtype"):
        lstm_forward(x, weights64, c0=torch.zeros(2, 2))
    with pytest.raises(TypeError, match="weight_hh must have the dtype"):
        LSTMWeights(weights64.weight_ih, weights64.weight_hh.float(), weights64.bias_ih, weights64.bias_hh)


def test_non_tensor_and_integer_inputs(weights64):
    with pytest.raises(TypeError, match="x must be a torch.Tensor"):
        lstm_forward([[[0.0, 0.0, 0.0]]], weights64)
    with pytest.raises(TypeError, match="floating-point"):
        lstm_forward(torch.zeros(1, 2, 3, dtype=torch.long), weights64)
    with pytest.raises(ValueError, match="finite"):
        lstm_forward(torch.full((1, 2, 3), float("nan"), dtype=torch.float64), weights64)


def test_from_torch_refuses_projections():
    with pytest.raises(ValueError, match="proj_size > 0 is not supported"):
        LSTMWeights.from_torch(nn.LSTM(3, 2, batch_first=True, proj_size=1))


@pytest.mark.parametrize("layer, direction", [(2, 0), (-1, 0), (0, 2), (1, 1)])
def test_from_torch_refuses_a_layer_or_direction_the_module_lacks(layer, direction):
    lstm = nn.LSTM(3, 2, num_layers=2)
    with pytest.raises(ValueError, match=r"layer must lie in \[0, 1\] and direction in \[0, 0\]"):
        LSTMWeights.from_torch(lstm, layer, direction)


def test_from_torch_reads_any_layer_and_direction():
    lstm = nn.LSTM(3, 2, num_layers=2, bidirectional=True)
    weights = LSTMWeights.from_torch(lstm, 1, 1)
    assert torch.equal(weights.weight_ih, lstm.weight_ih_l1_reverse.detach())
    assert torch.equal(weights.bias_hh, lstm.bias_hh_l1_reverse.detach())


def test_from_torch_refuses_other_modules():
    with pytest.raises(TypeError, match="nn.LSTM or nn.LSTMCell"):
        LSTMWeights.from_torch(nn.GRU(3, 2))


def test_to_torch_refuses_other_sizes(weights64):
    with pytest.raises(ValueError, match="weight_ih must have shape"):
        weights64.to_torch(nn.LSTM(4, 2, batch_first=True).double())


def test_inconsistent_weight_shapes():
    with pytest.raises(ValueError, match="weight_hh must have shape"):
        LSTMWeights(torch.zeros(8, 3), torch.zeros(8, 3), torch.zeros(8), torch.zeros(8))
    with pytest.raises(ValueError, match="bias_ih must have shape"):
        LSTMWeights(torch.zeros(8, 3), torch.zeros(8, 2), torch.zeros(4), torch.zeros(8))


@pytest.mark.parametrize("gate", ["x", "input", "forget", "I", "", "c"])
def test_unknown_gate_name(weights64, gate):
    with pytest.raises(ValueError, match="gate must be one of"):
        weights64.gate_layer(gate)


@pytest.mark.parametrize("name", ["W_iz", "W_xi", "b_ci", "W_ii2", "weights", "W"])
def test_unknown_weight_attribute(weights64, name):
    with pytest.raises(AttributeError, match="LSTMWeights has no attribute"):
        getattr(weights64, name)
    assert not hasattr(weights64, name)


@pytest.mark.parametrize("name", ["z_x", "forget", "z_", "cell", "x"])
def test_unknown_trace_attribute(weights64, name):
    trace = lstm_forward(torch.zeros(1, 2, 3, dtype=torch.float64), weights64)
    with pytest.raises(AttributeError, match="LSTMTrace has no attribute"):
        getattr(trace, name)


# --------------------------------------------------------------------------- the counter LSTM

SEQUENCES = ["a", "b", "ab", "ba", "aaaa", "bbbb", "abbaab", "aabbbbbbba", "ab" * 15, "a" * 40]


def count_prefixes(seq):
    counts, n = [], 0
    for ch in seq:
        n += ch == "a"
        counts.append(n)
    return counts


@pytest.mark.parametrize("seq", SEQUENCES)
@pytest.mark.parametrize("scale", [12.0, 20.0])
def test_counter_counts_the_a(seq, scale):
    model = lstm_teach.counter_lstm(scale=scale)
    x = lstm_teach.counter_inputs(seq)
    assert x.shape == (1, len(seq), 2) and x.dtype == torch.float64
    weights = LSTMWeights.from_torch(model.lstm)
    trace = lstm_forward(x, weights)
    rounding = lstm_forward_error(x, weights)
    counts = torch.tensor(count_prefixes(seq), dtype=torch.float64)
    c, e_c = trace.c[0, :, 0], rounding.e_c[0, :, 0]
    # the documented bound: |c_t - n_t| <= n_t (t + 2) e^{-s}, and c_t never exceeds n_t
    bound = counts * (torch.arange(1, len(seq) + 1) + 2) * math.exp(-scale)
    assert_not_above(counts - c, bound, e_c, 0.0)
    assert_not_above(c, counts, e_c, 0.0)
    if scale >= 20:   # the counter counts to three decimals
        assert (bound + e_c).max().item() <= 1e-3
    with torch.no_grad():
        score = model(x)
    assert score.shape == (1, 1)
    assert_close(score[0, 0], trace.h[0, -1, 0], rounding.e_h[0, -1, 0])     # the head: weight 1, bias 0
    # h_T = o_T tanh(c_T) with o_T = σ(s) ≥ 1 − e^{−s}: off tanh(n) by |c_T − n| + e^{−s}
    assert_close(score[0, 0], math.tanh(counts[-1].item()), bound[-1] + math.exp(-scale) + rounding.e_h[0, -1, 0], 0.0)


def test_counter_weights_and_batch():
    model = lstm_teach.counter_lstm()
    assert isinstance(model, lstm_teach.LSTMClassifier)
    w = LSTMWeights.from_torch(model.lstm)
    assert (w.input_size, w.hidden_size) == (2, 1)
    assert not w.weight_hh.any()
    x = lstm_teach.counter_inputs(["aab", "bba", "bbb"])
    trace = lstm_forward(x, w)
    # σ(s) ≥ 1 − e^{−s} at the default scale s = 20, less the rounding of σ
    saturated = 1 - math.exp(-20.0) - activation_error("sigmoid", torch.tensor(20.0), 0.0, torch.float64).item()
    assert (trace.i >= saturated).all() and (trace.f >= saturated).all() and (trace.o >= saturated).all()
    counts = torch.tensor([2.0, 1.0, 0.0], dtype=torch.float64)
    rounding = lstm_forward_error(x, w)
    assert_close(trace.c[:, -1, 0], counts, counts * (3 + 2) * math.exp(-20.0) + rounding.e_c[:, -1, 0], 0.0)
    with torch.no_grad():
        out, _ = model.lstm(x)
    assert_close(trace.h, out, rounding.e_h)


def test_counter_float32_and_weak_saturation():
    model = lstm_teach.counter_lstm(dtype=torch.float32)
    assert model.lstm.weight_ih_l0.dtype == torch.float32
    weak = lstm_teach.counter_lstm(scale=2.0)
    c = lstm_forward(lstm_teach.counter_inputs("aaaa"), LSTMWeights.from_torch(weak.lstm)).c[0, :, 0]
    assert (torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=torch.float64) - c > 0.1).all()  # too weak to count


@pytest.mark.parametrize("bad", [0, -1.0, True, "20"])
def test_counter_refuses_bad_scale(bad):
    with pytest.raises(ValueError, match="scale"):
        lstm_teach.counter_lstm(scale=bad)


@pytest.mark.parametrize("bad, match", [("abc", "only contain"), (["ab", "a"], "equal lengths"), ("", "non-empty"), ([], "non-empty")])
def test_counter_inputs_refuses_bad_sequences(bad, match):
    with pytest.raises(ValueError, match=match):
        lstm_teach.counter_inputs(bad)
