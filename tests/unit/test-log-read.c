/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "basic/orch-error.h"
#include "basic/orch-log-read.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define R "\xef\xbf\xbd" /* U+FFFD */

/* An unlinked temporary file holding @len bytes of @data. */
static int
temp_file (const void *data, gsize len)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  int fd = g_file_open_tmp ("test-log-read-XXXXXX", &path, &error);

  g_assert_no_error (error);
  g_assert_cmpint (unlink (path), ==, 0);
  if (len > 0)
    g_assert_cmpint (pwrite (fd, data, len, 0), ==, (gssize) len);
  return fd;
}

static void
append (int fd, const void *data, gsize len)
{
  struct stat st;

  g_assert_cmpint (fstat (fd, &st), ==, 0);
  g_assert_cmpint (pwrite (fd, data, len, st.st_size), ==, (gssize) len);
}

static guint64
file_size (int fd)
{
  struct stat st;

  g_assert_cmpint (fstat (fd, &st), ==, 0);
  return (guint64) st.st_size;
}

/* Checks what every successful read must hold. */
static void
check_text (const char *text, guint32 max_bytes)
{
  g_assert_nonnull (text);
  g_assert_cmpuint (strlen (text), <=, max_bytes);
  g_assert_true (g_utf8_validate (text, -1, NULL));
}

static char *
read_page (int fd, guint64 offset, guint32 max_bytes, guint64 *ret_next)
{
  OrchLogReadOptions opts = { .offset = offset, .max_bytes = max_bytes };
  g_autoptr(GError) error = NULL;
  char *text = NULL;

  g_assert_true (orch_log_read_fd (fd, &opts, &text, ret_next, &error));
  g_assert_no_error (error);
  check_text (text, max_bytes);
  return text;
}

static char *
read_tail (int fd, guint32 lines, guint32 max_bytes, guint64 *ret_next)
{
  OrchLogReadOptions opts = { .offset = 12345, .tail_lines = lines, .max_bytes = max_bytes };
  g_autoptr(GError) error = NULL;
  char *text = NULL;

  g_assert_true (orch_log_read_fd (fd, &opts, &text, ret_next, &error));
  g_assert_no_error (error);
  check_text (text, max_bytes);
  return text;
}

/* Pages from 0 until no progress; returns the concatenation. */
static char *
page_all (int fd, guint32 max_bytes, guint64 *ret_end)
{
  GString *all = g_string_new (NULL);
  guint64 offset = 0;

  for (;;)
    {
      guint64 next = G_MAXUINT64;
      g_autofree char *text = read_page (fd, offset, max_bytes, &next);

      g_assert_cmpuint (next, >=, offset);
      if (next == offset)
        {
          g_assert_cmpstr (text, ==, "");
          break;
        }
      g_string_append (all, text);
      offset = next;
    }
  *ret_end = offset;
  return g_string_free (all, FALSE);
}

/* The whole input through the sanitizer in one go, as a reader that is
 * not at the final end of the file sees it. */
static char *
sanitize_all (const char *data, gsize len, gboolean final, gsize *ret_consumed)
{
  char *out = g_malloc (len * 3 + 1);
  gsize out_len = 0;
  gsize consumed = orch_log_utf8_sanitize (data, len, final, out, len * 3, &out_len);

  out[out_len] = '\0';
  if (ret_consumed)
    *ret_consumed = consumed;
  return out;
}

