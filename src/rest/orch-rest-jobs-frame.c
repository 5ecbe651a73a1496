/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "orch-rest-jobs-frame.h"
#include "orch-rest-json.h"
#include "orch-rest-sdbus.h"

#include <errno.h>
#include <string.h>

/* The keys of a row, in the frame's order; each with the D-Bus type the
 * record gives it.  A record holding one with another type is malformed. */
typedef enum { K_ID, K_PID, K_CPU, K_MEM, K_IO_READ, K_IO_WRITE, N_KEYS } Key;

static const struct {
  const char *name;
  char type;
} keys[N_KEYS] = {
  [K_ID] = { "id", 's' },
  [K_PID] = { "pid", 'u' },
  [K_CPU] = { "cpu_percent", 'd' },
  [K_MEM] = { "memory_bytes", 't' },
  [K_IO_READ] = { "io_read_bytes", 't' },
  [K_IO_WRITE] = { "io_write_bytes", 't' },
};

typedef struct {
  const char *id;
  guint32 pid;
  double cpu;
  guint64 u64[N_KEYS]; /* memory and io, by key */
  guint have;          /* bit per Key */
} Row;

GVariant *
orch_rest_jobs_frame_list_args (void)
{
  const char *names[N_KEYS + 1];

  for (int k = 0; k < N_KEYS; k++)
    names[k] = keys[k].name;
  names[N_KEYS] = NULL;
  return orch_rest_list_args (names);
}

static int
key_of (const char *name)
{
  for (int k = 0; k < N_KEYS; k++)
    if (strcmp (name, keys[k].name) == 0)
      return k;
  return -1;
}

/* A row with a process, appended after @first (FALSE once one is). */
static void
write_row (GString *out, const Row *row, gboolean *first)
{
  if (!(row->have & (1u << K_ID)) || row->pid == 0)
    return;
  if (!*first)
    g_string_append_c (out, ',');
  *first = FALSE;
  g_string_append (out, "{\"id\":");
  orch_rest_json_append_string (out, row->id);
  g_string_append_printf (out, ",\"pid\":%u,\"cpu_percent\":", row->pid);
  orch_rest_json_append_double (out, row->cpu);
  g_string_append_printf (out, ",\"memory_bytes\":%" G_GUINT64_FORMAT, row->u64[K_MEM]);
  for (int k = K_IO_READ; k <= K_IO_WRITE; k++)
    if (row->have & (1u << k))
      g_string_append_printf (out, ",\"%s\":%" G_GUINT64_FORMAT, keys[k].name, row->u64[k]);
  g_string_append_c (out, '}');
}

/* One a{sv} record, entered: the wanted values read, the rest skipped. */
static int
read_record (sd_bus_message *m, Row *row)
{
  int r;

  while ((r = sd_bus_message_enter_container (m, 'e', "sv")) > 0)
    {
      const char *name, *contents;
      int k;

      if ((r = sd_bus_message_read_basic (m, 's', &name)) < 0)
        return r;
      k = key_of (name);
      if (k < 0)
        r = sd_bus_message_skip (m, "v");
      else
        {
          char type[2] = { keys[k].type, 0 };
          void *dest = k == K_ID    ? (void *) &row->id
                       : k == K_PID ? (void *) &row->pid
                       : k == K_CPU ? (void *) &row->cpu
                                    : (void *) &row->u64[k];
          if ((r = sd_bus_message_peek_type (m, NULL, &contents)) < 0)
            return r;
          if (contents == NULL || strcmp (contents, type) != 0)
            return -EBADMSG;
          if ((r = sd_bus_message_enter_container (m, 'v', type)) < 0 ||
              (r = sd_bus_message_read_basic (m, type[0], dest)) < 0 ||
              (r = sd_bus_message_exit_container (m)) < 0)
            return r;
          row->have |= 1u << k;
        }
      if (r < 0 || (r = sd_bus_message_exit_container (m)) < 0)
        return r;
    }
  return r;
}

int
orch_rest_jobs_frame_from_message (GString *out, sd_bus_message *m)
{
  gsize start = out->len;
  gboolean first = TRUE;
  int r;

  g_string_append (out, "{\"type\":\"jobs\",\"data\":[");
  if ((r = sd_bus_message_enter_container (m, 'a', "a{sv}")) < 0)
    goto fail;
  while ((r = sd_bus_message_enter_container (m, 'a', "{sv}")) > 0)
    {
      Row row = { 0 };
      if ((r = read_record (m, &row)) < 0 || (r = sd_bus_message_exit_container (m)) < 0)
        goto fail;
      write_row (out, &row, &first);
    }
  if (r < 0 || (r = sd_bus_message_exit_container (m)) < 0)
    goto fail;
  g_string_append (out, "]}");
  return 0;

fail:
  g_string_truncate (out, start);
  return r == 0 ? -EBADMSG : r;
}

void
orch_rest_jobs_frame_from_variant (GString *out, GVariant *jobs)
{
  GVariantIter it;
  GVariant *rec;
  gboolean first = TRUE;

  g_string_append (out, "{\"type\":\"jobs\",\"data\":[");
  g_variant_iter_init (&it, jobs);
  while ((rec = g_variant_iter_next_value (&it)))
    {
      g_autoptr(GVariant) owned = rec;
      Row row = { 0 };

      if (g_variant_lookup (rec, "id", "&s", &row.id))
        row.have |= 1u << K_ID;
      g_variant_lookup (rec, "pid", "u", &row.pid);
      g_variant_lookup (rec, "cpu_percent", "d", &row.cpu);
      g_variant_lookup (rec, "memory_bytes", "t", &row.u64[K_MEM]);
      for (int k = K_IO_READ; k <= K_IO_WRITE; k++)
        if (g_variant_lookup (rec, keys[k].name, "t", &row.u64[k]))
          row.have |= 1u << k;
      write_row (out, &row, &first);
    }
  g_string_append (out, "]}");
}
