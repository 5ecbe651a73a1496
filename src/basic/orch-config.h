/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  char *backend;            /* auto|systemd|cgroupfs|none */
  char *log_dir;
  char *state_dir;
  char *cgroup_root;        /* cgroupfs backend: parent directory, "" = detect */
  guint max_concurrent;
  guint stop_timeout_ms;
  char **deny;              /* command deny patterns, see orch-policy.c */
  char **allow;             /* non-empty: only commands matching one run */
  gboolean deny_device_writes; /* refuse commands that write to block devices */
  guint max_args;
  guint max_arg_bytes;      /* all of argv together */
  guint max_env;
  guint sample_interval_ms;
  guint history_size;        /* samples kept at full rate per series */
  guint history_coarse_size; /* averaged buckets kept per series */
  guint history_coarse_step_s;
  guint job_history_size;    /* the same, per job */
  guint job_history_coarse_size;
  guint job_history_coarse_step_s;
  guint process_track_s;     /* a pid asked about is sampled this long */
  guint max_tracked_processes;
  guint log_read_max_bytes; /* hard cap on one Logs.Read */
  guint64 max_log_bytes;    /* rotate a job's log past this, 0 = never */
  guint rotate_keep;        /* rotated generations kept: <log>.1 .. .N */
  gboolean durable;         /* job records in SQLite under state_dir */
  guint keep_finished;      /* finished jobs kept, 0 = no limit */
  guint keep_finished_days; /* finished jobs older than this go, 0 = never */
  char *rest_listen;
  char *rest_token_file;
  char *rest_auth;          /* token|none */
  char **rest_cors_origins; /* empty: no CORS headers at all */
  guint rest_max_header_bytes;
  char *auth_group;         /* members may manage jobs, as root */
  char *auth_read;          /* group|everyone: who may List/Get/Read logs */
  gboolean auth_polkit;     /* ask polkit for callers outside the group */
  guint keep_events;        /* job events kept in the state (newest) */
  guint pressure_threshold_us;      /* PSI trigger per job: some stall, 0 = none */
  guint pressure_window_us;         /* ... within this window */
  guint memory_warn_before_s;       /* memory_forecast event this far ahead, 0 = off */
  guint memory_forecast_interval_s; /* how often running jobs are forecast for it */
  guint recommend_interval_s;       /* GetRecommendation's memory values hold this long */
} OrchConfig;

OrchConfig *orch_config_new (void);
void orch_config_free (OrchConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OrchConfig, orch_config_free)

/* Loads @path over the defaults in @config.  Unknown groups or keys and
 * malformed or out-of-range values are errors naming file, group and key.
 * A missing file is an error only when @must_exist. */
gboolean orch_config_load_file (OrchConfig *config,
                                const char *path,
                                gboolean must_exist,
                                GError **error);

/* Same, from memory (tests). @origin names the data in messages. */
gboolean orch_config_load_data (OrchConfig *config,
                                const char *data,
                                const char *origin,
                                GError **error);

gboolean orch_config_backend_is_valid (const char *backend);

G_END_DECLS
