// test_npy.c: .npy reading and writing: round trips, versions 1.0 and 2.0,
// float64 conversion, and every class of bad file with its exact message.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine/npy/npy.h"

// Build an .npy image: magic, version, header dict (padded to 64 bytes,
// ending '\n'), then nbytes of data. Returns its length.
static size_t make(unsigned char *buf, int major, const char *dict, const void *data, size_t nbytes)
{
    size_t pre = major == 1 ? 10 : 12;
    size_t n = strlen(dict);
    size_t hlen = n + 1;
    hlen += (64 - (pre + hlen) % 64) % 64;
    memcpy(buf, "\x93NUMPY", 6);
    buf[6] = (unsigned char)major;
    buf[7] = 0;
    buf[8] = (unsigned char)(hlen & 0xff);
    buf[9] = (unsigned char)(hlen >> 8);
    if (major != 1) {
        buf[10] = 0;
        buf[11] = 0;
    }
    memcpy(buf + pre, dict, n);
    memset(buf + pre + n, ' ', hlen - n - 1);
    buf[pre + hlen - 1] = '\n';
    if (nbytes)
        memcpy(buf + pre + hlen, data, nbytes);
    return pre + hlen + nbytes;
}

// Parse buf and expect failure with exactly message msg.
static void expect_error(const unsigned char *buf, size_t len, const char *msg)
{
    Npy a;
    char err[NPY_ERR_MAX];
    assert_false(npy_parse("x.npy", buf, len, &a, err, sizeof err));
    assert_null(a.data);
    assert_string_equal(err, msg);
}

static void test_roundtrip_file(void **state)
{
    (void)state;
    char path[] = "/tmp/gradlab_npy_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    float data[6] = {1.5f, -2.0f, 3.25f, 0.0f, 1e-30f, 7.0f};
    int64_t shape[2] = {2, 3};
    char err[NPY_ERR_MAX];
    assert_true(npy_save(path, data, 2, shape, err, sizeof err));
    Npy a;
    assert_true(npy_load(path, &a, err, sizeof err));
    assert_int_equal(a.ndim, 2);
    assert_int_equal(a.shape[0], 2);
    assert_int_equal(a.shape[1], 3);
    assert_int_equal(a.count, 6);
    assert_memory_equal(a.data, data, sizeof data);
    npy_free(&a);
    // 1-D, and a scalar.
    int64_t s1[1] = {6};
    assert_true(npy_save(path, data, 1, s1, err, sizeof err));
    assert_true(npy_load(path, &a, err, sizeof err));
    assert_int_equal(a.ndim, 1);
    assert_int_equal(a.count, 6);
    npy_free(&a);
    assert_true(npy_save(path, data, 0, NULL, err, sizeof err));
    assert_true(npy_load(path, &a, err, sizeof err));
    assert_int_equal(a.ndim, 0);
    assert_int_equal(a.count, 1);
    assert_true(a.data[0] == 1.5f);
    npy_free(&a);
    npy_free(&a);   // freeing twice is harmless
    npy_free(NULL);
    unlink(path);
}

static void test_versions_and_f8(void **state)
{
    (void)state;
    unsigned char buf[512];
    float f[3] = {1, 2, 3};
    double d[3] = {0.5, -1e40, 1e-3};
    Npy a;
    char err[NPY_ERR_MAX];
    size_t n = make(buf, 2, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", f, 12);
    assert_true(npy_parse("x.npy", buf, n, &a, err, sizeof err));
    assert_memory_equal(a.data, f, 12);
    npy_free(&a);
    n = make(buf, 1, "{\"shape\":(1,3),\"fortran_order\":False,\"descr\":\"<f8\"}", d, 24);
    assert_true(npy_parse("x.npy", buf, n, &a, err, sizeof err));
    assert_int_equal(a.ndim, 2);
    assert_true(a.data[0] == 0.5f);
    assert_true(a.data[1] < -1e38f);   // out of float range: -inf
    assert_true(a.data[2] == (float)1e-3);
    npy_free(&a);
    // Zero-size arrays are fine.
    n = make(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 5), }", NULL, 0);
    assert_true(npy_parse("x.npy", buf, n, &a, err, sizeof err));
    assert_int_equal(a.count, 0);
    npy_free(&a);
}

