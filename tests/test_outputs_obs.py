"""`poserec live --obs`, against a real OBS Studio (Debian's obs-studio, obs-websocket 5.1) run
headless in a private network namespace with only loopback (tests/obs_studio.py; needs root).

What is checked, through OBS's own requests and screenshots: the two PoseRec sources are created
once and reused; the image source's transform is the selected effect's pose mapped to the
canvas and OBS draws the art there; the text source lists the top effects; a refused password,
a missing one, one in the address or nothing listening is one line and exit 2; OBS killed
mid-run is one line, the run goes on and takes OBS up again when it restarts; sources removed
in OBS mid-run come back; a frozen OBS does not hold the pipeline (the run ends about as soon as
without OBS, and ends) and is driven again once it thaws.
"""
from __future__ import annotations

import base64
import json
import os
import re
import signal
import subprocess
import sys
import time

import cv2
import numpy as np
import pytest

from realtime.outputs.obs_client import PASSWORD_VARIABLE, authentication
from realtime.outputs.obs_control import IMAGE_SOURCE, TEXT_SOURCE
from tests.obs_studio import ObsStudio, private_network
from tests.helpers import run_poserec

PASSWORD = "poserec-test-secret"
PORT = 4455
"""Inside the private namespace no other process holds it."""

FRAME_SIZE = (640, 480)
"""The replay source's frame (pose-only sources are drawn at this size)."""

POLL_TIMEOUT_S = 30.0


@pytest.fixture(scope="module")
def network():
    """This module's tests, OBS and every `poserec live` they start: loopback only."""
    with private_network():
        yield


@pytest.fixture(scope="module")
def obs(network, tmp_path_factory):
    """One OBS for the module, fresh HOME, websocket on PORT with PASSWORD."""
    with ObsStudio(tmp_path_factory.mktemp("obs-home"), PORT, PASSWORD) as studio:
        yield studio


@pytest.fixture
def cache_env(tmp_path) -> dict:
    """Environment of a run: the password, and the art cache in this test's directory."""
    return {PASSWORD_VARIABLE: PASSWORD, "XDG_CACHE_HOME": str(tmp_path / "cache")}


def live(url: str, *args, env: dict, timeout: float = 180) -> subprocess.CompletedProcess:
    """`poserec live --headless --obs URL ARGS`."""
    return run_poserec("live", "--headless", "--obs", url, *args, env=env, timeout=timeout)


def poll(condition, what: str, timeout: float = POLL_TIMEOUT_S):
    """Call `condition` until it returns something true; that value. OBS shows a change a frame
    or two later, so every look at OBS polls."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def scene_items(obs: ObsStudio) -> dict[str, dict]:
    """The current scene's items by source name, asserting no name repeats."""
    items = obs.request("GetSceneItemList", {"sceneName": obs.scene})["sceneItems"]
    names = [item["sourceName"] for item in items]
    assert len(names) == len(set(names)), f"duplicate scene items: {names}"
    return {item["sourceName"]: item for item in items}


def last_record(path) -> dict:
    return json.loads(path.read_text().splitlines()[-1])


def static_replay(path, landmarks: np.ndarray, frames: int):
    """A replay file of one pose held still for `frames` frames."""
    np.save(path, np.repeat(landmarks[None], frames, axis=0).astype(np.float32))
    return f"replay:{path}"


@pytest.fixture(scope="module")
def held_pose(reference_dir) -> np.ndarray:
    """A pose of the published sample, the whole body inside the frame, every landmark visible
    (so any effect is placed, and inside the canvas)."""
    pose = np.load(reference_dir / "sample_sequence.npy")[0].copy()
    pose[:, 3] = 1.0
    return pose


def test_authentication_is_the_protocols_own_example():
    # obs-websocket 5 protocol documentation, "Creating an authentication string"
    assert authentication("supersecretpassword", "lM1GncleQOaCu9lT1yeUZhFYnqhsLLP1G5lAGo3ixaI=",
                          "+IxH4CnCiqpX1rM9scsNynZzbOe4KhDeYcTNS3PDaeY=") == \
        "1Ct943GAT+6YQUUX47Ia/ncufilbe6+oD6lY+5kaCu4="


