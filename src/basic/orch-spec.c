/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "orch-spec.h"
#include "orch-error.h"

#include <glib/gi18n.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

OrchSpec *
orch_spec_new (void)
{
  OrchSpec *s = g_new0 (OrchSpec, 1);

  s->restart = ORCH_RESTART_NO;
  s->restart_max = ORCH_DEFAULT_RESTART_MAX;
  s->restart_delay_ms = ORCH_DEFAULT_RESTART_DELAY_MS;
  s->stderr_mode = ORCH_STDERR_MERGE;
  return s;
}

void
orch_spec_free (OrchSpec *s)
{
  if (s == NULL)
    return;
  g_strfreev (s->argv);
  g_free (s->name);
  g_clear_pointer (&s->env, g_hash_table_unref);
  g_free (s->cwd);
  g_free (s->user);
  g_free (s->resolved_exec);
  g_clear_pointer (&s->groups, g_array_unref);
  g_free (s->home);
  g_free (s->request_id);
  g_free (s->group_id);
  g_free (s);
}

const char *
orch_restart_policy_to_string (OrchRestartPolicy p)
{
  switch (p)
    {
    case ORCH_RESTART_ON_FAILURE:
      return "on-failure";
    case ORCH_RESTART_ALWAYS:
      return "always";
    case ORCH_RESTART_NO:
    default:
      return "no";
    }
}

gboolean
orch_restart_policy_from_string (const char *s, OrchRestartPolicy *out)
{
  if (g_strcmp0 (s, "no") == 0)
    *out = ORCH_RESTART_NO;
  else if (g_strcmp0 (s, "on-failure") == 0)
    *out = ORCH_RESTART_ON_FAILURE;
  else if (g_strcmp0 (s, "always") == 0)
    *out = ORCH_RESTART_ALWAYS;
  else
    return FALSE;
  return TRUE;
}

static gboolean
invalid (GError **error, const char *key, const char *what)
{
  g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
               _("spec field “%s”: %s"), key, what);
  return FALSE;
}

static gboolean
parse_command (OrchSpec *spec, const char *key, GVariant *v, GError **error)
{
  g_strfreev (spec->argv);
  spec->argv = g_variant_dup_strv (v, NULL);
  return TRUE;
}

static gboolean
parse_name (OrchSpec *spec, const char *key, GVariant *v, GError **error)
{
  g_free (spec->name);
  spec->name = g_variant_dup_string (v, NULL);
  return TRUE;
}

/* The program's file name, made into a name the "name" row accepts: it
 * ends up in records, logs and Prometheus labels like a given one. */
static char *
default_name (const char *argv0)
{
  g_autofree char *base = g_path_get_basename (argv0);
  GString *out = g_string_new (NULL);
  glong n = 0;

  for (const char *p = base; *p && n < 252; p = g_utf8_next_char (p), n++)
    {
      gunichar c = g_utf8_get_char (p);
      if (g_unichar_iscntrl (c))
        g_string_append_c (out, '?');
      else
        g_string_append_unichar (out, c);
    }
  if (out->len == 0)
    g_string_append_c (out, '?');
  return g_string_free (out, FALSE);
}

static gboolean
parse_env (OrchSpec *spec, const char *key, GVariant *v, GError **error)
{
  GVariantIter iter;
  const char *name, *value;
  g_autoptr(GHashTable) env = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  g_variant_iter_init (&iter, v);
  while (g_variant_iter_next (&iter, "{&s&s}", &name, &value))
    g_hash_table_replace (env, g_strdup (name), g_strdup (value));
  g_clear_pointer (&spec->env, g_hash_table_unref);
  spec->env = g_steal_pointer (&env);
  return TRUE;
}

static gboolean
parse_cwd (OrchSpec *spec, const char *key, GVariant *v, GError **error)
{
  g_free (spec->cwd);
  spec->cwd = g_variant_dup_string (v, NULL);
  return TRUE;
}

