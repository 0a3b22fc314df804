"""Fuzzing harnesses (atheris): each module's ``check(data)`` holds one of callguard's promises for
any input; ``scripts/fuzz.sh TARGET SECONDS`` drives it with coverage guidance.

``check`` needs nothing but callguard, so ``tests/test_fuzz_corpus.py`` replays every seed and
every crash once found (``fuzz/corpus/TARGET/``) in the test run.
"""

TARGETS = ("twiml_policing", "dial_strings", "policy_loader", "form_body")
