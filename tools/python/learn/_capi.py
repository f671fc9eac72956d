"""The C API of liblearn, declared for ctypes (the structs and functions of learn.h).

Private to the package: use the classes of ``learn`` instead. Every struct here mirrors
learn.h field for field; tests compare what they read with learn-cli's output.
"""

import ctypes
import os

from ctypes import (POINTER, Structure, c_char, c_char_p, c_float, c_int, c_size_t, c_uint32,
                    c_uint64, c_void_p)

#: The MAJOR.MINOR of learn.h this module is written against: the library must have the same
#: MAJOR and at least this MINOR (see learn.h on versions).
API_MAJOR = 0
API_MINOR = 1

ERRMSG_SIZE = 256


class Allocator(Structure):
    _fields_ = [("user", c_void_p), ("alloc", c_void_p), ("realloc", c_void_p), ("free", c_void_p)]


class ModelParams(Structure):
    _fields_ = [("allocator", Allocator), ("verify_checksum", c_int), ("use_mmap", c_int)]


class ModelInfo(Structure):
    _fields_ = [("format_version", c_uint32), ("file_size", c_uint64), ("n_meta", c_uint32),
                ("n_tensors", c_uint32), ("content_fingerprint", c_uint64),
                ("tower_fingerprint", c_uint64), ("name", c_char_p), ("arch", c_char_p),
                ("n_vocab", c_uint32), ("n_embd", c_uint32), ("n_layer", c_uint32),
                ("n_head", c_uint32), ("n_head_kv", c_uint32), ("head_dim", c_uint32),
                ("n_ff", c_uint32), ("n_ctx_train", c_uint32), ("rope_theta", c_float),
                ("rms_eps", c_float), ("n_params", c_uint64)]


class TowersInfo(Structure):
    _fields_ = [("present", c_int), ("d_in", c_uint32), ("d_out", c_uint32),
                ("d_model", c_uint32), ("n_layer", c_uint32), ("n_head", c_uint32),
                ("d_ff", c_uint32), ("max_positions", c_uint32), ("max_history", c_uint32),
                ("pre_norm", c_int)]


class CtxParams(Structure):
    _fields_ = [("max_text_len", c_size_t), ("allocator", Allocator), ("n_threads", c_int),
                ("batch_tokens", c_uint32), ("pooling", c_int), ("normalize", c_int),
                ("isa", c_char_p)]


class CatalogInfo(Structure):
    _fields_ = [("n_items", c_uint32), ("d_content", c_uint32), ("d_item", c_uint32),
                ("content_fingerprint", c_uint64), ("tower_fingerprint", c_uint64)]


class Hit(Structure):
    _fields_ = [("index", c_uint32), ("score", c_float)]


P = c_void_p  # handles and arrays are passed as addresses
PP = POINTER(c_void_p)
SZ = POINTER(c_size_t)
U32 = POINTER(c_uint32)
ERRBUF = POINTER(c_char)

