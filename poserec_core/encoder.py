"""The ST-GCN pose encoder of the published PoseRec checkpoint (eager PyTorch, exact)."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .errors import WeightsError
from .release import EMBEDDING_DIM
from .skeleton import NUM_CHANNELS, NUM_LANDMARKS, normalized_adjacency

BLOCK_CHANNELS = (64, 128, 256)
BLOCK_STRIDES = (1, 2, 1)
TEMPORAL_KERNEL = 9
LEAKY_SLOPE = 0.2


class GraphTemporalBlock(nn.Module):
    """One ST-GCN block: 1x1 conv + graph aggregation, then BN-Conv(9x1)-LeakyReLU-BN, residual."""

    def __init__(self, in_channels: int, out_channels: int, stride: int):
        super().__init__()
        self.gcn = nn.Module()
        self.gcn.conv = nn.Conv2d(in_channels, out_channels, kernel_size=1)
        self.tcn = nn.Sequential(
            nn.BatchNorm2d(out_channels),
            nn.Conv2d(out_channels, out_channels, (TEMPORAL_KERNEL, 1), (stride, 1),
                      (TEMPORAL_KERNEL // 2, 0)),
            nn.LeakyReLU(LEAKY_SLOPE),
            nn.BatchNorm2d(out_channels),
        )
        self.residual = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=(stride, 1)),
            nn.BatchNorm2d(out_channels),
        )

    def forward(self, x: torch.Tensor, adjacency: torch.Tensor) -> torch.Tensor:
        """x (N, C_in, T, V), adjacency (V, V) -> (N, C_out, T', V)."""
        y = torch.einsum("nctv,vw->nctw", self.gcn.conv(x), adjacency)
        return torch.relu(self.tcn(y) + self.residual(x))


class PoseEncoder(nn.Module):
    """ST-GCN over the 33-landmark BlazePose graph; (N, C, T, V, M) -> (N, 256) `fc` output.

    State-dict keys match `best_model_pose.pt` exactly (`A`, `data_bn`, `st_gcn_networks`,
    `edge_importance`, `fc`).
    """

    def __init__(self):
        super().__init__()
        self.register_buffer("A", torch.from_numpy(normalized_adjacency()))
        self.data_bn = nn.BatchNorm1d(NUM_LANDMARKS * NUM_CHANNELS)
        ins = (NUM_CHANNELS,) + BLOCK_CHANNELS[:-1]
        self.st_gcn_networks = nn.ModuleList(
            GraphTemporalBlock(i, o, s) for i, o, s in zip(ins, BLOCK_CHANNELS, BLOCK_STRIDES))
        self.edge_importance = nn.ParameterList(
            nn.Parameter(torch.ones_like(self.A)) for _ in BLOCK_CHANNELS)
        self.fc = nn.Linear(BLOCK_CHANNELS[-1], EMBEDDING_DIM)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (N, C=4, T, V=33, M) -> (N, 256)."""
        n, c, t, v, m = x.shape
        x = x.permute(0, 4, 3, 1, 2).reshape(n * m, v * c, t)  # landmark-major channels
        x = self.data_bn(x)
        x = x.reshape(n, m, v, c, t).permute(0, 1, 3, 4, 2).reshape(n * m, c, t, v)
        for block, importance in zip(self.st_gcn_networks, self.edge_importance):
            x = block(x, (self.A * importance)[0])
        x = x.mean(dim=(2, 3)).reshape(n, m, -1).mean(dim=1)
        return self.fc(x)


def windows_to_input(windows: torch.Tensor) -> torch.Tensor:
    """Pose windows (N, T, V, C) -> the encoder's (N, C, T, V, M=1), as the published demo does."""
    return windows.permute(0, 3, 1, 2).unsqueeze(-1)


def load_encoder(state_dict: dict) -> PoseEncoder:
    """A PoseEncoder in eval mode with `state_dict` loaded strictly; its `A` must be the skeleton's."""
    encoder = PoseEncoder()
    try:
        encoder.load_state_dict(state_dict, strict=True)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        detail = " ".join(line.strip() for line in first[:3])
        raise WeightsError(f"the encoder weights do not fit the PoseRec encoder: {detail[:300]}") from None
    if not np.allclose(encoder.A.numpy(), normalized_adjacency(), atol=1e-6):
        raise WeightsError("the checkpoint's adjacency `A` is not the BlazePose graph's")
    return encoder.eval()
