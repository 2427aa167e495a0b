"""Interactive explorers for chapter 7: move a weight, a bias, an input or a baseline and watch
what every attribution rule does with it.

Three explorers, each a small object with

* ``.widget``: the ipywidgets box to display (displaying the explorer itself works too);
* its controls as attributes (sliders, dropdowns, toggle buttons);
* ``update()``: recompute with the package's functions and redraw;
* the numbers it shows as attributes (``.relevances``, ``.sums``, ``.conserved``, …) and the
  readout as ``.readout`` (an ``ipywidgets.HTML``; ``.readout_text`` is its plain text).

The explorers:

* :class:`LinearExplorer` — ``y = act(w·x + b)`` with three inputs: LRP (eq. 10), adjusted LRP
  (eq. 11), DeepLift (eq. 12) and Shapley values (eq. 18) per input;
* :class:`GateExplorer` — one LSTM gate with scalar ``x_t`` and ``h_{t-1}``: how DeepLift splits
  the gate's change between the two (eq. 14–17, corrected), next to LRP;
* :class:`SequenceExplorer` — a small LSTM (the chapter-2 counter, or a seeded random one):
  :class:`LSTMDeepLift` relevance over time and features, completeness, the product rule.

Drawing. Each explorer keeps one matplotlib figure (no pyplot, so nothing is shown twice). The
artists that move with the values (bars, lines, the heatmap and its numbers) are *animated*: the
rest (axes, ticks, legends, titles) is drawn once into a cached background, and a value change
restores that background, draws the animated artists over it (blitting) and encodes the pixels
as PNG into an ``ipywidgets.Image``. Axis limits snap to nice numbers (1, 1.5, 2, 3, 5 × 10^k),
so the background is redrawn only when a limit, a tick label or the gate changes. The
alternative, ``display(fig)`` into an ``ipywidgets.Output`` (``render="output"``), redraws the
whole figure twice (once more for the tight bounding box) and sends base64 text;
``benchmarks/widget_redraw.py`` measures both.

Coalescing. A value change does not recompute at once: with an asyncio loop running (inside a
Jupyter kernel, where widget messages are handled) it sets a pending-update flag and schedules one
update (recompute, readout, redraw) on the loop with ``call_soon``. That update reads whatever the
controls hold by then, so a burst of slider messages costs one update, not one per message. An
update also starts no sooner after the previous one than that one took (``call_later``; at most
:data:`MAX_THROTTLE`), so the kernel spends at most about half its time on updates and the
messages of a continuous drag never pile up. Without a running loop (a script, a test) the update
happens at once. ``update()`` always recomputes and redraws at once (a pending update then does
nothing); ``hold()`` and ``set(...)`` change several controls and update once.
"""

from __future__ import annotations

import asyncio
import base64
import html
import io
import math
import re
import time
from contextlib import contextmanager

import torch

from .extras import extra

with extra("notebooks", "lstm_teach.teach.widgets"):
    import ipywidgets as widgets
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from PIL import Image as PILImage

from ..activations import get_activation, rescale_multiplier
from ..deeplift import LSTMDeepLift
from ..dense import dense_deeplift, dense_lrp
from ..gates import gate_deeplift, gate_lrp
from ..lstm import ALIASES, GATE_ACTIVATIONS, GATES, LSTMWeights
from ..models import LSTMClassifier
from ..products import PRODUCT_RULES
from ..shapley import shapley_values

__all__ = ["LinearExplorer", "GateExplorer", "SequenceExplorer", "CONSERVATION_TOL"]

CONSERVATION_TOL = 1e-9
"""A rule counts as conserving when its sum is within this of what it should sum to."""

DTYPE = torch.float64

MAX_THROTTLE = 0.2
"""Seconds: the longest a scheduled update waits after the previous one (see the module docstring)."""

_RULE_COLORS = ("#4C72B0", "#8172B2", "#DD8452", "#55A868")


def _number(value: float, width: int = 8) -> str:
    """``+0.1234``, right-aligned; values that round to zero print as ``+0.0000`` (never ``-0.0000``)."""
    value = float(value)
    if abs(value) < 5e-5:
        value = 0.0
    return f"{value:+.4f}".rjust(width)


def _verdict(total: float, target: float, word: str = "conserved") -> str:
    gap = total - target
    if abs(gap) <= CONSERVATION_TOL:
        return f"{word} ✓"
    shown = f"{gap:+.4f}" if abs(gap) >= 5e-5 else f"{gap:+.1e}"
    return f"off by {shown} ✗"


def _running_loop():
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _slider(description: str, value: float, low: float, high: float, step: float = 0.05):
    return widgets.FloatSlider(
        value=value, min=low, max=high, step=step, description=description, readout_format=".2f",
        continuous_update=True, style={"description_width": "4.5em"}, layout=widgets.Layout(width="300px"),
    )



def _set_bar_heights(bars, relevances, sums) -> list[float]:
    """Set each rule's bars to its relevances and, last, their sum; return every height drawn."""
    values = []
    for rule, rule_bars in bars.items():
        heights = [*relevances[rule].tolist(), sums[rule]]
        for bar, height in zip(rule_bars, heights):
            bar.set_height(height)
        values += heights
    return values

