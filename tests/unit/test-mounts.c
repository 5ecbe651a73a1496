/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "basic/orch-cgroup.h"
#include "basic/orch-mounts.h"

#include <errno.h>

static char *
fixture (const char *name)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "..", "fixtures", name, NULL);
  char *text = NULL;

  g_assert_cmpint (orch_read_small_file (path, &text), ==, 0);
  return text;
}

static const OrchMount *
find (GPtrArray *mounts, const char *mount_point)
{
  for (guint i = 0; i < mounts->len; i++)
    if (g_strcmp0 (((OrchMount *) mounts->pdata[i])->mount_point, mount_point) == 0)
      return mounts->pdata[i];
  return NULL;
}

static void
test_real_types (void)
{
  g_autofree char *fs = fixture ("filesystems");
  g_autoptr(GHashTable) real = NULL;

  g_assert_cmpint (orch_parse_filesystems (fs, &real), ==, 0);
  g_assert_true (g_hash_table_contains (real, "ext4"));
  g_assert_true (g_hash_table_contains (real, "btrfs"));
  g_assert_false (g_hash_table_contains (real, "proc"));
  g_assert_false (g_hash_table_contains (real, "tmpfs"));
  g_assert_false (g_hash_table_contains (real, "cgroup2"));
  g_assert_cmpint (orch_parse_filesystems ("garbage", &real), ==, -EBADMSG);
}

static void
test_mounts (void)
{
  g_autofree char *fs = fixture ("filesystems");
  g_autofree char *v2 = fixture ("mountinfo-v2");
  g_autofree char *hybrid = fixture ("mountinfo-hybrid");
  g_autoptr(GHashTable) real = NULL;
  g_autoptr(GPtrArray) mounts = NULL;
  g_autoptr(GPtrArray) all = NULL;
  g_autoptr(GPtrArray) host = NULL;
  const OrchMount *root;

  g_assert_cmpint (orch_parse_filesystems (fs, &real), ==, 0);
  g_assert_cmpint (orch_parse_mounts (v2, real, &mounts), ==, 0);
  /* Only / is a real file system in that mountinfo. */
  g_assert_cmpuint (mounts->len, ==, 1);
  root = find (mounts, "/");
  g_assert_nonnull (root);
  g_assert_cmpstr (root->fstype, ==, "ext4");
  g_assert_cmpstr (root->source, ==, "/dev/nvme0n1p2");

  /* Without a filter every mount counts, escapes undone. */
  g_assert_cmpint (orch_parse_mounts (v2, NULL, &all), ==, 0);
  g_assert_nonnull (find (all, "/mnt/with space"));
  g_assert_nonnull (find (all, "/sys/fs/cgroup"));

  g_assert_cmpint (orch_parse_mounts (hybrid, real, &host), ==, 0);
  for (guint i = 0; i < host->len; i++)
    g_assert_true (g_hash_table_contains (real, ((OrchMount *) host->pdata[i])->fstype));

  g_assert_cmpint (orch_parse_mounts ("1 2 3\n", NULL, &all), ==, -EBADMSG);
  g_assert_cmpint (orch_parse_mounts ("22 1 259:2 / / rw,relatime shared:1 -\n", NULL, &all), ==, -EBADMSG);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/mounts/real-types", test_real_types);
  g_test_add_func ("/mounts/mounts", test_mounts);
  return g_test_run ();
}
