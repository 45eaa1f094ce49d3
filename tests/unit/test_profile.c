// SPDX-License-Identifier: GPL-2.0-only
/*
 * YAML profiles (core/profiles/profile.c, doc/cli.md §5): parsing of valid and broken
 * files (every error names the file, the line and the key), version rules,
 * kernel version conditions, argument mapping, search path, lookup by name
 * and the root permission rules.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

#include "profile.h"

static struct retisc_strbuf logs = RETISC_STRBUF_INIT;
static char tmp_dir[PATH_MAX];
static char err[2048];

static int setup(void **state)
{
	(void)state;
	if (make_tmp_dir(tmp_dir, "profile"))
		return -1;
	retisc_strbuf__reset(&logs);
	retisc_log__set_sink(log_capture, &logs);
	retisc_log__set_level(RETISC_LOG_DEBUG);
	unsetenv("RETISC_ALLOW_UNSAFE_PROFILES");
	err[0] = '\0';
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	retisc_log__set_sink(NULL, NULL);
	retisc_log__set_level(RETISC_LOG_INFO);
	rm_tree(tmp_dir);
	return 0;
}

static const char *tmp_path(const char *name)
{
	return ring_path("%s/%s", tmp_dir, name);
}

static const char *write_file(const char *name, const char *text, mode_t mode)
{
	const char *path = tmp_path(name);
	char dir[PATH_MAX], *slash;
	FILE *f;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		fail_msg("path too long");
	slash = strrchr(dir, '/');
	*slash = '\0';
	mkdir(dir, 0755);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

static struct retisc_profile_file *parse(const char *text)
{
	return retisc_profile_file__parse("t.yaml", text, strlen(text), err, sizeof(err));
}

/* Expect a parse error whose message starts with "t.yaml:<line>: " and
 * contains what. */
static void parse_fails(const char *text, unsigned int line, const char *what)
{
	struct retisc_profile_file *f = parse(text);
	char prefix[64];

	if (f) {
		retisc_profile_file__free(f);
		fail_msg("parsed although it should fail with '%s':\n%s", what, text);
	}
	assert_int_equal(errno, EINVAL);
	snprintf(prefix, sizeof(prefix), "t.yaml:%u: ", line);
	if (strncmp(err, prefix, strlen(prefix)) || !strstr(err, what))
		fail_msg("error '%s' lacks '%s' or '%s'", err, prefix, what);
}

/* The entry's arguments joined by spaces. */
static const char *args_str(const struct retisc_profile_entry *e)
{
	static char buf[4096];
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < e->n_args; i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s", i ? " " : "",
					e->args[i]);
	assert_null(e->args[e->n_args]);
	return buf;
}

static bool has_log(const char *s)
{
	return logs.buf && strstr(logs.buf, s);
}

/* -------------------------------------------------------------------------
 * Shipped profiles (doc/cli.md §5.5).
 */

/* Parsed from the source tree without the root permission checks: a CI
 * checkout may belong to another user than the one running the tests. */
static struct retisc_profile_file *load_shipped(const char *name)
{
	static char buf[65536];
	struct retisc_profile_file *f;
	char path[PATH_MAX];
	size_t n;
	FILE *in;

	snprintf(path, sizeof(path), "profiles/%s", name);
	in = fopen(path, "r");
	if (!in)
		fail_msg("%s: %s (run from the top of the source tree)", path, strerror(errno));
	n = fread(buf, 1, sizeof(buf), in);
	fclose(in);
	f = retisc_profile_file__parse(path, buf, n, err, sizeof(err));
	if (!f)
		fail_msg("%s: %s", path, err);
	return f;
}

static void test_shipped(void **state)
{
	struct retisc_profile_file *f;
	const struct retisc_profile *p;

	(void)state;
	f = load_shipped("drop.yaml");
	assert_int_equal(f->n, 2);
	p = f->profiles[0];
	assert_str_eq(p->name, "dropmon");
	assert_str_eq(p->about, "Drop monitor-like");
	assert_int_equal(p->major, 1);
	assert_int_equal(p->minor, 0);
	assert_int_equal(p->n_entries[RETISC_PROFILE_COLLECT], 1);
	assert_str_eq(p->entries[RETISC_PROFILE_COLLECT][0].name, "Default");
	assert_str_eq(args_str(&p->entries[RETISC_PROFILE_COLLECT][0]),
		      "--collectors skb-drop,skb,dev,ns --probe tp:skb:kfree_skb/stack");
	assert_str_eq(args_str(&p->entries[RETISC_PROFILE_PCAP][0]), "--probe tp:skb:kfree_skb");
	p = f->profiles[1];
	assert_str_eq(p->name, "nft-dropmon");
	assert_int_equal(p->line, 12);
	assert_str_eq(args_str(&p->entries[RETISC_PROFILE_COLLECT][0]),
		      "--collectors nft,skb,dev,ns --nft-verdicts drop --probe "
		      "kprobe:__nft_trace_packet/stack");
	assert_str_eq(args_str(&p->entries[RETISC_PROFILE_PCAP][0]),
		      "--probe kprobe:__nft_trace_packet");
	retisc_profile_file__free(f);

	f = load_shipped("ifdump.yaml");
	assert_int_equal(f->n, 1);
	assert_str_eq(args_str(&f->profiles[0]->entries[RETISC_PROFILE_COLLECT][0]),
		      "--probe tp:net:netif_receive_skb --probe tp:net:net_dev_start_xmit");
	assert_int_equal(f->profiles[0]->n_entries[RETISC_PROFILE_PCAP], 0);
	retisc_profile_file__free(f);

	f = load_shipped("generic.yaml");
	p = f->profiles[0];
	assert_str_eq(p->name, "generic");
	/* --collectors auto, then 25 probes in file order. */
	assert_int_equal(p->entries[RETISC_PROFILE_COLLECT][0].n_args, 2 + 2 * 25);
	assert_str_eq(p->entries[RETISC_PROFILE_COLLECT][0].args[1], "auto");
	assert_str_eq(p->entries[RETISC_PROFILE_COLLECT][0].args[3], "tp:net:netif_receive_skb");
	assert_str_eq(p->entries[RETISC_PROFILE_COLLECT][0].args[51], "kprobe:skb_scrub_packet");
	retisc_profile_file__free(f);
}

