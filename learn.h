/* learn.h - LLM knowledge for recommendation, on the CPU, from one model file.

   learn implements the LEARN method (Jia et al., "LEARN: Knowledge Adaptation from Large
   Language Model to Recommendation for Practical Industrial Application", AAAI 2025,
   arXiv 2405.03988): a frozen, quantized LLM turns item text into content embeddings, small
   twin-tower transformers align them with user behaviour, and users are scored against a
   catalog. Everything runs in-process on the CPU with pthreads and hand-written SIMD, from one
   flat, memory-mapped `.learn` model file. Dependencies: libc, libm, pthreads.

   ==== Quick start ===========================================================================

   Either compile `learn.c` as its own translation unit and include `learn.h` anywhere, or, in
   exactly ONE C file of your program:

       #define LEARN_IMPLEMENTATION
       #include "learn.h"          // learn.c must sit beside learn.h

   then include `learn.h` without the define everywhere else. Link with -lm -lpthread.
   Or install the library (`./build.sh install [PREFIX]`: this header, liblearn.so and
   liblearn.a, learn.pc, learn-cli) and build with
   `cc app.c $(pkg-config --cflags --libs learn)` (`-static ... --static` for liblearn.a).

       char err[LEARN_ERRMSG_SIZE];
       learn_model *model;
       learn_status st = learn_model_open("models/demo.learn", NULL, &model, err, sizeof err);
       if (st != LEARN_OK) { fprintf(stderr, "%s\n", err); return 1; }

       learn_model_info info;
       learn_model_get_info(model, &info);
       printf("%s: %u layers, d=%u\n", info.arch, info.n_layer, info.n_embd);

       learn_ctx *ctx;
       learn_ctx_params cp = learn_ctx_default_params();
       cp.n_threads = 2;
       st = learn_ctx_new(model, &cp, &ctx);
       ...
       learn_ctx_free(ctx);
       learn_model_close(model);

   ==== Configuration macros ===================================================================

   Define these where the implementation is compiled (when compiling learn.c, or before the
   `#define LEARN_IMPLEMENTATION` include); they do not change the public header.

     LEARN_NO_THREADS   build without pthreads: every context runs on the calling thread.
     LEARN_NO_STDIO     build without file I/O (no open/mmap/rename): models are opened from
                        memory only (`learn_model_open_memory`), the writer saves to memory only.
                        Formatting of error messages (vsnprintf) is still used.
     LEARN_NO_SIMD      build the scalar reference kernels only.
     LEARN_EMULATE_VNNI test builds only (./build.sh vnni): the avx512 and avxvnni levels are
                        compiled for AVX2 with their AVX-512 and VNNI instructions emulated
                        exactly, and offered wherever AVX2 is. Slower than avx2: never ship it.
     LEARN_EMULATE_AMX  test builds only (./build.sh amx; implies LEARN_EMULATE_VNNI): the amx
                        level too, its tile instructions run as portable C on a per-thread
                        tile state.

   ==== Limits =================================================================================

     LEARN_MAX_DIMS          4           dimensions of a tensor
     LEARN_MAX_NAME          255         bytes in a tensor name
     LEARN_MAX_KEY           255         bytes in a metadata key
     LEARN_MAX_TENSORS       1,048,576   tensors in a file
     LEARN_MAX_META          65,536      metadata entries in a file
     LEARN_MAX_LAYERS        512         LLM or tower layers
     File size: up to 2^63 bytes; on 32-bit hosts up to what the address space can map.

   ==== Thread-safety ==========================================================================

   A `learn_model` is immutable once opened and may be shared by any number of threads. A
   `learn_ctx` (scratch memory, thread pool, last error message) belongs to one thread at a
   time; give each thread its own. A `learn_writer`, a `learn_catalog_builder` and a
   `learn_lock` each belong to one thread at a time. The only process-wide state is a
   CPU-feature cache filled once (thread-safely) on first use; on a Linux x86-64 CPU with AMX,
   filling it asks the kernel once for the process's permission to use the tile registers
   (arch_prctl ARCH_REQ_XCOMP_PERM), which the amx level needs. Model files must never be
   modified in place while opened: replace them by rename (the writer does); the loader checks
   the size with fstat at open.

   Files shared by processes (a catalog that a feed job extends, another job re-embeds and a
   recommender reads all day) follow the contract of "Writing files" below: writers of one
   file exclude each other with an advisory lock, in other processes and in other threads of
   the same process alike; readers take no lock and see the old file or the new one, whole.

   ==== Writing files ============================================================================

   Every file the library writes (learn_writer_save, learn_catalog_builder_save and their
   _locked forms, learn_lock_temp + learn_lock_commit) is replaced atomically:

     1. The path is resolved: a symbolic link is followed (links to links too, up to 40) to
        the file T it names, which is the file replaced; the link itself is left as it is. T
        must be a regular file or not exist yet (it is then created, even through a dangling
        link). Its directory is where everything below happens.
     2. The writer takes an exclusive advisory lock (flock) on "T.lock", creating it. The lock
        belongs to the open file description, so the kernel releases it when the writer
        exits or is killed; a second writer waits for it up to a timeout (60 s unless the
        caller says otherwise, learn_lock_params), then fails with LEARN_ERR_BUSY and a
        message naming the holder's pid (which the holder writes into T.lock).
     3. Holding the lock, it removes the temporary files that dead writers of T left behind:
        every "T.tmp.PID.XXXXXX" (decimal pid, six letters or digits) in the directory. Only
        a lock holder creates these and it removes or renames its own before it lets go, so
        whoever holds the lock knows that any other one is a leftover.
     4. It writes "T.tmp.PID.XXXXXX" (O_EXCL), fsyncs it, renames it over T and fsyncs the
        directory. A new T gets mode 0666 less the umask; a rewrite keeps T's mode and, where
        the system permits (owner: root; group: a member of it), its owner and group (ACLs
        and extended attributes are not copied). Hard links to the old T keep the old file.
     5. It removes T.lock and releases the lock. A writer killed while holding it leaves T.lock
        (and perhaps a temporary file) behind; the next writer takes over both.

   A read-modify-write (append to a catalog, re-embed it, resume training) takes the lock
   with learn_lock_acquire before it reads and saves with the _locked functions, so that no
   other writer's update falls between its read and its rename. Readers need no lock. The
   lock is advisory: programs that write T without it are not excluded. On NFS, flock is
   emulated with byte-range locks (Linux 2.6.12 and later) and works across clients.

   ==== Errors =================================================================================

   Every function that can fail returns a `learn_status`: 0 (`LEARN_OK`) on success, a stable
   negative code otherwise. `learn_status_str()` names a code. Handles keep a message saying
   what exactly was wrong (the field, the value, the allowed range): `learn_ctx_errmsg()`,
   `learn_writer_errmsg()`; `learn_model_open*()` write theirs to a caller buffer. The library
   never aborts, exits or prints.

   ==== The .learn file format (version 1) ======================================================

   All integers little-endian. Offsets are absolute byte offsets from the start of the file.

     Header (64 bytes)
       0   u8[8]  magic "LEARNMDL"
       8   u32    format version (1)
       12  u32    header size (64)
       16  u64    file size, in bytes, trailer included
       24  u32    number of metadata entries  (<= LEARN_MAX_META)
       28  u32    number of tensors           (<= LEARN_MAX_TENSORS)
       32  u64    offset of the metadata section (= 64)
       40  u64    offset of the tensor directory (= end of the metadata section)
       48  u64    offset of the tensor data (= end of the directory rounded up to 64)
       56  u32    flags (0; any other value is refused)
       60  u32    alignment of tensor data (64)

     Metadata section: n_meta entries, back to back, keys unique, each:
       u32 key length (1..255), key bytes ([A-Za-z0-9_.-]), u32 value type, value:
         U32 (1) u32 | I32 (2) i32 | U64 (3) u64 | I64 (4) i64 | F32 (5) f32 | F64 (6) f64
         BOOL (7) u8 0/1
         STR (8)  u64 length, bytes, one NUL byte (not counted in the length)
         ARR (9)  u32 element type (any of the above but ARR), u64 count, the elements
                  encoded as above one after another

     Tensor directory: n_tensors entries, names unique, each:
       u32 name length (1..255), name bytes, one NUL byte, u32 type, u32 number of
       dimensions (1..4), u64 shape[n_dims] (row-major, the last dimension varies fastest,
       each >= 1), u64 offset, u64 size in bytes.
       Tensors are laid out in directory order: the first at the data offset, each next one at
       the end of the previous rounded up to 64; the size equals what the type and shape give.
       Padding bytes are zero.

     Trailer: u64 XXH64 (seed 0) of every byte before it. It starts right after the last
       tensor's data (at the data offset when there are no tensors) and ends the file.

     Tensor types (ggml block layouts for the quantized ones; blocks run along the last
     dimension, which must be a multiple of 32):
       F32 (0), F16 (1), BF16 (2),
       Q8_0 (3): blocks of 32 weights: f16 scale d, int8 q[32];               x = d * q
       Q4_0 (4): blocks of 32 weights: f16 scale d, u8 qs[16]; element j < 16 is the low nibble
                 of qs[j], element j + 16 its high nibble;                    x = d * (q - 8)
       I8 (5), I32 (6), U8 (7): raw data (tokenizer tables and the like).

     Well-known metadata and tensors are listed with the functions that use them: the LLM
     (section "LLM"), the tokenizer (section "Tokenizer"), the towers (section "Towers").
     `general.fingerprint.content` and `general.fingerprint.towers` (U64) are written by the
     writer: XXH64 digests of everything that determines content embeddings (LLM, tokenizer,
     encoder settings) and item/user embeddings (towers). A catalog records them.

     Towers (section "Towers" of learn.c; present when `tower.d_in` is). Metadata, U32 unless
     noted:
       tower.d_in, tower.d_model, tower.n_layer (0..512), tower.n_head (divides d_model),
       tower.d_ff, tower.d_out
       tower.eps            F32  LayerNorm epsilon in (0, 1), default 1e-12
       tower.act            STR  "gelu" (erf, default) | "gelu_tanh" | "relu"
       tower.norm           STR  "post" (default, BERT) | "pre"
       tower.max_positions       learned positions, default 0 (none)
       tower.max_history         the user tower reads the most recent max_history items
                                 (default max_positions; 0: all)
     Tensors ([out, in] matrices of any weight type; vectors F32):
       tower.adaptor.weight [d_model, d_in], tower.adaptor.bias [d_model]
       tower.pos_embd.weight F32 [max_positions, d_model]      (max_positions > 0 only)
       tower.blk.N.{attn_q,attn_k,attn_v,attn_output}.weight [d_model, d_model], .bias [d_model]
       tower.blk.N.attn_norm.{weight,bias} [d_model]  (LayerNorm of the attention sublayer)
       tower.blk.N.ffn_up.weight [d_ff, d_model], .bias [d_ff]
       tower.blk.N.ffn_down.weight [d_model, d_ff], .bias [d_model]
       tower.blk.N.ffn_norm.{weight,bias} [d_model]   (LayerNorm of the feed-forward sublayer)
       tower.out_norm.{weight,bias} [d_model]          (pre-LN only: the final LayerNorm)
       tower.proj.weight [d_out, d_model], tower.proj.bias [d_out]
       tower.input_mean, tower.input_scale F32 [d_in]  (optional, together: the towers read
                                        (content - mean) * scale, per dimension)
     tower.d_in must equal llm.embedding_length when the file has an LLM. Other tower.*
     tensors are refused. Without towers, item/user embeddings are the (mean of the)
     L2-normalised content embeddings.

   ---- Tokenizer (keys and tensors "tokenizer.*") ----

   A file has a tokenizer when it has the key tokenizer.model; the loader then validates all of
   the following at open (the first problem is reported naming the key, tensor or entry) and
   builds its lookup tables once. Texts, scores, types and merges are used in place.

     Metadata
       tokenizer.model          STR   "spm": SentencePiece BPE (pieces with scores, U+2581 for
                                      spaces, byte fallback <0xNN>); "bpe": byte-level BPE (the
                                      GPT-2 byte-to-unicode map, merge ranks). Others are
                                      refused (LEARN_ERR_UNSUPPORTED).
       tokenizer.pre            STR   bpe, required: the pre-tokenizer, by llama.cpp's
                                      tokenizer.ggml.pre names: "gpt-2" (also mpt, olmo, phi-2,
                                      roberta-bpe, jais, gigachat, jina-*), "llama-bpe" (also
                                      llama3, llama-v3, falcon3, dbrx, smaug-bpe, chatglm-bpe),
                                      "qwen2" (also deepseek-r1-qwen, stablelm2, megrez),
                                      "falcon", "starcoder" (also refact, command-r, smollm,
                                      codeshell, exaone, minerva-7b), "deepseek-llm",
                                      "deepseek-coder", "default". Others are refused.
       tokenizer.normalizer     STR   optional: "none" (default) or "nfc" (Unicode NFC of each
                                      text fragment before pre-tokenization; Qwen2/3).
       tokenizer.bos_id         I32   optional, -1 (default) for none; else 0 <= id < n_vocab.
       tokenizer.eos_id         I32   the same.
       tokenizer.unk_id         I32   the same: emitted for bytes no token covers.
       tokenizer.pad_id         I32   the same (informational).
       tokenizer.add_bos        BOOL  optional, default 0: LEARN_TOKENIZE_ADD_SPECIAL adds BOS
                                      (then bos_id must be set).
       tokenizer.add_eos        BOOL  the same for EOS.
       tokenizer.add_space_prefix BOOL spm only (1 by default): a space before the text and
                                      after each special token (SentencePiece's dummy prefix).
       tokenizer.remove_extra_whitespaces BOOL spm only (0 by default): SentencePiece's
                                      normalizer option: drop leading and trailing spaces,
                                      collapse runs of spaces into one.
       tokenizer.ignore_merges  BOOL  bpe only (0 by default): a pre-tokenized word that is a
                                      token as a whole is taken as it is (Llama 3).

     Tensors (n_vocab = the length of tokenizer.offsets - 1, 1..2^24)
       tokenizer.text    U8  (n_bytes)         the token texts back to back, as the vocabulary
                                               writes them: spm pieces with U+2581 for spaces,
                                               bpe texts in the byte map, added tokens raw.
                                               Texts are unique.
       tokenizer.offsets I32 (n_vocab + 1)     token i is text[offsets[i] .. offsets[i+1]);
                                               offsets[0] = 0, every token 1..4096 bytes (no
                                               empty token), offsets[n_vocab] = n_bytes.
       tokenizer.scores  F32 (n_vocab)         spm, required: merge priority (higher merges
                                               first); no NaN. bpe: optional, unused.
       tokenizer.types   U8  (n_vocab)         optional (all normal when absent): bits 0-3 the
                                               type, numbered as in GGUF: 0 undefined, 1 normal,
                                               2 unknown, 3 control, 4 user-defined, 5 unused,
                                               6 byte (its text must be <0xNN>); bit 4 lstrip,
                                               bit 5 rstrip (white space before/after a special
                                               token found in the text is dropped); other bits 0.
                                               Unknown, control and user-defined tokens are the
                                               special tokens: user-defined ones are always cut
                                               out of text, the others only with
                                               LEARN_TOKENIZE_PARSE_SPECIAL.
       tokenizer.merges  I32 (n_merges, 2)     bpe, required: merge of rank r joins the tokens
                                               merges[r][0] and merges[r][1] (ids in range) into
                                               the token whose text is their concatenation (it
                                               must exist). A repeated pair keeps its first rank.

     The LLM's metadata and tensors (llm.*, token_embd.weight, blk.N.*) and the encoder
     settings (encoder.*) are listed in learn.c's "LLM configuration" banner; catalogs (the
     same container with catalog.* entries) in its "Catalog & top-K" banner.

   ==== Contents (the banners of learn.c) =======================================================

     Platform & allocation      allocator callbacks, checked arithmetic, fp16/bf16, XXH64
     Errors                     status strings, messages
     File format                reader (validation), metadata and tensor access, quantizers
     Writer                     building .learn files, fingerprints, locks, atomic saves
     Tokenizer                  Unicode tables, NFC, special tokens, SentencePiece BPE,
                                byte-level BPE and pre-tokenizers, detokenization
     LLM configuration          hyper-parameters and required tensors of each architecture
     LLM forward                batched prefill, per-item attention, pooling
     Towers                     tower schema, item and user towers, incremental user state
     Catalog & top-K            catalog files, lookups, deterministic top-K
     Public API                 tokenizer calls, contexts

   ==== License ================================================================================
   MIT. See the end of this file.
*/
#ifndef LEARN_H
#define LEARN_H

