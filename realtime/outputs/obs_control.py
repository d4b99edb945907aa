"""--obs URL: keep two sources in OBS's current scene through obs-websocket 5: an image source
"PoseRec effect" (the selected effect's art, moved, scaled and turned every frame to its place
on the body) and a text source "PoseRec effects" (the top effects' names, one a line). Both are
created when missing and reused when present (the user may move the text, restyle either).

Coordinates: the camera is assumed to fill the OBS canvas (a camera source stretched to the
whole canvas), so a frame's (x, y) is the canvas's (x * canvas width / frame width, y * canvas
height / frame height). With `--mirror` the effect is mirrored as the other outputs are.

Threads and drop rule. The sink is a pipeline listener that only stores the newest state in a
LatestWinsSlot (a slow OBS skips updates, newest wins, and never slows the pipeline); its own
thread poses the effect (EffectPoser), talks to OBS and, when OBS closes or restarts, says so
in one line and reconnects with backoff while the run goes on.
"""
from __future__ import annotations

import hashlib
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import cv2

from poserec_core.errors import PoseRecError

from ..drawing.art import ArtBook
from ..drawing.effects import Anchor
from ..engine.channels import LatestWinsSlot
from ..engine.worker import POLL_S, Worker
from ..messages import PoseFrame, Recommendation
from .obs_client import REQUEST_TIMEOUT_S, ObsClient, ObsRequestFailed, ObsUnavailable

IMAGE_SOURCE = "PoseRec effect"
TEXT_SOURCE = "PoseRec effects"
TEXT_KINDS = ("text_ft2_source_v2", "text_gdiplus_v2")
"""OBS's text source on Linux and macOS, on Windows."""

NOT_FOUND = 600
"""obs-websocket's RequestStatus ResourceNotFound."""

ART_HEIGHT_PX = 512
"""SVG art is given to OBS as a PNG of this height: OBS 29's image source draws an SVG only at
its own size (36 px for Twemoji), blurred when scaled to the body."""

BACKOFF_S = (0.5, 1.0, 2.0, 4.0, 8.0)
"""Waits between reconnection attempts; the last repeats."""

SCENE_CHECK_S = 1.0
"""How often the current scene is looked up again (the user may switch scenes)."""

CLOSE_TIMEOUT_S = 3.0
FINAL_TIMEOUT_S = 0.5
"""How long hiding the sources at the end of a run waits for OBS."""

TEXT_SETTINGS = {"text": "", "font": {"face": "Sans", "size": 48}, "outline": True}
"""A created text source's look: large, outlined, readable over any video."""
TEXT_PLACE = {"positionX": 24.0, "positionY": 24.0}
"""Where a created text source goes on the canvas (top left, off the edge)."""


@dataclass(frozen=True)
class ObsConfig:
    """Where OBS listens and its websocket password (from $POSEREC_OBS_PASSWORD)."""

    url: str
    password: str | None = None

    def __post_init__(self):
        if not self.url.startswith(("ws://", "wss://")):
            raise PoseRecError(f"--obs {self.url}: not a ws://HOST:PORT address (OBS shows it "
                               "in Tools > WebSocket Server Settings)")


def canvas_transform(pose, canvas: tuple[int, int]) -> dict:
    """The SetSceneItemTransform of an EffectPose: its box mapped from the frame to the canvas
    (the camera filling it), centred on the box's centre, turned by the pose's angle."""
    sx = canvas[0] / pose.frame_size[0]
    sy = canvas[1] / pose.frame_size[1]
    return {"positionX": pose.cx * sx, "positionY": pose.cy * sy, "rotation": pose.angle_deg,
            "alignment": 0, "boundsType": "OBS_BOUNDS_STRETCH", "boundsAlignment": 0,
            "boundsWidth": max(1.0, pose.width * sx), "boundsHeight": max(1.0, pose.height * sy)}