/* -------------------------------------------------------------------------
 * Argument mapping (doc/cli.md §5.2).
 */

static void test_args_mapping(void **state)
{
	struct retisc_profile_file *f;

	(void)state;
	/* Byte order of the keys as written ("Z" < "a" < "b_x" < "b~"), `_`
	 * becomes `-`, null is a flag, a list repeats the option, quoted
	 * numbers are strings, an empty list adds nothing. */
	f = parse("version: 1.0\n"
		  "name: m\n"
		  "collect:\n"
		  "  - args:\n"
		  "      b_x: ~\n"
		  "      a: [\"1\", '2', three]\n"
		  "      Z: \"true\"\n"
		  "      b~: null\n"
		  "      nothing: []\n"
		  "      ovs_enrich_rate: \"20\"\n");
	assert_non_null(f);
	assert_str_eq(args_str(&f->profiles[0]->entries[RETISC_PROFILE_COLLECT][0]),
		      "--Z true --a 1 --a 2 --a three --b-x --b~ --ovs-enrich-rate 20");
	retisc_profile_file__free(f);

	/* An entry may add nothing: it is still selected. */
	f = parse("version: '1.0'\nname: empty\ncollect:\n  - args: {}\npcap:\n");
	assert_non_null(f);
	assert_int_equal(f->profiles[0]->entries[RETISC_PROFILE_COLLECT][0].n_args, 0);
	assert_non_null(f->profiles[0]->entries[RETISC_PROFILE_COLLECT][0].args);
	assert_int_equal(f->profiles[0]->n_entries[RETISC_PROFILE_PCAP], 0);
	assert_str_eq(f->profiles[0]->about, "");
	retisc_profile_file__free(f);
}

/* -------------------------------------------------------------------------
 * Broken files: file, line and key in every message.
 */

static void test_errors(void **state)
{
	(void)state;
	parse_fails("version: 1.0\nname: x\ncolect:\n  - args: {}\n", 3, "unknown key 'colect'");
	parse_fails("version: 1.0\nname: x\ncollect:\n  - args: {}\n    nmae: y\n", 5,
		    "unknown key 'nmae' in entry");
	parse_fails("version: 1.0\nname: x\ncollect:\n  - when:\n      - type: symbol\n"
		    "        nam: foo\n    args: {}\n",
		    6, "unknown key 'nam' in condition");
	/* Wrong types. */
	parse_fails("version: 1.0\nname: [a, b]\n", 2,
		    "key 'name': expected a string, found a list");
	parse_fails("version: 1.0\nname: x\ncollect: foo\n", 3,
		    "key 'collect': expected a list of entries, found a string");
	parse_fails("version: 1.0\nname: x\npcap:\n  - foo\n", 4,
		    "key 'pcap': an entry must be a mapping");
	parse_fails("version: 1.0\nname: x\ncollect:\n  - args: [a]\n", 4,
		    "key 'args': expected a mapping of options, found a list");
	parse_fails("version: 1.0\nname: x\ncollect:\n  - args:\n      stop_after: 20\n", 5,
		    "key 'stop_after': expected a string, found a number (quote numbers");
	parse_fails("version: 1.0\nname: x\ncollect:\n  - args:\n      print: yes_please\n"
		    "      utc: true\n",
		    6, "key 'utc': expected a string, found a boolean");
	parse_fails("version: 1.0\nname: x\ncollect:\n  - args:\n      probe:\n        - a\n"
		    "        - [b]\n",
		    7, "key 'probe': expected a string, found a list");
	parse_fails("version: 1.0\nname: x\ncollect:\n  - args:\n      probe: {a: b}\n", 5,
		    "key 'probe': expected a string, a list of strings or null, found a mapping");
	parse_fails("version: 1.0\nname: x\ncollect:\n  - when: {type: symbol}\n    args: {}\n", 4,
		    "key 'when': expected a list of conditions, found a mapping");
	parse_fails("version: 1.0\nname: x\ncollect:\n  - when:\n      - type: symbol\n"
		    "        name: foo\n        exists: maybe\n    args: {}\n",
		    7, "key 'exists': expected true or false, found 'maybe'");
	parse_fails("version: 1.0\nname: x\ncollect:\n  - when:\n      - type: kconfig\n"
		    "    args: {}\n",
		    5, "key 'type': unknown condition type 'kconfig'");
	parse_fails("version: 1.0\nname: x\ncollect:\n  - when:\n      - type: version\n"
		    "        version: \">=4.x\"\n    args: {}\n",
		    6, "key 'version': invalid version '4.x'");
	parse_fails("version: 1.0\nname: x\ncollect:\n  - when:\n      - type: version\n"
		    "        version: \"4.1\"\n    args: {}\n",
		    6, "lacks an operator");
	/* Missing keys: reported on the mapping that lacks them. */
	parse_fails("name: x\ncollect: []\n", 1, "missing key 'version'");
	parse_fails("version: 1.0\nabout: no name\n", 1, "missing key 'name'");
	parse_fails("version: 1.0\nname: x\ncollect:\n  - name: e\n", 4, "missing key 'args'");
	parse_fails("version: 1.0\nname: x\ncollect:\n  - when:\n      - name: foo\n    args: {}\n",
		    5, "missing key 'type' in condition");
	/* Versions. */
	parse_fails("version: one\nname: x\n", 1, "key 'version': invalid profile version 'one'");
	parse_fails("version: 1\nname: x\n", 1, "key 'version': invalid profile version '1'");
	/* Duplicate keys. */
	parse_fails("version: 1.0\nname: x\nname: y\n", 3, "duplicate key 'name' in profile");
	parse_fails("version: 1.0\nname: x\ncollect:\n  - args:\n      probe: a\n"
		    "      utc: ~\n      probe: b\n",
		    7, "duplicate key 'probe' in args (first on line 5)");
	parse_fails("version: 1.0\nname: x\ncollect:\n  - {args: {}, args: {}}\n", 4,
		    "duplicate key 'args' in collect");
	/* A section for a subcommand that takes no profile. */
	parse_fails("version: 1.0\nname: x\nprint:\n  - args: {}\n", 3,
		    "key 'print': subcommand print does not support profiles");
	parse_fails("version: 1.0\nname: x\nsort: []\n", 3, "subcommand sort does not support");
	/* Not a mapping, YAML syntax. */
	parse_fails("- a\n- b\n", 1, "a profile must be a mapping, found a list");
	parse_fails("version: 1.0\nname: x\ncollect:\n  - args: {probe: [a, b}\n", 4,
		    "invalid YAML");
	/* The second document is the broken one. */
	parse_fails("version: 1.0\nname: a\n---\nversion: 1.0\nname: b\nabuot: typo\n", 6,
		    "unknown key 'abuot'");
}

