// SPDX-License-Identifier: GPL-2.0-only
/*
 * Meta filter compiler (doc/filters.md §4): error messages, then the generated
 * stages run for real (root only) inside a raw tracepoint harness against
 * fake kernel objects laid out in an array map value at the running kernel's
 * BTF offsets, plus layouts the kernel lacks through a synthetic BTF.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/btf.h>

#include "filter.h"
#include "filter_meta.h"

#include "testutil.h"

#define PASS RETISC_FILTER_PASS

static struct btf *vml;

/* --- independent BTF offset lookup (not the compiler's) ------------------- */

static uint32_t resolve(const struct btf *btf, uint32_t id)
{
	const struct btf_type *t = btf__type_by_id(btf, id);

	while (btf_is_typedef(t) || btf_is_const(t) || btf_is_volatile(t) || btf_is_type_tag(t)) {
		id = t->type;
		t = btf__type_by_id(btf, id);
	}
	return id;
}

static bool lookup(const struct btf *btf, uint32_t sid, const char *name, uint32_t *type,
		   uint32_t *bit, uint32_t *bits)
{
	const struct btf_type *t = btf__type_by_id(btf, sid);
	const struct btf_member *m = btf_members(t);

	for (int i = 0; i < btf_vlen(t); i++) {
		const char *mn = btf__name_by_offset(btf, m[i].name_off);
		uint32_t sub = resolve(btf, m[i].type);

		if (*mn) {
			if (strcmp(mn, name))
				continue;
			*type = m[i].type;
			*bit = btf_member_bit_offset(t, i);
			*bits = btf_member_bitfield_size(t, i);
			return true;
		}
		if (btf_is_composite(btf__type_by_id(btf, sub)) &&
		    lookup(btf, sub, name, type, bit, bits)) {
			*bit += btf_member_bit_offset(t, i);
			return true;
		}
	}
	return false;
}

/* Bit offset of an embedded member path ("nd_net.net") in struct `sname`. */
static uint32_t field(const char *sname, const char *path, uint32_t *bits)
{
	int sid = btf__find_by_name_kind(vml, sname, BTF_KIND_STRUCT);
	char buf[128], *save = NULL, *tok;
	uint32_t id, total = 0, type = 0, b = 0, nb = 0;

	assert_true(sid > 0);
	id = (uint32_t)sid;
	snprintf(buf, sizeof(buf), "%s", path);
	for (tok = strtok_r(buf, ".", &save); tok; tok = strtok_r(NULL, ".", &save)) {
		if (!lookup(vml, id, tok, &type, &b, &nb))
			fail_msg("no %s in %s", tok, sname);
		total += b;
		id = resolve(vml, type);
	}
	if (bits)
		*bits = nb;
	return total;
}

static uint32_t struct_size(const char *sname)
{
	int sid = btf__find_by_name_kind(vml, sname, BTF_KIND_STRUCT);

	assert_true(sid > 0);
	return (uint32_t)btf__resolve_size(vml, (uint32_t)sid);
}

/* --- compile helpers --------------------------------------------------------- */

static int compile(const char *expr, struct btf *btf, struct retisc_insns *out, char *err,
		   size_t errsz)
{
	if (btf)
		return retisc_filter__compile_meta_btf(expr, btf, out, err, errsz);
	return retisc_filter__compile_meta(expr, out, err, errsz);
}

static void expect_error_btf(struct btf *btf, const char *expr, int want_err, const char *want)
{
	struct retisc_insns out = {0};
	char err[256] = "";
	int ret = compile(expr, btf, &out, err, sizeof(err));

	if (ret != want_err || strcmp(err, want))
		fail_msg("[%s]: got %d \"%s\", want %d \"%s\"", expr, ret, err, want_err, want);
	assert_null(out.insns);
}

static void expect_error(const char *expr, const char *want)
{
	expect_error_btf(NULL, expr, -EINVAL, want);
}

/* The stage contract (filter.h): no exit, every jump lands inside the stage
 * or right after it, helper calls only to the two probe-read helpers. */
static void check_contract(const char *expr, const struct retisc_insns *st)
{
	for (size_t i = 0; i < st->n; i++) {
		const struct bpf_insn *x = &st->insns[i];
		uint8_t cls = BPF_CLASS(x->code), op = BPF_OP(x->code);

		if (x->code == (BPF_LD | BPF_DW | BPF_IMM)) {
			i++;
			continue;
		}
		if (cls != BPF_JMP && cls != BPF_JMP32)
			continue;
		if (op == BPF_EXIT)
			fail_msg("[%s]: exit at %zu", expr, i);
		if (op == BPF_CALL) {
			if (x->imm != BPF_FUNC_probe_read_kernel &&
			    x->imm != BPF_FUNC_probe_read_kernel_str)
				fail_msg("[%s]: call %d at %zu", expr, x->imm, i);
			continue;
		}
		if ((long)i + x->off + 1 < 0 || (size_t)((long)i + x->off + 1) > st->n)
			fail_msg("[%s]: jump out of the stage at %zu", expr, i);
	}
}

static size_t expect_ok_btf(struct btf *btf, const char *expr)
{
	struct retisc_insns out = {0};
	char err[256] = "";
	int ret = compile(expr, btf, &out, err, sizeof(err));
	size_t n = out.n;

	if (ret)
		fail_msg("[%s]: %d %s", expr, ret, err);
	assert_true(n > 0 && n <= RETISC_FILTER_MAX_INSNS);
	check_contract(expr, &out);
	retisc_insns__release(&out);
	return n;
}

/* --- 1. errors ---------------------------------------------------------------- */

static void test_syntax_errors(void **state)
{
	(void)state;
	expect_error("", "meta filter: parse error at column 1: expected \"sk_buff\" or \"(\"");
	expect_error("sk_buf.mark == 1",
		     "meta filter: parse error at column 1: expected \"sk_buff\" or \"(\"");
	expect_error("sk_buffer.mark == 1",
		     "meta filter: parse error at column 1: expected \"sk_buff\" or \"(\"");
	expect_error("sk_buff == 1", "meta filter: parse error at column 9: expected \".\"");
	expect_error("(sk_buff.mark == 1",
		     "meta filter: parse error at column 19: expected \"and\", \"or\", \"&&\", "
		     "\"||\" or \")\"");
	expect_error("((sk_buff.cloned)",
		     "meta filter: parse error at column 18: expected \"and\", \"or\", \"&&\", "
		     "\"||\" or \")\"");
	expect_error("sk_buff.mark == 1)",
		     "meta filter: parse error at column 18: expected \"and\", \"or\", \"&&\", "
		     "\"||\" or end of input");
	expect_error("sk_buff.dev.name == eth0",
		     "meta filter: parse error at column 21: expected a number or a quoted string");
	expect_error("sk_buff.mark = 1",
		     "meta filter: parse error at column 14: expected a comparison operator, "
		     "\"and\", \"or\", \"&&\", \"||\" or end of input");
	expect_error("sk_buff.mark == 0x",
		     "meta filter: parse error at column 19: expected hexadecimal digits");
	expect_error("sk_buff.mark == 0X10",
		     "meta filter: parse error at column 18: expected \"and\", \"or\", \"&&\", "
		     "\"||\" or end of input");
	expect_error("sk_buff.mark == 0b2",
		     "meta filter: parse error at column 19: expected binary digits");
	expect_error(
		"sk_buff.mark == 18446744073709551616",
		"meta filter: parse error at column 17: expected a number that fits in 64 bits");
	expect_error(
		"sk_buff.mark == 0x10000000000000000",
		"meta filter: parse error at column 17: expected a number that fits in 64 bits");
	expect_error(
		"sk_buff.skb_iif == -9223372036854775809",
		"meta filter: parse error at column 20: expected a number that fits in 64 bits");
	expect_error("sk_buff.skb_iif == -0x1",
		     "meta filter: parse error at column 21: expected a decimal number after '-'");
	expect_error("sk_buff.dev.name == 'eth0",
		     "meta filter: parse error at column 26: expected \"'\"");
	expect_error("sk_buff.dev.name == \"eth0'",
		     "meta filter: parse error at column 27: expected '\"'");
	expect_error("sk_buff.dev.name == ''",
		     "meta filter: parse error at column 21: expected a non-empty string");
	expect_error("sk_buff.mark:0x1: == 1",
		     "meta filter: parse error at column 19: expected a type name");
	expect_error("sk_buff.mark: == 1",
		     "meta filter: parse error at column 15: expected a number");
	expect_error("sk_buff.mark == 1 andy sk_buff.mark == 2",
		     "meta filter: parse error at column 19: expected \"and\", \"or\", \"&&\", "
		     "\"||\" or end of input");
	expect_error("sk_buff.mark == 1 & sk_buff.mark == 2",
		     "meta filter: parse error at column 19: expected \"and\", \"or\", \"&&\", "
		     "\"||\" or end of input");
	expect_error("sk_buff.mark == 1 and",
		     "meta filter: parse error at column 22: expected \"sk_buff\" or \"(\"");
	/* Blanks are spaces and tabs only. */
	expect_error("sk_buff.mark\n== 1",
		     "meta filter: parse error at column 13: expected a comparison operator, "
		     "\"and\", \"or\", \"&&\", \"||\" or end of input");
	expect_error("(sk_buff.mark) == 1",
		     "meta filter: parse error at column 16: expected \"and\", \"or\", \"&&\", "
		     "\"||\" or end of input");
}

