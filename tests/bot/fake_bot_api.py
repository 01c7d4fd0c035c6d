"""A fake Telegram Bot API server on loopback, speaking the real wire protocol, for driving the bot in tests.

``POST /bot<token>/<method>`` with form-encoded parameters (objects such as ``reply_markup`` arrive
JSON-encoded inside the form, as python-telegram-bot sends them); answers ``{"ok": true, "result": …}`` or
``{"ok": false, "error_code": …, "description": …, "parameters": {"retry_after": n}}`` with the HTTP status
Telegram uses. ``getUpdates`` long-polls with ``offset`` and ``timeout``.

It keeps what Telegram keeps: chats and their messages (so editing a deleted message fails, and editing
without a change answers "message is not modified"), callback queries (each answerable once), and it
checks what Telegram checks — HTML entities, message length, button data of at most 64 bytes.

Tests act as people and channels: ``api.user(...)`` gives a ``FakeUser`` who sends text, presses buttons
of the bot's messages and waits for the bot's next message; ``api.post(...)`` publishes a channel post;
``api.fail(...)`` and ``api.block(...)`` inject errors (429 with ``retry_after``, 403 "bot was blocked by
the user"). Every call is recorded in ``api.calls``.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import itertools
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, urlsplit

TOKEN = "123456789:AAFakeTokenForTestsOnly-0123456789ab"
BOT_ID = 123456789
BOT_USERNAME = "elcaro_test_bot"
MAX_TEXT = 4096
MAX_CALLBACK_DATA = 64

_JSON_FIELDS = {
    "reply_markup",
    "allowed_updates",
    "commands",
    "scope",
    "prices",
    "link_preview_options",
    "entities",
    "reply_parameters",
    "caption_entities",
}
_ALLOWED_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "span",
    "tg-spoiler",
    "a",
    "code",
    "pre",
    "blockquote",
    "tg-emoji",
}
_STATUS_TEXT = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    429: "Too Many Requests",
}


class ApiError(Exception):
    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    ok: bool = True
    error: str | None = None


@dataclass
class Fault:
    method: str
    chat_id: int | None
    code: int
    description: str
    retry_after: int | None
    remaining: int


@dataclass
class StoredMessage:
    message_id: int
    chat_id: int
    from_bot: bool
    text: str
    reply_markup: dict[str, Any] | None = None
    deleted: bool = False
    date: int = 0
    edits: int = 0
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def buttons(self) -> list[dict[str, Any]]:
        """Inline buttons, row after row."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [button for row in rows for button in row]

    @property
    def button_texts(self) -> list[str]:
        return [button["text"] for button in self.buttons]

    @property
    def plain(self) -> str:
        """The text as a reader sees it (entities removed)."""
        return html.unescape(_strip_tags(self.text))


