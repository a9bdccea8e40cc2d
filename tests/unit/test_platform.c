// test_platform.c: the platform layer's folder creation (app/platform.h).
// platform_mkdir makes one folder; a folder already there is fine, and any
// other outcome is a sentence naming the path, with the reason of the call
// that failed (not of a stat made after it, which would replace it).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/platform.h"

static char dir[256];   // a fresh temporary folder per test

static int setup(void **state)
{
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof(dir), "%s/gradlab-platform-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    const char *names[] = {"new", "afile/sub", "afile", "dangling", "missing/sub"};
    char p[512];
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
        remove(p);
    }
    rmdir(dir);
    return 0;
}

static char *at(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "%s/%s", dir, name);
    return buf;
}

// A new folder is made; making it again is fine.
static void test_new_and_existing(void **state)
{
    (void)state;
    char path[512], err[512] = "";
    at(path, sizeof(path), "new");
    assert_true(platform_mkdir(path, err, sizeof(err)));
    assert_true(platform_is_dir(path));
    assert_true(platform_mkdir(path, err, sizeof(err)));
}

// A file where the folder should be is an error that names the path, not
// "File exists" and not success.
static void test_file_in_the_way(void **state)
{
    (void)state;
    char path[512], want[1100], err[512] = "";
    at(path, sizeof(path), "afile");
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
    snprintf(want, sizeof(want), "cannot create '%s': it exists and is not a folder", path);
    assert_false(platform_mkdir(path, err, sizeof(err)));
    assert_string_equal(err, want);
    // And a folder below it: the file is named as what is not a folder.
    char sub[512];
    at(sub, sizeof(sub), "afile/sub");
    snprintf(want, sizeof(want), "cannot create '%s': '%s' is not a folder", sub, path);
    assert_false(platform_mkdir(sub, err, sizeof(err)));
    assert_string_equal(err, want);
}

// A symlink to nothing: mkdir fails with EEXIST, a stat after it with
// ENOENT; the message comes from what is there.
static void test_dangling_symlink(void **state)
{
    (void)state;
    char path[512], target[512], want[1100], err[512] = "";
    at(path, sizeof(path), "dangling");
    assert_int_equal(symlink(at(target, sizeof(target), "nowhere"), path), 0);
    snprintf(want, sizeof(want), "cannot create '%s': it is a symbolic link to something that does not exist",
             path);
    assert_false(platform_mkdir(path, err, sizeof(err)));
    assert_string_equal(err, want);
}

// One level only: a missing parent is the OS's reason, with the path.
static void test_missing_parent(void **state)
{
    (void)state;
    char path[512], want[1100], err[512] = "";
    at(path, sizeof(path), "missing/sub");
    snprintf(want, sizeof(want), "cannot create '%s': %s", path, strerror(ENOENT));
    assert_false(platform_mkdir(path, err, sizeof(err)));
    assert_string_equal(err, want);
}

// A folder that refuses: the reason of mkdir itself. Root passes every
// permission check, so then use sysfs, where mkdir fails with EPERM and a
// stat after it with ENOENT.
static void test_refused(void **state)
{
    (void)state;
    char err[512] = "";
    struct stat st;
    if (geteuid() == 0 && !(stat("/sys/kernel", &st) == 0 && S_ISDIR(st.st_mode))) {
        skip();   // root, and no folder here refuses root
        return;
    }
    const char *path = "/sys/gradlab-test-not-created";
    if (geteuid() != 0) {
        static char ro[512];
        at(ro, sizeof(ro), "ro");
        assert_int_equal(mkdir(ro, 0555), 0);
        at(ro, sizeof(ro), "ro/sub");
        path = ro;
    }
    bool made = platform_mkdir(path, err, sizeof(err));
    if (made)
        rmdir(path);
    assert_false(made);
    print_message("# %s: %s\n", path, err);
    assert_non_null(strstr(err, path));
    assert_null(strstr(err, strerror(ENOENT)));
    if (geteuid() != 0) {
        char ro[512];
        rmdir(at(ro, sizeof(ro), "ro"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_new_and_existing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_in_the_way, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dangling_symlink, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_parent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
    };
    return cmocka_run_group_tests_name("platform", tests, NULL, NULL);
}