static void test_accepted_syntax(void **state)
{
	(void)state;
	expect_ok_btf(NULL, "sk_buff . dev . name == 'eth0'");
	expect_ok_btf(NULL, "sk_buff.mark : 0xff == 1");
	expect_ok_btf(NULL, "sk_buff.mark==1and sk_buff.mark==2");
	expect_ok_btf(NULL, "sk_buff.mark==1or(sk_buff.mark==2)");
	expect_ok_btf(NULL, "sk_buff..mark == 1");
	expect_ok_btf(NULL, "sk_buff.mark. == 1");
	expect_ok_btf(NULL, "\tsk_buff.mark\t==\t0xAbC\t");
	expect_ok_btf(NULL, "sk_buff.l4_hash");
	expect_ok_btf(NULL, "sk_buff.skb_iif == - 5");
	expect_ok_btf(NULL, "sk_buff.skb_iif == -9223372036854775808");
	expect_ok_btf(NULL, "sk_buff.mark == 18446744073709551615");
	expect_ok_btf(NULL, "sk_buff.mark:~ 0x7 == 8");
	expect_ok_btf(NULL, "sk_buff._nfct : ~0x7 : nf_conn . mark");
	expect_ok_btf(NULL, "(((sk_buff.cloned)))");
	expect_ok_btf(NULL, "sk_buff.dev.name == \"it's\"");
	expect_ok_btf(NULL, "sk_buff.dev.name == 'say \"hi\"'");
}

static void test_semantic_errors(void **state)
{
	char s32[40], want[160];

	(void)state;
	expect_error("sk_buff.foo == 1", "meta filter: field foo not found in type sk_buff");
	expect_error("sk_buff.dev.nope", "meta filter: field nope not found in type net_device");
	expect_error("sk_buff._nfct:~0x7:nf_conn.nope",
		     "meta filter: field nope not found in type nf_conn");
	expect_error("sk_buff.headers:0xff.mark == 1",
		     "meta filter: intermediate members masking is only supported for pointers and "
		     "unsigned numbers");
	expect_error("sk_buff.mark:0xff:nf_conn",
		     "meta filter: trying to cast a leaf member into nf_conn");
	expect_error("sk_buff._nfct:~0x7:nope.mark",
		     "meta filter: Could not resolve nope to a struct or typedef");
	expect_error("sk_buff._nfct:~0x7:u32.mark",
		     "meta filter: Could not resolve u32 to a struct or typedef");
	expect_error("sk_buff._nfct:~0x7:pgtable_t.flags",
		     "meta filter: cast type (pgtable_t: struct page *) cannot be an alias to a "
		     "pointer");
	expect_error(
		"sk_buff.mark.x",
		"meta filter: unexpected non-walkable type (__u32) while walking struct members");
	expect_error(
		"sk_buff.mark:0xff:nf_conn.mark",
		"meta filter: unexpected non-walkable type (__u32) while walking struct members");
	expect_error("sk_buff.cb.x",
		     "meta filter: unexpected non-walkable type (char[48]) while walking struct "
		     "members");
	expect_error("sk_buff.headers:0xff:nf_conn.mark",
		     "meta filter: intermediate members masking is only supported for pointers and "
		     "unsigned numbers");
	expect_error("sk_buff.dev == 1",
		     "meta filter: found unsupported type while emitting operation (struct "
		     "net_device *).");
	expect_error(
		"sk_buff.headers == 1",
		"meta filter: found unsupported type while emitting operation (struct (anon)).");
	expect_error(
		"sk_buff.",
		"meta filter: found unsupported type while emitting operation (struct sk_buff).");
	expect_error("sk_buff.mark:0 == 1", "meta filter: mask must be greater than 0");
	expect_error("sk_buff.mark:~0xffffffffffffffff == 1",
		     "meta filter: mask must be greater than 0");
	expect_error("sk_buff.dev:0b0.name == 'x'", "meta filter: mask must be greater than 0");
	expect_error(
		"sk_buff.skb_iif:0xff == 1",
		"meta filter: mask is only supported for pointers and unsigned numeric members.");
	expect_error(
		"sk_buff.dev.name:0xff == 'x'",
		"meta filter: mask is only supported for pointers and unsigned numeric members.");
	expect_error("sk_buff.dev.name > 'a'",
		     "meta filter: wrong comparison operator. Only '==' and '!=' are supported for "
		     "strings.");
	expect_error("sk_buff.dev.rtnl_link_ops.kind <= 'a'",
		     "meta filter: wrong comparison operator. Only '==' and '!=' are supported for "
		     "strings.");
	expect_error("sk_buff.dev.name == 1",
		     "meta filter: invalid target value for array or ptr type. Only strings are "
		     "supported.");
	expect_error("sk_buff.dev.name",
		     "meta filter: invalid target value for array or ptr type. Only strings are "
		     "supported.");
	memset(s32, 'a', 32);
	s32[32] = '\0';
	snprintf(want, sizeof(want), "sk_buff.dev.name == '%s'", s32);
	expect_error(want, "meta filter: invalid rval size (max 31)");
	s32[31] = '\0';
	snprintf(want, sizeof(want), "sk_buff.dev.name == '%s'", s32);
	expect_ok_btf(NULL, want);
	expect_error("sk_buff.mark == 'x'",
		     "meta filter: invalid target (x) value (cannot compare string with number)");
	expect_error("sk_buff.mark == -1",
		     "meta filter: invalid target value (value is signed while type is unsigned)");
	expect_error("sk_buff.cloned == -1",
		     "meta filter: invalid target value (value is signed while type is unsigned)");
}

/*
 * A synthetic "vmlinux" for layouts the running kernel does not offer:
 *
 * struct sk_buff {                        struct peer {
 *   unsigned int a;          // 0            unsigned int val;     // 0
 *   int sbf:5;               // bit 35       char name[8];         // 4
 *   unsigned int wide:20;    // bit 44     };
 *   unsigned long long big:40; // bit 68   typedef struct peer *peer_ptr_t;
 *   enum e64 e64;            // 16 (signed, 8 bytes)  typedef struct peer peer_t;
 *   enum e8 e8;              // 24 (unsigned, 1 byte) typedef unsigned long ulong8;
 *   signed char sc;          // 25
 *   short ss;                // 26
 *   _Bool b;                 // 28
 *   __int128 i128;           // 32
 *   struct peer **pp;        // 48
 *   u32 *pu;                 // 56
 *   u32 arr[2];              // 64
 *   struct peer *p;          // 72
 *   ulong8 cookie;           // 80
 *   long scookie;            // 88
 *   float f;                 // 96
 *   struct { int x; } inner; // 100
 *   union { struct { unsigned short deep; }; }; // 104
 *   const unsigned char *s;  // 112
 *   struct peer *np;         // 120
 * };
 */
