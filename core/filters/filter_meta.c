// SPDX-License-Identifier: GPL-2.0-only
/*
 * Meta filter compiler (doc/filters.md §4): an expression over struct sk_buff
 * members becomes an eBPF stage (filter.h contract) whose member offsets come
 * from the running kernel's BTF.
 *
 * Parsing and code generation happen in one pass. The boolean operators all
 * have the same precedence and associate to the left, so when an infix
 * operator is read the start of its right operand is simply the next
 * instruction to be emitted: the left operand's exits can be patched then and
 * no syntax tree is needed above the term level.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/btf.h>

#include "filter.h"
#include "filter_meta.h"
#include "btf_info.h"

/*
 * bpf_probe_read_kernel{,_str} exist since 5.5, which this build targets.
 * libbpf rewrites helper ids for older kernels only in the code it relocates,
 * never in a stage spliced in afterwards, so supporting < 5.5 would mean
 * emitting bpf_probe_read (4) / bpf_probe_read_str (45) here (doc/filters.md
 * §2.3).
 */
#define HELPER_READ BPF_FUNC_probe_read_kernel	       /* 113 */
#define HELPER_READ_STR BPF_FUNC_probe_read_kernel_str /* 115 */

/* Scratch layout (doc/filters.md §4.3): the stage owns the 80 bytes below r10. */
#define SCRATCH BPF_REG_10
#define SLOT_OFF (-8)
#define STRBUF_OFF (-40)
#define TARGET_OFF (-72)
#define STR_SIZE 32
#define STR_MAX (STR_SIZE - 1)

#define MAX_NESTING 256

enum cmp_op { OP_NONE, OP_EQ, OP_NE, OP_GT, OP_GE, OP_LT, OP_LE };
enum rhs_kind { RHS_NONE, RHS_NUM, RHS_STR };

/* One `name[:mask[:cast]]` of a left-hand side; text points into expr. */
struct member {
	const char *name;
	size_t len;
	bool has_mask;
	uint64_t mask;
	const char *cast;
	size_t cast_len;
};

struct term {
	struct member *m;
	size_t n, cap;
	enum cmp_op op;
	enum rhs_kind rhs;
	uint64_t num;
	bool neg;
	const char *str;
	size_t str_len;
};

/* Instructions whose jump target is not known yet. */
struct exits {
	size_t *v;
	size_t n, cap;
};

struct branch {
	struct exits t, f;
};

enum leaf_kind { LEAF_NUM, LEAF_STR_ARRAY, LEAF_STR_PTR };

struct leaf {
	enum leaf_kind kind;
	uint32_t byte_off;  /* relative to the base register */
	uint32_t read_size; /* bytes read: 1/2/4/8, or the string read size */
	uint32_t shl, shr;  /* extraction shifts, 0 = none */
	bool is_signed;
};

struct mc {
	const char *expr;
	const char *p;
	struct btf *vmlinux;
	bool modules; /* may casts look into module BTF (btf_info.h) */
	int root;     /* struct sk_buff */
	bool last_had_op;
	struct retisc_insns code;
	int err; /* first error, sticky */
	char *errbuf;
	size_t errsz;
};

static int fail(struct mc *c, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(struct mc *c, int err, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (c->err)
		return c->err;
	c->err = err;
	if (!c->errbuf || !c->errsz)
		return err;
	n = snprintf(c->errbuf, c->errsz, "meta filter: ");
	if (n < 0 || (size_t)n >= c->errsz)
		return err;
	va_start(ap, fmt);
	vsnprintf(c->errbuf + n, c->errsz - n, fmt, ap);
	va_end(ap);
	return err;
}

static int parse_fail(struct mc *c, const char *at, const char *what)
{
	return fail(c, -EINVAL, "parse error at column %zu: expected %s",
		    (size_t)(at - c->expr) + 1, what);
}

/* --- instruction emission ------------------------------------------------ */

/* Emission errors (ENOMEM) are sticky: callers check c->err once per term. */
static size_t emit(struct mc *c, uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	struct bpf_insn insn = {
		.code = code,
		.dst_reg = dst,
		.src_reg = src,
		.off = off,
		.imm = imm,
	};
	size_t at = c->code.n;

	if (!c->err && retisc_insns__push(&c->code, insn))
		fail(c, -ENOMEM, "out of memory");
	return at;
}

static void mov_imm(struct mc *c, uint8_t dst, int32_t imm)
{
	emit(c, BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm);
}

static void mov_reg(struct mc *c, uint8_t dst, uint8_t src)
{
	emit(c, BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0);
}

static void alu_imm(struct mc *c, uint8_t op, uint8_t dst, int32_t imm)
{
	emit(c, BPF_ALU64 | op | BPF_K, dst, 0, 0, imm);
}

/* 64-bit constants never go through a 32-bit immediate: those are
 * sign-extended, which would corrupt masks and values with bit 31 set. */
static void ld_imm64(struct mc *c, uint8_t dst, uint64_t v)
{
	emit(c, BPF_LD | BPF_DW | BPF_IMM, dst, 0, 0, (int32_t)(uint32_t)v);
	emit(c, 0, 0, 0, 0, (int32_t)(uint32_t)(v >> 32));
}

static uint8_t bpf_size(uint32_t bytes)
{
	switch (bytes) {
	case 1:
		return BPF_B;
	case 2:
		return BPF_H;
	case 4:
		return BPF_W;
	default:
		return BPF_DW;
	}
}

static void ldx(struct mc *c, uint32_t bytes, uint8_t dst, uint8_t src, int16_t off)
{
	emit(c, BPF_LDX | BPF_MEM | bpf_size(bytes), dst, src, off, 0);
}

static size_t jmp_imm(struct mc *c, uint8_t op, uint8_t dst, int32_t imm)
{
	return emit(c, BPF_JMP | op | BPF_K, dst, 0, 0, imm);
}

static size_t jmp_reg(struct mc *c, uint8_t op, uint8_t dst, uint8_t src)
{
	return emit(c, BPF_JMP | op | BPF_X, dst, src, 0, 0);
}

static size_t ja(struct mc *c)
{
	return emit(c, BPF_JMP | BPF_JA, 0, 0, 0, 0);
}

static void set_target(struct mc *c, size_t at, size_t target)
{
	/* Callers keep the stage within RETISC_FILTER_MAX_INSNS before patching,
	 * so the distance fits the s16 offset. */
	if (!c->err && at < c->code.n)
		c->code.insns[at].off = (int16_t)((long)target - (long)at - 1);
}

static void exits_add(struct mc *c, struct exits *e, size_t at)
{
	if (c->err)
		return;
	if (e->n == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 8;
		size_t *v = realloc(e->v, cap * sizeof(*v));

		if (!v) {
			fail(c, -ENOMEM, "out of memory");
			return;
		}
		e->v = v;
		e->cap = cap;
	}
	e->v[e->n++] = at;
}

static void exits_patch(struct mc *c, struct exits *e, size_t target)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		set_target(c, e->v[i], target);
	e->n = 0;
}

