"""learn: LLM knowledge for recommendation, on the CPU, from one model file.

A Python module over the C runtime's shared library (liblearn.so, through ctypes), with numpy
arrays in and out. It implements the LEARN method (arXiv 2405.03988): a frozen LLM turns item
text into content embeddings (``Context.encode``), twin-tower transformers map them into the
collaborative space (``Context.item_embed``, ``Context.user_embed``, ``UserState``), and users
are scored against a catalog (``Catalog.topk``)::

    import learn
    with learn.Model("models/demo.learn") as model, learn.Context(model) as ctx:
        content = ctx.encode(["Title: Trail Runners - Sand. Brand: Acme. Category: Running Shoes",
                              "Title: Green Tea. Brand: Juniper. Category: Tea"])
        items = ctx.item_embed(content)              # (2, d_out), unit rows
        user = ctx.user_embed(content)               # a user who saw both, oldest first
        with learn.Catalog("catalog.learn") as cat:
            indices, scores = cat.topk(user, 10)
            print([cat.ids[i] for i in indices])

Nothing is compiled at install: the package finds liblearn.so.MAJOR in LEARN_LIBRARY, else in
the build of the repository it sits in (``build/``), else through the dynamic loader (after
``./build.sh install``). Every failure raises ``learn.Error`` with the library's status and
message. Handles close when ``close()`` is called or their ``with`` block ends; using one
afterwards raises ``learn.Error`` (``Status.STATE``). What a handle's results still point into
stays valid: a model stays open while a ``Context`` made from it is open, and a catalog's file
stays mapped while a numpy view of its item embeddings is alive. A ``Context`` (and the
catalog's own, for ``topk``) takes a lock around each call, so threads may share one; calls
release the GIL.
"""

import enum
import operator
import threading
from ctypes import (addressof, byref, c_char, c_char_p, c_int, c_size_t, c_uint32, c_void_p, create_string_buffer,
                    string_at)

import numpy as np

from . import _capi

__version__ = "0.1.0"
__all__ = ["Error", "Status", "Model", "Context", "UserState", "Catalog", "CatalogBuilder",
           "ModelInfo", "TowersInfo", "CatalogInfo", "version", "isa_check"]

_lib = _capi.load()

_F32 = np.float32
# learn_hit {uint32_t index; float score}: top-K results land here and are returned as views.
_HIT = np.dtype([("index", "<u4"), ("score", "<f4")])
assert _HIT.itemsize == 8


class Status(enum.IntEnum):
    """learn_status: 0 is OK; the errors are stable negative codes."""
    OK = 0
    ARG = -1
    NOMEM = -2
    IO = -3
    FORMAT = -4
    VERSION = -5
    CHECKSUM = -6
    UNSUPPORTED = -7
    TOO_LONG = -8
    BUFFER = -9
    NOT_FOUND = -10
    MISMATCH = -11
    NUMERIC = -12
    STATE = -13
    BUSY = -14



class Error(Exception):
    """A failed call: ``status`` (a ``Status``), ``name`` ("LEARN_ERR_FORMAT") and ``message``
    (what exactly was wrong, as the library says it)."""

    def __init__(self, status, message=""):
        try:
            status = Status(status)
        except ValueError:
            pass
        self.status = status
        desc = _lib.learn_status_str(int(status)).decode()
        self.name = desc.split(":", 1)[0]
        self.message = message or desc.split(": ", 1)[-1]
        super().__init__("%s: %s" % (self.name, self.message))

    def __reduce__(self):  # pickles (multiprocessing) with its status and message
        return (Error, (int(self.status), self.message))


def version():
    """The version of the loaded liblearn ("0.1.0")."""
    return _lib.learn_version().decode()


def isa_check(isa=None):
    """The kernels' instruction set a ``Context(model, isa=isa)`` would run here ("avx2", ...);
    raises ``Error`` saying why when this CPU or build cannot run ``isa``. None: automatic."""
    return _call_err(_lib.learn_isa_check, _bytes_or_none(isa)).value.decode()


# ---- Handles ----------------------------------------------------------------------------


class _Handle:
    """Owns one C object; frees it when the last Python reference goes (close() drops the
    owner's reference, so that is at once unless a dependent object still holds it)."""
    __slots__ = ("ptr", "_free", "deps")

    def __init__(self, ptr, free, deps=()):
        self.ptr = ptr
        self._free = free
        self.deps = deps  # handles that must outlive this one

    def release(self):
        ptr, self.ptr = self.ptr, None
        if ptr:
            self._free(ptr)
        self.deps = ()

    def __del__(self):
        self.release()


