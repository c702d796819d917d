#!/usr/bin/python3
"""The peer of `shinso bench train --model conv-rbm`: seconds per CD-1 epoch of the conv-rbm preset's convolutional RBM over the
Fashion-MNIST training images, the same arithmetic as Shinso's ConvolutionalRbmTrainer written with torch's conv2d.

Set-up (Debian 12), as ../shared/peers/README.md gives it for every PyTorch peer:
    apt-get install -y python3-torch python3-numpy
    apt-get download libopenblas0-pthread && dpkg -x libopenblas0-pthread_*.deb ob
    export LD_LIBRARY_PATH=$PWD/ob/usr/lib/x86_64-linux-gnu/openblas-pthread   # Debian's default BLAS is the reference one
    export OPENBLAS_CORETYPE=SkylakeX                                          # on AVX-512 machines (0.3.21 falls back to SSE3 otherwise)
Run with /usr/bin/python3 (Debian's); add OMP_WAIT_POLICY=PASSIVE for 2-thread runs. The script prints torch's version, its
convolution engine (mkldnn) and the BLAS kernel it loaded.

The model and update (the conv-rbm preset, ConvolutionalDbnPresets.CdTraining): 28x28 Bernoulli visible units, 24 groups of 5x5
filters (weights N(0, 0.01^2), zero biases), 24x24 detection maps in 2x2 probabilistic max-pooling blocks (a softmax over a
block's four inputs and an "off" state), batch 50 in a fresh random order each epoch (the partial last batch dropped):
    positive phase    I = b + W * v (conv2d), block probabilities h; one multinomial sample per block
    negative phase    v' ~ Bernoulli(sigmoid(c + W^T * h_sample)) (conv_transpose2d), then h' from v' as above
    statistics        <v * h> by the convolution's weight gradient, summed h and v, all as means over the batch and positions
    sparsity          cost 5 * (mean detection probability - 0.05) added to each hidden bias's gradient
    update            weight decay 1e-4 on the weights, classical momentum 0.5 (epochs 0-4) then 0.9, learning rate 1
No reconstruction error is measured (the benchmark leaves it off in Shinso too).

Usage: perf/peers/conv_rbm_torch.py --threads N [--repeat 2] [--data DIR] [--limit N]
"""
import argparse
import gzip
import os
import statistics
import time

ap = argparse.ArgumentParser()
ap.add_argument("--threads", type=int, required=True)
ap.add_argument("--repeat", type=int, default=2, help="timed epochs after one warm-up epoch")
ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist", help="folder of the Fashion-MNIST IDX files (gzipped or not)")
ap.add_argument("--limit", type=int, default=None, help="use only the first N training images")
args = ap.parse_args()
os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
os.environ.setdefault("OPENBLAS_NUM_THREADS", str(args.threads))

import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(args.threads)


def load_images(folder):
    for name in ("train-images-idx3-ubyte.gz", "train-images-idx3-ubyte"):
        path = os.path.join(folder, name)
        if os.path.exists(path):
            raw = (gzip.open if name.endswith(".gz") else open)(path, "rb").read()
            count, rows, cols = (int.from_bytes(raw[i:i + 4], "big") for i in (4, 8, 12))
            return np.frombuffer(raw, np.uint8, count * rows * cols, 16).reshape(count, 1, rows, cols).astype(np.float32) / 255
    raise SystemExit("%s has no train-images-idx3-ubyte[.gz]: install Debian's dataset-fashion-mnist or pass --data" % folder)


def blas_kernel():
    try:
        import threadpoolctl
        for lib in threadpoolctl.threadpool_info():
            if lib.get("internal_api") == "openblas":
                return "openblas %s arch=%s" % (lib.get("version"), lib.get("architecture"))
    except ImportError:
        pass
    return "unknown (python3-threadpoolctl not installed)"


X = torch.from_numpy(load_images(args.data))
if args.limit:
    X = X[:args.limit].contiguous()
K, N, BLOCK, B = 24, 5, 2, 50
LR, MOMENTUM, SWITCH, DECAY, TARGET, COST = 1.0, (0.5, 0.9), 5, 1e-4, 0.05, 5.0
print("# conv_rbm_torch threads=%d torch=%s mkldnn=%s; BLAS: %s; %d images" % (
    args.threads, torch.__version__, torch.backends.mkldnn.is_available(), blas_kernel(), X.shape[0]))


