"""The package version (one place, imported by the package and the API document)."""

__version__ = "0.1.0"
