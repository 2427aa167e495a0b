"""Diagrams for chapters 2, 5 and 6: one LSTM cell (eq. 1–6), and the LSTM unrolled over time, each
with the DeepLift multipliers flowing backwards if asked.

Drawn with matplotlib patches and mathtext only, so the pictures come from this code and nothing
else. Both functions return a :class:`~matplotlib.figure.Figure` (no pyplot state is touched, so a
notebook shows it by displaying the returned figure) and use the book's notation
(``book/notation.md``): bars are baselines, ``M_v`` is the multiplier of the score with respect
to ``v``, ``k`` a product rule's coefficient and ``m`` a rescale multiplier.
"""

from __future__ import annotations

from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

__all__ = ["lstm_cell", "unrolled_lstm"]

FORWARD = "#222222"
BACKWARD = "#C0392B"
GATE_FILL = {"sigma": "#F6D8AE", "tanh": "#CDE3F5"}
CELL_FILL = "#F2F2F2"


def _canvas(width: float, height: float, inches_per_unit: float = 0.78):
    """A figure whose axes span ``[0, width] × [0, height]`` in data units, equal aspect, no frame."""
    fig = Figure(figsize=(width * inches_per_unit, height * inches_per_unit))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig, ax


def _box(ax, center, size, text, fill, fontsize=13, rounding=0.12):
    (x, y), (w, h) = center, size
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle=f"round,pad=0,rounding_size={rounding}",
                                facecolor=fill, edgecolor=FORWARD, linewidth=1.3, zorder=3))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, zorder=4)


def _node(ax, center, symbol, radius=0.24):
    """A point-wise operation: ⊙ (product) or + (sum)."""
    ax.add_patch(Circle(center, radius, facecolor="white", edgecolor=FORWARD, linewidth=1.3, zorder=3))
    ax.text(*center, symbol, ha="center", va="center", fontsize=15, zorder=4)


def _path(ax, points, color=FORWARD, dashed=False, width=1.4, head=True):
    """A polyline through ``points``, with an arrow head at the last one unless ``head`` is false."""
    style = dict(color=color, linewidth=width, zorder=2, linestyle=(0, (4, 2.5)) if dashed else "-")
    segments = list(zip(points[:-1], points[1:]))
    for start, end in segments[:-1] if head else segments:
        ax.plot(*zip(start, end), solid_capstyle="round", **style)
    if head:
        ax.add_patch(FancyArrowPatch(*segments[-1], arrowstyle="-|>", mutation_scale=13, shrinkA=0, shrinkB=0,
                                     **style))


def _label(ax, xy, text, color=FORWARD, fontsize=12, **kwargs):
    kwargs.setdefault("ha", "center")
    kwargs.setdefault("va", "center")
    return ax.text(*xy, text, color=color, fontsize=fontsize, zorder=5, **kwargs)