static void exits_append(struct mc *c, struct exits *dst, struct exits *src)
{
	size_t i;

	for (i = 0; i < src->n; i++)
		exits_add(c, dst, src->v[i]);
	src->n = 0;
}

static void exits_move(struct exits *dst, struct exits *src)
{
	free(dst->v);
	*dst = *src;
	memset(src, 0, sizeof(*src));
}

static void branch_free(struct branch *b)
{
	free(b->t.v);
	free(b->f.v);
	memset(b, 0, sizeof(*b));
}

/*
 * bpf_probe_read_kernel(slot, size, base + off); a failed read makes the
 * term false (doc/filters.md §4.2: unreadable memory).
 */
static void emit_read(struct mc *c, uint8_t base, uint32_t off, uint32_t size, struct exits *fails)
{
	mov_reg(c, BPF_REG_1, SCRATCH);
	alu_imm(c, BPF_ADD, BPF_REG_1, SLOT_OFF);
	mov_imm(c, BPF_REG_2, (int32_t)size);
	mov_reg(c, BPF_REG_3, base);
	if (off)
		alu_imm(c, BPF_ADD, BPF_REG_3, (int32_t)off);
	emit(c, BPF_JMP | BPF_CALL, 0, 0, 0, HELPER_READ);
	exits_add(c, fails, jmp_imm(c, BPF_JNE, BPF_REG_0, 0));
}

/* r7 = *(u64 *)(base + off) & mask; NULL ends the term as false. */
static void emit_hop(struct mc *c, uint8_t base, uint32_t off, const struct member *m,
		     struct exits *fails)
{
	emit_read(c, base, off, 8, fails);
	ldx(c, 8, BPF_REG_7, SCRATCH, SLOT_OFF);
	if (m->has_mask && m->mask != UINT64_MAX) {
		ld_imm64(c, BPF_REG_1, m->mask);
		emit(c, BPF_ALU64 | BPF_AND | BPF_X, BPF_REG_7, BPF_REG_1, 0, 0);
	}
	exits_add(c, fails, jmp_imm(c, BPF_JEQ, BPF_REG_7, 0));
}

/* --- BTF helpers ----------------------------------------------------------- */

static uint32_t skip_mods(const struct btf *btf, uint32_t id)
{
	int guard;

	for (guard = 0; guard < 64; guard++) {
		const struct btf_type *t = btf__type_by_id(btf, id);

		if (!t)
			break;
		switch (btf_kind(t)) {
		case BTF_KIND_TYPEDEF:
		case BTF_KIND_CONST:
		case BTF_KIND_VOLATILE:
		case BTF_KIND_RESTRICT:
		case BTF_KIND_TYPE_TAG:
		case BTF_KIND_DECL_TAG:
			id = t->type;
			continue;
		default:
			return id;
		}
	}
	return id;
}

static const struct btf_type *type_of(const struct btf *btf, uint32_t id)
{
	static const struct btf_type void_type;
	const struct btf_type *t = btf__type_by_id(btf, id);

	return t ? t : &void_type;
}

static bool is_byte_int(const struct btf_type *t)
{
	return btf_is_int(t) && t->size == 1;
}

