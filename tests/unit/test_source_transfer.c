// test_source_transfer.c: the `transfer` source kind (lesson 12). Its
// weights are found next to the lesson file or in the assets folder beside
// the lesson's folder, and nowhere else (no absolute paths, no '..'); a
// short run publishes three accuracy curves of the right shape, conv1's
// filters before and after, and the sweep its points in order of size.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lesson_test.h"
#include "engine/npy/npy.h"
#include "lessons/source_kinds.h"
#include "models/transfer.h"

static char root[64]; // a temp folder holding lessons/ and assets/pretrained/cnn

static int setup(void **state)
{
    (void)state;
    snprintf(root, sizeof(root), "/tmp/gradlab_src_transfer_XXXXXX");
    if (!mkdtemp(root))
        return -1;
    char path[256], err[NPY_ERR_MAX];
    snprintf(path, sizeof(path), "%s/lessons", root);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/assets", root);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/assets/pretrained", root);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/assets/pretrained/cnn", root);
    mkdir(path, 0755);
    TensorBlock *b = transfer_pretrain(5, 1);
    bool ok = b && transfer_save(b, path, err, sizeof(err));
    tensor_block_destroy(b);
    return ok ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    return system(cmd) == 0 ? 0 : -1;
}

typedef SourceInst Inst;

// The source `s transfer OPTIONS` of a lesson said to live at lesson_path.
static Inst make(const char *lesson_path, const char *options, char *err, size_t n)
{
    return source_inst_make(&source_transfer_kind, lesson_path, options, err, n);
}

static void test_where_weights_come_from(void **state)
{
    (void)state;
    char lesson[256], err[600];
    snprintf(lesson, sizeof(lesson), "%s/lessons/t.lesson", root);
    // Found in the assets folder beside the lesson's folder.
    Inst ok = make(lesson, "weights \"pretrained/cnn\" steps 2 examples 8 test 10", err, sizeof(err));
    if (!ok.s)
        fail_msg("%s", err);
    source_inst_drop(&ok);
    static const char *const bad[] = {"weights \"/etc\"", "weights \"../assets/pretrained/cnn\"",
                                       "weights \"pretrained/../pretrained/cnn\""};
    for (int i = 0; i < 3; i++) {
        char opts[128];
        snprintf(opts, sizeof(opts), "%s steps 2", bad[i]);
        Inst it = make(lesson, opts, err, sizeof(err));
        assert_null(it.s);
        assert_non_null(strstr(err, "without '..' or a leading '/'"));
        lesson_destroy(it.l);
    }
    Inst missing = make(lesson, "weights \"pretrained/none\"", err, sizeof(err));
    assert_null(missing.s);
    assert_non_null(strstr(err, "no pretrained CNN"));
    assert_non_null(strstr(err, "c1w.npy"));
    lesson_destroy(missing.l);
}

static void test_curves_and_sweep(void **state)
{
    (void)state;
    char lesson[256], err[600];
    snprintf(lesson, sizeof(lesson), "%s/lessons/t.lesson", root);
    Inst c = make(lesson, "weights \"pretrained/cnn\" steps 4 every 2 examples 8 test 12 frozen 1", err, sizeof(err));
    if (!c.s)
        fail_msg("%s", err);
    while (source_transfer_kind.advance(c.s, 3) > 0)
        ;
    assert_int_equal(source_transfer_kind.steps(c.s), 4);
    const RunArray *a;
    const char *curves[] = {"scratch", "frozen", "finetune"};
    for (int m = 0; m < 3; m++) {
        const double *x = source_inst_get(&c, curves[m], &a);
        assert_int_equal(a->shape[0], 3); // steps 0, 2, 4
        assert_int_equal(a->shape[1], 2);
        for (int i = 0; i < 3; i++) {
            assert_true(x[2 * i] == 2 * i);
            assert_true(x[2 * i + 1] >= 0 && x[2 * i + 1] <= 1);
        }
    }
    source_inst_get(&c, "before", &a);
    assert_int_equal(a->shape[0], TRANSFER_MOSAIC_H);
    assert_int_equal(a->shape[1], TRANSFER_MOSAIC_W);
    // frozen 1 keeps conv1: its filters before and after are the same.
    double before[TRANSFER_MOSAIC_H * TRANSFER_MOSAIC_W];
    memcpy(before, source_inst_get(&c, "before", NULL), sizeof(before));
    assert_memory_equal(before, source_inst_get(&c, "after", NULL), sizeof(before));
    assert_true(*source_inst_get(&c, "kept", NULL) == 1);
    source_inst_get(&c, "samples", &a);
    assert_int_equal(a->shape[0], 6 * STEER_H);
    source_inst_drop(&c);

    Inst s = make(lesson, "mode sizes weights \"pretrained/cnn\" steps 1 test 10", err, sizeof(err));
    if (!s.s)
        fail_msg("%s", err);
    while (source_transfer_kind.advance(s.s, 5) > 0)
        ;
    assert_int_equal(source_transfer_kind.steps(s.s), 12);
    const double *x = source_inst_get(&s, "finetune", &a);
    assert_int_equal(a->shape[0], 4);
    for (int i = 1; i < 4; i++)
        assert_true(x[2 * i] > x[2 * (i - 1)]);
    source_inst_drop(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_where_weights_come_from),
        cmocka_unit_test(test_curves_and_sweep),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
