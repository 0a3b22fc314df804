"""The JSON API under /v1 (decisions for non-Python apps; administration)."""
