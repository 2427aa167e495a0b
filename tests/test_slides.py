"""The lecture form of a chapter (book/slides.py), without a browser: prose to the speaker notes, the
slide keeps headings, equations, lists and exercise statements; plotting code hidden, checks left
out, and no slide estimated taller than the screen. tests/test_browser_book.py measures the decks."""

import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book"))
import slides  # noqa: E402  (book/slides.py)


def _slide_type(cell) -> str:
    return cell.metadata.get("slideshow", {}).get("slide_type", "-")


def test_prose_goes_to_the_notes():
    cell = nbformat.v4.new_markdown_cell(
        "## 2. A bias\n\nWith a bias the seed generalises eq. 7 to\n\n$$R = 1 \\tag{10}$$\n\n"
        "**Why it matters.** The inputs no longer share the output.\n\n* one point\n* another\n\n"
        "<details>\n<summary>Hint</summary>\n\nA hidden paragraph.\n</details>",
        metadata={"slideshow": {"slide_type": "slide"}})
    on_slide, notes = slides.lecture_cells(cell)
    assert on_slide.source == "## 2. A bias\n\n$$R = 1 \\tag{10}$$\n\n**Why it matters.**\n\n* one point\n* another"
    assert _slide_type(notes) == "notes"
    assert notes.source.startswith("With a bias the seed generalises eq. 7 to\n\nThe inputs no longer share")
    assert "<details>" in notes.source and "A hidden paragraph." in notes.source


def test_a_slide_keeps_something_to_show():
    cell = nbformat.v4.new_markdown_cell("Only prose here.\n\nAnd more prose.",
                                         metadata={"slideshow": {"slide_type": "subslide"}})
    on_slide, notes = slides.lecture_cells(cell)
    assert on_slide.source == "Only prose here." and notes.source == "And more prose."


def test_code_cells_on_slides():
    plot = nbformat.v4.new_code_cell("plt.plot(x)\nplt.show()", outputs=[nbformat.v4.new_output(
        "display_data", data={"image/png": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg=="})])
    check = nbformat.v4.new_code_cell("check_answer(answer, expected)", metadata={"tags": ["hide-input", "check"]})
    long = nbformat.v4.new_code_cell("\n".join(f"a{k} = {k}" for k in range(slides.LONG_CODE + 1)))
    assert slides.lecture_cells(plot)[0].metadata["tags"] == ["remove-input"]
    assert slides.lecture_cells(check) == []
    assert slides.lecture_cells(long)[0].metadata["tags"] == ["hide-input"]


@pytest.mark.parametrize("notebook", slides.chapters(), ids=lambda nb: nb.stem)
def test_every_lecture_slide_is_estimated_to_fit(notebook):
    lecture = slides.lecture_notebook(nbformat.read(notebook, as_version=4))
    pages = [[]]
    for cell in lecture.cells:
        if _slide_type(cell) in ("slide", "subslide"):
            pages.append([])
        if slides.estimated_height(cell):
            pages[-1].append(slides.estimated_height(cell))
    for page in pages:  # a single cell taller than the budget cannot be split: the browser test measures it
        assert sum(page) <= slides.SLIDE_HEIGHT or len(page) == 1, page
    assert sum(_slide_type(c) == "notes" for c in lecture.cells) >= 5
    assert not any("check" in c.metadata.get("tags", []) for c in lecture.cells)