static gboolean
parse_user (OrchSpec *spec, const char *key, GVariant *v, GError **error)
{
  g_free (spec->user);
  spec->user = g_variant_dup_string (v, NULL);
  return TRUE;
}

static gboolean
parse_restart (OrchSpec *spec, const char *key, GVariant *v, GError **error)
{
  if (!orch_restart_policy_from_string (g_variant_get_string (v, NULL), &spec->restart))
    return invalid (error, key, _("must be one of no, on-failure, always"));
  return TRUE;
}

static gboolean
parse_restart_max (OrchSpec *spec, const char *key, GVariant *v, GError **error)
{
  spec->restart_max = g_variant_get_uint32 (v);
  return TRUE;
}

static gboolean
parse_restart_delay (OrchSpec *spec, const char *key, GVariant *v, GError **error)
{
  spec->restart_delay_ms = g_variant_get_uint32 (v);
  return TRUE;
}

static gboolean
parse_stop_timeout (OrchSpec *spec, const char *key, GVariant *v, GError **error)
{
  spec->stop_timeout_ms = g_variant_get_uint32 (v);
  return TRUE;
}

static gboolean
parse_memory_max (OrchSpec *spec, const char *key, GVariant *v, GError **error)
{
  spec->memory_max = g_variant_get_uint64 (v);
  return TRUE;
}

static gboolean
parse_cpu_quota (OrchSpec *spec, const char *key, GVariant *v, GError **error)
{
  spec->cpu_quota = g_variant_get_double (v);
  return TRUE;
}

static gboolean
parse_tasks_max (OrchSpec *spec, const char *key, GVariant *v, GError **error)
{
  spec->tasks_max = g_variant_get_uint32 (v);
  return TRUE;
}

static gboolean
parse_memory_high (OrchSpec *spec, const char *key, GVariant *v, GError **error)
{
  guint64 n = g_variant_get_uint64 (v);

  if (n < ORCH_MIN_MEMORY_MAX)
    return invalid (error, key, _("must be at least 1048576 bytes (1 MiB)"));
  spec->memory_high = n;
  return TRUE;
}

/* cpu_weight and io_weight: the cgroup v2 range. */
static gboolean
parse_weight (OrchSpec *spec, const char *key, GVariant *v, GError **error)
{
  guint32 n = g_variant_get_uint32 (v);

  if (n < 1 || n > ORCH_MAX_WEIGHT)
    return invalid (error, key, _("must be from 1 to 10000 (100 is the default)"));
  if (strcmp (key, "cpu_weight") == 0)
    spec->cpu_weight = n;
  else
    spec->io_weight = n;
  return TRUE;
}

static gboolean
parse_log_timestamps (OrchSpec *spec, const char *key, GVariant *v, GError **error)
{
  spec->log_timestamps = g_variant_get_boolean (v);
  return TRUE;
}

static gboolean
parse_memory_warn_before (OrchSpec *spec, const char *key, GVariant *v, GError **error)
{
  spec->memory_warn_before_s = g_variant_get_uint32 (v);
  spec->memory_warn_before_set = TRUE;
  return TRUE;
}

static gboolean
parse_stderr (OrchSpec *spec, const char *key, GVariant *v, GError **error)
{
  const char *s = g_variant_get_string (v, NULL);

  if (strcmp (s, "merge") == 0)
    spec->stderr_mode = ORCH_STDERR_MERGE;
  else if (strcmp (s, "separate") == 0)
    spec->stderr_mode = ORCH_STDERR_SEPARATE;
  else
    return invalid (error, key, _("must be merge or separate"));
  return TRUE;
}

static gboolean
parse_request_id (OrchSpec *spec, const char *key, GVariant *v, GError **error)
{
  g_free (spec->request_id);
  spec->request_id = g_variant_dup_string (v, NULL);
  return TRUE;
}

/* The patterns below, in C.  Strings from the bus are UTF-8 already;
 * one that is not matches nothing, as with GRegex. */
static gboolean
match_program (const char *s)
{
  return s[0] != '\0';
}

