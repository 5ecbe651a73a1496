/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "orch-rest-json.h"

#include "basic/orch-autoscale.h"
#include "basic/orch-error.h"
#include "basic/orch-spec.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

static gboolean
field_error (GError **error, const char *field, const char *what)
{
  g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT, _("field “%s”: %s"), field, what);
  return FALSE;
}

static gboolean
json_int (JsonNode *n, gint64 *ret)
{
  GType t;

  if (!JSON_NODE_HOLDS_VALUE (n))
    return FALSE;
  t = json_node_get_value_type (n);
  if (t == G_TYPE_INT64)
    {
      *ret = json_node_get_int (n);
      return TRUE;
    }
  if (t == G_TYPE_DOUBLE)
    {
      /* 1e3 is a number a client may well send for 1000. */
      double d = json_node_get_double (n);
      if (d == floor (d) && fabs (d) < 9.0e15)
        {
          *ret = (gint64) d;
          return TRUE;
        }
    }
  return FALSE;
}

static const char *const *nested_fields (const char *type);
static GVariant *
convert_nested (const char *field, JsonNode *n, const char *const *fields, GError **error);
static const char *type_of (const char *const *types, const char *key);

static GVariant *
convert (const char *field, JsonNode *n, const char *type, GError **error)
{
  gint64 i;

  if (strcmp (type, "s") == 0)
    {
      if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
        return field_error (error, field, _("must be a string")), NULL;
      return g_variant_new_string (json_node_get_string (n));
    }
  if (strcmp (type, "u") == 0 || strcmp (type, "t") == 0 || strcmp (type, "i") == 0)
    {
      if (!json_int (n, &i))
        return field_error (error, field, _("must be a whole number")), NULL;
      if (type[0] == 'i')
        {
          if (i < G_MININT32 || i > G_MAXINT32)
            return field_error (error, field, _("out of range")), NULL;
          return g_variant_new_int32 ((gint32) i);
        }
      if (i < 0 || (type[0] == 'u' && i > G_MAXUINT32))
        return field_error (error, field, _("out of range")), NULL;
      return type[0] == 'u' ? g_variant_new_uint32 ((guint32) i) : g_variant_new_uint64 ((guint64) i);
    }
  if (strcmp (type, "d") == 0)
    {
      GType t = JSON_NODE_HOLDS_VALUE (n) ? json_node_get_value_type (n) : G_TYPE_INVALID;
      if (t != G_TYPE_DOUBLE && t != G_TYPE_INT64)
        return field_error (error, field, _("must be a number")), NULL;
      return g_variant_new_double (json_node_get_double (n));
    }
  if (strcmp (type, "as") == 0)
    {
      JsonArray *a;
      GVariantBuilder b;
      if (!JSON_NODE_HOLDS_ARRAY (n))
        return field_error (error, field, _("must be an array of strings")), NULL;
      a = json_node_get_array (n);
      g_variant_builder_init (&b, G_VARIANT_TYPE_STRING_ARRAY);
      for (guint k = 0; k < json_array_get_length (a); k++)
        {
          JsonNode *e = json_array_get_element (a, k);
          if (!JSON_NODE_HOLDS_VALUE (e) || json_node_get_value_type (e) != G_TYPE_STRING)
            {
              g_variant_builder_clear (&b);
              return field_error (error, field, _("must be an array of strings")), NULL;
            }
          g_variant_builder_add (&b, "s", json_node_get_string (e));
        }
      return g_variant_builder_end (&b);
    }
  if (strcmp (type, "a{ss}") == 0)
    {
      JsonObject *o;
      GVariantBuilder b;
      g_autoptr(GList) members = NULL;
      if (!JSON_NODE_HOLDS_OBJECT (n))
        return field_error (error, field, _("must be an object of strings")), NULL;
      o = json_node_get_object (n);
      members = json_object_get_members (o);
      g_variant_builder_init (&b, G_VARIANT_TYPE ("a{ss}"));
      for (GList *l = members; l; l = l->next)
        {
          JsonNode *e = json_object_get_member (o, l->data);
          if (!JSON_NODE_HOLDS_VALUE (e) || json_node_get_value_type (e) != G_TYPE_STRING)
            {
              g_variant_builder_clear (&b);
              return field_error (error, field, _("must be an object of strings")), NULL;
            }
          g_variant_builder_add (&b, "{ss}", (const char *) l->data, json_node_get_string (e));
        }
      return g_variant_builder_end (&b);
    }
  if (strcmp (type, "b") == 0)
    {
      if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_BOOLEAN)
        return field_error (error, field, _("must be true or false")), NULL;
      return g_variant_new_boolean (json_node_get_boolean (n));
    }
  if (nested_fields (type))
    return convert_nested (field, n, nested_fields (type), error);
  g_assert_not_reached ();
  return NULL;
}

