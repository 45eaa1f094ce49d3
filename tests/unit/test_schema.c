// SPDX-License-Identifier: GPL-2.0-only
/*
 * schema processor (doc/processing.md §5): the printed document and the shape
 * rules consumers rely on; when python3-jsonschema is installed, the event
 * fixtures are validated against it (and a few broken events refused).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proctest.h"

#include <retisc/json.h>

static const char *const section_keys[] = {
	"common",   "kernel",	   "userspace", "tracking", "skb-tracking",
	"skb-drop", "packet",	   "skb",	"netns",    "dev",
	"ovs",	    "ovs-detrace", "nft",	"ct",	    "startup",
};

static struct retisc_json *schema_doc(char **text)
{
	struct retisc_json *doc;
	char err[256];
	struct pt_run r;

	pt_run(&r, "schema");
	assert_int_equal(r.status, 0);
	doc = retisc_json__parse(r.out, r.out_len, err, sizeof(err));
	if (!doc)
		fail_msg("schema is not JSON: %s", err);
	if (text)
		*text = strdup(r.out);
	pt_free(&r);
	return doc;
}

static void test_printed_form(void **state)
{
	static const char head[] =
		"{\n  \"$schema\": \"https://json-schema.org/draft/2020-12/schema\",\n"
		"  \"title\": \"Retis Metadata\",\n";
	struct retisc_json *doc;
	char *text;
	size_t n;

	(void)state;
	doc = schema_doc(&text);
	n = strlen(text);
	/* Pretty-printed, 2-space indentation, no trailing newline. */
	assert_true(n > sizeof(head));
	assert_memory_equal(text, head, sizeof(head) - 1);
	assert_true(n > 2 && text[n - 1] == '}' && text[n - 2] == '\n');
	assert_string_equal(retisc_json__obj_get_str(doc, "type"), "object");
	free(text);
	retisc_json__free(doc);
}

static const struct retisc_json *defs;

/* Every rule of §5 that can be checked on the document alone. */
static void walk(const struct retisc_json *v, const char *where)
{
	const struct retisc_json *props, *type, *ref;

	if (retisc_json__is_array(v)) {
		for (size_t i = 0; i < retisc_json__arr_len(v); i++)
			walk(retisc_json__arr_get(v, i), where);
		return;
	}
	if (!retisc_json__is_object(v))
		return;
	ref = retisc_json__obj_get(v, "$ref");
	if (ref) {
		const char *s = retisc_json__get_str(ref, NULL);

		if (!s || strncmp(s, "#/$defs/", 8) || !retisc_json__obj_get(defs, s + 8))
			fail_msg("%s: bad reference %s", where, s ? s : "?");
	}
	type = retisc_json__obj_get(v, "type");
	if (retisc_json__is_array(type)) {
		/* Optional scalars: exactly ["<type>", "null"]. */
		assert_int_equal(retisc_json__arr_len(type), 2);
		assert_string_equal(retisc_json__get_str(retisc_json__arr_get(type, 1), NULL),
				    "null");
	}
	props = retisc_json__obj_get(v, "properties");
	for (size_t i = 0; i < retisc_json__obj_len(props); i++) {
		const struct retisc_json *p = retisc_json__obj_val(props, i);
		const char *desc = retisc_json__obj_get_str(p, "description");

		if (!desc || !strchr(desc, '.'))
			fail_msg("%s: property %s has no description with a '.'", where,
				 retisc_json__obj_key(props, i));
	}
	for (size_t i = 0; i < retisc_json__obj_len(v); i++)
		walk(retisc_json__obj_val(v, i), retisc_json__obj_key(v, i));
}

static void test_shape(void **state)
{
	struct retisc_json *doc = schema_doc(NULL);
	const struct retisc_json *props = retisc_json__obj_get(doc, "properties");
	const struct retisc_json *ovs, *variants;

	(void)state;
	defs = retisc_json__obj_get(doc, "$defs");
	assert_non_null(defs);
	assert_int_equal(retisc_json__obj_len(props), 15);
	for (size_t i = 0; i < 15; i++) {
		const struct retisc_json *p = retisc_json__obj_get(props, section_keys[i]);
		const struct retisc_json *any = retisc_json__obj_get(p, "anyOf");

		if (!p)
			fail_msg("no section %s", section_keys[i]);
		/* {"anyOf":[{"$ref":...},{"type":"null"}]} */
		assert_int_equal(retisc_json__arr_len(any), 2);
		assert_non_null(retisc_json__obj_get(retisc_json__arr_get(any, 0), "$ref"));
		assert_string_equal(retisc_json__obj_get_str(retisc_json__arr_get(any, 1), "type"),
				    "null");
	}
	walk(doc, "root");

	/* ovs: internally tagged by event_type, a const per variant. */
	ovs = retisc_json__obj_get(defs, "Ovs");
	variants = retisc_json__obj_get(ovs, "oneOf");
	assert_int_equal(retisc_json__arr_len(variants), 7);
	for (size_t i = 0; i < 7; i++) {
		const char *ref =
			retisc_json__obj_get_str(retisc_json__arr_get(variants, i), "$ref");
		const struct retisc_json *var = retisc_json__obj_get(defs, ref + 8);
		const struct retisc_json *tag =
			retisc_json__obj_get(retisc_json__obj_get(var, "properties"), "event_type");

		assert_non_null(retisc_json__obj_get_str(tag, "const"));
	}
	retisc_json__free(doc);
}

/* Independent validation of real events, when a validator is at hand. */
static void test_validate_fixtures(void **state)
{
	const char *path = tmp_path("schema.json");
	char cmd[4 * PATH_MAX];
	struct pt_run r;
	FILE *f;
	int st;

	(void)state;
	if (system("python3 -c 'import jsonschema' >/dev/null 2>&1")) {
		print_message("python3-jsonschema not installed\n");
		skip();
	}
	pt_run(&r, "schema");
	assert_int_equal(r.status, 0);
	f = fopen(path, "w");
	assert_non_null(f);
	fwrite(r.out, 1, r.out_len, f);
	fclose(f);
	pt_free(&r);
	snprintf(cmd, sizeof(cmd),
		 "python3 - '%s' '%s' '%s' '%s' '%s' <<'EOF'\n"
		 "import json, sys\n"
		 "from jsonschema import Draft202012Validator as V\n"
		 "s = json.load(open(sys.argv[1])); V.check_schema(s); v = V(s)\n"
		 "bad = 0\n"
		 "for f in sys.argv[2:]:\n"
		 "    for n, l in enumerate(open(f), 1):\n"
		 "        j = json.loads(l)\n"
		 "        for e in (j if isinstance(j, list) else [j]):\n"
		 "            for err in v.iter_errors(e):\n"
		 "                bad += 1; print(f, n, err.message)\n"
		 "for e in [{'common': {}}, {'common': {'timestamp': -1}},\n"
		 "          {'common': {'timestamp': 1}, 'ovs': {'event_type': 'nope'}},\n"
		 "          {'common': {'timestamp': 1}, 'ct': {'state': 'bogus'}}]:\n"
		 "    if v.is_valid(e): bad += 1; print('accepted', e)\n"
		 "sys.exit(1 if bad else 0)\n"
		 "EOF",
		 path, fixture("retisc-1.7.json"), fixture("sort-events.sorted.json"),
		 fixture("retisc-sorted.json"), fixture("sort-annotate.json"));
	st = system(cmd);
	assert_int_equal(st, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_printed_form),
		cmocka_unit_test(test_shape),
		cmocka_unit_test(test_validate_fixtures),
	};

	return cmocka_run_group_tests(tests, pt_group_setup, pt_group_teardown);
}
