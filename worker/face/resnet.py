"""dlib's face-recognition ResNet (dlib_face_recognition_resnet_model_v1.dat) re-implemented on numpy.

dlib-bin is built without BLAS, so its forward pass runs dlib's own matrix multiply (~100 ms per face on one
core). This module reads the very same weights from dlib's serialized network and runs the same arithmetic
with OpenBLAS sgemm: each convolution is one im2col + matmul over the whole batch.

The network is `anet_type` from dlib's examples/dnn_face_recognition_ex.cpp. Details that decide
equality with dlib (checked against dlib's dnn/layers.h, cuda/cpu_dlib.cpp and dnn/input.h):

* Input: planar RGB, (pixel - per-channel mean) / 256, means read from the file.
* con_: padding is kernel/2 for stride 1 but 0 for stride 2, so the 7x7/2 stem maps 150 -> 72 and a
  3x3/2 convolution maps 8 -> 3 (the unused last row/column is simply dropped). The file stores the padding.
* max_pool 3x3/2 and avg_pool 2x2/2 also have padding 0: 72 -> 35, 8 -> 4. Windows never leave the image.
* add_prev of tensors of different shapes (the downsampling blocks) gives a tensor of the larger size in
  every dimension, each input contributing where it exists and zero elsewhere: the extra output channels
  get no shortcut, and at 8 -> 3 (conv) vs 8 -> 4 (pool) the conv branch only covers the top-left 3x3.
* affine_ is a per-channel scale and shift (batch norm frozen at training); it is folded into the
  preceding convolution here, which changes float32 rounding only.
* loss_metric_ outputs the fc_no_bias result as is (no normalisation).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import as_strided

CHIP_SIZE = 150
DESCRIPTOR_DIMS = 128
# Residual stages from the input side: (filters, downsamples first, blocks), per anet_type.
_STAGES = ((32, False, 3), (64, True, 4), (128, True, 3), (256, True, 3), (256, True, 1))


def default_model_path() -> Path:
    """The model file shipped in the face_recognition_models package."""
    import face_recognition_models  # imported lazily: it pulls in pkg_resources

    return Path(face_recognition_models.face_recognition_model_location())


# --------------------------------------------------------------------------------------------
# Reading dlib's serialization format (dlib/serialize.h)


class _Reader:
    """Sequential reader of dlib's serialized stream."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def int(self) -> int:
        # Compressed integer: a control byte (bit 7 = negative, low 4 bits = byte count), then the
        # magnitude in that many little-endian bytes.
        if self.pos >= len(self.data):
            raise ValueError("model file ends early")
        control = self.data[self.pos]
        size = control & 0x0F
        if control & 0x70 or size > 8:
            raise ValueError(f"bad integer control byte {control:#x} at offset {self.pos}")
        value = int.from_bytes(self.data[self.pos + 1 : self.pos + 1 + size], "little")
        self.pos += 1 + size
        return -value if control & 0x80 else value

    def str(self) -> str:
        size = self.int()
        text = self.data[self.pos : self.pos + size].decode("ascii")
        self.pos += size
        return text

    def float(self) -> float:
        # float_details: mantissa (int64) and base-2 exponent (int16), each a compressed integer;
        # exponents of 32000+ encode inf, -inf and nan.
        mantissa, exponent = self.int(), self.int()
        special = {32000: np.inf, 32001: -np.inf, 32002: np.nan}
        return float(special[exponent]) if exponent in special else float(mantissa) * 2.0**exponent

    def bool(self) -> bool:
        char = self.data[self.pos : self.pos + 1]
        if char not in (b"0", b"1"):
            raise ValueError(f"bad bool {char!r} at offset {self.pos}")
        self.pos += 1
        return char == b"1"

    def tensor(self) -> np.ndarray:
        # resizable_tensor, version 2: num_samples, k, nr, nc, then raw little-endian float32 values.
        self.expect_int(2, "tensor version")
        shape = tuple(self.int() for _ in range(4))
        count = int(np.prod(shape))
        if self.pos + 4 * count > len(self.data):
            raise ValueError("model file ends early")
        values = np.frombuffer(self.data, "<f4", count, self.pos).reshape(shape)
        self.pos += 4 * count
        return values

    def alias_tensor(self) -> tuple[int, ...]:
        self.expect_int(1, "alias_tensor version")
        return tuple(self.int() for _ in range(4))

    def expect_int(self, want: int, what: str) -> None:
        got = self.int()
        if got != want:
            raise ValueError(f"expected {what} {want}, got {got} at offset {self.pos}")

    def expect_str(self, want: str) -> None:
        got = self.str()
        if got != want:
            raise ValueError(f"expected {want!r}, got {got!r} at offset {self.pos}")


