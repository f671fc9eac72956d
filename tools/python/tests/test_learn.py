"""Tests of the learn Python module: results against learn-cli's and the C API's on the same
model and catalog, errors, handles used after close, the build backend.

    python3 tools/python/tests/test_learn.py -v     (any python3 with numpy; run from anywhere)

./build.sh test runs it (tests/test_python.c) with LEARN_LIBRARY and LEARN_CLI set to the
build's; without them it uses the repository's build/ and tools/learn-cli. LEARN_PYTHON_INSTALLED=1
imports the installed module instead of tools/python/learn.
"""

import gc
import json
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import threading
import unittest
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
PKG = os.path.dirname(HERE)
REPO = os.path.dirname(os.path.dirname(PKG))
if not os.environ.get("LEARN_PYTHON_INSTALLED"):
    sys.path.insert(0, PKG)

import numpy as np  # noqa: E402

import learn  # noqa: E402

MODEL = os.path.join(REPO, "models", "demo.learn")
CLI = os.environ.get("LEARN_CLI") or os.path.join(REPO, "tools", "learn-cli")
TMP = None


def setUpModule():
    global TMP
    if not os.access(CLI, os.X_OK):
        raise unittest.SkipTest("learn-cli not found at %s (build it, or set LEARN_CLI)" % CLI)
    TMP = tempfile.mkdtemp(prefix="learn-python-")
    cli("data", "synth", "-o", os.path.join(TMP, "data"), "--items", "120", "--users", "40")
    cli("catalog", "build", MODEL, os.path.join(TMP, "data", "items.jsonl"), "-o", os.path.join(TMP, "cat.learn"))


def tearDownModule():
    if TMP:
        shutil.rmtree(TMP, ignore_errors=True)


def cli(*args, stdin=None):
    """Runs learn-cli; returns its standard output (text)."""
    r = subprocess.run([CLI] + list(args), input=stdin, capture_output=True, text=True)
    if r.returncode:
        raise AssertionError("learn-cli %s exited %d: %s" % (" ".join(args), r.returncode, r.stderr))
    return r.stdout


