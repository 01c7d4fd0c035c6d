"""The licence question copy trading asks before any order; the accounts layer answers it.

``LicencePolicy`` is the seam: the accounts issue implements it from users' licences (tiers ×
periods, promo codes). Until then ``ALLOW_ALL`` is the policy, and it is permissive on purpose:
every approved user may copy every strategy on every target.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from elcaro.models import Target


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reason: str = ""
    """Why not, for the user (which licence would allow it)."""


class LicencePolicy(Protocol):
    def allows(self, user_id: int, strategy: str, target: Target) -> Decision: ...


class AllowAll:
    """Permissive default: nothing is licensed yet, so nothing is refused for want of a licence."""

    def allows(self, user_id: int, strategy: str, target: Target) -> Decision:
        return Decision(allowed=True)


ALLOW_ALL = AllowAll()
