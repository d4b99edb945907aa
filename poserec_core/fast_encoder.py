"""The PoseRec encoder composed into a few large matrix products per block, for inference.

Between two nonlinearities every operation of an ST-GCN block is linear: the 1x1 conv, the
BatchNorms (eval mode), the graph aggregation and the temporal conv. For a fixed window length
T they compose, in float64 at load time, into:

- one (V, V) graph product, applied first (it commutes with everything on the channel axis);
- one temporal operator from (T, C_in) to (T', C_out): the 1x1 conv and the first BatchNorm
  folded into the 9 taps of the temporal conv, the conv's zero padding reproduced exactly
  (taps that would read frames outside the window are left out) and every constant term
  gathered into a (T', V, C_out) bias. When a block maps 5*stride frames to 5 (blocks 2 and 3
  at T=10) it runs as a Toom-Cook middle product (`middle_product`): 9 matrix products instead
  of 25; otherwise as one dense product;
- the residual 1x1 conv and its BatchNorm as one product plus a per-channel shift (which also
  carries the output BatchNorm's shift); then relu(leaky_relu(z) * scale + residual).

At the release's T=10 (`step_network`) activations stay in one step-major layout, (steps, V,
N*M, stride*C), for the whole network: the graph product, the Toom-Cook evaluation and
interpolation and the residual are each one product over the whole batch, biases are added
broadcast over the batch and nothing is copied between blocks; one window runs the same
products through `single_window`, whose buffers and views are made once per thread. Other
window lengths run dense blocks in a position-major (N*M, V, T, C) layout. Batches run in chunks whose outputs are preallocated once
per thread for every chunk size. Operators are cast to float32 once per T and cached;
the result matches the eager `PoseEncoder` within 1e-5 on the published sample
(tests/test_fast_encoder.py).
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

import torch
from torch import nn

from .encoder import TEMPORAL_KERNEL, PoseEncoder
from .middle_product import MiddleProductPlan, middle_product_plan
from .single_window import SingleWindow
from .step_network import StepNetwork, Workspace, activate, folded_scale

_PADDING = TEMPORAL_KERNEL // 2


def _f64(t: torch.Tensor) -> torch.Tensor:
    """A weight as a float64 CPU tensor, where the operators are composed."""
    return t.detach().to("cpu", torch.float64)


def _bn_affine(bn: nn.BatchNorm1d | nn.BatchNorm2d) -> tuple[torch.Tensor, torch.Tensor]:
    """Eval-mode BatchNorm as a float64 scale and shift per channel."""
    scale = _f64(bn.weight) / torch.sqrt(_f64(bn.running_var) + bn.eps)
    return scale, _f64(bn.bias) - _f64(bn.running_mean) * scale


def output_frames(frames: int, stride: int) -> int:
    """T' of the temporal conv (kernel 9, padding 4) over `frames` frames with `stride`."""
    return (frames + 2 * _PADDING - TEMPORAL_KERNEL) // stride + 1


def _tap(frame: int, out_frame: int, stride: int) -> int | None:
    """The tap that carries input `frame` into output `out_frame`, None where there is none."""
    k = frame - stride * out_frame + _PADDING
    return k if 0 <= k < TEMPORAL_KERNEL else None


def _to_device(device: torch.device):
    """f32(t): t as a contiguous float32 tensor on `device`."""
    return lambda t: t.to(device=device, dtype=torch.float32).contiguous()


