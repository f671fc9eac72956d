/* The training engine (tools/train.c): gradients against finite differences and PyTorch,
   learning on a synthetic problem, determinism, kill-and-resume, agreement with the runtime's
   towers, bad input. */
#include "train.h"

/* ---- A small synthetic problem: n_clusters groups of items; each user walks within one
   group, mostly to the next item of the group. Contents are random (they say nothing about
   the groups: the towers must learn them from the sequences). ---- */

typedef struct train_synth {
    uint32_t n_items, d_in, n_users, len;
    float *content;
    uint32_t *seq_off, *seq;
    uint32_t *valid_off, *valid_hist, *valid_target;
    train_data data;
} train_synth;

static void train_synth_make(train_synth *s, uint64_t seed, uint32_t n_users) {
    memset(s, 0, sizeof *s);
    s->n_items = 60;
    s->d_in = 16;
    s->n_users = n_users;
    s->len = 20;
    const uint32_t groups = 6, gsize = 10;
    test_rng r = {seed};
    s->content = (float *)malloc((size_t)s->n_items * s->d_in * sizeof(float));
    test_fill_normal(&r, s->content, (size_t)s->n_items * s->d_in, 1.0);
    s->seq_off = (uint32_t *)malloc((n_users + 1) * sizeof(uint32_t));
    s->seq = (uint32_t *)malloc((size_t)n_users * s->len * sizeof(uint32_t));
    s->valid_off = (uint32_t *)malloc((n_users + 1) * sizeof(uint32_t));
    s->valid_hist = (uint32_t *)malloc((size_t)n_users * s->len * sizeof(uint32_t));
    s->valid_target = (uint32_t *)malloc(n_users * sizeof(uint32_t));
    s->seq_off[0] = s->valid_off[0] = 0;
    uint32_t walk[64];
    for (uint32_t u = 0; u < n_users; u++) {
        uint32_t g = (uint32_t)(test_rand(&r) % groups), pos = (uint32_t)(test_rand(&r) % gsize);
        for (uint32_t i = 0; i <= s->len; i++) {
            walk[i] = g * gsize + pos;
            pos = test_randu(&r) < 0.8 ? (pos + 1) % gsize : (uint32_t)(test_rand(&r) % gsize);
        }
        /* training: the first len items; validation: those as history, the next as target */
        memcpy(s->seq + u * s->len, walk, s->len * sizeof(uint32_t));
        s->seq_off[u + 1] = (u + 1) * s->len;
        memcpy(s->valid_hist + u * s->len, walk, s->len * sizeof(uint32_t));
        s->valid_off[u + 1] = (u + 1) * s->len;
        s->valid_target[u] = walk[s->len];
    }
    s->data = (train_data){s->n_items, s->d_in, s->content, n_users, s->seq_off, s->seq,
                           n_users, s->valid_off, s->valid_hist, s->valid_target};
}

static void train_synth_free(train_synth *s) {
    free(s->content);
    free(s->seq_off);
    free(s->seq);
    free(s->valid_off);
    free(s->valid_hist);
    free(s->valid_target);
}

static train_config train_small_config(void) {
    train_config c = train_default_config();
    c.d_model = 32;
    c.n_layer = 1;
    c.n_head = 2;
    c.d_ff = 64;
    c.d_out = 16;
    c.max_history = 10;
    c.batch_size = 16;
    c.epochs = 6;
    c.lr = 3e-3;
    c.warmup_steps = 10;
    c.seed = 7;
    return c;
}

static train_state *train_new_ok(const train_config *c, const train_data *d, const learn_model *from) {
    char err[256];
    train_state *t = NULL;
    learn_status st = train_new(c, d, from, &t, err, sizeof err);
    ck_assert_msg(st == LEARN_OK, "train_new: %s", err);
    return t;
}

/* ---- Gradients against central finite differences (double precision) ---- */

/* The configurations checked: post-LN GELU; pre-LN tanh-GELU with positions; post-LN ReLU with
   dropout; dense all-action. */