/* The implementation needs POSIX (mmap, fsync, pthreads). When it is compiled through this
   header, include learn.h before any system header, or define _POSIX_C_SOURCE yourself. */
#if defined(LEARN_IMPLEMENTATION) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Everything declared from here to the end of the header is the exported API: the shared
   library is compiled with -fvisibility=hidden, so nothing else leaves it. */
#if defined(__GNUC__)
#pragma GCC visibility push(default)
#endif

/* The version follows the API and ABI. MAJOR changes when a program built against an earlier
   version may no longer build or run with this one: a function removed or its parameters
   changed, a public struct's layout or an enum's value changed, a documented behaviour
   dropped. MINOR changes when something is added and nothing that exists changes (functions,
   status codes at the end, new accepted values such as an isa name), so programs built
   against the previous MINOR keep working; PATCH for fixes. The shared library is
   liblearn.so.MAJOR.MINOR with SONAME liblearn.so.MAJOR: programs linked against it pick up
   later MINOR and PATCH releases and refuse another MAJOR. It exports the functions declared
   in this header and nothing else. */
#define LEARN_VERSION_MAJOR 0
#define LEARN_VERSION_MINOR 1
#define LEARN_VERSION_PATCH 0
#define LEARN_VERSION_STRING "0.1.0"

/* The file format version this build reads and writes. */
#define LEARN_FORMAT_VERSION 1

