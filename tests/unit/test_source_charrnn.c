// test_source_charrnn.c: the text a char-RNN learns from (models/chartext.h)
// and the `charrnn` source kind (lesson 10). UTF-8 texts become one id per
// code point, "\r\n" one '\n', a byte-order mark nothing; every kind of bad
// text is refused with its line and column; sampling gives candidates
// sorted by probability and, at a low temperature, draws the likeliest; the
// source's loss starts at ln V, its first step's loss is about ln V, its
// samples use only the text's characters, and its state depends on its step
// count only, however the steps are taken.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "lesson_test.h"
#include "lessons/run.h"
#include "lessons/source_kinds.h"
#include "models/chartext.h"

// A text of a few hundred characters with two- and three-byte code points.
static const char story[] =
    "Der Müller sagte: \xe2\x80\x9e" "Dreh dich gut.\xe2\x80\x9c Und das Rad drehte sich, Tag für Tag.\r\n"
    "The miller said: \"Turn well.\" And the wheel turned, day after day.\n"
    "Le meunier a dit : \xc2\xab Tourne bien. \xc2\xbb Et la roue a tourné, jour après jour.\n"
    "The river ran, the wheel turned, the bread was baked, and the bell rang.\n";

static char text_dir[64], text_path[96], lesson_path[96]; // the story, and a lesson beside it

