"""A Telegram Bot API emulator served over real HTTP on loopback.

Why it exists: the bot front end is python-telegram-bot (PTB), and the bugs that
matter live at the boundary with Telegram: HTML that Telegram refuses to render,
callback data that is too long, webhooks whose secret does not match, updates
that are delivered twice. Mocking PTB hides all of those.  This emulator lets the
real, unmodified PTB ``Application`` talk HTTP to a server that answers the way
Telegram does, while the test plays the users.

Point PTB at it with::

    ApplicationBuilder().token(emulator.token)
        .base_url(f"{emulator.url}/bot").base_file_url(f"{emulator.url}/file/bot")

PTB appends the token to both, so requests arrive as ``/bot<token>/<method>`` and
file downloads as ``/file/bot<token>/<file_path>``, exactly as on api.telegram.org.

All state is in memory and is touched only from the event loop the emulator was
started on; every change is made without awaiting in between, so one loop needs
no locks.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import itertools
import json
import random
import re
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import PurePosixPath
from typing import Any

import aiohttp
from aiohttp import web

JSONDict = dict[str, Any]
MessagePredicate = Callable[[JSONDict], bool]

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_INLINE_BUTTONS = 100
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
DEFAULT_GROUP_MEMBER_ID = 10_001
DEFAULT_RETRY_DELAYS = (0.05, 0.2, 0.5)

# A valid 1x1 grey JPEG (159 bytes): Telegram always serves photos as JPEG, and
# code that opens the download with an image library must not choke on it.
TINY_JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDABALDA4MChAODQ4SERATGCgaGBYWGDEjJR0oOjM9PDkzODdASFxO"
    "QERXRTc4UG1RV19iZ2hnPk1xeXBkeFxlZ2P/wAALCAABAAEBAREA/8QAFAABAAAAAAAAAAAAAAAAAAAAAP/E"
    "ABQQAQAAAAAAAAAAAAAAAAAAAAD/2gAIAQEAAD8AP//Z"
)
# Voice notes are never decoded by the bot under test; an Ogg capture pattern is enough.
TINY_OGG = b"OggS" + bytes(60)

_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
# Form and query-string values arrive as text; these are the fields whose text is JSON or a number.
_JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "reply_parameters",
        "allowed_updates",
        "commands",
        "scope",
        "entities",
        "caption_entities",
        "link_preview_options",
    }
)
_NUMBER_FIELDS = frozenset(
    {
        "chat_id",
        "message_id",
        "offset",
        "limit",
        "timeout",
        "reply_to_message_id",
        "max_connections",
        "cache_time",
        "message_thread_id",
        "user_id",
    }
)
_BOOL_FIELDS = frozenset(
    {
        "show_alert",
        "drop_pending_updates",
        "disable_notification",
        "protect_content",
        "allow_sending_without_reply",
        "disable_web_page_preview",
        "has_spoiler",
    }
)
_TOKEN_SHAPE = re.compile(r"\d+:[\w-]+")
_SECRET_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,256}")
_COMMAND_SHAPE = re.compile(r"[a-z0-9_]{1,32}")
_BOT_COMMAND = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")


class ApiError(Exception):
    """A Bot API failure; answered as ``{"ok": false, ...}`` with the same HTTP status, as Telegram does."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


class EntityParseError(ValueError):
    """Markup Telegram would refuse; the message uses Telegram's (tdlib's) wording."""


def _bad_request(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}")


def _utf16_len(text: str) -> int:
    """Entity offsets and lengths are counted in UTF-16 code units, like Telegram."""
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    """tdlib reports markup errors at UTF-8 byte offsets."""
    return len(text[:index].encode())


# --------------------------------------------------------------------------- markup