static train_config train_grad_config(int which) {
    train_config c = train_default_config();
    c.d_model = 8;
    c.n_layer = 2;
    c.n_head = 2;
    c.d_ff = 14; /* not a multiple of the vector length: the loops' scalar tails */
    c.d_out = 6;
    c.eps = 1e-5f;
    c.init_std = 0.4;
    c.max_history = 6;
    c.min_seq_len = 2;
    c.batch_size = 4;
    c.seed = 3 + (uint64_t)which;
    if (which == 1) c.pre_norm = 1, c.act = TRAIN_ACT_GELU_TANH, c.max_positions = 8;
    if (which == 2) c.act = TRAIN_ACT_RELU, c.dropout = 0.2;
    if (which == 3) c.dense = 1;
    return c;
}

START_TEST(test_train_gradcheck) {
    train_synth s;
    train_synth_make(&s, 11, 8);
    s.data.d_in = 16;
    train_config c = train_grad_config(_i);
    train_state *t = train_new_ok(&c, &s.data, NULL);
    /* LayerNorm biases start at zero and weights at one: perturb them so that every gradient
       path is exercised. */
    train_real *P = train_params(t);
    test_rng r = {99};
    for (size_t i = 0; i < train_n_params(t); i++) P[i] += (train_real)(0.05 * test_randn(&r));
    /* Four windows; two share their target item (masked in each other's rows). */
    static const uint32_t w0[] = {1, 2, 3, 4, 5}, w1[] = {7, 8, 9, 5}, w2[] = {10, 11, 12, 13, 14, 15, 16},
                          w3[] = {20, 21, 22};
    train_example ex[4] = {{w0, 5, 4}, {w1, 4, 3}, {w2, 7, 5}, {w3, 3, 1}};
    double loss;
    ck_assert_int_eq(train_batch_loss(t, ex, 4, 5, 1, &loss), LEARN_OK);
    size_t np = train_n_params(t);
    train_real *g = (train_real *)malloc(np * sizeof *g);
    memcpy(g, train_grads(t), np * sizeof *g);
    double worst = 0;
    const char *worst_name = "";
    for (uint32_t k = 0; k < train_n_tensors(t); k++) {
        size_t off, cnt;
        const char *name = train_tensor(t, k, &off, &cnt);
        double max_diff = 0, max_ref = 0;
        size_t stride = cnt > 10 ? cnt / 10 : 1;
        for (size_t i = 0; i < cnt; i += stride) {
            train_real keep = P[off + i], h = (train_real)1e-5;
            double lp, lm;
            P[off + i] = keep + h;
            ck_assert_int_eq(train_batch_loss(t, ex, 4, 5, 0, &lp), LEARN_OK);
            P[off + i] = keep - h;
            ck_assert_int_eq(train_batch_loss(t, ex, 4, 5, 0, &lm), LEARN_OK);
            P[off + i] = keep;
            double fd = (lp - lm) / (2.0 * (double)h);
            max_diff = fmax(max_diff, fabs(fd - (double)g[off + i]));
            max_ref = fmax(max_ref, fmax(fabs(fd), fabs((double)g[off + i])));
        }
        double rel = max_ref < 1e-9 ? max_diff : max_diff / max_ref;
        /* (a key bias shifts a whole row of scores: softmax cancels it, its gradient is 0) */
        ck_assert_msg(max_ref > 1e-7 || strstr(name, "attn_k.bias"), "%s: zero gradient", name);
        if (rel > worst) worst = rel, worst_name = name;
    }
    printf("train gradcheck config %d: loss %.4f, worst relative error %.2e (%s)\n", _i, loss,
           worst, worst_name);
    ck_assert_msg(worst <= 1e-3, "config %d: %s: relative error %g", _i, worst_name, worst);
    free(g);
    train_free(t);
    train_synth_free(&s);
}
END_TEST

/* ---- Gradients against PyTorch (tests/fixtures/gen_train.py) ---- */