class _Object:
    """Shared close/with/closed logic."""
    _kind = "object"
    _h = None

    def _ptr(self):
        h = self._h
        if h is None or not h.ptr:
            raise Error(Status.STATE, "the %s is closed" % self._kind)
        return h.ptr

    @property
    def closed(self):
        return self._h is None

    def close(self):
        """Releases the handle (at once, unless something made from it still needs it). Closing
        twice is allowed."""
        self._h = None

    def __enter__(self):
        self._ptr()
        return self

    def __exit__(self, *exc):
        self.close()


def _call_err(fn, *args):
    """Calls fn(*args, errbuf, size), a C function that writes its message into a buffer;
    raises Error with that message when it fails, else returns the buffer."""
    err = create_string_buffer(_capi.ERRMSG_SIZE)
    st = fn(*args, err, len(err))
    if st:
        raise Error(st, err.value.decode(errors="replace"))
    return err


def _bytes_or_none(s):
    if s is None:
        return None
    return s.encode() if isinstance(s, str) else bytes(s)


def _params(verify_checksum, use_mmap):
    p = _lib.learn_model_default_params()
    p.verify_checksum = 1 if verify_checksum else 0
    p.use_mmap = 1 if use_mmap else 0
    return p


def _addr(a):
    """The address of a C-contiguous array's data. c_char.from_buffer is C code; a.ctypes is
    Python, and costs some 20 us after a call that streamed a large catalog through the
    caches (a tenth of the binding's time per top-K): it serves read-only and empty arrays."""
    try:
        return addressof(c_char.from_buffer(a))
    except (TypeError, ValueError):
        return a.ctypes.data


def _floats(x, cols, what, ndims=(1, 2)):
    """x as a C-contiguous float32 array (no copy when it is one) with `cols` columns."""
    a = np.ascontiguousarray(x, dtype=_F32)
    if a.ndim not in ndims or (a.ndim and a.shape[-1] != cols):
        raise Error(Status.ARG, "%s: expected %s of %d floats, got shape %s"
                    % (what, "rows" if 2 in ndims else "a vector", cols, a.shape))
    return a


# ---- Models -----------------------------------------------------------------------------


class TowersInfo:
    """The model's towers (learn_towers_info): ``present`` (False: content passthrough, then
    d_in = d_out = n_embd), ``d_in``, ``d_out``, ``d_model``, ``n_layer``, ``n_head``,
    ``d_ff``, ``max_positions``, ``max_history`` (0: all), ``pre_norm``."""

    def __init__(self, ti):
        for name, _ in _capi.TowersInfo._fields_:
            setattr(self, name, getattr(ti, name))
        self.present = bool(self.present)
        self.pre_norm = bool(self.pre_norm)

    def __repr__(self):
        return "TowersInfo(%s)" % ", ".join("%s=%r" % kv for kv in vars(self).items())


class ModelInfo:
    """learn_model_info: ``format_version``, ``file_size``, ``n_meta``, ``n_tensors``,
    ``content_fingerprint``, ``tower_fingerprint``, ``name``, ``arch`` ("" without an LLM),
    ``n_vocab``, ``n_embd`` (the content embedding size), ``n_layer``, ``n_head``,
    ``n_head_kv``, ``head_dim``, ``n_ff``, ``n_ctx_train``, ``rope_theta``, ``rms_eps``,
    ``n_params``; and ``towers`` (a TowersInfo) and ``template`` (encoder.template, or None)."""

    def __init__(self, mi, towers, template):
        for name, _ in _capi.ModelInfo._fields_:
            v = getattr(mi, name)
            setattr(self, name, v.decode(errors="replace") if isinstance(v, bytes) else v)
        self.name = self.name or ""
        self.arch = self.arch or ""
        self.towers = towers
        self.template = template

    def __repr__(self):
        return "ModelInfo(%s)" % ", ".join("%s=%r" % kv for kv in vars(self).items())


