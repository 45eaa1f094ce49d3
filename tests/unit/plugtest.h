/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers of the tests that load plugins into a real registry
 * (test_registry.c, test_decode.c, test_skb.c, test_skb_drop.c): the
 * loader's root permission rule, loading, a group fixture that captures the
 * log lines, raw records built section by section (retisc/event.h) and JSON
 * comparison.
 */
#ifndef __RETISC_PLUGTEST_H
#define __RETISC_PLUGTEST_H

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

#include <retisc/event.h>
#include <retisc/json.h>
#include <retisc/strbuf.h>

#include "collect.h"
#include "log.h"
#include "registry.h"

/* Log lines of the running test: plug_setup() empties it. */
static struct retisc_strbuf logs = RETISC_STRBUF_INIT;

/* -------------------------------------------------------------------------
 * Loading.
 */

/* Would the loader accept path as root? (Mirrors check_perms() in
 * core/host/registry.c: root-owned, not writable by group or others, in such a
 * directory or a sticky one.) */
static inline bool perms_safe(const char *path)
{
	char dir[PATH_MAX], *slash;
	struct stat st;

	if (geteuid() != 0)
		return true;
	if (stat(path, &st) || st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)))
		return false;
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if (stat(dir, &st) || st.st_uid != 0 ||
	    ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX)))
		return false;
	return true;
}

/* Load path into reg, relaxing the permission check only when the build
 * tree needs it (CI builds are root-owned 0755 and keep the check on). */
static inline int plug_load(struct retisc_registry *reg, const char *path)
{
	if (!perms_safe(path))
		retisc_registry__set_strict_perms(reg, false);
	return retisc_registry__load_file(reg, path);
}

/* Load the built $RETISC_TEST_BUILD/<dir>/<name>.so (dir "plugins" or
 * "tests/plugins"); the log is printed when that fails. */
static inline int plug_load_built(struct retisc_registry *reg, const char *dir, const char *name)
{
	char path[PATH_MAX];
	int err;

	snprintf(path, sizeof(path), "%s/%s/%s.so", build_dir(), dir, name);
	err = plug_load(reg, path);
	if (err)
		fprintf(stderr, "%s", retisc_strbuf__str(&logs));
	return err;
}

/*
 * Group set-up: log lines go to logs, *reg is a new registry holding the
 * built plugins named in the NULL-terminated list. 0, or -1 when one does
 * not load (cmocka then fails the group).
 */
static inline int plug_group_setup(struct retisc_registry **reg, const char *const *plugins)
{
	retisc_log__set_sink(log_capture, &logs);
	*reg = retisc_registry__new();
	if (!*reg)
		return -1;
	for (size_t i = 0; plugins[i]; i++)
		if (plug_load_built(*reg, "plugins", plugins[i]))
			return -1;
	return 0;
}

static inline void plug_group_teardown(struct retisc_registry *reg)
{
	retisc_registry__free(reg);
	retisc_log__set_sink(NULL, NULL);
	retisc_strbuf__release(&logs);
}

/* Per-test set-up (cmocka): an empty log. */
static inline int plug_setup(void **state)
{
	(void)state;
	retisc_strbuf__reset(&logs);
	return 0;
}

static inline void assert_log_has(const char *needle)
{
	if (!strstr(retisc_strbuf__str(&logs), needle))
		fail_msg("log lacks '%s'; log:\n%s", needle, retisc_strbuf__str(&logs));
}

static inline void assert_log_lacks(const char *needle)
{
	if (strstr(retisc_strbuf__str(&logs), needle))
		fail_msg("log has '%s'; log:\n%s", needle, retisc_strbuf__str(&logs));
}

/* -------------------------------------------------------------------------
 * Raw records, as the core's submit program writes them: a section header
 * (struct retisc_section_hdr) and its bytes, section after section.
 */

struct rawbuf {
	uint8_t b[2048];
	size_t len;
};

static inline void raw_put_hdr(struct rawbuf *r, uint8_t owner, uint8_t type, uint16_t size)
{
	struct retisc_section_hdr h = {.owner = owner, .data_type = type, .size = size};

	assert_true(r->len + sizeof(h) <= sizeof(r->b));
	memcpy(r->b + r->len, &h, sizeof(h));
	r->len += sizeof(h);
}

static inline void raw_put_bytes(struct rawbuf *r, const void *data, size_t size)
{
	assert_true(r->len + size <= sizeof(r->b));
	if (size)
		memcpy(r->b + r->len, data, size);
	r->len += size;
}

