"""Training throughput of Cortex's fraud MLP (29-20-10-2, dropout 0.9 kept, Adam, batch 100,
float32), side by side in one run: the engine, a hand-tuned NumPy loop, and PyTorch eager.

    python -m venv .venv-bench && .venv-bench/bin/pip install -e . torch==2.13.0
    .venv-bench/bin/python bench/fraud_mlp.py [--samples 200000] [--epochs 3] [--repeats 3]

Prints samples/s for each (best of ``--repeats``) and the ratios the issue targets:
engine / hand-tuned NumPy (>= 0.6) and engine / PyTorch (>= 7). PyTorch is optional: without
it the script prints the other two and says so.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
LAYERS = [(20, 29), (10, 20), (2, 10)]
KEEP = 0.9


def data(samples: int, seed: int = 0):
    """Synthetic fraud-shaped rows (the engine's generator), class-balanced by resampling."""
    from engine.data.synthetic_fraud import generate

    rng = np.random.default_rng(seed)
    X, y = generate(max(samples, 284807), rng=rng)
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    idx = np.concatenate([rng.choice(pos, samples // 2), rng.choice(neg, samples - samples // 2)])
    idx = rng.permutation(idx)
    return np.ascontiguousarray(X[idx], dtype=np.float32), y[idx].astype(np.int64)


# ---------------------------------------------------------------------------- the engine

def engine_run(X, y, epochs: int, batch: int) -> float:
    """The engine's own training path (spec file -> engine.train.train); its samples/s."""
    from engine.spec import load
    from engine.train import train

    with tempfile.TemporaryDirectory() as tmp:
        np.savez(Path(tmp) / "data.npz", x=X, y=y)
        (Path(tmp) / "bench.yaml").write_text(f"""
name: bench
seed: 0
dataset: {{kind: npz, path: data.npz, test-size: 1000}}
network:
  - [input, 29, 1, 1, {{id: data}}]
  - [linear->relu, 20]
  - [dropout, {KEEP}]
  - [linear->relu, 10]
  - [linear, 2]
  - [softmax, {{id: label}}]
optimizer: {{kind: adam, learning-rate: 0.001}}
training: {{batch-size: {batch}, epoch-count: {epochs}, sampling: shuffle}}
evaluation: {{metric: loss}}
""")
        result = train(load(Path(tmp) / "bench.yaml"), device="cpu")
    return result.summary["samples-per-second"]


# ---------------------------------------------------------------------- hand-tuned NumPy

def numpy_run(X, y, epochs: int, batch: int, lr: float = 1e-3, seed: int = 0) -> float:
    """A hand-tuned NumPy loop: one flat parameter vector, preallocated buffers with
    ``out=``, ``np.dot`` (less dispatch than matmul on small arrays), one gather and one
    dropout-mask draw per epoch. Returns samples/s."""
    rng = np.random.default_rng(seed)
    P = sum(o * i + o for o, i in LAYERS)
    p = np.zeros(P, np.float32)
    g = np.zeros(P, np.float32)
    views, gviews, off = [], [], 0
    for o, i in LAYERS:
        p[off:off + o * i] = rng.normal(0, np.sqrt(2 / i), o * i)
        views.append((p[off:off + o * i].reshape(o, i), p[off + o * i:off + o * i + o]))
        gviews.append((g[off:off + o * i].reshape(o, i), g[off + o * i:off + o * i + o]))
        off += o * i + o
    (W1, b1), (W2, b2), (W3, b3) = views
    (gW1, gb1), (gW2, gb2), (gW3, gb3) = gviews
    m, v, tmp, tmp2 = (np.zeros_like(p) for _ in range(4))
    H1 = np.empty((batch, 20), np.float32)
    H2 = np.empty((batch, 10), np.float32)
    L = np.empty((batch, 2), np.float32)
    dH1, dH2 = np.empty_like(H1), np.empty_like(H2)
    mx, s = np.empty((batch, 1), np.float32), np.empty((batch, 1), np.float32)
    eye = np.eye(2, dtype=np.float32)
    beta1, beta2, t, n = 0.9, 0.999, 0, len(X)
    start = time.perf_counter()
    for _ in range(epochs):
        idx = rng.permutation(n)
        Xe, Te = X[idx], eye[y[idx]]
        M = (rng.random((n, 20), dtype=np.float32) < KEEP).astype(np.float32) * np.float32(1 / KEEP)
        for a in range(0, n - batch + 1, batch):
            Xb, Tb, Mb = Xe[a:a + batch], Te[a:a + batch], M[a:a + batch]
            np.dot(Xb, W1.T, out=H1); H1 += b1; np.maximum(H1, 0, out=H1); H1 *= Mb
            np.dot(H1, W2.T, out=H2); H2 += b2; np.maximum(H2, 0, out=H2)
            np.dot(H2, W3.T, out=L); L += b3
            np.max(L, axis=1, keepdims=True, out=mx); L -= mx; np.exp(L, out=L)
            np.sum(L, axis=1, keepdims=True, out=s); L /= s; L -= Tb; L *= np.float32(1 / batch)
            np.dot(L.T, H2, out=gW3); np.sum(L, axis=0, out=gb3)
            np.dot(L, W3, out=dH2); dH2 *= H2 > 0
            np.dot(dH2.T, H1, out=gW2); np.sum(dH2, axis=0, out=gb2)
            np.dot(dH2, W2, out=dH1); dH1 *= Mb; dH1 *= H1 > 0
            np.dot(dH1.T, Xb, out=gW1); np.sum(dH1, axis=0, out=gb1)
            t += 1
            m *= beta1; np.multiply(g, 1 - beta1, out=tmp); m += tmp
            v *= beta2; np.multiply(g, g, out=tmp); tmp *= 1 - beta2; v += tmp
            step = lr * np.sqrt(1 - beta2 ** t) / (1 - beta1 ** t)
            np.sqrt(v, out=tmp); tmp += 1e-8; np.divide(m, tmp, out=tmp2); tmp2 *= step; p -= tmp2
    return epochs * (n - n % batch) / (time.perf_counter() - start)


# ----------------------------------------------------------------------- PyTorch eager

def torch_run(X, y, epochs: int, batch: int, lr: float = 1e-3, seed: int = 0) -> float:
    """The same model in idiomatic PyTorch eager on the CPU. Returns samples/s."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(29, 20), nn.ReLU(), nn.Dropout(1 - KEEP),
                          nn.Linear(20, 10), nn.ReLU(), nn.Linear(10, 2))
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    n = len(X)
    start = time.perf_counter()
    for _ in range(epochs):
        perm = torch.randperm(n)
        Xe, ye = Xt[perm], yt[perm]
        for a in range(0, n, batch):
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(Xe[a:a + batch]), ye[a:a + batch])
            loss.backward()
            opt.step()
    return epochs * n / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--samples", type=int, default=200_000)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    X, y = data(args.samples)
    runs = {"engine": engine_run, "numpy (hand-tuned)": numpy_run}
    try:
        import torch

        torch.set_num_threads(os.cpu_count() or 1)
        runs["pytorch eager"] = torch_run
    except ImportError:
        print("PyTorch is not installed here: pip install torch==2.13.0 for the peer's figure")
    best = {}
    for _ in range(args.repeats):  # interleaved so a noisy moment hits all of them alike
        for name, fn in runs.items():
            best[name] = max(best.get(name, 0.0), fn(X, y, args.epochs, args.batch))
    print(f"fraud MLP 29-20-10-2, batch {args.batch}, {args.samples:,} samples x {args.epochs} "
          f"epochs, best of {args.repeats}")
    for name, sps in best.items():
        print(f"  {name:<20} {sps:>12,.0f} samples/s")
    e = best["engine"]
    print(f"  engine / numpy (hand-tuned): {e / best['numpy (hand-tuned)']:.2f}x   (target >= 0.6)")
    if "pytorch eager" in best:
        print(f"  engine / pytorch eager:      {e / best['pytorch eager']:.2f}x   (target >= 7)")


if __name__ == "__main__":
    main()
