"""Turn chapter notebooks into reveal.js slide decks that work offline.

Usage (``make slides CHAPTER=06`` runs the first form with the project's Python)::

    python book/slides.py 06                  # notebooks/06_*.ipynb
    python book/slides.py 6 02_lstm_equations # several; a number or a notebook name
    python book/slides.py                     # every chapter

Each deck is written to ``book/_build/slides/NAME.slides.html``. It uses nbconvert's
slides exporter: the notebooks' cell metadata ``slideshow.slide_type`` decides what is a
slide, a sub-slide (arrow down), a fragment or skipped (setup cells). Open the deck in a
browser and press ``s`` for the speaker view, ``Esc`` for the overview.

Before converting, :func:`lecture_notebook` turns each chapter into its lecture form (a copy in
``book/_build/slides/_lecture``; the notebook itself is not touched): the prose of every markdown
cell goes to the speaker notes, and headings, equations, lists, tables and exercise statements
stay on the slide; plotting code is hidden (a code cell whose output is a figure or a widget shows
only its output); long code folds behind *Show the code*; the exercises' checks are left out and
their solutions fold behind *Show the solution*. Every slide fits a 1280 × 720 screen
(tests/test_browser_slides.py measures each one).

Everything the deck loads sits next to it and is served from disk: reveal.js,
require.js and the ipywidgets manager (pinned npm packages, book/vendor.py) and MathJax
(from the django-static-mathjax wheel). The template in book/_slides/lstm_reveal removes
nbconvert's CDN-only extras (jQuery, Mermaid) and switches it to MathJax 3. After
writing a deck this script scans it and fails if anything would still come from the
network. To publish, copy the whole ``book/_build/slides`` folder.
"""

from __future__ import annotations

import argparse
import base64
import copy
import re
import subprocess
import sys
import time
from pathlib import Path

import nbformat

BOOK = Path(__file__).resolve().parent
ROOT = BOOK.parent
sys.path.insert(0, str(BOOK))
import offline  # noqa: E402  (book/offline.py)
import vendor  # noqa: E402  (book/vendor.py)

NOTEBOOKS = ROOT / "notebooks"
SLIDES = BOOK / "_build" / "slides"
LECTURE = "_lecture"  # the lecture copies of the notebooks, inside the slides folder
TEMPLATES = BOOK / "_slides"
TEMPLATE = "lstm_reveal"

# Paths the deck uses, relative to the deck itself (so the folder can move anywhere).
REVEAL = "reveal.js"
MATHJAX = "mathjax/tex-mml-chtml.js"
WIDGETS = "widgets"


class SlidesError(RuntimeError):
    """A chapter could not be found, converted or checked."""


CHAPTER = re.compile(r"^\d\d[a-z]?_")  # 06_lstm_attribution, 06b_methods_compared, ...


def chapters() -> list[Path]:
    """The chapter notebooks, in order (notebooks/NN_*.ipynb and NNx_*.ipynb, e.g. 06b_*)."""
    return sorted(nb for nb in NOTEBOOKS.glob("[0-9][0-9]*.ipynb") if CHAPTER.match(nb.name))


def find_chapter(name: str) -> Path:
    """``"06"``, ``"6"``, ``"06_lstm_attribution"`` or a path -> the notebook."""
    path = Path(name)
    if path.suffix == ".ipynb" and path.is_file():
        return path.resolve()
    stem = path.name.removesuffix(".ipynb")
    if stem.isdigit():
        stem = f"{int(stem):02d}_"
    elif re.fullmatch(r"\d[a-z]", stem):  # "6b" -> "06b_"
        stem = f"0{stem}_"
    elif re.fullmatch(r"\d\d[a-z]", stem):
        stem = f"{stem}_"
    matches = [nb for nb in chapters() if nb.stem == stem or nb.stem.startswith(stem)]
    if len(matches) != 1:
        known = ", ".join(nb.stem for nb in chapters()) or "none yet"
        raise SlidesError(
            f"chapter {name!r} matches {len(matches)} notebooks in {NOTEBOOKS} (chapters: {known})"
        )
    return matches[0]