static void spell_rec(const struct btf *btf, uint32_t id, char *buf, size_t sz, int depth)
{
	const struct btf_type *t = btf__type_by_id(btf, id);
	const char *name, *kw;
	char inner[160];

	if (!t || depth > 8) {
		snprintf(buf, sz, "?");
		return;
	}
	name = btf__name_by_offset(btf, t->name_off);
	if (!name || !*name)
		name = "(anon)";
	switch (btf_kind(t)) {
	case BTF_KIND_UNKN:
		snprintf(buf, sz, "void");
		return;
	case BTF_KIND_INT:
	case BTF_KIND_FLOAT:
	case BTF_KIND_TYPEDEF:
		snprintf(buf, sz, "%s", name);
		return;
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
	case BTF_KIND_ENUM:
	case BTF_KIND_ENUM64:
	case BTF_KIND_FWD:
		if (btf_is_union(t) || (btf_is_fwd(t) && btf_kflag(t)))
			kw = "union";
		else if (btf_is_any_enum(t))
			kw = "enum";
		else
			kw = "struct";
		snprintf(buf, sz, "%s %s", kw, name);
		return;
	case BTF_KIND_PTR:
		spell_rec(btf, t->type, inner, sizeof(inner), depth + 1);
		snprintf(buf, sz, "%s%s*", inner, inner[strlen(inner) - 1] == '*' ? "" : " ");
		return;
	case BTF_KIND_CONST:
	case BTF_KIND_VOLATILE:
		spell_rec(btf, t->type, inner, sizeof(inner), depth + 1);
		snprintf(buf, sz, "%s %s", btf_is_const(t) ? "const" : "volatile", inner);
		return;
	case BTF_KIND_RESTRICT:
	case BTF_KIND_TYPE_TAG:
	case BTF_KIND_DECL_TAG:
		spell_rec(btf, t->type, buf, sz, depth + 1);
		return;
	case BTF_KIND_ARRAY:
		spell_rec(btf, btf_array(t)->type, inner, sizeof(inner), depth + 1);
		snprintf(buf, sz, "%s[%u]", inner, btf_array(t)->nelems);
		return;
	case BTF_KIND_FUNC_PROTO:
		snprintf(buf, sz, "function");
		return;
	default:
		snprintf(buf, sz, "%s", name);
		return;
	}
}

/* C-like spelling of a type for messages: "struct net_device *", "char[16]". */
static const char *spell(const struct btf *btf, uint32_t id, char *buf, size_t sz)
{
	spell_rec(btf, id, buf, sz, 0);
	return buf;
}

static const char *struct_name(const struct btf *btf, uint32_t id, char *buf, size_t sz)
{
	const char *name = btf__name_by_offset(btf, type_of(btf, id)->name_off);

	if (name && *name)
		return name;
	return spell(btf, id, buf, sz);
}

/*
 * Look `name` up in struct/union `sid`, descending into anonymous
 * struct/union members depth first in declaration order (first match wins),
 * so that struct_group()s and anonymous unions are transparent.
 */
static int find_member(const struct btf *btf, uint32_t sid, const char *name, size_t len,
		       uint32_t *type, uint32_t *bit_off, uint32_t *bits, int depth)
{
	const struct btf_type *t = type_of(btf, sid);
	const struct btf_member *m;
	uint16_t i, vlen;

	if (!btf_is_composite(t) || depth > 32)
		return -ENOENT;
	m = btf_members(t);
	vlen = btf_vlen(t);
	for (i = 0; i < vlen; i++) {
		const char *mn = btf__name_by_offset(btf, m[i].name_off);
		uint32_t off = btf_member_bit_offset(t, i);

		if (mn && *mn) {
			if (strlen(mn) != len || memcmp(mn, name, len))
				continue;
			*type = m[i].type;
			*bit_off = off;
			*bits = btf_member_bitfield_size(t, i);
			return 0;
		}
		if (!find_member(btf, skip_mods(btf, m[i].type), name, len, type, bit_off, bits,
				 depth + 1)) {
			*bit_off += off;
			return 0;
		}
	}
	return -ENOENT;
}

/* A struct, union or typedef named `name` among the types `btf` adds to its
 * base (all of them for vmlinux); structs and unions first. */
static int find_named(const struct btf *btf, uint32_t first, const char *name)
{
	static const int kinds[] = {BTF_KIND_STRUCT, BTF_KIND_UNION, BTF_KIND_TYPEDEF};
	uint32_t i, n = btf__type_cnt(btf);
	size_t k;

	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		for (i = first; i < n; i++) {
			const struct btf_type *t = btf__type_by_id(btf, i);
			const char *tn;

			if (btf_kind(t) != kinds[k])
				continue;
			tn = btf__name_by_offset(btf, t->name_off);
			if (tn && !strcmp(tn, name))
				return (int)i;
		}
	}
	return -ENOENT;
}

/* Resolve the `T` of `m:mask:T` (doc/filters.md §4.2): vmlinux first, then the
 * loaded modules' split BTF. */
