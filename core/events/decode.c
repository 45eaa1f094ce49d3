// SPDX-License-Identifier: GPL-2.0-only
/*
 * Raw event -> JSON event: split the ring buffer record into sections,
 * decode the core's own (common, kernel) here and hand every other section
 * to its owner's decoder. A malformed section is logged and skipped; the
 * rest of the event (and of the stream) is kept.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <retisc/event.h>
#include <retisc/json_text.h>

#include "collect.h"
#include "kallsyms.h"
#include "log.h"
#include "util.h"

static int decode_common(struct retisc_json *ev, uint8_t type, const void *data, size_t size)
{
	struct retisc_json *common = retisc_json__obj_get(ev, "common");
	int err;

	/* Check the size first: a malformed section must not leave an empty
	 * "common" behind, which would let a broken event pass as valid. */
	if (!(type == RETISC_COMMON_TYPE_EVENT && size >= sizeof(struct retisc_raw_common)) &&
	    !(type == RETISC_COMMON_TYPE_TASK && size >= sizeof(struct retisc_raw_task)))
		return -EINVAL;
	if (!common) {
		common = retisc_json__new_object();
		if (!common)
			return -ENOMEM;
		err = retisc_json__obj_set(ev, "common", common);
		if (err)
			return err;
	}
	if (type == RETISC_COMMON_TYPE_EVENT) {
		struct retisc_raw_common c;
		/* doc/events.md §4.1 order (task last) even if the task came first. */
		struct retisc_json *task = retisc_json__obj_take(common, "task");

		memcpy(&c, data, sizeof(c));
		err = retisc_json__obj_set_u64(common, "timestamp", c.timestamp)
			      ?: retisc_json__obj_set_u64(common, "smp_id", c.smp_id);
		if (task) {
			int err2 = retisc_json__obj_set(common, "task", task);

			err = err ?: err2;
		}
		return err;
	}
	if (type == RETISC_COMMON_TYPE_TASK) {
		struct retisc_raw_task t;
		struct retisc_json *task = retisc_json__new_object();

		if (!task)
			return -ENOMEM;
		memcpy(&t, data, sizeof(t));
		/* doc/events.md §3: "pid" holds the high half (the kernel's tgid). */
		err = retisc_json__obj_set_i64(task, "pid", (int32_t)(t.pid_tgid >> 32)) ?:
		      retisc_json__obj_set_i64(task, "tgid", (int32_t)(uint32_t)t.pid_tgid) ?:
		      retisc_json__obj_set(task, "comm",
					   retisc_json__new_str_lossy(t.comm, sizeof(t.comm)));
		if (err) {
			retisc_json__free(task);
			return err;
		}
		return retisc_json__obj_set(common, "task", task);
	}
	return -EINVAL;
}

static struct retisc_json *stack_trace(struct retisc_decode_ctx *dc, int32_t stack_id)
{
	struct retisc_json *arr = retisc_json__new_array();
	uint64_t ips[127] = {};
	uint32_t id = (uint32_t)stack_id;

	if (!arr || dc->stack_map_fd < 0 || bpf_map_lookup_elem(dc->stack_map_fd, &id, ips))
		return arr;
	for (size_t i = 0; i < ARRAY_SIZE(ips) && ips[i]; i++) {
		uint64_t off = 0;
		const char *sym = retisc_kallsyms__sym(ips[i], &off);
		char buf[300];

		if (sym)
			snprintf(buf, sizeof(buf), "%s+%#llx", sym, (unsigned long long)off);
		else
			snprintf(buf, sizeof(buf), "%#llx", (unsigned long long)ips[i]);
		if (retisc_json__arr_append(arr, retisc_json__new_str(buf)))
			break;
	}
	return arr;
}

