"""The strategy engine's state machine: commands, transitions and error policy (no I/O)."""
