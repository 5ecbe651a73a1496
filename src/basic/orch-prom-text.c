/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "orch-prom-text.h"

#include <errno.h>
#include <math.h>
#include <string.h>

gboolean
orch_prom_name_is_valid (const char *name)
{
  if (name == NULL || !(g_ascii_isalpha (name[0]) || name[0] == '_' || name[0] == ':'))
    return FALSE;
  for (const char *p = name + 1; *p; p++)
    if (!(g_ascii_isalnum (*p) || *p == '_' || *p == ':'))
      return FALSE;
  return TRUE;
}

/* Past a label set "{...}" starting at @p (quoted values may hold "}"
 * and escaped quotes); NULL if it does not close before @end. */
static const char *
skip_labels (const char *p, const char *end)
{
  gboolean quoted = FALSE;

  for (p++; p < end; p++)
    {
      if (quoted && *p == '\\')
        p++;
      else if (*p == '"')
        quoted = !quoted;
      else if (!quoted && *p == '}')
        return p + 1;
    }
  return NULL;
}

static gboolean
parse_value (const char *p, const char *end, double *ret)
{
  char buf[64];
  gsize n;
  char *tail;

  while (p < end && (*p == ' ' || *p == '\t'))
    p++;
  for (n = 0; p + n < end && p[n] != ' ' && p[n] != '\t'; n++)
    ;
  if (n == 0 || n >= sizeof buf)
    return FALSE;
  memcpy (buf, p, n);
  buf[n] = '\0';
  *ret = g_ascii_strtod (buf, &tail);
  return *tail == '\0' && isfinite (*ret);
}

int
orch_prom_text_sum (const char *text, gsize len, const char *name, double *ret)
{
  const char *p = text, *end = text + len;
  gsize name_len = strlen (name);
  gboolean found = FALSE;
  double sum = 0;

  while (p < end)
    {
      const char *eol = memchr (p, '\n', (gsize) (end - p));
      const char *line = p, *q;
      double v;

      if (eol == NULL)
        eol = end;
      p = eol + 1;
      while (line < eol && (*line == ' ' || *line == '\t'))
        line++;
      if (line >= eol || *line == '#' || (gsize) (eol - line) < name_len ||
          memcmp (line, name, name_len) != 0)
        continue;
      q = line + name_len;
      /* "name", "name{...}", not "name_total". */
      if (q < eol && *q == '{')
        q = skip_labels (q, eol);
      else if (q < eol && *q != ' ' && *q != '\t')
        continue;
      if (q == NULL || !parse_value (q, eol[-1] == '\r' ? eol - 1 : eol, &v))
        return -EBADMSG;
      sum += v;
      found = TRUE;
    }
  if (!found)
    return -ENOENT;
  *ret = sum;
  return 0;
}
