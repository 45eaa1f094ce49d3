// SPDX-License-Identifier: GPL-2.0-only
/*
 * Event file reader (doc/files.md §3, §4, §6, §7).
 *
 * Every line is parsed exactly once, straight from the reader's buffer.
 * Line 1 is parsed by __open() to detect the file kind and version, and the
 * resulting value is handed out by the first __next() instead of being read
 * again. Current-format (V2) lines are only checked, never rewritten; older
 * formats are fixed up in place (keys are moved, not copied).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "log.h"
#include "reader.h"
#include "util.h"

#ifndef __printf
#define __printf(a, b) __attribute__((format(printf, a, b)))
#endif

#define READER_DEFAULT_INPUT "retis.data"
#define READER_STDIN_NAME "<stdin>"
#define READER_FIXED_PREFIX "Event was fixed up but parsing still failed: "

struct retisc_reader {
	FILE *f;
	char *path; /* file being read */
	unsigned long line;
	/* Split-set following: next file is "<base>.<next_id>"; NULL when the
	 * set is not followed or its end was reached. */
	char *base;
	unsigned long long next_id;
	bool done; /* no more input: end of the last file or I/O error */
	enum retisc_file_kind kind;
	enum retisc_compat compat;
	char *version;
	struct retisc_json *first; /* line 1, parsed by __open(), not yet returned */
	/* Bytes read from f: [start, end) not consumed yet, [start, scan)
	 * known to hold no newline. */
	char *buf;
	size_t cap, start, scan, end;
};

/*
 * The longest line read (doc/files.md §6): an event is a few KiB and a
 * sorted series rarely more than a few MiB; past this a line is reported
 * and skipped without being held in memory.
 */
#define READER_MAX_LINE (64u << 20)
#define READER_CHUNK (256u << 10)

/*
 * The next line of r->f (its newline included, when it has one) in *line,
 * valid until the next call. 1: a line; 0: end of file; -E2BIG: a line of
 * more than READER_MAX_LINE bytes, skipped; -errno: a read error.
 */
static int line_get(struct retisc_reader *r, char **line, size_t *len)
{
	bool skipping = false;

	for (;;) {
		char *nl =
			r->end > r->scan ? memchr(r->buf + r->scan, '\n', r->end - r->scan) : NULL;
		size_t n;

		if (nl) {
			*line = r->buf + r->start;
			*len = (size_t)(nl + 1 - *line);
			r->start = r->scan = (size_t)(nl + 1 - r->buf);
			if (skipping || *len > READER_MAX_LINE + 1)
				return -E2BIG;
			return 1;
		}
		r->scan = r->end;
		if (r->end - r->start > READER_MAX_LINE) {
			/* Too long: forget it, keep looking for its end. */
			r->start = r->scan = r->end;
			skipping = true;
		}
		if (r->start) {
			memmove(r->buf, r->buf + r->start, r->end - r->start);
			r->end -= r->start;
			r->scan -= r->start;
			r->start = 0;
		}
		if (r->cap - r->end < READER_CHUNK / 2) {
			/* Never more than one line's limit and a chunk. */
			size_t cap = r->cap ? r->cap * 2 : READER_CHUNK;

			if (cap > READER_MAX_LINE + READER_CHUNK)
				cap = READER_MAX_LINE + READER_CHUNK;
			if (cap <= r->cap) {
				/* Full of one line's start: it is too long. */
				r->start = r->scan = r->end = 0;
				skipping = true;
				cap = r->cap;
			}
			char *b = cap == r->cap ? r->buf : realloc(r->buf, cap);

			if (!b)
				return -ENOMEM;
			r->buf = b;
			r->cap = cap;
		}
		/*
		 * read(), not fread(): a pipe or a FIFO gives its lines as they
		 * come, and a signal (EINTR) reaches the caller, who decides.
		 */
		ssize_t got = read(fileno(r->f), r->buf + r->end, r->cap - r->end);

		if (got < 0)
			return -errno;
		n = (size_t)got;
		if (!n) {
			if (skipping)
				return -E2BIG;
			if (r->end == r->start)
				return 0;
			/* A last line without its newline; NUL-terminated like the
			 * others (line_trim() turns their newline into one). */
			*line = r->buf + r->start;
			*len = r->end - r->start;
			r->buf[r->end] = '\0';
			r->start = r->scan = r->end;
			return 1;
		}
		r->end += n;
	}
}

