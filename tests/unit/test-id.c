/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "basic/orch-id.h"

#include <string.h>

static void
test_id_shape (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (1);
  /* 2026-11-27 22:35:12 UTC */
  g_autofree char *id = orch_job_id_new (1795818912LL * G_USEC_PER_SEC + 999, rand);

  g_assert_cmpuint (strlen (id), ==, ORCH_JOB_ID_LEN);
  g_assert_true (g_str_has_prefix (id, "job_20261127_223512_"));
  g_assert_true (orch_job_id_is_valid (id));
}

static void
test_id_unique (void)
{
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GRand) rand = g_rand_new_with_seed (42);

  /* Same second, different suffixes: collisions are rare, and the manager
   * retries the rest. */
  for (int i = 0; i < 1000; i++)
    g_hash_table_add (seen, orch_job_id_new (1795818912LL * G_USEC_PER_SEC, rand));
  g_assert_cmpuint (g_hash_table_size (seen), >=, 995);
}

static void
test_id_invalid (void)
{
  const char *bad[] = {
    "", "job", "../etc/passwd", "/etc/passwd", "job_20261127_223512_ABCDEF",
    "job_20261127_223512_abcde", "job_20261127_223512_abcdef0", "job-20261127-223512-abcdef",
    "job_2026112x_223512_abcdef", "job_20261127_223512_abcde/", "job_20261127_223512_../..",
    "xob_20261127_223512_abcdef", "job_20261127_223512_abcdeg",
  };
  g_autofree char *longid = g_strnfill (5000, 'a');

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    g_assert_false (orch_job_id_is_valid (bad[i]));
  g_assert_false (orch_job_id_is_valid (NULL));
  g_assert_false (orch_job_id_is_valid (longid));
  g_assert_true (orch_job_id_is_valid ("job_20261127_223512_abcdef"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/id/shape", test_id_shape);
  g_test_add_func ("/id/unique", test_id_unique);
  g_test_add_func ("/id/invalid", test_id_invalid);
  return g_test_run ();
}