# name: (restype, argtypes)
_FUNCTIONS = {
    "learn_status_str": (c_char_p, [c_int]),
    "learn_version": (c_char_p, []),
    "learn_isa_check": (c_int, [c_char_p, ERRBUF, c_size_t]),
    "learn_model_default_params": (ModelParams, []),
    "learn_model_open": (c_int, [c_char_p, POINTER(ModelParams), PP, ERRBUF, c_size_t]),
    "learn_model_open_memory": (c_int, [P, c_size_t, POINTER(ModelParams), PP, ERRBUF, c_size_t]),
    "learn_model_close": (None, [P]),
    "learn_model_get_info": (c_int, [P, POINTER(ModelInfo)]),
    "learn_model_meta_str": (c_int, [P, c_char_p, POINTER(c_void_p), SZ]),
    "learn_towers_get_info": (c_int, [P, POINTER(TowersInfo)]),
    "learn_writer_new": (c_int, [P, PP]),
    "learn_writer_free": (None, [P]),
    "learn_writer_save_memory": (c_int, [P, PP, SZ]),
    "learn_writer_free_buffer": (None, [P, P]),
    "learn_ctx_default_params": (CtxParams, []),
    "learn_ctx_new": (c_int, [P, POINTER(CtxParams), PP]),
    "learn_ctx_free": (None, [P]),
    "learn_ctx_errmsg": (c_char_p, [P]),
    "learn_ctx_n_threads": (c_int, [P]),
    "learn_ctx_isa": (c_char_p, [P]),
    "learn_encode": (c_int, [P, c_size_t, P, P, P]),
    "learn_item_embed": (c_int, [P, c_size_t, P, P]),
    "learn_user_embed": (c_int, [P, c_size_t, P, P]),
    "learn_user_state_new": (c_int, [P, c_uint32, PP]),
    "learn_user_state_append": (c_int, [P, P, P]),
    "learn_user_state_embedding": (c_int, [P, P]),
    "learn_user_state_len": (c_uint32, [P]),
    "learn_user_state_reset": (None, [P]),
    "learn_user_state_free": (None, [P]),
    "learn_catalog_open": (c_int, [c_char_p, POINTER(ModelParams), PP, ERRBUF, c_size_t]),
    "learn_catalog_close": (None, [P]),
    "learn_catalog_get_info": (c_int, [P, POINTER(CatalogInfo)]),
    "learn_catalog_check_model": (c_int, [P, P, POINTER(c_int), ERRBUF, c_size_t]),
    "learn_catalog_find": (c_int, [P, c_char_p, c_size_t, U32]),
    "learn_catalog_id": (c_int, [P, c_uint32, POINTER(c_void_p), SZ]),
    "learn_catalog_content": (c_int, [P, c_uint32, P]),
    "learn_catalog_items": (c_void_p, [P]),
    "learn_catalog_topk": (c_int, [P, P, P, c_uint32, P, c_size_t, P, SZ]),
    "learn_catalog_topk_batch": (c_int, [P, P, P, c_size_t, c_uint32, P, P, P, P]),
    "learn_catalog_builder_new": (c_int, [P, c_uint32, c_uint32, PP]),
    "learn_catalog_builder_new_like": (c_int, [P, PP]),
    "learn_catalog_builder_free": (None, [P]),
    "learn_catalog_builder_errmsg": (c_char_p, [P]),
    "learn_catalog_builder_count": (c_uint32, [P]),
    "learn_catalog_builder_add": (c_int, [P, c_char_p, c_size_t, P, P]),
    "learn_catalog_builder_save": (c_int, [P, c_char_p]),
}


def _candidates():
    """Where liblearn is looked for, in order: LEARN_LIBRARY; the build of the repository this
    package sits in (tools/python/learn -> build/); the dynamic loader's search for the SONAME
    (after ./build.sh install and ldconfig, or through LD_LIBRARY_PATH)."""
    soname = "liblearn.so.%d" % API_MAJOR
    env = os.environ.get("LEARN_LIBRARY")
    if env:
        return [env]
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.normpath(os.path.join(here, "..", "..", ".."))
    found = []
    built = os.path.join(repo, "build", soname)
    if os.path.isfile(os.path.join(repo, "learn.h")) and os.path.exists(built):
        found.append(built)
    found.append(soname)
    return found


def load():
    """Loads liblearn, declares its functions and checks its version. Raises ImportError with
    what to do when it cannot be found or is of another MAJOR version."""
    errors = []
    for path in _candidates():
        try:
            lib = ctypes.CDLL(path)
            break
        except OSError as e:
            errors.append("%s: %s" % (path, e))
    else:
        raise ImportError("learn: cannot load liblearn (%s). Build it (./build.sh), install it "
                          "(./build.sh install, then ldconfig), or set LEARN_LIBRARY to its path"
                          % "; ".join(errors))
    for name, (restype, argtypes) in _FUNCTIONS.items():
        try:
            f = getattr(lib, name)
        except AttributeError:
            raise ImportError("learn: %s has no %s (an older liblearn?)" % (path, name)) from None
        f.restype = restype
        f.argtypes = argtypes
    version = lib.learn_version().decode()
    try:
        major, minor = (int(x) for x in version.split(".")[:2])
    except ValueError:
        raise ImportError("learn: %s reports version %r" % (path, version)) from None
    if major != API_MAJOR or minor < API_MINOR:
        raise ImportError("learn: %s is version %s; this module needs %d.%d or a later %d.x"
                          % (path, version, API_MAJOR, API_MINOR, API_MAJOR))
    lib.path = path
    return lib