static __printf(3, 4) void set_err(char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errsz)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
}

/* "<path>:<line>: <what>", the form of every per-line error. */
static __printf(4, 5) void line_err(const struct retisc_reader *r, char *err, size_t errsz,
				    const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!err || !errsz)
		return;
	n = snprintf(err, errsz, "%s:%lu: ", r->path, r->line);
	if (n < 0 || (size_t)n >= errsz)
		return;
	va_start(ap, fmt);
	vsnprintf(err + n, errsz - n, fmt, ap);
	va_end(ap);
}

/* ---------------------------------------------------------------------------
 * Version (doc/files.md §3 steps 4 and 5)
 */

static const char *const semver_pos[] = {
	"major version number",
	"minor version number",
	"patch version number",
};

/* A character quoted the way the semver parser Retis uses prints it, so
 * that both programs word a bad version alike. */
static void semver_quote(char *out, size_t outsz, const char *p, const char *end)
{
	unsigned char c = *p;
	size_t n = 1;

	switch (c) {
	case '\t':
		snprintf(out, outsz, "'\\t'");
		return;
	case '\n':
		snprintf(out, outsz, "'\\n'");
		return;
	case '\r':
		snprintf(out, outsz, "'\\r'");
		return;
	case '\'':
	case '\\':
		snprintf(out, outsz, "'\\%c'", c);
		return;
	}
	if (c < 0x20 || c == 0x7f) {
		snprintf(out, outsz, "'\\u{%x}'", c);
		return;
	}
	if (c >= 0xf0)
		n = 4;
	else if (c >= 0xe0)
		n = 3;
	else if (c >= 0xc0)
		n = 2;
	if (n > (size_t)(end - p))
		n = end - p;
	snprintf(out, outsz, "'%.*s'", (int)n, p);
}

static int semver_parse(const char *s, size_t len, unsigned long long num[3], char *err,
			size_t errsz)
{
	const char *p = s, *end = s + len;
	char q[16];

	for (int i = 0; i < 3; i++) {
		const char *digits;

		if (i > 0) {
			if (p == end) {
				set_err(err, errsz, "unexpected end of input while parsing %s",
					semver_pos[i - 1]);
				return -EINVAL;
			}
			if (*p != '.') {
				semver_quote(q, sizeof(q), p, end);
				set_err(err, errsz, "unexpected character %s after %s", q,
					semver_pos[i - 1]);
				return -EINVAL;
			}
			p++;
		}
		/* Digits by hand: strtoull() would accept spaces and signs. */
		digits = p;
		num[i] = 0;
		while (p < end && *p >= '0' && *p <= '9') {
			unsigned int d = *p - '0';

			if (num[i] > (UINT64_MAX - d) / 10) {
				set_err(err, errsz, "value of %s exceeds u64::MAX", semver_pos[i]);
				return -EINVAL;
			}
			num[i] = num[i] * 10 + d;
			p++;
		}
		if (p == digits) {
			if (p == end) {
				set_err(err, errsz, "unexpected end of input while parsing %s",
					semver_pos[i]);
			} else {
				semver_quote(q, sizeof(q), p, end);
				set_err(err, errsz, "unexpected character %s while parsing %s", q,
					semver_pos[i]);
			}
			return -EINVAL;
		}
		if (*digits == '0' && p - digits > 1) {
			set_err(err, errsz, "invalid leading zero in %s", semver_pos[i]);
			return -EINVAL;
		}
	}
	if (p != end) {
		semver_quote(q, sizeof(q), p, end);
		set_err(err, errsz, "unexpected character %s after %s", q, semver_pos[2]);
		return -EINVAL;
	}
	return 0;
}

