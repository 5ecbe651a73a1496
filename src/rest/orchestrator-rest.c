/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "orch-rest-server.h"
#include "orch-rest-token.h"

#include "basic/orch-config.h"

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>

typedef struct {
  gboolean system, user;
  char *bus_address;
  char **listen;
  char *token_file;
  char *config_path;
  char *data_dir;
  gboolean no_auth;
  int timeout_s;
} Options;

static gboolean
quit_cb (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

/* The installed data directory, or the source tree's when this binary
 * is the one in the build tree. */
static const char *
default_data_dir (void)
{
  g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *dir = self ? g_path_get_dirname (self) : NULL;

  return g_strcmp0 (dir, ORCH_BUILD_SRC_DIR) == 0 ? ORCH_SOURCE_DATA_DIR : ORCH_DATA_DIR;
}

static int
run (Options *o)
{
  g_autoptr(OrchConfig) config = orch_config_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(OrchRestBus) bus = NULL;
  g_autoptr(OrchRestServer) server = NULL;
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autofree char *token = NULL;
  const char *token_file;
  gboolean no_auth;
  g_auto(GStrv) listen = NULL;
  int n_fds;

  if (!orch_config_load_file (config, o->config_path ? o->config_path : ORCH_DEFAULT_CONFIG,
                              o->config_path != NULL, &error))
    {
      g_printerr ("orchestrator-rest: %s\n", error->message);
      return EXIT_FAILURE;
    }
  no_auth = o->no_auth || g_strcmp0 (config->rest_auth, "none") == 0;
  token_file = o->token_file ? o->token_file : config->rest_token_file;
  if (no_auth)
    /* Said at every start, so it cannot be forgotten; "<4>" is the
     * journal's warning priority for a line on stderr. */
    g_printerr ("%sorchestrator-rest: %s\n", g_getenv ("JOURNAL_STREAM") ? "<4>" : "",
                _("warning: authentication is off (--no-auth or [rest] auth=none): every local user can call every endpoint"));
  else if (token_file == NULL || *token_file == '\0')
    {
      g_printerr ("%s\n", _("orchestrator-rest: no token file: set [rest] token_file or --token-file, or run with --no-auth"));
      return EXIT_FAILURE;
    }
  else
    {
      gboolean created;
      token = orch_rest_token_load_or_create (token_file, config->auth_group, &created, &error);
      if (token == NULL)
        {
          g_printerr ("orchestrator-rest: %s\n", error->message);
          return EXIT_FAILURE;
        }
      if (created)
        g_message (_("generated a bearer token in %s (readable by root and the %s group)"),
                   token_file, config->auth_group);
      else
        g_message (_("bearer token from %s"), token_file);
    }

  listen = o->listen && o->listen[0] ? g_strdupv (o->listen)
                                     : g_strsplit (config->rest_listen, ",", -1);
  n_fds = sd_listen_fds (TRUE);
  /* Loopback is a boundary only on a single-user machine; beyond it, never
   * without a token, --no-auth or not. */
  for (char **l = listen; n_fds <= 0 && *l; l++)
    if (token == NULL && !orch_rest_listen_is_loopback (g_strstrip (*l)))
      {
        g_printerr (_("orchestrator-rest: refusing to listen on %s without a token (--token-file)\n"), *l);
        return EXIT_FAILURE;
      }

  /* Before anything can be asked of us: a stop the moment we listen
   * must still end cleanly. */
  g_unix_signal_add (SIGTERM, quit_cb, loop);
  g_unix_signal_add (SIGINT, quit_cb, loop);

  bus = orch_rest_bus_new (o->user, o->bus_address, &error);
  if (bus == NULL)
    {
      g_printerr (_("orchestrator-rest: cannot connect to the bus: %s\n"), error->message);
      return EXIT_FAILURE;
    }
  server = orch_rest_server_new (bus, token, o->data_dir ? o->data_dir : default_data_dir (),
                                 &error);
  if (server == NULL)
    {
      g_printerr ("orchestrator-rest: %s\n", error->message);
      return EXIT_FAILURE;
    }

  if (o->timeout_s > 0)
    orch_rest_server_set_timeout (server, (guint) o->timeout_s);
  orch_rest_server_set_limits (server, config->rest_max_header_bytes);
  orch_rest_server_set_cors (server, (const char *const *) config->rest_cors_origins);

  if (n_fds > 0)
    {
      /* Socket activation: systemd holds the sockets, we serve them. */
      for (int i = 0; i < n_fds; i++)
        if (!orch_rest_server_listen_fd (server, SD_LISTEN_FDS_START + i, &error))
          {
            g_printerr ("orchestrator-rest: %s\n", error->message);
            return EXIT_FAILURE;
          }
    }
  else
    for (char **l = listen; *l; l++)
      if (!orch_rest_server_listen (server, g_strstrip (*l), &error))
        {
          g_printerr (_("orchestrator-rest: cannot listen on %s: %s\n"), *l, error->message);
          return EXIT_FAILURE;
        }

  {
    GSList *uris = orch_rest_server_get_uris (server);
    for (GSList *u = uris; u; u = u->next)
      {
        g_autofree char *s = g_uri_to_string (u->data);
        /* Tests read this line to learn the port they got. */
        g_print ("listening on %s\n", s);
      }
    g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  }

  (void) sd_notify (0, "READY=1");
  g_main_loop_run (loop);
  return EXIT_SUCCESS;
}

int
main (int argc, char **argv)
{
  Options o = { 0 };
  g_autoptr(GOptionContext) ctx = NULL;
  g_autoptr(GError) error = NULL;
  int ret;
  const GOptionEntry entries[] = {
    { "system", 0, 0, G_OPTION_ARG_NONE, &o.system, N_("Talk to orchestratord on the system bus (default)"), NULL },
    { "user", 0, 0, G_OPTION_ARG_NONE, &o.user, N_("Talk to orchestratord on the session bus"), NULL },
    { "bus-address", 0, 0, G_OPTION_ARG_STRING, &o.bus_address, N_("Talk to orchestratord on the bus at ADDRESS"), N_("ADDRESS") },
    { "listen", 'l', 0, G_OPTION_ARG_STRING_ARRAY, &o.listen, N_("Listen on HOST:PORT ([::1]:PORT for IPv6); repeatable"), N_("HOST:PORT") },
    { "token-file", 0, 0, G_OPTION_ARG_FILENAME, &o.token_file, N_("Require the bearer token in FILE"), N_("FILE") },
    { "no-auth", 0, 0, G_OPTION_ARG_NONE, &o.no_auth, N_("Serve without a token (development only)"), NULL },
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &o.config_path, N_("Configuration file"), N_("FILE") },
    { "timeout", 0, 0, G_OPTION_ARG_INT, &o.timeout_s, N_("Drop a connection that stalls this long on a read or write, or idles this long between requests (default 30)"), N_("SECONDS") },
    { "data-dir", 0, 0, G_OPTION_ARG_FILENAME, &o.data_dir, N_("Directory with openapi.json and docs.html"), N_("DIR") },
    { NULL }
  };

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  ctx = g_option_context_new (NULL);
  g_option_context_set_summary (ctx, _("The orchestrator HTTP API, over orchestratord's D-Bus API."));
  g_option_context_add_main_entries (ctx, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("orchestrator-rest: %s\n", error->message);
      return 2;
    }
  if ((o.system + o.user + (o.bus_address != NULL)) > 1)
    {
      g_printerr ("%s\n", _("orchestrator-rest: use only one of --system, --user, --bus-address"));
      return 2;
    }
  ret = run (&o);
  g_free (o.bus_address);
  g_strfreev (o.listen);
  g_free (o.token_file);
  g_free (o.config_path);
  g_free (o.data_dir);
  return ret;
}
