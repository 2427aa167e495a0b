"""environment.yml (conda / Binder) must pin exactly what pyproject.toml pins."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def pyproject_pins() -> set[str]:
    return set(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"])


def environment_pins() -> set[str]:
    lines = (ROOT / "environment.yml").read_text().splitlines()
    start = lines.index("  - pip:")
    pins = set()
    for line in lines[start + 1:]:
        match = re.fullmatch(r"      - (\S+==\S+)", line)
        if match is None:
            break
        pins.add(match.group(1))
    return pins


def test_every_dependency_is_pinned_exactly():
    assert all("==" in pin for pin in pyproject_pins())


def test_environment_matches_pyproject():
    assert environment_pins() == pyproject_pins()


def test_torch_pin_is_the_local_cpu_wheel():
    assert "torch==2.13.0" in pyproject_pins()


def test_environment_installs_the_package_itself():
    assert "      - -e ." in (ROOT / "environment.yml").read_text().splitlines()
