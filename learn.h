/* learn.h - LLM knowledge for recommendation, on the CPU, from one model file.

   learn implements the LEARN method (Jia et al., "LEARN: Knowledge Adaptation from Large
   Language Model to Recommendation for Practical Industrial Application", AAAI 2025,
   arXiv 2405.03988): a frozen, quantized LLM turns item text into content embeddings, small
   twin-tower transformers align them with user behaviour, and users are scored against a
   catalog. Everything runs in-process on the CPU with pthreads and hand-written SIMD, from one
   flat, memory-mapped `.learn` model file. Dependencies: libc, libm, pthreads.

   This header is, in order: this manual; the .learn file format (every schema the loader
   checks); the API in data-flow order (model files -> contexts -> tokenizer -> content encoder
   -> towers -> catalogs and top-K); the license.

   ==== Quick start ===========================================================================

   Either compile `learn.c` as its own translation unit and include `learn.h` anywhere, or, in
   exactly ONE C file of your program:

       #define LEARN_IMPLEMENTATION
       #include "learn.h"          // learn.c must sit beside learn.h

   then include `learn.h` without the define everywhere else. Link with -lm -lpthread.
   Or install the library (`./build.sh install [PREFIX]`: this header, liblearn.so and
   liblearn.a, learn.pc, learn-cli) and build with
   `cc app.c $(pkg-config --cflags --libs learn)` (`-static ... --static` for liblearn.a).

   A new item's embedding, a user's from their history in a catalog, and the user's top 10
   (error checks shortened; every call returns a learn_status):

       char err[LEARN_ERRMSG_SIZE];
       learn_model *model;
       learn_catalog *cat;
       if (learn_model_open("models/demo.learn", NULL, &model, err, sizeof err) != LEARN_OK ||
           learn_catalog_open("catalog.learn", NULL, &cat, err, sizeof err) != LEARN_OK) {
           fprintf(stderr, "%s\n", err);
           return 1;
       }
       learn_model_info mi;
       learn_towers_info ti;
       learn_model_get_info(model, &mi);        // mi.n_embd: the content embedding's size
       learn_towers_get_info(model, &ti);       // ti.d_out: the item and user embeddings' size
       learn_ctx *ctx;
       learn_ctx_new(model, NULL, &ctx);        // NULL: default params, a thread per CPU

       // text -> content embedding (the LLM) -> item embedding (the item tower)
       const char *text = "Title: Acme Trail Runners. Brand: Acme. Category: Running Shoes";
       float *content = malloc(mi.n_embd * sizeof *content), *item = malloc(ti.d_out * sizeof *item);
       if (learn_encode(ctx, 1, &text, NULL, content) != LEARN_OK) {
           fprintf(stderr, "%s\n", learn_ctx_errmsg(ctx));     // names the item and the cause
           return 1;
       }
       learn_item_embed(ctx, 1, content, item);

       // a user from the catalog items they interacted with (oldest first), then their top 10
       const char *ids[2] = {"P00001", "P00002"};
       uint32_t hist[2];
       float *h = malloc(2 * mi.n_embd * sizeof *h), *user = malloc(ti.d_out * sizeof *user);
       for (int i = 0; i < 2; i++) {
           learn_catalog_find(cat, ids[i], strlen(ids[i]), &hist[i]);
           learn_catalog_content(cat, hist[i], h + i * mi.n_embd);
       }
       learn_user_embed(ctx, 2, h, user);
       learn_hit top[10];
       size_t n;
       learn_catalog_topk(ctx, cat, user, 10, hist, 2, top, &n);   // the history excluded
       for (size_t i = 0; i < n; i++) {
           const char *id;
           size_t len;
           learn_catalog_id(cat, top[i].index, &id, &len);
           printf("%.*s %.3f\n", (int)len, id, top[i].score);
       }
       float score = 0;                         // embeddings are unit vectors: cosine
       for (uint32_t e = 0; e < ti.d_out; e++) score += item[e] * user[e];
       printf("the new item for this user: %.3f\n", score);

       free(content), free(item), free(h), free(user);
       learn_ctx_free(ctx);
       learn_catalog_close(cat);
       learn_model_close(model);

   (`learn-cli data synth -o data && learn-cli catalog build models/demo.learn
   data/items.jsonl -o catalog.learn` makes that catalog; README.md has the program whole.)

   ==== Configuration macros ==================================================================

   LEARN_IMPLEMENTATION goes in the one file that compiles the runtime through this header
   (above). The others change only how the implementation is compiled, never this header: define
   them where learn.c is compiled (its command line, or before the LEARN_IMPLEMENTATION
   include); files that only include the header need none of them.

     LEARN_NO_THREADS   build without pthreads: every context runs on the calling thread.
     LEARN_NO_STDIO     build without file I/O (no open/mmap/rename/locks): models and catalogs
                        are opened from memory only (the _open_memory functions), writers and
                        builders save to memory only. Formatting of error messages (vsnprintf)
                        is still used.
     LEARN_NO_SIMD      build the scalar reference kernels only.
     LEARN_EMULATE_VNNI test builds only (./build.sh vnni): the avx512 and avxvnni levels are
                        compiled for AVX2 with their AVX-512 and VNNI instructions emulated
                        exactly, and offered wherever AVX2 is. Slower than avx2: never ship it.
     LEARN_EMULATE_AMX  test builds only (./build.sh amx; implies LEARN_EMULATE_VNNI): the amx
                        level too, its tile instructions run as portable C on a per-thread
                        tile state.

   One environment variable is read: LEARN_ISA, when a context is made with isa NULL or "auto"
   (learn_ctx_params.isa): the kernels' level to use instead of the best the CPU runs.

   ==== Limits ================================================================================

     LEARN_MAX_DIMS          4           dimensions of a tensor
     LEARN_MAX_NAME          255         bytes in a tensor name
     LEARN_MAX_KEY           255         bytes in a metadata key
     LEARN_MAX_TENSORS       1,048,576   tensors in a file
     LEARN_MAX_META          65,536      metadata entries in a file
     LEARN_MAX_LAYERS        512         LLM or tower layers
     File size: up to 2^63 bytes; on 32-bit hosts up to what the address space can map. The
     schemas below give each dimension's range.

   ==== Thread-safety =========================================================================

   A `learn_model` is immutable once opened and may be shared by any number of threads; so is a
   `learn_catalog`. A `learn_ctx` (scratch memory, thread pool, last error message) belongs to
   one thread at a time; give each thread its own. A `learn_writer`, a `learn_catalog_builder`,
   a `learn_user_state` and a `learn_lock` each belong to one thread at a time. The only
   process-wide state is a CPU-feature cache filled once (thread-safely) on first use; on a
   Linux x86-64 CPU with AMX, filling it asks the kernel once for the process's permission to
   use the tile registers (arch_prctl ARCH_REQ_XCOMP_PERM), which the amx level needs. Model
   files must never be modified in place while opened: replace them by rename (the writer does);
   the loader checks the size with fstat at open.

   Files shared by processes (a catalog that a feed job extends, another job re-embeds and a
   recommender reads all day) follow the contract of "Writing files" below: writers of one
   file exclude each other with an advisory lock, in other processes and in other threads of
   the same process alike; readers take no lock and see the old file or the new one, whole.

   ==== Writing files =========================================================================

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

   ==== Errors ================================================================================

   Every function that can fail returns a `learn_status`: 0 (`LEARN_OK`) on success, a stable
   negative code otherwise. `learn_status_str()` names a code. Handles keep a message saying
   what exactly was wrong (the field, the value, the allowed range): `learn_ctx_errmsg()`,
   `learn_writer_errmsg()`, `learn_catalog_builder_errmsg()`, `learn_lock_errmsg()`; the
   functions that open files or take locks write theirs to a caller buffer. The library never
   aborts, exits or prints.

   ==== Contents ==============================================================================

   This header, after this manual:
     The .learn file format    the container, tensor types, fingerprints; the schemas of the
                               LLM, the tokenizer, the towers and catalogs (with shards)
     Basics                    version, status codes, allocators, types and quantization,
                               half precision, XXH64, L2 normalisation
     Model files               opening, information, tensors, metadata, the numeric scan
     Writing files             writers (building .learn files); locks on rewritten files
     Contexts                  what a model runs with: threads, ISA level, pooling
     Tokenizer                 text to token ids and back
     Content encoder           items to content embeddings (the frozen LLM)
     Towers                    item and user embeddings; incremental user state
     Catalogs and top-K        opening, lookups, top-K for one query and for many; building
                               catalogs; shards

   learn.c, in data-flow order (each section opens with a banner "==== Name ===="):
     Platform & allocation, Errors, Handles, File format, Writer, Tokenizer, Kernels, Thread
     pool, LLM configuration, LLM forward, Content encoder, Towers, Catalog & top-K, Contexts.
     The opening comment of learn.c says what each holds.

   ==== License ===============================================================================
   MIT. See the end of this file.
*/