#define LEARN_MAX_DIMS 4
#define LEARN_MAX_NAME 255
#define LEARN_MAX_KEY 255
#define LEARN_MAX_TENSORS (1u << 20)
#define LEARN_MAX_META (1u << 16)
#define LEARN_MAX_LAYERS 512
#define LEARN_ALIGNMENT 64
/* Suggested size of a buffer for error messages. */
#define LEARN_ERRMSG_SIZE 256

/* ---- Status codes. Stable: new codes are only ever added at the end. ---- */
typedef enum learn_status {
    LEARN_OK = 0,
    LEARN_ERR_ARG = -1,          /* invalid argument (NULL where not allowed, out of range) */
    LEARN_ERR_NOMEM = -2,        /* an allocation failed */
    LEARN_ERR_IO = -3,           /* open/read/write/fsync/rename failed */
    LEARN_ERR_FORMAT = -4,       /* malformed file or data */
    LEARN_ERR_VERSION = -5,      /* format version not supported */
    LEARN_ERR_CHECKSUM = -6,     /* checksum mismatch */
    LEARN_ERR_UNSUPPORTED = -7,  /* valid, but not supported by this build */
    LEARN_ERR_TOO_LONG = -8,     /* input longer than the configured maximum */
    LEARN_ERR_BUFFER = -9,       /* output buffer too small; the size needed is reported */
    LEARN_ERR_NOT_FOUND = -10,   /* no such key, tensor or item */
    LEARN_ERR_MISMATCH = -11,    /* two inputs do not belong together (model vs catalog) */
    LEARN_ERR_NUMERIC = -12,     /* NaN, Inf or zero scale where a number is required */
    LEARN_ERR_STATE = -13,       /* call not valid in the object's current state */
    LEARN_ERR_BUSY = -14         /* another writer holds the file's lock (the wait timed out) */
} learn_status;

/* Name and one-line description of a status code ("LEARN_ERR_FORMAT: malformed file or
   data"). Never NULL; unknown codes give "unknown status". */
const char *learn_status_str(learn_status status);

/* The runtime's version string, LEARN_VERSION_STRING of the build. */
const char *learn_version(void);

/* ---- Allocation ----
   Every handle allocates through the callbacks it was created with. A zeroed struct (or NULL
   where a pointer is taken) means libc's malloc/realloc/free. `realloc` may be NULL, in
   which case alloc+copy+free is used. `free` is given the pointer only. */
typedef struct learn_allocator {
    void *user;
    void *(*alloc)(void *user, size_t size);
    void *(*realloc)(void *user, void *ptr, size_t size);
    void (*free)(void *user, void *ptr);
} learn_allocator;

/* ---- Tensor and metadata types (values are the ids stored in the file) ---- */
typedef enum learn_type {
    LEARN_TYPE_F32 = 0,
    LEARN_TYPE_F16 = 1,
    LEARN_TYPE_BF16 = 2,
    LEARN_TYPE_Q8_0 = 3,
    LEARN_TYPE_Q4_0 = 4,
    LEARN_TYPE_I8 = 5,
    LEARN_TYPE_I32 = 6,
    LEARN_TYPE_U8 = 7,
    LEARN_TYPE_COUNT
} learn_type;

/* "f32", "q8_0", ...; NULL for an unknown id. */
const char *learn_type_name(learn_type type);
/* Elements per block (32 for Q8_0/Q4_0, else 1); 0 for unknown ids. */
uint32_t learn_type_block_elems(learn_type type);
/* Bytes of a row of n elements: n must be a multiple of the block size. Returns 0 on a bad
   type, a bad n, or overflow. */
uint64_t learn_type_row_bytes(learn_type type, uint64_t n);

/* Converts n floats to a weight type's layout (F32, F16, BF16, Q8_0, Q4_0; n a multiple of
   the block size), with ggml's reference rounding for Q8_0/Q4_0; dst holds
   learn_type_row_bytes(type, n) bytes. learn_dequantize goes back to floats. */
learn_status learn_quantize(learn_type type, const float *src, void *dst, size_t n);
learn_status learn_dequantize(learn_type type, const void *src, float *dst, size_t n);

typedef enum learn_meta_type {
    LEARN_META_TYPE_U32 = 1,
    LEARN_META_TYPE_I32 = 2,
    LEARN_META_TYPE_U64 = 3,
    LEARN_META_TYPE_I64 = 4,
    LEARN_META_TYPE_F32 = 5,
    LEARN_META_TYPE_F64 = 6,
    LEARN_META_TYPE_BOOL = 7,
    LEARN_META_TYPE_STR = 8,
    LEARN_META_TYPE_ARR = 9
} learn_meta_type;

/* "u32", "str", ...; NULL for an unknown id. */
const char *learn_meta_type_name(learn_meta_type type);

/* ---- Half precision ----
   Exact conversions: every half converts exactly to float; float to half rounds to nearest
   even, keeps NaN a NaN (quiet, sign and top payload bits kept), overflows to +-Inf above
   the largest half, and produces subnormals. The same for bfloat16. */
float learn_f16_to_f32(uint16_t h);
uint16_t learn_f32_to_f16(float f);
float learn_bf16_to_f32(uint16_t h);
uint16_t learn_f32_to_bf16(float f);

/* XXH64 of a buffer (the file checksum). */
uint64_t learn_xxh64(const void *data, size_t size, uint64_t seed);

