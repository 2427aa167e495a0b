"""Teaching helpers: printed checks for the notebooks, the hand-set counter LSTM and (with the
``notebooks`` extra) the chapter-7 widgets. The engine never imports this subpackage."""
