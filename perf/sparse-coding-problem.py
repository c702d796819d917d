#!/usr/bin/python3
"""Writes the workload of the scikit-learn sparse-coding yardstick (../shared/peers/sparse_coding_bench.py) to an .npz file, so
`shinso bench sparse-coding --problem FILE` codes the very same patches under the very same random dictionary.

It runs the yardstick's own source up to its first solver (patch sampling and the dictionary), not a copy of it, and saves
`patches` [N, 64] and `dictionary` [atoms, 64] as float32.

Usage: perf/sparse-coding-problem.py PEER_SCRIPT OUT.npz [yardstick options, e.g. --patches 20000 --atoms 256 --data DIR]
"""
import sys

import numpy as np

peer, out, rest = sys.argv[1], sys.argv[2], sys.argv[3:]
source = open(peer).read()
cut = source.index("def objective")
sys.argv = [peer, "--threads", "1"] + rest
sys.path.insert(0, peer.rsplit("/", 1)[0] if "/" in peer else ".")
scope = {"__name__": "sparse_coding_problem", "__file__": peer}
exec(compile(source[:cut], peer, "exec"), scope)
np.savez(out, patches=scope["P"].astype(np.float32), dictionary=scope["D"].astype(np.float32))
print("wrote %s: patches %s, dictionary %s, alpha %g" % (out, scope["P"].shape, scope["D"].shape, scope["args"].alpha))
