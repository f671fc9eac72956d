/* The concurrency suite alone, for ThreadSanitizer: tests/tsan.sh compiles this file (the
   runtime, test_util.h and tests/test_concurrency.c in one translation unit) with
   -fsanitize=thread and runs it without forking. */
#include "../learn.c"

#include "test_util.h"
#include "test_concurrency.c"

int main(void) {
    SRunner *sr = srunner_create(make_concurrency_suite());
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
