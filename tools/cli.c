/* Shared helpers of learn-cli's commands. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

int cli_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "learn-cli %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 1;
}

int cli_is_help(const char *arg) { return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0; }

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0 when invalid. */
static size_t utf8_len(const unsigned char *s, size_t n) {
    unsigned c = s[0];
    size_t len;
    unsigned min;
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf) len = 2, min = 0x80;
    else if (c >= 0xe0 && c <= 0xef) len = 3, min = 0x800;
    else if (c >= 0xf0 && c <= 0xf4) len = 4, min = 0x10000;
    else return 0;
    if (len > n) return 0;
    unsigned cp = c & (0x3f >> (len - 1));
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return len;
}

void cli_json_string(FILE *f, const char *s, size_t n) {
    const unsigned char *p = (const unsigned char *)s;
    fputc('"', f);
    for (size_t i = 0; i < n;) {
        unsigned c = p[i];
        if (c == '"' || c == '\\') {
            fputc('\\', f);
            fputc((int)c, f);
            i++;
        } else if (c < 0x20) {
            switch (c) {
            case '\n': fputs("\\n", f); break;
            case '\r': fputs("\\r", f); break;
            case '\t': fputs("\\t", f); break;
            default: fprintf(f, "\\u%04x", c);
            }
            i++;
        } else {
            size_t len = utf8_len(p + i, n - i);
            if (len == 0) {
                fputs("\\ufffd", f);
                i++;
            } else {
                fwrite(p + i, 1, len, f);
                i += len;
            }
        }
    }
    fputc('"', f);
}

learn_model *cli_open_model(const char *cmd, const char *path, int verify_checksum) {
    learn_model_params p = learn_model_default_params();
    p.verify_checksum = verify_checksum;
    learn_model *m = NULL;
    char err[LEARN_ERRMSG_SIZE];
    learn_status st = learn_model_open(path, &p, &m, err, sizeof err);
    if (st != LEARN_OK) {
        cli_error(cmd, "%s", err);
        return NULL;
    }
    return m;
}

int cli_parse_long(const char *s, long lo, long hi, long *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return 1;
    *out = v;
    return 0;
}

double cli_lock_timeout = 60;

int cli_take_lock_timeout(int *argc, char **argv) {
    int n = 1;
    for (int i = 1; i < *argc; i++) {
        const char *v = NULL;
        if (strcmp(argv[i], "--lock-timeout") == 0) {
            if (i + 1 >= *argc) {
                fprintf(stderr, "learn-cli: --lock-timeout needs a number of seconds\n");
                return 1;
            }
            v = argv[++i];
        } else if (strncmp(argv[i], "--lock-timeout=", 15) == 0) {
            v = argv[i] + 15;
        } else {
            argv[n++] = argv[i];
            continue;
        }
        char *end;
        double t = strtod(v, &end);
        if (end == v || *end || !(t >= 0)) {
            fprintf(stderr, "learn-cli: --lock-timeout needs a number of seconds >= 0, not '%s'\n", v);
            return 1;
        }
        cli_lock_timeout = t;
    }
    argv[n] = NULL;
    *argc = n;
    return 0;
}

learn_lock *cli_lock(const char *cmd, const char *path) {
    learn_lock_params p = learn_lock_default_params();
    p.timeout = 0;
    learn_lock *l = NULL;
    char err[512];
    learn_status st = learn_lock_acquire(path, &p, &l, err, sizeof err);
    if (st == LEARN_ERR_BUSY && cli_lock_timeout > 0) {
        fprintf(stderr, "learn-cli %s: %s: waiting up to %g s (--lock-timeout)\n", cmd, err, cli_lock_timeout);
        p.timeout = cli_lock_timeout;
        st = learn_lock_acquire(path, &p, &l, err, sizeof err);
    }
    if (st == LEARN_ERR_BUSY && cli_lock_timeout == 0) {
        cli_error(cmd, "%s (--lock-timeout 0)", err);
        return NULL;
    }
    if (st != LEARN_OK) {
        cli_error(cmd, "%s", err);
        return NULL;
    }
    learn_lock_info li;
    learn_lock_get_info(l, &li);
    if (li.n_removed) {
        double b = (double)li.bytes_removed;
        fprintf(stderr, "learn-cli %s: removed %u temporary file%s (%.*f %s) that killed writers of %s left\n", cmd,
                li.n_removed, li.n_removed == 1 ? "" : "s", b < 1e6 ? 0 : 1, b < 1e6 ? b / 1e3 : b < 1e9 ? b / 1e6 : b / 1e9,
                b < 1e6 ? "kB" : b < 1e9 ? "MB" : "GB", li.path);
    }
    return l;
}

