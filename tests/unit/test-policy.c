/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "basic/orch-error.h"
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

/* The first block device in /dev, or NULL. */
static char *
some_block_device (void)
{
  g_autoptr(GDir) dir = g_dir_open ("/dev", 0, NULL);
  const char *name;

  while (dir && (name = g_dir_read_name (dir)))
    {
      g_autofree char *path = g_build_filename ("/dev", name, NULL);
      struct stat st;
      if (lstat (path, &st) == 0 && S_ISBLK (st.st_mode))
        return g_steal_pointer (&path);
    }
  return NULL;
}

static void
test_device_writes (void)
{
  g_autofree char *dev = some_block_device ();
  g_autofree char *redirect = NULL, *redirect2 = NULL, *of = NULL;
  g_autoptr(OrchConfig) c = orch_config_new ();
  g_autoptr(GError) error = NULL;

  if (dev == NULL)
    {
      g_test_skip ("no block device in /dev");
      return;
    }
  redirect = g_strdup_printf ("echo x > %s", dev);
  redirect2 = g_strdup_printf ("cat /etc/hostname 1>>%s; true", dev);
  of = g_strdup_printf ("of=%s", dev);
  {
    const char *const writes[][4] = {
      { "tee", dev }, { "/usr/bin/cp", "/etc/hostname", dev }, { "sh", "-c", redirect },
      { "bash", "-c", redirect2 }, { "dd", "if=/dev/zero", of },
    };
    const char *const reads[][4] = {
      { "cat", dev }, { "blkid", dev }, { "sh", "-c", "echo x > /dev/null" }, { "tee", "/dev/null" },
      { "dd", "of=/dev/null" },
    };
    for (gsize i = 0; i < G_N_ELEMENTS (writes); i++)
      {
        g_autofree char *hit = orch_policy_device_write (writes[i]);
        g_assert_cmpstr (hit, ==, dev);
      }
    for (gsize i = 0; i < G_N_ELEMENTS (reads); i++)
      {
        g_autofree char *hit = orch_policy_device_write (reads[i]);
        g_assert_null (hit);
      }
  }

  /* Through the whole check: the message names the device and the rule. */
  {
    g_autoptr(OrchSpec) s = spec_for ((const char *const[]){ "sh", "-c", redirect, NULL });
    g_assert_false (orch_policy_check (c, s, &error));
    g_assert_error (error, ORCH_ERROR, ORCH_ERROR_COMMAND_REJECTED);
    g_assert_nonnull (strstr (error->message, dev));
    g_assert_nonnull (strstr (error->message, "deny_device_writes"));
    g_clear_error (&error);
    c->deny_device_writes = FALSE;
    g_assert_true (orch_policy_check (c, s, &error));
    g_assert_no_error (error);
  }
}

static void
test_allow_list (void)
{
  g_autoptr(OrchConfig) c = orch_config_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(OrchSpec) ok = spec_for ((const char *const[]){ "/bin/sleep", "1", NULL });
  g_autoptr(OrchSpec) other = spec_for ((const char *const[]){ "true", NULL });
  g_autoptr(OrchSpec) denied = spec_for ((const char *const[]){ "reboot", NULL });

  g_strfreev (c->allow);
  c->allow = g_strsplit ("sleep;echo *;reboot", ";", -1);
  g_assert_true (orch_policy_check (c, ok, &error));
  g_assert_no_error (error);
  g_assert_false (orch_policy_check (c, other, &error));
  g_assert_error (error, ORCH_ERROR, ORCH_ERROR_COMMAND_REJECTED);
  g_assert_nonnull (strstr (error->message, "[jobs] allow"));
  g_clear_error (&error);
  /* Deny still applies to what the allow list lets through. */
  g_assert_false (orch_policy_check (c, denied, &error));
  g_assert_error (error, ORCH_ERROR, ORCH_ERROR_COMMAND_REJECTED);
  g_assert_nonnull (strstr (error->message, "“reboot”"));
}

/* Limits are checked before anything touches the system, with the
 * figure and the limit in the message. */
static void
test_limits (void)
{
  g_autoptr(OrchConfig) c = orch_config_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) many = g_ptr_array_new ();
  g_autoptr(OrchSpec) s = NULL;

  c->max_args = 3;
  for (int i = 0; i < 10; i++)
    g_ptr_array_add (many, (gpointer) "true");
  g_ptr_array_add (many, NULL);
  s = spec_for ((const char *const *) many->pdata);
  g_assert_false (orch_policy_check (c, s, &error));
  g_assert_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "10 arguments"));
  g_clear_error (&error);

  c->max_args = 4096;
  c->max_arg_bytes = 8;
  g_assert_false (orch_policy_check (c, s, &error));
  g_assert_nonnull (strstr (error->message, "50 bytes"));
  g_clear_error (&error);

  c->max_arg_bytes = 1 << 20;
  c->max_env = 2;
  s->env = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  for (int i = 0; i < 3; i++)
    g_hash_table_insert (s->env, g_strdup_printf ("V%d", i), g_strdup ("x"));
  g_assert_false (orch_policy_check (c, s, &error));
  g_assert_nonnull (strstr (error->message, "3 variables"));
}

/* What exec would refuse with E2BIG is refused at Create: one string of
 * 128 KiB (MAX_ARG_STRLEN counts its NUL), or argv and env together over
 * ARG_MAX; one byte less passes. */
static void
test_exec_size (void)
{
  g_autoptr(OrchConfig) c = orch_config_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *big = g_strnfill (128 * 1024, 'x');
  g_autofree char *fits = g_strnfill (128 * 1024 - 1, 'x');
  long arg_max = sysconf (_SC_ARG_MAX);
  const char *argv_big[] = { "true", big, NULL };
  const char *argv_fits[] = { "true", fits, NULL };
  g_autoptr(OrchSpec) s = spec_for (argv_big);
  g_autoptr(OrchSpec) ok = spec_for (argv_fits);
  g_autoptr(OrchSpec) env = spec_for ((const char *const[]){ "true", NULL });

  c->max_arg_bytes = 64 << 20;
  g_assert_false (orch_policy_check (c, s, &error));
  g_assert_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "argument 1 is 131072 bytes"));
  g_clear_error (&error);
  g_assert_true (orch_policy_check (c, ok, &error));
  g_assert_no_error (error);

  env->env = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_hash_table_insert (env->env, g_strdup ("BIG"), g_strnfill (128 * 1024, 'y'));
  g_assert_false (orch_policy_check (c, env, &error));
  g_assert_nonnull (strstr (error->message, "variable “BIG”"));
  g_clear_error (&error);

  /* Many strings that each fit, more than ARG_MAX together. */
  g_hash_table_remove_all (env->env);
  for (long i = 0; i * 100 * 1024 <= arg_max; i++)
    g_hash_table_insert (env->env, g_strdup_printf ("V%ld", i), g_strnfill (100 * 1024, 'z'));
  g_assert_false (orch_policy_check (c, env, &error));
  g_assert_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "ARG_MAX"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/policy/deny", test_deny);
  g_test_add_func ("/policy/find-executable", test_find_executable);
  g_test_add_func ("/policy/check", test_check);
  g_test_add_func ("/policy/device-writes", test_device_writes);
  g_test_add_func ("/policy/allow-list", test_allow_list);
  g_test_add_func ("/policy/limits", test_limits);
  g_test_add_func ("/policy/exec-size", test_exec_size);
  return g_test_run ();
}
