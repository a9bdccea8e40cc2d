// fileio.c: bounded whole-file reads and safe output files; see fileio.h.
//
// Every reason is taken from errno right after the call that failed and
// saved before any other call (a stat made to explain a failure would
// otherwise replace "Permission denied" with "No such file or directory").
#include "engine/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PATH_BUF 4096

// What a file that is not regular is, for messages.
static const char *kind_of(mode_t m)
{
    return S_ISFIFO(m)  ? "a FIFO"
           : S_ISCHR(m) ? "a character device"
           : S_ISBLK(m) ? "a block device"
           : S_ISSOCK(m) ? "a socket"
                         : "not a file or folder";
}

int file_open_read(const char *path, long long *size, char *why, size_t whyn)
{
    // O_NONBLOCK: opening a FIFO with no writer returns at once instead of
    // waiting forever; fstat on the descriptor then says what it is.
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    struct stat st;
    if (fd < 0) {
        int e = errno;
        // A socket cannot be opened at all (ENXIO); say what it is.
        if (e == ENXIO && stat(path, &st) == 0 && S_ISSOCK(st.st_mode))
            snprintf(why, whyn, "it is not a regular file (a socket)");
        else
            snprintf(why, whyn, "%s", strerror(e));
        return -1;
    }
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        snprintf(why, whyn, "%s", strerror(e));
        return -1;
    }
    if (S_ISDIR(st.st_mode) || !S_ISREG(st.st_mode)) {
        if (S_ISDIR(st.st_mode))
            snprintf(why, whyn, "it is a directory");
        else
            snprintf(why, whyn, "it is not a regular file (%s); save its contents to a file first",
                     kind_of(st.st_mode));
        close(fd);
        return -1;
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags == -1 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) == -1) {
        int e = errno;
        close(fd);
        snprintf(why, whyn, "%s", strerror(e));
        return -1;
    }
    *size = (long long)st.st_size;
    return fd;
}

char *file_read_all(const char *path, size_t max_bytes, size_t *len, char *err, size_t errn)
{
    char why[256];
    long long size;
    int fd = file_open_read(path, &size, why, sizeof why);
    if (fd < 0) {
        snprintf(err, errn, "cannot open '%s': %s", path, why);
        return NULL;
    }
    if (size < 0 || (unsigned long long)size > max_bytes) {
        snprintf(err, errn, "'%s' is larger than %zu bytes, the limit", path, max_bytes);
        close(fd);
        return NULL;
    }
    // Sized by the file. A file that grows while it is read (or reports
    // size 0, as /proc files do) grows the buffer, up to the limit and one
    // byte more, which is how "too large" is seen.
    size_t cap = (size_t)size + 1, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        if (n == cap) {
            if (cap > max_bytes)
                break;
            size_t more = cap < 4096 ? 4096 : cap;
            cap = cap + more > max_bytes + 1 ? max_bytes + 1 : cap + more;
            char *nb = realloc(buf, cap + 1);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
        }
        ssize_t got = read(fd, buf + n, cap - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            snprintf(err, errn, "cannot read '%s': %s", path, strerror(errno));
            free(buf);
            close(fd);
            return NULL;
        }
        if (got == 0)
            break;
        n += (size_t)got;
    }
    close(fd);
    if (!buf) {
        snprintf(err, errn, "out of memory reading '%s'", path);
        return NULL;
    }
    if (n > max_bytes) {   // exactly max_bytes is fine; a byte more is not
        snprintf(err, errn, "'%s' is larger than %zu bytes, the limit", path, max_bytes);
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

// ---------------------------------------------------------------------------
// Folders

// path into buf without trailing slashes ("out/" -> "out", "/" stays "/").
static bool trimmed(const char *path, char *buf, size_t n, char *err, size_t errn)
{
    size_t k = strlen(path);
    if (k == 0 || k >= n) {
        snprintf(err, errn, "cannot create '%.200s': %s", path,
                 k ? strerror(ENAMETOOLONG) : "the name is empty");
        return false;
    }
    memcpy(buf, path, k + 1);
    while (k > 1 && buf[k - 1] == '/')
        buf[--k] = '\0';
    return true;
}

// Why p, which exists, cannot be a folder on the way to path (p is path or
// above it); the reason only, into why.
static void not_a_folder(const char *path, const char *p, char *why, size_t whyn)
{
    struct stat st;
    bool broken = lstat(p, &st) == 0 && S_ISLNK(st.st_mode) && stat(p, &st) != 0;
    if (strcmp(p, path) == 0)
        snprintf(why, whyn, "%s", broken ? "it is a symbolic link to something that does not exist"
                                         : "it exists and is not a folder");
    else
        snprintf(why, whyn, "'%s' is %s", p, broken ? "a broken symbolic link" : "not a folder");
}

// After ENOTDIR on p: name the first part of it that is not a folder, into
// why. False when none is found (then the caller reports ENOTDIR itself).
static bool name_non_folder(const char *path, char *p, char *why, size_t whyn)
{
    for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
        *s = '\0';
        struct stat st;
        bool bad = stat(p, &st) == 0 && !S_ISDIR(st.st_mode);
        if (bad)
            not_a_folder(path, p, why, whyn);
        *s = '/';
        if (bad)
            return true;
    }
    return false;
}

// "cannot create 'PATH': REASON" for a failed mkdir or stat of p (path or
// a folder above it) with the saved error e.
static void dir_error(const char *path, char *p, int e, char *err, size_t errn)
{
    char why[PATH_BUF + 64];
    if (e == EEXIST)
        not_a_folder(path, p, why, sizeof why);
    else if (!(e == ENOTDIR && name_non_folder(path, p, why, sizeof why)))
        snprintf(why, sizeof why, "%s", strerror(e));
    snprintf(err, errn, "cannot create '%s': %s", path, why);
}