class ArtFiles:
    """A file OBS's image source can show for each effect: the PNG art itself, or a PNG
    rendering of SVG art written once to $XDG_CACHE_HOME/poserec/obs-art (OBS reads it from
    this machine's disk)."""

    def __init__(self, book: ArtBook, cache_dir: Path | None = None):
        self._book = book
        cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        self._dir = cache_dir or cache / "poserec" / "obs-art"

    def path(self, name: str) -> Path:
        """The PNG for `name`, rendered and cached when its art is an SVG."""
        art = self._book.path(name)
        if art.suffix.lower() != ".svg":
            return art
        stat = art.stat()
        key = hashlib.sha256(f"{art}|{stat.st_mtime_ns}|{stat.st_size}|{ART_HEIGHT_PX}"
                             .encode()).hexdigest()[:20]
        target = self._dir / f"{key}.png"
        if not target.exists():
            self._dir.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(f".{os.getpid()}.png")
            cv2.imwrite(str(partial), self._book.image(name, ART_HEIGHT_PX))
            os.replace(partial, target)
        return target


class ObsScene:
    """The two PoseRec sources in OBS's current scene, over one connection: ensure() finds or
    creates them, show() updates what changed."""

    def __init__(self, client: ObsClient, art: ArtFiles):
        self.client = client
        self._art = art
        self.scene: str | None = None
        self.canvas: tuple[int, int] = (0, 0)
        self._items: dict[str, int] = {}
        self._shown: dict[str, object] = {}

    def ensure(self) -> None:
        """Look up the current scene and canvas, find or create both sources in it."""
        request = self.client.request
        scene = request("GetCurrentProgramScene")["currentProgramSceneName"]
        video = request("GetVideoSettings")
        self.canvas = (video["baseWidth"], video["baseHeight"])
        if scene == self.scene and self._items:
            return
        kinds = request("GetInputKindList")["inputKinds"]
        text_kind = next((kind for kind in TEXT_KINDS if kind in kinds), None)
        if text_kind is None:
            raise ObsUnavailable(f"OBS offers no text source ({', '.join(TEXT_KINDS)})")
        self._items = {IMAGE_SOURCE: self._item(scene, IMAGE_SOURCE, "image_source", {}),
                       TEXT_SOURCE: self._item(scene, TEXT_SOURCE, text_kind, TEXT_SETTINGS,
                                               TEXT_PLACE)}
        self.scene = scene
        self._shown = {}
        self._enable(TEXT_SOURCE, True)

    def _item(self, scene: str, name: str, kind: str, settings: dict,
              place: dict | None = None) -> int:
        """The scene item of input `name` in `scene`: found, added (the input exists elsewhere),
        or created with the input (settings) and put at `place` (a transform)."""
        request = self.client.request
        try:
            return request("GetSceneItemId", {"sceneName": scene, "sourceName": name})["sceneItemId"]
        except ObsRequestFailed as exc:
            if exc.code != NOT_FOUND:
                raise
        inputs = {i["inputName"] for i in request("GetInputList")["inputs"]}
        if name in inputs:
            return request("CreateSceneItem", {"sceneName": scene, "sourceName": name})["sceneItemId"]
        item = request("CreateInput", {"sceneName": scene, "inputName": name, "inputKind": kind,
                                       "inputSettings": settings})["sceneItemId"]
        if place is not None:
            request("SetSceneItemTransform", {"sceneName": scene, "sceneItemId": item,
                                              "sceneItemTransform": place})
        return item

    def show(self, pose, names: tuple[str, ...]) -> None:
        """Put the art of `pose` (an EffectPose, or None: hidden) in place and the names in the
        text source, sending only what changed since the last call."""
        if names != self._shown.get("names"):
            self._set_input(TEXT_SOURCE, {"text": "\n".join(names)})
            self._shown["names"] = names
        visible = pose is not None and pose.opacity > 0
        if visible:
            if pose.name != self._shown.get("art"):
                self._set_input(IMAGE_SOURCE, {"file": str(self._art.path(pose.name))})
                self._shown["art"] = pose.name
            self.client.request("SetSceneItemTransform", {
                "sceneName": self.scene, "sceneItemId": self._items[IMAGE_SOURCE],
                "sceneItemTransform": canvas_transform(pose, self.canvas)})
        if visible != self._shown.get(IMAGE_SOURCE):
            self._enable(IMAGE_SOURCE, visible)

    def hide(self, timeout: float) -> None:
        """Hide both sources."""
        for name in self._items:
            self._enable(name, False, timeout)

    def _enable(self, name: str, enabled: bool, timeout: float = REQUEST_TIMEOUT_S) -> None:
        self.client.request("SetSceneItemEnabled", {
            "sceneName": self.scene, "sceneItemId": self._items[name],
            "sceneItemEnabled": enabled}, timeout)
        self._shown[name] = enabled

    def _set_input(self, name: str, settings: dict) -> None:
        self.client.request("SetInputSettings", {"inputName": name, "inputSettings": settings})