int retisc_compat__level(const char *version, enum retisc_compat *out, char *err, size_t errsz)
{
	unsigned long long num[3];
	const char *s = version;
	size_t len;
	int ret;

	if (*s == 'v')
		s++;
	len = strcspn(s, "-+");
	if (!len) {
		set_err(err, errsz, "Invalid Retis version string (%s)", version);
		return -EINVAL;
	}
	ret = semver_parse(s, len, num, err, errsz);
	if (ret)
		return ret;

	if (num[0] > 1 || (num[0] == 1 && num[1] >= 7)) {
		*out = RETISC_COMPAT_V2;
	} else if (num[0] == 1 && num[1] == 6) {
		*out = RETISC_COMPAT_V1;
	} else if (num[0] == 1 && num[1] == 5) {
		*out = RETISC_COMPAT_V0;
	} else {
		set_err(err, errsz, "Unsupported Retis version (%llu.%llu.%llu)", num[0], num[1],
			num[2]);
		return -ENOTSUP;
	}
	return 0;
}

/* ---------------------------------------------------------------------------
 * Fix-ups (doc/files.md §4)
 */

enum fixup_value {
	FIXUP_ZERO,
	FIXUP_OBJECT,
	FIXUP_UNKNOWN,
};

/* Add `to` (from == NULL) or Move `from` -> `to`. */
struct fixup {
	const char *to;
	const char *from;
	enum fixup_value value;
};

/* Applied to files older than 1.6. */
static const struct fixup fixups_v1[] = {
	{.to = "ct/ct_status", .value = FIXUP_ZERO},
	{.to = "skb/packet/raw", .from = "skb/packet/packet"},
	{.to = "skb/ns/inum", .from = "skb/ns/netns"},
	{.to = "packet", .from = "skb/packet"},
	{.to = "dev", .from = "skb/dev"},
	{.to = "netns", .from = "skb/ns"},
	{.to = "packet/data", .from = "packet/raw"},
};

/* Applied to files older than 1.7. */
static const struct fixup fixups_v2[] = {
	{.to = "startup/machine", .value = FIXUP_OBJECT},
	{.to = "startup/machine/kernel_release", .value = FIXUP_UNKNOWN},
	{.to = "startup/machine/kernel_version", .value = FIXUP_UNKNOWN},
	{.to = "startup/machine/hardware_name", .value = FIXUP_UNKNOWN},
	{.to = "startup/cmdline", .value = FIXUP_UNKNOWN},
	{.to = "ct/proto_state", .from = "ct/tcp_state"},
	{.to = "ct/parent/proto_state", .from = "ct/parent/tcp_state"},
};

/*
 * The object holding the last key of path, or NULL when an ancestor is
 * missing or is not an object (the operation then does nothing). *last
 * points at the last key inside path.
 */
static struct retisc_json *path_parent(struct retisc_json *root, const char *path,
				       const char **last)
{
	struct retisc_json *cur = root;
	const char *seg = path, *slash;
	char key[32];

	while ((slash = strchr(seg, '/'))) {
		size_t n = slash - seg;

		if (n >= sizeof(key) || !retisc_json__is_object(cur))
			return NULL;
		memcpy(key, seg, n);
		key[n] = '\0';
		cur = retisc_json__obj_get(cur, key);
		seg = slash + 1;
	}
	*last = seg;
	return retisc_json__is_object(cur) ? cur : NULL;
}

static struct retisc_json *fixup_new_value(enum fixup_value value)
{
	switch (value) {
	case FIXUP_ZERO:
		return retisc_json__new_u64(0);
	case FIXUP_OBJECT:
		return retisc_json__new_object();
	case FIXUP_UNKNOWN:
		return retisc_json__new_str("unknown");
	}
	errno = EINVAL;
	return NULL;
}

