"""Winograd's minimal filtering F(2×2, 3×3): a 3×3 stride-1 convolution with 16 products per
2×2 block of outputs where im2col needs 36 (Lavin & Gray, "Fast Algorithms for Convolutional
Neural Networks", 2016). The same function as :func:`whynet.nn.conv.conv_forward`, summed in
another order, so it agrees with it to round-off (tested in float64 and float32).

In one dimension, two outputs of a 3-tap correlation ``y_i = Σ_k g_k d_{i+k}`` from four inputs
and four products, ``y = Aᵀ [(G g) ⊙ (Bᵀ d)]``, with

    Bᵀ = [[1,  0, -1,  0],      G = [[1,  0,  0],      Aᵀ = [[1, 1,  1,  0],
          [0,  1,  1,  0],           [½,  ½,  ½],             [0, 1, -1, -1]]
          [0, -1,  1,  0],           [½, -½,  ½],
          [0,  1,  0, -1]]           [0,  0,  1]]

In two, ``Y = Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A`` on 4×4 input tiles that overlap by 2 (stride 2). Summed
over input channels, the element-wise product becomes 16 matrix products, one per transform
position ξ = (r, s). With the tiles of all images as rows:

    V[ξ] = (Bᵀ d B)[ξ]      (tiles·n, C_in)     the input transform
    U[ξ] = (G g Gᵀ)[ξ]      (C_out, C_in)       the kernel transform, once per call
    M[ξ] = V[ξ] · U[ξ]ᵀ     (tiles·n, C_out)    16 products with K = C_in
    Y    = Aᵀ M A + b                            the output transform

Backward is the adjoint of each linear step, in reverse:

    dM     = A dY Aᵀ             (the output transform's adjoint)
    dU[ξ]ᵀ = V[ξ]ᵀ · dM[ξ]       dW = Gᵀ dU G,   db = Σ dY = Σ_tiles dM[1, 1]
    dV[ξ]  = dM[ξ] · U[ξ]        dX = the input transform's adjoint of dV (overlapping tiles add)

Each transform is separable: applied along the rows, then along the columns. Along one axis the
tiles start at every even index, so tile a reads the even and odd entries ``e[a], o[a], e[a+1],
o[a+1]``: every term is a whole strided slice, one NumPy call.

The bias rides on M[1, 1]: column 1 of Aᵀ is (1, 1), so a constant added there adds it to all
four outputs of the tile. Likewise Σ dY over a tile is dM[1, 1].

The cost: the products take 16/36 of im2col's multiply-adds; the transforms are a few passes over
arrays 4× the size of the input and of the output, instead of im2col's 9 copies and col2im's 9
adds. For Conv2d(16 → 32) on 64 images of 28×28, forward + backward on one thread took 24 ms:
7.7 ms of products, 11.2 ms of transforms and 3.9 ms of layout changes (images to tiles and
back; ``python bench/bench_conv.py --parts``), where im2col's products alone take about 26 ms.
"""

from __future__ import annotations

import math

import numpy as np

#: The kernel transform G (4×3) in float64; U = G g Gᵀ.
G = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]])


def eligible(kernel: tuple[int, ...], stride: tuple[int, ...]) -> bool:
    """Whether F(2×2, 3×3) computes this convolution: 2-D, 3×3, stride 1."""
    return tuple(kernel) == (3, 3) and tuple(stride) == (1, 1)


