"""HyperLiquid: the adapter and the pieces of it that replace slow parts of ccxt."""