class _Explorer:
    """What the three explorers share: the figure, its PNG, the readout and the redraw schedule.

    Subclasses build their controls and artists, then call :meth:`_finish`; they implement
    ``_compute()`` (numbers and readout) and ``_redraw()`` (artists from those numbers).
    """

    figsize = (6.4, 3.4)
    dpi = 90

    def __init__(self, render: str = "image"):
        if render not in ("image", "output"):
            raise ValueError(f"render must be 'image' or 'output', got {render!r}")
        self.render = render
        self.figure = Figure(figsize=self.figsize, dpi=self.dpi)
        FigureCanvasAgg(self.figure)
        self.image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%")) if render == "image" else None
        self.output_area = widgets.Output() if render == "output" else None
        self.readout = widgets.HTML()
        self.readout.add_class("lstm-teach-readout")
        self.png = b""
        self.draw_count = 0
        self.last_update_seconds = 0.0
        self.last_drawn_at = 0.0
        self._update_pending = False
        self._ranges = {}
        self._last_update_end = 0.0
        self._holding = False
        self._animated = []
        self._background = None
        self._layout_key = None
        self.full_draw_count = 0

    # --- wiring -----------------------------------------------------------------------------
    def _finish(self, controls, css_class: str):
        """Observe ``controls``, lay out the box (controls left, figure and readout right), draw."""
        for control in self._controls_to_observe():
            control.observe(self._on_change, names="value")
        canvas = self.image if self.render == "image" else self.output_area
        self.widget = widgets.HBox(
            [controls, widgets.VBox([canvas, self.readout])],
            layout=widgets.Layout(flex_flow="row wrap", align_items="flex-start"),
        )
        self.widget.add_class("lstm-teach-explorer")
        self.widget.add_class(css_class)
        self.update()

    def _controls_to_observe(self):
        raise NotImplementedError

    def _on_change(self, change=None):
        if not self._holding:
            self._schedule_update()

    @contextmanager
    def hold(self):
        """Set several controls from code, then recompute and redraw once::

            with explorer.hold():
                explorer.bias_slider.value = 0.5
                explorer.input_sliders[0].value = -0.2
        """
        self._holding = True
        try:
            yield self
        finally:
            self._holding = False
            self.update()

    def update(self):
        """Recompute every number from the controls and redraw the figure now."""
        start = time.perf_counter()
        self._update_pending = False
        self._compute()
        self._draw()
        self._last_update_end = time.perf_counter()
        self.last_update_seconds = self._last_update_end - start

    # --- update scheduling (see the module docstring) ----------------------------------------
    def _schedule_update(self):
        if self._update_pending:
            return
        loop = _running_loop()
        if loop is None:
            self.update()
            return
        self._update_pending = True
        wait = self._last_update_end + min(self.last_update_seconds, MAX_THROTTLE) - time.perf_counter()
        if wait > 0:
            loop.call_later(wait, self._update_if_pending)
        else:
            loop.call_soon(self._update_if_pending)

    def _update_if_pending(self):
        if self._update_pending:
            self.update()

    def _stable_limits(self, name, values, least: float = 0.1, shrink: float = 3.0) -> tuple[float, float]:
        """Axis limits for ``values`` that change rarely, so the background is seldom redrawn: they
        grow to the next nice number when a value would not fit, and shrink only when everything
        fits in ``1 / shrink`` of the range. ``name`` keeps one such range per axis (and model)."""
        wanted = _limits(values, least)
        current = self._ranges.get(name)
        if current is not None:
            inside = current[0] <= wanted[0] and wanted[1] <= current[1]
            if inside and shrink * (wanted[1] - wanted[0]) > current[1] - current[0]:
                return current
        self._ranges[name] = wanted
        return wanted

    def _draw(self):
        key = self._redraw()
        if self.render == "image":
            canvas = self.figure.canvas
            if key != self._layout_key or self._background is None:
                canvas.draw()  # axes, ticks, legends: everything except the animated artists
                self._background = canvas.copy_from_bbox(self.figure.bbox)
                self._layout_key = key
                self.full_draw_count += 1
            else:
                canvas.restore_region(self._background)
            for artist in self._animated:
                self.figure.draw_artist(artist)
            self.png = _png_bytes(canvas)
            self.image.value = self.png
        else:
            with extra("notebooks", "lstm_teach.teach.widgets"):
                from IPython.core.pylabtools import print_figure  # what display(fig) sends under %matplotlib inline

            for artist in self._animated:
                artist.set_animated(False)
            try:
                self.png = print_figure(self.figure, "png", bbox_inches="tight")
            finally:
                for artist in self._animated:
                    artist.set_animated(True)
            self.output_area.outputs = ({
                "output_type": "display_data", "metadata": {},
                "data": {"image/png": base64.b64encode(self.png).decode("ascii"), "text/plain": "<Figure>"},
            },)
        self.draw_count += 1
        self.last_drawn_at = time.time()

    def _animate(self, *artists):
        """Mark artists that change with the values: they are drawn over a cached background."""
        for artist in artists:
            artist.set_animated(True)
            self._animated.append(artist)

    # --- readout --------------------------------------------------------------------------------
    def _set_readout(self, lines):
        self.readout.value = (
            '<pre style="font-size: 12px; line-height: 1.35; margin: 4px 0">'
            + html.escape("\n".join(lines)) + "</pre>"
        )

    @property
    def readout_text(self) -> str:
        """The readout as plain text (what the HTML shows)."""
        return html.unescape(re.sub(r"<[^>]+>", "", self.readout.value))

    def _repr_mimebundle_(self, include=None, exclude=None):
        # Jupyter and Voilà show the live widget; a static page falls back to the last PNG. The
        # text stays the same from run to run (no model id), so nbval can compare it.
        bundle = {
            "text/plain": f"{type(self).__name__} (interactive: open the notebook in Jupyter or Voilà)",
            "application/vnd.jupyter.widget-view+json": {
                "version_major": 2, "version_minor": 0, "model_id": self.widget.model_id,
            },
        }
        if self.png:
            bundle["image/png"] = base64.b64encode(self.png).decode("ascii")
        return bundle

    def _compute(self):
        raise NotImplementedError

    def _redraw(self):
        """Update the artists from the numbers; return the layout key (axis limits, tick labels…):
        the background is redrawn only when the key changes."""
        raise NotImplementedError


