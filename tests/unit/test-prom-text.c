/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The Prometheus text reader a group's autoscaler scrapes with. */
#include "basic/orch-prom-text.h"

#include <errno.h>
#include <string.h>

static int
sum (const char *text, const char *name, double *v)
{
  return orch_prom_text_sum (text, strlen (text), name, v);
}

static void
test_sum (void)
{
  const char *text = "# HELP queue_depth Jobs waiting.\n"
                     "# TYPE queue_depth gauge\n"
                     "queue_depth{queue=\"a\",note=\"x}y \\\"q\\\"\"} 3\n"
                     "queue_depth{queue=\"b\"} 4.5 1700000000000\r\n"
                     "queue_depth_total 100\n"
                     "other 7\n"
                     "  plain 2e3";
  double v = 0;

  g_assert_cmpint (sum (text, "queue_depth", &v), ==, 0);
  g_assert_cmpfloat (v, ==, 7.5);
  g_assert_cmpint (sum (text, "queue_depth_total", &v), ==, 0);
  g_assert_cmpfloat (v, ==, 100);
  g_assert_cmpint (sum (text, "plain", &v), ==, 0);
  g_assert_cmpfloat (v, ==, 2000);
  g_assert_cmpint (sum (text, "missing", &v), ==, -ENOENT);
  g_assert_cmpint (sum ("", "x", &v), ==, -ENOENT);
  g_assert_cmpint (sum ("x NaN\n", "x", &v), ==, -EBADMSG);
  g_assert_cmpint (sum ("x +Inf\n", "x", &v), ==, -EBADMSG);
  g_assert_cmpint (sum ("x{a=\"1\" 3\n", "x", &v), ==, -EBADMSG);
  g_assert_cmpint (sum ("x \n", "x", &v), ==, -EBADMSG);
  g_assert_cmpint (sum ("x 12abc\n", "x", &v), ==, -EBADMSG);
}

static void
test_names (void)
{
  g_assert_true (orch_prom_name_is_valid ("queue_depth"));
  g_assert_true (orch_prom_name_is_valid ("ns:req_rate5m"));
  g_assert_true (orch_prom_name_is_valid ("_x"));
  g_assert_false (orch_prom_name_is_valid (""));
  g_assert_false (orch_prom_name_is_valid ("9lives"));
  g_assert_false (orch_prom_name_is_valid ("a-b"));
  g_assert_false (orch_prom_name_is_valid ("a{b}"));
  g_assert_false (orch_prom_name_is_valid (NULL));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/prom-text/sum", test_sum);
  g_test_add_func ("/prom-text/names", test_names);
  return g_test_run ();
}
