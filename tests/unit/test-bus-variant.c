/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "bus/orch-bus-variant.h"
#include "core/orch-sd-bus.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

/* A bus object good enough to build and read messages: sd-bus wants an
 * open connection for that, so one end of a socketpair stands in. */
static sd_bus *
message_bus (void)
{
  sd_bus *bus = NULL;
  int s[2];

  g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s), ==, 0);
  g_assert_cmpint (sd_bus_new (&bus), >=, 0);
  g_assert_cmpint (sd_bus_set_fd (bus, s[0], s[0]), >=, 0);
  g_assert_cmpint (sd_bus_start (bus), >=, 0);
  close (s[1]);
  return bus;
}

static void
roundtrip (const char *text)
{
  g_autoptr(sd_bus) bus = NULL;
  g_autoptr(sd_bus_message) m = NULL;
  g_autoptr(GVariant) in = NULL;
  g_autoptr(GVariant) out = NULL;
  g_autoptr(GError) error = NULL;
  GVariant *read = NULL;

  in = g_variant_ref_sink (g_variant_parse (NULL, text, NULL, NULL, &error));
  g_assert_no_error (error);

  bus = message_bus ();
  g_assert_cmpint (sd_bus_message_new_method_call (bus, &m, "a.b", "/a", "a.b", "C"), >=, 0);
  g_assert_cmpint (orch_bus_append_variant (m, in), >=, 0);
  g_assert_cmpint (sd_bus_message_seal (m, 1, 0), >=, 0);
  g_assert_cmpint (sd_bus_message_rewind (m, 1), >=, 0);
  g_assert_cmpint (orch_bus_read_variant (m, &read), ==, 0);
  out = g_variant_ref_sink (read);
  if (!g_variant_equal (in, out))
    {
      g_autofree char *a = g_variant_print (in, TRUE), *b = g_variant_print (out, TRUE);
      g_error ("%s came back as %s", a, b);
    }
  /* Nothing left over. */
  g_assert_cmpint (sd_bus_message_at_end (m, 1), >, 0);
}

static void
test_roundtrip (void)
{
  roundtrip ("{'command': <['sleep', '600']>, 'cpu_quota': <0.5>, 'memory_max': <uint64 1048576>}");
  roundtrip ("@a{sv} {}");
  roundtrip ("@aa{sv} []");
  roundtrip ("[{'a': <int32 -3>, 'b': <true>}, {'c': <@a{ss} {'k': 'v'}>}]");
  roundtrip ("(byte 0x01, int16 -2, uint16 3, int32 -4, uint32 5, int64 -6, uint64 7, 8.5)");
  roundtrip ("(objectpath '/org/orchestrator', signature 'a{sv}', 'text ñ')");
  roundtrip ("<<['nested', 'variant']>>");
  roundtrip ("{'x': <(uint32 1, [<'a'>, <uint64 2>])>}");
}

static void
test_maybe_refused (void)
{
  g_autoptr(sd_bus) bus = NULL;
  g_autoptr(sd_bus_message) m = NULL;
  g_autoptr(GVariant) v = g_variant_ref_sink (g_variant_new_maybe (G_VARIANT_TYPE_STRING, NULL));

  bus = message_bus ();
  g_assert_cmpint (sd_bus_message_new_method_call (bus, &m, "a.b", "/a", "a.b", "C"), >=, 0);
  g_assert_cmpint (orch_bus_append_variant (m, v), ==, -EOPNOTSUPP);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/bus-variant/roundtrip", test_roundtrip);
  g_test_add_func ("/bus-variant/maybe-refused", test_maybe_refused);
  return g_test_run ();
}
