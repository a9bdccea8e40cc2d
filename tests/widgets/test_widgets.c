// test_widgets.c: scene tests for the plot and heatmap widgets and the
// palettes (tick labels, decade ticks, legend, NaN/Inf markers, palette
// endpoints, colour-bar labels), plus a render of both widgets to PNG for
// looking at (written to $GRADLAB_WIDGET_PNG_DIR when set).
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <SDL_image.h>

#include "sdl/sdl_scene.h"
#include "views/lesson_view.h"
#include "views/menu_view.h"
#include "views/widgets/controls.h"
#include "views/widgets/heatmap.h"
#include "views/widgets/palette.h"
#include "views/widgets/plot.h"

static int count_id(const Scene *s, const char *id)
{
    int n = 0;
    for (size_t i = 0; i < s->n; i++)
        n += s->items[i].id && strcmp(s->items[i].id, id) == 0;
    return n;
}

static void test_ticks(void **state)
{
    (void)state;
    double t[16];
    int n = plot_ticks(0, 1, 5, t, 16);
    assert_int_equal(n, 6);
    assert_true(fabs(t[1] - 0.2) < 1e-12 && fabs(t[5] - 1.0) < 1e-12);
    n = plot_ticks(-3.7, 12.2, 5, t, 16);
    assert_true(n >= 4 && n <= 9);
    assert_true(t[0] >= -3.7 && t[n - 1] <= 12.2);
    assert_int_equal(plot_ticks(1, 1, 5, t, 16), 0);
    assert_int_equal(plot_ticks(NAN, 1, 5, t, 16), 0);
}

static void test_log_plot_with_nan(void **state)
{
    (void)state;
    Scene *s = scene_create();
    scene_begin(s, 800, 400, theme_get(THEME_DARK)->background);
    double y1[6] = {1, 1e-1, 1e-2, NAN, 1e-4, INFINITY};
    double y2[6] = {1, 2, 4, 8, 16, 32};
    PlotSeries ser[2] = {{"vanishing", NULL, y1, 6}, {"exploding", NULL, y2, 6}};
    PlotParams p = {.x = 0, .y = 0, .w = 800, .h = 400, .unit = 1, .theme = theme_get(THEME_DARK),
                    .title = "gradient norm", .xlabel = "t", .ylabel = "|dL/dh|", .log_y = true,
                    .series = ser, .nseries = 2, .id = "p"};
    plot_build(s, &p);
    assert_false(s->failed);
    // Decades from 1e-4 to 1e2 (32 rounds up to the next decade).
    assert_non_null(scene_find_text(s, "p:ytick", "1e-4"));
    assert_non_null(scene_find_text(s, "p:ytick", "1e2"));
    assert_null(scene_find_text(s, "p:ytick", "1e-5"));
    // NaN and +Inf are markers, not breaks in the plot.
    assert_int_equal(count_id(s, "p:nan"), 2);
    assert_non_null(scene_find_text(s, "p:legend", "vanishing"));
    assert_non_null(scene_find_text(s, "p:legend", "exploding"));
    // Hover read-out.
    p.hover = true;
    p.mouse_x = 787;
    scene_begin(s, 800, 400, theme_get(THEME_DARK)->background);
    plot_build(s, &p);
    assert_non_null(scene_find_text(s, "p:readout", "exploding  x=5  y=32"));
    scene_destroy(s);
}

static void test_csv(void **state)
{
    (void)state;
    double x[3] = {0, 0.5, 1}, y[3] = {1, NAN, -INFINITY};
    PlotSeries ser[2] = {{"loss, train", x, y, 3}, {"b", NULL, y, 1}};
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_true(plot_write_csv(f, ser, 2));
    fclose(f);
    assert_string_equal(buf, "series,x,y\n\"loss, train\",0,1\n\"loss, train\",0.5,nan\n"
                             "\"loss, train\",1,-inf\nb,0,1\n");
    free(buf);
}

