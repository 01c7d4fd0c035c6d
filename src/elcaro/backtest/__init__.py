"""The backtester: the strategy's own rules replayed over recorded candles with a documented fill model."""
