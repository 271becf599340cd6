"""A Redis ticket lock that keeps one conversation's turns in order across Rasa servers.

Why not Rasa 3.6's `RedisLockStore`: it issues a ticket by GET, modify in Python, SET. Two
servers that take a ticket for the same conversation at the same moment both read the same
lock, both hand out the same ticket number and one SET overwrites the other, so both turns
run at once (duplicated or interleaved events in the tracker store); its `cleanup` can also
DEL a lock that another server has just added a ticket to. Waiters poll once a second, so a
user who sends two messages quickly waits about a second for the second reply. Rasa added
a `ConcurrentRedisLockStore` (RasaHQ/rasa#11256) and reverted it (#11428) before 3.6.

Here every change to a conversation's lock is one Lua script, run atomically by Redis:
tickets are numbered by INCR, held in a sorted set (score = ticket number, so the lowest
live ticket is served), expire by Redis server time (no clock skew between machines), and
the lock's keys are deleted only in the same script that removes its last ticket. Waiters
poll with a short back-off (5 ms doubling to 20 ms) on the asyncio Redis client, so the
event loop never blocks on Redis.

Configure it in an endpoints file (see deploy/endpoints.multi.yml):

    lock_store:
      type: bot.lock_store.AtomicRedisLockStore
      url: ${PATHFINDER_REDIS_URL}        # redis://host:6379/1
      key_prefix: pathfinder              # optional
"""
from __future__ import annotations

import asyncio
import logging
import weakref
from contextlib import asynccontextmanager
from typing import AsyncIterator, List, Optional, Tuple
from urllib.parse import urlsplit, urlunsplit

import redis
import redis.asyncio as aioredis
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, LockStore
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)

DEFAULT_URL = "redis://localhost:6379/1"
FIRST_POLL_SECONDS = 0.005
MAX_POLL_SECONDS = 0.02

# Server time in seconds (float); Redis 5+ replicates script effects, so TIME is allowed.
_NOW = "local t = redis.call('TIME') local now = tonumber(t[1]) + tonumber(t[2]) / 1000000 "

# Drop expired tickets (member "number:expiry") and return the lowest live ticket number.
_PRUNE = _NOW + """
local first = -1
local alive = 0
for _, member in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  local number, expiry = string.match(member, '^(%d+):(.+)$')
  if tonumber(expiry) <= now then
    redis.call('ZREM', KEYS[2], member)
  else
    if first == -1 then first = tonumber(number) end
    if tonumber(number) == tonumber(ARGV[1]) then alive = 1 end
  end
end
"""

# KEYS: counter, tickets. ARGV: -1, lifetime (s). Returns {the new ticket number, lowest live
# ticket before it or -1} (-1: no one else holds or waits, so the new ticket is served now).
ISSUE_SCRIPT = _PRUNE + """
local number = redis.call('INCR', KEYS[1])
local lifetime = tonumber(ARGV[2])
redis.call('ZADD', KEYS[2], number, number .. ':' .. string.format('%.6f', now + lifetime))
local ttl = math.ceil(lifetime * 1000) + 5000
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
return {number, first}
"""

# KEYS: counter, tickets. ARGV: my ticket. Returns {lowest live ticket or -1, 1 if mine is live}.
SERVING_SCRIPT = _PRUNE + """
return {first, alive}
"""

# KEYS: counter, tickets. ARGV: my ticket. Removes it; deletes the lock when no ticket is left.
RELEASE_SCRIPT = """
redis.call('ZREMRANGEBYSCORE', KEYS[2], ARGV[1], ARGV[1])
if redis.call('ZCARD', KEYS[2]) == 0 then
  redis.call('DEL', KEYS[1], KEYS[2])
  return 1
end
return 0
"""


