"""Teaching helpers: printed checks for the notebooks, the hand-set counters (an LSTM and a GRU) and (with the
``notebooks`` extra) the chapter-7 widgets. The engine never imports this subpackage."""
