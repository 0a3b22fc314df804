"""Every counter key the traffic protection reads or writes, each format named once.

The counters are shared by every worker and host, and by ``callguard traffic lift`` and
``callguard report traffic``: what one writes under a key the others must find under the same
one. Keys start with what they hold; the account (or, for a callee, the account family)
follows, so two accounts never share a count. Report counts go in fixed buckets: the day or
the hour since the epoch.
"""

from __future__ import annotations

DAY = 86_400.0
HOUR = 3_600.0


def day_bucket(now: float) -> int:
    return int(now // DAY)


def hour_bucket(now: float) -> int:
    return int(now // HOUR)


# -- at the dial: windows, gauges and flags ---------------------------------------------------


def cps(account_sid: str) -> str:
    """The account's calls in the last second (a window)."""
    return f"cps:{account_sid}"


def velocity_window(account_sid: str, target: str, window: float) -> str:
    """The account's calls to a velocity target (a prefix or a country) within one rule's window."""
    return f"vel:{account_sid}:{target}:{window:g}"


def velocity_block(account_sid: str, target: str) -> str:
    """The flag of a velocity block on a target, in force until it ends or is lifted."""
    return f"velblock:{account_sid}:{target}"


def callee(family: str, campaign_id: str | None, e164: str) -> str:
    """Calls from an account family to one callee within a day, per campaign (a window)."""
    return f"callee:{family}:{campaign_id or '*'}:{e164}"


def callee_frequency(family: str, e164: str, window: float) -> str:
    """Telemarketing calls from an account family to one callee, across its campaigns and caller
    IDs, within a legal frequency rule's window (a window)."""
    return f"calleefreq:{family}:{e164}:{window:g}"


def throttle(account_sid: str, caller_id: str) -> str:
    """The flag of a caller ID's throttle (unanswered or short calls)."""
    return f"thr:{account_sid}:{caller_id}"


def complaint_throttle(account_sid: str, caller_id: str) -> str:
    """The flag of a caller ID throttled for complaints (``[traffic.complaints].caller_id``)."""
    return f"cthr:{account_sid}:{caller_id}"


def campaign_pause(family: str, campaign_id: str) -> str:
    """The flag of a campaign paused for an account family's complaints (``[traffic.complaints].campaign``)."""
    return f"cpause:{family}:{campaign_id}"


def complaint_flags(account_sid: str) -> str:
    """What complaints have throttled or paused for the account (an index, for reports)."""
    return f"complaintflags:{account_sid}"


def concurrent(account_sid: str) -> str:
    """The account's calls up now (a gauge of call SIDs)."""
    return f"conc:{account_sid}"


# -- after the call: outcomes ------------------------------------------------------------------


def outcomes(account_sid: str, caller_id: str) -> str:
    """A caller ID's last call outcomes, answered or not (the unanswered rule)."""
    return f"out:{account_sid}:{caller_id}"


def answered_outcomes(account_sid: str, caller_id: str) -> str:
    """A caller ID's last answered calls and their lengths (the short-calls rule)."""
    return f"ans:{account_sid}:{caller_id}"


# -- reports: indexes of what was seen, and tallies by day or hour -----------------------------


def caller_ids(account_sid: str) -> str:
    """The caller IDs the account has called from (an index)."""
    return f"callers:{account_sid}"


def caller_id_tally(account_sid: str, caller_id: str, kind: str) -> str:
    """A caller ID's daily ``attempts``, ``answered`` calls or answered ``seconds``."""
    return f"cid:{account_sid}:{caller_id}:{kind}"


def countries(account_sid: str) -> str:
    """The destination countries the account has called (an index)."""
    return f"countries:{account_sid}"


def country_calls(account_sid: str, country: str) -> str:
    """The account's daily calls to a destination country."""
    return f"country:{account_sid}:{country}"


def country_refused(account_sid: str, country: str) -> str:
    """The account's daily calls to a destination country refused by a traffic limit."""
    return f"refused:{account_sid}:{country}"


def regions(account_sid: str) -> str:
    """The deployment regions that have placed the account's calls (an index)."""
    return f"regions:{account_sid}"


def region_calls(account_sid: str, region: str) -> str:
    """The account's hourly calls placed through a deployment region."""
    return f"region:{account_sid}:{region}"


def region_alerted(account_sid: str) -> str:
    """The flag that the multi-region rule has alerted on the account within the day."""
    return f"regionalert:{account_sid}"