def redacted(url: str) -> str:
    """The URL without its password, for error messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class AtomicRedisLockStore(LockStore):
    """Ticket lock per conversation in Redis, safe for several Rasa servers at once."""

    def __init__(
        self,
        endpoint_config: Optional[EndpointConfig] = None,
        url: Optional[str] = None,
        key_prefix: Optional[str] = None,
        max_poll_seconds: Optional[float] = None,
    ) -> None:
        kwargs = dict(endpoint_config.kwargs) if endpoint_config else {}
        self.url = url or (endpoint_config.url if endpoint_config else None) or DEFAULT_URL
        prefix = key_prefix or kwargs.get("key_prefix") or "pathfinder"
        if not str(prefix).isalnum():
            raise ValueError(f"lock store key_prefix must be letters and digits, got {prefix!r}")
        self.key_prefix = f"{prefix}:lock:"
        self.max_poll_seconds = float(max_poll_seconds or kwargs.get("max_poll_seconds") or MAX_POLL_SECONDS)
        # Fail at start-up, with the URL in the message, rather than on the first message.
        try:
            with redis.Redis.from_url(self.url, socket_timeout=5) as client:
                client.ping()
        except redis.RedisError as error:
            raise LockError(f"cannot reach the Redis lock store at {redacted(self.url)}: {error}") from error
        self._clients: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aioredis.Redis]" = weakref.WeakKeyDictionary()
        super().__init__()

    # ---- keys and the Redis client --------------------------------------------------
    def _keys(self, conversation_id: str) -> List[str]:
        """Counter and ticket set; the {hash tag} keeps both in one Redis Cluster slot."""
        base = f"{self.key_prefix}{{{conversation_id}}}"
        return [f"{base}:issued", f"{base}:tickets"]

    def _redis(self) -> aioredis.Redis:
        """One asyncio client per event loop (a client's connections belong to one loop)."""
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            client = self._clients[loop] = aioredis.Redis.from_url(self.url, socket_timeout=10)
        return client

    async def _run(self, script: str, conversation_id: str, *args: object):
        return await self._redis().eval(script, 2, *self._keys(conversation_id), *args)

    # ---- the ticket lock ------------------------------------------------------------
    async def _issue(self, conversation_id: str, lock_lifetime: float) -> Tuple[int, bool]:
        """A new ticket and whether it is served at once (no other live ticket)."""
        number, first = await self._run(ISSUE_SCRIPT, conversation_id, -1, lock_lifetime)
        return int(number), int(first) == -1

    async def issue_ticket_async(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        """Take the next ticket for the conversation (atomic: no two callers get one number)."""
        return (await self._issue(conversation_id, lock_lifetime))[0]

    async def serving(self, conversation_id: str, ticket: int) -> Tuple[int, bool]:
        """The ticket now served (-1 if none) and whether `ticket` is still live."""
        first, alive = await self._run(SERVING_SCRIPT, conversation_id, ticket)
        return int(first), bool(alive)

    async def release(self, conversation_id: str, ticket: int) -> None:
        """Give the lock to the next ticket (and delete the lock if no one is waiting)."""
        await self._run(RELEASE_SCRIPT, conversation_id, ticket)

    async def wait_for_turn(self, conversation_id: str, ticket: int) -> None:
        """Poll until `ticket` is served; raise LockError if it expired while waiting."""
        pause = FIRST_POLL_SECONDS
        while True:
            first, alive = await self.serving(conversation_id, ticket)
            if not alive:
                raise LockError(f"ticket {ticket} for conversation '{conversation_id}' expired while waiting")
            if first == ticket:
                return
            await asyncio.sleep(pause)
            pause = min(pause * 2, self.max_poll_seconds)

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: str,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = 1,
    ) -> AsyncIterator[TicketLock]:
        """Hold the conversation's lock for the body (Rasa's interface; `wait_time_in_seconds`
        is ignored on purpose: waiters poll every 5-20 ms instead of every second)."""
        try:
            ticket, served = await self._issue(conversation_id, lock_lifetime)
        except redis.RedisError as error:
            raise LockError(f"could not take a ticket for '{conversation_id}' from {redacted(self.url)}: {error}") from error
        try:
            if not served:  # the usual uncontended turn skips this poll: one Redis round trip less
                await self.wait_for_turn(conversation_id, ticket)
            yield TicketLock(conversation_id)
        finally:
            await self.release(conversation_id, ticket)

    # Rasa's synchronous get-modify-set interface is what this class exists to replace.
    def get_lock(self, conversation_id: str) -> Optional[TicketLock]:
        raise NotImplementedError("AtomicRedisLockStore is used through lock() only")

    def save_lock(self, lock: TicketLock) -> None:
        raise NotImplementedError("AtomicRedisLockStore is used through lock() only")

    def delete_lock(self, conversation_id: str) -> None:
        raise NotImplementedError("AtomicRedisLockStore is used through lock() only")
