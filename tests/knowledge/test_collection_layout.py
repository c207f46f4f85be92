"""The Qdrant collection is created with the shard number, replication factor and write consistency of the settings.

No Qdrant server or cluster can be had here (../shared/OFFLINE.md), and none is faked: the settings go through
``open_store`` to a real ``QdrantClient`` in local mode (the same API as a server), whose ``create_collection``
call is recorded. Local mode accepts the cluster parameters but does not keep them (it has no shards), so the
recorded call is also turned into the REST body qdrant-client sends to a server (``models.CreateCollection``).
"""

from __future__ import annotations

from typing import Any

import pytest
import qdrant_client
from qdrant_client import QdrantClient, models

from knowledge.config import KnowledgeSettings
from knowledge.store import DENSE, SPARSE, ClientStore, open_store

# Local mode warns once that payload indexes have no effect without a server.
pytestmark = pytest.mark.filterwarnings("ignore:Payload indexes have no effect:UserWarning")


class RecordingClient(QdrantClient):
    """qdrant-client's local mode, remembering the arguments of ``create_collection``."""

    calls: list[dict[str, Any]]

    def __init__(self, **kwargs: Any) -> None:
        self.opened_with = kwargs
        self.calls = []
        super().__init__(":memory:")

    def create_collection(self, collection_name: str, **kwargs: Any) -> bool:
        self.calls.append({"collection_name": collection_name, **kwargs})
        return bool(super().create_collection(collection_name, **kwargs))


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> list[RecordingClient]:
    made: list[RecordingClient] = []

    def factory(**kwargs: Any) -> RecordingClient:
        client = RecordingClient(**kwargs)
        made.append(client)
        return client

    monkeypatch.setattr(qdrant_client, "QdrantClient", factory)
    return made


def test_settings_reach_create_collection(recorded: list[RecordingClient], tmp_path: Any) -> None:
    settings = KnowledgeSettings(
        data_dir=tmp_path,
        qdrant_url="http://qdrant.aria.svc:6333",
        qdrant_api_key="ci-placeholder",
        qdrant_collection="aria_chunks",
        qdrant_shards=6,
        qdrant_replication_factor=2,
        qdrant_write_consistency=1,
        _env_file=None,
    )
    store = open_store(settings, dim=384)
    try:
        assert isinstance(store, ClientStore)
        (client,) = recorded
        assert client.opened_with["url"] == "http://qdrant.aria.svc:6333"
        assert client.opened_with["api_key"] == "ci-placeholder"
        (call,) = client.calls
        assert call["collection_name"] == "aria_chunks"
        assert (call["shard_number"], call["replication_factor"], call["write_consistency_factor"]) == (6, 2, 1)
        assert call["vectors_config"][DENSE].size == 384
        assert call["vectors_config"][DENSE].distance == models.Distance.COSINE
        assert call["sparse_vectors_config"][SPARSE].modifier == models.Modifier.IDF
        assert client.collection_exists("aria_chunks")  # local mode accepted the call as a server would

        # The REST body qdrant-client builds for a server from these arguments (its own model, validated).
        body = models.CreateCollection(
            vectors=call["vectors_config"],
            sparse_vectors=call["sparse_vectors_config"],
            shard_number=call["shard_number"],
            replication_factor=call["replication_factor"],
            write_consistency_factor=call["write_consistency_factor"],
        ).model_dump(exclude_none=True)
        assert body["shard_number"] == 6
        assert body["replication_factor"] == 2
        assert body["write_consistency_factor"] == 1
    finally:
        store.close()


def test_an_existing_collection_is_left_as_it_is(recorded: list[RecordingClient]) -> None:
    """The layout applies at creation only (changing it means re-creating the collection, see deploy/README.md)."""
    client = RecordingClient()
    ClientStore(client, "chunks", dim=8, shards=3, replication_factor=2, write_consistency=2)
    ClientStore(client, "chunks", dim=8, shards=9, replication_factor=3, write_consistency=3)
    assert [c["shard_number"] for c in client.calls] == [3]
    assert recorded == []


def test_defaults_are_one_shard_one_replica(recorded: list[RecordingClient], tmp_path: Any) -> None:
    store = open_store(KnowledgeSettings(data_dir=tmp_path, qdrant_url="http://qdrant:6333", _env_file=None), dim=16)
    store.close()
    (call,) = recorded[0].calls
    assert (call["shard_number"], call["replication_factor"], call["write_consistency_factor"]) == (1, 1, 1)
