"""Vanishing gradients: the gradient norm that reaches layer 1 of a deep
plain (no normalisation, no skip connections) network, per activation.

    python bench/vanishing_gradients.py [--depth 20] [--width 64] [--batch 128] [--seed 0]

A depth-L stack of dense layers h_k = f(h_{k-1} W_k + b_k) with Glorot/Xavier
normal initialisation (std = sqrt(2 / (fan_in + fan_out))), a loss of
sum(output * r) with a fixed random r, and fastact's <name>_backward for every
layer.  Printed: ||dL/dW_k|| for the first and last layers and their ratio.
sigmoid's derivative is at most 1/4, so its gradient shrinks by roughly 4x per
layer; tanh and the ReLU family keep it within a few orders of magnitude.
"""
import argparse

import numpy as np

import fastact

ACTIVATIONS = ("sigmoid", "tanh", "relu", "gelu")


def layer_grad_norms(name, depth, width, batch, seed):
    rng = np.random.default_rng(seed)
    f = getattr(fastact, name)
    f_backward = getattr(fastact, name + "_backward")
    std = np.sqrt(2.0 / (width + width))
    Ws = [rng.normal(0.0, std, (width, width)) for _ in range(depth)]
    bs = [np.zeros(width) for _ in range(depth)]
    x = rng.standard_normal((batch, width))
    r = rng.standard_normal((batch, width))
    inputs, pre = [], []
    h = x
    for W, b in zip(Ws, bs):
        inputs.append(h)
        z = h @ W + b
        pre.append(z)
        h = f(z)
    grad = r                      # dL/d(output) for L = sum(output * r)
    norms = [0.0] * depth
    for k in range(depth - 1, -1, -1):
        dz = f_backward(grad, pre[k])
        norms[k] = float(np.linalg.norm(inputs[k].T @ dz))
        grad = dz @ Ws[k].T
    return norms


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--depth", type=int, default=20)
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    print(f"{a.depth}-layer plain network, width {a.width}, batch {a.batch}, Glorot normal init, seed {a.seed}")
    print(f"{'activation':<10} {'||dL/dW_1||':>14} {'||dL/dW_' + str(a.depth) + '||':>14} {'ratio 1/last':>14}")
    for name in ACTIVATIONS:
        n = layer_grad_norms(name, a.depth, a.width, a.batch, a.seed)
        print(f"{name:<10} {n[0]:>14.4e} {n[-1]:>14.4e} {n[0] / n[-1]:>14.4e}")


if __name__ == "__main__":
    main()
