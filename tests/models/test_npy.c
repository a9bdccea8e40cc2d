// test_npy.c: .npy reading and writing: round trips, versions 1.0 and 2.0,
// float64 conversion, and every class of bad file with its exact message;
// and the file layer under it (engine/fileio.h): files that are not regular
// files, outputs that are symlinks, folders and the reasons they fail with.
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine/fileio.h"
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

// ---------------------------------------------------------------------------
// The file layer. Each test works in a fresh folder under /tmp.

static char dirpath[64];

static void fresh_dir(void)
{
    snprintf(dirpath, sizeof dirpath, "/tmp/gradlab_fileio_XXXXXX");
    assert_non_null(mkdtemp(dirpath));
}

// dirpath/rel into buf.
static const char *at(char *buf, size_t n, const char *rel)
{
    snprintf(buf, n, "%s/%s", dirpath, rel);
    return buf;
}

static void remove_all(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        for (struct dirent *e; d && (e = readdir(d));) {
            if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
                char sub[512];
                snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
                remove_all(sub);
            }
        }
        if (d)
            closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static void put_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

// The number of entries in folder path, "." and ".." aside.
static int entries(const char *path)
{
    DIR *d = opendir(path);
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

// A FIFO with no writer is refused at once, not waited on (the alarm fails
// the test if anything blocks); so is a device.
static void test_read_special_files(void **state)
{
    (void)state;
    fresh_dir();
    char fifo[128], want[256], err[NPY_ERR_MAX];
    at(fifo, sizeof fifo, "f.npy");
    assert_int_equal(mkfifo(fifo, 0644), 0);
    alarm(10);
    Npy a;
    assert_false(npy_load(fifo, &a, err, sizeof err));
    snprintf(want, sizeof want,
             "%s: error: cannot open: it is not a regular file (a FIFO); save its contents to a file first",
             fifo);
    assert_string_equal(err, want);
    size_t len;
    assert_null(file_read_all(fifo, 1024, &len, err, sizeof err));
    snprintf(want, sizeof want,
             "cannot open '%s': it is not a regular file (a FIFO); save its contents to a file first", fifo);
    assert_string_equal(err, want);
    assert_null(file_read_all("/dev/zero", 1024, &len, err, sizeof err));
    assert_non_null(strstr(err, "it is not a regular file (a character device)"));
    alarm(0);
    // A file far over the limit is refused by its size, before any read.
    char big[128];
    at(big, sizeof big, "big.txt");
    int fd = open(big, O_WRONLY | O_CREAT, 0644);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)1 << 30), 0);   // sparse: costs no disk
    close(fd);
    assert_null(file_read_all(big, 1 << 20, &len, err, sizeof err));
    snprintf(want, sizeof want, "'%s' is larger than 1048576 bytes, the limit", big);
    assert_string_equal(err, want);
    // Exactly at the limit is fine.
    put_text(big, "0123456789");
    char *text = file_read_all(big, 10, &len, err, sizeof err);
    assert_non_null(text);
    assert_int_equal(len, 10);
    assert_string_equal(text, "0123456789");
    free(text);
    assert_null(file_read_all(big, 9, &len, err, sizeof err));
    remove_all(dirpath);
}

