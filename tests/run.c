/* The test runner: the runtime and every Check suite in one translation unit, so that suites
   can reach the runtime's internals. Run through `./build.sh test`; CK_FORK=no for debugging. */
#include "../learn.c"

#include "test_util.h"
#include "safetensors.h"
#include "towers_import.h"
#include "train.h"
#include "convert.h"
#include "gguf.h"
#include "data.h"
#include "interactions.h"
#include "items.h"
#include "bpe_train.h"

#include "test_format.c"
#include "test_kernels.c"
#include "test_half.c"
#include "test_cli.c"
#include "test_llm.c"
#include "test_catalog.c"
#include "test_golden.c"
#include "test_convert.c"
#include "test_data.c"
#include "test_interactions.c"
#include "test_items.c"
#include "test_tokenizer.c"
#include "test_pipeline.c"
#include "test_shard.c"
#include "test_towers.c"
#include "test_train.c"
#include "test_fuzz_corpus.c"
#include "test_faults.c"
#include "test_concurrency.c"
#include "test_crash.c"
#include "test_locks.c"
#include "test_install.c"
#include "test_python.c"

int main(void) {
    SRunner *sr = srunner_create(make_format_suite());
    srunner_add_suite(sr, make_half_suite());
    srunner_add_suite(sr, make_kernels_suite());
    srunner_add_suite(sr, make_cli_suite());
    srunner_add_suite(sr, make_llm_suite());
    srunner_add_suite(sr, make_catalog_suite());
    srunner_add_suite(sr, make_golden_suite());
    srunner_add_suite(sr, make_convert_suite());
    srunner_add_suite(sr, make_data_suite());
    srunner_add_suite(sr, make_interactions_suite());
    srunner_add_suite(sr, make_items_suite());
    srunner_add_suite(sr, make_tokenizer_suite());
    srunner_add_suite(sr, make_pipeline_suite());
    srunner_add_suite(sr, make_shard_suite());
    srunner_add_suite(sr, make_towers_suite());
    srunner_add_suite(sr, make_train_suite());
    srunner_add_suite(sr, make_fuzz_corpus_suite());
    srunner_add_suite(sr, make_faults_suite());
    srunner_add_suite(sr, make_concurrency_suite());
    srunner_add_suite(sr, make_crash_suite());
    srunner_add_suite(sr, make_locks_suite());
    srunner_add_suite(sr, make_install_suite());
    srunner_add_suite(sr, make_python_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
