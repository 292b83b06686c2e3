/*
 * conformance/infini-conform.c - the conformance runner (docs/conformance.md).
 *
 *   infini-conform [run] [options]        backends against the golden vectors
 *   infini-conform export DIR [options]   inputs as .npy for any language
 *   infini-conform check DIR [options]    judge the outputs written in DIR
 *   infini-conform --list-backends [--plugin PATH]...
 *
 * Exit status: 0 every required case passed; 1 some failed; 2 usage error,
 * unreadable or corrupt vectors, or a report that could not be written.
 */
#include "config.h"
#include <dlfcn.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "conformance/conform.h"
#include "conformance/model/model_files.h"
#include "tools/cli.h"

#define MAX_BACKENDS 64
#define MAX_PLUGINS 32

typedef struct options {
  const char *command;            /* "run", "export", "check" */
  const char *dir;                /* export/check directory */
  const char *vectors;            /* --vectors */
  const char *backend_args[MAX_BACKENDS];
  int n_backend_args;
  const char *plugins[MAX_PLUGINS];
  int n_plugins;
  tol_profile profile;
  const char *tap, *junit, *json;
  bool list_backends, list_cases, strict, quiet, verbose, force;
  cf_diagnose_policy diagnose;
  cf_declaration declared;
  int max_details;
  const char *name;               /* check: implementation name */
  cf_selection sel;
  const char *operator_option;    /* the first option that selects operator cases */
  const char *model;              /* export --model LIST */
  const char *model_vectors;      /* --model-vectors */
} options;

static void usage(FILE *f) {
  fprintf(f,
      "Usage: infini-conform [run] [OPTION]...\n"
      "       infini-conform export DIR [SELECTION]...\n"
      "       infini-conform check DIR [OPTION]...\n"
      "       infini-conform --list-backends [--plugin PATH]...\n"
      "\n"
      "Check implementations of Infini-attention against the golden vectors of\n"
      "docs/spec.md. Without a command, runs every backend that can run on this\n"
      "CPU (natively or emulated) over the shipped vectors and prints a table.\n"
      "\n"
      "Commands:\n"
      "  run            run C backends through the public API (the default)\n"
      "  export DIR     write the selected cases' inputs to DIR as .npy, with\n"
      "                 DIR/index.json naming each case and its output files\n"
      "  check DIR      judge the .npy outputs an implementation wrote in DIR\n"
      "                 (operator cases, or whole models: see --model)\n"
      "\n"
      "Backends:\n"
      "  -b, --backend NAME   run this backend (repeatable, or NAME,NAME); 'all'\n"
      "                       runs every registered backend that can run here.\n"
      "                       Default: all of them, or only the plugins when\n"
      "                       --plugin is given\n"
      "  -p, --plugin PATH    load a backend plugin (a .so exporting\n"
      "                       infini_plugin_backend); repeatable\n"
      "      --list-backends  list the registered backends and whether each runs\n"
      "                       natively, emulated or not at all here\n"
      "\n"
      "Vectors and selection:\n"
      "      --vectors PATH   vector directory or one manifest (default: $INFINI_VECTORS,\n"
      "                       else %s)\n"
      "      --op NAME        only this operator (repeatable)\n"
      "      --id PATTERN     only these cases: FILE:TCID, FILE:*, FILE:A-B or TCID\n"
      "      --flag NAME      only cases carrying this flag (e.g. underflow)\n"
      "      --include-list FILE  only cases matching a pattern of FILE\n"
      "      --exclude-list FILE  skip (and report as skipped) cases matching FILE\n"
      "      --xfail-list FILE    expect cases matching FILE to fail\n"
      "                       (one pattern per line: retrieve.json:12, retrieve.json:*,\n"
      "                       flag:underflow, op:mix, 12; '#' starts a comment)\n"
      "      --list           list the selected cases and exit\n"
      "      --model LIST     export: whole models instead of operator cases: the\n"
      "                       presets of the full-model golden set (NAME,NAME or\n"
      "                       all); check judges a model export by itself, under\n"
      "                       --profile fp32, tf32 or bf16-fp32\n"
      "      --model-vectors DIR  the full-model golden set (default:\n"
      "                       $INFINI_MODEL_VECTORS, else %s)\n"
      "\n"
      "Judging and reports:\n"
      "      --profile P      tolerance profile: fp32 (default), bf16, fp16,\n"
      "                       bf16-fp32, fp16-fp32, tf32\n"
      "      --strict         an XPASS (xfail case that passes) is a failure\n"
      "      --no-diagnose    do not look for known convention differences\n"
      "      --no-diagnose-flag LIST  nor on cases carrying a flag of LIST (e.g.\n"
      "                       realistic: a second of search per model-sized case)\n"
      "      --declare LIST   what the implementation cannot take: default-scale,\n"
      "                       square, no-gqa, one-beta, packed, eps=E,\n"
      "                       rule=linear|delta; the cases needing it are not\n"
      "                       applicable (skipped, not exported, not required)\n"
      "      --tap FILE       write a TAP report\n"
      "      --junit FILE     write a JUnit XML report\n"
      "      --json FILE      write a JSON report\n"
      "  -q, --quiet          print only the summary line\n"
      "  -v, --verbose        print every failure (default: the first %d)\n"
      "      --max-failures N print at most N failures in detail\n"
      "      --name NAME      check: the implementation's name in reports (default files)\n"
      "      --force          export: write into a directory that is not empty;\n"
      "                       replace existing --tap/--junit/--json files\n"
      "  -h, --help           this help\n"
      "      --version        version of infini-conform and of the specification\n"
      "\n"
      "Exit status: 0 when every required case passes, 1 when some fail, 2 for\n"
      "a usage error or unreadable or corrupt vector files.\n",
      cf_default_vectors(), cf_default_model_vectors(), 20);
}

