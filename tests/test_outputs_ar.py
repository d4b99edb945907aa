"""The `/ar` layer of `--serve`: the pose messages on the WebSocket, the art served by effect name
only, and the page in headless Chromium drawing the art where the one renderer draws it."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import time

import cv2
import numpy as np
import pytest
from PyQt5.QtCore import Qt

from poserec_core.skeleton import Landmark
from realtime.drawing.art import ArtBook
from realtime.drawing.choice import EffectChoice
from realtime.drawing.effects import load_effects
from realtime.drawing.placement import body_scale, pixel_points
from realtime.drawing.posing import EffectPoser
from realtime.drawing.renderer import Renderer, RenderOptions
from realtime.messages import PoseFrame
from realtime.outputs.server import OverlayServer, ServerConfig
from realtime.ui.app import drop_opencv_qt_plugins
from realtime.ui.stats import StreamStats
from realtime.ui.window import LiveWindow

from .test_outputs_server import CHROMIUM_FLAGS, fetch, recommend

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
drop_opencv_qt_plugins()

FRAME = (640, 480)
HELD = "microphone"  # right hand; an asymmetric picture, so a wrong angle shows


@pytest.fixture(scope="module")
def catalog():
    return load_effects()


@pytest.fixture(scope="module")
def body(reference_dir) -> np.ndarray:
    """A replayed pose (the published sample's first frame), every landmark visible."""
    landmarks = np.load(reference_dir / "sample_sequence.npy")[0].astype(np.float32)
    landmarks[:, 3] = 1.0
    return landmarks


@pytest.fixture
def server():
    served = OverlayServer(ServerConfig(0), frame_size=FRAME)
    served.open()
    yield served
    served.close()


def pose_frame(landmarks, seq: int = 10, image=None) -> PoseFrame:
    return PoseFrame(seq, 1_000_000 * seq, 1_000_000 * seq, landmarks, image)


def newest_pose(ws_url: str) -> dict:
    """The first pose message a new client gets."""
    from websockets.sync.client import connect

    with connect(ws_url) as client:
        while True:
            message = json.loads(client.recv(timeout=10))
            if message.get("type") == "pose":
                return message


# ---- the pose messages ----------------------------------------------------------------------

def test_each_pose_frame_sends_the_selected_effects_pose(server, catalog, body):
    server(recommend(HELD, "hat"))
    server(pose_frame(body))
    expected = EffectPoser(catalog).update(HELD, body, FRAME, 10_000_000)
    assert newest_pose(server.ws_url) == {"type": "pose", "seq": 10, "frame": list(FRAME),
                                          "effect": expected.normalised(),
                                          "art": "/art/microphone"}


def test_the_effect_picked_in_the_window_is_the_one_the_ar_page_draws(qtbot, catalog, body):
    window = LiveWindow(catalog, ArtBook(catalog), StreamStats(), choice=EffectChoice())
    qtbot.addWidget(window)
    served = OverlayServer(ServerConfig(0), frame_size=FRAME, choice=window.choice)
    served.open()
    try:
        ranking = recommend("hat", HELD, "glasses")
        served(ranking)
        window.show_recommendation(ranking)
        sent = []
        for seq, key in enumerate((None, Qt.Key_Right, Qt.Key_Right, Qt.Key_Left), start=10):
            if key is not None:
                qtbot.keyClick(window, key)
            served(pose_frame(body, seq))
            message = newest_pose(served.ws_url)
            assert message["seq"] == seq
            sent.append(message["art"])
            assert message["art"] == "/art/" + window.effect.replace(" ", "%20")
    finally:
        served.close()
    assert sent == ["/art/hat", f"/art/{HELD}", "/art/glasses", f"/art/{HELD}"]


def test_the_pose_follows_the_frames_image_size_and_quotes_the_art_name(server, body):
    server(recommend("horse rope"))
    server(pose_frame(body, image=np.zeros((360, 480, 3), np.uint8)))
    message = newest_pose(server.ws_url)
    assert message["frame"] == [480, 360] and message["art"] == "/art/horse%20rope"
    status, kind, _ = fetch(f"http://127.0.0.1:{server.port}{message['art']}")
    assert (status, kind) == (200, "image/svg+xml")


@pytest.mark.parametrize("names, person", [
    ((), True),                    # before the first recommendation
    ((HELD,), False),              # no person in the frame
    (("background wall", HELD), True),  # a background effect: nothing to draw over the camera
])
def test_the_pose_message_says_when_there_is_nothing_to_draw(server, catalog, body, names,
                                                            person):
    assert not names or catalog[names[0]].anchor.value in ("right_hand", "background")
    if names:
        server(recommend(*names))
    server(pose_frame(body if person else None))
    message = newest_pose(server.ws_url)
    assert message["effect"] is None and message["art"] is None


# ---- the art routes ---------------------------------------------------------------------------

@pytest.mark.parametrize("name, kind", [("basketball", "image/svg+xml"),
                                        ("saddle", "image/svg+xml")])
def test_art_is_served_by_effect_name_from_the_catalog(server, catalog, name, kind):
    status, got_kind, body = fetch(f"http://127.0.0.1:{server.port}/art/{name}")
    assert (status, got_kind) == (200, kind)
    assert body == ArtBook(catalog).path(name).read_bytes()


@pytest.mark.parametrize("path", [
    "/art/unicorn", "/art/", "/art/basketball.svg", "/art/BASKETBALL",
    "/art/..%2Feffects.json", "/art/..%2F..%2Fdrawing%2Feffects.json", "/art/%2Fetc%2Fpasswd",
    "/art/basketball%00", "/art/%ff%fe", "/art/basketball/../overlay.js",
    "/art/../overlay.js", "/..%2Frealtime%2Foutputs%2Fserver.py", "/ar/../../etc/passwd",
])
def test_art_refuses_unknown_names_and_path_tricks(server, path):
    status, kind, body = fetch(f"http://127.0.0.1:{server.port}{path}")
    assert (status, kind.split(";")[0]) == (404, "text/plain")
    assert b"the AR layer at /ar" in body


# ---- the page in a real browser ---------------------------------------------------------------

def screenshot(url: str, size: tuple[int, int], out, profile) -> np.ndarray:
    """Headless Chromium's BGRA screenshot of `url` in a window of `size`, transparent where
    the page draws nothing."""
    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is not installed: `make system-deps` installs it"
    subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                    f"--window-size={size[0]},{size[1]}", "--default-background-color=00000000",
                    "--hide-scrollbars", "--virtual-time-budget=4000", f"--screenshot={out}", url],
                   capture_output=True, timeout=120, check=True)
    image = cv2.imread(str(out), cv2.IMREAD_UNCHANGED)
    assert image is not None and image.shape == (size[1], size[0], 4)
    return image


