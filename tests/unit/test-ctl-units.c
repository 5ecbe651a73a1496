/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* orchestratorctl's human units: sizes, durations, cores, signals. */
#include "ctl/orch-ctl-units.h"

#include <signal.h>

static void
test_parse_size (void)
{
  static const struct {
    const char *text;
    guint64 bytes;
  } good[] = {
    { "0", 0 }, { "4096", 4096 }, { "512B", 512 }, { "1K", 1024 }, { "1k", 1024 }, { "2KiB", 2048 },
    { "512M", G_GUINT64_CONSTANT (536870912) }, { "512MB", G_GUINT64_CONSTANT (536870912) },
    { "1.5G", G_GUINT64_CONSTANT (1610612736) }, { "1G", G_GUINT64_CONSTANT (1073741824) },
    { "0.5K", 512 }, { "2T", G_GUINT64_CONSTANT (2199023255552) }, { "1E", G_GUINT64_CONSTANT (1152921504606846976) },
  };
  static const char *const bad[] = { "", "M", "-1", "-1M", "1.5.2G", "12Q", "1 G", " 1G", "1GG", "0x10",
                                     "inf", "nan", "1e3", "16E", "99999999999999999999", "1Mi", "1iB", NULL };

  for (gsize i = 0; i < G_N_ELEMENTS (good); i++)
    {
      guint64 v = 1;
      g_assert_true (orch_ctl_parse_size (good[i].text, &v));
      g_assert_cmpuint (v, ==, good[i].bytes);
    }
  for (const char *const *b = bad; *b; b++)
    {
      guint64 v = 7;
      if (orch_ctl_parse_size (*b, &v))
        g_error ("“%s” was taken as %" G_GUINT64_FORMAT, *b, v);
      g_assert_cmpuint (v, ==, 7); /* untouched on failure */
    }
  g_assert_false (orch_ctl_parse_size (NULL, NULL));
}

static void
test_parse_duration (void)
{
  static const struct {
    const char *text;
    guint64 usec;
  } good[] = {
    { "0", 0 }, { "30", 30000000 }, { "30s", 30000000 }, { "1.5s", 1500000 }, { "250ms", 250000 },
    { "10us", 10 }, { "2m", 120000000 }, { "2min", 120000000 }, { "1h", G_GUINT64_CONSTANT (3600000000) },
    { "1.5h", G_GUINT64_CONSTANT (5400000000) }, { "7d", G_GUINT64_CONSTANT (604800000000) },
    { "1w", G_GUINT64_CONSTANT (604800000000) }, { "1h30min", G_GUINT64_CONSTANT (5400000000) },
    { "1h 30min", G_GUINT64_CONSTANT (5400000000) }, { "2 days", G_GUINT64_CONSTANT (172800000000) },
    { "1min 1s", 61000000 },
  };
  static const char *const bad[] = { "", " ", "s", "7x", "-1s", "1h30", "30 40", "1.2.3s", "1e3s", "inf",
                                     "5 parsecs", "99999999999999999999w", NULL };

  for (gsize i = 0; i < G_N_ELEMENTS (good); i++)
    {
      guint64 v = 1;
      if (!orch_ctl_parse_duration (good[i].text, &v))
        g_error ("“%s” was refused", good[i].text);
      g_assert_cmpuint (v, ==, good[i].usec);
    }
  for (const char *const *b = bad; *b; b++)
    {
      guint64 v = 7;
      if (orch_ctl_parse_duration (*b, &v))
        g_error ("“%s” was taken as %" G_GUINT64_FORMAT, *b, v);
    }
}

static void
test_parse_cores_signal (void)
{
  double c = 0;
  int s = 0;

  g_assert_true (orch_ctl_parse_cores ("0.5", &c));
  g_assert_cmpfloat (c, ==, 0.5);
  g_assert_true (orch_ctl_parse_cores ("150%", &c));
  g_assert_cmpfloat (c, ==, 1.5);
  g_assert_true (orch_ctl_parse_cores ("2", &c));
  g_assert_cmpfloat (c, ==, 2);
  for (const char *const *b = (const char *const[]){ "", "0", "-1", "0%", "1%%", "abc", "1.5x", NULL }; *b; b++)
    g_assert_false (orch_ctl_parse_cores (*b, &c));

  g_assert_true (orch_ctl_parse_signal ("TERM", &s));
  g_assert_cmpint (s, ==, SIGTERM);
  g_assert_true (orch_ctl_parse_signal ("SIGKILL", &s));
  g_assert_cmpint (s, ==, SIGKILL);
  g_assert_true (orch_ctl_parse_signal ("hup", &s));
  g_assert_cmpint (s, ==, SIGHUP);
  g_assert_true (orch_ctl_parse_signal ("9", &s));
  g_assert_cmpint (s, ==, 9);
  for (const char *const *b = (const char *const[]){ "", "0", "65", "SIG", "FOO", "-9", "9x", NULL }; *b; b++)
    g_assert_false (orch_ctl_parse_signal (*b, &s));
}

static void
test_format_size (void)
{
  static const struct {
    guint64 bytes;
    const char *text;
  } cases[] = {
    { 0, "0B" }, { 1023, "1023B" }, { 1024, "1K" }, { 1536, "1.5K" }, { 10 * 1024, "10K" },
    { 1048575, "1M" }, { G_GUINT64_CONSTANT (536870912), "512M" }, { G_GUINT64_CONSTANT (1610612736), "1.5G" },
    { G_GUINT64_CONSTANT (3229614080), "3G" }, { G_MAXUINT64, "16E" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *s = orch_ctl_format_size (cases[i].bytes);
      g_assert_cmpstr (s, ==, cases[i].text);
    }
  /* What is printed parses back to about the same. */
  for (guint64 b = 1; b < G_GUINT64_CONSTANT (1) << 50; b = b * 3 + 7)
    {
      g_autofree char *s = orch_ctl_format_size (b);
      guint64 back = 0;
      g_assert_true (orch_ctl_parse_size (s, &back));
      g_assert_cmpfloat (ABS ((double) back - (double) b) / (double) b, <, 0.06);
    }
}

static void
test_format_duration (void)
{
  static const struct {
    guint64 usec;
    const char *text;
  } cases[] = {
    { 0, "0ms" }, { 250000, "250ms" }, { 1000000, "1s" }, { 42000000, "42s" }, { 60000000, "1min" },
    { 303000000, "5min 3s" }, { G_GUINT64_CONSTANT (7500000000), "2h 5min" },
    { G_GUINT64_CONSTANT (288000000000), "3d 8h" }, { G_GUINT64_CONSTANT (604800000000), "7d" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *s = orch_ctl_format_duration (cases[i].usec);
      guint64 back = 0;
      g_assert_cmpstr (s, ==, cases[i].text);
      g_assert_true (orch_ctl_parse_duration (s, &back));
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ctl-units/parse-size", test_parse_size);
  g_test_add_func ("/ctl-units/parse-duration", test_parse_duration);
  g_test_add_func ("/ctl-units/parse-cores-signal", test_parse_cores_signal);
  g_test_add_func ("/ctl-units/format-size", test_format_size);
  g_test_add_func ("/ctl-units/format-duration", test_format_duration);
  return g_test_run ();
}
