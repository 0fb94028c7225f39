/* Calls getppid() at RATE calls per second (0: as fast as it can) for SECONDS, paced in
 * 1 ms slices, and prints how many calls it made and the rate reached.
 * Usage: syscall_rate RATE SECONDS */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    double rate = argc > 1 ? atof(argv[1]) : 0, secs = argc > 2 ? atof(argv[2]) : 2;
    double start = now(), end = start + secs;
    long calls = 0;
    for (double t = start; t < end; t = now()) {
        long due = rate > 0 ? (long)((t - start) * rate) + 1 : calls + 1000;
        while (calls < due) {
            syscall(SYS_getppid);
            calls++;
        }
        if (rate > 0) {
            struct timespec ts = {0, 200 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    printf("%ld %.0f\n", calls, calls / (now() - start));
    return 0;
}
