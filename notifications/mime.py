"""Writing an email as RFC 5322 / MIME bytes: headers, then a text and an HTML alternative in base64.

The standard library's generator refolds every header through its parser and costs about four times the
rendering of a digest; this writer only does what our emails need (UTF-8 text parts, headers that are
ASCII or become RFC 2047 encoded words) and the tests read its output with the standard parser.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable

CRLF = "\r\n"
_WORD_BYTES = 45
"""UTF-8 bytes per encoded word: 60 base64 characters, a 72-character word, within RFC 2047's 75."""


def encode_words(text: str) -> str:
    """An ASCII header value as it is; anything else as UTF-8 base64 encoded words, one per folded line.

    >>> encode_words("Hello")
    'Hello'
    >>> encode_words("Décision")
    '=?utf-8?b?RMOpY2lzaW9u?='
    """
    if text.isascii():
        return text
    words: list[str] = []
    chunk: list[str] = []
    size = 0
    for character in text:
        length = len(character.encode())
        if size + length > _WORD_BYTES:
            words.append("".join(chunk))
            chunk = []
            size = 0
        chunk.append(character)
        size += length
    words.append("".join(chunk))
    return (CRLF + " ").join(f"=?utf-8?b?{base64.b64encode(word.encode()).decode()}?=" for word in words)


def _unbroken(name: str, value: str) -> str:
    """A header value must not hold a line break (it would let a value add headers of its own)."""
    if "\r" in value or "\n" in value:
        raise ValueError(f"header {name} holds a line break: {value[:80]!r}")
    return value


def header(name: str, value: str) -> str:
    r"""One header, encoded and folded.

    >>> header("List-Unsubscribe", "<https://x.example/u>, <mailto:u@x.example>")
    'List-Unsubscribe: <https://x.example/u>,\r\n <mailto:u@x.example>'
    """
    value = _unbroken(name, value)
    if name == "List-Unsubscribe":  # a list of URLs: folded after each comma, lines well under 998
        return f"{name}: " + ("," + CRLF + " ").join(part.strip() for part in value.split(","))
    return f"{name}: {encode_words(value)}"


def address_header(name: str, display: str, email: str) -> str:
    """`From: Name <email>`, the name quoted or encoded as needed.

    >>> address_header("From", "PIB", "alerts@pib.example"), address_header("From", "Équipe PIB", "a@b.example")
    ('From: PIB <alerts@pib.example>', 'From: =?utf-8?b?w4lxdWlwZSBQSUI=?= <a@b.example>')
    """
    email = _unbroken(name, email)
    display = _unbroken(name, display)
    if not display:
        return f"{name}: {email}"
    if not display.isascii():
        return f"{name}: {encode_words(display)} <{email}>"
    if any(character in display for character in '()<>[]:;@\\,."'):
        escaped = display.replace("\\", "\\\\").replace('"', '\\"')
        return f'{name}: "{escaped}" <{email}>'
    return f"{name}: {display} <{email}>"


def _body(text: str) -> bytes:
    """Base64 of the text in canonical form (lines end in CRLF, RFC 2046), in lines of 76 characters."""
    if "\r" in text:
        text = text.replace(CRLF, "\n")
    encoded = base64.b64encode(text.replace("\n", CRLF).encode())
    return b"\r\n".join([encoded[start : start + 76] for start in range(0, len(encoded), 76)])


def build(headers: Iterable[str], text: str, html: str, *, boundary: str) -> bytes:
    """The whole message: the header lines given (see `header`), the MIME headers, both parts.

    `boundary` must not occur in the parts: one starting with `=_` never does in base64.
    """
    lines = [*headers, "MIME-Version: 1.0", f'Content-Type: multipart/alternative; boundary="{boundary}"', ""]
    out = [CRLF.join(lines).encode("ascii")]
    for subtype, body in (("plain", text), ("html", html)):
        part = f'--{boundary}\r\nContent-Type: text/{subtype}; charset="utf-8"\r\nContent-Transfer-Encoding: base64\r\n'
        out += [part.encode("ascii"), _body(body)]
    out.append(f"--{boundary}--\r\n".encode("ascii"))
    return b"\r\n".join(out)
