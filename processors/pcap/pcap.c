// SPDX-License-Identifier: GPL-2.0-only
/*
 * pcap processor (doc/processing.md §4): events with a `packet` section become a
 * pcapng file. One fake interface per probe, one enhanced packet block per
 * event, the event's text as the packet comment and its JSON (without the
 * packet) as a custom option that the Retis Wireshark plugin decodes with
 * the schema stored in the custom block at the start of the file.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <retisc/base64.h>
#include "event_schema.h" /* generated from core/events/event_schema.json */
#include <retisc/plugin.h>
#include <retisc/plugin_util.h>
#include <retisc/procio.h>
#include <retisc/strbuf.h>

/* pcapng block types, option codes (pcapng draft, IANA PEN for Retis). */
#define BT_SHB 0x0A0D0D0AU
#define BT_IDB 0x00000001U
#define BT_EPB 0x00000006U
#define BT_CUSTOM_COPY 0x00000BADU
#define BYTE_ORDER_MAGIC 0x1A2B3C4DU
#define OPT_ENDOFOPT 0
#define OPT_COMMENT 1
#define OPT_CUSTOM_UTF8_COPY 2988
#define IF_NAME 2
#define IF_DESCRIPTION 3
#define IF_TSRESOL 9
#define LINKTYPE_ETHERNET 1
#define SNAPLEN 0xFFFF
#define RETIS_PEN 70000U
#define OPT_MAX 0xFFFF
#define NSEC_PER_SEC 1000000000ULL

struct pcap_ctx {
	const struct retisc_api *api;
	const char *out_path; /* NULL: stdout */
	struct retisc_out out;
	bool opened;
	/* -p: the one probe exported, by kernel.probe_type and symbol. */
	const char *want_type;
	char *want_symbol;
	/* Interfaces: "{probe_type}/{symbol}", id = index. */
	char **ifaces;
	size_t n_ifaces;
	bool has_offset;
	int64_t off_sec, off_nsec;
	struct retisc_text *text;
	struct retisc_strbuf blk, tmp;
	uint64_t matched, skipped;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: retisc pcap [OPTIONS] [INPUT]\n"
		"\n"
		"Export the packets of an events file as pcapng.\n"
		"\n"
		"Options:\n"
		"  -o, --out FILE          output file (default: stdout)\n"
		"  -p, --probe PROBE       export only the events of [TYPE:]TARGET\n"
		"      --keep-going        report malformed events and go on (exit 1 at the end)\n"
		"  -h, --help              print help\n");
}

/* -------------------------------------------------------------------------
 * --probe (collect's probe syntax, exact match, doc/cli.md §3.2).
 */
static int parse_probe(struct pcap_ctx *c, const char *arg)
{
	const struct retisc_api *api = c->api;
	char *s = strdup(arg), *opts, *colon, *target;
	const char *type;
	int ret = -EINVAL;
	size_t colons = 0;

	if (!s)
		return -ENOMEM;
	opts = strchr(s, '/');
	if (opts) {
		char *o = opts + 1, *next;
		bool stack = false;

		*opts = '\0';
		for (; o; o = next) {
			next = strchr(o, '/');
			if (next)
				*next++ = '\0';
			if (!*o) {
				api->log(RETISC_LOG_ERROR,
					 "Empty options are not allowed. Check your option list "
					 "doesn't terminate with '/'.");
				goto out;
			}
			if (strcmp(o, "stack")) {
				api->log(RETISC_LOG_ERROR, "'%s' is an invalid probe option.", o);
				goto out;
			}
			if (stack) {
				api->log(RETISC_LOG_ERROR, "duplicate options detected in %s.",
					 strchr(arg, '/') + 1);
				goto out;
			}
			stack = true;
		}
	}
	for (const char *p = s; *p; p++)
		colons += *p == ':';
	colon = strchr(s, ':');
	target = s;
	type = "kprobe";
	if (colon) {
		*colon = '\0';
		if (!strcmp(s, "kprobe") || !strcmp(s, "k")) {
			target = colon + 1;
		} else if (!strcmp(s, "kretprobe") || !strcmp(s, "kr")) {
			type = "kretprobe";
			target = colon + 1;
		} else if (!strcmp(s, "raw_tracepoint") || !strcmp(s, "tp")) {
			type = "raw_tracepoint";
			target = colon + 1;
		} else if (colons == 1) {
			*colon = ':';
			type = "raw_tracepoint";
		} else {
			api->log(RETISC_LOG_ERROR, "Invalid TYPE %s. See the help.", s);
			goto out;
		}
	} else if (!strncmp(s, "__tracepoint_", strlen("__tracepoint_"))) {
		target = s + strlen("__tracepoint_");
	}
	c->want_type = type;
	c->want_symbol = strdup(target);
	ret = c->want_symbol ? 0 : -ENOMEM;
out:
	free(s);
	return ret;
}

