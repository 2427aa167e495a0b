"""Write the chapter notebooks without their solutions, to hand out: ``make student``.

Usage (``make student`` runs it with the project's Python)::

    python book/student.py          # -> book/_build/student/NN_*.ipynb

Every chapter notebook is copied with its outputs, minus the cells tagged ``solution``. The
exercises stay, each with its answer cell (``answer = None``) and the folded check under it (tag
``check``), so a student's notebook still checks an answer once it is filled in.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import nbformat

BOOK = Path(__file__).resolve().parent
sys.path.insert(0, str(BOOK))
import slides  # noqa: E402  (book/slides.py: the list of chapters)

STUDENT = BOOK / "_build" / "student"


def without_solutions(notebook):
    """A copy of ``notebook`` without the cells tagged ``solution``."""
    student = copy.deepcopy(notebook)
    student.cells = [cell for cell in student.cells if "solution" not in cell.metadata.get("tags", [])]
    return student


def write_student_notebooks(output: Path = STUDENT) -> list[Path]:
    """Write every chapter without its solutions into ``output``; return the notebooks' paths."""
    output.mkdir(parents=True, exist_ok=True)
    written = []
    for chapter in slides.chapters():
        target = output / chapter.name
        nbformat.write(without_solutions(nbformat.read(chapter, as_version=4)), target)
        written.append(target)
    return written


def main() -> None:
    written = write_student_notebooks()
    for path in written:
        print(f"student notebook: {path.relative_to(BOOK.parent)}")
    print(f"\n{len(written)} notebooks without solutions in {STUDENT.relative_to(BOOK.parent)}")


if __name__ == "__main__":
    main()
