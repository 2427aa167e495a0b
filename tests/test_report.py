"""The notebooks' printed checks: agreement prints a bound or raises; check_answer prints a verdict."""

import pytest
import torch

from lstm_teach import agreement, check_answer


def test_agreement_prints_the_bound(capsys):
    agreement("ours vs theirs", torch.tensor([1.0, 2.0]), [1.0, 2.0 + 1e-12], 1e-10)
    assert capsys.readouterr().out == "ours vs theirs: max |difference| ≤ 1e-10 ✓\n"


def test_agreement_raises_with_the_difference():
    with pytest.raises(AssertionError, match=r"max \|difference\| = 1.000e-03 > 1e-06"):
        agreement("x", torch.tensor([1.0]), torch.tensor([1.001], dtype=torch.float64), 1e-6)
    with pytest.raises(AssertionError, match="shapes differ"):
        agreement("x", torch.zeros(2), torch.zeros(3), 1.0)


def test_agreement_refuses_nan():
    with pytest.raises(AssertionError):
        agreement("x", torch.tensor([float("nan")]), torch.tensor([0.0]), 1.0)


@pytest.mark.parametrize("answer, message", [
    (None, "Not answered yet"),
    (torch.zeros(3), "Not yet: expected shape (2,), got (3,)."),
    (torch.tensor([1.0, 2.5]), "Not yet: your answer is off by up to 0.5."),
    (torch.tensor([1.0, 2.0 + 1e-9]), "Correct (within 1e-06)."),
])
def test_check_answer(capsys, answer, message):
    assert check_answer(answer, torch.tensor([1.0, 2.0])) is None
    assert message in capsys.readouterr().out