// npy_save never writes through a symlink: the link is replaced by the file
// and its target is left alone. No temporary file is left behind.
static void test_save_over_symlink(void **state)
{
    (void)state;
    fresh_dir();
    char victim[128], link[128], err[NPY_ERR_MAX];
    at(victim, sizeof victim, "victim.txt");
    at(link, sizeof link, "out.npy");
    put_text(victim, "keep me\n");
    assert_int_equal(symlink(victim, link), 0);
    float f[2] = {1, 2};
    assert_true(npy_save(link, f, 1, (int64_t[]){2}, err, sizeof err));
    struct stat st;
    assert_int_equal(lstat(link, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    size_t len;
    char *text = file_read_all(victim, 100, &len, err, sizeof err);
    assert_non_null(text);
    assert_string_equal(text, "keep me\n");
    free(text);
    Npy a;
    assert_true(npy_load(link, &a, err, sizeof err));
    assert_int_equal(a.count, 2);
    assert_true(a.data[1] == 2.0f);
    npy_free(&a);
    assert_int_equal(entries(dirpath), 2);
    remove_all(dirpath);
}

// Outputs that cannot be written say why, naming the part of the path that
// is wrong; nothing is left behind.
static void test_save_errors(void **state)
{
    (void)state;
    fresh_dir();
    char path[128], file[128], want[512], err[NPY_ERR_MAX];
    float f[2] = {1, 2};
    // A folder where the file should go.
    at(path, sizeof path, "adir.npy");
    assert_int_equal(mkdir(path, 0755), 0);
    assert_false(npy_save(path, f, 1, (int64_t[]){2}, err, sizeof err));
    snprintf(want, sizeof want, "%s: error: cannot create: it is a folder", path);
    assert_string_equal(err, want);
    // A file where a folder should be: ENOTDIR, named, not "No such file".
    at(file, sizeof file, "afile");
    put_text(file, "x");
    at(path, sizeof path, "afile/y.npy");
    assert_false(npy_save(path, f, 1, (int64_t[]){2}, err, sizeof err));
    snprintf(want, sizeof want, "%s: error: cannot create: '%s' is not a folder", path, file);
    assert_string_equal(err, want);
    assert_int_equal(entries(dirpath), 2);
    remove_all(dirpath);
}

// Folders: creating with and without parents, checking without creating,
// and reasons that come from the call that failed (errno saved at once).
static void test_dirs(void **state)
{
    (void)state;
    fresh_dir();
    char path[256], file[128], want[512], err[512];
    at(file, sizeof file, "afile");
    put_text(file, "x");
    // Through a file: the file is named, with and without parents.
    at(path, sizeof path, "afile/sub/deeper");
    snprintf(want, sizeof want, "cannot create '%s': '%s' is not a folder", path, file);
    assert_false(file_make_dir(path, true, err, sizeof err));
    assert_string_equal(err, want);
    assert_false(file_make_dir(path, false, err, sizeof err));
    assert_string_equal(err, want);
    assert_false(file_check_dir(path, true, err, sizeof err));
    assert_string_equal(err, want);
    // A plain file as the folder: "not a folder", not "File exists".
    snprintf(want, sizeof want, "cannot create '%s': it exists and is not a folder", file);
    assert_false(file_make_dir(file, false, err, sizeof err));
    assert_string_equal(err, want);
    assert_false(file_check_dir(file, false, err, sizeof err));
    assert_string_equal(err, want);
    // A symlink to nothing: mkdir says EEXIST and a later stat says ENOENT;
    // the message must come from what is there, not from the stat.
    char dangling[128], missing[128];
    at(dangling, sizeof dangling, "dangling");
    at(missing, sizeof missing, "missing");
    assert_int_equal(symlink(missing, dangling), 0);
    snprintf(want, sizeof want, "cannot create '%s': it is a symbolic link to something that does not exist",
             dangling);
    assert_false(file_make_dir(dangling, true, err, sizeof err));
    assert_string_equal(err, want);
    assert_false(file_check_dir(dangling, true, err, sizeof err));
    assert_string_equal(err, want);
    // Parents: created with them, refused without, and only checked by check.
    at(path, sizeof path, "n1/n2/n3/");
    assert_true(file_check_dir(path, true, err, sizeof err));
    assert_false(file_check_dir(path, false, err, sizeof err));
    snprintf(want, sizeof want, "cannot create '%s': No such file or directory", path);
    assert_string_equal(err, want);
    assert_false(file_make_dir(path, false, err, sizeof err));
    assert_string_equal(err, want);
    struct stat st;
    assert_int_equal(stat(at(file, sizeof file, "n1"), &st), -1);   // check created nothing
    assert_true(file_make_dir(path, true, err, sizeof err));
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_true(file_make_dir(path, true, err, sizeof err));   // there already: fine
    assert_true(file_check_dir(path, false, err, sizeof err));
    // Permission denied stays "Permission denied". Root is not refused, so
    // then use a folder that refuses root too, if there is one: sysfs
    // (mkdir there fails with EPERM, a stat after it with ENOENT).
    if (geteuid() != 0) {
        at(path, sizeof path, "ro");
        assert_int_equal(mkdir(path, 0555), 0);
        at(path, sizeof path, "ro/sub");
        snprintf(want, sizeof want, "cannot create '%s': %s", path, strerror(EACCES));
        assert_false(file_make_dir(path, true, err, sizeof err));
        assert_string_equal(err, want);
        assert_false(file_check_dir(path, true, err, sizeof err));
        assert_string_equal(err, want);
        at(path, sizeof path, "ro");
        snprintf(want, sizeof want, "cannot write into '%s': %s", path, strerror(EACCES));
        assert_false(file_check_dir(path, false, err, sizeof err));
        assert_string_equal(err, want);
    } else if (stat("/sys/kernel", &st) == 0 && S_ISDIR(st.st_mode)) {
        const char *sys = "/sys/gradlab-test-not-created";
        bool made = file_make_dir(sys, false, err, sizeof err);
        if (made)
            rmdir(sys);
        assert_false(made);
        assert_null(strstr(err, "No such file"));
        print_message("# as root: permission test on %s: %s\n", sys, err);
    } else {
        print_message("# skip: running as root without sysfs; no folder refuses root here\n");
    }
    remove_all(dirpath);
}

// The temporary-file pair: a discarded file leaves nothing, a committed one
// replaces what was there.
static void test_temp_files(void **state)
{
    (void)state;
    fresh_dir();
    char path[128], tmp[256], why[256];
    at(path, sizeof path, "a.txt");
    int fd = file_temp_open(path, tmp, sizeof tmp, why, sizeof why);
    assert_true(fd >= 0);
    assert_non_null(strstr(tmp, "/.a.txt.tmp-"));
    close(fd);
    file_temp_discard(tmp);
    assert_int_equal(entries(dirpath), 0);
    put_text(path, "old");
    fd = file_temp_open(path, tmp, sizeof tmp, why, sizeof why);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "new", 3), 3);
    close(fd);
    assert_true(file_temp_commit(tmp, path, why, sizeof why));
    size_t len;
    char err[256];
    char *text = file_read_all(path, 100, &len, err, sizeof err);
    assert_non_null(text);
    assert_string_equal(text, "new");
    free(text);
    assert_int_equal(entries(dirpath), 1);
    // Into a folder that does not exist: the reason, no file.
    at(path, sizeof path, "nowhere/a.txt");
    assert_int_equal(file_temp_open(path, tmp, sizeof tmp, why, sizeof why), -1);
    assert_string_equal(why, strerror(ENOENT));
    assert_string_equal(tmp, "");
    remove_all(dirpath);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_file),
        cmocka_unit_test(test_versions_and_f8),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_all_prefixes),
        cmocka_unit_test(test_read_special_files),
        cmocka_unit_test(test_save_over_symlink),
        cmocka_unit_test(test_save_errors),
        cmocka_unit_test(test_dirs),
        cmocka_unit_test(test_temp_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
