// SPDX-License-Identifier: GPL-2.0-only
/*
 * retisc JSON values: see retisc/json.h for the API and doc/events.md §3 for the
 * serialisation rules this implements.
 */
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "retisc/json.h"
#include "retisc/json_text.h"
#include "retisc/strbuf.h"

#include "util.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* Deepest container nesting the parser accepts. */
#define JSON_MAX_DEPTH 512
/* Up to this many members, duplicate keys are looked for pairwise. */
#define JSON_DEDUP_LINEAR_MAX 16

struct json_member {
	char *key;
	/* Parsed keys may hold "\u0000"; the length keeps them intact. */
	size_t klen;
	/*
	 * The key's first 8 bytes (zero past its end), as memory holds them:
	 * renderers look up ~30 keys per event, and most keys are shorter
	 * than 8 bytes, so one compare of this and klen settles most tests.
	 */
	uint64_t k8;
	struct retisc_json *val;
};

struct retisc_json {
	enum retisc_json_type type;
	union {
		bool b;
		uint64_t u;
		int64_t i;
		double d;
		struct {
			/* Points right behind the struct: one allocation per string. */
			char *s;
			size_t len;
		} str;
		/*
		 * Freeing must neither allocate nor recurse, as values built
		 * through the API may nest without limit. Once a container is
		 * being freed its capacity is dead, so that slot carries the
		 * link back to its parent.
		 */
		struct {
			struct retisc_json **items;
			size_t len;
			union {
				size_t cap;
				struct retisc_json *up;
			};
		} arr;
		struct {
			struct json_member *m;
			size_t len;
			union {
				size_t cap;
				struct retisc_json *up;
			};
		} obj;
	};
};

/* --- allocation helpers ------------------------------------------------- */

/*
 * Small blocks (nodes, keys, short strings, small arrays) are recycled
 * through per-thread free lists. An event is a few dozen of them, built and
 * freed up to a million times a second by the bus thread; off the main
 * thread every malloc() and free() takes its arena's lock, which made
 * allocation half of the collect's userspace time. Classes every 16 bytes
 * (malloc's own granularity, so held trees take no more memory) up to 256:
 * an object of 5 to 8 members (an event's top level, skb's meta) has a
 * 200-byte member array, which print's workers would otherwise malloc and
 * free for every event. Blocks past JSON_CACHE_DEPTH per class go back to
 * malloc.
 */
#define JSON_BLOCK_STEP 16
#define JSON_BLOCK_CLASSES 16
#define JSON_BLOCK_MAX (JSON_BLOCK_STEP * JSON_BLOCK_CLASSES)
#define JSON_CACHE_DEPTH 512

struct json_block {
	struct json_block *next;
};

/*
 * A parse arena (retisc_json__arena_begin()): chunks of memory carved
 * front to back, newest first; the oldest is kept from one use to the next.
 */
#define JSON_ARENA_CHUNK (64u << 10)
#define JSON_ARENA_ALIGN 16

struct json_chunk {
	struct json_chunk *next;
	size_t size, used;
	_Alignas(JSON_ARENA_ALIGN) unsigned char data[];
};

struct json_cache {
	struct json_block *head[JSON_BLOCK_CLASSES];
	unsigned int n[JSON_BLOCK_CLASSES];
	bool registered;
	bool arena_on;
	struct json_chunk *arena;
};

static __thread struct json_cache json_cache;
static pthread_key_t json_cache_key;
static pthread_once_t json_cache_once = PTHREAD_ONCE_INIT;

static void json_cache_drain(void *unused)
{
	struct json_chunk *ch;
	struct json_block *b;

	(void)unused;
	while ((ch = json_cache.arena)) {
		json_cache.arena = ch->next;
		free(ch);
	}
	json_cache.arena_on = false;
	for (int c = 0; c < JSON_BLOCK_CLASSES; c++) {
		while ((b = json_cache.head[c])) {
			json_cache.head[c] = b->next;
			free(b);
		}
		json_cache.n[c] = 0;
	}
}

static void json_cache_key_init(void)
{
	/* Without a key, blocks cached by an exiting thread would leak. */
	if (pthread_key_create(&json_cache_key, json_cache_drain))
		json_cache_key = (pthread_key_t)-1;
}

/* Have this thread's cache (and arena) freed when it exits. */
static bool json_cache_register(void)
{
	if (json_cache.registered)
		return true;
	pthread_once(&json_cache_once, json_cache_key_init);
	if (json_cache_key == (pthread_key_t)-1 || pthread_setspecific(json_cache_key, &json_cache))
		return false;
	json_cache.registered = true;
	return true;
}

static bool json_in_arena(const void *p)
{
	for (const struct json_chunk *ch = json_cache.arena; ch; ch = ch->next)
		if ((uintptr_t)p - (uintptr_t)ch->data < ch->size)
			return true;
	return false;
}

static void *json_arena_alloc(size_t n)
{
	struct json_chunk *ch = json_cache.arena;
	size_t size;

	if (n > SIZE_MAX - JSON_ARENA_CHUNK)
		return NULL;
	n = (n + JSON_ARENA_ALIGN - 1) & ~(size_t)(JSON_ARENA_ALIGN - 1);
	if (!ch || ch->size - ch->used < n) {
		/* What does not fit in a chunk gets one of its own. */
		size = n > JSON_ARENA_CHUNK ? n : JSON_ARENA_CHUNK;
		ch = malloc(sizeof(*ch) + size);
		if (!ch)
			return NULL;
		ch->size = size;
		ch->used = 0;
		ch->next = json_cache.arena;
		json_cache.arena = ch;
	}
	ch->used += n;
	return ch->data + ch->used - n;
}

int retisc_json__arena_begin(void)
{
	if (json_cache.arena_on)
		return -EBUSY;
	if (!json_cache_register())
		return -ENOMEM;
	json_cache.arena_on = true;
	return 0;
}

void retisc_json__arena_end(void)
{
	struct json_chunk *ch;

	if (!json_cache.arena_on)
		return;
	json_cache.arena_on = false;
	while ((ch = json_cache.arena) && ch->next) {
		json_cache.arena = ch->next;
		free(ch);
	}
	if (ch)
		ch->used = 0;
}

/* Class of a block of n <= JSON_BLOCK_MAX bytes; it holds (class + 1) * 16. */
static int json_class(size_t n)
{
	return n ? (int)((n - 1) / JSON_BLOCK_STEP) : 0;
}

static void *json_block_alloc(size_t n)
{
	struct json_block *b;
	int c;

	if (n > JSON_BLOCK_MAX)
		return malloc(n);
	c = json_class(n);
	b = json_cache.head[c];
	if (!b)
		return malloc((size_t)(c + 1) * JSON_BLOCK_STEP);
	json_cache.head[c] = b->next;
	json_cache.n[c]--;
	return b;
}

/*
 * n bytes, not zeroed; release with json_mem_free(p, n). Small enough to
 * be inlined: in the arena, most allocations are the bump below.
 */
static inline void *json_mem_alloc(size_t n)
{
	struct json_chunk *ch = json_cache.arena;
	size_t r = (n + JSON_ARENA_ALIGN - 1) & ~(size_t)(JSON_ARENA_ALIGN - 1);

	if (!json_cache.arena_on)
		return json_block_alloc(n);
	if (ch && r >= n && ch->size - ch->used >= r) {
		ch->used += r;
		return ch->data + ch->used - r;
	}
	return json_arena_alloc(n);
}

static void json_mem_free(void *p, size_t n)
{
	struct json_block *b = p;
	int c;

	if (!p)
		return;
	/* Arena blocks all go at once, in retisc_json__arena_end(). */
	if (json_cache.arena_on && json_in_arena(p))
		return;
	if (n > JSON_BLOCK_MAX)
		goto out;
	c = json_class(n);
	if (json_cache.n[c] >= JSON_CACHE_DEPTH)
		goto out;
	if (!json_cache_register())
		goto out;
	b->next = json_cache.head[c];
	json_cache.head[c] = b;
	json_cache.n[c]++;
	return;
out:
	free(p);
}

static struct retisc_json *json_alloc(enum retisc_json_type type)
{
	struct retisc_json *v = json_mem_alloc(sizeof(*v));

	if (!v) {
		errno = ENOMEM;
		return NULL;
	}
	memset(v, 0, sizeof(*v));
	v->type = type;
	return v;
}

/* A string value of n bytes whose content the caller fills in. */
static struct retisc_json *json_alloc_str(size_t n)
{
	struct retisc_json *v;

	if (n > SIZE_MAX - sizeof(*v) - 1) {
		errno = ENOMEM;
		return NULL;
	}
	v = json_mem_alloc(sizeof(*v) + n + 1);
	if (!v) {
		errno = ENOMEM;
		return NULL;
	}
	v->type = RETISC_JSON_STRING;
	v->str.s = (char *)(v + 1);
	v->str.len = n;
	v->str.s[n] = '\0';
	return v;
}

