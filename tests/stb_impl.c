/* learn.h included stb-style: the implementation compiled into this file. Built twice by
   build.sh: as is, and with LEARN_NO_STDIO + LEARN_NO_THREADS (a small target). */
#define LEARN_IMPLEMENTATION
#include "learn.h"

#include <stdio.h>
#include <string.h>

int main(void) {
    learn_writer *w;
    if (learn_writer_new(NULL, &w) != LEARN_OK) return 1;
    float x[4] = {1, 2, 3, 4};
    uint64_t shape[1] = {4};
    learn_writer_set_str(w, "general.name", "stb", 3);
    learn_writer_add_tensor(w, "x", LEARN_TYPE_F32, 1, shape, x, 0);
    void *data;
    size_t size;
    if (learn_writer_save_memory(w, &data, &size) != LEARN_OK) return 2;
    learn_model *m;
    char err[LEARN_ERRMSG_SIZE];
    if (learn_model_open_memory(data, size, NULL, &m, err, sizeof err) != LEARN_OK) {
        fprintf(stderr, "%s\n", err);
        return 3;
    }
    learn_tensor_info t;
    int ok = learn_model_tensor_find(m, "x", &t) == LEARN_OK && memcmp(t.data, x, 16) == 0;
    learn_model_close(m);
    learn_writer_free_buffer(w, data);
    learn_writer_free(w);
#ifdef LEARN_NO_STDIO
    printf("stb-style include (LEARN_NO_STDIO, LEARN_NO_THREADS): %s\n", ok ? "ok" : "FAILED");
#else
    printf("stb-style include: %s\n", ok ? "ok" : "FAILED");
#endif
    return ok ? 0 : 4;
}