int cli_out_open(cli_out *o, const char *cmd, const char *path) {
    memset(o, 0, sizeof *o);
    if (strlen(path) >= sizeof o->path) return cli_error(cmd, "%s: path too long", path);
    snprintf(o->path, sizeof o->path, "%s", path);
    if (!(o->lock = cli_lock(cmd, path))) return 1;
    int fd, dfd = -1;
    if (learn_lock_temp(o->lock, &fd) != LEARN_OK) {
        cli_error(cmd, "%s", learn_lock_errmsg(o->lock));
    } else if ((dfd = dup(fd)) < 0 || !(o->f = fdopen(dfd, "wb"))) {
        cli_error(cmd, "%s: %s", path, strerror(errno));
        if (dfd >= 0) close(dfd);
    }
    if (o->f) return 0;
    learn_lock_release(o->lock); /* removes the temporary file */
    o->lock = NULL;
    return 1;
}

void cli_out_abort(cli_out *o) {
    if (o->f) fclose(o->f);
    o->f = NULL;
    learn_lock_release(o->lock);
    o->lock = NULL;
}

int cli_out_commit(cli_out *o, const char *cmd) {
    /* The FILE holds a duplicate of the lock's descriptor: closing it flushes the data into the
       file, which the lock then fsyncs, closes and renames. */
    errno = 0;
    int bad = fflush(o->f) != 0 || ferror(o->f);
    int saved = errno;
    if (fclose(o->f) != 0 && !bad) bad = 1, saved = errno;
    o->f = NULL;
    int rc = 0;
    if (bad) rc = cli_error(cmd, "%s: write failed: %s", o->path, saved ? strerror(saved) : "stream error");
    else if (learn_lock_commit(o->lock) != LEARN_OK) rc = cli_error(cmd, "%s", learn_lock_errmsg(o->lock));
    learn_lock_release(o->lock);
    o->lock = NULL;
    return rc;
}

size_t cli_failed_item(const char *msg, size_t k, const char **rest) {
    *rest = msg;
    if (strncmp(msg, "item ", 5) != 0 || msg[5] < '0' || msg[5] > '9') return 0;
    char *end;
    unsigned long long j = strtoull(msg + 5, &end, 10);
    if (j >= k) return 0;
    if (end[0] == ':' && end[1] == ' ') *rest = end + 2;
    return (size_t)j;
}

void cli_npy_header(FILE *f, size_t n, size_t d) {
    char hdr[128];
    int hl = snprintf(hdr, sizeof hdr, "{'descr': '<f4', 'fortran_order': False, 'shape': (%zu, %zu), }", n, d);
    int pad = (64 - (10 + hl + 1) % 64) % 64; /* magic, version, length, dict, '\n': 64-aligned */
    uint16_t hlen = (uint16_t)(hl + pad + 1);
    fwrite("\x93NUMPY\x01\x00", 1, 8, f);
    fputc(hlen & 0xff, f);
    fputc(hlen >> 8, f);
    fwrite(hdr, 1, (size_t)hl, f);
    for (int i = 0; i < pad; i++) fputc(' ', f);
    fputc('\n', f);
}

int cli_mkdirs(const char *path) {
    char buf[4096];
    if (strlen(path) >= sizeof buf) return -1;
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(buf, 0755) != 0 && errno != EEXIST) return -1;
            *p = '/';
        }
    if (mkdir(buf, 0755) != 0 && errno != EEXIST) return -1;
    return 0;
}

int cli_copy_model(learn_writer *w, const learn_model *m, const char *skip_prefix, char *err, size_t errn) {
    learn_model_info in;
    learn_model_get_info(m, &in);
    size_t sl = skip_prefix ? strlen(skip_prefix) : 0;
    for (uint32_t i = 0; i < in.n_meta; i++) {
        learn_meta_info mi;
        learn_model_meta(m, i, &mi);
        if ((sl && strncmp(mi.key, skip_prefix, sl) == 0) || strncmp(mi.key, "general.fingerprint.", 20) == 0)
            continue;
        if (learn_writer_copy_meta(w, m, mi.key) != LEARN_OK) {
            snprintf(err, errn, "%s", learn_writer_errmsg(w));
            return 1;
        }
    }
    for (uint32_t i = 0; i < in.n_tensors; i++) {
        learn_tensor_info t;
        learn_model_tensor(m, i, &t);
        if (sl && strncmp(t.name, skip_prefix, sl) == 0) continue;
        if (learn_writer_add_tensor(w, t.name, t.type, t.n_dims, t.shape, t.data, 0) != LEARN_OK) {
            snprintf(err, errn, "%s", learn_writer_errmsg(w));
            return 1;
        }
    }
    return 0;
}
