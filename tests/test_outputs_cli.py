"""The streamer options of `poserec live`: bad values and impossible set-ups are one line and
exit status 2."""
from __future__ import annotations

import socket

import pytest

from .helpers import run_main


@pytest.mark.parametrize("args, error", [
    (["--serve", "70000"], "argument --serve: 70000 is outside [0, 65535]"),
    (["--serve", "http"], "argument --serve: 'http' is not an integer"),
    (["--record", "out.mkv"], "argument --record: 'out.mkv' is not a .mp4 or .avi file"),
    (["--record-poses", "poses.npz"], "argument --record-poses: 'poses.npz' is not a .npy file"),
    (["--host", "0.0.0.0"], "--host applies to --serve; add --serve PORT"),
    (["--overlay-only"], "--overlay-only applies to --virtual-cam and --record"),
    (["--record", "{tmp}/no/such/dir/out.mp4"], "--record {tmp}/no/such/dir/out.mp4: no such "
                                                "directory"),
    (["--record-poses", "{tmp}/no/poses.npy"], "--record-poses {tmp}/no/poses.npy: no such "
                                               "directory"),
])
def test_bad_streamer_options_are_one_line_errors(capsys, weights_dir, tmp_path, args, error):
    args = [arg.format(tmp=tmp_path) for arg in args]
    code, _, err = run_main(capsys, "live", "--source", "demo", "--headless", "--device", "cpu",
                            *args)
    assert code == 2 and error.format(tmp=tmp_path) in err
    assert len(err.strip().splitlines()) == 1


def test_serving_on_a_port_in_use_exits_2_with_one_line(capsys, weights_dir, tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, _, err = run_main(capsys, "live", "--source", "demo", "--headless", "--device",
                                "cpu", "--serve", str(port), "--record-poses",
                                str(tmp_path / "poses.npy"))
    assert code == 2
    assert err.strip() == (f"poserec live: error: --serve {port}: port {port} on 127.0.0.1 is "
                           "already in use; pick another port, or --serve 0 for a free one")
    assert not (tmp_path / "poses.npy").exists()  # the server is opened before any file