/* doc/events.md §4.3: the probe of a USDT event. */
static int decode_userspace(struct retisc_decode_ctx *dc, struct retisc_json *ev, uint8_t type,
			    const void *data, size_t size)
{
	struct retisc_raw_userspace u;
	const char *sym = NULL, *path = NULL;
	struct retisc_json *us;
	char unknown[32];
	int err;

	if (type != RETISC_USERSPACE_TYPE_PROBE || size < sizeof(u))
		return -EINVAL;
	memcpy(&u, data, sizeof(u));
	if (dc->symbol_of)
		sym = dc->symbol_of(dc->priv, u.probe_id);
	if (dc->path_of)
		path = dc->path_of(dc->priv, u.probe_id);
	if (!sym) {
		snprintf(unknown, sizeof(unknown), "unknown-probe:%u", u.probe_id);
		sym = unknown;
	}
	us = retisc_json__new_object();
	if (!us)
		return -ENOMEM;
	/* pid is the process (tgid), tid the thread, as Retis writes them. */
	err = retisc_json__obj_set_str(us, "probe_type", "usdt")
		      ?: retisc_json__obj_set_str(us, "symbol", sym)
		      ?: retisc_json__obj_set(us, "ip", retisc_json__new_u64(u.ip));
	if (!err && path)
		err = retisc_json__obj_set_str(us, "path", path);
	if (!err)
		err = retisc_json__obj_set(us, "pid",
					   retisc_json__new_i64((int32_t)(u.pid_tgid >> 32)))
			      ?: retisc_json__obj_set(us, "tid",
						      retisc_json__new_i64((int32_t)u.pid_tgid));
	if (err) {
		retisc_json__free(us);
		return err;
	}
	return retisc_json__obj_set(ev, "userspace", us);
}

static int decode_kernel(struct retisc_decode_ctx *dc, struct retisc_json *ev, uint8_t type,
			 const void *data, size_t size)
{
	static const char *const types[] = {"invalid", "raw_tracepoint", "kprobe", "kretprobe"};
	struct retisc_raw_kernel k;
	struct retisc_json *kern;
	const char *sym = NULL;
	char unknown[32];
	int err;

	if (type != RETISC_KERNEL_TYPE_PROBE || size < sizeof(k))
		return -EINVAL;
	memcpy(&k, data, sizeof(k));
	if (dc->symbol_of)
		sym = dc->symbol_of(dc->priv, k.probe_id);
	if (!sym) {
		snprintf(unknown, sizeof(unknown), "unknown-probe:%u", k.probe_id);
		sym = unknown;
	}
	kern = retisc_json__new_object();
	if (!kern)
		return -ENOMEM;
	err = retisc_json__obj_set_str(kern, "symbol", sym)
		      ?: retisc_json__obj_set_str(
				 kern, "probe_type",
				 types[k.probe_type < ARRAY_SIZE(types) ? k.probe_type : 0]);
	if (!err && k.stack_id >= 0)
		err = retisc_json__obj_set(kern, "stack_trace", stack_trace(dc, k.stack_id));
	else if (!err && k.stack_id != -1)
		/* A stack was requested but could not be read (doc/events.md §4.2). */
		err = retisc_json__obj_set(kern, "stack_trace", retisc_json__new_array());
	if (err) {
		retisc_json__free(kern);
		return err;
	}
	return retisc_json__obj_set(ev, "kernel", kern);
}

int retisc_event__sort_sections(const struct retisc_registry *reg, struct retisc_json *event)
{
	size_t n = retisc_json__obj_len(event);
	struct {
		uint32_t rank;
		size_t pos;
		char *key;
	} tmp[64];
	bool sorted = true;
	uint32_t prev = 0;

	if (n > ARRAY_SIZE(tmp))
		return -E2BIG;
	for (size_t i = 0; i < n; i++) {
		const struct retisc_section *s;

		tmp[i].key = (char *)retisc_json__obj_key(event, i);
		s = retisc_registry__section_by_key(reg, tmp[i].key);
		tmp[i].rank = s ? s->rank : 100000;
		tmp[i].pos = i;
		if (tmp[i].rank < prev)
			sorted = false;
		prev = tmp[i].rank;
	}
	if (sorted)
		return 0;
	/* Insertion sort: events have a handful of sections. */
	for (size_t i = 1; i < n; i++) {
		for (size_t j = i; j > 0 && tmp[j - 1].rank > tmp[j].rank; j--) {
			__typeof__(tmp[0]) t = tmp[j];

			tmp[j] = tmp[j - 1];
			tmp[j - 1] = t;
		}
	}
	{
		char *keys[64];
		struct retisc_json *vals[64];

		for (size_t i = 0; i < n; i++) {
			keys[i] = strdup(tmp[i].key);
			if (!keys[i]) {
				for (size_t j = 0; j < i; j++)
					free(keys[j]);
				return -ENOMEM;
			}
		}
		for (size_t i = 0; i < n; i++)
			vals[i] = retisc_json__obj_take(event, keys[i]);
		for (size_t i = 0; i < n; i++) {
			retisc_json__obj_set(event, keys[i], vals[i]);
			free(keys[i]);
		}
	}
	return 0;
}