@dataclass(frozen=True)
class _BlockWeights:
    """One block's layers folded over channels (independent of T), float64."""

    graph: torch.Tensor           # (V, V): A * edge_importance
    taps: torch.Tensor            # (K, C_in, C_out): temporal conv o BatchNorm o 1x1 conv
    constant_taps: torch.Tensor   # (K, V, C_out): each tap applied to the constant input part
    conv_bias: torch.Tensor       # (C_out,): the temporal conv's bias
    residual: torch.Tensor        # (C_in, C_out): residual conv o its BatchNorm
    shift: torch.Tensor           # (C_out,): residual bias and BN shift, output BN shift
    scale: torch.Tensor           # (C_out,): output BatchNorm scale
    stride: int

    @classmethod
    def from_block(cls, block, graph: torch.Tensor) -> "_BlockWeights":
        """Fold the eval-mode layers of an eager `GraphTemporalBlock`."""
        conv1 = _f64(block.gcn.conv.weight)[:, :, 0, 0]               # (C_out, C_in)
        bn_scale, bn_shift = _bn_affine(block.tcn[0])
        temporal = _f64(block.tcn[1].weight)[..., 0]                 # (C_out, C_out, K)
        out_scale, out_shift = _bn_affine(block.tcn[3])
        res_scale, res_shift = _bn_affine(block.residual[1])
        # The temporal conv's input is bn(aggregate(conv1 x + b1)): linear part plus a
        # constant (V, C) that the aggregation makes depend on the landmark.
        constant = (bn_scale[:, None] * _f64(block.gcn.conv.bias)[:, None] * graph.sum(0)
                    + bn_shift[:, None]).T
        return cls(
            graph=graph,
            taps=torch.einsum("ock,c,ci->kio", temporal, bn_scale, conv1),
            constant_taps=torch.einsum("wc,ock->kwo", constant, temporal),
            conv_bias=_f64(block.tcn[1].bias),
            residual=(res_scale[:, None] * _f64(block.residual[0].weight)[:, :, 0, 0]).T,
            shift=res_scale * _f64(block.residual[0].bias) + res_shift + out_shift,
            scale=out_scale,
            stride=block.tcn[1].stride[0],
        )

    @property
    def in_channels(self) -> int:
        """C_in."""
        return self.taps.shape[1]

    @property
    def out_channels(self) -> int:
        """C_out."""
        return self.taps.shape[2]

    def bias(self, frames: int) -> torch.Tensor:
        """(T', V, C_out): the temporal conv of the constant input, zero padding included."""
        return torch.stack([
            self.conv_bias + sum(self.constant_taps[k] for t in range(frames)
                                 if (k := _tap(t, t_out, self.stride)) is not None)
            for t_out in range(output_frames(frames, self.stride))])

    def dense_operator(self, frames: int) -> torch.Tensor:
        """(T*C_in, T'*C_out): the temporal operator as one matrix, rows (t, c), columns (t', o)."""
        out = output_frames(frames, self.stride)
        op = self.taps.new_zeros(frames, self.in_channels, out, self.out_channels)
        for t in range(frames):
            for t_out in range(out):
                if (k := _tap(t, t_out, self.stride)) is not None:
                    op[t, :, t_out] = self.taps[k]
        return op.reshape(frames * self.in_channels, out * self.out_channels)

    def middle_product_kernel(self, plan: MiddleProductPlan) -> torch.Tensor:
        """(2n-1, stride*C_in, C_out): the transformed kernel for n*stride frames in, n out.

        Input frame t = stride*j + phase; the middle product runs over j, with the phases
        stacked on the channel axis, so offset d = j - t' uses tap stride*d + phase + 4.
        """
        n, s = plan.frames, self.stride
        offsets = self.taps.new_zeros(2 * n - 1, s, self.in_channels, self.out_channels)
        for m in range(2 * n - 1):
            for phase in range(s):
                k = s * (m - (n - 1)) + phase + _PADDING
                if 0 <= k < TEMPORAL_KERNEL:
                    offsets[m, phase] = self.taps[k]
        offsets = offsets.reshape(2 * n - 1, s * self.in_channels, self.out_channels)
        return torch.einsum("pm,mio->pio", torch.from_numpy(plan.kernel), offsets)