def _png_bytes(canvas) -> bytes:
    """The canvas's pixels as PNG (RGB, light compression: a few milliseconds)."""
    buffer = io.BytesIO()
    pixels = PILImage.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    pixels.convert("RGB").save(buffer, format="png", compress_level=1)
    return buffer.getvalue()


def _nice_ceiling(value: float) -> float:
    """The smallest of 1, 1.5, 2, 3, 5 × 10^k that is ≥ ``value`` (> 0): axis limits snap to these,
    so they change (and the background is redrawn) only now and then during a drag."""
    k = math.floor(math.log10(value))
    for m in (1, 1.5, 2, 3, 5, 10):
        if m * 10.0**k >= value * (1 - 1e-9):
            return m * 10.0**k
    return 10.0 ** (k + 1)


def _limits(values, least: float = 0.1) -> tuple[float, float]:
    """y-limits that hold ``values`` and 0, at least ``least`` apart, snapped to nice numbers."""
    top, bottom = max(0.0, *values) * 1.08, min(0.0, *values) * 1.08
    high = _nice_ceiling(top) if top > 0 else 0.0
    low = -_nice_ceiling(-bottom) if bottom < 0 else 0.0
    if high - low < least:  # stretch the larger side to ``least`` (still a nice number)
        if high >= -low:
            high = max(high, least)
        else:
            low = min(low, -least)
    pad = 0.03 * (high - low)
    return low - pad, high + pad