struct retisc_json *retisc_event__decode(struct retisc_decode_ctx *dc, const void *data,
					 size_t size)
{
	struct retisc_json *ev = retisc_json__new_object();
	const uint8_t *p = data, *end = p + size;
	int err = 0;

	if (!ev)
		return NULL;
	while (p < end) {
		struct retisc_section_hdr hdr;
		const struct retisc_section *s;

		if ((size_t)(end - p) < sizeof(hdr)) {
			dc->malformed++;
			pr_warn("Malformed event: %zu trailing bytes after the last section",
				(size_t)(end - p));
			break;
		}
		memcpy(&hdr, p, sizeof(hdr));
		p += sizeof(hdr);
		if (hdr.size > end - p) {
			dc->malformed++;
			pr_warn("Malformed event: section owner %u type %u claims %u bytes, %zu "
				"left",
				hdr.owner, hdr.data_type, hdr.size, (size_t)(end - p));
			break;
		}
		if (hdr.owner == RETISC_OWNER_COMMON) {
			err = decode_common(ev, hdr.data_type, p, hdr.size);
		} else if (hdr.owner == RETISC_OWNER_KERNEL) {
			err = decode_kernel(dc, ev, hdr.data_type, p, hdr.size);
		} else if (hdr.owner == RETISC_OWNER_USERSPACE) {
			err = decode_userspace(dc, ev, hdr.data_type, p, hdr.size);
		} else {
			s = retisc_registry__section_by_owner(dc->reg, hdr.owner);
			if (!s || !s->decode)
				err = -ENOENT;
			else
				err = s->decode(s->priv, ev, hdr.data_type, p, hdr.size);
		}
		if (err == -ENOMEM)
			goto fail;
		if (err) {
			dc->malformed++;
			pr_warn("Skipping malformed section (owner %u, type %u, %u bytes): %s",
				hdr.owner, hdr.data_type, hdr.size,
				err == -ENOENT ? "no decoder for this owner" : strerror(-err));
			err = 0;
		}
		p += hdr.size;
	}
	if (!retisc_json__obj_get(ev, "common")) {
		err = -EINVAL;
		goto fail;
	}
	err = retisc_event__sort_sections(dc->reg, ev);
	if (err)
		goto fail;
	return ev;
fail:
	retisc_json__free(ev);
	errno = -err;
	return NULL;
}

/* --- the direct path: events as text without a tree --------------------- */

#define ENC_MAX_PIECES 32

struct enc_piece {
	const char *key;
	const char *sub; /* NULL: the key's whole value */
	uint32_t sub_rank;
	size_t off, len; /* text in dc->text */
};

struct enc_entry {
	const char *key;
	uint32_t rank;
	size_t first; /* pieces of this key: piece indexes in by_key[first..] */
	size_t n;
};

/* Keys are literals: the same address is the usual match, the first byte
 * the usual mismatch. */
static bool enc_key_eq(const char *a, const char *b)
{
	return a == b || (a[0] == b[0] && !strcmp(a, b));
}

/* The rank sort_sections() would give key (literals: cached by address). */
static uint32_t enc_rank(struct retisc_decode_ctx *dc, const char *key)
{
	const struct retisc_section *s;
	uint32_t rank;

	for (size_t i = 0; i < dc->n_ranks; i++)
		if (dc->ranks[i].key == key)
			return dc->ranks[i].rank;
	s = retisc_registry__section_by_key(dc->reg, key);
	rank = s ? s->rank : 100000;
	if (dc->n_ranks < ARRAY_SIZE(dc->ranks)) {
		dc->ranks[dc->n_ranks].key = key;
		dc->ranks[dc->n_ranks++].rank = rank;
	}
	return rank;
}

