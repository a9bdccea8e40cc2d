// test_transfer.c: transfer learning (models/transfer.h). Frozen layers keep
// their pretrained weights exactly while the others and the head move; the
// frozen method never changes the CNN; scratch does not start from the
// pretrained weights; a seed gives the same run twice; the new task's three
// classes each take about a third of the frames; save then load gives back
// every weight; load refuses a file of the wrong shape, a missing file and a
// non-finite weight, naming the file.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/npy/npy.h"
#include "models/transfer.h"

// A "pretrained" CNN: random weights are enough for what is tested here.
static TensorBlock *fake_pretrained(void)
{
    TensorBlock *b = transfer_pretrain(3, 1); // one step: real shapes, quick
    assert_non_null(b);
    return b;
}

static TransferConfig small(void)
{
    TransferConfig c = transfer_defaults();
    c.examples = 12;
    c.batch = 4;
    c.steps = 3;
    c.test_size = 30;
    return c;
}

static bool same(const float *a, const float *b, size_t n)
{
    return memcmp(a, b, n * sizeof(float)) == 0;
}

static void test_frozen_layers_do_not_move(void **state)
{
    (void)state;
    TensorBlock *pre = fake_pretrained();
    for (int frozen = 0; frozen <= TRANSFER_LAYERS; frozen++) {
        TransferConfig c = small();
        c.frozen = frozen;
        TransferRun *r = transfer_create(&c, TRANSFER_FINETUNE, pre);
        assert_non_null(r);
        float head0[STEER_FEAT * TRANSFER_CLASSES];
        memcpy(head0, r->head_w->data, sizeof(head0));
        for (int s = 0; s < c.steps; s++)
            assert_true(isfinite(transfer_step(r)));
        for (int k = 0; k < 6; k++) { // c1w c1b c2w c2b fcw fcb: layer k / 2
            bool kept = same(r->cnn->t[k]->data, pre->t[k]->data, pre->t[k]->size);
            if (k / 2 < frozen)
                assert_true(kept);
            else if (k % 2 == 0) // a trained weight moves (biases may stay by chance: relu)
                assert_false(kept);
        }
        assert_false(same(head0, r->head_w->data, STEER_FEAT * TRANSFER_CLASSES));
        transfer_destroy(r);
    }
    // The frozen method keeps all three, whatever c.frozen says.
    TransferConfig c = small();
    TransferRun *r = transfer_create(&c, TRANSFER_FROZEN, pre);
    for (int s = 0; s < c.steps; s++)
        transfer_step(r);
    assert_true(same(r->cnn->data, pre->data, pre->size));
    transfer_destroy(r);
    tensor_block_destroy(pre);
}

static void test_scratch_and_seeds(void **state)
{
    (void)state;
    TensorBlock *pre = fake_pretrained();
    TransferConfig c = small();
    TransferRun *a = transfer_create(&c, TRANSFER_SCRATCH, pre), *b = transfer_create(&c, TRANSFER_SCRATCH, NULL);
    assert_non_null(a);
    assert_non_null(b);
    assert_false(same(a->cnn->t[0]->data, pre->t[0]->data, pre->t[0]->size));
    assert_true(same(a->cnn->data, b->cnn->data, a->cnn->size)); // scratch ignores the pretrained block
    for (int s = 0; s < c.steps; s++)
        assert_true(transfer_step(a) == transfer_step(b));
    assert_true(transfer_accuracy(a) == transfer_accuracy(b));
    transfer_destroy(a);
    transfer_destroy(b);
    // A pretrained method needs weights.
    assert_null(transfer_create(&c, TRANSFER_FINETUNE, NULL));
    tensor_block_destroy(pre);
}

static void test_classes_are_thirds(void **state)
{
    (void)state;
    enum { N = 600 };
    float *frames = malloc((size_t)N * STEER_PIX * sizeof(float));
    int labels[N], count[TRANSFER_CLASSES] = {0};
    assert_non_null(frames);
    Pcg rng;
    pcg_seed(&rng, 11);
    transfer_data(&rng, N, true, frames, labels);
    for (int i = 0; i < N; i++) {
        assert_in_range(labels[i], 0, TRANSFER_CLASSES - 1);
        count[labels[i]]++;
    }
    for (int k = 0; k < TRANSFER_CLASSES; k++)
        assert_in_range(count[k], N / 3 - 60, N / 3 + 60);
    for (size_t i = 0; i < (size_t)N * STEER_PIX; i++)
        assert_true(frames[i] >= 0 && frames[i] <= 1);
    free(frames);
}

static void test_save_load(void **state)
{
    (void)state;
    char dir[] = "/tmp/gradlab_transfer_XXXXXX", err[NPY_ERR_MAX];
    assert_non_null(mkdtemp(dir));
    TensorBlock *pre = fake_pretrained();
    assert_true(transfer_save(pre, dir, err, sizeof(err)));
    TensorBlock *back = transfer_load(dir, err, sizeof(err));
    assert_non_null(back);
    for (int k = 0; k < 6; k++)
        assert_true(same(back->t[k]->data, pre->t[k]->data, pre->t[k]->size));
    tensor_block_destroy(back);

    // A wrong shape, a NaN and a missing file are refused, naming the file.
    char path[256];
    snprintf(path, sizeof(path), "%s/c2b.npy", dir);
    float two[2] = {1, 2};
    assert_true(npy_save(path, two, 1, (int64_t[]){2}, err, sizeof(err)));
    assert_null(transfer_load(dir, err, sizeof(err)));
    assert_non_null(strstr(err, "c2b.npy: error: the shape must be (16)"));
    float c2b[16] = {0};
    c2b[5] = NAN;
    assert_true(npy_save(path, c2b, 1, (int64_t[]){16}, err, sizeof(err)));
    assert_null(transfer_load(dir, err, sizeof(err)));
    assert_non_null(strstr(err, "element 5 is not a finite number"));
    unlink(path);
    assert_null(transfer_load(dir, err, sizeof(err)));
    assert_non_null(strstr(err, "c2b.npy"));
    const char *names[] = {"c1w", "c1b", "c2w", "fcw", "fcb"};
    for (int k = 0; k < 5; k++) {
        snprintf(path, sizeof(path), "%s/%s.npy", dir, names[k]);
        unlink(path);
    }
    rmdir(dir);
    tensor_block_destroy(pre);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frozen_layers_do_not_move),
        cmocka_unit_test(test_scratch_and_seeds),
        cmocka_unit_test(test_classes_are_thirds),
        cmocka_unit_test(test_save_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