/* ============================================================================================
   ==== The .learn file format (version 1) ====

   One container holds a model (an LLM, its tokenizer, towers: any of them) or a catalog. The
   loader checks everything below before any tensor is used; the first problem is reported
   naming the field, the value and what was expected. All integers are little-endian; offsets
   are absolute byte offsets from the start of the file.

   ---- The container ----

     Header (64 bytes)
       0   u8[8]  magic "LEARNMDL"
       8   u32    format version (1; 0 is refused, a later one is LEARN_ERR_VERSION)
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
       u32 name length (1..255), name bytes (printable ASCII, 0x21..0x7e), one NUL byte,
       u32 type, u32 number of dimensions (1..4), u64 shape[n_dims] (row-major, the last
       dimension varies fastest, each >= 1), u64 offset, u64 size in bytes.
       The directory is followed by zero bytes up to the data offset (fewer than 64). Tensors
       are laid out in directory order: the first at the data offset, each next one at the end
       of the previous rounded up to 64; the size equals what the type and shape give.
       Padding bytes are zero.

     Trailer: u64 XXH64 (seed 0) of every byte before it. It starts right after the last
       tensor's data (at the data offset when there are no tensors) and ends the file.

   ---- Tensor types ----

     Blocks run along the last dimension, which must be a whole number of blocks; the
     quantized types have ggml's block layouts, so GGUF tensors of those types convert without
     loss.
       F32 (0), F16 (1), BF16 (2),
       Q8_0 (3): blocks of 32 weights: f16 scale d, int8 q[32];               x = d * q
       Q4_0 (4): blocks of 32 weights: f16 scale d, u8 qs[16]; element j < 16 is the low nibble
                 of qs[j], element j + 16 its high nibble;                    x = d * (q - 8)
       I8 (5), I32 (6), U8 (7): raw data (tokenizer tables and the like).
     In the schemas below a "matrix" is [out, in] of F32, F16, BF16, Q8_0 or Q4_0 (the kernels
     use every one in place) and a "vector" is F32.

   ---- Keys every file may have ----

     Integer keys are written with the type the schemas give; readers take any integer type
     whose value is in range. A schema's key that is absent takes its default.
       general.name                STR  optional, for people
       general.fingerprint.content U64  written by the writer: XXH64 (seed 1) of every entry
       general.fingerprint.towers  U64  and tensor of the file whose name starts neither with
                                        "general." nor "tower." (content), or with "tower."
                                        (towers, seed 2): metadata in key order (key bytes and
                                        NUL, u32 type, the encoded value), then tensors in name
                                        order (name and NUL, u32 type, u32 number of
                                        dimensions, four u64 dimensions with 1 for the unused
                                        ones, the data). 0 when a part is empty. So the content
                                        fingerprint covers the LLM, the tokenizer and the
                                        encoder settings (what makes content embeddings), the
                                        towers fingerprint the towers; a catalog records both.

   ---- The LLM: general.architecture, llm.*, encoder.* ----

     A file has an LLM when it has general.architecture. Metadata (U32 unless noted):
       general.architecture    STR  "llama" | "qwen2" | "qwen3" (others: LEARN_ERR_UNSUPPORTED)
       llm.vocab_size          1..2^22
       llm.embedding_length    1..65536         n_embd, the content embedding's size
       llm.block_count         1..512
       llm.head_count          1..1024
       llm.head_count_kv       1..1024          divides head_count (grouped-query attention)
       llm.feed_forward_length 1..2^20          n_ff
       llm.context_length      1..2^24
       llm.head_dim            2..1024, even    default embedding_length / head_count (which
                                                must then divide it)
       llm.rope_freq_base      F32 in (0, 1e12) default 10000
       llm.rms_epsilon         F32 in (0, 1)    default 1e-5 for llama, 1e-6 for qwen2, qwen3
       llm.rope_type           STR  "norm" (pairs 2i, 2i+1) | "neox" (pairs i, i + d/2);
                                    default norm for llama, neox for qwen2 and qwen3
     Encoder settings (how texts become content embeddings):
       encoder.pooling         STR  "mean" (default) | "last" | "none" (per-token states)
       encoder.normalize       BOOL L2-normalise pooled embeddings (default true)
       encoder.max_tokens      1..context_length  tokens kept per item, BOS included (default
                                                  min(512, context_length))
       encoder.template        STR  the item text template, e.g. "Title: {title}. Brand:
                                    {brand}" (default "{text}"); the tools render it
     Tensors (q = head_count * head_dim, kv = head_count_kv * head_dim):
       token_embd.weight          matrix [vocab_size, n_embd]
       output_norm.weight         vector [n_embd]
       rope_freqs.weight          vector [head_dim / 2], optional (Llama 3 frequency factors:
                                  each frequency is divided by its factor)
       blk.N.attn_norm.weight     vector [n_embd]                (N = 0 .. block_count - 1)
       blk.N.attn_q.weight        matrix [q, n_embd]
       blk.N.attn_k.weight, blk.N.attn_v.weight   matrix [kv, n_embd]
       blk.N.attn_{q,k,v}.bias    vector [q], [kv], [kv]: required for qwen2, optional for
                                  the others
       blk.N.attn_q_norm.weight, blk.N.attn_k_norm.weight   vector [head_dim]: qwen3 only,
                                  required there
       blk.N.attn_output.weight   matrix [n_embd, q]
       blk.N.ffn_norm.weight      vector [n_embd]
       blk.N.ffn_gate.weight, blk.N.ffn_up.weight   matrix [n_ff, n_embd]
       blk.N.ffn_down.weight      matrix [n_embd, n_ff]
     Other tensors (an LM head, say) are ignored.

   ---- The tokenizer: tokenizer.* ----

     A file has a tokenizer when it has tokenizer.model; its data is then validated at open and
     its lookup tables built once. Texts, scores, types and merges are used in place.
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
       tokenizer.ignore_merges  BOOL  bpe (0 by default): a pre-tokenized word that is a token
                                      as a whole is taken as it is (Llama 3).
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
       tokenizer.types   U8  (n_vocab)         optional (all normal when absent): bits 0-3 a
                                               learn_token_kind (numbered as in GGUF: 0
                                               undefined, 1 normal, 2 unknown, 3 control, 4
                                               user-defined, 5 unused, 6 byte, whose text must
                                               be <0xNN>); bit 4 lstrip, bit 5 rstrip (white
                                               space before/after a special token found in the
                                               text is dropped); other bits 0. Unknown, control
                                               and user-defined tokens are the special tokens:
                                               user-defined ones are always cut out of text,
                                               the others only with
                                               LEARN_TOKENIZE_PARSE_SPECIAL.
       tokenizer.merges  I32 (n_merges, 2)     bpe, required (n_merges <= 2^24): merge of rank
                                               r joins the tokens merges[r][0] and merges[r][1]
                                               (ids in range) into the token whose text is
                                               their concatenation (it must exist). A repeated
                                               pair keeps its first rank.

   ---- The towers: tower.* ----

     The preference-alignment towers (one transformer for users and items, see "Towers"
     below) are present when tower.d_in is. Metadata (U32 unless noted):
       tower.d_in            1..65536   content dimension; equals llm.embedding_length when the
                                        file has an LLM (else LEARN_ERR_MISMATCH)
       tower.d_model         1..65536   width of the transformer
       tower.n_layer         0..512     blocks (0: adaptor and proj only)
       tower.n_head          1..1024    heads; divides d_model
       tower.d_ff            1..2^20    width of the feed-forward layer
       tower.d_out           1..65536   the item and user embeddings' size
       tower.eps             F32        LayerNorm epsilon in (0, 1), default 1e-12 (bert-base)
       tower.act             STR        "gelu" (erf, default) | "gelu_tanh" | "relu"
       tower.norm            STR        "post" (default, BERT) | "pre"
       tower.max_positions   0..2^20    learned positions (0, the default: none)
       tower.max_history     0..2^20    the user tower reads the most recent max_history items
                                        of a history (older ones are dropped); 0: all. Default
                                        max_positions; with positions, 1..max_positions (every
                                        position has an embedding)
     Tensors (N = 0 .. n_layer - 1):
       tower.adaptor.weight           matrix [d_model, d_in]
       tower.adaptor.bias             vector [d_model]
       tower.input_mean, tower.input_scale   vector [d_in], optional, together: the towers
                                      read (content - mean) * scale, per dimension (finite,
                                      scale >= 0)
       tower.pos_embd.weight          F32 [max_positions, d_model], when max_positions > 0 only:
                                      added to the adaptor's output at each position
       tower.blk.N.attn_q.weight, attn_k.weight, attn_v.weight, attn_output.weight
                                      matrix [d_model, d_model], each with its .bias [d_model]
       tower.blk.N.attn_norm.weight, .bias   vector [d_model]: the attention sublayer's
                                      LayerNorm
       tower.blk.N.ffn_up.weight      matrix [d_ff, d_model], .bias vector [d_ff]
       tower.blk.N.ffn_down.weight    matrix [d_model, d_ff], .bias vector [d_model]
       tower.blk.N.ffn_norm.weight, .bias    vector [d_model]: the feed-forward sublayer's
                                      LayerNorm
       tower.out_norm.weight, .bias   vector [d_model], pre-LN only: the final LayerNorm
       tower.proj.weight              matrix [d_out, d_model]
       tower.proj.bias                vector [d_out]
     Any other tensor whose name starts with "tower." is refused (it would be silently
     unused), and so is tower.adaptor.weight without tower.d_in. The official LEARN code's
     checkpoints map onto this schema (learn-cli convert --towers): adaptor.* ->
     tower.adaptor.*, summary_encoder.layer.N.attention.self.{query,key,value}.* ->
     tower.blk.N.attn_{q,k,v}.*, .attention.output.dense.* -> attn_output.*,
     .attention.output.LayerNorm.* -> attn_norm.*, .intermediate.dense.* -> ffn_up.*,
     .output.dense.* -> ffn_down.*, .output.LayerNorm.* -> ffn_norm.*, mlp.0.* -> tower.proj.*.

   ---- Catalogs: catalog.*, and a shard's catalog.shard.* ----

     A catalog is a file of this container with these entries (it holds no model):
       catalog.version              U32  1 (another is LEARN_ERR_VERSION)
       catalog.n_items              U32  1 .. 2^31 - 2
       catalog.d_content            U32  1..65536: the content embedding's size (the LLM's
                                         n_embd)
       catalog.d_item               U32  1..65536: the item embedding's size (the towers'
                                         d_out, or d_content without towers)
       catalog.fingerprint.content  U64  general.fingerprint.content of the model that made it
       catalog.fingerprint.towers   U64  its general.fingerprint.towers (0: no towers)
       catalog.ids          U8  [bytes]           the external ids back to back: each 1 or more
                                                  bytes (the builder takes 1..4096), no control
                                                  byte (0x00..0x1f, 0x7f)
       catalog.id_offsets   I32 [n_items + 1]     id i is bytes [off[i], off[i+1]): 0 first, the
                                                  blob's size last, increasing
       catalog.id_index     I32 [n_items]         item indices in bytewise order of their ids, a
                                                  permutation, strictly increasing: ids are
                                                  unique
       catalog.content      F16 [n_items, d_content]  content embeddings
       catalog.item         F32 [n_items, d_item]     item embeddings, finite (L2-normalised
                                                      by the tools)
     A shard (one part of a catalog built on many machines, learn_catalog_shard) has all of
     these as well, with these types, or none:
       catalog.shard.index          U32  0 .. count - 1
       catalog.shard.count          U32  1 .. 2^20
       catalog.shard.n_source       U64  items in the whole list, count .. 2^31 - 2; n_items
                                         is the part's size (learn_catalog_shard_range)
       catalog.shard.source         U64  fingerprint of the whole item list
       catalog.shard.t_start        F64  wall-clock seconds since 1970 (0: unknown)
       catalog.shard.t_end          F64  likewise, t_start <= t_end, both finite
   ============================================================================================ */

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