/* decode_common()'s object, from the event section and the task if any. */
static int enc_common(struct retisc_strbuf *sb, const void *event, const void *task)
{
	struct retisc_raw_common c;
	struct retisc_raw_task t;
	int err;

	memcpy(&c, event, sizeof(c));
	err = retisc_strbuf__putc(sb, '{') ?: retisc_json_text__key_u64(sb, "timestamp", true,
									c.timestamp)
	      ?: retisc_json_text__key_u64(sb, "smp_id", false, c.smp_id);
	if (!err && task) {
		memcpy(&t, task, sizeof(t));
		err = retisc_json_text__key(sb, "task", false) ?: retisc_strbuf__putc(sb, '{')
		      ?: retisc_json_text__key(sb, "pid", true)
		      ?: retisc_json_text__i64(sb, (int32_t)(t.pid_tgid >> 32))
		      ?: retisc_json_text__key(sb, "tgid", false)
		      ?: retisc_json_text__i64(sb, (int32_t)(uint32_t)t.pid_tgid)
		      ?: retisc_json_text__key(sb, "comm", false)
		      ?: retisc_json__dump_str_lossy(sb, t.comm, sizeof(t.comm))
		      ?: retisc_strbuf__putc(sb, '}');
	}
	return err ?: retisc_strbuf__putc(sb, '}');
}

/* decode_kernel()'s object for an event without a stack. */
static int enc_kernel(struct retisc_decode_ctx *dc, struct retisc_strbuf *sb,
		      const struct retisc_raw_kernel *k)
{
	static const char *const types[] = {"invalid", "raw_tracepoint", "kprobe", "kretprobe"};
	const char *sym = dc->symbol_of ? dc->symbol_of(dc->priv, k->probe_id) : NULL;
	const char *type = types[k->probe_type < ARRAY_SIZE(types) ? k->probe_type : 0];
	char unknown[32];

	if (!sym) {
		snprintf(unknown, sizeof(unknown), "unknown-probe:%u", k->probe_id);
		sym = unknown;
	}
	return retisc_strbuf__putc(sb, '{') ?: retisc_json_text__key(sb, "symbol", true)
	       ?: retisc_json__dump_str(sb, sym, strlen(sym))
	       ?: retisc_json_text__key(sb, "probe_type", false)
	       ?: retisc_json__dump_str(sb, type, strlen(type)) ?: retisc_strbuf__putc(sb, '}');
}

/* Split the record and encode every section into dc->text. */
static int enc_pieces(struct retisc_decode_ctx *dc, const uint8_t *p, const uint8_t *end,
		      struct enc_piece *pc, size_t *n_pc)
{
	const void *event = NULL, *task = NULL;
	size_t n = 0, common_at = SIZE_MAX;
	bool kernel = false;
	int err;

	while (p < end) {
		struct retisc_section_hdr hdr;
		const struct retisc_section *s;
		struct retisc_json_piece jp = {.text = &dc->text};

		if ((size_t)(end - p) < sizeof(hdr))
			return -EAGAIN;
		memcpy(&hdr, p, sizeof(hdr));
		p += sizeof(hdr);
		if (hdr.size > end - p || n == ENC_MAX_PIECES)
			return -EAGAIN;
		if (hdr.owner == RETISC_OWNER_COMMON) {
			if (hdr.data_type == RETISC_COMMON_TYPE_EVENT &&
			    hdr.size >= sizeof(struct retisc_raw_common) && !event)
				event = p;
			else if (hdr.data_type == RETISC_COMMON_TYPE_TASK &&
				 hdr.size >= sizeof(struct retisc_raw_task) && !task)
				task = p;
			else
				return -EAGAIN;
			/* Where decode_common() creates the key: its first section. */
			if (common_at == SIZE_MAX) {
				common_at = n;
				pc[n++] = (struct enc_piece){.key = "common"};
			}
		} else if (hdr.owner == RETISC_OWNER_KERNEL) {
			struct retisc_raw_kernel k;

			if (hdr.data_type != RETISC_KERNEL_TYPE_PROBE || hdr.size < sizeof(k) ||
			    kernel)
				return -EAGAIN;
			memcpy(&k, p, sizeof(k));
			if (k.stack_id != -1)
				return -EAGAIN;
			kernel = true;
			pc[n] = (struct enc_piece){.key = "kernel", .off = dc->text.len};
			err = enc_kernel(dc, &dc->text, &k);
			if (err)
				return err;
			pc[n].len = dc->text.len - pc[n].off;
			n++;
		} else {
			s = retisc_registry__section_by_owner(dc->reg, hdr.owner);
			if (!s || !s->encode)
				return -EAGAIN;
			pc[n].off = dc->text.len;
			if (s->encode(s->priv, hdr.data_type, p, hdr.size, &jp) || !jp.key)
				return -EAGAIN;
			pc[n].key = jp.key;
			pc[n].sub = jp.sub;
			pc[n].sub_rank = jp.sub_rank;
			pc[n].len = dc->text.len - pc[n].off;
			n++;
		}
		p += hdr.size;
	}
	if (!event)
		return -EAGAIN;
	pc[common_at].off = dc->text.len;
	err = enc_common(&dc->text, event, task);
	if (err)
		return err;
	pc[common_at].len = dc->text.len - pc[common_at].off;
	*n_pc = n;
	return 0;
}

