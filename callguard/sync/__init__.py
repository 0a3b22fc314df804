"""Twilio as a source of truth: read each synced account's numbers, verified caller IDs,
subaccounts and Voice Dialing Permissions from Twilio's REST API, store them for every worker
and host, and lay them over the policy.

- :mod:`.transport`: the twilio client's HTTP client, with bounded retries (429, 5xx,
  connection errors) and an optional other origin.
- :mod:`.reader`: one resource at a time, through the real ``twilio.rest.Client``.
- :mod:`.runner`: one run over every synced family, written to the records database.
- :mod:`.scheduler`: runs on a schedule, one process at a time (a lease row).
- :mod:`.apply`: the pure step that lays the stored picture over the policy.
"""

from .apply import apply_twilio
from .model import EMPTY_SNAPSHOT, TwilioAccount, TwilioCountry, TwilioSnapshot

# The runner and scheduler (which use the database) are imported from their modules; importing
# them here would make the store, which keeps this package's data model, import itself.
__all__ = ["EMPTY_SNAPSHOT", "TwilioAccount", "TwilioCountry", "TwilioSnapshot", "apply_twilio"]
