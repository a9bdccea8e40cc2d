// test_source_steering.c: the `steering` source kind (lesson 11) on a
// small thread stack. The window makes, advances and publishes sources on
// its worker thread, whose stack is the C library's default: 8 MB with
// glibc, but 128 KB with musl. The source is run here on a thread with a
// stack of its own, painted beforehand, and the part that was written is
// measured: it must stay well under 128 KB.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/tensor/gemm.h"
#include "lessons/source_kinds.h"

#define STACK_BYTES ((size_t)1 << 20) // room enough never to crash, so the figure is always measured
#define STACK_LIMIT ((size_t)96 << 10) // under musl's 128 KB, with room for the run's own frames
#define PAINT 0xA5

typedef struct Job {
    Lesson *l;
    char err[256];
    int taken;
    int narrays;
} Job;

// What the worker thread does with a source: make it, advance it, publish it.
static void *job_main(void *arg)
{
    Job *j = arg;
    SourceParams p = {j->l, NULL};
    void *s = source_steering_kind.create(&p, &j->l->f2.sources[0], j->err, sizeof(j->err));
    if (!s)
        return NULL;
    j->taken = source_steering_kind.advance(s, 3);
    RunArrays out = {0};
    source_steering_kind.publish(s, "s.", &out);
    j->narrays = out.n;
    run_arrays_free(&out);
    source_steering_kind.destroy(s);
    gemm_free_buffers(); // this thread's packing buffers, as the run's worker frees them
    return NULL;
}

static Lesson *parse(const char *options)
{
    char text[512];
    snprintf(text, sizeof(text),
             "gradlab-lesson: 2\ntitle: T\nsource: s steering %s\nprogram:\n    a = 1\n    f = a\n\nstep: intro\n",
             options);
    Diag d;
    diag_init(&d, "<test>", text, strlen(text));
    Lesson *l = lesson_parse(text, strlen(text), "<test>", &d);
    if (!l)
        fail_msg("the lesson does not parse:\n%s", diag_text(&d));
    diag_free(&d);
    return l;
}

// Make, advance (into the LSTM phase) and publish on a painted stack; the
// bytes written from its top down are the stack the source needs.
static void test_small_stack(void **state)
{
    (void)state;
    Job j = {.l = parse("cnn 2 lstm 2 seed 3")};
    unsigned char *stack = aligned_alloc(4096, STACK_BYTES);
    assert_non_null(stack);
    memset(stack, PAINT, STACK_BYTES);
    pthread_attr_t attr;
    pthread_t t;
    assert_int_equal(pthread_attr_init(&attr), 0);
    assert_int_equal(pthread_attr_setstack(&attr, stack, STACK_BYTES), 0);
    assert_int_equal(pthread_create(&t, &attr, job_main, &j), 0);
    pthread_join(t, NULL);
    pthread_attr_destroy(&attr);
    size_t untouched = 0; // the stack grows down: from the bottom, what is still paint
    while (untouched < STACK_BYTES && stack[untouched] == PAINT)
        untouched++;
    size_t used = STACK_BYTES - untouched;
    free(stack);
    print_message("# steering source: %zu KB of stack (make, 3 steps, publish)\n", used >> 10);
    assert_string_equal(j.err, "");
    assert_int_equal(j.taken, 3);
    assert_true(j.narrays > 10);
    assert_true(used < STACK_LIMIT);
    lesson_destroy(j.l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_stack),
    };
    return cmocka_run_group_tests_name("source_steering", tests, NULL, NULL);
}