/* One whole section: its header, then size bytes of data. */
static inline void raw_put(struct rawbuf *r, uint8_t owner, uint8_t type, const void *data,
			   size_t size)
{
	raw_put_hdr(r, owner, type, (uint16_t)size);
	raw_put_bytes(r, data, size);
}

/* The sections a probe writes first: common (event, task) and kernel (no
 * stack). comm is cut to 16 bytes. */
static inline void raw_put_probe(struct rawbuf *r, uint64_t ts, uint32_t cpu, uint64_t pid_tgid,
				 const char *comm, uint32_t probe_id, uint8_t type)
{
	struct retisc_raw_common c = {.timestamp = ts, .smp_id = cpu};
	struct retisc_raw_task t = {.pid_tgid = pid_tgid};
	struct retisc_raw_kernel k = {.probe_id = probe_id, .stack_id = -1, .probe_type = type};

	memcpy(t.comm, comm, strlen(comm) < sizeof(t.comm) ? strlen(comm) : sizeof(t.comm));
	raw_put(r, RETISC_OWNER_COMMON, RETISC_COMMON_TYPE_EVENT, &c, sizeof(c));
	raw_put(r, RETISC_OWNER_COMMON, RETISC_COMMON_TYPE_TASK, &t, sizeof(t));
	raw_put(r, RETISC_OWNER_KERNEL, RETISC_KERNEL_TYPE_PROBE, &k, sizeof(k));
}

/* -------------------------------------------------------------------------
 * JSON.
 */

/* v dumped compactly must be want; both are printed when not. */
static inline void assert_json(const struct retisc_json *v, const char *want)
{
	struct retisc_strbuf sb = RETISC_STRBUF_INIT;

	assert_int_equal(retisc_json__dump(v, &sb), 0);
	if (strcmp(retisc_strbuf__str(&sb), want))
		fail_msg("JSON\n got: %s\nwant: %s", retisc_strbuf__str(&sb), want);
	retisc_strbuf__release(&sb);
}

/*
 * The direct path (retisc_event__encode(), doc/architecture.md §4.3) on the
 * record that gave ev: when it takes the record, its line must be ev's
 * JSON byte for byte. Returns its result (0 or -EAGAIN).
 */
static inline int assert_encode_same(struct retisc_decode_ctx *dc, const void *raw, size_t len,
				     const struct retisc_json *ev)
{
	struct retisc_strbuf got = RETISC_STRBUF_INIT, want = RETISC_STRBUF_INIT;
	int err = retisc_event__encode(dc, raw, len, &got);

	if (!err) {
		assert_int_equal(retisc_json__dump(ev, &want), 0);
		if (strcmp(retisc_strbuf__str(&got), retisc_strbuf__str(&want)))
			fail_msg("direct path\n got: %s\nwant: %s", retisc_strbuf__str(&got),
				 retisc_strbuf__str(&want));
	} else {
		assert_int_equal(err, -EAGAIN);
		assert_int_equal(got.len, 0);
	}
	retisc_strbuf__release(&got);
	retisc_strbuf__release(&want);
	retisc_decode_ctx__release(dc);
	return err;
}

/*
 * A section's encode() on the raw section that decode() just decoded into
 * ev (returning decode_err): when it takes it, its text must be the JSON
 * of what decode() put in ev (the key, or the key's member p.sub).
 */
static inline void assert_section_encode_same(const struct retisc_section *s, uint8_t type,
					      const void *data, size_t size, int decode_err,
					      const struct retisc_json *ev)
{
	struct retisc_strbuf text = RETISC_STRBUF_INIT, want = RETISC_STRBUF_INIT;
	struct retisc_json_piece p = {.text = &text};
	const struct retisc_json *v;

	if (!s->encode || s->encode(s->priv, type, data, size, &p)) {
		retisc_strbuf__release(&text);
		return;
	}
	assert_int_equal(decode_err, 0);
	assert_non_null(p.key);
	v = retisc_json__obj_get(ev, p.key);
	if (p.sub)
		v = retisc_json__obj_get(v, p.sub);
	assert_non_null(v);
	assert_int_equal(retisc_json__dump(v, &want), 0);
	if (strcmp(retisc_strbuf__str(&text), retisc_strbuf__str(&want)))
		fail_msg("encode() of %s\n got: %s\nwant: %s", p.key, retisc_strbuf__str(&text),
			 retisc_strbuf__str(&want));
	retisc_strbuf__release(&text);
	retisc_strbuf__release(&want);
}

#endif /* __RETISC_PLUGTEST_H */
