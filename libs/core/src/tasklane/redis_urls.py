"""Redis connections from Tasklane's URLs, a single Redis or a Sentinel set alike.

Celery's broker and result backend (kombu) take a Sentinel set as ``sentinel://[:password@]host:port`` URLs
joined by ``;`` (optionally ending in ``/db``), plus the master's name as a transport option; RedBeat and
the redis clients Tasklane holds itself (task-finished notices, readiness) need the same set spelled their
own way. This module turns one into the others, with the master name from
``TASKLANE_REDIS_SENTINEL_MASTER``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import redis
import redis.asyncio
from redis.asyncio.sentinel import Sentinel as AsyncSentinel
from redis.sentinel import Sentinel

SENTINEL = "sentinel://"


def is_sentinel(url: str) -> bool:
    return url.startswith(SENTINEL)


@dataclass(frozen=True)
class SentinelSet:
    sentinels: list[tuple[str, int]]
    password: str | None
    db: int


def parse_sentinel(url: str) -> SentinelSet:
    """``sentinel://:pw@host-a:26379;sentinel://:pw@host-b:26379/0`` as its parts."""
    sentinels, password, db = [], None, 0
    for part in url.split(";"):
        split = urlsplit(part.strip())
        if split.scheme != "sentinel" or not split.hostname:
            raise ValueError(f"not a sentinel:// URL: {part.strip()!r}")
        sentinels.append((split.hostname, split.port or 26379))
        password = unquote(split.password) if split.password else password
        if split.path.strip("/"):
            db = int(split.path.strip("/"))
    return SentinelSet(sentinels, password, db)


def transport_options(url: str, master: str | None) -> dict[str, Any]:
    """The kombu transport options ``url`` needs: the master's name for a Sentinel set."""
    return {"master_name": master} if is_sentinel(url) else {}


def redbeat_options(url: str, master: str | None) -> tuple[str, dict[str, Any]]:
    """RedBeat's ``(redbeat_redis_url, redbeat_redis_options)`` for ``url``."""
    if not is_sentinel(url):
        return url, {}
    found = parse_sentinel(url)
    return "redis-sentinel://", {
        "sentinels": found.sentinels,
        "service_name": master,
        "db": found.db,
        "password": found.password,
    }


def _timeouts(options: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in options.items() if "timeout" in key}


def client(url: str, master: str | None, **options: Any) -> redis.Redis:
    """A client of the Redis at ``url``: the current master, for a Sentinel set."""
    if not is_sentinel(url):
        return redis.Redis.from_url(url, **options)
    found = parse_sentinel(url)
    sentinel = Sentinel(found.sentinels, sentinel_kwargs=_timeouts(options))  # type: ignore[no-untyped-call]
    master_client: redis.Redis = sentinel.master_for(  # type: ignore[no-untyped-call]
        str(master), password=found.password, db=found.db, **options
    )
    return master_client


def async_client(url: str, master: str | None, **options: Any) -> redis.asyncio.Redis:
    """``client`` for asyncio code."""
    if not is_sentinel(url):
        return redis.asyncio.Redis.from_url(url, **options)
    found = parse_sentinel(url)
    sentinel = AsyncSentinel(found.sentinels, sentinel_kwargs=_timeouts(options))  # type: ignore[no-untyped-call]
    master_client: redis.asyncio.Redis = sentinel.master_for(
        str(master), password=found.password, db=found.db, **options
    )
    return master_client
