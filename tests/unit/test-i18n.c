/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "basic/orch-error.h"
#include "basic/orch-spec.h"

#include <glib/gi18n.h>
#include <locale.h>
#include <stdlib.h>

/* Proves that the core's error messages reach the caller in Spanish when the
 * catalog built from po/es.po is bound.  ORCH_LOCALEDIR is the directory meson
 * builds the catalogs in (<builddir>/po, holding es/LC_MESSAGES/orchestrator.mo).
 *
 * glibc ignores LANGUAGE when LC_MESSAGES is the "C" locale, but not for the
 * built-in "C.UTF-8" locale (glibc >= 2.35), so no Spanish locale needs to be
 * installed. */

static gboolean
bind_catalog (void)
{
  const char *localedir = g_getenv ("ORCH_LOCALEDIR");
  g_autofree char *mo = NULL;

  if (localedir == NULL)
    {
      g_test_skip ("ORCH_LOCALEDIR is not set");
      return FALSE;
    }
  mo = g_build_filename (localedir, "es", "LC_MESSAGES", GETTEXT_PACKAGE ".mo", NULL);
  if (!g_file_test (mo, G_FILE_TEST_IS_REGULAR))
    {
      g_test_fail_printf ("%s does not exist: the catalog was not built", mo);
      return FALSE;
    }
  g_assert_nonnull (bindtextdomain (GETTEXT_PACKAGE, localedir));
  g_assert_nonnull (bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8"));
  g_assert_cmpstr (textdomain (GETTEXT_PACKAGE), ==, GETTEXT_PACKAGE);
  return TRUE;
}

static GError *
spec_error (const char *text)
{
  g_autoptr(GError) parse_error = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) v = g_variant_parse (G_VARIANT_TYPE_VARDICT, text, NULL, NULL, &parse_error);
  g_autoptr(OrchSpec) spec = NULL;

  g_assert_no_error (parse_error);
  spec = orch_spec_from_variant (v, &error);
  g_assert_null (spec);
  g_assert_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT);
  return g_steal_pointer (&error);
}

static void
test_unknown_field (void)
{
  g_autoptr(GError) error = NULL;

  if (!bind_catalog ())
    return;
  error = spec_error ("{'comand': <['x']>}");
  /* The English text is what comes out when the catalog lacks the entry or is
   * not found: it must not. */
  g_assert_cmpstr (error->message, !=, "unknown spec field “comand”");
  g_assert_cmpstr (error->message, ==, "campo “comand” desconocido en la especificación");
}

static void
test_nested (void)
{
  g_autoptr(GError) error = NULL;

  if (!bind_catalog ())
    return;
  /* "spec field “%s”: %s" around a reason that is translated on its own. */
  error = spec_error ("{'command': <@as []>}");
  g_assert_cmpstr (error->message, !=, "spec field “command”: must not be empty");
  g_assert_cmpstr (error->message, ==, "campo “command” de la especificación: no debe estar vacío");
}

int
main (int argc, char **argv)
{
  /* Before any gettext call: LANGUAGE selects the catalog, C.UTF-8 keeps
   * gettext from ignoring it and the output in UTF-8. */
  g_setenv ("LANGUAGE", "es", TRUE);
  g_test_init (&argc, &argv, NULL);
  if (setlocale (LC_ALL, "C.UTF-8") == NULL)
    g_error ("the C.UTF-8 locale is not available");

  g_test_add_func ("/i18n/spec/unknown-field", test_unknown_field);
  g_test_add_func ("/i18n/spec/nested", test_nested);
  return g_test_run ();
}
