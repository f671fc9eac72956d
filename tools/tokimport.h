/* tokimport.h - importers that add a tokenizer section ("tokenizer.*" keys and tensors, see the
   format spec in learn.h) to a learn_writer, from the tokenizer formats of the ecosystem:

     GGUF metadata      tokenizer.ggml.* of a model or vocab-only GGUF (llama.cpp's semantics:
                        its defaults per tokenizer model, special ids, add_bos, token types,
                        the attributes it derives from token texts and the model name)
     tokenizer.json     Hugging Face tokenizers, byte-level BPE (Llama 3, Qwen2/3, GPT-2 ...);
                        tokenizer_config.json beside it is read for special tokens
     vocab.json +       a folder of GPT-2-style files (+ added_tokens.json, tokenizer_config.json
     merges.txt         when present), e.g. Qwen2
     llama2.c tok*.bin  karpathy/llama2.c's export of a SentencePiece vocabulary (byte fallback,
                        <unk> = 0, BOS = 1, EOS = 2)
     tokenizer.model    a SentencePiece BPE model (protobuf): pieces, scores, types, special ids
                        and normalizer flags (its character map, if any, is not applied, as in
                        llama.cpp); a tokenizer.json with byte_fallback defers to the
                        tokenizer.model beside it

   Each importer replaces any tokenizer.* entries already in the writer. Errors return a status
   and a one-line message naming the file and field; warnings (for example merges dropped
   because they name tokens that are not in the vocabulary) go to opts->warn. */
#ifndef LEARN_TOOLS_TOKIMPORT_H
#define LEARN_TOOLS_TOKIMPORT_H

#include <stddef.h>

#include "gguf.h"
#include "learn.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tokimport_opts {
    /* Pre-tokenizer name for byte-level BPE (llama.cpp's tokenizer.ggml.pre names: "gpt-2",
       "llama-bpe", "qwen2", ...), overriding what the source says or what is guessed. */
    const char *pre;
    /* spm only: SentencePiece's remove_extra_whitespaces (1 on, 0 off). -1 (the default of
       tokimport_default_opts) decides per source: GGUF off (llama.cpp ignores the flag),
       tokenizer.model as its normalizer says, llama2.c files on unless the vocabulary is
       Llama 2's (see tokimport_llama2c). */
    int remove_extra_ws;
    /* Pad the vocabulary with unused "[PADi]" tokens up to this size (0: as the source). */
    uint32_t n_vocab;
    void (*warn)(void *user, const char *msg); /* NULL: warnings are dropped */
    void *user;
} tokimport_opts;

tokimport_opts tokimport_default_opts(void);

/* From GGUF metadata (the file stays open while the writer is used: nothing is borrowed, but
   the caller keeps ownership of g). */
learn_status tokimport_gguf(learn_writer *w, const gguf_file *g, const tokimport_opts *opts,
                            char *err, size_t errn);
/* From a Hugging Face tokenizer.json. */
learn_status tokimport_hf_json(learn_writer *w, const char *path, const tokimport_opts *opts,
                               char *err, size_t errn);
/* From a folder with vocab.json and merges.txt. */
learn_status tokimport_vocab_merges(learn_writer *w, const char *dir, const tokimport_opts *opts,
                                    char *err, size_t errn);
/* From a llama2.c tokenizer (tokenizer.bin, tok512.bin, ...). The file has no normalizer
   settings: remove_extra_ws = -1 applies SentencePiece's default (on) unless the vocabulary
   is Llama 2's 32000-piece one, whose model turns it off. */
learn_status tokimport_llama2c(learn_writer *w, const char *path, const tokimport_opts *opts,
                               char *err, size_t errn);

/* From a SentencePiece model file (tokenizer.model), BPE type only. remove_extra_ws = -1
   follows the model's normalizer. tokenizer_config.json beside it, if any, sets special
   tokens and add_bos/add_eos. */
learn_status tokimport_spm_model(learn_writer *w, const char *path, const tokimport_opts *opts,
                                 char *err, size_t errn);

/* The kind of tokenizer source at a path, by content: */
typedef enum tokimport_kind {
    TOKIMPORT_UNKNOWN = 0,
    TOKIMPORT_LEARN,        /* a .learn model (nothing to import) */
    TOKIMPORT_GGUF,
    TOKIMPORT_HF_JSON,      /* a tokenizer.json, or a folder holding one */
    TOKIMPORT_VOCAB_MERGES, /* a folder with vocab.json and merges.txt */
    TOKIMPORT_LLAMA2C,
    TOKIMPORT_SPM_MODEL     /* a SentencePiece tokenizer.model */
} tokimport_kind;

tokimport_kind tokimport_detect(const char *path);

/* Imports whatever `path` is (not a .learn model). */
learn_status tokimport_auto(learn_writer *w, const char *path, const tokimport_opts *opts,
                            char *err, size_t errn);

#ifdef __cplusplus
}
#endif

#endif
