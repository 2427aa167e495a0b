"""Build the book into book/_build/html, offline, failing on any warning.

Run from anywhere with the project's Python (``make book`` does
``.venv/bin/python book/build.py``). Steps:

1. check that every entry of book/_toc.yml has a source file, and that every chapter
   notebook (notebooks/NN_*.ipynb, and NNb_*.ipynb for a chapter in two parts) is in it;
2. stage the page scripts next to the build so that nothing comes from a CDN: MathJax
   (from the django-static-mathjax wheel), require.js and the ipywidgets embed manager
   (pinned npm packages, see book/vendor.py), which draws the notebooks' saved widgets;
3. run Jupyter Book on the repository root with warnings as errors (``-W
   --keep-going``: all warnings are listed, then the build fails);
4. scan the HTML and CSS for anything that would load from the network, and the HTML
   for "$" signs stuck to a formula (math read with the wrong delimiters);
5. write book/_build/html-ok.stamp (only when all of the above passed).

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

sys.path.insert(0, str(Path(__file__).resolve().parent))
import offline  # noqa: E402  (book/offline.py)
import vendor  # noqa: E402  (book/vendor.py)

BOOK = Path(__file__).resolve().parent
ROOT = BOOK.parent
CONFIG = BOOK / "_config.yml"
TOC = BOOK / "_toc.yml"
BUILD = BOOK / "_build"
HTML = BUILD / "html"
VENDOR = BUILD / "_vendor"  # listed in html_static_path of _config.yml
# Written last, only when every step passed: tests/test_browser_book.py compares its
# time with the sources' to decide whether the book must be rebuilt.
STAMP = BUILD / "html-ok.stamp"

# Suffixes a toc entry may resolve to (myst-nb reads .md and .ipynb).
SOURCE_SUFFIXES = (".md", ".ipynb", ".rst")


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
    chapters = {f"notebooks/{nb.stem}" for nb in (ROOT / "notebooks").glob("[0-9][0-9]*_*.ipynb")
                if re.match(r"\d\d[a-z]?_", nb.name)}
    forgotten = sorted(chapters - {e.removesuffix(".ipynb") for e in entries})
    if forgotten:
        fail(
            f"chapter notebooks missing from {TOC.relative_to(ROOT)} (add them in order, and "
            f"to the chapter map in book/intro.md): {', '.join(forgotten)}",
            status=2,
        )
    print(f"toc: {len(entries)} pages, all present, every chapter notebook listed")


def stage_scripts() -> None:
    """Copy MathJax, require.js and the widget manager into html_static_path."""
    config = yaml.safe_load(CONFIG.read_text(encoding="utf8"))["sphinx"]["config"]
    try:
        es5 = vendor.stage_mathjax(VENDOR / "mathjax")
        vendor.stage_widgets(VENDOR / "widgets")
    except vendor.VendorError as error:
        fail(str(error))
    wanted = [config["mathjax_path"], *config["nb_ipywidgets_js"]]
    missing = [path for path in wanted if not (VENDOR / path).is_file()]
    if missing:
        fail(f"_config.yml names scripts that were not staged in {VENDOR}: {missing}")
    print(f"scripts: MathJax from {es5}; require.js, widget manager from npm "
          f"(book/vendor.py) -> {VENDOR.relative_to(ROOT)}")


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


def write_front_door() -> None:
    """Replace the bare redirect that Jupyter Book writes as index.html with a full page.

    Its redirect has no icon, so the browser asks for /favicon.ico (a 404 on most
    static hosts), and no link to follow where redirects are blocked.
    """
    index = HTML / "index.html"
    match = re.search(r'url=([^"\s>]+)', index.read_text(encoding="utf8")) if index.is_file() else None
    if match is None:
        fail(f"{index} is not the redirect Jupyter Book writes; cannot find the landing page")
    target = match.group(1)
    title = yaml.safe_load(CONFIG.read_text(encoding="utf8"))["title"]
    index.write_text(
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{title}</title>\n"
        '<link rel="icon" href="_static/favicon.svg">\n'
        f'<meta http-equiv="Refresh" content="0; url={target}">\n'
        "</head>\n<body>\n"
        f'<p><a href="{target}">{title}</a></p>\n'
        "</body>\n</html>\n",
        encoding="utf8",
    )


def check_offline() -> None:
    problems = []
    pages = sorted(HTML.rglob("*.html"))
    for page in pages:
        text = page.read_text(encoding="utf8", errors="replace")
        problems += [f"{page.relative_to(HTML)}: {p}" for p in offline.page_problems(text)]
    for sheet in sorted((HTML / "_static").rglob("*.css")):
        text = sheet.read_text(encoding="utf8", errors="replace")
        problems += [f"{sheet.relative_to(HTML)}: {p}" for p in offline.css_problems(text)]
    if problems:
        listing = "\n".join(f"  - {p}" for p in sorted(set(problems)))
        fail(f"the built site would load remote resources:\n{listing}")
    print(f"offline check: {len(pages)} HTML pages, no remote scripts, stylesheets or fonts")


# A dollar sign stuck to a typeset formula: math the parser read with the wrong
# delimiters (e.g. "$$ ... $$" inside a paragraph read as "$" + inline math + "$").
_STRAY_DOLLAR = re.compile(r'\$\s*<(?:span|div) class="math|\\[)\]]\s*</(?:span|div)>\s*\$')


def check_math() -> None:
    problems = []
    for page in sorted(HTML.rglob("*.html")):
        text = page.read_text(encoding="utf8", errors="replace")
        for match in _STRAY_DOLLAR.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            problems.append(f"{page.relative_to(HTML)}:{line}: stray $ next to a formula")
    if problems:
        listing = "\n".join(f"  - {p}" for p in problems)
        fail(f"math the parser did not recognise (check its $ / $$ delimiters):\n{listing}")
    print("math check: no stray $ next to a formula")


def main() -> None:
    start = time.perf_counter()
    STAMP.unlink(missing_ok=True)
    check_toc()
    stage_scripts()
    run_jupyter_book()
    write_front_door()
    # GitHub Pages runs Jekyll unless told not to, and Jekyll drops folders whose names
    # start with "_" (_static, _images, _sources): the site would lose its scripts.
    (HTML / ".nojekyll").touch()
    check_offline()
    check_math()
    index = HTML / "index.html"
    if not index.is_file():
        fail(f"no {index} after the build")
    STAMP.write_text(f"built in {time.perf_counter() - start:.1f} s\n")
    print(f"\nBook built in {time.perf_counter() - start:.1f} s: {index.as_uri()}")


if __name__ == "__main__":
    main()