START_TEST(test_train_torch_grads) {
    static const char *const files[] = {"tests/fixtures/train-grads.learn",
                                        "tests/fixtures/train-grads-dense.learn"};
    char err[256];
    learn_model *m;
    ck_assert_msg(learn_model_open(files[_i], NULL, &m, err, sizeof err) == LEARN_OK, "%s", err);
    learn_tensor_info content, seqs, lens, tpos;
    ck_assert_int_eq(learn_model_tensor_find(m, "test.content", &content), LEARN_OK);
    ck_assert_int_eq(learn_model_tensor_find(m, "test.seqs", &seqs), LEARN_OK);
    ck_assert_int_eq(learn_model_tensor_find(m, "test.lens", &lens), LEARN_OK);
    ck_assert_int_eq(learn_model_tensor_find(m, "test.target_pos", &tpos), LEARN_OK);
    double want_loss;
    ck_assert_int_eq(learn_model_meta_f64(m, "test.loss", &want_loss), LEARN_OK);
    uint32_t dense = 0;
    learn_model_meta_u32(m, "test.dense", &dense);
    size_t n_ex = (size_t)lens.shape[0];
    const int32_t *sq = (const int32_t *)seqs.data, *ln = (const int32_t *)lens.data,
                  *tp = (const int32_t *)tpos.data;
    uint32_t *items = (uint32_t *)malloc((size_t)seqs.shape[0] * sizeof(uint32_t));
    for (size_t i = 0; i < (size_t)seqs.shape[0]; i++) items[i] = (uint32_t)sq[i];
    train_example ex[16];
    size_t off = 0;
    for (size_t i = 0; i < n_ex; i++) {
        ex[i] = (train_example){items + off, (uint32_t)ln[i], (uint32_t)tp[i]};
        off += (size_t)ln[i];
    }
    uint32_t one = 0, offs[2] = {0, 1};
    train_data d = {(uint32_t)content.shape[0], (uint32_t)content.shape[1],
                    (const float *)content.data, 1, offs, &one, 0, NULL, NULL, NULL};
    train_config c = train_default_config();
    c.max_history = 40;
    c.min_seq_len = 1 + 1;
    c.dense = (int)dense;
    train_state *t = NULL;
    /* one sequence of one item has no window: allowed for this use through a 2-item sequence */
    uint32_t two[2] = {0, 1}, offs2[2] = {0, 2};
    d.seq = two;
    d.seq_off = offs2;
    ck_assert_msg(train_new(&c, &d, m, &t, err, sizeof err) == LEARN_OK, "%s", err);
    double loss;
    ck_assert_int_eq(train_batch_loss(t, ex, n_ex, 0, 1, &loss), LEARN_OK);
    ck_assert_msg(fabs(loss - want_loss) <= 1e-5 * fmax(1.0, fabs(want_loss)), "loss %.8f vs torch %.8f",
                  loss, want_loss);
    double worst = 0;
    const char *worst_name = "";
    for (uint32_t k = 0; k < train_n_tensors(t); k++) {
        size_t o, cnt;
        const char *name = train_tensor(t, k, &o, &cnt);
        char gname[96];
        snprintf(gname, sizeof gname, "grad.%s", name);
        learn_tensor_info gi;
        ck_assert_msg(learn_model_tensor_find(m, gname, &gi) == LEARN_OK, "%s missing", gname);
        ck_assert_uint_eq(gi.n_elements, cnt);
        const float *gr = (const float *)gi.data;
        double md = 0, mr = 0;
        for (size_t i = 0; i < cnt; i++) {
            md = fmax(md, fabs((double)train_grads(t)[o + i] - gr[i]));
            mr = fmax(mr, fabs((double)gr[i]));
        }
        double rel = md / fmax(mr, 1e-9);
        if (rel > worst) worst = rel, worst_name = name;
    }
    printf("train torch gradients (%s): loss %.6f (torch %.6f), worst relative error %.2e (%s)\n",
           dense ? "dense" : "one target", loss, want_loss, worst, worst_name);
    ck_assert_msg(worst <= 1e-3, "%s: %g", worst_name, worst);
    train_free(t);
    free(items);
    learn_model_close(m);
}
END_TEST

/* ---- Training lowers the loss and improves validation recall ---- */

