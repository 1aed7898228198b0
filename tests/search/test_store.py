"""The index's name: its own prefix setting, else the Kafka topic prefix (older installs)."""

from __future__ import annotations

import uuid

import pytest

from quckchat.core.search import ElasticsearchBackend
from quckchat.core.settings import Settings
from quckchat.search.store import index_for, index_prefix
from tests.support import server


def test_the_prefix_falls_back_to_the_kafka_topic_prefix() -> None:
    assert index_prefix(Settings(kafka_topic_prefix="k.", search_index_prefix=None)) == "k."
    assert index_prefix(Settings(kafka_topic_prefix="k.", search_index_prefix="s-")) == "s-"
    # Set but empty: no prefix at all, whatever Kafka's.
    assert index_prefix(Settings(kafka_topic_prefix="k.", search_index_prefix="")) == ""


@pytest.mark.elasticsearch
async def test_the_index_is_made_under_the_search_prefix() -> None:
    prefix = f"s{uuid.uuid4().hex[:8]}-"
    settings = Settings(
        elasticsearch_url=server("elasticsearch"),
        kafka_topic_prefix="unused.",
        search_index_prefix=prefix,
    )
    index = index_for(settings, None)
    assert isinstance(index, ElasticsearchBackend)
    try:
        await index.start()
        assert index.alias == f"{prefix}quckchat-messages"
        made = await index.client.indices.get_alias(name=index.alias)
        assert sorted(made) == [f"{prefix}quckchat-messages-0"]
        assert not await index.client.indices.exists_alias(name="unused.quckchat-messages")
    finally:
        await index.drop()
        await index.close()
