"""Tests of the unified exchange client (a package, so that its fakes are importable as ``client.fakes``)."""
