/* learn-cli, run as a program: help, info, verify, and their errors. */

static int cli_count_lines(const char *s) {
    int n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

/* Writes the format suite's sample model to a file and returns its path. */
static const char *cli_sample_model(const char *name, void (*edit)(fmt_sample *)) {
    fmt_sample s;
    learn_writer *w = fmt_sample_writer(&s);
    if (edit) {
        edit(&s); /* tensors are borrowed: edits show in the file */
    }
    const char *path = test_tmp_path(name);
    ck_assert_int_eq(learn_writer_save(w, path), LEARN_OK);
    learn_writer_free(w);
    return path;
}

START_TEST(test_cli_help) {
    TEST_CLI(cli);
    char cmd[1024], out[16384];
    snprintf(cmd, sizeof cmd, "%s --help", cli);
    ck_assert_int_eq(test_run(cmd, out, sizeof out), 0);
    ck_assert_ptr_nonnull(strstr(out, "info"));
    ck_assert_ptr_nonnull(strstr(out, "verify"));
    const char *cmds[] = {"info", "verify"};
    for (int i = 0; i < 2; i++) {
        snprintf(cmd, sizeof cmd, "%s %s --help", cli, cmds[i]);
        ck_assert_int_eq(test_run(cmd, out, sizeof out), 0);
        ck_assert_ptr_nonnull(strstr(out, "usage: learn-cli"));
    }
    snprintf(cmd, sizeof cmd, "%s frobnicate", cli);
    ck_assert_int_eq(test_run(cmd, out, sizeof out), 2);
    ck_assert_ptr_nonnull(strstr(out, "unknown command 'frobnicate'"));
    snprintf(cmd, sizeof cmd, "%s info", cli);
    ck_assert_int_eq(test_run(cmd, out, sizeof out), 1);
    ck_assert_ptr_nonnull(strstr(out, "no MODEL"));
}
END_TEST

/* learn-cli --help: every command it lists has a --help of its own, and each summary line
   names what that command's help says it does (its sources, subcommands or modes). */
START_TEST(test_cli_help_summaries) {
    TEST_CLI(cli);
    static const struct {
        const char *cmd;
        const char *said[5]; /* in the summary line */
        const char *does[5]; /* in `learn-cli CMD --help`, one for each of said[] */
    } lines[] = {
        {"convert", {"GGUF", "Hugging Face", "llama2.c", "tower checkpoints"}, {"--gguf", "--hf", "--llama2c", "--towers"}},
        {"catalog", {"build", "extend", "merge", "re-embed", "export"},
         {"catalog build", "catalog add", "catalog merge", "catalog reembed", "catalog export"}},
        {"data", {"MovieLens", "UniSRec", "generated"}, {"data movielens", "data unisrec", "data synth"}},
        {"bench", {"encoder", "int8 peak", "towers", "top-K"}, {"bench MODEL", "peak", "--towers", "--topk"}},
        {"embed", {"texts", "item records", "JSON lines", ".npy"}, {"one text per line", "--jsonl", "JSON array", "--npy"}},
        {"tokenize", {"model's", "imported tokenizer", "ids back to text"}, {".learn model", "tokenizer.json", "--detok"}},
        {"recommend", {"top-K", "JSONL batch"}, {"-k 10", "--batch"}},
        {"info", {"header, metadata and tensors", "catalog"}, {"header, metadata and tensors", ".learn file"}},
        {"verify", {"checksum", "NaN/Inf", "zero scales"}, {"checksum", "NaN/Inf", "zero, NaN or Inf block scales"}},
    };
    static char help[16384], sub[16384];
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s --help", cli);
    ck_assert_int_eq(test_run(cmd, help, sizeof help), 0);
    const char *p = strstr(help, "commands:\n");
    ck_assert_ptr_nonnull(p);
    int n_cmds = 0;
    for (p = strchr(p, '\n') + 1; strncmp(p, "  ", 2) == 0; p = strchr(p, '\n') + 1) {
        char name[32];
        ck_assert_int_eq(sscanf(p, " %31s", name), 1);
        snprintf(cmd, sizeof cmd, "%s %s --help", cli, name);
        ck_assert_msg(test_run(cmd, sub, sizeof sub) == 0, "%s", cmd);
        char usage[64];
        snprintf(usage, sizeof usage, "usage: learn-cli %s", name);
        ck_assert_msg(strncmp(sub, usage, strlen(usage)) == 0, "%s:\n%s", cmd, sub);
        n_cmds++;
    }
    ck_assert_int_eq(n_cmds, 14);
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        char key[64];
        snprintf(key, sizeof key, "\n  %-10s ", lines[i].cmd);
        const char *line = strstr(help, key);
        ck_assert_msg(line, "%s is not listed:\n%s", lines[i].cmd, help);
        line += strlen(key);
        size_t len = (size_t)(strchr(line, '\n') - line);
        snprintf(cmd, sizeof cmd, "%s %s --help", cli, lines[i].cmd);
        ck_assert_int_eq(test_run(cmd, sub, sizeof sub), 0);
        for (int j = 0; j < 5 && lines[i].said[j]; j++) {
            const char *at = strstr(line, lines[i].said[j]);
            ck_assert_msg(at && at < line + len, "`learn-cli --help` on %s does not say \"%s\": %.*s",
                          lines[i].cmd, lines[i].said[j], (int)len, line);
            ck_assert_msg(strstr(sub, lines[i].does[j]), "`%s` does not mention \"%s\"", cmd, lines[i].does[j]);
        }
    }
}
END_TEST