static gboolean
match_no_controls (const char *s)
{
  if (!g_utf8_validate (s, -1, NULL))
    return FALSE;
  for (; *s; s = g_utf8_next_char (s))
    {
      gunichar c = g_utf8_get_char (s);
      if (c <= 0x1f || (c >= 0x7f && c <= 0x9f))
        return FALSE;
    }
  return TRUE;
}

static gboolean
match_env_name (const char *s)
{
  gsize n = 0;

  if (!(g_ascii_isalpha (s[0]) || s[0] == '_'))
    return FALSE;
  for (; s[n]; n++)
    if (!(g_ascii_isalnum (s[n]) || s[n] == '_'))
      return FALSE;
  return n <= 255;
}

static gboolean
match_absolute (const char *s)
{
  return s[0] == '/';
}

static gboolean
match_printable_ascii (const char *s)
{
  for (; *s; s++)
    if (*s < '!' || *s > '~')
      return FALSE;
  return TRUE;
}

/* The spec's fields: key, D-Bus type, parser, then the bounds a value
 * must keep (OrchSpecField: .min/.max, .min_length/.max_length, .pattern
 * and what it means).  The one list: the parser checks the bounds before
 * the row's parser runs, and data/openapi.json's JobSpec states the same
 * (the "contract" test compares them).  A row may stop after its parser. */
#define SPEC_FIELDS(X)                                                                         \
  /* argv; its first element (the pattern's subject) is not empty */                           \
  X ("command", "as", parse_command, .min_length = 1, .pattern = "^[^\\x00]",                  \
     .match = match_program, .pattern_hint = N_ ("the program name (first element) is empty")) \
  X ("name", "s", parse_name, .min_length = 1, .max_length = 255,                              \
     .pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*$", .match = match_no_controls,                    \
     .pattern_hint = N_ ("must not contain control characters"))                               \
  /* the pattern is the variables' names' */                                                   \
  X ("env", "a{ss}", parse_env, .pattern = "^[A-Za-z_][A-Za-z0-9_]{0,254}$",                   \
     .match = match_env_name,                                                                  \
     .pattern_hint = N_ ("a variable name is letters, digits and _, not starting with a "      \
                         "digit, at most 255 long"))                                           \
  X ("cwd", "s", parse_cwd, .pattern = "^/", .match = match_absolute,                          \
     .pattern_hint = N_ ("must be an absolute path"))                                          \
  X ("user", "s", parse_user, .min_length = 1, .max_length = 256)                              \
  X ("restart", "s", parse_restart)                                                            \
  X ("restart_max", "u", parse_restart_max, .max = 1000000)                                    \
  X ("restart_delay_ms", "u", parse_restart_delay, .max = 3600 * 1000)                         \
  X ("stop_timeout_ms", "u", parse_stop_timeout, .min = 1, .max = 3600 * 1000)                 \
  X ("memory_max", "t", parse_memory_max, .min = ORCH_MIN_MEMORY_MAX)                          \
  X ("cpu_quota", "d", parse_cpu_quota, .min = 0.01, .max = ORCH_MAX_CPU_QUOTA)                \
  X ("tasks_max", "u", parse_tasks_max, .min = 1)                                              \
  X ("stderr", "s", parse_stderr)                                                              \
  /* a key a client makes up to retry a Create safely: printable, no                           \
   * spaces, so it reads well in logs (a UUID fits) */                                         \
  X ("request_id", "s", parse_request_id, .min_length = 1, .max_length = 128,                  \
     .pattern = "^[!-~]*$", .match = match_printable_ascii,                                    \
     .pattern_hint = N_ ("must be printable ASCII without spaces"))                            \
  X ("memory_high", "t", parse_memory_high, .min = ORCH_MIN_MEMORY_MAX)                        \
  X ("cpu_weight", "u", parse_weight, .min = 1, .max = ORCH_MAX_WEIGHT)                        \
  X ("io_weight", "u", parse_weight, .min = 1, .max = ORCH_MAX_WEIGHT)                         \
  X ("log_timestamps", "b", parse_log_timestamps)                                              \
  /* the config key's bounds: a day at most, 0 none for this job */                            \
  X ("memory_warn_before_s", "u", parse_memory_warn_before, .max = 86400)

/* The parser comes first among the variable arguments, so that a row
 * without bounds still gives the macro one. */
#define FIELD_ROW(key_, type_, ...) { .key = key_, .type = type_, .parse = __VA_ARGS__ },
static const OrchSpecField fields[] = { SPEC_FIELDS (FIELD_ROW) };

#define FIELD_KEY_TYPE(key, type, ...) key, type,
const char *const orch_spec_field_types[] = { SPEC_FIELDS (FIELD_KEY_TYPE) NULL };

const OrchSpecField *
orch_spec_fields (gsize *n_fields)
{
  *n_fields = G_N_ELEMENTS (fields);
  return fields;
}

/* A number's bound as the user reads it: 3600000, 0.01. */
static char *
bound_string (double d)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  return g_strdup (g_ascii_formatd (buf, sizeof buf, "%.15g", d));
}