/* ============================================================================================
   ==== Basics ====
   Status codes, the version, allocators, tensor and metadata types with the quantizers, half
   precision, XXH64 and L2 normalisation.
   ============================================================================================ */

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
   where a pointer is taken) means libc's malloc/realloc/free; otherwise all three must be set
   (a partly set one is LEARN_ERR_ARG). `free` is given the pointer only. */
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

/* ---- Checksums and vectors ---- */

/* XXH64 of a buffer (the file checksum). */
uint64_t learn_xxh64(const void *data, size_t size, uint64_t seed);

/* Scales x[0..n) to unit L2 norm, as the library normalises every embedding it returns (a
   zero vector stays zero). LEARN_ERR_NUMERIC when an element is NaN or Inf (x is then left as
   it is), LEARN_ERR_ARG when x is NULL and n > 0. */
learn_status learn_l2_normalize(float *x, size_t n);

/* ============================================================================================
   ==== Model files ====
   Opening a .learn file (a model; catalogs have their own calls below), what it holds, its
   tensors and metadata, and a scan of every value.
   ============================================================================================ */

typedef struct learn_model learn_model;

typedef struct learn_model_params {
    learn_allocator allocator; /* zeroed: libc */
    int verify_checksum;       /* default 1: hash the whole file at open (about 10 GB/s) */
    int use_mmap;              /* default 1: map the file; 0 reads it into memory */
} learn_model_params;

