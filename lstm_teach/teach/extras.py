"""Optional dependencies: the notebook stack is an extra of the package, not a requirement.

``import lstm_teach`` and its explainers need only torch and numpy. The teaching widgets, the case
study's data and its training read from the ``[notebooks]`` extra; when a package of it is missing
they say so, and how to install it, instead of failing with a bare ``ModuleNotFoundError``.
"""

from __future__ import annotations

from contextlib import contextmanager

__all__ = ["extra"]


@contextmanager
def extra(name: str, needed_by: str):
    """Imports inside this block come from the ``[name]`` extra of ``lstm_teach``.

    A missing module raises ``ImportError`` naming it, ``needed_by`` (what needs it) and the
    install command, ``pip install 'lstm_teach[name]'``.
    """
    try:
        yield
    except ModuleNotFoundError as error:
        raise ImportError(
            f"{needed_by} needs {error.name!r}, which comes with the [{name}] extra of lstm_teach: "
            f"pip install 'lstm_teach[{name}]'"
        ) from error