/* -------------------------------------------------------------------------
 * Version rules (doc/cli.md §5.1).
 */

/*
 * An alias bomb: 200 list items, named by 200 keys, in 200 entries, is 8
 * million words once expanded (the 10 KB file that allocated 2 GB). The
 * parser stops at RETISC_PROFILE_MAX_ARGS words, naming the line.
 */
static void test_alias_bomb(void **state)
{
	struct retisc_strbuf y = RETISC_STRBUF_INIT;
	struct retisc_profile_file *f;

	(void)state;
	retisc_strbuf__puts(&y, "version: 1.0\nname: bomb\ncollect:\n  - args: &A {k0: &L [");
	for (int i = 0; i < 200; i++)
		retisc_strbuf__printf(&y, "%sa", i ? "," : "");
	retisc_strbuf__puts(&y, "]");
	for (int i = 1; i < 200; i++)
		retisc_strbuf__printf(&y, ", k%d: *L", i);
	retisc_strbuf__puts(&y, "}\n");
	for (int i = 0; i < 200; i++)
		retisc_strbuf__puts(&y, "  - args: *A\n");
	f = retisc_profile_file__parse("t.yaml", y.buf, y.len, err, sizeof(err));
	assert_null(f);
	assert_non_null(strstr(err, "t.yaml:"));
	assert_non_null(strstr(err, "too many arguments once aliases are expanded (more than "
				    "65536 in this file)"));
	retisc_strbuf__release(&y);
}

static void test_version_rules(void **state)
{
	struct retisc_profile_file *f;

	(void)state;
	f = parse("version: 1.0\nname: full\n---\nversion: \"1.3\"\nname: newer\n---\n"
		  "version: 2.0\nname: other\n---\nversion: 0.9\nname: older\n---\n");
	assert_non_null(f);
	assert_int_equal(f->n, 4);
	assert_int_equal(retisc_profile__support(f->profiles[0]), RETISC_PROFILE_FULL);
	assert_int_equal(retisc_profile__support(f->profiles[1]), RETISC_PROFILE_PARTIAL);
	assert_int_equal(retisc_profile__support(f->profiles[2]), RETISC_PROFILE_UNSUPPORTED);
	assert_int_equal(retisc_profile__support(f->profiles[3]), RETISC_PROFILE_UNSUPPORTED);

	assert_true(retisc_profile__usable(f->profiles[0]));
	assert_null(logs.buf);
	assert_true(retisc_profile__usable(f->profiles[1]));
	assert_true(has_log("WARN  t.yaml:4: key 'version': profile newer has version 1.3, newer "
			    "than the supported 1.0"));
	assert_false(retisc_profile__usable(f->profiles[2]));
	assert_true(has_log("WARN  t.yaml:7: key 'version': unsupported profile version 2.0 of "
			    "profile other (supported: 1.x), skipping it"));
	retisc_profile_file__free(f);
}

/* Unsupported profiles are skipped by lookup and expansion; newer minor
 * versions apply. */
static void test_version_rules_applied(void **state)
{
	struct retisc_profile_args out = {};
	const char *dirs[] = {tmp_dir, NULL};
	const char *vals[] = {"newer,other", NULL};
	char path[PATH_MAX];
	struct retisc_profile *p;
	int ret;

	(void)state;
	write_file("v.yaml",
		   "version: 1.7\nname: newer\ncollect:\n  - args: {probe: a}\n---\n"
		   "version: 2.0\nname: other\ncollect:\n  - args: {probe: b}\n",
		   0644);
	p = retisc_profile__find(dirs, "other", err, sizeof(err));
	assert_null(p);
	assert_int_equal(errno, ENOENT);
	assert_str_eq(err, "Profile with name other not found");
	assert_true(has_log("unsupported profile version 2.0 of profile other"));
	/* Skipped as if absent: the name is then not found. */
	retisc_strbuf__reset(&logs);
	ret = retisc_profile__expand(vals, dirs, RETISC_PROFILE_COLLECT, NULL, &out, err,
				     sizeof(err));
	assert_int_equal(ret, -ENOENT);
	assert_int_equal(out.n, 2);
	assert_str_eq(out.v[1], "a");
	assert_true(has_log("has version 1.7, newer than the supported 1.0"));
	assert_true(has_log("Applying profile newer"));
	assert_true(has_log("unsupported profile version 2.0 of profile other"));
	assert_false(has_log("Applying profile other"));
	retisc_profile_args__release(&out);

	/* Given as a path, it is skipped and the others still apply. */
	strcpy(path, tmp_path("w/other.yaml"));
	vals[0] = path;
	write_file("w/other.yaml", "version: 2.1\nname: other\ncollect:\n  - args: {probe: b}\n",
		   0644);
	retisc_strbuf__reset(&logs);
	ret = retisc_profile__expand(vals, dirs, RETISC_PROFILE_COLLECT, NULL, &out, err,
				     sizeof(err));
	assert_int_equal(ret, 0);
	assert_int_equal(out.n, 0);
	assert_true(has_log("other.yaml:1: key 'version': unsupported profile version 2.1"));
	retisc_profile_args__release(&out);
}

