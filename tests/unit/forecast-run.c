/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Drives orch-forecast for the statsmodels oracle: the series on stdin
 * (numbers separated by white space), what to do in argv, JSON out.
 *
 *   forecast-run filter alpha=A beta=B gamma=G phi=P trend=0|1 period=M
 *                level0=L trend0=T season0=S1,S2,... h=H
 *   forecast-run fit damped=0|1 trend=0|1 period=M h=H
 *   forecast-run auto h=H
 *   forecast-run period */
#include "basic/orch-forecast.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *
arg (int argc, char **argv, const char *key, const char *def)
{
  gsize len = strlen (key);

  for (int i = 2; i < argc; i++)
    if (strncmp (argv[i], key, len) == 0 && argv[i][len] == '=')
      return argv[i] + len + 1;
  return def;
}

static void
print_array (const char *key, const double *v, guint n, gboolean comma)
{
  printf ("\"%s\": [", key);
  for (guint i = 0; i < n; i++)
    if (isnan (v[i]))
      printf ("%snull", i ? ", " : "");
    else
      printf ("%s%.17g", i ? ", " : "", v[i]);
  printf ("]%s\n", comma ? "," : "");
}

static void
print_params (const OrchHoltParams *p, double sse)
{
  printf ("\"alpha\": %.17g, \"beta\": %.17g, \"gamma\": %.17g, \"phi\": %.17g, "
          "\"level0\": %.17g, \"trend0\": %.17g, \"sse\": %.17g,\n",
          p->alpha, p->beta, p->gamma, p->phi, p->level0, p->trend0, sse);
}

int
main (int argc, char **argv)
{
  g_autoptr(GArray) y = g_array_new (FALSE, FALSE, sizeof (double));
  const char *mode = argc > 1 ? argv[1] : "";
  guint h = atoi (arg (argc, argv, "h", "10"));
  double v;

  while (scanf ("%lf", &v) == 1)
    g_array_append_val (y, v);
  printf ("{\n");
  if (strcmp (mode, "filter") == 0 || strcmp (mode, "fit") == 0)
    {
      OrchHoltParams p = { 0 };
      OrchHoltState st;
      g_autofree double *fitted = g_new (double, y->len);
      g_autofree double *fc = g_new (double, MAX (h, 1));
      g_autofree double *var = g_new (double, MAX (h, 1));
      double sse;

      p.trend = atoi (arg (argc, argv, "trend", "1"));
      p.period = atoi (arg (argc, argv, "period", "0"));
      if (strcmp (mode, "filter") == 0)
        {
          g_auto(GStrv) s = g_strsplit (arg (argc, argv, "season0", ""), ",", -1);

          p.alpha = g_ascii_strtod (arg (argc, argv, "alpha", "0.5"), NULL);
          p.beta = g_ascii_strtod (arg (argc, argv, "beta", "0.1"), NULL);
          p.gamma = g_ascii_strtod (arg (argc, argv, "gamma", "0"), NULL);
          p.phi = g_ascii_strtod (arg (argc, argv, "phi", "1"), NULL);
          p.level0 = g_ascii_strtod (arg (argc, argv, "level0", "0"), NULL);
          p.trend0 = g_ascii_strtod (arg (argc, argv, "trend0", "0"), NULL);
          for (guint i = 0; i < p.period && s[i]; i++)
            p.season0[i] = g_ascii_strtod (s[i], NULL);
        }
      else
        orch_holt_fit ((double *) y->data, y->len, atoi (arg (argc, argv, "damped", "1")), &p);
      sse = orch_holt_filter ((double *) y->data, y->len, &p, fitted, &st);
      orch_holt_forecast (&p, &st, h, fc);
      orch_holt_variance (&p, sse / y->len, h, var);
      print_params (&p, sse);
      print_array ("season0", p.season0, p.period, TRUE);
      print_array ("fitted", fitted, y->len, TRUE);
      print_array ("variance", var, h, TRUE);
      print_array ("forecast", fc, h, FALSE);
    }
  else if (strcmp (mode, "auto") == 0)
    {
      OrchForecastFit fit;
      OrchForecastPath path;

      orch_forecast_path_init (&path, h);
      orch_forecast_auto ((double *) y->data, y->len, h, &fit, &path);
      printf ("\"method\": \"%s\", \"period\": %u,\n", orch_forecast_method_name (fit.method),
              fit.period);
      print_array ("mase_by_method", fit.mase_by_method, ORCH_FORECAST_N_METHODS, TRUE);
      print_array ("mean", path.mean, h, TRUE);
      print_array ("lo95", path.lo95, h, TRUE);
      print_array ("hi95", path.hi95, h, FALSE);
      orch_forecast_path_clear (&path);
    }
  else if (strcmp (mode, "period") == 0)
    printf ("\"period\": %u\n", orch_forecast_detect_period ((double *) y->data, y->len, 2));
  else
    {
      fprintf (stderr, "unknown mode '%s'\n", mode);
      return 2;
    }
  printf ("}\n");
  return 0;
}