static void test_palettes(void **state)
{
    (void)state;
    Color a = palette_viridis(0), b = palette_viridis(1), c = palette_viridis(-5);
    assert_int_equal(a.r, 0x44);
    assert_int_equal(b.r, 0xfd);
    assert_memory_equal(&a, &c, sizeof(Color));
    Color mid = palette_diverging(0), lo = palette_diverging(-1), hi = palette_diverging(1);
    assert_true(mid.r > 240 && mid.g > 240 && mid.b > 240);
    assert_true(lo.b > lo.r);
    assert_true(hi.r > hi.b);
    // Viridis gets lighter monotonically (perceptual ordering).
    float prev = -1;
    for (int i = 0; i <= 20; i++) {
        Color k = palette_viridis((float)i / 20);
        float lum = 0.2126f * k.r + 0.7152f * k.g + 0.0722f * k.b;
        assert_true(lum >= prev);
        prev = lum;
    }
}

static void test_heatmap(void **state)
{
    (void)state;
    Scene *s = scene_create();
    scene_begin(s, 600, 300, theme_get(THEME_DARK)->background);
    float data[2 * 3] = {-2, 0, 1, NAN, 0.5f, -INFINITY};
    HeatmapParams p = {.x = 0, .y = 0, .w = 600, .h = 300, .unit = 1, .theme = theme_get(THEME_DARK),
                       .data = data, .rows = 2, .cols = 3, .diverging = true, .id = "h"};
    heatmap_build(s, &p);
    assert_int_equal(count_id(s, "h:nan"), 2);
    assert_non_null(scene_find_text(s, "h:bar-max", "2"));   // symmetric around 0
    assert_non_null(scene_find_text(s, "h:bar-min", "-2"));
    const SceneItem *cell = scene_find(s, "h:cell");
    assert_non_null(cell);
    assert_int_equal(cell->kind, SCENE_IMAGE);
    assert_int_equal(cell->pw, 3);
    assert_int_equal(cell->ph, 2);
    Color want = palette_diverging(-1), warn = theme_get(THEME_DARK)->warn;
    assert_memory_equal(&cell->pixels[0], &want, sizeof(Color));   // -2 is the low end
    assert_memory_equal(&cell->pixels[3], &warn, sizeof(Color));   // NaN
    p.diverging = false;
    scene_begin(s, 600, 300, theme_get(THEME_DARK)->background);
    heatmap_build(s, &p);
    assert_non_null(scene_find_text(s, "h:bar-min", "-2"));
    assert_non_null(scene_find_text(s, "h:bar-max", "1"));
    scene_destroy(s);
}

static void test_menu_and_notes(void **state)
{
    (void)state;
    Scene *s = scene_create();
    MenuEntry e[5] = {{"Backprop through a circuit", "01-circuit", 6}, {"Gates", "02-gates", 9},
                      {"Broken", "03-broken", 0}, {"D", "d", 1}, {"E", "e", 2}};
    MenuParams mp = {.entries = e, .n = 5, .selected = 1, .current = 0, .theme = theme_get(THEME_DARK),
                     .scale = 1};
    menu_view_build(s, &mp, 1280, 720);
    size_t cols = menu_view_columns(1280, 720, 1);
    assert_int_equal(cols, 3);
    const SceneItem *c0 = scene_find(s, "card:0"), *c1 = scene_find(s, "card:1"), *c3 = scene_find(s, "card:3");
    assert_non_null(c0);
    assert_true(c1->x > c0->x && fabsf(c1->y - c0->y) < 3);     // same row (borders differ)
    assert_true(c3->y > c0->y && fabsf(c3->x - c0->x) < 3);     // next row, first column
    assert_ptr_equal(scene_hit(s, c1->x + 5, c1->y + 5, "card:"), c1);
    bool broken_said = false;
    for (size_t i = 0; i < s->n; i++)
        if (s->items[i].kind == SCENE_TEXT && strstr(s->items[i].text, "does not load"))
            broken_said = true;
    assert_true(broken_said);
    for (size_t i = 0; i < s->n; i++) // every card inside the frame
        if (s->items[i].kind == SCENE_RECT)
            assert_true(s->items[i].x >= 0 && s->items[i].x + s->items[i].w <= 1280);

    float box[4];
    NotesParams np = {.lesson_title = "Backprop", .step = 2, .nsteps = 6, .notes = "Ask the room.",
                      .next_text = "next", .elapsed_s = 125.4, .theme = theme_get(THEME_DARK), .scale = 1};
    notes_view_build(s, &np, 960, 600, box);
    assert_non_null(scene_find_text(s, "clock", "02:05"));
    assert_non_null(scene_find_text(s, "notes-step", "Step 3 of 6"));
    assert_non_null(scene_find_text(s, "notes", "Ask the room."));
    assert_true(box[2] > 100 && box[3] > 50 && box[0] + box[2] <= 960);
    np.notes = "";
    np.next_text = NULL;
    notes_view_build(s, &np, 960, 600, box);
    assert_non_null(scene_find_text(s, "notes", "No notes for this step."));
    scene_destroy(s);
}

