/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * YAML profiles (doc/cli.md §5): named sets of extra command-line arguments for
 * `collect` and `pcap`, chosen per machine by conditions on the running
 * kernel.
 *
 * Nothing here prints: errors come back as negative errno values (or NULL +
 * errno) with a message in the caller's err buffer, written as
 * "<file>:<line>: <what>, naming the key>" when they come from a file;
 * warnings (version rules, unsafe files skipped during a search) and the
 * "Applying profile" lines go through core/lib/log.h.
 *
 * Running as root, a profile is only read from a file that no other user can
 * write, in a directory that no other user can write (sticky directories are
 * fine), as for plugins: its arguments end up on root's command line.
 * RETISC_ALLOW_UNSAFE_PROFILES=1 relaxes this, with a warning per file.
 */
#ifndef __RETISC_PROFILE_H
#define __RETISC_PROFILE_H

#include <stdbool.h>
#include <stddef.h>

/* Profile API version implemented (doc/cli.md §5.1). */
#define RETISC_PROFILE_MAJOR 1
#define RETISC_PROFILE_MINOR 0

/* Largest profile file read, a guard against reading a device or a log. */
#define RETISC_PROFILE_MAX_SIZE (1024 * 1024)
/*
 * Command-line words a profile file may produce once YAML aliases are
 * expanded (doc/cli.md §5.1): an alias copies what it names wherever it is
 * used, so a small file could otherwise expand to gigabytes.
 */
#define RETISC_PROFILE_MAX_ARGS 65536

/* Subcommands that take profiles; index of retisc_profile.entries. */
enum retisc_profile_cmd {
	RETISC_PROFILE_COLLECT = 0,
	RETISC_PROFILE_PCAP,
	RETISC_PROFILE_CMDS,
};

/* "collect" or "pcap". */
const char *retisc_profile_cmd__name(enum retisc_profile_cmd cmd);

enum retisc_profile_cond_type {
	RETISC_COND_VERSION = 1, /* kernel version requirement */
	RETISC_COND_SYMBOL,	 /* function or group:event exists (or not) */
};

struct retisc_profile_cond {
	enum retisc_profile_cond_type type;
	/* VERSION: the requirement (">=5.4, <6"); SYMBOL: the symbol name. */
	char *arg;
	/* SYMBOL: expected existence. */
	bool exists;
	unsigned long line;
};

struct retisc_profile_entry {
	char *name; /* "Default" when the file gives none */
	struct retisc_profile_cond *when;
	size_t n_when;
	/* Generated arguments (doc/cli.md §5.2), NULL-terminated. */
	char **args;
	size_t n_args;
	/* collect: sink credential files (doc/cli.md §5.1), pairs of
	 * variable name and value: RETISC_NATS_TOKEN_FILE, /etc/...; */
	char **env;
	size_t n_env;
	unsigned long line;
};

enum retisc_profile_support {
	RETISC_PROFILE_FULL = 0,    /* same major, minor <= ours */
	RETISC_PROFILE_PARTIAL,	    /* same major, newer minor: applied, warned */
	RETISC_PROFILE_UNSUPPORTED, /* other major: skipped, warned */
};

struct retisc_profile {
	char *name;
	char *about; /* "" when absent */
	unsigned int major, minor;
	char *path;	    /* file it was read from */
	unsigned long line; /* first line of its YAML document */
	unsigned long version_line;
	struct retisc_profile_entry *entries[RETISC_PROFILE_CMDS];
	size_t n_entries[RETISC_PROFILE_CMDS];
};

void retisc_profile__free(struct retisc_profile *p);

/* How much of the profile's version this retisc supports. */
enum retisc_profile_support retisc_profile__support(const struct retisc_profile *p);

/*
 * Log the version warning of p if any (doc/cli.md §5.1) and tell whether it may
 * be applied: false for another major version.
 */
bool retisc_profile__usable(const struct retisc_profile *p);

/* All the profiles of one file, in document order. */
struct retisc_profile_file {
	char *path;
	struct retisc_profile **profiles;
	size_t n;
};

/*
 * Parse len bytes of YAML (several documents, one profile each); path is
 * only used in messages and copied into the profiles. NULL + errno: EINVAL
 * (message "<path>:<line>: ..." in err: YAML syntax, unknown key, wrong
 * type, missing key, duplicate key, bad version, a section for a subcommand
 * that takes no profile), ENOMEM.
 */
struct retisc_profile_file *retisc_profile_file__parse(const char *path, const char *buf,
						       size_t len, char *err, size_t errsz);

/*
 * Read and parse a file after the root permission checks of the file and its
 * directory. NULL + errno: EPERM (unsafe), EFBIG, errors of open/read, and
 * those of parse().
 */
struct retisc_profile_file *retisc_profile_file__load(const char *path, char *err, size_t errsz);

void retisc_profile_file__free(struct retisc_profile_file *f);

/* Detach profile i from f (the caller frees it). */
struct retisc_profile *retisc_profile_file__take(struct retisc_profile_file *f, size_t i);

/*
 * Root permission check of a directory before reading profiles from it: 0 or
 * -EPERM with the reason in err (warned and accepted when
 * RETISC_ALLOW_UNSAFE_PROFILES=1).
 */