class Model(_Object):
    """A .learn model file, memory-mapped and validated at open (``learn_model_open``).

    ``Model(path, verify_checksum=True, use_mmap=True)``; ``info`` describes it. A model is
    immutable and may be shared by threads; close it when done (or use ``with``). Contexts
    made from it keep it open until they are closed."""
    _kind = "model"

    def __init__(self, path, verify_checksum=True, use_mmap=True):
        self.path = str(path)
        p = _params(verify_checksum, use_mmap)
        h = c_void_p()
        _call_err(_lib.learn_model_open, self.path.encode(), byref(p), byref(h))
        self._h = _Handle(h.value, _lib.learn_model_close)
        self._info = self._read_info()

    def _read_info(self):
        mi, ti = _capi.ModelInfo(), _capi.TowersInfo()
        ptr = self._ptr()
        _check(_lib.learn_model_get_info(ptr, byref(mi)))
        _check(_lib.learn_towers_get_info(ptr, byref(ti)))
        s, n = c_void_p(), c_size_t()
        template = None
        if _lib.learn_model_meta_str(ptr, b"encoder.template", byref(s), byref(n)) == 0:
            template = string_at(s.value, n.value).decode(errors="replace")
        return ModelInfo(mi, TowersInfo(ti), template)

    @property
    def info(self):
        """A ModelInfo (read at open)."""
        self._ptr()
        return self._info

    def __repr__(self):
        return "<learn.Model %r%s>" % (self.path, " closed" if self.closed else "")


def _check(st, msg=""):
    if st:
        raise Error(st, msg)


def _ctx_new(mptr, mhandle, threads, isa):
    """A learn_ctx of a model, as a _Handle that keeps the model's handle alive."""
    threads = operator.index(threads)
    p = _lib.learn_ctx_default_params()
    p.n_threads = threads
    isa_b = _bytes_or_none(isa)
    p.isa = isa_b
    h = c_void_p()
    st = _lib.learn_ctx_new(mptr, byref(p), byref(h))
    if st:
        msg = ""
        buf = create_string_buffer(_capi.ERRMSG_SIZE)
        if _lib.learn_isa_check(isa_b, buf, len(buf)):
            msg = buf.value.decode(errors="replace")
        elif st == Status.ARG:
            msg = "threads must be 0..256 (got %d)" % threads
        raise Error(st, msg)
    return _Handle(h.value, _lib.learn_ctx_free, deps=(mhandle,))


# ---- Contexts ---------------------------------------------------------------------------


class Context(_Object):
    """Scratch memory, a thread pool and the last error of a model's computations
    (``learn_ctx_new``): ``Context(model, threads=0, isa=None)``.

    threads: worker threads including the caller (0: the number of CPUs). isa: the kernels
    ("scalar", "avx2", "avxvnni", "avx512", "neon", "neon_dotprod"; None for the best this CPU
    runs, or the LEARN_ISA environment variable). Results are the same for any number of
    threads. Calls on one context are serialised by a lock."""
    _kind = "context"

    def __init__(self, model, threads=0, isa=None):
        if not isinstance(model, Model):
            raise TypeError("Context needs a learn.Model")
        self._h = _ctx_new(model._ptr(), model._h, threads, isa)
        self._model_h = model._h
        self._lock = threading.Lock()
        info = model._info
        self.model = model
        self._n_embd = info.n_embd
        self._d_in = info.towers.d_in
        self._d_out = info.towers.d_out

    def close(self):
        """Frees the context now (after a call running on another thread returns)."""
        lock = getattr(self, "_lock", None)
        if lock is None:
            self._h = None
            return
        with lock:
            h, self._h, self._model_h = self._h, None, None
            if h is not None:
                h.release()

    def _call(self, fn, *args):
        with self._lock:
            ptr = self._ptr()
            st = fn(ptr, *args)
            if st:
                raise Error(st, _lib.learn_ctx_errmsg(ptr).decode(errors="replace"))

    @property
    def threads(self):
        """Threads the context uses."""
        return _lib.learn_ctx_n_threads(self._ptr())

    @property
    def isa(self):
        """The kernels' instruction set ("scalar", "avx2", ...)."""
        return _lib.learn_ctx_isa(self._ptr()).decode()

    def encode(self, texts):
        """Content embeddings of item texts through the model's LLM (``learn_encode``).

        texts: a sequence of str (UTF-8) or bytes, already rendered through the model's
        template (``model.info.template``, e.g. ``template.format(**record)``). Returns float32
        (n, n_embd), pooled and normalised as the model says; one text (a str or bytes)
        gives (n_embd,). An item's result does not depend on the others."""
        single = isinstance(texts, (str, bytes))
        items = [texts] if single else list(texts)
        raw = [t.encode() if isinstance(t, str) else bytes(t) for t in items]
        out = np.empty((len(raw), self._n_embd), _F32)
        if raw:
            ptrs = (c_char_p * len(raw))(*raw)
            lens = (c_size_t * len(raw))(*map(len, raw))
            self._call(_lib.learn_encode, len(raw), ptrs, lens, _addr(out))
        return out[0] if single else out

    def item_embed(self, content):
        """Item embeddings (``learn_item_embed``): content (n, d_in) float32 -> (n, d_out), each
        row of unit length; one row (d_in,) gives (d_out,)."""
        c = _floats(content, self._d_in, "content")
        rows = c.reshape(-1, self._d_in)
        out = np.empty((rows.shape[0], self._d_out), _F32)
        if rows.shape[0]:
            self._call(_lib.learn_item_embed, rows.shape[0], _addr(rows), _addr(out))
        return out[0] if c.ndim == 1 else out

    def user_embed(self, history_content):
        """A user embedding (d_out,) from the content embeddings of their history, (n_hist,
        d_in), oldest first (``learn_user_embed``). An empty history is an Error."""
        c = _floats(history_content, self._d_in, "history_content").reshape(-1, self._d_in)
        out = np.empty(self._d_out, _F32)
        self._call(_lib.learn_user_embed, c.shape[0], _addr(c), _addr(out))
        return out

    def user_state(self, max_len=0):
        """A new UserState of this context's model (see UserState)."""
        return UserState(self, max_len)

    def __repr__(self):
        return "<learn.Context of %r%s>" % (self.model.path, " closed" if self.closed else "")