static int resolve_cast(struct mc *c, const struct member *m, struct btf **out_btf,
			uint32_t *out_id)
{
	char name[128], buf[192];
	size_t i;

	if (m->cast_len >= sizeof(name))
		return fail(c, -EINVAL, "Could not resolve %.*s to a struct or typedef",
			    (int)m->cast_len, m->cast);
	memcpy(name, m->cast, m->cast_len);
	name[m->cast_len] = '\0';

	for (i = 0;; i++) {
		struct btf *btf;
		uint32_t rid;
		int id;

		if (i == 0) {
			btf = c->vmlinux;
			id = find_named(btf, 1, name);
		} else {
			if (!c->modules)
				break;
			btf = retisc_btf__module(i - 1, NULL);
			if (!btf)
				break;
			id = find_named(btf, btf__type_cnt(c->vmlinux), name);
		}
		if (id < 0)
			continue;
		rid = skip_mods(btf, (uint32_t)id);
		if (btf_is_composite(type_of(btf, rid))) {
			*out_btf = btf;
			*out_id = rid;
			return 0;
		}
		if (btf_is_ptr(type_of(btf, rid)))
			return fail(c, -EINVAL,
				    "cast type (%s: %s) cannot be an alias to a pointer", name,
				    spell(btf, rid, buf, sizeof(buf)));
		break;
	}
	return fail(c, -EINVAL, "Could not resolve %s to a struct or typedef", name);
}

/* --- terms ----------------------------------------------------------------- */

struct walk {
	struct btf *btf;
	uint32_t type;	  /* struct/union being walked */
	uint8_t base;	  /* register holding its address */
	uint32_t bit_off; /* of `type` relative to base (embedded members) */
};

static int non_walkable(struct mc *c, const struct btf *btf, uint32_t id)
{
	char buf[192];

	return fail(c, -EINVAL, "unexpected non-walkable type (%s) while walking struct members",
		    spell(btf, id, buf, sizeof(buf)));
}

/* Walk through intermediate member `m` (of type `mtype`, at `bit_off` from
 * the base, `bits` wide if a bitfield). */
static int walk_member(struct mc *c, struct walk *w, const struct member *m, uint32_t mtype,
		       uint32_t bit_off, uint32_t bits, struct exits *fails)
{
	const struct btf_type *rt = type_of(w->btf, skip_mods(w->btf, mtype));
	bool is_ptr = btf_is_ptr(rt);
	bool is_int = btf_is_int(rt);
	bool is_unsigned = (is_int && !(btf_int_encoding(rt) & BTF_INT_SIGNED)) ||
			   (btf_is_any_enum(rt) && !btf_kflag(rt));
	bool is_bitfield = bits || bit_off % 8 ||
			   (is_int && (btf_int_offset(rt) || btf_int_bits(rt) != rt->size * 8));

	if (m->has_mask && !is_ptr && !is_unsigned)
		return fail(c, -EINVAL,
			    "intermediate members masking is only supported for pointers and "
			    "unsigned numbers");

	if (m->cast) {
		struct btf *cbtf = NULL;
		uint32_t cid = 0;
		int err;

		/* The cast reinterprets the member's value as an address, so
		 * anything 8 bytes wide will do (unsigned long _nfct). */
		if (is_bitfield || !(is_ptr || (is_int && rt->size == 8)))
			return non_walkable(c, w->btf, mtype);
		err = resolve_cast(c, m, &cbtf, &cid);
		if (err)
			return err;
		emit_hop(c, w->base, bit_off / 8, m, fails);
		w->btf = cbtf;
		w->type = cid;
		w->base = BPF_REG_7;
		w->bit_off = 0;
		return 0;
	}
	if (btf_is_composite(rt)) {
		w->type = skip_mods(w->btf, mtype);
		w->bit_off = bit_off;
		return 0;
	}
	if (is_ptr) {
		uint32_t pid = skip_mods(w->btf, rt->type);
		const struct btf_type *pt = type_of(w->btf, pid);

		if (btf_is_ptr(pt))
			return fail(c, -EINVAL, "pointers of pointers are not supported");
		if (!btf_is_composite(pt))
			return non_walkable(c, w->btf, mtype);
		emit_hop(c, w->base, bit_off / 8, m, fails);
		w->type = pid;
		w->base = BPF_REG_7;
		w->bit_off = 0;
		return 0;
	}
	return non_walkable(c, w->btf, mtype);
}

