/* learn-cli info and verify: what a model file holds, and whether it is intact. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char info_usage[] =
    "usage: learn-cli info MODEL [--json]\n"
    "\n"
    "Prints a .learn file's header, metadata and tensors (name, type, shape, bytes, offset).\n"
    "The file is validated completely, checksum included, before anything is printed.\n"
    "  --json   one JSON object instead of text\n";

/* Prints element i of array entry `key` (numbers or strings). */
static void print_arr_elem(const learn_model *m, const learn_meta_info *mi, uint64_t i, int json) {
    if (mi->elem_type == LEARN_META_TYPE_STR) {
        const char *s;
        size_t len;
        learn_model_meta_arr_str(m, mi->key, i, &s, &len);
        cli_json_string(stdout, s, len);
    } else if (mi->elem_type == LEARN_META_TYPE_F32 || mi->elem_type == LEARN_META_TYPE_F64) {
        double d;
        learn_model_meta_arr_f64(m, mi->key, i, &d);
        printf(json && !isfinite(d) ? "null" : "%.9g", d);
    } else if (mi->elem_type == LEARN_META_TYPE_BOOL) {
        int64_t v;
        learn_model_meta_arr_i64(m, mi->key, i, &v);
        printf("%s", v ? "true" : "false");
    } else {
        int64_t v;
        double d;
        if (learn_model_meta_arr_i64(m, mi->key, i, &v) == LEARN_OK) printf("%" PRId64, v);
        else if (learn_model_meta_arr_f64(m, mi->key, i, &d) == LEARN_OK) printf("%.0f", d); /* u64 > INT64_MAX */
    }
}

static void print_value(const learn_model *m, const learn_meta_info *mi, int json) {
    switch (mi->type) {
    case LEARN_META_TYPE_STR: {
        const char *s;
        size_t len;
        learn_model_meta_str(m, mi->key, &s, &len);
        cli_json_string(stdout, s, len);
        break;
    }
    case LEARN_META_TYPE_F32:
    case LEARN_META_TYPE_F64: {
        double d;
        learn_model_meta_f64(m, mi->key, &d);
        printf(json && !isfinite(d) ? "null" : "%.9g", d);
        break;
    }
    case LEARN_META_TYPE_BOOL: {
        int b;
        learn_model_meta_bool(m, mi->key, &b);
        printf("%s", b ? "true" : "false");
        break;
    }
    case LEARN_META_TYPE_U32:
    case LEARN_META_TYPE_U64: {
        uint64_t u;
        learn_model_meta_u64(m, mi->key, &u);
        if (json || strncmp(mi->key, "general.fingerprint.", 20)) printf("%" PRIu64, u);
        else printf("%016" PRIx64, u);
        break;
    }
    case LEARN_META_TYPE_I32:
    case LEARN_META_TYPE_I64: {
        int64_t v;
        learn_model_meta_i64(m, mi->key, &v);
        printf("%" PRId64, v);
        break;
    }
    case LEARN_META_TYPE_ARR: {
        uint64_t n = mi->count, shown = json ? n : (n > 8 ? 8 : n);
        printf("[");
        for (uint64_t i = 0; i < shown; i++) {
            if (i) printf(", ");
            print_arr_elem(m, mi, i, json);
        }
        if (shown < n) printf(", ... %" PRIu64 " more", n - shown);
        printf("]");
        break;
    }
    }
}

static void print_shape(const learn_tensor_info *t) {
    printf("[");
    for (uint32_t d = 0; d < t->n_dims; d++) printf(d ? ", %" PRIu64 : "%" PRIu64, t->shape[d]);
    printf("]");
}

static void info_text(const char *path, const learn_model *m) {
    learn_model_info in;
    learn_model_get_info(m, &in);
    uint64_t data_bytes = 0;
    for (uint32_t i = 0; i < in.n_tensors; i++) {
        learn_tensor_info t;
        learn_model_tensor(m, i, &t);
        data_bytes += t.size;
    }
    printf("file: %s\n", path);
    printf("format: .learn version %u, %" PRIu64 " bytes, checksum ok\n", in.format_version,
           in.file_size);
    printf("fingerprints: content %016" PRIx64 ", towers %016" PRIx64 "\n",
           in.content_fingerprint, in.tower_fingerprint);
    if (in.arch[0])
        printf("llm: %s, %u layers, n_embd %u, %u heads (%u kv, head_dim %u), n_ff %u, vocab %u, "
               "context %u, %.2fM parameters\n",
               in.arch, in.n_layer, in.n_embd, in.n_head, in.n_head_kv, in.head_dim, in.n_ff,
               in.n_vocab, in.n_ctx_train, (double)in.n_params / 1e6);
    else
        printf("llm: none\n");
    printf("metadata (%u entries):\n", in.n_meta);
    for (uint32_t i = 0; i < in.n_meta; i++) {
        learn_meta_info mi;
        learn_model_meta(m, i, &mi);
        if (mi.type == LEARN_META_TYPE_ARR)
            printf("  %-36s arr[%s] (%" PRIu64 ") ", mi.key, learn_meta_type_name(mi.elem_type),
                   mi.count);
        else
            printf("  %-36s %-4s ", mi.key, learn_meta_type_name(mi.type));
        print_value(m, &mi, 0);
        printf("\n");
    }
    printf("tensors (%u, %.2f MB of data):\n", in.n_tensors, (double)data_bytes / 1e6);
    for (uint32_t i = 0; i < in.n_tensors; i++) {
        learn_tensor_info t;
        learn_model_tensor(m, i, &t);
        printf("  %-36s %-5s ", t.name, learn_type_name(t.type));
        print_shape(&t);
        printf("  %" PRIu64 " bytes @ %" PRIu64 "\n", t.size, t.offset);
    }
}

