// test_numfmt.c: number formatting (engine/numfmt.h) and the arena
// (engine/arena.h): round-trip digits for machines, short digits for
// people, and the bump allocator's alignment, limit and reset.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/arena.h"
#include "engine/numfmt.h"

static void test_exact(void **state)
{
    (void)state;
    char buf[32];
    assert_string_equal(numfmt_exact(buf, sizeof(buf), -12), "-12");
    assert_string_equal(numfmt_exact(buf, sizeof(buf), 0.1), "0.1");
    assert_string_equal(numfmt_exact(buf, sizeof(buf), 0.1 * 3), "0.30000000000000004");
    assert_string_equal(numfmt_exact(buf, sizeof(buf), 1e-300), "1e-300");
    assert_string_equal(numfmt_exact(buf, sizeof(buf), 0), "0");
    assert_string_equal(numfmt_exact(buf, sizeof(buf), NAN), "nan");
    assert_string_equal(numfmt_exact(buf, sizeof(buf), INFINITY), "inf");
    assert_string_equal(numfmt_exact(buf, sizeof(buf), -INFINITY), "-inf");
    // Round numbers print plainly, not as %g's "1e+01" (issue 8).
    assert_string_equal(numfmt_exact(buf, sizeof(buf), 10), "10");
    assert_string_equal(numfmt_exact(buf, sizeof(buf), 20), "20");
    assert_string_equal(numfmt_exact(buf, sizeof(buf), -300), "-300");
    assert_string_equal(numfmt_exact(buf, sizeof(buf), 1e15), "1000000000000000");
    assert_string_equal(numfmt_exact(buf, sizeof(buf), 1e16), "1e+16");
    assert_string_equal(numfmt_exact(buf, sizeof(buf), 1e300), "1e+300");
    assert_string_equal(numfmt_exact(buf, sizeof(buf), 0.0001), "0.0001");
    assert_string_equal(numfmt_exact(buf, sizeof(buf), 0.00001), "1e-05");
    assert_string_equal(numfmt_exact(buf, sizeof(buf), 1.5e-7), "1.5e-07");
    assert_string_equal(numfmt_exact(buf, sizeof(buf), 123456789.125), "123456789.125");
    assert_string_equal(numfmt_exact(buf, sizeof(buf), -0.0001234), "-0.0001234");
    assert_string_equal(numfmt_exact(buf, sizeof(buf), 5e-324), "5e-324");
    assert_string_equal(numfmt_exact(buf, sizeof(buf), 1.7976931348623157e308), "1.7976931348623157e+308");
    // Every value reads back exactly.
    const double xs[] = {3.141592653589793, -2.718281828459045, 1.0 / 3, 2.0 / 3, 5e-324, 1.7976931348623157e308, 123456789.125,
                         -0.0001234, 1e21, 1e22};
    for (size_t i = 0; i < sizeof(xs) / sizeof(xs[0]); i++) {
        numfmt_exact(buf, sizeof(buf), xs[i]);
        assert_true(strtod(buf, NULL) == xs[i]);
        assert_true(strlen(buf) <= 24);
    }
    uint64_t s = 88172645463325252ull;
    for (int i = 0; i < 10000; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        double x;
        memcpy(&x, &s, sizeof(x));
        if (!isfinite(x))
            continue;
        numfmt_exact(buf, sizeof(buf), x);
        if (strtod(buf, NULL) != x)
            fail_msg("%s does not read back as %.17g", buf, x);
        assert_true(strlen(buf) <= 24);
    }
}

static void test_short(void **state)
{
    (void)state;
    char buf[32];
    assert_string_equal(numfmt_short(buf, sizeof(buf), -12, 4), "-12");
    assert_string_equal(numfmt_short(buf, sizeof(buf), 0.7310585786, 3), "0.731");
    assert_string_equal(numfmt_short(buf, sizeof(buf), 1.2e-5, 2), "1.2e-05");
    assert_string_equal(numfmt_short(buf, sizeof(buf), -0.0, 4), "0");
    assert_string_equal(numfmt_short(buf, sizeof(buf), -1e-9, 4), "-1e-09");
    assert_string_equal(numfmt_short(buf, sizeof(buf), 0.5, 4), "0.5");
    assert_string_equal(numfmt_short(buf, sizeof(buf), NAN, 4), "NaN");
    assert_string_equal(numfmt_short(buf, sizeof(buf), INFINITY, 4), "+Inf");
    assert_string_equal(numfmt_short(buf, sizeof(buf), -INFINITY, 4), "-Inf");
}

// Placeholder formats: printf's e f g with flags, width and precision only.
static void test_spec(void **state)
{
    (void)state;
    char buf[64] = "untouched";
    assert_true(numfmt_spec(buf, sizeof(buf), ".3f", 1.23456));
    assert_string_equal(buf, "1.235");
    assert_true(numfmt_spec(buf, sizeof(buf), "+8.2e", -0.000125));
    assert_string_equal(buf, "-1.25e-04");
    assert_true(numfmt_spec(buf, sizeof(buf), "g", 0.5));
    assert_string_equal(buf, "0.5");
    assert_true(numfmt_spec(buf, sizeof(buf), "-+ #012.10G", 1.0));
    const char *bad[] = {"", "d", ".2d", "s", "n", "%f", ".3fx", "123f", ".123f", "-+ #0-f", "f%s", "*f", "lf"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        strcpy(buf, "untouched");
        if (numfmt_spec_valid(bad[i]) || numfmt_spec(buf, sizeof(buf), bad[i], 1.0))
            fail_msg("'%s' was taken as a number format", bad[i]);
        assert_string_equal(buf, "untouched");
    }
}

static void test_arena(void **state)
{
    (void)state;
    Arena a;
    arena_init(&a, 128, 0);
    for (int i = 1; i < 200; i++) {
        void *p = arena_alloc(&a, (size_t)i);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % 16, 0);
        memset(p, 0xab, (size_t)i);
    }
    // Larger than a block.
    unsigned char *big = arena_alloc(&a, 10000);
    assert_non_null(big);
    memset(big, 1, 10000);
    int *z = arena_calloc(&a, 100, sizeof(int));
    assert_non_null(z);
    for (int i = 0; i < 100; i++)
        assert_int_equal(z[i], 0);
    char *s = arena_strndup(&a, "hello world", 5);
    assert_string_equal(s, "hello");
    arena_reset(&a);
    assert_int_equal(a.used_total, 0);
    assert_non_null(arena_alloc(&a, 64));
    arena_destroy(&a);
    arena_destroy(NULL);

    // A limit makes allocations fail instead of growing.
    arena_init(&a, 0, 1024);
    assert_non_null(arena_alloc(&a, 512));
    assert_null(arena_alloc(&a, 1024));
    arena_reset(&a);
    assert_non_null(arena_alloc(&a, 1000));
    arena_destroy(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact),
        cmocka_unit_test(test_short),
        cmocka_unit_test(test_spec),
        cmocka_unit_test(test_arena),
    };
    return cmocka_run_group_tests_name("numfmt", tests, NULL, NULL);
}
