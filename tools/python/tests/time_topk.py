"""Times learn.Catalog.topk for tests/test_python.c, against the bare C function.

    time_topk.py CATALOG QUERY.f32 K REPS

On one thread (so that the work is all on the calling thread and its CPU time is the call's
cost, whatever else the machine runs), calls Catalog.topk and learn_catalog_topk itself
(through ctypes, on the catalog's own context, with buffers made beforehand) in turn, REPS
times each after a warm-up, each first in every other pair, and checks that they give the
same hits. Prints the median CPU time of each ("binding_ns N", "c_ns N"), their median wall
times ("binding_wall_ns N", "c_wall_ns N") and "hits I I I ...".
"""

import ctypes
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

import learn  # noqa: E402


def main():
    path, qpath, k, reps = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    q = np.fromfile(qpath, dtype=np.float32)
    cpu, wall = time.thread_time_ns, time.perf_counter_ns
    with learn.Catalog(path, threads=1) as cat:
        idx, _ = cat.topk(q, k)
        topk = learn._lib.learn_catalog_topk
        ctx, cptr, qaddr = cat._context(), cat._h.ptr, q.ctypes.data
        hits = np.empty(k, learn._HIT)
        haddr, n = hits.ctypes.data, ctypes.c_size_t()
        nref = ctypes.byref(n)
        t = {True: ([], []), False: ([], [])}  # binding?: (cpu, wall)
        st = 0
        for r in range(-10, reps):
            for binding in (r % 2 == 0, r % 2 == 1):
                c0, w0 = cpu(), wall()
                if binding:
                    idx, scores = cat.topk(q, k)
                else:
                    st = topk(ctx, cptr, qaddr, k, None, 0, haddr, nref)
                c1, w1 = cpu(), wall()
                if r >= 0:
                    t[binding][0].append(c1 - c0)
                    t[binding][1].append(w1 - w0)
            if st or n.value != len(idx) or not np.array_equal(hits["index"][:n.value], idx):
                sys.exit("the binding's hits differ from learn_catalog_topk's (status %d)" % st)
        print("binding_ns", int(np.median(t[True][0])))
        print("c_ns", int(np.median(t[False][0])))
        print("binding_wall_ns", int(np.median(t[True][1])))
        print("c_wall_ns", int(np.median(t[False][1])))
        print("hits", " ".join(str(int(i)) for i in idx))


if __name__ == "__main__":
    main()
