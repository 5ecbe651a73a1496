/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* orchestratorctl schedule … and run --on-calendar, the built binary
 * against a real orchestratord on a private bus. */
#include "orch-test-daemon.h"

#include <string.h>
#include <sys/wait.h>

static OrchTestDaemon *d;

typedef struct {
  int status;
  char *out;
  char *err;
} Result;

static void
result_free (Result *r)
{
  g_free (r->out);
  g_free (r->err);
  g_free (r);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Result, result_free)

/* Runs orchestratorctl with @args (NULL-terminated) on the test bus. */
static Result *
ctl (const char *first, ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  Result *r = g_new0 (Result, 1);
  int wait_status;
  va_list ap;

  g_ptr_array_add (argv, g_strdup (g_getenv ("ORCHESTRATORCTL")));
  g_ptr_array_add (argv, g_strdup_printf ("--bus-address=%s", d->bus_address));
  va_start (ap, first);
  for (const char *a = first; a; a = va_arg (ap, const char *))
    g_ptr_array_add (argv, g_strdup (a));
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                               &r->out, &r->err, &wait_status, &error));
  g_assert_no_error (error);
  r->status = WIFEXITED (wait_status) ? WEXITSTATUS (wait_status) : -1;
  return r;
}

static void
test_next_like_systemd (void)
{
  static const char *const exprs[] = { "daily", "Mon *-*-* 10:00 Europe/Madrid", "*-02-29 12:00",
                                       "*-*~1", "Sat *-*-1..7 18:00:00",         "2020-01-01",
                                       NULL };
  g_autofree char *analyze = g_find_program_in_path ("systemd-analyze");

  if (analyze == NULL)
    {
      g_test_skip ("no systemd-analyze here");
      return;
    }
  for (guint i = 0; exprs[i]; i++)
    {
      g_autoptr(Result) mine = ctl ("schedule", "next", "-n", "4", "--base-time=1780000000",
                                    exprs[i], NULL);
      g_autofree char *theirs = NULL;
      g_autoptr(GError) error = NULL;
      const char *argv[] = { analyze,  "calendar", "--iterations=4", "--base-time=@1780000000",
                             exprs[i], NULL };
      int st;

      g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL,
                                   NULL, &theirs, NULL, &st, &error));
      g_assert_cmpint (mine->status, ==, 0);
      g_assert_cmpstr (mine->out, ==, theirs);
    }
  {
    g_autoptr(Result) bad = ctl ("schedule", "next", "Mon 25:00", NULL);
    g_assert_cmpint (bad->status, ==, 2);
    g_assert_nonnull (strstr (bad->err, "character 5"));
  }
  {
    g_autoptr(Result) cron = ctl ("schedule", "next", "--cron", "--base-time=1780000000",
                                  "30 4 * * 1-5", NULL);
    g_assert_cmpint (cron->status, ==, 0);
    g_assert_nonnull (strstr (cron->out, "Normalized form: 30 4 * * 1-5"));
    g_assert_nonnull (strstr (cron->out, "04:30:00"));
  }
}