/* -------------------------------------------------------------------------
 * pcapng blocks, host byte order.
 */
static int put32(struct retisc_strbuf *sb, uint32_t v)
{
	return retisc_strbuf__append(sb, (const char *)&v, sizeof(v));
}

static int put16(struct retisc_strbuf *sb, uint16_t v)
{
	return retisc_strbuf__append(sb, (const char *)&v, sizeof(v));
}

static int pad4(struct retisc_strbuf *sb)
{
	static const char zero[4];

	return retisc_strbuf__append(sb, zero, (4 - sb->len % 4) % 4);
}

static int block_start(struct retisc_strbuf *sb, uint32_t type)
{
	retisc_strbuf__reset(sb);
	return put32(sb, type) ?: put32(sb, 0);
}

/* Trailing length, and the same length patched into the header. */
static int block_end(struct retisc_strbuf *sb)
{
	uint32_t len = (uint32_t)sb->len + 4;
	int err = put32(sb, len);

	if (!err)
		memcpy(sb->buf + 4, &len, sizeof(len));
	return err;
}

/* One option; data is n bytes, or two parts (PEN + payload) for customs. */
static int put_opt(struct retisc_strbuf *sb, uint16_t code, const void *pre, size_t pre_n,
		   const void *data, size_t n)
{
	return put16(sb, code) ?: put16(sb, (uint16_t)(pre_n + n)) ?:
	       (pre_n ? retisc_strbuf__append(sb, pre, pre_n) : 0) ?:
	       retisc_strbuf__append(sb, data, n) ?: pad4(sb);
}

static int put_end_opt(struct retisc_strbuf *sb)
{
	return put16(sb, OPT_ENDOFOPT) ?: put16(sb, 0);
}

static int emit_block(struct pcap_ctx *c)
{
	return retisc_out__write(&c->out, c->blk.buf, c->blk.len);
}

/*
 * The output is opened, and SHB + schema written, before the first EPB: a
 * run without packets leaves no file behind. -ECANCELED: could not open it
 * (reported here).
 */
static int open_output(struct pcap_ctx *c)
{
	const struct retisc_api *api = c->api;
	uint32_t pen = RETIS_PEN;
	struct retisc_json *schema;
	char msg[256];
	int err;

	if (c->opened)
		return 0;
	if (c->out_path) {
		if (retisc_out__open(&c->out, c->out_path)) {
			api->log(RETISC_LOG_ERROR, "Could not create or open '%s'", c->out_path);
			return -ECANCELED;
		}
	} else {
		if (fcntl(STDOUT_FILENO, F_GETFL) < 0) {
			api->log(RETISC_LOG_ERROR, "Could not open stdout");
			return -ECANCELED;
		}
		retisc_out__fd(&c->out, STDOUT_FILENO, "stdout");
	}
	c->opened = true;

	err = block_start(&c->blk, BT_SHB) ?: put32(&c->blk, BYTE_ORDER_MAGIC) ?:
	      put16(&c->blk, 1) ?: put16(&c->blk, 0) ?: put32(&c->blk, 0xFFFFFFFFU) ?:
	      put32(&c->blk, 0xFFFFFFFFU) ?: block_end(&c->blk) ?: emit_block(c);
	if (err)
		return err;

	schema =
		api->json_parse(retisc_event_schema, strlen(retisc_event_schema), msg, sizeof(msg));
	if (!schema) {
		api->log(RETISC_LOG_ERROR, "Invalid built-in schema: %s", msg);
		return -EINVAL;
	}
	retisc_strbuf__reset(&c->tmp);
	err = api->json_dump(schema, &c->tmp);
	api->json_free(schema);
	return err ?: block_start(&c->blk, BT_CUSTOM_COPY) ?: put32(&c->blk, pen) ?:
		      retisc_strbuf__append(&c->blk, c->tmp.buf, c->tmp.len) ?: pad4(&c->blk) ?:
		      block_end(&c->blk) ?: emit_block(c);
}

