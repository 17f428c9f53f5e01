"""/v1/files: upload (streamed to disk), list, retrieve, delete, and their errors."""

from __future__ import annotations

import httpx

from finetune_sdk.emulator import Emulator
from tests.emulator.helpers import MakeClient, dataset, upload


def test_upload_returns_a_file_object_and_stores_the_bytes_under_the_original_name(
    emu: Emulator, client: httpx.Client
) -> None:
    content = dataset(5)
    answer = upload(client, content, name="../../etc/support.jsonl")
    assert answer.status_code == 200
    body = answer.json()
    assert body["id"].startswith("file-")
    assert body["object"] == "file"
    assert body["bytes"] == len(content)
    assert body["filename"] == "support.jsonl"
    assert body["purpose"] == "fine-tune"
    assert isinstance(body["created_at"], int)
    assert answer.headers["x-request-id"].startswith("req_")
    stored = emu.state.get_file(body["id"])
    assert stored is not None
    assert stored.path.name == "support.jsonl"
    assert stored.path.parent.parent == emu.state.root
    assert stored.path.read_bytes() == content


def test_a_large_upload_streams_in_chunks(emu: Emulator, client: httpx.Client) -> None:
    content = dataset(20_000)  # ~2 MB: many body chunks, more than starlette would keep in memory
    body = upload(client, content).json()
    stored = emu.state.get_file(body["id"])
    assert stored is not None
    assert body["bytes"] == len(content) == stored.path.stat().st_size


def test_list_retrieve_delete(client: httpx.Client) -> None:
    first = upload(client, dataset(2)).json()
    listed = client.get("/files").json()
    assert listed["object"] == "list"
    assert listed["has_more"] is False
    assert first["id"] in [f["id"] for f in listed["data"]]
    assert client.get("/files", params={"purpose": "other"}).json()["data"] == []
    assert client.get(f"/files/{first['id']}").json() == first
    deleted = client.delete(f"/files/{first['id']}")
    assert deleted.json() == {"id": first["id"], "object": "file", "deleted": True}
    gone = client.get(f"/files/{first['id']}")
    assert gone.status_code == 404
    assert gone.json()["error"]["code"] == "file_not_found"
    assert client.delete(f"/files/{first['id']}").status_code == 404


def test_upload_errors_name_the_field_and_store_nothing(emu: Emulator, client: httpx.Client) -> None:
    before = emu.state.counts()["files"]
    no_file = client.post("/files", data={"purpose": "fine-tune"}, files={"other": ("x", b"1")})
    assert no_file.status_code == 400
    assert no_file.json()["error"]["param"] == "file"
    bad_purpose = client.post("/files", files={"file": ("a.jsonl", b"{}")}, data={"purpose": "batch"})
    assert bad_purpose.status_code == 400
    assert "purpose" in bad_purpose.json()["error"]["message"]
    not_multipart = client.post("/files", json={"file": "x"})
    assert not_multipart.status_code == 400
    assert emu.state.counts()["files"] == before
    assert sorted(p.name for p in emu.state.root.iterdir()) == sorted(f.id for f in emu.state.list_files())


def test_too_large_upload_is_413(make_client: MakeClient) -> None:
    with Emulator(max_file_bytes=100) as small:
        client = make_client(small)
        answer = upload(client, b"x" * 1000)
        assert answer.status_code == 413
        assert answer.json()["error"]["code"] == "file_too_large"
        assert small.state.counts()["files"] == 0


def test_the_upload_folder_is_deleted_on_stop(make_client: MakeClient) -> None:
    emulator = Emulator().start()
    root = emulator.state.root
    upload(make_client(emulator), dataset(2))
    assert any(root.iterdir())
    emulator.stop()
    assert not root.exists()
