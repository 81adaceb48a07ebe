"""Errors every exchange transport raises alike, each with a stable code and a Chinese message."""

from __future__ import annotations


class ExchangeError(Exception):
    """Base: ``code`` is stable for programs, ``message`` is plain Chinese for people."""

    status = 500

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class InputRejected(ExchangeError):
    """The request was understood and refused: fix the input, do not retry."""

    status = 422


class NotFound(ExchangeError):
    """No such user, need, expert or article."""

    status = 404


class Unauthorized(ExchangeError):
    """Missing or wrong API key."""

    status = 401


class Forbidden(Unauthorized):
    """A valid key whose scope does not cover the request."""

    status = 403


class ExchangeUnavailable(ExchangeError):
    """The exchange could not be reached or failed: the write may be retried later."""

    status = 503


class BadRequest(InputRejected):
    """The request itself cannot be read (e.g. a header that is not UTF-8): fix the caller, do not retry."""

    status = 400
