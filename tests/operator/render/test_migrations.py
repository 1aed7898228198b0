"""The migration Job of a version."""

from __future__ import annotations

from tests.operator.support import container, env, of_kind, render, render_example


def test_one_job_per_version_running_migrate_all() -> None:
    (job,) = of_kind(
        render({"version": "2.3.4", "upgradeStrategy": {"migrationTimeoutSeconds": 900}}), "Job"
    ).values()
    assert job["metadata"]["name"] == "qc-migrate-2-3-4"
    assert container(job)["args"] == ["migrate", "--all"]
    assert container(job)["image"].endswith(":2.3.4")
    assert job["spec"]["activeDeadlineSeconds"] == 900
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    # Server URLs only: an explicit database URL would put every service's schema in it.
    assert set(env(job)) == {"QUCKCHAT_MYSQL_URL", "QUCKCHAT_POSTGRESQL_URL"}


def test_with_external_stores_the_job_reads_their_secrets() -> None:
    (job,) = of_kind(render_example("external-stores-cluster"), "Job").values()
    assert env(job)["QUCKCHAT_POSTGRESQL_URL"]["valueFrom"]["secretKeyRef"] == {
        "name": "quckchat-postgresql",
        "key": "url",
    }