enum {
  OPT_LIST_BACKENDS = 256, OPT_VECTORS, OPT_OP, OPT_ID, OPT_FLAG, OPT_INCLUDE,
  OPT_EXCLUDE, OPT_XFAIL, OPT_PROFILE, OPT_STRICT, OPT_TAP, OPT_JUNIT, OPT_JSON,
  OPT_NO_DIAGNOSE, OPT_NO_DIAGNOSE_FLAG, OPT_DECLARE, OPT_MAX_FAILURES, OPT_NAME, OPT_FORCE,
  OPT_VERSION, OPT_LIST, OPT_MODEL, OPT_MODEL_VECTORS
};

static const struct option long_options[] = {
    {"backend", required_argument, NULL, 'b'},
    {"plugin", required_argument, NULL, 'p'},
    {"list-backends", no_argument, NULL, OPT_LIST_BACKENDS},
    {"vectors", required_argument, NULL, OPT_VECTORS},
    {"op", required_argument, NULL, OPT_OP},
    {"id", required_argument, NULL, OPT_ID},
    {"flag", required_argument, NULL, OPT_FLAG},
    {"include-list", required_argument, NULL, OPT_INCLUDE},
    {"exclude-list", required_argument, NULL, OPT_EXCLUDE},
    {"xfail-list", required_argument, NULL, OPT_XFAIL},
    {"profile", required_argument, NULL, OPT_PROFILE},
    {"strict", no_argument, NULL, OPT_STRICT},
    {"tap", required_argument, NULL, OPT_TAP},
    {"junit", required_argument, NULL, OPT_JUNIT},
    {"json", required_argument, NULL, OPT_JSON},
    {"no-diagnose", no_argument, NULL, OPT_NO_DIAGNOSE},
    {"no-diagnose-flag", required_argument, NULL, OPT_NO_DIAGNOSE_FLAG},
    {"declare", required_argument, NULL, OPT_DECLARE},
    {"quiet", no_argument, NULL, 'q'},
    {"verbose", no_argument, NULL, 'v'},
    {"max-failures", required_argument, NULL, OPT_MAX_FAILURES},
    {"name", required_argument, NULL, OPT_NAME},
    {"force", no_argument, NULL, OPT_FORCE},
    {"list", no_argument, NULL, OPT_LIST},
    {"model", required_argument, NULL, OPT_MODEL},
    {"model-vectors", required_argument, NULL, OPT_MODEL_VECTORS},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0}};