class UserState(_Object):
    """An incremental user (``learn_user_state_*``): append history items one at a time and
    read the embedding after each, for about the cost of one item through the towers.

    ``UserState(context, max_len=0)`` keeps the most recent max_len items (0: the model's
    tower.max_history); its ``embedding`` equals ``context.user_embed`` of them. It computes
    on its context (which must stay open) and keeps the model open. Like the C state, it is
    used by one thread at a time."""
    _kind = "user state"

    def __init__(self, context, max_len=0):
        if not isinstance(context, Context):
            raise TypeError("UserState needs a learn.Context")
        h = c_void_p()
        context._call(_lib.learn_user_state_new, operator.index(max_len), byref(h))
        self._h = _Handle(h.value, _lib.learn_user_state_free, deps=(context._model_h,))
        self.context = context

    def append(self, content):
        """Appends one item (d_in,) or several rows (m, d_in), oldest first. On an error the
        rows before the failing one stay appended."""
        ctx = self.context
        c = _floats(content, ctx._d_in, "content").reshape(-1, ctx._d_in)
        ptr = self._ptr()
        for row in c:
            ctx._call(lambda cp, r=row: _lib.learn_user_state_append(cp, ptr, _addr(r)))
        return self

    @property
    def embedding(self):
        """The current user embedding (d_out,); an Error (Status.STATE) before any append."""
        out = np.empty(self.context._d_out, _F32)
        st = _lib.learn_user_state_embedding(self._ptr(), _addr(out))
        if st:
            raise Error(st, "nothing appended yet: an empty history has no embedding" if st == Status.STATE else "")
        return out

    def __len__(self):
        """Items in the window."""
        return _lib.learn_user_state_len(self._ptr())

    def reset(self):
        """Empties the state."""
        _lib.learn_user_state_reset(self._ptr())


# ---- Catalogs ---------------------------------------------------------------------------


class CatalogInfo:
    """learn_catalog_info: ``n_items``, ``d_content``, ``d_item``, ``content_fingerprint``,
    ``tower_fingerprint``."""

    def __init__(self, ci):
        for name, _ in _capi.CatalogInfo._fields_:
            setattr(self, name, getattr(ci, name))

    def __repr__(self):
        return "CatalogInfo(%s)" % ", ".join("%s=%r" % kv for kv in vars(self).items())


class _Mapped:
    """Exposes C memory to numpy (read-only, no copy) and keeps its owner alive as long as an
    array made from it is."""

    def __init__(self, handle, addr, shape):
        self._handle = handle
        self.__array_interface__ = {"data": (addr, True), "shape": shape, "typestr": "<f4",
                                    "version": 3}