/* Objects inside a body whose members are converted by a table of
 * their own: a schedule's "job" and a group's "template" (job specs),
 * a group's "autoscale".  Errors name the member by its path:
 * "template.command". */
static const struct {
  const char *type;
  const char *const *fields;
} nested_types[] = {
  { ORCH_REST_TYPE_JOB_SPEC, orch_spec_field_types },
  { ORCH_REST_TYPE_AUTOSCALE, orch_autoscale_field_types },
};

static const char *const *
nested_fields (const char *type)
{
  for (gsize i = 0; i < G_N_ELEMENTS (nested_types); i++)
    if (strcmp (nested_types[i].type, type) == 0)
      return nested_types[i].fields;
  return NULL;
}

static GVariant *
convert_nested (const char *field, JsonNode *n, const char *const *fields, GError **error)
{
  g_autoptr(GList) members = NULL;
  GVariantBuilder b;
  JsonObject *o;

  if (!JSON_NODE_HOLDS_OBJECT (n))
    return field_error (error, field, _("must be an object")), NULL;
  o = json_node_get_object (n);
  members = json_object_get_members (o);
  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  for (GList *l = members; l; l = l->next)
    {
      g_autofree char *path = g_strdup_printf ("%s.%s", field, (const char *) l->data);
      const char *type = type_of (fields, l->data);
      GVariant *v;

      if (type == NULL)
        {
          /* The daemon would name only the inner key: say where it is. */
          g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT, _("unknown field “%s”"),
                       path);
          v = NULL;
        }
      else
        v = convert (path, json_object_get_member (o, l->data), type, error);
      if (v == NULL)
        {
          g_variant_builder_clear (&b);
          return NULL;
        }
      g_variant_builder_add (&b, "{sv}", (const char *) l->data, v);
    }
  return g_variant_builder_end (&b);
}

static const char *
type_of (const char *const *types, const char *key)
{
  for (const char *const *t = types; t && *t; t += 2)
    if (strcmp (t[0], key) == 0)
      return t[1];
  return NULL;
}

/* Whether every string in @n (keys too) is valid UTF-8: json-glib
 * turns an escaped lone surrogate ("\ud800") into bytes that are not. */
static gboolean
strings_valid (JsonNode *n)
{
  if (JSON_NODE_HOLDS_VALUE (n))
    return json_node_get_value_type (n) != G_TYPE_STRING ||
           g_utf8_validate (json_node_get_string (n), -1, NULL);
  if (JSON_NODE_HOLDS_ARRAY (n))
    {
      JsonArray *a = json_node_get_array (n);
      for (guint i = 0; i < json_array_get_length (a); i++)
        if (!strings_valid (json_array_get_element (a, i)))
          return FALSE;
    }
  else if (JSON_NODE_HOLDS_OBJECT (n))
    {
      JsonObject *o = json_node_get_object (n);
      g_autoptr(GList) members = json_object_get_members (o);
      for (GList *l = members; l; l = l->next)
        if (!g_utf8_validate (l->data, -1, NULL) || !strings_valid (json_object_get_member (o, l->data)))
          return FALSE;
    }
  return TRUE;
}

/* A strict JSON check of the whole body before json-glib sees it.
 * json-glib 1.6 leaks on several malformed inputs a client could repeat
 * at will (the nodes of a second top-level value, '{} {}'; its scanner's
 * buffer on a bad \u escape or surrogate pair, found by the fuzzer), so it
 * only ever gets well-formed JSON: one object, strings with valid escapes
 * and paired surrogates, no raw control characters, bounded nesting. */
#define MAX_JSON_DEPTH 512

typedef enum { BODY_OK, BODY_NOT_OBJECT, BODY_INVALID, BODY_TOO_DEEP } BodyCheck;

typedef struct {
  const char *p, *end;
  guint depth;
  gboolean too_deep;
} Scan;

static void
skip_ws (Scan *s)
{
  while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
    s->p++;
}