/* -------------------------------------------------------------------------
 * Kernel versions (doc/cli.md §5.1 comparison rules and examples).
 */

static void kver(const char *release, unsigned long major, unsigned long minor, unsigned long patch,
		 long build)
{
	struct retisc_kver k;

	if (retisc_kver__parse_release(release, &k))
		fail_msg("cannot parse %s", release);
	assert_int_equal(k.major, major);
	assert_int_equal(k.minor, minor);
	assert_int_equal(k.patch, patch);
	assert_int_equal(k.has_build, build >= 0);
	if (build >= 0)
		assert_int_equal(k.build, (unsigned long)build);
}

static void test_kernel_release(void **state)
{
	struct retisc_kver k;

	(void)state;
	kver("6.2.14-300.fc38.x86_64", 6, 2, 14, 300);
	kver("6.2.0-20-generic", 6, 2, 0, 20);
	kver("6.4.12-arch1-1", 6, 4, 12, 1);
	kver("6.2.14.fc38.x86_64", 6, 2, 14, -1);
	kver("6.18.44-fc-v657", 6, 18, 44, -1);
	kver("5.14.0+", 5, 14, 0, -1);
	kver("5.10.0-rc1+-7", 5, 10, 0, 7);
	kver("4.18.0-553.el8_10.x86_64", 4, 18, 0, 553);
	assert_int_equal(retisc_kver__parse_release("6.2", &k), -EINVAL);
	assert_int_equal(retisc_kver__parse_release("6", &k), -EINVAL);
	assert_int_equal(retisc_kver__parse_release("6.x.1", &k), -EINVAL);
	assert_int_equal(retisc_kver__parse_release("6.2.rc1", &k), -EINVAL);
	assert_int_equal(retisc_kver__parse_release("6.2.", &k), -EINVAL);
	assert_int_equal(retisc_kver__parse_release("6.2.-1", &k), -EINVAL);
}

static bool holds(const char *release, const char *req)
{
	struct retisc_kver k;
	char msg[256];
	bool ok = false;

	assert_int_equal(retisc_kver__parse_release(release, &k), 0);
	if (retisc_kver__match(&k, req, &ok, msg, sizeof(msg)))
		fail_msg("'%s': %s", req, msg);
	return ok;
}

static void test_kernel_compare(void **state)
{
	const char *fc = "6.2.14-300.fc38.x86_64", *nob = "6.2.14.fc38.x86_64";
	struct retisc_kver k = {.major = 6};
	char msg[256];
	bool ok;

	(void)state;
	assert_true(holds(fc, ">4.6.1"));
	assert_true(holds(fc, "> 4.6.1"));
	assert_false(holds(fc, "=4.6.1"));
	assert_true(holds(fc, "!=4.6.1"));
	/* Parts the comparator does not give compare equal. */
	assert_true(holds(fc, "=6"));
	assert_true(holds(fc, "=6.2"));
	assert_true(holds(fc, "=6.2.14"));
	assert_false(holds(fc, ">6.2"));
	assert_true(holds(fc, ">=6.2"));
	assert_true(holds(fc, "<=6.2"));
	/* Builds: both present -> numeric. */
	assert_true(holds(fc, "=6.2.14-300"));
	assert_false(holds(fc, "=6.2.14-299"));
	assert_true(holds(fc, ">6.2.14-299"));
	assert_true(holds(fc, "<6.2.14-301"));
	assert_true(holds(fc, ">= 6.2.14-300"));
	/* Only the comparator has one: the kernel counts as greater. */
	assert_false(holds(nob, "=6.2.14-300"));
	assert_true(holds(nob, ">6.2.14-300"));
	assert_false(holds(nob, "<=6.2.14-300"));
	assert_true(holds(nob, "=6.2.14"));
	/* Build given without patch still compares builds. */
	assert_true(holds(fc, ">6.2-100"));
	/* Two comparators: both must hold. */
	assert_false(holds(fc, ">=3.5.5, <6"));
	assert_true(holds(fc, ">=3.5.5, <7"));
	assert_true(holds(fc, ">=3.5.5,<6.3"));
	assert_false(holds(fc, ">=6.3, <7"));
	assert_true(holds("6.2.0-20-generic", ">=6.2.0-19, <6.2.0-21"));
	assert_false(holds("6.4.12-arch1-1", ">6.4.12-1"));
	assert_true(holds("6.4.12-arch1-1", ">6.4.11"));
	/* Malformed requirements. */
	assert_int_equal(retisc_kver__match(&k, "6.2", &ok, msg, sizeof(msg)), -EINVAL);
	assert_int_equal(retisc_kver__match(&k, ">=", &ok, msg, sizeof(msg)), -EINVAL);
	assert_int_equal(retisc_kver__match(&k, ">=a", &ok, msg, sizeof(msg)), -EINVAL);
	assert_int_equal(retisc_kver__match(&k, ">=1.2.3.4", &ok, msg, sizeof(msg)), -EINVAL);
	assert_int_equal(retisc_kver__match(&k, ">=1,<2,<3", &ok, msg, sizeof(msg)), -EINVAL);
	assert_int_equal(retisc_kver__match(&k, ">=1,", &ok, msg, sizeof(msg)), -EINVAL);
	assert_int_equal(retisc_kver__match(&k, "=>1", &ok, msg, sizeof(msg)), -EINVAL);
}

