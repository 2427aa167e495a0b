"""Speed and memory of lstm_teach's attributions, side by side with captum and shap.

    python benchmarks/bench.py            # or: make bench      (about 4 minutes)
    python benchmarks/bench.py --quick    # a smoke run of every code path, seconds

Every comparison runs on the same float32 model and inputs in one process. The methods of one
comparison are timed in interleaved rounds (A B C, A B C, …) after one warm-up call each, and
the median is kept, so a change of load on a shared machine hits them alike. On the CPU the clock
is the process's CPU time (``time.process_time``): on an oversubscribed machine wall time mostly
measures the other processes. On CUDA it is wall time between two synchronisations.

Prints the tables and writes them, with the machine's description and a verdict for every
target of the issue, to ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

warnings.filterwarnings("ignore")   # captum and shap print deprecation and hook chatter, not under test

import numpy as np
import torch

import lstm_teach as lt

HERE = Path(__file__).resolve().parent
INPUTS = 16                          # features per time step
GAP_ROWS = 4                         # rows on which the float64 completeness gaps are computed
SIZES = [(b, t, h) for b in (1, 64) for t in (20, 200) for h in (32, 256)] + [(16, 200, 128)]
FAMILY_SIZES = [("LSTM", 16, 100, 64), ("LSTM", 32, 50, 128), ("GRU", 16, 100, 64), ("GRU", 32, 50, 128),
                ("LSTM", 1, 50, 64)]

# ------------------------------------------------------------------------------ timing


class Clock:
    """CPU time of this process on the CPU; wall time between synchronisations on CUDA."""

    def __init__(self, device):
        self.cuda = device.type == "cuda"
        self.name = "wall time (CUDA synchronised)" if self.cuda else "CPU time of the process"

    def __call__(self):
        if self.cuda:
            torch.cuda.synchronize()
            return time.perf_counter()
        return time.process_time()


def measure(clock, methods, reps=5, budget=4.0):
    """Median seconds of each callable in ``methods`` (name → fn), and the result of its last call.

    Every method is called once to warm up. A method whose warm-up took longer than ``budget``
    seconds is not called again and that call is its time (warm-up effects are noise at that
    scale); the others get up to ``reps`` more calls, in interleaved rounds, as many as fit in
    ``budget``, and the median of those is kept.
    """
    first, results = {}, {}
    for name, fn in methods.items():
        start = clock()
        results[name] = fn()
        first[name] = clock() - start
    counts = {name: 0 if first[name] >= budget else max(1, min(reps, int(budget / max(first[name], 1e-9))))
              for name in methods}
    times = {name: [] for name in methods}
    for round_ in range(max(counts.values())):
        for name, fn in methods.items():
            if round_ < counts[name]:
                start = clock()
                results[name] = fn()
                times[name].append(clock() - start)
    return {name: statistics.median(times[name] or [first[name]]) for name in methods}, results


# ------------------------------------------------------------------------------ models and references


def make_case(batch, steps, hidden, device, seed=0):
    """A float32 LSTMClassifier with one output, inputs ~ N(0, 1) and the zero baseline."""
    torch.manual_seed(seed)
    model = lt.LSTMClassifier(INPUTS, hidden, 1).to(device).eval()
    x = torch.randn(batch, steps, INPUTS, device=device)
    return model, x, torch.zeros_like(x)


def score(model, x):
    with torch.no_grad():
        return model(x)[:, 0]


def gap(model, attributions, x, x_b):
    """Completeness gap: max over rows of |Σ attributions − (f(x) − f(x_b))|, f the model itself."""
    delta = attributions.sum((1, 2)) - (score(model, x) - score(model, x_b))
    return delta.abs().max().item()


def relative_difference(a, b):
    a, b = torch.as_tensor(a).double().cpu(), torch.as_tensor(b).double().cpu()
    return ((a - b).abs().max() / b.abs().max().clamp(min=1e-30)).item()


def captum_ig(model):
    from captum.attr import IntegratedGradients
    ig = IntegratedGradients(model)
    return lambda x, x_b: ig.attribute(x, baselines=x_b, target=0, n_steps=50)


def captum_deeplift(unrolled):
    from captum.attr import DeepLift
    dl = DeepLift(unrolled)
    return lambda x, x_b: dl.attribute(x, baselines=x_b, target=0)


def shap_deep(unrolled, x_b):
    import shap
    explainer = shap.DeepExplainer(unrolled, x_b[:1])
    return lambda x: explainer.shap_values(x, check_additivity=False)[..., 0]


def warm_up_libraries(device):
    """One untimed call of every reference on a tiny problem: their one-time costs (imports, shap's
    compilation of its masking code) must not land in the first timed call, which is the only
    call of a reference slower than the per-method budget."""
    import shap
    model, x, x_b = make_case(2, 3, 4, device)
    unrolled = lt.UnrolledLSTM(model, 3).to(device).eval()
    captum_ig(model)(x, x_b)
    captum_deeplift(unrolled)(x, x_b)
    shap_deep(unrolled, x_b)(x)

    def game(z):
        z = torch.as_tensor(z, dtype=x.dtype, device=device)
        return score(model, x_b[:1] + z[..., None] * (x - x_b)[:1]).cpu().numpy()

    shap.explainers.Exact(game, shap.maskers.Independent(np.zeros((1, 3))))(np.ones((1, 3)), silent=True)
    lt.LSTMDeepLift(model).attribute(x, x_b)
    lt.TimeStepShapley(model).attribute(x, x_b)


# ------------------------------------------------------------------------------ the comparisons


def attribution_table(device, clock, sizes, reps):
    """One row per size: the forward pass, LSTMDeepLift and the three references."""
    rows = []
    for batch, steps, hidden in sizes:
        model, x, x_b = make_case(batch, steps, hidden, device)
        unrolled = lt.UnrolledLSTM(model, steps).to(device).eval()
        ours = lt.LSTMDeepLift(model)
        ours_input, ours_baseline = lt.LSTMDeepLift(model, "input"), lt.LSTMDeepLift(model, "baseline")
        row = {"B": batch, "T": steps, "H": hidden, "skipped": {}}
        methods = {
            "forward": lambda: score(model, x),
            "ours": lambda: ours.attribute(x, x_b),
            "ours_input": lambda: ours_input.attribute(x, x_b),
            "ours_baseline": lambda: ours_baseline.attribute(x, x_b),
            "captum_dl": (lambda f=captum_deeplift(unrolled): f(x, x_b)),
        }
        # Integrated gradients runs one forward and backward pass over 50·B rows: at the largest size
        # about ten times its (64, 20, 256) time and ~10 GB of autograd state per call.
        if batch * steps * hidden >= 64 * 200 * 256:
            row["skipped"]["ig"] = ("forward + backward over 3200 rows of T = 200, H = 256: about 10× its time at "
                                    "T = 20 and ~10 GB of autograd state per call")
        else:
            methods["ig"] = (lambda f=captum_ig(model): f(x, x_b))
        # shap's DeepExplainer explains one row at a time: B = 64 costs 64 times B = 1.
        if batch > 1 and steps >= 200:
            row["skipped"]["shap_deep"] = "explains row by row: 64 × the B = 1 time"
        else:
            methods["shap_deep"] = (lambda f=shap_deep(unrolled, x_b): f(x))
        row["time"], out = measure(clock, methods, reps=reps)
        # completeness gaps in float64 (the method's, not float32 rounding's), on the same model and
        # the first (up to) four rows of the same inputs
        model64 = copy.deepcopy(model).double()
        x64, x_b64 = x[:GAP_ROWS].double(), x_b[:GAP_ROWS].double()
        row["gap_ours"] = gap(model64, lt.LSTMDeepLift(model64).attribute(x64, x_b64), x64, x_b64)
        row["scale"] = (score(model64, x64) - score(model64, x_b64)).abs().max().item()
        if "ig" in methods:
            row["gap_ig"] = gap(model64, captum_ig(model64)(x64, x_b64), x64, x_b64)
        # agreement of the equivalent rules with captum and shap, in float32 as timed
        row["agree_captum"] = relative_difference(out["ours_input"], out["captum_dl"])
        if "shap_deep" in methods:
            row["agree_shap"] = relative_difference(out["ours_baseline"], out["shap_deep"])
        rows.append(row)
        print(f"  B={batch:<3d} T={steps:<4d} H={hidden:<4d} " + "  ".join(
            f"{k} {v * 1e3:.1f}ms" for k, v in row["time"].items()), flush=True)
    # shap DeepExplainer at B = 64, T = 200: an estimate from its B = 1 time (stated as such)
    for row in rows:
        if "shap_deep" in row["skipped"]:
            one = [r for r in rows if r["B"] == 1 and r["T"] == row["T"] and r["H"] == row["H"]]
            if one and "shap_deep" in one[0]["time"]:
                row["shap_estimate"] = row["B"] * one[0]["time"]["shap_deep"]
    return rows


def per_row_baselines(device, clock, reps):
    """The largest size once more with a different baseline per row: the forward then runs 2B rows."""
    model, x, _ = make_case(64, 200, 256, device)
    x_b = 0.1 * torch.randn_like(x)
    ours = lt.LSTMDeepLift(model)
    return {"time": measure(clock, {"forward": lambda: score(model, x), "ours": lambda: ours.attribute(x, x_b)},
                            reps=reps)[0]}


def timestep_table(device, clock, configs, reps):
    """TimeStepShapley against shap's Exact explainer over time-step masks, one row (B = 1)."""
    import shap
    rows = []
    for steps, hidden in configs:
        model, x, x_b = make_case(1, steps, hidden, device)

        def game(z, model=model, x=x, x_b=x_b):     # g(z) = f(x_b + z (x − x_b)), z ∈ {0, 1}^T
            z = torch.as_tensor(z, dtype=x.dtype, device=x.device)
            return score(model, x_b + z[..., None] * (x - x_b)).cpu().numpy()

        exact = shap.explainers.Exact(game, shap.maskers.Independent(np.zeros((1, steps))))
        ones = np.ones((1, steps))
        ours = lt.TimeStepShapley(model)
        t, out = measure(clock, {"shap_exact": lambda: exact(ones, silent=True),
                                 "ours": lambda: ours.attribute(x, x_b)}, reps=reps)
        agree = relative_difference(out["ours"][0], out["shap_exact"].values[0])
        rows.append({"T": steps, "H": hidden, "time": t, "agree": agree})
        print(f"  T={steps:<3d} H={hidden:<4d} shap Exact {t['shap_exact'] * 1e3:.1f}ms  ours {t['ours'] * 1e3:.1f}ms", flush=True)
    return rows


