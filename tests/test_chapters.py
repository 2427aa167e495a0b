"""The chapters as teaching material (issue 15): one notation, exercises whose answers stay out of view
in JupyterLab and the book, an open-ended exercise and a reference list in every chapter, a time
estimate that the landing page repeats, and `make student` without a single solution."""

import re
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
sys.path.insert(0, str(BOOK))
import slides  # noqa: E402  (book/slides.py)
import student  # noqa: E402  (book/student.py)

CHAPTERS = slides.chapters()
REFERENCES = (BOOK / "references.md").read_text(encoding="utf8")
TIME = re.compile(r"\*\*Time:\*\* a lecture of about (\d+) minutes.*?about ([\d.]+) hours?\.")


def _cells(notebook: Path):
    return nbformat.read(notebook, as_version=4).cells


def _tags(cell) -> list[str]:
    return cell.metadata.get("tags", [])


def _math(text: str) -> list[str]:
    """The $...$ and $$...$$ segments of a markdown text."""
    return re.findall(r"\$\$.+?\$\$|\$[^$]+\$", text, flags=re.DOTALL)


def test_every_chapter_is_here():
    assert [nb.name[:3] for nb in CHAPTERS][:9] == ["01_", "02_", "03_", "04_", "05_", "06_", "06b", "07_", "08_"]


@pytest.mark.parametrize("notebook", CHAPTERS, ids=lambda nb: nb.stem)
def test_solutions_and_checks_stay_folded(notebook):
    cells = _cells(notebook)
    solutions = [c for c in cells if "solution" in _tags(c)]
    checks = [c for c in cells if "check" in _tags(c)]
    assert len(solutions) >= 2 and len(checks) == len(solutions), (len(solutions), len(checks))
    for cell in solutions:  # folded, code and output, in JupyterLab and in the book
        assert cell.metadata["jupyter"] == {"source_hidden": True, "outputs_hidden": True}
        assert "hide-cell" in _tags(cell)
        # running a cell unfolds its output in JupyterLab: a solution prints its verdict, not its answer
        printed = "".join("".join(output.get("text", "")) for output in cell.outputs).strip().splitlines()
        assert len(printed) == 1 and printed[0].startswith("Correct (within"), printed
    for cell in checks:     # the answer's check: folded code, visible verdict
        assert cell.metadata["jupyter"] == {"source_hidden": True}
        assert "hide-input" in _tags(cell) and "check_answer(" in cell.source
    for k, cell in enumerate(cells):
        if cell.cell_type == "code" and not {"check", "solution"} & set(_tags(cell)):
            assert not re.search(r"^expected\s*=", cell.source, flags=re.MULTILINE), cell.source
            assert "check_answer(" not in cell.source, "a visible cell checks an answer: " + cell.source
            if "answer = None" in cell.source:
                assert "check" in _tags(cells[k + 1]), "an answer cell without its check below"


@pytest.mark.parametrize("notebook", CHAPTERS, ids=lambda nb: nb.stem)
def test_open_ended_exercise_and_references(notebook):
    text = "\n".join(c.source for c in _cells(notebook) if c.cell_type == "markdown")
    assert re.search(r"\*\*Exercise \d+ — what if .+\(open-ended\)\*\*", text), "no open-ended exercise"
    assert "## References" in text
    body = text.split("## References")[0]  # the citations in the text, not the list at the end
    cited = set(re.findall(r"([A-Z][a-zA-Z-]+)(?: et al\.| & [A-Z][a-zA-Z-]+)(?:,\s+|\s+\()(\d{4})", body))
    cited |= set(re.findall(r"\(([A-Z][a-zA-Z-]+),\s+(\d{4})", body))
    assert cited, "no citation in the text"
    for name, year in cited:
        assert re.search(rf"{name}\b[^\n]*\n?[^\n]*\({year}\)", REFERENCES), f"{name} {year} is not on references.md"


@pytest.mark.parametrize("notebook", CHAPTERS, ids=lambda nb: nb.stem)
def test_one_notation(notebook):
    """A bar is the baseline, b a bias, c_t the cell state, g_t the candidate (book/notation.md)."""
    forbidden = {
        r"x\^\{?b\}?|[xhzc]\}?_\{?b\}?(?![a-z{])|_\{[a-z],\s*b\}|_\{b,|(?<![\\a-z])[ab]_0\b": "a baseline without a bar",
        r"(?<![\\a-z])C_\{?t|\\tilde\{?C": "the cell state or candidate as C (only where seed 1 is quoted)",
        r"\bs\^\{|\bs_[a-z]\b|\\bar\{?[hcz]\}?_\{?[a-z]+,t": "s for a slope, or a bar for a multiplier",
        r"\\Delta a\b|\\Delta b\b": "a product's factors as a, b",
    }
    for cell in _cells(notebook):
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.split("\n"):
            for segment in _math(line):
                for pattern, what in forbidden.items():
                    if re.search(pattern, segment) and not re.search(r"seed \d? ?writes|seed \d.s|the seed.s", line, re.I):
                        pytest.fail(f"{notebook.name}: {what}: {segment!r} in {line!r}")


def test_time_estimates_match_the_landing_page():
    intro = (BOOK / "intro.md").read_text(encoding="utf8")
    for notebook in CHAPTERS:
        first = _cells(notebook)[0].source
        minutes, hours = TIME.search(first).groups()
        row = next(line for line in intro.splitlines() if f"</notebooks/{notebook.stem}>" in line)
        assert row.rstrip(" |").endswith(f"{minutes} min / {hours} h"), (notebook.name, row)


def test_student_notebooks_have_no_solution(tmp_path):
    written = student.write_student_notebooks(tmp_path)
    assert [p.name for p in written] == [nb.name for nb in slides.chapters()]
    for original, copy in zip(slides.chapters(), written):
        cells = _cells(copy)
        solutions = [c.source for c in _cells(original) if "solution" in _tags(c)]
        assert not any("solution" in _tags(c) for c in cells)
        assert len(cells) == len(_cells(original)) - len(solutions)
        text = "\n".join(c.source for c in cells)
        for solution in solutions:
            assert solution not in text
        assert sum("check" in _tags(c) for c in cells) == sum("check" in _tags(c) for c in _cells(original))
