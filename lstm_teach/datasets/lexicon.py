"""The sentiment words of chapter 9, with their valence from the VADER lexicon (no download).

The VADER lexicon (Hutto & Gilbert, 2014; MIT licence) lists about 7,500 English tokens, each
rated by ten people on a scale from −4 (extremely negative) to +4 (extremely positive). It ships
inside the ``vaderSentiment`` wheel as ``vader_lexicon.txt``: one token a line, tab-separated

    token    mean valence    standard deviation of the ratings    [the ten ratings]

We read the file from the installed package with :mod:`importlib.resources` (the package's
``__init__`` is empty, so nothing else of it is imported).

Which words. VADER's strongest entries are slang, emoticons and profanity, which we do not want
in a textbook; so the candidates are common adjectives of film reviews, chosen by hand
(:data:`POSITIVE_CANDIDATES`, :data:`NEGATIVE_CANDIDATES`), and the lexicon decides which of them
are used and how much each counts: a candidate is kept when

    |mean valence| ≥ ``min_valence`` (1.5: clearly positive or negative),
    standard deviation of the ratings ≤ ``max_std`` (1.0: the raters agree),

and its sign agrees with the list it is on. Every filler word of the grammar is absent from the
lexicon (VADER: valence 0).
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache

from ..teach.extras import extra

__all__ = [
    "NEGATIVE_CANDIDATES", "POSITIVE_CANDIDATES", "read_vader_lexicon", "sentiment_words",
]

POSITIVE_CANDIDATES = (
    "amazing", "awesome", "beautiful", "brilliant", "charming", "cheerful", "clever", "delightful",
    "elegant", "enjoyable", "entertaining", "excellent", "exciting", "fabulous", "fantastic",
    "fascinating", "fun", "funny", "gentle", "gorgeous", "graceful", "great", "good", "impressive",
    "interesting", "joyful", "lively", "lovely", "magnificent", "marvelous", "nice", "outstanding",
    "perfect", "pleasant", "smart", "splendid", "strong", "superb", "sweet", "wonderful",
)
"""Common positive adjectives of film reviews (candidates; the lexicon filters them)."""

NEGATIVE_CANDIDATES = (
    "angry", "annoying", "bad", "bitter", "careless", "disappointing", "dishonest", "dismal", "dull",
    "dumb", "fake", "flawed", "frustrating", "grim", "harsh", "horrible", "inferior", "irritating",
    "lame", "lousy", "messy", "nasty", "painful", "ridiculous", "sad", "scary", "shameful", "sick",
    "stupid", "terrible", "tired", "ugly", "unhappy", "unpleasant", "upsetting", "useless", "vile",
    "weak",
)
"""Common negative adjectives of film reviews (candidates; the lexicon filters them)."""


@lru_cache(maxsize=1)
def read_vader_lexicon() -> dict[str, tuple[Fraction, Fraction]]:
    """The whole VADER lexicon: token → ``(mean valence, standard deviation)``, both as exact
    fractions of the decimals in the file (so that the scoring rule can add them without rounding).

    Raises ImportError, naming the extra to install, when vaderSentiment is missing.
    """
    from importlib import resources

    with extra("notebooks", "the VADER lexicon of chapter 9"):
        text = resources.files("vaderSentiment").joinpath("vader_lexicon.txt").read_text(encoding="utf-8")
    lexicon = {}
    for line in text.splitlines():
        if line.strip():
            token, mean, std, _ = line.split("\t", 3)
            lexicon[token] = (Fraction(mean), Fraction(std))
    return lexicon


def sentiment_words(min_valence: Fraction | float = Fraction(3, 2),
                    max_std: Fraction | float = Fraction(1)) -> dict[str, Fraction]:
    """The candidates that the lexicon rates clearly and consistently: word → mean valence ``v``
    (a Fraction, −4 ≤ v ≤ 4), sorted by word. See the module docstring for the rule."""
    lexicon = read_vader_lexicon()
    words = {}
    for sign, candidates in ((1, POSITIVE_CANDIDATES), (-1, NEGATIVE_CANDIDATES)):
        for word in candidates:
            if word in lexicon:
                valence, std = lexicon[word]
                if sign * valence >= min_valence and std <= max_std:
                    words[word] = valence
    return dict(sorted(words.items()))
