"""The package's structlog logger.

Store failures are logged when the circuit opens or a probe fails, so a
Redis outage writes about one line per cooldown, not one per request.
"""

from __future__ import annotations

import structlog

logger = structlog.get_logger("livify.ratelimit")