static gboolean
check_number (const OrchSpecField *f, double d, GError **error)
{
  g_autofree char *lo = bound_string (f->min);
  g_autofree char *hi = bound_string (f->max);

  /* Written so that NaN fails too. */
  if ((f->max > 0 && !(d >= f->min && d <= f->max)) || !(d >= f->min))
    {
      g_autofree char *what = NULL;
      if (f->max > 0 && f->min > 0)
        what = g_strdup_printf (_("must be from %s to %s"), lo, hi);
      else if (f->max > 0)
        what = g_strdup_printf (_("must be at most %s"), hi);
      else
        what = g_strdup_printf (_("must be at least %s"), lo);
      return invalid (error, f->key, what);
    }
  return TRUE;
}

/* @name: the dictionary key checked, named in the refusal. */
static gboolean
check_pattern (const OrchSpecField *f, const char *s, const char *name, GError **error)
{
  g_autofree char *what = NULL;

  if (f->match == NULL || f->match (s))
    return TRUE;
  if (name == NULL)
    return invalid (error, f->key, _ (f->pattern_hint));
  what = g_strdup_printf (_("“%s”: %s"), name, _ (f->pattern_hint));
  return invalid (error, f->key, what);
}

static gboolean
check_length (const OrchSpecField *f, gsize n, GError **error)
{
  g_autofree char *what = NULL;

  if (n >= f->min_length && (f->max_length == 0 || n <= f->max_length))
    return TRUE;
  if (f->type[0] == 'a')
    return invalid (error, f->key, _("must not be empty"));
  if (f->max_length)
    what = g_strdup_printf (_("must be %u to %u characters long"), f->min_length, f->max_length);
  else
    what = g_strdup_printf (_("must be at least %u characters long"), f->min_length);
  return invalid (error, f->key, what);
}

/* The row's bounds, before its parser: numbers by value, strings by
 * length in characters and pattern, an array by its count and its first
 * element, a dictionary by its keys. */
static gboolean
check_bounds (const OrchSpecField *f, GVariant *v, GError **error)
{
  switch (f->type[0])
    {
    case 'u':
      return check_number (f, g_variant_get_uint32 (v), error);
    case 't':
      return check_number (f, (double) g_variant_get_uint64 (v), error);
    case 'd':
      return check_number (f, g_variant_get_double (v), error);
    case 's':
      {
        const char *s = g_variant_get_string (v, NULL);
        return check_length (f, (gsize) g_utf8_strlen (s, -1), error) &&
               check_pattern (f, s, NULL, error);
      }
    case 'a':
      if (!check_length (f, g_variant_n_children (v), error))
        return FALSE;
      if (g_variant_is_of_type (v, G_VARIANT_TYPE_STRING_ARRAY))
        {
          g_autoptr(GVariant) first = NULL;
          if (g_variant_n_children (v) == 0)
            return TRUE;
          first = g_variant_get_child_value (v, 0);
          return check_pattern (f, g_variant_get_string (first, NULL), NULL, error);
        }
      else
        {
          GVariantIter iter;
          const char *name;
          g_variant_iter_init (&iter, v);
          while (g_variant_iter_next (&iter, "{&s@s}", &name, NULL))
            if (!check_pattern (f, name, name, error))
              return FALSE;
        }
      return TRUE;
    default:
      return TRUE;
    }
}

