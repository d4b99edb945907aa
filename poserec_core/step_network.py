"""The release's window length through the fast encoder: every block in one step-major layout.

When the blocks after the first run as Toom-Cook middle products over n steps (T=10 for the
published model), a block's input is held as (n, V, B, stride*C): frame stride*j + phase at
[j, v, b, phase*C:(phase+1)*C]. Then the graph product, the evaluation at the Toom-Cook points,
the products with the transformed kernel, the interpolation and the residual are each one
matrix product over the whole batch, and each block's output is already the next block's
input. Weights come folded from `fast_encoder` (`_BlockWeights`); outputs go into a
`Workspace` preallocated once per thread for every batch size.
"""
from __future__ import annotations

import math

import torch

from .encoder import LEAKY_SLOPE
from .middle_product import MiddleProductPlan


def folded_scale(weights, f32) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(the factor folded into z, the output scale left to apply or None).

    scale * leaky_relu(z) == leaky_relu(scale * z) where scale > 0: then it is folded into z.
    """
    if bool((weights.scale > 0).all()):
        return weights.scale, None
    return torch.ones_like(weights.scale), f32(weights.scale)


def activate(z: torch.Tensor, scale: torch.Tensor | None) -> torch.Tensor:
    """leaky_relu(z) * scale in place (scale None: folded into z already)."""
    torch.nn.functional.leaky_relu_(z, LEAKY_SLOPE)
    return z if scale is None else z.mul_(scale)


class _MiddleProductBlock:
    """A block whose temporal conv is a Toom-Cook middle product over n steps, in the step-major
    layout: x (n, V, B, stride*C_in) -> (n, V, B, C_out); every transform is one product."""

    def __init__(self, weights, plan: MiddleProductPlan, f32):
        z_scale, self.scale = folded_scale(weights, f32)
        self.in_channels = weights.in_channels
        self.graph_t = f32(weights.graph.T.expand(plan.frames, -1, -1))     # one per step
        self.evaluate = f32(torch.from_numpy(plan.evaluate))
        self.kernel = f32(weights.middle_product_kernel(plan) * z_scale)
        self.interpolate = f32(torch.from_numpy(plan.interpolate))
        bias = weights.bias(plan.frames * weights.stride) * z_scale           # (n, V, C_out)
        self.bias = f32(bias.unsqueeze(2))
        self.residual, self.shift = f32(weights.residual), f32(weights.shift)

    def __call__(self, x: torch.Tensor, space: "Workspace", key: int) -> torch.Tensor:
        """relu(leaky_relu(temporal(graph(x)) + bias) * scale + residual(x) + shift)."""
        n, v, b, width = x.shape
        points, c_out = self.kernel.shape[0], self.kernel.shape[2]
        aggregated = torch.bmm(self.graph_t, x.view(n, v, b * width),
                               out=space.get((key, "aggregated"), (n, v, b * width)))
        values = torch.mm(self.evaluate, aggregated.view(n, -1),
                          out=space.get((key, "values"), (points, v * b * width)))
        products = torch.bmm(values.view(points, v * b, width), self.kernel,
                             out=space.get((key, "products"), (points, v * b, c_out)))
        z = torch.mm(self.interpolate, products.view(points, -1),
                     out=space.get((key, "z"), (n, v * b * c_out)))
        z.view(n, v, b, c_out).add_(self.bias)                  # the bias, broadcast over b
        z = activate(z.view(n * v * b, c_out), self.scale)
        phase0 = x.view(n * v * b, width)[:, :self.in_channels]   # the residual's frames
        out = torch.addmm(z, phase0, self.residual, out=z)
        return out.add_(self.shift).relu_().view(n, v, b, c_out)


class StepNetwork:
    """Every block for one T at which the blocks after the first are middle products over n
    steps, in the step-major layout (n, V, B, stride*C): frame stride*j + phase of a block's
    input at [j, v, b, phase*C:(phase+1)*C]. The first block is one dense product per output
    step that writes this layout for the second, and its residual one product per step over
    that step's own frames; its input is (V, B, T*C_in). No activation is copied between
    blocks."""

    def __init__(self, blocks: list, frames: int, plan: MiddleProductPlan, f32):
        first, second = blocks[0], blocks[1]
        n, width, c = plan.frames, second.stride, first.out_channels
        out_frames, rows = n * width, frames * first.in_channels
        if first.stride != 1 or out_frames != frames:
            raise ValueError("the step layout needs a first block of temporal stride 1")
        z_scale, scale = folded_scale(first, f32)
        self.first_scale = None if scale is None else scale.repeat(width)
        self.first_graph_t = f32(first.graph.T)
        dense = (first.dense_operator(frames) * z_scale.repeat(out_frames)).view(rows, n, width * c)
        self.first_dense = f32(dense.permute(1, 0, 2))                      # (n, T*C_in, .)
        # Step j's residual reads only its own frames width*j .. width*j + width-1, which are
        # the input's columns step_columns*j .. step_columns*(j+1)-1: one block per phase.
        self.step_columns = width * first.in_channels
        self.first_residual = f32(torch.block_diag(*[first.residual] * width).expand(n, -1, -1))
        self.first_shift = f32(first.shift.repeat(width))
        bias = (first.bias(frames) * z_scale).view(n, width, -1, c)           # (n, s, V, C)
        self.first_bias = f32(bias.permute(0, 2, 1, 3).reshape(n, -1, 1, width * c))
        self.rest = [_MiddleProductBlock(w, plan, f32) for w in blocks[1:]]
        self.steps = n

    def step_frames(self, x: torch.Tensor) -> torch.Tensor:
        """(n, rows, step_columns): each step's own frames of the input x (rows, T*C_in)."""
        rows, width = x.shape
        return x.as_strided((self.steps, rows, self.step_columns), (self.step_columns, width, 1),
                            x.storage_offset())

    def __call__(self, x: torch.Tensor, space: "Workspace") -> torch.Tensor:
        """x (V, B, T*C_in), normalised -> (n, V, B, C_out)."""
        v, b, width = x.shape
        n, columns = self.steps, self.first_dense.shape[2]
        aggregated = torch.mm(self.first_graph_t, x.view(v, b * width),
                              out=space.get("aggregated", (v, b * width)))
        z = torch.bmm(aggregated.view(1, v * b, width).expand(n, -1, -1), self.first_dense,
                      out=space.get("z", (n, v * b, columns)))
        z.view(n, v, b, columns).add_(self.first_bias)          # the bias, broadcast over b
        z = activate(z, self.first_scale)
        out = torch.baddbmm(z, self.step_frames(x.view(v * b, width)), self.first_residual, out=z)
        h = out.add_(self.first_shift).relu_().view(n, v, b, columns)
        for key, block in enumerate(self.rest):
            h = block(h, space, key)
        return h


class Workspace:
    """Preallocated outputs of one network, reused call after call whatever the batch size: one
    buffer per name, as large as the largest shape asked for it, and under each shape a view of
    its first elements (made once), so that batches of changing sizes share warm memory."""

    def __init__(self, device: torch.device):
        self.device = device
        self._buffers: dict = {}
        self._views: dict = {}

    def get(self, key, shape: tuple[int, ...]) -> torch.Tensor:
        """The float32 view of shape `shape` kept under `key` (its values are whatever the last
        call left there)."""
        view = self._views.get((key, shape))
        if view is None:
            size = math.prod(shape)
            buffer = self._buffers.get(key)
            if buffer is None or buffer.numel() < size:
                buffer = self._buffers[key] = torch.empty(size, device=self.device)
                self._views = {k: v for k, v in self._views.items() if k[0] != key}
            view = self._views[(key, shape)] = buffer[:size].view(shape)
        return view
