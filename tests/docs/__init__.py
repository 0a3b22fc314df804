"""Tests of the documentation: every command the README and docs/ show is run for real."""
