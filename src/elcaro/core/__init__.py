"""Infrastructure shared by every layer: configuration, secrets, logging, time."""