START_TEST(test_cli_info) {
    TEST_CLI(cli);
    const char *path = cli_sample_model("cli-info.learn", NULL);
    char cmd[1024], out[65536];
    snprintf(cmd, sizeof cmd, "%s info %s", cli, path);
    ck_assert_int_eq(test_run(cmd, out, sizeof out), 0);
    ck_assert_ptr_nonnull(strstr(out, "format: .learn version 1"));
    ck_assert_ptr_nonnull(strstr(out, "q8_0  [3, 64]  204 bytes"));
    ck_assert_ptr_nonnull(strstr(out, "t.arr_str"));
    ck_assert_ptr_nonnull(strstr(out, "\"Title: {title}\""));
    snprintf(cmd, sizeof cmd, "%s info --json %s", cli, path);
    ck_assert_int_eq(test_run(cmd, out, sizeof out), 0);
    ck_assert_ptr_nonnull(strstr(out, "\"t.i64\": -9223372036854775808"));
    ck_assert_ptr_nonnull(strstr(out, "{\"name\": \"q8\", \"type\": \"q8_0\", \"shape\": [3, 64]"));
    ck_assert_ptr_nonnull(strstr(out, "\"t.nul\": \"a\\u0000b\""));
    ck_assert_int_eq(cli_count_lines(out), 1);
    snprintf(cmd, sizeof cmd, "%s verify %s", cli, path);
    ck_assert_int_eq(test_run(cmd, out, sizeof out), 0);
    ck_assert_ptr_nonnull(strstr(out, ": ok"));
    unlink(path);
}
END_TEST

/* A corrupted file: one clear line, non-zero exit. */
START_TEST(test_cli_info_corrupted) {
    TEST_CLI(cli);
    const char *path = cli_sample_model("cli-bad.learn", NULL);
    FILE *f = fopen(path, "r+b");
    fseek(f, 700, SEEK_SET);
    fputc(0x5a, f);
    fclose(f);
    char cmd[1024], out[16384];
    const char *cmds[] = {"info", "info --json", "verify"};
    for (int i = 0; i < 3; i++) {
        snprintf(cmd, sizeof cmd, "%s %s %s", cli, cmds[i], path);
        ck_assert_int_eq(test_run(cmd, out, sizeof out), 1);
        ck_assert_int_eq(cli_count_lines(out), 1);
        ck_assert_msg(strstr(out, "checksum mismatch") && strstr(out, path), "%s", out);
    }
    ck_assert_int_eq(truncate(path, 500), 0);
    snprintf(cmd, sizeof cmd, "%s info %s", cli, path);
    ck_assert_int_eq(test_run(cmd, out, sizeof out), 1);
    ck_assert_int_eq(cli_count_lines(out), 1);
    ck_assert_msg(strstr(out, "truncated"), "%s", out);
    snprintf(cmd, sizeof cmd, "%s info %s.missing", cli, path);
    ck_assert_int_eq(test_run(cmd, out, sizeof out), 1);
    ck_assert_int_eq(cli_count_lines(out), 1);
    unlink(path);
}
END_TEST

