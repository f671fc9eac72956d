/* The libFuzzer entry of one harness, chosen at compile time: -DFUZZ_NAME='"model"' (see
   tests/fuzz/run.sh, which builds one binary per harness of fuzz_targets.c). */
#define _POSIX_C_SOURCE 200809L
#include "fuzz_targets.c"

#ifndef FUZZ_NAME
#error "define FUZZ_NAME, the harness to build"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int (*fn)(const uint8_t *, size_t);
    if (!fn) {
        for (size_t i = 0; i < sizeof fuzz_targets / sizeof fuzz_targets[0]; i++)
            if (strcmp(fuzz_targets[i].name, FUZZ_NAME) == 0) fn = fuzz_targets[i].fn;
        if (!fn) {
            fprintf(stderr, "no harness named %s\n", FUZZ_NAME);
            abort();
        }
    }
    return fn(data, size);
}