/* -------------------------------------------------------------------------
 * Conditions and entry selection: doc/cli.md's example profile.
 */

static const char example_profile[] = "version: 1.0\n"
				      "name: example-profile\n"
				      "about: Collects information from a certain area\n"
				      "collect:\n"
				      "  - name: A minimum kernel version that has a symbol\n"
				      "    when:\n"
				      "      - type: version\n"
				      "        version: \">4.6.1\"\n"
				      "      - type: symbol\n"
				      "        name: some_kprobe\n"
				      "    args:\n"
				      "      collectors: skb\n"
				      "      ovs-track: ~\n"
				      "  - name: The specific kernel without a symbol\n"
				      "    when:\n"
				      "      - type: version\n"
				      "        version: \"=4.6.1\"\n"
				      "      - type: symbol\n"
				      "        name: some:tracepoint\n"
				      "        exists: false\n"
				      "    args:\n"
				      "      collectors: skb\n"
				      "  - name: Default\n"
				      "    args:\n"
				      "      collectors: skb,dev\n";

static bool fake_symbols(const char *name, void *priv)
{
	const char *const *have = priv;

	for (; *have; have++)
		if (!strcmp(*have, name))
			return true;
	return false;
}

static const char *select_entry(const struct retisc_profile *p, const char *release,
				const char *const *symbols)
{
	struct retisc_profile_env env = {
		.release = release,
		.symbol_exists = fake_symbols,
		.priv = (void *)symbols,
	};
	const struct retisc_profile_entry *e;

	if (retisc_profile__select(p, RETISC_PROFILE_COLLECT, &env, &e, err, sizeof(err)))
		fail_msg("select: %s", err);
	return e ? e->name : NULL;
}

static void test_conditions(void **state)
{
	const char *none[] = {NULL}, *kp[] = {"some_kprobe", NULL},
		   *tp[] = {"some:tracepoint", NULL};
	const struct retisc_profile_entry *e;
	struct retisc_profile_env env = {
		.release = "4.6", .symbol_exists = fake_symbols, .priv = (void *)none};
	struct retisc_profile_file *f = parse(example_profile);
	const struct retisc_profile *p;

	(void)state;
	assert_non_null(f);
	p = f->profiles[0];
	assert_int_equal(p->n_entries[RETISC_PROFILE_COLLECT], 3);
	assert_int_equal(p->entries[RETISC_PROFILE_COLLECT][0].n_when, 2);
	assert_int_equal(p->entries[RETISC_PROFILE_COLLECT][0].when[0].type, RETISC_COND_VERSION);
	assert_int_equal(p->entries[RETISC_PROFILE_COLLECT][0].when[0].line, 7);
	assert_true(p->entries[RETISC_PROFILE_COLLECT][1].when[1].type == RETISC_COND_SYMBOL &&
		    !p->entries[RETISC_PROFILE_COLLECT][1].when[1].exists);
	assert_str_eq(args_str(&p->entries[RETISC_PROFILE_COLLECT][0]),
		      "--collectors skb --ovs-track");

	assert_str_eq(select_entry(p, "6.2.14-300.fc38.x86_64", kp),
		      "A minimum kernel version that has a symbol");
	assert_str_eq(select_entry(p, "6.2.14-300.fc38.x86_64", none), "Default");
	assert_str_eq(select_entry(p, "4.6.1-1", none), "The specific kernel without a symbol");
	assert_str_eq(select_entry(p, "4.6.1-1", tp), "Default");
	assert_str_eq(select_entry(p, "4.6.0", kp), "Default");
	/* No pcap entry at all. */
	assert_int_equal(retisc_profile__select(p, RETISC_PROFILE_PCAP, &env, &e, err, sizeof(err)),
			 0);
	assert_null(e);
	/* A kernel release that cannot be compared is an error, not a miss. */
	assert_int_equal(
		retisc_profile__select(p, RETISC_PROFILE_COLLECT, &env, &e, err, sizeof(err)),
		-EINVAL);
	assert_str_eq(err, "Cannot parse the kernel release '4.6'");
	retisc_profile_file__free(f);

	/* Only the failing entries: nothing is selected. */
	f = parse("version: 1.0\nname: n\ncollect:\n  - when:\n      - {type: symbol, name: x}\n"
		  "    args: {probe: a}\n");
	assert_non_null(f);
	assert_null(select_entry(f->profiles[0], "6.1.0", none));
	retisc_profile_file__free(f);
}

/* The default symbol lookup against the running kernel (BTF + kallsyms). */
static void test_symbols_running_kernel(void **state)
{
	(void)state;
	if (access("/sys/kernel/btf/vmlinux", R_OK) || geteuid() != 0)
		skip();
	assert_true(retisc_profile__symbol_exists("skb:kfree_skb", NULL));
	assert_true(retisc_profile__symbol_exists("net:netif_receive_skb", NULL));
	assert_true(retisc_profile__symbol_exists("consume_skb", NULL));
	assert_false(retisc_profile__symbol_exists("retisc_no_such_function", NULL));
	assert_false(retisc_profile__symbol_exists("skb:retisc_no_such_event", NULL));
	assert_false(retisc_profile__symbol_exists("skb:*", NULL));
	assert_false(retisc_profile__symbol_exists("a:b:c", NULL));
	if (access("/sys/kernel/tracing/available_events", R_OK) == 0)
		assert_false(retisc_profile__symbol_exists("nogroup:kfree_skb", NULL));
}

