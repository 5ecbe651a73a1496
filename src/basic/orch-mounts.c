/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "orch-mounts.h"

#include <errno.h>
#include <string.h>

void
orch_mount_free (OrchMount *m)
{
  if (m == NULL)
    return;
  g_free (m->mount_point);
  g_free (m->source);
  g_free (m->fstype);
  g_free (m);
}

int
orch_parse_filesystems (const char *text, GHashTable **ret_real_types)
{
  g_autoptr(GHashTable) real = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);

  for (char **l = lines; *l; l++)
    {
      const char *tab = strchr (*l, '\t');
      if (**l == '\0')
        continue;
      if (tab == NULL)
        return -EBADMSG;
      /* "nodev\tproc" or "\text4" */
      if (tab == *l && tab[1] != '\0')
        g_hash_table_add (real, g_strdup (tab + 1));
    }
  *ret_real_types = g_steal_pointer (&real);
  return 0;
}

int
orch_parse_mounts (const char *text, GHashTable *real_types, GPtrArray **ret_mounts)
{
  g_autoptr(GPtrArray) mounts = g_ptr_array_new_with_free_func ((GDestroyNotify) orch_mount_free);
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);

  for (char **l = lines; *l; l++)
    {
      g_auto(GStrv) f = NULL;
      guint n, sep;
      OrchMount *m;

      if (**l == '\0')
        continue;
      f = g_strsplit (*l, " ", -1);
      n = g_strv_length (f);
      /* id parent maj:min root mountpoint options [optional...] - fstype source superopts */
      for (sep = 6; sep < n && strcmp (f[sep], "-") != 0; sep++)
        ;
      if (n < 7 || sep + 2 >= n)
        return -EBADMSG;
      if (real_types && !g_hash_table_contains (real_types, f[sep + 1]))
        continue;
      m = g_new0 (OrchMount, 1);
      m->mount_point = g_strcompress (f[4]);
      m->fstype = g_strdup (f[sep + 1]);
      m->source = g_strcompress (f[sep + 2]);
      /* Over-mounts: the first line names what df shows for the path. */
      if (g_hash_table_contains (seen, m->mount_point))
        {
          orch_mount_free (m);
          continue;
        }
      g_ptr_array_add (mounts, m);
      g_hash_table_add (seen, m->mount_point);
    }
  *ret_mounts = g_steal_pointer (&mounts);
  return 0;
}
