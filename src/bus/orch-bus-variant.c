/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "orch-bus-variant.h"
#include "core/orch-sd-bus.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What sd_bus_message_read_basic() and _append_basic() take, by type. */
typedef union {
  uint8_t y;
  int b;
  int16_t n;
  uint16_t q;
  int32_t i;
  uint32_t u;
  int64_t x;
  uint64_t t;
  double d;
  const char *s;
} BasicValue;

static int
read_basic (sd_bus_message *m, char type, GVariant **ret)
{
  BasicValue v;
  int r = sd_bus_message_read_basic (m, type, &v);

  if (r < 0)
    return r;
  if (r == 0)
    return -EBADMSG;
  switch (type)
    {
    case 'y': *ret = g_variant_new_byte (v.y); break;
    case 'b': *ret = g_variant_new_boolean (v.b); break;
    case 'n': *ret = g_variant_new_int16 (v.n); break;
    case 'q': *ret = g_variant_new_uint16 (v.q); break;
    case 'i': *ret = g_variant_new_int32 (v.i); break;
    case 'u': *ret = g_variant_new_uint32 (v.u); break;
    case 'x': *ret = g_variant_new_int64 (v.x); break;
    case 't': *ret = g_variant_new_uint64 (v.t); break;
    case 'd': *ret = g_variant_new_double (v.d); break;
    case 's': *ret = g_variant_new_string (v.s); break;
    case 'o': *ret = g_variant_new_object_path (v.s); break;
    case 'g': *ret = g_variant_new_signature (v.s); break;
    default: return -EOPNOTSUPP; /* 'h': fds are not part of any record */
    }
  return 0;
}

int
orch_bus_read_variant (sd_bus_message *m, GVariant **ret)
{
  const char *contents = NULL;
  char type;
  int r;

  r = sd_bus_message_peek_type (m, &type, &contents);
  if (r < 0)
    return r;
  if (r == 0)
    return -EBADMSG;

  switch (type)
    {
    case 'a':
    case 'r':
    case 'e':
    case 'v':
      {
        g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
        g_autofree char *contents_copy = g_strdup (contents);

        r = sd_bus_message_enter_container (m, type, contents_copy);
        if (r <= 0)
          return r < 0 ? r : -EBADMSG;
        while ((r = sd_bus_message_at_end (m, 0)) == 0)
          {
            GVariant *item = NULL;
            r = orch_bus_read_variant (m, &item);
            if (r < 0)
              return r;
            g_ptr_array_add (items, g_variant_ref_sink (item));
          }
        if (r < 0)
          return r;
        r = sd_bus_message_exit_container (m);
        if (r < 0)
          return r;

        switch (type)
          {
          case 'a':
            {
              g_autofree char *elem_type = g_strdup (contents_copy);
              if (!g_variant_type_string_is_valid (elem_type))
                return -EBADMSG;
              *ret = g_variant_new_array (G_VARIANT_TYPE (elem_type),
                                          (GVariant **) items->pdata, items->len);
              return 0;
            }
          case 'r':
            *ret = g_variant_new_tuple ((GVariant **) items->pdata, items->len);
            return 0;
          case 'e':
            if (items->len != 2)
              return -EBADMSG;
            *ret = g_variant_new_dict_entry (items->pdata[0], items->pdata[1]);
            return 0;
          default: /* 'v' */
            if (items->len != 1)
              return -EBADMSG;
            *ret = g_variant_new_variant (items->pdata[0]);
            return 0;
          }
      }
    default:
      return read_basic (m, type, ret);
    }
}

static int
append_basic (sd_bus_message *m, GVariant *v)
{
  const char *t = g_variant_get_type_string (v);
  BasicValue u;

  switch (t[0])
    {
    case 'y': u.y = g_variant_get_byte (v); break;
    case 'b': u.b = g_variant_get_boolean (v); break;
    case 'n': u.n = g_variant_get_int16 (v); break;
    case 'q': u.q = g_variant_get_uint16 (v); break;
    case 'i': u.i = g_variant_get_int32 (v); break;
    case 'u': u.u = g_variant_get_uint32 (v); break;
    case 'x': u.x = g_variant_get_int64 (v); break;
    case 't': u.t = g_variant_get_uint64 (v); break;
    case 'd': u.d = g_variant_get_double (v); break;
    case 's':
    case 'o':
    case 'g':
      return sd_bus_message_append_basic (m, t[0], g_variant_get_string (v, NULL));
    default:
      return -EOPNOTSUPP;
    }
  return sd_bus_message_append_basic (m, t[0], &u);
}

int
orch_bus_append_variant (sd_bus_message *m, GVariant *v)
{
  const char *t = g_variant_get_type_string (v);
  g_autofree char *contents = NULL;
  char kind;
  GVariantIter iter;
  GVariant *child;
  int r;

  switch (t[0])
    {
    case 'a':
      kind = 'a';
      contents = g_strdup (t + 1);
      break;
    case '(':
      kind = 'r';
      contents = g_strndup (t + 1, strlen (t) - 2);
      break;
    case '{':
      kind = 'e';
      contents = g_strndup (t + 1, strlen (t) - 2);
      break;
    case 'v':
      {
        g_autoptr(GVariant) inner = g_variant_get_variant (v);
        r = sd_bus_message_open_container (m, 'v', g_variant_get_type_string (inner));
        if (r < 0)
          return r;
        r = orch_bus_append_variant (m, inner);
        if (r < 0)
          return r;
        return sd_bus_message_close_container (m);
      }
    case 'm':
      return -EOPNOTSUPP;
    default:
      return append_basic (m, v);
    }

  r = sd_bus_message_open_container (m, kind, contents);
  if (r < 0)
    return r;
  g_variant_iter_init (&iter, v);
  while ((child = g_variant_iter_next_value (&iter)))
    {
      r = orch_bus_append_variant (m, child);
      g_variant_unref (child);
      if (r < 0)
        return r;
    }
  return sd_bus_message_close_container (m);
}

int
orch_bus_read_argument (sd_bus_message *m, GVariant **ret, sd_bus_error *ret_error)
{
  GVariant *v = NULL;
  int r = orch_bus_read_variant (m, &v);

  if (r < 0)
    return sd_bus_error_set_errnof (ret_error, r, "cannot read argument: %s", g_strerror (-r));
  *ret = g_variant_ref_sink (v);
  return 0;
}

int
orch_bus_reply_variant (sd_bus_message *m, GVariant *v)
{
  g_autoptr(sd_bus_message) reply = NULL;
  g_autoptr(GVariant) owned = g_variant_ref_sink (v);
  int r = sd_bus_message_new_method_return (m, &reply);

  if (r >= 0)
    r = orch_bus_append_variant (reply, owned);
  if (r >= 0)
    r = sd_bus_send (NULL, reply, NULL);
  return r;
}

int
orch_bus_node_list (const char *prefix, GPtrArray *ids, char ***ret_nodes)
{
  char **out = calloc (ids->len + 1, sizeof (char *));

  if (out == NULL)
    return -ENOMEM;
  /* sd-bus frees these with free(), so no g_strdup. */
  for (guint i = 0; i < ids->len; i++)
    if (asprintf (&out[i], "%s/%s", prefix, (const char *) ids->pdata[i]) < 0)
      {
        for (guint j = 0; j < i; j++)
          free (out[j]);
        free (out);
        return -ENOMEM;
      }
  *ret_nodes = out;
  return 0;
}