# ------------------------------------------------------------------ the lecture form of a chapter

# Markdown blocks that stay on a slide: headings, display equations, lists, tables, code fences,
# and the statements of exercises and the time estimate. Every other paragraph is speaker notes.
_ON_SLIDE = re.compile(r"^(#|\$\$|[*-] |\d+\. |\||```|\*\*(Exercise|Time:))")
_BOLD_LEAD = re.compile(r"^(\*\*[^*\n]+\*\*)\s*(.*)$", re.DOTALL)  # "**Why ...** The rest ..."
_PAIRED = {"$$": "$$", "```": "```", "<details": "</details>"}
LONG_CODE = 12  # lines: longer code cells fold behind "Show the code" on a slide
SLIDE_HEIGHT = 640  # px of estimated content that a slide may take before the next cell starts a new one
SPARSE = 200  # px: a slide with less than this on it takes the next sub-slide in, if both fit


def markdown_blocks(source: str) -> list[str]:
    """Split markdown at blank lines, keeping display math, code fences and <details> whole."""
    blocks, current, closing = [], [], None
    for line in source.split("\n"):
        stripped = line.strip()
        if closing is None and not stripped:
            if current:
                blocks.append("\n".join(current))
                current = []
            continue
        current.append(line)
        if closing is not None:
            closing = None if closing in stripped else closing
            continue
        opener = next((o for o in _PAIRED if stripped.startswith(o)), None)
        if opener and (stripped == opener or not stripped.endswith(_PAIRED[opener])):
            closing = _PAIRED[opener]
    if current:
        blocks.append("\n".join(current))
    return blocks


def _split_prose(source: str) -> tuple[list[str], list[str]]:
    """(blocks for the slide, blocks for the speaker notes) of one markdown cell."""
    slide, notes = [], []
    for block in markdown_blocks(source):
        lead = _BOLD_LEAD.match(block)
        if _ON_SLIDE.match(block.lstrip()):
            slide.append(block)
        elif lead and not block.startswith("<"):
            slide.append(lead.group(1))
            if lead.group(2).strip():
                notes.append(lead.group(2))
        else:
            notes.append(block)
    return slide, notes


def _slide_type(cell) -> str:
    return cell.metadata.get("slideshow", {}).get("slide_type", "-")


def _tags(cell) -> list[str]:
    return list(cell.metadata.get("tags", []))


def _shows_a_picture(cell) -> bool:
    return any(
        "image/png" in output.get("data", {}) or "application/vnd.jupyter.widget-view+json" in output.get("data", {})
        for output in cell.get("outputs", [])
    )


def lecture_cells(cell) -> list:
    """The cells that stand for ``cell`` in the lecture form (see the module docstring)."""
    cell = copy.deepcopy(cell)
    tags = _tags(cell)
    if cell.cell_type == "code":
        if "check" in tags:
            return []
        if _shows_a_picture(cell) or (cell.source.count("\n") >= LONG_CODE and "solution" not in tags):
            cell.metadata["tags"] = tags + ["remove-input" if _shows_a_picture(cell) else "hide-input"]
        return [cell]
    if cell.cell_type != "markdown" or _slide_type(cell) in ("skip", "notes"):
        return [cell]
    slide, notes = _split_prose(cell.source)
    if not slide and _slide_type(cell) in ("slide", "subslide") and notes:
        slide = [notes.pop(0)]  # a slide must show something
    cells = []
    if slide:
        cell.source = "\n\n".join(slide)
        cells.append(cell)
    if notes:
        cells.append(nbformat.v4.new_markdown_cell("\n\n".join(notes),
                                                   metadata={"slideshow": {"slide_type": "notes"}}))
    return cells


