"""The media service's processing core: a file on disk in, renditions out (pure: no I/O but the
file, its temporary frame and the decoding subprocesses).

`process(path, content_type, limits)` dispatches on the sniffed type:
- images (JPEG, PNG, GIF, WebP, AVIF, TIFF; HEIC and HEIF): thumbnail and preview of the first
  frame, EXIF orientation applied, no metadata; blurhash; for a JPEG, PNG or WebP whose EXIF
  holds GPS, the sanitized original (only its GPS IFD removed);
- video/*: poster and thumbnail of the frame at 1 s (0 for shorter clips), by ffmpeg;
- application/pdf: thumbnail and preview of page one, and the text of the first pages;
- docx, xlsx, pptx, odt, ods, odp and text/plain: text only.
"""

from quckchat.media.processing.dispatch import process
from quckchat.media.processing.limits import Limits
from quckchat.media.processing.results import Processed, Rendition

__all__ = ["Limits", "Processed", "Rendition", "process"]
