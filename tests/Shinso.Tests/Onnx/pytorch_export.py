#!/usr/bin/python3
"""Exports the four nets the ONNX import issue names, as PyTorch 1.13 writes them (opset 13, a dynamic batch axis), each
with a seeded input batch and PyTorch's own output for it, so the importer can be checked against a client it did not
write. The nets are the benchmark shapes of the peers' scripts: a sigmoid 784-500-500-2000-10 net, a 784-800-800-10 ReLU
net with dropout, LeNet-5, and cuda-convnet's layers-18pct CIFAR net (ceil-mode pooling, cross-map LRN, which PyTorch
exports as Pad + a 3-D AveragePool inside If-guarded Squeezes).

Usage: pytorch_export.py DIR   (writes DIR/NAME.onnx, DIR/NAME.x.npy, DIR/NAME.y.npy for each net; prints their names)
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn


def nets():
    yield "dbn", (784,), nn.Sequential(
        nn.Linear(784, 500), nn.Sigmoid(), nn.Linear(500, 500), nn.Sigmoid(), nn.Linear(500, 2000), nn.Sigmoid(),
        nn.Linear(2000, 10))
    yield "mlp_dropout", (784,), nn.Sequential(
        nn.Linear(784, 800), nn.ReLU(), nn.Dropout(0.5), nn.Linear(800, 800), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(800, 10))
    yield "lenet5", (1, 28, 28), nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
    yield "cifar18pct", (3, 32, 32), nn.Sequential(
        nn.Conv2d(3, 32, 5, padding=2), nn.MaxPool2d(3, 2, ceil_mode=True), nn.ReLU(),
        nn.LocalResponseNorm(3, alpha=5e-5, beta=0.75, k=1.0),
        nn.Conv2d(32, 32, 5, padding=2), nn.ReLU(), nn.AvgPool2d(3, 2, ceil_mode=True),
        nn.LocalResponseNorm(3, alpha=5e-5, beta=0.75, k=1.0),
        nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.AvgPool2d(3, 2, ceil_mode=True),
        nn.Flatten(), nn.Linear(1024, 10))


def main(out):
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    for name, shape, net in nets():
        net.eval()
        x = torch.rand(20, *shape, generator=torch.Generator().manual_seed(7))
        path = os.path.join(out, name + ".onnx")
        torch.onnx.export(net, x, path, opset_version=13, input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})
        with torch.inference_mode():
            y = net(x)
        np.save(os.path.join(out, name + ".x.npy"), x.numpy().astype("<f4"))
        np.save(os.path.join(out, name + ".y.npy"), y.numpy().astype("<f4"))
        print(name)


if __name__ == "__main__":
    main(sys.argv[1])