/* -------------------------------------------------------------------------
 * Search path, lookup, duplicates.
 */

static void test_search_path(void **state)
{
	const char *home = getenv("HOME");
	char *saved = home ? strdup(home) : NULL;
	const char *want[16];
	size_t n = 0, i;
	char **dirs;

	(void)state;
	setenv("HOME", "/home/u", 1);
	dirs = retisc_profile__search_path("/extra", "/build/profiles");
	assert_non_null(dirs);
	want[n++] = "/extra";
	want[n++] = "/home/u/.config/retisc/profiles";
	want[n++] = "/etc/retisc/profiles";
	if (strcmp(RETISC_PROFILEDIR, "/usr/share/retisc/profiles"))
		want[n++] = RETISC_PROFILEDIR;
	want[n++] = "/usr/share/retisc/profiles";
	want[n++] = "/home/u/.config/retis/profiles";
	want[n++] = "/usr/share/retis/profiles";
	want[n++] = "/etc/retis/profiles";
	want[n++] = "/build/profiles";
	for (i = 0; dirs[i]; i++) {
		assert_true(i < n);
		assert_str_eq(dirs[i], want[i]);
	}
	assert_int_equal(i, n);
	retisc_profile__dirs_free(dirs);

	/* No -P, no HOME, no build tree. */
	unsetenv("HOME");
	dirs = retisc_profile__search_path(NULL, NULL);
	assert_str_eq(dirs[0], "/etc/retisc/profiles");
	for (i = 0; dirs[i]; i++)
		;
	assert_str_eq(dirs[i - 1], "/etc/retis/profiles");
	retisc_profile__dirs_free(dirs);
	if (saved)
		setenv("HOME", saved, 1);
	free(saved);
}

static void test_lookup(void **state)
{
	char user[PATH_MAX], missing[PATH_MAX], system[PATH_MAX];
	const char *dirs[] = {user, missing, system, NULL};
	struct retisc_profile *p;

	(void)state;
	strcpy(user, tmp_path("user"));
	strcpy(missing, tmp_path("missing"));
	strcpy(system, tmp_path("system"));
	write_file("user/mine.yaml", "version: 1.0\nname: ifdump\nabout: user copy\n", 0644);
	write_file("user/broken.yml", "version: [\n", 0644);
	write_file("user/notes.txt", "version: 1.0\nname: txt\n", 0644);
	write_file("system/ifdump.yaml", "version: 1.0\nname: ifdump\nabout: shipped\n", 0644);
	write_file("system/two.yaml",
		   "version: 1.0\nname: a\n---\nversion: 1.0\nname: other\n---\n"
		   "version: 1.0\nname: a\n",
		   0644);
	write_file("system/x1.yaml", "version: 1.0\nname: dup\n", 0644);
	write_file("system/x2.yml", "\n\nversion: 1.0\nname: dup\n", 0644);

	/* The first directory holding the name wins; unparsable files are
	 * skipped (debug), other extensions ignored. */
	p = retisc_profile__find(dirs, "ifdump", err, sizeof(err));
	assert_non_null(p);
	assert_str_eq(p->about, "user copy");
	retisc_profile__free(p);
	assert_true(has_log("Skipping invalid profile file"));
	assert_true(has_log("broken.yml:2: invalid YAML"));
	p = retisc_profile__find(dirs, "other", err, sizeof(err));
	assert_non_null(p);
	assert_str_eq(p->path, tmp_path("system/two.yaml"));
	retisc_profile__free(p);
	p = retisc_profile__find(dirs, "txt", err, sizeof(err));
	assert_null(p);
	assert_int_equal(errno, ENOENT);
	assert_str_eq(err, "Profile with name txt not found");

	/* Two profiles with the name in one directory, in one file or in two. */
	p = retisc_profile__find(dirs, "a", err, sizeof(err));
	assert_null(p);
	assert_int_equal(errno, EEXIST);
	assert_true(strstr(err, "Found two profiles with name 'a' in ") == err);
	assert_non_null(strstr(err, tmp_path("system")));
	assert_non_null(strstr(err, "two.yaml:1 and "));
	assert_non_null(strstr(err, "two.yaml:7)"));
	p = retisc_profile__find(dirs, "dup", err, sizeof(err));
	assert_null(p);
	assert_int_equal(errno, EEXIST);
	assert_non_null(strstr(err, "x1.yaml:1 and "));
	assert_non_null(strstr(err, "x2.yml:3)"));
}

static void test_open_path(void **state)
{
	const char *dirs[] = {tmp_dir, NULL};
	struct retisc_profile *p;
	const char *path;

	(void)state;
	path = write_file("one.yaml", "version: 1.0\nname: by-path\n", 0644);
	p = retisc_profile__open(path, dirs, err, sizeof(err));
	assert_non_null(p);
	assert_str_eq(p->name, "by-path");
	retisc_profile__free(p);
	/* By name through the search path (the directory is tmp_dir). */
	p = retisc_profile__open("by-path", dirs, err, sizeof(err));
	assert_non_null(p);
	retisc_profile__free(p);

	path = write_file("sub/two.yaml", "version: 1.0\nname: a\n---\nversion: 1.0\nname: b\n",
			  0644);
	p = retisc_profile__open(path, dirs, err, sizeof(err));
	assert_null(p);
	assert_non_null(strstr(err, "Could not import profile: "));
	assert_non_null(strstr(err, "holds 2 profiles, expected one"));
	path = write_file("sub/bad.yaml", "version: 1.0\nname: a\nfoo: bar\n", 0644);
	p = retisc_profile__open(path, dirs, err, sizeof(err));
	assert_null(p);
	assert_non_null(strstr(err, "Could not import profile: "));
	assert_non_null(strstr(err, "bad.yaml:3: unknown key 'foo'"));
}

