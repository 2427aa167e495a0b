"""Sentences whose true word effects are known: the data of chapter 9.

A small seeded grammar writes film-review sentences from real words: the sentiment adjectives of
:mod:`.lexicon` with their VADER valence ``v(w)``, the modifiers ``not``, ``very``, ``slightly``,
the contrast ``but`` and neutral filler (``the``, ``movie``, ``was``, ``and``, …), e.g.

    the acting was not very good but the music is lovely

The scoring rule (it defines the label). A *phrase* is a sentiment word ``w`` with the modifiers
right in front of it: ``[not] [very | slightly] w``. Phrase ``j`` counts

    s_j = c_j · n_j · m_j · v(w_j),

    n_j = −1 after ``not``, else 1                                   (negation flips the sign)
    m_j = 3/2 after ``very``, 1/2 after ``slightly``, else 1         (intensity)
    c_j = 1/2 before ``but``, 3/2 after it, 1 in a sentence without  (contrast: the second clause
                                                                       weighs more)

and the sentence's score and label are

    S = Σ_j s_j,        label = 1 (positive) if S > 0, else 0 (negative).

The grammar redraws a sentence whose ``|S|`` is below :data:`MARGIN`, so no label hangs on a
hair. Valences are the lexicon's one-decimal numbers and the factors are halves, so the rule is
computed in exact fractions: the contributions below add up to ``S`` with no rounding.

True contributions. Each token ``t`` gets a contribution ``g_t`` with ``Σ_t g_t = S`` exactly,
in one of two conventions:

* ``"word"`` (the default): a phrase's whole ``s_j`` is the effect of its sentiment word, in its
  context; ``not``, ``very``, ``slightly``, ``but`` and the filler get 0. The modifiers change how
  much a word counts, so their effect is booked to the word they modify. This is the ground truth
  of the test of Arras et al. (2019): which words carry the sentiment, with which sign and weight.
* ``"shapley"``: the exact Shapley values of the rule seen as a game between the tokens, where a
  token left out is absent (as a deleted, padded word is for the model): ``s_j`` is the product of
  the factors ``v(w_j)`` (0 without the word), ``n_j``, ``m_j`` and ``c_j`` (each 1 without its
  modifier), and each token gets its Shapley share of the products it takes part in (eq. 18 of
  chapter 4, which for two factors is the product rule ``shapley_product``). Here ``not`` takes a
  large share: in ``not good`` the word alone would say +1.9 and with ``not`` says −1.9, so the
  word gets 0 and ``not`` gets −1.9.

The tags of the per-step model (chapter 9, section 5): every token is tagged with the polarity
it has in its context, ``sign(n_j · v(w_j))`` for sentiment words (negative or positive) and
neutral for every other token.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from itertools import combinations
from math import factorial

import torch

from .lexicon import sentiment_words
from .vocabulary import Vocabulary

__all__ = [
    "CONTRAST", "CONTRAST_WEIGHTS", "CONVENTIONS", "INTENSIFIERS", "MARGIN", "NEGATION", "TAGS",
    "TAG_PAD", "Phrase", "SentimentData", "TextSplit", "generate_sentence", "generate_sentences",
    "parse_phrases", "sentence_label", "sentence_score", "sentiment_data", "sentiment_vocabulary",
    "token_tags", "true_contributions",
]

NEGATION = "not"
INTENSIFIERS = {"very": Fraction(3, 2), "slightly": Fraction(1, 2)}
CONTRAST = "but"
CONTRAST_WEIGHTS = (Fraction(1, 2), Fraction(3, 2))
"""``c`` before and after ``but``."""
MARGIN = Fraction(1, 2)
"""The grammar redraws sentences with ``|S|`` below this."""
CONVENTIONS = ("word", "shapley")
TAGS = ("negative", "neutral", "positive")
"""The per-step model's classes: tag ``k`` is ``TAGS[k]``."""
TAG_PAD = -100
"""The tag of a padded step (``ignore_index`` of ``torch.nn.functional.cross_entropy``)."""

# neutral filler (none is in the VADER lexicon)
OPENER = ("i", "thought")
ARTICLE = "the"
NOUNS = ("movie", "film", "plot", "story", "acting", "ending", "music", "cast", "script")
PRONOUNS = ("it", "this")
VERBS = ("was", "is", "seemed", "felt")
CONJUNCTION = "and"
FILLER = (*OPENER, ARTICLE, *NOUNS, *PRONOUNS, *VERBS, CONJUNCTION)

