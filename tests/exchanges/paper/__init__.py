"""Tests of the paper exchange (a package, so that ``conformance`` one level up is importable)."""