static struct btf *synth(void)
{
	struct btf *b = btf__new_empty();
	int u32t, i32t, u64t, s8t, s16t, boolt, i128t, u8t, chart, s64t, flt, u16t;
	int peer, pptr, ppptr, pu32, arr, e64, e8, ulong8, inner, anon_s, anon_u, cu8, cptr;
	int skb;

	assert_non_null(b);
	u32t = btf__add_int(b, "unsigned int", 4, 0);
	i32t = btf__add_int(b, "int", 4, BTF_INT_SIGNED);
	u64t = btf__add_int(b, "long long unsigned int", 8, 0);
	s8t = btf__add_int(b, "signed char", 1, BTF_INT_SIGNED);
	s16t = btf__add_int(b, "short", 2, BTF_INT_SIGNED);
	boolt = btf__add_int(b, "_Bool", 1, BTF_INT_BOOL);
	i128t = btf__add_int(b, "__int128", 16, BTF_INT_SIGNED);
	u8t = btf__add_int(b, "unsigned char", 1, 0);
	chart = btf__add_int(b, "char", 1, 0);
	s64t = btf__add_int(b, "long", 8, BTF_INT_SIGNED);
	flt = btf__add_float(b, "float", 4);
	u16t = btf__add_int(b, "unsigned short", 2, 0);

	/* Fields attach to the last type added: element types come first. */
	arr = btf__add_array(b, u32t, chart, 8);
	peer = btf__add_struct(b, "peer", 12);
	assert_int_equal(btf__add_field(b, "val", u32t, 0, 0), 0);
	assert_int_equal(btf__add_field(b, "name", arr, 32, 0), 0);
	pptr = btf__add_ptr(b, peer);
	ppptr = btf__add_ptr(b, pptr);
	assert_true(btf__add_typedef(b, "peer_ptr_t", pptr) > 0);
	assert_true(btf__add_typedef(b, "peer_t", peer) > 0);
	ulong8 = btf__add_typedef(b, "ulong8", u64t);
	pu32 = btf__add_ptr(b, btf__add_typedef(b, "u32", u32t));
	arr = btf__add_array(b, u32t, btf__find_by_name_kind(b, "u32", BTF_KIND_TYPEDEF), 2);
	e64 = btf__add_enum64(b, "e64", 8, true);
	assert_int_equal(btf__add_enum64_value(b, "E64_NEG", -2), 0);
	e8 = btf__add_enum(b, "e8", 1);
	assert_int_equal(btf__add_enum_value(b, "E8_A", 200), 0);
	inner = btf__add_struct(b, NULL, 4);
	assert_int_equal(btf__add_field(b, "x", i32t, 0, 0), 0);
	anon_s = btf__add_struct(b, NULL, 2);
	assert_int_equal(btf__add_field(b, "deep", u16t, 0, 0), 0);
	anon_u = btf__add_union(b, NULL, 2);
	assert_int_equal(btf__add_field(b, NULL, anon_s, 0, 0), 0);
	cu8 = btf__add_const(b, u8t);
	cptr = btf__add_ptr(b, cu8);

	skb = btf__add_struct(b, "sk_buff", 136);
	assert_true(skb > 0);
	assert_int_equal(btf__add_field(b, "a", u32t, 0, 0), 0);
	assert_int_equal(btf__add_field(b, "sbf", i32t, 35, 5), 0);
	assert_int_equal(btf__add_field(b, "wide", u32t, 44, 20), 0);
	assert_int_equal(btf__add_field(b, "big", u64t, 68, 40), 0);
	assert_int_equal(btf__add_field(b, "e64", e64, 128, 0), 0);
	assert_int_equal(btf__add_field(b, "e8", e8, 192, 0), 0);
	assert_int_equal(btf__add_field(b, "sc", s8t, 200, 0), 0);
	assert_int_equal(btf__add_field(b, "ss", s16t, 208, 0), 0);
	assert_int_equal(btf__add_field(b, "b", boolt, 224, 0), 0);
	assert_int_equal(btf__add_field(b, "i128", i128t, 256, 0), 0);
	assert_int_equal(btf__add_field(b, "pp", ppptr, 384, 0), 0);
	assert_int_equal(btf__add_field(b, "pu", pu32, 448, 0), 0);
	assert_int_equal(btf__add_field(b, "arr", arr, 512, 0), 0);
	assert_int_equal(btf__add_field(b, "p", pptr, 576, 0), 0);
	assert_int_equal(btf__add_field(b, "cookie", ulong8, 640, 0), 0);
	assert_int_equal(btf__add_field(b, "scookie", s64t, 704, 0), 0);
	assert_int_equal(btf__add_field(b, "f", flt, 768, 0), 0);
	assert_int_equal(btf__add_field(b, "inner", inner, 800, 0), 0);
	assert_int_equal(btf__add_field(b, NULL, anon_u, 832, 0), 0);
	assert_int_equal(btf__add_field(b, "s", cptr, 896, 0), 0);
	assert_int_equal(btf__add_field(b, "np", pptr, 960, 0), 0);
	return b;
}

/* Same as synth() but the old int encoding of bitfields (no kind_flag). */
static struct btf *synth_oldbf(void)
{
	struct btf *b = btf__new_empty();
	int u32t, oldbf, s;

	assert_non_null(b);
	u32t = btf__add_int(b, "unsigned int", 4, 0);
	oldbf = btf__add_int(b, "unsigned int", 4, 0);
	{
		struct btf_type *t = (struct btf_type *)btf__type_by_id(b, oldbf);

		*(uint32_t *)(t + 1) = (3u << 16) | 6u; /* BTF_INT_OFFSET 3, BITS 6 */
	}
	s = btf__add_struct(b, "sk_buff", 8);
	assert_true(s > 0);
	assert_int_equal(btf__add_field(b, "a", u32t, 0, 0), 0);
	/* Member at bit 32, value bits 35..40 of the struct. */
	assert_int_equal(btf__add_field(b, "nb", oldbf, 32, 0), 0);
	return b;
}