learn_model_params learn_model_default_params(void);

/* Opens a model file. The file is memory-mapped and every structure is validated before any
   tensor is used (the format and its schemas above).
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

/* ============================================================================================
   ==== Writing files ====
   A writer builds a .learn file: set metadata, add tensors, then save (the converters and the
   trainer write through it). A lock makes a read-modify-write of a file safe from other writers
   ("Writing files" above).
   ============================================================================================ */

typedef struct learn_writer learn_writer;
typedef struct learn_lock learn_lock;

/* allocator may be NULL (libc). */
learn_status learn_writer_new(const learn_allocator *allocator, learn_writer **writer);
void learn_writer_free(learn_writer *writer);
/* The last error message of this writer ("" when none). */
const char *learn_writer_errmsg(const learn_writer *writer);

/* Metadata entries. A key is 1..255 bytes of [A-Za-z0-9._-] (LEARN_ERR_ARG otherwise); setting
   a key that is set replaces its value where it stands (entries are saved in the order they
   were first set). The fingerprints (general.fingerprint.*) are set at save. */
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
/* Reads back an unsigned integer entry (U32 or U64) set on the writer, for a caller that
   builds a file in steps (a converter checks the towers it adds against the LLM's size);
   LEARN_ERR_NOT_FOUND when absent, LEARN_ERR_FORMAT for another type. */
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
/* The same under a lock the caller holds (learn_lock_acquire; the path is the lock's), which
   stays held: for read-modify-write, and for several saves in a row (a trainer's best epoch
   so far). */