/* What the leaf is and how to read it; `m` is NULL for `sk_buff.` alone. */
static int classify_leaf(struct mc *c, const struct btf *btf, const struct member *m,
			 uint32_t mtype, uint32_t bit_off, uint32_t bits, struct leaf *l)
{
	const struct btf_type *rt = type_of(btf, skip_mods(btf, mtype));
	char buf[192];
	uint32_t size, first, nbytes;

	if (m && m->cast)
		return fail(c, -EINVAL, "trying to cast a leaf member into %.*s", (int)m->cast_len,
			    m->cast);

	memset(l, 0, sizeof(*l));
	switch (btf_kind(rt)) {
	case BTF_KIND_INT:
		size = rt->size;
		l->is_signed = btf_int_encoding(rt) & BTF_INT_SIGNED;
		/* Bitfields of structs without kind_flag live in the int type. */
		if (!bits && (btf_int_offset(rt) || btf_int_bits(rt) != size * 8)) {
			bit_off += btf_int_offset(rt);
			bits = btf_int_bits(rt);
		}
		break;
	case BTF_KIND_ENUM:
	case BTF_KIND_ENUM64:
		size = rt->size;
		l->is_signed = btf_kflag(rt);
		break;
	case BTF_KIND_ARRAY: {
		const struct btf_array *a = btf_array(rt);

		if (!is_byte_int(type_of(btf, skip_mods(btf, a->type))))
			return fail(c, -EINVAL, "array of %s are not supported.",
				    spell(btf, a->type, buf, sizeof(buf)));
		l->kind = LEAF_STR_ARRAY;
		l->byte_off = bit_off / 8;
		/* Reading more than the array could run past the object;
		 * the buffer holds 32 bytes (Retis fails at load instead). */
		l->read_size = a->nelems < STR_SIZE ? a->nelems : STR_SIZE;
		return 0;
	}
	case BTF_KIND_PTR: {
		const struct btf_type *pt = type_of(btf, skip_mods(btf, rt->type));

		if (is_byte_int(pt)) {
			l->kind = LEAF_STR_PTR;
			l->byte_off = bit_off / 8;
			l->read_size = STR_SIZE;
			return 0;
		}
		if (btf_is_int(pt))
			return fail(c, -EINVAL, "pointers to %s are not supported.",
				    spell(btf, rt->type, buf, sizeof(buf)));
		return fail(c, -EINVAL, "found unsupported type while emitting operation (%s).",
			    spell(btf, mtype, buf, sizeof(buf)));
	}
	default:
		return fail(c, -EINVAL, "found unsupported type while emitting operation (%s).",
			    spell(btf, mtype, buf, sizeof(buf)));
	}

	if (size != 1 && size != 2 && size != 4 && size != 8)
		return fail(c, -EINVAL, "unsupported type.");
	l->kind = LEAF_NUM;
	if (!bits && bit_off % 8 == 0) {
		l->byte_off = bit_off / 8;
		l->read_size = size;
		if (l->is_signed && size < 8)
			l->shl = l->shr = 64 - 8 * size;
		return 0;
	}
	/* Bitfield (little-endian layout): read the bytes covering it, rounded
	 * up to a load size, then shift it to the top and back down. */
	if (!bits)
		bits = size * 8;
	first = bit_off % 8;
	nbytes = (first + bits + 7) / 8;
	if (nbytes > 8)
		return fail(c, -EINVAL, "unsupported type.");
	l->read_size = nbytes <= 1 ? 1 : nbytes <= 2 ? 2 : nbytes <= 4 ? 4 : 8;
	l->byte_off = bit_off / 8;
	l->shl = 64 - bits - first;
	l->shr = 64 - bits;
	return 0;
}

static int check_leaf(struct mc *c, const struct term *t, const struct member *m,
		      const struct leaf *l)
{
	bool masked = m && m->has_mask;

	if (l->kind != LEAF_NUM) {
		if (masked)
			return fail(c, -EINVAL,
				    "mask is only supported for pointers and unsigned numeric "
				    "members.");
		if (t->op != OP_NONE && t->op != OP_EQ && t->op != OP_NE)
			return fail(c, -EINVAL,
				    "wrong comparison operator. Only '==' and '!=' are supported "
				    "for strings.");
		if (t->rhs != RHS_STR)
			return fail(c, -EINVAL,
				    "invalid target value for array or ptr type. Only strings are "
				    "supported.");
		if (t->str_len > STR_MAX)
			return fail(c, -EINVAL, "invalid rval size (max %d)", STR_MAX);
		return 0;
	}
	if (masked && l->is_signed)
		return fail(c, -EINVAL,
			    "mask is only supported for pointers and unsigned numeric members.");
	if (t->rhs == RHS_STR)
		return fail(c, -EINVAL,
			    "invalid target (%.*s) value (cannot compare string with number)",
			    (int)t->str_len, t->str);
	if (t->neg && !l->is_signed)
		return fail(c, -EINVAL,
			    "invalid target value (value is signed while type is unsigned)");
	return 0;
}

/* Emit the leaf test; returns the index of the jump taken when it holds
 * (falling through means it does not). */
static size_t emit_num_leaf(struct mc *c, const struct term *t, const struct member *m,
			    uint8_t base, const struct leaf *l, struct exits *fails)
{
	static const uint8_t ops[][2] = {
		/* unsigned, signed */
		[OP_EQ] = {BPF_JEQ, BPF_JEQ},  [OP_NE] = {BPF_JNE, BPF_JNE},
		[OP_GT] = {BPF_JGT, BPF_JSGT}, [OP_GE] = {BPF_JGE, BPF_JSGE},
		[OP_LT] = {BPF_JLT, BPF_JSLT}, [OP_LE] = {BPF_JLE, BPF_JSLE},
	};

	emit_read(c, base, l->byte_off, l->read_size, fails);
	ldx(c, l->read_size, BPF_REG_0, SCRATCH, SLOT_OFF);
	if (l->shl)
		alu_imm(c, BPF_LSH, BPF_REG_0, (int32_t)l->shl);
	if (l->shr)
		alu_imm(c, l->is_signed ? BPF_ARSH : BPF_RSH, BPF_REG_0, (int32_t)l->shr);
	if (m && m->has_mask && m->mask != UINT64_MAX) {
		ld_imm64(c, BPF_REG_1, m->mask);
		emit(c, BPF_ALU64 | BPF_AND | BPF_X, BPF_REG_0, BPF_REG_1, 0, 0);
	}
	if (t->op == OP_NONE)
		return jmp_imm(c, BPF_JNE, BPF_REG_0, 0);
	ld_imm64(c, BPF_REG_1, t->num);
	return jmp_reg(c, ops[t->op][l->is_signed], BPF_REG_0, BPF_REG_1);
}

