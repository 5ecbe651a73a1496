/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "orch-ctl.h"
#include "orch-ctl-units.h"

#include <glib/gi18n.h>

struct _OrchCtlTable {
  OrchCtl *ctl;
  guint n_cols;
  GPtrArray *rows;        /* GStrv; row 0 is the header */
  GPtrArray *colours;     /* per row: the SGR of the coloured cell, or NULL */
  GArray *colour_cols;    /* per row: which cell that is */
  gboolean *right;
};

OrchCtlTable *
orch_ctl_table_new (OrchCtl *ctl, const char *const *headers)
{
  OrchCtlTable *t = g_new0 (OrchCtlTable, 1);

  t->ctl = ctl;
  t->n_cols = g_strv_length ((char **) headers);
  t->rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  t->colours = g_ptr_array_new ();
  t->colour_cols = g_array_new (FALSE, FALSE, sizeof (guint));
  t->right = g_new0 (gboolean, t->n_cols);
  orch_ctl_table_add (t, headers, 0, ORCH_SGR_BOLD);
  return t;
}

void
orch_ctl_table_free (OrchCtlTable *t)
{
  g_ptr_array_unref (t->rows);
  g_ptr_array_unref (t->colours);
  g_array_unref (t->colour_cols);
  g_free (t->right);
  g_free (t);
}

void
orch_ctl_table_align_right (OrchCtlTable *t, guint column)
{
  g_return_if_fail (column < t->n_cols);
  t->right[column] = TRUE;
}

void
orch_ctl_table_add (OrchCtlTable *t, const char *const *cells, guint colour_column, const char *colour)
{
  /* A row is the table's columns, whether or not @cells ends in NULL. */
  char **row = g_new0 (char *, t->n_cols + 1);

  for (guint i = 0; i < t->n_cols; i++)
    row[i] = g_strdup (cells[i]);
  g_ptr_array_add (t->rows, row);
  g_ptr_array_add (t->colours, (gpointer) colour);
  g_array_append_val (t->colour_cols, colour_column);
}

void
orch_ctl_table_print (OrchCtlTable *t, GString *out, guint max_width)
{
  g_autofree guint *width = g_new0 (guint, t->n_cols);

  for (guint r = 0; r < t->rows->len; r++)
    {
      char **row = t->rows->pdata[r];
      for (guint c = 0; c < t->n_cols; c++)
        width[c] = MAX (width[c], (guint) g_utf8_strlen (row[c], -1));
    }
  for (guint r = 0; r < t->rows->len; r++)
    {
      char **row = t->rows->pdata[r];
      const char *colour = t->colours->pdata[r];
      guint colour_col = g_array_index (t->colour_cols, guint, r);
      guint used = 0;

      for (guint c = 0; c < t->n_cols; c++)
        {
          guint len = (guint) g_utf8_strlen (row[c], -1);
          /* The last column is not padded: no trailing blanks. */
          guint cell = c + 1 == t->n_cols && !t->right[c] ? len : width[c];
          guint room = max_width ? (max_width > used ? max_width - used : 0) : G_MAXUINT;
          gboolean paint = colour && (r == 0 || c == colour_col);
          g_autofree char *text = NULL;

          if (room == 0)
            break;
          if (c > 0)
            {
              g_string_append_c (out, ' ');
              used++;
              room--;
            }
          if (t->right[c] && len < cell)
            {
              guint pad = MIN (cell - len, room);
              g_string_append_printf (out, "%*s", (int) pad, "");
              used += pad;
              room -= pad;
            }
          text = len > room ? g_utf8_substring (row[c], 0, room) : g_strdup (row[c]);
          len = MIN (len, room);
          g_string_append_printf (out, "%s%s%s", paint ? orch_ctl_sgr (t->ctl, colour) : "", text,
                                  paint && *orch_ctl_sgr (t->ctl, colour) ? "\033[0m" : "");
          used += len;
          if (!t->right[c] && c + 1 < t->n_cols && len < cell)
            {
              guint pad = MIN (cell - len, max_width ? max_width - MIN (used, max_width) : G_MAXUINT);
              g_string_append_printf (out, "%*s", (int) pad, "");
              used += pad;
            }
        }
      g_string_append_c (out, '\n');
    }
}

static int
by_cpu (gconstpointer a, gconstpointer b)
{
  double x = orch_ctl_rec_double (*(GVariant **) a, "cpu_percent");
  double y = orch_ctl_rec_double (*(GVariant **) b, "cpu_percent");

  return (x < y) - (x > y);
}

OrchCtlTable *
orch_ctl_job_table (OrchCtl *ctl, GVariant *jobs, gboolean busiest_first)
{
  /* TRANSLATORS: column headers of the job table, keep them short. */
  const char *headers[] = { _("ID"), _("NAME"), _("STATE"), _("PID"), _("CPU%"), _("MEMORY"), _("UPTIME"), NULL };
  OrchCtlTable *t = orch_ctl_table_new (ctl, headers);
  gint64 now = g_get_real_time ();
  g_autoptr(GPtrArray) sorted = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
  GVariantIter iter;
  GVariant *rec;

  orch_ctl_table_align_right (t, 3);
  orch_ctl_table_align_right (t, 4);
  orch_ctl_table_align_right (t, 5);
  g_variant_iter_init (&iter, jobs);
  while ((rec = g_variant_iter_next_value (&iter)))
    g_ptr_array_add (sorted, rec);
  /* top: busiest first; list keeps List's order (oldest first). */
  if (busiest_first && sorted->len > 1)
    g_ptr_array_sort (sorted, by_cpu);

  for (guint i = 0; i < sorted->len; i++)
    {
      GVariant *r = sorted->pdata[i];
      const char *state = orch_ctl_rec_str (r, "state");
      guint64 pid = orch_ctl_rec_u64 (r, "pid");
      gboolean live = !orch_ctl_state_is_final (state);
      g_autofree char *pid_s = pid && live ? g_strdup_printf ("%" G_GUINT64_FORMAT, pid) : g_strdup ("-");
      g_autofree char *cpu = live ? orch_ctl_format_percent (r, "cpu_percent") : g_strdup ("-");
      g_autofree char *mem = live && orch_ctl_rec_has (r, "memory_bytes")
                                 ? orch_ctl_format_size (orch_ctl_rec_u64 (r, "memory_bytes"))
                                 : g_strdup ("-");
      g_autofree char *up = orch_ctl_job_uptime (r, now);
      const char *name = orch_ctl_rec_str (r, "name");
      const char *cells[] = { orch_ctl_rec_str (r, "id"), *name ? name : "-", state, pid_s, cpu, mem, up, NULL };

      orch_ctl_table_add (t, cells, 2, orch_ctl_state_colour (state));
    }
  return t;
}
