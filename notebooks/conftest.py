"""Under nbval, report the five slowest notebooks (kernel start and every cell included)."""

from collections import defaultdict

_seconds = defaultdict(float)


def pytest_runtest_logreport(report):
    _seconds[report.nodeid.split("::")[0]] += report.duration


def pytest_terminal_summary(terminalreporter):
    notebooks = {name: s for name, s in _seconds.items() if name.endswith(".ipynb")}
    if not notebooks:
        return
    terminalreporter.write_sep("=", "slowest notebooks")
    for name, seconds in sorted(notebooks.items(), key=lambda item: -item[1])[:5]:
        terminalreporter.write_line(f"{seconds:6.1f} s  {name}")
