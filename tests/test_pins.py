"""The install: a light library (torch and numpy, lower bounds), and exact pins for everything `make`
installs, in constraints.txt, repeated by environment.yml."""

import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)")


def normalize(name: str) -> str:
    """PEP 503: case, ``-``, ``_`` and ``.`` do not distinguish package names."""
    return re.sub(r"[-_.]+", "-", name).lower()


def constraint_pins() -> dict[str, str]:
    """name → version for every line of constraints.txt (comments and blank lines aside)."""
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = PIN.fullmatch(line)
        assert match, f"constraints.txt: {line!r} is not an exact pin name==version"
        pins[normalize(match.group(1))] = match.group(2)
    return pins


def environment_lines() -> list[str]:
    lines = (ROOT / "environment.yml").read_text().splitlines()
    start = lines.index("  - pip:")
    return [line.removeprefix("      - ") for line in lines[start + 1:] if line.startswith("      - ")]


def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def requirement_name(requirement: str) -> str:
    return normalize(re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement).group(0))


def test_environment_repeats_the_constraints():
    pins = {requirement_name(line): line.split("==", 1)[1] for line in environment_lines() if "==" in line}
    assert pins == constraint_pins()


def test_environment_installs_the_package_with_every_extra():
    assert environment_lines()[-1] == '-e ".[notebooks,book,test]"'


def test_make_installs_every_extra_through_the_constraints():
    makefile = (ROOT / "Makefile").read_text()
    assert '-e ".[notebooks,book,test]" -c constraints.txt' in makefile


def test_torch_is_pinned_to_the_local_cpu_wheel():
    assert constraint_pins()["torch"] == "2.13.0"


def test_core_requirements_are_torch_and_numpy_lower_bounds():
    core = project()["dependencies"]
    assert sorted(requirement_name(r) for r in core) == ["numpy", "torch"]
    for requirement in core:
        assert re.fullmatch(r"[a-z]+>=[0-9.]+", requirement), f"{requirement!r} must be a plain lower bound"


def test_every_requirement_is_pinned():
    extras = project()["optional-dependencies"]
    assert set(extras) == {"notebooks", "book", "test"}
    declared = {requirement_name(r) for r in project()["dependencies"]}
    declared |= {requirement_name(r) for group in extras.values() for r in group if not r.startswith("lstm_teach")}
    assert declared - set(constraint_pins()) == set()


@pytest.mark.skipif(Path(sys.prefix).resolve() != (ROOT / ".venv").resolve(), reason="runs in the project's .venv only")
def test_the_venv_holds_exactly_the_pinned_versions():
    """What `make` installed is what constraints.txt lists, package for package (the project aside)."""
    installed = {normalize(d.metadata["Name"]): d.version for d in metadata.distributions()}
    installed.pop("lstm-teach")
    installed = {name: version.split("+")[0] for name, version in installed.items()}   # torch's +cpu
    assert installed == constraint_pins()