/* Interface id of a probe, writing its IDB on first use. */
static int iface_id(struct pcap_ctx *c, const char *type, const char *symbol, uint32_t *id)
{
	uint8_t tsresol = 9; /* nanoseconds */
	char *name, **v;
	int err;

	for (size_t i = 0; i < c->n_ifaces; i++) {
		size_t tl = strlen(type);

		if (!strncmp(c->ifaces[i], type, tl) && c->ifaces[i][tl] == '/' &&
		    !strcmp(c->ifaces[i] + tl + 1, symbol)) {
			*id = (uint32_t)i;
			return 0;
		}
	}
	if (asprintf(&name, "%s/%s", type, symbol) < 0)
		return -ENOMEM;
	v = realloc(c->ifaces, (c->n_ifaces + 1) * sizeof(*v));
	if (!v) {
		free(name);
		return -ENOMEM;
	}
	c->ifaces = v;
	v[c->n_ifaces] = name;
	*id = (uint32_t)c->n_ifaces++;

	retisc_strbuf__reset(&c->tmp);
	err = retisc_strbuf__printf(&c->tmp, "Fake interface for probe %s", name);
	return err ?: block_start(&c->blk, BT_IDB) ?: put16(&c->blk, LINKTYPE_ETHERNET) ?:
		      put16(&c->blk, 0) ?: put32(&c->blk, SNAPLEN) ?:
		      put_opt(&c->blk, IF_NAME, NULL, 0, name, strlen(name)) ?:
		      put_opt(&c->blk, IF_DESCRIPTION, NULL, 0, c->tmp.buf, c->tmp.len) ?:
		      put_opt(&c->blk, IF_TSRESOL, NULL, 0, &tsresol, 1) ?: put_end_opt(&c->blk) ?:
		      block_end(&c->blk) ?: emit_block(c);
}

/* The event's compact JSON without its packet key (§4.2). */
static int json_without_packet(const struct pcap_ctx *c, struct retisc_json *ev,
			       struct retisc_strbuf *sb)
{
	const struct retisc_api *api = c->api;
	struct retisc_json *pkt;
	size_t pos, n = api->json_obj_len(ev);
	int err;

	for (pos = 0; pos < n; pos++)
		if (!strcmp(api->json_obj_key(ev, pos), "packet"))
			break;
	pkt = api->json_obj_take(ev, "packet");
	err = api->json_dump(ev, sb);
	if (pkt) {
		int e = api->json_obj_insert(ev, pos, "packet", pkt);

		err = err ?: e;
	}
	return err;
}

