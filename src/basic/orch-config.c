/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "orch-config.h"
#include "orch-error.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <string.h>

static const char *const default_deny[] = {
  "mkfs", "mkfs.*", "mke2fs", "mkswap", "wipefs", "fdisk", "sfdisk", "parted",
  "shutdown", "reboot", "halt", "poweroff", "init", "telinit",
  /* Globs: a star matches anything, so "rm -rf /<star>" would also refuse
   * "rm -rf /tmp/x"; only the exact forms are listed. */
  "rm -rf /", "rm -fr /", "rm -r /", "rm -rf --no-preserve-root /",
  "dd * of=/dev/*", "dd of=/dev/*",
  "blkdiscard", "shred /dev/*", "shred * /dev/*",
  NULL
};

OrchConfig *
orch_config_new (void)
{
  OrchConfig *c = g_new0 (OrchConfig, 1);

  c->backend = g_strdup ("auto");
  c->log_dir = g_strdup (ORCH_DEFAULT_LOG_DIR);
  c->state_dir = g_strdup (ORCH_DEFAULT_STATE_DIR);
  c->cgroup_root = g_strdup ("");
  c->max_concurrent = 64;
  c->stop_timeout_ms = 10000;
  c->deny = g_strdupv ((char **) default_deny);
  c->allow = g_new0 (char *, 1);
  c->deny_device_writes = TRUE;
  c->max_args = 4096;
  c->max_arg_bytes = 1024 * 1024;
  c->max_env = 1024;
  c->sample_interval_ms = 1000;
  c->history_size = 3600;
  c->history_coarse_size = 1440;
  c->history_coarse_step_s = 60;
  c->job_history_size = 300;
  c->job_history_coarse_size = 288;
  c->job_history_coarse_step_s = 300;
  c->process_track_s = 600;
  c->max_tracked_processes = 256;
  c->log_read_max_bytes = 1024 * 1024;
  c->max_log_bytes = 64 * 1024 * 1024;
  c->rotate_keep = 3;
  c->durable = TRUE;
  c->keep_finished = 1000;
  c->keep_finished_days = 30;
  c->keep_events = 10000;
  c->pressure_threshold_us = 150000;
  c->pressure_window_us = 1000000;
  c->memory_warn_before_s = 600;
  c->memory_forecast_interval_s = 60;
  c->recommend_interval_s = 3600;
  c->rest_listen = g_strdup ("127.0.0.1:8000");
  c->rest_token_file = g_strdup (ORCH_DEFAULT_TOKEN_FILE);
  c->rest_auth = g_strdup ("token");
  c->rest_cors_origins = g_new0 (char *, 1);
  c->rest_max_header_bytes = 16384;
  c->auth_group = g_strdup ("orchestrator");
  c->auth_read = g_strdup ("group");
  c->auth_polkit = TRUE;
  return c;
}

void
orch_config_free (OrchConfig *c)
{
  if (c == NULL)
    return;
  g_free (c->backend);
  g_free (c->log_dir);
  g_free (c->state_dir);
  g_free (c->cgroup_root);
  g_strfreev (c->deny);
  g_strfreev (c->allow);
  g_free (c->rest_listen);
  g_free (c->rest_token_file);
  g_free (c->rest_auth);
  g_strfreev (c->rest_cors_origins);
  g_free (c->auth_group);
  g_free (c->auth_read);
  g_free (c);
}

gboolean
orch_config_backend_is_valid (const char *backend)
{
  return g_strv_contains ((const char *const[]){ "auto", "systemd", "cgroupfs", "none", NULL },
                          backend);
}

typedef enum { KEY_STRING, KEY_PATH, KEY_UINT, KEY_UINT64, KEY_LIST, KEY_BACKEND, KEY_BOOL, KEY_CHOICE } KeyType;

typedef struct {
  const char *group;
  const char *key;
  KeyType type;
  gsize offset;
  guint64 min, max;
  const char *const *choices; /* KEY_CHOICE */
} KeyDef;

static const char *const rest_auth_choices[] = { "token", "none", NULL };
static const char *const auth_read_choices[] = { "group", "everyone", NULL };

#define OFF(f) G_STRUCT_OFFSET (OrchConfig, f)