static void test_bad_files(void **state)
{
    (void)state;
    unsigned char buf[1024];
    float f[4] = {0};
    size_t n;
    expect_error((const unsigned char *)"hello world", 11,
                 "x.npy: error: not a .npy file (the magic string is missing)");
    expect_error((const unsigned char *)"\x93NUMP", 5,
                 "x.npy: error: not a .npy file (the magic string is missing)");
    expect_error((const unsigned char *)"\x93NUMPY\x01", 7,
                 "x.npy: error: truncated file (the header is cut short)");
    expect_error((const unsigned char *)"\x93NUMPY\x03\x00\x10\x00\x00\x00", 12,
                 "x.npy: error: unsupported .npy format version 3.0; versions 1.0 and 2.0 are supported");
    n = make(buf, 1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", f, 16);
    expect_error(buf, n, "x.npy: error: Fortran-order arrays are not supported; save with np.ascontiguousarray");
    n = make(buf, 1, "{'descr': '<i4', 'fortran_order': False, 'shape': (4,), }", f, 16);
    expect_error(buf, n, "x.npy: error: dtype '<i4' is not supported; expected '<f4' or '<f8'");
    n = make(buf, 1, "{'descr': '>f4', 'fortran_order': False, 'shape': (4,), }", f, 16);
    expect_error(buf, n, "x.npy: error: big-endian dtype '>f4' is not supported; save as little-endian '<f4' or '<f8'");
    n = make(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", f, 12);
    expect_error(buf, n, "x.npy: error: truncated file (the data needs 16 bytes, 12 are there)");
    n = make(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", f, 16);
    expect_error(buf, n, "x.npy: error: 4 bytes of unexpected data after the array");
    n = make(buf, 1, "{'descr': '<f4', 'fortran_order': False, }", f, 16);
    expect_error(buf, n, "x.npy: error: bad header: missing key 'shape'");
    n = make(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), 'extra': 1}", f, 16);
    expect_error(buf, n, "x.npy: error: bad header: unexpected or repeated key 'extra'");
    n = make(buf, 1, "['descr', '<f4']", f, 16);
    expect_error(buf, n, "x.npy: error: bad header: it is not a Python dict");
    n = make(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (-4,), }", f, 16);
    expect_error(buf, n, "x.npy: error: bad header: 'shape' must hold non-negative whole numbers");
    n = make(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4 4), }", f, 16);
    expect_error(buf, n, "x.npy: error: bad header: 'shape' is not a tuple of numbers");
    n = make(buf, 1, "{'descr': '<f4', 'fortran_order': maybe, 'shape': (4,), }", f, 16);
    expect_error(buf, n, "x.npy: error: bad header: 'fortran_order' is not True or False");
    // Absurd sizes are refused before anything is allocated.
    n = make(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", f, 0);
    expect_error(buf, n, "x.npy: error: array is too large (a dimension exceeds 67108864 elements)");
    n = make(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (65536, 65536), }", f, 0);
    expect_error(buf, n, "x.npy: error: array is too large (more than 67108864 elements)");
    n = make(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1), }", f, 4);
    expect_error(buf, n, "x.npy: error: too many dimensions (at most 8)");
    // A header length beyond the cap (version 2.0, 16 MB).
    expect_error((const unsigned char *)"\x93NUMPY\x02\x00\x00\x00\x00\x01", 12,
                 "x.npy: error: bad header: it is 16777216 bytes long (at most 65536)");
    // A header length past the end of the file.
    expect_error((const unsigned char *)"\x93NUMPY\x01\x00\x40\x00{}", 12,
                 "x.npy: error: truncated file (the header is cut short)");
    // Binary junk in the header.
    n = make(buf, 1, "{'descr': '<f4'\x01, 'fortran_order': False, 'shape': (4,), }", f, 16);
    expect_error(buf, n, "x.npy: error: bad header: it contains a byte that is not ASCII text");
}

static void test_load_errors(void **state)
{
    (void)state;
    Npy a;
    char err[NPY_ERR_MAX];
    assert_false(npy_load("/nonexistent/dir/x.npy", &a, err, sizeof err));
    assert_string_equal(err, "/nonexistent/dir/x.npy: error: cannot open: No such file or directory");
    // A truncated file on disk is caught from its length before allocating.
    char path[] = "/tmp/gradlab_npy_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unsigned char buf[256];
    float f[2] = {1, 2};
    size_t n = make(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000,), }", f, 8);
    assert_int_equal(write(fd, buf, n), (ssize_t)n);
    close(fd);
    char want[NPY_ERR_MAX];
    snprintf(want, sizeof want, "%s: error: truncated file (the data needs 4000000 bytes, 8 are there)", path);
    assert_false(npy_load(path, &a, err, sizeof err));
    assert_string_equal(err, want);
    // An empty file.
    fd = open(path, O_WRONLY | O_TRUNC);
    close(fd);
    snprintf(want, sizeof want, "%s: error: not a .npy file (the magic string is missing)", path);
    assert_false(npy_load(path, &a, err, sizeof err));
    assert_string_equal(err, want);
    // A directory.
    assert_false(npy_load("/tmp", &a, err, sizeof err));
    assert_string_equal(err, "/tmp: error: cannot open: it is a directory");
    // Writing into a missing directory.
    assert_false(npy_save("/nonexistent/dir/y.npy", f, 1, (int64_t[]){2}, err, sizeof err));
    assert_string_equal(err, "/nonexistent/dir/y.npy: error: cannot create: No such file or directory");
    unlink(path);
}

// Every prefix of a valid file is refused (never crashes or reads past it).
static void test_all_prefixes(void **state)
{
    (void)state;
    unsigned char buf[256];
    float f[3] = {1, 2, 3};
    size_t n = make(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", f, 12);
    for (size_t k = 0; k < n; k++) {
        unsigned char *copy = malloc(k ? k : 1);   // exact size: ASan catches overreads
        memcpy(copy, buf, k);
        Npy a;
        char err[NPY_ERR_MAX];
        assert_false(npy_parse("x.npy", copy, k, &a, err, sizeof err));
        assert_non_null(strstr(err, "x.npy: error: "));
        free(copy);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_file),
        cmocka_unit_test(test_versions_and_f8),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_all_prefixes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
