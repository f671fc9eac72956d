/* train.h - the training engine of the towers (tools only; the runtime never trains).

   What it trains: the towers of learn.c's Towers section (adaptor -> n_layer transformer
   blocks, post-LN BERT by default -> proj -> L2-normalise), one set of weights for users and
   items, with the objective of the official LEARN code:
     - every training sequence (a user's items, oldest first) is cut into windows of at most
       max_history + 1 items, from the most recent end; windows shorter than min_seq_len are
       not used;
     - each epoch visits the windows in a new random order, batch_size at a time; in each window
       a target position is drawn uniformly from its second half ([n/2, n-1]), the history is
       the items before it (at most max_history);
     - dense = 1 ("dense all-action"): instead, every position of the window predicts the next
       item (histories window[0..p], targets window[p+1]);
     - loss: in-batch softmax cross-entropy over scale x cosine (scale 20 = 1/temperature
       0.05) between each user embedding and every target item embedding of the batch, the
       true target as label; other occurrences of the same target item in the batch are masked
       out (logit -inf). The mean over the batch's users.
     - AdamW (torch's formula; betas 0.9/0.98, eps 1e-6, weight decay 0 by default), learning
       rate: linear warm-up for warmup_steps then cosine decay to 0 at the last step
       (transformers' get_cosine_schedule_with_warmup: the rate at step k is lr * k / warmup
       during warm-up, so step 0 of a warm-up does not move the weights);
     - optional dropout (0 by default) on the attention and feed-forward outputs before their
       residual additions (BERT's hidden dropout), the mask a pure function of (seed, step,
       position in the batch).
   Initialisation: as BERT: weights normal(0, init_std = 0.02), biases 0, LayerNorm 1 and 0;
   or the towers of an existing model (continue training).

   Determinism: every random choice is a function of (seed, epoch, step), every sum runs in a
   fixed order, and the work is split between threads by output rows and columns only, so the
   weights after N steps are bit-identical for a given seed, whatever the number of threads
   (and whether the run was interrupted: a checkpoint holds the weights, the AdamW moments and
   the step; resuming from it continues exactly).

   Numerics: all training arithmetic is in train_real (double by default, so that gradients
   can be checked against finite differences; build with -DTRAIN_REAL=float for speed). The
   towers are written as float (F32, F16, Q8_0, ...).

   Typical use (the learn-cli train command):

       train_config cfg = train_default_config();      // edit fields
       train_data data = {...};                          // content + sequences (+ validation)
       train_state *t;
       if (train_new(&cfg, &data, NULL, &t, err, sizeof err)) fail(err);
       while (!train_done(t)) {
           train_stats s;
           if (train_epoch(t, &s)) fail(train_errmsg(t));
           train_metrics m;
           if (data.n_valid && train_validate(t, &m) == LEARN_OK) print(m.recall10, m.ndcg10);
           train_save_checkpoint(t, "run.ckpt");         // atomic
       }
       learn_writer *w; ... copy the LLM etc. ...
       train_write_towers(t, w, LEARN_TYPE_F32);        // tower.* metadata and tensors
       train_free(t);
   and after a crash: train_resume("run.ckpt", &data, n_threads, &t, err, sizeof err). */
#ifndef LEARN_TRAIN_H
#define LEARN_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "learn.h"

#ifndef TRAIN_REAL
#define TRAIN_REAL double
#endif
typedef TRAIN_REAL train_real;

typedef enum train_act { TRAIN_ACT_GELU = 0, TRAIN_ACT_GELU_TANH = 1, TRAIN_ACT_RELU = 2 } train_act;

typedef struct train_config {
    /* the towers (ignored by train_new when it starts from a model: those come from it) */
    uint32_t d_model;       /* default 256 */
    uint32_t n_layer;       /* default 2 */
    uint32_t n_head;        /* default 4; divides d_model */
    uint32_t d_ff;          /* default 4 * d_model when 0 */
    uint32_t d_out;         /* default 128 */
    float eps;              /* LayerNorm epsilon, default 1e-12 */
    train_act act;          /* default GELU (erf) */
    int pre_norm;           /* default 0 (post-LN, BERT) */
    uint32_t max_positions; /* learned positions, default 0 (none, as the official code) */
    int standardize;        /* default 1: the towers read content standardized per dimension
                               ((x - mean) * 1/std over the catalog; written as
                               tower.input_mean/scale); 0: raw content, as the official code */
    /* the data */
    uint32_t max_history;   /* items a user history holds at most, default 40 */
    uint32_t min_seq_len;   /* shortest window used (history + target), default 5, >= 2 */
    int dense;              /* default 0: one target per window; 1: every position */
    /* the optimisation */
    uint32_t batch_size;    /* windows per step, default 64 */
    uint32_t epochs;        /* default 10 */
    double lr;              /* peak learning rate, default 1e-4 */
    uint32_t warmup_steps;  /* default 0 */
    double weight_decay;    /* default 0 */
    double beta1, beta2, adam_eps; /* default 0.9, 0.98, 1e-6 */
    double scale;           /* cosine multiplier (1 / temperature), default 20 */
    double dropout;         /* default 0; in [0, 1) */
    int logq;               /* default 0; 1: subtract log(item frequency) from the in-batch
                               logits (sampling-bias correction; the official code does not) */
    double init_std;        /* default 0.02 */
    uint64_t seed;          /* default 42 */
    int n_threads;          /* default 1; results do not depend on it */
} train_config;