@dataclass(frozen=True)
class Output:
    """Something the bot did in a chat, in order: ``send``, ``edit`` or ``delete``."""

    kind: str
    message: StoredMessage
    text: str
    reply_markup: dict[str, Any] | None

    @property
    def plain(self) -> str:
        return html.unescape(_strip_tags(self.text))

    @property
    def button_texts(self) -> list[str]:
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [button["text"] for row in rows for button in row]

    def data_of(self, text: str) -> str:
        """The callback data of the button labelled ``text`` as the message was then (for pressing a stale copy)."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        found = [button["callback_data"] for row in rows for button in row if text in button["text"]]
        assert len(found) == 1, f"no single button {text!r}: {self.button_texts}"
        return str(found[0])


@dataclass
class Chat:
    id: int
    type: str
    title: str | None = None
    first_name: str | None = None
    username: str | None = None
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    outputs: list[Output] = field(default_factory=list)
    next_message_id: int = 1

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.title:
            data["title"] = self.title
        if self.first_name:
            data["first_name"] = self.first_name
        if self.username:
            data["username"] = self.username
        return data


class FakeBotApi:
    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.calls: list[Call] = []
        self.chats: dict[int, Chat] = {}
        self.blocked: set[int] = set()
        self.commands: dict[str, list[dict[str, Any]]] = {}
        self.callback_answers: dict[str, dict[str, Any]] = {}
        self.pre_checkout_answers: dict[str, dict[str, Any]] = {}
        self._callbacks: dict[str, dict[str, Any]] = {}
        self._faults: list[Fault] = []
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self.port = 0

    # ------------------------------------------------------------------------------ life

    async def start(self) -> FakeBotApi:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for task in list(self._connections):
                task.cancel()
            await asyncio.gather(*self._connections, return_exceptions=True)
            await self._server.wait_closed()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # ------------------------------------------------------------------------------ people and channels

    def user(
        self, telegram_id: int, first_name: str = "Alice", *, username: str | None = None, language_code: str = "en"
    ) -> FakeUser:
        self.chats.setdefault(telegram_id, Chat(telegram_id, "private", first_name=first_name, username=username))
        return FakeUser(self, telegram_id, first_name, username, language_code)

    def channel(self, chat_id: int, title: str = "Signals") -> Chat:
        return self.chats.setdefault(chat_id, Chat(chat_id, "channel", title=title))

    async def post(self, chat_id: int, text: str) -> StoredMessage:
        """A new post in a channel the bot is in."""
        chat = self.channel(chat_id)
        message = self._store(chat, from_bot=False, text=text)
        message.raw = {**self._message_dict(message), "sender_chat": chat.as_dict()}
        await self._push({"channel_post": message.raw})
        return message

    async def edit_post(self, chat_id: int, message_id: int, text: str) -> None:
        message = self.chats[chat_id].messages[message_id]
        message.text = text
        message.edits += 1
        edited = {**self._message_dict(message), "sender_chat": self.chats[chat_id].as_dict(), "edit_date": _now()}
        await self._push({"edited_channel_post": edited})

    async def bot_made_admin(self, chat_id: int, by: int) -> None:
        chat = self.channel(chat_id)
        rights = dict.fromkeys(
            (
                "can_be_edited",
                "can_manage_chat",
                "can_change_info",
                "can_post_messages",
                "can_edit_messages",
                "can_delete_messages",
                "can_invite_users",
                "can_restrict_members",
                "can_promote_members",
                "can_manage_video_chats",
                "can_post_stories",
                "can_edit_stories",
                "can_delete_stories",
            ),
            True,
        )
        member = {"user": self.me(), "status": "administrator", "is_anonymous": False, **rights, "can_be_edited": False}
        await self._push(
            {
                "my_chat_member": {
                    "chat": chat.as_dict(),
                    "from": {"id": by, "is_bot": False, "first_name": "Owner"},
                    "date": _now(),
                    "old_chat_member": {"user": self.me(), "status": "left"},
                    "new_chat_member": member,
                }
            }
        )

    def block(self, chat_id: int) -> None:
        """The user blocks the bot: every message to them is refused with 403 from now on."""
        self.blocked.add(chat_id)

    def fail(
        self,
        method: str,
        *,
        chat_id: int | None = None,
        code: int = 429,
        description: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """The next ``times`` calls of ``method`` (to ``chat_id``, when given) fail with ``code``."""
        if description is None:
            description = f"Too Many Requests: retry after {retry_after}" if code == 429 else "Bad Request"
        self._faults.append(Fault(method, chat_id, code, description, retry_after, times))

    def me(self) -> dict[str, Any]:
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "ElCaro",
            "username": BOT_USERNAME,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    # ------------------------------------------------------------------------------ reading what happened

    def sent(self, chat_id: int) -> list[StoredMessage]:
        """The bot's messages in the chat (deleted ones included), oldest first."""
        return [m for m in self.chats[chat_id].messages.values() if m.from_bot]

    def calls_of(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    async def wait_for(self, check: Callable[[], Any], within: float = 30.0) -> Any:
        """Wait until ``check()`` returns something truthy (evaluated on every change); that is returned."""
        async with asyncio.timeout(within):
            async with self._changed:
                while True:
                    found = check()
                    if found:
                        return found
                    await self._changed.wait()

    # ------------------------------------------------------------------------------ internals: updates

    async def _push(self, body: dict[str, Any]) -> None:
        self._updates.append({"update_id": next(self._update_ids), **body})
        await self._notify()

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def _store(
        self, chat: Chat, *, from_bot: bool, text: str, reply_markup: dict[str, Any] | None = None
    ) -> StoredMessage:
        message = StoredMessage(chat.next_message_id, chat.id, from_bot, text, reply_markup, date=_now())
        chat.next_message_id += 1
        chat.messages[message.message_id] = message
        return message

    def _message_dict(self, message: StoredMessage, *, sender: dict[str, Any] | None = None) -> dict[str, Any]:
        chat = self.chats[message.chat_id]
        data: dict[str, Any] = {"message_id": message.message_id, "date": message.date, "chat": chat.as_dict()}
        if message.from_bot:
            data["from"] = self.me()
        elif sender is not None:
            data["from"] = sender
        if message.text:
            data["text"] = html.unescape(_strip_tags(message.text)) if message.from_bot else message.text
        if message.reply_markup and "inline_keyboard" in message.reply_markup:
            data["reply_markup"] = message.reply_markup
        if message.edits and message.from_bot:
            data["edit_date"] = _now()
        return data

    # ------------------------------------------------------------------------------ internals: HTTP

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    return
                method_path, body = request
                status, payload = await self._handle(method_path, body)
                data = json.dumps(payload).encode()
                head = (
                    f"HTTP/1.1 {status} {_STATUS_TEXT.get(status, 'Error')}\r\n"
                    f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\nConnection: keep-alive\r\n\r\n"
                )
                writer.write(head.encode() + data)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        except asyncio.CancelledError:  # the server is closing: a held long poll just ends
            return
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _handle(self, target: str, body: tuple[str, bytes]) -> tuple[int, dict[str, Any]]:
        path = urlsplit(target).path
        prefix = f"/bot{self.token}/"
        if not path.startswith("/bot"):
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        if not path.startswith(prefix):
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        method = path[len(prefix) :]
        params = _decode(target, body)
        call = Call(method, params)
        self.calls.append(call)
        try:
            self._inject_fault(method, params)
            handler = getattr(self, f"_m_{method}", None)
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            result = await handler(params)
        except ApiError as error:
            call.ok, call.error = False, error.description
            await self._notify()
            answer: dict[str, Any] = {"ok": False, "error_code": error.code, "description": error.description}
            if error.retry_after is not None:
                answer["parameters"] = {"retry_after": error.retry_after}
            return error.code, answer
        await self._notify()
        return 200, {"ok": True, "result": result}

    def _inject_fault(self, method: str, params: Mapping[str, Any]) -> None:
        chat_id = _int_or_none(params.get("chat_id"))
        for fault in self._faults:
            if fault.remaining and fault.method == method and fault.chat_id in (None, chat_id):
                fault.remaining -= 1
                raise ApiError(fault.code, fault.description, fault.retry_after)
        if method.startswith(("send", "edit")) and chat_id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")

    # ------------------------------------------------------------------------------ internals: methods

    async def _m_getMe(self, params: Mapping[str, Any]) -> Any:
        return self.me()

    async def _m_deleteWebhook(self, params: Mapping[str, Any]) -> Any:
        if params.get("drop_pending_updates") in (True, "true", "True"):
            self._updates.clear()
        return True

    async def _m_getWebhookInfo(self, params: Mapping[str, Any]) -> Any:
        return {"url": "", "has_custom_certificate": False, "pending_update_count": len(self._updates)}

    async def _m_setMyCommands(self, params: Mapping[str, Any]) -> Any:
        self.commands[str(params.get("language_code") or "")] = list(params["commands"])
        return True

    async def _m_getUpdates(self, params: Mapping[str, Any]) -> Any:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        allowed = params.get("allowed_updates")
        if offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]

        def ready() -> list[dict[str, Any]]:
            wanted = [u for u in self._updates if not allowed or any(k in u for k in allowed)]
            return wanted[:limit]

        if not ready() and timeout > 0:
            with contextlib.suppress(TimeoutError):
                await self.wait_for(ready, within=timeout)
        return ready()

    async def _m_sendMessage(self, params: Mapping[str, Any]) -> Any:
        chat = self._chat(params)
        text = _check_text(params)
        markup = _check_markup(params.get("reply_markup"))
        message = self._store(chat, from_bot=True, text=text, reply_markup=markup)
        chat.outputs.append(Output("send", message, text, markup))
        return self._message_dict(message)

    async def _m_editMessageText(self, params: Mapping[str, Any]) -> Any:
        chat, message = self._editable(params)
        text = _check_text(params)
        markup = _check_markup(params.get("reply_markup"))
        if text == message.text and markup == message.reply_markup:
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply markup are exactly "
                "the same as a current content and reply markup of the message",
            )
        message.text, message.reply_markup = text, markup
        message.edits += 1
        chat.outputs.append(Output("edit", message, text, markup))
        return self._message_dict(message)

    async def _m_editMessageReplyMarkup(self, params: Mapping[str, Any]) -> Any:
        chat, message = self._editable(params)
        markup = _check_markup(params.get("reply_markup"))
        if markup == message.reply_markup:
            raise ApiError(400, "Bad Request: message is not modified")
        message.reply_markup = markup
        message.edits += 1
        chat.outputs.append(Output("edit", message, message.text, markup))
        return self._message_dict(message)

    async def _m_deleteMessage(self, params: Mapping[str, Any]) -> Any:
        chat = self._chat(params)
        message = chat.messages.get(int(params["message_id"]))
        if message is None or message.deleted:
            raise ApiError(400, "Bad Request: message to delete not found")
        message.deleted = True
        chat.outputs.append(Output("delete", message, message.text, message.reply_markup))
        return True

    async def _m_answerCallbackQuery(self, params: Mapping[str, Any]) -> Any:
        query_id = str(params["callback_query_id"])
        if query_id not in self._callbacks or query_id in self.callback_answers:
            raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        text = params.get("text")
        if text is not None and len(str(text)) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        self.callback_answers[query_id] = {"text": text, "show_alert": params.get("show_alert") in ("true", True)}
        return True

    async def _m_sendChatAction(self, params: Mapping[str, Any]) -> Any:
        self._chat(params)
        return True

    async def _m_getChat(self, params: Mapping[str, Any]) -> Any:
        return {**self._chat(params).as_dict(), "accent_color_id": 0, "max_reaction_count": 11}

    async def _m_sendInvoice(self, params: Mapping[str, Any]) -> Any:
        chat = self._chat(params)
        prices = params.get("prices") or []
        if not prices or params.get("currency") is None or not params.get("payload"):
            raise ApiError(400, "Bad Request: invoice is incomplete")
        total = sum(int(price["amount"]) for price in prices)
        message = self._store(chat, from_bot=True, text="")
        message.raw = {
            "invoice": {
                "title": params.get("title"),
                "description": params.get("description"),
                "start_parameter": "",
                "currency": params["currency"],
                "total_amount": total,
            },
            "payload": params["payload"],
        }
        chat.outputs.append(Output("invoice", message, str(params.get("title")), None))
        data = self._message_dict(message)
        data["invoice"] = message.raw["invoice"]
        return data

    async def _m_answerPreCheckoutQuery(self, params: Mapping[str, Any]) -> Any:
        query_id = str(params["pre_checkout_query_id"])
        if query_id in self.pre_checkout_answers:
            raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        ok = params.get("ok") in ("true", True, "True")
        self.pre_checkout_answers[query_id] = {"ok": ok, "error_message": params.get("error_message")}
        return True

    def _chat(self, params: Mapping[str, Any]) -> Chat:
        chat_id = _int_or_none(params.get("chat_id"))
        if chat_id is None or chat_id not in self.chats:
            raise ApiError(400, "Bad Request: chat not found")
        return self.chats[chat_id]

    def _editable(self, params: Mapping[str, Any]) -> tuple[Chat, StoredMessage]:
        chat = self._chat(params)
        message = chat.messages.get(int(params.get("message_id") or 0))
        if message is None or message.deleted:
            raise ApiError(400, "Bad Request: message to edit not found")
        if not message.from_bot:
            raise ApiError(400, "Bad Request: message can't be edited")
        return chat, message