# the grammar's probabilities
P_OPENER, P_CONTRAST, P_PRONOUN, P_SECOND_PHRASE, P_ELLIPSIS = 0.15, 0.4, 0.3, 0.3, 0.5
P_NEGATION, P_VERY, P_SLIGHTLY = 0.3, 0.2, 0.15
MIN_TOKENS, MAX_TOKENS = 3, 14


@lru_cache(maxsize=1)
def _valences() -> dict[str, Fraction]:
    return sentiment_words()


@lru_cache(maxsize=1)
def _polar_words() -> tuple[list[str], list[str]]:
    """The positive and the negative sentiment words."""
    valences = _valences()
    return [w for w, v in valences.items() if v > 0], [w for w, v in valences.items() if v < 0]


@lru_cache(maxsize=1)
def sentiment_vocabulary() -> Vocabulary:
    """Every token the grammar can write: ``<pad>`` (id 0), the filler, the modifiers, then the
    sentiment words, each group in a fixed order."""
    return Vocabulary([*FILLER, NEGATION, *INTENSIFIERS, CONTRAST, *_valences()])


# --- the scoring rule -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Phrase:
    """One sentiment word and its modifiers, as positions in the sentence (None when absent).

    ``factors()`` lists each token's factor of ``s_j = c · n · m · v``: ``(position, value with the
    token, value without it)``.
    """

    word: int
    valence: Fraction
    negation: int | None = None
    intensifier: int | None = None
    intensity: Fraction = Fraction(1)
    contrast: int | None = None
    weight: Fraction = Fraction(1)

    def factors(self) -> list[tuple[int, Fraction, Fraction]]:
        factors = [(self.word, self.valence, Fraction(0))]
        if self.negation is not None:
            factors.append((self.negation, Fraction(-1), Fraction(1)))
        if self.intensifier is not None:
            factors.append((self.intensifier, self.intensity, Fraction(1)))
        if self.contrast is not None:
            factors.append((self.contrast, self.weight, Fraction(1)))
        return factors

    def score(self) -> Fraction:
        """``s_j = c_j · n_j · m_j · v(w_j)``."""
        value = Fraction(1)
        for _, present, _ in self.factors():
            value *= present
        return value


def parse_phrases(tokens) -> list[Phrase]:
    """The phrases of a sentence (a sequence of tokens or a string split at spaces).

    ``not`` negates the sentiment word right after it or after it and one intensifier; an
    intensifier modifies the word right after it; modifiers elsewhere do nothing. A sentence may
    hold at most one ``but``.
    """
    return list(_parse(_tokens(tokens)))


@lru_cache(maxsize=2 ** 16)
def _parse(tokens: tuple[str, ...]) -> tuple[Phrase, ...]:
    """:func:`parse_phrases`, remembered (the grammar's rejection test, the labels, the tags and the
    contributions all parse the same sentences)."""
    valences = _valences()
    unknown = sorted({token for token in tokens if token not in sentiment_vocabulary().ids})
    if unknown:
        raise ValueError(f"tokens must come from the grammar's vocabulary; unknown: {unknown}")
    contrasts = [t for t, token in enumerate(tokens) if token == CONTRAST]
    if len(contrasts) > 1:
        raise ValueError(f"a sentence may hold one {CONTRAST!r}, got {len(contrasts)}")
    contrast = contrasts[0] if contrasts else None
    phrases = []
    for t, token in enumerate(tokens):
        if token not in valences:
            continue
        intensifier = t - 1 if t >= 1 and tokens[t - 1] in INTENSIFIERS else None
        before = t - 1 if intensifier is None else t - 2
        negation = before if before >= 0 and tokens[before] == NEGATION else None
        phrases.append(Phrase(
            word=t, valence=valences[token], negation=negation, intensifier=intensifier,
            intensity=INTENSIFIERS[tokens[intensifier]] if intensifier is not None else Fraction(1),
            contrast=contrast, weight=CONTRAST_WEIGHTS[t > contrast] if contrast is not None else Fraction(1),
        ))
    return tuple(phrases)


def sentence_score(tokens) -> Fraction:
    """``S = Σ_j c_j n_j m_j v(w_j)``, exact (see the module docstring)."""
    return _score(_tokens(tokens))


