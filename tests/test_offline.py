"""Issue 9: nothing reaches the network at run time, and nothing unpickles untrusted data."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import socket, runpy
runpy.run_path({guard!r})
for connect, target in [(socket.socket().connect, ("192.0.2.1", 80)),
                        (socket.create_connection, ("example.org", 443))]:
    try:
        connect(target)
    except (ConnectionRefusedError, socket.gaierror) as error:
        print("blocked", target[0], type(error).__name__)
server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen()
socket.create_connection(server.getsockname(), timeout=5).close()
print("loopback ok")
"""


def test_the_notebook_guard_blocks_the_network_but_not_loopback():
    out = subprocess.run([sys.executable, "-c", PROBE.format(guard=str(ROOT / "tests" / "no_network.py"))],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    assert out.splitlines() == [
        "blocked 192.0.2.1 ConnectionRefusedError",
        "blocked example.org gaierror",
        "loopback ok",
    ]


def test_make_test_runs_the_notebooks_behind_the_guard():
    makefile = (ROOT / "Makefile").read_text()
    assert "tests/no_network.py" in makefile and "IPYTHONDIR=" in makefile


def test_no_pickle_and_every_torch_load_is_weights_only():
    sources = [*ROOT.glob("lstm_teach/**/*.py"), *ROOT.glob("benchmarks/*.py"), *ROOT.glob("book/*.py")]
    for path in sources:
        text = path.read_text()
        assert not re.search(r"\bimport pickle\b|\bpickle\.load", text), path
        for call in re.findall(r"torch\.load\([^)]*\)", text):
            assert "weights_only=True" in call, (path, call)