static void test_controls(void **state)
{
    (void)state;
    Scene *s = scene_create();
    const Theme *t = theme_get(THEME_DARK);
    scene_begin(s, 800, 600, t->background);
    double v[4] = {0.5, -0.25, NAN, 1};
    const char *labels[4] = {"i", "f", "g", "o"};
    BarChartParams bp = {.x = 10, .y = 10, .w = 400, .h = 200, .unit = 1, .theme = t, .values = v,
                         .labels = labels, .n = 4, .id = "gates"};
    barchart_build(s, &bp);
    const SceneItem *b0 = scene_find(s, "gates:bar:0"), *b1 = scene_find(s, "gates:bar:1"),
                    *b3 = scene_find(s, "gates:bar:3");
    assert_non_null(b0);
    assert_true(b3->h > b0->h);                     // 1 is taller than 0.5
    assert_true(b1->y >= b0->y + b0->h - 1);        // negative bar hangs below zero
    assert_null(scene_find(s, "gates:bar:2"));      // NaN: no bar...
    assert_non_null(scene_find(s, "gates:nan"));    // ...a marker
    assert_non_null(scene_find_text(s, "gates:value:2", "NaN"));
    assert_non_null(scene_find_text(s, "gates:label:3", "o"));
    // Narrow bars: a value under a negative bar is in a row of its own, so
    // the positive value beside it does not crowd it out (lesson 6's -1.48).
    const double narrow[2] = {0.227, -1.48};
    BarChartParams np = {.x = 10, .y = 300, .w = 40, .h = 150, .unit = 1, .theme = t, .values = narrow,
                         .n = 2, .id = "narrow"};
    barchart_build(s, &np);
    assert_non_null(scene_find_text(s, "narrow:value:0", "0.227"));
    assert_non_null(scene_find_text(s, "narrow:value:1", "-1.48"));

    SliderParams sp = {.x = 100, .y = 300, .w = 200, .unit = 1, .theme = t, .label = "learning rate",
                       .value = 0.01, .lo = 1e-4, .hi = 1, .log_scale = true, .id = "lr"};
    slider_build(s, &sp);
    const SceneItem *knob = scene_find(s, "lr:knob");
    assert_true(fabsf(knob->x - 200) < 0.01f);      // 1e-2 is halfway between 1e-4 and 1 on a log scale
    assert_true(fabs(slider_value_at(&sp, 200) - 0.01) < 1e-12);
    assert_true(slider_value_at(&sp, -50) == 1e-4 && slider_value_at(&sp, 999) == 1);
    assert_non_null(scene_hit(s, 120, 330, "lr"));

    toggle_build(s, 100, 400, 1, t, "momentum", true, "mom");
    button_build(s, 300, 400, 1, t, "Reset", false, "reset");
    scrub_build(s, 100, 460, 1, t, "x", -2, false, "scrub:x");
    assert_non_null(scene_find_text(s, "scrub:x", "-2"));
    const SceneItem *tg = scene_find(s, "mom"), *bt = scene_find(s, "reset");
    assert_ptr_equal(scene_hit(s, tg->x + 5, tg->y + 5, "mom"), tg);
    assert_ptr_equal(scene_hit(s, bt->x + 5, bt->y + 5, "reset"), bt);
    assert_true(scrub_value(-2, 40, 1, 0.1, false) == -1.0);   // 40 px = 10 steps of 0.1
    assert_true(fabs(scrub_value(-2, 40, 1, 0.1, true) - -1.9) < 1e-12);

    tooltip_build(s, 790, 590, 1, t, "**h3** = tanh(a3)");
    const SceneItem *tip = scene_find(s, "tooltip");
    assert_true(tip->x >= 0 && tip->x + tip->w <= 800 && tip->y + tip->h <= 600); // kept inside
    assert_non_null(scene_find_text(s, "tooltip", "h3"));
    scene_destroy(s);
}

