"""Errors raised by `livify.loadtest`.

LoadTestError
 ├── InvalidThreshold      a threshold expression or file could not be parsed
 ├── InvalidResult         a result file is not a livify load-test result
 └── TargetUnavailable     the target server did not start or did not respond
"""

from __future__ import annotations


class LoadTestError(Exception):
    """Base class of every error raised by `livify.loadtest`."""


class InvalidThreshold(LoadTestError, ValueError):
    """A threshold such as `p95 < 250ms` could not be parsed."""


class InvalidResult(LoadTestError, ValueError):
    """A JSON file does not contain a livify load-test result."""


class TargetUnavailable(LoadTestError):
    """The target server did not start, or did not respond in time."""