/* -------------------------------------------------------------------------
 * Root permission rules.
 */

static void test_permissions(void **state)
{
	char d[PATH_MAX];
	const char *dirs[2] = {NULL, NULL};
	struct retisc_profile_file *f;
	struct retisc_profile *p;
	const char *path;

	(void)state;
	if (geteuid() != 0)
		skip();
	/* A file others can write. */
	path = write_file("open.yaml", "version: 1.0\nname: o\n", 0666);
	f = retisc_profile_file__load(path, err, sizeof(err));
	assert_null(f);
	assert_int_equal(errno, EPERM);
	assert_non_null(strstr(err, "Refusing profile file "));
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "mode 666"));
	p = retisc_profile__open(path, NULL, err, sizeof(err));
	assert_null(p);
	assert_int_equal(errno, EPERM);
	assert_non_null(strstr(err, path));

	/* Found by name: skipped with a warning naming it. */
	dirs[0] = tmp_dir;
	p = retisc_profile__find(dirs, "o", err, sizeof(err));
	assert_null(p);
	assert_int_equal(errno, ENOENT);
	assert_true(has_log("WARN  Skipping profile file: Refusing profile file "));

	/* A file owned by another user. */
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(chown(path, 65534, 65534), 0);
	assert_null(retisc_profile_file__load(path, err, sizeof(err)));
	assert_non_null(strstr(err, "owner uid 65534"));
	assert_int_equal(chown(path, 0, 0), 0);
	f = retisc_profile_file__load(path, err, sizeof(err));
	assert_non_null(f);
	retisc_profile_file__free(f);

	/* A directory others can write; sticky is fine. */
	path = write_file("d/p.yaml", "version: 1.0\nname: in-d\n", 0644);
	assert_int_equal(chmod(tmp_path("d"), 0777), 0);
	assert_null(retisc_profile_file__load(path, err, sizeof(err)));
	assert_non_null(strstr(err, "Refusing profile directory "));
	assert_non_null(strstr(err, tmp_path("d")));
	assert_int_equal(retisc_profile__check_dir(tmp_path("d"), err, sizeof(err)), -EPERM);
	strcpy(d, tmp_path("d"));
	dirs[0] = d;
	retisc_strbuf__reset(&logs);
	assert_null(retisc_profile__find(dirs, "in-d", err, sizeof(err)));
	assert_true(has_log("WARN  Skipping profile directory: Refusing profile directory "));
	assert_int_equal(chmod(tmp_path("d"), 01777), 0);
	p = retisc_profile__find(dirs, "in-d", err, sizeof(err));
	assert_non_null(p);
	retisc_profile__free(p);

	/* The development override: accepted, loudly. */
	assert_int_equal(chmod(tmp_path("d"), 0777), 0);
	setenv("RETISC_ALLOW_UNSAFE_PROFILES", "1", 1);
	retisc_strbuf__reset(&logs);
	f = retisc_profile_file__load(path, err, sizeof(err));
	assert_non_null(f);
	retisc_profile_file__free(f);
	assert_true(has_log("WARN  Reading profile directory "));
	assert_true(has_log("RETISC_ALLOW_UNSAFE_PROFILES=1 is set"));
	unsetenv("RETISC_ALLOW_UNSAFE_PROFILES");
	assert_int_equal(chmod(tmp_path("d"), 0755), 0);
}

/* -------------------------------------------------------------------------
 * Expansion of -p values (doc/cli.md §5.4).
 */

static void test_expand(void **state)
{
	const char *dirs[] = {tmp_dir, NULL};
	const char *vals[] = {"dropmon,ifdump", "generic", NULL};
	const char *bad[] = {"ifdump,nope", NULL};
	struct retisc_profile_args out = {};
	int ret;

	(void)state;
	write_file("drop.yaml",
		   "version: 1.0\nname: dropmon\ncollect:\n  - args:\n"
		   "      collectors: skb-drop,skb,dev,ns\n      probe: tp:skb:kfree_skb/stack\n"
		   "pcap:\n  - args:\n      probe: tp:skb:kfree_skb\n",
		   0644);
	write_file("ifdump.yaml",
		   "version: 1.0\nname: ifdump\ncollect:\n  - name: Mine\n    args:\n"
		   "      probe: [tp:net:netif_receive_skb, tp:net:net_dev_start_xmit]\n",
		   0644);
	write_file("generic.yaml", "version: 1.0\nname: generic\ncollect: []\n", 0644);

	ret = retisc_profile__expand(vals, dirs, RETISC_PROFILE_COLLECT, NULL, &out, err,
				     sizeof(err));
	assert_int_equal(ret, 0);
	assert_int_equal(out.n, 8);
	assert_str_eq(out.v[0], "--collectors");
	assert_str_eq(out.v[3], "tp:skb:kfree_skb/stack");
	assert_str_eq(out.v[7], "tp:net:net_dev_start_xmit");
	assert_null(out.v[8]);
	assert_true(has_log("Applying profile dropmon\n"));
	assert_true(has_log("Applying profile ifdump: Mine\n"));
	assert_true(has_log("WARN  None of the collect profiles defined in generic were selected"));
	retisc_profile_args__release(&out);

	/* pcap: the entry name is always logged. */
	retisc_strbuf__reset(&logs);
	ret = retisc_profile__expand(vals, dirs, RETISC_PROFILE_PCAP, NULL, &out, err, sizeof(err));
	assert_int_equal(ret, 0);
	assert_int_equal(out.n, 2);
	assert_str_eq(out.v[1], "tp:skb:kfree_skb");
	assert_true(has_log("Applying profile dropmon: Default\n"));
	assert_true(has_log("None of the pcap profiles defined in ifdump were selected"));
	retisc_profile_args__release(&out);

	/* A missing profile stops the expansion with its error. */
	ret = retisc_profile__expand(bad, dirs, RETISC_PROFILE_COLLECT, NULL, &out, err,
				     sizeof(err));
	assert_int_equal(ret, -ENOENT);
	assert_str_eq(err, "Profile with name nope not found");
	retisc_profile_args__release(&out);
}