class LinearExplorer(_Explorer):
    """``y = act(w·x + b)`` with three inputs: four rules side by side (seed eq. 10, 11, 12, 18).

    Controls: ``weight_sliders`` (3), ``bias_slider``, ``input_sliders`` (3),
    ``baseline_sliders`` (3), ``activation`` (dropdown: tanh, sigmoid, identity).

    After every change:

    * ``relevances``: rule name → tensor (3,), for ``"LRP"`` (:func:`dense_lrp`, eq. 10),
      ``"adjusted LRP"`` (``adjusted=True``, eq. 11), ``"DeepLift"`` (:func:`dense_deeplift`,
      eq. 12) and ``"Shapley"`` (:func:`shapley_values` of ``act(w·x + b)``, eq. 18);
    * ``output`` = act(z), ``output_baseline`` = act(z_b);
    * ``targets``: what each rule should sum to — act(z) for both LRPs, act(z) − act(z_b) for
      DeepLift and Shapley; ``sums``, ``conserved`` (bool per rule, tolerance
      :data:`CONSERVATION_TOL`).

    The defaults are seed 1's example: w = (1, 2, 3), x = (0.1, 0.2, 0.3), b = 0.
    """

    RULES = ("LRP", "adjusted LRP", "DeepLift", "Shapley")
    LABELS = {"LRP": "LRP (eq. 10)", "adjusted LRP": "adj. LRP (11)", "DeepLift": "DeepLift (12)",
              "Shapley": "Shapley (18)"}

    def __init__(self, weights=(1.0, 2.0, 3.0), bias=0.0, inputs=(0.1, 0.2, 0.3), baseline=(0.0, 0.0, 0.0),
                 activation="tanh", render="image"):
        super().__init__(render)
        self.weight_sliders = tuple(_slider(f"w{k + 1}", v, -3, 3) for k, v in enumerate(weights))
        self.bias_slider = _slider("b", bias, -3, 3)
        self.input_sliders = tuple(_slider(f"x{k + 1}", v, -1, 1) for k, v in enumerate(inputs))
        self.baseline_sliders = tuple(_slider(f"x_b{k + 1}", v, -1, 1) for k, v in enumerate(baseline))
        self.activation = widgets.Dropdown(options=["tanh", "sigmoid", "identity"], value=activation,
                                           description="act", style={"description_width": "4.5em"},
                                           layout=widgets.Layout(width="300px"))
        self._build_figure()
        controls = widgets.VBox([
            widgets.HTML("<b>weights and bias</b>"), *self.weight_sliders, self.bias_slider,
            widgets.HTML("<b>inputs</b>"), *self.input_sliders,
            widgets.HTML("<b>baseline</b> (DeepLift, Shapley)"), *self.baseline_sliders, self.activation,
        ])
        self._finish(controls, "lstm-teach-linear")

    def _controls_to_observe(self):
        return (*self.weight_sliders, self.bias_slider, *self.input_sliders, *self.baseline_sliders,
                self.activation)

    def set(self, weights=None, bias=None, inputs=None, baseline=None, activation=None):
        """Set any of the values from code and update once."""
        with self.hold():
            for sliders, values in ((self.weight_sliders, weights), (self.input_sliders, inputs),
                                    (self.baseline_sliders, baseline)):
                if values is not None:
                    for slider, value in zip(sliders, values, strict=True):
                        slider.value = float(value)
            if bias is not None:
                self.bias_slider.value = float(bias)
            if activation is not None:
                self.activation.value = activation

    @property
    def weight(self) -> torch.Tensor:
        """``(1, 3)``: the layer's weight as :func:`dense_lrp` takes it."""
        return torch.tensor([[s.value for s in self.weight_sliders]], dtype=DTYPE)

    @property
    def bias(self) -> torch.Tensor:
        """``(1,)``."""
        return torch.tensor([self.bias_slider.value], dtype=DTYPE)

    @property
    def x(self) -> torch.Tensor:
        """``(3,)``: the inputs."""
        return torch.tensor([s.value for s in self.input_sliders], dtype=DTYPE)

    @property
    def x_baseline(self) -> torch.Tensor:
        """``(3,)``: the baseline."""
        return torch.tensor([s.value for s in self.baseline_sliders], dtype=DTYPE)

    def _compute(self):
        w, b, x, x_b, name = self.weight, self.bias, self.x, self.x_baseline, self.activation.value
        act = get_activation(name).fn

        def layer(v):  # the game of eq. 18: the neuron's output for a batch of inputs (..., 3)
            return act(v @ w.T + b)[..., 0]

        self.relevances = {
            "LRP": dense_lrp(x, w, b, name)[0],
            "adjusted LRP": dense_lrp(x, w, b, name, adjusted=True)[0],
            "DeepLift": dense_deeplift(x, w, b, x_b, name)[0],
            "Shapley": shapley_values(layer, x, x_b),
        }
        self.z, self.z_baseline = (x @ w.T + b).item(), (x_b @ w.T + b).item()
        self.output, self.output_baseline = layer(x).item(), layer(x_b).item()
        change = self.output - self.output_baseline
        self.targets = {"LRP": self.output, "adjusted LRP": self.output, "DeepLift": change, "Shapley": change}
        self.sums = {rule: r.sum().item() for rule, r in self.relevances.items()}
        self.conserved = {rule: abs(self.sums[rule] - self.targets[rule]) <= CONSERVATION_TOL for rule in self.RULES}
        target_names = {"LRP": "act(z)", "adjusted LRP": "act(z)", "DeepLift": "Δ", "Shapley": "Δ"}
        lines = [
            f"z   = w·x + b   = {_number(self.z)}    act(z)   = {_number(self.output)}",
            f"z_b = w·x_b + b = {_number(self.z_baseline)}    act(z_b) = {_number(self.output_baseline)}"
            f"    Δ = act(z) − act(z_b) = {_number(change)}",
            "",
            f"{'rule':<14}{'x1':>9}{'x2':>9}{'x3':>9}{'sum':>10}   should equal",
        ]
        for rule in self.RULES:
            r = self.relevances[rule]
            lines.append(
                f"{self.LABELS[rule]:<14}{_number(r[0], 9)}{_number(r[1], 9)}{_number(r[2], 9)}"
                f"{_number(self.sums[rule], 10)}   {target_names[rule]:<6}{_number(self.targets[rule])}  "
                f"{_verdict(self.sums[rule], self.targets[rule])}"
            )
        self._set_readout(lines)

    def _build_figure(self):
        fig = self.figure
        fig.subplots_adjust(left=0.1, right=0.98, top=0.86, bottom=0.12)
        ax = self.ax = fig.add_subplot()
        width = 0.2
        self._bars = {}
        positions = [0, 1, 2, 3.4]
        for k, rule in enumerate(self.RULES):
            xs = [p + (k - 1.5) * width for p in positions]
            self._bars[rule] = ax.bar(xs, [0.0] * 4, width, color=_RULE_COLORS[k], label=self.LABELS[rule])
        ax.axhline(0, color="black", linewidth=0.8)
        ax.axvline(2.7, color="grey", linewidth=0.8, linestyle=":")
        # what the sums should reach: act(z) over the two LRP bars, Δ over DeepLift and Shapley
        self._target_lines = {
            "output": ax.plot([3.4 - 2 * width, 3.4], [0, 0], color="black", linewidth=2)[0],
            "change": ax.plot([3.4, 3.4 + 2 * width], [0, 0], color="black", linewidth=2, linestyle="--")[0],
        }
        ax.set_xticks(positions, ["x1", "x2", "x3", "sum\n(— act(z), -- Δ)"])
        ax.set_xlim(-0.55, 3.95)
        ax.set_ylabel("relevance")
        ax.set_title("Relevance per input of y = act(w·x + b)", pad=22)
        ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=4, fontsize=8, frameon=False)
        self._animate(*(bar for bars in self._bars.values() for bar in bars), *self._target_lines.values())

    def _redraw(self):
        values = _set_bar_heights(self._bars, self.relevances, self.sums)
        self._target_lines["output"].set_ydata([self.output, self.output])
        self._target_lines["change"].set_ydata([self.output - self.output_baseline] * 2)
        values += [self.output, self.output - self.output_baseline]
        limits = self._stable_limits("y", values)
        self.ax.set_ylim(*limits)
        return limits


GATE_LABELS = {
    "i": "i: input gate (seed 2: save)",
    "f": "f: forget gate (seed 2: remember)",
    "g": "g: candidate C̃ (seed 2: c′)",
    "o": "o: output gate (seed 2: focus)",
}
"""Dropdown labels: PyTorch's letter, the gate's name, seed 2's name."""

SEED2_NAMES = {letter: name for name, letter in ALIASES.items()}

_GATE_DEFAULTS = {  # (W_i*, W_h*, b_i*, b_h*) per gate
    "i": (1.0, 0.5, 0.2, 0.1),
    "f": (0.8, -0.6, 1.0, 0.0),
    "g": (1.5, 1.0, 0.0, -0.2),
    "o": (-0.7, 1.2, 0.3, 0.3),
}