/* Scales x[0..n) to unit L2 norm, as the library normalises every embedding it returns (a
   zero vector stays zero). LEARN_ERR_NUMERIC when an element is NaN or Inf (x is then left as
   it is), LEARN_ERR_ARG when x is NULL and n > 0. */
learn_status learn_l2_normalize(float *x, size_t n);

/* ==== Models ==================================================================== */

typedef struct learn_model learn_model;

typedef struct learn_model_params {
    learn_allocator allocator; /* zeroed: libc */
    int verify_checksum;       /* default 1: hash the whole file at open (about 10 GB/s) */
    int use_mmap;              /* default 1: map the file; 0 reads it into memory */
} learn_model_params;

learn_model_params learn_model_default_params(void);

/* Opens a model file. The file is memory-mapped and every structure is validated before any
   tensor is used (see the format above and the architecture checks of the LLM section).
   On success *model receives the handle; on failure *model is NULL, and when errbuf is not
   NULL a one-line message naming the offending field is written to it (truncated to
   errbuf_size). params may be NULL for the defaults. Not available with LEARN_NO_STDIO. */
learn_status learn_model_open(const char *path, const learn_model_params *params,
                              learn_model **model, char *errbuf, size_t errbuf_size);

/* Opens a model from bytes already in memory (for example in flash). The bytes are used in
   place and must stay valid and unchanged until learn_model_close(); nothing is copied. The
   buffer must be aligned to 64 bytes (tensors are used in place); otherwise the status is
   LEARN_ERR_ARG. Otherwise as learn_model_open(). */
learn_status learn_model_open_memory(const void *data, size_t size,
                                     const learn_model_params *params, learn_model **model,
                                     char *errbuf, size_t errbuf_size);

/* Closes a model. NULL is allowed. Contexts made from it must be freed first. */
void learn_model_close(learn_model *model);

typedef struct learn_model_info {
    uint32_t format_version;
    uint64_t file_size;
    uint32_t n_meta;
    uint32_t n_tensors;
    uint64_t content_fingerprint; /* 0 when absent */
    uint64_t tower_fingerprint;   /* 0 when absent */
    const char *name;             /* general.name, or "" */
    /* LLM (the content encoder). arch is "" when the file holds no LLM. */
    const char *arch;             /* "llama", "qwen2", "qwen3" */
    uint32_t n_vocab;
    uint32_t n_embd;
    uint32_t n_layer;
    uint32_t n_head;
    uint32_t n_head_kv;
    uint32_t head_dim;
    uint32_t n_ff;
    uint32_t n_ctx_train;
    float rope_theta;
    float rms_eps;
    uint64_t n_params;            /* elements in all tensors */
} learn_model_info;

learn_status learn_model_get_info(const learn_model *model, learn_model_info *info);

typedef struct learn_tensor_info {
    const char *name;             /* NUL-terminated, in place in the file */
    learn_type type;
    uint32_t n_dims;
    uint64_t shape[LEARN_MAX_DIMS]; /* unused dimensions are 1 */
    uint64_t n_elements;
    uint64_t offset;              /* absolute offset in the file */
    uint64_t size;                /* bytes */
    const void *data;             /* in place; valid until the model is closed */
} learn_tensor_info;

/* Tensor i (0 <= i < n_tensors) in directory order. */
learn_status learn_model_tensor(const learn_model *model, uint32_t i, learn_tensor_info *info);
/* Tensor by name; LEARN_ERR_NOT_FOUND when absent. */
learn_status learn_model_tensor_find(const learn_model *model, const char *name,
                                     learn_tensor_info *info);

typedef struct learn_meta_info {
    const char *key;              /* NUL-terminated */
    learn_meta_type type;
    learn_meta_type elem_type;    /* for arrays */
    uint64_t count;               /* array length; 1 for scalars; string length for STR */
} learn_meta_info;

/* Metadata entry i (0 <= i < n_meta) in file order. */
learn_status learn_model_meta(const learn_model *model, uint32_t i, learn_meta_info *info);
/* Index of a key; LEARN_ERR_NOT_FOUND when absent. */
learn_status learn_model_meta_find(const learn_model *model, const char *key, uint32_t *index);

/* Typed getters. LEARN_ERR_NOT_FOUND when the key is absent, LEARN_ERR_FORMAT when it has
   another type. Integers convert between widths and signedness only when the value fits;
   f32 also reads an f64 and f64 an f32. Strings are NUL-terminated in place; *len (may be
   NULL) receives the length. */
learn_status learn_model_meta_u32(const learn_model *model, const char *key, uint32_t *v);
learn_status learn_model_meta_u64(const learn_model *model, const char *key, uint64_t *v);
learn_status learn_model_meta_i64(const learn_model *model, const char *key, int64_t *v);
learn_status learn_model_meta_f32(const learn_model *model, const char *key, float *v);
learn_status learn_model_meta_f64(const learn_model *model, const char *key, double *v);
learn_status learn_model_meta_bool(const learn_model *model, const char *key, int *v);
learn_status learn_model_meta_str(const learn_model *model, const char *key, const char **s,
                                  size_t *len);
/* Element i of an array entry, converted as by the scalar getters; for arrays of strings,
   learn_model_meta_arr_str (walks the array: O(i)). */
learn_status learn_model_meta_arr_f64(const learn_model *model, const char *key, uint64_t i,
                                      double *v);
learn_status learn_model_meta_arr_i64(const learn_model *model, const char *key, uint64_t i,
                                      int64_t *v);
learn_status learn_model_meta_arr_str(const learn_model *model, const char *key, uint64_t i,
                                      const char **s, size_t *len);

/* A full scan of every tensor for NaN/Inf values and zero, NaN or Inf block scales. On the
   first problem returns LEARN_ERR_NUMERIC and writes "tensor NAME: block B: ..." to errbuf.
   n_checked (may be NULL) receives the number of elements scanned. */
learn_status learn_model_scan(const learn_model *model, uint64_t *n_checked, char *errbuf,
                              size_t errbuf_size);

/* ==== Writer ======================================================================
   Builds a .learn file: set metadata, add tensors, then save. Tools (converters, trainer)
   write through it. Setting a key that is already set replaces its value. */

typedef struct learn_writer learn_writer;

/* ---- Locks on files that are rewritten (see "Writing files" at the top) ----
   Not with LEARN_NO_STDIO. */
typedef struct learn_lock learn_lock;

typedef struct learn_lock_params {
    double timeout;            /* seconds to wait for another holder: default 60; 0 tries once;
                                  INFINITY waits for as long as it takes */
    learn_allocator allocator; /* zeroed: libc */
} learn_lock_params;

/* timeout 60, allocator zeroed. */
learn_lock_params learn_lock_default_params(void);

/* Takes the lock for writing `path` (a symlink is resolved first, see above), waiting up to
   params->timeout, then removes dead writers' temporary files. On success *lock holds it
   until learn_lock_release. Errors: LEARN_ERR_BUSY (timed out: the message names the
   holder's pid, "unknown" when its lock file holds none), LEARN_ERR_IO (the lock file cannot
   be created or locked, the path is not a regular file, a link loop), LEARN_ERR_ARG,
   LEARN_ERR_NOMEM; then *lock is NULL and nothing was written or removed (except that a lock
   file that could not be locked at all, LEARN_ERR_IO, may stay). errbuf may be NULL. While a
   thread holds a path's lock, its saves of that path must be the _locked ones: the plain
   learn_writer_save waits for the lock like any other writer. Example, an update that loses
   no other writer's:

       learn_lock *lk;
       if (learn_lock_acquire("cat.learn", NULL, &lk, err, sizeof err)) fail(err);
       ... learn_catalog_open("cat.learn") ... add to a builder ... close it ...
       if (learn_catalog_builder_save_locked(b, lk)) fail(learn_catalog_builder_errmsg(b));
       learn_lock_release(lk);
   */
learn_status learn_lock_acquire(const char *path, const learn_lock_params *params,
                                learn_lock **lock, char *errbuf, size_t errbuf_size);

