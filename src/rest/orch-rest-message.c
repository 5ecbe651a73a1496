/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "orch-rest-message.h"
#include "orch-rest-json.h"

#include <errno.h>
#include <string.h>

typedef union {
  const char *s;
  int b;
  uint8_t y;
  int16_t n;
  uint16_t q;
  int32_t i;
  uint32_t u;
  int64_t x;
  uint64_t t;
  double d;
} Basic;

/* An integer in decimal, without printf's format parsing: the job
 * records are mostly numbers. */
static void
append_uint (GString *out, guint64 u, gboolean negative)
{
  char buf[24];
  char *p = buf + sizeof buf;

  do
    *--p = (char) ('0' + u % 10);
  while ((u /= 10) != 0);
  if (negative)
    *--p = '-';
  g_string_append_len (out, p, buf + sizeof buf - p);
}

static void
append_int (GString *out, gint64 i)
{
  append_uint (out, i < 0 ? (guint64) 0 - (guint64) i : (guint64) i, i < 0);
}

/* A basic value as orch_rest_variant_to_json writes it (a handle as its
 * number, as GVariant's index would be: no reply of the daemon has one). */
static void
write_basic (GString *out, char type, const Basic *v)
{
  switch (type)
    {
    case 'b':
      g_string_append (out, v->b ? "true" : "false");
      break;
    case 'y':
      append_uint (out, v->y, FALSE);
      break;
    case 'n':
      append_int (out, v->n);
      break;
    case 'q':
      append_uint (out, v->q, FALSE);
      break;
    case 'i':
    case 'h':
      append_int (out, v->i);
      break;
    case 'u':
      append_uint (out, v->u, FALSE);
      break;
    case 'x':
      append_int (out, v->x);
      break;
    case 't':
      append_uint (out, v->t, FALSE);
      break;
    case 'd':
      orch_rest_json_append_double (out, v->d);
      break;
    default:
      orch_rest_json_append_string (out, v->s);
      break;
    }
}

/* A dictionary key that is not a string, as json-glib (and
 * orch-rest-json.c's key_string) names it. */
static void
write_key (GString *out, char type, const Basic *v)
{
  g_autoptr(GString) key = NULL;

  if (type == 's' || type == 'o' || type == 'g')
    {
      orch_rest_json_append_string (out, v->s);
      return;
    }
  key = g_string_new (NULL);
  if (type == 'd')
    {
      char buf[G_ASCII_DTOSTR_BUF_SIZE];
      g_string_append (key, g_ascii_formatd (buf, sizeof buf, "%f", v->d));
    }
  else if (type == 'y')
    g_string_append_printf (key, "0x%02x", v->y);
  else
    write_basic (key, type, v);
  orch_rest_json_append_string (out, key->str);
}

static int
write_members (GString *out, sd_bus_message *m, char open, char close)
{
  int r;

  g_string_append_c (out, open);
  for (gboolean first = TRUE; (r = sd_bus_message_at_end (m, FALSE)) == 0; first = FALSE)
    {
      if (!first)
        g_string_append_c (out, ',');
      if ((r = orch_rest_message_to_json (out, m)) < 0)
        return r;
    }
  g_string_append_c (out, close);
  return r < 0 ? r : 0;
}

/* a{..}: one object; each entry's key, then its value. */
static int
write_dict (GString *out, sd_bus_message *m, const char *entry)
{
  int r;

  g_string_append_c (out, '{');
  for (gboolean first = TRUE; (r = sd_bus_message_enter_container (m, 'e', entry)) > 0;
       first = FALSE)
    {
      Basic key;
      if (!first)
        g_string_append_c (out, ',');
      if ((r = sd_bus_message_read_basic (m, entry[0], &key)) < 0)
        return r;
      write_key (out, entry[0], &key);
      g_string_append_c (out, ':');
      if ((r = orch_rest_message_to_json (out, m)) < 0 ||
          (r = sd_bus_message_exit_container (m)) < 0)
        return r;
    }
  g_string_append_c (out, '}');
  return r;
}

int
orch_rest_message_to_json (GString *out, sd_bus_message *m)
{
  const char *contents = NULL;
  char type;
  int r = sd_bus_message_peek_type (m, &type, &contents);

  if (r <= 0)
    return r < 0 ? r : -ENXIO;
  if (type != 'a' && type != 'v' && type != 'r' && type != 'e')
    {
      Basic v;
      if ((r = sd_bus_message_read_basic (m, type, &v)) < 0)
        return r;
      write_basic (out, type, &v);
      return 0;
    }
  if ((r = sd_bus_message_enter_container (m, type, contents)) < 0)
    return r;
  if (type == 'v')
    r = orch_rest_message_to_json (out, m);
  else if (type == 'a' && contents[0] == '{')
    {
      g_autofree char *entry = g_strndup (contents + 1, strlen (contents) - 2);
      r = write_dict (out, m, entry);
    }
  else if (type == 'e')
    {
      /* One entry on its own: an object of one member. */
      Basic key;
      g_string_append_c (out, '{');
      if ((r = sd_bus_message_read_basic (m, contents[0], &key)) >= 0)
        {
          write_key (out, contents[0], &key);
          g_string_append_c (out, ':');
          r = orch_rest_message_to_json (out, m);
        }
      g_string_append_c (out, '}');
    }
  else
    r = write_members (out, m, '[', ']');
  if (r < 0 || (r = sd_bus_message_exit_container (m)) < 0)
    return r;
  return 0;
}