static void test_synthetic_errors(void **state)
{
	struct btf *b = synth(), *empty = btf__new_empty();

	(void)state;
	assert_true(btf__add_int(empty, "int", 4, BTF_INT_SIGNED) > 0);
	expect_error_btf(empty, "sk_buff.mark == 1", -ENOENT,
			 "meta filter: Could not resolve sk_buff to a struct");
	expect_error_btf(b, "sk_buff.pp.val == 1", -EINVAL,
			 "meta filter: pointers of pointers are not supported");
	expect_error_btf(b, "sk_buff.pu == 1", -EINVAL,
			 "meta filter: pointers to u32 are not supported.");
	expect_error_btf(b, "sk_buff.arr == 1", -EINVAL,
			 "meta filter: array of u32 are not supported.");
	expect_error_btf(b, "sk_buff.i128 == 1", -EINVAL, "meta filter: unsupported type.");
	expect_error_btf(b, "sk_buff.f == 1", -EINVAL,
			 "meta filter: found unsupported type while emitting operation (float).");
	expect_error_btf(
		b, "sk_buff.pp == 1", -EINVAL,
		"meta filter: found unsupported type while emitting operation (struct peer "
		"**).");
	expect_error_btf(
		b, "sk_buff.p:0xff:peer_ptr_t.val", -EINVAL,
		"meta filter: cast type (peer_ptr_t: struct peer *) cannot be an alias to a "
		"pointer");
	expect_error_btf(b, "sk_buff.a:0xff:peer.val", -EINVAL,
			 "meta filter: unexpected non-walkable type (unsigned int) while walking "
			 "struct members");
	expect_error_btf(b, "sk_buff.wide:0xff:peer.val", -EINVAL,
			 "meta filter: unexpected non-walkable type (unsigned int) while walking "
			 "struct members");
	expect_error_btf(b, "sk_buff.pu.x", -EINVAL,
			 "meta filter: unexpected non-walkable type (u32 *) while walking struct "
			 "members");
	expect_error_btf(b, "sk_buff.scookie:0xff:peer.val", -EINVAL,
			 "meta filter: intermediate members masking is only supported for pointers "
			 "and unsigned numbers");
	expect_error_btf(b, "sk_buff.sbf:0x1 == 1", -EINVAL,
			 "meta filter: mask is only supported for pointers and unsigned numeric "
			 "members.");
	expect_error_btf(b, "sk_buff.e64:0x1 == 1", -EINVAL,
			 "meta filter: mask is only supported for pointers and unsigned numeric "
			 "members.");
	expect_error_btf(b, "sk_buff.inner.y", -EINVAL,
			 "meta filter: field y not found in type struct (anon)");
	/* Casts of typedef'd 8-byte integers are accepted (Retis rejects). */
	expect_ok_btf(b, "sk_buff.cookie:0xffffffffffffffff:peer.val");
	expect_ok_btf(b, "sk_buff.cookie:~0x0:peer_t.val");
	expect_ok_btf(b, "sk_buff.p:0xff:peer.val");
	btf__free(empty);
	btf__free(b);
}

/* --- 3. size limit ----------------------------------------------------------- */

static char *repeat_terms(const char *term, size_t n)
{
	size_t len = strlen(term) + 4;
	char *s = malloc(n * len + 1), *p = s;

	assert_non_null(s);
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "%s%s", i ? " or " : "", term);
	return s;
}

static size_t stage_len(const char *expr)
{
	return expect_ok_btf(NULL, expr);
}

/* 256 nested parentheses compile, 257 are refused with the column. */
static void test_nesting_limit(void **state)
{
	struct retisc_insns out = {0};
	char err[256], want[128], *s = malloc(2 * 257 + 32);
	size_t n;

	(void)state;
	assert_non_null(s);
	memset(s, '(', 256);
	n = 256 + (size_t)sprintf(s + 256, "sk_buff.mark == 1");
	memset(s + n, ')', 256);
	s[n + 256] = '\0';
	assert_int_equal(compile(s, NULL, &out, err, sizeof(err)), 0);
	retisc_insns__release(&out);

	memset(s, '(', 257);
	n = 257 + (size_t)sprintf(s + 257, "sk_buff.mark == 1");
	memset(s + n, ')', 257);
	s[n + 257] = '\0';
	snprintf(want, sizeof(want),
		 "meta filter: parse error at column %d: expected at most 256 nested "
		 "parentheses",
		 257);
	expect_error_btf(NULL, s, -EINVAL, want);
	free(s);
}

static void test_size_limit(void **state)
{
	struct retisc_insns out = {0};
	size_t one, two, per, pro, max;
	char err[256];
	char *s;

	(void)state;
	one = stage_len("sk_buff.mark == 1");
	s = repeat_terms("sk_buff.mark == 1", 2);
	two = stage_len(s);
	free(s);
	per = two - one;
	pro = one - per;
	max = (RETISC_FILTER_MAX_INSNS - pro) / per;

	s = repeat_terms("sk_buff.mark == 1", max);
	assert_int_equal(compile(s, NULL, &out, err, sizeof(err)), 0);
	assert_true(out.n <= RETISC_FILTER_MAX_INSNS);
	assert_true(out.n + per > RETISC_FILTER_MAX_INSNS);
	retisc_insns__release(&out);
	free(s);

	s = repeat_terms("sk_buff.mark == 1", max + 1);
	expect_error_btf(
		NULL, s, -E2BIG,
		"meta filter: filter exceeds the maximum allowed size (4096 instructions)");
	free(s);

	/* One term alone can be too long: a chain of pointer hops. */
	s = malloc(8 + 5 * 1000 + 16);
	assert_non_null(s);
	strcpy(s, "sk_buff");
	for (int i = 0; i < 1000; i++)
		strcat(s, ".next");
	strcat(s, ".mark == 1");
	expect_error_btf(
		NULL, s, -E2BIG,
		"meta filter: filter exceeds the maximum allowed size (4096 instructions)");
	free(s);

	s = repeat_terms("sk_buff.dev.rtnl_link_ops.kind != 'veth'", 1000);
	expect_error_btf(
		NULL, s, -E2BIG,
		"meta filter: filter exceeds the maximum allowed size (4096 instructions)");
	free(s);
}

/* --- 2. execution -------------------------------------------------------------- */

/* Where the fake objects live in the map value. */
static struct {
	uint32_t skb, dev, net, ct, ops, kind, peer, slot, size;
} L;

/* Bit offsets in the fake objects (from vmlinux BTF). */
static struct {
	uint32_t mark, pkt_type, pkt_type_bits, cloned, cloned_bits, skb_iif, nfct, dev, cb, tstamp,
		mac_len, vlan_tci;
	uint32_t name, net, ops, mtu, ifindex;
	uint32_t inum, ct_mark, kind;
} F;

static int map_fd = -1;
static uint64_t base; /* kernel address of the map value */
static uint8_t *img;
static char *vlog;

static uint64_t kaddr(uint32_t off)
{
	return base + off;
}

static void put(uint32_t off, uint32_t size, uint64_t v)
{
	memcpy(img + off, &v, size); /* little-endian host */
}

static void put_bits(uint32_t bit, uint32_t bits, uint64_t v)
{
	for (uint32_t i = 0; i < bits; i++) {
		uint32_t b = bit + i;

		if ((v >> i) & 1)
			img[b / 8] |= (uint8_t)(1u << (b % 8));
		else
			img[b / 8] &= (uint8_t) ~(1u << (b % 8));
	}
}

static void put_str(uint32_t off, const char *s, size_t len)
{
	memcpy(img + off, s, len);
}

#define NO_ROOT UINT32_MAX

static struct bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	struct bpf_insn i = {.code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm};

	return i;
}

/*
 * Harness: look the map value up, turn its address into a scalar by a round
 * trip through the value itself, point r1 at the fake sk_buff, run the
 * stage, exit with its r0.
 */
static int run_stage(const struct retisc_insns *st, uint32_t skb_off, int *retval)
{
	struct bpf_insn *p = calloc(st->n + 32, sizeof(*p));
	size_t n = 0, jfail;
	__u64 args[1] = {0};
	int fd, err;

	assert_non_null(p);
	p[n++] = insn(BPF_ST | BPF_MEM | BPF_W, BPF_REG_10, 0, -4, 0);
	p[n++] = insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2, BPF_REG_10, 0, 0);
	p[n++] = insn(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_2, 0, 0, -4);
	p[n++] = insn(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_1, BPF_PSEUDO_MAP_FD, 0, map_fd);
	p[n++] = insn(0, 0, 0, 0, 0);
	p[n++] = insn(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem);
	jfail = n;
	p[n++] = insn(BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_0, 0, 0, 0);
	p[n++] = insn(BPF_STX | BPF_MEM | BPF_DW, BPF_REG_0, BPF_REG_0, (int16_t)L.slot, 0);
	/* Garbage in the stage's scratch: it must not rely on zeroed stack. */
	for (int16_t off = -80; off < 0; off += 8)
		p[n++] = insn(BPF_ST | BPF_MEM | BPF_DW, BPF_REG_10, 0, off, -0x5a5a5a5b);
	if (skb_off == NO_ROOT) {
		p[n++] = insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_1, 0, 0, 0);
	} else {
		p[n++] = insn(BPF_LDX | BPF_MEM | BPF_DW, BPF_REG_1, BPF_REG_0, (int16_t)L.slot, 0);
		p[n++] = insn(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_1, 0, 0, (int32_t)skb_off);
	}
	memcpy(p + n, st->insns, st->n * sizeof(*p));
	n += st->n;
	p[n++] = insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	p[jfail].off = (int16_t)(n - jfail - 1);
	p[n++] = insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0);
	p[n++] = insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);

	{
		LIBBPF_OPTS(bpf_prog_load_opts, o, .log_buf = vlog, .log_size = 1 << 20,
			    .log_level = 0);

		fd = bpf_prog_load(BPF_PROG_TYPE_RAW_TRACEPOINT, "meta_test", "GPL", p,
				   (unsigned int)n, &o);
		if (fd < 0) {
			err = -errno;
			o.log_level = 1;
			vlog[0] = '\0';
			bpf_prog_load(BPF_PROG_TYPE_RAW_TRACEPOINT, "meta_test", "GPL", p,
				      (unsigned int)n, &o);
			fprintf(stderr, "verifier (%s):\n%s\n", strerror(-err),
				strlen(vlog) > 4000 ? vlog + strlen(vlog) - 4000 : vlog);
			free(p);
			return err;
		}
	}
	free(p);
	{
		LIBBPF_OPTS(bpf_test_run_opts, r, .ctx_in = args, .ctx_size_in = sizeof(args));

		err = bpf_prog_test_run_opts(fd, &r);
		if (err)
			err = -errno;
		*retval = (int)r.retval;
	}
	close(fd);
	return err;
}