class GateExplorer(_Explorer):
    """One LSTM gate with a scalar input ``x_t`` and a scalar state ``h_{t-1}`` (seed eq. 14–17, corrected).

    The gate is ``act(z)`` with ``z = W_i*·x_t + b_i* + W_h*·h_{t-1} + b_h*``; DeepLift
    (:func:`gate_deeplift`) splits its change ``act(z) − act(z_b)`` between ``x_t`` and
    ``h_{t-1}``; LRP (:func:`gate_lrp`, bias in the denominator as in eq. 14's LRP line, and
    ``adjusted``) splits ``act(z)`` itself, for comparison.

    Controls: ``gate`` (dropdown: i, f, g, o), ``x_slider``, ``h_slider``, ``x_baseline_slider``,
    ``h_baseline_slider``, ``w_x_slider`` (``W_i*``), ``w_h_slider`` (``W_h*``), ``b_x_slider``
    (``b_i*``), ``b_h_slider`` (``b_h*``). Each gate keeps its own weights in ``weights``
    (an :class:`LSTMWeights` with input and hidden size 1); the weight sliders show the chosen
    gate's and are renamed after it (``W_if``, ``W_hf``, ``b_if``, ``b_hf`` for the forget gate).

    After every change: ``relevances`` (rule → tensor ``(2,)``: ``[x_t part, h_{t-1} part]`` for
    ``"DeepLift"``, ``"LRP"``, ``"adjusted LRP"``), ``z``, ``z_baseline``, ``value`` = act(z),
    ``value_baseline``, ``change``, ``multiplier`` (DeepLift's rescale multiplier), ``targets``,
    ``sums`` and ``conserved``.
    """

    RULES = ("DeepLift", "LRP", "adjusted LRP")
    figsize = (7.2, 3.2)

    def __init__(self, gate="i", x=0.8, h=0.5, x_baseline=0.0, h_baseline=0.0, render="image"):
        super().__init__(render)
        w_ih = torch.tensor([[_GATE_DEFAULTS[g][0]] for g in GATES], dtype=DTYPE)
        w_hh = torch.tensor([[_GATE_DEFAULTS[g][1]] for g in GATES], dtype=DTYPE)
        b_ih = torch.tensor([_GATE_DEFAULTS[g][2] for g in GATES], dtype=DTYPE)
        b_hh = torch.tensor([_GATE_DEFAULTS[g][3] for g in GATES], dtype=DTYPE)
        self.weights = LSTMWeights(w_ih, w_hh, b_ih, b_hh)
        self.gate = widgets.Dropdown(options=[(GATE_LABELS[g], g) for g in GATES], value=gate,
                                     description="gate", style={"description_width": "4.5em"},
                                     layout=widgets.Layout(width="300px"))
        self.x_slider = _slider("x_t", x, -2, 2)
        self.h_slider = _slider("h_{t-1}", h, -1, 1)
        self.x_baseline_slider = _slider("x_b", x_baseline, -2, 2)
        self.h_baseline_slider = _slider("h_b", h_baseline, -1, 1)
        self.w_x_slider = _slider("W_i", 0.0, -4, 4)
        self.w_h_slider = _slider("W_h", 0.0, -4, 4)
        self.b_x_slider = _slider("b_i", 0.0, -3, 3)
        self.b_h_slider = _slider("b_h", 0.0, -3, 3)
        self._show_gate_weights()
        self.gate.observe(self._on_gate, names="value")
        self._build_figure()
        controls = widgets.VBox([
            self.gate, widgets.HTML("<b>input and state</b>"), self.x_slider, self.h_slider,
            widgets.HTML("<b>baselines</b>"), self.x_baseline_slider, self.h_baseline_slider,
            widgets.HTML("<b>this gate's weights</b>"), self.w_x_slider, self.w_h_slider,
            self.b_x_slider, self.b_h_slider,
        ])
        self._finish(controls, "lstm-teach-gate")

    def _weight_sliders(self):
        return (self.w_x_slider, self.w_h_slider, self.b_x_slider, self.b_h_slider)

    def _controls_to_observe(self):
        return (self.x_slider, self.h_slider, self.x_baseline_slider, self.h_baseline_slider,
                *self._weight_sliders())

    def _row(self) -> int:
        return GATES.index(self.gate.value)

    def _show_gate_weights(self):
        """Put the chosen gate's weights on the weight sliders (without triggering updates)."""
        g, row, w = self.gate.value, self._row(), self.weights
        holding, self._holding = self._holding, True
        try:
            for slider, name, tensor in zip(self._weight_sliders(), ("W_i", "W_h", "b_i", "b_h"),
                                            (w.weight_ih[row, 0], w.weight_hh[row, 0], w.bias_ih[row], w.bias_hh[row])):
                slider.description = name + g
                slider.value = float(tensor)
        finally:
            self._holding = holding

    def _on_gate(self, change):
        # keep what the sliders hold for the gate we leave (an update may still be pending), then
        # show the new gate's weights
        self._store_gate_weights(change["old"])
        self._show_gate_weights()
        self._on_change()

    def set(self, gate=None, x=None, h=None, x_baseline=None, h_baseline=None, W_i=None, W_h=None, b_i=None, b_h=None):
        """Set any of the values from code (weights for the chosen gate) and update once."""
        with self.hold():
            if gate is not None:
                self.gate.value = gate
            for slider, value in ((self.x_slider, x), (self.h_slider, h), (self.x_baseline_slider, x_baseline),
                                  (self.h_baseline_slider, h_baseline), (self.w_x_slider, W_i),
                                  (self.w_h_slider, W_h), (self.b_x_slider, b_i), (self.b_h_slider, b_h)):
                if value is not None:
                    slider.value = float(value)

    def _store_gate_weights(self, gate=None):
        row, w = GATES.index(gate or self.gate.value), self.weights
        w.weight_ih[row, 0] = self.w_x_slider.value
        w.weight_hh[row, 0] = self.w_h_slider.value
        w.bias_ih[row] = self.b_x_slider.value
        w.bias_hh[row] = self.b_h_slider.value

    def _compute(self):
        self._store_gate_weights()
        g, w = self.gate.value, self.weights
        x, h = torch.tensor([[self.x_slider.value]], dtype=DTYPE), torch.tensor([[self.h_slider.value]], dtype=DTYPE)
        x_b = torch.tensor([[self.x_baseline_slider.value]], dtype=DTYPE)
        h_b = torch.tensor([[self.h_baseline_slider.value]], dtype=DTYPE)

        def both(parts):  # ((1, 1, 1), (1, 1, 1)) -> (2,): [x_t part, h_{t-1} part]
            return torch.cat([parts[0].reshape(1), parts[1].reshape(1)])

        self.relevances = {
            "DeepLift": both(gate_deeplift(x, h, w, g, x_b, h_b)),
            "LRP": both(gate_lrp(x, h, w, g)),
            "adjusted LRP": both(gate_lrp(x, h, w, g, adjusted=True)),
        }
        weight, bias = w.gate_layer(g)
        self.activation_name = GATE_ACTIVATIONS[g]
        act = get_activation(self.activation_name)
        z = (torch.cat([x, h], -1) @ weight.T + bias).reshape(())
        z_b = (torch.cat([x_b, h_b], -1) @ weight.T + bias).reshape(())
        self.z, self.z_baseline = z.item(), z_b.item()
        self.value, self.value_baseline = act.fn(z).item(), act.fn(z_b).item()
        self.change = self.value - self.value_baseline
        self.multiplier = rescale_multiplier(act, z, z_b).item()
        self.targets = {"DeepLift": self.change, "LRP": self.value, "adjusted LRP": self.value}
        self.sums = {rule: r.sum().item() for rule, r in self.relevances.items()}
        self.conserved = {rule: abs(self.sums[rule] - self.targets[rule]) <= CONSERVATION_TOL for rule in self.RULES}
        act_symbol = "σ" if self.activation_name == "sigmoid" else "tanh"
        lines = [
            f"gate {g} ({SEED2_NAMES[g]}) = {act_symbol}(z),  z = W_i{g}·x_t + b_i{g} + W_h{g}·h_(t-1) + b_h{g}",
            f"input:    z   = {_number(self.z)}   {act_symbol}(z)   = {_number(self.value)}",
            f"baseline: z_b = {_number(self.z_baseline)}   {act_symbol}(z_b) = {_number(self.value_baseline)}",
            f"change Δ = {_number(self.change)}   DeepLift multiplier m = Δ / (z − z_b) = {_number(self.multiplier)}",
            "",
            f"{'rule':<14}{'x_t':>9}{'h_(t-1)':>9}{'sum':>10}   should equal",
        ]
        for rule in self.RULES:
            r = self.relevances[rule]
            target_name = "Δ" if rule == "DeepLift" else f"{act_symbol}(z)"
            lines.append(
                f"{rule:<14}{_number(r[0], 9)}{_number(r[1], 9)}{_number(self.sums[rule], 10)}   "
                f"{target_name:<8}{_number(self.targets[rule])}  {_verdict(self.sums[rule], self.targets[rule])}"
            )
        self._set_readout(lines)

    def _build_figure(self):
        fig = self.figure
        fig.subplots_adjust(left=0.08, right=0.98, top=0.82, bottom=0.14, wspace=0.28)
        self.ax_curve, self.ax_bars = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.3]})
        ax = self.ax_curve
        (self._curve,) = ax.plot([], [], color="grey", linewidth=1.5)
        (self._secant,) = ax.plot([], [], color=_RULE_COLORS[2], linewidth=2.5, linestyle="--", label="secant: slope m")
        (self._point,) = ax.plot([], [], "o", color="black", label="input z")
        (self._point_b,) = ax.plot([], [], "s", color="grey", markerfacecolor="white", label="baseline z_b")
        ax.set_xlabel("pre-activation z")
        self._curve_title = ax.set_title("")
        ax.legend(loc="upper left", fontsize=7, frameon=False)
        ax = self.ax_bars
        width = 0.25
        positions = [0, 1, 2.3]
        self._bars = {}
        for k, rule in enumerate(self.RULES):
            xs = [p + (k - 1) * width for p in positions]
            color = _RULE_COLORS[{"DeepLift": 2, "LRP": 0, "adjusted LRP": 1}[rule]]  # as in LinearExplorer
            self._bars[rule] = ax.bar(xs, [0.0] * 3, width, color=color, label=rule)
        ax.axhline(0, color="black", linewidth=0.8)
        ax.axvline(1.65, color="grey", linewidth=0.8, linestyle=":")
        self._change_line = ax.plot([2.3 - 1.5 * width, 2.3 - 0.5 * width], [0, 0], color="black", linewidth=2,
                                    linestyle="--")[0]
        self._value_line = ax.plot([2.3 - 0.5 * width, 2.3 + 1.5 * width], [0, 0], color="black", linewidth=2)[0]
        ax.set_xticks(positions, ["x_t", "h_(t-1)", "sum\n(-- Δ, — act(z))"])
        ax.set_xlim(-0.5, 2.8)
        ax.set_ylabel("relevance")
        ax.set_title("Split between x_t and h_(t-1)", fontsize=10, pad=18)
        ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3, fontsize=8, frameon=False)
        self._animate(self._secant, self._point, self._point_b,
                      *(bar for bars in self._bars.values() for bar in bars), self._change_line, self._value_line)

    def _redraw(self):
        extent = max(abs(self.z), abs(self.z_baseline)) + 1
        extent = 6.0 if extent <= 6 else _nice_ceiling(extent)
        self.ax_curve.set_xlim(-extent, extent)
        self.ax_curve.set_ylim(-1.1 if self.activation_name == "tanh" else -0.05, 1.1)
        zs = torch.linspace(-extent, extent, 121, dtype=DTYPE)
        self._curve.set_data(zs.tolist(), get_activation(self.activation_name).fn(zs).tolist())
        self._secant.set_data([self.z_baseline, self.z], [self.value_baseline, self.value])
        self._point.set_data([self.z], [self.value])
        self._point_b.set_data([self.z_baseline], [self.value_baseline])
        name = "σ" if self.activation_name == "sigmoid" else "tanh"
        self._curve_title.set_text(f"gate {self.gate.value} = {name}(z), secant from z_b to z")
        values = _set_bar_heights(self._bars, self.relevances, self.sums)
        self._change_line.set_ydata([self.change] * 2)
        self._value_line.set_ydata([self.value] * 2)
        limits = self._stable_limits("y", values + [self.change, self.value])
        self.ax_bars.set_ylim(*limits)
        return self.gate.value, extent, limits