def tiles(out: int) -> int:
    """Tiles of two outputs covering ``out`` outputs along one axis (the last may overhang)."""
    return -(-out // 2)


def kernel_transform(w: np.ndarray) -> np.ndarray:
    """U[r, s] = (G g Gᵀ)[r, s] for every (output, input) channel pair: w (C_out, C_in, 3, 3)
    → U (16, C_out, C_in), in w's dtype (G's entries are exact in any float)."""
    g = G.astype(w.dtype)
    u = g @ w @ g.T  # (C_out, C_in, 4, 4)
    return np.ascontiguousarray(u.transpose(2, 3, 0, 1)).reshape(16, *w.shape[:2])


def kernel_transform_adjoint(du: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """dW = Gᵀ dU G: du (16, C_out, C_in) → dW (C_out, C_in, 3, 3)."""
    g = G.astype(du.dtype)
    return (g.T @ du.reshape((4, 4) + du.shape[1:]).transpose(2, 3, 0, 1) @ g).reshape(shape)


def _input_1d(e: np.ndarray, o: np.ndarray, axis: int, out: list[np.ndarray]) -> None:
    """Bᵀ d along ``axis``, given the even and odd entries of d (T+1 each) → the four outputs
    (T each): v0 = e[a] − e[a+1],  v1 = o[a] + e[a+1],  v2 = e[a+1] − o[a],  v3 = o[a] − o[a+1]."""
    e0, e1, o0, o1 = _shift(e, axis, 0), _shift(e, axis, 1), _shift(o, axis, 0), _shift(o, axis, 1)
    np.subtract(e0, e1, out=out[0])
    np.add(o0, e1, out=out[1])
    np.subtract(e1, o0, out=out[2])
    np.subtract(o0, o1, out=out[3])


def _input_1d_adjoint(dv: list[np.ndarray], e: np.ndarray, o: np.ndarray, axis: int) -> None:
    """The adjoint of :func:`_input_1d`, written over the even and odd entries (overlapping
    tiles add): e[a] += dv0,  e[a+1] += dv1 + dv2 − dv0,  o[a] += dv1 − dv2 + dv3,
    o[a+1] −= dv3."""
    e0, e1, o0, o1 = _shift(e, axis, 0), _shift(e, axis, 1), _shift(o, axis, 0), _shift(o, axis, 1)
    np.copyto(e0, dv[0])
    _last(e, axis).fill(0)
    np.add(dv[1], dv[2], out=o0)          # o0 is scratch here: e1 += dv1 + dv2 − dv0
    o0 -= dv[0]
    e1 += o0
    np.subtract(dv[1], dv[2], out=o0)     # o[a] = dv1 − dv2 + dv3
    o0 += dv[3]
    _last(o, axis).fill(0)
    o1 -= dv[3]


def _output_1d(m: list[np.ndarray], out: list[np.ndarray], tmp: np.ndarray) -> None:
    """Aᵀ m: y0 = m0 + m1 + m2,  y1 = m1 − m2 − m3, the partial sums in ``tmp`` so that each
    output is written once (it may be a strided view of the layer's output)."""
    np.add(m[0], m[1], out=tmp)
    np.add(tmp, m[2], out=out[0])
    np.subtract(m[1], m[2], out=tmp)
    np.subtract(tmp, m[3], out=out[1])


def _output_1d_adjoint(dy: list[np.ndarray], out: list[np.ndarray]) -> None:
    """A dy: dm0 = dy0,  dm1 = dy0 + dy1,  dm2 = dy0 − dy1,  dm3 = −dy1."""
    np.copyto(out[0], dy[0])
    np.add(dy[0], dy[1], out=out[1])
    np.subtract(dy[0], dy[1], out=out[2])
    np.negative(dy[1], out=out[3])


def _shift(x: np.ndarray, axis: int, start: int) -> np.ndarray:
    """Entries ``start … start + n − 2`` along ``axis`` (n − 1 of them)."""
    return x[(_ALL,) * axis + (slice(start, x.shape[axis] - 1 + start),)]


def _last(x: np.ndarray, axis: int) -> np.ndarray:
    return x[(_ALL,) * axis + (slice(-1, None),)]


_ALL = slice(None)


def input_transform(xp: np.ndarray, v: np.ndarray, tmp: np.ndarray) -> None:
    """V = Bᵀ d B for every tile: xp (2T_h+2, 2, T_w+1, …), its columns split into even and
    odd, → v (4, 4, T_h, T_w, …), along the rows into ``tmp`` (4, T_h, 2, T_w+1, …), then along
    the columns (all four rows of the transform in each call). The trailing axes (images,
    channels) ride along: each NumPy call runs over tile columns, images and channels as one
    contiguous run."""
    _input_1d(xp[0::2], xp[1::2], 0, list(tmp))
    _input_1d(tmp[:, :, 0], tmp[:, :, 1], 2, [v[:, s] for s in range(4)])


def input_transform_adjoint(dv: np.ndarray, dxp: np.ndarray, tmp: np.ndarray) -> None:
    """The adjoint of :func:`input_transform`: dv (4, 4, T_h, T_w, …) → dxp (2T_h+2, 2,
    T_w+1, …), overwritten; ``tmp`` as there."""
    _input_1d_adjoint([dv[:, s] for s in range(4)], tmp[:, :, 0], tmp[:, :, 1], 2)
    _input_1d_adjoint(list(tmp), dxp[0::2], dxp[1::2], 0)


def output_transform(m: np.ndarray, y: np.ndarray, tmp: np.ndarray) -> None:
    """Y = Aᵀ M A: m (4, 4, T_h, T_w, …) → y (2, 2, T_h, T_w, …) (y[i, j]: the outputs at
    (2a + i, 2b + j)), along the rows into ``tmp[:2]`` ((3, 4, T_h, T_w, …), ``tmp[2]``
    scratch), then along the columns."""
    _output_1d(list(m), list(tmp[:2]), tmp[2])
    _output_1d([tmp[:2, s] for s in range(4)], [y[:, j] for j in range(2)], tmp[2, :2])


def output_transform_adjoint(dy: np.ndarray, dm: np.ndarray, tmp: np.ndarray) -> None:
    """dM = A dY Aᵀ: dy (2, 2, T_h, T_w, …) → dm (4, 4, T_h, T_w, …), along the columns into
    ``tmp`` (4, 2, T_h, T_w, …) (tmp[s, i]), then along the rows."""
    _output_1d_adjoint([dy[:, j] for j in range(2)], list(tmp))
    _output_1d_adjoint([tmp[:, i] for i in range(2)], list(dm))


# -- the passes, run by a ConvEngine (its threads, scratch buffers and kept buffer) -----------
#
# Layout: the spatial axes first, then images, then channels (H, W, n, C). A transform's terms
# are then slices along the first two axes, and each NumPy call runs over n·C contiguous values;
# with the images' own layout (n, C, H, W) the runs would be a row of a few pixels, read with
# stride 2. The GEMMs see V[ξ] as a (tiles·n, C_in) matrix and M[ξ] as (tiles·n, C_out).

class Plan:
    """The sizes of one call: outputs (oh, ow), tiles (th, tw), the padded input (2·th + 2,
    2·tw + 2), which of it is the input, and the images per chunk."""

    def __init__(self, engine, layer, x: np.ndarray):
        m, self.c_in, h, w = x.shape
        self.c_out = layer.out_channels
        ph, pw = layer.padding
        self.out = (h + 2 * ph - 2, w + 2 * pw - 2)
        self.th, self.tw = tiles(self.out[0]), tiles(self.out[1])
        self.padded = (2 * self.th + 2, 2 * self.tw + 2)
        self.rows = slice(ph, ph + h)
        self.size = (h, w)
        # Input column c sits at padded column pw + c: parity (pw + c) % 2, index (pw + c) // 2.
        self.columns = [(q, slice((q - pw) % 2, None, 2), (pw + (q - pw) % 2) // 2,
                         len(range((q - pw) % 2, w, 2))) for q in (0, 1)]
        # Outputs of a whole number of tiles are written in place; otherwise via a grid.
        self.even = self.out[0] % 2 == 0 and self.out[1] % 2 == 0
        per_image = 16 * (self.c_in + self.c_out) * self.th * self.tw * x.itemsize
        chunk = max(1, min(m, engine.chunk_bytes // per_image))
        count = -(-m // chunk)
        if count > 1 or m * per_image >= engine.chunk_bytes // 2:
            threads = engine._workers(m)
            count = -(-count // threads) * threads
        self.chunk = -(-m // count) if m else 1

    def xp_shape(self, n: int) -> tuple[int, ...]:
        """The padded input of n images, columns split by parity: (2·th + 2, 2, tw + 1, n, C)."""
        return (self.padded[0], 2, self.tw + 1, n, self.c_in)

    def rows_shape(self, n: int) -> tuple[int, ...]:
        """The input transform after the rows: (4, th, 2, tw + 1, n, C_in)."""
        return (4, self.th, 2, self.tw + 1, n, self.c_in)

    def slot(self, buf: np.ndarray, start: int, n: int, shape, dtype) -> np.ndarray:
        """Chunk ``start``'s part of a buffer holding ``shape(chunk)`` per chunk."""
        size = math.prod(shape(self.chunk)) * np.dtype(dtype).itemsize
        offset = (start // self.chunk) * size
        nbytes = math.prod(shape(n)) * np.dtype(dtype).itemsize
        return buf[offset:offset + nbytes].view(dtype).reshape(shape(n))

    def pad(self, x: np.ndarray, xp: np.ndarray) -> None:
        """Write images x (n, C, H, W) inside their padded slot xp (see :meth:`xp_shape`)."""
        for q, cols, first, count in self.columns:
            xp[self.rows, q, first:first + count] = x[..., cols].transpose(2, 3, 0, 1)

    def unpad(self, dxp: np.ndarray, dx: np.ndarray) -> None:
        """The adjoint of :meth:`pad`: dx (n, C, H, W) = the inside of dxp."""
        for q, cols, first, count in self.columns:
            dx[..., cols] = dxp[self.rows, q, first:first + count].transpose(2, 3, 0, 1)

    def v_shape(self, n: int) -> tuple[int, ...]:
        return (4, 4, self.th, self.tw, n, self.c_in)

    def m_shape(self, n: int) -> tuple[int, ...]:
        return (4, 4, self.th, self.tw, n, self.c_out)


def _tiles_view(a: np.ndarray, th: int, tw: int) -> np.ndarray:
    """a (n, C, 2·th, 2·tw) as (2, 2, th, tw, n, C): [i, j] are the entries at (2a + i, 2b + j)."""
    n, c = a.shape[:2]
    return a.reshape(n, c, th, 2, tw, 2).transpose(3, 5, 2, 4, 0, 1)


def forward(engine, layer, x: np.ndarray) -> np.ndarray:
    """Z = Aᵀ[U ⊙ V]A + b for x (m, C_in, H, W) of the weights' dtype, chunk by chunk over the
    batch (see the module docstring); V is kept for backward when it fits the engine's
    ``keep_bytes``."""
    w = layer.W.value
    dt = w.dtype
    plan = Plan(engine, layer, x)
    m, c_in, c_out, th, tw = x.shape[0], plan.c_in, plan.c_out, plan.th, plan.tw
    # Every chunk's padded input, kept for backward (which rebuilds V from it when V is not
    # kept) and for the next batch of this size: only the inside is written, the border stays 0.
    count = -(-m // plan.chunk)
    key = (x.shape, tuple(layer.padding), plan.chunk, dt)
    if engine._wg_xp_key != key:
        engine._wg_xp = np.zeros(count * math.prod(plan.xp_shape(plan.chunk)) * dt.itemsize,
                                 dtype=np.uint8)
        engine._wg_xp_key = key
    xp = engine._wg_xp
    u = kernel_transform(w)
    ut = u.transpose(0, 2, 1)
    bias = layer.b.value if layer.b is not None else None
    z = np.empty((m, c_out) + plan.out, dtype=dt)
    keep = layer.training and engine._keep_bytes(
        count * math.prod(plan.v_shape(plan.chunk)) * dt.itemsize)

    def chunk_forward(start: int) -> None:
        n = min(plan.chunk, m - start)
        xc = plan.slot(xp, start, n, plan.xp_shape, dt)
        plan.pad(x[start:start + n], xc)
        v = _v_buffer(engine, plan, start, n, dt, keep)
        input_transform(xc, v, engine._scratch("wg_rows", plan.rows_shape(n), dt))
        mm = engine._scratch("wg_m", plan.m_shape(n), dt)
        np.matmul(v.reshape(16, -1, c_in), ut, out=mm.reshape(16, -1, c_out))
        if bias is not None:
            mm[1, 1] += bias
        grid = z[start:start + n] if plan.even else engine._scratch(
            "wg_grid", (n, c_out, 2 * th, 2 * tw), dt)
        output_transform(mm, _tiles_view(grid, th, tw),
                         engine._scratch("wg_rows_out", (3, 4, th, tw, n, c_out), dt))
        if not plan.even:
            z[start:start + n] = grid[:, :, :plan.out[0], :plan.out[1]]

    engine._run_chunks(chunk_forward, list(range(0, m, plan.chunk)))
    engine._cols_kept = keep
    engine._winograd = (plan, u)
    return z


def _v_buffer(engine, plan: Plan, start: int, n: int, dtype, keep: bool) -> np.ndarray:
    """Where chunk ``start``'s V goes: its slot of the kept buffer, or this thread's scratch."""
    shape = plan.v_shape(n)
    if not keep:
        return engine._scratch("wg_v", shape, dtype)
    return plan.slot(engine._kept, start, n, plan.v_shape, dtype)


def backward(engine, layer, dout: np.ndarray, need_dx: bool = True) -> np.ndarray | None:
    """dW += Gᵀ(Σ V·dM)G, db += Σ dY, and dx = the input transform's adjoint of dM·U
    (cropped), chunk by chunk as in :func:`forward`; None for dx if not ``need_dx``."""
    plan, u = engine._winograd
    xp, dt = engine._wg_xp, dout.dtype
    m, c_in, c_out, th, tw = dout.shape[0], plan.c_in, plan.c_out, plan.th, plan.tw
    dx = np.empty((m, c_in) + plan.size, dt) if need_dx else None

    def chunk_backward(start: int) -> tuple[np.ndarray, np.ndarray]:
        n = min(plan.chunk, m - start)
        # dY in the tiles' layout, one gathering copy (outputs past the edge: zero gradient)
        dy = engine._scratch("wg_dy", (2, 2, th, tw, n, c_out), dt)
        if plan.even:
            np.copyto(dy, _tiles_view(dout[start:start + n], th, tw))
        else:
            grid = engine._zeroed_scratch("wg_dgrid", (n, c_out, 2 * th, 2 * tw), dt)
            grid[:, :, :plan.out[0], :plan.out[1]] = dout[start:start + n]
            np.copyto(dy, _tiles_view(grid, th, tw))
        dm = engine._scratch("wg_m", plan.m_shape(n), dt)
        output_transform_adjoint(dy, dm, engine._scratch("wg_rows_out", (4, 2, th, tw, n, c_out),
                                                         dt))
        if engine._cols_kept:
            v = _v_buffer(engine, plan, start, n, dt, True)
        else:
            v = engine._scratch("wg_v", plan.v_shape(n), dt)
            input_transform(plan.slot(xp, start, n, plan.xp_shape, dt), v,
                            engine._scratch("wg_rows", plan.rows_shape(n), dt))
        dm2 = dm.reshape(16, -1, c_out)
        du = np.matmul(v.reshape(16, -1, c_in).transpose(0, 2, 1), dm2)  # (16, C_in, C_out)
        db = dm[1, 1].reshape(-1, c_out).sum(axis=0)
        if need_dx:
            dv = engine._scratch("wg_dv", plan.v_shape(n), dt)
            np.matmul(dm2, u, out=dv.reshape(16, -1, c_in))
            dxp = engine._scratch("wg_dx", plan.xp_shape(n), dt)
            input_transform_adjoint(dv, dxp, engine._scratch("wg_rows", plan.rows_shape(n), dt))
            plan.unpad(dxp, dx[start:start + n])
        return du, db

    parts = engine._run_chunks(chunk_backward, list(range(0, m, plan.chunk)))
    if not parts:  # an empty batch: nothing to add
        return dx
    # Summed in chunk order, whichever thread finished first: bitwise reproducible.
    du, db = parts[0] if len(parts) == 1 else (sum(p[0] for p in parts), sum(p[1] for p in parts))
    layer.W.grad += kernel_transform_adjoint(du.transpose(0, 2, 1), layer.W.shape)
    if layer.b is not None:
        layer.b.grad += db
    return dx


#: "auto" uses F(2×2, 3×3) from this many input channels. Measured on a 2-core VM, forward +
#: backward against the im2col engine, fastest of 5 interleaved blocks (``python
#: bench/bench_conv.py --threads 1 --shape 64,1,28,28:8 64,2,28,28:8 64,4,28,28:16
#: 64,4,16,16:16 64,4,8,8:16 32,4,4,4:16 64,8,28,28:32 64,8,14,14:16 64,8,8,8:16 32,8,4,4:16
#: 32,16,4,4:16 64,16,8,8:16 64,16,28,28:32 128,32,8,8:64``): from 8 input channels it took
#: 0.51–0.89 of im2col's time on every shape; with 4 it took 0.95–1.27, with 1 or 2 1.8–3.5:
#: the transforms cost per pixel, the saving grows with the channels.
MIN_CHANNELS = 8


def faster(layer, x: np.ndarray) -> bool:
    """Whether "auto" runs F(2×2, 3×3) for this layer: from :data:`MIN_CHANNELS` input
    channels (see there)."""
    return layer.in_channels >= MIN_CHANNELS