@dataclass(frozen=True)
class _Layer:
    """One add_layer's details as stored; only the fields the forward pass needs."""

    kind: str  # "con", "affine", "relu", "max_pool", "avg_pool", "add_prev", "fc"
    weights: np.ndarray | None = None  # con: (out, in, kh, kw); affine: (2, k) gamma, beta; fc: (in, out)
    bias: np.ndarray | None = None  # con only
    geometry: tuple[int, ...] = ()  # con / pools: (nr, nc, stride_y, stride_x, padding_y, padding_x)


def _read_details(r: _Reader) -> _Layer:
    """Parse one layer's details (the `serialize(details)` part of dlib's add_layer)."""
    version = r.str()
    if version == "con_4":  # dlib's con_::serialize
        params = r.tensor().ravel()
        num_filters = r.int()
        geometry = tuple(r.int() for _ in range(6))  # nr, nc, stride_y, stride_x, padding_y, padding_x
        filters = r.alias_tensor()
        bias_shape = r.alias_tensor()
        for _ in range(4):  # learning-rate and weight-decay multipliers
            r.float()
        if filters[0] != num_filters or bias_shape != (1, num_filters, 1, 1):
            raise ValueError(f"inconsistent con_ shapes {filters} {bias_shape}")
        size = int(np.prod(filters))
        return _Layer("con", params[:size].reshape(filters), params[size : size + num_filters], geometry)
    if version == "affine_":
        params = r.tensor().ravel()
        gamma, beta = r.alias_tensor(), r.alias_tensor()
        r.expect_int(0, "affine_ mode (CONV_MODE)")
        k = gamma[1]
        if gamma != beta or params.size != 2 * k:
            raise ValueError(f"inconsistent affine_ shapes {gamma} {beta} {params.shape}")
        return _Layer("affine", params.reshape(2, k))
    if version in ("max_pool_2", "avg_pool_2"):
        return _Layer(version[:-2], geometry=tuple(r.int() for _ in range(6)))
    if version == "relu_":
        return _Layer("relu")
    if version == "add_prev_":
        return _Layer("add_prev")
    if version == "fc_2":
        num_outputs, num_inputs = r.int(), r.int()
        params = r.tensor()
        weights, _biases = r.alias_tensor(), r.alias_tensor()
        r.expect_int(1, "fc_ bias mode (FC_NO_BIAS)")
        for _ in range(4):
            r.float()
        if weights[:2] != (num_inputs, num_outputs) or params.size != num_inputs * num_outputs:
            raise ValueError(f"inconsistent fc_ shapes {weights} {params.shape}")
        return _Layer("fc", params.reshape(num_inputs, num_outputs))
    raise ValueError(f"unsupported dlib layer {version!r} at offset {r.pos}")


def load_layers(path: str | Path | None = None) -> tuple[np.ndarray, list[_Layer]]:
    """Read dlib's serialized anet_type: the input means (3,) and the 108 computational layers, input side first."""
    data = Path(path or default_model_path()).read_bytes()
    r = _Reader(data)
    # add_loss_layer: version, loss details, then the subnetwork.
    r.expect_int(1, "loss layer version")
    r.expect_str("loss_metric_2")
    r.float(), r.float()  # margin, distance threshold: training only
    # Each add_layer writes its version and then its subnetwork before its own details, so the stream
    # opens with every layer's version, top down (2 = add_layer, 1 = tag/skip layer, 3 = the add_layer
    # directly on the input layer), followed by the details bottom up.
    versions = []
    while not versions or versions[-1] != 3:
        versions.append(r.int())
    r.expect_str("input_rgb_image_sized")
    means = np.array([r.float(), r.float(), r.float()], dtype=np.float32)
    if (r.int(), r.int()) != (CHIP_SIZE, CHIP_SIZE):
        raise ValueError("expected a 150x150 input layer")
    layers = []
    for index in range(versions.count(2) + 1):
        layers.append(_read_details(r))
        for _ in range(3):  # this_layer_setup_called, gradient_input_is_stale, output/gradient disabled
            r.bool()
        for _ in range(3):  # x_grad, cached_output, params_grad (empty in a saved net)
            r.tensor()
        if index == 0:
            r.int()  # the input-side add_layer also stores _sample_expansion_factor
    if r.pos != len(data):
        raise ValueError(f"{len(data) - r.pos} trailing bytes after the network")
    return means, layers


