/* learn-cli train: trains the towers of a model on a catalog's content embeddings and the
   users' interaction sequences, and writes the model with the new towers (its LLM unchanged).
   The engine is tools/train.c; this file is the data plumbing, progress, checkpoints and the
   choice of the best epoch. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "util.h"
#include "interactions.h"
#include "train.h"

/* Writes MODEL (minus its old towers) + the trainer's towers atomically to the file whose
   lock is held. */
static int write_model(const learn_model *m, train_state *t, learn_lock *lock, learn_type type,
                       uint32_t best_epoch, const train_metrics *best, char *err, size_t errn) {
    learn_writer *w;
    if (learn_writer_new(NULL, &w)) {
        snprintf(err, errn, "out of memory");
        return 1;
    }
    int rc = cli_copy_model(w, m, "tower.", err, errn);
    if (!rc && train_write_towers(t, w, type) != LEARN_OK) {
        snprintf(err, errn, "%s", train_errmsg(t));
        rc = 1;
    }
    if (!rc) {
        learn_writer_set_u32(w, "general.train.best_epoch", best_epoch);
        learn_writer_set_f64(w, "general.train.valid_recall10", best->recall10);
        learn_writer_set_f64(w, "general.train.valid_ndcg10", best->ndcg10);
        learn_writer_set_u64(w, "general.train.steps", train_steps_done(t));
        if (learn_writer_save_locked(w, lock) != LEARN_OK) {
            snprintf(err, errn, "%s", learn_writer_errmsg(w));
            rc = 1;
        }
    }
    learn_writer_free(w);
    return rc;
}

static const char train_usage[] =
    "usage: learn-cli train MODEL CAT INTERACTIONS.tsv -o OUT.learn [options]\n"
    "\n"
    "Trains the towers (the LLM stays frozen) on CAT's content embeddings and the users'\n"
    "sequences, and writes MODEL with the new towers to OUT.learn (atomically). The objective\n"
    "is the official LEARN code's: a target drawn from the second half of each sequence, the\n"
    "items before it as history, in-batch softmax over cosine x 20 (duplicates of the target\n"
    "masked), AdamW (0.9, 0.98, eps 1e-6). Splits follow the paper: per user the last item is\n"
    "held out for testing and the one before it for validation; training uses the rest.\n"
    "After each epoch Recall@10 / NDCG@10 on the validation items are printed and OUT.learn\n"
    "holds the best epoch so far; OUT.learn.ckpt lets --resume continue an interrupted run\n"
    "exactly (same seed and threads give the same weights).\n"
    "options:\n"
    "  --epochs N (10)  --batch N (64)  --lr X (1e-4)  --warmup N steps (0)\n"
    "  --patience N     stop after N epochs without a better validation score (0: never;\n"
    "                   the learning-rate schedule still spans --epochs)\n"
    "  --weight-decay X (0)  --dropout X (0)  --seed N (42)  --threads N (CPUs)\n"
    "  --d-model N (256)  --layers N (2)  --heads N (4)  --d-ff N (4 x d-model)  --d-out N (128)\n"
    "  --min-len N (5)  --max-len N (40: history items)  --dense (every position predicts)\n"
    "  --logq           correct the in-batch softmax for item popularity (log-frequency)\n"
    "  --raw-content    feed content embeddings as they are (default: standardized per\n"
    "                   dimension over the catalog, stored with the towers)\n"
    "  --type f32|f16|q8_0 (f32: the tower weights written)\n"
    "  --resume         continue OUT.learn.ckpt if it exists, else the towers in MODEL\n"
    "OUT.learn's lock (OUT.learn.lock) is held for the whole run, from before the checkpoint is\n"
    "read: another run on the same OUT waits up to --lock-timeout S (60) and then fails naming\n"
    "this one's pid.\n";

/* The command line: MODEL CAT INTERACTIONS, -o OUT and the training options. */
typedef struct train_args {
    const char *model, *catalog, *interactions, *out;
    int resume;
    uint32_t patience;
    train_config cfg;
    learn_type wtype;
} train_args;

