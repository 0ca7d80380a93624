"""Where camera frames come from: `camera:N` (an OpenCV capture device) or, for simulation and tests, a directory of
still images or a video file (`camera:file:/path`). Every source hands out BGR frames one at a time."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from devices.camera.decode import read_image
from devices.errors import TransportError

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"})


class FrameSource(Protocol):
    live: bool
    """A live camera drops stale frames (decode the newest); a file source is decoded frame by frame."""

    def read(self) -> np.ndarray | None:
        """The next frame; None at the end of a file source. Raises `OSError` when a camera stops delivering."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class CameraUrl:
    """`camera:0` → index 0; `camera:file:/x/y` → path `/x/y`."""

    index: int | None = None
    path: Path | None = None


def parse_camera_url(url: str) -> CameraUrl:
    head, sep, rest = url.partition(":")
    if head.lower() != "camera" or not sep or not rest:
        raise TransportError(f"not a camera URL: {url!r} (camera:0 or camera:file:/path)")
    if rest.startswith("file:"):
        path = rest[len("file:") :]
        if path.startswith("//"):
            path = path[2:]
        if not path:
            raise TransportError(f"camera:file: needs a path: {url!r}")
        return CameraUrl(path=Path(path))
    try:
        index = int(rest)
    except ValueError:
        raise TransportError(f"camera index must be a number: {url!r}") from None
    if index < 0:
        raise TransportError(f"camera index must not be negative: {url!r}")
    return CameraUrl(index=index)


class CaptureSource:
    """An OpenCV `VideoCapture` (a USB camera by index, or a video file)."""

    def __init__(self, target: int | str, *, live: bool) -> None:
        self.live = live
        self._capture = cv2.VideoCapture(target)
        if not self._capture.isOpened():
            self._capture.release()
            raise TransportError(f"cannot open camera {target!r}", permanent=False)

    def read(self) -> np.ndarray | None:
        ok, frame = self._capture.read()
        if not ok or frame is None:
            if self.live:
                raise OSError("camera stopped delivering frames")
            return None
        return np.asarray(frame)

    def close(self) -> None:
        self._capture.release()


class ImageDirectorySource:
    """Still images in name order, one per frame; `repeat` frames of each simulate holding a code to the camera.
    Unreadable files are skipped (a still that OpenCV cannot decode is no frame at all)."""

    live = False

    def __init__(self, files: list[Path], *, repeat: int = 1, loop: bool = False) -> None:
        if not files:
            raise TransportError("no images to play", permanent=False)
        self._files = files
        self._repeat = max(1, repeat)
        self._loop = loop
        self._index = 0
        self._current: np.ndarray | None = None
        self._left = 0

    def read(self) -> np.ndarray | None:
        while self._left == 0:
            if self._index >= len(self._files):
                if not self._loop:
                    return None
                self._index = 0
            image = read_image(str(self._files[self._index]))
            self._index += 1
            if image is not None:
                self._current, self._left = image, self._repeat
        self._left -= 1
        return self._current

    def close(self) -> None:
        self._current = None

    @classmethod
    def from_directory(cls, directory: Path, *, repeat: int = 1, loop: bool = False) -> ImageDirectorySource:
        files = sorted(p for p in directory.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        if not files:
            raise TransportError(f"no images in {directory}", permanent=False)
        return cls(files, repeat=repeat, loop=loop)

    @classmethod
    def single(cls, path: Path, *, repeat: int = 1, loop: bool = False) -> ImageDirectorySource:
        return cls([path], repeat=repeat, loop=loop)


def open_source(url: str, *, repeat: int = 1, loop: bool = False) -> FrameSource:
    """Open the frame source a `camera:` URL names. `TransportError(permanent=False)` when it may appear later."""
    parsed = parse_camera_url(url)
    if parsed.index is not None:
        return CaptureSource(parsed.index, live=True)
    assert parsed.path is not None
    if parsed.path.is_dir():
        return ImageDirectorySource.from_directory(parsed.path, repeat=repeat, loop=loop)
    if parsed.path.is_file():
        if parsed.path.suffix.lower() in IMAGE_SUFFIXES:
            return ImageDirectorySource.single(parsed.path, repeat=repeat, loop=loop)
        return CaptureSource(str(parsed.path), live=False)
    raise TransportError(f"no such file or directory: {parsed.path}", permanent=False)