// A lesson with `view: graph` draws the graph widget, fitted, with hover.
static void test_lesson_graph_view(void **state)
{
    (void)state;
    const char *text = "gradlab-lesson: 1\ntitle: G\nview: graph\nprogram:\n    x = 2\n    w = -3\n"
                       "    o = tanh(x * w)\nstep: done\n";
    Diag d;
    diag_init(&d, "g.lesson", text, strlen(text));
    Lesson *l = lesson_parse(text, strlen(text), "g.lesson", &d);
    assert_non_null(l);
    diag_free(&d);
    Scene *s = scene_create();
    Graph *g = graph_create(0);
    LessonGraphState gs = {.layout = graph_layout_create()};
    LessonViewParams vp = {.lesson = l, .step = 0, .theme = theme_get(THEME_DARK), .scale = 1, .graph = &gs};
    lesson_view_build(s, g, &vp, 1280, 720);
    assert_true(gs.view.scale > 0); // fitted on first build
    char id[32];
    snprintf(id, sizeof(id), "graph:node:%u", program_lookup(l->program, g, "o")->index);
    const SceneItem *box = scene_find(s, id);
    assert_non_null(box);
    assert_null(scene_find(s, "graph:tooltip-box"));
    gs.hover = true;
    gs.mouse_x = box->x + 5, gs.mouse_y = box->y + 5;
    lesson_view_build(s, g, &vp, 1280, 720);
    assert_non_null(scene_find(s, "graph:tooltip-box"));
    graph_layout_destroy(gs.layout);
    graph_destroy(g);
    scene_destroy(s);
    lesson_destroy(l);
}

// More distinct text in one frame than the text cache holds: every label is
// still drawn (the overflow goes uncached).
static void test_text_cache_overflow(void **state)
{
    (void)state;
    const char *data = getenv("GRADLAB_DATA_DIR");
    if (!data)
        skip();
    char fonts[1024], err[1200];
    snprintf(fonts, sizeof(fonts), "%s/assets/fonts", data);
    Offscreen *o = offscreen_create(1600, 1000, fonts, err, sizeof(err));
    assert_non_null(o);
    Scene *s = scene_create();
    scene_renderer_attach(offscreen_scene_renderer(o), s);
    for (int frame = 0; frame < 2; frame++) {
        scene_begin(s, 1600, 1000, (Color){0, 0, 0, 255});
        for (int i = 0; i < 2000; i++) {
            char t[16];
            snprintf(t, sizeof(t), "%d", i);
            scene_text(s, (float)(i % 40) * 40, (float)(i / 40) * 20, FONT_BOLD, 14, ALIGN_LEFT,
                       (Color){255, 255, 255, 255}, t);
        }
        SDL_Surface *px = offscreen_draw(o, s);
        // The box of the last label (1999 at column 39, row 49) has lit pixels.
        int lit = 0;
        for (int y = 49 * 20; y < 49 * 20 + 18; y++)
            for (int x = 39 * 40; x < 39 * 40 + 36; x++) {
                Uint8 r, g, b;
                SDL_GetRGB(((Uint32 *)((Uint8 *)px->pixels + y * px->pitch))[x], px->format, &r, &g, &b);
                lit += r > 128;
            }
        assert_true(lit > 10);
    }
    scene_destroy(s);
    offscreen_destroy(o);
}

