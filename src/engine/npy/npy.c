// npy.c: NumPy .npy reading and writing; see npy.h.
//
// Layout of a file: the magic "\x93NUMPY", a major and a minor version byte,
// the header length (uint16 in 1.0, uint32 in 2.0, little-endian), then the
// header, a Python dict literal such as
//     {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
// padded with spaces and ending in '\n', then the raw data.
#include "engine/npy/npy.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/fileio.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "npy.c assumes a little-endian host"
#endif

static const unsigned char npy_magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static bool fail(char *err, size_t errlen, const char *name, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return false;
    int n = snprintf(err, errlen, "%s: error: ", name);
    if (n >= 0 && (size_t)n < errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return false;
}

// ---------------------------------------------------------------------------
// Header parsing

typedef struct Header {
    int itemsize;                  // 4 or 8
    int ndim;
    int64_t shape[NPY_MAX_DIMS];
    int64_t count;
} Header;

typedef struct Cursor {
    const char *s;
    size_t n, i;
} Cursor;

static void skip_ws(Cursor *c)
{
    while (c->i < c->n && (c->s[c->i] == ' ' || c->s[c->i] == '\t' || c->s[c->i] == '\n'))
        c->i++;
}

static bool eat(Cursor *c, char ch)
{
    skip_ws(c);
    if (c->i < c->n && c->s[c->i] == ch) {
        c->i++;
        return true;
    }
    return false;
}

// A quoted string of at most cap-1 characters, without escapes.
static bool parse_str(Cursor *c, char *out, size_t cap)
{
    skip_ws(c);
    if (c->i >= c->n || (c->s[c->i] != '\'' && c->s[c->i] != '"'))
        return false;
    char q = c->s[c->i++];
    size_t k = 0;
    while (c->i < c->n && c->s[c->i] != q) {
        if (c->s[c->i] == '\\' || k + 1 >= cap)
            return false;
        out[k++] = c->s[c->i++];
    }
    if (c->i >= c->n)
        return false;
    c->i++;
    out[k] = '\0';
    return true;
}

static bool parse_word(Cursor *c, const char *w)
{
    skip_ws(c);
    size_t len = strlen(w);
    if (c->n - c->i >= len && memcmp(c->s + c->i, w, len) == 0) {
        c->i += len;
        return true;
    }
    return false;
}

// The header text hdr[0..len) into *h. Returns false with err filled.
static bool parse_header(const char *name, const char *hdr, size_t len, Header *h,
                         char *err, size_t errlen)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)hdr[i];
        if ((ch < 0x20 && ch != '\t' && ch != '\n' && ch != '\r') || ch >= 0x7f)
            return fail(err, errlen, name, "bad header: it contains a byte that is not ASCII text");
    }
    Cursor c = {hdr, len, 0};
    bool have_descr = false, have_fortran = false, have_shape = false;
    bool fortran = false;
    char descr[32] = "";
    if (!eat(&c, '{'))
        return fail(err, errlen, name, "bad header: it is not a Python dict");
    for (;;) {
        if (eat(&c, '}'))
            break;
        char key[32];
        if (!parse_str(&c, key, sizeof key))
            return fail(err, errlen, name, "bad header: expected a quoted key at byte %zu", c.i);
        if (!eat(&c, ':'))
            return fail(err, errlen, name, "bad header: expected ':' after '%s'", key);
        if (strcmp(key, "descr") == 0 && !have_descr) {
            if (!parse_str(&c, descr, sizeof descr))
                return fail(err, errlen, name, "bad header: 'descr' is not a short string");
            have_descr = true;
        } else if (strcmp(key, "fortran_order") == 0 && !have_fortran) {
            if (parse_word(&c, "True"))
                fortran = true;
            else if (parse_word(&c, "False"))
                fortran = false;
            else
                return fail(err, errlen, name, "bad header: 'fortran_order' is not True or False");
            have_fortran = true;
        } else if (strcmp(key, "shape") == 0 && !have_shape) {
            if (!eat(&c, '('))
                return fail(err, errlen, name, "bad header: 'shape' is not a tuple");
            h->ndim = 0;
            for (;;) {
                if (eat(&c, ')'))
                    break;
                skip_ws(&c);
                if (c.i >= c.n || c.s[c.i] < '0' || c.s[c.i] > '9')
                    return fail(err, errlen, name,
                                "bad header: 'shape' must hold non-negative whole numbers");
                int64_t v = 0;
                while (c.i < c.n && c.s[c.i] >= '0' && c.s[c.i] <= '9') {
                    v = v * 10 + (c.s[c.i++] - '0');
                    if (v > NPY_MAX_ELEMENTS)
                        return fail(err, errlen, name,
                                    "array is too large (a dimension exceeds %lld elements)",
                                    (long long)NPY_MAX_ELEMENTS);
                }
                if (h->ndim == NPY_MAX_DIMS)
                    return fail(err, errlen, name, "too many dimensions (at most %d)", NPY_MAX_DIMS);
                h->shape[h->ndim++] = v;
                if (eat(&c, ','))
                    continue;
                if (eat(&c, ')'))
                    break;
                return fail(err, errlen, name, "bad header: 'shape' is not a tuple of numbers");
            }
            have_shape = true;
        } else {
            return fail(err, errlen, name, "bad header: unexpected or repeated key '%s'", key);
        }
        if (eat(&c, ','))
            continue;
        if (eat(&c, '}'))
            break;
        return fail(err, errlen, name, "bad header: expected ',' or '}' at byte %zu", c.i);
    }
    skip_ws(&c);
    if (c.i != c.n)
        return fail(err, errlen, name, "bad header: unexpected text after the dict");
    if (!have_descr || !have_fortran || !have_shape)
        return fail(err, errlen, name, "bad header: missing key '%s'",
                    !have_descr ? "descr" : !have_fortran ? "fortran_order" : "shape");

    if (strcmp(descr, "<f4") == 0)
        h->itemsize = 4;
    else if (strcmp(descr, "<f8") == 0)
        h->itemsize = 8;
    else if (descr[0] == '>' && (strcmp(descr + 1, "f4") == 0 || strcmp(descr + 1, "f8") == 0))
        return fail(err, errlen, name,
                    "big-endian dtype '%s' is not supported; save as little-endian '<f4' or '<f8'",
                    descr);
    else
        return fail(err, errlen, name, "dtype '%s' is not supported; expected '<f4' or '<f8'",
                    descr);
    if (fortran)
        return fail(err, errlen, name,
                    "Fortran-order arrays are not supported; save with np.ascontiguousarray");
    int64_t count = 1;
    for (int d = 0; d < h->ndim; d++) {
        if (h->shape[d] == 0) {
            count = 0;
            break;
        }
    }
    for (int d = 0; d < h->ndim && count > 0; d++) {
        // Both factors are at most NPY_MAX_ELEMENTS (2^26), so the product fits.
        count *= h->shape[d];
        if (count > NPY_MAX_ELEMENTS)
            return fail(err, errlen, name, "array is too large (more than %lld elements)",
                        (long long)NPY_MAX_ELEMENTS);
    }
    h->count = count;
    return true;
}

