// SPDX-License-Identifier: GPL-2.0-only
/*
 * USDT target of the live tests (tests/live/usdt.sh): hits the note
 * retisc_test:tick COUNT times (argument 1, default 10; 0 loops until
 * killed), every 20 ms, with arguments (i, i * 3, "tick" pointer), so that
 * `retisc collect -p usdt:...` has a process to trace.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <sys/sdt.h>

int main(int argc, char **argv)
{
	long count = argc > 1 ? strtol(argv[1], NULL, 10) : 10;
	const struct timespec pause = {.tv_nsec = 20 * 1000 * 1000};
	static const char word[] = "tick";

	/* Line-buffered: the test waits for this line before collecting. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready\n");
	for (uint64_t i = 0; !count || i < (uint64_t)count; i++) {
		uint64_t triple = i * 3;

		DTRACE_PROBE3(retisc_test, tick, i, triple, word);
		nanosleep(&pause, NULL);
	}
	return 0;
}