/*
 * Item and member arrays use the caches too. A container's capacity field
 * carries the parent link while its tree is freed, so each array keeps its
 * size in a header of its own.
 */
static void *json_arr_resize(void *items, size_t size)
{
	size_t *h = items ? (size_t *)items - 1 : NULL, old = h ? *h : 0;
	size_t total = size + sizeof(*h);
	size_t *n;

	if (size > SIZE_MAX - sizeof(*h))
		return NULL;
	if (h && old + sizeof(*h) > JSON_BLOCK_MAX && total > JSON_BLOCK_MAX &&
	    !(json_cache.arena_on && json_in_arena(h))) {
		n = realloc(h, total);
	} else {
		n = json_mem_alloc(total);
		if (n && h)
			memcpy(n + 1, items, old < size ? old : size);
		if (n)
			json_mem_free(h, old + sizeof(*h));
	}
	if (!n)
		return NULL;
	*n = size;
	return n + 1;
}

static void json_arr_free(void *items)
{
	size_t *h = items;

	if (h)
		json_mem_free(h - 1, h[-1] + sizeof(*h));
}

/*
 * Make room for one more element in an array of *cap elements of size bytes.
 * Returns the (possibly moved) array, or NULL with *cap unchanged.
 */
static void *json_grow(void *items, size_t *cap, size_t len, size_t size)
{
	size_t ncap;
	void *p;

	if (len < *cap)
		return items;
	ncap = *cap ? *cap * 2 : 4;
	if (ncap < *cap || ncap > SIZE_MAX / size)
		return NULL;
	p = json_arr_resize(items, ncap * size);
	if (!p)
		return NULL;
	*cap = ncap;
	return p;
}

static char *json_keydup(const char *key, size_t klen)
{
	char *k = json_mem_alloc(klen + 1);

	if (!k)
		return NULL;
	memcpy(k, key, klen);
	k[klen] = '\0';
	return k;
}

static void json_key_free(char *key, size_t klen)
{
	json_mem_free(key, klen + 1);
}

/* Append v (not freed on failure) to array arr. */
static int arr_push(struct retisc_json *arr, struct retisc_json *v)
{
	struct retisc_json **items;

	items = json_grow(arr->arr.items, &arr->arr.cap, arr->arr.len, sizeof(*items));
	if (!items)
		return -ENOMEM;
	arr->arr.items = items;
	items[arr->arr.len++] = v;
	return 0;
}

/*
 * Append member key (owned: the caller allocated it) = v at the end of obj
 * without looking for duplicates. Nothing is freed on failure.
 */
static int obj_push(struct retisc_json *obj, char *key, size_t klen, struct retisc_json *v)
{
	struct json_member *m;

	m = json_grow(obj->obj.m, &obj->obj.cap, obj->obj.len, sizeof(*m));
	if (!m)
		return -ENOMEM;
	obj->obj.m = m;
	m += obj->obj.len++;
	m->key = key;
	m->klen = klen;
	m->k8 = retisc_key_word8(key, klen);
	m->val = v;
	return 0;
}

static bool json_is_container(const struct retisc_json *v)
{
	return v->type == RETISC_JSON_ARRAY || v->type == RETISC_JSON_OBJECT;
}

static size_t json_nchildren(const struct retisc_json *v)
{
	if (v->type == RETISC_JSON_ARRAY)
		return v->arr.len;
	if (v->type == RETISC_JSON_OBJECT)
		return v->obj.len;
	return 0;
}

/* --- constructors and destructor ---------------------------------------- */

struct retisc_json *retisc_json__new_object(void)
{
	return json_alloc(RETISC_JSON_OBJECT);
}

struct retisc_json *retisc_json__new_array(void)
{
	return json_alloc(RETISC_JSON_ARRAY);
}

struct retisc_json *retisc_json__new_null(void)
{
	return json_alloc(RETISC_JSON_NULL);
}

struct retisc_json *retisc_json__new_bool(bool b)
{
	struct retisc_json *v = json_alloc(RETISC_JSON_BOOL);

	if (v)
		v->b = b;
	return v;
}

struct retisc_json *retisc_json__new_u64(uint64_t u)
{
	struct retisc_json *v = json_alloc(RETISC_JSON_UINT);

	if (v)
		v->u = u;
	return v;
}

struct retisc_json *retisc_json__new_i64(int64_t i)
{
	struct retisc_json *v;

	if (i >= 0)
		return retisc_json__new_u64((uint64_t)i);
	v = json_alloc(RETISC_JSON_INT);
	if (v)
		v->i = i;
	return v;
}

struct retisc_json *retisc_json__new_double(double d)
{
	struct retisc_json *v = json_alloc(RETISC_JSON_DOUBLE);

	if (v)
		v->d = d;
	return v;
}

struct retisc_json *retisc_json__new_strn(const char *s, size_t n)
{
	struct retisc_json *v;

	if (!s && n) {
		errno = EINVAL;
		return NULL;
	}
	v = json_alloc_str(n);
	if (v && n)
		memcpy(v->str.s, s, n);
	return v;
}

struct retisc_json *retisc_json__new_str(const char *s)
{
	if (!s) {
		errno = EINVAL;
		return NULL;
	}
	return retisc_json__new_strn(s, strlen(s));
}

/*
 * Length of the UTF-8 sequence at p (n > 0 bytes available). *ok tells
 * whether it is well formed (Unicode table 3-7); if not, the length is that
 * of its maximal subpart, which becomes a single U+FFFD (Unicode §3.9 "best
 * practice", the behaviour of Retis's String::from_utf8_lossy()).
 */
static size_t utf8_seq(const unsigned char *p, size_t n, bool *ok)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;
	size_t need, i;

	*ok = false;
	if (c < 0x80) {
		*ok = true;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		need = 1;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 2;
		if (c == 0xe0)
			lo = 0xa0; /* overlong */
		else if (c == 0xed)
			hi = 0x9f; /* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 3;
		if (c == 0xf0)
			lo = 0x90; /* overlong */
		else if (c == 0xf4)
			hi = 0x8f; /* above U+10FFFF */
	} else {
		return 1;
	}
	for (i = 1; i <= need; i++) {
		if (i >= n || p[i] < lo || p[i] > hi)
			return i;
		lo = 0x80;
		hi = 0xbf;
	}
	*ok = true;
	return need + 1;
}

struct retisc_json *retisc_json__new_str_lossy(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	struct retisc_json *v;
	size_t i, k, out = 0;
	bool ok, valid = true;
	char *d;

	if (!s && n) {
		errno = EINVAL;
		return NULL;
	}
	n = n ? strnlen(s, n) : 0;
	/* Size first, so the common valid case costs one allocation. */
	for (i = 0; i < n; i += k) {
		k = utf8_seq(p + i, n - i, &ok);
		out += ok ? k : 3;
		valid &= ok;
	}
	v = json_alloc_str(out);
	if (!v)
		return NULL;
	if (valid) {
		if (n)
			memcpy(v->str.s, s, n);
		return v;
	}
	d = v->str.s;
	for (i = 0; i < n; i += k) {
		k = utf8_seq(p + i, n - i, &ok);
		if (ok) {
			memcpy(d, p + i, k);
			d += k;
		} else {
			memcpy(d, "\xef\xbf\xbd", 3);
			d += 3;
		}
	}
	return v;
}

int retisc_json__dump_str_lossy(struct retisc_strbuf *sb, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	struct retisc_json *v;
	size_t i = 0, k;
	bool ok = true;
	int err;

	if (!s && n)
		return -EINVAL;
	n = n ? strnlen(s, n) : 0;
	while (i < n && p[i] < 0x80)
		i++;
	for (; i < n && ok; i += k)
		k = utf8_seq(p + i, n - i, &ok);
	if (ok)
		return retisc_json__dump_str(sb, s, n);
	/* Rare: build the replaced string the one way there is. */
	v = retisc_json__new_str_lossy(s, n);
	if (!v)
		return -ENOMEM;
	err = retisc_json__dump_str(sb, v->str.s, v->str.len);
	retisc_json__free(v);
	return err;
}

/* Free v, whose children (if any) were already detached. */
static void json_free_node(struct retisc_json *v)
{
	if (v->type == RETISC_JSON_ARRAY)
		json_arr_free(v->arr.items);
	else if (v->type == RETISC_JSON_OBJECT)
		json_arr_free(v->obj.m);
	json_mem_free(v, sizeof(*v) + (v->type == RETISC_JSON_STRING ? v->str.len + 1 : 0));
}

/* Detach the last child of container v and return it (NULL: none left). */
static struct retisc_json *json_pop_child(struct retisc_json *v)
{
	struct json_member *m;

	if (v->type == RETISC_JSON_ARRAY)
		return v->arr.len ? v->arr.items[--v->arr.len] : NULL;
	if (!v->obj.len)
		return NULL;
	m = &v->obj.m[--v->obj.len];
	json_key_free(m->key, m->klen);
	return m->val;
}