learn_status learn_writer_save_locked(learn_writer *w, learn_lock *lock);
/* Writes the file to memory allocated with the writer's allocator, aligned to 64 bytes
   (suitable for learn_model_open_memory). Free it with learn_writer_free_buffer. */
learn_status learn_writer_save_memory(learn_writer *w, void **data, size_t *size);
void learn_writer_free_buffer(learn_writer *w, void *data);

/* ---- Locks on files that are rewritten (see "Writing files" at the top) ----
   Not with LEARN_NO_STDIO. */
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

/* ============================================================================================
   ==== Contexts ====
   A context is what a model runs with: a thread pool, the kernels of one ISA level, scratch
   memory, encoding statistics and the last error message. Tokenizing, encoding, the towers and
   top-K take one; it belongs to one thread at a time.
   ============================================================================================ */

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
                                  "avxvnni", "avx512", "amx", "neon", "neon_dotprod"; "auto"
                                  never picks amx, which runs only when named (it is checked
                                  under emulation, not yet on AMX hardware). A level
                                  the CPU, the OS or the build lacks makes learn_ctx_new fail
                                  with LEARN_ERR_UNSUPPORTED (learn_isa_check says why). The
                                  Q8_0 / Q4_0 products of scalar, avx512 and amx are equal bit
                                  for bit; the other levels agree with them to rounding. */
} learn_ctx_params;

