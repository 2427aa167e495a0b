"""Data that ships with the series, nothing downloaded: the sunspot case study (chapter 8) and its
trained weights."""
