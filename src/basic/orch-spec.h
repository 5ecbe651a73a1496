/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

typedef enum {
  ORCH_RESTART_NO,
  ORCH_RESTART_ON_FAILURE,
  ORCH_RESTART_ALWAYS,
} OrchRestartPolicy;

typedef enum {
  ORCH_STDERR_MERGE,
  ORCH_STDERR_SEPARATE,
} OrchStderrMode;

/* What a caller asked for (Create's a{sv}), parsed but not yet checked
 * against the system; orch_policy_check() does that and fills the
 * resolved_* fields. */
typedef struct {
  char **argv;
  char *name;
  GHashTable *env;           /* name -> value, NULL when not given */
  char *cwd;
  char *user;
  OrchRestartPolicy restart;
  guint restart_max;         /* 0 = no limit */
  guint restart_delay_ms;
  guint stop_timeout_ms;     /* 0 = the configured default */
  guint64 memory_max;        /* bytes, 0 = no limit */
  double cpu_quota;          /* cores, 0 = no limit */
  guint tasks_max;           /* 0 = no limit */
  OrchStderrMode stderr_mode;
  char *request_id;          /* the caller's idempotency key, NULL if none */
  guint64 memory_high;       /* bytes, 0 = no throttling point */
  guint cpu_weight;          /* 1..10000, 0 = the default (100) */
  guint io_weight;           /* 1..10000, 0 = the default (100) */
  gboolean log_timestamps;   /* the monitor stamps each line (orch-log-record.h) */
  /* memory_forecast events this far ahead for this job (0: none); unset:
   * [events] memory_warn_before_s */
  guint memory_warn_before_s;
  gboolean memory_warn_before_set;

  /* Filled by orch_policy_check(). */
  char *resolved_exec;
  gboolean has_user;
  uid_t uid;
  gid_t gid;
  GArray *groups;            /* gid_t */
  char *home;

  /* Set by the daemon, never by a caller (not in the field table): the
   * job is replica @replica of group @group_id.  Kept with the spec. */
  char *group_id;
  guint replica;
} OrchSpec;

#define ORCH_DEFAULT_RESTART_MAX 5
#define ORCH_DEFAULT_RESTART_DELAY_MS 100
#define ORCH_MIN_MEMORY_MAX (1024 * 1024)
#define ORCH_MAX_CPU_QUOTA 4096.0
#define ORCH_MAX_WEIGHT 10000

OrchSpec *orch_spec_new (void);
void orch_spec_free (OrchSpec *spec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OrchSpec, orch_spec_free)

/* A spec field and the bounds its value must keep (0 or NULL: none).
 * Numbers (u, t, d): from min to max.  Strings: min_length to
 * max_length characters, and the pattern.  as: min_length to max_length
 * elements, the pattern for the first one.  a{ss}: the pattern for the
 * keys.  The pattern is a regular expression that means the same in
 * GRegex (with G_REGEX_DOLLAR_ENDONLY) and in JSON Schema (ECMA-262):
 * what data/openapi.json states.  @match is the same test in C, what a
 * Create runs (no regex engine compiled and paged in for each one);
 * test-spec holds the two together. */
typedef gboolean (*OrchSpecParser) (OrchSpec *spec, const char *key, GVariant *v, GError **error);

typedef struct {
  const char *key;
  const char *type;     /* D-Bus */
  OrchSpecParser parse; /* after the checks below */
  double min, max;
  guint min_length, max_length;
  const char *pattern;
  gboolean (*match) (const char *s); /* the pattern, in C */
  const char *pattern_hint;          /* the refusal when it does not match, untranslated */
} OrchSpecField;

const OrchSpecField *orch_spec_fields (gsize *n_fields);

/* The spec's keys and their D-Bus types, as pairs ("command", "as", ...,
 * NULL): what a client decoding a spec from another format needs. */
extern const char *const orch_spec_field_types[];

/* Parses a Create() spec: unknown keys, wrong types and values out of range
 * are ORCH_ERROR_INVALID_ARGUMENT naming the field. */
OrchSpec *orch_spec_from_variant (GVariant *dict, GError **error);
/* Parses one field @key into @spec, with the same checks. */
gboolean orch_spec_parse_field (OrchSpec *spec, const char *key, GVariant *value, GError **error);

/* A spec as the state database keeps it: the caller's keys, and the
 * daemon's own (group_id, replica) that orch_spec_from_variant() refuses. */
OrchSpec *orch_spec_from_stored (GVariant *dict, GError **error);

/* The spec as a{sv} with the same keys, for job records and state. */
GVariant *orch_spec_to_variant (const OrchSpec *spec);

const char *orch_restart_policy_to_string (OrchRestartPolicy p);
gboolean orch_restart_policy_from_string (const char *s, OrchRestartPolicy *out);

G_END_DECLS
