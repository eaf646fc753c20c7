"""Image attachments: strict base64 decoding, limits, type sniffing and content-addressed files.

The database keeps only ``{type, mime_type, size, sha256}`` per image; the bytes are
written once to ``<media dir>/<first two hex digits>/<sha256><extension>``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medrecord_api.i18n import ATTACHMENT_REASONS
from medrecord_api.problems import ApiError, FieldError
from medrecord_api.schemas import AttachmentIn

__all__ = ["IMAGE_EXTENSIONS", "DecodedImage", "MediaStore", "decode_attachments", "sniff_image"]

logger = logging.getLogger(__name__)

IMAGE_EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "image/gif": ".gif",
}

# Declared types that mean the same as a sniffed one.
_MIME_ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg"}


@dataclass(frozen=True)
class DecodedImage:
    """An image from a request, decoded and checked, with its type taken from its bytes."""

    mime_type: str
    data: bytes
    sha256: str

    def as_json(self) -> dict[str, Any]:
        """Return the attachment entry stored in ``messages.attachments``."""
        return {
            "type": "image",
            "mime_type": self.mime_type,
            "size": len(self.data),
            "sha256": self.sha256,
        }


def sniff_image(data: bytes) -> str | None:
    """Return the MIME type of JPEG, PNG, WebP or GIF bytes from their signature, else None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def decode_attachments(
    attachments: Sequence[AttachmentIn], *, max_bytes: int, max_count: int
) -> list[DecodedImage]:
    """Decode and check the attachments of a message.

    Raises :class:`ApiError`: ``validation_failed`` (422) for more than ``max_count``
    attachments, ``attachment_too_large`` (413) for an image over ``max_bytes``, and
    ``invalid_attachment`` (422) for data that is not strict base64, not a supported
    image, or not of the declared ``mime_type``.
    """
    if len(attachments) > max_count:
        field = FieldError(
            field="body.attachments",
            code="too_long",
            english=f"At most {max_count} attachments are allowed",
            context={"max_length": max_count},
        )
        raise ApiError(
            "validation_failed", 422, {"count": 1, "fields": field.field}, errors=[field]
        )

    return [
        _decode_one(index, attachment, max_bytes) for index, attachment in enumerate(attachments)
    ]


def _decode_one(index: int, attachment: AttachmentIn, max_bytes: int) -> DecodedImage:
    position = index + 1
    # Reject an oversized string before decoding it: base64 is 4 characters per 3 bytes.
    if len(attachment.data) > 4 * -(-max_bytes // 3):
        raise _too_large(index, position, max_bytes)

    try:
        data = base64.b64decode(attachment.data, validate=True)
    except (binascii.Error, ValueError):
        raise _invalid(index, position, "invalid_base64") from None
    if not data:
        raise _invalid(index, position, "empty")
    if len(data) > max_bytes:
        raise _too_large(index, position, max_bytes)

    mime_type = sniff_image(data)
    if mime_type is None:
        raise _invalid(index, position, "unsupported_type")
    if attachment.mime_type is not None:
        declared = attachment.mime_type.split(";")[0].strip().lower()
        if _MIME_ALIASES.get(declared, declared) != mime_type:
            raise _invalid(index, position, "type_mismatch")

    return DecodedImage(mime_type=mime_type, data=data, sha256=hashlib.sha256(data).hexdigest())


def _invalid(index: int, position: int, reason: str) -> ApiError:
    field = "mime_type" if reason == "type_mismatch" else "data"
    return ApiError(
        "invalid_attachment",
        422,
        {"position": position, "reason": ATTACHMENT_REASONS[reason]},
        errors=[
            FieldError(
                field=f"body.attachments.{index}.{field}",
                code=reason,
                english=f"Attachment {position} is invalid ({reason})",
            )
        ],
    )


def _too_large(index: int, position: int, max_bytes: int) -> ApiError:
    return ApiError(
        "attachment_too_large",
        413,
        {"position": position, "limit": max_bytes},
        errors=[
            FieldError(
                field=f"body.attachments.{index}.data",
                code="too_large",
                english=f"Attachment {position} exceeds {max_bytes} bytes",
            )
        ],
    )


class MediaStore:
    """A directory of uploaded images, each stored once under its SHA-256 digest."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def prepare(self) -> None:
        """Create the directory if it is missing."""
        self.directory.mkdir(parents=True, exist_ok=True)

    def path_of(self, image: DecodedImage) -> Path:
        """Return the file of an image."""
        return self.path_for(image.sha256, image.mime_type)

    def path_for(self, sha256: str, mime_type: str) -> Path:
        """Return the file of the image with this digest and type."""
        return self.directory / sha256[:2] / f"{sha256}{IMAGE_EXTENSIONS[mime_type]}"

    def save(self, image: DecodedImage) -> Path:
        """Write an image unless a file with its digest exists; return its path.

        The file is written under a temporary name and renamed, so a reader never sees
        half an image, and two requests saving the same image both succeed.
        """
        path = self.path_of(image)
        if path.exists():
            return path

        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(descriptor, "wb") as file:
                file.write(image.data)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        logger.info("stored image %s (%d bytes)", image.sha256, len(image.data))
        return path