static void
test_sanitize_rules (void)
{
  static const struct {
    const char *in;
    gsize len;
    gboolean final;
    const char *out;
    gsize consumed;
  } cases[] = {
    { "plain ñ € 😀", sizeof "plain ñ € 😀" - 1, FALSE, "plain ñ € 😀", sizeof "plain ñ € 😀" - 1 },
    { "\xff", 1, FALSE, R, 1 },
    { "a\xc3" "b", 3, FALSE, "a" R "b", 3 },
    { "\xc0\xaf", 2, FALSE, R R, 2 },                  /* overlong '/' */
    { "\xe2\x82" "A", 3, FALSE, R "A", 3 },            /* one maximal subpart */
    { "\xed\xa0\x80", 3, FALSE, R R R, 3 },            /* surrogate */
    { "\xf4\x90\x80\x80", 4, FALSE, R R R R, 4 },      /* above U+10FFFF */
    { "\x80\x80", 2, FALSE, R R, 2 },
    { "a\0b", 3, FALSE, "a" R "b", 3 },                /* NUL cannot go in a C string */
    { "\xe2\x82", 2, FALSE, "", 0 },                   /* may be half-written */
    { "\xe2\x82", 2, TRUE, R, 2 },
    { "x\xf0\x9f\x98", 4, FALSE, "x", 1 },
    { "x\xf0\x9f\x98", 4, TRUE, "x" R, 4 },
    { "\xe0\x80", 2, FALSE, R R, 2 },                  /* can never be valid: not kept */
    { "\xf5", 1, FALSE, R, 1 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      gsize consumed;
      g_autofree char *out = sanitize_all (cases[i].in, cases[i].len, cases[i].final, &consumed);

      g_test_message ("case %" G_GSIZE_FORMAT, i);
      g_assert_cmpstr (out, ==, cases[i].out);
      g_assert_cmpuint (consumed, ==, cases[i].consumed);
    }
}

static void
test_sanitize_max_out (void)
{
  char in[100], out[64];
  gsize out_len = 99, consumed;

  memset (in, 0xff, sizeof in);
  consumed = orch_log_utf8_sanitize (in, sizeof in, TRUE, out, 16, &out_len);
  g_assert_cmpuint (consumed, ==, 5);
  g_assert_cmpuint (out_len, ==, 15);

  /* A character that does not fit is not split. */
  consumed = orch_log_utf8_sanitize ("ab€", 5, FALSE, out, 4, &out_len);
  g_assert_cmpuint (consumed, ==, 2);
  g_assert_cmpuint (out_len, ==, 2);

  consumed = orch_log_utf8_sanitize ("€", 3, FALSE, out, 0, &out_len);
  g_assert_cmpuint (consumed, ==, 0);
  g_assert_cmpuint (out_len, ==, 0);
}

static char *
mixed_lines (guint n)
{
  static const char *const extra[] = { "ñ", "€ x", "😀😀", "plain", "ñ€😀", "" };
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < n; i++)
    g_string_append_printf (s, "%06u %s\n", i, extra[i % G_N_ELEMENTS (extra)]);
  return g_string_free (s, FALSE);
}

static void
test_page_mixed (void)
{
  static const guint32 sizes[] = { 4096, 17, 4097, ORCH_LOG_READ_MIN_BYTES, 1 << 20 };
  g_autofree char *content = mixed_lines (100000);
  gsize len = strlen (content);
  int fd = temp_file (content, len);

  for (gsize i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      guint64 end;
      g_autofree char *all = page_all (fd, sizes[i], &end);

      g_test_message ("max_bytes %u", sizes[i]);
      g_assert_cmpuint (end, ==, len);
      g_assert_true (strcmp (all, content) == 0);
    }
  close (fd);
}

static void
test_page_full_pages (void)
{
  g_autofree char *content = mixed_lines (1000);
  int fd = temp_file (content, strlen (content));
  guint64 next;
  g_autofree char *text = read_page (fd, 0, 4096, &next);

  /* Valid text fills a page but for a character that does not fit. */
  g_assert_cmpuint (strlen (text), >, 4096 - 4);
  g_assert_cmpuint (next, ==, strlen (text));
  close (fd);
}

static void
test_page_invalid (void)
{
  static const guint32 sizes[] = { 16, 17, 18, 4096, 4097 };
  GString *s = g_string_new (NULL);
  g_autofree char *content = NULL;
  gsize len;
  int fd;

  for (guint i = 0; i < 5000; i++)
    {
      g_string_append_printf (s, "%u ñ", i);
      switch (i % 5)
        {
        case 0: g_string_append_c (s, '\xff'); break;
        case 1: g_string_append (s, "a\xc3" "b"); break;
        case 2: g_string_append (s, "\xc0\xaf"); break;
        case 3: g_string_append (s, "\xe2\x82" "x"); break;
        default: g_string_append_len (s, "\0\xed\xa0\x80", 4); break;
        }
      g_string_append (s, " 😀\n");
    }
  g_string_append (s, "\xe2\x82"); /* truncated at the end of the file */
  len = s->len;
  content = g_string_free (s, FALSE);
  fd = temp_file (content, len);

  for (gsize i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      guint64 end;
      gsize consumed;
      g_autofree char *expected = sanitize_all (content, len, FALSE, &consumed);
      g_autofree char *all = page_all (fd, sizes[i], &end);

      g_test_message ("max_bytes %u", sizes[i]);
      g_assert_true (strcmp (all, expected) == 0);
      /* The half-written "€" stays for later. */
      g_assert_cmpuint (end, ==, len - 2);
      g_assert_cmpuint (consumed, ==, len - 2);
    }
  close (fd);
}

