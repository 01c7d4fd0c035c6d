"""Technical indicators over float64 numpy arrays, vectorised."""