def quarters(t):
    """The four detection units of every 2x2 block as strided views of [B, K, OH, OW] (no copies): top-left, top-right, bottom-left, bottom-right."""
    return [t[:, :, i::BLOCK, j::BLOCK] for i in range(BLOCK) for j in range(BLOCK)]


def hidden_probabilities(v, W, bh):
    """Probabilistic max-pooling: per block a softmax over its four inputs and an off state of input 0; returns [B, K, OH, OW]."""
    inputs = F.conv2d(v, W, bh)
    parts = quarters(inputs)
    top = torch.maximum(torch.maximum(parts[0], parts[1]), torch.maximum(parts[2], parts[3])).clamp_min_(0)
    h = torch.empty_like(inputs)
    total = torch.exp(-top)
    for part, out in zip(parts, quarters(h)):
        torch.exp(part - top, out=out)
        total += out
    for out in quarters(h):
        out /= total
    return h


def sample_hidden(h, generator):
    """One draw per block: the unit whose cumulative probability first exceeds u, or none (the off state)."""
    probabilities = quarters(h)
    u = torch.rand(probabilities[0].shape, generator=generator)
    sample = torch.empty_like(h)
    below = torch.zeros_like(u)
    for p, out in zip(probabilities, quarters(sample)):
        above = below + p
        out.copy_((u >= below) & (u < above))
        below = above
    return sample


def weight_statistics(v, h, W):
    """sum_n v_n * h_n: the convolution's weight gradient for output gradient h (aten's own backward, a little faster than torch.nn.grad.conv2d_weight)."""
    return torch.ops.aten.convolution_backward(h, v, W, None, [1, 1], [0, 0], [1, 1], False, [0, 0], 1, [False, True, False])[1]


def run():
    g = torch.Generator().manual_seed(1)
    W = torch.randn(K, 1, N, N, generator=g) * 0.01
    bh, bv = torch.zeros(K), torch.zeros(1)
    vW, vbh, vbv = torch.zeros_like(W), torch.zeros_like(bh), torch.zeros_like(bv)
    H, Wd = X.shape[2], X.shape[3]
    OH, OW = H - N + 1, Wd - N + 1
    positions, pixels = 1.0 / (B * OH * OW), 1.0 / (B * H * Wd)
    times = []
    with torch.no_grad():
        for epoch in range(args.repeat + 1):
            mu = MOMENTUM[0] if epoch < SWITCH else MOMENTUM[1]
            start = time.perf_counter()
            order = torch.randperm(X.shape[0], generator=g)
            for first in range(0, X.shape[0] - B + 1, B):
                v = X[order[first:first + B]]
                h = hidden_probabilities(v, W, bh)
                mean = torch.sigmoid(F.conv_transpose2d(sample_hidden(h, g), W, bv))
                v_neg = torch.bernoulli(mean, generator=g)
                h_neg = hidden_probabilities(v_neg, W, bh)
                gW = (weight_statistics(v_neg, h_neg, W) - weight_statistics(v, h, W)) * positions
                h_data = h.sum((0, 2, 3))
                gbh = (h_neg.sum((0, 2, 3)) - h_data) * positions + COST * (h_data * positions - TARGET)
                gbv = (v_neg.sum((0, 2, 3)) - v.sum((0, 2, 3))) * pixels
                gW.add_(W, alpha=DECAY)
                for value, velocity, grad in ((W, vW, gW), (bh, vbh, gbh), (bv, vbv, gbv)):
                    velocity.mul_(mu).add_(grad, alpha=-LR)
                    value.add_(velocity)
            times.append(time.perf_counter() - start)
    return times[1:], W


times, W = run()
print("torch conv-rbm CD-1 threads=%d batch=%d images=%d: %.3f s/epoch best, %.3f median (epochs timed %d after 1 warm-up; |W| %.3f)" % (
    args.threads, B, X.shape[0] - X.shape[0] % B, min(times), statistics.median(times), len(times), float(W.norm())))