class FakeUser:
    """A person in a private chat with the bot."""

    def __init__(
        self, api: FakeBotApi, telegram_id: int, first_name: str, username: str | None, language_code: str
    ) -> None:
        self.api = api
        self.id = telegram_id
        self.first_name = first_name
        self.username = username
        self.language_code = language_code
        self._seen = 0

    @property
    def chat(self) -> Chat:
        return self.api.chats[self.id]

    def profile(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "is_bot": False,
            "first_name": self.first_name,
            "language_code": self.language_code,
        }
        if self.username:
            data["username"] = self.username
        return data

    async def send(self, text: str) -> StoredMessage:
        message = self.api._store(self.chat, from_bot=False, text=text)
        data = self.api._message_dict(message, sender=self.profile())
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            data["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        message.raw = data
        await self.api._push({"message": data})
        return message

    async def press(self, message: StoredMessage | Output, text: str | None = None, *, data: str | None = None) -> str:
        """Press the button labelled ``text`` (or carrying ``data``) on one of the bot's messages; the query id."""
        stored = message.message if isinstance(message, Output) else message
        if data is None:
            found = [b for b in stored.buttons if text is not None and text in b["text"]]
            if len(found) != 1:
                raise AssertionError(f"no single button {text!r} on message {stored.message_id}: {stored.button_texts}")
            data = found[0]["callback_data"]
        query_id = str(next(self.api._callback_ids))
        query = {
            "id": query_id,
            "from": self.profile(),
            "chat_instance": f"ci{self.id}",
            "message": self.api._message_dict(stored),
            "data": data,
        }
        self.api._callbacks[query_id] = query
        await self.api._push({"callback_query": query})
        return query_id

    async def answer_to(self, query_id: str, within: float = 30.0) -> dict[str, Any]:
        """How the bot answered a pressed button (the pop-up text, if any)."""
        answer: dict[str, Any] = await self.api.wait_for(lambda: self.api.callback_answers.get(query_id), within)
        return answer

    async def next(self, where: Callable[[Output], bool] | str | None = None, *, within: float = 30.0) -> Output:
        """The bot's next send or edit in this chat (matching ``where``: a predicate, or text it contains)."""

        def matches(output: Output) -> bool:
            if output.kind not in ("send", "edit", "invoice"):
                return False
            if where is None:
                return True
            if isinstance(where, str):
                return where in output.plain
            return where(output)

        def find() -> Output | None:
            outputs = self.chat.outputs
            for index in range(self._seen, len(outputs)):
                if matches(outputs[index]):
                    self._seen = index + 1
                    return outputs[index]
            return None

        found: Output = await self.api.wait_for(find, within)
        return found

    def skip_all(self) -> None:
        """Forget what the bot said so far: ``next`` looks only at what comes after this."""
        self._seen = len(self.chat.outputs)

    async def pre_checkout(self, payload: str, total: int, currency: str = "XTR") -> str:
        query_id = f"pc{next(self.api._callback_ids)}"
        await self.api._push(
            {
                "pre_checkout_query": {
                    "id": query_id,
                    "from": self.profile(),
                    "currency": currency,
                    "total_amount": total,
                    "invoice_payload": payload,
                }
            }
        )
        return query_id

    async def paid(self, payload: str, total: int, charge_id: str, currency: str = "XTR") -> None:
        message = self.api._store(self.chat, from_bot=False, text="")
        data = self.api._message_dict(message, sender=self.profile())
        data["successful_payment"] = {
            "currency": currency,
            "total_amount": total,
            "invoice_payload": payload,
            "telegram_payment_charge_id": charge_id,
            "provider_payment_charge_id": "",
        }
        await self.api._push({"message": data})


# ---------------------------------------------------------------------------------- wire helpers


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, tuple[str, bytes]] | None:
    line = await reader.readline()
    if not line:
        return None
    parts = line.decode("latin-1").split()
    if len(parts) != 3:
        return None
    _, target, _ = parts
    headers: dict[str, str] = {}
    while True:
        header = await reader.readline()
        if header in (b"\r\n", b"\n", b""):
            break
        name, _, value = header.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0") or 0)
    body = await reader.readexactly(length) if length else b""
    return target, (headers.get("content-type", ""), body)


