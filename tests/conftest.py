"""Hypothesis profiles: `default` for `make test`; `sweep` (HYPOTHESIS_PROFILE=sweep) runs 1,000
random cases per property test that does not set its own count (issue 9's sweep)."""

import os

from hypothesis import settings

settings.register_profile("default", max_examples=50, deadline=None)
settings.register_profile("sweep", max_examples=1000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
