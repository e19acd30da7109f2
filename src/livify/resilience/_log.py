"""The package's structlog logger.

Breaker transitions, retries and a retry budget that starts or stops
rejecting are logged. Calls rejected by an open breaker or a full bulkhead
are counted through the hooks, not logged one by one.
"""

from __future__ import annotations

import structlog

logger = structlog.get_logger("livify.resilience")