static const KeyDef keys[] = {
  { "daemon", "backend", KEY_BACKEND, OFF (backend), 0, 0, NULL },
  { "daemon", "log_dir", KEY_PATH, OFF (log_dir), 0, 0, NULL },
  { "daemon", "state_dir", KEY_PATH, OFF (state_dir), 0, 0, NULL },
  { "daemon", "cgroup_root", KEY_STRING, OFF (cgroup_root), 0, 0, NULL },
  { "jobs", "max_concurrent", KEY_UINT, OFF (max_concurrent), 1, 100000, NULL },
  { "jobs", "stop_timeout_ms", KEY_UINT, OFF (stop_timeout_ms), 1, 3600 * 1000, NULL },
  { "jobs", "deny", KEY_LIST, OFF (deny), 0, 0, NULL },
  { "jobs", "allow", KEY_LIST, OFF (allow), 0, 0, NULL },
  { "jobs", "deny_device_writes", KEY_BOOL, OFF (deny_device_writes), 0, 0, NULL },
  { "jobs", "max_args", KEY_UINT, OFF (max_args), 1, 1 << 20, NULL },
  { "jobs", "max_arg_bytes", KEY_UINT, OFF (max_arg_bytes), 1, 64 << 20, NULL },
  { "jobs", "max_env", KEY_UINT, OFF (max_env), 0, 1 << 20, NULL },
  { "metrics", "sample_interval_ms", KEY_UINT, OFF (sample_interval_ms), 10, 3600 * 1000, NULL },
  { "metrics", "history_size", KEY_UINT, OFF (history_size), 0, 1000000, NULL },
  { "metrics", "history_coarse_size", KEY_UINT, OFF (history_coarse_size), 0, 1000000, NULL },
  { "metrics", "history_coarse_step_s", KEY_UINT, OFF (history_coarse_step_s), 1, 86400, NULL },
  { "metrics", "job_history_size", KEY_UINT, OFF (job_history_size), 0, 1000000, NULL },
  { "metrics", "job_history_coarse_size", KEY_UINT, OFF (job_history_coarse_size), 0, 1000000,
    NULL },
  { "metrics", "job_history_coarse_step_s", KEY_UINT, OFF (job_history_coarse_step_s), 1, 86400,
    NULL },
  { "metrics", "process_track_s", KEY_UINT, OFF (process_track_s), 1, 7 * 86400, NULL },
  { "metrics", "max_tracked_processes", KEY_UINT, OFF (max_tracked_processes), 0, 100000, NULL },
  { "logs", "max_read_bytes", KEY_UINT, OFF (log_read_max_bytes), 4096, 64 << 20, NULL },
  { "logs", "max_log_bytes", KEY_UINT64, OFF (max_log_bytes), 0, G_MAXINT64, NULL },
  { "logs", "rotate_keep", KEY_UINT, OFF (rotate_keep), 0, 100, NULL },
  { "state", "durable", KEY_BOOL, OFF (durable), 0, 0, NULL },
  { "state", "keep_finished", KEY_UINT, OFF (keep_finished), 0, 10000000, NULL },
  { "state", "keep_finished_days", KEY_UINT, OFF (keep_finished_days), 0, 100000, NULL },
  { "rest", "listen", KEY_STRING, OFF (rest_listen), 0, 0, NULL },
  { "rest", "token_file", KEY_STRING, OFF (rest_token_file), 0, 0, NULL },
  { "rest", "auth", KEY_CHOICE, OFF (rest_auth), 0, 0, rest_auth_choices },
  { "rest", "cors_origins", KEY_LIST, OFF (rest_cors_origins), 0, 0, NULL },
  { "rest", "max_header_bytes", KEY_UINT, OFF (rest_max_header_bytes), 1024, 1 << 20, NULL },
  { "auth", "group", KEY_STRING, OFF (auth_group), 0, 0, NULL },
  { "auth", "read", KEY_CHOICE, OFF (auth_read), 0, 0, auth_read_choices },
  { "auth", "polkit", KEY_BOOL, OFF (auth_polkit), 0, 0, NULL },
  { "state", "keep_events", KEY_UINT, OFF (keep_events), 1, 10000000, NULL },
  { "events", "pressure_threshold_us", KEY_UINT, OFF (pressure_threshold_us), 0, 10000000, NULL },
  { "events", "pressure_window_us", KEY_UINT, OFF (pressure_window_us), 500000, 10000000, NULL },
  { "events", "memory_warn_before_s", KEY_UINT, OFF (memory_warn_before_s), 0, 86400, NULL },
  { "events", "memory_forecast_interval_s", KEY_UINT, OFF (memory_forecast_interval_s), 1, 3600,
    NULL },
  /* ORCH_RECOMMEND_MIN/MAX_INTERVAL_S */
  { "forecast", "recommend_interval_s", KEY_UINT, OFF (recommend_interval_s), 60, 86400, NULL },
};

static const KeyDef *
find_key (const char *group, const char *key)
{
  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    if (strcmp (keys[i].group, group) == 0 && strcmp (keys[i].key, key) == 0)
      return &keys[i];
  return NULL;
}

static gboolean
group_is_known (const char *group)
{
  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    if (strcmp (keys[i].group, group) == 0)
      return TRUE;
  return FALSE;
}

