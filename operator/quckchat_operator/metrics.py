"""Prometheus metrics of the operator: its write calls, reconcile passes and each cluster's phase.

The write and reconcile counts are read from the Recorder the Applier already keeps, so the
figure a test asserts and the figure a dashboard shows are the same number.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import REGISTRY, Gauge, Histogram, start_http_server
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from quckchat_operator.apply import RECORDER, Recorder
from quckchat_operator.models import Phase

RECONCILE_SECONDS = Histogram(
    "quckchat_operator_reconcile_duration_seconds",
    "Time one reconcile pass over a QuckChatCluster took",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
CLUSTER_PHASE = Gauge(
    "quckchat_operator_cluster_phase",
    "1 for the phase each QuckChatCluster is in, 0 for the others",
    ["namespace", "name", "phase"],
)


class RecorderCollector(Collector):
    """Exposes a Recorder's counts as counters at scrape time."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    def collect(self) -> Iterator[CounterMetricFamily]:
        writes = CounterMetricFamily(
            "quckchat_operator_api_writes",
            "Write calls the operator made to the apiserver, by verb and kind",
            labels=["verb", "kind"],
        )
        for verb_kind, count in sorted(self.recorder.writes.items()):
            verb, _, kind = verb_kind.partition(" ")
            writes.add_metric([verb, kind], count)
        yield writes
        yield CounterMetricFamily(
            "quckchat_operator_reconciles",
            "Reconcile passes completed over QuckChatClusters",
            value=self.recorder.reconciles,
        )


def record_phase(namespace: str, name: str, phase: Phase | None) -> None:
    """Set the cluster's phase gauge; None when the cluster is gone removes its series."""
    for each in Phase:
        if phase is None:
            try:
                CLUSTER_PHASE.remove(namespace, name, str(each))
            except KeyError:
                continue
        else:
            CLUSTER_PHASE.labels(namespace, name, str(each)).set(1 if each == phase else 0)


def serve(port: int, address: str = "0.0.0.0") -> None:
    """Serve /metrics on `port` from a daemon thread, the operator's counts included."""
    REGISTRY.register(RecorderCollector(RECORDER))
    start_http_server(port, addr=address)
