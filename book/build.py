"""Build the book into book/_build/html, offline, failing on any warning.

Run from anywhere with the project's Python (``make book`` does
``.venv/bin/python book/build.py``). Steps:

1. check that every entry of book/_toc.yml has a source file;
2. copy MathJax (shipped by the django-static-mathjax wheel) next to the build, so
   math is typeset without a CDN;
3. run Jupyter Book on the repository root with warnings as errors (``-W
   --keep-going``: all warnings are listed, then the build fails);
4. scan the HTML and CSS for anything that would load from the network.

Exit status: 0 on success, non-zero on any failure.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

BOOK = Path(__file__).resolve().parent
ROOT = BOOK.parent
CONFIG = BOOK / "_config.yml"
TOC = BOOK / "_toc.yml"
BUILD = BOOK / "_build"
HTML = BUILD / "html"
VENDOR = BUILD / "_vendor"  # listed in html_static_path of _config.yml

# Suffixes a toc entry may resolve to (myst-nb reads .md and .ipynb).
SOURCE_SUFFIXES = (".md", ".ipynb", ".rst")

# What MathJax needs at run time, relative to its es5/ folder: the combined
# TeX+MathML/CHTML component, its lazily loaded TeX extensions, the CHTML fonts, and
# the menu / accessibility pieces the right-click menu may load.
MATHJAX_PARTS = ("tex-mml-chtml.js", "input", "output/chtml", "ui", "a11y", "sre")


def fail(message: str, status: int = 1) -> None:
    print(f"\nbook/build.py: {message}", file=sys.stderr)
    sys.exit(status)


def toc_files(node) -> list[str]:
    """Every ``root`` / ``file`` value in the toc, in order."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("root", "file") and isinstance(value, str):
                found.append(value)
            else:
                found.extend(toc_files(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(toc_files(item))
    return found


def check_toc() -> None:
    entries = toc_files(yaml.safe_load(TOC.read_text(encoding="utf8")))
    if not entries:
        fail(f"{TOC.relative_to(ROOT)} lists no pages")
    missing = []
    for entry in entries:
        base = ROOT / entry
        candidates = [base] if base.suffix in SOURCE_SUFFIXES else [
            base.with_name(base.name + s) for s in SOURCE_SUFFIXES
        ]
        if not any(c.is_file() for c in candidates):
            missing.append(entry)
    if missing:
        lines = "\n".join(f"  - {m}  (looked for {'/'.join(SOURCE_SUFFIXES)})" for m in missing)
        fail(
            f"{TOC.relative_to(ROOT)} lists pages that do not exist "
            f"(paths are relative to the repository root):\n{lines}\n"
            "Add the file or remove the entry.",
            status=2,
        )
    print(f"toc: {len(entries)} pages, all present")


def stage_mathjax() -> None:
    try:
        import mathjax  # the django-static-mathjax wheel
    except ImportError:
        fail("MathJax not found: install django-static-mathjax (see pyproject.toml)")
    es5 = Path(mathjax.__file__).resolve().parent / "static" / "mathjax" / "es5"
    if not (es5 / "tex-mml-chtml.js").is_file():
        fail(f"MathJax files not found under {es5}")

    config = yaml.safe_load(CONFIG.read_text(encoding="utf8"))
    wanted = config["sphinx"]["config"]["mathjax_path"]

    target = VENDOR / "mathjax"
    if target.exists():
        shutil.rmtree(target)
    for part in MATHJAX_PARTS:
        src, dst = es5 / part, target / part
        if src.is_dir():
            shutil.copytree(src, dst)
        else:
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
    licence = es5.parent / "LICENSE"
    if licence.is_file():
        shutil.copy2(licence, target / "LICENSE")
    if not (VENDOR / wanted).is_file():
        fail(f"mathjax_path {wanted!r} in _config.yml is not among the copied MathJax files")
    print(f"mathjax: copied from {es5} to {target.relative_to(ROOT)}")


def run_jupyter_book() -> None:
    # Start from an empty html folder so pages or assets dropped from the book do not
    # linger from an earlier build.
    if HTML.exists():
        shutil.rmtree(HTML)
    command = [
        sys.executable, "-c", "from jupyter_book.cli.main import main; main()",
        "build", ".",
        "--config", str(CONFIG.relative_to(ROOT)),
        "--toc", str(TOC.relative_to(ROOT)),
        "--path-output", str(BOOK.relative_to(ROOT)),
        "--warningiserror", "--keep-going",
        # Re-read every page: an incremental build would not repeat the warnings of
        # unchanged pages, so -W could pass on a stale error.
        "--all",
    ]
    print("running:", " ".join(command[:2] + ["'...main()'"] + command[3:]), flush=True)
    status = subprocess.call(command, cwd=ROOT)
    if status != 0:
        fail(f"jupyter-book failed (exit status {status}); the warnings above say why", status)


# A tag attribute that makes the browser fetch something (not plain <a href> links).
_FETCH_ATTR = re.compile(
    r"<(script|img|iframe|source|audio|video|embed|track|input)\b[^>]*?\bsrc\s*=\s*[\"']?((?:https?:)?//[^\"'\s>]+)"
    r"|<link\b[^>]*?\bhref\s*=\s*[\"']?((?:https?:)?//[^\"'\s>]+)"
    r"|<object\b[^>]*?\bdata\s*=\s*[\"']?((?:https?:)?//[^\"'\s>]+)",
    re.IGNORECASE,
)
_CSS_REMOTE = re.compile(r"(?:@import\s+(?:url\()?|url\()\s*[\"']?((?:https?:)?//[^\"')\s]+)", re.IGNORECASE)
_CDN_WORDS = re.compile(r"cdn\.|cdnjs|unpkg\.com|jsdelivr|googleapis|gstatic", re.IGNORECASE)


def check_offline() -> None:
    problems = []
    pages = sorted(HTML.rglob("*.html"))
    for page in pages:
        text = page.read_text(encoding="utf8", errors="replace")
        rel = page.relative_to(HTML)
        for match in _FETCH_ATTR.finditer(text):
            url = next(g for g in match.groups()[1:] if g)
            problems.append(f"{rel}: loads {url}")
        for tag in re.findall(r"<(?:script|link|style)\b[^>]*>", text, re.IGNORECASE):
            if _CDN_WORDS.search(tag):
                problems.append(f"{rel}: CDN in tag {tag[:120]}")
        # Inline scripts that name a CDN would fetch from it (e.g. sphinx-thebe's loader).
        for block in re.findall(r"<script\b[^>]*>(.*?)</script>", text, re.IGNORECASE | re.DOTALL):
            for word in set(m.group(0) for m in _CDN_WORDS.finditer(block)):
                problems.append(f"{rel}: inline script mentions {word}")
        for block in re.findall(r"<style\b[^>]*>(.*?)</style>", text, re.IGNORECASE | re.DOTALL):
            problems += [f"{rel}: inline style loads {u}" for u in _CSS_REMOTE.findall(block)]
    for sheet in sorted((HTML / "_static").rglob("*.css")):
        text = sheet.read_text(encoding="utf8", errors="replace")
        problems += [f"{sheet.relative_to(HTML)}: loads {u}" for u in _CSS_REMOTE.findall(text)]
    if problems:
        listing = "\n".join(f"  - {p}" for p in sorted(set(problems)))
        fail(f"the built site would load remote resources:\n{listing}")
    print(f"offline check: {len(pages)} HTML pages, no remote scripts, stylesheets or fonts")


def main() -> None:
    start = time.perf_counter()
    check_toc()
    stage_mathjax()
    run_jupyter_book()
    check_offline()
    index = HTML / "index.html"
    if not index.is_file():
        fail(f"no {index} after the build")
    print(f"\nBook built in {time.perf_counter() - start:.1f} s: {index.as_uri()}")


if __name__ == "__main__":
    main()
