/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_driver: main() for fuzz targets in builds without libFuzzer. Every
 * argument is a file or a directory of files (not recursive); each file is
 * read whole into an exact-size heap copy (so ASan sees any overread) and
 * given to LLVMFuzzerTestOneInput once, in name order. This replays the
 * seed corpus and saved crashes as a ctest regression test in ordinary
 * builds. Exit 0 when every input ran, 1 when a file could not be read;
 * a bug in the target aborts under the sanitizers.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Run one file; 0, or -1 when it cannot be read. */
static int run_file(const char *path, size_t size)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return -1;
    }
    uint8_t *data = malloc(size ? size : 1);
    size_t got = data ? fread(data, 1, size, f) : 0;
    fclose(f);
    if (!data || got != size) {
        fprintf(stderr, "%s: read error\n", path);
        free(data);
        return -1;
    }
    LLVMFuzzerTestOneInput(data, size);
    free(data);
    return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

int main(int argc, char **argv)
{
    int rc = 0;
    size_t ran = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            perror(argv[i]);
            rc = 1;
            continue;
        }
        if (!S_ISDIR(st.st_mode)) {
            rc |= run_file(argv[i], (size_t)st.st_size) != 0;
            ran++;
            continue;
        }
        struct dirent **ents = NULL;
        int n = scandir(argv[i], &ents, NULL, by_name);
        if (n < 0) {
            perror(argv[i]);
            rc = 1;
            continue;
        }
        for (int k = 0; k < n; k++) {
            char path[4096];
            snprintf(path, sizeof(path), "%s/%s", argv[i], ents[k]->d_name);
            if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
                rc |= run_file(path, (size_t)st.st_size) != 0;
                ran++;
            }
            free(ents[k]);
        }
        free(ents);
    }
    fprintf(stderr, "fuzz_driver: %zu inputs, %s\n", ran, rc ? "read errors" : "ok");
    return rc;
}
