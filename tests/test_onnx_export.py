"""`poserec export --format onnx`: onnxruntime gives the reference scores, any batch size."""
from __future__ import annotations

import contextlib
import io
import re

import numpy as np
import onnx
import pytest
import torch

from poserec_core.errors import PoseRecError
from poserec_core.onnx_export import OnnxScorer

from .helpers import NEAR_TIE, run_main, same_ranking


@pytest.fixture(scope="module")
def export_run(weights_dir, tmp_path_factory):
    """The model exported once through the command line; returns (.onnx path, what it printed)."""
    from realtime.cli import main

    path = tmp_path_factory.mktemp("onnx") / "poserec.onnx"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(["export", "--format", "onnx", str(path)]) == 0
    return path, printed.getvalue()


@pytest.fixture(scope="module")
def exported(export_run):
    """The exported .onnx file."""
    return export_run[0]


@pytest.fixture(scope="module")
def onnx_scorer(exported):
    """onnxruntime on the exported file."""
    return OnnxScorer(exported).load()


def test_graph_is_valid_with_a_dynamic_batch(exported):
    model = onnx.load(str(exported))
    onnx.checker.check_model(model)
    [windows] = model.graph.input
    dims = windows.type.tensor_type.shape.dim
    assert dims[0].dim_param and [d.dim_value for d in dims[1:]] == [10, 33, 4]


@pytest.mark.parametrize("rows", [slice(0, 1), slice(3, 10), slice(0, 81), slice(80, 81)])
def test_onnxruntime_scores_equal_the_reference(onnx_scorer, sample_windows, reference_scores,
                                                rows):
    scores = onnx_scorer.score(sample_windows[rows])
    assert scores.shape == reference_scores[rows].shape
    assert np.abs(scores - reference_scores[rows]).max() <= NEAR_TIE


def test_onnx_rankings_are_the_published_top5(onnx_scorer, recommender, sample_windows,
                                              reference_scores, reference_top5):
    rankings = recommender.rank_scores(torch.from_numpy(onnx_scorer.score(sample_windows)), 5)
    for n, (ranking, ref) in enumerate(zip(rankings, reference_top5["windows"])):
        assert same_ranking(list(ranking.items), [e["item"] for e in ref["top5"]],
                            reference_scores[n]), n


def test_export_reports_its_check(export_run):
    assert "onnxruntime matches torch on the 81 sample windows" in export_run[1]


@pytest.mark.parametrize("args, message", [
    (["export", "{tmp}/m.onnx"], "the following arguments are required: --format"),
    (["export", "--format", "tflite", "{tmp}/m.onnx"], "invalid choice: 'tflite'"),
    (["export", "--format", "onnx", "{tmp}/nowhere/m.onnx"], "no such directory for the ONNX file"),
    (["export", "--format", "onnx", "{tmp}/m.onnx", "--window", "0"], "below the minimum 1"),
    (["export", "--format", "onnx", "{tmp}/m.onnx", "--weights", "{tmp}"], "no PoseRec weights"),
])
def test_export_errors(capsys, weights_dir, tmp_path, args, message):
    code, _, err = run_main(capsys, *[a.format(tmp=tmp_path) for a in args])
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err


@pytest.mark.parametrize("case, message", [
    ("missing", "no such ONNX file"),
    ("garbage", "onnxruntime cannot load it"),
    ("wrong T", "windows of 12 frames"),
    ("wrong shape", "expected (N, T, 33, 4)"),
])
def test_onnx_scorer_errors(exported, sample_windows, tmp_path, case, message):
    with pytest.raises(PoseRecError, match=re.escape(message)):
        if case == "missing":
            OnnxScorer(tmp_path / "none.onnx").load()
        elif case == "garbage":
            (tmp_path / "bad.onnx").write_bytes(b"not a model")
            OnnxScorer(tmp_path / "bad.onnx").load()
        elif case == "wrong T":
            OnnxScorer(exported).load().score(np.zeros((1, 12, 33, 4), np.float32))
        else:
            OnnxScorer(exported).load().score(sample_windows[:1, :, :, :3])