static int eval_at(struct btf *btf, const char *expr, uint32_t skb_off)
{
	struct retisc_insns st = {0};
	char err[256] = "";
	uint32_t key = 0;
	int ret, retval = -1;

	ret = compile(expr, btf, &st, err, sizeof(err));
	if (ret)
		fail_msg("[%s]: %d %s", expr, ret, err);
	check_contract(expr, &st);
	put(L.slot, 8, base);
	assert_int_equal(bpf_map_update_elem(map_fd, &key, img, BPF_ANY), 0);
	ret = run_stage(&st, skb_off, &retval);
	retisc_insns__release(&st);
	if (ret)
		fail_msg("[%s]: load/run failed: %d", expr, ret);
	if (retval != 0 && retval != PASS)
		fail_msg("[%s]: unexpected r0 %#x", expr, retval);
	return retval == PASS;
}

static void check_at(struct btf *btf, const char *expr, uint32_t skb_off, int want, int line)
{
	int got = eval_at(btf, expr, skb_off);

	if (got != want)
		fail_msg("line %d: [%s] %s, expected %s", line, expr, got ? "matches" : "no match",
			 want ? "a match" : "no match");
}

#define EXPECT(expr, want) check_at(NULL, expr, L.skb, want, __LINE__)
#define EXPECT_SYN(btf, expr, want) check_at(btf, expr, L.peer + 64, want, __LINE__)

static const char S40[] = "0123456789abcdefghijklmnopqrstuvwxyzABCD";

/* The default scene: a broadcast, cloned skb on eth0 (veth) in the initial
 * netns, conntrack NEW with ct mark 5. */
static void scene(void)
{
	memset(img, 0, L.size);
	put(L.skb + F.mark / 8, 4, 16);
	put_bits(L.skb * 8 + F.pkt_type, F.pkt_type_bits, 1);
	put_bits(L.skb * 8 + F.cloned, F.cloned_bits, 1);
	put(L.skb + F.skb_iif / 8, 4, 3);
	put(L.skb + F.nfct / 8, 8, kaddr(L.ct) | 2);
	put(L.skb + F.dev / 8, 8, kaddr(L.dev));
	put(L.skb + F.mac_len / 8, 2, 14);
	put(L.skb + F.vlan_tci / 8, 2, 100);
	put_str(L.skb + F.cb / 8, S40, 40);
	put_str(L.dev + F.name / 8, "eth0", 5);
	put(L.dev + F.net / 8, 8, kaddr(L.net));
	put(L.dev + F.ops / 8, 8, kaddr(L.ops));
	put(L.dev + F.mtu / 8, 4, 1500);
	put(L.dev + F.ifindex / 8, 4, 2);
	put(L.net + F.inum / 8, 4, 4026531840u);
	put(L.ct + F.ct_mark / 8, 4, 5);
	put(L.ops + F.kind / 8, 8, kaddr(L.kind));
	put_str(L.kind, "veth", 5);
}

static uint32_t align64(uint32_t v)
{
	return (v + 63) & ~63u;
}

static int group_setup(void **state)
{
	struct retisc_insns st = {0};
	char err[256];
	uint32_t key = 0;
	int retval;

	(void)state;
	vml = btf__load_vmlinux_btf();
	if (!vml)
		return -1;
	if (geteuid())
		return 0;

	F.mark = field("sk_buff", "mark", NULL);
	F.pkt_type = field("sk_buff", "pkt_type", &F.pkt_type_bits);
	F.cloned = field("sk_buff", "cloned", &F.cloned_bits);
	F.skb_iif = field("sk_buff", "skb_iif", NULL);
	F.nfct = field("sk_buff", "_nfct", NULL);
	F.dev = field("sk_buff", "dev", NULL);
	F.cb = field("sk_buff", "cb", NULL);
	F.tstamp = field("sk_buff", "tstamp", NULL);
	F.mac_len = field("sk_buff", "mac_len", NULL);
	F.vlan_tci = field("sk_buff", "vlan_tci", NULL);
	F.name = field("net_device", "name", NULL);
	F.net = field("net_device", "nd_net.net", NULL);
	F.ops = field("net_device", "rtnl_link_ops", NULL);
	F.mtu = field("net_device", "mtu", NULL);
	F.ifindex = field("net_device", "ifindex", NULL);
	F.inum = field("net", "ns.inum", NULL);
	F.ct_mark = field("nf_conn", "mark", NULL);
	F.kind = field("rtnl_link_ops", "kind", NULL);

	L.skb = 0;
	L.dev = align64(L.skb + struct_size("sk_buff"));
	L.net = align64(L.dev + struct_size("net_device"));
	L.ct = align64(L.net + struct_size("net"));
	L.ops = align64(L.ct + struct_size("nf_conn"));
	L.kind = align64(L.ops + struct_size("rtnl_link_ops"));
	L.peer = align64(L.kind + 64);
	L.slot = align64(L.peer + 64 + 256);
	L.size = L.slot + 8;
	assert_true(L.slot < 32768); /* s16 offsets in the harness */

	img = calloc(1, L.size);
	vlog = malloc(1 << 20);
	assert_non_null(img);
	assert_non_null(vlog);
	map_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "meta_test", 4, L.size, 1, NULL);
	if (map_fd < 0) {
		fprintf(stderr, "bpf_map_create: %s\n", strerror(errno));
		return -1;
	}
	/* One run stores the value's own address; read it back. */
	assert_int_equal(retisc_filter__compile_meta("sk_buff.mark", &st, err, sizeof(err)), 0);
	assert_int_equal(run_stage(&st, L.skb, &retval), 0);
	retisc_insns__release(&st);
	assert_int_equal(bpf_map_lookup_elem(map_fd, &key, img), 0);
	memcpy(&base, img + L.slot, 8);
	assert_true(base != 0 && (base & 7) == 0);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	if (map_fd >= 0)
		close(map_fd);
	free(img);
	free(vlog);
	btf__free(vml);
	return 0;
}