// The prefix buf[0..n) (n >= 10) into the header length and the offset of
// the header text; false with err when it is not a supported .npy prefix.
static bool parse_prefix(const char *name, const unsigned char *buf, size_t n, size_t *hlen,
                         size_t *hoff, char *err, size_t errlen)
{
    if (n < 8 || memcmp(buf, npy_magic, 6) != 0)
        return fail(err, errlen, name, "not a .npy file (the magic string is missing)");
    int major = buf[6], minor = buf[7];
    if ((major != 1 && major != 2) || minor != 0)
        return fail(err, errlen, name,
                    "unsupported .npy format version %d.%d; versions 1.0 and 2.0 are supported",
                    major, minor);
    size_t need = major == 1 ? 10 : 12;
    if (n < need)
        return fail(err, errlen, name, "truncated file (the header is cut short)");
    if (major == 1)
        *hlen = (size_t)buf[8] | (size_t)buf[9] << 8;
    else
        *hlen = (size_t)buf[8] | (size_t)buf[9] << 8 | (size_t)buf[10] << 16 | (size_t)buf[11] << 24;
    *hoff = need;
    if (*hlen > NPY_MAX_HEADER)
        return fail(err, errlen, name, "bad header: it is %zu bytes long (at most %d)", *hlen,
                    NPY_MAX_HEADER);
    return true;
}