/* Returns 0 with *a filled, -1 after printing the usage (--help), 1 after an error. */
static int train_parse(int argc, char **argv, train_args *a) {
    const char *pos[3] = {NULL, NULL, NULL};
    int npos = 0;
    memset(a, 0, sizeof *a);
    a->cfg = train_default_config();
    a->cfg.n_threads = 0;
    a->wtype = LEARN_TYPE_F32;
    train_config *cfg = &a->cfg;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (cli_is_help(o)) {
            fputs(train_usage, stdout);
            return -1;
        }
        const struct {
            const char *name;
            int *flag, value;
        } flags[] = {{"--resume", &a->resume, 1}, {"--dense", &cfg->dense, 1}, {"--logq", &cfg->logq, 1},
                     {"--raw-content", &cfg->standardize, 0}};
        size_t f = 0;
        while (f < sizeof flags / sizeof flags[0] && strcmp(o, flags[f].name) != 0) f++;
        if (f < sizeof flags / sizeof flags[0]) {
            *flags[f].flag = flags[f].value;
            continue;
        }
        if (o[0] != '-' || !o[1]) {
            if (npos == 3) return cli_error("train", "too many arguments (see learn-cli train --help)");
            pos[npos++] = o;
            continue;
        }
        if (!v) return cli_error("train", "%s needs a value", o);
        i++;
        long n;
        char *end;
        double x = strtod(v, &end);
        int is_x = end != v && !*end && isfinite(x);
        int is_n = !cli_parse_long(v, 0, 1L << 30, &n);
        if (strcmp(o, "-o") == 0) a->out = v;
        else if (strcmp(o, "--epochs") == 0 && is_n && n > 0) cfg->epochs = (uint32_t)n;
        else if (strcmp(o, "--patience") == 0 && is_n) a->patience = (uint32_t)n;
        else if (strcmp(o, "--batch") == 0 && is_n && n > 1) cfg->batch_size = (uint32_t)n;
        else if (strcmp(o, "--warmup") == 0 && is_n) cfg->warmup_steps = (uint32_t)n;
        else if (strcmp(o, "--seed") == 0 && is_n) cfg->seed = (uint64_t)n;
        else if (strcmp(o, "--threads") == 0 && is_n && n <= 256) cfg->n_threads = (int)n;
        else if (strcmp(o, "--d-model") == 0 && is_n && n > 0) cfg->d_model = (uint32_t)n;
        else if (strcmp(o, "--layers") == 0 && is_n) cfg->n_layer = (uint32_t)n;
        else if (strcmp(o, "--heads") == 0 && is_n && n > 0) cfg->n_head = (uint32_t)n;
        else if (strcmp(o, "--d-ff") == 0 && is_n && n > 0) cfg->d_ff = (uint32_t)n;
        else if (strcmp(o, "--d-out") == 0 && is_n && n > 0) cfg->d_out = (uint32_t)n;
        else if (strcmp(o, "--min-len") == 0 && is_n && n >= 2) cfg->min_seq_len = (uint32_t)n;
        else if (strcmp(o, "--max-len") == 0 && is_n && n > 0) cfg->max_history = (uint32_t)n;
        else if (strcmp(o, "--lr") == 0 && is_x && x > 0) cfg->lr = x;
        else if (strcmp(o, "--weight-decay") == 0 && is_x && x >= 0) cfg->weight_decay = x;
        else if (strcmp(o, "--dropout") == 0 && is_x && x >= 0 && x < 1) cfg->dropout = x;
        else if (strcmp(o, "--type") == 0 && strcmp(v, "f32") == 0) a->wtype = LEARN_TYPE_F32;
        else if (strcmp(o, "--type") == 0 && strcmp(v, "f16") == 0) a->wtype = LEARN_TYPE_F16;
        else if (strcmp(o, "--type") == 0 && strcmp(v, "q8_0") == 0) a->wtype = LEARN_TYPE_Q8_0;
        else return cli_error("train", "bad option %s %s (see learn-cli train --help)", o, v);
    }
    if (npos != 3) return cli_error("train", "needs MODEL CAT INTERACTIONS.tsv (see learn-cli train --help)");
    if (!a->out) return cli_error("train", "no output given (-o OUT.learn)");
    a->model = pos[0], a->catalog = pos[1], a->interactions = pos[2];
    if (!cfg->n_threads) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        cfg->n_threads = c < 1 ? 1 : c > 64 ? 64 : (int)c;
    }
    return 0;
}

/* The trainer's inputs: the catalog's content embeddings and, per user with at least three
   items, the training sequence (all but the last two) and the validation example (the item
   before the last, with the history before it). */
typedef struct train_inputs {
    learn_catalog *cat;
    learn_catalog_info ci;
    inter_data inter;
    float *content;
    uint32_t *seq_off, *seq, *valid_off, *valid_hist, *valid_target;
    train_data data;
} train_inputs;

static void train_inputs_free(train_inputs *in) {
    free(in->content);
    free(in->seq_off);
    free(in->seq);
    free(in->valid_off);
    free(in->valid_hist);
    free(in->valid_target);
    inter_free(&in->inter);
    learn_catalog_close(in->cat);
}

