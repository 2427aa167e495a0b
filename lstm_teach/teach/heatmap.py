"""Word-level heatmaps: a sentence with each word coloured by its relevance (chapter 9).

Red for a word that pushes the score up, blue for one that pushes it down, white for none; the
strength of the colour is ``|R_t| / vmax``, clipped at 1. ``vmax``: one number for every row
(comparable colours across methods), or None to scale each row by its own largest ``|R_t|``
(a row of zeros stays white).

Two renderings of the same colours: HTML with inline styles only (no stylesheet, script, font or
image to fetch, so it shows in the offline book and in any notebook viewer), and a matplotlib
figure. The HTML is returned as :class:`HTML`, a ``str`` that notebooks display rendered.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

import torch

__all__ = ["HTML", "heatmap_figure", "heatmap_html", "heatmap_table", "relevance_color"]


class HTML(str):
    """An HTML string that Jupyter displays rendered (``_repr_html_``)."""

    def _repr_html_(self) -> str:
        return str(self)


def relevance_color(value: float, vmax: float) -> tuple[int, int, int]:
    """The ``(r, g, b)`` colour (0–255) of relevance ``value`` on the scale ``vmax > 0``: white at 0,
    red towards ``+vmax``, blue towards ``−vmax``."""
    strength = min(abs(value) / vmax, 1.0)
    fade = round(255 * (1 - strength))
    return (255, fade, fade) if value >= 0 else (fade, fade, 255)


def _dark(value: float, vmax: float) -> bool:
    """Whether the colour of ``value`` is dark enough to need white text."""
    return min(abs(value) / vmax, 1.0) > 0.6


def _row(tokens: Sequence[str], relevance) -> list[float]:
    """The relevances of the tokens, as floats (a longer, padded row is cut to the tokens)."""
    values = torch.as_tensor(relevance, dtype=torch.float64).reshape(-1).tolist()
    if len(values) < len(tokens):
        raise ValueError(f"relevance must hold at least one value per token ({len(tokens)}), got {len(values)}")
    return values[:len(tokens)]


def _scale(values: list[float], vmax: float | None) -> float:
    if vmax is not None:
        if not vmax > 0:
            raise ValueError(f"vmax must be positive or None, got {vmax!r}")
        return float(vmax)
    largest = max((abs(v) for v in values), default=0.0)
    return largest if largest > 0 else 1.0


def _spans(tokens: Sequence[str], values: list[float], vmax: float) -> str:
    spans = []
    for token, value in zip(tokens, values):
        red, green, blue = relevance_color(value, vmax)
        text = "#ffffff" if _dark(value, vmax) else "#000000"
        spans.append(f'<span title="{value:+.4g}" style="background-color: rgb({red}, {green}, {blue}); '
                     f'color: {text}; padding: 0.1em 0.25em; margin: 0 0.1em; border-radius: 0.2em">'
                     f'{html.escape(token)}</span>')
    return " ".join(spans)


def heatmap_html(tokens: Sequence[str], relevance, vmax: float | None = None) -> HTML:
    """One sentence as coloured words: ``tokens`` (L strings) and their ``relevance`` (L values, or
    a padded row of at least L); hovering a word shows its value."""
    values = _row(tokens, relevance)
    return HTML(f'<div style="line-height: 2; font-family: monospace">'
                f'{_spans(tokens, values, _scale(values, vmax))}</div>')


def heatmap_table(tokens: Sequence[str], relevances: Mapping[str, object], vmax: float | None = None,
                  caption: str | None = None) -> HTML:
    """One sentence under several methods: a table with a row per method (name, coloured words)."""
    rows = []
    for name, relevance in relevances.items():
        values = _row(tokens, relevance)
        rows.append(f'<tr><td style="text-align: right; padding-right: 0.6em; white-space: nowrap">'
                    f'{html.escape(name)}</td><td style="text-align: left; font-family: monospace; line-height: 2">'
                    f'{_spans(tokens, values, _scale(values, vmax))}</td></tr>')
    title = f'<caption style="caption-side: top; text-align: left">{html.escape(caption)}</caption>' if caption else ""
    return HTML(f'<table style="border-collapse: collapse">{title}{"".join(rows)}</table>')


def heatmap_figure(tokens: Sequence[str], relevances: Mapping[str, object], vmax: float | None = None, ax=None):
    """The same as :func:`heatmap_table`, as a matplotlib figure: a grid with a row per method and
    a cell per word, in the colours of the HTML. Draws into ``ax`` if given; returns the figure."""
    import matplotlib.pyplot as plt
    import numpy as np

    names = list(relevances)
    if ax is None:
        _, ax = plt.subplots(figsize=(max(4.0, 0.85 * len(tokens)), 0.45 * len(names) + 0.5))
    image = np.ones((len(names), len(tokens), 3))
    for i, name in enumerate(names):
        values = _row(tokens, relevances[name])
        scale = _scale(values, vmax)
        for t, (token, value) in enumerate(zip(tokens, values)):
            image[i, t] = np.array(relevance_color(value, scale)) / 255
            ax.text(t, i, token, ha="center", va="center", color="white" if _dark(value, scale) else "black", fontsize=9)
    ax.imshow(image, aspect="auto", interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks(range(len(names)), names)
    ax.set_xticks(np.arange(len(tokens) + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(len(names) + 1) - 0.5, minor=True)
    ax.grid(which="minor", color="white", linewidth=2)
    ax.tick_params(which="both", length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    return ax.figure
