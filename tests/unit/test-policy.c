/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "core/orch-error.h"
#include "core/orch-policy.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static OrchSpec *
spec_for (const char *const *argv)
{
  OrchSpec *s = orch_spec_new ();

  s->argv = g_strdupv ((char **) argv);
  s->name = g_strdup ("t");
  return s;
}

static void
test_deny (void)
{
  g_autoptr(OrchConfig) c = orch_config_new ();
  const struct {
    const char *const argv[5];
    const char *rule; /* NULL = allowed */
  } cases[] = {
    { { "mkfs.ext4", "/dev/sda1" }, "mkfs.*" },
    { { "/sbin/mkfs.ext4", "/dev/sda1" }, "mkfs.*" },
    { { "mkfs" }, "mkfs" },
    { { "reboot" }, "reboot" },
    { { "/usr/sbin/shutdown", "-h", "now" }, "shutdown" },
    { { "rm", "-rf", "/" }, "rm -rf /" },
    { { "/bin/rm", "-rf", "/" }, "rm -rf /" },
    { { "rm", "-fr", "/" }, "rm -fr /" },
    { { "rm", "-rf", "--no-preserve-root", "/" }, "rm -rf --no-preserve-root /" },
    { { "dd", "if=/dev/zero", "of=/dev/sda" }, "dd * of=/dev/*" },
    { { "dd", "of=/dev/sda" }, "dd of=/dev/*" },
    { { "rm", "-rf", "/tmp/x" }, NULL },
    { { "dd", "if=/dev/zero", "of=/tmp/img" }, NULL },
    { { "sleep", "1" }, NULL },
    { { "mkfsx" }, NULL },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const char *rule = orch_policy_match_deny ((const char *const *) c->deny, cases[i].argv, NULL);
      if (g_strcmp0 (rule, cases[i].rule) != 0)
        g_error ("case %zu (%s): rule %s, expected %s", i, cases[i].argv[0], rule, cases[i].rule);
    }
}

static void
test_find_executable (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *sh = orch_policy_find_executable ("sh", NULL, NULL, &error);
  g_autofree char *abs = NULL;
  g_autofree char *rel = NULL;
  char *none;

  g_assert_no_error (error);
  g_assert_true (g_path_is_absolute (sh));
  g_assert_true (g_file_test (sh, G_FILE_TEST_IS_EXECUTABLE));

  abs = orch_policy_find_executable ("/bin/sh", NULL, NULL, &error);
  g_assert_cmpstr (abs, ==, "/bin/sh");
  rel = orch_policy_find_executable ("./sh", NULL, "/bin", &error);
  g_assert_cmpstr (rel, ==, "/bin/./sh");

  none = orch_policy_find_executable ("sh", "/nonexistent:relative", NULL, &error);
  g_assert_null (none);
  g_assert_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* A directory, and a file that is not executable. */
  g_assert_null (orch_policy_find_executable ("/tmp", NULL, NULL, &error));
  g_assert_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  {
    g_autofree char *plain = NULL;
    int fd = g_file_open_tmp ("orch-test-XXXXXX", &plain, &error);
    g_assert_cmpint (fd, >=, 0);
    close (fd);
    g_assert_cmpint (chmod (plain, 0644), ==, 0);
    g_assert_null (orch_policy_find_executable (plain, NULL, NULL, &error));
    g_assert_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
    g_unlink (plain);
  }
}

static void
test_check (void)
{
  g_autoptr(OrchConfig) c = orch_config_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(OrchSpec) ok = spec_for ((const char *const[]){ "sleep", "1", NULL });
  g_autoptr(OrchSpec) denied = spec_for ((const char *const[]){ "mkfs.ext4", NULL });
  g_autoptr(OrchSpec) missing = spec_for ((const char *const[]){ "no-such-program-x", NULL });
  g_autoptr(OrchSpec) badcwd = spec_for ((const char *const[]){ "true", NULL });
  g_autoptr(OrchSpec) baduser = spec_for ((const char *const[]){ "true", NULL });
  g_autoptr(OrchSpec) root = spec_for ((const char *const[]){ "true", NULL });
  g_autoptr(OrchSpec) many = spec_for ((const char *const[]){ "true", "a", "b", "c", NULL });

  g_assert_true (orch_policy_check (c, ok, &error));
  g_assert_no_error (error);
  g_assert_true (g_str_has_suffix (ok->resolved_exec, "/sleep"));

  g_assert_false (orch_policy_check (c, denied, &error));
  g_assert_error (error, ORCH_ERROR, ORCH_ERROR_COMMAND_REJECTED);
  g_assert_nonnull (strstr (error->message, "mkfs.*"));
  g_clear_error (&error);

  g_assert_false (orch_policy_check (c, missing, &error));
  g_assert_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "no-such-program-x"));
  g_clear_error (&error);

  badcwd->cwd = g_strdup ("/etc/hostname");
  g_assert_false (orch_policy_check (c, badcwd, &error));
  g_assert_nonnull (strstr (error->message, "“cwd”"));
  g_clear_error (&error);

  baduser->user = g_strdup ("no-such-user-orch");
  g_assert_false (orch_policy_check (c, baduser, &error));
  g_assert_nonnull (strstr (error->message, "“user”"));
  g_clear_error (&error);

  root->user = g_strdup ("0");
  g_assert_true (orch_policy_check (c, root, &error));
  g_assert_true (root->has_user);
  g_assert_cmpuint (root->uid, ==, 0);
  g_assert_cmpuint (root->groups->len, >=, 1);

  c->max_args = 3;
  g_assert_false (orch_policy_check (c, many, &error));
  g_assert_nonnull (strstr (error->message, "4 arguments"));
  g_clear_error (&error);
  c->max_args = 100;
  c->max_arg_bytes = 6;
  g_assert_false (orch_policy_check (c, many, &error));
  g_assert_nonnull (strstr (error->message, "bytes"));
  g_clear_error (&error);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/policy/deny", test_deny);
  g_test_add_func ("/policy/find-executable", test_find_executable);
  g_test_add_func ("/policy/check", test_check);
  return g_test_run ();
}