typedef struct learn_lock_info {
    const char *path;       /* the file being written: the path given, symlinks resolved */
    const char *lock_path;  /* its lock file, path + ".lock" */
    uint32_t n_removed;     /* dead writers' temporary files removed when the lock was taken */
    uint64_t bytes_removed; /* their size */
} learn_lock_info;

learn_status learn_lock_get_info(const learn_lock *lock, learn_lock_info *info);
/* The last error of learn_lock_temp / learn_lock_commit ("" when none). */
const char *learn_lock_errmsg(const learn_lock *lock);

/* Writing any file under a lock: learn_lock_temp creates the temporary file (mode as in
   "Writing files") and gives its descriptor, open for writing; write the contents, then
   learn_lock_commit fsyncs and closes it, renames it over the locked path and fsyncs the
   directory; learn_lock_discard closes and removes it instead. The descriptor belongs to the
   lock: do not close it. One temporary file at a time (LEARN_ERR_STATE otherwise). A failed
   commit removes the temporary file and leaves the old file as it was, except when only the
   directory's fsync failed (LEARN_ERR_IO, "written, but ..."). The lock stays held. */
learn_status learn_lock_temp(learn_lock *lock, int *fd);
learn_status learn_lock_commit(learn_lock *lock);
void learn_lock_discard(learn_lock *lock);

/* Discards an uncommitted temporary file, removes the lock file and releases the lock. NULL
   is allowed. */
void learn_lock_release(learn_lock *lock);

/* allocator may be NULL (libc). */
learn_status learn_writer_new(const learn_allocator *allocator, learn_writer **writer);
void learn_writer_free(learn_writer *writer);
/* The last error message of this writer ("" when none). */
const char *learn_writer_errmsg(const learn_writer *writer);

learn_status learn_writer_set_u32(learn_writer *w, const char *key, uint32_t v);
learn_status learn_writer_set_i32(learn_writer *w, const char *key, int32_t v);
learn_status learn_writer_set_u64(learn_writer *w, const char *key, uint64_t v);
learn_status learn_writer_set_i64(learn_writer *w, const char *key, int64_t v);
learn_status learn_writer_set_f32(learn_writer *w, const char *key, float v);
learn_status learn_writer_set_f64(learn_writer *w, const char *key, double v);
learn_status learn_writer_set_bool(learn_writer *w, const char *key, int v);
/* len: bytes of s (the string may hold any bytes); use strlen for C strings. */
learn_status learn_writer_set_str(learn_writer *w, const char *key, const char *s, size_t len);
/* An array of n numbers of a scalar type (U32..BOOL; BOOL elements are bytes 0/1), read from
   `values` in that type's C representation. */
learn_status learn_writer_set_array(learn_writer *w, const char *key, learn_meta_type elem,
                                    const void *values, uint64_t n);
/* An array of n NUL-terminated strings. */
learn_status learn_writer_set_str_array(learn_writer *w, const char *key,
                                        const char *const *strings, uint64_t n);
/* Copies metadata entry `key` of an open model (any type). */
learn_status learn_writer_copy_meta(learn_writer *w, const learn_model *model, const char *key);
/* Removes a key if set (no error when absent). */
learn_status learn_writer_remove_meta(learn_writer *w, const char *key);
/* Reads back an unsigned integer entry (U32 or U64) set on the writer; LEARN_ERR_NOT_FOUND
   when absent, LEARN_ERR_FORMAT for another type. */
learn_status learn_writer_get_u64(const learn_writer *w, const char *key, uint64_t *v);

#define LEARN_WRITER_COPY 1u  /* copy the tensor data now (default: borrow the pointer) */

/* Adds a tensor. shape: n_dims (1..4) sizes, the last varying fastest. data holds exactly
   learn_type_row_bytes(type, shape[n_dims-1]) * (product of the other dims) bytes. Without
   LEARN_WRITER_COPY the data is only borrowed: it must stay valid until the writer is freed. */
learn_status learn_writer_add_tensor(learn_writer *w, const char *name, learn_type type,
                                     uint32_t n_dims, const uint64_t *shape, const void *data,
                                     uint32_t flags);
/* Removes a tensor if present (no error when absent). */
learn_status learn_writer_remove_tensor(learn_writer *w, const char *name);
/* Number of tensors added so far. */
uint32_t learn_writer_n_tensors(const learn_writer *w);

/* Writes the file atomically, as "Writing files" at the top says: takes `path`'s lock
   (waiting up to 60 s for another writer: LEARN_ERR_BUSY naming its pid after that), writes a
   temporary file in the same directory, fsyncs it, renames it over `path` (the file a symlink
   names), fsyncs the directory and releases the lock. On any failure the temporary file is
   removed and a file already at `path` is left untouched, except when only the last step,
   the directory's fsync, fails: the new file is then in place (LEARN_ERR_IO, "written, but
   ..."), but may not survive a power loss. A process killed at any moment leaves the old
   file or the new one, and at worst a `path.tmp.PID.XXXXXX` and `path.lock` that the next
   writer of `path` removes. Not with LEARN_NO_STDIO. */
learn_status learn_writer_save(learn_writer *w, const char *path);
/* The same under a lock the caller holds (learn_lock_acquire; the path is the lock's, the
   I/O its params'), which stays held: for read-modify-write, and for several saves in a
   row (a trainer's best epoch so far). */
learn_status learn_writer_save_locked(learn_writer *w, learn_lock *lock);
/* Writes the file to memory allocated with the writer's allocator, aligned to 64 bytes
   (suitable for learn_model_open_memory). Free it with learn_writer_free_buffer. */
learn_status learn_writer_save_memory(learn_writer *w, void **data, size_t *size);
void learn_writer_free_buffer(learn_writer *w, void *data);

/* ==== Contexts ===================================================================== */

typedef struct learn_ctx learn_ctx;

/* How per-token states become one content embedding per item. */
typedef enum learn_pooling {
    LEARN_POOLING_MODEL = 0, /* what the model file says (encoder.pooling; mean by default) */
    LEARN_POOLING_MEAN = 1,  /* mean over the item's tokens (LEARN's choice) */
    LEARN_POOLING_LAST = 2,  /* the last token (decoder embedding models, e.g. Qwen3-Embedding) */
    LEARN_POOLING_NONE = 3   /* no pooling: per-token states (learn_encode_ids_tokens) */
} learn_pooling;

typedef struct learn_ctx_params {
    size_t max_text_len;       /* longest text learn_tokenize() takes; 0: LEARN_DEFAULT_MAX_TEXT */
    learn_allocator allocator; /* zeroed: the model's allocator */
    int n_threads;             /* worker threads incl. the caller; 0: the number of CPUs */
    uint32_t batch_tokens;     /* tokens per forward pass (several items); 0: 512. Raised to the
                                  model's encoder.max_tokens when smaller. */
    learn_pooling pooling;     /* default LEARN_POOLING_MODEL */
    int normalize;             /* L2-normalise pooled embeddings: 1, 0, or -1 for the model's
                                  setting (encoder.normalize, on by default); default -1 */
    const char *isa;           /* kernels: NULL or "auto" (the LEARN_ISA environment variable if
                                  set, else the best this CPU runs), or "scalar", "avx2",
                                  "avxvnni", "avx512", "amx", "neon", "neon_dotprod". A level
                                  the CPU, the OS or the build lacks makes learn_ctx_new fail
                                  with LEARN_ERR_UNSUPPORTED (learn_isa_check says why). The
                                  Q8_0 / Q4_0 products of scalar, avx512 and amx are equal bit
                                  for bit; the other levels agree with them to rounding. */
} learn_ctx_params;

learn_ctx_params learn_ctx_default_params(void);

/* Creates a context bound to a model (the model must outlive it). params may be NULL. */
learn_status learn_ctx_new(const learn_model *model, const learn_ctx_params *params,
                           learn_ctx **ctx);