static int train_inputs_load(const train_args *a, const learn_model *m, train_inputs *in) {
    char err[512];
    memset(in, 0, sizeof *in);
    if (learn_catalog_open(a->catalog, NULL, &in->cat, err, sizeof err) != LEARN_OK)
        return cli_error("train", "%s", err);
    if (learn_catalog_check_model(in->cat, m, NULL, err, sizeof err) != LEARN_OK)
        return cli_error("train", "%s and %s: %s", a->model, a->catalog, err);
    inter_data *d = &in->inter;
    if (inter_load(a->interactions, in->cat, d, err, sizeof err)) return cli_error("train", "%s", err);
    if (d->n_unknown)
        fprintf(stderr, "learn-cli train: %zu of %zu interactions name items not in the catalog "
                        "(skipped; first: '%s')\n", d->n_unknown, d->n_lines, d->first_unknown);
    learn_catalog_get_info(in->cat, &in->ci);
    const learn_catalog_info *ci = &in->ci;
    in->content = (float *)malloc((size_t)ci->n_items * ci->d_content * sizeof *in->content);
    in->seq_off = (uint32_t *)calloc(d->n_users + 1, sizeof *in->seq_off);
    in->seq = (uint32_t *)malloc((d->seq_off[d->n_users] + 1) * sizeof *in->seq);
    in->valid_off = (uint32_t *)calloc(d->n_users + 1, sizeof *in->valid_off);
    in->valid_hist = (uint32_t *)malloc((d->seq_off[d->n_users] + 1) * sizeof *in->valid_hist);
    in->valid_target = (uint32_t *)malloc((d->n_users + 1) * sizeof *in->valid_target);
    if (!in->content || !in->seq_off || !in->seq || !in->valid_off || !in->valid_hist || !in->valid_target)
        return cli_error("train", "out of memory");
    for (uint32_t i = 0; i < ci->n_items; i++) learn_catalog_content(in->cat, i, in->content + (size_t)i * ci->d_content);
    uint32_t ns = 0, nv = 0, total = 0, vtotal = 0;
    for (size_t u = 0; u < d->n_users; u++) {
        const uint32_t *s = d->seq + d->seq_off[u];
        uint32_t len = d->seq_off[u + 1] - d->seq_off[u];
        if (len >= 3) {
            memcpy(in->seq + total, s, (len - 2) * sizeof *in->seq);
            total += len - 2;
            in->seq_off[++ns] = total;
            memcpy(in->valid_hist + vtotal, s, (len - 2) * sizeof *in->seq);
            vtotal += len - 2;
            in->valid_target[nv] = s[len - 2];
            in->valid_off[++nv] = vtotal;
        }
    }
    train_data td = {ci->n_items, ci->d_content, in->content, ns, in->seq_off, in->seq, nv,
                     in->valid_off, in->valid_hist, in->valid_target};
    in->data = td;
    return 0;
}

/* The trainer: the checkpoint's state with --resume when it exists, else new towers (from
   the model's with --resume). */
static int train_start(const train_args *a, const learn_model *m, const char *ckpt, train_inputs *in,
                       train_state **t) {
    char err[512];
    learn_status st;
    if (a->resume && access(ckpt, R_OK) == 0) {
        st = train_resume(ckpt, &in->data, a->cfg.n_threads, t, err, sizeof err);
        if (!st) fprintf(stderr, "learn-cli train: resuming %s at step %llu\n", ckpt,
                         (unsigned long long)train_steps_done(*t));
    } else {
        learn_towers_info ti;
        int has = learn_towers_get_info(m, &ti) == LEARN_OK && ti.present;
        if (a->resume && !has)
            return cli_error("train", "--resume: no checkpoint %s and no towers in %s to continue", ckpt, a->model);
        st = train_new(&a->cfg, &in->data, a->resume ? m : NULL, t, err, sizeof err);
    }
    if (st) return cli_error("train", "%s", err);
    fprintf(stderr, "learn-cli train: %u items, %u training sequences (%u windows per epoch, %u too short), "
                    "%u validation users, %llu steps per epoch, %d threads (%s loops)\n",
            in->ci.n_items, in->data.n_seqs, train_n_windows(*t), train_n_skipped(*t), in->data.n_valid,
            (unsigned long long)train_steps_per_epoch(*t), a->cfg.n_threads, train_isa(*t));
    return 0;
}

/* The epochs: steps with progress on a terminal, validation, OUT rewritten at each better
   epoch (the best so far: when resuming, as OUT records it), the checkpoint after each, and
   the early stop. */
