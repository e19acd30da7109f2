"""Content moderation: the reference service and the platform's use of it.

New and edited articles and comments are sent to a moderation service over
HTTP before they are published. Approved posts are published at once, and
rejected ones get 422. When the service gives no verdict (timeout, 5xx,
open circuit breaker, full bulkhead), the post is stored as pending, only
its author can see it, and a row in `moderation_queue` makes the worker
check it again later.
"""

from __future__ import annotations

from livify.platform.moderation._client import ModerationClient, Verdict
from livify.platform.moderation._command import (
    add_moderation_arguments,
    run_moderation_command,
)
from livify.platform.moderation._dependency import build_moderation_dependency
from livify.platform.moderation._exceptions import ModerationUnavailable
from livify.platform.moderation._gate import Moderation
from livify.platform.moderation._metrics import ModerationMetrics
from livify.platform.moderation._queue import (
    ARTICLE,
    COMMENT,
    ModerationQueue,
    QueuedPost,
    dequeue,
    dequeue_article,
    enqueue,
)
from livify.platform.moderation._reference import (
    BannedWords,
    Faults,
    create_moderation_app,
)
from livify.platform.moderation._runtime import ModerationRuntime
from livify.platform.moderation._worker import ModerationWorker

__all__ = [
    "ARTICLE",
    "COMMENT",
    "BannedWords",
    "Faults",
    "Moderation",
    "ModerationClient",
    "ModerationMetrics",
    "ModerationQueue",
    "ModerationRuntime",
    "ModerationUnavailable",
    "ModerationWorker",
    "QueuedPost",
    "Verdict",
    "add_moderation_arguments",
    "build_moderation_dependency",
    "create_moderation_app",
    "dequeue",
    "dequeue_article",
    "enqueue",
    "run_moderation_command",
]
