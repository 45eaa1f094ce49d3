/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The one logger of retisc (doc/cli.md §2). Library code never prints: it calls
 * retisc_log(). Lines go to stderr by default; the sink can be replaced
 * (tests capture logs with retisc_log__set_sink()).
 */
#ifndef __RETISC_LOG_H
#define __RETISC_LOG_H

#include <stdarg.h>
#include <stdbool.h>

#include <retisc/plugin.h>

void retisc_log(enum retisc_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void retisc_vlog(enum retisc_log_level level, const char *fmt, va_list ap);

/* Messages above level are discarded. Default RETISC_LOG_INFO. */
void retisc_log__set_level(enum retisc_log_level level);
enum retisc_log_level retisc_log__level(void);
/* Parse "error|warn|info|debug|trace": 0 or -EINVAL. */
int retisc_log__parse_level(const char *s, enum retisc_log_level *out);

/* Replace the sink (NULL restores stderr). `line` has no trailing newline. */
typedef void (*retisc_log_sink_fn)(enum retisc_log_level level, const char *line, void *priv);
void retisc_log__set_sink(retisc_log_sink_fn fn, void *priv);

#define pr_err(...) retisc_log(RETISC_LOG_ERROR, __VA_ARGS__)
#define pr_warn(...) retisc_log(RETISC_LOG_WARN, __VA_ARGS__)
#define pr_info(...) retisc_log(RETISC_LOG_INFO, __VA_ARGS__)
#define pr_debug(...) retisc_log(RETISC_LOG_DEBUG, __VA_ARGS__)

#endif