def test_sources_are_created_when_missing_and_reused_when_present(obs, weights_dir, tmp_path,
                                                                  cache_env):
    assert IMAGE_SOURCE not in scene_items(obs) and TEXT_SOURCE not in scene_items(obs)
    ids = []
    for run in range(2):
        jsonl = tmp_path / f"run{run}.jsonl"
        result = live(obs.url, "--source", "demo", "--max-frames", "60", "--fps", "0",
                      "--jsonl", jsonl, env=cache_env)
        assert result.returncode == 0, result.stderr
        items = scene_items(obs)
        ids.append((items[IMAGE_SOURCE]["sceneItemId"], items[TEXT_SOURCE]["sceneItemId"]))
        inputs = [i["inputName"] for i in obs.request("GetInputList")["inputs"]]
        assert inputs.count(IMAGE_SOURCE) == 1 and inputs.count(TEXT_SOURCE) == 1
        assert items[IMAGE_SOURCE]["inputKind"] == "image_source"
        # the text lists the last recommendation's distinct effects, best first
        names = [effect["name"] for effect in last_record(jsonl)["effects"]]
        text = obs.request("GetInputSettings", {"inputName": TEXT_SOURCE})["inputSettings"]["text"]
        assert text.splitlines() == names
        # the image source shows a PNG OBS can read (SVG art is rendered to one)
        art = obs.request("GetInputSettings", {"inputName": IMAGE_SOURCE})["inputSettings"]["file"]
        picture = cv2.imread(art, cv2.IMREAD_UNCHANGED)
        assert picture is not None and picture.shape[2] == 4 and picture[..., 3].any()
        # when the run ends, PoseRec stops driving them: both hidden
        assert not items[IMAGE_SOURCE]["sceneItemEnabled"]
        assert not items[TEXT_SOURCE]["sceneItemEnabled"]
    assert ids[0] == ids[1], "the second run made new scene items instead of reusing them"


def test_a_scene_switched_to_gets_the_same_sources(obs, weights_dir, tmp_path, cache_env):
    obs.request("CreateScene", {"sceneName": "Second"})
    obs.request("SetCurrentProgramScene", {"sceneName": "Second"})
    poll(lambda: obs.scene == "Second", "the scene switch")
    result = live(obs.url, "--source", "demo", "--max-frames", "30", "--fps", "0", env=cache_env)
    assert result.returncode == 0, result.stderr
    assert {IMAGE_SOURCE, TEXT_SOURCE} <= set(scene_items(obs))
    inputs = [i["inputName"] for i in obs.request("GetInputList")["inputs"]]
    assert inputs.count(IMAGE_SOURCE) == 1 and inputs.count(TEXT_SOURCE) == 1


def expected_transform(name: str, landmarks: np.ndarray, canvas: tuple[int, int],
                       mirror: bool) -> dict:
    """The selected effect's pose on a still body (smoothing leaves a still pose as it is),
    mirrored left to right when asked, mapped from the frame to the canvas the camera fills."""
    from realtime.drawing.effects import load_effects
    from realtime.drawing.posing import EffectPoser

    pose = EffectPoser(load_effects()).update(name, landmarks, FRAME_SIZE, 0)
    cx, angle = (FRAME_SIZE[0] - pose.cx, -pose.angle_deg) if mirror else (pose.cx, pose.angle_deg)
    sx, sy = canvas[0] / FRAME_SIZE[0], canvas[1] / FRAME_SIZE[1]
    return {"positionX": cx * sx, "positionY": pose.cy * sy,
            "boundsWidth": pose.width * sx, "boundsHeight": pose.height * sy,
            "rotation": angle}


@pytest.mark.parametrize("shift, mirror", [((0.0, 0.0), False), ((0.2, -0.1), False),
                                           ((-0.15, 0.05), False), ((0.2, -0.1), True)],
                         ids=["as recorded", "up and right", "down and left", "mirrored"])