static gboolean
take (Scan *s, char c)
{
  skip_ws (s);
  if (s->p < s->end && *s->p == c)
    {
      s->p++;
      return TRUE;
    }
  return FALSE;
}

static gboolean
hex4 (Scan *s, guint *out)
{
  guint v = 0;

  if (s->end - s->p < 4)
    return FALSE;
  for (int i = 0; i < 4; i++, s->p++)
    {
      int d = g_ascii_xdigit_value (*s->p);
      if (d < 0)
        return FALSE;
      v = v * 16 + (guint) d;
    }
  *out = v;
  return TRUE;
}

static gboolean
scan_string (Scan *s)
{
  if (!take (s, '"'))
    return FALSE;
  while (s->p < s->end)
    {
      unsigned char c = (unsigned char) *s->p++;
      guint cp, lo;

      if (c == '"')
        return TRUE;
      if (c < 0x20)
        return FALSE;
      if (c != '\\')
        continue;
      if (s->p >= s->end)
        return FALSE;
      c = (unsigned char) *s->p++;
      if (c != 'u')
        {
          if (c == '\0' || !strchr ("\"\\/bfnrt", c))
            return FALSE;
          continue;
        }
      if (!hex4 (s, &cp) || (cp >= 0xDC00 && cp <= 0xDFFF))
        return FALSE;
      if (cp >= 0xD800 && cp <= 0xDBFF)
        {
          if (s->end - s->p < 2 || s->p[0] != '\\' || s->p[1] != 'u')
            return FALSE;
          s->p += 2;
          if (!hex4 (s, &lo) || lo < 0xDC00 || lo > 0xDFFF)
            return FALSE;
        }
    }
  return FALSE; /* unterminated */
}

static gboolean
scan_digits (Scan *s)
{
  const char *start = s->p;

  while (s->p < s->end && g_ascii_isdigit (*s->p))
    s->p++;
  return s->p > start;
}

static gboolean
scan_number (Scan *s)
{
  if (s->p < s->end && *s->p == '-')
    s->p++;
  if (s->p < s->end && *s->p == '0')
    s->p++;
  else if (!scan_digits (s))
    return FALSE;
  if (s->p < s->end && *s->p == '.')
    {
      s->p++;
      if (!scan_digits (s))
        return FALSE;
    }
  if (s->p < s->end && (*s->p == 'e' || *s->p == 'E'))
    {
      s->p++;
      if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
        s->p++;
      if (!scan_digits (s))
        return FALSE;
    }
  return TRUE;
}

static gboolean
scan_word (Scan *s, const char *w)
{
  gsize n = strlen (w);

  if ((gsize) (s->end - s->p) < n || memcmp (s->p, w, n) != 0)
    return FALSE;
  s->p += n;
  return TRUE;
}

static gboolean scan_value (Scan *s);

/* The members or elements of an object or array, after its opening. */
static gboolean
scan_container (Scan *s, char close, gboolean object)
{
  gboolean ok = FALSE;

  if (++s->depth > MAX_JSON_DEPTH)
    {
      s->too_deep = TRUE;
      return FALSE;
    }
  if (take (s, close))
    ok = TRUE;
  else
    do
      {
        if (object && (!scan_string (s) || !take (s, ':')))
          break;
        if (!scan_value (s))
          break;
        if (take (s, close))
          {
            ok = TRUE;
            break;
          }
      }
    while (take (s, ','));
  s->depth--;
  return ok;
}

static gboolean
scan_value (Scan *s)
{
  skip_ws (s);
  if (s->p >= s->end)
    return FALSE;
  switch (*s->p)
    {
    case '{':
      s->p++;
      return scan_container (s, '}', TRUE);
    case '[':
      s->p++;
      return scan_container (s, ']', FALSE);
    case '"':
      return scan_string (s);
    case 't':
      return scan_word (s, "true");
    case 'f':
      return scan_word (s, "false");
    case 'n':
      return scan_word (s, "null");
    default:
      return scan_number (s);
    }
}

static BodyCheck
check_body (const char *body, gsize len)
{
  Scan s = { body, body + len, 0, FALSE };

  skip_ws (&s);
  if (s.p >= s.end || *s.p != '{')
    return BODY_NOT_OBJECT;
  if (!scan_value (&s))
    return s.too_deep ? BODY_TOO_DEEP : BODY_INVALID;
  skip_ws (&s);
  return s.p == s.end ? BODY_OK : BODY_NOT_OBJECT;
}

