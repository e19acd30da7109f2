"""Request ids, made only when a log line or a response needs one.

Most requests write no log line (the access log is sampled) and most
responses carry no id, so the id is not made up front. The middleware puts
the request's ASGI scope in a context variable. The first log line of the
request, or a response that shows the id, makes it, and the scope keeps it
for every later line.
"""

from __future__ import annotations

import contextvars
import itertools
import os
import re

from livify.types import Scope

REQUEST_ID_HEADER = b"x-request-id"
# Accept a caller's request id only if it is short and plain, so it is safe
# to echo in a header and to write into logs.
REQUEST_ID_PATTERN = re.compile(rb"^[A-Za-z0-9._:-]{1,128}$")
# The scope key (an ASGI extension key) that keeps the id once it is made.
_SCOPE_KEY = "livify.request_id"

current_scope: contextvars.ContextVar[Scope | None] = contextvars.ContextVar(
    "livify_request_scope", default=None
)

_prefix = os.urandom(8).hex()
_counter = itertools.count(1)


def _new_prefix() -> None:
    global _prefix, _counter
    _prefix = os.urandom(8).hex()
    _counter = itertools.count(1)


# A forked worker must not repeat its parent's ids.
os.register_at_fork(after_in_child=_new_prefix)


def request_id(scope: Scope) -> str:
    """Return the id of the request `scope` describes, making it on first use.

    That is the caller's `X-Request-ID` when it is plain and short enough,
    otherwise a random per-process prefix and a counter: unique across
    processes and restarts, without a system call per request.
    """
    value: str | None = scope.get(_SCOPE_KEY)
    if value is None:
        value = _from_headers(scope) or f"{_prefix}{next(_counter):x}"
        scope[_SCOPE_KEY] = value
    return value


def current_request_id() -> str | None:
    """Return the id of the request being served here, or None outside one."""
    scope = current_scope.get()
    return None if scope is None else request_id(scope)


def _from_headers(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == REQUEST_ID_HEADER and REQUEST_ID_PATTERN.match(value):
            return str(value.decode("ascii"))
    return None