def lstm_cell(multipliers: bool = False) -> Figure:
    """One step of the LSTM: the four gates over ``[x_t; h_{t-1}]``, the products and the sum of
    eq. 4, and ``h_t = o_t ⊙ tanh(c_t)`` (eq. 6).

    Args:
        multipliers: also draw, dashed and red, the path of DeepLift's multipliers back through the
            step (chapter 5): ``M_{h_t}`` and ``M_{c_t}`` come in from the right, each ⊙ hands a
            factor its partner's coefficient ``k``, each σ/tanh its rescale multiplier ``m``, and
            ``M_{c_{t-1}}``, ``M_{h_{t-1}}`` and ``M_{x_t}`` leave the step.

    Returns:
        the figure, about 10 × 6 inches.
    """
    fig, ax = _canvas(13.0, 7.7)
    top, bus, gate_y = 5.6, 1.7, 3.2                 # the cell-state line, the input bus, the gates
    gates = {"f": 2.8, "i": 4.4, "g": 6.0, "o": 7.6}
    forget, product_ig, plus = (2.8, top), (6.0, 4.55), (6.0, top)
    squash, product_o = (9.3, 4.45), (9.3, gate_y)
    x_in = 1.85                                      # where x_t joins the bus

    ax.add_patch(FancyBboxPatch((1.3, 0.95), 9.0, 5.45, boxstyle="round,pad=0,rounding_size=0.35",
                                facecolor=CELL_FILL, edgecolor="#999999", linewidth=1.0, zorder=0))
    # forward, eq. 4: the cell-state line
    _path(ax, [(0.3, top), (forget[0] - 0.24, top)])
    _path(ax, [(forget[0] + 0.24, top), (plus[0] - 0.24, top)])
    _path(ax, [(plus[0] + 0.24, top), (12.0, top)])
    _label(ax, (0.35, top + 0.38), r"$c_{t-1}$", ha="left")
    _label(ax, (12.0, top + 0.38), r"$c_t$", ha="right")
    # forward, eq. 1-3 and 5: every gate reads [x_t; h_{t-1}]
    _path(ax, [(0.3, bus), (gates["o"], bus)], width=1.2, head=False)
    _path(ax, [(x_in, 0.1), (x_in, bus - 0.05)])
    _label(ax, (0.35, bus + 0.55), r"$h_{t-1}$", ha="left")
    _label(ax, (x_in - 0.2, 0.3), r"$x_t$", ha="right")
    for name, x in gates.items():
        _path(ax, [(x, bus), (x, gate_y - 0.45)], width=1.2)
        squashing = r"$\tanh$" if name == "g" else r"$\sigma$"
        _box(ax, (x, gate_y), (1.15, 0.9), f"{squashing}\n${name}_t$",
             GATE_FILL["tanh" if name == "g" else "sigma"], fontsize=12)
    _path(ax, [(gates["f"], gate_y + 0.45), (forget[0], top - 0.24)])
    _path(ax, [(gates["i"], gate_y + 0.45), (gates["i"], product_ig[1]), (product_ig[0] - 0.24, product_ig[1])])
    _path(ax, [(gates["g"], gate_y + 0.45), (product_ig[0], product_ig[1] - 0.24)])
    _path(ax, [(product_ig[0], product_ig[1] + 0.24), (plus[0], top - 0.24)])
    # forward, eq. 6
    _path(ax, [(squash[0], top), (squash[0], squash[1] + 0.3)])
    _path(ax, [(squash[0], squash[1] - 0.3), (product_o[0], product_o[1] + 0.24)])
    _path(ax, [(gates["o"] + 0.58, gate_y), (product_o[0] - 0.24, gate_y)])
    _path(ax, [(product_o[0] + 0.24, gate_y), (12.0, gate_y)])
    _label(ax, (12.0, gate_y + 0.38), r"$h_t$", ha="right")
    for center in (forget, product_ig, product_o):
        _node(ax, center, r"$\odot$")
    _node(ax, plus, "+")
    _box(ax, squash, (1.0, 0.6), r"$\tanh$", GATE_FILL["tanh"], fontsize=12, rounding=0.25)

    caption = (r"gates: $f_t$ forget (remember), $i_t$ input (save), $g_t$ candidate, $o_t$ output (focus)"
               "\n" r"$c_t = f_t \odot c_{t-1} + i_t \odot g_t$,   $h_t = o_t \odot \tanh(c_t)$")
    if not multipliers:
        _label(ax, (6.5, 6.6), caption, fontsize=11, va="bottom")
        return fig

    # backward: the multipliers, beside the forward edges and pointing the other way
    red = dict(color=BACKWARD, dashed=True, width=1.5)
    off = 0.22
    _path(ax, [(12.0, top - off), (plus[0] + 0.3, top - off)], **red)
    _path(ax, [(plus[0] - 0.3, top - off), (forget[0] + 0.3, top - off)], **red)
    _path(ax, [(forget[0] - 0.3, top - off), (0.3, top - off)], **red)
    _path(ax, [(12.0, gate_y - off), (product_o[0] + 0.3, gate_y - off)], **red)
    _path(ax, [(squash[0] + off, product_o[1] + 0.3), (squash[0] + off, squash[1] - 0.32)], **red)
    _path(ax, [(squash[0] + off, squash[1] + 0.32), (squash[0] + off, top - 0.3)], **red)
    _path(ax, [(product_o[0] - 0.3, gate_y - off), (gates["o"] + 0.6, gate_y - off)], **red)
    _path(ax, [(forget[0] + off, top - 0.3), (forget[0] + off, gate_y + 0.47)], **red)
    _path(ax, [(product_ig[0] - 0.3, product_ig[1] - off), (gates["i"] + off, product_ig[1] - off),
               (gates["i"] + off, gate_y + 0.47)], **red)
    _path(ax, [(product_ig[0] + off, product_ig[1] - 0.3), (gates["g"] + off, gate_y + 0.47)], **red)
    _path(ax, [(plus[0] + off, top - 0.3), (product_ig[0] + off, product_ig[1] + 0.3)], **red)
    for x in gates.values():
        _path(ax, [(x + off, gate_y - 0.47), (x + off, bus + off)], **red)
    _path(ax, [(gates["o"] + off, bus + off), (0.3, bus + off)], **red)
    _path(ax, [(x_in + off, bus - 0.05), (x_in + off, 0.1)], **red)
    _label(ax, (11.95, top - 0.6), r"$M_{c_t}$", BACKWARD, ha="right")
    _label(ax, (11.95, gate_y - 0.6), r"$M_{h_t}$", BACKWARD, ha="right")
    _label(ax, (0.35, top - 0.6), r"$M_{c_{t-1}}$", BACKWARD, ha="left")
    _label(ax, (0.35, bus - 0.4), r"$M_{h_{t-1}}$", BACKWARD, ha="left")
    _label(ax, (x_in + 0.45, 0.3), r"$M_{x_t}$", BACKWARD, ha="left")
    _label(ax, (squash[0] + 0.5, squash[1] + 0.55), r"$m_c$", BACKWARD, ha="left")
    _label(ax, (squash[0] + 0.45, product_o[1] + 0.55), r"$k(o_t)$", BACKWARD, ha="left")
    _label(ax, (8.45, gate_y - 0.6), r"$k(\tanh c_t)$", BACKWARD)
    _label(ax, (forget[0] + 0.85, top - 0.55), r"$k(f_t)$", BACKWARD)
    _label(ax, (forget[0] - 0.65, 4.45), r"$k(c_{t-1})$", BACKWARD)
    _label(ax, (product_ig[0] + 0.95, product_ig[1] + 0.05), r"$k(i_t)$", BACKWARD)
    _label(ax, (gates["i"] + 0.55, product_ig[1] + 0.3), r"$k(g_t)$", BACKWARD)
    _label(ax, (4.6, 1.23), r"at each gate: its rescale multiplier $m$, then $W^{\top}$", BACKWARD, fontsize=11)
    _label(ax, (6.5, 6.6), caption + "\n" + r"red, dashed: the multipliers flowing back;  $R[v] = M_v\,\Delta v$",
           fontsize=11, va="bottom")
    return fig