_empty_model = None  # a _Handle: a model with nothing in it, for catalogs' contexts
_empty_lock = threading.Lock()


def _context_model():
    """An empty model (made once): a catalog's own context, which top-K runs on, needs one."""
    global _empty_model
    with _empty_lock:
        if _empty_model is None:
            w, data, size, m = c_void_p(), c_void_p(), c_size_t(), c_void_p()
            _check(_lib.learn_writer_new(None, byref(w)))
            st = _lib.learn_writer_save_memory(w, byref(data), byref(size))
            if st:
                _lib.learn_writer_free(w)
                raise Error(st)
            addr = data.value

            def free_bytes(writer):  # the model's bytes, then the writer that allocated them
                _lib.learn_writer_free_buffer(writer, addr)
                _lib.learn_writer_free(writer)

            # the bytes must outlive the model: its handle holds theirs
            buf = _Handle(w.value, free_bytes)
            _call_err(_lib.learn_model_open_memory, addr, size, None, byref(m))
            _empty_model = _Handle(m.value, _lib.learn_model_close, deps=(buf,))
        return _empty_model


class Catalog(_Object):
    """A catalog file (``learn_catalog_open``): item ids, content embeddings (f16) and item
    embeddings (f32), memory-mapped and validated at open.

    ``Catalog(path, threads=0, verify_checksum=True)``; threads: for ``topk`` (0: the number
    of CPUs). ``ids`` lists the item ids, ``items`` is a read-only (n_items, d_item) view of
    the item embeddings in the file (no copy), ``content(indices)`` decodes content
    embeddings, ``find(id)`` gives an index, ``topk`` scores queries."""
    _kind = "catalog"

    def __init__(self, path, threads=0, verify_checksum=True):
        self.path = str(path)
        p = _params(verify_checksum, True)
        h = c_void_p()
        _call_err(_lib.learn_catalog_open, self.path.encode(), byref(p), byref(h))
        self._h = _Handle(h.value, _lib.learn_catalog_close)
        ci = _capi.CatalogInfo()
        _check(_lib.learn_catalog_get_info(h, byref(ci)))
        self._info = CatalogInfo(ci)
        self._threads = operator.index(threads)
        self._ctx = None
        self._ids = None
        self._lock = threading.Lock()

    @property
    def info(self):
        """A CatalogInfo."""
        self._ptr()
        return self._info

    def __len__(self):
        self._ptr()
        return self._info.n_items

    def close(self):
        """Closes the catalog: its file is unmapped now, or when the last numpy view of its
        item embeddings is gone. Its top-K context is freed now."""
        with self._lock:
            self._h = None
            ctx, self._ctx = self._ctx, None
            if ctx is not None:
                ctx.release()

    @property
    def ids(self):
        """The item ids (a list of str, in catalog order; bytes that are not UTF-8 are kept
        as surrogate escapes)."""
        ptr = self._ptr()
        if self._ids is None:
            s, n = c_void_p(), c_size_t()
            ids = []
            for i in range(self._info.n_items):
                _check(_lib.learn_catalog_id(ptr, i, byref(s), byref(n)))
                ids.append(string_at(s.value, n.value).decode("utf-8", "surrogateescape"))
            self._ids = ids
        return self._ids

    @property
    def items(self):
        """The item embeddings, (n_items, d_item) float32, read-only, in place in the mapped
        file (no copy). The view keeps the file mapped after close()."""
        ptr = self._ptr()
        addr = _lib.learn_catalog_items(ptr)
        return np.asarray(_Mapped(self._h, addr, (self._info.n_items, self._info.d_item)))

    def content(self, indices):
        """Content embeddings of catalog items (decoded from f16): an index gives (d_content,),
        a sequence of m indices (m, d_content)."""
        ptr = self._ptr()
        single = np.ndim(indices) == 0
        idx = self._indices(np.atleast_1d(indices), "content")
        out = np.empty((idx.size, self._info.d_content), _F32)
        for r, i in enumerate(idx):
            _check(_lib.learn_catalog_content(ptr, int(i), _addr(out[r])))
        return out[0] if single else out

    def find(self, item_id):
        """The index of an item id (str or bytes); a sequence of ids gives a uint32 array.
        An id not in the catalog is an Error (Status.NOT_FOUND)."""
        ptr = self._ptr()
        if isinstance(item_id, (str, bytes)):
            return self._find(ptr, item_id)
        return np.array([self._find(ptr, i) for i in item_id], dtype=np.uint32)

    def _find(self, ptr, item_id):
        b = item_id.encode("utf-8", "surrogateescape") if isinstance(item_id, str) else item_id
        out = c_uint32()
        st = _lib.learn_catalog_find(ptr, b, len(b), byref(out))
        if st:
            raise Error(st, "no item %r in %s" % (item_id, self.path) if st == Status.NOT_FOUND else "")
        return out.value

    def __contains__(self, item_id):
        try:
            self.find(item_id)
            return True
        except Error as e:
            if e.status == Status.NOT_FOUND:
                return False
            raise

    def check(self, model):
        """Whether this catalog's content embeddings come from `model` (same LLM and
        encoder): returns True when its item embeddings come from the model's towers too,
        False when they need recomputing; an Error (Status.MISMATCH, naming both
        fingerprints) when the content does not match."""
        same = c_int()
        _call_err(_lib.learn_catalog_check_model, self._ptr(), model._ptr(), byref(same))
        return bool(same.value)

    def _indices(self, a, what):
        a = np.asarray(a)
        if a.size == 0:
            return np.empty(0, np.uint32)
        if a.dtype.kind not in "iu":
            raise Error(Status.ARG, "%s: catalog indices must be integers (got %s)" % (what, a.dtype))
        if a.min() < 0 or a.max() >= self._info.n_items:
            bad = a[(a < 0) | (a >= self._info.n_items)].flat[0]
            raise Error(Status.ARG, "%s: index %d is outside the catalog (%d items)"
                        % (what, bad, self._info.n_items))
        return np.ascontiguousarray(a.reshape(-1), dtype=np.uint32)

    def _exclusion(self, e, what):
        if e is None:
            return np.empty(0, np.uint32)
        if isinstance(e, (str, bytes)):
            e = [e]
        e = list(e) if not isinstance(e, np.ndarray) else e
        if len(e) and isinstance(e[0], (str, bytes)):
            return self.find(e)
        return self._indices(e, what)

    def _context(self):
        if self._ctx is None:
            m = _context_model()
            self._ctx = _ctx_new(m.ptr, m, self._threads, None)
        return self._ctx.ptr

    def topk(self, queries, k, exclude=None):
        """The k items with the highest dot product with each query, best first (ties to the
        lower index): ``learn_catalog_topk``, or ``learn_catalog_topk_batch`` for many.

        queries: (d_item,) for one query, (n, d_item) for n. exclude: items to skip (indices
        or ids), one sequence for one query, a sequence of them (or None) for many.
        Returns (indices, scores): uint32 and float32 views of the hits the library wrote (no
        copy), of shape (m,) for one query and (n, m) for n, m = min(k, n_items). When a
        query's exclusions leave fewer than m items, it returns every one left: one query
        gives shorter arrays, and many give lists of 1-D arrays, one per query, never padding.
        """
        q = np.ascontiguousarray(queries, dtype=_F32)
        info = self._info
        k = operator.index(k)
        if k < 1:
            raise Error(Status.ARG, "k must be at least 1 (got %d)" % k)
        kk = k if k < info.n_items else info.n_items
        if q.ndim == 1 and q.shape[0] == info.d_item:  # one query: kept short, it runs per call
            ex = None if exclude is None else self._exclusion(exclude, "exclude")
            hits = np.empty(kk, _HIT)
            n = c_size_t()
            with self._lock:
                ptr = self._ptr()
                ctx = self._ctx.ptr if self._ctx is not None else self._context()
                st = _lib.learn_catalog_topk(ctx, ptr, _addr(q), kk, None if ex is None else _addr(ex),
                                             0 if ex is None else ex.size, _addr(hits), byref(n))
                if st:
                    raise Error(st, _lib.learn_ctx_errmsg(ctx).decode(errors="replace"))
            if n.value != kk:
                hits = hits[:n.value]
            return hits["index"], hits["score"]
        q = _floats(q, info.d_item, "queries")
        nq = q.shape[0]
        if exclude is not None and len(exclude) != nq:
            raise Error(Status.ARG, "exclude: %d lists for %d queries" % (len(exclude), nq))
        hits = np.empty((nq, kk), _HIT)
        counts = np.zeros(nq, np.uintp)
        ex_ptrs = ex_lens = None
        keep = []
        if exclude is not None:
            ex_ptrs = (c_void_p * nq)()
            ex_lens = (c_size_t * nq)()
            for i, e in enumerate(exclude):
                a = self._exclusion(e, "exclude[%d]" % i)
                keep.append(a)
                ex_ptrs[i] = _addr(a) if a.size else None
                ex_lens[i] = a.size
        if nq:
            self._call_topk(_lib.learn_catalog_topk_batch, _addr(q), nq, kk, ex_ptrs, ex_lens,
                            _addr(hits), _addr(counts))
        if np.all(counts == kk):
            return hits["index"], hits["score"]
        rows = [hits[i, :counts[i]] for i in range(nq)]
        return [r["index"] for r in rows], [r["score"] for r in rows]

    def _call_topk(self, fn, *args):
        with self._lock:
            ptr = self._ptr()
            ctx = self._context()
            st = fn(ctx, ptr, *args)
            if st:
                raise Error(st, _lib.learn_ctx_errmsg(ctx).decode(errors="replace"))

    def __repr__(self):
        return "<learn.Catalog %r%s>" % (self.path, " closed" if self.closed else "")


