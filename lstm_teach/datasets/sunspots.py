"""Data for the case study (chapter 8): yearly sunspot numbers cut into windows, and the counting strings.

The sunspot series ships inside statsmodels (``statsmodels.datasets.sunspots``): the yearly mean
sunspot number for the 309 years 1700–2008, read from a file in the installed package, so nothing
is downloaded. The task: predict next year's number from the ``T`` years before it.

Scaling (standardisation with the training years' statistics only, so the held-out years leak
nothing into it):

    z = (s − μ) / σ,   μ, σ = mean and (population) standard deviation of s over the years before
                       ``split_year``

After scaling, ``z = 0`` is the training years' mean level: the natural baseline for the
attributions ("an average year"), and the reason the LRP relevances, which are measured against
zero input, speak about the same reference as DeepLift and Shapley with a zero baseline.

Windows: row ``k`` holds the scaled years ``y_k − T … y_k − 1`` as input (T, 1) and year ``y_k``
as the target. The split is chronological by *target* year: a window is held out when its target
year is ``split_year`` or later (its inputs may reach back into the training years, which is how
the model would be used: every input year is observed when the forecast is made).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

from ..teach.extras import extra

__all__ = ["SunspotWindows", "counting_strings", "load_sunspots", "sunspot_windows", "sliding_windows"]


@lru_cache(maxsize=1)
def _read_sunspots() -> tuple[np.ndarray, np.ndarray]:
    with extra("notebooks", "the sunspot data"):
        from statsmodels.datasets import sunspots  # imported here: statsmodels is slow to import

    frame = sunspots.load_pandas().data
    return frame["YEAR"].to_numpy().astype(int), frame["SUNACTIVITY"].to_numpy(dtype=float)


def load_sunspots() -> tuple[np.ndarray, np.ndarray]:
    """The yearly mean sunspot numbers: ``(years (309,) int, values (309,) float)``, 1700–2008
    (fresh copies; the file is read once per session)."""
    years, values = _read_sunspots()
    return years.copy(), values.copy()


def sliding_windows(series: torch.Tensor, window: int) -> tuple[torch.Tensor, torch.Tensor]:
    """All windows of a 1-D ``series`` (L,): inputs ``x`` (L − window, window, 1) and targets ``y`` (L − window, 1).

    ``x[k, :, 0] = series[k : k + window]`` and ``y[k, 0] = series[k + window]``: one batched
    ``unfold``, no loop.
    """
    if series.dim() != 1:
        raise ValueError(f"series must be 1-D, got shape {tuple(series.shape)}")
    if not (isinstance(window, int) and 1 <= window < series.shape[0]):
        raise ValueError(f"window must be an int in [1, {series.shape[0] - 1}], got {window!r}")
    x = series[:-1].unfold(0, window, 1).unsqueeze(-1)
    y = series[window:].unsqueeze(-1)
    return x, y


@dataclass
class SunspotWindows:
    """The windowed, scaled sunspot series and everything needed to read it back.

    Attributes:
        x_train, y_train: (N_train, T, 1) and (N_train, 1), target years before ``split_year``.
        x_test, y_test: the held-out windows, target years ``split_year`` and later.
        years_train, years_test: the target year of each window (N,).
        years, values: the whole raw series (309,), for plots.
        mean, std: μ and σ of the scaling ``z = (s − μ) / σ``.
        window: T; split_year: the first held-out target year.
    """

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    years_train: np.ndarray
    years_test: np.ndarray
    years: np.ndarray
    values: np.ndarray
    mean: float
    std: float
    window: int
    split_year: int

    def scale(self, values):
        """Sunspot numbers → model units, ``(s − μ) / σ``."""
        return (values - self.mean) / self.std

    def unscale(self, z):
        """Model units → sunspot numbers, ``μ + σ z``."""
        return self.mean + self.std * z

    def lags(self) -> np.ndarray:
        """Lag of each input position, (T,): position ``t`` of a window lies ``T − t`` years before its target."""
        return np.arange(self.window, 0, -1)


def sunspot_windows(window: int = 12, split_year: int = 1950, dtype: torch.dtype = torch.float32) -> SunspotWindows:
    """Load, scale and window the sunspot series; split chronologically by target year.

    Args:
        window: T, the number of input years (at most 20, so that exact time-step Shapley values,
            2^T model calls per window, stay feasible; the default 12 spans one ~11-year cycle).
        split_year: first held-out target year (default 1950: 238 training and 59 held-out windows
            with T = 12).
        dtype: of the tensors.
    """
    years, values = load_sunspots()
    if not (isinstance(split_year, int) and years[0] + window < split_year <= years[-1]):
        raise ValueError(f"split_year must lie in ({years[0] + window}, {years[-1]}], got {split_year!r}")
    train_years = years < split_year
    mean, std = float(values[train_years].mean()), float(values[train_years].std())
    scaled = torch.as_tensor((values - mean) / std, dtype=dtype)
    x, y = sliding_windows(scaled, window)
    target_years = years[window:]
    held_out = torch.as_tensor(target_years >= split_year)
    return SunspotWindows(
        x_train=x[~held_out], y_train=y[~held_out], x_test=x[held_out], y_test=y[held_out],
        years_train=target_years[~held_out.numpy()], years_test=target_years[held_out.numpy()],
        years=years, values=values, mean=mean, std=std, window=window, split_year=split_year,
    )


def counting_strings(num: int, length: int, seed: int = 0) -> list[str]:
    """``num`` random strings of ``'a'``/``'b'`` of the given length for the counting task of chapter 2.

    Each string holds ``n`` symbols ``'a'``, ``n`` drawn uniformly from 1 … length (never zero, so
    the count always moves away from the empty baseline), at positions drawn uniformly at random;
    the rest are ``'b'``. Reproducible from ``seed``; the global random state is left untouched.
    """
    generator = torch.Generator().manual_seed(seed)
    counts = torch.randint(1, length + 1, (num,), generator=generator)
    ranks = torch.rand(num, length, generator=generator).argsort(dim=1).argsort(dim=1)
    is_a = ranks < counts.unsqueeze(1)
    return ["".join("a" if bit else "b" for bit in row) for row in is_a.tolist()]
