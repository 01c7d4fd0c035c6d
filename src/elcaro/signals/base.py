"""What every message format parser is: a cheap gate, a decisive shape, and a reader."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from elcaro.models import Signal, SignalCancel, SignalSource
from elcaro.models.errors import InvalidSignalError
from elcaro.signals.message import MAX_MESSAGE_CHARS, Message
from elcaro.signals.result import ParseResult


class FormatParser(ABC):
    """One message format.

    A parser *recognises* a message when the message has the format's shape (its header, its
    layout), and *claims* it when no other format that could also be meant recognises it: then
    ``read`` returns the signal or raises ``InvalidSignalError`` with the reason an admin will see.
    Two kinds of other formats: ``rivals``, formats of the same rank (a post with the headers of
    two self-announcing formats is nobody's: the registry refuses it as ambiguous), and
    ``defers_to``, more specific formats a catch-all gives way to (they come first in a registry).
    """

    name: str
    keywords: ClassVar[tuple[str, ...]] = ()
    """Case-folded strings of which a message of this format contains at least one: a substring
    test that rules most messages out before the format's line patterns run."""

    def __init__(self, defers_to: tuple[FormatParser, ...] = ()) -> None:
        self.defers_to = defers_to
        self.rivals: tuple[FormatParser, ...] = ()

    def gate(self, message: Message) -> bool:
        # A plain loop: ``any()`` over a generator costs more than the substring tests themselves.
        folded = message.folded
        for word in self.keywords:
            if word in folded:
                return True
        return not self.keywords

    @abstractmethod
    def shape(self, message: Message) -> bool:
        """Whether the message has this format's layout (regular expressions; after the gate)."""

    @abstractmethod
    def read(self, message: Message, source: SignalSource, received_at: int) -> Signal | SignalCancel:
        """The signal of a recognised message; ``InvalidSignalError`` when it is inconsistent."""

    def recognises(self, message: Message) -> bool:
        return self.gate(message) and self.shape(message)

    def claims(self, message: Message) -> bool:
        others = (*self.rivals, *self.defers_to)
        return self.recognises(message) and not any(other.recognises(message) for other in others)

    def attempt(self, message: Message, source: SignalSource, received_at: int = 0) -> ParseResult | None:
        """The outcome when this parser recognises the message, ``None`` when it does not.

        Formats it defers to are not asked (a registry has asked them first); a rival that also
        recognises the message makes it ambiguous, which is a rejection, not a choice.
        """
        if not self.recognises(message):
            return None
        rival = next((other for other in self.rivals if other.recognises(message)), None)
        if rival is not None:
            reason = f"the post has the shape of both {self.name} and {rival.name}: refusing to pick one"
            return ParseResult.rejected(self.name, InvalidSignalError(reason))
        try:
            return ParseResult.of(self.name, self.read(message, source, received_at))
        except InvalidSignalError as error:
            return ParseResult.rejected(self.name, error)

    def parse(self, text: str, source: SignalSource, *, received_at: int = 0) -> Signal | SignalCancel | None:
        """``None`` when ``text`` is not this format; raises ``InvalidSignalError`` when it is but fails."""
        if len(text) > MAX_MESSAGE_CHARS:
            return None
        message = Message(text)
        return self.read(message, source, received_at) if self.claims(message) else None
