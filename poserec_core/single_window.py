"""One window through the step network with every buffer and view made once.

For a single window (N = M = 1) the encoder's time is its matrix products plus a fixed cost per
torch call, and the views, slices and workspace look-ups around the products are calls too.
`SingleWindow` builds, once per thread, every output buffer of a `StepNetwork` for one window
together with every view the products read and write, so that a call is only the products and
the in-place activations: 25 operator calls for the network and the head, with none of the
views, slices and workspace look-ups that `StepNetwork.__call__` makes on every call.
"""
from __future__ import annotations

import torch

from .encoder import LEAKY_SLOPE
from .step_network import StepNetwork

_leaky_relu_ = torch.nn.functional.leaky_relu_


class _Buffers:
    """One thread's buffers and views for one window; `steps` are the bound calls to run."""

    def __init__(self, network: StepNetwork, frames: int, channels: int, landmarks: int,
                 device: torch.device):
        def empty(*shape):
            return torch.empty(shape, device=device)

        n, v, rows = network.steps, landmarks, frames * channels
        h = empty(v, rows)
        self.normalised = h.view(v, frames, channels)
        columns = network.first_dense.shape[2]
        aggregated = empty(v, rows)
        z = empty(n, v, columns)
        steps = [
            (torch.mm, (network.first_graph_t, h), aggregated),
            (torch.baddbmm, (network.first_bias.view(n, v, columns),
                             aggregated.expand(n, -1, -1), network.first_dense), z),
            (_leaky_relu_, (z, LEAKY_SLOPE), None),
        ]
        if network.first_scale is not None:
            steps.append((z.mul_, (network.first_scale,), None))
        steps += [(torch.baddbmm, (z, network.step_frames(h), network.first_residual), z),
                  (z.add_, (network.first_shift,), None),
                  (z.relu_, (), None)]
        x = z
        for block in network.rest:
            x = self._block(block, x, empty, steps)
        pooled = empty(x.shape[-1])
        steps.append((torch.sum, (x.view(-1, x.shape[-1]), 0), pooled))
        self.pooled = pooled.view(1, -1)
        self.steps = steps

    @staticmethod
    def _block(block, x: torch.Tensor, empty, steps: list) -> torch.Tensor:
        """Append one middle-product block's calls; its output (n, V, C_out)."""
        n, v, width = x.shape
        points, c_out = block.kernel.shape[0], block.kernel.shape[2]
        aggregated = empty(n, v, width)
        values = empty(points, v, width)
        products = empty(points, v, c_out)
        z = empty(n, v * c_out)
        flat = z.view(n * v, c_out)
        steps += [
            (torch.bmm, (block.graph_t, x), aggregated),
            (torch.mm, (block.evaluate, aggregated.view(n, -1)), values.view(points, -1)),
            (torch.bmm, (values, block.kernel), products),
            (torch.addmm, (block.bias.view(n, -1), block.interpolate,
                           products.view(points, -1)), z),
            (_leaky_relu_, (flat, LEAKY_SLOPE), None),
        ]
        if block.scale is not None:
            steps.append((flat.mul_, (block.scale,), None))
        steps += [(torch.addmm, (flat, x.view(n * v, width)[:, :block.in_channels],
                                 block.residual), flat),
                  (flat.add_, (block.shift,), None),
                  (flat.relu_, (), None)]
        return z.view(n, v, c_out)


class SingleWindow:
    """The step network and head for one window; the caller keeps `buffers()` per thread."""

    def __init__(self, network: StepNetwork, head_weight: torch.Tensor, fc_bias: torch.Tensor,
                 in_scale: torch.Tensor, in_shift: torch.Tensor, frames: int):
        channels = in_scale.shape[-1]
        self.network, self.frames, self.channels = network, frames, channels
        self.head_weight, self.fc_bias = head_weight, fc_bias
        self.in_scale = in_scale.view(-1, 1, channels)
        self.in_shift = in_shift.view(-1, 1, channels)

    def buffers(self) -> _Buffers:
        """New buffers for one thread."""
        return _Buffers(self.network, self.frames, self.channels, self.in_scale.shape[0],
                        self.head_weight.device)

    def __call__(self, window: torch.Tensor, buffers: _Buffers) -> torch.Tensor:
        """window (C, T, V), any strides -> the (1, 256) encoder output (a new tensor)."""
        torch.addcmul(self.in_shift, window.permute(2, 1, 0), self.in_scale,
                      out=buffers.normalised)
        for call, args, out in buffers.steps:
            if out is None:
                call(*args)
            else:
                call(*args, out=out)
        return torch.addmm(self.fc_bias, buffers.pooled, self.head_weight)
