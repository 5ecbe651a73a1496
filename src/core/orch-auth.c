/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "orch-auth.h"

#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>

static gboolean
lookup_group (const char *name, gid_t *ret_gid)
{
  struct group gr, *res = NULL;
  char buf[16384];

  if (name == NULL || *name == '\0')
    return FALSE;
  if (getgrnam_r (name, &gr, buf, sizeof buf, &res) != 0 || res == NULL)
    return FALSE;
  *ret_gid = gr.gr_gid;
  return TRUE;
}

OrchAuthVerdict
orch_auth_decide (const OrchConfig *config, OrchAccess access, uid_t uid,
                  const gid_t *gids, gsize n_gids)
{
  gid_t group;

  /* Root, and the daemon's own user (--user mode, a developer's run):
   * they could do all of it without us. */
  if (access == ORCH_ACCESS_PUBLIC || uid == 0 || uid == geteuid ())
    return ORCH_AUTH_ALLOW;
  /* Looked up on every call: the group may be created after we start. */
  if (lookup_group (config->auth_group, &group))
    for (gsize i = 0; i < n_gids; i++)
      if (gids[i] == group)
        return ORCH_AUTH_ALLOW;
  if (access == ORCH_ACCESS_READ && g_strcmp0 (config->auth_read, "everyone") == 0)
    return ORCH_AUTH_ALLOW;
  return config->auth_polkit ? ORCH_AUTH_ASK_POLKIT : ORCH_AUTH_DENY;
}

OrchAuthVerdict
orch_auth_decide_uid (const OrchConfig *config, OrchAccess access, uid_t uid)
{
  struct passwd pw, *res = NULL;
  char buf[16384];
  int n = 64;
  g_autofree gid_t *gids = NULL;

  if (access == ORCH_ACCESS_PUBLIC || uid == 0 || uid == geteuid ())
    return ORCH_AUTH_ALLOW;
  if (getpwuid_r (uid, &pw, buf, sizeof buf, &res) != 0 || res == NULL)
    return orch_auth_decide (config, access, uid, NULL, 0);
  gids = g_new (gid_t, n);
  if (getgrouplist (pw.pw_name, pw.pw_gid, gids, &n) < 0)
    {
      gids = g_renew (gid_t, gids, n);
      if (getgrouplist (pw.pw_name, pw.pw_gid, gids, &n) < 0)
        n = 0;
    }
  return orch_auth_decide (config, access, uid, gids, (gsize) n);
}

const char *
orch_auth_polkit_action (OrchAccess access)
{
  return access == ORCH_ACCESS_MANAGE ? ORCH_POLKIT_ACTION_MANAGE : ORCH_POLKIT_ACTION_READ;
}

/* The uid @user (a name or a number) stands for, as the spec's parser
 * will resolve it. */
static gboolean
user_to_uid (const char *user, uid_t *ret_uid)
{
  struct passwd pw, *res = NULL;
  char buf[16384];
  guint64 n;

  if (g_ascii_string_to_unsigned (user, 10, 0, G_MAXUINT32 - 1, &n, NULL))
    {
      *ret_uid = (uid_t) n;
      return TRUE;
    }
  if (getpwnam_r (user, &pw, buf, sizeof buf, &res) != 0 || res == NULL)
    return FALSE;
  *ret_uid = pw.pw_uid;
  return TRUE;
}

GVariant *
orch_auth_spec_run_as (GVariant *spec, uid_t caller, gboolean *ret_other_user)
{
  g_autoptr(GVariant) user = NULL;
  g_auto(GVariantBuilder) b = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  g_autofree char *uid_text = NULL;
  uid_t named;

  *ret_other_user = FALSE;
  /* A daemon not running as root cannot change users: its own user's
   * jobs run as it does. */
  if (caller == 0 || caller == geteuid () || !g_variant_is_of_type (spec, G_VARIANT_TYPE_VARDICT))
    return g_variant_ref (spec);

  user = g_variant_lookup_value (spec, "user", NULL);
  if (user)
    {
      /* Not a string: the spec's parser says so; an unknown name is
       * somebody else as far as the caller's rights go. */
      if (g_variant_is_of_type (user, G_VARIANT_TYPE_STRING) &&
          (!user_to_uid (g_variant_get_string (user, NULL), &named) || named != caller))
        *ret_other_user = TRUE;
      return g_variant_ref (spec);
    }

  /* No user: the caller's own uid, never the daemon's root. */
  uid_text = g_strdup_printf ("%u", (unsigned) caller);
  {
    GVariantIter it;
    const char *key;
    GVariant *value;
    g_variant_iter_init (&it, spec);
    while (g_variant_iter_next (&it, "{&sv}", &key, &value))
      {
        g_variant_builder_add (&b, "{sv}", key, value);
        g_variant_unref (value);
      }
  }
  g_variant_builder_add (&b, "{sv}", "user", g_variant_new_string (uid_text));
  return g_variant_ref_sink (g_variant_builder_end (&b));
}
