/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Jobs.List's pages: where the page "after" a job begins, by a binary
 * search of the creation numbers, and List's keys. */
#include "basic/orch-error.h"
#include "core/orch-job-page.h"
#include "core/orch-job.h"

#include <string.h>

/* Items are their own numbers, as the manager's entries carry theirs. */
static guint64
seq_of (gconstpointer item)
{
  return GPOINTER_TO_SIZE (item);
}

/* The numbers 2, 4, 6, ..., 2n: gaps where items were removed. */
static GPtrArray *
evens (guint n)
{
  GPtrArray *order = g_ptr_array_new ();

  for (guint i = 1; i <= n; i++)
    g_ptr_array_add (order, GSIZE_TO_POINTER ((gsize) 2 * i));
  return order;
}

/* Every "after" lands on the first item above it: an item's own number,
 * a number removed from between two, before the first, past the last. */
static void
test_start (void)
{
  for (guint n = 0; n < 9; n++)
    {
      g_autoptr(GPtrArray) order = evens (n);
      for (guint64 after = 0; after <= 2 * n + 2; after++)
        {
          guint want = 0;
          while (want < order->len && seq_of (order->pdata[want]) <= after)
            want++;
          g_assert_cmpuint (orch_job_page_start (order, seq_of, after), ==, want);
        }
    }
}

/* Pages of 2 walk a list of 5 without a gap or a repeat, the next page
 * found from the last item seen. */
static void
test_pages (void)
{
  g_autoptr(GPtrArray) order = evens (5);
  g_autoptr(GString) seen = g_string_new (NULL);
  guint64 after = 0;
  guint pages = 0;

  for (;;)
    {
      guint start = orch_job_page_start (order, seq_of, after);
      guint end = MIN (start + 2, order->len);
      if (start == end)
        break;
      pages++;
      for (guint i = start; i < end; i++)
        g_string_append_printf (seen, "%" G_GUINT64_FORMAT ",", seq_of (order->pdata[i]));
      after = seq_of (order->pdata[end - 1]);
    }
  g_assert_cmpstr (seen->str, ==, "2,4,6,8,10,");
  g_assert_cmpuint (pages, ==, 3);
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
  g_test_add_func ("/job-page/start", test_start);
  g_test_add_func ("/job-page/pages", test_pages);
  g_test_add_func ("/job-page/fields-mask", test_fields_mask);
  return g_test_run ();
}