def fitted_exponent(xs, ys):
    """Slope of log y against log x, least squares."""
    return float(np.polyfit(np.log(xs), np.log(ys), 1)[0])


def scaling(device, clock, reps, quick):
    """Attribution time against T (B = 16) and against B (T = 100), H = 128, with the forward's for reference."""
    hidden = 128
    out = {}
    for axis, values, fixed in (("T", (25, 50, 100, 200, 400), 16), ("B", (8, 16, 32, 64, 128, 256), 100)):
        if quick:
            values = values[:3]
        ours_t, forward_t = [], []
        for v in values:
            batch, steps = (fixed, v) if axis == "T" else (v, fixed)
            model, x, x_b = make_case(batch, steps, hidden, device)
            explainer = lt.LSTMDeepLift(model)
            t, _ = measure(clock, {"ours": lambda: explainer.attribute(x, x_b), "forward": lambda: score(model, x)},
                           reps=reps, budget=2.0)
            ours_t.append(t["ours"])
            forward_t.append(t["forward"])
        out[axis] = {"values": list(values), "fixed": fixed, "ours": ours_t, "forward": forward_t,
                     "exp_ours": fitted_exponent(values, ours_t), "exp_forward": fitted_exponent(values, forward_t)}
        print(f"  vs {axis}: exponent ours {out[axis]['exp_ours']:.2f}, forward {out[axis]['exp_forward']:.2f}", flush=True)
    return out