/* Parse argv into o; returns -1 to go on, else an exit status. */
static int parse_args(int argc, char **argv, options *o) {
  char err[512];
  const char *positional[4];
  int n_positional = 0;
  memset(o, 0, sizeof *o);
  o->profile = TOL_FP32;
  o->max_details = 20;
  o->name = "files";
  cf_selection_init(&o->sel);
  opterr = 0;
  for (;;) {
    int longindex = -1;
    int ch = getopt_long(argc, argv, ":b:p:qvh", long_options, &longindex);
    if (ch == -1)
      break;
    if (!o->operator_option && (ch == OPT_OP || ch == OPT_ID || ch == OPT_FLAG ||
                                ch == OPT_INCLUDE || ch == OPT_EXCLUDE || ch == OPT_XFAIL ||
                                ch == OPT_DECLARE || ch == OPT_VECTORS || ch == OPT_LIST))
      o->operator_option = longindex >= 0 ? long_options[longindex].name : "an option";
    switch (ch) {
    case 'b':
      if (o->n_backend_args == MAX_BACKENDS)
        return cli_usage_error("too many --backend options");
      o->backend_args[o->n_backend_args++] = optarg;
      break;
    case 'p':
      if (o->n_plugins == MAX_PLUGINS)
        return cli_usage_error("too many --plugin options");
      o->plugins[o->n_plugins++] = optarg;
      break;
    case OPT_LIST_BACKENDS: o->list_backends = true; break;
    case OPT_VECTORS: o->vectors = optarg; break;
    case OPT_OP:
    case OPT_ID:
    case OPT_FLAG:
      if (!cf_selection_add(&o->sel, ch == OPT_OP ? "op" : ch == OPT_ID ? "id" : "flag",
                            optarg, err, sizeof err))
        return cli_usage_error("%s", err);
      break;
    case OPT_INCLUDE:
    case OPT_EXCLUDE:
    case OPT_XFAIL:
      if (!cf_selection_read_list(&o->sel,
                                  ch == OPT_INCLUDE   ? "include"
                                  : ch == OPT_EXCLUDE ? "exclude"
                                                      : "xfail",
                                  optarg, err, sizeof err)) {
        cf_error("%s", err);
        return CF_EXIT_USAGE;
      }
      break;
    case OPT_PROFILE:
      if (!tol_profile_from_name(optarg, &o->profile))
        return cli_usage_error("unknown --profile '%s' (fp32, bf16, fp16, bf16-fp32, fp16-fp32 "
                               "or tf32)", optarg);
      break;
    case OPT_STRICT: o->strict = true; break;
    case OPT_TAP: o->tap = optarg; break;
    case OPT_JUNIT: o->junit = optarg; break;
    case OPT_JSON: o->json = optarg; break;
    case OPT_NO_DIAGNOSE: o->diagnose.off = true; break;
    case OPT_NO_DIAGNOSE_FLAG: o->diagnose.skip_flag = optarg; break;
    case OPT_DECLARE:
      if (!cf_declaration_parse(&o->declared, optarg, err, sizeof err))
        return cli_usage_error("%s", err);
      break;
    case 'q': o->quiet = true; break;
    case 'v': o->verbose = true; break;
    case OPT_MAX_FAILURES: {
      uint64_t v;
      if (!cli_parse_u64(optarg, 0, 1000000, &v))
        return cli_usage_error("--max-failures needs a number >= 0, not '%s'", optarg);
      o->max_details = (int)v;
      break;
    }
    case OPT_NAME: o->name = optarg; break;
    case OPT_FORCE: o->force = true; break;
    case OPT_LIST: o->list_cases = true; break;
    case OPT_MODEL: o->model = optarg; break;
    case OPT_MODEL_VECTORS: o->model_vectors = optarg; break;
    case 'h':
      usage(stdout);
      return CF_EXIT_PASS;
    case OPT_VERSION:
      printf("infini-conform (infini) %s, specification %s\n", infini_version(),
             INFINI_SPEC_VERSION);
      return CF_EXIT_PASS;
    case ':': /* optopt is the option's val: a letter only for -x */
      if (strncmp(argv[optind - 1], "--", 2) != 0)
        return cli_usage_error("option -%c needs a value", optopt);
      return cli_usage_error("option %s needs a value", argv[optind - 1]);
    default:
      if (optopt)
        return cli_usage_error("unknown option -%c", optopt);
      return cli_usage_error("unknown option %s", argv[optind - 1]);
    }
  }
  for (int i = optind; i < argc; i++) {
    if (n_positional == 4)
      return cli_usage_error("too many arguments ('%s')", argv[i]);
    positional[n_positional++] = argv[i];
  }
  o->command = "run";
  if (n_positional > 0) {
    const char *cmd = positional[0];
    if (strcmp(cmd, "run") == 0) {
      if (n_positional > 1)
        return cli_usage_error("run takes no argument ('%s')", positional[1]);
    } else if (strcmp(cmd, "export") == 0 || strcmp(cmd, "check") == 0) {
      o->command = cmd;
      if (n_positional < 2)
        return cli_usage_error("%s needs a directory", cmd);
      if (n_positional > 2)
        return cli_usage_error("too many arguments ('%s')", positional[2]);
      o->dir = positional[1];
    } else {
      return cli_usage_error("unknown command '%s' (run, export or check)", cmd);
    }
  }
  if (strcmp(o->command, "run") != 0 && (o->n_backend_args || o->n_plugins))
    return cli_usage_error("--backend and --plugin apply to run, not %s", o->command);
  if (strcmp(o->command, "export") == 0 && (o->tap || o->junit || o->json))
    return cli_usage_error("export writes no report");
  if (o->model && strcmp(o->command, "export") != 0)
    return cli_usage_error("--model applies to export (check finds the models in the "
                           "index)");
  if (o->model && o->operator_option)
    return cli_usage_error("--model exports whole models; --%s selects operator cases, which "
                           "are exported separately", o->operator_option);
  return -1;
}