static void
test_page_all_invalid (void)
{
  char content[10000];
  int fd;

  memset (content, 0xff, sizeof content);
  fd = temp_file (content, sizeof content);

  for (guint32 max = ORCH_LOG_READ_MIN_BYTES; max <= 20; max++)
    {
      guint64 end, next;
      g_autofree char *all = page_all (fd, max, &end);
      g_autofree char *first = read_page (fd, 0, max, &next);

      g_assert_cmpuint (end, ==, sizeof content);
      g_assert_cmpuint (strlen (all), ==, sizeof content * 3);
      g_assert_cmpuint (strlen (first), ==, max / 3 * 3);
      g_assert_cmpuint (next, ==, max / 3);
      for (gsize i = 0; i < sizeof content; i++)
        g_assert_true (memcmp (all + i * 3, R, 3) == 0);
    }
  close (fd);
}

static void
test_page_incomplete_tail (void)
{
  int fd = temp_file ("abc\xe2\x82", 5);
  guint64 next;
  g_autofree char *a = read_page (fd, 0, 4096, &next);
  g_autofree char *b = NULL, *c = NULL, *d = NULL, *e = NULL;

  g_assert_cmpstr (a, ==, "abc");
  g_assert_cmpuint (next, ==, 3);

  b = read_page (fd, 3, 4096, &next);
  g_assert_cmpstr (b, ==, "");
  g_assert_cmpuint (next, ==, 3);

  /* The writer finishes the character. */
  append (fd, "\xac", 1);
  c = read_page (fd, 3, 4096, &next);
  g_assert_cmpstr (c, ==, "€");
  g_assert_cmpuint (next, ==, 6);

  /* ... or follows it with something that makes it invalid. */
  append (fd, "\xf0\x9f" "A", 3);
  d = read_page (fd, 6, 4096, &next);
  g_assert_cmpstr (d, ==, R "A");
  g_assert_cmpuint (next, ==, 9);

  /* A tail that can never become valid does not leave the reader stuck. */
  append (fd, "\xe0\x80", 2);
  e = read_page (fd, 9, 4096, &next);
  g_assert_cmpstr (e, ==, R R);
  g_assert_cmpuint (next, ==, 11);
  close (fd);
}

static void
test_offset_past_eof (void)
{
  char big[100];
  int fd = temp_file ("0123456789", 10);
  guint64 next;
  g_autofree char *a = read_page (fd, 10, 4096, &next);
  g_autofree char *b = NULL, *c = NULL, *d = NULL, *e = NULL;

  g_assert_cmpstr (a, ==, "");
  g_assert_cmpuint (next, ==, 10);

  b = read_page (fd, 1000, 4096, &next);
  g_assert_cmpstr (b, ==, "");
  g_assert_cmpuint (next, ==, 1000);

  c = read_page (fd, G_MAXUINT64, 4096, &next);
  g_assert_cmpstr (c, ==, "");
  g_assert_cmpuint (next, ==, G_MAXUINT64);

  /* The log is truncated under a reader. */
  memset (big, 'x', sizeof big);
  append (fd, big, sizeof big);
  d = read_page (fd, 50, 16, &next);
  g_assert_cmpstr (d, ==, "xxxxxxxxxxxxxxxx");
  g_assert_cmpint (ftruncate (fd, 10), ==, 0);
  e = read_page (fd, 66, 16, &next);
  g_assert_cmpstr (e, ==, "");
  g_assert_cmpuint (next, ==, 66);
  close (fd);
}

static void
test_min_bytes (void)
{
  static const guint32 bad[] = { 0, 1, 3, 4, ORCH_LOG_READ_MIN_BYTES - 1 };
  int fd = temp_file ("😀😀😀😀😀😀😀😀😀😀", 40);
  guint64 next;
  g_autofree char *ok = read_page (fd, 0, ORCH_LOG_READ_MIN_BYTES, &next);

  g_assert_cmpstr (ok, ==, "😀😀😀😀");
  g_assert_cmpuint (next, ==, 16);

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    for (guint32 tail = 0; tail <= 1; tail++)
      {
        OrchLogReadOptions opts = { .tail_lines = tail, .max_bytes = bad[i] };
        g_autoptr(GError) error = NULL;
        char *text = NULL;

        g_assert_false (orch_log_read_fd (fd, &opts, &text, &next, &error));
        g_assert_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT);
        g_assert_null (text);
      }
  close (fd);
}