class _Output:
    """Plain text rebuilt from markup, with its UTF-16 length kept for entity offsets."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self.utf16 = 0

    def add(self, text: str) -> None:
        self._parts.append(text)
        self.utf16 += _utf16_len(text)

    def mark(self) -> int:
        """A position to later ask ``since`` for the text added after it."""
        return len(self._parts)

    def since(self, mark: int) -> str:
        return "".join(self._parts[mark:])

    def text(self) -> str:
        return "".join(self._parts)


def _entity(kind: str, start: int, end: int, **extra: str) -> JSONDict:
    return {"type": kind, "offset": start, "length": end - start, **extra}


def _sorted_entities(entities: list[JSONDict]) -> list[JSONDict]:
    return sorted(entities, key=lambda entity: (entity["offset"], -entity["length"]))


_SPACES = " \t\n\r\v\f"
_HTML_TAGS = {
    "a": "text_link",
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "tg-emoji": "custom_emoji",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
}
_HTML_NAMED_REFERENCES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_HTML_REFERENCE = re.compile(r"&(?:#x(?P<hex>[0-9a-fA-F]*)|#(?P<dec>[0-9]*)|(?P<name>[A-Za-z]*))")
_NAME_TOKEN = re.compile(r"[A-Za-z0-9.-]*")


def _decode_html_reference(text: str, pos: int) -> tuple[str, int] | None:
    """Decode the character reference at ``text[pos] == "&"`` the way tdlib does.

    Only &lt; &gt; &amp; &quot; and numeric references are understood; anything else
    is a literal ampersand, which Telegram accepts.
    """
    match = _HTML_REFERENCE.match(text, pos)
    assert match is not None  # the pattern matches any "&"
    end = match.end()
    if match["name"] is not None:
        decoded = _HTML_NAMED_REFERENCES.get(match["name"])
        if decoded is None:
            return None
    else:
        digits = match["hex"] if match["hex"] is not None else match["dec"]
        code_point = int(digits, 16 if match["hex"] is not None else 10) if digits else 0
        if code_point == 0 or code_point >= 0x10FFFF or end - pos >= 10:
            return None
        if 0xD800 <= code_point <= 0xDFFF:
            raise EntityParseError(
                "Text contains invalid Unicode characters after decoding HTML entities, "
                "check for unmatched surrogate code units"
            )
        decoded = chr(code_point)
    if end < len(text) and text[end] == ";":
        end += 1
    return decoded, end


@dataclass
class _OpenTag:
    name: str
    start: int
    attributes: dict[str, str]
    language: str = ""


class _HtmlParser:
    """Telegram's HTML subset: a small set of tags, strictly nested, everything else refused."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.out = _Output()
        self.stack: list[_OpenTag] = []
        self.entities: list[JSONDict] = []

    def parse(self) -> tuple[str, list[JSONDict]]:
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == "&":
                self._reference()
            elif char == "<":
                self._tag()
            else:
                self.out.add(char)
                self.pos += 1
        if self.stack:
            raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{self.stack[-1].name}"')
        return self.out.text(), _sorted_entities(self.entities)

    def _error_at(self, message: str, index: int) -> EntityParseError:
        return EntityParseError(f"{message} at byte offset {_byte_offset(self.text, index)}")

    def _reference(self) -> None:
        decoded = _decode_html_reference(self.text, self.pos)
        if decoded is None:
            self.out.add("&")
            self.pos += 1
        else:
            char, self.pos = decoded
            self.out.add(char)

    def _scan_name(self, start: int, stops: str) -> int:
        end = start
        while end < len(self.text) and self.text[end] not in stops:
            end += 1
        return end

    def _skip_spaces(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in _SPACES:
            self.pos += 1

    def _tag(self) -> None:
        begin = self.pos
        if self.text.startswith("</", begin):
            self._end_tag(begin)
        else:
            self._start_tag(begin)

    def _start_tag(self, begin: int) -> None:
        end = self._scan_name(begin + 1, _SPACES + ">")
        if end == len(self.text):
            raise self._error_at("Unclosed start tag", begin)
        name = self.text[begin + 1 : end].lower()
        if name not in _HTML_TAGS:
            raise self._error_at(f'Unsupported start tag "{name}"', begin)
        self.pos = end
        attributes = self._attributes(name, begin)
        if name == "span" and attributes.get("class") != "tg-spoiler":
            raise self._error_at('Tag "span" must have class "tg-spoiler"', begin)
        self.stack.append(_OpenTag(name, self.out.utf16, attributes))

    def _attributes(self, tag: str, begin: int) -> dict[str, str]:
        attributes: dict[str, str] = {}
        while True:
            self._skip_spaces()
            if self.pos < len(self.text) and self.text[self.pos] == ">":
                self.pos += 1
                return attributes
            name_end = self._scan_name(self.pos, _SPACES + "=>")
            name = self.text[self.pos : name_end].lower()
            if not name:
                raise self._error_at(f'Empty attribute name in the tag "{tag}"', begin)
            self.pos = name_end
            self._skip_spaces()
            if tag == "blockquote" and name == "expandable" and not self.text.startswith("=", self.pos):
                attributes[name] = ""
                continue
            if not self.text.startswith("=", self.pos):
                raise self._error_at(
                    f'Expected equal sign in declaration of an attribute of the tag "{tag}"', begin
                )
            self.pos += 1
            self._skip_spaces()
            if self.pos == len(self.text):
                raise self._error_at(f'Unclosed start tag "{tag}"', begin)
            attributes[name] = self._attribute_value(begin)

    def _attribute_value(self, begin: int) -> str:
        quote = self.text[self.pos]
        if quote not in "'\"":
            token = _NAME_TOKEN.match(self.text, self.pos)
            assert token is not None  # the pattern matches the empty string
            if token.end() == len(self.text) or self.text[token.end()] not in _SPACES + ">":
                raise self._error_at("Unexpected end of name token", self.pos)
            self.pos = token.end()
            return token.group().lower()
        value: list[str] = []
        self.pos += 1
        while self.pos < len(self.text) and self.text[self.pos] != quote:
            decoded = _decode_html_reference(self.text, self.pos) if self.text[self.pos] == "&" else None
            if decoded is None:
                value.append(self.text[self.pos])
                self.pos += 1
            else:
                char, self.pos = decoded
                value.append(char)
        if self.pos == len(self.text):
            raise self._error_at("Unclosed start tag", begin)
        self.pos += 1
        return "".join(value)

    def _end_tag(self, begin: int) -> None:
        if not self.stack:
            raise self._error_at("Unexpected end tag", begin)
        end = self._scan_name(begin + 2, _SPACES + ">")
        name = self.text[begin + 2 : end].lower()
        self.pos = end
        self._skip_spaces()
        if not self.text.startswith(">", self.pos):
            raise self._error_at("Unclosed end tag", begin)
        self.pos += 1
        tag = self.stack[-1]
        if name and name != tag.name:
            raise EntityParseError(
                f"Unmatched end tag at byte offset {_byte_offset(self.text, begin)}, "
                f'expected "</{tag.name}>", found "</{name}>"'
            )
        self.stack.pop()
        self._emit(tag)

    def _emit(self, tag: _OpenTag) -> None:
        end = self.out.utf16
        if end == tag.start:
            return
        kind = _HTML_TAGS[tag.name]
        css_class = tag.attributes.get("class", "")
        if (
            kind == "code"
            and self.stack
            and self.stack[-1].name == "pre"
            and css_class.startswith("language-")
        ):
            self.stack[-1].language = css_class.removeprefix("language-")
        elif kind == "text_link":
            if tag.attributes.get("href"):
                self.entities.append(_entity(kind, tag.start, end, url=tag.attributes["href"]))
        elif kind == "custom_emoji":
            emoji_id = tag.attributes.get("emoji-id", "")
            self.entities.append(_entity(kind, tag.start, end, custom_emoji_id=emoji_id))
        elif kind == "pre" and tag.language:
            self.entities.append(_entity(kind, tag.start, end, language=tag.language))
        elif kind == "blockquote" and "expandable" in tag.attributes:
            self.entities.append(_entity("expandable_blockquote", tag.start, end))
        else:
            self.entities.append(_entity(kind, tag.start, end))


_MDV2_RESERVED = "_*[]()~`>#+-=|{}.!"
_MDV2_TYPES = {
    "Bold": "bold",
    "Italic": "italic",
    "Underline": "underline",
    "Strikethrough": "strikethrough",
    "Spoiler": "spoiler",
    "TextUrl": "text_link",
    "CustomEmoji": "custom_emoji",
    "Code": "code",
    "Pre": "pre",
    "PreCode": "pre",
}
_MDV2_VERBATIM = ("Code", "Pre", "PreCode")


@dataclass
class _OpenEntity:
    kind: str
    start: int
    byte_offset: int
    mark: int
    language: str = ""


class _MarkdownV2Parser:
    """MarkdownV2 as tdlib parses it: every reserved character outside an entity must be escaped."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.out = _Output()
        self.stack: list[_OpenEntity] = []
        self.entities: list[JSONDict] = []
        self.quote_start: int | None = None
        self.quote_expandable = False

    def parse(self) -> tuple[str, list[JSONDict]]:
        while self.pos < len(self.text):
            if self._at_line_start() and not self._verbatim():
                self._line_start()
                if self.pos == len(self.text):
                    break
            self._step()
        self._close_quote(self.out.utf16)
        if self.stack:
            entity = self.stack[-1]
            raise EntityParseError(
                f"Can't find end of {entity.kind} entity at byte offset {entity.byte_offset}"
            )
        return self.out.text(), _sorted_entities(self.entities)

    def _at_line_start(self) -> bool:
        return self.pos == 0 or self.text[self.pos - 1] == "\n"

    def _verbatim(self) -> bool:
        return bool(self.stack) and self.stack[-1].kind in _MDV2_VERBATIM

    def _line_start(self) -> None:
        """A line starting with ">" (or "**>" for an expandable quote) belongs to a block quote."""
        for marker, expandable in (("**>", True), (">", False)):
            if self.text.startswith(marker, self.pos):
                self.pos += len(marker)
                if self.quote_start is None:
                    self.quote_start, self.quote_expandable = self.out.utf16, expandable
                return
        self._close_quote(self.out.utf16 - 1)

    def _close_quote(self, end: int) -> None:
        if self.quote_start is not None and end > self.quote_start:
            kind = "expandable_blockquote" if self.quote_expandable else "blockquote"
            self.entities.append(_entity(kind, self.quote_start, end))
        self.quote_start = None

    def _step(self) -> None:
        char = self.text[self.pos]
        following = self.text[self.pos + 1] if self.pos + 1 < len(self.text) else ""
        if char == "\\" and following and 0 < ord(following) <= 126:
            self.out.add(following)
            self.pos += 2
        elif char not in ("`" if self._verbatim() else _MDV2_RESERVED):
            self.out.add(char)
            self.pos += 1
        elif self._ends_expandable_quote():
            self.pos += 2
        elif self._closes_top(char):
            self._close()
        else:
            self._open(char)

    def _ends_expandable_quote(self) -> bool:
        end = self.pos + 2
        return (
            self.quote_expandable
            and self.quote_start is not None
            and self.text.startswith("||", self.pos)
            and (end == len(self.text) or self.text[end] == "\n")
            and not any(entity.kind == "Spoiler" for entity in self.stack)
        )

    def _closes_top(self, char: str) -> bool:
        if not self.stack:
            return False
        at = self.text.startswith
        return {
            "Bold": char == "*",
            "Italic": char == "_" and not at("__", self.pos),
            "Underline": at("__", self.pos),
            "Strikethrough": char == "~",
            "Spoiler": at("||", self.pos),
            "TextUrl": char == "]",
            "CustomEmoji": char == "]",
            "Code": char == "`",
            "Pre": at("```", self.pos),
            "PreCode": at("```", self.pos),
        }[self.stack[-1].kind]

    def _open(self, char: str) -> None:
        begin = self.pos
        kind, width = {
            "_": ("Underline", 2) if self.text.startswith("__", begin) else ("Italic", 1),
            "*": ("Bold", 1),
            "~": ("Strikethrough", 1),
            "[": ("TextUrl", 1),
            "|": ("Spoiler", 2) if self.text.startswith("||", begin) else (None, 0),
            "!": ("CustomEmoji", 2) if self.text.startswith("![", begin) else (None, 0),
            "`": ("Pre", 3) if self.text.startswith("```", begin) else ("Code", 1),
        }.get(char, (None, 0))
        if kind is None:
            raise EntityParseError(
                f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
            )
        self.pos += width
        entity = _OpenEntity(kind, self.out.utf16, _byte_offset(self.text, begin), self.out.mark())
        if kind == "Pre":
            self._pre_header(entity)
        self.stack.append(entity)

    def _pre_header(self, entity: _OpenEntity) -> None:
        """```lang opens a PreCode block; one line break after the header is not part of the text."""
        language_end = self.pos
        while language_end < len(self.text) and self.text[language_end] not in _SPACES + "`":
            language_end += 1
        if language_end != self.pos and language_end < len(self.text) and self.text[language_end] != "`":
            entity.kind, entity.language = "PreCode", self.text[self.pos : language_end]
            self.pos = language_end
        line_break = self.text[self.pos : self.pos + 2]
        if line_break in ("\r\n", "\n\r"):
            self.pos += 2
        elif line_break[:1] in ("\n", "\r"):
            self.pos += 1

    def _close(self) -> None:
        entity = self.stack.pop()
        end = self.out.utf16
        self.pos += {"Underline": 2, "Spoiler": 2, "Pre": 3, "PreCode": 3}.get(entity.kind, 1)
        extra: dict[str, str] = {}
        if entity.kind in ("TextUrl", "CustomEmoji"):
            url = self._link_target(entity)
            if not url:
                return
            extra = {"url": url} if entity.kind == "TextUrl" else {"custom_emoji_id": url.rpartition("=")[2]}
        elif entity.language:
            extra = {"language": entity.language}
        if end > entity.start:
            self.entities.append(_entity(_MDV2_TYPES[entity.kind], entity.start, end, **extra))

    def _link_target(self, entity: _OpenEntity) -> str:
        if not self.text.startswith("(", self.pos):
            if entity.kind == "CustomEmoji":
                raise EntityParseError("Custom emoji entity must contain a tg://emoji URL")
            return self.out.since(entity.mark)
        url_begin = self.pos + 1
        url: list[str] = []
        self.pos = url_begin
        while self.pos < len(self.text) and self.text[self.pos] != ")":
            char = self.text[self.pos]
            following = self.text[self.pos + 1] if self.pos + 1 < len(self.text) else ""
            if char == "\\" and following and 0 < ord(following) <= 126:
                url.append(following)
                self.pos += 2
            else:
                url.append(char)
                self.pos += 1
        if self.pos == len(self.text):
            raise EntityParseError(
                f"Can't find end of a URL at byte offset {_byte_offset(self.text, url_begin)}"
            )
        self.pos += 1
        return "".join(url)


_LEGACY_MARKDOWN = {"_": ("_", "italic"), "*": ("*", "bold"), "`": ("`", "code"), "[": ("]", "text_link")}


def _parse_legacy_markdown(text: str) -> tuple[str, list[JSONDict]]:
    """Legacy "Markdown": no nesting, and an entity opened but never closed is refused."""
    out = _Output()
    entities: list[JSONDict] = []
    pos = 0
    while pos < len(text):
        char = text[pos]
        if char == "\\" and text[pos + 1 : pos + 2] in _LEGACY_MARKDOWN:
            out.add(text[pos + 1])
            pos += 2
        elif char in _LEGACY_MARKDOWN:
            pos = _legacy_entity(text, pos, out, entities)
        else:
            out.add(char)
            pos += 1
    return out.text(), _sorted_entities(entities)


def _legacy_entity(text: str, pos: int, out: _Output, entities: list[JSONDict]) -> int:
    """Copy the entity starting at ``pos`` into ``out``; return the position after it."""
    closing, kind = ("```", "pre") if text.startswith("```", pos) else _LEGACY_MARKDOWN[text[pos]]
    opening = 3 if kind == "pre" else 1
    end = text.find(closing, pos + opening)
    if end < 0:
        raise EntityParseError(
            f"Can't find end of the entity starting at byte offset {_byte_offset(text, pos)}"
        )
    inner = text[pos + opening : end]
    start = out.utf16
    out.add(inner)
    after = end + len(closing)
    extra: dict[str, str] = {}
    if kind == "text_link":
        url_end = text.find(")", after) if text.startswith("(", after) else -1
        extra = {"url": text[after + 1 : url_end] if url_end >= 0 else inner}
        after = url_end + 1 if url_end >= 0 else after
    if inner:
        entities.append(_entity(kind, start, out.utf16, **extra))
    return after


_PARSERS: dict[str, Callable[[str], tuple[str, list[JSONDict]]]] = {
    "html": lambda text: _HtmlParser(text).parse(),
    "markdownv2": lambda text: _MarkdownV2Parser(text).parse(),
    "markdown": _parse_legacy_markdown,
}


def parse_entities(text: str, parse_mode: str) -> tuple[str, list[JSONDict]]:
    """Return the plain text and entities Telegram derives from ``text`` under ``parse_mode``.

    Raises EntityParseError with Telegram's wording when Telegram would refuse the
    markup, and KeyError for a parse mode Telegram does not know.
    """
    return _PARSERS[parse_mode.lower()](text)


# --------------------------------------------------------------------------- request parsing


@dataclass(frozen=True)
class _Upload:
    """A file part of a multipart request (PTB uploads files that way)."""

    filename: str | None
    mime_type: str | None
    content: bytes


def _coerce(name: str, raw: str) -> Any:
    """Turn a form or query value into what the same field would be in a JSON body."""
    if name in _JSON_FIELDS:
        try:
            return json.loads(raw)
        except ValueError:
            raise _bad_request(f"can't parse {name} JSON object") from None
    if name in _NUMBER_FIELDS:
        try:
            return int(raw)
        except ValueError:
            pass
        try:
            return float(raw)
        except ValueError:
            if name == "chat_id":  # "@channelusername"
                return raw
            raise _bad_request(f"invalid {name} specified") from None
    if name in _BOOL_FIELDS:
        return raw.lower() in ("true", "1")
    return raw


async def _read_params(request: web.Request) -> JSONDict:
    """Collect parameters from the query string and a JSON, urlencoded or multipart body."""
    params: JSONDict = {name: _coerce(name, value) for name, value in request.query.items()}
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise _bad_request("can't parse JSON object") from None
        if not isinstance(body, dict):
            raise _bad_request("can't parse JSON object")
        params.update(body)
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for name, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                with value.file:  # aiohttp spools uploads to a temporary file
                    params[name] = _Upload(value.filename, value.content_type, value.file.read())
            else:
                params[name] = _coerce(name, value)
    return params


def _error_response(error: ApiError) -> web.Response:
    body = {"ok": False, "error_code": error.code, "description": error.description}
    return web.json_response(body, status=error.code)


# --------------------------------------------------------------------------- text cleaning

# tdlib's clean_input_string: control characters become spaces (line feeds stay), and carriage
# returns, the line/paragraph separators and direction overrides U+2028-U+202E and three combining
# marks that draw vertical lines are dropped.
_CONTROL_CHARACTERS = frozenset(chr(code) for code in (*range(0, 10), 11, 12, *range(14, 32)))
_DROPPED_CHARACTERS = frozenset("\r\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u0333\u033f\u030a")
_CLEANING = str.maketrans({**dict.fromkeys(_CONTROL_CHARACTERS, " "), **dict.fromkeys(_DROPPED_CHARACTERS)})
_DIRECTION_MARK_RUN = re.compile("[\u200e\u200f]{2,}")
# tdlib's is_empty_string: a text of nothing but these (or tag characters U+E0000-U+E007F) is empty.
_BLANK_CHARACTERS = frozenset(
    " \n\u00a0\u1680\u180e\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u200b\u200c\u200d\u200e\u200f\u202e\u202f\u205f\u2800\u3000\ufeff\ufffc"
)


def _require_utf8(text: str) -> None:
    """Python strings decoded from JSON can hold lone surrogates; Telegram refuses them."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise _bad_request("strings must be encoded in UTF-8") from None


def _clean_input(text: str, entities: list[JSONDict]) -> tuple[str, list[JSONDict]]:
    """What tdlib keeps of a text, with the entities' UTF-16 offsets moved over dropped characters."""
    cleaned = _DIRECTION_MARK_RUN.sub(_mark_run, text.translate(_CLEANING))
    if not entities:
        return cleaned, []
    new_offset = {0: 0}
    old_utf16 = new_utf16 = 0
    for char in text:
        width = 2 if ord(char) > 0xFFFF else 1
        old_utf16 += width
        if char not in _DROPPED_CHARACTERS:
            new_utf16 += width
        new_offset[old_utf16] = new_utf16
    moved = []
    for entity in entities:
        start = new_offset.get(entity["offset"], entity["offset"])
        end = new_offset.get(entity["offset"] + entity["length"], entity["offset"] + entity["length"])
        if end > start:
            moved.append({**entity, "offset": start, "length": end - start})
    return cleaned, moved


def _mark_run(run: re.Match[str]) -> str:
    """tdlib keeps the last of a run of direction marks and turns the others into zero-width non-joiners."""
    return "\u200c" * (len(run[0]) - 1) + run[0][-1]


def _trim(text: str, entities: list[JSONDict]) -> tuple[str, list[JSONDict]]:
    """tdlib trims spaces and line feeds at both ends, but never cuts into the first entity."""
    body = text.rstrip(" \n")
    end = _utf16_len(body)
    first_entity = min((entity["offset"] for entity in entities), default=end)
    lead = min(len(body) - len(body.lstrip(" \n")), first_entity)  # spaces and line feeds: one unit each
    trimmed = []
    for entity in entities:
        length = min(entity["length"], end - entity["offset"])
        if length > 0:
            trimmed.append({**entity, "offset": entity["offset"] - lead, "length": length})
    return body[lead:], trimmed


def _is_blank(text: str) -> bool:
    return all(char in _BLANK_CHARACTERS or "\U000e0000" <= char <= "\U000e007f" for char in text)


def _telegram_text(raw: str, parse_mode: str | None, explicit_entities: Any) -> tuple[str, list[JSONDict]]:
    """The text and entities Telegram stores for ``raw``: markup parsed, then cleaned and trimmed."""
    _require_utf8(raw)
    text, entities = _render(raw, parse_mode, explicit_entities)
    return _trim(*_clean_input(text, entities))


# --------------------------------------------------------------------------- validation


def _render(raw: str, parse_mode: str | None, explicit_entities: Any) -> tuple[str, list[JSONDict]]:
    if not parse_mode:
        return raw, list(explicit_entities or [])
    try:
        return parse_entities(raw, parse_mode)
    except KeyError:
        raise _bad_request("unsupported parse_mode") from None
    except EntityParseError as error:
        raise _bad_request(f"can't parse entities: {error}") from None


def _validate_reply_markup(markup: Any) -> None:
    """Refuse inline keyboards Telegram refuses; other keyboards are stored unchecked."""
    if markup is None:
        return
    if not isinstance(markup, dict):
        raise _bad_request("can't parse reply keyboard markup JSON object")
    rows = markup.get("inline_keyboard")
    if rows is None:
        return
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise _bad_request(
            'can\'t parse inline keyboard button: Field "inline_keyboard" must be of type Array'
        )
    buttons = [button for row in rows for button in row]
    if len(buttons) > MAX_INLINE_BUTTONS:
        raise _bad_request("BUTTONS_TOO_MUCH")
    for button in buttons:
        _validate_inline_button(button)


def _validate_inline_button(button: Any) -> None:
    if not isinstance(button, dict) or not button.get("text"):
        raise _bad_request("can't parse inline keyboard button: Text must be non-empty")
    if not any(action in button for action in _BUTTON_ACTIONS):
        raise _bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA_BYTES:
            raise _bad_request("BUTTON_DATA_INVALID")


def _callback_datas(markup: JSONDict | None) -> set[str]:
    rows = (markup or {}).get("inline_keyboard") or []
    return {button["callback_data"] for row in rows for button in row if "callback_data" in button}


def _validate_commands(commands: Any) -> list[JSONDict]:
    if not isinstance(commands, list):
        raise _bad_request("can't parse commands JSON object")
    for command in commands:
        if not isinstance(command, dict) or not _COMMAND_SHAPE.fullmatch(str(command.get("command", ""))):
            raise _bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(str(command.get("description", ""))) <= 256:
            raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
    return [{"command": c["command"], "description": c["description"]} for c in commands]


def _commands_key(params: JSONDict) -> tuple[str, str]:
    scope = params.get("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True), str(params.get("language_code", ""))


def _api_view(message: JSONDict) -> JSONDict:
    """A stored message as the Bot API returns it: reply keyboards are not part of a Message."""
    markup = message.get("reply_markup")
    if markup is not None and "inline_keyboard" not in markup:
        return {key: value for key, value in message.items() if key != "reply_markup"}
    return dict(message)


def _delivery_error(status: int | None) -> str:
    """getWebhookInfo's last_error_message, worded like Telegram's."""
    if status is None:
        return "Connection refused"
    try:
        return f"Wrong response from the webhook: {status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"Wrong response from the webhook: {status}"


def _command_entities(text: str) -> list[JSONDict]:
    """Telegram marks /commands in user text; PTB's CommandHandler relies on that entity."""
    return [
        _entity("bot_command", _utf16_len(text[: m.start()]), _utf16_len(text[: m.end()]))
        for m in _BOT_COMMAND.finditer(text)
    ]


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class StoredFile:
    """A file getFile can describe and /file/bot<token>/<file_path> serves."""

    file_id: str
    file_unique_id: str
    file_path: str
    content: bytes
    file_name: str | None = None
    mime_type: str | None = None

    def as_file(self) -> JSONDict:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.content),
            "file_path": self.file_path,
        }


