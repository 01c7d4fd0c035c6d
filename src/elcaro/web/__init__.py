"""The web app: REST API, live websocket and the back end of the dashboard and the Telegram Mini App.

An interface like the bot: it parses requests, calls the platform's services and shapes their answers.
See :mod:`elcaro.web.app`.
"""