static int fixup_apply(struct retisc_json *event, const struct fixup *fx, char *err, size_t errsz)
{
	struct retisc_json *to_parent, *from_parent = NULL, *v;
	const char *to_key, *from_key = NULL;
	int ret;

	if (fx->from) {
		from_parent = path_parent(event, fx->from, &from_key);
		if (!from_parent || !retisc_json__obj_get(from_parent, from_key))
			return 0;
	}
	to_parent = path_parent(event, fx->to, &to_key);
	if (!to_parent)
		return 0;
	if (retisc_json__obj_get(to_parent, to_key)) {
		set_err(err, errsz, "Destination field %s already exists", fx->to);
		return -EEXIST;
	}

	if (fx->from)
		v = retisc_json__obj_take(from_parent, from_key);
	else
		v = fixup_new_value(fx->value);
	if (!v) {
		ret = -(errno ? errno : ENOMEM);
		goto err;
	}
	ret = retisc_json__obj_set(to_parent, to_key, v);
	if (ret)
		goto err;
	return 0;
err:
	set_err(err, errsz, "%s", strerror(-ret));
	return ret;
}

static int fixup_list(struct retisc_json *event, const struct fixup *list, size_t n, char *err,
		      size_t errsz)
{
	for (size_t i = 0; i < n; i++) {
		int ret = fixup_apply(event, &list[i], err, errsz);

		if (ret)
			return ret;
	}
	return 0;
}

int retisc_compat__fixup(struct retisc_json *event, enum retisc_compat level, char *err,
			 size_t errsz)
{
	int ret;

	if (level < RETISC_COMPAT_V1) {
		ret = fixup_list(event, fixups_v1, ARRAY_SIZE(fixups_v1), err, errsz);
		if (ret)
			return ret;
	}
	if (level < RETISC_COMPAT_V2)
		return fixup_list(event, fixups_v2, ARRAY_SIZE(fixups_v2), err, errsz);
	return 0;
}

/* ---------------------------------------------------------------------------
 * Opening and following (doc/files.md §3, §6)
 */

static bool is_regular(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISREG(st.st_mode);
}

/*
 * doc/files.md §6 step 1: follow the set only when the extension of the path is
 * the decimal split id written in the file itself.
 */
static int follow_setup(struct retisc_reader *r, const struct retisc_json *startup)
{
	const struct retisc_json *split = retisc_json__obj_get(startup, "split_file");
	const char *name, *dot;
	char id_str[24];
	uint64_t id;

	if (retisc_json__type(split) == RETISC_JSON_NULL)
		return 0;
	name = strrchr(r->path, '/');
	name = name ? name + 1 : r->path;
	dot = strrchr(name, '.');
	if (!retisc_json__obj_get_u64(split, "id", &id) || !dot) {
		pr_warn("File extension does not match the rotation policy");
		return 0;
	}
	snprintf(id_str, sizeof(id_str), "%llu", (unsigned long long)id);
	if (strcmp(dot + 1, id_str)) {
		pr_warn("File extension does not match the rotation policy");
		return 0;
	}
	r->base = strndup(r->path, dot - r->path);
	if (!r->base)
		return -ENOMEM;
	r->next_id = (unsigned long long)id + 1;
	return 0;
}

/* Strip the line terminator; false for a line holding only whitespace. */
static bool line_trim(char *buf, size_t *len)
{
	if (*len && buf[*len - 1] == '\n')
		buf[--*len] = '\0';
	for (size_t i = 0; i < *len; i++) {
		if (buf[i] != ' ' && buf[i] != '\t' && buf[i] != '\r')
			return true;
	}
	return false;
}