START_TEST(test_train_learns) {
    train_synth s;
    train_synth_make(&s, 5, 200);
    train_config c = train_small_config();
    c.n_threads = 2;
    c.lr = 1e-3;
    c.epochs = 15;
    train_state *t = train_new_ok(&c, &s.data, NULL);
    train_metrics m0, m1;
    ck_assert_int_eq(train_validate(t, &m0), LEARN_OK);
    train_stats first, last;
    ck_assert_int_eq(train_epoch(t, &first), LEARN_OK);
    while (!train_done(t)) ck_assert_int_eq(train_epoch(t, &last), LEARN_OK);
    ck_assert_int_eq(train_validate(t, &m1), LEARN_OK);
    printf("train synthetic: %u windows, %llu steps; loss %.3f (epoch 1) -> %.3f (epoch %u); "
           "Recall@10 %.3f -> %.3f, NDCG@10 %.3f -> %.3f\n",
           train_n_windows(t), (unsigned long long)train_steps_done(t), first.loss, last.loss,
           last.epoch + 1, m0.recall10, m1.recall10, m0.ndcg10, m1.ndcg10);
    ck_assert(last.loss < first.loss - 0.5);
    ck_assert(m1.recall10 > m0.recall10 + 0.2);
    ck_assert(m1.ndcg10 > m0.ndcg10);
    ck_assert_int_eq(train_step(t, NULL), LEARN_ERR_STATE);
    train_free(t);
    train_synth_free(&s);
}
END_TEST

/* ---- Determinism: the same seed gives the same bits, for 1 or 2 threads; kill-and-resume
   ends bit-identical to an uninterrupted run. ---- */

static train_state *train_run(const train_config *c, const train_data *d, uint64_t steps) {
    train_state *t = train_new_ok(c, d, NULL);
    for (uint64_t k = 0; k < steps; k++) ck_assert_int_eq(train_step(t, NULL), LEARN_OK);
    return t;
}

START_TEST(test_train_deterministic) {
    train_synth s;
    train_synth_make(&s, 6, 40);
    train_config c = train_small_config();
    c.dropout = 0.1;
    c.epochs = 2;
    train_state *a = train_run(&c, &s.data, 8);
    c.n_threads = 2;
    train_state *b = train_run(&c, &s.data, 8);
    size_t n = train_n_params(a);
    ck_assert(memcmp(train_params(a), train_params(b), n * sizeof(train_real)) == 0);
    c.seed = 8;
    train_state *d = train_run(&c, &s.data, 8);
    ck_assert(memcmp(train_params(a), train_params(d), n * sizeof(train_real)) != 0);
    train_free(a);
    train_free(b);
    train_free(d);
    train_synth_free(&s);
}
END_TEST

/* The hot loops run on vectors (AVX2 where the CPU has it); LEARN_ISA=scalar selects the
   baseline compilation. Both keep every sum in the scalar order, so training gives the same
   bits. Sizes that leave a tail after the vectors everywhere (13 content dims, 10 features,
   18 hidden, 6 outputs), pre-LN with positions, dropout, dense, 2 threads. */
START_TEST(test_train_isa_identical) {
    train_synth s;
    train_synth_make(&s, 12, 40);
    const uint32_t d_in = 13; /* keep the first 13 of the 16 content dims */
    for (uint32_t u = 0; u < s.n_items; u++)
        memmove(s.content + (size_t)u * d_in, s.content + (size_t)u * s.d_in, d_in * sizeof(float));
    s.d_in = s.data.d_in = d_in;
    train_config c = train_small_config();
    c.d_model = 10, c.n_head = 2, c.d_ff = 18, c.d_out = 6;
    c.pre_norm = 1, c.max_positions = 16, c.dropout = 0.1, c.dense = 1, c.n_threads = 2;
    const char *old = getenv("LEARN_ISA");
    char saved[32] = "";
    if (old) snprintf(saved, sizeof saved, "%s", old);
    setenv("LEARN_ISA", "scalar", 1);
    train_state *a = train_run(&c, &s.data, 6);
    unsetenv("LEARN_ISA");
    train_state *b = train_run(&c, &s.data, 6);
    if (old) setenv("LEARN_ISA", saved, 1);
    ck_assert_str_eq(train_isa(a), "baseline");
    const int vec = strcmp(train_isa(b), "avx2") == 0;
    if (vec) {
        size_t n = train_n_params(a);
        ck_assert(memcmp(train_params(a), train_params(b), n * sizeof(train_real)) == 0);
        train_metrics ma, mb;
        ck_assert_int_eq(train_validate(a, &ma), LEARN_OK);
        ck_assert_int_eq(train_validate(b, &mb), LEARN_OK);
        ck_assert(ma.recall10 == mb.recall10 && ma.ndcg10 == mb.ndcg10);
    }
    train_free(a);
    train_free(b);
    train_synth_free(&s);
    if (!vec) TEST_SKIP("the training loops have no AVX2 compilation here (not x86, or no AVX2)");
}
END_TEST

