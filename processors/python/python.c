// SPDX-License-Identifier: GPL-2.0-only
/*
 * `retisc python [-i INPUT] [SCRIPT [ARGS...]]` (doc/processing.md §6): the
 * embedded CPython interpreter of `retis python`, so that a Retis user's
 * post-processing script runs unchanged on retisc (and Retis) files.
 *
 * The script sees a global `reader` (an EventFile over INPUT, default
 * retis.data) and the classes of Retis's bindings (Event, EventSeries,
 * EventReader, SeriesReader, EventFile), also importable as `from retis
 * import ...`. Without a script, an interactive console starts.
 *
 * Split of the work: this file gives Python a small `_retisc` module over
 * the core's file reader and text renderer (the same code `retisc print`
 * uses, so fix-ups of old Retis files and text output are shared); the
 * classes themselves are Python (python_lib.h), where dict-like access and
 * the iterator protocol are a few lines each.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <dlfcn.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <retisc/plugin.h>
#include <retisc/plugin_util.h>
#include <retisc/procio.h>
#include <retisc/strbuf.h>

#include "python_lib.h"

/* The core's API table, for the module functions (main thread only). */
static const struct retisc_api *api;
/* Text renderer shared by every str() of an event or section. */
static struct retisc_text *text;

#define CAPSULE "retisc.reader"

static void reader_capsule_free(PyObject *cap)
{
	struct retisc_reader *rd = PyCapsule_GetPointer(cap, CAPSULE);

	if (rd)
		api->reader_free(rd);
}

/* _retisc.open(path) -> (handle, kind): kind 1 events file, 2 series file. */
static PyObject *mod_open(PyObject *self, PyObject *args)
{
	struct retisc_reader *rd;
	const char *path;
	PyObject *cap;
	char err[1024] = "";

	(void)self;
	if (!PyArg_ParseTuple(args, "s", &path))
		return NULL;
	rd = api->reader_open(path, err, sizeof(err));
	if (!rd)
		return PyErr_Format(PyExc_OSError, "%s", err[0] ? err : strerror(errno));
	cap = PyCapsule_New(rd, CAPSULE, reader_capsule_free);
	if (!cap) {
		api->reader_free(rd);
		return NULL;
	}
	return Py_BuildValue("(Ni)", cap, api->reader_kind(rd));
}

/* _retisc.next(handle) -> the next event or series as JSON text, or None. */
static PyObject *mod_next(PyObject *self, PyObject *args)
{
	struct retisc_strbuf sb = RETISC_STRBUF_INIT;
	struct retisc_json *v = NULL;
	struct retisc_reader *rd;
	PyObject *cap, *ret;
	char err[1024] = "";
	int r;

	(void)self;
	if (!PyArg_ParseTuple(args, "O", &cap))
		return NULL;
	rd = PyCapsule_GetPointer(cap, CAPSULE);
	if (!rd)
		return NULL;
	r = api->reader_next(rd, &v, err, sizeof(err));
	if (r < 0)
		return PyErr_Format(PyExc_ValueError, "%s", err[0] ? err : strerror(-r));
	if (r == 0)
		Py_RETURN_NONE;
	r = api->json_dump(v, &sb);
	api->json_free(v);
	if (r) {
		retisc_strbuf__release(&sb);
		return PyErr_NoMemory();
	}
	ret = PyUnicode_FromStringAndSize(sb.buf, (Py_ssize_t)sb.len);
	retisc_strbuf__release(&sb);
	return ret;
}

/*
 * _retisc.render(json) -> text of an event as `retisc print` shows it
 * (multi-line, without the blank line that separates events). A section
 * alone is rendered as an event holding only that section.
 */
static PyObject *mod_render(PyObject *self, PyObject *args)
{
	struct retisc_strbuf sb = RETISC_STRBUF_INIT;
	struct retisc_json *ev;
	const char *s;
	Py_ssize_t n;
	PyObject *ret;
	char err[256];
	int r;

	(void)self;
	if (!PyArg_ParseTuple(args, "s#", &s, &n))
		return NULL;
	ev = api->json_parse(s, (size_t)n, err, sizeof(err));
	if (!ev)
		return PyErr_Format(PyExc_ValueError, "%s", err);
	r = api->text_event(text, ev, 0, NULL, &sb);
	api->json_free(ev);
	if (r) {
		retisc_strbuf__release(&sb);
		return PyErr_Format(PyExc_ValueError, "cannot render the event: %s", strerror(-r));
	}
	while (sb.len && sb.buf[sb.len - 1] == '\n')
		sb.len--;
	ret = PyUnicode_FromStringAndSize(sb.buf ? sb.buf : "", (Py_ssize_t)sb.len);
	retisc_strbuf__release(&sb);
	return ret;
}