def renderer_mask(catalog, landmarks, name) -> np.ndarray:
    """Where the one renderer (window, virtual camera, recording) draws `name`'s art in a frame
    of FRAME (bool, H x W): its alpha, from the same pose drawn over black and over white, above
    one half."""
    frames = [Renderer(catalog).render(
        pose_frame(landmarks, image=np.full((FRAME[1], FRAME[0], 3), level, np.uint8)), name,
        RenderOptions(skeleton=False)).astype(float) for level in (0, 255)]
    alpha = 1.0 - (frames[1] - frames[0]).mean(axis=2) / 255.0
    return alpha > 0.5


@pytest.mark.parametrize("window", [FRAME, (960, 480)])  # the frame's size; a wider source
def test_the_ar_page_draws_the_art_where_the_renderer_does(server, catalog, body, tmp_path,
                                                           window):
    server(recommend(HELD))
    server(pose_frame(body))
    time.sleep(0.2)  # the loop hands the pose to new clients from here on
    shot = screenshot(server.url + "ar", window, tmp_path / "ar.png", tmp_path / "profile")
    # the stage has the frame's aspect, as large as fits, centred: here FRAME's own pixels
    left = (window[0] - FRAME[0]) // 2
    alpha = shot[:, :, 3]
    assert alpha[:, :left].max(initial=0) == 0 and alpha[:, left + FRAME[0]:].max(initial=0) == 0
    drawn = alpha[:, left:left + FRAME[0]] > 128
    expected = renderer_mask(catalog, body, HELD)
    union = np.logical_or(drawn, expected).sum()
    assert union > 400, "nothing was drawn"
    assert np.logical_and(drawn, expected).sum() / union > 0.8  # same place, size and angle
    # and that place is the right hand, from first principles
    points = pixel_points(body, FRAME)
    ys, xs = np.nonzero(drawn)
    weights = alpha[:, left:left + FRAME[0]][ys, xs].astype(float)
    centre = np.array([np.average(xs, weights=weights), np.average(ys, weights=weights)])
    hand = points[[Landmark.RIGHT_WRIST, Landmark.RIGHT_INDEX, Landmark.RIGHT_PINKY]].mean(axis=0)
    assert np.hypot(*(centre - hand)) < body_scale(points, body[:, 3]) / 4


def test_the_ar_page_is_transparent_without_an_effect(server, tmp_path):
    server(pose_frame(None))
    shot = screenshot(server.url + "ar", FRAME, tmp_path / "ar.png", tmp_path / "profile")
    assert shot[:, :, 3].max() == 0