static const char *availability_name(infini_availability a) {
  switch (a) {
  case INFINI_NATIVE: return "native";
  case INFINI_EMULATED: return "emulated";
  case INFINI_UNAVAILABLE: return "unavailable";
  default: return "unknown";
  }
}

static int load_plugins(options *o, const infini_backend **plugins) {
  for (int i = 0; i < o->n_plugins; i++) {
    (void)dlerror(); /* clear */
    infini_status st = infini_plugin_load(o->plugins[i], &plugins[i]);
    if (st != INFINI_OK) {
      const char *dl = st == INFINI_ERR_PLUGIN ? dlerror() : NULL;
      if (st == INFINI_ERR_PARAM)
        cf_error("plugin %s: a backend of the same name is already registered",
                 o->plugins[i]);
      else
        cf_error("plugin %s: %s%s%s", o->plugins[i], infini_strerror(st),
                 dl ? ": " : "", dl ? dl : "");
      return CF_EXIT_USAGE;
    }
  }
  return -1;
}

static void list_backends(const options *o, const infini_backend *const *plugins) {
  printf("%-14s %-12s %s\n", "backend", "here", "description");
  for (size_t i = 0;; i++) {
    const infini_backend *be = infini_backend_at(i);
    if (!be)
      break;
    const char *from = NULL;
    for (int p = 0; p < o->n_plugins; p++)
      if (plugins[p] == be)
        from = o->plugins[p];
    printf("%-14s %-12s %s%s%s%s\n", be->name, availability_name(be->availability()),
           be->description ? be->description : "", from ? " (plugin " : "",
           from ? from : "", from ? ")" : "");
  }
}

/* Which backends run; unavailable ones named by 'all' or the default are
 * recorded as skipped. Returns -1 to go on, else an exit status. */