static PyMethodDef mod_methods[] = {
	{"open", mod_open, METH_VARARGS, "open(path) -> (handle, kind)"},
	{"next", mod_next, METH_VARARGS, "next(handle) -> JSON text or None"},
	{"render", mod_render, METH_VARARGS, "render(json) -> text"},
	{NULL, NULL, 0, NULL},
};

static struct PyModuleDef mod_def = {
	PyModuleDef_HEAD_INIT,
	"_retisc",
	"retisc's event reader and renderer",
	-1,
	mod_methods,
	NULL,
	NULL,
	NULL,
	NULL,
};

static PyObject *mod_init(void)
{
	return PyModule_Create(&mod_def);
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: retisc python [-i INPUT] [SCRIPT [ARGS...]]\n\n"
		   "Run a Python script over an events or sorted file, as `retis python` does:\n"
		   "the global `reader` is an EventFile over INPUT, and Retis's classes (Event,\n"
		   "EventSeries, EventReader, SeriesReader, EventFile) are importable from\n"
		   "`retis`. Without SCRIPT, an interactive console. SCRIPT is a path, or a name\n"
		   "looked up as NAME.py in $HOME/.config/retis/python and\n"
		   "/usr/share/retis/python. Arguments after SCRIPT (or after --) are sys.argv.\n\n"
		   "Options:\n"
		   "  -i, --input INPUT   events or sorted file (default retis.data)\n"
		   "  -h, --help          print help\n");
}

/* SCRIPT as given, or NAME.py in the standard directories; NULL if none. */
static char *find_script(const char *name)
{
	const char *home = getenv("HOME");
	char *path = NULL;

	if (strchr(name, '/') || access(name, F_OK) == 0)
		return strdup(name);
	if (home && asprintf(&path, "%s/.config/retis/python/%s.py", home, name) > 0 &&
	    access(path, R_OK) == 0)
		return path;
	free(path);
	if (asprintf(&path, "/usr/share/retis/python/%s.py", name) > 0 && access(path, R_OK) == 0)
		return path;
	free(path);
	return NULL;
}

/* Python list of C strings. */
static PyObject *str_list(int n, char **v)
{
	PyObject *l = PyList_New(0);

	for (int i = 0; l && i < n; i++) {
		PyObject *s = PyUnicode_DecodeFSDefault(v[i]);

		if (!s || PyList_Append(l, s)) {
			Py_XDECREF(s);
			Py_CLEAR(l);
			break;
		}
		Py_DECREF(s);
	}
	return l;
}

/*
 * Run the library code, then the script (or the console) with
 * `_retisc_main(input, script, argv)` from the library. Returns the exit
 * status: the script's SystemExit code, 1 on an uncaught exception.
 */
static int run_python(const char *input, const char *script, int argc, char **argv)
{
	PyObject *globals, *code, *res, *main_fn, *call_args;
	int status = 1;

	globals = PyDict_New();
	if (!globals)
		return 1;
	PyDict_SetItemString(globals, "__builtins__", PyEval_GetBuiltins());
	code = Py_CompileString(retisc_python_lib, "<retisc python library>", Py_file_input);
	res = code ? PyEval_EvalCode(code, globals, globals) : NULL;
	Py_XDECREF(code);
	if (!res)
		goto err;
	Py_DECREF(res);
	main_fn = PyDict_GetItemString(globals, "_retisc_main");
	call_args = Py_BuildValue("(sz)", input, script);
	if (!main_fn || !call_args)
		goto err;
	res = PyObject_CallFunction(main_fn, "OO", PyTuple_GET_ITEM(call_args, 0),
				    PyTuple_GET_ITEM(call_args, 1));
	Py_DECREF(call_args);
	(void)argc;
	(void)argv;
	if (!res)
		goto err;
	status = PyLong_Check(res) ? (int)PyLong_AsLong(res) : 0;
	Py_DECREF(res);
	Py_DECREF(globals);
	return status;
err:
	if (PyErr_ExceptionMatches(PyExc_SystemExit)) {
		PyObject *type, *value, *tb, *c;

		PyErr_Fetch(&type, &value, &tb);
		PyErr_NormalizeException(&type, &value, &tb);
		c = value ? PyObject_GetAttrString(value, "code") : NULL;
		if (!c || c == Py_None)
			status = 0;
		else if (PyLong_Check(c))
			status = (int)PyLong_AsLong(c);
		else
			status = 1, PyObject_Print(c, stderr, Py_PRINT_RAW), fputc('\n', stderr);
		Py_XDECREF(c);
		Py_XDECREF(type);
		Py_XDECREF(value);
		Py_XDECREF(tb);
	} else {
		PyErr_Print();
	}
	Py_DECREF(globals);
	return status;
}

