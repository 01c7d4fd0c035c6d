"""Loopback fakes of the venues' HTTP APIs, speaking their real wire formats (signatures, envelopes, error codes)."""