class CatalogBuilder(_Object):
    """Writes a catalog (``learn_catalog_builder_*``): ``CatalogBuilder(d_content, d_item,
    model=None)``, ``add`` items, then ``save(path)`` (atomically: temporary file, fsync,
    rename). With a model, the catalog carries its fingerprints (so ``Catalog.check`` accepts
    it for that model); without, they are 0. ``CatalogBuilder.like(catalog)`` makes a builder
    for more items of the model that made a catalog."""
    _kind = "catalog builder"

    def __init__(self, d_content, d_item, model=None):
        self._d_content = operator.index(d_content)
        self._d_item = operator.index(d_item)
        h = c_void_p()
        mptr = model._ptr() if model is not None else None
        st = _lib.learn_catalog_builder_new(mptr, self._d_content, self._d_item, byref(h))
        if st:
            raise Error(st, "d_content and d_item must be at least 1 (got %d, %d)"
                        % (self._d_content, self._d_item) if st == Status.ARG else "")
        self._h = _Handle(h.value, _lib.learn_catalog_builder_free,
                          deps=(model._h,) if model is not None else ())

    @classmethod
    def like(cls, catalog):
        """A builder for more items of the model that made `catalog`
        (``learn_catalog_builder_new_like``): the catalog's dimensions and fingerprints, so that
        a catalog merged or extended without the model is accepted where `catalog` is. The
        catalog may be closed afterwards."""
        info = catalog.info
        h = c_void_p()
        _check(_lib.learn_catalog_builder_new_like(catalog._ptr(), byref(h)))
        self = cls.__new__(cls)
        self._d_content = info.d_content
        self._d_item = info.d_item
        self._h = _Handle(h.value, _lib.learn_catalog_builder_free)
        return self

    def _fail(self, st):
        raise Error(st, _lib.learn_catalog_builder_errmsg(self._h.ptr).decode(errors="replace"))

    def add(self, ids, content, items):
        """Adds items (copied): one id (str or bytes) with content (d_content,) and item
        (d_item,) embeddings, or n ids with (n, d_content) and (n, d_item) rows. Ids: 1..4096
        bytes without control characters; duplicates are reported by save()."""
        ptr = self._ptr()
        single = isinstance(ids, (str, bytes))
        ids = [ids] if single else list(ids)
        c = _floats(content, self._d_content, "content").reshape(-1, self._d_content)
        it = _floats(items, self._d_item, "items").reshape(-1, self._d_item)
        if c.shape[0] != len(ids) or it.shape[0] != len(ids):
            raise Error(Status.ARG, "%d ids, %d content rows, %d item rows" % (len(ids), c.shape[0], it.shape[0]))
        for i, item_id in enumerate(ids):
            b = item_id.encode("utf-8", "surrogateescape") if isinstance(item_id, str) else bytes(item_id)
            st = _lib.learn_catalog_builder_add(ptr, b, len(b), _addr(c[i]), _addr(it[i]))
            if st:
                self._fail(st)
        return self

    def __len__(self):
        return _lib.learn_catalog_builder_count(self._ptr())

    def save(self, path):
        """Writes the catalog to path atomically."""
        st = _lib.learn_catalog_builder_save(self._ptr(), str(path).encode())
        if st:
            self._fail(st)