static void store_u64(struct mc *c, int16_t off, uint64_t v)
{
	int64_t s = (int64_t)v;

	if (s >= INT32_MIN && s <= INT32_MAX) {
		emit(c, BPF_ST | BPF_MEM | BPF_DW, SCRATCH, 0, off, (int32_t)s);
		return;
	}
	ld_imm64(c, BPF_REG_1, v);
	emit(c, BPF_STX | BPF_MEM | BPF_DW, SCRATCH, BPF_REG_1, off, 0);
}

/*
 * Both buffers are NUL-padded to 32 bytes, so comparing four words decides
 * equality without a loop. A failed or empty read ends the term as false
 * whatever the operator; `!=` negates only a successful comparison.
 */
static size_t emit_str_leaf(struct mc *c, const struct term *t, uint8_t base, const struct leaf *l,
			    struct exits *fails, struct exits *trues)
{
	uint8_t target[STR_SIZE] = {0};
	size_t i, last = 0;

	memcpy(target, t->str, t->str_len);
	for (i = 0; i < STR_SIZE / 8; i++) {
		uint64_t w;

		memcpy(&w, target + 8 * i, sizeof(w));
		emit(c, BPF_ST | BPF_MEM | BPF_DW, SCRATCH, 0, STRBUF_OFF + 8 * i, 0);
		store_u64(c, TARGET_OFF + 8 * i, w);
	}
	if (l->kind == LEAF_STR_PTR) {
		emit_read(c, base, l->byte_off, 8, fails);
		ldx(c, 8, BPF_REG_3, SCRATCH, SLOT_OFF);
		exits_add(c, fails, jmp_imm(c, BPF_JEQ, BPF_REG_3, 0));
	} else {
		mov_reg(c, BPF_REG_3, base);
		if (l->byte_off)
			alu_imm(c, BPF_ADD, BPF_REG_3, (int32_t)l->byte_off);
	}
	mov_reg(c, BPF_REG_1, SCRATCH);
	alu_imm(c, BPF_ADD, BPF_REG_1, STRBUF_OFF);
	mov_imm(c, BPF_REG_2, (int32_t)l->read_size);
	emit(c, BPF_JMP | BPF_CALL, 0, 0, 0, HELPER_READ_STR);
	exits_add(c, fails, jmp_imm(c, BPF_JSLE, BPF_REG_0, 0));

	for (i = 0; i < STR_SIZE / 8; i++) {
		bool final = i == STR_SIZE / 8 - 1;

		ldx(c, 8, BPF_REG_1, SCRATCH, STRBUF_OFF + 8 * i);
		ldx(c, 8, BPF_REG_2, SCRATCH, TARGET_OFF + 8 * i);
		if (t->op == OP_NE) {
			last = jmp_reg(c, BPF_JNE, BPF_REG_1, BPF_REG_2);
			if (!final)
				exits_add(c, trues, last);
		} else if (final) {
			last = jmp_reg(c, BPF_JEQ, BPF_REG_1, BPF_REG_2);
		} else {
			exits_add(c, fails, jmp_reg(c, BPF_JNE, BPF_REG_1, BPF_REG_2));
		}
	}
	return last;
}

static int not_found(struct mc *c, const struct member *m, const struct walk *w)
{
	char buf[192];

	return fail(c, -EINVAL, "field %.*s not found in type %s", (int)m->len, m->name,
		    struct_name(w->btf, w->type, buf, sizeof(buf)));
}

static int gen_term(struct mc *c, const struct term *t, struct branch *b)
{
	struct walk w = {0};
	struct exits fails = {0}, trues = {0};
	const struct member *m = NULL;
	uint32_t mtype, bit_off = 0, bits = 0;
	struct leaf l = {0};
	size_t i, hit;
	int err = 0;

	/* Until the first hop the base is the root itself: reading through r6
	 * saves the `r7 = r6` of doc/filters.md §4.3 without changing meaning. */
	w.btf = c->vmlinux;
	w.type = (uint32_t)c->root;
	w.base = BPF_REG_6;
	mtype = w.type;
	for (i = 0; i < t->n; i++) {
		m = &t->m[i];
		if (find_member(w.btf, w.type, m->name, m->len, &mtype, &bit_off, &bits, 0)) {
			err = not_found(c, m, &w);
			goto out;
		}
		bit_off += w.bit_off;
		if (i + 1 == t->n)
			break;
		err = walk_member(c, &w, m, mtype, bit_off, bits, &fails);
		if (err)
			goto out;
	}

	err = classify_leaf(c, w.btf, m, mtype, bit_off, bits, &l);
	if (!err)
		err = check_leaf(c, t, m, &l);
	if (err)
		goto out;

	if (l.kind == LEAF_NUM)
		hit = emit_num_leaf(c, t, m, w.base, &l, &fails);
	else
		hit = emit_str_leaf(c, t, w.base, &l, &fails, &trues);
	exits_add(c, &trues, hit);

	/* Fall-through and failures: false; jumps that hold: true. */
	exits_patch(c, &fails, c->code.n);
	mov_imm(c, BPF_REG_0, 0);
	exits_add(c, &b->f, ja(c));
	exits_patch(c, &trues, c->code.n);
	mov_imm(c, BPF_REG_0, RETISC_FILTER_PASS);
	exits_add(c, &b->t, ja(c));

	if (!c->err && c->code.n > RETISC_FILTER_MAX_INSNS)
		fail(c, -E2BIG, "filter exceeds the maximum allowed size (%d instructions)",
		     RETISC_FILTER_MAX_INSNS);
	err = c->err;
out:
	free(fails.v);
	free(trues.v);
	return err;
}