static void test_exec_examples(void **state)
{
	(void)state;
	if (geteuid())
		skip();
	scene();
	EXPECT("sk_buff.mark == 0x10", 1);
	EXPECT("sk_buff.mark == 16", 1);
	EXPECT("sk_buff.mark == 0b10000", 1);
	EXPECT("sk_buff.mark == 17", 0);
	EXPECT("sk_buff.mark != 16", 0);
	EXPECT("sk_buff.mark", 1);
	EXPECT("sk_buff.dev.name == 'eth0'", 1);
	EXPECT("sk_buff.dev.name == \"eth0\"", 1);
	EXPECT("sk_buff.dev.name == 'eth1'", 0);
	EXPECT("sk_buff.dev.name == 'eth'", 0);
	EXPECT("sk_buff.dev.name == 'eth00'", 0);
	EXPECT("sk_buff.dev.nd_net.net.ns.inum == 4026531840", 1);
	EXPECT("sk_buff.dev.nd_net.net.ns.inum == 4026531841", 0);
	EXPECT("sk_buff._nfct:0x7 == 0x2", 1);
	EXPECT("sk_buff._nfct:0x7 == 0x3", 0);
	EXPECT("sk_buff._nfct:~0x7:nf_conn.mark", 1);
	EXPECT("sk_buff._nfct:~0x7:nf_conn.mark == 5", 1);
	EXPECT("sk_buff._nfct:~0x7:nf_conn.mark == 6", 0);
	EXPECT("sk_buff.pkt_type == 1", 1);
	EXPECT("sk_buff.pkt_type == 0", 0);
	EXPECT("sk_buff.cloned", 1);
	EXPECT("sk_buff.skb_iif > 2", 1);
	EXPECT("sk_buff.skb_iif > 3", 0);
	EXPECT("sk_buff.dev.rtnl_link_ops.kind == \"veth\"", 1);
	EXPECT("sk_buff.dev.rtnl_link_ops.kind == \"vet\"", 0);
	EXPECT("sk_buff.dev.rtnl_link_ops.kind == \"veth0\"", 0);
	EXPECT("sk_buff.mac_len == 14", 1);
	EXPECT("sk_buff.vlan_tci == 100", 1);
	EXPECT("sk_buff.dev.mtu == 1500 and sk_buff.dev.ifindex == 2", 1);

	/* and/or: same precedence, left-associative. mark 16, pkt_type 1. */
	EXPECT("sk_buff.pkt_type == 0x0 || sk_buff.mark == 0x100 && sk_buff.cloned", 0);
	EXPECT("sk_buff.pkt_type == 0x0 || (sk_buff.mark == 0x100 && sk_buff.cloned)", 0);
	put_bits(L.skb * 8 + F.pkt_type, F.pkt_type_bits, 0);
	put_bits(L.skb * 8 + F.cloned, F.cloned_bits, 0);
	/* pkt_type 0, cloned 0: the two groupings now differ. */
	EXPECT("sk_buff.pkt_type == 0x0 || sk_buff.mark == 0x100 && sk_buff.cloned", 0);
	EXPECT("sk_buff.pkt_type == 0x0 || (sk_buff.mark == 0x100 && sk_buff.cloned)", 1);
	EXPECT("sk_buff.pkt_type == 0 or sk_buff.mark == 1 and sk_buff.cloned or sk_buff.mark == "
	       "16",
	       1);
	EXPECT("sk_buff.mark == 16 and sk_buff.cloned or sk_buff.pkt_type == 0", 1);
	EXPECT("sk_buff.mark == 16 and (sk_buff.cloned or sk_buff.pkt_type == 1)", 0);
	EXPECT("sk_buff.mark == 16 && sk_buff.pkt_type == 0 && sk_buff.dev.name == 'eth0'", 1);
	EXPECT("sk_buff.mark == 15 || sk_buff.pkt_type == 3 || sk_buff.dev.name == 'eth1'", 0);
	EXPECT("sk_buff.mark == 15 || sk_buff.pkt_type == 3 || sk_buff.dev.name == 'eth0'", 1);
	EXPECT("((sk_buff.mark == 15 or sk_buff.mark == 16) and (sk_buff.cloned or "
	       "sk_buff.dev.mtu == 1500))",
	       1);
	put(L.skb + F.mark / 8, 4, 0x100);
	put_bits(L.skb * 8 + F.pkt_type, F.pkt_type_bits, 1);
	put_bits(L.skb * 8 + F.cloned, F.cloned_bits, 1);
	EXPECT("sk_buff.pkt_type == 0x0 || sk_buff.mark == 0x100 && sk_buff.cloned", 1);
	EXPECT("sk_buff.pkt_type == 0x0 || (sk_buff.mark == 0x100 && sk_buff.cloned)", 1);
}

static void test_exec_signed_unsigned(void **state)
{
	char expr[128];

	(void)state;
	if (geteuid())
		skip();
	scene();
	put(L.skb + F.skb_iif / 8, 4, (uint32_t)-5);
	EXPECT("sk_buff.skb_iif > 2", 0);
	EXPECT("sk_buff.skb_iif < 0", 1);
	EXPECT("sk_buff.skb_iif == -5", 1);
	EXPECT("sk_buff.skb_iif >= -5", 1);
	EXPECT("sk_buff.skb_iif > -5", 0);
	EXPECT("sk_buff.skb_iif <= -6", 0);
	EXPECT("sk_buff.skb_iif <= -5", 1);
	EXPECT("sk_buff.skb_iif != -5", 0);
	/* Hex is not sign-extended: -5 is 0xfffffffffffffffb as a 64-bit value. */
	EXPECT("sk_buff.skb_iif == 0xfffffffb", 0);
	EXPECT("sk_buff.skb_iif == 4294967291", 0);
	EXPECT("sk_buff.skb_iif == 0xfffffffffffffffb", 1);

	put(L.skb + F.mark / 8, 4, 0xfffffff0u);
	EXPECT("sk_buff.mark > 5", 1);
	EXPECT("sk_buff.mark == 4294967280", 1);
	EXPECT("sk_buff.mark <= 0xfffffff0", 1);
	EXPECT("sk_buff.mark < 0xfffffff0", 0);
	EXPECT("sk_buff.mark >= 0xfffffff1", 0);
	EXPECT("sk_buff.mark >= 0xfffffff0", 1);
	EXPECT("sk_buff.mark == 0x1fffffff0", 0);
	EXPECT("sk_buff.mark == 4294967296", 0);
	EXPECT("sk_buff.mark < 4294967296", 1);

	/* 64-bit unsigned leaf holding a kernel address (top bit set). */
	snprintf(expr, sizeof(expr), "sk_buff._nfct == %llu",
		 (unsigned long long)(kaddr(L.ct) | 2));
	EXPECT(expr, 1);
	snprintf(expr, sizeof(expr), "sk_buff._nfct == %#llx",
		 (unsigned long long)(kaddr(L.ct) | 3));
	EXPECT(expr, 0);
	EXPECT("sk_buff._nfct > 0x7fffffffffffffff", 1);

	/* ktime_t (s64) and its u64 alias in the same anonymous union. */
	put(L.skb + F.tstamp / 8, 8, (uint64_t)-1);
	EXPECT("sk_buff.tstamp < 0", 1);
	EXPECT("sk_buff.tstamp == -1", 1);
	EXPECT("sk_buff.skb_mstamp_ns > 0", 1);
	EXPECT("sk_buff.skb_mstamp_ns == 18446744073709551615", 1);
	put(L.skb + F.tstamp / 8, 8, (uint64_t)INT64_MIN);
	EXPECT("sk_buff.tstamp == -9223372036854775808", 1);
	EXPECT("sk_buff.tstamp <= -9223372036854775808", 1);
	EXPECT("sk_buff.tstamp > -9223372036854775808", 0);
}