static int make_text(void **state)
{
    (void)state;
    snprintf(text_dir, sizeof(text_dir), "/tmp/gradlab-charrnn-XXXXXX");
    if (!mkdtemp(text_dir))
        return -1;
    snprintf(text_path, sizeof(text_path), "%s/story.txt", text_dir);
    snprintf(lesson_path, sizeof(lesson_path), "%s/t.lesson", text_dir);
    int fd = open(text_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return -1;
    bool ok = write(fd, story, sizeof(story) - 1) == (ssize_t)(sizeof(story) - 1);
    close(fd);
    return ok ? 0 : -1;
}

static int remove_text(void **state)
{
    (void)state;
    unlink(text_path);
    rmdir(text_dir);
    return 0;
}

static void test_parse_utf8(void **state)
{
    (void)state;
    const char s[] = "\xef\xbb\xbf" "ab\r\ncd \xc3\xa9\xe2\x80\x94\xf0\x9f\x99\x82 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    CharText t;
    char err[300];
    assert_true(chartext_parse(s, sizeof(s) - 1, "s.txt", &t, err, sizeof(err)));
    // "ab\ncd é—🙂 " then the a's: the BOM is dropped, "\r\n" is one '\n'.
    assert_int_equal(t.len, 10 + 107);
    // Distinct: \n space a b c d é — 🙂, in code point order.
    const uint32_t want[] = {'\n', ' ', 'a', 'b', 'c', 'd', 0xE9, 0x2014, 0x1F642};
    assert_int_equal(t.V, 9);
    for (int i = 0; i < 9; i++)
        assert_int_equal(t.cps[i], want[i]);
    assert_int_equal(t.cps[t.ids[2]], '\n');
    assert_int_equal(t.cps[t.ids[6]], 0xE9);
    assert_int_equal(t.cps[t.ids[8]], 0x1F642);
    char buf[8];
    assert_int_equal(chartext_utf8(0x1F642, buf), 4);
    assert_string_equal(buf, "\xf0\x9f\x99\x82");
    assert_int_equal(chartext_utf8(0x2014, buf), 3);
    assert_string_equal(buf, "\xe2\x80\x94");
    chartext_free(&t);
    chartext_free(NULL);
}

// parse s and expect it refused with a message holding want.
static void refused(const char *s, size_t n, const char *want)
{
    CharText t;
    char err[300] = "";
    if (chartext_parse(s, n, "x.txt", &t, err, sizeof(err)))
        fail_msg("accepted; wanted '%s'", want);
    if (!strstr(err, want))
        fail_msg("'%s' does not hold '%s'", err, want);
    assert_null(t.ids);
}

static void test_parse_refused(void **state)
{
    (void)state;
    char big[200];
    memset(big, 'x', sizeof(big));
    refused("", 0, "x.txt: error: the text is empty");
    refused("hello", 5, "too small: 5 characters; give at least 100");
    refused(big, sizeof(big), "only one distinct character");
    memcpy(big, "ok\nz\xff", 5);
    refused(big, sizeof(big), "x.txt:2:2: error: the text is not UTF-8 (byte 0xff)");
    memcpy(big, "ab\xc0\x80", 4); // an overlong NUL
    refused(big, sizeof(big), "x.txt:1:3: error: the text is not UTF-8 (byte 0xc0)");
    memcpy(big, "\xed\xa0\x80", 3); // a surrogate
    refused(big, sizeof(big), "x.txt:1:1: error: the text is not UTF-8");
    memcpy(big, "\xf4\x90\x80\x80", 4); // past U+10FFFF
    refused(big, sizeof(big), "x.txt:1:1: error: the text is not UTF-8");
    memcpy(big, "ab\0", 3);
    refused(big, sizeof(big), "x.txt:1:3: error: the text holds a NUL byte");
    memset(big, 'x', sizeof(big));
    big[sizeof(big) - 1] = '\xe2'; // cut in the middle of a code point
    refused(big, sizeof(big), "x.txt:1:200: error: the text is not UTF-8 (byte 0xe2)");
    char *many = malloc(300 * 2);
    for (int i = 0; i < 300; i++) {
        many[2 * i] = (char)(0xC0 | ((0x100 + i) >> 6));
        many[2 * i + 1] = (char)(0x80 | ((0x100 + i) & 0x3F));
    }
    refused(many, 600, "x.txt:1:257: error: the text has more than 256 distinct characters");
    free(many);
    refused(big, CHARTEXT_MAX_BYTES + 1, "more than 4194304, the limit");
    CharText t;
    char err[300];
    assert_false(chartext_load("/nonexistent/x.txt", &t, err, sizeof(err)));
    assert_non_null(strstr(err, "No such file"));
}

static void test_sample(void **state)
{
    (void)state;
    CharText t;
    char err[300];
    assert_true(chartext_load(text_path, &t, err, sizeof(err)));
    CharRnn *m = charrnn_create(t.ids, t.len, 32, 25, 0.1f, 5.0f, 3);
    assert_non_null(m);
    for (int i = 0; i < 300; i++)
        charrnn_step(m);
    enum { N = 100, K = 5 };
    int out[N], top[N * K], out2[N], top2[N * K];
    float prob[N * K], chosen[N], prob2[N * K];
    Pcg a, b;
    pcg_seed(&a, 9);
    pcg_seed(&b, 9);
    assert_true(charrnn_sample(m, NULL, t.ids[0], N, 1.0, &a, out, K, top, prob, chosen));
    assert_true(charrnn_sample(m, NULL, t.ids[0], N, 1.0, &b, out2, K, top2, prob2, NULL));
    assert_memory_equal(out, out2, sizeof(out)); // the same stream, the same sample
    for (int i = 0; i < N; i++) {
        double sum = 0;
        for (int j = 0; j < K; j++) {
            sum += prob[i * K + j];
            if (j)
                assert_true(prob[i * K + j] <= prob[i * K + j - 1]);
            if (top[i * K + j] == out[i])
                assert_float_equal(prob[i * K + j], chosen[i], 1e-7);
        }
        assert_true(sum <= 1 + 1e-5);
        assert_true(out[i] >= 0 && out[i] < t.V);
    }
    // Near temperature 0, sampling is taking the likeliest.
    int same = 0;
    assert_true(charrnn_sample(m, NULL, t.ids[0], N, 0.05, &a, out, K, top, prob, chosen));
    for (int i = 0; i < N; i++)
        same += out[i] == top[i * K];
    assert_true(same >= 95);
    charrnn_destroy(m);
    chartext_free(&t);
}

// A lesson said to live beside the story (a source's text is found from the lesson's folder).
// The lesson with one charrnn source over the text file (relative to the
// lesson's folder), plus opts.
static Lesson *lesson_on(const char *file, const char *opts)
{
    char text[1024];
    snprintf(text, sizeof(text),
             "gradlab-lesson: 2\ntitle: T\nsource: c charrnn text \"%s\" %s\nprogram:\n    a = 1\n    f = a * 2\n\nstep: intro\n",
             file, opts);
    return lesson_test_parse_named(text, lesson_path);
}

// The lesson with one charrnn source over the test's story, plus opts.
static Lesson *lesson(const char *opts)
{
    return lesson_on("story.txt", opts);
}

static const double *array(const Run *r, const char *name, int *n)
{
    const double *data = NULL;
    if (!run_lookup(r, name, &data, n))
        fail_msg("no array '%s' (status: %s)", name, run_source_status(r, 0) ? run_source_status(r, 0) : "-");
    return data;
}

// The source with opts: its state after 60 steps taken at once or ten at
// a time, its loss's start, its samples.
static void check_source(const char *opts)
{
    Lesson *l = lesson(opts);
    char err[200];
    Run *one = run_create(l, false, err, sizeof(err)), *many = run_create(l, false, err, sizeof(err));
    assert_non_null(one);
    assert_non_null(many);
    run_extend(one, 0, 60);
    run_settle(one);
    for (int k = 0; k < 6; k++) { // the same 60 steps, ten at a time
        run_extend(many, 0, 10);
        run_settle(many);
    }
    const char *names[] = {"c.loss", "c.sample", "c.top", "c.top_p", "c.chosen", "c.samples", "c.first"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        int n1, n2;
        const double *a = array(one, names[i], &n1), *b = array(many, names[i], &n2);
        assert_int_equal(n1, n2);
        assert_memory_equal(a, b, (size_t)n1 * sizeof(double));
    }
    int n;
    const double *V = array(one, "c.V", &n), *loss = array(one, "c.loss", &n);
    assert_int_equal(n, 60 / 5 + 1);
    assert_true(loss[0] == log(*V)); // where min-char-rnn starts
    assert_true(*array(one, "c.first_gap", &n) < 0.01);
    assert_true(*array(one, "c.steps", &n) == 60);
    assert_true(*array(one, "c.sample_step", &n) == 60);
    assert_int_equal((int)*array(one, "c.sample_steps", &n), 0);
    assert_int_equal(n, 4); // steps 0, 20, 40, 60
    // Every sampled character is one of the text's.
    CharText t;
    assert_true(chartext_load(text_path, &t, err, sizeof(err)));
    const double *s = array(one, "c.sample", &n);
    assert_int_equal(n, 60);
    for (int i = 0; i < n; i++) {
        bool found = false;
        for (int v = 0; v < t.V && !found; v++)
            found = s[i] == t.cps[v];
        assert_true(found);
    }
    chartext_free(&t);
    run_destroy(one);
    run_destroy(many);
    lesson_destroy(l);
}

static void test_source(void **state)
{
    (void)state;
    check_source("hidden 16 limit 100 every 20 record 5 sample 60");
}

static void test_source_lstm(void **state)
{
    (void)state;
    check_source("hidden 16 limit 100 every 20 record 5 sample 60 model lstm");
}

// A new temperature samples the same weights again instead of training
// again, and gives exactly what a source made with it has after as many
// steps; any other change starts again.
static void test_source_retune(void **state)
{
    char text[1024];
    snprintf(text, sizeof(text),
             "gradlab-lesson: 2\ntitle: T\nparam: temp = 1 range 0.1 5 log\nparam: h = 16 range 8 32 step 8\n"
             "source: c charrnn text \"story.txt\" hidden {h} limit 100 every 20 record 5 sample 60 "
             "temperature {temp} model %s\nprogram:\n    a = 1\n    f = a * 2\n\nstep: intro\n",
             (const char *)*state);
    Lesson *l = lesson_test_parse_named(text, lesson_path);
    char err[200];
    Run *warm = run_create(l, false, err, sizeof(err)), *cold = run_create(l, false, err, sizeof(err));
    assert_non_null(warm);
    assert_non_null(cold);
    int temp = run_param_find(warm, "temp");
    run_extend(warm, 0, 60);
    run_settle(warm);
    int n;
    run_set_param(warm, temp, 0.3);
    run_settle(warm);
    assert_int_equal(run_source_made(warm, 0), 1);   // not made again
    assert_int_equal(run_source_steps(warm, 0), 60);
    run_set_param(cold, temp, 0.3);
    run_extend(cold, 0, 60);
    run_settle(cold);
    const char *names[] = {"c.loss", "c.sample", "c.top", "c.top_p", "c.chosen", "c.samples",
                           "c.sample_steps", "c.temperature"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        int n1, n2;
        const double *a = array(warm, names[i], &n1), *b = array(cold, names[i], &n2);
        assert_int_equal(n1, n2);
        assert_memory_equal(a, b, (size_t)n1 * sizeof(double));
    }
    assert_true(*array(warm, "c.temperature", &n) == 0.3);
    // The samples did change: at 0.3 the model picks its favourites.
    run_set_param(cold, temp, 1);
    run_settle(cold);
    int n1, n2;
    const double *a = array(warm, "c.sample", &n1), *b = array(cold, "c.sample", &n2);
    assert_true(n1 == n2 && memcmp(a, b, (size_t)n1 * sizeof(double)) != 0);
    // A change training reads starts again.
    run_set_param(warm, run_param_find(warm, "h"), 24);
    run_settle(warm);
    assert_int_equal(run_source_made(warm, 0), 2);
    assert_int_equal(run_source_steps(warm, 0), 60);   // trained again to its target
    run_destroy(warm);
    run_destroy(cold);
    lesson_destroy(l);
}

// The weights kept for retuning have one budget for all instances (64 MB):
// two sources that would each keep 37 MB do not both get them. The first
// retunes on a new temperature; the second starts again, as a source too
// big to keep them would. Let go, the budget serves the next run.
static void test_retune_budget(void **state)
{
    (void)state;
    const char *big = "hidden 256 model lstm limit 30 every 1 sample 5 temperature {temp}";
    char text[1024];
    snprintf(text, sizeof(text),
             "gradlab-lesson: 2\ntitle: T\nparam: temp = 1 range 0.1 5 log\n"
             "source: a charrnn text \"story.txt\" %s\nsource: b charrnn text \"story.txt\" seed 2 %s\n"
             "program:\n    a = 1\n    f = a * 2\n\nstep: intro\n",
             big, big);
    Lesson *l = lesson_test_parse_named(text, lesson_path);
    char err[200];
    for (int round = 0; round < 2; round++) {
        Run *r = run_create(l, false, err, sizeof(err));
        assert_non_null(r);
        run_goto(r, 0);
        run_settle(r);
        run_set_param(r, run_param_find(r, "temp"), 0.5);
        run_settle(r);
        assert_int_equal(run_source_made(r, 0), 1);   // retuned
        assert_int_equal(run_source_made(r, 1), 2);   // made again: no room for its weights
        int n;
        assert_true(*array(r, "a.temperature", &n) == 0.5);
        assert_true(*array(r, "b.temperature", &n) == 0.5);
        run_destroy(r);
    }
    lesson_destroy(l);
}

// A source over file that cannot start says why.
static void why_not_on(const char *file, const char *opts, const char *want)
{
    Lesson *l = lesson_on(file, opts);
    char err[200];
    Run *r = run_create(l, false, err, sizeof(err));
    assert_non_null(r);
    run_extend(r, 0, 1);
    run_settle(r);
    const char *why = run_source_status(r, 0);
    if (!why || !strstr(why, want))
        fail_msg("'%s' does not hold '%s'", why ? why : "(none)", want);
    run_destroy(r);
    lesson_destroy(l);
}

static void why_not(const char *opts, const char *want)
{
    why_not_on("story.txt", opts, want);
}

static void test_source_refused(void **state)
{
    (void)state;
    // A lesson reads texts from its own folder or the assets folder, no other.
    why_not_on("/etc/hostname", "hidden 16", "without '..' or a leading '/'");
    why_not_on("../../etc/hostname", "hidden 16", "without '..' or a leading '/'");
    why_not_on("nope.txt", "hidden 16", "nope.txt");
    why_not("hidden 16 model gru", "give rnn or lstm");
    why_not("limit 200000 hidden 256 every 1000", "2^36");
    why_not("hidden 16 temperature 0", "temperature");
    why_not("hidden 16 limit 200000 every 1 sample 2000", "raise 'every'");
    why_not("hidden 2.5", "whole numbers");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_utf8),
        cmocka_unit_test(test_parse_refused),
        cmocka_unit_test(test_sample),
        cmocka_unit_test(test_source),
        cmocka_unit_test(test_source_lstm),
        cmocka_unit_test_prestate(test_source_retune, (void *)"rnn"),
        cmocka_unit_test_prestate(test_source_retune, (void *)"lstm"),
        cmocka_unit_test(test_retune_budget),
        cmocka_unit_test(test_source_refused),
    };
    return cmocka_run_group_tests(tests, make_text, remove_text);
}