learn_ctx_params learn_ctx_default_params(void);

/* Creates a context bound to a model (the model must outlive it); params may be NULL for the
   defaults. Errors: LEARN_ERR_ARG (n_threads outside 0..256, batch_tokens above 2^20, a
   pooling that is not one of learn_pooling, a partly set allocator, an isa that names no
   level), LEARN_ERR_UNSUPPORTED (a level this CPU, OS or build lacks: learn_isa_check says
   why), LEARN_ERR_NOMEM (memory or a thread could not be had). */
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

/* ============================================================================================
   ==== Tokenizer ====
   Text to token ids and back with the tokenizer stored in the model file ("The tokenizer" in
   the format above). A model without one has no tokenizer: these functions then return
   LEARN_ERR_NOT_FOUND.

   Which tokens are "special": control tokens (BOS, EOS, <|im_start|>, ...) and unknown-type
   tokens are never recognised in text unless LEARN_TOKENIZE_PARSE_SPECIAL is given: by default
   "<|im_start|>" in an item's text is just text. User-defined tokens (added tokens that are
   not special, such as MPT's runs of spaces) belong to the vocabulary's normal segmentation
   and are always recognised, as llama.cpp and Hugging Face tokenizers do.
   ============================================================================================ */

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

/* ============================================================================================
   ==== Content encoder ====
   Items to content embeddings with the frozen LLM ("The LLM" in the format above): token ids
   (learn_encode_ids) or rendered texts (learn_encode) in, one embedding of n_embd floats per
   item out, pooled and normalised as the context says.
   ============================================================================================ */

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