static int write_epb(struct pcap_ctx *c, struct retisc_json *ev, const char *type,
		     const char *symbol)
{
	const struct retisc_api *api = c->api;
	const struct retisc_json *pkt = api->json_obj_get(ev, "packet");
	uint32_t pen = RETIS_PEN, iface;
	uint64_t ts, len = 0;
	const char *data;
	uint8_t *bytes;
	size_t dlen, clen;
	ssize_t n;
	int err;

	if (!api->json_get_u64(api->json_obj_get(api->json_obj_get(ev, "common"), "timestamp"),
			       &ts)) {
		api->log(RETISC_LOG_ERROR, "No common section in event");
		return -EINVAL;
	}
	data = api->json_get_str(api->json_obj_get(pkt, "data"), &dlen);
	api->json_get_u64(api->json_obj_get(pkt, "len"), &len);
	if (!data)
		return -EINVAL;
	bytes = malloc(retisc_base64__decoded_max(dlen) + 1);
	if (!bytes)
		return -ENOMEM;
	n = retisc_base64__decode(data, dlen, bytes, retisc_base64__decoded_max(dlen) + 1);
	if (n < 0) {
		free(bytes);
		return -EINVAL;
	}
	err = open_output(c) ?: iface_id(c, type, symbol, &iface);
	if (err)
		goto out;

	/* realtime = timestamp + offset (doc/files.md §2), modulo 2^64. */
	if (c->has_offset)
		ts += (uint64_t)c->off_sec * NSEC_PER_SEC + (uint64_t)c->off_nsec;
	err = block_start(&c->blk, BT_EPB) ?: put32(&c->blk, iface) ?:
	      put32(&c->blk, (uint32_t)(ts >> 32)) ?: put32(&c->blk, (uint32_t)ts) ?:
	      put32(&c->blk, (uint32_t)n) ?: put32(&c->blk, (uint32_t)len) ?:
	      retisc_strbuf__append(&c->blk, (const char *)bytes, (size_t)n) ?: pad4(&c->blk);
	if (err)
		goto out;

	retisc_strbuf__reset(&c->tmp);
	err = api->text_event(c->text, ev, 0, NULL, &c->tmp);
	if (err)
		goto out;
	clen = c->tmp.len < OPT_MAX ? c->tmp.len : OPT_MAX;
	err = put_opt(&c->blk, OPT_COMMENT, NULL, 0, c->tmp.buf, clen);
	if (err)
		goto out;

	retisc_strbuf__reset(&c->tmp);
	err = json_without_packet(c, ev, &c->tmp);
	if (err)
		goto out;
	if (c->tmp.len + sizeof(pen) <= OPT_MAX)
		err = put_opt(&c->blk, OPT_CUSTOM_UTF8_COPY, &pen, sizeof(pen), c->tmp.buf,
			      c->tmp.len);
	else
		api->log(RETISC_LOG_WARN, "Event JSON too large for a pcapng option (%zu bytes)",
			 c->tmp.len);
	err = err ?: put_end_opt(&c->blk) ?: block_end(&c->blk) ?: emit_block(c);
out:
	free(bytes);
	return err;
}

/* One event of the input (§4.1). */
static int handle(struct pcap_ctx *c, struct retisc_json *ev)
{
	const struct retisc_api *api = c->api;
	const struct retisc_json *kernel = api->json_obj_get(ev, "kernel");
	const struct retisc_json *su = api->json_obj_get(ev, "startup");
	const char *type, *symbol;

	if (api->json_type(kernel) != RETISC_JSON_OBJECT) {
		const struct retisc_json *off = api->json_obj_get(su, "clock_monotonic_offset");

		if (api->json_type(su) == RETISC_JSON_OBJECT &&
		    api->json_get_i64(api->json_obj_get(off, "sec"), &c->off_sec) &&
		    api->json_get_i64(api->json_obj_get(off, "nsec"), &c->off_nsec))
			c->has_offset = true;
		return 0;
	}
	type = api->json_get_str(api->json_obj_get(kernel, "probe_type"), NULL);
	symbol = api->json_get_str(api->json_obj_get(kernel, "symbol"), NULL);
	if (!type || !symbol)
		return 0;
	if (c->want_symbol && (strcmp(type, c->want_type) || strcmp(symbol, c->want_symbol)))
		return 0;
	c->matched++;
	if (api->json_type(api->json_obj_get(ev, "common")) != RETISC_JSON_OBJECT) {
		api->log(RETISC_LOG_ERROR, "No common section in event");
		return -EINVAL;
	}
	if (api->json_type(api->json_obj_get(ev, "packet")) != RETISC_JSON_OBJECT) {
		c->skipped++;
		return 0;
	}
	return write_epb(c, ev, type, symbol);
}

/* retisc_proc_line_fn: export one event. */
static int pcap_line(void *priv, struct retisc_json *ev, char *err, size_t errsz)
{
	struct pcap_ctx *c = priv;
	int ret = handle(c, ev);

	c->api->json_free(ev);
	if (ret == -EINVAL)
		snprintf(err, errsz, "cannot export event");
	return ret;
}

