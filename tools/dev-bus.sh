# Sourced by run.sh and run-dev.sh: dev_bus_conf ADDRESS prints the
# configuration of a private dbus-daemon listening on ADDRESS, open to
# everyone on it (a bus made for one run, with nothing else on it).
dev_bus_conf() {
  cat <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>$1</listen>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
CONF
}
