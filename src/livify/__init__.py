"""livify: a community-platform API and the ASGI performance toolkit it is built on."""

from __future__ import annotations

__version__ = "0.1.0"
