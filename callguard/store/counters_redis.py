"""Counters in Redis: shared by every host (``CALLGUARD_REDIS_URL``).

A batch is one pipeline, one round trip. The operations that must check and change at once
(``HitBelow``, ``Acquire``) are Lua scripts, which Redis runs atomically; they are loaded once
and called by hash (redis-py's own scripts-in-pipelines would ask ``SCRIPT EXISTS`` on every
batch, a second round trip). Every key has a TTL, so nothing outlives its window. Time always
comes from the caller (``now``), never from Redis's clock; TTLs only collect garbage.

Connection and read timeouts are short (50 ms by default): a Redis outage costs a call one
short wait and a :class:`~callguard.errors.StoreUnavailable`, and the fail mode decides.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import redis
from redis.exceptions import NoScriptError, RedisError

from ..errors import StoreUnavailable
from .counters import (
    Acquire,
    Admit,
    AdmitResult,
    CounterBackend,
    GetFlag,
    Hit,
    HitBelow,
    Index,
    Op,
    OutcomeStats,
    Peek,
    ReadIndex,
    ReadTallies,
    RecordOutcome,
    Release,
    SetFlag,
    Tally,
    Unhit,
)

_HIT_BELOW = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
local count = redis.call('ZCARD', KEYS[1])
if count >= tonumber(ARGV[3]) then return {0, count} end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2])) + 1)
return {1, count + 1}
"""

# KEYS: flags..., windows..., gauges...   ARGV: now, member, #flags, #windows, #gauges,
# then (window, limit) per window key, then (ttl, limit) per gauge key.
# Returns {admitted, window counts..., gauge counts..., flag values (or false)...}.
_ADMIT = """
local now, member = tonumber(ARGV[1]), ARGV[2]
local nf, nw, ng = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local admitted = 1
local flags, wcounts, gcounts, present = {}, {}, {}, {}
for i = 1, nf do
  local value = redis.call('GET', KEYS[i])
  if value then
    local until_at = tonumber(string.match(value, '^([^|]+)'))
    if until_at and until_at > now then flags[i] = value; admitted = 0 else flags[i] = false end
  else
    flags[i] = false
  end
end
for i = 1, nw do
  local key = KEYS[nf + i]
  local window, limit = tonumber(ARGV[5 + 2 * i - 1]), tonumber(ARGV[5 + 2 * i])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  wcounts[i] = redis.call('ZCARD', key)
  if wcounts[i] >= limit then admitted = 0 end
end
local base = 5 + 2 * nw
for i = 1, ng do
  local key = KEYS[nf + nw + i]
  local limit = tonumber(ARGV[base + 2 * i])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  gcounts[i] = redis.call('ZCARD', key)
  present[i] = redis.call('ZSCORE', key, member) ~= false
  if not present[i] and gcounts[i] >= limit then admitted = 0 end
end
if admitted == 1 then
  for i = 1, nw do
    local key = KEYS[nf + i]
    redis.call('ZADD', key, now, member)
    redis.call('EXPIRE', key, math.ceil(tonumber(ARGV[5 + 2 * i - 1])) + 1)
  end
  for i = 1, ng do
    local key = KEYS[nf + nw + i]
    local ttl = tonumber(ARGV[base + 2 * i - 1])
    redis.call('ZADD', key, now + ttl, member)
    redis.call('EXPIRE', key, math.ceil(ttl) + 1)
  end
end
local out = {admitted}
for i = 1, nw do out[#out + 1] = wcounts[i] end
for i = 1, ng do out[#out + 1] = gcounts[i] end
for i = 1, nf do out[#out + 1] = flags[i] end
return out
"""