GVariant *
orch_rest_object_from_json (const char *body, gsize len, const char *const *types, GError **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) local = NULL;
  g_autoptr(GList) members = NULL;
  GVariantBuilder b;
  JsonObject *o;

  if (body == NULL)
    body = "";
  /* JSON is UTF-8, and every string of it may become a D-Bus string. */
  if (!g_utf8_validate_len (body, len, NULL))
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_MALFORMED,
                   _("the request body is not UTF-8 JSON"));
      return NULL;
    }
  switch (check_body (body, len))
    {
    case BODY_OK:
      break;
    case BODY_NOT_OBJECT:
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_MALFORMED,
                   _("the request body must be one JSON object"));
      return NULL;
    case BODY_TOO_DEEP:
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_MALFORMED,
                   _("the request body is nested more than %d levels deep"), MAX_JSON_DEPTH);
      return NULL;
    case BODY_INVALID:
    default:
      g_set_error (
          error, ORCH_ERROR, ORCH_ERROR_MALFORMED,
          _("the request body is not valid JSON (a malformed value, string or escape, or an unpaired \\u surrogate)"));
      return NULL;
    }
  if (!json_parser_load_from_data (parser, body, (gssize) len, &local))
    {
      /* json-glib quotes the offending bytes, valid UTF-8 or not. */
      g_autofree char *why = g_utf8_make_valid (local->message, -1);
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_MALFORMED,
                   _("the request body is not valid JSON: %s"), why);
      return NULL;
    }
  /* An empty body parses, with no root at all. */
  if (json_parser_get_root (parser) == NULL || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_MALFORMED,
                   _("the request body must be a JSON object"));
      return NULL;
    }
  o = json_node_get_object (json_parser_get_root (parser));
  members = json_object_get_members (o);
  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  for (GList *l = members; l; l = l->next)
    {
      const char *key = l->data;
      JsonNode *n = json_object_get_member (o, key);
      const char *type = type_of (types, key);
      GVariant *v;

      if (!g_utf8_validate (key, -1, NULL) || !strings_valid (n))
        {
          g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                       _("the request body holds a string that is not valid UTF-8 (a lone \\u surrogate?)"));
          v = NULL;
        }
      else if (type)
        v = convert (key, n, type, error);
      else
        /* The daemon names unknown fields; its value does not matter. */
        v = g_variant_new_boolean (TRUE);
      if (v == NULL)
        {
          g_variant_builder_clear (&b);
          return NULL;
        }
      g_variant_builder_add (&b, "{sv}", key, v);
    }
  return g_variant_builder_end (&b);
}

gssize
orch_rest_args_from_object (GVariant *object, const char *const *types, GVariant **args, gsize max,
                            GError **error)
{
  GVariantIter iter;
  const char *key;
  gsize n = 0;

  g_variant_iter_init (&iter, object);
  while (g_variant_iter_next (&iter, "{&sv}", &key, NULL))
    if (type_of (types, key) == NULL)
      {
        g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT, _("unknown field “%s”"), key);
        return -1;
      }
  for (const char *const *t = types; *t; t += 2)
    {
      GVariant *v = g_variant_lookup_value (object, t[0], NULL);
      if (v == NULL)
        {
          field_error (error, t[0], _("is required"));
          break;
        }
      g_assert (n < max);
      args[n++] = v;
    }
  if (types[n * 2] == NULL)
    return (gssize) n;
  while (n > 0)
    g_variant_unref (args[--n]);
  return -1;
}

/* A flag in a query: 1/true or 0/false. */
static gboolean
query_boolean (const char *param, const char *value, const char *key, GVariantBuilder *b,
               GError **error)
{
  gboolean on = strcmp (value, "1") == 0 || strcmp (value, "true") == 0;

  if (!on && strcmp (value, "0") != 0 && strcmp (value, "false") != 0)
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                   _("query parameter “%s”: use 1, true, 0 or false"), param);
      return FALSE;
    }
  g_variant_builder_add (b, "{sv}", key, g_variant_new_boolean (on));
  return TRUE;
}

