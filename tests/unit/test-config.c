/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "basic/orch-config.h"
#include "basic/orch-error.h"

#include <string.h>

static void
assert_config_equal (const OrchConfig *a, const OrchConfig *b)
{
  g_assert_cmpstr (a->backend, ==, b->backend);
  g_assert_cmpstr (a->log_dir, ==, b->log_dir);
  g_assert_cmpstr (a->state_dir, ==, b->state_dir);
  g_assert_cmpstr (a->cgroup_root, ==, b->cgroup_root);
  g_assert_cmpuint (a->max_concurrent, ==, b->max_concurrent);
  g_assert_cmpuint (a->stop_timeout_ms, ==, b->stop_timeout_ms);
  g_assert_cmpstrv (a->deny, b->deny);
  g_assert_cmpuint (a->max_args, ==, b->max_args);
  g_assert_cmpuint (a->max_arg_bytes, ==, b->max_arg_bytes);
  g_assert_cmpuint (a->max_env, ==, b->max_env);
  g_assert_cmpuint (a->sample_interval_ms, ==, b->sample_interval_ms);
  g_assert_cmpuint (a->history_size, ==, b->history_size);
  g_assert_cmpuint (a->history_coarse_size, ==, b->history_coarse_size);
  g_assert_cmpuint (a->history_coarse_step_s, ==, b->history_coarse_step_s);
  g_assert_cmpuint (a->job_history_size, ==, b->job_history_size);
  g_assert_cmpuint (a->job_history_coarse_size, ==, b->job_history_coarse_size);
  g_assert_cmpuint (a->job_history_coarse_step_s, ==, b->job_history_coarse_step_s);
  g_assert_cmpuint (a->process_track_s, ==, b->process_track_s);
  g_assert_cmpuint (a->max_tracked_processes, ==, b->max_tracked_processes);
  g_assert_cmpuint (a->log_read_max_bytes, ==, b->log_read_max_bytes);
  g_assert_cmpuint (a->max_log_bytes, ==, b->max_log_bytes);
  g_assert_cmpuint (a->rotate_keep, ==, b->rotate_keep);
  g_assert_cmpint (a->durable, ==, b->durable);
  g_assert_cmpuint (a->keep_finished, ==, b->keep_finished);
  g_assert_cmpuint (a->keep_finished_days, ==, b->keep_finished_days);
  g_assert_cmpuint (a->keep_events, ==, b->keep_events);
  g_assert_cmpuint (a->pressure_threshold_us, ==, b->pressure_threshold_us);
  g_assert_cmpuint (a->pressure_window_us, ==, b->pressure_window_us);
  g_assert_cmpuint (a->memory_warn_before_s, ==, b->memory_warn_before_s);
  g_assert_cmpuint (a->memory_forecast_interval_s, ==, b->memory_forecast_interval_s);
  g_assert_cmpuint (a->recommend_interval_s, ==, b->recommend_interval_s);
  g_assert_cmpstr (a->rest_listen, ==, b->rest_listen);
  g_assert_cmpstr (a->rest_token_file, ==, b->rest_token_file);
  g_assert_cmpstrv (a->allow, b->allow);
  g_assert_cmpint (a->deny_device_writes, ==, b->deny_device_writes);
  g_assert_cmpstr (a->rest_auth, ==, b->rest_auth);
  g_assert_cmpstrv (a->rest_cors_origins, b->rest_cors_origins);
  g_assert_cmpuint (a->rest_max_header_bytes, ==, b->rest_max_header_bytes);
  g_assert_cmpstr (a->auth_group, ==, b->auth_group);
  g_assert_cmpstr (a->auth_read, ==, b->auth_read);
  g_assert_cmpint (a->auth_polkit, ==, b->auth_polkit);
}

/* The shipped file documents every key with its default, commented out:
 * uncommented, it must load and change nothing. */