/* Read and check line 1 (doc/files.md §3 steps 1 to 5). */
static int reader_start(struct retisc_reader *r, bool follow, char *err, size_t errsz)
{
	const struct retisc_json *ev, *startup;
	char msg[256], *line;
	const char *version;
	size_t len;
	int ret;

	errno = 0;
	ret = line_get(r, &line, &len);
	if (ret <= 0) {
		if (ret == -E2BIG) {
			set_err(err, errsz, "%s:1: line longer than %u bytes", r->path,
				READER_MAX_LINE);
			return -EINVAL;
		}
		if (ret < 0) {
			set_err(err, errsz, "%s: %s", r->path, strerror(-ret));
			return ret;
		}
		set_err(err, errsz, "%s: File is empty", r->path);
		return -EINVAL;
	}
	r->line = 1;
	line_trim(line, &len);

	r->first = retisc_json__parse(line, len, msg, sizeof(msg));
	if (!r->first) {
		ret = errno == ENOMEM ? -ENOMEM : -EINVAL;
		set_err(err, errsz, "%s: Failed to parse event file: %s", r->path, msg);
		return ret;
	}

	if (retisc_json__is_object(r->first)) {
		r->kind = RETISC_FILE_EVENTS;
		ev = r->first;
	} else if (retisc_json__is_array(r->first)) {
		size_t cnt = retisc_json__arr_len(r->first);

		r->kind = RETISC_FILE_SERIES;
		ev = cnt ? retisc_json__arr_get(r->first, cnt - 1) : NULL;
		if (!retisc_json__is_object(ev)) {
			set_err(err, errsz, "%s: Invalid or missing events", r->path);
			return -EINVAL;
		}
	} else {
		set_err(err, errsz, "%s: File contains invalid json data", r->path);
		return -EINVAL;
	}

	startup = retisc_json__obj_get(ev, "startup");
	version = retisc_json__obj_get_str(startup, "retis_version");
	if (!retisc_json__is_object(startup) || !version) {
		set_err(err, errsz, "%s: Cannot find version in startup event", r->path);
		return -EINVAL;
	}
	ret = retisc_compat__level(version, &r->compat, msg, sizeof(msg));
	if (ret) {
		set_err(err, errsz, "%s: %s", r->path, msg);
		return ret;
	}
	r->version = strdup(version);
	if (!r->version)
		goto nomem;

	/* Series files are never split: a set is only followed from an
	 * events file. */
	if (follow && r->kind == RETISC_FILE_EVENTS) {
		ret = follow_setup(r, startup);
		if (ret)
			goto nomem;
	}
	return 0;
nomem:
	set_err(err, errsz, "%s: %s", r->path, strerror(ENOMEM));
	return -ENOMEM;
}

struct retisc_reader *retisc_reader__open(const char *input, char *err, size_t errsz)
{
	struct retisc_reader *r;
	bool follow = false;
	int ret;

	r = calloc(1, sizeof(*r));
	if (!r) {
		ret = -ENOMEM;
		set_err(err, errsz, "%s", strerror(ENOMEM));
		goto err;
	}

	if (!input) {
		r->path = strdup(is_regular(READER_DEFAULT_INPUT) ? READER_DEFAULT_INPUT
								  : READER_DEFAULT_INPUT ".0");
		follow = true;
	} else if (!strcmp(input, "-")) {
		r->path = strdup(READER_STDIN_NAME);
	} else {
		size_t len = strlen(input);

		/* A bare ".." is a directory name, not an empty PATH + "..". */
		follow = len > 2 && !strcmp(input + len - 2, "..");
		r->path = follow ? strndup(input, len - 2) : strdup(input);
	}
	if (!r->path) {
		ret = -ENOMEM;
		set_err(err, errsz, "%s", strerror(ENOMEM));
		goto err;
	}

	if (input && !strcmp(input, "-")) {
		r->f = stdin;
	} else {
		r->f = fopen(r->path, "r");
		if (!r->f) {
			ret = -errno;
			set_err(err, errsz, "%s: %s", r->path, strerror(errno));
			goto err;
		}
	}

	ret = reader_start(r, follow, err, errsz);
	if (ret)
		goto err;
	return r;
err:
	retisc_reader__free(r);
	errno = -ret;
	return NULL;
}

void retisc_reader__free(struct retisc_reader *r)
{
	if (!r)
		return;
	/* stdin belongs to the process, not to the reader. */
	if (r->f && r->f != stdin)
		fclose(r->f);
	retisc_json__free(r->first);
	free(r->buf);
	free(r->path);
	free(r->base);
	free(r->version);
	free(r);
}

enum retisc_file_kind retisc_reader__kind(const struct retisc_reader *r)
{
	return r->kind;
}

enum retisc_compat retisc_reader__compat(const struct retisc_reader *r)
{
	return r->compat;
}

const char *retisc_reader__version(const struct retisc_reader *r)
{
	return r->version;
}

const char *retisc_reader__path(const struct retisc_reader *r)
{
	return r->path;
}

unsigned long retisc_reader__line(const struct retisc_reader *r)
{
	return r->line;
}

