/* The benchmark's launcher: runs one command and writes what it cost.
 *
 *     launch STATS_FILE COMMAND [ARG...]
 *
 * Forks, executes COMMAND in the child, waits for it, and writes one line to
 * STATS_FILE:
 *
 *     <exit code> <wall seconds> <peak RSS, KiB> <user+sys CPU seconds>
 *
 * The exit code is the child's, or -N if signal N killed it.  The wall time
 * runs from just before the fork to the child's exit (CLOCK_MONOTONIC).
 *
 * Why a C program: Linux starts a child's peak RSS (ru_maxrss) at the size of
 * the process that forked it, and keeps it across exec.  Forked from the
 * benchmark's Python (~23 MB), every program measured at least that much, so
 * a small program's ratio was 1.00x whatever the tool added.  Forked from
 * this launcher (~1 MB), the child's peak RSS is its own.
 *
 * Exits 0 once STATS_FILE is written, 127 if the command could not run.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double seconds(struct timeval tv) { return tv.tv_sec + tv.tv_usec / 1e6; }

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: launch STATS_FILE COMMAND [ARG...]\n");
        return 127;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid = fork();
    if (pid < 0) {
        perror("launch: fork");
        return 127;
    }
    if (pid == 0) {
        execvp(argv[2], argv + 2);
        fprintf(stderr, "launch: %s: %s\n", argv[2], strerror(errno));
        _exit(127);
    }
    int status;
    struct rusage ru;
    while (wait4(pid, &status, 0, &ru) < 0) {
        if (errno != EINTR) {
            perror("launch: wait4");
            return 127;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double wall = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
    FILE *out = fopen(argv[1], "w");
    if (out == NULL) {
        fprintf(stderr, "launch: %s: %s\n", argv[1], strerror(errno));
        return 127;
    }
    fprintf(out, "%d %.9f %ld %.6f\n", code, wall, ru.ru_maxrss, seconds(ru.ru_utime) + seconds(ru.ru_stime));
    return fclose(out) == 0 ? 0 : 127;
}
