"""The published PoseRec release files, described (never carried): name, upstream URL, sha256.

Source: the authors' repository FengxinLee/PoseRec at a pinned commit.
"""
from __future__ import annotations

from dataclasses import dataclass

RELEASE_REPO = "FengxinLee/PoseRec"
RELEASE_COMMIT = "bebd68481badc69edda187e49cc2c63a01c53304"
UPSTREAM_BASE = f"https://raw.githubusercontent.com/{RELEASE_REPO}/{RELEASE_COMMIT}"

WINDOW_FRAMES = 10
"""T: frames per pose window the published encoder was trained and evaluated on."""
NUM_ITEMS = 221
NUM_PROTOTYPES = 4
PROTOTYPE_DIM = 64
EMBEDDING_DIM = NUM_PROTOTYPES * PROTOTYPE_DIM


@dataclass(frozen=True)
class ReleaseFile:
    """One published file: where it lives upstream, its hash, and what is installed from it."""

    name: str
    upstream_path: str
    sha256: str
    role: str
    installed_as: str
    description: str

    @property
    def url(self) -> str:
        """The upstream raw URL at the pinned commit."""
        return f"{UPSTREAM_BASE}/{self.upstream_path}"


RELEASE_FILES: tuple[ReleaseFile, ...] = (
    ReleaseFile("best_model_pose.pt", "model/best_model_pose.pt",
                "728bbee36fc2b8f69f8aaf8c7b2e227891eb85cb659e6a14d8a287ae6917689b",
                "encoder", "best_model_pose.pt",
                "ST-GCN pose encoder state dict, 933,982 values, output 256 = 4 x 64"),
    ReleaseFile("item_feature.pkl", "data/item_feature.pkl",
                "e78bf7acbc2bfb18854e235b9d2342eeb820963fed451bdac11bf660917722e7",
                "item_embeddings", "item_feature.npy",
                "item embeddings per prototype, 4 x (221, 64) float32 (pickle, read safely)"),
    ReleaseFile("prototype_dis.npy", "data/prototype_dis.npy",
                "1fef662ad2709f5a9d54792390adcde09daaeb04387aa56113c2663946f0482c",
                "prototype_dis", "prototype_dis.npy",
                "each item's distribution over the 4 prototypes, (221, 4) float32"),
    ReleaseFile("item_data.csv", "data/item_data.csv",
                "5f24bdca9152dbb42d9bdf6f25beb5d5910e6fedb023269b570a7d876d040b75",
                "item_names", "item_data.csv",
                "item names, 221 lines, 108 distinct"),
    ReleaseFile("sample.pkl", "data/sample.pkl",
                "8efab9f0f56c6f4df37f262865ce5dc35c00df3a7ada2f85d4c64312e1fb702b",
                "sample", "sample.npy",
                "pose windows of one micro-video, (81, 10, 33, 4) float64 (pickle, read safely)"),
)
