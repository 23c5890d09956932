"""google-cloud-storage against the emulator's Cloud Storage surface over HTTP on loopback:
multipart and resumable uploads, the object resource GCS answers, checksummed downloads,
bucket and object metadata, deletes, and anonymous writes refused as GCS refuses them."""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Iterator

import google_crc32c
import httpx
import pytest
import requests
from google.api_core import exceptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage

from standins.emulator import EmulatorConfig
from standins.emulator.running import FrozenClock, RunningEmulator, start_emulator
from tests.helpers.google import PROJECT, TOKEN, static_credentials

pytestmark = pytest.mark.usefixtures("offline_google")
BUCKET = "tuning-data"
MIB = 1024 * 1024


@pytest.fixture
def gcs_emulator() -> Iterator[RunningEmulator]:
    config = EmulatorConfig(clock=FrozenClock(), vertex_denied_buckets=frozenset({"locked"}))
    with start_emulator(config) as running:
        yield running


@pytest.fixture
def client(gcs_emulator: RunningEmulator) -> storage.Client:
    return storage.Client(
        project=PROJECT, credentials=static_credentials(), client_options={"api_endpoint": gcs_emulator.url}
    )


def md5(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def crc32c(data: bytes) -> str:
    return base64.b64encode(google_crc32c.value(data).to_bytes(4, "big")).decode()


def test_a_multipart_upload_answers_the_object_resource(
    client: storage.Client, gcs_emulator: RunningEmulator
) -> None:
    data = b'{"contents": []}\n' * 10
    blob = client.bucket(BUCKET).blob("tunebot/train.jsonl")
    blob.upload_from_string(data, content_type="application/jsonl")
    assert blob.size == len(data) and blob.content_type == "application/jsonl"
    assert blob.md5_hash == md5(data) and blob.crc32c == crc32c(data)
    assert blob.generation and blob.time_created is not None and blob.updated is not None
    assert gcs_emulator.emulator.stats()["by_method"]["storage.objects.insert"] == 1  # one multipart POST

    raw = httpx.get(
        f"{gcs_emulator.url}/storage/v1/b/{BUCKET}/o/tunebot%2Ftrain.jsonl",
        headers={"authorization": f"Bearer {TOKEN}"},
    ).json()
    assert raw["size"] == str(len(data)) and raw["generation"] == str(blob.generation)  # int64 as strings
    assert {"name", "bucket", "md5Hash", "crc32c", "contentType", "timeCreated", "updated"} <= set(raw)

    fetched = client.bucket(BUCKET).get_blob("tunebot/train.jsonl")
    assert fetched is not None and fetched.md5_hash == blob.md5_hash and fetched.size == len(data)
    assert fetched.download_as_bytes(checksum="md5") == data
    assert fetched.download_as_bytes(checksum="crc32c") == data


def test_a_large_upload_is_resumable_in_chunks_and_downloads_intact(
    client: storage.Client, gcs_emulator: RunningEmulator
) -> None:
    data = os.urandom(9 * MIB)  # over the client's 8 MiB multipart limit
    blob = client.bucket(BUCKET).blob("big.bin", chunk_size=4 * MIB)  # 3 chunks instead of 1
    blob.upload_from_string(data)
    assert blob.size == len(data) and blob.crc32c == crc32c(data)
    stats = gcs_emulator.emulator.stats()
    assert stats["by_method"]["storage.objects.insert"] == 4  # initiate + 3 chunks
    assert stats["by_status"]["308"] == 2  # "resume incomplete" after the first two chunks
    assert gcs_emulator.emulator.vertex.object(BUCKET, "big.bin") == data

    downloaded = client.bucket(BUCKET).blob("big.bin").download_as_bytes()  # crc32c checked
    assert downloaded == data
    head = client.bucket(BUCKET).blob("big.bin").download_as_bytes(start=5, end=9)
    assert head == data[5:10]


def test_bucket_get_and_object_delete(client: storage.Client, gcs_emulator: RunningEmulator) -> None:
    bucket = client.get_bucket(BUCKET)
    assert bucket.name == BUCKET and bucket.location == "US" and bucket.time_created is not None
    bucket.blob("a.jsonl").upload_from_string(b"{}\n")
    bucket.blob("b.jsonl").upload_from_string(b"{}\n")
    assert [b.name for b in client.list_blobs(BUCKET)] == ["a.jsonl", "b.jsonl"]
    bucket.blob("a.jsonl").delete()
    assert bucket.get_blob("a.jsonl") is None
    with pytest.raises(exceptions.NotFound, match=r"No such object: tuning-data/a\.jsonl"):
        bucket.blob("a.jsonl").delete()
    with pytest.raises(exceptions.NotFound):
        bucket.blob("a.jsonl").download_as_bytes()
    assert [b.name for b in client.list_blobs(BUCKET)] == ["b.jsonl"]


def test_a_write_without_permission_is_refused_403(client: storage.Client) -> None:
    with pytest.raises(exceptions.Forbidden, match=r"storage\.objects\.create"):
        client.bucket("locked").blob("x.jsonl").upload_from_string(b"{}\n")


def test_an_anonymous_write_is_refused_as_gcs_refuses_it(gcs_emulator: RunningEmulator) -> None:
    anonymous = storage.Client(
        project=PROJECT,
        credentials=AnonymousCredentials(),
        client_options={"api_endpoint": gcs_emulator.url},
        _http=requests.Session(),  # no token, and no refresh attempt on the 401
    )
    with pytest.raises(exceptions.Unauthorized) as refused:
        anonymous.bucket(BUCKET).blob("x.jsonl").upload_from_string(b"{}\n")
    assert "Anonymous caller does not have storage.objects.create access" in refused.value.message
    assert gcs_emulator.emulator.vertex.object(BUCKET, "x.jsonl") is None

    raw = httpx.post(
        f"{gcs_emulator.url}/upload/storage/v1/b/{BUCKET}/o?uploadType=media&name=x", content=b"x"
    )
    error = raw.json()["error"]
    assert raw.status_code == 401 and error["code"] == 401
    assert error["errors"][0] | {"message": ""} == {
        "message": "",
        "domain": "global",
        "reason": "required",
        "locationType": "header",
        "location": "Authorization",
    }


def test_an_upload_whose_checksum_does_not_match_is_refused(gcs_emulator: RunningEmulator) -> None:
    boundary = "b0undary"
    body = (
        f"--{boundary}\r\ncontent-type: application/json; charset=UTF-8\r\n\r\n"
        '{"name": "x", "crc32c": "AAAAAA=="}'
        f"\r\n--{boundary}\r\ncontent-type: text/plain\r\n\r\nhello\r\n--{boundary}--"
    ).encode()
    answer = httpx.post(
        f"{gcs_emulator.url}/upload/storage/v1/b/{BUCKET}/o?uploadType=multipart",
        content=body,
        headers={
            "authorization": f"Bearer {TOKEN}",
            "content-type": f'multipart/related; boundary="{boundary}"',
        },
    )
    assert (
        answer.status_code == 400 and "doesn't match calculated CRC32C" in answer.json()["error"]["message"]
    )
    assert gcs_emulator.emulator.vertex.object(BUCKET, "x") is None