@lru_cache(maxsize=2 ** 16)
def _score(tokens: tuple[str, ...]) -> Fraction:
    return sum((phrase.score() for phrase in _parse(tokens)), Fraction(0))


def sentence_label(tokens) -> int:
    """1 (positive) if ``S > 0``, else 0 (negative)."""
    return int(sentence_score(tokens) > 0)


def _product_shapley(factors: list[tuple[int, Fraction, Fraction]]) -> list[Fraction]:
    """Exact Shapley values of the players of ``Π_i x_i``, where player ``i`` switches its factor
    from ``absent_i`` to ``present_i`` (eq. 18 over the ``k ≤ 4`` players, in fractions)."""
    k = len(factors)
    values = []
    for i, (_, present_i, absent_i) in enumerate(factors):
        others = [f for j, f in enumerate(factors) if j != i]
        value = Fraction(0)
        for size in range(k):
            weight = Fraction(factorial(size) * factorial(k - size - 1), factorial(k))
            for joined in combinations(range(k - 1), size):
                product = present_i - absent_i
                for j, (_, present, absent) in enumerate(others):
                    product *= present if j in joined else absent
                value += weight * product
        values.append(value)
    return values


def true_contributions(tokens, convention: str = "word") -> list[Fraction]:
    """Each token's true contribution ``g_t`` to the score, exact; ``Σ_t g_t = S``.

    ``convention="word"``: the phrase's ``s_j`` on its sentiment word, 0 elsewhere;
    ``"shapley"``: the Shapley values of the rule as a game between the tokens (module docstring).
    """
    if convention not in CONVENTIONS:
        raise ValueError(f"convention must be one of {CONVENTIONS}, got {convention!r}")
    tokens = _tokens(tokens)
    contributions = [Fraction(0)] * len(tokens)
    for phrase in parse_phrases(tokens):
        if convention == "word":
            contributions[phrase.word] += phrase.score()
        else:
            factors = phrase.factors()
            for (position, _, _), value in zip(factors, _product_shapley(factors)):
                contributions[position] += value
    return contributions


def token_tags(tokens) -> list[int]:
    """The per-step labels, indices into :data:`TAGS`: each sentiment word's polarity in context,
    ``sign(n_j v(w_j))``, and neutral for every other token."""
    tokens = _tokens(tokens)
    tags = [TAGS.index("neutral")] * len(tokens)
    for phrase in parse_phrases(tokens):
        negated = phrase.negation is not None
        tags[phrase.word] = TAGS.index("positive" if (phrase.valence > 0) != negated else "negative")
    return tags


def _tokens(tokens) -> tuple[str, ...]:
    return tuple(tokens.split()) if isinstance(tokens, str) else tuple(tokens)


# --- the grammar ----------------------------------------------------------------------------------

def _phrase(rng: random.Random, positive: list[str], negative: list[str]) -> list[str]:
    words = []
    if rng.random() < P_NEGATION:
        words.append(NEGATION)
    draw = rng.random()
    if draw < P_VERY:
        words.append("very")
    elif draw < P_VERY + P_SLIGHTLY:
        words.append("slightly")
    words.append(rng.choice(positive if rng.random() < 0.5 else negative))
    return words


def _clause(rng: random.Random, positive, negative, elliptic: bool) -> list[str]:
    words = []
    if not elliptic:
        words += [rng.choice(PRONOUNS)] if rng.random() < P_PRONOUN else [ARTICLE, rng.choice(NOUNS)]
        words.append(rng.choice(VERBS))
    words += _phrase(rng, positive, negative)
    if rng.random() < P_SECOND_PHRASE:
        words += [CONJUNCTION, *_phrase(rng, positive, negative)]
    return words


def generate_sentence(rng: random.Random) -> tuple[str, ...]:
    """One sentence from the grammar, drawn with ``rng`` (a ``random.Random``):

        sentence := [i thought] clause [but clause']
        clause   := subject verb phrase [and phrase]      subject := it | this | the NOUN
        clause'  := clause, or without subject and verb (p = 1/2)
        phrase   := [not] [very | slightly] ADJECTIVE      (positive or negative, p = 1/2)

    redrawn until it has 3–14 tokens and ``|S| ≥`` :data:`MARGIN`.
    """
    positive, negative = _polar_words()
    while True:
        words = [*OPENER] if rng.random() < P_OPENER else []
        words += _clause(rng, positive, negative, elliptic=False)
        if rng.random() < P_CONTRAST:
            words += [CONTRAST, *_clause(rng, positive, negative, elliptic=rng.random() < P_ELLIPSIS)]
        if MIN_TOKENS <= len(words) <= MAX_TOKENS and abs(sentence_score(words)) >= MARGIN:
            return tuple(words)