@dataclass
class UpdateTiming:
    """When an update was created by a simulated user and first handed to the bot (perf_counter seconds)."""

    update_id: int
    chat_id: int | None
    created_at: float
    delivered_at: float | None = None


@dataclass(frozen=True)
class ReplyRecord:
    """A message the bot sent, with the perf_counter time the emulator received it."""

    chat_id: int
    message_id: int
    received_at: float


@dataclass(frozen=True)
class RefusedCall:
    """A Bot API call answered with an error: what a bot's error handler would see from Telegram."""

    method: str
    description: str


@dataclass(frozen=True)
class WebhookDelivery:
    """One POST of an update to the webhook; status is None when the connection failed."""

    update_id: int
    status: int | None
    at: float


@dataclass(frozen=True)
class _Webhook:
    url: str
    secret_token: str | None
    max_connections: int


class _Changes:
    """Wakes every coroutine waiting for the emulator's state to change.

    Each notify() sets the current event and replaces it, so waiters re-check
    their condition once per change and never poll on a timer.
    """

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait_until(self, condition: Callable[[], bool], timeout: float | None) -> bool:
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while not condition():
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                return False
            try:
                await asyncio.wait_for(self._event.wait(), remaining)
            except asyncio.TimeoutError:
                return condition()
        return True


