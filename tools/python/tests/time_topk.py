"""Times learn.Catalog.topk for tests/test_python.c, against the bare C function.

    time_topk.py CATALOG QUERY.f32 K THREADS REPS

Calls Catalog.topk and learn_catalog_topk itself (through ctypes, on the catalog's own
context, with buffers made beforehand) one after the other, REPS times each after a warm-up,
and prints "binding_ns N", "c_ns N" (the fastest call of each) and "hits I I I ...".
"""

import ctypes
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

import learn  # noqa: E402


def main():
    path, qpath, k, threads, reps = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    q = np.fromfile(qpath, dtype=np.float32)
    clock = time.perf_counter_ns
    with learn.Catalog(path, threads=threads) as cat:
        idx, _ = cat.topk(q, k)
        topk = learn._lib.learn_catalog_topk
        ctx, cptr, qaddr = cat._context(), cat._h.ptr, q.ctypes.data
        hits = np.empty(k, learn._HIT)
        haddr, n = hits.ctypes.data, ctypes.c_size_t()
        nref = ctypes.byref(n)
        best_b = best_c = None
        for r in range(-5, reps):
            t0 = clock()
            idx, scores = cat.topk(q, k)
            t1 = clock()
            st = topk(ctx, cptr, qaddr, k, None, 0, haddr, nref)
            t2 = clock()
            if st or n.value != len(idx) or not np.array_equal(hits["index"][:n.value], idx):
                sys.exit("the binding's hits differ from learn_catalog_topk's (status %d)" % st)
            if r >= 0:
                best_b = t1 - t0 if best_b is None else min(best_b, t1 - t0)
                best_c = t2 - t1 if best_c is None else min(best_c, t2 - t1)
        print("binding_ns", best_b)
        print("c_ns", best_c)
        print("hits", " ".join(str(int(i)) for i in idx))


if __name__ == "__main__":
    main()
