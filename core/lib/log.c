// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static enum retisc_log_level log_level = RETISC_LOG_INFO;
static retisc_log_sink_fn log_sink;
static void *log_sink_priv;
/* Lines from the bus thread and the main thread must not interleave. */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_tags[] = {"ERROR", "WARN ", "INFO ", "DEBUG", "TRACE"};
static const char *const level_names[] = {"error", "warn", "info", "debug", "trace"};

void retisc_log__set_level(enum retisc_log_level level)
{
	log_level = level;
}

enum retisc_log_level retisc_log__level(void)
{
	return log_level;
}

int retisc_log__parse_level(const char *s, enum retisc_log_level *out)
{
	for (unsigned int i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (!strcasecmp(s, level_names[i])) {
			*out = (enum retisc_log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

void retisc_log__set_sink(retisc_log_sink_fn fn, void *priv)
{
	pthread_mutex_lock(&log_lock);
	log_sink = fn;
	log_sink_priv = priv;
	pthread_mutex_unlock(&log_lock);
}

void retisc_vlog(enum retisc_log_level level, const char *fmt, va_list ap)
{
	char msg[2048], prefix[64] = "";
	bool verbose = log_level >= RETISC_LOG_DEBUG;
	size_t n = 0;

	if (level > log_level)
		return;
	if (verbose) {
		struct timeval tv;
		struct tm tm;

		gettimeofday(&tv, NULL);
		gmtime_r(&tv.tv_sec, &tm);
		n = strftime(prefix, sizeof(prefix), "%H:%M:%S", &tm);
		n += snprintf(prefix + n, sizeof(prefix) - n, ".%06ld ", (long)tv.tv_usec);
	}
	if (verbose || level <= RETISC_LOG_WARN)
		snprintf(prefix + n, sizeof(prefix) - n, "%s ", level_tags[level]);
	vsnprintf(msg, sizeof(msg), fmt, ap);

	pthread_mutex_lock(&log_lock);
	if (log_sink) {
		char line[2200];

		snprintf(line, sizeof(line), "%s%s", prefix, msg);
		log_sink(level, line, log_sink_priv);
	} else {
		fprintf(stderr, "%s%s\n", prefix, msg);
	}
	pthread_mutex_unlock(&log_lock);
}

void retisc_log(enum retisc_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	retisc_vlog(level, fmt, ap);
	va_end(ap);
}
