"""Shared test settings: torch's intra-op threads, the CPU code path, and the hypothesis profiles.

* Threads: ``LSTM_TEACH_TEST_THREADS`` (default 1). The tests use small tensors, where extra threads
  only add contention on a shared machine; CI runs the unit tests once more with 2 (another
  summation order wherever a kernel splits its work).
* CPU code path: ATen picks its kernels (AVX-512, AVX2 or the portable default) from the CPU, or
  from ``ATEN_CPU_CAPABILITY`` when set; CI runs the unit tests under ``default`` and ``avx2`` too.
  The header of the run names both, and a requested path that torch did not take stops the run.
* Hypothesis: ``default`` for ``make test``; ``sweep`` (HYPOTHESIS_PROFILE=sweep) with 1,000 random
  cases per property test that does not set its own count (issue 9's sweep).
"""

import os

import pytest
import torch
from hypothesis import settings

settings.register_profile("default", max_examples=50, deadline=None)
settings.register_profile("sweep", max_examples=1000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

THREADS = int(os.environ.get("LSTM_TEACH_TEST_THREADS", "1"))


def pytest_configure(config):
    requested = os.environ.get("ATEN_CPU_CAPABILITY")
    if requested and torch.backends.cpu.get_cpu_capability().lower() != requested.lower():
        raise pytest.UsageError(f"ATEN_CPU_CAPABILITY={requested} was requested, but torch runs "
                                f"{torch.backends.cpu.get_cpu_capability()} kernels")


def pytest_report_header(config):
    return f"torch {torch.__version__}: {torch.backends.cpu.get_cpu_capability()} kernels, {THREADS} intra-op thread(s)"


@pytest.fixture(autouse=True, scope="session")
def intra_op_threads():
    """torch's intra-op threads for the whole session (``LSTM_TEACH_TEST_THREADS``, default 1)."""
    before = torch.get_num_threads()
    torch.set_num_threads(THREADS)
    yield
    torch.set_num_threads(before)