/* NULL is allowed. */
void learn_ctx_free(learn_ctx *ctx);
/* The message of the last failed call on this context ("" when none). */
const char *learn_ctx_errmsg(const learn_ctx *ctx);
/* Threads the context uses (after resolving 0). */
int learn_ctx_n_threads(const learn_ctx *ctx);
/* The model the context was made for. */
const learn_model *learn_ctx_model(const learn_ctx *ctx);
/* The kernels' instruction set the context runs ("scalar", "avx2", ...). */
const char *learn_ctx_isa(const learn_ctx *ctx);
/* Whether an instruction-set request (as learn_ctx_params.isa, NULL for automatic) can run
   here: LEARN_OK with the level chosen in errbuf, or the status learn_ctx_new would return
   with the reason ("LEARN_ISA=avx512: this CPU lacks it; supported here: scalar, avx2"). */
learn_status learn_isa_check(const char *isa, char *errbuf, size_t errbuf_size);

/* ==== Tokenizer =====================================================================
   Text to token ids and back with the tokenizer stored in the model file (keys and tensors
   "tokenizer.*", see the format spec). A model without them has no tokenizer: these functions
   then return LEARN_ERR_NOT_FOUND.

   Which tokens are "special": control tokens (BOS, EOS, <|im_start|>, ...) and unknown-type
   tokens are never recognised in text unless LEARN_TOKENIZE_PARSE_SPECIAL is given: by default
   "<|im_start|>" in an item's text is just text. User-defined tokens (added tokens that are
   not special, such as MPT's runs of spaces) belong to the vocabulary's normal segmentation
   and are always recognised, as llama.cpp and Hugging Face tokenizers do. */

/* learn_tokenize() flags. */
#define LEARN_TOKENIZE_ADD_SPECIAL 1u   /* add BOS/EOS where the model says so (add_bos/add_eos) */
#define LEARN_TOKENIZE_PARSE_SPECIAL 2u /* recognise control tokens written in the text */

/* Suggested default of the longest text learn_tokenize() accepts (learn_ctx_params.max_text_len):
   item texts are short; a context can raise it. */
#define LEARN_DEFAULT_MAX_TEXT (1u << 20)

/* Token types, numbered as in GGUF and llama.cpp. */
typedef enum learn_token_kind {
    LEARN_TOKEN_KIND_UNDEFINED = 0,
    LEARN_TOKEN_KIND_NORMAL = 1,
    LEARN_TOKEN_KIND_UNKNOWN = 2,
    LEARN_TOKEN_KIND_CONTROL = 3,      /* BOS, EOS, <|im_start|>, ... */
    LEARN_TOKEN_KIND_USER_DEFINED = 4, /* added tokens that are not special */
    LEARN_TOKEN_KIND_UNUSED = 5,
    LEARN_TOKEN_KIND_BYTE = 6          /* spm byte fallback <0xNN> */
} learn_token_kind;

typedef struct learn_tokenizer_info {
    const char *model;        /* "spm" or "bpe" (in place in the file) */
    const char *pre;          /* bpe pre-tokenizer ("llama-bpe", "qwen2", ...), "" for spm */
    uint32_t n_vocab;
    uint32_t n_merges;        /* bpe */
    int32_t bos, eos, unk, pad; /* -1 when the model has none */
    int add_bos, add_eos;     /* added by LEARN_TOKENIZE_ADD_SPECIAL */
    int add_space_prefix;     /* spm dummy prefix */
    int nfc;                  /* text is NFC-normalized first */
} learn_tokenizer_info;

/* Describes the model's tokenizer. LEARN_ERR_NOT_FOUND (info zeroed, ids -1) when the model has
   none. */
learn_status learn_tokenizer_get_info(const learn_model *model, learn_tokenizer_info *info);

/* Tokenizes len bytes of text (any bytes: ill-formed UTF-8 and NUL bytes are handled, see
   below; no NUL terminator is needed) into at most cap ids.

   On LEARN_OK, *n_ids is the number of ids written. When they do not fit, the status is
   LEARN_ERR_BUFFER, *n_ids is the number needed, and ids[0..cap) holds the first cap of them:
   nothing is written past ids[cap - 1]. Call with cap = 0 (ids may then be NULL) to size a
   buffer. A text longer than the context's maximum (learn_ctx_params.max_text_len) gives
   LEARN_ERR_TOO_LONG. Empty text gives no ids (only BOS/EOS with ADD_SPECIAL when the model
   adds them).

   flags: LEARN_TOKENIZE_ADD_SPECIAL adds BOS (and EOS) as the model's add_bos/add_eos say;
   LEARN_TOKENIZE_PARSE_SPECIAL recognises control tokens written in the text.

   The ids are those of llama.cpp's llama_tokenize() on the same vocabulary (its test vectors
   pass), except on ill-formed UTF-8, which decodes strictly here: for bpe, every byte that does
   not start a well-formed sequence (RFC 3629: no overlong forms, surrogates or values above
   U+10FFFF) becomes U+FFFD (llama.cpp decodes overlong forms and surrogates); spm falls back
   to byte tokens <0xNN> as llama.cpp does. A byte no token can express is dropped (bpe, as
   llama.cpp) or becomes the unknown token (spm without byte tokens). Vocabularies with
   tokenizer.normalizer "nfc" (Qwen2/3) normalize each text fragment to NFC first, as Hugging
   Face does (llama.cpp does not; the ids differ only for text that is not in NFC).

   Scratch memory comes from the context's allocator: a few bytes per byte of text (up to ~40
   for a single word of megabytes). Uses the context's error message. Example:
       size_t n;
       learn_status st = learn_tokenize(ctx, text, strlen(text), 0, NULL, 0, &n);
       if (st == LEARN_ERR_BUFFER) { ids = malloc(n * sizeof *ids); ... call again ... } */
learn_status learn_tokenize(learn_ctx *ctx, const char *text, size_t len, uint32_t flags,
                            int32_t *ids, size_t cap, size_t *n_ids);

/* Turns n ids back into text: out receives *len bytes and a terminating NUL. When they do not
   fit (cap < *len + 1) the status is LEARN_ERR_BUFFER, *len is the length needed (without the
   NUL), and nothing is written past out[cap - 1]. An id outside 0..n_vocab-1 gives
   LEARN_ERR_ARG naming its position.

   Normal tokens give their text (spm: U+2581 as a space; bpe: through the byte map), byte
   tokens their byte, control, unknown and user-defined tokens their text as written in the
   vocabulary ("<s>", "<|im_end|>"). For spm, the dummy space that tokenizing adds at the start
   and after a special token is removed again, so that detokenizing the result of
   learn_tokenize() gives back the text, byte for byte, whenever the text is well-formed UTF-8
   (spm: and without characters the vocabulary lacks and no byte tokens; with
   remove_extra_whitespaces, runs of spaces are lost by design). */
learn_status learn_detokenize(learn_ctx *ctx, const int32_t *ids, size_t n, char *out,
                              size_t cap, size_t *len);

/* The text of token id as stored in the vocabulary (spm pieces with U+2581, bpe texts in the
   byte map), in place in the model file: *text is not NUL-terminated; *len (may be NULL)
   receives its length. LEARN_ERR_ARG for an id out of range. */
learn_status learn_token_get_text(const learn_model *model, int32_t id, const char **text,
                              size_t *len);

/* The type of token id. LEARN_ERR_ARG for an id out of range. */
learn_status learn_token_get_kind(const learn_model *model, int32_t id, learn_token_kind *kind);

/* ==== Content encoder (the frozen LLM) ============================================== */

