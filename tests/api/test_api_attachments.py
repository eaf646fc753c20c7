"""Downloading a session's images: owner scoping, unknown digests, files gone from disk."""

from __future__ import annotations

import hashlib
from pathlib import Path

from fastapi.testclient import TestClient
from medrecord_api import Settings

from tests.api.helpers import ALICE, BOB, PNG_BYTES, auth, create_session, png_base64, send_message

PNG_DIGEST = hashlib.sha256(PNG_BYTES).hexdigest()


def upload_png(client: TestClient) -> str:
    session_id = create_session(client)
    response = send_message(
        client,
        session_id,
        "手臂上的红疹，请看照片",
        attachments=[{"type": "image", "data": png_base64()}],
    )
    assert response.status_code == 200, response.text
    return session_id


def test_uploaded_image_downloads(client: TestClient) -> None:
    session_id = upload_png(client)

    response = client.get(
        f"/api/sessions/{session_id}/attachments/{PNG_DIGEST}", headers=auth(ALICE)
    )

    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.content == PNG_BYTES


def test_other_user_gets_missing_session(client: TestClient) -> None:
    session_id = upload_png(client)

    foreign = client.get(
        f"/api/sessions/{session_id}/attachments/{PNG_DIGEST}",
        headers=auth(BOB, **{"Accept-Language": "en"}),
    )
    missing = client.get(
        f"/api/sessions/no-such-session/attachments/{PNG_DIGEST}",
        headers=auth(BOB, **{"Accept-Language": "en"}),
    )

    assert foreign.status_code == 404
    assert foreign.json()["code"] == "session_not_found"
    assert foreign.json()["title"] == missing.json()["title"]


def test_unknown_digest_not_found(client: TestClient) -> None:
    session_id = upload_png(client)
    other_session = create_session(client)

    unknown = client.get(f"/api/sessions/{session_id}/attachments/{'0' * 64}", headers=auth(ALICE))
    elsewhere = client.get(
        f"/api/sessions/{other_session}/attachments/{PNG_DIGEST}", headers=auth(ALICE)
    )

    assert unknown.status_code == 404
    assert unknown.json()["code"] == "attachment_not_found"
    assert elsewhere.status_code == 404
    assert elsewhere.json()["code"] == "attachment_not_found"


def test_malformed_digest_rejected(client: TestClient) -> None:
    session_id = upload_png(client)

    response = client.get(
        f"/api/sessions/{session_id}/attachments/NOT-A-DIGEST", headers=auth(ALICE)
    )

    assert response.status_code == 422
    assert response.json()["code"] == "validation_failed"


def test_file_gone_from_disk_not_found(client: TestClient, api_settings: Settings) -> None:
    session_id = upload_png(client)
    for image in Path(api_settings.media_dir).rglob(f"{PNG_DIGEST}*"):
        image.unlink()

    response = client.get(
        f"/api/sessions/{session_id}/attachments/{PNG_DIGEST}", headers=auth(ALICE)
    )

    assert response.status_code == 404
    assert response.json()["code"] == "attachment_not_found"