@dataclass(frozen=True)
class _State:
    """What OBS should show: the newest pose frame, the selected effect, the top names."""

    frame: PoseFrame
    selected: str | None
    names: tuple[str, ...]


class ObsControlWorker(Worker):
    """Keeps OBS up to date with the newest state; reconnects with backoff when OBS is lost."""

    name = "OBS control"

    def __init__(self, config: ObsConfig, scene: ObsScene, states: LatestWinsSlot, poser,
                 art: ArtFiles, frame_size: tuple[int, int] | None, log: TextIO, report,
                 mirror: bool = False):
        super().__init__(report=report)
        self._mirror = mirror
        self._config = config
        self._scene: ObsScene | None = scene
        self._client: ObsClient | None = scene.client
        self._states = states
        self._poser = poser
        self._art = art
        self._frame_size = frame_size
        self._log = log
        self.updates = 0
        self.reconnects = 0

    def run(self) -> None:
        """Update OBS until stop(); on a lost connection, reconnect and carry on."""
        scene, checked = self._scene, time.monotonic()
        attempt, refused = 0, False
        while not self.stopping:
            if self._client is None:
                if self._stop_event.wait(BACKOFF_S[min(attempt, len(BACKOFF_S) - 1)]):
                    break
                attempt += 1
                try:
                    self._client = ObsClient.connect(self._config.url, self._config.password)
                except ObsUnavailable:
                    continue
                self.reconnects += 1
                print(f"poserec live: OBS at {self._config.url} is back; updating it again",
                      file=self._log, flush=True)
                scene, attempt = None, 0
            state = self._states.get(POLL_S)
            try:
                if scene is None or time.monotonic() - checked > SCENE_CHECK_S:
                    scene = scene or ObsScene(self._client, self._art)
                    scene.ensure()
                    checked = time.monotonic()
                if state is not None:
                    scene.show(self._pose(state), state.names)
                    self.updates += 1
            except ObsUnavailable as exc:
                self._drop_client()
                if self.stopping:
                    break
                print(f"poserec live: {exc}; the run goes on, reconnecting", file=self._log,
                      flush=True)
            except ObsRequestFailed as exc:
                if not refused:
                    print(f"poserec live: {exc}; trying again", file=self._log, flush=True)
                refused, scene = True, None  # a source or the scene went away: find them again
                self._stop_event.wait(BACKOFF_S[0])
                continue
            refused = False
        if self._client is not None and scene is not None and scene.scene is not None:
            self._finish(scene)
        self._drop_client()

    def _finish(self, scene: ObsScene) -> None:
        """Send the last state, then hide both sources (PoseRec is no longer driving them)."""
        state = self._states.get(0)
        try:
            if state is not None:
                scene.show(self._pose(state), state.names)
                self.updates += 1
            scene.hide(FINAL_TIMEOUT_S)
        except (ObsUnavailable, ObsRequestFailed):
            pass  # OBS is gone or slow: the sources stay as they were

    def _pose(self, state: _State):
        """The selected effect's EffectPose on this frame (mirrored with `--mirror`); None
        (hidden) without one, and for background effects, which belong behind the person (as
        on /ar)."""
        frame, catalog = state.frame, self._poser.catalog
        size = (frame.image.shape[1], frame.image.shape[0]) if frame.image is not None \
            else self._frame_size
        selected = state.selected
        if size is None or (selected in catalog and catalog[selected].anchor is Anchor.BACKGROUND):
            return None
        pose = self._poser.update(selected, frame.landmarks, size, frame.t_capture_ns)
        return pose.mirrored() if self._mirror and pose is not None else pose

    def _drop_client(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def abort(self) -> None:
        """Stop, and end a request waiting on a frozen OBS."""
        self.stop()
        client = self._client
        if client is not None:
            client.close()


class ObsControlSink:
    """Pipeline sink of `--obs`: open() connects (ObsUnavailable, one line, when OBS cannot be
    reached or refuses the password), each call stores the newest state, close() hides the
    sources, ends the thread and prints how many updates OBS took and how many it skipped."""

    def __init__(self, config: ObsConfig, poser, art: ArtFiles,
                 frame_size: tuple[int, int] | None, log: TextIO | None = None,
                 mirror: bool = False):
        self._config = config
        self._mirror = mirror
        self._poser = poser
        self._art = art
        self._frame_size = frame_size
        self._log = log or sys.stderr
        self._states = LatestWinsSlot()
        self._selected: str | None = None
        self._names: tuple[str, ...] = ()
        self._frame: PoseFrame | None = None
        self._worker: ObsControlWorker | None = None
        self._failure = None
        self._failure_raised = False

    def open(self) -> None:
        """Connect, find or create the sources, start the thread."""
        client = ObsClient.connect(self._config.url, self._config.password)
        try:
            scene = ObsScene(client, self._art)
            scene.ensure()
        except BaseException:
            client.close()
            raise
        print(f"poserec live: OBS at {self._config.url}: sources \"{IMAGE_SOURCE}\" and "
              f"\"{TEXT_SOURCE}\" in scene \"{scene.scene}\"", file=self._log, flush=True)
        self._worker = ObsControlWorker(self._config, scene, self._states, self._poser,
                                        self._art, self._frame_size, self._log, self._on_failure,
                                        self._mirror)
        self._worker.start()

    def __call__(self, message: object) -> None:
        """Store the newest pose frame with the newest recommendation as the state to show."""
        if self._failure is not None:
            self._failure_raised = True
            raise self._failure.error
        if isinstance(message, Recommendation):
            self._selected = message.effects[0].name if message.effects else None
            self._names = tuple(effect.name for effect in message.effects)
        elif isinstance(message, PoseFrame):
            self._frame = message
        else:
            return
        if self._frame is not None:
            self._states.put(_State(self._frame, self._selected, self._names), None)

    @property
    def skipped(self) -> int:
        """States replaced before the thread sent them (OBS slower than the pipeline)."""
        return self._states.dropped

    def close(self) -> None:
        """End the thread (it sends the last state, then hides both sources; a request to a
        frozen OBS is cut short), print the counts."""
        worker = self._worker
        if worker is None:
            return
        worker.stop()
        if not worker.join(CLOSE_TIMEOUT_S):
            worker.abort()
            if not worker.join(CLOSE_TIMEOUT_S):
                raise TimeoutError(f"the OBS control thread did not end within "
                                   f"{2 * CLOSE_TIMEOUT_S:g} s")
        print(f"poserec live: OBS: {worker.updates} updates sent, {self.skipped} skipped "
              f"(newest wins), {worker.reconnects} reconnections", file=self._log, flush=True)
        if self._failure is not None and not self._failure_raised:
            raise self._failure.error

    def _on_failure(self, failure) -> None:
        self._failure = failure
