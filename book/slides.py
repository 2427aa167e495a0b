"""Turn chapter notebooks into reveal.js slide decks that work offline.

Usage (``make slides CHAPTER=06`` runs the first form with the project's Python)::

    python book/slides.py 06                  # notebooks/06_*.ipynb
    python book/slides.py 6 02_lstm_equations # several; a number or a notebook name
    python book/slides.py                     # every chapter

Each deck is written to ``book/_build/slides/NAME.slides.html``. It uses nbconvert's
slides exporter: the notebooks' cell metadata ``slideshow.slide_type`` decides what is a
slide, a sub-slide (arrow down), a fragment or skipped (setup cells). Open the deck in a
browser and press ``s`` for the speaker view, ``Esc`` for the overview.

Everything the deck loads sits next to it and is served from disk: reveal.js,
require.js and the ipywidgets manager (pinned npm packages, book/vendor.py) and MathJax
(from the django-static-mathjax wheel). The template in book/_slides/lstm_reveal removes
nbconvert's CDN-only extras (jQuery, Mermaid) and switches it to MathJax 3. After
writing a deck this script scans it and fails if anything would still come from the
network. To publish, copy the whole ``book/_build/slides`` folder.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

BOOK = Path(__file__).resolve().parent
ROOT = BOOK.parent
sys.path.insert(0, str(BOOK))
import offline  # noqa: E402  (book/offline.py)
import vendor  # noqa: E402  (book/vendor.py)

NOTEBOOKS = ROOT / "notebooks"
SLIDES = BOOK / "_build" / "slides"
TEMPLATES = BOOK / "_slides"
TEMPLATE = "lstm_reveal"

# Paths the deck uses, relative to the deck itself (so the folder can move anywhere).
REVEAL = "reveal.js"
MATHJAX = "mathjax/tex-mml-chtml.js"
WIDGETS = "widgets"


class SlidesError(RuntimeError):
    """A chapter could not be found, converted or checked."""


def chapters() -> list[Path]:
    """The chapter notebooks, in order (notebooks/NN_*.ipynb)."""
    return sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def find_chapter(name: str) -> Path:
    """``"06"``, ``"6"``, ``"06_lstm_attribution"`` or a path -> the notebook."""
    path = Path(name)
    if path.suffix == ".ipynb" and path.is_file():
        return path.resolve()
    stem = path.name.removesuffix(".ipynb")
    if stem.isdigit():
        stem = f"{int(stem):02d}_"
    matches = [nb for nb in chapters() if nb.stem == stem or nb.stem.startswith(stem)]
    if len(matches) != 1:
        known = ", ".join(nb.stem for nb in chapters()) or "none yet"
        raise SlidesError(
            f"chapter {name!r} matches {len(matches)} notebooks in {NOTEBOOKS} (chapters: {known})"
        )
    return matches[0]


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
        "--SlidesExporter.reveal_scroll=True",
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
    command = nbconvert_command(notebooks, output)
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