/* What a context has encoded since it was made: counts, and where the time went (learn-cli
   bench reports the products' speed as n_macs / ns_matmul against the CPU's int8 peak). */
typedef struct learn_encode_stats {
    uint64_t n_items;     /* items encoded by this context */
    uint64_t n_tokens;    /* tokens run through the LLM */
    uint64_t n_truncated; /* items cut to encoder.max_tokens */
    uint64_t n_macs;      /* multiply-accumulates of the LLM's matrix products */
    uint64_t ns_forward;  /* wall time of the LLM forward passes, in nanoseconds */
    uint64_t ns_matmul;   /* of which in the matrix products (activation quantization and
                             bias included): n_macs / ns_matmul is the products' speed */
} learn_encode_stats;

/* The context's statistics so far (they only grow). */
learn_status learn_ctx_encode_stats(const learn_ctx *ctx, learn_encode_stats *stats);

/* ============================================================================================
   ==== Towers ====
   The preference-alignment towers ("The towers" in the format above) map content embeddings
   (d_in floats per item, as learn_encode makes them) to the collaborative space (d_out
   floats, unit length): one transformer (adaptor -> blocks -> projection -> L2), run on one
   item at a time as the item tower and on a history of items, oldest first, as the user tower
   (causal, its output at the last position). Score = dot product (cosine).
   A model without towers aligns nothing (the paper's "w/o alignment" baseline): an item
   embedding is its L2-normalised content, a user embedding the L2-normalised mean of the
   L2-normalised history contents, and d_out = d_in = the LLM's n_embd.
   Content must be finite: a NaN or Inf gives LEARN_ERR_NUMERIC naming the item and element.
   ============================================================================================ */

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

/* ============================================================================================
   ==== Catalogs and top-K ====
   A catalog holds, for each item, its external id, its content embedding (f16) and its item
   embedding (f32, L2-normalised), plus the fingerprints of the model that made them. It is a
   .learn file ("Catalogs" in the format above), memory-mapped and validated at open:
   checksum, unique ids, finite item embeddings. Top-K scores a query (a user embedding) by
   dot product against every item; builders write catalogs, a part at a time when a catalog
   is built on many machines (shards).
   ============================================================================================ */

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

/* ---- Building catalogs ----
   Add items (id, content embedding, item embedding), then save. A catalog's fingerprints come
   from the model that made its embeddings, or from another catalog of that model: they are
   what learn_catalog_check_model compares. */
typedef struct learn_catalog_builder learn_catalog_builder;

/* A builder of items of d_content and d_item floats. The model (may be NULL: fingerprints 0)
   stamps its fingerprints on the catalog and lends its allocator. LEARN_ERR_ARG for a
   dimension outside 1..65536. */
learn_status learn_catalog_builder_new(const learn_model *model, uint32_t d_content,
                                       uint32_t d_item, learn_catalog_builder **builder);
/* A builder for more items of the model that made cat (merging catalogs or shards, extending
   one without the model at hand): cat's dimensions, fingerprints and allocator. cat may be
   closed afterwards; the new catalog is no shard. */
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

/* ---- Shards ----
   A catalog built on many machines is built in `count` parts, each from the same item
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
