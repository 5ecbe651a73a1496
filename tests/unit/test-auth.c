/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "core/orch-auth.h"

#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>

/* A group that exists on every system, to stand for [auth] group. */
static gid_t
existing_group (char **ret_name)
{
  struct group *gr = getgrgid (0);

  g_assert_nonnull (gr);
  *ret_name = g_strdup (gr->gr_name);
  return gr->gr_gid;
}

static void
test_decide (void)
{
  g_autoptr(OrchConfig) c = orch_config_new ();
  gid_t in_group, other = 54321;
  gid_t groups[2];

  g_free (c->auth_group);
  in_group = existing_group (&c->auth_group);
  groups[0] = 1000;
  groups[1] = in_group;

  /* Root and public calls: always. */
  g_assert_cmpint (orch_auth_decide (c, ORCH_ACCESS_MANAGE, 0, NULL, 0), ==, ORCH_AUTH_ALLOW);
  g_assert_cmpint (orch_auth_decide (c, ORCH_ACCESS_PUBLIC, 1000, NULL, 0), ==, ORCH_AUTH_ALLOW);
  /* The group, as a supplementary group. */
  g_assert_cmpint (orch_auth_decide (c, ORCH_ACCESS_MANAGE, 1000, groups, 2), ==, ORCH_AUTH_ALLOW);
  g_assert_cmpint (orch_auth_decide (c, ORCH_ACCESS_READ, 1000, groups, 2), ==, ORCH_AUTH_ALLOW);
  /* Anyone else: polkit's to say, or no. */
  g_assert_cmpint (orch_auth_decide (c, ORCH_ACCESS_MANAGE, 1000, &other, 1), ==, ORCH_AUTH_ASK_POLKIT);
  g_assert_cmpint (orch_auth_decide (c, ORCH_ACCESS_READ, 1000, &other, 1), ==, ORCH_AUTH_ASK_POLKIT);
  c->auth_polkit = FALSE;
  g_assert_cmpint (orch_auth_decide (c, ORCH_ACCESS_MANAGE, 1000, &other, 1), ==, ORCH_AUTH_DENY);
  g_assert_cmpint (orch_auth_decide (c, ORCH_ACCESS_READ, 1000, &other, 1), ==, ORCH_AUTH_DENY);
  /* read=everyone opens reading, never managing. */
  g_free (c->auth_read);
  c->auth_read = g_strdup ("everyone");
  g_assert_cmpint (orch_auth_decide (c, ORCH_ACCESS_READ, 1000, &other, 1), ==, ORCH_AUTH_ALLOW);
  g_assert_cmpint (orch_auth_decide (c, ORCH_ACCESS_MANAGE, 1000, &other, 1), ==, ORCH_AUTH_DENY);
  /* A group that does not exist grants nothing. */
  g_free (c->auth_group);
  c->auth_group = g_strdup ("no-such-group-orch-test");
  g_assert_cmpint (orch_auth_decide (c, ORCH_ACCESS_MANAGE, 1000, groups, 2), ==, ORCH_AUTH_DENY);

  g_assert_cmpstr (orch_auth_polkit_action (ORCH_ACCESS_MANAGE), ==, "org.orchestrator.manage-jobs");
  g_assert_cmpstr (orch_auth_polkit_action (ORCH_ACCESS_READ), ==, "org.orchestrator.read");
}

static void
test_run_as (void)
{
  g_autoptr(GVariant) plain = g_variant_ref_sink (g_variant_new_parsed ("{'command': <['true']>}"));
  g_autoptr(GVariant) as_root = g_variant_ref_sink (g_variant_new_parsed ("{'command': <['true']>, 'user': <'root'>}"));
  g_autoptr(GVariant) as_zero = g_variant_ref_sink (g_variant_new_parsed ("{'command': <['true']>, 'user': <'0'>}"));
  g_autoptr(GVariant) as_self = g_variant_ref_sink (g_variant_new_parsed ("{'command': <['true']>, 'user': <'4242'>}"));
  g_autoptr(GVariant) as_nobody = g_variant_ref_sink (g_variant_new_parsed ("{'command': <['true']>, 'user': <'no-such-user-x'>}"));
  gboolean other;

  /* Root: as it is. */
  {
    g_autoptr(GVariant) r = orch_auth_spec_run_as (as_root, 0, &other);
    g_assert_false (other);
    g_assert_true (g_variant_equal (r, as_root));
  }
  /* Anyone else without a user: runs as itself. */
  {
    g_autoptr(GVariant) r = orch_auth_spec_run_as (plain, 4242, &other);
    const char *user = NULL;
    g_assert_false (other);
    g_assert_true (g_variant_lookup (r, "user", "&s", &user));
    g_assert_cmpstr (user, ==, "4242");
  }
  {
    g_autoptr(GVariant) r = orch_auth_spec_run_as (as_self, 4242, &other);
    g_assert_false (other);
  }
  /* Naming somebody else, root by name or number, or nobody known. */
  {
    g_autoptr(GVariant) r1 = orch_auth_spec_run_as (as_root, 4242, &other);
    g_assert_true (other);
  }
  {
    g_autoptr(GVariant) r2 = orch_auth_spec_run_as (as_zero, 4242, &other);
    g_assert_true (other);
  }
  {
    g_autoptr(GVariant) r3 = orch_auth_spec_run_as (as_nobody, 4242, &other);
    g_assert_true (other);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/auth/decide", test_decide);
  g_test_add_func ("/auth/run-as", test_run_as);
  return g_test_run ();
}