def test_the_image_follows_the_body(obs, weights_dir, tmp_path, cache_env, held_pose, shift,
                                    mirror):
    landmarks = held_pose.copy()
    landmarks[:, :2] += np.array(shift, np.float32)
    jsonl = tmp_path / "run.jsonl"
    result = live(obs.url, "--source", static_replay(tmp_path / "still.npy", landmarks, 60),
                  "--fps", "0", "--jsonl", jsonl, *(["--mirror"] if mirror else []),
                  env=cache_env)
    assert result.returncode == 0, result.stderr
    video = obs.request("GetVideoSettings")
    canvas = (video["baseWidth"], video["baseHeight"])
    want = expected_transform(last_record(jsonl)["effects"][0]["name"], landmarks, canvas,
                              mirror)
    item = scene_items(obs)[IMAGE_SOURCE]
    got = item["sceneItemTransform"]
    assert got["alignment"] == 0 and got["boundsType"] == "OBS_BOUNDS_STRETCH"
    for key, value in want.items():
        assert got[key] == pytest.approx(value, abs=0.05), key


def screenshot(obs: ObsStudio) -> np.ndarray:
    """OBS's picture of the current scene, BGRA at canvas size."""
    shot = obs.request("GetSourceScreenshot", {"sourceName": obs.scene, "imageFormat": "png"})
    data = base64.b64decode(shot["imageData"].split(",", 1)[1])
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)


def opaque_inside(image: np.ndarray, transform: dict) -> tuple[float, float]:
    """Fractions of opaque pixels inside the item's bounds box (its rotation-free bounding
    square, to be safe) and in the rest of the canvas below the text."""
    x, y = transform["positionX"], transform["positionY"]
    half = max(transform["boundsWidth"], transform["boundsHeight"]) / 2 * 1.5
    mask = np.zeros(image.shape[:2], bool)
    mask[max(0, int(y - half)):int(y + half) + 1, max(0, int(x - half)):int(x + half) + 1] = True
    opaque = image[..., 3] > 0
    below_text = np.zeros_like(mask)
    below_text[400:] = True
    return float(opaque[mask].mean()), float(opaque[~mask & below_text].mean())


def drawn(obs: ObsStudio) -> tuple[float, float] | None:
    """opaque_inside() of the shown image source once OBS draws its art, else None."""
    item = scene_items(obs).get(IMAGE_SOURCE)
    if not (item and item["sceneItemEnabled"]):
        return None
    inside, outside = opaque_inside(screenshot(obs), item["sceneItemTransform"])
    return (inside, outside) if inside > 0.05 else None