class _BlockOperator:
    """One block for one T as a dense temporal operator, float32 on the device, in the
    position-major layout: x (B, V, T, C_in) -> (B, V, T', C_out). Window lengths whose later
    blocks are not middle products run through these."""

    def __init__(self, weights: _BlockWeights, frames: int, device: torch.device):
        f32 = _to_device(device)
        self.stride, self.out_channels = weights.stride, weights.out_channels
        self.out_frames = output_frames(frames, weights.stride)
        z_scale, self.scale = folded_scale(weights, f32)
        self.graph_t = f32(weights.graph.T)
        self.bias = f32(weights.bias(frames).transpose(0, 1) * z_scale)     # (V, T', C_out)
        self.residual, self.shift = f32(weights.residual), f32(weights.shift)
        self.dense = f32(weights.dense_operator(frames) * z_scale.repeat(self.out_frames))

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """relu(leaky_relu(temporal(graph(x)) + bias) * scale + residual(x) + shift)."""
        batch, v, frames, c_in = x.shape
        aggregated = torch.matmul(self.graph_t, x.view(batch, v, frames * c_in))
        z = aggregated.view(batch * v, frames * c_in) @ self.dense
        z = z.view(batch, v, self.out_frames, self.out_channels).add_(self.bias)
        strided = x[:, :, ::self.stride].reshape(-1, c_in)
        out = torch.addmm(self.shift, strided, self.residual).view(z.shape)
        return out.add_(activate(z, self.scale)).relu_()


class _Operators:
    """Every composed operator for one window length T: the step network when the blocks after
    the first are middle products, else the dense blocks; and the head."""

    def __init__(self, encoder: "FastEncoder", frames: int):
        f32 = _to_device(encoder.device)
        chain = [frames]
        for weights in encoder.blocks:
            chain.append(output_frames(chain[-1], weights.stride))
        n = encoder.plan.frames
        steps = chain[1] == frames and all(chain[i] == n * w.stride and chain[i + 1] == n
                                           for i, w in enumerate(encoder.blocks) if i > 0)
        self.network = StepNetwork(encoder.blocks, frames, encoder.plan, f32) if steps else None
        self.dense = None if steps else [_BlockOperator(w, t, encoder.device)
                                         for w, t in zip(encoder.blocks, chain)]
        self.paths = tuple("middle product" if steps and i > 0 else "dense"
                           for i in range(len(encoder.blocks)))
        # fc over the mean of the (T', V) positions: fold the 1/(T'V) into fc's weight.
        self.head_weight = f32(encoder.fc_weight / (chain[-1] * encoder.landmarks))
        self.single = SingleWindow(self.network, self.head_weight, encoder.fc_bias,
                                   encoder.in_scale, encoder.in_shift, frames) if steps else None