static void
test_add_list_show_trigger_rm (void)
{
  g_autoptr(Result) add = ctl ("schedule", "add", "--name", "nightly", "--on-calendar",
                               "*-*-* 03:00:00 UTC", "--overlap", "queue", "--persistent", "--",
                               "/bin/sh", "-c", "echo hi", NULL);
  g_autofree char *id = NULL;
  g_autofree char *job = NULL;

  g_assert_cmpint (add->status, ==, 0);
  id = g_strstrip (g_strdup (add->out));
  g_assert_true (g_str_has_prefix (id, "sched_"));
  {
    g_autoptr(Result) list = ctl ("schedule", "list", NULL);
    g_assert_cmpint (list->status, ==, 0);
    g_assert_nonnull (strstr (list->out, id));
    g_assert_nonnull (strstr (list->out, "nightly"));
    g_assert_nonnull (strstr (list->out, "*-*-* 03:00:00 UTC"));
  }
  {
    g_autoptr(Result) show = ctl ("schedule", "show", "--json", id, NULL);
    g_assert_cmpint (show->status, ==, 0);
    g_assert_nonnull (strstr (show->out, "\"overlap\" : \"queue\""));
    g_assert_nonnull (strstr (show->out, "\"persistent\" : true"));
  }
  {
    g_autoptr(Result) trig = ctl ("schedule", "trigger", id, NULL);
    g_autoptr(GVariant) rec = NULL;
    g_assert_cmpint (trig->status, ==, 0);
    job = g_strstrip (g_strdup (trig->out));
    rec = orch_test_wait_state (d, job, "exited", 20000);
    g_assert_cmpstr (orch_test_rec_str (rec, "schedule_id"), ==, id);
  }
  {
    g_autoptr(Result) p = ctl ("schedule", "pause", id, NULL);
    g_autoptr(Result) show = ctl ("schedule", "show", id, NULL);
    g_assert_cmpint (p->status, ==, 0);
    g_assert_nonnull (strstr (show->out, "paused"));
    g_assert_nonnull (strstr (show->out, job));
  }
  {
    g_autoptr(Result) r = ctl ("schedule", "resume", id, NULL);
    g_assert_cmpint (r->status, ==, 0);
  }
  {
    g_autoptr(Result) rm = ctl ("schedule", "rm", id, NULL);
    g_autoptr(Result) gone = ctl ("schedule", "show", id, NULL);
    g_assert_cmpint (rm->status, ==, 0);
    g_assert_cmpint (gone->status, ==, 4);
  }
  orch_test_discard (d, job);
}

static void
test_run_on_calendar_and_errors (void)
{
  g_autoptr(Result) run = ctl ("run", "--name", "every5", "--on-calendar", "*:0/5", "--",
                               "/bin/true", NULL);
  g_autofree char *id = NULL;

  g_assert_cmpint (run->status, ==, 0);
  id = g_strstrip (g_strdup (run->out));
  g_assert_true (g_str_has_prefix (id, "sched_"));
  {
    g_autoptr(Result) show = ctl ("schedule", "show", id, NULL);
    g_assert_nonnull (strstr (show->out, "*:0/5"));
    g_assert_nonnull (strstr (show->out, "every5"));
  }
  {
    g_autoptr(Result) rm = ctl ("schedule", "rm", id, NULL);
    g_assert_cmpint (rm->status, ==, 0);
  }
  {
    g_autoptr(Result) bad = ctl ("schedule", "add", "--cron", "0 25 * * *", "--", "/bin/true",
                                 NULL);
    g_assert_cmpint (bad->status, ==, 2);
    g_assert_nonnull (strstr (bad->err, "cron"));
    g_assert_nonnull (strstr (bad->err, "character 3"));
  }
  {
    g_autoptr(Result) bad = ctl ("schedule", "add", "--every", "soon", "--", "/bin/true", NULL);
    g_assert_cmpint (bad->status, ==, 2);
  }
  {
    g_autoptr(Result) bad = ctl ("schedule", "fly", NULL);
    g_assert_cmpint (bad->status, ==, 2);
  }
  {
    g_autoptr(Result) list = ctl ("schedule", "list", "--json", NULL);
    g_assert_cmpint (list->status, ==, 0);
    g_assert_cmpstr (g_strstrip (list->out), ==, "[]");
  }
}

static const OrchTestCase tests[] = {
  { "/ctl-schedules/next-like-systemd", test_next_like_systemd },
  { "/ctl-schedules/add-list-show-trigger-rm", test_add_list_show_trigger_rm },
  { "/ctl-schedules/run-on-calendar-and-errors", test_run_on_calendar_and_errors },
  { NULL, NULL }
};

int
main (int argc, char **argv)
{
  const OrchTestProgram program = {
    .daemon = &d,
    .tests = tests,
  };

  g_setenv ("LC_ALL", "C.UTF-8", TRUE);
  g_unsetenv ("LANGUAGE");
  return orch_test_main (argc, argv, &program);
}
