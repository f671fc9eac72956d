/* A byte-level BPE trainer (tools): a vocabulary fitted to a set of texts. */
#ifndef LEARN_BPE_TRAIN_H
#define LEARN_BPE_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "learn.h"

typedef struct bpe_train_stats {
    uint32_t n_vocab, n_merges;
    size_t n_words; /* distinct pre-tokenized words */
} bpe_train_stats;

/* Learns merges from n_texts texts until the vocabulary (256 bytes, the merges, and one
   control token <|endoftext|>) reaches vocab_size or no pair occurs twice, and adds the
   tokenizer section (tokenizer.model "bpe", pre-tokenizer "gpt-2") to w. stats may be NULL. */
learn_status bpe_train(const char *const *texts, const size_t *lens, size_t n_texts,
                       uint32_t vocab_size, learn_writer *w, bpe_train_stats *stats, char *err,
                       size_t errn);

#endif
