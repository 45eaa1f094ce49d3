// SPDX-License-Identifier: GPL-2.0-only
/*
 * Text rendering of events (doc/events.md §4, §5) and of series (doc/processing.md
 * §2.6).
 *
 * Formatters never indent: each one writes its section into a scratch buffer
 * with bare "\n" separators, and the renderer copies that text into the
 * output, putting the indentation of the item in front of every non-empty
 * line. This is what lets one formatter serve standalone events (B = 0) and
 * the 2nd and later events of a series (B = 4) alike.
 *
 * On any error the output is cut back to its length on entry, so a caller
 * never prints half an event.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <retisc/json.h>
#include <retisc/plugin.h>
#include <retisc/strbuf.h>

#include "log.h"
#include "registry.h"
#include "render.h"

#define NSEC_PER_SEC 1000000000LL

/* Indentation of body lines and stack frames relative to B (doc/events.md §5). */
#define BODY_INDENT 2
#define STACK_INDENT 4

/* Optional keys may be JSON null in files written by other tools. */
static bool present(const struct retisc_json *v)
{
	return v && retisc_json__type(v) != RETISC_JSON_NULL;
}

static int put_spaces(struct retisc_strbuf *sb, unsigned int n)
{
	int err;

	err = retisc_strbuf__reserve(sb, n);
	if (err)
		return err;
	memset(sb->buf + sb->len, ' ', n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
	return 0;
}

/*
 * Append n bytes of text, putting indent spaces in front of every line that
 * is not empty. at_line_start says whether text begins a line (it does after
 * a "\n" separator, not after netns' " " before dev).
 */
static int append_indented(struct retisc_strbuf *out, const char *text, size_t n,
			   unsigned int indent, bool at_line_start)
{
	const char *end = text + n;
	int err;

	while (text < end) {
		const char *nl = memchr(text, '\n', (size_t)(end - text));
		size_t line = nl ? (size_t)(nl - text) : (size_t)(end - text);

		if (at_line_start && line && indent) {
			err = put_spaces(out, indent);
			if (err)
				return err;
		}
		/* Copy the line and its "\n", if any. */
		err = retisc_strbuf__append(out, text, line + (nl ? 1 : 0));
		if (err)
			return err;
		text += line + (nl ? 1 : 0);
		at_line_start = true;
	}
	return 0;
}

/* -------------------------------------------------------------------------
 * Renderer state.
 */

void retisc_renderer__init(struct retisc_renderer *r, const struct retisc_registry *reg,
			   const struct retisc_render_opts *opts)
{
	memset(r, 0, sizeof(*r));
	r->reg = reg;
	if (opts)
		r->opts = *opts;
}

void retisc_renderer__set_offset(struct retisc_renderer *r, int64_t sec, int64_t nsec)
{
	/* The addition of §4.1 carries at most once: it needs 0 <= nsec < 1e9. */
	sec += nsec / NSEC_PER_SEC;
	nsec %= NSEC_PER_SEC;
	if (nsec < 0) {
		nsec += NSEC_PER_SEC;
		sec--;
	}
	r->offset_sec = sec;
	r->offset_nsec = nsec;
	r->has_offset = true;
}

/* A startup event carries the offset its own time must be rendered with. */
static void offset_from_startup(struct retisc_renderer *r, const struct retisc_json *startup)
{
	const struct retisc_json *off = retisc_json__obj_get(startup, "clock_monotonic_offset");
	int64_t sec, nsec;

	if (retisc_json__obj_get_i64(off, "sec", &sec) &&
	    retisc_json__obj_get_i64(off, "nsec", &nsec))
		retisc_renderer__set_offset(r, sec, nsec);
}

/* -------------------------------------------------------------------------
 * Core section formatters.
 */

/*
 * pre, then v in base 10 or 16 (lower case) with at least width digits
 * (zero-padded), then post. Every event's first line has half a dozen
 * numbers, and printf()'s setup costs more than the formatting (print's
 * hot path, doc/processing.md §1.1).
 */
/* Always inlined: the strlen() of the constant strings callers pass folds away. */
static inline __attribute__((always_inline)) int put_num(struct retisc_strbuf *out, const char *pre,
							 uint64_t v, unsigned int base,
							 unsigned int width, const char *post)
{
	return retisc_strbuf__puts(out, pre) ?: retisc_strbuf__put_num(out, v, base, width) ?:
		       retisc_strbuf__puts(out, post);
}

/* A signed decimal, as printf's PRId64. */
static int put_i64(struct retisc_strbuf *out, const char *pre, int64_t v, const char *post)
{
	if (v >= 0)
		return put_num(out, pre, (uint64_t)v, 10, 0, post);
	/* Negating INT64_MIN as a signed value would overflow. */
	return retisc_strbuf__puts(out, pre) ?: put_num(out, "-", -(uint64_t)v, 10, 0, post);
}

static int put_time(struct retisc_strbuf *out, uint64_t ts, const struct retisc_renderer *r,
		    bool utc)
{
	char date[64];
	int64_t sec, nsec;
	struct tm tm;
	time_t t;

	if (!utc || !r || !r->has_offset)
		goto decimal;

	nsec = (int64_t)(ts % NSEC_PER_SEC) + r->offset_nsec;
	if (__builtin_add_overflow((int64_t)(ts / NSEC_PER_SEC), r->offset_sec, &sec))
		goto decimal;
	if (nsec >= NSEC_PER_SEC) {
		nsec -= NSEC_PER_SEC;
		if (__builtin_add_overflow(sec, 1, &sec))
			goto decimal;
	}
	t = (time_t)sec;
	/* A date libc cannot represent still deserves a time, not an error. */
	if (!gmtime_r(&t, &tm) || !strftime(date, sizeof(date), "%F %T", &tm))
		goto decimal;
	return retisc_strbuf__printf(out, "%s.%06" PRId64, date, nsec / 1000);

decimal:
	return put_num(out, "", ts, 10, 0, "");
}

/*
 * priv is the renderer when the renderer calls it (it holds the --utc
 * offset), NULL otherwise; without an offset, --utc falls back to decimal.
 */
int retisc_render__common(void *priv, const struct retisc_json *section, const struct retisc_fmt *f)
{
	const struct retisc_renderer *r = priv;
	const struct retisc_json *smp, *task;
	struct retisc_strbuf *out = f->out;
	size_t start = out->len;
	int64_t pid, tgid;
	uint64_t ts, cpu;
	const char *comm;
	int err;

	if (!retisc_json__obj_get_u64(section, "timestamp", &ts))
		return -EINVAL;
	err = put_time(out, ts, r, f->utc);
	if (err)
		goto fail;

	smp = retisc_json__obj_get(section, "smp_id");
	if (present(smp)) {
		err = -EINVAL;
		if (!retisc_json__get_u64(smp, &cpu))
			goto fail;
		err = put_num(out, " (", cpu, 10, 0, ")");
		if (err)
			goto fail;
	}

	task = retisc_json__obj_get(section, "task");
	if (present(task)) {
		err = -EINVAL;
		comm = retisc_json__obj_get_str(task, "comm");
		if (!comm || !retisc_json__obj_get_i64(task, "pid", &pid) ||
		    !retisc_json__obj_get_i64(task, "tgid", &tgid))
			goto fail;
		/* pid holds the process id and tgid the thread id (§3 quirk):
		 * a thread other than the main one shows "process/thread". */
		err = retisc_strbuf__puts(out, " [") ?: retisc_strbuf__puts(out, comm);
		if (pid != tgid)
			err = err ?: put_i64(out, "] ", pid, "") ?: put_i64(out, "/", tgid, "");
		else
			err = err ?: put_i64(out, "] ", tgid, "");
		if (err)
			goto fail;
	}
	return 0;

fail:
	retisc_strbuf__truncate(out, start);
	return err;
}

int retisc_render__kernel(void *priv, const struct retisc_json *section, const struct retisc_fmt *f)
{
	const char *symbol = retisc_json__obj_get_str(section, "symbol");
	const char *type = retisc_json__obj_get_str(section, "probe_type");
	const char *tag;

	(void)priv;
	if (!symbol || !type)
		return -EINVAL;
	if (!strcmp(type, "raw_tracepoint"))
		tag = "tp";
	else if (!strcmp(type, "kprobe"))
		tag = "k";
	else if (!strcmp(type, "kretprobe"))
		tag = "kr";
	else
		tag = "invalid";
	return retisc_strbuf__putc(f->out, '[') ?: retisc_strbuf__puts(f->out, tag) ?:
		       retisc_strbuf__puts(f->out, "] ") ?: retisc_strbuf__puts(f->out, symbol);
}

int retisc_render__userspace(void *priv, const struct retisc_json *section,
			     const struct retisc_fmt *f)
{
	const char *symbol = retisc_json__obj_get_str(section, "symbol");
	const char *path = retisc_json__obj_get_str(section, "path");
	const char *base;

	(void)priv;
	if (!symbol || !path)
		return -EINVAL;
	base = strrchr(path, '/');
	if (!base)
		return retisc_strbuf__printf(f->out, "[u] %s", symbol);
	return retisc_strbuf__printf(f->out, "[u] %s (%s)", symbol, base + 1);
}

int retisc_render__tracking_id(struct retisc_strbuf *out, const struct retisc_json *skb_obj)
{
	uint64_t head, ts, skb;

	if (!retisc_json__obj_get_u64(skb_obj, "orig_head", &head) ||
	    !retisc_json__obj_get_u64(skb_obj, "timestamp", &ts) ||
	    !retisc_json__obj_get_u64(skb_obj, "skb", &skb))
		return -EINVAL;
	/* The 128-bit (timestamp << 64 | orig_head) in hex without leading
	 * zeros: the low half keeps its zeros once a high half is printed. */
	if (ts)
		return put_num(out, "#", ts, 16, 0, "") ?: put_num(out, "", head, 16, 16, "") ?:
			       put_num(out, " (skb ", skb, 16, 0, ")");
	return put_num(out, "#", head, 16, 0, "") ?: put_num(out, " (skb ", skb, 16, 0, ")");
}

int retisc_render__tracking(void *priv, const struct retisc_json *section,
			    const struct retisc_fmt *f)
{
	const struct retisc_json *skb = retisc_json__obj_get(section, "skb");
	struct retisc_strbuf *out = f->out;
	size_t start = out->len;
	uint64_t idx;
	int err;

	(void)priv;
	if (!retisc_json__obj_get_u64(section, "idx", &idx))
		return -EINVAL;
	err = retisc_render__tracking_id(out, skb);
	if (!err)
		err = put_num(out, " n ", idx, 10, 0, "");
	if (err)
		retisc_strbuf__truncate(out, start);
	return err;
}

int retisc_render__startup(void *priv, const struct retisc_json *section,
			   const struct retisc_fmt *f)
{
	const char *version = retisc_json__obj_get_str(section, "retis_version");
	const char *own = retisc_json__obj_get_str(section, "retisc_version");
	const char *cmdline = retisc_json__obj_get_str(section, "cmdline");
	const struct retisc_json *machine = retisc_json__obj_get(section, "machine");
	const struct retisc_json *split = retisc_json__obj_get(section, "split_file");
	const char *release = retisc_json__obj_get_str(machine, "kernel_release");
	const char *kversion = retisc_json__obj_get_str(machine, "kernel_version");
	const char *hw = retisc_json__obj_get_str(machine, "hardware_name");
	const char *sep = RETISC_FMT_SEP(f);
	struct retisc_strbuf *out = f->out;
	size_t start = out->len;
	uint64_t id = 0;
	int err;

	(void)priv;
	if (!version || !cmdline || !release || !kversion || !hw)
		return -EINVAL;
	if (present(split) && !retisc_json__obj_get_u64(split, "id", &id))
		return -EINVAL;

	/* A Retis file reads as Retis prints it; a retisc file says so. */
	if (own)
		err = retisc_strbuf__printf(out,
					    "collected with retisc %s (Retis %s event format)%son "
					    "machine %s %s %s",
					    own, version, sep, release, kversion, hw);
	else
		err = retisc_strbuf__printf(out, "collected with Retis %s%son machine %s %s %s",
					    version, sep, release, kversion, hw);
	if (!err && present(split))
		err = retisc_strbuf__printf(out, "%sfile id %" PRIu64, sep, id);
	if (!err)
		err = retisc_strbuf__printf(out, "%scmdline %s", sep, cmdline);
	if (err)
		retisc_strbuf__truncate(out, start);
	return err;
}

/* -------------------------------------------------------------------------
 * Event layout.
 */

/* One section of the event to render, with its position. */
struct item {
	const char *key;
	const struct retisc_json *val;
	const struct retisc_section *sec;
	uint32_t rank;
	unsigned int sub; /* order among items of the same rank */
	size_t pos;	  /* position in the event, last tie-breaker */
};

/* Items that fit on the stack for every event retisc writes itself. */
#define ITEMS_ON_STACK 24

static int item_cmp(const void *a, const void *b)
{
	const struct item *x = a, *y = b;

	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	if (x->sub != y->sub)
		return x->sub < y->sub ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/*
 * An event has a handful of sections, mostly in order already: insertion
 * beats qsort()'s setup. item_cmp() is a total order (positions differ),
 * so the result is the one qsort() gave.
 */
static void items_sort(struct item *items, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		struct item it = items[i];
		size_t j = i;

		for (; j > 0 && item_cmp(&items[j - 1], &it) > 0; j--)
			items[j] = items[j - 1];
		items[j] = it;
	}
}

/* Rank of the packet section: netns and dev are displayed right after it. */
#define PACKET_RANK 70

static void item_place(struct item *it)
{
	/*
	 * Keys are ranked in serialisation order (§2), but §5 displays netns
	 * and dev right after the packet line, before skb; every other body
	 * section keeps its rank order.
	 */
	it->rank = it->sec->rank;
	it->sub = 0;
	/* The first byte spares a call for nearly every key (hot path). */
	if (it->key[0] == 'n' && !strcmp(it->key, "netns")) {
		it->rank = PACKET_RANK;
		it->sub = 1;
	} else if (it->key[0] == 'd' && !strcmp(it->key, "dev")) {
		it->rank = PACKET_RANK;
		it->sub = 2;
	}
}

struct render_ctx {
	struct retisc_renderer *r;
	const struct retisc_json *event;
	struct retisc_strbuf *out;
	struct retisc_strbuf tmp; /* formatter output, reused */
	struct retisc_fmt fmt;
	unsigned int base;
};

/* Render a section into ctx->tmp, through its formatter. */
static int format_section(struct render_ctx *ctx, const char *key,
			  int (*format)(void *, const struct retisc_json *,
					const struct retisc_fmt *),
			  void *priv, const struct retisc_json *val)
{
	int err;

	retisc_strbuf__reset(&ctx->tmp);
	err = format(priv, val, &ctx->fmt);
	if (err == -EINVAL)
		pr_debug("Cannot render section '%s': missing or invalid key", key);
	return err;
}

static int render_common(struct render_ctx *ctx, const struct retisc_json *common)
{
	const struct retisc_section *sec = retisc_registry__section_by_key(ctx->r->reg, "common");

	/*
	 * A plugin may override the common section's text; the core's own
	 * formatter is called with the renderer, which holds the --utc offset.
	 */
	if (sec && sec->plugin && sec->format)
		return format_section(ctx, "common", sec->format, sec->priv, common);
	return format_section(ctx, "common", retisc_render__common, ctx->r, common);
}

static int render_stack(struct render_ctx *ctx, const struct retisc_json *stack)
{
	bool multi = ctx->fmt.multiline;
	size_t n, i;
	int err = 0;

	if (!retisc_json__is_array(stack))
		return -EINVAL;
	n = retisc_json__arr_len(stack);

	retisc_strbuf__reset(&ctx->tmp);
	if (!multi)
		err = retisc_strbuf__putc(&ctx->tmp, '[');
	for (i = 0; i < n && !err; i++) {
		const char *frame = retisc_json__get_str(retisc_json__arr_get(stack, i), NULL);

		if (!frame)
			return -EINVAL;
		if (i)
			err = retisc_strbuf__puts(&ctx->tmp, multi ? "\n" : ", ");
		if (!err)
			err = retisc_strbuf__puts(&ctx->tmp, frame);
	}
	if (!err && !multi)
		err = retisc_strbuf__putc(&ctx->tmp, ']');
	if (err)
		return err;

	/*
	 * An empty stack still gets its separator, as Retis prints it: an
	 * empty (unindented) line in multi-line mode, "[]" in single-line.
	 */
	err = retisc_strbuf__puts(ctx->out, RETISC_FMT_SEP(&ctx->fmt));
	if (err)
		return err;
	return append_indented(ctx->out, ctx->tmp.buf ? ctx->tmp.buf : "", ctx->tmp.len,
			       multi ? ctx->base + STACK_INDENT : 0, true);
}

/* Append ctx->tmp as one body item, after sep. */
static int put_body_item(struct render_ctx *ctx, const char *sep)
{
	bool multi = ctx->fmt.multiline;
	int err;

	err = retisc_strbuf__puts(ctx->out, sep);
	if (err)
		return err;
	return append_indented(ctx->out, ctx->tmp.buf, ctx->tmp.len,
			       multi ? ctx->base + BODY_INDENT : 0, sep[0] == '\n');
}

static int render_items(struct render_ctx *ctx, struct item *items, size_t n)
{
	const struct retisc_json *kernel = retisc_json__obj_get(ctx->event, "kernel");
	bool has_kernel = present(kernel);
	bool has_tracking = present(retisc_json__obj_get(ctx->event, "tracking"));
	const struct retisc_json *stack;
	bool netns_shown = false;
	size_t i;
	int err;

	/* First line: pieces joined by single spaces. */
	for (i = 0; i < n; i++) {
		struct item *it = &items[i];

		if (it->sec->place != RETISC_PLACE_FIRST_LINE)
			continue;
		/* kernel else userspace, tracking else skb-tracking. */
		if ((has_kernel && !strcmp(it->key, "userspace")) ||
		    (has_tracking && !strcmp(it->key, "skb-tracking")))
			continue;
		err = format_section(ctx, it->key, it->sec->format, it->sec->priv, it->val);
		if (err)
			return err;
		if (!ctx->tmp.len)
			continue;
		err = retisc_strbuf__putc(ctx->out, ' ');
		if (!err)
			err = append_indented(ctx->out, ctx->tmp.buf, ctx->tmp.len,
					      ctx->fmt.multiline ? ctx->base + BODY_INDENT : 0,
					      false);
		if (err)
			return err;
	}

	/* Body: the stack trace first, rendered here since it belongs to no
	 * section of its own. */
	stack = retisc_json__obj_get(kernel, "stack_trace");
	if (present(stack)) {
		err = render_stack(ctx, stack);
		if (err)
			return err;
	}

	for (i = 0; i < n; i++) {
		struct item *it = &items[i];
		const char *sep = RETISC_FMT_SEP(&ctx->fmt);

		if (it->sec->place == RETISC_PLACE_FIRST_LINE)
			continue;
		err = format_section(ctx, it->key, it->sec->format, it->sec->priv, it->val);
		if (err)
			return err;
		/* A section with nothing to show (e.g. "skb":{}) is no item. */
		if (!ctx->tmp.len)
			continue;
		/* netns and dev share a line. */
		if (netns_shown && !strcmp(it->key, "dev"))
			sep = " ";
		err = put_body_item(ctx, sep);
		if (err)
			return err;
		netns_shown = !strcmp(it->key, "netns");
	}
	return 0;
}

static int render_event(struct render_ctx *ctx, const char *first_prefix)
{
	const struct retisc_json *event = ctx->event;
	const struct retisc_json *common = retisc_json__obj_get(event, "common");
	struct item stack_items[ITEMS_ON_STACK], *items = stack_items;
	size_t n_keys, n = 0, i;
	int err;

	if (!retisc_json__is_object(common))
		return -EINVAL;

	/* First line: prefix, then the common text. */
	if (first_prefix)
		err = retisc_strbuf__puts(ctx->out, first_prefix);
	else
		err = put_spaces(ctx->out, ctx->base);
	if (err)
		return err;
	err = render_common(ctx, common);
	if (!err)
		err = append_indented(ctx->out, ctx->tmp.buf, ctx->tmp.len,
				      ctx->fmt.multiline ? ctx->base + BODY_INDENT : 0, false);
	if (err)
		return err;

	n_keys = retisc_json__obj_len(event);
	if (n_keys > ITEMS_ON_STACK) {
		items = calloc(n_keys, sizeof(*items));
		if (!items)
			return -ENOMEM;
	}
	for (i = 0; i < n_keys; i++) {
		const char *key = retisc_json__obj_key(event, i);
		const struct retisc_json *val = retisc_json__obj_val(event, i);
		const struct retisc_section *sec;

		if ((key[0] == 'c' && !strcmp(key, "common")) || !present(val))
			continue;
		/* Unknown keys and sections without a formatter are not shown. */
		sec = retisc_registry__section_by_key(ctx->r->reg, key);
		if (!sec || !sec->format)
			continue;
		items[n] = (struct item){.key = key, .val = val, .sec = sec, .pos = i};
		item_place(&items[n]);
		n++;
	}
	items_sort(items, n);

	err = render_items(ctx, items, n);
	if (items != stack_items)
		free(items);
	return err;
}

int retisc_renderer__event(struct retisc_renderer *r, const struct retisc_json *event,
			   unsigned int base_indent, const char *first_prefix,
			   struct retisc_strbuf *out)
{
	struct render_ctx ctx = {.r = r, .event = event, .out = out, .base = base_indent};
	const struct retisc_json *startup;
	size_t start = out->len;
	int err;

	if (!retisc_json__is_object(event))
		return -EINVAL;
	ctx.fmt.sz = sizeof(ctx.fmt);
	ctx.fmt.out = &ctx.tmp;
	ctx.fmt.multiline = r->opts.multiline;
	ctx.fmt.link_layer = r->opts.link_layer;
	ctx.fmt.utc = r->opts.utc;
	ctx.fmt.event = event;

	/* The startup event's own time uses the offset it carries (§4.1). */
	startup = retisc_json__obj_get(event, "startup");
	if (present(startup))
		offset_from_startup(r, startup);

	err = render_event(&ctx, first_prefix);
	retisc_strbuf__release(&ctx.tmp);
	if (err)
		retisc_strbuf__truncate(out, start);
	return err;
}

int retisc_renderer__event_framed(struct retisc_renderer *r, const struct retisc_json *event,
				  struct retisc_strbuf *out)
{
	size_t start = out->len;
	int err;

	err = retisc_renderer__event(r, event, 0, NULL, out);
	if (!err)
		err = retisc_strbuf__puts(out, r->opts.multiline ? "\n\n" : "\n");
	if (err)
		retisc_strbuf__truncate(out, start);
	return err;
}

/* First-line prefix of the 2nd and later events of a series (B = 4). */
#define SERIES_PREFIX "  \u21b3 "
#define SERIES_INDENT 4

int retisc_renderer__series_framed(struct retisc_renderer *r, const struct retisc_json *series,
				   struct retisc_strbuf *out)
{
	size_t start = out->len, n, i;
	int err = 0;

	if (!retisc_json__is_array(series))
		return -EINVAL;
	n = retisc_json__arr_len(series);
	for (i = 0; i < n && !err; i++) {
		const struct retisc_json *event = retisc_json__arr_get(series, i);

		if (i)
			err = retisc_renderer__event(r, event, SERIES_INDENT, SERIES_PREFIX, out);
		else
			err = retisc_renderer__event(r, event, 0, NULL, out);
		if (!err)
			err = retisc_strbuf__putc(out, '\n');
	}
	/* The blank line goes between series, not between their events. */
	if (!err && n)
		err = retisc_strbuf__putc(out, '\n');
	if (err)
		retisc_strbuf__truncate(out, start);
	return err;
}