static void cli_put_nan(fmt_sample *s) { memcpy(&s->q8[4 * 34], "\0\0", 2); }

START_TEST(test_cli_verify_numeric) {
    TEST_CLI(cli);
    const char *path = cli_sample_model("cli-nan.learn", cli_put_nan);
    char cmd[1024], out[16384];
    snprintf(cmd, sizeof cmd, "%s verify %s", cli, path);
    ck_assert_int_eq(test_run(cmd, out, sizeof out), 1);
    ck_assert_int_eq(cli_count_lines(out), 1);
    ck_assert_msg(strstr(out, "tensor 'q8': block 4 (elements 128..159): scale is zero"), "%s", out);
    unlink(path);
}
END_TEST

/* convert --model BASE --towers: the official checkpoint added to a model; a content
   dimension that does not match the LLM is refused naming both numbers. */
START_TEST(test_cli_convert_towers) {
    TEST_CLI(cli);
    char cmd[2048], out[16384];
    const char *dst = test_tmp_path("with-towers.learn");
    snprintf(cmd, sizeof cmd, "%s convert --model tests/fixtures/llm-llama-f32.learn --towers "
             "tests/fixtures/towers-official-f32.safetensors --tower-heads 4 -o %s", cli, dst);
    ck_assert_msg(test_run(cmd, out, sizeof out) == 0, "%s", out);
    learn_model *m;
    char err[LEARN_ERRMSG_SIZE];
    ck_assert_msg(learn_model_open(dst, NULL, &m, err, sizeof err) == LEARN_OK, "%s", err);
    learn_towers_info ti;
    ck_assert_int_eq(learn_towers_get_info(m, &ti), LEARN_OK);
    ck_assert_int_eq(ti.present, 1);
    ck_assert_uint_eq(ti.d_in, 64);
    ck_assert_uint_eq(ti.d_out, 32);
    ck_assert_uint_eq(ti.n_head, 4);
    learn_model_info mi;
    learn_model_get_info(m, &mi);
    ck_assert_str_eq(mi.arch, "llama");
    ck_assert_uint_ne(mi.tower_fingerprint, 0);
    learn_model_close(m);
    /* The same towers onto an LLM of another width. */
    learn_writer *w;
    learn_writer_new(NULL, &w);
    test_llm t = {{0}, 0};
    test_llm_opts o;
    memset(&o, 0, sizeof o);
    o.n_embd = 32;
    o.n_head = 2;
    o.n_head_kv = 1;
    test_llm_build(w, &t, &o);
    const char *narrow = test_tmp_path("narrow.learn");
    ck_assert_int_eq(learn_writer_save(w, narrow), LEARN_OK);
    learn_writer_free(w);
    test_llm_free(&t);
    snprintf(cmd, sizeof cmd, "%s convert --model %s --towers tests/fixtures/towers-official-f32.safetensors "
             "--tower-heads 4 -o %s.bad", cli, narrow, narrow);
    ck_assert_int_eq(test_run(cmd, out, sizeof out), 1);
    ck_assert_msg(strstr(out, "64") && strstr(out, "32"), "%s", out);
    snprintf(cmd, sizeof cmd, "%s.bad", narrow);
    ck_assert_int_ne(access(cmd, F_OK), 0);
    /* Without --tower-heads, bert-base's 12 heads do not divide 64: a clear refusal. */
    snprintf(cmd, sizeof cmd, "%s convert --model tests/fixtures/llm-llama-f32.learn --towers "
             "tests/fixtures/towers-official-f32.safetensors -o %s", cli, dst);
    ck_assert_int_eq(test_run(cmd, out, sizeof out), 1);
    ck_assert_msg(strstr(out, "12 heads do not divide"), "%s", out);
    snprintf(cmd, sizeof cmd, "%s convert --model tests/fixtures/llm-llama-f32.learn -o %s", cli, dst);
    ck_assert_int_eq(test_run(cmd, out, sizeof out), 1);
    unlink(dst);
    unlink(narrow);
}
END_TEST