# --------------------------------------------------------------------------------------------
# Forward pass, on NHWC float32 arrays so that im2col is one strided copy per convolution.


@dataclass(frozen=True)
class _Conv:
    """A convolution with its following affine_ folded in: y = x * (w * gamma) + (b * gamma + beta)."""

    matrix: np.ndarray  # (kh * kw * c_in, c_out), rows ordered (dy, dx, c_in) like _conv's patches
    bias: np.ndarray  # (c_out,)
    size: int
    stride: int
    padding: int


def _fold(con: _Layer, affine: _Layer) -> _Conv:
    assert con.kind == "con" and affine.kind == "affine" and con.weights is not None and con.bias is not None
    assert affine.weights is not None
    nr, nc, stride_y, stride_x, pad_y, pad_x = con.geometry
    if nr != nc or stride_y != stride_x or pad_y != pad_x:
        raise ValueError(f"unexpected non-square convolution {con.geometry}")
    gamma, beta = affine.weights.astype(np.float64)
    filters = con.weights.astype(np.float64) * gamma[:, None, None, None]
    matrix = filters.transpose(2, 3, 1, 0).reshape(-1, filters.shape[0])
    bias = con.bias.astype(np.float64) * gamma + beta
    return _Conv(np.ascontiguousarray(matrix, np.float32), bias.astype(np.float32), nr, stride_y, pad_y)


def _conv(x: np.ndarray, conv: _Conv, relu: bool) -> np.ndarray:
    """Convolution over a (N, H, W, C) batch as im2col + one matmul; dlib's output size and padding."""
    n, h, w, c = x.shape
    k, s, p = conv.size, conv.stride, conv.padding
    out_h = (h + 2 * p - k) // s + 1
    out_w = (w + 2 * p - k) // s + 1
    if p:
        padded = np.zeros((n, h + 2 * p, w + 2 * p, c), np.float32)
        padded[:, p : p + h, p : p + w] = x
    else:
        padded = np.ascontiguousarray(x)  # the strided view below relies on C order
    # In NHWC one kernel row (k pixels x c channels) is a contiguous run of k*c floats, so the patches are one
    # strided view and a single copy; copying tap by tap was 3x slower (7 ms for the 3-channel stem alone).
    sn, sh, sw, sc = padded.strides
    patches = as_strided(padded, (n, out_h, out_w, k, k * c), (sn, s * sh, s * sw, sh, sc), writeable=False)
    cols = patches.reshape(n * out_h * out_w, k * k * c)
    out = np.matmul(cols, conv.matrix)
    out += conv.bias
    if relu:
        np.maximum(out, 0, out=out)
    return out.reshape(n, out_h, out_w, -1)


def _max_pool_3x3_s2(x: np.ndarray) -> np.ndarray:
    """dlib max_pool<3,3,2,2>: padding 0, so output (H-3)//2+1 and windows always inside."""
    _, h, w, _ = x.shape
    oh, ow = (h - 3) // 2 + 1, (w - 3) // 2 + 1
    out = x[:, 0 : 2 * oh - 1 : 2, 0 : 2 * ow - 1 : 2].copy()
    for dy in range(3):
        for dx in range(3):
            if dy or dx:
                np.maximum(out, x[:, dy : dy + 2 * oh - 1 : 2, dx : dx + 2 * ow - 1 : 2], out=out)
    return out


def _avg_pool_2x2_s2(x: np.ndarray) -> np.ndarray:
    """dlib avg_pool<2,2,2,2>: padding 0, output (H-2)//2+1; sums in dlib's row-major order, then / 4."""
    _, h, w, _ = x.shape
    oh, ow = (h - 2) // 2 + 1, (w - 2) // 2 + 1
    top, bottom = x[:, 0 : 2 * oh : 2], x[:, 1 : 2 * oh : 2]
    total = top[:, :, 0 : 2 * ow : 2] + top[:, :, 1 : 2 * ow : 2]
    total += bottom[:, :, 0 : 2 * ow : 2]
    total += bottom[:, :, 1 : 2 * ow : 2]
    total *= np.float32(0.25)
    return total


