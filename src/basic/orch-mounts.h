/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  char *mount_point;
  char *source;
  char *fstype;
} OrchMount;

void orch_mount_free (OrchMount *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OrchMount, orch_mount_free)

/* The file system types of /proc/filesystems that need a device: the
 * "real" ones, as df and psutil count them (no "nodev" mark). */
int orch_parse_filesystems (const char *text, GHashTable **ret_real_types);

/* The mounts of /proc/self/mountinfo whose type is in @real_types (all of
 * them when NULL), first mount of each mount point only, octal escapes
 * (\040) undone.  A malformed line is -EBADMSG. */
int orch_parse_mounts (const char *text, GHashTable *real_types, GPtrArray **ret_mounts);

G_END_DECLS
