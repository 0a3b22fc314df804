"""Twilio as a source of truth: read each synced account's numbers, verified caller IDs,
subaccounts and Voice Dialing Permissions from Twilio's REST API and store them for every worker
and host. What the stored picture is and how it is laid over the policy are the core's
(:mod:`callguard.policy.twilio_snapshot`, :mod:`callguard.policy.twilio_apply`).

- :mod:`.transport`: the twilio client's HTTP client, with bounded retries (429, 5xx,
  connection errors) and an optional other origin.
- :mod:`.reader`: one resource at a time, through the real ``twilio.rest.Client``.
- :mod:`.runner`: one run over every synced family, written to the records database.
- :mod:`.scheduler`: runs on a schedule, one process at a time (a lease row).
"""
