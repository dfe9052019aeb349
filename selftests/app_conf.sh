# SPDX-License-Identifier: GPL-2.0
# Debian's servers as the tests and benchmarks run them (sourced by
# vmmc_apps.sh, vmmc_dual.sh and tools/bench/apps.sh): each a copy of its
# stock configuration with only the listen address, the document root
# and the writable paths changed.
#
#   app_pages DIR SIZE...      files DIR/fSIZE of seeded random bytes (the
#                              same bytes on every node)
#   nginx_conf DIR ADDR:PORT   DIR/nginx.conf: Debian's nginx.conf
#                              (sendfile and tcp_nopush on) serving
#                              DIR/www on ADDR:PORT, logs and temporary
#                              files in DIR
#   apache_conf DIR            DIR/apache: a copy of /etc/apache2 with
#                              mpm_prefork instead of mpm_event (stock
#                              Listen 80), serving DIR/www, each request's
#                              worker pid logged in DIR/pids.log ("PID
#                              STATUS BYTES PATH"); run it with apache_run
#   apache_run DIR PRE...      exec Apache of DIR/apache in the foreground
#                              under the command prefix PRE (the shim),
#                              in a session of its own (its shutdown
#                              signals its whole process group), logs and
#                              run files in DIR

app_pages() {
	python3 -c 'import random, sys; [open(f"{sys.argv[1]}/f{n}", "wb").write(random.Random(int(n)).randbytes(int(n))) for n in sys.argv[2:]]' "$@"
}

nginx_conf() {
	sed -e "s|^pid .*|pid $1/nginx.pid;|" -e "s|/var/log/nginx/|$1/|" \
	    -e "s|include /etc/nginx/sites-enabled/\*;|client_body_temp_path $1/body; proxy_temp_path $1/proxy; fastcgi_temp_path $1/fcgi; uwsgi_temp_path $1/uwsgi; scgi_temp_path $1/scgi; server { listen $2; root $1/www; }|" \
	    /etc/nginx/nginx.conf > "$1/nginx.conf"
}

apache_conf() {
	local c=$1/apache

	mkdir -p "$1/run" "$1/lock"
	cp -a /etc/apache2 "$c"
	rm -f "$c"/mods-enabled/mpm_*
	ln -s ../mods-available/mpm_prefork.load \
	      ../mods-available/mpm_prefork.conf "$c/mods-enabled/"
	sed -i "s|/var/www/html|$1/www|" "$c/sites-available/000-default.conf"
	sed -i "s|^<Directory /var/www/>|<Directory $1/www/>|" "$c/apache2.conf"
	printf 'LogFormat "%%P %%>s %%B %%U" vmmc_pid\nGlobalLog %s/pids.log vmmc_pid\n' \
		"$1" >> "$c/apache2.conf"
}

apache_run() {
	local d=$1

	shift
	set +u
	. /etc/apache2/envvars
	export APACHE_PID_FILE=$d/apache.pid APACHE_RUN_DIR=$d/run \
		APACHE_LOCK_DIR=$d/lock APACHE_LOG_DIR=$d
	exec setsid "$@" apache2 -d "$d/apache" -DFOREGROUND
}