def _decode(target: str, body: tuple[str, bytes]) -> dict[str, Any]:
    content_type, raw = body
    pairs = parse_qsl(urlsplit(target).query, keep_blank_values=True)
    if raw:
        if content_type.startswith("application/json"):
            return dict(json.loads(raw))
        if content_type.startswith("multipart/"):
            raise ApiError(400, "Bad Request: this fake takes no file uploads")
        pairs += parse_qsl(raw.decode(), keep_blank_values=True)
    params: dict[str, Any] = {}
    for name, value in pairs:
        params[name] = json.loads(value) if name in _JSON_FIELDS and value else value
    return params


def _int_or_none(value: object) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def _now() -> int:
    return int(time.time())


def _check_text(params: Mapping[str, Any]) -> str:
    text = str(params.get("text") or "")
    if not text.strip():
        raise ApiError(400, "Bad Request: message text is empty")
    if params.get("parse_mode") == "HTML":
        _check_html(text)
        shown = html.unescape(_strip_tags(text))
    else:
        shown = text
    if len(shown) > MAX_TEXT:
        raise ApiError(400, "Bad Request: message is too long")
    return text


def _check_markup(markup: Any) -> dict[str, Any] | None:
    if markup is None or markup == "":
        return None
    if not isinstance(markup, dict):
        raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    for row in markup.get("inline_keyboard", []):
        for button in row:
            data = button.get("callback_data")
            if not button.get("text") or (data is not None and not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA):
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
    return markup


class _EntityChecker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _ALLOWED_TAGS:
            raise ApiError(400, f'Bad Request: can\'t parse entities: Unsupported start tag "{tag}"')
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            raise ApiError(400, f'Bad Request: can\'t parse entities: Unexpected end tag "{tag}"')
        self.open.pop()


def _check_html(text: str) -> None:
    checker = _EntityChecker()
    checker.feed(text)
    checker.close()
    if checker.open:
        raise ApiError(
            400,
            f"Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"{checker.open[-1]}\"",
        )


def _strip_tags(text: str) -> str:
    out: list[str] = []
    inside = False
    for char in text:
        if char == "<":
            inside = True
        elif char == ">" and inside:
            inside = False
        elif not inside:
            out.append(char)
    return "".join(out)