static void json_set_up(struct retisc_json *v, struct retisc_json *up)
{
	if (v->type == RETISC_JSON_ARRAY)
		v->arr.up = up;
	else
		v->obj.up = up;
}

static struct retisc_json *json_get_up(const struct retisc_json *v)
{
	return v->type == RETISC_JSON_ARRAY ? v->arr.up : v->obj.up;
}

void retisc_json__free(struct retisc_json *v)
{
	struct retisc_json *child, *up;

	if (!v)
		return;
	/* A tree built in the arena is all in it: nothing to walk. */
	if (json_cache.arena_on && json_in_arena(v))
		return;
	if (!json_is_container(v)) {
		json_free_node(v);
		return;
	}
	json_set_up(v, NULL);
	while (v) {
		child = json_pop_child(v);
		if (child) {
			if (json_nchildren(child)) {
				json_set_up(child, v);
				v = child;
			} else {
				json_free_node(child);
			}
			continue;
		}
		up = json_get_up(v);
		json_free_node(v);
		v = up;
	}
}

/* --- explicit traversal stack (copy, dump) ------------------------------ */

struct json_frame {
	const struct retisc_json *src;
	struct retisc_json *dst;
	size_t i;
};

/* Starts on the C stack; typical events never need the heap. */
struct json_stack {
	struct json_frame *f;
	size_t len;
	size_t cap;
	struct json_frame small[16];
};

static void json_stack_init(struct json_stack *st)
{
	st->f = st->small;
	st->len = 0;
	st->cap = sizeof(st->small) / sizeof(st->small[0]);
}

static int json_stack_push(struct json_stack *st, const struct retisc_json *src,
			   struct retisc_json *dst)
{
	struct json_frame *f;

	if (st->len == st->cap) {
		if (st->cap > SIZE_MAX / 2 / sizeof(*f))
			return -ENOMEM;
		if (st->f == st->small) {
			f = malloc(st->cap * 2 * sizeof(*f));
			if (f)
				memcpy(f, st->small, sizeof(st->small));
		} else {
			f = realloc(st->f, st->cap * 2 * sizeof(*f));
		}
		if (!f)
			return -ENOMEM;
		st->f = f;
		st->cap *= 2;
	}
	f = &st->f[st->len++];
	f->src = src;
	f->dst = dst;
	f->i = 0;
	return 0;
}

static void json_stack_release(struct json_stack *st)
{
	if (st->f != st->small)
		free(st->f);
}

/* --- copy ---------------------------------------------------------------- */

/* Copy v without its children; containers get room for all of them. */
static struct retisc_json *json_copy_node(const struct retisc_json *v)
{
	struct retisc_json *c;
	size_t n;

	if (v->type == RETISC_JSON_STRING)
		return retisc_json__new_strn(v->str.s, v->str.len);
	c = json_alloc(v->type);
	if (!c)
		return NULL;
	n = json_nchildren(v);
	if (v->type == RETISC_JSON_ARRAY) {
		if (n) {
			c->arr.items = json_arr_resize(NULL, n * sizeof(*c->arr.items));
			if (!c->arr.items)
				goto nomem;
			c->arr.cap = n;
		}
	} else if (v->type == RETISC_JSON_OBJECT) {
		if (n) {
			c->obj.m = json_arr_resize(NULL, n * sizeof(*c->obj.m));
			if (!c->obj.m)
				goto nomem;
			c->obj.cap = n;
		}
	} else {
		/* Scalars: the union holds the whole value. */
		*c = *v;
	}
	return c;
nomem:
	json_mem_free(c, sizeof(*c));
	errno = ENOMEM;
	return NULL;
}

struct retisc_json *retisc_json__copy(const struct retisc_json *v)
{
	const struct retisc_json *src, *child;
	struct retisc_json *root, *c;
	struct json_stack st;
	struct json_frame *f;
	char *key = NULL;

	if (!v) {
		errno = EINVAL;
		return NULL;
	}
	root = json_copy_node(v);
	if (!root)
		return NULL;
	json_stack_init(&st);
	if (json_nchildren(v) && json_stack_push(&st, v, root))
		goto nomem;
	while (st.len) {
		f = &st.f[st.len - 1];
		src = f->src;
		if (f->i == json_nchildren(src)) {
			st.len--;
			continue;
		}
		if (src->type == RETISC_JSON_ARRAY) {
			child = src->arr.items[f->i];
		} else {
			child = src->obj.m[f->i].val;
			key = json_keydup(src->obj.m[f->i].key, src->obj.m[f->i].klen);
			if (!key)
				goto nomem;
		}
		c = json_copy_node(child);
		if (!c) {
			if (key)
				json_key_free(key, src->obj.m[f->i].klen);
			goto nomem;
		}
		/* Room was reserved by json_copy_node(): these cannot fail. */
		if (src->type == RETISC_JSON_ARRAY)
			arr_push(f->dst, c);
		else
			obj_push(f->dst, key, src->obj.m[f->i].klen, c);
		key = NULL;
		f->i++;
		if (json_nchildren(child) && json_stack_push(&st, child, c))
			goto nomem;
	}
	json_stack_release(&st);
	return root;
nomem:
	json_stack_release(&st);
	retisc_json__free(root);
	errno = ENOMEM;
	return NULL;
}

/* --- type and scalar getters --------------------------------------------- */

enum retisc_json_type retisc_json__type(const struct retisc_json *v)
{
	return v ? v->type : RETISC_JSON_NULL;
}

bool retisc_json__is_object(const struct retisc_json *v)
{
	return v && v->type == RETISC_JSON_OBJECT;
}

bool retisc_json__is_array(const struct retisc_json *v)
{
	return v && v->type == RETISC_JSON_ARRAY;
}

bool retisc_json__get_u64(const struct retisc_json *v, uint64_t *out)
{
	if (!v || v->type != RETISC_JSON_UINT)
		return false;
	*out = v->u;
	return true;
}

bool retisc_json__get_i64(const struct retisc_json *v, int64_t *out)
{
	if (!v)
		return false;
	if (v->type == RETISC_JSON_INT) {
		*out = v->i;
		return true;
	}
	if (v->type == RETISC_JSON_UINT && v->u <= INT64_MAX) {
		*out = (int64_t)v->u;
		return true;
	}
	return false;
}

bool retisc_json__get_double(const struct retisc_json *v, double *out)
{
	if (!v)
		return false;
	switch (v->type) {
	case RETISC_JSON_UINT:
		*out = (double)v->u;
		return true;
	case RETISC_JSON_INT:
		*out = (double)v->i;
		return true;
	case RETISC_JSON_DOUBLE:
		*out = v->d;
		return true;
	default:
		return false;
	}
}

bool retisc_json__get_bool(const struct retisc_json *v, bool *out)
{
	if (!v || v->type != RETISC_JSON_BOOL)
		return false;
	*out = v->b;
	return true;
}

const char *retisc_json__get_str(const struct retisc_json *v, size_t *len)
{
	if (!v || v->type != RETISC_JSON_STRING)
		return NULL;
	if (len)
		*len = v->str.len;
	return v->str.s;
}

/* --- objects ------------------------------------------------------------- */

static struct json_member *obj_find_n(const struct retisc_json *obj, const char *key, size_t klen,
				      size_t *idx)
{
	uint64_t k8 = retisc_key_word8(key, klen);
	size_t i;

	for (i = 0; i < obj->obj.len; i++) {
		struct json_member *m = &obj->obj.m[i];

		if (m->klen == klen && m->k8 == k8 &&
		    (klen <= 8 || !memcmp(m->key + 8, key + 8, klen - 8))) {
			if (idx)
				*idx = i;
			return m;
		}
	}
	return NULL;
}

/* Member m's key, from byte 8 on, is the C string key's (which cannot hold a NUL). */
static bool member_tail_is(const struct json_member *m, const char *key)
{
	for (size_t i = 8; i < m->klen; i++)
		if (m->key[i] != key[i] || !key[i])
			return false;
	return !key[m->klen];
}

/*
 * Renderers look up a few dozen keys of a few members each per event: the
 * C string's first 8 bytes are taken once and each member is ruled out (or,
 * for a key under 8 bytes, found) by comparing its k8 and length.
 */
__attribute__((no_sanitize_address)) static struct json_member *
obj_find(const struct retisc_json *obj, const char *key, size_t *idx)
{
	size_t qlen;
	uint64_t q8;

	if (!obj || obj->type != RETISC_JSON_OBJECT || !key)
		return NULL;
	q8 = retisc_str_word8(key, &qlen);
	for (size_t i = 0; i < obj->obj.len; i++) {
		struct json_member *m = &obj->obj.m[i];

		if (m->k8 != q8)
			continue;
		/* Under 8 bytes, q8 holds the whole key: only the length is left. */
		if (qlen < 8 ? m->klen == qlen : m->klen >= 8 && member_tail_is(m, key)) {
			if (idx)
				*idx = i;
			return m;
		}
	}
	return NULL;
}