static int train_epochs(const train_args *a, const learn_model *m, const char *ckpt, learn_lock *lock,
                        uint32_t nv, train_state *t) {
    char err[512];
    train_metrics best = {-1, -1, -1, -1, 0};
    uint32_t best_epoch = 0;
    learn_model *prev;
    if (a->resume && learn_model_open(a->out, NULL, &prev, NULL, 0) == LEARN_OK) {
        uint32_t be;
        double r10, n10;
        if (learn_model_meta_u32(prev, "general.train.best_epoch", &be) == LEARN_OK &&
            learn_model_meta_f64(prev, "general.train.valid_recall10", &r10) == LEARN_OK &&
            learn_model_meta_f64(prev, "general.train.valid_ndcg10", &n10) == LEARN_OK)
            best_epoch = be, best.recall10 = r10, best.ndcg10 = n10;
        learn_model_close(prev);
    }
    int tty = isatty(2);
    uint64_t per_epoch = train_steps_per_epoch(t);
    uint32_t batch = a->cfg.batch_size;
    while (!train_done(t)) {
        double t0 = util_now_s(), loss_sum = 0;
        uint64_t steps = 0;
        train_stats s;
        memset(&s, 0, sizeof s);
        do {
            if (train_step(t, &s) != LEARN_OK) return cli_error("train", "%s", train_errmsg(t));
            loss_sum += s.loss;
            steps++;
            double el = util_now_s() - t0;
            if (tty && (steps % 4 == 0 || s.step % per_epoch == 0))
                fprintf(stderr, "\repoch %u  step %llu/%llu  loss %.4f  %.0f examples/s   ", s.epoch + 1,
                        (unsigned long long)s.step, (unsigned long long)train_steps_total(t), s.loss,
                        (double)(steps * batch) / (el > 0 ? el : 1e-9));
        } while (s.step % per_epoch != 0 && !train_done(t));
        double el = util_now_s() - t0;
        train_metrics vm = {0, 0, 0, 0, 0};
        if (nv && train_validate(t, &vm) != LEARN_OK) return cli_error("train", "%s", train_errmsg(t));
        int better = !nv || vm.recall10 > best.recall10 ||
                     (vm.recall10 == best.recall10 && vm.ndcg10 > best.ndcg10);
        fprintf(stderr, "%sepoch %u: step %llu, loss %.4f, %.0f examples/s, valid recall@10 %.4f ndcg@10 %.4f%s\n",
                tty ? "\r" : "", s.epoch + 1, (unsigned long long)s.step, loss_sum / (double)steps,
                (double)(steps * batch) / (el > 0 ? el : 1e-9), vm.recall10, vm.ndcg10,
                better ? " (best)" : "");
        if (better) {
            best = vm;
            best_epoch = s.epoch + 1;
            if (write_model(m, t, lock, a->wtype, best_epoch, &best, err, sizeof err))
                return cli_error("train", "%s", err);
        }
        if (train_save_checkpoint(t, ckpt) != LEARN_OK) return cli_error("train", "%s", train_errmsg(t));
        if (a->patience && nv && s.epoch + 1 - best_epoch >= a->patience && !train_done(t)) {
            fprintf(stderr, "learn-cli train: stopping early: no better validation score in %u epochs\n",
                    a->patience);
            break;
        }
    }
    fprintf(stderr, "learn-cli train: wrote %s (epoch %u: valid recall@10 %.4f, ndcg@10 %.4f)\n", a->out,
            best_epoch, best.recall10, best.ndcg10);
    return 0;
}

int cmd_train(int argc, char **argv) {
    train_args a;
    int rc = train_parse(argc, argv, &a);
    if (rc) return rc < 0 ? 0 : rc;
    char ckpt[4096];
    snprintf(ckpt, sizeof ckpt, "%s.ckpt", a.out);
    /* Held until the end: this run reads OUT and its checkpoint (--resume) and rewrites both
       after every epoch; the checkpoint's own lock is taken for each save. */
    learn_lock *lock = cli_lock("train", a.out);
    if (!lock) return 1;
    learn_model *m = cli_open_model("train", a.model, 1);
    if (!m) {
        learn_lock_release(lock);
        return 1;
    }
    train_inputs in;
    train_state *t = NULL;
    rc = train_inputs_load(&a, m, &in) || train_start(&a, m, ckpt, &in, &t) ||
         train_epochs(&a, m, ckpt, lock, in.data.n_valid, t);
    train_free(t);
    train_inputs_free(&in);
    learn_model_close(m);
    learn_lock_release(lock);
    return rc;
}