static gboolean
apply_key (OrchConfig *config, GKeyFile *kf, const KeyDef *def,
           const char *origin, GError **error)
{
  gpointer field = G_STRUCT_MEMBER_P (config, def->offset);
  g_autoptr(GError) local = NULL;

  switch (def->type)
    {
    case KEY_STRING:
    case KEY_PATH:
    case KEY_BACKEND:
    case KEY_CHOICE:
      {
        g_autofree char *v = g_key_file_get_string (kf, def->group, def->key, &local);
        if (v == NULL)
          break;
        g_strstrip (v);
        if (def->type == KEY_PATH && !g_path_is_absolute (v))
          {
            g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                         _("%s: [%s] %s: “%s” is not an absolute path"),
                         origin, def->group, def->key, v);
            return FALSE;
          }
        if (def->type == KEY_BACKEND && !orch_config_backend_is_valid (v))
          {
            g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                         _("%s: [%s] %s: “%s” is not one of auto, systemd, cgroupfs, none"),
                         origin, def->group, def->key, v);
            return FALSE;
          }
        if (def->type == KEY_CHOICE && !g_strv_contains (def->choices, v))
          {
            g_autofree char *all = g_strjoinv (", ", (char **) def->choices);
            g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                         _("%s: [%s] %s: “%s” is not one of %s"),
                         origin, def->group, def->key, v, all);
            return FALSE;
          }
        g_free (*(char **) field);
        *(char **) field = g_steal_pointer (&v);
        return TRUE;
      }
    case KEY_BOOL:
      {
        gboolean b = g_key_file_get_boolean (kf, def->group, def->key, &local);
        if (local)
          break;
        *(gboolean *) field = b;
        return TRUE;
      }
    case KEY_UINT:
    case KEY_UINT64:
      {
        g_autofree char *v = g_key_file_get_string (kf, def->group, def->key, &local);
        guint64 n;
        if (v == NULL)
          break;
        g_strstrip (v);
        if (!g_ascii_string_to_unsigned (v, 10, def->min, def->max, &n, NULL))
          {
            /* Numbers as strings: xgettext cannot see through
             * G_GUINT64_FORMAT, so such a message would never be translated. */
            g_autofree char *lo = g_strdup_printf ("%" G_GUINT64_FORMAT, def->min);
            g_autofree char *hi = g_strdup_printf ("%" G_GUINT64_FORMAT, def->max);
            g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                         _("%s: [%s] %s: “%s” is not a whole number from %s to %s"),
                         origin, def->group, def->key, v, lo, hi);
            return FALSE;
          }
        if (def->type == KEY_UINT64)
          *(guint64 *) field = n;
        else
          *(guint *) field = (guint) n;
        return TRUE;
      }
    case KEY_LIST:
      {
        g_auto(GStrv) v = g_key_file_get_string_list (kf, def->group, def->key, NULL, &local);
        g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func (g_free);
        if (v == NULL)
          break;
        for (char **p = v; *p; p++)
          {
            g_strstrip (*p);
            if (**p != '\0')
              g_ptr_array_add (out, g_strdup (*p));
          }
        g_ptr_array_add (out, NULL);
        g_strfreev (*(char ***) field);
        *(char ***) field = (char **) g_ptr_array_steal (out, NULL);
        return TRUE;
      }
    }

  g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
               _("%s: [%s] %s: %s"), origin, def->group, def->key,
               local ? local->message : _("unreadable value"));
  return FALSE;
}

static gboolean
load_keyfile (OrchConfig *config, GKeyFile *kf, const char *origin, GError **error)
{
  g_auto(GStrv) groups = g_key_file_get_groups (kf, NULL);

  /* Check everything before applying anything, so a bad file changes nothing. */
  for (char **g = groups; *g; g++)
    {
      g_auto(GStrv) names = NULL;
      if (!group_is_known (*g))
        {
          g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                       _("%s: unknown group [%s]"), origin, *g);
          return FALSE;
        }
      names = g_key_file_get_keys (kf, *g, NULL, NULL);
      for (char **k = names; names && *k; k++)
        if (find_key (*g, *k) == NULL)
          {
            g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                         _("%s: [%s] unknown key “%s”"), origin, *g, *k);
            return FALSE;
          }
    }

  {
    g_autoptr(OrchConfig) scratch = orch_config_new ();
    for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
      if (g_key_file_has_key (kf, keys[i].group, keys[i].key, NULL) &&
          !apply_key (scratch, kf, &keys[i], origin, error))
        return FALSE;
  }

  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    if (g_key_file_has_key (kf, keys[i].group, keys[i].key, NULL))
      apply_key (config, kf, &keys[i], origin, NULL);
  return TRUE;
}

gboolean
orch_config_load_data (OrchConfig *config, const char *data, const char *origin,
                       GError **error)
{
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autoptr(GError) local = NULL;

  if (!g_key_file_load_from_data (kf, data, (gsize) -1, G_KEY_FILE_NONE, &local))
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT, "%s: %s",
                   origin, local->message);
      return FALSE;
    }
  return load_keyfile (config, kf, origin, error);
}

gboolean
orch_config_load_file (OrchConfig *config, const char *path, gboolean must_exist,
                       GError **error)
{
  g_autofree char *data = NULL;
  g_autoptr(GError) local = NULL;

  if (!g_file_get_contents (path, &data, NULL, &local))
    {
      if (!must_exist && g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return TRUE;
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT, "%s", local->message);
      return FALSE;
    }
  return orch_config_load_data (config, data, path, error);
}
