/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Jobs.List's pages: "after" a job id and at most "limit" jobs, walking a
 * list of 5 jobs in pages of 2 without a gap or a repeat. */
#include "basic/orch-error.h"
#include "core/orch-job-page.h"
#include "core/orch-job.h"

#include <string.h>

static GPtrArray *
five_jobs (void)
{
  GPtrArray *jobs = g_ptr_array_new_with_free_func ((GDestroyNotify) orch_job_free);

  for (int i = 0; i < 5; i++)
    {
      g_autofree char *id = g_strdup_printf ("job_%d", i);
      OrchSpec *spec = orch_spec_new ();
      spec->argv = g_strdupv ((char **) (const char *const[]){ "true", NULL });
      g_ptr_array_add (jobs, orch_job_new (id, spec));
    }
  return jobs;
}

/* What orch_manager_list() gives: pointers, no references. */
static GPtrArray *
view (GPtrArray *all)
{
  GPtrArray *v = g_ptr_array_new ();

  for (guint i = 0; i < all->len; i++)
    g_ptr_array_add (v, all->pdata[i]);
  return v;
}

/* The ids of @jobs joined by ",". */
static char *
ids (GPtrArray *jobs)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < jobs->len; i++)
    g_string_append_printf (s, "%s%s", i ? "," : "", ((OrchJob *) jobs->pdata[i])->id);
  return g_string_free (s, FALSE);
}

static void
test_pages (void)
{
  const char *const want[] = { "job_0,job_1", "job_2,job_3", "job_4", "" };
  g_autofree char *after = NULL;

  for (gsize p = 0; p < G_N_ELEMENTS (want); p++)
    {
      g_autoptr(GPtrArray) all = five_jobs ();
      g_autoptr(GPtrArray) jobs = view (all);
      g_autoptr(GError) error = NULL;
      g_autofree char *got = NULL;

      g_assert_true (orch_job_page (jobs, after, 2, &error));
      g_assert_no_error (error);
      got = ids (jobs);
      g_assert_cmpstr (got, ==, want[p]);
      if (jobs->len > 0)
        {
          g_free (after);
          after = g_strdup (((OrchJob *) jobs->pdata[jobs->len - 1])->id);
        }
    }
}

static void
test_whole_and_errors (void)
{
  g_autoptr(GPtrArray) all = five_jobs ();
  g_autoptr(GPtrArray) jobs = view (all);
  g_autoptr(GError) error = NULL;

  /* No limit, no after: all of it. */
  g_assert_true (orch_job_page (jobs, NULL, 0, &error));
  g_assert_cmpuint (jobs->len, ==, 5);
  g_assert_true (orch_job_page (jobs, "", 0, &error));
  g_assert_cmpuint (jobs->len, ==, 5);
  /* After the last: empty.  A limit past the end: the rest. */
  g_assert_true (orch_job_page (jobs, "job_2", 100, &error));
  g_assert_cmpuint (jobs->len, ==, 2);
  /* An id not in the list: an error naming it, the list unchanged. */
  g_assert_false (orch_job_page (jobs, "job_9", 1, &error));
  g_assert_error (error, ORCH_ERROR, ORCH_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "job_9"));
  g_assert_cmpuint (jobs->len, ==, 2);
}

/* List's keys: a bit per record field asked for, all for none given. */
static void
test_fields_mask (void)
{
  g_autoptr(GError) error = NULL;
  gsize n;
  const OrchJobField *fields = orch_job_fields (&n);
  guint64 mask = 0;
  const char *two[] = { "state", "id", NULL };
  const char *bad[] = { "id", "colour", NULL };
  const char *none[] = { NULL };

  g_assert_true (orch_job_fields_mask (NULL, &mask, &error));
  g_assert_cmphex (mask, ==, ORCH_JOB_FIELDS_ALL);
  g_assert_true (orch_job_fields_mask (two, &mask, &error));
  for (gsize i = 0; i < n; i++)
    g_assert_cmpint (!!(mask & (G_GUINT64_CONSTANT (1) << i)), ==,
                     strcmp (fields[i].key, "id") == 0 || strcmp (fields[i].key, "state") == 0);
  g_assert_true (orch_job_fields_mask (none, &mask, &error));
  g_assert_cmphex (mask, ==, 0);
  mask = 42;
  g_assert_false (orch_job_fields_mask (bad, &mask, &error));
  g_assert_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "colour"));
  g_assert_cmphex (mask, ==, 42);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/job-page/pages", test_pages);
  g_test_add_func ("/job-page/whole-and-errors", test_whole_and_errors);
  g_test_add_func ("/job-page/fields-mask", test_fields_mask);
  return g_test_run ();
}