def _png_size(data: str) -> tuple[int, int]:
    """(width, height) of a base64 PNG, read from its header."""
    header = base64.b64decode(data[:44])
    return int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")


def _text_lines(text: str, per_line: int) -> int:
    return sum(max(1, -(-len(line) // per_line)) for line in text.split("\n"))


def estimated_height(cell) -> int:
    """A rough height in px of ``cell`` on a 1280 × 720 slide, for :func:`paginate` (the browser test
    measures the real one)."""
    tags = _tags(cell)
    if _slide_type(cell) in ("skip", "notes"):
        return 0
    if cell.cell_type == "markdown":
        height = 0
        for block in markdown_blocks(cell.source):
            if block.startswith("#"):
                height += 60
            elif block.startswith("$$"):
                height += 50 * (1 + block.count("\\\\") + block.count("\n") // 2)
            elif block.startswith("|"):
                height += 36 * block.count("\n") + 36
            else:
                height += 34 * _text_lines(block, 100) + 12
        return height
    if "solution" in tags:
        return 40
    height = 0 if "remove-input" in tags else 40 if "hide-input" in tags else 20 * (cell.source.count("\n") + 1) + 24
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        if "image/png" in data:
            width, tall = _png_size(data["image/png"])
            height += min(520, tall * min(1.0, 1200 / width)) + 10
            if "application/vnd.jupyter.widget-view+json" in data:
                height += 160  # an explorer's controls and readout, around its figure
        elif output.get("output_type") == "stream" or "text/plain" in data:
            text = output.get("text") or data.get("text/plain", "")
            height += 21 * _text_lines("".join(text).rstrip("\n"), 125) + 16
    return int(height)


def paginate(cells: list) -> list:
    """Fit the slides to the screen by their estimated height: a cell that would push its slide past
    :data:`SLIDE_HEIGHT` starts a new sub-slide, and a sub-slide that follows a slide with little
    on it (a heading whose prose went to the notes) joins that slide when both fit."""
    used = 0
    for cell in cells:
        height = estimated_height(cell)
        kind = _slide_type(cell)
        if kind == "subslide" and used < SPARSE and used + height <= SLIDE_HEIGHT:
            cell.metadata["slideshow"]["slide_type"] = "-"
            used += height
        elif kind in ("slide", "subslide"):
            used = height
        elif height and used and used + height > SLIDE_HEIGHT:
            cell.metadata.setdefault("slideshow", {})["slide_type"] = "subslide"
            used = height
        else:
            used += height
    return cells


def lecture_notebook(notebook):
    """A copy of ``notebook`` in its lecture form."""
    lecture = copy.deepcopy(notebook)
    lecture.cells = paginate([new for cell in notebook.cells for new in lecture_cells(cell)])
    return lecture


def write_lecture_copies(notebooks: list[Path], folder: Path) -> list[Path]:
    """Write the lecture form of each notebook into ``folder``, under the notebook's own name."""
    folder.mkdir(parents=True, exist_ok=True)
    copies = []
    for notebook in notebooks:
        lecture = lecture_notebook(nbformat.read(notebook, as_version=4))
        target = folder / notebook.name
        nbformat.write(lecture, target)
        copies.append(target)
    return copies


def stage_assets(output: Path = SLIDES) -> None:
    """Put reveal.js, MathJax, require.js and the widget manager next to the decks."""
    vendor.stage_reveal(output / REVEAL)
    vendor.stage_mathjax(output / Path(MATHJAX).parent)
    vendor.stage_widgets(output / WIDGETS)


def nbconvert_command(notebooks: list[Path], output: Path) -> list[str]:
    """The nbconvert call that writes the decks (printed, so it can be run by hand)."""
    return [
        sys.executable, "-m", "nbconvert", "--to", "slides",
        f"--TemplateExporter.extra_template_basedirs={TEMPLATES}",
        f"--template={TEMPLATE}",
        f"--SlidesExporter.reveal_url_prefix={REVEAL}",
        "--SlidesExporter.reveal_width=1280",
        "--SlidesExporter.reveal_height=720",
        # nbconvert's default theme ("simple") loads Google fonts; "white" ships its own.
        "--SlidesExporter.reveal_theme=white",
        f"--SlidesExporter.mathjax_url={MATHJAX}",
        f"--SlidesExporter.require_js_url={WIDGETS}/require.js",
        f"--SlidesExporter.widget_renderer_url={WIDGETS}/embed-amd.js",
        # Jupyter Book's cell tags mean the same in the slides.
        "--TagRemovePreprocessor.enabled=True",
        "--TagRemovePreprocessor.remove_cell_tags=remove-cell",
        "--TagRemovePreprocessor.remove_input_tags=remove-input",
        "--TagRemovePreprocessor.remove_all_outputs_tags=remove-output",
        f"--output-dir={output}",
        *(str(notebook) for notebook in notebooks),
    ]


_LOCAL_SHEET = re.compile(r"<link\b[^>]*?\bhref\s*=\s*[\"']([^\"':]+\.css)[\"']", re.IGNORECASE)
_CSS_IMPORT = re.compile(r"@import\s+(?:url\()?\s*[\"']?([^\"')\s:]+\.css)", re.IGNORECASE)


def check_deck(deck: Path) -> None:
    """Fail if the deck, or a local stylesheet it links (and what those import), goes remote."""
    text = deck.read_text(encoding="utf8", errors="replace")
    problems = offline.page_problems(text)
    sheets = [deck.parent / href for href in _LOCAL_SHEET.findall(text)]
    seen = set()
    while sheets:
        sheet = sheets.pop().resolve()
        if sheet in seen:
            continue
        seen.add(sheet)
        if not sheet.is_file():
            problems.append(f"links the missing stylesheet {sheet}")
            continue
        css = sheet.read_text(encoding="utf8", errors="replace")
        problems += [f"{sheet.relative_to(deck.parent.resolve())}: {p}" for p in offline.css_problems(css)]
        sheets += [sheet.parent / href for href in _CSS_IMPORT.findall(css)]
    if problems:
        listing = "\n".join(f"  - {p}" for p in sorted(set(problems)))
        raise SlidesError(f"{deck} would load remote resources:\n{listing}")


def build_slides(names: list[str] | None = None, output: Path = SLIDES) -> list[Path]:
    """Write one deck per chapter into ``output``; return the decks' paths."""
    notebooks = [find_chapter(n) for n in names] if names else chapters()
    if not notebooks:
        raise SlidesError(f"no chapter notebooks in {NOTEBOOKS}")
    stage_assets(output)
    for notebook in notebooks:  # so that a stale deck cannot pass for a new one
        (output / f"{notebook.stem}.slides.html").unlink(missing_ok=True)
    command = nbconvert_command(write_lecture_copies(notebooks, output / LECTURE), output)
    print("running:", " ".join(command), flush=True)
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        raise SlidesError(f"nbconvert failed:\n{result.stderr}")
    decks = []
    for notebook in notebooks:
        deck = output / f"{notebook.stem}.slides.html"
        if not deck.is_file():
            raise SlidesError(f"nbconvert wrote no {deck}")
        check_deck(deck)
        decks.append(deck)
    return decks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("chapters", nargs="*", help="chapter numbers or notebook names (default: all)")
    args = parser.parse_args()
    start = time.perf_counter()
    try:
        decks = build_slides(args.chapters)
    except (SlidesError, vendor.VendorError) as error:
        sys.exit(f"\nbook/slides.py: {error}")
    for deck in decks:
        print(f"deck: {deck.relative_to(ROOT)}  (no remote resources)")
    print(f"\n{len(decks)} deck(s) in {time.perf_counter() - start:.1f} s; open {decks[0].as_uri()}")


if __name__ == "__main__":
    main()
