"""``python -m callguard.cli``: the ``callguard`` command."""

from . import main

main()