static void test_exec_masks(void **state)
{
	(void)state;
	if (geteuid())
		skip();
	scene();
	put(L.skb + F.mark / 8, 4, 0x1ff);
	EXPECT("sk_buff.mark:0xff == 0xff", 1);
	EXPECT("sk_buff.mark:~0xff == 0x100", 1);
	EXPECT("sk_buff.mark:~0xff == 0x1ff", 0);
	EXPECT("sk_buff.mark:0x100", 1);
	EXPECT("sk_buff.mark:0x200", 0);
	EXPECT("sk_buff.mark:0b11 == 3", 1);
	EXPECT("sk_buff.mark:511 == 511", 1);
	EXPECT("sk_buff.mark:~0xffffffffffff00ff == 0x100", 1);
	/* Masks with bit 31 set in their low half stay 64-bit. */
	EXPECT("sk_buff._nfct:0xfffffffffffffff8:nf_conn.mark == 5", 1);
	put(L.skb + F.tstamp / 8, 8, 0x180000000ull);
	EXPECT("sk_buff.skb_mstamp_ns:0x80000000 == 0x80000000", 1);
	EXPECT("sk_buff.skb_mstamp_ns:0xffffffff == 0x80000000", 1);
	EXPECT("sk_buff.skb_mstamp_ns == 0x180000000", 1);
	EXPECT("sk_buff.skb_mstamp_ns == 0x80000000", 0);
	EXPECT("sk_buff.dev:0xffffffffffffffff.name == 'eth0'", 1);
	EXPECT("sk_buff.dev:~0x7.name == 'eth0'", 1);
	/* A mask leaving NULL ends the walk: false whatever the operator. */
	EXPECT("sk_buff.dev:0x7.name == 'eth0'", 0);
	EXPECT("sk_buff.dev:0x7.name != 'eth0'", 0);
	EXPECT("sk_buff._nfct:0x7:nf_conn.mark != 1", 0);
	/* Bitfields are isolated from their neighbours. */
	memset(img + L.skb + F.pkt_type / 8, 0xff, 1);
	put_bits(L.skb * 8 + F.pkt_type, F.pkt_type_bits, 5);
	EXPECT("sk_buff.pkt_type == 5", 1);
	EXPECT("sk_buff.pkt_type:0x4 == 4", 1);
	EXPECT("sk_buff.pkt_type:~0x4 == 1", 1);
	memset(img + L.skb + F.cloned / 8, 0xff, 1);
	put_bits(L.skb * 8 + F.cloned, F.cloned_bits, 0);
	EXPECT("sk_buff.cloned", 0);
	EXPECT("sk_buff.cloned == 0", 1);
	EXPECT("sk_buff.nohdr == 1", 1);
	EXPECT("sk_buff.fclone == 3", 1);
}

static void expect_all_false(const char *lhs_num, const char *lhs_str)
{
	static const char *const num_ops[] = {"== 0", "!= 0", "> 0",  ">= 0", "< 1",
					      "<= 0", "== 1", "!= 1", ""};
	char expr[160];

	for (size_t i = 0; i < sizeof(num_ops) / sizeof(num_ops[0]); i++) {
		snprintf(expr, sizeof(expr), "%s %s", lhs_num, num_ops[i]);
		EXPECT(expr, 0);
	}
	if (!lhs_str)
		return;
	snprintf(expr, sizeof(expr), "%s == 'eth0'", lhs_str);
	EXPECT(expr, 0);
	snprintf(expr, sizeof(expr), "%s != 'eth0'", lhs_str);
	EXPECT(expr, 0);
	snprintf(expr, sizeof(expr), "%s != 'zz'", lhs_str);
	EXPECT(expr, 0);
}

static void test_exec_null(void **state)
{
	(void)state;
	if (geteuid())
		skip();
	scene();
	put(L.skb + F.dev / 8, 8, 0);
	expect_all_false("sk_buff.dev.mtu", "sk_buff.dev.name");
	expect_all_false("sk_buff.dev.nd_net.net.ns.inum", "sk_buff.dev.rtnl_link_ops.kind");
	/* A NULL term still composes: only its own outcome is false. */
	EXPECT("sk_buff.dev.name != 'eth0' or sk_buff.mark == 16", 1);
	EXPECT("sk_buff.dev.name != 'eth0' and sk_buff.mark == 16", 0);
	EXPECT("sk_buff.mark == 16 and sk_buff.dev.mtu != 7", 0);
	EXPECT("sk_buff.mark == 16 or sk_buff.dev.mtu != 7", 1);

	/* Non-NULL but unreadable. */
	put(L.skb + F.dev / 8, 8, 16);
	expect_all_false("sk_buff.dev.mtu", "sk_buff.dev.name");

	scene();
	put(L.dev + F.net / 8, 8, 0);
	expect_all_false("sk_buff.dev.nd_net.net.ns.inum", NULL);
	EXPECT("sk_buff.dev.mtu == 1500", 1);

	scene();
	put(L.ops + F.kind / 8, 8, 0);
	EXPECT("sk_buff.dev.rtnl_link_ops.kind == 'veth'", 0);
	EXPECT("sk_buff.dev.rtnl_link_ops.kind != 'veth'", 0);
	put(L.ops + F.kind / 8, 8, 24);
	EXPECT("sk_buff.dev.rtnl_link_ops.kind != 'veth'", 0);

	scene();
	put(L.skb + F.nfct / 8, 8, 2); /* IP_CT_NEW without a conntrack entry */
	EXPECT("sk_buff._nfct:0x7 == 2", 1);
	expect_all_false("sk_buff._nfct:~0x7:nf_conn.mark", NULL);

	/* NULL root: the prologue answers 0. */
	scene();
	check_at(NULL, "sk_buff.mark == 0", NO_ROOT, 0, __LINE__);
	check_at(NULL, "sk_buff.mark != 0", NO_ROOT, 0, __LINE__);
	check_at(NULL, "sk_buff.dev.name != 'x' or sk_buff.mark != 1", NO_ROOT, 0, __LINE__);
}

static void test_exec_strings(void **state)
{
	char expr[160];

	(void)state;
	if (geteuid())
		skip();
	scene();
	EXPECT("sk_buff.dev.name != 'eth1'", 1);
	EXPECT("sk_buff.dev.name != 'eth0'", 0);
	EXPECT("sk_buff.dev.name != 'eth1' and sk_buff.mark == 16", 1);
	EXPECT("sk_buff.dev.name != 'eth0' or sk_buff.mark == 16", 1);
	EXPECT("sk_buff.dev.name != 'eth0' or sk_buff.mark == 17", 0);
	EXPECT("sk_buff.dev.name != 'eth0' and sk_buff.mark == 16", 0);
	EXPECT("sk_buff.mark == 17 or sk_buff.dev.name != 'eth1'", 1);
	EXPECT("(sk_buff.dev.name == 'eth0' or sk_buff.mark == 17) and sk_buff.cloned", 1);
	EXPECT("sk_buff.dev.name == 'eth1' or sk_buff.dev.name == 'eth0'", 1);

	/* Kernel strings longer than 31 bytes compare on their first 31. */
	put(L.ops + F.kind / 8, 8, kaddr(L.peer));
	put_str(L.peer, S40, 41);
	snprintf(expr, sizeof(expr), "sk_buff.dev.rtnl_link_ops.kind == '%.31s'", S40);
	EXPECT(expr, 1);
	snprintf(expr, sizeof(expr), "sk_buff.dev.rtnl_link_ops.kind != '%.31s'", S40);
	EXPECT(expr, 0);
	snprintf(expr, sizeof(expr), "sk_buff.dev.rtnl_link_ops.kind == '%.30s'", S40);
	EXPECT(expr, 0);
	snprintf(expr, sizeof(expr), "sk_buff.dev.rtnl_link_ops.kind != '%.30s'", S40);
	EXPECT(expr, 1);
	/* char cb[48]: the read is capped at 32 bytes. */
	snprintf(expr, sizeof(expr), "sk_buff.cb == '%.31s'", S40);
	EXPECT(expr, 1);
	snprintf(expr, sizeof(expr), "sk_buff.cb == '%.30s'", S40);
	EXPECT(expr, 0);

	/* name[16] without its NUL: read as 15 bytes. */
	put_str(L.dev + F.name / 8, "abcdefghijklmnop", 16);
	EXPECT("sk_buff.dev.name == 'abcdefghijklmno'", 1);
	EXPECT("sk_buff.dev.name == 'abcdefghijklmnop'", 0);
	put_str(L.dev + F.name / 8, "abcdefghijklmno", 16);
	EXPECT("sk_buff.dev.name == 'abcdefghijklmno'", 1);
	/* Empty kernel string: a successful read that differs. */
	memset(img + L.dev + F.name / 8, 0, 16);
	EXPECT("sk_buff.dev.name == 'e'", 0);
	EXPECT("sk_buff.dev.name != 'e'", 1);
	/* Quotes of the other kind are plain characters. */
	put_str(L.dev + F.name / 8, "it's", 5);
	EXPECT("sk_buff.dev.name == \"it's\"", 1);
	put_str(L.dev + F.name / 8, "a\"b", 4);
	EXPECT("sk_buff.dev.name == 'a\"b'", 1);
	/* Bytes past the 8-byte words: all four words are compared. */
	put_str(L.dev + F.name / 8, "0123456789abcde", 16);
	EXPECT("sk_buff.dev.name == '0123456789abcde'", 1);
	EXPECT("sk_buff.dev.name == '0123456789abcdX'", 0);
	EXPECT("sk_buff.dev.name == '0123456X89abcde'", 0);
}

