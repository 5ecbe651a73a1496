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

typedef gboolean (*FieldParser) (OrchSpec *spec, const char *key, GVariant *v, GError **error);

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
  gsize n = 0;
  g_autofree const char **argv = g_variant_get_strv (v, &n);

  if (n == 0)
    return invalid (error, key, _("the command is empty"));
  if (argv[0][0] == '\0')
    return invalid (error, key, _("the program name (first element) is empty"));
  g_strfreev (spec->argv);
  spec->argv = g_variant_dup_strv (v, NULL);
  return TRUE;
}

static gboolean
parse_name (OrchSpec *spec, const char *key, GVariant *v, GError **error)
{
  const char *s = g_variant_get_string (v, NULL);
  gsize len = strlen (s);

  if (len == 0 || len > 255)
    return invalid (error, key, _("must be 1 to 255 characters long"));
  for (const char *p = s; *p; p = g_utf8_next_char (p))
    if (g_unichar_iscntrl (g_utf8_get_char (p)))
      return invalid (error, key, _("must not contain control characters"));
  g_free (spec->name);
  spec->name = g_strdup (s);
  return TRUE;
}

/* The program's file name, made into a name parse_name() accepts: it
 * ends up in records, logs and Prometheus labels like a given one. */
static char *
default_name (const char *argv0)
{
  g_autofree char *base = g_path_get_basename (argv0);
  GString *out = g_string_new (NULL);

  for (const char *p = base; *p && out->len < 252; p = g_utf8_next_char (p))
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
env_name_is_valid (const char *name)
{
  if (!(g_ascii_isalpha (name[0]) || name[0] == '_'))
    return FALSE;
  for (const char *p = name; *p; p++)
    if (!(g_ascii_isalnum (*p) || *p == '_'))
      return FALSE;
  return strlen (name) <= 255;
}

static gboolean
parse_env (OrchSpec *spec, const char *key, GVariant *v, GError **error)
{
  GVariantIter iter;
  const char *name, *value;
  g_autoptr(GHashTable) env = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  g_variant_iter_init (&iter, v);
  while (g_variant_iter_next (&iter, "{&s&s}", &name, &value))
    {
      if (!env_name_is_valid (name))
        {
          g_autofree char *what = g_strdup_printf (
              _("“%s” is not a valid variable name (letters, digits and _, not starting with a digit)"),
              name);
          return invalid (error, key, what);
        }
      g_hash_table_replace (env, g_strdup (name), g_strdup (value));
    }
  g_clear_pointer (&spec->env, g_hash_table_unref);
  spec->env = g_steal_pointer (&env);
  return TRUE;
}

static gboolean
parse_cwd (OrchSpec *spec, const char *key, GVariant *v, GError **error)
{
  const char *s = g_variant_get_string (v, NULL);

  if (!g_path_is_absolute (s))
    return invalid (error, key, _("must be an absolute path"));
  g_free (spec->cwd);
  spec->cwd = g_strdup (s);
  return TRUE;
}

static gboolean
parse_user (OrchSpec *spec, const char *key, GVariant *v, GError **error)
{
  const char *s = g_variant_get_string (v, NULL);

  if (*s == '\0' || strlen (s) > 256)
    return invalid (error, key, _("must be a user name or uid"));
  g_free (spec->user);
  spec->user = g_strdup (s);
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
  guint32 n = g_variant_get_uint32 (v);

  if (n > 1000000)
    return invalid (error, key, _("must be at most 1000000 (0 means no limit)"));
  spec->restart_max = n;
  return TRUE;
}

static gboolean
parse_restart_delay (OrchSpec *spec, const char *key, GVariant *v, GError **error)
{
  guint32 n = g_variant_get_uint32 (v);

  if (n > 3600 * 1000)
    return invalid (error, key, _("must be at most 3600000 (one hour)"));
  spec->restart_delay_ms = n;
  return TRUE;
}

static gboolean
parse_stop_timeout (OrchSpec *spec, const char *key, GVariant *v, GError **error)
{
  guint32 n = g_variant_get_uint32 (v);

  if (n < 1 || n > 3600 * 1000)
    return invalid (error, key, _("must be from 1 to 3600000 milliseconds"));
  spec->stop_timeout_ms = n;
  return TRUE;
}

static gboolean
parse_memory_max (OrchSpec *spec, const char *key, GVariant *v, GError **error)
{
  guint64 n = g_variant_get_uint64 (v);

  if (n < ORCH_MIN_MEMORY_MAX)
    return invalid (error, key, _("must be at least 1048576 bytes (1 MiB)"));
  spec->memory_max = n;
  return TRUE;
}

static gboolean
parse_cpu_quota (OrchSpec *spec, const char *key, GVariant *v, GError **error)
{
  double d = g_variant_get_double (v);

  if (!isfinite (d) || d < 0.01 || d > ORCH_MAX_CPU_QUOTA)
    return invalid (error, key, _("must be a number of cores from 0.01 to 4096"));
  spec->cpu_quota = d;
  return TRUE;
}

static gboolean
parse_tasks_max (OrchSpec *spec, const char *key, GVariant *v, GError **error)
{
  guint32 n = g_variant_get_uint32 (v);

  if (n < 1)
    return invalid (error, key, _("must be at least 1"));
  spec->tasks_max = n;
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

/* A key a client makes up to retry a Create safely: printable, no spaces,
 * so it reads well in logs (a UUID fits). */
static gboolean
parse_request_id (OrchSpec *spec, const char *key, GVariant *v, GError **error)
{
  const char *s = g_variant_get_string (v, NULL);
  gsize len = strlen (s);

  if (len == 0 || len > 128)
    return invalid (error, key, _("must be 1 to 128 characters long"));
  for (const char *p = s; *p; p++)
    if (!g_ascii_isgraph (*p))
      return invalid (error, key, _("must be printable ASCII without spaces"));
  g_free (spec->request_id);
  spec->request_id = g_strdup (s);
  return TRUE;
}

/* The spec's fields: key, D-Bus type, parser.  The one list; the parser
 * table and the exported key/type list both expand it. */
#define SPEC_FIELDS(X)                             \
  X ("command", "as", parse_command)               \
  X ("name", "s", parse_name)                      \
  X ("env", "a{ss}", parse_env)                    \
  X ("cwd", "s", parse_cwd)                        \
  X ("user", "s", parse_user)                      \
  X ("restart", "s", parse_restart)                \
  X ("restart_max", "u", parse_restart_max)        \
  X ("restart_delay_ms", "u", parse_restart_delay) \
  X ("stop_timeout_ms", "u", parse_stop_timeout)   \
  X ("memory_max", "t", parse_memory_max)          \
  X ("cpu_quota", "d", parse_cpu_quota)            \
  X ("tasks_max", "u", parse_tasks_max)            \
  X ("stderr", "s", parse_stderr)                  \
  X ("request_id", "s", parse_request_id)

#define FIELD_ROW(key, type, parse) { key, type, parse },
static const struct {
  const char *key;
  const char *type;
  FieldParser parse;
} fields[] = { SPEC_FIELDS (FIELD_ROW) };

#define FIELD_KEY_TYPE(key, type, parse) key, type,
const char *const orch_spec_field_types[] = { SPEC_FIELDS (FIELD_KEY_TYPE) NULL };

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
      if (!fields[i].parse (spec, key, value, error))
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
