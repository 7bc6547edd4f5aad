#include <lmdb.h>

#if defined(__linux__)
#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

/*
 * Asks the kernel to start reading, all at once, the pages under `count` byte ranges of the
 * memory map (range i at starts[i], lengths[i] bytes long, or `bytes` when lengths is NULL): one
 * vectored MADV_WILLNEED (process_madvise, Linux 5.10+) per up to 256 ranges. A page already in memory costs a lookup;
 * a page on disk is read in the background, so the reads of scattered rows overlap instead of
 * faulting one after another. Returns 0, or -1 when the kernel refuses (older kernels,
 * seccomp): the caller then simply reads, as without it.
 */
static inline int quiver_will_need(const void *const *starts, const size_t *lengths, size_t count, size_t bytes) {
#if defined(SYS_process_madvise) && defined(SYS_pidfd_open)
    static int pidfd = -1;
    static pid_t owner = 0;
    const pid_t pid = getpid();
    int fd = __atomic_load_n(&pidfd, __ATOMIC_ACQUIRE);
    if (fd < 0 || __atomic_load_n(&owner, __ATOMIC_ACQUIRE) != pid) {
        /* First use, or a forked child (the parent's pidfd names the parent). Of two threads
         * that open one at once, the second closes its own and takes the first's. */
        const int fresh = (int)syscall(SYS_pidfd_open, pid, 0);
        if (fresh < 0) return -1;
        if (__atomic_compare_exchange_n(&pidfd, &fd, fresh, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
            fd = fresh;
        } else {
            close(fresh); /* fd now holds the winner's */
        }
        __atomic_store_n(&owner, pid, __ATOMIC_RELEASE);
    }
    const uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    struct iovec ranges[256];
    size_t done = 0;
    while (done < count) {
        size_t n = 0;
        for (; n < 256 && done + n < count; n++) {
            const size_t length = lengths != NULL ? lengths[done + n] : bytes;
            const uintptr_t start = (uintptr_t)starts[done + n] & ~(page - 1);
            const uintptr_t end = ((uintptr_t)starts[done + n] + length + page - 1) & ~(page - 1);
            ranges[n].iov_base = (void *)start;
            ranges[n].iov_len = end - start;
        }
        if (syscall(SYS_process_madvise, fd, ranges, n, MADV_WILLNEED, 0) < 0) return -1;
        done += n;
    }
    return 0;
#else
    (void)starts;
    (void)lengths;
    (void)count;
    (void)bytes;
    errno = ENOSYS;
    return -1;
#endif
}

/* Major page faults (pages read from disk) of the calling thread so far, or -1. */
static inline long quiver_thread_major_faults(void) {
    struct rusage usage;
    if (getrusage(1 /* RUSAGE_THREAD, a GNU name */, &usage) != 0) return -1;
    return usage.ru_majflt;
}
#endif

#if defined(__GLIBC__)
#include <malloc.h>
#endif

/*
 * glibc only: allocations of at least mmap_threshold bytes are mapped on their own (smaller ones
 * come from the heap) and a free heap top is handed back to the system past trim_threshold
 * bytes; glibc then stops adjusting both by itself. For LMDB's dirty pages, which a write
 * transaction mallocs and its commit frees (Environment.keepFreedWriteMemory). Returns 1 when
 * glibc took both settings, else 0 (always elsewhere, where it does nothing).
 */
static inline int quiver_keep_freed_memory(int mmap_threshold, int trim_threshold) {
#if defined(__GLIBC__)
    return mallopt(M_MMAP_THRESHOLD, mmap_threshold) == 1 && mallopt(M_TRIM_THRESHOLD, trim_threshold) == 1;
#else
    (void)mmap_threshold;
    (void)trim_threshold;
    return 0;
#endif
}
