"""Counters in Redis: shared by every host (``CALLGUARD_REDIS_URL``).

A batch is one write of every command and one read of every reply: one round trip. The operations that must check and change at once
(``Admit``) is a Lua script, which Redis runs atomically; it is loaded once and called by hash
(redis-py's own scripts-in-pipelines would ask ``SCRIPT EXISTS`` on every batch, a second round
trip). Every key has a TTL, so nothing outlives its window. Time always
comes from the caller (``now``), never from Redis's clock; TTLs only collect garbage.

Connection and read timeouts are short (50 ms by default): a Redis outage costs a call one
short wait and a :class:`~callguard.errors.StoreUnavailable`, and the fail mode decides. With a
``breaker`` (:class:`~callguard.breaker.CircuitBreaker`, shared with the change publisher: one
per Redis) it costs one wait per cool-off, not one per call: a connection refused, lost or
timed out opens it, and while it is open the counters are not asked.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import redis
from redis.exceptions import NoScriptError, RedisError, ResponseError

from ..breaker import CircuitBreaker
from ..errors import StoreUnavailable
from ..traffic.counters import (
    Admit,
    AdmitResult,
    ClearFlag,
    CounterBackend,
    GetFlag,
    Index,
    Op,
    OutcomeStats,
    ReadIndex,
    ReadTallies,
    RecordOutcome,
    Release,
    Reset,
    SetFlag,
    Tally,
    Unhit,
)
from ._fast import ThreadConnection

# KEYS: flags..., windows..., gauges...   ARGV: now, member, event, #flags, #windows, #gauges,
# record (1, or 0 for a what-if), then (window, limit) per window key, then (ttl, limit) per gauge key.
# Returns {admitted, window counts..., gauge counts..., flag values (or false)..., joined (1/0) per gauge...}.
_ADMIT = """
local now, member, event = tonumber(ARGV[1]), ARGV[2], ARGV[3]
local nf, nw, ng = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local record = ARGV[7] == '1'
local admitted = 1
local out = {0}
if nf > 0 then
  local values = redis.call('MGET', unpack(KEYS, 1, nf))
  for i = 1, nf do
    local value = values[i]
    local until_at = value and tonumber(string.match(value, '^([^|]+)'))
    if until_at and until_at > now then admitted = 0 else value = false end
    out[1 + nw + ng + i] = value
  end
end
for i = 1, nw do
  local key, window, limit = KEYS[nf + i], tonumber(ARGV[6 + 2 * i]), tonumber(ARGV[7 + 2 * i])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local count = redis.call('ZCARD', key)
  if count >= limit then admitted = 0 end
  out[1 + i] = count
end
local base = 7 + 2 * nw
local present = {}
for i = 1, ng do
  local key, limit = KEYS[nf + nw + i], tonumber(ARGV[base + 2 * i])
  local count = redis.call('ZCARD', key)
  if count >= limit then
    -- members whose end was never reported matter only once the gauge looks full
    redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
    count = redis.call('ZCARD', key)
  end
  present[i] = redis.call('ZSCORE', key, member) ~= false
  if not present[i] and count >= limit then admitted = 0 end
  out[1 + nw + i] = count
end
local recorded = admitted == 1 and record
if recorded then
  for i = 1, nw do
    local key = KEYS[nf + i]
    redis.call('ZADD', key, now, event)
    redis.call('EXPIRE', key, math.ceil(tonumber(ARGV[6 + 2 * i])) + 1)
  end
  for i = 1, ng do
    local key, ttl = KEYS[nf + nw + i], tonumber(ARGV[base + 2 * i - 1])
    redis.call('ZADD', key, now + ttl, member)
    redis.call('EXPIRE', key, math.ceil(ttl) + 1)
  end