static void
check_tail (const char *content, gsize len, guint32 lines, guint32 max_bytes,
            const char *expected, guint64 expected_next)
{
  int fd = temp_file (content, len);
  guint64 next = G_MAXUINT64;
  g_autofree char *text = read_tail (fd, lines, max_bytes, &next);

  g_assert_cmpstr (text, ==, expected);
  g_assert_cmpuint (next, ==, expected_next);
  close (fd);
}

static void
test_tail_lines (void)
{
  check_tail ("a\nb\nc\n", 6, 1, 4096, "c\n", 6);
  check_tail ("a\nb\nc\n", 6, 2, 4096, "b\nc\n", 6);
  check_tail ("a\nb\nc\n", 6, 3, 4096, "a\nb\nc\n", 6);
  check_tail ("a\nb\nc\n", 6, 10, 4096, "a\nb\nc\n", 6);
  /* An unterminated last line counts. */
  check_tail ("a\nb\nc", 5, 1, 4096, "c", 5);
  check_tail ("a\nb\nc", 5, 2, 4096, "b\nc", 5);
  check_tail ("a\nb\nc", 5, 10, 4096, "a\nb\nc", 5);
  /* Empty lines are lines. */
  check_tail ("a\n\n", 3, 1, 4096, "\n", 3);
  check_tail ("a\n\n", 3, 2, 4096, "a\n\n", 3);
  check_tail ("\n", 1, 1, 4096, "\n", 1);
  check_tail ("\n\n\n", 3, 2, 4096, "\n\n", 3);
  check_tail ("", 0, 1, 4096, "", 0);
  check_tail ("abc", 3, 1, 4096, "abc", 3);
  check_tail ("abc\n\xff\xfe\n", 7, 1, 4096, R R "\n", 7);
  /* A half-written character is left, and its line not counted. */
  check_tail ("a\nb\n\xe2\x82", 6, 1, 4096, "b\n", 4);
  check_tail ("a\nb\nc\xf0\x9f\x98", 8, 1, 4096, "c", 5);
  check_tail ("\xe2\x82", 2, 1, 4096, "", 0);
  check_tail ("a\nb\n\xe0\x80", 6, 1, 4096, R R, 6);
}

static void
test_tail_many (void)
{
  g_autofree char *content = mixed_lines (100000);
  gsize len = strlen (content);
  int fd = temp_file (content, len);

  for (guint32 n = 1; n <= 1000; n *= 10)
    {
      guint64 next;
      g_autofree char *text = read_tail (fd, n, 1 << 20, &next);
      g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
      g_autofree char *last = g_strdup_printf ("%06u ", 99999);

      g_assert_cmpuint (next, ==, len);
      g_assert_true (g_str_has_suffix (content, text));
      /* n lines, then the "" after the last newline */
      g_assert_cmpuint (g_strv_length (lines), ==, n + 1);
      g_assert_true (g_str_has_prefix (lines[n - 1], last));
    }
  close (fd);
}

static void
test_tail_max_bytes (void)
{
  GString *s = g_string_new ("first\n");
  g_autofree char *content = NULL;
  gsize len;
  int fd;

  for (guint i = 0; i < 3; i++)
    {
      for (guint j = 0; j < 1000; j++)
        g_string_append (s, (i + j) % 3 ? "€" : ((i + j) % 2 ? "😀" : "\xff"));
      g_string_append_c (s, '\n');
    }
  len = s->len;
  content = g_string_free (s, FALSE);
  fd = temp_file (content, len);

  for (guint32 max = ORCH_LOG_READ_MIN_BYTES; max < 200; max += 7)
    for (guint32 n = 1; n <= 5; n += 2)
      {
        guint64 next;
        gsize start = len;
        g_autofree char *text = read_tail (fd, n, max, &next);
        g_autofree char *expected = NULL;

        /* The whole of the last n lines; the text must be its end. */
        for (guint32 k = 0; start > 0; start--)
          if (content[start - 1] == '\n' && start < len && ++k == n)
            break;
        expected = sanitize_all (content + start, len - start, TRUE, NULL);

        g_assert_cmpuint (next, ==, len);
        g_assert_true (g_str_has_suffix (expected, text));
        g_assert_cmpuint (strlen (text), >=, MIN (strlen (expected), max - 3));
      }
  close (fd);
}

