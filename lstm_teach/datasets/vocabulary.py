"""Token ids for a fixed vocabulary: encode, decode, and padded batches for ``nn.Embedding`` + ``nn.LSTM``.

Id 0 is the padding token ``<pad>``. An ``nn.Embedding(..., padding_idx=0)`` keeps its row 0 at
zero, so a padded (or deleted) word enters the LSTM as the zero vector: the default baseline of
the explainers.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

__all__ = ["PAD", "PAD_ID", "Vocabulary"]

PAD = "<pad>"
PAD_ID = 0


class Vocabulary:
    """A fixed list of tokens; token ``tokens[i]`` has id ``i``, ``<pad>`` is id 0.

    Args:
        tokens: the tokens after ``<pad>``, distinct, in the order of their ids 1, 2, ….
    """

    pad_id = PAD_ID

    def __init__(self, tokens: Sequence[str]):
        self.tokens = (PAD, *tokens)
        self.ids = {token: i for i, token in enumerate(self.tokens)}
        if len(self.ids) != len(self.tokens):
            raise ValueError(f"tokens must be distinct and must not include {PAD!r}")

    def __len__(self) -> int:
        return len(self.tokens)

    def __eq__(self, other) -> bool:
        return isinstance(other, Vocabulary) and self.tokens == other.tokens

    def __repr__(self) -> str:
        return f"Vocabulary({len(self)} tokens, pad id {self.pad_id})"

    def encode(self, sentence: Sequence[str] | str) -> list[int]:
        """Token ids of a sentence (tokens, or a string split at spaces); an unknown token raises
        ValueError naming it."""
        tokens = sentence.split() if isinstance(sentence, str) else list(sentence)
        unknown = sorted({token for token in tokens if token not in self.ids or token == PAD})
        if unknown:
            raise ValueError(f"tokens not in the vocabulary ({len(self)} tokens): {unknown}")
        return [self.ids[token] for token in tokens]

    def decode(self, ids) -> list[str]:
        """The tokens of a sequence of ids (list or 1-D tensor), pad ids dropped."""
        ids = ids.tolist() if isinstance(ids, torch.Tensor) else list(ids)
        if any(not 0 <= i < len(self) for i in ids):
            raise ValueError(f"ids must lie in [0, {len(self) - 1}], got {ids}")
        return [self.tokens[i] for i in ids if i != self.pad_id]

    def pad_batch(self, sentences: Sequence[Sequence[str] | str]) -> tuple[torch.Tensor, torch.Tensor]:
        """``(ids, lengths)``: ids (B, T) long, row ``b`` the encoded sentence followed by pad ids
        up to ``T`` = the longest sentence; lengths (B,) long. Empty sentences are refused (a
        packed LSTM needs at least one step)."""
        encoded = [self.encode(sentence) for sentence in sentences]
        if not encoded or any(len(row) == 0 for row in encoded):
            raise ValueError("sentences must be a non-empty list of non-empty sentences")
        lengths = torch.tensor([len(row) for row in encoded])
        ids = torch.full((len(encoded), int(lengths.max())), self.pad_id, dtype=torch.long)
        for b, row in enumerate(encoded):
            ids[b, :len(row)] = torch.tensor(row)
        return ids, lengths