static void test_exec_synthetic(void **state)
{
	struct btf *b, *ob;
	uint32_t s = L.peer + 64, pr = L.peer;

	(void)state;
	if (geteuid())
		skip();
	b = synth();
	memset(img, 0xff, L.size);
	memset(img + pr, 0, 64);
	put(pr, 4, 7);
	put_str(pr + 4, "pp", 3);
	put(s, 4, 42);
	put_bits(s * 8 + 35, 5, (uint64_t)-3);
	put_bits(s * 8 + 44, 20, 0xabcde);
	put_bits(s * 8 + 68, 40, 0xfedcba9876ull);
	put(s + 16, 8, (uint64_t)-2);
	put(s + 24, 1, 200);
	put(s + 25, 1, (uint8_t)-1);
	put(s + 26, 2, (uint16_t)-300);
	put(s + 28, 1, 1);
	put(s + 72, 8, kaddr(pr));
	put(s + 80, 8, kaddr(pr) | 5);
	put(s + 100, 4, (uint32_t)-1);
	put(s + 104, 2, 9);
	put(s + 112, 8, kaddr(pr + 4));
	put(s + 120, 8, 0);

	EXPECT_SYN(b, "sk_buff.a == 42", 1);
	EXPECT_SYN(b, "sk_buff.sbf == -3", 1);
	EXPECT_SYN(b, "sk_buff.sbf < 0", 1);
	EXPECT_SYN(b, "sk_buff.sbf == 29", 0);
	EXPECT_SYN(b, "sk_buff.wide == 0xabcde", 1);
	EXPECT_SYN(b, "sk_buff.wide:0xf0000 == 0xa0000", 1);
	EXPECT_SYN(b, "sk_buff.big == 0xfedcba9876", 1);
	EXPECT_SYN(b, "sk_buff.big > 0xfedcba9875", 1);
	EXPECT_SYN(b, "sk_buff.e64 == -2", 1);
	EXPECT_SYN(b, "sk_buff.e64 < 0", 1);
	EXPECT_SYN(b, "sk_buff.e8 == 200", 1);
	EXPECT_SYN(b, "sk_buff.e8 > 100", 1);
	EXPECT_SYN(b, "sk_buff.sc == -1", 1);
	EXPECT_SYN(b, "sk_buff.sc < 0", 1);
	EXPECT_SYN(b, "sk_buff.ss == -300", 1);
	EXPECT_SYN(b, "sk_buff.ss >= -300 and sk_buff.ss <= -300", 1);
	EXPECT_SYN(b, "sk_buff.b", 1);
	EXPECT_SYN(b, "sk_buff.b == 1", 1);
	EXPECT_SYN(b, "sk_buff.p.val == 7", 1);
	EXPECT_SYN(b, "sk_buff.p.name == 'pp'", 1);
	EXPECT_SYN(b, "sk_buff.np.val == 0", 0);
	EXPECT_SYN(b, "sk_buff.np.name != 'pp'", 0);
	EXPECT_SYN(b, "sk_buff.cookie:~0x7:peer.val == 7", 1);
	EXPECT_SYN(b, "sk_buff.cookie:~0x7:peer_t.name == 'pp'", 1);
	EXPECT_SYN(b, "sk_buff.cookie:0x7:peer.val", 0);
	EXPECT_SYN(b, "sk_buff.p:0xffffffffffffffff:peer_t.val == 7", 1);
	EXPECT_SYN(b, "sk_buff.inner.x == -1", 1);
	EXPECT_SYN(b, "sk_buff.deep == 9", 1);
	EXPECT_SYN(b, "sk_buff.s == 'pp'", 1);
	btf__free(b);

	ob = synth_oldbf();
	memset(img + s, 0, 16);
	memset(img + s + 4, 0xff, 4);
	put_bits(s * 8 + 35, 6, 0x2a);
	EXPECT_SYN(ob, "sk_buff.nb == 42", 1);
	put_bits(s * 8 + 35, 6, 0x15);
	EXPECT_SYN(ob, "sk_buff.nb == 21", 1);
	btf__free(ob);
}

/* Every §4.5 example with its stage length; and the 4096-insn limit holds
 * through the verifier. */
static void test_example_lengths(void **state)
{
	static const char *const ex[] = {
		"sk_buff.mark == 0x10",
		"sk_buff.dev.name == 'eth0'",
		"sk_buff.dev.nd_net.net.ns.inum == 4026531840",
		"sk_buff._nfct:0x7 == 0x2",
		"sk_buff._nfct:~0x7:nf_conn.mark",
		"sk_buff.pkt_type == 1",
		"sk_buff.cloned",
		"sk_buff.skb_iif > 2",
		"sk_buff.dev.rtnl_link_ops.kind == \"veth\"",
		"sk_buff.pkt_type == 0x0 || sk_buff.mark == 0x100 && sk_buff.cloned",
		"sk_buff.pkt_type == 0x0 || (sk_buff.mark == 0x100 && sk_buff.cloned)",
	};
	struct retisc_insns out = {0};
	char err[256];
	char *s;
	int retval;

	(void)state;
	for (size_t i = 0; i < sizeof(ex) / sizeof(ex[0]); i++)
		printf("  %4zu insns  %s\n", stage_len(ex[i]), ex[i]);
	if (geteuid())
		return;

	/* Largest stage of string terms that fits, loaded and run. */
	{
		size_t one = stage_len("sk_buff.dev.rtnl_link_ops.kind != 'veth'");
		size_t max = (RETISC_FILTER_MAX_INSNS - 3) / (one - 3);

		s = repeat_terms("sk_buff.dev.rtnl_link_ops.kind != 'veth'", max);
		assert_int_equal(compile(s, NULL, &out, err, sizeof(err)), 0);
		printf("  %4zu insns  %zu string terms\n", out.n, max);
		scene();
		assert_int_equal(bpf_map_update_elem(map_fd, &(uint32_t){0}, img, BPF_ANY), 0);
		assert_int_equal(run_stage(&out, L.skb, &retval), 0);
		assert_int_equal(retval, 0);
		retisc_insns__release(&out);
		free(s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_syntax_errors),	cmocka_unit_test(test_accepted_syntax),
		cmocka_unit_test(test_semantic_errors), cmocka_unit_test(test_synthetic_errors),
		cmocka_unit_test(test_size_limit),	cmocka_unit_test(test_nesting_limit),
		cmocka_unit_test(test_exec_examples),	cmocka_unit_test(test_exec_signed_unsigned),
		cmocka_unit_test(test_exec_masks),	cmocka_unit_test(test_exec_null),
		cmocka_unit_test(test_exec_strings),	cmocka_unit_test(test_exec_synthetic),
		cmocka_unit_test(test_example_lengths),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