int retisc_profile__check_dir(const char *dir, char *err, size_t errsz);

/*
 * Call fn for every *.yaml / *.yml regular file of dir, in name order
 * (alphasort). fn gets the parsed file, or NULL with a negative errno and a
 * message. A non-zero return of fn stops the walk and is returned. Returns
 * -errno when the directory cannot be read (-ENOENT: it does not exist) or
 * is unsafe (-EPERM, message in err).
 */
typedef int (*retisc_profile_file_fn)(const char *path, struct retisc_profile_file *f, int error,
				      const char *msg, void *priv);
int retisc_profile__for_each_file(const char *dir, retisc_profile_file_fn fn, void *priv, char *err,
				  size_t errsz);

/*
 * The search path (doc/cli.md §5.3), NULL-terminated, allocated: extra_dir (-P,
 * may be NULL), $HOME/.config/retisc/profiles, /etc/retisc/profiles, the
 * installed directory (RETISC_PROFILEDIR) when it is not
 * /usr/share/retisc/profiles, /usr/share/retisc/profiles, Retis's own
 * directories, then build_dir (profiles next to a binary run from the build
 * tree; may be NULL). Directories that do not exist are kept: lookups skip
 * them. Free with retisc_profile__dirs_free(). NULL + ENOMEM.
 */
char **retisc_profile__search_path(const char *extra_dir, const char *build_dir);
void retisc_profile__dirs_free(char **dirs);

/*
 * Find the profile called name in dirs, first directory holding it wins.
 * NULL + errno: ENOENT ("Profile with name <name> not found"), EEXIST
 * ("Found two profiles with name '<name>' in <dir> (...)"), ENOMEM.
 * Unparsable files are skipped (debug log); unsafe files and directories
 * are skipped with a warning (check an explicit -P directory with
 * retisc_profile__check_dir() first to make that an error).
 */
struct retisc_profile *retisc_profile__find(const char *const *dirs, const char *name, char *err,
					    size_t errsz);

/*
 * Resolve one -p item: a readable file path holding exactly one profile
 * (else "Could not import profile: <error>"), or a name looked up in dirs.
 * NULL + errno as above.
 */
struct retisc_profile *retisc_profile__open(const char *item, const char *const *dirs, char *err,
					    size_t errsz);

/* -------------------------------------------------------------------------
 * Conditions.
 */

/* A kernel version from uname -r, or a version in a requirement. */
struct retisc_kver {
	unsigned long major, minor, patch, build;
	bool has_minor, has_patch, has_build;
};

/*
 * Parse a kernel release (doc/cli.md §5.1): "6.2.14-300.fc38.x86_64" -> 6.2.14
 * build 300. 0, or -EINVAL (fewer than three fields, non-numeric fields).
 */
int retisc_kver__parse_release(const char *release, struct retisc_kver *out);

/*
 * Does k satisfy req (one or two comparators, ">=3.5.5, <6")? 0 with *out
 * set, or -EINVAL with the reason in err (malformed requirement).
 */
int retisc_kver__match(const struct retisc_kver *k, const char *req, bool *out, char *err,
		       size_t errsz);

/* What conditions are evaluated against. Zero-initialised = this machine. */
struct retisc_profile_env {
	/* Kernel release; NULL: uname(2). */
	const char *release;
	/* Symbol lookup; NULL: BTF function in kallsyms, or group:event
	 * tracepoint with BTF (and in tracefs when mounted). */
	bool (*symbol_exists)(const char *name, void *priv);
	void *priv;
};

/* Does name exist on the running kernel (the default symbol_exists)? */
bool retisc_profile__symbol_exists(const char *name, void *priv);

/*
 * First entry of p for cmd whose conditions all hold, or NULL in *out when
 * none does. 0, or -EINVAL with the reason in err (kernel release or
 * requirement that cannot be parsed).
 */
int retisc_profile__select(const struct retisc_profile *p, enum retisc_profile_cmd cmd,
			   const struct retisc_profile_env *env,
			   const struct retisc_profile_entry **out, char *err, size_t errsz);

/* Arguments generated by profiles, NULL-terminated. */
struct retisc_profile_args {
	char **v;
	size_t n;
	/* Sink credential variables (name, value pairs) of the entries, in
	 * -p order: retisc_profile_args__setenv() sets them. */
	char **env;
	size_t n_env;
};

void retisc_profile_args__release(struct retisc_profile_args *a);
/*
 * Set the credential variables of a that the environment does not set: the
 * environment wins, then the first profile naming a variable (doc/cli.md
 * §5.4). 0 or -errno.
 */
int retisc_profile_args__setenv(const struct retisc_profile_args *a);

/*
 * Apply the -p values (each a comma list) in order (doc/cli.md §5.4): open each
 * profile, check its version, select its entry for cmd, log "Applying
 * profile <name>[: <entry>]" (or warn that none was selected), and append
 * its arguments to out. 0 or a negative errno with the message in err.
 */
int retisc_profile__expand(const char *const *values, const char *const *dirs,
			   enum retisc_profile_cmd cmd, const struct retisc_profile_env *env,
			   struct retisc_profile_args *out, char *err, size_t errsz);

#endif