end
out[1] = admitted
for i = 1, ng do out[1 + nw + ng + nf + i] = (recorded and not present[i]) and 1 or 0 end
return out
"""

def _seconds(value: float) -> int:
    return max(1, math.ceil(value))


def _flag(value: bytes | None, now: float) -> tuple[float, str] | None:
    """A stored flag ("until|reason") as (until, reason), or None once expired."""
    if value is None:
        return None
    until, reason = value.decode().split("|", 1)
    return (float(until), reason) if float(until) > now else None


Command = tuple[Any, ...]


class RedisCounters(CounterBackend):
    name = "redis"

    def __init__(self, url: str, *, prefix: str = "callguard:", timeout: float = 0.05, breaker: CircuitBreaker | None = None) -> None:
        self.prefix = prefix
        self.breaker = breaker or CircuitBreaker("redis")
        self.client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout, retry_on_timeout=False)
        self._shas: dict[str, str] = {}
        self._connection = ThreadConnection(self.client)  # the call path's commands: see store._fast

    def _fail(self, exc: Exception, operation: str) -> StoreUnavailable:
        if not isinstance(exc, ResponseError):  # Redis answered (an error reply): it is there
            self.breaker.failed()
        return StoreUnavailable(str(exc) or type(exc).__name__, backend="redis", operation=operation)

    def _admit(self, operation: str) -> None:
        if not self.breaker.allow():
            raise StoreUnavailable(f"not answering; asked again in {self.breaker.retry_in():.1f} s", backend="redis", operation=operation)

    def _load_scripts(self) -> None:
        self._shas = {"admit": self.client.script_load(_ADMIT)}

    def ping(self) -> None:
        try:
            self.client.ping()
        except RedisError as exc:
            raise self._fail(exc, "ping") from exc
        self.breaker.succeeded()

    def run(self, ops: Sequence[Op], now: float) -> list[Any]:
        self._admit("counters batch")
        try:
            if not self._shas:
                self._load_scripts()
            try:
                replies = self._execute(ops, now)
            except NoScriptError:  # Redis restarted or flushed its scripts
                self._load_scripts()
                replies = self._execute(ops, now)
        except (RedisError, OSError) as exc:
            raise self._fail(exc, "counters batch") from exc
        self.breaker.succeeded()
        return [self._result(op, value, now) for op, value in zip(ops, replies, strict=True)]

    def admit(self, op: Admit, now: float) -> AdmitResult:
        # The call path: one script call, without run()'s general batch.
        self._admit("counters batch")
        try:
            if not self._shas:
                self._load_scripts()
            try:
                (command,) = self._commands(op, now)
                reply = self._connection.execute(command)
            except NoScriptError:  # Redis restarted or flushed its scripts
                self._load_scripts()
                (command,) = self._commands(op, now)
                reply = self._connection.execute(command)
        except (RedisError, OSError) as exc:
            raise self._fail(exc, "counters batch") from exc
        self.breaker.succeeded()
        return self._result(op, reply, now)

    def _execute(self, ops: Sequence[Op], now: float) -> list[Any]:
        """Send every operation's commands in one write, read every reply: one round trip.

        An operation's result is its first command's reply (None for an operation that needs no
        command); the commands after it only maintain keys (trim, expire)."""
        per_op = [self._commands(op, now) for op in ops]
        commands = [command for group in per_op for command in group]
        replies = self._connection.execute_many(commands) if commands else []
        errors = [r for r in replies if isinstance(r, ResponseError)]
        if errors:
            raise next((e for e in errors if isinstance(e, NoScriptError)), errors[0])
        results, index = [], 0
        for group in per_op:
            results.append(replies[index] if group else None)
            index += len(group)
        return results

    def _commands(self, op: Op, now: float) -> list[Command]:
        if isinstance(op, Admit):
            keys = [self.prefix + k for k in op.flags] + [self.prefix + w[0] for w in op.windows] + [self.prefix + g[0] for g in op.gauges]
            args: list[Any] = [repr(now), op.member, op.event, len(op.flags), len(op.windows), len(op.gauges), 1 if op.record else 0]
            for _, window, limit in op.windows:
                args += [repr(window), limit]
            for _, ttl, limit in op.gauges:
                args += [repr(ttl), limit]
            return [("EVALSHA", self._shas["admit"], len(keys), *keys, *args)]
        key = self.prefix + op.key
        if isinstance(op, Unhit):
            return [("ZREM", key, op.event)]
        if isinstance(op, Release):
            return [("ZREM", key, op.member)]
        if isinstance(op, RecordOutcome):
            return [
                ("LPUSH", key, f"{now!r}|{int(op.answered)}|{op.duration!r}"),
                ("LTRIM", key, 0, op.keep - 1),
                ("EXPIRE", key, _seconds(op.ttl)),
            ]
        if isinstance(op, OutcomeStats):
            return [("LRANGE", key, 0, op.last - 1)]
        if isinstance(op, SetFlag):
            return [("SET", key, f"{op.until!r}|{op.reason}", "EX", _seconds(op.until - now) + 1)]
        if isinstance(op, GetFlag):
            return [("GET", key)]
        if isinstance(op, ClearFlag):
            return [("GETDEL", key)]
        if isinstance(op, Reset):
            return [("DEL", key)]
        if isinstance(op, Tally):
            return [("HINCRBY", key, str(op.bucket), op.amount), ("EXPIRE", key, _seconds(op.ttl))]
        if isinstance(op, ReadTallies):
            return [("HMGET", key, *(str(b) for b in op.buckets))] if op.buckets else []
        if isinstance(op, Index):
            return [("ZADD", key, repr(now + op.ttl), op.member), ("EXPIRE", key, _seconds(op.ttl))]
        if isinstance(op, ReadIndex):
            return [("ZRANGEBYSCORE", key, f"({now!r}", "+inf")]
        raise TypeError(f"unknown counter operation {op!r}")

    def _result(self, op: Op, value: Any, now: float) -> Any:
        if isinstance(op, Admit):
            nw, ng = len(op.windows), len(op.gauges)
            # The script returned each flag in force (false for none); now was checked there.
            nf = len(op.flags)
            flags = tuple(_flag(raw, float("-inf")) if raw else None for raw in value[1 + nw + ng : 1 + nw + ng + nf])
            joined = tuple(bool(v) for v in value[1 + nw + ng + nf :])
            windows = tuple(int(v) for v in value[1 : 1 + nw])
            return AdmitResult(bool(value[0]), windows, tuple(int(v) for v in value[1 + nw : 1 + nw + ng]), flags, joined)
        if isinstance(op, OutcomeStats):
            attempts = answered = 0
            seconds = 0.0
            for entry in value:
                at, was_answered, duration = entry.decode().split("|")
                if float(at) <= now - op.window:
                    break  # newest first: the rest is older still
                attempts += 1
                if was_answered == "1":
                    answered += 1
                    seconds += float(duration)
            return attempts, answered, seconds
        if isinstance(op, GetFlag):
            return _flag(value, now)
        if isinstance(op, ClearFlag):
            return _flag(value, now) is not None
        if isinstance(op, Tally):
            return int(value)
        if isinstance(op, ReadTallies):
            if not op.buckets:
                return {}
            return {b: int(v) for b, v in zip(op.buckets, value, strict=True) if v is not None}
        if isinstance(op, ReadIndex):
            return sorted(m.decode() for m in value)
        return None

    def close(self) -> None:
        self._connection.close()
        self.client.close()
