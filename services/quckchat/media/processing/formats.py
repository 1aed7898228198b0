"""The sniffed content types that processing knows, by what it does with them."""

from __future__ import annotations

JPEG = "image/jpeg"
PNG = "image/png"
WEBP = "image/webp"
TIFF = "image/tiff"
HEIF = frozenset({"image/heic", "image/heif", "image/heic-sequence", "image/heif-sequence"})
IMAGES = frozenset({JPEG, PNG, "image/gif", WEBP, "image/avif", TIFF, *HEIF})
PDF = "application/pdf"
TEXT = "text/plain"