static void
test_tail_all_invalid (void)
{
  char content[1000];
  int fd;

  memset (content, 0xff, sizeof content);
  fd = temp_file (content, sizeof content);

  for (guint32 max = ORCH_LOG_READ_MIN_BYTES; max < 40; max++)
    {
      guint64 next;
      g_autofree char *text = read_tail (fd, 1, max, &next);

      g_assert_cmpuint (strlen (text), ==, max / 3 * 3);
      g_assert_cmpuint (next, ==, sizeof content);
    }
  close (fd);
}

static void
test_tail_char_boundary (void)
{
  /* A window into one long line starts on a character. */
  GString *s = g_string_new ("x");
  gsize len;
  int fd;

  for (guint i = 0; i < 1000; i++)
    g_string_append (s, i % 2 ? "😀" : "€");
  len = s->len;
  fd = temp_file (s->str, len);

  for (guint32 max = ORCH_LOG_READ_MIN_BYTES; max < 64; max++)
    {
      guint64 next;
      g_autofree char *text = read_tail (fd, 1, max, &next);

      g_assert_true (g_str_has_suffix (s->str, text));
      g_assert_cmpuint (strlen (text), >=, max - 3);
      g_assert_cmpuint (next, ==, len);
    }
  g_string_free (s, TRUE);
  close (fd);
}

typedef struct {
  int fd;
  guint64 bytes;
  guint calls;
  int eintr_left;
  int fail_errno;
} Source;

static gssize
source_pread (void *buf, gsize count, guint64 offset, gpointer user_data)
{
  Source *src = user_data;
  gssize n;

  src->calls++;
  if (src->eintr_left > 0)
    {
      src->eintr_left--;
      errno = EINTR;
      return -1;
    }
  if (src->fail_errno)
    {
      errno = src->fail_errno;
      return -1;
    }
  /* Short reads are allowed to a pread(); give them. */
  n = pread (src->fd, buf, MIN (count, 1000), (off_t) offset);
  if (n > 0)
    src->bytes += (guint64) n;
  return n;
}

