"""The operator's Prometheus metrics say what its Recorder counted and each cluster's phase."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from quckchat_operator.apply import Recorder
from quckchat_operator.metrics import CLUSTER_PHASE, RecorderCollector, record_phase
from quckchat_operator.models import Phase


def test_writes_and_reconciles_are_exposed_as_counters() -> None:
    recorder = Recorder()
    recorder.write("apply", "Deployment")
    recorder.write("apply", "Deployment")
    recorder.write("delete", "Service")
    recorder.reconciles = 3
    registry = CollectorRegistry()
    registry.register(RecorderCollector(recorder))
    text = generate_latest(registry).decode()
    assert 'quckchat_operator_api_writes_total{kind="Deployment",verb="apply"} 2.0' in text
    assert 'quckchat_operator_api_writes_total{kind="Service",verb="delete"} 1.0' in text
    assert "quckchat_operator_reconciles_total 3.0" in text


def test_phase_gauge_marks_one_phase_and_is_removed_with_the_cluster() -> None:
    record_phase("team", "chat", Phase.PROVISIONING)
    record_phase("team", "chat", Phase.READY)
    assert CLUSTER_PHASE.labels("team", "chat", "Ready")._value.get() == 1
    assert CLUSTER_PHASE.labels("team", "chat", "Provisioning")._value.get() == 0
    record_phase("team", "chat", None)
    names = {
        sample.labels["name"] for metric in CLUSTER_PHASE.collect() for sample in metric.samples
    }
    assert "chat" not in names
