/* SPDX-License-Identifier: Apache-2.0 */
/*
 * coll_read: the one way collectors read kernel files, under an injected
 * root. Files in /proc and /sys report a size of 0 or 4096 whatever they
 * hold, so the file is read until EOF into a reusable buffer, bounded so
 * a hostile or broken file cannot grow the agent.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "agent/agent_int.h"

int coll_read_file(const char *root, const char *rel, buf_t *b, size_t max)
{
    char path[4096];
    buf_reset(b);
    int pl = snprintf(path, sizeof(path), "%s%s", root, rel);
    if (pl < 0 || (size_t)pl >= sizeof(path)) {
        return -ENAMETOOLONG;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return -errno;
    }
    int rc = 0;
    for (;;) {
        buf_reserve(b, 4096);
        size_t room = b->cap - b->len - 1;
        ssize_t n = read(fd, b->data + b->len, room);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            rc = -errno;
            break;
        }
        if (n == 0) {
            break;
        }
        b->len += (size_t)n;
        if (b->len > max) {
            rc = -EFBIG;
            break;
        }
    }
    close(fd);
    if (b->cap > 0) {
        b->data[b->len] = 0;
    }
    return rc;
}
