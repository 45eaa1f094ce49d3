// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kallsyms.h"

/*
 * Names point into the file's text, kept whole (text): no allocation per
 * symbol. Lookups by name go through an open-addressing table (names) of
 * indexes into by_addr, one slot per distinct name, the one of lowest
 * address, with its number of duplicates. Start-up used to spend about
 * 60 ms on fgets/sscanf, a strdup per symbol and a sort by name
 * (120k symbols); reading the file itself is the kernel's 40 ms.
 */
struct ksym {
	uint64_t addr;
	const char *name;
};

struct ksym_slot {
	uint32_t idx; /* by_addr index + 1; 0: empty */
	uint32_t count;
};

static struct ksym *by_addr;
static struct ksym_slot *names;
static size_t n_syms, names_mask;
static char *text;
static int loaded;
static pthread_mutex_t ks_lock = PTHREAD_MUTEX_INITIALIZER;

static int cmp_addr(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static void ks_free(void)
{
	free(by_addr);
	free(names);
	free(text);
	by_addr = NULL;
	names = NULL;
	text = NULL;
	n_syms = names_mask = 0;
}

/* The whole file: /proc files report no size, so grow until EOF. */
static char *read_all(const char *path, size_t *len)
{
	size_t cap = 8 << 20, n = 0;
	char *buf = NULL, *p;
	ssize_t r;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	for (;;) {
		if (!buf || cap - n < 2) {
			cap = buf ? cap * 2 : cap;
			p = realloc(buf, cap);
			if (!p)
				goto fail;
			buf = p;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto fail;
		if (!r)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	*len = n;
	return buf;
fail:
	close(fd);
	free(buf);
	return NULL;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/*
 * "ADDR TYPE NAME[\t[MODULE]]" lines; names cut at 255 bytes as before.
 * Lines with an address of 0 (kptr_restrict) are left out.
 */
static void ks_parse(char *s, size_t len)
{
	char *end = s + len, *nl;
	size_t cap = 0;

	for (; s < end; s = nl + 1) {
		uint64_t addr = 0;
		char *name, *e;
		int d, nd = 0;

		nl = memchr(s, '\n', (size_t)(end - s));
		if (!nl)
			nl = end;
		*nl = '\0';
		for (; (d = hexval(*s)) >= 0; s++, nd++)
			addr = addr << 4 | (uint64_t)d;
		if (!nd || *s != ' ' || !s[1] || s[2] != ' ' || !addr)
			continue;
		name = s + 3;
		e = name + strcspn(name, " \t");
		if (e == name)
			continue;
		if (e - name > 255)
			e = name + 255;
		*e = '\0';
		if (n_syms == cap) {
			struct ksym *v = realloc(by_addr, (cap ? cap * 2 : 65536) * sizeof(*v));

			if (!v)
				break;
			by_addr = v;
			cap = cap ? cap * 2 : 65536;
		}
		by_addr[n_syms].addr = addr;
		by_addr[n_syms].name = name;
		n_syms++;
	}
}

/* qsort only when out of order: the file is sorted but for a few modules. */
static void sort_by_addr(void)
{
	for (size_t i = 1; i < n_syms; i++) {
		if (by_addr[i].addr < by_addr[i - 1].addr) {
			qsort(by_addr, n_syms, sizeof(*by_addr), cmp_addr);
			return;
		}
	}
}

/* A name's slot keeps its first symbol in address order: the lowest address
 * is what a lookup by name returns when a name is not unique. */
static int index_names(void)
{
	size_t size = 1;

	while (size < 2 * n_syms)
		size <<= 1;
	names = calloc(size, sizeof(*names));
	if (!names)
		return -ENOMEM;
	names_mask = size - 1;
	for (size_t i = 0; i < n_syms; i++) {
		size_t h = name_hash(by_addr[i].name) & names_mask;

		for (;; h = (h + 1) & names_mask) {
			struct ksym_slot *sl = &names[h];

			if (!sl->idx) {
				sl->idx = (uint32_t)i + 1;
				sl->count = 1;
				break;
			}
			if (!strcmp(by_addr[sl->idx - 1].name, by_addr[i].name)) {
				sl->count++;
				break;
			}
		}
	}
	return 0;
}

static void ks_load_path(const char *path)
{
	size_t len;

	text = read_all(path, &len);
	if (!text)
		return;
	ks_parse(text, len);
	sort_by_addr();
	if (index_names())
		ks_free();
}

static void ks_load(void)
{
	pthread_mutex_lock(&ks_lock);
	if (!loaded) {
		loaded = 1;
		ks_load_path("/proc/kallsyms");
	}
	pthread_mutex_unlock(&ks_lock);
}

static void *ks_prefetch_main(void *unused)
{
	(void)unused;
	ks_load();
	return NULL;
}

void retisc_kallsyms__prefetch(void)
{
	static bool started;
	pthread_attr_t attr;
	pthread_t t;

	pthread_mutex_lock(&ks_lock);
	if (!loaded && !started && !pthread_attr_init(&attr)) {
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		started = !pthread_create(&t, &attr, ks_prefetch_main, NULL);
		pthread_attr_destroy(&attr);
	}
	pthread_mutex_unlock(&ks_lock);
}

int retisc_kallsyms__load_path(const char *path)
{
	pthread_mutex_lock(&ks_lock);
	ks_free();
	loaded = 1;
	ks_load_path(path);
	pthread_mutex_unlock(&ks_lock);
	return names ? 0 : -ENOENT;
}

static const struct ksym_slot *find_name(const char *name)
{
	size_t h;

	ks_load();
	if (!names)
		return NULL;
	for (h = name_hash(name) & names_mask; names[h].idx; h = (h + 1) & names_mask)
		if (!strcmp(by_addr[names[h].idx - 1].name, name))
			return &names[h];
	return NULL;
}

uint64_t retisc_kallsyms__addr(const char *name)
{
	const struct ksym_slot *sl = find_name(name);

	return sl ? by_addr[sl->idx - 1].addr : 0;
}

size_t retisc_kallsyms__count(const char *name)
{
	const struct ksym_slot *sl = find_name(name);

	return sl ? sl->count : 0;
}

const char *retisc_kallsyms__sym(uint64_t addr, uint64_t *off)
{
	size_t lo = 0, hi;

	ks_load();
	hi = n_syms;
	if (!n_syms || addr < by_addr[0].addr)
		return NULL;
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;

		if (by_addr[mid].addr <= addr)
			lo = mid;
		else
			hi = mid;
	}
	*off = addr - by_addr[lo].addr;
	return by_addr[lo].name;
}

void retisc_kallsyms__release(void)
{
	pthread_mutex_lock(&ks_lock);
	ks_free();
	loaded = 0;
	pthread_mutex_unlock(&ks_lock);
}
