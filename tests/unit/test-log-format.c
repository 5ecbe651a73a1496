/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Rendering log_timestamps records (orch-log-format.h). */
#include "basic/orch-error.h"
#include "basic/orch-log-format.h"

#include <string.h>
#include <unistd.h>

#define T1 "2026-12-03T04:06:40.123456Z"
#define T2 "2026-12-03T04:06:41.000001Z"
#define LOG                                      \
  T1 " hello\n" T1 "+ab\n" T2 "+cd\n" T2 " ef\n" \
     "--- orchestrator: marker ---\n" T2 " q\"\x01\xff\n"

static char *
show (OrchLogShow how, const char *in, gsize *ret_used)
{
  OrchLogFormatter f = { .show = how, .stream = "all" };
  GString *out = g_string_new (NULL);

  *ret_used = orch_log_format (&f, in, strlen (in), out, G_MAXSIZE, NULL);
  return g_string_free (out, FALSE);
}

static void
test_render (void)
{
  gsize used;
  g_autofree char *plain = show (ORCH_LOG_SHOW_PLAIN, LOG, &used);
  g_autofree char *stamped = show (ORCH_LOG_SHOW_TIMESTAMPS, LOG, &used);
  g_autofree char *json = show (ORCH_LOG_SHOW_JSON, LOG, &used);

  g_assert_cmpuint (used, ==, strlen (LOG));
  /* The job's bytes: fragments joined, an invalid byte replaced. */
  g_assert_cmpstr (plain, ==, "hello\nabcdef\n--- orchestrator: marker ---\nq\"\x01\xef\xbf\xbd\n");
  /* One time per line, the time its first fragment came. */
  g_assert_cmpstr (stamped, ==,
                   T1 " hello\n" T1 " abcdef\n--- orchestrator: marker ---\n" T2
                      " q\"\x01\xef\xbf\xbd\n");
  g_assert_cmpstr (json, ==,
                   "{\"time\":\"" T1 "\",\"stream\":\"all\",\"line\":\"hello\"}\n"
                   "{\"time\":\"" T1 "\",\"stream\":\"all\",\"line\":\"ab\",\"partial\":true}\n"
                   "{\"time\":\"" T2 "\",\"stream\":\"all\",\"line\":\"cd\",\"partial\":true}\n"
                   "{\"time\":\"" T2 "\",\"stream\":\"all\",\"line\":\"ef\"}\n"
                   "{\"time\":null,\"stream\":\"all\",\"line\":\"--- orchestrator: marker ---\"}\n"
                   "{\"time\":\"" T2
                   "\",\"stream\":\"all\",\"line\":\"q\\\"\\u0001\xef\xbf\xbd\"}\n");
}

static void
test_partial_and_full (void)
{
  OrchLogFormatter f = { .show = ORCH_LOG_SHOW_PLAIN, .stream = "all" };
  g_autoptr(GString) out = g_string_new (NULL);
  g_autoptr(GString) pending = g_string_new (NULL);
  const char *in = T1 " one\n" T1 " two\n" T1 " thr";
  gboolean full;
  gsize used;

  /* A record still without its newline is left for later. */
  used = orch_log_format (&f, in, strlen (in), out, G_MAXSIZE, &full);
  g_assert_cmpuint (used, ==, 2 * (27 + 5));
  g_assert_false (full);
  g_assert_cmpstr (out->str, ==, "one\ntwo\n");
  /* Room for one line only: the second waits, and says so. */
  g_string_truncate (out, 0);
  used = orch_log_format (&f, in, strlen (in), out, 5, &full);
  g_assert_cmpuint (used, ==, 27 + 5);
  g_assert_true (full);
  /* A follower feeding reads cut anywhere gets the same text. */
  g_string_truncate (out, 0);
  for (const char *p = in; *p; p++)
    orch_log_format_feed (&f, pending, p, 1, out);
  orch_log_format_feed (&f, pending, "ee\n", 3, out);
  g_assert_cmpstr (out->str, ==, "one\ntwo\nthree\n");
  g_assert_cmpuint (pending->len, ==, 0);
}

/* Pages through a file: every line once, a page that starts inside a
 * fragmented line does not stamp it again, tail counts records. */
static void
test_read_pages (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_autoptr(GString) all = g_string_new (NULL);
  int fd = g_file_open_tmp ("test-log-format-XXXXXX", &path, &error);
  OrchLogReadOptions o = { .max_bytes = 40, .show = ORCH_LOG_SHOW_TIMESTAMPS };
  g_autofree char *text = NULL;
  guint64 next = 0;

  g_assert_no_error (error);
  unlink (path);
  g_assert_cmpint (write (fd, LOG, strlen (LOG)), ==, (gssize) strlen (LOG));
  do
    {
      g_autofree char *page = NULL;
      o.offset = next;
      g_assert_true (orch_log_read_records_fd (fd, &o, "all", &page, &next, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (strlen (page), <=, 40);
      g_string_append (all, page);
      if (*page == '\0')
        break;
    }
  while (TRUE);
  g_assert_cmpstr (all->str, ==,
                   T1 " hello\n" T1 " abcdef\n--- orchestrator: marker ---\n" T2
                      " q\"\x01\xef\xbf\xbd\n");
  g_assert_cmpuint (next, ==, strlen (LOG));

  o.offset = 0;
  o.tail_lines = 2;
  o.max_bytes = 4096;
  o.show = ORCH_LOG_SHOW_PLAIN;
  g_assert_true (orch_log_read_records_fd (fd, &o, "all", &text, &next, &error));
  g_assert_cmpstr (text, ==, "--- orchestrator: marker ---\nq\"\x01\xef\xbf\xbd\n");
  g_clear_pointer (&text, g_free);

  /* Too small for the next record: an error naming max_bytes. */
  o.tail_lines = 0;
  o.max_bytes = 16;
  o.show = ORCH_LOG_SHOW_JSON;
  g_assert_false (orch_log_read_records_fd (fd, &o, "all", &text, &next, &error));
  g_assert_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "max_bytes"));
  close (fd);
}

static void
test_options (void)
{
  g_autoptr(GError) error = NULL;
  OrchLogReadOptions o;
  const char *stream = NULL;
  g_autoptr(GVariant) ts = g_variant_ref_sink (g_variant_new_parsed ("{'timestamps': <true>}"));
  g_autoptr(GVariant) js = g_variant_ref_sink (g_variant_new_parsed ("{'format': <'json'>}"));
  g_autoptr(GVariant) bad = g_variant_ref_sink (g_variant_new_parsed ("{'format': <'xml'>}"));

  g_assert_true (orch_log_read_options_parse (ts, 65536, &o, &stream, &error));
  g_assert_cmpint (o.show, ==, ORCH_LOG_SHOW_TIMESTAMPS);
  g_assert_true (orch_log_read_options_parse (js, 65536, &o, &stream, &error));
  g_assert_cmpint (o.show, ==, ORCH_LOG_SHOW_JSON);
  g_assert_false (orch_log_read_options_parse (bad, 65536, &o, &stream, &error));
  g_assert_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "format"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/log-format/render", test_render);
  g_test_add_func ("/log-format/partial-and-full", test_partial_and_full);
  g_test_add_func ("/log-format/read-pages", test_read_pages);
  g_test_add_func ("/log-format/options", test_options);
  return g_test_run ();
}
