/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The shim's read cache (orch-rest-cache.h): answers kept per generation
 * and age, bounded, and one fetch shared by the requests that miss. */
#include "rest/orch-rest-cache.h"

#include <string.h>

#define S G_USEC_PER_SEC

static GBytes *
text (const char *s)
{
  return g_bytes_new (s, strlen (s));
}

static void
check_body (GBytes *got, const char *want)
{
  g_assert_nonnull (got);
  g_assert_cmpmem (g_bytes_get_data (got, NULL), g_bytes_get_size (got), want, strlen (want));
}

static void
test_generation (void)
{
  g_autoptr(OrchRestCache) c = orch_rest_cache_new (8, 1024, S);
  g_autoptr(GBytes) a = text ("[1]");
  g_autoptr(GBytes) got = NULL;
  const char *type = NULL;
  guint64 g = orch_rest_cache_generation (c);

  g_assert_null (orch_rest_cache_lookup (c, "/jobs/?", 0, &type));
  g_assert_true (orch_rest_cache_store (c, "/jobs/?", g, 0, "application/json", a));
  got = orch_rest_cache_lookup (c, "/jobs/?", 10, &type);
  check_body (got, "[1]");
  g_assert_cmpstr (type, ==, "application/json");
  g_assert_null (orch_rest_cache_lookup (c, "/jobs/?state=running", 10, &type));

  /* A change drops what is kept, and an answer fetched before it is not
   * kept after it. */
  orch_rest_cache_invalidate (c);
  g_assert_cmpuint (orch_rest_cache_generation (c), !=, g);
  g_assert_null (orch_rest_cache_lookup (c, "/jobs/?", 20, &type));
  g_assert_false (orch_rest_cache_store (c, "/jobs/?", g, 20, "application/json", a));
  g_assert_null (orch_rest_cache_lookup (c, "/jobs/?", 30, &type));
}

static void
test_age (void)
{
  g_autoptr(OrchRestCache) c = orch_rest_cache_new (8, 1024, S);
  g_autoptr(GBytes) a = text ("x");
  g_autoptr(GBytes) got = NULL;
  const char *type;

  g_assert_true (orch_rest_cache_store (c, "k", orch_rest_cache_generation (c), 5 * S, "t", a));
  got = orch_rest_cache_lookup (c, "k", 6 * S - 1, &type);
  check_body (got, "x");
  g_assert_null (orch_rest_cache_lookup (c, "k", 6 * S, &type));
  /* Gone for good, not only hidden. */
  g_assert_null (orch_rest_cache_lookup (c, "k", 5 * S, &type));
  /* A clock that went back does not make an answer young again. */
  g_assert_true (orch_rest_cache_store (c, "k", orch_rest_cache_generation (c), 5 * S, "t", a));
  g_assert_null (orch_rest_cache_lookup (c, "k", 4 * S, &type));
}

static void
test_bounds (void)
{
  g_autoptr(OrchRestCache) c = orch_rest_cache_new (3, 10, S);
  guint64 g = orch_rest_cache_generation (c);
  g_autoptr(GBytes) four = text ("abcd");
  g_autoptr(GBytes) big = text ("0123456789a");
  const char *keys[] = { "a", "b", "c", "d" };
  const char *type;

  /* 11 bytes never fit in 10. */
  g_assert_false (orch_rest_cache_store (c, "big", g, 0, "t", big));
  /* Two of four bytes fit; the third pushes out the oldest. */
  for (int i = 0; i < 3; i++)
    g_assert_true (orch_rest_cache_store (c, keys[i], g, 0, "t", four));
  for (int i = 0; i < 3; i++)
    {
      g_autoptr(GBytes) got = orch_rest_cache_lookup (c, keys[i], 1, &type);
      g_assert_true ((got != NULL) == (i > 0));
    }
  /* Three one-byte answers: the count bound pushes out the oldest too. */
  g_autoptr(GBytes) one = text ("1");
  for (int i = 0; i < 4; i++)
    g_assert_true (orch_rest_cache_store (c, keys[i], g, 0, "t", one));
  for (int i = 0; i < 4; i++)
    {
      g_autoptr(GBytes) got = orch_rest_cache_lookup (c, keys[i], 1, &type);
      g_assert_true ((got != NULL) == (i > 0));
    }
  /* Storing a key again replaces it. */
  g_assert_true (orch_rest_cache_store (c, "b", g, 0, "u", four));
  {
    g_autoptr(GBytes) got = orch_rest_cache_lookup (c, "b", 1, &type);
    check_body (got, "abcd");
    g_assert_cmpstr (type, ==, "u");
  }
}

static void
test_shared_fetch (void)
{
  g_autoptr(OrchRestCache) c = orch_rest_cache_new (8, 1024, S);
  int leader, w1, w2, other, late, late_waiter;
  g_autoptr(GPtrArray) waiters = NULL;
  g_autoptr(GPtrArray) none = NULL;
  g_autoptr(GPtrArray) late_waiters = NULL;

  g_assert_false (orch_rest_cache_join (c, "/jobs/?", &leader));
  g_assert_true (orch_rest_cache_join (c, "/jobs/?", &w1));
  g_assert_true (orch_rest_cache_join (c, "/jobs/?", &w2));
  /* Another key is another fetch. */
  g_assert_false (orch_rest_cache_join (c, "/metrics?", &other));
  /* After a change, a request does not wait for a fetch asked before it. */
  orch_rest_cache_invalidate (c);
  g_assert_false (orch_rest_cache_join (c, "/jobs/?", &late));
  g_assert_true (orch_rest_cache_join (c, "/jobs/?", &late_waiter));

  waiters = orch_rest_cache_fetched (c, "/jobs/?", &leader);
  g_assert_cmpuint (waiters->len, ==, 2);
  g_assert_true (waiters->pdata[0] == &w1 && waiters->pdata[1] == &w2);
  late_waiters = orch_rest_cache_fetched (c, "/jobs/?", &late);
  g_assert_cmpuint (late_waiters->len, ==, 1);
  g_assert_true (late_waiters->pdata[0] == &late_waiter);
  none = orch_rest_cache_fetched (c, "/metrics?", &other);
  g_assert_cmpuint (none->len, ==, 0);
  /* All done: the next miss leads again. */
  g_assert_false (orch_rest_cache_join (c, "/jobs/?", &leader));
  g_ptr_array_unref (orch_rest_cache_fetched (c, "/jobs/?", &leader));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/rest-cache/generation", test_generation);
  g_test_add_func ("/rest-cache/age", test_age);
  g_test_add_func ("/rest-cache/bounds", test_bounds);
  g_test_add_func ("/rest-cache/shared-fetch", test_shared_fetch);
  return g_test_run ();
}
