// SPDX-License-Identifier: GPL-2.0-only
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kallsyms.h"

struct ksym {
	uint64_t addr;
	char *name;
};

static struct ksym *by_addr, *by_name;
static size_t n_syms;
static int loaded;
static pthread_mutex_t ks_lock = PTHREAD_MUTEX_INITIALIZER;

static int cmp_addr(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(((const struct ksym *)a)->name, ((const struct ksym *)b)->name);
}

static void ks_load(void)
{
	char line[512], name[256], type;
	unsigned long long addr;
	size_t cap = 0;
	FILE *f;

	pthread_mutex_lock(&ks_lock);
	if (loaded)
		goto out;
	loaded = 1;
	f = fopen("/proc/kallsyms", "r");
	if (!f)
		goto out;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %c %255s", &addr, &type, name) != 3 || !addr)
			continue;
		if (n_syms == cap) {
			struct ksym *v = realloc(by_addr, (cap ? cap * 2 : 65536) * sizeof(*v));

			if (!v)
				break;
			by_addr = v;
			cap = cap ? cap * 2 : 65536;
		}
		by_addr[n_syms].addr = addr;
		by_addr[n_syms].name = strdup(name);
		if (!by_addr[n_syms].name)
			break;
		n_syms++;
	}
	fclose(f);
	qsort(by_addr, n_syms, sizeof(*by_addr), cmp_addr);
	by_name = malloc(n_syms * sizeof(*by_name));
	if (by_name) {
		memcpy(by_name, by_addr, n_syms * sizeof(*by_name));
		qsort(by_name, n_syms, sizeof(*by_name), cmp_name);
	}
out:
	pthread_mutex_unlock(&ks_lock);
}

static const struct ksym *first_by_name(const char *name)
{
	size_t lo = 0, hi;

	ks_load();
	if (!by_name)
		return NULL;
	hi = n_syms;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (strcmp(by_name[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n_syms && !strcmp(by_name[lo].name, name) ? &by_name[lo] : NULL;
}

uint64_t retisc_kallsyms__addr(const char *name)
{
	const struct ksym *k = first_by_name(name);

	return k ? k->addr : 0;
}

size_t retisc_kallsyms__count(const char *name)
{
	const struct ksym *k = first_by_name(name);
	size_t n = 0;

	while (k && k < by_name + n_syms && !strcmp(k->name, name)) {
		n++;
		k++;
	}
	return n;
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
	for (size_t i = 0; i < n_syms; i++)
		free(by_addr[i].name);
	free(by_addr);
	free(by_name);
	by_addr = by_name = NULL;
	n_syms = 0;
	loaded = 0;
	pthread_mutex_unlock(&ks_lock);
}