/* learn-cli bench on a tiny model: every mode runs, prints its figures, and the top-K mode
   agrees with its plain loop. */
START_TEST(test_cli_bench) {
    TEST_CLI(cli);
    test_llm t = {{0}, 0};
    learn_writer *w = NULL;
    ck_assert_int_eq(learn_writer_new(NULL, &w), LEARN_OK);
    test_rec_build(w, &t, LEARN_TYPE_Q8_0, 0);
    const char *path = test_tmp_path("cli-bench.learn");
    ck_assert_int_eq(learn_writer_save(w, path), LEARN_OK);
    learn_writer_free(w);
    test_llm_free(&t);
    char cmd[1024], out[16384];
    snprintf(cmd, sizeof cmd, "%s bench %s --count 8 --reps 1 --threads 2 --scaling", cli, path);
    ck_assert_int_eq(test_run(cmd, out, sizeof out), 0);
    ck_assert_msg(strstr(out, "items: 8 (generated)") != NULL, "%s", out);
    ck_assert_ptr_nonnull(strstr(out, "tokens/s"));
    ck_assert_ptr_nonnull(strstr(out, "% of peak"));
    /* the peak loop is the CPU's best int8 sequence, and it ran */
    const char *loop = strstr(out, "int8 peak loop: ");
    ck_assert_ptr_nonnull(loop);
    char why[160];
    const char *want_loop = "avx2 vpmaddubsw";
#if defined(__aarch64__)
    want_loop = learn_isa_check("neon_dotprod", why, sizeof why) == LEARN_OK ? "neon sdot" : "neon smull";
#else
    if (learn_isa_check("avx2", why, sizeof why) != LEARN_OK) want_loop = "none";
#if !defined(LEARN_EMULATE_VNNI)
    if (learn_isa_check("avxvnni", why, sizeof why) == LEARN_OK) want_loop = "avx-vnni vpdpbusd ymm";
    if (learn_isa_check("avx512", why, sizeof why) == LEARN_OK) want_loop = "avx512-vnni vpdpbusd zmm";
#endif
#endif
    ck_assert_msg(strncmp(loop + strlen("int8 peak loop: "), want_loop, strlen(want_loop)) == 0, "want %s: %s",
                  want_loop, out);
    const char *pk = strstr(out, "2 threads: int8 peak ");
    ck_assert_ptr_nonnull(pk);
    ck_assert_msg(strcmp(want_loop, "none") == 0 || atof(pk + strlen("2 threads: int8 peak ")) > 0.0, "%s", out);
    ck_assert_ptr_nonnull(strstr(out, "scaling 1 -> 2 threads"));
    ck_assert_ptr_nonnull(strstr(out, "peak resident memory"));
    snprintf(cmd, sizeof cmd, "%s bench --topk --n-items 3000 --dim 24 --k 7 --reps 1", cli);
    ck_assert_int_eq(test_run(cmd, out, sizeof out), 0);
    ck_assert_msg(strstr(out, "same top-7: yes") != NULL, "%s", out);
    snprintf(cmd, sizeof cmd, "%s bench --towers --type q8_0 --reps 1", cli);
    ck_assert_int_eq(test_run(cmd, out, sizeof out), 0);
    ck_assert_ptr_nonnull(strstr(out, "user embedding (40 items)"));
    snprintf(cmd, sizeof cmd, "%s bench", cli);
    ck_assert_int_eq(test_run(cmd, out, sizeof out), 1);
    ck_assert_ptr_nonnull(strstr(out, "no MODEL"));
    snprintf(cmd, sizeof cmd, "%s bench %s --isa nosuch --reps 1", cli, path);
    ck_assert_int_ne(test_run(cmd, out, sizeof out), 0);
}
END_TEST

