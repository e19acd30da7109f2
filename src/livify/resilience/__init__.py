"""Toolkit: protections for the server and its outbound calls."""

from __future__ import annotations

from livify.resilience._body_limit import BodySizeLimitMiddleware, RequestBodyTooLarge

__all__ = ["BodySizeLimitMiddleware", "RequestBodyTooLarge"]