def unrolled_lstm(steps: int = 4, multipliers: bool = True) -> Figure:
    """The LSTM unrolled over ``steps`` time steps, with a linear head on ``h_T``.

    Args:
        steps: how many cells to draw (2 to 6); the last is step ``T``, the one before ``T − 1``.
        multipliers: also draw, dashed and red, the backward sweep of chapter 6: it starts at the
            head with ``M_{h_T} = w_out``, carries ``M_{h_t}`` and ``M_{c_t}`` from step ``t`` to
            step ``t − 1``, and hands each input its attribution ``φ_t = M_{x_t} ⊙ Δx_t``.

    Returns:
        the figure, about 12 inches wide.
    """
    if not 2 <= steps <= 6:
        raise ValueError(f"steps must be between 2 and 6 for a readable drawing, got {steps}")
    pitch, width = 3.0, 1.7
    right = 1.6 + pitch * steps
    fig, ax = _canvas(right + 3.4, 6.0)
    c_y, h_y, box_y = 3.8, 2.2, 3.0
    centers = [1.6 + pitch * k + width / 2 for k in range(steps)]
    names = [str(k + 1) for k in range(steps - 2)] + ["T-1", "T"] if steps > 2 else ["1", "T"]
    red = dict(color=BACKWARD, dashed=True, width=1.5)
    off = 0.22

    _label(ax, (0.1, c_y + 0.3), r"$c_0 = 0$", ha="left", fontsize=11)
    _label(ax, (0.1, h_y - 0.3), r"$h_0 = 0$", ha="left", fontsize=11)
    for k, (x, name) in enumerate(zip(centers, names)):
        _box(ax, (x, box_y), (width, 2.1), f"step ${name}$", CELL_FILL, fontsize=12)
        left = x - width / 2
        start = 0.2 if k == 0 else centers[k - 1] + width / 2
        _path(ax, [(start, c_y), (left, c_y)])
        _path(ax, [(start, h_y), (left, h_y)])
        _path(ax, [(x, 0.7), (x, box_y - 1.05)])
        _label(ax, (x - 0.15, 0.45), f"$x_{{{name}}}$", ha="right", fontsize=12)
        if k == 0:
            continue
        middle = (start + left) / 2
        _label(ax, (middle, c_y + 0.3), f"$c_{{{names[k - 1]}}}$", fontsize=11)
        _label(ax, (middle, h_y - 0.32), f"$h_{{{names[k - 1]}}}$", fontsize=11)
        if multipliers:
            _path(ax, [(left, c_y - off), (start + 0.05, c_y - off)], **red)
            _path(ax, [(left, h_y + off), (start + 0.05, h_y + off)], **red)
            _label(ax, (middle, c_y - 0.55), f"$M_{{c_{{{names[k - 1]}}}}}$", BACKWARD, fontsize=11)
            _label(ax, (middle, h_y + 0.55), f"$M_{{h_{{{names[k - 1]}}}}}$", BACKWARD, fontsize=11)
    head_x = right + 1.2
    last = centers[-1] + width / 2
    _path(ax, [(last, h_y), (head_x - 0.75, h_y)])
    _label(ax, ((last + head_x - 0.75) / 2, h_y - 0.32), r"$h_T$", fontsize=11)
    _box(ax, (head_x, h_y), (1.5, 0.8), r"$w_{\mathrm{out}}^{\top} h_T$" + "\n" + r"$+\ b_{\mathrm{out}}$",
         "#E4EFD9", fontsize=11)
    _path(ax, [(head_x, h_y + 0.4), (head_x, 4.3)])
    _label(ax, (head_x, 4.55), r"$f(\mathbf{x})$", fontsize=13)
    if not multipliers:
        return fig
    for x, name in zip(centers, names):
        _path(ax, [(x + off, box_y - 1.05), (x + off, 0.75)], **red)
        _label(ax, (x + 0.35, 0.45), f"$\\phi_{{{name}}}$", BACKWARD, ha="left", fontsize=12)
    _path(ax, [(head_x - 0.75, h_y + off), (last, h_y + off)], **red)
    _label(ax, ((last + head_x - 0.75) / 2, h_y + 0.55), r"$M_{h_T}$", BACKWARD, fontsize=11)
    _label(ax, ((right + 3.4) / 2, 5.3),
           r"forward, left to right: one pass over input and baseline, $[\mathbf{x};\ \bar{\mathbf{x}}]$"
           "\n" r"backward (red, dashed): $M_{h_T} = w_{\mathrm{out}}$, then step by step back to $t = 1$;"
           r" step $t$ hands its input $\phi_t = M_{x_t} \odot (x_t - \bar{x}_t)$", fontsize=11)
    return fig