def make_family_case(kind, batch, steps, hidden, device, vocab=1000, embed=32, seed=0):
    """A float32 model of the kind users have: nn.Embedding → two-layer bidirectional nn.LSTM or nn.GRU →
    MLP head, token ids in, the pad id 0 as the baseline, ragged lengths (every fourth row 3/4 long)."""
    from torch import nn
    torch.manual_seed(seed)
    rnn = (nn.LSTM if kind == "LSTM" else nn.GRU)(embed, hidden, num_layers=2, bidirectional=True, batch_first=True)
    head = nn.Sequential(nn.Linear(2 * hidden, hidden), nn.ReLU(), nn.Linear(hidden, 2))
    wrap = lt.LSTMModel if kind == "LSTM" else lt.GRUModel
    model = wrap(rnn, head, nn.Embedding(vocab, embed, padding_idx=0)).to(device).eval()
    ids = torch.randint(1, vocab, (batch, steps), device=device)
    lengths = torch.full((batch,), steps, device=device)
    lengths[::4] = max(1, 3 * steps // 4)
    return model, ids, lengths


def family_table(device, clock, sizes, reps):
    """Token-level LSTMDeepLift on embedded, stacked, bidirectional LSTMs and GRUs: against one forward pass
    and captum's LayerIntegratedGradients (50 steps, on the embedding)."""
    from captum.attr import LayerIntegratedGradients
    rows = []
    for kind, batch, steps, hidden in sizes:
        model, ids, lengths = make_family_case(kind, batch, steps, hidden, device)
        ours = lt.LSTMDeepLift(model)
        lig = LayerIntegratedGradients(lambda i, n: model(i, n)[:, 1], model.embedding)
        methods = {"forward": lambda: model(ids, lengths),
                   "ours": lambda: ours.attribute(ids, 0, target=1, lengths=lengths),
                   "lig": lambda: lig.attribute(ids, torch.zeros_like(ids), additional_forward_args=(lengths,),
                                                n_steps=50)}
        t, out = measure(clock, methods, reps=reps)
        _, delta = ours.attribute(ids, 0, target=1, lengths=lengths, return_convergence_delta=True)
        with torch.no_grad():
            change = (model(ids, lengths) - model(torch.zeros_like(ids), lengths))[:, 1]
        lig_gap = (out["lig"].sum((1, 2)) - change).abs().max().item()
        rows.append({"kind": kind, "B": batch, "T": steps, "H": hidden, "time": t,
                     "gap_ours": delta.abs().max().item(), "gap_lig": lig_gap})
        print(f"  {kind} B={batch:<3d} T={steps:<4d} H={hidden:<4d} " + "  ".join(
            f"{k} {v * 1e3:.1f}ms" for k, v in t.items()), flush=True)
    return rows


def subnormal_effect(device, clock, reps, quick):
    """LSTMDeepLift with and without flushing subnormals, on a long sequence whose multipliers underflow."""
    import lstm_teach.subnormal as subnormal
    from contextlib import nullcontext
    batch, steps, hidden = (4, 50, 32) if quick else (16, 400, 128)
    model, x, x_b = make_case(batch, steps, hidden, device)
    explainer = lt.LSTMDeepLift(model)
    flushed = subnormal._flushed

    def without():
        subnormal._flushed = nullcontext
        try:
            return explainer.attribute(x, x_b)
        finally:
            subnormal._flushed = flushed

    t, out = measure(clock, {"forward": lambda: score(model, x), "flushed": lambda: explainer.attribute(x, x_b),
                             "not flushed": without}, reps=reps)
    attributions = out["not flushed"]
    tiny = torch.finfo(attributions.dtype).tiny
    share = ((attributions != 0) & (attributions.abs() < tiny)).float().mean().item()
    moved = (out["flushed"] - attributions).abs().max().item()
    print(f"  flushed {t['flushed'] * 1e3:.1f}ms, not flushed {t['not flushed'] * 1e3:.1f}ms", flush=True)
    return {"B": batch, "T": steps, "H": hidden, "time": t, "subnormal_share": share, "moved": moved}


def sampled_shapley(device, clock, quick):
    """Sampled time-step Shapley values on a T = 50 model: ours against shap's PermutationExplainer and
    KernelExplainer at the same number of model evaluations, error against a long-run reference."""
    import shap
    steps, hidden = (12, 16) if quick else (50, 32)
    model, x, x_b = make_case(1, steps, hidden, device, seed=3)
    model64, x64, x_b64 = copy.deepcopy(model).double(), x.double(), x_b.double()

    def game(z):
        z = torch.as_tensor(z, dtype=torch.float64, device=device)
        return score(model64, x_b64 + z[..., None] * (x64 - x_b64)).cpu().numpy()

    explainer = lt.TimeStepShapley(model64)
    reference, reference_std = explainer.attribute(x64, x_b64, n_permutations=200 if quick else 8000, seed=123,
                                                   return_std=True)
    masker = shap.maskers.Independent(np.zeros((1, steps)))
    ones = np.ones((1, steps))
    rows = []
    for orderings in ((4, 8) if quick else (20, 100)):
        evaluations = orderings * (steps + 1)
        methods = {
            "ours": lambda o=orderings: explainer.attribute(x64, x_b64, n_permutations=o, seed=7)[0],
            "shap permutation": lambda e=evaluations: torch.as_tensor(shap.PermutationExplainer(game, masker, seed=7)(
                ones, max_evals=e, silent=True).values[0]),
            "shap kernel": lambda e=evaluations: torch.as_tensor(shap.KernelExplainer(game, np.zeros((1, steps))).shap_values(
                ones, nsamples=e, silent=True)[0]),
        }
        t, out = measure(clock, methods, reps=3, budget=6.0)
        errors = {k: ((v.double() - reference[0].cpu()).pow(2).mean().sqrt().item()) for k, v in out.items()}
        rows.append({"orderings": orderings, "evaluations": evaluations, "time": t, "rmse": errors})
        print(f"  {evaluations} evaluations: " + "  ".join(f"{k} {t[k] * 1e3:.0f}ms rmse {errors[k]:.1e}"
                                                          for k in methods), flush=True)
    return {"T": steps, "H": hidden, "rows": rows, "reference_std": reference_std.pow(2).mean().sqrt().item(),
            "scale": reference.abs().mean().item()}


# ------------------------------------------------------------------------------ memory (in fresh processes)


def _rss_bytes(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def memory_probe(what, batch, steps, hidden):
    """Run in a fresh process: peak resident memory added by one call (``what``), in bytes.

    The peak is the kernel's high-water mark of the resident set (VmHWM), reset just before the
    call by writing 5 to /proc/self/clear_refs, minus the resident set at that moment. It counts
    every byte torch's CPU allocator takes from the system, whoever allocates it.
    """
    torch.set_num_threads(1)
    model, x, x_b = make_case(batch, steps, hidden, torch.device("cpu"))
    result = {}
    if what == "deeplift":
        explainer = lt.LSTMDeepLift(model)
        explainer.attribute(x[:2, :5], x_b[:2, :5])               # load kernels before measuring
        call = lambda: explainer.attribute(x, x_b)
    else:                                                       # the model's forward pass, with autograd
        model(x[:2, :5].clone().requires_grad_())
        saved = {}

        def pack(tensor):
            storage = tensor.untyped_storage()
            saved[storage.data_ptr()] = storage.nbytes()
            return tensor

        def call():
            with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
                return model(x.requires_grad_())
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
        method = "VmHWM after reset"
    except OSError:
        method = "ru_maxrss (not reset)"
    before = _rss_bytes("VmRSS")
    keep = call()
    result["peak"] = _rss_bytes("VmHWM") - before
    result["method"] = method
    if what == "forward":
        result["saved"] = sum(saved.values())
    del keep
    print(json.dumps(result))


def memory(quick):
    batch, steps, hidden = (8, 100, 64) if quick else (64, 1000, 256)
    out = {"B": batch, "T": steps, "H": hidden}
    for what in ("forward", "deeplift"):
        done = subprocess.run([sys.executable, __file__, "--memory-probe", what, str(batch), str(steps), str(hidden)],
                              capture_output=True, text=True, check=True)
        out[what] = json.loads(done.stdout.strip().splitlines()[-1])
    unit = batch * steps * hidden * 4                              # one float32 (B, T, H) tensor
    out["unit"] = unit
    out["minimal"] = 6 * unit       # what a backward needs at least: 4 gates, c_t and h_t per row and step
    print(f"  forward saves {out['forward']['saved'] / 2**20:.0f} MiB for backward; "
          f"LSTMDeepLift peak {out['deeplift']['peak'] / 2**20:.0f} MiB", flush=True)
    return out


# ------------------------------------------------------------------------------ report


def cpu_name():
    """The CPU's vendor and model, from /proc/cpuinfo."""
    fields = {}
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                key, _, value = line.partition(":")
                fields.setdefault(key.strip(), value.strip())
    except OSError:
        return platform.processor() or "unknown"
    return f"{fields.get('model name', 'unknown')} (vendor {fields.get('vendor_id', 'unknown')})"


def machine(threads, devices):
    cpu = cpu_name()
    import captum
    import shap
    lines = [
        f"- CPU: {cpu}; {os.cpu_count()} logical cores ({len(os.sched_getaffinity(0))} usable)",
        f"- torch {torch.__version__} with {threads} intra-op thread(s); captum {captum.__version__}; "
        f"shap {shap.__version__}; numpy {np.__version__}; Python {platform.python_version()}",
        "- devices: " + ", ".join(str(d) + (f" ({torch.cuda.get_device_name(d)})" if d.type == "cuda" else "")
                                  for d in devices),
    ]
    return lines


def ms(seconds):
    return "–" if seconds is None else (f"{seconds * 1e3:.1f}" if seconds < 10 else f"{seconds:.1f} s")


def ratio(a, b, digits=1):
    return "–" if a is None else f"{a / b:.{digits}f}×"


def verdict(ok):
    return "met" if ok else "**not met**"


def family_section(rows, tag=""):
    out = [f"## The model family: embedding, two bidirectional layers, MLP head, padded batch{tag}", "",
           "Token ids in, one attribution per token out, the pad id as the baseline; every fourth row is "
           "three quarters long. IG is captum's `LayerIntegratedGradients` on the embedding (50 steps). "
           "*gap*: max |Σ attributions − (f(x) − f(pad))| in float32. Times in ms.", "",
           "| kind | B | T | H | forward | ours | ours ÷ forward | IG | IG ÷ ours | gap ours | gap IG |",
           "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        t = r["time"]
        out.append(f"| {r['kind']} | {r['B']} | {r['T']} | {r['H']} | {ms(t['forward'])} | {ms(t['ours'])} | "
                   f"{t['ours'] / t['forward']:.1f} | {ms(t['lig'])} | {t['lig'] / t['ours']:.0f}× | "
                   f"{r['gap_ours']:.0e} | {r['gap_lig']:.0e} |")
    big = [r for r in rows if r["B"] >= 16]
    fwd_ok = [r for r in big if r["time"]["ours"] <= 4 * r["time"]["forward"]]
    ig_ok = [r for r in big if r["time"]["lig"] >= 10 * r["time"]["ours"] and r["gap_ours"] < r["gap_lig"]]

    def at(rs):
        return ", ".join(f"{r['kind']} ({r['B']}, {r['T']}, {r['H']}): {r['time']['ours'] / r['time']['forward']:.1f}×"
                         for r in rs)
    targets = [f"| family: ours ≤ 4× one forward pass at B ≥ 16 | {verdict(fwd_ok == big)} | {at(big)} |",
               f"| family: ours ≥ 10× faster than IG with a smaller gap at B ≥ 16 | {verdict(ig_ok == big)} | "
               + ", ".join(f"{r['kind']} ({r['B']}, {r['T']}, {r['H']}): {r['time']['lig'] / r['time']['ours']:.0f}×"
                           for r in big) + " |"]
    return out + [""], targets


def subnormal_section(sub, cpu):
    t = sub["time"]
    out = ["## Subnormal floats", "",
           f"CPU: {cpu}. LSTMDeepLift at B = {sub['B']}, T = {sub['T']}, H = {sub['H']} (float32, zero baseline) "
           f"flushes subnormal floats to zero while it runs (`lstm_teach/subnormal.py`). Without the flush, "
           f"{sub['subnormal_share'] * 100:.1f} % of the attributions are subnormal numbers. Times in ms:", "",
           "| forward | flushed | not flushed | not flushed ÷ flushed |", "|---|---|---|---|",
           f"| {ms(t['forward'])} | {ms(t['flushed'])} ({t['flushed'] / t['forward']:.1f}× forward) | "
           f"{ms(t['not flushed'])} ({t['not flushed'] / t['forward']:.1f}× forward) | "
           f"{t['not flushed'] / t['flushed']:.2f} |", "",
           f"The flush moves no attribution by more than {sub['moved']:.1e} (the smallest normal float32 is "
           f"{torch.finfo(torch.float32).tiny:.1e}); completeness is unchanged (tests/test_engine.py).", ""]
    target = (f"| no subnormal slowdown | {verdict(t['flushed'] <= 1.1 * min(t['not flushed'], t['flushed']))} "
              f"| not flushed ÷ flushed = {t['not flushed'] / t['flushed']:.2f} on {cpu} |")
    return out, target


def sampled_section(sampled):
    out = [f"## Sampled time-step Shapley values, T = {sampled['T']}", "",
           f"One row of a float64 `LSTMClassifier(16, {sampled['H']}, 1)`; the game g(z) = f(x_b + z ⊙ (x − x_b)) "
           "over T binary players for shap, TimeStepShapley(n_permutations=P) for ours, at the same number of "
           "model evaluations (P orderings × (T + 1) coalitions; shap's `max_evals` / `nsamples`). Error: the "
           "root mean square difference from a long-run reference (8,000 orderings, root mean square standard "
           f"error {sampled['reference_std']:.0e}; mean |value| {sampled['scale']:.1e}). Times in ms.", "",
           "| evaluations | ours | shap Permutation | shap Kernel | error ours | error Permutation | error Kernel |",
           "|---|---|---|---|---|---|---|"]
    for r in sampled["rows"]:
        t, e = r["time"], r["rmse"]
        out.append(f"| {r['evaluations']} | {ms(t['ours'])} | {ms(t['shap permutation'])} | {ms(t['shap kernel'])} | "
                   f"{e['ours']:.1e} | {e['shap permutation']:.1e} | {e['shap kernel']:.1e} |")
    rows = sampled["rows"]
    err_ok = all(r["rmse"]["ours"] < min(r["rmse"]["shap permutation"], r["rmse"]["shap kernel"]) for r in rows)
    fast_ok = all(min(r["time"]["shap permutation"], r["time"]["shap kernel"]) >= 5 * r["time"]["ours"] for r in rows)
    targets = [f"| sampled Shapley: lower error than shap Permutation and Kernel at equal evaluations | "
               f"{verdict(err_ok)} | " + ", ".join(
                   f"{r['evaluations']} evaluations: {r['rmse']['ours']:.1e} vs {r['rmse']['shap permutation']:.1e}, "
                   f"{r['rmse']['shap kernel']:.1e}" for r in rows) + " |",
               f"| sampled Shapley: ≥ 5× faster than both | {verdict(fast_ok)} | " + ", ".join(
                   f"{r['evaluations']} evaluations: {r['time']['shap permutation'] / r['time']['ours']:.0f}×, "
                   f"{r['time']['shap kernel'] / r['time']['ours']:.0f}×" for r in rows) + " |"]
    return out + [""], targets


def device_sections(device, clock, rows, per_row, ts_rows, scale, several):
    """The tables measured on one device, and that device's target rows."""
    tag = f" ({device.type})" if several else ""
    out = [f"## LSTMDeepLift against the forward pass and the references{tag}", "",
           f"Clock: {clock.name}. Times in ms.", "",
           "| B | T | H | forward | ours | ours ÷ forward | IG (50 steps) | IG ÷ ours | gap ours | gap IG "
           "| captum DeepLift | ÷ ours | shap DeepExplainer | ÷ ours |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        t = r["time"]
        ig, shap_t = t.get("ig"), t.get("shap_deep")
        shap_cell = ms(shap_t) if shap_t is not None else (
            f"skipped (est. {ms(r['shap_estimate'])})" if "shap_estimate" in r else "skipped")
        out.append(
            f"| {r['B']} | {r['T']} | {r['H']} | {ms(t['forward'])} | {ms(t['ours'])} | {t['ours'] / t['forward']:.1f} "
            f"| {ms(ig) if ig else 'skipped'} | {ratio(ig, t['ours'], 0)} "
            f"| {r['gap_ours']:.0e} | {format(r['gap_ig'], '.0e') if 'gap_ig' in r else '–'} "
            f"| {ms(t['captum_dl'])} | {ratio(t['captum_dl'], t['ours_input'])} "
            f"| {shap_cell} | {ratio(shap_t, t['ours_baseline'])} |")
    out += ["",
            "*ours* is `LSTMDeepLift(\"shapley\")`. Against captum's `DeepLift` and shap's `DeepExplainer` (both on "
            "`UnrolledLSTM`, the same LSTM built from modules) ours runs with the rule that computes their numbers, "
            "`\"input\"` and `\"baseline\"`, and the ÷ columns divide by that run. *gap* is the completeness gap "
            "max |Σ attributions − (f(x) − f(x_b))|, computed in float64 on the same model and the first "
            f"{GAP_ROWS} rows of the same inputs, so that it measures the method, not float32 rounding; the score "
            "differences f(x) − f(x_b) there are at most "
            f"{max(r['scale'] for r in rows):.2f} in size.", "",
            "Agreement of the equivalent rules in float32 (max |difference| ÷ max |attribution|): "
            + "; ".join(f"B={r['B']} T={r['T']} H={r['H']}: captum {r['agree_captum']:.0e}"
                        + (f", shap {r['agree_shap']:.0e}" if 'agree_shap' in r else "") for r in rows) + ".", ""]
    reasons = {}
    for r in rows:
        for name, why in r["skipped"].items():
            reasons.setdefault((name, why), []).append(f"B={r['B']} T={r['T']} H={r['H']}")
    if reasons:
        label = {"ig": "Integrated gradients", "shap_deep": "shap DeepExplainer"}
        out += ["Skipped, to keep the run under five minutes: " + "; ".join(
            f"{label[name]} at {', '.join(where)} ({why})" for (name, why), where in reasons.items())
            + ". The shap estimate in the table is B × its measured B = 1 time at the same T and H, "
              "not a measurement.", ""]
    if per_row:
        pt = per_row["time"]
        out += [f"With a different baseline for every row (B=64, T=200, H=256) the forward runs over 2B rows "
                f"instead of B + 1: ours {ms(pt['ours'])}, forward {ms(pt['forward'])}, ratio "
                f"{pt['ours'] / pt['forward']:.1f}.", ""]

    out += [f"## TimeStepShapley against shap's Exact explainer{tag}", "",
            "shap explains z = 1 for the game g(z) = f(x_b + z ⊙ (x − x_b)), z ∈ {0, 1}^T, with the masker "
            "`Independent(zeros((1, T)))`; one row. Times in ms.", "",
            "| T | H | shap Exact | ours | speed-up | max rel. difference |", "|---|---|---|---|---|---|"]
    for r in ts_rows:
        t = r["time"]
        out.append(f"| {r['T']} | {r['H']} | {ms(t['shap_exact'])} | {ms(t['ours'])} | "
                   f"{t['shap_exact'] / t['ours']:.1f}× | {r['agree']:.0e} |")
    out += ["", f"## Scaling{tag}", "",
            "Fitted exponent k of time ∝ size^k (least squares on log–log), H = 128, LSTMDeepLift and, for "
            "comparison, the model's forward pass:", "",
            "| axis | sizes | ours | forward |", "|---|---|---|---|"]
    for axis, sc in scale.items():
        other = "B" if axis == "T" else "T"
        out.append(f"| {axis} ({other} = {sc['fixed']}) | {', '.join(map(str, sc['values']))} | "
                   f"{sc['exp_ours']:.2f} | {sc['exp_forward']:.2f} |")
    out += ["", "Times in ms, ours / forward: " + "; ".join(
        f"{axis} = " + ", ".join(f"{v}: {o * 1e3:.1f} / {f * 1e3:.1f}"
                                 for v, o, f in zip(sc["values"], sc["ours"], sc["forward"]))
        for axis, sc in scale.items()) + ".", ""]

    measured_ig = [r for r in rows if "ig" in r["time"]]
    ig_ok = [r for r in measured_ig if r["time"]["ig"] >= 10 * r["time"]["ours"] and r["gap_ours"] < r["gap_ig"]]
    dl_ok = [r for r in rows if r["time"]["captum_dl"] >= r["time"]["ours_input"]]
    shap_rows = [r for r in rows if "shap_deep" in r["time"]]
    shap_ok = [r for r in shap_rows if r["time"]["shap_deep"] >= r["time"]["ours_baseline"]]
    big = [r for r in rows if r["B"] >= 16]
    fwd_ok = [r for r in big if r["time"]["ours"] <= 4 * r["time"]["forward"]]
    single = [r for r in rows if r["B"] == 1 and r["T"] == 200 and r["H"] == 32]
    single_ok = [r for r in single if r["time"]["ours"] <= 12 * r["time"]["forward"]]
    ts_ok = [r for r in ts_rows if r["time"]["shap_exact"] >= r["T"] / 2 * r["time"]["ours"]]
    lin_ok = all(sc["exp_ours"] <= 1.1 for sc in scale.values())

    def sizes(rs):
        return ", ".join(f"({r['B']}, {r['T']}, {r['H']})" for r in rs) or "none"

    def where(good, total, unit="sizes (B, T, H)"):
        text = f"{len(good)} of {len(total)} {unit}"
        missed = [r for r in total if r not in good]
        return text + (f"; not at {sizes(missed)}" if missed else "")

    pre = f"[{device.type}] " if several else ""
    targets = [
        f"| {pre}ours ≥ 10× faster than IG (50 steps), with a smaller gap | {verdict(ig_ok == measured_ig)} "
        f"| {where(ig_ok, measured_ig)} |",
        f"| {pre}ours no slower than captum DeepLift | {verdict(dl_ok == rows)} | {where(dl_ok, rows)} |",
        f"| {pre}ours no slower than shap DeepExplainer | {verdict(shap_ok == shap_rows)} "
        f"| {where(shap_ok, shap_rows, 'measured sizes (B, T, H)')} |",
        f"| {pre}ours ≤ 4× one forward pass at B ≥ 16 | {verdict(fwd_ok == big)} | {where(fwd_ok, big)} |",
        f"| {pre}ours ≤ 12× one forward pass at (1, 200, 32) | {verdict(single_ok == single)} | "
        + ", ".join(f"{r['time']['ours'] / r['time']['forward']:.1f}×, {r['time']['ours'] / r['T'] * 1e6:.0f} µs per step"
                    for r in single) + " |",
        f"| {pre}exact TimeStepShapley ≥ T/2 × faster than shap Exact | {verdict(ts_ok == ts_rows)} | speed-ups "
        + ", ".join(f"T={r['T']} H={r['H']}: {r['time']['shap_exact'] / r['time']['ours']:.1f}×" for r in ts_rows) + " |",
        f"| {pre}time linear in T and B (fitted exponent ≤ 1.1) | {verdict(lin_ok)} | "
        + ", ".join(f"{axis}: {sc['exp_ours']:.2f}" for axis, sc in scale.items()) + " |",
    ]
    return out, targets


def memory_section(mem):
    f_saved, f_peak, d_peak = mem["forward"]["saved"], mem["forward"]["peak"], mem["deeplift"]["peak"]

    def mib(b):
        return f"{b / 2**20:.0f} MiB"

    out = ["## Memory (cpu)", "",
           f"B = {mem['B']}, T = {mem['T']}, H = {mem['H']}, float32, each call in a fresh process. Peak = the "
           f"kernel's high-water mark of the resident set ({mem['deeplift']['method']}, reset just before the "
           "call) minus the resident set at that moment: every byte the allocator took, whoever took it. The "
           "forward's activations are the tensors autograd saves for the backward pass (counted with "
           "`torch.autograd.graph.saved_tensors_hooks`, each storage once).", "",
           "| | size | ÷ one (B, T, H) float32 tensor |", "|---|---|---|",
           f"| forward with autograd: activations saved for backward | {mib(f_saved)} | {f_saved / mem['unit']:.1f} |",
           f"| forward with autograd: peak | {mib(f_peak)} | {f_peak / mem['unit']:.1f} |",
           f"| the least a backward needs (4 gates, c_t, h_t) | {mib(mem['minimal'])} | 6.0 |",
           f"| LSTMDeepLift.attribute: peak | {mib(d_peak)} | {d_peak / mem['unit']:.1f} |", "",
           f"LSTMDeepLift's peak is {d_peak / f_saved:.2f}× the forward's saved activations and "
           f"{d_peak / mem['minimal']:.2f}× the least a backward needs.", ""]
    target = (f"| peak memory ≤ 3× the forward's activations | {verdict(d_peak <= 3 * f_saved)} "
              f"| {d_peak / f_saved:.2f}× the saved activations ({d_peak / mem['minimal']:.2f}× the least) |")
    return out, target


def report(args, sections, extra, mem, elapsed, load):
    several = len(sections) > 1
    out = ["# Benchmark results", "",
           f"Written by `make bench` (`python benchmarks/bench.py{' --quick' if args.quick else ''}`), "
           f"{elapsed / 60:.1f} minutes of wall time. Load average (1 min) {load[0]:.1f} at the start and "
           f"{load[1]:.1f} at the end on {os.cpu_count()} cores: the machine was shared, so read the ratios "
           "(each measured side by side), not the absolute times.", "",
           "## Machine", ""] + machine(args.threads, [d for d, *_ in sections]) + [
           "- timing: median of interleaved repeats after one warm-up call each", "",
           "Unless a section says otherwise, every model is a float32 `LSTMClassifier(16, H, 1)` (one LSTM layer, "
           "a linear head on h_T), inputs N(0, 1), the zero baseline shared by all rows.", ""]
    targets = []
    for device, clock, rows, per_row, ts_rows, scale, family in sections:
        text, rows_of_targets = device_sections(device, clock, rows, per_row, ts_rows, scale, several)
        out += text
        targets += rows_of_targets
        text, rows_of_targets = family_section(family, f" ({device.type})" if several else "")
        out += text
        targets += rows_of_targets
    text, target = subnormal_section(extra["subnormal"], cpu_name())
    out += text
    targets.append(target)
    text, rows_of_targets = sampled_section(extra["sampled"])
    out += text
    targets += rows_of_targets
    text, target = memory_section(mem)
    out += text
    targets.append(target)
    out += ["## Targets", "", "| target | verdict | where |", "|---|---|---|"] + targets + [
            "", "Why the targets that are not met are not: see `benchmarks/README.md`.", ""]
    return "\n".join(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=1,
                        help="torch intra-op threads (default 1: on a shared machine more threads make "
                             "timings far noisier)")
    parser.add_argument("--quick", action="store_true", help="small sizes, one repeat: checks every code path")
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--memory-probe", nargs=4, metavar=("WHAT", "B", "T", "H"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_probe:
        what, *numbers = args.memory_probe
        memory_probe(what, *map(int, numbers))
        return
    torch.set_num_threads(args.threads)
    start, load_start = time.perf_counter(), os.getloadavg()[0]
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    reps = 1 if args.quick else 5
    sections = []
    for device in devices:
        clock = Clock(device)
        warm_up_libraries(device)
        sizes = [(1, 20, 32), (2, 20, 32)] if args.quick else SIZES
        print(f"[{device}] LSTMDeepLift, the forward pass, IG, captum DeepLift, shap DeepExplainer", flush=True)
        rows = attribution_table(device, clock, sizes, reps)
        per_row = None if args.quick else per_row_baselines(device, clock, reps)
        print(f"[{device}] TimeStepShapley vs shap Exact", flush=True)
        ts_configs = [(6, 32), (8, 32)] if args.quick else [(10, 32), (14, 32), (10, 256), (14, 256)]
        ts_rows = timestep_table(device, clock, ts_configs, reps)
        print(f"[{device}] scaling", flush=True)
        scale = scaling(device, clock, 1 if args.quick else 3, args.quick)
        print(f"[{device}] the model family (token ids, two bidirectional layers, MLP head)", flush=True)
        family_sizes = [("LSTM", 2, 10, 16), ("GRU", 2, 10, 16)] if args.quick else FAMILY_SIZES
        family = family_table(device, clock, family_sizes, reps)
        sections.append((device, clock, rows, per_row, ts_rows, scale, family))
    cpu_clock = Clock(torch.device("cpu"))
    print("[cpu] subnormal floats: with and without the flush", flush=True)
    extra = {"subnormal": subnormal_effect(torch.device("cpu"), cpu_clock, reps, args.quick)}
    print("[cpu] sampled time-step Shapley values against shap", flush=True)
    extra["sampled"] = sampled_shapley(torch.device("cpu"), cpu_clock, args.quick)
    print("[cpu] memory, in fresh processes", flush=True)
    mem = memory(args.quick)
    elapsed = time.perf_counter() - start
    text = report(args, sections, extra, mem, elapsed, (load_start, os.getloadavg()[0]))
    args.out.write_text(text)
    print()
    print(text)


if __name__ == "__main__":
    main()
