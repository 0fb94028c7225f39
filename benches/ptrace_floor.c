/*
 * ptrace_floor: the least a ptrace syscall tracer can do, as a floor for benchmarks.
 *
 * Seizes PID (every thread) with TRACESYSGOOD|TRACEFORK|TRACEVFORK|TRACECLONE, follows new
 * children, resumes every stop with PTRACE_SYSCALL (re-injecting signals), prints nothing.
 * On SIGINT/SIGTERM it interrupts and detaches every tracee and exits 0. Any real tracer
 * (strace, pgstrace) does this plus decoding and output, so it can only be slower.
 *
 *   cc -O2 -o ptrace_floor benches/ptrace_floor.c && ./ptrace_floor PID
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef PTRACE_EVENT_STOP
#define PTRACE_EVENT_STOP 128
#endif

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig) {
	(void)sig;
	stop_requested = 1;
}

/* Known tracees: a small unsorted set; a traced pgbench backend tree is a handful. */
static pid_t *tracees;
static size_t ntracees, captracees;

static int known(pid_t pid) {
	for (size_t i = 0; i < ntracees; i++)
		if (tracees[i] == pid)
			return 1;
	return 0;
}

static void add(pid_t pid) {
	if (known(pid))
		return;
	if (ntracees == captracees) {
		size_t cap = captracees ? captracees * 2 : 64;
		pid_t *n = realloc(tracees, cap * sizeof *n);
		if (!n) {
			perror("realloc");
			exit(1);
		}
		tracees = n;
		captracees = cap;
	}
	tracees[ntracees++] = pid;
}

static void forget(pid_t pid) {
	for (size_t i = 0; i < ntracees; i++)
		if (tracees[i] == pid) {
			tracees[i] = tracees[--ntracees];
			return;
		}
}

static int is_stop_signal(int sig) {
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

static int seize_all(pid_t pid) {
	const long opts = PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK |
	                  PTRACE_O_TRACECLONE;
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	if (!d) {
		perror(path);
		return -1;
	}
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		pid_t tid = (pid_t)atoi(e->d_name);
		if (tid <= 0)
			continue;
		if (ptrace(PTRACE_SEIZE, tid, 0, (void *)opts) < 0 ||
		    ptrace(PTRACE_INTERRUPT, tid, 0, 0) < 0) {
			fprintf(stderr, "ptrace_floor: seize %d: %s\n", (int)tid, strerror(errno));
			continue;
		}
		add(tid);
		n++;
	}
	closedir(d);
	return n > 0 ? 0 : -1;
}

/* Interrupt everybody, then detach each one at its next stop, passing on a pending signal. */
static void detach_all(void) {
	for (size_t i = 0; i < ntracees; i++)
		ptrace(PTRACE_INTERRUPT, tracees[i], 0, 0);
	while (ntracees > 0) {
		int status;
		pid_t pid = waitpid(-1, &status, __WALL);
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			break; /* ECHILD: nobody left */
		}
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			forget(pid);
			continue;
		}
		if (!WIFSTOPPED(status))
			continue;
		int sig = WSTOPSIG(status);
		int event = status >> 16;
		if (event == PTRACE_EVENT_FORK || event == PTRACE_EVENT_VFORK ||
		    event == PTRACE_EVENT_CLONE) {
			unsigned long child;
			if (ptrace(PTRACE_GETEVENTMSG, pid, 0, &child) == 0)
				add((pid_t)child); /* it will report a stop; detach it then */
		}
		int inject = (event == 0 && sig != (SIGTRAP | 0x80)) ? sig : 0;
		ptrace(PTRACE_DETACH, pid, 0, (void *)(long)inject);
		forget(pid);
	}
}

int main(int argc, char **argv) {
	if (argc != 2) {
		fprintf(stderr, "usage: %s PID\n", argv[0]);
		return 2;
	}
	pid_t target = (pid_t)atoi(argv[1]);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal; /* no SA_RESTART: waitpid must return EINTR */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (seize_all(target) < 0)
		return 1;

	while (!stop_requested) {
		int status;
		pid_t pid = waitpid(-1, &status, __WALL);
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ECHILD)
				return 0; /* every tracee is gone */
			perror("waitpid");
			return 1;
		}
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			forget(pid);
			continue;
		}
		if (!WIFSTOPPED(status))
			continue;
		int sig = WSTOPSIG(status);
		int event = status >> 16;
		if (!known(pid)) {
			/* A new child's first stop (EVENT_STOP with SIGSTOP, looks like a group-stop;
			 * it may even come before its parent's fork event): just start it. */
			add(pid);
			ptrace(PTRACE_SYSCALL, pid, 0, 0);
		} else if (sig == (SIGTRAP | 0x80) || (event != 0 && event != PTRACE_EVENT_STOP)) {
			ptrace(PTRACE_SYSCALL, pid, 0, 0);
		} else if (event == PTRACE_EVENT_STOP) {
			/* group-stop: stay stopped but keep reporting; else an interrupt/new child */
			if (is_stop_signal(sig))
				ptrace(PTRACE_LISTEN, pid, 0, 0);
			else
				ptrace(PTRACE_SYSCALL, pid, 0, 0);
		} else {
			/* signal-delivery-stop: the backend needs its SIGUSR1/SIGALRM/SIGINT */
			ptrace(PTRACE_SYSCALL, pid, 0, (void *)(long)sig);
		}
	}
	detach_all();
	return 0;
}