def _random_lstm(seed: int = 0, hidden_size: int = 3, gain: float = 3.0) -> LSTMClassifier:
    """A seeded :class:`LSTMClassifier` (input 2, one output, float64), weights scaled by ``gain``
    so that the gates move between input and baseline and the product rules disagree."""
    torch.manual_seed(seed)
    model = LSTMClassifier(2, hidden_size, 1).to(DTYPE)
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(gain)
    return model


def _sequence_models() -> dict:
    models = {}
    try:
        from .counter import counter_lstm
    except ImportError:  # the chapter-2 counter is optional here
        counter_lstm = None
    if counter_lstm is not None:
        models["counter (chapter 2)"] = counter_lstm()
    models["random LSTM (seed 0, 3 units)"] = _random_lstm()
    return models


SYMBOLS = ("a", "b")
BASELINE_SYMBOLS = ("a", "b", "0")
"""Input steps are one-hot symbols; a baseline step may also be ``"0"``, the zero vector."""


class SequenceExplorer(_Explorer):
    """:class:`LSTMDeepLift` relevance of a small LSTM over time and features, with completeness.

    Models (``model`` dropdown): the chapter-2 counter (``lstm_teach.counter_lstm``: its cell
    state counts the ``'a'``) when the package has it, and a seeded random LSTM. Inputs are
    one-hot symbols ``'a'``, ``'b'``; each step has a toggle for its symbol (``step_buttons``) and
    one for its baseline (``baseline_buttons``: ``'a'``, ``'b'`` or ``'0'`` = zero vector).
    ``rule`` switches the product rule (``"shapley"``, ``"input"``, ``"baseline"``).

    After every change: ``inputs`` and ``baselines`` ``(1, T, 2)``; ``score`` = f(x),
    ``score_baseline`` = f(baseline); ``attributions`` (rule → ``(T, 2)`` for every rule) and
    ``deltas`` (rule → sum − (f(x) − f(baseline))), ``relevance`` (the chosen rule's ``(T, 2)``),
    ``complete`` (rule → bool, tolerance :data:`CONSERVATION_TOL`).
    """

    figsize = (6.4, 3.6)

    def __init__(self, sequence="aabbab", baseline=None, rule="shapley", model=None, render="image"):
        super().__init__(render)
        self.models = _sequence_models()
        names = list(self.models)
        steps = len(sequence)
        baseline = baseline if baseline is not None else "0" * steps
        if len(baseline) != steps:
            raise ValueError(f"baseline must have {steps} steps like sequence, got {len(baseline)}")
        self.model = widgets.Dropdown(options=names, value=model if model is not None else names[0],
                                      description="model", style={"description_width": "4.5em"},
                                      layout=widgets.Layout(width="300px"))
        self.rule = widgets.ToggleButtons(options=list(PRODUCT_RULES), value=rule, description="product rule",
                                          style={"description_width": "6em", "button_width": "5.5em"})
        toggle_style = {"button_width": "2.1em"}
        self.step_buttons = [widgets.ToggleButtons(options=list(SYMBOLS), value=ch, style=toggle_style,
                                                   tooltips=[f"step {t + 1}: {s}" for s in SYMBOLS])
                             for t, ch in enumerate(sequence)]
        self.baseline_buttons = [widgets.ToggleButtons(options=list(BASELINE_SYMBOLS), value=ch, style=toggle_style)
                                 for ch in baseline]
        self._build_figure(steps)
        columns = [widgets.VBox([widgets.HTML(f"<b>t = {t + 1}</b>"), self.step_buttons[t], self.baseline_buttons[t]],
                                layout=widgets.Layout(align_items="center", margin="0 6px 0 0"))
                   for t in range(steps)]
        labels = widgets.VBox([widgets.HTML("&nbsp;"), widgets.HTML("input"), widgets.HTML("baseline")],
                              layout=widgets.Layout(margin="0 6px 0 0"))
        controls = widgets.VBox([self.model, self.rule, widgets.HBox([labels, *columns])])
        self._finish(controls, "lstm-teach-sequence")
        self.widget.layout.flex_flow = "column"

    def _controls_to_observe(self):
        return (self.model, self.rule, *self.step_buttons, *self.baseline_buttons)

    def set(self, sequence=None, baseline=None, rule=None, model=None):
        """Set any of the values from code (strings like ``"aabbab"``, ``"000000"``) and update once."""
        with self.hold():
            for buttons, text in ((self.step_buttons, sequence), (self.baseline_buttons, baseline)):
                if text is not None:
                    if len(text) != len(buttons):
                        raise ValueError(f"expected {len(buttons)} steps, got {len(text)}")
                    for button, ch in zip(buttons, text):
                        button.value = ch
            if rule is not None:
                self.rule.value = rule
            if model is not None:
                self.model.value = model

    @property
    def sequence(self) -> str:
        return "".join(b.value for b in self.step_buttons)

    @property
    def baseline(self) -> str:
        return "".join(b.value for b in self.baseline_buttons)

    @staticmethod
    def _one_hot(text: str) -> torch.Tensor:
        rows = {"a": (1.0, 0.0), "b": (0.0, 1.0), "0": (0.0, 0.0)}
        return torch.tensor([[rows[ch] for ch in text]], dtype=DTYPE)

    def _compute(self):
        model = self.models[self.model.value]
        self.inputs, self.baselines = self._one_hot(self.sequence), self._one_hot(self.baseline)
        with torch.no_grad():
            self.score = model(self.inputs).item()
            self.score_baseline = model(self.baselines).item()
        self.attributions, self.deltas = {}, {}
        for rule in PRODUCT_RULES:
            a, delta = LSTMDeepLift(model, rule).attribute(self.inputs, self.baselines, return_convergence_delta=True)
            self.attributions[rule], self.deltas[rule] = a[0], delta.item()
        self.relevance = self.attributions[self.rule.value]
        self.complete = {rule: abs(d) <= CONSERVATION_TOL for rule, d in self.deltas.items()}
        change = self.score - self.score_baseline
        lines = [
            f"x = {self.sequence}   baseline = {self.baseline}",
            f"f(x) = {_number(self.score)}   f(baseline) = {_number(self.score_baseline)}   "
            f"f(x) − f(baseline) = {_number(change)}",
            "",
            f"  {'product rule':<13}{'sum':>9}   gap = sum − (f(x) − f(baseline))",
        ]
        for rule in PRODUCT_RULES:
            total = self.attributions[rule].sum().item()
            mark = "▶" if rule == self.rule.value else " "
            lines.append(f"{mark} {rule:<13}{_number(total, 9)}   {_number(self.deltas[rule])}  "
                         f"{_verdict(total, change, 'complete')}")
        steps = self.relevance.shape[0]
        lines += ["", f"relevance ({self.rule.value})" + "".join(f"{f't={t + 1}':>8}" for t in range(steps)),
                  f"{'  symbol (baseline)':<20}" + "".join(f"{f'{x} ({b})':>8}" for x, b in zip(self.sequence, self.baseline))]
        for k, symbol in enumerate(SYMBOLS):
            lines.append(f"{f'  feature {symbol!r}':<20}" + "".join(_number(v) for v in self.relevance[:, k].tolist()))
        lines.append(f"{'  step total':<20}" + "".join(_number(v) for v in self.relevance.sum(1).tolist()))
        self._set_readout(lines)

    def _build_figure(self, steps):
        fig = self.figure
        fig.subplots_adjust(left=0.1, right=0.86, top=0.92, bottom=0.08, hspace=0.55)
        self.ax_map, self.ax_steps = fig.subplots(2, 1, gridspec_kw={"height_ratios": [1.1, 1]})
        ax = self.ax_map
        self._heatmap = ax.imshow(torch.zeros(2, steps).numpy(), cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto")
        # the numbers of the cells are in the readout: text is what costs most in a redraw
        ax.set_yticks([0, 1], ["'a'", "'b'"])
        ax.set_ylabel("feature")
        ax.set_xticks(range(steps), [f"t={t + 1}" for t in range(steps)])
        self._map_title = ax.set_title("")
        cax = fig.add_axes([0.875, 0.55, 0.015, 0.38])
        fig.colorbar(self._heatmap, cax=cax)
        ax = self.ax_steps
        self._step_bars = ax.bar(range(steps), [0.0] * steps, 0.6, color=_RULE_COLORS[0])
        ax.axhline(0, color="black", linewidth=0.8)
        ax.set_xticks(range(steps), [f"t={t + 1}" for t in range(steps)])
        ax.set_xlim(-0.5, steps - 0.5)
        ax.set_ylabel("relevance")
        ax.set_title("relevance per step (summed over the features)", fontsize=10)
        self._animate(self._heatmap, *self._step_bars)

    def _redraw(self):
        rel = self.relevance
        grid = rel.T
        largest = grid.abs().max().item()
        bound = self._stable_limits(("colour", self.model.value), [-largest, largest], 0.1, shrink=10)[1]
        self._heatmap.set_data(grid.numpy())
        self._heatmap.set_clim(-bound, bound)
        rule = self.rule.value
        self._map_title.set_text(f"LSTMDeepLift relevance, product rule '{rule}'")
        per_step = rel.sum(1).tolist()
        for bar, height in zip(self._step_bars, per_step):
            bar.set_height(height)
        limits = self._stable_limits(("steps", self.model.value), per_step, 0.1, shrink=10)
        self.ax_steps.set_ylim(*limits)
        return rule, bound, limits
