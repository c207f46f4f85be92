"""Rate limits with the ``limits`` library: moving windows in Redis when configured, in process memory otherwise."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage, RedisStorage, Storage
from limits.strategies import MovingWindowRateLimiter

from platform_api.core.config import PlatformSettings
from platform_api.core.errors import RateLimited

MESSAGES = {
    "login": "Trop de tentatives de connexion : réessaie dans {s} secondes.",
    "register": "Trop d'inscriptions depuis cette connexion : réessaie dans {s} secondes.",
    "chat": "Tu as posé beaucoup de questions à ARIA : réessaie dans {s} secondes.",
    "api": "Trop de requêtes : réessaie dans {s} secondes.",
    "search": "Trop de recherches depuis cette connexion : réessaie dans {s} secondes.",
}


@dataclass(frozen=True)
class Rule:
    name: str
    item: RateLimitItem


class RateLimiter:
    """Named rules (login, register, api, chat, search) checked per key (client address or user id).

    Args:
        settings: the limits and where to keep counters.
        storage: a ``limits`` storage (built from ``settings.redis_url`` otherwise).
    """

    def __init__(self, settings: PlatformSettings, storage: Storage | None = None) -> None:
        self.enabled = settings.rate_limits_enabled
        if storage is None:
            storage = (
                RedisStorage(settings.redis_url, key_prefix=f"{settings.redis_prefix}:limits")
                if settings.redis_url
                else MemoryStorage()
            )
        self.storage = storage
        self.strategy = MovingWindowRateLimiter(storage)
        self.rules = {
            "login": Rule("login", parse(settings.rate_limit_login)),
            "register": Rule("register", parse(settings.rate_limit_register)),
            "api": Rule("api", parse(settings.rate_limit_api)),
            "chat": Rule("chat", parse(settings.rate_limit_chat)),
            "search": Rule("search", parse(settings.rate_limit_search)),
        }

    def hit(self, rule_name: str, key: str) -> None:
        """Count one request; raise :class:`RateLimited` (429, Retry-After, French message) past the limit."""
        if not self.enabled:
            return
        rule = self.rules[rule_name]
        if self.strategy.hit(rule.item, rule_name, key):
            return
        stats = self.strategy.get_window_stats(rule.item, rule_name, key)
        retry = max(1, math.ceil(stats.reset_time - time.time()))
        raise RateLimited(retry, MESSAGES[rule_name].format(s=retry))

    def forget(self, key: str) -> None:
        """Drop every counter of one key (an erased user's ``user:<id>``: Redis keys named after them)."""
        for rule in self.rules.values():
            self.strategy.clear(rule.item, rule.name, key)

    def reset(self) -> None:
        self.storage.reset()

    def check_storage(self) -> bool:
        return bool(self.storage.check())
