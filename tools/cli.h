/* Shared helpers of learn-cli's commands. */
#ifndef LEARN_CLI_H
#define LEARN_CLI_H

#include <stddef.h>
#include <stdio.h>

#include "learn.h"

/* Each command: argv[0] is the command's name. Returns the process exit code. */
typedef int (*cli_command_fn)(int argc, char **argv);

/* Prints "learn-cli CMD: message" on one line to stderr; returns 1 (the exit code). */
int cli_error(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* True for -h and --help. */
int cli_is_help(const char *arg);

/* Writes s[0..n) as a JSON string literal (quotes included; invalid UTF-8 bytes as \u00XX
   escapes of U+FFFD). */
void cli_json_string(FILE *f, const char *s, size_t n);

/* Opens a model, printing "learn-cli CMD: <reason>" on failure. Returns NULL on failure. */
learn_model *cli_open_model(const char *cmd, const char *path, int verify_checksum);

/* Parses a non-negative integer option value; returns 0 on success. */
int cli_parse_long(const char *s, long lo, long hi, long *out);

/* --lock-timeout S, given with any command (main takes it out of argv before the command
   sees it): how many seconds a writer waits for another writer of the same file (default
   60). cli_take_lock_timeout removes it from argv; returns 0, or 1 after printing why. */
extern double cli_lock_timeout;
int cli_take_lock_timeout(int *argc, char **argv);

/* Takes path's lock for writing it (learn_lock_acquire, waiting up to --lock-timeout), saying
   on stderr when it waits for another writer and when it removed temporary files that killed
   writers left. Commands take it before they read what they rewrite and hold it until the
   rename. Returns NULL after printing "learn-cli CMD: <reason>". */
learn_lock *cli_lock(const char *cmd, const char *path);

/* Output files written atomically under their lock: cli_out_open takes path's lock and gives
   a FILE* on a temporary file next to it; cli_out_commit flushes, fsyncs, renames it over path
   and fsyncs the directory; cli_out_abort removes it. Both close the file and release the
   lock. Return 0 on success (commit prints the reason as "learn-cli CMD: ..." on failure). */
typedef struct cli_out {
    FILE *f;
    learn_lock *lock;
    char path[4096];
} cli_out;
int cli_out_open(cli_out *o, const char *cmd, const char *path);
int cli_out_commit(cli_out *o, const char *cmd);
void cli_out_abort(cli_out *o);

/* Copies a model's metadata and tensors (borrowed: the model must stay open until the writer
   is saved) into w, except keys and tensors starting with skip_prefix (may be NULL) and the
   fingerprints. Returns 0, or 1 with the reason in err. */
int cli_copy_model(learn_writer *w, const learn_model *m, const char *skip_prefix, char *err, size_t errn);

/* The item of a learn_encode call of k texts that its error message msg names ("item J: ..."):
   J, and in *rest the reason after "item J: ". 0 and the whole message when it names none. */
size_t cli_failed_item(const char *msg, size_t k, const char **rest);

/* Writes the header of a version 1.0 .npy file of float32 ('<f4', C order) of shape (n, d):
   n * d little-endian floats follow it. */
void cli_npy_header(FILE *f, size_t n, size_t d);

/* mkdir -p; returns 0 on success. */
int cli_mkdirs(const char *path);

/* The commands (cmd_NAME.c; user and recommend in cmd_recommend.c, info and verify in
   cmd_info.c). */
int cmd_demo(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_embed(int argc, char **argv);
int cmd_data(int argc, char **argv);
int cmd_synth(int argc, char **argv);
int cmd_catalog(int argc, char **argv);
int cmd_user(int argc, char **argv);
int cmd_recommend(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_convert(int argc, char **argv);

#endif