def records():
    with open(os.path.join(TMP, "data", "items.jsonl"), encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def mapped(path):
    """Whether this process maps the file at path."""
    real = os.path.realpath(path)
    with open("/proc/self/maps") as f:
        return any(line.rstrip("\n").endswith(" " + real) for line in f)


class Base(unittest.TestCase):
    def setUp(self):
        self.model = learn.Model(MODEL)
        self.ctx = learn.Context(self.model, threads=2)
        self.cat = learn.Catalog(os.path.join(TMP, "cat.learn"), threads=2)

    def tearDown(self):
        self.cat.close()
        self.ctx.close()
        self.model.close()


class TestModel(Base):
    def test_version(self):
        with open(os.path.join(REPO, "learn.h")) as f:
            want = [line.split('"')[1] for line in f if line.startswith("#define LEARN_VERSION_STRING")][0]
        self.assertEqual(learn.version(), want)
        self.assertEqual(learn.__version__, want)

    def test_info_matches_cli(self):
        j = json.loads(cli("info", "--json", MODEL))
        i = self.model.info
        for k in ("arch", "n_vocab", "n_embd", "n_layer", "n_head", "n_head_kv", "head_dim", "n_ff",
                  "n_ctx_train", "n_params"):
            self.assertEqual(getattr(i, k), j["llm"][k], k)
        self.assertEqual(i.file_size, j["file_size"])
        self.assertEqual("%016x" % i.content_fingerprint, j["fingerprints"]["content"])
        self.assertEqual("%016x" % i.tower_fingerprint, j["fingerprints"]["towers"])
        self.assertEqual(i.name, j["metadata"]["general.name"])
        self.assertEqual(i.template, j["metadata"]["encoder.template"])
        self.assertEqual(i.n_meta, len(j["metadata"]))
        self.assertEqual(i.n_tensors, len(j["tensors"]))
        self.assertTrue(i.towers.present)
        self.assertEqual(i.towers.d_in, i.n_embd)
        self.assertEqual(i.towers.d_out, self.cat.info.d_item)
        self.assertEqual(i.towers.max_history, j["metadata"]["tower.max_history"])
        self.assertEqual(i.towers.n_layer, j["metadata"]["tower.n_layer"])

    def test_context(self):
        self.assertEqual(self.ctx.threads, 2)
        self.assertEqual(self.ctx.isa, learn.isa_check())
        with learn.Context(self.model, threads=1, isa="scalar") as c:
            self.assertEqual(c.isa, "scalar")
            self.assertEqual(c.threads, 1)


class TestResults(Base):
    """The module against learn-cli, which calls the C API directly."""

    texts = ["Title: Acme Trail Runners - Sand. Brand: Acme. Category: Running Shoes",
             "Title: Juniper Green Tea. Brand: Juniper. Category: Tea",
             "caf\u00e9 \u2014 na\u00efve text, with unicode",
             "a"]

    def test_encode_equals_cli_embed(self):
        npy = os.path.join(TMP, "embed.npy")
        cli("embed", MODEL, "--npy", npy, stdin="\n".join(self.texts) + "\n")
        want = np.load(npy)
        got = self.ctx.encode(self.texts)
        self.assertEqual(got.dtype, np.float32)
        self.assertEqual(got.shape, (4, self.model.info.n_embd))
        self.assertTrue(np.array_equal(got, want))
        self.assertTrue(np.array_equal(self.ctx.encode(self.texts[2]), want[2]))
        self.assertTrue(np.array_equal(self.ctx.encode([t.encode() for t in self.texts]), want))
        # batching does not change an item's result
        self.assertTrue(np.array_equal(self.ctx.encode(self.texts[1:3]), want[1:3]))
        self.assertEqual(self.ctx.encode([]).shape, (0, self.model.info.n_embd))

    def test_catalog_equals_cli_build_and_export(self):
        """Texts rendered with the template, encoded and embedded here, equal the catalog
        learn-cli built; the views equal learn-cli catalog export's arrays."""
        recs = records()
        texts = [self.model.info.template.format(**r) for r in recs]
        content = self.ctx.encode(texts)
        items = self.ctx.item_embed(content)
        self.assertTrue(np.array_equal(items, self.cat.items))
        self.assertTrue(np.array_equal(self.ctx.item_embed(content[5]), items[5]))
        self.assertTrue(np.array_equal(content.astype(np.float16).astype(np.float32),
                                       self.cat.content(range(len(recs)))))
        out = os.path.join(TMP, "export")
        cli("catalog", "export", os.path.join(TMP, "cat.learn"), "--npy", out)
        with open(os.path.join(out, "ids.txt")) as f:
            self.assertEqual(self.cat.ids, f.read().split("\n")[:-1])
        self.assertEqual(self.cat.ids, [r["id"] for r in recs])
        self.assertTrue(np.array_equal(self.cat.items, np.load(os.path.join(out, "item.npy"))))
        self.assertTrue(np.array_equal(self.cat.content(range(len(recs))), np.load(os.path.join(out, "content.npy"))))
        self.assertTrue(np.array_equal(self.cat.content(7), np.load(os.path.join(out, "content.npy"))[7]))
        self.assertEqual(len(self.cat), len(recs))
        self.assertEqual(self.cat.find("P00007"), 6)
        self.assertTrue(np.array_equal(self.cat.find(["P00003", "P00001"]), [2, 0]))
        self.assertIn("P00010", self.cat)
        self.assertNotIn("nope", self.cat)
        self.assertTrue(self.cat.check(self.model))

    def test_items_view_is_the_file(self):
        v = self.cat.items
        self.assertFalse(v.flags.writeable)
        self.assertTrue(np.shares_memory(v, self.cat.items))  # two views of one mapping: no copy
        with self.assertRaises(ValueError):
            v[0, 0] = 1.0
        self.assertEqual(v.shape, (self.cat.info.n_items, self.cat.info.d_item))

    def test_user_embed_equals_cli_user(self):
        hist = ["P00003", "P00011", "P00042", "P00007"]
        want = np.array(json.loads(cli("user", MODEL, os.path.join(TMP, "cat.learn"), "--history", ",".join(hist))),
                        dtype=np.float64)
        got = self.ctx.user_embed(self.cat.content(self.cat.find(hist)))
        self.assertEqual(got.shape, (self.model.info.towers.d_out,))
        np.testing.assert_allclose(got, want, rtol=2e-8, atol=1e-9)  # printed with %.8g

    def test_user_state_equals_user_embed(self):
        content = self.cat.content(range(6))
        s = learn.UserState(self.ctx)
        for n in range(1, 7):
            s.append(content[n - 1])
            self.assertEqual(len(s), n)
            self.assertTrue(np.array_equal(s.embedding, self.ctx.user_embed(content[:n])))
        w = self.ctx.user_state(max_len=3).append(content)  # several rows at once
        self.assertEqual(len(w), 3)
        self.assertTrue(np.array_equal(w.embedding, self.ctx.user_embed(content[3:])))
        w.reset()
        self.assertEqual(len(w), 0)
        with self.assertRaises(learn.Error) as e:
            w.embedding
        self.assertEqual(e.exception.status, learn.Status.STATE)

    def test_topk_equals_cli_recommend(self):
        cat_path = os.path.join(TMP, "cat.learn")
        for hist in (["P00001", "P00002"], ["P00050", "P00051", "P00052", "P00119"]):
            out = json.loads(cli("recommend", MODEL, cat_path, "--history", ",".join(hist), "-k", "10", "--json"))
            user = self.ctx.user_embed(self.cat.content(self.cat.find(hist)))
            idx, scores = self.cat.topk(user, 10, exclude=hist)
            self.assertEqual(idx.dtype, np.uint32)
            self.assertEqual(scores.dtype, np.float32)
            self.assertEqual([self.cat.ids[i] for i in idx], [h["id"] for h in out["items"]])
            np.testing.assert_allclose(scores, [h["score"] for h in out["items"]], rtol=0, atol=5e-7)
            np.testing.assert_allclose(scores, self.cat.items[idx] @ user, rtol=0, atol=1e-6)
            idx2, scores2 = self.cat.topk(user, 10, exclude=self.cat.find(hist))  # indices, not ids
            self.assertTrue(np.array_equal(idx, idx2) and np.array_equal(scores, scores2))

    def test_topk_batch(self):
        rng = np.random.default_rng(5)
        q = rng.standard_normal((13, self.cat.info.d_item)).astype(np.float32)
        ex = [list(rng.choice(len(self.cat), size=int(rng.integers(0, 6)), replace=False)) for _ in range(13)]
        idx, sc = self.cat.topk(q, 7, exclude=ex)
        self.assertEqual(idx.shape, (13, 7))
        for i in range(13):
            a, b = self.cat.topk(q[i], 7, exclude=ex[i])
            self.assertTrue(np.array_equal(idx[i], a) and np.array_equal(sc[i], b))
            self.assertFalse(set(ex[i]) & set(a.tolist()))
        idx, sc = self.cat.topk(q, 7)
        self.assertTrue(np.array_equal(idx[3], self.cat.topk(q[3], 7)[0]))
        # k beyond the catalog: every item, best first, no padding
        n = len(self.cat)
        a, b = self.cat.topk(q[0], n + 50)
        self.assertEqual(sorted(a.tolist()), list(range(n)))
        self.assertTrue(np.all(np.diff(b) <= 0))
        a, b = self.cat.topk(q[0], n + 50, exclude=[0, 1, 2])
        self.assertEqual(len(a), n - 3)
        # rows of different lengths come back as lists
        idx, sc = self.cat.topk(q[:3], n, exclude=[[], [0, 1], None])
        self.assertIsInstance(idx, list)
        self.assertEqual([len(r) for r in idx], [n, n - 2, n])
        self.assertTrue(np.array_equal(idx[1], self.cat.topk(q[1], n, exclude=[0, 1])[0]))
        idx, sc = self.cat.topk(np.zeros((0, self.cat.info.d_item), np.float32), 5)
        self.assertEqual(idx.shape, (0, 5))
        # a float64 query is converted
        a64, _ = self.cat.topk(q[2].astype(np.float64), 7)
        self.assertTrue(np.array_equal(a64, self.cat.topk(q[2], 7)[0]))

    def test_builder(self):
        content = self.cat.content(range(5))
        items = self.ctx.item_embed(content)
        path = os.path.join(TMP, "py.learn")
        with learn.CatalogBuilder(content.shape[1], items.shape[1], model=self.model) as b:
            b.add(["x1", "x2", "x3", "x4"], content[:4], items[:4])
            b.add("x5", content[4], items[4])
            self.assertEqual(len(b), 5)
            b.save(path)
        with learn.Catalog(path) as c:
            self.assertEqual(c.ids, ["x1", "x2", "x3", "x4", "x5"])
            self.assertTrue(np.array_equal(c.items, items))
            self.assertTrue(np.array_equal(c.content(range(5)), content))  # content was f16 already
            self.assertTrue(c.check(self.model))
        # learn-cli reads it as one of its own
        out = json.loads(cli("recommend", MODEL, path, "--history", "x1", "-k", "4", "--json"))
        with learn.Catalog(path) as c:
            idx, _ = c.topk(self.ctx.user_embed(content[0]), 4, exclude=["x1"])
            self.assertEqual([h["id"] for h in out["items"]], [c.ids[i] for i in idx])
        # without a model: fingerprints 0; another model's catalog is refused
        path2 = os.path.join(TMP, "py2.learn")
        b = learn.CatalogBuilder(content.shape[1], items.shape[1])
        b.add("y", content[0], items[0]).save(path2)
        b.close()
        with learn.Catalog(path2) as c:
            self.assertEqual(c.info.content_fingerprint, 0)
            with self.assertRaises(learn.Error) as e:
                c.check(self.model)
            self.assertEqual(e.exception.status, learn.Status.MISMATCH)
        # like(): the dimensions and fingerprints of a catalog, kept after it is closed
        for src, same in ((path, True), (path2, None)):
            with learn.Catalog(src) as c:
                b = learn.CatalogBuilder.like(c)
                info = c.info
            b.add("z", content[1], items[1]).save(path + ".like")
            b.close()
            with learn.Catalog(path + ".like") as c:
                self.assertEqual((c.info.d_content, c.info.d_item, c.info.content_fingerprint,
                                  c.info.tower_fingerprint),
                                 (info.d_content, info.d_item, info.content_fingerprint,
                                  info.tower_fingerprint))
                if same:
                    self.assertTrue(c.check(self.model))
                else:
                    self.assertRaises(learn.Error, c.check, self.model)
        with self.assertRaises(learn.Error):
            learn.CatalogBuilder.like(c)  # closed
        b = learn.CatalogBuilder(content.shape[1], items.shape[1])
        b.add(["d", "d"], content[:2], items[:2])
        with self.assertRaises(learn.Error) as e:
            b.save(path2)
        self.assertIn("'d' appears twice", e.exception.message)
        with self.assertRaises(learn.Error) as e:
            b.add(["a", "b"], content[:3], items[:3])
        self.assertEqual(e.exception.status, learn.Status.ARG)
        b.close()


class TestReadme(unittest.TestCase):
    def test_readme_example(self):
        """README's Python example, as it is, beside models/ and the test catalog."""
        with open(os.path.join(REPO, "README.md"), encoding="utf-8") as f:
            readme = f.read()
        code = readme.split("```python\n", 1)[1].split("\n```", 1)[0]
        d = tempfile.mkdtemp(dir=TMP)
        os.symlink(os.path.join(REPO, "models"), os.path.join(d, "models"))
        shutil.copy(os.path.join(TMP, "cat.learn"), os.path.join(d, "catalog.learn"))
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.dirname(learn.__file__) + "/.."] +
                                                          sys.path))
        r = subprocess.run([sys.executable, "-c", code], cwd=d, env=env, capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertEqual(len(lines), 11, r.stdout)
        with learn.Model(MODEL) as model, learn.Context(model) as ctx, learn.Catalog(os.path.join(d, "catalog.learn")) as cat:
            user = ctx.user_embed(cat.content(cat.find(["P00001", "P00002"])))
            idx, scores = cat.topk(user, 10, exclude=["P00001", "P00002"])
            self.assertEqual(lines[:10], ["%s %r" % (cat.ids[i], round(float(s), 3)) for i, s in zip(idx, scores)])
        self.assertTrue(lines[10].startswith("the new items for this user: ["))


class TestErrors(Base):
    def test_every_status_named(self):
        # every code the library names has its Status member, with the library's name
        for code in range(0, -64, -1):
            text = learn._lib.learn_status_str(code).decode()
            if text == "unknown status":
                continue
            self.assertIn(code, [int(v) for v in learn.Status], text)
            if code:
                self.assertTrue(text.startswith("LEARN_ERR_" + learn.Status(code).name), text)

    def check(self, status, fragment, fn, *args, **kw):
        with self.assertRaises(learn.Error) as e:
            fn(*args, **kw)
        err = e.exception
        self.assertEqual(err.status, status, str(err))
        self.assertIsInstance(err.status, learn.Status)
        self.assertIn(fragment, err.message)
        self.assertEqual(str(err), "%s: %s" % (err.name, err.message))
        self.assertTrue(err.name.startswith("LEARN_ERR_"))
        back = pickle.loads(pickle.dumps(err))
        self.assertEqual((back.status, back.message, str(back)), (err.status, err.message, str(err)))
        return err

    def test_open(self):
        missing = os.path.join(TMP, "missing.learn")
        self.check(learn.Status.IO, missing, learn.Model, missing)
        self.check(learn.Status.IO, missing, learn.Catalog, missing)
        bad = os.path.join(TMP, "bad.learn")
        with open(MODEL, "rb") as f:
            data = bytearray(f.read())
        data[len(data) - 4096] ^= 0x5A  # in the last tensor's data
        with open(bad, "wb") as f:
            f.write(data)
        self.check(learn.Status.CHECKSUM, "checksum", learn.Model, bad)
        learn.Model(bad, verify_checksum=False).close()  # structure intact: opens unchecked
        with open(bad, "wb") as f:
            f.write(data[:100])
        self.check(learn.Status.FORMAT, "", learn.Model, bad)
        self.check(learn.Status.FORMAT, "", learn.Catalog, MODEL)  # a model is not a catalog

    def test_context(self):
        e = self.check(learn.Status.ARG, "bogus", learn.Context, self.model, isa="bogus")
        self.assertIn("LEARN_ERR_ARG", str(e))
        self.check(learn.Status.ARG, "threads", learn.Context, self.model, threads=-1)
        self.check(learn.Status.ARG, "bogus", learn.isa_check, "bogus")
        with self.assertRaises(TypeError):
            learn.Context("models/demo.learn")

    def test_calls(self):
        d_in, d = self.model.info.towers.d_in, self.cat.info.d_item
        self.check(learn.Status.ARG, "item 1: the text gives no tokens", self.ctx.encode, ["ok", ""])
        nan = np.zeros(d_in, np.float32)
        nan[3] = np.nan
        self.check(learn.Status.NUMERIC, "", self.ctx.item_embed, nan)
        self.check(learn.Status.ARG, "expected rows of %d floats" % d_in, self.ctx.item_embed, np.zeros((2, 5)))
        self.check(learn.Status.ARG, "empty history", self.ctx.user_embed, np.zeros((0, d_in)))
        self.check(learn.Status.ARG, "k must be at least 1", self.cat.topk, np.ones(d, np.float32), 0)
        q = np.ones(d, np.float32)
        q[2] = np.inf
        self.check(learn.Status.NUMERIC, "query element 2", self.cat.topk, q, 5)
        self.check(learn.Status.ARG, "queries", self.cat.topk, np.ones(d + 1, np.float32), 5)
        self.check(learn.Status.ARG, "outside the catalog", self.cat.topk, np.ones(d, np.float32), 5, exclude=[10 ** 6])
        self.check(learn.Status.ARG, "outside the catalog", self.cat.topk, np.ones(d, np.float32), 5, exclude=[-1])
        self.check(learn.Status.ARG, "2 lists for 3 queries", self.cat.topk, np.ones((3, d), np.float32), 5,
                   exclude=[[], []])
        self.check(learn.Status.NOT_FOUND, "'nope'", self.cat.find, "nope")
        self.check(learn.Status.NOT_FOUND, "'nope'", self.cat.topk, np.ones(d, np.float32), 5, exclude=["nope"])
        self.check(learn.Status.ARG, "outside the catalog", self.cat.content, 10 ** 6)
        s = learn.UserState(self.ctx)
        self.check(learn.Status.STATE, "nothing appended", lambda: s.embedding)
        self.check(learn.Status.NUMERIC, "", s.append, nan)
        self.assertEqual(len(s), 0)  # unchanged by the failed append


class TestClose(unittest.TestCase):
    def test_use_after_close(self):
        model = learn.Model(MODEL)
        ctx = learn.Context(model)
        state = ctx.user_state()
        ctx.close()
        ctx.close()  # twice is fine
        for f in (lambda: ctx.encode(["x"]), lambda: ctx.item_embed(np.zeros(128)), lambda: ctx.isa,
                  lambda: ctx.user_state(), lambda: state.append(np.zeros(128))):
            with self.assertRaises(learn.Error) as e:
                f()
            self.assertEqual(e.exception.status, learn.Status.STATE)
            self.assertIn("context is closed", e.exception.message)
        state.close()
        with self.assertRaises(learn.Error):
            len(state)
        model.close()
        with self.assertRaises(learn.Error) as e:
            model.info
        self.assertIn("model is closed", e.exception.message)
        with self.assertRaises(learn.Error):
            learn.Context(model)

    def test_lifetimes(self):
        """A model stays open while a context of it is; a catalog stays mapped while a view of
        it lives; without them, close() releases the file at once."""
        gc.collect()
        self.assertFalse(mapped(MODEL))
        with learn.Model(MODEL) as model:
            self.assertTrue(mapped(MODEL))
        self.assertFalse(mapped(MODEL))
        model = learn.Model(MODEL)
        ctx = learn.Context(model)
        model.close()
        self.assertTrue(mapped(MODEL))
        self.assertEqual(ctx.encode(["still works"]).shape, (1, 128))
        ctx.close()
        self.assertFalse(mapped(MODEL))
        path = os.path.join(TMP, "cat.learn")
        cat = learn.Catalog(path)
        v = cat.items
        copy = np.array(v)
        cat.close()
        for f in (lambda: cat.items, lambda: cat.ids, lambda: len(cat), lambda: cat.find("P00001"),
                  lambda: cat.topk(copy[0], 3)):
            with self.assertRaises(learn.Error) as e:
                f()
            self.assertEqual(e.exception.status, learn.Status.STATE)
        self.assertTrue(mapped(path))
        self.assertTrue(np.array_equal(v, copy))  # the view still reads the file
        del v
        self.assertFalse(mapped(path))
        with learn.Catalog(path) as cat:
            cat.topk(copy[0], 3)
        self.assertFalse(mapped(path))

    def test_threads_share_a_context(self):
        texts = ["Title: item %d. Brand: B%d. Category: C" % (i, i % 7) for i in range(24)]
        with learn.Model(MODEL) as model, learn.Context(model, threads=1) as ctx:
            want = ctx.encode(texts)
            got = [None] * 4

            def run(i):
                got[i] = ctx.encode(texts)

            ts = [threading.Thread(target=run, args=(i,)) for i in range(4)]
            for t in ts:
                t.start()
            for t in ts:
                t.join()
            for g in got:
                self.assertTrue(np.array_equal(g, want))


class TestBackend(unittest.TestCase):
    """The build backend pip uses (tests/test_python.c runs pip itself)."""

    def test_wheel_and_sdist(self):
        sys.path.insert(0, os.path.join(PKG, "_build"))
        try:
            import backend
        finally:
            sys.path.pop(0)
        d = tempfile.mkdtemp(dir=TMP)
        self.assertEqual(backend.get_requires_for_build_wheel(), [])
        name = backend.build_wheel(d)
        self.assertEqual(name, "learn-%s-py3-none-any.whl" % learn.__version__)
        with zipfile.ZipFile(os.path.join(d, name)) as z:
            names = z.namelist()
            self.assertIn("learn/__init__.py", names)
            self.assertIn("learn/_capi.py", names)
            meta = z.read("learn-%s.dist-info/METADATA" % learn.__version__).decode()
            self.assertIn("Version: %s\n" % learn.__version__, meta)
            self.assertIn("Requires-Dist: numpy\n", meta)
            record = z.read("learn-%s.dist-info/RECORD" % learn.__version__).decode().split()
            self.assertEqual(len(record), len(names))
            with open(os.path.join(PKG, "learn", "__init__.py"), "rb") as f:
                self.assertEqual(z.read("learn/__init__.py"), f.read())
        name = backend.build_editable(d)
        with zipfile.ZipFile(os.path.join(d, name)) as z:
            self.assertEqual(z.read("learn_editable.pth").decode().strip(), PKG)
        import tarfile
        name = backend.build_sdist(d)
        with tarfile.open(os.path.join(d, name)) as t:
            base = "learn-%s/" % learn.__version__
            self.assertTrue({base + "pyproject.toml", base + "_build/backend.py", base + "learn/__init__.py",
                             base + "PKG-INFO"} <= set(t.getnames()))


if __name__ == "__main__":
    unittest.main()
