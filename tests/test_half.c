/* Half precision: every fp16/bf16 value, and rounding at every halfway point. */

static uint32_t half_f2u(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}
static float half_u2f(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* An independent reference: the value of a half from its fields, in double. */
static double half_ref_value(uint16_t h) {
    int exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
    double v = exp == 0 ? ldexp(mant, -24) : ldexp(1024 + mant, exp - 25);
    return (h & 0x8000) ? -v : v;
}

START_TEST(test_f16_to_f32_all) {
    for (uint32_t i = 0; i < 65536; i++) {
        uint16_t h = (uint16_t)i;
        float f = learn_f16_to_f32(h);
        int exp = (h >> 10) & 0x1f;
        if (exp == 0x1f) {
            if (h & 0x3ff) {
                ck_assert_msg(isnan(f), "0x%04x", h);
                ck_assert_uint_eq((half_f2u(f) >> 13) & 0x3ff, h & 0x3ff); /* payload kept */
            } else {
                ck_assert_msg(isinf(f), "0x%04x", h);
            }
            ck_assert_uint_eq(half_f2u(f) >> 31, (uint32_t)(h >> 15));
            continue;
        }
        ck_assert_msg((double)f == half_ref_value(h), "0x%04x -> %a, want %a", h, (double)f,
                      half_ref_value(h));
        ck_assert_uint_eq(half_f2u(f) >> 31, (uint32_t)(h >> 15)); /* -0 stays -0 */
        /* Round trip: every finite half comes back bit for bit. */
        ck_assert_uint_eq(learn_f32_to_f16(f), h);
    }
}
END_TEST

/* Nearest-even reference: compares distances in double. */
static uint16_t half_ref_round(float x) {
    if (isnan(x)) return 0x7e00;
    double v = x;
    uint16_t sign = signbit(x) ? 0x8000 : 0;
    double a = fabs(v);
    if (a >= 65520.0) return sign | 0x7c00;
    uint16_t best = 0;
    double best_d = INFINITY;
    /* Binary search for the largest half magnitude <= a, then compare with the next. */
    uint16_t lo = 0, hi = 0x7bff;
    while (lo < hi) {
        uint16_t mid = (uint16_t)((lo + hi + 1) / 2);
        if (half_ref_value(mid) <= a) lo = mid;
        else hi = (uint16_t)(mid - 1);
    }
    for (uint16_t c = lo; c <= lo + 1 && c <= 0x7c00; c++) {
        double cv = c == 0x7c00 ? 65536.0 : half_ref_value(c);
        double d = fabs(cv - a);
        if (d < best_d || (d == best_d && (c & 1) == 0)) best = c, best_d = d;
    }
    return sign | best;
}

START_TEST(test_f32_to_f16_rounding) {
    /* Every halfway point between neighbouring halves, and one float ulp either side. */
    for (uint32_t i = 0; i < 0x7c00; i++) {
        for (int s = 0; s < 2; s++) {
            uint16_t h0 = (uint16_t)(i | (s ? 0x8000 : 0));
            double lo = half_ref_value(h0);
            double hi = i == 0x7bff ? (s ? -65536.0 : 65536.0) : half_ref_value((uint16_t)(h0 + 1));
            float mid = (float)((lo + hi) / 2); /* exact: 12 significant bits */
            ck_assert((double)mid == (lo + hi) / 2);
            float probes[3] = {mid, nextafterf(mid, 0.0f), nextafterf(mid, s ? -INFINITY : INFINITY)};
            for (int k = 0; k < 3; k++) {
                uint16_t got = learn_f32_to_f16(probes[k]), want = half_ref_round(probes[k]);
                ck_assert_msg(got == want, "%a -> 0x%04x, want 0x%04x", (double)probes[k], got, want);
            }
        }
    }
    ck_assert_uint_eq(learn_f32_to_f16(65504.0f), 0x7bff);
    ck_assert_uint_eq(learn_f32_to_f16(65519.996f), 0x7bff);
    ck_assert_uint_eq(learn_f32_to_f16(65520.0f), 0x7c00);
    ck_assert_uint_eq(learn_f32_to_f16(1e10f), 0x7c00);
    ck_assert_uint_eq(learn_f32_to_f16(-1e10f), 0xfc00);
    ck_assert_uint_eq(learn_f32_to_f16(INFINITY), 0x7c00);
    ck_assert_uint_eq(learn_f32_to_f16(0x1p-24f), 0x0001);   /* smallest subnormal */
    ck_assert_uint_eq(learn_f32_to_f16(0x1p-25f), 0x0000);   /* tie to even: zero */
    ck_assert_uint_eq(learn_f32_to_f16(0x1.8p-24f), 0x0002); /* tie to even: 2 */
    ck_assert_uint_eq(learn_f32_to_f16(-0.0f), 0x8000);
    ck_assert_uint_eq(learn_f32_to_f16(1e-30f), 0x0000);
    /* NaN stays NaN (quiet), sign and top payload bits kept. */
    uint16_t n = learn_f32_to_f16(half_u2f(0x7fc12345u));
    ck_assert_uint_eq(n & 0x7c00, 0x7c00);
    ck_assert_uint_ne(n & 0x3ff, 0);
    ck_assert_uint_eq(learn_f32_to_f16(half_u2f(0xff800001u)) & 0xfe00, 0xfe00); /* signalling */
    /* Random floats against the reference. */
    test_rng r = {99};
    for (int i = 0; i < 200000; i++) {
        float x = half_u2f((uint32_t)test_rand(&r));
        if (isnan(x)) continue;
        ck_assert_uint_eq(learn_f32_to_f16(x), half_ref_round(x));
    }
}
END_TEST

START_TEST(test_bf16_all) {
    for (uint32_t i = 0; i < 65536; i++) {
        uint16_t h = (uint16_t)i;
        float f = learn_bf16_to_f32(h);
        ck_assert_uint_eq(half_f2u(f), (uint32_t)h << 16);
        if (!isnan(f)) ck_assert_uint_eq(learn_f32_to_bf16(f), h);
        else ck_assert(isnan(learn_bf16_to_f32(learn_f32_to_bf16(f))));
    }
    /* Halfway points round to even; one ulp above rounds up. */
    for (uint32_t i = 0; i < 0x7f7f; i += 7) {
        uint32_t mid = (i << 16) | 0x8000u;
        uint16_t want = (uint16_t)((i & 1) ? i + 1 : i);
        ck_assert_uint_eq(learn_f32_to_bf16(half_u2f(mid)), want);
        ck_assert_uint_eq(learn_f32_to_bf16(half_u2f(mid + 1)), i + 1);
        ck_assert_uint_eq(learn_f32_to_bf16(half_u2f(mid - 1)), i);
    }
    ck_assert_uint_eq(learn_f32_to_bf16(half_u2f(0x7f7fffffu)), 0x7f80); /* rounds to Inf */
    ck_assert_uint_eq(learn_f32_to_bf16(half_u2f(0x7f800001u)) & 0x7fc0, 0x7fc0);
}
END_TEST

static Suite *make_half_suite(void) {
    Suite *s = suite_create("half");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_f16_to_f32_all);
    tcase_add_test(tc, test_f32_to_f16_rounding);
    tcase_add_test(tc, test_bf16_all);
    suite_add_tcase(s, tc);
    return s;
}
