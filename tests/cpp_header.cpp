// learn.h compiled as C++ and linked against the C runtime.
#include "learn.h"

#include <cstdio>
#include <cstring>
#include <vector>

int main() {
    learn_writer *w = nullptr;
    if (learn_writer_new(nullptr, &w) != LEARN_OK) return 1;
    std::vector<float> x = {0.5f, -1.0f};
    uint64_t shape[1] = {2};
    learn_writer_add_tensor(w, "x", LEARN_TYPE_F32, 1, shape, x.data(), LEARN_WRITER_COPY);
    void *data = nullptr;
    size_t size = 0;
    learn_status st = learn_writer_save_memory(w, &data, &size);
    learn_model *m = nullptr;
    learn_model_params p = learn_model_default_params();
    if (st == LEARN_OK) st = learn_model_open_memory(data, size, &p, &m, nullptr, 0);
    learn_model_info info;
    if (st == LEARN_OK) st = learn_model_get_info(m, &info);
    bool ok = st == LEARN_OK && info.n_tensors == 1 && learn_f16_to_f32(learn_f32_to_f16(0.5f)) == 0.5f;
    learn_model_close(m);
    learn_writer_free_buffer(w, data);
    learn_writer_free(w);
    std::printf("C++ header: %s (learn %s)\n", ok ? "ok" : "FAILED", learn_version());
    return ok ? 0 : 1;
}