START_TEST(test_train_resume) {
    train_synth s;
    train_synth_make(&s, 9, 40);
    train_config c = train_small_config();
    c.dropout = 0.1;
    c.epochs = 3;
    c.dense = _i;
    train_state *full = train_new_ok(&c, &s.data, NULL);
    while (!train_done(full)) ck_assert_int_eq(train_step(full, NULL), LEARN_OK);
    uint64_t total = train_steps_done(full), k = total / 2 + 1; /* mid-epoch */
    train_state *part = train_run(&c, &s.data, k);
    const char *ck = test_tmp_path("train.ckpt");
    ck_assert_msg(train_save_checkpoint(part, ck) == LEARN_OK, "%s", train_errmsg(part));
    train_free(part); /* "killed" */
    char err[256];
    train_state *res = NULL;
    ck_assert_msg(train_resume(ck, &s.data, 2, &res, err, sizeof err) == LEARN_OK, "%s", err);
    ck_assert_uint_eq(train_steps_done(res), k);
    while (!train_done(res)) ck_assert_int_eq(train_step(res, NULL), LEARN_OK);
    ck_assert_uint_eq(train_steps_done(res), total);
    ck_assert(memcmp(train_params(full), train_params(res), train_n_params(full) * sizeof(train_real)) == 0);
    /* The checkpoint is a tower model; it refuses other data. */
    learn_model *m;
    ck_assert_msg(learn_model_open(ck, NULL, &m, err, sizeof err) == LEARN_OK, "%s", err);
    learn_model_close(m);
    train_synth other;
    train_synth_make(&other, 10, 40);
    train_state *bad = NULL;
    ck_assert_int_eq(train_resume(ck, &other.data, 1, &bad, err, sizeof err), LEARN_ERR_MISMATCH);
    ck_assert_ptr_null(bad);
    train_synth_free(&other);
    unlink(ck);
    train_free(full);
    train_free(res);
    train_synth_free(&s);
}
END_TEST

