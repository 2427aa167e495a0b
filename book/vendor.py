"""Third-party JavaScript for the book and the slides, served from the build (no CDN).

Two sources, both pinned:

* MathJax 3.2.2 from the ``django-static-mathjax`` wheel (a Python dependency, so it is
  already installed with the project);
* three npm packages, fetched with ``npm pack`` (the npm client; Node.js must be
  installed). ``npm pack`` downloads only the package's own tarball, without its
  dependencies, so nothing is built and no ``node_modules`` tree appears. Each tarball is
  checked against the sha512 integrity below before anything is taken from it, and kept
  in ``book/_build/_npm``; npm also keeps it in its own cache (``~/.npm``), so after the
  first build the packages come from disk and the build needs no network.

To update a pin, change the version and paste the new integrity from
``npm view PACKAGE@VERSION dist.integrity``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

BOOK = Path(__file__).resolve().parent
NPM_CACHE = BOOK / "_build" / "_npm"

NPM_PACKAGES = {
    # The widget manager that draws saved widget state in a static page (ipywidgets 8).
    "@jupyter-widgets/html-manager": (
        "1.0.15",
        "sha512-5thBIV6ymNgmPVOHvzx+gGy8ZSKmSazhtGw4/c4xJDVzRhG9PTeQsRjF3FUTopvFi//SABeNz1yp47bCrJ3CQA==",
    ),
    # The AMD loader that embed-amd.js and nbconvert's reveal template expect.
    "requirejs": (
        "2.3.7",
        "sha512-DouTG8T1WanGok6Qjg2SXuCMzszOo0eHeH9hDZ5Y4x8Je+9JB38HdTLT4/VA8OaUhBa0JPVHJ0pyBkM1z+pDsw==",
    ),
    # Slides. nbconvert 7.17's reveal template is written for reveal.js 4 (dist/ and
    # plugin/ layout, AMD-loadable UMD bundles).
    "reveal.js": (
        "4.6.1",
        "sha512-1CW0auaXNPmwmvQ7TwpszwVxMi2Xr5cTS3J3EBC/HHgbPF32Dn7aiu/LKWDOGjMbaDwKQiGmfqcoGQ74HUHCMw==",
    ),
}

# What MathJax needs at run time, relative to its es5/ folder: the combined
# TeX+MathML/CHTML component, its lazily loaded TeX extensions, the CHTML fonts, and
# the menu / accessibility pieces the right-click menu may load.
MATHJAX_PARTS = ("tex-mml-chtml.js", "input", "output/chtml", "ui", "a11y", "sre")


class VendorError(RuntimeError):
    """A pinned asset could not be found, fetched or verified."""


def _integrity_of(path: Path) -> str:
    digest = hashlib.sha512(path.read_bytes()).digest()
    return "sha512-" + base64.b64encode(digest).decode("ascii")


def _tarball_name(name: str, version: str) -> str:
    # npm's own naming: "@scope/pkg" -> "scope-pkg-VERSION.tgz"
    return f"{name.lstrip('@').replace('/', '-')}-{version}.tgz"


def _npm_pack(spec: str, destination: Path) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise VendorError(
            "npm (Node.js) is not installed; it is needed once to fetch the pinned "
            f"JavaScript packages ({spec}). Install Node.js (e.g. `apt-get install npm`)."
        )
    command = [npm, "pack", spec, "--pack-destination", str(destination),
               "--prefer-offline", "--json", "--loglevel=error"]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise VendorError(
            f"`npm pack {spec}` failed (exit status {result.returncode}). Without network "
            "access this works only when npm's cache (~/.npm) already holds the package.\n"
            + result.stderr.strip()
        )
    try:
        json.loads(result.stdout)
    except json.JSONDecodeError as error:
        raise VendorError(f"`npm pack {spec}` printed no JSON: {result.stdout[:200]!r}") from error


def npm_package(name: str) -> Path:
    """The unpacked ``package/`` folder of a pinned npm package (fetched once, verified)."""
    version, integrity = NPM_PACKAGES[name]
    NPM_CACHE.mkdir(parents=True, exist_ok=True)
    tarball = NPM_CACHE / _tarball_name(name, version)
    unpacked = NPM_CACHE / tarball.name.removesuffix(".tgz")
    stamp = unpacked / ".integrity"
    if stamp.is_file() and stamp.read_text() == integrity:
        return unpacked / "package"

    if not tarball.is_file() or _integrity_of(tarball) != integrity:
        print(f"npm: fetching {name}@{version}", flush=True)
        _npm_pack(f"{name}@{version}", NPM_CACHE)
    if not tarball.is_file():
        raise VendorError(f"npm pack {name}@{version} did not write {tarball}")
    found = _integrity_of(tarball)
    if found != integrity:
        raise VendorError(
            f"{tarball.name}: integrity {found} does not match the pin {integrity}"
        )
    if unpacked.exists():
        shutil.rmtree(unpacked)
    unpacked.mkdir()
    with tarfile.open(tarball) as archive:
        archive.extractall(unpacked, filter="data")
    stamp.write_text(integrity)
    return unpacked / "package"


def _copy(src: Path, dst: Path) -> None:
    if src.is_dir():
        shutil.copytree(src, dst, dirs_exist_ok=True)
    else:
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)


def _fresh(folder: Path) -> Path:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return folder


def stage_mathjax(target: Path) -> Path:
    """Copy MathJax's es5 build (the parts a page needs) to ``target``; return the es5 source."""
    try:
        import mathjax  # the django-static-mathjax wheel
    except ImportError as error:
        raise VendorError("MathJax not found: install django-static-mathjax (see pyproject.toml)") from error
    es5 = Path(mathjax.__file__).resolve().parent / "static" / "mathjax" / "es5"
    if not (es5 / "tex-mml-chtml.js").is_file():
        raise VendorError(f"MathJax files not found under {es5}")
    _fresh(target)
    for part in MATHJAX_PARTS:
        _copy(es5 / part, target / part)
    licence = es5.parent / "LICENSE"
    if licence.is_file():
        shutil.copy2(licence, target / "LICENSE")
    return es5


def stage_widgets(target: Path) -> Path:
    """Stage what draws saved widget state into the folder ``target``; return it.

    ``require.js``, ``widgets-setup.js`` (book/_js: tells the bundle where its files are
    and lets it typeset with MathJax 3) and the html-manager's ``embed-amd.js`` with the
    icon fonts it loads, which webpack resolves relative to the bundle. A page loads the
    three scripts in that order.
    """
    package = npm_package("@jupyter-widgets/html-manager")
    _fresh(target)
    for item in (package / "dist").iterdir():
        if item.suffix in (".woff", ".woff2", ".ttf", ".eot", ".svg") or item.name in (
            "embed-amd.js", "embed.js.LICENSE.txt"
        ):
            _copy(item, target / item.name)
    _copy(npm_package("requirejs") / "require.js", target / "require.js")
    _copy(BOOK / "_js" / "widgets-setup.js", target / "widgets-setup.js")
    return target


def stage_reveal(target: Path) -> Path:
    """Copy reveal.js's ``dist/`` and ``plugin/`` folders to ``target``."""
    package = npm_package("reveal.js")
    _fresh(target)
    for part in ("dist", "plugin", "LICENSE"):
        _copy(package / part, target / part)
    return target


if __name__ == "__main__":  # `python book/vendor.py`: fetch and verify every pin
    try:
        for package_name in NPM_PACKAGES:
            print(package_name, NPM_PACKAGES[package_name][0], npm_package(package_name))
    except VendorError as error:
        sys.exit(f"book/vendor.py: {error}")