// A steady frame allocates nothing: after a warm-up, building and drawing the
// same busy view again leaves the heap exactly as it was.
static void test_steady_frame_allocates_nothing(void **state)
{
    (void)state;
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
    Scene *s = scene_create();
    enum { N = 3000, HR = 64, HC = 400 };
    static double xs[N], ys[N];
    static float heat[HR * HC];
    for (int i = 0; i < N; i++)
        xs[i] = i, ys[i] = sin(i * 0.01);
    for (int i = 0; i < HR * HC; i++)
        heat[i] = (float)sin(i);
    PlotSeries ser = {"s", xs, ys, N};
    size_t end_of_frame = 0;
    for (int frame = 0; frame < 6; frame++) {
        scene_begin(s, 1920, 1080, theme_get(THEME_DARK)->background);
        // Starting a frame frees nothing that the frame will allocate again...
        if (frame > 2)
            assert_int_equal(mallinfo2().uordblks, end_of_frame);
        PlotParams pp = {.x = 0, .y = 0, .w = 900, .h = 500, .unit = 1, .theme = theme_get(THEME_DARK),
                         .series = &ser, .nseries = 1, .title = "t"};
        plot_build(s, &pp);
        HeatmapParams hp = {.x = 950, .y = 0, .w = 900, .h = 500, .unit = 1, .theme = theme_get(THEME_DARK),
                            .data = heat, .rows = HR, .cols = HC};
        heatmap_build(s, &hp);
        // ...and building it takes nothing more than the last frame did.
        if (frame > 2)
            assert_int_equal(mallinfo2().uordblks, end_of_frame);
        end_of_frame = mallinfo2().uordblks;
    }
    scene_destroy(s);
#else
    skip();
#endif
}