OrchSpec *
orch_spec_from_variant (GVariant *dict, GError **error)
{
  g_autoptr(OrchSpec) spec = orch_spec_new ();
  GVariantIter iter;
  const char *key;
  GVariant *value;
  guint32 seen = 0;

  G_STATIC_ASSERT (G_N_ELEMENTS (fields) <= 32);
  if (!g_variant_is_of_type (dict, G_VARIANT_TYPE_VARDICT))
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                   _("the job spec must be of type a{sv}"));
      return NULL;
    }

  g_variant_iter_init (&iter, dict);
  while (g_variant_iter_loop (&iter, "{&sv}", &key, &value))
    {
      gsize i;

      for (i = 0; i < G_N_ELEMENTS (fields); i++)
        if (strcmp (fields[i].key, key) == 0)
          break;
      if (i == G_N_ELEMENTS (fields))
        {
          g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                       _("unknown spec field “%s”"), key);
          g_variant_unref (value);
          return NULL;
        }
      /* A key given twice would let a check read one value and the job
       * use the other (the run-as user, say). */
      if (seen & (1u << i))
        {
          g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                       _("spec field “%s” is given more than once"), key);
          g_variant_unref (value);
          return NULL;
        }
      seen |= 1u << i;
      if (!g_variant_is_of_type (value, G_VARIANT_TYPE (fields[i].type)))
        {
          g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                       _("spec field “%s” must be of type %s, not %s"), key,
                       fields[i].type, g_variant_get_type_string (value));
          g_variant_unref (value);
          return NULL;
        }
      if (!check_bounds (&fields[i], value, error) || !fields[i].parse (spec, key, value, error))
        {
          g_variant_unref (value);
          return NULL;
        }
    }

  if (spec->argv == NULL)
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                   _("spec field “command” is required"));
      return NULL;
    }
  if (spec->name == NULL)
    spec->name = default_name (spec->argv[0]);

  return g_steal_pointer (&spec);
}

gboolean
orch_spec_parse_field (OrchSpec *spec, const char *key, GVariant *value, GError **error)
{
  for (gsize i = 0; i < G_N_ELEMENTS (fields); i++)
    if (strcmp (fields[i].key, key) == 0)
      {
        if (!g_variant_is_of_type (value, G_VARIANT_TYPE (fields[i].type)))
          {
            g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                         _("spec field “%s” must be of type %s, not %s"), key, fields[i].type,
                         g_variant_get_type_string (value));
            return FALSE;
          }
        return check_bounds (&fields[i], value, error) && fields[i].parse (spec, key, value, error);
      }
  g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT, _("unknown spec field “%s”"), key);
  return FALSE;
}