def generate_sentences(count: int, seed: int = 0) -> list[tuple[str, ...]]:
    """``count`` distinct sentences, drawn until there are ``count`` and then shuffled (so that any
    cut into train and test splits them alike), all from Python's ``random.Random(seed)``: the same
    on every machine and Python version."""
    if not (isinstance(count, int) and count >= 1):
        raise ValueError(f"count must be a positive int, got {count!r}")
    rng = random.Random(seed)
    seen, sentences = set(), []
    while len(sentences) < count:
        sentence = generate_sentence(rng)
        if sentence not in seen:
            seen.add(sentence)
            sentences.append(sentence)
    rng.shuffle(sentences)
    return sentences


# --- the data set -------------------------------------------------------------------------------

@dataclass
class TextSplit:
    """Sentences and everything the models and the tests need from them, padded to ``T`` (the
    longest sentence of the split).

    Attributes:
        sentences: the token tuples (B of them).
        ids: token ids (B, T), long, padded with ``pad_id`` 0; lengths: (B,), long.
        scores: ``S`` of each sentence (B,), float64; labels: (B,), long, 1 where ``S > 0``.
        tags: per-step labels (B, T), long, :data:`TAG_PAD` at padded steps.
    """

    sentences: list[tuple[str, ...]]
    ids: torch.Tensor
    lengths: torch.Tensor
    scores: torch.Tensor
    labels: torch.Tensor
    tags: torch.Tensor
    _contributions: dict = field(default_factory=dict, repr=False)

    @classmethod
    def from_sentences(cls, sentences, vocabulary: Vocabulary) -> "TextSplit":
        sentences = [_tokens(sentence) for sentence in sentences]
        ids, lengths = vocabulary.pad_batch(sentences)
        scores = torch.tensor([float(sentence_score(s)) for s in sentences], dtype=torch.float64)
        tags = torch.full_like(ids, TAG_PAD)
        for b, sentence in enumerate(sentences):
            tags[b, :len(sentence)] = torch.tensor(token_tags(sentence))
        return cls(sentences, ids, lengths, scores, (scores > 0).long(), tags)

    def __len__(self) -> int:
        return len(self.sentences)

    def contributions(self, convention: str = "word") -> torch.Tensor:
        """The true contributions ``g`` (B, T), float64, 0 at padded steps (see
        :func:`true_contributions`); each row sums to the score up to one rounding per entry."""
        if convention not in self._contributions:
            table = torch.zeros(self.ids.shape, dtype=torch.float64)
            for b, sentence in enumerate(self.sentences):
                table[b, :len(sentence)] = torch.tensor([float(g) for g in true_contributions(sentence, convention)],
                                                        dtype=torch.float64)
            self._contributions[convention] = table
        return self._contributions[convention]

    def subset(self, index) -> "TextSplit":
        """The rows ``index`` (a list or tensor of row numbers), padded to their own longest."""
        index = torch.as_tensor(index).long().reshape(-1)
        steps = int(self.lengths[index].max())
        return TextSplit([self.sentences[i] for i in index.tolist()], self.ids[index, :steps],
                         self.lengths[index], self.scores[index], self.labels[index], self.tags[index, :steps])


@dataclass
class SentimentData:
    """The train and test splits and the vocabulary (see :func:`sentiment_data`)."""

    train: TextSplit
    test: TextSplit
    vocabulary: Vocabulary
    seed: int


def sentiment_data(n_train: int = 12000, n_test: int = 1000, seed: int = 0) -> SentimentData:
    """Draw ``n_train + n_test`` distinct sentences with :func:`generate_sentences` (seeded), and
    split them into train and test (the first ``n_train`` of the seeded order are the training set;
    no sentence is in both). Deterministic given the arguments; the defaults are the data the saved
    models were trained and tested on (a few seconds: the rule is computed in exact fractions)."""
    sentences = generate_sentences(n_train + n_test, seed)
    vocabulary = sentiment_vocabulary()
    return SentimentData(TextSplit.from_sentences(sentences[:n_train], vocabulary),
                         TextSplit.from_sentences(sentences[n_train:], vocabulary), vocabulary, seed)
