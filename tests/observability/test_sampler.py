"""RuntimeSampler: saturation signals of the process and its pools."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from livify.observability import PoolStatus, RuntimeMetrics, RuntimeSampler


def test_sample_records_process_and_pools() -> None:
    """One sample sets memory, CPU, descriptors, loop lag and pool gauges."""
    registry = CollectorRegistry()
    sampler = RuntimeSampler(
        RuntimeMetrics(registry),
        pool_probes=[lambda: [PoolStatus("read", size=10, checked_out=3, waiting=2)]],
    )

    sampler.sample_once(loop_lag_seconds=0.05)

    def value(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(name, labels)

    assert (value("livify_process_resident_memory_bytes") or 0) > 1_000_000
    assert (value("livify_process_open_fds") or 0) > 0
    assert value("livify_process_cpu_seconds_total") is not None
    assert value("livify_event_loop_lag_seconds") == 0.05
    assert value("livify_db_pool_size", pool="read") == 10
    assert value("livify_db_pool_checked_out", pool="read") == 3
    assert value("livify_db_pool_waiting", pool="read") == 2