/* The towers the trainer writes give, in the runtime, the trainer's own embeddings. */
START_TEST(test_train_runtime_agrees) {
    train_synth s;
    train_synth_make(&s, 12, 30);
    train_config c = train_small_config();
    c.n_layer = 2;
    c.pre_norm = _i == 1;
    c.max_positions = _i == 1 ? 16 : 0;
    c.act = _i == 1 ? TRAIN_ACT_GELU_TANH : TRAIN_ACT_GELU;
    c.epochs = 2;
    train_state *t = train_run(&c, &s.data, 5);
    learn_writer *w;
    learn_writer_new(NULL, &w);
    ck_assert_int_eq(train_write_towers(t, w, LEARN_TYPE_F32), LEARN_OK);
    test_blob b = test_blob_from_writer(w);
    learn_writer_free(w);
    char err[LEARN_ERRMSG_SIZE];
    learn_model *m;
    ck_assert_msg(learn_model_open_memory(b.p, b.n, NULL, &m, err, sizeof err) == LEARN_OK, "%s", err);
    learn_tensor_info mean_t;
    ck_assert_int_eq(learn_model_tensor_find(m, "tower.input_mean", &mean_t), LEARN_OK); /* standardized */
    learn_ctx *ctx;
    ck_assert_int_eq(learn_ctx_new(m, NULL, &ctx), LEARN_OK);
    float a[16], r[16], hist[12 * 16];
    const uint32_t *h = s.seq + 3 * s.len;
    for (int i = 0; i < 12; i++) memcpy(hist + i * 16, s.content + h[i] * 16, 16 * sizeof(float));
    ck_assert_int_eq(train_embed(t, h, 12, 1, a), LEARN_OK); /* last 10 (max_history) */
    ck_assert_int_eq(learn_user_embed(ctx, 12, hist, r), LEARN_OK);
    double e = 0;
    for (int i = 0; i < 16; i++) e = fmax(e, fabs(a[i] - r[i]));
    ck_assert_int_eq(train_embed(t, h, 1, 0, a), LEARN_OK);
    ck_assert_int_eq(learn_item_embed(ctx, 1, hist, r), LEARN_OK);
    for (int i = 0; i < 16; i++) e = fmax(e, fabs(a[i] - r[i]));
    ck_assert_msg(e <= 1e-5, "trainer vs runtime: %g", e);
    learn_ctx_free(ctx);
    /* Continuing from the written towers starts from the same weights. */
    train_state *t2 = train_new_ok(&c, &s.data, m);
    ck_assert_uint_eq(train_n_params(t2), train_n_params(t));
    for (size_t i = 0; i < train_n_params(t); i++)
        ck_assert((float)train_params(t)[i] == (float)train_params(t2)[i]);
    train_free(t2);
    learn_model_close(m);
    test_blob_free(&b);
    train_free(t);
    train_synth_free(&s);
}
END_TEST

/* tower.input_mean/scale: both or neither, finite, scale >= 0. */
START_TEST(test_train_standardization_checked) {
    train_synth s;
    train_synth_make(&s, 12, 10);
    train_config c = train_small_config();
    train_state *t = train_run(&c, &s.data, 5);
    learn_writer *w;
    learn_writer_new(NULL, &w);
    ck_assert_int_eq(train_write_towers(t, w, LEARN_TYPE_F32), LEARN_OK);
    learn_writer_remove_tensor(w, "tower.input_scale");
    test_blob b = test_blob_from_writer(w);
    ck_assert_open_fails(&b, LEARN_ERR_FORMAT, "go together");
    test_blob_free(&b);
    float bad[16];
    for (int i = 0; i < 16; i++) bad[i] = i == 3 ? -1.0f : 1.0f;
    uint64_t shape[1] = {16};
    learn_writer_add_tensor(w, "tower.input_scale", LEARN_TYPE_F32, 1, shape, bad, 0);
    b = test_blob_from_writer(w);
    ck_assert_open_fails(&b, LEARN_ERR_NUMERIC, "element 3");
    test_blob_free(&b);
    /* Without standardization (the official code's way) no such tensors are written. */
    learn_writer_free(w);
    c.standardize = 0;
    train_state *t0 = train_run(&c, &s.data, 5);
    learn_writer_new(NULL, &w);
    ck_assert_int_eq(train_write_towers(t0, w, LEARN_TYPE_F32), LEARN_OK);
    b = test_blob_from_writer(w);
    learn_model *m;
    ck_assert_int_eq(learn_model_open_memory(b.p, b.n, NULL, &m, NULL, 0), LEARN_OK);
    learn_tensor_info ti;
    ck_assert_int_eq(learn_model_tensor_find(m, "tower.input_mean", &ti), LEARN_ERR_NOT_FOUND);
    learn_model_close(m);
    test_blob_free(&b);
    learn_writer_free(w);
    train_free(t);
    train_free(t0);
    train_synth_free(&s);
}
END_TEST