/*
 * doc/files.md §6 step 2: switch to the next file of the set. 1 when it was
 * opened, 0 at the first missing index, negative errno (the set is then
 * abandoned, so that a caller going on does not retry forever).
 */
static int reader_open_next(struct retisc_reader *r, char *err, size_t errsz)
{
	char *path;
	FILE *f;
	int ret;

	if (!r->base)
		return 0;
	if (asprintf(&path, "%s.%llu", r->base, r->next_id) < 0) {
		ret = -ENOMEM;
		set_err(err, errsz, "%s", strerror(ENOMEM));
		goto stop;
	}
	if (!is_regular(path)) {
		free(path);
		ret = 0;
		goto stop;
	}
	f = fopen(path, "r");
	if (!f) {
		ret = -errno;
		set_err(err, errsz, "%s: %s", path, strerror(errno));
		free(path);
		goto stop;
	}

	fclose(r->f);
	free(r->path);
	r->f = f;
	r->path = path;
	r->start = r->scan = r->end = 0;
	r->line = 0;
	r->next_id++;
	return 1;
stop:
	free(r->base);
	r->base = NULL;
	return ret;
}

/* Next line, trimmed: 1 (*line, *len set), 0 at the end, negative errno. */
static int reader_line(struct retisc_reader *r, char **line, size_t *len, char *err, size_t errsz)
{
	int ret;

	for (;;) {
		if (r->done)
			return 0;
		errno = 0;
		ret = line_get(r, line, len);
		if (ret > 0)
			break;
		if (ret == -E2BIG) {
			r->line++;
			line_err(r, err, errsz, "line longer than %u bytes", READER_MAX_LINE);
			return -EINVAL;
		}
		if (ret < 0) {
			set_err(err, errsz, "%s: %s", r->path, strerror(-ret));
			r->done = true;
			return ret;
		}
		ret = reader_open_next(r, err, errsz);
		if (ret < 0) {
			r->done = true;
			return ret;
		}
		if (!ret)
			r->done = true;
	}

	r->line++;
	if (!line_trim(*line, len)) {
		line_err(r, err, errsz, "blank line");
		return -EINVAL;
	}
	return 1;
}

/* Parse the line just read: 1 (*out set) or negative errno. */
static int reader_parse(struct retisc_reader *r, const char *line, size_t len,
			struct retisc_json **out, char *err, size_t errsz)
{
	char msg[256];

	*out = retisc_json__parse(line, len, msg, sizeof(msg));
	if (!*out) {
		int ret = errno == ENOMEM ? -ENOMEM : -EINVAL;

		line_err(r, err, errsz, "%s", msg);
		return ret;
	}
	return 1;
}

/* Next raw line value: 1 (*out set), 0 at the end, negative errno. */
static int reader_read(struct retisc_reader *r, struct retisc_json **out, char *err, size_t errsz)
{
	char *line;
	size_t len;
	int ret;

	if (r->first) {
		*out = r->first;
		r->first = NULL;
		return 1;
	}
	ret = reader_line(r, &line, &len, err, errsz);
	if (ret <= 0)
		return ret;
	return reader_parse(r, line, len, out, err, errsz);
}

/* What makes v unusable as an event (doc/events.md §3), or NULL. */
static const char *event_problem(const struct retisc_json *v)
{
	const struct retisc_json *common;

	if (!retisc_json__is_object(v))
		return "event is not a JSON object";
	common = retisc_json__obj_get(v, "common");
	if (!common)
		return "missing common";
	if (!retisc_json__is_object(common))
		return "common is not a JSON object";
	return NULL;
}