/*
 * Keys in first-seen order, then stably by rank (sort_sections()); a key
 * filled by several pieces takes their members in sub_rank order (the
 * plugin's own decode() inserts them so). A repeated key or member, which
 * decode() would overwrite, goes to the tree path.
 */
int retisc_event__encode(struct retisc_decode_ctx *dc, const void *data, size_t size,
			 struct retisc_strbuf *out)
{
	struct enc_piece pc[ENC_MAX_PIECES];
	struct enc_entry ent[ENC_MAX_PIECES];
	size_t by_key[ENC_MAX_PIECES];
	size_t n_pc = 0, n_ent = 0, start = out->len, k = 0;
	int err;

	retisc_strbuf__reset(&dc->text);
	err = enc_pieces(dc, data, (const uint8_t *)data + size, pc, &n_pc);
	if (err)
		return err;
	for (size_t i = 0; i < n_pc; i++) {
		size_t e;

		for (e = 0; e < n_ent && !enc_key_eq(ent[e].key, pc[i].key); e++)
			;
		if (e == n_ent)
			ent[n_ent++] = (struct enc_entry){.key = pc[i].key,
							  .rank = enc_rank(dc, pc[i].key)};
		else if (!pc[i].sub || !pc[ent[e].first].sub)
			return -EAGAIN;
		ent[e].n++;
		/* Remember the first piece; the others are found again below. */
		if (ent[e].n == 1)
			ent[e].first = i;
	}
	/* Stable insertion sort of the keys by rank. */
	for (size_t i = 1; i < n_ent; i++)
		for (size_t j = i; j > 0 && ent[j - 1].rank > ent[j].rank; j--) {
			struct enc_entry t = ent[j];

			ent[j] = ent[j - 1];
			ent[j - 1] = t;
		}
	err = retisc_strbuf__putc(out, '{');
	for (size_t e = 0; !err && e < n_ent; e++) {
		const struct enc_piece *first = &pc[ent[e].first];

		err = retisc_json_text__key(out, ent[e].key, e == 0);
		if (err)
			break;
		if (!first->sub) {
			err = retisc_strbuf__append(out, dc->text.buf + first->off, first->len);
			continue;
		}
		/* Members by sub_rank; equal ranks or names: the tree path. */
		k = 0;
		for (size_t i = 0; i < n_pc; i++) {
			size_t j;

			if (!enc_key_eq(pc[i].key, ent[e].key))
				continue;
			for (j = k; j > 0 && pc[by_key[j - 1]].sub_rank > pc[i].sub_rank; j--)
				by_key[j] = by_key[j - 1];
			by_key[j] = i;
			k++;
		}
		for (size_t j = 1; j < k; j++)
			if (pc[by_key[j - 1]].sub_rank == pc[by_key[j]].sub_rank ||
			    !strcmp(pc[by_key[j - 1]].sub, pc[by_key[j]].sub))
				err = -EAGAIN;
		err = err ?: retisc_strbuf__putc(out, '{');
		for (size_t j = 0; !err && j < k; j++) {
			const struct enc_piece *m = &pc[by_key[j]];

			err = retisc_json_text__key(out, m->sub, j == 0)
				      ?: retisc_strbuf__append(out, dc->text.buf + m->off, m->len);
		}
		err = err ?: retisc_strbuf__putc(out, '}');
	}
	err = err ?: retisc_strbuf__putc(out, '}');
	if (err)
		retisc_strbuf__truncate(out, start);
	return err;
}

void retisc_decode_ctx__release(struct retisc_decode_ctx *dc)
{
	retisc_strbuf__release(&dc->text);
}
