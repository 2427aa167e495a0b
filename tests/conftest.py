"""Shared test settings: one torch thread, and the hypothesis profiles — `default` for `make test`,
`sweep` (HYPOTHESIS_PROFILE=sweep) with 1,000 random cases per property test that does not set its
own count (issue 9's sweep)."""

import os

import pytest
import torch
from hypothesis import settings

settings.register_profile("default", max_examples=50, deadline=None)
settings.register_profile("sweep", max_examples=1000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(autouse=True, scope="session")
def one_thread():
    """The tests use small tensors: extra threads only add contention (and time) on a shared machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
