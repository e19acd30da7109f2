"""Errors of content moderation.

ModerationUnavailable: the service timed out, failed, returned a response
    that is not a verdict, or the client rejected the call (breaker open,
    bulkhead full). The post is then held as pending and queued.

A rejection is not an exception here: it is a `Verdict`, which the
services turn into `Unprocessable` (422) for the client.
"""

from __future__ import annotations


class ModerationUnavailable(Exception):
    """The moderation service gave no verdict; check the post again later."""
