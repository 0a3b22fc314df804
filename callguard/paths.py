"""The URL paths callguard serves, named once.

The Flask routes, the URLs callguard writes into TwiML and REST calls (disclosure, status
callback, answer), and the policy loader's check that a proxy route does not take over one of
callguard's own paths all read them here; this module imports nothing, so the core can too.
"""

from __future__ import annotations

# Twilio's webhooks and callbacks.
VOICE_OUTBOUND = "/voice/outbound"
VOICE_STATUS = "/voice/status"
VOICE_DISCLOSURE = "/voice/disclosure"
VOICE_OPTOUT = "/voice/optout"
VOICE_ANSWER = "/voice/answer"

# Operations.
HEALTHZ = "/healthz"
METRICS = "/metrics"

# The JSON API: every path under it (the blueprint's url_prefix).
API_PREFIX = "/v1"

# What a proxy route may not take over: every path callguard answers itself.
OWN_PATHS = (VOICE_OUTBOUND, VOICE_STATUS, VOICE_DISCLOSURE, VOICE_OPTOUT, VOICE_ANSWER, HEALTHZ, METRICS)
OWN_PREFIXES = (API_PREFIX + "/",)