/* --- parser ---------------------------------------------------------------- */

static bool is_ident_start(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_';
}

static bool is_ident_char(char ch)
{
	return is_ident_start(ch) || (ch >= '0' && ch <= '9');
}

static void skip_blanks(struct mc *c)
{
	while (*c->p == ' ' || *c->p == '\t')
		c->p++;
}

static bool accept(struct mc *c, const char *s)
{
	size_t n = strlen(s);

	if (strncmp(c->p, s, n))
		return false;
	c->p += n;
	return true;
}

/* A keyword, not the prefix of a longer identifier ("andy"). */
static bool accept_word(struct mc *c, const char *s)
{
	size_t n = strlen(s);

	if (strncmp(c->p, s, n) || is_ident_char(c->p[n]))
		return false;
	c->p += n;
	return true;
}

static int digit_value(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return 99;
}

/* hex / bin / dec as a u64 (or dec only); overflow is an error. */
static int parse_u64(struct mc *c, bool dec_only, uint64_t *out)
{
	const char *start = c->p, *s = c->p;
	unsigned int base = 10;
	const char *what = "a number";
	uint64_t v = 0;

	if (!dec_only && s[0] == '0' && s[1] == 'x') {
		base = 16;
		what = "hexadecimal digits";
		s += 2;
	} else if (!dec_only && s[0] == '0' && s[1] == 'b') {
		base = 2;
		what = "binary digits";
		s += 2;
	}
	if (digit_value(*s) >= (int)base)
		return parse_fail(c, s, what);
	for (; digit_value(*s) < (int)base; s++) {
		unsigned int d = (unsigned int)digit_value(*s);

		if (v > (UINT64_MAX - d) / base)
			return parse_fail(c, start, "a number that fits in 64 bits");
		v = v * base + d;
	}
	c->p = s;
	*out = v;
	return 0;
}

static int parse_member(struct mc *c, struct term *t)
{
	struct member m = {.name = c->p};

	while (is_ident_char(*c->p))
		c->p++;
	m.len = (size_t)(c->p - m.name);
	skip_blanks(c);
	if (*c->p == ':') {
		bool complement = false;
		int err;

		c->p++;
		skip_blanks(c);
		if (*c->p == '~') {
			complement = true;
			c->p++;
			skip_blanks(c);
		}
		err = parse_u64(c, false, &m.mask);
		if (err)
			return err;
		if (complement)
			m.mask = ~m.mask;
		if (!m.mask)
			return fail(c, -EINVAL, "mask must be greater than 0");
		m.has_mask = true;
		skip_blanks(c);
		if (*c->p == ':') {
			c->p++;
			skip_blanks(c);
			if (!is_ident_start(*c->p))
				return parse_fail(c, c->p, "a type name");
			m.cast = c->p;
			while (is_ident_char(*c->p))
				c->p++;
			m.cast_len = (size_t)(c->p - m.cast);
		}
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 8;
		struct member *v = realloc(t->m, cap * sizeof(*v));

		if (!v)
			return fail(c, -ENOMEM, "out of memory");
		t->m = v;
		t->cap = cap;
	}
	t->m[t->n++] = m;
	return 0;
}

static int parse_rhs(struct mc *c, struct term *t)
{
	char q = *c->p;

	if (q == '"' || q == '\'') {
		const char *s = c->p + 1, *e = strchr(s, q);

		if (!e)
			return parse_fail(c, s + strlen(s), q == '"' ? "'\"'" : "\"'\"");
		if (e == s)
			return parse_fail(c, c->p, "a non-empty string");
		t->rhs = RHS_STR;
		t->str = s;
		t->str_len = (size_t)(e - s);
		c->p = e + 1;
		return 0;
	}
	t->rhs = RHS_NUM;
	if (q == '-') {
		const char *sign = c->p;
		int err;

		c->p++;
		skip_blanks(c);
		if (c->p[0] == '0' && (c->p[1] == 'x' || c->p[1] == 'b'))
			return parse_fail(c, c->p, "a decimal number after '-'");
		err = parse_u64(c, true, &t->num);
		if (err)
			return err;
		if (t->num > (uint64_t)INT64_MAX + 1)
			return parse_fail(c, sign, "a number that fits in 64 bits");
		t->num = (uint64_t)0 - t->num;
		t->neg = true;
		return 0;
	}
	if (digit_value(q) > 9)
		return parse_fail(c, c->p, "a number or a quoted string");
	return parse_u64(c, false, &t->num);
}

