"""The composition root, Flask-free: what a callguard process runs on.

- :mod:`.settings`: the ``CALLGUARD_*`` settings; :mod:`.admin_tokens`: the API tokens among them.
- :mod:`.preflight`: every setting checked once before a server forks its workers.
- :mod:`.assemble`: ``assemble(settings, config) -> Runtime``, everything built and wired.
- :mod:`.runtime`: the :class:`~.runtime.Runtime` and its lifecycle (start, close in one order).
- :mod:`.worker`: the one background-worker base; :mod:`.workers`: each adapter's step on one.
- :mod:`.refresh`, :mod:`.twilio_sync`, :mod:`.alerts`, :mod:`.reactions`: the policy refresher,
  the Twilio sync as deployed, the alert webhook, what traffic events and change notices do.
- :mod:`.metrics`: the Prometheus metrics.

Nothing is imported here: ``callguard serve`` reads the settings before prometheus-client may be
imported (:mod:`.metrics` chooses its storage at import).
"""
