"""The diagrams of chapters 2, 5 and 6 draw, keep every label on the canvas, and no two labels overlap."""

import itertools

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.text import Text

from lstm_teach.teach.diagrams import lstm_cell, unrolled_lstm

FIGURES = {
    "cell": lambda: lstm_cell(),
    "cell with multipliers": lambda: lstm_cell(multipliers=True),
    **{f"unrolled, {n} steps": (lambda n=n: unrolled_lstm(n)) for n in range(2, 7)},
    "unrolled, forward only": lambda: unrolled_lstm(3, multipliers=False),
}


def _label_boxes(figure):
    renderer = FigureCanvasAgg(figure).get_renderer()
    figure.draw(renderer)
    texts = [t for t in figure.findobj(Text) if t.get_visible() and t.get_text().strip()]
    return [(t.get_text(), t.get_window_extent(renderer)) for t in texts], figure.bbox


@pytest.mark.parametrize("name", FIGURES)
def test_labels_stay_on_the_canvas_and_apart(name):
    boxes, canvas = _label_boxes(FIGURES[name]())
    assert len(boxes) >= 10, f"{name}: only {len(boxes)} labels"
    for text, box in boxes:
        assert canvas.x0 <= box.x0 and box.x1 <= canvas.x1 and canvas.y0 <= box.y0 and box.y1 <= canvas.y1, (
            f"{name}: {text!r} leaves the canvas")
    for (a, box_a), (b, box_b) in itertools.combinations(boxes, 2):
        assert not box_a.overlaps(box_b), f"{name}: labels {a!r} and {b!r} overlap"


def test_multipliers_add_the_backward_labels():
    forward = {text for text, _ in _label_boxes(lstm_cell())[0]}
    backward = {text for text, _ in _label_boxes(lstm_cell(multipliers=True))[0]}
    assert {r"$M_{h_t}$", r"$M_{c_t}$", r"$M_{c_{t-1}}$", r"$M_{h_{t-1}}$", r"$M_{x_t}$"} <= backward - forward
    swept = {text for text, _ in _label_boxes(unrolled_lstm(4))[0]}
    assert {r"$M_{h_T}$", r"$\phi_{1}$", r"$\phi_{T}$", r"$M_{c_{T-1}}$"} <= swept


def test_unrolled_refuses_an_unreadable_number_of_steps():
    with pytest.raises(ValueError, match="between 2 and 6"):
        unrolled_lstm(7)
