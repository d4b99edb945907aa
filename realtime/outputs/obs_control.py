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

from ..drawing.art import ArtBook
from ..drawing.choice import EffectChoice
from ..drawing.effects import Anchor
from ..engine.channels import LatestWinsSlot
from ..engine.worker import POLL_S, Worker
from ..messages import PoseFrame, Recommendation
from .obs_client import (REQUEST_TIMEOUT_S, ObsClient, ObsRequestFailed, ObsUnavailable,
                         check_url)

IMAGE_SOURCE = "PoseRec effect"
TEXT_SOURCE = "PoseRec effects"
TEXT_KINDS = ("text_ft2_source_v2", "text_gdiplus_v2")
"""OBS's text source on Linux and macOS, on Windows."""

ART_HEIGHT_PX = 512
"""SVG art is given to OBS as a PNG of this height: OBS 29's image source draws an SVG only at
its own size (36 px for Twemoji), blurred when scaled to the body."""

BACKOFF_S = (0.5, 1.0, 2.0, 4.0, 8.0)
"""Waits between reconnection attempts; the last repeats."""

SCENE_CHECK_S = 1.0
"""How often the current scene and its sources are looked up again (the user may switch
scenes, remove a source)."""

CLOSE_TIMEOUT_S = 3.0
"""How long close() waits for the thread, before and after cutting a request short."""
FINAL_TIMEOUT_S = 0.5
"""How long each request of the last update and of hiding the sources waits for OBS."""

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
        check_url(self.url)


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
    creates them, show() updates what changed. Every request waits at most `timeout` s."""

    def __init__(self, client: ObsClient, art: ArtFiles, timeout: float = REQUEST_TIMEOUT_S):
        self.client = client
        self.timeout = timeout
        self._art = art
        self.scene: str | None = None
        self.canvas: tuple[int, int] = (0, 0)
        self._items: dict[str, int] = {}
        self._shown: dict[str, object] = {}

    def _request(self, request_type: str, data: dict | None = None) -> dict:
        return self.client.request(request_type, data, self.timeout)

    def ensure(self) -> tuple[str, ...]:
        """Look up the current scene and canvas, find both sources in it and put back what is
        missing (a scene switched to, a source the user removed); the names put back."""
        scene = self._request("GetCurrentProgramScene")["currentProgramSceneName"]
        video = self._request("GetVideoSettings")
        self.canvas = (video["baseWidth"], video["baseHeight"])
        listed = {item["sourceName"]: item["sceneItemId"] for item in
                  self._request("GetSceneItemList", {"sceneName": scene})["sceneItems"]}
        missing = tuple(name for name in (IMAGE_SOURCE, TEXT_SOURCE) if name not in listed)
        for name in missing:
            listed[name] = self._add(scene, name)
        items = {name: listed[name] for name in (IMAGE_SOURCE, TEXT_SOURCE)}
        if (scene, items) != (self.scene, self._items):
            self.scene, self._items, self._shown = scene, items, {}
            self._enable(TEXT_SOURCE, True)
        return missing

    def _add(self, scene: str, name: str) -> int:
        """A new scene item of input `name` in `scene`: the input itself when it exists, else a
        new one (the text source put at TEXT_PLACE)."""
        if name in self._input_names():
            try:
                return self._request("CreateSceneItem",
                                     {"sceneName": scene, "sourceName": name})["sceneItemId"]
            except ObsRequestFailed:
                # A removed input lives on while a scene OBS does not draw still holds it (OBS
                # drops such items when it draws their scene): draw every scene once.
                self._draw_every_scene()
                if name in self._input_names():
                    raise
        if name == IMAGE_SOURCE:
            kind, settings = "image_source", {}
        else:
            kinds = self._request("GetInputKindList")["inputKinds"]
            kind = next((kind for kind in TEXT_KINDS if kind in kinds), None)
            if kind is None:
                raise ObsUnavailable(f"OBS offers no text source ({', '.join(TEXT_KINDS)})")
            settings = TEXT_SETTINGS
        item = self._request("CreateInput", {"sceneName": scene, "inputName": name, "inputKind":
                                             kind, "inputSettings": settings})["sceneItemId"]
        if name == TEXT_SOURCE:
            self._request("SetSceneItemTransform", {"sceneName": scene, "sceneItemId": item,
                                                    "sceneItemTransform": TEXT_PLACE})
        return item

    def _input_names(self) -> set[str]:
        return {i["inputName"] for i in self._request("GetInputList")["inputs"]}

    def _draw_every_scene(self) -> None:
        for scene in self._request("GetSceneList")["scenes"]:
            self._request("GetSourceScreenshot", {"sourceName": scene["sceneName"],
                                                  "imageFormat": "png", "imageWidth": 8})

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
            self._request("SetSceneItemTransform", {
                "sceneName": self.scene, "sceneItemId": self._items[IMAGE_SOURCE],
                "sceneItemTransform": canvas_transform(pose, self.canvas)})
        if visible != self._shown.get(IMAGE_SOURCE):
            self._enable(IMAGE_SOURCE, visible)

    def hide(self) -> None:
        """Hide both sources."""
        for name in self._items:
            self._enable(name, False)

    def _enable(self, name: str, enabled: bool) -> None:
        self._request("SetSceneItemEnabled", {"sceneName": self.scene, "sceneItemEnabled":
                                              enabled, "sceneItemId": self._items[name]})
        self._shown[name] = enabled

    def _set_input(self, name: str, settings: dict) -> None:
        self._request("SetInputSettings", {"inputName": name, "inputSettings": settings})


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
        self.updates, self.reconnects = 0, 0

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
                self._say(f"OBS at {self._config.url} is back; updating it again")
                scene, attempt = None, 0
            state = self._states.get(POLL_S)
            try:
                if scene is None or time.monotonic() - checked > SCENE_CHECK_S:
                    scene = scene or ObsScene(self._client, self._art)
                    for name in scene.ensure():
                        self._say(f"OBS: put \"{name}\" into scene \"{scene.scene}\"")
                    checked = time.monotonic()
                if state is not None:
                    scene.show(self._pose(state), state.names)
                    self.updates += 1
            except ObsUnavailable as exc:
                self._drop_client()
                if self.stopping:
                    break
                self._say(f"{exc}; the run goes on, reconnecting")
            except ObsRequestFailed as exc:
                if not refused:
                    self._say(f"{exc}; trying again")
                refused, scene = True, None  # a source or the scene went away: find them again
                self._stop_event.wait(BACKOFF_S[0])
                continue
            refused = False
        if self._client is not None and scene is not None and scene.scene is not None:
            self._finish(scene)
        self._drop_client()

    def _say(self, line: str) -> None:
        print(f"poserec live: {line}", file=self._log, flush=True)

    def _finish(self, scene: ObsScene) -> None:
        """Send the last state, then hide both sources (PoseRec is no longer driving them),
        each request waiting at most FINAL_TIMEOUT_S."""
        state = self._states.get(0)
        scene.timeout = FINAL_TIMEOUT_S
        try:
            if state is not None:
                scene.show(self._pose(state), state.names)
                self.updates += 1
            scene.hide()
        except (ObsUnavailable, ObsRequestFailed):
            pass  # OBS is gone or slow: the sources stay as they were

    def _pose(self, state: _State):
        """The selected effect's EffectPose on this frame (mirrored with `--mirror`); None
        (hidden) without one, and for background effects, which belong behind the person (as
        on /ar)."""
        frame, catalog, selected = state.frame, self._poser.catalog, state.selected
        size = (frame.image.shape[1], frame.image.shape[0]) if frame.image is not None \
            else self._frame_size
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
                 mirror: bool = False, choice: EffectChoice | None = None):
        self._config = config
        self._mirror = mirror
        self._choice = choice or EffectChoice()
        self._poser = poser
        self._art = art
        self._frame_size = frame_size
        self._log = log or sys.stderr
        self._states = LatestWinsSlot()
        self._recommendation: Recommendation | None = None
        self._names: tuple[str, ...] = ()
        self._frame: PoseFrame | None = None
        self._worker: ObsControlWorker | None = None
        self._failure, self._failure_raised = None, False

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
            self._recommendation = message
            self._names = tuple(effect.name for effect in message.effects)
        elif isinstance(message, PoseFrame):
            self._frame = message
        else:
            return
        if self._frame is not None:
            selected = self._choice.effect(self._recommendation)  # the window's pick
            self._states.put(_State(self._frame, selected, self._names), None)

    @property
    def skipped(self) -> int:
        """States replaced before the thread sent them (OBS slower than the pipeline)."""
        return self._states.dropped

    def close(self) -> None:
        """End the thread (it sends the last state, hides both sources; a frozen OBS is cut
        short, and after 2 * CLOSE_TIMEOUT_S the daemon thread is left), print the counts."""
        worker = self._worker
        if worker is None:
            return
        worker.stop()
        if not worker.join(CLOSE_TIMEOUT_S):
            worker.abort()
            if not worker.join(CLOSE_TIMEOUT_S):
                print(f"poserec live: OBS at {self._config.url} does not answer; the PoseRec "
                      "sources stay as they are", file=self._log, flush=True)
        print(f"poserec live: OBS: {worker.updates} updates sent, {self.skipped} skipped "
              f"(newest wins), {worker.reconnects} reconnections", file=self._log, flush=True)
        if self._failure is not None and not self._failure_raised:
            raise self._failure.error

    def _on_failure(self, failure) -> None:
        self._failure = failure