/* learn-cli demo on the committed default model: the whole story is told, with figures. */
START_TEST(test_cli_demo) {
    TEST_CLI(cli);
    if (access("models/demo.learn", R_OK) != 0) TEST_SKIP("models/demo.learn not found");
    char cmd[1024], out[65536];
    snprintf(cmd, sizeof cmd, "%s demo --threads 2", cli);
    ck_assert_int_eq(test_run(cmd, out, sizeof out), 0);
    ck_assert_msg(strstr(out, "top 10 recommendations (history excluded):") != NULL, "%s", out);
    ck_assert_ptr_nonnull(strstr(out, "model (LLM + towers)"));
    ck_assert_ptr_nonnull(strstr(out, "popularity"));
    ck_assert_ptr_nonnull(strstr(out, "NEW-1"));
    ck_assert_ptr_nonnull(strstr(out, "it reaches the top 10 of"));
    /* Over one new item per frequent taste, the items reach most of the users whose taste
       they are, and far more often than the others (figures in models/README.md). */
    const char *all = strstr(out, "least 20 users: in the top 10 of "), *oth = strstr(out, "% of the others.");
    ck_assert_msg(all && oth, "%s", out);
    while (oth > out && (oth[-1] == '.' || (oth[-1] >= '0' && oth[-1] <= '9'))) oth--;
    const double fm = atof(all + strlen("least 20 users: in the top 10 of ")), fo = atof(oth);
    ck_assert_msg(fm > 50.0 && fm > 10.0 * fo, "new items: %.1f%% of their users, %.1f%% of the others", fm, fo);
    /* ... and about as often as the items of the same kind the catalog already has */
    const char *ref = strstr(out, "not in their history, is in their top 10 in ");
    ck_assert_msg(ref != NULL, "%s", out);
    const double fr = atof(ref + strlen("not in their history, is in their top 10 in "));
    ck_assert_msg(fm >= 0.8 * fr, "new items %.1f%%, existing items of the kind %.1f%%", fm, fr);
    /* The model must beat both baselines on the held-out items, as models/README.md says. */
    const char *m = strstr(out, "model (LLM + towers)"), *r = strstr(out, "raw content (LLM, no towers)"),
               *p = strstr(out, "    popularity ");
    ck_assert(m && r && p);
    double mr = atof(m + strlen("model (LLM + towers)")), rr = atof(r + strlen("raw content (LLM, no towers)")),
           pr = atof(p + strlen("    popularity "));
    ck_assert_msg(mr > rr && mr > pr, "model %.4f raw %.4f popularity %.4f", mr, rr, pr);
    snprintf(cmd, sizeof cmd, "%s demo --model build/tmp/no-such-model.learn", cli);
    ck_assert_int_eq(test_run(cmd, out, sizeof out), 1);
    ck_assert_ptr_nonnull(strstr(out, "no-such-model.learn"));
    snprintf(cmd, sizeof cmd, "%s demo --brand-boost 0", cli); /* 1..1000 */
    ck_assert_int_eq(test_run(cmd, out, sizeof out), 1);
    ck_assert_ptr_nonnull(strstr(out, "unknown argument '--brand-boost'"));
    snprintf(cmd, sizeof cmd, "%s demo --frobnicate", cli);
    ck_assert_int_eq(test_run(cmd, out, sizeof out), 1);
    ck_assert_ptr_nonnull(strstr(out, "unknown argument '--frobnicate'"));
}
END_TEST

static Suite *make_cli_suite(void) {
    Suite *s = suite_create("cli");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_cli_help);
    tcase_add_test(tc, test_cli_help_summaries);
    tcase_add_test(tc, test_cli_info);
    tcase_add_test(tc, test_cli_info_corrupted);
    tcase_add_test(tc, test_cli_verify_numeric);
    tcase_add_test(tc, test_cli_convert_towers);
    tcase_add_test(tc, test_cli_bench);
    suite_add_tcase(s, tc);
    /* The demo encodes 600 items and ranks them for 3,000 users: 3 s, 90 s under ASan. */
    TCase *demo = tcase_create("demo");
    tcase_set_timeout(demo, 900);
    tcase_add_test(demo, test_cli_demo);
    suite_add_tcase(s, demo);
    return s;
}