static void convert(float *dst, const unsigned char *src, int64_t count, int itemsize)
{
    if (itemsize == 4) {
        memcpy(dst, src, (size_t)count * 4);
    } else {
        for (int64_t i = 0; i < count; i++) {
            double v;
            memcpy(&v, src + (size_t)i * 8, 8);
            dst[i] = (float)v;
        }
    }
}

static bool fill(Npy *out, const Header *h)
{
    out->ndim = h->ndim;
    for (int d = 0; d < h->ndim; d++)
        out->shape[d] = h->shape[d];
    out->count = h->count;
    out->data = malloc((size_t)(h->count > 0 ? h->count : 1) * sizeof(float));
    return out->data != NULL;
}

bool npy_parse(const char *name, const unsigned char *buf, size_t len, Npy *out, char *err,
               size_t errlen)
{
    memset(out, 0, sizeof *out);
    size_t hlen = 0, hoff = 0;
    if (len < 8 && len >= 6 && memcmp(buf, npy_magic, 6) == 0)
        return fail(err, errlen, name, "truncated file (the header is cut short)");
    if (!parse_prefix(name, buf, len, &hlen, &hoff, err, errlen))
        return false;
    if (len - hoff < hlen)
        return fail(err, errlen, name, "truncated file (the header is cut short)");
    Header h;
    if (!parse_header(name, (const char *)buf + hoff, hlen, &h, err, errlen))
        return false;
    size_t have = len - hoff - hlen;
    size_t need = (size_t)h.count * (size_t)h.itemsize;
    if (have < need)
        return fail(err, errlen, name, "truncated file (the data needs %zu bytes, %zu are there)",
                    need, have);
    if (have > need)
        return fail(err, errlen, name, "%zu bytes of unexpected data after the array", have - need);
    if (!fill(out, &h))
        return fail(err, errlen, name, "out of memory");
    convert(out->data, buf + hoff + hlen, h.count, h.itemsize);
    return true;
}

bool npy_load(const char *path, Npy *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    // A regular file only: a FIFO or a device would block or never end.
    char why[256];
    long long fsize;
    int fd = file_open_read(path, &fsize, why, sizeof why);
    if (fd < 0)
        return fail(err, errlen, path, "cannot open: %s", why);
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        int e = errno;
        close(fd);
        return fail(err, errlen, path, "cannot open: %s", strerror(e));
    }
    unsigned char *hdr = NULL, *raw = NULL;
    bool ok = false;
    unsigned char prefix[12];
    size_t got = fread(prefix, 1, 8, f);
    if (got < 8) {
        if (got >= 6 && memcmp(prefix, npy_magic, 6) == 0)
            fail(err, errlen, path, "truncated file (the header is cut short)");
        else
            fail(err, errlen, path, "not a .npy file (the magic string is missing)");
        goto done;
    }
    size_t hlen = 0, hoff = 0;
    if (prefix[6] == 2 || prefix[6] == 1) {
        size_t more = prefix[6] == 1 ? 2 : 4;
        if (fread(prefix + 8, 1, more, f) != more) {
            if (memcmp(prefix, npy_magic, 6) != 0)
                fail(err, errlen, path, "not a .npy file (the magic string is missing)");
            else
                fail(err, errlen, path, "truncated file (the header is cut short)");
            goto done;
        }
        got += more;
    }
    if (!parse_prefix(path, prefix, got, &hlen, &hoff, err, errlen))
        goto done;
    hdr = malloc(hlen + 1);
    if (!hdr) {
        fail(err, errlen, path, "out of memory");
        goto done;
    }
    if (fread(hdr, 1, hlen, f) != hlen) {
        fail(err, errlen, path, "truncated file (the header is cut short)");
        goto done;
    }
    Header h;
    if (!parse_header(path, (const char *)hdr, hlen, &h, err, errlen))
        goto done;
    size_t need = (size_t)h.count * (size_t)h.itemsize;
    // Compare with the file's length before allocating anything.
    long long have = fsize - (long long)(hoff + hlen);
    if (have < (long long)need) {
        fail(err, errlen, path, "truncated file (the data needs %zu bytes, %lld are there)", need,
             have < 0 ? 0 : have);
        goto done;
    }
    if (have > (long long)need) {
        fail(err, errlen, path, "%lld bytes of unexpected data after the array", have - (long long)need);
        goto done;
    }
    raw = malloc(need > 0 ? need : 1);
    if (!raw || !fill(out, &h)) {
        fail(err, errlen, path, "out of memory");
        goto done;
    }
    size_t rd = fread(raw, 1, need, f);
    if (rd != need) {
        fail(err, errlen, path, "truncated file (the data needs %zu bytes, %zu are there)", need, rd);
        goto done;
    }
    if (fgetc(f) != EOF) {
        fail(err, errlen, path, "unexpected data after the array");
        goto done;
    }
    convert(out->data, raw, h.count, h.itemsize);
    ok = true;