static void
test_tail_large_file (void)
{
  const guint64 size = G_GUINT64_CONSTANT (1) << 30; /* 1 GiB, sparse */
  GString *tail = g_string_new (NULL);
  Source src = { 0 };
  g_autoptr(GError) error = NULL;
  OrchLogReadOptions opts = { .tail_lines = 10, .max_bytes = 64 * 1024 };
  g_autofree char *text = NULL, *text2 = NULL, *text3 = NULL;
  guint64 next;

  for (guint i = 0; i < 50; i++)
    g_string_append_printf (tail, "line %u ñ\n", i);
  src.fd = temp_file (NULL, 0);
  g_assert_cmpint (ftruncate (src.fd, (off_t) (size - tail->len)), ==, 0);
  append (src.fd, tail->str, tail->len);
  g_assert_cmpuint (file_size (src.fd), ==, size);

  g_assert_true (orch_log_read_with (source_pread, &src, size, &opts, &text, &next, &error));
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (text, "line 40 ñ\n"));
  g_assert_true (g_str_has_suffix (tail->str, text));
  g_assert_cmpuint (next, ==, size);
  /* A few blocks from the end, not the file. */
  g_assert_cmpuint (src.bytes, <=, 3 * opts.max_bytes + 64);

  /* More lines than fit: only about 3 * max_bytes is read, of zeros. */
  src.bytes = 0;
  opts.tail_lines = 100000;
  opts.max_bytes = 4096;
  g_assert_true (orch_log_read_with (source_pread, &src, size, &opts, &text2, &next, &error));
  g_assert_no_error (error);
  check_text (text2, opts.max_bytes);
  g_assert_true (g_str_has_suffix (text2, "line 49 ñ\n"));
  g_assert_true (g_str_has_prefix (text2, R));
  g_assert_cmpuint (next, ==, size);
  g_assert_cmpuint (src.bytes, <=, 3 * opts.max_bytes + 64);

  /* Paging from the middle reads one page. */
  src.bytes = 0;
  opts = (OrchLogReadOptions) { .offset = size / 2, .max_bytes = 4096 };
  g_assert_true (orch_log_read_with (source_pread, &src, size, &opts, &text3, &next, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (strlen (text3), ==, 4096 / 3 * 3);
  g_assert_cmpuint (next, ==, size / 2 + 4096 / 3);
  g_assert_cmpuint (src.bytes, <=, 4096 + 4);

  g_string_free (tail, TRUE);
  close (src.fd);
}

static void
test_read_errors (void)
{
  g_autofree char *content = mixed_lines (100);
  Source src = { .fd = temp_file (content, strlen (content)) };
  OrchLogReadOptions opts = { .max_bytes = 4096 };
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL, *text2 = NULL;
  char *none = NULL;
  guint64 next;
  int pipefd[2];

  /* EINTR is retried. */
  src.eintr_left = 3;
  g_assert_true (orch_log_read_with (source_pread, &src, strlen (content), &opts, &text, &next, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (text, ==, content);

  opts.tail_lines = 5;
  src.eintr_left = 2;
  g_assert_true (orch_log_read_with (source_pread, &src, strlen (content), &opts, &text2, &next, &error));
  g_assert_no_error (error);
  g_assert_true (g_str_has_suffix (content, text2));

  for (guint32 tail = 0; tail <= 1; tail++)
    {
      opts.tail_lines = tail;
      src.fail_errno = EIO;
      g_assert_false (orch_log_read_with (source_pread, &src, strlen (content), &opts, &none, &next, &error));
      g_assert_error (error, ORCH_ERROR, ORCH_ERROR_FAILED);
      g_assert_nonnull (strstr (error->message, g_strerror (EIO)));
      g_assert_null (none);
      g_clear_error (&error);
    }

  g_assert_cmpint (pipe (pipefd), ==, 0);
  opts.tail_lines = 0;
  g_assert_false (orch_log_read_fd (pipefd[0], &opts, &none, &next, &error));
  g_assert_error (error, ORCH_ERROR, ORCH_ERROR_FAILED);
  g_assert_null (none);
  close (pipefd[0]);
  close (pipefd[1]);
  close (src.fd);
}

static void
test_stale_size (void)
{
  /* The size was taken before the log was truncated. */
  Source src = { .fd = temp_file ("a\nb\nc\n", 6) };
  OrchLogReadOptions opts = { .offset = 2, .max_bytes = 4096 };
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL, *text2 = NULL;
  guint64 next;

  g_assert_true (orch_log_read_with (source_pread, &src, 100000, &opts, &text, &next, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (text, ==, "b\nc\n");
  g_assert_cmpuint (next, ==, 6);

  opts.tail_lines = 2;
  g_assert_true (orch_log_read_with (source_pread, &src, 100000, &opts, &text2, &next, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (text2, ==, "b\nc\n");
  g_assert_cmpuint (next, ==, 6);
  close (src.fd);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/log-read/sanitize/rules", test_sanitize_rules);
  g_test_add_func ("/log-read/sanitize/max-out", test_sanitize_max_out);
  g_test_add_func ("/log-read/page/mixed", test_page_mixed);
  g_test_add_func ("/log-read/page/full-pages", test_page_full_pages);
  g_test_add_func ("/log-read/page/invalid", test_page_invalid);
  g_test_add_func ("/log-read/page/all-invalid", test_page_all_invalid);
  g_test_add_func ("/log-read/page/incomplete-tail", test_page_incomplete_tail);
  g_test_add_func ("/log-read/page/offset-past-eof", test_offset_past_eof);
  g_test_add_func ("/log-read/min-bytes", test_min_bytes);
  g_test_add_func ("/log-read/tail/lines", test_tail_lines);
  g_test_add_func ("/log-read/tail/many", test_tail_many);
  g_test_add_func ("/log-read/tail/max-bytes", test_tail_max_bytes);
  g_test_add_func ("/log-read/tail/all-invalid", test_tail_all_invalid);
  g_test_add_func ("/log-read/tail/char-boundary", test_tail_char_boundary);
  g_test_add_func ("/log-read/tail/large-file", test_tail_large_file);
  g_test_add_func ("/log-read/read-errors", test_read_errors);
  g_test_add_func ("/log-read/stale-size", test_stale_size);
  return g_test_run ();
}
