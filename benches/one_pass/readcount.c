// readcount: an LD_PRELOAD library that counts the bytes a process takes from one file, both
// through read calls and through memory maps (benches/one_pass/bytes_read.sh builds and uses
// it; docs/benchmarks.md, "Bytes read from the input", explains the method).
//
// - read, pread64, readv, preadv: the bytes returned on a descriptor open on the file;
// - mmap: for every mapping of the file, the pages the process touched through it, taken from
//   the mapping's `Rss` in /proc/self/smaps just before it is unmapped (or at exit). A page
//   counts once per mapping, whether read once or many times; a second mapping of the same file
//   counts its pages again. The kernel's fault-around maps a few cached neighbours of a touched
//   page too, so this can only over-count.
//
// Environment: READCOUNT_PATH (the file; known by its device and inode), READCOUNT_OUT (where to write
// the counts at exit).
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_MAPS 4096

static ssize_t (*real_read)(int, void *, size_t);
static ssize_t (*real_pread64)(int, void *, size_t, off_t);
static ssize_t (*real_readv)(int, const struct iovec *, int);
static ssize_t (*real_preadv)(int, const struct iovec *, int, off_t);
static void *(*real_mmap)(void *, size_t, int, int, int, off_t);
static int (*real_munmap)(void *, size_t);

static int have_target;
static dev_t target_dev;
static ino_t target_ino;
static _Atomic uint64_t read_bytes, mapped_bytes, mapped_rss, mappings;
static pthread_mutex_t maps_lock = PTHREAD_MUTEX_INITIALIZER;
static struct { uintptr_t start; size_t len; } maps[MAX_MAPS];

__attribute__((constructor)) static void init(void) {
    real_read = dlsym(RTLD_NEXT, "read");
    real_pread64 = dlsym(RTLD_NEXT, "pread64");
    real_readv = dlsym(RTLD_NEXT, "readv");
    real_preadv = dlsym(RTLD_NEXT, "preadv");
    real_mmap = dlsym(RTLD_NEXT, "mmap");
    real_munmap = dlsym(RTLD_NEXT, "munmap");
    const char *target = getenv("READCOUNT_PATH");
    struct stat st;
    if (target && stat(target, &st) == 0) {
        have_target = 1;
        target_dev = st.st_dev;
        target_ino = st.st_ino;
    }
}

static int is_target(int fd) {
    // Identity by device and inode, asked each time: descriptors are reused.
    struct stat st;
    return have_target && fd >= 0 && fstat(fd, &st) == 0 && st.st_dev == target_dev &&
           st.st_ino == target_ino;
}

static void count_read(int fd, ssize_t n) {
    if (n > 0 && is_target(fd)) read_bytes += (uint64_t)n;
}

ssize_t read(int fd, void *buf, size_t count) {
    ssize_t n = real_read(fd, buf, count);
    count_read(fd, n);
    return n;
}

ssize_t pread64(int fd, void *buf, size_t count, off_t offset) {
    ssize_t n = real_pread64(fd, buf, count, offset);
    count_read(fd, n);
    return n;
}
ssize_t pread(int fd, void *buf, size_t count, off_t offset) __attribute__((alias("pread64")));

ssize_t readv(int fd, const struct iovec *iov, int iovcnt) {
    ssize_t n = real_readv(fd, iov, iovcnt);
    count_read(fd, n);
    return n;
}

ssize_t preadv(int fd, const struct iovec *iov, int iovcnt, off_t offset) {
    ssize_t n = real_preadv(fd, iov, iovcnt, offset);
    count_read(fd, n);
    return n;
}

// Sum of the Rss of the smaps entries inside [start, start + len), in bytes.
static uint64_t rss_of(uintptr_t start, size_t len) {
    int fd = open("/proc/self/smaps", O_RDONLY);
    if (fd < 0) return 0;
    static char buf[1 << 20];
    uint64_t total = 0;
    int inside = 0;
    size_t have = 0;
    for (;;) {
        ssize_t n = real_read(fd, buf + have, sizeof buf - have - 1);
        if (n <= 0) break;
        have += (size_t)n;
        buf[have] = 0;
        char *line = buf, *nl;
        while ((nl = strchr(line, '\n'))) {
            *nl = 0;
            unsigned long a, b;
            // A mapping's header starts with its lower-case hex range; its fields with a name.
            int header = (*line >= '0' && *line <= '9') || (*line >= 'a' && *line <= 'f');
            if (header && sscanf(line, "%lx-%lx", &a, &b) == 2) {
                inside = a >= start && b <= start + ((len + 4095) & ~(size_t)4095);
            } else if (inside && strncmp(line, "Rss:", 4) == 0) {
                total += strtoull(line + 4, NULL, 10) * 1024;
            }
            line = nl + 1;
        }
        have = strlen(line);
        memmove(buf, line, have);
    }
    close(fd);
    return total;
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
    void *p = real_mmap(addr, len, prot, flags, fd, off);
    if (p != MAP_FAILED && fd >= 0 && is_target(fd)) {
        mappings++;
        mapped_bytes += len;
        pthread_mutex_lock(&maps_lock);
        for (int i = 0; i < MAX_MAPS; i++)
            if (maps[i].len == 0) {
                maps[i].start = (uintptr_t)p;
                maps[i].len = len;
                break;
            }
        pthread_mutex_unlock(&maps_lock);
    }
    return p;
}
void *mmap64(void *, size_t, int, int, int, off_t) __attribute__((alias("mmap")));

int munmap(void *addr, size_t len) {
    pthread_mutex_lock(&maps_lock);
    for (int i = 0; i < MAX_MAPS; i++)
        if (maps[i].len && maps[i].start == (uintptr_t)addr) {
            mapped_rss += rss_of(maps[i].start, maps[i].len);
            maps[i].len = 0;
        }
    pthread_mutex_unlock(&maps_lock);
    return real_munmap(addr, len);
}

__attribute__((destructor)) static void report(void) {
    pthread_mutex_lock(&maps_lock);
    for (int i = 0; i < MAX_MAPS; i++)
        if (maps[i].len) {
            mapped_rss += rss_of(maps[i].start, maps[i].len);
            maps[i].len = 0;
        }
    pthread_mutex_unlock(&maps_lock);
    const char *out = getenv("READCOUNT_OUT");
    if (!out) return;
    FILE *f = fopen(out, "w");
    if (!f) return;
    fprintf(f, "read_bytes=%llu mapped_rss_bytes=%llu mappings=%llu mapped_bytes=%llu\n",
            (unsigned long long)read_bytes, (unsigned long long)mapped_rss,
            (unsigned long long)mappings, (unsigned long long)mapped_bytes);
    fclose(f);
}
