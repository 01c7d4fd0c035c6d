"""Use cases. Every interface (Telegram bot, web app, CLI) calls these and nothing below them."""