/* Encodes n_items pre-tokenized items into content embeddings: out receives n_items rows of
   n_embd floats (learn_model_info.n_embd), pooled and normalised as the context says. ids[i]
   holds n_ids[i] token ids of item i, BOS included when the model wants one; items longer than
   the model's encoder.max_tokens are truncated to it (counted in learn_encode_stats). Items
   are batched internally (batch_tokens per forward pass); the result for an item does not
   depend on the batch it ran in. Errors: LEARN_ERR_STATE (no LLM in the model), LEARN_ERR_ARG
   (an item without tokens, an id outside the vocabulary, pooling NONE). */
learn_status learn_encode_ids(learn_ctx *ctx, size_t n_items, const int32_t *const *ids,
                              const size_t *n_ids, float *out);

/* Encodes n_items texts (lens[i] bytes each, or NUL-terminated when lens is NULL): each is
   tokenized with the model's tokenizer (BOS/EOS added as the model says) and encoded as by
   learn_encode_ids: out receives n_items rows of n_embd floats. Texts are the rendered item
   texts (the model's encoder.template applied by the caller). Errors name the item:
   LEARN_ERR_STATE (no tokenizer or no LLM), LEARN_ERR_ARG (a text that gives no token),
   LEARN_ERR_TOO_LONG (a text above the context's max_text_len). */
learn_status learn_encode(learn_ctx *ctx, size_t n_items, const char *const *texts,
                          const size_t *lens, float *out);

/* The final-normed hidden state of every token of one item (no pooling, no normalisation):
   out receives *n_out rows of n_embd floats, *n_out = min(n_ids, encoder.max_tokens); out
   must have room for that many rows. */
learn_status learn_encode_ids_tokens(learn_ctx *ctx, const int32_t *ids, size_t n_ids, float *out,
                                     size_t *n_out);

typedef struct learn_encode_stats {
    uint64_t n_items;     /* items encoded by this context */
    uint64_t n_tokens;    /* tokens run through the LLM */
    uint64_t n_truncated; /* items cut to encoder.max_tokens */
    uint64_t n_macs;      /* multiply-accumulates of the LLM's matrix products */
    uint64_t ns_forward;  /* wall time of the LLM forward passes, in nanoseconds */
    uint64_t ns_matmul;   /* of which in the matrix products (activation quantization and
                             bias included): n_macs / ns_matmul is the products' speed */
} learn_encode_stats;

learn_status learn_ctx_encode_stats(const learn_ctx *ctx, learn_encode_stats *stats);

/* ==== Catalogs and top-K ================================================================
   A catalog holds, for each item, its external id, its content embedding (f16) and its item
   embedding (f32, L2-normalised), plus the fingerprints of the model that made them. It is a
   .learn container (see the schema in learn.c's "Catalog & top-K" banner), memory-mapped and
   validated at open: checksum, unique ids, finite item embeddings. */

typedef struct learn_catalog learn_catalog;

typedef struct learn_catalog_info {
    uint32_t n_items;
    uint32_t d_content;
    uint32_t d_item;
    uint64_t content_fingerprint;
    uint64_t tower_fingerprint;
} learn_catalog_info;

/* Opens a catalog file (params as for models; may be NULL). Not with LEARN_NO_STDIO. */
learn_status learn_catalog_open(const char *path, const learn_model_params *params,
                                learn_catalog **cat, char *errbuf, size_t errbuf_size);
/* The same over bytes in memory (64-byte aligned, kept alive until close). */
learn_status learn_catalog_open_memory(const void *data, size_t size,
                                       const learn_model_params *params, learn_catalog **cat,
                                       char *errbuf, size_t errbuf_size);
void learn_catalog_close(learn_catalog *cat);
learn_status learn_catalog_get_info(const learn_catalog *cat, learn_catalog_info *info);

/* LEARN_OK when the catalog's content embeddings come from this model (same content
   fingerprint and dimension), else LEARN_ERR_MISMATCH with both fingerprints in errbuf.
   *same_towers (may be NULL) tells whether its item embeddings come from the model's towers;
   when not, recompute them from the content embeddings. */
learn_status learn_catalog_check_model(const learn_catalog *cat, const learn_model *model,
                                       int *same_towers, char *errbuf, size_t errbuf_size);

/* Index of an item by external id (bytes id[0..len)); LEARN_ERR_NOT_FOUND when absent. */
learn_status learn_catalog_find(const learn_catalog *cat, const char *id, size_t len,
                                uint32_t *index);
/* External id of item `index` (not NUL-terminated; *len its length). */
learn_status learn_catalog_id(const learn_catalog *cat, uint32_t index, const char **id,
                              size_t *len);
/* Content embedding of item `index` as d_content floats. */
learn_status learn_catalog_content(const learn_catalog *cat, uint32_t index, float *out);
/* All item embeddings, n_items rows of d_item floats, in place. */
const float *learn_catalog_items(const learn_catalog *cat);

typedef struct learn_hit {
    uint32_t index; /* catalog index */
    float score;    /* dot product with the query (cosine for unit vectors) */
} learn_hit;

/* The k items with the highest dot product with query (d_item floats), best first; ties go
   to the lower catalog index. Items listed in exclude (catalog indices, any order,
   duplicates allowed) are skipped. k larger than what is left returns all of it: *n_out
   tells how many hits were written (never padding). k = 0 is LEARN_ERR_ARG; a NaN/Inf in
   the query is LEARN_ERR_NUMERIC; a score that overflows to NaN (huge values) counts as -Inf.
   out must have room for k hits. Catalogs of 16,384 items or more are scanned on the
   context's threads (the same hits for any thread count). */
learn_status learn_catalog_topk(learn_ctx *ctx, const learn_catalog *cat, const float *query,
                                uint32_t k, const uint32_t *exclude, size_t n_exclude,
                                learn_hit *out, size_t *n_out);
/* learn_catalog_topk for n_queries queries at once (queries: n_queries rows of d_item floats),
   with the same hits as a call per query, and faster for many queries: each item is read
   once for a block of 8 of them. Query i's hits go to out + i * k (out has room for
   n_queries * k hits), their count to n_out[i]. exclude: NULL, or one list per query
   (exclude[i] with n_exclude[i] entries; exclude[i] may be NULL when n_exclude[i] is 0).
   A NaN/Inf in a query is LEARN_ERR_NUMERIC naming it; on any error every n_out[i] is 0.
   Blocks of queries are shared out among the context's threads (fewer blocks than threads on
   a catalog of 16,384 items or more: a call per query, which splits the items). */
learn_status learn_catalog_topk_batch(learn_ctx *ctx, const learn_catalog *cat,
                                      const float *queries, size_t n_queries, uint32_t k,
                                      const uint32_t *const *exclude, const size_t *n_exclude,
                                      learn_hit *out, size_t *n_out);

/* Building catalogs: add items (id, content embedding, item embedding), then save. The model
   given at creation stamps its fingerprints on the catalog (and lends its allocator); with
   model NULL the fingerprints are 0 until learn_catalog_builder_set_fingerprints (merging
   catalogs of one model). */
typedef struct learn_catalog_builder learn_catalog_builder;

learn_status learn_catalog_builder_new(const learn_model *model, uint32_t d_content,
                                       uint32_t d_item, learn_catalog_builder **builder);
learn_status learn_catalog_builder_new_like(const learn_catalog *cat, learn_catalog_builder **builder);
void learn_catalog_builder_free(learn_catalog_builder *builder);
const char *learn_catalog_builder_errmsg(const learn_catalog_builder *builder);
uint32_t learn_catalog_builder_count(const learn_catalog_builder *builder);
/* Copies one item. ids: 1..4096 bytes without control characters. Duplicate ids are
   reported at save time, naming the id and both item numbers. */
learn_status learn_catalog_builder_add(learn_catalog_builder *builder, const char *id,
                                       size_t id_len, const float *content, const float *item);
/* Writes atomically under the file's lock, as learn_writer_save. An empty
   catalog is LEARN_ERR_STATE. Not with LEARN_NO_STDIO. To add to an existing catalog
   without losing another writer's additions, take the lock before opening it and save
   with learn_catalog_builder_save_locked (the example at learn_lock_acquire). */