int retisc_json__obj_set(struct retisc_json *obj, const char *key, struct retisc_json *v)
{
	struct json_member *m;
	size_t klen;
	char *k;

	if (!obj || obj->type != RETISC_JSON_OBJECT || !key || !v) {
		retisc_json__free(v);
		return -EINVAL;
	}
	klen = strlen(key);
	m = obj_find_n(obj, key, klen, NULL);
	if (m) {
		if (m->val == v)
			return 0;
		retisc_json__free(m->val);
		m->val = v;
		return 0;
	}
	k = json_keydup(key, klen);
	if (!k || obj_push(obj, k, klen, v)) {
		if (k)
			json_key_free(k, klen);
		retisc_json__free(v);
		return -ENOMEM;
	}
	return 0;
}

int retisc_json__obj_insert(struct retisc_json *obj, size_t pos, const char *key,
			    struct retisc_json *v)
{
	struct json_member *m;
	size_t klen;
	char *k;

	if (!obj || obj->type != RETISC_JSON_OBJECT || !key || !v) {
		retisc_json__free(v);
		return -EINVAL;
	}
	if (obj_find(obj, key, NULL)) {
		retisc_json__free(v);
		return -EEXIST;
	}
	klen = strlen(key);
	k = json_keydup(key, klen);
	if (!k || obj_push(obj, k, klen, v)) {
		if (k)
			json_key_free(k, klen);
		retisc_json__free(v);
		return -ENOMEM;
	}
	if (pos >= obj->obj.len - 1)
		return 0;
	/* Appended above; rotate it into place. */
	m = obj->obj.m;
	memmove(&m[pos + 1], &m[pos], (obj->obj.len - 1 - pos) * sizeof(*m));
	m[pos].key = k;
	m[pos].klen = klen;
	m[pos].k8 = retisc_key_word8(k, klen);
	m[pos].val = v;
	return 0;
}

struct retisc_json *retisc_json__obj_get(const struct retisc_json *obj, const char *key)
{
	struct json_member *m = obj_find(obj, key, NULL);

	return m ? m->val : NULL;
}

struct retisc_json *retisc_json__obj_take(struct retisc_json *obj, const char *key)
{
	struct json_member *m;
	struct retisc_json *v;
	size_t i;

	m = obj_find(obj, key, &i);
	if (!m)
		return NULL;
	v = m->val;
	json_key_free(m->key, m->klen);
	memmove(m, m + 1, (obj->obj.len - i - 1) * sizeof(*m));
	obj->obj.len--;
	return v;
}

int retisc_json__obj_del(struct retisc_json *obj, const char *key)
{
	struct retisc_json *v;

	if (!obj_find(obj, key, NULL))
		return -ENOENT;
	v = retisc_json__obj_take(obj, key);
	retisc_json__free(v);
	return 0;
}

size_t retisc_json__obj_len(const struct retisc_json *obj)
{
	return obj && obj->type == RETISC_JSON_OBJECT ? obj->obj.len : 0;
}

const char *retisc_json__obj_key(const struct retisc_json *obj, size_t i)
{
	if (i >= retisc_json__obj_len(obj))
		return NULL;
	return obj->obj.m[i].key;
}

struct retisc_json *retisc_json__obj_val(const struct retisc_json *obj, size_t i)
{
	if (i >= retisc_json__obj_len(obj))
		return NULL;
	return obj->obj.m[i].val;
}

bool retisc_json__obj_get_u64(const struct retisc_json *obj, const char *key, uint64_t *out)
{
	return retisc_json__get_u64(retisc_json__obj_get(obj, key), out);
}

bool retisc_json__obj_get_i64(const struct retisc_json *obj, const char *key, int64_t *out)
{
	return retisc_json__get_i64(retisc_json__obj_get(obj, key), out);
}

bool retisc_json__obj_get_bool(const struct retisc_json *obj, const char *key, bool *out)
{
	return retisc_json__get_bool(retisc_json__obj_get(obj, key), out);
}

const char *retisc_json__obj_get_str(const struct retisc_json *obj, const char *key)
{
	return retisc_json__get_str(retisc_json__obj_get(obj, key), NULL);
}

/* The shortcuts pass a constructor failure on rather than a bogus -EINVAL. */
static int obj_set_new(struct retisc_json *obj, const char *key, struct retisc_json *v)
{
	if (!v)
		return errno ? -errno : -ENOMEM;
	return retisc_json__obj_set(obj, key, v);
}

int retisc_json__obj_set_u64(struct retisc_json *obj, const char *key, uint64_t v)
{
	return obj_set_new(obj, key, retisc_json__new_u64(v));
}

int retisc_json__obj_set_i64(struct retisc_json *obj, const char *key, int64_t v)
{
	return obj_set_new(obj, key, retisc_json__new_i64(v));
}

int retisc_json__obj_set_bool(struct retisc_json *obj, const char *key, bool v)
{
	return obj_set_new(obj, key, retisc_json__new_bool(v));
}

int retisc_json__obj_set_str(struct retisc_json *obj, const char *key, const char *s)
{
	return obj_set_new(obj, key, retisc_json__new_str(s));
}

/* --- arrays -------------------------------------------------------------- */

int retisc_json__arr_append(struct retisc_json *arr, struct retisc_json *v)
{
	if (!arr || arr->type != RETISC_JSON_ARRAY || !v) {
		retisc_json__free(v);
		return -EINVAL;
	}
	if (arr_push(arr, v)) {
		retisc_json__free(v);
		return -ENOMEM;
	}
	return 0;
}

size_t retisc_json__arr_len(const struct retisc_json *arr)
{
	return arr && arr->type == RETISC_JSON_ARRAY ? arr->arr.len : 0;
}

struct retisc_json *retisc_json__arr_get(const struct retisc_json *arr, size_t i)
{
	if (i >= retisc_json__arr_len(arr))
		return NULL;
	return arr->arr.items[i];
}

/* --- serialisation ------------------------------------------------------- */

/* Letter after the backslash for bytes that need escaping ('u': \u00xx). */
/* clang-format off */
static const char json_esc[256] = {
	[0x00 ... 0x07] = 'u',
	['\b'] = 'b',
	['\t'] = 't',
	['\n'] = 'n',
	[0x0b] = 'u',
	['\f'] = 'f',
	['\r'] = 'r',
	[0x0e ... 0x1f] = 'u',
	['"'] = '"',
	['\\'] = '\\',
};
/* clang-format on */

/*
 * Bytes a JSON string cannot hold as they are: below 0x20, '"' and '\\'.
 * Tests 8 at a time (any byte below n: (x - n) & ~x has its top bit set),
 * because event strings are mostly long base64 runs with nothing to escape.
 */
static uint64_t json_word_escapes(uint64_t x)
{
	const uint64_t ones = 0x0101010101010101ull, highs = ones << 7;
	uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');

	return (((x - ones * 0x20) & ~x) | ((q - ones) & ~q) | ((b - ones) & ~b)) & highs;
}

static bool json_word_needs_escape(uint64_t x)
{
	return json_word_escapes(x);
}

/*
 * Offset in word w (8 bytes loaded from memory) of its first byte that needs
 * an escape, 8 if none. A borrow only flags bytes above a true match, so
 * the lowest flag is exact. Byte order: the lowest address is the lowest
 * byte on little-endian machines only.
 */
static size_t json_word_first_escape(uint64_t w)
{
	uint64_t m = json_word_escapes(w);

	if (!m)
		return 8;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return (size_t)__builtin_ctzll(m) / 8;
#else
	return (size_t)__builtin_clzll(m) / 8;
#endif
}

#ifdef __SSE2__
/*
 * json_word_first_escape() over the 16 bytes at p, 16 if none needs an
 * escape: SSE2 is part of x86-64, and a string's run takes half the steps.
 */
static inline size_t json_first_escape16(const unsigned char *p)
{
	__m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
	__m128i ctl = _mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8(0x1f)), x);
	__m128i q = _mm_cmpeq_epi8(x, _mm_set1_epi8('"'));
	__m128i b = _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'));
	unsigned int m = (unsigned int)_mm_movemask_epi8(_mm_or_si128(ctl, _mm_or_si128(q, b)));

	return m ? (size_t)__builtin_ctz(m) : 16;
}
#endif

/*
 * Copy the prefix of p[0..n) that needs no escape to d (room for n bytes)
 * and return its length: one pass over the bytes instead of a scan and a
 * memcpy().
 */
static size_t json_copy_plain(char *d, const unsigned char *p, size_t n)
{
	size_t i = 0;
	uint64_t w;

	for (; i + 8 <= n; i += 8) {
		memcpy(&w, p + i, 8);
		if (json_word_needs_escape(w))
			break;
		memcpy(d + i, &w, 8);
	}
	for (; i < n && !json_esc[p[i]]; i++)
		d[i] = (char)p[i];
	return i;
}