train_config train_default_config(void);

/* Borrowed by the trainer: must stay valid and unchanged while the train_state lives. */
typedef struct train_data {
    uint32_t n_items, d_in;
    const float *content;        /* [n_items][d_in] content embeddings (finite) */
    uint32_t n_seqs;             /* training sequences (e.g. users) */
    const uint32_t *seq_off;     /* [n_seqs + 1] offsets into seq */
    const uint32_t *seq;         /* item indices, oldest first, each < n_items */
    uint32_t n_valid;            /* validation examples (0: none) */
    const uint32_t *valid_off;   /* [n_valid + 1] offsets into valid_hist */
    const uint32_t *valid_hist;  /* histories, oldest first (the last max_history are used) */
    const uint32_t *valid_target;/* [n_valid] the item to find */
} train_data;

typedef struct train_state train_state;

typedef struct train_stats {
    uint64_t step;      /* steps done after this call */
    uint32_t epoch;     /* epoch of the last step */
    double loss;        /* of the last step, or the mean over the epoch (train_epoch) */
    double lr;          /* learning rate of the last step */
    uint32_t n_users;   /* user embeddings in the last step's loss */
} train_stats;

typedef struct train_metrics {
    double recall10, ndcg10, recall50, ndcg50; /* Recall@K (= HR@K), NDCG@K */
    uint32_t n;                                /* examples evaluated */
} train_metrics;

/* Validates cfg and data (item indices in range, finite content, dimensions) and makes a
   trainer: fresh weights, or init_from's towers when it is not NULL (its tower.* metadata
   replaces cfg's tower fields; its d_in must equal data->d_in). Windows are counted here:
   no usable window is LEARN_ERR_ARG. On failure *out is NULL and err says why. */
learn_status train_new(const train_config *cfg, const train_data *data,
                       const learn_model *init_from, train_state **out, char *err, size_t errn);

/* Reopens a checkpoint written by train_save_checkpoint: weights, AdamW moments, step and
   configuration. data must be the same as when it was written (its digest is checked:
   LEARN_ERR_MISMATCH otherwise). n_threads (0: the checkpoint's) does not change results. */
learn_status train_resume(const char *path, const train_data *data, int n_threads,
                          train_state **out, char *err, size_t errn);

void train_free(train_state *t);
/* The last error message of t. */
const char *train_errmsg(const train_state *t);
/* The compilation of the hot loops t runs: "avx2" or "baseline" (the same results; chosen as
   the runtime's kernels are, LEARN_ISA=scalar forcing the baseline). */
const char *train_isa(const train_state *t);

/* One optimisation step. LEARN_ERR_STATE once every epoch is done. stats may be NULL. */
learn_status train_step(train_state *t, train_stats *stats);
/* Steps to the end of the current epoch; stats->loss is the epoch's mean loss. */
learn_status train_epoch(train_state *t, train_stats *stats);
int train_done(const train_state *t);
uint64_t train_steps_done(const train_state *t);
uint64_t train_steps_per_epoch(const train_state *t);
uint64_t train_steps_total(const train_state *t);
/* Training windows (examples per epoch) and sequences too short to use. */
uint32_t train_n_windows(const train_state *t);
uint32_t train_n_skipped(const train_state *t);

/* The paper's protocol over data->valid_*: full ranking over every item by cosine, rank =
   number of items scored strictly higher than the target. */
learn_status train_validate(train_state *t, train_metrics *m);

/* Embeddings with the current weights (unit vectors, float): user = 1: one history items[0..n)
   (its last max_history items) -> out[d_out]; user = 0: n items -> out[n][d_out]. */
learn_status train_embed(train_state *t, const uint32_t *items, size_t n, int user, float *out);

/* Writes everything needed to resume (atomically: temporary file, fsync, rename). The file is
   also a tower model (tower.* in F32) that learn_model_open and train_new(init_from) read. */
learn_status train_save_checkpoint(train_state *t, const char *path);

/* Adds the tower.* metadata and tensors of the current weights to w; matrices as
   weight_type (F32, F16, BF16, Q8_0 or Q4_0; the quantized ones need every input dimension to
   be a multiple of 32), vectors F32. */
learn_status train_write_towers(const train_state *t, learn_writer *w, learn_type weight_type);

/* ---- For tests (gradient checks) ----
   One window given explicitly: items[0..len), target position target_pos (ignored in dense
   mode), as a training step would use it. */
typedef struct train_example {
    const uint32_t *items;
    uint32_t len;
    uint32_t target_pos;
} train_example;

/* The loss of a batch with the current weights and the dropout masks of step `mask_step`;
   with backward, the gradient is left in train_grads (overwritten). Does not step. */
learn_status train_batch_loss(train_state *t, const train_example *ex, size_t n,
                              uint64_t mask_step, int backward, double *loss);
size_t train_n_params(const train_state *t);
train_real *train_params(train_state *t);           /* mutable */
const train_real *train_grads(const train_state *t);
/* Parameter tensor i (0 <= i < train_n_tensors): its name (the tower.* tensor name), offset
   into the parameter vector and element count. */
uint32_t train_n_tensors(const train_state *t);
const char *train_tensor(const train_state *t, uint32_t i, size_t *offset, size_t *count);

#endif