/* Sink credential files (doc/cli.md §5.1): variables, never secrets. */
static void test_credentials(void **state)
{
	const char *dirs[] = {tmp_dir, NULL};
	const char *vals[] = {"fleet,fleet2", NULL};
	struct retisc_profile_args out = {};
	struct retisc_profile_file *f;
	const struct retisc_profile_entry *e;

	(void)state;
	f = parse("version: 1.0\nname: x\ncollect:\n  - args: {sink: nats://broker/ev}\n"
		  "    credentials:\n      nats:\n        token_file: /etc/retisc/nats.token\n"
		  "        ca: /etc/retisc/ca.pem\n        user: retisc\n"
		  "      my-sink:\n        password_file: /run/pw\n");
	assert_non_null(f);
	e = &f->profiles[0]->entries[RETISC_PROFILE_COLLECT][0];
	assert_int_equal(e->n_env, 8);
	assert_str_eq(e->env[0], "RETISC_NATS_TOKEN_FILE");
	assert_str_eq(e->env[1], "/etc/retisc/nats.token");
	assert_str_eq(e->env[2], "RETISC_NATS_CA");
	assert_str_eq(e->env[4], "RETISC_NATS_USER");
	assert_str_eq(e->env[5], "retisc");
	assert_str_eq(e->env[6], "RETISC_MY_SINK_PASSWORD_FILE");
	assert_str_eq(e->env[7], "/run/pw");
	assert_int_equal(e->n_args, 2);
	retisc_profile_file__free(f);

	parse_fails("version: 1.0\nname: x\ncollect:\n  - args: {}\n    credentials:\n"
		    "      nats:\n        password: hunter2\n",
		    7,
		    "key 'password' in credentials.nats: no secret in a profile, name the file "
		    "that holds it (password_file)");
	parse_fails("version: 1.0\nname: x\ncollect:\n  - args: {}\n    credentials:\n"
		    "      nats: {token: abc}\n",
		    6, "key 'token' in credentials.nats: no secret in a profile");
	parse_fails("version: 1.0\nname: x\ncollect:\n  - args: {}\n    credentials:\n"
		    "      nats: {token_file: nats.token}\n",
		    6,
		    "key 'token_file' in credentials.nats: expected an absolute file path, found "
		    "'nats.token'");
	parse_fails("version: 1.0\nname: x\ncollect:\n  - args: {}\n    credentials:\n"
		    "      nats: {tokenfile: /x}\n",
		    6, "unknown key 'tokenfile' in credentials.nats (expected creds, token_file");
	parse_fails("version: 1.0\nname: x\ncollect:\n  - args: {}\n    credentials:\n"
		    "      NATS: {ca: /x}\n",
		    6, "credentials: 'NATS' is not a sink scheme");
	parse_fails("version: 1.0\nname: x\ncollect:\n  - args: {}\n    credentials: /x\n", 5,
		    "key 'credentials': expected a mapping of sink schemes, found a string");
	parse_fails("version: 1.0\nname: x\npcap:\n  - args: {}\n    credentials: {}\n", 5,
		    "key 'credentials': only in collect entries (sinks)");

	/* Applied: the environment wins, then the first profile. */
	write_file("fleet.yaml",
		   "version: 1.0\nname: fleet\ncollect:\n  - args: {}\n    credentials:\n"
		   "      nats: {token_file: /p1/token, ca: /p1/ca.pem}\n",
		   0644);
	write_file("fleet2.yaml",
		   "version: 1.0\nname: fleet2\ncollect:\n  - args: {}\n    credentials:\n"
		   "      nats: {token_file: /p2/token, cert: /p2/cert.pem}\n",
		   0644);
	unsetenv("RETISC_NATS_TOKEN_FILE");
	unsetenv("RETISC_NATS_CERT");
	setenv("RETISC_NATS_CA", "/env/ca.pem", 1);
	assert_int_equal(retisc_profile__expand(vals, dirs, RETISC_PROFILE_COLLECT, NULL, &out, err,
						sizeof(err)),
			 0);
	assert_int_equal(out.n_env, 8);
	assert_int_equal(retisc_profile_args__setenv(&out), 0);
	assert_str_eq(getenv("RETISC_NATS_TOKEN_FILE"), "/p1/token");
	assert_str_eq(getenv("RETISC_NATS_CA"), "/env/ca.pem");
	assert_str_eq(getenv("RETISC_NATS_CERT"), "/p2/cert.pem");
	assert_true(has_log("Sink credentials: RETISC_NATS_TOKEN_FILE=/p1/token (profile)\n"));
	retisc_profile_args__release(&out);
	unsetenv("RETISC_NATS_TOKEN_FILE");
	unsetenv("RETISC_NATS_CERT");
	unsetenv("RETISC_NATS_CA");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_shipped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_args_mapping, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alias_bomb, setup, teardown),
		cmocka_unit_test_setup_teardown(test_version_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_version_rules_applied, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kernel_release, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kernel_compare, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conditions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_symbols_running_kernel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_search_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lookup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_permissions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expand, setup, teardown),
		cmocka_unit_test_setup_teardown(test_credentials, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
