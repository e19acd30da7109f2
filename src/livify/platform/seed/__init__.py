"""Demo data: a realistic, skewed community for demos and load tests.

`seed_database` fills a migrated database; `livify seed` runs it from the
command line.
"""

from __future__ import annotations

from livify.platform.seed._dataset import SeedSizes
from livify.platform.seed._seed import DEMO_PASSWORD, SeedReport, seed_database

__all__ = ["DEMO_PASSWORD", "SeedReport", "SeedSizes", "seed_database"]
