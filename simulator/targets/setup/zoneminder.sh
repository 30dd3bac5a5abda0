#!/usr/bin/env bash
# ZoneMinder 1.36 with MariaDB and Apache on Debian 12 without systemd, for the load tests.
#
# Idempotent (a second run only checks that everything is up) and local only: MariaDB has no TCP
# port (Unix socket), Apache listens on 127.0.0.1:$ZM_PORT alone. Needs root.
# Usage: ZM_PORT=8089 simulator/targets/setup/zoneminder.sh   (prints the API's URL when up)
set -euo pipefail

ZM_PORT="${ZM_PORT:-8089}"
WAIT_S="${ZM_WAIT_S:-60}"
log() { echo "zoneminder setup: $*" >&2; }
die() {
  log "error: $*"
  exit 1
}

[[ $EUID -eq 0 ]] || die "must run as root (it installs packages and starts daemons)"
[[ $ZM_PORT =~ ^[0-9]+$ ]] && ((ZM_PORT > 0 && ZM_PORT < 65536)) ||
  die "ZM_PORT=$ZM_PORT: must be a port number 1-65535"
export DEBIAN_FRONTEND=noninteractive

# --- packages ------------------------------------------------------------------------------
missing=()
command -v zmpkg.pl >/dev/null || missing+=(zoneminder)
command -v mariadbd >/dev/null || [[ -x /usr/sbin/mariadbd ]] || missing+=(mariadb-server)
command -v curl >/dev/null || missing+=(curl)
# ZoneMinder's ONVIF PTZ control (ZoneMinder::Control::onvif) needs DateTime; the package
# does not depend on it
perl -MDateTime -e1 2>/dev/null || missing+=(libdatetime-perl)
if ((${#missing[@]})); then
  log "installing ${missing[*]} (apt-get)"
  apt-get update -qq || die "apt-get update failed"
  apt-get install -y -qq "${missing[@]}" >/dev/null || die "apt-get install ${missing[*]} failed"
fi

# --- files and directories (tmpfiles.d does not run without systemd) ----------------------
chgrp www-data /etc/zm/zm.conf /etc/zm/conf.d/*.conf
chmod g+r /etc/zm/zm.conf /etc/zm/conf.d/*.conf
for d in /run/zm /tmp/zm /var/cache/zoneminder/{events,images,temp,cache} /var/log/zm; do
  mkdir -p "$d"
  chown www-data:www-data "$d"
done

# --- MariaDB on its Unix socket only --------------------------------------------------------
cnf=/etc/mysql/mariadb.conf.d/99-camsim.cnf
if [[ ! -f $cnf ]]; then
  printf '[mysqld]\nskip-networking\n' >"$cnf"
  if mysqladmin ping >/dev/null 2>&1; then service mariadb restart >/dev/null; fi
fi
if ! mysqladmin ping >/dev/null 2>&1; then
  log "starting MariaDB"
  service mariadb start >/dev/null || die "service mariadb start failed (see /var/log/mysql)"
fi

# zm.conf then conf.d/*.conf (later files win), as ZoneMinder reads them.
conf_value() {
  cat /etc/zm/zm.conf /etc/zm/conf.d/*.conf | sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*//p" |
    tail -n 1
}
db_name=$(conf_value ZM_DB_NAME)
db_user=$(conf_value ZM_DB_USER)
db_pass=$(conf_value ZM_DB_PASS)
[[ -n $db_name && -n $db_user ]] || die "/etc/zm/zm.conf: ZM_DB_NAME or ZM_DB_USER is empty"
[[ $db_name == zm ]] || die "/etc/zm/zm.conf: ZM_DB_NAME=$db_name but zm_create.sql creates 'zm'"

have_schema=$(mysql -N -B -e "SELECT COUNT(*) FROM information_schema.tables
  WHERE table_schema='zm' AND table_name='Config'")
if [[ $have_schema == 0 ]]; then
  log "loading the ZoneMinder schema"
  mysql </usr/share/zoneminder/db/zm_create.sql || die "loading zm_create.sql failed"
fi
sql_pass=${db_pass//\'/\'\'}
# ZM_SHOW_PRIVACY: a fresh install redirects every web page (video downloads too) to a
# privacy notice until someone accepts it in a browser. AUTH_HASH_SECRET signs the API's
# tokens once OPT_USE_AUTH is on: replace the shipped placeholder with a random one.
mysql -e "CREATE USER IF NOT EXISTS '$db_user'@'localhost' IDENTIFIED BY '$sql_pass';
  ALTER USER '$db_user'@'localhost' IDENTIFIED BY '$sql_pass';
  GRANT ALL PRIVILEGES ON \`zm\`.* TO '$db_user'@'localhost';
  UPDATE zm.Config SET Value='UTC' WHERE Name='ZM_TIMEZONE';
  UPDATE zm.Config SET Value='0' WHERE Name='ZM_SHOW_PRIVACY';
  UPDATE zm.Config SET Value=SHA2(CONCAT(RAND(), NOW(6)), 256)
    WHERE Name='ZM_AUTH_HASH_SECRET' AND Value LIKE '...Change me%';"

# --- Apache on 127.0.0.1:$ZM_PORT only ------------------------------------------------------
changed=0
write_if_different() { # path content: write and mark a change only when it differs
  if [[ ! -f $1 ]] || [[ $(cat "$1") != "$2" ]]; then
    printf '%s\n' "$2" >"$1"
    changed=1
  fi
}
write_if_different /etc/apache2/ports.conf "# Written by camsim's zoneminder.sh: local only.
Listen 127.0.0.1:$ZM_PORT"
# The API's rewrite rules: the three <Directory …/api…> blocks of Debian's
# /usr/share/doc/zoneminder/examples/apache.conf (without them /zm/api/… answers 404).
write_if_different /etc/apache2/conf-available/camsim-zoneminder-api.conf 'ServerName 127.0.0.1
<Directory "/usr/share/zoneminder/www/api">
   RewriteEngine on
   RewriteRule ^$ app/webroot/ [L]
   RewriteRule (.*) app/webroot/$1 [L]
   RewriteBase /zm/api
</Directory>
<Directory "/usr/share/zoneminder/www/api/app">
   RewriteEngine on
   RewriteRule ^$ webroot/ [L]
   RewriteRule (.*) webroot/$1 [L]
   RewriteBase /zm/api
</Directory>
<Directory "/usr/share/zoneminder/www/api/app/webroot">
    RewriteEngine On
    RewriteCond %{REQUEST_FILENAME} !-d
    RewriteCond %{REQUEST_FILENAME} !-f
    RewriteRule ^ index.php [L]
    RewriteBase /zm/api
</Directory>'
for ini_dir in /etc/php/*/apache2/conf.d /etc/php/*/cli/conf.d; do
  [[ -d $ini_dir ]] && write_if_different "$ini_dir/99-camsim-timezone.ini" "date.timezone = UTC"
done
if [[ -e /etc/apache2/sites-enabled/000-default.conf ]]; then
  a2dissite -q 000-default >/dev/null
  changed=1
fi
for m in cgi rewrite; do
  [[ -e /etc/apache2/mods-enabled/$m.load ]] || {
    a2enmod -q "$m" >/dev/null
    changed=1
  }
done
for c in zoneminder camsim-zoneminder-api; do
  [[ -e /etc/apache2/conf-enabled/$c.conf ]] || {
    a2enconf -q "$c" >/dev/null
    changed=1
  }
done
apachectl configtest 2>/dev/null || die "Apache's configuration is invalid: $(apachectl configtest 2>&1)"
pidfile=/run/apache2/apache2.pid
if ! { [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }; then
  log "starting Apache on 127.0.0.1:$ZM_PORT"
  apachectl -k start || die "Apache did not start (see /var/log/apache2/error.log)"
elif ((changed)); then
  log "reloading Apache (configuration changed)"
  apachectl -k graceful || die "Apache did not reload (see /var/log/apache2/error.log)"
fi

# --- ZoneMinder's daemons ----------------------------------------------------------------------
if [[ $(zmdc.pl check 2>/dev/null) != running ]]; then
  log "starting ZoneMinder (zmpkg.pl start)"
  zmpkg.pl start >/dev/null || die "zmpkg.pl start failed (see /var/log/zm/zmpkg.log)"
fi

url="http://127.0.0.1:$ZM_PORT/zm/api/host/getVersion.json"
deadline=$((SECONDS + WAIT_S))
until body=$(curl -fsS --max-time 5 "$url" 2>&1) && [[ $body == *'"version"'* ]]; do
  ((SECONDS < deadline)) || die "$url did not answer within ${WAIT_S} s: $body"
  sleep 0.5
done
log "up: $body"
echo "http://127.0.0.1:$ZM_PORT/zm"
