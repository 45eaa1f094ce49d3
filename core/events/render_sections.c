// SPDX-License-Identifier: GPL-2.0-only
/*
 * The sections whose text the renderer itself writes, registered as core
 * sections (render.h). A file of its own so that render.c needs nothing of
 * the registry but lookups (its unit test provides a stand-in registry).
 */
#include <stdint.h>

#include <retisc/plugin.h>

#include "registry.h"
#include "render.h"

int retisc_render__register_core_sections(struct retisc_registry *reg)
{
	static const struct {
		const char *key;
		uint32_t rank;
		enum retisc_section_place place;
		int (*format)(void *, const struct retisc_json *, const struct retisc_fmt *);
	} core[] = {
		{"common", 10, RETISC_PLACE_FIRST_LINE, retisc_render__common},
		{"kernel", 20, RETISC_PLACE_FIRST_LINE, retisc_render__kernel},
		{"userspace", 30, RETISC_PLACE_FIRST_LINE, retisc_render__userspace},
		{"tracking", 40, RETISC_PLACE_FIRST_LINE, retisc_render__tracking},
		{"startup", 150, RETISC_PLACE_BODY, retisc_render__startup},
	};

	for (size_t i = 0; i < sizeof(core) / sizeof(core[0]); i++) {
		struct retisc_section_desc d = {
			.sz = sizeof(d),
			.key = core[i].key,
			.rank = core[i].rank,
			.owner = -1,
			.place = core[i].place,
			.format = core[i].format,
		};
		int err = retisc_registry__add_core_section(reg, &d);

		if (err)
			return err;
	}
	return 0;
}