_ACQUIRE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local count = redis.call('ZCARD', KEYS[1])
if redis.call('ZSCORE', KEYS[1], ARGV[4]) then return {1, count} end
if count >= tonumber(ARGV[3]) then return {0, count} end
redis.call('ZADD', KEYS[1], tonumber(ARGV[1]) + tonumber(ARGV[2]), ARGV[4])
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2])) + 1)
return {1, count + 1}
"""


def _seconds(value: float) -> int:
    return max(1, math.ceil(value))


class RedisCounters(CounterBackend):
    name = "redis"

    def __init__(self, url: str, *, prefix: str = "callguard:", timeout: float = 0.05) -> None:
        self.prefix = prefix
        self.client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout, retry_on_timeout=False)
        self._shas: dict[str, str] = {}

    def _fail(self, exc: Exception, operation: str) -> StoreUnavailable:
        return StoreUnavailable(str(exc) or type(exc).__name__, backend="redis", operation=operation)

    def _load_scripts(self) -> None:
        scripts = (("admit", _ADMIT), ("hit_below", _HIT_BELOW), ("acquire", _ACQUIRE))
        self._shas = {name: self.client.script_load(source) for name, source in scripts}

    def ping(self) -> None:
        try:
            self.client.ping()
        except RedisError as exc:
            raise self._fail(exc, "ping") from exc

    def run(self, ops: Sequence[Op], now: float) -> list[Any]:
        try:
            if not self._shas:
                self._load_scripts()
            try:
                raw = self._pipeline(ops, now)
            except NoScriptError:  # Redis restarted or flushed its scripts
                self._load_scripts()
                raw = self._pipeline(ops, now)
        except RedisError as exc:
            raise self._fail(exc, "counters batch") from exc
        return [self._result(op, value, now) for op, value in zip(ops, raw)]

    def _pipeline(self, ops: Sequence[Op], now: float) -> list[Any]:
        pipe = self.client.pipeline(transaction=False)
        # An operation's first command's reply is its result; _queue says how many more follow.
        skips = [self._queue(pipe, op, now) for op in ops]
        replies = pipe.execute(raise_on_error=True)
        results, index = [], 0
        for skip in skips:
            results.append(replies[index])
            index += 1 + skip
        return results

    def _queue(self, pipe: Any, op: Op, now: float) -> int:
        if isinstance(op, Admit):
            keys = [self.prefix + k for k in op.flags] + [self.prefix + w[0] for w in op.windows] + [self.prefix + g[0] for g in op.gauges]
            args: list[Any] = [repr(now), op.member, len(op.flags), len(op.windows), len(op.gauges)]
            for _, window, limit in op.windows:
                args += [repr(window), limit]
            for _, ttl, limit in op.gauges:
                args += [repr(ttl), limit]
            pipe.evalsha(self._shas["admit"], len(keys), *keys, *args)
            return 0
        key = self.prefix + op.key
        if isinstance(op, HitBelow):
            pipe.evalsha(self._shas["hit_below"], 1, key, repr(now), repr(op.window), op.limit, op.member)
            return 0
        if isinstance(op, Hit):
            # ZCOUNT over the window, plus this event, is the answer; the other commands follow.
            pipe.zcount(key, f"({now - op.window!r}", "+inf")
            pipe.zadd(key, {op.member: now})
            pipe.zremrangebyscore(key, "-inf", now - op.window)
            pipe.expire(key, _seconds(op.window) + 1)
            return 3
        if isinstance(op, Peek):
            pipe.zcount(key, f"({now - op.window!r}", "+inf")
            return 0
        if isinstance(op, Unhit):
            pipe.zrem(key, op.member)
            return 0
        if isinstance(op, Acquire):
            pipe.evalsha(self._shas["acquire"], 1, key, repr(now), repr(op.ttl), op.limit, op.member)
            return 0
        if isinstance(op, Release):
            pipe.zrem(key, op.member)
            return 0
        if isinstance(op, RecordOutcome):
            pipe.lpush(key, f"{now!r}|{int(op.answered)}|{op.duration!r}")
            pipe.ltrim(key, 0, op.keep - 1)
            pipe.expire(key, _seconds(op.ttl))
            return 2
        if isinstance(op, OutcomeStats):
            pipe.lrange(key, 0, op.last - 1)
            return 0
        if isinstance(op, SetFlag):
            pipe.set(key, f"{op.until!r}|{op.reason}", ex=_seconds(op.until - now) + 1)
            return 0
        if isinstance(op, GetFlag):
            pipe.get(key)
            return 0
        if isinstance(op, Tally):
            pipe.hincrby(key, str(op.bucket), op.amount)
            pipe.expire(key, _seconds(op.ttl))
            return 1
        if isinstance(op, ReadTallies):
            if op.buckets:
                pipe.hmget(key, [str(b) for b in op.buckets])
            else:
                pipe.echo(b"")  # keeps one reply per operation
            return 0
        if isinstance(op, Index):
            pipe.zadd(key, {op.member: now + op.ttl})
            pipe.expire(key, _seconds(op.ttl))
            return 1
        if isinstance(op, ReadIndex):
            pipe.zrangebyscore(key, f"({now!r}", "+inf")
            return 0
        raise TypeError(f"unknown counter operation {op!r}")

    def _result(self, op: Op, value: Any, now: float) -> Any:
        if isinstance(op, Admit):
            nw, ng = len(op.windows), len(op.gauges)
            flags = []
            for raw in value[1 + nw + ng :]:
                if raw:
                    until, reason = raw.decode().split("|", 1)
                    flags.append((float(until), reason))
                else:
                    flags.append(None)
            return AdmitResult(bool(value[0]), tuple(int(v) for v in value[1 : 1 + nw]), tuple(int(v) for v in value[1 + nw : 1 + nw + ng]), tuple(flags))
        if isinstance(op, (HitBelow, Acquire)):
            return bool(value[0]), int(value[1])
        if isinstance(op, Hit):
            return int(value) + 1
        if isinstance(op, Peek):
            return int(value)
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
            if value is None:
                return None
            until, reason = value.decode().split("|", 1)
            return (float(until), reason) if float(until) > now else None
        if isinstance(op, Tally):
            return int(value)
        if isinstance(op, ReadTallies):
            if not op.buckets:
                return {}
            return {b: int(v) for b, v in zip(op.buckets, value) if v is not None}
        if isinstance(op, ReadIndex):
            return sorted(m.decode() for m in value)
        return None

    def close(self) -> None:
        self.client.close()