static int parse_term(struct mc *c, struct term *t)
{
	static const struct {
		const char *s;
		enum cmp_op op;
	} ops[] = {
		{"==", OP_EQ}, {"!=", OP_NE}, {">=", OP_GE},
		{"<=", OP_LE}, {">", OP_GT},  {"<", OP_LT},
	};
	size_t i;
	int err;

	if (!accept_word(c, "sk_buff"))
		return parse_fail(c, c->p, "\"sk_buff\" or \"(\"");
	skip_blanks(c);
	if (*c->p != '.')
		return parse_fail(c, c->p, "\".\"");
	while (*c->p == '.') {
		c->p++;
		skip_blanks(c);
		/* An empty member ("sk_buff..mark") is ignored. */
		if (is_ident_start(*c->p)) {
			err = parse_member(c, t);
			if (err)
				return err;
		}
		skip_blanks(c);
	}
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (accept(c, ops[i].s))
			break;
	c->last_had_op = i < sizeof(ops) / sizeof(ops[0]);
	if (!c->last_had_op)
		return 0;
	t->op = ops[i].op;
	skip_blanks(c);
	return parse_rhs(c, t);
}

static int parse_expr(struct mc *c, unsigned int depth, struct branch *b);

static int parse_primary(struct mc *c, unsigned int depth, struct branch *b)
{
	struct term t = {0};
	int err;

	skip_blanks(c);
	if (*c->p == '(') {
		if (depth >= MAX_NESTING)
			return parse_fail(c, c->p, "at most 256 nested parentheses");
		c->p++;
		err = parse_expr(c, depth + 1, b);
		if (err)
			return err;
		skip_blanks(c);
		if (*c->p != ')')
			return parse_fail(c, c->p,
					  c->last_had_op
						  ? "\"and\", \"or\", \"&&\", \"||\" or \")\""
						  : "a comparison operator, \"and\", \"or\", "
						    "\"&&\", \"||\" or \")\"");
		c->p++;
		/* "(a == 1) == 2" has no meaning. */
		c->last_had_op = true;
		return 0;
	}
	err = parse_term(c, &t);
	if (!err)
		err = gen_term(c, &t, b);
	free(t.m);
	return err;
}

static int parse_expr(struct mc *c, unsigned int depth, struct branch *b)
{
	int err = parse_primary(c, depth, b);

	while (!err) {
		struct branch r = {0};
		bool is_and;

		skip_blanks(c);
		if (accept_word(c, "and") || accept(c, "&&"))
			is_and = true;
		else if (accept_word(c, "or") || accept(c, "||"))
			is_and = false;
		else
			break;
		/* The right operand starts at the next instruction. */
		exits_patch(c, is_and ? &b->t : &b->f, c->code.n);
		err = parse_primary(c, depth, &r);
		if (is_and) {
			exits_move(&b->t, &r.t);
			exits_append(c, &b->f, &r.f);
		} else {
			exits_move(&b->f, &r.f);
			exits_append(c, &b->t, &r.t);
		}
		branch_free(&r);
		if (!err)
			err = c->err;
	}
	return err;
}

static int compile(const char *expr, struct btf *btf, bool modules, struct retisc_insns *out,
		   char *err, size_t errsz)
{
	struct mc c = {
		.expr = expr,
		.p = expr,
		.vmlinux = btf,
		.modules = modules,
		.errbuf = err,
		.errsz = errsz,
	};
	struct branch b = {0};
	size_t null_root;
	int ret;

	if (err && errsz)
		err[0] = '\0';
	c.root = btf__find_by_name_kind(btf, "sk_buff", BTF_KIND_STRUCT);
	if (c.root < 0) {
		ret = fail(&c, -ENOENT, "Could not resolve sk_buff to a struct");
		goto out;
	}

	mov_imm(&c, BPF_REG_0, 0);
	null_root = jmp_imm(&c, BPF_JEQ, BPF_REG_1, 0);
	mov_reg(&c, BPF_REG_6, BPF_REG_1);

	ret = parse_expr(&c, 0, &b);
	if (!ret) {
		skip_blanks(&c);
		if (*c.p)
			ret = parse_fail(
				&c, c.p,
				c.last_had_op ? "\"and\", \"or\", \"&&\", \"||\" or end of input"
					      : "a comparison operator, \"and\", \"or\", \"&&\", "
						"\"||\" or end of input");
	}
	if (ret)
		goto out;

	/* Every remaining exit "returns": jumps right after the stage. */
	set_target(&c, null_root, c.code.n);
	exits_patch(&c, &b.t, c.code.n);
	exits_patch(&c, &b.f, c.code.n);
	ret = c.err;
	if (!ret) {
		retisc_insns__release(out);
		*out = c.code;
		memset(&c.code, 0, sizeof(c.code));
	}
out:
	branch_free(&b);
	retisc_insns__release(&c.code);
	return ret;
}

int retisc_filter__compile_meta_btf(const char *expr, struct btf *btf, struct retisc_insns *out,
				    char *err, size_t errsz)
{
	return compile(expr, btf, false, out, err, errsz);
}

/*
 * On success *out is replaced by the stage (its previous array released); on
 * failure it is left as it was. Casts may name module types.
 */
int retisc_filter__compile_meta(const char *expr, struct retisc_insns *out, char *err, size_t errsz)
{
	struct btf *btf = retisc_btf__vmlinux();

	if (!btf) {
		if (err && errsz)
			snprintf(err, errsz, "meta filter: could not load the kernel BTF: %s",
				 strerror(ENODATA));
		return -ENODATA;
	}
	return compile(expr, btf, true, out, err, errsz);
}
