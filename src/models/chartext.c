// chartext.c: UTF-8 text to character ids, sampling from a CharRnn, and
// the read-out the char models share; see chartext.h.
#include "models/chartext.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/fileio.h"
#include "engine/tensor/gemm.h"

// Decode one code point at s[0..n) (n > 0): its length in bytes, or 0 when
// the bytes there are not UTF-8 (overlong forms, surrogates and code points
// past U+10FFFF included).
static int utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned c = s[0];
    int len;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if ((c & 0xE0) == 0xC0) {
        len = 2, v = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3, v = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        len = 4, v = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if ((size_t)len > n)
        return 0;
    for (int i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return len;
}

int chartext_utf8(uint32_t cp, char *buf)
{
    int n;
    if (cp < 0x80) {
        buf[0] = (char)cp, n = 1;
    } else if (cp < 0x800) {
        buf[0] = (char)(0xC0 | (cp >> 6)), buf[1] = (char)(0x80 | (cp & 0x3F)), n = 2;
    } else if (cp < 0x10000) {
        buf[0] = (char)(0xE0 | (cp >> 12)), buf[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        buf[2] = (char)(0x80 | (cp & 0x3F)), n = 3;
    } else {
        buf[0] = (char)(0xF0 | (cp >> 18)), buf[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        buf[2] = (char)(0x80 | ((cp >> 6) & 0x3F)), buf[3] = (char)(0x80 | (cp & 0x3F)), n = 4;
    }
    buf[n] = '\0';
    return n;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

bool chartext_parse(const char *data, size_t n, const char *file, CharText *t, char *err, size_t errn)
{
    memset(t, 0, sizeof(*t));
    if (n > CHARTEXT_MAX_BYTES) {
        snprintf(err, errn, "%s: error: the text is %zu bytes, more than %zu, the limit; use a shorter text", file,
                 n, CHARTEXT_MAX_BYTES);
        return false;
    }
    if (n == 0) {
        snprintf(err, errn, "%s: error: the text is empty; give a UTF-8 text of at least %d characters", file,
                 CHARTEXT_MIN_CHARS);
        return false;
    }
    const unsigned char *s = (const unsigned char *)data;
    size_t i = 0;
    if (n >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF)
        i = 3; // a byte-order mark is not part of the text
    // First pass: check, and collect the distinct code points.
    uint32_t *distinct = malloc(CHARTEXT_MAX_VOCAB * sizeof(uint32_t));
    uint32_t *cps = malloc(n * sizeof(uint32_t)); // every character, "\r\n" as '\n'
    if (!distinct || !cps) {
        free(distinct);
        free(cps);
        snprintf(err, errn, "%s: error: out of memory", file);
        return false;
    }
    size_t len = 0;
    int V = 0;
    long line = 1, col = 1;
    bool ok = true;
    while (i < n) {
        uint32_t cp;
        int k = utf8_decode(s + i, n - i, &cp);
        if (k == 0 || cp == 0) {
            snprintf(err, errn,
                     k == 0 ? "%s:%ld:%ld: error: the text is not UTF-8 (byte 0x%02x); save it as UTF-8"
                            : "%s:%ld:%ld: error: the text holds a NUL byte (0x%02x); is it a text file?",
                     file, line, col, s[i]);
            ok = false;
            break;
        }
        i += (size_t)k;
        if (cp == '\r' && i < n && s[i] == '\n')
            continue; // "\r\n" is one '\n'
        if (cp == '\n')
            line++, col = 1;
        else
            col++;
        cps[len++] = cp;
        bool seen = false;
        for (int v = 0; v < V && !seen; v++)
            seen = distinct[v] == cp;
        if (!seen) {
            if (V == CHARTEXT_MAX_VOCAB) {
                snprintf(err, errn,
                         "%s:%ld:%ld: error: the text has more than %d distinct characters, the limit; "
                         "use a text with fewer kinds of characters",
                         file, line, col - 1, CHARTEXT_MAX_VOCAB);
                ok = false;
                break;
            }
            distinct[V++] = cp;
        }
    }
    if (ok && len < CHARTEXT_MIN_CHARS) {
        snprintf(err, errn, "%s: error: the text is too small: %zu characters; give at least %d", file, len,
                 CHARTEXT_MIN_CHARS);
        ok = false;
    } else if (ok && V < 2) {
        snprintf(err, errn, "%s: error: the text is too small: it has only one distinct character; give a real text",
                 file);
        ok = false;
    }
    if (ok && !(t->ids = malloc(len))) {
        snprintf(err, errn, "%s: error: out of memory", file);
        ok = false;
    }
    if (ok) {
        qsort(distinct, (size_t)V, sizeof(uint32_t), cmp_u32);
        memcpy(t->cps, distinct, (size_t)V * sizeof(uint32_t));
        t->V = V;
        t->len = len;
        for (size_t c = 0; c < len; c++) {
            const uint32_t *at = bsearch(&cps[c], distinct, (size_t)V, sizeof(uint32_t), cmp_u32);
            t->ids[c] = (unsigned char)(at - distinct);
        }
    }
    free(distinct);
    free(cps);
    return ok;
}

bool chartext_load(const char *path, CharText *t, char *err, size_t errn)
{
    memset(t, 0, sizeof(*t));
    size_t n = 0;
    char *data = file_read_all(path, CHARTEXT_MAX_BYTES, &n, err, errn);
    if (!data)
        return false;
    bool ok = chartext_parse(data, n, path, t, err, errn);
    free(data);
    return ok;
}

void chartext_free(CharText *t)
{
    if (!t)
        return;
    free(t->ids);
    memset(t, 0, sizeof(*t));
}

bool charrnn_sample(const CharRnn *m, const float *h0, int first, int n, double temperature, Pcg *rng,
                    int *out, int k, int *top, float *prob, float *chosen)
{
    const int V = m->V, H = m->H;
    double *h = malloc((size_t)H * sizeof(double)), *hn = malloc((size_t)H * sizeof(double));
    double *p = malloc((size_t)V * sizeof(double));
    if (!h || !hn || !p) {
        free(h), free(hn), free(p);
        return false;
    }
    const RnnParams *w = &m->rnn->p;
    for (int j = 0; j < H; j++)
        h[j] = h0 ? h0[j] : 0.0;
    int x = first;
    for (int t = 0; t < n; t++) {
        // h = tanh(W_ih[:, x] + W_hh h + b_ih + b_hh): the input is one-hot.
        for (int j = 0; j < H; j++) {
            double a = (double)w->w_ih[(size_t)j * V + x] + w->b_ih[j] + w->b_hh[j];
            const float *row = w->w_hh + (size_t)j * H;
            for (int i = 0; i < H; i++)
                a += (double)row[i] * h[i];
            hn[j] = tanh(a);
        }
        memcpy(h, hn, (size_t)H * sizeof(double));
        x = chartext_draw(m->head, h, V, H, temperature, rng, p, t, out, k, top, prob, chosen);
    }
    free(h), free(hn), free(p);
    return true;
}

int chartext_draw(const float *head, const double *h, int V, int H, double temperature, Pcg *rng,
                  double *p, int t, int *out, int k, int *top, float *prob, float *chosen)
{
    const float *why = head, *by = head + (size_t)V * H;
    double mx = -INFINITY;
    for (int v = 0; v < V; v++) {
        double y = by[v];
        const float *row = why + (size_t)v * H;
        for (int i = 0; i < H; i++)
            y += (double)row[i] * h[i];
        p[v] = y / temperature;
        mx = fmax(mx, p[v]);
    }
    double sum = 0;
    for (int v = 0; v < V; v++)
        sum += (p[v] = exp(p[v] - mx));
    for (int v = 0; v < V; v++)
        p[v] /= sum;
    // Draw from p: the first id whose running sum passes a uniform number.
    double r = pcg_uniform(rng), acc = 0;
    int x = V - 1;
    for (int v = 0; v < V; v++) {
        acc += p[v];
        if (r < acc) {
            x = v;
            break;
        }
    }
    out[t] = x;
    if (chosen)
        chosen[t] = (float)p[x];
    // The k most probable, by selection (k is small).
    for (int j = 0; j < k; j++) {
        int best = -1;
        for (int v = 0; v < V; v++) {
            bool taken = false;
            for (int q = 0; q < j && !taken; q++)
                taken = top[(size_t)t * k + q] == v;
            if (!taken && (best < 0 || p[v] > p[best]))
                best = v;
        }
        top[(size_t)t * k + j] = best;
        prob[(size_t)t * k + j] = (float)p[best];
    }
    return x;
}

void chartext_logits(const float *head, const float *h, int T, int V, int H, float *logits)
{
    const float *why = head, *by = head + (size_t)V * H;
    for (int t = 0; t < T; t++)
        memcpy(logits + (size_t)t * V, by, (size_t)V * sizeof(float));
    gemm_f32(false, true, T, V, H, 1.0f, h, H, why, H, 1.0f, logits, V);
}

void chartext_logits_backward(const float *head, const float *h, const float *dz, int T, int V, int H,
                              float *head_grad, float *dh)
{
    float *dwhy = head_grad, *dby = head_grad + (size_t)V * H;
    gemm_f32(true, false, V, H, T, 1.0f, dz, V, h, H, 0.0f, dwhy, H);
    memset(dby, 0, (size_t)V * sizeof(float));
    for (int t = 0; t < T; t++)
        for (int v = 0; v < V; v++)
            dby[v] += dz[(size_t)t * V + v];
    gemm_f32(false, false, T, H, V, 1.0f, dz, V, head, H, 0.0f, dh, H);
}