GVariant *
orch_rest_options_from_query (GHashTable *query, const char *const *types, GError **error)
{
  GVariantBuilder b;
  GHashTableIter it;
  gpointer k, v;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  if (query)
    {
      g_hash_table_iter_init (&it, query);
      while (g_hash_table_iter_next (&it, &k, &v))
        {
          const char *const *t;
          /* Checked before anything quotes them back (D-Bus strings and
           * the JSON error must be UTF-8). */
          if (!g_utf8_validate (k, -1, NULL) || !g_utf8_validate (v, -1, NULL))
            {
              g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                           _("query parameters must be UTF-8"));
              g_variant_builder_clear (&b);
              return NULL;
            }
          for (t = types; t && *t; t += 3)
            if (strcmp (t[0], k) == 0)
              break;
          if (t == NULL || *t == NULL)
            {
              g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                           _("unknown query parameter “%s”"), (const char *) k);
              g_variant_builder_clear (&b);
              return NULL;
            }
          if (strcmp (t[2], "s") == 0)
            g_variant_builder_add (&b, "{sv}", t[1], g_variant_new_string (v));
          else if (strcmp (t[2], "b") == 0 && !query_boolean (k, v, t[1], &b, error))
            {
              g_variant_builder_clear (&b);
              return NULL;
            }
          else if (strcmp (t[2], "b") == 0)
            ;
          else
            {
              guint64 u;
              gint64 i;
              gboolean ok;
              if (t[2][0] == 'i')
                ok = g_ascii_string_to_signed (v, 10, G_MININT32, G_MAXINT32, &i, NULL);
              else
                ok = g_ascii_string_to_unsigned (v, 10, 0, t[2][0] == 'u' ? G_MAXUINT32 : G_MAXINT64,
                                                 &u, NULL);
              if (!ok)
                {
                  g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                               _("query parameter “%s”: “%s” is not a valid number"),
                               (const char *) k, (const char *) v);
                  g_variant_builder_clear (&b);
                  return NULL;
                }
              if (t[2][0] == 'i')
                g_variant_builder_add (&b, "{sv}", t[1], g_variant_new_int32 ((gint32) i));
              else if (t[2][0] == 'u')
                g_variant_builder_add (&b, "{sv}", t[1], g_variant_new_uint32 ((guint32) u));
              else
                g_variant_builder_add (&b, "{sv}", t[1], g_variant_new_uint64 (u));
            }
        }
    }
  return g_variant_builder_end (&b);
}

static void
json_string (GString *out, const char *s)
{
  static const char hex[] = "0123456789abcdef";
  const char *run = s, *p;

  g_string_append_c (out, '"');
  for (p = s; *p; p++)
    {
      unsigned char c = (unsigned char) *p;
      if (c >= 0x20 && c != 0x7f && c != '"' && c != '\\')
        continue;
      g_string_append_len (out, run, p - run);
      run = p + 1;
      g_string_append_c (out, '\\');
      switch (c)
        {
        case '"': case '\\': g_string_append_c (out, (char) c); break;
        case '\n': g_string_append_c (out, 'n'); break;
        case '\t': g_string_append_c (out, 't'); break;
        case '\r': g_string_append_c (out, 'r'); break;
        case '\b': g_string_append_c (out, 'b'); break;
        case '\f': g_string_append_c (out, 'f'); break;
        default:
          g_string_append (out, "u00");
          g_string_append_c (out, hex[c >> 4]);
          g_string_append_c (out, hex[c & 0xf]);
        }
    }
  g_string_append_len (out, run, p - run);
  g_string_append_c (out, '"');
}

/* A dictionary key that is not a string, as json-glib names it. */
static char *
key_string (GVariant *key)
{
  switch (g_variant_classify (key))
    {
    case G_VARIANT_CLASS_STRING:
    case G_VARIANT_CLASS_OBJECT_PATH:
    case G_VARIANT_CLASS_SIGNATURE:
      return g_variant_dup_string (key, NULL);
    case G_VARIANT_CLASS_BOOLEAN:
      return g_strdup (g_variant_get_boolean (key) ? "true" : "false");
    case G_VARIANT_CLASS_DOUBLE:
      {
        char buf[G_ASCII_DTOSTR_BUF_SIZE];
        return g_strdup (g_ascii_formatd (buf, sizeof buf, "%f", g_variant_get_double (key)));
      }
    default:
      return g_variant_print (key, FALSE);
    }
}

/* What orch_rest_variant_to_json writes for a string and a double, for
 * the writers that read D-Bus replies without GVariant
 * (orch-rest-message.c). */
void
orch_rest_json_append_string (GString *out, const char *s)
{
  json_string (out, s);
}