def test_obs_draws_the_art_at_its_place_and_hides_it_when_poserec_stops(
        obs, weights_dir, tmp_path, cache_env, held_pose):
    source = static_replay(tmp_path / "still.npy", held_pose, 3000)
    process = subprocess.Popen([sys.executable, "-m", "realtime.cli", "live", "--headless",
                                "--obs", obs.url, "--source", source, "--fps", "30"],
                               env={**os.environ, **cache_env},
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        inside, outside = poll(lambda: drawn(obs), "the art in OBS's screenshot")
        assert outside < 0.01, "art drawn away from its place"
        cv2.imwrite(str(tmp_path / "obs-scene.png"), screenshot(obs))
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 128 + signal.SIGINT, stderr
    poll(lambda: not screenshot(obs)[..., 3].any(), "both sources to be hidden")


@pytest.mark.parametrize("url, password, error", [
    (f"ws://127.0.0.1:{PORT}", "not-the-password", "refused the password"),
    (f"ws://127.0.0.1:{PORT}", "", f"asks for a password: set ${PASSWORD_VARIABLE}"),
    (f"ws://poserec:{PASSWORD}@127.0.0.1:{PORT}", "", "no password in the address"),
    (f"ws://127.0.0.1:{PORT + 9}", PASSWORD, "does not answer"),
    (f"http://127.0.0.1:{PORT}", PASSWORD, "not a ws://HOST:PORT address"),
], ids=["wrong password", "no password", "password in the URL", "nothing listening",
        "not a websocket URL"])
def test_obs_that_cannot_be_used_is_one_line_and_exit_2(obs, weights_dir, tmp_path, url,
                                                       password, error):
    result = live(url, "--source", "demo", "--max-frames", "20",
                  env={PASSWORD_VARIABLE: password, "XDG_CACHE_HOME": str(tmp_path)})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("poserec live: error: ") and error in lines[0], \
        result.stderr
    assert PASSWORD not in result.stderr, "a password was printed"


class Run:
    """`poserec live` in the background, its stderr in a file the test polls."""

    def __init__(self, tmp_path, *args, env: dict):
        self.log = tmp_path / "stderr.txt"
        self._file = open(self.log, "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "realtime.cli", "live", "--headless", *map(str, args)],
            env={**os.environ, **env}, stdout=subprocess.DEVNULL,
            stderr=self._file)

    def lines(self, fragment: str) -> list[str]:
        return [line for line in self.log.read_text().splitlines() if fragment in line]

    def interrupt(self) -> int:
        self.process.send_signal(signal.SIGINT)
        status = self.process.wait(30)
        self._file.close()
        return status


def placed(obs: ObsStudio) -> bool:
    """Whether the image source is shown and was placed by PoseRec."""
    item = scene_items(obs).get(IMAGE_SOURCE)
    return bool(item and item["sceneItemEnabled"]
                and item["sceneItemTransform"]["boundsType"] == "OBS_BOUNDS_STRETCH")


def test_obs_killed_mid_run_is_one_line_and_taken_up_again_when_it_restarts(
        network, weights_dir, tmp_path, cache_env, held_pose):
    studio = ObsStudio(tmp_path / "home", PORT + 1, PASSWORD).start()
    run = Run(tmp_path, "--source", static_replay(tmp_path / "still.npy", held_pose, 9000),
              "--fps", "30", "--obs", studio.url, env=cache_env)
    try:
        poll(lambda: run.lines("sources"), "the OBS connection", timeout=120)
        poll(lambda: placed(studio), "the effect in OBS")
        studio.kill()
        poll(lambda: run.lines("the run goes on, reconnecting"), "the lost-OBS line")
        assert run.process.poll() is None, "the run ended with OBS"
        studio.start()
        poll(lambda: run.lines("is back"), "the reconnection line")
        poll(lambda: placed(studio), "the effect in the restarted OBS")
        assert run.process.poll() is None
    finally:
        status = run.interrupt()
        studio.stop()
    assert status == 128 + signal.SIGINT, run.log.read_text()
    assert len(run.lines("reconnecting")) == 1, run.log.read_text()
    assert run.lines("1 reconnections"), run.log.read_text()


def input_names(obs: ObsStudio) -> list[str]:
    return [i["inputName"] for i in obs.request("GetInputList")["inputs"]]


def test_sources_removed_in_obs_mid_run_are_created_again(obs, weights_dir, tmp_path, cache_env,
                                                          held_pose):
    # OBS keeps a removed input alive while a scene it does not draw still holds it: have one
    hidden_scene = "Not shown"
    obs.request("CreateScene", {"sceneName": hidden_scene})
    run = Run(tmp_path, "--source", static_replay(tmp_path / "still.npy", held_pose, 9000),
              "--fps", "30", "--obs", obs.url, env=cache_env)
    try:
        poll(lambda: run.lines("sources"), "the OBS connection", timeout=120)
        poll(lambda: drawn(obs), "the effect in OBS")
        names = obs.request("GetInputSettings", {"inputName": TEXT_SOURCE})["inputSettings"]["text"]
        old = {name: item["sceneItemId"] for name, item in scene_items(obs).items()}
        for name in (IMAGE_SOURCE, TEXT_SOURCE):
            obs.request("CreateSceneItem", {"sceneName": hidden_scene, "sourceName": name})
            obs.request("RemoveInput", {"inputName": name})

        def back():
            items = scene_items(obs)
            return all(name in items and items[name]["sceneItemId"] != old[name]
                       and items[name]["sceneItemEnabled"] for name in (IMAGE_SOURCE, TEXT_SOURCE))

        poll(back, "both sources in the scene again", timeout=60)
        poll(lambda: drawn(obs), "OBS to draw the new image source", timeout=60)
        poll(lambda: obs.request("GetInputSettings", {"inputName": TEXT_SOURCE})
             ["inputSettings"]["text"] == names, "the names in the new text source", timeout=60)
        assert input_names(obs).count(IMAGE_SOURCE) == 1
        assert input_names(obs).count(TEXT_SOURCE) == 1
        assert run.process.poll() is None
    finally:
        status = run.interrupt()
        obs.request("RemoveScene", {"sceneName": hidden_scene})
    assert status == 128 + signal.SIGINT, run.log.read_text()


def test_a_frozen_obs_does_not_hold_the_pipeline(obs, weights_dir, tmp_path, cache_env,
                                                 reference_dir):
    frames = 4100
    sequence = np.load(reference_dir / "sample_sequence.npy")
    replay = tmp_path / "long.npy"
    np.save(replay, np.concatenate([sequence] * (frames // len(sequence))))
    args = ("--source", f"replay:{replay}", "--fps", "0", "--smoothing", "0")
    started = time.monotonic()
    alone = run_poserec("live", "--headless", *args, "--jsonl", tmp_path / "alone.jsonl",
                        env=cache_env, timeout=600)
    alone_s = time.monotonic() - started
    assert alone.returncode == 0, alone.stderr
    jsonl = tmp_path / "run.jsonl"
    started = time.monotonic()
    run = Run(tmp_path, *args, "--obs", obs.url, "--jsonl", jsonl, env=cache_env)
    try:
        poll(lambda: run.lines("sources"), "the OBS connection", timeout=120)
        obs.freeze()  # OBS keeps the connection open and answers nothing
        status = run.process.wait(600)
        frozen_s = time.monotonic() - started
    finally:
        obs.thaw()
        if run.process.poll() is None:
            run.interrupt()
    log = run.log.read_text()
    assert status == 0, log
    # every frame read and every window ranked as without OBS
    assert f"{frames} frames read" in log
    ranked, want = ([[top["item"] for top in json.loads(line)["top"]]
                     for line in path.read_text().splitlines()]
                    for path in (jsonl, tmp_path / "alone.jsonl"))
    assert len(ranked) == len(want) == (frames - 10) // 5 + 1
    assert ranked == want
    skipped = re.search(r"OBS: \d+ updates sent, (\d+) skipped", log)
    assert skipped and int(skipped.group(1)) > 0, log
    assert len(run.lines("reconnecting")) <= 1, log
    # OBS holding the pipeline would cost seconds per update (thousands of them); the bound
    # leaves room for a loaded machine and for the bounded wait on OBS at the end
    assert frozen_s < 4 * alone_s + 20, (frozen_s, alone_s, log)


def test_a_frozen_obs_is_driven_again_once_it_thaws(obs, weights_dir, tmp_path, cache_env,
                                                    held_pose):
    jsonl = tmp_path / "run.jsonl"
    run = Run(tmp_path, "--source", static_replay(tmp_path / "still.npy", held_pose, 9000),
              "--fps", "30", "--obs", obs.url, "--jsonl", jsonl, env=cache_env)
    try:
        poll(lambda: run.lines("sources"), "the OBS connection", timeout=120)
        poll(lambda: placed(obs), "the effect in OBS")
        obs.freeze()
        try:
            ranked = len(jsonl.read_text().splitlines())
            # 20 windows are 100 frames at 30 fps, longer than a request waits for OBS
            poll(lambda: len(jsonl.read_text().splitlines()) >= ranked + 20,
                 "the run to go on while OBS is frozen", timeout=120)
        finally:
            obs.thaw()
        # move the image away by hand: only PoseRec driving OBS again puts it back
        item = scene_items(obs)[IMAGE_SOURCE]
        obs.request("SetSceneItemTransform", {
            "sceneName": obs.scene, "sceneItemId": item["sceneItemId"],
            "sceneItemTransform": {"boundsType": "OBS_BOUNDS_NONE", "positionX": 0.0}})
        poll(lambda: placed(obs), "PoseRec to drive the thawed OBS", timeout=120)
        assert run.process.poll() is None
    finally:
        status = run.interrupt()
    assert status == 128 + signal.SIGINT, run.log.read_text()
    assert len(run.lines("reconnecting")) <= 1, run.log.read_text()