static int choose_backends(const options *o, const infini_backend *const *plugins,
                           const infini_backend **run, int *n_run, cf_report *rep) {
  *n_run = 0;
  bool all = o->n_backend_args == 0 && o->n_plugins == 0;
  if (o->n_backend_args == 0 && o->n_plugins > 0)
    for (int p = 0; p < o->n_plugins; p++) {
      if (plugins[p]->availability() == INFINI_UNAVAILABLE) {
        cf_error("plugin %s: backend '%s' cannot run on this CPU", o->plugins[p],
                 plugins[p]->name);
        return CF_EXIT_USAGE;
      }
      bool dup = false;
      for (int k = 0; k < *n_run; k++)
        dup = dup || run[k] == plugins[p];
      if (!dup)
        run[(*n_run)++] = plugins[p];
    }
  for (int a = 0; a < o->n_backend_args; a++) {
    char *copy = cf_xstrdup(o->backend_args[a]), *save = NULL;
    for (char *name = strtok_r(copy, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
      if (strcmp(name, "all") == 0) {
        all = true;
        continue;
      }
      const infini_backend *be;
      if (infini_backend_find(name, &be) != INFINI_OK) {
        cf_error("no backend named '%s' (--list-backends lists them)", name);
        free(copy);
        return CF_EXIT_USAGE;
      }
      if (be->availability() == INFINI_UNAVAILABLE) {
        cf_error("backend '%s' cannot run on this CPU (--list-backends)", be->name);
        free(copy);
        return CF_EXIT_USAGE;
      }
      bool dup = false;
      for (int k = 0; k < *n_run; k++)
        dup = dup || run[k] == be;
      if (!dup && *n_run < MAX_BACKENDS)
        run[(*n_run)++] = be;
    }
    free(copy);
  }
  if (all) {
    for (size_t i = 0;; i++) {
      const infini_backend *be = infini_backend_at(i);
      if (!be)
        break;
      bool dup = false;
      for (int k = 0; k < *n_run; k++)
        dup = dup || run[k] == be;
      if (dup)
        continue;
      if (be->availability() == INFINI_UNAVAILABLE) {
        if (rep->n_skipped_backends < 64)
          rep->skipped_backends[rep->n_skipped_backends++] = be->name;
        continue;
      }
      if (*n_run < MAX_BACKENDS)
        run[(*n_run)++] = be;
    }
  }
  if (*n_run == 0) {
    cf_error("no backend can run here (--list-backends)");
    return CF_EXIT_USAGE;
  }
  return -1;
}

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void run_backend(const infini_backend *be, cf_case *cases, size_t n,
                        const options *o, cf_report *rep) {
  infini_context *ctx = NULL;
  infini_status st = infini_context_create(be, &ctx);
  for (size_t i = 0; i < n; i++) {
    cf_result *r = cf_report_add(rep);
    r->backend = be->name;
    r->c = &cases[i];
    if (cf_case_skip_reason(&cases[i])) {
      r->outcome = CF_SKIP;
      r->message = cf_xstrdup(cf_case_skip_reason(&cases[i]));
      continue;
    }
    if (st != INFINI_OK) {
      r->failed = true;
      cf_buf m = {0};
      cf_buf_printf(&m, "infini_context_create returned %s", infini_strerror(st));
      r->message = cf_buf_take(&m);
    } else {
      cf_outputs got = {0};
      char *why = NULL;
      double t0 = now_seconds();
      bool ran = cf_run_case(ctx, &cases[i], &got, &why);
      r->seconds = now_seconds() - t0;
      if (!ran) {
        r->failed = true; /* not judged: ratio stays NaN */
        r->message = why;
      } else {
        cf_judge(&cases[i], o->profile, &got, r);
        if (r->failed && cf_should_diagnose(&o->diagnose, &cases[i]))
          r->diagnosis = cf_diagnose_names(&cases[i], o->profile, &got, &r->diag);
      }
      cf_outputs_free(&got);
    }
    if (cases[i].xfail)
      r->outcome = r->failed ? CF_XFAIL : CF_XPASS;
    else
      r->outcome = r->failed ? CF_FAIL : CF_PASS;
  }
  infini_context_free(ctx);
}

/* Keep only the cases a declaration can run (export writes nothing else). */
static size_t drop_not_applicable(cf_case *cases, size_t n) {
  size_t kept = 0;
  for (size_t i = 0; i < n; i++)
    if (!cases[i].not_applicable[0])
      cases[kept++] = cases[i];
  return kept;
}

static void list_selected(const cf_case *cases, size_t n) {
  for (size_t i = 0; i < n; i++) {
    const cf_case *c = &cases[i];
    printf("%s:%d\t%s\t%s%s%s\t", c->set->file, c->test->id, vs_op_name(c->group->op),
           c->test->result == VS_ACCEPTABLE ? "acceptable" : "valid",
           c->excluded ? ",excluded" : "", c->xfail ? ",xfail" : "");
    for (int f = 0; f < c->test->n_flags; f++)
      printf("%s%s", f ? "," : "", c->test->flags[f]);
    printf("\t%s\n", c->test->comment ? c->test->comment : "");
  }
}

/* Refuse a report destination that would be refused at the end (a link,
 * an existing file without --force) before the run, not after it. */
static int check_report_paths(const options *o) {
  const char *paths[] = {o->tap, o->junit, o->json};
  char err[1024];
  for (size_t i = 0; i < sizeof paths / sizeof *paths; i++)
    if (paths[i] && fileio_check_destination(paths[i],
                                             o->force ? FILEIO_REPLACE : 0,
                                             err, sizeof err) != INFINI_OK) {
      cf_error("%s", err);
      return CF_EXIT_USAGE;
    }
  return -1;
}

static int write_reports(const options *o, const cf_report *rep) {
  char err[1024];
  int status = -1;
  if (o->tap && !cf_report_tap(rep, o->tap, o->force, err, sizeof err))
    cf_error("%s", err), status = CF_EXIT_USAGE;
  if (o->junit && !cf_report_junit(rep, o->junit, o->force, err, sizeof err))
    cf_error("%s", err), status = CF_EXIT_USAGE;
  if (o->json && !cf_report_json(rep, o->json, o->force, err, sizeof err))
    cf_error("%s", err), status = CF_EXIT_USAGE;
  return status;
}

/* export --model, or check of a model export (docs/conformance.md,
 * "Checking a whole model"). */
static int model_command(const options *o) {
  char err[2048];
  const char *mvdir = o->model_vectors ? o->model_vectors : cf_default_model_vectors();
  if (strcmp(o->command, "export") == 0) {
    size_t n;
    if (!mc_export(mvdir, o->model, o->dir, o->force, &n, err, sizeof err)) {
      cf_error("%s", err);
      return CF_EXIT_USAGE;
    }
    if (!o->quiet)
      printf("exported %zu model%s to %s (index.json names the output files to write: "
             "logits, and hidden if you can)\n", n, n == 1 ? "" : "s", o->dir);
    return CF_EXIT_PASS;
  }
  if (o->operator_option) {
    cf_error("%s/index.json is a model export; --%s selects operator cases", o->dir,
             o->operator_option);
    return CF_EXIT_USAGE;
  }
  if (o->junit) {
    cf_error("a model check writes --json and --tap reports, not --junit");
    return CF_EXIT_USAGE;
  }
  mc_report rep;
  if (!mc_check(mvdir, o->dir, o->profile, !o->diagnose.off, &rep, err, sizeof err)) {
    cf_error("%s", err);
    mc_report_free(&rep);
    return CF_EXIT_USAGE;
  }
  int status = mc_report_status(&rep);
  if (o->json && !mc_report_json(&rep, o->json, o->force, err, sizeof err))
    cf_error("%s", err), status = CF_EXIT_USAGE;
  if (o->tap && !mc_report_tap(&rep, o->tap, o->force, err, sizeof err))
    cf_error("%s", err), status = CF_EXIT_USAGE;
  if (o->quiet)
    mc_report_summary(&rep, stdout);
  else
    mc_report_print(&rep, stdout, o->verbose);
  mc_report_free(&rep);
  return status;
}

int main(int argc, char **argv) {
  cli_set_program("infini-conform", "try --help");
  options o;
  int status = parse_args(argc, argv, &o);
  if (status >= 0) {
    cf_selection_free(&o.sel);
    return status;
  }

  status = check_report_paths(&o);
  if (status >= 0)
    goto out_sel;
  const infini_backend *plugins[MAX_PLUGINS] = {0};
  status = load_plugins(&o, plugins);
  if (status >= 0)
    goto out_sel;
  if (o.list_backends) {
    list_backends(&o, plugins);
    status = CF_EXIT_PASS;
    goto out_sel;
  }

  if (o.model || (strcmp(o.command, "check") == 0 && mc_is_model_export(o.dir))) {
    status = model_command(&o);
    goto out_sel;
  }

  /* The vectors: --vectors, else the default. Never the directory an
   * index names: the folder under check is the implementation's, so a
   * path there could name a forged copy with huge tolerances; check
   * compares the digests the index recorded instead (cf_check). */
  char err[1024];
  const char *vectors = o.vectors ? o.vectors : cf_default_vectors();
  cf_vectors v;
  if (!cf_vectors_load(vectors, &v, err, sizeof err)) {
    cf_error("%s", err);
    status = CF_EXIT_USAGE;
    goto out_sel;
  }

  cf_case *cases = NULL;
  size_t n = cf_select(&v, &o.sel, &cases);
  if (n == 0) {
    cf_error("no case of %s matches the selection", v.dir);
    status = CF_EXIT_USAGE;
    goto out_vectors;
  }
  if (o.list_cases) {
    list_selected(cases, n);
    status = CF_EXIT_PASS;
    goto out_cases;
  }
  if (!cf_cases_load(cases, n, err, sizeof err)) {
    cf_error("%s", err);
    status = CF_EXIT_USAGE;
    goto out_cases;
  }
  cf_declaration_apply(&o.declared, o.profile, cases, n);
  if (strcmp(o.command, "export") != 0) /* export serves every profile */
    cf_profile_range_apply(o.profile, cases, n);

  if (strcmp(o.command, "export") == 0) {
    n = drop_not_applicable(cases, n);
    if (n == 0) {
      cf_error("no selected case is applicable to --declare %s", o.declared.text);
      status = CF_EXIT_USAGE;
      goto out_cases;
    }
    if (!cf_export(&v, cases, n, o.dir, o.force, err, sizeof err)) {
      cf_error("%s", err);
      status = CF_EXIT_USAGE;
    } else {
      if (!o.quiet)
        printf("exported %zu case%s to %s (index.json names the output files to write)\n",
               n, n == 1 ? "" : "s", o.dir);
      status = CF_EXIT_PASS;
    }
    goto out_cases;
  }

  cf_report rep = {0};
  rep.profile = tol_profile_name(o.profile);
  rep.vectors_dir = v.dir;
  rep.strict = o.strict;
  if (strcmp(o.command, "check") == 0) {
    rep.mode = "check";
    rep.backends[rep.n_backends++] = o.name;
    if (!cf_check(&v, cases, n, o.dir, o.profile, &o.diagnose, &rep, o.name, err,
                  sizeof err)) {
      cf_error("%s", err);
      status = CF_EXIT_USAGE;
      cf_report_free(&rep);
      goto out_cases;
    }
  } else {
    const infini_backend *run[MAX_BACKENDS];
    int n_run;
    rep.mode = "run";
    status = choose_backends(&o, plugins, run, &n_run, &rep);
    if (status >= 0) {
      cf_report_free(&rep);
      goto out_cases;
    }
    for (int b = 0; b < n_run; b++) {
      rep.backends[rep.n_backends++] = run[b]->name;
      run_backend(run[b], cases, n, &o, &rep);
    }
  }

  if (!o.quiet)
    cf_report_table(&rep, stdout, o.verbose, o.max_details);
  status = write_reports(&o, &rep);
  cf_report_summary(&rep, stdout);
  cf_declaration_report(&o.declared, cases, n, stdout);
  if (status < 0)
    status = cf_report_status(&rep);
  cf_report_free(&rep);

out_cases:
  free(cases);
out_vectors:
  cf_vectors_free(&v);
out_sel:
  cf_selection_free(&o.sel);
  fflush(stdout);
  return status;
}