done:
    free(hdr);
    free(raw);
    fclose(f);
    if (!ok)
        npy_free(out);
    return ok;
}

void npy_free(Npy *a)
{
    if (!a)
        return;
    free(a->data);
    memset(a, 0, sizeof *a);
}

bool npy_write(FILE *f, const char *name, const float *data, int ndim, const int64_t *shape,
               char *err, size_t errlen)
{
    if (ndim < 0 || ndim > NPY_MAX_DIMS)
        return fail(err, errlen, name, "cannot save %d dimensions (at most %d)", ndim, NPY_MAX_DIMS);
    char dict[512];
    int n = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
    size_t count = 1;
    for (int d = 0; d < ndim; d++) {
        n += snprintf(dict + n, sizeof dict - (size_t)n, "%lld,%s", (long long)shape[d],
                      d + 1 < ndim ? " " : "");
        count *= (size_t)shape[d];
    }
    if (ndim > 1)
        n--;   // "(2, 3)" but "(3,)"
    n += snprintf(dict + n, sizeof dict - (size_t)n, "), }");
    // Pad with spaces so that the data starts on a 64-byte boundary; end in '\n'.
    size_t total = 10 + (size_t)n + 1;
    size_t pad = (64 - total % 64) % 64;
    unsigned char head[640];
    size_t hlen = (size_t)n + pad + 1;
    memcpy(head, npy_magic, 6);
    head[6] = 1;
    head[7] = 0;
    head[8] = (unsigned char)(hlen & 0xff);
    head[9] = (unsigned char)(hlen >> 8);
    memcpy(head + 10, dict, (size_t)n);
    memset(head + 10 + n, ' ', pad);
    head[10 + hlen - 1] = '\n';
    errno = 0;
    bool ok = fwrite(head, 1, 10 + hlen, f) == 10 + hlen;
    if (ok && count > 0)
        ok = fwrite(data, sizeof(float), count, f) == count;
    if (ok)
        ok = fflush(f) == 0;
    if (!ok)
        return fail(err, errlen, name, "cannot write: %s", strerror(errno ? errno : EIO));
    return true;
}

bool npy_save(const char *path, const float *data, int ndim, const int64_t *shape, char *err,
              size_t errlen)
{
    if (ndim < 0 || ndim > NPY_MAX_DIMS)
        return fail(err, errlen, path, "cannot save %d dimensions (at most %d)", ndim, NPY_MAX_DIMS);
    // Into a new temporary file, renamed over path at the end: a symlink
    // at path is replaced, never followed, and no half-written file is left.
    char tmp[4096], why[256];
    FILE *f = file_out_open(path, tmp, sizeof tmp, why, sizeof why);
    if (!f)
        return fail(err, errlen, path, "cannot create: %s", why);
    if (!npy_write(f, path, data, ndim, shape, err, errlen)) {
        file_out_discard(f, tmp);
        return false;
    }
    if (!file_out_close(f, tmp, path, why, sizeof why))
        return fail(err, errlen, path, "cannot write: %s", why);
    return true;
}