int retisc_json__dump_str(struct retisc_strbuf *sb, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t start, i, run;
	char esc[6];
	char e;

	if (!sb || (!s && n))
		return -EINVAL;
	start = sb->len;
	/* Most strings need no escape: one reservation covers them. */
	if (retisc_strbuf__reserve(sb, n + 2))
		return -ENOMEM;
	sb->buf[sb->len++] = '"';
	run = n ? json_copy_plain(sb->buf + sb->len, p, n) : 0; /* s may be NULL then */
	sb->len += run;
	if (run == n) {
		sb->buf[sb->len++] = '"';
		sb->buf[sb->len] = '\0';
		return 0;
	}
	for (i = run; i < n;) {
		/* Escapes used up some of the room reserved above. */
		if (retisc_strbuf__reserve(sb, n - i + 1))
			goto nomem;
		run = i + json_copy_plain(sb->buf + sb->len, p + i, n - i);
		sb->len += run - i;
		sb->buf[sb->len] = '\0';
		if (run == n)
			break;
		e = json_esc[p[run]];
		esc[0] = '\\';
		esc[1] = e;
		if (e == 'u') {
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = hex[p[run] >> 4];
			esc[5] = hex[p[run] & 0xf];
		}
		if (retisc_strbuf__append(sb, esc, e == 'u' ? 6 : 2))
			goto nomem;
		i = run + 1;
	}
	if (retisc_strbuf__putc(sb, '"'))
		goto nomem;
	return 0;
nomem:
	retisc_strbuf__truncate(sb, start);
	return -ENOMEM;
}

/* printf() is the hot spot of event output; integers do not need it. */
static int dump_u64(struct retisc_strbuf *sb, uint64_t u, bool neg)
{
	return retisc_json_text__uint(sb, u, neg);
}

static int dump_double(struct retisc_strbuf *sb, double d)
{
	locale_t c, old = (locale_t)0;
	char buf[40];
	int n;

	/* JSON has no spelling for them. */
	if (!isfinite(d))
		return retisc_strbuf__append(sb, "null", 4);
	/*
	 * A locale set by the program may want a decimal comma. Asking for
	 * "C" returns glibc's static C locale, nothing is allocated.
	 */
	c = newlocale(LC_ALL_MASK, "C", (locale_t)0);
	if (c)
		old = uselocale(c);
	n = snprintf(buf, sizeof(buf) - 2, "%.17g", d);
	if (c) {
		uselocale(old);
		freelocale(c);
	}
	if (n < 0 || (size_t)n >= sizeof(buf) - 2)
		return -EINVAL;
	/* Keep it a double when read back. */
	if (!strpbrk(buf, ".e")) {
		memcpy(buf + n, ".0", 2);
		n += 2;
	}
	return retisc_strbuf__append(sb, buf, (size_t)n);
}

static int dump_scalar(struct retisc_strbuf *sb, const struct retisc_json *v)
{
	switch (v->type) {
	case RETISC_JSON_NULL:
		return retisc_strbuf__append(sb, "null", 4);
	case RETISC_JSON_BOOL:
		return v->b ? retisc_strbuf__append(sb, "true", 4)
			    : retisc_strbuf__append(sb, "false", 5);
	case RETISC_JSON_UINT:
		return dump_u64(sb, v->u, false);
	case RETISC_JSON_INT:
		/* Negating INT64_MIN as a signed value would overflow. */
		return dump_u64(sb, v->i < 0 ? -(uint64_t)v->i : (uint64_t)v->i, v->i < 0);
	case RETISC_JSON_DOUBLE:
		return dump_double(sb, v->d);
	case RETISC_JSON_STRING:
		return retisc_json__dump_str(sb, v->str.s, v->str.len);
	default:
		return -EINVAL;
	}
}

/* Write the i-th child's prefix (separator, key) and return the child. */
static const struct retisc_json *dump_child(struct retisc_strbuf *sb, const struct retisc_json *v,
					    size_t i, int *err)
{
	const struct json_member *m = NULL;
	char *d;

	*err = 0;
	if (v->type == RETISC_JSON_OBJECT) {
		m = &v->obj.m[i];
		/* Event keys never need escaping: write ,"key": at once. */
		if ((*err = retisc_strbuf__reserve(sb, m->klen + 4)))
			return NULL;
		d = sb->buf + sb->len;
		if (i)
			*d++ = ',';
		*d++ = '"';
		if (json_copy_plain(d, (const unsigned char *)m->key, m->klen) == m->klen) {
			d += m->klen;
			*d++ = '"';
			*d++ = ':';
			*d = '\0';
			sb->len = (size_t)(d - sb->buf);
			return m->val;
		}
		/* Bytes copied past sb->len are not part of the buffer yet. */
	}
	if (i && (*err = retisc_strbuf__putc(sb, ',')))
		return NULL;
	if (v->type == RETISC_JSON_ARRAY)
		return v->arr.items[i];
	if ((*err = retisc_json__dump_str(sb, m->key, m->klen)) ||
	    (*err = retisc_strbuf__putc(sb, ':')))
		return NULL;
	return m->val;
}

int retisc_json__dump(const struct retisc_json *v, struct retisc_strbuf *sb)
{
	size_t start;
	struct json_stack st;
	struct json_frame *f;
	bool arr;
	int err = 0;

	if (!v || !sb)
		return -EINVAL;
	start = sb->len;
	json_stack_init(&st);
	for (;;) {
		/* Write v, or open it and descend to its first child. */
		if (!json_is_container(v)) {
			err = dump_scalar(sb, v);
		} else {
			arr = v->type == RETISC_JSON_ARRAY;
			if (!json_nchildren(v)) {
				err = retisc_strbuf__append(sb, arr ? "[]" : "{}", 2);
			} else if (!(err = retisc_strbuf__putc(sb, arr ? '[' : '{')) &&
				   !(err = json_stack_push(&st, v, NULL))) {
				v = dump_child(sb, v, 0, &err);
				if (!err)
					continue;
			}
		}
		if (err)
			goto out;
		/* v is complete: close finished containers, go to the next sibling. */
		for (v = NULL; st.len && !v;) {
			f = &st.f[st.len - 1];
			if (++f->i < json_nchildren(f->src)) {
				v = dump_child(sb, f->src, f->i, &err);
				if (err)
					goto out;
			} else {
				arr = f->src->type == RETISC_JSON_ARRAY;
				if ((err = retisc_strbuf__putc(sb, arr ? ']' : '}')))
					goto out;
				st.len--;
			}
		}
		if (!v)
			break;
	}
out:
	json_stack_release(&st);
	if (err)
		retisc_strbuf__truncate(sb, start);
	return err;
}

/* --- parsing ------------------------------------------------------------- */

struct json_parser {
	const char *s;
	size_t len;
	size_t pos;
	char *err;
	size_t errsz;
	int errnum;
	/* Decoded strings that had escapes; reused across the whole text. */
	struct retisc_strbuf scratch;
};

/* Record the first error, at byte offset pos. */
static void perr(struct json_parser *p, size_t pos, const char *what)
{
	if (p->errnum)
		return;
	p->errnum = EINVAL;
	if (p->err && p->errsz)
		snprintf(p->err, p->errsz, "%s at column %zu", what, pos + 1);
}

/* Something other than what was expected is at p->pos. */
static void perr_expected(struct json_parser *p, const char *what)
{
	if (p->pos >= p->len)
		perr(p, p->len, "unexpected end of input");
	else
		perr(p, p->pos, what);
}

static void perr_nomem(struct json_parser *p)
{
	if (p->errnum)
		return;
	p->errnum = ENOMEM;
	if (p->err && p->errsz)
		snprintf(p->err, p->errsz, "out of memory at column %zu", p->pos + 1);
}

static inline void skip_ws(struct json_parser *p)
{
	/* Compact lines (events files) have no white space at all. */
	if (p->pos < p->len && (unsigned char)p->s[p->pos] > ' ')
		return;
	while (p->pos < p->len) {
		char c = p->s[p->pos];

		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			return;
		p->pos++;
	}
}