# --------------------------------------------------------------------------- emulator


class BotApiEmulator:
    """Telegram's Bot API for one bot, plus the users who talk to it.

    Bot side: the HTTP methods PTB calls.  Test side: ``user_*`` methods create
    updates, ``sent``/``wait_for_message`` and friends observe what the bot did,
    and ``request_counts``/``update_timings``/``reply_log`` feed benchmarks; ``refused`` lists
    every call answered with an error.
    """

    def __init__(
        self,
        token: str = "123456:TEST",
        *,
        bot_username: str = "kejibang_test_bot",
        bot_first_name: str = "科技帮测试",
        webhook_retry_delays: Iterable[float] = DEFAULT_RETRY_DELAYS,
        first_update_id: int | None = None,
    ) -> None:
        self.token = token
        self.bot_user: JSONDict = {
            "id": int(token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self._retry_delays = tuple(webhook_retry_delays)
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._client: aiohttp.ClientSession | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._changes = _Changes()
        self._stopping = False

        # Telegram never repeats a bot's update ids; a fresh emulator starts at an arbitrary large one, so
        # bots sharing a durable inbox across emulators (one per test) never see an old id again.
        self._update_ids = itertools.count(first_update_id if first_update_id is not None
                                           else random.randrange(10**8, 10**9))
        self._pending: list[JSONDict] = []
        self._redeliveries: list[JSONDict] = []
        self._allowed_updates: list[str] = []
        self._poll_generation = 0
        self._webhook: _Webhook | None = None
        self._webhook_error: tuple[int, str] | None = None

        self._chats: dict[int, JSONDict] = {}
        self._messages: dict[tuple[int, int], JSONDict] = {}
        self._message_ids: defaultdict[int, itertools.count[int]] = defaultdict(lambda: itertools.count(1))
        self._bot_messages: defaultdict[int, list[JSONDict]] = defaultdict(list)
        self._consumed: defaultdict[int, set[int]] = defaultdict(set)
        self._chat_actions: defaultdict[int, list[str]] = defaultdict(list)
        self._callback_ids = itertools.count(1)
        self._open_callbacks: set[str] = set()
        self._files: dict[str, StoredFile] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        self._file_numbers = itertools.count(1)
        self._commands: dict[tuple[str, str], list[JSONDict]] = {}

        self.answered_callbacks: list[JSONDict] = []
        self.request_counts: Counter[str] = Counter()
        self.update_timings: dict[int, UpdateTiming] = {}
        self.reply_log: list[ReplyRecord] = []
        self.refused: list[RefusedCall] = []
        self.webhook_deliveries: list[WebhookDelivery] = []

        methods: dict[str, Callable[[JSONDict], Awaitable[Any]]] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendDocument": self._send_document,
            "sendChatAction": self._send_chat_action,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "answerCallbackQuery": self._answer_callback_query,
            "getFile": self._get_file,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
        }
        # Telegram matches method names case-insensitively.
        self._methods = {name.lower(): (name, method) for name, method in methods.items()}

    # ----------------------------------------------------------------- lifecycle

    async def __aenter__(self) -> BotApiEmulator:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        """Base address, e.g. http://127.0.0.1:54321; PTB gets f"{url}/bot" and f"{url}/file/bot"."""
        if self._port is None:
            raise RuntimeError("the emulator is not started")
        return f"http://127.0.0.1:{self._port}"

    async def start(self) -> None:
        """Listen on a free loopback port and start delivering to webhooks when one is set."""
        app = web.Application(client_max_size=MAX_UPLOAD_BYTES)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{file_path:.+}", self._handle_download)
        app.router.add_route("*", "/{tail:.*}", self._handle_unknown_path)
        # handler_cancellation: a long poll whose client hung up must stop waiting, as on Telegram.
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self._port = self._runner.addresses[0][1]
        self._stopping = False
        self._client = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        self._webhook_task = asyncio.create_task(self._run_webhook_deliveries())

    async def stop(self) -> None:
        """Release pending long polls, stop webhook delivery and close the server."""
        self._stopping = True
        self._changes.notify()
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            await asyncio.gather(self._webhook_task, return_exceptions=True)
            self._webhook_task = None
        if self._client is not None:
            await self._client.close()
            self._client = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self._port = None

    # ----------------------------------------------------------------- HTTP

    async def _handle_api(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        if token != self.token:
            return _error_response(self._token_error(token))
        entry = self._methods.get(request.match_info["method"].lower())
        if entry is None:
            return _error_response(ApiError(404, "Not Found: method not found"))
        name, method = entry
        self.request_counts[name] += 1
        try:
            result = await method(await _read_params(request))
        except ApiError as error:
            self.refused.append(RefusedCall(name, error.description))
            return _error_response(error)
        return web.json_response({"ok": True, "result": result})

    @staticmethod
    def _token_error(token: str) -> ApiError:
        """Telegram answers 401 to a well-formed but unknown token and 404 to a malformed one."""
        return ApiError(401, "Unauthorized") if _TOKEN_SHAPE.fullmatch(token) else ApiError(404, "Not Found")

    async def _handle_download(self, request: web.Request) -> web.Response:
        stored = self._files_by_path.get(request.match_info["file_path"])
        if request.match_info["token"] != self.token or stored is None:
            return _error_response(ApiError(404, "Not Found"))
        self.request_counts["download"] += 1
        return web.Response(body=stored.content, content_type=stored.mime_type or "application/octet-stream")

    @staticmethod
    async def _handle_unknown_path(request: web.Request) -> web.Response:
        return _error_response(ApiError(404, "Not Found"))

    # ----------------------------------------------------------------- updates

    async def _get_me(self, params: JSONDict) -> JSONDict:
        return self.bot_user

    async def _get_updates(self, params: JSONDict) -> list[JSONDict]:
        """Long polling: answer as soon as something is deliverable, or with [] after ``timeout``."""
        if self._webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        self._confirm(int(params.get("offset", 0)))
        if "allowed_updates" in params:
            self._allowed_updates = list(params["allowed_updates"] or [])
        limit = min(max(int(params.get("limit", 100)), 1), 100)
        self._poll_generation += 1
        generation = self._poll_generation
        self._changes.notify()  # an older poll still waiting is now superseded
        await self._changes.wait_until(
            lambda: self._stopping or generation != self._poll_generation or bool(self._deliverable(limit)),
            max(params.get("timeout", 0), 0),
        )
        if generation != self._poll_generation:
            raise ApiError(
                409,
                "Conflict: terminated by other getUpdates request; "
                "make sure that only one bot instance is running",
            )
        return self._hand_over(self._deliverable(limit), time.perf_counter())

    def _confirm(self, offset: int) -> None:
        """An offset confirms every update below it; a negative one keeps only the last -offset."""
        if offset > 0:
            self._pending = [update for update in self._pending if update["update_id"] >= offset]
        elif offset < 0:
            self._pending = self._pending[offset:]

    def _deliverable(self, limit: int) -> list[JSONDict]:
        return sorted(self._redeliveries + self._pending, key=lambda update: update["update_id"])[:limit]

    def _hand_over(self, updates: list[JSONDict], at: float) -> list[JSONDict]:
        """Record delivery times; a re-delivered duplicate is handed over only once."""
        for update in updates:
            timing = self.update_timings.get(update["update_id"])
            if timing is not None and timing.delivered_at is None:
                timing.delivered_at = at
        self._redeliveries = [r for r in self._redeliveries if not any(r is u for u in updates)]
        return updates

    def _forget(self, update: JSONDict) -> None:
        self._pending = [pending for pending in self._pending if pending is not update]
        self._redeliveries = [redelivery for redelivery in self._redeliveries if redelivery is not update]

    def _enqueue(self, kind: str, payload: JSONDict, chat_id: int | None) -> JSONDict:
        update_id = next(self._update_ids)
        update = {"update_id": update_id, kind: payload}
        self.update_timings[update_id] = UpdateTiming(update_id, chat_id, time.perf_counter())
        if not self._allowed_updates or kind in self._allowed_updates:
            self._pending.append(update)
            self._changes.notify()
        return copy.deepcopy(update)

    # ----------------------------------------------------------------- webhooks

    async def _set_webhook(self, params: JSONDict) -> bool:
        url = str(params.get("url", ""))
        if not url:
            return await self._delete_webhook(params)
        if not url.startswith(("https://", "http://")):
            raise _bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not _SECRET_SHAPE.fullmatch(str(secret)):
            raise _bad_request("secret token contains unallowed characters")
        if params.get("drop_pending_updates"):
            self._pending.clear()
        if "allowed_updates" in params:
            self._allowed_updates = list(params["allowed_updates"] or [])
        self._webhook = _Webhook(url, secret, int(params.get("max_connections", 40)))
        self._webhook_error = None
        self._changes.notify()
        return True

    async def _delete_webhook(self, params: JSONDict) -> bool:
        if params.get("drop_pending_updates"):
            self._pending.clear()
        self._webhook = None
        self._changes.notify()
        return True

    async def _get_webhook_info(self, params: JSONDict) -> JSONDict:
        info: JSONDict = {
            "url": self._webhook.url if self._webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending) + len(self._redeliveries),
        }
        if self._webhook is not None:
            info["max_connections"] = self._webhook.max_connections
        if self._allowed_updates:
            info["allowed_updates"] = self._allowed_updates
        if self._webhook_error is not None:
            info["last_error_date"], info["last_error_message"] = self._webhook_error
        return info

    async def _run_webhook_deliveries(self) -> None:
        """Push updates to the webhook one at a time, in update_id order, like Telegram."""
        while True:
            await self._changes.wait_until(
                lambda: self._stopping or self._next_webhook_update() is not None, None
            )
            update = self._next_webhook_update()
            if self._stopping or update is None:
                return
            await self._deliver(update)

    def _next_webhook_update(self) -> JSONDict | None:
        if self._webhook is None:
            return None
        updates = self._deliverable(1)
        return updates[0] if updates else None

    async def _deliver(self, update: JSONDict) -> None:
        """Retry a refused delivery a few times, then drop the update as Telegram eventually does."""
        webhook = self._webhook
        assert webhook is not None
        for delay in (*self._retry_delays, None):
            started = time.perf_counter()
            status = await self._post(webhook.url, update, webhook.secret_token)
            if status is not None and 200 <= status < 300:
                self._hand_over([update], started)
                self._forget(update)
                return
            self._webhook_error = (int(time.time()), _delivery_error(status))
            if delay is None or self._webhook is not webhook:
                break
            await asyncio.sleep(delay)
        if self._webhook is webhook:
            self._forget(update)
            self._changes.notify()

    async def _post(self, url: str, update: JSONDict, secret_token: str | None) -> int | None:
        assert self._client is not None
        headers = {"Content-Type": "application/json"}
        if secret_token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret_token
        status: int | None = None
        try:
            async with self._client.post(url, data=json.dumps(update).encode(), headers=headers) as response:
                status = response.status
        except (aiohttp.ClientError, asyncio.TimeoutError):
            status = None
        self.webhook_deliveries.append(WebhookDelivery(update["update_id"], status, time.perf_counter()))
        self._changes.notify()
        return status

    async def post_to_webhook(self, update: JSONDict, secret_token: str | None) -> int | None:
        """POST ``update`` once to the current webhook with the given secret (None: no header).

        Lets a test check what the bot's webhook server does with a forged or
        unauthenticated delivery; returns the HTTP status (None if unreachable).
        """
        if self._webhook is None:
            raise RuntimeError("no webhook is set")
        return await self._post(self._webhook.url, update, secret_token)

    # ----------------------------------------------------------------- chats and messages

    def _require_chat(self, params: JSONDict) -> JSONDict:
        chat_id = params.get("chat_id")
        if chat_id in (None, ""):
            raise _bad_request("chat_id is empty")
        if isinstance(chat_id, str) and chat_id.lstrip("-").isdigit():  # JSON clients may quote ids
            chat_id = int(chat_id)
        chat = self._chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None:
            raise _bad_request("chat not found")
        return chat

    def _new_message(self, chat: JSONDict, sender: JSONDict, content: JSONDict) -> JSONDict:
        message_id = next(self._message_ids[chat["id"]])
        message = {
            "message_id": message_id,
            "from": sender,
            "chat": chat,
            "date": int(time.time()),
            **content,
        }
        self._messages[(chat["id"], message_id)] = message
        return message

    def _bot_sends(self, chat: JSONDict, params: JSONDict, content: JSONDict) -> JSONDict:
        """Store a message from the bot, with the markup and reply it asked for."""
        markup = params.get("reply_markup")
        _validate_reply_markup(markup)
        reply_to = self._reply_target(chat["id"], params)
        if markup is not None:
            content["reply_markup"] = markup
        if reply_to is not None:
            content["reply_to_message"] = reply_to
        message = self._new_message(chat, self.bot_user, content)
        self._bot_messages[chat["id"]].append(message)
        self.reply_log.append(ReplyRecord(chat["id"], message["message_id"], time.perf_counter()))
        self._changes.notify()
        return _api_view(message)

    def _reply_target(self, chat_id: int, params: JSONDict) -> JSONDict | None:
        reply = params.get("reply_parameters")
        if reply is None and "reply_to_message_id" in params:
            reply = {"message_id": params["reply_to_message_id"]}
        if reply is None:
            return None
        if not isinstance(reply, dict) or "message_id" not in reply:
            raise _bad_request("can't parse reply parameters JSON object")
        target = self._messages.get((reply.get("chat_id", chat_id), reply["message_id"]))
        if target is not None:
            return {key: value for key, value in _api_view(target).items() if key != "reply_to_message"}
        if reply.get("allow_sending_without_reply") or params.get("allow_sending_without_reply"):
            return None
        raise _bad_request("message to be replied not found")

    def _text_content(self, params: JSONDict) -> JSONDict:
        raw = "" if params.get("text") is None else str(params["text"])
        if not raw:
            raise _bad_request("message text is empty")
        text, entities = _telegram_text(raw, params.get("parse_mode"), params.get("entities"))
        if _is_blank(text):
            raise _bad_request("message text is empty")
        if len(text) > MAX_TEXT_LENGTH:
            raise _bad_request("message is too long")
        return {"text": text, **({"entities": entities} if entities else {})}

    def _caption_content(self, params: JSONDict) -> JSONDict:
        if params.get("caption") in (None, ""):
            return {}
        caption, entities = _telegram_text(
            str(params["caption"]), params.get("parse_mode"), params.get("caption_entities")
        )
        if len(caption) > MAX_CAPTION_LENGTH:
            raise _bad_request("message caption is too long")
        return {"caption": caption, **({"caption_entities": entities} if entities else {})}

    async def _send_message(self, params: JSONDict) -> JSONDict:
        chat = self._require_chat(params)
        return self._bot_sends(chat, params, self._text_content(params))

    async def _send_photo(self, params: JSONDict) -> JSONDict:
        chat = self._require_chat(params)
        stored = self._incoming_file(params.get("photo"), "photo")
        return self._bot_sends(
            chat, params, {"photo": [self._photo_size(stored)], **self._caption_content(params)}
        )

    async def _send_document(self, params: JSONDict) -> JSONDict:
        chat = self._require_chat(params)
        stored = self._incoming_file(params.get("document"), "document")
        return self._bot_sends(
            chat, params, {"document": self._document(stored), **self._caption_content(params)}
        )

    async def _send_chat_action(self, params: JSONDict) -> bool:
        chat = self._require_chat(params)
        action = params.get("action")
        if action not in _CHAT_ACTIONS:
            raise _bad_request("wrong parameter action in request")
        self._chat_actions[chat["id"]].append(action)
        self._changes.notify()
        return True

    def _editable_message(self, params: JSONDict) -> JSONDict:
        if "inline_message_id" in params:
            raise _bad_request("MESSAGE_ID_INVALID")  # the emulator has no inline mode
        chat = self._require_chat(params)
        if "message_id" not in params:
            raise _bad_request("message identifier is not specified")
        message = self._messages.get((chat["id"], params["message_id"]))
        if message is None:
            raise _bad_request("message to edit not found")
        if message["from"]["id"] != self.bot_user["id"]:
            raise _bad_request("message can't be edited")
        return message

    def _apply_edit(self, message: JSONDict, fields: JSONDict) -> JSONDict:
        """Set each field (None removes it); Telegram refuses an edit that changes nothing.

        The reply markup is always one of the fields: an edit that omits it drops
        the keyboard, as on Telegram.
        """
        _validate_reply_markup(fields["reply_markup"])
        if all(message.get(key) == value for key, value in fields.items()):
            raise _bad_request(
                "message is not modified: specified new message content and reply markup are exactly "
                "the same as a current content and reply markup of the message"
            )
        for key, value in fields.items():
            if value is None:
                message.pop(key, None)
            else:
                message[key] = value
        message["edit_date"] = int(time.time())
        self._changes.notify()
        return _api_view(message)

    async def _edit_message_text(self, params: JSONDict) -> JSONDict:
        message = self._editable_message(params)
        if "text" not in message:
            raise _bad_request("there is no text in the message to edit")
        fields = {"entities": None, **self._text_content(params), "reply_markup": params.get("reply_markup")}
        return self._apply_edit(message, fields)

    async def _edit_message_reply_markup(self, params: JSONDict) -> JSONDict:
        return self._apply_edit(self._editable_message(params), {"reply_markup": params.get("reply_markup")})

    async def _answer_callback_query(self, params: JSONDict) -> bool:
        query_id = str(params.get("callback_query_id", ""))
        if query_id not in self._open_callbacks:
            raise _bad_request("query is too old and response timeout expired or query ID is invalid")
        self._open_callbacks.discard(query_id)
        answer = {
            "callback_query_id": query_id,
            "text": params.get("text"),
            "show_alert": bool(params.get("show_alert", False)),
            "url": params.get("url"),
            "cache_time": params.get("cache_time", 0),
        }
        self.answered_callbacks.append(answer)
        self._changes.notify()
        return True

    # ----------------------------------------------------------------- files and commands

    def _store_file(
        self, kind: str, content: bytes, file_name: str | None = None, mime_type: str | None = None
    ) -> StoredFile:
        number = next(self._file_numbers)
        folder, default_suffix = {
            "photo": ("photos", ".jpg"),
            "voice": ("voice", ".oga"),
            "document": ("documents", ".bin"),
        }[kind]
        suffix = PurePosixPath(file_name or "").suffix or default_suffix
        stored = StoredFile(
            file_id=f"{kind}-{number:06d}",
            file_unique_id=f"u{kind}{number}",
            file_path=f"{folder}/file_{number}{suffix}",
            content=content,
            file_name=file_name,
            mime_type=mime_type or {"photo": "image/jpeg", "voice": "audio/ogg"}.get(kind),
        )
        self._files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    def _incoming_file(self, value: Any, kind: str) -> StoredFile:
        """An uploaded file, or the file_id of one the emulator already knows.

        URLs are refused: the emulator cannot reach the internet, and Telegram
        answers the same for a URL it cannot fetch.
        """
        if isinstance(value, _Upload):
            return self._store_file(kind, value.content, value.filename, value.mime_type)
        if value in (None, ""):
            raise _bad_request(f"there is no {kind} in the request")
        stored = self._files.get(str(value))
        if stored is None:
            raise _bad_request("wrong file identifier/HTTP URL specified")
        return stored

    @staticmethod
    def _photo_size(stored: StoredFile) -> JSONDict:
        # The emulator does not decode images, so every photo claims the size of TINY_JPEG.
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "width": 1,
            "height": 1,
            "file_size": len(stored.content),
        }

    @staticmethod
    def _document(stored: StoredFile) -> JSONDict:
        document = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
        }
        if stored.file_name:
            document["file_name"] = stored.file_name
        if stored.mime_type:
            document["mime_type"] = stored.mime_type
        return document

    async def _get_file(self, params: JSONDict) -> JSONDict:
        stored = self._files.get(str(params.get("file_id", "")))
        if stored is None:
            raise _bad_request("invalid file_id")
        return stored.as_file()

    async def _set_my_commands(self, params: JSONDict) -> bool:
        self._commands[_commands_key(params)] = _validate_commands(params.get("commands"))
        return True

    async def _get_my_commands(self, params: JSONDict) -> list[JSONDict]:
        return self._commands.get(_commands_key(params), [])

    async def _delete_my_commands(self, params: JSONDict) -> bool:
        self._commands.pop(_commands_key(params), None)
        return True

    # ----------------------------------------------------------------- simulated users

    def _remember_chat(self, chat_id: int, chat_type: str, first_name: str) -> JSONDict:
        """Private chats have the user's (positive) id; groups have negative ids, as on Telegram."""
        if chat_type not in ("private", "group", "supergroup"):
            raise ValueError(f"users cannot write in a {chat_type!r} chat")
        if (chat_id > 0) != (chat_type == "private"):
            raise ValueError(f"chat id {chat_id} does not fit a {chat_type} chat")
        known = self._chats.get(chat_id)
        if known is not None and known["type"] != chat_type:
            raise ValueError(f"chat {chat_id} is a {known['type']} chat, not {chat_type}")
        if known is None:
            names = {"first_name": first_name} if chat_type == "private" else {"title": "测试群"}
            known = self._chats[chat_id] = {"id": chat_id, "type": chat_type, **names}
        return known

    @staticmethod
    def _user(chat: JSONDict, user_id: int | None, first_name: str) -> JSONDict:
        if chat["type"] == "private":
            if user_id not in (None, chat["id"]):
                raise ValueError("in a private chat the user id is the chat id")
            user_id = chat["id"]
        return {
            "id": user_id or DEFAULT_GROUP_MEMBER_ID,
            "is_bot": False,
            "first_name": first_name,
            "language_code": "zh-hans",
        }

    def _user_message(
        self, chat_id: int, content: JSONDict, user_id: int | None, first_name: str, chat_type: str
    ) -> JSONDict:
        chat = self._remember_chat(chat_id, chat_type, first_name)
        message = self._new_message(chat, self._user(chat, user_id, first_name), content)
        return self._enqueue("message", message, chat_id)

    def user_sends(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int | None = None,
        first_name: str = "测试",
        chat_type: str = "private",
    ) -> JSONDict:
        """A user writes ``text``; /commands carry bot_command entities. Returns the Update."""
        entities = _command_entities(text)
        content = {"text": text, **({"entities": entities} if entities else {})}
        return self._user_message(chat_id, content, user_id, first_name, chat_type)

    def user_sends_photo(
        self,
        chat_id: int,
        *,
        caption: str | None = None,
        content: bytes = TINY_JPEG,
        user_id: int | None = None,
        first_name: str = "测试",
        chat_type: str = "private",
    ) -> JSONDict:
        """A user sends a photo whose bytes getFile and the download URL then serve."""
        stored = self._store_file("photo", content)
        message = {"photo": [self._photo_size(stored)], **({"caption": caption} if caption else {})}
        return self._user_message(chat_id, message, user_id, first_name, chat_type)

    def user_sends_voice(
        self,
        chat_id: int,
        *,
        duration: int = 2,
        content: bytes = TINY_OGG,
        user_id: int | None = None,
        first_name: str = "测试",
        chat_type: str = "private",
    ) -> JSONDict:
        """A user sends a voice note (Ogg/Opus on Telegram)."""
        stored = self._store_file("voice", content)
        voice = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "duration": duration,
            "mime_type": stored.mime_type,
            "file_size": len(content),
        }
        return self._user_message(chat_id, {"voice": voice}, user_id, first_name, chat_type)

    def user_sends_location(
        self,
        chat_id: int,
        latitude: float,
        longitude: float,
        *,
        user_id: int | None = None,
        first_name: str = "测试",
        chat_type: str = "private",
    ) -> JSONDict:
        """A user shares a location."""
        location = {"latitude": latitude, "longitude": longitude}
        return self._user_message(chat_id, {"location": location}, user_id, first_name, chat_type)

    def user_shares_contact(
        self,
        chat_id: int,
        phone_number: str,
        *,
        first_name: str = "测试",
        last_name: str | None = None,
        user_id: int | None = None,
        chat_type: str = "private",
    ) -> JSONDict:
        """A user shares their own contact (as with a request_contact keyboard button)."""
        chat = self._remember_chat(chat_id, chat_type, first_name)
        sender = self._user(chat, user_id, first_name)
        contact = {
            "phone_number": phone_number,
            "first_name": first_name,
            "user_id": sender["id"],
            **({"last_name": last_name} if last_name else {}),
        }
        return self._enqueue("message", self._new_message(chat, sender, {"contact": contact}), chat_id)

    def user_presses(
        self,
        chat_id: int,
        message_id: int,
        callback_data: str,
        *,
        user_id: int | None = None,
        first_name: str = "测试",
    ) -> str:
        """A user presses an inline button of a bot message; returns the callback query id.

        Raises LookupError when the message is not the bot's or has no such button,
        because a real user could not press it either.
        """
        message = self._bot_message(chat_id, message_id)
        if callback_data not in _callback_datas(message.get("reply_markup")):
            raise LookupError(f"message {message_id} in chat {chat_id} has no button {callback_data!r}")
        return self._callback_query(message, callback_data, user_id, first_name)

    def user_sends_callback(
        self,
        chat_id: int,
        message_id: int,
        callback_data: str,
        *,
        user_id: int | None = None,
        first_name: str = "测试",
    ) -> str:
        """A modified client's callback query: any data, on any bot message; returns the query id.

        The Bot API says of CallbackQuery.data: "Be aware that the message originated the query
        can contain no callback buttons with this data." Bots must survive forged data.
        """
        return self._callback_query(self._bot_message(chat_id, message_id), callback_data, user_id, first_name)

    def _bot_message(self, chat_id: int, message_id: int) -> JSONDict:
        message = self._messages.get((chat_id, message_id))
        if message is None or message["from"]["id"] != self.bot_user["id"]:
            raise LookupError(f"the bot sent no message {message_id} in chat {chat_id}")
        return message

    def _callback_query(self, message: JSONDict, callback_data: str, user_id: int | None, first_name: str) -> str:
        query_id = str(next(self._callback_ids))
        self._open_callbacks.add(query_id)
        query = {
            "id": query_id,
            "from": self._user(message["chat"], user_id, first_name),
            "message": copy.deepcopy(_api_view(message)),
            "chat_instance": str(message["chat"]["id"]),
            "data": callback_data,
        }
        self._enqueue("callback_query", query, message["chat"]["id"])
        return query_id

    def inject_duplicate(self, update: JSONDict) -> None:
        """Deliver ``update`` again with the same update_id, once, whatever the bot's offset.

        This is what the bot sees after Telegram retries (a crash before the offset
        was confirmed, or a webhook answer that timed out): handlers must be idempotent.
        """
        self._redeliveries.append(copy.deepcopy(update))
        self._changes.notify()

    # ----------------------------------------------------------------- observations

    def sent(self, chat_id: int) -> list[JSONDict]:
        """Messages the bot sent to ``chat_id``, oldest first, with later edits applied."""
        return copy.deepcopy(self._bot_messages.get(chat_id, []))

    def sent_count(self, chat_id: int) -> int:
        """How many messages the bot has sent to ``chat_id`` (cheap enough to test on every change)."""
        return len(self._bot_messages.get(chat_id, ()))

    def answered(self, query_id: str) -> bool:
        """Whether the bot has answered the callback query ``query_id``."""
        return query_id not in self._open_callbacks

    def chat_actions(self, chat_id: int) -> list[str]:
        """Chat actions ("typing", ...) the bot sent to ``chat_id``, in order."""
        return list(self._chat_actions.get(chat_id, []))

    async def wait_until(self, condition: Callable[[], bool], timeout: float = 5.0) -> None:
        """Wait, without polling, until ``condition()`` holds after some change; TimeoutError otherwise."""
        if not await self._changes.wait_until(condition, timeout):
            raise TimeoutError(f"condition not met within {timeout} s")

    async def wait_for_message(
        self, chat_id: int, predicate: MessagePredicate | None = None, timeout: float = 5.0
    ) -> JSONDict:
        """The oldest bot message in ``chat_id`` matching ``predicate`` not yet returned by this method.

        Each message is returned at most once, so a reply that arrived before the
        test started waiting is not missed and is not returned twice.
        """

        def first_unconsumed() -> JSONDict | None:
            consumed = self._consumed[chat_id]
            return next(
                (
                    m
                    for m in self._bot_messages.get(chat_id, [])
                    if m["message_id"] not in consumed and (predicate is None or predicate(m))
                ),
                None,
            )

        if not await self._changes.wait_until(lambda: first_unconsumed() is not None, timeout):
            texts = [m.get("text", m.get("caption")) for m in self._bot_messages.get(chat_id, [])]
            raise TimeoutError(
                f"no matching bot message in chat {chat_id} within {timeout} s; sent so far: {texts}"
            )
        message = first_unconsumed()
        assert message is not None
        self._consumed[chat_id].add(message["message_id"])
        return copy.deepcopy(message)

    def file_content(self, file_id: str) -> bytes:
        """The bytes behind a file_id, whoever uploaded it."""
        return self._files[file_id].content

    def reply_latency(self, update_id: int) -> float | None:
        """Seconds from handing ``update_id`` to the bot to its first later message in the same chat."""
        timing = self.update_timings.get(update_id)
        if timing is None or timing.delivered_at is None:
            return None
        return next(
            (
                reply.received_at - timing.delivered_at
                for reply in self.reply_log
                if reply.chat_id == timing.chat_id and reply.received_at >= timing.delivered_at
            ),
            None,
        )