static int
compare_strp (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

GVariant *
orch_spec_to_variant (const OrchSpec *s)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "command",
                         g_variant_new_strv ((const char *const *) s->argv, -1));
  g_variant_builder_add (&b, "{sv}", "name", g_variant_new_string (s->name));
  if (s->env)
    {
      GVariantBuilder eb;
      g_autofree gpointer *keys = NULL;
      guint n;

      /* Sorted, so the same spec always gives the same bytes. */
      keys = g_hash_table_get_keys_as_array (s->env, &n);
      qsort (keys, n, sizeof (gpointer), compare_strp);
      g_variant_builder_init (&eb, G_VARIANT_TYPE ("a{ss}"));
      for (guint i = 0; i < n; i++)
        g_variant_builder_add (&eb, "{ss}", keys[i], g_hash_table_lookup (s->env, keys[i]));
      g_variant_builder_add (&b, "{sv}", "env", g_variant_builder_end (&eb));
    }
  if (s->cwd)
    g_variant_builder_add (&b, "{sv}", "cwd", g_variant_new_string (s->cwd));
  if (s->user)
    g_variant_builder_add (&b, "{sv}", "user", g_variant_new_string (s->user));
  g_variant_builder_add (&b, "{sv}", "restart",
                         g_variant_new_string (orch_restart_policy_to_string (s->restart)));
  g_variant_builder_add (&b, "{sv}", "restart_max", g_variant_new_uint32 (s->restart_max));
  g_variant_builder_add (&b, "{sv}", "restart_delay_ms", g_variant_new_uint32 (s->restart_delay_ms));
  if (s->stop_timeout_ms)
    g_variant_builder_add (&b, "{sv}", "stop_timeout_ms", g_variant_new_uint32 (s->stop_timeout_ms));
  if (s->memory_max)
    g_variant_builder_add (&b, "{sv}", "memory_max", g_variant_new_uint64 (s->memory_max));
  if (s->cpu_quota > 0)
    g_variant_builder_add (&b, "{sv}", "cpu_quota", g_variant_new_double (s->cpu_quota));
  if (s->tasks_max)
    g_variant_builder_add (&b, "{sv}", "tasks_max", g_variant_new_uint32 (s->tasks_max));
  g_variant_builder_add (&b, "{sv}", "stderr",
                         g_variant_new_string (s->stderr_mode == ORCH_STDERR_SEPARATE ? "separate" : "merge"));
  if (s->request_id)
    g_variant_builder_add (&b, "{sv}", "request_id", g_variant_new_string (s->request_id));
  if (s->memory_high)
    g_variant_builder_add (&b, "{sv}", "memory_high", g_variant_new_uint64 (s->memory_high));
  if (s->cpu_weight)
    g_variant_builder_add (&b, "{sv}", "cpu_weight", g_variant_new_uint32 (s->cpu_weight));
  if (s->io_weight)
    g_variant_builder_add (&b, "{sv}", "io_weight", g_variant_new_uint32 (s->io_weight));
  if (s->log_timestamps)
    g_variant_builder_add (&b, "{sv}", "log_timestamps", g_variant_new_boolean (TRUE));
  if (s->memory_warn_before_set)
    g_variant_builder_add (&b, "{sv}", "memory_warn_before_s",
                           g_variant_new_uint32 (s->memory_warn_before_s));
  if (s->group_id)
    {
      g_variant_builder_add (&b, "{sv}", "group_id", g_variant_new_string (s->group_id));
      g_variant_builder_add (&b, "{sv}", "replica", g_variant_new_uint32 (s->replica));
    }
  return g_variant_builder_end (&b);
}

OrchSpec *
orch_spec_from_stored (GVariant *dict, GError **error)
{
  g_autofree char *group_id = NULL;
  guint32 replica = 0;
  GVariantBuilder b;
  GVariantIter iter;
  const char *key;
  GVariant *value;
  OrchSpec *spec;

  if (!g_variant_is_of_type (dict, G_VARIANT_TYPE_VARDICT))
    return orch_spec_from_variant (dict, error);
  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_iter_init (&iter, dict);
  while (g_variant_iter_loop (&iter, "{&sv}", &key, &value))
    if (strcmp (key, "group_id") == 0 && g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
      {
        g_free (group_id);
        group_id = g_variant_dup_string (value, NULL);
      }
    else if (strcmp (key, "replica") == 0 && g_variant_is_of_type (value, G_VARIANT_TYPE_UINT32))
      replica = g_variant_get_uint32 (value);
    else
      g_variant_builder_add (&b, "{sv}", key, value);
  spec = orch_spec_from_variant (g_variant_builder_end (&b), error);
  if (spec)
    {
      spec->group_id = g_steal_pointer (&group_id);
      spec->replica = replica;
    }
  return spec;
}
