"""Exchange adapters: the only layer that talks to an exchange."""