static bool peek_is(const struct json_parser *p, char c)
{
	return p->pos < p->len && p->s[p->pos] == c;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Read the 4 hex digits at pos; -1 (and an error) if they are not. */
static long read_hex4(struct json_parser *p, size_t pos, bool report)
{
	long cp = 0;
	size_t i;
	int h;

	for (i = 0; i < 4; i++) {
		if (pos + i >= p->len) {
			if (report)
				perr(p, p->len, "unexpected end of input");
			return -1;
		}
		h = hexval(p->s[pos + i]);
		if (h < 0) {
			if (report)
				perr(p, pos + i, "invalid escape");
			return -1;
		}
		cp = cp << 4 | h;
	}
	return cp;
}

static size_t utf8_put(char *d, unsigned long cp)
{
	if (cp < 0x80) {
		d[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		d[0] = (char)(0xc0 | cp >> 6);
		d[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		d[0] = (char)(0xe0 | cp >> 12);
		d[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		d[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	d[0] = (char)(0xf0 | cp >> 18);
	d[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	d[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	d[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * Decode the \u escape whose 'u' is at p->pos into out (4 bytes at most);
 * on success p->pos is past the escape (or escape pair).
 */
static int parse_uescape(struct json_parser *p, char *out, size_t *outlen)
{
	long cp, lo;

	cp = read_hex4(p, p->pos + 1, true);
	if (cp < 0)
		return -EINVAL;
	p->pos += 5;
	if (cp >= 0xd800 && cp <= 0xdbff && p->pos + 1 < p->len && p->s[p->pos] == '\\' &&
	    p->s[p->pos + 1] == 'u') {
		/* Only a low surrogate pairs up; anything else is read on its own. */
		lo = read_hex4(p, p->pos + 2, false);
		if (lo >= 0xdc00 && lo <= 0xdfff) {
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			p->pos += 6;
		}
	}
	if (cp >= 0xd800 && cp <= 0xdfff)
		cp = 0xfffd;
	*outlen = utf8_put(out, (unsigned long)cp);
	return 0;
}

/*
 * Parse the string whose opening quote is at p->pos. *out points either into
 * the input (no escapes: the common case, nothing copied) or into the scratch
 * buffer, valid until the next string is parsed.
 *
 * Bytes >= 0x80 are taken verbatim without UTF-8 validation, so that what
 * retisc_json__dump() wrote from any string value reads back as the same
 * bytes.
 */
static int parse_string(struct json_parser *p, const char **out, size_t *outlen)
{
	const unsigned char *s = (const unsigned char *)p->s;
	size_t begin = ++p->pos, run;
	char buf[4];
	size_t n;
	char c;

	/* 16 or 8 bytes at a time through the long runs (base64 packets),
	 * and straight to the first special byte of the last block. */
	run = begin;
#ifdef __SSE2__
	for (; run + 16 <= p->len; run += 16) {
		size_t k = json_first_escape16(s + run);

		if (k < 16) {
			run += k;
			goto scanned;
		}
	}
#endif
	for (; run + 8 <= p->len; run += 8) {
		uint64_t w;
		size_t k;

		memcpy(&w, s + run, 8);
		k = json_word_first_escape(w);
		if (k < 8) {
			run += k;
			break;
		}
	}
	for (; run < p->len && s[run] != '"' && s[run] != '\\' && s[run] >= 0x20; run++)
		;
#ifdef __SSE2__
scanned:
#endif
	if (run < p->len && s[run] == '"') {
		*out = p->s + begin;
		*outlen = run - begin;
		p->pos = run + 1;
		return 0;
	}
	retisc_strbuf__reset(&p->scratch);
	p->pos = begin;
	for (;;) {
		for (run = p->pos;
		     run < p->len && s[run] != '"' && s[run] != '\\' && s[run] >= 0x20; run++)
			;
		if (retisc_strbuf__append(&p->scratch, p->s + p->pos, run - p->pos))
			goto nomem;
		p->pos = run;
		if (p->pos >= p->len) {
			perr(p, p->len, "unexpected end of input");
			return -EINVAL;
		}
		if (s[p->pos] == '"')
			break;
		if (s[p->pos] < 0x20) {
			perr(p, p->pos, "control character in string");
			return -EINVAL;
		}
		/* A backslash. */
		if (++p->pos >= p->len) {
			perr(p, p->len, "unexpected end of input");
			return -EINVAL;
		}
		c = p->s[p->pos];
		n = 1;
		switch (c) {
		case '"':
		case '\\':
		case '/':
			buf[0] = c;
			break;
		case 'b':
			buf[0] = '\b';
			break;
		case 'f':
			buf[0] = '\f';
			break;
		case 'n':
			buf[0] = '\n';
			break;
		case 'r':
			buf[0] = '\r';
			break;
		case 't':
			buf[0] = '\t';
			break;
		case 'u':
			break;
		default:
			perr(p, p->pos, "invalid escape");
			return -EINVAL;
		}
		if (c != 'u')
			p->pos++;
		else if (parse_uescape(p, buf, &n))
			return -EINVAL;
		if (retisc_strbuf__append(&p->scratch, buf, n))
			goto nomem;
	}
	p->pos++;
	*out = retisc_strbuf__str(&p->scratch);
	*outlen = p->scratch.len;
	return 0;
nomem:
	perr_nomem(p);
	return -ENOMEM;
}

/* Parse an object key and the colon after it; *key is allocated. */
static int parse_key(struct json_parser *p, char **key, size_t *klen)
{
	const char *s;

	skip_ws(p);
	if (!peek_is(p, '"')) {
		perr_expected(p, "expected object key");
		return -EINVAL;
	}
	if (parse_string(p, &s, klen))
		return -EINVAL;
	*key = json_keydup(s, *klen);
	if (!*key) {
		perr_nomem(p);
		return -ENOMEM;
	}
	skip_ws(p);
	if (!peek_is(p, ':')) {
		perr_expected(p, "expected ':'");
		json_key_free(*key, *klen);
		*key = NULL;
		return -EINVAL;
	}
	p->pos++;
	return 0;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Parse the digits at p->pos (at least one required). */
static int parse_digits(struct json_parser *p, size_t start)
{
	if (p->pos >= p->len) {
		perr(p, p->len, "unexpected end of input");
		return -EINVAL;
	}
	if (!is_digit(p->s[p->pos])) {
		perr(p, start, "invalid number");
		return -EINVAL;
	}
	while (p->pos < p->len && is_digit(p->s[p->pos]))
		p->pos++;
	return 0;
}

static struct retisc_json *parse_double(struct json_parser *p, size_t start)
{
	size_t n = p->pos - start;
	char small[64], *buf = small, *end;
	struct retisc_json *v = NULL;
	locale_t c;
	double d;

	if (n >= sizeof(small)) {
		buf = malloc(n + 1);
		if (!buf) {
			perr_nomem(p);
			return NULL;
		}
	}
	memcpy(buf, p->s + start, n);
	buf[n] = '\0';
	/* strtod() would follow the program's locale (decimal comma). */
	c = newlocale(LC_ALL_MASK, "C", (locale_t)0);
	errno = 0;
	d = c ? strtod_l(buf, &end, c) : strtod(buf, &end);
	if (c)
		freelocale(c);
	if (errno == ERANGE && isinf(d)) {
		perr(p, start, "number out of range");
		goto out;
	}
	v = retisc_json__new_double(d);
	if (!v)
		perr_nomem(p);
out:
	if (buf != small)
		free(buf);
	return v;
}

/* Parse the number at p->pos (a '-' or a digit). */
static struct retisc_json *parse_number(struct json_parser *p)
{
	size_t start = p->pos;
	bool neg = false, overflow = false, integer = true;
	uint64_t mag = 0;
	struct retisc_json *v;
	unsigned int d;

	if (p->s[p->pos] == '-') {
		neg = true;
		p->pos++;
	}
	if (p->pos >= p->len) {
		perr(p, p->len, "unexpected end of input");
		return NULL;
	}
	if (p->s[p->pos] == '0') {
		p->pos++;
		if (p->pos < p->len && is_digit(p->s[p->pos])) {
			perr(p, start, "invalid number");
			return NULL;
		}
	} else if (is_digit(p->s[p->pos])) {
		/* 19 digits always fit in 64 bits: only the 20th is checked. */
		for (size_t ndig = 0; p->pos < p->len && is_digit(p->s[p->pos]); p->pos++, ndig++) {
			d = (unsigned int)(p->s[p->pos] - '0');
			if (ndig < 19 || (ndig == 19 && mag <= (UINT64_MAX - d) / 10))
				mag = mag * 10 + d;
			else
				overflow = true;
		}
	} else {
		perr(p, start, "invalid number");
		return NULL;
	}
	if (peek_is(p, '.')) {
		integer = false;
		p->pos++;
		if (parse_digits(p, start))
			return NULL;
	}
	if (peek_is(p, 'e') || peek_is(p, 'E')) {
		integer = false;
		p->pos++;
		if (peek_is(p, '+') || peek_is(p, '-'))
			p->pos++;
		if (parse_digits(p, start))
			return NULL;
	}
	if (!integer)
		return parse_double(p, start);
	if (overflow || (neg && mag > (uint64_t)INT64_MAX + 1)) {
		perr(p, start, "integer out of range");
		return NULL;
	}
	if (neg && mag)
		v = retisc_json__new_i64(mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN
									: -(int64_t)mag);
	else
		v = retisc_json__new_u64(mag);
	if (!v)
		perr_nomem(p);
	return v;
}

static struct retisc_json *parse_literal(struct json_parser *p)
{
	static const struct {
		const char *word;
		enum retisc_json_type type;
		bool b;
	} lits[] = {
		{"true", RETISC_JSON_BOOL, true},
		{"false", RETISC_JSON_BOOL, false},
		{"null", RETISC_JSON_NULL, false},
	};
	struct retisc_json *v;
	size_t i, j;

	for (i = 0; i < sizeof(lits) / sizeof(lits[0]); i++) {
		if (lits[i].word[0] != p->s[p->pos])
			continue;
		for (j = 1; lits[i].word[j]; j++) {
			if (p->pos + j >= p->len) {
				perr(p, p->len, "unexpected end of input");
				return NULL;
			}
			if (p->s[p->pos + j] != lits[i].word[j]) {
				perr(p, p->pos, "invalid literal");
				return NULL;
			}
		}
		p->pos += j;
		v = lits[i].type == RETISC_JSON_BOOL ? retisc_json__new_bool(lits[i].b)
						     : retisc_json__new_null();
		if (!v)
			perr_nomem(p);
		return v;
	}
	perr(p, p->pos, "expected value");
	return NULL;
}

/*
 * Parse the value at p->pos. Containers come back empty, p->pos past their
 * opening bracket; the caller fills them.
 */
static struct retisc_json *parse_value(struct json_parser *p, size_t depth)
{
	struct retisc_json *v;
	const char *s;
	size_t n;

	skip_ws(p);
	if (p->pos >= p->len) {
		perr(p, p->len, "unexpected end of input");
		return NULL;
	}
	switch (p->s[p->pos]) {
	case '{':
	case '[':
		if (depth >= JSON_MAX_DEPTH) {
			perr(p, p->pos, "nesting too deep");
			return NULL;
		}
		v = json_alloc(p->s[p->pos] == '{' ? RETISC_JSON_OBJECT : RETISC_JSON_ARRAY);
		if (!v) {
			perr_nomem(p);
			return NULL;
		}
		p->pos++;
		return v;
	case '"':
		if (parse_string(p, &s, &n))
			return NULL;
		v = retisc_json__new_strn(s, n);
		if (!v)
			perr_nomem(p);
		return v;
	case '-':
	case '0' ... '9':
		return parse_number(p);
	default:
		return parse_literal(p);
	}
}

static int member_cmp(const void *a, const void *b)
{
	const struct json_member *x = *(const struct json_member *const *)a;
	const struct json_member *y = *(const struct json_member *const *)b;
	int r = memcmp(x->key, y->key, x->klen < y->klen ? x->klen : y->klen);

	if (r)
		return r;
	if (x->klen != y->klen)
		return x->klen < y->klen ? -1 : 1;
	/* Equal keys stay in input order. */
	return x < y ? -1 : x > y;
}

static inline bool member_key_eq(const struct json_member *x, const struct json_member *y)
{
	return x->klen == y->klen && x->k8 == y->k8 &&
	       (x->klen <= 8 || !memcmp(x->key + 8, y->key + 8, x->klen - 8));
}

/*
 * The parser appends members blindly; on a repeated key the last value wins
 * and takes the first one's place (what serde_json, thus Retis, does).
 * Removed members get a NULL key and are squeezed out at the end.
 */
static int obj_dedup(struct retisc_json *obj)
{
	struct json_member *m = obj->obj.m, **sorted, *first, *last;
	size_t n = obj->obj.len, i, j, k;

	if (n < 2)
		return 0;
	if (n <= JSON_DEDUP_LINEAR_MAX) {
		for (i = 1; i < n; i++) {
			for (j = 0; j < i; j++) {
				if (!m[j].key || !member_key_eq(&m[j], &m[i]))
					continue;
				retisc_json__free(m[j].val);
				m[j].val = m[i].val;
				json_key_free(m[i].key, m[i].klen);
				m[i].key = NULL;
				break;
			}
		}
	} else {
		/* Big objects would make the pairwise scan quadratic. */
		sorted = malloc(n * sizeof(*sorted));
		if (!sorted)
			return -ENOMEM;
		for (i = 0; i < n; i++)
			sorted[i] = &m[i];
		qsort(sorted, n, sizeof(*sorted), member_cmp);
		for (i = 0; i < n; i = j) {
			for (j = i + 1; j < n && member_key_eq(sorted[i], sorted[j]); j++)
				;
			if (j - i < 2)
				continue;
			first = sorted[i];
			last = sorted[j - 1];
			retisc_json__free(first->val);
			first->val = last->val;
			last->val = NULL;
			for (k = i + 1; k < j; k++) {
				retisc_json__free(sorted[k]->val);
				json_key_free(sorted[k]->key, sorted[k]->klen);
				sorted[k]->key = NULL;
			}
		}
		free(sorted);
	}
	for (i = k = 0; i < n; i++) {
		if (m[i].key)
			m[k++] = m[i];
	}
	obj->obj.len = k;
	return 0;
}

/*
 * Compact fast path. Events files are compact JSON (no white space, no
 * repeated keys, keys without escapes) written by our own writer: for such
 * a line, a recursive descent that gathers each container's members on the
 * stack and allocates its array once, at its exact size, builds the same
 * tree as the general parser below for a fraction of the work (growing
 * arrays, the state machine, the pairwise dedup of every object). Anything
 * else, errors included, makes it give up and leaves the line to the
 * general parser, which then decides (and words any error) alone.
 */
#define JSON_FAST_DEPTH 32
#define JSON_FAST_MEMBERS 32
#define JSON_FAST_ITEMS 64

static struct retisc_json *fast_value(struct json_parser *p, unsigned int depth);

/* Which of the 8 bytes of w are ASCII digits, and the value of 8 digits
 * (the first byte, at the lowest address, most significant). Little-endian. */
static inline uint64_t json_digit_flags(uint64_t w)
{
	const uint64_t hi = 0xF0F0F0F0F0F0F0F0ull;

	/* 0x33 in each byte that is a digit; a carry out of a byte (0xFA and
	 * up, no digit) only changes the bytes after it. */
	return (w & hi) | (((w + 0x0606060606060606ull) & hi) >> 4);
}

static inline uint64_t json_eight_digits_value(uint64_t w)
{
	w = ((w & 0x0F0F0F0F0F0F0F0Full) * 2561) >> 8;
	w = ((w & 0x00FF00FF00FF00FFull) * 6553601) >> 16;
	return ((w & 0x0000FFFF0000FFFFull) * 42949672960001ull) >> 32;
}

/* json_arr_resize(NULL, size) for the fast path's small, bounded arrays, inlined. */
static inline void *fast_arr_alloc(size_t size)
{
	size_t *h = json_mem_alloc(size + sizeof(*h));

	if (!h)
		return NULL;
	*h = size;
	return h + 1;
}

/* The members of a fast-path object; false if it had a repeated key. */
static bool fast_keys_unique(const struct json_member *m, size_t n)
{
	for (size_t i = 1; i < n; i++)
		for (size_t j = 0; j < i; j++)
			if (member_key_eq(&m[j], &m[i]))
				return false;
	return true;
}

static struct retisc_json *fast_object(struct json_parser *p, unsigned int depth)
{
	struct json_member m[JSON_FAST_MEMBERS];
	const char *s = p->s;
	struct retisc_json *obj;
	size_t n = 0, i;

	p->pos++;
	if (p->pos < p->len && s[p->pos] == '}') {
		p->pos++;
		return json_alloc(RETISC_JSON_OBJECT);
	}
	for (;;) {
		size_t begin, end, klen;
		uint64_t w0, k8;
		char *key;

		if (n == JSON_FAST_MEMBERS || p->pos >= p->len || s[p->pos] != '"')
			goto bail;
		begin = p->pos + 1;
		end = begin;
		w0 = 0;
#ifdef __SSE2__
		/* Most keys end within 16 bytes: one step. */
		if (begin + 16 <= p->len) {
			size_t k = json_first_escape16((const unsigned char *)s + begin);

			memcpy(&w0, s + begin, 8);
			end += k;
			if (k < 16)
				goto key_scanned;
		}
#endif
		for (;;) {
			uint64_t w;
			size_t k;

			if (end + 8 > p->len) {
				while (end < p->len && !json_esc[(unsigned char)s[end]])
					end++;
				break;
			}
			memcpy(&w, s + end, 8);
			if (end == begin)
				w0 = w;
			k = json_word_first_escape(w);
			end += k;
			if (k < 8)
				break;
		}
#ifdef __SSE2__
	key_scanned:
#endif
		if (end + 1 >= p->len || s[end] != '"' || s[end + 1] != ':')
			goto bail;
		klen = end - begin;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		/* The word the scan loaded first starts with the key. */
		if (begin + 8 <= p->len)
			k8 = klen >= 8 ? w0 : w0 & ((1ull << (8 * klen)) - 1);
		else
			k8 = retisc_key_word8(s + begin, klen);
#else
		k8 = retisc_key_word8(s + begin, klen);
#endif
		/*
		 * A short key is stored as its word, whose zero bytes past
		 * the key end it; 8 bytes is the block class of klen + 1 too.
		 */
		key = json_mem_alloc(klen < 8 ? 8 : klen + 1);
		if (!key)
			goto bail;
		if (klen < 8) {
			memcpy(key, &k8, 8);
		} else {
			memcpy(key, s + begin, klen);
			key[klen] = '\0';
		}
		p->pos = end + 2;
		m[n].key = key;
		m[n].klen = klen;
		m[n].k8 = k8;
		m[n].val = fast_value(p, depth);
		if (!m[n].val) {
			json_key_free(key, end - begin);
			goto bail;
		}
		n++;
		if (p->pos >= p->len)
			goto bail;
		if (s[p->pos] == '}')
			break;
		if (s[p->pos] != ',')
			goto bail;
		p->pos++;
	}
	p->pos++;
	if (n > 1 && !fast_keys_unique(m, n))
		goto bail;
	obj = json_alloc(RETISC_JSON_OBJECT);
	if (!obj)
		goto bail;
	obj->obj.m = fast_arr_alloc(n * sizeof(*m));
	if (!obj->obj.m) {
		json_mem_free(obj, sizeof(*obj));
		goto bail;
	}
	memcpy(obj->obj.m, m, n * sizeof(*m));
	obj->obj.len = obj->obj.cap = n;
	return obj;
bail:
	for (i = 0; i < n; i++) {
		retisc_json__free(m[i].val);
		json_key_free(m[i].key, m[i].klen);
	}
	return NULL;
}

static struct retisc_json *fast_array(struct json_parser *p, unsigned int depth)
{
	struct retisc_json *items[JSON_FAST_ITEMS], *arr;
	const char *s = p->s;
	size_t n = 0, i;

	p->pos++;
	if (p->pos < p->len && s[p->pos] == ']') {
		p->pos++;
		return json_alloc(RETISC_JSON_ARRAY);
	}
	for (;;) {
		if (n == JSON_FAST_ITEMS)
			goto bail;
		items[n] = fast_value(p, depth);
		if (!items[n])
			goto bail;
		n++;
		if (p->pos >= p->len)
			goto bail;
		if (s[p->pos] == ']')
			break;
		if (s[p->pos] != ',')
			goto bail;
		p->pos++;
	}
	p->pos++;
	arr = json_alloc(RETISC_JSON_ARRAY);
	if (!arr)
		goto bail;
	arr->arr.items = fast_arr_alloc(n * sizeof(*items));
	if (!arr->arr.items) {
		json_mem_free(arr, sizeof(*arr));
		goto bail;
	}
	memcpy(arr->arr.items, items, n * sizeof(*items));
	arr->arr.len = arr->arr.cap = n;
	return arr;
bail:
	for (i = 0; i < n; i++)
		retisc_json__free(items[i]);
	return NULL;
}

static struct retisc_json *fast_value(struct json_parser *p, unsigned int depth)
{
	const char *s = p->s;
	struct retisc_json *v;
	size_t begin, n;
	uint64_t mag;
	const char *str;

	if (p->pos >= p->len)
		return NULL;
	switch (s[p->pos]) {
	case '{':
		return depth < JSON_FAST_DEPTH ? fast_object(p, depth + 1) : NULL;
	case '[':
		return depth < JSON_FAST_DEPTH ? fast_array(p, depth + 1) : NULL;
	case '"':
		if (parse_string(p, &str, &n))
			return NULL;
		v = json_alloc_str(n);
		if (v)
			memcpy(v->str.s, str, n);
		return v;
	case '0' ... '9':
		/* Integers up to UINT64_MAX; others, and leading zeros
		 * (invalid), go below. */
		begin = p->pos;
		mag = 0;
		n = begin;
		if (s[n] != '0') {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
			static const uint64_t pow10[8] = {1,	 10,	 100,	  1000,
							  10000, 100000, 1000000, 10000000};
			uint64_t w, x;
			size_t d;

			while (n + 8 <= p->len && n - begin <= 11) {
				memcpy(&w, s + n, 8);
				x = json_digit_flags(w) ^ 0x3333333333333333ull;
				if (!x) {
					mag = mag * 100000000 + json_eight_digits_value(w);
					n += 8;
					continue;
				}
				/*
				 * The digits before the word's first other byte,
				 * shifted to its end: the zero bytes shifted in
				 * count as leading zeros. Up to the 19 digits the
				 * byte loop below would take.
				 */
				d = (size_t)__builtin_ctzll(x) / 8;
				if (d && n - begin + d <= 19) {
					mag = mag * pow10[d] +
					      json_eight_digits_value(w << (64 - 8 * d));
					n += d;
				}
				break;
			}
#endif
			for (; n < p->len && n - begin < 19 && is_digit(s[n]); n++)
				mag = mag * 10 + (unsigned int)(s[n] - '0');
			/* A 20th digit (kernel addresses) if it fits. */
			if (n < p->len && is_digit(s[n]) &&
			    mag <= (UINT64_MAX - (unsigned int)(s[n] - '0')) / 10) {
				mag = mag * 10 + (unsigned int)(s[n] - '0');
				n++;
			}
		} else {
			n++;
		}
		if (n < p->len && (is_digit(s[n]) || s[n] == '.' || s[n] == 'e' || s[n] == 'E'))
			break;
		p->pos = n;
		/* Not json_alloc(): a scalar needs no zeroed container fields. */
		v = json_mem_alloc(sizeof(*v));
		if (v) {
			v->type = RETISC_JSON_UINT;
			v->u = mag;
		}
		return v;
	default:
		break;
	}
	/* Other numbers and literals; an error here just ends the fast path. */
	return s[p->pos] == '-' || is_digit(s[p->pos]) ? parse_number(p) : parse_literal(p);
}

struct retisc_json *retisc_json__parse(const char *s, size_t len, char *err, size_t errsz)
{
	struct json_parser p = {
		.s = s,
		.len = len,
		.err = err,
		.errsz = errsz,
		.scratch = RETISC_STRBUF_INIT,
	};
	/* Open containers, innermost last: the parser never recurses. */
	struct retisc_json *stack[JSON_MAX_DEPTH];
	struct retisc_json *root = NULL, *v, *top;
	size_t depth = 0, klen = 0;
	char *key = NULL;
	bool closed;
	int ret;

	if (!s && len) {
		errno = EINVAL;
		return NULL;
	}
	if (len && (s[0] == '{' || s[0] == '[')) {
		struct json_parser fp = {.s = s, .len = len, .scratch = RETISC_STRBUF_INIT};

		root = fast_value(&fp, 0);
		retisc_strbuf__release(&fp.scratch);
		if (root && fp.pos == len)
			return root;
		retisc_json__free(root);
		root = NULL;
	}
	for (;;) {
		v = parse_value(&p, depth);
		if (!v)
			goto fail;
		if (!depth) {
			root = v;
		} else {
			top = stack[depth - 1];
			ret = top->type == RETISC_JSON_ARRAY ? arr_push(top, v)
							     : obj_push(top, key, klen, v);
			if (ret) {
				retisc_json__free(v);
				perr_nomem(&p);
				goto fail;
			}
			key = NULL;
		}
		closed = false;
		if (json_is_container(v)) {
			stack[depth++] = v;
			skip_ws(&p);
			if (peek_is(&p, v->type == RETISC_JSON_ARRAY ? ']' : '}')) {
				p.pos++;
				closed = true;
			} else if (v->type == RETISC_JSON_ARRAY) {
				continue;
			} else {
				if (parse_key(&p, &key, &klen))
					goto fail;
				continue;
			}
		}
		/* v is complete: leave the containers that end here. */
		for (;;) {
			if (!depth)
				goto done;
			top = stack[depth - 1];
			if (!closed) {
				skip_ws(&p);
				if (peek_is(&p, ',')) {
					p.pos++;
					if (top->type == RETISC_JSON_OBJECT &&
					    parse_key(&p, &key, &klen))
						goto fail;
					break;
				}
				if (top->type == RETISC_JSON_ARRAY) {
					if (!peek_is(&p, ']')) {
						perr_expected(&p, "expected ',' or ']'");
						goto fail;
					}
				} else if (!peek_is(&p, '}')) {
					perr_expected(&p, "expected ',' or '}'");
					goto fail;
				}
				p.pos++;
			}
			closed = false;
			if (top->type == RETISC_JSON_OBJECT && obj_dedup(top)) {
				perr_nomem(&p);
				goto fail;
			}
			depth--;
		}
	}
done:
	skip_ws(&p);
	if (p.pos < p.len) {
		perr(&p, p.pos, "unexpected data after value");
		goto fail;
	}
	retisc_strbuf__release(&p.scratch);
	return root;
fail:
	if (key)
		json_key_free(key, klen);
	retisc_json__free(root);
	retisc_strbuf__release(&p.scratch);
	errno = p.errnum ? p.errnum : EINVAL;
	return NULL;
}