/* Fix up (older files) and check one event; idx >= 0 for series elements. */
static int reader_event(struct retisc_reader *r, struct retisc_json *ev, long idx, char *err,
			size_t errsz)
{
	bool fixed = r->compat != RETISC_COMPAT_V2;
	const char *problem;
	char msg[256];
	int ret;

	if (fixed) {
		ret = retisc_compat__fixup(ev, r->compat, msg, sizeof(msg));
		if (ret) {
			if (idx >= 0)
				line_err(r, err, errsz, "series element %ld: %s", idx, msg);
			else
				line_err(r, err, errsz, "%s", msg);
			return ret;
		}
	}
	problem = event_problem(ev);
	if (!problem)
		return 0;
	if (idx >= 0)
		line_err(r, err, errsz, "%sseries element %ld: %s",
			 fixed ? READER_FIXED_PREFIX : "", idx, problem);
	else
		line_err(r, err, errsz, "%s%s", fixed ? READER_FIXED_PREFIX : "", problem);
	return -EINVAL;
}

static int reader_check(struct retisc_reader *r, struct retisc_json *v, char *err, size_t errsz)
{
	size_t n;
	int ret;

	if (r->kind == RETISC_FILE_EVENTS) {
		if (retisc_json__is_array(v)) {
			line_err(r, err, errsz, "Cannot read series from unsorted file");
			return -EINVAL;
		}
		return reader_event(r, v, -1, err, errsz);
	}

	if (retisc_json__is_object(v)) {
		line_err(r, err, errsz, "Cannot read event from sorted file");
		return -EINVAL;
	}
	if (!retisc_json__is_array(v)) {
		line_err(r, err, errsz, "series is not a JSON array");
		return -EINVAL;
	}
	n = retisc_json__arr_len(v);
	for (size_t i = 0; i < n; i++) {
		ret = reader_event(r, retisc_json__arr_get(v, i), (long)i, err, errsz);
		if (ret)
			return ret;
	}
	return 0;
}

static int reader_next(struct retisc_reader *r, enum retisc_file_kind want,
		       struct retisc_json **out, char *err, size_t errsz)
{
	struct retisc_json *v = NULL;
	int ret;

	*out = NULL;
	ret = reader_read(r, &v, err, errsz);
	if (ret <= 0)
		return ret;

	/* The caller's kind is checked before the content, as Retis refuses
	 * the read itself; the line is consumed all the same. */
	if (want && want != r->kind) {
		line_err(r, err, errsz, "%s",
			 want == RETISC_FILE_EVENTS ? "Cannot read event from sorted file"
						    : "Cannot read series from unsorted file");
		ret = -EINVAL;
		goto err;
	}
	ret = reader_check(r, v, err, errsz);
	if (ret)
		goto err;
	*out = v;
	return 1;
err:
	retisc_json__free(v);
	return ret;
}

int retisc_reader__next(struct retisc_reader *r, struct retisc_json **out, char *err, size_t errsz)
{
	return reader_next(r, 0, out, err, errsz);
}

int retisc_reader__next_kind(struct retisc_reader *r, enum retisc_file_kind kind,
			     struct retisc_json **out, char *err, size_t errsz)
{
	return reader_next(r, kind, out, err, errsz);
}

int retisc_reader__next_line(struct retisc_reader *r, const char **line, size_t *len,
			     struct retisc_json **out, char *err, size_t errsz)
{
	char *l;
	int ret;

	*out = NULL;
	*line = NULL;
	*len = 0;
	/* Line 1 was parsed by __open(); older formats need their fix-ups. */
	if (r->first || r->compat != RETISC_COMPAT_V2)
		return reader_next(r, 0, out, err, errsz);
	ret = reader_line(r, &l, len, err, errsz);
	if (ret > 0)
		*line = l;
	return ret;
}

int retisc_reader__parse_line(const struct retisc_reader *r, const char *path, unsigned long line,
			      const char *text, size_t len, struct retisc_json **out, char *err,
			      size_t errsz)
{
	/* What reader_parse() and reader_check() read: never r's moving
	 * parts, so that other threads may parse while r reads on. */
	struct retisc_reader at = {
		.path = (char *)path,
		.line = line,
		.kind = r->kind,
		.compat = r->compat,
	};
	struct retisc_json *v;
	int ret;

	*out = NULL;
	ret = reader_parse(&at, text, len, &v, err, errsz);
	if (ret <= 0)
		return ret;
	ret = reader_check(&at, v, err, errsz);
	if (ret) {
		retisc_json__free(v);
		return ret;
	}
	*out = v;
	return 1;
}