static void
test_shipped_file_matches_defaults (void)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "..", "..", "data", "orchestrator.conf", NULL);
  g_autofree char *text = NULL;
  g_autoptr(GString) uncommented = g_string_new (NULL);
  g_autoptr(OrchConfig) defaults = orch_config_new ();
  g_autoptr(OrchConfig) loaded = orch_config_new ();
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) lines = NULL;
  guint keys = 0;

  g_assert_true (g_file_get_contents (path, &text, NULL, &error));
  lines = g_strsplit (text, "\n", -1);
  for (char **l = lines; *l; l++)
    {
      if ((*l)[0] == '#' && g_ascii_isalpha ((*l)[1]) && strchr (*l, '='))
        {
          g_string_append_printf (uncommented, "%s\n", *l + 1);
          keys++;
        }
      else
        g_string_append_printf (uncommented, "%s\n", *l);
    }
  g_assert_cmpuint (keys, ==, 41);
  g_assert_true (orch_config_load_data (loaded, uncommented->str, path, &error));
  g_assert_no_error (error);
  assert_config_equal (loaded, defaults);
}

static void
test_values (void)
{
  g_autoptr(OrchConfig) c = orch_config_new ();
  g_autoptr(GError) error = NULL;
  const char *text = "[daemon]\nbackend=cgroupfs\nlog_dir=/srv/logs\n"
                     "[jobs]\nmax_concurrent=3\ndeny=foo;bar baz*;\n"
                     "[forecast]\nrecommend_interval_s=300\n";

  g_assert_true (orch_config_load_data (c, text, "test.conf", &error));
  g_assert_no_error (error);
  g_assert_cmpstr (c->backend, ==, "cgroupfs");
  g_assert_cmpstr (c->log_dir, ==, "/srv/logs");
  g_assert_cmpuint (c->max_concurrent, ==, 3);
  g_assert_cmpstrv (c->deny, ((const char *const[]){ "foo", "bar baz*", NULL }));
  g_assert_cmpuint (c->recommend_interval_s, ==, 300);
}

static void
test_errors (void)
{
  const struct {
    const char *text;
    const char *needle;
  } cases[] = {
    { "[daemon]\nbackend=podman\n", "[daemon] backend" },
    { "[daemon]\nbakend=none\n", "unknown key “bakend”" },
    { "[demon]\nbackend=none\n", "unknown group [demon]" },
    { "[jobs]\nmax_concurrent=0\n", "[jobs] max_concurrent" },
    { "[jobs]\nmax_concurrent=many\n", "[jobs] max_concurrent" },
    { "[jobs]\nmax_concurrent=-1\n", "[jobs] max_concurrent" },
    { "[jobs]\nstop_timeout_ms=99999999999\n", "[jobs] stop_timeout_ms" },
    { "[daemon]\nlog_dir=relative/dir\n", "[daemon] log_dir" },
    { "not a key file", "my.conf" },
    { "[forecast]\nrecommend_interval_s=59\n", "[forecast] recommend_interval_s" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(OrchConfig) c = orch_config_new ();
      g_autoptr(OrchConfig) defaults = orch_config_new ();
      g_autoptr(GError) error = NULL;
      /* A good key before the bad one must not be applied either. */
      g_autofree char *text = g_strconcat ("[metrics]\nsample_interval_ms=500\n", cases[i].text, NULL);

      g_assert_false (orch_config_load_data (c, text, "my.conf", &error));
      g_assert_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (error->message, "my.conf"));
      g_assert_nonnull (strstr (error->message, cases[i].needle));
      assert_config_equal (c, defaults);
    }
}

static void
test_missing_file (void)
{
  g_autoptr(OrchConfig) c = orch_config_new ();
  g_autoptr(GError) error = NULL;

  g_assert_true (orch_config_load_file (c, "/nonexistent/orchestrator.conf", FALSE, &error));
  g_assert_no_error (error);
  g_assert_false (orch_config_load_file (c, "/nonexistent/orchestrator.conf", TRUE, &error));
  g_assert_nonnull (error);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/config/shipped-file", test_shipped_file_matches_defaults);
  g_test_add_func ("/config/values", test_values);
  g_test_add_func ("/config/errors", test_errors);
  g_test_add_func ("/config/missing-file", test_missing_file);
  return g_test_run ();
}