static void info_json(const char *path, const learn_model *m) {
    learn_model_info in;
    learn_model_get_info(m, &in);
    printf("{\"file\": ");
    cli_json_string(stdout, path, strlen(path));
    printf(", \"format_version\": %u, \"file_size\": %" PRIu64 ", \"checksum\": \"ok\"",
           in.format_version, in.file_size);
    printf(", \"fingerprints\": {\"content\": \"%016" PRIx64 "\", \"towers\": \"%016" PRIx64 "\"}",
           in.content_fingerprint, in.tower_fingerprint);
    if (in.arch[0])
        printf(", \"llm\": {\"arch\": \"%s\", \"n_vocab\": %u, \"n_embd\": %u, \"n_layer\": %u, "
               "\"n_head\": %u, \"n_head_kv\": %u, \"head_dim\": %u, \"n_ff\": %u, "
               "\"n_ctx_train\": %u, \"n_params\": %" PRIu64 "}",
               in.arch, in.n_vocab, in.n_embd, in.n_layer, in.n_head, in.n_head_kv, in.head_dim,
               in.n_ff, in.n_ctx_train, in.n_params);
    else
        printf(", \"llm\": null");
    printf(", \"metadata\": {");
    for (uint32_t i = 0; i < in.n_meta; i++) {
        learn_meta_info mi;
        learn_model_meta(m, i, &mi);
        printf(i ? ", " : "");
        cli_json_string(stdout, mi.key, strlen(mi.key));
        printf(": ");
        print_value(m, &mi, 1);
    }
    printf("}, \"tensors\": [");
    for (uint32_t i = 0; i < in.n_tensors; i++) {
        learn_tensor_info t;
        learn_model_tensor(m, i, &t);
        printf(i ? ", {\"name\": " : "{\"name\": ");
        cli_json_string(stdout, t.name, strlen(t.name));
        printf(", \"type\": \"%s\", \"shape\": ", learn_type_name(t.type));
        print_shape(&t);
        printf(", \"offset\": %" PRIu64 ", \"size\": %" PRIu64 "}", t.offset, t.size);
    }
    printf("]}\n");
}

int cmd_info(int argc, char **argv) {
    const char *path = NULL;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            fputs(info_usage, stdout);
            return 0;
        } else if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return cli_error("info", "unknown option '%s' (see learn-cli info --help)", argv[i]);
        } else if (!path) {
            path = argv[i];
        } else {
            return cli_error("info", "more than one MODEL given (see learn-cli info --help)");
        }
    }
    if (!path) return cli_error("info", "no MODEL given (see learn-cli info --help)");
    learn_model *m = cli_open_model("info", path, 1);
    if (!m) return 1;
    if (json) info_json(path, m);
    else info_text(path, m);
    learn_model_close(m);
    return 0;
}

static const char verify_usage[] =
    "usage: learn-cli verify MODEL\n"
    "\n"
    "Checks a .learn file completely: its structure and checksum, the tensors its architecture\n"
    "needs, and every value: NaN/Inf in float tensors, zero, NaN or Inf block scales in\n"
    "quantized ones (naming the tensor and block). Exit code 0 when all is well.\n";

int cmd_verify(int argc, char **argv) {
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            fputs(verify_usage, stdout);
            return 0;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return cli_error("verify", "unknown option '%s' (see learn-cli verify --help)", argv[i]);
        } else if (!path) {
            path = argv[i];
        } else {
            return cli_error("verify", "more than one MODEL given");
        }
    }
    if (!path) return cli_error("verify", "no MODEL given (see learn-cli verify --help)");
    learn_model *m = cli_open_model("verify", path, 1);
    if (!m) return 1;
    uint64_t n = 0;
    char err[LEARN_ERRMSG_SIZE];
    learn_status st = learn_model_scan(m, &n, err, sizeof err);
    learn_model_info in;
    learn_model_get_info(m, &in);
    learn_model_close(m);
    if (st != LEARN_OK) return cli_error("verify", "%s: %s", path, err);
    printf("%s: ok (checksum, structure, %u tensors, %" PRIu64 " values checked)\n", path,
           in.n_tensors, n);
    return 0;
}