def _add_padded(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """dlib add_prev of differently shaped tensors: the larger shape, each input added where it exists."""
    if a.shape == b.shape:
        return a + b
    shape = tuple(max(i, j) for i, j in zip(a.shape, b.shape, strict=True))
    out = np.zeros(shape, np.float32)
    out[: a.shape[0], : a.shape[1], : a.shape[2], : a.shape[3]] = a
    out[: b.shape[0], : b.shape[1], : b.shape[2], : b.shape[3]] += b
    return out


@dataclass(frozen=True)
class _Block:
    """One residual unit: conv-affine-relu, conv-affine, add the (pooled) input, relu."""

    first: _Conv
    second: _Conv
    down: bool  # first conv has stride 2 and the shortcut is avg_pool 2x2/2


class FaceDescriptorNet:
    """dlib's 128-d face descriptor network, evaluated with numpy; loads the weights from dlib's file."""

    def __init__(self, path: str | Path | None = None) -> None:
        means, layers = load_layers(path)
        self._means = means
        kinds = iter(layers)

        def take(kind: str, geometry: tuple[int, ...] | None = None) -> _Layer:
            layer = next(kinds)
            if layer.kind != kind or (geometry is not None and layer.geometry != geometry):
                raise ValueError(f"model layout differs from anet_type: expected {kind}, got {layer.kind}")
            return layer

        # Walk the layers in stream order (input side first), checking they follow anet_type.
        self._stem = _fold(take("con"), take("affine"))
        take("relu")
        take("max_pool", (3, 3, 2, 2, 0, 0))
        self._blocks: list[_Block] = []
        for filters, downsamples, count in _STAGES:
            for i in range(count):
                down = downsamples and i == 0
                first = _fold(take("con"), take("affine"))
                take("relu")
                second = _fold(take("con"), take("affine"))
                if down:
                    take("avg_pool", (2, 2, 2, 2, 0, 0))
                take("add_prev")
                take("relu")
                if first.stride != (2 if down else 1) or second.matrix.shape[1] != filters:
                    raise ValueError("model layout differs from anet_type")
                self._blocks.append(_Block(first, second, down))
        take("avg_pool", (0, 0, 1, 1, 0, 0))
        fc = take("fc")
        assert fc.weights is not None
        self._fc = np.ascontiguousarray(fc.weights, np.float32)
        if next(kinds, None) is not None:
            raise ValueError("model has more layers than anet_type")

    def describe(self, chips: np.ndarray) -> np.ndarray:
        """(N, 150, 150, 3) uint8 RGB aligned face chips -> (N, 128) float64 descriptors, as dlib computes them."""
        chips = np.asarray(chips)
        if chips.ndim == 3:
            chips = chips[None]
        if chips.shape[1:] != (CHIP_SIZE, CHIP_SIZE, 3) or chips.dtype != np.uint8:
            raise ValueError(f"expected (N, {CHIP_SIZE}, {CHIP_SIZE}, 3) uint8 chips, got {chips.shape} {chips.dtype}")
        if len(chips) == 0:
            return np.empty((0, DESCRIPTOR_DIMS))
        # dlib: (pixel - mean) / 256 in float32; dividing by a power of two is exact.
        x = (chips.astype(np.float32) - self._means) * np.float32(1 / 256)
        x = _conv(x, self._stem, relu=True)
        x = _max_pool_3x3_s2(x)
        for block in self._blocks:
            y = _conv(x, block.first, relu=True)
            y = _conv(y, block.second, relu=False)
            x = _add_padded(_avg_pool_2x2_s2(x) if block.down else x, y)
            np.maximum(x, 0, out=x)
        # avg_pool_everything: dlib sums each channel's plane row-major, then divides by its size.
        n, h, w, c = x.shape
        planes = x.reshape(n, h * w, c)
        total = planes[:, 0].copy()
        for i in range(1, h * w):
            total += planes[:, i]
        pooled = total / np.float32(h * w)
        return np.matmul(pooled, self._fc).astype(np.float64)