void
orch_rest_json_append_double (GString *out, double d)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (!isfinite (d))
    {
      g_string_append (out, "null");
      return;
    }
  g_string_append (out, g_ascii_dtostr (buf, sizeof buf, d));
  /* A double stays a double: 1.0, not 1. */
  if (strpbrk (buf, ".e") == NULL)
    g_string_append (out, ".0");
}

void
orch_rest_variant_to_json (GString *out, GVariant *v)
{
  GVariantClass class = g_variant_classify (v);
  gsize n;

  switch (class)
    {
    case G_VARIANT_CLASS_BOOLEAN:
      g_string_append (out, g_variant_get_boolean (v) ? "true" : "false");
      return;
    case G_VARIANT_CLASS_BYTE:
      g_string_append_printf (out, "%u", g_variant_get_byte (v));
      return;
    case G_VARIANT_CLASS_INT16:
      g_string_append_printf (out, "%d", g_variant_get_int16 (v));
      return;
    case G_VARIANT_CLASS_UINT16:
      g_string_append_printf (out, "%u", g_variant_get_uint16 (v));
      return;
    case G_VARIANT_CLASS_INT32:
      g_string_append_printf (out, "%d", g_variant_get_int32 (v));
      return;
    case G_VARIANT_CLASS_UINT32:
      g_string_append_printf (out, "%u", g_variant_get_uint32 (v));
      return;
    case G_VARIANT_CLASS_INT64:
      g_string_append_printf (out, "%" G_GINT64_FORMAT, g_variant_get_int64 (v));
      return;
    case G_VARIANT_CLASS_UINT64:
      g_string_append_printf (out, "%" G_GUINT64_FORMAT, g_variant_get_uint64 (v));
      return;
    case G_VARIANT_CLASS_HANDLE:
      g_string_append_printf (out, "%d", g_variant_get_handle (v));
      return;
    case G_VARIANT_CLASS_DOUBLE:
      orch_rest_json_append_double (out, g_variant_get_double (v));
      return;
    case G_VARIANT_CLASS_STRING:
    case G_VARIANT_CLASS_OBJECT_PATH:
    case G_VARIANT_CLASS_SIGNATURE:
      json_string (out, g_variant_get_string (v, NULL));
      return;
    case G_VARIANT_CLASS_VARIANT:
    case G_VARIANT_CLASS_MAYBE:
      {
        g_autoptr(GVariant) inner = class == G_VARIANT_CLASS_VARIANT ? g_variant_get_variant (v)
                                                                     : g_variant_get_maybe (v);
        if (inner)
          orch_rest_variant_to_json (out, inner);
        else
          g_string_append (out, "null");
        return;
      }
    case G_VARIANT_CLASS_DICT_ENTRY:
    case G_VARIANT_CLASS_ARRAY:
    case G_VARIANT_CLASS_TUPLE:
      break;
    default:
      g_string_append (out, "null");
      return;
    }

  n = g_variant_n_children (v);
  if (class == G_VARIANT_CLASS_DICT_ENTRY ||
      (class == G_VARIANT_CLASS_ARRAY && g_variant_get_type_string (v)[1] == '{'))
    {
      /* A dictionary (or one entry of it): an object. */
      gboolean one = class == G_VARIANT_CLASS_DICT_ENTRY;
      g_string_append_c (out, '{');
      for (gsize i = 0; i < (one ? 1 : n); i++)
        {
          g_autoptr(GVariant) entry = one ? g_variant_ref (v) : g_variant_get_child_value (v, i);
          g_autoptr(GVariant) key = g_variant_get_child_value (entry, 0);
          g_autoptr(GVariant) value = g_variant_get_child_value (entry, 1);
          if (i)
            g_string_append_c (out, ',');
          if (g_variant_is_of_type (key, G_VARIANT_TYPE_STRING))
            json_string (out, g_variant_get_string (key, NULL));
          else
            {
              g_autofree char *name = key_string (key);
              json_string (out, name);
            }
          g_string_append_c (out, ':');
          orch_rest_variant_to_json (out, value);
        }
      g_string_append_c (out, '}');
      return;
    }
  g_string_append_c (out, '[');
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) child = g_variant_get_child_value (v, i);
      if (i)
        g_string_append_c (out, ',');
      orch_rest_variant_to_json (out, child);
    }
  g_string_append_c (out, ']');
}

char *
orch_rest_error_json (const char *name, const char *message)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "error");
  json_builder_add_string_value (b, name);
  json_builder_set_member_name (b, "message");
  json_builder_add_string_value (b, message);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  return json_to_string (root, FALSE);
}
