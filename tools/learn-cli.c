/* learn-cli: one binary, one subcommand per job. `learn-cli --help` lists them. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct {
    const char *name;
    cli_command_fn fn;
    const char *summary;
} commands[] = {
    {"demo", cmd_demo, "the whole method on the default model, with a cold-start item"},
    {"info", cmd_info, "print a .learn file's header, metadata and tensors (a model or a catalog)"},
    {"verify", cmd_verify, "check a .learn file's checksum, structure and every value (NaN/Inf, zero scales)"},
    {"tokenize", cmd_tokenize, "token ids of a text with a model's or an imported tokenizer (or ids back to text)"},
    {"embed", cmd_embed, "content embeddings of texts or item records (JSON lines or .npy)"},
    {"data", cmd_data, "turn MovieLens, UniSRec or generated data into items.jsonl + interactions.tsv"},
    {"synth", cmd_synth, "write a random-weight LLM of a real shape (benchmarks, tests)"},
    {"catalog", cmd_catalog, "build, extend, merge, re-embed or export a catalog of item embeddings"},
    {"user", cmd_user, "the embedding of a user from a history of catalog ids"},
    {"recommend", cmd_recommend, "the top-K catalog items for a history (or a JSONL batch of users)"},
    {"train", cmd_train, "train the towers on a catalog and interactions"},
    {"eval", cmd_eval, "Recall/NDCG@10/50 and MRR of a model and two baselines (the paper's protocol)"},
    {"bench", cmd_bench, "speed of the encoder (against the CPU's int8 peak), towers and top-K on this machine"},
    {"convert", cmd_convert, "convert GGUF, Hugging Face and llama2.c models and LEARN tower checkpoints to .learn"},
};

static void usage(FILE *f) {
    fprintf(f, "usage: learn-cli COMMAND [options]    (learn %s)\n\ncommands:\n", learn_version());
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n`learn-cli COMMAND --help` describes a command.\n"
               "--lock-timeout S, with any command that writes files: how long to wait for another\n"
               "writer of the same file (default 60 s; 0: do not wait).\n");
}

int main(int argc, char **argv) {
    if (cli_take_lock_timeout(&argc, argv)) return 2;
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (cli_is_help(argv[1]) || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("learn-cli %s\n", learn_version());
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0) return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "learn-cli: unknown command '%s' (see learn-cli --help)\n", argv[1]);
    return 2;
}
