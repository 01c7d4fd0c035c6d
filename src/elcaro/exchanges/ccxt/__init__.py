"""What the ccxt-backed adapters share: the base adapter, error translation, exact numbers, URL moves."""

from elcaro.exchanges.ccxt.adapter import CcxtAdapter
from elcaro.exchanges.ccxt.errors import VenueErrors, translate, translating

__all__ = ["CcxtAdapter", "VenueErrors", "translate", "translating"]
