// SPDX-License-Identifier: GPL-2.0-only
/*
 * The NATS JetStream sink plugin (doc/fleet.md): `retisc collect --sink
 * nats://HOST:PORT/SUBJECT` publishes every event to a JetStream stream;
 * processors read a stream back with nats://HOST:PORT/STREAM as INPUT.
 * Built without libnats, the plugin still registers the scheme and says
 * what to install.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nats_int.h"

const struct retisc_api *nats_api;

#ifdef RETISC_HAVE_LIBNATS

const char *nats_status_str(natsStatus s)
{
	return natsStatus_GetText(s);
}

/* Contents of the file an environment variable names, for secrets that
 * must not appear on a command line. NULL when unset; -errno logged. */
static int secret_file(const char *env, char **out)
{
	const char *path = getenv(env);
	char buf[4096];
	size_t n;
	FILE *f;

	*out = NULL;
	if (!path || !*path)
		return 0;
	f = fopen(path, "r");
	if (!f) {
		nats_log(RETISC_LOG_ERROR, "%s=%s: %s", env, path, strerror(errno));
		return -errno;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	*out = strdup(buf);
	return *out ? 0 : -ENOMEM;
}

/*
 * doc/fleet.md §2: RETISC_NATS_CREDS (a .creds file: JWT and NKey seed),
 * RETISC_NATS_USER with RETISC_NATS_PASSWORD_FILE, RETISC_NATS_TOKEN_FILE;
 * TLS with RETISC_NATS_CA, RETISC_NATS_CERT and RETISC_NATS_KEY (files).
 */
int nats_conn_options(const struct nats_url *u, natsOptions **out)
{
	const char *creds = getenv("RETISC_NATS_CREDS"), *user = getenv("RETISC_NATS_USER");
	const char *ca = getenv("RETISC_NATS_CA"), *cert = getenv("RETISC_NATS_CERT");
	const char *key = getenv("RETISC_NATS_KEY");
	char *password = NULL, *token = NULL;
	natsOptions *o = NULL;
	natsStatus s;
	int err;

	err = secret_file("RETISC_NATS_PASSWORD_FILE", &password)
		      ?: secret_file("RETISC_NATS_TOKEN_FILE", &token);
	if (err)
		goto out;
	s = natsOptions_Create(&o);
	if (s == NATS_OK)
		s = natsOptions_SetURL(o, u->server);
	if (s == NATS_OK && creds && *creds)
		s = natsOptions_SetUserCredentialsFromFiles(o, creds, NULL);
	if (s == NATS_OK && user && *user)
		s = natsOptions_SetUserInfo(o, user, password ? password : "");
	if (s == NATS_OK && token)
		s = natsOptions_SetToken(o, token);
	if (s == NATS_OK && ((ca && *ca) || (cert && *cert)))
		s = natsOptions_SetSecure(o, true);
	if (s == NATS_OK && ca && *ca)
		s = natsOptions_LoadCATrustedCertificates(o, ca);
	if (s == NATS_OK && cert && *cert)
		s = natsOptions_LoadCertificatesChain(o, cert, key ? key : cert);
	if (s != NATS_OK) {
		nats_log(RETISC_LOG_ERROR, "%s: cannot set up the connection: %s%s%s", u->server,
			 natsStatus_GetText(s), nats_GetLastError(NULL) ? ": " : "",
			 nats_GetLastError(NULL) ?: "");
		err = -EINVAL;
	}
out:
	free(password);
	free(token);
	if (err) {
		natsOptions_Destroy(o);
		return err;
	}
	*out = o;
	return 0;
}

static int plugin_init(struct retisc_plugin *pl, const struct retisc_api *api)
{
	static const struct retisc_sink_desc desc = {
		.sz = sizeof(desc),
		.scheme = "nats",
		.summary = "NATS JetStream (doc/fleet.md)",
		.open = nats_sink_open,
		.write = nats_sink_write,
		.flush = nats_sink_flush,
		.close = nats_sink_close,
		.open_input = nats_source_open,
	};

	nats_api = api;
	if (!RETISC_API_HAS(api, register_sink))
		return -ENOTSUP;
	return api->register_sink(pl, &desc);
}

static void plugin_fini(struct retisc_plugin *pl)
{
	(void)pl;
	nats_source_fini();
	nats_Close();
}

#else /* !RETISC_HAVE_LIBNATS */

#define NO_LIBNATS "retisc was built without the NATS C client: install libnats-dev and rebuild"

static int nosup_open(void *priv, const char *url, void **out)
{
	(void)priv;
	(void)out;
	nats_log(RETISC_LOG_ERROR, "%s: %s", url, NO_LIBNATS);
	return -ENOTSUP;
}

static int nosup_write(void *sink, const struct retisc_sink_record *rec)
{
	(void)sink;
	(void)rec;
	return -ENOTSUP;
}

static int nosup_close(void *sink, struct retisc_sink_report *report)
{
	(void)sink;
	(void)report;
	return 0;
}

static int nosup_input(void *priv, const char *url, int fd, char *err, size_t errsz)
{
	(void)priv;
	close(fd);
	snprintf(err, errsz, "%s: %s", url, NO_LIBNATS);
	return -ENOTSUP;
}

static int plugin_init(struct retisc_plugin *pl, const struct retisc_api *api)
{
	static const struct retisc_sink_desc desc = {
		.sz = sizeof(desc),
		.scheme = "nats",
		.summary = "NATS JetStream (not built: no libnats)",
		.open = nosup_open,
		.write = nosup_write,
		.close = nosup_close,
		.open_input = nosup_input,
	};

	nats_api = api;
	if (!RETISC_API_HAS(api, register_sink))
		return -ENOTSUP;
	return api->register_sink(pl, &desc);
}

static void plugin_fini(struct retisc_plugin *pl)
{
	(void)pl;
}

#endif

static const struct retisc_plugin_desc nats_plugin = {
	.sz = sizeof(nats_plugin),
	.abi_version = RETISC_ABI_VERSION,
	.name = "nats",
	.version = "1.0.0",
	.init = plugin_init,
	.fini = plugin_fini,
};
RETISC_PLUGIN_DEFINE(nats_plugin)
