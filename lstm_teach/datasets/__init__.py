"""Data that ships with the series, nothing downloaded: the sunspot case study (chapter 8), the
sentences of chapter 9 (built from the VADER lexicon inside the vaderSentiment wheel), and the
trained weights of both."""