learn_status learn_catalog_builder_save(learn_catalog_builder *builder, const char *path);
learn_status learn_catalog_builder_save_locked(learn_catalog_builder *builder, learn_lock *lock);
learn_status learn_catalog_builder_save_memory(learn_catalog_builder *builder, void **data,
                                               size_t *size);
void learn_catalog_builder_free_buffer(learn_catalog_builder *builder, void *data);

/* Shards: a catalog built on many machines is built in `count` parts, each from the same item
   list of n_source items, split in order: part `index` holds items
   [n_source * index / count, n_source * (index + 1) / count) (learn_catalog_shard_range).
   A shard catalog records which part it is, so that a merge can put the parts in order and
   refuse a missing, duplicated or foreign one. source_fingerprint identifies the item list
   (the tools hash its ids and texts); t_start and t_end are the wall-clock times (seconds
   since 1970) between which the part was built, 0 when unknown. */
typedef struct learn_catalog_shard {
    uint32_t index;              /* 0 .. count - 1 */
    uint32_t count;              /* 1 .. 2^20 */
    uint64_t n_source;           /* items in the whole list, count .. 2^31 - 2 */
    uint64_t source_fingerprint; /* of the whole list */
    double t_start, t_end;       /* finite, 0 <= t_start <= t_end */
} learn_catalog_shard;

/* The items [*lo, *hi) of the list that part `index` of `count` holds; LEARN_ERR_ARG when
   index >= count or n_source > 2^31 - 1. */
learn_status learn_catalog_shard_range(uint64_t n_source, uint32_t index, uint32_t count,
                                       uint64_t *lo, uint64_t *hi);
/* Marks the catalog being built as a shard (shard NULL: not a shard, the default). Values
   out of the ranges above are LEARN_ERR_ARG; at save, a builder whose item count is not the
   part's size is LEARN_ERR_STATE. Merged catalogs are no shards. */
learn_status learn_catalog_builder_set_shard(learn_catalog_builder *builder,
                                             const learn_catalog_shard *shard);
/* The shard record of a catalog opened from a shard; LEARN_ERR_NOT_FOUND for a catalog that
   is no shard. A shard file whose record is inconsistent (index >= count, item count not the
   part's size) is refused at open (LEARN_ERR_FORMAT). */
learn_status learn_catalog_get_shard(const learn_catalog *cat, learn_catalog_shard *shard);

/* ==== Towers (preference alignment) ================================================
   To be pasted into learn.h after "Content encoder". The schema of the tower metadata and
   tensors is in schema.txt (for the format spec at the top of learn.h) and at the top of the
   Towers section of learn.c.

   The towers map content embeddings (d_in floats per item, as learn_encode_ids makes them)
   to the collaborative space (d_out floats, unit length): the item tower one item at a time,
   the user tower a history of items, oldest first. Score = dot product (cosine).
   A model without towers aligns nothing (the paper's "w/o alignment" baseline): an item
   embedding is its L2-normalised content, a user embedding the L2-normalised mean of the
   L2-normalised history contents, and d_out = d_in = the LLM's n_embd.
   Content must be finite: a NaN or Inf gives LEARN_ERR_NUMERIC naming the item and element. */

typedef struct learn_towers_info {
    int present;            /* 1: the model holds towers; 0: content passthrough (see above) */
    uint32_t d_in;          /* content dimension (0 when the model has neither towers nor LLM) */
    uint32_t d_out;         /* embedding dimension */
    uint32_t d_model, n_layer, n_head, d_ff; /* 0 without towers */
    uint32_t max_positions; /* learned positions (0: none) */
    uint32_t max_history;   /* the user tower reads the most recent max_history items (0: all) */
    int pre_norm;           /* 1: pre-LN blocks; 0: post-LN (BERT) */
} learn_towers_info;

learn_status learn_towers_get_info(const learn_model *model, learn_towers_info *info);

/* Item embeddings: content holds n rows of d_in floats, out receives n rows of d_out floats,
   each of unit length (a zero vector stays zero). Rows are independent: the result for an
   item does not depend on the others. content and out may not overlap, except that without
   towers (d_out = d_in) out may equal content. n = 0 does nothing.
   Errors: LEARN_ERR_STATE (neither towers nor LLM in the model), LEARN_ERR_ARG (NULL),
   LEARN_ERR_NUMERIC (NaN/Inf content), LEARN_ERR_NOMEM. */
learn_status learn_item_embed(learn_ctx *ctx, size_t n, const float *content, float *out);

/* A user embedding from a history: content holds n_hist rows of d_in floats, oldest first;
   out receives d_out floats of unit length. The user tower is causal and its output is taken
   at the last (most recent) position. When the model sets tower.max_history and the history
   is longer, only the most recent max_history items are read (older ones are dropped, as in
   training); without it histories of up to 2^20 items are read whole (LEARN_ERR_TOO_LONG
   above). Repeated items are used as given (the caller decides on duplicates).
   Errors: LEARN_ERR_ARG (n_hist = 0: "empty history", NULL), LEARN_ERR_NUMERIC (NaN/Inf in
   the items read), LEARN_ERR_STATE, LEARN_ERR_TOO_LONG, LEARN_ERR_NOMEM. */
learn_status learn_user_embed(learn_ctx *ctx, size_t n_hist, const float *content, float *out);

/* An incremental user: append history items one at a time and read the embedding after each,
   for about the cost of one item through the towers (the per-layer keys and values of earlier
   positions are cached; the tower is causal, so they never change).
   The state keeps a window of the most recent `max_len` items: its embedding always equals
   learn_user_embed() of the last min(appended, window) items. max_len = 0 means the model's
   tower.max_history; a max_len larger than tower.max_history is lowered to it. Appending to a
   full window drops the oldest item and recomputes the window (one full user-tower pass).
   Memory: about max_len x (d_in + (2 n_layer + 4) d_model + d_ff) floats.
   The state belongs to the model of the context that made it (which must outlive it); it may
   be used with any context of that model, by one thread at a time. */
typedef struct learn_user_state learn_user_state;

/* Errors: LEARN_ERR_ARG (max_len 0 with no tower.max_history), LEARN_ERR_TOO_LONG (max_len >
   2^20), LEARN_ERR_STATE, LEARN_ERR_NOMEM. */
learn_status learn_user_state_new(learn_ctx *ctx, uint32_t max_len, learn_user_state **out);
/* Appends one item (d_in floats). On error (LEARN_ERR_NUMERIC, LEARN_ERR_MISMATCH when ctx
   belongs to another model) the state is unchanged. */
learn_status learn_user_state_append(learn_ctx *ctx, learn_user_state *state,
                                     const float *content);
/* The current embedding (d_out floats, unit length). LEARN_ERR_STATE when nothing has been
   appended since new/reset (an empty history has no embedding). */
learn_status learn_user_state_embedding(const learn_user_state *state, float *out);
/* Items in the window (<= max_len). */
uint32_t learn_user_state_len(const learn_user_state *state);
/* Empties the state (keeps its memory). */
void learn_user_state_reset(learn_user_state *state);
/* NULL is allowed. */
void learn_user_state_free(learn_user_state *state);

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif

#endif /* LEARN_H */

/* ============================== end of header ============================== */

#ifdef LEARN_IMPLEMENTATION
#ifndef LEARN_IMPLEMENTATION_INCLUDED
#define LEARN_IMPLEMENTATION_INCLUDED
#include "learn.c"
#endif
#endif

/*
MIT License

Copyright (c) 2026 the learn authors

Permission is hereby granted, free of charge, to any person obtaining a copy of this software
and associated documentation files (the "Software"), to deal in the Software without
restriction, including without limitation the rights to use, copy, modify, merge, publish,
distribute, sublicense, and/or sell copies of the Software, and to permit persons to whom the
Software is furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or
substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING
BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND
NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM,
DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
*/