class FastEncoder:
    """The eager `PoseEncoder`'s function, composed per T; (N, C, T, V, M) -> (N, 256).

    Build it from an eval-mode PoseEncoder (its weights are read once). Operators for a window
    length are built on first use and cached (`prepare(T)` builds them ahead); two threads that
    race on a new T both build the same operators, and one of them is kept. Batches run in
    chunks of at most CHUNK_WINDOWS windows, each into outputs preallocated per thread (shared by
    every chunk size, so batches of changing sizes reuse the same memory), so that a call
    allocates only its result.
    """

    CHUNK_WINDOWS = 16
    """Windows per pass: the working set of a chunk stays in the CPU's caches."""

    def __init__(self, encoder: PoseEncoder):
        if encoder.training:
            raise ValueError("FastEncoder needs an eval-mode PoseEncoder (BatchNorm running stats)")
        self.device = encoder.fc.weight.device
        adjacency = _f64(encoder.A)[0]
        self.blocks = [_BlockWeights.from_block(block, adjacency * _f64(importance)[0])
                       for block, importance in zip(encoder.st_gcn_networks,
                                                    encoder.edge_importance)]
        self.landmarks = adjacency.shape[0]
        in_scale, in_shift = _bn_affine(encoder.data_bn)        # channel index v*C + c
        self.in_scale = in_scale.view(self.landmarks, 1, 1, 1, -1).to(self.device, torch.float32)
        self.in_shift = in_shift.view(self.landmarks, 1, 1, 1, -1).to(self.device, torch.float32)
        self.fc_weight = _f64(encoder.fc.weight).T
        self.fc_bias = encoder.fc.bias.detach().to(self.device, torch.float32).clone()
        self.plan = middle_product_plan()
        self._operators: dict[int, _Operators] = {}
        self._local = threading.local()

    def __getstate__(self) -> dict:
        """Copies and pickles leave the per-thread workspaces behind."""
        return {k: v for k, v in self.__dict__.items() if k != "_local"}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state, _local=threading.local())

    def prepare(self, frames: int) -> None:
        """Build and cache the operators for windows of `frames` frames."""
        if frames not in self._operators:
            self._operators[frames] = _Operators(self, frames)

    def block_paths(self, frames: int) -> tuple[str, ...]:
        """How each block's temporal operator runs for windows of `frames` frames:
        "middle product" (Toom-Cook) or "dense"."""
        self.prepare(frames)
        return self._operators[frames].paths

    @torch.inference_mode()
    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """x (N, C=4, T, V=33, M) on the encoder's device -> (N, 256), as PoseEncoder.forward."""
        n, c, frames, v, m = x.shape
        ops = self._operators.get(frames)
        if ops is None:
            self.prepare(frames)
            ops = self._operators[frames]
        if n * m == 1 and ops.single is not None:
            return ops.single(x[0, :, :, :, 0], self._single_buffers(frames, ops))
        out = torch.empty((n, ops.head_weight.shape[1]), device=x.device)
        for start in range(0, n, self.CHUNK_WINDOWS):
            part = x[start:start + self.CHUNK_WINDOWS]
            rows = out[start:start + len(part)]
            if ops.network is None:
                self._dense(part, ops, rows)
            else:
                self._steps(part, ops, rows)
        return out

    def _steps(self, x: torch.Tensor, ops: _Operators, out: torch.Tensor) -> None:
        n, c, frames, v, m = x.shape
        space = self._workspace(frames)
        h = space.get("input", (v, n * m, frames * c))       # (t, c) columns
        torch.addcmul(self.in_shift, x.permute(3, 0, 4, 2, 1), self.in_scale,
                      out=h.view(v, n, m, frames, c))
        h = ops.network(h, space)                         # (n', V, N*M, C)
        pooled = torch.sum(h.view(-1, n * m * h.shape[-1]), 0,
                           out=space.get("pooled", (n * m * h.shape[-1],)))
        self._head(pooled.view(n, m, -1), ops, out)

    def _dense(self, x: torch.Tensor, ops: _Operators, out: torch.Tensor) -> None:
        n, c, frames, v, m = x.shape
        h = x.new_empty((n, m, v, frames, c))
        torch.addcmul(self.in_shift[:, 0, 0], x.permute(0, 4, 3, 2, 1), self.in_scale[:, 0, 0],
                      out=h)
        h = h.view(n * m, v, frames, c)
        for block in ops.dense:
            h = block(h)
        self._head(h.view(n, m, -1, h.shape[-1]).sum(2), ops, out)

    def _head(self, pooled: torch.Tensor, ops: _Operators, out: torch.Tensor) -> None:
        """fc of the mean over persons (pooled (N, M, C) holds the sums over (V, T'))."""
        m = pooled.shape[1]
        pooled = pooled[:, 0] if m == 1 else pooled.sum(1)
        torch.addmm(self.fc_bias, pooled, ops.head_weight, alpha=1.0 / m, out=out)

    def _single_buffers(self, frames: int, ops: _Operators):
        """This thread's buffers for one window of `frames` frames."""
        buffers = getattr(self._local, "single", None)
        if buffers is None:
            buffers = self._local.single = {}
        if frames not in buffers:
            buffers[frames] = ops.single.buffers()
        return buffers[frames]

    def _workspace(self, frames: int) -> Workspace:
        """This thread's preallocated outputs for windows of `frames` frames (any batch)."""
        spaces = getattr(self._local, "spaces", None)
        if spaces is None:
            spaces = self._local.spaces = {}
        space = spaces.get(frames)
        if space is None:
            space = spaces[frames] = Workspace(self.device)
        return space