/*
 * The core dlopen()s plugins RTLD_LOCAL, so libpython's symbols are not
 * global, and Python's own extension modules (lib-dynload/ files, e.g.
 * _contextvars, which `import statistics` needs) fail to resolve them.
 * Reopen libpython RTLD_GLOBAL before the interpreter starts.
 */
static void libpython_global(void)
{
	Dl_info info;

	if (dladdr((void *)Py_InitializeFromConfig, &info) && info.dli_fname)
		dlopen(info.dli_fname, RTLD_NOW | RTLD_GLOBAL | RTLD_NOLOAD);
}

static int python_run(void *priv, const struct retisc_api *a, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"input", required_argument, NULL, 'i'},
		{"help", no_argument, NULL, 'h'},
		{},
	};
	const char *input = "retis.data";
	char *script = NULL;
	PyConfig config;
	PyStatus st;
	PyObject *sys_argv;
	int opt, status;

	(void)priv;
	api = a;
	optind = 0;
	/* "+": options end at SCRIPT, whose own options are its arguments. */
	while ((opt = getopt_long(argc, argv, "+i:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'i':
			input = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		script = find_script(argv[optind]);
		if (!script) {
			api->log(RETISC_LOG_ERROR,
				 "Python script '%s' not found (a path, or NAME.py in "
				 "$HOME/.config/retis/python or /usr/share/retis/python)",
				 argv[optind]);
			return 1;
		}
	}
	text = api->text_new(api, true, false, false);
	if (!text) {
		free(script);
		return 1;
	}
	if (PyImport_AppendInittab("_retisc", mod_init) < 0) {
		api->log(RETISC_LOG_ERROR, "Cannot register the _retisc module");
		status = 1;
		goto out;
	}
	libpython_global();
	PyConfig_InitPythonConfig(&config);
	/* Signals stay retisc's; the interpreter does not parse our argv. */
	config.install_signal_handlers = 1;
	config.parse_argv = 0;
	st = Py_InitializeFromConfig(&config);
	PyConfig_Clear(&config);
	if (PyStatus_Exception(st)) {
		api->log(RETISC_LOG_ERROR, "Cannot start Python: %s",
			 st.err_msg ? st.err_msg : "unknown error");
		status = 1;
		goto out;
	}
	/* sys.argv: the script and what follows it, as `retis python` gives. */
	sys_argv = script ? str_list(argc - optind, argv + optind) : str_list(1, (char *[]){""});
	if (!sys_argv || PySys_SetObject("argv", sys_argv)) {
		PyErr_Print();
		status = 1;
	} else {
		status = run_python(input, script, argc - optind, argv + optind);
	}
	Py_XDECREF(sys_argv);
	if (Py_FinalizeEx() < 0 && !status)
		status = 120;
out:
	api->text_free(text);
	text = NULL;
	free(script);
	return status;
}

static int init(struct retisc_plugin *pl, const struct retisc_api *a)
{
	static const struct retisc_processor_desc p = {
		.sz = sizeof(p),
		.name = "python",
		.summary = "run a Python script over an events file (retis python)",
		.run = python_run,
	};

	return a->register_processor(pl, &p);
}

static const struct retisc_plugin_desc desc = {
	.sz = sizeof(desc),
	.abi_version = RETISC_ABI_VERSION,
	.name = "python",
	.version = "0.1.0",
	.init = init,
};

RETISC_PLUGIN_DEFINE(desc)
