/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fileio: the small durable-write helpers both stores and the agent's
 * spool share: write everything (retrying short writes and EINTR), read
 * everything at an offset, and fsync a directory so a rename in it
 * survives a crash. Errors are -errno; nothing is allocated.
 */
#ifndef PHAROS_COMMON_FILEIO_H
#define PHAROS_COMMON_FILEIO_H

#include <stddef.h>
#include <stdint.h>

/* Write p[0..n) to fd. 0 or -errno. */
int fileio_write_all(int fd, const void *p, size_t n);
/* Read n bytes at off into p. 0, -errno, or -ENODATA when the file ends
 * first (shorter than its caller's index says). */
int fileio_pread_all(int fd, void *p, size_t n, uint64_t off);
/* fsync the directory dir (after a rename or create in it). 0 or -errno. */
int fileio_fsync_dir(const char *dir);
/* Make a fully written temporary file the file final, crash-safely:
 * fdatasync(fd), rename tmp to final, fsync dir. fd stays open (the
 * caller closes it). 0 or the first -errno (final may then be either). */
int fileio_publish(int fd, const char *tmp, const char *final, const char *dir);

#endif