START_TEST(test_train_bad_input) {
    char err[256];
    train_synth s;
    train_synth_make(&s, 13, 10);
    train_config c = train_small_config();
    train_state *t = NULL;
    c.n_head = 3;
    ck_assert_int_eq(train_new(&c, &s.data, NULL, &t, err, sizeof err), LEARN_ERR_ARG);
    ck_assert(strstr(err, "n_head 3") && strstr(err, "32"));
    c = train_small_config();
    c.min_seq_len = 1;
    ck_assert_int_eq(train_new(&c, &s.data, NULL, &t, err, sizeof err), LEARN_ERR_ARG);
    c = train_small_config();
    c.dropout = 1.0;
    ck_assert_int_eq(train_new(&c, &s.data, NULL, &t, err, sizeof err), LEARN_ERR_ARG);
    c = train_small_config();
    c.min_seq_len = 50; /* every sequence too short */
    ck_assert_int_eq(train_new(&c, &s.data, NULL, &t, err, sizeof err), LEARN_ERR_ARG);
    ck_assert(strstr(err, "min_seq_len"));
    c = train_small_config();
    s.seq[7] = 60; /* item index out of range */
    ck_assert_int_eq(train_new(&c, &s.data, NULL, &t, err, sizeof err), LEARN_ERR_ARG);
    ck_assert_msg(strstr(err, "sequence 0") && strstr(err, "60"), "%s", err);
    s.seq[7] = 1;
    s.valid_target[2] = 99;
    ck_assert_int_eq(train_new(&c, &s.data, NULL, &t, err, sizeof err), LEARN_ERR_ARG);
    ck_assert(strstr(err, "validation example 2"));
    s.valid_target[2] = 1;
    s.content[5 * 16 + 3] = NAN;
    ck_assert_int_eq(train_new(&c, &s.data, NULL, &t, err, sizeof err), LEARN_ERR_NUMERIC);
    ck_assert_msg(strstr(err, "item 5") && strstr(err, "NaN"), "%s", err);
    s.content[5 * 16 + 3] = 0;
    ck_assert_ptr_null(t);
    /* Starting from a model whose d_in differs from the data's. */
    learn_model *m;
    ck_assert(learn_model_open("tests/fixtures/towers-post-gelu-f32.learn", NULL, &m, err, sizeof err) == LEARN_OK);
    ck_assert_int_eq(train_new(&c, &s.data, m, &t, err, sizeof err), LEARN_ERR_MISMATCH);
    ck_assert_msg(strstr(err, "64") && strstr(err, "16"), "%s", err);
    learn_model_close(m);
    /* A file that is not a checkpoint. */
    ck_assert_int_eq(train_resume("tests/fixtures/towers-post-gelu-f32.learn", &s.data, 1, &t, err,
                                  sizeof err), LEARN_ERR_FORMAT);
    ck_assert_int_eq(train_resume("/nonexistent.ckpt", &s.data, 1, &t, err, sizeof err), LEARN_ERR_IO);
    /* Bad explicit examples. */
    t = train_new_ok(&c, &s.data, NULL);
    static const uint32_t w[] = {1, 2, 3};
    train_example ex = {w, 3, 3};
    double loss;
    ck_assert_int_eq(train_batch_loss(t, &ex, 1, 0, 0, &loss), LEARN_ERR_ARG);
    ck_assert_int_eq(train_validate(t, NULL), LEARN_ERR_ARG);
    uint32_t badi = 1000;
    float out[16];
    ck_assert_int_eq(train_embed(t, &badi, 1, 0, out), LEARN_ERR_ARG);
    train_free(t);
    train_synth_free(&s);
}
END_TEST

static Suite *make_train_suite(void) {
    Suite *s = suite_create("train");
    TCase *g = tcase_create("gradients");
    tcase_set_timeout(g, 300);
    tcase_add_loop_test(g, test_train_gradcheck, 0, 4);
    tcase_add_loop_test(g, test_train_torch_grads, 0, 2);
    suite_add_tcase(s, g);
    TCase *r = tcase_create("training");
    tcase_set_timeout(r, 600);
    tcase_add_test(r, test_train_learns);
    tcase_add_test(r, test_train_deterministic);
    tcase_add_test(r, test_train_isa_identical);
    tcase_add_loop_test(r, test_train_resume, 0, 2);
    tcase_add_loop_test(r, test_train_runtime_agrees, 0, 2);
    suite_add_tcase(s, r);
    TCase *b = tcase_create("bad input");
    tcase_add_test(b, test_train_bad_input);
    tcase_add_test(b, test_train_standardization_checked);
    suite_add_tcase(s, b);
    return s;
}
