"""Which fault, if any, a request meets: added latency, an error code, a 5xx, a timeout or a dropped connection.

Every rule draws from random generators of its own, seeded from the config's seed and the rule's position, so a
given sequence of requests meets the same faults in every run, and adding a rule does not change another's draws.
Each rule matching a request adds its latency; the first rule that draws a fault decides it.
"""

from __future__ import annotations

import fnmatch
import math
import random
from dataclasses import dataclass
from enum import StrEnum

from elcaro.exchanges.simulator.config import Apply, FaultConfig, FaultRule, Latency


class FaultKind(StrEnum):
    ERROR = "error"
    HTTP_5XX = "http_5xx"
    TIMEOUT = "timeout"
    DROP = "drop"


@dataclass(frozen=True, slots=True)
class Fault:
    kind: FaultKind
    code: int = 0
    """The retCode of an ERROR, the HTTP status of an HTTP_5XX."""
    apply: Apply = Apply.NEVER
    hold_ms: int = 0


@dataclass(frozen=True, slots=True)
class Plan:
    latency_ms: float
    fault: Fault | None


class _Rule:
    def __init__(self, rule: FaultRule, seed: int, index: int) -> None:
        self.rule = rule
        self._latency = random.Random(f"{seed}:{index}:latency")  # noqa: S311 - repeatable, not secret
        self._fault = random.Random(f"{seed}:{index}:fault")  # noqa: S311

    def matches(self, method: str, path: str) -> bool:
        return (self.rule.method is None or self.rule.method == method) and fnmatch.fnmatchcase(path, self.rule.path)

    def latency_ms(self) -> float:
        latency = self.rule.latency
        return 0.0 if latency is None else _draw(latency, self._latency)

    def fault(self) -> Fault | None:
        rule = self.rule
        point = self._fault.random()
        for code, rate in rule.errors.items():
            if point < rate:
                return Fault(FaultKind.ERROR, code)
            point -= rate
        if point < rule.http_5xx_rate:
            return Fault(FaultKind.HTTP_5XX, rule.http_status)
        point -= rule.http_5xx_rate
        if point < rule.timeout_rate:
            return Fault(FaultKind.TIMEOUT, apply=rule.timeout_apply, hold_ms=rule.hold_ms)
        point -= rule.timeout_rate
        if point < rule.drop_rate:
            return Fault(FaultKind.DROP, apply=rule.drop_apply, hold_ms=rule.hold_ms)
        return None


def _draw(latency: Latency, rng: random.Random) -> float:
    if latency.kind == "fixed":
        return latency.ms
    if latency.kind == "uniform":
        return rng.uniform(latency.ms, latency.high_ms if latency.high_ms is not None else latency.ms)
    return rng.lognormvariate(math.log(max(latency.ms, 1e-3)), latency.sigma)


class Faults:
    def __init__(self, config: FaultConfig) -> None:
        self.config = config
        self._rules = [_Rule(rule, config.seed, index) for index, rule in enumerate(config.rules)]

    def plan(self, method: str, path: str) -> Plan:
        latency = 0.0
        fault: Fault | None = None
        for rule in self._rules:
            if rule.matches(method, path):
                latency += rule.latency_ms()
                drawn = rule.fault()
                fault = fault or drawn
        return Plan(latency, fault)
