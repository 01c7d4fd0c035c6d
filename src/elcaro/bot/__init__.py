"""The Telegram bot: the traders' main interface. It translates updates into service calls."""