// Render both widgets in each theme so a person can look at them.
static void test_render_widgets(void **state)
{
    (void)state;
    const char *dir = getenv("GRADLAB_WIDGET_PNG_DIR");
    const char *data = getenv("GRADLAB_DATA_DIR");
    if (!dir || !data)
        skip();
    char fonts[1024], err[1024];
    snprintf(fonts, sizeof(fonts), "%s/assets/fonts", data);
    Offscreen *o = offscreen_create(1280, 720, fonts, err, sizeof(err));
    assert_non_null(o);
    Scene *s = scene_create();
    scene_renderer_attach(offscreen_scene_renderer(o), s);
    enum { T = 60, H = 24 };
    double xs[T], van[T], expl[T], lstm[T];
    float heat[H * T];
    for (int t = 0; t < T; t++) {
        xs[t] = t;
        van[t] = pow(0.8, t);
        expl[t] = t == 45 ? NAN : pow(1.15, t);
        lstm[t] = 0.5 + 0.1 * sin(t / 5.0);
        for (int h = 0; h < H; h++)
            heat[h * T + t] = (float)tanh(sin(0.3 * h + 0.2 * t) * 2);
    }
    PlotSeries ser[3] = {{"RNN, scale 0.8", xs, van, T}, {"RNN, scale 1.15", xs, expl, T},
                         {"LSTM", xs, lstm, T}};
    for (int th = 0; th < THEME_COUNT; th++) {
        const Theme *t = theme_get((ThemeId)th);
        scene_begin(s, 1280, 720, t->background);
        PlotParams p = {.x = 30, .y = 30, .w = 700, .h = 420, .unit = 1.2f, .theme = t,
                        .title = "\u2016\u2202L/\u2202h\u209c\u2016 through time", .xlabel = "time step t",
                        .ylabel = "norm (log)", .log_y = true, .series = ser, .nseries = 3,
                        .hover = true, .mouse_x = 420};
        plot_build(s, &p);
        HeatmapParams hp = {.x = 760, .y = 30, .w = 490, .h = 300, .unit = 1.2f, .theme = t, .data = heat,
                            .rows = H, .cols = T, .diverging = true, .title = "hidden state h\u209c (signed)"};
        heatmap_build(s, &hp);
        for (int i = 0; i < H * T; i++)
            heat[i] = fabsf(heat[i]);
        hp.y = 360, hp.h = 300, hp.diverging = false, hp.title = "|gate| (magnitude)";
        heat[5 * T + 7] = NAN;
        heatmap_build(s, &hp);
        double gv[4] = {0.92, 0.35, -0.6, NAN};
        const char *gl[4] = {"input i", "forget f", "cell g", "output o"};
        BarChartParams bp = {.x = 30, .y = 480, .w = 420, .h = 200, .unit = 1.2f, .theme = t, .values = gv,
                             .labels = gl, .n = 4, .id = "gates"};
        barchart_build(s, &bp);
        SliderParams sp = {.x = 480, .y = 490, .w = 240, .unit = 1.2f, .theme = t, .label = "learning rate",
                           .value = 0.01, .lo = 1e-4, .hi = 1, .log_scale = true, .id = "lr"};
        slider_build(s, &sp);
        toggle_build(s, 480, 580, 1.2f, t, "momentum", th % 2 == 0, "mom");
        button_build(s, 480, 630, 1.2f, t, "Reset", false, "reset");
        scrub_build(s, 600, 636, 1.2f, t, "x", -2, true, "scrub:x");
        tooltip_build(s, 640, 420, 1.2f, t, "**q** = x + y\nlocal: `\u2202q/\u2202x = 1`");
        for (int i = 0; i < H * T; i++) // back to signed for the next theme
            heat[i] = (float)tanh(sin(0.3 * (i / T) + 0.2 * (i % T)) * 2);
        char path[1200];
        snprintf(path, sizeof(path), "%s/widgets-%s.png", dir, t->name);
        assert_true(offscreen_save_png(o, s, path, err, sizeof(err)));
        // Not blank: the heatmaps and plots put many colours on screen.
        SDL_Surface *png = IMG_Load(path);
        assert_non_null(png);
        SDL_Surface *rgb = SDL_ConvertSurfaceFormat(png, SDL_PIXELFORMAT_RGBA32, 0);
        int distinct = 0;
        static unsigned char seen[1 << 15];
        memset(seen, 0, sizeof(seen));
        for (int y = 0; y < rgb->h; y++)
            for (int x = 0; x < rgb->w; x++) {
                const unsigned char *q = (const unsigned char *)rgb->pixels + y * rgb->pitch + 4 * x;
                int key = (q[0] >> 3) << 10 | (q[1] >> 3) << 5 | (q[2] >> 3);
                distinct += !seen[key];
                seen[key] = 1;
            }
        assert_true(distinct > 200);
        SDL_FreeSurface(rgb);
        SDL_FreeSurface(png);
    }
    scene_destroy(s);
    offscreen_destroy(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ticks),
        cmocka_unit_test(test_log_plot_with_nan),
        cmocka_unit_test(test_palettes),
        cmocka_unit_test(test_csv),
        cmocka_unit_test(test_heatmap),
        cmocka_unit_test(test_menu_and_notes),
        cmocka_unit_test(test_controls),
        cmocka_unit_test(test_lesson_graph_view),
        cmocka_unit_test(test_text_cache_overflow),
        cmocka_unit_test(test_steady_frame_allocates_nothing),
        cmocka_unit_test(test_render_widgets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