static int pcap_run(void *priv, const struct retisc_api *api, int argc, char **argv)
{
	struct pcap_ctx c = {.api = api};
	const char *probe = NULL, *input;
	/*
	 * Single values: given twice (by the user and by a profile, whose
	 * arguments follow the user's) is an error, as in Retis, rather than
	 * the profile silently winning.
	 */
	const struct retisc_proc_opt opts[] = {
		RETISC_PROC_STRING_ONCE("out", 'o', &c.out_path, "<OUT>"),
		RETISC_PROC_STRING_ONCE("probe", 'p', &probe, "<PROBE>"),
		{},
	};
	struct retisc_proc_loop loop = {.line = pcap_line, .priv = &c};
	struct retisc_proc_signals sig;
	struct retisc_reader *rd = NULL;
	bool signals = false;
	int ret, status = 0;

	(void)priv;
	retisc_out__fd(&c.out, -1, NULL);
	ret = retisc_proc__parse(argc, argv, opts, usage, &loop.keep_going, &input);
	if (ret >= 0)
		return ret;
	if (probe && parse_probe(&c, probe))
		return 1;

	rd = retisc_proc__open(api, input);
	if (!rd) {
		status = 1;
		goto out;
	}
	if (api->reader_kind(rd) != RETISC_READER_EVENTS) {
		api->log(RETISC_LOG_ERROR, "%s:1: Cannot read event from sorted file",
			 api->reader_path(rd));
		status = 1;
		goto out;
	}
	/* Comments use the default text: multi-line, monotonic, no -e. */
	c.text = api->text_new(api, true, false, false);
	if (!c.text) {
		api->log(RETISC_LOG_ERROR, "%s", strerror(errno));
		status = 1;
		goto out;
	}

	retisc_proc__signals_install(&sig);
	signals = true;
	ret = retisc_proc__each(api, rd, &loop, &status);
	/* A closed pipe ends silently; -ECANCELED was reported. */
	if (ret == -EPIPE || ret == -ECANCELED) {
		status = ret == -ECANCELED;
		goto out;
	}
	/* Any other stop but a bad line is reported as a write error (a
	 * reader error too, after the reader's own message). */
	if (ret < 0 && ret != -EINVAL) {
		api->log(RETISC_LOG_ERROR, "Cannot write to %s: %s",
			 c.out.name ? c.out.name : "output", strerror(-ret));
		status = 1;
		goto out;
	}

	/* Write errors are reported before the summary, not after it. */
	if (c.opened) {
		ret = retisc_out__flush(&c.out);
		if (ret == -EPIPE)
			goto out;
		if (ret) {
			api->log(RETISC_LOG_ERROR, "Cannot write to %s: %s", c.out.name,
				 strerror(-ret));
			status = 1;
			goto out;
		}
	}
	if (!c.matched && !status && !retisc_proc__stopped()) {
		api->log(RETISC_LOG_ERROR, "Probe not found in the events");
		status = 1;
		goto out;
	}
	api->log(RETISC_LOG_INFO, "%" PRIu64 " event(s) were processed", c.matched);
	if (c.skipped)
		api->log(RETISC_LOG_WARN,
			 "%" PRIu64 " event(s) were skipped because of missing raw packet",
			 c.skipped);
out:
	if (c.opened) {
		if (retisc_out__finish(api, &c.out, 0, status != 0))
			status = 1;
		if (c.out.broken)
			status = 0;
	}
	if (signals)
		retisc_proc__signals_restore(&sig);
	if (c.text)
		api->text_free(c.text);
	api->reader_free(rd);
	for (size_t i = 0; i < c.n_ifaces; i++)
		free(c.ifaces[i]);
	free(c.ifaces);
	free(c.want_symbol);
	retisc_strbuf__release(&c.blk);
	retisc_strbuf__release(&c.tmp);
	return status;
}

RETISC_PLUGIN_DEFINE_PROCESSOR("pcap", "0.1.0", "export stored events as pcapng", pcap_run)