// mkdir p; true when p is a folder afterwards. The error is in *e.
static bool mkdir_one(const char *p, int *e)
{
    if (mkdir(p, 0777) == 0)
        return true;
    *e = errno;
    struct stat st;
    return *e == EEXIST && stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

bool file_make_dir(const char *path, bool parents, char *err, size_t errn)
{
    char p[PATH_BUF];
    if (!trimmed(path, p, sizeof p, err, errn))
        return false;
    int e = 0;
    if (mkdir_one(p, &e))
        return true;
    if (e == ENOENT && parents) {
        // mkdir -p: each folder from the top down; the ones there are fine.
        for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
            if (s[-1] == '/')
                continue;   // "a//b"
            *s = '\0';
            bool ok = mkdir_one(p, &e);
            if (!ok)
                dir_error(path, p, e, err, errn);
            *s = '/';
            if (!ok)
                return false;
        }
        if (mkdir_one(p, &e))
            return true;
    }
    dir_error(path, p, e, err, errn);
    return false;
}

bool file_check_dir(const char *path, bool parents, char *err, size_t errn)
{
    char p[PATH_BUF];
    if (!trimmed(path, p, sizeof p, err, errn))
        return false;
    struct stat st;
    // From path upwards to the deepest part that exists.
    for (bool top = true;; top = false) {
        if (stat(p, &st) == 0) {
            if (!S_ISDIR(st.st_mode)) {
                dir_error(path, p, EEXIST, err, errn);
                return false;
            }
            if (access(p, W_OK | X_OK) != 0) {
                int e = errno;
                snprintf(err, errn, "cannot %s '%s': %s", top ? "write into" : "create", path,
                         strerror(e));
                return false;
            }
            return true;
        }
        int e = errno;
        if (e == ENOENT && lstat(p, &st) == 0) {   // a symlink to nothing
            dir_error(path, p, EEXIST, err, errn);
            return false;
        }
        if (e != ENOENT || (!top && !parents)) {
            dir_error(path, p, e, err, errn);
            return false;
        }
        // p is missing: look at the folder above it.
        char *slash = strrchr(p, '/');
        if (!slash && strcmp(p, ".") == 0) {   // the current folder is gone
            dir_error(path, p, e, err, errn);
            return false;
        }
        if (!slash)
            snprintf(p, sizeof p, ".");
        else if (slash == p)
            p[1] = '\0';
        else {
            *slash = '\0';
            while (slash > p + 1 && slash[-1] == '/')
                *--slash = '\0';
        }
    }
}

// ---------------------------------------------------------------------------
// Output files

int file_temp_open(const char *path, char *tmp, size_t tmpn, char *why, size_t whyn)
{
    tmp[0] = '\0';
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(why, whyn, "it is a folder");
        return -1;
    }
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    int dirlen = slash ? (int)(slash + 1 - path) : 0;
    if (!*base) {
        snprintf(why, whyn, "it is a folder");
        return -1;
    }
    static unsigned counter;
    for (int tries = 0; tries < 1000; tries++) {
        // The name only has to be new: O_EXCL makes the creation safe.
        int k = snprintf(tmp, tmpn, "%.*s.%.180s.tmp-%ld-%u", dirlen, path, base, (long)getpid(),
                         counter++);
        if (k < 0 || (size_t)k >= tmpn) {
            tmp[0] = '\0';
            snprintf(why, whyn, "%s", strerror(ENAMETOOLONG));
            return -1;
        }
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0666);
        if (fd >= 0)
            return fd;
        int e = errno;
        if (e != EEXIST) {
            tmp[0] = '\0';
            if (e == ENOTDIR && slash) {
                char p[PATH_BUF];
                snprintf(p, sizeof p, "%.*s", dirlen, path);
                if (name_non_folder(path, p, why, whyn))
                    return -1;
            }
            snprintf(why, whyn, "%s", strerror(e));
            return -1;
        }
    }
    tmp[0] = '\0';
    snprintf(why, whyn, "cannot find a free temporary name next to it");
    return -1;
}

bool file_temp_commit(const char *tmp, const char *path, char *why, size_t whyn)
{
    if (rename(tmp, path) == 0)
        return true;
    int e = errno;
    unlink(tmp);
    if (e == EISDIR)
        snprintf(why, whyn, "it is a folder");
    else
        snprintf(why, whyn, "%s", strerror(e));
    return false;
}

void file_temp_discard(const char *tmp)
{
    if (tmp && *tmp)
        unlink(tmp);
}

FILE *file_out_open(const char *path, char *tmp, size_t tmpn, char *why, size_t whyn)
{
    int fd = file_temp_open(path, tmp, tmpn, why, whyn);
    if (fd < 0)
        return NULL;
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        snprintf(why, whyn, "%s", strerror(errno));
        close(fd);
        file_temp_discard(tmp);
        tmp[0] = '\0';
    }
    return f;
}

bool file_out_close(FILE *f, const char *tmp, const char *path, char *why, size_t whyn)
{
    errno = 0;
    int e = 0;
    if (fflush(f) != 0 || ferror(f))
        e = errno ? errno : EIO;   // a write that failed earlier and left no errno
    errno = 0;
    if (fclose(f) != 0 && !e)
        e = errno ? errno : EIO;
    if (e) {
        snprintf(why, whyn, "%s", strerror(e));
        file_temp_discard(tmp);
        return false;
    }
    return file_temp_commit(tmp, path, why, whyn);
}

void file_out_discard(FILE *f, const char *tmp)
{
    if (f)
        fclose(f);
    file_temp_discard(tmp);
}
